/* test_log.c — levels, sink and the journald line format. */
#include "runner.h"
#include "tributary/log.h"

static char last[256];
static int calls;

static void
sink(enum tr_log_level level, const char *msg, void *arg)
{
	(void)arg;
	calls++;
	tr_log_format_line(last, sizeof(last), level, msg, 0);
}

static void
test_levels_filter_before_formatting(void)
{
	tr_log_set_sink(sink, NULL);
	tr_log_set_level(TR_LOG_WARN);
	calls = 0;
	tr_log(TR_LOG_INFO, "feed %s: ok", "x");
	tr_log(TR_LOG_DEBUG, "noise");
	CHECK_INT(calls, 0);
	tr_log(TR_LOG_WARN, "feed %s: HTTP %d", "world", 503);
	CHECK_INT(calls, 1);
	CHECK_STR(last, "tributary: warn: feed world: HTTP 503\n");
	tr_log(TR_LOG_ERROR, "bad");
	CHECK_INT(calls, 2);
	CHECK(tr_log_enabled(TR_LOG_ERROR));
	CHECK(!tr_log_enabled(TR_LOG_DEBUG));
	tr_log_set_sink(NULL, NULL);
	CHECK(!tr_log_enabled(TR_LOG_ERROR));
	tr_log(TR_LOG_ERROR, "dropped");
	CHECK_INT(calls, 2);
}

static void
test_journal_priorities(void)
{
	char line[64];

	tr_log_format_line(line, sizeof(line), TR_LOG_ERROR, "e", 1);
	CHECK_STR(line, "<3>e\n");
	tr_log_format_line(line, sizeof(line), TR_LOG_WARN, "w", 1);
	CHECK_STR(line, "<4>w\n");
	tr_log_format_line(line, sizeof(line), TR_LOG_INFO, "i", 1);
	CHECK_STR(line, "<6>i\n");
	tr_log_format_line(line, sizeof(line), TR_LOG_DEBUG, "d", 1);
	CHECK_STR(line, "<7>d\n");
}

static void
test_truncated_line_keeps_newline(void)
{
	char line[8];
	size_t n;

	n = tr_log_format_line(line, sizeof(line), TR_LOG_INFO,
	    "a long message", 1);
	CHECK_INT(n, 7);
	CHECK_STR(line, "<6>a l\n");
}

TR_TESTS(test_levels_filter_before_formatting, test_journal_priorities,
    test_truncated_line_keeps_newline)

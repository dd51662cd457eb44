/* log.c — level filter and sink for every log line. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tributary/log.h"

static enum tr_log_level cur_level = TR_LOG_INFO;
static tr_log_sink cur_sink;
static void *cur_arg;

void
tr_log_set_level(enum tr_log_level level)
{
	cur_level = level;
}

enum tr_log_level
tr_log_get_level(void)
{
	return cur_level;
}

void
tr_log_set_sink(tr_log_sink sink, void *arg)
{
	cur_sink = sink;
	cur_arg = arg;
}

int
tr_log_enabled(enum tr_log_level level)
{
	return cur_sink != NULL && level <= cur_level;
}

void
tr_log(enum tr_log_level level, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	if (!tr_log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cur_sink(level, msg, cur_arg);
}

const char *
tr_log_level_name(enum tr_log_level level)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};

	if ((unsigned)level > TR_LOG_DEBUG)
		return "?";
	return names[level];
}

size_t
tr_log_format_line(char *out, size_t size, enum tr_log_level level,
    const char *msg, int journal)
{
	/* syslog(3) priorities: LOG_ERR 3, LOG_WARNING 4, LOG_INFO 6,
	 * LOG_DEBUG 7. */
	static const int prio[] = {3, 4, 6, 7};
	int n;

	if (size == 0)
		return 0;
	if (journal)
		n = snprintf(out, size, "<%d>%s\n",
		    prio[(unsigned)level <= TR_LOG_DEBUG ? level : 0], msg);
	else
		n = snprintf(out, size, "tributary: %s: %s\n",
		    tr_log_level_name(level), msg);
	if (n < 0)
		n = 0;
	if ((size_t)n >= size) {
		/* Truncated: keep the newline so lines never run together. */
		if (size >= 2)
			out[size - 2] = '\n';
		out[size - 1] = '\0';
		return size - 1;
	}
	return (size_t)n;
}

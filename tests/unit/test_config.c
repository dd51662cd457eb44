/* test_config.c — value parsers, defaults and per-feed fallbacks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"
#include "tributary/config.h"
#include "tributary/error.h"

static char *
write_temp(const char *text)
{
	static char path[64];
	FILE *fp;
	int fd;

	snprintf(path, sizeof(path), "/tmp/tr-config-XXXXXX");
	if ((fd = mkstemp(path)) < 0)
		return NULL;
	fp = fdopen(fd, "w");
	fputs(text, fp);
	fclose(fp);
	return path;
}

static void
test_durations(void)
{
	static const struct {
		const char *in;
		long long want; /* -1: invalid */
	} cases[] = {
	    {"90s", 90}, {"30m", 1800}, {"1h", 3600}, {"2d", 172800},
	    {"1w", 604800}, {"45", 45}, {"0", 0}, {"", -1}, {"m", -1},
	    {"10x", -1}, {"1h30m", -1}, {"-5m", -1}, {" 5m", -1},
	    {"5 m", -1}, {"99999999999999999999s", -1},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = -1;
		int rc = tr_parse_duration(&v, cases[i].in);

		if (cases[i].want < 0) {
			CHECK_INT(rc, TR_EINVAL);
		} else {
			CHECK_INT(rc, 0);
			CHECK_INT(v, cases[i].want);
		}
	}
}

static void
test_sizes_and_bools(void)
{
	int64_t v = 0;
	int b = -1;

	CHECK_INT(tr_parse_size(&v, "512k"), 0);
	CHECK_INT(v, 512 * 1024);
	CHECK_INT(tr_parse_size(&v, "16M"), 0);
	CHECK_INT(v, 16 << 20);
	CHECK_INT(tr_parse_size(&v, "1G"), 0);
	CHECK_INT(v, 1 << 30);
	CHECK_INT(tr_parse_size(&v, "16MB"), 0);
	CHECK_INT(v, 16 << 20);
	CHECK_INT(tr_parse_size(&v, "12"), 0);
	CHECK_INT(v, 12);
	CHECK_INT(tr_parse_size(&v, "16Q"), TR_EINVAL);
	CHECK_INT(tr_parse_size(&v, "k"), TR_EINVAL);
	CHECK_INT(tr_parse_size(&v, "1.5M"), TR_EINVAL);
	CHECK_INT(tr_parse_bool(&b, "yes"), 0);
	CHECK_INT(b, 1);
	CHECK_INT(tr_parse_bool(&b, "False"), 0);
	CHECK_INT(b, 0);
	CHECK_INT(tr_parse_bool(&b, "on"), 0);
	CHECK_INT(b, 1);
	CHECK_INT(tr_parse_bool(&b, "maybe"), TR_EINVAL);
}

static void
test_format_duration(void)
{
	char s[32];

	tr_format_duration(s, sizeof(s), 1800);
	CHECK_STR(s, "30m");
	tr_format_duration(s, sizeof(s), 90);
	CHECK_STR(s, "90s");
	tr_format_duration(s, sizeof(s), 7200);
	CHECK_STR(s, "2h");
	tr_format_duration(s, sizeof(s), 86400 * 2);
	CHECK_STR(s, "2d");
	tr_format_duration(s, sizeof(s), 0);
	CHECK_STR(s, "0s");
}

static void
test_defaults_and_fallbacks(void)
{
	const char *path = write_temp(
	    "[tributary]\ninterval = 1h\nkeep_days = 30\n"
	    "[feed \"a\"]\nurl = http://a.example/feed\n"
	    "[feed \"b\"]\nurl = https://b.example/x.xml\ninterval = 2h\n"
	    "keep_days = 0\nuser_agent = custom/1\ntags = x, y ,, z\n");
	struct tr_config *cfg = NULL;
	const struct tr_feed_conf *a, *b;
	char *errors = NULL;

	CHECK(path != NULL);
	CHECK_INT(tr_config_load(&cfg, &errors, path), 0);
	CHECK(errors == NULL);
	if (cfg == NULL)
		return;
	CHECK_INT(cfg->n_feeds, 2);
	CHECK_STR(cfg->listen, "127.0.0.1:8080");
	CHECK_INT(cfg->concurrency, 16);
	CHECK_INT(cfg->per_host, 2);
	CHECK_INT(cfg->max_body, 16 << 20);
	CHECK_INT(cfg->min_interval, 300);
	CHECK_INT(cfg->max_interval, 86400);
	a = tr_config_feed(cfg, "a");
	b = tr_config_feed(cfg, "b");
	CHECK(a != NULL && b != NULL);
	CHECK(tr_config_feed(cfg, "c") == NULL);
	if (a && b) {
		CHECK_INT(tr_config_feed_interval(cfg, a), 3600);
		CHECK_INT(tr_config_feed_interval(cfg, b), 7200);
		CHECK_INT(tr_config_feed_keep_days(cfg, a), 30);
		CHECK_INT(tr_config_feed_keep_days(cfg, b), 0);
		CHECK_STR(tr_config_feed_user_agent(cfg, a), cfg->user_agent);
		CHECK_STR(tr_config_feed_user_agent(cfg, b), "custom/1");
		CHECK_INT(b->n_tags, 3);
		if (b->n_tags == 3) {
			CHECK_STR(b->tags[0], "x");
			CHECK_STR(b->tags[1], "y");
			CHECK_STR(b->tags[2], "z");
		}
		CHECK(tr_config_has_tag(cfg, "y"));
		CHECK(!tr_config_has_tag(cfg, "w"));
		CHECK(!tr_config_has_tag(cfg, ""));
		CHECK_INT(a->line, 4);
		CHECK_INT(a->enabled, 1);
	}
	tr_config_free(cfg);
	unlink(path);
}

static void
test_errors_are_collected(void)
{
	const char *path = write_temp("[tributary]\ninterval = x\n"
				      "[feed \"a\"]\n[bogus]\n");
	struct tr_config *cfg = NULL;
	char *errors = NULL, want[256];

	CHECK_INT(tr_config_load(&cfg, &errors, path), TR_ECONFIG);
	CHECK(cfg == NULL);
	snprintf(want, sizeof(want),
	    "%s:2: interval: invalid duration (examples: 90s, 30m, 1h, 2d) "
	    "\"x\"\n%s:3: feed \"a\" has no url\n%s:4: unknown section "
	    "[bogus] (expected [tributary] or [feed \"NAME\"])\n",
	    path, path, path);
	CHECK_STR(errors, want);
	free(errors);
	unlink(path);
}

static void
test_many_feeds_lookup_and_duplicates(void)
{
	char path[] = "/tmp/tr-config-many-XXXXXX", name[32], *errors = NULL;
	struct tr_config *cfg = NULL;
	int fd = mkstemp(path), i, found = 0;
	FILE *fp = fdopen(fd, "w");

	for (i = 0; i < 3000; i++)
		fprintf(fp, "[feed \"n%d\"]\nurl = http://h%d.example/\n", i,
		    i % 7);
	fclose(fp);
	CHECK_INT(tr_config_load(&cfg, &errors, path), 0);
	if (cfg) {
		for (i = 0; i < 3000; i++) {
			const struct tr_feed_conf *f;

			snprintf(name, sizeof(name), "n%d", i);
			f = tr_config_feed(cfg, name);
			if (f && strcmp(f->name, name) == 0 &&
			    f->line == 2 * i + 1)
				found++;
		}
		CHECK_INT(found, 3000);
		CHECK(tr_config_feed(cfg, "n3000") == NULL);
		CHECK(tr_config_feed(cfg, "") == NULL);
	}
	tr_config_free(cfg);
	fp = fopen(path, "a");
	fprintf(fp, "[feed \"n1234\"]\nurl = http://x.example/\n");
	fclose(fp);
	CHECK_INT(tr_config_load(&cfg, &errors, path), TR_ECONFIG);
	CHECK(errors && strstr(errors, ":6001: duplicate feed name \"n1234\" "
					"(first defined on line 2469)"));
	free(errors);
	unlink(path);
}

TR_TESTS(test_many_feeds_lookup_and_duplicates, test_durations, test_sizes_and_bools, test_format_duration,
    test_defaults_and_fallbacks, test_errors_are_collected)

/* test_config.c — value parsers, defaults and per-feed fallbacks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner.h"
#include "tributary/config.h"
#include "tributary/html.h"
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

/* Like write_temp, for text that may hold NUL bytes. */
static char *
write_temp_n(const char *text, size_t len)
{
	static char path[64];
	FILE *fp;
	int fd;

	snprintf(path, sizeof(path), "/tmp/tr-config-XXXXXX");
	if ((fd = mkstemp(path)) < 0)
		return NULL;
	fp = fdopen(fd, "w");
	fwrite(text, 1, len, fp);
	fclose(fp);
	return path;
}

/* Loads text; returns the config (or NULL) and sets *errors. */
static struct tr_config *
load_text(const char *text, size_t len, char **errors, char *path_out)
{
	struct tr_config *cfg = NULL;
	char *path = write_temp_n(text, len);

	*errors = NULL;
	if (path == NULL)
		return NULL;
	if (path_out)
		strcpy(path_out, path);
	tr_config_load(&cfg, errors, path);
	unlink(path);
	return cfg;
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


/*
 * Line lengths: Debian's inih holds 200 bytes a line; URLs of private
 * and signed feeds run to thousands. Each length loads, the value whole.
 */
static void
test_long_lines(void)
{
	static const size_t lens[] = {10, 150, 190, 198, 199, 200, 201, 255,
	    1000, 4000, 4096, 20000, 65000};
	size_t i;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t n = lens[i];
		char *url = malloc(n + 64), *text = malloc(n + 256), *errors;
		struct tr_config *cfg;
		char name[32];

		snprintf(name, sizeof(name), "len %zu", n);
		snprintf(url, n + 64, "https://example.org/f?sig=");
		memset(url + strlen(url), 'a', n);
		url[26 + n] = '\0';
		snprintf(text, n + 256, "[tributary]\ntitle = t\n[feed \"a\"]\n"
		    "url = %s ; a comment\ntitle =   x  \n", url);
		cfg = load_text(text, strlen(text), &errors, NULL);
		CHECK_STR_CASE(name, errors, NULL);
		if (cfg && cfg->n_feeds == 1) {
			CHECK_STR_CASE(name, cfg->feeds[0].url, url);
			CHECK_STR_CASE(name, cfg->feeds[0].title, "x");
			CHECK_INT(cfg->feeds[0].line, 3);
		}
		/* A long title: the text after " ;" is a comment there too. */
		snprintf(text, n + 256, "[feed \"a\"]\nurl = http://a/\n"
		    "title = %s ; c\n", url);
		tr_config_free(cfg);
		cfg = load_text(text, strlen(text), &errors, NULL);
		CHECK_STR_CASE(name, cfg ? cfg->feeds[0].title : NULL, url);
		CHECK_STR_CASE(name, cfg && cfg->warnings
		    ? strstr(cfg->warnings, ":3: warning: title: the text after")
		    ? "warned" : cfg->warnings : NULL, "warned");
		tr_config_free(cfg);
		free(errors);
		free(url);
		free(text);
	}
}

/* Past the reader's own cap: an error at the line, the rest still read. */
static void
test_line_over_cap(void)
{
	size_t n = 70000;
	char *text = malloc(n + 100), *errors = NULL, path[64], want[256];
	struct tr_config *cfg;

	snprintf(text, n + 100, "[tributary]\ntitle = ");
	memset(text + strlen(text), 'x', n);
	strcpy(text + 19 + n, "\ninterval = bad\n");
	cfg = load_text(text, strlen(text), &errors, path);
	CHECK(cfg == NULL);
	snprintf(want, sizeof(want), "%s:2: line longer than 65536 characters"
	    "\n%s:3: interval: invalid duration", path, path);
	CHECK(errors && strncmp(errors, want, strlen(want)) == 0);
	if (errors && strncmp(errors, want, strlen(want)) != 0)
		printf("  got %s\n", errors);
	free(errors);
	free(text);
}

/* A NUL byte anywhere is an error at its line, never a silent cut. */
static void
test_nul_bytes(void)
{
	static const struct {
		const char *text;
		size_t len;
		int line;
	} cases[] = {
	    {"\0[tributary]\n", 13, 1},
	    {"[tributary]\n\0title = x\n", 23, 2},
	    {"[tributary]\ntitle = a\0b\n", 24, 2},
	    {"[tributary]\nti\0tle = ab\n", 24, 2},
	    {"[tributary]\ntitle = ab\n; comm\0ent\n", 35, 3},
	    {"[tribu\0tary]\n", 13, 1},
	    {"[tributary]\n\n\n\n\0", 16, 5},
	    {"[tributary]\ntitle = ab\0", 23, 2},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *errors = NULL, path[64], want[256];
		struct tr_config *cfg = load_text(cases[i].text, cases[i].len,
		    &errors, path);

		snprintf(want, sizeof(want), "%s:%d: NUL byte in the line",
		    path, cases[i].line);
		CHECK(cfg == NULL);
		CHECK_STR_CASE(cases[i].text + (cases[i].text[0] ? 0 : 1),
		    errors && strncmp(errors, want, strlen(want)) == 0
			? "ok" : errors, "ok");
		tr_config_free(cfg);
		free(errors);
	}
}

/* Only a regular file or a pipe is a config file. */
static void
test_file_kinds(void)
{
	static const struct {
		const char *path, *want;
	} cases[] = {
	    {"/dev/zero", "it is a character device"},
	    {"/dev/null", "it is a character device"},
	    {"/tmp", "it is a directory"},
	    {"/", "it is a directory"},
	    {"/nonexistent/feeds.conf", "cannot open: No such file"},
	};
	struct tr_config *cfg = NULL;
	char *errors = NULL, fdpath[32];
	size_t i;
	int fds[2];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_INT(tr_config_load(&cfg, &errors, cases[i].path), TR_EIO);
		CHECK(cfg == NULL);
		CHECK_STR_CASE(cases[i].path,
		    errors && strstr(errors, cases[i].want) ? "ok" : errors,
		    "ok");
		free(errors);
	}
	/* A pipe is read; relative paths are the working folder's. */
	CHECK_INT(pipe(fds), 0);
	CHECK(write(fds[1], "[tributary]\ndatabase = x.db\n", 28) == 28);
	close(fds[1]);
	snprintf(fdpath, sizeof(fdpath), "/dev/fd/%d", fds[0]);
	CHECK_INT(tr_config_load(&cfg, &errors, fdpath), 0);
	CHECK_STR(cfg ? cfg->database : NULL, "x.db");
	tr_config_free(cfg);
	close(fds[0]);
}

/*
 * A symlinked config: relative paths are relative to the folder of the
 * path given (the link's), as feeds.conf(5) says, not the target's.
 */
static void
test_symlinked_config(void)
{
	char dir[] = "/tmp/tr-config-link-XXXXXX", p[256], want[256];
	struct tr_config *cfg = NULL;
	char *errors = NULL;
	FILE *fp;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(p, sizeof(p), "%s/real", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/link", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/real/feeds.conf", dir);
	fp = fopen(p, "w");
	fputs("[tributary]\ndatabase = t.db\n[feed \"a\"]\nurl_file = u\n", fp);
	fclose(fp);
	snprintf(p, sizeof(p), "%s/link/u", dir);
	fp = fopen(p, "w");
	fputs("https://example.org/from-link\n", fp);
	fclose(fp);
	snprintf(p, sizeof(p), "%s/link/feeds.conf", dir);
	CHECK_INT(symlink("../real/feeds.conf", p), 0);
	CHECK_INT(tr_config_load(&cfg, &errors, p), 0);
	snprintf(want, sizeof(want), "%s/link/t.db", dir);
	CHECK_STR(cfg ? cfg->database : errors, want);
	CHECK_STR(cfg ? cfg->feeds[0].url : errors,
	    "https://example.org/from-link");
	tr_config_free(cfg);
	free(errors);
	snprintf(p, sizeof(p), "rm -rf %s", dir);
	CHECK_INT(system(p), 0);
}

/* Inline comments: cut after " ;" (with a warning where text is
 * expected), kept without the space, "\;" for a literal one. */
static void
test_inline_comments(void)
{
	static const struct {
		const char *line, *title, *warn; /* warn NULL: none */
	} cases[] = {
	    {"title = Tom ; Jerry", "Tom", "title: the text after"},
	    {"title = Tom\t; Jerry", "Tom", "title: the text after"},
	    {"title = Tom;Jerry", "Tom;Jerry", NULL},
	    {"title = Tom; Jerry", "Tom; Jerry", NULL},
	    {"title = Tom \\; Jerry", "Tom ; Jerry", NULL},
	    {"title = a\\b", "a\\b", NULL},
	    {"title = ; all comment", "", "title: the text after"},
	    {"url = http://b/ ; the feed", NULL, NULL},
	    {"interval = 1h ; hourly", NULL, NULL},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[256], *errors = NULL;
		struct tr_config *cfg;

		snprintf(text, sizeof(text), "[feed \"a\"]\nurl = http://a/\n"
		    "[feed \"b\"]\n%s\n%s", cases[i].line,
		    strncmp(cases[i].line, "url", 3) ? "url = http://b/\n" : "");
		cfg = load_text(text, strlen(text), &errors, NULL);
		CHECK_STR_CASE(cases[i].line, errors, NULL);
		if (cfg == NULL)
			continue;
		CHECK_STR_CASE(cases[i].line, cfg->feeds[1].title,
		    cases[i].title);
		CHECK_STR_CASE(cases[i].line, cases[i].warn && cfg->warnings &&
		    strstr(cfg->warnings, cases[i].warn) ? cases[i].warn
		    : cfg->warnings, cases[i].warn);
		tr_config_free(cfg);
	}
}

/* Tag syntax: normalised, or an error at the line. */
static void
test_tags(void)
{
	static const struct {
		const char *in, *want; /* want: tags joined by '|'; NULL:
					  error */
	} cases[] = {
	    {"Tech News", "Tech News"},
	    {"  Tech \t  News  , world", "Tech News|world"},
	    {"a, a, b, a", "a|b"},
	    {"C++, c#, 50%, what?", "C++|c#|50%|what?"},
	    {"\xc3\x9cml\xc3\xa4ut", "\xc3\x9cml\xc3\xa4ut"},
	    {"a,,b,", "a|b"},
	    {"a/b", NULL},
	    {"ok, x\x01y", NULL},
	    {"\xff\xfe", NULL},
	    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		NULL}, /* 65 bytes */
	    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
	};
	size_t i, j;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[256], got[256] = "", *errors = NULL;
		struct tr_config *cfg;

		snprintf(text, sizeof(text), "[feed \"a\"]\nurl = http://a/\n"
		    "tags = %s\n", cases[i].in);
		cfg = load_text(text, strlen(text), &errors, NULL);
		if (cases[i].want == NULL) {
			CHECK_STR_CASE(cases[i].in, errors &&
			    strstr(errors, ":3: tags: invalid tag") ? "error"
			    : errors, "error");
		} else if (cfg != NULL) {
			for (j = 0; j < cfg->feeds[0].n_tags; j++)
				snprintf(got + strlen(got),
				    sizeof(got) - strlen(got), "%s%s",
				    j ? "|" : "", cfg->feeds[0].tags[j]);
			CHECK_STR_CASE(cases[i].in, got, cases[i].want);
		} else {
			CHECK_STR_CASE(cases[i].in, errors, NULL);
		}
		tr_config_free(cfg);
		free(errors);
	}
}

/* Two feeds with one URL: a warning at the second. */
static void
test_same_url_warning(void)
{
	static const struct {
		const char *a, *b;
		int warn;
	} cases[] = {
	    {"http://x.org/f", "http://x.org/f", 1},
	    {"http://x.org/f", "HTTP://X.ORG:80/f", 1},
	    {"https://x.org/f?utm_source=a", "https://x.org/f", 1},
	    {"https://x.org/f#top", "https://x.org/f", 1},
	    {"http://x.org/f", "https://x.org/f", 0},
	    {"http://x.org/f", "http://x.org/g", 0},
	    {"http://x.org/f?a=1", "http://x.org/f?a=2", 0},
	    /* Forms that reach the canonical one in one parse or in more
	     * (a percent-encoded numeric host: two), either way round. */
	    {"http://%3333/f", "http://0.0.1.77/f", 1},
	    {"http://0.0.1.77/f", "http://%3333/f", 1},
	    {"http://333/f", "http://%3333/f", 1},
	    {"http://x.org/f", "http://x.org/f ", 1},
	    {"http://x.org:8080/f", "http://x.org/f", 0},
	    {"http://x.org/F", "http://x.org/f", 0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[512], *errors = NULL;
		struct tr_config *cfg;

		snprintf(text, sizeof(text), "[feed \"a\"]\nurl = %s\n\n"
		    "[feed \"b\"]\nurl = %s\n", cases[i].a, cases[i].b);
		cfg = load_text(text, strlen(text), &errors, NULL);
		CHECK(cfg != NULL);
		CHECK_STR_CASE(cases[i].b, cfg && cfg->warnings &&
		    strstr(cfg->warnings, ":4: warning: feed \"b\" has the "
		    "same URL as feed \"a\" (line 1)") ? "warned"
		    : cfg ? cfg->warnings : errors,
		    cases[i].warn ? "warned" : NULL);
		tr_config_free(cfg);
		free(errors);
	}
}

/* min_interval/max_interval: the error is at the line that set them. */
static void
test_interval_bounds_line(void)
{
	static const struct {
		const char *text;
		int line;
	} cases[] = {
	    {"[tributary]\nmin_interval = 2h\nmax_interval = 1h\n", 3},
	    {"[tributary]\nmax_interval = 1h\ntitle = x\nmin_interval = 2h\n"
	     "\n[feed \"a\"]\nurl = http://a/\n", 4},
	    {"[tributary]\nmin_interval = 2d\n[feed \"a\"]\nurl = http://a/\n",
	     2},
	    {"[tributary]\ntitle = x\nmax_interval = 2m\n\n\n", 3},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *errors = NULL, path[64], want[256];
		struct tr_config *cfg = load_text(cases[i].text,
		    strlen(cases[i].text), &errors, path);

		snprintf(want, sizeof(want), "%s:%d: min_interval is larger "
		    "than max_interval\n", path, cases[i].line);
		CHECK(cfg == NULL);
		CHECK_STR_CASE(cases[i].text, errors, want);
		free(errors);
	}
}

/* public_url, private, url_file, and errors that never echo a secret. */
static void
test_public_urls(void)
{
	static const struct {
		const char *settings, *want; /* want NULL: private */
	} cases[] = {
	    {"url = https://u:s3cret@example.org/f", "https://example.org/f"},
	    {"url = https://example.org/f?token=s3cret&a=1",
		"https://example.org/f?a=1"},
	    {"url = https://u:s3cret@example.org/f\n"
	     "public_url = https://example.org/public.xml",
		"https://example.org/public.xml"},
	    {"url = https://u:s3cret@example.org/f\nprivate = yes", NULL},
	    {"url = https://example.org/plain.xml",
		"https://example.org/plain.xml"},
	};
	static const struct {
		const char *settings, *error;
	} bad[] = {
	    {"url = http://u:s3cret@exa mple.org/", ":2: url: invalid URL"},
	    {"url = http://a/\npublic_url = http://u:s3cret@a/",
		":3: public_url: must not carry a user name or password"},
	    {"url = http://a/\npublic_url = file:///etc/x",
		":3: public_url: must be an http or https URL"},
	    {"url = http://a/\nurl_file = /nonexistent/u",
		":3: url_file: the feed has a url already"},
	    {"url_file = /nonexistent/u", ":2: url_file: cannot open"},
	    {"url_file = /tmp", ":2: url_file: /tmp is not a regular file"},
	    {"url = http://a/\nprivate = maybe", ":3: private: invalid"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[512], *errors = NULL, *got;
		struct tr_config *cfg;

		snprintf(text, sizeof(text), "[feed \"a\"]\n%s\n",
		    cases[i].settings);
		cfg = load_text(text, strlen(text), &errors, NULL);
		CHECK_STR_CASE(cases[i].settings, errors, NULL);
		if (cfg == NULL)
			continue;
		got = tr_config_public_url(&cfg->feeds[0], NULL);
		CHECK_STR_CASE(cases[i].settings, got, cases[i].want);
		free(got);
		/* After a permanent redirect: the new address, public. */
		got = tr_config_public_url(&cfg->feeds[0],
		    "https://v:s3cret@example.net/moved?key=s3cret");
		CHECK_STR_CASE(cases[i].settings, got,
		    cases[i].want == NULL ? NULL
		    : strstr(cases[i].settings, "public_url")
			? cases[i].want : "https://example.net/moved");
		free(got);
		tr_config_free(cfg);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[512], *errors = NULL;
		struct tr_config *cfg;

		snprintf(text, sizeof(text), "[feed \"a\"]\n%s\n",
		    bad[i].settings);
		cfg = load_text(text, strlen(text), &errors, NULL);
		CHECK(cfg == NULL);
		CHECK_STR_CASE(bad[i].settings,
		    errors && strstr(errors, bad[i].error) ? "ok" : errors,
		    "ok");
		CHECK(errors == NULL || strstr(errors, "s3cret") == NULL);
		tr_config_free(cfg);
		free(errors);
	}
	/* A FIFO as url_file is refused without waiting for a writer. */
	{
		char fifo[64], text[256], *errors = NULL;
		struct tr_config *cfg;

		snprintf(fifo, sizeof(fifo), "/tmp/tr-config-fifo-%d",
		    (int)getpid());
		unlink(fifo);
		CHECK_INT(mkfifo(fifo, 0600), 0);
		snprintf(text, sizeof(text), "[feed \"a\"]\nurl_file = %s\n",
		    fifo);
		cfg = load_text(text, strlen(text), &errors, NULL);
		CHECK(cfg == NULL);
		CHECK(errors && strstr(errors, "is not a regular file"));
		free(errors);
		unlink(fifo);
	}
	/* A feed no longer in the config: the store's URL, public. */
	{
		char *got = tr_config_public_url(NULL,
		    "http://u:s3cret@example.org/x?auth=s3cret");

		CHECK_STR(got, "http://example.org/x");
		free(got);
	}
}

/* sanitize (global and per feed) and embed_hosts. */
static void
test_sanitize_policy(void)
{
	static const char ok[] =
	    "[tributary]\nsanitize = text\n"
	    "embed_hosts = www.youtube-nocookie.com, player.vimeo.com\n"
	    "[feed \"a\"]\nurl = http://a.example/\n"
	    "[feed \"b\"]\nurl = http://b.example/\nsanitize = default\n";
	static const struct {
		const char *text, *error;
	} bad[] = {
	    {"[tributary]\nsanitize = none\n",
	     ":2: sanitize: invalid policy (default or text) \"none\""},
	    {"[feed \"a\"]\nurl = http://a.example/\nsanitize = TEXT\n",
	     ":3: sanitize: invalid policy (default or text) \"TEXT\""},
	    {"[tributary]\nembed_hosts = https://www.youtube.com/\n",
	     ":2: embed_hosts: invalid host \"https://www.youtube.com/\""},
	    {"[tributary]\nembed_hosts = ok.example, bad/path\n",
	     ":2: embed_hosts: invalid host \"bad/path\""},
	};
	struct tr_config *cfg;
	struct tr_html_policy pol;
	char *errors;
	size_t i;

	cfg = load_text(ok, strlen(ok), &errors, NULL);
	CHECK(cfg != NULL);
	if (cfg != NULL) {
		tr_config_feed_html_policy(&pol, cfg, tr_config_feed(cfg, "a"));
		CHECK_INT(pol.mode, TR_HTML_TEXT);
		CHECK_INT(pol.n_embed_hosts, 2);
		CHECK_STR(pol.embed_hosts[1], "player.vimeo.com");
		tr_config_feed_html_policy(&pol, cfg, tr_config_feed(cfg, "b"));
		CHECK_INT(pol.mode, TR_HTML_DEFAULT);
		tr_config_free(cfg);
	}
	free(errors);
	/* The defaults: the allowlist, no embed hosts. */
	cfg = load_text("[feed \"a\"]\nurl = http://a.example/\n", 34,
	    &errors, NULL);
	CHECK(cfg != NULL);
	if (cfg != NULL) {
		tr_config_feed_html_policy(&pol, cfg, &cfg->feeds[0]);
		CHECK_INT(pol.mode, TR_HTML_DEFAULT);
		CHECK_INT(pol.n_embed_hosts, 0);
		tr_config_free(cfg);
	}
	free(errors);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg = load_text(bad[i].text, strlen(bad[i].text), &errors, NULL);
		CHECK(cfg == NULL);
		CHECK(errors != NULL && strstr(errors, bad[i].error) != NULL);
		if (errors == NULL || strstr(errors, bad[i].error) == NULL)
			printf("  [%s] got %s\n", bad[i].text,
			    errors ? errors : "(null)");
		free(errors);
		tr_config_free(cfg);
	}
}

TR_TESTS(test_long_lines, test_line_over_cap, test_nul_bytes, test_file_kinds,
    test_symlinked_config, test_inline_comments, test_tags,
    test_same_url_warning, test_interval_bounds_line, test_public_urls,
    test_many_feeds_lookup_and_duplicates, test_durations, test_sizes_and_bools, test_format_duration,
    test_defaults_and_fallbacks, test_errors_are_collected,
    test_sanitize_policy)

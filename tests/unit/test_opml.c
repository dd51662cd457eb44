/*
 * test_opml.c — OPML import: the fixture tests/data/opml/subscriptions.opml
 * gives tests/data/opml/subscriptions.conf, fed whole and split at every
 * byte offset; what it prints loads back with the config reader; bad
 * documents fail with a message naming the line.
 */
#include <unistd.h>

#include "runner.h"
#include "tributary/buf.h"
#include "tributary/config.h"
#include "tributary/error.h"
#include "tributary/opml.h"

#ifndef TR_SRC_DIR
#define TR_SRC_DIR "."
#endif

static char *
slurp(const char *rel, size_t *len)
{
	char path[1024];
	struct tr_buf b;
	char chunk[4096];
	size_t n;
	FILE *fp;
	const char *src = getenv("TR_SRC");

	snprintf(path, sizeof(path), "%s/tests/data/opml/%s",
	    src ? src : TR_SRC_DIR, rel);
	if ((fp = fopen(path, "rb")) == NULL) {
		printf("  cannot open %s\n", path);
		return NULL;
	}
	tr_buf_init(&b, 1 << 24);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		tr_buf_add(&b, chunk, n);
	fclose(fp);
	*len = b.len;
	return tr_buf_detach(&b);
}

static int
on_feed(const struct tr_opml_feed *f, void *arg)
{
	return tr_opml_format(arg, f);
}

/*
 * Imports doc in two chunks split at offset split; the sections go to
 * out. Returns tr_opml_parse's result; *msg gets the error text.
 */
static int
import(struct tr_buf *out, char *msg, size_t msgsize, const char *doc,
    size_t len, size_t split, const char *const *reserve)
{
	struct tr_opml *op = NULL;
	int rc;

	tr_buf_init(out, 1 << 20);
	if ((rc = tr_opml_new(&op, on_feed, out)) != 0)
		return rc;
	for (; reserve && reserve[0]; reserve += 2)
		tr_opml_reserve(op, reserve[0][0] ? reserve[0] : NULL,
		    reserve[1][0] ? reserve[1] : NULL);
	rc = tr_opml_parse(op, doc, split, 0);
	if (rc == 0)
		rc = tr_opml_parse(op, doc + split, len - split, 1);
	snprintf(msg, msgsize, "%s", tr_opml_errmsg(op));
	tr_opml_free(op);
	return rc;
}

static void
test_fixture(void)
{
	size_t len = 0, wlen = 0, split, bad = 0;
	char *doc = slurp("subscriptions.opml", &len);
	char *want = slurp("subscriptions.conf", &wlen);
	struct tr_buf out;
	char msg[256];

	CHECK(doc != NULL && want != NULL);
	if (doc == NULL || want == NULL)
		goto out;
	CHECK_INT(import(&out, msg, sizeof(msg), doc, len, len, NULL), 0);
	CHECK_STR(tr_buf_str(&out), want);
	tr_buf_free(&out);
	/* Streaming: the same result at every chunk border. */
	for (split = 0; split <= len; split++) {
		if (import(&out, msg, sizeof(msg), doc, len, split, NULL) != 0 ||
		    strcmp(tr_buf_str(&out), want) != 0)
			bad++;
		tr_buf_free(&out);
	}
	CHECK_INT(bad, 0);
out:
	free(doc);
	free(want);
}

/* Names and URLs already in feeds.conf: taken URLs are skipped, taken
 * names avoided. */
static void
test_reserve(void)
{
	static const char *const reserve[] = {"lwn-net", "", "tech", "",
	    "", "https://example.org/cafe.atom", NULL};
	size_t len = 0;
	char *doc = slurp("subscriptions.opml", &len);
	struct tr_buf out;
	char msg[256];

	if (doc == NULL) {
		CHECK(doc != NULL);
		return;
	}
	CHECK_INT(import(&out, msg, sizeof(msg), doc, len, len, reserve), 0);
	CHECK(strstr(tr_buf_str(&out), "[feed \"lwn-net-2\"]\n"
				       "url = https://lwn.net/headlines/rss\n"));
	CHECK(strstr(tr_buf_str(&out), "[feed \"lwn-net-3\"]\n"
				       "url = https://other.example/lwn\n"));
	CHECK(strstr(tr_buf_str(&out), "cafe.atom") == NULL);
	tr_buf_free(&out);
	free(doc);
}

/* What the importer prints is a valid feeds.conf with the same feeds. */
static void
test_loads_back(void)
{
	char path[] = "/tmp/test-opml-XXXXXX";
	struct tr_config *cfg = NULL;
	size_t len = 0;
	char *doc = slurp("subscriptions.opml", &len), *errors = NULL;
	struct tr_buf out;
	char msg[256];
	FILE *fp;
	int fd;

	if (doc == NULL) {
		CHECK(doc != NULL);
		return;
	}
	CHECK_INT(import(&out, msg, sizeof(msg), doc, len, len, NULL), 0);
	fd = mkstemp(path);
	CHECK(fd >= 0);
	fp = fdopen(fd, "w");
	fprintf(fp, "[tributary]\ndatabase = x.db\n\n%s", tr_buf_str(&out));
	fclose(fp);
	CHECK_INT(tr_config_load(&cfg, &errors, path), 0);
	if (errors)
		printf("  %s", errors);
	if (cfg) {
		const struct tr_feed_conf *f;

		CHECK_INT(cfg->n_feeds, 9);
		f = tr_config_feed(cfg, "openbsd-journal");
		CHECK(f != NULL);
		if (f) {
			CHECK_STR(f->url,
			    "https://www.undeadly.org/cgi?action=rss");
			CHECK_INT(f->n_tags, 5);
			if (f->n_tags == 5) {
				CHECK_STR(f->tags[0], "Tech");
				CHECK_STR(f->tags[1], "Linux & BSD");
				CHECK_STR(f->tags[2], "os");
				CHECK_STR(f->tags[3], "bsd");
				CHECK_STR(f->tags[4], "unix");
			}
		}
		f = tr_config_feed(cfg, "world-europe");
		CHECK(f && f->title && strcmp(f->title, "World, Europe") == 0);
	}
	tr_config_free(cfg);
	free(errors);
	unlink(path);
	tr_buf_free(&out);
	free(doc);
}

static void
test_errors(void)
{
	static const struct {
		const char *doc, *msg;
		int rc;
	} cases[] = {
	    {"", "line 1, column 1: no element found", TR_EPARSE},
	    {"<opml><body><outline></body></opml>",
		"line 1, column 24: mismatched tag", TR_EPARSE},
	    {"<rss version=\"2.0\"><channel/></rss>",
		"line 1: not an OPML document (the root element is <rss>, not "
		"<opml>)",
		TR_EPARSE},
	    {"<opml>\n<body>\n<outline xmlUrl=\"http://a.example/\" x=\"\x01\"/>",
		"line 3, column 40: not well-formed (invalid token)",
		TR_EPARSE},
	    {"<?xml version=\"1.0\"?>\n<!DOCTYPE opml [<!ENTITY e SYSTEM "
	     "\"file:///etc/passwd\">]><opml><body><outline text=\"&e;\" "
	     "xmlUrl=\"http://a.example/\"/></body></opml>",
		"line 2, column 85: reference to external entity in attribute",
		TR_EPARSE},
	    {"<opml><body/></opml>", "no error", 0},
	};
	struct tr_buf out;
	char msg[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_INT(import(&out, msg, sizeof(msg), cases[i].doc,
			      strlen(cases[i].doc), strlen(cases[i].doc), NULL),
		    cases[i].rc);
		CHECK_STR_CASE(cases[i].doc, msg, cases[i].msg);
		CHECK_INT(out.len, 0);
		tr_buf_free(&out);
	}
}

static int
stop_at_second(const struct tr_opml_feed *f, void *arg)
{
	int *n = arg;

	(void)f;
	return ++*n == 2 ? TR_EABORT : 0;
}

static void
test_callback_stops(void)
{
	const char *doc = "<opml><body>"
			  "<outline xmlUrl=\"http://a.example/1\"/>"
			  "<outline xmlUrl=\"http://a.example/2\"/>"
			  "<outline xmlUrl=\"http://a.example/3\"/>"
			  "</body></opml>";
	struct tr_opml *op = NULL;
	size_t found = 0, skipped = 0;
	int n = 0;

	CHECK_INT(tr_opml_new(&op, stop_at_second, &n), 0);
	CHECK_INT(tr_opml_parse(op, doc, strlen(doc), 1), TR_EABORT);
	CHECK_INT(n, 2);
	tr_opml_counts(op, &found, &skipped);
	CHECK_INT(found, 2);
	CHECK_INT(skipped, 0);
	/* Once failed, it stays failed. */
	CHECK_INT(tr_opml_parse(op, "", 0, 1), TR_EABORT);
	tr_opml_free(op);
}

/* Deep nesting and many subscriptions stay within the limits. */
static void
test_deep_and_many(void)
{
	struct tr_buf doc, out;
	char msg[256];
	int i;

	tr_buf_init(&doc, 1 << 24);
	tr_buf_adds(&doc, "<opml><body>");
	for (i = 0; i < 200; i++)
		tr_buf_printf(&doc, "<outline text=\"f%d\">", i);
	tr_buf_adds(&doc, "<outline text=\"deep\" xmlUrl=\"http://d.example/\"/>");
	for (i = 0; i < 200; i++)
		tr_buf_adds(&doc, "</outline>");
	for (i = 0; i < 3000; i++)
		tr_buf_printf(&doc, "<outline text=\"Same\" "
				    "xmlUrl=\"http://m.example/%d\"/>", i);
	tr_buf_adds(&doc, "</body></opml>");
	CHECK_INT(import(&out, msg, sizeof(msg), doc.data, doc.len, doc.len,
		      NULL),
	    0);
	CHECK(strstr(tr_buf_str(&out), "[feed \"deep\"]\nurl = "
				       "http://d.example/\ntitle = deep\ntags = f0, f1, f2"));
	CHECK(strstr(tr_buf_str(&out), "[feed \"same-3000\"]\n"
				       "url = http://m.example/2999\n"));
	tr_buf_free(&out);
	tr_buf_free(&doc);
}

/* tributary:name, as tributary's OPML export writes it. */
static void
test_own_name(void)
{
	static const struct {
		const char *attrs; /* of the outline, besides xmlUrl */
		const char *want;  /* the sections printed */
	} cases[] = {
	    {"text=\"World news\" tributary:name=\"Wn_1.x\"",
		"[feed \"Wn_1.x\"]\nurl = https://e.test/f\n"
		"title = World news\n\n"},
	    /* The name as the text: the feed had no title. */
	    {"text=\"lwn\" title=\"lwn\" tributary:name=\"lwn\"",
		"[feed \"lwn\"]\nurl = https://e.test/f\n\n"},
	    /* Not a valid feed name: derived from the title as for others. */
	    {"text=\"Some Title\" tributary:name=\"a b\"",
		"[feed \"some-title\"]\nurl = https://e.test/f\n"
		"title = Some Title\n\n"},
	    {"text=\"Some Title\" tributary:name=\".hidden\"",
		"[feed \"some-title\"]\nurl = https://e.test/f\n"
		"title = Some Title\n\n"},
	    {"text=\"Some Title\" tributary:name=\"\"",
		"[feed \"some-title\"]\nurl = https://e.test/f\n"
		"title = Some Title\n\n"},
	    {"text=\"T\" tributary:name=\"x]\\n[tributary\"",
		"[feed \"t\"]\nurl = https://e.test/f\ntitle = T\n\n"},
	    /* Taken (reserved below): made unique. */
	    {"text=\"Taken\" tributary:name=\"taken\"",
		"[feed \"taken-2\"]\nurl = https://e.test/f\n"
		"title = Taken\n\n"},
	    /* Tags from categories, each path component one tag. */
	    {"text=\"c\" tributary:name=\"c\" category=\"/a,/Tech News\"",
		"[feed \"c\"]\nurl = https://e.test/f\n"
		"tags = a, Tech News\n\n"},
	};
	static const char *const reserve[] = {"taken", "", NULL};
	char doc[1024], msg[256];
	struct tr_buf out;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = snprintf(doc, sizeof(doc),
		    "<opml version=\"2.0\" xmlns:tributary=\"%s\"><body>"
		    "<outline type=\"rss\" xmlUrl=\"https://e.test/f\" %s/>"
		    "</body></opml>",
		    TR_OPML_NS, cases[i].attrs);

		CHECK_INT(import(&out, msg, sizeof(msg), doc, (size_t)n,
			      (size_t)n / 2, reserve),
		    0);
		CHECK_STR_CASE(cases[i].attrs, tr_buf_str(&out),
		    cases[i].want);
		tr_buf_free(&out);
	}
}

TR_TESTS(test_fixture, test_reserve, test_loads_back, test_errors,
    test_callback_stops, test_deep_and_many, test_own_name)

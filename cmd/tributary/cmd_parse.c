/*
 * cmd_parse.c — tributary parse: parse one feed document and print the
 * normalized result, without touching the store.
 *
 * The file is read in 64 KiB chunks and the articles are printed as the
 * parser hands them over, gathered into writes of 64 KiB. With --json
 * the "items" array therefore comes first and "version", "encoding",
 * "bozo", "warnings" and "feed" (which are only final at the end of the
 * document) after it; JSON key order carries no meaning.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "tributary/buf.h"
#include "tributary/date.h"
#include "tributary/error.h"
#include "tributary/json.h"
#include "tributary/parse.h"

static const char usage[] =
    "usage: tributary parse [--json] [--raw] [--base-url URL]"
    " [--content-type TYPE] FILE|-\n"
    "Parses one RSS or Atom document (- reads standard input) and prints\n"
    "the feed and its articles: a readable summary, or with --json one\n"
    "JSON object {items, version, encoding, bozo, warnings, feed}.\n"
    "  --base-url URL       the document's URL, for relative links\n"
    "  --content-type TYPE  the HTTP Content-Type, for its charset\n"
    "  --raw                item bodies as the document has them, not\n"
    "                       sanitized and with their URLs unresolved\n"
    "Exits 0 when something was parsed, 1 when nothing could be, 2 on\n"
    "usage errors.\n";

#define READ_CHUNK (64 << 10)

struct out {
	int json;
	struct tr_buf buf;
	struct tr_json j;
};

/* JSON is written in pieces of at least this size: one write(2) per
 * item cost more than the rest of the output's work. */
#define OUT_CHUNK (64 << 10)

/* Writes what the JSON writer gathered once it is OUT_CHUNK (or always,
 * with force). */
static void
flush(struct out *o, int force)
{
	if (!force && o->buf.len < OUT_CHUNK)
		return;
	fwrite(o->buf.data ? o->buf.data : "", 1, o->buf.len, stdout);
	tr_buf_reset(&o->buf);
}

static void
json_date(struct tr_json *j, const char *key, int64_t t)
{
	char d[40];

	if (t == TR_DATE_NONE)
		return;
	tr_date_format_rfc3339(d, sizeof(d), t);
	tr_json_member_str(j, key, d);
}

static void
json_item(struct tr_json *j, const struct tr_article *a)
{
	size_t i;

	tr_json_begin_object(j);
	tr_json_member_str(j, "id", a->id);
	tr_json_member_str(j, "title", a->title);
	tr_json_member_str(j, "link", a->link);
	json_date(j, "published", a->published);
	json_date(j, "updated", a->updated);
	tr_json_member_str(j, "author", a->author);
	if (a->n_authors) {
		tr_json_key(j, "authors");
		tr_json_begin_array(j);
		for (i = 0; i < a->n_authors; i++) {
			tr_json_begin_object(j);
			tr_json_member_str(j, "name", a->authors[i].name);
			tr_json_member_str(j, "email", a->authors[i].email);
			tr_json_member_str(j, "uri", a->authors[i].uri);
			tr_json_end_object(j);
		}
		tr_json_end_array(j);
	}
	tr_json_member_str(j, "summary", a->summary);
	tr_json_member_str(j, "content", a->content);
	if (a->n_categories) {
		tr_json_key(j, "categories");
		tr_json_begin_array(j);
		for (i = 0; i < a->n_categories; i++)
			tr_json_string(j, a->categories[i]);
		tr_json_end_array(j);
	}
	if (a->n_enclosures) {
		tr_json_key(j, "enclosures");
		tr_json_begin_array(j);
		for (i = 0; i < a->n_enclosures; i++) {
			tr_json_begin_object(j);
			tr_json_member_str(j, "url", a->enclosures[i].url);
			tr_json_member_str(j, "type", a->enclosures[i].type);
			if (a->enclosures[i].length >= 0)
				tr_json_member_int(j, "length",
				                   a->enclosures[i].length);
			tr_json_end_object(j);
		}
		tr_json_end_array(j);
	}
	tr_json_member_str(j, "image", a->image);
	tr_json_end_object(j);
}

static void
text_item(const struct tr_article *a)
{
	char d[40] = "(no date)";
	int64_t t = a->published != TR_DATE_NONE ? a->published : a->updated;

	if (t != TR_DATE_NONE)
		tr_date_format_rfc3339(d, sizeof(d), t);
	printf("- %s  %s\n", d, a->title ? a->title : "(no title)");
	if (a->link)
		printf("  %s\n", a->link);
	if (a->id && (a->link == NULL || strcmp(a->id, a->link) != 0))
		printf("  id: %s\n", a->id);
}

static int
on_article(const struct tr_article *a, void *arg)
{
	struct out *o = arg;

	if (!o->json) {
		text_item(a);
		return 0;
	}
	json_item(&o->j, a);
	flush(o, 0);
	return 0;
}

static void
json_tail(struct out *o, const struct tr_parser *p)
{
	const struct tr_feed_meta *m = tr_parser_meta(p);
	struct tr_json *j = &o->j;
	size_t i;

	tr_json_end_array(j);
	tr_json_member_str(j, "version",
	                   tr_feed_version_name(tr_parser_version(p)));
	tr_json_member_str(j, "encoding", tr_parser_encoding(p));
	tr_json_member_bool(j, "bozo", tr_parser_bozo(p));
	tr_json_key(j, "warnings");
	tr_json_begin_array(j);
	for (i = 0; i < tr_parser_nwarnings(p); i++)
		tr_json_string(j, tr_parser_warning(p, i));
	tr_json_end_array(j);
	tr_json_key(j, "feed");
	tr_json_begin_object(j);
	tr_json_member_str(j, "title", m->title);
	tr_json_member_str(j, "link", m->link);
	tr_json_member_str(j, "id", m->id);
	json_date(j, "updated", m->updated);
	tr_json_member_str(j, "author", m->author);
	tr_json_member_str(j, "subtitle", m->subtitle);
	tr_json_member_str(j, "language", m->language);
	tr_json_end_object(j);
	tr_json_end_object(j);
	tr_buf_addc(&o->buf, '\n');
	flush(o, 1);
}

static void
text_tail(const struct tr_parser *p)
{
	const struct tr_feed_meta *m = tr_parser_meta(p);
	size_t i;

	printf("%s, %s, %zu item%s%s\n",
	       tr_feed_version_name(tr_parser_version(p)),
	       tr_parser_encoding(p), tr_parser_nitems(p),
	       tr_parser_nitems(p) == 1 ? "" : "s",
	       tr_parser_bozo(p) ? ", not well-formed (recovered)" : "");
	if (m->title)
		printf("title: %s\n", m->title);
	if (m->link)
		printf("link: %s\n", m->link);
	/* The feed's author, wherever the document names it: the items
	 * without one take it (--json: "feed": {"author"}). */
	if (m->author)
		printf("author: %s\n", m->author);
	if (m->subtitle)
		printf("subtitle: %s\n", m->subtitle);
	for (i = 0; i < tr_parser_nwarnings(p); i++)
		printf("warning: %s\n", tr_parser_warning(p, i));
}

/* Feeds the whole of fd to the parser. Returns 0 or TR_EIO. */
static int
read_all(struct tr_parser *p, int fd, const char *path)
{
	static char chunk[READ_CHUNK];
	ssize_t n;
	int rc;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "tributary parse: %s: %s\n", path,
			        strerror(errno));
			return TR_EIO;
		}
		if (n == 0)
			return 0;
		rc = tr_parser_feed(p, chunk, (size_t)n);
		if (rc == TR_EPARSE)
			return 0; /* the parser stopped; finish reports */
		if (rc != 0)
			return rc;
	}
}

int
cmd_parse(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"base-url", required_argument, NULL, 'b'},
	    {"content-type", required_argument, NULL, 't'},
	    {"raw", no_argument, NULL, 'r'},
	    {NULL, 0, NULL, 0},
	};
	struct tr_parse_opts opts = {0};
	struct tr_parser *p = NULL;
	struct out o = {0};
	const char *path;
	int c, fd, rc, status = EXIT_FAIL;

	(void)cli;
	if (cli_wants_help(argc, argv, usage))
		return EXIT_OK;
	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o.json = 1;
			break;
		case 'b':
			opts.base_url = optarg;
			break;
		case 't':
			opts.content_type = optarg;
			break;
		case 'r':
			opts.raw_html = 1;
			break;
		default:
			return cli_usage_error(
			    "parse", usage,
			    "unknown option or missing value: %s",
			    argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error("parse", usage, "missing FILE");
	if (optind + 1 < argc)
		return cli_usage_error("parse", usage,
		                       "unexpected argument: %s",
		                       argv[optind + 1]);
	path = argv[optind];
	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY)) < 0) {
		fprintf(stderr, "tributary parse: %s: %s\n", path,
		        strerror(errno));
		return EXIT_FAIL;
	}
	tr_buf_init(&o.buf, (size_t)1 << 30);
	tr_json_init(&o.j, &o.buf, 0);
	if ((rc = tr_parser_new(&p, &opts, on_article, &o)) != 0) {
		fprintf(stderr, "tributary parse: %s\n", tr_strerror(rc));
		goto out;
	}
	if (o.json) {
		tr_json_begin_object(&o.j);
		tr_json_key(&o.j, "items");
		tr_json_begin_array(&o.j);
	}
	rc = read_all(p, fd, path);
	if (rc == TR_EIO || rc == TR_ENOMEM) {
		if (rc == TR_ENOMEM)
			fprintf(stderr, "tributary parse: %s\n",
			        tr_strerror(rc));
		goto out;
	}
	rc = tr_parser_finish(p);
	if (o.json)
		json_tail(&o, p);
	else
		text_tail(p);
	status = rc == 0 ? EXIT_OK : EXIT_FAIL;
	if (rc != 0)
		fprintf(stderr, "tributary parse: %s: no feed found\n", path);
out:
	if (o.json)
		flush(&o, 1); /* what was gathered before a failure */
	fflush(stdout);
	if (fd != STDIN_FILENO)
		close(fd);
	tr_parser_free(p);
	tr_buf_free(&o.buf);
	return status;
}

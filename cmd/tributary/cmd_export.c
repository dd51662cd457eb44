/*
 * cmd_export.c — tributary export: the merged feed written once, to
 * stdout or atomically to a file, the same documents the endpoint serves:
 *
 *	tributary fetch && tributary export --output /var/www/planet.atom
 *
 * from cron is a complete static planet (fetch exits 0 when its round
 * ran, even when some feeds failed).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "tributary/article.h"
#include "tributary/buf.h"
#include "tributary/date.h"
#include "tributary/error.h"
#include "tributary/render.h"
#include "tributary/store.h"

/* The largest document export writes (1000 items of large content). */
#define EXPORT_MAX (256u << 20)

static const char usage[] =
    "usage: tributary [-c FILE] export [--format atom|rss|json|opml|html]\n"
    "                 [--tag TAG | --feed NAME] [--limit N] [--since DATE]\n"
    "                 [--output FILE]\n"
    "Writes the merged feed (newest first) to stdout, or atomically to FILE\n"
    "(a temporary file renamed into place). Default format atom, limit 50\n"
    "(at most 1000). DATE is RFC 3339 or RFC 822 (2024-12-06T09:30:00Z).\n"
    "Self links use base_url from the config (else http://LISTEN).\n";

struct options {
	enum tr_format fmt;
	const char *tag, *feed, *output;
	int limit;
	int64_t since;
};

static int
parse_options(struct options *o, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"tag", required_argument, NULL, 't'},
	    {"feed", required_argument, NULL, 'F'},
	    {"limit", required_argument, NULL, 'n'},
	    {"since", required_argument, NULL, 's'},
	    {"output", required_argument, NULL, 'o'},
	    {NULL, 0, NULL, 0},
	};
	char *end;
	long v;
	int c, f;

	o->fmt = TR_FMT_ATOM;
	o->since = TR_DATE_NONE;
	while ((c = getopt_long(argc, argv, "f:t:F:n:s:o:", opts, NULL)) !=
	    -1) {
		switch (c) {
		case 'f':
			if ((f = tr_format_from_name(optarg)) < 0)
				return cli_usage_error("export", usage,
				    "unknown format \"%s\" (atom, rss, json, "
				    "opml or html)", optarg);
			o->fmt = (enum tr_format)f;
			break;
		case 't':
			o->tag = optarg;
			break;
		case 'F':
			o->feed = optarg;
			break;
		case 'n':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 1 || v > 1000)
				return cli_usage_error("export", usage,
				    "--limit: expected a number from 1 to "
				    "1000, got \"%s\"", optarg);
			o->limit = (int)v;
			break;
		case 's':
			if (tr_date_parse(&o->since, optarg) != 0)
				return cli_usage_error("export", usage,
				    "--since: not a date: \"%s\" (example: "
				    "2024-12-06T09:30:00Z)", optarg);
			break;
		case 'o':
			o->output = optarg;
			break;
		default:
			return cli_usage_error("export", usage,
			    "unknown option or missing argument: %s",
			    argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("export", usage,
		    "unexpected argument: %s", argv[optind]);
	if (o->tag && o->feed)
		return cli_usage_error("export", usage,
		    "--tag and --feed cannot be combined");
	return 0;
}

/* Checks --tag and --feed against the config; builds the title. */
static int
check_scope(const struct options *o, const struct tr_config *cfg,
    struct tr_buf *title)
{
	const struct tr_feed_conf *f;

	if (o->tag && !tr_config_has_tag(cfg, o->tag)) {
		fprintf(stderr, "tributary export: no feed in %s has the tag "
				"\"%s\"\n'tributary check' lists the feeds and "
				"their tags.\n",
		    cfg->path, o->tag);
		return EXIT_USAGE;
	}
	if (o->feed && (f = tr_config_feed(cfg, o->feed)) == NULL) {
		fprintf(stderr, "tributary export: no feed named \"%s\" in "
				"%s\n'tributary check' lists the feeds.\n",
		    o->feed, cfg->path);
		return EXIT_USAGE;
	}
	if (tr_buf_adds(title, cfg->title ? cfg->title : "tributary") != 0)
		return EXIT_FAIL;
	if (o->tag)
		return tr_buf_printf(title, ": %s", o->tag) ? EXIT_FAIL : 0;
	if (o->feed) {
		f = tr_config_feed(cfg, o->feed);
		return tr_buf_printf(title, ": %s",
			   f->title ? f->title : f->name)
		    ? EXIT_FAIL
		    : 0;
	}
	return 0;
}

/* Runs the query through the renderer into out. */
static int
render_query(struct tr_buf *out, struct tr_store *st,
    const struct tr_config *cfg, const struct options *o, const char *title)
{
	struct tr_buf self, home, next;
	struct tr_render_doc doc;
	struct tr_render *r = NULL;
	struct tr_query q;
	char *cursor = NULL;
	int64_t gen = 0, changed = TR_DATE_NONE;
	int rc;

	tr_buf_init(&self, 8192);
	tr_buf_init(&home, 8192);
	tr_buf_init(&next, 16384);
	memset(&q, 0, sizeof(q));
	q.tag = o->tag;
	q.feed = o->feed;
	q.since = o->since;
	q.limit = o->limit;
	if ((rc = tr_render_base_url(&self, cfg)) != 0 ||
	    (rc = tr_render_base_url(&home, cfg)) != 0 ||
	    (rc = tr_buf_addc(&home, '/')) != 0 ||
	    (rc = tr_render_path(&self, o->fmt, o->tag, o->feed)) != 0 ||
	    (rc = tr_store_generation(st, &gen, &changed)) != 0)
		goto out;
	memset(&doc, 0, sizeof(doc));
	doc.title = title;
	doc.cfg = cfg; /* feeds' public URLs */
	doc.id = tr_buf_str(&self);
	doc.self_url = tr_buf_str(&self);
	doc.home_url = tr_buf_str(&home);
	doc.updated = changed > 0 ? changed : TR_DATE_NONE;
	if ((rc = tr_render_begin(&r, out, o->fmt, &doc)) != 0)
		goto out;
	if ((rc = tr_store_query(st, &q, tr_render_item, r, &cursor)) != 0) {
		int rrc = tr_render_end(r, NULL);

		rc = rrc ? rrc : rc; /* a cap says more than "aborted" */
		goto out;
	}
	/* The next page as the endpoint would serve it (the cursor is hex). */
	if (cursor) {
		rc = tr_buf_printf(&next, "%s?", tr_buf_str(&self));
		if (rc == 0 && o->limit)
			rc = tr_buf_printf(&next, "limit=%d&", o->limit);
		if (rc == 0 && o->since != TR_DATE_NONE) {
			char d[64];

			tr_date_format_rfc3339(d, sizeof(d), o->since);
			rc = tr_buf_printf(&next, "since=%s&", d);
		}
		if (rc == 0)
			rc = tr_buf_printf(&next, "before=%s", cursor);
	}
	if (rc == 0)
		rc = tr_render_end(r, cursor ? tr_buf_str(&next) : NULL);
out:
	tr_render_free(r);
	free(cursor);
	tr_buf_free(&self);
	tr_buf_free(&home);
	tr_buf_free(&next);
	return rc;
}

static int
write_out(const struct options *o, const struct tr_buf *out)
{
	if (o->output)
		return cli_write_atomic("export", o->output, out->data,
			   out->len) != 0
		    ? EXIT_FAIL
		    : EXIT_OK;
	if (fwrite(out->data, 1, out->len, stdout) != out->len ||
	    fflush(stdout) != 0) {
		fprintf(stderr, "tributary export: writing to stdout: %s\n",
		    strerror(errno));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int
cmd_export(struct cli *cli, int argc, char **argv)
{
	struct tr_config *cfg = NULL;
	struct tr_store *st = NULL;
	struct tr_buf out, title;
	struct options o;
	int rc, status = EXIT_FAIL;
	const char *damage = NULL;

	memset(&o, 0, sizeof(o));
	tr_buf_init(&out, EXPORT_MAX);
	tr_buf_init(&title, 4096);
	if (cli_wants_help(argc, argv, usage))
		return EXIT_OK;
	if ((rc = parse_options(&o, argc, argv)) != 0)
		return rc;
	if ((cfg = cli_load_config(cli)) == NULL)
		return EXIT_USAGE;
	if ((status = check_scope(&o, cfg, &title)) != 0)
		goto out;
	status = EXIT_FAIL;
	if (!tr_store_is_server(cfg->database) &&
	    access(cfg->database, F_OK) != 0) {
		/* OPML needs only the config; the store adds site links. */
		if (o.fmt != TR_FMT_OPML &&
		    !cli_store_exists("export", cfg->database))
			goto out;
	} else if ((rc = tr_store_open(&st, cfg->database,
			TR_STORE_READONLY | TR_STORE_CHECK)) != 0 ||
	    (rc = tr_store_use_config(st, cfg)) != 0) {
		/* The store's message names the file. */
		fprintf(stderr, "tributary export: %s\n",
		    st ? tr_store_errmsg(st) : tr_strerror(rc));
		goto out;
	}
	if (o.fmt == TR_FMT_OPML)
		rc = tr_render_opml(&out, cfg, st);
	else
		rc = render_query(&out, st, cfg, &o, tr_buf_str(&title));
	if (rc != 0) {
		fprintf(stderr, "tributary export: %s\n",
		    rc == TR_ETOOBIG ? "the document would pass 256 MB"
		    : st && rc != TR_ENOMEM ? tr_store_errmsg(st)
					    : tr_strerror(rc));
		goto out;
	}
	/* Damage (checked as the store opened, or met while reading):
	 * the last good export stays where it is. */
	if (st != NULL && tr_store_damaged(st, &damage)) {
		fprintf(stderr, "tributary export: %s\n", damage);
		goto out;
	}
	status = write_out(&o, &out);
out:
	tr_store_close(st);
	tr_config_free(cfg);
	tr_buf_free(&out);
	tr_buf_free(&title);
	return status;
}

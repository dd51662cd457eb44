/*
 * cmd_opml.c — tributary opml import: subscriptions from a feed reader's
 * OPML export, as feeds.conf sections.
 *
 * Without --append the sections are printed; with it, the new ones (a URL
 * not yet in the config, a name that does not collide) are added at the
 * end of the config file, whose existing text stays byte for byte, and
 * the file is replaced atomically.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "tributary/buf.h"
#include "tributary/config.h"
#include "tributary/error.h"
#include "tributary/opml.h"

#define CONFIG_MAX (64u << 20)

static const char usage[] =
    "usage: tributary [-c FILE] opml import [--append] OPML\n"
    "Prints a feeds.conf section for every subscription in the OPML file\n"
    "(- reads stdin): name from the title, url, title, and tags from the\n"
    "enclosing folders and categories. With --append, adds the new ones\n"
    "(URLs not yet in the config) to the end of the config file instead,\n"
    "keeping its text, comments and order.\n";

struct import {
	FILE *print;	  /* print mode: stdout */
	struct tr_buf *out; /* append mode: the sections */
	int failed;
};

static int
on_feed(const struct tr_opml_feed *f, void *arg)
{
	struct import *im = arg;
	struct tr_buf b;
	int rc;

	if (im->out)
		return tr_opml_format(im->out, f);
	tr_buf_init(&b, 1 << 20);
	if ((rc = tr_opml_format(&b, f)) == 0 &&
	    fwrite(b.data, 1, b.len, im->print) != b.len)
		rc = TR_EIO;
	tr_buf_free(&b);
	return rc;
}

/* Streams the file (or stdin for "-") through the importer. */
static int
read_opml(struct tr_opml *op, const char *path)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char chunk[65536];
	size_t n;
	int rc = 0;

	if (fp == NULL) {
		fprintf(stderr, "tributary opml: %s: %s\n", path,
		    strerror(errno));
		return TR_EIO;
	}
	while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		rc = tr_opml_parse(op, chunk, n, 0);
	if (rc == 0 && ferror(fp)) {
		fprintf(stderr, "tributary opml: %s: read error\n", path);
		rc = TR_EIO;
	} else if (rc == 0) {
		rc = tr_opml_parse(op, NULL, 0, 1);
	}
	if (rc != 0 && rc != TR_EIO)
		fprintf(stderr, "tributary opml: %s: %s\n", path,
		    rc == TR_EPARSE || rc == TR_ETOOBIG ? tr_opml_errmsg(op)
							: tr_strerror(rc));
	if (fp != stdin)
		fclose(fp);
	return rc;
}

/* Reads the whole config file (small: it is hand-written text). */
static int
slurp(struct tr_buf *b, const char *path)
{
	FILE *fp = fopen(path, "rb");
	char chunk[65536];
	size_t n;
	int rc = 0;

	if (fp == NULL) {
		fprintf(stderr, "tributary opml: %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		rc = tr_buf_add(b, chunk, n);
	if (rc != 0 || ferror(fp)) {
		fprintf(stderr, "tributary opml: %s: %s\n", path,
		    rc ? tr_strerror(rc) : "read error");
		rc = -1;
	}
	fclose(fp);
	return rc;
}

/* Adds the new sections to the end of the config file. */
static int
append(const struct cli *cli, const struct tr_buf *sections, size_t n)
{
	struct tr_buf text;
	char day[32];
	time_t now = time(NULL);
	struct tm tm;
	int rc = -1;

	tr_buf_init(&text, CONFIG_MAX);
	if (slurp(&text, cli->config_path) != 0)
		goto out;
	gmtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	if ((text.len > 0 && text.data[text.len - 1] != '\n' &&
		tr_buf_addc(&text, '\n') != 0) ||
	    tr_buf_printf(&text, "\n# %zu feed%s imported from OPML on %s\n",
		n, n == 1 ? "" : "s", day) != 0 ||
	    tr_buf_add(&text, sections->data, sections->len - 1) != 0) {
		fprintf(stderr, "tributary opml: %s: too large\n",
		    cli->config_path);
		goto out;
	}
	rc = cli_write_atomic("opml", cli->config_path, text.data, text.len);
out:
	tr_buf_free(&text);
	return rc;
}

static int
reserve_config(struct tr_opml *op, const struct tr_config *cfg)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < cfg->n_feeds && rc == 0; i++)
		rc = tr_opml_reserve(op, cfg->feeds[i].name, cfg->feeds[i].url);
	return rc;
}

static int
opml_import(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"append", no_argument, NULL, 'a'},
	    {NULL, 0, NULL, 0},
	};
	struct tr_config *cfg = NULL;
	struct tr_opml *op = NULL;
	struct import im = {stdout, NULL, 0};
	struct tr_buf sections;
	size_t found = 0, skipped = 0;
	int c, do_append = 0, status = EXIT_FAIL;

	tr_buf_init(&sections, CONFIG_MAX);
	while ((c = getopt_long(argc, argv, "a", opts, NULL)) != -1) {
		if (c != 'a')
			return cli_usage_error("opml", usage,
			    "unknown option: %s", argv[optind - 1]);
		do_append = 1;
	}
	if (optind + 1 != argc)
		return cli_usage_error("opml", usage, optind == argc
			? "import: no OPML file given"
			: "import: one OPML file expected");
	if (do_append) {
		if ((cfg = cli_load_config(cli)) == NULL)
			return EXIT_USAGE;
		im.out = &sections;
	}
	if (tr_opml_new(&op, on_feed, &im) != 0 ||
	    (cfg && reserve_config(op, cfg) != 0)) {
		fprintf(stderr, "tributary opml: out of memory\n");
		goto out;
	}
	if (read_opml(op, argv[optind]) != 0)
		goto out;
	tr_opml_counts(op, &found, &skipped);
	if (do_append && found > 0 && append(cli, &sections, found) != 0)
		goto out;
	if (do_append)
		fprintf(stderr, "tributary opml: %zu new feed%s added to %s, "
				"%zu skipped\n",
		    found, found == 1 ? "" : "s", cli->config_path, skipped);
	else
		fprintf(stderr, "tributary opml: %zu feed%s, %zu skipped\n",
		    found, found == 1 ? "" : "s", skipped);
	status = EXIT_OK;
out:
	tr_opml_free(op);
	tr_config_free(cfg);
	tr_buf_free(&sections);
	return status;
}

int
cmd_opml(struct cli *cli, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		if (argc >= 2)
			return fputs(usage, stdout) < 0 ? EXIT_FAIL : EXIT_OK;
		return cli_usage_error("opml", usage, "no subcommand given");
	}
	if (strcmp(argv[1], "import") != 0)
		return cli_usage_error("opml", usage, "unknown subcommand: %s",
		    argv[1]);
	if (cli_wants_help(argc - 1, argv + 1, usage))
		return EXIT_OK;
	return opml_import(cli, argc - 1, argv + 1);
}

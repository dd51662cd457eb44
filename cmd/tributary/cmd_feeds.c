/*
 * cmd_feeds.c — tributary feeds: every feed's polling state.
 *
 * Reads the database named in feeds.conf (it says so when there is none
 * yet, and creates nothing) as this feeds.conf sees it: its feeds,
 * titles and settings, new ones included; stored feeds that are not in
 * it are listed as removed. Prints one line per feed, or a JSON array
 * with --json. Writes nothing.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tributary/buf.h"
#include "tributary/date.h"
#include "tributary/error.h"
#include "tributary/json.h"
#include "tributary/store.h"
#include "tributary/url.h"

static const char usage[] =
    "usage: tributary [-c FILE] feeds [--json]\n"
    "Prints every feed's state, one line each: name, URL (and the URL it\n"
    "moved to), last HTTP status, last success, next check, consecutive\n"
    "errors, stored articles, and why it is disabled, as this config\n"
    "sees them (new feeds, titles and settings at once). Feeds removed\n"
    "from the config are listed as removed while their articles remain\n"
    "(deleted removed_keep after, or by 'tributary purge NAME').\n"
    "Exits 1 when the database is damaged (it is checked as it opens).\n"
    "  --json   a JSON array of objects instead (times in Unix seconds,\n"
    "           null when never)\n";

/* "2024-12-06T09:30:00Z", or word when t is 0 (never / now). */
static const char *
when(char *buf, size_t size, int64_t t, const char *word)
{
	if (t <= 0)
		return word;
	tr_date_format_rfc3339(buf, size, t);
	return buf;
}

/* A URL as it may be shown: without user, password or token. */
static char *
shown(const char *url)
{
	char *p = url ? tr_url_public(url) : NULL;

	return p ? p : strdup(url ? "(hidden)" : "");
}

static int
print_line(const struct tr_feed_state *fs, void *arg)
{
	const int64_t *removed_keep = arg;
	char ok[40], next[40];
	char *url = shown(fs->url), *moved = shown(fs->effective_url);

	printf("%s %s", fs->name, url ? url : "");
	if (fs->effective_url && strcmp(fs->effective_url, fs->url) != 0)
		printf(" (moved to %s)", moved ? moved : "");
	free(url);
	free(moved);
	printf(" status=%d last_success=%s next_check=%s errors=%lld "
	       "articles=%lld",
	    fs->last_status, when(ok, sizeof(ok), fs->last_success, "never"),
	    when(next, sizeof(next), fs->next_check, "now"),
	    (long long)fs->errors, (long long)fs->n_articles);
	if (fs->disabled)
		printf(" disabled=\"%s\"",
		    fs->disabled_reason ? fs->disabled_reason : "yes");
	if (!fs->enabled)
		printf(" disabled=\"enabled = no in the config\"");
	if (!fs->active)
		printf(" removed");
	/* When retention deletes it (removed_keep after it left). */
	if (!fs->active && fs->removed_at > 0)
		printf(" deleted_after=%s",
		    when(ok, sizeof(ok), fs->removed_at + *removed_keep,
			"now"));
	if (fs->errors > 0 && fs->last_error)
		printf(" last_error=\"%s\"", fs->last_error);
	putchar('\n');
	return ferror(stdout) ? TR_EIO : 0;
}

static void
member_time(struct tr_json *j, const char *key, int64_t t)
{
	tr_json_key(j, key);
	if (t > 0)
		tr_json_int(j, t);
	else
		tr_json_null(j);
}

/* One JSON object per feed, written out as it comes. */
static int
print_json(const struct tr_feed_state *fs, void *arg)
{
	struct tr_json *j = arg;
	struct tr_buf *b = j->out;
	char *url, *moved;

	tr_json_begin_object(j);
	tr_json_member_str(j, "name", fs->name);
	url = shown(fs->url);
	moved = fs->effective_url ? shown(fs->effective_url) : NULL;
	tr_json_member_str(j, "url", url);
	tr_json_key(j, "effective_url");
	tr_json_string(j, moved);
	free(url);
	free(moved);
	tr_json_key(j, "title");
	tr_json_string(j, fs->title);
	tr_json_key(j, "site_link");
	tr_json_string(j, fs->site_link);
	tr_json_member_int(j, "last_status", fs->last_status);
	member_time(j, "last_check", fs->last_check);
	member_time(j, "last_success", fs->last_success);
	member_time(j, "next_check", fs->next_check);
	member_time(j, "retry_after", fs->retry_after);
	tr_json_member_int(j, "errors", fs->errors);
	tr_json_key(j, "last_error");
	tr_json_string(j, fs->last_error);
	tr_json_member_bool(j, "disabled", fs->disabled);
	tr_json_key(j, "disabled_reason");
	tr_json_string(j, fs->disabled_reason);
	tr_json_member_bool(j, "enabled", fs->enabled);
	tr_json_member_bool(j, "active", fs->active);
	tr_json_member_int(j, "articles", fs->n_articles);
	member_time(j, "removed_at", fs->active ? 0 : fs->removed_at);
	tr_json_key(j, "etag");
	tr_json_string(j, fs->etag);
	tr_json_key(j, "last_modified");
	tr_json_string(j, fs->last_modified);
	tr_json_end_object(j);
	if (j->err)
		return j->err;
	fwrite(b->data ? b->data : "", 1, b->len, stdout);
	tr_buf_reset(b);
	return ferror(stdout) ? TR_EIO : 0;
}

/* Prints the feeds; returns 0 or a tr_err. */
static int
list(struct tr_store *st, const struct tr_config *cfg, int json)
{
	int64_t keep = cfg->removed_keep;
	struct tr_buf b;
	struct tr_json j;
	int rc;

	if (!json)
		return tr_store_feeds(st, print_line, &keep);
	tr_buf_init(&b, 1 << 20);
	tr_json_init(&j, &b, TR_JSON_PRETTY);
	tr_json_begin_array(&j);
	rc = tr_store_feeds(st, print_json, &j);
	if (rc == 0) {
		tr_json_end_array(&j);
		rc = j.err;
	}
	if (rc == 0) {
		fwrite(b.data ? b.data : "", 1, b.len, stdout);
		putchar('\n');
	}
	tr_buf_free(&b);
	return rc;
}

int
cmd_feeds(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	struct tr_config *cfg = NULL;
	struct tr_store *st = NULL;
	const char *damage = NULL;
	int c, json = 0, rc, status = EXIT_FAIL;

	if (cli_wants_help(argc, argv, usage))
		return EXIT_OK;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'j')
			return cli_usage_error("feeds", usage,
			    "unknown option: %s", argv[optind - 1]);
		json = 1;
	}
	if (optind < argc)
		return cli_usage_error("feeds", usage,
		    "unexpected argument: %s", argv[optind]);
	if ((cfg = cli_load_config(cli)) == NULL)
		return EXIT_USAGE;
	if (!cli_store_exists("feeds", cfg->database))
		goto out;
	/* TR_STORE_CHECK: damage anywhere in the file is reported here. */
	if ((rc = tr_store_open(&st, cfg->database,
		 TR_STORE_READONLY | TR_STORE_CHECK)) != 0 ||
	    (rc = tr_store_use_config(st, cfg)) != 0) {
		fprintf(stderr, "tributary feeds: %s\n",
		    st ? tr_store_errmsg(st) : tr_strerror(rc));
		goto out;
	}
	if ((rc = list(st, cfg, json)) != 0 || fflush(stdout) != 0) {
		fprintf(stderr, "tributary feeds: %s\n",
		    rc == TR_EIO || rc == 0 ? "write error on standard output"
		    : rc == TR_ESTORE	    ? tr_store_errmsg(st)
					    : tr_strerror(rc));
		goto out;
	}
	if (tr_store_damaged(st, &damage)) {
		fprintf(stderr, "tributary feeds: %s\n", damage);
		goto out;
	}
	status = EXIT_OK;
out:
	tr_store_close(st);
	tr_config_free(cfg);
	return status;
}

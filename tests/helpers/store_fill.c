/*
 * store_fill.c — fills a tributary database from feed files, the way one
 * fetch round would, for tests that need a store without the network:
 *
 *	store_fill CONFIG FEED=FILE [FEED=FILE ...]
 *
 * Loads CONFIG, opens (creating) its database, syncs the feeds table,
 * then parses each FILE with the real parser and lands its articles in
 * feed FEED in one batch. Prints "FEED: N added" per file; exits 1 on
 * any error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tributary/config.h"
#include "tributary/error.h"
#include "tributary/parse.h"
#include "tributary/store.h"

static int
on_article(const struct tr_article *a, void *arg)
{
	return tr_store_batch_add(arg, a);
}

static int
fill(struct tr_store *st, const char *feed, const char *file)
{
	struct tr_store_batch *b = NULL;
	struct tr_parser *p = NULL;
	struct tr_store_result res;
	struct tr_parse_opts opts;
	char chunk[65536];
	size_t n;
	FILE *fp;
	int rc;

	if ((fp = fopen(file, "rb")) == NULL) {
		perror(file);
		return -1;
	}
	memset(&opts, 0, sizeof(opts));
	if ((rc = tr_store_batch_begin(&b, st, feed)) != 0 ||
	    (rc = tr_parser_new(&p, &opts, on_article, b)) != 0)
		goto out;
	while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		rc = tr_parser_feed(p, chunk, n);
	if (rc == 0)
		rc = tr_parser_finish(p);
	if (rc == 0)
		rc = tr_store_batch_commit(b, tr_parser_meta(p), &res);
	if (rc == 0)
		printf("%s: %lld added\n", feed, (long long)res.added);
out:
	if (rc != 0)
		fprintf(stderr, "%s: %s (%s)\n", file, tr_strerror(rc),
		    tr_store_errmsg(st));
	tr_parser_free(p);
	tr_store_batch_free(b);
	fclose(fp);
	return rc;
}

int
main(int argc, char **argv)
{
	struct tr_config *cfg = NULL;
	struct tr_store *st = NULL;
	char *errors = NULL, *eq;
	int i, rc;

	if (argc < 2) {
		fprintf(stderr, "usage: store_fill CONFIG FEED=FILE ...\n");
		return 2;
	}
	if ((rc = tr_config_load(&cfg, &errors, argv[1])) != 0) {
		fprintf(stderr, "%s", errors ? errors : tr_strerror(rc));
		return 1;
	}
	if ((rc = tr_store_open(&st, cfg->database, 0)) != 0 ||
	    (rc = tr_store_sync_config(st, cfg)) != 0) {
		fprintf(stderr, "%s: %s\n", cfg->database,
		    st ? tr_store_errmsg(st) : tr_strerror(rc));
		goto out;
	}
	for (i = 2; i < argc && rc == 0; i++) {
		if ((eq = strchr(argv[i], '=')) == NULL) {
			fprintf(stderr, "expected FEED=FILE: %s\n", argv[i]);
			rc = -1;
			break;
		}
		*eq = '\0';
		rc = fill(st, argv[i], eq + 1);
	}
out:
	tr_store_close(st);
	tr_config_free(cfg);
	free(errors);
	return rc ? 1 : 0;
}

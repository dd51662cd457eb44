/*
 * fill_store.c — fills a store for the endpoint's integration tests.
 *
 *	fill_store CONFIG FEED FILE...	   parse each feed document FILE and
 *					   store its articles as FEED's
 *	fill_store CONFIG FEED -n N [-t T] store N made-up articles, the i-th
 *					   published at T + i hours
 *
 * The database is the config's; it is created and synced with the config
 * first. Prints "FEED: A added, U updated, S unchanged" and exits 0, or
 * prints the error and exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tributary/article.h"
#include "tributary/config.h"
#include "tributary/error.h"
#include "tributary/parse.h"
#include "tributary/store.h"

static int
add_cb(const struct tr_article *a, void *arg)
{
	return tr_store_batch_add(arg, a);
}

/* Parses the document at path into batch b; 0 or a tr_err. */
static int
parse_file(struct tr_store_batch *b, struct tr_store_result *res,
           const char *path)
{
	struct tr_parser *p = NULL;
	char buf[8192];
	size_t n;
	FILE *fp = fopen(path, "rb");
	int rc;

	if (fp == NULL) {
		perror(path);
		return TR_EIO;
	}
	if ((rc = tr_parser_new(&p, NULL, add_cb, b)) != 0)
		goto out;
	while (rc == 0 && (n = fread(buf, 1, sizeof(buf), fp)) > 0)
		rc = tr_parser_feed(p, buf, n);
	if (rc == 0)
		rc = tr_parser_finish(p);
	if (rc == 0)
		rc = tr_store_batch_commit(b, tr_parser_meta(p), res);
out:
	if (rc != 0)
		fprintf(stderr, "fill_store: %s: %s\n", path, tr_strerror(rc));
	tr_parser_free(p);
	fclose(fp);
	return rc;
}

/* Stores n made-up articles in batch b. */
static int
synthetic(struct tr_store_batch *b, struct tr_store_result *res,
          const char *feed, long n, long long t0)
{
	struct tr_article a;
	char id[256], link[256], title[256], body[512];
	long i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		tr_article_init(&a);
		snprintf(id, sizeof(id), "urn:test:%s:%ld", feed, i);
		snprintf(link, sizeof(link), "https://example.org/%s/%ld", feed,
		         i);
		snprintf(title, sizeof(title), "%s article %ld", feed, i);
		snprintf(body, sizeof(body),
		         "<p>Article %ld of %s. Lorem ipsum dolor sit amet, "
		         "consectetur adipiscing elit.</p>",
		         i, feed);
		a.id = id;
		a.guid = id;
		a.link = link;
		a.title = title;
		a.summary = body;
		a.content = body;
		a.published = t0 + i * 3600;
		rc = tr_store_batch_add(b, &a);
	}
	if (rc == 0)
		rc = tr_store_batch_commit(b, NULL, res);
	return rc;
}

int
main(int argc, char **argv)
{
	struct tr_config *cfg = NULL;
	struct tr_store *st = NULL;
	struct tr_store_batch *b = NULL;
	struct tr_store_result res = {0}, one;
	char *errors = NULL;
	int i, rc, status = 1;

	if (argc < 4) {
		fprintf(stderr, "usage: fill_store CONFIG FEED FILE...\n"
		                "       fill_store CONFIG FEED -n N [-t T]\n");
		return 2;
	}
	if (tr_config_load(&cfg, &errors, argv[1]) != 0) {
		fprintf(stderr, "%s", errors ? errors : "config error\n");
		free(errors);
		return 1;
	}
	if ((rc = tr_store_open(&st, cfg->database, 0)) != 0 ||
	    (rc = tr_store_sync_config(st, cfg)) != 0) {
		fprintf(stderr, "fill_store: %s: %s\n", cfg->database,
		        st ? tr_store_errmsg(st) : tr_strerror(rc));
		goto out;
	}
	for (i = 3; i < argc; i++) {
		memset(&one, 0, sizeof(one));
		if ((rc = tr_store_batch_begin(&b, st, argv[2])) != 0) {
			fprintf(stderr, "fill_store: %s\n",
			        tr_store_errmsg(st));
			goto out;
		}
		if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
			long long t0 = 1700000000;

			if (i + 3 < argc && strcmp(argv[i + 2], "-t") == 0)
				t0 = atoll(argv[i + 3]);
			rc = synthetic(b, &one, argv[2], atol(argv[i + 1]), t0);
			i = argc;
		} else {
			rc = parse_file(b, &one, argv[i]);
		}
		tr_store_batch_free(b);
		b = NULL;
		if (rc != 0) {
			fprintf(stderr, "fill_store: %s\n",
			        tr_store_errmsg(st));
			goto out;
		}
		res.added += one.added;
		res.updated += one.updated;
		res.unchanged += one.unchanged;
	}
	printf("%s: %lld added, %lld updated, %lld unchanged\n", argv[2],
	       (long long)res.added, (long long)res.updated,
	       (long long)res.unchanged);
	status = 0;
out:
	tr_store_close(st);
	tr_config_free(cfg);
	return status;
}

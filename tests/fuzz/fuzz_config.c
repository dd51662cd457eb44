/*
 * fuzz_config.c — libFuzzer target for the feeds.conf loader.
 *
 * The loader reads a file by path, so each input is written to an
 * in-memory file (memfd) and loaded through /proc/self/fd/N. Any input
 * must give either a config or a non-empty "file:line: message" text,
 * and a feed's public address (no public_url set) never carries a user,
 * password or token.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tributary/config.h"
#include "tributary/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tr_config *cfg = NULL;
	char *errors = NULL, path[64];
	int fd, rc;

	if ((fd = memfd_create("feeds.conf", 0)) < 0)
		return 0;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	rc = tr_config_load(&cfg, &errors, path);
	if (rc == 0) {
		if (cfg == NULL || errors != NULL)
			abort();
		for (size_t i = 0; i < cfg->n_feeds; i++) {
			const struct tr_feed_conf *f = &cfg->feeds[i];
			char *pub;

			if (f->url == NULL ||
			    tr_config_feed(cfg, f->name) == NULL)
				abort();
			pub = tr_config_public_url(f, NULL);
			if (pub != NULL && f->public_url == NULL &&
			    tr_url_has_secret(pub))
				abort();
			if (pub != NULL && f->is_private)
				abort();
			free(pub);
		}
	} else if (cfg != NULL || errors == NULL || errors[0] == '\0') {
		abort();
	}
	tr_config_free(cfg);
	free(errors);
	close(fd);
	return 0;
}

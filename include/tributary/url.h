/*
 * url.h — URL resolution and canonical links, on libcurl's URL API.
 */
#ifndef TRIBUTARY_URL_H
#define TRIBUTARY_URL_H

/*
 * Resolves ref against base (RFC 3986 §5) and returns a malloc'ed
 * absolute URL. base may be NULL; then ref must be absolute. Returns NULL
 * when the result would not be a valid absolute URL.
 * Whitespace around base and ref is ignored. Absolute "scheme://" URLs of
 * any scheme pass (normalized by curl); opaque URIs without an authority
 * ("mailto:a@b", "tag:...", "urn:...") pass unchanged, except for the
 * schemes that need one ("http:g" gives NULL); javascript:, vbscript: and
 * data: always give NULL.
 */
char *tr_url_resolve(const char *base, const char *ref);

/*
 * The canonical form of a link for cross-feed dedup: scheme and host
 * lowercased, default port dropped, fragment and tracking parameters
 * (utm_*, fbclid, gclid, mc_cid, mc_eid, ...) dropped. malloc'ed, or NULL
 * when link is not an absolute http(s) URL.
 */
char *tr_url_canonical(const char *link);

/* The scheme ("http", "https", "file", ...) lowercased in out, or "". */
void tr_url_scheme(char *out, unsigned size, const char *url);

#endif

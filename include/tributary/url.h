/*
 * url.h — URL resolution and canonical links, on libcurl's URL API.
 */
#ifndef TRIBUTARY_URL_H
#define TRIBUTARY_URL_H

#include "tributary/buf.h"

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

/*
 * The form of a feed URL that may be shown to anyone: the user name and
 * password (RFC 3986 §3.2.1 userinfo) removed, and every query parameter
 * whose name says it carries a credential (token, key, auth, signature,
 * password, session, ...; see secret_params in url.c) removed, the other
 * parameters kept in order. malloc'ed; NULL when url is not a URL libcurl
 * can parse (then nothing of it may be shown) or out of memory.
 */
char *tr_url_public(const char *url);

/*
 * Non-zero when url carries something tr_url_public() removes: a user
 * name, a password or a secret-looking query parameter.
 */
int tr_url_has_secret(const char *url);

/*
 * Appends the decoded path (as the endpoint received it: "/tags/Tech
 * News.atom") to out percent-encoded for a URL (RFC 3986 §3.3): every
 * byte but the unreserved ones, the sub-delims, ':', '@' and the '/'
 * separators becomes %XX, '%' included. 0, TR_ENOMEM or TR_ETOOBIG.
 */
int tr_url_path_encode(struct tr_buf *out, const char *path);

/* The byte a percent-encoding at p stands for ("%2F": 0x2F, either case
 * of digits), or -1 when p does not start one. */
int tr_url_pct_byte(const char *p);

/* The scheme ("http", "https", "file", ...) lowercased in out, or "". */
void tr_url_scheme(char *out, unsigned size, const char *url);

#endif

/*
 * url.c — URL resolution (RFC 3986 §5) and canonical links, on libcurl's
 * URL API (curl_url). curl parses, resolves references, removes dot
 * segments and reassembles; this file only picks the parts.
 *
 * Scheme policy of tr_url_resolve():
 *   - hierarchical URLs with an authority ("scheme://host/...") of any
 *     scheme curl can parse pass through, normalized by curl;
 *   - opaque absolute URIs curl cannot parse because they have no
 *     authority ("mailto:a@b", "tag:x.org,2024:1", "urn:uuid:...", the
 *     RFC's "g:h") are returned verbatim (trimmed), since feeds use them
 *     as ids and author links; but the schemes that need an authority
 *     (http, https, ftp, ...) never pass that way: "http:g" is NULL;
 *   - javascript:, vbscript: and data: are always NULL: a feed link is
 *     rendered into HTML later, and these would run or embed content.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "tributary/url.h"

/* Schemes never returned (script or inline content in an href). */
static const char *const refused_schemes[] = {"javascript", "vbscript", "data"};

/* Schemes that need "//authority"; never accepted in an opaque form. */
static const char *const authority_schemes[] = {
    "http", "https",  "ftp",     "ftps", "ws", "wss",
    "file", "gopher", "gophers", "sftp", "scp"};

/*
 * Query parameters dropped by tr_url_canonical(): click and campaign
 * trackers that vary per share but name the same article. Entries ending
 * in '*' are prefixes. Compared without regard to ASCII case.
 */
static const char *const tracking_params[] = {
    "utm_*",   "fbclid",   "gclid",       "gclsrc",     "dclid",  "msclkid",
    "mc_cid",  "mc_eid",   "_ga",         "_gl",        "yclid",  "igshid",
    "ref_src", "ref_url",  "twclid",      "ttclid",     "_hsenc", "_hsmi",
    "mkt_tok", "wickedid", "oly_anon_id", "oly_enc_id", "vero_id"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Query parameters tr_url_public() removes because their value is a
 * credential: private podcast and newsletter feeds, signed S3/GCS URLs
 * and API feeds put one in the query. A name is compared lowercased with
 * '-', '_' and '.' taken out ("X-Amz-Signature" is "xamzsignature"):
 * equal to an entry of the first list, or containing one of the second.
 * Erring on the side of removal costs a published URL that no longer
 * works as is, never a leaked secret.
 */
static const char *const secret_names[] = {
    "key", "auth", "sig", "pass", "pwd", "code", "hash", "sid", "jwt",
    "otp", "ticket"};
static const char *const secret_parts[] = {
    "token",      "secret",    "passw",  "signature", "apikey",
    "accesskey",  "privatekey", "session", "credential", "authkey",
    "authorization", "bearer",  "oauth", "secure", "subscriber",
    "feedkey", "userkey", "sessid", "hmac"};

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* A malloc'ed copy of s without leading and trailing whitespace. */
static char *
trimmed_copy(const char *s)
{
	size_t n;
	char *r;

	while (is_space((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_space((unsigned char)s[n - 1]))
		n--;
	r = malloc(n + 1);
	if (r) {
		memcpy(r, s, n);
		r[n] = '\0';
	}
	return r;
}

/*
 * Length of the scheme at the start of s (RFC 3986 §3.1: ALPHA *( ALPHA /
 * DIGIT / "+" / "-" / "." ) ":"), without the colon, or 0 when s does not
 * start with one. A hand-written scan because curl_url refuses URIs
 * without an authority, so it cannot report their scheme.
 */
static size_t
scheme_len(const char *s)
{
	size_t i;

	if (!is_alpha((unsigned char)s[0]))
		return 0;
	for (i = 1; s[i]; i++) {
		int c = (unsigned char)s[i];

		if (c == ':')
			return i;
		if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' &&
		    c != '.')
			return 0;
	}
	return 0;
}

static int
in_list(const char *const *list, size_t n, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(list[i]) == len && strncasecmp(list[i], s, len) == 0)
			return 1;
	return 0;
}

/* A copy of an opaque absolute URI (see the policy above), or NULL. */
static char *
opaque_uri(const char *ref, size_t slen)
{
	const char *p;

	if (in_list(authority_schemes, NELEM(authority_schemes), ref, slen))
		return NULL;
	if (ref[slen + 1] == '\0')
		return NULL;
	for (p = ref; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return NULL;
	return strdup(ref);
}

/* curl_url_get(URL) as a malloc'ed string (curl's is freed with curl_free). */
static char *
get_url(CURLU *h)
{
	char *u = NULL, *r = NULL;

	if (curl_url_get(h, CURLUPART_URL, &u, 0) != CURLUE_OK)
		return NULL;
	r = strdup(u);
	curl_free(u);
	return r;
}

/*
 * Is ref an absolute http(s) URL that curl_url would hand back unchanged?
 * Most feed links are, and skipping the curl_url round trip (a handle,
 * a parse, a reassembly, three allocations) for them is a large part of
 * the parser's time. The test is deliberately narrow; anything outside it
 * goes through curl:
 *   - "http://" or "https://" in lower case (curl lowercases the scheme);
 *   - a host of lower-case letters, digits and '-' in dot-separated
 *     labels, its last label starting with a letter (so never an IPv4
 *     address curl would normalize), no port, no user info;
 *   - then '/', and only printable ASCII that curl neither encodes nor
 *     rewrites: no whitespace or controls, none of "\"<>[]^`{|}" and no
 *     '\\';
 *   - no "/." anywhere (dot segments, which curl removes), no "%2e" or
 *     "%2E" (encoded dots), no empty query or fragment ("?#", a trailing
 *     '?' or '#'), a single '#'.
 * tests/unit/test_url.c compares this with curl's result on such URLs.
 */
static int
is_plain_http_url(const char *u)
{
	const char *p = u, *label = NULL;
	int hashes = 0;

	if (strncmp(p, "http://", 7) == 0)
		p += 7;
	else if (strncmp(p, "https://", 8) == 0)
		p += 8;
	else
		return 0;
	for (label = p;; p++) {
		if ((*p >= 'a' && *p <= 'z') || is_digit(*p) ||
		    (*p == '-' && p > label))
			continue;
		if (p == label)
			return 0; /* an empty label */
		if (*p != '.')
			break;
		label = p + 1;
	}
	if (*p != '/' || !(*label >= 'a' && *label <= 'z'))
		return 0;
	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;

		switch (c) {
		case '"':
		case '<':
		case '>':
		case '[':
		case ']':
		case '^':
		case '`':
		case '{':
		case '|':
		case '}':
		case '\\':
			return 0;
		default:
			if (c <= ' ' || c >= 0x7f)
				return 0;
		}
		if (c == '/' && p[1] == '.')
			return 0;
		if (c == '%' && p[1] == '2' && (p[2] == 'e' || p[2] == 'E'))
			return 0;
		if (c == '#' && (++hashes > 1 || p[1] == '\0'))
			return 0;
		if (c == '?' && (p[1] == '#' || p[1] == '\0'))
			return 0;
	}
	return p - u < 8000;
}

#define SET_FLAGS (CURLU_NON_SUPPORT_SCHEME | CURLU_URLENCODE)

/*
 * Resolves ref against base (RFC 3986 §5.2) with curl_url_set(), which
 * resolves a relative URL against the one already in the handle. Two
 * cases curl 7.88 gets wrong are done on the parsed base instead: an
 * empty reference is the base without its fragment (§5.2.2), and a
 * fragment-only reference replaces only the fragment ("#s" on
 * "http://a/b/c/d;p?q" is "http://a/b/c/d;p?q#s", §5.4.1).
 */
char *
tr_url_resolve(const char *base, const char *ref)
{
	CURLU *h = NULL;
	char *r = NULL, *tb = NULL, *tr = NULL;
	size_t slen;

	if (ref == NULL || (tr = trimmed_copy(ref)) == NULL)
		goto out;
	if (is_plain_http_url(tr)) {
		/* Absolute and already in curl's form (§5.2.2). */
		r = tr;
		tr = NULL;
		goto out;
	}
	slen = scheme_len(tr);
	if (slen && in_list(refused_schemes, NELEM(refused_schemes), tr, slen))
		goto out;
	if ((h = curl_url()) == NULL)
		goto out;
	if (slen) {
		/* Absolute: the base plays no part (§5.2.2). */
		if (curl_url_set(h, CURLUPART_URL, tr, SET_FLAGS) == CURLUE_OK)
			r = get_url(h);
		else
			r = opaque_uri(tr, slen);
		goto out;
	}
	if (base == NULL || (tb = trimmed_copy(base)) == NULL)
		goto out;
	slen = scheme_len(tb);
	if (slen == 0 ||
	    in_list(refused_schemes, NELEM(refused_schemes), tb, slen) ||
	    curl_url_set(h, CURLUPART_URL, tb, SET_FLAGS) != CURLUE_OK)
		goto out;
	if (tr[0] == '\0' || tr[0] == '#') {
		if (curl_url_set(h, CURLUPART_FRAGMENT, tr[0] ? tr + 1 : NULL,
		                 CURLU_URLENCODE) != CURLUE_OK)
			goto out;
	} else if (curl_url_set(h, CURLUPART_URL, tr, SET_FLAGS) != CURLUE_OK)
		goto out;
	r = get_url(h);
out:
	curl_url_cleanup(h);
	free(tb);
	free(tr);
	return r;
}

/* Is the query parameter name[0..len) a tracker (see tracking_params)? */
static int
is_tracking_param(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NELEM(tracking_params); i++) {
		const char *t = tracking_params[i];
		size_t tl = strlen(t);

		if (t[tl - 1] == '*') {
			if (len >= tl - 1 && strncasecmp(t, name, tl - 1) == 0)
				return 1;
		} else if (len == tl && strncasecmp(t, name, len) == 0)
			return 1;
	}
	return 0;
}

/* Is the query parameter name[0..len) a credential (see secret_names)? */
static int
is_secret_param(const char *name, size_t len)
{
	char n[64];
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		char c = name[i];

		if (c == '-' || c == '_' || c == '.')
			continue;
		if (o == sizeof(n) - 1)
			return 1; /* a 60-letter name: not worth the risk */
		n[o++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	n[o] = '\0';
	for (i = 0; i < NELEM(secret_names); i++)
		if (strcmp(n, secret_names[i]) == 0)
			return 1;
	for (i = 0; i < NELEM(secret_parts); i++)
		if (strstr(n, secret_parts[i]) != NULL)
			return 1;
	return 0;
}

/*
 * The query q without the parameters drop() names and without empty ones,
 * other parameters kept in order, as a malloc'ed string ("" when nothing
 * is left). curl has no per-parameter API, so this walks the
 * '&'-separated list; the names are compared raw (trackers are plain
 * ASCII).
 */
static char *
filter_query_by(const char *q, int (*drop)(const char *, size_t))
{
	size_t n = strlen(q), o = 0;
	char *r = malloc(n + 1);
	const char *p = q;

	if (r == NULL)
		return NULL;
	while (*p) {
		size_t plen = strcspn(p, "&"), nlen = strcspn(p, "&=");

		if (nlen > plen)
			nlen = plen;
		if (plen > 0 && !drop(p, nlen)) {
			if (o > 0)
				r[o++] = '&';
			memcpy(r + o, p, plen);
			o += plen;
		}
		p += plen;
		if (*p == '&')
			p++;
	}
	r[o] = '\0';
	return r;
}

static char *
filter_query(const char *q)
{
	return filter_query_by(q, is_tracking_param);
}

/* Lowercases the host part in place in the handle (RFC 3986 §6.2.2.1). */
static int
lower_host(CURLU *h)
{
	char *host = NULL, *p;
	int rc = -1;

	if (curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		return -1;
	for (p = host; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if (curl_url_set(h, CURLUPART_HOST, host, 0) == CURLUE_OK)
		rc = 0;
	curl_free(host);
	return rc;
}

static int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
tr_url_pct_byte(const char *p)
{
	int hi, lo;

	if (p[0] != '%' || (hi = hex_digit(p[1])) < 0 ||
	    (lo = hex_digit(p[2])) < 0)
		return -1;
	return hi * 16 + lo;
}

/* RFC 3986 §2.3's unreserved characters. */
static int
is_unreserved(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

/*
 * RFC 3986 §6.2.2.2: a percent-encoding of an unreserved character is
 * the character ("%7Euser" is "~user", "%41" is "A"), so that every
 * spelling of one link has one key; a '%' that starts no encoding is
 * "%25", so that a decoded character never makes a new one ("%%33" is
 * "%253", not "%3"). Returns a new string, or NULL. libcurl has no call
 * for it; it writes the other percent-encodings with lowercase digits,
 * which does §6.2.2.1's part (one case for all) when the parts are set
 * again.
 */
static char *
decode_unreserved(const char *s)
{
	char *r = malloc(strlen(s) * 3 + 1), *w = r;
	int c;

	if (r == NULL)
		return NULL;
	for (; *s; s++) {
		if (*s != '%') {
			*w++ = *s;
		} else if ((c = tr_url_pct_byte(s)) < 0) {
			memcpy(w, "%25", 3);
			w += 3;
		} else if (is_unreserved(c)) {
			*w++ = (char)c;
			s += 2;
		} else {
			memcpy(w, s, 3);
			w += 3;
			s += 2;
		}
	}
	*w = '\0';
	return r;
}

/* The path and the query with their percent-encodings normalized. */
static int
normalize_parts(CURLU *h)
{
	static const CURLUPart parts[] = {CURLUPART_PATH, CURLUPART_QUERY};
	char *v = NULL, *d;
	CURLUcode uc;
	size_t i;

	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		uc = curl_url_get(h, parts[i], &v, 0);
		if (uc == CURLUE_NO_QUERY)
			continue;
		if (uc != CURLUE_OK)
			return -1;
		if (strchr(v, '%')) {
			if ((d = decode_unreserved(v)) == NULL)
				uc = CURLUE_OUT_OF_MEMORY;
			else
				uc = curl_url_set(h, parts[i], d, 0);
			free(d);
		}
		curl_free(v);
		if (uc != CURLUE_OK)
			return -1;
	}
	return 0;
}

/* Replaces the query with its filtered form, or removes it when empty. */
static int
clean_query(CURLU *h)
{
	char *q = NULL, *f = NULL;
	CURLUcode uc;

	uc = curl_url_get(h, CURLUPART_QUERY, &q, 0);
	if (uc == CURLUE_NO_QUERY)
		return 0;
	if (uc != CURLUE_OK)
		return -1;
	f = filter_query(q);
	curl_free(q);
	if (f == NULL)
		return -1;
	uc = curl_url_set(h, CURLUPART_QUERY, f[0] ? f : NULL, 0);
	free(f);
	return uc == CURLUE_OK ? 0 : -1;
}

/*
 * The canonical form of an absolute http(s) link (see url.h). The scheme
 * comes out lowercased and dot segments removed by curl; the host is
 * lowercased here; the default port (80 for http, 443 for https) is
 * dropped by CURLU_NO_DEFAULT_PORT; percent-encodings are normalized;
 * the fragment and tracking parameters go; the path is otherwise kept as
 * written.
 */
static char *
canonical_once(const char *link)
{
	CURLU *h = NULL;
	char *t = NULL, *scheme = NULL, *u = NULL, *r = NULL;

	if (link == NULL || (t = trimmed_copy(link)) == NULL)
		goto out;
	if ((h = curl_url()) == NULL)
		goto out;
	if (!scheme_len(t) ||
	    curl_url_set(h, CURLUPART_URL, t, CURLU_URLENCODE) != CURLUE_OK)
		goto out;
	if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
		goto out;
	if (lower_host(h) != 0 || normalize_parts(h) != 0 ||
	    clean_query(h) != 0 ||
	    curl_url_set(h, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(h, CURLUPART_URL, &u, CURLU_NO_DEFAULT_PORT) !=
	    CURLUE_OK)
		goto out;
	r = strdup(u);
out:
	curl_free(u);
	curl_free(scheme);
	curl_url_cleanup(h);
	free(t);
	return r;
}

/*
 * libcurl normalizes a host while parsing, before percent-decoding it:
 * "http://%31/" comes out as "http://1/", which a second parse turns into
 * "http://0.0.0.1/". A canonical link must be a fixed point (the same
 * article must get the same key whichever form a feed used), so the
 * result is parsed again until it no longer changes. A link that comes
 * out as it went in (most of them: feeds mostly give canonical links) is
 * a fixed point already, as canonical_once() is a function of its
 * input: it is parsed once.
 */
char *
tr_url_canonical(const char *link)
{
	char *r = canonical_once(link), *again;
	int i;

	if (r != NULL && strcmp(r, link) == 0)
		return r;
	for (i = 0; r != NULL && i < 3; i++) {
		if ((again = canonical_once(r)) == NULL || strcmp(again, r) == 0) {
			free(again);
			break;
		}
		free(r);
		r = again;
	}
	return r;
}

/*
 * Writes the scheme of url, lowercased, to out; "" when url has no
 * scheme or the scheme does not fit in size - 1 bytes.
 */
void
tr_url_scheme(char *out, unsigned size, const char *url)
{
	size_t n, i;

	if (size == 0)
		return;
	out[0] = '\0';
	if (url == NULL)
		return;
	while (is_space((unsigned char)*url))
		url++;
	n = scheme_len(url);
	if (n == 0 || n >= size)
		return;
	for (i = 0; i < n; i++) {
		char c = url[i];

		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	out[n] = '\0';
}

/*
 * Parses url into a new handle and removes from it what may not be shown
 * (see tr_url_public). *found is set when something was removed. NULL
 * when url does not parse or out of memory.
 */
static CURLU *
public_handle(const char *url, int *found)
{
	CURLU *h = NULL;
	char *q = NULL, *part = NULL, *f = NULL;
	static const CURLUPart userinfo[] = {CURLUPART_USER, CURLUPART_PASSWORD,
	    CURLUPART_OPTIONS};
	size_t i;
	CURLUcode uc;

	*found = 0;
	if (url == NULL || (h = curl_url()) == NULL)
		return NULL;
	if (curl_url_set(h, CURLUPART_URL, url,
	        CURLU_NON_SUPPORT_SCHEME | CURLU_URLENCODE) != CURLUE_OK)
		goto fail;
	for (i = 0; i < NELEM(userinfo); i++) {
		if (curl_url_get(h, userinfo[i], &part, 0) == CURLUE_OK) {
			*found = 1;
			curl_free(part);
			part = NULL;
			if (curl_url_set(h, userinfo[i], NULL, 0) != CURLUE_OK)
				goto fail;
		}
	}
	uc = curl_url_get(h, CURLUPART_QUERY, &q, 0);
	if (uc == CURLUE_NO_QUERY)
		return h;
	if (uc != CURLUE_OK || (f = filter_query_by(q, is_secret_param)) == NULL)
		goto fail;
	if (strcmp(f, q) != 0) {
		*found = 1;
		if (curl_url_set(h, CURLUPART_QUERY, f[0] ? f : NULL, 0) !=
		    CURLUE_OK)
			goto fail;
	}
	curl_free(q);
	free(f);
	return h;
fail:
	curl_free(q);
	free(f);
	curl_url_cleanup(h);
	return NULL;
}

char *
tr_url_public(const char *url)
{
	CURLU *h;
	char *u = NULL, *r = NULL;
	int found;

	if ((h = public_handle(url, &found)) == NULL)
		return NULL;
	if (curl_url_get(h, CURLUPART_URL, &u, 0) == CURLUE_OK)
		r = strdup(u);
	curl_free(u);
	curl_url_cleanup(h);
	/*
	 * libcurl may write a URL that reads back differently: "file:c@?q"
	 * becomes "file://c@", whose path is now a user name. What would
	 * show a credential when read again is not shown at all.
	 */
	if (r != NULL && tr_url_has_secret(r)) {
		free(r);
		r = NULL;
	}
	return r;
}

int
tr_url_has_secret(const char *url)
{
	CURLU *h;
	int found = 0;

	if ((h = public_handle(url, &found)) == NULL)
		return url != NULL && strchr(url, '@') != NULL;
	curl_url_cleanup(h);
	return found;
}

int
tr_url_path_encode(struct tr_buf *out, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	char e[3] = {'%', 0, 0};
	int rc = 0;

	for (; *path && rc == 0; path++) {
		unsigned char c = (unsigned char)*path;

		if (is_alpha(c) || is_digit(c) || strchr("-._~!$&'()*+,;=:@/",
		        c) != NULL) {
			rc = tr_buf_addc(out, (char)c);
		} else {
			e[1] = hex[c >> 4];
			e[2] = hex[c & 15];
			rc = tr_buf_add(out, e, 3);
		}
	}
	return rc;
}

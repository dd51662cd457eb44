/*
 * config.c — reads feeds.conf with inih and validates every value.
 *
 * inih splits lines into sections and key = value pairs. Debian's build
 * of inih does not pass line numbers to the handler, so the file is fed
 * to ini_parse_stream() through a reader that counts lines: the handler
 * for a key always runs right after the reader returned its line. The
 * reader also checks each line's shape and handles section headers itself,
 * so that empty sections and every syntax error are seen, not only the
 * first.
 *
 * Long lines: Debian builds inih with a fixed line buffer (INI_MAX_LINE,
 * 200 bytes, no realloc), too short for the signed and token-carrying
 * URLs of private feeds. The reader reads whole lines itself (up to
 * MAX_LINE); a key line that does not fit inih's buffer is handed to inih
 * as "KEY=" plus a marker, and its value, cut the way inih cuts values
 * (an inline comment is a ';' after whitespace; then trimmed), waits in
 * the loader for the handler. The file's format is the same either way.
 *
 * The reader also refuses NUL bytes (an error at file:line: the line
 * would otherwise end silently at the NUL), caps the file at MAX_FILE, and
 * tr_config_load() reads only regular files and pipes, so "-c /dev/zero"
 * or "-c /tmp" is a clear error rather than a hang or an empty config.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <ini.h>

#include "tributary/buf.h"
#include "tributary/config.h"
#include "tributary/error.h"
#include "tributary/escape.h"
#include "tributary/hash.h"
#include "tributary/html.h"
#include "tributary/store.h"
#include "tributary/url.h"

#define MAX_ERRORS_TEXT (64 * 1024)
#define MAX_LINE (64 * 1024)	     /* bytes of one line */
#define MAX_FILE (64 * 1024 * 1024) /* bytes of the whole file */
#define MAX_TAG 64		     /* bytes of one tag */
/* The value inih sees for a line too long for it (see above). */
#define LONG_MARK "\x01long\x01"
#define DEFAULT_UA "tributary/" TR_VERSION " (+https://tributary.dev)"

enum section_kind { SEC_NONE, SEC_GLOBAL, SEC_FEED, SEC_BAD };
enum value_kind { V_STRING, V_PATH, V_URL, V_LISTEN, V_DURATION, V_SIZE,
	V_COUNT, V_BOOL, V_TAGS, V_PUBLIC_URL, V_URL_FILE, V_SANITIZE,
	V_HOSTS, V_DATABASE };

/* One setting: where it may appear, its type, its range and its field. */
struct key {
	const char *name;
	enum section_kind where;
	enum value_kind kind;
	int64_t min, max;
	size_t off; /* offset in struct tr_config or struct tr_feed_conf */
};

#define G(f) offsetof(struct tr_config, f)
#define F(f) offsetof(struct tr_feed_conf, f)
#define DAY (24 * 3600)

static const struct key keys[] = {
    {"database", SEC_GLOBAL, V_DATABASE, 0, 0, G(database)},
    {"listen", SEC_GLOBAL, V_LISTEN, 0, 0, G(listen)},
    {"title", SEC_GLOBAL, V_STRING, 0, 0, G(title)},
    {"base_url", SEC_GLOBAL, V_URL, 0, 0, G(base_url)},
    {"user_agent", SEC_GLOBAL, V_STRING, 0, 0, G(user_agent)},
    {"interval", SEC_GLOBAL, V_DURATION, 60, 30 * DAY, G(interval)},
    {"min_interval", SEC_GLOBAL, V_DURATION, 60, 30 * DAY, G(min_interval)},
    {"max_interval", SEC_GLOBAL, V_DURATION, 60, 30 * DAY, G(max_interval)},
    {"concurrency", SEC_GLOBAL, V_COUNT, 1, 1024, G(concurrency)},
    {"per_host", SEC_GLOBAL, V_COUNT, 1, 64, G(per_host)},
    {"connect_timeout", SEC_GLOBAL, V_DURATION, 1, 600, G(connect_timeout)},
    {"timeout", SEC_GLOBAL, V_DURATION, 1, 3600, G(timeout)},
    {"low_speed_limit", SEC_GLOBAL, V_SIZE, 0, 1 << 30, G(low_speed_limit)},
    {"low_speed_time", SEC_GLOBAL, V_DURATION, 1, 3600, G(low_speed_time)},
    {"max_body", SEC_GLOBAL, V_SIZE, 1024, (int64_t)1 << 32, G(max_body)},
    {"max_redirects", SEC_GLOBAL, V_COUNT, 0, 20, G(max_redirects)},
    {"retry_after_max", SEC_GLOBAL, V_DURATION, 60, 30 * DAY,
	G(retry_after_max)},
    {"keep_days", SEC_GLOBAL, V_COUNT, 0, 100000, G(keep_days)},
    {"keep_items", SEC_GLOBAL, V_COUNT, 0, 100000000, G(keep_items)},
    {"max_per_feed", SEC_GLOBAL, V_COUNT, 0, 1000, G(max_per_feed)},
    {"removed_keep", SEC_GLOBAL, V_DURATION, 0, 3650 * (int64_t)DAY,
	G(removed_keep)},
    {"allow_private_redirects", SEC_GLOBAL, V_BOOL, 0, 1,
	G(allow_private_redirects)},
    {"clients_per_address", SEC_GLOBAL, V_COUNT, 0, 100000,
	G(clients_per_address)},
    {"sanitize", SEC_GLOBAL, V_SANITIZE, 0, 0, G(sanitize)},
    {"embed_hosts", SEC_GLOBAL, V_HOSTS, 0, 0, G(embed_hosts)},
    {"url", SEC_FEED, V_URL, 0, 0, F(url)},
    {"url_file", SEC_FEED, V_URL_FILE, 0, 0, F(url)},
    {"public_url", SEC_FEED, V_PUBLIC_URL, 0, 0, F(public_url)},
    {"private", SEC_FEED, V_BOOL, 0, 1, F(is_private)},
    {"title", SEC_FEED, V_STRING, 0, 0, F(title)},
    {"tags", SEC_FEED, V_TAGS, 0, 0, F(tags)},
    {"enabled", SEC_FEED, V_BOOL, 0, 1, F(enabled)},
    {"interval", SEC_FEED, V_DURATION, 60, 30 * DAY, F(interval)},
    {"user_agent", SEC_FEED, V_STRING, 0, 0, F(user_agent)},
    {"keep_days", SEC_FEED, V_COUNT, 0, 100000, F(keep_days)},
    {"keep_items", SEC_FEED, V_COUNT, 0, 100000000, F(keep_items)},
    {"max_per_feed", SEC_FEED, V_COUNT, 0, 1000, F(max_per_feed)},
    {"sanitize", SEC_FEED, V_SANITIZE, 0, 0, F(sanitize)},
};

/* The parse in progress. */
struct loader {
	struct tr_config *cfg;
	const char *file; /* for messages */
	char *dir;	  /* the file's folder, for relative paths */
	FILE *fp;
	int line;
	struct tr_buf text;  /* the line being read, capped at MAX_LINE */
	int64_t total;	     /* bytes read */
	char *long_value;    /* the value of a line too long for inih */
	int inline_comment;  /* inih will cut a comment off this line */
	int set_line[sizeof(keys) / sizeof(keys[0])]; /* line that set a
							  global key */
	struct tr_buf warnings;
	enum section_kind sec;
	struct tr_feed_conf *feed; /* the current feed section */
	unsigned char seen[sizeof(keys) / sizeof(keys[0])];
	int nerrors;
	int oom;
	struct tr_buf errors;
	size_t *slots;	  /* feed names: hash table of index + 1 */
	size_t nslots;	  /* a power of two */
	size_t feeds_cap; /* allocated entries of cfg->feeds */
};

static void
err_at(struct loader *ld, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
err_at(struct loader *ld, int line, const char *fmt, ...)
{
	va_list ap;

	ld->nerrors++;
	tr_buf_printf(&ld->errors, "%s:%d: ", ld->file, line);
	va_start(ap, fmt);
	tr_buf_vprintf(&ld->errors, fmt, ap);
	va_end(ap);
	tr_buf_addc(&ld->errors, '\n');
}

static void
warn_at(struct loader *ld, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A "file:line: warning: message" that does not make the file invalid. */
static void
warn_at(struct loader *ld, int line, const char *fmt, ...)
{
	va_list ap;

	tr_buf_printf(&ld->warnings, "%s:%d: warning: ", ld->file, line);
	va_start(ap, fmt);
	tr_buf_vprintf(&ld->warnings, fmt, ap);
	va_end(ap);
	tr_buf_addc(&ld->warnings, '\n');
}

/* Line number of one "file:line: message" entry, for sorting. */
static long
entry_line(const char *entry, size_t filelen)
{
	return strtol(entry + filelen + 1, NULL, 10);
}

static size_t sort_filelen;

static int
cmp_entries(const void *a, const void *b)
{
	const char *const *x = a, *const *y = b;
	long lx = entry_line(*x, sort_filelen), ly = entry_line(*y, sort_filelen);

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return *x < *y ? -1 : *x > *y; /* keep the order they were found in */
}

/*
 * Orders the collected errors by line, so that checks done at the end
 * (a feed without url) read in place. Leaves the text as it was when out
 * of memory.
 */
static void
sort_errors(struct loader *ld)
{
	char *text = ld->errors.data, *p, **lines = NULL;
	size_t n = 0, i;
	struct tr_buf sorted;

	if (text == NULL || ld->nerrors < 2 ||
	    (lines = calloc((size_t)ld->nerrors + 1, sizeof(*lines))) == NULL)
		return;
	for (p = text; *p && n <= (size_t)ld->nerrors; p = strchr(p, '\n') + 1) {
		lines[n++] = p;
		if (strchr(p, '\n') == NULL)
			break;
	}
	sort_filelen = strlen(ld->file);
	qsort(lines, n, sizeof(*lines), cmp_entries);
	tr_buf_init(&sorted, MAX_ERRORS_TEXT);
	for (i = 0; i < n; i++)
		tr_buf_add(&sorted, lines[i], strcspn(lines[i], "\n") + 1);
	free(lines);
	tr_buf_free(&ld->errors);
	ld->errors = sorted;
}

/* --- value parsers --- */

int
tr_parse_duration(int64_t *out, const char *s)
{
	static const struct {
		char unit;
		int64_t mult;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', DAY},
	    {'w', 7 * DAY}};
	char *end = NULL;
	long long v;
	size_t i;

	if (s == NULL || !isdigit((unsigned char)*s))
		return TR_EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || v > 100LL * 365 * DAY)
		return TR_EINVAL;
	if (*end == '\0') {
		*out = v;
		return 0;
	}
	if (end[1] != '\0')
		return TR_EINVAL;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (units[i].unit == *end) {
			*out = v * units[i].mult;
			return 0;
		}
	}
	return TR_EINVAL;
}

int
tr_parse_size(int64_t *out, const char *s)
{
	char *end = NULL;
	long long v;
	int shift = 0;

	if (s == NULL || !isdigit((unsigned char)*s))
		return TR_EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || v > (1LL << 40))
		return TR_EINVAL;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'M':
	case 'm':
		shift = 20;
		break;
	case 'G':
	case 'g':
		shift = 30;
		break;
	default:
		return TR_EINVAL;
	}
	if (*end != '\0' && end[1] != '\0' &&
	    !((end[1] == 'B' || end[1] == 'b') && end[2] == '\0'))
		return TR_EINVAL;
	*out = v << shift;
	return 0;
}

int
tr_parse_bool(int *out, const char *s)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return TR_EINVAL;
}

void
tr_format_duration(char *out, size_t size, int64_t seconds)
{
	static const struct {
		char unit;
		int64_t mult;
	} units[] = {{'w', 7 * DAY}, {'d', DAY}, {'h', 3600}, {'m', 60}};
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (seconds != 0 && seconds % units[i].mult == 0) {
			snprintf(out, size, "%lld%c",
			    (long long)(seconds / units[i].mult),
			    units[i].unit);
			return;
		}
	}
	snprintf(out, size, "%llds", (long long)seconds);
}

const char *
tr_config_default_user_agent(void)
{
	return DEFAULT_UA;
}

/* --- checks of single values --- */

/* http, https or file, as libcurl's URL parser sees it. */
static const char *
check_url(const char *s)
{
	CURLU *u = curl_url();
	char *scheme = NULL;
	const char *why = NULL;

	if (u == NULL)
		return "out of memory";
	if (curl_url_set(u, CURLUPART_URL, s, CURLU_NON_SUPPORT_SCHEME) !=
	    CURLUE_OK)
		why = "invalid URL";
	else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
		why = "URL has no scheme";
	else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0 &&
	    strcmp(scheme, "file") != 0)
		why = "unsupported URL scheme (http, https and file only)";
	curl_free(scheme);
	curl_url_cleanup(u);
	return why;
}

/* Does the URL s name a user or password (RFC 3986 §3.2.1)? */
static int
has_userinfo(const char *s)
{
	CURLU *u = curl_url();
	char *part = NULL;
	int found = 0;

	if (u != NULL &&
	    curl_url_set(u, CURLUPART_URL, s, CURLU_NON_SUPPORT_SCHEME) ==
		CURLUE_OK &&
	    (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK ||
		curl_url_get(u, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK))
		found = 1;
	curl_free(part);
	curl_url_cleanup(u);
	return found;
}

/*
 * A "file:" URL with a relative path ("file:examples/feeds/x.xml") is
 * resolved against the config file's folder, so that a bundled config
 * works wherever the tree is checked out. Returns a malloc'ed absolute
 * file:// URL, or NULL when v is not such a URL or on error.
 */
static char *
resolve_file_url(const char *dir, const char *v)
{
	char *absdir = NULL, *url = NULL;
	struct tr_buf path;
	CURLU *u = NULL;

	if (strncmp(v, "file:", 5) != 0 || v[5] == '/' || v[5] == '\0')
		return NULL;
	tr_buf_init(&path, PATH_MAX);
	if ((absdir = realpath(dir, NULL)) == NULL ||
	    tr_buf_printf(&path, "%s/%s", absdir, v + 5) != 0 ||
	    (u = curl_url()) == NULL ||
	    curl_url_set(u, CURLUPART_SCHEME, "file", 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_PATH, tr_buf_str(&path),
		CURLU_URLENCODE) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK)
		url = NULL;
	free(absdir);
	tr_buf_free(&path);
	curl_url_cleanup(u);
	if (url) {
		char *copy = strdup(url);

		curl_free(url);
		return copy;
	}
	return NULL;
}

/* "HOST:PORT", "[V6]:PORT" or "*:PORT"; port 0..65535 (0: any free). */
static int
valid_listen(const char *s)
{
	const char *colon = strrchr(s, ':');
	char *end = NULL;
	long port;

	if (colon == NULL || colon == s)
		return 0;
	if (s[0] == '[' && colon[-1] != ']')
		return 0;
	if (s[0] != '[' && memchr(s, ':', (size_t)(colon - s)) != NULL)
		return 0;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	return errno == 0 && *end == '\0' && colon[1] != '\0' && port >= 0 &&
	    port <= 65535 && colon[1] != '-' && colon[1] != '+';
}

static int
valid_feed_name(const char *s)
{
	if (*s == '\0' || *s == '.')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return 0;
	return 1;
}

/* Splits "a, b ,c" into trimmed non-empty items. */
static int
split_tags(char ***out, size_t *n, const char *s)
{
	char *copy = strdup(s), *tok, *save = NULL;
	char **v = NULL, **nv;
	size_t count = 0;

	if (copy == NULL)
		return TR_ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *e;

		while (isspace((unsigned char)*tok))
			tok++;
		e = tok + strlen(tok);
		while (e > tok && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (*tok == '\0')
			continue;
		if ((nv = realloc(v, (count + 1) * sizeof(*v))) == NULL)
			goto oom;
		v = nv;
		if ((v[count] = strdup(tok)) == NULL)
			goto oom;
		count++;
	}
	free(copy);
	*out = v;
	*n = count;
	return 0;
oom:
	while (count)
		free(v[--count]);
	free(v);
	free(copy);
	return TR_ENOMEM;
}

/*
 * A tag's syntax: any UTF-8 text but ',' (the separator), '/' and
 * control characters, at most MAX_TAG bytes; it is normalised in place:
 * trimmed (split_tags) and every run of white space made one space
 * ("Tech   News" is "Tech News"). Where it is used in a URL path
 * (/tags/Tech%20News.atom) it is percent-encoded. Returns why t is not a
 * tag, or NULL.
 */
static const char *
normalize_tag(char *t)
{
	const unsigned char *p = (const unsigned char *)t;
	char *o = t;

	for (; *p; p++) {
		if (isspace(*p)) {
			if (o > t && o[-1] != ' ')
				*o++ = ' ';
			continue;
		}
		if (*p < 0x20 || *p == 0x7f)
			return "control character";
		if (*p == '/')
			return "'/' is not allowed";
		*o++ = (char)*p;
	}
	*o = '\0';
	if (o - t > MAX_TAG)
		return "longer than 64 bytes";
	for (p = (const unsigned char *)t; *p;) {
		int32_t cp;
		size_t len = strlen((const char *)p);

		p += tr_utf8_decode((const char *)p, len, &cp);
		if (cp < 0)
			return "not valid UTF-8";
	}
	return NULL;
}

/* "tags = a, b": split, checked (normalize_tag), duplicates dropped. */
static void
set_tags(struct loader *ld, struct tr_feed_conf *f, const char *v)
{
	size_t i, j, n;
	const char *why;

	if (split_tags(&f->tags, &f->n_tags, v) != 0) {
		ld->oom = 1;
		return;
	}
	for (i = n = 0; i < f->n_tags; i++) {
		if ((why = normalize_tag(f->tags[i])) != NULL)
			err_at(ld, ld->line, "tags: invalid tag \"%s\": %s",
			    f->tags[i], why);
		for (j = 0; j < n && strcmp(f->tags[j], f->tags[i]) != 0; j++)
			;
		if (why != NULL || j < n) {
			free(f->tags[i]);
			continue;
		}
		f->tags[n++] = f->tags[i];
	}
	f->n_tags = n;
}

/*
 * embed_hosts: host names whose iframes bodies may keep (html.h). Each
 * is a DNS name: letters, digits, '-' and '.', no scheme, port or path.
 */
static void
set_hosts(struct loader *ld, const char *v)
{
	struct tr_config *cfg = ld->cfg;
	size_t i, n;
	char *h;

	for (i = 0; i < cfg->n_embed_hosts; i++)
		free(cfg->embed_hosts[i]);
	free(cfg->embed_hosts);
	cfg->embed_hosts = NULL;
	cfg->n_embed_hosts = 0;
	if (split_tags(&cfg->embed_hosts, &cfg->n_embed_hosts, v) != 0) {
		ld->oom = 1;
		return;
	}
	for (i = n = 0; i < cfg->n_embed_hosts; i++) {
		h = cfg->embed_hosts[i];
		if (strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789-.") != strlen(h) || h[0] == '.' || h[0] == '-') {
			err_at(ld, ld->line, "embed_hosts: invalid host \"%s\" "
			    "(write host names such as www.youtube-nocookie.com, "
			    "without scheme or path)", h);
			free(h);
			continue;
		}
		cfg->embed_hosts[n++] = h;
	}
	cfg->n_embed_hosts = n;
}

/*
 * A string value with "\;" made ';': inih takes a ';' after white space
 * for the start of a comment, so "Tom \; Jerry" is how a title keeps one.
 */
static char *
unescape_semicolons(const char *v)
{
	char *r = strdup(v), *o = r;

	if (r == NULL)
		return NULL;
	for (; *v; v++) {
		if (v[0] == '\\' && v[1] == ';')
			v++;
		*o++ = *v;
	}
	*o = '\0';
	return r;
}

static char *
join_path(const char *dir, const char *path)
{
	struct tr_buf b;

	if (path[0] == '/' || strcmp(path, ":memory:") == 0 || dir == NULL ||
	    strcmp(dir, ".") == 0)
		return strdup(path);
	tr_buf_init(&b, PATH_MAX);
	if (tr_buf_printf(&b, "%s/%s", dir, path) != 0) {
		tr_buf_free(&b);
		return NULL;
	}
	return tr_buf_detach(&b);
}

/* --- sections --- */

static void
feed_defaults(struct tr_feed_conf *f)
{
	memset(f, 0, sizeof(*f));
	f->enabled = 1;
	f->interval = TR_UNSET;
	f->keep_days = TR_UNSET;
	f->keep_items = TR_UNSET;
	f->max_per_feed = TR_UNSET;
	f->sanitize = TR_UNSET;
}

/*
 * The index of the feed named name in the loader's hash table (open
 * addressing, slots hold index + 1), or the free slot where it would go.
 */
static size_t
name_slot(const struct loader *ld, const char *name)
{
	size_t mask = ld->nslots - 1, i = (size_t)tr_hash_str(name) & mask;

	while (ld->slots[i] &&
	    strcmp(ld->cfg->feeds[ld->slots[i] - 1].name, name) != 0)
		i = (i + 1) & mask;
	return i;
}

/* Keeps the table under half full. 0 or TR_ENOMEM. */
static int
grow_slots(struct loader *ld)
{
	size_t *old = ld->slots, n = ld->nslots, i;

	if (ld->cfg->n_feeds * 2 < ld->nslots)
		return 0;
	ld->nslots = n ? n * 2 : 64;
	if ((ld->slots = calloc(ld->nslots, sizeof(*ld->slots))) == NULL) {
		ld->slots = old;
		ld->nslots = n;
		return TR_ENOMEM;
	}
	for (i = 0; i < n; i++)
		if (old[i])
			ld->slots[name_slot(ld, ld->cfg->feeds[old[i] - 1].name)] =
			    old[i];
	free(old);
	return 0;
}

/* Appends a feed section; feeds grow geometrically. */
static struct tr_feed_conf *
add_feed(struct loader *ld, const char *name)
{
	struct tr_config *cfg = ld->cfg;
	struct tr_feed_conf *nf;

	if (cfg->n_feeds == ld->feeds_cap) {
		size_t cap = ld->feeds_cap ? ld->feeds_cap * 2 : 16;

		if ((nf = realloc(cfg->feeds, cap * sizeof(*nf))) == NULL)
			return NULL;
		cfg->feeds = nf;
		ld->feeds_cap = cap;
	}
	nf = &cfg->feeds[cfg->n_feeds];
	feed_defaults(nf);
	if ((nf->name = strdup(name)) == NULL)
		return NULL;
	cfg->n_feeds++;
	return nf;
}

static void
start_feed(struct loader *ld, const char *name)
{
	size_t slot;

	if (grow_slots(ld) != 0)
		goto oom;
	slot = name_slot(ld, name);
	if (ld->slots[slot]) {
		err_at(ld, ld->line,
		    "duplicate feed name \"%s\" (first defined on line %d)",
		    name, ld->cfg->feeds[ld->slots[slot] - 1].line);
		ld->sec = SEC_BAD;
		return;
	}
	if ((ld->feed = add_feed(ld, name)) == NULL)
		goto oom;
	ld->slots[slot] = ld->cfg->n_feeds;
	ld->feed->line = ld->line;
	ld->sec = SEC_FEED;
	return;
oom:
	ld->oom = 1;
	ld->sec = SEC_BAD;
}

/* Handles a "[...]" line (s starts at '['). */
static void
section_line(struct loader *ld, const char *s)
{
	const char *end = strrchr(s, ']');
	char name[256];
	size_t n;

	memset(ld->seen, 0, sizeof(ld->seen));
	ld->feed = NULL;
	ld->sec = SEC_BAD;
	if (end == NULL) {
		err_at(ld, ld->line, "unterminated section header");
		return;
	}
	n = (size_t)(end - s - 1);
	if (n >= sizeof(name)) {
		err_at(ld, ld->line, "section name too long");
		return;
	}
	memcpy(name, s + 1, n);
	name[n] = '\0';
	if (strcmp(name, "tributary") == 0) {
		ld->sec = SEC_GLOBAL;
	} else if (strncmp(name, "feed \"", 6) == 0 && n > 7 &&
	    name[n - 1] == '"') {
		name[n - 1] = '\0';
		if (!valid_feed_name(name + 6))
			err_at(ld, ld->line,
			    "invalid feed name \"%s\" (letters, digits, '.', "
			    "'_' and '-' only)",
			    name + 6);
		else
			start_feed(ld, name + 6);
	} else {
		err_at(ld, ld->line,
		    "unknown section [%s] (expected [tributary] or "
		    "[feed \"NAME\"])",
		    name);
	}
}

/* --- the inih reader and handler --- */

/*
 * Reads the next line into ld->text without its newline. Returns 1 with
 * *nul set when it holds a NUL byte and *too_long when it passed
 * MAX_LINE (the rest of it is read and dropped), 0 at the end of the
 * file, or -1 when the file passed MAX_FILE (reported).
 */
static int
read_line(struct loader *ld, int *nul, int *too_long)
{
	int c, any = 0;

	tr_buf_reset(&ld->text);
	*nul = *too_long = 0;
	while ((c = getc_unlocked(ld->fp)) != EOF) {
		any = 1;
		if (++ld->total > MAX_FILE) {
			err_at(ld, ld->line + 1, "the file is larger than "
			    "%dM; is it a config file?", MAX_FILE >> 20);
			return -1;
		}
		if (c == '\n')
			break;
		if (c == '\0')
			*nul = 1;
		if (!*too_long && tr_buf_addc(&ld->text, (char)c) != 0)
			*too_long = 1;
	}
	return any; /* tr_buf_str(&ld->text) is the line, "" when empty */
}

/*
 * Where inih's find_chars_or_comment() stops in s: at a char of chars
 * (when not NULL) or at an inline comment, a ';' after whitespace.
 */
static const char *
ini_stop(const char *s, const char *chars)
{
	int was_space = 0;

	for (; *s && !(chars && strchr(chars, *s)) &&
	       !(was_space && *s == ';');
	     s++)
		was_space = isspace((unsigned char)*s);
	return s;
}

/*
 * A key line too long for inih's buffer: hands inih "KEY=" LONG_MARK in
 * str and keeps the value, cut as inih cuts it, in ld->long_value.
 */
static void
long_line(struct loader *ld, char *str, int num, const char *s)
{
	const char *eq = ini_stop(s, "=:"), *v, *e;
	size_t klen = (size_t)(eq - s);

	str[0] = '\0';
	if (*eq != '=' && *eq != ':') {
		err_at(ld, ld->line, "expected \"key = value\"");
		return;
	}
	if (klen + sizeof(LONG_MARK) + 2 > (size_t)num) {
		err_at(ld, ld->line, "key too long");
		return;
	}
	for (v = eq + 1; isspace((unsigned char)*v); v++)
		;
	e = ini_stop(v, NULL);
	while (e > v && isspace((unsigned char)e[-1]))
		e--;
	if ((ld->long_value = strndup(v, (size_t)(e - v))) == NULL) {
		ld->oom = 1;
		return;
	}
	snprintf(str, (size_t)num, "%.*s=%s\n", (int)klen, s, LONG_MARK);
}

/*
 * Returns the next line for inih, counting lines and checking their
 * shape (see the top of the file).
 */
static char *
reader(char *str, int num, void *stream)
{
	struct loader *ld = stream;
	const char *s, *eq;
	int nul, too_long, got;

	free(ld->long_value);
	ld->long_value = NULL;
	ld->inline_comment = 0;
	if ((got = read_line(ld, &nul, &too_long)) <= 0)
		return NULL;
	ld->line++;
	str[0] = '\0';
	if (nul) {
		err_at(ld, ld->line, "NUL byte in the line (a config file is "
		    "text)");
		return str;
	}
	if (too_long) {
		err_at(ld, ld->line, "line longer than %d characters",
		    MAX_LINE);
		return str;
	}
	s = tr_buf_str(&ld->text);
	while (isspace((unsigned char)*s))
		s++;
	if (ld->line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	if (*s == '\0' || *s == ';' || *s == '#')
		return str;
	if (*s == '[') {
		section_line(ld, s);
		snprintf(str, (size_t)num, "%s", s);
		return str;
	}
	if (s == tr_buf_str(&ld->text) && strchr(s, '=') == NULL &&
	    strchr(s, ':') == NULL) {
		err_at(ld, ld->line, "expected \"key = value\"");
		return str;
	}
	eq = ini_stop(s, "=:");
	ld->inline_comment = (*eq == '=' || *eq == ':') &&
	    *ini_stop(eq + 1, NULL) == ';';
	if (ld->text.len + 2 > (size_t)num)
		long_line(ld, str, num, s);
	else
		snprintf(str, (size_t)num, "%s\n", tr_buf_str(&ld->text));
	return str;
}

static int
find_key(const struct loader *ld, const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].where == ld->sec && strcmp(keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

/*
 * A URL for a message about the config: its public form (a URL may carry
 * a password or token, and messages end up in logs), or "" when not
 * even that can be shown. Returns a malloc'ed string or NULL.
 */
static char *
shown_url(const char *v)
{
	char *p = tr_url_public(v);

	return p ? p : strdup("");
}

/*
 * Sets the feed's url (field) to v: a relative file: URL resolved against
 * the config's folder, then checked. An invalid URL is reported without
 * echoing what may be a secret, and stored as "" (given but invalid: not
 * also "has no url").
 */
static void
set_url(struct loader *ld, const struct key *k, void *field, const char *v)
{
	char *copy = resolve_file_url(ld->dir, v), *shown = NULL;
	const char *why;

	if (*(char **)field != NULL) {
		err_at(ld, ld->line, "%s: the feed has a url already (url and "
		    "url_file are exclusive)", k->name);
		free(copy);
		return;
	}
	if ((why = check_url(copy ? copy : v)) != NULL) {
		free(copy);
		copy = strdup("");
		shown = shown_url(v);
		if (shown && *shown)
			err_at(ld, ld->line, "%s: %s \"%s\"", k->name, why,
			    shown);
		else
			err_at(ld, ld->line, "%s: %s", k->name, why);
		free(shown);
	} else if (copy == NULL) {
		copy = strdup(v);
	}
	if (copy == NULL)
		ld->oom = 1;
	*(char **)field = copy;
}

/*
 * "url_file = PATH": the feed's URL is the first non-empty line of PATH
 * (relative to the config's folder), so that a URL with a password or
 * token can live in a file only tributary's user reads while feeds.conf
 * stays world-readable. Returns the malloc'ed URL, or NULL after
 * reporting why.
 */
static char *
read_url_file(struct loader *ld, const char *v)
{
	char *path = join_path(ld->dir, v), *line = NULL, *s, *e, *r = NULL;
	FILE *fp = NULL;
	struct stat sb;
	int fd = -1;

	if (path == NULL || (line = malloc(MAX_LINE + 2)) == NULL) {
		ld->oom = 1;
		goto out;
	}
	/* Not blocking on a FIFO; only a regular file is read. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		err_at(ld, ld->line, "url_file: cannot open %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (fp = fdopen(fd, "r")) == NULL) {
		err_at(ld, ld->line, "url_file: %s is not a regular file",
		    path);
		goto out;
	}
	fd = -1; /* fp owns it */
	while (fgets(line, MAX_LINE + 2, fp) != NULL) {
		for (s = line; isspace((unsigned char)*s); s++)
			;
		e = s + strlen(s);
		while (e > s && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (*s == '\0' || *s == '#')
			continue;
		if (strlen(s) > MAX_LINE)
			err_at(ld, ld->line, "url_file: %s: line longer than "
			    "%d characters", path, MAX_LINE);
		else if ((r = strdup(s)) == NULL)
			ld->oom = 1;
		goto out;
	}
	err_at(ld, ld->line, "url_file: %s has no URL in it", path);
out:
	if (fp)
		fclose(fp);
	if (fd >= 0)
		close(fd);
	free(line);
	free(path);
	return r;
}

/* Stores one value of a known key into its field. */
static void
set_value(struct loader *ld, const struct key *k, const char *v)
{
	char *base = ld->sec == SEC_GLOBAL ? (char *)ld->cfg : (char *)ld->feed;
	void *field = base + k->off;
	const char *why = NULL;
	char *copy = NULL;
	int64_t n = 0;
	int b = 0;

	switch (k->kind) {
	case V_STRING:
	case V_LISTEN:
		if (k->kind == V_LISTEN && !valid_listen(v)) {
			why = "invalid listen address (expected HOST:PORT or "
			      "[IPV6]:PORT)";
			break;
		}
		copy = k->kind == V_STRING ? unescape_semicolons(v) : strdup(v);
		goto store_string;
	case V_URL_FILE:
		if (*(char **)field != NULL) {
			err_at(ld, ld->line, "%s: the feed has a url already "
			    "(url and url_file are exclusive)", k->name);
			return;
		}
		if ((copy = read_url_file(ld, v)) == NULL) {
			/* Reported; not also "has no url". */
			if (*(char **)field == NULL &&
			    (*(char **)field = strdup("")) == NULL)
				ld->oom = 1;
			return;
		}
		set_url(ld, k, field, copy);
		free(copy);
		return;
	case V_URL:
		set_url(ld, k, field, v);
		return;
	case V_PUBLIC_URL:
		if ((why = check_url(v)) == NULL &&
		    strncmp(v, "file:", 5) == 0)
			why = "must be an http or https URL";
		else if (why == NULL && has_userinfo(v))
			why = "must not carry a user name or password";
		if (why) {
			err_at(ld, ld->line, "%s: %s", k->name, why);
			return;
		}
		copy = strdup(v);
		goto store_string;
	case V_DATABASE: {
		/* A file path, or a database server's address kept as it
		 * is (its password, if any, never shown). */
		char reason[400];

		if (tr_store_address_check(v, reason, sizeof(reason)) != 0) {
			err_at(ld, ld->line, "%s: %s", k->name, reason);
			return;
		}
		copy = tr_store_is_server(v) ? strdup(v)
					     : join_path(ld->dir, v);
		goto store_string;
	}
	case V_PATH:
		copy = join_path(ld->dir, v);
		goto store_string;
	case V_DURATION:
		if (tr_parse_duration(&n, v) != 0)
			why = "invalid duration (examples: 90s, 30m, 1h, 2d)";
		goto store_number;
	case V_SIZE:
		if (tr_parse_size(&n, v) != 0)
			why = "invalid size (examples: 512k, 16M)";
		goto store_number;
	case V_COUNT:
		if (tr_parse_size(&n, v) != 0 || !isdigit((unsigned char)
			v[strlen(v) - 1]))
			why = "invalid number";
		goto store_number;
	case V_BOOL:
		if (tr_parse_bool(&b, v) != 0)
			why = "invalid boolean (yes, no, true or false)";
		else
			*(int *)field = b;
		break;
	case V_TAGS:
		set_tags(ld, ld->feed, v);
		return;
	case V_SANITIZE: {
		enum tr_html_mode m;

		if (tr_html_mode_parse(&m, v) != 0)
			why = "invalid policy (default or text)";
		else
			*(int *)field = (int)m;
		break;
	}
	case V_HOSTS:
		set_hosts(ld, v);
		return;
	}
	if (why)
		err_at(ld, ld->line, "%s: %s \"%s\"", k->name, why, v);
	return;
store_number:
	if (why == NULL && (n < k->min || n > k->max)) {
		char lo[32], hi[32];

		if (k->kind == V_DURATION) {
			tr_format_duration(lo, sizeof(lo), k->min);
			tr_format_duration(hi, sizeof(hi), k->max);
		} else {
			snprintf(lo, sizeof(lo), "%lld", (long long)k->min);
			snprintf(hi, sizeof(hi), "%lld", (long long)k->max);
		}
		err_at(ld, ld->line, "%s: value \"%s\" out of range (%s to %s)",
		    k->name, v, lo, hi);
		return;
	}
	if (why)
		err_at(ld, ld->line, "%s: %s \"%s\"", k->name, why, v);
	else
		*(int64_t *)field = n;
	return;
store_string:
	if (copy == NULL) {
		ld->oom = 1;
		return;
	}
	free(*(char **)field);
	*(char **)field = copy;
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct loader *ld = user;
	int i;

	(void)section; /* the reader tracks sections, see section_line() */
	if (ld->sec == SEC_BAD)
		return 1;
	if (ld->sec == SEC_NONE) {
		err_at(ld, ld->line,
		    "\"%s\" outside of any section (put it under "
		    "[tributary])",
		    name);
		return 1;
	}
	if ((i = find_key(ld, name)) < 0) {
		err_at(ld, ld->line, "unknown key \"%s\" in %s", name,
		    ld->sec == SEC_GLOBAL ? "[tributary]" : "a feed section");
		return 1;
	}
	if (ld->seen[i]) {
		err_at(ld, ld->line, "duplicate key \"%s\"", name);
		return 1;
	}
	ld->seen[i] = 1;
	ld->set_line[i] = ld->line;
	if (ld->long_value != NULL && strcmp(value, LONG_MARK) == 0)
		value = ld->long_value; /* a long line: see the top */
	if (*value == '\0' && keys[i].kind != V_STRING &&
	    keys[i].kind != V_TAGS) {
		err_at(ld, ld->line, "%s: empty value", name);
		return 1;
	}
	/* inih cut "Tom ; Jerry" to "Tom": say so where text is expected. */
	if (ld->inline_comment &&
	    (keys[i].kind == V_STRING || keys[i].kind == V_TAGS))
		warn_at(ld, ld->line, "%s: the text after \" ;\" is a "
		    "comment, the value is \"%s\" (write \\; for a ';' "
		    "after a space)", name, value);
	set_value(ld, &keys[i], value);
	return 1;
}

/* --- loading --- */

static void
global_defaults(struct tr_config *cfg)
{
	cfg->interval = 30 * 60;
	cfg->min_interval = 5 * 60;
	cfg->max_interval = DAY;
	cfg->concurrency = 16;
	cfg->per_host = 2;
	cfg->connect_timeout = 10;
	cfg->timeout = 30;
	cfg->low_speed_limit = 10;
	cfg->low_speed_time = 20;
	cfg->max_body = 16 << 20;
	cfg->max_redirects = 5;
	cfg->retry_after_max = DAY;
	cfg->removed_keep = 30 * DAY;
	cfg->clients_per_address = 64;
}

/* The index of key name in section where (it exists). */
static size_t
key_index(const char *name, enum section_kind where)
{
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].where == where && strcmp(keys[i].name, name) == 0)
			break;
	assert(i < sizeof(keys) / sizeof(keys[0]));
	return i;
}

struct url_key {
	char *key; /* canonical URL, or the URL as given */
	size_t idx;
};

static int
cmp_url_keys(const void *a, const void *b)
{
	const struct url_key *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

/*
 * Two feeds with the same URL (as tr_url_canonical() compares links)
 * poll the same document twice: a warning at the later one. Sorted, so
 * a config of many feeds costs n log n.
 */
static void
warn_same_urls(struct loader *ld)
{
	struct tr_config *cfg = ld->cfg;
	struct url_key *v;
	size_t i, n = 0;

	if (cfg->n_feeds < 2 ||
	    (v = calloc(cfg->n_feeds, sizeof(*v))) == NULL)
		return;
	for (i = 0; i < cfg->n_feeds; i++) {
		const char *u = cfg->feeds[i].url;

		if (u == NULL || *u == '\0')
			continue;
		if ((v[n].key = tr_url_canonical(u)) == NULL &&
		    (v[n].key = strdup(u)) == NULL)
			break;
		v[n++].idx = i;
	}
	qsort(v, n, sizeof(*v), cmp_url_keys);
	for (i = 1; i < n; i++) {
		const struct tr_feed_conf *a = &cfg->feeds[v[i - 1].idx],
					  *b = &cfg->feeds[v[i].idx];
		size_t first = i - 1;

		while (first > 0 && strcmp(v[first - 1].key, v[i].key) == 0)
			first--;
		if (strcmp(v[i - 1].key, v[i].key) == 0) {
			a = &cfg->feeds[v[first].idx];
			warn_at(ld, b->line, "feed \"%s\" has the same URL as "
			    "feed \"%s\" (line %d): it is fetched twice",
			    b->name, a->name, a->line);
		}
	}
	for (i = 0; i < n; i++)
		free(v[i].key);
	free(v);
}

/* Fills in the string defaults and checks what spans several lines. */
static void
finish(struct loader *ld)
{
	struct tr_config *cfg = ld->cfg;
	size_t i;

	if (cfg->database == NULL)
		cfg->database = join_path(ld->dir, "tributary.db");
	if (cfg->database != NULL &&
	    (cfg->database_shown = malloc(strlen(cfg->database) + 1)) != NULL)
		tr_store_address_shown(cfg->database_shown,
		    strlen(cfg->database) + 1, cfg->database);
	if (cfg->listen == NULL)
		cfg->listen = strdup("127.0.0.1:8080");
	if (cfg->title == NULL)
		cfg->title = strdup("tributary");
	if (cfg->user_agent == NULL)
		cfg->user_agent = strdup(DEFAULT_UA);
	if (!cfg->database || !cfg->database_shown || !cfg->listen ||
	    !cfg->title || !cfg->user_agent)
		ld->oom = 1;
	if (cfg->min_interval > cfg->max_interval) {
		int lmin = ld->set_line[key_index("min_interval", SEC_GLOBAL)];
		int lmax = ld->set_line[key_index("max_interval", SEC_GLOBAL)];

		/* At the line that made them cross: the later one set. */
		err_at(ld, lmin > lmax ? lmin : lmax,
		    "min_interval is larger than max_interval");
	}
	for (i = 0; i < cfg->n_feeds; i++)
		if (cfg->feeds[i].url == NULL)
			err_at(ld, cfg->feeds[i].line,
			    "feed \"%s\" has no url", cfg->feeds[i].name);
	warn_same_urls(ld);
}

static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *d;

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	if ((d = malloc((size_t)(slash - path) + 1)) == NULL)
		return NULL;
	memcpy(d, path, (size_t)(slash - path));
	d[slash - path] = '\0';
	return d;
}

struct name_index {
	const char *name;
	size_t idx;
};

static int
cmp_by_name(const void *a, const void *b)
{
	const struct name_index *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Sorts feed indices by name, for tr_config_feed's binary search. */
static int
build_index(struct tr_config *cfg)
{
	struct name_index *tmp;
	size_t i;

	if (cfg->n_feeds == 0)
		return 0;
	tmp = malloc(cfg->n_feeds * sizeof(*tmp));
	cfg->by_name = malloc(cfg->n_feeds * sizeof(size_t));
	if (tmp == NULL || cfg->by_name == NULL) {
		free(tmp);
		return TR_ENOMEM;
	}
	for (i = 0; i < cfg->n_feeds; i++) {
		tmp[i].name = cfg->feeds[i].name;
		tmp[i].idx = i;
	}
	qsort(tmp, cfg->n_feeds, sizeof(*tmp), cmp_by_name);
	for (i = 0; i < cfg->n_feeds; i++)
		cfg->by_name[i] = tmp[i].idx;
	free(tmp);
	return 0;
}

/* What a file that is not a config file is, for the message. */
static const char *
file_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

/*
 * Opens the config: a regular file, or a pipe ("-c <(...)", stdin). A
 * directory, a device (/dev/zero would never end) or a socket is refused
 * with a message naming what it is. Opened without blocking, so that the
 * check comes before any read. 0, or TR_EIO with the message in ld.
 */
static int
open_config(struct loader *ld, const char *path)
{
	struct stat sb;
	int fd, flags;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		tr_buf_printf(&ld->errors, "%s: cannot open: %s\n", path,
		    strerror(errno));
		return TR_EIO;
	}
	if (fstat(fd, &sb) != 0 ||
	    (!S_ISREG(sb.st_mode) && !S_ISFIFO(sb.st_mode))) {
		tr_buf_printf(&ld->errors, "%s: cannot read: it is %s, not a "
		    "config file (a regular file or a pipe)\n", path,
		    file_kind(sb.st_mode));
		close(fd);
		return TR_EIO;
	}
	if (S_ISFIFO(sb.st_mode)) {
		/* A pipe's folder (/dev/fd) is no place for files: relative
		 * paths are relative to the working folder. */
		free(ld->dir);
		if ((ld->dir = strdup(".")) == NULL) {
			close(fd);
			return TR_ENOMEM;
		}
	}
	if ((flags = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0 ||
	    (ld->fp = fdopen(fd, "r")) == NULL) {
		tr_buf_printf(&ld->errors, "%s: cannot open: %s\n", path,
		    strerror(errno));
		close(fd);
		return TR_EIO;
	}
	return 0;
}

int
tr_config_load(struct tr_config **out, char **errors, const char *path)
{
	struct loader ld;
	int rc = 0, at;

	*out = NULL;
	if (errors)
		*errors = NULL;
	memset(&ld, 0, sizeof(ld));
	tr_buf_init(&ld.errors, MAX_ERRORS_TEXT);
	ld.file = path;
	if ((ld.cfg = calloc(1, sizeof(*ld.cfg))) == NULL ||
	    (ld.cfg->path = strdup(path)) == NULL ||
	    (ld.dir = dir_of(path)) == NULL) {
		rc = TR_ENOMEM;
		goto out;
	}
	global_defaults(ld.cfg);
	tr_buf_init(&ld.text, MAX_LINE);
	tr_buf_init(&ld.warnings, MAX_ERRORS_TEXT);
	if ((rc = open_config(&ld, path)) != 0)
		goto out;
	at = ini_parse_stream(reader, &ld, handler, &ld);
	if (at > 0 && ld.nerrors == 0)
		err_at(&ld, at, "syntax error");
	finish(&ld);
	sort_errors(&ld);
	if (ld.oom)
		rc = TR_ENOMEM;
	else if (ld.nerrors)
		rc = TR_ECONFIG;
	/* The feeds grew by doubling: a config is kept for as long as the
	 * process runs, so it keeps only its feeds (10,000 feeds left room
	 * for 6,384 more, 0.7 MB). Indexes, not pointers, refer to them. */
	if (rc == 0 && ld.cfg->n_feeds > 0 && ld.cfg->n_feeds < ld.feeds_cap) {
		struct tr_feed_conf *nf = realloc(ld.cfg->feeds,
		    ld.cfg->n_feeds * sizeof(*nf));

		if (nf != NULL)
			ld.cfg->feeds = nf;
	}
	if (rc == 0 && build_index(ld.cfg) != 0)
		rc = TR_ENOMEM;
out:
	if (ld.fp)
		fclose(ld.fp);
	free(ld.dir);
	free(ld.slots);
	free(ld.long_value);
	tr_buf_free(&ld.text);
	if (rc == 0) {
		*out = ld.cfg;
		if (ld.warnings.len > 0)
			ld.cfg->warnings = tr_buf_detach(&ld.warnings);
	} else {
		tr_config_free(ld.cfg);
		if (rc == TR_ENOMEM && ld.errors.len == 0)
			tr_buf_printf(&ld.errors, "%s: out of memory\n", path);
	}
	if (errors && rc != 0)
		*errors = tr_buf_detach(&ld.errors);
	tr_buf_free(&ld.errors);
	tr_buf_free(&ld.warnings);
	return rc;
}

void
tr_config_free(struct tr_config *cfg)
{
	size_t i, j;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->n_feeds; i++) {
		struct tr_feed_conf *f = &cfg->feeds[i];

		free(f->name);
		free(f->url);
		free(f->public_url);
		free(f->title);
		free(f->user_agent);
		for (j = 0; j < f->n_tags; j++)
			free(f->tags[j]);
		free(f->tags);
	}
	free(cfg->feeds);
	free(cfg->by_name);
	free(cfg->warnings);
	free(cfg->path);
	free(cfg->database);
	free(cfg->database_shown);
	free(cfg->listen);
	free(cfg->title);
	free(cfg->base_url);
	free(cfg->user_agent);
	for (i = 0; i < cfg->n_embed_hosts; i++)
		free(cfg->embed_hosts[i]);
	free(cfg->embed_hosts);
	free(cfg);
}

const struct tr_feed_conf *
tr_config_feed(const struct tr_config *cfg, const char *name)
{
	size_t lo = 0, hi = cfg->n_feeds, i;

	if (cfg->by_name == NULL) { /* a config built by hand, not loaded */
		for (i = 0; i < cfg->n_feeds; i++)
			if (strcmp(cfg->feeds[i].name, name) == 0)
				return &cfg->feeds[i];
		return NULL;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct tr_feed_conf *f = &cfg->feeds[cfg->by_name[mid]];
		int c = strcmp(name, f->name);

		if (c == 0)
			return f;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int
tr_config_has_tag(const struct tr_config *cfg, const char *tag)
{
	size_t i, j;

	for (i = 0; i < cfg->n_feeds; i++)
		for (j = 0; j < cfg->feeds[i].n_tags; j++)
			if (strcmp(cfg->feeds[i].tags[j], tag) == 0)
				return 1;
	return 0;
}

int64_t
tr_config_feed_interval(const struct tr_config *cfg,
    const struct tr_feed_conf *f)
{
	return f->interval != TR_UNSET ? f->interval : cfg->interval;
}

const char *
tr_config_feed_user_agent(const struct tr_config *cfg,
    const struct tr_feed_conf *f)
{
	return f->user_agent ? f->user_agent : cfg->user_agent;
}

int64_t
tr_config_feed_keep_days(const struct tr_config *cfg,
    const struct tr_feed_conf *f)
{
	return f->keep_days != TR_UNSET ? f->keep_days : cfg->keep_days;
}

int64_t
tr_config_feed_keep_items(const struct tr_config *cfg,
    const struct tr_feed_conf *f)
{
	return f->keep_items != TR_UNSET ? f->keep_items : cfg->keep_items;
}

int64_t
tr_config_feed_max_per_feed(const struct tr_config *cfg,
    const struct tr_feed_conf *f)
{
	return f->max_per_feed != TR_UNSET ? f->max_per_feed
					   : cfg->max_per_feed;
}

char *
tr_config_public_url(const struct tr_feed_conf *f, const char *url)
{
	if (f != NULL && f->is_private)
		return NULL;
	if (f != NULL && f->public_url != NULL)
		return strdup(f->public_url);
	if (url == NULL || *url == '\0')
		url = f ? f->url : NULL;
	/* A file's URL is a path on this machine: no reader can fetch it,
	 * and it tells the world where tributary's files are. */
	if (url != NULL && strncasecmp(url, "file:", 5) == 0)
		return NULL;
	return tr_url_public(url);
}

void
tr_config_feed_html_policy(struct tr_html_policy *out,
    const struct tr_config *cfg, const struct tr_feed_conf *f)
{
	int mode = f && f->sanitize != TR_UNSET ? f->sanitize : cfg->sanitize;

	out->mode = (enum tr_html_mode)mode;
	out->embed_hosts = (const char *const *)cfg->embed_hosts;
	out->n_embed_hosts = cfg->n_embed_hosts;
}

/*
 * store.c — the front of the store: the public functions of
 * include/tributary/store.h, which pick a backend when a store opens and
 * dispatch to its operations table (store_int.h), and the rules every
 * backend shares: what staging an article derives from it (canonical
 * link, content hash, the JSON of its lists) and the feed state records.
 *
 * A database address of the form postgresql://... or postgres://...
 * (libpq's connection URIs) names a PostgreSQL database; anything else
 * is the path of an SQLite file (or :memory:).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "tributary/error.h"
#include "tributary/html.h"
#include "tributary/log.h"
#include "tributary/url.h"

#include "store_int.h"

/* The table of the backend that made a handle: its first member. */
#define OPS(h) (*(const struct store_ops *const *)(const void *)(h))

int
tr_store_is_server(const char *address)
{
	return strncmp(address, "postgresql://", 13) == 0 ||
	    strncmp(address, "postgres://", 11) == 0;
}

const struct store_ops *
store_backend(const char *path)
{
	return tr_store_is_server(path) ? &store_pg_ops : &store_sqlite_ops;
}

void
tr_store_address_shown(char *out, size_t size, const char *address)
{
	const char *scheme = strstr(address, "://");
	const char *host, *at, *slash, *colon, *p;
	struct tr_buf b;

	if (size == 0)
		return;
	if (!tr_store_is_server(address) || scheme == NULL) {
		snprintf(out, size, "%s", address);
		return;
	}
	tr_buf_init(&b, size);
	host = scheme + 3;
	slash = host + strcspn(host, "/?");
	at = memchr(host, '@', (size_t)(slash - host));
	colon = at ? memchr(host, ':', (size_t)(at - host)) : NULL;
	/* scheme://user[:password]@ */
	tr_buf_add(&b, address, (size_t)((colon ? colon : host) - address));
	p = colon ? at : host;
	/* The rest, without any password=... parameter. */
	while (*p) {
		if ((p[-1] == '?' || p[-1] == '&') &&
		    strncmp(p, "password=", 9) == 0) {
			p += strcspn(p, "&");
			if (*p == '&')
				p++;
			continue;
		}
		tr_buf_addc(&b, *p++);
	}
	while (b.len > 0 && (b.data[b.len - 1] == '&' ||
	    b.data[b.len - 1] == '?'))
		b.len--;
	snprintf(out, size, "%.*s", (int)b.len, b.data ? b.data : "");
	tr_buf_free(&b);
}

int
tr_store_address_check(const char *address, char *why, size_t size)
{
	if (address[0] == '\0') {
		snprintf(why, size, "empty: give a file path or a "
		    "postgresql:// address");
		return TR_EINVAL;
	}
	if (tr_store_is_server(address))
		return store_pg_address_check(address, why, size);
	return 0;
}

int
tr_store_open(struct tr_store **out, const char *path, int flags)
{
	const struct store_ops *ops = store_backend(path);

	*out = NULL;
	return ops->open(out, path, flags);
}

void
tr_store_close(struct tr_store *st)
{
	if (st != NULL)
		OPS(st)->close(st);
}

int
tr_store_file_check(const struct tr_store *st, char *why, size_t size)
{
	return OPS(st)->file_check(st, why, size);
}

int
tr_store_damaged(const struct tr_store *st, const char **why)
{
	return OPS(st)->damaged(st, why);
}

int
tr_store_check(struct tr_store *st, int full,
    int (*cb)(const char *problem, void *arg), void *arg)
{
	return OPS(st)->check(st, full, cb, arg);
}

const char *
tr_store_errmsg(const struct tr_store *st)
{
	if (st == NULL)
		return "out of memory";
	return OPS(st)->errmsg(st);
}

void
tr_store_set_now(struct tr_store *st, int64_t now)
{
	OPS(st)->set_now(st, now);
}

/* --- feeds --- */

int
tr_store_sync_config(struct tr_store *st, const struct tr_config *cfg)
{
	return OPS(st)->sync_config(st, cfg);
}

int
tr_store_config_seen(struct tr_store *st, const struct tr_config *cfg)
{
	return OPS(st)->config_seen(st, cfg);
}

int
tr_store_listed_elsewhere(struct tr_store *st, const struct tr_config *cfg,
    const char *name, char *other, size_t size)
{
	return OPS(st)->listed_elsewhere(st, cfg, name, other, size);
}

int
tr_store_use_config(struct tr_store *st, const struct tr_config *cfg)
{
	return OPS(st)->use_config(st, cfg);
}

int
tr_store_purge(struct tr_store *st, const char *name, int64_t *deleted)
{
	return OPS(st)->purge(st, name, deleted);
}

const char *
tr_store_owner(const struct tr_store *st)
{
	return OPS(st)->owner(st);
}

int
tr_store_claim(struct tr_store *st, const char *const *names,
    const int64_t *seen, size_t n, int64_t now, int64_t ttl,
    unsigned char *claimed)
{
	return OPS(st)->claim(st, names, seen, n, now, ttl, claimed);
}

int
tr_store_release(struct tr_store *st)
{
	return OPS(st)->release(st);
}

int
tr_store_hosts_open(struct tr_store_hosts **out, struct tr_store *st)
{
	*out = NULL;
	return OPS(st)->hosts_open(out, st);
}

int
tr_store_host_take(struct tr_store_hosts *h, int *slot, const char *host,
    int limit, int64_t now, int64_t ttl)
{
	*slot = -1;
	if (limit < 1)
		limit = 1;
	return OPS(h)->host_take(h, slot, host, limit, now, ttl);
}

int
tr_store_host_give(struct tr_store_hosts *h, const char *host, int slot)
{
	if (slot < 0)
		return 0;
	return OPS(h)->host_give(h, host, slot);
}

int
tr_store_hosts_flush(struct tr_store_hosts *h)
{
	return h ? OPS(h)->hosts_flush(h) : 0;
}

const char *
tr_store_hosts_errmsg(const struct tr_store_hosts *h)
{
	return h ? OPS(h)->hosts_errmsg(h) : "";
}

void
tr_store_hosts_close(struct tr_store_hosts *h)
{
	if (h != NULL)
		OPS(h)->hosts_close(h);
}

int
tr_store_bodies_open(struct tr_store_bodies **out, struct tr_store *st)
{
	*out = NULL;
	if (OPS(st)->bodies_open == NULL)
		return 0;
	return OPS(st)->bodies_open(out, st);
}

int
tr_store_bodies_get(struct tr_store_bodies *h, struct tr_article *a,
    const char *feed)
{
	if (h == NULL || a->raw_hash == 0 || a->id == NULL)
		return 0;
	return OPS(h)->bodies_get(h, a, feed);
}

void
tr_store_bodies_close(struct tr_store_bodies *h)
{
	if (h != NULL)
		OPS(h)->bodies_close(h);
}

int
tr_store_feed_get(struct tr_store *st, struct tr_feed_state *out,
    const char *name)
{
	return OPS(st)->feed_get(st, out, name);
}

int
tr_store_feed_save(struct tr_store *st, const struct tr_feed_state *fs)
{
	return OPS(st)->feed_save(st, fs);
}

int
tr_store_feeds(struct tr_store *st, tr_feed_cb cb, void *arg)
{
	return OPS(st)->feeds(st, cb, arg);
}

int
tr_store_feed_states(struct tr_store *st, tr_feed_cb cb, void *arg)
{
	return OPS(st)->feed_states(st, cb, arg);
}

/* Replaces each borrowed string of fs by an owned copy. */
static int
feed_own(struct tr_feed_state *fs)
{
	char **fields[] = {&fs->name, &fs->url, &fs->effective_url,
	    &fs->title, &fs->site_link, &fs->etag, &fs->last_modified,
	    &fs->body_hash, &fs->last_error, &fs->disabled_reason};
	size_t i;
	int rc = 0;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (*fields[i] == NULL)
			continue;
		if ((*fields[i] = strdup(*fields[i])) == NULL)
			rc = TR_ENOMEM;
	}
	return rc;
}

void
tr_feed_state_free(struct tr_feed_state *fs)
{
	if (fs == NULL)
		return;
	free(fs->name);
	free(fs->url);
	free(fs->effective_url);
	free(fs->title);
	free(fs->site_link);
	free(fs->etag);
	free(fs->last_modified);
	free(fs->body_hash);
	free(fs->last_error);
	free(fs->disabled_reason);
	memset(fs, 0, sizeof(*fs));
}

int
tr_feed_state_copy(struct tr_feed_state *d, const struct tr_feed_state *s)
{
	*d = *s;
	if (feed_own(d) != 0) {
		tr_feed_state_free(d); /* feed_own left NULL where it failed */
		return TR_ENOMEM;
	}
	return 0;
}

/* --- feed leases: who holds one --- */

/*
 * This process's place: host name, machine id and PID namespace
 * ("host:machine/pid:[N]"), within which a PID names one process. The
 * machine id (machine-id(5)) tells apart hosts that share a name (cloned
 * machines all called localhost), whose initial PID namespaces also look
 * the same: without it, one would take another's live leases as dead.
 */
static void
owner_place(char *out, size_t size)
{
	char host[64] = "", ns[64] = "", id[40] = "";
	ssize_t n;
	FILE *fp;

	if (gethostname(host, sizeof(host) - 1) != 0)
		snprintf(host, sizeof(host), "host");
	if ((n = readlink("/proc/self/ns/pid", ns, sizeof(ns) - 1)) > 0)
		ns[n] = '\0';
	if ((fp = fopen("/etc/machine-id", "r")) != NULL) {
		if (fgets(id, sizeof(id), fp) == NULL)
			id[0] = '\0';
		fclose(fp);
	}
	id[strcspn(id, "\n")] = '\0';
	snprintf(out, size, "%s:%.12s/%s", host, id, ns);
}

void
store_owner_name(char *out, size_t size)
{
	char place[160];
	unsigned int nonce = 0;

	owner_place(place, sizeof(place));
	if (getrandom(&nonce, sizeof(nonce), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(nonce))
		nonce = (unsigned int)time(NULL) ^ (unsigned int)clock();
	snprintf(out, size, "%.120s/%ld/%08x", place, (long)getpid(), nonce);
}

int
store_owner_dead(const char *owner)
{
	char place[160];
	const char *p;
	size_t n;
	long pid;

	owner_place(place, sizeof(place));
	n = strlen(place);
	if (owner == NULL || strncmp(owner, place, n) != 0 || owner[n] != '/')
		return 0;
	p = owner + n + 1;
	pid = strtol(p, NULL, 10);
	if (pid <= 0 || pid == (long)getpid())
		return 0;
	return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* --- storing documents --- */

int
tr_store_batch_begin(struct tr_store_batch **out, struct tr_store *st,
    const char *feed_name)
{
	*out = NULL;
	return OPS(st)->batch_begin(out, st, feed_name);
}

int
tr_store_batch_add(struct tr_store_batch *b, const struct tr_article *a)
{
	return OPS(b)->batch_add(b, a);
}

int
tr_store_batch_add_prepared(struct tr_store_batch *b,
    const struct tr_article *a, const struct tr_store_prep *p)
{
	/* Only a backend that gives stored bodies (and so stored hashes)
	 * has kept items to stage. */
	if (p->kept)
		return OPS(b)->batch_keep ? OPS(b)->batch_keep(b, a, p)
					  : TR_EINVAL;
	return OPS(b)->batch_add_prepared(b, a, p);
}

int
tr_store_batch_commit(struct tr_store_batch *b,
    const struct tr_feed_meta *meta, struct tr_store_result *res)
{
	return OPS(b)->batch_commit(b, meta, res);
}

void
tr_store_batch_free(struct tr_store_batch *b)
{
	if (b != NULL)
		OPS(b)->batch_free(b);
}

/* Caps the JSON text of one article's lists (they come from outside). */
#define LIST_MAX ((size_t)16 << 20)
/* The most text of an article's bodies the search index holds. */
#define TEXT_MAX ((size_t)16 << 20)

int
store_json_str(struct tr_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;
	int rc = 0;

	if (s == NULL)
		return tr_buf_adds(b, "null");
	rc = tr_buf_addc(b, '"');
	for (p = (const unsigned char *)s; *p && rc == 0; p++) {
		if (*p == '"' || *p == '\\') {
			char e[2] = {'\\', (char)*p};

			rc = tr_buf_add(b, e, 2);
		} else if (*p < 0x20) {
			char e[6] = {'\\', 'u', '0', '0', hex[*p >> 4],
			    hex[*p & 15]};

			rc = tr_buf_add(b, e, 6);
		} else
			rc = tr_buf_addc(b, (char)*p);
	}
	if (rc == 0)
		rc = tr_buf_addc(b, '"');
	return rc;
}

/* The JSON of the article's authors, categories and enclosures. */
static int
lists_json(struct tr_store_prep *b, const struct tr_article *a)
{
	size_t i;
	int rc = 0;

	tr_buf_reset(&b->authors);
	tr_buf_reset(&b->categories);
	tr_buf_reset(&b->enclosures);
	for (i = 0; i < a->n_authors && rc == 0; i++) {
		const struct tr_person *p = &a->authors[i];

		rc = tr_buf_adds(&b->authors, i ? ",{\"name\":" : "[{\"name\":");
		if (rc == 0)
			rc = store_json_str(&b->authors, p->name);
		if (rc == 0)
			rc = tr_buf_adds(&b->authors, ",\"email\":");
		if (rc == 0)
			rc = store_json_str(&b->authors, p->email);
		if (rc == 0)
			rc = tr_buf_adds(&b->authors, ",\"uri\":");
		if (rc == 0)
			rc = store_json_str(&b->authors, p->uri);
		if (rc == 0)
			rc = tr_buf_adds(&b->authors,
			    i + 1 == a->n_authors ? "}]" : "}");
	}
	for (i = 0; i < a->n_categories && rc == 0; i++) {
		rc = tr_buf_addc(&b->categories, i ? ',' : '[');
		if (rc == 0)
			rc = store_json_str(&b->categories, a->categories[i]);
		if (rc == 0 && i + 1 == a->n_categories)
			rc = tr_buf_addc(&b->categories, ']');
	}
	for (i = 0; i < a->n_enclosures && rc == 0; i++) {
		const struct tr_enclosure *e = &a->enclosures[i];

		rc = tr_buf_adds(&b->enclosures, i ? ",{\"url\":" : "[{\"url\":");
		if (rc == 0)
			rc = store_json_str(&b->enclosures, e->url);
		if (rc == 0)
			rc = tr_buf_adds(&b->enclosures, ",\"type\":");
		if (rc == 0)
			rc = store_json_str(&b->enclosures, e->type);
		if (rc == 0)
			rc = tr_buf_printf(&b->enclosures, ",\"length\":%lld}%s",
			    (long long)e->length,
			    i + 1 == a->n_enclosures ? "]" : "");
	}
	return rc;
}

void
tr_store_prep_init(struct tr_store_prep *p)
{
	p->canon = NULL;
	p->hash = 0;
	p->kept = 0;
	tr_buf_init(&p->authors, LIST_MAX);
	tr_buf_init(&p->categories, LIST_MAX);
	tr_buf_init(&p->enclosures, LIST_MAX);
	tr_buf_init(&p->text, TEXT_MAX);
}

void
tr_store_prep_free(struct tr_store_prep *p)
{
	free(p->canon);
	p->canon = NULL;
	tr_buf_free(&p->authors);
	tr_buf_free(&p->categories);
	tr_buf_free(&p->enclosures);
	tr_buf_free(&p->text);
}

int
store_body_text(struct tr_buf *out, const char *summary, const char *content)
{
	int rc = 0;

	if (summary != NULL)
		rc = tr_html_text(out, summary, strlen(summary), 0);
	if (rc == 0 && out->len > 0)
		rc = tr_buf_addc(out, ' ');
	if (rc == 0 && content != NULL)
		rc = tr_html_text(out, content, strlen(content), 0);
	if (out->len > 0 && out->data[out->len - 1] == ' ')
		tr_buf_truncate(out, out->len - 1);
	return rc;
}

const char *
store_prep_text(const struct tr_article *a, const struct tr_store_prep *p)
{
	if (a->text != NULL)
		return a->text;
	return p->text.len > 0 ? p->text.data : NULL;
}

int
tr_store_prep(struct tr_store_prep *p, const struct tr_article *a)
{
	int rc;

	free(p->canon);
	p->canon = NULL;
	p->kept = 0;
	if ((rc = lists_json(p, a)) != 0)
		return rc;
	if (a->link && (p->canon = tr_url_canonical(a->link)) == NULL)
		tr_log(TR_LOG_DEBUG, "article %s: link %s has no canonical "
		    "form", a->id ? a->id : "", a->link);
	p->hash = tr_article_content_hash(a);
	/* The parser gives the text from its sanitizing walk; an article
	 * from elsewhere (raw bodies, a test) has its bodies read here, by
	 * the same parser. A text past the cap is indexed as far as it
	 * goes. */
	tr_buf_reset(&p->text);
	if (a->text == NULL &&
	    (rc = store_body_text(&p->text, a->summary, a->content)) != 0 &&
	    rc != TR_ETOOBIG)
		return rc;
	return 0;
}

int
tr_store_prep_keep(struct tr_store_prep *p, const struct tr_article *a)
{
	uint64_t h;

	p->kept = 0;
	if (!a->bodies_as_stored || a->stored_hash == 0 || a->id == NULL)
		return 0;
	/* Everything the row shows is in the content hash, and the row is
	 * written only when that hash differs (its canonical link is of the
	 * link the hash covers): an equal hash leaves the row as it is. */
	if ((h = tr_article_content_hash(a)) != a->stored_hash)
		return 0;
	free(p->canon);
	p->canon = NULL;
	tr_buf_reset(&p->authors);
	tr_buf_reset(&p->categories);
	tr_buf_reset(&p->enclosures);
	tr_buf_reset(&p->text);
	p->hash = h;
	p->kept = 1;
	return 1;
}

/* --- the full-text index and group commit --- */

void
tr_store_defer_index(struct tr_store *st, int defer)
{
	OPS(st)->defer_index(st, defer);
}

int
tr_store_index(struct tr_store *st)
{
	return OPS(st)->index(st);
}

int
tr_store_maintain(struct tr_store *st, int64_t pages, int *more)
{
	if (more != NULL)
		*more = 0;
	if (OPS(st)->maintain == NULL)
		return 0;
	return OPS(st)->maintain(st, pages, more);
}

void
tr_store_group_begin(struct tr_store *st)
{
	OPS(st)->group_begin(st);
}

int
tr_store_group_commit(struct tr_store *st)
{
	return OPS(st)->group_commit(st);
}

int
tr_store_group_end(struct tr_store *st)
{
	return OPS(st)->group_end(st);
}

int
tr_store_group_open(const struct tr_store *st)
{
	return OPS(st)->group_open(st);
}

int64_t
tr_store_groups_lost(const struct tr_store *st, const char **why)
{
	return OPS(st)->groups_lost(st, why);
}

/* --- reading --- */

/* The caller's callback, for with_feed_author(). */
struct item_cb {
	tr_item_cb cb;
	void *arg;
};

/*
 * An item without an author of its own is its feed's (RFC 4287 §4.2.1:
 * an entry without atom:author has the feed's; RSS channel authors
 * likewise). The parser gives items the feed's author when the document
 * names it before them; the store keeps the feed's author, so that the
 * items before it have it too, wherever the document names it.
 */
static int
with_feed_author(const struct tr_item *it, void *arg)
{
	const struct item_cb *c = arg;
	struct tr_item copy;
	union {
		const char *borrowed;
		char *field;
	} author; /* the record's field is not const; nothing writes it */

	if (it->a.n_authors > 0 || (it->a.author && *it->a.author) ||
	    it->feed_author == NULL || *it->feed_author == '\0')
		return c->cb(it, c->arg);
	copy = *it;
	author.borrowed = it->feed_author;
	copy.a.author = author.field;
	return c->cb(&copy, c->arg);
}

int
tr_store_query(struct tr_store *st, const struct tr_query *q, tr_item_cb cb,
    void *arg, char **next)
{
	struct item_cb c = {cb, arg};

	if (next != NULL)
		*next = NULL;
	return OPS(st)->query(st, q, with_feed_author, &c, next);
}

int
tr_store_generation(struct tr_store *st, int64_t *gen, int64_t *changed_at)
{
	return OPS(st)->generation(st, gen, changed_at);
}

int
tr_store_next_due(struct tr_store *st, int64_t *when)
{
	return OPS(st)->next_due(st, when);
}

int
tr_store_feeds_stamp(struct tr_store *st, int64_t *stamp, int64_t *latest)
{
	return OPS(st)->feeds_stamp(st, stamp, latest);
}

int
tr_store_retention(struct tr_store *st, const struct tr_config *cfg,
    int64_t now, int64_t *deleted)
{
	return OPS(st)->retention(st, cfg, now, deleted);
}

int
tr_store_stats(struct tr_store *st, struct tr_store_stats *out)
{
	return OPS(st)->stats(st, out);
}

/*
 * poll.c — one polling round (see poll.h).
 *
 * The round has three steps:
 *
 *   1. Read every feed's state (tr_store_feed_states) and keep a job
 *      for each feed to poll: due, forced or named. While reading,
 *      collect the Retry-After holds of all feeds into a per-host map.
 *   2. Run the fetch engine. Its next() hands out the jobs in order,
 *      skipping those whose host is held (holds that arrive during the
 *      round count at once). For a 2xx body, body_start() opens a
 *      parser and a document on the writer thread, body() feeds the
 *      parser as bytes arrive, and each parsed article is queued for
 *      the writer.
 *   3. done() decides the outcome. A document to store is committed by
 *      the writer; when its result comes back (on_stored), the feed's
 *      new state is saved with its next check and the job ends. Other
 *      outcomes save and end at once. A job's memory is freed as soon
 *      as it ends.
 *
 * The writer thread (writer.h) does every store write of the round, in
 * the order queued, while this thread fetches and parses: the two
 * overlap on two cores, and the queue between them is bounded, so a
 * parser that outruns the store waits. The writes are grouped
 * (tr_store_group_begin): each document and each feed state is a
 * savepoint of a transaction that the writer commits a quarter second
 * after its first write. A crash loses at most the open group, whose
 * documents and feed states go together, so those feeds are simply
 * fetched again. The writer indexes each group's new articles for search
 * in bulk after its commit, so the index is built while transfers still
 * run.
 *
 * Why nothing is stored from a failed transfer (a cut, a timeout, a body
 * over the cap): the batch is all-or-nothing, the document is incomplete,
 * and its items will come with the next complete fetch. The validators
 * and body hash are not updated either, so the next fetch is a full one.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "tributary/buf.h"
#include "tributary/date.h"
#include "tributary/error.h"
#include "tributary/fetch.h"
#include "tributary/hash.h"
#include "tributary/log.h"
#include "tributary/parse.h"
#include "tributary/poll.h"
#include "tributary/sched.h"
#include "tributary/store.h"
#include "tributary/url.h"
#include "tributary/writer.h"

/* How much of an HTML body is kept to look for <link rel=alternate>. */
#define SNIFF_MAX (64 * 1024)
/* Alternate links named in a "not a feed" error. */
#define MAX_ALT_LINKS 3
/*
 * Parsed articles queued for the writer thread at most (bytes of text),
 * both of its queues together (writer.c). In a cold round the writer is
 * the slower side, but it does not keep pace evenly: the preparing
 * threads work ahead while it commits only as far as its queue has
 * room. 1 MiB against 512 KiB: a cold round of 10,000 feeds about 10 %
 * faster for 0.5-0.9 MB more peak RSS (bench/notes
 * poll.10000.cold_floor_ratio); 2 MiB was faster still but over the
 * round's memory target.
 */
#define WRITER_QUEUE_BYTES (1 << 20)

/* A host of the round's feeds ("host:port"), kept once for all its
 * jobs, with its Retry-After hold. */
struct host {
	int64_t until; /* no request before this time; 0 = none */
	char name[];
};

struct round;

/* What succeed() needs of a response whose document is being stored. */
struct answer {
	int status;
	double seconds;
	char *etag, *last_modified, *permanent_url, *cache_control, *expires;
	char body_hash[64];
	/* The parser's, kept when it went back to the spare ones: */
	int64_t ttl;   /* the publisher's hint */
	int recovered; /* the document needed repairs */
};

/* A job's state while its transfer runs and its document is stored:
 * allocated when the job is handed out and freed when it ends, so that
 * the jobs waiting for their turn (all the feeds of a round) hold only
 * what a request needs. */
struct flight {
	struct tr_parser *parser;
	struct tr_writer_doc *doc; /* its document on the writer's side */
	struct tr_buf sniff; /* start of a possibly HTML body */
	int sniffing;
	int parse_err; /* the parser gave up */
	int store_err; /* out of memory queueing the document */
	int waiting;   /* the document's commit is queued; see answer */
	struct answer answer;
	int html_type; /* Content-Type says HTML */
	char *content_type;
	int redirects; /* of the transfer, for the report */
	struct tr_html_policy html_policy; /* the feed's, for its parser */
};

/*
 * One feed of the round. A round holds a job per due feed from its start
 * to its end (at 10,000 feeds, the whole list on a first round), so a job
 * waiting for its turn is small: a feed never polled yet (fresh_state)
 * keeps no state of its own until it is handed out, and its name and URL
 * are the config's.
 */
struct job {
	struct round *rd;
	const struct tr_feed_conf *fc;
	/* Owned; NULL while the feed is fresh and not handed out yet
	 * (job_state makes it). */
	struct tr_feed_state *fs;
	int64_t fresh_next; /* a fresh feed's next_check */
	struct host *host; /* of the request URL; the round's */
	size_t rank; /* its place among the feeds of its host */
	struct flight *f; /* while handed out, else NULL */
};

struct round {
	struct tr_store *st;
	const struct tr_config *cfg;
	const struct tr_poll_opts *opts;
	const struct tr_feed_conf **index; /* cfg->feeds sorted by name */
	struct job *jobs;
	size_t n_jobs, cap_jobs, next_job;
	struct tr_table host_tab; /* of struct host: the jobs' and holds' */
	struct tr_poll_stats stats;
	size_t reported, total;
	int64_t now;
	uint64_t rnd;
	int err;
	struct tr_writer *w; /* while the transfers run */
	/* The per-host limit across processes (store.h: host slots), or
	 * NULL: this process's only. */
	struct tr_store_hosts *hosts;
	/* The stored bodies the parsers reuse (store.h), or NULL. */
	struct tr_store_bodies *bodies;
	/* Parsers of finished jobs, reset and reused by the next ones (no
	 * more than the jobs ever in flight at once); freed with the round. */
	struct tr_parser **spare;
	size_t n_spare, cap_spare;
};


static const char *const outcome_names[] = {"ok",   "unchanged", "failed",
                                            "held", "disabled",  "busy"};

const char *
tr_poll_outcome_name(enum tr_poll_outcome o)
{
	if ((unsigned)o < sizeof(outcome_names) / sizeof(outcome_names[0]))
		return outcome_names[o];
	return "?";
}

/* --- small helpers --- */

/* Replaces *dst with a copy of src (NULL allowed). 0 or TR_ENOMEM. */
static int
set_str(char **dst, const char *src)
{
	char *c = NULL;

	if (src != NULL && (c = strdup(src)) == NULL)
		return TR_ENOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

static int
cmp_conf(const void *a, const void *b)
{
	const struct tr_feed_conf *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

/* The config of the feed named name, by binary search in the index. */
static const struct tr_feed_conf *
find_conf(const struct round *rd, const char *name)
{
	struct tr_feed_conf key;
	const struct tr_feed_conf *kp = &key, *const * hit;

	if (rd->cfg->n_feeds == 0)
		return NULL; /* bsearch wants a base even for no elements */
	memset(&key, 0, sizeof(key));
	key.name = (char *)(uintptr_t)name;
	hit = bsearch(&kp, rd->index, rd->cfg->n_feeds, sizeof(*rd->index),
	              cmp_conf);
	return hit ? *hit : NULL;
}

static const char *
request_url(const struct tr_feed_state *fs)
{
	return fs->effective_url && *fs->effective_url ? fs->effective_url
	                                               : fs->url;
}

/* --- hosts and their holds (Retry-After) --- */

/* The round's record of host name, added when new; NULL when memory
 * runs out. */
static struct host *
host_intern(struct round *rd, const char *name)
{
	size_t len = strlen(name);
	struct host *h;

	if ((h = tr_table_get(&rd->host_tab, name)) != NULL)
		return h;
	if ((h = calloc(1, sizeof(*h) + len + 1)) == NULL)
		return NULL;
	memcpy(h->name, name, len + 1);
	if (tr_table_add(&rd->host_tab, h) != 0) {
		free(h);
		return NULL;
	}
	return h;
}

static void
hosts_free(struct round *rd)
{
	size_t i;

	for (i = 0; i < rd->host_tab.cap; i++)
		free(rd->host_tab.slot[i]);
	tr_table_free(&rd->host_tab);
}

/* Holds host name until then, or longer if it was. 0 or TR_ENOMEM. */
static int
hold_set(struct round *rd, const char *name, int64_t until)
{
	struct host *h;

	if (*name == '\0')
		return 0;
	if ((h = host_intern(rd, name)) == NULL)
		return TR_ENOMEM;
	if (until > h->until)
		h->until = until;
	return 0;
}

/* --- step 1: choose the feeds --- */

static int
is_named(const struct round *rd, const char *name)
{
	size_t i;

	for (i = 0; i < rd->opts->n_names; i++)
		if (strcmp(rd->opts->names[i], name) == 0)
			return 1;
	return 0;
}

/*
 * Whether fs is a feed's state before its first poll, the whole of it
 * what job_state makes from the feed's config fc and a next_check: its
 * name and URL the config's, nothing else set. Every field of struct
 * tr_feed_state is looked at here.
 */
static int
fresh_state(const struct tr_feed_state *fs, const struct tr_feed_conf *fc)
{
	return fs->name != NULL && strcmp(fs->name, fc->name) == 0 &&
	       fs->url != NULL && strcmp(fs->url, fc->url) == 0 &&
	       fs->effective_url == NULL && fs->title == NULL &&
	       fs->site_link == NULL && fs->etag == NULL &&
	       fs->last_modified == NULL && fs->body_hash == NULL &&
	       fs->last_check == 0 && fs->last_success == 0 &&
	       fs->retry_after == 0 && fs->errors == 0 &&
	       fs->last_error == NULL && fs->last_status == 0 &&
	       fs->disabled == 0 && fs->disabled_reason == NULL &&
	       fs->active == 1 && fs->n_articles == 0 &&
	       fs->enabled == fc->enabled && fs->removed_at == 0;
}

static void
state_free(struct tr_feed_state *fs)
{
	tr_feed_state_free(fs);
	free(fs);
}

static int
collect_cb(const struct tr_feed_state *fs, void *arg)
{
	struct round *rd = arg;
	const struct tr_feed_conf *fc;
	struct job *j;
	char host[512];
	int selected;

	if (!fs->active || (fc = find_conf(rd, fs->name)) == NULL)
		return 0;
	tr_fetch_host(host, sizeof(host), request_url(fs));
	if (fs->retry_after > rd->now &&
	    (rd->err = hold_set(rd, host, fs->retry_after)) != 0)
		return 1;
	if (rd->opts->names != NULL)
		selected = is_named(rd, fs->name);
	else
		selected = rd->opts->force || fs->last_check == 0 ||
		           fs->next_check <= rd->now;
	if (!selected)
		return 0;
	/* Disabled feeds are only reported when asked for. */
	if ((fs->disabled || !fc->enabled) && rd->opts->names == NULL &&
	    !rd->opts->force)
		return 0;
	if (rd->n_jobs == rd->cap_jobs) {
		size_t cap = rd->cap_jobs ? rd->cap_jobs * 2 : 64;
		struct job *nj = realloc(rd->jobs, cap * sizeof(*nj));

		if (nj == NULL) {
			rd->err = TR_ENOMEM;
			return 1;
		}
		rd->jobs = nj;
		rd->cap_jobs = cap;
	}
	j = &rd->jobs[rd->n_jobs];
	memset(j, 0, sizeof(*j));
	j->fc = fc;
	j->rd = rd;
	if ((j->host = host_intern(rd, host)) == NULL) {
		rd->err = TR_ENOMEM;
		return 1;
	}
	if (fresh_state(fs, fc))
		j->fresh_next = fs->next_check;
	else if ((j->fs = calloc(1, sizeof(*j->fs))) == NULL ||
	         tr_feed_state_copy(j->fs, fs) != 0) {
		free(j->fs); /* tr_feed_state_copy freed its strings */
		j->fs = NULL;
		rd->err = TR_ENOMEM;
		return 1;
	}
	rd->n_jobs++;
	return 0;
}

/*
 * The state of job j, made from its config when it was fresh. NULL when
 * memory runs out.
 */
static struct tr_feed_state *
job_state(struct job *j)
{
	struct tr_feed_state *fs;

	if (j->fs != NULL)
		return j->fs;
	if ((fs = calloc(1, sizeof(*fs))) == NULL)
		return NULL;
	if ((fs->name = strdup(j->fc->name)) == NULL ||
	    (fs->url = strdup(j->fc->url)) == NULL) {
		state_free(fs);
		return NULL;
	}
	fs->next_check = j->fresh_next;
	fs->active = 1;
	fs->enabled = j->fc->enabled;
	return j->fs = fs;
}

/* --- reporting and saving --- */

static int on_article(const struct tr_article *a, void *arg);

/* Keeps a finished job's parser for the next job, or frees it. */
static void
parser_park(struct round *rd, struct tr_parser *p)
{
	struct tr_parser **q;

	if (p == NULL)
		return;
	if (rd == NULL) {
		tr_parser_free(p);
		return;
	}
	if (rd->n_spare == rd->cap_spare) {
		size_t cap = rd->cap_spare ? rd->cap_spare * 2 : 8;

		if ((q = realloc(rd->spare, cap * sizeof(*q))) == NULL) {
			tr_parser_free(p);
			return;
		}
		rd->spare = q;
		rd->cap_spare = cap;
	}
	rd->spare[rd->n_spare++] = p;
}

/* The parser's body callback: the item's bodies as the store has them
 * from the same raw inputs, so that it is not sanitized again. */
static int
stored_bodies(struct tr_article *a, void *arg)
{
	struct job *j = arg;

	return tr_store_bodies_get(j->rd->bodies, a, j->fs->name);
}

/*
 * A parser for job j's document: a parked one reset for it (whatever
 * state its last document left it in, a failure midway included), else a
 * new one.
 */
static int
parser_take(struct job *j, const struct tr_parse_opts *po)
{
	struct round *rd = j->rd;

	while (rd->n_spare > 0) {
		struct tr_parser *p = rd->spare[--rd->n_spare];

		if (tr_parser_reset(p, po->base_url, po->content_type) == 0) {
			tr_parser_set_callback(p, on_article, j);
			tr_parser_set_html_policy(p, po->html_policy);
			tr_parser_set_body_cb(p, po->body_cb, po->body_arg);
			j->f->parser = p;
			return 0;
		}
		tr_parser_free(p); /* out of memory: not reusable */
	}
	return tr_parser_new(&j->f->parser, po, on_article, j);
}

static void
answer_free(struct answer *a)
{
	free(a->etag);
	free(a->last_modified);
	free(a->permanent_url);
	free(a->cache_control);
	free(a->expires);
	memset(a, 0, sizeof(*a));
}

/* A job handed out: its state in flight (see struct flight). */
static int
flight_new(struct job *j)
{
	if ((j->f = calloc(1, sizeof(*j->f))) == NULL)
		return TR_ENOMEM;
	tr_buf_init(&j->f->sniff, SNIFF_MAX);
	return 0;
}

static void
flight_free(struct round *rd, struct flight *f)
{
	if (f == NULL)
		return;
	parser_park(rd, f->parser);
	if (f->doc != NULL)
		tr_writer_doc_discard(rd->w, f->doc);
	answer_free(&f->answer);
	tr_buf_free(&f->sniff);
	free(f->content_type);
	free(f);
}

static void
job_release(struct job *j)
{
	flight_free(j->rd, j->f);
	j->f = NULL;
	state_free(j->fs);
	j->fs = NULL;
}

static void
report(struct round *rd, struct job *j, enum tr_poll_outcome oc, int status,
       const struct tr_store_result *res, double seconds, const char *msg)
{
	struct tr_poll_result r;

	memset(&r, 0, sizeof(r));
	r.name = j->fc->name;
	r.outcome = oc;
	r.status = status;
	r.added = res ? res->added : 0;
	r.updated = res ? res->updated : 0;
	r.seconds = seconds;
	r.message = msg;
	r.url = j->fs != NULL ? request_url(j->fs) : j->fc->url;
	r.next_check = j->fs != NULL ? j->fs->next_check : j->fresh_next;
	r.index = ++rd->reported;
	r.total = rd->total;
	r.redirects = j->f != NULL ? j->f->redirects : 0;
	r.recovered = oc == TR_POLL_OK && j->f != NULL &&
	              (j->f->parser != NULL ? tr_parser_bozo(j->f->parser)
	                                    : j->f->answer.recovered);
	rd->stats.feeds++;
	rd->stats.added += r.added;
	rd->stats.updated += r.updated;
	switch (oc) {
	case TR_POLL_OK:
		rd->stats.ok++;
		break;
	case TR_POLL_UNCHANGED:
		rd->stats.unchanged++;
		break;
	case TR_POLL_FAILED:
		rd->stats.failed++;
		break;
	case TR_POLL_HELD:
		rd->stats.held++;
		break;
	case TR_POLL_DISABLED:
		rd->stats.disabled++;
		break;
	case TR_POLL_BUSY:
		rd->stats.busy++;
		break;
	}
	if (rd->opts->on_feed != NULL)
		rd->opts->on_feed(&r, rd->opts->arg);
}

/* Saves j's state through the writer thread (which logs a failure). */
static void
save(struct round *rd, struct job *j)
{
	if (tr_writer_save(rd->w, j->fs) != 0)
		tr_log(TR_LOG_ERROR, "feed %s: saving its state failed: out "
		       "of memory", j->fs->name);
}

static int64_t
feed_interval(const struct round *rd, const struct job *j)
{
	return tr_config_feed_interval(rd->cfg, j->fc);
}

/* Now, from the options (tests) or the clock. */
static int64_t
clock_now(const struct round *rd)
{
	return rd->opts->now ? rd->opts->now : (int64_t)time(NULL);
}

/* A delay for people: "45s", "20m", "3h", "2d" (rounded). */
static void
human_delay(char *out, size_t size, int64_t s)
{
	if (s < 120)
		snprintf(out, size, "%" PRId64 "s", s < 0 ? 0 : s);
	else if (s < 2 * 3600)
		snprintf(out, size, "%" PRId64 "m", (s + 30) / 60);
	else if (s < 2 * 86400)
		snprintf(out, size, "%" PRId64 "h", (s + 1800) / 3600);
	else
		snprintf(out, size, "%" PRId64 "d", (s + 43200) / 86400);
}

/* --- the HTML sniffer --- */

/*
 * Why hand-written: the only HTML-aware parser among Debian libraries we
 * could use is libxml2's, which is not a dependency of this project (expat
 * reads XML only and stops at the first HTML-ism). All that is needed
 * here is the attributes of <link> tags in the first 64 KiB of a page
 * that claims to be a feed, for an error message; a tolerant scanner of
 * "<link a=b c='d' e=\"f\">" does that in a few lines.
 */

/* The next case-insensitive occurrence of the ASCII word w in [p, end). */
static const char *
find_ci(const char *p, const char *end, const char *w)
{
	size_t n = strlen(w);

	for (; p + n <= end; p++)
		if (strncasecmp(p, w, n) == 0)
			return p;
	return NULL;
}

struct attr {
	const char *v;
	size_t len;
};

/* Does the space-separated list [v, v+len) hold the token tok? */
static int
has_token(const struct attr *a, const char *tok)
{
	size_t n = strlen(tok), i = 0;

	while (i < a->len) {
		size_t start;

		while (i < a->len && isspace((unsigned char)a->v[i]))
			i++;
		start = i;
		while (i < a->len && !isspace((unsigned char)a->v[i]))
			i++;
		if (i - start == n && strncasecmp(a->v + start, tok, n) == 0)
			return 1;
	}
	return 0;
}

/* Is the media type a feed type (parameters ignored)? */
static int
is_feed_type(const struct attr *a)
{
	static const char *const types[] = {"application/rss+xml",
	                                    "application/atom+xml"};
	size_t i, n;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		n = strlen(types[i]);
		if (a->len >= n && strncasecmp(a->v, types[i], n) == 0 &&
		    (a->len == n || a->v[n] == ';' || a->v[n] == ' '))
			return 1;
	}
	return 0;
}

/*
 * Parses the attributes of one tag from p (just after "<link") up to its
 * '>'; fills rel, type and href. Returns where the tag ends.
 */
static const char *
scan_attrs(const char *p, const char *end, struct attr *rel, struct attr *type,
           struct attr *href)
{
	while (p < end && *p != '>') {
		const char *name, *v;
		size_t nlen, vlen = 0;

		while (p < end && (isspace((unsigned char)*p) || *p == '/'))
			p++;
		name = p;
		while (p < end && !isspace((unsigned char)*p) && *p != '=' &&
		       *p != '>' && *p != '/')
			p++;
		nlen = (size_t)(p - name);
		while (p < end && isspace((unsigned char)*p))
			p++;
		v = p;
		if (p < end && *p == '=') {
			p++;
			while (p < end && isspace((unsigned char)*p))
				p++;
			if (p < end && (*p == '"' || *p == '\'')) {
				char q = *p++;

				v = p;
				while (p < end && *p != q)
					p++;
				vlen = (size_t)(p - v);
				if (p < end)
					p++;
			} else {
				v = p;
				while (p < end && !isspace((unsigned char)*p) &&
				       *p != '>')
					p++;
				vlen = (size_t)(p - v);
			}
		}
		if (nlen == 0 && p < end && *p != '>')
			p++; /* stray character: skip it */
		else if (nlen == 3 && strncasecmp(name, "rel", 3) == 0)
			*rel = (struct attr){v, vlen};
		else if (nlen == 4 && strncasecmp(name, "type", 4) == 0)
			*type = (struct attr){v, vlen};
		else if (nlen == 4 && strncasecmp(name, "href", 4) == 0)
			*href = (struct attr){v, vlen};
	}
	return p;
}

/* Copies an attribute value, decoding the one entity URLs carry (&amp;). */
static char *
attr_text(const struct attr *a)
{
	char *out = malloc(a->len + 1);
	size_t i, o = 0;

	if (out == NULL)
		return NULL;
	for (i = 0; i < a->len; i++) {
		if (a->v[i] == '&' && a->len - i >= 5 &&
		    strncasecmp(a->v + i, "&amp;", 5) == 0) {
			out[o++] = '&';
			i += 4;
		} else {
			out[o++] = a->v[i];
		}
	}
	out[o] = '\0';
	return out;
}

size_t
tr_poll_html_feed_links(const char *html, size_t len, const char *base,
                        size_t max, void (*cb)(const char *url, void *arg),
                        void *arg)
{
	const char *p = html, *end = html + len;
	size_t found = 0;

	while (found < max && (p = find_ci(p, end, "<link")) != NULL) {
		struct attr rel = {NULL, 0}, type = {NULL, 0}, href = {NULL, 0};
		char *text, *abs;

		p += 5;
		if (p < end && !isspace((unsigned char)*p) && *p != '/')
			continue; /* <linkage> or the like */
		p = scan_attrs(p, end, &rel, &type, &href);
		if (p >= end)
			break; /* cut off before its '>': the href may be too */
		if (rel.v == NULL || href.v == NULL || type.v == NULL ||
		    !has_token(&rel, "alternate") || !is_feed_type(&type))
			continue;
		if ((text = attr_text(&href)) == NULL)
			break;
		abs = tr_url_resolve(base, text);
		if (abs != NULL) {
			cb(abs, arg);
			found++;
		}
		free(abs);
		free(text);
	}
	return found;
}

/* --- streaming a body into the parser and the batch --- */

static int
on_article(const struct tr_article *a, void *arg)
{
	struct job *j = arg;
	int rc;

	if ((rc = tr_writer_doc_add(j->rd->w, j->f->doc, a)) != 0) {
		j->f->store_err = rc;
		return 1;
	}
	return 0;
}

static int
media_is_html(const char *ctype)
{
	return ctype != NULL &&
	       (strncasecmp(ctype, "text/html", 9) == 0 ||
	        strncasecmp(ctype, "application/xhtml+xml", 21) == 0);
}

static int
body_start_cb(void *arg, const struct tr_fetch_result *r)
{
	struct job *j = arg;
	struct tr_parse_opts po;
	int rc;

	memset(&po, 0, sizeof(po));
	po.base_url = r->effective_url;
	po.content_type = r->content_type;
	/* Bodies are sanitized by the feed's policy, not as they are
	 * parsed but on the writer's preparing threads (writer.h), so that
	 * Gumbo's parse is off this thread: the fetching one. */
	tr_config_feed_html_policy(&j->f->html_policy, j->rd->cfg, j->fc);
	po.html_policy = &j->f->html_policy;
	po.defer_html = 1;
	/* A feed with no articles stored (its first fetch, a cold round)
	 * has no bodies to reuse: no statement per item. */
	if (j->rd->bodies != NULL && j->fs->n_articles > 0) {
		po.body_cb = stored_bodies;
		po.body_arg = j;
	}
	j->f->html_type = media_is_html(r->content_type);
	j->f->sniffing = 1;
	if (set_str(&j->f->content_type, r->content_type) != 0) {
		j->f->store_err = TR_ENOMEM;
		return 1;
	}
	if ((j->f->doc = tr_writer_doc_begin(j->rd->w, j->fs->name,
	                                     po.html_policy, po.max_field,
	                                     j)) == NULL) {
		j->f->store_err = TR_ENOMEM;
		return 1;
	}
	if ((rc = parser_take(j, &po)) != 0) {
		j->f->store_err = rc;
		return 1;
	}
	return 0;
}

static int
body_cb(void *arg, const void *buf, size_t len)
{
	struct job *j = arg;
	const char *root;
	int rc;

	if (j->f->sniffing && j->f->sniff.len < SNIFF_MAX) {
		size_t room = SNIFF_MAX - j->f->sniff.len;

		if (tr_buf_add(&j->f->sniff, buf, len < room ? len : room) != 0)
			j->f->sniffing = 0;
	}
	if (!j->f->parse_err) {
		rc = tr_parser_feed(j->f->parser, buf, len);
		if (rc == TR_EABORT || j->f->store_err)
			return 1;
		if (rc != 0)
			j->f->parse_err = 1;
	}
	/* Once the parser saw a root that is not html, stop sniffing. */
	if (j->f->sniffing && !j->f->html_type) {
		root = tr_parser_root(j->f->parser);
		if (root != NULL && *root != '\0' &&
		    strcasecmp(root, "html") != 0) {
			j->f->sniffing = 0;
			tr_buf_free(&j->f->sniff);
		}
	}
	/* A broken document: read on only to fill the sniff buffer. */
	if (j->f->parse_err && (!j->f->sniffing || j->f->sniff.len >= SNIFF_MAX))
		return 1;
	return 0;
}

/* --- the outcome of one transfer --- */

/* RFC 9110 §15 reason phrases of the statuses feeds meet. */
static const struct {
	int code;
	const char *text;
} reasons[] = {
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {408, "Request Timeout"},
    {410, "Gone"},
    {429, "Too Many Requests"},
    {451, "Unavailable For Legal Reasons"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
};

static const char *
reason(int code)
{
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == code)
			return reasons[i].text;
	return "";
}

/*
 * Records a failure: errors + 1, the message, the next check after
 * backoff (and not before not_before), saved and reported.
 */
static void
fail(struct round *rd, struct job *j, int status, double secs, const char *msg,
     int64_t not_before)
{
	int64_t now = clock_now(rd), delay;
	char when[32];

	j->fs->errors++;
	if (set_str(&j->fs->last_error, msg) != 0)
		tr_log(TR_LOG_ERROR, "feed %s: out of memory", j->fs->name);
	delay = tr_sched_jitter(
	    tr_sched_backoff(feed_interval(rd, j), j->fs->errors),
	    tr_sched_random(&rd->rnd));
	j->fs->next_check = now + delay;
	if (not_before > j->fs->next_check)
		j->fs->next_check = not_before;
	save(rd, j);
	human_delay(when, sizeof(when), j->fs->next_check - now);
	if (j->fs->disabled)
		tr_log(TR_LOG_WARN, "feed %s: %s", j->fs->name, msg);
	else
		tr_log(TR_LOG_WARN, "feed %s: %s, next try in %s", j->fs->name,
		       msg, when);
	report(rd, j, TR_POLL_FAILED, status, NULL, secs, msg);
}

/*
 * A document fetched but not stored: the store failed (a database
 * restarted, a disk full), not the feed. Its error count and schedule
 * stay as they were, apart from a retry STORE_RETRY later (or at its
 * interval, when sooner): a round starts only when the store answers, so
 * the retry happens once the store is back, and not at the backoff of a
 * failing feed.
 */
#define STORE_RETRY 30

static void
store_fail(struct round *rd, struct job *j, int status, double secs,
           const char *msg)
{
	int64_t now = clock_now(rd), delay = feed_interval(rd, j);
	char when[32];

	if (delay > STORE_RETRY)
		delay = STORE_RETRY;
	if (set_str(&j->fs->last_error, msg) != 0)
		tr_log(TR_LOG_ERROR, "feed %s: out of memory", j->fs->name);
	j->fs->next_check = now + delay;
	save(rd, j);
	human_delay(when, sizeof(when), j->fs->next_check - now);
	tr_log(TR_LOG_WARN, "feed %s: %s, next try in %s", j->fs->name, msg,
	       when);
	report(rd, j, TR_POLL_FAILED, status, NULL, secs, msg);
}

/*
 * A document not stored, for rc with message why (the store's, or
 * tr_strerror's): an item past a size cap (TR_ETOOBIG) is the
 * document's doing and fails the feed; anything else is the store's
 * (store_fail).
 */
static void
not_stored(struct round *rd, struct job *j, int status, double secs, int rc,
           const char *why)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "storing failed: %s", why);
	if (rc == TR_ETOOBIG)
		fail(rd, j, status, secs, msg, 0);
	else
		store_fail(rd, j, status, secs, msg);
}

/* Records a good answer (200 stored, same body, or 304). */
static void
succeed(struct round *rd, struct job *j, const struct tr_fetch_result *r,
        enum tr_poll_outcome oc, const struct tr_store_result *res)
{
	struct tr_sched_hints h = {0, 0, 0};
	const struct tr_feed_meta *meta = NULL;
	int64_t now = clock_now(rd), exp = 0;
	int rc = 0;

	if (j->f->parser != NULL && oc == TR_POLL_OK &&
	    (meta = tr_parser_meta(j->f->parser)) != NULL)
		h.ttl = meta->ttl;
	else if (oc == TR_POLL_OK)
		h.ttl = j->f->answer.ttl;
	h.max_age = tr_sched_max_age(r->cache_control);
	if (r->expires != NULL && tr_date_parse_http(&exp, r->expires) == 0)
		h.expires = exp;
	/* Validators verbatim; a 304 need not repeat them (RFC 9110
	 * §15.4.5), a 200 without them has none. */
	if (r->status != 304 || r->etag != NULL)
		rc |= set_str(&j->fs->etag, r->etag);
	if (r->status != 304 || r->last_modified != NULL)
		rc |= set_str(&j->fs->last_modified, r->last_modified);
	if (r->permanent_url != NULL)
		rc |= set_str(&j->fs->effective_url,
		              strcmp(r->permanent_url, j->fs->url) == 0
		                  ? NULL
		                  : r->permanent_url);
	if (rc != 0)
		tr_log(TR_LOG_ERROR, "feed %s: out of memory", j->fs->name);
	j->fs->errors = 0;
	set_str(&j->fs->last_error, NULL);
	j->fs->retry_after = 0;
	j->fs->last_success = now;
	j->fs->next_check =
	    now + tr_sched_jitter(tr_sched_interval(feed_interval(rd, j), &h,
	                                            now, rd->cfg->min_interval,
	                                            rd->cfg->max_interval),
	                          tr_sched_random(&rd->rnd));
	save(rd, j);
	if (r->permanent_url != NULL) {
		/* Logs show no password or token (tr_url_public). */
		char *shown = tr_url_public(r->permanent_url);

		tr_log(TR_LOG_INFO, "feed %s: moved permanently to %s",
		       j->fs->name, shown ? shown : "(a URL that cannot be shown)");
		free(shown);
	}
	tr_log(TR_LOG_DEBUG,
	       "feed %s: %s, %" PRId64 " new, %" PRId64 " updated, %.2fs",
	       j->fs->name, tr_poll_outcome_name(oc), res ? res->added : 0,
	       res ? res->updated : 0, r->seconds);
	report(rd, j, oc, r->status, res, r->seconds, NULL);
}

struct links {
	struct tr_buf *msg;
	size_t n;
};

static void
add_link(const char *url, void *arg)
{
	struct links *l = arg;

	tr_buf_printf(l->msg, "%s%s", l->n++ ? ", " : "; it links to ", url);
}

/* The error for a body the parser could not read as a feed. */
static void
not_a_feed(struct round *rd, struct job *j, const struct tr_fetch_result *r)
{
	struct tr_buf msg;
	const char *root = j->f->parser ? tr_parser_root(j->f->parser) : "";
	size_t nw = j->f->parser ? tr_parser_nwarnings(j->f->parser) : 0;
	struct links l;

	tr_buf_init(&msg, 2048);
	l.msg = &msg;
	l.n = 0;
	if (r->bytes == 0) {
		tr_buf_adds(&msg, "not a feed (empty body)");
	} else if (j->f->html_type || (root && strcasecmp(root, "html") == 0)) {
		tr_buf_adds(&msg, "not a feed (text/html)");
		if (j->f->sniff.len > 0)
			tr_poll_html_feed_links(j->f->sniff.data, j->f->sniff.len,
			                        r->effective_url, MAX_ALT_LINKS,
			                        add_link, &l);
	} else if (root && *root) {
		tr_buf_printf(&msg, "not a feed (root element <%s>)", root);
		if (nw > 0)
			tr_buf_printf(&msg, ": %s",
			              tr_parser_warning(j->f->parser, nw - 1));
	} else {
		tr_buf_adds(&msg, "not a feed");
		if (nw > 0)
			tr_buf_printf(&msg, ": %s",
			              tr_parser_warning(j->f->parser, nw - 1));
	}
	fail(rd, j, r->status, r->seconds, msg.data ? msg.data : "not a feed",
	     0);
	tr_buf_free(&msg);
}

/* Keeps what succeed() needs of r until the document's result comes. */
static int
answer_keep(struct answer *a, const struct tr_fetch_result *r,
            const char *hash)
{
	a->status = r->status;
	a->seconds = r->seconds;
	snprintf(a->body_hash, sizeof(a->body_hash), "%s", hash);
	if (set_str(&a->etag, r->etag) != 0 ||
	    set_str(&a->last_modified, r->last_modified) != 0 ||
	    set_str(&a->permanent_url, r->permanent_url) != 0 ||
	    set_str(&a->cache_control, r->cache_control) != 0 ||
	    set_str(&a->expires, r->expires) != 0) {
		answer_free(a);
		return TR_ENOMEM;
	}
	return 0;
}

/*
 * A 2xx body has been read whole: finish and compare, then queue the
 * commit; on_stored() ends the job when its result comes.
 */
static void
body_done(struct round *rd, struct job *j, const struct tr_fetch_result *r)
{
	const struct tr_feed_meta *meta;
	char hash[64];
	int rc;

	if (j->f->store_err) {
		not_stored(rd, j, r->status, r->seconds, j->f->store_err,
		           tr_strerror(j->f->store_err));
		return;
	}
	if (j->f->parser == NULL || j->f->parse_err ||
	    tr_parser_finish(j->f->parser) != 0 || j->f->store_err) {
		not_a_feed(rd, j, r);
		return;
	}
	snprintf(hash, sizeof(hash), "%016" PRIx64 "-%" PRId64, r->body_hash,
	         r->bytes);
	if (j->fs->body_hash != NULL && strcmp(j->fs->body_hash, hash) == 0) {
		/* The same bytes as last time: the document is dropped. */
		succeed(rd, j, r, TR_POLL_UNCHANGED, NULL);
		return;
	}
	if ((rc = answer_keep(&j->f->answer, r, hash)) == 0) {
		rc = tr_writer_doc_commit(rd->w, j->f->doc,
		                          tr_parser_meta(j->f->parser));
		j->f->doc = NULL; /* queued, or discarded by the failed commit */
	}
	if (rc != 0) {
		store_fail(rd, j, r->status, r->seconds,
		           "storing failed: out of memory");
		return;
	}
	tr_log(TR_LOG_DEBUG, "feed %s: %zu items, %zu sanitized, %zu with "
	       "their stored bodies", j->fs->name,
	       tr_parser_nitems(j->f->parser),
	       tr_parser_nsanitized(j->f->parser),
	       tr_parser_nreused(j->f->parser));
	/* The parser is done with: another transfer may have it while
	 * this document waits for the writer (at 10,000 feeds, the jobs
	 * waiting held some 60 parsers of about 60 KiB each). */
	meta = tr_parser_meta(j->f->parser);
	j->f->answer.ttl = meta != NULL ? meta->ttl : 0;
	j->f->answer.recovered = tr_parser_bozo(j->f->parser);
	parser_park(rd, j->f->parser);
	j->f->parser = NULL;
	j->f->waiting = 1;
}

/* A document's result from the writer thread: the job ends. */
static void
on_stored(const struct tr_writer_result *wr, void *arg)
{
	struct round *rd = arg;
	struct job *j = wr->token;
	struct answer *a = &j->f->answer;
	struct tr_fetch_result r;

	if (wr->rc == TR_EABORT) {
		/* The round was stopped before the document was stored: not
		 * the feed's fault; its state stays, so the next round
		 * fetches it again. */
		j->f->waiting = 0;
		job_release(j);
		return;
	}
	if (wr->rc != 0) {
		not_stored(rd, j, a->status, a->seconds, wr->rc, wr->errmsg);
	} else {
		memset(&r, 0, sizeof(r));
		r.status = a->status;
		r.seconds = a->seconds;
		r.etag = a->etag;
		r.last_modified = a->last_modified;
		r.permanent_url = a->permanent_url;
		r.cache_control = a->cache_control;
		r.expires = a->expires;
		set_str(&j->fs->body_hash, a->body_hash);
		succeed(rd, j, &r, TR_POLL_OK, &wr->res);
	}
	j->f->waiting = 0;
	job_release(j);
}

/* A final status that is neither 2xx nor 304. */
static void
status_done(struct round *rd, struct job *j, const struct tr_fetch_result *r)
{
	int64_t now = clock_now(rd), until = 0;
	char msg[512], host[512];
	const char *why = reason(r->status);

	if (r->status == 410) {
		/* RFC 9110 §15.5.11: gone for good; stop until the config
		 * changes the URL (tr_store_sync_config lifts it). */
		j->fs->disabled = 1;
		set_str(&j->fs->disabled_reason, "gone (HTTP 410)");
		fail(rd, j, r->status, r->seconds,
		     "HTTP 410 Gone, feed disabled until its URL changes", 0);
		return;
	}
	if ((r->status == 429 || r->status == 503) &&
	    tr_sched_retry_after(&until, r->retry_after, now,
	                         rd->cfg->retry_after_max) == 0) {
		char when[32];

		/* RFC 9110 §10.2.3: not this host before then. */
		j->fs->retry_after = until;
		hold_set(rd, j->host->name, until);
		tr_fetch_host(host, sizeof(host), r->effective_url);
		hold_set(rd, host, until);
		human_delay(when, sizeof(when), until - now);
		snprintf(msg, sizeof(msg), "HTTP %d%s%s, Retry-After %s",
		         r->status, *why ? " " : "", why, when);
		fail(rd, j, r->status, r->seconds, msg, until);
		return;
	}
	snprintf(msg, sizeof(msg), "HTTP %d%s%s", r->status, *why ? " " : "",
	         why);
	fail(rd, j, r->status, r->seconds, msg, 0);
}

static void
done_cb(void *ctx, void *arg, const struct tr_fetch_result *r)
{
	struct round *rd = ctx;
	struct job *j = arg;

	if (r->err == TR_EABORT && !j->f->parse_err && !j->f->store_err) {
		/* Cancelled: not the feed's fault; its state stays. */
		job_release(j);
		return;
	}
	j->fs->last_check = clock_now(rd);
	j->fs->last_status = r->status;
	j->f->redirects = r->redirects;
	if (r->err != 0 && r->err != TR_EABORT)
		fail(rd, j, r->status, r->seconds, r->errmsg, 0);
	else if (r->status == 304)
		succeed(rd, j, r, TR_POLL_UNCHANGED, NULL);
	else if (r->status >= 200 && r->status < 300)
		body_done(rd, j, r);
	else
		status_done(rd, j, r);
	if (!j->f->waiting)
		job_release(j);
	tr_writer_results(rd->w, on_stored, rd);
}

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * While the engine waits on the network: results that came meanwhile,
 * and the host slots kept since their transfers ended go back to the
 * store (a transfer to the same host started since took its slot again).
 */
static void
idle_cb(void *ctx)
{
	struct round *rd = ctx;

	tr_writer_results(rd->w, on_stored, rd);
	if (rd->hosts != NULL && tr_store_hosts_flush(rd->hosts) != 0)
		tr_log(TR_LOG_WARN, "poll: %s (the slots are free again "
		       "when they expire)", tr_store_hosts_errmsg(rd->hosts));
}

/* Reports a job that is not fetched and releases it. */
static void
skip(struct round *rd, struct job *j, enum tr_poll_outcome oc, const char *msg)
{
	tr_log(TR_LOG_DEBUG, "feed %s: %s, %s", j->fc->name,
	       tr_poll_outcome_name(oc), msg);
	report(rd, j, oc, 0, NULL, 0, msg);
	job_release(j);
}

/*
 * When j's host is held (Retry-After), reports j as held, moves its next
 * check to the end of the hold, releases it and returns 1.
 */
static int
skip_if_held(struct round *rd, struct job *j)
{
	int64_t held = j->host->until, now = clock_now(rd);
	char msg[600], when[32];

	if (held <= now)
		return 0;
	human_delay(when, sizeof(when), held - now);
	snprintf(msg, sizeof(msg),
	         "host %s asked to wait (Retry-After), %s left", j->host->name,
	         when);
	if (job_state(j) == NULL)
		tr_log(TR_LOG_ERROR, "feed %s: out of memory; its next check "
		       "stays as it was", j->fc->name);
	else if (j->fs->next_check < held) {
		j->fs->next_check = held;
		save(rd, j);
	}
	skip(rd, j, TR_POLL_HELD, msg);
	return 1;
}

static int
next_cb(void *ctx, struct tr_fetch_req *req)
{
	struct round *rd = ctx;

	while (rd->next_job < rd->n_jobs) {
		struct job *j = &rd->jobs[rd->next_job++];

		if (!j->fc->enabled) {
			skip(rd, j, TR_POLL_DISABLED, "disabled in feeds.conf");
			continue;
		}
		if (j->fs != NULL && j->fs->disabled) {
			char msg[256];

			snprintf(msg, sizeof(msg), "disabled: %s",
			         j->fs->disabled_reason ? j->fs->disabled_reason
			                               : "by an earlier error");
			skip(rd, j, TR_POLL_DISABLED, msg);
			continue;
		}
		if (skip_if_held(rd, j))
			continue;
		if (job_state(j) == NULL) {
			tr_log(TR_LOG_ERROR, "feed %s: out of memory; it is "
			       "polled next round", j->fc->name);
			skip(rd, j, TR_POLL_FAILED, "out of memory");
			continue;
		}
		if (flight_new(j) != 0) {
			store_fail(rd, j, 0, 0, "out of memory");
			job_release(j);
			continue;
		}
		req->url = request_url(j->fs);
		req->user_agent = tr_config_feed_user_agent(rd->cfg, j->fc);
		req->etag = j->fs->etag;
		req->last_modified = j->fs->last_modified;
		req->allow_file = strncasecmp(j->fs->url, "file:", 5) == 0;
		/* Only the configured URL's host is trusted (fetch.h). */
		req->moved = req->url != j->fs->url &&
		             !tr_fetch_same_host(req->url, j->fs->url);
		req->arg = j;
		return 0;
	}
	return 1;
}

/* A request that waited for its host: a hold may have come meanwhile. */
static int
recheck_cb(void *ctx, const struct tr_fetch_req *req)
{
	return skip_if_held(ctx, req->arg);
}

/*
 * A slot of host across the processes sharing the store. A slot lasts at
 * most a transfer's timeout (and a minute): a process that dies holding
 * one leaves it to expire. When the store fails, the round goes on with
 * its own limit only (said once), rather than fail its feeds.
 */
static int
host_take_cb(void *ctx, const char *host, long limit, int *slot)
{
	struct round *rd = ctx;

	*slot = -1;
	if (rd->hosts == NULL)
		return 0;
	if (tr_store_host_take(rd->hosts, slot, host, (int)limit,
	                       (int64_t)time(NULL), rd->cfg->timeout + 60) !=
	    0) {
		tr_log(TR_LOG_WARN, "poll: host %s: %s; this round keeps "
		       "per_host for this process only", host,
		       tr_store_hosts_errmsg(rd->hosts));
		tr_store_hosts_close(rd->hosts);
		rd->hosts = NULL;
		*slot = -1;
		return 0;
	}
	return *slot < 0;
}

static void
host_give_cb(void *ctx, const char *host, int slot)
{
	struct round *rd = ctx;

	if (rd->hosts != NULL &&
	    tr_store_host_give(rd->hosts, host, slot) != 0)
		tr_log(TR_LOG_WARN, "poll: host %s: %s (the slot is free "
		       "again when it expires)", host,
		       tr_store_hosts_errmsg(rd->hosts));
}

static int
cmp_host_name(const void *a, const void *b)
{
	const struct job *x = a, *y = b;
	int c = strcmp(x->host->name, y->host->name);

	return c ? c : strcmp(x->fc->name, y->fc->name);
}

static int
cmp_rank_host(const void *a, const void *b)
{
	const struct job *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return cmp_host_name(a, b);
}

/*
 * Orders the jobs round-robin over hosts: the first feed of every host,
 * then the second of every host, and so on. Transfers then spread over
 * hosts instead of queuing behind one host's per_host limit, and a host
 * with many feeds sees them spaced out.
 */
static void
interleave_hosts(struct round *rd)
{
	size_t i;

	if (rd->n_jobs < 2)
		return;
	qsort(rd->jobs, rd->n_jobs, sizeof(*rd->jobs), cmp_host_name);
	for (i = 0; i < rd->n_jobs; i++)
		rd->jobs[i].rank =
		    i > 0 && rd->jobs[i].host == rd->jobs[i - 1].host
		        ? rd->jobs[i - 1].rank + 1
		        : 0;
	qsort(rd->jobs, rd->n_jobs, sizeof(*rd->jobs), cmp_rank_host);
}

/*
 * The jobs array grew by doubling while the feeds were read: give back
 * what the round does not use (at 10,000 feeds, 6,384 unused jobs of
 * 56 bytes held for the whole round). A failed shrink keeps it as is.
 */
static void
shrink_jobs(struct round *rd)
{
	struct job *nj;

	if (rd->n_jobs == 0 || rd->n_jobs == rd->cap_jobs)
		return;
	if ((nj = realloc(rd->jobs, rd->n_jobs * sizeof(*nj))) == NULL)
		return;
	rd->jobs = nj;
	rd->cap_jobs = rd->n_jobs;
}

/*
 * Claims the round's feeds in the store (see tr_store_claim), so that
 * another process polling the same store leaves them alone; the ones
 * another process holds are reported busy and dropped from the round.
 * The lease lasts as long as this round may plausibly take (every job
 * at the configured concurrency, each up to the transfer timeout, plus
 * five minutes for storing); a process that dies leaves it to expire.
 */
static int
claim_jobs(struct round *rd)
{
	const char **names;
	int64_t *seen;
	unsigned char *got;
	int64_t conc = rd->cfg->concurrency > 0 ? rd->cfg->concurrency : 1;
	int64_t ttl = 300 + rd->cfg->timeout *
	                        (1 + (int64_t)rd->n_jobs / conc);
	size_t i, k;
	int rc;

	if (rd->n_jobs == 0)
		return 0;
	names = malloc(rd->n_jobs * sizeof(*names));
	seen = malloc(rd->n_jobs * sizeof(*seen));
	got = malloc(rd->n_jobs);
	if (names == NULL || seen == NULL || got == NULL) {
		free(names);
		free(seen);
		free(got);
		return TR_ENOMEM;
	}
	/* A feed polled by another process since the round read it (its
	 * last_check moved) is not claimed: it is not due any more. */
	for (i = 0; i < rd->n_jobs; i++) {
		names[i] = rd->jobs[i].fc->name;
		seen[i] = rd->jobs[i].fs != NULL ? rd->jobs[i].fs->last_check : 0;
	}
	rc = tr_store_claim(rd->st, names, seen, rd->n_jobs, rd->now, ttl,
	                    got);
	free(names);
	free(seen);
	if (rc != 0) {
		free(got);
		return rc;
	}
	for (i = k = 0; i < rd->n_jobs; i++) {
		if (!got[i]) {
			skip(rd, &rd->jobs[i], TR_POLL_BUSY,
			     "being polled by another tributary process");
			continue;
		}
		if (k != i)
			rd->jobs[k] = rd->jobs[i];
		k++;
	}
	rd->n_jobs = k;
	free(got);
	shrink_jobs(rd);
	return 0;
}

int
tr_poll_run(struct tr_poll_stats *stats, struct tr_store *st,
            const struct tr_config *cfg, const struct tr_poll_opts *opts)
{
	static const struct tr_poll_opts no_opts;
	static const struct tr_fetch_ops ops = {.next = next_cb,
	                                        .body_start = body_start_cb,
	                                        .body = body_cb,
	                                        .recheck = recheck_cb,
	                                        .host_take = host_take_cb,
	                                        .host_give = host_give_cb,
	                                        .done = done_cb,
	                                        .idle = idle_cb};
	struct tr_fetch_opts fo;
	struct round rd;
	double t0 = mono_now();
	size_t i;
	int rc = 0;

	memset(&rd, 0, sizeof(rd));
	rd.st = st;
	rd.cfg = cfg;
	rd.opts = opts ? opts : &no_opts;
	rd.host_tab.key_off = offsetof(struct host, name);
	rd.now = clock_now(&rd);
	rd.rnd = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^
	         (uint64_t)(uintptr_t)&rd;
	if (cfg->n_feeds > 0 &&
	    (rd.index = malloc(cfg->n_feeds * sizeof(*rd.index))) == NULL)
		return TR_ENOMEM;
	for (i = 0; i < cfg->n_feeds; i++)
		rd.index[i] = &cfg->feeds[i];
	if (cfg->n_feeds > 0)
		qsort(rd.index, cfg->n_feeds, sizeof(*rd.index), cmp_conf);
	rc = tr_store_feed_states(st, collect_cb, &rd);
	if (rd.err != 0 || rc != 0) {
		rc = rd.err ? rd.err : TR_ESTORE;
		tr_log(TR_LOG_ERROR, "poll: reading the feeds failed: %s",
		       rd.err ? tr_strerror(rd.err) : tr_store_errmsg(st));
		goto out;
	}
	rd.total = rd.n_jobs;
	interleave_hosts(&rd);
	if ((rc = claim_jobs(&rd)) != 0) {
		tr_log(TR_LOG_ERROR, "poll: claiming the feeds failed: %s",
		       rc == TR_ESTORE ? tr_store_errmsg(st) : tr_strerror(rc));
		goto out;
	}
	tr_fetch_opts_from_config(&fo, cfg);
	fo.cancel = rd.opts->cancel;
	if (tr_store_hosts_open(&rd.hosts, st) != 0)
		tr_log(TR_LOG_WARN, "poll: %s; this round keeps per_host for "
		       "this process only", tr_store_errmsg(st));
	if (tr_store_bodies_open(&rd.bodies, st) != 0)
		tr_log(TR_LOG_WARN, "poll: %s; this round sanitizes every item "
		       "of a changed document", tr_store_errmsg(st));
	if ((rc = tr_writer_start(&rd.w, st, WRITER_QUEUE_BYTES)) != 0) {
		tr_log(TR_LOG_ERROR, "poll: starting the writer thread failed: "
		       "%s", tr_strerror(rc));
		goto out;
	}
	tr_writer_set_cancel(rd.w, rd.opts->cancel);
	rc = tr_fetch_run(&fo, &ops, &rd);
	tr_store_hosts_close(rd.hosts);
	rd.hosts = NULL;
	tr_store_bodies_close(rd.bodies);
	rd.bodies = NULL;
	/* The last documents' results, whose feed states then go the same
	 * way before the writer ends. */
	tr_writer_flush(rd.w);
	tr_writer_results(rd.w, on_stored, &rd);
	tr_writer_stop(rd.w);
	rd.w = NULL;
	if (tr_store_release(st) != 0)
		tr_log(TR_LOG_WARN, "poll: releasing the round's feeds failed "
		       "(they are free again when their lease ends): %s",
		       tr_store_errmsg(st));
	rd.stats.seconds = mono_now() - t0;
	tr_log(TR_LOG_INFO,
	       "poll: %" PRId64 " feeds in %.2fs: %" PRId64 " ok, %" PRId64
	       " unchanged, %" PRId64 " failed, %" PRId64 " held, %" PRId64
	       " disabled; %" PRId64 " new, %" PRId64 " updated articles",
	       rd.stats.feeds, rd.stats.seconds, rd.stats.ok,
	       rd.stats.unchanged, rd.stats.failed, rd.stats.held,
	       rd.stats.disabled, rd.stats.added, rd.stats.updated);
out:
	tr_store_hosts_close(rd.hosts);
	tr_store_bodies_close(rd.bodies);
	/* Jobs never handed out (cancelled round) still own memory. */
	for (i = rd.next_job; i < rd.n_jobs; i++)
		job_release(&rd.jobs[i]);
	if (stats != NULL)
		*stats = rd.stats;
	hosts_free(&rd);
	for (i = 0; i < rd.n_spare; i++)
		tr_parser_free(rd.spare[i]);
	free(rd.spare);
	free(rd.jobs);
	free(rd.index);
	return rc;
}

/*
 * store_pg_hosts.c — host slots of the PostgreSQL backend (store.h:
 * tr_store_host_take): the per-host connection limit across the nodes
 * that share one database.
 *
 * A slot is a row of host_slots (host, slot, owner, expires): a lease
 * like a feed's, held by the owner until expires (Unix seconds), free
 * when its owner is NULL. The handle has a connection of its own (a
 * second store handle), since the round's handle belongs to its writer
 * thread while the fetching thread takes and gives slots.
 *
 * Taking is one statement: of the slots 0..limit-1, the lowest not held
 * by a live lease (as the statement's snapshot sees them) is inserted,
 * or, when its row exists, updated under ON CONFLICT's row lock only if
 * it is still free or expired (the condition is checked again on the
 * row's latest version once the lock is held). So two nodes that pick
 * the same slot at once never both get it: the second finds it taken,
 * gets no row, and asks again later (as it does when all are held). A
 * slot's row is made the first time it is taken; rows stay (hosts times
 * per_host at most). Giving back is one UPDATE of the owner's row.
 *
 * A process that dies leaves its slots to expire, except that, as with
 * feed leases, slots of a process of this host that no longer runs
 * (store_owner_dead: a node restarted after a crash) are freed as soon
 * as a take finds the host full: at most once a second per handle, one
 * SELECT of the host's holders.
 *
 * A slot given back is kept by the handle (its row still ours) until
 * pg_hosts_flush, which the fetching thread calls whenever it waits: the
 * next transfer to the same host, which the fetch engine starts right
 * as the last one ends, takes it again without a statement (renewing
 * its lease when less than ttl - RENEW_SLACK of it is left). A round
 * with many feeds of one host so pays a statement per slot instead of
 * two per transfer; slots kept and not taken again go back together, in
 * one statement.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_int.h"
#include "tributary/buf.h"
#include "tributary/error.h"
#include "tributary/log.h"

/* A slot kept is renewed when less than ttl minus this is left. */
#define RENEW_SLACK 30

/* A slot this handle holds: in use, or given back and kept (idle). */
struct held {
	char *host;
	int slot;
	int idle;
	int64_t expires; /* its lease's end */
};

struct tr_store_hosts {
	const struct store_ops *ops; /* first: &store_pg_ops */
	struct tr_store *st;	     /* its own connection */
	int64_t dead_checked;	     /* when free_dead() last looked */
	struct held *held;
	size_t n_held, cap_held;
	size_t n_idle; /* of held */
};

/* Forgets held[i] (its row is dealt with by the caller). */
static void
held_drop(struct tr_store_hosts *h, size_t i)
{
	if (h->held[i].idle)
		h->n_idle--;
	free(h->held[i].host);
	h->held[i] = h->held[--h->n_held];
}

/* Remembers a slot just taken; 0 or TR_ENOMEM (the row then goes). */
static int
held_add(struct tr_store_hosts *h, const char *host, int slot,
    int64_t expires)
{
	struct held *n;

	if (h->n_held == h->cap_held) {
		size_t cap = h->cap_held ? h->cap_held * 2 : 16;

		if ((n = realloc(h->held, cap * sizeof(*n))) == NULL)
			return TR_ENOMEM;
		h->held = n;
		h->cap_held = cap;
	}
	n = &h->held[h->n_held];
	if ((n->host = strdup(host)) == NULL)
		return TR_ENOMEM;
	n->slot = slot;
	n->idle = 0;
	n->expires = expires;
	h->n_held++;
	return 0;
}

int
pg_hosts_open(struct tr_store_hosts **out, struct tr_store *st)
{
	struct tr_store_hosts *h;
	int rc;

	*out = NULL;
	if ((rc = pg_writable(st, "take host slots")) != 0)
		return rc;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return pg_err(st, TR_ENOMEM, "out of memory");
	h->ops = st->ops;
	if ((rc = pg_open(&h->st, st->path, 0)) != 0) {
		pg_err(st, rc, "%s", h->st ? h->st->errmsg : "out of memory");
		pg_close(h->st);
		free(h);
		return rc;
	}
	*out = h;
	return 0;
}

/*
 * Frees the slots of host whose holders are dead processes of this host;
 * *freed says how many.
 */
static int
free_dead(struct tr_store_hosts *h, const char *host, int64_t now, int *freed)
{
	char t[24];
	const char *p[3] = {host, pg_i64(t, now), NULL};
	PGresult *r = NULL;
	int i, rc;

	*freed = 0;
	rc = pg_exec(h->st, &r, "taking a host slot",
	    "SELECT DISTINCT owner FROM host_slots WHERE host = $1"
	    " AND owner IS NOT NULL AND expires > $2::bigint", 2, p);
	for (i = 0; rc == 0 && i < PQntuples(r); i++) {
		if (!store_owner_dead(PQgetvalue(r, i, 0)))
			continue;
		p[1] = PQgetvalue(r, i, 0);
		rc = pg_exec(h->st, NULL, "taking a host slot",
		    "UPDATE host_slots SET owner = NULL, expires = 0"
		    " WHERE host = $1 AND owner = $2", 2, p);
		if (rc == 0) {
			(*freed)++;
			tr_log(TR_LOG_INFO, "host %s: slots of %s, which no "
			    "longer runs, are free", host, p[1]);
		}
	}
	PQclear(r);
	return rc;
}

/* One statement: the lowest free slot of host, or none (see above). */
static int
take_once(struct tr_store_hosts *h, int *slot, const char *host, int limit,
    int64_t now, int64_t ttl)
{
	char l[24], t[24], u[24];
	const char *p[5];
	PGresult *r = NULL;
	int rc;

	*slot = -1;
	p[0] = host;
	p[1] = h->st->owner;
	p[2] = pg_i64(l, limit);
	p[3] = pg_i64(t, now);
	p[4] = pg_i64(u, now + ttl);
	rc = pg_exec(h->st, &r, "taking a host slot",
	    "INSERT INTO host_slots AS s (host, slot, owner, expires)"
	    " SELECT $1, g, $2, $5::bigint"
	    " FROM generate_series(0, $3::int - 1) g"
	    " WHERE NOT EXISTS (SELECT 1 FROM host_slots x WHERE x.host = $1"
	    " AND x.slot = g AND x.owner IS NOT NULL"
	    " AND x.expires > $4::bigint)"
	    " ORDER BY g LIMIT 1"
	    " ON CONFLICT (host, slot) DO UPDATE SET owner = excluded.owner,"
	    " expires = excluded.expires"
	    " WHERE s.owner IS NULL OR s.expires <= $4::bigint"
	    " RETURNING s.slot", 5, p);
	if (rc == 0 && PQntuples(r) == 1)
		*slot = (int)pg_col_int64(r, 0, 0);
	PQclear(r);
	return rc;
}

static int take_new(struct tr_store_hosts *h, int *slot, const char *host,
    int limit, int64_t now, int64_t ttl);
static int give_now(struct tr_store_hosts *h, const char *host, int slot);

/*
 * A slot of host that the handle kept, in use again (its lease renewed
 * when short): 1 with *slot set, 0 when there is none, else an error.
 */
static int
take_kept(struct tr_store_hosts *h, int *slot, const char *host, int limit,
    int64_t now, int64_t ttl)
{
	char k[24], u[24];
	const char *p[4];
	PGresult *r = NULL;
	size_t i;
	int rc, ok;

	for (i = 0; i < h->n_held; i++) {
		struct held *e = &h->held[i];

		if (!e->idle || e->slot >= limit || strcmp(e->host, host) != 0)
			continue;
		if (e->expires - now < ttl - RENEW_SLACK) {
			p[0] = host;
			p[1] = pg_i64(k, e->slot);
			p[2] = h->st->owner;
			p[3] = pg_i64(u, now + ttl);
			rc = pg_exec(h->st, &r, "renewing a host slot",
			    "UPDATE host_slots SET expires = $4::bigint"
			    " WHERE host = $1 AND slot = $2::int"
			    " AND owner = $3 RETURNING slot", 4, p);
			if (rc != 0)
				return rc;
			ok = PQntuples(r) == 1;
			PQclear(r);
			if (!ok) { /* expired and taken meanwhile */
				held_drop(h, i--);
				continue;
			}
			e->expires = now + ttl;
		}
		e->idle = 0;
		h->n_idle--;
		*slot = e->slot;
		return 1;
	}
	return 0;
}

int
pg_host_take(struct tr_store_hosts *h, int *slot, const char *host,
    int limit, int64_t now, int64_t ttl)
{
	int rc;

	if ((rc = take_kept(h, slot, host, limit, now, ttl)) != 0)
		return rc < 0 ? rc : 0;
	if ((rc = take_new(h, slot, host, limit, now, ttl)) != 0 ||
	    *slot < 0)
		return rc;
	if ((rc = held_add(h, host, *slot, now + ttl)) != 0) {
		give_now(h, host, *slot);
		*slot = -1;
	}
	return rc;
}

/* A slot not kept: take_once, and when the host is full, once a second,
 * again after freeing the slots of dead processes of this host. */
static int
take_new(struct tr_store_hosts *h, int *slot, const char *host, int limit,
    int64_t now, int64_t ttl)
{
	int rc, freed = 0;

	rc = take_once(h, slot, host, limit, now, ttl);
	if (rc != 0 || *slot >= 0 || now - h->dead_checked < 1)
		return rc;
	h->dead_checked = now;
	if ((rc = free_dead(h, host, now, &freed)) != 0 || freed == 0)
		return rc;
	return take_once(h, slot, host, limit, now, ttl);
}

/* Gives host's slot back to the store now. */
static int
give_now(struct tr_store_hosts *h, const char *host, int slot)
{
	char k[24];
	const char *p[3] = {host, pg_i64(k, slot), h->st->owner};

	return pg_exec(h->st, NULL, "giving a host slot back",
	    "UPDATE host_slots SET owner = NULL, expires = 0"
	    " WHERE host = $1 AND slot = $2::int AND owner = $3", 3, p);
}

/* Kept until pg_hosts_flush (see above). */
int
pg_host_give(struct tr_store_hosts *h, const char *host, int slot)
{
	size_t i;

	for (i = 0; i < h->n_held; i++) {
		if (h->held[i].idle || h->held[i].slot != slot ||
		    strcmp(h->held[i].host, host) != 0)
			continue;
		h->held[i].idle = 1;
		h->n_idle++;
		return 0;
	}
	return give_now(h, host, slot); /* not one of ours: no-op */
}

int
pg_hosts_flush(struct tr_store_hosts *h)
{
	struct tr_buf b;
	const char *p[2];
	size_t i;
	int rc = 0;

	if (h->n_idle == 0)
		return 0;
	/* [["host", slot], ...] as one parameter. */
	tr_buf_init(&b, SIZE_MAX);
	rc = tr_buf_addc(&b, '[');
	for (i = 0; i < h->n_held && rc == 0; i++) {
		if (!h->held[i].idle)
			continue;
		if (b.len > 1)
			rc = tr_buf_addc(&b, ',');
		if (rc == 0)
			rc = tr_buf_addc(&b, '[');
		if (rc == 0)
			rc = store_json_str(&b, h->held[i].host);
		if (rc == 0)
			rc = tr_buf_printf(&b, ",%d]", h->held[i].slot);
	}
	if (rc == 0)
		rc = tr_buf_addc(&b, ']');
	if (rc == 0) {
		p[0] = b.data;
		p[1] = h->st->owner;
		rc = pg_exec(h->st, NULL, "giving host slots back",
		    "UPDATE host_slots s SET owner = NULL, expires = 0"
		    " FROM json_array_elements($1::json) g"
		    " WHERE s.host = g->>0 AND s.slot = (g->>1)::int"
		    " AND s.owner = $2", 2, p);
	}
	/* Forgotten either way: a row not given back expires. */
	for (i = 0; i < h->n_held; i++)
		if (h->held[i].idle)
			held_drop(h, i--);
	tr_buf_free(&b);
	return rc;
}

const char *
pg_hosts_errmsg(const struct tr_store_hosts *h)
{
	return h->st->errmsg;
}

void
pg_hosts_close(struct tr_store_hosts *h)
{
	const char *p[1] = {h->st->owner};

	/* What is still held (a cancelled round) is free at once; if this
	 * fails, the leases expire. */
	pg_exec(h->st, NULL, "giving host slots back",
	    "UPDATE host_slots SET owner = NULL, expires = 0"
	    " WHERE owner = $1", 1, p);
	while (h->n_held > 0)
		held_drop(h, h->n_held - 1);
	free(h->held);
	pg_close(h->st);
	free(h);
}

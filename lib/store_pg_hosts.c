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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_int.h"
#include "tributary/error.h"
#include "tributary/log.h"

struct tr_store_hosts {
	const struct store_ops *ops; /* first: &store_pg_ops */
	struct tr_store *st;	     /* its own connection */
	int64_t dead_checked;	     /* when free_dead() last looked */
};

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

int
pg_host_take(struct tr_store_hosts *h, int *slot, const char *host,
    int limit, int64_t now, int64_t ttl)
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

int
pg_host_give(struct tr_store_hosts *h, const char *host, int slot)
{
	char k[24];
	const char *p[3] = {host, pg_i64(k, slot), h->st->owner};

	return pg_exec(h->st, NULL, "giving a host slot back",
	    "UPDATE host_slots SET owner = NULL, expires = 0"
	    " WHERE host = $1 AND slot = $2::int AND owner = $3", 3, p);
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
	pg_close(h->st);
	free(h);
}

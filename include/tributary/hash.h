/*
 * hash.h — FNV-1a 64 (http://www.isthe.com/chongo/tech/comp/fnv/), the
 * one non-cryptographic hash of tributary: content hashes and hash
 * tables; and the checksum of response bodies (tr_sum). Bytes only, so a
 * value is the same on every platform and every run, and may be stored.
 */
#ifndef TRIBUTARY_HASH_H
#define TRIBUTARY_HASH_H

#include <stddef.h>
#include <stdint.h>

#define TR_HASH_INIT UINT64_C(0xcbf29ce484222325)

/* Mixes n bytes into h; start from TR_HASH_INIT. */
uint64_t tr_hash(uint64_t h, const void *p, size_t n);

/* The hash of a NUL-terminated string, from TR_HASH_INIT. */
uint64_t tr_hash_str(const char *s);

/*
 * A table of records keyed by a string each holds (at key_off, as a
 * char array, for example a flexible array member), by open addressing
 * on tr_hash_str; a power of two in size, at most half full. The table
 * holds pointers: a record stays where it is while the table grows.
 * Zero it, then set key_off; walk it as slot[0 .. cap).
 */
struct tr_table {
	void **slot; /* a record, or NULL */
	size_t n, cap;
	size_t key_off;
};

/* The record keyed by key, or NULL. */
void *tr_table_get(const struct tr_table *t, const char *key);

/* Adds rec, whose key t does not hold yet. 0 or TR_ENOMEM (t as it was). */
int tr_table_add(struct tr_table *t, void *rec);

/* Frees the table's slots (not the records) and zeroes its counts. */
void tr_table_free(struct tr_table *t);

/*
 * A running checksum of a byte stream, for response bodies (is this the
 * same body as last time?): zlib's CRC-32 and Adler-32 side by side, 64
 * bits. Bodies are most of the bytes tributary reads, and FNV-1a costs a
 * multiply per byte; zlib's checksums run several bytes per cycle.
 */
struct tr_sum {
	uint32_t crc, adler;
};

void tr_sum_init(struct tr_sum *s);
void tr_sum_add(struct tr_sum *s, const void *p, size_t n);
/* CRC-32 in the high half, Adler-32 in the low one. */
uint64_t tr_sum_value(const struct tr_sum *s);

#endif

/* hash.c — FNV-1a 64, tables keyed by strings, and the body checksum
 * over zlib. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "tributary/error.h"
#include "tributary/hash.h"

#define FNV_PRIME UINT64_C(0x100000001b3)

uint64_t
tr_hash(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= FNV_PRIME;
	}
	return h;
}

uint64_t
tr_hash_str(const char *s)
{
	return tr_hash(TR_HASH_INIT, s, strlen(s));
}

static const char *
table_key(const struct tr_table *t, const void *rec)
{
	return (const char *)rec + t->key_off;
}

/* The slot of key in slots of cap (a power of two): its record's, or
 * the empty one where it goes. */
static void **
table_slot(const struct tr_table *t, void **slots, size_t cap,
    const char *key)
{
	size_t i = (size_t)tr_hash_str(key) & (cap - 1);

	while (slots[i] != NULL && strcmp(table_key(t, slots[i]), key) != 0)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

void *
tr_table_get(const struct tr_table *t, const char *key)
{
	return t->cap == 0 ? NULL : *table_slot(t, t->slot, t->cap, key);
}

int
tr_table_add(struct tr_table *t, void *rec)
{
	if (2 * (t->n + 1) > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64, i;
		void **slots = calloc(cap, sizeof(*slots));

		if (slots == NULL)
			return TR_ENOMEM;
		for (i = 0; i < t->cap; i++)
			if (t->slot[i] != NULL)
				*table_slot(t, slots, cap,
				    table_key(t, t->slot[i])) = t->slot[i];
		free(t->slot);
		t->slot = slots;
		t->cap = cap;
	}
	*table_slot(t, t->slot, t->cap, table_key(t, rec)) = rec;
	t->n++;
	return 0;
}

void
tr_table_free(struct tr_table *t)
{
	free(t->slot);
	t->slot = NULL;
	t->n = t->cap = 0;
}

void
tr_sum_init(struct tr_sum *s)
{
	s->crc = (uint32_t)crc32_z(0, Z_NULL, 0);
	s->adler = (uint32_t)adler32_z(0, Z_NULL, 0);
}

void
tr_sum_add(struct tr_sum *s, const void *p, size_t n)
{
	s->crc = (uint32_t)crc32_z(s->crc, p, n);
	s->adler = (uint32_t)adler32_z(s->adler, p, n);
}

uint64_t
tr_sum_value(const struct tr_sum *s)
{
	return (uint64_t)s->crc << 32 | s->adler;
}

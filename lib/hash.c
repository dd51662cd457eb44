/* hash.c — FNV-1a 64, and the body checksum over zlib. */
#include <string.h>
#include <zlib.h>

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

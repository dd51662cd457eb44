/* hash.c — FNV-1a 64. */
#include <string.h>

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

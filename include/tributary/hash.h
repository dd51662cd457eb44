/*
 * hash.h — FNV-1a 64 (http://www.isthe.com/chongo/tech/comp/fnv/), the
 * one non-cryptographic hash of tributary: content hashes, body hashes
 * and hash tables. Bytes only, so a value is the same on every platform
 * and every run, and may be stored.
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

#endif

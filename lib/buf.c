/* buf.c — growable, size-capped byte buffer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tributary/buf.h"
#include "tributary/error.h"

void
tr_buf_init(struct tr_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

/* Makes room for n more bytes plus the terminating NUL. */
static int
reserve(struct tr_buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if (n > b->max || b->len > b->max - n)
		return TR_ETOOBIG;
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
	/* The cap's byte for the NUL, unless the cap is the whole range
	 * (max + 1 would wrap to 0: a realloc to nothing). */
	if (b->max < (size_t)-1 && cap > b->max + 1)
		cap = b->max + 1;
	if ((p = realloc(b->data, cap)) == NULL)
		return TR_ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int
tr_buf_add(struct tr_buf *b, const void *p, size_t n)
{
	int rc;

	if ((rc = reserve(b, n)) != 0)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
tr_buf_adds(struct tr_buf *b, const char *s)
{
	return tr_buf_add(b, s, strlen(s));
}

int
tr_buf_addc(struct tr_buf *b, char c)
{
	return tr_buf_add(b, &c, 1);
}

int
tr_buf_vprintf(struct tr_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n, rc;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return TR_EINVAL;
	if ((rc = reserve(b, (size_t)n)) != 0)
		return rc;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
tr_buf_printf(struct tr_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = tr_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

const char *
tr_buf_str(const struct tr_buf *b)
{
	return b->data ? b->data : "";
}

void
tr_buf_reset(struct tr_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void
tr_buf_truncate(struct tr_buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

/*
 * A detached string can live long (an item body queued for the writer,
 * a field of a parsed document), and a buffer grown by doubling holds up
 * to twice its length: past this much spare room it is given back
 * (glibc shrinks a chunk in place, without a copy).
 */
#define DETACH_SLACK 256

char *
tr_buf_detach(struct tr_buf *b)
{
	char *s = b->data, *fit;

	if (s == NULL)
		s = calloc(1, 1);
	else if (b->cap - b->len > DETACH_SLACK &&
	         (fit = realloc(s, b->len + 1)) != NULL)
		s = fit;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return s;
}

void
tr_buf_free(struct tr_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

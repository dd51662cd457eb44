/*
 * buf.h — a growable, size-capped byte buffer: the one way tributary
 * builds strings (modelled on curl's dynbuf).
 *
 * The buffer is always NUL-terminated once anything was added. Every
 * buffer has a cap set at initialization; an add that would pass it fails
 * with TR_ETOOBIG and leaves the buffer as it was.
 */
#ifndef TRIBUTARY_BUF_H
#define TRIBUTARY_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct tr_buf {
	char *data; /* NULL until the first add; owned by the buffer */
	size_t len; /* bytes in use, not counting the terminating NUL */
	size_t cap; /* bytes allocated */
	size_t max; /* the most bytes the buffer may hold */
};

/* Initializes an empty buffer that will hold at most max bytes. */
void tr_buf_init(struct tr_buf *b, size_t max);

/* Appends n bytes (which may contain NULs). 0, TR_ENOMEM or TR_ETOOBIG. */
int tr_buf_add(struct tr_buf *b, const void *p, size_t n);

/* Appends a NUL-terminated string. */
int tr_buf_adds(struct tr_buf *b, const char *s);

/* Appends one byte. */
int tr_buf_addc(struct tr_buf *b, char c);

/* Appends printf-formatted text. */
int tr_buf_printf(struct tr_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int tr_buf_vprintf(struct tr_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* The contents as a NUL-terminated string; "" when empty. Borrowed. */
const char *tr_buf_str(const struct tr_buf *b);

/* Empties the buffer and keeps its memory for reuse. */
void tr_buf_reset(struct tr_buf *b);

/* Shortens the buffer to len bytes (len <= b->len). */
void tr_buf_truncate(struct tr_buf *b, size_t len);

/*
 * Hands the contents over to the caller as a malloc'ed NUL-terminated
 * string (an empty string when nothing was added; NULL only when out of
 * memory), without more than a little spare room after it, and leaves
 * the buffer empty.
 */
char *tr_buf_detach(struct tr_buf *b);

/* Frees the memory; the buffer is empty and can be reused. */
void tr_buf_free(struct tr_buf *b);

#endif

/*
 * buf: the one growable byte buffer, always with a hard maximum size (like
 * curl's dynbuf). Appending past the maximum fails with GL_ETOOBIG and
 * leaves the buffer unchanged. The data is always NUL-terminated one byte
 * past len (not counted in len or max), so text can be used as a C string.
 *
 * Also the overflow-checked size arithmetic used across glasslog.
 */
#ifndef GLASSLOG_BUF_H
#define GLASSLOG_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/error.h"

struct gl_buf {
    uint8_t *data; /* owned; NULL until the first append */
    size_t len;
    size_t cap;
    size_t max; /* len never exceeds max */
};

/* Initialises an empty buffer that may grow to max bytes. No allocation. */
void gl_buf_init(struct gl_buf *b, size_t max);
/* Frees the data (wiping it first) and leaves an empty buffer, same max. */
void gl_buf_release(struct gl_buf *b);
/* Empties the buffer, keeping its allocation. */
void gl_buf_reset(struct gl_buf *b);
/* Shortens the buffer to its first n bytes, keeping its allocation and
 * the NUL past len; n >= len changes nothing. The roll-back of a failed
 * series of appends: mark = len before, gl_buf_truncate(b, mark) after. */
void gl_buf_truncate(struct gl_buf *b, size_t n);
/* Appends n bytes. GL_ETOOBIG past max, GL_ENOMEM; unchanged on error. */
int gl_buf_append(struct gl_buf *b, const void *p, size_t n);
int gl_buf_append_str(struct gl_buf *b, const char *s);
int gl_buf_putc(struct gl_buf *b, uint8_t c);
/* Appends printf-formatted text. */
int gl_buf_printf(struct gl_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends the decimal form of v. */
int gl_buf_append_u64(struct gl_buf *b, uint64_t v);
/* Hands the data to the caller (who frees it with free()); *out is
 * NUL-terminated, never NULL on success. The buffer is left empty. */
int gl_buf_detach(struct gl_buf *b, uint8_t **out, size_t *len);

/* Overflow-checked arithmetic: 0 or GL_EOVERFLOW, *out set only on success. */
static inline int gl_size_add(size_t a, size_t b, size_t *out)
{
    if (a > SIZE_MAX - b)
        return GL_EOVERFLOW;
    *out = a + b;
    return 0;
}

static inline int gl_size_mul(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return GL_EOVERFLOW;
    *out = a * b;
    return 0;
}

#endif

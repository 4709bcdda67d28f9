/*
 * buf: bounded growable buffer. Invariants: len <= max; when data != NULL,
 * len < cap and data[len] == 0. Capacity grows geometrically but never
 * beyond max + 1 (the terminator). Any buffer may hold a secret (a key
 * file's text), so every block is wiped before it is freed: on release
 * and when growing moves the bytes to a larger block.
 */
#include "glasslog/buf.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "glasslog/error.h"

void gl_buf_init(struct gl_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void gl_buf_release(struct gl_buf *b)
{
    if (b->data != NULL) {
        OPENSSL_cleanse(b->data, b->cap);
        free(b->data);
    }
    gl_buf_init(b, b->max);
}

void gl_buf_reset(struct gl_buf *b)
{
    gl_buf_truncate(b, 0);
}

void gl_buf_truncate(struct gl_buf *b, size_t n)
{
    if (n >= b->len)
        return;
    b->len = n;
    b->data[n] = 0;
}

static int buf_reserve(struct gl_buf *b, size_t extra)
{
    size_t need, cap;
    uint8_t *p;

    if (gl_size_add(b->len, extra, &need) != 0 || need > b->max)
        return GL_ETOOBIG;
    if (b->data != NULL && need < b->cap)
        return 0;
    cap = b->cap < 64 ? 64 : b->cap;
    while (cap <= need)
        cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
    if (cap > b->max + 1 && b->max < SIZE_MAX)
        cap = b->max + 1;
    /* not realloc: a buffer may hold a secret, and the old block is
     * wiped before it goes back to the allocator */
    if ((p = malloc(cap)) == NULL)
        return GL_ENOMEM;
    if (b->data != NULL) {
        memcpy(p, b->data, b->len + 1);
        OPENSSL_cleanse(b->data, b->cap);
        free(b->data);
    }
    b->data = p;
    b->cap = cap;
    assert(need < b->cap);
    return 0;
}

int gl_buf_append(struct gl_buf *b, const void *p, size_t n)
{
    int err = buf_reserve(b, n);

    if (err != 0)
        return err;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    assert(b->len <= b->max && b->len < b->cap);
    return 0;
}

int gl_buf_append_str(struct gl_buf *b, const char *s)
{
    return gl_buf_append(b, s, strlen(s));
}

int gl_buf_putc(struct gl_buf *b, uint8_t c)
{
    return gl_buf_append(b, &c, 1);
}

int gl_buf_printf(struct gl_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n, err;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return GL_EINVAL;
    err = buf_reserve(b, (size_t)n);
    if (err != 0)
        return err;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    assert(b->len <= b->max && b->len < b->cap && b->data[b->len] == 0);
    return 0;
}

int gl_buf_append_u64(struct gl_buf *b, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof(tmp);

    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return gl_buf_append(b, tmp + i, sizeof(tmp) - i);
}

int gl_buf_detach(struct gl_buf *b, uint8_t **out, size_t *len)
{
    int err;

    if (b->data == NULL && (err = buf_reserve(b, 0)) != 0)
        return err;
    b->data[b->len] = 0;
    *out = b->data;
    if (len != NULL)
        *len = b->len;
    gl_buf_init(b, b->max);
    return 0;
}

/*
 * error: the text of each glasslog error code (static strings only, so
 * callers never free and messages are safe in any context), and the one
 * way parsers say why they failed (struct gl_err, see error.h).
 *
 * Invariant: after gl_err_set or gl_err_wrap, e->reason is NUL-terminated,
 * non-empty and free of control characters (C0, DEL, UTF-8 C1), whatever the format
 * arguments held (parsers quote their input in reasons).
 */
#include "glasslog/error.h"
#include "utf8.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *gl_strerror(int err)
{
    switch (err) {
    case GL_OK:
        return "success";
    case GL_EINVAL:
        return "invalid argument";
    case GL_ENOMEM:
        return "out of memory";
    case GL_ETOOBIG:
        return "input too large";
    case GL_EPARSE:
        return "malformed input";
    case GL_EVERIFY:
        return "verification failed";
    case GL_ENOKEY:
        return "no signature by a known key";
    case GL_ECRYPTO:
        return "cryptographic library error";
    case GL_ERANGE:
        return "out of range";
    case GL_ENOTFOUND:
        return "not found";
    case GL_EIO:
        return "I/O error";
    case GL_EQUORUM:
        return "quorum not satisfied";
    case GL_EKEYTYPE:
        return "wrong key type";
    case GL_EOVERFLOW:
        return "arithmetic overflow";
    case GL_EEXIST:
        return "already exists";
    case GL_ESTATE:
        return "invalid state";
    default:
        return "unknown error";
    }
}

/* Replaces each unprintable byte (gl_utf8_printable: C0 and DEL, the
 * bytes of a UTF-8 encoded C1 control, every byte that is not part of
 * valid UTF-8; newlines included) by '?': one printable line. */
static void one_line(char *s)
{
    size_t n = strlen(s), i = 0, k;

    while (i < n) {
        k = gl_utf8_printable((const unsigned char *)s + i, n - i);
        if (k == 0)
            s[i] = '?';
        i += k == 0 ? 1 : k;
    }
}

void gl_err_fill(struct gl_err *e, int code, size_t line, const char *fmt, ...)
{
    va_list ap;

    if (e == NULL)
        return;
    e->line = line;
    va_start(ap, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): a false positive */
    vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
    va_end(ap);
    one_line(e->reason);
    if (e->reason[0] == 0) /* never empty: a format bug still says something */
        snprintf(e->reason, sizeof(e->reason), "%s", gl_strerror(code));
    assert(e->reason[0] != 0 && memchr(e->reason, 0, sizeof(e->reason)) != NULL);
}

void gl_err_nest(struct gl_err *e, int code, size_t line_offset, const char *prefix)
{
    char inner[GL_ERR_REASON_MAX];

    if (e == NULL)
        return;
    if (e->line != 0)
        e->line += line_offset;
    if (prefix == NULL)
        return;
    memcpy(inner, e->reason, sizeof(inner));
    inner[sizeof(inner) - 1] = 0;
    gl_err_fill(e, code, e->line, "%s: %s", prefix,
                inner[0] != 0 ? inner : gl_strerror(code));
}

const char *gl_err_format(const struct gl_err *e, const char *where, char *out,
                          size_t max)
{
    if (max == 0)
        return out;
    if (where != NULL && e->line != 0)
        snprintf(out, max, "%s:%zu: %s", where, e->line, e->reason);
    else if (where != NULL)
        snprintf(out, max, "%s: %s", where, e->reason);
    else if (e->line != 0)
        snprintf(out, max, "line %zu: %s", e->line, e->reason);
    else
        snprintf(out, max, "%s", e->reason);
    return out;
}

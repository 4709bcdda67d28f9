/*
 * glasslog error codes. Every glasslog function returns 0 on success or one
 * of these negative codes; results travel through out-pointers.
 *
 * Why a parser refused its input: every parser (of notes, checkpoints,
 * keys, statements, policies, proofs, the daemons' and the client's files)
 * takes an optional `struct gl_err *why` as its last parameter. NULL means
 * the caller does not want to know; otherwise, on every failure, the
 * parser fills it with a reason naming what was wrong and, for formats
 * made of lines, the line. On success *why is left as it was. Programs
 * print it with gl_err_format, so every message has one shape:
 * "FILE:LINE: reason", or "FILE: reason" when the line is 0.
 */
#ifndef GLASSLOG_ERROR_H
#define GLASSLOG_ERROR_H

#include <stddef.h>

enum gl_error {
    GL_OK = 0,
    GL_EINVAL = -1,     /* invalid argument (caller bug or bad option) */
    GL_ENOMEM = -2,     /* allocation failed */
    GL_ETOOBIG = -3,    /* input exceeds a size cap */
    GL_EPARSE = -4,     /* malformed input */
    GL_EVERIFY = -5,    /* a signature or proof does not verify */
    GL_ENOKEY = -6,     /* no signature by a known key */
    GL_ECRYPTO = -7,    /* the crypto library failed */
    GL_ERANGE = -8,     /* index or size out of range */
    GL_ENOTFOUND = -9,  /* no such item */
    GL_EIO = -10,       /* I/O error */
    GL_EQUORUM = -11,   /* signatures do not satisfy the policy quorum */
    GL_EKEYTYPE = -12,  /* key of the wrong type for this use */
    GL_EOVERFLOW = -13, /* arithmetic overflow */
    GL_EEXIST = -14,    /* already exists */
    GL_ESTATE = -15,    /* operation not valid in this state */
};

/* Returns a static, one-line description of err (never NULL). */
const char *gl_strerror(int err);

#define GL_ERR_REASON_MAX 320 /* bytes of a reason, NUL included */

/* Why a parser failed. A plain value: nothing to free. */
struct gl_err {
    size_t line;                    /* 1-based line of the input; 0 when the
                                       format has no lines or the failure is
                                       not tied to one */
    char reason[GL_ERR_REASON_MAX]; /* one line, NUL-terminated; never
                                       empty after a failure */
};

/* gl_err_set(e, code, line, fmt, ...): sets *e (no-op when e is NULL) to
 * line and the printf-style reason, truncated to fit, control characters
 * (C0, DEL, UTF-8 encoded C1) replaced by '?' so it stays one line (an empty reason
 * becomes gl_strerror(code)), and evaluates to code, so that a parser can write return
 * gl_err_set(why, GL_EPARSE, line, "...", ...); A (GNU C) statement expression rather
 * than a function so that compilers and analysers see that the result is code (no false
 * "maybe uninitialized" on the parser's outputs); gl_err_fill does the work. */
#define gl_err_set(e, code, line, ...)                                                   \
    __extension__({                                                                      \
        int gl_err_code_ = (code);                                                       \
        gl_err_fill((e), gl_err_code_, (line), __VA_ARGS__);                             \
        gl_err_code_;                                                                    \
    })
void gl_err_fill(struct gl_err *e, int code, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Puts context on a reason that a nested parser set: a non-zero line
 * moves down by line_offset (the nested input started after line_offset
 * lines of the outer one) and, unless prefix is NULL, the reason becomes
 * "<prefix>: <reason>". No-op when e is NULL. Returns code (inline, so
 * that analysers see it; gl_err_nest does the work). */
void gl_err_nest(struct gl_err *e, int code, size_t line_offset, const char *prefix);
static inline int gl_err_wrap(struct gl_err *e, int code, size_t line_offset,
                              const char *prefix)
{
    gl_err_nest(e, code, line_offset, prefix);
    return code;
}

/* Formats e for a message into out (max bytes, NUL-terminated, truncated
 * to fit): "WHERE:LINE: reason", or "WHERE: reason" when e->line is 0;
 * with where NULL, "line LINE: reason" or "reason". Returns out. */
const char *gl_err_format(const struct gl_err *e, const char *where, char *out,
                          size_t max);

#endif

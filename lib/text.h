/*
 * text (internal): the one line cutter of every line-based parser. A
 * cursor walks s[0..n) line by line, never reading past n, and counts
 * lines so that errors can name them. Formats cut their lines differently
 * on purpose, so the cursor has a few options (flags):
 *
 *   GL_TEXT_OPEN_END    a last line without "\n" is a line; without this
 *                       flag it is an error (strict formats: signed notes,
 *                       checkpoints, statements, proofs)
 *   GL_TEXT_CR          one "\r" before the "\n" is not part of the line
 *                       (a file saved with CRLF line ends)
 *   GL_TEXT_TRIM_START  leading spaces and tabs are dropped
 *   GL_TEXT_TRIM_END    trailing spaces, tabs and "\r" are dropped
 *   GL_TEXT_SKIP        blank lines and "#" comments (first byte after
 *                       trimming) are skipped, but counted
 *
 * and an optional cap on the length of a line, measured before trimming
 * (after dropping the "\r" of GL_TEXT_CR), so that a configuration file
 * cannot hide a huge line in a comment.
 */
#ifndef GL_TEXT_H
#define GL_TEXT_H

#include <stddef.h>
#include <string.h>

#include "glasslog/error.h"

#define GL_TEXT_OPEN_END 1u
#define GL_TEXT_CR 2u
#define GL_TEXT_TRIM_START 4u
#define GL_TEXT_TRIM_END 8u
#define GL_TEXT_SKIP 16u

struct gl_text {
    const char *s; /* the input, borrowed */
    size_t n;
    size_t pos;     /* the next unread byte, <= n */
    size_t line;    /* 1-based number of the line last cut (skipped lines
                       count), 0 before the first; a caller may preset it
                       to number the lines of a part of a larger input */
    size_t max;     /* longest line allowed, 0 for no cap */
    unsigned flags; /* GL_TEXT_* */
};

/* Starts a cursor at the beginning of s (n bytes): line 0, no cap. */
void gl_text_init(struct gl_text *t, const char *s, size_t n, unsigned flags);

/* Cuts the next line (not skipped) into *line, *len (without its "\n",
 * trimmed as the flags say; *line points into s) and moves past it.
 * 0 with a line; GL_ENOTFOUND at the end of the input (t->line is then
 * the number of the last line); GL_EPARSE for a last line without "\n"
 * (unless GL_TEXT_OPEN_END), GL_ETOOBIG for a line longer than t->max,
 * and then t->line is that line's number. Callers stop at an error. */
int gl_text_line(struct gl_text *t, const char **line, size_t *len);

/* For a strict format: why a line it needs could not be cut (err from
 * gl_text_line): "missing <what>" at the line after the last one (end of
 * the input), or "<what> does not end with a newline" at that line. Fills
 * why (may be NULL) and returns GL_EPARSE (inline, so that analysers see
 * it). */
static inline int gl_text_missing(const struct gl_text *t, int err, const char *what,
                                  struct gl_err *why)
{
    if (err == GL_ENOTFOUND)
        return gl_err_set(why, GL_EPARSE, t->line + 1, "missing %s", what);
    return gl_err_set(why, GL_EPARSE, t->line, "%s does not end with a newline", what);
}

/* The 1-based number of the line that holds byte off of s (counting the
 * "\n"s in s[0..off)). */
size_t gl_text_line_at(const char *s, size_t off);

/* Literal strings, their lengths counted by the compiler, never by hand
 * (lit must be a string literal: `lit ""` refuses anything else).
 *   GL_LIT_LEN(lit)            strlen of the literal
 *   gl_str_prefix(s, lit)      NUL-terminated s starts with lit
 *   gl_mem_prefix(s, n, lit)   the n bytes at s start with lit
 *   gl_mem_is(s, n, lit)       the n bytes at s are exactly lit */
#define GL_LIT_LEN(lit) (sizeof(lit "") - 1)
#define gl_str_prefix(s, lit) (strncmp((s), lit "", GL_LIT_LEN(lit)) == 0)
#define gl_mem_prefix(s, n, lit)                                                         \
    ((n) >= GL_LIT_LEN(lit) && memcmp((s), lit "", GL_LIT_LEN(lit)) == 0)
#define gl_mem_is(s, n, lit)                                                             \
    ((n) == GL_LIT_LEN(lit) && memcmp((s), lit "", GL_LIT_LEN(lit)) == 0)

#endif

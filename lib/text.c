/*
 * text: the line cutter; options and contract in text.h.
 *
 * Invariants: pos never passes n and only moves forward; line grows by
 * one per line cut, skipped lines included, so it is always the number of
 * the line the caller is looking at (or complaining about).
 */
#include "text.h"

#include <assert.h>
#include <string.h>

#include "glasslog/error.h"

void gl_text_init(struct gl_text *t, const char *s, size_t n, unsigned flags)
{
    t->s = s;
    t->n = n;
    t->pos = 0;
    t->line = 0;
    t->max = 0;
    t->flags = flags;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Cuts the next physical line (pos < n) and trims it. */
static int cut(struct gl_text *t, const char **line, size_t *len)
{
    const char *p = t->s + t->pos;
    size_t left = t->n - t->pos, l;
    const char *nl = memchr(p, '\n', left);

    t->line++;
    if (nl == NULL && !(t->flags & GL_TEXT_OPEN_END)) {
        t->pos = t->n;
        return GL_EPARSE;
    }
    l = nl != NULL ? (size_t)(nl - p) : left;
    t->pos += nl != NULL ? l + 1 : l;
    if ((t->flags & GL_TEXT_CR) && l > 0 && p[l - 1] == '\r')
        l--;
    if (t->max != 0 && l > t->max)
        return GL_ETOOBIG;
    if (t->flags & GL_TEXT_TRIM_START) {
        while (l > 0 && is_blank(*p)) {
            p++;
            l--;
        }
    }
    if (t->flags & GL_TEXT_TRIM_END) {
        while (l > 0 && (is_blank(p[l - 1]) || p[l - 1] == '\r'))
            l--;
    }
    *line = p;
    *len = l;
    return 0;
}

int gl_text_line(struct gl_text *t, const char **line, size_t *len)
{
    int err;

    assert(t->pos <= t->n);
    for (;;) {
        if (t->pos >= t->n)
            return GL_ENOTFOUND;
        if ((err = cut(t, line, len)) != 0)
            return err;
        if (!(t->flags & GL_TEXT_SKIP) || (*len > 0 && (*line)[0] != '#'))
            return 0;
    }
}

size_t gl_text_line_at(const char *s, size_t off)
{
    size_t line = 1;

    for (size_t i = 0; i < off; i++)
        line += s[i] == '\n';
    return line;
}

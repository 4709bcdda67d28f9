/*
 * submitters: the --submitters file; format and caps in submitters.h.
 *
 * Design: one pass over the lines (text.h: a last line without "\n", a
 * "\r" before the "\n" dropped, the length capped before trimming, leading
 * blanks trimmed, blank lines and comments skipped); each line is split into
 * whitespace-separated tokens (the key, then options, then an optional
 * "#" comment). A key is checked against the ones before it (key ID
 * first, so the quadratic scan is cheap at the 4096-key cap); its bucket
 * is built at once from the line's options over the defaults.
 * Invariants: keys[i] is a note key, no two keys share name and ID, and
 * limits[i] is a valid bucket for keys[i].
 */
#include "submitters.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "glasslog/error.h"
#include "text.h"

struct line_opts {
    int has_rate, has_burst;
    struct ratelimit_limit lim;
};

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* The next token of [*p, end): its start and length; *p moves past it.
 * Length 0 at the end of the line. */
static size_t next_token(const char **p, const char *end, const char **tok)
{
    const char *s = *p;

    while (s < end && is_blank(*s))
        s++;
    *tok = s;
    while (s < end && !is_blank(*s))
        s++;
    *p = s;
    return (size_t)(s - *tok);
}

/* One rate= or burst= option of line `line`. */
static int parse_option(const char *t, size_t n, struct line_opts *o, size_t line,
                        struct gl_err *why)
{
    if (gl_mem_prefix(t, n, "rate=")) {
        if (o->has_rate++)
            return gl_err_set(why, GL_EPARSE, line, "rate= given twice");
        if (ratelimit_parse_rate(t + GL_LIT_LEN("rate="), n - GL_LIT_LEN("rate="),
                                 &o->lim.rate_u) != 0)
            return gl_err_set(why, GL_EPARSE, line, "rate= takes " RATELIMIT_RATE_SYNTAX);
        return 0;
    }
    if (gl_mem_prefix(t, n, "burst=")) {
        if (o->has_burst++)
            return gl_err_set(why, GL_EPARSE, line, "burst= given twice");
        if (ratelimit_parse_burst(t + GL_LIT_LEN("burst="), n - GL_LIT_LEN("burst="),
                                  &o->lim.burst) != 0)
            return gl_err_set(why, GL_EPARSE, line,
                              "burst= takes a whole number from 1 to 1000000");
        return 0;
    }
    return gl_err_set(why, GL_EPARSE, line,
                      "unknown option (a key may be followed by rate=R and burst=B)");
}

/* 1 if k's name and ID are already among the first n keys. */
static int listed(const struct gl_verifier *keys, size_t n, const struct gl_verifier *k)
{
    for (size_t i = 0; i < n; i++)
        if (keys[i].id == k->id && strcmp(keys[i].name, k->name) == 0)
            return 1;
    return 0;
}

/* One line `line` (s..end, no newline), not blank, not a comment. */
static int parse_line(const char *s, const char *end, size_t line, size_t max,
                      const struct ratelimit_limit *defaults, uint64_t now_ms,
                      struct submitters *out, struct gl_err *why)
{
    struct gl_verifier *k = &out->keys[out->n];
    struct line_opts o;
    struct gl_err kerr;
    const char *tok;
    size_t n = next_token(&s, end, &tok);
    int rc;

    if (out->n == max)
        return gl_err_set(why, GL_ETOOBIG, line, "more than %zu submitter keys", max);
    if (gl_verifier_parse(tok, n, k, &kerr) != 0)
        return gl_err_set(why, GL_EPARSE, line, "malformed verifier key: %s",
                          kerr.reason);
    if (k->type != GL_KEY_NOTE)
        return gl_err_set(why, GL_EKEYTYPE, line,
                          "a cosigning key, not a note key (type 0x01)");
    if (listed(out->keys, out->n, k))
        return gl_err_set(why, GL_EEXIST, line,
                          "this key (name and key ID) is listed twice");
    memset(&o, 0, sizeof(o));
    while ((n = next_token(&s, end, &tok)) > 0 && tok[0] != '#')
        if ((rc = parse_option(tok, n, &o, line, why)) != 0)
            return rc;
    if (!o.has_rate)
        o.lim.rate_u = defaults->rate_u;
    if (!o.has_burst)
        o.lim.burst = defaults->burst;
    ratelimit_init(&out->limits[out->n], &o.lim, now_ms);
    out->n++;
    assert(out->n <= max && k->type == GL_KEY_NOTE);
    return 0;
}

int submitters_parse(const char *text, size_t len, size_t max,
                     const struct ratelimit_limit *defaults, uint64_t now_ms,
                     struct submitters *out, struct gl_err *why)
{
    struct gl_text t;
    const char *s;
    size_t n;
    int rc;

    memset(out, 0, sizeof(*out));
    if (len > SUBMITTERS_FILE_MAX)
        return gl_err_set(why, GL_ETOOBIG, 0, "the file is larger than 8 MiB");
    out->keys = calloc(max ? max : 1, sizeof(*out->keys));
    out->limits = calloc(max ? max : 1, sizeof(*out->limits));
    if (out->keys == NULL || out->limits == NULL)
        return gl_err_set(why, GL_ENOMEM, 0, "out of memory");
    gl_text_init(&t, text, len,
                 GL_TEXT_OPEN_END | GL_TEXT_CR | GL_TEXT_TRIM_START | GL_TEXT_SKIP);
    t.max = SUBMITTERS_LINE_MAX;
    while ((rc = gl_text_line(&t, &s, &n)) == 0)
        if ((rc = parse_line(s, s + n, t.line, max, defaults, now_ms, out, why)) != 0)
            return rc;
    if (rc == GL_ETOOBIG)
        return gl_err_set(why, rc, t.line,
                          "line longer than the cap (a key and its options)");
    return 0;
}

int submitters_load(const char *path, size_t max, const struct ratelimit_limit *defaults,
                    uint64_t now_ms, struct submitters *out, struct gl_err *why)
{
    struct gl_buf b;
    int rc;

    memset(out, 0, sizeof(*out));
    gl_buf_init(&b, SUBMITTERS_FILE_MAX);
    rc = gl_file_read(path, &b);
    if (rc == GL_ETOOBIG)
        gl_err_set(why, rc, 0, "the file is larger than 8 MiB");
    else if (rc != 0)
        gl_err_set(why, rc, 0, "cannot read the file: %s", strerror(errno));
    else
        rc = submitters_parse(b.data != NULL ? (const char *)b.data : "", b.len, max,
                              defaults, now_ms, out, why);
    gl_buf_release(&b);
    return rc;
}

void submitters_release(struct submitters *s)
{
    free(s->keys);
    free(s->limits);
    memset(s, 0, sizeof(*s));
}

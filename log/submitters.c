/*
 * submitters: the --submitters file; format and caps in submitters.h.
 *
 * Design: one pass over the lines; each line is split into
 * whitespace-separated tokens (the key, then options, then an optional
 * "#" comment). A key is checked against the ones before it (key ID
 * first, so the quadratic scan is cheap at the 4096-key cap); its bucket
 * is built at once from the line's options over the defaults.
 * Invariants: keys[i] is a note key, no two keys share name and ID, and
 * limits[i] is a valid bucket for keys[i].
 */
#include "submitters.h"

#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "glasslog/error.h"

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

/* One rate= or burst= option of a line. */
static int parse_option(const char *t, size_t n, struct line_opts *o, const char **why)
{
    if (n >= 5 && memcmp(t, "rate=", 5) == 0) {
        if (o->has_rate++) {
            *why = "rate= given twice";
            return GL_EPARSE;
        }
        if (ratelimit_parse_rate(t + 5, n - 5, &o->lim.rate_u) != 0) {
            *why = "rate= takes " RATELIMIT_RATE_SYNTAX;
            return GL_EPARSE;
        }
        return 0;
    }
    if (n >= 6 && memcmp(t, "burst=", 6) == 0) {
        if (o->has_burst++) {
            *why = "burst= given twice";
            return GL_EPARSE;
        }
        if (ratelimit_parse_burst(t + 6, n - 6, &o->lim.burst) != 0) {
            *why = "burst= takes a whole number from 1 to 1000000";
            return GL_EPARSE;
        }
        return 0;
    }
    *why = "unknown option (a key may be followed by rate=R and burst=B)";
    return GL_EPARSE;
}

/* 1 if k's name and ID are already among the first n keys. */
static int listed(const struct gl_verifier *keys, size_t n, const struct gl_verifier *k)
{
    for (size_t i = 0; i < n; i++)
        if (keys[i].id == k->id && strcmp(keys[i].name, k->name) == 0)
            return 1;
    return 0;
}

/* One line (no newline) of at most SUBMITTERS_LINE_MAX bytes, not blank. */
static int parse_line(const char *s, const char *end, size_t max,
                      const struct ratelimit_limit *defaults, uint64_t now_ms,
                      struct submitters *out, const char **why)
{
    struct gl_verifier *k = &out->keys[out->n];
    struct line_opts o;
    const char *tok;
    size_t n = next_token(&s, end, &tok);
    int rc;

    if (out->n == max) {
        *why = "too many submitter keys";
        return GL_ETOOBIG;
    }
    if (gl_verifier_parse(tok, n, k) != 0) {
        *why = "malformed verifier key (name+id+base64)";
        return GL_EPARSE;
    }
    if (k->type != GL_KEY_NOTE) {
        *why = "a cosigning key, not a note key (type 0x01)";
        return GL_EKEYTYPE;
    }
    if (listed(out->keys, out->n, k)) {
        *why = "this key (name and key ID) is listed twice";
        return GL_EEXIST;
    }
    memset(&o, 0, sizeof(o));
    while ((n = next_token(&s, end, &tok)) > 0 && tok[0] != '#')
        if ((rc = parse_option(tok, n, &o, why)) != 0)
            return rc;
    if (!o.has_rate)
        o.lim.rate_u = defaults->rate_u;
    if (!o.has_burst)
        o.lim.burst = defaults->burst;
    ratelimit_init(&out->limits[out->n], &o.lim, now_ms);
    out->n++;
    return 0;
}

int submitters_parse(const char *text, size_t len, size_t max,
                     const struct ratelimit_limit *defaults, uint64_t now_ms,
                     struct submitters *out, size_t *bad_line, const char **why)
{
    const char *p = text, *end = text + len, *nl, *s, *e;
    size_t line = 0;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    *bad_line = 0;
    *why = "";
    if (len > SUBMITTERS_FILE_MAX) {
        *why = "the file is larger than 8 MiB";
        return GL_ETOOBIG;
    }
    out->keys = calloc(max ? max : 1, sizeof(*out->keys));
    out->limits = calloc(max ? max : 1, sizeof(*out->limits));
    if (out->keys == NULL || out->limits == NULL) {
        *why = "out of memory";
        return GL_ENOMEM;
    }
    for (; p < end && rc == 0; p = nl < end ? nl + 1 : end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        nl = nl != NULL ? nl : end;
        line++;
        s = p;
        e = nl;
        if (e > s && e[-1] == '\r')
            e--;
        if ((size_t)(e - s) > SUBMITTERS_LINE_MAX) {
            *why = "line longer than the cap (a key and its options)";
            rc = GL_ETOOBIG;
            break;
        }
        while (s < e && is_blank(*s))
            s++;
        if (s == e || *s == '#')
            continue;
        rc = parse_line(s, e, max, defaults, now_ms, out, why);
    }
    if (rc != 0)
        *bad_line = line;
    return rc;
}

int submitters_load(const char *path, size_t max, const struct ratelimit_limit *defaults,
                    uint64_t now_ms, struct submitters *out, size_t *bad_line,
                    const char **why)
{
    struct gl_buf b;
    int rc;

    memset(out, 0, sizeof(*out));
    *bad_line = 0;
    gl_buf_init(&b, SUBMITTERS_FILE_MAX);
    rc = gl_file_read(path, &b);
    if (rc == GL_ETOOBIG)
        *why = "the file is larger than 8 MiB";
    else if (rc != 0)
        *why = "cannot read the file";
    else
        rc = submitters_parse(b.data != NULL ? (const char *)b.data : "", b.len, max,
                              defaults, now_ms, out, bad_line, why);
    gl_buf_release(&b);
    return rc;
}

void submitters_release(struct submitters *s)
{
    free(s->keys);
    free(s->limits);
    memset(s, 0, sizeof(*s));
}

/*
 * chainbundle: parse and format chain bundles (include/glasslog/
 * chainbundle.h, specs/bundle.md).
 *
 * Design. The framing is by length, because a tlog-proof holds an empty
 * line (before its checkpoint) and so cannot be delimited by one. One
 * forward pass: the header line, then "proof <n>" lines each followed by
 * exactly n bytes handed to gl_tlogproof_parse; the statement in each
 * proof's extra is parsed too (syntax only). Line numbers in refusals
 * count lines of the whole bundle (a proof's own line k is reported as
 * the number of lines before it plus k).
 *
 * Invariants: 1 <= n <= MAX_PROOFS; every proof has extra data that is a
 * statement; the first is a v2 build or rule-update; format(parse(x)) ==
 * x for every accepted x (the framing has one spelling).
 */
#include "glasslog/chainbundle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glasslog/codec.h"
#include "glasslog/statement.h"

#define PROOF_PREFIX "proof "

static size_t count_lines(const char *s, size_t n)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++)
        k += s[i] == '\n';
    return k;
}

/* The statement in proof i's extra: it parses, and the head's kind. */
static int check_statement(const struct gl_tlogproof *p, size_t i, size_t before,
                           struct gl_err *why)
{
    struct gl_statement st;
    int err;

    if (p->extra_len == 0)
        return gl_err_set(why, GL_EPARSE, before + 2,
                          "proof %zu has no extra line (its statement)", i + 1);
    if ((err = gl_statement_parse((const char *)p->extra, p->extra_len, &st, why)) != 0) {
        if (why != NULL)
            why->line = 2; /* the extra line, not a line of the decoded statement */
        return gl_err_wrap(why, err, before, "the statement in the extra line");
    }
    if (i == 0 && (st.fields.format != 2 || (st.fields.kind != GL_STATEMENT_BUILD &&
                                             st.fields.kind != GL_STATEMENT_RULE_UPDATE)))
        return gl_err_set(why, GL_EPARSE, before + 2,
                          "the first proof's statement is not a v2 build or rule-update");
    return 0;
}

/* Reads "proof <n>\n" at s[*pos..len) (line number line). */
static int take_frame(const char *s, size_t len, size_t *pos, size_t line, uint64_t *n,
                      struct gl_err *why)
{
    const char *p = s + *pos, *nl = memchr(p, '\n', len - *pos);
    size_t plen = strlen(PROOF_PREFIX);

    if (nl == NULL || (size_t)(nl - p) <= plen || memcmp(p, PROOF_PREFIX, plen) != 0)
        return gl_err_set(why, GL_EPARSE, line, "expected a \"proof <length>\" line");
    if (gl_parse_u64(p + plen, (size_t)(nl - p) - plen, n) != 0 || *n == 0 ||
        *n > GL_TLOGPROOF_MAX_SIZE)
        return gl_err_set(why, GL_EPARSE, line,
                          "proof length is not a decimal in 1..%zu without leading zeros",
                          GL_TLOGPROOF_MAX_SIZE);
    *pos = (size_t)(nl - s) + 1;
    if (*n > len - *pos)
        return gl_err_set(why, GL_EPARSE, line, "the proof is shorter than its length");
    return 0;
}

static int parse_proofs(const char *s, size_t len, size_t pos, struct gl_chainbundle *b,
                        struct gl_err *why)
{
    size_t line = 2;
    uint64_t n;
    int err;

    while (pos < len) {
        if (b->n == GL_CHAINBUNDLE_MAX_PROOFS)
            return gl_err_set(why, GL_ETOOBIG, line, "more than %d proofs",
                              GL_CHAINBUNDLE_MAX_PROOFS);
        if ((err = take_frame(s, len, &pos, line, &n, why)) != 0)
            return err;
        if (s[pos + n - 1] != '\n')
            return gl_err_set(why, GL_EPARSE, line,
                              "proof %zu does not end with a newline", b->n + 1);
        if ((err = gl_tlogproof_parse(s + pos, (size_t)n, &b->proofs[b->n], why)) != 0)
            return gl_err_wrap(why, err, line, NULL);
        if ((err = check_statement(b->proofs[b->n], b->n, line, why)) != 0) {
            b->n++;
            return err;
        }
        b->n++;
        line += count_lines(s + pos, (size_t)n) + 1;
        pos += (size_t)n;
    }
    if (b->n == 0)
        return gl_err_set(why, GL_EPARSE, 2, "no proof");
    return 0;
}

int gl_chainbundle_parse(const char *data, size_t len, struct gl_chainbundle **out,
                         struct gl_err *why)
{
    size_t hl = strlen(GL_CHAINBUNDLE_HEADER);
    struct gl_chainbundle *b;
    int err;

    if (data == NULL || out == NULL)
        return gl_err_set(why, GL_EINVAL, 0, "no chain bundle");
    *out = NULL;
    if (len > GL_CHAINBUNDLE_MAX_SIZE)
        return gl_err_set(why, GL_ETOOBIG, 0, "chain bundle larger than %zu bytes",
                          GL_CHAINBUNDLE_MAX_SIZE);
    if (len <= hl || memcmp(data, GL_CHAINBUNDLE_HEADER, hl) != 0 || data[hl] != '\n')
        return gl_err_set(why, GL_EPARSE, 1,
                          "the first line is not " GL_CHAINBUNDLE_HEADER);
    if ((b = calloc(1, sizeof(*b))) == NULL)
        return gl_err_set(why, GL_ENOMEM, 0, "out of memory");
    if ((err = parse_proofs(data, len, hl + 1, b, why)) != 0) {
        gl_chainbundle_free(b);
        return err;
    }
    *out = b;
    return 0;
}

void gl_chainbundle_free(struct gl_chainbundle *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->n; i++)
        gl_tlogproof_free(b->proofs[i]);
    free(b);
}

int gl_chainbundle_format(struct gl_tlogproof *const *proofs, size_t n,
                          struct gl_buf *out)
{
    struct gl_buf tmp, one;
    int err = 0;

    if (proofs == NULL || out == NULL || n == 0)
        return GL_EINVAL;
    if (n > GL_CHAINBUNDLE_MAX_PROOFS)
        return GL_ETOOBIG;
    gl_buf_init(&tmp, GL_CHAINBUNDLE_MAX_SIZE);
    gl_buf_init(&one, GL_TLOGPROOF_MAX_SIZE);
    if ((err = gl_buf_append_str(&tmp, GL_CHAINBUNDLE_HEADER "\n")) != 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        one.len = 0;
        if (proofs[i] == NULL || proofs[i]->extra_len == 0) {
            err = GL_EINVAL;
            goto out;
        }
        if ((err = gl_tlogproof_format(proofs[i], &one)) != 0 ||
            (err = check_statement(proofs[i], i, 0, NULL)) != 0 ||
            (err = gl_buf_printf(&tmp, PROOF_PREFIX "%zu\n", one.len)) != 0 ||
            (err = gl_buf_append(&tmp, one.data, one.len)) != 0)
            goto out;
    }
    err = gl_buf_append(out, tmp.data, tmp.len);
out:
    gl_buf_release(&one);
    gl_buf_release(&tmp);
    return err;
}

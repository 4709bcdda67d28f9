/*
 * tlogproof: parse and format C2SP tlog-proof v1 files.
 *
 * Design: a single forward pass over the input with the strict line cutter
 * (text.h), which never passes len and numbers lines for error reasons:
 * header, optional extra, index, hash lines up to the
 * first empty line, then the rest is the checkpoint note, which is checked
 * with gl_note_parse and gl_checkpoint_parse (syntax only). The parsed
 * proof is one heap block: the struct followed by the decoded extra bytes,
 * so one free releases everything. Formatting builds the text in a private
 * bounded buffer and appends it to the caller's only when complete.
 *
 * Invariants: nhashes <= GL_TLOGPROOF_MAX_HASHES; extra is NULL exactly
 * when extra_len is 0, and extra_len <= GL_TLOGPROOF_EXTRA_MAX; whole
 * proofs are at most GL_TLOGPROOF_MAX_SIZE bytes both ways; format(parse(x))
 * == x for every accepted x.
 */
#include "glasslog/tlogproof.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "glasslog/checkpoint.h"
#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "text.h"
#include "glasslog/merkle.h"
#include "glasslog/note.h"

#define EXTRA_PREFIX "extra "
#define INDEX_PREFIX "index "
#define B64_CHUNK 768 /* bytes per base64 chunk; a multiple of 3 */

static int has_prefix(const char *line, size_t len, const char *prefix)
{
    size_t plen = strlen(prefix);

    return len >= plen && memcmp(line, prefix, plen) == 0;
}

/* Syntax of the embedded signed checkpoint note, which starts after
 * `before` lines of the proof (0 when it stands alone). */
static int check_checkpoint(const char *s, size_t n, size_t before, struct gl_err *why)
{
    struct gl_checkpoint c;
    struct gl_note *note = NULL;
    int err;

    if (n == 0)
        return gl_err_set(why, GL_EPARSE, before, "no checkpoint after the empty line");
    if ((err = gl_note_parse(s, n, &note, why)) == 0)
        err = gl_checkpoint_parse(note->text, note->text_len, &c, why);
    gl_note_free(note);
    return err != 0 ? gl_err_wrap(why, err, before, "checkpoint") : 0;
}

/* Reads the header, the optional extra line (its base64 text returned in
 * (b64, b64_len), NULL and 0 if absent) and the index line. */
static int parse_head(struct gl_text *t, const char **b64, size_t *b64_len,
                      uint64_t *index, struct gl_err *why)
{
    const char *line;
    size_t len;
    int err;

    *b64 = NULL;
    *b64_len = 0;
    if (gl_text_line(t, &line, &len) != 0 || len != strlen(GL_TLOGPROOF_HEADER) ||
        memcmp(line, GL_TLOGPROOF_HEADER, len) != 0)
        return gl_err_set(why, GL_EPARSE, 1,
                          "the first line is not " GL_TLOGPROOF_HEADER);
    if ((err = gl_text_line(t, &line, &len)) != 0)
        return gl_text_missing(t, err, "index line", why);
    if (has_prefix(line, len, EXTRA_PREFIX)) {
        *b64 = line + strlen(EXTRA_PREFIX);
        *b64_len = len - strlen(EXTRA_PREFIX);
        if (*b64_len == 0)
            return gl_err_set(why, GL_EPARSE, t->line, "empty extra data");
        if (*b64_len > gl_base64_len(GL_TLOGPROOF_EXTRA_MAX))
            return gl_err_set(why, GL_ETOOBIG, t->line, "extra data larger than %u bytes",
                              GL_TLOGPROOF_EXTRA_MAX);
        if ((err = gl_text_line(t, &line, &len)) != 0)
            return gl_text_missing(t, err, "index line", why);
    }
    if (!has_prefix(line, len, INDEX_PREFIX))
        return gl_err_set(why, GL_EPARSE, t->line, "expected \"index <decimal>\"");
    if (gl_parse_u64(line + strlen(INDEX_PREFIX), len - strlen(INDEX_PREFIX), index) != 0)
        return gl_err_set(why, GL_EPARSE, t->line,
                          "index is not a decimal without leading zeros");
    return 0;
}

/* Allocates the proof with room for the decoded extra data and decodes it
 * (room >= the decoded size, so decoding fails only on malformed text).
 * The extra data is on line 2. */
static int alloc_proof(const char *b64, size_t b64_len, struct gl_tlogproof **out,
                       struct gl_err *why)
{
    size_t room = b64_len / 4 * 3, total, got = 0;
    struct gl_tlogproof *p;
    int err = 0;

    if (gl_size_add(sizeof(*p), room, &total) != 0)
        return gl_err_set(why, GL_ETOOBIG, 2, "extra data too large");
    if ((p = calloc(1, total)) == NULL)
        return gl_err_set(why, GL_ENOMEM, 0, "out of memory");
    if (b64_len > 0) {
        if (gl_base64_decode(b64, b64_len, (uint8_t *)(p + 1), room, &got) != 0 ||
            got == 0)
            err = gl_err_set(why, GL_EPARSE, 2, "extra data is not canonical base64");
        else if (got > GL_TLOGPROOF_EXTRA_MAX)
            err = gl_err_set(why, GL_ETOOBIG, 2, "extra data larger than %u bytes",
                             GL_TLOGPROOF_EXTRA_MAX);
        p->extra = (const uint8_t *)(p + 1);
        p->extra_len = got;
    }
    if (err != 0) {
        free(p);
        return err;
    }
    *out = p;
    return 0;
}

/* Hash lines up to and including the empty line. */
static int parse_hashes(struct gl_text *t, struct gl_tlogproof *p, struct gl_err *why)
{
    const char *line;
    size_t len;
    int err;

    for (;;) {
        if ((err = gl_text_line(t, &line, &len)) != 0)
            return gl_text_missing(t, err, "empty line before the checkpoint", why);
        if (len == 0)
            return 0;
        if (p->nhashes == GL_TLOGPROOF_MAX_HASHES)
            return gl_err_set(why, GL_ETOOBIG, t->line, "more than %d proof hashes",
                              GL_TLOGPROOF_MAX_HASHES);
        if (gl_base64_decode_exact(line, len, p->hashes[p->nhashes], GL_HASH_LEN) != 0)
            return gl_err_set(why, GL_EPARSE, t->line,
                              "a proof hash is not base64 of 32 bytes");
        p->nhashes++;
    }
}

int gl_tlogproof_parse(const char *data, size_t len, struct gl_tlogproof **out,
                       struct gl_err *why)
{
    struct gl_tlogproof *p = NULL;
    struct gl_text t;
    const char *b64;
    size_t b64_len;
    uint64_t index;
    int err;

    if (data == NULL || out == NULL)
        return gl_err_set(why, GL_EINVAL, 0, "no proof");
    if (len > GL_TLOGPROOF_MAX_SIZE)
        return gl_err_set(why, GL_ETOOBIG, 0, "proof larger than %zu bytes",
                          GL_TLOGPROOF_MAX_SIZE);
    gl_text_init(&t, data, len, 0);
    if ((err = parse_head(&t, &b64, &b64_len, &index, why)) != 0)
        goto out;
    if ((err = alloc_proof(b64, b64_len, &p, why)) != 0)
        goto out;
    p->index = index;
    if ((err = parse_hashes(&t, p, why)) != 0)
        goto out;
    if ((err = check_checkpoint(data + t.pos, len - t.pos, t.line, why)) != 0)
        goto out;
    p->checkpoint = data + t.pos;
    p->checkpoint_len = len - t.pos;
    p->checkpoint_checked = 1;
    assert(p->nhashes <= GL_TLOGPROOF_MAX_HASHES &&
           p->extra_len <= GL_TLOGPROOF_EXTRA_MAX);
    assert((p->extra == NULL) == (p->extra_len == 0));
    *out = p;
    p = NULL;
out:
    gl_tlogproof_free(p);
    return err;
}

void gl_tlogproof_free(struct gl_tlogproof *p)
{
    free(p);
}

/* Appends base64(p[0..n)) in stack-sized chunks (each a multiple of 3
 * bytes, so the pieces concatenate into the one canonical encoding). */
static int append_b64(struct gl_buf *b, const uint8_t *p, size_t n)
{
    char chunk[B64_CHUNK / 3 * 4 + 1];
    int err;

    while (n > 0) {
        size_t k = n < B64_CHUNK ? n : B64_CHUNK;
        if ((err = gl_base64_encode(p, k, chunk, sizeof(chunk))) != 0 ||
            (err = gl_buf_append(b, chunk, gl_base64_len(k))) != 0)
            return err;
        p += k;
        n -= k;
    }
    return 0;
}

static int check_format_args(const struct gl_tlogproof *p)
{
    if (p->nhashes > GL_TLOGPROOF_MAX_HASHES || p->extra_len > GL_TLOGPROOF_EXTRA_MAX ||
        p->checkpoint_len > GL_TLOGPROOF_MAX_SIZE)
        return GL_ETOOBIG;
    if ((p->extra == NULL) != (p->extra_len == 0) || p->checkpoint == NULL)
        return GL_EINVAL;
    return p->checkpoint_checked
               ? 0
               : check_checkpoint(p->checkpoint, p->checkpoint_len, 0, NULL);
}

static int format_body(const struct gl_tlogproof *p, struct gl_buf *b)
{
    int err;

    if ((err = gl_buf_append_str(b, GL_TLOGPROOF_HEADER "\n")) != 0)
        return err;
    if (p->extra_len > 0 && ((err = gl_buf_append_str(b, EXTRA_PREFIX)) != 0 ||
                             (err = append_b64(b, p->extra, p->extra_len)) != 0 ||
                             (err = gl_buf_putc(b, '\n')) != 0))
        return err;
    if ((err = gl_buf_append_str(b, INDEX_PREFIX)) != 0 ||
        (err = gl_buf_append_u64(b, p->index)) != 0 || (err = gl_buf_putc(b, '\n')) != 0)
        return err;
    for (size_t i = 0; i < p->nhashes; i++)
        if ((err = append_b64(b, p->hashes[i], GL_HASH_LEN)) != 0 ||
            (err = gl_buf_putc(b, '\n')) != 0)
            return err;
    if ((err = gl_buf_putc(b, '\n')) != 0)
        return err;
    return gl_buf_append(b, p->checkpoint, p->checkpoint_len);
}

int gl_tlogproof_format(const struct gl_tlogproof *p, struct gl_buf *out)
{
    size_t mark;
    int err;

    if (p == NULL || out == NULL)
        return GL_EINVAL;
    if ((err = check_format_args(p)) != 0)
        return err;
    mark = out->len;
    if ((err = format_body(p, out)) == 0 && out->len - mark > GL_TLOGPROOF_MAX_SIZE)
        err = GL_ETOOBIG;
    if (err != 0)
        gl_buf_truncate(out, mark);
    return err;
}

int gl_tlogproof_verify(const struct gl_tlogproof *p, const uint8_t leaf[GL_HASH_LEN],
                        const struct gl_verifier *log_key, struct gl_checkpoint *cp,
                        struct gl_err *why)
{
    struct gl_checkpoint c;
    int rc;

    rc = gl_checkpoint_open(p->checkpoint, p->checkpoint_len, log_key, &c, NULL, why);
    if (rc != 0)
        return gl_err_wrap(why, rc, 0, "checkpoint");
    rc =
        gl_merkle_verify_inclusion(p->index, c.size, leaf, p->hashes, p->nhashes, c.root);
    if (rc == GL_ERANGE && c.size > GL_MERKLE_MAX_SIZE)
        return gl_err_set(why, rc, 0, "inclusion proof: a tree of size %llu is too large",
                          (unsigned long long)c.size);
    if (rc == GL_ERANGE)
        return gl_err_set(why, rc, 0,
                          "inclusion proof: index %llu is outside the tree of size %llu",
                          (unsigned long long)p->index, (unsigned long long)c.size);
    if (rc != 0)
        return gl_err_set(
            why, rc, 0,
            "inclusion proof: does not lead from the entry at index %llu to the "
            "root of the tree of size %llu",
            (unsigned long long)p->index, (unsigned long long)c.size);
    if (cp != NULL)
        *cp = c;
    return 0;
}

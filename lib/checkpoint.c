/*
 * checkpoint: parse, format, sign and open tlog-checkpoint v1.0.0 notes.
 *
 * Design: the text is walked line by line with the strict line cutter
 * (text.h), which never passes n and numbers the lines for error reasons;
 * each line is checked by the strict codec (gl_parse_u64,
 * gl_base64_decode_exact), so a parsed checkpoint has exactly one text
 * form. Formatting writes into a private buffer and parses the result back
 * before appending it to the caller's buffer: whatever gl_checkpoint_format
 * emits, gl_checkpoint_parse accepts and maps back to the same values, and
 * on error the caller's buffer is untouched.
 *
 * Invariants: a parsed origin is non-empty, at most
 * GL_CHECKPOINT_ORIGIN_MAX bytes, NUL-terminated and (as note text) free of
 * control bytes; ext is NULL exactly when ext_len and next are 0; opening
 * a checkpoint only succeeds when the log key's signature verified and the
 * origin equals the key's name.
 */
#include "glasslog/checkpoint.h"

#include <assert.h>
#include <string.h>

#include <openssl/crypto.h>

#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "text.h"

static int parse_origin(struct gl_text *t, struct gl_checkpoint *c, struct gl_err *why)
{
    const char *line;
    size_t len;

    if (gl_text_line(t, &line, &len) != 0 || len == 0)
        return gl_err_set(why, GL_EPARSE, 1, "empty origin line");
    if (len > GL_CHECKPOINT_ORIGIN_MAX)
        return gl_err_set(why, GL_ETOOBIG, t->line, "origin longer than %d bytes",
                          GL_CHECKPOINT_ORIGIN_MAX);
    memcpy(c->origin, line, len);
    c->origin[len] = 0;
    return 0;
}

static int parse_size_root(struct gl_text *t, struct gl_checkpoint *c, struct gl_err *why)
{
    const char *line;
    size_t len;

    int err;

    if ((err = gl_text_line(t, &line, &len)) != 0)
        return gl_text_missing(t, err, "tree size line", why);
    if (gl_parse_u64(line, len, &c->size) != 0)
        return gl_err_set(why, GL_EPARSE, t->line,
                          "tree size is not a decimal without leading zeros");
    if (c->size > INT64_MAX) /* as Go's tlog.ParseTree: a signed 64-bit size */
        return gl_err_set(why, GL_EPARSE, t->line, "tree size exceeds 2^63-1");
    if ((err = gl_text_line(t, &line, &len)) != 0)
        return gl_text_missing(t, err, "root hash line", why);
    if (gl_base64_decode_exact(line, len, c->root, sizeof(c->root)) != 0)
        return gl_err_set(why, GL_EPARSE, t->line, "root hash is not base64 of 32 bytes");
    return 0;
}

/* Extension lines: everything after the root line, each non-empty. */
static int parse_ext(struct gl_text *t, struct gl_checkpoint *c, struct gl_err *why)
{
    size_t start = t->pos, len;
    const char *line;

    c->ext = NULL;
    c->ext_len = 0;
    c->next = 0;
    while (gl_text_line(t, &line, &len) == 0) {
        if (len == 0)
            return gl_err_set(why, GL_EPARSE, t->line, "empty extension line");
        if (++c->next > GL_CHECKPOINT_EXT_MAX)
            return gl_err_set(why, GL_ETOOBIG, t->line, "more than %d extension lines",
                              GL_CHECKPOINT_EXT_MAX);
    }
    if (c->next > 0) {
        c->ext = t->s + start;
        c->ext_len = t->n - start;
    }
    return 0;
}

int gl_checkpoint_parse(const char *text, size_t n, struct gl_checkpoint *out,
                        struct gl_err *why)
{
    struct gl_text t;
    int err;

    if (text == NULL || out == NULL)
        return gl_err_set(why, GL_EINVAL, 0, "no checkpoint text");
    if (n > GL_CHECKPOINT_TEXT_MAX)
        return gl_err_set(why, GL_ETOOBIG, 0, "checkpoint text larger than %d bytes",
                          GL_CHECKPOINT_TEXT_MAX);
    if ((err = gl_note_text_check(text, n, why)) != 0)
        return err;
    /* Valid note text ends with "\n": every line the cursor cuts is whole. */
    gl_text_init(&t, text, n, 0);
    if ((err = parse_origin(&t, out, why)) != 0)
        return err;
    if ((err = parse_size_root(&t, out, why)) != 0)
        return err;
    if ((err = parse_ext(&t, out, why)) != 0)
        return err;
    assert(out->origin[0] != 0 && strlen(out->origin) <= GL_CHECKPOINT_ORIGIN_MAX);
    assert((out->ext == NULL) == (out->ext_len == 0) &&
           (out->ext_len == 0) == (out->next == 0));
    return 0;
}

static int format_lines(const struct gl_checkpoint *c, struct gl_buf *b)
{
    char root[45];
    int err;

    if ((err = gl_base64_encode(c->root, sizeof(c->root), root, sizeof(root))) != 0)
        return err;
    if ((err = gl_buf_append_str(b, c->origin)) != 0 ||
        (err = gl_buf_putc(b, '\n')) != 0 || (err = gl_buf_append_u64(b, c->size)) != 0 ||
        (err = gl_buf_putc(b, '\n')) != 0 || (err = gl_buf_append_str(b, root)) != 0 ||
        (err = gl_buf_putc(b, '\n')) != 0)
        return err;
    if (c->ext_len > 0)
        err = gl_buf_append(b, c->ext, c->ext_len);
    return err;
}

/* 1 if the parsed-back checkpoint carries exactly c's values. */
static int same_checkpoint(const struct gl_checkpoint *c,
                           const struct gl_checkpoint *back)
{
    return strcmp(c->origin, back->origin) == 0 && c->size == back->size &&
           CRYPTO_memcmp(c->root, back->root, sizeof(c->root)) == 0 &&
           c->ext_len == back->ext_len;
}

int gl_checkpoint_format(const struct gl_checkpoint *c, struct gl_buf *out)
{
    struct gl_checkpoint back;
    struct gl_buf tmp;
    int err;

    if (c == NULL || out == NULL || (c->ext_len > 0 && c->ext == NULL))
        return GL_EINVAL;
    if (memchr(c->origin, 0, sizeof(c->origin)) == NULL)
        return GL_EPARSE; /* not NUL-terminated: longer than the cap */
    gl_buf_init(&tmp, GL_CHECKPOINT_TEXT_MAX);
    if ((err = format_lines(c, &tmp)) != 0)
        goto out;
    if ((err = gl_checkpoint_parse((const char *)tmp.data, tmp.len, &back, NULL)) != 0)
        goto out;
    if (!same_checkpoint(c, &back)) {
        err = GL_EPARSE;
        goto out;
    }
    err = gl_buf_append(out, tmp.data, tmp.len);
out:
    gl_buf_release(&tmp);
    return err;
}

int gl_checkpoint_sign(const char *origin, uint64_t size, const uint8_t root[GL_HASH_LEN],
                       const struct gl_signer *k, struct gl_buf *out)
{
    struct gl_checkpoint c;
    struct gl_buf text;
    size_t olen;
    int err;

    if (origin == NULL || root == NULL || k == NULL || out == NULL)
        return GL_EINVAL;
    if (k->type != GL_KEY_NOTE)
        return GL_EKEYTYPE;
    olen = strnlen(origin, GL_CHECKPOINT_ORIGIN_MAX + 1);
    if (olen > GL_CHECKPOINT_ORIGIN_MAX)
        return GL_ETOOBIG;
    if (strcmp(origin, k->name) != 0)
        return GL_EINVAL;
    memset(&c, 0, sizeof(c));
    memcpy(c.origin, origin, olen + 1);
    c.size = size;
    memcpy(c.root, root, sizeof(c.root));
    gl_buf_init(&text, GL_CHECKPOINT_TEXT_MAX);
    if ((err = gl_checkpoint_format(&c, &text)) != 0)
        goto out;
    err = gl_note_sign((const char *)text.data, text.len, k, 1, out);
out:
    gl_buf_release(&text);
    return err;
}

/* Verifies the log's signature on n, naming the key in why. */
static int verify_log_sig(const struct gl_note *n, const struct gl_verifier *log_key,
                          struct gl_err *why)
{
    int err = gl_note_verify(n, log_key, 1, NULL);

    if (err == GL_ENOKEY)
        return gl_err_set(why, err, 0, "no signature by the log key %s+%08x",
                          log_key->name, (unsigned)log_key->id);
    if (err == GL_EVERIFY)
        return gl_err_set(why, err, 0,
                          "the signature by the log key %s+%08x does not verify",
                          log_key->name, (unsigned)log_key->id);
    if (err != 0)
        return gl_err_set(why, err, 0, "cannot verify the log signature: %s",
                          gl_strerror(err));
    return 0;
}

int gl_checkpoint_open(const char *msg, size_t len, const struct gl_verifier *log_key,
                       struct gl_checkpoint *out, struct gl_note **note_out,
                       struct gl_err *why)
{
    struct gl_note *n = NULL;
    int err;

    if (msg == NULL || log_key == NULL || out == NULL)
        return gl_err_set(why, GL_EINVAL, 0, "no checkpoint or no log key");
    if (log_key->type != GL_KEY_NOTE)
        return gl_err_set(why, GL_EKEYTYPE, 0,
                          "the log key %s is not a note key (type 0x01)", log_key->name);
    if ((err = gl_note_parse(msg, len, &n, why)) != 0)
        goto out;
    if ((err = verify_log_sig(n, log_key, why)) != 0)
        goto out;
    if ((err = gl_checkpoint_parse(n->text, n->text_len, out, why)) != 0)
        goto out;
    if (strcmp(out->origin, log_key->name) != 0) {
        err = gl_err_set(why, GL_EVERIFY, 1, "origin \"%s\" is not the log key's name %s",
                         out->origin, log_key->name);
        goto out;
    }
    if (note_out != NULL) {
        *note_out = n;
        n = NULL;
    }
out:
    gl_note_free(n);
    return err;
}

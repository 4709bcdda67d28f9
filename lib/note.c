/*
 * note: C2SP signed notes, byte-compatible with Go's sumdb/note.
 *
 * Parsing validates the whole message first (valid UTF-8, no control
 * characters but "\n", at most GL_NOTE_MAX_SIZE bytes), splits it after
 * the LAST "\n\n", and parses every signature line for syntax only, as
 * Go's Open does before it looks the signer up: "— " name " "
 * base64(id || sig) "\n", at least one, at most GL_NOTE_MAX_SIGS, with the
 * strict line cutter (every line ends "\n"). A name follows the signed-note
 * rule (gl_key_sig_name_valid: DEL and names longer than those of the keys
 * we hold pass, so an unknown key's line is ignored, not fatal), of any
 * length within the note's cap, as in Go. A signature of any length
 * parses (verifiers must ignore unknown keys' signatures, post-quantum ones
 * run to kilobytes); its bytes are kept up to GL_NOTE_SIG_MAX, a longer
 * one is only counted and never verifies. Base64 is read as Go reads it:
 * unused bits of the last group are ignored (sig->canonical says whether
 * they were zero), so a known key's signature verifies in either form.
 * The parsed note points into the caller's message. A refusal names the
 * first problem and its line (lines of the whole message).
 *
 * Verification follows Go's Open: for each signature whose (name, ID)
 * matches a known note key, a repeated signature by that key is skipped,
 * otherwise the Ed25519 signature over the text must hold or the whole note
 * is rejected; signatures by unknown keys are ignored; at least one known
 * signature must verify.
 */
#include "glasslog/note.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "text.h"
#include "utf8.h"

static const char note_dash[] = "\xe2\x80\x94 "; /* U+2014 EM DASH, space */
#define NOTE_DASH_LEN 4

int gl_note_text_check(const char *text, size_t n, struct gl_err *why)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0, k;
    uint32_t c;

    if (n == 0)
        return gl_err_set(why, GL_EPARSE, 0, "empty text");
    while (i < n) {
        k = gl_utf8_decode(s + i, n - i, &c);
        if (k == 0)
            return gl_err_set(why, GL_EPARSE, gl_text_line_at(text, i), "invalid UTF-8");
        if (c < 0x20 && c != '\n')
            return gl_err_set(why, GL_EPARSE, gl_text_line_at(text, i),
                              "control character 0x%02x (only \"\\n\" may appear)",
                              (unsigned)c);
        i += k;
    }
    if (text[n - 1] != '\n')
        return gl_err_set(why, GL_EPARSE, gl_text_line_at(text, n - 1),
                          "the last line does not end with a newline");
    return 0;
}

/* Finds the start of the last "\n\n" in msg, or returns 0 if none. */
static int note_split(const char *msg, size_t len, size_t *at)
{
    size_t i;

    for (i = len; i >= 2; i--) {
        if (msg[i - 2] == '\n' && msg[i - 1] == '\n') {
            *at = i - 2;
            return 1;
        }
    }
    return 0;
}

int gl_note_parse_sig(const char *line, size_t n, struct gl_note_sig *sig,
                      struct gl_err *why)
{
    const char *sp, *b64;
    uint8_t blob[4 + GL_NOTE_SIG_MAX];
    size_t name_len, b64_len, blob_len, got;
    int canonical, err;

    if (n < NOTE_DASH_LEN || memcmp(line, note_dash, NOTE_DASH_LEN) != 0)
        return gl_err_set(why, GL_EPARSE, 0,
                          "a signature line does not start with \"\xe2\x80\x94 \" "
                          "(em dash, space)");
    line += NOTE_DASH_LEN;
    n -= NOTE_DASH_LEN;
    sp = memchr(line, ' ', n);
    if (sp == NULL)
        return gl_err_set(why, GL_EPARSE, 0,
                          "a signature line is not \"\xe2\x80\x94 <name> <base64>\"");
    name_len = (size_t)(sp - line);
    b64 = sp + 1;
    b64_len = n - name_len - 1;
    if (!gl_key_sig_name_valid(line, name_len))
        return gl_err_set(why, GL_EPARSE, 0,
                          "invalid key name in a signature line (UTF-8 without "
                          "\"+\", spaces or C0 controls)");
    if (b64_len == 0)
        return gl_err_set(why, GL_EPARSE, 0, "empty signature after the key name");
    /* Decode the blob; one too long to keep is checked and counted whole,
     * and only its key ID is kept (a longer blob has more than 8 base64
     * characters, the first 8 of them whole groups: its key ID and 2 more
     * bytes). */
    err = gl_base64_decode_lax(b64, b64_len, blob, sizeof(blob), &blob_len, &canonical);
    if (err == GL_ETOOBIG) {
        err = gl_base64_decode_lax(b64, b64_len, NULL, 0, &blob_len, &canonical);
        if (err == 0)
            err = gl_base64_decode_lax(b64, 8, blob, sizeof(blob), &got, NULL);
    }
    if (err != 0 || blob_len < 5)
        return gl_err_set(why, GL_EPARSE, 0,
                          "the signature is not base64 of a key ID and a signature");
    sig->name = line;
    sig->name_len = name_len;
    sig->id = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 |
              blob[3];
    sig->sig_len = blob_len - 4;
    sig->canonical = canonical;
    memset(sig->sig, 0, sizeof(sig->sig));
    if (sig->sig_len <= GL_NOTE_SIG_MAX)
        memcpy(sig->sig, blob + 4, sig->sig_len);
    return 0;
}

/* The line of msg that holds signature line `no` (1-based) after the
 * blank line at msg[at + 1] (counted only when a refusal needs it). */
static size_t sig_line_no(const char *msg, size_t at, size_t no)
{
    return gl_text_line_at(msg, at + 2) - 1 + no;
}

/* Parses the signature lines after the blank line (msg[at + 2..len)). */
static int parse_sigs(const char *msg, size_t len, size_t at, struct gl_note *n,
                      struct gl_err *why)
{
    struct gl_text t;
    const char *line;
    size_t line_len;
    int err;

    size_t lines = 0;

    /* One array of as many entries as there are lines (at most the cap):
     * a note usually has one to a few signatures. */
    for (const char *p = msg + at + 2, *end = msg + len;
         lines < GL_NOTE_MAX_SIGS && (p = memchr(p, '\n', (size_t)(end - p))) != NULL;
         p++)
        lines++;
    if (lines > 0 && (n->sigs = calloc(lines, sizeof(*n->sigs))) == NULL)
        return gl_err_set(why, GL_ENOMEM, 0, "out of memory");
    gl_text_init(&t, msg + at + 2, len - at - 2, 0);
    while ((err = gl_text_line(&t, &line, &line_len)) == 0) {
        struct gl_note_sig *s;
        if (n->nsigs == GL_NOTE_MAX_SIGS)
            return gl_err_set(why, GL_ETOOBIG, sig_line_no(msg, at, t.line),
                              "more than %d signature lines", GL_NOTE_MAX_SIGS);
        assert(n->nsigs < lines);
        s = &n->sigs[n->nsigs];
        if ((err = gl_note_parse_sig(line, line_len, s, why)) != 0) {
            if (why != NULL)
                why->line = sig_line_no(msg, at, t.line);
            return err;
        }
        s->line = line;
        s->line_len = line_len + 1;
        n->nsigs++;
    }
    assert(err == GL_ENOTFOUND); /* msg ends with "\n": every line is complete */
    if (n->nsigs == 0)           /* nothing after the last blank line: the note's end */
        return gl_err_set(why, GL_EPARSE, gl_text_line_at(msg, at + 1),
                          "no signature line after the blank line (the note ends "
                          "with a blank line: one newline too many at its end?)");
    return 0;
}

int gl_note_parse(const char *msg, size_t len, struct gl_note **out, struct gl_err *why)
{
    struct gl_note *n = NULL;
    size_t at;
    int err;

    if (len > GL_NOTE_MAX_SIZE)
        return gl_err_set(why, GL_ETOOBIG, 0, "signed note larger than %zu bytes",
                          GL_NOTE_MAX_SIZE);
    if ((err = gl_note_text_check(msg, len, why)) != 0)
        return err;
    if (!note_split(msg, len, &at))
        return gl_err_set(why, GL_EPARSE, 0,
                          "no blank line between the text and the signatures");
    n = calloc(1, sizeof(*n));
    if (n == NULL)
        return gl_err_set(why, GL_ENOMEM, 0, "out of memory");
    n->text = msg;
    n->text_len = at + 1;
    if ((err = parse_sigs(msg, len, at, n, why)) != 0) {
        gl_note_free(n);
        return err;
    }
    *out = n;
    return 0;
}

void gl_note_free(struct gl_note *n)
{
    if (n == NULL)
        return;
    free(n->sigs);
    free(n);
}

/* The index of the known note key matching sig's name and ID, or -1. */
static long note_find_key(const struct gl_note_sig *sig, const struct gl_verifier *keys,
                          size_t nkeys)
{
    for (size_t i = 0; i < nkeys; i++) {
        if (keys[i].type == GL_KEY_NOTE && keys[i].id == sig->id &&
            strlen(keys[i].name) == sig->name_len &&
            memcmp(keys[i].name, sig->name, sig->name_len) == 0)
            return (long)i;
    }
    return -1;
}

/* 1 if signatures a and b name the same key (name and ID). */
static int note_same_key(const struct gl_note_sig *a, const struct gl_note_sig *b)
{
    return a->id == b->id && a->name_len == b->name_len &&
           memcmp(a->name, b->name, a->name_len) == 0;
}

int gl_note_verify(const struct gl_note *n, const struct gl_verifier *keys, size_t nkeys,
                   uint8_t *verified)
{
    uint8_t ok[GL_NOTE_MAX_SIGS] = {0};
    size_t good = 0;
    int rc;

    if (n->nsigs > GL_NOTE_MAX_SIGS)
        return GL_EINVAL;
    for (size_t i = 0; i < n->nsigs; i++) {
        const struct gl_note_sig *s = &n->sigs[i];
        long k = note_find_key(s, keys, nkeys);
        int dup = 0;
        if (k < 0)
            continue;
        for (size_t j = 0; j < i && !dup; j++)
            dup = ok[j] && note_same_key(&n->sigs[j], s);
        if (dup)
            continue;
        rc = s->sig_len != 64
                 ? GL_EVERIFY
                 : gl_ed25519_verify(keys[k].pub, n->text, n->text_len, s->sig);
        if (rc != 0 && rc != GL_EVERIFY)
            return rc; /* OpenSSL could not check it: not a bad signature */
        if (rc != 0) {
            ok[i] = 2;
            good = 0;
            break;
        }
        ok[i] = 1;
        good++;
    }
    if (verified != NULL)
        memcpy(verified, ok, n->nsigs);
    for (size_t i = 0; i < n->nsigs; i++)
        if (ok[i] == 2)
            return GL_EVERIFY;
    return good > 0 ? 0 : GL_ENOKEY;
}

int gl_note_format_sig(const char *name, uint32_t id, const uint8_t *sig, size_t sig_len,
                       struct gl_buf *out)
{
    uint8_t blob[4 + GL_NOTE_SIG_MAX];
    char b64[((4 + GL_NOTE_SIG_MAX) + 2) / 3 * 4 + 1];
    int err;

    if (sig_len == 0 || sig_len > GL_NOTE_SIG_MAX ||
        !gl_key_name_valid(name, strlen(name)))
        return GL_EINVAL;
    blob[0] = (uint8_t)(id >> 24);
    blob[1] = (uint8_t)(id >> 16);
    blob[2] = (uint8_t)(id >> 8);
    blob[3] = (uint8_t)id;
    memcpy(blob + 4, sig, sig_len);
    if ((err = gl_base64_encode(blob, 4 + sig_len, b64, sizeof(b64))) != 0)
        return err;
    return gl_buf_printf(out, "%s%s %s\n", note_dash, name, b64);
}

int gl_note_sign(const char *text, size_t n, const struct gl_signer *signers,
                 size_t nsigners, struct gl_buf *out)
{
    size_t mark = out->len, total = n, line;
    uint8_t sig[64];
    int err = 0;

    if (nsigners == 0 || nsigners > GL_NOTE_MAX_SIGS)
        return GL_EINVAL;
    /* The whole note (text, blank line, signature lines) must stay within
     * what gl_note_parse accepts. */
    if (total > GL_NOTE_MAX_SIZE - 1)
        return GL_ETOOBIG;
    total++;
    for (size_t i = 0; i < nsigners; i++) {
        line = NOTE_DASH_LEN + strlen(signers[i].name) + 1 + gl_base64_len(4 + 64) + 1;
        if (total > GL_NOTE_MAX_SIZE - line)
            return GL_ETOOBIG;
        total += line;
    }
    if (gl_note_text_check(text, n, NULL) != 0)
        return GL_EPARSE;
    for (size_t i = 0; i < nsigners; i++)
        if (signers[i].type != GL_KEY_NOTE)
            return GL_EKEYTYPE;
    if ((err = gl_buf_append(out, text, n)) != 0 || (err = gl_buf_putc(out, '\n')) != 0)
        goto fail;
    for (size_t i = 0; i < nsigners; i++) {
        if ((err = gl_ed25519_sign(signers[i].seed, text, n, sig)) != 0 ||
            (err = gl_note_format_sig(signers[i].name, signers[i].id, sig, 64, out)) != 0)
            goto fail;
    }
    return 0;
fail:
    gl_buf_truncate(out, mark);
    return err;
}

/*
 * test_note: signed notes against Go's sumdb/note known answers (peter's
 * note signs byte for byte; the two-signature note verifies with each key
 * alone) and every verification rule of formats.md.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/note.h"

/* Parses and verifies msg with keys; returns the verify result. */
static int open_note(const char *msg, size_t n, const struct gl_verifier *keys,
                     size_t nkeys, uint8_t *verified)
{
    struct gl_note *note;
    int err = gl_note_parse(msg, n, &note, NULL);
    if (err != 0)
        return err;
    err = gl_note_verify(note, keys, nkeys, verified);
    gl_note_free(note);
    return err;
}

static void test_peter_sign_kat(void **state)
{
    struct gl_signer s;
    struct gl_buf b;
    size_t tn, nn;
    char *text = tu_read_vector("notes/peter.text", &tn);
    char *note = tu_read_vector("notes/peter.note", &nn);
    (void)state;
    tu_load_signer("notes/peter.key", &s);
    gl_buf_init(&b, GL_NOTE_MAX_SIZE);
    assert_int_equal(gl_note_sign(text, tn, &s, 1, &b), 0);
    assert_int_equal(b.len, nn);
    assert_memory_equal(b.data, note, nn);
    gl_buf_release(&b);
    gl_signer_wipe(&s);
    free(text);
    free(note);
}

static void test_peter_verify(void **state)
{
    struct gl_verifier v;
    struct gl_note *note;
    size_t n, tn;
    char *msg = tu_read_vector("notes/peter.note", &n);
    char *text = tu_read_vector("notes/peter.text", &tn);
    uint8_t ok[4];
    (void)state;
    tu_load_verifier("notes/peter.vkey", &v);
    assert_int_equal(gl_note_parse(msg, n, &note, NULL), 0);
    assert_int_equal(note->nsigs, 1);
    assert_int_equal(note->text_len, tn);
    assert_memory_equal(note->text, text, tn);
    assert_int_equal(gl_note_verify(note, &v, 1, ok), 0);
    assert_int_equal(ok[0], 1);
    gl_note_free(note);
    free(msg);
    free(text);
}

static void test_two_signatures(void **state)
{
    struct gl_verifier keys[2];
    size_t n;
    char *msg = tu_read_vector("notes/two-signatures.note", &n);
    uint8_t ok[2];
    (void)state;
    tu_load_verifier("notes/peter.vkey", &keys[0]);
    tu_load_verifier("notes/enoch.vkey", &keys[1]);
    assert_int_equal(open_note(msg, n, &keys[0], 1, ok), 0);
    assert_true(ok[0] == 1 && ok[1] == 0);
    assert_int_equal(open_note(msg, n, &keys[1], 1, ok), 0);
    assert_true(ok[0] == 0 && ok[1] == 1);
    assert_int_equal(open_note(msg, n, keys, 2, ok), 0);
    assert_true(ok[0] == 1 && ok[1] == 1);
    free(msg);
}

static void test_unknown_and_bad(void **state)
{
    struct gl_verifier peter, enoch, wrong;
    size_t n;
    char *msg = tu_read_vector("notes/peter.note", &n);
    char *text;
    (void)state;
    tu_load_verifier("notes/peter.vkey", &peter);
    tu_load_verifier("notes/enoch.vkey", &enoch);
    /* Unknown key only: no verified signature. */
    assert_int_equal(open_note(msg, n, &enoch, 1, NULL), GL_ENOKEY);
    /* Same name, other ID: unknown, ignored. */
    wrong = peter;
    wrong.id ^= 1;
    assert_int_equal(open_note(msg, n, &wrong, 1, NULL), GL_ENOKEY);
    /* Cosignature-type key never verifies notes. */
    wrong = peter;
    wrong.type = GL_KEY_COSIG;
    assert_int_equal(open_note(msg, n, &wrong, 1, NULL), GL_ENOKEY);
    /* Known key, other public key: bad signature rejects. */
    wrong = peter;
    wrong.pub[0] ^= 1;
    assert_int_equal(open_note(msg, n, &wrong, 1, NULL), GL_EVERIFY);
    /* Tampered text rejects. */
    text = malloc(n);
    memcpy(text, msg, n);
    text[0] ^= 0x20;
    assert_int_equal(open_note(text, n, &peter, 1, NULL), GL_EVERIFY);
    free(text);
    free(msg);
}

static void test_bad_sig_among_good(void **state)
{
    /* A good signature by one known key does not excuse a bad one by
     * another known key. */
    struct gl_verifier keys[2];
    size_t n;
    char *msg = tu_read_vector("notes/two-signatures.note", &n);
    (void)state;
    tu_load_verifier("notes/peter.vkey", &keys[0]);
    tu_load_verifier("notes/enoch.vkey", &keys[1]);
    uint8_t flags[2];
    keys[1].pub[5] ^= 0x80;
    assert_int_equal(open_note(msg, n, keys, 2, flags), GL_EVERIFY);
    assert_int_equal(flags[1], 2);
    free(msg);
}

static void test_malformed(void **state)
{
    /* Each refusal names its line (0: not tied to one) and what is wrong. */
    static const struct {
        const char *msg;
        size_t line;
        const char *why;
    } bad[] = {
        {"", 0, "empty text"},
        {"no newline", 1, "the last line does not end with a newline"},
        {"text\n", 0, "no blank line between the text and the signatures"},
        {"text\n\n", 2, "no signature line after the blank line"},
        /* a signed note with one newline too many: its last blank line
         * is the end (line 4), so the signature is taken as text */
        {"text\n\n\xe2\x80\x94 name AAAAAAE=\n\n", 4, "ends with a blank line"},
        {"text\n\nnot a signature\n", 3, "does not start with"},
        {"text\n\n\xe2\x80\x94 name\n", 3, "a signature line is not"},
        {"text\n\n\xe2\x80\x94 name \n", 3, "empty signature after the key name"},
        {"text\n\n\xe2\x80\x94 name AAAA\n", 3,
         "the signature is not base64"}, /* < 5 bytes */
        {"text\n\n\xe2\x80\x94 name AAAAA*E=\n", 3, "the signature is not base64"},
        {"text\n\n\xe2\x80\x94 name AAAA=AAA\n", 3, "the signature is not base64"},
        {"text\n\n\xe2\x80\x94 name AAAAAAE\n", 3, "the signature is not base64"},
        {"text\n\n\xe2\x80\x94 name AAAAAAE= \n", 3, "the signature is not base64"},
        {"text\n\n\xe2\x80\x94 na\xc2\xa0me AAAAAAAA\n", 3, "invalid key name"},
        {"text\n\n\xe2\x80\x94 na+me AAAAAAAA\n", 3, "invalid key name"},
        {"text\n\n\xe2\x80\x94 name AAAAAAAA", 3,
         "the last line does not end with a newline"},
        {"te\rxt\n\n\xe2\x80\x94 name AAAAAAAA\n", 1, "control character 0x0d"},
        {"a\nte\xffxt\n\n\xe2\x80\x94 name AAAAAAAA\n", 2, "invalid UTF-8"},
        {"text\n\n- name AAAAAAAA\n", 3, "does not start with"},
        /* the signatures start after the last blank line */
        {"a\nb\n\nc\n\n\xe2\x80\x94 name AAAAAAE=\n\xe2\x80\x94 x\n", 7,
         "a signature line is not"},
    };
    struct gl_note *note;
    struct gl_err why;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        tu_expect_why(gl_note_parse(bad[i].msg, strlen(bad[i].msg), &note, &why), &why,
                      GL_EPARSE, bad[i].line, bad[i].why);
    /* A valid minimal form parses: 5-byte blob. */
    assert_int_equal(
        gl_note_parse("text\n\n\xe2\x80\x94 name AAAAAAE=\n", 24, &note, NULL), 0);
    assert_int_equal(note->nsigs, 1);
    assert_int_equal(note->sigs[0].sig_len, 1);
    assert_int_equal(note->sigs[0].sig[0], 1);
    assert_int_equal(note->sigs[0].name_len, 4);
    assert_int_equal(note->sigs[0].canonical, 1);
    gl_note_free(note);
    /* Non-zero unused bits are ignored, as Go's (non-Strict) decoder does:
     * "AAAAAAF=" is the same 5 bytes. */
    assert_int_equal(
        gl_note_parse("text\n\n\xe2\x80\x94 name AAAAAAF=\n", 24, &note, NULL), 0);
    assert_int_equal(note->sigs[0].sig_len, 1);
    assert_int_equal(note->sigs[0].sig[0], 1);
    assert_int_equal(note->sigs[0].canonical, 0);
    gl_note_free(note);
}

/* Appends an unknown key's signature line: name (name_len bytes of 'u'),
 * key ID 0xfeedf00d and a siglen-byte signature. */
static void add_unknown(struct gl_buf *b, size_t name_len, size_t siglen)
{
    size_t blen = 4 + siglen, elen = gl_base64_len(blen) + 1;
    uint8_t *blob = malloc(blen);
    char *b64 = malloc(elen);
    assert_non_null(blob);
    assert_non_null(b64);
    blob[0] = 0xfe, blob[1] = 0xed, blob[2] = 0xf0, blob[3] = 0x0d;
    for (size_t i = 4; i < blen; i++)
        blob[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(gl_base64_encode(blob, blen, b64, elen), 0);
    assert_int_equal(gl_buf_append_str(b, "\xe2\x80\x94 "), 0);
    for (size_t i = 0; i < name_len; i++)
        assert_int_equal(gl_buf_putc(b, 'u'), 0);
    assert_int_equal(gl_buf_printf(b, " %s\n", b64), 0);
    free(blob);
    free(b64);
}

/* Signature lines the signed-note spec allows though no key of ours could
 * make them: verifiers ignore them when the key is unknown. */
static void test_unknown_signers(void **state)
{
    struct gl_verifier peter;
    struct gl_note *note;
    struct gl_buf b;
    size_t n;
    char *msg = tu_read_vector("notes/peter.note", &n);
    uint8_t ok[4];
    (void)state;
    tu_load_verifier("notes/peter.vkey", &peter);
    gl_buf_init(&b, GL_NOTE_MAX_SIZE);
    /* A post-quantum sized signature (ML-DSA-44: 2420 bytes) by an unknown
     * key is counted, not kept, and ignored. */
    assert_int_equal(gl_buf_append(&b, msg, n), 0);
    add_unknown(&b, 6, 2420);
    assert_int_equal(gl_note_parse((char *)b.data, b.len, &note, NULL), 0);
    assert_int_equal(note->nsigs, 2);
    assert_int_equal(note->sigs[1].id, 0xfeedf00d);
    assert_int_equal(note->sigs[1].sig_len, 2420);
    assert_int_equal(note->sigs[1].name_len, 6);
    /* the line is kept byte for byte (for re-emission) */
    assert_int_equal(note->sigs[1].line_len, b.len - n);
    assert_memory_equal(note->sigs[1].line, b.data + n, b.len - n);
    assert_int_equal(gl_note_verify(note, &peter, 1, ok), 0);
    assert_true(ok[0] == 1 && ok[1] == 0);
    gl_note_free(note);
    /* The same size of signature under the known key's name and ID: a
     * known key's signature of the wrong length is bad. */
    gl_buf_reset(&b);
    assert_int_equal(gl_buf_append(&b, msg, n), 0);
    assert_int_equal(gl_buf_printf(&b, "\xe2\x80\x94 PeterNeumann "), 0);
    {
        size_t blen = 4 + 2420;
        uint8_t *blob = calloc(1, blen);
        char *b64 = malloc(gl_base64_len(blen) + 1);
        blob[0] = 0xc7, blob[1] = 0x4f, blob[2] = 0x20, blob[3] = 0xa3;
        assert_int_equal(gl_base64_encode(blob, blen, b64, gl_base64_len(blen) + 1), 0);
        assert_int_equal(gl_buf_printf(&b, "%s\n", b64), 0);
        free(blob);
        free(b64);
    }
    assert_int_equal(gl_note_parse((char *)b.data, b.len, &note, NULL), 0);
    assert_int_equal(note->sigs[1].id, peter.id);
    /* two lines by one key: the first verifies, the second is skipped */
    assert_int_equal(gl_note_verify(note, &peter, 1, ok), 0);
    note->sigs[0] = note->sigs[1];
    assert_int_equal(gl_note_verify(note, &peter, 1, ok), GL_EVERIFY);
    assert_int_equal(ok[0], 2);
    gl_note_free(note);
    /* Names: DEL, longer than our own cap on key names, non-ASCII. */
    gl_buf_reset(&b);
    assert_int_equal(gl_buf_append(&b, msg, n), 0);
    assert_int_equal(gl_buf_append_str(&b, "\xe2\x80\x94 a\x7f"
                                           "b AAAAAAE=\n"),
                     0);
    add_unknown(&b, GL_KEY_NAME_MAX + 100, 64);
    assert_int_equal(gl_buf_append_str(&b, "\xe2\x80\x94 \xc3\xa9t\xc3\xa9 AAAAAAE=\n"),
                     0);
    assert_int_equal(gl_note_parse((char *)b.data, b.len, &note, NULL), 0);
    assert_int_equal(note->nsigs, 4);
    assert_int_equal(note->sigs[1].name_len, 3);
    assert_int_equal(note->sigs[2].name_len, GL_KEY_NAME_MAX + 100);
    assert_int_equal(note->sigs[2].sig_len, 64);
    assert_int_equal(gl_note_verify(note, &peter, 1, NULL), 0);
    gl_note_free(note);
    /* Names longer than a vkey's cap parse and are ignored (a signature
     * line's name has no cap but the note's, as in Go). */
    gl_buf_reset(&b);
    assert_int_equal(gl_buf_append(&b, msg, n), 0);
    add_unknown(&b, GL_KEY_OTHER_NAME_MAX, 2420);
    assert_int_equal(gl_note_parse((char *)b.data, b.len, &note, NULL), 0);
    assert_int_equal(note->sigs[1].name_len, GL_KEY_OTHER_NAME_MAX);
    assert_int_equal(gl_note_verify(note, &peter, 1, NULL), 0);
    gl_note_free(note);
    gl_buf_reset(&b);
    assert_int_equal(gl_buf_append(&b, msg, n), 0);
    add_unknown(&b, 4 * GL_KEY_OTHER_NAME_MAX, 64);
    assert_int_equal(gl_note_parse((char *)b.data, b.len, &note, NULL), 0);
    assert_int_equal(note->sigs[1].name_len, 4 * GL_KEY_OTHER_NAME_MAX);
    assert_int_equal(gl_note_verify(note, &peter, 1, NULL), 0);
    gl_note_free(note);
    /* Non-zero unused bits in an unknown key's line: ignored. */
    gl_buf_reset(&b);
    assert_int_equal(gl_buf_append(&b, msg, n), 0);
    assert_int_equal(
        gl_buf_append_str(&b, "\xe2\x80\x94 other AAAAAAAAAAAAAAAAAAAAAAAAAB==\n"), 0);
    assert_int_equal(gl_note_parse((char *)b.data, b.len, &note, NULL), 0);
    assert_int_equal(note->sigs[1].sig_len, 15);
    assert_int_equal(note->sigs[1].canonical, 0);
    assert_int_equal(gl_note_verify(note, &peter, 1, ok), 0);
    assert_true(ok[0] == 1 && ok[1] == 0);
    gl_note_free(note);
    gl_buf_release(&b);
    free(msg);
}

/* The known key's signature with non-zero unused bits in its last base64
 * group ("...nAN=" for "...nAM="): Go decodes the same bytes and accepts
 * it, and so do we. */
static void test_known_noncanonical(void **state)
{
    struct gl_verifier peter;
    struct gl_note *note;
    size_t n;
    char *msg = tu_read_vector("notes/peter.note", &n);
    (void)state;
    tu_load_verifier("notes/peter.vkey", &peter);
    assert_int_equal(memcmp(msg + n - 4, "AM=\n", 4), 0);
    msg[n - 3] = 'N';
    assert_int_equal(gl_note_parse(msg, n, &note, NULL), 0);
    assert_int_equal(note->sigs[0].canonical, 0);
    assert_int_equal(note->sigs[0].sig_len, 64);
    assert_int_equal(gl_note_verify(note, &peter, 1, NULL), 0);
    gl_note_free(note);
    free(msg);
}

/* Big unknown signatures fill a note up to the size cap, not past it. */
static void test_big_signatures_cap(void **state)
{
    struct gl_verifier peter;
    struct gl_note *note;
    struct gl_err why;
    struct gl_buf b;
    size_t n, line = 4 + 1 + 1 + gl_base64_len(4 + 7676) + 1, rest, avail, b64;
    char *msg = tu_read_vector("notes/peter.note", &n);
    (void)state;
    tu_load_verifier("notes/peter.vkey", &peter);
    gl_buf_init(&b, 2 * GL_NOTE_MAX_SIZE);
    for (int over = 0; over <= 1; over++) {
        gl_buf_reset(&b);
        assert_int_equal(gl_buf_append(&b, msg, n), 0);
        for (int i = 0; i < 98; i++)
            add_unknown(&b, 1, 7676);
        /* the last line's signature and name (within the name cap) take
         * the rest: exactly the cap (+ over) */
        rest = GL_NOTE_MAX_SIZE + (size_t)over - b.len;
        assert_true(rest > line);
        avail = rest - 4 - 1 - 1; /* name and base64 */
        b64 = (avail - 1) / 4 * 4;
        add_unknown(&b, avail - b64, b64 / 4 * 3 - 4);
        assert_int_equal(b.len, GL_NOTE_MAX_SIZE + (size_t)over);
        if (over) {
            tu_expect_why(gl_note_parse((char *)b.data, b.len, &note, &why), &why,
                          GL_ETOOBIG, 0, "signed note larger than");
            continue;
        }
        assert_int_equal(gl_note_parse((char *)b.data, b.len, &note, NULL), 0);
        assert_int_equal(note->nsigs, 100);
        assert_int_equal(note->sigs[50].sig_len, 7676);
        assert_int_equal(gl_note_verify(note, &peter, 1, NULL), 0);
        gl_note_free(note);
    }
    gl_buf_release(&b);
    free(msg);
}

static void test_limits(void **state)
{
    struct gl_signer s;
    struct gl_verifier v;
    struct gl_buf b;
    struct gl_note *note;
    struct gl_err why;
    const char *sig_line = "\xe2\x80\x94 other AAAAAAE=\n";
    (void)state;
    tu_load_signer("notes/peter.key", &s);
    gl_signer_verifier(&s, &v);
    gl_buf_init(&b, 2 * GL_NOTE_MAX_SIZE);
    assert_int_equal(gl_note_sign("hello\n", 6, &s, 1, &b), 0);
    /* 99 unknown signatures + 1 known = 100: accepted. */
    for (int i = 0; i < 99; i++)
        assert_int_equal(gl_buf_append_str(&b, sig_line), 0);
    assert_int_equal(gl_note_parse((char *)b.data, b.len, &note, NULL), 0);
    assert_int_equal(note->nsigs, 100);
    assert_int_equal(gl_note_verify(note, &v, 1, NULL), 0);
    gl_note_free(note);
    /* 101: refused, at the 101st signature line ("hello", blank, 100 lines) */
    assert_int_equal(gl_buf_append_str(&b, sig_line), 0);
    tu_expect_why(gl_note_parse((char *)b.data, b.len, &note, &why), &why, GL_ETOOBIG,
                  103, "more than 100 signature lines");
    /* Oversized note refused before any work. */
    gl_buf_reset(&b);
    for (size_t i = 0; i < GL_NOTE_MAX_SIZE / 8; i++)
        assert_int_equal(gl_buf_append_str(&b, "1234567\n"), 0);
    assert_int_equal(gl_buf_append_str(&b, "\n"), 0);
    assert_int_equal(gl_buf_append_str(&b, sig_line), 0);
    tu_expect_why(gl_note_parse((char *)b.data, b.len, &note, &why), &why, GL_ETOOBIG, 0,
                  "signed note larger than 1048576 bytes");
    gl_buf_release(&b);
    gl_signer_wipe(&s);
}

static void test_sign_rules(void **state)
{
    struct gl_signer s, c;
    struct gl_verifier v;
    struct gl_buf b;
    size_t n;
    char *ck = tu_read_vector("notes/witness.cosig-key", &n);
    (void)state;
    assert_int_equal(gl_signer_parse(ck, n, &c, NULL), 0);
    tu_load_signer("notes/peter.key", &s);
    gl_signer_verifier(&s, &v);
    gl_buf_init(&b, 65536);
    assert_int_equal(gl_note_sign("x\n", 2, &c, 1, &b), GL_EKEYTYPE);
    assert_int_equal(gl_note_sign("no newline", 10, &s, 1, &b), GL_EPARSE);
    assert_int_equal(gl_note_sign("a\tb\n", 4, &s, 1, &b), GL_EPARSE);
    assert_int_equal(gl_note_sign("", 0, &s, 1, &b), GL_EPARSE);
    assert_int_equal(b.len, 0);
    /* Text with an inner blank line still round-trips. */
    assert_int_equal(gl_note_sign("a\n\nb\n", 5, &s, 1, &b), 0);
    assert_int_equal(open_note((char *)b.data, b.len, &v, 1, NULL), 0);
    gl_buf_release(&b);
    gl_signer_wipe(&s);
    gl_signer_wipe(&c);
    free(ck);
}

/* The signed note, not just its text, must fit the cap our parser keeps. */
static void test_sign_size_cap(void **state)
{
    struct gl_signer s;
    struct gl_verifier v;
    struct gl_note *note;
    struct gl_buf b;
    /* "— PeterNeumann " base64(68 bytes) "\n" */
    size_t line = 4 + strlen("PeterNeumann") + 1 + 92 + 1;
    size_t tn = GL_NOTE_MAX_SIZE - 1 - line;
    char *text = malloc(tn + 1);
    (void)state;
    assert_non_null(text);
    tu_load_signer("notes/peter.key", &s);
    gl_signer_verifier(&s, &v);
    memset(text, 'a', tn + 1);
    gl_buf_init(&b, 2 * GL_NOTE_MAX_SIZE);
    /* exactly the cap: signed, and it parses and verifies */
    text[tn - 1] = '\n';
    assert_int_equal(gl_note_sign(text, tn, &s, 1, &b), 0);
    assert_int_equal(b.len, GL_NOTE_MAX_SIZE);
    assert_int_equal(gl_note_parse((char *)b.data, b.len, &note, NULL), 0);
    assert_int_equal(gl_note_verify(note, &v, 1, NULL), 0);
    gl_note_free(note);
    /* one byte of text more: refused, out untouched */
    gl_buf_reset(&b);
    text[tn - 1] = 'a';
    text[tn] = '\n';
    assert_int_equal(gl_note_sign(text, tn + 1, &s, 1, &b), GL_ETOOBIG);
    assert_int_equal(b.len, 0);
    /* a text alone over the cap */
    assert_int_equal(gl_note_sign(text, GL_NOTE_MAX_SIZE + 1, &s, 1, &b), GL_ETOOBIG);
    gl_buf_release(&b);
    gl_signer_wipe(&s);
    free(text);
}

/* OpenSSL's allocator, failing while ossl_fail is set. */
static int ossl_fail;

static void *ossl_malloc(size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    return ossl_fail ? NULL : malloc(n);
}

static void *ossl_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    return ossl_fail ? NULL : realloc(p, n);
}

static void ossl_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    free(p);
}

/* A verification OpenSSL cannot run (out of memory) is its error, not a
 * bad signature: a valid note must never be reported as badly signed.
 * The key differs from every one verified before, so it is parsed (and
 * allocated) anew. */
static void test_crypto_failure_not_bad(void **state)
{
    struct gl_verifier peter;
    size_t n;
    char *msg = tu_read_vector("notes/peter.note", &n);
    struct gl_note *note = NULL;
    int rc;
    (void)state;

    tu_load_verifier("notes/peter.vkey", &peter);
    assert_int_equal(gl_note_parse(msg, n, &note, NULL), 0);
    peter.pub[31] ^= 0x40; /* another public key: not the cached one */
    ossl_fail = 1;
    rc = gl_note_verify(note, &peter, 1, NULL);
    ossl_fail = 0;
    assert_int_equal(rc, GL_ECRYPTO);
    peter.pub[31] ^= 0x40;
    assert_int_equal(gl_note_verify(note, &peter, 1, NULL), 0);
    gl_note_free(note);
    free(msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crypto_failure_not_bad),
        cmocka_unit_test(test_peter_sign_kat),
        cmocka_unit_test(test_peter_verify),
        cmocka_unit_test(test_two_signatures),
        cmocka_unit_test(test_unknown_and_bad),
        cmocka_unit_test(test_bad_sig_among_good),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_unknown_signers),
        cmocka_unit_test(test_known_noncanonical),
        cmocka_unit_test(test_big_signatures_cap),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_sign_rules),
        cmocka_unit_test(test_sign_size_cap),
    };
    /* before OpenSSL allocates anything */
    if (CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free) != 1)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}

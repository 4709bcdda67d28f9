/*
 * test_witness_addck: the witness's add-checkpoint logic without a server:
 * body parsing (the note and origin are found even when the header is
 * malformed, so 404/403 can come first), opening the checkpoint with the
 * log's keys (vector key and note), the signature-line rules (100 lines at
 * most: 400; a malformed line by the log's key: 403; other malformations:
 * 400), the record a witness keeps (only the log's verified signatures,
 * loadable again with its cosignature whatever the request carried), and
 * every verdict of addck_decide, with consistency proofs from the
 * reference-tree vectors.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../witness/addck.h"
#include "glasslog/codec.h"
#include "glasslog/cosig.h"
#include "glasslog/error.h"
#include "glasslog/merkle.h"

/* The vector checkpoint note (size 1000) as a request body with old. */
static char *vector_body(const char *header, size_t *len)
{
    size_t n;
    char *note = tu_read_vector("notes/checkpoint.note", &n);
    char *b = malloc(strlen(header) + n + 1);

    strcpy(b, header);
    memcpy(b + strlen(header), note, n + 1);
    *len = strlen(header) + n;
    free(note);
    return b;
}

static void log_entry(struct logs_entry *e)
{
    memset(e, 0, sizeof(*e));
    strcpy(e->origin, "example.com/log");
    tu_load_verifier("notes/log.vkey", &e->keys[0]);
    e->nkeys = 1;
}

static void test_parse(void **state)
{
    struct addck_req r;
    struct gl_err why;
    size_t n;
    char *b = vector_body("old 0\n\n", &n);
    (void)state;
    assert_int_equal(addck_parse((uint8_t *)b, n, &r, &why), 0);
    assert_false(r.malformed);
    assert_int_equal(r.head_lines, 2);
    assert_true(r.old == 0 && r.nproof == 0);
    assert_int_equal(r.origin_len, strlen("example.com/log"));
    assert_memory_equal(r.origin, "example.com/log", r.origin_len);
    free(b);
    /* a malformed header still yields the note (400 reported later) */
    b = vector_body("old 01\n\n", &n);
    assert_int_equal(addck_parse((uint8_t *)b, n, &r, &why), 0);
    assert_true(r.malformed);
    assert_int_equal(r.syntax.line, 1);
    assert_string_equal(r.syntax.reason, "the first line must be \"old <size>\"");
    free(b);
    b = vector_body("old 5\nnot-a-hash\n\n", &n);
    assert_int_equal(addck_parse((uint8_t *)b, n, &r, &why), 0);
    assert_true(r.malformed);
    assert_int_equal(r.syntax.line, 2);
    assert_string_equal(r.syntax.reason,
                        "a consistency proof line is not one base64 hash");
    free(b);
    /* 63 proof lines are fine, 64 are not */
    {
        char hdr[64 * 45 + 32];
        size_t k = (size_t)sprintf(hdr, "old 7\n");
        for (int i = 0; i < 64; i++)
            k += (size_t)sprintf(hdr + k,
                                 "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
        strcpy(hdr + k, "\n");
        b = vector_body(hdr, &n);
        assert_int_equal(addck_parse((uint8_t *)b, n, &r, &why), 0);
        assert_true(r.malformed);
        assert_int_equal(r.syntax.line, 65);
        assert_string_equal(r.syntax.reason, "more than 63 consistency proof lines");
        free(b);
        strcpy(hdr + k - 45, "\n");
        b = vector_body(hdr, &n);
        assert_int_equal(addck_parse((uint8_t *)b, n, &r, &why), 0);
        assert_false(r.malformed);
        assert_int_equal(r.nproof, 63);
        free(b);
    }
    /* no blank line, or nothing after it: an immediate 400 */
    assert_int_equal(addck_parse((const uint8_t *)"old 0\n", 6, &r, &why), GL_EPARSE);
    assert_string_equal(why.reason,
                        "no blank line between the header and the checkpoint");
    assert_int_equal(addck_parse((const uint8_t *)"old 0\n\n", 7, &r, &why), GL_EPARSE);
    assert_int_equal(addck_parse((const uint8_t *)"old 0\n\n\nx\n", 10, &r, &why),
                     GL_EPARSE);
    assert_int_equal(why.line, 3);
    assert_string_equal(why.reason, "no checkpoint origin line after the blank line");
}

static void test_open(void **state)
{
    struct addck_req r;
    struct logs_entry e;
    struct gl_checkpoint c;
    struct addck_kept kept;
    struct gl_signer other;
    struct gl_err why;
    size_t n;
    char *b = vector_body("old 0\n\n", &n);
    (void)state;
    log_entry(&e);
    assert_int_equal(addck_parse((uint8_t *)b, n, &r, &why), 0);
    assert_int_equal(addck_open(&r, &e, &c, &kept, &why), 0);
    assert_true(c.size == 1000);
    /* kept: the text up to the blank line and the one log signature line */
    assert_int_equal(kept.text_len, strstr(r.note, "\n\n") + 1 - r.note);
    assert_int_equal(kept.n, 1);
    assert_int_equal(kept.line[0].off, kept.text_len + 1);
    assert_int_equal(kept.line[0].off + kept.line[0].len, r.note_len);
    /* another key with the same name: no signature by the log's key */
    assert_int_equal(gl_signer_generate("example.com/log", GL_KEY_NOTE, &other), 0);
    gl_signer_verifier(&other, &e.keys[0]);
    gl_signer_wipe(&other);
    assert_int_equal(addck_open(&r, &e, &c, &kept, &why), GL_ENOKEY);
    assert_string_equal(why.reason, "no signature by the log's key");
    /* a tampered text: the known key's signature fails */
    log_entry(&e);
    b[strlen("old 0\n\nexample.com/log\n")] = '2';
    assert_int_equal(addck_open(&r, &e, &c, &kept, &why), GL_EVERIFY);
    assert_string_equal(why.reason, "a bad signature by the log's key");
    free(b);
}

/* The vector checkpoint's text and its log signature line (with "\n"). */
struct vec {
    char *note;
    size_t text_len;
    const char *sig;
    size_t sig_len;
};

static void vec_load(struct vec *v)
{
    size_t n;

    v->note = tu_read_vector("notes/checkpoint.note", &n);
    v->text_len = (size_t)(strstr(v->note, "\n\n") + 1 - v->note);
    v->sig = v->note + v->text_len + 1;
    v->sig_len = n - v->text_len - 1;
}

/* A body "old 0", the vector text, then the lines (each ending "\n"). */
static void body_with(const struct vec *v, const struct gl_buf *lines, struct gl_buf *b)
{
    gl_buf_reset(b);
    assert_int_equal(gl_buf_append(b, "old 0\n\n", 7), 0);
    assert_int_equal(gl_buf_append(b, v->note, v->text_len + 1), 0);
    assert_int_equal(gl_buf_append(b, lines->data, lines->len), 0);
}

/* Appends k signature lines by unknown keys (well-formed, 64 bytes each). */
static void junk_lines(size_t k, struct gl_buf *out)
{
    uint8_t sig[64];

    memset(sig, 0x5a, sizeof(sig));
    for (size_t i = 0; i < k; i++)
        assert_int_equal(gl_note_format_sig("junk.example/k", (uint32_t)i, sig, 64, out),
                         0);
}

/* Opens body b against the vector log: addck_open's result. */
static int open_body(const struct gl_buf *b, struct gl_checkpoint *c,
                     struct addck_kept *kept, struct addck_req *r)
{
    struct logs_entry e;

    log_entry(&e);
    assert_int_equal(addck_parse(b->data, b->len, r, NULL), 0);
    assert_false(r->malformed);
    return addck_open(r, &e, c, kept, NULL);
}

/* A note at the signed-note cap (the log's signature and 99 junk lines)
 * is accepted; its record keeps only the log's line, and with the
 * witness's cosignature added it parses again, as a load would. */
static void test_record(void **state)
{
    struct vec v;
    struct gl_buf lines, body, rec, line;
    struct addck_req r;
    struct addck_kept kept;
    struct gl_checkpoint c, again;
    struct gl_signer w;
    struct gl_verifier wv, logv;
    struct gl_note *n = NULL;
    uint64_t t = 0;
    (void)state;
    vec_load(&v);
    gl_buf_init(&lines, 1 << 20);
    gl_buf_init(&body, 1 << 20);
    gl_buf_init(&rec, 1 << 20);
    gl_buf_init(&line, 512);
    assert_int_equal(gl_buf_append(&lines, v.sig, v.sig_len), 0);
    junk_lines(GL_NOTE_MAX_SIGS - 1, &lines);
    body_with(&v, &lines, &body);
    assert_int_equal(open_body(&body, &c, &kept, &r), 0);
    assert_int_equal(kept.n, 1);
    assert_int_equal(kept.line[0].len, v.sig_len);
    assert_memory_equal(r.note + kept.line[0].off, v.sig, v.sig_len);
    assert_int_equal(gl_signer_generate("witness.example/w", GL_KEY_COSIG, &w), 0);
    gl_signer_verifier(&w, &wv);
    assert_int_equal(gl_cosig_sign(&w, r.note, kept.text_len, 1700000000, &line), 0);
    assert_int_equal(addck_record(r.note, &kept, (const char *)line.data, line.len, &rec),
                     0);
    /* exactly text, blank line, the log's line, ours */
    assert_int_equal(rec.len, v.text_len + 1 + v.sig_len + line.len);
    assert_int_equal(addck_record_open((const char *)rec.data, rec.len, &again, &n, NULL),
                     0);
    assert_int_equal(n->nsigs, 2);
    assert_true(again.size == 1000 && memcmp(again.root, c.root, 32) == 0);
    tu_load_verifier("notes/log.vkey", &logv);
    assert_int_equal(gl_note_verify(n, &logv, 1, NULL), 0);
    assert_int_equal(gl_cosig_verify(&wv, n->text, n->text_len, &n->sigs[1], &t), 0);
    assert_true(t == 1700000000);
    gl_note_free(n);
    /* the log's line repeated 99 times: kept once */
    gl_buf_reset(&lines);
    for (int i = 0; i < GL_NOTE_MAX_SIGS; i++)
        assert_int_equal(gl_buf_append(&lines, v.sig, v.sig_len), 0);
    body_with(&v, &lines, &body);
    assert_int_equal(open_body(&body, &c, &kept, &r), 0);
    assert_int_equal(kept.n, 1);
    /* one line more than the parser accepts: 400 before any signature */
    gl_buf_reset(&lines);
    assert_int_equal(gl_buf_append(&lines, v.sig, v.sig_len), 0);
    junk_lines(GL_NOTE_MAX_SIGS, &lines);
    body_with(&v, &lines, &body);
    assert_int_equal(open_body(&body, &c, &kept, &r), GL_EPARSE);
    gl_signer_wipe(&w);
    gl_buf_release(&lines);
    gl_buf_release(&body);
    gl_buf_release(&rec);
    gl_buf_release(&line);
    free(v.note);
}

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The log's line with its base64 changed in the last character before
 * "=": set a padding bit (non-canonical, read as Go reads it: the same
 * bytes) or, if broken, made no base64 at all. Either way the key ID still
 * reads from the first 8 characters. */
static void changed_sig(const struct vec *v, int broken, struct gl_buf *out)
{
    char *l = malloc(v->sig_len + 1);
    char *eq;

    memcpy(l, v->sig, v->sig_len);
    l[v->sig_len] = 0;
    eq = strchr(l, '=');
    assert_non_null(eq);
    eq[-1] = broken ? '*' : b64chars[(strchr(b64chars, eq[-1]) - b64chars) | 1];
    assert_int_equal(gl_buf_append(out, l, v->sig_len), 0);
    free(l);
}

/* 403 for a signature line that names the log's key (name and key ID)
 * but does not parse; 400 for other malformations. */
static void test_sig_status(void **state)
{
    struct vec v;
    struct gl_buf lines, body;
    struct addck_req r;
    struct addck_kept kept;
    struct gl_checkpoint c;
    const char *lit;
    char *l;
    (void)state;
    vec_load(&v);
    gl_buf_init(&lines, 1 << 20);
    gl_buf_init(&body, 1 << 20);
    /* non-canonical base64 by the log's key: the same signature bytes,
     * accepted as Go's note.Open accepts them */
    changed_sig(&v, 0, &lines);
    body_with(&v, &lines, &body);
    assert_int_equal(open_body(&body, &c, &kept, &r), 0);
    /* invalid base64 by the log's key: 403 */
    gl_buf_reset(&lines);
    changed_sig(&v, 1, &lines);
    body_with(&v, &lines, &body);
    assert_int_equal(open_body(&body, &c, &kept, &r), GL_EVERIFY);
    /* the same next to a valid log signature: still 403 */
    assert_int_equal(gl_buf_append(&lines, v.sig, v.sig_len), 0);
    body_with(&v, &lines, &body);
    assert_int_equal(open_body(&body, &c, &kept, &r), GL_EVERIFY);
    /* a truncated signature by the log's key (8 base64 characters left) */
    gl_buf_reset(&lines);
    l = strndup(v.sig, v.sig_len);
    strcpy(strchr(l + 4, ' ') + 1 + 8, "!\n"); /* after the em dash, the name */
    assert_int_equal(gl_buf_append(&lines, l, strlen(l)), 0);
    body_with(&v, &lines, &body);
    assert_int_equal(open_body(&body, &c, &kept, &r), GL_EVERIFY);
    free(l);
    /* the log's name with another key ID, malformed: an unknown key, 400 */
    gl_buf_reset(&lines);
    changed_sig(&v, 1, &lines);
    l = (char *)lines.data + strlen("\xe2\x80\x94 example.com/log ");
    *l = *l == 'A' ? 'B' : 'A'; /* another key ID */
    assert_int_equal(gl_buf_append(&lines, v.sig, v.sig_len), 0);
    body_with(&v, &lines, &body);
    assert_int_equal(open_body(&body, &c, &kept, &r), GL_EPARSE);
    /* a valid log signature beside a malformed line by another key: 400 */
    gl_buf_reset(&lines);
    assert_int_equal(gl_buf_append(&lines, v.sig, v.sig_len), 0);
    lit = "\xe2\x80\x94 junk.example AAAA!!!!\n";
    assert_int_equal(gl_buf_append(&lines, lit, strlen(lit)), 0);
    body_with(&v, &lines, &body);
    assert_int_equal(open_body(&body, &c, &kept, &r), GL_EPARSE);
    /* the log's name with fewer than 8 base64 characters: no key ID, 400 */
    gl_buf_reset(&lines);
    lit = "\xe2\x80\x94 example.com/log AAAA\n";
    assert_int_equal(gl_buf_append(&lines, lit, strlen(lit)), 0);
    body_with(&v, &lines, &body);
    assert_int_equal(open_body(&body, &c, &kept, &r), GL_EPARSE);
    gl_buf_release(&lines);
    gl_buf_release(&body);
    free(v.note);
}

/* A checkpoint struct for the reference tree at size n. */
static void ref_ck(uint64_t n, const char *b64root, struct gl_checkpoint *c)
{
    memset(c, 0, sizeof(*c));
    strcpy(c->origin, "example.com/log");
    c->size = n;
    tu_b64_hash(b64root, c->root);
}

static void test_decide(void **state)
{
    static const char r256[] = "goUV0DPBnYyQHzfsy4rtkZZncDSG+NL/8c9wQDIcXbE=";
    static const char r257[] = "HtoEmkNR2G92JSvX7At3Rq11t/oDFq1fVB29pFijEsQ=";
    static const char p256_257[] = "Qq6Gp3ytEfJWXgXP+3NfRgJdQKN5pS66QgnCYnMTgAg=";
    struct addck_state st = {0};
    struct gl_checkpoint c256, c257, c0, bad0;
    uint8_t proof[1][32];
    const char *why = NULL;
    (void)state;
    ref_ck(256, r256, &c256);
    ref_ck(257, r257, &c257);
    tu_b64_hash(p256_257, proof[0]);
    memset(&c0, 0, sizeof(c0));
    gl_merkle_empty_root(c0.root);
    bad0 = c0;
    bad0.root[0] ^= 1;
    /* nothing stored: first checkpoint, any size, empty proof */
    assert_int_equal(addck_decide(&st, 0, NULL, 0, &c256, &why), ADDCK_OK);
    assert_int_equal(addck_decide(&st, 0, (const uint8_t(*)[32])proof, 1, &c256, &why),
                     ADDCK_BAD_PROOF);
    assert_int_equal(addck_decide(&st, 3, NULL, 0, &c256, &why), ADDCK_CONFLICT);
    assert_int_equal(addck_decide(&st, 300, NULL, 0, &c256, &why), ADDCK_BAD_REQUEST);
    assert_int_equal(addck_decide(&st, 0, NULL, 0, &c0, &why), ADDCK_OK);
    assert_int_equal(addck_decide(&st, 0, NULL, 0, &bad0, &why), ADDCK_EMPTY_ROOT);
    /* stored 256 */
    st.has = 1;
    st.size = 256;
    memcpy(st.root, c256.root, 32);
    assert_int_equal(addck_decide(&st, 256, (const uint8_t(*)[32])proof, 1, &c257, &why),
                     ADDCK_OK);
    assert_int_equal(addck_decide(&st, 256, NULL, 0, &c257, &why), ADDCK_BAD_PROOF);
    assert_int_equal(addck_decide(&st, 0, NULL, 0, &c257, &why), ADDCK_CONFLICT);
    assert_int_equal(addck_status(ADDCK_CONFLICT), 409);
    assert_int_equal(addck_decide(&st, 256, NULL, 0, &c256, &why), ADDCK_OK);
    assert_int_equal(addck_decide(&st, 256, (const uint8_t(*)[32])proof, 1, &c256, &why),
                     ADDCK_BAD_PROOF);
    c256.root[3] ^= 1;
    assert_int_equal(addck_decide(&st, 256, NULL, 0, &c256, &why), ADDCK_SPLIT);
    assert_int_equal(addck_status(ADDCK_SPLIT), 422);
    /* a proof from the stored root to another tree */
    c257.root[0] ^= 1;
    assert_int_equal(addck_decide(&st, 256, (const uint8_t(*)[32])proof, 1, &c257, &why),
                     ADDCK_BAD_PROOF);
    /* frozen: nothing, whatever the request */
    st.frozen = 1;
    c257.root[0] ^= 1;
    assert_int_equal(addck_decide(&st, 256, (const uint8_t(*)[32])proof, 1, &c257, &why),
                     ADDCK_FROZEN);
    assert_int_equal(addck_status(ADDCK_FROZEN), 422);
    assert_int_equal(addck_status(ADDCK_BAD_REQUEST), 400);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),  cmocka_unit_test(test_open),
        cmocka_unit_test(test_record), cmocka_unit_test(test_sig_status),
        cmocka_unit_test(test_decide),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_witness_addck: the witness's add-checkpoint logic without a server:
 * body parsing (the note and origin are found even when the header is
 * malformed, so 404/403 can come first), opening the checkpoint with the
 * log's keys (vector key and note), and every verdict of addck_decide,
 * with consistency proofs from the reference-tree vectors.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../witness/addck.h"
#include "glasslog/codec.h"
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
    const char *why = NULL;
    size_t n;
    char *b = vector_body("old 0\n\n", &n);
    (void)state;
    assert_int_equal(addck_parse((uint8_t *)b, n, &r, &why), 0);
    assert_null(r.syntax);
    assert_true(r.old == 0 && r.nproof == 0);
    assert_int_equal(r.origin_len, strlen("example.com/log"));
    assert_memory_equal(r.origin, "example.com/log", r.origin_len);
    assert_int_equal(r.text_len, strstr(r.note, "\n\n") + 1 - r.note);
    free(b);
    /* a malformed header still yields the note (400 reported later) */
    b = vector_body("old 01\n\n", &n);
    assert_int_equal(addck_parse((uint8_t *)b, n, &r, &why), 0);
    assert_non_null(r.syntax);
    free(b);
    b = vector_body("old 5\nnot-a-hash\n\n", &n);
    assert_int_equal(addck_parse((uint8_t *)b, n, &r, &why), 0);
    assert_non_null(r.syntax);
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
        assert_non_null(r.syntax);
        free(b);
        strcpy(hdr + k - 45, "\n");
        b = vector_body(hdr, &n);
        assert_int_equal(addck_parse((uint8_t *)b, n, &r, &why), 0);
        assert_null(r.syntax);
        assert_int_equal(r.nproof, 63);
        free(b);
    }
    /* no blank line, or nothing after it: an immediate 400 */
    assert_int_equal(addck_parse((const uint8_t *)"old 0\n", 6, &r, &why), GL_EPARSE);
    assert_int_equal(addck_parse((const uint8_t *)"old 0\n\n", 7, &r, &why), GL_EPARSE);
    assert_int_equal(addck_parse((const uint8_t *)"old 0\n\n\nx\n", 10, &r, &why),
                     GL_EPARSE);
}

static void test_open(void **state)
{
    struct addck_req r;
    struct logs_entry e;
    struct gl_checkpoint c;
    struct gl_signer other;
    const char *why = NULL;
    size_t n;
    char *b = vector_body("old 0\n\n", &n);
    (void)state;
    log_entry(&e);
    assert_int_equal(addck_parse((uint8_t *)b, n, &r, &why), 0);
    assert_int_equal(addck_open(&r, &e, &c, &why), 0);
    assert_true(c.size == 1000);
    /* another key with the same name: no signature by the log's key */
    assert_int_equal(gl_signer_generate("example.com/log", GL_KEY_NOTE, &other), 0);
    gl_signer_verifier(&other, &e.keys[0]);
    gl_signer_wipe(&other);
    assert_int_equal(addck_open(&r, &e, &c, &why), GL_ENOKEY);
    /* a tampered text: the known key's signature fails */
    log_entry(&e);
    b[strlen("old 0\n\nexample.com/log\n")] = '2';
    assert_int_equal(addck_open(&r, &e, &c, &why), GL_EVERIFY);
    free(b);
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
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_open),
        cmocka_unit_test(test_decide),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

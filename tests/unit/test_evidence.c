/*
 * test_evidence: split-view evidence files against the reference-tree
 * vectors (roots and consistency proofs computed by Go's sumdb/tlog, the
 * size-1000 checkpoint signed by notes/log.key): the full-proof roots agree
 * with every vector; a second root for one size, or a forged smaller tree
 * with the true proof (also for a power-of-two size), is proven a split
 * view; consistent pairs, forged proofs, foreign keys and malformed files
 * prove nothing; building is canonical (order and foreign lines dropped,
 * signature lines re-encoded: one pair, one ID).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glasslog/checkpoint.h"
#include "glasslog/codec.h"
#include "glasslog/cosig.h"
#include "glasslog/error.h"
#include "glasslog/evidence.h"
#include "glasslog/note.h"

#define ORIGIN "example.com/log"
#define MAXP GL_EVIDENCE_MAX_PROOF

/* The root of the reference tree at size n (from tree/roots.txt). */
static void ref_root(uint64_t n, uint8_t out[32])
{
    char *t = tu_read_vector("tree/roots.txt", NULL), *line = t;
    int found = 0;

    while (line != NULL && *line != 0 && !found) {
        unsigned long long sz;
        char b64[64];
        if (line[0] != '#' && line[0] != '\n' &&
            sscanf(line, "%llu %63s", &sz, b64) == 2 && sz == n) {
            tu_b64_hash(b64, out);
            found = 1;
        }
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    free(t);
    if (!found)
        fail_msg("no root for size %llu in the vectors", (unsigned long long)n);
}

/* The RFC 9162 proof m -> n from tree/consistency.txt; *len hashes. */
static void ref_proof(uint64_t m, uint64_t n, uint8_t (*proof)[32], size_t *len)
{
    char *t = tu_read_vector("tree/consistency.txt", NULL), *line = t;
    int in = 0;

    *len = 0;
    while (line != NULL && *line != 0) {
        unsigned long long a, b;
        char *nl = strchr(line, '\n');
        size_t ll = nl ? (size_t)(nl - line) : strlen(line);
        if (in && ll == 0)
            break;
        if (in) {
            int rc;
            assert_true(*len < MAXP);
            rc = gl_base64_decode_exact(line, ll, proof[*len], 32);
            assert_int_equal(rc, 0);
            (*len)++;
        } else if (ll > 0 && line[0] != '#' && sscanf(line, "%llu %llu", &a, &b) == 2 &&
                   a == m && b == n) {
            in = 1;
        }
        line = nl ? nl + 1 : NULL;
    }
    free(t);
    if (!in)
        fail_msg("no proof %llu -> %llu in the vectors", (unsigned long long)m,
                 (unsigned long long)n);
}

static void log_keys(struct gl_signer *k, struct gl_verifier *v)
{
    tu_load_signer("notes/log.key", k);
    tu_load_verifier("notes/log.vkey", v);
}

/* A checkpoint note (size, root) signed by the vector log key. */
static void signed_ck(uint64_t size, const uint8_t root[32], struct gl_buf *out)
{
    struct gl_signer k;
    struct gl_verifier v;

    log_keys(&k, &v);
    gl_buf_init(out, 1 << 16);
    assert_int_equal(gl_checkpoint_sign(ORIGIN, size, root, &k, out), 0);
    gl_signer_wipe(&k);
}

static void fake_root(uint8_t out[32], uint8_t tag)
{
    memset(out, 0, 32);
    out[0] = tag;
    out[31] = 0x5a;
}

/* Two checkpoints of size 1000 with different roots: *a of the
 * reference tree's (real), *b of a fake root (fake, made from tag). The
 * caller releases both. */
static void split_pair(uint8_t tag, uint8_t real[32], uint8_t fake[32], struct gl_buf *a,
                       struct gl_buf *b)
{
    ref_root(1000, real);
    fake_root(fake, tag);
    signed_ck(1000, real, a);
    signed_ck(1000, fake, b);
}

/* Builds and verifies; returns gl_evidence_build's code; *r filled when 0. */
static int build_verify(const struct gl_buf *a, const struct gl_buf *b,
                        const uint8_t (*proof)[32], size_t n, struct gl_buf *file,
                        struct gl_evidence_result *r)
{
    struct gl_verifier v;
    struct gl_evidence *e = calloc(1, sizeof(*e));
    struct gl_evidence_result *built = calloc(1, sizeof(*built));
    int rc;

    assert_non_null(e);
    assert_non_null(built);
    tu_load_verifier("notes/log.vkey", &v);
    gl_buf_init(file, GL_EVIDENCE_MAX_SIZE);
    rc = gl_evidence_build(&v, 1, (const char *)a->data, a->len, (const char *)b->data,
                           b->len, proof, n, file, built);
    if (rc == 0) {
        assert_int_equal(gl_evidence_parse((const char *)file->data, file->len, e, NULL),
                         0);
        assert_int_equal(gl_evidence_verify(e, &v, 1, r), 0);
        /* the result build hands out is the file's own verification */
        assert_int_equal(built->kind, r->kind);
        assert_string_equal(built->origin, r->origin);
        assert_memory_equal(built->size, r->size, sizeof(r->size));
        assert_memory_equal(built->root, r->root, sizeof(r->root));
        assert_int_equal(built->one_key, 1);
    }
    free(built);
    free(e);
    return rc;
}

/* Parses and verifies hand-made file text; returns verify's code. */
static int verify_text(const char *text, size_t len, struct gl_evidence_result *r)
{
    struct gl_verifier v;
    struct gl_evidence *e = calloc(1, sizeof(*e));
    int rc;

    tu_load_verifier("notes/log.vkey", &v);
    rc = gl_evidence_parse(text, len, e, NULL);
    if (rc == 0)
        rc = gl_evidence_verify(e, &v, 1, r);
    free(e);
    return rc;
}

/* Hand-made file: magic, proof, blank, note a, blank, note b. */
static void raw_file(const struct gl_buf *a, const struct gl_buf *b,
                     const uint8_t (*p)[32], size_t n, struct gl_buf *out)
{
    char line[64];

    gl_buf_init(out, GL_EVIDENCE_MAX_SIZE);
    assert_int_equal(gl_buf_append_str(out, GL_EVIDENCE_MAGIC "\n"), 0);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(gl_base64_encode(p[i], 32, line, sizeof(line)), 0);
        assert_int_equal(gl_buf_printf(out, "%s\n", line), 0);
    }
    assert_int_equal(gl_buf_putc(out, '\n'), 0);
    assert_int_equal(gl_buf_append(out, a->data, a->len), 0);
    assert_int_equal(gl_buf_putc(out, '\n'), 0);
    assert_int_equal(gl_buf_append(out, b->data, b->len), 0);
}

static void test_roots_match_vectors(void **state)
{
    static const uint64_t pairs[][2] = {
        {1, 2},     {1, 8},     {3, 7},       {4, 8},          {6, 8},
        {255, 256}, {256, 257}, {257, 70000}, {1000, 1000000}, {999999, 1000000}};
    uint8_t proof[MAXP][32], full[MAXP][32], rm[32], rn[32], want_m[32], want_n[32];
    size_t n, nfull;
    (void)state;
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        uint64_t m = pairs[i][0], sz = pairs[i][1];
        if (m == 999999 || m == 1 || m == 3 || m == 6)
            continue; /* no root for these sizes in roots.txt */
        ref_proof(m, sz, proof, &n);
        ref_root(m, want_m);
        ref_root(sz, want_n);
        assert_int_equal(gl_merkle_verify_consistency(m, sz, want_m, want_n,
                                                      (const uint8_t(*)[32])proof, n),
                         0);
        assert_int_equal(gl_evidence_full_proof(
                             m, sz, want_m, (const uint8_t(*)[32])proof, n, full, &nfull),
                         0);
        assert_int_equal(
            gl_evidence_roots(m, sz, (const uint8_t(*)[32])full, nfull, rm, rn), 0);
        assert_memory_equal(rm, want_m, 32);
        assert_memory_equal(rn, want_n, 32);
        /* one hash short or long: refused */
        assert_int_equal(
            gl_evidence_roots(m, sz, (const uint8_t(*)[32])full, nfull - 1, rm, rn),
            GL_EVERIFY);
    }
    assert_int_equal(gl_evidence_roots(0, 5, NULL, 0, rm, rn), GL_ERANGE);
    assert_int_equal(gl_evidence_roots(5, 5, NULL, 0, rm, rn), GL_ERANGE);
    assert_int_equal(gl_evidence_roots(6, 5, NULL, 0, rm, rn), GL_ERANGE);
}

static void test_same_size(void **state)
{
    struct gl_buf a, b, f1, f2;
    struct gl_evidence_result r;
    uint8_t real[32], other[32];
    (void)state;
    split_pair(1, real, other, &a, &b);
    assert_int_equal(build_verify(&a, &b, NULL, 0, &f1, &r), 0);
    assert_int_equal(r.kind, GL_EVIDENCE_SAME_SIZE);
    assert_string_equal(r.origin, ORIGIN);
    assert_true(r.size[0] == 1000 && r.size[1] == 1000);
    /* canonical: the other order gives the same bytes */
    assert_int_equal(build_verify(&b, &a, NULL, 0, &f2, &r), 0);
    assert_int_equal(f1.len, f2.len);
    assert_memory_equal(f1.data, f2.data, f1.len);
    gl_buf_release(&f2);
    /* the two notes out of order (the larger root first) are refused */
    if (memcmp(real, other, 32) < 0)
        raw_file(&b, &a, NULL, 0, &f2);
    else
        raw_file(&a, &b, NULL, 0, &f2);
    assert_int_equal(verify_text((char *)f2.data, f2.len, &r), GL_EVERIFY);
    assert_non_null(strstr(r.why.reason, "out of order"));
    gl_buf_release(&f2);
    /* the same checkpoint twice proves nothing */
    assert_int_equal(build_verify(&a, &a, NULL, 0, &f2, &r), GL_EVERIFY);
    assert_int_equal(f2.len, 0);
    gl_buf_release(&f2);
    /* a proof with equal sizes is refused */
    raw_file(&a, &b, (const uint8_t(*)[32])real, 1, &f2);
    assert_int_equal(verify_text((char *)f2.data, f2.len, &r), GL_EVERIFY);
    assert_int_equal(r.kind, GL_EVIDENCE_NONE);
    gl_buf_release(&f2);
    gl_buf_release(&a);
    gl_buf_release(&b);
    gl_buf_release(&f1);
}

static void check_fork(uint64_t m, uint64_t n)
{
    uint8_t proof[MAXP][32], full[MAXP][32], rm[32], rn[32], fake[32];
    struct gl_buf a, b, forged, f;
    struct gl_evidence_result r;
    size_t np, nfull;

    ref_proof(m, n, proof, &np);
    ref_root(m, rm);
    ref_root(n, rn);
    fake_root(fake, 2);
    signed_ck(m, rm, &a);
    signed_ck(n, rn, &b);
    signed_ck(m, fake, &forged);
    assert_int_equal(
        gl_evidence_full_proof(m, n, rm, (const uint8_t(*)[32])proof, np, full, &nfull),
        0);
    /* honest pair: valid, consistent, proves nothing */
    assert_int_equal(build_verify(&a, &b, (const uint8_t(*)[32])full, nfull, &f, &r),
                     GL_EVERIFY);
    gl_buf_release(&f);
    raw_file(&a, &b, (const uint8_t(*)[32])full, nfull, &f);
    assert_int_equal(verify_text((char *)f.data, f.len, &r), GL_EVERIFY);
    assert_int_equal(r.consistent, 1);
    gl_buf_release(&f);
    /* forged smaller tree: the true proof exposes it */
    assert_int_equal(build_verify(&forged, &b, (const uint8_t(*)[32])full, nfull, &f, &r),
                     0);
    assert_int_equal(r.kind, GL_EVIDENCE_NOT_PREFIX);
    assert_memory_equal(r.implied, rm, 32);
    assert_true(r.size[0] == m && r.size[1] == n);
    gl_buf_release(&f);
    /* the same pair with the larger tree first is refused */
    raw_file(&b, &forged, (const uint8_t(*)[32])full, nfull, &f);
    assert_int_equal(verify_text((char *)f.data, f.len, &r), GL_EVERIFY);
    assert_non_null(strstr(r.why.reason, "out of order"));
    assert_int_equal(r.kind, GL_EVIDENCE_NONE);
    gl_buf_release(&f);
    /* a tampered proof reproduces nothing: invalid, not split, not consistent */
    full[nfull - 1][5] ^= 1;
    raw_file(&forged, &b, (const uint8_t(*)[32])full, nfull, &f);
    assert_int_equal(verify_text((char *)f.data, f.len, &r), GL_EVERIFY);
    assert_int_equal(r.kind, GL_EVIDENCE_NONE);
    assert_int_equal(r.consistent, 0);
    gl_buf_release(&f);
    gl_buf_release(&a);
    gl_buf_release(&b);
    gl_buf_release(&forged);
}

static void test_fork(void **state)
{
    (void)state;
    check_fork(1000, 1000000);
}

static void test_fork_power_of_two(void **state)
{
    (void)state;
    check_fork(256, 257);
}

static void test_empty_tree(void **state)
{
    uint8_t empty[32], rn[32];
    struct gl_buf a, b, f;
    struct gl_evidence_result r;
    (void)state;
    gl_merkle_empty_root(empty);
    ref_root(1000, rn);
    signed_ck(0, empty, &a);
    signed_ck(1000, rn, &b);
    raw_file(&a, &b, NULL, 0, &f);
    assert_int_equal(verify_text((char *)f.data, f.len, &r), GL_EVERIFY);
    assert_int_equal(r.consistent, 1);
    gl_buf_release(&f);
    gl_buf_release(&a);
    gl_buf_release(&b);
}

static void test_foreign_keys_and_lines(void **state)
{
    struct gl_signer wk, other;
    struct gl_verifier v;
    struct gl_buf a, b, a2, f1, f2;
    struct gl_evidence_result r;
    uint8_t real[32], fake[32];
    (void)state;
    split_pair(3, real, fake, &a, &b);
    /* a cosignature appended to one note is dropped from the file */
    tu_load_signer("notes/witness.cosig-key", &wk);
    gl_buf_init(&a2, 1 << 16);
    assert_int_equal(gl_buf_append(&a2, a.data, a.len), 0);
    assert_int_equal(
        gl_cosig_sign(&wk, (const char *)a.data,
                      (size_t)(strstr((char *)a.data, "\n\n") + 1 - (char *)a.data),
                      1700000000, &a2),
        0);
    assert_int_equal(build_verify(&a, &b, NULL, 0, &f1, &r), 0);
    assert_int_equal(build_verify(&a2, &b, NULL, 0, &f2, &r), 0);
    assert_int_equal(f1.len, f2.len);
    assert_memory_equal(f1.data, f2.data, f1.len);
    /* another log key: nothing verifies */
    assert_int_equal(gl_signer_generate(ORIGIN, GL_KEY_NOTE, &other), 0);
    gl_signer_verifier(&other, &v);
    {
        struct gl_evidence e;
        assert_int_equal(gl_evidence_parse((char *)f1.data, f1.len, &e, NULL), 0);
        assert_int_equal(gl_evidence_verify(&e, &v, 1, &r), GL_EVERIFY);
        assert_int_equal(r.consistent, 0);
        assert_non_null(strstr(r.why.reason, "no signature by the log key"));
    }
    gl_signer_wipe(&other);
    gl_signer_wipe(&wk);
    gl_buf_release(&a);
    gl_buf_release(&a2);
    gl_buf_release(&b);
    gl_buf_release(&f1);
    gl_buf_release(&f2);
}

/* A checkpoint note (size, root) of ORIGIN signed by k, whatever its
 * name. */
static void signed_by(const struct gl_signer *k, uint64_t size, const uint8_t root[32],
                      struct gl_buf *out)
{
    struct gl_checkpoint c = {.size = size};
    struct gl_buf text;

    snprintf(c.origin, sizeof(c.origin), "%s", ORIGIN);
    memcpy(c.root, root, 32);
    gl_buf_init(&text, 1 << 16);
    gl_buf_init(out, 1 << 16);
    assert_int_equal(gl_checkpoint_format(&c, &text), 0);
    assert_int_equal(gl_note_sign((char *)text.data, text.len, k, 1, out), 0);
    gl_buf_release(&text);
}

static int verify_with(const struct gl_buf *f, const struct gl_verifier *keys, size_t n,
                       struct gl_evidence_result *r)
{
    struct gl_evidence e;

    assert_int_equal(gl_evidence_parse((char *)f->data, f->len, &e, NULL), 0);
    return gl_evidence_verify(&e, keys, n, r);
}

/* Who signed: two logs' keys blame neither; a log's rotated keys (one
 * name) do, and the result says that no one key signed both; a key that
 * signs another name's origin is named. */
/* The files built (keys[0..2)) from *other and a note at (size, root)
 * signed by the vector log key and k, with the two lines in either
 * order, must be the same bytes, the lines sorted by key ID (one name). */
static void both_orders(const struct gl_signer *k, uint64_t size, const uint8_t root[32],
                        const struct gl_buf *other, const struct gl_verifier *keys)
{
    struct gl_signer s[2];
    struct gl_verifier v;
    struct gl_checkpoint c = {.size = size};
    struct gl_buf text, note, f[2];

    log_keys(&s[0], &v);
    snprintf(c.origin, sizeof(c.origin), "%s", ORIGIN);
    memcpy(c.root, root, 32);
    gl_buf_init(&text, 1 << 16);
    assert_int_equal(gl_checkpoint_format(&c, &text), 0);
    for (int i = 0; i < 2; i++) {
        s[1 - i] = *k;
        if (i == 1)
            log_keys(&s[1], &v);
        gl_buf_init(&note, 1 << 16);
        gl_buf_init(&f[i], GL_EVIDENCE_MAX_SIZE);
        assert_int_equal(gl_note_sign((char *)text.data, text.len, s, 2, &note), 0);
        assert_int_equal(gl_evidence_build(keys, 2, (char *)note.data, note.len,
                                           (char *)other->data, other->len, NULL, 0,
                                           &f[i], NULL),
                         0);
        gl_buf_release(&note);
        gl_signer_wipe(&s[i]); /* the log key's copy (k stays the caller's) */
    }
    assert_int_equal(f[0].len, f[1].len);
    assert_memory_equal(f[0].data, f[1].data, f[0].len);
    gl_buf_release(&f[0]);
    gl_buf_release(&f[1]);
    gl_buf_release(&text);
}

static void test_signers(void **state)
{
    struct gl_signer other, rotated;
    struct gl_verifier keys[2];
    struct gl_buf a, b, c, f;
    struct gl_evidence_result r;
    uint8_t real[32], fake[32];
    (void)state;
    ref_root(1000, real);
    fake_root(fake, 4);
    tu_load_verifier("notes/log.vkey", &keys[0]);
    signed_ck(1000, real, &a);
    assert_int_equal(gl_signer_generate("example.com/other", GL_KEY_NOTE, &other), 0);
    gl_signer_verifier(&other, &keys[1]);
    signed_by(&other, 1000, fake, &b);
    raw_file(memcmp(real, fake, 32) < 0 ? &a : &b, memcmp(real, fake, 32) < 0 ? &b : &a,
             NULL, 0, &f);
    assert_int_equal(verify_with(&f, keys, 2, &r), GL_EVERIFY);
    assert_non_null(strstr(r.why.reason, "keys of different names"));
    gl_buf_release(&f);
    assert_int_equal(gl_evidence_build(keys, 2, (char *)a.data, a.len, (char *)b.data,
                                       b.len, NULL, 0, &f, NULL),
                     GL_EVERIFY);
    gl_buf_release(&f);
    /* the other key alone, on two notes of ORIGIN: its own split view */
    signed_by(&other, 1000, real, &c);
    gl_buf_init(&f, GL_EVIDENCE_MAX_SIZE);
    assert_int_equal(gl_evidence_build(&keys[1], 1, (char *)b.data, b.len, (char *)c.data,
                                       c.len, NULL, 0, &f, NULL),
                     0);
    assert_int_equal(verify_with(&f, &keys[1], 1, &r), 0);
    assert_string_equal(r.origin, ORIGIN);
    assert_string_equal(r.signer, "example.com/other");
    assert_true(r.one_key && r.key == 0); /* keys[1] given alone */
    assert_true(r.key_id[0] == keys[1].id && r.key_id[1] == keys[1].id);
    gl_buf_release(&f);
    gl_buf_release(&b);
    /* a rotated key of the same name */
    assert_int_equal(gl_signer_generate(keys[0].name, GL_KEY_NOTE, &rotated), 0);
    gl_signer_verifier(&rotated, &keys[1]);
    signed_by(&rotated, 1000, fake, &b);
    gl_buf_init(&f, GL_EVIDENCE_MAX_SIZE);
    assert_int_equal(gl_evidence_build(keys, 2, (char *)a.data, a.len, (char *)b.data,
                                       b.len, NULL, 0, &f, NULL),
                     0);
    assert_int_equal(verify_with(&f, keys, 2, &r), 0);
    assert_string_equal(r.signer, keys[0].name);
    /* but no one key verifies both: said, for callers that cannot vouch
     * that keys of one name are one log's */
    assert_int_equal(r.one_key, 0);
    assert_int_not_equal(r.key_id[0], r.key_id[1]);
    assert_true((r.key_id[0] == keys[0].id && r.key_id[1] == keys[1].id) ||
                (r.key_id[0] == keys[1].id && r.key_id[1] == keys[0].id));
    /* during the rotation a note carries both keys' lines: their order in
     * the note (lines are not signed) changes no byte of the file */
    both_orders(&rotated, 1000, real, &b, keys);
    gl_signer_wipe(&other);
    gl_signer_wipe(&rotated);
    gl_buf_release(&a);
    gl_buf_release(&b);
    gl_buf_release(&c);
    gl_buf_release(&f);
}

static void test_parse_errors(void **state)
{
    struct gl_buf a, b, f;
    struct gl_evidence e;
    uint8_t real[32], fake[32];
    static const char *bad[] = {
        "",
        "glasslog.dev/evidence/v2\n\n",
        GL_EVIDENCE_MAGIC "\n",
        GL_EVIDENCE_MAGIC "\nnot-base64\n\n",
        GL_EVIDENCE_MAGIC "\n\nexample.com/log\n1\n",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(gl_evidence_parse(bad[i], strlen(bad[i]), &e, NULL), GL_EPARSE);
    split_pair(4, real, fake, &a, &b);
    raw_file(&a, &b, NULL, 0, &f);
    assert_int_equal(gl_evidence_parse((char *)f.data, f.len, &e, NULL), 0);
    assert_int_equal(e.note_len[0], a.len);
    assert_int_equal(e.note_len[1], b.len);
    /* trailing garbage after the second note */
    assert_int_equal(gl_buf_append_str(&f, "\nmore\n"), 0);
    assert_int_equal(gl_evidence_parse((char *)f.data, f.len, &e, NULL), GL_EPARSE);
    gl_buf_release(&f);
    /* too many proof lines */
    {
        uint8_t(*p)[32] = calloc(MAXP + 1, 32);
        raw_file(&a, &b, (const uint8_t(*)[32])p, MAXP + 1, &f);
        assert_int_equal(gl_evidence_parse((char *)f.data, f.len, &e, NULL), GL_ETOOBIG);
        gl_buf_release(&f);
        free(p);
    }
    {
        char *big = calloc(1, GL_EVIDENCE_MAX_SIZE + 1);
        assert_int_equal(gl_evidence_parse(big, GL_EVIDENCE_MAX_SIZE + 1, &e, NULL),
                         GL_ETOOBIG);
        free(big);
    }
    gl_buf_release(&a);
    gl_buf_release(&b);
}

/* Parse refusals name their line of the file; so does verification when
 * a note in the file is malformed (its lines counted in the file). */
static void test_refusals_say_why(void **state)
{
    static const struct {
        const char *text;
        size_t line;
        const char *why;
    } bad[] = {
        {"glasslog.dev/evidence/v2\n\n", 1,
         "the first line is not glasslog.dev/evidence/v1"},
        {GL_EVIDENCE_MAGIC "\n", 2, "missing empty line after the proof"},
        {GL_EVIDENCE_MAGIC "\nnot-base64\n\n", 2, "a proof line is not one base64 hash"},
        {GL_EVIDENCE_MAGIC "\n\nexample.com/log\n1\n", 3,
         "the first checkpoint note is not followed by an empty line"},
    };
    char text[128], root64[45];
    struct gl_evidence *e = calloc(1, sizeof(*e));
    struct gl_evidence_result r;
    struct gl_buf a, b, f;
    struct gl_signer k;
    struct gl_verifier v;
    struct gl_err why;
    uint8_t real[32];
    int n;
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        tu_expect_why(gl_evidence_parse(bad[i].text, strlen(bad[i].text), e, &why), &why,
                      GL_EPARSE, bad[i].line, bad[i].why);
    /* a signed note whose size line (its line 2) is malformed, second in a
     * file: magic, empty line, the first note's 5 lines, empty line, then
     * the bad note from line 9 */
    ref_root(1000, real);
    signed_ck(1000, real, &a);
    log_keys(&k, &v);
    assert_int_equal(gl_base64_encode(real, 32, root64, sizeof(root64)), 0);
    n = snprintf(text, sizeof(text), ORIGIN "\n01000\n%s\n", root64);
    gl_buf_init(&b, 1 << 16);
    assert_int_equal(gl_note_sign(text, (size_t)n, &k, 1, &b), 0);
    raw_file(&a, &b, NULL, 0, &f);
    assert_int_equal(gl_evidence_parse((char *)f.data, f.len, e, &why), 0);
    assert_int_equal(gl_evidence_verify(e, &v, 1, &r), GL_EVERIFY);
    assert_int_equal(r.why.line, 10);
    assert_string_equal(
        r.why.reason,
        "the second checkpoint: tree size is not a decimal without leading zeros");
    gl_signer_wipe(&k);
    gl_buf_release(&a);
    gl_buf_release(&b);
    gl_buf_release(&f);
    free(e);
}

static void test_id_canonical(void **state)
{
    struct gl_buf a, b, a2, f1, f2, raw;
    struct gl_evidence_result r;
    uint8_t real[32], fake[32];
    char id1[65], id2[65];
    (void)state;
    split_pair(3, real, fake, &a, &b);
    gl_buf_init(&a2, 1 << 16);
    assert_int_equal(gl_buf_append(&a2, a.data, a.len), 0);
    tu_b64_noncanonical_sig((char *)a2.data, a2.len, 0);
    assert_memory_not_equal(a.data, a2.data, a.len);
    /* the re-encoded line still verifies, and a file carrying it as is
     * proves the split too */
    if (memcmp(real, fake, 32) < 0)
        raw_file(&a2, &b, NULL, 0, &raw);
    else
        raw_file(&b, &a2, NULL, 0, &raw);
    assert_int_equal(verify_text((char *)raw.data, raw.len, &r), 0);
    /* but the file built from it is the canonical one: one pair, one ID */
    assert_int_equal(build_verify(&a, &b, NULL, 0, &f1, &r), 0);
    assert_int_equal(build_verify(&a2, &b, NULL, 0, &f2, &r), 0);
    assert_int_equal(f1.len, f2.len);
    assert_memory_equal(f1.data, f2.data, f1.len);
    assert_int_equal(gl_evidence_id((char *)f1.data, f1.len, id1), 0);
    assert_int_equal(gl_evidence_id((char *)f2.data, f2.len, id2), 0);
    assert_string_equal(id1, id2);
    /* a canonical file is its own canonical file: stored IDs stay */
    gl_buf_release(&raw);
    if (memcmp(real, fake, 32) < 0)
        raw_file(&a, &b, NULL, 0, &raw);
    else
        raw_file(&b, &a, NULL, 0, &raw);
    assert_int_equal(raw.len, f1.len);
    assert_memory_equal(raw.data, f1.data, f1.len);
    gl_buf_release(&a);
    gl_buf_release(&a2);
    gl_buf_release(&b);
    gl_buf_release(&f1);
    gl_buf_release(&f2);
    gl_buf_release(&raw);
}

static void test_id(void **state)
{
    char hex[65];
    (void)state;
    assert_int_equal(gl_evidence_id("", 0, hex), 0);
    assert_string_equal(
        hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roots_match_vectors),
        cmocka_unit_test(test_same_size),
        cmocka_unit_test(test_fork),
        cmocka_unit_test(test_fork_power_of_two),
        cmocka_unit_test(test_empty_tree),
        cmocka_unit_test(test_foreign_keys_and_lines),
        cmocka_unit_test(test_signers),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_refusals_say_why),
        cmocka_unit_test(test_id),
        cmocka_unit_test(test_id_canonical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_client_chain: the judgement of a provenance chain (client/chain.c)
 * and chain bundles (lib/chainbundle.c). A small log is built in memory:
 * v2 statements by a vendor (builder), two rebuilders, an auditor and a
 * submitter without a role, all leaves of one tree whose checkpoint the
 * log key signs; inclusion proofs come from an RFC 9162 PATH written here
 * (independent of lib/merkle.c). Each case picks the items of a chain and
 * checks the verdict of every row and of the whole: the good chain, a
 * differing rebuild, a rebuild by a key without the role (which counts
 * neither for nor against, even with a proof that fails), an unaudited
 * source (with and without "require audit"), a missing source, a head by
 * a non-builder, another artifact, a proof that does not verify,
 * statements by a key outside the policy (they do not count, even when
 * they would fail), a bad signature by a policy key (fails) and a
 * statement that cannot be a link (another version: no row). Then a
 * chain bundle round trip and its refusals with their lines.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../client/chain.h"
#include "glasslog/chainbundle.h"
#include "glasslog/checkpoint.h"
#include "glasslog/error.h"
#include "glasslog/merkle.h"
#include "glasslog/statement.h"

/* OUT is not in the policy (STR is, without a role). */
enum { VENDOR, RB1, RB2, AUD, STR, OUT, NKEYS };
static const char *const key_names[NKEYS] = {
    "vendor.test", "rb1.test", "rb2.test", "aud.test", "stranger.test", "outsider.test"};

/* The log's entries. */
enum {
    E_SOURCE,      /* vendor: source X */
    E_BUILD,       /* vendor: build D from X */
    E_REBUILD1,    /* rb1: rebuild D from X */
    E_AUDIT,       /* aud: audits X */
    E_REBUILD2X,   /* rb2: rebuild D' from X (differs) */
    E_REBUILD_ST,  /* stranger: rebuild D from X */
    E_AUDIT_ST,    /* stranger: audits X */
    E_BUILD_ST,    /* stranger: build D from X */
    E_BUILD_Y,     /* vendor: build D from Y (no source statement) */
    E_SOURCE_OUT,  /* outsider: source X */
    E_REBUILD_OUT, /* outsider: rebuild D' from X (differs) */
    E_AUDIT_OUT,   /* outsider: audits X */
    E_REBUILD_BAD, /* rb1: rebuild D from X, a byte changed after signing */
    E_SOURCE_V2,   /* vendor: source X signed for 1.0, its version changed to 2.0 */
    NENTRIES
};

static struct {
    struct gl_signer log, k[NKEYS];
    struct gl_buf st[NENTRIES];
    uint8_t leaves[NENTRIES][32];
    struct gl_buf ck;
    struct gl_tlogproof proof[NENTRIES];
    char *policy_text[2]; /* with and without "require audit" */
} fx;

static uint8_t X[32], Y[32], D[32], D2[32], REPORT[32];

static void stmt(int e, int key, enum gl_statement_kind kind, const uint8_t sha[32],
                 const uint8_t *source)
{
    struct gl_statement_fields f;

    memset(&f, 0, sizeof(f));
    f.format = 2;
    f.kind = kind;
    f.subject = "widget";
    f.subject_len = 6;
    f.version = "1.0";
    f.version_len = 3;
    f.time = 1700000000 + (uint64_t)e;
    memcpy(f.sha256, sha, 32);
    if (source != NULL)
        memcpy(f.source, source, 32);
    if (kind == GL_STATEMENT_AUDIT_REPORT) {
        f.naudited = 1;
        memcpy(f.audited[0], X, 32);
        f.scope = "all of it";
        f.scope_len = 9;
    }
    gl_buf_init(&fx.st[e], GL_STATEMENT_MAX_SIZE);
    assert_int_equal(gl_statement_sign(&f, &fx.k[key], &fx.st[e], NULL), 0);
    assert_int_equal(gl_merkle_leaf_hash(fx.st[e].data, fx.st[e].len, fx.leaves[e]), 0);
}

/* RFC 9162 PATH(m, D[lo, lo+n)), leaf's sibling first. */
static void path(uint64_t m, uint64_t lo, uint64_t n, uint8_t (*out)[32], size_t *len)
{
    uint64_t k = 1;
    uint8_t h[32];

    if (n <= 1)
        return;
    while (k * 2 < n)
        k *= 2;
    if (m < k) {
        path(m, lo, k, out, len);
        tu_mth((const uint8_t(*)[32])fx.leaves + lo + k, n - k, h);
    } else {
        path(m - k, lo + k, n - k, out, len);
        tu_mth((const uint8_t(*)[32])fx.leaves + lo, k, h);
    }
    memcpy(out[(*len)++], h, 32);
}

static char *vkey(const struct gl_signer *s)
{
    struct gl_verifier v;
    struct gl_buf b;
    uint8_t *out;

    gl_signer_verifier(s, &v);
    gl_buf_init(&b, GL_KEY_TEXT_MAX + 1);
    assert_int_equal(gl_verifier_format(&v, &b), 0);
    assert_int_equal(gl_buf_detach(&b, &out, NULL), 0);
    return (char *)out;
}

static int setup(void **state)
{
    static const char *const roles[NKEYS] = {" builder", " rebuilder", " rebuilder",
                                             " auditor", "",           NULL};
    uint8_t root[32];
    struct gl_buf pol;
    char *k;

    (void)state;
    memset(X, 0x11, 32);
    memset(Y, 0x22, 32);
    memset(D, 0xdd, 32);
    memset(D2, 0xd2, 32);
    memset(REPORT, 0x77, 32);
    assert_int_equal(gl_signer_generate("log.test", GL_KEY_NOTE, &fx.log), 0);
    for (int i = 0; i < NKEYS; i++)
        assert_int_equal(gl_signer_generate(key_names[i], GL_KEY_NOTE, &fx.k[i]), 0);
    stmt(E_SOURCE, VENDOR, GL_STATEMENT_SOURCE, X, NULL);
    stmt(E_BUILD, VENDOR, GL_STATEMENT_BUILD, D, X);
    stmt(E_REBUILD1, RB1, GL_STATEMENT_REBUILD, D, X);
    stmt(E_AUDIT, AUD, GL_STATEMENT_AUDIT_REPORT, REPORT, NULL);
    stmt(E_REBUILD2X, RB2, GL_STATEMENT_REBUILD, D2, X);
    stmt(E_REBUILD_ST, STR, GL_STATEMENT_REBUILD, D, X);
    stmt(E_AUDIT_ST, STR, GL_STATEMENT_AUDIT_REPORT, REPORT, NULL);
    stmt(E_BUILD_ST, STR, GL_STATEMENT_BUILD, D, X);
    stmt(E_BUILD_Y, VENDOR, GL_STATEMENT_BUILD, D, Y);
    stmt(E_SOURCE_OUT, OUT, GL_STATEMENT_SOURCE, X, NULL);
    stmt(E_REBUILD_OUT, OUT, GL_STATEMENT_REBUILD, D2, X);
    stmt(E_AUDIT_OUT, OUT, GL_STATEMENT_AUDIT_REPORT, REPORT, NULL);
    stmt(E_REBUILD_BAD, RB1, GL_STATEMENT_REBUILD, D, X);
    stmt(E_SOURCE_V2, VENDOR, GL_STATEMENT_SOURCE, X, NULL);
    {
        /* "version 1.0" becomes "version 2.0": a source of another version,
         * by the vendor's name and key ID, whose signature does not verify */
        char *t = strstr((char *)fx.st[E_SOURCE_V2].data, "\nversion 1.0\n");
        assert_non_null(t);
        t[9] = '2';
        assert_int_equal(gl_merkle_leaf_hash(fx.st[E_SOURCE_V2].data,
                                             fx.st[E_SOURCE_V2].len,
                                             fx.leaves[E_SOURCE_V2]),
                         0);
    }
    {
        /* the time 1700000012 becomes 2700000012: still a statement, signed
         * by rb1's name and key ID, but the signature no longer matches */
        char *t = strstr((char *)fx.st[E_REBUILD_BAD].data, "\ntime 1");
        assert_non_null(t);
        t[6] = '2';
        assert_int_equal(gl_merkle_leaf_hash(fx.st[E_REBUILD_BAD].data,
                                             fx.st[E_REBUILD_BAD].len,
                                             fx.leaves[E_REBUILD_BAD]),
                         0);
    }
    tu_mth((const uint8_t(*)[32])fx.leaves, NENTRIES, root);
    gl_buf_init(&fx.ck, 1 << 16);
    assert_int_equal(gl_checkpoint_sign("log.test", NENTRIES, root, &fx.log, &fx.ck), 0);
    for (int e = 0; e < NENTRIES; e++) {
        fx.proof[e].index = (uint64_t)e;
        path((uint64_t)e, 0, NENTRIES, fx.proof[e].hashes, &fx.proof[e].nhashes);
        fx.proof[e].checkpoint = (const char *)fx.ck.data;
        fx.proof[e].checkpoint_len = fx.ck.len;
    }
    gl_buf_init(&pol, 1 << 16);
    k = vkey(&fx.log);
    assert_int_equal(gl_buf_printf(&pol, "log %s\nquorum none\n", k), 0);
    free(k);
    for (int i = 0; i < NKEYS; i++) {
        if (roles[i] == NULL)
            continue; /* not in the policy */
        k = vkey(&fx.k[i]);
        assert_int_equal(gl_buf_printf(&pol, "submitter %s%s\n", k, roles[i]), 0);
        free(k);
    }
    assert_int_equal(gl_buf_append_str(&pol, "require rebuilds 1\n"), 0);
    fx.policy_text[1] = strdup((const char *)pol.data);
    assert_int_equal(gl_buf_append_str(&pol, "require audit\n"), 0);
    fx.policy_text[0] = strdup((const char *)pol.data);
    gl_buf_release(&pol);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int e = 0; e < NENTRIES; e++)
        gl_buf_release(&fx.st[e]);
    gl_buf_release(&fx.ck);
    gl_signer_wipe(&fx.log);
    for (int i = 0; i < NKEYS; i++)
        gl_signer_wipe(&fx.k[i]);
    free(fx.policy_text[0]);
    free(fx.policy_text[1]);
    return 0;
}

/* Judges the chain of entries es[0..n) (head es[0]) under policy 0 (with
 * require audit) or 1; returns the report (caller frees). */
static struct chain_report *judge(const int *es, size_t n, int policy,
                                  const uint8_t *artifact)
{
    struct chain_item items[CHAIN_MAX];
    struct chain_report *r = malloc(sizeof(*r));
    struct gl_policy *p = NULL;
    int rc;

    assert_non_null(r);
    assert_int_equal(
        gl_policy_parse(fx.policy_text[policy], strlen(fx.policy_text[policy]), &p, NULL),
        0);
    for (size_t i = 0; i < n; i++) {
        items[i].stmt = (const char *)fx.st[es[i]].data;
        items[i].len = fx.st[es[i]].len;
        items[i].proof = &fx.proof[es[i]];
    }
    rc = chain_eval(p, items, n, 0, artifact, 0, 1800000000, r);
    assert_int_equal(rc, r->ok ? 0 : GL_EVERIFY);
    gl_policy_free(p);
    return r;
}

/* The row for link (and log index, or -1 for a summary row): its verdict
 * must be want, its reason must contain why. */
static void row(const struct chain_report *r, const char *link, int index,
                enum chain_verdict want, const char *why)
{
    for (size_t i = 0; i < r->nrows; i++) {
        const struct chain_row *w = &r->rows[i];
        if (strcmp(w->link, link) != 0 || (index >= 0) != (w->item >= 0) ||
            (index >= 0 && w->index != (uint64_t)index))
            continue;
        if (w->verdict != want || strstr(w->why, why) == NULL)
            fail_msg("%s #%d: verdict %d \"%s\", want %d \"%s\"", link, index, w->verdict,
                     w->why, want, why);
        return;
    }
    fail_msg("no row %s #%d", link, index);
}

static void test_good_chain(void **state)
{
    static const int es[] = {E_BUILD, E_SOURCE, E_REBUILD1, E_AUDIT};
    struct chain_report *r = judge(es, 4, 0, D);

    (void)state;
    assert_true(r->ok);
    assert_int_equal(r->nrows, 6);
    row(r, "build", E_BUILD, CHAIN_OK, "signed by a builder");
    row(r, "source", E_SOURCE, CHAIN_OK, "logged by a builder");
    row(r, "rebuild", E_REBUILD1, CHAIN_OK, "reproduced");
    row(r, "rebuilds", -1, CHAIN_OK, "1 of the 1 required");
    row(r, "audit", E_AUDIT, CHAIN_OK, "scope: all of it");
    row(r, "audits", -1, CHAIN_OK, "covered");
    assert_string_equal(r->rows[2].signer, "rb1.test");
    assert_string_equal(r->rows[2].role, "rebuilder");
    free(r);
    /* the order of the other items does not matter */
    r = judge((const int[]){E_BUILD, E_AUDIT, E_REBUILD1, E_SOURCE}, 4, 0, NULL);
    assert_true(r->ok);
    free(r);
}

static void test_rebuild_differs(void **state)
{
    static const int es[] = {E_BUILD, E_SOURCE, E_REBUILD1, E_AUDIT, E_REBUILD2X};
    struct chain_report *r = judge(es, 5, 0, D);

    (void)state;
    assert_false(r->ok);
    row(r, "rebuild", E_REBUILD2X, CHAIN_FAIL,
        "rebuilt d2d2d2d2d2d2d2d2..., which differs");
    row(r, "rebuild", E_REBUILD1, CHAIN_OK, "reproduced");
    row(r, "rebuilds", -1, CHAIN_OK, "1 of the 1 required");
    free(r);
}

static void test_roles_count(void **state)
{
    /* the stranger's rebuild and audit do not count: both requirements fail */
    static const int es[] = {E_BUILD, E_SOURCE, E_REBUILD_ST, E_AUDIT_ST};
    struct chain_report *r = judge(es, 4, 0, D);
    struct gl_tlogproof saved;

    (void)state;
    assert_false(r->ok);
    row(r, "rebuild", E_REBUILD_ST, CHAIN_IGNORED, "not signed by a rebuilder");
    row(r, "rebuilds", -1, CHAIN_FAIL, "0 of the 1 required");
    row(r, "audit", E_AUDIT_ST, CHAIN_IGNORED, "not signed by an auditor");
    row(r, "audits", -1, CHAIN_FAIL, "requires an audit");
    free(r);
    /* a head by a key that is not a builder */
    r = judge((const int[]){E_BUILD_ST, E_SOURCE, E_REBUILD1, E_AUDIT}, 4, 0, D);
    assert_false(r->ok);
    row(r, "build", E_BUILD_ST, CHAIN_FAIL, "does not name a builder");
    free(r);
    /* nor against it, even when its proof does not verify: the chain's
     * judgement cannot depend on how many such statements lookup --chain
     * had room to show */
    saved = fx.proof[E_REBUILD_ST];
    fx.proof[E_REBUILD_ST].index = E_BUILD_Y;
    r = judge((const int[]){E_BUILD, E_SOURCE, E_REBUILD1, E_AUDIT, E_REBUILD_ST}, 5, 0,
              D);
    fx.proof[E_REBUILD_ST] = saved;
    assert_true(r->ok);
    row(r, "rebuild", E_BUILD_Y, CHAIN_IGNORED, "not signed by a rebuilder");
    row(r, "rebuilds", -1, CHAIN_OK, "1 of the 1 required");
    free(r);
}

static void test_unaudited_and_missing_source(void **state)
{
    static const int es[] = {E_BUILD, E_SOURCE, E_REBUILD1};
    struct chain_report *r = judge(es, 3, 0, D);

    (void)state;
    assert_false(r->ok);
    row(r, "audits", -1, CHAIN_FAIL, "requires an audit");
    free(r);
    r = judge(es, 3, 1, D); /* no audit required */
    assert_true(r->ok);
    row(r, "audits", -1, CHAIN_IGNORED, "requires none");
    free(r);
    /* build Y: its source was never logged; the source statement of X is
     * about another digest and is not shown */
    r = judge((const int[]){E_BUILD_Y, E_SOURCE}, 2, 1, D);
    assert_false(r->ok);
    row(r, "source", -1, CHAIN_FAIL,
        "no source statement by a builder for 2222222222222222");
    for (size_t i = 0; i < r->nrows; i++)
        assert_true(r->rows[i].item != 1);
    free(r);
}

static void test_artifact_and_proofs(void **state)
{
    static const int es[] = {E_BUILD, E_SOURCE, E_REBUILD1, E_AUDIT};
    struct gl_tlogproof saved = fx.proof[E_REBUILD1];
    struct chain_report *r;

    (void)state;
    r = judge(es, 4, 0, D2);
    assert_false(r->ok);
    row(r, "build", E_BUILD, CHAIN_FAIL, "the artifact's sha256 d2d2");
    free(r);
    /* the rebuild's proof names another index: it does not verify */
    fx.proof[E_REBUILD1].index = E_REBUILD2X;
    r = judge(es, 4, 0, D);
    fx.proof[E_REBUILD1] = saved;
    assert_false(r->ok);
    row(r, "rebuild", E_REBUILD2X, CHAIN_FAIL, "does not verify: inclusion proof");
    row(r, "rebuilds", -1, CHAIN_FAIL, "0 of the 1 required");
    free(r);
}

/* A key outside the policy may append to a shared log: its statements do
 * not count, neither for the chain nor against it. */
static void test_outsider(void **state)
{
    static const int es[] = {E_BUILD,      E_SOURCE,      E_REBUILD1, E_AUDIT,
                             E_SOURCE_OUT, E_REBUILD_OUT, E_AUDIT_OUT};
    struct gl_tlogproof saved = fx.proof[E_REBUILD_OUT];
    struct chain_report *r = judge(es, 7, 0, D);

    (void)state;
    assert_true(r->ok);
    row(r, "source", E_SOURCE_OUT, CHAIN_IGNORED, "outside the policy");
    row(r, "rebuild", E_REBUILD_OUT, CHAIN_IGNORED, "outside the policy");
    row(r, "audit", E_AUDIT_OUT, CHAIN_IGNORED, "outside the policy");
    row(r, "source", E_SOURCE, CHAIN_OK, "logged by a builder");
    row(r, "rebuilds", -1, CHAIN_OK, "1 of the 1 required");
    row(r, "audits", -1, CHAIN_OK, "covered");
    for (size_t i = 0; i < r->nrows; i++)
        if (r->rows[i].item >= 0 && r->rows[i].index == E_REBUILD_OUT)
            assert_string_equal(r->rows[i].signer, "outsider.test (not in the policy)");
    free(r);
    /* they do not stand in for the policy's roles either */
    r = judge((const int[]){E_BUILD, E_SOURCE_OUT, E_REBUILD_OUT, E_AUDIT_OUT}, 4, 0, D);
    assert_false(r->ok);
    row(r, "source", E_SOURCE_OUT, CHAIN_IGNORED, "outside the policy");
    row(r, "source", -1, CHAIN_FAIL, "no source statement by a builder");
    row(r, "rebuild", E_REBUILD_OUT, CHAIN_IGNORED, "outside the policy");
    row(r, "rebuilds", -1, CHAIN_FAIL, "0 of the 1 required");
    row(r, "audits", -1, CHAIN_FAIL, "requires an audit");
    free(r);
    /* nor does the rest of such a statement matter: a proof that does not
     * verify */
    fx.proof[E_REBUILD_OUT].index = E_REBUILD1;
    r = judge(es, 7, 0, D);
    fx.proof[E_REBUILD_OUT] = saved;
    assert_true(r->ok);
    row(r, "rebuild", E_REBUILD1, CHAIN_OK, "reproduced");
    free(r);
}

/* A statement that names a policy key whose signature does not verify
 * fails its row (and the chain), even beside a good one by the same key. */
static void test_bad_signature(void **state)
{
    static const int es[] = {E_BUILD, E_SOURCE, E_REBUILD1, E_AUDIT, E_REBUILD_BAD};
    struct chain_report *r = judge(es, 5, 0, D);

    (void)state;
    assert_false(r->ok);
    row(r, "rebuild", E_REBUILD_BAD, CHAIN_FAIL,
        "does not verify: submitter signature: the signature of submitter rb1.test");
    row(r, "rebuild", E_REBUILD1, CHAIN_OK, "reproduced");
    row(r, "rebuilds", -1, CHAIN_OK, "1 of the 1 required");
    free(r);
}

/* A statement that cannot be a link of the chain gets no row, even one
 * that would fail: here a source of X for another version whose
 * signature by the vendor does not verify (lookup --chain does not keep
 * such statements; the bundle's judgement is the same). */
static void test_other_version(void **state)
{
    static const int es[] = {E_BUILD, E_SOURCE, E_REBUILD1, E_AUDIT, E_SOURCE_V2};
    struct chain_report *r = judge(es, 5, 0, D);

    (void)state;
    assert_true(r->ok);
    assert_int_equal(r->nrows, 6);
    row(r, "source", E_SOURCE, CHAIN_OK, "logged by a builder");
    for (size_t i = 0; i < r->nrows; i++)
        assert_true(r->rows[i].item != 4);
    free(r);
}

/* format -> parse -> format; refusals name their line. */
static void test_bundle(void **state)
{
    static const int es[] = {E_BUILD, E_SOURCE, E_REBUILD1};
    struct gl_tlogproof copies[3], *ps[3];
    struct gl_chainbundle *b = NULL;
    struct gl_err why = {0, ""};
    struct gl_buf t, t2;

    (void)state;
    for (int i = 0; i < 3; i++) {
        copies[i] = fx.proof[es[i]];
        copies[i].extra = fx.st[es[i]].data;
        copies[i].extra_len = fx.st[es[i]].len;
        ps[i] = &copies[i];
    }
    gl_buf_init(&t, GL_CHAINBUNDLE_MAX_SIZE);
    gl_buf_init(&t2, GL_CHAINBUNDLE_MAX_SIZE);
    assert_int_equal(gl_chainbundle_format(ps, 3, &t), 0);
    assert_int_equal(gl_chainbundle_parse((const char *)t.data, t.len, &b, &why), 0);
    assert_int_equal(b->n, 3);
    assert_int_equal(b->proofs[2]->index, E_REBUILD1);
    assert_int_equal(b->proofs[1]->extra_len, fx.st[E_SOURCE].len);
    assert_memory_equal(b->proofs[1]->extra, fx.st[E_SOURCE].data, fx.st[E_SOURCE].len);
    assert_int_equal(gl_chainbundle_format(b->proofs, b->n, &t2), 0);
    assert_int_equal(t.len, t2.len);
    assert_memory_equal(t.data, t2.data, t.len);
    gl_chainbundle_free(b);
    /* the head must be a build: source first is refused, by format and parse */
    ps[0] = &copies[1];
    ps[1] = &copies[0];
    t2.len = 0;
    assert_int_equal(gl_chainbundle_format(ps, 2, &t2), GL_EPARSE);
    assert_int_equal(t2.len, 0);
    /* one byte less in the last proof: its frame is too long */
    assert_int_equal(gl_chainbundle_parse((const char *)t.data, t.len - 1, &b, &why),
                     GL_EPARSE);
    assert_null(b);
    assert_non_null(strstr(why.reason, "shorter than its length"));
    {
        size_t lines = 0, frame_line = 0;
        const char *last = NULL;
        for (size_t i = 0; i < t.len; i++) {
            if (i + 6 <= t.len && (i == 0 || t.data[i - 1] == '\n') &&
                memcmp(t.data + i, "proof ", 6) == 0) {
                last = (const char *)t.data + i;
                frame_line = lines + 1;
            }
            lines += t.data[i] == '\n';
        }
        assert_non_null(last);
        assert_int_equal(why.line, frame_line);
    }
    assert_int_equal(gl_chainbundle_parse("glasslog.dev/chain-bundle/v1\n", 29, &b, &why),
                     GL_EPARSE);
    assert_string_equal(why.reason, "no proof");
    assert_int_equal(gl_chainbundle_format(ps, 0, &t2), GL_EINVAL);
    gl_buf_release(&t);
    gl_buf_release(&t2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_chain),
        cmocka_unit_test(test_rebuild_differs),
        cmocka_unit_test(test_roles_count),
        cmocka_unit_test(test_unaudited_and_missing_source),
        cmocka_unit_test(test_artifact_and_proofs),
        cmocka_unit_test(test_outsider),
        cmocka_unit_test(test_bad_signature),
        cmocka_unit_test(test_other_version),
        cmocka_unit_test(test_bundle),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

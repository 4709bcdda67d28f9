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
 *
 * The monitor's chain alarms (client/chainwatch.c, its source lookups
 * answered by fake_fetch_get, every statement of an answer proven):
 * a build whose source statement is logged after it is pending, not
 * source-not-logged, until CHAINWATCH_SOURCE_GRACE after the build (the
 * check kept in chain-pending across runs, cleared when the source
 * appears, the alarm raised only when due; a build older than that
 * raises it at once); a v1 build by a builder under a policy with
 * requirements raises source-not-logged (it names no source), without
 * requirements nothing; a rebuild by a key that is not a rebuilder raises
 * no rebuild-differs when the policy names no rebuilder, as lookup
 * --chain shows it as not counting; a chain-pending that cannot be read
 * is reported with the read's reason (errno's text, or the cap); once
 * the receiver of the alarms is full (the monitor's cap per cycle) no
 * more are raised: the statement's checks stop (GL_ETOOBIG) and due
 * checks stay pending for the next call. chain-pending's parser
 * (chainwatch_pending_parse) reads a text as chainwatch writes it to the
 * values it was written from and refuses a malformed line, or a check
 * past its cap, naming the line.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../../client/chain.h"
#include "../../client/fetch.h"
/* chainwatch's source lookups are answered here (fake_fetch_get, below). */
int fake_fetch_get(struct fetch *f, const char *path, size_t max, struct gl_buf *body);
#define fetch_get fake_fetch_get
#include "../../client/chainwatch.c"
#undef fetch_get
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

/* --- the monitor's chain alarms (chainwatch.c) ------------------------------------ */

/* The entries the fake log's source lookup lists (at their enum index), and
 * how many lookups were asked. */
static struct {
    int e[NENTRIES];
    size_t n;
    int asked;
} lk;

/* The alarms raised. */
static struct {
    char kind[16][32];
    uint64_t index[16];
    int with_stmt[16];
    char detail[16][512];
    int n;
} seen;

int fake_fetch_get(struct fetch *f, const char *p, size_t max, struct gl_buf *body)
{
    cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "statements");
    char *text;
    int rc;

    (void)f;
    (void)max;
    assert_non_null(strstr(p, "api/v1/lookup?source="));
    lk.asked++;
    for (size_t i = 0; i < lk.n; i++) {
        cJSON *it = cJSON_CreateObject();
        char st[GL_STATEMENT_MAX_SIZE + 1];
        snprintf(st, sizeof(st), "%.*s", (int)fx.st[lk.e[i]].len,
                 (const char *)fx.st[lk.e[i]].data);
        cJSON_AddNumberToObject(it, "index", lk.e[i]);
        cJSON_AddStringToObject(it, "statement", st);
        cJSON_AddStringToObject(it, "proof", "its proof");
        cJSON_AddItemToArray(arr, it);
    }
    assert_non_null(text = cJSON_PrintUnformatted(o));
    rc = gl_buf_append_str(body, text);
    free(text);
    cJSON_Delete(o);
    return rc;
}

/* Every statement of an answer is in the log. */
static int fake_prove(void *ctx, uint64_t index, const uint8_t leaf[GL_HASH_LEN],
                      const char *proof)
{
    (void)ctx;
    (void)leaf;
    (void)proof;
    return index < NENTRIES ? 0 : GL_EVERIFY;
}

static void record(void *ctx, const struct chainwatch_alarm *a)
{
    (void)ctx;
    assert_true(seen.n < 16);
    snprintf(seen.kind[seen.n], sizeof(seen.kind[0]), "%s", a->kind);
    seen.index[seen.n] = a->index;
    seen.with_stmt[seen.n] = a->stmt != NULL;
    snprintf(seen.detail[seen.n], sizeof(seen.detail[0]), "%s", a->detail);
    seen.n++;
}

static void answer_with(const int *es, size_t n)
{
    memcpy(lk.e, es, n * sizeof(*es));
    lk.n = n;
}

/* A policy whose keys have these roles (NULL: not in it) and these
 * require lines (caller frees). */
static struct gl_policy *policy_of(const char *const roles[NKEYS], const char *requires)
{
    struct gl_policy *p = NULL;
    struct gl_buf pol;
    char *k;

    gl_buf_init(&pol, 1 << 16);
    k = vkey(&fx.log);
    assert_int_equal(gl_buf_printf(&pol, "log %s\nquorum none\n", k), 0);
    free(k);
    for (int i = 0; i < NKEYS; i++) {
        if (roles[i] == NULL)
            continue;
        k = vkey(&fx.k[i]);
        assert_int_equal(gl_buf_printf(&pol, "submitter %s%s\n", k, roles[i]), 0);
        free(k);
    }
    assert_int_equal(gl_buf_append_str(&pol, requires), 0);
    assert_int_equal(gl_policy_parse((const char *)pol.data, pol.len, &p, NULL), 0);
    gl_buf_release(&pol);
    return p;
}

static const char *const all_roles[NKEYS] = {" builder", " rebuilder", " rebuilder",
                                             " auditor", "",           NULL};

static struct chainwatch *watch(const struct gl_policy *p, uint64_t audit_within)
{
    struct fetch_urls u;
    struct chainwatch *w = NULL;

    memset(&u, 0, sizeof(u));
    assert_int_equal(fetch_urls_add(&u, "http://127.0.0.1:9", NULL), 0);
    assert_int_equal(
        chainwatch_new(p, &u, 1, audit_within, record, NULL, fake_prove, NULL, NULL, &w),
        0);
    memset(&seen, 0, sizeof(seen));
    lk.asked = 0;
    return w;
}

/* chainwatch_entry for statement text t (len n) at index, met at now. */
static int meet_text(struct chainwatch *w, const struct gl_policy *p, const char *dir,
                     uint64_t index, const char *t, size_t n, uint64_t now)
{
    const struct gl_verifier *subs;
    struct gl_statement st;
    size_t nsub, which;

    subs = gl_policy_submitters(p, &nsub);
    assert_int_equal(gl_statement_parse(t, n, &st, NULL), 0);
    assert_int_equal(gl_statement_verify(&st, subs, nsub, &which), 0);
    return chainwatch_entry(w, dir, index, t, n, &st, which, now);
}

static int meet(struct chainwatch *w, const struct gl_policy *p, const char *dir, int e,
                uint64_t now)
{
    return meet_text(w, p, dir, (uint64_t)e, (const char *)fx.st[e].data, fx.st[e].len,
                     now);
}

static void pending_text(const char *dir, char *out, size_t cap)
{
    char file[512];
    FILE *f;
    size_t n = 0;

    snprintf(file, sizeof(file), "%s/chain-pending", dir);
    if ((f = fopen(file, "rb")) != NULL) {
        n = fread(out, 1, cap - 1, f);
        fclose(f);
    }
    out[n] = 0;
}

static void remove_dir(char *dir)
{
    char file[512];

    snprintf(file, sizeof(file), "%s/chain-pending", dir);
    unlink(file);
    assert_int_equal(rmdir(dir), 0);
}

/* A build logged before its source statement: pending until the grace
 * after the build's time, cleared when the source appears by then (in a
 * later run: the check is in chain-pending), the alarm raised once it is
 * due and the source is still missing; a build older than the grace
 * raises it at once. Audit checks of an older chain-pending are kept. */
static void test_monitor_source_grace(void **state)
{
    const uint64_t t = 1700000000 + E_BUILD, due = t + CHAINWATCH_SOURCE_GRACE;
    struct gl_policy *p = policy_of(all_roles, "require rebuilds 1\n");
    char dir[] = "/tmp/glasslog-chainwatch-XXXXXX", text[4096], file[600];
    struct chainwatch *w;
    FILE *f;
    (void)state;

    assert_non_null(mkdtemp(dir));
    /* an older monitor's audit check: kept as it is (no --audit-within) */
    snprintf(file, sizeof(file), "%s/chain-pending", dir);
    assert_non_null(f = fopen(file, "wb"));
    fprintf(f, "5 3 %064d\n", 0);
    assert_int_equal(fclose(f), 0);

    w = watch(p, 0);
    answer_with((const int[]){E_BUILD}, 1);
    assert_int_equal(meet(w, p, dir, E_BUILD, t + 60), 0);
    assert_int_equal(seen.n, 0); /* not yet: the source may be logged in a moment */
    assert_int_equal(chainwatch_flush(w, dir), 0);
    pending_text(dir, text, sizeof(text));
    assert_non_null(strstr(text, "5 3 0000"));
    assert_non_null(strstr(text, "\nsource "));
    assert_int_equal(chainwatch_due(w, dir, "log.test", UINT64_MAX, due - 1), 0);
    assert_int_equal(seen.n, 0);
    chainwatch_free(w);

    /* the next run (a new monitor): the source is logged now */
    w = watch(p, 0);
    answer_with((const int[]){E_SOURCE, E_BUILD}, 2);
    assert_int_equal(chainwatch_due(w, dir, "log.test", UINT64_MAX, due), 0);
    assert_int_equal(lk.asked, 1);
    assert_int_equal(seen.n, 0);
    pending_text(dir, text, sizeof(text));
    assert_string_equal(
        text, "5 3 0000000000000000000000000000000000000000000000000000000000000000\n");
    chainwatch_free(w);

    /* never logged: the alarm once it is due, with the build */
    w = watch(p, 0);
    answer_with((const int[]){E_BUILD}, 1);
    assert_int_equal(meet(w, p, dir, E_BUILD, t + 60), 0);
    assert_int_equal(chainwatch_flush(w, dir), 0);
    chainwatch_free(w);
    w = watch(p, 0);
    assert_int_equal(chainwatch_due(w, dir, "log.test", UINT64_MAX, due - 1), 0);
    assert_int_equal(seen.n, 0);
    /* due, but its entry is where the caller's catch-up stopped: kept */
    assert_int_equal(chainwatch_due(w, dir, "log.test", E_BUILD, due), 0);
    assert_int_equal(seen.n, 0);
    pending_text(dir, text, sizeof(text));
    assert_non_null(strstr(text, "source "));
    assert_int_equal(chainwatch_due(w, dir, "log.test", E_BUILD + 1, due), 0);
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.kind[0], "source-not-logged");
    assert_int_equal(seen.index[0], E_BUILD);
    assert_true(seen.with_stmt[0]);
    assert_non_null(
        strstr(seen.detail[0], "build of widget 1.0 names source 1111111111111111..."));
    assert_int_equal(chainwatch_due(w, dir, "log.test", UINT64_MAX, due + 100), 0);
    assert_int_equal(seen.n, 1); /* done: raised once */
    chainwatch_free(w);

    /* a build met after its grace: at once, nothing pending */
    w = watch(p, 0);
    assert_int_equal(meet(w, p, dir, E_BUILD, due), 0);
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.kind[0], "source-not-logged");
    assert_int_equal(chainwatch_flush(w, dir), 0);
    pending_text(dir, text, sizeof(text));
    assert_null(strstr(text, "source"));
    chainwatch_free(w);

    /* met again once due, its check still pending (a stop before the
     * progress past it was saved): raised once, by the pending check */
    w = watch(p, 0);
    answer_with((const int[]){E_BUILD}, 1);
    assert_int_equal(meet(w, p, dir, E_BUILD, t + 60), 0);
    assert_int_equal(chainwatch_flush(w, dir), 0);
    chainwatch_free(w);
    w = watch(p, 0);
    assert_int_equal(meet(w, p, dir, E_BUILD, due + 1), 0);
    assert_int_equal(seen.n, 0);
    assert_int_equal(chainwatch_due(w, dir, "log.test", UINT64_MAX, due + 1), 0);
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.kind[0], "source-not-logged");
    chainwatch_free(w);

    /* a file of more checks than CHAINWATCH_MAX_PENDING is refused as it
     * is read, nothing written past the array */
    assert_non_null(f = fopen(file, "wb"));
    for (int i = 0; i <= CHAINWATCH_MAX_PENDING; i++)
        fprintf(f, "5 %d %064d\n", i, 0);
    assert_int_equal(fclose(f), 0);
    w = watch(p, 0);
    assert_int_equal(chainwatch_due(w, dir, "log.test", UINT64_MAX, due), GL_EPARSE);
    assert_int_equal(seen.n, 0);
    chainwatch_free(w);
    gl_policy_free(p);
    remove_dir(dir);
}

/* A v1 build (no source line) by a builder cannot show the chain a
 * policy with requirements needs: source-not-logged at once, no lookup
 * asked. Without requirements, or by a key that is not a builder, it
 * raises nothing. */
static void test_monitor_v1_build(void **state)
{
    struct gl_policy *req = policy_of(all_roles, "require audit\n");
    struct gl_policy *none = policy_of(all_roles, "");
    char dir[] = "/tmp/glasslog-chainwatch-XXXXXX";
    struct gl_statement_fields f;
    struct chainwatch *w;
    struct gl_buf v1[2];
    (void)state;

    assert_non_null(mkdtemp(dir));
    for (int i = 0; i < 2; i++) {
        memset(&f, 0, sizeof(f));
        f.format = 1;
        f.kind = GL_STATEMENT_BUILD;
        f.subject = "widget";
        f.subject_len = 6;
        f.version = "0.9";
        f.version_len = 3;
        f.time = 1700000000;
        memcpy(f.sha256, D, 32);
        gl_buf_init(&v1[i], GL_STATEMENT_MAX_SIZE);
        assert_int_equal(
            gl_statement_sign(&f, &fx.k[i == 0 ? VENDOR : STR], &v1[i], NULL), 0);
    }
    w = watch(req, 0);
    assert_int_equal(
        meet_text(w, req, dir, 40, (const char *)v1[0].data, v1[0].len, 1700000000), 0);
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.kind[0], "source-not-logged");
    assert_int_equal(seen.index[0], 40);
    assert_true(seen.with_stmt[0]);
    assert_non_null(strstr(seen.detail[0], "v1 statement, which names no source"));
    assert_int_equal(lk.asked, 0);
    /* by a plain submitter: not a vendor build */
    assert_int_equal(
        meet_text(w, req, dir, 41, (const char *)v1[1].data, v1[1].len, 1700000000), 0);
    assert_int_equal(seen.n, 1);
    chainwatch_free(w);
    w = watch(none, 0);
    assert_int_equal(
        meet_text(w, none, dir, 40, (const char *)v1[0].data, v1[0].len, 1700000000), 0);
    assert_int_equal(seen.n, 0);
    assert_int_equal(lk.asked, 0);
    chainwatch_free(w);
    gl_buf_release(&v1[0]);
    gl_buf_release(&v1[1]);
    gl_policy_free(req);
    gl_policy_free(none);
    remove_dir(dir);
}

/* With no rebuilder in the policy, a differing rebuild by a policy key
 * without the role counts neither for lookup --chain (does not count) nor
 * for the monitor (no rebuild-differs); by a rebuilder it is both a FAIL
 * and the alarm. */
static void test_monitor_rebuild_role(void **state)
{
    static const char *const no_rebuilders[NKEYS] = {" builder", NULL, "",
                                                     " auditor", "",   NULL};
    static const int es[] = {E_BUILD, E_SOURCE, E_REBUILD2X};
    struct gl_policy *p = policy_of(no_rebuilders, "");
    struct gl_policy *named = policy_of(all_roles, "");
    char dir[] = "/tmp/glasslog-chainwatch-XXXXXX";
    struct chain_item items[3];
    struct chain_report *r = malloc(sizeof(*r));
    struct chainwatch *w;
    (void)state;

    assert_non_null(mkdtemp(dir));
    assert_non_null(r);
    for (size_t i = 0; i < 3; i++) {
        items[i].stmt = (const char *)fx.st[es[i]].data;
        items[i].len = fx.st[es[i]].len;
        items[i].proof = &fx.proof[es[i]];
    }
    chain_eval(p, items, 3, 0, NULL, 0, 1800000000, r);
    row(r, "rebuild", E_REBUILD2X, CHAIN_IGNORED, "not signed by a rebuilder");
    answer_with(es, 3);
    w = watch(p, 0);
    assert_int_equal(meet(w, p, dir, E_REBUILD2X, 1700000100), 0);
    /* the alarm reports it all the same: a policy key's rebuild differs */
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.kind[0], "rebuild-differs");
    chainwatch_free(w);
    chain_eval(named, items, 3, 0, NULL, 0, 1800000000, r);
    row(r, "rebuild", E_REBUILD2X, CHAIN_FAIL, "which differs");
    w = watch(named, 0);
    assert_int_equal(meet(w, named, dir, E_REBUILD2X, 1700000100), 0);
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.kind[0], "rebuild-differs");
    chainwatch_free(w);
    free(r);
    gl_policy_free(p);
    gl_policy_free(named);
    remove_dir(dir);
}

/* chainwatch_due with the step's arguments (for tu_capture_stderr). */
struct due_call {
    struct chainwatch *w;
    const char *dir;
    uint64_t now;
    int rc;
};

static void due_step(void *arg)
{
    struct due_call *c = arg;

    c->rc = chainwatch_due(c->w, c->dir, "log.test", UINT64_MAX, c->now);
}

/* A chain-pending that cannot be read is reported with the reason of the
 * read (gl_file_read_error: errno's text, or the cap), not a generic one,
 * and the run fails without an alarm. */
static void test_monitor_pending_unreadable(void **state)
{
    struct gl_policy *p = policy_of(all_roles, "require audit\n");
    char dir[] = "/tmp/glasslog-chainwatch-XXXXXX", file[600], want[700];
    struct due_call c = {.now = 1700000000};
    struct chainwatch *w;
    char *err;
    int fd;
    (void)state;

    assert_non_null(mkdtemp(dir));
    snprintf(file, sizeof(file), "%s/chain-pending", dir);
    c.dir = dir;
    /* a directory in its place: read(2) fails with EISDIR */
    assert_int_equal(mkdir(file, 0755), 0);
    c.w = w = watch(p, 10);
    err = tu_capture_stderr(due_step, &c);
    assert_int_equal(c.rc, GL_EIO);
    snprintf(want, sizeof(want), "cannot read %s: %s\n", file, strerror(EISDIR));
    assert_non_null(strstr(err, want));
    assert_int_equal(seen.n, 0);
    free(err);
    chainwatch_free(w);
    assert_int_equal(rmdir(file), 0);
    /* unreadable (mode 0; root reads it all the same: then it is empty) */
    assert_true((fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0)) >= 0);
    assert_int_equal(close(fd), 0);
    if (geteuid() != 0) {
        c.w = w = watch(p, 10);
        err = tu_capture_stderr(due_step, &c);
        assert_int_equal(c.rc, GL_EIO);
        snprintf(want, sizeof(want), "cannot read %s: %s\n", file, strerror(EACCES));
        assert_non_null(strstr(err, want));
        free(err);
        chainwatch_free(w);
    }
    /* larger than chainwatch ever writes: the cap, said so */
    assert_int_equal(unlink(file), 0);
    assert_true((fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0);
    assert_int_equal(ftruncate(fd, (off_t)CHAINWATCH_PENDING_MAX_SIZE + 1), 0);
    assert_int_equal(close(fd), 0);
    c.w = w = watch(p, 10);
    err = tu_capture_stderr(due_step, &c);
    assert_int_equal(c.rc, GL_ETOOBIG);
    snprintf(want, sizeof(want), "cannot read %s: larger than the cap\n", file);
    assert_non_null(strstr(err, want));
    assert_int_equal(seen.n, 0);
    free(err);
    chainwatch_free(w);
    gl_policy_free(p);
    remove_dir(dir);
}

/* The receiver's cap (chainwatch_full_fn): it is full once it holds
 * *ctx alarms. */
static int cap_full(void *ctx)
{
    return seen.n >= *(const int *)ctx;
}

static struct chainwatch *watch_capped(const struct gl_policy *p, uint64_t audit_within,
                                       int *cap)
{
    struct fetch_urls u;
    struct chainwatch *w = NULL;

    memset(&u, 0, sizeof(u));
    assert_int_equal(fetch_urls_add(&u, "http://127.0.0.1:9", NULL), 0);
    assert_int_equal(chainwatch_new(p, &u, 1, audit_within, record, NULL, fake_prove,
                                    cap_full, cap, &w),
                     0);
    memset(&seen, 0, sizeof(seen));
    lk.asked = 0;
    return w;
}

/* The alarm cap: once the receiver is full (the monitor's alarms of a
 * cycle reached their cap) chainwatch raises nothing more. A v1 build
 * (source-not-logged at once) that fills it returns GL_ETOOBIG, and so
 * does the next one, unchecked, until the receiver takes alarms again;
 * met again then, each raises its alarm. Due checks past the cap are not
 * run: they stay pending (said on stderr) for a later call. */
static void test_monitor_alarm_cap(void **state)
{
    struct gl_policy *p = policy_of(all_roles, "require audit\n");
    char dir[] = "/tmp/glasslog-chainwatch-XXXXXX", text[4096], *err;
    struct gl_statement_fields f;
    struct gl_buf v1[3];
    struct chainwatch *w;
    struct due_call c;
    int cap = 2, lines = 0;
    (void)state;

    assert_non_null(mkdtemp(dir));
    for (int i = 0; i < 3; i++) {
        static const char *const versions[3] = {"0.1", "0.2", "0.3"};
        memset(&f, 0, sizeof(f));
        f.format = 1;
        f.kind = GL_STATEMENT_BUILD;
        f.subject = "widget";
        f.subject_len = 6;
        f.version = versions[i];
        f.version_len = 3;
        f.time = 1700000000;
        memcpy(f.sha256, D, 32);
        gl_buf_init(&v1[i], GL_STATEMENT_MAX_SIZE);
        assert_int_equal(gl_statement_sign(&f, &fx.k[VENDOR], &v1[i], NULL), 0);
    }
    w = watch_capped(p, 0, &cap);
    assert_int_equal(
        meet_text(w, p, dir, 40, (const char *)v1[0].data, v1[0].len, 1700000000), 0);
    assert_int_equal(
        meet_text(w, p, dir, 41, (const char *)v1[1].data, v1[1].len, 1700000000),
        GL_ETOOBIG); /* its alarm filled the receiver */
    assert_int_equal(
        meet_text(w, p, dir, 42, (const char *)v1[2].data, v1[2].len, 1700000000),
        GL_ETOOBIG); /* full: not checked */
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.index[0], 40);
    assert_int_equal(seen.index[1], 41);
    cap = 4; /* the next cycle: met again, raised */
    assert_int_equal(
        meet_text(w, p, dir, 42, (const char *)v1[2].data, v1[2].len, 1700000000), 0);
    assert_int_equal(seen.n, 3);
    assert_int_equal(seen.index[2], 42);
    chainwatch_free(w);

    /* two builds met within their grace, with --audit-within: 4 checks
     * (2 source, 2 audit) pending, all due later, 3 taken this time */
    answer_with((const int[]){E_BUILD, E_BUILD_Y}, 2);
    w = watch_capped(p, 10, &cap);
    assert_int_equal(meet(w, p, dir, E_BUILD, 1700000100), 0);
    assert_int_equal(meet(w, p, dir, E_BUILD_Y, 1700000100), 0);
    assert_int_equal(seen.n, 0);
    assert_int_equal(chainwatch_flush(w, dir), 0);
    chainwatch_free(w);
    cap = 3;
    c = (struct due_call){
        .w = w = watch_capped(p, 10, &cap), .dir = dir, .now = 1800000000};
    err = tu_capture_stderr(due_step, &c);
    assert_int_equal(c.rc, 0);
    assert_int_equal(seen.n, 3);
    assert_int_equal(lk.asked, 3); /* the fourth was not even asked */
    assert_non_null(strstr(err, "1 due chain check not run: the alarms of this cycle "
                                "reached their cap: kept pending for the next cycle"));
    free(err);
    pending_text(dir, text, sizeof(text));
    for (const char *q = text; (q = strchr(q, '\n')) != NULL; q++)
        lines++;
    assert_int_equal(lines, 1);
    cap = 16; /* the next cycle: the last one */
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(chainwatch_due(w, dir, "log.test", UINT64_MAX, 1800000000), 0);
    assert_int_equal(seen.n, 1);
    pending_text(dir, text, sizeof(text));
    assert_string_equal(text, "");
    chainwatch_free(w);
    for (int i = 0; i < 3; i++)
        gl_buf_release(&v1[i]);
    gl_policy_free(p);
    remove_dir(dir);
}

/* chainwatch_pending_parse refuses text (len bytes, room for max checks)
 * on its line 2, with no check, the reason containing `says` (NULL: any). */
static void refused_on_line_2(const char *text, size_t len, size_t max, const char *says)
{
    struct chainwatch_pending got[3];
    struct gl_err why;
    size_t n = 99;

    assert_true(max <= 3);
    memset(&why, 0, sizeof(why));
    assert_int_equal(chainwatch_pending_parse(text, len, got, max, &n, &why), GL_EPARSE);
    assert_int_equal(n, 0);
    assert_int_equal(why.line, 2);
    if (says != NULL)
        assert_non_null(strstr(why.reason, says));
}

/* chainwatch_pending_parse: a chain-pending text as chainwatch writes it
 * (an audit check, then a source check due at the saturated UINT64_MAX),
 * its values chosen here and its digests computed here (the product
 * digest is SHA-256 of "<subject> <version>"), parses to exactly those
 * checks; the length is honoured (the first line alone, its buffer going
 * on); written back by pending_save it is the same text. A second line
 * with an uppercase product digest, or a cap of one check, is refused
 * with the line and no check, as is any line not in the form chainwatch
 * writes (an empty line, a field more, two spaces, a leading zero, a
 * sign, a number past 2^64 - 1, a space at the end). */
static void test_pending_parse(void **state)
{
    static const char tmpl[] = "/tmp/glasslog-chainpending-XXXXXX";
    struct chainwatch_pending got[3];
    struct chainwatch w;
    uint8_t x[32], y[32], prod[32];
    char hx[65], hy[65], hp[65], text[512], bad[512], saved[512], dir[sizeof(tmpl)];
    struct gl_err why;
    size_t n = 99, first;
    int len;
    (void)state;

    assert_int_equal(gl_sha256("source X", 8, x), 0);
    assert_int_equal(gl_sha256("source Y", 8, y), 0);
    assert_int_equal(gl_sha256("app 1.0", 7, prod), 0);
    assert_int_equal(gl_hex_encode(x, 32, hx, sizeof(hx)), 0);
    assert_int_equal(gl_hex_encode(y, 32, hy, sizeof(hy)), 0);
    assert_int_equal(gl_hex_encode(prod, 32, hp, sizeof(hp)), 0);
    first = (size_t)snprintf(text, sizeof(text), "1700086400 3 %s\n", hx);
    len = snprintf(text + first, sizeof(text) - first,
                   "source 18446744073709551615 7 %s %s\n", hy, hp);
    assert_true(len > 0 && first + (size_t)len < sizeof(text));
    len += (int)first;

    memset(&why, 0, sizeof(why));
    assert_int_equal(chainwatch_pending_parse(text, (size_t)len, got, 3, &n, &why), 0);
    assert_int_equal(n, 2);
    assert_int_equal(got[0].kind, CHAINWATCH_PENDING_AUDIT);
    assert_true(got[0].due == 1700086400u && got[0].index == 3);
    assert_memory_equal(got[0].source, x, 32);
    assert_memory_equal(got[0].product, (uint8_t[32]){0}, 32);
    assert_int_equal(got[1].kind, CHAINWATCH_PENDING_SOURCE);
    assert_true(got[1].due == UINT64_MAX && got[1].index == 7);
    assert_memory_equal(got[1].source, y, 32);
    assert_memory_equal(got[1].product, prod, 32);
    assert_int_equal(why.reason[0], 0); /* success leaves why as it was */

    /* len bytes only: the first line, the second one right after it */
    assert_int_equal(chainwatch_pending_parse(text, first, got, 3, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_true(got[0].due == 1700086400u && got[0].index == 3);
    /* empty: no check */
    assert_int_equal(chainwatch_pending_parse(NULL, 0, got, 3, &n, NULL), 0);
    assert_int_equal(n, 0);

    /* written back as chainwatch writes it: the same text */
    assert_int_equal(chainwatch_pending_parse(text, (size_t)len, got, 3, &n, NULL), 0);
    memcpy(dir, tmpl, sizeof(tmpl));
    assert_non_null(mkdtemp(dir));
    memset(&w, 0, sizeof(w));
    w.pend = got;
    w.npend = n;
    assert_int_equal(pending_save(&w, dir), 0);
    pending_text(dir, saved, sizeof(saved));
    assert_string_equal(saved, text);
    remove_dir(dir);

    /* malformed: the second line's product digest in uppercase */
    for (size_t i = 0; i < sizeof(hp); i++)
        hp[i] = (char)(hp[i] >= 'a' && hp[i] <= 'f' ? hp[i] - 'a' + 'A' : hp[i]);
    snprintf(bad, sizeof(bad), "1700086400 3 %s\nsource 1700000600 7 %s %s\n", hx, hy,
             hp);
    refused_on_line_2(bad, strlen(bad), 3, "product digest");
    /* nothing but the form chainwatch writes: each of these second lines
     * is refused on line 2 */
    static const char *const wrong[][2] = {
        {"", NULL},                      /* an empty line */
        {"1700000600 7 ", " extra"},     /* a field more */
        {"1700000600  7 ", ""},          /* two spaces */
        {"01700000600 7 ", ""},          /* a leading zero */
        {"-1 7 ", ""},                   /* a sign */
        {"18446744073709551616 7 ", ""}, /* past UINT64_MAX */
        {"1700000600 7 ", " "},          /* a space at the end */
        {"source 1700000600 7 ", ""},    /* a source check without product */
    };
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        snprintf(bad, sizeof(bad), "1700086400 3 %s\n%s%s%s\n", hx, wrong[i][0],
                 wrong[i][1] != NULL ? hy : "", wrong[i][1] != NULL ? wrong[i][1] : "");
        refused_on_line_2(bad, strlen(bad), 3, NULL);
    }
    /* more checks than the cap */
    refused_on_line_2(text, (size_t)len, 1, "more than 1 ");
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
        cmocka_unit_test(test_monitor_source_grace),
        cmocka_unit_test(test_monitor_v1_build),
        cmocka_unit_test(test_monitor_rebuild_role),
        cmocka_unit_test(test_monitor_pending_unreadable),
        cmocka_unit_test(test_monitor_alarm_cap),
        cmocka_unit_test(test_pending_parse),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

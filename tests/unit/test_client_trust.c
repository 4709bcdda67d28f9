/*
 * test_client_trust: the client's acceptance rules (client/trust.c), which
 * glasslog verify, lookup and monitor share, on the public cosigned vector
 * (checkpoint-cosigned.note: log example.com/log, witness
 * example.org/witness at 1700000000) and on bundles built in memory:
 * quorum satisfied or not (single witness, k-of-n groups, a converted 0x01
 * witness key, a tampered cosignature, an unknown log key), every step of
 * trust_verify failing on its own, --max-age as the quorum's time (nested
 * groups, future-dated and unneeded witnesses, the 5-minute boundary), and
 * empty or malformed statements, an unknown origin with controls
 * (escaped in the reason), a checkpoint's extension lines (not kept).
 * Also the option parsers
 * (client/util.c) and the expected-releases set (client/expect.c).
 *
 * The client modules are compiled into this test directly (they are not
 * in a library): trust.c, util.c, expect.c and the cli.c they report
 * through.
 */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../client/cli.h"
#include "../../client/expect.h"
#include "../../client/trust.h"
#include "../../client/util.h"
#include "glasslog/error.h"
#include "glasslog/key.h"
#include "glasslog/merkle.h"
#include "glasslog/note.h"

#define VTIME 1700000000ULL

static struct gl_policy *policy_of(const char *text)
{
    struct gl_policy *p = NULL;
    struct gl_err e;

    if (gl_policy_parse(text, strlen(text), &p, &e) != 0)
        fail_msg("policy: line %zu: %s\n%s", e.line, e.reason, text);
    return p;
}

static char *vkey_text(const char *rel)
{
    char *s = tu_read_vector(rel, NULL);
    size_t n = strlen(s);

    while (n > 0 && s[n - 1] == '\n')
        s[--n] = 0;
    return s;
}

static char *fmt_vkey(const struct gl_verifier *k)
{
    struct gl_buf b;
    uint8_t *out;
    size_t n;

    gl_buf_init(&b, GL_KEY_TEXT_MAX + 1);
    assert_int_equal(gl_verifier_format(k, &b), 0);
    assert_int_equal(gl_buf_detach(&b, &out, &n), 0);
    return (char *)out;
}

/* A policy text over the vector log and witness, with extra lines. */
static struct gl_policy *vector_policy(const char *witness_vkey, const char *tail)
{
    char *logk = vkey_text("notes/log.vkey"), text[4096];
    struct gl_policy *p;

    snprintf(text, sizeof(text), "log %s\nwitness W %s\n%s", logk, witness_vkey, tail);
    p = policy_of(text);
    free(logk);
    return p;
}

static void test_vector_quorum(void **state)
{
    char *wk = vkey_text("notes/witness.cosig-vkey"), why[TRUST_WHY_MAX];
    struct gl_policy *p = vector_policy(wk, "quorum W\n");
    struct trust_checkpoint *tc = malloc(sizeof(*tc));
    size_t n;
    char *msg = tu_read_vector("notes/checkpoint-cosigned.note", &n);
    (void)state;

    assert_int_equal(trust_checkpoint_open(p, msg, n, 0, tc, why), 0);
    assert_true(tc->cp.size == 1000);
    assert_string_equal(tc->cp.origin, "example.com/log");
    assert_int_equal(tc->nvalid, 1);
    assert_int_equal(tc->wst[0].status, 0);
    assert_true(tc->newest == VTIME);
    free(msg);
    /* The same checkpoint without its cosignature: log fine, quorum not. */
    msg = tu_read_vector("notes/checkpoint.note", &n);
    assert_int_equal(trust_checkpoint_open(p, msg, n, 0, tc, why), GL_EQUORUM);
    assert_true(tc->cp.size == 1000);
    assert_int_equal(tc->wst[0].status, GL_ENOKEY);
    assert_non_null(strstr(why, "0 of 1 witnesses cosigned"));
    free(msg);
    free(tc);
    free(wk);
    gl_policy_free(p);
}

static void test_vector_groups(void **state)
{
    char *wk = vkey_text("notes/witness.cosig-vkey"), tail[4096], *xk, why[TRUST_WHY_MAX];
    struct trust_checkpoint *tc = malloc(sizeof(*tc));
    struct gl_signer x;
    struct gl_verifier xv;
    struct gl_policy *p;
    size_t n;
    char *msg = tu_read_vector("notes/checkpoint-cosigned.note", &n);
    (void)state;

    assert_int_equal(gl_signer_generate("x.example", GL_KEY_COSIG, &x), 0);
    gl_signer_verifier(&x, &xv);
    xk = fmt_vkey(&xv);
    snprintf(tail, sizeof(tail), "witness X %s\ngroup G 2 W X\nquorum G\n", xk);
    p = vector_policy(wk, tail);
    assert_int_equal(trust_checkpoint_open(p, msg, n, 0, tc, why), GL_EQUORUM);
    assert_non_null(
        strstr(why, "cosigned by W at 2023-11-14T22:13:20Z; not cosigned by X"));
    gl_policy_free(p);
    snprintf(tail, sizeof(tail), "witness X %s\ngroup G any W X\nquorum G\n", xk);
    p = vector_policy(wk, tail);
    assert_int_equal(trust_checkpoint_open(p, msg, n, 0, tc, why), 0);
    gl_policy_free(p);
    /* Quorum X alone: W's cosignature does not count for it. */
    snprintf(tail, sizeof(tail), "witness X %s\nquorum X\n", xk);
    p = vector_policy(wk, tail);
    assert_int_equal(trust_checkpoint_open(p, msg, n, 0, tc, why), GL_EQUORUM);
    gl_policy_free(p);
    gl_signer_wipe(&x);
    free(xk);
    free(wk);
    free(msg);
    free(tc);
}

static void test_vector_converted_and_tampered(void **state)
{
    struct trust_checkpoint *tc = malloc(sizeof(*tc));
    struct gl_verifier w;
    struct gl_policy *p;
    char *wk, why[TRUST_WHY_MAX], *line;
    size_t n;
    char *msg = tu_read_vector("notes/checkpoint-cosigned.note", &n);
    (void)state;

    /* The witness's key published as 0x01: converted, still verifies. */
    tu_load_verifier("notes/witness.cosig-vkey", &w);
    w.type = GL_KEY_NOTE;
    w.id = gl_key_id(w.name, GL_KEY_NOTE, w.pub);
    wk = fmt_vkey(&w);
    p = vector_policy(wk, "quorum W\n");
    assert_int_equal(gl_policy_witness_at(p, 0)->converted, 1);
    assert_int_equal(trust_checkpoint_open(p, msg, n, 0, tc, why), 0);
    /* A flipped bit in the cosignature: W's status is EVERIFY. */
    line = strstr(msg, "— example.org/witness ");
    assert_non_null(line);
    line[40] = line[40] == 'A' ? 'B' : 'A';
    assert_int_equal(trust_checkpoint_open(p, msg, n, 0, tc, why), GL_EQUORUM);
    assert_int_equal(tc->wst[0].status, GL_EVERIFY);
    assert_non_null(strstr(why, "INVALID cosignature by W"));
    gl_policy_free(p);
    free(wk);
    free(msg);
    free(tc);
}

/* A policy listing two keys for one origin (a rotation): a checkpoint
 * signed by both opens; one whose second signature does not verify is
 * refused although the first does (signed-note: a bad signature by a
 * known key rejects the note), whichever key the policy lists first. */
static void test_rotation_bad_signature(void **state)
{
    static const char text[] =
        "r.example/log\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    struct trust_checkpoint *tc = malloc(sizeof(*tc));
    struct gl_signer k[2];
    struct gl_verifier v[2];
    struct gl_buf note;
    char *vk[2], policy[2048], why[TRUST_WHY_MAX];
    uint8_t was;
    (void)state;

    for (int i = 0; i < 2; i++) {
        assert_int_equal(gl_signer_generate("r.example/log", GL_KEY_NOTE, &k[i]), 0);
        gl_signer_verifier(&k[i], &v[i]);
        vk[i] = fmt_vkey(&v[i]);
    }
    gl_buf_init(&note, 4096);
    assert_int_equal(gl_note_sign(text, sizeof(text) - 1, k, 2, &note), 0);
    for (int order = 0; order < 2; order++) {
        struct gl_policy *p;
        snprintf(policy, sizeof(policy), "log %s\nlog %s\nquorum none\n", vk[order],
                 vk[1 - order]);
        p = policy_of(policy);
        assert_int_equal(
            trust_checkpoint_open(p, (const char *)note.data, note.len, 0, tc, why), 0);
        assert_int_equal(tc->cp.size, 5);
        /* the last signature line (k[1]'s): a byte of its signature changed */
        was = note.data[note.len - 10];
        note.data[note.len - 10] = was == 'A' ? 'B' : 'A';
        assert_int_equal(
            trust_checkpoint_open(p, (const char *)note.data, note.len, 0, tc, why),
            GL_EVERIFY);
        assert_non_null(
            strstr(why, "the signature of log r.example/log does not verify"));
        note.data[note.len - 10] = was;
        gl_policy_free(p);
    }
    gl_buf_release(&note);
    for (int i = 0; i < 2; i++) {
        gl_signer_wipe(&k[i]);
        free(vk[i]);
    }
    free(tc);
}

static void test_vector_wrong_log(void **state)
{
    struct trust_checkpoint *tc = malloc(sizeof(*tc));
    struct gl_signer other;
    struct gl_verifier ov;
    char *ok, text[2048], why[TRUST_WHY_MAX];
    struct gl_policy *p;
    size_t n;
    char *msg = tu_read_vector("notes/checkpoint-cosigned.note", &n);
    (void)state;

    assert_int_equal(gl_signer_generate("example.com/log", GL_KEY_NOTE, &other), 0);
    gl_signer_verifier(&other, &ov);
    ok = fmt_vkey(&ov);
    snprintf(text, sizeof(text), "log %s\nquorum none\n", ok);
    p = policy_of(text);
    assert_int_equal(trust_checkpoint_open(p, msg, n, 0, tc, why), GL_ENOKEY);
    assert_non_null(
        strstr(why, "no signature by the policy's key for log example.com/log"));
    gl_policy_free(p);
    free(ok);
    assert_int_equal(gl_signer_generate("example.net/log", GL_KEY_NOTE, &other), 0);
    gl_signer_verifier(&other, &ov);
    ok = fmt_vkey(&ov);
    snprintf(text, sizeof(text), "log %s\nquorum none\n", ok);
    p = policy_of(text);
    assert_int_equal(trust_checkpoint_open(p, msg, n, 0, tc, why), GL_ENOKEY);
    assert_non_null(strstr(why, "no log in the policy has origin \"example.com/log\""));
    assert_int_equal(trust_checkpoint_open(p, "junk", 4, 0, tc, why), GL_EPARSE);
    gl_policy_free(p);
    gl_signer_wipe(&other);
    free(ok);
    free(msg);
    free(tc);
}

/* --- a whole bundle, built in memory ----------------------------------------------- */

#define NWIT 4

struct fixture {
    struct gl_signer log, sub, wit[NWIT];
    size_t nwit;
    struct gl_buf st, ck, cosigned;
    struct gl_tlogproof proof;
    struct gl_policy *p;
    uint8_t digest[32];
};

static const char *const wit_names[NWIT] = {"A", "B", "C", "D"};

/* Witness i cosigns f->ck at times[i] (0: it does not cosign), into
 * f->cosigned. */
static void cosign_all(struct fixture *f, const uint64_t *times)
{
    struct gl_note *note = NULL;
    struct gl_buf line;

    gl_buf_init(&line, 1 << 12);
    assert_int_equal(gl_note_parse((char *)f->ck.data, f->ck.len, &note, NULL), 0);
    for (size_t i = 0; i < f->nwit; i++)
        if (times[i] != 0)
            assert_int_equal(
                gl_cosig_sign(&f->wit[i], note->text, note->text_len, times[i], &line),
                0);
    gl_buf_init(&f->cosigned, 1 << 16);
    if (line.len == 0)
        assert_int_equal(gl_buf_append(&f->cosigned, f->ck.data, f->ck.len), 0);
    else
        assert_int_equal(gl_cosig_append((char *)f->ck.data, f->ck.len, (char *)line.data,
                                         line.len, &f->cosigned, NULL),
                         0);
    gl_note_free(note);
    gl_buf_release(&line);
}

/* The policy: the log, witnesses A.. (nwit of them), the lines of tail
 * (groups and the quorum), the submitter. */
static struct gl_policy *fixture_policy(const struct fixture *f, const char *tail)
{
    char text[8192], *k;
    struct gl_verifier v;
    size_t n = 0;
    struct gl_policy *p;

    gl_signer_verifier(&f->log, &v);
    k = fmt_vkey(&v);
    n += (size_t)snprintf(text + n, sizeof(text) - n, "log %s\n", k);
    free(k);
    for (size_t i = 0; i < f->nwit; i++) {
        gl_signer_verifier(&f->wit[i], &v);
        k = fmt_vkey(&v);
        n += (size_t)snprintf(text + n, sizeof(text) - n, "witness %s %s\n", wit_names[i],
                              k);
        free(k);
    }
    gl_signer_verifier(&f->sub, &v);
    k = fmt_vkey(&v);
    snprintf(text + n, sizeof(text) - n, "%ssubmitter %s\n", tail, k);
    free(k);
    p = policy_of(text);
    return p;
}

/* A two-entry tree: entry 0 is some other leaf, entry 1 the statement;
 * nwit witnesses, witness i cosigning at times[i] unless 0. */
static void build_with(struct fixture *f, size_t nwit, const uint64_t *times,
                       const char *tail)
{
    struct gl_statement_fields sf;
    struct gl_merkle_range r;
    uint8_t other[32], leaf[32], root[32];
    char name[32];

    memset(f, 0, sizeof(*f));
    assert_true(nwit <= NWIT);
    f->nwit = nwit;
    assert_int_equal(gl_signer_generate("log.test", GL_KEY_NOTE, &f->log), 0);
    assert_int_equal(gl_signer_generate("ci.test", GL_KEY_NOTE, &f->sub), 0);
    for (size_t i = 0; i < nwit; i++) {
        snprintf(name, sizeof(name), "w%zu.test", i);
        assert_int_equal(gl_signer_generate(name, GL_KEY_COSIG, &f->wit[i]), 0);
    }
    memset(&sf, 0, sizeof(sf));
    sf.kind = GL_STATEMENT_BUILD;
    sf.subject = "app";
    sf.subject_len = 3;
    sf.version = "1.0";
    sf.version_len = 3;
    memset(f->digest, 0xab, 32);
    memcpy(sf.sha256, f->digest, 32);
    sf.time = VTIME;
    gl_buf_init(&f->st, GL_STATEMENT_MAX_SIZE);
    assert_int_equal(gl_statement_sign(&sf, &f->sub, &f->st, NULL), 0);
    gl_merkle_leaf_hash("other", 5, other);
    gl_merkle_leaf_hash(f->st.data, f->st.len, leaf);
    gl_merkle_range_init(&r);
    gl_merkle_range_append(&r, other, NULL, NULL);
    gl_merkle_range_append(&r, leaf, NULL, NULL);
    gl_merkle_range_root(&r, root);
    gl_buf_init(&f->ck, 1 << 16);
    assert_int_equal(gl_checkpoint_sign("log.test", 2, root, &f->log, &f->ck), 0);
    cosign_all(f, times);
    f->proof.index = 1;
    f->proof.nhashes = 1;
    memcpy(f->proof.hashes[0], other, 32);
    f->proof.checkpoint = (const char *)f->cosigned.data;
    f->proof.checkpoint_len = f->cosigned.len;
    f->p = fixture_policy(f, tail);
}

/* One witness A, quorum A, cosigning at cosig_time. */
static void build(struct fixture *f, uint64_t cosig_time)
{
    build_with(f, 1, &cosig_time, "quorum A\n");
}

static void teardown(struct fixture *f)
{
    gl_signer_wipe(&f->log);
    gl_signer_wipe(&f->sub);
    for (size_t i = 0; i < f->nwit; i++)
        gl_signer_wipe(&f->wit[i]);
    gl_buf_release(&f->st);
    gl_buf_release(&f->ck);
    gl_buf_release(&f->cosigned);
    gl_policy_free(f->p);
}

static int run(struct fixture *f, const uint8_t *artifact, uint64_t max_age, uint64_t now,
               struct trust_report *r)
{
    struct trust_input in = {
        .statement = (const char *)f->st.data,
        .statement_len = f->st.len,
        .proof = &f->proof,
        .artifact = artifact,
        .max_age = max_age,
        .now = now,
    };
    return trust_verify(f->p, &in, r);
}

static void test_verify_steps(void **state)
{
    struct fixture f;
    struct trust_report *r = malloc(sizeof(*r));
    uint8_t wrong[32];
    (void)state;

    build(&f, VTIME);
    assert_int_equal(run(&f, f.digest, 0, 0, r), 0);
    for (int s = 0; s < TRUST_NSTEPS; s++)
        assert_true(r->state[s] == (s == TRUST_AGE ? TRUST_NOT_ASKED : TRUST_PASSED) ||
                    (s == TRUST_ARTIFACT && r->state[s] == TRUST_PASSED));
    assert_true(r->ck.newest == VTIME);
    /* Artifact. */
    memset(wrong, 0xcd, 32);
    assert_int_equal(run(&f, wrong, 0, 0, r), GL_EVERIFY);
    assert_int_equal(r->failed, TRUST_ARTIFACT);
    assert_int_equal(r->state[TRUST_INCLUSION], TRUST_PASSED);
    /* Age: 100 s old against 60 s and 3600 s limits. */
    assert_int_equal(run(&f, NULL, 60, VTIME + 100, r), GL_EVERIFY);
    assert_int_equal(r->failed, TRUST_AGE);
    assert_non_null(
        strstr(r->why[TRUST_AGE],
               "the freshest quorum of cosignatures dates from "
               "2023-11-14T22:13:20Z, 100 s ago, older than the limit of 60 s"));
    assert_int_equal(run(&f, NULL, 3600, VTIME + 100, r), 0);
    assert_int_equal(r->state[TRUST_AGE], TRUST_PASSED);
    /* Inclusion: wrong index, then a flipped proof hash. */
    f.proof.index = 0;
    assert_int_equal(run(&f, NULL, 0, 0, r), GL_EVERIFY);
    assert_int_equal(r->failed, TRUST_INCLUSION);
    f.proof.index = 5;
    assert_int_equal(run(&f, NULL, 0, 0, r), GL_EVERIFY);
    assert_non_null(
        strstr(r->why[TRUST_INCLUSION], "outside the checkpoint's tree of size 2"));
    f.proof.index = 1;
    f.proof.hashes[0][7] ^= 1;
    assert_int_equal(run(&f, NULL, 0, 0, r), GL_EVERIFY);
    assert_int_equal(r->failed, TRUST_INCLUSION);
    f.proof.hashes[0][7] ^= 1;
    /* No cosignature: quorum fails, inclusion still checked. */
    f.proof.checkpoint = (const char *)f.ck.data;
    f.proof.checkpoint_len = f.ck.len;
    assert_int_equal(run(&f, NULL, 60, VTIME, r), GL_EVERIFY);
    assert_int_equal(r->failed, TRUST_QUORUM);
    assert_int_equal(r->state[TRUST_AGE], TRUST_FAILED);
    assert_int_equal(r->state[TRUST_INCLUSION], TRUST_PASSED);
    /* A tampered statement: its signature and inclusion fail. */
    f.proof.checkpoint = (const char *)f.cosigned.data;
    f.proof.checkpoint_len = f.cosigned.len;
    ((char *)f.st.data)[strlen(GL_STATEMENT_HEADER) + 7] = 'X'; /* "kind bXild" */
    assert_int_equal(run(&f, NULL, 0, 0, r), GL_EVERIFY);
    assert_int_equal(r->failed, TRUST_STATEMENT);
    assert_int_equal(r->state[TRUST_SUBMITTER], TRUST_BLOCKED);
    assert_int_equal(r->state[TRUST_INCLUSION], TRUST_FAILED);
    teardown(&f);
    free(r);
}

static void test_verify_log_failure_blocks(void **state)
{
    struct fixture f;
    struct trust_report *r = malloc(sizeof(*r));
    char *root;
    (void)state;

    build(&f, VTIME);
    root = strchr(strchr((char *)f.cosigned.data, '\n') + 1, '\n') + 1;
    root[0] = root[0] == 'A' ? 'B' : 'A';
    assert_int_equal(run(&f, NULL, 60, VTIME, r), GL_EVERIFY);
    assert_int_equal(r->failed, TRUST_LOG);
    assert_int_equal(r->state[TRUST_QUORUM], TRUST_BLOCKED);
    assert_int_equal(r->state[TRUST_AGE], TRUST_BLOCKED);
    assert_int_equal(r->state[TRUST_INCLUSION], TRUST_BLOCKED);
    assert_int_equal(r->state[TRUST_SUBMITTER], TRUST_PASSED);
    teardown(&f);
    free(r);
}

/* --- age: the quorum's time ------------------------------------------------------- */

#define HOUR 3600ULL

static int run_age(struct fixture *f, uint64_t max_age, struct trust_report *r)
{
    return run(f, NULL, max_age, VTIME, r);
}

static void test_age_nested_future(void **state)
{
    /* Quorum: 2 of (A, B, any(C, D)). A is dated 1 h ahead (future: not
     * counted, reported), B 10 s ago, C 2 h ago, D absent: the freshest
     * quorum is B and C, so the age is 2 h, not 10 s and not 0. */
    const uint64_t times[4] = {VTIME + HOUR, VTIME - 10, VTIME - 2 * HOUR, 0};
    struct trust_report *r = malloc(sizeof(*r));
    struct fixture f;
    (void)state;

    build_with(&f, 4, times, "group pair any C D\ngroup top 2 A B pair\nquorum top\n");
    assert_int_equal(run_age(&f, HOUR, r), GL_EVERIFY);
    assert_int_equal(r->failed, TRUST_AGE);
    /* A counts for nothing; B and C still make the quorum. */
    assert_int_equal(r->state[TRUST_QUORUM], TRUST_PASSED);
    assert_int_equal(r->ck.nfuture, 1);
    assert_int_equal(r->ck.future[0], 1);
    assert_int_equal(r->state[TRUST_INCLUSION], TRUST_PASSED);
    assert_true(r->ck.newest == VTIME - 10);
    assert_int_equal(r->have_age, 1);
    assert_int_equal(r->age.rc, 0);
    assert_true(r->age.time == VTIME - 2 * HOUR);
    assert_true(r->age.age == 2 * HOUR);
    assert_int_equal(r->age.nfuture, 1);
    assert_int_equal(r->age.future[0], 1);
    assert_int_equal(r->age.future[1] | r->age.future[2] | r->age.future[3], 0);
    assert_non_null(strstr(r->why[TRUST_AGE],
                           "dates from 2023-11-14T20:13:20Z, 7200 s ago, older than the "
                           "limit of 3600 s"));
    assert_non_null(strstr(r->why[TRUST_AGE],
                           "not counted, dated more than 300 s in the future: A at "
                           "2023-11-14T23:13:20Z (3600 s ahead)"));
    assert_int_equal(run_age(&f, 2 * HOUR, r), 0);
    assert_int_equal(r->state[TRUST_AGE], TRUST_PASSED);
    assert_int_equal(r->age.nfuture, 1);
    /* Without --max-age the analysis still runs (and reports A) when the
     * time is known, without a verdict; with no time it does not. */
    assert_int_equal(run(&f, NULL, 0, VTIME, r), 0);
    assert_int_equal(r->state[TRUST_AGE], TRUST_NOT_ASKED);
    assert_int_equal(r->have_age, 1);
    assert_int_equal(r->age.future[0], 1);
    assert_int_equal(run(&f, NULL, 0, 0, r), 0);
    assert_int_equal(r->have_age, 0);
    teardown(&f);
    free(r);
}

static void test_age_unneeded_witness(void **state)
{
    /* 2 of (A, B, C); D is outside the quorum. A and D are recent, B 3 h
     * old, C absent: A alone is not a quorum, so the age is B's 3 h. */
    uint64_t times[4] = {VTIME - 1, VTIME - 3 * HOUR, 0, VTIME};
    struct trust_report *r = malloc(sizeof(*r));
    struct fixture f;
    (void)state;

    build_with(&f, 4, times, "group top 2 A B C\nquorum top\n");
    assert_int_equal(run_age(&f, HOUR, r), GL_EVERIFY);
    assert_int_equal(r->failed, TRUST_AGE);
    assert_true(r->age.age == 3 * HOUR);
    assert_int_equal(r->age.nfuture, 0);
    teardown(&f);
    /* Nested: any(all(A, B), C): A recent, B 2 h old, C absent, D (outside)
     * recent. all(A, B) needs B, so 2 h. */
    times[1] = VTIME - 2 * HOUR;
    build_with(&f, 4, times, "group ab all A B\ngroup top any ab C\nquorum top\n");
    assert_int_equal(run_age(&f, HOUR, r), GL_EVERIFY);
    assert_true(r->age.time == VTIME - 2 * HOUR);
    teardown(&f);
    /* The same with C cosigning 30 s ago: C alone is a quorum, so 30 s. */
    times[2] = VTIME - 30;
    build_with(&f, 4, times, "group ab all A B\ngroup top any ab C\nquorum top\n");
    assert_int_equal(run_age(&f, 60, r), 0);
    assert_true(r->age.age == 30);
    teardown(&f);
    free(r);
}

static void test_age_future_boundary(void **state)
{
    /* Exactly TRUST_FUTURE_SLACK (300 s) ahead still counts, with age 0;
     * 301 s ahead does not, neither for the quorum (A was the quorum) nor
     * for the age. Without a clock (now 0) nothing is dated ahead. */
    struct trust_report *r = malloc(sizeof(*r));
    struct fixture f;
    uint64_t t[2] = {VTIME + 300, VTIME - 10};
    (void)state;

    build(&f, VTIME + 300);
    assert_int_equal(run_age(&f, 1, r), 0);
    assert_true(r->age.age == 0);
    assert_true(r->age.time == VTIME + 300);
    assert_int_equal(r->age.nfuture, 0);
    teardown(&f);
    build(&f, VTIME + 301);
    assert_int_equal(run_age(&f, HOUR, r), GL_EVERIFY);
    /* A is the quorum and does not count: the quorum fails, then the age. */
    assert_int_equal(r->failed, TRUST_QUORUM);
    assert_non_null(strstr(r->why[TRUST_QUORUM],
                           "some dated more than 5 minutes in the future, not counted"));
    assert_int_equal(r->state[TRUST_AGE], TRUST_FAILED);
    assert_int_equal(r->age.rc, GL_EQUORUM);
    assert_int_equal(r->age.nfuture, 1);
    assert_non_null(
        strstr(r->why[TRUST_AGE],
               "the valid cosignatures (not dated in the future) do not satisfy "
               "the policy's quorum, so the checkpoint's age is unknown; not "
               "counted, dated more than 300 s in the future: A at "
               "2023-11-14T22:18:21Z (301 s ahead)"));
    teardown(&f);
    /* any(A, B): A 301 s ahead is dropped, B 10 s old decides. */
    t[0] = VTIME + 301;
    build_with(&f, 2, t, "group g any A B\nquorum g\n");
    assert_int_equal(run_age(&f, 60, r), 0);
    assert_true(r->age.age == 10);
    assert_int_equal(r->age.future[0], 1);
    teardown(&f);
    build(&f, VTIME + 3 * HOUR);
    assert_int_equal(run(&f, NULL, 0, 0, r), 0);
    assert_int_equal(r->ck.nfuture, 0);
    teardown(&f);
    free(r);
}

static void test_age_unknown(void **state)
{
    struct trust_report *r = malloc(sizeof(*r));
    struct fixture f;
    uint64_t t = VTIME - 10;
    (void)state;

    /* quorum none: a cosignature exists but no witness is needed, so none
     * vouches for the time. */
    build_with(&f, 1, &t, "quorum none\n");
    assert_int_equal(run_age(&f, HOUR, r), GL_EVERIFY);
    assert_int_equal(r->failed, TRUST_AGE);
    assert_int_equal(r->age.rc, GL_ENOTFOUND);
    assert_non_null(strstr(r->why[TRUST_AGE], "the policy's quorum is none"));
    teardown(&f);
    /* No cosignature at all. */
    t = 0;
    build_with(&f, 1, &t, "quorum A\n");
    assert_int_equal(run_age(&f, HOUR, r), GL_EVERIFY);
    assert_int_equal(r->state[TRUST_QUORUM], TRUST_FAILED);
    assert_int_equal(r->state[TRUST_AGE], TRUST_FAILED);
    assert_int_equal(r->age.rc, GL_EQUORUM);
    teardown(&f);
    free(r);
}

/* --- missing or malformed statements never pass ------------------------------------ */

static void test_statement_empty_or_malformed(void **state)
{
    struct trust_report *r = malloc(sizeof(*r));
    struct fixture f;
    struct trust_input in;
    static const char *const bad[] = {NULL, "", "garbage\n"};
    static const char *const why[] = {"empty statement (0 bytes)",
                                      "empty statement (0 bytes)", "malformed statement"};
    (void)state;

    build(&f, VTIME);
    for (size_t i = 0; i < 3; i++) {
        memset(&in, 0, sizeof(in));
        in.statement = bad[i];
        in.statement_len = bad[i] ? strlen(bad[i]) : 0;
        in.proof = &f.proof;
        in.artifact = f.digest;
        assert_int_equal(trust_verify(f.p, &in, r), GL_EVERIFY);
        assert_int_equal(r->failed, TRUST_STATEMENT);
        assert_int_equal(r->state[TRUST_STATEMENT], TRUST_FAILED);
        assert_non_null(strstr(r->why[TRUST_STATEMENT], why[i]));
        assert_int_equal(r->have_statement, 0);
        assert_int_equal(r->state[TRUST_SUBMITTER], TRUST_BLOCKED);
        assert_int_equal(r->state[TRUST_ARTIFACT], TRUST_BLOCKED);
        assert_int_equal(r->state[TRUST_LOG], TRUST_PASSED);
        assert_int_equal(r->state[TRUST_INCLUSION], TRUST_FAILED);
    }
    teardown(&f);
    free(r);
}

/* --- util and expect --------------------------------------------------------------- */

static void test_durations(void **state)
{
    uint64_t s;
    (void)state;

    assert_int_equal(util_parse_duration("30s", &s), 0);
    assert_true(s == 30);
    assert_int_equal(util_parse_duration("10m", &s), 0);
    assert_true(s == 600);
    assert_int_equal(util_parse_duration("24h", &s), 0);
    assert_true(s == 86400);
    assert_int_equal(util_parse_duration("7d", &s), 0);
    assert_true(s == 604800);
    assert_int_equal(util_parse_duration("90", &s), 0);
    assert_true(s == 90);
    const char *bad[] = {"",
                         "0",
                         "0s",
                         "s",
                         "1w",
                         "01h",
                         "-1",
                         " 1",
                         "1.5h",
                         "1hh",
                         "18446744073709551615d"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        assert_int_equal(util_parse_duration(bad[i], &s), GL_EPARSE);
}

static void test_expect(void **state)
{
    char path[] = "/tmp/glasslog-expect-XXXXXX";
    int fd = mkstemp(path);
    struct gl_statement_fields f;
    struct expect e;
    const char *text =
        "# releases\n\n"
        "build   app\t1.0 "
        "abababababababababababababababababababababababababababababababab\n"
        "rule-update rules 7 "
        "0000000000000000000000000000000000000000000000000000000000000000\n";
    (void)state;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
    close(fd);
    assert_int_equal(expect_load(path, &e), 0);
    assert_int_equal(e.n, 2);
    memset(&f, 0, sizeof(f));
    f.kind = GL_STATEMENT_BUILD;
    f.subject = "app";
    f.subject_len = 3;
    f.version = "1.0";
    f.version_len = 3;
    memset(f.sha256, 0xab, 32);
    assert_int_equal(expect_has(&e, &f), 1);
    f.version = "1.1";
    assert_int_equal(expect_has(&e, &f), 0);
    f.version = "1.0";
    f.kind = GL_STATEMENT_AUDIT_REPORT;
    assert_int_equal(expect_has(&e, &f), 0);
    expect_release(&e);
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, "build app 1.0 ABAB\n", 19), 19);
    close(fd);
    assert_int_equal(expect_load(path, &e), GL_EPARSE);
    unlink(path);
}

/* A checkpoint note of text signed by a fresh key named name, opened
 * under a policy that lists that key: trust_checkpoint_open's result. */
static int open_signed(const char *name, const char *text, struct trust_checkpoint *tc,
                       char *why)
{
    struct gl_signer k;
    struct gl_verifier v;
    struct gl_policy *p;
    struct gl_buf note;
    char *vk, policy[2048];
    int rc;

    assert_int_equal(gl_signer_generate(name, GL_KEY_NOTE, &k), 0);
    gl_signer_verifier(&k, &v);
    vk = fmt_vkey(&v);
    snprintf(policy, sizeof(policy), "log %s\nquorum none\n", vk);
    p = policy_of(policy);
    gl_buf_init(&note, 4096);
    assert_int_equal(gl_note_sign(text, strlen(text), &k, 1, &note), 0);
    rc = trust_checkpoint_open(p, (const char *)note.data, note.len, 0, tc, why);
    gl_buf_release(&note);
    gl_policy_free(p);
    gl_signer_wipe(&k);
    free(vk);
    return rc;
}

/* An origin no policy log has is the log's word: a reason quotes it with
 * DEL and C1 controls escaped (a 0x9b is a CSI to some terminals). A
 * verified checkpoint keeps no pointer into the note it was opened from:
 * its extension lines are not kept. */
static void test_checkpoint_untrusted_text(void **state)
{
    struct trust_checkpoint *tc = malloc(sizeof(*tc));
    char why[TRUST_WHY_MAX];
    (void)state;

    assert_int_equal(open_signed("r.example/log",
                                 "e\xc2\x9b"
                                 "31mvil\x7f/log\n5\n"
                                 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
                                 tc, why),
                     GL_ENOKEY);
    assert_non_null(strstr(why, "has origin \"e\\xc2\\x9b31mvil\\x7f/log\""));
    assert_null(strchr(why, 0x7f));
    assert_null(strchr(why, (char)0xc2));
    assert_int_equal(
        open_signed("r.example/log",
                    "r.example/log\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
                    "ext one\next two\n",
                    tc, why),
        0);
    assert_int_equal(tc->cp.size, 5);
    assert_null(tc->cp.ext);
    assert_int_equal(tc->cp.ext_len, 0);
    assert_int_equal(tc->cp.next, 0);
    free(tc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_quorum),
        cmocka_unit_test(test_vector_groups),
        cmocka_unit_test(test_vector_converted_and_tampered),
        cmocka_unit_test(test_vector_wrong_log),
        cmocka_unit_test(test_rotation_bad_signature),
        cmocka_unit_test(test_checkpoint_untrusted_text),
        cmocka_unit_test(test_verify_steps),
        cmocka_unit_test(test_verify_log_failure_blocks),
        cmocka_unit_test(test_age_nested_future),
        cmocka_unit_test(test_age_unneeded_witness),
        cmocka_unit_test(test_age_future_boundary),
        cmocka_unit_test(test_age_unknown),
        cmocka_unit_test(test_statement_empty_or_malformed),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_expect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

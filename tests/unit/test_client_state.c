/*
 * test_client_state: the monitor's progress file (client/state.c): what
 * state_save_progress writes loads back, and a damaged file is refused
 * with its line and what is wrong (the monitor prints it and starts over).
 * The stored checkpoint: written only under the state lock, and only
 * forward (two processes storing at once never move it back). The
 * monitor's pending audit checks (client/chainwatch.c): a malformed
 * chain-pending file is refused every time it is read, leaving no checks
 * and no second array behind; checks are written when flushed, due from
 * the earlier of the build's time and when it was met; a full list
 * refuses another check. Evidence: the alarm directory is fsynced
 * before its rename, alarms/ after it. The keys with one origin share the
 * directory that exists, else the first one's. A rebuild differs only
 * from a build of its own source. Only the monitored log's checkpoint
 * shows that a lookup answer reaches a build.
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "glasslog/checkpoint.h"

#include "../../client/chainwatch.c"
#include "../../client/cli.c"

/* state.c's directory syncs, recorded in order (then done). */
static char synced[8][STATE_PATH_MAX + 64];
static size_t nsynced;
int record_sync_dir(const char *dir);
int record_sync_dir(const char *dir)
{
    if (nsynced < 8)
        snprintf(synced[nsynced++], sizeof(synced[0]), "%s", dir);
    return gl_file_sync_dir(dir);
}
#define gl_file_sync_dir record_sync_dir
#include "../../client/state.c"
#undef gl_file_sync_dir

#define HEADER "glasslog-monitor-progress v1\n"
#define EDGE "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
#define EDGE_HEX "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static char root[] = "/tmp/glasslog-state-XXXXXX";
static struct state st;

static int setup(void **state)
{
    struct gl_verifier v;
    (void)state;

    if (mkdtemp(root) == NULL)
        return -1;
    tu_load_verifier("notes/log.vkey", &v);
    return state_open(&st, root, &v) == 0 ? 0 : -1;
}

/* Removes what the tests made: ROOT/<logid>/{vkey,monitor}, the dirs. */
static int teardown(void **state)
{
    char path[STATE_PATH_MAX + 16];
    (void)state;

    state_close(&st);
    snprintf(path, sizeof(path), "%s/vkey", st.dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/monitor", st.dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/checkpoint", st.dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/lock", st.dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/" PENDING_FILE, st.dir);
    unlink(path);
    return rmdir(st.dir) == 0 && rmdir(root) == 0 ? 0 : -1;
}

static void write_progress(const char *text)
{
    char path[STATE_PATH_MAX + 16];
    FILE *f;

    snprintf(path, sizeof(path), "%s/monitor", st.dir);
    assert_non_null(f = fopen(path, "wb"));
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static void test_roundtrip(void **state)
{
    struct state_progress p, q;
    struct gl_err why = {42, "untouched"};
    (void)state;

    state_progress_init(&p);
    state_progress_init(&q);
    p.range.size = 5;
    memset(p.range.edge[0], 1, 32);
    memset(p.range.edge[2], 2, 32);
    assert_int_equal(gl_buf_append_str(&p.target, "a checkpoint note\n"), 0);
    assert_int_equal(state_save_progress(&st, &p), 0);
    assert_int_equal(state_load_progress(&st, &q, &why), 0);
    assert_int_equal(q.range.size, 5);
    assert_memory_equal(q.range.edge[2], p.range.edge[2], 32);
    assert_int_equal(q.target.len, p.target.len);
    assert_int_equal(why.line, 42); /* success leaves why alone */
    assert_string_equal(why.reason, "untouched");
    state_progress_release(&p);
    state_progress_release(&q);
}

static void test_damaged(void **state)
{
    static const struct {
        const char *text;
        size_t line;
        const char *why;
    } bad[] = {
        {"bogus\n", 1, "the first line is not glasslog-monitor-progress v1"},
        {HEADER "check 5\n", 2, "expected a \"checked \" line"},
        {HEADER "checked x\n", 2, "checked is not a tree size"},
        {HEADER "checked 5\nedge 0 AAAA\n", 3, "the edge is not base64 of 32 bytes"},
        {HEADER "checked 5\nedge 0 " EDGE "\n", 4, "missing line"},
        {HEADER "checked 5\nedge 0 " EDGE "\nedge 1 " EDGE "\n", 4,
         "expected a \"edge 2 \" line"},
        {HEADER "checked 1\nedge 0 " EDGE "\ntarget", 4,
         "line does not end with a newline"},
        {HEADER "checked 1\nedge 0 " EDGE "\ntarget x\n", 4,
         "expected a \"target\" line"},
        {HEADER "checked 1\nedge 0 " EDGE "\ntarget\n", 5, "no target checkpoint"},
    };
    struct state_progress p;
    struct gl_err why;
    (void)state;

    state_progress_init(&p);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_progress(bad[i].text);
        tu_expect_why(state_load_progress(&st, &p, &why), &why, GL_EPARSE, bad[i].line,
                      bad[i].why);
    }
    assert_int_equal(state_drop_progress(&st), 0);
    tu_expect_why(state_load_progress(&st, &p, &why), &why, GL_ENOTFOUND, 0,
                  "no progress file");
    state_progress_release(&p);
}

/* Stores a checkpoint of `size` leaves (root: the size's bytes) signed by
 * the test log key; returns state_store_checkpoint's code. */
static int store_size(struct state *s, uint64_t size, int *stored)
{
    struct gl_signer k;
    struct gl_buf note;
    uint8_t r[GL_HASH_LEN] = {0};
    int rc;

    memcpy(r, &size, sizeof(size));
    tu_load_signer("notes/log.key", &k);
    gl_buf_init(&note, STATE_CHECKPOINT_MAX);
    assert_int_equal(gl_checkpoint_sign("example.com/log", size, r, &k, &note), 0);
    rc = state_store_checkpoint(s, (const char *)note.data, note.len, size, r, stored);
    gl_buf_release(&note);
    gl_signer_wipe(&k);
    return rc;
}

/* The size of the stored checkpoint (0 if none). */
static uint64_t stored_size(const struct state *s)
{
    struct gl_buf b;
    uint64_t size = 0;
    uint8_t r[GL_HASH_LEN];

    gl_buf_init(&b, STATE_CHECKPOINT_MAX);
    if (state_load_checkpoint(s, &b) == 0 && stored_tree(&b, &size, r) != 0)
        size = UINT64_MAX;
    gl_buf_release(&b);
    return size;
}

static void test_store_needs_lock(void **state)
{
    int stored = 42;
    (void)state;

    assert_int_equal(store_size(&st, 10, &stored), GL_EINVAL);
    assert_int_equal(stored, 0);
    assert_int_equal(stored_size(&st), 0); /* nothing written */
    assert_int_equal(state_lock(&st), 0);
    assert_int_equal(store_size(&st, 10, &stored), 0);
    assert_int_equal(stored, 1);
    assert_int_equal(store_size(&st, 9, &stored), 0); /* smaller: kept */
    assert_int_equal(stored, 0);
    assert_int_equal(stored_size(&st), 10);
    state_unlock(&st);
    assert_int_equal(store_size(&st, 11, &stored), GL_EINVAL);
    assert_int_equal(stored_size(&st), 10);
}

/* One process's rounds: under the lock, read the stored size and store the
 * next one of its own parity (even or odd) above it; the stored size must
 * never be below what this process stored last. The number of failures. */
static int store_rounds(int rounds, uint64_t parity)
{
    struct state s;
    struct gl_verifier v;
    uint64_t last = 0, cur;
    int bad = 0, stored;

    tu_load_verifier("notes/log.vkey", &v);
    if (state_open(&s, root, &v) != 0)
        return rounds;
    for (int i = 0; i < rounds; i++) {
        if (state_lock(&s) != 0) {
            bad++;
            continue;
        }
        cur = stored_size(&s);
        if (cur < last || cur == UINT64_MAX)
            bad++;
        cur += (cur & 1) == parity ? 2 : 1;
        if (store_size(&s, cur, &stored) != 0 || !stored)
            bad++;
        last = cur;
        state_unlock(&s);
    }
    state_close(&s);
    return bad;
}

static void test_store_concurrent(void **state)
{
    pid_t pid;
    int status, bad;
    (void)state;

    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(store_rounds(100, 1) == 0 ? 0 : 1);
    bad = store_rounds(100, 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(bad, 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_true(stored_size(&st) >= 200);
}

static void test_pending_malformed(void **state)
{
    static const char text[] = "5 1 " EDGE_HEX "\n"
                               "6 2 " EDGE_HEX "\n"
                               "not a pending check\n";
    struct chainwatch w;
    struct chainwatch_pending *first;
    char path[STATE_PATH_MAX + 16];
    FILE *f;
    (void)state;

    memset(&w, 0, sizeof(w));
    snprintf(path, sizeof(path), "%s/" PENDING_FILE, st.dir);
    assert_non_null(f = fopen(path, "wb"));
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
    assert_int_equal(pending_load(&w, st.dir), GL_EPARSE);
    assert_int_equal(w.npend, 0);
    assert_int_equal(w.loaded, 0);
    first = w.pend;
    for (int i = 0; i < 3; i++) { /* each cycle tries again */
        assert_int_equal(pending_load(&w, st.dir), GL_EPARSE);
        assert_int_equal(w.npend, 0);
        assert_ptr_equal(w.pend, first); /* the same array, not a new one */
    }
    assert_int_equal(unlink(path), 0);
    assert_int_equal(pending_load(&w, st.dir), 0); /* no file: no checks */
    assert_int_equal(w.npend, 0);
    assert_int_equal(w.loaded, 1);
    free(w.pend);
}

/* Reads chain-pending into text (at most cap bytes); 0 if it is absent. */
static size_t read_pending(char *text, size_t cap)
{
    char path[STATE_PATH_MAX + 16];
    size_t n;
    FILE *f;

    snprintf(path, sizeof(path), "%s/" PENDING_FILE, st.dir);
    if ((f = fopen(path, "rb")) == NULL)
        return 0;
    n = fread(text, 1, cap - 1, f);
    text[n] = 0;
    fclose(f);
    return n;
}

/* Checks added during a catch-up are written by chainwatch_flush, once;
 * each falls due D after the earlier of the build's time and the time
 * the monitor met it (a build dated ahead does not postpone its audit). */
static void test_pending_flush_due(void **state)
{
    struct chainwatch w;
    struct gl_statement_fields f;
    char text[512], want[512];
    (void)state;

    memset(&w, 0, sizeof(w));
    memset(&f, 0, sizeof(f));
    memset(f.source, 0xab, 32);
    w.audit_within = 100;
    f.time = 4102444800u; /* 2100, met at 1000: due 1100 */
    assert_int_equal(pending_add(&w, st.dir, 7, &f, 1000), 0);
    f.time = 500; /* dated before it was met: due 600 */
    assert_int_equal(pending_add(&w, st.dir, 8, &f, 1000), 0);
    assert_int_equal(pending_add(&w, st.dir, 8, &f, 2000), 0); /* known: kept */
    assert_int_equal(read_pending(text, sizeof(text)), 0);     /* not written yet */
    assert_int_equal(chainwatch_flush(&w, st.dir), 0);
    snprintf(want, sizeof(want), "1100 7 %s\n600 8 %s\n",
             "abababababababababababababababababababababababababababababababab",
             "abababababababababababababababababababababababababababababababab");
    assert_true(read_pending(text, sizeof(text)) > 0);
    assert_string_equal(text, want);
    assert_int_equal(w.dirty, 0);
    free(w.pend);
}

/* A full chain-pending refuses another check: the caller stops (never a
 * build silently left unchecked). */
static void test_pending_full(void **state)
{
    struct chainwatch w;
    struct gl_statement_fields f;
    char path[STATE_PATH_MAX + 16];
    (void)state;

    memset(&w, 0, sizeof(w));
    memset(&f, 0, sizeof(f));
    w.audit_within = 100;
    w.loaded = 1;
    assert_non_null(w.pend = calloc(CHAINWATCH_MAX_PENDING, sizeof(*w.pend)));
    for (size_t i = 0; i < CHAINWATCH_MAX_PENDING; i++)
        w.pend[i].index = i;
    w.npend = CHAINWATCH_MAX_PENDING;
    assert_int_equal(pending_add(&w, st.dir, 5, &f, 1000), 0); /* known already */
    assert_int_equal(pending_add(&w, st.dir, CHAINWATCH_MAX_PENDING, &f, 1000),
                     GL_ESTATE);
    assert_int_equal(w.npend, CHAINWATCH_MAX_PENDING);
    free(w.pend);
    snprintf(path, sizeof(path), "%s/" PENDING_FILE, st.dir);
    unlink(path);
}

static void test_evidence_synced(void **state)
{
    const struct state_file f = {"proof", "p\n", 2};
    char path[STATE_PATH_MAX], tmp[STATE_PATH_MAX + 64], alarms[STATE_PATH_MAX + 16];
    (void)state;

    nsynced = 0;
    assert_int_equal(state_save_evidence(&st, "t-1", "summary\n", &f, 1, path), 0);
    snprintf(alarms, sizeof(alarms), "%s/alarms", st.dir);
    snprintf(tmp, sizeof(tmp), "%s/.tmp-t-1-%ld", alarms, (long)getpid());
    assert_int_equal(nsynced, 2);
    assert_string_equal(synced[0], tmp);    /* its files are in it before */
    assert_string_equal(synced[1], alarms); /* the rename is durable after */
    assert_int_equal(state_save_evidence(&st, "t-1", "again\n", &f, 1, path), GL_EEXIST);
    remove_tree(path, &f, 1);
    assert_int_equal(rmdir(alarms), 0);
}

/* Keys with one name are one log: the directory of the first of them that
 * exists (here the setup's key, listed last), else the first one's; a key
 * of another name is not one of them. */
static void test_one_dir_per_origin(void **state)
{
    struct gl_verifier k[3];
    struct state s, want;
    char root2[] = "/tmp/glasslog-state2-XXXXXX", path[STATE_PATH_MAX + 16];
    (void)state;

    tu_load_verifier("notes/log.vkey", &k[2]);
    k[0] = k[1] = k[2];
    snprintf(k[0].name, sizeof(k[0].name), "other.example/log");
    k[1].id ^= 1;
    k[1].pub[0] ^= 1;
    assert_int_equal(state_open_log(&s, root, k, 3, 1), 0);
    assert_string_equal(s.dir, st.dir);
    state_close(&s);
    assert_int_equal(state_open_log(&s, root, k, 3, 0), 0); /* its own */
    assert_string_not_equal(s.dir, st.dir);
    state_close(&s);
    snprintf(path, sizeof(path), "%s/vkey", s.dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(s.dir), 0);
    assert_non_null(mkdtemp(root2));
    assert_int_equal(state_open_log(&s, root2, k, 3, 2), 0);
    assert_int_equal(key_dir(&want, root2, &k[1]), 0);
    assert_string_equal(s.dir, want.dir);
    state_close(&s);
    snprintf(path, sizeof(path), "%s/vkey", s.dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(s.dir), 0);
    assert_int_equal(rmdir(root2), 0);
    assert_int_equal(state_open_log(&s, root, k, 3, 3), GL_EINVAL);
}

static void count_alarm(void *ctx, const struct chainwatch_alarm *a)
{
    (void)a;
    (*(int *)ctx)++;
}

/* rebuild-differs compares a rebuild with the builds of its own source
 * only: a build of the same product and version from another source (the
 * log's answer about source X may list anything) raises nothing. */
static void test_differs_same_source(void **state)
{
    struct chainwatch w;
    struct gl_statement_fields f = {.format = 2,
                                    .kind = GL_STATEMENT_REBUILD,
                                    .subject = "widget",
                                    .subject_len = 6,
                                    .version = "1.0",
                                    .version_len = 3};
    struct linked l;
    struct answer a = {.l = &l, .n = 1, .cap = 1, .need = UINT64_MAX};
    int alarms = 0;
    (void)state;

    memset(&w, 0, sizeof(w));
    w.fn = count_alarm;
    w.ctx = &alarms;
    memset(f.sha256, 1, 32);
    memset(f.source, 0xaa, 32);
    memset(&l, 0, sizeof(l));
    l.index = 3;
    l.stmt = (char *)"the build";
    l.proof = (char *)"its proof";
    l.st.fields = f;
    l.st.fields.kind = GL_STATEMENT_BUILD;
    memset(l.st.fields.sha256, 2, 32);
    memset(l.st.fields.source, 0xbb, 32);
    l.role = GL_POLICY_ROLE_BUILDER;
    check_differs(&w, 10, "the rebuild", 11, &f, 1, &a);
    assert_int_equal(alarms, 0);
    memset(l.st.fields.source, 0xaa, 32); /* the same source: it differs */
    check_differs(&w, 10, "the rebuild", 11, &f, 1, &a);
    assert_int_equal(alarms, 1);
    memset(l.st.fields.sha256, 1, 32); /* and the same digest: it agrees */
    check_differs(&w, 10, "the rebuild", 11, &f, 1, &a);
    assert_int_equal(alarms, 1);
}

/* A tlog-proof text (malloc'd: caller frees) of entry 0 in a checkpoint
 * of size `size` signed by k (whose name is the origin). Its syntax is
 * all that matters here: covers reads only its checkpoint. */
static char *proof_text(const struct gl_signer *k, uint64_t size)
{
    const uint8_t zero[GL_HASH_LEN] = {0};
    struct gl_buf b;
    uint8_t *out;

    gl_buf_init(&b, 1 << 16);
    assert_int_equal(gl_buf_append_str(&b, GL_TLOGPROOF_HEADER "\nindex 0\n\n"), 0);
    assert_int_equal(gl_checkpoint_sign(k->name, size, zero, k, &b), 0);
    assert_int_equal(gl_buf_detach(&b, &out, NULL), 0);
    return (char *)out;
}

/* Only a checkpoint of the monitored log (its origin, signed with its
 * key) shows that a lookup answer reaches a build: another log of the
 * same policy, however large its tree, says nothing about this one's
 * entries, a key the policy does not list for the origin proves
 * nothing, and no origin at all means nothing is shown. */
static void test_covers_own_log(void **state)
{
    struct gl_signer a, b, forger;
    char ka[GL_KEY_TEXT_MAX + 1], kb[GL_KEY_TEXT_MAX + 1], pol[2 * GL_KEY_TEXT_MAX + 64];
    struct gl_policy *p;
    struct chainwatch w;
    struct answer an = {.need = 5, .origin = "a.example/log"};
    char *pa, *pb, *pf;
    (void)state;

    assert_int_equal(gl_signer_generate("a.example/log", GL_KEY_NOTE, &a), 0);
    assert_int_equal(gl_signer_generate("b.example/log", GL_KEY_NOTE, &b), 0);
    assert_int_equal(gl_signer_generate("a.example/log", GL_KEY_NOTE, &forger), 0);
    tu_vkey_text(&a, ka, sizeof(ka));
    tu_vkey_text(&b, kb, sizeof(kb));
    snprintf(pol, sizeof(pol), "log %s\nlog %s\nquorum none\n", ka, kb);
    assert_int_equal(gl_policy_parse(pol, strlen(pol), &p, NULL), 0);
    memset(&w, 0, sizeof(w));
    w.p = p;
    pa = proof_text(&a, 6);
    pb = proof_text(&b, 1000);
    pf = proof_text(&forger, 1000);
    assert_int_equal(covers(&w, &an, pa), 1);
    assert_int_equal(covers(&w, &an, pb), 0); /* another log's checkpoint */
    assert_int_equal(covers(&w, &an, pf), 0); /* its origin, not its key */
    an.need = 6;
    assert_int_equal(covers(&w, &an, pa), 0); /* its tree lacks entry 6 */
    an.origin = "b.example/log";              /* the other way round */
    assert_int_equal(covers(&w, &an, pb), 1);
    assert_int_equal(covers(&w, &an, pa), 0);
    an.origin = NULL;
    assert_int_equal(covers(&w, &an, pb), 0);
    free(pa);
    free(pb);
    free(pf);
    gl_policy_free(p);
    gl_signer_wipe(&a);
    gl_signer_wipe(&b);
    gl_signer_wipe(&forger);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_damaged),
        cmocka_unit_test(test_store_needs_lock),
        cmocka_unit_test(test_store_concurrent),
        cmocka_unit_test(test_pending_malformed),
        cmocka_unit_test(test_pending_flush_due),
        cmocka_unit_test(test_pending_full),
        cmocka_unit_test(test_evidence_synced),
        cmocka_unit_test(test_one_dir_per_origin),
        cmocka_unit_test(test_differs_same_source),
        cmocka_unit_test(test_covers_own_log),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

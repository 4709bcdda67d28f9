/*
 * test_witness_feeder: the feeder's rounds (witness/feeder.c) against a
 * scripted world: this file defines the HTTP client (gl_http_get and its
 * kin) and the engine calls the feeder makes (engine_submit, engine_view,
 * engine_has_evidence), so the linker takes them instead of the real
 * http_client.o and engine.o (the feeder is the only module linked that
 * calls them). Every request is recorded with the round it was made in
 * (feeder_stats' rounds when it was made); a handler per test answers it,
 * after an optional sleep (the time a slow log takes). The feeder runs
 * with poll interval 0: its rounds follow each other at once.
 *
 * - A comparison once started runs its checks after its log's exempt
 *   time passed the cap: a peer's gossip whose proof (slow, not
 *   verifying) starts under the cap and ends past it still asks its
 *   prefix root (entry 0 and its inclusion proof: later requests of the
 *   comparison, never refused by the cap); the next comparison's proof is
 *   refused (the cap's line), and the log's pull, later in that round, is
 *   skipped with its info line, no request made.
 * - A peer's evidence entry whose fetch fails (another status), or which
 *   the engine could neither store nor refuse (500: it could not check it
 *   for want of memory; 503), is read again first in the next round, for
 *   3 rounds in a row; then the read goes on past it, and it is tried
 *   again when the read comes round the list. A file the engine refused
 *   (422) is not retried, and not fetched again when the read comes round
 *   the list: a peer listing junk costs one fetch and one log line a
 *   file. A round fetches at most 16 files.
 * - A peer's gossip whose proof was refused (the log gave no answer to
 *   its pull earlier in the round) is held at that log: the peer's next
 *   part polls it first, and its proof is then that log's first request
 *   of the round. The pull that comes after a log gave no answer in the
 *   round is skipped with an info line, and not made.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../witness/engine.h"
#include "../../witness/feeder.h"
#include "../../witness/logs.h"
#include "../../witness/peers.h"
#include "glasslog/buf.h"
#include "glasslog/checkpoint.h"
#include "glasslog/codec.h"
#include "glasslog/cosig.h"
#include "glasslog/error.h"
#include "glasslog/evidence.h"
#include "glasslog/key.h"
#include "glasslog/log.h"
#include "http_client.h"

#define REQS_MAX 4096
#define URL_MAX 256
#define NLOGS_MAX 3
#define NFILES 20 /* a peer's evidence list: more than the 16 fetched a round */

/* One request the feeder made. */
struct req {
    char url[URL_MAX];
    uint64_t round;
};

/* The scripted world: what the handler answers, and what was asked. */
struct world {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct feeder *f; /* set once feeder_start returned */
    uint64_t rounds;  /* rounds to run; requests after them are aborted */
    struct req reqs[REQS_MAX];
    size_t nreqs;
    /* answers url (round: the running round's number) into out: 0 with
     * out->status set, or GL_EIO with out->status 0 (no answer); *sleep_ms:
     * how long the request takes */
    int (*serve)(const char *url, uint64_t round, struct gl_http_response *out,
                 long *sleep_ms);
    /* our records (engine_view) */
    int has[NLOGS_MAX];
    uint64_t size[NLOGS_MAX];
    uint8_t root[NLOGS_MAX][GL_HASH_LEN];
    struct gl_buf note[NLOGS_MAX];
    /* evidence: the files of the peer's list, and the engine's answer */
    char ids[NFILES][GL_HASH_HEX_LEN + 1];
    int file0_http;   /* the fetch of file 0: this status */
    int file0_engine; /* the engine's answer to file 0 (others: 422) */
    /* served checkpoints */
    struct gl_buf log_note, peer_note;
    struct feeder_stats st; /* the feeder's counters once stopped */
    int start_rc;           /* feeder_start's */
    /* the first stub call that went wrong on the feeder's thread (NULL:
     * none), checked on the test's thread once the feeder stopped (a
     * cmocka assert there would jump out of the wrong thread) */
    const char *stub_error;
};

static struct world W;

/* Records what (the first only) as the stubs' error unless ok. */
static void stub_check(int ok, const char *what)
{
    pthread_mutex_lock(&W.mu);
    if (!ok && W.stub_error == NULL)
        W.stub_error = what;
    pthread_mutex_unlock(&W.mu);
}

/* --- the HTTP client the feeder links ----------------------------------------------- */

struct gl_http_client {
    int unused;
};

int gl_http_client_new(const struct gl_http_client_config *cfg,
                       struct gl_http_client **out)
{
    (void)cfg;
    *out = calloc(1, sizeof(**out));
    return *out != NULL ? 0 : GL_ENOMEM;
}

void gl_http_client_free(struct gl_http_client *c)
{
    free(c);
}

void gl_http_response_release(struct gl_http_response *r)
{
    gl_buf_release(&r->body);
}

int gl_http_get(struct gl_http_client *c, const char *url, size_t max_response_bytes,
                long timeout_ms, struct gl_http_response *out)
{
    struct feeder_stats st;
    struct feeder *f;
    long sleep_ms = 0;
    int err;

    (void)c;
    (void)timeout_ms;
    memset(out, 0, sizeof(*out));
    gl_buf_init(&out->body, max_response_bytes);
    pthread_mutex_lock(&W.mu);
    while (W.f == NULL)
        pthread_cond_wait(&W.cv, &W.mu);
    f = W.f;
    pthread_mutex_unlock(&W.mu);
    feeder_stats(f, &st);
    if (st.rounds >= W.rounds) {
        feeder_ask_stop(f);
        out->aborted = 1;
        snprintf(out->error, sizeof(out->error), "aborted");
        return GL_EIO;
    }
    pthread_mutex_lock(&W.mu);
    if (W.nreqs < REQS_MAX) {
        snprintf(W.reqs[W.nreqs].url, URL_MAX, "%s", url);
        W.reqs[W.nreqs++].round = st.rounds;
    }
    pthread_mutex_unlock(&W.mu);
    err = W.serve(url, st.rounds, out, &sleep_ms);
    if (sleep_ms > 0)
        usleep((useconds_t)sleep_ms * 1000);
    return err;
}

/* --- the engine calls the feeder links -----------------------------------------------
 */

struct engine {
    int unused;
};

void engine_submit(struct engine *e, struct wreq *r)
{
    (void)e;
    r->why = "stub";
    if (r->kind == WREQ_EVIDENCE)
        r->status = r->note_len >= 7 && memcmp(r->note, "junk 0\n", 7) == 0
                        ? W.file0_engine
                        : 422;
    else
        r->status = 200; /* never reached: no proof here verifies */
    r->done(r, r->arg);
}

int engine_view(struct engine *e, size_t log, struct engine_view *v, struct gl_buf *note)
{
    (void)e;
    memset(v, 0, sizeof(*v));
    if (log >= NLOGS_MAX || !W.has[log])
        return GL_ENOTFOUND;
    v->has = 1;
    v->size = W.size[log];
    memcpy(v->root, W.root[log], GL_HASH_LEN);
    if (note != NULL)
        stub_check(gl_buf_append(note, W.note[log].data, W.note[log].len) == 0,
                   "engine_view: cannot append our note");
    return 0;
}

int engine_has_evidence(struct engine *e, const char *id)
{
    (void)e;
    (void)id;
    return 0;
}

/* --- helpers -------------------------------------------------------------------------
 */

static struct engine the_engine;

/* Answers 200 with body. */
static int ok(struct gl_http_response *out, const char *body, size_t n)
{
    out->status = 200;
    stub_check(gl_buf_append(&out->body, body, n) == 0,
               "cannot append a response's body");
    return 0;
}

static int status_only(struct gl_http_response *out, long status)
{
    out->status = status;
    return 0;
}

static int no_answer(struct gl_http_response *out)
{
    snprintf(out->error, sizeof(out->error), "stub: no answer");
    return GL_EIO;
}

static int ends_with(const char *s, const char *end)
{
    size_t n = strlen(s), m = strlen(end);

    return n >= m && strcmp(s + n - m, end) == 0;
}

/* k's checkpoint of size (root: bytes tag) into out; cosigned by
 * peer when not NULL. */
static void checkpoint(const struct gl_signer *k, uint64_t size, uint8_t tag,
                       const struct gl_signer *peer, struct gl_buf *out)
{
    uint8_t root[GL_HASH_LEN];
    struct gl_buf note, line;
    const char *blank;

    memset(root, tag, sizeof(root));
    gl_buf_init(&note, 65536);
    gl_buf_init(&line, 1024);
    assert_int_equal(gl_checkpoint_sign(k->name, size, root, k, &note), 0);
    gl_buf_reset(out);
    if (peer == NULL) {
        assert_int_equal(gl_buf_append(out, note.data, note.len), 0);
    } else {
        blank = strstr((const char *)note.data, "\n\n");
        assert_non_null(blank);
        assert_int_equal(gl_cosig_sign(peer, (const char *)note.data,
                                       (size_t)(blank + 1 - (const char *)note.data),
                                       (uint64_t)time(NULL), &line),
                         0);
        assert_int_equal(gl_cosig_append((const char *)note.data, note.len,
                                         (const char *)line.data, line.len, out, NULL),
                         0);
    }
    gl_buf_release(&note);
    gl_buf_release(&line);
}

/* Our record of log li: size 4 (root: bytes 4) signed by k. */
static void mine(size_t li, const struct gl_signer *k)
{
    W.has[li] = 1;
    W.size[li] = 4;
    memset(W.root[li], 4, GL_HASH_LEN);
    checkpoint(k, 4, 4, NULL, &W.note[li]);
}

static void world_init(int (*serve)(const char *, uint64_t, struct gl_http_response *,
                                    long *),
                       uint64_t rounds)
{
    memset(&W, 0, sizeof(W));
    pthread_mutex_init(&W.mu, NULL);
    pthread_cond_init(&W.cv, NULL);
    W.serve = serve;
    W.rounds = rounds;
    for (size_t i = 0; i < NLOGS_MAX; i++)
        gl_buf_init(&W.note[i], 65536);
    gl_buf_init(&W.log_note, 65536);
    gl_buf_init(&W.peer_note, 65536);
}

static void world_release(void)
{
    for (size_t i = 0; i < NLOGS_MAX; i++)
        gl_buf_release(&W.note[i]);
    gl_buf_release(&W.log_note);
    gl_buf_release(&W.peer_note);
    pthread_mutex_destroy(&W.mu);
    pthread_cond_destroy(&W.cv);
}

/* What run_step runs the feeder with. */
struct run {
    const struct logs_list *logs;
    const struct peers_list *peers;
    long timeout_ms; /* per request */
};

/* Runs the feeder as *arg says for W.rounds rounds (requests after them
 * are aborted, and ask it to stop): W.start_rc and W.st get its results.
 * No assert here: stderr is redirected (run_rounds checks them after). */
static void run_step(void *arg)
{
    const struct run *r = arg;
    struct feeder_config fc = {&the_engine, r->logs, r->peers, 0, r->timeout_ms, {0}};
    struct feeder_stats st;
    struct feeder *f = NULL;

    if ((W.start_rc = feeder_start(&fc, &f)) != 0)
        return;
    pthread_mutex_lock(&W.mu);
    W.f = f;
    pthread_cond_broadcast(&W.cv);
    pthread_mutex_unlock(&W.mu);
    for (int i = 0; i < 2000; i++) { /* 10 s at most */
        feeder_stats(f, &st);
        if (st.rounds >= W.rounds)
            break;
        usleep(5000);
    }
    feeder_stop(f);
    feeder_stats(f, &W.st);
    feeder_free(f);
}

/* run_step with logs, peers and timeout_ms, its stderr captured: that
 * text (the caller frees it), once the feeder ran its rounds and no stub
 * went wrong (printed with the text if not). */
static char *run_rounds(const struct logs_list *logs, const struct peers_list *peers,
                        long timeout_ms)
{
    struct run r = {logs, peers, timeout_ms};
    char *err = tu_capture_stderr(run_step, &r);

    if (W.start_rc != 0 || W.stub_error != NULL || W.st.rounds < W.rounds)
        print_message("the feeder: start %d, %llu rounds, stubs: %s; its log:\n%s",
                      W.start_rc, (unsigned long long)W.st.rounds,
                      W.stub_error != NULL ? W.stub_error : "fine", err);
    assert_int_equal(W.start_rc, 0);
    assert_null(W.stub_error);
    assert_true(W.st.rounds >= W.rounds);
    return err;
}

/* How many requests of round r end with end. */
static size_t count(uint64_t r, const char *end)
{
    size_t n = 0;

    for (size_t i = 0; i < W.nreqs; i++)
        n += W.reqs[i].round == r && ends_with(W.reqs[i].url, end);
    return n;
}

/* How many times what occurs in s. */
static size_t occurrences(const char *s, const char *what)
{
    size_t n = 0;

    for (const char *p = strstr(s, what); p != NULL; p = strstr(p + 1, what))
        n++;
    return n;
}

/* --- a started comparison is finished past the cap --------------------------------- */

/* ms: the timeout, and the log's exempt cap a round */
#define CAP_T 1000
/* ms a proof takes: one is under the cap (by 480 ms, less the fast
 * requests: room for a late sleep on a loaded machine), two past it */
#define CAP_PROOF 520

static int serve_cap(const char *url, uint64_t round, struct gl_http_response *out,
                     long *sleep_ms)
{
    static const char proof[] =
        "{\"hashes\":[\"000000000000000000000000000000000000000000000000000000000000"
        "0000\"]}";
    static const char incl[] =
        "{\"hashes\":[\"111111111111111111111111111111111111111111111111111111111111"
        "1111\",\"2222222222222222222222222222222222222222222222222222222222222222\"]}";
    static const char leaf[] =
        "{\"leaf_hash\":"
        "\"3333333333333333333333333333333333333333333333333333333333333333"
        "\"}";

    (void)round;
    if (strcmp(url, "http://log.test/checkpoint") == 0)
        return ok(out, (const char *)W.log_note.data, W.log_note.len);
    if (strncmp(url, "http://log.test/api/v1/proof/consistency?", 41) == 0) {
        *sleep_ms = CAP_PROOF;
        return ok(out, proof, strlen(proof));
    }
    if (strcmp(url, "http://log.test/api/v1/entries/0") == 0)
        return ok(out, leaf, strlen(leaf));
    if (strncmp(url, "http://log.test/api/v1/proof/inclusion?", 39) == 0)
        return ok(out, incl, strlen(incl));
    if (strncmp(url, "http://peer", 11) == 0 && strstr(url, ".test/evidence") != NULL)
        return ok(out, "[]", 2);
    if (strncmp(url, "http://peer", 11) == 0 && ends_with(url, "/checkpoint"))
        return ok(out, (const char *)W.peer_note.data, W.peer_note.len);
    return status_only(out, 404);
}

/* Our record: size 4; the log and three peers: size 8. Every comparison
 * asks a proof (CAP_PROOF: one under the cap, two past it) that does not
 * verify, then its prefix root. Parts: the pull, peers p1, p2, p3.
 * Round 0 (the pull first): the pull's comparison, then p1's, whose proof
 * starts under the cap and ends past it: its prefix root (entry 0 and its
 * inclusion proof) must still be asked; p2's proof is refused by the cap
 * (the log taken as not answering), p3's too. Round 1 (p1 first): p1's and
 * p2's comparisons (p2's prefix root past the cap), p3's proof refused;
 * the pull, last, is skipped with its info line, no request made. */
static void test_prefix_root_past_cap(void **state)
{
    struct gl_signer lk, pk;
    struct logs_list logs;
    struct peers_list peers;
    struct gl_err why;
    char vk[1024], text[4096];
    char *err;

    (void)state;
    world_init(serve_cap, 2);
    assert_int_equal(gl_signer_generate("a.example/log", GL_KEY_NOTE, &lk), 0);
    assert_int_equal(gl_signer_generate("p.example", GL_KEY_COSIG, &pk), 0);
    tu_vkey_text(&lk, vk, sizeof(vk));
    snprintf(text, sizeof(text), "logs/v0\nvkey %s\nurl http://log.test\n", vk);
    assert_int_equal(logs_parse(text, strlen(text), &logs, &why), 0);
    tu_vkey_text(&pk, vk, sizeof(vk));
    snprintf(text, sizeof(text),
             "witness p1 %s http://peer1.test\nwitness p2 %s http://peer2.test\n"
             "witness p3 %s http://peer3.test\n",
             vk, vk, vk);
    assert_int_equal(peers_parse(text, strlen(text), &peers, &why), 0);
    assert_int_equal(peers.n, 3);
    mine(0, &lk);
    checkpoint(&lk, 8, 8, NULL, &W.log_note);
    checkpoint(&lk, 8, 8, &pk, &W.peer_note);

    err = run_rounds(&logs, &peers, CAP_T);
    /* round 0: the pull's and p1's comparisons checked to the end, the
     * second past the cap; p2's and p3's proofs not asked */
    assert_int_equal(count(0, "http://log.test/checkpoint"), 1);
    assert_int_equal(count(0, "second=8"), 2);
    assert_int_equal(count(0, "/api/v1/entries/0"), 2);
    assert_int_equal(count(0, "tree_size=4"), 2);
    /* round 1: p1's and p2's, the pull skipped */
    assert_int_equal(count(1, "second=8"), 2);
    assert_int_equal(count(1, "/api/v1/entries/0"), 2);
    assert_int_equal(count(1, "tree_size=4"), 2);
    assert_int_equal(count(1, "http://log.test/checkpoint"), 0);
    assert_int_equal(W.st.pulls, 1); /* the skipped pull counted nowhere */
    assert_int_equal(W.st.pull_errors, 0);
    assert_non_null(strstr(err, "not asked: the log's proofs took "));
    assert_non_null(strstr(err, "a.example/log: not pulled this round: its url gave no "
                                "answer earlier in it (or its proofs took their time)"));
    free(err);

    logs_release(&logs);
    peers_release(&peers);
    gl_signer_wipe(&lk);
    gl_signer_wipe(&pk);
    world_release();
}

/* --- the evidence retry limit ----------------------------------------------------- */

static int serve_evidence(const char *url, uint64_t round, struct gl_http_response *out,
                          long *sleep_ms)
{
    char body[NFILES * 160 + 8], file[32];
    size_t from = 0, n = 0;

    (void)round;
    (void)sleep_ms;
    if (sscanf(url, "http://peer.test/evidence?from=%zu", &from) == 1) {
        n += (size_t)snprintf(body + n, sizeof(body) - n, "[");
        for (size_t i = from; i < NFILES; i++)
            n += (size_t)snprintf(body + n, sizeof(body) - n,
                                  "%s{\"id\":\"%s\",\"origin\":\"a.example/log\"}",
                                  i > from ? "," : "", W.ids[i]);
        n += (size_t)snprintf(body + n, sizeof(body) - n, "]");
        return ok(out, body, n);
    }
    for (size_t i = 0; i < NFILES; i++) {
        if (strncmp(url, "http://peer.test/evidence/", 26) != 0 ||
            strcmp(url + 26, W.ids[i]) != 0)
            continue;
        if (i == 0 && W.file0_http != 200)
            return status_only(out, W.file0_http);
        snprintf(file, sizeof(file), "junk %zu\n", i);
        return ok(out, file, strlen(file));
    }
    return status_only(out, 404); /* its gossip: nothing cosigned */
}

/* The files of the peer's list fetched in round r, in order (indices). */
static size_t fetched(uint64_t r, size_t *out, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < W.nreqs; i++)
        for (size_t k = 0; k < NFILES && n < max; k++)
            if (W.reqs[i].round == r && ends_with(W.reqs[i].url, W.ids[k]))
                out[n++] = k;
    return n;
}

/* The files of the peer's list round r fetches in evidence_rounds, in
 * order, into want (NFILES); their count. Round 0 fetches 0..15 (16 a
 * round); the engine refuses files 1.. (422), which are never fetched
 * again; file 0, when its failure is retried, is fetched first in rounds
 * 1 and 2 (then given up: its third failure in a row) and again in every
 * later round, as the read comes round the list to it. */
static size_t want_fetched(uint64_t r, int retried, size_t *want)
{
    size_t n = 0;

    if (r == 0)
        for (size_t i = 0; i < 16; i++)
            want[n++] = i;
    if (r >= 1 && retried)
        want[n++] = 0;
    if (r == 1)
        for (size_t i = 16; i < NFILES; i++)
            want[n++] = i;
    return n;
}

/* A peer lists NFILES files for a log without a url (no pull). File 0
 * fails as file0_http / file0_engine say (retried: a failure that is
 * retried); the engine refuses the others as not evidence. Rounds fetch
 * as want_fetched says. */
static void evidence_rounds(int file0_http, int file0_engine, int retried)
{
    struct gl_signer lk, pk;
    struct logs_list logs;
    struct peers_list peers;
    struct gl_err why;
    char vk[1024], text[2048], file[32];
    size_t got[NFILES + 1], want[NFILES], n;
    char *err;

    world_init(serve_evidence, 5);
    W.file0_http = file0_http;
    W.file0_engine = file0_engine;
    for (size_t i = 0; i < NFILES; i++) {
        snprintf(file, sizeof(file), "junk %zu\n", i);
        assert_int_equal(gl_evidence_id(file, strlen(file), W.ids[i]), 0);
    }
    assert_int_equal(gl_signer_generate("a.example/log", GL_KEY_NOTE, &lk), 0);
    assert_int_equal(gl_signer_generate("p.example", GL_KEY_COSIG, &pk), 0);
    tu_vkey_text(&lk, vk, sizeof(vk));
    snprintf(text, sizeof(text), "logs/v0\nvkey %s\n", vk);
    assert_int_equal(logs_parse(text, strlen(text), &logs, &why), 0);
    tu_vkey_text(&pk, vk, sizeof(vk));
    snprintf(text, sizeof(text), "witness p %s http://peer.test\n", vk);
    assert_int_equal(peers_parse(text, strlen(text), &peers, &why), 0);

    err = run_rounds(&logs, &peers, 1000);
    for (uint64_t r = 0; r < 5; r++) {
        n = fetched(r, got, NFILES + 1);
        assert_int_equal(n, want_fetched(r, retried, want));
        for (size_t i = 0; i < n; i++)
            assert_int_equal(got[i], want[i]);
    }
    /* the give-up line, once file 0 failed 3 rounds in a row; one line for
     * each file refused */
    assert_true((strstr(err, "could not be fetched in 3 rounds in a row") != NULL) ==
                retried);
    assert_int_equal(occurrences(err, "the engine refused split-view evidence"),
                     retried ? NFILES - 1 : NFILES);
    free(err);

    logs_release(&logs);
    peers_release(&peers);
    gl_signer_wipe(&lk);
    gl_signer_wipe(&pk);
    world_release();
}

static void test_evidence_fetch_failed(void **state)
{
    (void)state;
    evidence_rounds(500, 422, 1); /* the peer answers 500: no file */
}

static void test_evidence_engine_500(void **state)
{
    (void)state;
    evidence_rounds(200, 500, 1); /* the engine could not check it */
    evidence_rounds(200, 503, 1); /* nor store it */
}

static void test_evidence_refused_not_retried(void **state)
{
    (void)state;
    evidence_rounds(200, 422, 0);
}

/* --- counters across a reload ------------------------------------------------------- */

/* A feeder started from counters (a reload's, from the feeder it
 * replaces) goes on from them: a counter never drops. */
static void test_counters_start(void **state)
{
    struct gl_signer lk;
    struct logs_list logs;
    struct peers_list peers = {0};
    struct gl_err why;
    char vk[1024], text[2048];
    struct feeder_config fc = {&the_engine, &logs, &peers, 1, 1000, {0}};
    struct feeder_stats st;
    struct feeder *f = NULL;

    (void)state;
    world_init(serve_evidence, 1000);
    assert_int_equal(gl_signer_generate("a.example/log", GL_KEY_NOTE, &lk), 0);
    tu_vkey_text(&lk, vk, sizeof(vk));
    snprintf(text, sizeof(text), "logs/v0\nvkey %s\n", vk);
    assert_int_equal(logs_parse(text, strlen(text), &logs, &why), 0);
    fc.start = (struct feeder_stats){.rounds = 1000,
                                     .pulls = 7,
                                     .gossip_polls = 5,
                                     .evidence_imported = 2,
                                     .parts_late = 3};
    assert_int_equal(feeder_start(&fc, &f), 0);
    feeder_stats(f, &st);
    feeder_stop(f);
    assert_true(st.rounds >= 1000);
    assert_int_equal(st.pulls, 7);
    assert_int_equal(st.gossip_polls, 5);
    assert_int_equal(st.evidence_imported, 2);
    assert_int_equal(st.parts_late, 3);
    feeder_free(f);
    logs_release(&logs);
    gl_signer_wipe(&lk);
    world_release();
}

/* --- the gossip hold ---------------------------------------------------------------- */

static char hex_c[GL_HASH_HEX_LEN + 1];

static int serve_hold(const char *url, uint64_t round, struct gl_http_response *out,
                      long *sleep_ms)
{
    (void)round;
    (void)sleep_ms;
    if (strncmp(url, "http://c.test/", 14) == 0)
        return no_answer(out); /* its checkpoint, its proofs */
    if (strncmp(url, "http://peer.test/evidence", 25) == 0)
        return ok(out, "[]", 2);
    if (strncmp(url, "http://peer.test/", 17) == 0 && strstr(url, hex_c) != NULL)
        return ok(out, (const char *)W.peer_note.data, W.peer_note.len);
    return status_only(out, 404);
}

/* The first request of round r whose url starts with prefix (its index
 * in W.reqs), or SIZE_MAX. */
static size_t first_of(uint64_t r, const char *prefix)
{
    for (size_t i = 0; i < W.nreqs; i++)
        if (W.reqs[i].round == r && strncmp(W.reqs[i].url, prefix, strlen(prefix)) == 0)
            return i;
    return SIZE_MAX;
}

/* Logs a, b (no url) and c (url c.test, which never answers); the peer
 * has nothing for a and b, and a size 8 of c (ours: 4). Parts: the pull
 * of c, the peer. Round 0 (the pull first): c gives no answer, so the
 * peer's gossip (a, b, then c) has c's proof refused: held at c. Round 1
 * (the peer first): its gossip polls c first, and c's proof is then the
 * log's first request of the round (it gives no answer: c is down), so
 * the pull of c after it is skipped with its info line, not made. */
static void test_gossip_hold(void **state)
{
    struct gl_signer ka, kb, kc, pk;
    struct logs_list logs;
    struct peers_list peers;
    struct gl_err why;
    char va[1024], vb[1024], vc[1024], text[4096];
    size_t first, proof;
    char *err;

    (void)state;
    world_init(serve_hold, 2);
    assert_int_equal(gl_signer_generate("a.example/log", GL_KEY_NOTE, &ka), 0);
    assert_int_equal(gl_signer_generate("b.example/log", GL_KEY_NOTE, &kb), 0);
    assert_int_equal(gl_signer_generate("c.example/log", GL_KEY_NOTE, &kc), 0);
    assert_int_equal(gl_signer_generate("p.example", GL_KEY_COSIG, &pk), 0);
    tu_vkey_text(&ka, va, sizeof(va));
    tu_vkey_text(&kb, vb, sizeof(vb));
    tu_vkey_text(&kc, vc, sizeof(vc));
    snprintf(text, sizeof(text),
             "logs/v0\nvkey %s\nvkey %s\nvkey %s\nurl http://c.test\n", va, vb, vc);
    assert_int_equal(logs_parse(text, strlen(text), &logs, &why), 0);
    assert_int_equal(logs.n, 3);
    assert_string_equal(logs.v[2].origin, "c.example/log");
    tu_vkey_text(&pk, va, sizeof(va));
    snprintf(text, sizeof(text), "witness p %s http://peer.test\n", va);
    assert_int_equal(peers_parse(text, strlen(text), &peers, &why), 0);
    gl_hex_encode(logs.v[2].origin_hash, GL_HASH_LEN, hex_c, sizeof(hex_c));
    mine(2, &kc);
    checkpoint(&kc, 8, 8, &pk, &W.peer_note);

    err = run_rounds(&logs, &peers, 1000); /* info lines are logged by default */
    /* round 0: the pull first, then the gossip a, b, c; c's proof refused */
    assert_int_equal(first_of(0, "http://c.test/"), first_of(0, "http://"));
    assert_int_equal(count(0, "http://c.test/checkpoint"), 1);
    assert_int_equal(first_of(0, "http://c.test/api/"), SIZE_MAX);
    /* round 1: the peer first, its gossip at c, c's proof asked */
    first = first_of(1, "http://");
    assert_true(first != SIZE_MAX);
    assert_non_null(strstr(W.reqs[first].url, hex_c));
    proof = first_of(1, "http://c.test/");
    assert_true(proof != SIZE_MAX);
    assert_non_null(strstr(W.reqs[proof].url, "/api/v1/proof/consistency?first=4"));
    /* and the pull of c, after it, not made: one info line */
    assert_int_equal(count(1, "http://c.test/checkpoint"), 0);
    assert_non_null(strstr(err, "c.example/log: not pulled this round: its url gave no "
                                "answer earlier in it"));
    free(err);

    logs_release(&logs);
    peers_release(&peers);
    gl_signer_wipe(&ka);
    gl_signer_wipe(&kb);
    gl_signer_wipe(&kc);
    gl_signer_wipe(&pk);
    world_release();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefix_root_past_cap),
        cmocka_unit_test(test_evidence_fetch_failed),
        cmocka_unit_test(test_evidence_engine_500),
        cmocka_unit_test(test_evidence_refused_not_retried),
        cmocka_unit_test(test_counters_start),
        cmocka_unit_test(test_gossip_hold),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * loadgen: load generator and end-to-end checker for glasslogd (the
 * figures of tests/bench/bench_log.sh). Subcommands:
 *
 *   append      pre-builds and signs N distinct statements (before the
 *               clock starts: signing is the client's cost, not the log's),
 *               posts them over C keep-alive connections, one request in
 *               flight per connection, and reports throughput and latency.
 *               With several --log URLs (repeated, or a comma list: the
 *               front-ends of one log), connection i posts to URL i mod
 *               the number of URLs (round robin), and the rate of each URL
 *               is reported besides the total.
 *               Closed loop by default (a connection posts its next
 *               statement as soon as it has an answer); with --rate R,
 *               open loop: statement i is due at i/R seconds, whatever the
 *               answers, and its latency counts from that due time (so a
 *               log that falls behind shows it, even while every connection
 *               is busy: no coordinated omission).
 *   verify      fetches /checkpoint and K random entries with inclusion
 *               proofs by index, and checks them all with the library.
 *   ref-verify  the same-run reference figure: Ed25519 verifies/s on all
 *               cores over statement-sized messages, and the CPU time of
 *               one verification (thread CPU time, immune to the other
 *               loads of a shared machine).
 *
 * Design of `append`. One thread drives a libcurl multi handle in
 * multi-socket mode over epoll, so a wakeup costs only the sockets that
 * are ready (curl_multi_perform would poll() every handle each time) and
 * the generator stays cheap next to the server it shares the machine with.
 * Each connection is a slot owning one easy handle and at most one
 * statement; a slot that finishes takes the next statement at once.
 * Transport errors and 5xx answers re-post the SAME bytes from the same
 * slot after a back-off (503: after its Retry-After, capped), until
 * --timeout seconds after the statement's first attempt; the log's
 * deduplication makes that safe. Latency is per statement, from its first
 * attempt to its final answer, so retries show in the tail.
 *
 * Every 200 answer is checked at once (its leaf_hash must be the leaf hash
 * of the bytes posted) and, with --ack-log, its "<index> <leaf hash hex>"
 * line is written with write(2) before anything else happens, so a test
 * that kill -9s the log can check every acknowledged entry. Proofs
 * (--log-vkey) are checked after the clock stops: gl_tlogproof_verify once
 * per distinct checkpoint text, the inclusion proof of every answer
 * against that verified checkpoint (the same checks, without re-verifying
 * one signature thousands of times). Distinct statements must get
 * distinct indices.
 *
 * Statement i is a pure function of (key, seed, prefix, i): kind build,
 * subject <prefix>-<i>, version s<seed>, sha256 = SHA-256("glasslog
 * loadgen <seed> <i>"), a fixed time. Re-running with the same seed posts
 * identical bytes (the log answers them as duplicates).
 *
 * This tool includes curl/curl.h itself: the lib/net adapter has no multi
 * interface, and a load generator needs one. `verify` uses the adapter.
 *
 * Output: "bench <name> <value> <unit>" lines on stdout, counts on stderr.
 * Exit status (as glasslog's): 0 ok, 2 a verification failure (wrong leaf
 * hash, bad proof, malformed answer, an index given twice), 3 usage, I/O
 * or network errors (also appends refused or given up on).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "file.h"
#include "json.h"
#include "glasslog/checkpoint.h"
#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/key.h"
#include "glasslog/merkle.h"
#include "glasslog/sha256.h"
#include "glasslog/statement.h"
#include "glasslog/tlogproof.h"
#include "http_client.h"
#include "clock.h"

#define EXIT_VERIFY 2
#define EXIT_USAGE 3

#define MAX_N 10000000L /* statements per run */
#define MAX_C 1024L     /* connections */
#define MAX_THREADS 256L
#define MAX_PREFIX 200 /* bytes of --subject-prefix */
#define URL_MAX 2048
#define RESPONSE_MAX (1 << 20)
#define FIXED_TIME 1700000000 /* the statements' time field */
#define REQ_TIMEOUT_MS 30000L /* one HTTP exchange */
#define BACKOFF_FIRST 0.05    /* seconds, doubling ... */
#define BACKOFF_MAX 2.0       /* ... up to this */
#define RETRY_AFTER_MAX 5.0   /* cap on a 503's Retry-After */
#define WAIT_MAX 0.1          /* longest epoll_wait, seconds */
#define EVENTS 64
#define MAX_MESSAGES 5 /* error messages printed per kind */
#define MAX_LOGS 16    /* --log URLs of one run */

static const char usage[] =
    "usage: loadgen append --log URL[,URL...] --key SUBMITTER_KEY -n N -c C\n"
    "         [--log-vkey VKEY]\n"
    "         [--ack-log FILE] [--seed S] [--subject-prefix P] [--timeout SEC]\n"
    "         [--rate R] [--label NAME]\n"
    "       loadgen verify --log URL --log-vkey VKEY -n K [--seed S]\n"
    "       loadgen ref-verify [-t THREADS] [--seconds SEC]\n"
    "\n"
    "append      sign N distinct statements, post them over C keep-alive connections;\n"
    "            prints append_durable (appends/s), append_p50_ms, append_p99_ms\n"
    "  --log URL        repeatable, or a comma list (at most 16): the front-ends of\n"
    "                   one log; connections go round robin, rates per URL on stderr\n"
    "  --log-vkey VKEY  check every returned tlog-proof (key or @FILE)\n"
    "  --ack-log FILE   append '<index> <leaf_hash>' per acknowledged entry\n"
    "  --seed S         statement contents (default: random); same seed, same bytes\n"
    "  --timeout SEC    give up on a statement SEC s after its first attempt (30)\n"
    "  --rate R         open loop: post R statements per second (fractions allowed)\n"
    "  --label NAME     name the figures NAME_* instead of append_*, and add\n"
    "                   NAME_acked_fraction\n"
    "verify      check K random entries and inclusion proofs against /checkpoint\n"
    "ref-verify  Ed25519 verifies/s on THREADS threads (default: all cores)\n"
    "            and the thread CPU time of one verify\n"
    "            for SEC seconds (3)\n"
    "Exit: 0 ok, 2 verification failure, 3 usage, I/O or network error.\n";

struct opts {
    const char *log; /* the first of logs */
    const char *logs[MAX_LOGS];
    size_t nlogs;
    const char *key, *vkey, *ack_log, *prefix, *label;
    uint64_t seed;
    long n, c, threads;
    double seconds, timeout_s, rate;
};

static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static long ncpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : n;
}

/* --- options ---------------------------------------------------------------- */

static int parse_long(const char *what, const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != 0 || v < lo || v > hi) {
        fprintf(stderr, "loadgen: %s must be an integer from %ld to %ld, not '%s'\n",
                what, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_u64(const char *what, const char *s, uint64_t *out)
{
    if (gl_parse_u64(s, strlen(s), out) != 0) {
        fprintf(stderr, "loadgen: %s must be a decimal number, not '%s'\n", what, s);
        return -1;
    }
    return 0;
}

static int parse_rate(const char *s, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s || *end != 0 || !(v >= 0.01 && v <= 1e6)) {
        fprintf(stderr,
                "loadgen: --rate must be a number from 0.01 to 1000000, not '%s'\n", s);
        return -1;
    }
    *out = v;
    return 0;
}

static int prefix_valid(const char *p)
{
    size_t n = strlen(p);

    if (n == 0 || n > MAX_PREFIX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x21 || p[i] > 0x7e)
            return 0;
    return 1;
}

/* Adds the URLs of one --log argument (a comma list; split in place). */
static int add_logs(struct opts *o, char *arg)
{
    for (char *p = arg, *comma;; p = comma + 1) {
        if ((comma = strchr(p, ',')) != NULL)
            *comma = 0;
        if (*p == 0 || o->nlogs == MAX_LOGS) {
            fprintf(stderr, "loadgen: --log wants 1 to %d non-empty URLs\n", MAX_LOGS);
            return -1;
        }
        o->logs[o->nlogs++] = p;
        if (comma == NULL)
            break;
    }
    o->log = o->logs[0];
    return 0;
}

/* Parses the options after the subcommand; 1 for --help, -1 on error. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {
        {"log", required_argument, NULL, 'l'},
        {"key", required_argument, NULL, 'k'},
        {"log-vkey", required_argument, NULL, 'V'},
        {"ack-log", required_argument, NULL, 'a'},
        {"seed", required_argument, NULL, 's'},
        {"subject-prefix", required_argument, NULL, 'p'},
        {"timeout", required_argument, NULL, 'T'},
        {"seconds", required_argument, NULL, 'S'},
        {"rate", required_argument, NULL, 'r'},
        {"label", required_argument, NULL, 'L'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long v = 0;
    int c;

    memset(o, 0, sizeof(*o));
    o->prefix = "loadgen";
    o->label = "append";
    o->timeout_s = 30;
    o->seconds = 3;
    o->threads = ncpus();
    o->seed = (uint64_t)time(NULL) * 1000003u ^ (uint64_t)getpid() << 20;
    o->seed %= 1000000000000ULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:c:t:h", lo, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'l':
            bad = add_logs(o, optarg);
            break;
        case 'k':
            o->key = optarg;
            break;
        case 'V':
            o->vkey = optarg;
            break;
        case 'a':
            o->ack_log = optarg;
            break;
        case 'p':
            o->prefix = optarg;
            break;
        case 's':
            bad = parse_u64("--seed", optarg, &o->seed);
            break;
        case 'n':
            bad = parse_long("-n", optarg, 1, MAX_N, &o->n);
            break;
        case 'c':
            bad = parse_long("-c", optarg, 1, MAX_C, &o->c);
            break;
        case 't':
            bad = parse_long("-t", optarg, 1, MAX_THREADS, &o->threads);
            break;
        case 'T':
            if ((bad = parse_long("--timeout", optarg, 1, 3600, &v)) == 0)
                o->timeout_s = (double)v;
            break;
        case 'S':
            if ((bad = parse_long("--seconds", optarg, 1, 600, &v)) == 0)
                o->seconds = (double)v;
            break;
        case 'r':
            bad = parse_rate(optarg, &o->rate);
            break;
        case 'L':
            o->label = optarg;
            bad = prefix_valid(optarg) ? 0 : -1;
            break;
        case 'h':
            fputs(usage, stdout);
            return 1;
        default:
            bad = -1;
            break;
        }
        if (bad != 0)
            return -1;
    }
    if (optind != argc) {
        fprintf(stderr, "loadgen: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (!prefix_valid(o->prefix)) {
        fprintf(stderr, "loadgen: --subject-prefix must be 1..%d bytes 0x21-0x7e\n",
                MAX_PREFIX);
        return -1;
    }
    return 0;
}

static int load_vkey(const char *arg, struct gl_verifier *out)
{
    struct gl_buf b;
    int rc;

    gl_buf_init(&b, GL_KEY_TEXT_MAX + 1);
    if (arg[0] == '@')
        rc = gl_file_read(arg + 1, &b);
    else
        rc = gl_buf_append_str(&b, arg);
    if (rc == 0)
        rc = gl_verifier_parse((const char *)b.data, b.len, out, NULL);
    if (rc != 0)
        fprintf(stderr, "loadgen: %s: not a verifier key or @FILE (%s)\n", arg,
                gl_strerror(rc));
    gl_buf_release(&b);
    return rc;
}

/* base + "/" + path (base's trailing "/" kept single) into out[URL_MAX]. */
static int make_url(const char *base, const char *path, char *out)
{
    size_t n = strlen(base);
    int w = snprintf(out, URL_MAX, "%s%s%s", base, n > 0 && base[n - 1] == '/' ? "" : "/",
                     path);

    if (w < 0 || w >= URL_MAX) {
        fprintf(stderr, "loadgen: --log URL too long\n");
        return GL_ETOOBIG;
    }
    return 0;
}

/* --- statements ------------------------------------------------------------- */

enum { ST_PENDING = 0, ST_OK, ST_FAILED };

struct stmt {
    uint8_t *data; /* the signed statement, owned */
    size_t len;
    uint8_t leaf[GL_HASH_LEN];
    char *proof; /* the 200 answer's tlog-proof (with --log-vkey), owned */
    uint64_t index;
    double t_first; /* first attempt; 0 before */
    double latency; /* seconds, first attempt to final answer */
    int state, dup;
};

/* Builds and signs statement i into *st (see the top comment). */
static int make_statement(const struct opts *o, const struct gl_signer *k, size_t i,
                          struct stmt *st)
{
    struct gl_statement_fields f;
    char subject[MAX_PREFIX + 32], version[32], digest_in[96];
    struct gl_err why = {0, ""};
    struct gl_buf b;
    int rc, dn;

    memset(&f, 0, sizeof(f));
    f.kind = GL_STATEMENT_BUILD;
    snprintf(subject, sizeof(subject), "%s-%zu", o->prefix, i);
    snprintf(version, sizeof(version), "s%llu", (unsigned long long)o->seed);
    dn = snprintf(digest_in, sizeof(digest_in), "glasslog loadgen %llu %zu",
                  (unsigned long long)o->seed, i);
    f.subject = subject;
    f.subject_len = strlen(subject);
    f.version = version;
    f.version_len = strlen(version);
    f.time = FIXED_TIME;
    gl_buf_init(&b, GL_STATEMENT_MAX_SIZE);
    if ((rc = gl_sha256(digest_in, (size_t)dn, f.sha256)) == 0 &&
        (rc = gl_statement_sign(&f, k, &b, &why)) == 0 &&
        (rc = gl_merkle_leaf_hash(b.data, b.len, st->leaf)) == 0)
        rc = gl_buf_detach(&b, &st->data, &st->len);
    if (rc != 0)
        fprintf(stderr, "loadgen: cannot make statement %zu: %s\n", i,
                why.reason[0] != 0 ? why.reason : gl_strerror(rc));
    gl_buf_release(&b);
    return rc;
}

struct sign_job {
    pthread_t th;
    const struct opts *o;
    const struct gl_signer *k;
    struct stmt *st;
    size_t n, from, step;
    int rc;
};

static void *sign_thread(void *arg)
{
    struct sign_job *j = arg;

    for (size_t i = j->from; i < j->n && j->rc == 0; i += j->step)
        j->rc = make_statement(j->o, j->k, i, &j->st[i]);
    return NULL;
}

/* Signs all n statements on all cores. */
static int presign(const struct opts *o, const struct gl_signer *k, struct stmt *st,
                   size_t n)
{
    struct sign_job jobs[MAX_THREADS];
    size_t nt = (size_t)ncpus(), started = 0;
    int rc = 0;

    for (size_t t = 0; t < nt; t++) {
        jobs[t] =
            (struct sign_job){.o = o, .k = k, .st = st, .n = n, .from = t, .step = nt};
        if (pthread_create(&jobs[t].th, NULL, sign_thread, &jobs[t]) != 0) {
            rc = GL_ENOMEM;
            break;
        }
        started++;
    }
    for (size_t t = 0; t < started; t++) {
        pthread_join(jobs[t].th, NULL);
        if (jobs[t].rc != 0)
            rc = jobs[t].rc;
    }
    return rc;
}

static void stmts_free(struct stmt *st, size_t n)
{
    if (st == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        free(st[i].data);
        free(st[i].proof);
    }
    free(st);
}

/* --- the append engine ------------------------------------------------------ */

struct counts {
    uint64_t ok, dup, retries, transport, http503, http5xx, refused, gaveup;
    uint64_t bad_answer, wrong_leaf, bad_proof, same_index, ack_fail;
    uint64_t connects; /* TCP connections opened (keep-alive check) */
};

struct engine;

struct slot {
    CURL *e;
    struct engine *g;
    size_t log;      /* the URL it posts to: its index mod nlogs */
    struct stmt *st; /* NULL when idle */
    struct gl_buf body;
    double ready_at; /* when st may be (re)posted */
    double backoff;
    int busy; /* added to the multi handle */
    char err[CURL_ERROR_SIZE];
};

struct engine {
    const struct opts *o;
    CURLM *m;
    int ep;          /* epoll */
    double timer_at; /* curl's timer, < 0 when none */
    struct curl_slist *hdrs;
    char (*urls)[URL_MAX]; /* api/v1/add of each --log */
    size_t nlogs;
    uint64_t ok_by_log[MAX_LOGS];
    struct stmt *st;
    size_t n, next, finished;
    struct slot *slots;
    size_t nslots;
    int ack_fd; /* -1 without --ack-log */
    struct counts c;
    uint64_t messages;
    double t0, t_end;
    double t_progress; /* last HTTP answer of any status (or the start) */
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
    struct slot *s = arg;

    return gl_buf_append(&s->body, p, size * nmemb) == 0 ? size * nmemb : 0;
}

/* curl's socket callback: mirrors the sockets curl wants into epoll. */
static int on_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct engine *g = userp;
    struct epoll_event ev;

    (void)e;
    (void)socketp;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(g->ep, EPOLL_CTL_DEL, fd, NULL);
        return 0;
    }
    memset(&ev, 0, sizeof(ev));
    ev.events =
        (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
    ev.data.fd = fd;
    if (epoll_ctl(g->ep, EPOLL_CTL_MOD, fd, &ev) != 0 &&
        (errno != ENOENT || epoll_ctl(g->ep, EPOLL_CTL_ADD, fd, &ev) != 0)) {
        perror("loadgen: epoll_ctl");
        return -1;
    }
    return 0;
}

/* curl's timer callback: ms < 0 deletes the timer. */
static int on_timer(CURLM *m, long ms, void *userp)
{
    struct engine *g = userp;

    (void)m;
    g->timer_at = ms < 0 ? -1 : gl_clock_mono() + (double)ms / 1000;
    return 0;
}

/* Prints the first MAX_MESSAGES problems of a run; the counts say the rest. */
static void say(struct engine *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(struct engine *g, const char *fmt, ...)
{
    va_list ap;

    if (g->messages++ >= MAX_MESSAGES)
        return;
    va_start(ap, fmt);
    fputs("loadgen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int slot_init(struct engine *g, struct slot *s)
{
    s->g = g;
    gl_buf_init(&s->body, RESPONSE_MAX);
    if ((s->e = curl_easy_init()) == NULL)
        return GL_ENOMEM;
    if (curl_easy_setopt(s->e, CURLOPT_URL, g->urls[s->log]) != CURLE_OK ||
        curl_easy_setopt(s->e, CURLOPT_HTTPHEADER, g->hdrs) != CURLE_OK ||
        curl_easy_setopt(s->e, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
        curl_easy_setopt(s->e, CURLOPT_WRITEDATA, s) != CURLE_OK ||
        curl_easy_setopt(s->e, CURLOPT_PRIVATE, s) != CURLE_OK ||
        curl_easy_setopt(s->e, CURLOPT_ERRORBUFFER, s->err) != CURLE_OK ||
        curl_easy_setopt(s->e, CURLOPT_TIMEOUT_MS, REQ_TIMEOUT_MS) != CURLE_OK ||
        curl_easy_setopt(s->e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(s->e, CURLOPT_TCP_NODELAY, 1L) != CURLE_OK ||
        curl_easy_setopt(s->e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK)
        return GL_EIO;
    return 0;
}

static int engine_init(struct engine *g, const struct opts *o, struct stmt *st, size_t n)
{
    memset(g, 0, sizeof(*g));
    g->o = o;
    g->st = st;
    g->n = n;
    g->ep = -1;
    g->ack_fd = -1;
    g->timer_at = -1;
    g->nslots = (size_t)o->c;
    g->nlogs = o->nlogs;
    if ((g->urls = calloc(g->nlogs, sizeof(*g->urls))) == NULL)
        return GL_ENOMEM;
    for (size_t i = 0; i < g->nlogs; i++)
        if (make_url(o->logs[i], "api/v1/add", g->urls[i]) != 0)
            return GL_EINVAL;
    if (o->ack_log != NULL &&
        (g->ack_fd = open(o->ack_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) <
            0) {
        fprintf(stderr, "loadgen: cannot open %s: %s\n", o->ack_log, strerror(errno));
        return GL_EIO;
    }
    if ((g->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
        (g->m = curl_multi_init()) == NULL ||
        (g->hdrs = curl_slist_append(NULL, "Expect:")) == NULL ||
        curl_slist_append(g->hdrs, "Content-Type: text/plain") == NULL ||
        (g->slots = calloc(g->nslots, sizeof(*g->slots))) == NULL)
        return GL_ENOMEM;
    curl_multi_setopt(g->m, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(g->m, CURLMOPT_SOCKETDATA, g);
    curl_multi_setopt(g->m, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(g->m, CURLMOPT_TIMERDATA, g);
    curl_multi_setopt(g->m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)g->nslots);
    curl_multi_setopt(g->m, CURLMOPT_MAXCONNECTS, (long)g->nslots);
    for (size_t i = 0; i < g->nslots; i++) {
        g->slots[i].log = i % g->nlogs; /* round robin */
        if (slot_init(g, &g->slots[i]) != 0)
            return GL_EIO;
    }
    return 0;
}

static void engine_release(struct engine *g)
{
    for (size_t i = 0; g->slots != NULL && i < g->nslots; i++) {
        if (g->slots[i].busy)
            curl_multi_remove_handle(g->m, g->slots[i].e);
        curl_easy_cleanup(g->slots[i].e);
        gl_buf_release(&g->slots[i].body);
    }
    free(g->slots);
    free(g->urls);
    if (g->m != NULL)
        curl_multi_cleanup(g->m);
    curl_slist_free_all(g->hdrs);
    if (g->ep >= 0)
        close(g->ep);
    if (g->ack_fd >= 0)
        close(g->ack_fd);
}

static void slot_finish(struct engine *g, struct slot *s, int state, double t)
{
    s->st->state = state;
    s->st->latency = t - s->st->t_first;
    s->st = NULL;
    g->finished++;
    g->t_end = t;
}

/* Schedules a re-post of the same bytes, or gives up past --timeout. */
static void slot_retry(struct engine *g, struct slot *s, double t, double retry_after)
{
    double wait = retry_after > 0 ? fmin(retry_after, RETRY_AFTER_MAX) : s->backoff;

    if (t + wait - s->st->t_first > g->o->timeout_s) {
        g->c.gaveup++;
        say(g, "gave up on a statement after %.0f s of retries", g->o->timeout_s);
        slot_finish(g, s, ST_FAILED, t);
        return;
    }
    g->c.retries++;
    s->ready_at = t + wait;
    if (retry_after <= 0)
        s->backoff = fmin(s->backoff * 2, BACKOFF_MAX);
}

/* Writes "<index> <leaf hex>\n" to the ack log in one write(2). */
static int ack_write(struct engine *g, uint64_t index, const uint8_t leaf[GL_HASH_LEN])
{
    char line[96], hex[GL_HASH_HEX_LEN + 1];
    int n;

    if (g->ack_fd < 0)
        return 0;
    gl_hex_encode(leaf, GL_HASH_LEN, hex, sizeof(hex));
    n = snprintf(line, sizeof(line), "%llu %s\n", (unsigned long long)index, hex);
    for (int off = 0; off < n;) {
        ssize_t w = write(g->ack_fd, line + off, (size_t)(n - off));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return GL_EIO;
        off += (int)w;
    }
    return 0;
}

/* Checks a 200 answer: index, leaf_hash (must be ours), duplicate, proof. */
static void slot_answer(struct engine *g, struct slot *s, double t)
{
    struct stmt *st = s->st;
    cJSON *j = cJSON_ParseWithLength((const char *)s->body.data, s->body.len);
    const cJSON *idx = cJSON_GetObjectItemCaseSensitive(j, "index");
    const cJSON *lh = cJSON_GetObjectItemCaseSensitive(j, "leaf_hash");
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(j, "proof");
    uint8_t got[GL_HASH_LEN];
    int state = ST_FAILED;

    if (!cJSON_IsNumber(idx) || idx->valuedouble < 0 ||
        idx->valuedouble > 9007199254740991.0 ||
        idx->valuedouble != floor(idx->valuedouble) || !cJSON_IsString(lh) ||
        !cJSON_IsString(pr) ||
        gl_hex_decode_exact(lh->valuestring, strlen(lh->valuestring), got, GL_HASH_LEN,
                            1) != 0) {
        g->c.bad_answer++;
        say(g, "malformed 200 answer (%zu bytes)", s->body.len);
    } else if (memcmp(got, st->leaf, GL_HASH_LEN) != 0) {
        g->c.wrong_leaf++;
        say(g, "the log answered leaf_hash %s for another leaf (index %.0f)",
            lh->valuestring, idx->valuedouble);
    } else {
        st->index = (uint64_t)idx->valuedouble;
        if (ack_write(g, st->index, st->leaf) != 0)
            g->c.ack_fail++;
        st->dup = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "duplicate"));
        g->c.dup += (uint64_t)st->dup;
        g->c.ok++;
        g->ok_by_log[s->log]++;
        state = ST_OK;
        if (g->o->vkey != NULL && (st->proof = strdup(pr->valuestring)) == NULL)
            g->c.bad_proof++;
    }
    cJSON_Delete(j);
    slot_finish(g, s, state, t);
}

/* A transfer of slot s ended with res. */
static void slot_done(struct engine *g, struct slot *s, CURLcode res)
{
    double t = gl_clock_mono();
    curl_off_t ra = 0;
    long status = 0, connects = 0;

    if (curl_easy_getinfo(s->e, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK)
        g->c.connects += (uint64_t)connects;

    if (res != CURLE_OK) {
        g->c.transport++;
        say(g, "transport error: %s", s->err[0] ? s->err : curl_easy_strerror(res));
        slot_retry(g, s, t, 0);
        return;
    }
    g->t_progress = t;
    curl_easy_getinfo(s->e, CURLINFO_RESPONSE_CODE, &status);
    if (status == 503) {
        g->c.http503++;
        curl_easy_getinfo(s->e, CURLINFO_RETRY_AFTER, &ra);
        slot_retry(g, s, t, ra > 0 ? (double)ra : BACKOFF_FIRST);
    } else if (status >= 500) {
        g->c.http5xx++;
        slot_retry(g, s, t, 0);
    } else if (status != 200) {
        g->c.refused++;
        say(g, "the log refused a statement: %.200s (HTTP %ld)",
            s->body.data ? (const char *)s->body.data : "", status);
        slot_finish(g, s, ST_FAILED, t);
    } else {
        slot_answer(g, s, t);
    }
}

static void collect_done(struct engine *g)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(g->m, &left)) != NULL) {
        CURL *e = msg->easy_handle;
        CURLcode res = msg->data.result;
        struct slot *s = NULL;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&s);
        curl_multi_remove_handle(g->m, e);
        s->busy = 0;
        slot_done(g, s, res);
    }
}

/* When statement i is due: at once in a closed loop, at i/rate open. */
static double due(const struct engine *g, size_t i)
{
    return g->o->rate > 0 ? g->t0 + (double)i / g->o->rate : 0;
}

/* Starts every idle slot that has (or can take) a statement due by t. */
static int start_slots(struct engine *g, double t)
{
    for (size_t i = 0; i < g->nslots; i++) {
        struct slot *s = &g->slots[i];
        if (s->busy)
            continue;
        if (s->st == NULL && g->next < g->n && t >= due(g, g->next)) {
            s->st = &g->st[g->next];
            s->st->t_first = g->o->rate > 0 ? due(g, g->next) : 0;
            g->next++;
            s->ready_at = 0;
            s->backoff = BACKOFF_FIRST;
        }
        if (s->st == NULL || t < s->ready_at)
            continue;
        gl_buf_reset(&s->body);
        s->err[0] = 0;
        curl_easy_setopt(s->e, CURLOPT_POSTFIELDSIZE, (long)s->st->len);
        curl_easy_setopt(s->e, CURLOPT_POSTFIELDS, s->st->data);
        if (curl_multi_add_handle(g->m, s->e) != CURLM_OK)
            return GL_EIO;
        s->busy = 1;
        if (s->st->t_first == 0)
            s->st->t_first = t;
    }
    return 0;
}

/* Seconds until something is due: curl's timer or a slot's back-off. */
static double next_wakeup(const struct engine *g, double t)
{
    double w = WAIT_MAX;

    if (g->timer_at >= 0)
        w = fmin(w, g->timer_at - t);
    for (size_t i = 0; i < g->nslots; i++)
        if (!g->slots[i].busy && g->slots[i].st != NULL)
            w = fmin(w, g->slots[i].ready_at - t);
    if (g->o->rate > 0 && g->next < g->n)
        w = fmin(w, due(g, g->next) - t);
    return w < 0 ? 0 : w;
}

/* The log has answered nothing for --timeout seconds (plus the longest
 * Retry-After we honour): it is down. Every
 * statement not answered yet is given up, so a dead log ends the run in
 * bounded time instead of --timeout per remaining statement. */
static void engine_abort(struct engine *g)
{
    for (size_t i = 0; i < g->nslots; i++) {
        struct slot *s = &g->slots[i];
        if (s->busy)
            curl_multi_remove_handle(g->m, s->e);
        s->busy = 0;
        s->st = NULL;
    }
    fprintf(stderr,
            "loadgen: no answer from the log for %.0f s: giving up on the %zu "
            "statements left\n",
            g->o->timeout_s + RETRY_AFTER_MAX, g->n - g->finished);
    g->c.gaveup += g->n - g->finished;
    g->finished = g->n;
}

static int engine_run(struct engine *g)
{
    struct epoll_event ev[EVENTS];
    int running = 0;

    g->t0 = g->t_end = g->t_progress = gl_clock_mono();
    while (g->finished < g->n) {
        double t = gl_clock_mono();
        int k;

        if (t - g->t_progress > g->o->timeout_s + RETRY_AFTER_MAX) {
            engine_abort(g);
            break;
        }
        if (start_slots(g, t) != 0)
            return GL_EIO;
        k = epoll_wait(g->ep, ev, EVENTS, (int)ceil(next_wakeup(g, t) * 1000));
        if (k < 0 && errno != EINTR) {
            perror("loadgen: epoll_wait");
            return GL_EIO;
        }
        for (int i = 0; i < k; i++) {
            int mask = (ev[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                       (ev[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                       (ev[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
            curl_multi_socket_action(g->m, ev[i].data.fd, mask, &running);
        }
        if (g->timer_at >= 0 && gl_clock_mono() >= g->timer_at) {
            g->timer_at = -1;
            curl_multi_socket_action(g->m, CURL_SOCKET_TIMEOUT, 0, &running);
        }
        collect_done(g);
    }
    return 0;
}

/* --- results ----------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[n], n > 0. */
static double percentile(const double *v, size_t n, double p)
{
    size_t r = (size_t)ceil(p / 100 * (double)n);

    return v[r == 0 ? 0 : r - 1];
}

static int print_figures(const struct engine *g)
{
    double *lat = malloc((g->n + 1) * sizeof(*lat)), secs = g->t_end - g->t0;
    size_t k = 0;

    if (lat == NULL)
        return GL_ENOMEM;
    for (size_t i = 0; i < g->n; i++)
        if (g->st[i].state == ST_OK)
            lat[k++] = g->st[i].latency;
    qsort(lat, k, sizeof(*lat), cmp_double);
    if (g->o->rate > 0)
        printf("bench %s_rate %.1f appends/s\n", g->o->label, g->o->rate);
    else
        printf("bench %s_durable %.0f appends/s\n", g->o->label,
               secs > 0 ? (double)k / secs : 0.0);
    printf("bench %s_p50_ms %.2f ms\n", g->o->label,
           k ? percentile(lat, k, 50) * 1000 : 0.0);
    printf("bench %s_p99_ms %.2f ms\n", g->o->label,
           k ? percentile(lat, k, 99) * 1000 : 0.0);
    if (strcmp(g->o->label, "append") != 0)
        printf("bench %s_acked_fraction %.4f ratio\n", g->o->label,
               g->n > 0 ? (double)k / (double)g->n : 0.0);
    fflush(stdout);
    free(lat);
    for (size_t i = 0; g->nlogs > 1 && i < g->nlogs; i++)
        fprintf(stderr, "loadgen: log %zu (%s): %llu appended, %.0f appends/s\n", i + 1,
                g->o->logs[i], (unsigned long long)g->ok_by_log[i],
                secs > 0 ? (double)g->ok_by_log[i] / secs : 0.0);
    fprintf(
        stderr,
        "loadgen: %llu/%zu appended (%llu duplicates) in %.2f s over %zu connections "
        "(%llu opened); "
        "retries %llu (transport errors %llu, 503 %llu, other 5xx %llu); refused %llu, "
        "gave up %llu\n",
        (unsigned long long)g->c.ok, g->n, (unsigned long long)g->c.dup, secs, g->nslots,
        (unsigned long long)g->c.connects, (unsigned long long)g->c.retries,
        (unsigned long long)g->c.transport, (unsigned long long)g->c.http503,
        (unsigned long long)g->c.http5xx, (unsigned long long)g->c.refused,
        (unsigned long long)g->c.gaveup);
    return 0;
}

/* Counts indices given to two different statements (all ours are
 * distinct, so their leaves are too). */
static int check_indices(struct engine *g)
{
    uint64_t *v = malloc((g->n + 1) * sizeof(*v));
    size_t k = 0;

    if (v == NULL)
        return GL_ENOMEM;
    for (size_t i = 0; i < g->n; i++)
        if (g->st[i].state == ST_OK)
            v[k++] = g->st[i].index;
    qsort(v, k, sizeof(*v), cmp_u64);
    for (size_t i = 1; i < k; i++)
        if (v[i] == v[i - 1]) {
            g->c.same_index++;
            say(g, "index %llu was given to two different statements",
                (unsigned long long)v[i]);
        }
    free(v);
    return 0;
}

/* Verifies one stored proof; cache holds the last checkpoint text that
 * verified, *cp its contents. */
static int check_proof(const struct stmt *st, const struct gl_verifier *vk,
                       struct gl_buf *cache, struct gl_checkpoint *cp, uint64_t *nckpt)
{
    struct gl_tlogproof *tp = NULL;
    struct gl_err why;
    char msg[GL_ERR_REASON_MAX + 32];
    int rc = gl_tlogproof_parse(st->proof, strlen(st->proof), &tp, &why);

    if (rc == 0 && tp->index != st->index) {
        rc = gl_err_set(&why, GL_EVERIFY, 0, "index %llu, not %llu",
                        (unsigned long long)tp->index, (unsigned long long)st->index);
    } else if (rc == 0 && cache->len == tp->checkpoint_len && cache->len > 0 &&
               memcmp(cache->data, tp->checkpoint, cache->len) == 0) {
        rc = gl_merkle_verify_inclusion(tp->index, cp->size, st->leaf,
                                        (const uint8_t(*)[GL_HASH_LEN])tp->hashes,
                                        tp->nhashes, cp->root);
        if (rc != 0)
            gl_err_set(&why, rc, 0, "inclusion proof: %s", gl_strerror(rc));
    } else if (rc == 0 && (rc = gl_tlogproof_verify(tp, st->leaf, vk, cp, &why)) == 0) {
        gl_buf_reset(cache);
        (*nckpt)++;
        if (gl_buf_append(cache, tp->checkpoint, tp->checkpoint_len) != 0)
            gl_buf_reset(cache);
    }
    if (rc != 0)
        fprintf(stderr, "loadgen: the proof for index %llu does not verify: %s\n",
                (unsigned long long)st->index,
                gl_err_format(&why, NULL, msg, sizeof(msg)));
    gl_tlogproof_free(tp);
    return rc;
}

static int check_proofs(struct engine *g, const struct gl_verifier *vk)
{
    struct gl_checkpoint cp;
    struct gl_buf cache;
    uint64_t checked = 0, nckpt = 0, largest = 0;

    gl_buf_init(&cache, (size_t)GL_TLOGPROOF_MAX_SIZE);
    memset(&cp, 0, sizeof(cp));
    for (size_t i = 0; i < g->n; i++) {
        const struct stmt *st = &g->st[i];
        if (st->state != ST_OK || st->proof == NULL)
            continue;
        checked++;
        if (check_proof(st, vk, &cache, &cp, &nckpt) != 0) {
            if (++g->c.bad_proof >= MAX_MESSAGES)
                break; /* enough said: the run fails */
            continue;
        }
        largest = cp.size > largest ? cp.size : largest;
    }
    gl_buf_release(&cache);
    fprintf(stderr,
            "loadgen: %llu proofs checked against %llu distinct checkpoints "
            "(largest tree %llu), %llu bad%s\n",
            (unsigned long long)checked, (unsigned long long)nckpt,
            (unsigned long long)largest, (unsigned long long)g->c.bad_proof,
            g->c.bad_proof >= MAX_MESSAGES ? " (stopped there)" : "");
    return 0;
}

/* The exit status a finished run deserves. */
static int run_status(const struct engine *g)
{
    const struct counts *c = &g->c;

    if (c->bad_answer + c->wrong_leaf + c->bad_proof + c->same_index > 0) {
        fprintf(stderr,
                "loadgen: FAILED: %llu malformed answers, %llu wrong leaf hashes, "
                "%llu bad proofs, %llu indices given twice\n",
                (unsigned long long)c->bad_answer, (unsigned long long)c->wrong_leaf,
                (unsigned long long)c->bad_proof, (unsigned long long)c->same_index);
        return EXIT_VERIFY;
    }
    if (c->refused + c->gaveup + c->ack_fail > 0 || c->ok != g->n) {
        fprintf(stderr,
                "loadgen: FAILED: %zu of %zu statements not appended, %llu ack-log "
                "write failures\n",
                g->n - (size_t)c->ok, g->n, (unsigned long long)c->ack_fail);
        return EXIT_USAGE;
    }
    return 0;
}

static int cmd_append(const struct opts *o)
{
    struct gl_signer k;
    struct gl_verifier vk;
    struct engine g;
    struct stmt *st = NULL;
    size_t n = (size_t)o->n;
    int rc = EXIT_USAGE, lrc;

    memset(&g, 0, sizeof(g));
    g.ep = g.ack_fd = -1;
    if (o->log == NULL || o->key == NULL || o->n == 0 || o->c == 0) {
        fprintf(stderr, "loadgen: append needs --log, --key, -n and -c\n%s", usage);
        return EXIT_USAGE;
    }
    if ((size_t)o->c < o->nlogs) {
        fprintf(stderr, "loadgen: -c %ld is fewer connections than the %zu --log URLs\n",
                o->c, o->nlogs);
        return EXIT_USAGE;
    }
    if ((lrc = gl_file_load_signer(o->key, &k, NULL)) != 0) {
        fprintf(stderr, "loadgen: cannot load %s: %s\n", o->key, gl_strerror(lrc));
        return EXIT_USAGE;
    }
    if ((o->vkey != NULL && load_vkey(o->vkey, &vk) != 0) ||
        (st = calloc(n, sizeof(*st))) == NULL || presign(o, &k, st, n) != 0 ||
        curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
        engine_init(&g, o, st, n) != 0 || engine_run(&g) != 0)
        goto out;
    if (print_figures(&g) != 0 || check_indices(&g) != 0 ||
        (o->vkey != NULL && check_proofs(&g, &vk) != 0))
        goto out;
    rc = run_status(&g);
out:
    gl_signer_wipe(&k);
    engine_release(&g);
    stmts_free(st, n);
    return rc;
}

/* --- verify ------------------------------------------------------------------ */

/* GETs base/path into resp; 0 only for a 200. */
static int get_ok(struct gl_http_client *c, const char *base, const char *path,
                  struct gl_http_response *resp)
{
    char url[URL_MAX];
    int rc;

    if ((rc = make_url(base, path, url)) != 0)
        return rc;
    rc = gl_http_get(c, url, RESPONSE_MAX, REQ_TIMEOUT_MS, resp);
    if (rc != 0 || resp->status != 200) {
        fprintf(stderr, "loadgen: GET %s: %s\n", url,
                rc != 0 ? (resp->error[0] ? resp->error : gl_strerror(rc)) : "not 200");
        return rc != 0 ? rc : GL_EIO;
    }
    return 0;
}

/* Fetches entry i: checks its JSON and that its leaf_hash is the hash of
 * its statement, which must parse; leaf gets the hash. */
static int fetch_entry(struct gl_http_client *c, const char *base, uint64_t i,
                       uint8_t leaf[GL_HASH_LEN])
{
    struct gl_http_response r;
    struct gl_statement parsed;
    char path[64];
    uint8_t claimed[GL_HASH_LEN];
    cJSON *j = NULL;
    const cJSON *idx, *lh, *stj;
    int rc;

    memset(&r, 0, sizeof(r));
    snprintf(path, sizeof(path), "api/v1/entries/%llu", (unsigned long long)i);
    if ((rc = get_ok(c, base, path, &r)) != 0)
        goto out;
    rc = GL_EVERIFY;
    j = cJSON_ParseWithLength((const char *)r.body.data, r.body.len);
    idx = cJSON_GetObjectItemCaseSensitive(j, "index");
    lh = cJSON_GetObjectItemCaseSensitive(j, "leaf_hash");
    stj = cJSON_GetObjectItemCaseSensitive(j, "statement");
    if (!cJSON_IsNumber(idx) || idx->valuedouble != (double)i || !cJSON_IsString(lh) ||
        !cJSON_IsString(stj) ||
        gl_hex_decode_exact(lh->valuestring, strlen(lh->valuestring), claimed, 32, 1) !=
            0) {
        fprintf(stderr, "loadgen: entry %llu: malformed answer\n", (unsigned long long)i);
        goto out;
    }
    if (gl_merkle_leaf_hash(stj->valuestring, strlen(stj->valuestring), leaf) != 0 ||
        memcmp(leaf, claimed, GL_HASH_LEN) != 0 ||
        gl_statement_parse(stj->valuestring, strlen(stj->valuestring), &parsed, NULL) !=
            0) {
        fprintf(stderr,
                "loadgen: entry %llu: leaf_hash does not match the statement, or the "
                "statement does not parse\n",
                (unsigned long long)i);
        goto out;
    }
    rc = 0;
out:
    cJSON_Delete(j);
    gl_http_response_release(&r);
    return rc;
}

/* Decodes {"index", "tree_size", "hashes"} into proof/len, checking index
 * and size. */
static int decode_inclusion(const struct gl_http_response *r, uint64_t i, uint64_t size,
                            uint8_t (*proof)[GL_HASH_LEN], size_t *len)
{
    cJSON *j = cJSON_ParseWithLength((const char *)r->body.data, r->body.len);
    const cJSON *idx = cJSON_GetObjectItemCaseSensitive(j, "index");
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(j, "tree_size");
    int rc = GL_EVERIFY;

    *len = 0;
    if (!cJSON_IsNumber(idx) || idx->valuedouble != (double)i || !cJSON_IsNumber(ts) ||
        ts->valuedouble != (double)size ||
        gl_json_hashes(j, 1, proof, GL_MERKLE_MAX_PROOF, len) != 0)
        goto out;
    rc = 0;
out:
    cJSON_Delete(j);
    return rc;
}

static int verify_one(struct gl_http_client *c, const char *base,
                      const struct gl_checkpoint *cp, uint64_t i)
{
    uint8_t leaf[GL_HASH_LEN], proof[GL_MERKLE_MAX_PROOF][GL_HASH_LEN];
    struct gl_http_response r;
    char path[128];
    size_t len;
    int rc;

    memset(&r, 0, sizeof(r));
    if ((rc = fetch_entry(c, base, i, leaf)) != 0)
        return rc;
    snprintf(path, sizeof(path), "api/v1/proof/inclusion?index=%llu&tree_size=%llu",
             (unsigned long long)i, (unsigned long long)cp->size);
    if ((rc = get_ok(c, base, path, &r)) == 0 &&
        ((rc = decode_inclusion(&r, i, cp->size, proof, &len)) != 0 ||
         (rc = gl_merkle_verify_inclusion(i, cp->size, leaf, (const uint8_t(*)[32])proof,
                                          len, cp->root)) != 0))
        fprintf(stderr,
                "loadgen: the inclusion proof of entry %llu does not verify (%s)\n",
                (unsigned long long)i, gl_strerror(rc));
    gl_http_response_release(&r);
    return rc;
}

static int cmd_verify(const struct opts *o)
{
    struct gl_http_client *c = NULL;
    struct gl_http_response r;
    struct gl_verifier vk;
    struct gl_checkpoint cp;
    uint64_t s = o->seed, bad = 0, net = 0;
    int rc = EXIT_USAGE;

    memset(&r, 0, sizeof(r));
    if (o->log == NULL || o->vkey == NULL || o->n == 0 || o->nlogs > 1) {
        fprintf(stderr, "loadgen: verify needs one --log URL, --log-vkey and -n\n%s",
                usage);
        return EXIT_USAGE;
    }
    if (load_vkey(o->vkey, &vk) != 0 || gl_http_client_new(NULL, &c) != 0 ||
        get_ok(c, o->log, "checkpoint", &r) != 0)
        goto out;
    if (gl_checkpoint_open((const char *)r.body.data, r.body.len, &vk, &cp, NULL, NULL) !=
        0) {
        fprintf(stderr, "loadgen: the checkpoint is not signed by the log key\n");
        rc = EXIT_VERIFY;
        goto out;
    }
    if (cp.size == 0) {
        fprintf(stderr, "loadgen: the log is empty: nothing to verify\n");
        goto out;
    }
    for (long k = 0; k < o->n; k++) {
        int one = verify_one(c, o->log, &cp, rnd(&s) % cp.size);
        bad += one == GL_EVERIFY;
        net += one != 0 && one != GL_EVERIFY;
    }
    fprintf(stderr,
            "loadgen: %ld entries checked against tree size %llu: %llu bad, %llu "
            "unreachable\n",
            o->n, (unsigned long long)cp.size, (unsigned long long)bad,
            (unsigned long long)net);
    rc = bad > 0 ? EXIT_VERIFY : net > 0 ? EXIT_USAGE : 0;
out:
    gl_http_response_release(&r);
    gl_http_client_free(c);
    return rc;
}

/* --- ref-verify ---------------------------------------------------------------- */

struct refv_job {
    pthread_t th;
    const struct gl_statement *st; /* what the log verifies per append */
    const uint8_t *pub;
    double seconds, rate;
    double cpu_us; /* thread CPU time per verify, in microseconds */
    int rc;
};

/* The calling thread's CPU time in seconds. */
static double thread_cpu(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *refv_thread(void *arg)
{
    struct refv_job *j = arg;
    uint64_t n = 0;
    double t0 = gl_clock_mono(), c0 = thread_cpu(), t;

    do {
        for (int i = 0; i < 256; i++)
            if (gl_ed25519_verify(j->pub, j->st->text, j->st->text_len, j->st->sig.sig) !=
                0)
                j->rc = GL_EVERIFY;
        n += 256;
        t = gl_clock_mono() - t0;
    } while (t < j->seconds && j->rc == 0);
    j->rate = (double)n / t;
    j->cpu_us = (thread_cpu() - c0) * 1e6 / (double)n;
    return NULL;
}

static int cmd_ref_verify(const struct opts *o)
{
    struct refv_job jobs[MAX_THREADS];
    struct gl_signer k;
    struct gl_statement parsed;
    struct stmt st;
    double total = 0, cpu_us = 0;
    long started = 0;
    int rc = EXIT_USAGE;

    memset(&st, 0, sizeof(st));
    if (gl_signer_generate("bench.glasslog.test/submitter", GL_KEY_NOTE, &k) != 0 ||
        make_statement(o, &k, 0, &st) != 0 ||
        gl_statement_parse((const char *)st.data, st.len, &parsed, NULL) != 0)
        goto out;
    for (long t = 0; t < o->threads; t++) {
        jobs[t] = (struct refv_job){.st = &parsed, .pub = k.pub, .seconds = o->seconds};
        if (pthread_create(&jobs[t].th, NULL, refv_thread, &jobs[t]) != 0)
            break;
        started++;
    }
    rc = started == o->threads ? 0 : EXIT_USAGE;
    for (long t = 0; t < started; t++) {
        pthread_join(jobs[t].th, NULL);
        total += jobs[t].rate;
        cpu_us += jobs[t].cpu_us;
        if (jobs[t].rc != 0)
            rc = EXIT_VERIFY;
    }
    if (rc == 0) {
        printf("bench ref_ed25519_verify_allcores %.0f verifies/s\n", total);
        printf("bench ref_ed25519_verify_cpu_us %.3f us\n", cpu_us / (double)started);
        fprintf(stderr,
                "loadgen: %ld threads, %zu-byte statements (%zu-byte signed text)\n",
                o->threads, st.len, parsed.text_len);
    }
out:
    gl_signer_wipe(&k);
    free(st.data);
    return rc;
}

int main(int argc, char **argv)
{
    struct opts o;
    const char *cmd = argc > 1 ? argv[1] : "";
    int rc;

    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "append") != 0 && strcmp(cmd, "verify") != 0 &&
        strcmp(cmd, "ref-verify") != 0) {
        fprintf(stderr, "loadgen: unknown or missing subcommand '%s'\n%s", cmd, usage);
        return EXIT_USAGE;
    }
    if ((rc = parse_opts(argc - 1, argv + 1, &o)) != 0)
        return rc > 0 ? 0 : EXIT_USAGE;
    if (strcmp(cmd, "append") == 0)
        return cmd_append(&o);
    if (strcmp(cmd, "verify") == 0)
        return cmd_verify(&o);
    return cmd_ref_verify(&o);
}

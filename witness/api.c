/*
 * api: routing and handlers; see api.h.
 *
 * Replies of the tlog-witness endpoints are plain text (the protocol's
 * clients parse text; the 409 body is exactly "<size>\n" with Content-Type
 * text/x.tlog.size); the evidence list is JSON, served in pages of at most
 * EVIDENCE_PAGE entries (?from=&limit=, a Link header to the next page),
 * so no answer grows with the number of records. Paths are parsed, never
 * used as file names. Rate limits are token buckets per log, refilled at
 * qpd/86400 tokens per second, holding at most one minute's worth (at
 * least one); only validly signed requests that can change the witness's
 * record spend a token (a replay of what it holds does not).
 */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/evidence.h"
#include "glasslog/log.h"
#include "inflight.h"
#include "metrics.h"
#include "query.h"
#include "text.h"
#include "mirrorapi.h"
#include "mirrorpull.h"

#define TEXT "text/plain; charset=utf-8"
#define EVIDENCE_PAGE 256 /* GET /evidence: default and largest limit */

static const struct gl_http_header hdr_nostore[] = {{"Cache-Control", "no-store"}};

struct add_req {
    struct api *api;
    struct gl_http_pending *p; /* NULL until deferred */
    struct addr_key client;    /* whose place in api->adds it holds */
    uv_work_t work;
    size_t log;
    int open_rc;
    struct gl_err why; /* why addck_open failed */
    struct addck_req req;
    struct wreq w;
    struct add_req *next;
    size_t len;
    uint8_t body[];
};

/* --- small helpers --------------------------------------------------------------- */

static int reply_text(struct gl_http_req *req, struct gl_http_pending *p, int status,
                      const char *ctype, const char *text)
{
    size_t n = strlen(text);

    return p != NULL ? gl_http_pending_reply(p, status, ctype, hdr_nostore, 1, text, n)
                     : gl_http_reply(req, status, ctype, hdr_nostore, 1, text, n);
}

/* A reason line ("<why>\n") with status. */
static int reply_why(struct gl_http_req *req, struct gl_http_pending *p, int status,
                     const char *why)
{
    char line[512];

    snprintf(line, sizeof(line), "%s\n", why);
    return reply_text(req, p, status, TEXT, line);
}

/* A parser's refusal ("line N: reason\n", lines of the body) with status. */
static int reply_err(struct gl_http_req *req, struct gl_http_pending *p, int status,
                     const struct gl_err *e)
{
    char why[GL_ERR_REASON_MAX + 32];

    return reply_why(req, p, status, gl_err_format(e, NULL, why, sizeof(why)));
}

/* 1 if the request r (its checkpoint ck) can change what the witness
 * holds for log i: addck_decide, on the record as it stands, takes a
 * first checkpoint or a larger one, or finds a split view. Anything else
 * cannot: the engine answers it (400, 409, 422, or a cosignature of the
 * same tree, whatever its extension lines, at most one write per log per
 * 30 s), so it spends no token,
 * and a third party who posts the log's own public checkpoints (replayed,
 * with a wrong old size, or with a bad proof) cannot use up the log's
 * quota. The record may move before the engine decides; a request that
 * loses that race has spent its token. */
static int can_change(struct api *a, size_t i, const struct addck_req *r,
                      const struct gl_checkpoint *ck)
{
    struct engine_view v;
    struct addck_state st;
    const char *why;
    enum addck_verdict d;

    if (engine_view(a->engine, i, &v, NULL) != 0)
        return 1;
    st.has = v.has;
    st.size = v.size;
    memcpy(st.root, v.root, GL_HASH_LEN);
    st.frozen = v.frozen;
    d = addck_decide(&st, r->old, (const uint8_t(*)[GL_HASH_LEN])r->proof, r->nproof, ck,
                     &why);
    return d == ADDCK_SPLIT || (d == ADDCK_OK && (!v.has || ck->size > v.size));
}

/* Spends one token of log i's bucket; 0 if allowed, -1 if limited. */
static int rate_take(struct api *a, size_t i)
{
    const struct logs_entry *log = &a->logs->v[i];
    struct api_bucket *b = &a->buckets[i];
    uint64_t now = uv_now(a->loop);
    double cap, rate;

    if (log->qpd == 0)
        return 0;
    cap = (double)log->qpd / 1440.0;
    cap = cap < 1.0 ? 1.0 : cap;
    rate = (double)log->qpd / 86400000.0; /* tokens per ms */
    if (b->last_ms == 0)
        b->tokens = cap;
    else
        b->tokens += (double)(now - b->last_ms) * rate;
    b->last_ms = now ? now : 1;
    if (b->tokens > cap)
        b->tokens = cap;
    if (b->tokens < 1.0)
        return -1;
    b->tokens -= 1.0;
    return 0;
}

/* --- add-checkpoint ---------------------------------------------------------------- */

static void async_closed_cb(uv_handle_t *h)
{
    struct api *a = h->data;

    a->async_closed = 1;
}

static void maybe_close_async(struct api *a)
{
    if (a->closing && a->outstanding == 0 && !uv_is_closing((uv_handle_t *)&a->async))
        uv_close((uv_handle_t *)&a->async, async_closed_cb);
}

/* The request is finished (answered, or dropped): frees ar and gives its
 * place back. */
static void add_free(struct add_req *ar)
{
    struct api *a = ar->api;

    gl_http_pending_release(ar->p);
    inflight_give(a->adds, &ar->client);
    a->outstanding--;
    free(ar);
    maybe_close_async(a);
}

/* Committer thread: hand the finished request to the loop. */
static void add_done(struct wreq *w, void *arg)
{
    struct add_req *ar = arg;
    struct api *a = ar->api;

    (void)w;
    pthread_mutex_lock(&a->mu);
    ar->next = a->done;
    a->done = ar;
    pthread_mutex_unlock(&a->mu);
    uv_async_send(&a->async);
}

static void add_reply(struct add_req *ar)
{
    const struct wreq *w = &ar->w;
    char size[32];

    if (w->status == 200) {
        if (ar->api->mirror != NULL) { /* a new pending checkpoint, and the
                                        * witness cosignatures it came with */
            mirror_observe(ar->api->mirror, ar->log);
            mirror_offer(ar->api->mirror, ar->log, ar->req.note, ar->req.note_len);
        }
        gl_http_pending_reply(ar->p, 200, TEXT, hdr_nostore, 1, w->line, w->line_len);
    } else if (w->status == 409) {
        snprintf(size, sizeof(size), "%llu\n", (unsigned long long)w->stored_size);
        reply_text(NULL, ar->p, 409, "text/x.tlog.size", size);
    } else {
        reply_why(NULL, ar->p, w->status, w->why != NULL ? w->why : "error");
    }
}

static void on_async(uv_async_t *h)
{
    struct api *a = h->data;
    struct add_req *list;

    pthread_mutex_lock(&a->mu);
    list = a->done;
    a->done = NULL;
    pthread_mutex_unlock(&a->mu);
    while (list != NULL) {
        struct add_req *next = list->next;
        add_reply(list);
        add_free(list);
        list = next;
    }
    maybe_close_async(a);
}

/* Threadpool: the signature check. */
static void add_verify(uv_work_t *w)
{
    struct add_req *ar = w->data;

    ar->open_rc = addck_open(&ar->req, &ar->api->logs->v[ar->log], &ar->w.ck, &ar->w.kept,
                             &ar->why);
}

/* The checks between the signature and the engine; 0 to go on. */
static int add_precheck(struct add_req *ar, int status)
{
    struct api *a = ar->api;
    static const struct gl_http_header retry[] = {{"Retry-After", "60"}};

    if (status != 0)
        return reply_why(NULL, ar->p, 503, "shutting down"), -1;
    if (ar->open_rc == GL_ENOKEY || ar->open_rc == GL_EVERIFY)
        return reply_err(NULL, ar->p, 403, &ar->why), -1;
    if (ar->open_rc != 0)
        return reply_err(NULL, ar->p, ar->open_rc == GL_EPARSE ? 400 : 500, &ar->why), -1;
    if (ar->req.malformed)
        return reply_err(NULL, ar->p, 400, &ar->req.syntax), -1;
    if (ar->req.old > ar->w.ck.size)
        return reply_why(NULL, ar->p, 400, "old size larger than the checkpoint size"),
               -1;
    if (can_change(a, ar->log, &ar->req, &ar->w.ck) && rate_take(a, ar->log) != 0) {
        a->rate_limited++;
        gl_http_pending_reply(ar->p, 429, TEXT, retry, 1, "rate limit for this log\n",
                              24);
        return -1;
    }
    return 0;
}

static void add_verified(uv_work_t *work, int status)
{
    struct add_req *ar = work->data;
    struct api *a = ar->api;
    struct wreq *w = &ar->w;

    if (add_precheck(ar, status) != 0) {
        add_free(ar);
        return;
    }
    w->kind = WREQ_ADD;
    w->log = ar->log;
    w->old = ar->req.old;
    w->nproof = ar->req.nproof;
    memcpy(w->proof, ar->req.proof, ar->req.nproof * GL_HASH_LEN);
    w->note = ar->req.note;
    w->note_len = ar->req.note_len;
    snprintf(w->source, sizeof(w->source), "push from %s",
             gl_http_pending_req(ar->p) ? gl_http_req_peer(gl_http_pending_req(ar->p))
                                        : "?");
    w->done = add_done;
    w->arg = ar;
    engine_submit(a->engine, w);
}

/* 503 for a request that found no place in a->adds (rc: inflight_take's). */
static int add_refuse(struct api *a, struct gl_http_req *req, int rc)
{
    static const struct gl_http_header h[] = {{"Cache-Control", "no-store"},
                                              {"Retry-After", "1"}};
    static const char all[] = "too many add-checkpoint requests in flight; retry\n";
    static const char mine[] = "too many of this client's add-checkpoint requests in "
                               "flight; retry\n";

    a->add_refused++;
    return rc == GL_ERANGE ? gl_http_reply(req, 503, TEXT, h, 2, mine, sizeof(mine) - 1)
                           : gl_http_reply(req, 503, TEXT, h, 2, all, sizeof(all) - 1);
}

static int api_add(struct api *a, struct gl_http_req *req)
{
    struct addr_key client;
    struct add_req *ar;
    int rc;

    if (a->paused) {
        static const struct gl_http_header soon[] = {{"Retry-After", "1"}};
        return gl_http_reply(req, 503, TEXT, soon, 1, "reloading the log list\n", 23);
    }
    /* a place first: a refused request allocates and queues nothing */
    if ((rc = inflight_take(a->adds, gl_http_req_peer(req), &client)) != 0)
        return add_refuse(a, req, rc);
    if ((ar = calloc(1, sizeof(*ar) + req->body_len + 1)) == NULL) {
        inflight_give(a->adds, &client);
        return reply_why(req, NULL, 503, "out of memory");
    }
    ar->api = a;
    ar->client = client;
    a->outstanding++; /* from here on, add_free ends the request */
    memcpy(ar->body, req->body, req->body_len);
    ar->len = req->body_len;
    if (addck_parse(ar->body, ar->len, &ar->req, &ar->why) != 0) {
        rc = reply_err(req, NULL, 400, &ar->why);
        add_free(ar);
        return rc;
    }
    if (logs_find(a->logs, ar->req.origin, ar->req.origin_len, &ar->log) != 0) {
        add_free(ar);
        return reply_why(req, NULL, 404, "unknown log origin");
    }
    if ((rc = gl_http_defer(req, &ar->p)) != 0) {
        add_free(ar);
        return rc;
    }
    ar->work.data = ar;
    if (uv_queue_work(a->loop, &ar->work, add_verify, add_verified) != 0) {
        reply_why(NULL, ar->p, 503, "cannot queue the signature check");
        add_free(ar);
    }
    return 0;
}

/* --- reads -------------------------------------------------------------------------- */

/* Answers the read of a stored text into b (rc: the read's result): 200
 * with it, 404 with `missing` when absent, else 500 with `failed`.
 * Releases b. */
static int reply_read(struct gl_http_req *req, int rc, struct gl_buf *b,
                      const char *missing, const char *failed)
{
    if (rc == GL_ENOTFOUND)
        rc = reply_why(req, NULL, 404, missing);
    else if (rc != 0)
        rc = reply_why(req, NULL, 500, failed);
    else
        rc = gl_http_reply(req, 200, TEXT, hdr_nostore, 1, b->data, b->len);
    gl_buf_release(b);
    return rc;
}

/* "/<64 lowercase hex>/checkpoint" */
static int api_monitor(struct api *a, struct gl_http_req *req)
{
    struct engine_view v;
    struct gl_buf note;
    uint8_t h[GL_HASH_LEN];
    size_t i;
    int rc;

    if (strlen(req->path) != 1 + GL_HASH_HEX_LEN + GL_LIT_LEN("/checkpoint") ||
        strcmp(req->path + 1 + GL_HASH_HEX_LEN, "/checkpoint") != 0 ||
        gl_hex_decode_exact(req->path + 1, GL_HASH_HEX_LEN, h, GL_HASH_LEN, 1) != 0 ||
        logs_find_hash(a->logs, h, &i))
        return reply_why(req, NULL, 404, "not found");
    gl_buf_init(&note, ADDCK_BODY_MAX + 1024);
    rc = engine_view(a->engine, i, &v, &note);
    return reply_read(req, rc, &note, "no checkpoint of this log cosigned yet",
                      "cannot read the state");
}

static const char *kind_name(int kind)
{
    return kind == GL_EVIDENCE_SAME_SIZE    ? "same-size"
           : kind == GL_EVIDENCE_NOT_PREFIX ? "not-prefix"
                                            : "unknown";
}

static cJSON *evidence_json(const struct engine_evidence *m)
{
    cJSON *o = cJSON_CreateObject(), *sizes = cJSON_CreateArray();

    if (o == NULL || sizes == NULL || !cJSON_AddStringToObject(o, "id", m->id) ||
        !cJSON_AddStringToObject(o, "origin", m->origin) ||
        !cJSON_AddNumberToObject(o, "found_at", (double)m->found_at) ||
        !cJSON_AddStringToObject(o, "kind", kind_name(m->kind)) ||
        !cJSON_AddItemToArray(sizes, cJSON_CreateNumber((double)m->size[0])) ||
        !cJSON_AddItemToArray(sizes, cJSON_CreateNumber((double)m->size[1])) ||
        !cJSON_AddItemToObject(o, "sizes", sizes) ||
        !cJSON_AddStringToObject(o, "source", m->source)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Reads the query of GET /evidence (rule in query.h): from (default 0)
 * and limit (default and at most EVIDENCE_PAGE, at least 1), decimal.
 * 0, or GL_EINVAL with why (max bytes) a one-line reason. */
static int evidence_query(const char *q, size_t *from, size_t *limit, char *why,
                          size_t max)
{
    static const char *const names[] = {"from", "limit"};
    uint64_t f = 0, l = EVIDENCE_PAGE;

    if (gl_query_check(q, names, 2, why, max) != 0)
        return GL_EINVAL;
    if (gl_query_u64(q, "from", &f) < 0 || (uint64_t)(size_t)f != f) {
        snprintf(why, max, "from must be a decimal index (0 or more)");
        return GL_EINVAL;
    }
    if (gl_query_u64(q, "limit", &l) < 0 || l == 0 || l > EVIDENCE_PAGE) {
        snprintf(why, max, "limit must be a decimal number from 1 to %d", EVIDENCE_PAGE);
        return GL_EINVAL;
    }
    *from = (size_t)f;
    *limit = (size_t)l;
    return 0;
}

/* One page of the evidence list: a JSON array of at most limit entries
 * from index from (past the end: []), and, when entries follow it, a Link
 * header naming the next page relative to this URL. */
static int api_evidence_list(struct api *a, struct gl_http_req *req)
{
    struct engine_evidence *page = NULL;
    struct gl_http_header h[2] = {{"Cache-Control", "no-store"}, {"Link", NULL}};
    char link[96];
    cJSON *arr = NULL;
    size_t from, limit, total = 0, n;
    char why[96];
    char *text = NULL;
    int ok, rc;

    if (evidence_query(req->query, &from, &limit, why, sizeof(why)) != 0)
        return reply_why(req, NULL, 400, why);
    page = calloc(limit, sizeof(*page));
    arr = cJSON_CreateArray();
    ok = page != NULL && arr != NULL;
    n = ok ? engine_evidence(a->engine, from, page, limit, &total) : 0;
    for (size_t i = 0; i < n && ok; i++) {
        cJSON *o = evidence_json(&page[i]);
        ok = o != NULL && cJSON_AddItemToArray(arr, o);
    }
    if (ok)
        text = cJSON_PrintUnformatted(arr);
    /* n > 0 means from < total, so from + n <= total cannot overflow */
    if (n > 0 && from + n < total) {
        snprintf(link, sizeof(link), "<evidence?from=%zu&limit=%zu>; rel=\"next\"",
                 from + n, limit);
        h[1].value = link;
    }
    rc = text == NULL ? reply_why(req, NULL, 500, "out of memory")
                      : gl_http_reply(req, 200, "application/json", h,
                                      h[1].value != NULL ? 2 : 1, text, strlen(text));
    free(text);
    cJSON_Delete(arr);
    free(page);
    return rc;
}

static int api_evidence_file(struct api *a, struct gl_http_req *req, const char *hex)
{
    struct gl_buf f;
    uint8_t id[GL_HASH_LEN];
    int rc;

    if (strlen(hex) != GL_HASH_HEX_LEN ||
        gl_hex_decode_exact(hex, GL_HASH_HEX_LEN, id, GL_HASH_LEN, 1) != 0)
        return reply_why(req, NULL, 404, "no such evidence");
    gl_buf_init(&f, GL_EVIDENCE_MAX_SIZE);
    rc = wstore_get_evidence(a->store, id, &f);
    return reply_read(req, rc, &f, "no such evidence", "cannot read the evidence");
}

static int api_healthz(struct api *a, struct gl_http_req *req)
{
    struct engine_stats st;

    if (a->down != NULL)
        return reply_why(req, NULL, 503, a->down);
    engine_stats(a->engine, &st);
    if (st.storage_failed)
        return reply_why(req, NULL, 503, "storage is failing: the last write failed");
    if (st.clock_ahead > 0)
        return reply_why(
            req, NULL, 503,
            "a log's latest cosignature is dated more than " ENGINE_CLOCK_SLACK_TEXT
            " in the future: not cosigning it");
    return reply_text(req, NULL, 200, TEXT, "ok\n");
}

/* --- metrics --------------------------------------------------------------------------
 */

static int metrics_engine(struct api *a, struct gl_buf *b)
{
    struct engine_stats s;
    int rc = 0;

    engine_stats(a->engine, &s);
#define M(n, t, h, v)                                                                    \
    if (rc == 0)                                                                         \
    rc = gl_metrics_value(b, "glasslog_witness_" n, t, h, (double)(v))
    M("cosigned_total", "counter", "Checkpoints cosigned (200).", s.cosigned);
    M("conflicts_total", "counter", "add-checkpoint answered 409.", s.conflicts);
    M("refused_total", "counter", "Requests refused by the state machine (400/422/5xx).",
      s.refused);
    M("batches_total", "counter", "Durable batches (one fsync each).", s.batches);
    M("batch_requests_total", "counter", "Requests decided in batches.",
      s.batch_requests);
    M("batch_max_requests", "gauge", "Largest batch so far.", s.batch_max);
    M("commit_seconds_total", "counter", "Time spent in synced writes.",
      s.commit_seconds);
    M("write_failures_total", "counter", "Batches whose write failed.", s.write_failures);
    M("storage_failed", "gauge", "1 if the last write failed.", s.storage_failed);
    M("queue_requests", "gauge", "Requests waiting for the committer.", s.queued);
    M("evidence_total", "gauge", "Split-view evidence files stored.", s.evidence);
    M("split_view_origins", "gauge", "Logs frozen after a proven split view.", s.frozen);
    M("rate_limited_total", "counter", "add-checkpoint answered 429.", a->rate_limited);
    M("add_inflight", "gauge", "add-checkpoint requests in flight.",
      inflight_count(a->adds));
    M("add_inflight_refused_total", "counter",
      "add-checkpoint answered 503: too many in flight (all, or the client's share).",
      a->add_refused);
    M("resident_memory_bytes", "gauge", "Resident set size.", gl_metrics_rss_bytes());
#undef M
    return rc;
}

static int metrics_feeder(struct api *a, struct gl_buf *b)
{
    struct feeder_stats s;
    int rc = 0;

    feeder_stats(a->feeder, &s);
#define M(n, h, v)                                                                       \
    if (rc == 0)                                                                         \
    rc = gl_metrics_value(b, "glasslog_witness_" n, "counter", h, (double)(v))
    M("poll_rounds_total", "Pull and gossip rounds.", s.rounds);
    M("pulls_total", "Checkpoints pulled from logs.", s.pulls);
    M("pull_errors_total", "Failed pulls.", s.pull_errors);
    M("gossip_polls_total", "Peer checkpoints fetched.", s.gossip_polls);
    M("gossip_errors_total", "Failed or invalid peer fetches.", s.gossip_errors);
    M("caught_up_total", "Checkpoints cosigned from a peer's view.", s.caught_up);
    M("suspected_total", "Disagreements without a usable proof (not evidence).",
      s.suspected);
    M("splits_found_total", "Split views this witness proved itself.", s.splits_found);
    M("evidence_imported_total", "Evidence files verified and imported from peers.",
      s.evidence_imported);
#undef M
    if (rc == 0)
        rc = gl_metrics_family(b, "glasslog_witness_round_parts_late_total", "counter",
                               "Round parts (a log, a peer) whose share of the round "
                               "ran out before they were done.");
    if (rc == 0)
        rc = gl_buf_printf(b,
                           "glasslog_witness_round_parts_late_total{thread=\"feeder\"} "
                           "%llu\nglasslog_witness_round_parts_late_total{thread="
                           "\"mirror\"} %llu\n",
                           (unsigned long long)s.parts_late,
                           (unsigned long long)mirrorpull_parts_late(
                               a->mpull != NULL ? *a->mpull : NULL));
    return rc;
}

static int api_metrics(struct api *a, struct gl_http_req *req)
{
    struct gl_http_stats hs;
    struct gl_buf b;
    int rc;

    memset(&hs, 0, sizeof(hs));
    if (a->http != NULL)
        gl_http_server_stats(a->http, &hs);
    gl_buf_init(&b, 1 << 20);
    rc = metrics_engine(a, &b);
    if (rc == 0)
        rc = metrics_feeder(a, &b);
    if (rc == 0)
        rc = gl_metrics_http(&b, "glasslog_witness_http", &hs);
    if (rc == 0 && a->mirror != NULL)
        rc = mirrorapi_metrics(a, &b);
    rc = rc != 0 ? reply_why(req, NULL, 500, "metrics too large")
                 : gl_http_reply(req, 200, "text/plain; version=0.0.4", hdr_nostore, 1,
                                 b.data, b.len);
    gl_buf_release(&b);
    return rc;
}

/* --- routing
 * ----------------------------------------------------------------------------- */

static int method_not_allowed(struct gl_http_req *req, const char *allow)
{
    const struct gl_http_header h[] = {{"Allow", allow}, {"Cache-Control", "no-store"}};

    return gl_http_reply(req, 405, TEXT, h, 2, "method not allowed\n", 19);
}

int api_handle(void *ctx, struct gl_http_req *req)
{
    struct api *a = ctx;
    const char *p = req->path;
    int get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;

    /* only add-entries takes more than an add-checkpoint body (the mirror
     * listener lets h2o read up to MIRRORAPI_BODY_MAX): nothing larger is
     * copied or parsed anywhere else */
    if (req->body_len > ADDCK_BODY_MAX && strcmp(p, "/add-entries") != 0)
        return reply_why(req, NULL, 413, "request body too large");
    if (a->mirror != NULL && mirrorapi_wants(req))
        return mirrorapi_handle(a, req);
    if (strcmp(p, "/add-checkpoint") == 0)
        return strcmp(req->method, "POST") == 0 ? api_add(a, req)
                                                : method_not_allowed(req, "POST");
    if (!get)
        return method_not_allowed(req, "GET, HEAD");
    if (strcmp(p, "/evidence") == 0)
        return api_evidence_list(a, req);
    if (gl_str_prefix(p, "/evidence/"))
        return api_evidence_file(a, req, p + GL_LIT_LEN("/evidence/"));
    if (strcmp(p, "/healthz") == 0)
        return api_healthz(a, req);
    if (strcmp(p, "/metrics") == 0)
        return api_metrics(a, req);
    return api_monitor(a, req);
}

/* --- lifecycle
 * ----------------------------------------------------------------------------- */

int api_init(struct api *a, uv_loop_t *loop, struct engine *e,
             const struct logs_list *logs, struct wstore *store)
{
    int rc;

    memset(a, 0, sizeof(*a));
    a->loop = loop;
    a->engine = e;
    a->logs = logs;
    a->store = store;
    if ((a->buckets = calloc(logs->n ? logs->n : 1, sizeof(*a->buckets))) == NULL)
        return GL_ENOMEM;
    if ((rc = inflight_new(API_ADD_INFLIGHT_MAX, GL_HTTP_DEFAULT_CONNS_PER_ADDR,
                           &a->adds)) != 0)
        goto fail;
    pthread_mutex_init(&a->mu, NULL);
    a->async.data = a;
    if (uv_async_init(loop, &a->async, on_async) != 0) {
        pthread_mutex_destroy(&a->mu);
        rc = GL_EIO;
        goto fail;
    }
    return 0;
fail:
    inflight_free(a->adds);
    a->adds = NULL;
    free(a->buckets);
    a->buckets = NULL;
    return rc;
}

int api_limit(struct api *a, size_t max, unsigned per_client)
{
    struct inflight *t;
    int rc;

    if (a->outstanding > 0)
        return GL_ESTATE;
    if ((rc = inflight_new(max, per_client, &t)) != 0)
        return rc;
    inflight_free(a->adds);
    a->adds = t;
    return 0;
}

int api_remap(struct api *a, const struct logs_list *old, const struct logs_list *next)
{
    struct api_bucket *b = calloc(next->n ? next->n : 1, sizeof(*b));
    size_t j;

    if (b == NULL)
        return GL_ENOMEM;
    for (size_t i = 0; i < next->n; i++)
        if (logs_find(old, next->v[i].origin, strlen(next->v[i].origin), &j) == 0)
            b[i] = a->buckets[j];
    free(a->buckets);
    a->buckets = b;
    return 0;
}

void api_close(struct api *a)
{
    a->closing = 1;
    maybe_close_async(a);
}

void api_release(struct api *a)
{
    if (a->buckets == NULL)
        return;
    free(a->buckets);
    a->buckets = NULL;
    inflight_free(a->adds);
    a->adds = NULL;
    pthread_mutex_destroy(&a->mu);
}

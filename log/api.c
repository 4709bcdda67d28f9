/*
 * api: request routing and handlers; see api.h.
 *
 * Every error is a JSON {"error": "..."} with its status. Paths are
 * parsed, never used as file names. The tiles and the JSON read API
 * (entries, proofs, lookup) are readapi.c's, over a view of the published
 * tree (off the loop on a database store: readapi_handle_async); replies that
 * carry proofs are computed from that tree at the time of the reply, so
 * they always match the checkpoint they embed.
 */
#include "api.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "glasslog/codec.h"
#include "glasslog/cosig.h"
#include "glasslog/error.h"
#include "glasslog/log.h"
#include "glasslog/merkle.h"
#include "glasslog/statement.h"
#include "glasslog/tile.h"
#include "glasslog/tlogproof.h"
#include "json.h"
#include "readapi.h"
#include "text.h"

static const struct gl_http_header hdr_nocache[] = {{"Cache-Control", "no-store"}};
static const struct gl_http_header hdr_checkpoint[] = {
    {"Cache-Control", "public, max-age=2"}};

/* --- helpers ---------------------------------------------------------------- */

/* A 429 of the rate limit: Retry-After seconds, into its header values
 * h (2) and body (at most LIMITED_BODY_MAX bytes); the body's length. */
#define LIMITED_BODY_MAX 160
#define LIMITED_SECS_MAX 24 /* a uint64_t in decimal, NUL */
static size_t limited_answer(uint64_t seconds, char secs[LIMITED_SECS_MAX],
                             struct gl_http_header h[2], char body[LIMITED_BODY_MAX])
{
    int n;

    snprintf(secs, LIMITED_SECS_MAX, "%llu", (unsigned long long)seconds);
    h[0] = (struct gl_http_header){"Retry-After", secs};
    h[1] = (struct gl_http_header){"Cache-Control", "no-store"};
    n = snprintf(
        body, LIMITED_BODY_MAX,
        "{\"error\":\"rate limit of this submitter key exceeded; retry in %s s\"}", secs);
    return (size_t)n; /* < LIMITED_BODY_MAX: secs has at most 20 digits */
}

/* 429 for a submitter key over its rate limit, with Retry-After: seconds. */
static int reply_limited(struct gl_http_req *req, uint64_t seconds)
{
    char secs[LIMITED_SECS_MAX], body[LIMITED_BODY_MAX];
    struct gl_http_header h[2];
    size_t n = limited_answer(seconds, secs, h, body);

    return gl_http_reply(req, 429, "application/json", h, 2, body, n);
}

/* reply_limited on a deferred request (after the signature check). */
static void reply_limited_pending(struct gl_http_pending *p, uint64_t seconds)
{
    char secs[LIMITED_SECS_MAX], body[LIMITED_BODY_MAX];
    struct gl_http_header h[2];
    size_t n = limited_answer(seconds, secs, h, body);

    (void)gl_http_pending_reply(p, 429, "application/json", h, 2, body, n);
}

/* note with the cosignature lines of the mirrors that hold its text
 * (mirrorpush.h), built in a->ck_mirrored (valid until the next call);
 * note itself when there are none. */
static const struct gl_buf *api_with_mirrors(struct api *a, const struct gl_buf *note)
{
    struct gl_buf lines;
    size_t t = 0;

    if (note == NULL || a->mpush == NULL)
        return note;
    while (t + 1 < note->len && !(note->data[t] == '\n' && note->data[t + 1] == '\n'))
        t++;
    gl_buf_init(&lines, 16 << 10);
    if (t + 1 < note->len &&
        mirrorpush_lines(a->mpush, (const char *)note->data, t + 1, &lines) == 0 &&
        lines.len > 0) {
        gl_buf_reset(&a->ck_mirrored);
        if (gl_cosig_append((const char *)note->data, note->len, (const char *)lines.data,
                            lines.len, &a->ck_mirrored, NULL) == 0)
            note = &a->ck_mirrored;
    }
    gl_buf_release(&lines);
    return note;
}

/* The checkpoint clients get (cosigned when witnesses are configured, and
 * by the mirrors that hold it) and its size; NULL while none can be served
 * (block mode, no quorum yet). */
static const struct gl_buf *api_checkpoint_note(struct api *a, uint64_t *size)
{
    const struct gl_buf *note;

    if (a->pub == NULL) {
        *size = seq_tree(a->seq)->range.size;
        return api_with_mirrors(a, seq_checkpoint(a->seq));
    }
    publish_served(a->pub, &note, size);
    return api_with_mirrors(a, note);
}

static const struct gl_buf *view_checkpoint(void *ctx, uint64_t *size)
{
    return api_checkpoint_note(ctx, size);
}

/* The read API's view of the published tree (readapi.h). */
static void api_view(struct api *a, struct readapi_view *v)
{
    v->store = a->store;
    v->tree = seq_tree(a->seq);
    v->cache = a->cache;
    v->size = v->tree->range.size;
    v->checkpoint = view_checkpoint;
    v->ctx = a;
}

static void api_view_of(void *ctx, struct readapi_view *v)
{
    api_view(ctx, v);
}

/* Appends the tlog-proof of entry index against the published checkpoint. */
static int api_tlogproof(struct api *a, uint64_t index, struct gl_buf *out)
{
    struct readapi_view v;

    api_view(a, &v);
    return readapi_tlogproof(&v, index, out);
}

/* --- appends ------------------------------------------------------------------ */

struct add_req {
    struct api *api;
    struct add_req *prev, *next; /* in api->waiting while parked */
    struct add_req *vnext;       /* in the verify queue, then in its chunk */
    uint64_t index;
    int dup;
    struct gl_http_pending *p;
    size_t submitter;       /* index in api->submitters (and api->limits) */
    struct gl_verifier key; /* a copy of that key: the worker reads only this,
                               so a reload may replace api->submitters */
    uv_work_t work;
    struct gl_statement st;
    int verify_rc;
    uint8_t leaf[GL_HASH_LEN];
    size_t len;
    uint8_t data[];
};

static void add_finish(struct add_req *ar)
{
    gl_http_pending_release(ar->p);
    free(ar);
}

/* The most a tlog-proof text adds to its checkpoint note: the header and
 * index lines, at most 64 base64 hashes of a line each, the blank line. */
#define TLOGPROOF_OVERHEAD (256 + 64 * 46)

/* Answers an append whose entry is in the served checkpoint:
 * {"index":N,"leaf_hash":"hex","duplicate":B,"proof":"tlog-proof"}, written
 * directly (gl_json_append_*), byte for byte what cJSON would print. The
 * buffers are sized from the served note (its cosignatures make it any
 * size): the proof is the note and TLOGPROOF_OVERHEAD, the body that
 * escaped (6 bytes a byte at worst) and the rest. The entry is logged
 * whatever happens here, so a proof that cannot be made (a store read
 * failed, no memory) answers 503 with Retry-After naming the index: a
 * retry gets the proof. */
static void add_reply(struct add_req *ar)
{
    static const char *const dup_field[2] = {"\",\"duplicate\":false,\"proof\":",
                                             "\",\"duplicate\":true,\"proof\":"};
    const struct gl_buf *note;
    struct gl_buf proof, body;
    char hex[GL_HASH_HEX_LEN + 1], why[128];
    uint64_t size;
    size_t pcap = 0, bcap = 0;
    int rc;

    note = api_checkpoint_note(ar->api, &size);
    if (gl_size_add(note != NULL ? note->len : 0, TLOGPROOF_OVERHEAD, &pcap) != 0 ||
        gl_size_mul(pcap, 6, &bcap) != 0 || gl_size_add(bcap, 256, &bcap) != 0)
        pcap = bcap = 0; /* refused below: no proof fits */
    gl_buf_init(&proof, pcap);
    gl_buf_init(&body, bcap);
    gl_hex_encode(ar->leaf, GL_HASH_LEN, hex, sizeof(hex));
    if ((rc = api_tlogproof(ar->api, ar->index, &proof)) != 0) {
        gl_log(GL_LOG_ERROR, "append logged at index %llu, but its proof failed: %s",
               (unsigned long long)ar->index, gl_strerror(rc));
        snprintf(why, sizeof(why), "logged at index %llu; proof unavailable, retry",
                 (unsigned long long)ar->index);
        readapi_reply_retry(NULL, ar->p, why);
    } else if (gl_buf_append_str(&body, "{\"index\":") != 0 ||
               gl_json_append_u64(&body, ar->index) != 0 ||
               gl_buf_append_str(&body, ",\"leaf_hash\":\"") != 0 ||
               gl_buf_append(&body, hex, 64) != 0 ||
               gl_buf_append_str(&body, dup_field[ar->dup != 0]) != 0 ||
               gl_json_append_string(&body, (const char *)proof.data, proof.len) != 0 ||
               gl_buf_putc(&body, '}') != 0) {
        snprintf(why, sizeof(why), "logged at index %llu; proof unavailable, retry",
                 (unsigned long long)ar->index);
        readapi_reply_retry(NULL, ar->p, why);
    } else {
        gl_http_pending_reply(ar->p, 200, "application/json", hdr_nocache, 1, body.data,
                              body.len);
    }
    gl_buf_release(&body);
    gl_buf_release(&proof);
    add_finish(ar);
}

static void park_unlink(struct api *a, struct add_req *ar)
{
    assert((ar->prev == NULL) == (a->waiting == ar)); /* only the head has no prev */
    if (ar->prev != NULL)
        ar->prev->next = ar->next;
    else
        a->waiting = ar->next;
    if (ar->next != NULL)
        ar->next->prev = ar->prev;
    ar->prev = ar->next = NULL;
    a->nwaiting--;
}

/* The client of a parked append went away: forget it now. */
static void park_gone(void *arg)
{
    struct add_req *ar = arg;

    park_unlink(ar->api, ar);
    ar->api->parked_gone++;
    add_finish(ar);
}

/* Parks a durable append until a served checkpoint covers it; 503 when
 * the waiting list is full (the entry stays logged: a retry gets it). */
static void park(struct api *a, struct add_req *ar)
{
    if (a->nwaiting >= a->waiting_max) {
        readapi_reply_retry(NULL, ar->p,
                            "logged, but too many appends wait for witness "
                            "cosignatures; retry for the proof");
        add_finish(ar);
        return;
    }
    ar->prev = NULL;
    ar->next = a->waiting;
    if (a->waiting != NULL)
        a->waiting->prev = ar;
    a->waiting = ar;
    a->nwaiting++;
    gl_http_pending_on_gone(ar->p, park_gone, ar);
}

void api_served(void *ctx)
{
    struct api *a = ctx;
    struct add_req *ar, *next;
    uint64_t size;

    if (api_checkpoint_note(a, &size) == NULL)
        return;
    for (ar = a->waiting; ar != NULL; ar = next) {
        next = ar->next;
        if (ar->index < size) {
            park_unlink(a, ar);
            gl_http_pending_on_gone(ar->p, NULL, NULL);
            add_reply(ar);
        }
    }
}

void api_shutdown(struct api *a)
{
    while (a->waiting != NULL) {
        struct add_req *ar = a->waiting;
        park_unlink(a, ar);
        gl_http_pending_on_gone(ar->p, NULL, NULL);
        readapi_reply_retry(NULL, ar->p,
                            "logged, but shutting down before the witnesses cosigned; "
                            "retry for the proof");
        add_finish(ar);
    }
}

/* Why an append was not logged (seq_done_fn's status): a 503 reason. */
static const char *add_failure(int status)
{
    switch (status) {
    case SEQ_ESTOPPED:
        return "this glasslogd stopped sequencing; retry (another front-end may take it)";
    case SEQ_EWAIT:
        return "queued, not yet sequenced; retry";
    case SEQ_ESHUTDOWN:
        return "queued, but this glasslogd is shutting down; retry";
    default:
        return "storage failure, try again";
    }
}

static void add_done(void *arg, int status, uint64_t index, int dup)
{
    struct add_req *ar = arg;
    uint64_t size;

    if (status != 0) {
        readapi_reply_retry(NULL, ar->p, add_failure(status));
        add_finish(ar);
        return;
    }
    ar->index = index;
    ar->dup = dup;
    if (api_checkpoint_note(ar->api, &size) != NULL && index < size) {
        add_reply(ar);
        return;
    }
    if (!gl_http_pending_alive(ar->p)) { /* nobody left to answer */
        add_finish(ar);
        return;
    }
    park(ar->api, ar); /* until the witnesses' quorum covers the entry */
}

/* Signature checks leave the loop thread in chunks: at most one per
 * threadpool thread in flight (api->verify_slots); appends arriving
 * meanwhile wait in api->vq and leave together when a chunk comes back.
 * So under load one hand-off (a queue lock, a worker wakeup, an async
 * wakeup of the loop) carries many appends, and alone an append still
 * leaves at once. Invariant: vq is empty unless every slot is busy. */
static void add_verify_work(uv_work_t *w)
{
    for (struct add_req *ar = w->data; ar != NULL; ar = ar->vnext) {
        ar->verify_rc = gl_statement_verify(&ar->st, &ar->key, 1, NULL);
        if (ar->verify_rc == 0)
            ar->verify_rc = gl_merkle_leaf_hash(ar->data, ar->len, ar->leaf);
    }
}

static int add_known_submitter(const struct api *a, const struct gl_note_sig *sig,
                               size_t *index);
static void add_verify_after(uv_work_t *w, int status);

/* The threadpool's size (main.c sets UV_THREADPOOL_SIZE; libuv's default
 * is 4). */
static size_t verify_slots(void)
{
    const char *v = getenv("UV_THREADPOOL_SIZE");
    long n = v != NULL ? strtol(v, NULL, 10) : 4;

    return n < 1 ? 1 : n > 1024 ? 1024 : (size_t)n;
}

/* Hands the queued appends to the free threadpool slots, each a share. */
static void add_verify_dispatch(struct api *a)
{
    if (a->verify_slots == 0)
        a->verify_slots = verify_slots();
    while (a->vq != NULL && a->verify_inflight < a->verify_slots) {
        /* a 1/slots share: a thread that frees up soon finds work left */
        size_t k = (a->vq_len + a->verify_slots - 1) / a->verify_slots, taken = 1;
        struct add_req *head = a->vq, *last = head;
        for (; taken < k && last->vnext != NULL; taken++)
            last = last->vnext;
        assert(taken == k); /* vq_len counts vq */
        a->vq = last->vnext;
        a->vq_len -= taken;
        last->vnext = NULL;
        head->work.data = head;
        if (uv_queue_work(a->loop, &head->work, add_verify_work, add_verify_after) == 0) {
            a->verify_inflight++;
            continue;
        }
        for (struct add_req *ar = head, *next; ar != NULL; ar = next) {
            next = ar->vnext;
            a->adds_in_verify--;
            seq_unreserve(a->seq);
            gl_http_pending_reply_error(ar->p, 503, "cannot queue the signature check");
            add_finish(ar);
        }
    }
    assert(a->vq == NULL || a->verify_inflight == a->verify_slots);
}

/* 1 if the store holds ar's statement already (a rate-limited key's
 * only): a logged statement is public, so anybody could replay it, and
 * its duplicate answer must not spend the key's tokens (nor a debt that
 * refuses its holder). A failed look-up counts as not held: the append
 * pays, as any other. */
static int add_logged(const struct api *a, const struct add_req *ar)
{
    uint64_t index;

    return !ratelimit_unlimited(&a->limits[ar->submitter]) &&
           store_find_leaf(a->store, ar->leaf, &index) == 0;
}

/* One verified (or refused) append, on the loop thread. */
static void add_verified(struct add_req *ar, int status)
{
    struct entryindex ix;
    struct api *a = ar->api;
    uint64_t retry_after;
    int rc;

    a->adds_in_verify--;
    if (status != 0 || ar->verify_rc != 0) {
        /* a check that could not run (out of memory) is not a refusal */
        int bad =
            status == 0 && (ar->verify_rc == GL_EVERIFY || ar->verify_rc == GL_ENOKEY);

        seq_unreserve(a->seq);
        gl_http_pending_reply_error(ar->p,
                                    status != 0 ? 503
                                    : bad       ? 403
                                                : 503,
                                    status != 0 ? "shutting down"
                                    : bad ? "the submitter signature does not verify"
                                          : "cannot check the signature now");
        add_finish(ar);
        return;
    }
    /* The submitters may have been reloaded meanwhile: a key removed since
     * is refused, one kept spends from its bucket (found again). */
    if (!add_known_submitter(a, &ar->st.sig, &ar->submitter) ||
        memcmp(a->submitters[ar->submitter].pub, ar->key.pub, sizeof(ar->key.pub)) != 0) {
        seq_unreserve(a->seq);
        gl_http_pending_reply_error(ar->p, 403, "the submitter key was removed");
        add_finish(ar);
        return;
    }
    /* verified: only the key's holder spends its tokens, and only for a
     * statement the log does not hold yet (add_logged) */
    if (a->limits != NULL && !add_logged(a, ar) &&
        !ratelimit_take_shared(&a->limits[ar->submitter], a->store,
                               &a->submitters[ar->submitter], uv_now(a->loop),
                               &retry_after)) {
        seq_unreserve(a->seq);
        reply_limited_pending(ar->p, retry_after);
        add_finish(ar);
        return;
    }
    entryindex_of(&ar->st, ar->data, &ix);
    rc = seq_submit(a->seq, ar->data, ar->len, ar->leaf, &ix, add_done, ar);
    if (rc != 0) {
        seq_unreserve(a->seq);
        gl_http_pending_reply_error(ar->p, 503, "out of memory");
        add_finish(ar);
    }
}

static void add_verify_after(uv_work_t *w, int status)
{
    struct add_req *ar = w->data, *next;
    struct api *a = ar->api;

    a->verify_inflight--;
    for (; ar != NULL; ar = next) {
        next = ar->vnext;
        add_verified(ar, status);
    }
    add_verify_dispatch(a);
}

/* 1 if a submitter key has the statement signature's name and key ID;
 * *index gets its position. */
static int add_known_submitter(const struct api *a, const struct gl_note_sig *sig,
                               size_t *index)
{
    for (size_t i = 0; i < a->nsubmitters; i++)
        if (a->submitters[i].id == sig->id &&
            strlen(a->submitters[i].name) == sig->name_len && sig->name != NULL &&
            memcmp(a->submitters[i].name, sig->name, sig->name_len) == 0) {
            *index = i;
            return 1;
        }
    return 0;
}

/* 1 if the submitter's bucket admits an append now; otherwise answers 429
 * (the refusal is counted in the bucket). No store call: on a shared
 * store this looks at the process's mirror of the store's bucket, and
 * add_verified takes the token (or refuses) once the signature verified. */
static int add_admit(struct api *a, struct gl_http_req *req, size_t submitter)
{
    uint64_t retry_after;

    if (a->limits == NULL ||
        ratelimit_admit(&a->limits[submitter], uv_now(a->loop), &retry_after))
        return 1;
    reply_limited(req, retry_after);
    return 0;
}

static int api_add(struct api *a, struct gl_http_req *req)
{
    struct add_req *ar;
    struct gl_err why;
    int rc;

    if (a->read_only) /* before anything else: final, clients must not retry */
        return gl_http_reply_error(req, 410,
                                   "this log is read-only (retired): it serves "
                                   "what it holds but takes no more appends");
    if (req->body_len > GL_STATEMENT_MAX_SIZE)
        return gl_http_reply_error(req, 413, "statement larger than 65535 bytes");
    if ((ar = calloc(1, sizeof(*ar) + req->body_len + 1)) == NULL)
        return gl_http_reply_error(req, 503, "out of memory");
    memcpy(ar->data, req->body, req->body_len);
    ar->len = req->body_len;
    ar->api = a;
    if (gl_statement_parse((const char *)ar->data, ar->len, &ar->st, &why) != 0) {
        char msg[GL_ERR_REASON_MAX + 64], reason[GL_ERR_REASON_MAX + 32];
        snprintf(msg, sizeof(msg), "malformed statement: %s",
                 gl_err_format(&why, NULL, reason, sizeof(reason)));
        free(ar);
        return gl_http_reply_error(req, 400, msg);
    }
    if (!add_known_submitter(a, &ar->st.sig, &ar->submitter)) {
        free(ar);
        return gl_http_reply_error(req, 403, "unknown submitter key");
    }
    ar->key = a->submitters[ar->submitter];
    if (!add_admit(a, req, ar->submitter)) { /* before a pool slot is taken */
        free(ar);
        return 0;
    }
    if ((rc = seq_reserve(a->seq)) != 0) {
        free(ar);
        if (rc == GL_ESTATE)
            return readapi_reply_retry(req, NULL, "shutting down");
        return readapi_reply_retry(req, NULL, "too many pending appends, retry later");
    }
    if ((rc = gl_http_defer(req, &ar->p)) != 0)
        goto fail;
    ar->vnext = NULL;
    if (a->vq != NULL)
        a->vq_tail->vnext = ar;
    else
        a->vq = ar;
    a->vq_tail = ar;
    a->vq_len++;
    a->adds_in_verify++;
    add_verify_dispatch(a);
    return 0;
fail:
    seq_unreserve(a->seq);
    free(ar);
    return rc;
}

/* --- reads --------------------------------------------------------------------- */

static int api_checkpoint(struct api *a, struct gl_http_req *req)
{
    uint64_t size;
    const struct gl_buf *ck = api_checkpoint_note(a, &size);

    if (ck == NULL)
        return readapi_reply_retry(req, NULL, "no checkpoint with a witness quorum yet");
    return gl_http_reply(req, 200, "text/plain; charset=utf-8", hdr_checkpoint, 1,
                         ck->data, ck->len);
}

/* When the checkpoint clients get was signed (publish_served_time with
 * witnesses; else the sequencer's latest (re)signing), into *at; 1 if one
 * is served, 0 if none is (block mode before a quorum). */
static int served_time(struct api *a, double *at)
{
    const struct gl_buf *note = NULL;
    uint64_t size;

    if (a->pub == NULL) {
        *at = seq_stats(a->seq)->last_checkpoint;
        return 1;
    }
    publish_served_time(a->pub, at);
    publish_served(a->pub, &note, &size);
    return note != NULL;
}

static int api_healthz(struct api *a, struct gl_http_req *req)
{
    const struct seq_stats *st = seq_stats(a->seq);
    double at, age, limit = 2.0 * a->checkpoint_interval_s + 10;
    int served = served_time(a, &at);
    char why[160];

    age = (double)time(NULL) - at;
    if (st->storage_failed)
        return gl_http_reply_error(req, 503, "storage is failing: the last write failed");
    if (!served)
        return gl_http_reply_error(
            req, 503, "no checkpoint is served: the witness quorum was not met yet");
    if (a->checkpoint_interval_s > 0 && age > limit) {
        snprintf(why, sizeof(why),
                 "the served checkpoint is stale: signed %.0f s ago (limit %.0f s)", age,
                 limit);
        return gl_http_reply_error(req, 503, why);
    }
    return gl_http_reply_text(req, 200, "ok\n");
}

static int api_metrics(struct api *a, struct gl_http_req *req)
{
    const struct seq_stats *st = seq_stats(a->seq);
    struct gl_http_stats hs;
    double served_at;
    uint64_t hits = 0, misses = 0;
    struct gl_buf b;
    int rc = 0;

    memset(&hs, 0, sizeof(hs));
    (void)served_time(a, &served_at);
    if (a->http != NULL)
        gl_http_server_stats(a->http, &hs);
    tilecache_stats(a->cache, &hits, &misses);
    gl_buf_init(&b, 8 << 20); /* room for two series per submitter key (4096) */
#define VAL(n, t, h, v)                                                                  \
    if (rc == 0)                                                                         \
    rc = gl_metrics_value(&b, n, t, h, (double)(v))
    VAL("glasslog_tree_size", "gauge",
        "Entries in the log's durable signed tree (the served checkpoint may be "
        "smaller: glasslog_served_checkpoint_size).",
        seq_tree(a->seq)->range.size);
    VAL("glasslog_appends_total", "counter", "New entries appended.", st->appends);
    VAL("glasslog_duplicates_total", "counter",
        "Submissions answered with an existing entry.", st->duplicates);
    VAL("glasslog_batches_total", "counter", "Batches made durable.", st->batches);
    VAL("glasslog_write_failures_total", "counter", "Batches whose write failed.",
        st->write_failures);
    VAL("glasslog_pool_entries", "gauge", "Submissions waiting for a batch.", st->pool);
    VAL("glasslog_pool_reserved", "gauge", "Pool slots in use (incl. being verified).",
        st->reserved);
    VAL("glasslog_checkpoint_age_seconds", "gauge",
        "Seconds since the served checkpoint was signed (with witnesses: the signing "
        "its cosignatures answered; while none is served, since start).",
        (double)time(NULL) - served_at);
    VAL("glasslog_storage_failed", "gauge", "1 if the last write failed.",
        st->storage_failed);
    VAL("glasslog_tile_cache_hits_total", "counter", "Tile cache hits.", hits);
    VAL("glasslog_tile_cache_misses_total", "counter", "Tile cache misses.", misses);
    VAL("glasslog_resident_memory_bytes", "gauge", "Resident set size.",
        gl_metrics_rss_bytes());
    VAL("glasslog_parked_appends", "gauge",
        "Durable appends waiting for a served checkpoint (witness cosignatures).",
        a->nwaiting);
    VAL("glasslog_parked_gone_total", "counter",
        "Parked appends freed because their client went away.", a->parked_gone);
    VAL("glasslog_store_reads_waiting", "gauge",
        "Read requests waiting for store reads off the event loop (database stores).",
        a->reads.jobs);
    VAL("glasslog_store_reads_refused_total", "counter",
        "Read requests answered 503: too many waited for store reads.", a->reads.refused);
    VAL("glasslog_store_reads_total", "counter",
        "Store reads done off the event loop for read requests (database stores): "
        "entries, bundles, tiles missing from the tile cache, index look-ups.",
        a->reads.reads);
#undef VAL
    if (rc == 0)
        rc = gl_metrics_http(&b, "glasslog_http", &hs);
    if (rc == 0 && a->pub != NULL)
        rc = publish_metrics(a->pub, &b);
    if (rc == 0)
        rc = mirrorpush_metrics(a->mpush, &b);
    if (rc == 0 && a->limits != NULL)
        rc = ratelimit_render(a->submitters, a->limits, a->nsubmitters, uv_now(a->loop),
                              &b);
    if (rc == 0)
        rc = gl_metrics_hist_render(&st->batch_size, "glasslog_batch_entries",
                                    "Entries per batch.", &b);
    if (rc == 0)
        rc = gl_metrics_hist_render(&st->queue_wait, "glasslog_queue_wait_seconds",
                                    "Time from submission to batch cut.", &b);
    if (rc == 0)
        rc = gl_metrics_hist_render(&st->integrate, "glasslog_integrate_seconds",
                                    "Time from batch cut to durable.", &b);
    rc = rc != 0 ? gl_http_reply_error(req, 500, "metrics too large")
                 : gl_http_reply(req, 200, "text/plain; version=0.0.4", hdr_nocache, 1,
                                 b.data, b.len);
    gl_buf_release(&b);
    return rc;
}

/* --- routing -------------------------------------------------------------------- */

static int is_get(const struct gl_http_req *req)
{
    return strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
}

static int method_not_allowed(struct gl_http_req *req, const char *allow)
{
    const struct gl_http_header h[] = {{"Allow", allow}, {"Cache-Control", "no-store"}};
    static const char body[] = "{\"error\":\"method not allowed\"}";

    return gl_http_reply(req, 405, "application/json", h, 2, body, sizeof(body) - 1);
}

int api_handle(void *ctx, struct gl_http_req *req)
{
    struct api *a = ctx;
    const char *p = req->path;

    if (strcmp(p, "/api/v1/add") == 0)
        return strcmp(req->method, "POST") == 0 ? api_add(a, req)
                                                : method_not_allowed(req, "POST");
    if (!is_get(req))
        return method_not_allowed(req, "GET, HEAD");
    if (strcmp(p, "/checkpoint") == 0)
        return api_checkpoint(a, req);
    if (gl_str_prefix(p, "/tile/") || readapi_wants(p)) {
        struct readapi_view v;
        if (a->reads.loop == NULL) {
            a->reads.loop = a->loop;
            a->reads.view = api_view_of;
            a->reads.ctx = a;
        }
        api_view(a, &v);
        return readapi_handle_async(&a->reads, &v, req, p);
    }
    if (strcmp(p, "/healthz") == 0)
        return api_healthz(a, req);
    if (strcmp(p, "/metrics") == 0)
        return api_metrics(a, req);
    return web_handle(a->web, req); /* the explorer, /policy, or 404 */
}

/*
 * api: glasslogd's HTTP interface (design.md section 5): C2SP tlog-tiles
 * reads, the JSON API, /healthz and /metrics. The only part of the log
 * that touches cJSON. Runs on the loop thread; submitter signatures are
 * checked on the libuv threadpool, appends settle through the sequencer.
 */
#ifndef GL_LOG_API_H
#define GL_LOG_API_H

#include <stddef.h>

#include <uv.h>

#include "glasslog/key.h"
#include "http_server.h"
#include "mirrorpush.h"
#include "publish.h"
#include "ratelimit.h"
#include "readapi.h"
#include "seq.h"
#include "store.h"
#include "tilecache.h"
#include "web.h"

struct api {
    uv_loop_t *loop;
    struct seq *seq;
    struct store *store;
    struct tilecache *cache;
    struct gl_http_server *http; /* for its counters; set after start */
    const struct gl_verifier *submitters;
    size_t nsubmitters;
    struct ratelimit *limits; /* nsubmitters buckets, submitters' order; NULL: none */
    unsigned checkpoint_interval_s;
    size_t adds_in_verify; /* signature checks queued or on the threadpool */
    /* appends waiting for a threadpool slot (api.c: add_verify_dispatch) */
    struct add_req *vq, *vq_tail;
    size_t vq_len, verify_inflight, verify_slots; /* slots 0: not yet known */
    struct publish *pub; /* witness cosigning, NULL without witnesses */
    /* Appends durable but not yet in the served checkpoint ("parked"):
     * a doubly linked list of at most waiting_max; one whose client
     * leaves is freed at once. */
    struct add_req *waiting;
    size_t nwaiting, waiting_max;
    uint64_t parked_gone;      /* parked appends whose client left */
    struct web *web;           /* the explorer and /policy (web.h); NULL: none */
    struct mirrorpush *mpush;  /* --mirrors (mirrorpush.h); NULL: none */
    struct gl_buf ck_mirrored; /* the served checkpoint with mirror lines */
    int read_only;             /* --read-only: appends get 410 */
    /* JSON reads waiting for a database (readapi_handle_async); set up on
     * the first read */
    struct readapi_async reads;
};

/* The served checkpoint changed: answer the appends it now covers. */
void api_served(void *ctx);
/* Shutting down: answers 503 with Retry-After to the appends still
 * parked (their entries are durable; a retry gets the original index). */
void api_shutdown(struct api *a);

/* The gl_http_handler for glasslogd; ctx is a struct api. */
int api_handle(void *ctx, struct gl_http_req *req);

#endif

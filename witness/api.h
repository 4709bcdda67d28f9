/*
 * api: the witness's HTTP interface (specs/witness.md):
 *
 *   POST /add-checkpoint                 C2SP tlog-witness
 *   GET  /<hex SHA-256(origin)>/checkpoint  monitoring: the latest cosigned
 *                                        checkpoint (log signatures plus
 *                                        ours), 404 if none
 *   GET  /evidence[?from=N&limit=M]      a page (JSON array) of the split-view
 *                                        evidence list, Link to the next one
 *   GET  /evidence/<id>                  one evidence file
 *   GET  /healthz, GET /metrics          (Prometheus text)
 *   POST /add-entries, GET /mirror/...   the mirror role (mirrorapi.h)
 *
 * add-checkpoint path: the loop thread parses the body and finds the log
 * (400/404), a threadpool worker verifies the log's signature (403), the
 * loop checks the remaining 400s and the log's rate limit (429), then the
 * engine decides, makes the state durable and cosigns (409/422/200); its
 * completion comes back to the loop through a uv_async_t, which replies.
 * The monitoring endpoint reads the engine's published state, which the
 * engine updates before completing the request, so a 200 is always
 * visible there by the time the client reads it.
 *
 * Each add-checkpoint holds a place (inflight.h) from the handler until it
 * is finished (answered, or dropped at shutdown), even after its client
 * left: its body copy and state stay queued (threadpool, engine) until
 * then, so the places bound that memory, which the connection limits do
 * not (a client can post, hang up and post again). At most
 * API_ADD_INFLIGHT_MAX are in flight; once half are taken, one client
 * holding its share (--conns-per-client: as many as the connections it
 * may hold open) gets no more. A request without a place gets 503 with
 * Retry-After: 1 and a one-line reason, before anything is copied or
 * queued (counted in /metrics).
 *
 * Loop thread only, except the engine's completion hand-off (locked).
 */
#ifndef GL_WITNESS_API_H
#define GL_WITNESS_API_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "engine.h"
#include "feeder.h"
#include "http_server.h"
#include "logs.h"
#include "wstore.h"

/* add-checkpoints in flight at most (each up to ADDCK_BODY_MAX plus its
 * state, about 6 KiB: some 18 MiB in all); far more than the logs a witness serves
 * push at once. */
#define API_ADD_INFLIGHT_MAX 256

struct api_bucket {
    double tokens;
    uint64_t last_ms;
};

struct add_req;
struct inflight;
struct mirrorapi_budget;

struct api {
    uv_loop_t *loop;
    struct engine *engine;
    const struct logs_list *logs;
    struct wstore *store;
    struct feeder *feeder;           /* may be NULL */
    struct mirror *mirror;           /* may be NULL (mirrorapi.h) */
    struct mirrorpull *const *mpull; /* the mirror's puller, for its counter;
                                      * NULL, or *mpull NULL: none */
    struct mirrorapi_budget *budget; /* add-entries in flight (mirrorapi.h);
                                      * NULL: unbounded; not owned */
    struct gl_http_server *http;     /* for its counters; may be NULL */
    struct api_bucket *buckets;      /* one per log */
    uv_async_t async;
    pthread_mutex_t mu;    /* guards done */
    struct add_req *done;  /* completed by the engine */
    size_t outstanding;    /* add-checkpoints in flight (places taken) */
    struct inflight *adds; /* their places; owned */
    int closing, async_closed;
    int paused;       /* a reload is switching the lists: adds get 503 */
    const char *down; /* static; not NULL: stopping after a fatal error,
                       * /healthz answers 503 with it */
    uint64_t rate_limited;
    uint64_t add_refused; /* add-checkpoints answered 503: no place */
};

/* Sets a up on loop (registers the async handle). */
int api_init(struct api *a, uv_loop_t *loop, struct engine *e,
             const struct logs_list *logs, struct wstore *store);
/* Sets the places of add-checkpoints in flight (api_init's: max
 * API_ADD_INFLIGHT_MAX, per_client GL_HTTP_DEFAULT_CONNS_PER_ADDR), as
 * inflight_new takes them. Only with none in flight (else GL_ESTATE);
 * GL_EINVAL, GL_ENOMEM leave the places as they were. */
int api_limit(struct api *a, size_t max, unsigned per_client);
/* The HTTP handler (gl_http_handler), ctx = a. */
int api_handle(void *ctx, struct gl_http_req *req);
/* The HTTP server has closed: close the async handle once every deferred
 * request has completed. */
void api_close(struct api *a);
/* Before a reload replaces the log list (loop thread, no add
 * outstanding): the rate buckets are remapped from old to next by origin
 * (logs new to the list start full), for a->logs to hold next afterwards.
 * GL_ENOMEM leaves everything as it was. */
int api_remap(struct api *a, const struct logs_list *old, const struct logs_list *next);

/* Frees what api_init allocated (after the loop has run the closes). */
void api_release(struct api *a);

#endif

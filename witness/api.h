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

struct api_bucket {
    double tokens;
    uint64_t last_ms;
};

struct add_req;
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
    pthread_mutex_t mu;   /* guards done */
    struct add_req *done; /* completed by the engine */
    size_t outstanding;   /* deferred add-checkpoints */
    int closing, async_closed;
    int paused;       /* a reload is switching the lists: adds get 503 */
    const char *down; /* static; not NULL: stopping after a fatal error,
                       * /healthz answers 503 with it */
    uint64_t rate_limited;
};

/* Sets a up on loop (registers the async handle). */
int api_init(struct api *a, uv_loop_t *loop, struct engine *e,
             const struct logs_list *logs, struct wstore *store);
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

/*
 * readapi: the JSON read API of a log (specs/log.md, HTTP table):
 * GET /api/v1/entries/<i>, /api/v1/proof/inclusion,
 * /api/v1/proof/consistency and /api/v1/lookup, computed from a view of
 * a tree: its store, a tree reader and the checkpoint note to serve.
 * glasslogd (api.c) serves its own tree through it; the witness's mirror
 * role (witness/mirrorapi.c) serves its copy of a log under
 * /mirror/<hex>/ through the same code, so both answer byte for byte the
 * same JSON for the same tree.
 *
 * Query strings are parsed strictly (name=value pairs; decimal and hex
 * values are never percent-encoded, lookup's subject and version are
 * percent-decoded), with size caps; unknown parameters and empty
 * segments are ignored, a known one given twice or without '=' is refused
 * naming it. Every error is a JSON
 * {"error": "..."} with its status; replies carry Cache-Control:
 * no-store. Runs on the thread that owns the view's tile cache.
 *
 * Off the loop (readapi_handle_async): on a store that is not embedded
 * (store_shared: PostgreSQL) a store read takes a round trip to a
 * database that may be slow, failing over, or locked, and must not stall
 * the event loop and every other request with it. There a request is
 * first computed on the loop from what the loop holds (the tile cache,
 * the tree's right edge); every store read it would need (an entry or
 * an entry bundle, a leaf or index lookup, a full tile missing from the
 * cache) is collected
 * instead, and nothing is answered. If none was needed the answer was
 * sent, as the synchronous path sends it. Else the request is deferred,
 * a libuv threadpool thread does those reads (the store is thread-safe:
 * store.h rule 5), and the request is computed again on the loop from
 * their results (tiles go through the cache), at most
 * READAPI_ASYNC_ROUNDS times (a lookup needs its index, then its
 * entries and the tiles of their proofs). Records never change, so a
 * result read for one round holds for the next; the view is taken anew
 * each round (the tree may have grown). No read is keyed by the size
 * served: a lookup's index is read with no upper bound and cut to the
 * size served when answering, so appends that move that size between
 * rounds cost no further round. A request that needs another round goes
 * to the head of the queue. A store read is done once however many
 * requests in flight want it: one whose turn comes takes the tiles the
 * cache holds by then, and waits in the queue while another's thread
 * does a read it wants (a tile, a bundle, an entry, a leaf hash's
 * look-up; never an index look-up), provided that thread does that one
 * read only or reads only tiles and bundles (else it does not wait); once
 * that read is done, it takes the tile from the cache and a copy of the
 * rest from that request's results (a few bundle copies at a time), or
 * reads it itself if that read failed or found nothing; one left with
 * nothing to read is computed again on the loop.
 * At most READAPI_ASYNC_MAX requests wait so at
 * once (each holds a place: inflight.h); once half of the places are taken, a client (an
 * address, an IPv6 /64; behind a reverse proxy, the proxy's) holding READAPI_ASYNC_CLIENT
 * of them gets no more (a 503 with Retry-After), so one client alone
 * cannot take the other half, while a busy one (a proxy, a CDN) is not
 * refused while places are plenty. They run on at most half the threadpool's threads (the
 * rest checks append signatures) and at most store_read_capacity of them
 * (a database's reads hold connections the loop's own store calls
 * need). A client that leaves meanwhile (gl_http_pending_on_gone) frees
 * its place at once while its request waits for a thread, else when its
 * reads come back (a thread cannot be called back from a database).
 * Embedded stores (RocksDB, mem) answer on the loop as before. The
 * loop's other store calls (readapi_tlogproof's tiles on a cache miss,
 * among others) stay on the loop: specs/log.md lists them.
 */
#ifndef GL_LOG_READAPI_H
#define GL_LOG_READAPI_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "glasslog/buf.h"
#include "http_server.h"
#include "inflight.h"
#include "readset.h"
#include "store.h"
#include "tilecache.h"
#include "tree.h"

#define READAPI_LOOKUP_MAX 100 /* statements in one lookup answer */
#define READAPI_ASYNC_MAX 64   /* requests waiting for store reads at once */
#define READAPI_ASYNC_CLIENT                                                             \
    8                          /* of them, from one client (addr_limit's key),           \
                                * once half are taken */
#define READAPI_ASYNC_ROUNDS 4 /* computations of one request after its first */

/* What the read API answers from; all borrowed for the call. */
struct readapi_view {
    struct store *store;
    const struct tree *tree; /* at a size >= size */
    struct tilecache *cache; /* a cache of this tree's tiles */
    uint64_t size;           /* entries and proofs: the tree's size (may be past
                                the checkpoint below, not yet cosigned) */
    /* The checkpoint note lookups and tlog-proofs embed, and its size
     * (<= size); NULL while none can be served. Called lazily, at most
     * once per tlog-proof. The note stays valid until the reply is sent. */
    const struct gl_buf *(*checkpoint)(void *ctx, uint64_t *size);
    void *ctx;
};

/* The reads waiting for the store (readapi_handle_async): a value the
 * server keeps for its lifetime, zeroed, then loop, view and ctx set.
 * Loop thread only. Requests in it keep the loop running until answered
 * (uv_queue_work), so it needs no teardown. */
struct readapi_job;
struct readapi_async {
    uv_loop_t *loop;
    /* Fills *v with the view to answer from now (called on the loop). */
    void (*view)(void *ctx, struct readapi_view *v);
    void *ctx;
    struct readapi_job *queue, *queue_tail; /* waiting for a thread */
    struct readapi_job *running;            /* on a thread */
    size_t jobs;      /* deferred requests not yet answered or dropped: the
                       * places taken in places */
    size_t inflight;  /* of them, on a threadpool thread */
    size_t slots;     /* threads they may take (0: not yet known; set from
                       * the threadpool's size and the store's read
                       * capacity at the first request on a shared store) */
    uint64_t refused; /* requests answered 503: no place (either bound) */
    uint64_t reads;   /* store reads done on threads for them, all rounds */
    /* the places of the waiting requests (inflight.h: READAPI_ASYNC_MAX,
     * READAPI_ASYNC_CLIENT of them per client once half are taken), one
     * per job counted in jobs; made when the first is taken and freed
     * when the last is given back, so that the value holds nothing while
     * no request waits and needs no teardown */
    struct inflight *places;
    /* the reads of running requests that others wait for (readapi.c: a
     * full tile, an entry bundle, an entry, a leaf hash's look-up), by
     * their keys */
    struct readset reading;
    /* the shared reads a job_after hands over to the queued jobs, by
     * their keys, each to its want's index in the finished job; empty
     * outside job_after (readapi.c) */
    struct readset_map ended;
};

/* 1 if path is one of the read API's (after any prefix the caller
 * strips): /api/v1/entries/..., /api/v1/proof/inclusion,
 * /api/v1/proof/consistency, /api/v1/lookup. */
int readapi_wants(const char *path);
/* Answers the GET or HEAD req for path (readapi_wants(path) must hold;
 * the query is req->query) from v. Returns what gl_http_reply returns. */
int readapi_handle(const struct readapi_view *v, struct gl_http_req *req,
                   const char *path);

/* readapi_handle, but on a store that is not embedded the store reads
 * leave the loop (see above): the request may be deferred, and answered
 * later on the loop. Besides readapi_wants's paths it serves glasslogd's
 * own tlog-tiles paths, /tile/... (hash tiles from the view's tree and
 * cache, entry bundles from its store; immutable, cacheable answers), the
 * GET or HEAD req for path. v is borrowed for the call (later rounds take
 * ra->view's). Returns what gl_http_reply returns, or 0 once deferred. */
int readapi_handle_async(struct readapi_async *ra, const struct readapi_view *v,
                         struct gl_http_req *req, const char *path);

/* Appends to out the tlog-proof of entry index against the view's
 * checkpoint. GL_ESTATE if none is served or index is not in it. Reads
 * the store on the calling thread (the proof's full tiles missing from
 * the cache). */
int readapi_tlogproof(const struct readapi_view *v, uint64_t index, struct gl_buf *out);

/* 503 with "Retry-After: 1", "Cache-Control: no-store" and
 * {"error": reason} (reason: any text, JSON-escaped here), on req or, when
 * p is not NULL, on the deferred request p: the answer while the log
 * cannot serve something for a moment (no checkpoint yet, back-pressure). */
int readapi_reply_retry(struct gl_http_req *req, struct gl_http_pending *p,
                        const char *reason);

/* Sends obj (consumed; NULL means out of memory: 500) as the JSON reply,
 * on req or, when p is not NULL, on the deferred request p. */
int readapi_reply_json(struct gl_http_req *req, struct gl_http_pending *p, int status,
                       cJSON *obj);

#endif

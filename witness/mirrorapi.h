/*
 * mirrorapi: the HTTP side of the mirror role (mirror.h), served by the
 * witness's handler (api.c) when a mirror is configured:
 *
 *   POST /add-entries                     C2SP tlog-mirror; body capped at
 *                                         the listener's max_body (the
 *                                         mirror listener: MIRRORAPI_BODY_MAX);
 *                                         Content-Encoding: gzip accepted
 *                                         (every member whole, CRC checked,
 *                                         else 400), decoded up to
 *                                         MIRRORAPI_BODY_MAX (past it: the
 *                                         whole packages before the cap
 *                                         count, then 202)
 *   GET  /mirror/<hex SHA-256(origin)>/checkpoint     the mirror checkpoint
 *   GET  /mirror/<hex SHA-256(origin)>/tile/...       tlog-tiles, byte for
 *                                         byte the log's
 *   GET  /mirror/<hex SHA-256(origin)>/api/v1/...     glasslogd's JSON read
 *                                         API (log/readapi.h): entries,
 *                                         proofs, lookup, at the mirror
 *                                         checkpoint
 *
 * add-entries is deferred to a libuv worker (storage and hashing), which
 * decodes and processes a private copy of the body; the reply is sent on
 * the loop thread. Loop thread only (the budget: any thread).
 *
 * Memory of add-entries in flight: every request from its handler call to
 * its reply holds its body (the server's buffer), the worker's copy and,
 * when gzipped, the decoded body as it grows; their bytes, over all
 * requests, are charged to a budget (struct mirrorapi_budget, api.h's
 * budget). A request that would take the total past the budget is
 * answered 503 with Retry-After and a one-line reason, at once, or when
 * its decoding outgrows it; a request is always taken when no other one
 * is in flight, so a budget smaller than one request never blocks
 * uploads (the total is then at most that one request). Every request
 * gives its bytes back when it is answered (whatever the answer), or
 * when the client left before the reply. The budget sees a body only
 * once the server has read it whole: the bodies still arriving are
 * bounded by the mirror listener's connection limits (main.c:
 * MIRRORAPI_CONNS_*), at most MIRRORAPI_BODY_MAX each.
 */
#ifndef GL_WITNESS_MIRRORAPI_H
#define GL_WITNESS_MIRRORAPI_H

#include "api.h"
#include "http_server.h"
#include "mirror.h"

/* The largest add-entries body taken, as sent (h2o answers 413 above it)
 * and decoded (a gzip stream decoding past it keeps what decoded): what
 * glasslogd's push and the puller build at most (GL_MIRROR_BODY_BUILT,
 * about 32.1 MiB), with room for deflate's growth of incompressible data
 * (under 0.05 %) and the gzip framing. */
#define MIRRORAPI_BODY_MAX ((size_t)34 << 20)
_Static_assert(GL_MIRROR_BODY_BUILT + GL_MIRROR_BODY_BUILT / 1024 + 4096 <=
                   MIRRORAPI_BODY_MAX,
               "a body the push builds, gzipped, must fit MIRRORAPI_BODY_MAX");
/* The mirror listener's connections (each may hold a body of
 * MIRRORAPI_BODY_MAX in the server before the handler runs): by default
 * the in-flight budget's worth of them, at least MIRRORAPI_CONNS_MIN, and
 * MIRRORAPI_CONNS_PER_CLIENT from one address. */
#define MIRRORAPI_CONNS_MIN 8
#define MIRRORAPI_CONNS_PER_CLIENT 4
#define MIRRORAPI_INFLIGHT_MB 256 /* the budget's default, in MiB */
#define MIRRORAPI_PREFIX "/mirror/"

struct mirrorapi_budget;

/* A budget of max_bytes (> 0) for add-entries in flight. Caller frees it
 * with mirrorapi_budget_free once no add-entries is in flight (the loop
 * has run to its end). GL_EINVAL, GL_ENOMEM. */
int mirrorapi_budget_new(size_t max_bytes, struct mirrorapi_budget **out);
void mirrorapi_budget_free(struct mirrorapi_budget *b);

/* Appends the mirror's Prometheus gauges to b: per mirrored origin, the
 * mirror checkpoint's size, the next entry and the newest pending size;
 * the uploads by encoding; with a budget, its bytes in flight, its bound
 * and the requests it refused. */
int mirrorapi_metrics(struct api *a, struct gl_buf *b);
/* 1 if req is for the mirror (its paths), else 0. */
int mirrorapi_wants(const struct gl_http_req *req);
/* Answers (or defers) a mirror request; a->mirror must be set. */
int mirrorapi_handle(struct api *a, struct gl_http_req *req);

#endif

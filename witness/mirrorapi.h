/*
 * mirrorapi: the HTTP side of the mirror role (mirror.h), served by the
 * witness's handler (api.c) when a mirror is configured:
 *
 *   POST /add-entries                     C2SP tlog-mirror; body capped at
 *                                         the listener's max_body (the
 *                                         mirror listener: MIRRORAPI_BODY_MAX);
 *                                         Content-Encoding: gzip accepted,
 *                                         decoded up to MIRRORAPI_BODY_MAX
 *                                         (past it: the whole packages
 *                                         before the cap count, then 202)
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
 * the loop thread. Loop thread only.
 */
#ifndef GL_WITNESS_MIRRORAPI_H
#define GL_WITNESS_MIRRORAPI_H

#include "api.h"
#include "http_server.h"
#include "mirror.h"

#define MIRRORAPI_BODY_MAX ((size_t)64 << 20)
#define MIRRORAPI_PREFIX "/mirror/"

/* Appends the mirror's Prometheus gauges to b: per mirrored origin, the
 * mirror checkpoint's size, the next entry and the newest pending size. */
int mirrorapi_metrics(struct api *a, struct gl_buf *b);
/* 1 if req is for the mirror (its paths), else 0. */
int mirrorapi_wants(const struct gl_http_req *req);
/* Answers (or defers) a mirror request; a->mirror must be set. */
int mirrorapi_handle(struct api *a, struct gl_http_req *req);

#endif

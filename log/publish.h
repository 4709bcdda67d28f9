/*
 * publish: gets glasslogd's checkpoints cosigned by its witnesses
 * (C2SP tlog-witness add-checkpoint) and decides which checkpoint is
 * served.
 *
 * For each new checkpoint the sequencer releases (already durable), every
 * witness gets one add-checkpoint request, in parallel, with a consistency
 * proof from the size that witness last cosigned (learnt from a 409 when
 * unknown). One request in flight per witness and only the latest
 * checkpoint is pushed; 429 and errors back off (0.5 s doubling to 30 s)
 * and retry. Each cosignature line is verified before it is kept.
 *
 * Served checkpoint: in block mode, the latest checkpoint whose
 * cosignatures satisfy the witness policy's quorum (nothing is served
 * before the first one, so a new log's size-0 checkpoint is cosigned
 * before it is served); in fail-open mode, the latest checkpoint at once,
 * with whatever cosignatures have arrived (a metric and a warning say when
 * the quorum is missing).
 *
 * Safety: at start, publish_probe asks every witness for its state; a
 * witness that has cosigned a larger tree, or another root at our size,
 * means the data was lost or replaced, and glasslogd refuses to sign.
 * Loop thread only.
 */
#ifndef GL_LOG_PUBLISH_H
#define GL_LOG_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "glasslog/buf.h"
#include "glasslog/merkle.h"
#include "glasslog/policy.h"

struct publish;

/* Computes a consistency proof m -> n from the log's tree (0 or GL_E*). */
typedef int (*publish_prove_fn)(void *ctx, uint64_t m, uint64_t n,
                                uint8_t (*proof)[GL_HASH_LEN], size_t *len);
/* Called when the served checkpoint changed (e.g. to answer waiters). */
typedef void (*publish_served_fn)(void *ctx);

struct publish_config {
    int block;            /* 1 block mode, 0 fail-open */
    unsigned timeout_ms;  /* per add-checkpoint request */
    publish_prove_fn prove;
    publish_served_fn served;
    void *ctx;
};

/* Takes ownership of pol (witness lines with URLs, groups, quorum).
 * *out freed with publish_free after publish_close and the loop ran. */
int publish_new(uv_loop_t *loop, struct gl_policy *pol, const struct publish_config *cfg,
                struct publish **out);
void publish_free(struct publish *p);
/* Stops timers and lets requests in flight finish; the loop can end. */
void publish_close(struct publish *p);

/* Start-up check, blocking (before the loop runs): for each reachable
 * witness learns its size and, at our own size, whether it agrees with
 * our checkpoint. GL_ESTATE (logged, with the witness and sizes) if a
 * witness proves our data lost or replaced. Unreachable witnesses are
 * logged and skipped. */
int publish_probe(struct publish *p, const uint8_t *note, size_t len, uint64_t size);

/* A new durable checkpoint (log-signed note of `size`): pushed to all. */
void publish_checkpoint(struct publish *p, const uint8_t *note, size_t len, uint64_t size);

/* The served checkpoint (note with cosignatures) and its size; *note NULL
 * while nothing can be served (block mode before the first quorum). */
void publish_served(const struct publish *p, const struct gl_buf **note, uint64_t *size);

/* Appends Prometheus lines about witnesses to out. */
int publish_metrics(const struct publish *p, struct gl_buf *out);

#endif

/*
 * publish: gets glasslogd's checkpoints cosigned by its witnesses
 * (C2SP tlog-witness add-checkpoint) and decides which checkpoint is
 * served.
 *
 * Every checkpoint the sequencer releases (already durable) joins a short
 * history; a cosignature for any checkpoint of the history counts for that
 * checkpoint, however late it arrives. Witnesses are asked in rounds: a
 * round targets the newest checkpoint at the time it starts, every witness
 * without a cosignature of it is asked (one request in flight per witness;
 * a busy witness is asked as soon as its answer comes back), and the round
 * ends when the target has a quorum, or when no request for it is left in
 * flight; the next round targets the newest checkpoint then. So witnesses
 * are always asked about the same checkpoint (a quorum forms even when
 * batches come faster than a witness answers), and each checkpoint that
 * gets a quorum releases every append it covers. A witness's 409 teaches
 * its size and is retried at once; a second 409 in a row, 429, errors and
 * timeouts back off (0.5 s doubling to 30 s).
 *
 * Served checkpoint: in block mode, the newest checkpoint whose
 * cosignatures satisfy the witness policy's quorum (nothing is served
 * before the first one, so a new log's size-0 checkpoint is cosigned
 * before it is served). In fail-open mode the same, as long as the
 * witnesses that last answered well could still make a quorum; once they
 * cannot (errors, timeouts), the newest checkpoint at once, with whatever
 * cosignatures it has (a metric and a warning say so). The served size
 * never goes down. Re-releasing the same size (the periodic re-signing)
 * asks the witnesses again, so served cosignatures stay fresh.
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
    int block;           /* 1 block mode, 0 fail-open */
    unsigned timeout_ms; /* per add-checkpoint request */
    publish_prove_fn prove;
    publish_served_fn served;
    void *ctx;
};

/* Takes ownership of pol (witness lines with URLs, groups, quorum).
 * *out freed with publish_free after publish_close and the loop ran. */
int publish_new(uv_loop_t *loop, struct gl_policy *pol, const struct publish_config *cfg,
                struct publish **out);
void publish_free(struct publish *p);
/* Cancels the requests in flight and closes the handles; the loop can end
 * once they are closed. The served checkpoint stays readable. */
void publish_close(struct publish *p);

/* Start-up check, blocking (before the loop runs): for each reachable
 * witness learns its size and, at our own size, whether it agrees with
 * our checkpoint (note, of size; a witness that has cosigned nothing
 * cosigns it: so it must be durable). stored: the size the store holds,
 * at least size (a shared store's front-end probes with the checkpoint
 * the sequencer marked durable, which may be behind it; otherwise equal
 * to size). GL_ESTATE (logged, with the witness and sizes) if a
 * witness proves our data lost or replaced: it cosigned more than
 * stored, or another tree of size; one that cosigned more than size but
 * not more than stored is learned, nothing more. Unreachable witnesses are
 * logged and skipped (and count as failing until they answer), unless
 * `every` (a store that is a copy, which only the witnesses can show to
 * be current): then a witness that does not answer with its size is
 * GL_ESTATE too (logged, naming it), and so is a policy that names no
 * witness (nothing can show the copy current). */
int publish_probe(struct publish *p, const uint8_t *note, size_t len, uint64_t size,
                  uint64_t stored, int every);

/* A new durable checkpoint (log-signed note of `size`, never smaller than
 * the previous one): pushed to the witnesses. */
void publish_checkpoint(struct publish *p, const uint8_t *note, size_t len,
                        uint64_t size);

/* The served checkpoint (note with cosignatures) and its size; *note NULL
 * while nothing can be served (block mode before the first quorum). */
void publish_served(const struct publish *p, const struct gl_buf **note, uint64_t *size);

/* When the served checkpoint was signed (wall-clock seconds): the latest
 * release of its size that its quorum of cosignatures answered (a
 * re-signing the witnesses did not cosign leaves it; fail-open without a
 * quorum, and a follower's adopted note: when it was served). While
 * nothing is served, when publish_new ran, so the age keeps growing. */
void publish_served_time(const struct publish *p, double *at);

/* A follower of a shared store: serves the note the sequencer served
 * (store_get_served), if it is larger than the served one, or the same
 * size with other (fresher) cosignatures. Calls the served callback if
 * it changed. */
void publish_adopt(struct publish *p, const uint8_t *note, size_t len, uint64_t size);

/* Fail-open shutdown: serves the newest checkpoint now, with the
 * cosignatures it has (calls the served callback if it changed), unless
 * it is smaller than the served one (a follower's own older checkpoint). */
void publish_serve_newest(struct publish *p);

/* A reloaded witness policy (ownership taken; checked by the caller: every
 * witness has a URL): applied as soon as no request is in flight (new
 * requests wait for it). Witnesses equal to old ones (name, key, URL) keep
 * their state and cosignatures; the served checkpoint stays. New
 * witnesses are not probed (publish_probe runs at start-up only). */
void publish_set_policy(struct publish *p, struct gl_policy *pol);

/* Appends Prometheus lines about witnesses to out. */
int publish_metrics(const struct publish *p, struct gl_buf *out);

#endif

/*
 * seq: glasslogd's sequencer, the write path of design.md section 2.
 *
 *   submit -> bounded pool -> batch cut (batch_ms after the first waiting
 *   submission, or at batch_max entries or batch_bytes) -> writer thread:
 *   dedup, assign indices, extend a copy of the tree, sign the new
 *   checkpoint, ONE synced RocksDB WriteBatch -> loop thread: publish
 *   tree + checkpoint, then answer.
 *
 * Invariants:
 *  - at most one batch is in flight; the published tree and checkpoint
 *    change only on the loop thread, after their batch is durable, so no
 *    reply and no checkpoint ever describes state that is not on disk;
 *  - every tree signed extends the durable tree: after a failed write the
 *    store is reopened (RocksDB replays its write-ahead log) and the
 *    durable state reloaded from it before the next batch (the failed
 *    batch may or may not have reached the disk); until that succeeds,
 *    appends answer 503 and reads are served (seq.c, seq_recover);
 *  - a commit refused by the store's compare-and-set (GL_ESTATE: another
 *    sequencer published on a shared store) is never retried or built
 *    on: this sequencer stops (logged), appends answer 503, reads go on;
 *  - the pool holds at most pool_max submissions, counting those whose
 *    signatures are still being checked (seq_reserve), so memory is bounded
 *    and overload answers 503 at once.
 *
 * On a shared store (several glasslogd on one PostgreSQL database) the
 * sequencer runs in every process but sequences only while it holds the
 * store's lease (store_lease; renewed every lease_ms / 6, held for
 * 2/3 of lease_ms, so a dead holder is replaced within lease_ms). The
 * others follow: their batches are queued in the store (durably), and a
 * submission is settled when the tree marked durable (store_get_durable),
 * polled every SEQ_POLL_MS, covers its leaf. A follower takes a tree only
 * if it extends the one it served; a smaller stored tree, or one of
 * another history, stops it for good (as a sequencer's reload does). Of
 * the copies of one statement taken by any of the front-ends, only the
 * one that created the entry is answered dup = 0: the holder records
 * with each leaf the queue id of the queued copy that created it (0: its
 * own submission), and a follower's copy is the first only if that id is
 * its row's (store_find_leaves_origin). A new holder releases and builds
 * on nothing before it made the stored state durable and marked it
 * (store_mark_durable, on the writer thread): the state may be on the
 * primary alone, and with no mark under the new epoch an idle log's
 * followers would serve no tree; at each renewal it marks again a
 * released tree whose mark is missing (a mark that failed or was lost).
 * The
 * holder keeps half of each batch for the queue's submissions. The holder's batches take
 * the queue's oldest submissions along with its own and delete them in the same commit,
 * whose compare-and-set carries the lease's epoch: a holder that lost the lease (paused,
 * cut off) can no longer publish, and follows. All seq_* functions run on the loop
 * thread.
 */
#ifndef GL_LOG_SEQ_H
#define GL_LOG_SEQ_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "glasslog/buf.h"
#include "glasslog/error.h"
#include "glasslog/key.h"
#include "entryindex.h"
#include "metrics.h"
#include "store.h"
#include "tree.h"

struct seq;
struct seq_sub;

/* Called on the loop thread when a submission is settled: status 0 with
 * *index (and dup = 1 unless this submission created the entry: it was
 * logged already, or another copy, taken here or by another front-end,
 * created it), or why it was not:
 *   GL_EIO          the batch could not be made durable (storage failure);
 *   SEQ_ESTOPPED    this process stopped sequencing (its commit lost the
 *                   compare-and-set, or the store lost released data);
 *   SEQ_EWAIT       a follower's: queued in the shared store, but not
 *                   sequenced within SEQ_WAIT_MAX_S (seq.c);
 *   SEQ_ESHUTDOWN   a follower's: queued, and this process shuts down.
 * A queued submission stays queued: a retry gets its index. */
#define SEQ_ESTOPPED GL_ESTATE
#define SEQ_EWAIT (-101)
#define SEQ_ESHUTDOWN (-102)
typedef void (*seq_done_fn)(void *arg, int status, uint64_t index, int dup);

/* Told of every checkpoint released (new size or re-signed), on the loop
 * thread, after it is durable. */
typedef void (*seq_checkpoint_fn)(void *ctx, const uint8_t *note, size_t len,
                                  uint64_t size);

/* Statement bytes in one batch: seq_config.batch_bytes (0 = the default).
 * A batch also holds each entry's leaf, index keys and tile hashes (at
 * most about 2 KiB an entry), so with glasslogd's largest --batch-max
 * (65536) a batch stays well below the most one store write holds
 * (STORE_BATCH_MAX, 1 GiB), however large the statements. */
#define SEQ_BATCH_BYTES_DEFAULT ((size_t)64 << 20)
#define SEQ_BATCH_BYTES_MAX ((size_t)256 << 20)

struct seq_config {
    seq_checkpoint_fn on_checkpoint; /* may be NULL */
    void *ctx;
    unsigned batch_ms;              /* cut a batch this long after its first entry */
    unsigned batch_max;             /* or when this many entries wait */
    unsigned pool_max;              /* submissions waiting or being verified */
    unsigned checkpoint_interval_s; /* re-sign an unchanged tree this often */
    /* A follower of a shared store looked at it (every poll and change
     * notice), after taking any new tree; may be NULL. */
    void (*on_follow)(void *ctx);
    /* Or before the waiting statements' bytes would pass this (a batch
     * takes at least one), at most SEQ_BATCH_BYTES_MAX; 0: the default. */
    size_t batch_bytes;
};

struct seq_stats {
    uint64_t appends, duplicates, batches, write_failures;
    uint64_t pool, reserved;
    struct gl_metrics_hist batch_size; /* entries per batch (plain numbers) */
    struct gl_metrics_hist queue_wait; /* seconds from submit to batch cut */
    struct gl_metrics_hist integrate;  /* seconds from batch cut to durable */
    double last_checkpoint;            /* wall-clock time of the last (re)signing */
    int storage_failed;                /* the last write failed */
};

/* Starts the sequencer over an opened store whose durable state is `tree`
 * and `checkpoint` (copied). key (copied, wiped at free) signs checkpoints;
 * its name is the origin. *out freed with seq_free after seq_shutdown
 * completed. */
int seq_new(uv_loop_t *loop, struct store *store, const struct gl_signer *key,
            const struct tree *tree, const uint8_t *checkpoint, size_t checkpoint_len,
            const struct seq_config *cfg, struct seq **out);
void seq_free(struct seq *s);
/* On a shared store (store_shared), right after seq_new: starts taking
 * part in the lease, as `holder` (this process's name, unique among the
 * front-ends, copied), the lease lasting lease_ms (at least 60). Until
 * then, and without it, the sequencer follows. */
int seq_share(struct seq *s, unsigned lease_ms, const char *holder);

/* Reserves a pool slot for a submission about to be verified.
 * GL_ETOOBIG if the pool is full, GL_ESTATE when shutting down. */
int seq_reserve(struct seq *s);
/* Gives back a reserved slot (the submission was refused). */
void seq_unreserve(struct seq *s);
/* Queues a verified submission into its reserved slot: `data` (len bytes,
 * copied), its leaf hash and its index keys (offsets into data). done(arg,
 * ...) is called exactly once, later, on the loop thread. */
int seq_submit(struct seq *s, const uint8_t *data, size_t len,
               const uint8_t leaf[GL_HASH_LEN], const struct entryindex *ix,
               seq_done_fn done, void *arg);

/* The published tree and signed checkpoint (valid until control returns
 * to the loop). */
const struct tree *seq_tree(const struct seq *s);
const struct gl_buf *seq_checkpoint(const struct seq *s);
const struct seq_stats *seq_stats(const struct seq *s);
/* 1 if this process sequences (always, unless it follows a shared store). */
int seq_leads(const struct seq *s);
/* 1 while this process holds a shared store's lease but has not yet
 * loaded the stored state made durable and marked (seq.c, seq_sync: just
 * after taking the lease, or after a failed write): the published tree
 * is still the one it had before (a follower's marked tree, or none). */
int seq_syncing(const struct seq *s);

/* Stops taking submissions, settles everything already taken (the batch in
 * flight and the pool), stops the writer thread and closes the
 * sequencer's handles, then calls done(arg) on the loop thread. */
void seq_shutdown(struct seq *s, void (*done)(void *arg), void *arg);

#endif

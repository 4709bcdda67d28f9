/*
 * seq: the sequencer; contract and invariants in seq.h.
 *
 * Threads: the loop thread owns the pool, the published tree (pub) and
 * checkpoint, the timers and the stats. The writer thread owns `work` and
 * `next_ckpt` while a batch is in flight (inflight = 1) and reads pub,
 * which the loop thread does not change meanwhile, and the lease's state
 * as the cut saw it (batch_leader, batch_epoch), never leader or epoch,
 * which the lease timer changes at any time. They meet at `mu`/`cv`
 * (loop -> writer: has_work) and `async` (writer -> loop: batch done).
 * After a commit the two trees and the two checkpoint buffers swap roles.
 */
#include "seq.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "glasslog/checkpoint.h"
#include "glasslog/error.h"
#include "glasslog/log.h"
#include "glasslog/merkle.h"
#include "glasslog/statement.h"
#include "clock.h"

#define CKPT_MAX 4096
#define RECOVER_INTERVAL_S                                                               \
    1.0 /* between attempts to reopen a failed store: the first wait, */
#define RECOVER_INTERVAL_MAX_S 30.0 /* doubled after each failed attempt up to this, */
#define RECOVER_BUSY_SHARE                                                               \
    10.0               /* and at least this many times the last attempt's length */
#define SEQ_POLL_MS 10 /* shared stores: tree and queue polled this often, */
#define SEQ_POLL_WATCHED_MS 100 /* or this often while the store's notices arrive */
#define SEQ_REWATCH_MS 1000     /* after the notices broke: watch again this often */
#define SEQ_WAIT_MAX_S 30.0     /* a queued submission not logged by then: 503 */
#define META_LEN 48             /* queue metadata (meta_of): sha256, 4 x u32 */

struct seq_sub {
    struct seq_sub *next;
    uint8_t leaf[GL_HASH_LEN];
    struct entryindex ix;
    double t_submit;
    seq_done_fn done;
    void *arg;
    uint64_t index;
    int dup;
    uint64_t qid;         /* taken from the shared queue (done is NULL) */
    uint64_t mine;        /* a follower's: the queue id of the copy it queued
                             (0: none, it waits as a duplicate) */
    uint64_t known_index; /* the leaf's index, if `known` (looked up per batch) */
    uint8_t known;
    int queued; /* follower: awaiting the tree (its statement queued, or
                   already stored or queued by an earlier submission) */
    size_t len;
    uint8_t data[];
};

/* Open-addressing set of the leaf hashes of the batch in flight. */
struct leafset {
    size_t cap; /* power of two */
    struct leafset_slot {
        const uint8_t *leaf; /* NULL = empty */
        uint64_t index;
    } * slots;
};

struct seq {
    uv_loop_t *loop;
    struct store *store;
    struct gl_signer key;
    struct seq_config cfg;
    struct tree *pub, *work;
    struct gl_buf ckpt, next_ckpt;
    struct seq_stats st;
    /* pool (loop thread) */
    struct seq_sub *head, *tail;
    size_t npool, reserved;
    /* the batch in flight */
    struct seq_sub **batch;
    size_t nbatch, batch_bytes; /* batch_bytes: its statements' bytes */
    /* a shared store's sequencer: the pool's submissions the batch in
     * flight left for the queue's (seq_integrate), in pool order; back to
     * the pool's head at settling (at most batch_max / 2 + 1) */
    struct seq_sub **deferred;
    size_t ndeferred;
    unsigned queue_turn; /* 1: this batch gives an odd batch_max's odd entry
                          * to the shared queue (seq_take_queue) */
    int inflight, batch_rc, need_reload;
    /* a shared store's holder: the stored state is to be made durable,
     * marked and loaded (seq_sync) before anything is released or
     * sequenced; batch_sync: the work in flight is that */
    int need_sync, batch_sync;
    uint64_t sync_size; /* the state seq_sync loaded into work */
    double t_sync;      /* when a seq_sync last failed (0: it did not) */
    int lost;           /* sequencing stopped for good: a commit lost the compare-and-set,
                           or the stored tree does not extend the released one */
    /* shared stores */
    int shared, leader, batch_leader; /* batch_leader: at the cut */
    uint64_t epoch, batch_epoch;      /* the lease's; batch_epoch: at the cut */
    struct seq_sub *waiting;          /* queued by this follower, not yet in the tree */
    uv_timer_t lease, poll;           /* started by seq_share */
    uv_poll_t watch;                  /* the store's change notices */
    int watching;
    int watch_lost;      /* the notices broke: seq_rewatch tries again */
    int watch_closing;   /* watch's close callback is still to come */
    uint64_t rewatch_at; /* gl_clock_mono_ms of the next try */
    unsigned lease_ms;   /* 0 until seq_share */
    char holder[512];
    double t_cut, t_done, t_recover;
    double recover_wait; /* after the last reopen attempt, before the next */
    struct leafset set;
    /* writer thread */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int has_work, stop, thread_started;
    /* handles */
    uv_async_t async;
    uv_timer_t timer, resign;
    int open_handles, nhandles, closing, closed;
    void (*on_shut)(void *arg);
    void *shut_arg;
};

static double now_wall(void)
{
    return (double)time(NULL);
}

/* --- writer thread -------------------------------------------------------- */

static struct leafset_slot *leafset_find(struct leafset *set,
                                         const uint8_t leaf[GL_HASH_LEN])
{
    size_t i;

    memcpy(&i, leaf, sizeof(i));
    for (i &= set->cap - 1;; i = (i + 1) & (set->cap - 1))
        if (set->slots[i].leaf == NULL ||
            memcmp(set->slots[i].leaf, leaf, GL_HASH_LEN) == 0)
            return &set->slots[i];
}

/* Sets sub's index: an existing entry's (dup) or the next one (appended to
 * work and the write batch). */
static int seq_place(struct seq *s, struct seq_sub *sub, uint64_t old_size,
                     struct store_batch *b)
{
    struct leafset_slot *slot;
    uint64_t idx;
    int rc;

    if (sub->qid != 0)
        store_batch_delete_queued(b, sub->qid);
    if (sub->len == 0) { /* an unusable queue record: dropped */
        sub->dup = 1;
        return 0;
    }
    slot = leafset_find(&s->set, sub->leaf);
    if (slot->leaf != NULL) {
        sub->index = slot->index;
        sub->dup = 1;
        return 0;
    }
    idx = sub->known_index;
    if (sub->known && idx < old_size) {
        sub->index = idx;
        sub->dup = 1;
        return 0;
    }
    sub->index = s->work->range.size;
    sub->dup = 0;
    if ((rc = tree_append(s->work, sub->leaf, b)) != 0)
        return rc;
    store_batch_put_entry(b, sub->index, sub->data, sub->len);
    /* the origin names the queued copy that created the entry, so the
     * front-end that queued it, and only it, answers it as the first */
    store_batch_put_leaf_origin(b, sub->leaf, sub->index, sub->qid);
    entryindex_put(&sub->ix, sub->data, sub->index, b);
    slot->leaf = sub->leaf;
    slot->index = sub->index;
    return 0;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* An entryindex as queue metadata (META_LEN bytes): sha256 and the
 * subject and version offsets. This sequencer does not read it
 * (queue_take derives every key from the statement); it is written so a
 * sequencer of an earlier glasslogd, which needs it, takes the row during
 * a rolling upgrade. */
static void meta_of(const struct entryindex *ix, uint8_t out[META_LEN])
{
    memcpy(out, ix->sha256, 32);
    put_be32(out + 32, ix->subject_off);
    put_be32(out + 36, ix->subject_len);
    put_be32(out + 40, ix->version_off);
    put_be32(out + 44, ix->version_len);
}

/* 1 if a statement of len bytes may join the batch being cut (the first
 * always does). */
static int seq_fits(const struct seq *s, size_t len)
{
    return s->nbatch == 0 || (s->batch_bytes <= s->cfg.batch_bytes &&
                              len <= s->cfg.batch_bytes - s->batch_bytes);
}

/* store_queue_scan callback: a queued submission joins the batch (an
 * unusable record joins empty, to be deleted). Its index keys are derived
 * from the statement itself, as for an append taken here (entryindex_of);
 * the queue metadata is not read. */
static int queue_take(void *ctx, uint64_t id, const struct store_queued *q)
{
    struct seq *s = ctx;
    int ok = q->len > 0 && q->len <= GL_STATEMENT_MAX_SIZE;
    struct seq_sub *sub;
    struct gl_statement st;

    if (!seq_fits(s, ok ? q->len : 0))
        return 1; /* left in the queue for the next batch */
    if ((sub = malloc(sizeof(*sub) + (ok ? q->len : 0))) == NULL)
        return GL_ENOMEM;
    memset(sub, 0, sizeof(*sub));
    sub->qid = id;
    if (ok)
        memcpy(sub->data, q->data, q->len);
    if (ok && gl_statement_parse((const char *)sub->data, q->len, &st, NULL) == 0 &&
        gl_merkle_leaf_hash(sub->data, q->len, sub->leaf) == 0) {
        entryindex_of(&st, sub->data, &sub->ix);
        sub->len = q->len;
    } else {
        gl_log(GL_LOG_ERROR, "queued submission %llu is unusable: dropped",
               (unsigned long long)id);
    }
    s->batch[s->nbatch++] = sub;
    s->batch_bytes += sub->len;
    return s->nbatch == s->cfg.batch_max ? 1 : 0;
}

/* A follower's batch: what the tree already holds is settled as a
 * duplicate, the rest written to the shared queue (on the writer thread),
 * once: a statement already stored (beyond the published tree) or twice
 * in the batch waits for the tree as a duplicate without a queue row.
 * Settled by seq_resolve, which decides first versus repeat. */
static int seq_queue_batch(struct seq *s)
{
    struct store_queued *q = calloc(s->nbatch, sizeof(*q));
    uint8_t(*meta)[META_LEN] = calloc(s->nbatch, META_LEN);
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
    struct seq_sub **who = calloc(s->nbatch, sizeof(*who));
    uint64_t *ids = calloc(s->nbatch, sizeof(*ids));
    size_t n = 0;
    int rc = 0;

    if (q == NULL || meta == NULL || who == NULL || ids == NULL) {
        rc = GL_ENOMEM;
        goto out;
    }
    memset(s->set.slots, 0, s->set.cap * sizeof(*s->set.slots));
    for (size_t i = 0; i < s->nbatch && rc == 0; i++) {
        struct seq_sub *sub = s->batch[i];
        struct leafset_slot *slot;
        uint64_t idx;
        rc = store_find_leaf(s->store, sub->leaf, &idx);
        if (rc == 0 && idx < s->pub->range.size) {
            sub->index = idx;
            sub->dup = 1;
            continue;
        }
        if (rc != 0 && rc != GL_ENOTFOUND)
            break;
        slot = leafset_find(&s->set, sub->leaf);
        if (rc == 0 || slot->leaf != NULL) { /* logged already, or queued just now */
            rc = 0;
            sub->dup = 1;
            sub->queued = 1;
            continue;
        }
        slot->leaf = sub->leaf;
        rc = 0;
        meta_of(&sub->ix, meta[n]);
        q[n] = (struct store_queued){sub->data, meta[n], sub->len, META_LEN};
        sub->queued = 1;
        who[n++] = sub;
    }
    if (rc == 0)
        rc = store_queue_put(s->store, q, n, ids);
    for (size_t i = 0; rc == 0 && i < n; i++)
        who[i]->mine = ids[i];
out:
    free(q);
    free(meta);
    free(who);
    free(ids);
    return rc;
}

/* Looks the batch's leaf hashes up in the store, all at once (one query
 * on PostgreSQL, instead of one round trip per entry). */
static int seq_lookup(struct seq *s)
{
    const uint8_t **hashes = malloc(s->nbatch * sizeof(*hashes) + 1);
    uint64_t *idx = malloc(s->nbatch * sizeof(*idx) + 1);
    uint8_t *found = malloc(s->nbatch + 1);
    int rc = GL_ENOMEM;

    if (hashes != NULL && idx != NULL && found != NULL) {
        for (size_t i = 0; i < s->nbatch; i++)
            hashes[i] = s->batch[i]->leaf;
        rc = store_find_leaves(s->store, s->nbatch, hashes, idx, found);
        for (size_t i = 0; rc == 0 && i < s->nbatch; i++) {
            s->batch[i]->known = found[i];
            s->batch[i]->known_index = idx[i];
        }
    }
    free(hashes);
    free(idx);
    free(found);
    return rc;
}

/* A shared store's queue joins the batch: its oldest submissions, up to
 * the room left, and at least half of batch_max (of an odd one, the
 * odd entry every other batch) and half of batch_bytes however many of
 * this process's own the cut took. Without that share, a sequencer whose
 * own pool stays full would never take the other front-ends' submissions
 * (they would wait until SEQ_WAIT_MAX_S and answer 503): so the cut's
 * last submissions step aside (s->deferred) for the queue's, and those
 * the queue did not take the place of rejoin the batch. The bytes count
 * as the entries do: a cut full by bytes (large statements, a large
 * batch_max) leaves the queue no room otherwise. */
static int seq_take_queue(struct seq *s)
{
    /* half; of an odd batch_max, the odd entry goes to the queue every
     * other batch (with --batch-max 1: one batch for the queue, the next
     * for this process's own, so neither side waits while the other's
     * stays full) */
    size_t share = s->cfg.batch_max / 2 + (s->cfg.batch_max & 1 & s->queue_turn), keep;
    size_t own_bytes = s->cfg.batch_bytes - s->cfg.batch_bytes / 2;
    int rc;

    s->queue_turn ^= 1;
    s->ndeferred = 0;
    keep = s->nbatch > s->cfg.batch_max - share ? s->cfg.batch_max - share : s->nbatch;
    while (s->nbatch > keep || (s->nbatch > 0 && s->batch_bytes > own_bytes)) {
        struct seq_sub *sub = s->batch[--s->nbatch];
        s->batch_bytes -= sub->len;
        s->deferred[s->ndeferred++] = sub;
    }
    rc = store_queue_scan(s->store, s->cfg.batch_max - s->nbatch, queue_take, s);
    /* the deferred back, oldest first, while they fit */
    while (s->ndeferred > 0 && s->nbatch < s->cfg.batch_max &&
           seq_fits(s, s->deferred[s->ndeferred - 1]->len)) {
        struct seq_sub *sub = s->deferred[--s->ndeferred];
        s->batch_bytes += sub->len;
        s->batch[s->nbatch++] = sub;
    }
    return rc;
}

/* Integrates the batch in flight: on the writer thread. On a shared
 * store, the queue's oldest submissions join it (seq_take_queue). */
static int seq_integrate(struct seq *s)
{
    struct store_batch *b = NULL;
    uint64_t old_size = s->pub->range.size;
    uint8_t root[GL_HASH_LEN];
    int rc, queued = 0;

    memcpy(s->work, s->pub, sizeof(*s->work));
    memset(s->set.slots, 0, s->set.cap * sizeof(*s->set.slots));
    if (s->shared && (rc = seq_take_queue(s)) != 0)
        return rc;
    if ((rc = seq_lookup(s)) != 0 || (rc = store_batch_new(s->store, &b)) != 0)
        return rc;
    for (size_t i = 0; i < s->nbatch; i++) {
        queued |= s->batch[i]->qid != 0;
        if ((rc = seq_place(s, s->batch[i], old_size, b)) != 0)
            goto out;
    }
    if (s->work->range.size == old_size) {
        /* only duplicates: nothing to write but the queue's deletions */
        if (queued)
            rc = store_batch_commit(b, &(struct store_expect){old_size, s->batch_epoch});
        goto out;
    }
    tree_finish_batch(s->work, old_size, b);
    gl_buf_reset(&s->next_ckpt);
    if ((rc = tree_root(s->work, root)) != 0 ||
        (rc = gl_checkpoint_sign(s->key.name, s->work->range.size, root, &s->key,
                                 &s->next_ckpt)) != 0)
        goto out;
    store_batch_put_state(b, s->work->range.size, s->next_ckpt.data, s->next_ckpt.len);
    rc = store_batch_commit(b, &(struct store_expect){old_size, s->batch_epoch});
out:
    store_batch_free(b);
    return rc;
}

/* On the writer thread: makes the stored state known durable and marks
 * it for the followers under the lease's epoch (store_mark_durable: a
 * commit whose wait covers the state's), then loads its tree into work
 * (its checkpoint into next_ckpt). seq_settle checks that it extends
 * the released tree and releases it. */
static int seq_sync(struct seq *s)
{
    int rc;

    gl_buf_reset(&s->next_ckpt);
    if ((rc = store_mark_durable(s->store, s->batch_epoch, &s->sync_size,
                                 &s->next_ckpt)) == 0)
        rc = tree_load(s->work, s->store, s->sync_size);
    return rc;
}

static void *seq_thread(void *arg)
{
    struct seq *s = arg;

    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->has_work && !s->stop)
            pthread_cond_wait(&s->cv, &s->mu);
        if (!s->has_work)
            break;
        pthread_mutex_unlock(&s->mu);
        s->batch_rc = s->batch_sync                   ? seq_sync(s)
                      : s->shared && !s->batch_leader ? seq_queue_batch(s)
                                                      : seq_integrate(s);
        s->t_done = gl_clock_mono();
        pthread_mutex_lock(&s->mu);
        s->has_work = 0;
        uv_async_send(&s->async);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* --- loop thread ---------------------------------------------------------- */

static void seq_check_shutdown(struct seq *s);
static void seq_rewatch(struct seq *s);
static void seq_released(struct seq *s);

/* The stored tree of `size` (loaded into work if size is at least the
 * released one) must extend the released one (pub): a
 * stored tree that is smaller, or is another tree at the released size,
 * means released data was lost (an asynchronous standby promoted, a disk
 * rolled back). Signing on from it would release a second history, so
 * sequencing stops (appends answer 503): GL_ESTATE. */
static int seq_check_extends(struct seq *s, uint64_t size)
{
    uint64_t released = s->pub->range.size;
    uint8_t had[GL_HASH_LEN], has[GL_HASH_LEN];
    int rc;

    if (size >= released) {
        if ((rc = tree_root(s->pub, had)) != 0 ||
            (rc = tree_root_at(s->work, s->store, released, has)) != 0)
            return rc;
        if (memcmp(had, has, GL_HASH_LEN) == 0)
            return 0;
    }
    gl_log(GL_LOG_ERROR,
           "store: released data lost: the stored tree of size %llu does not extend the "
           "released checkpoint of size %llu; this glasslogd stops sequencing, "
           "releases no newer checkpoint and answers appends 503",
           (unsigned long long)size, (unsigned long long)released);
    s->lost = 1;
    s->st.storage_failed = 1;
    return GL_ESTATE;
}

/* Re-reads the durable state after a failed write (which may or may not
 * have reached the disk): the next tree must extend what is on disk, and
 * what is on disk what was released (seq_check_extends). */
/* The tree in work, signed as *ck, becomes the one served; the old one
 * goes back to work and its checkpoint buffer to *ck (both reused). */
static void seq_take_work(struct seq *s, struct gl_buf *ck)
{
    struct tree *t = s->pub;
    struct gl_buf tmp = s->ckpt;

    s->pub = s->work;
    s->work = t;
    s->ckpt = *ck;
    *ck = tmp;
}

static int seq_reload(struct seq *s)
{
    struct gl_buf ck;
    uint64_t size;
    int rc;

    gl_buf_init(&ck, CKPT_MAX);
    if ((rc = store_get_state(s->store, &size, &ck)) == 0 &&
        (rc = tree_load(s->work, s->store, size)) == 0 &&
        (rc = seq_check_extends(s, size)) == 0) {
        seq_take_work(s, &ck);
        s->need_reload = 0;
        gl_log(GL_LOG_INFO, "store: reloaded durable state at size %llu",
               (unsigned long long)size);
        seq_released(s);
    }
    gl_buf_release(&ck);
    return rc;
}

/* After a failed write. RocksDB keeps refusing writes after one failed
 * (its background error state; and the failed batch may sit in its
 * write-ahead log without being in its memtables), so the store is
 * reopened, as a restart would: the write-ahead log is replayed, what
 * reached the disk (all of the failed batch or none of it) becomes the
 * records and is flushed to synced tables, and the durable state is
 * reloaded from there. Nothing is written through the failed handle
 * again. If the disk still fails, the store stays open read-only (reads
 * keep working) and appends answer 503; tried again at the next batch or
 * re-signing, once the wait after the last attempt's end has passed. An
 * attempt runs on the loop and, on a full disk, replays the whole
 * write-ahead log twice (the writable open, then the read-only one) to
 * fail again: the wait starts at RECOVER_INTERVAL_S, doubles after each
 * failure, is at least RECOVER_BUSY_SHARE times the last attempt's length
 * (reopen and reload), so reads keep most of the loop, and at most
 * RECOVER_INTERVAL_MAX_S, so a freed disk is written again soon. A
 * shared store reconnects off the loop, within its bound, and is tried
 * every RECOVER_INTERVAL_S (a fail-over must not wait longer). */
static int seq_recover(struct seq *s)
{
    double t = gl_clock_mono(), took;
    int rc;

    if (s->t_recover != 0 && t - s->t_recover < s->recover_wait)
        return GL_EIO;
    rc = store_reopen(s->store);
    if (rc == 0 && !s->shared)
        rc = seq_reload(s);
    /* from the attempt's end (the reopen and the reload): a reopen that
     * store calls under way held up for the loop's whole bound leaves the
     * loop free RECOVER_BUSY_SHARE times as long (at most the cap) */
    s->t_recover = gl_clock_mono();
    took = s->t_recover - t;
    /* after a success too: a later failure's attempt waits the first wait */
    s->recover_wait = s->recover_wait == 0 || s->shared || rc == 0 ? RECOVER_INTERVAL_S
                                                                   : s->recover_wait * 2;
    if (!s->shared && s->recover_wait < took * RECOVER_BUSY_SHARE)
        s->recover_wait = took * RECOVER_BUSY_SHARE;
    if (s->recover_wait > RECOVER_INTERVAL_MAX_S)
        s->recover_wait = RECOVER_INTERVAL_MAX_S;
    if (rc != 0) {
        if (!s->lost)
            gl_log(GL_LOG_ERROR,
                   "store: not recovered (%s); appends answer 503, retrying",
                   gl_strerror(rc));
        return rc;
    }
    if (s->shared) {
        /* the stored state (which may hold the failed batch, committed on
         * the primary alone) is taken once made durable: seq_sync, by the
         * lease holder. A follower has nothing to make durable (it only
         * queues): reconnected, it is sound again, or /healthz would keep
         * it out of a balancer's rotation, and so without the append
         * that would clear it. */
        s->need_reload = 0;
        s->need_sync = 1;
        if (!s->leader)
            s->st.storage_failed = 0;
        gl_log(GL_LOG_INFO, s->leader
                                ? "store: reconnected; the stored state is made durable "
                                  "before appending again"
                                : "store: reconnected; queueing again");
        return 0;
    }
    s->st.storage_failed = 0;
    gl_log(GL_LOG_INFO, "store: recovered; appending again");
    return 0;
}

/* Answers the whole pool `status` (seq_done_fn). */
static void seq_fail_pool(struct seq *s, int status)
{
    while (s->head != NULL) {
        struct seq_sub *sub = s->head;
        s->head = sub->next;
        s->npool--;
        s->reserved--;
        sub->done(sub->arg, status, 0, 0);
        free(sub);
    }
    s->tail = NULL;
    seq_check_shutdown(s); /* the last reservation may have gone */
}

/* Hands the oldest waiting submissions to the writer: at most batch_max,
 * and at most batch_bytes of statements (the first one always), so one
 * batch stays far below what one store write can hold (STORE_BATCH_MAX). */
static void seq_cut(struct seq *s)
{
    double t = gl_clock_mono();

    if (s->inflight || (s->npool == 0 && !(s->shared && s->leader && !s->closing)))
        return;
    uv_timer_stop(&s->timer);
    if (s->lost || (s->need_reload && seq_recover(s) != 0)) {
        seq_fail_pool(s, s->lost ? SEQ_ESTOPPED : GL_EIO);
        return;
    }
    s->nbatch = 0;
    s->batch_bytes = 0;
    if (s->shared && s->leader && s->need_sync) {
        /* the stored state first (seq_sync); a failed one is tried again
         * at most once per RECOVER_INTERVAL_S, appends answering 503 */
        if (s->t_sync != 0 && t - s->t_sync < RECOVER_INTERVAL_S) {
            seq_fail_pool(s, GL_EIO);
            return;
        }
        s->t_cut = t;
        s->inflight = 1;
        s->batch_sync = 1;
        s->batch_leader = 1;
        s->batch_epoch = s->epoch;
        pthread_mutex_lock(&s->mu);
        s->has_work = 1;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
        return;
    }
    while (s->head != NULL && s->nbatch < s->cfg.batch_max && seq_fits(s, s->head->len)) {
        struct seq_sub *sub = s->head;
        s->batch_bytes += sub->len;
        s->head = sub->next;
        s->npool--;
        gl_metrics_hist_observe(&s->st.queue_wait, t - sub->t_submit);
        s->batch[s->nbatch++] = sub;
    }
    if (s->head == NULL)
        s->tail = NULL;
    /* An empty cut only on a shared store's sequencer: it takes the
     * database's queue. */
    assert(s->nbatch <= s->cfg.batch_max && (s->nbatch >= 1 || (s->shared && s->leader)));
    s->t_cut = t;
    s->inflight = 1;
    s->batch_leader = !s->shared || s->leader;
    s->batch_epoch = s->epoch;
    pthread_mutex_lock(&s->mu);
    s->has_work = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void seq_on_timer(uv_timer_t *t)
{
    seq_cut(t->data);
}

/* Cuts now if the oldest submission waited batch_ms (or the pool is
 * full enough), else arms the timer for the rest of its wait. */
static void seq_schedule(struct seq *s)
{
    double waited;

    if (s->inflight || s->npool == 0)
        return;
    waited = gl_clock_mono() - s->head->t_submit;
    if (s->closing || s->npool >= s->cfg.batch_max || waited * 1000 >= s->cfg.batch_ms) {
        seq_cut(s);
        return;
    }
    uv_timer_start(&s->timer, seq_on_timer,
                   (uint64_t)(s->cfg.batch_ms - waited * 1000) + 1, 0);
}

static void seq_released(struct seq *s)
{
    s->st.last_checkpoint = now_wall();
    if (s->cfg.on_checkpoint != NULL)
        s->cfg.on_checkpoint(s->cfg.ctx, s->ckpt.data, s->ckpt.len, s->pub->range.size);
}

/* Settles the submissions this follower queued that the tree now holds
 * (one batched leaf look-up for all of them, store_find_leaves_origin:
 * one query per commit notice on PostgreSQL), and, when shutting down or
 * after SEQ_WAIT_MAX_S, those it holds not: 503 (they are durable in the
 * queue; a retry gets their index). The duplicate flag is the store's:
 * a submission is the first (duplicate 0) only if the entry's recorded
 * origin is the queue id of its own copy (seq_place wrote it in the
 * commit that created the entry). So of all the copies of a statement,
 * whichever front-ends took them, exactly one answer says duplicate 0:
 * the creator's (a sequencer's own submission records origin 0, which no
 * queued copy has). A failed look-up (or no memory for it) settles
 * nothing but the expired: the next notice looks again. The list is
 * detached while callbacks run, so a callback may submit. */
static void seq_resolve(struct seq *s)
{
    struct seq_sub *list = s->waiting, *keep = NULL, **ktail = &keep, *sub, *next;
    struct seq_sub **done = NULL;
    const uint8_t **hashes = NULL;
    uint64_t *idx = NULL, *origin = NULL;
    uint8_t *found = NULL;
    double t = gl_clock_mono();
    size_t n = 0, i, ndone = 0;

    if (list == NULL)
        return;
    for (sub = list; sub != NULL; sub = sub->next)
        n++;
    if (n <= SIZE_MAX / sizeof(uint64_t)) {
        hashes = malloc(n * sizeof(*hashes));
        idx = malloc(n * sizeof(*idx));
        origin = malloc(n * sizeof(*origin));
        found = malloc(n);
        /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
        done = malloc(n * sizeof(*done));
    }
    if (hashes != NULL && idx != NULL && origin != NULL && found != NULL &&
        done != NULL) {
        for (sub = list, i = 0; sub != NULL; sub = sub->next)
            hashes[i++] = sub->leaf;
        if (store_find_leaves_origin(s->store, n, hashes, idx, origin, found) != 0)
            memset(found, 0, n);
    } else {
        free(found);
        found = NULL;
    }
    s->waiting = NULL;
    for (sub = list, i = 0; sub != NULL; sub = next, i++) {
        next = sub->next;
        if (!s->lost && found != NULL && found[i] && idx[i] < s->pub->range.size) {
            sub->index = idx[i];
            sub->dup = sub->dup || sub->mine == 0 || origin[i] != sub->mine;
            done[ndone++] = sub;
            continue;
        } else if (s->lost || s->closing || t - sub->t_submit > SEQ_WAIT_MAX_S) {
            sub->done(sub->arg,
                      s->lost      ? SEQ_ESTOPPED
                      : s->closing ? SEQ_ESHUTDOWN
                                   : SEQ_EWAIT,
                      0, 0);
        } else {
            *ktail = sub;
            ktail = &sub->next;
            continue;
        }
        s->reserved--;
        free(sub);
    }
    *ktail = NULL;
    for (i = 0; i < ndone; i++) {
        sub = done[i];
        sub->dup ? s->st.duplicates++ : s->st.appends++;
        sub->done(sub->arg, 0, sub->index, sub->dup);
        s->reserved--;
        free(sub);
    }
    *ktail = s->waiting; /* any a callback submitted meanwhile */
    s->waiting = keep;
    free(done);
    free(hashes);
    free(idx);
    free(origin);
    free(found);
}

/* A batch refused by the compare-and-set (store.h rule 3): never retried,
 * never rebuilt on. On a shared store this process follows (it may take
 * the lease again later, with a new epoch and the tree reloaded); alone,
 * it stops sequencing. */
static void seq_lost(struct seq *s)
{
    s->st.write_failures++;
    if (s->shared && s->leader && s->batch_epoch != s->epoch) {
        /* built under an older epoch; the lease was taken again since
         * (seq_on_lease asked for the reload the next batch makes) */
        gl_log(GL_LOG_WARN,
               "sequencer: batch of %zu built under epoch %llu refused; sequencing on "
               "under epoch %llu",
               s->nbatch, (unsigned long long)s->batch_epoch,
               (unsigned long long)s->epoch);
        s->need_reload = 1;
        return;
    }
    if (s->shared) {
        gl_log(GL_LOG_ERROR,
               "sequencer: batch of %zu refused: another sequencer published "
               "or has taken over (epoch %llu is stale); this glasslogd stops sequencing "
               "and "
               "follows",
               s->nbatch, (unsigned long long)s->epoch);
        s->leader = 0;
        return;
    }
    gl_log(GL_LOG_ERROR,
           "batch of %zu refused: the stored tree is no longer the one it "
           "extends (another sequencer published); this glasslogd stops sequencing and "
           "answers appends 503",
           s->nbatch);
    s->st.storage_failed = 1;
    s->lost = 1;
}

/* A seq_sync done: the state it made durable and marked is released if
 * it extends the released tree (seq_check_extends); else it is tried
 * again (seq_cut), unless released data was lost. A sync started under
 * an earlier epoch than the lease's now (the lease was lost and taken
 * again while it ran) read a state another holder may have extended
 * since: what it loaded is released, but the next cut syncs again under
 * the current epoch before anything is sequenced. */
static void seq_settle_sync(struct seq *s)
{
    int rc = s->batch_rc;

    s->inflight = 0;
    s->batch_sync = 0;
    if (rc == 0 && (rc = seq_check_extends(s, s->sync_size)) == 0) {
        seq_take_work(s, &s->next_ckpt);
        s->need_sync = s->batch_epoch != s->epoch;
        s->t_sync = 0;
        s->st.storage_failed = 0;
        gl_log(GL_LOG_INFO,
               "sequencer: the stored tree of size %llu is durable, marked so for the "
               "followers (epoch %llu)",
               (unsigned long long)s->sync_size, (unsigned long long)s->batch_epoch);
        seq_released(s);
        return;
    }
    if (s->lost) /* logged by seq_check_extends */
        return;
    s->t_sync = gl_clock_mono();
    gl_log(GL_LOG_WARN,
           "sequencer: cannot make the stored state durable and mark it: %s; appends "
           "answer 503, retrying",
           gl_strerror(rc));
}

static void seq_settle(struct seq *s)
{
    int rc = s->batch_rc;

    assert(s->inflight); /* at most one batch in flight, and this is it */
    if (s->batch_sync) {
        seq_settle_sync(s);
        return;
    }
    /* every tree this sequencer signed extends the published one (a
     * follower's batch only queues) */
    assert(rc != 0 || !s->batch_leader || s->work->range.size >= s->pub->range.size);
    s->inflight = 0;
    if (rc == 0 && s->batch_leader && s->work->range.size != s->pub->range.size) {
        seq_take_work(s, &s->next_ckpt);
        seq_released(s);
    }
    if (rc == 0 && s->nbatch > 0) {
        s->st.storage_failed = 0;
        s->st.batches++;
        gl_metrics_hist_observe(&s->st.integrate, s->t_done - s->t_cut);
        gl_metrics_hist_observe(&s->st.batch_size, (double)s->nbatch);
    } else if (rc == GL_ESTATE) {
        seq_lost(s);
    } else if (rc == GL_ETOOBIG) {
        /* refused while being built (store.c): nothing was written, the
         * store is sound; only this batch is answered 503 */
        gl_log(GL_LOG_ERROR,
               "batch of %zu (%zu statement bytes) too big for one write; answering 503",
               s->nbatch, s->batch_bytes);
        s->st.write_failures++;
    } else if (rc != 0) {
        gl_log(GL_LOG_ERROR, "batch of %zu failed: %s; answering 503", s->nbatch,
               gl_strerror(rc));
        s->st.write_failures++;
        s->st.storage_failed = 1;
        s->need_reload = 1;
        seq_recover(s);
    }
    for (size_t i = 0; i < s->nbatch; i++) {
        struct seq_sub *sub = s->batch[i];
        if (sub->done == NULL) { /* taken from the shared queue */
            free(sub);
            continue;
        }
        if (rc == 0 && sub->queued) { /* a follower's: settled by seq_resolve */
            sub->next = s->waiting;
            s->waiting = sub;
            continue;
        }
        if (rc == 0)
            sub->dup ? s->st.duplicates++ : s->st.appends++;
        sub->done(sub->arg,
                  rc == 0           ? 0
                  : rc == GL_ESTATE ? SEQ_ESTOPPED
                                    : GL_EIO,
                  sub->index, sub->dup);
        s->reserved--;
        free(sub);
    }
    s->nbatch = 0;
    /* what stepped aside for the queue: back to the pool's head, in order
     * (deferred[0] is the newest) */
    for (size_t i = 0; i < s->ndeferred; i++) {
        struct seq_sub *sub = s->deferred[i];
        sub->next = s->head;
        s->head = sub;
        if (s->tail == NULL)
            s->tail = sub;
        s->npool++;
    }
    s->ndeferred = 0;
    if (s->shared)
        seq_resolve(s);
}

/* --- shared stores: the lease and the poll (loop thread) -------------------- */

/* The holder, at a renewal: the tree it released is to be marked durable
 * under its epoch (store_get_durable). A mark that failed or was lost
 * (mark_durable logs a failure, a fail-over may lose one) would hold
 * the followers back, an idle log's for good: seq_sync marks it again. */
static void seq_check_mark(struct seq *s)
{
    struct gl_buf ck;
    uint64_t size = 0;
    int rc;

    if (s->inflight || s->need_sync || s->need_reload)
        return; /* a batch or seq_sync marks */
    gl_buf_init(&ck, CKPT_MAX);
    rc = store_get_durable(s->store, &size, &ck);
    gl_buf_release(&ck);
    if (rc == 0 ? size >= s->pub->range.size : rc != GL_ENOTFOUND)
        return;
    gl_log(GL_LOG_INFO,
           "sequencer: the released tree of size %llu is not marked durable under "
           "epoch %llu: marking it",
           (unsigned long long)s->pub->range.size, (unsigned long long)s->epoch);
    s->need_sync = 1;
    s->t_sync = 0;
    seq_cut(s);
}

/* Takes or renews the lease; a new holder makes the stored tree durable,
 * marks and loads it first (seq_sync). */
static void seq_on_lease(uv_timer_t *t)
{
    struct seq *s = t->data;
    uint64_t epoch = 0;
    int rc;

    if (s->closing)
        return;
    if (s->lost) { /* never sequences again: leaves the lease to another */
        if (s->leader && store_lease_release(s->store, s->holder, s->epoch) == 0)
            gl_log(GL_LOG_WARN, "sequencer: gave the lease up (epoch %llu)",
                   (unsigned long long)s->epoch);
        s->leader = 0;
        return;
    }
    rc = store_lease(s->store, s->holder, s->lease_ms * 2 / 3, s->leader ? s->epoch : 0,
                     &epoch);
    if (rc == 0 && (!s->leader || epoch != s->epoch)) {
        gl_log(GL_LOG_INFO, "sequencer: %s took the lease (epoch %llu); sequencing",
               s->holder, (unsigned long long)epoch);
        s->epoch = epoch;
        s->leader = 1;
        /* the stored state may be on the primary alone (its sequencer
         * died before its commit's wait completed) and is marked under no
         * epoch of ours: made durable and marked before it is released or
         * built on (seq_sync), so an idle log's followers get a tree */
        s->need_sync = 1;
        s->t_sync = 0;
        seq_cut(s);
    } else if (rc == 0) {
        seq_check_mark(s);
    } else if (rc == GL_ESTATE && s->leader) {
        gl_log(GL_LOG_WARN, "sequencer: lost the lease (epoch %llu); following",
               (unsigned long long)s->epoch);
        s->leader = 0;
    } else if (rc != 0 && rc != GL_ESTATE) {
        gl_log(GL_LOG_WARN, "sequencer: cannot take or renew the lease: %s",
               gl_strerror(rc));
    }
}

/* The holder: a batch for the queue. A follower: the tree the store
 * holds now, and the submissions it covers. */
static void seq_on_poll(uv_timer_t *t)
{
    struct seq *s = t->data;
    struct gl_buf ck;
    uint64_t size;

    if (s->inflight || s->closing)
        return;
    seq_rewatch(s);
    if (s->leader) {
        seq_cut(s);
        return;
    }
    if (s->lost) { /* the store lost what this process served: take nothing */
        seq_resolve(s);
        return;
    }
    gl_buf_init(&ck, CKPT_MAX);
    /* A stored tree smaller than the one served stops this follower for
     * good (seq_check_extends). A larger one is taken once marked durable
     * (store_get_durable: committed on the primary alone, it may yet be
     * lost to a fail-over), and only if it extends the one served (one of
     * another history stops this follower too). */
    if (store_get_state(s->store, &size, &ck) == 0 && size < s->pub->range.size) {
        seq_check_extends(s, size);
        size = 0;
    } else {
        gl_buf_reset(&ck);
        if (store_get_durable(s->store, &size, &ck) != 0)
            size = 0;
    }
    if (size > s->pub->range.size && tree_load(s->work, s->store, size) == 0 &&
        seq_check_extends(s, size) == 0) {
        seq_take_work(s, &ck);
        seq_released(s);
    }
    gl_buf_release(&ck);
    seq_resolve(s);
    if (!s->lost && s->cfg.on_follow != NULL)
        s->cfg.on_follow(s->cfg.ctx);
}

int seq_leads(const struct seq *s)
{
    return !s->shared || s->leader;
}

int seq_syncing(const struct seq *s)
{
    return s->shared && s->leader && (s->need_sync || s->need_reload);
}

static void seq_on_async(uv_async_t *a)
{
    struct seq *s = a->data;
    int done;

    pthread_mutex_lock(&s->mu);
    done = s->inflight && !s->has_work;
    pthread_mutex_unlock(&s->mu);
    if (!done)
        return;
    seq_settle(s);
    seq_schedule(s);
    seq_check_shutdown(s);
}

/* Re-signs an unchanged tree so clients see a live log. Ed25519 is
 * deterministic, so the bytes stay the same; what changes is that the
 * log vouched for them again (and /healthz sees it). Not while the store
 * has failed and is not recovered, nor once released data was found
 * lost: a log that cannot append does not look live. */
static void seq_on_resign(uv_timer_t *t)
{
    struct seq *s = t->data;
    uint8_t root[GL_HASH_LEN];
    struct gl_buf ck;

    if (s->inflight || s->closing || s->lost ||
        (s->shared && (!s->leader || s->need_sync)))
        return; /* a holder's seq_sync releases the stored state */
    if (s->need_reload && seq_recover(s) == 0)
        return; /* recovered: the reloaded checkpoint was just released */
    if (s->lost || s->need_reload)
        return; /* released data found lost (sign nothing more), or the
                 * store not recovered yet: vouch again once it is */
    gl_buf_init(&ck, CKPT_MAX);
    if (tree_root(s->pub, root) == 0 &&
        gl_checkpoint_sign(s->key.name, s->pub->range.size, root, &s->key, &ck) == 0) {
        gl_buf_release(&s->ckpt);
        s->ckpt = ck;
        seq_released(s);
        return;
    }
    gl_log(GL_LOG_ERROR, "cannot re-sign the checkpoint");
    gl_buf_release(&ck);
}

int seq_reserve(struct seq *s)
{
    if (s->closing)
        return GL_ESTATE;
    if (s->reserved >= s->cfg.pool_max)
        return GL_ETOOBIG;
    s->reserved++;
    return 0;
}

void seq_unreserve(struct seq *s)
{
    assert(s->reserved > 0);
    s->reserved--;
    seq_check_shutdown(s);
}

int seq_submit(struct seq *s, const uint8_t *data, size_t len,
               const uint8_t leaf[GL_HASH_LEN], const struct entryindex *ix,
               seq_done_fn done, void *arg)
{
    struct seq_sub *sub = malloc(sizeof(*sub) + len);

    if (sub == NULL)
        return GL_ENOMEM;
    memset(sub, 0, sizeof(*sub));
    memcpy(sub->data, data, len);
    sub->len = len;
    memcpy(sub->leaf, leaf, GL_HASH_LEN);
    sub->ix = *ix;
    sub->done = done;
    sub->arg = arg;
    sub->t_submit = gl_clock_mono();
    if (s->tail != NULL)
        s->tail->next = sub;
    else
        s->head = sub;
    s->tail = sub;
    s->npool++;
    if (s->npool >= s->cfg.batch_max || s->closing)
        seq_cut(s);
    else if (s->npool == 1 && !s->inflight)
        uv_timer_start(&s->timer, seq_on_timer, s->cfg.batch_ms, 0);
    return 0;
}

const struct tree *seq_tree(const struct seq *s)
{
    return s->pub;
}

const struct gl_buf *seq_checkpoint(const struct seq *s)
{
    return &s->ckpt;
}

const struct seq_stats *seq_stats(const struct seq *s)
{
    ((struct seq *)s)->st.pool = s->npool;
    ((struct seq *)s)->st.reserved = s->reserved;
    return &s->st;
}

static void seq_on_close(uv_handle_t *h)
{
    struct seq *s = h->data;

    if (--s->open_handles == 0) {
        s->closed = 1;
        if (s->on_shut != NULL)
            s->on_shut(s->shut_arg);
    }
}

/* Finishes a shutdown once nothing is reserved or in flight: stops the
 * writer thread and closes the handles, once (thread_started is cleared,
 * so a later call, before the handles' close callbacks ran, does nothing). */
static void seq_check_shutdown(struct seq *s)
{
    if (!s->closing || s->closed || !s->thread_started ||
        s->open_handles != s->nhandles || s->reserved != 0 || s->inflight)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    s->thread_started = 0;
    uv_close((uv_handle_t *)&s->async, seq_on_close);
    uv_close((uv_handle_t *)&s->timer, seq_on_close);
    uv_close((uv_handle_t *)&s->resign, seq_on_close);
    if (s->lease_ms != 0) {
        if (s->watching) {
            s->watching = 0;
            uv_close((uv_handle_t *)&s->watch, seq_on_close);
            store_watch_close(s->store);
        }
        uv_close((uv_handle_t *)&s->lease, seq_on_close);
        uv_close((uv_handle_t *)&s->poll, seq_on_close);
        if (s->leader && store_lease_release(s->store, s->holder, s->epoch) == 0)
            gl_log(GL_LOG_INFO, "sequencer: gave the lease up");
    }
}

void seq_shutdown(struct seq *s, void (*done)(void *arg), void *arg)
{
    if (s->closing)
        return;
    s->closing = 1;
    s->on_shut = done;
    s->shut_arg = arg;
    seq_cut(s);
    if (s->shared)
        seq_resolve(s);
    seq_check_shutdown(s);
}

static int seq_init_handles(struct seq *s)
{
    if (uv_async_init(s->loop, &s->async, seq_on_async) != 0)
        return GL_EIO;
    s->open_handles++;
    uv_timer_init(s->loop, &s->timer);
    s->open_handles++;
    uv_timer_init(s->loop, &s->resign);
    s->open_handles++;
    s->async.data = s->timer.data = s->resign.data = s;
    if (s->cfg.checkpoint_interval_s > 0)
        uv_timer_start(&s->resign, seq_on_resign, s->cfg.checkpoint_interval_s * 1000ULL,
                       s->cfg.checkpoint_interval_s * 1000ULL);
    s->nhandles = s->open_handles;
    return 0;
}

int seq_new(uv_loop_t *loop, struct store *store, const struct gl_signer *key,
            const struct tree *tree, const uint8_t *checkpoint, size_t checkpoint_len,
            const struct seq_config *cfg, struct seq **out)
{
    struct seq *s = calloc(1, sizeof(*s));
    size_t cap = 16;
    int rc = GL_ENOMEM;

    if (s == NULL)
        return GL_ENOMEM;
    if (cfg->batch_max == 0 || cfg->pool_max == 0 || cfg->batch_max > 1u << 20 ||
        cfg->batch_bytes > SEQ_BATCH_BYTES_MAX) {
        free(s);
        return GL_EINVAL;
    }
    s->loop = loop;
    s->store = store;
    s->shared = store_shared(store);
    s->st.batch_size.of_counts = 1;
    s->key = *key;
    s->cfg = *cfg;
    if (s->cfg.batch_bytes == 0)
        s->cfg.batch_bytes = SEQ_BATCH_BYTES_DEFAULT;
    gl_buf_init(&s->ckpt, CKPT_MAX);
    gl_buf_init(&s->next_ckpt, CKPT_MAX);
    while (cap < 2 * (size_t)cfg->batch_max)
        cap *= 2;
    s->set.cap = cap;
    s->set.slots = calloc(cap, sizeof(*s->set.slots));
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
    s->batch = calloc(cfg->batch_max, sizeof(*s->batch));
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
    s->deferred = calloc(cfg->batch_max / 2 + 1, sizeof(*s->deferred));
    s->pub = malloc(sizeof(*s->pub));
    s->work = malloc(sizeof(*s->work));
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (s->set.slots == NULL || s->batch == NULL || s->deferred == NULL ||
        s->pub == NULL || s->work == NULL ||
        gl_buf_append(&s->ckpt, checkpoint, checkpoint_len) != 0)
        goto fail;
    memcpy(s->pub, tree, sizeof(*tree));
    s->st.last_checkpoint = now_wall();
    if (pthread_create(&s->thread, NULL, seq_thread, s) != 0) {
        rc = GL_EIO;
        goto fail;
    }
    s->thread_started = 1;
    /* Last: only the first handle can fail, and then none is open. */
    if ((rc = seq_init_handles(s)) != 0)
        goto fail;
    *out = s;
    seq_released(s);
    return 0;
fail:
    gl_log(GL_LOG_ERROR, "sequencer setup failed: %s", gl_strerror(rc));
    seq_free(s);
    return rc;
}

static void seq_watch_closed(uv_handle_t *h)
{
    struct seq *s = h->data;

    s->watch_closing = 0;
    s->open_handles--;
    s->nhandles--;
    seq_check_shutdown(s);
}

static void seq_unwatch(struct seq *s)
{
    if (!s->watching)
        return;
    s->watching = 0;
    s->watch_closing = 1;
    uv_close((uv_handle_t *)&s->watch, seq_watch_closed); /* stops polling at once */
    store_watch_close(s->store);
}

/* Another process committed or queued: act as the poll would, now. */
static void seq_on_watch(uv_poll_t *h, int status, int events)
{
    struct seq *s = h->data;
    int n;

    (void)events;
    n = status == 0 ? store_watch_drain(s->store) : GL_EIO;
    if (n < 0) {
        gl_log(GL_LOG_WARN,
               "sequencer: change notices lost; polling every %d ms, and watching "
               "again every %d ms",
               SEQ_POLL_MS, SEQ_REWATCH_MS);
        seq_unwatch(s);
        s->watch_lost = 1;
        s->rewatch_at = gl_clock_mono_ms() + SEQ_REWATCH_MS;
        uv_timer_set_repeat(&s->poll, SEQ_POLL_MS);
        return;
    }
    if (n > 0)
        seq_on_poll(&s->poll);
}

/* Watches the store's change notices (LISTEN/NOTIFY), so a follower
 * answers and a sequencer takes the queue without waiting for a poll. */
static void seq_watch(struct seq *s)
{
    int fd;

    if (store_watch_fd(s->store, &fd) != 0)
        return;
    if (uv_poll_init(s->loop, &s->watch, fd) != 0) {
        store_watch_close(s->store);
        return;
    }
    s->watch.data = s;
    s->watching = 1;
    s->open_handles++;
    s->nhandles++;
    uv_poll_start(&s->watch, UV_READABLE, seq_on_watch);
}

/* After the notices broke: watches again (the store makes the connection
 * off the loop, so a try that is not ready yet costs nothing) at most
 * every SEQ_REWATCH_MS; once it watches, polls go back to
 * SEQ_POLL_WATCHED_MS (this poll covers the notices missed meanwhile). */
static void seq_rewatch(struct seq *s)
{
    uint64_t now;

    if (!s->watch_lost || s->watching || s->watch_closing || s->closing)
        return;
    if ((now = gl_clock_mono_ms()) < s->rewatch_at)
        return;
    s->rewatch_at = now + SEQ_REWATCH_MS;
    seq_watch(s);
    if (!s->watching)
        return;
    s->watch_lost = 0;
    gl_log(GL_LOG_INFO, "sequencer: change notices back; polling every %d ms",
           SEQ_POLL_WATCHED_MS);
    uv_timer_set_repeat(&s->poll, SEQ_POLL_WATCHED_MS);
}

int seq_share(struct seq *s, unsigned lease_ms, const char *holder)
{
    if (!s->shared || lease_ms < 60 || holder == NULL || *holder == 0 ||
        strlen(holder) >= sizeof(s->holder) || s->lease_ms != 0)
        return GL_EINVAL;
    memcpy(s->holder, holder, strlen(holder) + 1); /* fits: checked above */
    s->lease_ms = lease_ms;
    uv_timer_init(s->loop, &s->lease);
    uv_timer_init(s->loop, &s->poll);
    s->open_handles += 2;
    s->nhandles = s->open_handles;
    s->lease.data = s->poll.data = s;
    uv_timer_start(&s->lease, seq_on_lease, 0, lease_ms / 6);
    seq_watch(s);
    uv_timer_start(&s->poll, seq_on_poll, SEQ_POLL_MS,
                   s->watching ? SEQ_POLL_WATCHED_MS : SEQ_POLL_MS);
    return 0;
}

void seq_free(struct seq *s)
{
    if (s == NULL)
        return;
    if (s->thread_started) {
        pthread_mutex_lock(&s->mu);
        s->stop = 1;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
    }
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    gl_signer_wipe(&s->key);
    gl_buf_release(&s->ckpt);
    gl_buf_release(&s->next_ckpt);
    free(s->set.slots);
    free(s->batch);
    free(s->deferred);
    free(s->pub);
    free(s->work);
    free(s);
}

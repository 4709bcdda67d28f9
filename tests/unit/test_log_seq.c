/*
 * test_log_seq: glasslogd's sequencer (log/seq.c) on a libuv loop in the
 * test thread, over a mem store, with a freshly generated log key and
 * real signed statements. Callbacks only record what they were told; the
 * assertions run after the loop returned control.
 *
 * Covered: submissions settle with consecutive indices in submission
 * order, and what settled is durable (entries, leaf index, the secondary
 * indexes, tiles that tree_check accepts); duplicates within a batch and
 * across batches get the original index with dup = 1 and write nothing;
 * batch_max and batch_ms each cut batches (the batch statistics count
 * them); every released checkpoint verifies with the log key, equals the
 * stored one, and its root is a recursive MTH of the leaves in index
 * order; a failing commit (store_mem_fail_commits) answers its batch
 * GL_EIO, leaves the published tree and checkpoint as they were, and the
 * next batch once the failure cleared extends the durable tree (also
 * after two failures in a row, which make the sequencer wait before
 * reloading); seq_reserve refuses a full pool with GL_ETOOBIG and
 * everything once shutting down with GL_ESTATE; seq_shutdown settles the
 * pool and waits for reserved slots before calling its callback once,
 * also on a sequencer stopped by a refused commit; batches are cut by
 * their statement bytes (batch_bytes); a batch refused as too big
 * (GL_ETOOBIG) is not a storage failure; a reload that finds a stored
 * tree smaller than the released one, or another tree of its size,
 * stops the sequencer (nothing more is signed); fsck (log/fsck.c) reports an
 * entry missing from the source index; on a shared store (the mem store
 * with a lease the test hands around), a sync started under an earlier
 * epoch than the lease's when it ends is made again before the next
 * batch, which then extends the tree another holder committed meanwhile.
 */
#include "testutil.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "../../log/fsck.h"
#include "../../log/seq.h"
#include "../../log/store_impl.h"
#include "glasslog/checkpoint.h"
#include "glasslog/error.h"
#include "glasslog/key.h"
#include "glasslog/merkle.h"
#include "glasslog/sha256.h"
#include "glasslog/statement.h"
#include "clock.h"

#define MAXSUB 300
#define ORIGIN "example.com/seqtest"

struct fx;

/* One submission: its statement and what its done callback was told. */
struct sub {
    struct fx *f;
    struct gl_buf data;
    uint8_t leaf[32], sha256[32];
    struct entryindex ix;
    char subject[32], version[32];
    int settled, status, dup, order;
    uint64_t index;
};

struct fx {
    uv_loop_t loop;
    uv_timer_t tick; /* wakes the loop, so waits can time out */
    struct store *s;
    struct gl_signer key, submitter;
    struct gl_verifier vkey;
    struct seq *seq;
    struct sub sub[MAXSUB];
    int order;               /* callbacks so far */
    int shut, shut_order;    /* seq_shutdown's callback */
    int nckpt;               /* checkpoints released */
    uint64_t ckpt_size;      /* the last one's size */
    struct gl_buf ckpt;      /* the last one */
    uint8_t (*by_index)[32]; /* leaf hashes of the log, by index */
    uint64_t logged;
};

static void on_tick(uv_timer_t *t)
{
    (void)t;
}

static void on_checkpoint(void *ctx, const uint8_t *note, size_t len, uint64_t size)
{
    struct fx *f = ctx;

    f->nckpt++;
    f->ckpt_size = size;
    gl_buf_reset(&f->ckpt);
    if (gl_buf_append(&f->ckpt, note, len) != 0)
        f->ckpt_size = UINT64_MAX; /* noticed by the checks */
}

static void on_done(void *arg, int status, uint64_t index, int dup)
{
    struct sub *s = arg;

    s->settled++;
    s->status = status;
    s->index = index;
    s->dup = dup;
    s->order = ++s->f->order;
}

static void on_shut(void *arg)
{
    struct fx *f = arg;

    f->shut++;
    f->shut_order = ++f->order;
}

/* Makes submission k: a statement about artifact k (subject app-<k % 3>,
 * version 1.<k>), its leaf hash and index keys. */
static void make_sub(struct fx *f, int k)
{
    struct sub *s = &f->sub[k];
    struct gl_statement st;

    s->f = f;
    snprintf(s->subject, sizeof(s->subject), "app-%d", k % 3);
    snprintf(s->version, sizeof(s->version), "1.%d", k);
    gl_buf_init(&s->data, GL_STATEMENT_MAX_SIZE);
    tu_statement(&f->submitter, s->subject, s->version, (uint64_t)k, &s->data, s->sha256);
    assert_int_equal(gl_merkle_leaf_hash(s->data.data, s->data.len, s->leaf), 0);
    assert_int_equal(
        gl_statement_parse((const char *)s->data.data, s->data.len, &st, NULL), 0);
    entryindex_of(&st, s->data.data, &s->ix);
}

/* The ops fx_open gives its store once the log is made (NULL: the mem
 * store's own). */
static const struct store_ops *fx_ops;
static unsigned fx_interval_s; /* the fixture's checkpoint_interval_s */

/* A new log (its key, index version and the signed size-0 checkpoint, as
 * glasslogd --create writes them) in a mem store, or a RocksDB one in dir if not
 * NULL, and a sequencer over it cutting batches at batch_bytes too (0:
 * the default). */
static struct fx *fx_open(const char *dir, unsigned batch_ms, unsigned batch_max,
                          unsigned pool_max, size_t batch_bytes)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct store_options o = {
        .url = dir == NULL ? "mem:" : NULL, .dir = dir, .create = 1};
    struct seq_config cfg = {on_checkpoint, NULL, batch_ms, batch_max,
                             pool_max,      0,    NULL,     batch_bytes};
    struct store_batch *b;
    struct gl_buf ck, vk;
    struct tree *t = malloc(sizeof(*t));
    uint8_t root[32];

    assert_non_null(f);
    assert_non_null(t);
    cfg.ctx = f;
    cfg.checkpoint_interval_s = fx_interval_s;
    f->by_index = calloc(MAXSUB, 32);
    assert_non_null(f->by_index);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(uv_timer_init(&f->loop, &f->tick), 0);
    assert_int_equal(uv_timer_start(&f->tick, on_tick, 10, 10), 0);
    assert_int_equal(store_open(&o, &f->s, NULL), 0);
    assert_int_equal(gl_signer_generate(ORIGIN, GL_KEY_NOTE, &f->key), 0);
    gl_signer_verifier(&f->key, &f->vkey);
    assert_int_equal(gl_signer_generate("ci.example.com", GL_KEY_NOTE, &f->submitter), 0);
    gl_buf_init(&f->ckpt, 4096);
    gl_buf_init(&ck, 4096);
    gl_buf_init(&vk, GL_KEY_TEXT_MAX);
    gl_merkle_empty_root(root);
    assert_int_equal(gl_checkpoint_sign(ORIGIN, 0, root, &f->key, &ck), 0);
    assert_int_equal(gl_verifier_format(&f->vkey, &vk), 0);
    assert_int_equal(store_batch_new(f->s, &b), 0);
    store_batch_put_vkey(b, (const char *)vk.data);
    store_batch_put_index_version(b, ENTRYINDEX_VERSION);
    store_batch_put_state(b, 0, ck.data, ck.len);
    assert_int_equal(store_batch_commit(b, NULL), 0);
    store_batch_free(b);
    if (fx_ops != NULL)
        f->s->ops = fx_ops;
    tree_init(t);
    assert_int_equal(seq_new(&f->loop, f->s, &f->key, t, ck.data, ck.len, &cfg, &f->seq),
                     0);
    free(t);
    gl_buf_release(&ck);
    gl_buf_release(&vk);
    for (int k = 0; k < MAXSUB; k++)
        make_sub(f, k);
    /* seq_new released the starting checkpoint */
    assert_int_equal(f->nckpt, 1);
    assert_int_equal(f->ckpt_size, 0);
    return f;
}

static struct fx *fx_new(unsigned batch_ms, unsigned batch_max, unsigned pool_max)
{
    return fx_open(NULL, batch_ms, batch_max, pool_max, 0);
}

static double now_ms(void)
{
    return gl_clock_mono() * 1e3;
}

/* Runs the loop until pred(f, arg) or timeout_ms (then fails). */
static void run_until(struct fx *f, int (*pred)(struct fx *f, int arg), int arg,
                      double timeout_ms)
{
    double end = now_ms() + timeout_ms;

    while (!pred(f, arg)) {
        if (now_ms() > end)
            fail_msg("timed out after %.0f ms waiting for the sequencer", timeout_ms);
        uv_run(&f->loop, UV_RUN_ONCE);
    }
}

/* Runs the loop for ms milliseconds. */
static void run_for(struct fx *f, double ms)
{
    double end = now_ms() + ms;

    while (now_ms() < end)
        uv_run(&f->loop, UV_RUN_ONCE);
}

static int settled_n(struct fx *f, int n)
{
    int got = 0;

    for (int k = 0; k < MAXSUB; k++)
        got += f->sub[k].settled;
    return got >= n;
}

static int is_shut(struct fx *f, int arg)
{
    (void)arg;
    return f->shut > 0;
}

static void submit(struct fx *f, int k)
{
    struct sub *s = &f->sub[k];

    s->settled = 0;
    assert_int_equal(seq_reserve(f->seq), 0);
    assert_int_equal(
        seq_submit(f->seq, s->data.data, s->data.len, s->leaf, &s->ix, on_done, s), 0);
}

/* Submits ks[0..n), waits until they settled, checks each settled once. */
static void submit_wait(struct fx *f, const int *ks, int n)
{
    int before = 0;

    for (int k = 0; k < MAXSUB; k++)
        before += f->sub[k].settled;
    for (int i = 0; i < n; i++)
        before -= f->sub[ks[i]].settled;
    for (int i = 0; i < n; i++)
        submit(f, ks[i]);
    run_until(f, settled_n, before + n, 20000);
    for (int i = 0; i < n; i++)
        assert_int_equal(f->sub[ks[i]].settled, 1);
}

/* Submission k settled as a new entry at index. */
static void check_new(struct fx *f, int k, uint64_t index)
{
    struct sub *s = &f->sub[k];

    assert_int_equal(s->status, 0);
    assert_int_equal(s->dup, 0);
    assert_int_equal(s->index, index);
    assert_true(index < MAXSUB);
    memcpy(f->by_index[index], s->leaf, 32);
    if (index + 1 > f->logged)
        f->logged = index + 1;
}

/* The published state is the log of f->logged entries: the checkpoint
 * verifies with the log key, names that size and the MTH of the leaves
 * in index order; the store holds it (state, checkpoint, tiles). */
static void check_published(struct fx *f)
{
    const struct gl_buf *ck = seq_checkpoint(f->seq);
    struct gl_checkpoint cp;
    struct gl_buf stored;
    struct tree *t = malloc(sizeof(*t));
    uint8_t root[32];
    uint64_t size = 0;
    char why[256];

    assert_non_null(t);
    assert_int_equal(
        gl_checkpoint_open((const char *)ck->data, ck->len, &f->vkey, &cp, NULL, NULL),
        0);
    assert_string_equal(cp.origin, ORIGIN);
    assert_int_equal(cp.size, f->logged);
    tu_mth((const uint8_t(*)[32])f->by_index, f->logged, root);
    assert_memory_equal(cp.root, root, 32);
    assert_int_equal(seq_tree(f->seq)->range.size, f->logged);
    /* released to on_checkpoint, and durable */
    assert_int_equal(f->ckpt_size, f->logged);
    assert_int_equal(f->ckpt.len, ck->len);
    assert_memory_equal(f->ckpt.data, ck->data, ck->len);
    gl_buf_init(&stored, 4096);
    assert_int_equal(store_get_state(f->s, &size, &stored), 0);
    assert_int_equal(size, f->logged);
    assert_int_equal(stored.len, ck->len);
    assert_memory_equal(stored.data, ck->data, ck->len);
    gl_buf_release(&stored);
    assert_int_equal(tree_check(t, f->s, size, root, why, sizeof(why)), 0);
    free(t);
}

/* Entry index of the store is submission k's statement, findable by its
 * leaf hash and every secondary index. */
static void check_stored(struct fx *f, int k, uint64_t index)
{
    struct sub *s = &f->sub[k];
    struct gl_buf e;
    uint64_t got, idx[MAXSUB];
    uint8_t key[STORE_INDEX_KEY_MAX];
    size_t n, klen;
    int found;

    gl_buf_init(&e, GL_STATEMENT_MAX_SIZE);
    assert_int_equal(store_get_entry(f->s, index, &e), 0);
    assert_int_equal(e.len, s->data.len);
    assert_memory_equal(e.data, s->data.data, e.len);
    gl_buf_release(&e);
    assert_int_equal(store_find_leaf(f->s, s->leaf, &got), 0);
    assert_int_equal(got, index);
    assert_int_equal(store_find_index(f->s, STORE_INDEX_ARTIFACT, s->sha256, 32, 0,
                                      UINT64_MAX, idx, MAXSUB, &n),
                     0);
    assert_int_equal(n, 1);
    assert_int_equal(idx[0], index);
    assert_int_equal(store_find_index(f->s, STORE_INDEX_SUBJECT, s->subject,
                                      strlen(s->subject), 0, UINT64_MAX, idx, MAXSUB, &n),
                     0);
    found = 0;
    for (size_t i = 0; i < n; i++) {
        found += idx[i] == index;
        assert_true(i == 0 || idx[i] > idx[i - 1]);
    }
    assert_int_equal(found, 1);
    klen = (size_t)snprintf((char *)key, sizeof(key), "%s", s->subject) + 1;
    klen += (size_t)snprintf((char *)key + klen, sizeof(key) - klen, "%s", s->version);
    assert_int_equal(store_find_index(f->s, STORE_INDEX_SUBJECT_VERSION, key, klen, 0,
                                      UINT64_MAX, idx, MAXSUB, &n),
                     0);
    assert_int_equal(n, 1);
    assert_int_equal(idx[0], index);
}

static void fx_free(struct fx *f)
{
    if (!f->shut)
        seq_shutdown(f->seq, on_shut, f);
    run_until(f, is_shut, 0, 20000);
    assert_int_equal(f->shut, 1);
    seq_free(f->seq);
    uv_close((uv_handle_t *)&f->tick, NULL);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    store_close(f->s);
    for (int k = 0; k < MAXSUB; k++)
        gl_buf_release(&f->sub[k].data);
    gl_buf_release(&f->ckpt);
    gl_signer_wipe(&f->key);
    gl_signer_wipe(&f->submitter);
    free(f->by_index);
    free(f);
}

/* --- the tests ------------------------------------------------------------------------
 */

static void test_consecutive(void **state)
{
    struct fx *f = fx_new(5, 64, 64);
    const struct seq_stats *st;
    (void)state;

    submit_wait(f, (int[]){0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 10);
    for (int k = 0; k < 10; k++) {
        check_new(f, k, (uint64_t)k);
        check_stored(f, k, (uint64_t)k);
    }
    for (int k = 1; k < 10; k++) /* answered in submission order */
        assert_true(f->sub[k].order > f->sub[k - 1].order);
    check_published(f);
    /* more, in several batches */
    for (int k = 10; k < 40; k += 6)
        submit_wait(f, (int[]){k, k + 1, k + 2, k + 3, k + 4, k + 5}, 6);
    for (int k = 10; k < 40; k++) {
        check_new(f, k, (uint64_t)k);
        check_stored(f, k, (uint64_t)k);
    }
    check_published(f);
    st = seq_stats(f->seq);
    assert_int_equal(st->appends, 40);
    assert_int_equal(st->duplicates, 0);
    assert_int_equal(st->write_failures, 0);
    assert_int_equal(st->batch_size.n, st->batches);
    assert_true(st->batches >= 6);
    assert_true(st->batch_size.sum == 40.0);
    assert_int_equal(st->pool, 0);
    assert_int_equal(st->reserved, 0);
    fx_free(f);
}

static void test_duplicates(void **state)
{
    struct fx *f = fx_new(20, 64, 64);
    struct gl_buf ck;
    const struct seq_stats *st;
    int nckpt;
    (void)state;

    /* within one batch: the second copy of 0 gets 0 */
    submit(f, 0);
    submit(f, 1);
    {
        struct sub *copy = &f->sub[MAXSUB - 1];
        gl_buf_reset(&copy->data);
        assert_int_equal(
            gl_buf_append(&copy->data, f->sub[0].data.data, f->sub[0].data.len), 0);
        memcpy(copy->leaf, f->sub[0].leaf, 32);
        copy->ix = f->sub[0].ix;
        submit(f, MAXSUB - 1);
    }
    run_until(f, settled_n, 3, 20000);
    check_new(f, 0, 0);
    check_new(f, 1, 1);
    assert_int_equal(f->sub[MAXSUB - 1].status, 0);
    assert_int_equal(f->sub[MAXSUB - 1].dup, 1);
    assert_int_equal(f->sub[MAXSUB - 1].index, 0);
    assert_int_equal(seq_stats(f->seq)->batches, 1); /* it was one batch */
    check_published(f);

    /* across batches: 0 again with a new one */
    submit_wait(f, (int[]){0, 2}, 2);
    assert_int_equal(f->sub[0].status, 0);
    assert_int_equal(f->sub[0].dup, 1);
    assert_int_equal(f->sub[0].index, 0);
    check_new(f, 2, 2);
    check_stored(f, 2, 2);
    check_published(f);

    /* only duplicates: nothing written, nothing released */
    gl_buf_init(&ck, 4096);
    assert_int_equal(
        gl_buf_append(&ck, seq_checkpoint(f->seq)->data, seq_checkpoint(f->seq)->len), 0);
    nckpt = f->nckpt;
    submit_wait(f, (int[]){1, 2}, 2);
    assert_int_equal(f->sub[1].index, 1);
    assert_int_equal(f->sub[1].dup, 1);
    assert_int_equal(f->sub[2].index, 2);
    assert_int_equal(f->sub[2].dup, 1);
    assert_int_equal(f->nckpt, nckpt);
    assert_int_equal(seq_checkpoint(f->seq)->len, ck.len);
    assert_memory_equal(seq_checkpoint(f->seq)->data, ck.data, ck.len);
    check_published(f);
    {
        struct gl_buf e;
        gl_buf_init(&e, GL_STATEMENT_MAX_SIZE);
        assert_int_equal(store_get_entry(f->s, 3, &e), GL_ENOTFOUND);
        gl_buf_release(&e);
    }
    gl_buf_release(&ck);
    st = seq_stats(f->seq);
    assert_int_equal(st->appends, 3);
    assert_int_equal(st->duplicates, 4);
    fx_free(f);
}

static void test_batch_max_cuts(void **state)
{
    struct fx *f = fx_new(600000, 4, 64); /* the timer never cuts here */
    const struct seq_stats *st;
    (void)state;

    for (int k = 0; k < 10; k++)
        submit(f, k);
    run_until(f, settled_n, 8, 20000);
    run_for(f, 300);
    st = seq_stats(f->seq);
    assert_true(settled_n(f, 8) && !settled_n(f, 9)); /* two wait for more */
    for (int k = 0; k < 8; k++)
        check_new(f, k, (uint64_t)k);
    assert_int_equal(f->sub[8].settled + f->sub[9].settled, 0);
    assert_int_equal(st->batches, 2);
    assert_int_equal(st->batch_size.n, 2);
    assert_true(st->batch_size.sum == 8.0);
    assert_int_equal(st->pool, 2);
    check_published(f);
    /* two more make four: cut at once */
    submit(f, 10);
    submit(f, 11);
    run_until(f, settled_n, 12, 20000);
    for (int k = 8; k < 12; k++)
        check_new(f, k, (uint64_t)k);
    st = seq_stats(f->seq);
    assert_int_equal(st->batches, 3);
    assert_true(st->batch_size.sum == 12.0);
    check_published(f);
    fx_free(f);
}

static void test_batch_ms_cuts(void **state)
{
    struct fx *f = fx_new(40, 1000, 1000);
    const struct seq_stats *st;
    double waited;
    (void)state;

    uv_update_time(&f->loop);
    submit(f, 0);
    submit(f, 1);
    submit(f, 2);
    run_until(f, settled_n, 3, 20000);
    for (int k = 0; k < 3; k++)
        check_new(f, k, (uint64_t)k);
    st = seq_stats(f->seq);
    assert_int_equal(st->batches, 1);
    assert_true(st->batch_size.sum == 3.0);
    /* they waited for the timer (libuv counts whole milliseconds) */
    assert_int_equal(st->queue_wait.n, 3);
    waited = st->queue_wait.sum / 3;
    if (waited < 0.038)
        fail_msg("cut after %.1f ms, before batch_ms (40 ms)", waited * 1e3);
    check_published(f);
    /* and again, for a later submission */
    uv_update_time(&f->loop);
    submit(f, 3);
    run_until(f, settled_n, 4, 20000);
    check_new(f, 3, 3);
    assert_int_equal(seq_stats(f->seq)->batches, 2);
    check_published(f);
    fx_free(f);
}

static void test_write_failure(void **state)
{
    struct fx *f = fx_new(5, 64, 64);
    struct gl_buf ck, e;
    const struct seq_stats *st;
    int k, tries = 0, failing_seen = 0;
    (void)state;

    submit_wait(f, (int[]){0, 1, 2}, 3);
    for (k = 0; k < 3; k++)
        check_new(f, k, (uint64_t)k);
    check_published(f);
    gl_buf_init(&ck, 4096);
    gl_buf_init(&e, GL_STATEMENT_MAX_SIZE);
    assert_int_equal(
        gl_buf_append(&ck, seq_checkpoint(f->seq)->data, seq_checkpoint(f->seq)->len), 0);

    /* one failed commit: its batch gets GL_EIO, nothing changes */
    store_mem_fail_commits(f->s, 1, GL_EIO);
    submit_wait(f, (int[]){3, 4}, 2);
    assert_int_equal(f->sub[3].status, GL_EIO);
    assert_int_equal(f->sub[4].status, GL_EIO);
    st = seq_stats(f->seq);
    assert_int_equal(st->write_failures, 1);
    assert_int_equal(st->storage_failed, 0); /* reopened and reloaded at once */
    assert_int_equal(st->appends, 3);
    assert_int_equal(seq_tree(f->seq)->range.size, 3);
    assert_int_equal(seq_checkpoint(f->seq)->len, ck.len);
    assert_memory_equal(seq_checkpoint(f->seq)->data, ck.data, ck.len);
    assert_int_equal(store_get_entry(f->s, 3, &e), GL_ENOTFOUND);
    check_published(f);

    /* the failure cleared: the next batch extends the durable tree */
    submit_wait(f, (int[]){3, 4}, 2);
    check_new(f, 3, 3);
    check_new(f, 4, 4);
    check_stored(f, 3, 3);
    check_stored(f, 4, 4);
    assert_int_equal(seq_stats(f->seq)->storage_failed, 0);
    check_published(f);

    /* two in a row: the sequencer waits (RECOVER_INTERVAL_S) before it
     * reloads the store, answering GL_EIO meanwhile; then 5 gets 5 */
    store_mem_fail_commits(f->s, 2, GL_EIO);
    do {
        assert_true(++tries < 400);
        if (tries > 1) {
            assert_int_equal(f->sub[5].status, GL_EIO);
            assert_int_equal(seq_tree(f->seq)->range.size, 5);
            failing_seen |= seq_stats(f->seq)->storage_failed; /* /healthz says 503 */
            run_for(f, 20);
        }
        submit_wait(f, (int[]){5}, 1);
    } while (f->sub[5].status != 0);
    assert_true(tries >= 3);
    assert_true(failing_seen);
    check_new(f, 5, 5);
    check_stored(f, 5, 5);
    st = seq_stats(f->seq);
    assert_int_equal(st->write_failures, 3);
    assert_int_equal(st->storage_failed, 0);
    assert_int_equal(st->appends, 6);
    check_published(f);
    gl_buf_release(&ck);
    gl_buf_release(&e);
    fx_free(f);
}

/* A scan on another thread that holds its entry's callback until
 * released (at most 10 s): a store call under way, as a read the database
 * holds up is. */
struct hold_scan {
    struct store *s;
    int entered, release; /* atomic */
};

static int hold_entry(void *ctx, uint64_t index, const uint8_t *data, size_t len)
{
    struct hold_scan *h = ctx;
    double end = now_ms() + 10000;

    (void)index, (void)data, (void)len;
    __atomic_store_n(&h->entered, 1, __ATOMIC_SEQ_CST);
    while (!__atomic_load_n(&h->release, __ATOMIC_SEQ_CST) && now_ms() < end)
        usleep(1000);
    return 0;
}

static void *hold_run(void *arg)
{
    struct hold_scan *h = arg;

    (void)store_scan_entries(h->s, 0, 1, hold_entry, h);
    return NULL;
}

/* The loop's 10 ms ticks while a reopen is held up: a gap over 200 ms is
 * the loop held in a reopen; streak counts the ticks since the last such
 * gap, best the most after one. */
static struct {
    double last;
    int ticks, gaps, streak, best;
} tk;

static void on_count(uv_timer_t *t)
{
    double now = now_ms();

    (void)t;
    tk.ticks++;
    if (tk.last != 0 && now - tk.last > 200) {
        tk.gaps++;
        tk.streak = 0;
    } else if (tk.gaps > 0 && ++tk.streak > tk.best) {
        tk.best = tk.streak;
    }
    tk.last = now;
}

/* After a failed commit, a reopen that a store call under way holds up
 * gives up after the loop's bound (1 s here) and is tried again no sooner
 * than RECOVER_BUSY_SHARE (10) times its length after it ended, however
 * often appends come: in 4 s of appends the loop is held once and then
 * runs freely for the rest (when the wait ran from the attempt's start,
 * or was the fixed first wait, the next append's batch tried again within
 * a second), and once the call ends the store recovers. */
static void test_recover_spacing(void **state)
{
    struct fx *f = fx_new(5, 64, 64);
    struct hold_scan h = {0};
    uv_timer_t count;
    pthread_t th;
    double end, last;
    int k = 3;
    (void)state;

    submit_wait(f, (int[]){0}, 1);
    assert_int_equal(store_bound_thread(f->s, 1000), 0);
    /* two failed commits: the first one's reopen is at once, the second
     * one's waits RECOVER_INTERVAL_S; meanwhile the scan starts (a
     * commit would wait for it: the mem store's lock) */
    store_mem_fail_commits(f->s, 2, GL_EIO);
    submit_wait(f, (int[]){1}, 1);
    assert_int_equal(f->sub[1].status, GL_EIO);
    submit_wait(f, (int[]){2}, 1);
    assert_int_equal(f->sub[2].status, GL_EIO);
    h.s = f->s;
    assert_int_equal(pthread_create(&th, NULL, hold_run, &h), 0);
    while (!__atomic_load_n(&h.entered, __ATOMIC_SEQ_CST))
        usleep(1000);
    /* 4 s of appends, one in flight at a time, 25 ms apart at least, each
     * a try to recover;
     * count 10 ms ticks of the loop meanwhile */
    memset(&tk, 0, sizeof(tk));
    assert_int_equal(uv_timer_init(&f->loop, &count), 0);
    assert_int_equal(uv_timer_start(&count, on_count, 10, 10), 0);
    end = now_ms() + 4000;
    last = now_ms();
    submit(f, k);
    while (now_ms() < end) {
        if (f->sub[k].settled && now_ms() - last >= 25) {
            assert_int_equal(f->sub[k].status, GL_EIO);
            assert_true(++k < MAXSUB - 20);
            last = now_ms();
            submit(f, k);
        }
        uv_run(&f->loop, UV_RUN_ONCE);
    }
    uv_timer_stop(&count);
    uv_close((uv_handle_t *)&count, NULL);
    print_message("loop ticks in 4 s while the reopen is held up: %d of 400; %d held "
                  "in a reopen, then at most %d ticks free; %d appends\n",
                  tk.ticks, tk.gaps, tk.best, k - 1);
    assert_int_equal(tk.gaps, 1);
    assert_true(tk.best >= 150); /* 1.5 s of what is left after the held reopen */
    __atomic_store_n(&h.release, 1, __ATOMIC_SEQ_CST);
    assert_int_equal(pthread_join(th, NULL), 0);
    run_until(f, settled_n, k + 1, 10000); /* the last one settles */
    for (;;) {                             /* recovered: an append is logged */
        k++;
        submit_wait(f, (int[]){k}, 1);
        if (f->sub[k].status == 0)
            break;
        assert_true(k < MAXSUB - 1);
        run_for(f, 250); /* up to 10 s after the held reopen */
    }
    check_new(f, k, 1);
    fx_free(f);
}

static void test_reserve(void **state)
{
    struct fx *f = fx_new(600000, 100, 3);
    (void)state;

    for (int i = 0; i < 3; i++)
        assert_int_equal(seq_reserve(f->seq), 0);
    assert_int_equal(seq_reserve(f->seq), GL_ETOOBIG);
    seq_unreserve(f->seq);
    assert_int_equal(seq_reserve(f->seq), 0);
    assert_int_equal(seq_reserve(f->seq), GL_ETOOBIG);
    assert_int_equal(seq_stats(f->seq)->reserved, 3);
    for (int i = 0; i < 3; i++)
        seq_unreserve(f->seq);
    /* submitted but not settled still hold their slots */
    submit(f, 0);
    submit(f, 1);
    submit(f, 2);
    assert_int_equal(seq_reserve(f->seq), GL_ETOOBIG);
    assert_int_equal(seq_stats(f->seq)->pool, 3);
    seq_shutdown(f->seq, on_shut, f);
    assert_int_equal(seq_reserve(f->seq), GL_ESTATE);
    run_until(f, is_shut, 0, 20000);
    for (int k = 0; k < 3; k++)
        check_new(f, k, (uint64_t)k);
    check_published(f);
    assert_int_equal(seq_reserve(f->seq), GL_ESTATE);
    fx_free(f);
}

static void test_shutdown(void **state)
{
    struct fx *f = fx_new(600000, 100, 10);
    (void)state;

    for (int k = 0; k < 5; k++)
        submit(f, k);
    assert_int_equal(seq_reserve(f->seq), 0); /* being verified, say */
    run_for(f, 100);
    assert_false(settled_n(f, 1)); /* nothing cuts before the shutdown */
    seq_shutdown(f->seq, on_shut, f);
    seq_shutdown(f->seq, NULL, NULL); /* ignored */
    run_until(f, settled_n, 5, 20000);
    for (int k = 0; k < 5; k++)
        check_new(f, k, (uint64_t)k);
    run_for(f, 200);
    assert_int_equal(f->shut, 0); /* the reserved slot is still taken */
    /* its submission arrives: committed at once, then the callback */
    {
        struct sub *s = &f->sub[5];
        assert_int_equal(
            seq_submit(f->seq, s->data.data, s->data.len, s->leaf, &s->ix, on_done, s),
            0);
    }
    run_until(f, is_shut, 0, 20000);
    check_new(f, 5, 5);
    check_stored(f, 5, 5);
    assert_int_equal(f->shut, 1);
    assert_true(f->shut_order > f->sub[5].order);
    check_published(f);
    fx_free(f);

    /* a reserved slot given back also lets the shutdown finish */
    f = fx_new(600000, 100, 10);
    submit(f, 0);
    assert_int_equal(seq_reserve(f->seq), 0);
    seq_shutdown(f->seq, on_shut, f);
    run_until(f, settled_n, 1, 20000);
    run_for(f, 50);
    assert_int_equal(f->shut, 0);
    seq_unreserve(f->seq);
    run_until(f, is_shut, 0, 20000);
    check_new(f, 0, 0);
    check_published(f);
    fx_free(f);
}

/* Shutting down while a reserved submission is verified, on a sequencer
 * that stopped (its commit was refused: another writer published): the
 * submission is answered SEQ_ESTOPPED (not GL_EIO: the store did not
 * fail, this sequencer stopped) when it arrives, and that last
 * reservation gone, the shutdown completes. */
static void test_shutdown_when_lost(void **state)
{
    struct fx *f = fx_new(5, 100, 10);
    struct store_batch *b;
    struct sub *s = &f->sub[2];
    (void)state;

    submit_wait(f, (int[]){0}, 1);
    check_new(f, 0, 0);
    /* another writer: the stored size is no longer the one seq extends */
    assert_int_equal(store_batch_new(f->s, &b), 0);
    store_batch_put_state(b, 2, f->ckpt.data, f->ckpt.len);
    assert_int_equal(store_batch_commit(b, NULL), 0);
    store_batch_free(b);
    submit_wait(f, (int[]){1}, 1);
    assert_int_equal(f->sub[1].status, SEQ_ESTOPPED);       /* not a storage failure */
    assert_int_equal(seq_stats(f->seq)->storage_failed, 1); /* stopped */
    assert_int_equal(seq_reserve(f->seq), 0);               /* being verified */
    seq_shutdown(f->seq, on_shut, f);
    run_for(f, 50);
    assert_int_equal(f->shut, 0);
    assert_int_equal(
        seq_submit(f->seq, s->data.data, s->data.len, s->leaf, &s->ix, on_done, s), 0);
    assert_int_equal(s->settled, 1);
    assert_int_equal(s->status, SEQ_ESTOPPED);
    run_until(f, is_shut, 0, 3000);
    assert_int_equal(f->shut, 1);
    assert_true(f->shut_order > s->order);
    fx_free(f);
}

/* Batches are cut by the bytes of their statements too: with room for
 * two statements, six waiting ones go as three batches of two, each
 * appended. */
static void test_batch_bytes_cuts(void **state)
{
    struct fx *f;
    size_t len = 0;
    const struct seq_stats *st;
    (void)state;

    f = fx_open(NULL, 5, 64, 64, 0);
    for (int k = 0; k < 6; k++)
        len = f->sub[k].data.len > len ? f->sub[k].data.len : len;
    fx_free(f);
    f = fx_open(NULL, 5, 64, 64, 2 * len + len / 2);
    submit_wait(f, (int[]){0, 1, 2, 3, 4, 5}, 6);
    for (int k = 0; k < 6; k++)
        check_new(f, k, (uint64_t)k);
    check_published(f);
    st = seq_stats(f->seq);
    assert_int_equal(st->batches, 3);
    assert_true(st->batch_size.sum == 6.0);
    assert_int_equal(st->appends, 6);
    fx_free(f);
    /* a budget smaller than one statement still takes one a batch */
    f = fx_open(NULL, 5, 64, 64, 1);
    submit_wait(f, (int[]){0, 1, 2}, 3);
    for (int k = 0; k < 3; k++)
        check_new(f, k, (uint64_t)k);
    assert_int_equal(seq_stats(f->seq)->batches, 3);
    fx_free(f);
}

/* A batch the store refuses as too big (GL_ETOOBIG while it is built) is
 * answered GL_EIO, but the store is not failing: no reload, no waiting
 * before the next batch, which is appended. */
static void test_too_big_is_not_storage_failure(void **state)
{
    struct fx *f = fx_new(5, 64, 64);
    (void)state;

    store_mem_fail_commits(f->s, 2, GL_ETOOBIG);
    submit_wait(f, (int[]){0}, 1);
    assert_int_equal(f->sub[0].status, GL_EIO);
    assert_int_equal(seq_stats(f->seq)->storage_failed, 0);
    submit_wait(f, (int[]){0}, 1);
    assert_int_equal(f->sub[0].status, GL_EIO);
    assert_int_equal(seq_stats(f->seq)->storage_failed, 0);
    submit_wait(f, (int[]){0}, 1);
    check_new(f, 0, 0);
    check_stored(f, 0, 0);
    check_published(f);
    assert_int_equal(seq_stats(f->seq)->write_failures, 2);
    fx_free(f);
}

/* Released data lost: five entries released, then the store loses data
 * behind the sequencer's back (commits with no expectation: a promoted
 * asynchronous standby, a rolled-back disk) and a failed commit makes
 * it reload. It must sign nothing from there (a second history): the
 * failed batch answers GL_EIO, the next submission SEQ_ESTOPPED (stopped,
 * not a storage failure), no checkpoint is released, the
 * published tree stays at 5, and the sequencer reports a storage
 * failure. */
/* The store loses data behind the sequencer's back (a commit with no
 * expectation): another tree of the released size 5 (same_size), or a
 * smaller tree (entries 2..4 gone). */
static void lose_data(struct fx *f, int same_size)
{
    struct store_batch *b;
    uint8_t junk[5 * 32];

    assert_int_equal(store_batch_new(f->s, &b), 0);
    if (same_size) {
        memset(junk, 0x5a, sizeof(junk));
        store_batch_put_tile(b, 0, 0, junk, sizeof(junk));
    } else {
        store_batch_put_state(b, 2, f->ckpt.data, f->ckpt.len);
    }
    assert_int_equal(store_batch_commit(b, NULL), 0);
    store_batch_free(b);
}

static void lost_data_case(int same_size)
{
    struct fx *f = fx_new(5, 64, 64);
    int k, nckpt;

    submit_wait(f, (int[]){0, 1, 2, 3, 4}, 5);
    for (k = 0; k < 5; k++)
        check_new(f, k, (uint64_t)k);
    check_published(f);
    lose_data(f, same_size);
    nckpt = f->nckpt;
    store_mem_fail_commits(f->s, 1, GL_EIO);
    submit_wait(f, (int[]){5}, 1);
    assert_int_equal(f->sub[5].status, GL_EIO);
    submit_wait(f, (int[]){6}, 1);
    assert_int_equal(f->sub[6].status, SEQ_ESTOPPED); /* stopped for good */
    assert_int_equal(f->nckpt, nckpt);
    assert_int_equal(f->ckpt_size, 5);
    assert_int_equal(seq_tree(f->seq)->range.size, 5);
    assert_int_equal(seq_stats(f->seq)->storage_failed, 1);
    fx_free(f);
}

static void test_reload_smaller_tree(void **state)
{
    (void)state;
    lost_data_case(0);
}

static void test_reload_other_tree(void **state)
{
    (void)state;
    lost_data_case(1);
}

/* Released data found lost by the re-signing timer's attempt to recover
 * (the failed commit's own attempt came too soon after the last): no
 * checkpoint is signed or released from then on, nor by the ticks
 * while the store was not recovered yet. */
static void test_resign_when_lost(void **state)
{
    struct fx *f;
    int nckpt;
    (void)state;

    fx_interval_s = 1;
    f = fx_new(5, 64, 64);
    fx_interval_s = 0;
    submit_wait(f, (int[]){0, 1, 2, 3, 4}, 5);
    for (int k = 0; k < 5; k++)
        check_new(f, k, (uint64_t)k);
    check_published(f);
    /* a failed commit, recovered at once (the store still holds 5) */
    store_mem_fail_commits(f->s, 1, GL_EIO);
    submit_wait(f, (int[]){5}, 1);
    assert_int_equal(f->sub[5].status, GL_EIO);
    /* the store loses entries 2..4 behind the sequencer; then a second
     * failed commit, whose recovery comes within RECOVER_INTERVAL_S of
     * the first and so is left to the re-signing timer (on a machine too
     * slow for that, the commit's own recovery finds the loss: the same
     * outcome below) */
    lose_data(f, 0);
    nckpt = f->nckpt;
    store_mem_fail_commits(f->s, 1, GL_EIO);
    submit_wait(f, (int[]){6}, 1);
    assert_int_equal(f->sub[6].status, GL_EIO);
    /* the timer's recovery finds the loss (storage_failed stays set);
     * three of its ticks release nothing */
    run_for(f, 3500);
    assert_int_equal(seq_stats(f->seq)->storage_failed, 1);
    assert_int_equal(f->nckpt, nckpt);
    assert_int_equal(f->ckpt_size, 5);
    submit_wait(f, (int[]){7}, 1);
    assert_int_equal(f->sub[7].status, SEQ_ESTOPPED);
    fx_free(f);
}

/* Makes submission k a v2 build statement naming source snapshot src. */
static void make_v2(struct fx *f, int k, const uint8_t src[32])
{
    struct sub *s = &f->sub[k];
    struct gl_statement_fields fl;
    struct gl_statement st;
    struct gl_err why;
    char artifact[48];

    memset(&fl, 0, sizeof(fl));
    fl.format = 2;
    fl.kind = GL_STATEMENT_BUILD;
    fl.subject = s->subject;
    fl.subject_len = strlen(s->subject);
    fl.version = s->version;
    fl.version_len = strlen(s->version);
    snprintf(artifact, sizeof(artifact), "v2 artifact %d", k);
    assert_int_equal(gl_sha256(artifact, strlen(artifact), fl.sha256), 0);
    fl.time = 1700000000;
    memcpy(fl.source, src, 32);
    gl_buf_reset(&s->data);
    assert_int_equal(gl_statement_sign(&fl, &f->submitter, &s->data, &why), 0);
    memcpy(s->sha256, fl.sha256, 32);
    assert_int_equal(gl_merkle_leaf_hash(s->data.data, s->data.len, s->leaf), 0);
    assert_int_equal(
        gl_statement_parse((const char *)s->data.data, s->data.len, &st, NULL), 0);
    entryindex_of(&st, s->data.data, &s->ix);
    assert_int_equal(s->ix.nsources, 1);
}

/* glasslogd --fsck DIR; its report (stdout) into out. */
static int run_fsck(const char *dir, char *out, size_t max)
{
    char a0[] = "glasslogd", a1[] = "--fsck", path[512], *argv[4];
    int saved, fd, rc;
    FILE *fp;
    size_t n;

    argv[0] = a0;
    argv[1] = a1;
    argv[2] = (char *)dir;
    argv[3] = NULL;
    snprintf(path, sizeof(path), "%s.report", dir);
    fflush(stdout);
    saved = dup(1);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    assert_true(dup2(fd, 1) == 1);
    close(fd);
    rc = fsck_main(3, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    fp = fopen(path, "r");
    assert_non_null(fp);
    n = fread(out, 1, max - 1, fp);
    out[n] = 0;
    fclose(fp);
    unlink(path);
    return rc;
}

/* fsck checks the source index: a v2 build appended with its keys passes;
 * appended without its source key, it is reported DAMAGED, by name. */
static void test_fsck_source_index(void **state)
{
    char dir[256], report[8192];
    uint8_t src[32];
    struct fx *f;
    (void)state;

    assert_int_equal(gl_sha256("a source tree", 13, src), 0);
    for (int damaged = 0; damaged < 2; damaged++) {
        tu_tempdir("test_log_seq", dir, sizeof(dir));
        f = fx_open(dir, 5, 64, 64, 0);
        make_v2(f, 0, src);
        if (damaged)
            f->sub[0].ix.nsources = 0;
        submit_wait(f, (int[]){0, 1}, 2);
        check_new(f, 0, 0);
        check_new(f, 1, 1);
        fx_free(f);
        if (!damaged) {
            assert_int_equal(run_fsck(dir, report, sizeof(report)), 0);
            assert_non_null(strstr(report, "fsck: OK (2 entries)"));
        } else {
            assert_int_equal(run_fsck(dir, report, sizeof(report)), 1);
            assert_non_null(strstr(report, "entry 0 is missing from the source index"));
            assert_non_null(strstr(report, "fsck: DAMAGED (1 problem)"));
        }
        tu_rmtree(dir);
    }
}

/* fsck checks every entry's index records, however many entries share a
 * key: 289 builds of one source are listed under it, the 290th is not,
 * and fsck names it. */
static void test_fsck_many_per_key(void **state)
{
    enum { N = 290 };
    char dir[256], report[8192];
    int ks[N];
    uint8_t src[32];
    struct fx *f;
    (void)state;

    assert_int_equal(gl_sha256("a popular source tree", 21, src), 0);
    tu_tempdir("test_log_seq", dir, sizeof(dir));
    f = fx_open(dir, 5, 512, 512, 0);
    for (int k = 0; k < N; k++) {
        make_v2(f, k, src);
        ks[k] = k;
    }
    f->sub[N - 1].ix.nsources = 0;
    submit_wait(f, ks, N - 1);
    submit_wait(f, ks + N - 1, 1);
    check_new(f, N - 1, N - 1);
    fx_free(f);
    assert_int_equal(run_fsck(dir, report, sizeof(report)), 1);
    assert_non_null(strstr(report, "entry 289 is missing from the source index"));
    assert_non_null(strstr(report, "fsck: DAMAGED (1 problem)"));
    tu_rmtree(dir);
}

/* --- a shared store: the mem store with a lease the test hands around ------
 * The lease is this process's while `other` is 0, under `epoch`;
 * mark_durable reads the stored state, then waits while `hold` (at most
 * 10 s), as a sync the database holds up does. The queue offers its
 * nqueued statements (another front-end's) to the first scan of a batch
 * holding this process's own submissions (room for fewer than the
 * fixture's batch_max, 10) and to no later one. */
static struct fake_share {
    struct store_ops ops;
    int other, hold, held; /* atomic */
    uint64_t epoch;        /* atomic */
    const struct gl_buf *queued[4];
    size_t nqueued, scans; /* the writer thread's */
} share;

static int share_lease(struct store *s, const char *holder, unsigned ms, uint64_t have,
                       uint64_t *epoch)
{
    (void)s, (void)holder, (void)ms, (void)have;
    if (__atomic_load_n(&share.other, __ATOMIC_SEQ_CST))
        return GL_ESTATE;
    *epoch = __atomic_load_n(&share.epoch, __ATOMIC_SEQ_CST);
    return 0;
}

static int share_lease_release(struct store *s, const char *holder, uint64_t epoch)
{
    (void)s, (void)holder, (void)epoch;
    return 0;
}

static int share_queue_put(struct store *s, const struct store_queued *q, size_t n,
                           uint64_t *ids)
{
    (void)s, (void)q, (void)n, (void)ids;
    return GL_EINVAL; /* this process leads: it queues nothing */
}

static int share_queue_scan(struct store *s, size_t max,
                            int (*fn)(void *ctx, uint64_t id,
                                      const struct store_queued *q),
                            void *ctx)
{
    int rc = 0;

    (void)s;
    if (max >= 10 || share.scans++ > 0)
        return 0;
    for (size_t i = 0; i < share.nqueued && i < max && rc == 0; i++) {
        struct store_queued q = {share.queued[i]->data, NULL, share.queued[i]->len, 0};
        rc = fn(ctx, 100 + i, &q);
    }
    return rc < 0 ? rc : 0;
}

static int share_mark_durable(struct store *s, uint64_t epoch, uint64_t *size,
                              struct gl_buf *checkpoint)
{
    double end = now_ms() + 10000;
    int rc = share.ops.get_state(s, size, checkpoint);

    (void)epoch;
    __atomic_store_n(&share.held, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&share.hold, __ATOMIC_SEQ_CST) && now_ms() < end) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return rc;
}

/* A sequencer over a shared mem store (share), holding the lease under
 * epoch 1 once seq_share ran, cutting batches at batch_bytes (0: the
 * default). */
static struct fx *fx_shared_bytes(size_t batch_bytes)
{
    struct fx *f;
    struct store *probe;
    struct store_options o = {.url = "mem:", .create = 1};

    assert_int_equal(store_open(&o, &probe, NULL), 0);
    share.ops = *probe->ops;
    store_close(probe);
    share.ops.lease = share_lease;
    share.ops.lease_release = share_lease_release;
    share.ops.queue_put = share_queue_put;
    share.ops.queue_scan = share_queue_scan;
    share.ops.mark_durable = share_mark_durable;
    share.other = share.held = 0;
    share.hold = 1;
    share.epoch = 1;
    share.nqueued = share.scans = 0;
    fx_ops = &share.ops;
    f = fx_open(NULL, 1, 10, 100, batch_bytes);
    fx_ops = NULL;
    return f;
}

static struct fx *fx_shared(void)
{
    return fx_shared_bytes(0);
}

/* Another sequencer's commit under epoch: submission k appended to the
 * stored tree. */
static void commit_other(struct fx *f, int k, uint64_t epoch)
{
    struct tree *t = malloc(sizeof(*t));
    struct store_batch *b;
    struct gl_buf ck;
    uint8_t root[32];
    uint64_t size;

    assert_non_null(t);
    gl_buf_init(&ck, 4096);
    assert_int_equal(store_get_state(f->s, &size, &ck), 0);
    gl_buf_reset(&ck);
    tree_init(t);
    assert_int_equal(tree_load(t, f->s, size), 0);
    assert_int_equal(store_batch_new(f->s, &b), 0);
    assert_int_equal(tree_append(t, f->sub[k].leaf, b), 0);
    store_batch_put_entry(b, size, f->sub[k].data.data, f->sub[k].data.len);
    store_batch_put_leaf_origin(b, f->sub[k].leaf, size, 0);
    tree_finish_batch(t, size, b);
    assert_int_equal(tree_root(t, root), 0);
    assert_int_equal(gl_checkpoint_sign(ORIGIN, size + 1, root, &f->key, &ck), 0);
    store_batch_put_state(b, size + 1, ck.data, ck.len);
    assert_int_equal(store_batch_commit(b, &(struct store_expect){size, epoch}), 0);
    store_batch_free(b);
    gl_buf_release(&ck);
    free(t);
}

static int share_held(struct fx *f, int arg)
{
    (void)f, (void)arg;
    return __atomic_load_n(&share.held, __ATOMIC_SEQ_CST);
}

static int leads_is(struct fx *f, int arg)
{
    return seq_leads(f->seq) == arg;
}

/* A sync started under epoch 1 that ends after the lease went to another
 * holder (epoch 2, who committed) and came back (epoch 3) loaded a stale
 * tree: the sequencer syncs again before its next batch, which extends
 * the other holder's tree instead of losing the compare-and-set (which
 * would leave the lease held with nobody sequencing). */
static void test_sync_across_epochs(void **state)
{
    struct fx *f = fx_shared();

    (void)state;
    assert_int_equal(seq_share(f->seq, 600, "a"), 0);
    run_until(f, share_held, 0, 5000); /* the sync under epoch 1 read size 0 */
    __atomic_store_n(&share.other, 1, __ATOMIC_SEQ_CST);
    run_until(f, leads_is, 0, 5000);
    commit_other(f, 0, 2);
    __atomic_store_n(&share.epoch, 3, __ATOMIC_SEQ_CST);
    __atomic_store_n(&share.other, 0, __ATOMIC_SEQ_CST);
    run_until(f, leads_is, 1, 5000);
    assert_int_equal(seq_syncing(f->seq), 1);
    __atomic_store_n(&share.hold, 0, __ATOMIC_SEQ_CST); /* the old sync ends */
    submit(f, 1);
    run_until(f, settled_n, 1, 5000);
    assert_int_equal(f->sub[1].status, 0);
    assert_int_equal(f->sub[1].index, 1);
    assert_int_equal(f->sub[1].dup, 0);
    assert_int_equal(seq_leads(f->seq), 1);
    assert_int_equal(seq_syncing(f->seq), 0);
    assert_int_equal(seq_tree(f->seq)->range.size, 2);
    fx_free(f);
}

/* The shared queue's share of a batch counts bytes too: with room for
 * four statements, eight of this process's own waiting (a cut full by
 * bytes, far from batch_max) and two in the queue, the first batch takes
 * the queue's two (the queue offers them once: left out, they would
 * never be logged), and every submission is logged once. */
static void test_queue_share_bytes(void **state)
{
    struct fx *f;
    struct gl_buf ck;
    size_t len = 0;
    uint64_t index, size = 0;
    (void)state;

    f = fx_new(5, 64, 64);
    for (int k = 0; k < 10; k++)
        len = f->sub[k].data.len > len ? f->sub[k].data.len : len;
    fx_free(f);
    f = fx_shared_bytes(4 * len + len / 2);
    share.hold = 0;
    share.queued[0] = &f->sub[8].data;
    share.queued[1] = &f->sub[9].data;
    share.nqueued = 2;
    assert_int_equal(seq_share(f->seq, 600, "a"), 0);
    run_until(f, leads_is, 1, 5000);
    submit_wait(f, (int[]){0, 1, 2, 3, 4, 5, 6, 7}, 8);
    for (int k = 0; k < 8; k++)
        assert_int_equal(f->sub[k].status, 0);
    gl_buf_init(&ck, 4096);
    assert_int_equal(store_get_state(f->s, &size, &ck), 0);
    gl_buf_release(&ck);
    assert_int_equal(size, 10);
    for (int k = 8; k < 10; k++) {
        assert_int_equal(store_find_leaf(f->s, f->sub[k].leaf, &index), 0);
        assert_true(index < 4); /* in the first batch */
    }
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_consecutive),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_batch_max_cuts),
        cmocka_unit_test(test_batch_ms_cuts),
        cmocka_unit_test(test_write_failure),
        cmocka_unit_test(test_recover_spacing),
        cmocka_unit_test(test_reserve),
        cmocka_unit_test(test_shutdown),
        cmocka_unit_test(test_shutdown_when_lost),
        cmocka_unit_test(test_resign_when_lost),
        cmocka_unit_test(test_batch_bytes_cuts),
        cmocka_unit_test(test_queue_share_bytes),
        cmocka_unit_test(test_too_big_is_not_storage_failure),
        cmocka_unit_test(test_reload_smaller_tree),
        cmocka_unit_test(test_reload_other_tree),
        cmocka_unit_test(test_fsck_source_index),
        cmocka_unit_test(test_fsck_many_per_key),
        cmocka_unit_test(test_sync_across_epochs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * store: the backend-neutral half of store.h: choosing the backend,
 * checking arguments, recording batches, dispatching. Backends implement
 * store_impl.h. A batch records each put into one arena as it comes, so a
 * backend sees the whole batch at commit and can write it in one atomic
 * operation (a RocksDB WriteBatch, one SQL transaction).
 *
 * Reopen exclusion: store_reopen swaps what every operation uses (the
 * RocksDB handle, the PostgreSQL connections), so it runs alone. Every
 * operation that reaches the backend counts itself in the store's gate
 * (readers) for its whole call (a scan's callbacks included); store_reopen
 * closes the gate (reopen waiting), waits for readers to drop to 0, runs
 * the backend's reopen (reopen running) and opens the gate again. A
 * reopen is rare (after a failed commit) and short; operations never wait
 * for each other, only for a reopen.
 *
 * The reopen goes first: while it waits, operations that start wait for
 * it too (else a steady stream of overlapping reads, the off-loop reads
 * of a busy front-end, could keep it out for good), except those of a
 * thread already inside an operation (a scan's callback reading the store
 * again), which would otherwise wait for a reopen that waits for them.
 * held, thread-local, counts the calling thread's operations under way on
 * any store: an operation that starts inside another passes a waiting
 * reopen (it never passes a running one, which waits for nothing).
 *
 * held is per thread, not per store, on purpose. Exclusion does not
 * depend on it (nothing passes a running reopen), only the reopen's
 * precedence does: a call on store B made inside an operation on store A
 * passes B's waiting reopen too. Counting per store would hold that call
 * back, and then two threads could wait in a cycle (T1 inside A waits
 * for B's reopen, which waits for T2 inside B, which waits for A's
 * reopen, which waits for T1); with held per thread a thread inside any
 * operation never waits for a reopen that waits, so no cycle forms. What
 * it costs is small: glasslogd opens one store and reopens it (seq.c);
 * the witness reopens a mirror copy's store (one per log) after its
 * failed commit, from that log's writer, inside no other operation.
 *
 * The bound thread (store_bound_thread: glasslogd's event loop, which
 * reopens after a failed commit and must not stall): its store_reopen
 * waits at most its bound for the operations under way (a read the
 * database holds up can take any time), then gives up (GL_EIO, logged),
 * opens the gate and changes nothing; the caller retries later. Its wait
 * holds new operations back for at most that bound too. The backend's
 * reopen gets what is left of the bound (a deadline: PostgreSQL's
 * reconnect), so the whole store_reopen takes at most one bound. Other
 * threads' reopens wait as long as it takes.
 *
 * Lock order: gate_mu is held only inside this file's gate functions,
 * never across a backend's call, and backends never hold their locks
 * (RocksDB's mu, PostgreSQL's pool mutex) across a return.
 */
#include "store_impl.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "glasslog/error.h"
#include "glasslog/log.h"
#include "ratelimit.h"
#include "clock.h"

/* In-process token buckets (store_bucket_take on backends one process
 * owns): ratelimit.h's buckets by name, in one array searched linearly
 * (a log has few limited submitter keys), at most STORE_BUCKETS_MAX, on
 * CLOCK_MONOTONIC milliseconds. One mutex for all stores: takes are rare
 * next to the work of an append. */
#define STORE_BUCKETS_MAX 4096

struct store_bucket {
    char name[STORE_BUCKET_NAME_MAX + 1];
    struct ratelimit b;
};

struct store_buckets {
    struct store_bucket *v;
    size_t n, cap;
};

static pthread_mutex_t buckets_mu = PTHREAD_MUTEX_INITIALIZER;

/* The calling thread's operations under way, on every store (see above). */
static _Thread_local unsigned held;

/* Makes s's gate: 0, or GL_ENOMEM with nothing made. */
static int gate_init(struct store *s)
{
    gl_clock_cond_init(&s->gate_cv); /* gate_wait's timed waits: CLOCK_MONOTONIC */
    if (pthread_mutex_init(&s->gate_mu, NULL) != 0) {
        pthread_cond_destroy(&s->gate_cv);
        return GL_ENOMEM;
    }
    s->readers = 0;
    s->reopen = STORE_REOPEN_NONE;
    s->bound_ms = 0;
    return 0;
}

static void gate_destroy(struct store *s)
{
    pthread_cond_destroy(&s->gate_cv);
    pthread_mutex_destroy(&s->gate_mu);
}

/* Counts the calling thread in s's operations; release with let_go. Waits
 * while a reopen runs, and while one waits unless the thread is inside
 * another operation. */
static void hold(struct store *s)
{
    pthread_mutex_lock(&s->gate_mu);
    while (s->reopen == STORE_REOPEN_RUNNING ||
           (s->reopen == STORE_REOPEN_WAITING && held == 0))
        pthread_cond_wait(&s->gate_cv, &s->gate_mu);
    s->readers++;
    pthread_mutex_unlock(&s->gate_mu);
    held++;
}

/* Ends hold's count and returns rc, the operation's result: `return
 * let_go(s, s->ops->op(...));` runs the operation first. */
static int let_go(struct store *s, int rc)
{
    assert(held > 0); /* hold and let_go pair up, nested, on one thread */
    held--;
    pthread_mutex_lock(&s->gate_mu);
    if (--s->readers == 0 && s->reopen != STORE_REOPEN_NONE)
        pthread_cond_broadcast(&s->gate_cv);
    pthread_mutex_unlock(&s->gate_mu);
    return rc;
}

/* The calling thread's bound (store_bound_thread) on s, 0 on every other
 * thread. Any thread, no lock: bound is written once, before bound_ms is
 * first published (a release store; store_bound_thread), and never
 * again, so once this thread's acquire load sees bound_ms set it sees
 * bound too, and no write of it can race with this read. */
static unsigned bound_here(const struct store *s)
{
    unsigned ms = __atomic_load_n(&s->bound_ms, __ATOMIC_ACQUIRE);

    return ms != 0 && pthread_equal(s->bound, pthread_self()) ? ms : 0;
}

/* Waits for a change of s's gate, until end (gl_clock_mono_ms; 0: no
 * bound): 1 if end passed, else 0. Under gate_mu. */
static int gate_wait(struct store *s, uint64_t end)
{
    if (end == 0) {
        pthread_cond_wait(&s->gate_cv, &s->gate_mu);
        return 0;
    }
    return gl_clock_wait_until(&s->gate_cv, &s->gate_mu, end);
}

/* Closes s's gate for a reopen once no operation (and no other reopen)
 * is under way: 0 (reopen running), or, the calling thread being the
 * bound one, GL_EIO once its bound passed first (the gate as it was;
 * logged, saying what it waited for).
 * *end: the time (gl_clock_mono_ms) the bound thread's reopen is to be
 * done by, its bound from now, the gate's wait included; 0 on every
 * other thread (no bound). */
static int gate_close(struct store *s, uint64_t *end)
{
    unsigned ms;
    int late = 0, behind;

    *end = 0;
    pthread_mutex_lock(&s->gate_mu);
    if ((ms = bound_here(s)) != 0)
        *end = gl_clock_mono_ms() + ms;
    while (s->reopen != STORE_REOPEN_NONE && !late)
        late = gate_wait(s, *end);
    behind = s->reopen != STORE_REOPEN_NONE; /* late, behind another reopen */
    if (!behind) {
        s->reopen = STORE_REOPEN_WAITING;
        while (s->readers > 0 && !late)
            late = gate_wait(s, *end);
        s->reopen = s->readers == 0 ? STORE_REOPEN_RUNNING : STORE_REOPEN_NONE;
        if (s->reopen == STORE_REOPEN_NONE)
            pthread_cond_broadcast(&s->gate_cv); /* the operations held back */
        else
            late = 0;
    }
    pthread_mutex_unlock(&s->gate_mu);
    if (!late)
        return 0;
    gl_log(GL_LOG_ERROR,
           "store: not reopened: %s did not end within %u ms; the reopen is tried "
           "again later",
           behind ? "another thread's reopen" : "store calls under way", ms);
    return GL_EIO;
}

static void gate_open(struct store *s)
{
    pthread_mutex_lock(&s->gate_mu);
    s->reopen = STORE_REOPEN_NONE;
    pthread_cond_broadcast(&s->gate_cv);
    pthread_mutex_unlock(&s->gate_mu);
}

static int is_pg_url(const char *u)
{
    return strncmp(u, "postgresql://", 13) == 0 || strncmp(u, "postgres://", 11) == 0;
}

static int open_backend(const struct store_options *o, struct store **out,
                        const char **why)
{
    if (o->url == NULL)
        return store_rocksdb_open(o, out, why);
    if (strcmp(o->url, "mem:") == 0)
        return store_mem_open(o, out, why);
    if (is_pg_url(o->url))
        return store_pg_open(o, out, why);
    *why = "unknown store (want a postgresql:// URL, or --data DIR)";
    return GL_EINVAL;
}

/* 1 if the n bytes at s end in suffix. */
static int ends_in(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);

    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

int store_backup_partial(const char *dir)
{
    size_t n = strlen(dir), k = strlen(STORE_BACKUP_STAGING);

    while (n > 1 && dir[n - 1] == '/')
        n--;
    if (ends_in(dir, n, STORE_BACKUP_STAGING))
        n -= k;
    return ends_in(dir, n, STORE_BACKUP_PARTIAL);
}

int store_open(const struct store_options *o, struct store **out, const char **why)
{
    static const char *unused;
    int rc;

    if (why == NULL)
        why = &unused;
    if (o == NULL || out == NULL || (o->url == NULL && o->dir == NULL)) {
        *why = "no store given";
        return GL_EINVAL;
    }
    if (o->url == NULL && store_backup_partial(o->dir)) {
        *why = "an interrupted backup (" STORE_BACKUP_PARTIAL "): not a data directory";
        return GL_EINVAL;
    }
    if ((rc = open_backend(o, out, why)) != 0)
        return rc;
    if (gate_init(*out) != 0) {
        (*out)->ops->close(*out);
        *out = NULL;
        *why = "cannot make the store's reopen gate";
        return GL_ENOMEM;
    }
    return 0;
}

void store_close(struct store *s)
{
    if (s == NULL)
        return;
    if (s->buckets != NULL) {
        free(s->buckets->v);
        free(s->buckets);
    }
    gate_destroy(s);
    s->ops->close(s);
}

const char *store_backend(const struct store *s)
{
    return s->ops->name;
}

int store_reopen(struct store *s)
{
    uint64_t end;
    int rc;

    if ((rc = gate_close(s, &end)) != 0)
        return rc;
    rc = s->ops->reopen(s, end); /* within what is left of the bound */
    gate_open(s);
    return rc;
}

int store_backup(struct store *s, const char *dir)
{
    if (s->ops->backup == NULL)
        return GL_ESTATE;
    hold(s);
    return let_go(s, s->ops->backup(s, dir));
}

int store_get_copy(struct store *s, int *copy)
{
    *copy = 0;
    if (s->ops->get_copy == NULL)
        return 0;
    hold(s);
    return let_go(s, s->ops->get_copy(s, copy));
}

int store_set_copy(struct store *s, int copy)
{
    if (s->ops->set_copy == NULL)
        return GL_ESTATE;
    hold(s);
    return let_go(s, s->ops->set_copy(s, copy));
}

int store_get_state(struct store *s, uint64_t *size, struct gl_buf *checkpoint)
{
    hold(s);
    return let_go(s, s->ops->get_state(s, size, checkpoint));
}

int store_get_durable(struct store *s, uint64_t *size, struct gl_buf *checkpoint)
{
    hold(s);
    return let_go(s, s->ops->get_durable != NULL
                         ? s->ops->get_durable(s, size, checkpoint)
                         : s->ops->get_state(s, size, checkpoint));
}

int store_mark_durable(struct store *s, uint64_t epoch, uint64_t *size,
                       struct gl_buf *checkpoint)
{
    hold(s);
    return let_go(s, s->ops->mark_durable != NULL
                         ? s->ops->mark_durable(s, epoch, size, checkpoint)
                         : s->ops->get_state(s, size, checkpoint));
}

int store_get_vkey(struct store *s, struct gl_buf *out)
{
    hold(s);
    return let_go(s, s->ops->get_vkey(s, out));
}

int store_get_entry(struct store *s, uint64_t index, struct gl_buf *out)
{
    hold(s);
    return let_go(s, s->ops->get_entry(s, index, out));
}

int store_scan_entries(struct store *s, uint64_t start, uint64_t n, store_scan_fn fn,
                       void *ctx)
{
    if (n == 0)
        return 0;
    if (start + n < start)
        return GL_EOVERFLOW;
    hold(s);
    return let_go(s, s->ops->scan_entries(s, start, n, fn, ctx));
}

static int collect_entry(void *ctx, uint64_t index, const uint8_t *data, size_t len)
{
    struct store_entries *x = ctx;
    (void)index;
    if (x->n == GL_TILE_WIDTH)
        return GL_ERANGE;
    x->e[x->n++].len = len;
    return gl_buf_append(&x->raw, data, len);
}

/* Points x's e[0..n) into raw, by their lengths, back to back. */
static void entries_point(struct store_entries *x)
{
    size_t off = 0;

    for (size_t i = 0; i < x->n; i++) {
        x->e[i].data = x->raw.data + off;
        off += x->e[i].len;
    }
    assert(off == x->raw.len);
}

int store_read_entries(struct store *s, uint64_t start, uint64_t n,
                       struct store_entries *out)
{
    out->n = 0;
    gl_buf_init(&out->raw, GL_TILE_BUNDLE_MAX);
    if (n > GL_TILE_WIDTH)
        return GL_EINVAL;
    int rc = store_scan_entries(s, start, n, collect_entry, out);
    if (rc == 0 && out->n != n)
        rc = GL_ENOTFOUND;
    if (rc == 0)
        entries_point(out);
    return rc;
}

int store_entries_copy(struct store_entries *to, const struct store_entries *from)
{
    int rc;

    store_entries_release(to);
    to->n = 0;
    gl_buf_init(&to->raw, GL_TILE_BUNDLE_MAX);
    if ((rc = gl_buf_append(&to->raw, from->raw.data, from->raw.len)) != 0)
        return rc;
    for (size_t i = 0; i < from->n; i++)
        to->e[i].len = from->e[i].len;
    to->n = from->n;
    entries_point(to);
    return 0;
}

void store_entries_release(struct store_entries *x)
{
    if (x != NULL)
        gl_buf_release(&x->raw);
}

int store_get_tile(struct store *s, uint32_t level, uint64_t index, uint8_t *out,
                   size_t *len)
{
    hold(s);
    return let_go(s, s->ops->get_tile(s, level, index, out, len));
}

int store_scan_tiles(struct store *s, uint32_t level, uint64_t start, store_scan_fn fn,
                     void *ctx)
{
    hold(s);
    return let_go(s, s->ops->scan_tiles(s, level, start, fn, ctx));
}

int store_find_leaf(struct store *s, const uint8_t hash[GL_HASH_LEN], uint64_t *index)
{
    hold(s);
    return let_go(s, s->ops->find_leaf(s, hash, index));
}

int store_find_leaves(struct store *s, size_t n, const uint8_t *const *hashes,
                      uint64_t *indices, uint8_t *found)
{
    if (n == 0)
        return 0;
    hold(s);
    if (s->ops->find_leaves != NULL)
        return let_go(s, s->ops->find_leaves(s, n, hashes, indices, found));
    for (size_t i = 0; i < n; i++) {
        int rc = s->ops->find_leaf(s, hashes[i], &indices[i]);
        if (rc != 0 && rc != GL_ENOTFOUND)
            return let_go(s, rc);
        found[i] = rc == 0;
    }
    return let_go(s, 0);
}

int store_find_leaves_origin(struct store *s, size_t n, const uint8_t *const *hashes,
                             uint64_t *indices, uint64_t *origins, uint8_t *found)
{
    if (n == 0)
        return 0;
    if (s->ops->find_leaves_origin == NULL) {
        memset(origins, 0, n * sizeof(*origins));
        return store_find_leaves(s, n, hashes, indices, found);
    }
    hold(s);
    return let_go(s, s->ops->find_leaves_origin(s, n, hashes, indices, origins, found));
}

static int valid_index(enum store_index kind, size_t klen)
{
    return kind >= STORE_INDEX_ARTIFACT && kind < STORE_INDEX_NKINDS && klen > 0 &&
           klen <= STORE_INDEX_KEY_MAX &&
           (kind != STORE_INDEX_ARTIFACT || klen == GL_HASH_LEN) &&
           (kind != STORE_INDEX_SOURCE || klen == GL_HASH_LEN);
}

int store_find_index(struct store *s, enum store_index kind, const void *key, size_t klen,
                     uint64_t from, uint64_t below, uint64_t *indices, size_t max,
                     size_t *n)
{
    *n = 0;
    if (!valid_index(kind, klen) || key == NULL)
        return GL_EINVAL;
    if (max == 0 || from >= below)
        return 0;
    hold(s);
    return let_go(s,
                  s->ops->find_index(s, kind, key, klen, from, below, indices, max, n));
}

int store_get_index_version(struct store *s, uint32_t *version)
{
    hold(s);
    return let_go(s, s->ops->get_index_version(s, version));
}

/* --- batches ------------------------------------------------------------------------ */

int store_batch_new(struct store *s, struct store_batch **out)
{
    struct store_batch *b = calloc(1, sizeof(*b));

    if (b == NULL)
        return GL_ENOMEM;
    b->s = s;
    gl_buf_init(&b->arena, STORE_BATCH_MAX);
    *out = b;
    return 0;
}

void store_batch_free(struct store_batch *b)
{
    if (b == NULL)
        return;
    gl_buf_release(&b->arena);
    free(b->puts);
    free(b);
}

/* Records one put (its key and value copied into the arena). */
static void record(struct store_batch *b, enum store_put_kind kind, uint32_t a,
                   uint64_t n, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct store_put *p;

    if (b->err != 0)
        return;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        struct store_put *np = realloc(b->puts, cap * sizeof(*np));
        if (np == NULL) {
            b->err = GL_ENOMEM;
            return;
        }
        b->puts = np;
        b->cap = cap;
    }
    p = &b->puts[b->n];
    p->kind = kind;
    p->a = a;
    p->n = n;
    p->key_off = b->arena.len;
    p->klen = klen;
    if (klen > 0 && (b->err = gl_buf_append(&b->arena, key, klen)) != 0)
        return;
    p->val_off = b->arena.len;
    p->vlen = vlen;
    if (vlen > 0 && (b->err = gl_buf_append(&b->arena, val, vlen)) != 0)
        return;
    b->n++;
}

void store_batch_put_entry(struct store_batch *b, uint64_t index, const void *data,
                           size_t len)
{
    record(b, STORE_PUT_ENTRY, 0, index, NULL, 0, data, len);
}

void store_batch_put_leaf(struct store_batch *b, const uint8_t hash[GL_HASH_LEN],
                          uint64_t index)
{
    record(b, STORE_PUT_LEAF, 0, index, hash, GL_HASH_LEN, NULL, 0);
}

void store_batch_put_leaf_origin(struct store_batch *b, const uint8_t hash[GL_HASH_LEN],
                                 uint64_t index, uint64_t origin)
{
    uint8_t v[8];

    for (int i = 0; i < 8; i++)
        v[i] = (uint8_t)(origin >> (56 - 8 * i));
    record(b, STORE_PUT_LEAF, 0, index, hash, GL_HASH_LEN, v, origin != 0 ? 8 : 0);
}

void store_batch_put_index(struct store_batch *b, enum store_index kind, const void *key,
                           size_t klen, uint64_t index)
{
    if (!valid_index(kind, klen)) {
        if (b->err == 0)
            b->err = GL_EINVAL;
        return;
    }
    record(b, STORE_PUT_INDEX, (uint32_t)kind, index, key, klen, NULL, 0);
}

void store_batch_put_tile(struct store_batch *b, uint32_t level, uint64_t index,
                          const void *data, size_t len)
{
    if (len == 0 || len > STORE_TILE_MAX || len % GL_HASH_LEN != 0) {
        if (b->err == 0)
            b->err = GL_EINVAL;
        return;
    }
    record(b, STORE_PUT_TILE, level, index, NULL, 0, data, len);
}

void store_batch_put_state(struct store_batch *b, uint64_t size, const void *checkpoint,
                           size_t len)
{
    record(b, STORE_PUT_STATE, 0, size, NULL, 0, checkpoint, len);
}

void store_batch_put_vkey(struct store_batch *b, const char *vkey)
{
    record(b, STORE_PUT_VKEY, 0, 0, NULL, 0, vkey, strlen(vkey));
}

void store_batch_put_index_version(struct store_batch *b, uint32_t version)
{
    record(b, STORE_PUT_INDEX_VERSION, 0, version, NULL, 0, NULL, 0);
}

void store_batch_delete_tile(struct store_batch *b, uint32_t level, uint64_t index)
{
    record(b, STORE_DELETE_TILE, level, index, NULL, 0, NULL, 0);
}

void store_batch_delete_queued(struct store_batch *b, uint64_t id)
{
    record(b, STORE_DELETE_QUEUED, 0, id, NULL, 0, NULL, 0);
}

size_t store_batch_count(const struct store_batch *b)
{
    return b->n;
}

int store_batch_commit(struct store_batch *b, const struct store_expect *expect)
{
    if (b->err != 0)
        return b->err;
    assert(b->arena.len <= STORE_BATCH_MAX);
    hold(b->s);
    return let_go(b->s, b->s->ops->commit(b->s, b, expect));
}

/* --- shared stores ----------------------------------------------------------------- */

int store_shared(const struct store *s)
{
    return s->ops->lease != NULL;
}

size_t store_read_capacity(const struct store *s)
{
    return s->ops->read_capacity;
}

/* Records the calling thread as s's bound thread, with bound ms:
 * bound is written once, by the first call, and then published with
 * bound_ms (release: bound_here reads both without a lock); a later call
 * of the same thread sets only bound_ms, and another thread's is
 * GL_EINVAL, nothing changed (bound would change under readers). ms 0:
 * only that check, nothing recorded. Writers serialise on gate_mu. */
static int bind_thread(struct store *s, unsigned ms)
{
    int rc = 0;

    pthread_mutex_lock(&s->gate_mu);
    if (s->bound_ms != 0 && !pthread_equal(s->bound, pthread_self()))
        rc = GL_EINVAL;
    else if (ms != 0) {
        if (s->bound_ms == 0)
            s->bound = pthread_self();
        __atomic_store_n(&s->bound_ms, ms, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&s->gate_mu);
    return rc;
}

/* Another thread than the bound one is refused before the backend's hook
 * runs (bind_thread with ms 0), and again as the thread is recorded. */
int store_bound_thread(struct store *s, unsigned ms)
{
    int rc;

    if (ms == 0)
        return GL_EINVAL;
    if ((rc = bind_thread(s, 0)) == 0 && s->ops->bound_thread != NULL) {
        hold(s);
        rc = let_go(s, s->ops->bound_thread(s));
    }
    if (rc == 0)
        rc = bind_thread(s, ms);
    return rc;
}

/* Lock-free (bound_here): called on every bounded call, and by a backend
 * while s opens, before the gate is made. */
unsigned store_bound_ms(struct store *s)
{
    return bound_here(s);
}

int store_lease(struct store *s, const char *holder, unsigned ms, uint64_t have,
                uint64_t *epoch)
{
    if (s->ops->lease == NULL || holder == NULL || *holder == 0 || ms == 0)
        return GL_EINVAL;
    hold(s);
    return let_go(s, s->ops->lease(s, holder, ms, have, epoch));
}

int store_lease_release(struct store *s, const char *holder, uint64_t epoch)
{
    if (s->ops->lease_release == NULL)
        return GL_EINVAL;
    hold(s);
    return let_go(s, s->ops->lease_release(s, holder, epoch));
}

int store_watch_fd(struct store *s, int *fd)
{
    if (s->ops->watch_fd == NULL)
        return GL_EINVAL;
    hold(s);
    return let_go(s, s->ops->watch_fd(s, fd));
}

int store_watch_drain(struct store *s)
{
    if (s->ops->watch_drain == NULL)
        return GL_EINVAL;
    hold(s);
    return let_go(s, s->ops->watch_drain(s));
}

void store_watch_close(struct store *s)
{
    if (s->ops->watch_close != NULL) {
        hold(s);
        s->ops->watch_close(s);
        let_go(s, 0);
    }
}

int store_queue_put(struct store *s, const struct store_queued *q, size_t n,
                    uint64_t *ids)
{
    if (s->ops->queue_put == NULL)
        return GL_EINVAL;
    if (n == 0)
        return 0;
    hold(s);
    return let_go(s, s->ops->queue_put(s, q, n, ids));
}

int store_queue_scan(struct store *s, size_t max,
                     int (*fn)(void *ctx, uint64_t id, const struct store_queued *q),
                     void *ctx)
{
    if (s->ops->queue_scan == NULL)
        return GL_EINVAL;
    if (max == 0)
        return 0;
    hold(s);
    return let_go(s, s->ops->queue_scan(s, max, fn, ctx));
}

int store_put_served(struct store *s, uint64_t size, const uint8_t *note, size_t len)
{
    if (s->ops->put_served == NULL || note == NULL || len == 0 || len > STORE_BATCH_MAX)
        return GL_EINVAL;
    hold(s);
    return let_go(s, s->ops->put_served(s, size, note, len));
}

int store_get_served(struct store *s, uint64_t *size, struct gl_buf *note)
{
    if (s->ops->get_served == NULL)
        return GL_EINVAL;
    hold(s);
    return let_go(s, s->ops->get_served(s, size, note));
}

/* --- token buckets -------------------------------------------------------------- */

/* The in-process bucket called name, made (full) if new. Under buckets_mu. */
static int local_bucket(struct store *s, const char *name,
                        const struct ratelimit_limit *l, uint64_t now,
                        struct ratelimit **out)
{
    struct store_buckets *bs = s->buckets;
    struct store_bucket *e;

    if (bs == NULL && (bs = s->buckets = calloc(1, sizeof(*bs))) == NULL)
        return GL_ENOMEM;
    for (size_t i = 0; i < bs->n; i++)
        if (strcmp(bs->v[i].name, name) == 0) {
            *out = &bs->v[i].b;
            return 0;
        }
    if (bs->n == bs->cap) {
        size_t cap = bs->cap ? 2 * bs->cap : 8;
        struct store_bucket *v;
        if (bs->n >= STORE_BUCKETS_MAX)
            return GL_ETOOBIG;
        if ((v = realloc(bs->v, cap * sizeof(*v))) == NULL)
            return GL_ENOMEM;
        bs->v = v;
        bs->cap = cap;
    }
    e = &bs->v[bs->n++];
    memcpy(e->name, name, strlen(name) + 1); /* length checked by store_bucket_take */
    ratelimit_init(&e->b, l, now);
    *out = &e->b;
    return 0;
}

static int local_bucket_take(struct store *s, const char *name, uint64_t rate_u,
                             uint64_t burst, int take, int64_t *level, int *took)
{
    struct ratelimit_limit l = {rate_u, burst};
    struct ratelimit *b;
    uint64_t now = gl_clock_mono_ms();
    int rc;

    pthread_mutex_lock(&buckets_mu);
    if ((rc = local_bucket(s, name, &l, now, &b)) == 0) {
        if (b->lim.burst != burst || b->lim.rate_u != rate_u) { /* the caller's limit */
            int64_t cur = ratelimit_level(b, now), cap = (int64_t)burst * RATELIMIT_TOKEN;
            b->lim = l;
            b->level = cur < cap ? cur : cap;
            b->last_ms = now > b->last_ms ? now : b->last_ms;
        }
        *took = take && ratelimit_level(b, now) >= RATELIMIT_TOKEN;
        if (*took)
            ratelimit_spend(b, now);
        *level = ratelimit_level(b, now);
    }
    pthread_mutex_unlock(&buckets_mu);
    return rc;
}

int store_bucket_take(struct store *s, const char *name, uint64_t rate_u, uint64_t burst,
                      int take, int64_t *level, int *took)
{
    size_t n = name != NULL ? strnlen(name, STORE_BUCKET_NAME_MAX + 1) : 0;

    if (n == 0 || n > STORE_BUCKET_NAME_MAX || rate_u == 0 ||
        rate_u > RATELIMIT_RATE_MAX || burst < 1 || burst > RATELIMIT_BURST_MAX ||
        level == NULL || took == NULL)
        return GL_EINVAL;
    if (s->ops->bucket_take != NULL) {
        hold(s);
        return let_go(
            s, s->ops->bucket_take(s, name, rate_u, burst, take != 0, level, took));
    }
    return local_bucket_take(s, name, rate_u, burst, take != 0, level, took);
}

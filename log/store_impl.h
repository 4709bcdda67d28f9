/*
 * store_impl: what a storage backend implements (internal to log/; users
 * see only store.h). store.c checks arguments, records batches and
 * dispatches; a backend implements the reads and the commit of a recorded
 * batch, and honours every rule of the contract in store.h.
 *
 * A backend's handle starts with a struct store (its ops), so store.c can
 * dispatch on any handle. store.c runs a backend's reopen only while no
 * other operation of that store runs (its reopen gate), so a backend may
 * swap or drop its handles and connections there; a backend never calls
 * store.h's functions on its own handle (it calls its own ops). A recorded batch is a
 * list of puts whose keys and values live in one arena (offsets, not pointers: the arena
 * grows); store_put_key/store_put_val resolve them.
 */
#ifndef GL_LOG_STORE_IMPL_H
#define GL_LOG_STORE_IMPL_H

#include <pthread.h>

#include "store.h"

/* Bytes recorded in one batch: also the most any one record can hold
 * (an entry, a checkpoint), so a backend that copies records sizes its
 * buffers by it. */
#define STORE_BATCH_MAX ((size_t)1 << 30)

enum store_put_kind {
    STORE_PUT_ENTRY,         /* n = index, val = statement */
    STORE_PUT_LEAF,          /* key = leaf hash (32), n = index, val = origin
                              * (8 bytes, big-endian) or empty (none) */
    STORE_PUT_INDEX,         /* a = kind, key, n = index */
    STORE_PUT_TILE,          /* a = level, n = tile index, val = hashes */
    STORE_PUT_STATE,         /* n = size, val = checkpoint */
    STORE_PUT_VKEY,          /* val = verifier key text */
    STORE_PUT_INDEX_VERSION, /* n = version */
    STORE_DELETE_TILE,       /* a = level, n = tile index */
    STORE_DELETE_QUEUED,     /* n = queue id (shared backends) */
};

struct store_put {
    enum store_put_kind kind;
    uint32_t a;
    uint64_t n;
    size_t key_off, klen, val_off, vlen; /* into the batch's arena */
};

struct store_batch {
    struct store *s;
    struct store_put *puts;
    size_t n, cap;
    struct gl_buf arena;
    int err; /* the first put that could not be recorded */
};

static inline const uint8_t *store_put_key(const struct store_batch *b,
                                           const struct store_put *p)
{
    return b->arena.data + p->key_off;
}

static inline const uint8_t *store_put_val(const struct store_batch *b,
                                           const struct store_put *p)
{
    return b->arena.data + p->val_off;
}

typedef int (*store_scan_fn)(void *ctx, uint64_t index, const uint8_t *data, size_t len);

struct store_ops {
    const char *name;
    void (*close)(struct store *s);
    /* store_reopen, run alone (the gate): done by end (gl_clock_mono_ms)
     * if end is not 0 (the bound thread's reopen: what its bound left
     * after the gate's wait), else without a bound. */
    int (*reopen)(struct store *s, uint64_t end);
    int (*get_state)(struct store *s, uint64_t *size, struct gl_buf *checkpoint);
    int (*get_vkey)(struct store *s, struct gl_buf *out);
    int (*get_entry)(struct store *s, uint64_t index, struct gl_buf *out);
    int (*scan_entries)(struct store *s, uint64_t start, uint64_t n, store_scan_fn fn,
                        void *ctx);
    int (*get_tile)(struct store *s, uint32_t level, uint64_t index, uint8_t *out,
                    size_t *len);
    int (*scan_tiles)(struct store *s, uint32_t level, uint64_t start, store_scan_fn fn,
                      void *ctx);
    int (*find_leaf)(struct store *s, const uint8_t hash[GL_HASH_LEN], uint64_t *index);
    int (*find_index)(struct store *s, enum store_index kind, const void *key,
                      size_t klen, uint64_t from, uint64_t below, uint64_t *indices,
                      size_t max, size_t *n);
    int (*get_index_version)(struct store *s, uint32_t *version);
    /* Writes b atomically and durably if the stored state is expect (NULL:
     * unchecked); see store.h rules 1-4. */
    int (*commit)(struct store *s, const struct store_batch *b,
                  const struct store_expect *expect);
    /* Shared backends only (NULL elsewhere): see store.h. */
    int (*lease)(struct store *s, const char *holder, unsigned ms, uint64_t have,
                 uint64_t *epoch);
    int (*lease_release)(struct store *s, const char *holder, uint64_t epoch);
    int (*queue_put)(struct store *s, const struct store_queued *q, size_t n,
                     uint64_t *ids);
    int (*queue_scan)(struct store *s, size_t max,
                      int (*fn)(void *ctx, uint64_t id, const struct store_queued *q),
                      void *ctx);
    /* Optional (NULL: store.c looks the hashes up one by one). */
    int (*find_leaves)(struct store *s, size_t n, const uint8_t *const *hashes,
                       uint64_t *indices, uint8_t *found);
    int (*watch_fd)(struct store *s, int *fd);
    int (*watch_drain)(struct store *s);
    void (*watch_close)(struct store *s);
    /* Shared backends only (NULL elsewhere): the served checkpoint. */
    int (*put_served)(struct store *s, uint64_t size, const uint8_t *note, size_t len);
    int (*get_served)(struct store *s, uint64_t *size, struct gl_buf *note);
    /* Optional (NULL: store.c keeps in-process buckets, which is right
     * for a store one process owns): store_bucket_take, arguments checked.
     * Shared backends implement it in the store. */
    int (*bucket_take)(struct store *s, const char *name, uint64_t rate_u, uint64_t burst,
                       int take, int64_t *level, int *took);
    /* Optional (NULL: the stored state is durable, store_get_state):
     * store_get_durable. */
    int (*get_durable)(struct store *s, uint64_t *size, struct gl_buf *checkpoint);
    /* Optional (NULL: origins are 0): store_find_leaves_origin. */
    int (*find_leaves_origin)(struct store *s, size_t n, const uint8_t *const *hashes,
                              uint64_t *indices, uint64_t *origins, uint8_t *found);
    /* Optional (NULL: store_get_state, a commit returns once durable):
     * store_mark_durable. */
    int (*mark_durable)(struct store *s, uint64_t epoch, uint64_t *size,
                        struct gl_buf *checkpoint);
    /* store_read_capacity (0: no limit). */
    size_t read_capacity;
    /* Optional (NULL: no call waits on a server, nothing to bound):
     * readies s for the calling thread's bounded calls (store_bound_thread,
     * which then records the thread and its bound: store_bound_ms). */
    int (*bound_thread)(struct store *s);
    /* Optional (NULL: the store is never a copy; store_get_copy gives 0
     * and store_set_copy GL_ESTATE without calling the backend): the copy
     * mark of store.h. get_copy sets *copy to 1 if the mark is stored,
     * else 0 (also on error). set_copy stores (copy) or removes (!copy)
     * the mark, idempotent, and returns 0 only once that is durable (as a
     * commit, rule 2); it writes nothing else. */
    int (*get_copy)(struct store *s, int *copy);
    int (*set_copy)(struct store *s, int copy);
    /* Optional (NULL: no online backup; store_backup is GL_ESTATE
     * without calling the backend): store_backup, its snapshot carrying
     * the copy mark (get_copy) before it appears under dir. */
    int (*backup)(struct store *s, const char *dir);
};

struct store_buckets; /* store.c's in-process buckets */

/* store_reopen's states (struct store's reopen). */
enum { STORE_REOPEN_NONE, STORE_REOPEN_WAITING, STORE_REOPEN_RUNNING };

struct store {
    const struct store_ops *ops;
    struct store_buckets *buckets; /* NULL until first used; freed by store_close */
    /* The reopen gate, made by store_open, not by the backend (see
     * store.c): every dispatched operation counts itself in readers for
     * its whole call; store_reopen sets reopen (STORE_REOPEN_WAITING for
     * readers to end, then STORE_REOPEN_RUNNING) and runs the backend's
     * reopen once readers is 0.
     * bound, bound_ms: store_bound_thread's thread and bound (bound_ms 0:
     * none), whose store_reopen waits at most bound_ms; the one copy, which
     * backends read with store_bound_ms. All written under gate_mu;
     * bound once, before bound_ms is first published (a release store),
     * and never again, so store_bound_ms reads both without a lock (an
     * acquire load of bound_ms); gate_cv (on CLOCK_MONOTONIC) signals
     * each change. */
    pthread_mutex_t gate_mu;
    pthread_cond_t gate_cv;
    unsigned readers;
    int reopen;
    pthread_t bound;
    unsigned bound_ms;
};

/* The calling thread's bound on s in ms (store_bound_thread), 0 on every
 * other thread: for backends whose calls it bounds. Any thread, also
 * while s opens (0 then); takes no lock. */
unsigned store_bound_ms(struct store *s);

/* The backends' constructors (same contract as store_open). */
int store_rocksdb_open(const struct store_options *o, struct store **out,
                       const char **why);
int store_mem_open(const struct store_options *o, struct store **out, const char **why);
int store_pg_open(const struct store_options *o, struct store **out, const char **why);

/* Test hook of the mem backend: its next n commits fail with err (nothing
 * written), as a failing disk's would. */
void store_mem_fail_commits(struct store *s, int n, int err);

#endif

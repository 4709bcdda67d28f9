/*
 * store_mem: the in-memory backend of store.h, for tests (URL "mem:").
 * Nothing survives store_close; every open makes a new, empty store (so
 * open without create is refused, as for a missing directory).
 *
 * Records live in hash maps with byte keys (chained, FNV-1a, doubling):
 * tiles by (level, index), leaves by hash, the secondary indexes by
 * (kind, key) with a sorted array of indices; entries in an array by
 * index. A tile scan collects the level's tiles and sorts them (O(tiles),
 * fine for tests), so it passes over gaps as RocksDB's key order does.
 * One rwlock: readers share it, a commit takes it exclusively and
 * applies the whole batch under it, so readers see all of a batch or none
 * (rules 1 and 5; rule 2 is moot in memory). The compare-and-set (rule 3)
 * compares with the size under the same lock. An allocation failure in
 * the middle of a commit would break atomicity, so it aborts the process
 * (a test backend). store_mem_fail_commits makes the next commits fail,
 * for tests of the callers' failure paths.
 */
#include "store_impl.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glasslog/error.h"

struct mnode {
    struct mnode *next;
    uint64_t *idx; /* secondary index: sorted indices */
    size_t nidx, cap;
    uint64_t num;      /* leaves: the index */
    struct gl_buf val; /* tiles: the hashes */
    size_t klen;
    uint8_t key[];
};

struct mmap {
    struct mnode **b;
    size_t nb, n;
};

struct mem {
    struct store base;
    pthread_rwlock_t lock;
    struct gl_buf *entries; /* [nentries]; an entry is present iff its data is */
    uint8_t *present;
    size_t nentries, cap;
    struct mmap tiles, leaves, index;
    uint64_t size;
    struct gl_buf checkpoint, vkey;
    int has_vkey;
    uint32_t index_version;
    int fail_commits, fail_err;
};

static struct mem *mem(struct store *s)
{
    return (struct mem *)s;
}

static void oom(void)
{
    fputs("store_mem: out of memory during a commit\n", stderr);
    abort();
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);

    if (q == NULL)
        oom();
    return q;
}

/* --- the hash map ---------------------------------------------------------------------
 */

static uint64_t fnv(const uint8_t *k, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t i = 0; i < n; i++)
        h = (h ^ k[i]) * 0x100000001b3ULL;
    return h;
}

static struct mnode *mmap_find(const struct mmap *m, const void *key, size_t klen)
{
    if (m->nb == 0)
        return NULL;
    for (struct mnode *x = m->b[fnv(key, klen) & (m->nb - 1)]; x != NULL; x = x->next)
        if (x->klen == klen && memcmp(x->key, key, klen) == 0)
            return x;
    return NULL;
}

static void mmap_grow(struct mmap *m)
{
    size_t nb = m->nb ? m->nb * 2 : 64;
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
    struct mnode **b = xrealloc(NULL, nb * sizeof(*b));

    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
    memset(b, 0, nb * sizeof(*b));
    for (size_t i = 0; i < m->nb; i++) {
        struct mnode *x = m->b[i], *next;
        for (; x != NULL; x = next) {
            size_t j = fnv(x->key, x->klen) & (nb - 1);
            next = x->next;
            x->next = b[j];
            b[j] = x;
        }
    }
    free(m->b);
    m->b = b;
    m->nb = nb;
}

static struct mnode *mmap_upsert(struct mmap *m, const void *key, size_t klen, size_t max)
{
    struct mnode *x = mmap_find(m, key, klen);
    size_t j;

    if (x != NULL)
        return x;
    if (m->n >= m->nb)
        mmap_grow(m);
    x = xrealloc(NULL, sizeof(*x) + klen);
    memset(x, 0, sizeof(*x));
    gl_buf_init(&x->val, max);
    x->klen = klen;
    memcpy(x->key, key, klen);
    j = fnv(key, klen) & (m->nb - 1);
    x->next = m->b[j];
    m->b[j] = x;
    m->n++;
    return x;
}

static void mmap_remove(struct mmap *m, const void *key, size_t klen)
{
    struct mnode **pp;

    if (m->nb == 0)
        return;
    for (pp = &m->b[fnv(key, klen) & (m->nb - 1)]; *pp != NULL; pp = &(*pp)->next) {
        struct mnode *x = *pp;
        if (x->klen == klen && memcmp(x->key, key, klen) == 0) {
            *pp = x->next;
            gl_buf_release(&x->val);
            free(x->idx);
            free(x);
            m->n--;
            return;
        }
    }
}

static void mmap_release(struct mmap *m)
{
    for (size_t i = 0; i < m->nb; i++) {
        struct mnode *x = m->b[i], *next;
        for (; x != NULL; x = next) {
            next = x->next;
            gl_buf_release(&x->val);
            free(x->idx);
            free(x);
        }
    }
    free(m->b);
}

static void tile_key(uint8_t key[9], uint32_t level, uint64_t index)
{
    key[0] = (uint8_t)level;
    for (int i = 0; i < 8; i++)
        key[1 + i] = (uint8_t)(index >> (56 - 8 * i));
}

/* (kind, key) as one map key. */
static size_t index_key(uint8_t *out, uint32_t kind, const void *key, size_t klen)
{
    out[0] = (uint8_t)kind;
    memcpy(out + 1, key, klen);
    return klen + 1;
}

/* --- reads ---------------------------------------------------------------------------
 */

static int mem_get_state(struct store *s, uint64_t *size, struct gl_buf *checkpoint)
{
    struct mem *m = mem(s);
    int rc;

    pthread_rwlock_rdlock(&m->lock);
    *size = m->size;
    rc = gl_buf_append(checkpoint, m->checkpoint.data, m->checkpoint.len);
    pthread_rwlock_unlock(&m->lock);
    return rc;
}

static int mem_get_vkey(struct store *s, struct gl_buf *out)
{
    struct mem *m = mem(s);
    int rc;

    pthread_rwlock_rdlock(&m->lock);
    rc = m->has_vkey ? gl_buf_append(out, m->vkey.data, m->vkey.len) : GL_ENOTFOUND;
    pthread_rwlock_unlock(&m->lock);
    return rc;
}

static int mem_get_index_version(struct store *s, uint32_t *version)
{
    struct mem *m = mem(s);

    pthread_rwlock_rdlock(&m->lock);
    *version = m->index_version;
    pthread_rwlock_unlock(&m->lock);
    return 0;
}

static int mem_get_entry(struct store *s, uint64_t index, struct gl_buf *out)
{
    struct mem *m = mem(s);
    int rc = GL_ENOTFOUND;

    pthread_rwlock_rdlock(&m->lock);
    if (index < m->nentries && m->present[index])
        rc = gl_buf_append(out, m->entries[index].data, m->entries[index].len);
    pthread_rwlock_unlock(&m->lock);
    return rc;
}

static int mem_scan_entries(struct store *s, uint64_t start, uint64_t n, store_scan_fn fn,
                            void *ctx)
{
    struct mem *m = mem(s);
    int rc = 0;

    pthread_rwlock_rdlock(&m->lock);
    for (uint64_t i = start; i - start < n && rc == 0; i++) {
        if (i >= m->nentries || !m->present[i]) {
            rc = GL_ENOTFOUND;
            break;
        }
        rc = fn(ctx, i, m->entries[i].data, m->entries[i].len);
    }
    pthread_rwlock_unlock(&m->lock);
    return rc;
}

static int mem_get_tile(struct store *s, uint32_t level, uint64_t index, uint8_t *out,
                        size_t *len)
{
    struct mem *m = mem(s);
    struct mnode *x;
    uint8_t key[9];
    int rc = GL_ENOTFOUND;

    tile_key(key, level, index);
    pthread_rwlock_rdlock(&m->lock);
    if ((x = mmap_find(&m->tiles, key, 9)) != NULL) {
        memcpy(out, x->val.data, x->val.len);
        *len = x->val.len;
        rc = 0;
    }
    pthread_rwlock_unlock(&m->lock);
    return rc;
}

struct tile_ref {
    uint64_t index;
    const struct mnode *x;
};

static int tile_ref_cmp(const void *a, const void *b)
{
    uint64_t x = ((const struct tile_ref *)a)->index,
             y = ((const struct tile_ref *)b)->index;

    return x < y ? -1 : x > y;
}

/* The stored tiles of the level from start on, gaps skipped: collected
 * from the map and sorted, then handed to fn (all under the read lock). */
static int mem_scan_tiles(struct store *s, uint32_t level, uint64_t start,
                          store_scan_fn fn, void *ctx)
{
    struct mem *m = mem(s);
    struct tile_ref *refs = NULL;
    size_t n = 0;
    int rc = 0;

    pthread_rwlock_rdlock(&m->lock);
    if (m->tiles.n > 0 && (refs = malloc(m->tiles.n * sizeof(*refs))) == NULL)
        rc = GL_ENOMEM;
    for (size_t i = 0; rc == 0 && i < m->tiles.nb; i++) {
        for (const struct mnode *x = m->tiles.b[i]; x != NULL; x = x->next) {
            uint64_t index = 0;
            for (int k = 1; k < 9; k++)
                index = index << 8 | x->key[k];
            if (x->key[0] == (uint8_t)level && index >= start)
                refs[n++] = (struct tile_ref){index, x};
        }
    }
    if (n > 1)
        qsort(refs, n, sizeof(*refs), tile_ref_cmp);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = fn(ctx, refs[i].index, refs[i].x->val.data, refs[i].x->val.len);
    pthread_rwlock_unlock(&m->lock);
    free(refs);
    return rc < 0 ? rc : 0;
}

static int mem_find_leaf(struct store *s, const uint8_t hash[GL_HASH_LEN],
                         uint64_t *index)
{
    struct mem *m = mem(s);
    struct mnode *x;

    pthread_rwlock_rdlock(&m->lock);
    if ((x = mmap_find(&m->leaves, hash, GL_HASH_LEN)) != NULL)
        *index = x->num;
    pthread_rwlock_unlock(&m->lock);
    return x != NULL ? 0 : GL_ENOTFOUND;
}

static int mem_find_index(struct store *s, enum store_index kind, const void *key,
                          size_t klen, uint64_t from, uint64_t below, uint64_t *indices,
                          size_t max, size_t *n)
{
    struct mem *m = mem(s);
    uint8_t k[1 + STORE_INDEX_KEY_MAX];
    struct mnode *x;

    pthread_rwlock_rdlock(&m->lock);
    x = mmap_find(&m->index, k, index_key(k, kind, key, klen));
    for (size_t i = 0; x != NULL && i < x->nidx && *n < max && x->idx[i] < below; i++)
        if (x->idx[i] >= from)
            indices[(*n)++] = x->idx[i];
    pthread_rwlock_unlock(&m->lock);
    return 0;
}

/* --- commit --------------------------------------------------------------------------
 */

static void put_entry(struct mem *m, uint64_t index, const uint8_t *data, size_t len)
{
    if (index >= m->cap) {
        size_t cap = m->cap ? m->cap : 1024;
        while (cap <= index)
            cap *= 2;
        m->entries = xrealloc(m->entries, cap * sizeof(*m->entries));
        m->present = xrealloc(m->present, cap);
        memset(m->present + m->cap, 0, cap - m->cap);
        m->cap = cap;
    }
    if (index >= m->nentries)
        m->nentries = index + 1;
    if (!m->present[index])
        gl_buf_init(&m->entries[index], STORE_BATCH_MAX);
    gl_buf_reset(&m->entries[index]);
    if (gl_buf_append(&m->entries[index], data, len) != 0)
        oom();
    m->present[index] = 1;
}

static void put_index(struct mem *m, uint32_t kind, const uint8_t *key, size_t klen,
                      uint64_t index)
{
    uint8_t k[1 + STORE_INDEX_KEY_MAX];
    struct mnode *x = mmap_upsert(&m->index, k, index_key(k, kind, key, klen), 0);
    size_t i = x->nidx;

    while (i > 0 && x->idx[i - 1] > index)
        i--;
    if (i > 0 && x->idx[i - 1] == index)
        return;
    if (x->nidx == x->cap) {
        x->cap = x->cap ? x->cap * 2 : 4;
        x->idx = xrealloc(x->idx, x->cap * sizeof(*x->idx));
    }
    memmove(x->idx + i + 1, x->idx + i, (x->nidx - i) * sizeof(*x->idx));
    x->idx[i] = index;
    x->nidx++;
}

static void copy_buf(struct gl_buf *b, const uint8_t *data, size_t len)
{
    gl_buf_reset(b);
    if (gl_buf_append(b, data, len) != 0)
        oom();
}

static void apply(struct mem *m, const struct store_batch *b, const struct store_put *p)
{
    const uint8_t *key = store_put_key(b, p), *val = store_put_val(b, p);
    uint8_t k[9];

    switch (p->kind) {
    case STORE_PUT_ENTRY:
        put_entry(m, p->n, val, p->vlen);
        break;
    case STORE_PUT_LEAF:
        mmap_upsert(&m->leaves, key, GL_HASH_LEN, 0)->num = p->n;
        break;
    case STORE_PUT_INDEX:
        put_index(m, p->a, key, p->klen, p->n);
        break;
    case STORE_PUT_TILE:
        tile_key(k, p->a, p->n);
        copy_buf(&mmap_upsert(&m->tiles, k, 9, STORE_TILE_MAX)->val, val, p->vlen);
        break;
    case STORE_DELETE_TILE:
        tile_key(k, p->a, p->n);
        mmap_remove(&m->tiles, k, 9);
        break;
    case STORE_PUT_STATE:
        m->size = p->n;
        copy_buf(&m->checkpoint, val, p->vlen);
        break;
    case STORE_PUT_VKEY:
        copy_buf(&m->vkey, val, p->vlen);
        m->has_vkey = 1;
        break;
    case STORE_PUT_INDEX_VERSION:
        m->index_version = (uint32_t)p->n;
        break;
    case STORE_DELETE_QUEUED: /* no shared queue here */
        break;
    }
}

static int mem_commit(struct store *s, const struct store_batch *b,
                      const struct store_expect *expect)
{
    struct mem *m = mem(s);
    int rc = 0;

    pthread_rwlock_wrlock(&m->lock);
    if (m->fail_commits > 0) {
        m->fail_commits--;
        rc = m->fail_err;
    } else if (expect != NULL && expect->size != m->size) {
        rc = GL_ESTATE;
    } else {
        for (size_t i = 0; i < b->n; i++)
            apply(m, b, &b->puts[i]);
    }
    pthread_rwlock_unlock(&m->lock);
    return rc;
}

void store_mem_fail_commits(struct store *s, int n, int err)
{
    struct mem *m = mem(s);

    pthread_rwlock_wrlock(&m->lock);
    m->fail_commits = n;
    m->fail_err = err;
    pthread_rwlock_unlock(&m->lock);
}

/* --- lifecycle ---------------------------------------------------------------------- */

static int mem_reopen(struct store *s, uint64_t end)
{
    (void)s, (void)end;
    return 0;
}

static void mem_close(struct store *s)
{
    struct mem *m = mem(s);

    for (size_t i = 0; i < m->nentries; i++)
        if (m->present[i])
            gl_buf_release(&m->entries[i]);
    free(m->entries);
    free(m->present);
    mmap_release(&m->tiles);
    mmap_release(&m->leaves);
    mmap_release(&m->index);
    gl_buf_release(&m->checkpoint);
    gl_buf_release(&m->vkey);
    pthread_rwlock_destroy(&m->lock);
    free(m);
}

static const struct store_ops mem_ops = {
    "mem",
    mem_close,
    mem_reopen,
    mem_get_state,
    mem_get_vkey,
    mem_get_entry,
    mem_scan_entries,
    mem_get_tile,
    mem_scan_tiles,
    mem_find_leaf,
    mem_find_index,
    mem_get_index_version,
    mem_commit,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL, /* not shared */
    NULL, /* in-process buckets (store.c) */
    NULL, /* a commit returns once durable */
    NULL, /* no origins recorded */
    NULL, /* a commit returns once durable: nothing to mark */
    0,    /* no limit on concurrent reads */
    NULL, /* no call waits on a server: nothing to bound */
    NULL, /* never a copy: store_get_copy gives 0 */
    NULL, /* ... and store_set_copy GL_ESTATE */
    NULL, /* no online backup: store_backup GL_ESTATE */
};

int store_mem_open(const struct store_options *o, struct store **out, const char **why)
{
    struct mem *m;

    if (!o->create) {
        *why = "an in-memory store is always new (use --create)";
        return GL_ENOTFOUND;
    }
    if ((m = calloc(1, sizeof(*m))) == NULL)
        return GL_ENOMEM;
    m->base.ops = &mem_ops;
    pthread_rwlock_init(&m->lock, NULL);
    gl_buf_init(&m->checkpoint, STORE_BATCH_MAX);
    gl_buf_init(&m->vkey, STORE_BATCH_MAX);
    *out = &m->base;
    return 0;
}

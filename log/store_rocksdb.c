/*
 * store_rocksdb: the embedded backend of store.h, on the shared RocksDB
 * adapter (lib/net/kv.c, the only file that includes rocksdb/c.h).
 *
 * Column families and keys (integers big-endian, so keys sort in numeric
 * order):
 *   default   "state"      -> "GLS1" || size (8)
 *             "checkpoint" -> the checkpoint note of that size
 *             "vkey"       -> the log's verifier key text
 *             "indexver"   -> version of the secondary indexes (4)
 *             "copy"       -> "1": the store is a backup or a restore
 *                             (store_get_copy), absent otherwise
 *   entries   index (8)                -> statement bytes
 *   tiles     level (1) || index (8)   -> 32 * width bytes (prefix rule)
 *   leaves    leaf hash (32)           -> index (8)
 *   subjects  sha256 (32) || index (8) -> ""   (STORE_INDEX_ARTIFACT)
 *   index     kind (1) || key length (2) || key || index (8) -> ""
 *                                             (the other kinds)
 * The artifact index keeps its own family (the layout logs were made
 * with); the key length in "index" keeps one key from being a prefix scan
 * of a longer one.
 *
 * The contract: a batch is one WriteBatch written with sync=true (rules 1,
 * 2: all or nothing after a crash, durable on return). Its leaf-index
 * puts go into the WriteBatch sorted by hash (sorted_leaves: the same
 * records, only cheaper memtable inserts for bulk batches). The leaf
 * family's memtables carry a bloom filter: a batch looks all its leaf
 * hashes up (duplicates), nearly all of them absent, and an absent one
 * then costs a few hashes instead of a search of the skip list. RocksDB
 * locks the directory for one process, so the compare-and-set (rule 3) is checked
 * against the size this process last committed or read (`size`, under
 * `mu`); a failed write sets `unknown`, and the size is re-read by
 * store_reopen before the next commit (rule 4). Reads are RocksDB's
 * (thread-safe, read-committed; rule 5). rdb_reopen closes the database
 * every other call uses: store.c runs it only while no other operation
 * runs (kv_reopen's condition).
 */
#include "store_impl.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "glasslog/error.h"
#include "glasslog/log.h"
#include "kv.h"

enum { CF_DEFAULT, CF_ENTRIES, CF_TILES, CF_LEAVES, CF_SUBJECTS, CF_INDEX, CF_COUNT };
static const char *const cf_names[CF_COUNT] = {"default", "entries",  "tiles",
                                               "leaves",  "subjects", "index"};
static const char state_magic[4] = {'G', 'L', 'S', '1'};

struct rdb {
    struct store base;
    struct kv *kv;
    pthread_mutex_t mu;
    uint64_t size; /* the committed tree size (for the compare-and-set) */
    int unknown;   /* a commit failed: size must be re-read */
};

static struct rdb *rdb(struct store *s)
{
    return (struct rdb *)s;
}

static void tile_key(uint8_t key[9], uint32_t level, uint64_t index)
{
    key[0] = (uint8_t)level;
    kv_put_be64(key + 1, index);
}

/* "index" family key prefix: kind, key length, key; returns its length. */
static size_t index_prefix(uint8_t *out, enum store_index kind, const void *key,
                           size_t klen)
{
    out[0] = (uint8_t)kind;
    out[1] = (uint8_t)(klen >> 8);
    out[2] = (uint8_t)klen;
    memcpy(out + 3, key, klen);
    return 3 + klen;
}

/* --- reads -------------------------------------------------------------------------- */

/* The state and its checkpoint from one snapshot (rule 5: a commit
 * between two plain reads would pair a size with a later checkpoint). A
 * new store has neither. */
static int rdb_get_state(struct store *s, uint64_t *size, struct gl_buf *checkpoint)
{
    static const void *const keys[2] = {"state", "checkpoint"};
    static const size_t klens[2] = {5, 10};
    struct gl_buf st;
    struct gl_buf *outs[2] = {&st, checkpoint};
    int rcs[2] = {0, 0}, rc;

    gl_buf_init(&st, 64);
    if ((rc = kv_get_all(rdb(s)->kv, CF_DEFAULT, 2, keys, klens, outs, rcs)) != 0)
        goto out;
    if (rcs[0] == GL_ENOTFOUND) {
        *size = 0;
        goto out;
    }
    if ((rc = rcs[0]) != 0)
        goto out;
    if (st.len != 12 || memcmp(st.data, state_magic, 4) != 0) {
        gl_log(GL_LOG_ERROR, "store: the tree state record is corrupt");
        rc = GL_EPARSE;
        goto out;
    }
    *size = kv_get_be64(st.data + 4);
    rc = rcs[1];
out:
    gl_buf_release(&st);
    return rc;
}

static int rdb_get_vkey(struct store *s, struct gl_buf *out)
{
    return kv_get(rdb(s)->kv, CF_DEFAULT, "vkey", 4, out);
}

static int rdb_get_index_version(struct store *s, uint32_t *version)
{
    struct gl_buf b;
    int rc;

    gl_buf_init(&b, 4);
    rc = kv_get(rdb(s)->kv, CF_DEFAULT, "indexver", 8, &b);
    if (rc == GL_ENOTFOUND) {
        *version = 0;
        rc = 0;
    } else if (rc == 0 && b.len != 4) {
        rc = GL_EPARSE;
    } else if (rc == 0) {
        *version = (uint32_t)b.data[0] << 24 | (uint32_t)b.data[1] << 16 |
                   (uint32_t)b.data[2] << 8 | b.data[3];
    }
    gl_buf_release(&b);
    return rc == GL_ETOOBIG ? GL_EPARSE : rc;
}

static int rdb_get_entry(struct store *s, uint64_t index, struct gl_buf *out)
{
    uint8_t key[8];

    kv_put_be64(key, index);
    return kv_get(rdb(s)->kv, CF_ENTRIES, key, 8, out);
}

struct scan_entries {
    uint64_t next, end;
    store_scan_fn fn;
    void *ctx;
    int ret; /* fn's non-zero return, which ends the scan */
};

static int scan_entry(void *ctx, const uint8_t *k, size_t klen, const uint8_t *v,
                      size_t vlen)
{
    struct scan_entries *se = ctx;

    if (klen != 8 || kv_get_be64(k) != se->next)
        return GL_ENOTFOUND;
    if ((se->ret = se->fn(se->ctx, se->next, v, vlen)) != 0)
        return se->ret;
    return ++se->next == se->end ? 1 : 0;
}

static int rdb_scan_entries(struct store *s, uint64_t start, uint64_t n, store_scan_fn fn,
                            void *ctx)
{
    struct scan_entries se = {start, start + n, fn, ctx, 0};
    uint8_t key[8];
    int rc;

    kv_put_be64(key, start);
    rc = kv_scan(rdb(s)->kv, CF_ENTRIES, key, 8, scan_entry, &se);
    if (rc != 0 || se.ret != 0)
        return rc != 0 ? rc : se.ret;
    return se.next == se.end ? 0 : GL_ENOTFOUND;
}

static int rdb_get_tile(struct store *s, uint32_t level, uint64_t index, uint8_t *out,
                        size_t *len)
{
    struct gl_buf b;
    uint8_t key[9];
    int rc;

    tile_key(key, level, index);
    gl_buf_init(&b, STORE_TILE_MAX);
    if ((rc = kv_get(rdb(s)->kv, CF_TILES, key, 9, &b)) == 0) {
        if (b.len % GL_HASH_LEN != 0) {
            gl_log(GL_LOG_ERROR, "store: corrupt tile record (%zu bytes)", b.len);
            rc = GL_EPARSE;
        } else {
            memcpy(out, b.data, b.len);
            *len = b.len;
        }
    } else if (rc == GL_ETOOBIG) {
        gl_log(GL_LOG_ERROR, "store: corrupt tile record (too large)");
        rc = GL_EPARSE;
    }
    gl_buf_release(&b);
    return rc;
}

struct scan_tiles {
    uint32_t level;
    store_scan_fn fn;
    void *ctx;
};

static int scan_tile(void *ctx, const uint8_t *k, size_t klen, const uint8_t *v,
                     size_t vlen)
{
    struct scan_tiles *st = ctx;

    if (klen != 9 || k[0] != st->level)
        return 1;
    return st->fn(st->ctx, kv_get_be64(k + 1), v, vlen);
}

static int rdb_scan_tiles(struct store *s, uint32_t level, uint64_t start,
                          store_scan_fn fn, void *ctx)
{
    struct scan_tiles st = {level, fn, ctx};
    uint8_t key[9];

    tile_key(key, level, start);
    return kv_scan(rdb(s)->kv, CF_TILES, key, 9, scan_tile, &st);
}

static int rdb_find_leaf(struct store *s, const uint8_t hash[GL_HASH_LEN],
                         uint64_t *index)
{
    struct gl_buf b;
    int rc;

    gl_buf_init(&b, 8);
    rc = kv_get(rdb(s)->kv, CF_LEAVES, hash, GL_HASH_LEN, &b);
    if (rc == 0 && b.len != 8)
        rc = GL_EPARSE;
    if (rc == 0)
        *index = kv_get_be64(b.data);
    gl_buf_release(&b);
    return rc == GL_ETOOBIG ? GL_EPARSE : rc;
}

struct found_leaves {
    uint64_t *indices;
    uint8_t *found;
};

static int found_leaf(void *ctx, size_t i, int rc, const uint8_t *v, size_t vlen)
{
    struct found_leaves *f = ctx;

    f->found[i] = rc == 0;
    if (rc == GL_ENOTFOUND)
        return 0;
    if (rc == 0 && vlen != 8)
        return GL_EPARSE;
    if (rc == 0)
        f->indices[i] = kv_get_be64(v);
    return rc;
}

static int rdb_find_leaves(struct store *s, size_t n, const uint8_t *const *hashes,
                           uint64_t *indices, uint8_t *found)
{
    struct found_leaves f = {indices, found};
    size_t *klens = malloc(n * sizeof(*klens));
    int rc = GL_ENOMEM;

    if (klens != NULL) {
        for (size_t i = 0; i < n; i++)
            klens[i] = GL_HASH_LEN;
        rc = kv_get_each(rdb(s)->kv, CF_LEAVES, n, (const void *const *)hashes, klens,
                         found_leaf, &f);
    }
    free(klens);
    return rc;
}

struct scan_index {
    const uint8_t *prefix;
    size_t plen;
    uint64_t below, *indices;
    size_t max, n;
};

static int scan_index(void *ctx, const uint8_t *k, size_t klen, const uint8_t *v,
                      size_t vlen)
{
    struct scan_index *si = ctx;
    uint64_t idx;

    (void)v;
    (void)vlen;
    if (klen != si->plen + 8 || memcmp(k, si->prefix, si->plen) != 0 || si->n == si->max)
        return 1;
    idx = kv_get_be64(k + si->plen);
    if (idx >= si->below)
        return 1; /* ascending: none after it is below either */
    si->indices[si->n++] = idx;
    return 0;
}

static int rdb_find_index(struct store *s, enum store_index kind, const void *key,
                          size_t klen, uint64_t from, uint64_t below, uint64_t *indices,
                          size_t max, size_t *n)
{
    uint8_t prefix[3 + STORE_INDEX_KEY_MAX + 8];
    struct scan_index si = {prefix, 0, below, indices, max, 0};
    int cf = kind == STORE_INDEX_ARTIFACT ? CF_SUBJECTS : CF_INDEX, rc;

    if (cf == CF_SUBJECTS) {
        memcpy(prefix, key, klen);
        si.plen = klen;
    } else {
        si.plen = index_prefix(prefix, kind, key, klen);
    }
    kv_put_be64(prefix + si.plen, from); /* start at (key, from) */
    rc = kv_scan(rdb(s)->kv, cf, prefix, si.plen + 8, scan_index, &si);
    *n = si.n;
    return rc;
}

/* --- commit --------------------------------------------------------------------------
 */

/* The family of a leaf or index put: leaf hashes, artifact digests, or
 * the other indexes. */
static int keyed_family(const struct store_put *p)
{
    assert(p->kind == STORE_PUT_LEAF || p->kind == STORE_PUT_INDEX);
    return p->kind == STORE_PUT_LEAF      ? CF_LEAVES
           : p->a == STORE_INDEX_ARTIFACT ? CF_SUBJECTS
                                          : CF_INDEX;
}

static void put_one(struct kv_batch *kb, const struct store_batch *b,
                    const struct store_put *p)
{
    const uint8_t *key = store_put_key(b, p), *val = store_put_val(b, p);
    uint8_t k[3 + STORE_INDEX_KEY_MAX + 8], v[12];
    size_t n;

    switch (p->kind) {
    case STORE_PUT_ENTRY:
        kv_put_be64(k, p->n);
        kv_batch_put(kb, CF_ENTRIES, k, 8, val, p->vlen);
        break;
    case STORE_PUT_LEAF:
        kv_put_be64(v, p->n);
        kv_batch_put(kb, CF_LEAVES, key, GL_HASH_LEN, v, 8);
        break;
    case STORE_PUT_INDEX:
        if (p->a == STORE_INDEX_ARTIFACT) {
            memcpy(k, key, GL_HASH_LEN);
            n = GL_HASH_LEN;
        } else {
            n = index_prefix(k, (enum store_index)p->a, key, p->klen);
        }
        kv_put_be64(k + n, p->n);
        kv_batch_put(kb, keyed_family(p), k, n + 8, "", 0);
        break;
    case STORE_PUT_TILE:
        tile_key(k, p->a, p->n);
        kv_batch_put(kb, CF_TILES, k, 9, val, p->vlen);
        break;
    case STORE_DELETE_TILE:
        tile_key(k, p->a, p->n);
        kv_batch_delete(kb, CF_TILES, k, 9);
        break;
    case STORE_PUT_STATE:
        memcpy(v, state_magic, 4);
        kv_put_be64(v + 4, p->n);
        kv_batch_put(kb, CF_DEFAULT, "state", 5, v, 12);
        kv_batch_put(kb, CF_DEFAULT, "checkpoint", 10, val, p->vlen);
        break;
    case STORE_PUT_VKEY:
        kv_batch_put(kb, CF_DEFAULT, "vkey", 4, val, p->vlen);
        break;
    case STORE_PUT_INDEX_VERSION:
        v[0] = (uint8_t)(p->n >> 24);
        v[1] = (uint8_t)(p->n >> 16);
        v[2] = (uint8_t)(p->n >> 8);
        v[3] = (uint8_t)p->n;
        kv_batch_put(kb, CF_DEFAULT, "indexver", 8, v, 4);
        break;
    case STORE_DELETE_QUEUED: /* no shared queue here */
        break;
    }
}

/* The randomly keyed puts of a batch (leaf hashes, index keys) in the
 * order of their RocksDB keys within each family (ties in put order, so
 * a later put of the same key still wins). Put in batch order, each
 * lands at a random place in the memtable's skip list and RocksDB
 * searches it from the top; in key order, each lands next to the one
 * before and the search starts from there. The other puts (entries,
 * tiles, state) come in key order already. */
struct keyed_put {
    const uint8_t *key;
    const struct store_put *p;
};

static int sorts(const struct store_put *p)
{
    return p->kind == STORE_PUT_LEAF || p->kind == STORE_PUT_INDEX;
}

/* The family, then the order of the keys put_one writes: a leaf's hash;
 * an artifact's hash, then its index; another index's kind, key length,
 * key, then its index. */
static int keyed_cmp(const void *a, const void *b)
{
    const struct keyed_put *x = a, *y = b;
    const struct store_put *p = x->p, *q = y->p;
    int fx = keyed_family(p), fy = keyed_family(q);
    int c;

    if (fx != fy)
        return fx - fy;
    if (fx == CF_INDEX && p->a != q->a)
        return p->a < q->a ? -1 : 1;
    if (fx == CF_INDEX && p->klen != q->klen)
        return p->klen < q->klen ? -1 : 1;
    c = memcmp(x->key, y->key, fx == CF_INDEX ? p->klen : GL_HASH_LEN);
    if (c == 0 && fx != CF_LEAVES && p->n != q->n)
        c = p->n < q->n ? -1 : 1;
    return c != 0 ? c : (p > q) - (p < q);
}

/* *out (caller frees) gets the *n randomly keyed puts of b, sorted. */
static int sorted_keyed(const struct store_batch *b, struct keyed_put **out, size_t *n)
{
    size_t k = 0;

    *out = NULL;
    *n = 0;
    for (size_t i = 0; i < b->n; i++)
        k += sorts(&b->puts[i]);
    if (k == 0)
        return 0;
    if ((*out = malloc(k * sizeof(**out))) == NULL)
        return GL_ENOMEM;
    for (size_t i = 0; i < b->n; i++)
        if (sorts(&b->puts[i]))
            (*out)[(*n)++] =
                (struct keyed_put){store_put_key(b, &b->puts[i]), &b->puts[i]};
    qsort(*out, *n, sizeof(**out), keyed_cmp);
    return 0;
}

static int rdb_commit(struct store *s, const struct store_batch *b,
                      const struct store_expect *expect)
{
    struct rdb *r = rdb(s);
    struct kv_batch *kb = NULL;
    struct keyed_put *keyed = NULL;
    size_t nkeyed = 0;
    uint64_t size;
    int rc;

    pthread_mutex_lock(&r->mu);
    size = r->size;
    if (expect != NULL && (r->unknown || expect->size != r->size)) {
        rc = GL_ESTATE;
        goto out;
    }
    if ((rc = kv_batch_new(r->kv, &kb)) != 0)
        goto out;
    if ((rc = sorted_keyed(b, &keyed, &nkeyed)) != 0)
        goto out;
    for (size_t i = 0; i < b->n; i++) {
        if (!sorts(&b->puts[i]))
            put_one(kb, b, &b->puts[i]);
        if (b->puts[i].kind == STORE_PUT_STATE)
            size = b->puts[i].n;
    }
    for (size_t i = 0; i < nkeyed; i++)
        put_one(kb, b, keyed[i].p);
    if ((rc = kv_batch_commit(kb)) == 0)
        r->size = size;
    else
        r->unknown = 1;
out:
    pthread_mutex_unlock(&r->mu);
    kv_batch_free(kb);
    free(keyed);
    return rc;
}

/* --- lifecycle -----------------------------------------------------------------------
 */

/* Reads the committed size into r->size. */
static int load_size(struct rdb *r)
{
    struct gl_buf ck;
    uint64_t size;
    int rc;

    gl_buf_init(&ck, 1 << 16);
    rc = rdb_get_state(&r->base, &size, &ck);
    gl_buf_release(&ck);
    if (rc == 0) {
        pthread_mutex_lock(&r->mu);
        r->size = size;
        r->unknown = 0;
        pthread_mutex_unlock(&r->mu);
    }
    return rc;
}

/* end (store_impl.h) is not needed: the reopen waits on no server, and
 * its write-ahead log replay is bounded by the write buffers. */
static int rdb_reopen(struct store *s, uint64_t end)
{
    int rc = kv_reopen(rdb(s)->kv);

    (void)end;

    return rc != 0 ? rc : load_size(rdb(s));
}

static void rdb_close(struct store *s)
{
    struct rdb *r = rdb(s);

    kv_close(r->kv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* The adapter's options for a data directory. Entries (text) compress;
 * tiles, leaf and secondary indexes are hashes and short keys. */
static struct kv_options rdb_kv_options(const char *dir, size_t cache_mb, int create,
                                        int readonly)
{
    struct kv_options ko = {.dir = dir,
                            .cfs = cf_names,
                            .ncfs = CF_COUNT,
                            .cache_mb = cache_mb ? cache_mb : 64,
                            .write_buffer_mb = 16, /* store_options' 0 */
                            .compress = 1u << CF_DEFAULT | 1u << CF_ENTRIES,
                            .create = create,
                            .bloom = 1,
                            .memtable_bloom = 1u << CF_LEAVES,
                            .readonly = readonly};

    return ko;
}

/* The copy mark: the key "copy" of the default family. */
static int rdb_get_copy(struct store *s, int *copy)
{
    struct gl_buf b;
    int rc;

    gl_buf_init(&b, 16);
    rc = kv_get(rdb(s)->kv, CF_DEFAULT, "copy", 4, &b);
    gl_buf_release(&b);
    *copy = rc == 0;
    return rc == GL_ENOTFOUND ? 0 : rc;
}

/* Writes (copy) or deletes the copy mark in one synced batch. */
static int put_copy_mark(struct kv *kv, int copy)
{
    struct kv_batch *b;
    int rc;

    if ((rc = kv_batch_new(kv, &b)) != 0)
        return rc;
    if (copy)
        kv_batch_put(b, CF_DEFAULT, "copy", 4, "1", 1);
    else
        kv_batch_delete(b, CF_DEFAULT, "copy", 4);
    rc = kv_batch_commit(b);
    kv_batch_free(b);
    return rc;
}

static int rdb_set_copy(struct store *s, int copy)
{
    return put_copy_mark(rdb(s)->kv, copy);
}

/* RocksDB's checkpoint runs beside reads and commits; store.c keeps a
 * reopen (which swaps the database) from running meanwhile. The snapshot
 * is made as dir.incomplete (STORE_BACKUP_PARTIAL), opened there to write
 * the copy mark, and renamed to dir: a directory named dir always carries
 * the mark. On failure the dir.incomplete this call made is removed, so
 * no openable snapshot without the mark stays behind (one a crash left is
 * swept by the next backup, and store_open refuses the name). */
static int rdb_backup(struct store *s, const char *dir)
{
    char tmp[4096];
    struct kv_options ko;
    struct kv *snap = NULL;
    int n = snprintf(tmp, sizeof(tmp), "%s" STORE_BACKUP_PARTIAL, dir), rc;

    if (n < 0 || (size_t)n >= sizeof(tmp))
        return GL_ETOOBIG;
    if (access(dir, F_OK) == 0 || access(tmp, F_OK) == 0)
        return GL_EEXIST; /* never touch what this call did not make */
    /* a failure after the snapshot exists (its sync) is cleaned up below */
    if ((rc = kv_checkpoint(rdb(s)->kv, tmp)) != 0 && access(tmp, F_OK) != 0)
        return rc;
    ko = rdb_kv_options(tmp, 8, 0, 0);
    if (rc == 0 && (rc = kv_open(&ko, &snap)) == 0) {
        rc = put_copy_mark(snap, 1);
        kv_close(snap);
    }
    if (rc == 0 && rename(tmp, dir) != 0) {
        gl_log(GL_LOG_ERROR, "store: cannot rename %s to %s: %s", tmp, dir,
               strerror(errno));
        rc = GL_EIO;
    }
    if (rc == 0 && gl_file_sync_parent(dir) != 0) {
        gl_log(GL_LOG_ERROR, "store: cannot sync the directory holding %s: %s", dir,
               strerror(errno));
        rc = GL_EIO;
    }
    if (rc != 0 && gl_file_remove_tree(tmp) != 0)
        gl_log(GL_LOG_ERROR, "store: cannot remove the incomplete snapshot %s: %s", tmp,
               strerror(errno));
    return rc;
}

/* Not shared (no lease, queue, watch or served checkpoint); rate-limit
 * buckets are store.c's in-process ones. */
static const struct store_ops rdb_ops = {
    .name = "rocksdb",
    .close = rdb_close,
    .reopen = rdb_reopen,
    .get_state = rdb_get_state,
    .get_vkey = rdb_get_vkey,
    .get_entry = rdb_get_entry,
    .scan_entries = rdb_scan_entries,
    .get_tile = rdb_get_tile,
    .scan_tiles = rdb_scan_tiles,
    .find_leaf = rdb_find_leaf,
    .find_index = rdb_find_index,
    .get_index_version = rdb_get_index_version,
    .commit = rdb_commit,
    .find_leaves = rdb_find_leaves,
    .read_capacity = 0, /* no limit on concurrent reads */
    .get_copy = rdb_get_copy,
    .set_copy = rdb_set_copy,
    .backup = rdb_backup,
};

/* 1 if dir holds RocksDB's CURRENT file (every RocksDB store has one). */
static int has_current(const char *dir)
{
    char path[4096];
    struct stat st;
    int n = snprintf(path, sizeof(path), "%s/CURRENT", dir);

    return n > 0 && (size_t)n < sizeof(path) && stat(path, &st) == 0;
}

int store_rocksdb_open(const struct store_options *o, struct store **out,
                       const char **why)
{
    struct kv_options ko = rdb_kv_options(o->dir, o->cache_mb, o->create, o->readonly);
    struct rdb *r;
    int empty = gl_file_dir_empty(o->dir), rc;

    if (empty < 0) {
        *why = "cannot read the data directory";
        return GL_EIO;
    }
    if (empty && !o->create) {
        *why = "the data directory is missing or empty (use --create to make a new log)";
        return GL_ENOTFOUND;
    }
    if (!empty && o->create) {
        *why = "--create needs a missing or empty data directory; this one has data";
        return GL_EEXIST;
    }
    if (!empty && !has_current(o->dir)) {
        /* refused before RocksDB writes its LOCK and LOG files into it */
        *why = "the data directory has files but no RocksDB store (no CURRENT file): "
               "refusing to open it (is --data the right directory?)";
        return GL_ENOTFOUND;
    }
    if (o->create && mkdir(o->dir, 0700) != 0 && errno != EEXIST) {
        *why = "cannot create the data directory";
        return GL_EIO;
    }
    /* the new directory's entry is durable before anything in it is */
    if (o->create && gl_file_sync_parent(o->dir) != 0) {
        *why = "cannot sync the directory holding the data directory";
        return GL_EIO;
    }
    if ((r = calloc(1, sizeof(*r))) == NULL)
        return GL_ENOMEM;
    r->base.ops = &rdb_ops;
    pthread_mutex_init(&r->mu, NULL);
    ko.max_open_files = o->max_open_files;
    ko.cache = o->cache;
    if (o->write_buffer_mb != 0)
        ko.write_buffer_mb = o->write_buffer_mb;
    if ((rc = kv_open(&ko, &r->kv)) != 0) {
        *why = "cannot open the RocksDB store (see the error above)";
        pthread_mutex_destroy(&r->mu);
        free(r);
        return rc;
    }
    if ((rc = load_size(r)) != 0) {
        *why = "cannot read the store's state";
        rdb_close(&r->base);
        return rc;
    }
    *out = &r->base;
    return 0;
}

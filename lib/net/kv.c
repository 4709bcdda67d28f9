/*
 * kv: RocksDB adapter; see kv.h. Every handle made at open is kept in
 * struct kv and destroyed by kv_close, in reverse order, whatever point
 * the open reached. The database handle and its column family handles
 * (kv_open_db / kv_close_db) can be replaced by kv_reopen while the
 * options, cache and names stay; db is NULL only between a failed
 * kv_reopen and the next successful one, and every call then fails with
 * GL_EIO.
 *
 * Write failures. The Debian build of RocksDB keeps its assertions, and
 * a file writer that failed once aborts the process on its next write.
 * RocksDB's info LOG is such a writer, and RocksDB logs every background
 * error to it, so on a full disk the error line fails and the next one
 * aborts. Hence: the info LOG takes fatal lines only (the header at open
 * is always written); every error reaches our log anyway, through the
 * status of the call that failed (a background flush or compaction error
 * fails the next write). And before opening for writing, kv_probe writes
 * and syncs a small file in the directory, so a disk that is known to
 * fail gets a clear error instead of an abort in the middle of the LOG
 * header (a disk that fails between the probe and the open still can).
 */
#include "kv.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rocksdb/c.h>

#include "glasslog/error.h"
#include "file.h"
#include "glasslog/log.h"

struct kv {
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_options_t *cf_opts[KV_MAX_CFS];
    rocksdb_column_family_handle_t *cf[KV_MAX_CFS];
    size_t ncfs;
    rocksdb_block_based_table_options_t *table;
    rocksdb_cache_t *cache;
    rocksdb_filterpolicy_t *bloom;
    rocksdb_readoptions_t *ropts;
    rocksdb_writeoptions_t *wopts;
    const char *cfs[KV_MAX_CFS]; /* the caller's names */
    char *dir;
    int readonly;  /* db was opened read-only (kv_reopen, or asked for) */
    int read_only; /* kv_options.readonly: never opened for writing */
};

struct kv_cache {
    rocksdb_cache_t *c;
};

struct kv_batch {
    struct kv *kv;
    rocksdb_writebatch_t *wb;
    size_t count;
    int broken; /* a put found no open database: commit fails */
};

/* 0, or GL_EIO after logging and freeing RocksDB's message. */
static int kv_check(char *err, const char *what)
{
    if (err == NULL)
        return 0;
    gl_log(GL_LOG_ERROR, "store: %s: %s", what, err);
    free(err);
    return GL_EIO;
}

/* Family i's memtables get a whole-key bloom filter of MEMTABLE_BLOOM_RATIO
 * of the write buffer: about 10 bits per record for records of about 70
 * bytes in the memtable (a 32-byte key, an 8-byte value, RocksDB's
 * overhead), so about 1% of absent keys are still searched for. The C API has no setter
 * for memtable_whole_key_filtering, hence the options string; it copies the options
 * already set (the table factory included). */
#define MEMTABLE_BLOOM_RATIO 0.02
static int kv_memtable_bloom(struct kv *kv, size_t i)
{
    rocksdb_options_t *c = rocksdb_options_create();
    char *err = NULL;

    if (c == NULL)
        return GL_ENOMEM;
    rocksdb_get_options_from_string(kv->cf_opts[i], "memtable_whole_key_filtering=true",
                                    c, &err);
    if (err != NULL) {
        rocksdb_options_destroy(c);
        return kv_check(err, "memtable bloom filter");
    }
    rocksdb_options_set_memtable_prefix_bloom_size_ratio(c, MEMTABLE_BLOOM_RATIO);
    rocksdb_options_destroy(kv->cf_opts[i]);
    kv->cf_opts[i] = c;
    return 0;
}

static int kv_options(struct kv *kv, const struct kv_options *o, unsigned max_open_files)
{
    int rc;

    kv->opts = rocksdb_options_create();
    kv->table = rocksdb_block_based_options_create();
    if (o->cache == NULL)
        kv->cache = rocksdb_cache_create_lru((o->cache_mb ? o->cache_mb : 16) << 20);
    kv->ropts = rocksdb_readoptions_create();
    kv->wopts = rocksdb_writeoptions_create();
    if (!kv->opts || !kv->table || (o->cache == NULL && !kv->cache) || !kv->ropts ||
        !kv->wopts)
        return GL_ENOMEM;
    /* the table options hold their own reference (RocksDB's shared_ptr):
     * a shared cache outlives its kv_cache_free while databases use it */
    rocksdb_block_based_options_set_block_cache(kv->table,
                                                o->cache ? o->cache->c : kv->cache);
    rocksdb_block_based_options_set_cache_index_and_filter_blocks(kv->table, 1);
    if (o->bloom) {
        /* Partitioned filters and index: a lookup loads one small filter
         * partition, not a whole-file filter that a bounded cache keeps
         * evicting (at millions of keys that re-read dominated appends). */
        if ((kv->bloom = rocksdb_filterpolicy_create_bloom(10)) == NULL)
            return GL_ENOMEM;
        rocksdb_block_based_options_set_filter_policy(kv->table, kv->bloom);
        rocksdb_block_based_options_set_partition_filters(kv->table, 1);
        rocksdb_block_based_options_set_index_type(
            kv->table, rocksdb_block_based_table_index_type_two_level_index_search);
        rocksdb_block_based_options_set_metadata_block_size(kv->table, 4096);
        rocksdb_block_based_options_set_pin_top_level_index_and_filter(kv->table, 1);
        rocksdb_block_based_options_set_pin_l0_filter_and_index_blocks_in_cache(kv->table,
                                                                                1);
        rocksdb_block_based_options_set_cache_index_and_filter_blocks_with_high_priority(
            kv->table, 1);
    }
    rocksdb_writeoptions_set_sync(kv->wopts, 1);
    for (size_t i = 0; i < o->ncfs; i++) {
        rocksdb_options_t *c = kv->cf_opts[i] = rocksdb_options_create();
        if (c == NULL)
            return GL_ENOMEM;
        rocksdb_options_set_block_based_table_factory(c, kv->table);
        rocksdb_options_set_write_buffer_size(
            c, (o->write_buffer_mb ? o->write_buffer_mb : 8) << 20);
        rocksdb_options_set_max_write_buffer_number(c, 2);
        rocksdb_options_set_compression(
            c, (o->compress >> i) & 1 ? rocksdb_lz4_compression : rocksdb_no_compression);
        if ((o->memtable_bloom >> i) & 1 && (rc = kv_memtable_bloom(kv, i)) != 0)
            return rc;
    }
    rocksdb_options_set_create_if_missing(kv->opts, o->create);
    rocksdb_options_set_create_missing_column_families(kv->opts, 1);
    rocksdb_options_set_max_open_files(kv->opts, (int)max_open_files);
    rocksdb_options_set_keep_log_file_num(kv->opts, 4);
    rocksdb_options_set_max_background_jobs(kv->opts, 2);
    rocksdb_options_set_info_log_level(kv->opts, 4); /* fatal only: see the top */
    return 0;
}

/* Writes, syncs and removes a small file in dir: GL_EIO (logged) if the
 * disk refuses (full, failing). 0 if dir does not exist yet (RocksDB
 * creates it). */
static int kv_probe(const char *dir)
{
    static const char name[] = "/glasslog-write-probe";
    static const char block[4096];
    char path[4096];
    ssize_t w;
    int fd, err = 0;

    if (strlen(dir) + sizeof(name) > sizeof(path))
        return GL_EINVAL;
    snprintf(path, sizeof(path), "%s%s", dir, name);
    if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
        if (errno == ENOENT)
            return 0;
        err = errno;
    }
    for (int i = 0; fd >= 0 && err == 0 && i < 16; i++)
        if ((w = write(fd, block, sizeof(block))) != (ssize_t)sizeof(block))
            err = w < 0 ? errno : ENOSPC; /* a short write: the disk is full */
    if (fd >= 0 && err == 0 && fdatasync(fd) != 0)
        err = errno;
    if (fd >= 0) {
        close(fd);
        unlink(path);
    }
    if (err == 0)
        return 0;
    gl_log(GL_LOG_ERROR, "store: %s is not writable: %s", dir, strerror(err));
    return GL_EIO;
}

/* A read-only open takes no lock, so it would read a database another
 * process is writing (a running daemon's): GL_ESTATE (logged) if another
 * process holds RocksDB's lock on dir/LOCK (asked with F_GETLK, which
 * changes nothing). 0 if not, or if there is no LOCK file. */
static int kv_in_use(const char *dir)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    char path[4096];
    int fd, n = snprintf(path, sizeof(path), "%s/LOCK", dir), busy;

    if (n < 0 || (size_t)n >= sizeof(path))
        return GL_EINVAL;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return 0;
    busy = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
    close(fd);
    if (!busy)
        return 0;
    gl_log(GL_LOG_ERROR, "store: %s is in use by another process (pid %ld)", dir,
           (long)fl.l_pid);
    return GL_ESTATE;
}

static int kv_open_db(struct kv *kv, int readonly)
{
    const rocksdb_options_t *const *cf_opts =
        (const rocksdb_options_t *const *)kv->cf_opts;
    char *err = NULL;

    assert(kv->db == NULL);
    if (readonly)
        kv->db = rocksdb_open_for_read_only_column_families(
            kv->opts, kv->dir, (int)kv->ncfs, kv->cfs, cf_opts, kv->cf, 0, &err);
    else
        kv->db = rocksdb_open_column_families(kv->opts, kv->dir, (int)kv->ncfs, kv->cfs,
                                              cf_opts, kv->cf, &err);
    if (err != NULL)
        kv->db = NULL; /* RocksDB leaves it NULL on error; make sure */
    kv->readonly = readonly;
    return kv_check(err, kv->dir);
}

static void kv_close_db(struct kv *kv)
{
    for (size_t i = 0; i < kv->ncfs; i++)
        if (kv->cf[i] != NULL) {
            rocksdb_column_family_handle_destroy(kv->cf[i]);
            kv->cf[i] = NULL;
        }
    if (kv->db != NULL)
        rocksdb_close(kv->db);
    kv->db = NULL;
}

int kv_cache_new(size_t mb, struct kv_cache **out)
{
    struct kv_cache *c;

    if (mb == 0 || mb > SIZE_MAX >> 20)
        return GL_EINVAL;
    if ((c = calloc(1, sizeof *c)) == NULL)
        return GL_ENOMEM;
    if ((c->c = rocksdb_cache_create_lru(mb << 20)) == NULL) {
        free(c);
        return GL_ENOMEM;
    }
    *out = c;
    return 0;
}

size_t kv_cache_mb(const struct kv_cache *c)
{
    return rocksdb_cache_get_capacity(c->c) >> 20;
}

void kv_cache_free(struct kv_cache *c)
{
    if (c == NULL)
        return;
    rocksdb_cache_destroy(c->c);
    free(c);
}

int kv_open(const struct kv_options *o, struct kv **out)
{
    unsigned max_open_files = o->max_open_files;
    struct kv *kv;
    int rc;

    if (max_open_files == 0)
        max_open_files = KV_MAX_OPEN_FILES;
    if (o->ncfs == 0 || o->ncfs > KV_MAX_CFS || max_open_files < KV_MIN_OPEN_FILES ||
        max_open_files > KV_MAX_OPEN_FILES)
        return GL_EINVAL;
    if ((kv = calloc(1, sizeof(*kv))) == NULL)
        return GL_ENOMEM;
    kv->ncfs = o->ncfs;
    memcpy(kv->cfs, o->cfs, o->ncfs * sizeof(*kv->cfs));
    if ((kv->dir = strdup(o->dir)) == NULL) {
        rc = GL_ENOMEM;
        goto fail;
    }
    kv->read_only = o->readonly;
    if (o->readonly && o->create) {
        rc = GL_EINVAL;
        goto fail;
    }
    if ((rc = kv_options(kv, o, max_open_files)) != 0 ||
        (rc = o->readonly ? kv_in_use(kv->dir) : kv_probe(kv->dir)) != 0 ||
        (rc = kv_open_db(kv, o->readonly)) != 0)
        goto fail;
    /* Later opens (kv_reopen) never make a database: a data directory
     * that vanished must not come back empty. */
    rocksdb_options_set_create_if_missing(kv->opts, 0);
    *out = kv;
    return 0;
fail:
    kv_close(kv);
    return rc;
}

int kv_reopen(struct kv *kv)
{
    int rc;

    kv_close_db(kv);
    if (kv->read_only)
        return kv_open_db(kv, 1);
    if ((rc = kv_probe(kv->dir)) == 0 && (rc = kv_open_db(kv, 0)) == 0) {
        gl_log(GL_LOG_INFO, "store: %s reopened", kv->dir);
        return 0;
    }
    if (kv_open_db(kv, 1) == 0)
        gl_log(GL_LOG_WARN,
               "store: %s cannot be opened for writing; serving reads from a "
               "read-only view",
               kv->dir);
    else
        gl_log(GL_LOG_ERROR, "store: %s cannot be opened at all; reads fail too",
               kv->dir);
    return rc;
}

void kv_close(struct kv *kv)
{
    if (kv == NULL)
        return;
    kv_close_db(kv);
    for (size_t i = 0; i < kv->ncfs; i++)
        if (kv->cf_opts[i] != NULL)
            rocksdb_options_destroy(kv->cf_opts[i]);
    if (kv->opts != NULL)
        rocksdb_options_destroy(kv->opts);
    if (kv->table != NULL)
        rocksdb_block_based_options_destroy(kv->table);
    if (kv->cache != NULL)
        rocksdb_cache_destroy(kv->cache);
    if (kv->ropts != NULL)
        rocksdb_readoptions_destroy(kv->ropts);
    if (kv->wopts != NULL)
        rocksdb_writeoptions_destroy(kv->wopts);
    free(kv->dir);
    free(kv);
}

/* GL_EIO (logged) when no database is open (after a failed kv_reopen). */
static int kv_closed(const struct kv *kv)
{
    if (kv->db != NULL)
        return 0;
    gl_log(GL_LOG_ERROR, "store: %s is not open (it failed and could not be reopened)",
           kv->dir);
    return GL_EIO;
}

/* kv_get with read options ro (the default ones, or a snapshot's). */
static int kv_get_ro(struct kv *kv, const rocksdb_readoptions_t *ro, int cf,
                     const void *key, size_t klen, struct gl_buf *out)
{
    char *err = NULL;
    rocksdb_pinnableslice_t *p;
    const char *v;
    size_t n;
    int rc;

    p = rocksdb_get_pinned_cf(kv->db, ro, kv->cf[cf], key, klen, &err);
    if ((rc = kv_check(err, "read failed")) != 0)
        return rc;
    if (p == NULL)
        return GL_ENOTFOUND;
    v = rocksdb_pinnableslice_value(p, &n);
    rc = gl_buf_append(out, v, n);
    rocksdb_pinnableslice_destroy(p);
    return rc;
}

int kv_get(struct kv *kv, int cf, const void *key, size_t klen, struct gl_buf *out)
{
    int rc;

    if ((rc = kv_closed(kv)) != 0)
        return rc;
    return kv_get_ro(kv, kv->ropts, cf, key, klen, out);
}

int kv_get_each(struct kv *kv, int cf, size_t n, const void *const *keys,
                const size_t *klens, kv_each_fn fn, void *ctx)
{
    rocksdb_pinnableslice_t **vals = NULL;
    char **errs = NULL;
    int rc;

    if ((rc = kv_closed(kv)) != 0 || n == 0)
        return rc;
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of n pointers */
    vals = calloc(n, sizeof(*vals));
    errs = calloc(n, sizeof(*errs));
    if (vals == NULL || errs == NULL) {
        rc = GL_ENOMEM;
        goto out;
    }
    /* One MultiGet: the keys are read from one view of the database and
     * looked up together (sorted, filters probed in a batch). */
    rocksdb_batched_multi_get_cf(kv->db, kv->ropts, kv->cf[cf], n,
                                 (const char *const *)keys, klens, vals, errs, 0);
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *v = NULL;
        size_t vlen = 0;
        int krc = kv_check(errs[i], "read failed");

        errs[i] = NULL; /* kv_check freed it */
        if (krc == 0 && vals[i] == NULL)
            krc = GL_ENOTFOUND;
        if (krc == 0)
            v = rocksdb_pinnableslice_value(vals[i], &vlen);
        rc = fn(ctx, i, krc, (const uint8_t *)v, vlen);
    }
out:
    for (size_t i = 0; vals != NULL && errs != NULL && i < n; i++) {
        if (vals[i] != NULL)
            rocksdb_pinnableslice_destroy(vals[i]);
        free(errs[i]);
    }
    free(vals);
    free(errs);
    return rc;
}

struct get_all {
    struct gl_buf *const *outs;
    int *rcs;
};

static int get_all_one(void *ctx, size_t i, int rc, const uint8_t *v, size_t vlen)
{
    struct get_all *g = ctx;

    g->rcs[i] = rc == 0 ? gl_buf_append(g->outs[i], v, vlen) : rc;
    return 0;
}

int kv_get_all(struct kv *kv, int cf, size_t n, const void *const *keys,
               const size_t *klens, struct gl_buf *const *outs, int *rcs)
{
    struct get_all g = {outs, rcs};

    return kv_get_each(kv, cf, n, keys, klens, get_all_one, &g);
}

int kv_scan(struct kv *kv, int cf, const void *start, size_t slen,
            int (*fn)(void *ctx, const uint8_t *k, size_t klen, const uint8_t *v,
                      size_t vlen),
            void *ctx)
{
    rocksdb_iterator_t *it;
    char *err = NULL;
    int rc;

    if ((rc = kv_closed(kv)) != 0)
        return rc;
    if ((it = rocksdb_create_iterator_cf(kv->db, kv->ropts, kv->cf[cf])) == NULL)
        return GL_ENOMEM;
    for (rocksdb_iter_seek(it, start, slen); rc == 0 && rocksdb_iter_valid(it);
         rocksdb_iter_next(it)) {
        size_t klen, vlen;
        const char *k = rocksdb_iter_key(it, &klen);
        const char *v = rocksdb_iter_value(it, &vlen);
        rc = fn(ctx, (const uint8_t *)k, klen, (const uint8_t *)v, vlen);
    }
    rocksdb_iter_get_error(it, &err);
    rocksdb_iter_destroy(it);
    if (kv_check(err, "scan failed") != 0)
        return GL_EIO;
    return rc < 0 ? rc : 0;
}

int kv_batch_new(struct kv *kv, struct kv_batch **out)
{
    struct kv_batch *b = calloc(1, sizeof(*b));

    if (b == NULL)
        return GL_ENOMEM;
    b->kv = kv;
    if ((b->wb = rocksdb_writebatch_create()) == NULL) {
        free(b);
        return GL_ENOMEM;
    }
    *out = b;
    return 0;
}

void kv_batch_free(struct kv_batch *b)
{
    if (b == NULL)
        return;
    rocksdb_writebatch_destroy(b->wb);
    free(b);
}

/* The handle of family cf, or NULL (and the batch broken) when no
 * database is open. */
static rocksdb_column_family_handle_t *batch_cf(struct kv_batch *b, int cf)
{
    if (b->kv->cf[cf] == NULL)
        b->broken = 1;
    return b->kv->cf[cf];
}

void kv_batch_putv(struct kv_batch *b, int cf, const void *key, size_t klen,
                   const void *const *parts, const size_t *sizes, size_t n)
{
    const char *kp[1] = {key};
    size_t ks[1] = {klen};

    if (batch_cf(b, cf) == NULL)
        return;
    rocksdb_writebatch_putv_cf(b->wb, b->kv->cf[cf], 1, kp, ks, (int)n,
                               (const char *const *)parts, sizes);
    b->count++;
}

void kv_batch_put(struct kv_batch *b, int cf, const void *key, size_t klen,
                  const void *val, size_t vlen)
{
    if (batch_cf(b, cf) == NULL)
        return;
    rocksdb_writebatch_put_cf(b->wb, b->kv->cf[cf], key, klen, val, vlen);
    b->count++;
}

void kv_batch_delete(struct kv_batch *b, int cf, const void *key, size_t klen)
{
    if (batch_cf(b, cf) == NULL)
        return;
    rocksdb_writebatch_delete_cf(b->wb, b->kv->cf[cf], key, klen);
    b->count++;
}

size_t kv_batch_count(const struct kv_batch *b)
{
    return b->count;
}

int kv_batch_commit(struct kv_batch *b)
{
    char *err = NULL;
    int rc;

    if ((rc = kv_closed(b->kv)) != 0)
        return rc;
    if (b->broken || b->kv->readonly) {
        gl_log(GL_LOG_ERROR, "store: %s is open read-only after a failure; not writing",
               b->kv->dir);
        return GL_EIO;
    }
    rocksdb_write(b->kv->db, b->kv->wopts, b->wb, &err);
    return kv_check(err, "write failed");
}

int kv_checkpoint(struct kv *kv, const char *dir)
{
    rocksdb_checkpoint_t *cp;
    char *err = NULL;
    int rc;

    if (access(dir, F_OK) == 0)
        return GL_EEXIST;
    if (kv->db == NULL)
        return GL_EIO;
    cp = rocksdb_checkpoint_object_create(kv->db, &err);
    if ((rc = kv_check(err, "checkpoint")) != 0)
        return rc;
    /* 0: always flush the memtables first, so the snapshot needs no WAL. */
    rocksdb_checkpoint_create(cp, dir, 0, &err);
    rocksdb_checkpoint_object_destroy(cp);
    if ((rc = kv_check(err, "checkpoint")) != 0)
        return rc;
    /* the snapshot's own entries, then its entry in the parent (found
     * with trailing slashes trimmed: "backups/snap1/" lives in
     * "backups") */
    if (gl_file_sync_dir(dir) != 0 || gl_file_sync_parent(dir) != 0) {
        gl_log(GL_LOG_ERROR, "store: cannot sync the snapshot %s: %s", dir,
               strerror(errno));
        rc = GL_EIO;
    }
    return rc;
}

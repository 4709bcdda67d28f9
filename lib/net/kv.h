/*
 * kv: the one adapter to RocksDB (the only file including rocksdb/c.h),
 * shared by the log's store and the witness's store. It opens a database
 * with bounded memory (LRU block cache, bounded write buffers, optional
 * bloom filters) and a bounded number of open table files, reads, scans
 * in key order, and writes batches with sync=true: a batch is on disk,
 * atomically, when kv_batch_commit returns.
 *
 * Column families are named at open and addressed by their index in that
 * list (0 is "default"). Errors are logged here, with RocksDB's message,
 * and returned as GL_EIO.
 */
#ifndef GL_NET_KV_H
#define GL_NET_KV_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/buf.h"

#define KV_MAX_CFS 8
/* Table files RocksDB keeps open at most (its max_open_files): the
 * default, and the most kv_options.max_open_files takes. */
#define KV_MAX_OPEN_FILES 512
/* The fewest kv_options.max_open_files takes (RocksDB raises a smaller
 * max_open_files to 20, which a reserve counted from it would miss). */
#define KV_MIN_OPEN_FILES 20
/* Descriptors one open database may hold besides its table files: the
 * WAL, MANIFEST, CURRENT, LOCK, the info LOG, directory handles and the
 * files of running flushes and compactions. */
#define KV_FD_OVERHEAD 64
/* Descriptors one database opened with at most `files` table files open
 * may hold. Daemons set this many aside per database before sizing their
 * connection limit (gl_http_fd_budget). */
#define KV_FD_RESERVE_FOR(files) ((files) + KV_FD_OVERHEAD)
/* ... for a database opened with the default. */
#define KV_FD_RESERVE KV_FD_RESERVE_FOR(KV_MAX_OPEN_FILES)

struct kv;
struct kv_batch;
/* An LRU block cache several databases share (kv_options.cache), so that
 * their cache memory is bounded however many are open. */
struct kv_cache;

struct kv_options {
    const char *dir;
    const char *const *cfs;  /* column family names, cfs[0] "default" */
    size_t ncfs;             /* 1..KV_MAX_CFS */
    size_t cache_mb;         /* LRU block cache (shared by all families) */
    struct kv_cache *cache;  /* or this one, shared with other databases
                              * (cache_mb then unused); NULL: its own */
    size_t write_buffer_mb;  /* per family; two of them at most */
    uint32_t compress;       /* bit i set: LZ4 for family i (leave hashes raw:
                              * they do not compress, it only costs CPU) */
    int create;              /* create the database if missing */
    int bloom;               /* bloom filters (point lookups of absent keys) */
    uint32_t memtable_bloom; /* bit i set: a whole-key bloom filter in family i's
                              * memtables too, so a look-up of an absent key
                              * skips the memtable's skip list (families
                              * looked up mostly for keys they lack) */
    int readonly;            /* open read-only: nothing in dir is written (no
                              * write probe, no WAL replay into tables, no
                              * MANIFEST or OPTIONS file); commits fail */
    unsigned max_open_files; /* table files open at once: 0 for
                              * KV_MAX_OPEN_FILES, else KV_MIN_OPEN_FILES..
                              * KV_MAX_OPEN_FILES (GL_EINVAL otherwise); the
                              * database then holds at most
                              * KV_FD_RESERVE_FOR(it) descriptors. RocksDB
                              * works with fewer: its table cache closes the
                              * least recently used file to open another (a
                              * read of a closed one reopens it and reads its
                              * index and filter blocks again). For a process
                              * holding many databases. */
};

/* Opens the database (read-only with o->readonly: create must be 0, and
 * kv_reopen reopens read-only). *out freed with kv_close. GL_EIO (logged). The
 * column family names must outlive *out (kv_reopen uses them). */
int kv_open(const struct kv_options *o, struct kv **out);
/* A shared block cache of mb MiB (1..). *out freed with kv_cache_free,
 * at any time: databases opened with it hold their own reference.
 * GL_EINVAL, GL_ENOMEM. */
int kv_cache_new(size_t mb, struct kv_cache **out);
/* Its capacity, MiB. */
size_t kv_cache_mb(const struct kv_cache *c);
void kv_cache_free(struct kv_cache *c);
void kv_close(struct kv *kv);
/* Closes and opens the database again, as a restart would: RocksDB replays
 * its write-ahead log, so the records are what reached the disk, and a
 * database that refuses writes after a failed one (RocksDB's background
 * error state) becomes writable again if the disk is. Never creates a
 * database. If it cannot be opened for writing it is opened read-only
 * (reads keep working, commits fail) and GL_EIO is returned (logged).
 * The caller must make sure no other thread uses kv meanwhile, and must
 * not commit a batch built before the call. */
int kv_reopen(struct kv *kv);

/* Appends the value of key in family cf to out. GL_ENOTFOUND if absent. */
int kv_get(struct kv *kv, int cf, const void *key, size_t klen, struct gl_buf *out);
/* As kv_get for n keys of family cf, all read from one snapshot, so the
 * records one batch wrote are seen all or none. rcs[i] gets key i's result
 * (0, GL_ENOTFOUND, or the error) and outs[i] its value. Returns 0, or an
 * error before any key was read (GL_EIO when no database is open). */
int kv_get_all(struct kv *kv, int cf, size_t n, const void *const *keys,
               const size_t *klens, struct gl_buf *const *outs, int *rcs);
/* Called by kv_get_each for key i: rc is 0 (v, vlen: its value, valid
 * during the call only), GL_ENOTFOUND or the read's error. A non-zero
 * return stops the look-up and is returned. */
typedef int (*kv_each_fn)(void *ctx, size_t i, int rc, const uint8_t *v, size_t vlen);
/* Looks up n keys of family cf in one batch, from one snapshot, and calls
 * fn for each in order. 0, fn's non-zero return, GL_ENOMEM, or GL_EIO
 * when no database is open. */
int kv_get_each(struct kv *kv, int cf, size_t n, const void *const *keys,
                const size_t *klens, kv_each_fn fn, void *ctx);
/* Calls fn for each record of family cf from the first key >= start, in
 * key order, until fn returns non-zero (1 = stop, negative = error, which
 * is returned) or the family ends. Key and value are valid during the call. */
int kv_scan(struct kv *kv, int cf, const void *start, size_t slen,
            int (*fn)(void *ctx, const uint8_t *k, size_t klen, const uint8_t *v,
                      size_t vlen),
            void *ctx);

/* Writes a consistent snapshot of the open database (every family, as of
 * one instant: committed batches all or none) into dir, which must not
 * exist (RocksDB's checkpoint: hard links where it can, copies elsewhere;
 * built under dir.tmp and renamed), then syncs dir and its parent. The
 * snapshot opens as a database of its own. GL_EEXIST if dir exists,
 * GL_EIO (logged) otherwise. Any thread; commits may run meanwhile. */
int kv_checkpoint(struct kv *kv, const char *dir);

int kv_batch_new(struct kv *kv, struct kv_batch **out);
void kv_batch_free(struct kv_batch *b);
/* Puts the concatenation of n parts as the value of key. */
void kv_batch_putv(struct kv_batch *b, int cf, const void *key, size_t klen,
                   const void *const *parts, const size_t *sizes, size_t n);
void kv_batch_put(struct kv_batch *b, int cf, const void *key, size_t klen,
                  const void *val, size_t vlen);
/* Deletes key (repair and test tools; the daemons only add records). */
void kv_batch_delete(struct kv_batch *b, int cf, const void *key, size_t klen);
size_t kv_batch_count(const struct kv_batch *b);
/* Writes the batch atomically and syncs it. GL_EIO (logged) on failure:
 * then nothing can be assumed about what reached the disk. */
int kv_batch_commit(struct kv_batch *b);

/* Big-endian integers in keys and records (so keys sort numerically). */
static inline void kv_put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static inline uint64_t kv_get_be64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

#endif

/*
 * store: glasslogd's durable state in an embedded RocksDB, through the
 * shared adapter lib/net/kv.c (the only file that includes rocksdb/c.h).
 *
 * Column families and keys (all integers big-endian, so keys sort in
 * numeric order):
 *   default   "state"                 -> struct store_state, see store.c
 *             "checkpoint"            -> the latest signed checkpoint note
 *             "vkey"                  -> the log's verifier key string
 *   entries   index (8)               -> statement bytes
 *   tiles     level (1) || index (8)  -> 32 * width bytes; a partial tile is
 *                                        a prefix of the full one, so one
 *                                        key serves every width
 *   leaves    leaf hash (32)          -> index (8)
 *   subjects  artifact sha256 (32) || index (8) -> "" (prefix scan)
 *
 * Every batch of appends is one WriteBatch written with sync=true, so a
 * crash leaves either all of it or none. Reads may run on any thread
 * (RocksDB is thread-safe); writes come from one thread at a time.
 * Memory: one LRU block cache (cache_mb) and bounded write buffers.
 */
#ifndef GL_LOG_STORE_H
#define GL_LOG_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/buf.h"

#define STORE_TILE_MAX 8192 /* 256 hashes */

struct store;
struct store_batch;

struct store_options {
    const char *dir;
    int create;          /* make a new log: dir must be missing or empty */
    size_t cache_mb;     /* block cache, MiB (0 = 64) */
};

/* Opens (or, with create, makes) the store. Refuses (GL_ENOTFOUND) a missing
 * or empty dir without create, and (GL_EEXIST) a non-empty one with create.
 * *why gets a static one-line reason on error. Caller frees with
 * store_close. */
int store_open(const struct store_options *o, struct store **out, const char **why);
void store_close(struct store *s);
/* After a failed write: reopens the database, as a restart would (see
 * kv_reopen: what reached the disk becomes the records; read-only and
 * GL_EIO if it still cannot be written). Only while no other thread uses
 * the store. */
int store_reopen(struct store *s);

/* The tree size and checkpoint last committed (size 0 and an empty buffer
 * for a new store). checkpoint: appended to the caller's buffer. */
int store_get_state(struct store *s, uint64_t *size, struct gl_buf *checkpoint);
/* The verifier key the store was made with (GL_ENOTFOUND if none yet). */
int store_get_vkey(struct store *s, struct gl_buf *out);

/* Appends entry `index` to out. GL_ENOTFOUND if absent. */
int store_get_entry(struct store *s, uint64_t index, struct gl_buf *out);
/* Calls fn for entries [start, start + n) in order; stops at the first
 * missing one (GL_ENOTFOUND) or fn's non-zero return. */
int store_scan_entries(struct store *s, uint64_t start, uint64_t n,
                       int (*fn)(void *ctx, uint64_t index, const uint8_t *data, size_t len),
                       void *ctx);
/* Reads tile (level, index) into out (STORE_TILE_MAX bytes); *len gets the
 * stored length (a multiple of 32). GL_ENOTFOUND if absent. */
int store_get_tile(struct store *s, uint32_t level, uint64_t index, uint8_t *out, size_t *len);
/* Calls fn for each stored tile of `level` from index `start` on, in index
 * order (data: 32 * width bytes, valid during the call), until fn returns
 * non-zero (1 = stop, negative = error, returned) or the level ends. */
int store_scan_tiles(struct store *s, uint32_t level, uint64_t start,
                     int (*fn)(void *ctx, uint64_t index, const uint8_t *data, size_t len),
                     void *ctx);
/* The index of the entry with this leaf hash. GL_ENOTFOUND if none. */
int store_find_leaf(struct store *s, const uint8_t hash[32], uint64_t *index);
/* Up to max indices of entries about artifact sha256, ascending, below
 * `below` (the published size). */
int store_find_subject(struct store *s, const uint8_t sha[32], uint64_t below,
                       uint64_t *indices, size_t max, size_t *n);

/* A write batch for s (caller frees with store_batch_free after commit). */
int store_batch_new(struct store *s, struct store_batch **out);
void store_batch_free(struct store_batch *b);
void store_batch_put_entry(struct store_batch *b, uint64_t index, const void *data, size_t len);
void store_batch_put_leaf(struct store_batch *b, const uint8_t hash[32], uint64_t index);
void store_batch_put_subject(struct store_batch *b, const uint8_t sha[32], uint64_t index);
void store_batch_put_tile(struct store_batch *b, uint32_t level, uint64_t index,
                          const void *data, size_t len);
void store_batch_put_state(struct store_batch *b, uint64_t size, const void *checkpoint,
                           size_t len);
void store_batch_put_vkey(struct store_batch *b, const char *vkey);
/* Deletes a tile (repair and test tools only; glasslogd never deletes). */
void store_batch_delete_tile(struct store_batch *b, uint32_t level, uint64_t index);
/* Writes the batch atomically and syncs it to disk. GL_EIO (logged) on any
 * failure: then nothing can be assumed about what reached the disk. */
int store_batch_commit(struct store_batch *b);

#endif

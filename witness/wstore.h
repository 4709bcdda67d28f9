/*
 * wstore: the witness's durable state in an embedded RocksDB, through the
 * shared adapter lib/net/kv.c. One column family, keys by
 * prefix (hashes are SHA-256):
 *
 *   "K"                  -> the witness's cosigning verifier key string
 *   "L" || H(origin)     -> log record: "GLW1" || size (8, BE) || root (32)
 *                           || the record of the cosigned checkpoint (text,
 *                           the log's signatures, our cosignature; addck.h)
 *   "F" || H(origin)     -> "" : a split view was proven, never cosign again
 *   "E" || id            -> evidence: "GLE1" || found_at (8, BE) ||
 *                           source length (1) || source || the file
 *
 * Writes go through batches committed with sync=true (WAL fsync'd before
 * the call returns), so a batch is all or nothing after any crash and the
 * caller may acknowledge it as soon as commit returns. Writers: one thread
 * at a time (the committer); reads: any thread.
 * Memory: an LRU block cache (cache_mb) and small write buffers.
 */
#ifndef GL_WITNESS_WSTORE_H
#define GL_WITNESS_WSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/buf.h"
#include "glasslog/sha256.h"

#define WSTORE_SOURCE_MAX 255

struct wstore;
struct wstore_batch;

/* Opens the store in dir. Without create, dir must hold a store (a
 * missing or empty dir is GL_ENOTFOUND: a witness that lost its state must
 * not start afresh under its old key by accident); with create, dir must
 * be missing or empty (GL_EEXIST otherwise) and a new store is made. *why
 * gets a static reason on error. Caller frees with wstore_close. */
int wstore_open(const char *dir, size_t cache_mb, int create, struct wstore **out,
                const char **why);
void wstore_close(struct wstore *s);

/* Binds the store to a witness key: stores vkey in a new store (*created
 * = 1), or checks it equals the stored one (GL_EINVAL if not; *stored
 * gets the stored key then, appended). */
int wstore_bind_key(struct wstore *s, const char *vkey, int *created,
                    struct gl_buf *stored);

/* Calls fn for each log record; stops on fn's non-zero return (returned).
 * Views are valid during the call only. */
int wstore_scan_logs(struct wstore *s,
                     int (*fn)(void *ctx, const uint8_t oh[GL_HASH_LEN], uint64_t size,
                               const uint8_t root[GL_HASH_LEN], const uint8_t *note,
                               size_t len),
                     void *ctx);
/* Calls fn for each frozen origin hash. */
int wstore_scan_frozen(struct wstore *s,
                       int (*fn)(void *ctx, const uint8_t oh[GL_HASH_LEN]), void *ctx);
/* Calls fn for each evidence record. */
int wstore_scan_evidence(struct wstore *s,
                         int (*fn)(void *ctx, const uint8_t id[GL_HASH_LEN],
                                   uint64_t found_at, const char *source,
                                   const uint8_t *file, size_t len),
                         void *ctx);
/* Appends evidence id's file to out; GL_ENOTFOUND if absent. */
int wstore_get_evidence(struct wstore *s, const uint8_t id[GL_HASH_LEN],
                        struct gl_buf *out);

/* A batch (caller frees with wstore_batch_free). The put functions copy
 * their arguments. */
int wstore_batch_new(struct wstore *s, struct wstore_batch **out);
void wstore_batch_free(struct wstore_batch *b);
void wstore_batch_put_log(struct wstore_batch *b, const uint8_t oh[GL_HASH_LEN],
                          uint64_t size, const uint8_t root[GL_HASH_LEN],
                          const void *note, size_t len);
void wstore_batch_put_frozen(struct wstore_batch *b, const uint8_t oh[GL_HASH_LEN]);
void wstore_batch_put_evidence(struct wstore_batch *b, const uint8_t id[GL_HASH_LEN],
                               uint64_t found_at, const char *source, const void *file,
                               size_t len);
/* Number of puts in the batch. */
size_t wstore_batch_count(const struct wstore_batch *b);
/* Writes the batch atomically, fsync'd. GL_EIO (logged) on failure. */
int wstore_batch_commit(struct wstore_batch *b);

#endif

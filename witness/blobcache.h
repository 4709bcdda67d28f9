/*
 * blobcache: a bounded, thread-safe LRU of immutable byte strings keyed by
 * a 64-bit number; the mirror keeps its full tiles and entry bundles here
 * (they never change once full), so serving one is a copy from memory
 * instead of store reads and a bundle encoding.
 *
 * Memory: at most max_bytes of values (plus a small record each); a put
 * past the bound evicts the least recently used values first, a value
 * larger than the bound is not kept. A put of a key already held keeps
 * the held value (values under one key never change). One mutex guards
 * everything: a get copies the value out under it.
 */
#ifndef GL_WITNESS_BLOBCACHE_H
#define GL_WITNESS_BLOBCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/buf.h"

struct blobcache;

/* max_bytes > 0. Caller frees with blobcache_free. GL_ENOMEM. */
int blobcache_new(size_t max_bytes, struct blobcache **out);
void blobcache_free(struct blobcache *c);
/* Appends the value of key to out (the caller's buffer) and marks it most
 * recently used: 0, GL_ENOTFOUND, or out's error (GL_ETOOBIG, GL_ENOMEM). */
int blobcache_get(struct blobcache *c, uint64_t key, struct gl_buf *out);
/* Keeps a copy of len bytes of data under key (best effort: silently not
 * kept when over the bound or out of memory). */
void blobcache_put(struct blobcache *c, uint64_t key, const void *data, size_t len);
/* Sets the bound to max_bytes (> 0; 0 is ignored), evicting the least
 * recently used values until the values held fit. */
void blobcache_set_max(struct blobcache *c, size_t max_bytes);
/* The bound in bytes. */
size_t blobcache_max(struct blobcache *c);
/* Hits and misses so far; values and bytes held now. */
void blobcache_stats(struct blobcache *c, uint64_t *hits, uint64_t *misses, size_t *n,
                     size_t *bytes);

#endif

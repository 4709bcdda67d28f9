/*
 * tilecache: a bounded cache of full hash tiles (immutable once written),
 * so hot tiles are served and proofs computed without reading the store.
 * Direct-mapped: slot = hash(level, index) mod nslots; a new tile replaces
 * whatever sat in its slot. Memory is fixed at creation (8 KiB a slot).
 * Not thread-safe: used on the loop thread only.
 */
#ifndef GL_LOG_TILECACHE_H
#define GL_LOG_TILECACHE_H

#include <stddef.h>
#include <stdint.h>

struct tilecache;

/* nslots >= 1. Caller frees with tilecache_free. */
int tilecache_new(size_t nslots, struct tilecache **out);
void tilecache_free(struct tilecache *c);
/* The cached full tile (8192 bytes) or NULL. Valid until the next put. */
const uint8_t *tilecache_get(struct tilecache *c, uint32_t level, uint64_t index);
/* Caches a full tile (copies 8192 bytes). */
void tilecache_put(struct tilecache *c, uint32_t level, uint64_t index, const uint8_t *tile);
/* Hits and misses so far (for /metrics). */
void tilecache_stats(const struct tilecache *c, uint64_t *hits, uint64_t *misses);

#endif

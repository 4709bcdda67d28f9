/*
 * tilecache: a bounded cache of hash tiles WITH their interior nodes, so
 * proofs never re-hash a tile: a node inside a tile (any Merkle level, not
 * just multiples of 8) is one lookup.
 *
 * An entry is keyed by (level, index, width): a tile of a given width never
 * changes (a partial tile is a prefix of the final one), so entries never
 * go stale, partial tiles of the tree's right edge included. It holds the
 * tile's node tree: height k (0..8) has floor(width / 2^k) complete nodes,
 * stored at TILE_NODE_BASE[k] + i (511 hashes, 16 KiB, for a full tile).
 *
 * Set-associative on (level, index): a tile may sit in any of the
 * TILECACHE_WAYS slots of its set (a Fibonacci hash of level and index:
 * a level's consecutive tiles spread evenly), and a put evicts the least recently used of
 * them, after any copy of the same tile at another width, and an empty one. So a tile
 * every proof reads (the upper levels', the right edge's) stays however many tiles below
 * it come and go: only a set's other tiles, each used more recently since, could push it
 * out, never one colliding tile of a lower level. At most one copy of a tile is held.
 * Memory is fixed at creation. Loop thread only.
 */
#ifndef GL_LOG_TILECACHE_H
#define GL_LOG_TILECACHE_H

#include <stddef.h>
#include <stdint.h>
#include "glasslog/sha256.h"

#define TILE_NODES 511
extern const uint16_t tile_node_base[9];

struct tilecache;

#define TILECACHE_WAYS 4 /* slots of a set */

/* nslots >= 1: the slots held (rounded down to a multiple of
 * TILECACHE_WAYS when above it; 16 KiB each). Caller frees with
 * tilecache_free. */
int tilecache_new(size_t nslots, struct tilecache **out);
void tilecache_free(struct tilecache *c);
/* The node tree of tile (level, index) at `width`, or NULL. Valid until
 * the next put. */
const uint8_t (*tilecache_get(struct tilecache *c, uint32_t level, uint64_t index,
                              uint32_t width))[32];
/* 1 if tilecache_get would find the tile, else 0; counts neither a hit
 * nor a miss (for a caller that looks ahead before reading). */
int tilecache_peek(const struct tilecache *c, uint32_t level, uint64_t index,
                   uint32_t width);
/* Caches the tile whose first `width` hashes are `hashes` (copied) and
 * computes its interior nodes; returns the cached node tree, or NULL if
 * hashing failed. */
const uint8_t (*tilecache_put(struct tilecache *c, uint32_t level, uint64_t index,
                              uint32_t width,
                              const uint8_t (*hashes)[GL_HASH_LEN]))[GL_HASH_LEN];
/* Counts a miss found by tilecache_peek, for a caller that then has the
 * tile read from the store, or waits for another's read of it, and puts
 * it (once per such wait: the get that follows the put counts a hit). */
void tilecache_count_miss(struct tilecache *c);
/* Hits and misses so far (for /metrics). */
void tilecache_stats(const struct tilecache *c, uint64_t *hits, uint64_t *misses);

#endif

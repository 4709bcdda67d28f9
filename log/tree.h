/*
 * tree: glasslogd's in-memory view of the right edge of its Merkle tree:
 * the compact range (for roots) and, for each tile level, the hashes of its
 * last, partial tile (for serving partial tiles and proofs without reading
 * the store). Everything left of the edge is in full tiles in the store.
 *
 * A struct tree is a plain value (~66 KiB): the sequencer appends a batch
 * to a copy and makes the copy the published tree only once the batch is
 * durable. Appending records, into a store batch, every full tile it
 * completes; tree_finish_batch adds the new partial tiles.
 *
 * Invariant: for every tile level L with w = (size >> 8L) mod 256 > 0,
 * edge[L][0..w) are the hashes of tile (L, (size >> 8L) >> 8); every tile
 * left of it is full and stored.
 */
#ifndef GL_LOG_TREE_H
#define GL_LOG_TREE_H

#include <stdint.h>

#include "glasslog/merkle.h"
#include "store.h"
#include "tilecache.h"

#define TREE_TILE_LEVELS 8 /* 256^8 = 2^64 */

struct tree {
    struct gl_merkle_range range; /* range.size is the tree size */
    uint8_t edge[TREE_TILE_LEVELS][256][GL_HASH_LEN];
};

/* Makes t the empty tree. */
void tree_init(struct tree *t);
/* Loads the tree of `size` leaves from the store: its partial tiles and its
 * compact range (read from the stored tiles, so this recomputes the root
 * from disk). GL_ENOTFOUND/GL_EPARSE if tiles are missing or short. */
int tree_load(struct tree *t, struct store *s, uint64_t size);
/* The start-up check: loads t at `size` (as tree_load) and checks that
 * every stored tile of that tree agrees with `root` (the signed
 * checkpoint's): the right edge (the partial tiles) must reproduce root,
 * and every full tile must be 256 hashes long and hash to its entry one
 * level up, checked from the top level down, so a mismatch is blamed on
 * the tile that is wrong. Reads and hashes every stored tile once: O(size)
 * time, O(1) memory. GL_ENOTFOUND (a tile is missing), GL_EPARSE (a tile
 * has the wrong length) or GL_EVERIFY (wrong hashes); why gets a one-line
 * reason naming the tile by its C2SP path. */
int tree_check(struct tree *t, struct store *s, uint64_t size,
               const uint8_t root[GL_HASH_LEN], char *why, size_t why_len);
/* Appends one leaf hash; full tiles completed go into b. */
int tree_append(struct tree *t, const uint8_t leaf[GL_HASH_LEN], struct store_batch *b);
/* Puts the partial tiles that changed since the tree had old_size leaves. */
void tree_finish_batch(const struct tree *t, uint64_t old_size, struct store_batch *b);
/* The root. */
int tree_root(const struct tree *t, uint8_t root[GL_HASH_LEN]);
/* The root of the tree's first `size` leaves (full tiles read from s):
 * GL_ERANGE if size is above the tree's. */
int tree_root_at(const struct tree *t, struct store *s, uint64_t size,
                 uint8_t root[GL_HASH_LEN]);

/* Reads tile (level, index) as it is at the tree's size, with its interior
 * nodes (tilecache.h layout; the tile's hashes are the first `width`):
 * from the cache, else from the edge (the partial tile) or the store (full
 * tiles), then cached. *nodes is valid until the next call on the cache.
 * GL_ENOTFOUND if the tile does not exist yet. */
int tree_tile(const struct tree *t, struct store *s, struct tilecache *c, uint32_t level,
              uint64_t index, const uint8_t (**nodes)[GL_HASH_LEN], uint32_t *width);

/* A hash source over the tree (for gl_merkle_prove_*, gl_merkle_root_at).
 * The reader must outlive the source's use. */
struct tree_reader {
    const struct tree *t;
    struct store *s;
    struct tilecache *c;
};
void tree_source(struct tree_reader *r, struct gl_hash_source *src);

#endif

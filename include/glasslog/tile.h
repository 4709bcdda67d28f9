/*
 * tile: C2SP tlog-tiles v0.1.0 arithmetic, paths and entry bundles, for a
 * tile height of 8 (256 hashes per tile).
 *
 * Tile (L, N) holds the hashes of the tree nodes at Merkle level 8L with
 * indices N*256 .. N*256+255: hash i is the root of the 256^L leaves
 * starting at leaf (N*256 + i) * 256^L. Level-0 tiles hold leaf hashes.
 * At tree size s a tile level has floor(s / 256^L) hashes; the last tile
 * of a level is partial, of width floor(s / 256^L) mod 256 (1..255), when
 * that is not zero. A full tile's hash (the root of its 256 hashes) is the
 * hash at the next tile level; partial tiles are never hashed upward.
 *
 * A node at any Merkle level l (struct gl_node_id) is found in tile level
 * l / 8 as the root of a power-of-two run of that tile's hashes (a single
 * hash when l is a multiple of 8).
 *
 * Paths: tile/<L>/<N>[.p/<W>] and tile/entries/<N>[.p/<W>], N in 3-digit
 * groups, all but the last prefixed "x" (1234067 -> x001/x234/067). The
 * parser accepts exactly the strings the formatter produces.
 *
 * Entry bundle: (u16 big-endian length || entry) for each of the tile's
 * entries. All functions return 0 or a negative GL_E* code.
 */
#ifndef GLASSLOG_TILE_H
#define GLASSLOG_TILE_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/buf.h"
#include "glasslog/error.h"
#include "glasslog/merkle.h"
#include "glasslog/sha256.h"

#define GL_TILE_HEIGHT 8
#define GL_TILE_WIDTH 256    /* hashes (or entries) in a full tile */
#define GL_TILE_MAX_LEVEL 63 /* largest L a path may name */
#define GL_TILE_PATH_MAX 64  /* longest path plus its NUL */
#define GL_TILE_ENTRY_MAX 65535
#define GL_TILE_BUNDLE_MAX ((size_t)GL_TILE_WIDTH * (2 + GL_TILE_ENTRY_MAX))

/* A tile of hashes (level L = 0..63) or of entries (level 0, see the path
 * functions' `entries` flag); width 1..255 for a partial tile, 256 full. */
struct gl_tile {
    uint64_t index;
    uint32_t level;
    uint32_t width;
};

/* Where a node's hash comes from: the root of hashes [start, start+count)
 * of tile (level, index); count is a power of two, 1..128. */
struct gl_tile_span {
    uint64_t index;
    uint32_t level;
    uint32_t start;
    uint32_t count;
};

/* One entry of a bundle: borrowed bytes. */
struct gl_tile_entry {
    const uint8_t *data;
    size_t len;
};

/* --- arithmetic ---------------------------------------------------------- */

/* The tile span that yields node *id. GL_ERANGE if id is not a node of a
 * tree of at most 2^64 - 1 leaves (level > 63 or index too large). The
 * node is stored as such (hash `start` of the tile) iff count == 1. */
int gl_tile_locate(const struct gl_node_id *id, struct gl_tile_span *out);
/* Width of tile (level, index) at tree size `size`: 256 when full, 1..255
 * when partial; GL_ERANGE if the tile holds nothing yet at that size. */
int gl_tile_width(uint32_t level, uint64_t index, uint64_t size, uint32_t *width);
/* The tiles, with their widths at `size`, to fetch to get the n nodes
 * ids[] (e.g. from gl_merkle_inclusion_nodes): deduplicated, in order of
 * first use, into the caller's tiles[cap]; *ntiles set. GL_ERANGE if a
 * node is not complete at `size`, GL_ETOOBIG if cap is too small. */
int gl_tile_list_for_nodes(uint64_t size, const struct gl_node_id *ids, size_t n,
                           struct gl_tile *tiles, size_t cap, size_t *ntiles);

/* --- hashing tiles --------------------------------------------------------- */

/* The hash of span's node from its tile's first `width` hashes (borrowed);
 * GL_ERANGE if the span does not fit in width. */
int gl_tile_span_hash(const uint8_t (*hashes)[GL_HASH_LEN], uint32_t width,
                      const struct gl_tile_span *span, uint8_t out[GL_HASH_LEN]);
/* The root of a full tile's 256 hashes: the tile's entry one level up. */
int gl_tile_hash(const uint8_t (*hashes)[GL_HASH_LEN], uint8_t out[GL_HASH_LEN]);

/* --- paths ----------------------------------------------------------------- */

/* Writes the path of *t (a data tile when `entries`, which needs level 0)
 * to the caller's out[GL_TILE_PATH_MAX], NUL-terminated; *len (may be
 * NULL) gets its length. GL_EINVAL for an impossible tile. */
int gl_tile_path_format(const struct gl_tile *t, int entries, char *out, size_t *len);
/* Parses path[0..len) (no NUL needed) into *t and *entries. GL_EPARSE for
 * anything the formatter would not produce, GL_ETOOBIG past the cap; why
 * (may be NULL; line 0) then says what is wrong. */
int gl_tile_path_parse(const char *path, size_t len, struct gl_tile *t, int *entries,
                       struct gl_err *why);

/* --- entry bundles ------------------------------------------------------------ */

/* Appends the bundle of entries e[0..n) (1 <= n <= 256, each at most 65535
 * bytes) to out. GL_EINVAL for bad n, GL_ETOOBIG for a long entry or a
 * full buffer; out is unchanged on error. */
int gl_tile_bundle_encode(const struct gl_tile_entry *e, size_t n, struct gl_buf *out);
/* Splits a bundle into the caller's out[GL_TILE_WIDTH], pointing into
 * data (still owned by the caller); *n gets the count. want is the
 * expected entry count (1..256) or 0 for "1 to 256". GL_EPARSE for
 * truncation, trailing bytes, too many or too few entries; GL_ETOOBIG if
 * len exceeds GL_TILE_BUNDLE_MAX. */
int gl_tile_bundle_decode(const uint8_t *data, size_t len, size_t want,
                          struct gl_tile_entry *out, size_t *n);

/* --- reading a tile whose partial form is gone ------------------------------- */

/* Cuts *body, the full tile of *t's coordinates (a data tile when
 * `entries`), down to what *t (width 1..256) holds: a hash tile must be
 * exactly 256 * 32 bytes and keeps its first width * 32; an entry bundle
 * must decode as exactly 256 entries and keeps the bytes of its first
 * width. GL_EPARSE (why, may be NULL, says what) leaves *body as it was;
 * GL_EINVAL for a bad width. */
int gl_tile_trim(const struct gl_tile *t, int entries, struct gl_buf *body,
                 struct gl_err *why);

/* How gl_tile_fetch GETs a tile path (ctx: the caller's transport):
 * replaces *body (owned by the caller, who releases it) with the answer
 * of at most max bytes and returns 0; GL_ENOTFOUND for a 404 and only
 * for a 404; any other code for any other failure (the transport keeps
 * its own message). */
typedef int (*gl_tile_get_fn)(void *ctx, const char *path, size_t max,
                              struct gl_buf *body);

/* Reads tile *t (a data tile when `entries`) with get into *body (owned
 * by the caller, who releases it): GETs its path (cap: width * 32 bytes
 * for a hash tile, GL_TILE_BUNDLE_MAX for a bundle); when *t is partial
 * and that answers GL_ENOTFOUND, GETs the full tile instead (cap 8192 or
 * GL_TILE_BUNDLE_MAX) and keeps its prefix with gl_tile_trim. The body
 * of a partial answer is not checked here: the caller checks what it
 * gets (length, entry count, hashes) as it would any tile. 0; get's code
 * (for the full tile's path when it fell back); GL_EPARSE from
 * gl_tile_trim with why (may be NULL) naming the full tile's path. */
int gl_tile_fetch(const struct gl_tile *t, int entries, gl_tile_get_fn get, void *ctx,
                  struct gl_buf *body, struct gl_err *why);

#endif

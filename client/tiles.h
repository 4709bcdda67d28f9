/*
 * tiles: a log's Merkle tree read from its C2SP tiles (tlog-tiles), for
 * proofs computed on the client: a small cache of hash tiles fetched over
 * HTTP, exposed as a gl_hash_source over the tree of a chosen size, so the
 * generic lib/merkle.c proof code runs on it.
 *
 * Proofs computed here are only as good as the tiles, which are untrusted:
 * callers always VERIFY the result against signed roots (a consistency
 * proof between two verified checkpoints, an inclusion proof against a
 * verified checkpoint). A lying log can make a proof fail, never pass.
 *
 * Tiles are immutable, and a partial tile is a prefix of the full one, so
 * a cached tile of width w serves every request for a width <= w. The
 * cache holds TILES_CACHE tiles (8 KiB each) and evicts the least recently
 * used; memory is fixed whatever the log's size.
 *
 * Tiles enter the cache before anything can check them, so a tile that
 * was wrong when fetched (a lying or broken log, a bad mirror) would
 * spoil every later proof built from it. Callers therefore empty the
 * cache (tiles_clear) when a proof built from it does not verify, and
 * compute it again from fresh fetches once before concluding anything;
 * the monitor also empties it at the start of every cycle.
 */
#ifndef GL_CLIENT_TILES_H
#define GL_CLIENT_TILES_H

#include <stddef.h>
#include <stdint.h>

#include "fetch.h"
#include "glasslog/merkle.h"
#include "glasslog/tile.h"

#define TILES_CACHE 64

struct tiles_slot {
    struct gl_tile t; /* width = hashes held; 0 = empty slot */
    uint64_t used;    /* LRU clock */
    uint8_t h[GL_TILE_WIDTH][GL_HASH_LEN];
};

struct tiles {
    struct fetch *f; /* borrowed */
    uint64_t size;   /* the tree size read() serves */
    uint64_t clock;
    uint64_t fetched; /* tiles downloaded, for diagnostics */
    struct tiles_slot slot[TILES_CACHE];
};

/* Heap-allocates a tile reader over f (borrowed, must outlive it). Free
 * with tiles_free. GL_ENOMEM. */
int tiles_new(struct fetch *f, struct tiles **out);
void tiles_free(struct tiles *t);

/* Empties the cache: every later read fetches its tile again. */
void tiles_clear(struct tiles *ts);

/* The hashes of tile (level, index) at width >= t->width: *h points into
 * the cache (valid until the next call). Fetches tile/<L>/<N>[.p/<W>]
 * when missing (fetch_tile: the full tile's prefix when the partial one
 * is gone); the answer must be exactly width * 32 bytes (else
 * GL_EPARSE). Fetch errors as fetch_tile (f->error says what). */
int tiles_get(struct tiles *ts, const struct gl_tile *t,
              const uint8_t (**h)[GL_HASH_LEN]);

/* A hash source over the tree of `size` leaves, for lib/merkle.c. */
void tiles_source(struct tiles *ts, uint64_t size, struct gl_hash_source *src);

/* RFC 9162 consistency proof m -> n computed from tiles at size n. */
int tiles_prove_consistency(struct tiles *ts, uint64_t m, uint64_t n,
                            uint8_t (*proof)[GL_HASH_LEN], size_t *len);
/* RFC 9162 inclusion proof of leaf `index` in the tree of size n. */
int tiles_prove_inclusion(struct tiles *ts, uint64_t index, uint64_t n,
                          uint8_t (*proof)[GL_HASH_LEN], size_t *len);

#endif

/*
 * tilecache: tiles with their interior nodes; see tilecache.h. A put of
 * a tile whose slot holds a narrower copy of it (the right edge's partial
 * tile, which grows by a batch at a time) hashes only the nodes over the
 * new hashes: a node over hashes both widths share is the same in both.
 * The shared hashes are compared first, so a narrower copy that is not a
 * prefix (another tree) is recomputed whole.
 *
 * Recency is a 64-bit clock ticked by every get that hits and every put
 * (it cannot wrap), kept per slot; a set's victim is found by a scan of
 * its TILECACHE_WAYS slots.
 */
#include "tilecache.h"

#include <stdlib.h>
#include <string.h>

#include "glasslog/error.h"
#include "glasslog/merkle.h"

const uint16_t tile_node_base[9] = {0, 256, 384, 448, 480, 496, 504, 508, 510};

struct slot {
    uint64_t index;
    uint64_t used; /* the cache's clock at its last get or put (LRU) */
    uint32_t level;
    uint32_t width; /* 0: empty */
};

/* Set s holds slots [s * ways, s * ways + ways). */
struct tilecache {
    size_t sets, ways;
    struct slot *slots;
    uint8_t (*nodes)[TILE_NODES][GL_HASH_LEN];
    uint64_t clock;
    uint64_t hits, misses;
};

int tilecache_new(size_t nslots, struct tilecache **out)
{
    struct tilecache *c = calloc(1, sizeof(*c));

    if (c == NULL || nslots == 0 || nslots > SIZE_MAX / sizeof(*c->nodes))
        goto fail;
    c->ways = nslots < TILECACHE_WAYS ? nslots : TILECACHE_WAYS;
    c->sets = nslots / c->ways;
    c->slots = calloc(c->sets * c->ways, sizeof(*c->slots));
    c->nodes = malloc(c->sets * c->ways * sizeof(*c->nodes));
    if (c->slots == NULL || c->nodes == NULL)
        goto fail;
    *out = c;
    return 0;
fail:
    tilecache_free(c);
    return nslots == 0 ? GL_EINVAL : GL_ENOMEM;
}

void tilecache_free(struct tilecache *c)
{
    if (c == NULL)
        return;
    free(c->slots);
    free(c->nodes);
    free(c);
}

/* The first slot of the set of (level, index): Fibonacci hashing, the
 * key times 2^64 / phi, whose top 32 bits are scaled to [0, sets). The
 * key is one-to-one (an index of tile level L is below 2^(56 - 8L)) and
 * puts the level in the top byte, so every level's tiles fall on sets of
 * their own offset; consecutive indices (a level's tiles, which random
 * proofs read alike) spread evenly over the sets, so a tree whose tiles
 * fit in the slots is held whole. */
static size_t set_of(const struct tilecache *c, uint32_t level, uint64_t index)
{
    uint64_t h = (index ^ ((uint64_t)level << 56)) * 0x9e3779b97f4a7c15ULL;

    return (size_t)(((h >> 32) * (uint64_t)c->sets) >> 32) * c->ways;
}

/* The slot holding tile (level, index) at any width, or SIZE_MAX. */
static size_t find(const struct tilecache *c, uint32_t level, uint64_t index)
{
    size_t first = set_of(c, level, index);

    for (size_t i = first; i < first + c->ways; i++) {
        const struct slot *s = &c->slots[i];
        if (s->width != 0 && s->level == level && s->index == index)
            return i;
    }
    return SIZE_MAX;
}

const uint8_t (*tilecache_get(struct tilecache *c, uint32_t level, uint64_t index,
                              uint32_t width))[32]
{
    size_t i = find(c, level, index);

    if (i != SIZE_MAX && c->slots[i].width == width) {
        c->hits++;
        c->slots[i].used = ++c->clock;
        return gl_hashes_const(c->nodes[i]);
    }
    c->misses++;
    return NULL;
}

int tilecache_peek(const struct tilecache *c, uint32_t level, uint64_t index,
                   uint32_t width)
{
    size_t i = find(c, level, index);

    return i != SIZE_MAX && c->slots[i].width == width;
}

/* Where a put of (level, index) goes: the slot of its copy at another
 * width, else an empty slot of its set, else the set's least recently
 * used. */
static size_t victim(const struct tilecache *c, uint32_t level, uint64_t index)
{
    size_t first = set_of(c, level, index), best = find(c, level, index);

    if (best != SIZE_MAX)
        return best;
    best = first;
    for (size_t i = first; i < first + c->ways; i++) {
        if (c->slots[i].width == 0)
            return i;
        if (c->slots[i].used < c->slots[best].used)
            best = i;
    }
    return best;
}

const uint8_t (*tilecache_put(struct tilecache *c, uint32_t level, uint64_t index,
                              uint32_t width,
                              const uint8_t (*hashes)[GL_HASH_LEN]))[GL_HASH_LEN]
{
    size_t i = victim(c, level, index);
    struct slot *s = &c->slots[i];
    uint8_t(*nodes)[GL_HASH_LEN] = c->nodes[i];
    uint32_t from = 0;

    /* A narrower copy of the same tile (the right edge, grown since) whose
     * hashes are a prefix of these: its nodes over that prefix stay, only
     * the nodes over the new hashes are computed. */
    if (s->width != 0 && s->width < width && s->level == level && s->index == index &&
        memcmp(nodes, hashes, (size_t)s->width * GL_HASH_LEN) == 0)
        from = s->width;
    s->width = 0;
    memcpy(nodes + from, hashes + from, (size_t)(width - from) * GL_HASH_LEN);
    for (unsigned k = 1; k <= 8; k++) {
        uint32_t count = width >> k;
        for (uint32_t j = from >> k; j < count; j++)
            if (gl_merkle_node_hash(nodes[tile_node_base[k - 1] + 2 * j],
                                    nodes[tile_node_base[k - 1] + 2 * j + 1],
                                    nodes[tile_node_base[k] + j]) != 0)
                return NULL;
    }
    *s = (struct slot){index, ++c->clock, level, width};
    return gl_hashes_const(nodes);
}

void tilecache_count_miss(struct tilecache *c)
{
    c->misses++;
}

void tilecache_stats(const struct tilecache *c, uint64_t *hits, uint64_t *misses)
{
    *hits = c->hits;
    *misses = c->misses;
}

/*
 * tilecache: tiles with their interior nodes; see tilecache.h. A put of
 * a tile whose slot holds a narrower copy of it (the right edge's partial
 * tile, which grows by a batch at a time) hashes only the nodes over the
 * new hashes: a node over hashes both widths share is the same in both.
 * The shared hashes are compared first, so a narrower copy that is not a
 * prefix (another tree) is recomputed whole.
 */
#include "tilecache.h"

#include <stdlib.h>
#include <string.h>

#include "glasslog/error.h"
#include "glasslog/merkle.h"

const uint16_t tile_node_base[9] = {0, 256, 384, 448, 480, 496, 504, 508, 510};

struct slot {
    uint64_t index;
    uint32_t level;
    uint32_t width; /* 0: empty */
};

struct tilecache {
    size_t n;
    struct slot *slots;
    uint8_t (*nodes)[TILE_NODES][GL_HASH_LEN];
    uint64_t hits, misses;
};

int tilecache_new(size_t nslots, struct tilecache **out)
{
    struct tilecache *c = calloc(1, sizeof(*c));

    if (c == NULL || nslots == 0 || nslots > SIZE_MAX / sizeof(*c->nodes))
        goto fail;
    c->n = nslots;
    c->slots = calloc(nslots, sizeof(*c->slots));
    c->nodes = malloc(nslots * sizeof(*c->nodes));
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

static size_t slot_of(const struct tilecache *c, uint32_t level, uint64_t index)
{
    uint64_t h = (index ^ ((uint64_t)level << 56)) * 0x9e3779b97f4a7c15ULL;
    return (size_t)((h >> 17) % c->n);
}

const uint8_t (*tilecache_get(struct tilecache *c, uint32_t level, uint64_t index,
                              uint32_t width))[32]
{
    size_t i = slot_of(c, level, index);
    const struct slot *s = &c->slots[i];

    if (s->width == width && s->level == level && s->index == index) {
        c->hits++;
        return gl_hashes_const(c->nodes[i]);
    }
    c->misses++;
    return NULL;
}

int tilecache_peek(const struct tilecache *c, uint32_t level, uint64_t index,
                   uint32_t width)
{
    const struct slot *s = &c->slots[slot_of(c, level, index)];

    return s->width == width && s->level == level && s->index == index;
}

const uint8_t (*tilecache_put(struct tilecache *c, uint32_t level, uint64_t index,
                              uint32_t width,
                              const uint8_t (*hashes)[GL_HASH_LEN]))[GL_HASH_LEN]
{
    size_t i = slot_of(c, level, index);
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
    *s = (struct slot){index, level, width};
    return gl_hashes_const(nodes);
}

void tilecache_stats(const struct tilecache *c, uint64_t *hits, uint64_t *misses)
{
    *hits = c->hits;
    *misses = c->misses;
}

/*
 * tilecache: direct-mapped cache of full tiles; see tilecache.h.
 */
#include "tilecache.h"

#include <stdlib.h>
#include <string.h>

#include "glasslog/error.h"

#define TILE_BYTES 8192

struct slot {
    uint64_t index;
    uint32_t level;
    uint32_t used;
};

struct tilecache {
    size_t n;
    struct slot *slots;
    uint8_t *data;
    uint64_t hits, misses;
};

int tilecache_new(size_t nslots, struct tilecache **out)
{
    struct tilecache *c = calloc(1, sizeof(*c));

    if (c == NULL || nslots == 0 || nslots > SIZE_MAX / TILE_BYTES)
        goto fail;
    c->n = nslots;
    c->slots = calloc(nslots, sizeof(*c->slots));
    c->data = malloc(nslots * TILE_BYTES);
    if (c->slots == NULL || c->data == NULL)
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
    free(c->data);
    free(c);
}

static size_t slot_of(const struct tilecache *c, uint32_t level, uint64_t index)
{
    uint64_t h = (index ^ ((uint64_t)level << 56)) * 0x9e3779b97f4a7c15ULL;
    return (size_t)((h >> 17) % c->n);
}

const uint8_t *tilecache_get(struct tilecache *c, uint32_t level, uint64_t index)
{
    size_t i = slot_of(c, level, index);
    struct slot *s = &c->slots[i];

    if (s->used && s->level == level && s->index == index) {
        c->hits++;
        return c->data + i * TILE_BYTES;
    }
    c->misses++;
    return NULL;
}

void tilecache_put(struct tilecache *c, uint32_t level, uint64_t index, const uint8_t *tile)
{
    size_t i = slot_of(c, level, index);

    c->slots[i].level = level;
    c->slots[i].index = index;
    c->slots[i].used = 1;
    memcpy(c->data + i * TILE_BYTES, tile, TILE_BYTES);
}

void tilecache_stats(const struct tilecache *c, uint64_t *hits, uint64_t *misses)
{
    *hits = c->hits;
    *misses = c->misses;
}

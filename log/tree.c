/*
 * tree: the right edge of glasslogd's tree; see tree.h. Full tiles are
 * collected through the compact range's completed-subtree callback: every
 * node at a Merkle level that is a multiple of 8 is a tile hash, and the
 * 256th hash of a tile completes it.
 */
#include "tree.h"

#include <string.h>

#include "glasslog/error.h"
#include "glasslog/tile.h"

/* Hashes at tile level L for a tree of `size` leaves. */
static uint64_t level_count(uint64_t size, uint32_t level)
{
    return level * 8 >= 64 ? 0 : size >> (level * 8);
}

void tree_init(struct tree *t)
{
    gl_merkle_range_init(&t->range);
}

struct append_ctx {
    struct tree *t;
    struct store_batch *b;
};

static int tree_on_node(void *ctx, const struct gl_node_id *id, const uint8_t hash[GL_HASH_LEN])
{
    struct append_ctx *a = ctx;
    uint32_t level = id->level / 8, pos = (uint32_t)(id->index % 256);

    if (id->level % 8 != 0 || level >= TREE_TILE_LEVELS)
        return 0;
    memcpy(a->t->edge[level][pos], hash, GL_HASH_LEN);
    if (pos == 255 && a->b != NULL)
        store_batch_put_tile(a->b, level, id->index / 256, a->t->edge[level],
                             sizeof(a->t->edge[level]));
    return 0;
}

int tree_append(struct tree *t, const uint8_t leaf[GL_HASH_LEN], struct store_batch *b)
{
    struct append_ctx a = {t, b};

    return gl_merkle_range_append(&t->range, leaf, tree_on_node, &a);
}

void tree_finish_batch(const struct tree *t, uint64_t old_size, struct store_batch *b)
{
    for (uint32_t l = 0; l < TREE_TILE_LEVELS; l++) {
        uint64_t now = level_count(t->range.size, l), before = level_count(old_size, l);
        if (now != before && now % 256 != 0)
            store_batch_put_tile(b, l, now / 256, t->edge[l], (size_t)(now % 256) * GL_HASH_LEN);
    }
}

int tree_root(const struct tree *t, uint8_t root[GL_HASH_LEN])
{
    return gl_merkle_range_root(&t->range, root);
}

int tree_tile(const struct tree *t, struct store *s, struct tilecache *c, uint32_t level,
              uint64_t index, const uint8_t (**nodes)[GL_HASH_LEN], uint32_t *width)
{
    uint64_t count = level >= TREE_TILE_LEVELS ? 0 : level_count(t->range.size, level);
    const uint8_t(*hashes)[GL_HASH_LEN];
    uint8_t buf[STORE_TILE_MAX];
    size_t len;
    uint32_t w;
    int rc;

    if (index > count / 256 || (index == count / 256 && count % 256 == 0))
        return GL_ENOTFOUND;
    w = index == count / 256 ? (uint32_t)(count % 256) : 256;
    if ((*nodes = tilecache_get(c, level, index, w)) != NULL) {
        *width = w;
        return 0;
    }
    if (w < 256) {
        hashes = (const uint8_t(*)[GL_HASH_LEN])t->edge[level];
    } else {
        if ((rc = store_get_tile(s, level, index, buf, &len)) != 0)
            return rc;
        if (len != STORE_TILE_MAX)
            return GL_EPARSE; /* a tile left of the edge must be full */
        hashes = (const uint8_t(*)[GL_HASH_LEN])buf;
    }
    if ((*nodes = tilecache_put(c, level, index, w, hashes)) == NULL)
        return GL_ECRYPTO;
    *width = w;
    return 0;
}

/* A node inside tile span: at height log2(count) of the tile's node tree. */
static int span_node(const uint8_t (*nodes)[GL_HASH_LEN], uint32_t width,
                     const struct gl_tile_span *span, uint8_t out[GL_HASH_LEN])
{
    unsigned k = 0;

    while ((1u << k) < span->count)
        k++;
    if ((1u << k) != span->count || k > 8 || span->start % span->count != 0 ||
        span->start + span->count > width)
        return GL_ERANGE;
    memcpy(out, nodes[tile_node_base[k] + (span->start >> k)], GL_HASH_LEN);
    return 0;
}

static int tree_read(void *ctx, const struct gl_node_id *ids, size_t n,
                     uint8_t (*out)[GL_HASH_LEN])
{
    const struct tree_reader *r = ctx;
    const uint8_t(*nodes)[GL_HASH_LEN];
    struct gl_tile_span span;
    uint32_t width;
    int rc;

    for (size_t i = 0; i < n; i++) {
        if ((rc = gl_tile_locate(&ids[i], &span)) != 0 ||
            (rc = tree_tile(r->t, r->s, r->c, span.level, span.index, &nodes, &width)) != 0 ||
            (rc = span_node(nodes, width, &span, out[i])) != 0)
            return rc;
    }
    return 0;
}

void tree_source(struct tree_reader *r, struct gl_hash_source *src)
{
    src->read = tree_read;
    src->ctx = r;
}

/* Loading: the edge tiles straight from the store, then the compact range
 * through a reader over the loaded edge (without a cache). */
int tree_load(struct tree *t, struct store *s, uint64_t size)
{
    struct tilecache *c = NULL;
    struct tree_reader r;
    struct gl_hash_source src;
    uint8_t buf[STORE_TILE_MAX];
    size_t len;
    int rc;

    tree_init(t);
    t->range.size = size; /* for tree_tile's edge arithmetic below */
    for (uint32_t l = 0; l < TREE_TILE_LEVELS; l++) {
        uint64_t count = level_count(size, l);
        if (count % 256 == 0)
            continue;
        if ((rc = store_get_tile(s, l, count / 256, buf, &len)) != 0)
            return rc;
        if (len < (count % 256) * GL_HASH_LEN)
            return GL_EPARSE;
        memcpy(t->edge[l], buf, (count % 256) * GL_HASH_LEN);
    }
    if ((rc = tilecache_new(64, &c)) != 0)
        return rc;
    r.t = t;
    r.s = s;
    r.c = c;
    tree_source(&r, &src);
    {
        struct gl_merkle_range range;
        rc = gl_merkle_range_load(&range, size, &src);
        if (rc == 0)
            t->range = range;
    }
    tilecache_free(c);
    return rc;
}

/*
 * tree: the right edge of glasslogd's tree; see tree.h. Full tiles are
 * collected through the compact range's completed-subtree callback: every
 * node at a Merkle level that is a multiple of 8 is a tile hash, and the
 * 256th hash of a tile completes it.
 */
#include "tree.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
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

static int tree_on_node(void *ctx, const struct gl_node_id *id,
                        const uint8_t hash[GL_HASH_LEN])
{
    struct append_ctx *a = ctx;
    uint32_t level = id->level / 8, pos = (uint32_t)(id->index % 256);

    if (id->level % 8 != 0 || level >= TREE_TILE_LEVELS)
        return 0;
    /* the node is the next hash of its level's edge tile (tree.h) */
    assert(level_count(a->t->range.size + 1, level) == id->index + 1);
    memcpy(a->t->edge[level][pos], hash, GL_HASH_LEN);
    if (pos == 255 && a->b != NULL)
        store_batch_put_tile(a->b, level, id->index / 256, a->t->edge[level],
                             sizeof(a->t->edge[level]));
    return 0;
}

int tree_append(struct tree *t, const uint8_t leaf[GL_HASH_LEN], struct store_batch *b)
{
    struct append_ctx a = {t, b};
    uint64_t before = t->range.size;
    int rc = gl_merkle_range_append(&t->range, leaf, tree_on_node, &a);

    assert(t->range.size == before + (rc == 0)); /* grows by one, or not at all */
    (void)before;
    return rc;
}

void tree_finish_batch(const struct tree *t, uint64_t old_size, struct store_batch *b)
{
    assert(old_size <= t->range.size); /* the tree only grows */
    for (uint32_t l = 0; l < TREE_TILE_LEVELS; l++) {
        uint64_t now = level_count(t->range.size, l), before = level_count(old_size, l);
        if (now != before && now % 256 != 0)
            store_batch_put_tile(b, l, now / 256, t->edge[l],
                                 (size_t)(now % 256) * GL_HASH_LEN);
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
        hashes = t->edge[level];
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
            (rc = tree_tile(r->t, r->s, r->c, span.level, span.index, &nodes, &width)) !=
                0 ||
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

/* A reader of t over s with its own small tile cache, which the caller
 * frees (tilecache_free(r->c)) once done with src. */
static int private_reader(const struct tree *t, struct store *s, struct tree_reader *r,
                          struct gl_hash_source *src)
{
    int rc = tilecache_new(64, &r->c);

    if (rc != 0)
        return rc;
    r->t = t;
    r->s = s;
    tree_source(r, src);
    return 0;
}

/* Loading: the edge tiles straight from the store, then the compact range
 * through a reader over the loaded edge (without a cache). */
int tree_load(struct tree *t, struct store *s, uint64_t size)
{
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
    if ((rc = private_reader(t, s, &r, &src)) != 0)
        return rc;
    {
        struct gl_merkle_range range;
        rc = gl_merkle_range_load(&range, size, &src);
        if (rc == 0)
            t->range = range;
    }
    tilecache_free(r.c);
    return rc;
}

int tree_root_at(const struct tree *t, struct store *s, uint64_t size,
                 uint8_t root[GL_HASH_LEN])
{
    struct tree_reader r;
    struct gl_hash_source src;
    int rc;

    if (size > t->range.size)
        return GL_ERANGE;
    if ((rc = private_reader(t, s, &r, &src)) != 0)
        return rc;
    rc = gl_merkle_root_at(&src, size, root);
    tilecache_free(r.c);
    return rc;
}

/* --- the start-up check ---------------------------------------------------- */

/* Writes tile (level, index) of width w (256: full) as a C2SP path. */
static void tile_name(uint32_t level, uint64_t index, uint32_t w,
                      char out[GL_TILE_PATH_MAX])
{
    struct gl_tile t = {index, level, w};

    if (gl_tile_path_format(&t, 0, out, NULL) != 0)
        snprintf(out, GL_TILE_PATH_MAX, "tile/%u/?", (unsigned)level);
}

/* Every partial tile of the edge is stored and long enough. */
static int check_edge(struct store *s, uint64_t size, uint8_t *buf, char *why, size_t n)
{
    char name[GL_TILE_PATH_MAX];
    size_t len;
    int rc;

    for (uint32_t l = 0; l < TREE_TILE_LEVELS; l++) {
        uint64_t count = level_count(size, l);
        uint32_t w = (uint32_t)(count % 256);
        if (w == 0)
            continue;
        tile_name(l, count / 256, w, name);
        if ((rc = store_get_tile(s, l, count / 256, buf, &len)) != 0) {
            snprintf(why, n, "%s is %s", name,
                     rc == GL_ENOTFOUND ? "missing" : "unreadable");
            return rc;
        }
        if (len < (size_t)w * GL_HASH_LEN) {
            snprintf(why, n, "%s is short (%zu bytes, want %u)", name, len,
                     w * GL_HASH_LEN);
            return GL_EPARSE;
        }
    }
    return 0;
}

/* "the partial tiles of the right edge (<paths>) do not reproduce ..." */
static void edge_names(uint64_t size, char *why, size_t n)
{
    char name[GL_TILE_PATH_MAX];
    size_t used = (size_t)snprintf(why, n, "the partial tiles of the right edge (");

    for (uint32_t l = 0; l < TREE_TILE_LEVELS && used < n; l++) {
        uint64_t count = level_count(size, l);
        if (count % 256 == 0)
            continue;
        tile_name(l, count / 256, (uint32_t)(count % 256), name);
        used += (size_t)snprintf(why + used, n - used, "%s%s",
                                 why[used - 1] == '(' ? "" : " ", name);
    }
    if (used < n)
        snprintf(why + used, n - used, ") do not reproduce the signed root");
}

struct level_check {
    const struct tree *t;
    struct store *s;
    uint32_t level;
    uint64_t next, full; /* next index expected; full tiles at this level */
    uint64_t parent;     /* index of the full parent tile in buf, or UINT64_MAX */
    uint8_t buf[STORE_TILE_MAX];
    char *why;
    size_t why_len;
};

/* The entry one level up that full tile `index` must hash to. */
static int parent_hash(struct level_check *c, uint64_t index, const uint8_t **want)
{
    uint64_t p = index / 256, up = level_count(c->t->range.size, c->level + 1);
    char name[GL_TILE_PATH_MAX];
    size_t len;
    int rc;

    if (p == up / 256) { /* the partial tile of the edge: checked by the root */
        *want = c->t->edge[c->level + 1][index % 256];
        return 0;
    }
    if (c->parent != p) { /* a full tile checked at the level above */
        if ((rc = store_get_tile(c->s, c->level + 1, p, c->buf, &len)) != 0 ||
            len != STORE_TILE_MAX) {
            tile_name(c->level + 1, p, 256, name);
            snprintf(c->why, c->why_len, "%s vanished during the check", name);
            return rc != 0 ? rc : GL_EPARSE;
        }
        c->parent = p;
    }
    *want = c->buf + (index % 256) * GL_HASH_LEN;
    return 0;
}

static int check_tile(void *ctx, uint64_t index, const uint8_t *data, size_t len)
{
    struct level_check *c = ctx;
    char name[GL_TILE_PATH_MAX];
    const uint8_t *want;
    uint8_t h[GL_HASH_LEN];
    int rc;

    if (index >= c->full)
        return 1; /* the edge: checked against the root */
    if (index != c->next) {
        tile_name(c->level, c->next, 256, name);
        snprintf(c->why, c->why_len, "%s is missing", name);
        return GL_ENOTFOUND;
    }
    tile_name(c->level, index, 256, name);
    if (len != STORE_TILE_MAX) {
        snprintf(c->why, c->why_len, "%s is %zu bytes long, not %d (a full tile)", name,
                 len, STORE_TILE_MAX);
        return GL_EPARSE;
    }
    if ((rc = parent_hash(c, index, &want)) != 0)
        return rc;
    if ((rc = gl_tile_hash((const uint8_t(*)[GL_HASH_LEN])data, h)) != 0)
        return rc;
    if (memcmp(h, want, GL_HASH_LEN) != 0) {
        snprintf(c->why, c->why_len, "%s does not hash to its entry one level up", name);
        return GL_EVERIFY;
    }
    c->next++;
    return 0;
}

/* The full tiles of one level, against the level above. */
static int check_level(struct level_check *c)
{
    char name[GL_TILE_PATH_MAX];
    int rc;

    c->next = 0;
    c->parent = UINT64_MAX;
    c->full = level_count(c->t->range.size, c->level) / 256;
    if (c->full == 0)
        return 0;
    if ((rc = store_scan_tiles(c->s, c->level, 0, check_tile, c)) != 0) {
        if (c->why[0] == 0)
            snprintf(c->why, c->why_len, "the tiles of level %u are unreadable (%s)",
                     (unsigned)c->level, gl_strerror(rc));
        return rc;
    }
    if (c->next != c->full) {
        tile_name(c->level, c->next, 256, name);
        snprintf(c->why, c->why_len, "%s is missing", name);
        return GL_ENOTFOUND;
    }
    return 0;
}

int tree_check(struct tree *t, struct store *s, uint64_t size,
               const uint8_t root[GL_HASH_LEN], char *why, size_t why_len)
{
    struct level_check *c;
    uint8_t got[GL_HASH_LEN];
    int rc;

    why[0] = 0;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return GL_ENOMEM;
    if ((rc = check_edge(s, size, c->buf, why, why_len)) != 0)
        goto out;
    if ((rc = tree_load(t, s, size)) != 0 || (rc = tree_root(t, got)) != 0) {
        snprintf(why, why_len, "the partial tiles of the right edge are unusable (%s)",
                 gl_strerror(rc));
        goto out;
    }
    if (memcmp(got, root, GL_HASH_LEN) != 0) {
        edge_names(size, why, why_len);
        rc = GL_EVERIFY;
        goto out;
    }
    c->t = t;
    c->s = s;
    c->why = why;
    c->why_len = why_len;
    for (int l = TREE_TILE_LEVELS - 2; l >= 0 && rc == 0; l--) {
        c->level = (uint32_t)l;
        rc = check_level(c);
    }
out:
    free(c);
    return rc;
}

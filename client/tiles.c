/*
 * tiles: hash tiles over HTTP as a Merkle hash source; see tiles.h.
 *
 * A proof is computed in two passes: gl_merkle_*_nodes lists the complete
 * subtrees the proof needs, gl_tile_list_for_nodes turns them into the
 * tiles (with their widths at the tree size) holding them, those are
 * fetched into the cache, then gl_merkle_prove_* runs with read() served
 * from the cache (any miss is fetched, so the prefetch is only an
 * optimisation). Each node is the root of a power-of-two run of one tile's
 * hashes (gl_tile_locate), hashed with gl_tile_span_hash.
 */
#include "tiles.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glasslog/error.h"

int tiles_new(struct fetch *f, struct tiles **out)
{
    struct tiles *t = calloc(1, sizeof(*t));

    if (t == NULL)
        return GL_ENOMEM;
    t->f = f;
    *out = t;
    return 0;
}

void tiles_free(struct tiles *t)
{
    free(t);
}

void tiles_clear(struct tiles *ts)
{
    for (size_t i = 0; i < TILES_CACHE; i++)
        ts->slot[i].t.width = 0;
}

static struct tiles_slot *find(struct tiles *ts, const struct gl_tile *t)
{
    for (size_t i = 0; i < TILES_CACHE; i++) {
        struct tiles_slot *s = &ts->slot[i];
        if (s->t.width >= t->width && s->t.level == t->level && s->t.index == t->index)
            return s;
    }
    return NULL;
}

static struct tiles_slot *victim(struct tiles *ts)
{
    struct tiles_slot *v = &ts->slot[0];

    for (size_t i = 1; i < TILES_CACHE && v->t.width != 0; i++)
        if (ts->slot[i].t.width == 0 || ts->slot[i].used < v->used)
            v = &ts->slot[i];
    return v;
}

int tiles_get(struct tiles *ts, const struct gl_tile *t, const uint8_t (**h)[GL_HASH_LEN])
{
    struct tiles_slot *s = find(ts, t);
    char path[GL_TILE_PATH_MAX];
    struct gl_buf body;
    int rc;

    /* a slot's width is the hashes it holds: 1 to GL_TILE_WIDTH (0 = empty) */
    assert(t->width >= 1 && t->width <= GL_TILE_WIDTH);
    if (s != NULL) {
        s->used = ++ts->clock;
        *h = gl_hashes_const(s->h);
        return 0;
    }
    gl_buf_init(&body, (size_t)t->width * GL_HASH_LEN);
    if ((rc = fetch_tile(ts->f, t, 0, &body)) != 0)
        goto out;
    if (body.len != (size_t)t->width * GL_HASH_LEN) {
        gl_tile_path_format(t, 0, path, NULL);
        snprintf(ts->f->error, sizeof(ts->f->error), "%s: %zu bytes, want %zu", path,
                 body.len, (size_t)t->width * GL_HASH_LEN);
        rc = GL_EPARSE;
        goto out;
    }
    s = victim(ts);
    s->t = *t;
    s->used = ++ts->clock;
    memcpy(s->h, body.data, body.len);
    ts->fetched++;
    *h = gl_hashes_const(s->h);
out:
    gl_buf_release(&body);
    return rc;
}

static int source_read(void *ctx, const struct gl_node_id *ids, size_t n,
                       uint8_t (*out)[GL_HASH_LEN])
{
    struct tiles *ts = ctx;
    struct gl_tile_span sp;
    struct gl_tile t;
    const uint8_t(*h)[GL_HASH_LEN];
    int rc;

    for (size_t i = 0; i < n; i++) {
        if ((rc = gl_tile_locate(&ids[i], &sp)) != 0)
            return rc;
        t.level = sp.level;
        t.index = sp.index;
        if (gl_tile_width(sp.level, sp.index, ts->size, &t.width) != 0)
            return GL_ENOTFOUND;
        if ((rc = tiles_get(ts, &t, &h)) != 0 ||
            (rc = gl_tile_span_hash(h, t.width, &sp, out[i])) != 0)
            return rc;
    }
    return 0;
}

void tiles_source(struct tiles *ts, uint64_t size, struct gl_hash_source *src)
{
    ts->size = size;
    src->read = source_read;
    src->ctx = ts;
}

/* Fetches the tiles holding ids (at size) into the cache. */
static int prefetch(struct tiles *ts, uint64_t size, const struct gl_node_id *ids,
                    size_t n)
{
    struct gl_tile list[GL_MERKLE_MAX_NODES];
    const uint8_t(*h)[GL_HASH_LEN];
    size_t nt;
    int rc;

    if ((rc = gl_tile_list_for_nodes(size, ids, n, list, GL_MERKLE_MAX_NODES, &nt)) != 0)
        return rc;
    for (size_t i = 0; i < nt; i++)
        if ((rc = tiles_get(ts, &list[i], &h)) != 0)
            return rc;
    return 0;
}

int tiles_prove_consistency(struct tiles *ts, uint64_t m, uint64_t n,
                            uint8_t (*proof)[GL_HASH_LEN], size_t *len)
{
    struct gl_node_id ids[GL_MERKLE_MAX_NODES];
    struct gl_hash_source src;
    size_t nids;
    int rc;

    if ((rc = gl_merkle_consistency_nodes(m, n, ids, &nids)) != 0 ||
        (rc = prefetch(ts, n, ids, nids)) != 0)
        return rc;
    tiles_source(ts, n, &src);
    return gl_merkle_prove_consistency(&src, m, n, proof, len);
}

int tiles_prove_inclusion(struct tiles *ts, uint64_t index, uint64_t n,
                          uint8_t (*proof)[GL_HASH_LEN], size_t *len)
{
    struct gl_node_id ids[GL_MERKLE_MAX_NODES];
    struct gl_hash_source src;
    size_t nids;
    int rc;

    if ((rc = gl_merkle_inclusion_nodes(index, n, ids, &nids)) != 0 ||
        (rc = prefetch(ts, n, ids, nids)) != 0)
        return rc;
    tiles_source(ts, n, &src);
    return gl_merkle_prove_inclusion(&src, index, n, proof, len);
}

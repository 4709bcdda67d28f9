/*
 * test_log_tree: glasslogd's right edge of the tree (log/tree.c) over the
 * reference tree of tests/vectors (leaf i is the ASCII decimal of i), on
 * mem stores. Expected values come from outside tree.c: the roots of
 * tree/roots.txt, the proofs of tree/inclusion.txt and consistency.txt,
 * the Go-made tiles of tiles-1000/, and tile hashes recomputed with a
 * recursive RFC 9162 MTH (testutil.c).
 *
 * Covered: tree_append gives the vector roots at sizes around the tile
 * boundaries (255..257, 65535..65537) and up to 70,000; every full tile
 * goes into the batch exactly when it is completed (and holds the right
 * hashes); tree_finish_batch adds the partial tiles that changed and
 * nothing else; tree_load reproduces the compact range and the edge at
 * each committed size, also from a store that has grown since; tree_tile
 * serves full and partial tiles with their widths (and refuses a short
 * full tile); proofs through tree_source equal the vectors and verify;
 * tree_check passes a good store and names the tile that is flipped,
 * truncated or missing, on every level and on the right edge.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../log/store_impl.h"
#include "../../log/tilecache.h"
#include "../../log/tree.h"
#include "glasslog/error.h"
#include "glasslog/merkle.h"

#define NLEAVES 70000 /* the largest size of roots.txt we build */
#define NL1 (NLEAVES / 256)

/* Sizes the tree is committed at: every one has a root in roots.txt. */
static const uint64_t sizes[] = {1,   2,   3,   4,   5,    7,     8,     9,     255,  256,
                                 257, 511, 512, 513, 1000, 65535, 65536, 65537, 70000};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

/* The reference tree, recomputed independently: leaf hashes, the hashes
 * of tile level 1 (MTH of 256 leaves) and level 2 (MTH of 65536). */
static uint8_t (*leaves)[32];
static uint8_t lvl1[NL1][32];
static uint8_t lvl2[1][32];

/* The store built to NLEAVES (committed at every size above) and its
 * tree, shared by the tests that only read (those that damage a tile put
 * it back). */
static struct store *built;
static struct tree *built_tree;

/* Hash k of tile (level, index): what the tile must hold. */
static const uint8_t *want_hash(uint32_t level, uint64_t index, uint32_t k)
{
    uint64_t i = index * 256 + k;

    switch (level) {
    case 0:
        assert_true(i < NLEAVES);
        return leaves[i];
    case 1:
        assert_true(i < NL1);
        return lvl1[i];
    default:
        assert_int_equal(level, 2);
        assert_int_equal(i, 0);
        return lvl2[0];
    }
}

static void want_tile(uint32_t level, uint64_t index, uint32_t width, uint8_t *out)
{
    for (uint32_t k = 0; k < width; k++)
        memcpy(out + 32 * k, want_hash(level, index, k), 32);
}

/* Hashes at tile level L for a tree of size leaves. */
static uint64_t level_count(uint64_t size, uint32_t level)
{
    return level >= 8 ? 0 : size >> (8 * level);
}

static void ref_root(uint64_t size, uint8_t out[32])
{
    if (!tu_ref_root(size, out))
        fail_msg("no root for size %llu in tree/roots.txt", (unsigned long long)size);
}

/* The vectors' root where roots.txt has one, else the recursive MTH. */
static void any_root(uint64_t size, uint8_t out[32])
{
    if (!tu_ref_root(size, out))
        tu_mth((const uint8_t(*)[32])leaves, size, out);
}

static struct store *new_store(void)
{
    struct store_options o = {.url = "mem:", .create = 1};
    struct store *s = NULL;

    assert_int_equal(store_open(&o, &s, NULL), 0);
    return s;
}

static struct tree *new_tree(void)
{
    struct tree *t = malloc(sizeof(*t));

    assert_non_null(t);
    tree_init(t);
    return t;
}

/* Puts b->puts[from..) must be exactly the tiles want[0..n) (level,
 * index, width), with the hashes they must hold. */
struct tile_id {
    uint32_t level;
    uint64_t index;
    uint32_t width;
};

static void check_puts(const struct store_batch *b, size_t from,
                       const struct tile_id *want, size_t n)
{
    uint8_t tile[STORE_TILE_MAX];

    assert_int_equal(store_batch_count(b) - from, n);
    for (size_t i = 0; i < n; i++) {
        const struct store_put *p = &b->puts[from + i];
        assert_int_equal(p->kind, STORE_PUT_TILE);
        assert_int_equal(p->a, want[i].level);
        assert_int_equal(p->n, want[i].index);
        assert_int_equal(p->vlen, (size_t)want[i].width * 32);
        want_tile(want[i].level, want[i].index, want[i].width, tile);
        assert_memory_equal(store_put_val(b, p), tile, p->vlen);
    }
}

/* Appends leaves [t's size, to) into b, checking after each append that
 * exactly the tiles it completed were put, full, in level order. */
static void append_checked(struct tree *t, uint64_t to, struct store_batch *b)
{
    while (t->range.size < to) {
        uint64_t size = t->range.size + 1;
        size_t before = store_batch_count(b), n = 0;
        struct tile_id done[8];
        for (uint32_t l = 0;
             l < 8 && level_count(size, l) % 256 == 0 && level_count(size, l) > 0; l++)
            done[n++] = (struct tile_id){l, level_count(size, l) / 256 - 1, 256};
        assert_int_equal(tree_append(t, leaves[size - 1], b), 0);
        assert_int_equal(t->range.size, size);
        check_puts(b, before, done, n);
    }
}

/* tree_finish_batch from old_size: exactly the partial tiles whose width
 * changed. */
static void finish_checked(const struct tree *t, uint64_t old_size, struct store_batch *b)
{
    size_t before = store_batch_count(b), n = 0;
    struct tile_id want[8];

    for (uint32_t l = 0; l < 8; l++) {
        uint64_t now = level_count(t->range.size, l), was = level_count(old_size, l);
        if (now != was && now % 256 != 0)
            want[n++] = (struct tile_id){l, now / 256, (uint32_t)(now % 256)};
    }
    tree_finish_batch(t, old_size, b);
    check_puts(b, before, want, n);
}

/* Commits the tree's growth from old_size (its tiles and the state). */
static void commit_to(struct store *s, struct tree *t, uint64_t to, int check)
{
    struct store_batch *b;
    uint64_t old = t->range.size;
    uint8_t root[32];

    assert_int_equal(store_batch_new(s, &b), 0);
    if (check) {
        append_checked(t, to, b);
        finish_checked(t, old, b);
    } else {
        while (t->range.size < to)
            assert_int_equal(tree_append(t, leaves[t->range.size], b), 0);
        tree_finish_batch(t, old, b);
    }
    assert_int_equal(tree_root(t, root), 0);
    store_batch_put_state(b, to, root, 32); /* no checkpoint needed here */
    assert_int_equal(store_batch_commit(b, &(struct store_expect){old, 0}), 0);
    store_batch_free(b);
}

/* t2 is the tree t: same size, same compact range (the entries for the
 * bits of the size) and same edge (the partial tiles). */
static void check_same_tree(const struct tree *t2, const struct tree *t)
{
    uint64_t size = t->range.size;

    assert_int_equal(t2->range.size, size);
    for (unsigned l = 0; l < GL_MERKLE_MAX_HEIGHT; l++)
        if (size >> l & 1)
            assert_memory_equal(t2->range.edge[l], t->range.edge[l], 32);
    for (uint32_t l = 0; l < TREE_TILE_LEVELS; l++) {
        uint64_t w = level_count(size, l) % 256;
        uint8_t want[STORE_TILE_MAX];
        if (w == 0)
            continue;
        want_tile(l, level_count(size, l) / 256, (uint32_t)w, want);
        assert_memory_equal(t->edge[l], want, w * 32);
        assert_memory_equal(t2->edge[l], want, w * 32);
    }
}

static int group_setup(void **state)
{
    (void)state;
    leaves = malloc((size_t)NLEAVES * 32);
    assert_non_null(leaves);
    for (uint64_t i = 0; i < NLEAVES; i++)
        tu_ref_leaf(i, leaves[i]);
    for (uint64_t i = 0; i < NL1; i++)
        tu_mth((const uint8_t(*)[32])leaves + 256 * i, 256, lvl1[i]);
    tu_mth((const uint8_t(*)[32])leaves, 65536, lvl2[0]);
    built = new_store();
    built_tree = new_tree();
    for (size_t i = 0; i < NSIZES; i++)
        commit_to(built, built_tree, sizes[i], 0);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    store_close(built);
    free(built_tree);
    free(leaves);
    return 0;
}

/* --- the tests ------------------------------------------------------------------------
 */

static void test_append_roots_and_tiles(void **state)
{
    struct store *s = new_store();
    struct tree *t = new_tree(), *t2 = new_tree();
    uint8_t root[32], want[32];
    (void)state;

    assert_int_equal(tree_root(t, root), 0);
    ref_root(0, want);
    assert_memory_equal(root, want, 32);
    for (size_t i = 0; i < NSIZES; i++) {
        commit_to(s, t, sizes[i], 1);
        assert_int_equal(tree_root(t, root), 0);
        ref_root(sizes[i], want);
        assert_memory_equal(root, want, 32);
        /* the store now holds this tree: loading it gives the same */
        assert_int_equal(tree_load(t2, s, sizes[i]), 0);
        check_same_tree(t2, t);
        assert_int_equal(tree_root(t2, root), 0);
        assert_memory_equal(root, want, 32);
    }
    /* the recursive MTH agrees with the vectors (the reference is sound) */
    tu_mth((const uint8_t(*)[32])leaves, 65537, root);
    ref_root(65537, want);
    assert_memory_equal(root, want, 32);
    free(t);
    free(t2);
    store_close(s);
}

static void test_finish_batch(void **state)
{
    struct store *s = new_store();
    struct tree *t = new_tree();
    struct store_batch *b;
    (void)state;

    commit_to(s, t, 1000, 1);
    /* 1000 -> 1001: the level-0 partial tile only */
    assert_int_equal(store_batch_new(s, &b), 0);
    append_checked(t, 1001, b);
    finish_checked(t, 1000, b);
    assert_int_equal(store_batch_count(b), 1);
    assert_int_equal(b->puts[0].a, 0);
    assert_int_equal(b->puts[0].vlen, 233 * 32);
    store_batch_free(b);
    /* 1001 -> 1024: the full tile 0/3 by the append, the level-1 partial
     * of width 4 by the finish, no level-0 partial (there is none) */
    assert_int_equal(store_batch_new(s, &b), 0);
    append_checked(t, 1024, b);
    finish_checked(t, 1001, b);
    assert_int_equal(store_batch_count(b), 2);
    assert_int_equal(b->puts[0].a, 0);
    assert_int_equal(b->puts[0].n, 3);
    assert_int_equal(b->puts[0].vlen, STORE_TILE_MAX);
    assert_int_equal(b->puts[1].a, 1);
    assert_int_equal(b->puts[1].n, 0);
    assert_int_equal(b->puts[1].vlen, 4 * 32);
    store_batch_free(b);
    /* nothing appended: nothing to put */
    assert_int_equal(store_batch_new(s, &b), 0);
    tree_finish_batch(t, 1024, b);
    assert_int_equal(store_batch_count(b), 0);
    store_batch_free(b);
    free(t);
    store_close(s);
}

/* The tiles of the reference tree at size 1000 are byte for byte Go's
 * (tests/vectors/tiles-1000). */
static void test_tiles_1000_vectors(void **state)
{
    static const struct {
        uint32_t level;
        uint64_t index;
        const char *file;
        size_t width;
    } files[] = {
        {0, 0, "tiles-1000/tile/0/000", 256},
        {0, 1, "tiles-1000/tile/0/001", 256},
        {0, 2, "tiles-1000/tile/0/002", 256},
        {0, 3, "tiles-1000/tile/0/003.p/232", 232},
        {1, 0, "tiles-1000/tile/1/000.p/3", 3},
    };
    struct store *s = new_store();
    struct tree *t = new_tree();
    uint8_t tile[STORE_TILE_MAX];
    size_t len, flen;
    (void)state;

    commit_to(s, t, 1000, 0);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char *want = tu_read_vector(files[i].file, &flen);
        assert_int_equal(flen, files[i].width * 32);
        assert_int_equal(store_get_tile(s, files[i].level, files[i].index, tile, &len),
                         0);
        assert_int_equal(len, flen);
        assert_memory_equal(tile, want, len);
        free(want);
    }
    assert_int_equal(store_get_tile(s, 0, 4, tile, &len), GL_ENOTFOUND);
    assert_int_equal(store_get_tile(s, 2, 0, tile, &len), GL_ENOTFOUND);
    free(t);
    store_close(s);
}

/* Loading every committed size from the store built to 70,000 (whose
 * tiles have grown since: the prefix rule), and sizes it cannot hold. */
static void test_load(void **state)
{
    struct tree *t = new_tree(), *live = new_tree();
    uint8_t root[32], want[32];
    uint64_t next = 0;
    (void)state;

    for (size_t i = 0; i < NSIZES; i++) {
        while (next < sizes[i])
            assert_int_equal(tree_append(live, leaves[next++], NULL), 0);
        assert_int_equal(tree_load(t, built, sizes[i]), 0);
        check_same_tree(t, live);
        assert_int_equal(tree_root(t, root), 0);
        ref_root(sizes[i], want);
        assert_memory_equal(root, want, 32);
    }
    assert_int_equal(tree_load(t, built, 0), 0);
    assert_int_equal(t->range.size, 0);
    assert_int_equal(tree_root(t, root), 0);
    ref_root(0, want);
    assert_memory_equal(root, want, 32);
    /* one leaf past what is stored: the partial tile is too short */
    assert_int_equal(tree_load(t, built, NLEAVES + 1), GL_EPARSE);
    /* a tile past what is stored: missing */
    assert_int_equal(tree_load(t, built, NLEAVES + 256), GL_ENOTFOUND);
    free(t);
    free(live);
}

/* tree_tile(level, index) has width w and the hashes it must hold; its
 * node tree's top (when full) is the hash one level up. */
static void check_tile(const struct tree *t, struct store *s, struct tilecache *c,
                       uint32_t level, uint64_t index, uint32_t w)
{
    const uint8_t(*nodes)[32] = NULL;
    uint8_t want[STORE_TILE_MAX];
    uint32_t width = 0;

    assert_int_equal(tree_tile(t, s, c, level, index, &nodes, &width), 0);
    assert_int_equal(width, w);
    want_tile(level, index, w, want);
    assert_memory_equal(nodes, want, (size_t)w * 32);
    if (w == 256)
        assert_memory_equal(nodes[tile_node_base[8]],
                            want_hash(level + 1, index / 256, (uint32_t)(index % 256)),
                            32);
}

static void check_no_tile(const struct tree *t, struct store *s, struct tilecache *c,
                          uint32_t level, uint64_t index)
{
    const uint8_t(*nodes)[32];
    uint32_t width;

    assert_int_equal(tree_tile(t, s, c, level, index, &nodes, &width), GL_ENOTFOUND);
}

static void test_tile(void **state)
{
    struct tilecache *c;
    struct tree *t1000 = new_tree();
    uint8_t tile[STORE_TILE_MAX], save[STORE_TILE_MAX];
    const uint8_t(*nodes)[32];
    uint64_t hits, misses, hits2, misses2;
    uint32_t width;
    size_t len;
    (void)state;

    assert_int_equal(tilecache_new(16, &c), 0);
    /* at 70,000: full tiles from the store, partial ones from the edge */
    check_tile(built_tree, built, c, 0, 0, 256);
    check_tile(built_tree, built, c, 0, 100, 256);
    check_tile(built_tree, built, c, 0, 272, 256);
    check_tile(built_tree, built, c, 0, 273, 112);
    check_no_tile(built_tree, built, c, 0, 274);
    check_tile(built_tree, built, c, 1, 0, 256);
    check_tile(built_tree, built, c, 1, 1, 17);
    check_no_tile(built_tree, built, c, 1, 2);
    check_tile(built_tree, built, c, 2, 0, 1);
    check_no_tile(built_tree, built, c, 2, 1);
    check_no_tile(built_tree, built, c, 3, 0);
    check_no_tile(built_tree, built, c, TREE_TILE_LEVELS, 0);
    check_no_tile(built_tree, built, c, 40, 0);
    /* served again: from the cache */
    tilecache_stats(c, &hits, &misses);
    check_tile(built_tree, built, c, 0, 273, 112);
    tilecache_stats(c, &hits2, &misses2);
    assert_int_equal(hits2, hits + 1);
    assert_int_equal(misses2, misses);

    /* at 1000, from the same (larger) store: the widths of that size */
    assert_int_equal(tree_load(t1000, built, 1000), 0);
    check_tile(t1000, built, c, 0, 2, 256);
    check_tile(t1000, built, c, 0, 3, 232);
    check_tile(t1000, built, c, 1, 0, 3);
    check_no_tile(t1000, built, c, 0, 4);
    check_no_tile(t1000, built, c, 1, 1);
    check_no_tile(t1000, built, c, 2, 0);

    /* a full tile stored short is refused, not served */
    assert_int_equal(store_get_tile(built, 0, 5, save, &len), 0);
    memcpy(tile, save, len);
    {
        struct store_batch *b;
        assert_int_equal(store_batch_new(built, &b), 0);
        store_batch_put_tile(b, 0, 5, tile, 255 * 32);
        assert_int_equal(store_batch_commit(b, NULL), 0);
        store_batch_free(b);
    }
    check_tile(built_tree, built, c, 0, 4, 256); /* its neighbours are fine */
    assert_int_equal(tree_tile(built_tree, built, c, 0, 5, &nodes, &width), GL_EPARSE);
    {
        struct store_batch *b;
        assert_int_equal(store_batch_new(built, &b), 0);
        store_batch_put_tile(b, 0, 5, save, len);
        assert_int_equal(store_batch_commit(b, NULL), 0);
        store_batch_free(b);
    }
    check_tile(built_tree, built, c, 0, 5, 256);
    tilecache_free(c);
    free(t1000);
}

/* Proofs through tree_source: the vectors' proofs exactly, verified
 * against the vectors' roots; and more pairs around the tile boundaries. */
static void test_proofs(void **state)
{
    struct tu_proof_case *cases = calloc(64, sizeof(*cases));
    struct tilecache *c;
    struct tree_reader r;
    struct gl_hash_source src;
    uint8_t proof[GL_MERKLE_MAX_PROOF][32], r1[32], r2[32];
    static const uint64_t idx[] = {0, 1, 254, 255, 256, 257, 999, 65535, 65536, 69999};
    size_t n, len, checked = 0;
    (void)state;

    assert_non_null(cases);
    assert_int_equal(tilecache_new(8, &c), 0);
    r.t = built_tree;
    r.s = built;
    r.c = c;
    tree_source(&r, &src);

    n = tu_read_proofs("tree/inclusion.txt", 1, cases, 64);
    for (size_t i = 0; i < n; i++) {
        if (cases[i].b > NLEAVES)
            continue;
        assert_memory_equal(cases[i].leaf, leaves[cases[i].a], 32);
        assert_int_equal(
            gl_merkle_prove_inclusion(&src, cases[i].a, cases[i].b, proof, &len), 0);
        assert_int_equal(len, cases[i].len);
        assert_memory_equal(proof, cases[i].proof, len * 32);
        any_root(cases[i].b, r1);
        assert_int_equal(gl_merkle_verify_inclusion(cases[i].a, cases[i].b,
                                                    leaves[cases[i].a],
                                                    (const uint8_t(*)[32])proof, len, r1),
                         0);
        checked++;
    }
    n = tu_read_proofs("tree/consistency.txt", 0, cases, 64);
    for (size_t i = 0; i < n; i++) {
        if (cases[i].b > NLEAVES)
            continue;
        assert_int_equal(
            gl_merkle_prove_consistency(&src, cases[i].a, cases[i].b, proof, &len), 0);
        assert_int_equal(len, cases[i].len);
        assert_memory_equal(proof, cases[i].proof, len * 32);
        any_root(cases[i].a, r1);
        any_root(cases[i].b, r2);
        assert_int_equal(gl_merkle_verify_consistency(cases[i].a, cases[i].b, r1, r2,
                                                      (const uint8_t(*)[32])proof, len),
                         0);
        checked++;
    }
    assert_true(checked >= 12);

    for (size_t si = 0; si < NSIZES; si++) {
        ref_root(sizes[si], r2);
        for (size_t k = 0; k < sizeof(idx) / sizeof(idx[0]) && idx[k] < sizes[si]; k++) {
            assert_int_equal(
                gl_merkle_prove_inclusion(&src, idx[k], sizes[si], proof, &len), 0);
            assert_int_equal(gl_merkle_verify_inclusion(idx[k], sizes[si], leaves[idx[k]],
                                                        (const uint8_t(*)[32])proof, len,
                                                        r2),
                             0);
        }
        for (size_t sj = 0; sj < si; sj++) {
            ref_root(sizes[sj], r1);
            assert_int_equal(
                gl_merkle_prove_consistency(&src, sizes[sj], sizes[si], proof, &len), 0);
            assert_int_equal(gl_merkle_verify_consistency(sizes[sj], sizes[si], r1, r2,
                                                          (const uint8_t(*)[32])proof,
                                                          len),
                             0);
        }
    }
    /* nothing past the tree */
    assert_true(gl_merkle_prove_inclusion(&src, 5, NLEAVES + 1, proof, &len) < 0);
    assert_true(gl_merkle_prove_consistency(&src, 5, NLEAVES + 1, proof, &len) < 0);
    tilecache_free(c);
    free(cases);
}

/* --- tree_check ------------------------------------------------------------------------
 */

static void put_raw_tile(uint32_t level, uint64_t index, const uint8_t *data, size_t len)
{
    struct store_batch *b;

    assert_int_equal(store_batch_new(built, &b), 0);
    if (len == 0)
        store_batch_delete_tile(b, level, index);
    else
        store_batch_put_tile(b, level, index, data, len);
    assert_int_equal(store_batch_commit(b, NULL), 0);
    store_batch_free(b);
}

/* Damages tile (level, index) (flip: one bit of hash `at`; else keep
 * `keep` hashes, 0 deleting it), runs tree_check at NLEAVES, puts the
 * tile back, and checks the result and that the reason names `name` and
 * says `what`. */
static void check_damage(uint32_t level, uint64_t index, int flip, size_t at, size_t keep,
                         int want_rc, const char *name, const char *what)
{
    struct tree *t = new_tree();
    uint8_t save[STORE_TILE_MAX], bad[STORE_TILE_MAX], root[32];
    char why[256];
    size_t len;
    int rc;

    ref_root(NLEAVES, root);
    assert_int_equal(store_get_tile(built, level, index, save, &len), 0);
    memcpy(bad, save, len);
    if (flip)
        bad[at * 32 + 7] ^= 0x10;
    put_raw_tile(level, index, bad, flip ? len : keep * 32);
    rc = tree_check(t, built, NLEAVES, root, why, sizeof(why));
    put_raw_tile(level, index, save, len);
    if (rc != want_rc || strstr(why, name) == NULL || strstr(why, what) == NULL)
        fail_msg("tile %u/%llu: got %d \"%s\", want %d naming %s (%s)", (unsigned)level,
                 (unsigned long long)index, rc, why, want_rc, name, what);
    free(t);
}

static void test_check(void **state)
{
    struct tree *t = new_tree();
    uint8_t root[32], bad[32];
    char why[256];
    (void)state;

    ref_root(NLEAVES, root);
    assert_int_equal(tree_check(t, built, NLEAVES, root, why, sizeof(why)), 0);
    assert_string_equal(why, "");
    check_same_tree(t, built_tree);
    ref_root(1000, root);
    assert_int_equal(tree_check(t, built, 1000, root, why, sizeof(why)), 0);
    ref_root(65536, root);
    assert_int_equal(tree_check(t, built, 65536, root, why, sizeof(why)), 0);

    /* another root: the edge is blamed, every partial tile named */
    ref_root(NLEAVES, root);
    memcpy(bad, root, 32);
    bad[0] ^= 1;
    assert_int_equal(tree_check(t, built, NLEAVES, bad, why, sizeof(why)), GL_EVERIFY);
    assert_non_null(strstr(why, "tile/0/273.p/112"));
    assert_non_null(strstr(why, "tile/1/001.p/17"));
    assert_non_null(strstr(why, "tile/2/000.p/1"));

    /* full tiles: flipped, truncated, missing, on both levels */
    check_damage(0, 5, 1, 200, 0, GL_EVERIFY, "tile/0/005", "does not hash");
    check_damage(0, 0, 1, 0, 0, GL_EVERIFY, "tile/0/000", "does not hash");
    check_damage(0, 272, 1, 255, 0, GL_EVERIFY, "tile/0/272", "does not hash");
    check_damage(0, 7, 0, 0, 255, GL_EPARSE, "tile/0/007", "bytes long");
    check_damage(0, 6, 0, 0, 0, GL_ENOTFOUND, "tile/0/006", "missing");
    check_damage(0, 272, 0, 0, 0, GL_ENOTFOUND, "tile/0/272", "missing");
    check_damage(1, 0, 1, 99, 0, GL_EVERIFY, "tile/1/000", "does not hash");
    check_damage(1, 0, 0, 0, 17, GL_EPARSE, "tile/1/000", "bytes long");
    check_damage(1, 0, 0, 0, 0, GL_ENOTFOUND, "tile/1/000", "missing");
    /* the right edge */
    check_damage(0, 273, 1, 111, 0, GL_EVERIFY, "tile/0/273.p/112", "do not reproduce");
    check_damage(1, 1, 1, 3, 0, GL_EVERIFY, "tile/1/001.p/17", "do not reproduce");
    check_damage(2, 0, 1, 0, 0, GL_EVERIFY, "tile/2/000.p/1", "do not reproduce");
    check_damage(0, 273, 0, 0, 100, GL_EPARSE, "tile/0/273.p/112", "short");
    check_damage(0, 273, 0, 0, 0, GL_ENOTFOUND, "tile/0/273.p/112", "missing");
    check_damage(1, 1, 0, 0, 0, GL_ENOTFOUND, "tile/1/001.p/17", "missing");

    /* everything put back: good again */
    assert_int_equal(tree_check(t, built, NLEAVES, root, why, sizeof(why)), 0);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_roots_and_tiles),
        cmocka_unit_test(test_finish_batch),
        cmocka_unit_test(test_tiles_1000_vectors),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_tile),
        cmocka_unit_test(test_proofs),
        cmocka_unit_test(test_check),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

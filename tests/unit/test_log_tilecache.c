/*
 * test_log_tilecache: the tile cache of glasslogd (log/tilecache.c). Every
 * interior node it computes is compared with a recursive RFC 9162 MTH of
 * the hashes below it (testutil.c), at full and partial widths; the node
 * layout is the documented one (height k at tile_node_base[k]); a get
 * after a put returns the tile, a get at another width does not (a
 * partial tile's entry is not the full tile's); a hit is always the right
 * tile and no more tiles are held than the slots; tiles of different
 * levels with the same index do not push each other out, nor does a
 * stream of other tiles push out one used between them (least recently
 * used within a set); the hit and miss counters count exactly.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "../../log/tilecache.h"
#include "glasslog/error.h"

/* Pseudo-random tile hashes, different for each seed. */
static void fill(uint8_t (*h)[32], size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < 32; j += 8) {
            uint64_t v = tu_rand(&seed);
            memcpy(h[i] + j, &v, 8);
        }
}

/* nodes is the node tree of the first width hashes: height k holds
 * floor(width / 2^k) complete nodes, each the MTH of its 2^k hashes. */
static void check_nodes(const uint8_t (*nodes)[32], const uint8_t (*hashes)[32],
                        uint32_t width)
{
    uint8_t want[32];

    assert_non_null(nodes);
    for (unsigned k = 0; k <= 8; k++) {
        uint32_t count = width >> k;
        for (uint32_t j = 0; j < count; j++) {
            tu_mth(hashes + ((size_t)j << k), (uint64_t)1 << k, want);
            assert_memory_equal(nodes[tile_node_base[k] + j], want, 32);
        }
    }
}

static void stats(const struct tilecache *c, uint64_t want_hits, uint64_t want_misses)
{
    uint64_t hits = 99, misses = 99;

    tilecache_stats(c, &hits, &misses);
    assert_int_equal(hits, want_hits);
    assert_int_equal(misses, want_misses);
}

static void test_layout_and_args(void **state)
{
    struct tilecache *c = NULL;
    (void)state;

    /* height k starts after the 256 >> i nodes of every lower height */
    assert_int_equal(tile_node_base[0], 0);
    for (unsigned k = 1; k <= 8; k++)
        assert_int_equal(tile_node_base[k], tile_node_base[k - 1] + (256u >> (k - 1)));
    assert_int_equal(tile_node_base[8] + 1, TILE_NODES);
    assert_int_equal(tilecache_new(0, &c), GL_EINVAL);
    assert_int_equal(tilecache_new(1, &c), 0);
    stats(c, 0, 0);
    tilecache_free(c);
    tilecache_free(NULL);
}

static void test_nodes(void **state)
{
    static const uint32_t widths[] = {1, 2, 3, 7, 100, 128, 129, 255, 256};
    uint8_t(*h)[32] = malloc(256 * 32);
    struct tilecache *c;
    const uint8_t(*nodes)[32];
    uint64_t hits = 0, misses = 0;
    (void)state;

    assert_non_null(h);
    assert_int_equal(tilecache_new(64, &c), 0);
    for (size_t i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
        uint32_t w = widths[i];
        fill(h, w, 1000 + w);
        assert_null(tilecache_get(c, 2, 1000 + w, w));
        misses++;
        nodes = tilecache_put(c, 2, 1000 + w, w, (const uint8_t(*)[32])h);
        check_nodes(nodes, (const uint8_t(*)[32])h, w);
        /* get after put: the same tile (h changed meanwhile: a copy) */
        fill(h, w, 1);
        nodes = tilecache_get(c, 2, 1000 + w, w);
        hits++;
        fill(h, w, 1000 + w);
        check_nodes(nodes, (const uint8_t(*)[32])h, w);
        stats(c, hits, misses);
    }
    tilecache_free(c);
    free(h);
}

static void test_partial_is_not_full(void **state)
{
    uint8_t(*full)[32] = malloc(256 * 32);
    struct tilecache *c;
    const uint8_t(*nodes)[32];
    (void)state;

    assert_non_null(full);
    fill(full, 256, 7);
    assert_int_equal(tilecache_new(16, &c), 0);
    /* the partial tile (its hashes a prefix of the full one's) */
    check_nodes(tilecache_put(c, 0, 3, 100, (const uint8_t(*)[32])full),
                (const uint8_t(*)[32])full, 100);
    assert_null(tilecache_get(c, 0, 3, 256));
    assert_null(tilecache_get(c, 0, 3, 99));
    assert_null(tilecache_get(c, 0, 3, 101));
    check_nodes(tilecache_get(c, 0, 3, 100), (const uint8_t(*)[32])full, 100);
    /* the full tile takes the slot: the partial entry is gone */
    nodes = tilecache_put(c, 0, 3, 256, (const uint8_t(*)[32])full);
    check_nodes(nodes, (const uint8_t(*)[32])full, 256);
    assert_null(tilecache_get(c, 0, 3, 100));
    nodes = tilecache_get(c, 0, 3, 256);
    check_nodes(nodes, (const uint8_t(*)[32])full, 256);
    /* and it has the nodes a partial tile cannot: the tile's root */
    {
        uint8_t root[32];
        tu_mth((const uint8_t(*)[32])full, 256, root);
        assert_memory_equal(nodes[tile_node_base[8]], root, 32);
    }
    stats(c, 2, 4);
    tilecache_free(c);
    free(full);
}

/* Whatever is held is the right tile, never more tiles than slots, and the
 * tile last put always is. */
static void test_bounded(void **state)
{
    static const size_t sizes[] = {1, 6, 8}, held[] = {1, 4, 8};
    uint8_t(*h)[32] = malloc(256 * 32);
    struct tilecache *c;
    (void)state;

    assert_non_null(h);
    /* one slot: every put replaces the last, whatever its level/index */
    assert_int_equal(tilecache_new(1, &c), 0);
    fill(h, 256, 1);
    assert_non_null(tilecache_put(c, 0, 5, 256, (const uint8_t(*)[32])h));
    fill(h, 256, 2);
    assert_non_null(tilecache_put(c, 1, 5, 256, (const uint8_t(*)[32])h));
    assert_null(tilecache_get(c, 0, 5, 256));
    check_nodes(tilecache_get(c, 1, 5, 256), (const uint8_t(*)[32])h, 256);
    fill(h, 40, 3);
    assert_non_null(tilecache_put(c, 1, 6, 40, (const uint8_t(*)[32])h));
    assert_null(tilecache_get(c, 1, 5, 256));
    check_nodes(tilecache_get(c, 1, 6, 40), (const uint8_t(*)[32])h, 40);
    tilecache_free(c);

    /* 64 tiles through 1, 6 (4 used: a multiple of the ways) and 8 slots */
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size_t hits = 0;
        assert_int_equal(tilecache_new(sizes[k], &c), 0);
        for (uint64_t i = 0; i < 64; i++) {
            fill(h, 32, 100 + i);
            assert_non_null(
                tilecache_put(c, (uint32_t)(i % 3), i, 32, (const uint8_t(*)[32])h));
            check_nodes(tilecache_get(c, (uint32_t)(i % 3), i, 32),
                        (const uint8_t(*)[32])h, 32);
        }
        for (uint64_t i = 0; i < 64; i++) {
            const uint8_t(*nodes)[32] = tilecache_get(c, (uint32_t)(i % 3), i, 32);
            assert_null(
                tilecache_get(c, (uint32_t)(i % 3 + 1), i, 32)); /* never another level */
            if (nodes == NULL) {
                assert_true(i != 63);
                continue;
            }
            hits++;
            fill(h, 32, 100 + i);
            check_nodes(nodes, (const uint8_t(*)[32])h, 32);
        }
        assert_true(hits >= 1 && hits <= held[k]);
        tilecache_free(c);
    }
    free(h);
}

/* The tiles of a tree of 300,000 entries (1172 at level 0, 5 at level 1,
 * one at level 2) through 2048 slots: all held at once (a slot chosen by
 * the index alone, as before, put tile (1, i) where (0, i) was). Then a
 * tile used between the puts of 10,000 others through 16 slots stays, as
 * a proof's upper tile does while the level-0 tiles of random entries
 * come and go. */
static void test_hot_tiles_stay(void **state)
{
    static const uint64_t count[] = {1172, 5, 1};
    uint8_t(*h)[32] = malloc(256 * 32);
    struct tilecache *c;
    uint64_t hits = 0, misses = 0;
    (void)state;

    assert_non_null(h);
    assert_int_equal(tilecache_new(2048, &c), 0);
    for (uint32_t l = 0; l < 3; l++)
        for (uint64_t i = 0; i < count[l]; i++) {
            fill(h, 256, 10000 * l + i);
            assert_non_null(tilecache_put(c, l, i, 256, gl_hashes_const(h)));
        }
    for (uint32_t l = 0; l < 3; l++)
        for (uint64_t i = 0; i < count[l]; i++) {
            fill(h, 256, 10000 * l + i);
            check_nodes(tilecache_get(c, l, i, 256), gl_hashes_const(h), 256);
        }
    stats(c, 1178, 0);
    tilecache_free(c);

    assert_int_equal(tilecache_new(16, &c), 0);
    fill(h, 256, 5);
    assert_non_null(tilecache_put(c, 1, 0, 256, gl_hashes_const(h)));
    for (uint64_t i = 0; i < 10000; i++) {
        uint8_t(*other)[32] = h + 128; /* any hashes: only the hot tile is checked */
        assert_non_null(tilecache_put(c, 0, i, 64, gl_hashes_const(other)));
        if (tilecache_get(c, 1, 0, 256) != NULL)
            hits++;
        else
            misses++;
    }
    assert_int_equal(misses, 0);
    assert_int_equal(hits, 10000);
    fill(h, 256, 5);
    check_nodes(tilecache_get(c, 1, 0, 256), gl_hashes_const(h), 256);
    tilecache_free(c);
    free(h);
}

/* A tile put again wider (the right edge growing) reuses the narrower
 * copy's nodes: every node equals the MTH of its hashes at each width, on
 * the way up to full; a narrower copy whose hashes are not a prefix of the
 * new ones (another tree's tile) is not reused. */
static void test_grows(void **state)
{
    uint8_t(*h)[32] = malloc(256 * 32), (*other)[32] = malloc(256 * 32);
    static const uint32_t widths[] = {1, 2, 3, 60, 64, 127, 128, 129, 200, 255, 256};
    struct tilecache *c = NULL;
    (void)state;

    assert_non_null(h);
    assert_non_null(other);
    fill(h, 256, 7);
    assert_int_equal(tilecache_new(4, &c), 0);
    for (size_t i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
        check_nodes(tilecache_put(c, 0, 5, widths[i], gl_hashes_const(h)),
                    gl_hashes_const(h), widths[i]);
        check_nodes(tilecache_get(c, 0, 5, widths[i]), gl_hashes_const(h), widths[i]);
    }
    /* the same tile of another tree: its first 100 hashes differ only in
     * the first one, which every node over it covers */
    memcpy(other, h, 256 * 32);
    other[0][0] ^= 1;
    check_nodes(tilecache_put(c, 1, 9, 100, gl_hashes_const(h)), gl_hashes_const(h), 100);
    check_nodes(tilecache_put(c, 1, 9, 180, gl_hashes_const(other)),
                gl_hashes_const(other), 180);
    tilecache_free(c);
    free(h);
    free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_and_args),     cmocka_unit_test(test_nodes),
        cmocka_unit_test(test_partial_is_not_full), cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_hot_tiles_stay),      cmocka_unit_test(test_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

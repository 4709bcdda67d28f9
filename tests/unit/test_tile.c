/*
 * test_tile: lib/tile.c: path format/parse (round trips and a list of
 * malformed paths), tile arithmetic, entry bundles, and the tiles-1000
 * vector directory rebuilt byte for byte from the reference tree's leaves,
 * then used as a tile-backed hash source for every proof at size 1000;
 * a partial tile read from its full tile when it is gone (gl_tile_trim,
 * gl_tile_fetch over a fake copy of a log).
 */
#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "glasslog/buf.h"
#include "glasslog/error.h"
#include "glasslog/merkle.h"
#include "glasslog/tile.h"

#define HLEN GL_HASH_LEN
#define REF 1000 /* size of the tiles-1000 tree */

typedef uint8_t hash_t[HLEN];

/* ---- paths
 * ----------------------------------------------------------------------------- */

static void check_format(uint32_t level, uint64_t index, uint32_t width, int entries,
                         const char *want)
{
    struct gl_tile t = {index, level, width}, back;
    char out[GL_TILE_PATH_MAX];
    size_t len;
    int ent;

    assert_int_equal(gl_tile_path_format(&t, entries, out, &len), 0);
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
    assert_int_equal(gl_tile_path_parse(want, strlen(want), &back, &ent, NULL), 0);
    assert_int_equal(ent, entries);
    assert_int_equal(back.level, level);
    assert_int_equal(back.index, index);
    assert_int_equal(back.width, width);
}

static void test_path_format(void **state)
{
    (void)state;
    check_format(0, 0, 256, 0, "tile/0/000");
    check_format(0, 5, 256, 0, "tile/0/005");
    check_format(0, 999, 256, 0, "tile/0/999");
    check_format(0, 1000, 256, 0, "tile/0/x001/000");
    check_format(0, 1234067, 256, 0, "tile/0/x001/x234/067");
    check_format(1, 0, 3, 0, "tile/1/000.p/3");
    check_format(0, 3, 232, 0, "tile/0/003.p/232");
    check_format(0, 3, 232, 1, "tile/entries/003.p/232");
    check_format(0, 2, 256, 1, "tile/entries/002");
    check_format(0, 1, 1, 1, "tile/entries/001.p/1");
    check_format(63, 0, 255, 0, "tile/63/000.p/255");
    check_format(7, 1000000, 256, 0, "tile/7/x001/x000/000");
    check_format(2, UINT64_MAX, 256, 0, "tile/2/x018/x446/x744/x073/x709/x551/615");
    check_format(0, UINT64_MAX, 17, 1,
                 "tile/entries/x018/x446/x744/x073/x709/x551/615.p/17");
}

static void test_path_roundtrip(void **state)
{
    uint64_t rng = 99;
    int k;
    (void)state;

    for (k = 0; k < 20000; k++) {
        struct gl_tile t, back;
        char out[GL_TILE_PATH_MAX];
        size_t len;
        int entries = (int)(tu_rand(&rng) % 2), ent;
        uint64_t r = tu_rand(&rng);

        t.level = entries ? 0 : (uint32_t)(tu_rand(&rng) % 64);
        t.index = k % 3 == 0 ? r : r >> (tu_rand(&rng) % 64);
        t.width = k % 2 ? 256 : 1 + (uint32_t)(tu_rand(&rng) % 256);
        assert_int_equal(gl_tile_path_format(&t, entries, out, &len), 0);
        assert_true(len < GL_TILE_PATH_MAX);
        assert_int_equal(gl_tile_path_parse(out, len, &back, &ent, NULL), 0);
        assert_int_equal(ent, entries);
        assert_int_equal(back.level, t.level);
        assert_int_equal(back.index, t.index);
        assert_int_equal(back.width, t.width);
        /* a proper prefix is refused unless it is itself a canonical
         * path (e.g. "tile/0/000.p/23" of "tile/0/000.p/232") */
        for (size_t n = 0; n < len; n++) {
            char again[GL_TILE_PATH_MAX];
            if (gl_tile_path_parse(out, n, &back, &ent, NULL) != 0)
                continue;
            assert_int_equal(gl_tile_path_format(&back, ent, again, NULL), 0);
            assert_int_equal(strlen(again), n);
            assert_memory_equal(again, out, n);
            assert_true(n > 7 && (out[n] == '.' || back.width != t.width));
        }
    }
}

static const char *const bad_paths[] = {
    "",
    "tile",
    "tile/",
    "tile/0",
    "tile/0/",
    "/tile/0/000",
    "tile//0/000",
    "tile/0//000",
    "tile/0/000/",
    "tile/0/000 ",
    " tile/0/000",
    "xtile/0/000",
    "Tile/0/000",
    "tile/00/000",
    "tile/01/000",
    "tile/-1/000",
    "tile/+1/000",
    "tile/64/000",
    "tile/100/000",
    "tile/a/000",
    "tile/0/0",
    "tile/0/00",
    "tile/0/0000",
    "tile/0/1",
    "tile/0/x000/001",
    "tile/0/x000/x001/002",
    "tile/0/x001",
    "tile/0/x001/",
    "tile/0/x01/000",
    "tile/0/x0001/000",
    "tile/0/X001/000",
    "tile/0/x001/x000",
    "tile/0/001/002",
    "tile/0/x001x002/003",
    "tile/0/x001//002",
    "tile/0/00a",
    "tile/0/0x1",
    "tile/0/x018/x446/x744/x073/x709/x551/616", /* 2^64 */
    "tile/0/x999/x999/x999/x999/x999/x999/999",
    "tile/0/x001/x000/x000/x000/x000/x000/x000/000", /* 8 groups */
    "tile/0/000.p/0",
    "tile/0/000.p/00",
    "tile/0/000.p/01",
    "tile/0/000.p/256",
    "tile/0/000.p/1000",
    "tile/0/000.p/",
    "tile/0/000.p",
    "tile/0/000.",
    "tile/0/000.P/5",
    "tile/0/000.p/5/",
    "tile/0/000.p/5x",
    "tile/0/000.p/-5",
    "tile/0/000.q/5",
    "tile/0/000p/5",
    "tile/0/000.p5",
    "tile/0/000.p//5",
    "tile/entries",
    "tile/entries/",
    "tile/entries/1",
    "tile/entries/0/000",
    "tile/entries/x000/001",
    "tile/entries/000.p/256",
    "tile/entries/000.p/0",
    "tile/Entries/000",
    "tile/entry/000",
    "tile/data/000",
    "tile/8/0/000",
    "tile/0/000\n",
    "tile/0/000?x=1",
    "tile/0/../0/000",
    "tile/０/000",
    "tile/0/000.p/255.p/3",
    "tile/0/x001/000.p/3.p/4",
    "tile/63/x018/x446/x744/x073/x709/x551/615.p/255xx",
};

static void test_path_malformed(void **state)
{
    struct gl_tile t = {77, 7, 7};
    char buf[200];
    size_t i;
    int ent = 7, err;
    (void)state;

    for (i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++) {
        err = gl_tile_path_parse(bad_paths[i], strlen(bad_paths[i]), &t, &ent, NULL);
        if (err == 0)
            fail_msg("accepted malformed path \"%s\"", bad_paths[i]);
        assert_true(err == GL_EPARSE || err == GL_ETOOBIG);
    }
    /* outputs untouched on failure */
    assert_int_equal(t.index, 77);
    assert_int_equal(ent, 7);
    /* an embedded NUL is not the end of the path */
    memcpy(buf, "tile/0/000\0", 11);
    assert_int_equal(gl_tile_path_parse(buf, 11, &t, &ent, NULL), GL_EPARSE);
    assert_int_equal(gl_tile_path_parse(buf, 10, &t, &ent, NULL), 0);
    /* size cap */
    memset(buf, '0', sizeof(buf));
    assert_int_equal(gl_tile_path_parse(buf, sizeof(buf), &t, &ent, NULL), GL_ETOOBIG);
    /* the formatter refuses impossible tiles */
    t.level = 64;
    t.width = 256;
    assert_int_equal(gl_tile_path_format(&t, 0, buf, NULL), GL_EINVAL);
    t.level = 1;
    assert_int_equal(gl_tile_path_format(&t, 1, buf, NULL), GL_EINVAL);
    t.level = 0;
    t.width = 0;
    assert_int_equal(gl_tile_path_format(&t, 0, buf, NULL), GL_EINVAL);
    t.width = 257;
    assert_int_equal(gl_tile_path_format(&t, 0, buf, NULL), GL_EINVAL);
}

/* Paths have no lines: every refusal has line 0 and names the part that
 * is wrong. */
static void test_path_refusals_say_why(void **state)
{
    static const struct {
        const char *path;
        const char *why;
    } bad[] = {
        {"tiles/0/000", "a tile path starts with tile/"},
        {"tile/64/000", "want tile/<level>/"},
        {"tile/00/000", "want tile/<level>/"},
        {"tile/0/1", "the tile index is not 3-digit groups"},
        {"tile/0/x000/001", "the tile index is not 3-digit groups"},
        {"tile/0/000.p/256", "the partial width after .p/ is not 1 to 255"},
        {"tile/0/000.p/0", "a partial tile has width 1 to 255"},
        {"tile/0/000/", "unexpected bytes after the tile path"},
    };
    char buf[GL_TILE_PATH_MAX];
    struct gl_tile t;
    struct gl_err why;
    int ent;
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        tu_expect_why(
            gl_tile_path_parse(bad[i].path, strlen(bad[i].path), &t, &ent, &why), &why,
            GL_EPARSE, 0, bad[i].why);
    memset(buf, 'x', sizeof(buf));
    tu_expect_why(gl_tile_path_parse(buf, sizeof(buf), &t, &ent, &why), &why, GL_ETOOBIG,
                  0, "tile path longer than 63 bytes");
}

/* ---- arithmetic
 * --------------------------------------------------------------------------- */

static void check_locate(uint32_t level, uint64_t index, uint32_t tl, uint64_t ti,
                         uint32_t start, uint32_t count)
{
    struct gl_node_id id = {index, level};
    struct gl_tile_span s;

    assert_int_equal(gl_tile_locate(&id, &s), 0);
    assert_int_equal(s.level, tl);
    assert_int_equal(s.index, ti);
    assert_int_equal(s.start, start);
    assert_int_equal(s.count, count);
}

static void check_width(uint32_t level, uint64_t index, uint64_t size, int want)
{
    uint32_t w = 0;
    int err = gl_tile_width(level, index, size, &w);

    if (want < 0) {
        assert_int_equal(err, GL_ERANGE);
        return;
    }
    assert_int_equal(err, 0);
    assert_int_equal(w, (uint32_t)want);
}

static void test_math(void **state)
{
    struct gl_node_id id;
    struct gl_tile_span s;
    uint64_t rng = 5;
    int k;
    (void)state;

    check_locate(0, 0, 0, 0, 0, 1);
    check_locate(0, 1000, 0, 3, 232, 1);
    check_locate(8, 3, 1, 0, 3, 1);
    check_locate(7, 6, 0, 3, 0, 128);
    check_locate(9, 1, 1, 0, 2, 2);
    check_locate(1, 499, 0, 3, 230, 2);
    check_locate(16, 1, 2, 0, 1, 1);
    check_locate(15, 3, 1, 1, 128, 128);
    check_locate(63, 0, 7, 0, 0, 128);
    check_locate(0, UINT64_MAX - 1, 0, (UINT64_MAX - 1) / 256, 254, 1);
    id.level = 64;
    id.index = 0;
    assert_int_equal(gl_tile_locate(&id, &s), GL_ERANGE);
    id.level = 63;
    id.index = 1;
    assert_int_equal(gl_tile_locate(&id, &s), GL_ERANGE);
    id.level = 0;
    id.index = UINT64_MAX;
    assert_int_equal(gl_tile_locate(&id, &s), GL_ERANGE);
    /* any node: its span covers exactly its leaves' level-8L hashes */
    for (k = 0; k < 10000; k++) {
        id.level = (uint32_t)(tu_rand(&rng) % 64);
        id.index = tu_rand(&rng) % (UINT64_MAX >> id.level);
        assert_int_equal(gl_tile_locate(&id, &s), 0);
        assert_int_equal(s.level, id.level / 8);
        assert_int_equal(s.count, 1u << (id.level % 8));
        assert_int_equal(s.start % s.count, 0);
        assert_true(s.start + s.count <= 256);
        assert_int_equal((s.index * 256 + s.start) >> (id.level % 8), id.index);
    }

    check_width(0, 0, 1000, 256);
    check_width(0, 2, 1000, 256);
    check_width(0, 3, 1000, 232);
    check_width(0, 4, 1000, -1);
    check_width(1, 0, 1000, 3);
    check_width(1, 1, 1000, -1);
    check_width(2, 0, 1000, -1);
    check_width(0, 0, 0, -1);
    check_width(0, 0, 1, 1);
    check_width(0, 0, 256, 256);
    check_width(0, 1, 256, -1);
    check_width(1, 0, 256, 1);
    check_width(1, 0, 65535, 255);
    check_width(1, 0, 65536, 256);
    check_width(2, 0, 65536, 1);
    check_width(7, 0, UINT64_MAX, 255);
    check_width(6, 255, UINT64_MAX, 255);
    check_width(6, 254, UINT64_MAX, 256);
    check_width(8, 0, UINT64_MAX, -1);
    check_width(0, UINT64_MAX / 256, UINT64_MAX, 255);
}

/* The tiles a proof's nodes need, from the client's side. */
static void test_tiles_for_proofs(void **state)
{
    struct gl_node_id ids[GL_MERKLE_MAX_NODES];
    struct gl_tile tiles[GL_MERKLE_MAX_NODES];
    size_t n, nt, i;
    (void)state;

    /* leaf 999 at size 1000: its right-edge neighbours in 003.p/232, the
     * level-8 node (8, 2)... from tile 1/000.p/3 */
    assert_int_equal(gl_merkle_inclusion_nodes(999, 1000, ids, &n), 0);
    assert_int_equal(
        gl_tile_list_for_nodes(1000, ids, n, tiles, GL_MERKLE_MAX_NODES, &nt), 0);
    assert_int_equal(nt, 2);
    for (i = 0; i < nt; i++) {
        if (tiles[i].level == 0) {
            assert_int_equal(tiles[i].index, 3);
            assert_int_equal(tiles[i].width, 232);
        } else {
            assert_int_equal(tiles[i].level, 1);
            assert_int_equal(tiles[i].index, 0);
            assert_int_equal(tiles[i].width, 3);
        }
    }
    /* leaf 0 at size 1000 needs full tile 0/000 too */
    assert_int_equal(gl_merkle_inclusion_nodes(0, 1000, ids, &n), 0);
    assert_int_equal(
        gl_tile_list_for_nodes(1000, ids, n, tiles, GL_MERKLE_MAX_NODES, &nt), 0);
    assert_int_equal(nt, 3);
    assert_int_equal(tiles[0].level, 0);
    assert_int_equal(tiles[0].index, 0);
    assert_int_equal(tiles[0].width, 256);
    /* a cap too small */
    assert_int_equal(gl_tile_list_for_nodes(1000, ids, n, tiles, 2, &nt), GL_ETOOBIG);
    /* a node not complete at the size */
    ids[0].level = 0;
    ids[0].index = 1000;
    assert_int_equal(gl_tile_list_for_nodes(1000, ids, 1, tiles, 4, &nt), GL_ERANGE);
    ids[0].level = 3;
    ids[0].index = 124; /* leaves 992..999: complete at 1000 */
    assert_int_equal(gl_tile_list_for_nodes(1000, ids, 1, tiles, 4, &nt), 0);
    assert_int_equal(tiles[0].width, 232);
    assert_int_equal(gl_tile_list_for_nodes(999, ids, 1, tiles, 4, &nt), GL_ERANGE);
}

/* ---- entry bundles
 * ------------------------------------------------------------------------ */

static void test_bundle(void **state)
{
    static uint8_t big[GL_TILE_ENTRY_MAX + 1];
    struct gl_tile_entry e[GL_TILE_WIDTH + 1], out[GL_TILE_WIDTH];
    struct gl_buf b;
    uint64_t rng = 3;
    size_t i, n, cut;
    uint8_t *data;
    (void)state;

    for (i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)tu_rand(&rng);
    gl_buf_init(&b, GL_TILE_BUNDLE_MAX);
    /* 256 entries of mixed lengths, including empty and maximal ones */
    for (i = 0; i < GL_TILE_WIDTH; i++) {
        e[i].data = big + i;
        e[i].len = i == 0 ? 0 : i == 1 ? GL_TILE_ENTRY_MAX : tu_rand(&rng) % 300;
    }
    assert_int_equal(gl_tile_bundle_encode(e, GL_TILE_WIDTH, &b), 0);
    assert_int_equal(gl_tile_bundle_decode(b.data, b.len, 0, out, &n), 0);
    assert_int_equal(n, GL_TILE_WIDTH);
    assert_int_equal(gl_tile_bundle_decode(b.data, b.len, GL_TILE_WIDTH, out, &n), 0);
    for (i = 0; i < n; i++) {
        assert_int_equal(out[i].len, e[i].len);
        if (e[i].len > 0)
            assert_memory_equal(out[i].data, e[i].data, e[i].len);
    }
    assert_int_equal(gl_tile_bundle_decode(b.data, b.len, 255, out, &n), GL_EPARSE);
    /* every truncation is refused (or is a shorter whole bundle, which
     * the expected count then refuses) */
    for (cut = 0; cut < b.len; cut += 1 + cut / 64) {
        int err = gl_tile_bundle_decode(b.data, cut, GL_TILE_WIDTH, out, &n);
        assert_int_equal(err, GL_EPARSE);
    }
    gl_buf_release(&b);

    /* small bundle: exact bytes, trailing bytes, truncation */
    e[0].data = (const uint8_t *)"ab";
    e[0].len = 2;
    e[1].data = (const uint8_t *)"";
    e[1].len = 0;
    e[2].data = (const uint8_t *)"xyz";
    e[2].len = 3;
    assert_int_equal(gl_tile_bundle_encode(e, 3, &b), 0);
    assert_int_equal(b.len, 11);
    assert_memory_equal(b.data, "\0\2ab\0\0\0\3xyz", 11);
    assert_int_equal(gl_tile_bundle_decode(b.data, 11, 3, out, &n), 0);
    assert_int_equal(gl_tile_bundle_decode(b.data, 11, 0, out, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(gl_tile_bundle_decode(b.data, 11, 2, out, &n), GL_EPARSE);
    assert_int_equal(gl_tile_bundle_decode(b.data, 11, 4, out, &n), GL_EPARSE);
    assert_int_equal(gl_buf_putc(&b, 0), 0);
    assert_int_equal(gl_tile_bundle_decode(b.data, 12, 0, out, &n), GL_EPARSE);
    assert_int_equal(gl_tile_bundle_decode(b.data, 12, 3, out, &n), GL_EPARSE);
    assert_int_equal(gl_buf_putc(&b, 0), 0); /* "\0\0": a 4th, empty entry */
    assert_int_equal(gl_tile_bundle_decode(b.data, 13, 3, out, &n), GL_EPARSE);
    assert_int_equal(gl_tile_bundle_decode(b.data, 13, 0, out, &n), 0);
    assert_int_equal(n, 4);
    assert_int_equal(gl_tile_bundle_decode(b.data, 10, 0, out, &n), GL_EPARSE);
    assert_int_equal(gl_tile_bundle_decode(b.data, 0, 0, out, &n), GL_EPARSE);
    assert_int_equal(gl_tile_bundle_decode(b.data, 1, 0, out, &n), GL_EPARSE);
    assert_int_equal(gl_tile_bundle_decode(b.data, 11, 257, out, &n), GL_EINVAL);
    gl_buf_release(&b);

    /* 257 empty entries: too many */
    data = calloc(2 * 257, 1);
    assert_non_null(data);
    assert_int_equal(gl_tile_bundle_decode(data, 2 * 256, 0, out, &n), 0);
    assert_int_equal(gl_tile_bundle_decode(data, 2 * 257, 0, out, &n), GL_EPARSE);
    free(data);
    assert_int_equal(gl_tile_bundle_decode(big, GL_TILE_BUNDLE_MAX + 1, 0, out, &n),
                     GL_ETOOBIG);

    /* encoder refusals leave the buffer as it was */
    gl_buf_init(&b, 100);
    assert_int_equal(gl_buf_append(&b, "keep", 4), 0);
    assert_int_equal(gl_tile_bundle_encode(e, 0, &b), GL_EINVAL);
    assert_int_equal(gl_tile_bundle_encode(e, GL_TILE_WIDTH + 1, &b), GL_EINVAL);
    e[0].data = big;
    e[0].len = GL_TILE_ENTRY_MAX + 1;
    assert_int_equal(gl_tile_bundle_encode(e, 1, &b), GL_ETOOBIG);
    e[0].len = 50;
    e[1].data = big;
    e[1].len = 50; /* 4 + 52 + 52 > 100 */
    assert_int_equal(gl_tile_bundle_encode(e, 2, &b), GL_ETOOBIG);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.data, "keep", 5);
    gl_buf_release(&b);
}

/* ---- tiles-1000
 * --------------------------------------------------------------------------- */

/* The tiles of the reference tree at size REF, built from its leaves. */
struct tileset {
    hash_t l0[REF];       /* level-0 tile hashes: leaf hashes */
    hash_t l1[REF / 256]; /* level-1 tile hashes: level-8 nodes */
    size_t n0, n1;
};

static int tileset_add(void *ctx, const struct gl_node_id *id, const uint8_t hash[HLEN])
{
    struct tileset *t = ctx;
    struct gl_tile_span s;

    assert_int_equal(gl_tile_locate(id, &s), 0);
    if (s.count != 1)
        return 0; /* not stored in a tile */
    assert_true(s.level <= 1);
    if (s.level == 0) {
        assert_int_equal(id->index, t->n0);
        memcpy(t->l0[t->n0++], hash, HLEN);
    } else {
        assert_int_equal(id->index, t->n1);
        memcpy(t->l1[t->n1++], hash, HLEN);
    }
    return 0;
}

static void tileset_build(struct tileset *t, uint8_t root[HLEN])
{
    struct gl_merkle_range r;
    hash_t h;
    char dec[24];
    uint64_t i;

    memset(t, 0, sizeof(*t));
    gl_merkle_range_init(&r);
    for (i = 0; i < REF; i++) {
        size_t n = tu_u64_dec(i, dec);
        assert_int_equal(gl_merkle_leaf_hash(dec, n, h), 0);
        assert_int_equal(gl_merkle_range_append(&r, h, tileset_add, t), 0);
    }
    assert_int_equal(gl_merkle_range_root(&r, root), 0);
    assert_int_equal(t->n0, REF);
    assert_int_equal(t->n1, REF / 256);
}

/* The tile (level, index) at size REF: its hashes and width. */
static const hash_t *tileset_tile(const struct tileset *t, uint32_t level, uint64_t index,
                                  uint32_t *width)
{
    if (gl_tile_width(level, index, REF, width) != 0 || level > 1)
        return NULL;
    return level == 0 ? (const hash_t *)t->l0 + index * 256
                      : (const hash_t *)t->l1 + index * 256;
}

/* Compares one file of the vector directory with our bytes. */
static void compare_file(const char *rel, const void *want, size_t len, int *files)
{
    char path[512];
    char *got;
    size_t n;

    snprintf(path, sizeof(path), "tiles-1000/%s", rel);
    got = tu_read_vector(path, &n);
    if (n != len || memcmp(got, want, len) != 0)
        fail_msg("%s differs (%zu bytes, want %zu)", rel, n, len);
    free(got);
    (*files)++;
}

/* Counts regular files under dir (recursively). */
static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    struct stat sb;
    char path[4096];
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        assert_int_equal(stat(path, &sb), 0);
        n += S_ISDIR(sb.st_mode) ? count_files(path) : 1;
    }
    closedir(d);
    return n;
}

static void test_tiles_1000(void **state)
{
    static struct tileset t;
    struct gl_tile_entry e[GL_TILE_WIDTH], back[GL_TILE_WIDTH];
    char decs[REF][8], path[GL_TILE_PATH_MAX], dir[4096];
    struct gl_tile tile;
    struct gl_buf b;
    hash_t root, want, h;
    uint64_t n;
    size_t i, cnt, nb;
    int files = 0;
    (void)state;

    tileset_build(&t, root);
    tu_b64_hash("Y4r6mAIpJbrP3a2xXvIv0BmcGsmcKXO2FYJD0T/OBcI=", want);
    assert_memory_equal(root, want, HLEN);
    /* level-1 hashes are the tile hashes of the full level-0 tiles */
    for (n = 0; n < REF / 256; n++) {
        assert_int_equal(gl_tile_hash((const uint8_t(*)[HLEN])t.l0[n * 256], h), 0);
        assert_memory_equal(h, t.l1[n], HLEN);
    }
    /* hash tiles: level 0 (three full, one partial), level 1 (partial) */
    for (tile.level = 0; tile.level <= 1; tile.level++) {
        for (tile.index = 0;; tile.index++) {
            const hash_t *hs = tileset_tile(&t, tile.level, tile.index, &tile.width);
            if (hs == NULL)
                break;
            assert_int_equal(gl_tile_path_format(&tile, 0, path, NULL), 0);
            compare_file(path, hs, tile.width * HLEN, &files);
        }
    }
    assert_int_equal(files, 5);
    /* entry bundles */
    gl_buf_init(&b, GL_TILE_BUNDLE_MAX);
    tile.level = 0;
    for (tile.index = 0; tile.index * 256 < REF; tile.index++) {
        assert_int_equal(gl_tile_width(0, tile.index, REF, &tile.width), 0);
        for (i = 0; i < tile.width; i++) {
            uint64_t leaf = tile.index * 256 + i;
            e[i].len = tu_u64_dec(leaf, decs[leaf]);
            e[i].data = (const uint8_t *)decs[leaf];
        }
        gl_buf_reset(&b);
        assert_int_equal(gl_tile_bundle_encode(e, tile.width, &b), 0);
        assert_int_equal(gl_tile_path_format(&tile, 1, path, NULL), 0);
        compare_file(path, b.data, b.len, &files);
        assert_int_equal(gl_tile_bundle_decode(b.data, b.len, tile.width, back, &nb), 0);
        assert_int_equal(nb, tile.width);
        for (i = 0; i < nb; i++) { /* entries hash to the level-0 tile */
            assert_int_equal(gl_merkle_leaf_hash(back[i].data, back[i].len, h), 0);
            assert_memory_equal(h, t.l0[tile.index * 256 + i], HLEN);
        }
    }
    gl_buf_release(&b);
    /* and nothing else is in the directory */
    snprintf(dir, sizeof(dir), "%s/tiles-1000/tile", tu_vectors());
    cnt = (size_t)count_files(dir);
    assert_int_equal(cnt, (size_t)files);
    assert_int_equal(files, 9);
}

/* The vector tiles as a client sees them: a hash source reading nodes out
 * of tile files, as gl_tile_list_for_nodes says to fetch them. */
struct tile_client {
    hash_t *tiles[2][4]; /* [level][index], read from the vector files */
    uint32_t width[2][4];
    uint64_t size; /* the tree size the proofs are asked at */
    size_t fetched;
};

static int tile_client_read(void *ctx, const struct gl_node_id *ids, size_t n,
                            uint8_t (*out)[HLEN])
{
    struct tile_client *c = ctx;
    struct gl_tile need[GL_MERKLE_MAX_NODES];
    struct gl_tile_span s;
    size_t nt, i;
    int err;

    /* Tiles are fetched at their width at size REF; nodes of any smaller
     * tree are found in them (partial tiles are prefixes). */
    err = gl_tile_list_for_nodes(c->size, ids, n, need, GL_MERKLE_MAX_NODES, &nt);
    if (err != 0)
        return err;
    for (i = 0; i < nt; i++) {
        assert_true(need[i].level <= 1 && need[i].index < 4);
        assert_true(need[i].width <= c->width[need[i].level][need[i].index]);
        c->fetched++;
    }
    for (i = 0; i < n; i++) {
        assert_int_equal(gl_tile_locate(&ids[i], &s), 0);
        err = gl_tile_span_hash((const uint8_t(*)[HLEN])c->tiles[s.level][s.index],
                                c->width[s.level][s.index], &s, out[i]);
        if (err != 0)
            return err;
    }
    return 0;
}

static void test_tile_source(void **state)
{
    static const char *const names[2][4] = {
        {"tiles-1000/tile/0/000", "tiles-1000/tile/0/001", "tiles-1000/tile/0/002",
         "tiles-1000/tile/0/003.p/232"},
        {"tiles-1000/tile/1/000.p/3", NULL, NULL, NULL},
    };
    struct tile_client c;
    struct gl_hash_source src = {tile_client_read, &c};
    struct gl_merkle_range r;
    static hash_t roots[REF + 1], leaves[REF];
    hash_t proof[GL_MERKLE_MAX_PROOF];
    struct gl_tile_span sp;
    char dec[24];
    uint64_t i, m;
    size_t len, n;
    (void)state;

    memset(&c, 0, sizeof(c));
    for (i = 0; i < 8; i++) {
        const char *name = names[i / 4][i % 4];
        if (name == NULL)
            continue;
        c.tiles[i / 4][i % 4] = (hash_t *)tu_read_vector(name, &n);
        assert_int_equal(n % HLEN, 0);
        c.width[i / 4][i % 4] = (uint32_t)(n / HLEN);
    }
    gl_merkle_range_init(&r);
    assert_int_equal(gl_merkle_range_root(&r, roots[0]), 0);
    for (i = 0; i < REF; i++) {
        n = tu_u64_dec(i, dec);
        assert_int_equal(gl_merkle_leaf_hash(dec, n, leaves[i]), 0);
        assert_int_equal(gl_merkle_range_append(&r, leaves[i], NULL, NULL), 0);
        assert_int_equal(gl_merkle_range_root(&r, roots[i + 1]), 0);
    }
    /* every root, every inclusion proof at 1000 and a sample below, every
     * consistency proof into 1000, served from the tile files */
    for (m = 0; m <= REF; m++) {
        c.size = m;
        assert_int_equal(gl_merkle_root_at(&src, m, proof[0]), 0);
        assert_memory_equal(proof[0], roots[m], HLEN);
        c.size = REF;
        assert_int_equal(gl_merkle_prove_consistency(&src, m, REF, proof, &len), 0);
        assert_int_equal(gl_merkle_verify_consistency(m, REF, roots[m], roots[REF],
                                                      (const uint8_t(*)[HLEN])proof, len),
                         0);
    }
    for (i = 0; i < REF; i++) {
        c.size = REF;
        assert_int_equal(gl_merkle_prove_inclusion(&src, i, REF, proof, &len), 0);
        assert_int_equal(gl_merkle_verify_inclusion(i, REF, leaves[i],
                                                    (const uint8_t(*)[HLEN])proof, len,
                                                    roots[REF]),
                         0);
        m = 1 + i + (i * 7919) % (REF - i);
        c.size = m;
        assert_int_equal(gl_merkle_prove_inclusion(&src, i, m, proof, &len), 0);
        assert_int_equal(gl_merkle_verify_inclusion(i, m, leaves[i],
                                                    (const uint8_t(*)[HLEN])proof, len,
                                                    roots[m]),
                         0);
    }
    /* spans outside a tile's width are refused */
    sp.level = 0;
    sp.index = 3;
    sp.start = 224;
    sp.count = 8;
    assert_int_equal(
        gl_tile_span_hash((const uint8_t(*)[HLEN])c.tiles[0][3], 232, &sp, proof[0]), 0);
    sp.start = 232;
    sp.count = 8;
    assert_int_equal(
        gl_tile_span_hash((const uint8_t(*)[HLEN])c.tiles[0][3], 232, &sp, proof[0]),
        GL_ERANGE);
    sp.start = 4;
    sp.count = 8; /* misaligned */
    assert_int_equal(
        gl_tile_span_hash((const uint8_t(*)[HLEN])c.tiles[0][3], 232, &sp, proof[0]),
        GL_ERANGE);
    sp.start = 0;
    sp.count = 3; /* not a power of two */
    assert_int_equal(
        gl_tile_span_hash((const uint8_t(*)[HLEN])c.tiles[0][3], 232, &sp, proof[0]),
        GL_ERANGE);
    assert_true(c.fetched > 0);
    for (i = 0; i < 8; i++)
        free(c.tiles[i / 4][i % 4]);
}

/* ---- partial tiles read from full ones ------------------------------------ */

/* A fake copy of a log for gl_tile_fetch: the paths it serves, the status
 * of every other path (404, or an error code), and the requests seen. */
struct copy {
    const char *path[4];
    const struct gl_buf *body[4];
    size_t n;
    int other; /* GL_ENOTFOUND or another code for a path not served */
    char asked[4][GL_TILE_PATH_MAX];
    size_t max[4];
    size_t nasked;
};

static int copy_get(void *ctx, const char *path, size_t max, struct gl_buf *body)
{
    struct copy *c = ctx;

    assert_true(c->nasked < 4);
    snprintf(c->asked[c->nasked], GL_TILE_PATH_MAX, "%s", path);
    c->max[c->nasked++] = max;
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->path[i], path) != 0)
            continue;
        if (c->body[i]->len > max)
            return GL_ETOOBIG;
        gl_buf_reset(body);
        body->max = max;
        assert_int_equal(gl_buf_append(body, c->body[i]->data, c->body[i]->len), 0);
        return 0;
    }
    return c->other;
}

static void test_trim(void **state)
{
    static uint8_t big[GL_TILE_ENTRY_MAX];
    struct gl_tile_entry e[GL_TILE_WIDTH + 1], out[GL_TILE_WIDTH];
    struct gl_tile t = {1, 0, 44};
    struct gl_buf full, b, want;
    struct gl_err why;
    uint64_t rng = 5;
    size_t i, n;
    (void)state;

    /* hash tile: exactly 256 hashes, of which the first 44 are kept */
    gl_buf_init(&full, GL_TILE_BUNDLE_MAX);
    gl_buf_init(&b, GL_TILE_BUNDLE_MAX);
    for (i = 0; i < (size_t)GL_TILE_WIDTH * HLEN; i++)
        assert_int_equal(gl_buf_putc(&full, (uint8_t)tu_rand(&rng)), 0);
    assert_int_equal(gl_buf_append(&b, full.data, full.len), 0);
    assert_int_equal(gl_tile_trim(&t, 0, &b, NULL), 0);
    assert_int_equal(b.len, 44 * HLEN);
    assert_memory_equal(b.data, full.data, b.len);
    /* shorter or longer than a full tile: refused, unchanged */
    for (size_t len = 0; len <= (size_t)GL_TILE_WIDTH * HLEN + HLEN;
         len += 8 * HLEN + 1) {
        gl_buf_reset(&b);
        assert_int_equal(gl_buf_append(&b, full.data, len), 0);
        assert_int_equal(gl_tile_trim(&t, 0, &b, &why), GL_EPARSE);
        assert_int_equal(b.len, len);
        assert_non_null(strstr(why.reason, "not a full tile"));
    }
    gl_buf_reset(&b);
    assert_int_equal(gl_buf_append(&b, full.data, (GL_TILE_WIDTH - 1) * HLEN), 0);
    assert_int_equal(gl_tile_trim(&t, 0, &b, NULL), GL_EPARSE);

    /* bundle: exactly 256 entries, of which the bytes of the first W are kept */
    for (i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)tu_rand(&rng);
    for (i = 0; i <= GL_TILE_WIDTH; i++) {
        e[i].data = big + i;
        e[i].len = i == 3 ? 0 : i == 5 ? GL_TILE_ENTRY_MAX - 5 : tu_rand(&rng) % 300;
    }
    gl_buf_init(&want, GL_TILE_BUNDLE_MAX);
    gl_buf_reset(&full);
    assert_int_equal(gl_tile_bundle_encode(e, GL_TILE_WIDTH, &full), 0);
    for (uint32_t w = 1; w <= GL_TILE_WIDTH; w += w < 8 ? 1 : 37) {
        t.width = w;
        gl_buf_reset(&want);
        assert_int_equal(gl_tile_bundle_encode(e, w, &want), 0);
        gl_buf_reset(&b);
        assert_int_equal(gl_buf_append(&b, full.data, full.len), 0);
        assert_int_equal(gl_tile_trim(&t, 1, &b, NULL), 0);
        assert_int_equal(b.len, want.len);
        assert_memory_equal(b.data, want.data, want.len);
        assert_int_equal(gl_tile_bundle_decode(b.data, b.len, w, out, &n), 0);
    }
    /* 255 entries, 257, a truncated one: refused, unchanged */
    t.width = 44;
    for (size_t k = 255; k <= 257; k += 2) {
        gl_buf_reset(&b);
        assert_int_equal(gl_tile_bundle_encode(e, k, &b), k > 256 ? GL_EINVAL : 0);
        if (k > 256) { /* the encoder refuses 257: append one more entry */
            assert_int_equal(gl_buf_append(&b, full.data, full.len), 0);
            assert_int_equal(gl_buf_append(&b, "\0\1x", 3), 0);
        }
        size_t len = b.len;
        assert_int_equal(gl_tile_trim(&t, 1, &b, &why), GL_EPARSE);
        assert_int_equal(b.len, len);
        assert_non_null(strstr(why.reason, "not a bundle of 256 entries"));
    }
    gl_buf_reset(&b);
    assert_int_equal(gl_buf_append(&b, full.data, full.len - 1), 0);
    assert_int_equal(gl_tile_trim(&t, 1, &b, NULL), GL_EPARSE);
    t.width = 0;
    assert_int_equal(gl_tile_trim(&t, 1, &b, NULL), GL_EINVAL);
    gl_buf_release(&full);
    gl_buf_release(&b);
    gl_buf_release(&want);
}

static void test_fetch_fallback(void **state)
{
    struct gl_buf full, part, shortb, b;
    struct gl_tile t = {1, 0, 44}, whole = {1, 0, GL_TILE_WIDTH};
    struct copy c;
    struct gl_err why;
    (void)state;

    gl_buf_init(&full, (size_t)GL_TILE_WIDTH * HLEN);
    gl_buf_init(&part, (size_t)GL_TILE_WIDTH * HLEN);
    gl_buf_init(&shortb, (size_t)GL_TILE_WIDTH * HLEN);
    gl_buf_init(&b, 0);
    for (size_t i = 0; i < (size_t)GL_TILE_WIDTH * HLEN; i++)
        assert_int_equal(gl_buf_putc(&full, (uint8_t)(i * 7)), 0);
    assert_int_equal(gl_buf_append(&part, "other", 5), 0);
    assert_int_equal(gl_buf_append(&shortb, full.data, full.len - HLEN), 0);

    /* the partial tile is gone: the full one's first 44 hashes */
    memset(&c, 0, sizeof c);
    c.path[0] = "tile/0/001";
    c.body[0] = &full;
    c.n = 1;
    c.other = GL_ENOTFOUND;
    assert_int_equal(gl_tile_fetch(&t, 0, copy_get, &c, &b, &why), 0);
    assert_int_equal(c.nasked, 2);
    assert_string_equal(c.asked[0], "tile/0/001.p/44");
    assert_int_equal(c.max[0], 44 * HLEN);
    assert_string_equal(c.asked[1], "tile/0/001");
    assert_int_equal(c.max[1], (size_t)GL_TILE_WIDTH * HLEN);
    assert_int_equal(b.len, 44 * HLEN);
    assert_memory_equal(b.data, full.data, b.len);

    /* a bundle: the paths of data tiles (a hash tile is no bundle: refused) */
    c.path[0] = "tile/entries/001";
    c.nasked = 0;
    assert_int_equal(gl_tile_fetch(&t, 1, copy_get, &c, &b, &why), GL_EPARSE);
    assert_int_equal(c.nasked, 2);
    assert_string_equal(c.asked[0], "tile/entries/001.p/44");
    assert_int_equal(c.max[0], GL_TILE_BUNDLE_MAX);
    assert_string_equal(c.asked[1], "tile/entries/001");
    assert_int_equal(c.max[1], GL_TILE_BUNDLE_MAX);
    assert_non_null(strstr(why.reason, "tile/entries/001: "));

    /* a full tile shorter than a full tile is refused, never padded */
    c.path[0] = "tile/0/001";
    c.body[0] = &shortb;
    c.nasked = 0;
    assert_int_equal(gl_tile_fetch(&t, 0, copy_get, &c, &b, &why), GL_EPARSE);
    assert_non_null(strstr(why.reason, "tile/0/001: 8160 bytes, not a full tile"));

    /* the partial tile served: used as is, the full one never asked */
    c.path[1] = "tile/0/001.p/44";
    c.body[1] = &part;
    c.n = 2;
    c.nasked = 0;
    assert_int_equal(gl_tile_fetch(&t, 0, copy_get, &c, &b, &why), 0);
    assert_int_equal(c.nasked, 1);
    assert_int_equal(b.len, 5);

    /* only a 404 falls back: another failure is the answer */
    c.n = 1;
    c.body[0] = &full;
    c.other = GL_EIO;
    c.nasked = 0;
    assert_int_equal(gl_tile_fetch(&t, 0, copy_get, &c, &b, &why), GL_EIO);
    assert_int_equal(c.nasked, 1);

    /* both gone: not found; a full tile's 404 has nothing to fall back to */
    c.n = 0;
    c.other = GL_ENOTFOUND;
    c.nasked = 0;
    assert_int_equal(gl_tile_fetch(&t, 0, copy_get, &c, &b, &why), GL_ENOTFOUND);
    assert_int_equal(c.nasked, 2);
    c.nasked = 0;
    assert_int_equal(gl_tile_fetch(&whole, 0, copy_get, &c, &b, &why), GL_ENOTFOUND);
    assert_int_equal(c.nasked, 1);
    assert_string_equal(c.asked[0], "tile/0/001");

    gl_buf_release(&full);
    gl_buf_release(&part);
    gl_buf_release(&shortb);
    gl_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_format),
        cmocka_unit_test(test_path_roundtrip),
        cmocka_unit_test(test_path_malformed),
        cmocka_unit_test(test_path_refusals_say_why),
        cmocka_unit_test(test_math),
        cmocka_unit_test(test_tiles_for_proofs),
        cmocka_unit_test(test_bundle),
        cmocka_unit_test(test_tiles_1000),
        cmocka_unit_test(test_tile_source),
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_fetch_fallback),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

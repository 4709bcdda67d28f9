/*
 * test_subtree: lib/subtree.c and lib/mirror.c. Subtree consistency proofs
 * for every valid subtree of every tree up to 70 leaves (and sampled ones
 * around 1000), against a reference written from the draft's recursion
 * over the leaves with tu_mth (independent of lib/merkle.c), against
 * RFC 9162 consistency proofs for subtrees starting at 0, and refused
 * when any hash, the length, the node, the root or the bounds are wrong.
 * Then the tlog-mirror formats: headers, package bounds, packages cut at
 * every byte, mirror info.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "glasslog/buf.h"
#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/merkle.h"
#include "glasslog/mirror.h"
#include "glasslog/subtree.h"

#define HLEN 32
#define NLEAVES 1100

typedef uint8_t hash_t[HLEN];

static hash_t leaves[NLEAVES];

static void make_leaves(void)
{
    for (uint64_t i = 0; i < NLEAVES; i++)
        tu_ref_leaf(i, leaves[i]);
}

/* A hash source over the leaves: complete subtrees by tu_mth. */
static int leaf_read(void *ctx, const struct gl_node_id *ids, size_t n, hash_t *out)
{
    (void)ctx;
    for (size_t i = 0; i < n; i++) {
        uint64_t w = (uint64_t)1 << ids[i].level, lo = ids[i].index * w;
        if (lo + w > NLEAVES)
            return GL_ENOTFOUND;
        tu_mth((const hash_t *)leaves + lo, w, out[i]);
    }
    return 0;
}

static const struct gl_hash_source src = {leaf_read, NULL};

/* The draft's SUBTREE_SUBPROOF over leaves[lo .. lo + n), appended. */
static void ref_sub(uint64_t start, uint64_t end, uint64_t lo, uint64_t n, int known,
                    hash_t *out, size_t *len)
{
    if (start == 0 && end == n) {
        if (!known)
            tu_mth((const hash_t *)leaves + lo, n, out[(*len)++]);
        return;
    }
    uint64_t k = 1;
    while (k * 2 < n)
        k *= 2;
    if (end <= k) {
        ref_sub(start, end, lo, k, known, out, len);
        tu_mth((const hash_t *)leaves + lo + k, n - k, out[(*len)++]);
    } else if (start >= k) {
        ref_sub(start - k, end - k, lo + k, n - k, known, out, len);
        tu_mth((const hash_t *)leaves + lo, k, out[(*len)++]);
    } else {
        assert_int_equal(start, 0);
        ref_sub(0, end - k, lo + k, n - k, 0, out, len);
        tu_mth((const hash_t *)leaves + lo, k, out[(*len)++]);
    }
}

static void check_one(uint64_t s, uint64_t e, uint64_t n, int tamper)
{
    hash_t proof[GL_MERKLE_MAX_PROOF + 1], ref[GL_MERKLE_MAX_PROOF], node, root, bad;
    size_t len = 0, rlen = 0;

    assert_int_equal(gl_subtree_prove(&src, s, e, n, proof, &len), 0);
    ref_sub(s, e, 0, n, 1, ref, &rlen);
    assert_int_equal(len, rlen);
    assert_memory_equal(proof, ref, len * HLEN);
    tu_mth((const hash_t *)leaves + s, e - s, node);
    tu_mth((const hash_t *)leaves, n, root);
    hash_t node2;
    assert_int_equal(gl_subtree_hash((const hash_t *)leaves + s, e - s, node2), 0);
    assert_memory_equal(node, node2, HLEN);
    assert_int_equal(gl_subtree_verify(s, e, n, node, root, (const hash_t *)proof, len),
                     0);
    if (s == 0) { /* equals RFC 9162 PROOF(e, D_n) */
        hash_t cp[GL_MERKLE_MAX_PROOF];
        size_t clen;
        assert_int_equal(gl_merkle_prove_consistency(&src, e, n, cp, &clen), 0);
        assert_int_equal(clen, len);
        assert_memory_equal(cp, proof, len * HLEN);
    }
    if (!tamper)
        return;
    for (size_t i = 0; i < len; i++) {
        proof[i][i % HLEN] ^= 1;
        assert_int_equal(
            gl_subtree_verify(s, e, n, node, root, (const hash_t *)proof, len),
            GL_EVERIFY);
        proof[i][i % HLEN] ^= 1;
    }
    if (len > 0)
        assert_int_equal(
            gl_subtree_verify(s, e, n, node, root, (const hash_t *)proof, len - 1),
            GL_EVERIFY);
    memcpy(proof[len], root, HLEN);
    assert_int_equal(
        gl_subtree_verify(s, e, n, node, root, (const hash_t *)proof, len + 1),
        GL_EVERIFY);
    memcpy(bad, node, HLEN);
    bad[0] ^= 0x80;
    assert_int_equal(gl_subtree_verify(s, e, n, bad, root, (const hash_t *)proof, len),
                     GL_EVERIFY);
    memcpy(bad, root, HLEN);
    bad[31] ^= 1;
    assert_int_equal(gl_subtree_verify(s, e, n, node, bad, (const hash_t *)proof, len),
                     GL_EVERIFY);
    /* the same proof against the root of the tree one leaf larger */
    tu_mth((const hash_t *)leaves, n + 1, bad);
    assert_int_equal(
        gl_subtree_verify(s, e, n + 1, node, bad, (const hash_t *)proof, len),
        GL_EVERIFY);
}

static void test_valid(void **state)
{
    (void)state;
    assert_true(gl_subtree_valid(0, 1));
    assert_true(gl_subtree_valid(0, 7));
    assert_true(gl_subtree_valid(8, 12));
    assert_true(gl_subtree_valid(256, 300));
    assert_true(gl_subtree_valid(512, 768));
    assert_false(gl_subtree_valid(4, 4));
    assert_false(gl_subtree_valid(5, 4));
    assert_false(gl_subtree_valid(4, 9)); /* BIT_CEIL(5) = 8 does not divide 4 */
    assert_false(gl_subtree_valid(2, 5));
    assert_false(gl_subtree_valid(256, 600));
    assert_true(gl_subtree_valid(0, UINT64_MAX));
    assert_false(gl_subtree_valid(1, UINT64_MAX));
}

static void test_all_small(void **state)
{
    (void)state;
    make_leaves();
    size_t checked = 0;
    for (uint64_t n = 1; n <= 70; n++)
        for (uint64_t s = 0; s < n; s++)
            for (uint64_t e = s + 1; e <= n; e++) {
                if (!gl_subtree_valid(s, e))
                    continue;
                check_one(s, e, n, n % 3 == 0);
                checked++;
            }
    assert_true(checked > 5000);
}

static void test_packages_near_1000(void **state)
{
    (void)state;
    make_leaves();
    /* every package-shaped subtree of trees around 1000 (tiles-1000) */
    for (uint64_t n = 990; n <= 1030; n++)
        for (uint64_t b = 0; b < n; b += 256) {
            uint64_t e = b + 256 < n ? b + 256 : n;
            check_one(b, e, n, 1);
            if (e - b > 2)
                check_one(b, b + (e - b) / 2, n, 0);
        }
    /* the root of the reference tree at 1000, from the vectors */
    hash_t root, node;
    assert_int_equal(tu_ref_root(1000, root), 1);
    tu_mth((const hash_t *)leaves + 768, 232, node);
    hash_t proof[GL_MERKLE_MAX_PROOF];
    size_t len;
    assert_int_equal(gl_subtree_prove(&src, 768, 1000, 1000, proof, &len), 0);
    assert_int_equal(
        gl_subtree_verify(768, 1000, 1000, node, root, (const hash_t *)proof, len), 0);
}

static void test_refused_bounds(void **state)
{
    (void)state;
    make_leaves();
    hash_t proof[GL_MERKLE_MAX_PROOF], h = {0};
    size_t len;
    assert_int_equal(gl_subtree_prove(&src, 4, 9, 20, proof, &len), GL_ERANGE);
    assert_int_equal(gl_subtree_prove(&src, 0, 21, 20, proof, &len), GL_ERANGE);
    struct gl_hash_source unreadable = src;
    unreadable.read = NULL;
    assert_int_equal(gl_subtree_prove(&unreadable, 0, 8, 20, proof, &len), GL_EINVAL);
    assert_int_equal(gl_subtree_prove(&src, 3, 3, 20, proof, &len), GL_ERANGE);
    assert_int_equal(gl_subtree_prove(&src, 0, 8, NLEAVES + 1, proof, &len),
                     GL_ENOTFOUND);
    assert_int_equal(gl_subtree_verify(4, 9, 20, h, h, (const hash_t *)proof, 0),
                     GL_ERANGE);
    assert_int_equal(gl_subtree_verify(0, 21, 20, h, h, (const hash_t *)proof, 0),
                     GL_ERANGE);
    assert_int_equal(gl_subtree_verify(0, 8, 20, h, h, (const hash_t *)proof, 65),
                     GL_EVERIFY);
}

/* ---- tlog-mirror formats
 * ------------------------------------------------------------------ */

static void test_header(void **state)
{
    (void)state;
    struct gl_buf b;
    struct gl_mirror_upload u;
    size_t used;
    struct gl_err why;
    gl_buf_init(&b, 1 << 20);
    assert_int_equal(gl_mirror_upload_encode("example.com/log", 15, 300, 1000,
                                             (const uint8_t *)"tk", 2, &b),
                     0);
    /* 2 + 15 + 8 + 8 + 2 + 2 */
    assert_int_equal(b.len, 37);
    assert_int_equal(b.data[0], 0);
    assert_int_equal(b.data[1], 15);
    assert_int_equal(b.data[17 + 6], 0x01); /* 300 = 0x012c */
    assert_int_equal(b.data[17 + 7], 0x2c);
    assert_int_equal(gl_mirror_upload_parse(b.data, b.len, &u, &used, &why), 0);
    assert_int_equal(used, 37);
    assert_int_equal(u.origin_len, 15);
    assert_memory_equal(u.origin, "example.com/log", 15);
    assert_int_equal(u.start, 300);
    assert_int_equal(u.end, 1000);
    assert_int_equal(u.ticket_len, 2);
    for (size_t cut = 0; cut < b.len; cut++)
        tu_expect_why(gl_mirror_upload_parse(b.data, cut, &u, &used, &why), &why,
                      GL_EPARSE, 0, "truncated");
    gl_buf_reset(&b);
    assert_int_equal(gl_mirror_upload_encode("o", 1, 5, 4, NULL, 0, &b), GL_EINVAL);
    /* start > end on the wire */
    const uint8_t raw[] = {0, 1, 'o', 0, 0, 0, 0, 0, 0, 0, 5,
                           0, 0, 0,   0, 0, 0, 0, 4, 0, 0};
    tu_expect_why(gl_mirror_upload_parse(raw, sizeof raw, &u, &used, &why), &why,
                  GL_EPARSE, 0, "above upload_end");
    gl_buf_release(&b);
}

static void test_bounds(void **state)
{
    (void)state;
    struct gl_mirror_package p;
    assert_int_equal(gl_mirror_npackages(0, 0), 0);
    assert_int_equal(gl_mirror_npackages(7, 7), 0);
    assert_int_equal(gl_mirror_npackages(0, 256), 1);
    assert_int_equal(gl_mirror_npackages(0, 257), 2);
    assert_int_equal(gl_mirror_npackages(300, 1000), 3);
    assert_int_equal(gl_mirror_npackages(255, 256), 1);
    const uint64_t want[3][3] = {{256, 300, 512}, {512, 512, 768}, {768, 768, 1000}};
    for (uint64_t i = 0; i < 3; i++) {
        assert_int_equal(gl_mirror_package_bounds(300, 1000, i, &p), 0);
        assert_int_equal(p.subtree_start, want[i][0]);
        assert_int_equal(p.start, want[i][1]);
        assert_int_equal(p.end, want[i][2]);
    }
    assert_int_equal(gl_mirror_package_bounds(300, 1000, 3, &p), GL_ERANGE);
    assert_int_equal(gl_mirror_package_bounds(10, 20, 0, &p), 0);
    assert_int_equal(p.subtree_start, 0);
    assert_int_equal(p.start, 10);
    assert_int_equal(p.end, 20);
}

static void test_package(void **state)
{
    (void)state;
    struct gl_tile_entry e[3] = {
        {(const uint8_t *)"a", 1}, {(const uint8_t *)"", 0}, {(const uint8_t *)"ccc", 3}};
    hash_t proof[2];
    memset(proof[0], 0x11, HLEN);
    memset(proof[1], 0x22, HLEN);
    struct gl_buf b;
    gl_buf_init(&b, 1 << 20);
    assert_int_equal(gl_mirror_package_encode(e, 3, (const hash_t *)proof, 2, &b), 0);
    assert_int_equal(b.len, 3 + 2 + 5 + 1 + 64);
    struct gl_mirror_package p;
    size_t used;
    struct gl_err why;
    assert_int_equal(gl_mirror_package_bounds(7, 10, 0, &p), 0);
    assert_int_equal(gl_mirror_package_parse(b.data, b.len, &p, &used, &why), 0);
    assert_int_equal(used, b.len);
    assert_int_equal(p.entries[2].len, 3);
    assert_memory_equal(p.entries[2].data, "ccc", 3);
    assert_int_equal(p.entries[1].len, 0);
    assert_int_equal(p.nproof, 2);
    assert_memory_equal(p.proof[1], proof[1], HLEN);
    for (size_t cut = 0; cut < b.len; cut++)
        tu_expect_why(gl_mirror_package_parse(b.data, cut, &p, &used, &why), &why,
                      GL_EPARSE, 0, "truncated package");
    /* 64 hashes */
    b.data[3 + 2 + 5] = 64;
    tu_expect_why(gl_mirror_package_parse(b.data, b.len, &p, &used, &why), &why,
                  GL_ERANGE, 0, "64 hashes");
    gl_buf_reset(&b);
    assert_int_equal(gl_mirror_package_encode(e, 0, NULL, 0, &b), GL_EINVAL);
    assert_int_equal(gl_mirror_package_encode(e, 1, (const hash_t *)proof, 64, &b),
                     GL_EINVAL);
    gl_buf_release(&b);
}

static void test_info(void **state)
{
    (void)state;
    struct gl_buf b;
    gl_buf_init(&b, 1 << 16);
    assert_int_equal(gl_mirror_info_format(1000, 768, NULL, 0, &b), 0);
    assert_int_equal(b.len, 10);
    assert_memory_equal(b.data, "1000\n768\n\n", 10);
    uint64_t size, next;
    uint8_t t[GL_MIRROR_TICKET_MAX];
    size_t tl;
    struct gl_err why;
    assert_int_equal(gl_mirror_info_parse((const char *)b.data, b.len, &size, &next, t,
                                          sizeof t, &tl, &why),
                     0);
    assert_int_equal(size, 1000);
    assert_int_equal(next, 768);
    assert_int_equal(tl, 0);
    gl_buf_reset(&b);
    assert_int_equal(gl_mirror_info_format(5, 0, (const uint8_t *)"xyz", 3, &b), 0);
    assert_memory_equal(b.data, "5\n0\neHl6\n", 9);
    assert_int_equal(gl_mirror_info_parse((const char *)b.data, b.len, &size, &next, t,
                                          sizeof t, &tl, &why),
                     0);
    assert_int_equal(tl, 3);
    assert_memory_equal(t, "xyz", 3);
    const char *bad[] = {"5\n0\n",    "5\n0\n\nx",  "05\n0\n\n",
                         "5\n-1\n\n", "5\n0\n!!\n", "x\n0\n\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(gl_mirror_info_parse(bad[i], strlen(bad[i]), &size, &next, t,
                                              sizeof t, &tl, &why),
                         GL_EPARSE);
    gl_buf_release(&b);
}

/* Mirror info of n ticket bytes (all 0xa5) into b: "7\n3\n" base64 "\n". */
static void info_of(struct gl_buf *b, size_t n)
{
    uint8_t *t = malloc(n + 1);
    size_t bl = gl_base64_len(n);
    char *b64 = malloc(bl + 1);
    assert_non_null(t);
    assert_non_null(b64);
    memset(t, 0xa5, n);
    assert_int_equal(gl_base64_encode(t, n, b64, bl + 1), 0);
    gl_buf_reset(b);
    assert_int_equal(gl_buf_printf(b, "7\n3\n%s\n", b64), 0);
    free(t);
    free(b64);
}

/* Any mirror's ticket may be as long as the request's u16 allows (65535
 * bytes, whose info body is 87,385 bytes here): a client takes it into a
 * buffer of GL_MIRROR_PEER_TICKET_MAX and sends it back; one byte more
 * is refused by name, and so is one over a smaller buffer; nothing is
 * written on a failure. */
static void test_info_peer_ticket(void **state)
{
    (void)state;
    struct gl_buf b, up;
    uint8_t *t = malloc(GL_MIRROR_PEER_TICKET_MAX);
    uint64_t size, next;
    size_t tl, used;
    struct gl_err why;
    struct gl_mirror_upload u;
    assert_non_null(t);
    gl_buf_init(&b, 1 << 20);
    gl_buf_init(&up, 1 << 20);
    const size_t ok[] = {4000, GL_MIRROR_PEER_TICKET_MAX};
    for (size_t i = 0; i < 2; i++) {
        info_of(&b, ok[i]);
        assert_true(b.len <= GL_MIRROR_PEER_INFO_MAX);
        memset(t, 0, GL_MIRROR_PEER_TICKET_MAX);
        assert_int_equal(gl_mirror_info_parse((const char *)b.data, b.len, &size, &next,
                                              t, GL_MIRROR_PEER_TICKET_MAX, &tl, &why),
                         0);
        assert_int_equal(size, 7);
        assert_int_equal(next, 3);
        assert_int_equal(tl, ok[i]);
        for (size_t j = 0; j < tl; j++)
            assert_int_equal(t[j], 0xa5);
        /* and it goes back whole in the request header */
        gl_buf_reset(&up);
        assert_int_equal(gl_mirror_upload_encode("o", 1, 3, 7, t, tl, &up), 0);
        assert_int_equal(up.len, 2 + 1 + 16 + 2 + tl);
        assert_int_equal((up.data[19] << 8) | up.data[20], tl);
        assert_memory_equal(up.data + 21, t, tl);
    }
    /* this mirror's own parser still takes only its own tickets */
    tu_expect_why(gl_mirror_upload_parse(up.data, up.len, &u, &used, &why), &why,
                  GL_ETOOBIG, 0, "ticket of 65535 bytes (at most 2048)");
    assert_int_equal(gl_mirror_upload_encode("o", 1, 3, 7, t,
                                             (size_t)GL_MIRROR_PEER_TICKET_MAX + 1, &up),
                     GL_EINVAL);
    /* over the cap: refused, nothing written */
    info_of(&b, (size_t)GL_MIRROR_PEER_TICKET_MAX + 1);
    assert_true(b.len <= GL_MIRROR_PEER_INFO_MAX);
    memset(t, 0x11, GL_MIRROR_PEER_TICKET_MAX);
    size = next = tl = 99;
    tu_expect_why(gl_mirror_info_parse((const char *)b.data, b.len, &size, &next, t,
                                       GL_MIRROR_PEER_TICKET_MAX, &tl, &why),
                  &why, GL_ETOOBIG, 3, "ticket of 65536 bytes (at most 65535)");
    tu_expect_why(gl_mirror_info_parse((const char *)b.data, b.len, &size, &next, NULL,
                                       GL_MIRROR_PEER_TICKET_MAX, NULL, &why),
                  &why, GL_ETOOBIG, 3, "ticket of 65536 bytes (at most 65535)");
    assert_int_equal(size, 99);
    assert_int_equal(next, 99);
    assert_int_equal(tl, 99);
    for (size_t j = 0; j < GL_MIRROR_PEER_TICKET_MAX; j++)
        assert_int_equal(t[j], 0x11);
    /* a buffer smaller than the ticket: refused, whatever the cap */
    info_of(&b, 4000);
    tu_expect_why(gl_mirror_info_parse((const char *)b.data, b.len, &size, &next, t,
                                       GL_MIRROR_TICKET_MAX, &tl, &why),
                  &why, GL_ETOOBIG, 3, "ticket of 4000 bytes (at most 2048)");
    assert_int_equal(gl_mirror_info_parse((const char *)b.data, b.len, &size, &next, t,
                                          (size_t)GL_MIRROR_PEER_TICKET_MAX + 1, &tl,
                                          &why),
                     GL_EINVAL);
    /* a bad character late in a long ticket: nothing written */
    info_of(&b, GL_MIRROR_PEER_TICKET_MAX);
    b.data[b.len - 10] = '!';
    tu_expect_why(gl_mirror_info_parse((const char *)b.data, b.len, &size, &next, t,
                                       GL_MIRROR_PEER_TICKET_MAX, &tl, &why),
                  &why, GL_EPARSE, 3, "ticket is not base64");
    assert_int_equal(tl, 99);
    for (size_t j = 0; j < GL_MIRROR_PEER_TICKET_MAX; j++)
        assert_int_equal(t[j], 0x11);
    /* a body longer than any mirror's info */
    gl_buf_reset(&b);
    assert_int_equal(gl_buf_printf(&b, "7\n3\n"), 0);
    while (b.len < (size_t)GL_MIRROR_PEER_INFO_MAX)
        assert_int_equal(gl_buf_append(&b, "AAAA", 4), 0);
    assert_int_equal(gl_buf_putc(&b, '\n'), 0);
    tu_expect_why(gl_mirror_info_parse((const char *)b.data, b.len, &size, &next, NULL,
                                       GL_MIRROR_PEER_TICKET_MAX, NULL, &why),
                  &why, GL_ETOOBIG, 0, "mirror info of");
    gl_buf_release(&b);
    gl_buf_release(&up);
    free(t);
}

static void test_ticket(void **state)
{
    (void)state;
    uint8_t key[GL_MIRROR_TICKET_KEY], oh[GL_HASH_LEN], root[GL_HASH_LEN];
    static const char note[] = "example.com/log\n1600\nroot\n\nsig line\n";
    struct gl_mirror_ticket t;
    struct gl_err why;
    struct gl_buf b;
    memset(key, 7, sizeof key);
    memset(oh, 9, sizeof oh);
    memset(root, 0x22, sizeof root);
    gl_buf_init(&b, GL_MIRROR_TICKET_MAX);
    assert_int_equal(
        gl_mirror_ticket_seal(key, oh, 1600, root, note, sizeof note - 1, &b), 0);
    assert_int_equal(b.len, GL_MIRROR_TICKET_OVERHEAD + sizeof note - 1);
    assert_int_equal(b.data[0], 1);
    assert_int_equal(gl_mirror_ticket_open(key, oh, b.data, b.len, &t, &why), 0);
    assert_true(t.size == 1600);
    assert_memory_equal(t.root, root, GL_HASH_LEN);
    assert_int_equal(t.note_len, sizeof note - 1);
    assert_memory_equal(t.note, note, sizeof note - 1);
    /* another origin, another key, one bit changed anywhere, cut short */
    oh[0] ^= 1;
    assert_int_equal(gl_mirror_ticket_open(key, oh, b.data, b.len, &t, &why), GL_EVERIFY);
    oh[0] ^= 1;
    key[31] ^= 1;
    assert_int_equal(gl_mirror_ticket_open(key, oh, b.data, b.len, &t, &why), GL_EVERIFY);
    key[31] ^= 1;
    for (size_t i = 1; i < b.len; i++) {
        b.data[i] ^= 0x10;
        assert_int_equal(gl_mirror_ticket_open(key, oh, b.data, b.len, &t, &why),
                         GL_EVERIFY);
        b.data[i] ^= 0x10;
    }
    b.data[0] = 2;
    assert_int_equal(gl_mirror_ticket_open(key, oh, b.data, b.len, &t, &why), GL_EPARSE);
    b.data[0] = 1;
    assert_int_equal(gl_mirror_ticket_open(key, oh, b.data, b.len - 1, &t, &why),
                     GL_EVERIFY);
    assert_int_equal(
        gl_mirror_ticket_open(key, oh, b.data, GL_MIRROR_TICKET_OVERHEAD - 1, &t, &why),
        GL_EPARSE);
    assert_int_equal(
        gl_mirror_ticket_open(key, oh, b.data, GL_MIRROR_TICKET_MAX + 1, &t, &why),
        GL_ETOOBIG);
    /* the longest note fits; one byte more does not, and appends nothing */
    char *big = calloc(1, GL_MIRROR_TICKET_NOTE_MAX + 1);
    assert_non_null(big);
    gl_buf_reset(&b);
    assert_int_equal(
        gl_mirror_ticket_seal(key, oh, 5, root, big, GL_MIRROR_TICKET_NOTE_MAX, &b), 0);
    assert_int_equal(b.len, GL_MIRROR_TICKET_MAX);
    assert_int_equal(gl_mirror_ticket_open(key, oh, b.data, b.len, &t, &why), 0);
    gl_buf_reset(&b);
    assert_int_equal(
        gl_mirror_ticket_seal(key, oh, 5, root, big, GL_MIRROR_TICKET_NOTE_MAX + 1, &b),
        GL_ETOOBIG);
    assert_int_equal(b.len, 0);
    free(big);
    gl_buf_release(&b);
}

/* Packing add-entries bodies: 32 packages of 256 entries of 32 KiB would
 * be 256 MiB; gl_mirror_body_room stops the body past 16 MiB, within
 * GL_MIRROR_BODY_BUILT, and always lets the first package in. */
static void test_body_room(void **state)
{
    (void)state;
    struct gl_tile_entry *e = calloc(GL_MIRROR_PACKAGE, sizeof *e);
    uint8_t *data = calloc(1, 32 << 10);
    struct gl_buf b;
    uint64_t n = 0;
    assert_non_null(e);
    assert_non_null(data);
    for (size_t i = 0; i < GL_MIRROR_PACKAGE; i++) {
        e[i].data = data;
        e[i].len = 32 << 10;
    }
    gl_buf_init(&b, GL_MIRROR_BODY_BUILT);
    assert_int_equal(gl_mirror_upload_encode("o", 1, 0, 32 * 256, NULL, 0, &b), 0);
    for (; n < 32 && gl_mirror_body_room(b.len, n, 32); n++)
        assert_int_equal(gl_mirror_package_encode(e, GL_MIRROR_PACKAGE, NULL, 0, &b), 0);
    assert_int_equal(n, 2); /* 8 MiB each: the second passes 16 MiB */
    assert_true(b.len <= GL_MIRROR_BODY_BUILT);
    assert_true(b.len <= GL_MIRROR_BODY_BUILT);
    /* the first package always; the count cap; small bodies fill it */
    assert_int_equal(gl_mirror_body_room((size_t)1 << 30, 0, 32), 1);
    assert_int_equal(gl_mirror_body_room((size_t)1 << 30, 1, 32), 0);
    assert_int_equal(gl_mirror_body_room(100, 31, 32), 1);
    assert_int_equal(gl_mirror_body_room(100, 32, 32), 0);
    assert_int_equal(gl_mirror_body_room(100, 1, 1), 0);
    gl_buf_release(&b);
    free(data);
    free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_all_small),
        cmocka_unit_test(test_packages_near_1000),
        cmocka_unit_test(test_refused_bounds),
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_ticket),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_package),
        cmocka_unit_test(test_info),
        cmocka_unit_test(test_info_peer_ticket),
        cmocka_unit_test(test_body_room),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * subtree: subtree consistency proofs (include/glasslog/subtree.h).
 *
 * Generation and verification follow the header's recursion literally.
 * The right-hand ranges MTH(D[lo + k : lo + n]) that the recursion needs
 * are runs of complete subtrees (one per set bit of n - k, largest first,
 * because lo + k is a multiple of a power of two at least n - k), read
 * from the hash source in one call and folded from the right.
 * Invariants: every range handled has lo a multiple of BIT_CEIL(n), so
 * each run is aligned; the verifier checks the proof length by using it
 * up exactly and compares hashes in constant time.
 */
#include "glasslog/subtree.h"

#include <assert.h>
#include <string.h>

#include <openssl/crypto.h>

#include "glasslog/error.h"

#define HLEN GL_HASH_LEN

/* Largest power of two strictly below n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
    uint64_t k = 1;
    assert(n >= 2);
    while (k < n - k)
        k <<= 1;
    return k;
}

int gl_subtree_valid(uint64_t start, uint64_t end)
{
    if (start >= end)
        return 0;
    uint64_t w = end - start, c = 1;
    while (c < w) {
        if (c > ((uint64_t)1 << 62))
            return start == 0; /* BIT_CEIL is 2^64: only start 0 */
        c <<= 1;
    }
    return start % c == 0;
}

int gl_subtree_hash(const uint8_t (*leaves)[HLEN], size_t n, uint8_t out[HLEN])
{
    if (n == 0 || leaves == NULL || (uint64_t)n > ((uint64_t)1 << 32))
        return GL_EINVAL;
    if (n == 1) {
        memcpy(out, leaves[0], HLEN);
        return 0;
    }
    size_t k = (size_t)split_point(n);
    uint8_t l[HLEN], r[HLEN];
    int rc = gl_subtree_hash(leaves, k, l);
    if (rc == 0)
        rc = gl_subtree_hash(leaves + k, n - k, r);
    if (rc == 0)
        rc = gl_merkle_node_hash(l, r, out);
    return rc;
}

/* MTH of leaves [lo, lo + n) from src: the complete subtrees of the run,
 * largest first, folded from the right. */
static int range_hash(const struct gl_hash_source *src, uint64_t lo, uint64_t n,
                      uint8_t out[HLEN])
{
    struct gl_node_id ids[64];
    uint8_t h[64][HLEN];
    size_t c = 0;
    uint64_t at = lo;

    for (int b = 63; b >= 0; b--) {
        if (!(n >> b & 1))
            continue;
        ids[c].level = (uint32_t)b;
        ids[c].index = at >> b;
        at += (uint64_t)1 << b;
        c++;
    }
    int rc = src->read(src->ctx, ids, c, h);
    if (rc != 0)
        return rc < 0 ? rc : GL_EIO;
    for (size_t i = c - 1; i > 0; i--) {
        rc = gl_merkle_node_hash(h[i - 1], h[i], h[i - 1]);
        if (rc != 0)
            return rc;
    }
    memcpy(out, h[0], HLEN);
    return 0;
}

struct gen {
    const struct gl_hash_source *src;
    uint8_t (*proof)[HLEN];
    size_t len;
};

/* SUB(start, end, D[lo : lo + n], known), appended to g->proof. */
static int gen_rec(struct gen *g, uint64_t start, uint64_t end, uint64_t lo, uint64_t n,
                   int known)
{
    int rc;
    if (start == 0 && end == n) {
        if (known)
            return 0;
        if (g->len >= GL_MERKLE_MAX_PROOF)
            return GL_ERANGE;
        return range_hash(g->src, lo, n, g->proof[g->len++]);
    }
    uint64_t k = split_point(n);
    if (end <= k) {
        rc = gen_rec(g, start, end, lo, k, known);
        if (rc == 0 && g->len >= GL_MERKLE_MAX_PROOF)
            rc = GL_ERANGE;
        if (rc == 0)
            rc = range_hash(g->src, lo + k, n - k, g->proof[g->len++]);
        return rc;
    }
    if (start >= k)
        rc = gen_rec(g, start - k, end - k, lo + k, n - k, known);
    else
        rc = gen_rec(g, 0, end - k, lo + k, n - k, 0);
    if (rc == 0 && g->len >= GL_MERKLE_MAX_PROOF)
        rc = GL_ERANGE;
    if (rc == 0)
        rc = range_hash(g->src, lo, k, g->proof[g->len++]);
    return rc;
}

int gl_subtree_prove(const struct gl_hash_source *src, uint64_t start, uint64_t end,
                     uint64_t size, uint8_t (*proof)[HLEN], size_t *len)
{
    if (src == NULL || src->read == NULL || proof == NULL || len == NULL)
        return GL_EINVAL;
    if (!gl_subtree_valid(start, end) || end > size || size > GL_MERKLE_MAX_SIZE)
        return GL_ERANGE;
    uint8_t tmp[GL_MERKLE_MAX_PROOF][HLEN];
    struct gen g = {src, tmp, 0};
    int rc = gen_rec(&g, start, end, 0, size, 1);
    if (rc != 0)
        return rc;
    memcpy(proof, tmp, g.len * HLEN);
    *len = g.len;
    return 0;
}

struct ver {
    const uint8_t (*proof)[HLEN];
    size_t left; /* proof[0 .. left) not used yet; taken from the end */
    const uint8_t *node;
};

/* Recomputes (sub, root) of SUB(start, end, D_n, known). */
static int ver_rec(struct ver *v, uint64_t start, uint64_t end, uint64_t n, int known,
                   uint8_t sub[HLEN], uint8_t root[HLEN])
{
    if (start == 0 && end == n) {
        const uint8_t *h = v->node;
        if (!known) {
            if (v->left == 0)
                return GL_EVERIFY;
            h = v->proof[--v->left];
        }
        memcpy(sub, h, HLEN);
        memcpy(root, h, HLEN);
        return 0;
    }
    if (v->left == 0)
        return GL_EVERIFY;
    const uint8_t *sib = v->proof[--v->left];
    uint64_t k = split_point(n);
    uint8_t r[HLEN];
    int rc;
    if (end <= k) {
        rc = ver_rec(v, start, end, k, known, sub, r);
        return rc != 0 ? rc : gl_merkle_node_hash(r, sib, root);
    }
    if (start >= k) {
        rc = ver_rec(v, start - k, end - k, n - k, known, sub, r);
        return rc != 0 ? rc : gl_merkle_node_hash(sib, r, root);
    }
    uint8_t s[HLEN];
    rc = ver_rec(v, 0, end - k, n - k, 0, s, r);
    if (rc == 0)
        rc = gl_merkle_node_hash(sib, s, sub);
    if (rc == 0)
        rc = gl_merkle_node_hash(sib, r, root);
    return rc;
}

int gl_subtree_verify(uint64_t start, uint64_t end, uint64_t size,
                      const uint8_t node[HLEN], const uint8_t root[HLEN],
                      const uint8_t (*proof)[HLEN], size_t len)
{
    if (node == NULL || root == NULL || (proof == NULL && len != 0))
        return GL_EINVAL;
    if (!gl_subtree_valid(start, end) || end > size || size > GL_MERKLE_MAX_SIZE)
        return GL_ERANGE;
    if (len > GL_MERKLE_MAX_PROOF)
        return GL_EVERIFY;
    struct ver v = {proof, len, node};
    uint8_t sub[HLEN], r[HLEN];
    int rc = ver_rec(&v, start, end, size, 1, sub, r);
    if (rc != 0)
        return rc;
    if (v.left != 0 || CRYPTO_memcmp(sub, node, HLEN) != 0 ||
        CRYPTO_memcmp(r, root, HLEN) != 0)
        return GL_EVERIFY;
    return 0;
}

/*
 * merkle: RFC 9162 2.1 Merkle tree hashing, proofs and verification.
 *
 * Design and invariants.
 *
 * Node ids. Every hash a proof needs is the Merkle Tree Hash of a range of
 * leaves D[lo:hi] where lo is a multiple of the smallest power of two
 * >= hi - lo (true of [0, size) and preserved by RFC 9162's split at k,
 * the largest power of two below the width). Such a range is a run of
 * complete subtrees, one per set bit of hi - lo, largest first, each
 * aligned; its hash folds them right to left:
 *     MTH(D[lo:hi]) = H(c0, H(c1, ... H(c(k-2), c(k-1))))
 * A range with hi - lo a power of two is one complete subtree. Only the
 * ranges touching the right edge of the tree can be incomplete, and RFC
 * 9162's PATH and SUBPROOF output at most one of them, so a proof needs at
 * most 64 + 63 complete subtrees (GL_MERKLE_MAX_NODES).
 *
 * Proof generation is two steps: a "plan" lists the proof's ranges
 * (walking RFC 9162's recursion iteratively from the root, then reversed
 * so the leaf's side comes first), then the plan is expanded to complete
 * subtree ids, read from the hash source in one batch, and folded.
 *
 * Compact range. edge[L] holds the complete subtree at level L ending the
 * tree for each set bit L of size. Appending carries like a binary counter
 * increment: one node hash per trailing 1 bit of the old size (one on
 * average). New nodes are computed into locals and the range is written
 * only when the whole append succeeded.
 *
 * Verification is RFC 9162 2.1.3.2 / 2.1.4.2 step by step, preceded by the
 * exact expected proof length (inner + border, plus the consistency proof's
 * seed when m is not a power of two), so no hashing happens for a proof of
 * the wrong shape. Hash comparisons use CRYPTO_memcmp. No allocation.
 */
#include "glasslog/merkle.h"

#include <assert.h>
#include <string.h>

#include <openssl/crypto.h>

#include "glasslog/error.h"

#define HLEN GL_HASH_LEN
/* Ranges in a plan: a proof's hashes, plus headroom for the check. */
#define PLAN_MAX (GL_MERKLE_MAX_PROOF + 2)

static const uint8_t empty_root[HLEN] = {
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
    0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
    0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
};

/* The leaf ranges a proof or root is made of, in output order. */
struct merkle_plan {
    size_t n;
    uint64_t lo[PLAN_MAX];
    uint64_t hi[PLAN_MAX];
};

/* Number of bits needed for x (0 for 0). */
static unsigned bitlen64(uint64_t x)
{
    return x == 0 ? 0 : 64 - (unsigned)__builtin_clzll(x);
}

static unsigned popcount64(uint64_t x)
{
    return (unsigned)__builtin_popcountll(x);
}

/* Largest power of two strictly below w (w >= 2): RFC 9162's k. */
static uint64_t split_point(uint64_t w)
{
    unsigned b = bitlen64(w - 1);

    return b == 0 ? 0 : (uint64_t)1 << (b - 1); /* 0: never, w < 2 */
}

static int hash_equal(const uint8_t a[HLEN], const uint8_t b[HLEN])
{
    return CRYPTO_memcmp(a, b, HLEN) == 0;
}

int gl_merkle_leaf_hash(const void *data, size_t n, uint8_t out[GL_HASH_LEN])
{
    return gl_sha256_3(0x00, data, n, NULL, 0, out);
}

int gl_merkle_node_hash(const uint8_t left[GL_HASH_LEN], const uint8_t right[GL_HASH_LEN],
                        uint8_t out[GL_HASH_LEN])
{
    return gl_sha256_3(0x01, left, HLEN, right, HLEN, out);
}

void gl_merkle_empty_root(uint8_t out[GL_HASH_LEN])
{
    memcpy(out, empty_root, HLEN);
}

/* ---- compact range ------------------------------------------------------ */

void gl_merkle_range_init(struct gl_merkle_range *r)
{
    memset(r, 0, sizeof(*r));
}

/* Tells fn (if any) about a completed subtree; a positive code is GL_EIO. */
static int report(gl_merkle_node_fn fn, void *ctx, const struct gl_node_id *id,
                  const uint8_t hash[HLEN])
{
    int err = fn != NULL ? fn(ctx, id, hash) : 0;

    return err > 0 ? GL_EIO : err;
}

int gl_merkle_range_append(struct gl_merkle_range *r,
                           const uint8_t leaf_hash[GL_HASH_LEN], gl_merkle_node_fn fn,
                           void *ctx)
{
    uint8_t tmp[2][HLEN];
    const uint8_t *cur = leaf_hash;
    struct gl_node_id id;
    uint64_t size, carry;
    unsigned level = 0;
    int err;

    if (r->size >= GL_MERKLE_MAX_SIZE)
        return GL_EOVERFLOW;
    size = r->size + 1;
    id.level = 0;
    id.index = r->size;
    if ((err = report(fn, ctx, &id, cur)) != 0)
        return err;
    for (carry = r->size; carry & 1; carry >>= 1) {
        uint8_t *next = tmp[level & 1];
        err = gl_sha256_3(0x01, r->edge[level], HLEN, cur, HLEN, next);
        if (err != 0)
            return err;
        cur = next;
        level++;
        id.level = level;
        id.index = (size >> level) - 1;
        if ((err = report(fn, ctx, &id, cur)) != 0)
            return err;
    }
    assert(level < GL_MERKLE_MAX_HEIGHT && (size >> level & 1) == 1);
    memcpy(r->edge[level], cur, HLEN);
    r->size = size;
    return 0;
}

int gl_merkle_range_root(const struct gl_merkle_range *r, uint8_t root[GL_HASH_LEN])
{
    uint8_t acc[HLEN];
    unsigned level;
    int err;

    if (r->size == 0) {
        memcpy(root, empty_root, HLEN);
        return 0;
    }
    level = (unsigned)__builtin_ctzll(r->size);
    memcpy(acc, r->edge[level], HLEN);
    for (level++; level < GL_MERKLE_MAX_HEIGHT; level++) {
        if (((r->size >> level) & 1) == 0)
            continue;
        err = gl_sha256_3(0x01, r->edge[level], HLEN, acc, HLEN, acc);
        if (err != 0)
            return err;
    }
    memcpy(root, acc, HLEN);
    return 0;
}

/* ---- plans: which leaf ranges a proof is made of ------------------------- */

static int plan_push(struct merkle_plan *p, uint64_t lo, uint64_t hi)
{
    if (p->n >= PLAN_MAX)
        return GL_ERANGE;
    p->lo[p->n] = lo;
    p->hi[p->n] = hi;
    p->n++;
    return 0;
}

/* The walk pushes the root's side first; proofs list the leaf's first. */
static int plan_finish(struct merkle_plan *p)
{
    size_t i, j;

    if (p->n > GL_MERKLE_MAX_PROOF)
        return GL_ERANGE;
    for (i = 0, j = p->n; i + 1 < j; i++, j--) {
        uint64_t lo = p->lo[i], hi = p->hi[i];
        p->lo[i] = p->lo[j - 1];
        p->hi[i] = p->hi[j - 1];
        p->lo[j - 1] = lo;
        p->hi[j - 1] = hi;
    }
    return 0;
}

/* RFC 9162 2.1.3.1 PATH(index, D[0:size]). */
static int plan_inclusion(uint64_t index, uint64_t size, struct merkle_plan *p)
{
    uint64_t lo = 0, hi = size, k;
    int err;

    p->n = 0;
    if (index >= size || size > GL_MERKLE_MAX_SIZE)
        return GL_ERANGE;
    while (hi - lo > 1) {
        k = split_point(hi - lo);
        if (index - lo < k) {
            err = plan_push(p, lo + k, hi);
            hi = lo + k;
        } else {
            err = plan_push(p, lo, lo + k);
            lo += k;
        }
        if (err != 0)
            return err;
    }
    return plan_finish(p);
}

/* RFC 9162 2.1.4.1 PROOF(m, D[0:size]) = SUBPROOF(m, D[0:size], true);
 * empty when m == 0 or m == size (formats.md). */
static int plan_consistency(uint64_t m, uint64_t size, struct merkle_plan *p)
{
    uint64_t lo = 0, hi = size, k;
    int whole = 1, err = 0;

    p->n = 0;
    if (m > size || size > GL_MERKLE_MAX_SIZE)
        return GL_ERANGE;
    if (m == 0 || m == size)
        return 0;
    while (err == 0) {
        if (m == hi) {
            if (!whole)
                err = plan_push(p, lo, hi);
            break;
        }
        k = split_point(hi - lo);
        if (m - lo <= k) {
            err = plan_push(p, lo + k, hi);
            hi = lo + k;
        } else {
            err = plan_push(p, lo, lo + k);
            lo += k;
            whole = 0;
        }
    }
    return err != 0 ? err : plan_finish(p);
}

/* Complete subtrees of the aligned range [lo, hi), largest first. */
static size_t range_nodes(uint64_t lo, uint64_t hi, struct gl_node_id *ids)
{
    uint64_t rem = hi - lo, x = lo;
    size_t n = 0;

    /* aligned: lo is a multiple of the smallest power of two >= hi - lo */
    assert(lo <= hi &&
           (rem <= 1 || (lo & ((UINT64_C(1) << bitlen64(rem - 1)) - 1)) == 0));
    while (rem != 0) {
        unsigned level = bitlen64(rem) - 1;
        ids[n].level = level;
        ids[n].index = x >> level;
        n++;
        x += (uint64_t)1 << level;
        rem -= (uint64_t)1 << level;
    }
    return n;
}

/* All node ids of a plan; cnt[i] = how many belong to range i. */
static int plan_nodes(const struct merkle_plan *p, struct gl_node_id *ids, size_t *n,
                      uint8_t *cnt)
{
    struct gl_node_id tmp[GL_MERKLE_MAX_HEIGHT];
    size_t i, c, total = 0;

    for (i = 0; i < p->n; i++) {
        c = range_nodes(p->lo[i], p->hi[i], tmp);
        if (total + c > GL_MERKLE_MAX_NODES)
            return GL_ERANGE;
        memcpy(ids + total, tmp, c * sizeof(tmp[0]));
        if (cnt != NULL)
            cnt[i] = (uint8_t)c;
        total += c;
    }
    *n = total;
    return 0;
}

/* Folds n >= 1 node hashes (largest subtree first) into one range hash. */
static int fold_range(const uint8_t (*h)[HLEN], size_t n, uint8_t out[HLEN])
{
    uint8_t acc[HLEN];
    size_t i;
    int err;

    memcpy(acc, h[n - 1], HLEN);
    for (i = n - 1; i > 0; i--) {
        err = gl_sha256_3(0x01, h[i - 1], HLEN, acc, HLEN, acc);
        if (err != 0)
            return err;
    }
    memcpy(out, acc, HLEN);
    return 0;
}

static int source_read(const struct gl_hash_source *src, const struct gl_node_id *ids,
                       size_t n, uint8_t (*out)[HLEN])
{
    int err;

    if (n == 0)
        return 0;
    if (src == NULL || src->read == NULL)
        return GL_EINVAL;
    err = src->read(src->ctx, ids, n, out);
    return err > 0 ? GL_EIO : err;
}

/* Reads a plan's nodes and writes the hash of range i to out[i]. */
static int plan_run(const struct merkle_plan *p, const struct gl_hash_source *src,
                    uint8_t (*out)[HLEN])
{
    struct gl_node_id ids[GL_MERKLE_MAX_NODES];
    uint8_t hashes[GL_MERKLE_MAX_NODES][HLEN];
    uint8_t cnt[PLAN_MAX];
    size_t n, i, at = 0;
    int err;

    err = plan_nodes(p, ids, &n, cnt);
    if (err == 0)
        err = source_read(src, ids, n, hashes);
    for (i = 0; err == 0 && i < p->n; i++) {
        err = fold_range((const uint8_t(*)[HLEN])(hashes + at), cnt[i], out[i]);
        at += cnt[i];
    }
    return err;
}

static int plan_root(uint64_t size, struct merkle_plan *p)
{
    p->n = 0;
    if (size > GL_MERKLE_MAX_SIZE)
        return GL_ERANGE;
    return size > 0 ? plan_push(p, 0, size) : 0;
}

int gl_merkle_root_nodes(uint64_t size, struct gl_node_id *ids, size_t *n)
{
    struct merkle_plan p;
    int err = plan_root(size, &p);

    return err != 0 ? err : plan_nodes(&p, ids, n, NULL);
}

int gl_merkle_inclusion_nodes(uint64_t index, uint64_t size, struct gl_node_id *ids,
                              size_t *n)
{
    struct merkle_plan p;
    int err = plan_inclusion(index, size, &p);

    return err != 0 ? err : plan_nodes(&p, ids, n, NULL);
}

int gl_merkle_consistency_nodes(uint64_t m, uint64_t size, struct gl_node_id *ids,
                                size_t *n)
{
    struct merkle_plan p;
    int err = plan_consistency(m, size, &p);

    return err != 0 ? err : plan_nodes(&p, ids, n, NULL);
}

int gl_merkle_root_at(const struct gl_hash_source *src, uint64_t size,
                      uint8_t root[GL_HASH_LEN])
{
    struct merkle_plan p;
    uint8_t out[1][HLEN];
    int err;

    if (size == 0) {
        memcpy(root, empty_root, HLEN);
        return 0;
    }
    err = plan_root(size, &p);
    if (err == 0)
        err = plan_run(&p, src, out);
    if (err == 0)
        memcpy(root, out[0], HLEN);
    return err;
}

int gl_merkle_range_load(struct gl_merkle_range *r, uint64_t size,
                         const struct gl_hash_source *src)
{
    struct gl_node_id ids[GL_MERKLE_MAX_HEIGHT];
    uint8_t hashes[GL_MERKLE_MAX_HEIGHT][HLEN];
    size_t n, i;
    int err;

    err = gl_merkle_root_nodes(size, ids, &n);
    if (err == 0)
        err = source_read(src, ids, n, hashes);
    if (err != 0)
        return err;
    gl_merkle_range_init(r);
    for (i = 0; i < n; i++)
        memcpy(r->edge[ids[i].level], hashes[i], HLEN);
    r->size = size;
    return 0;
}

static int prove(const struct merkle_plan *p, const struct gl_hash_source *src,
                 uint8_t (*proof)[GL_HASH_LEN], size_t *len)
{
    uint8_t out[GL_MERKLE_MAX_PROOF][HLEN];
    int err = plan_run(p, src, out);

    if (err != 0)
        return err;
    if (p->n > 0)
        memcpy(proof, out, p->n * HLEN);
    *len = p->n;
    return 0;
}

int gl_merkle_prove_inclusion(const struct gl_hash_source *src, uint64_t index,
                              uint64_t size, uint8_t (*proof)[GL_HASH_LEN], size_t *len)
{
    struct merkle_plan p;
    int err = plan_inclusion(index, size, &p);

    return err != 0 ? err : prove(&p, src, proof, len);
}

int gl_merkle_prove_consistency(const struct gl_hash_source *src, uint64_t m,
                                uint64_t size, uint8_t (*proof)[GL_HASH_LEN], size_t *len)
{
    struct merkle_plan p;
    int err = plan_consistency(m, size, &p);

    return err != 0 ? err : prove(&p, src, proof, len);
}

/* ---- verification ---------------------------------------------------------- */

/* RFC 9162 2.1.3.2's proof shape: where the paths to index and size - 1
 * diverge (inner) and the left siblings above (border). index < size. */
static void decompose(uint64_t index, uint64_t size, unsigned *inner, unsigned *border)
{
    *inner = bitlen64(index ^ (size - 1));
    *border = *inner >= 64 ? 0 : popcount64(index >> *inner);
}

int gl_merkle_inclusion_len(uint64_t index, uint64_t size, size_t *len)
{
    unsigned inner, border;

    if (index >= size || size > GL_MERKLE_MAX_SIZE)
        return GL_ERANGE;
    decompose(index, size, &inner, &border);
    *len = inner + border;
    return 0;
}

int gl_merkle_consistency_len(uint64_t m, uint64_t size, size_t *len)
{
    unsigned inner, border, shift;

    if (m > size || size > GL_MERKLE_MAX_SIZE)
        return GL_ERANGE;
    if (m == 0 || m == size) {
        *len = 0;
        return 0;
    }
    decompose(m - 1, size, &inner, &border);
    shift = (unsigned)__builtin_ctzll(m);
    /* inner > shift: m - 1 and size - 1 differ above bit shift. */
    *len = (m == (uint64_t)1 << shift ? 0 : 1) + (inner - shift) + border;
    return 0;
}

/* Right-shifts fn and sn together until fn is odd or zero. */
static void shift_to_odd(uint64_t *fn, uint64_t *sn)
{
    while ((*fn & 1) == 0 && *fn != 0) {
        *fn >>= 1;
        *sn >>= 1;
    }
}

int gl_merkle_root_from_inclusion(uint64_t index, uint64_t size,
                                  const uint8_t leaf_hash[GL_HASH_LEN],
                                  const uint8_t (*proof)[GL_HASH_LEN], size_t len,
                                  uint8_t root[GL_HASH_LEN])
{
    uint8_t r[HLEN];
    uint64_t fn, sn;
    size_t want, i;
    int err;

    err = gl_merkle_inclusion_len(index, size, &want); /* step 1 */
    if (err != 0)
        return err;
    if (len != want)
        return GL_EVERIFY;
    fn = index; /* step 2 */
    sn = size - 1;
    memcpy(r, leaf_hash, HLEN); /* step 3 */
    for (i = 0; i < len; i++) { /* step 4 */
        if (sn == 0)
            return GL_EVERIFY;
        if ((fn & 1) || fn == sn) {
            err = gl_sha256_3(0x01, proof[i], HLEN, r, HLEN, r);
            if ((fn & 1) == 0)
                shift_to_odd(&fn, &sn);
        } else {
            err = gl_sha256_3(0x01, r, HLEN, proof[i], HLEN, r);
        }
        if (err != 0)
            return err;
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0) /* step 5 */
        return GL_EVERIFY;
    memcpy(root, r, HLEN);
    return 0;
}

int gl_merkle_verify_inclusion(uint64_t index, uint64_t size,
                               const uint8_t leaf_hash[GL_HASH_LEN],
                               const uint8_t (*proof)[GL_HASH_LEN], size_t len,
                               const uint8_t root[GL_HASH_LEN])
{
    uint8_t got[HLEN];
    int err;

    err = gl_merkle_root_from_inclusion(index, size, leaf_hash, proof, len, got);
    if (err != 0)
        return err;
    return hash_equal(got, root) ? 0 : GL_EVERIFY;
}

/* The cases RFC 9162 leaves out: m == 0 and m == size (formats.md). */
static int verify_trivial(uint64_t m, uint64_t size, const uint8_t root1[HLEN],
                          const uint8_t root2[HLEN], size_t len)
{
    if (len != 0)
        return GL_EVERIFY;
    if (m == 0 && !hash_equal(root1, empty_root))
        return GL_EVERIFY;
    if (m == size && !hash_equal(root1, root2))
        return GL_EVERIFY;
    return 0;
}

/* RFC 9162 2.1.4.2 steps 3-8 over path = seed || rest. */
static int verify_chain(uint64_t m, uint64_t size, const uint8_t seed[HLEN],
                        const uint8_t (*rest)[HLEN], size_t nrest,
                        const uint8_t root1[HLEN], const uint8_t root2[HLEN])
{
    uint8_t fr[HLEN], sr[HLEN];
    uint64_t fn = m - 1, sn = size - 1;
    size_t i;
    int err = 0, ok;

    while (fn & 1) { /* step 4 */
        fn >>= 1;
        sn >>= 1;
    }
    memcpy(fr, seed, HLEN); /* step 5 */
    memcpy(sr, seed, HLEN);
    for (i = 0; i < nrest; i++) { /* step 6 */
        if (sn == 0)
            return GL_EVERIFY;
        if ((fn & 1) || fn == sn) {
            err = gl_sha256_3(0x01, rest[i], HLEN, fr, HLEN, fr);
            if (err == 0)
                err = gl_sha256_3(0x01, rest[i], HLEN, sr, HLEN, sr);
            if ((fn & 1) == 0)
                shift_to_odd(&fn, &sn);
        } else {
            err = gl_sha256_3(0x01, sr, HLEN, rest[i], HLEN, sr);
        }
        if (err != 0)
            return err;
        fn >>= 1;
        sn >>= 1;
    }
    /* step 7: check both roots (no early exit) and sn */
    ok = hash_equal(fr, root1);
    ok &= hash_equal(sr, root2);
    return ok && sn == 0 ? 0 : GL_EVERIFY;
}

int gl_merkle_verify_consistency(uint64_t m, uint64_t size,
                                 const uint8_t root1[GL_HASH_LEN],
                                 const uint8_t root2[GL_HASH_LEN],
                                 const uint8_t (*proof)[GL_HASH_LEN], size_t len)
{
    size_t want;
    int err;

    err = gl_merkle_consistency_len(m, size, &want);
    if (err != 0)
        return err;
    if (m == 0 || m == size)
        return verify_trivial(m, size, root1, root2, len);
    if (len == 0 || len != want) /* step 1, and the length pre-check */
        return GL_EVERIFY;
    if ((m & (m - 1)) == 0) /* step 2: m is a power of two: seed = root1 */
        return verify_chain(m, size, root1, proof, len, root1, root2);
    return verify_chain(m, size, proof[0], proof + 1, len - 1, root1, root2);
}

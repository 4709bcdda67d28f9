/*
 * merkle: the RFC 9162 section 2.1 Merkle tree with H = SHA-256.
 *
 *   leaf hash  H(0x00 || data)         node hash  H(0x01 || left || right)
 *   empty root H("")
 *
 * Three parts:
 *  - the compact range (struct gl_merkle_range): the right edge of a tree,
 *    one hash per set bit of the size, to which leaf hashes are appended and
 *    from which the root is read at any time. It reports every complete
 *    subtree it finishes, so the log can store them (as tiles).
 *  - proof generation from a hash source that only knows complete subtrees
 *    (struct gl_node_id: level L, index N = root of leaves
 *    [N * 2^L, (N + 1) * 2^L)); ephemeral right-edge nodes are folded from
 *    complete subtrees. The *_nodes functions list the ids a proof needs, so
 *    a caller can prefetch (e.g. the tiles holding them).
 *  - verification, exactly RFC 9162 2.1.3.2 (inclusion) and 2.1.4.2
 *    (consistency), with the proof length checked before any hashing.
 *    Verification never allocates.
 *
 * Sizes and indices are uint64_t; trees hold at most GL_MERKLE_MAX_SIZE
 * (2^63) leaves, so that no proof has more than GL_MERKLE_MAX_PROOF (64)
 * hashes (a consistency proof into a tree of 2^64 - 1 leaves can need 65);
 * larger sizes are refused with GL_ERANGE. Every function returns 0 or a negative GL_E*
 * code; GL_EVERIFY means "this proof does not prove this claim".
 */
#ifndef GLASSLOG_MERKLE_H
#define GLASSLOG_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/sha256.h"

#define GL_MERKLE_MAX_SIZE ((uint64_t)1 << 63) /* leaves in a tree */
#define GL_MERKLE_MAX_HEIGHT 64                /* levels of a compact range */
#define GL_MERKLE_MAX_PROOF 64  /* hashes in any inclusion/consistency proof */
#define GL_MERKLE_MAX_NODES 128 /* complete subtrees any one proof needs */

/* A complete subtree: root of leaves [index << level, (index + 1) << level).
 * level is 0..63 and (index + 1) << level must not exceed 2^64. */
struct gl_node_id {
    uint64_t index;
    uint32_t level;
};

/* Where proof generation gets complete-subtree hashes from. read() fills
 * out[i] with the hash of ids[i] for i < n (1 <= n <= GL_MERKLE_MAX_NODES)
 * and returns 0, or returns a negative GL_E* code (GL_ENOTFOUND if a node is
 * unknown), which the caller passes on (a positive return counts as
 * GL_EIO). ids and out belong to the caller
 * and are only valid during the call; ids has no duplicates. */
struct gl_hash_source {
    int (*read)(void *ctx, const struct gl_node_id *ids, size_t n,
                uint8_t (*out)[GL_HASH_LEN]);
    void *ctx;
};

/* The right edge of a tree of `size` leaves: edge[L] is the root of the
 * complete subtree (L, (size >> L) - 1) for each bit L set in size; the
 * other entries are unspecified. A plain value: copy it to snapshot it. */
struct gl_merkle_range {
    uint64_t size;
    uint8_t edge[GL_MERKLE_MAX_HEIGHT][GL_HASH_LEN];
};

/* Told about each complete subtree an append finishes (the leaf itself at
 * level 0 first, then each new parent, lowest level first). id and hash
 * are only valid during the call. Returns 0, or a negative GL_E* code that
 * aborts the append (a positive return counts as GL_EIO). */
typedef int (*gl_merkle_node_fn)(void *ctx, const struct gl_node_id *id,
                                 const uint8_t hash[GL_HASH_LEN]);

/* Hashes: results in caller-owned out; GL_ECRYPTO if OpenSSL fails. */
int gl_merkle_leaf_hash(const void *data, size_t n, uint8_t out[GL_HASH_LEN]);
int gl_merkle_node_hash(const uint8_t left[GL_HASH_LEN], const uint8_t right[GL_HASH_LEN],
                        uint8_t out[GL_HASH_LEN]);
/* The root of the empty tree, SHA-256(""), a constant. */
void gl_merkle_empty_root(uint8_t out[GL_HASH_LEN]);

/* --- compact range ----------------------------------------------------- */

/* Makes r the empty tree. No allocation; nothing to release. */
void gl_merkle_range_init(struct gl_merkle_range *r);
/* Makes r the right edge of the tree of `size` leaves, reading its
 * popcount(size) complete subtrees from src. r is unchanged on error;
 * GL_ERANGE if size > GL_MERKLE_MAX_SIZE. */
int gl_merkle_range_load(struct gl_merkle_range *r, uint64_t size,
                         const struct gl_hash_source *src);
/* Appends one leaf hash: one leaf, on average one node hash. fn (may be
 * NULL) hears of each subtree completed, with ctx. If fn fails, its code is
 * returned and r is unchanged (fn may have seen some nodes of the aborted
 * append). GL_EOVERFLOW when r->size is already GL_MERKLE_MAX_SIZE. */
int gl_merkle_range_append(struct gl_merkle_range *r,
                           const uint8_t leaf_hash[GL_HASH_LEN], gl_merkle_node_fn fn,
                           void *ctx);
/* The root of the tree r describes (H("") when empty) into root. */
int gl_merkle_range_root(const struct gl_merkle_range *r, uint8_t root[GL_HASH_LEN]);

/* --- which complete subtrees a computation needs ------------------------ */
/* Each fills the caller's ids[] (GL_MERKLE_MAX_NODES entries) with distinct
 * node ids, in the order the matching function reads them, and sets *n.
 * GL_ERANGE for an impossible (index, size) or (m, size) pair, same
 * conditions as the matching prove function. In all functions below, a
 * size above GL_MERKLE_MAX_SIZE is GL_ERANGE. */
int gl_merkle_root_nodes(uint64_t size, struct gl_node_id *ids, size_t *n);
int gl_merkle_inclusion_nodes(uint64_t index, uint64_t size, struct gl_node_id *ids,
                              size_t *n);
int gl_merkle_consistency_nodes(uint64_t m, uint64_t size, struct gl_node_id *ids,
                                size_t *n);

/* --- proof generation from a hash source -------------------------------- */
/* Each makes one src->read() call (none when nothing is needed). proof is
 * the caller's array of GL_MERKLE_MAX_PROOF hashes; *len gets the count.
 * Outputs are written only on success. */

/* Root of the tree of `size` leaves (H("") for 0). */
int gl_merkle_root_at(const struct gl_hash_source *src, uint64_t size,
                      uint8_t root[GL_HASH_LEN]);
/* RFC 9162 PATH(index, D[0:size]): leaf's sibling first. GL_ERANGE if
 * index >= size. */
int gl_merkle_prove_inclusion(const struct gl_hash_source *src, uint64_t index,
                              uint64_t size, uint8_t (*proof)[GL_HASH_LEN], size_t *len);
/* RFC 9162 PROOF(m, D[0:size]); empty when m == 0 or m == size. GL_ERANGE
 * if m > size. */
int gl_merkle_prove_consistency(const struct gl_hash_source *src, uint64_t m,
                                uint64_t size, uint8_t (*proof)[GL_HASH_LEN],
                                size_t *len);

/* --- verification (no allocation; all inputs borrowed) ------------------ */

/* Expected inclusion proof length for (index, size), index < size:
 * inner + border as in RFC 9162 2.1.3.2. GL_ERANGE if index >= size. */
int gl_merkle_inclusion_len(uint64_t index, uint64_t size, size_t *len);
/* Expected consistency proof length for m -> size (0 when m == 0 or
 * m == size). GL_ERANGE if m > size. */
int gl_merkle_consistency_len(uint64_t m, uint64_t size, size_t *len);

/* The root implied by leaf_hash at index in a tree of `size` leaves and
 * its inclusion proof (len hashes). GL_ERANGE if index >= size, GL_EVERIFY
 * if the proof has the wrong length. */
int gl_merkle_root_from_inclusion(uint64_t index, uint64_t size,
                                  const uint8_t leaf_hash[GL_HASH_LEN],
                                  const uint8_t (*proof)[GL_HASH_LEN], size_t len,
                                  uint8_t root[GL_HASH_LEN]);
/* 0 if proof proves leaf_hash is leaf `index` of the tree (size, root);
 * GL_ERANGE if index >= size, GL_EVERIFY otherwise. */
int gl_merkle_verify_inclusion(uint64_t index, uint64_t size,
                               const uint8_t leaf_hash[GL_HASH_LEN],
                               const uint8_t (*proof)[GL_HASH_LEN], size_t len,
                               const uint8_t root[GL_HASH_LEN]);
/* 0 if proof proves the tree (m, root1) is a prefix of (size, root2).
 * GL_ERANGE if m > size, GL_EVERIFY otherwise. Edge cases: m == size needs
 * an empty proof and equal roots; m == 0 needs an empty proof and root1 ==
 * H("") (root2 is then unconstrained); a size-0 root must be H(""). */
int gl_merkle_verify_consistency(uint64_t m, uint64_t size,
                                 const uint8_t root1[GL_HASH_LEN],
                                 const uint8_t root2[GL_HASH_LEN],
                                 const uint8_t (*proof)[GL_HASH_LEN], size_t len);

#endif

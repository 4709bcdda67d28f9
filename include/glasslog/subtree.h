/*
 * subtree: subtrees and subtree consistency proofs (Merkle Tree
 * Certificates draft, "Subtrees"), as C2SP tlog-mirror uses them to
 * authenticate entry packages.
 *
 * A subtree [start, end) of a tree is valid when start < end and start is
 * a multiple of BIT_CEIL(end - start); its hash is the RFC 9162 MTH of
 * leaves start .. end - 1. SUBTREE_PROOF(start, end, D_n) is defined
 * recursively, like RFC 9162's PROOF(m, D_n), with k the largest power of
 * two below n:
 *
 *   SUB(start, end, D_n, known):
 *     start == 0, end == n:  {} if known, else {MTH(D_n)}
 *     end <= k:              SUB(start, end, D[0:k], known) : MTH(D[k:n])
 *     start >= k:            SUB(start - k, end - k, D[k:n], known) : MTH(D[0:k])
 *     else (start == 0):     SUB(0, end - k, D[k:n], false) : MTH(D[0:k])
 *   SUBTREE_PROOF(start, end, D_n) = SUB(start, end, D_n, true)
 *
 * Verification walks the same recursion from the top, taking the proof
 * from its end, and recomputes both the subtree hash and the root; the
 * proof must be used up exactly. It never allocates; recursion depth is
 * at most 64. All functions return 0 or a negative GL_E* code
 * (GL_EVERIFY: the proof does not prove the claim; GL_ERANGE: not a valid
 * subtree of a tree of that size).
 */
#ifndef GLASSLOG_SUBTREE_H
#define GLASSLOG_SUBTREE_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/merkle.h"

/* 1 if [start, end) is a valid subtree (see above), else 0. */
int gl_subtree_valid(uint64_t start, uint64_t end);

/* RFC 9162 MTH of n (1..2^32) leaf hashes, borrowed; into out. */
int gl_subtree_hash(const uint8_t (*leaves)[GL_HASH_LEN], size_t n,
                    uint8_t out[GL_HASH_LEN]);

/* SUBTREE_PROOF(start, end, D_size) from the complete subtrees src knows,
 * into the caller's proof[GL_MERKLE_MAX_PROOF]; *len gets the count.
 * GL_ERANGE if [start, end) is not a valid subtree with end <= size. */
int gl_subtree_prove(const struct gl_hash_source *src, uint64_t start, uint64_t end,
                     uint64_t size, uint8_t (*proof)[GL_HASH_LEN], size_t *len);

/* 0 if proof (len hashes, borrowed) proves that node is the hash of
 * subtree [start, end) of the tree (size, root); GL_ERANGE for an invalid
 * subtree or end > size, GL_EVERIFY otherwise. */
int gl_subtree_verify(uint64_t start, uint64_t end, uint64_t size,
                      const uint8_t node[GL_HASH_LEN], const uint8_t root[GL_HASH_LEN],
                      const uint8_t (*proof)[GL_HASH_LEN], size_t len);

#endif

/*
 * evidence: glasslog split-view evidence files (specs/evidence.md is
 * normative). A file holds two checkpoints signed by one log and, when
 * their sizes differ, a consistency proof in "full" form; anyone holding
 * the log's verifier key can check that the pair is impossible for an
 * honest log:
 *
 *   glasslog.dev/evidence/v1\n
 *   [<base64 hash>\n]...             full proof, smaller size -> larger
 *   \n
 *   <signed checkpoint note 1>       the smaller size (or, for equal
 *   \n                                sizes, the smaller root)
 *   <signed checkpoint note 2>
 *
 * The full proof of 0 < m < n is the RFC 9162 consistency proof m -> n,
 * preceded by the root of the first m leaves when m is a power of two
 * (RFC 9162 leaves that hash out and uses the old root instead). Run
 * through RFC 9162 2.1.4.2, it yields a root for size m and one for size
 * n; when the size-n root is the one the log signed, the size-m root is
 * (by collision resistance) the true root of the first m entries of that
 * tree, so if it differs from the signed size-m root, the log signed two
 * trees that are not prefixes of one another: a split view.
 *
 * Everything here is pure (no I/O) and bounded: files at most
 * GL_EVIDENCE_MAX_SIZE bytes, at most GL_EVIDENCE_MAX_PROOF proof lines,
 * notes with the limits of note.h and checkpoint.h. Hash comparisons are
 * constant-time.
 */
#ifndef GLASSLOG_EVIDENCE_H
#define GLASSLOG_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/buf.h"
#include "glasslog/checkpoint.h"
#include "glasslog/error.h"
#include "glasslog/key.h"
#include "glasslog/merkle.h"

#define GL_EVIDENCE_MAGIC "glasslog.dev/evidence/v1"
#define GL_EVIDENCE_MAX_SIZE ((size_t)256 << 10)
#define GL_EVIDENCE_MAX_PROOF (GL_MERKLE_MAX_PROOF + 1)

/* What a file proves. */
enum gl_evidence_kind {
    GL_EVIDENCE_NONE = 0,      /* nothing (consistent, or invalid) */
    GL_EVIDENCE_SAME_SIZE = 1, /* one size, two roots */
    GL_EVIDENCE_NOT_PREFIX = 2 /* the smaller tree is not a prefix */
};

/* A parsed file: views into the caller's bytes, which must outlive it. */
struct gl_evidence {
    const char *note[2];
    size_t note_len[2];
    size_t nproof;
    uint8_t proof[GL_EVIDENCE_MAX_PROOF][GL_HASH_LEN];
};

/* The outcome of gl_evidence_verify, filled as far as it got. */
struct gl_evidence_result {
    enum gl_evidence_kind kind; /* NONE unless a split view is proven */
    int consistent;             /* 1: both checkpoints are valid and consistent */
    char origin[GL_CHECKPOINT_ORIGIN_MAX + 1];
    char signer[GL_KEY_NAME_MAX + 1]; /* the name of the keys that signed */
    uint32_t key_id[2];               /* the key ID of a verified signature on each */
    int one_key;                      /* 1 if keys[key] alone verifies both checkpoints */
    size_t key;
    uint64_t size[2]; /* size[0] <= size[1] */
    uint8_t root[2][GL_HASH_LEN];
    uint8_t implied[GL_HASH_LEN]; /* NOT_PREFIX: the true root of the
                                   * first size[0] entries of tree 2 */
    struct gl_err why;            /* what the file proves, or why it proves
                                   * nothing (one sentence; a line of the
                                   * file when a note in it is malformed) */
};

/* Parses a file (syntax only: notes are not opened). GL_ETOOBIG past the
 * caps, GL_EPARSE otherwise, with why (may be NULL) naming the problem
 * and its line. *out points into msg. */
int gl_evidence_parse(const char *msg, size_t len, struct gl_evidence *out,
                      struct gl_err *why);

/* Checks what e (from gl_evidence_parse) proves against the log's
 * verifier keys (GL_KEY_NOTE; a log may have several during a key
 * rotation; nkeys >= 1). Every signature of keys that verifies, on both
 * checkpoints, must be by keys of one name (r->signer; a log's rotated
 * keys share it): checkpoints signed by two logs' keys blame neither.
 * keys must all be one log's: keys of one name are not told apart by
 * their names, so r also says which key signed what: r->key_id[i] is
 * the key ID of a signature that verified on checkpoint i, and r->one_key
 * is 1 if one key, keys[r->key], verifies both (its public key: never
 * taken from a name and a 32-bit ID alone). A caller that cannot vouch
 * that its keys of one name are one log's (a user's list) requires
 * one_key: otherwise the pair may be two logs' checkpoints.
 * Returns 0 only if e proves a split view (r->kind
 * says which); GL_EVERIFY if it proves none: r->consistent tells "valid
 * and consistent" from "invalid". r->why explains in every case.
 * GL_ENOMEM/GL_ECRYPTO/GL_EINVAL on failures. */
int gl_evidence_verify(const struct gl_evidence *e, const struct gl_verifier *keys,
                       size_t nkeys, struct gl_evidence_result *r);

/* Builds the canonical file for two signed checkpoint notes of one log
 * (any order) and the full proof from the smaller size to the larger
 * (nproof 0 for equal sizes). Signature lines other than the log keys'
 * are dropped and the log keys' are written anew in canonical base64 (a
 * line read with non-zero unused bits comes out with zero ones), so two
 * witnesses that catch the same pair write the same bytes, however the
 * notes were encoded. Appends the file to out only if it proves a split view (checked
 * with gl_evidence_verify, whose result goes to *r unless r is NULL, so a
 * caller needs no second check); GL_EVERIFY otherwise, out unchanged. */
int gl_evidence_build(const struct gl_verifier *keys, size_t nkeys, const char *note1,
                      size_t len1, const char *note2, size_t len2,
                      const uint8_t (*proof)[GL_HASH_LEN], size_t nproof,
                      struct gl_buf *out, struct gl_evidence_result *r);

/* Runs a full proof for 0 < m < n through RFC 9162 2.1.4.2 and gives the
 * two roots it implies. GL_ERANGE unless 0 < m < n <= GL_MERKLE_MAX_SIZE;
 * GL_EVERIFY if len is not the full-proof length. No allocation. */
int gl_evidence_roots(uint64_t m, uint64_t n, const uint8_t (*proof)[GL_HASH_LEN],
                      size_t len, uint8_t root_m[GL_HASH_LEN],
                      uint8_t root_n[GL_HASH_LEN]);

/* Makes the full proof for 0 < m < n from an RFC 9162 proof (len hashes):
 * copies it into full (GL_EVIDENCE_MAX_PROOF entries), prepending root_m
 * when m is a power of two. GL_ERANGE/GL_EVERIFY on a bad length. */
int gl_evidence_full_proof(uint64_t m, uint64_t n, const uint8_t root_m[GL_HASH_LEN],
                           const uint8_t (*proof)[GL_HASH_LEN], size_t len,
                           uint8_t (*full)[GL_HASH_LEN], size_t *nfull);

/* The file's ID: lowercase hex SHA-256 of its bytes, into
 * hex[GL_HASH_HEX_LEN + 1]. It names a pair only when msg is the canonical
 * file (gl_evidence_build's): a witness rebuilds a file before keeping it. */
int gl_evidence_id(const char *msg, size_t len, char hex[GL_HASH_HEX_LEN + 1]);

#endif

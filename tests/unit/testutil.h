/*
 * testutil: helpers shared by the cmocka unit tests: locating and reading
 * the public test vectors (tests/vectors, or $GL_VECTORS), the reference
 * tree of tests/vectors/README.md, an independent Merkle root, temporary
 * directories.
 */
#ifndef GL_TESTUTIL_H
#define GL_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/* Checks made on a thread other than cmocka's (a server's, a client's),
 * where a failed assert would not reach the test: recorded, then
 * reported and asserted on the test's thread. */
#define TU_CHECKS_MAX 16
struct tu_checks {
    int checks, failures;
    char failed[TU_CHECKS_MAX][320]; /* the first failures, "line N: what" */
};
/* Counts one check; a failed one (ok 0) is recorded. Returns ok. */
int tu_check(struct tu_checks *c, int ok, const char *what, int line);
/* Prints the recorded failures (cmocka's print_error); returns how many
 * checks failed. */
int tu_checks_report(const struct tu_checks *c);

/* The vectors directory (no trailing slash). */
const char *tu_vectors(void);
/* Reads VECTORS/rel into a NUL-terminated malloc'd buffer (caller frees);
 * fails the test if missing. *len may be NULL. */
char *tu_read_vector(const char *rel, size_t *len);
/* Reads any file; NULL if it cannot. Caller frees. */
char *tu_read_file(const char *path, size_t *len);
/* Decodes 32-byte base64; fails the test on error. */
void tu_b64_hash(const char *b64, uint8_t out[32]);
/* Re-encodes the first signature line after offset from in the signed
 * note(s) of msg (len bytes; the line of a 68-byte Ed25519 blob, which
 * ends in "=") with an unused bit of its last base64 group set: the same
 * signature to Go's sumdb/note and to gl_note_parse, other bytes. Fails
 * the test if there is no such line. */
void tu_b64_noncanonical_sig(char *msg, size_t len, size_t from);
/* Parses VECTORS/rel as a signer / verifier key; fails the test if not. */
struct gl_buf;
struct gl_signer;
struct gl_verifier;
void tu_load_signer(const char *rel, struct gl_signer *s);
void tu_load_verifier(const char *rel, struct gl_verifier *v);
/* Generates a fresh key named name of type (GL_KEY_NOTE or GL_KEY_COSIG)
 * and writes its verifier key text (NUL-terminated) to out, which has max
 * bytes; fails the test if it does not fit. */
void tu_gen_vkey(const char *name, uint8_t type, char *out, size_t max);
/* Writes s's verifier key text (NUL-terminated) to out, which has max
 * bytes; fails the test if it does not fit. */
void tu_vkey_text(const struct gl_signer *s, char *out, size_t max);
/* Writes to out (max bytes, NUL included; fails the test if it does not
 * fit) the verifier key text of a key of another kind than Ed25519:
 * "<name>+<id>+base64(type || klen pseudo-random bytes from *seed)", its
 * ID recomputed here, independently of lib/key.c, as the first 4 bytes of
 * SHA-256(name || "\n" || type || key). E.g. ML-DSA-44-shaped: type 0x06,
 * 1312 bytes. Returns the text's length. */
size_t tu_foreign_vkey(const char *name, uint8_t type, size_t klen, uint64_t *seed,
                       char *out, size_t max);
/* Decimal of v into buf (>= 21 bytes), NUL-terminated; returns its length. */
size_t tu_u64_dec(uint64_t v, char *buf);
/* Deterministic pseudo-random numbers for reproducible "random" tests. */
uint64_t tu_rand(uint64_t *state);
/* A parser's refusal: got (its return code) must be rc, and why must name
 * line and carry a reason containing `reason`; fails the test otherwise,
 * printing what it got. */
struct gl_err;
void tu_expect_why(int got, const struct gl_err *why, int rc, size_t line,
                   const char *reason);

/* The leaf hash of leaf i of the reference tree (leaf i is the ASCII
 * decimal of i, tests/vectors/README.md). */
void tu_ref_leaf(uint64_t i, uint8_t out[32]);
/* The root of the reference tree at `size`, from tree/roots.txt; 1 if the
 * vectors have it, else 0 (out untouched). */
int tu_ref_root(uint64_t size, uint8_t out[32]);
/* Appends a build statement (include/glasslog/statement.h) about artifact
 * k to out, signed by sub: subject and version as given, sha256 =
 * SHA-256 of "artifact <k>" (also written to sha256 if not NULL), time
 * 1700000000 + k. Fails the test if signing fails. */
void tu_statement(const struct gl_signer *sub, const char *subject, const char *version,
                  uint64_t k, struct gl_buf *out, uint8_t sha256[32]);
/* A case of tree/inclusion.txt (a = index, b = tree size, with the leaf
 * hash) or tree/consistency.txt (a = m, b = n): the proof, len hashes. */
struct tu_proof_case {
    uint64_t a, b;
    uint8_t leaf[32];
    size_t len;
    uint8_t proof[64][32];
};
/* Reads the cases of such a file (with_leaf: inclusion.txt) into
 * out[cap]; returns how many. Fails the test on a malformed file. */
size_t tu_read_proofs(const char *rel, int with_leaf, struct tu_proof_case *out,
                      size_t cap);
/* RFC 9162 MTH of the n leaf hashes (SHA-256 of 0x01 || left || right,
 * split at the largest power of two below n; SHA-256("") for n = 0),
 * computed recursively: a reference independent of lib/merkle.c's compact
 * range. Fails the test if hashing fails. */
void tu_mth(const uint8_t (*leaves)[32], uint64_t n, uint8_t out[32]);
/* Makes a new empty directory under $TMPDIR (or /tmp) and writes its path
 * to out (max bytes); fails the test if it cannot. Remove it with
 * tu_rmtree. */
void tu_tempdir(const char *prefix, char *out, size_t max);
/* Removes path and everything below it (no symlinks followed); fails the
 * test if something cannot be removed. */
void tu_rmtree(const char *path);
/* Runs step(arg) with stderr (fd 2) going to a file, and returns what
 * was written to it, NUL-terminated (caller frees); fails the test if it
 * cannot. */
char *tu_capture_stderr(void (*step)(void *arg), void *arg);

#endif

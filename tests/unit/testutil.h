/*
 * testutil: helpers shared by the cmocka unit tests: locating and reading
 * the public test vectors (tests/vectors, or $GL_VECTORS).
 */
#ifndef GL_TESTUTIL_H
#define GL_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/* The vectors directory (no trailing slash). */
const char *tu_vectors(void);
/* Reads VECTORS/rel into a NUL-terminated malloc'd buffer (caller frees);
 * fails the test if missing. *len may be NULL. */
char *tu_read_vector(const char *rel, size_t *len);
/* Reads any file; NULL if it cannot. Caller frees. */
char *tu_read_file(const char *path, size_t *len);
/* Decodes 32-byte base64; fails the test on error. */
void tu_b64_hash(const char *b64, uint8_t out[32]);
/* Parses VECTORS/rel as a signer / verifier key; fails the test if not. */
struct gl_signer;
struct gl_verifier;
void tu_load_signer(const char *rel, struct gl_signer *s);
void tu_load_verifier(const char *rel, struct gl_verifier *v);
/* Generates a fresh key named name of type (GL_KEY_NOTE or GL_KEY_COSIG)
 * and writes its verifier key text (NUL-terminated) to out, which has max
 * bytes; fails the test if it does not fit. */
void tu_gen_vkey(const char *name, uint8_t type, char *out, size_t max);
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

#endif

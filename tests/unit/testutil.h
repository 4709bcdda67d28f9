/*
 * testutil: helpers shared by the cmocka unit tests: locating and reading
 * the public test vectors (../shared/vectors, or $GL_VECTORS).
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
/* Deterministic pseudo-random numbers for reproducible "random" tests. */
uint64_t tu_rand(uint64_t *state);

#endif

/*
 * sha256: SHA-256 through OpenSSL 3, fast for the many tiny inputs of a
 * Merkle tree. The EVP_MD is fetched once per process; each thread keeps one
 * reusable EVP_MD_CTX (re-initialised with EVP_DigestInit_ex2), which is ~3x
 * faster than one-shot EVP calls for 65-byte node hashes.
 */
#ifndef GLASSLOG_SHA256_H
#define GLASSLOG_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define GL_HASH_LEN 32 /* a SHA-256 hash; keys are GL_KEY_LEN (key.h) */
/* A hash in lowercase hex (gl_hex_encode); a C string of it needs
 * GL_HASH_HEX_LEN + 1 bytes. A plain literal, not 2 * GL_HASH_LEN, so
 * size_t arithmetic with it involves no int multiplication. */
#define GL_HASH_HEX_LEN 64
_Static_assert(GL_HASH_HEX_LEN == 2 * GL_HASH_LEN,
               "GL_HASH_HEX_LEN is the hex of GL_HASH_LEN bytes");

/* An array of hashes as read-only: C converts uint8_t (*)[N] to const
 * uint8_t (*)[N] only with a cast, so the one cast lives here, where the
 * compiler checks that h really is an array of GL_HASH_LEN-byte hashes. */
static inline const uint8_t (*gl_hashes_const(uint8_t (*h)[GL_HASH_LEN]))[GL_HASH_LEN]
{
    return (const uint8_t(*)[GL_HASH_LEN])h;
}

/* A streaming hash. Owned by the caller: gl_sha256_new / gl_sha256_free. */
struct gl_sha256;

/* Creates a context (already initialised). *out freed with gl_sha256_free. */
int gl_sha256_new(struct gl_sha256 **out);
void gl_sha256_free(struct gl_sha256 *h);
int gl_sha256_reset(struct gl_sha256 *h);
int gl_sha256_update(struct gl_sha256 *h, const void *p, size_t n);
/* Writes the digest and resets h for reuse. */
int gl_sha256_final(struct gl_sha256 *h, uint8_t out[GL_HASH_LEN]);

/* One-shot hash of one buffer, using this thread's reusable context. */
int gl_sha256(const void *p, size_t n, uint8_t out[GL_HASH_LEN]);
/* One-shot hash of prefix byte || a || b (b may be NULL with bn 0): the
 * shape of every RFC 9162 leaf and node hash, without copying. */
int gl_sha256_3(uint8_t prefix, const void *a, size_t an, const void *b, size_t bn,
                uint8_t out[GL_HASH_LEN]);

#endif

/*
 * sha256: OpenSSL 3 SHA-256 with a fetched-once EVP_MD and one reusable
 * EVP_MD_CTX per thread. The per-thread context lives in pthread-specific
 * storage whose destructor frees it at thread exit; the main thread's stays
 * reachable until process exit. Failure to set up OpenSSL is reported as
 * GL_ECRYPTO by every call, never as a crash.
 */
#include "glasslog/sha256.h"

#include <pthread.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "glasslog/error.h"

struct gl_sha256 {
    EVP_MD_CTX *ctx;
};

static pthread_once_t sha_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha_md;
static pthread_key_t sha_key;
static int sha_key_ok;

static void sha_ctx_destroy(void *p)
{
    EVP_MD_CTX_free(p);
}

static void sha_setup(void)
{
    sha_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    sha_key_ok = pthread_key_create(&sha_key, sha_ctx_destroy) == 0;
}

static const EVP_MD *sha_get_md(void)
{
    pthread_once(&sha_once, sha_setup);
    return sha_md;
}

/* This thread's reusable context, or NULL on failure. */
static EVP_MD_CTX *sha_thread_ctx(void)
{
    EVP_MD_CTX *ctx;

    if (sha_get_md() == NULL || !sha_key_ok)
        return NULL;
    ctx = pthread_getspecific(sha_key);
    if (ctx != NULL)
        return ctx;
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return NULL;
    if (pthread_setspecific(sha_key, ctx) != 0) {
        EVP_MD_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

int gl_sha256_new(struct gl_sha256 **out)
{
    struct gl_sha256 *h;

    if (sha_get_md() == NULL)
        return GL_ECRYPTO;
    h = malloc(sizeof(*h));
    if (h == NULL)
        return GL_ENOMEM;
    h->ctx = EVP_MD_CTX_new();
    if (h->ctx == NULL || EVP_DigestInit_ex2(h->ctx, sha_md, NULL) != 1) {
        EVP_MD_CTX_free(h->ctx);
        free(h);
        return GL_ECRYPTO;
    }
    *out = h;
    return 0;
}

void gl_sha256_free(struct gl_sha256 *h)
{
    if (h == NULL)
        return;
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

int gl_sha256_reset(struct gl_sha256 *h)
{
    return EVP_DigestInit_ex2(h->ctx, sha_md, NULL) == 1 ? 0 : GL_ECRYPTO;
}

int gl_sha256_update(struct gl_sha256 *h, const void *p, size_t n)
{
    return EVP_DigestUpdate(h->ctx, p, n) == 1 ? 0 : GL_ECRYPTO;
}

int gl_sha256_final(struct gl_sha256 *h, uint8_t out[GL_HASH_LEN])
{
    if (EVP_DigestFinal_ex(h->ctx, out, NULL) != 1)
        return GL_ECRYPTO;
    return gl_sha256_reset(h);
}

int gl_sha256_3(uint8_t prefix, const void *a, size_t an, const void *b, size_t bn,
                uint8_t out[GL_HASH_LEN])
{
    EVP_MD_CTX *ctx = sha_thread_ctx();

    if (ctx == NULL || EVP_DigestInit_ex2(ctx, sha_md, NULL) != 1 ||
        EVP_DigestUpdate(ctx, &prefix, 1) != 1 ||
        (an > 0 && EVP_DigestUpdate(ctx, a, an) != 1) ||
        (bn > 0 && EVP_DigestUpdate(ctx, b, bn) != 1) ||
        EVP_DigestFinal_ex(ctx, out, NULL) != 1)
        return GL_ECRYPTO;
    return 0;
}

int gl_sha256(const void *p, size_t n, uint8_t out[GL_HASH_LEN])
{
    EVP_MD_CTX *ctx = sha_thread_ctx();

    if (ctx == NULL || EVP_DigestInit_ex2(ctx, sha_md, NULL) != 1 ||
        (n > 0 && EVP_DigestUpdate(ctx, p, n) != 1) ||
        EVP_DigestFinal_ex(ctx, out, NULL) != 1)
        return GL_ECRYPTO;
    return 0;
}

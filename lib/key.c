/*
 * key: Ed25519 keys in Go's golang.org/x/mod/sumdb/note text formats, so
 * keys made here work with Go tooling and back. Parsing is strict: exact
 * "PRIVATE+KEY+" prefix, a valid name, exactly 8 hex digits of key ID that
 * must equal the ID recomputed from (name, type, public key), canonical
 * padded base64 of exactly 33 bytes (type || 32-byte key). Only the two
 * Ed25519 types are known. Seeds are wiped from every temporary, and
 * refusal reasons never quote the key text (it may be a private key).
 */
#include "glasslog/key.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/sha256.h"
#include "utf8.h"

static const char key_priv_prefix[] = "PRIVATE+KEY+";

/* 1 if name (n bytes) is non-empty, valid UTF-8, without '+', Unicode
 * whitespace or C0 controls (the caller caps others' names); ours also
 * caps the length at GL_KEY_NAME_MAX and refuses the other controls (DEL,
 * C1), so that the names of keys we hold print safely anywhere. */
static int name_ok(const char *name, size_t n, int ours)
{
    const unsigned char *s = (const unsigned char *)name;
    size_t i = 0, k;
    uint32_t c;

    if (n == 0 || (ours && n > GL_KEY_NAME_MAX))
        return 0;
    while (i < n) {
        k = gl_utf8_decode(s + i, n - i, &c);
        if (k == 0 || c == '+' || c < 0x20 || (ours && c >= 0x7f && c <= 0x9f) ||
            gl_utf8_is_space(c))
            return 0;
        i += k;
    }
    return 1;
}

int gl_key_name_valid(const char *name, size_t n)
{
    return name_ok(name, n, 1);
}

int gl_key_sig_name_valid(const char *name, size_t n)
{
    return name_ok(name, n, 0);
}

uint32_t gl_key_id(const char *name, uint8_t type, const uint8_t pub[GL_KEY_LEN])
{
    uint8_t tail[34], h[GL_HASH_LEN];

    if (name[0] == 0)
        return 0;
    tail[0] = '\n';
    tail[1] = type;
    memcpy(tail + 2, pub, GL_KEY_LEN);
    if (gl_sha256_3((uint8_t)name[0], name + 1, strlen(name) - 1, tail, sizeof(tail),
                    h) != 0)
        return 0; /* only on OpenSSL failure; IDs then never match */
    return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}

int gl_ed25519_public(const uint8_t seed[GL_KEY_LEN], uint8_t pub[GL_KEY_LEN])
{
    EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, GL_KEY_LEN);
    size_t len = GL_KEY_LEN;
    int err = 0;

    if (pk == NULL)
        return GL_ECRYPTO;
    if (EVP_PKEY_get_raw_public_key(pk, pub, &len) != 1 || len != GL_KEY_LEN)
        err = GL_ECRYPTO;
    EVP_PKEY_free(pk);
    return err;
}

int gl_ed25519_sign(const uint8_t seed[GL_KEY_LEN], const void *msg, size_t n,
                    uint8_t sig[64])
{
    EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, GL_KEY_LEN);
    EVP_MD_CTX *ctx = NULL;
    size_t len = 64;
    int err = GL_ECRYPTO;

    if (pk == NULL)
        goto out;
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, NULL, NULL, pk) != 1)
        goto out;
    if (EVP_DigestSign(ctx, sig, &len, msg, n) != 1 || len != 64)
        goto out;
    err = 0;
out:
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pk);
    return err;
}

/* Each thread keeps the public key it verified with last, parsed into an
 * EVP_PKEY, and one EVP_MD_CTX: a log verifies most statements with the
 * same few submitter keys, and parsing a key and allocating a context
 * cost 5-10% of a verification. The cache lives in pthread-specific
 * storage freed at thread exit (the main thread's stays reachable until
 * process exit, as sha256.c's context). Public keys only: nothing to wipe. */
struct verify_cache {
    uint8_t pub[GL_KEY_LEN];
    EVP_PKEY *pk; /* pub parsed, or NULL */
    EVP_MD_CTX *ctx;
};

static pthread_once_t verify_once = PTHREAD_ONCE_INIT;
static pthread_key_t verify_key;
static int verify_key_ok;

static void verify_cache_free(void *p)
{
    struct verify_cache *c = p;

    EVP_MD_CTX_free(c->ctx);
    EVP_PKEY_free(c->pk);
    free(c);
}

static void verify_setup(void)
{
    verify_key_ok = pthread_key_create(&verify_key, verify_cache_free) == 0;
}

/* This thread's cache, or NULL (no memory, no key): callers then verify
 * without it. */
static struct verify_cache *verify_cache_get(void)
{
    struct verify_cache *c;

    pthread_once(&verify_once, verify_setup);
    if (!verify_key_ok)
        return NULL;
    if ((c = pthread_getspecific(verify_key)) != NULL)
        return c;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return NULL;
    if ((c->ctx = EVP_MD_CTX_new()) == NULL || pthread_setspecific(verify_key, c) != 0) {
        verify_cache_free(c);
        return NULL;
    }
    return c;
}

/* c's key set to pub (parsed again only if it differs). */
static EVP_PKEY *verify_cache_key(struct verify_cache *c, const uint8_t pub[GL_KEY_LEN])
{
    if (c->pk != NULL && memcmp(c->pub, pub, GL_KEY_LEN) == 0)
        return c->pk;
    EVP_PKEY_free(c->pk);
    c->pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, GL_KEY_LEN);
    if (c->pk != NULL)
        memcpy(c->pub, pub, GL_KEY_LEN);
    return c->pk;
}

/* One verification with pk on ctx (reset first: a context is reused). */
static int verify_with(EVP_MD_CTX *ctx, EVP_PKEY *pk, const void *msg, size_t n,
                       const uint8_t sig[64])
{
    if (EVP_MD_CTX_reset(ctx) != 1 ||
        EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) != 1)
        return GL_ECRYPTO;
    return EVP_DigestVerify(ctx, sig, 64, msg, n) == 1 ? 0 : GL_EVERIFY;
}

int gl_ed25519_verify(const uint8_t pub[GL_KEY_LEN], const void *msg, size_t n,
                      const uint8_t sig[64])
{
    struct verify_cache *c = verify_cache_get();
    EVP_PKEY *pk = NULL;
    EVP_MD_CTX *ctx = NULL;
    int err = GL_ECRYPTO;

    if (c != NULL && (pk = verify_cache_key(c, pub)) != NULL)
        return verify_with(c->ctx, pk, msg, n, sig);
    pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, GL_KEY_LEN);
    if (pk == NULL || (ctx = EVP_MD_CTX_new()) == NULL)
        goto out;
    err = verify_with(ctx, pk, msg, n, sig);
out:
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pk);
    return err;
}

static int key_type_known(uint8_t type)
{
    return type == GL_KEY_NOTE || type == GL_KEY_COSIG;
}

int gl_signer_generate(const char *name, uint8_t type, struct gl_signer *out)
{
    struct gl_signer k;
    int err;

    if (!gl_key_name_valid(name, strlen(name)))
        return GL_EINVAL;
    if (!key_type_known(type))
        return GL_EKEYTYPE;
    memset(&k, 0, sizeof(k));
    if (RAND_priv_bytes(k.seed, sizeof(k.seed)) != 1) {
        err = GL_ECRYPTO;
        goto out;
    }
    if ((err = gl_ed25519_public(k.seed, k.pub)) != 0)
        goto out;
    memcpy(k.name, name, strlen(name) + 1);
    k.type = type;
    k.id = gl_key_id(k.name, type, k.pub);
    *out = k;
out:
    OPENSSL_cleanse(&k, sizeof(k));
    return err;
}

/* Splits "name+hexid+base64" (n bytes, one trailing "\n" allowed) into its
 * parts, validating name and ID syntax and decoding the 33-byte key. A
 * well-formed key of a type we do not know (ECDSA, ML-DSA, ...: any length
 * within GL_KEY_TEXT_MAX, a name by the signed-note rule) is GL_EKEYTYPE,
 * so that a list naming such a key can skip it; a key we know must have a
 * name we can hold (gl_key_name_valid). */
#define KEY_DEC_MAX ((size_t)GL_KEY_TEXT_MAX / 4 * 3) /* the most base64 decodes to */

static int key_split_into(const char *s, size_t n, char name[GL_KEY_NAME_MAX + 1],
                          uint32_t *id, uint8_t raw[33], struct gl_err *why,
                          uint8_t dec[KEY_DEC_MAX])
{
    const char *p1, *p2;
    uint8_t idb[4];
    size_t name_len, dec_len = 0;

    if (n > GL_KEY_TEXT_MAX)
        return gl_err_set(why, GL_ETOOBIG, 0, "key longer than %d bytes",
                          GL_KEY_TEXT_MAX);
    if (n > 0 && s[n - 1] == '\n')
        n--;
    p1 = memchr(s, '+', n);
    if (p1 == NULL)
        return gl_err_set(why, GL_EPARSE, 0, "not a key: want <name>+<id>+<base64>");
    name_len = (size_t)(p1 - s);
    if (name_len > GL_KEY_OTHER_NAME_MAX || !gl_key_sig_name_valid(s, name_len))
        return gl_err_set(why, GL_EPARSE, 0,
                          "invalid key name (1 to %d bytes of UTF-8, no \"+\", spaces or "
                          "control characters)",
                          GL_KEY_OTHER_NAME_MAX);
    p1++;
    p2 = memchr(p1, '+', n - (size_t)(p1 - s));
    if (p2 == NULL || p2 - p1 != 8 || gl_hex_decode_exact(p1, 8, idb, 4, 0) != 0)
        return gl_err_set(why, GL_EPARSE, 0, "the key ID is not 8 hex digits");
    p2++;
    if (gl_base64_decode(p2, n - (size_t)(p2 - s), dec, KEY_DEC_MAX, &dec_len) != 0 ||
        dec_len == 0)
        return gl_err_set(why, GL_EPARSE, 0,
                          "the key is not base64 of a type byte and 32 key bytes");
    if (!key_type_known(dec[0])) /* other types have other lengths: skippable */
        return gl_err_set(why, GL_EKEYTYPE, 0, "unknown key type 0x%02x", dec[0]);
    if (dec_len != 33)
        return gl_err_set(why, GL_EPARSE, 0,
                          "the key is not base64 of a type byte and 32 key bytes");
    if (!gl_key_name_valid(s, name_len)) /* valid to Go: skippable as well */
        return gl_err_set(why, GL_EKEYTYPE, 0,
                          "key name longer than %d bytes or with a control character "
                          "(DEL, C1): glasslog's limits on the names of keys it uses",
                          GL_KEY_NAME_MAX);
    memcpy(raw, dec, 33);
    memcpy(name, s, name_len);
    name[name_len] = 0;
    *id =
        (uint32_t)idb[0] << 24 | (uint32_t)idb[1] << 16 | (uint32_t)idb[2] << 8 | idb[3];
    return 0;
}

/* key_split_into with its decoding buffer, wiped whatever the outcome (a
 * private key's seed passes through it). */
static int key_split(const char *s, size_t n, char name[GL_KEY_NAME_MAX + 1],
                     uint32_t *id, uint8_t raw[33], struct gl_err *why)
{
    uint8_t dec[KEY_DEC_MAX];
    int rc = key_split_into(s, n, name, id, raw, why, dec);

    OPENSSL_cleanse(dec, sizeof(dec));
    return rc;
}

/* The type byte must be known and the ID must be the one of (name, type,
 * pub). */
static int key_check(const char *name, uint8_t type, uint32_t id,
                     const uint8_t pub[GL_KEY_LEN], struct gl_err *why)
{
    if (!key_type_known(type))
        return gl_err_set(why, GL_EKEYTYPE, 0, "unknown key type 0x%02x", type);
    if (gl_key_id(name, type, pub) != id)
        return gl_err_set(why, GL_EPARSE, 0, "the key ID does not match the key");
    return 0;
}

int gl_signer_parse(const char *s, size_t n, struct gl_signer *out, struct gl_err *why)
{
    const size_t plen = sizeof(key_priv_prefix) - 1;
    struct gl_signer k;
    uint8_t raw[33];
    int err;

    memset(&k, 0, sizeof(k));
    if (n < plen || memcmp(s, key_priv_prefix, plen) != 0) {
        err = gl_err_set(why, GL_EPARSE, 0, "a private key starts with PRIVATE+KEY+");
        goto out;
    }
    if ((err = key_split(s + plen, n - plen, k.name, &k.id, raw, why)) != 0)
        goto out;
    if (!key_type_known(raw[0])) {
        err = gl_err_set(why, GL_EKEYTYPE, 0, "unknown key type 0x%02x", raw[0]);
        goto out;
    }
    k.type = raw[0];
    memcpy(k.seed, raw + 1, GL_KEY_LEN);
    if ((err = gl_ed25519_public(k.seed, k.pub)) != 0) {
        gl_err_set(why, err, 0, "cannot derive the public key: %s", gl_strerror(err));
        goto out;
    }
    if ((err = key_check(k.name, k.type, k.id, k.pub, why)) != 0)
        goto out;
    *out = k;
out:
    OPENSSL_cleanse(raw, sizeof(raw));
    OPENSSL_cleanse(&k, sizeof(k));
    return err;
}

/* Appends "name+id+base64(type || key)". */
static int key_format(const char *name, uint32_t id, uint8_t type,
                      const uint8_t key[GL_KEY_LEN], struct gl_buf *out)
{
    uint8_t raw[33];
    char b64[48];
    int err;

    raw[0] = type;
    memcpy(raw + 1, key, GL_KEY_LEN);
    err = gl_base64_encode(raw, sizeof(raw), b64, sizeof(b64));
    if (err == 0)
        err = gl_buf_printf(out, "%s+%08x+%s", name, (unsigned)id, b64);
    OPENSSL_cleanse(raw, sizeof(raw));
    OPENSSL_cleanse(b64, sizeof(b64));
    return err;
}

int gl_signer_format(const struct gl_signer *k, struct gl_buf *out)
{
    size_t mark = out->len;
    int err = gl_buf_append_str(out, key_priv_prefix);

    if (err == 0)
        err = key_format(k->name, k->id, k->type, k->seed, out);
    if (err != 0 && out->len > mark) {
        OPENSSL_cleanse(out->data + mark, out->len - mark);
        gl_buf_truncate(out, mark);
    }
    return err;
}

void gl_signer_verifier(const struct gl_signer *k, struct gl_verifier *out)
{
    memcpy(out->name, k->name, sizeof(out->name));
    out->id = k->id;
    out->type = k->type;
    memcpy(out->pub, k->pub, GL_KEY_LEN);
}

void gl_signer_wipe(struct gl_signer *k)
{
    OPENSSL_cleanse(k, sizeof(*k));
}

int gl_verifier_parse(const char *s, size_t n, struct gl_verifier *out,
                      struct gl_err *why)
{
    struct gl_verifier k;
    uint8_t raw[33];
    int err;

    memset(&k, 0, sizeof(k));
    if ((err = key_split(s, n, k.name, &k.id, raw, why)) != 0)
        return err;
    k.type = raw[0];
    memcpy(k.pub, raw + 1, GL_KEY_LEN);
    if ((err = key_check(k.name, k.type, k.id, k.pub, why)) != 0)
        return err;
    *out = k;
    return 0;
}

int gl_verifier_format(const struct gl_verifier *k, struct gl_buf *out)
{
    return key_format(k->name, k->id, k->type, k->pub, out);
}

int gl_verifier_to_cosig(const struct gl_verifier *in, struct gl_verifier *out,
                         int *converted)
{
    if (!key_type_known(in->type))
        return GL_EKEYTYPE;
    *out = *in;
    if (converted != NULL)
        *converted = in->type == GL_KEY_NOTE;
    if (in->type == GL_KEY_NOTE) {
        out->type = GL_KEY_COSIG;
        out->id = gl_key_id(out->name, GL_KEY_COSIG, out->pub);
    }
    return 0;
}

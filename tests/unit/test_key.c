/*
 * test_key: key strings against Go's sumdb/note vectors (peter, enoch, the
 * example log and witness keys), generation round trips, refusal of
 * every malformed key class, post-quantum-sized keys of unknown types
 * (GL_EKEYTYPE), and the name rules (Go's, for others' names, checked for
 * every code point; ours, for keys we hold).
 */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "glasslog/error.h"
#include "glasslog/codec.h"
#include "glasslog/key.h"
#include <stdlib.h>

static void strip_nl(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '\n')
        s[--n] = 0;
}

/* Parses VECTORS/notes/<skey> and checks its verifier formats to <vkey>. */
static void check_pair(const char *skey, const char *vkey, uint8_t type)
{
    char *sk = tu_read_vector(skey, NULL), *vk = tu_read_vector(vkey, NULL);
    struct gl_signer s;
    struct gl_verifier v, v2;
    struct gl_buf b;

    strip_nl(sk);
    strip_nl(vk);
    assert_int_equal(gl_signer_parse(sk, strlen(sk), &s, NULL), 0);
    assert_int_equal(s.type, type);
    gl_signer_verifier(&s, &v);
    gl_buf_init(&b, 4096);
    assert_int_equal(gl_verifier_format(&v, &b), 0);
    assert_string_equal((char *)b.data, vk);
    gl_buf_reset(&b);
    assert_int_equal(gl_signer_format(&s, &b), 0);
    assert_string_equal((char *)b.data, sk);
    assert_int_equal(gl_verifier_parse(vk, strlen(vk), &v2, NULL), 0);
    assert_memory_equal(v2.pub, v.pub, 32);
    assert_int_equal(v2.id, v.id);
    gl_buf_release(&b);
    gl_signer_wipe(&s);
    free(sk);
    free(vk);
}

static void test_vector_keys(void **state)
{
    (void)state;
    check_pair("notes/peter.key", "notes/peter.vkey", GL_KEY_NOTE);
    check_pair("notes/log.key", "notes/log.vkey", GL_KEY_NOTE);
    check_pair("notes/witness.cosig-key", "notes/witness.cosig-vkey", GL_KEY_COSIG);
}

static void test_key_id_known(void **state)
{
    struct gl_verifier v;
    const char *vk = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    (void)state;
    assert_int_equal(gl_verifier_parse(vk, strlen(vk), &v, NULL), 0);
    assert_int_equal(v.id, 0xc74f20a3u);
    assert_int_equal(gl_key_id("PeterNeumann", GL_KEY_NOTE, v.pub), 0xc74f20a3u);
    assert_string_equal(v.name, "PeterNeumann");
}

static void test_generate_roundtrip(void **state)
{
    struct gl_signer s, s2;
    struct gl_verifier v, v2;
    struct gl_buf b;
    (void)state;
    gl_buf_init(&b, 4096);
    for (int type = GL_KEY_NOTE; type <= GL_KEY_COSIG; type += 3) {
        assert_int_equal(gl_signer_generate("example.com/x", (uint8_t)type, &s), 0);
        gl_buf_reset(&b);
        assert_int_equal(gl_signer_format(&s, &b), 0);
        assert_int_equal(gl_signer_parse((char *)b.data, b.len, &s2, NULL), 0);
        assert_memory_equal(s.seed, s2.seed, 32);
        assert_int_equal(s.id, s2.id);
        gl_signer_verifier(&s, &v);
        gl_buf_reset(&b);
        assert_int_equal(gl_verifier_format(&v, &b), 0);
        assert_int_equal(gl_verifier_parse((char *)b.data, b.len, &v2, NULL), 0);
        assert_int_equal(v2.type, type);
        assert_int_equal(v2.id, gl_key_id("example.com/x", (uint8_t)type, v.pub));
    }
    assert_int_equal(gl_signer_generate("bad name", GL_KEY_NOTE, &s), GL_EINVAL);
    assert_int_equal(gl_signer_generate("a+b", GL_KEY_NOTE, &s), GL_EINVAL);
    assert_int_equal(gl_signer_generate("ok", 0x02, &s), GL_EKEYTYPE);
    gl_buf_release(&b);
}

static void test_to_cosig(void **state)
{
    char *sk = tu_read_vector("notes/witness.cosig-key", NULL);
    char *vk = tu_read_vector("notes/witness.cosig-vkey", NULL);
    struct gl_signer s;
    struct gl_verifier v01, v04, want;
    int conv = -1;
    (void)state;
    strip_nl(sk);
    strip_nl(vk);
    assert_int_equal(gl_signer_parse(sk, strlen(sk), &s, NULL), 0);
    assert_int_equal(gl_verifier_parse(vk, strlen(vk), &want, NULL), 0);
    /* The same public key published as a note (0x01) key. */
    v01 = want;
    v01.type = GL_KEY_NOTE;
    v01.id = gl_key_id(v01.name, GL_KEY_NOTE, v01.pub);
    assert_int_not_equal(v01.id, want.id);
    assert_int_equal(gl_verifier_to_cosig(&v01, &v04, &conv), 0);
    assert_int_equal(conv, 1);
    assert_int_equal(v04.type, GL_KEY_COSIG);
    assert_int_equal(v04.id, want.id);
    assert_int_equal(gl_verifier_to_cosig(&want, &v04, &conv), 0);
    assert_int_equal(conv, 0);
    assert_int_equal(v04.id, want.id);
    gl_signer_wipe(&s);
    free(sk);
    free(vk);
}

static void test_malformed(void **state)
{
    static const char *bad_vkeys[] = {
        "",
        "PeterNeumann",
        "PeterNeumann+c74f20a3",
        "PeterNeumann+c74f20a3+",
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", /* id */
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  /* 7 hex */
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",  /* b64 */
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW=",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWAA==",
        " PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n\n",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+AhpcD2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", /* type 2
                                                                                */
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
    };
    static const char *bad_skeys[] = {
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDF",
        "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "private+key+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumann+c74f20a3+BIEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PRIVATE+KEY+",
    };
    struct gl_verifier v;
    struct gl_signer s;
    (void)state;
    for (size_t i = 0; i < sizeof(bad_vkeys) / sizeof(*bad_vkeys); i++)
        assert_true(gl_verifier_parse(bad_vkeys[i], strlen(bad_vkeys[i]), &v, NULL) < 0);
    for (size_t i = 0; i < sizeof(bad_skeys) / sizeof(*bad_skeys); i++)
        assert_true(gl_signer_parse(bad_skeys[i], strlen(bad_skeys[i]), &s, NULL) < 0);
}

/* Key strings have no lines: every refusal has line 0 and says what is
 * wrong; a private key's refusal never quotes the key. */
static void test_refusals_say_why(void **state)
{
    static const struct {
        const char *key;
        int rc;
        const char *why;
    } bad[] = {
        {"PeterNeumann", GL_EPARSE, "not a key: want <name>+<id>+<base64>"},
        {"Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", GL_EPARSE,
         "invalid key name"},
        {"PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", GL_EPARSE,
         "the key ID is not 8 hex digits"},
        {"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T", GL_EPARSE,
         "the key is not base64 of a type byte and 32 key bytes"},
        {"PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", GL_EPARSE,
         "the key ID does not match the key"},
        {"PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
         GL_EKEYTYPE, "unknown key type 0x02"},
        /* a longer key of another type (0x02, 64 bytes): unknown, not malformed */
        {"ecdsa.example/"
         "log+01020304+"
         "AgQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ"
         "EBAQEBA==",
         GL_EKEYTYPE, "unknown key type 0x02"},
        /* a known type of the wrong length stays malformed */
        {"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWAA==",
         GL_EPARSE, "the key is not base64 of a type byte and 32 key bytes"},
    };
    static const char skey[] =
        "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    char big[GL_KEY_TEXT_MAX + 2];
    struct gl_verifier v;
    struct gl_signer s;
    struct gl_err why;
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        tu_expect_why(gl_verifier_parse(bad[i].key, strlen(bad[i].key), &v, &why), &why,
                      bad[i].rc, 0, bad[i].why);
    memset(big, 'a', sizeof(big));
    tu_expect_why(gl_verifier_parse(big, sizeof(big), &v, &why), &why, GL_ETOOBIG, 0,
                  "key longer than");
    tu_expect_why(gl_signer_parse(skey + 12, strlen(skey) - 12, &s, &why), &why,
                  GL_EPARSE, 0, "a private key starts with PRIVATE+KEY+");
    tu_expect_why(gl_signer_parse(skey, strlen(skey), &s, &why), &why, GL_EPARSE, 0,
                  "the key ID does not match the key");
    assert_null(strstr(why.reason, "AYEKFALV"));
}

static void test_names(void **state)
{
    (void)state;
    assert_true(gl_key_name_valid("example.com/log", 15));
    assert_true(gl_key_name_valid("\xc3\xa9t\xc3\xa9", 5));
    assert_false(gl_key_name_valid("", 0));
    assert_false(gl_key_name_valid("a b", 3));
    assert_false(gl_key_name_valid("a\tb", 3));
    assert_false(gl_key_name_valid("a+b", 3));
    assert_false(gl_key_name_valid("a\xc2\xa0"
                                   "b",
                                   4));                  /* NBSP */
    assert_false(gl_key_name_valid("a\xe3\x80\x80", 4)); /* ideographic space */
    assert_false(gl_key_name_valid("\xc0\xaf", 2));      /* overlong */
    assert_false(gl_key_name_valid("\xed\xa0\x80", 3));  /* surrogate */
    assert_false(gl_key_name_valid("\xe2\x80", 2));      /* truncated */
}

/* Names in others' signature lines: the signed-note rule, no more. */
static void test_sig_names(void **state)
{
    char longname[GL_KEY_NAME_MAX + 2];
    (void)state;
    memset(longname, 'n', sizeof(longname));
    assert_false(gl_key_name_valid(longname, sizeof(longname)));
    assert_true(gl_key_sig_name_valid(longname, sizeof(longname)));
    {
        /* a signature line's name has no cap of its own (the note's) */
        static char big[8 * GL_KEY_OTHER_NAME_MAX];
        memset(big, 'n', sizeof(big));
        assert_true(gl_key_sig_name_valid(big, sizeof(big)));
    }
    assert_false(gl_key_name_valid("a\x7f", 2));
    assert_true(gl_key_sig_name_valid("a\x7f", 2));
    assert_true(gl_key_sig_name_valid("\xc3\xa9t\xc3\xa9", 5));
    assert_false(gl_key_sig_name_valid("", 0));
    assert_false(gl_key_sig_name_valid("a b", 3));
    assert_false(gl_key_sig_name_valid("a\tb", 3));
    assert_false(gl_key_sig_name_valid("a+b", 3));
    assert_false(gl_key_sig_name_valid("a\xe2\x80\xa8", 4)); /* line separator */
    assert_false(gl_key_sig_name_valid("a\x01", 2));
    assert_false(gl_key_sig_name_valid("\xc0\xaf", 2));
}

/* Post-quantum verifier keys as other logs and witnesses publish them:
 * longer than Ed25519 ones, of a type we do not know: GL_EKEYTYPE (lists
 * skip them), never too long or malformed, whatever their name by the
 * signed-note rule. Key IDs are recomputed by tu_foreign_vkey. */
static void test_foreign_keys(void **state)
{
    char vk[GL_KEY_TEXT_MAX + 64], sk[GL_KEY_TEXT_MAX + 128],
        name[GL_KEY_OTHER_NAME_MAX + 2];
    uint64_t seed = 42;
    struct gl_verifier v;
    struct gl_signer s;
    struct gl_err why;
    size_t n;
    (void)state;

    /* ML-DSA-44 (1312-byte key): about 1,760 characters */
    n = tu_foreign_vkey("mldsa.example/log", 0x06, 1312, &seed, vk, sizeof(vk));
    assert_true(n > 1750 && n < 1800);
    tu_expect_why(gl_verifier_parse(vk, n, &v, &why), &why, GL_EKEYTYPE, 0,
                  "unknown key type 0x06");
    snprintf(sk, sizeof(sk), "PRIVATE+KEY+%s", vk);
    tu_expect_why(gl_signer_parse(sk, strlen(sk), &s, &why), &why, GL_EKEYTYPE, 0,
                  "unknown key type 0x06");
    /* ML-DSA-87 (2592-byte key) with the longest name we read past */
    memset(name, 'n', GL_KEY_OTHER_NAME_MAX);
    name[GL_KEY_OTHER_NAME_MAX] = 0;
    n = tu_foreign_vkey(name, 0x07, 2592, &seed, vk, sizeof(vk));
    assert_true(n <= GL_KEY_TEXT_MAX);
    tu_expect_why(gl_verifier_parse(vk, n, &v, &why), &why, GL_EKEYTYPE, 0,
                  "unknown key type 0x07");
    /* a name one byte longer is malformed */
    name[GL_KEY_OTHER_NAME_MAX] = 'n';
    name[GL_KEY_OTHER_NAME_MAX + 1] = 0;
    n = tu_foreign_vkey(name, 0x07, 2592, &seed, vk, sizeof(vk));
    tu_expect_why(gl_verifier_parse(vk, n, &v, &why), &why, GL_EPARSE, 0,
                  "invalid key name");
    /* names Go accepts (DEL, over our own cap) on a key we do not know */
    n = tu_foreign_vkey("del\x7fname", 0x06, 1312, &seed, vk, sizeof(vk));
    assert_int_equal(gl_verifier_parse(vk, n, &v, NULL), GL_EKEYTYPE);
    memset(name, 'n', 300);
    name[300] = 0;
    n = tu_foreign_vkey(name, 0x06, 1312, &seed, vk, sizeof(vk));
    assert_int_equal(gl_verifier_parse(vk, n, &v, NULL), GL_EKEYTYPE);
    /* names Go refuses stay malformed, whatever the type */
    n = tu_foreign_vkey("a\xc2\xa0z", 0x06, 1312, &seed, vk, sizeof(vk));
    assert_int_equal(gl_verifier_parse(vk, n, &v, NULL), GL_EPARSE);
    n = tu_foreign_vkey("a\xe3\x80\x80z", 0x06, 1312, &seed, vk, sizeof(vk));
    assert_int_equal(gl_verifier_parse(vk, n, &v, NULL), GL_EPARSE);
    /* one byte over the text cap */
    memset(vk, 'A', GL_KEY_TEXT_MAX + 1);
    memcpy(vk, "x+01020304+", 11);
    tu_expect_why(gl_verifier_parse(vk, GL_KEY_TEXT_MAX + 1, &v, &why), &why, GL_ETOOBIG,
                  0, "key longer than");
}

/* An Ed25519 key's name must be one we can hold: at most GL_KEY_NAME_MAX
 * bytes, no DEL or C1 control, though the signed-note rule allows them. */
static void test_known_type_name_limits(void **state)
{
    char name[GL_KEY_NAME_MAX + 2], vk[GL_KEY_TEXT_MAX];
    uint64_t seed = 7;
    struct gl_verifier v;
    struct gl_err why;
    size_t n;
    (void)state;

    memset(name, 'n', GL_KEY_NAME_MAX);
    name[GL_KEY_NAME_MAX] = 0;
    n = tu_foreign_vkey(name, GL_KEY_NOTE, 32, &seed, vk, sizeof(vk));
    assert_int_equal(gl_verifier_parse(vk, n, &v, NULL), 0);
    assert_int_equal(strlen(v.name), GL_KEY_NAME_MAX);
    name[GL_KEY_NAME_MAX] = 'n';
    name[GL_KEY_NAME_MAX + 1] = 0;
    n = tu_foreign_vkey(name, GL_KEY_NOTE, 32, &seed, vk, sizeof(vk));
    tu_expect_why(gl_verifier_parse(vk, n, &v, &why), &why, GL_EKEYTYPE, 0,
                  "glasslog's limits");
    n = tu_foreign_vkey("a\x7f", GL_KEY_COSIG, 32, &seed, vk, sizeof(vk));
    tu_expect_why(gl_verifier_parse(vk, n, &v, &why), &why, GL_EKEYTYPE, 0,
                  "glasslog's limits");
    n = tu_foreign_vkey("a\xc2\x9b", GL_KEY_NOTE, 32, &seed, vk, sizeof(vk)); /* CSI */
    tu_expect_why(gl_verifier_parse(vk, n, &v, &why), &why, GL_EKEYTYPE, 0,
                  "glasslog's limits");
    /* ... which a key of a type we do not know may have: skippable */
    n = tu_foreign_vkey("a\xc2\x9b", 0x06, 1312, &seed, vk, sizeof(vk));
    assert_int_equal(gl_verifier_parse(vk, n, &v, NULL), GL_EKEYTYPE);
}

/* The signed-note name rule refuses exactly what Go's isValidName (and
 * Open, for C0 controls) refuses: every code point, in a name "a<c>". */
static void test_sig_name_every_code_point(void **state)
{
    unsigned char s[5];
    (void)state;
    for (uint32_t c = 0; c <= 0x10ffff; c++) {
        size_t n;
        int space = c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' ||
                    c == ' ' || c == 0x85 || c == 0xa0 || c == 0x1680 ||
                    (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
                    c == 0x202f || c == 0x205f || c == 0x3000;
        int want = !(space || c == '+' || c < 0x20);
        if (c >= 0xd800 && c <= 0xdfff)
            continue; /* not encodable */
        s[0] = 'a';
        if (c < 0x80)
            s[1] = (unsigned char)c, n = 2;
        else if (c < 0x800)
            s[1] = (unsigned char)(0xc0 | c >> 6),
            s[2] = (unsigned char)(0x80 | (c & 0x3f)), n = 3;
        else if (c < 0x10000)
            s[1] = (unsigned char)(0xe0 | c >> 12),
            s[2] = (unsigned char)(0x80 | (c >> 6 & 0x3f)),
            s[3] = (unsigned char)(0x80 | (c & 0x3f)), n = 4;
        else
            s[1] = (unsigned char)(0xf0 | c >> 18),
            s[2] = (unsigned char)(0x80 | (c >> 12 & 0x3f)),
            s[3] = (unsigned char)(0x80 | (c >> 6 & 0x3f)),
            s[4] = (unsigned char)(0x80 | (c & 0x3f)), n = 5;
        if (gl_key_sig_name_valid((const char *)s, n) != want)
            fail_msg("U+%04X: want %d", (unsigned)c, want);
        /* names of keys we hold: no control character at all */
        want = want && !(c >= 0x7f && c <= 0x9f);
        if (gl_key_name_valid((const char *)s, n) != want)
            fail_msg("U+%04X: ours want %d", (unsigned)c, want);
    }
}

static void test_ed25519(void **state)
{
    /* RFC 8032 section 7.1, TEST 1 (empty message). */
    static const char seed_hex[] =
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    static const char pub_hex[] =
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    static const char sig_hex[] =
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
    uint8_t seed[32], pub[32], want_pub[32], sig[64], want_sig[64];
    (void)state;
    assert_int_equal(gl_hex_decode_exact(seed_hex, 64, seed, 32, 1), 0);
    assert_int_equal(gl_hex_decode_exact(pub_hex, 64, want_pub, 32, 1), 0);
    assert_int_equal(gl_hex_decode_exact(sig_hex, 128, want_sig, 64, 1), 0);
    assert_int_equal(gl_ed25519_public(seed, pub), 0);
    assert_memory_equal(pub, want_pub, 32);
    assert_int_equal(gl_ed25519_sign(seed, "", 0, sig), 0);
    assert_memory_equal(sig, want_sig, 64);
    assert_int_equal(gl_ed25519_verify(pub, "", 0, sig), 0);
    sig[10] ^= 1;
    assert_int_equal(gl_ed25519_verify(pub, "", 0, sig), GL_EVERIFY);
    assert_int_equal(gl_ed25519_verify(pub, "x", 1, want_sig), GL_EVERIFY);
}

/* RFC 8032 section 7.1, TESTs 1 and 2, as raw bytes. */
struct rfc_pair {
    uint8_t pub[2][32], sig[2][64], msg2;
};

static void rfc_pairs(struct rfc_pair *v)
{
    static const char *const pub_hex[2] = {
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"};
    static const char *const sig_hex[2] = {
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
        "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(gl_hex_decode_exact(pub_hex[i], 64, v->pub[i], 32, 1), 0);
        assert_int_equal(gl_hex_decode_exact(sig_hex[i], 128, v->sig[i], 64, 1), 0);
    }
    v->msg2 = 0x72;
}

/* 0 if every check of one round holds: each key verifies its own
 * signature and refuses the other's, in an order that switches the
 * thread's cached key at every call. */
static int key_switch_round(const struct rfc_pair *v)
{
    int bad = 0;

    bad |= gl_ed25519_verify(v->pub[0], "", 0, v->sig[0]) != 0;
    bad |= gl_ed25519_verify(v->pub[1], &v->msg2, 1, v->sig[1]) != 0;
    bad |= gl_ed25519_verify(v->pub[0], &v->msg2, 1, v->sig[1]) != GL_EVERIFY;
    bad |= gl_ed25519_verify(v->pub[1], "", 0, v->sig[0]) != GL_EVERIFY;
    bad |= gl_ed25519_verify(v->pub[1], &v->msg2, 1, v->sig[1]) != 0;
    bad |= gl_ed25519_verify(v->pub[1], &v->msg2, 1, v->sig[0]) != GL_EVERIFY;
    return bad;
}

static void *key_switch_thread(void *arg)
{
    const struct rfc_pair *v = arg;
    int bad = 0;

    for (int i = 0; i < 50; i++)
        bad |= key_switch_round(v);
    return bad ? (void *)v : NULL;
}

/* gl_ed25519_verify keeps each thread's last key parsed: switching keys,
 * and several threads at once, must still check each signature against
 * the key it is given. */
static void test_ed25519_key_switch(void **state)
{
    struct rfc_pair v;
    pthread_t th[3];
    void *ret;
    (void)state;
    rfc_pairs(&v);
    assert_int_equal(key_switch_round(&v), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&th[i], NULL, key_switch_thread, &v), 0);
    assert_int_equal(key_switch_round(&v), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pthread_join(th[i], &ret), 0);
        assert_null(ret);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_keys),
        cmocka_unit_test(test_key_id_known),
        cmocka_unit_test(test_generate_roundtrip),
        cmocka_unit_test(test_to_cosig),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_refusals_say_why),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_sig_names),
        cmocka_unit_test(test_foreign_keys),
        cmocka_unit_test(test_known_type_name_limits),
        cmocka_unit_test(test_sig_name_every_code_point),
        cmocka_unit_test(test_ed25519),
        cmocka_unit_test(test_ed25519_key_switch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

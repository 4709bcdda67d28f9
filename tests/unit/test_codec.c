/*
 * test_codec: strict base64 (RFC 4648 section 10 vectors, canonical-form
 * refusals), hex, decimal parsing, the bounded buffer and SHA-256 (FIPS
 * 180-2 vectors; the streaming, one-shot and prefixed forms agree).
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "glasslog/buf.h"
#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/sha256.h"

static void test_base64_rfc4648(void **state)
{
    static const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *out[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    char enc[16];
    uint8_t dec[16];
    size_t n;
    (void)state;
    for (int i = 0; i < 7; i++) {
        assert_int_equal(
            gl_base64_encode((const uint8_t *)in[i], strlen(in[i]), enc, sizeof(enc)), 0);
        assert_string_equal(enc, out[i]);
        assert_int_equal(gl_base64_decode(out[i], strlen(out[i]), dec, sizeof(dec), &n),
                         0);
        assert_int_equal(n, strlen(in[i]));
        assert_memory_equal(dec, in[i], n);
    }
    assert_int_equal(gl_base64_encode((const uint8_t *)"foo", 3, enc, 4), GL_ETOOBIG);
}

static void test_base64_strict(void **state)
{
    static const char *bad[] = {"Zg=",  "Zg",       "Zh==",   "Zm9=",  "Z===",
                                "====", "Zg==Zg==", "Zm9v\n", " Zm9v", "Zm-v",
                                "Zm_v", "Zm9v====", "=m9v"};
    uint8_t dec[16];
    size_t n;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        assert_int_equal(gl_base64_decode(bad[i], strlen(bad[i]), dec, sizeof(dec), &n),
                         GL_EPARSE);
    assert_int_equal(gl_base64_decode("Zm9vYmFy", 8, dec, 5, &n), GL_ETOOBIG);
    assert_int_equal(gl_base64_decode_exact("Zm9vYmFy", 8, dec, 6), 0);
    assert_int_equal(gl_base64_decode_exact("Zm9vYmFy", 8, dec, 5), GL_EPARSE);
    assert_int_equal(gl_base64_decode_exact("Zm9vYmE=", 8, dec, 6), GL_EPARSE);
}

/* The lax decoder reads as Go's StdEncoding: unused bits ignored, every
 * other rule kept; without out it only counts. */
static void test_base64_lax(void **state)
{
    static const char *bad[] = {"Zg=",      "Zg",     "Zm=9",  "Z===", "====",
                                "Zg==Zg==", "Zm9v\n", " Zm9v", "Zm-v", "=m9v"};
    uint8_t dec[16];
    size_t n;
    int canon = 7;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        assert_int_equal(
            gl_base64_decode_lax(bad[i], strlen(bad[i]), dec, sizeof(dec), &n, NULL),
            GL_EPARSE);
        assert_int_equal(gl_base64_decode_lax(bad[i], strlen(bad[i]), NULL, 0, &n, NULL),
                         GL_EPARSE);
    }
    /* "Zh==" is "Zg==" with unused bits set */
    assert_int_equal(gl_base64_decode_lax("Zh==", 4, dec, sizeof(dec), &n, &canon), 0);
    assert_int_equal(n, 1);
    assert_int_equal(dec[0], 'f');
    assert_int_equal(canon, 0);
    assert_int_equal(gl_base64_decode_lax("Zm9x", 4, dec, sizeof(dec), &n, &canon), 0);
    assert_int_equal(canon, 1);
    assert_int_equal(gl_base64_decode_lax("Zm9vYmF=", 8, dec, sizeof(dec), &n, &canon),
                     0);
    assert_int_equal(n, 5);
    assert_memory_equal(dec, "fooba", 5);
    assert_int_equal(canon, 0);
    assert_int_equal(gl_base64_decode_lax("Zm9vYmE=", 8, NULL, 0, &n, &canon), 0);
    assert_int_equal(n, 5);
    assert_int_equal(canon, 1);
    assert_int_equal(gl_base64_decode_lax("Zm9vYmFy", 8, dec, 5, &n, NULL), GL_ETOOBIG);
    /* the strict decoder still refuses them */
    assert_int_equal(gl_base64_decode("Zm9vYmF=", 8, dec, sizeof(dec), &n), GL_EPARSE);
}

static void test_hex(void **state)
{
    uint8_t b[3] = {0x00, 0xab, 0xff}, d[3];
    char s[7];
    (void)state;
    assert_int_equal(gl_hex_encode(b, 3, s, sizeof(s)), 0);
    assert_string_equal(s, "00abff");
    assert_int_equal(gl_hex_encode(b, 3, s, 6), GL_ETOOBIG);
    assert_int_equal(gl_hex_decode_exact("00abff", 6, d, 3, 1), 0);
    assert_memory_equal(d, b, 3);
    assert_int_equal(gl_hex_decode_exact("00ABFF", 6, d, 3, 1), GL_EPARSE);
    assert_int_equal(gl_hex_decode_exact("00ABFF", 6, d, 3, 0), 0);
    assert_int_equal(gl_hex_decode_exact("00abf", 5, d, 3, 1), GL_EPARSE);
    assert_int_equal(gl_hex_decode_exact("00abfg", 6, d, 3, 1), GL_EPARSE);
}

static void test_parse_u64(void **state)
{
    uint64_t v;
    (void)state;
    assert_int_equal(gl_parse_u64("0", 1, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(gl_parse_u64("18446744073709551615", 20, &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(gl_parse_u64("18446744073709551616", 20, &v), GL_EPARSE);
    assert_int_equal(gl_parse_u64("01", 2, &v), GL_EPARSE);
    assert_int_equal(gl_parse_u64("", 0, &v), GL_EPARSE);
    assert_int_equal(gl_parse_u64("-1", 2, &v), GL_EPARSE);
    assert_int_equal(gl_parse_u64("+1", 2, &v), GL_EPARSE);
    assert_int_equal(gl_parse_u64("1 ", 2, &v), GL_EPARSE);
    assert_int_equal(gl_parse_u64("123456789012345678901", 21, &v), GL_EPARSE);
}

/* want: the size read, or UINT64_MAX for a refusal (which leaves the
 * output untouched). */
static void expect_size_body(const char *body, size_t n, uint64_t want)
{
    uint64_t got = 42;
    int rc = gl_parse_size_body(body, n, &got);

    if (want == UINT64_MAX) {
        assert_int_equal(rc, GL_EPARSE);
        assert_true(got == 42);
    } else {
        assert_int_equal(rc, 0);
        assert_true(got == want);
    }
}

static void test_parse_size_body(void **state)
{
    (void)state;
    expect_size_body("1000\n", 5, 1000);
    expect_size_body("0\n", 2, 0);
    expect_size_body("18446744073709551614\n", 21, UINT64_MAX - 1);
    expect_size_body("12", 2, 12); /* no newline: read whole, never as 1 */
    expect_size_body("", 0, UINT64_MAX);
    expect_size_body("\n", 1, UINT64_MAX);
    expect_size_body("1000\n\n", 6, UINT64_MAX);
    expect_size_body("1000\r\n", 6, UINT64_MAX);
    expect_size_body("01000\n", 6, UINT64_MAX);
    expect_size_body("-1\n", 3, UINT64_MAX);
    expect_size_body(" 1\n", 3, UINT64_MAX);
    expect_size_body("1\0\n", 3, UINT64_MAX);
    expect_size_body("18446744073709551616\n", 21, UINT64_MAX);
    expect_size_body("000000000000000000001\n", 22, UINT64_MAX);
}

static void test_buf(void **state)
{
    struct gl_buf b;
    uint8_t *p;
    size_t n, sum;
    (void)state;
    gl_buf_init(&b, 10);
    assert_int_equal(gl_buf_append_str(&b, "hello"), 0);
    assert_int_equal(gl_buf_printf(&b, "%d", 1234), 0);
    assert_int_equal(b.len, 9);
    assert_string_equal((char *)b.data, "hello1234");
    assert_int_equal(gl_buf_append_str(&b, "xy"), GL_ETOOBIG);
    assert_int_equal(gl_buf_printf(&b, "%s", "xy"), GL_ETOOBIG);
    assert_int_equal(b.len, 9);
    assert_string_equal((char *)b.data, "hello1234");
    assert_int_equal(gl_buf_putc(&b, '!'), 0);
    assert_int_equal(gl_buf_putc(&b, '!'), GL_ETOOBIG);
    assert_int_equal(gl_buf_detach(&b, &p, &n), 0);
    assert_int_equal(n, 10);
    assert_string_equal((char *)p, "hello1234!");
    assert_int_equal(b.len, 0);
    free(p);
    gl_buf_reset(&b);
    assert_int_equal(gl_buf_append_u64(&b, 0), 0);
    assert_int_equal(gl_buf_append_u64(&b, 987654321), 0);
    assert_string_equal((char *)b.data, "0987654321");
    gl_buf_truncate(&b, 11); /* past len: nothing */
    assert_int_equal(b.len, 10);
    gl_buf_truncate(&b, 4);
    assert_int_equal(b.len, 4);
    assert_string_equal((char *)b.data, "0987");
    gl_buf_truncate(&b, 0);
    assert_string_equal((char *)b.data, "");
    gl_buf_release(&b);
    gl_buf_truncate(&b, 0); /* released, no data: nothing */
    assert_null(b.data);
    assert_int_equal(gl_size_add(SIZE_MAX, 1, &sum), GL_EOVERFLOW);
    assert_int_equal(gl_size_mul(SIZE_MAX / 2, 3, &sum), GL_EOVERFLOW);
    assert_int_equal(gl_size_mul(7, 6, &sum), 0);
    assert_int_equal(sum, 42);
}

static void test_sha256(void **state)
{
    static const char abc_hex[] =
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    static const char empty_hex[] =
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    uint8_t want[32], got[32];
    struct gl_sha256 *h;
    (void)state;
    assert_int_equal(gl_hex_decode_exact(abc_hex, 64, want, 32, 1), 0);
    assert_int_equal(gl_sha256("abc", 3, got), 0);
    assert_memory_equal(got, want, 32);
    assert_int_equal(gl_sha256_3('a', "b", 1, "c", 1, got), 0);
    assert_memory_equal(got, want, 32);
    assert_int_equal(gl_sha256_new(&h), 0);
    assert_int_equal(gl_sha256_update(h, "ab", 2), 0);
    assert_int_equal(gl_sha256_update(h, "c", 1), 0);
    assert_int_equal(gl_sha256_final(h, got), 0);
    assert_memory_equal(got, want, 32);
    /* final resets: the context is reusable. */
    assert_int_equal(gl_sha256_final(h, got), 0);
    assert_int_equal(gl_hex_decode_exact(empty_hex, 64, want, 32, 1), 0);
    assert_memory_equal(got, want, 32);
    gl_sha256_free(h);
    gl_sha256_free(NULL);
    assert_int_equal(gl_sha256(NULL, 0, got), 0);
    assert_memory_equal(got, want, 32);
}

static void test_strerror(void **state)
{
    (void)state;
    for (int e = 0; e >= -15; e--)
        assert_string_not_equal(gl_strerror(e), "unknown error");
    assert_string_equal(gl_strerror(-999), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64_rfc4648),
        cmocka_unit_test(test_base64_strict),
        cmocka_unit_test(test_base64_lax),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_parse_u64),
        cmocka_unit_test(test_parse_size_body),
        cmocka_unit_test(test_buf),
        cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

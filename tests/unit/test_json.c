/*
 * test_json: the direct JSON writer (lib/net/json.h) against cJSON itself:
 * strings of every byte value and random strings, and numbers around each
 * of cJSON's formatting boundaries, must come out byte for byte as
 * cJSON_PrintUnformatted prints them.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "glasslog/buf.h"
#include "glasslog/error.h"
#include "json.h"

/* s (NUL-free, n bytes) through both writers. */
static void check_string(const char *s, size_t n)
{
    char *z = malloc(n + 1);
    cJSON *str;
    char *want;
    struct gl_buf b;

    assert_non_null(z);
    memcpy(z, s, n);
    z[n] = 0;
    str = cJSON_CreateString(z);
    assert_non_null(str);
    want = cJSON_PrintUnformatted(str);
    assert_non_null(want);
    gl_buf_init(&b, 6 * n + 3);
    assert_int_equal(gl_json_append_string(&b, s, n), 0);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    gl_buf_release(&b);
    cJSON_free(want);
    cJSON_Delete(str);
    free(z);
}

static void test_string_bytes(void **state)
{
    char s[3];
    (void)state;
    check_string("", 0);
    check_string("tlog-proof\nindex 3\n\n\"q\" \\ end", 29);
    for (int c = 1; c < 256; c++) {
        s[0] = 'a';
        s[1] = (char)c;
        s[2] = 'z';
        check_string(s, 3);
    }
}

static void test_string_random(void **state)
{
    char s[200];
    unsigned seed = 12345;
    (void)state;
    for (int round = 0; round < 500; round++) {
        size_t n = (size_t)(rand_r(&seed) % (int)sizeof(s));
        for (size_t i = 0; i < n; i++)
            s[i] = (char)(1 + rand_r(&seed) % 255);
        check_string(s, n);
    }
}

static void test_string_cap(void **state)
{
    struct gl_buf b;
    (void)state;
    gl_buf_init(&b, 4);
    assert_int_equal(gl_json_append_string(&b, "a\nb", 3), GL_ETOOBIG);
    gl_buf_release(&b);
}

static void check_u64(uint64_t v)
{
    cJSON *num = cJSON_CreateNumber((double)v);
    char *want;
    struct gl_buf b;

    assert_non_null(num);
    want = cJSON_PrintUnformatted(num);
    assert_non_null(want);
    gl_buf_init(&b, 64);
    assert_int_equal(gl_json_append_u64(&b, v), 0);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    gl_buf_release(&b);
    cJSON_free(want);
    cJSON_Delete(num);
}

static void test_u64(void **state)
{
    static const uint64_t edges[] = {0,
                                     1,
                                     255,
                                     2147483646ull,
                                     2147483647ull,
                                     2147483648ull,
                                     4294967296ull,
                                     999999999999999ull,
                                     1000000000000000ull,
                                     1234567890123456ull,
                                     9007199254740992ull,
                                     9007199254740993ull,
                                     UINT64_MAX};
    unsigned seed = 7;
    (void)state;
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
        check_u64(edges[i]);
    for (int round = 0; round < 1000; round++)
        check_u64(((uint64_t)rand_r(&seed) << 31 | (uint64_t)rand_r(&seed)) >>
                  (rand_r(&seed) % 40));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string_bytes),
        cmocka_unit_test(test_string_random),
        cmocka_unit_test(test_string_cap),
        cmocka_unit_test(test_u64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_net_query: the query-string rule every route of the daemons shares
 * (gl_query_*). Known parameters: at most once, always with '='; unknown
 * ones and empty segments are ignored whatever their shape; values are
 * bounded, decimals strict, percent escapes refused where a value is
 * never encoded. Each expectation is the rule written in query.h.
 */
#include "testutil.h"

#include <string.h>

#include "query.h"

static const char *const names[] = {"from", "limit"};

static int check(const char *q)
{
    char why[96] = "";
    int r = gl_query_check(q, names, 2, why, sizeof(why));

    /* A refusal always names the parameter. */
    if (r != 0)
        assert_true(strstr(why, "from") != NULL || strstr(why, "limit") != NULL);
    return r;
}

static void test_check(void **state)
{
    (void)state;
    assert_int_equal(check(""), 0);
    assert_int_equal(check("from=1&limit=2"), 0);
    assert_int_equal(check("&&from=1&"), 0);
    assert_int_equal(check("nocache"), 0);          /* unknown, bare */
    assert_int_equal(check("_=1&x&from=3"), 0);     /* unknown, both shapes */
    assert_int_equal(check("fromage=1&limits"), 0); /* prefixes are other names */
    assert_int_equal(check("from"), -1);            /* known, bare */
    assert_int_equal(check("x=1&limit"), -1);
    assert_int_equal(check("from=1&from=1"), -1); /* known, twice */
    assert_int_equal(check("limit=&limit=2"), -1);
}

static void test_get(void **state)
{
    char v[8];
    (void)state;

    assert_int_equal(gl_query_get_raw("a=1&b=x%20y", "b", v, sizeof(v)), 1);
    assert_string_equal(v, "x%20y");
    assert_int_equal(gl_query_get("a=1&b=x%20y", "b", v, sizeof(v)), -1);
    assert_int_equal(gl_query_get_raw("ab=1&b=", "b", v, sizeof(v)), 1);
    assert_string_equal(v, "");
    assert_int_equal(gl_query_get_raw("ab=1", "b", v, sizeof(v)), 0);
    assert_int_equal(gl_query_get_raw("b=1234567", "b", v, sizeof(v)), 1);
    assert_int_equal(gl_query_get_raw("b=12345678", "b", v, sizeof(v)), -1);
}

static void test_u64(void **state)
{
    uint64_t x = 7;
    (void)state;

    assert_int_equal(gl_query_u64("y=2", "x", &x), 0);
    assert_int_equal(x, 7); /* absent: untouched */
    assert_int_equal(gl_query_u64("x=18446744073709551615", "x", &x), 1);
    assert_true(x == UINT64_MAX);
    assert_int_equal(gl_query_u64("x=0", "x", &x), 1);
    assert_int_equal(x, 0);
    static const char *const bad[] = {
        "x=",   "x=01", "x=-1", "x=+1", "x=1.5", "x=%31", "x=18446744073709551616",
        "x=abc"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(gl_query_u64(bad[i], "x", &x), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_u64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_client_fetch: the --log URL list (fetch_urls_add): one URL, a
 * comma-separated list, repeated options appending in order, trailing
 * slashes dropped; refusals (empty item, a scheme other than http(s),
 * more than FETCH_MAX_URLS, more bytes than the list holds) leave the
 * list unchanged; a copy of the list made by fetch_init_urls points into
 * its own storage; fetch_rewind goes back to the first URL. No network.
 */
#include "testutil.h"

#include <string.h>

#include "../../client/fetch.h"
#include "glasslog/error.h"

static void test_urls_parse(void **state)
{
    struct fetch_urls u;
    struct gl_err why;

    (void)state;
    memset(&u, 0, sizeof(u));
    assert_int_equal(fetch_urls_add(&u, "http://log.example/", &why), 0);
    assert_int_equal(u.n, 1);
    assert_string_equal(u.v[0], "http://log.example");
    assert_int_equal(
        fetch_urls_add(&u, "https://m1.example/mirror/ab,http://m2.example//", &why), 0);
    assert_int_equal(u.n, 3);
    assert_string_equal(u.v[0], "http://log.example");
    assert_string_equal(u.v[1], "https://m1.example/mirror/ab");
    assert_string_equal(u.v[2], "http://m2.example");
}

static void test_urls_refused(void **state)
{
    static const char *bad[] = {"",        ",",       "http://a,",   ",http://a",
                                "ftp://a", "http://", "log.example", "http://a,,http://b",
                                "https://"};
    struct fetch_urls u;
    struct gl_err why;
    char big[FETCH_URLS_TEXT_MAX + 16];

    (void)state;
    memset(&u, 0, sizeof(u));
    assert_int_equal(fetch_urls_add(&u, "http://first", &why), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(fetch_urls_add(&u, bad[i], &why), GL_EINVAL);
        assert_true(why.reason[0] != 0);
        assert_int_equal(u.n, 1);
        assert_string_equal(u.v[0], "http://first");
    }
    assert_int_equal(fetch_urls_add(&u, "ftp://x", &why), GL_EINVAL);
    assert_non_null(strstr(why.reason, "'ftp://x' must start with http:// or https://"));
    /* seven more fit, the ninth does not, even in one list */
    assert_int_equal(fetch_urls_add(&u, "http://2,http://3,http://4,http://5", &why), 0);
    assert_int_equal(fetch_urls_add(&u, "http://6,http://7,http://8,http://9", &why),
                     GL_ETOOBIG);
    assert_int_equal(u.n, 5);
    assert_int_equal(fetch_urls_add(&u, "http://6,http://7,http://8", &why), 0);
    assert_int_equal(u.n, FETCH_MAX_URLS);
    assert_string_equal(u.v[7], "http://8");
    assert_int_equal(fetch_urls_add(&u, "http://9", &why), GL_ETOOBIG);
    /* the byte cap */
    memset(&u, 0, sizeof(u));
    memcpy(big, "http://", 7);
    memset(big + 7, 'a', sizeof(big) - 8);
    big[sizeof(big) - 1] = 0;
    assert_int_equal(fetch_urls_add(&u, big, &why), GL_ETOOBIG);
    assert_int_equal(u.n, 0);
}

static void test_init_copies(void **state)
{
    struct fetch_urls u;
    struct fetch f;
    struct gl_err why;

    (void)state;
    memset(&u, 0, sizeof(u));
    assert_int_equal(fetch_urls_add(&u, "http://a,http://b", &why), 0);
    assert_int_equal(fetch_init_urls(&f, &u, 1), 0);
    memset(&u, 'x', sizeof(u.text));
    assert_int_equal(f.urls.n, 2);
    assert_string_equal(f.urls.v[1], "http://b");
    assert_string_equal(f.base, "http://a");
    f.cur = 1; /* as after a failover */
    f.base = f.urls.v[1];
    fetch_rewind(&f);
    assert_int_equal(f.cur, 0);
    assert_string_equal(f.base, "http://a");
    fetch_release(&f);
    /* fetch_init takes the same list syntax */
    assert_int_equal(fetch_init(&f, "http://c/,https://d", 1), 0);
    assert_int_equal(f.urls.n, 2);
    assert_string_equal(f.urls.v[0], "http://c");
    fetch_release(&f);
    assert_int_equal(fetch_init(&f, "gopher://c", 1), GL_EINVAL);
    assert_non_null(strstr(f.error, "must start with http:// or https://"));
    fetch_release(&f);
    memset(&u, 0, sizeof(u));
    assert_int_equal(fetch_init_urls(&f, &u, 1), GL_EINVAL);
    fetch_release(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urls_parse),
        cmocka_unit_test(test_urls_refused),
        cmocka_unit_test(test_init_copies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

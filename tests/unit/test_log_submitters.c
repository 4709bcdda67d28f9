/*
 * test_log_submitters: glasslogd's --submitters file: the original format
 * (bare keys, "#" comments, blank lines, CRLF, surrounding spaces) still
 * loads; per-key rate= and burst= over the defaults, "unlimited",
 * tabs and trailing comments; every error class with its line number
 * (unknown, repeated or bad options, malformed and cosigning keys, a key
 * listed twice, too many keys, an over-long line); buckets start full;
 * loading from a file and a missing file.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../log/submitters.h"
#include "glasslog/error.h"

static const struct ratelimit_limit unlimited = {0, 100};
static const struct ratelimit_limit one_per_s = {1000000, 5};

static char ka[256], kb[256], kc[256], kcos[256];

static int setup(void **state)
{
    (void)state;
    tu_gen_vkey("a.example", GL_KEY_NOTE, ka, sizeof(ka));
    tu_gen_vkey("b.example", GL_KEY_NOTE, kb, sizeof(kb));
    tu_gen_vkey("c.example", GL_KEY_NOTE, kc, sizeof(kc));
    tu_gen_vkey("w.example", GL_KEY_COSIG, kcos, sizeof(kcos));
    return 0;
}

static int parse(const char *text, size_t max, const struct ratelimit_limit *def,
                 struct submitters *s, struct gl_err *why)
{
    return submitters_parse(text, strlen(text), max, def, 1000, s, why);
}

static void test_old_format(void **state)
{
    char text[2048];
    struct submitters s;
    struct gl_err why = {99, "untouched"};
    (void)state;

    snprintf(text, sizeof(text), "# submitters\n\n  %s  \r\n\t\n# %s\n%s\r\n%s", ka, kc,
             kb, kc);
    assert_int_equal(parse(text, 16, &unlimited, &s, &why), 0);
    assert_int_equal(why.line, 99); /* success leaves why alone */
    assert_string_equal(why.reason, "untouched");
    assert_int_equal(s.n, 3);
    assert_string_equal(s.keys[0].name, "a.example");
    assert_string_equal(s.keys[1].name, "b.example");
    assert_string_equal(s.keys[2].name, "c.example"); /* last line without newline */
    for (size_t i = 0; i < s.n; i++) {
        assert_int_equal(s.keys[i].type, GL_KEY_NOTE);
        assert_true(ratelimit_unlimited(&s.limits[i]));
    }
    submitters_release(&s);
    assert_null(s.keys);
    assert_int_equal(s.n, 0);

    /* an empty file is valid (and refuses every append) */
    assert_int_equal(parse("", 16, &unlimited, &s, NULL), 0);
    assert_int_equal(s.n, 0);
    submitters_release(&s);
}

static void test_options(void **state)
{
    char text[2048];
    struct submitters s;
    uint64_t ra;
    (void)state;

    snprintf(text, sizeof(text),
             "%s rate=0.5 burst=3\n"
             "%s\tburst=7   # only the burst; the rate is the default\n"
             "%s rate=unlimited #exempt\n",
             ka, kb, kc);
    assert_int_equal(parse(text, 16, &one_per_s, &s, NULL), 0);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.limits[0].lim.rate_u, 500000);
    assert_int_equal(s.limits[0].lim.burst, 3);
    assert_int_equal(s.limits[1].lim.rate_u, 1000000);
    assert_int_equal(s.limits[1].lim.burst, 7);
    assert_true(ratelimit_unlimited(&s.limits[2]));
    /* buckets start full at the given clock */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ratelimit_admit(&s.limits[0], 1000, &ra), 1);
        ratelimit_spend(&s.limits[0], 1000);
    }
    assert_int_equal(ratelimit_admit(&s.limits[0], 1000, &ra), 0);
    assert_int_equal(ra, 2);
    submitters_release(&s);

    /* bare keys take both defaults; an option may also come alone */
    snprintf(text, sizeof(text), "%s\n%s rate=2\n", ka, kb);
    assert_int_equal(parse(text, 16, &one_per_s, &s, NULL), 0);
    assert_int_equal(s.limits[0].lim.rate_u, 1000000);
    assert_int_equal(s.limits[0].lim.burst, 5);
    assert_int_equal(s.limits[1].lim.rate_u, 2000000);
    assert_int_equal(s.limits[1].lim.burst, 5);
    submitters_release(&s);
}

/* text's line `want_line` must fail with rc, and why must mention what. */
static void expect_error(const char *text, size_t max, int rc, size_t want_line,
                         const char *what)
{
    struct submitters s;
    struct gl_err why = {0, ""};

    assert_int_equal(parse(text, max, &one_per_s, &s, &why), rc);
    assert_int_equal(why.line, want_line);
    if (strstr(why.reason, what) == NULL)
        fail_msg("reason \"%s\" does not mention \"%s\"", why.reason, what);
    submitters_release(&s);
}

static void test_errors(void **state)
{
    char text[8192], big[SUBMITTERS_LINE_MAX + 64];
    (void)state;

    snprintf(text, sizeof(text), "# ok\n%s\n%s rat=1\n", ka, kb);
    expect_error(text, 16, GL_EPARSE, 3, "unknown option");
    snprintf(text, sizeof(text), "%s rate=1 rate=2\n", ka);
    expect_error(text, 16, GL_EPARSE, 1, "rate= given twice");
    snprintf(text, sizeof(text), "\n%s burst=2 burst=2\n", ka);
    expect_error(text, 16, GL_EPARSE, 2, "burst= given twice");
    static const char *const bad_rates[] = {"rate=0",      "rate=",          "rate=-1",
                                            "rate=abc",    "rate=1.1234567", "rate=1e3",
                                            "rate=2000000"};
    for (size_t i = 0; i < sizeof(bad_rates) / sizeof(bad_rates[0]); i++) {
        snprintf(text, sizeof(text), "%s\n%s %s\n", ka, kb, bad_rates[i]);
        expect_error(text, 16, GL_EPARSE, 2, "rate= takes");
    }
    static const char *const bad_bursts[] = {"burst=0", "burst=", "burst=1.5",
                                             "burst=1000001", "burst=x"};
    for (size_t i = 0; i < sizeof(bad_bursts) / sizeof(bad_bursts[0]); i++) {
        snprintf(text, sizeof(text), "%s rate=3 %s\n", ka, bad_bursts[i]);
        expect_error(text, 16, GL_EPARSE, 1, "burst= takes");
    }
    snprintf(text, sizeof(text), "%s RATE=1\n", ka);
    expect_error(text, 16, GL_EPARSE, 1, "unknown option");
    expect_error("not-a-key rate=1\n", 16, GL_EPARSE, 1, "malformed verifier key");
    expect_error("rate=1\n", 16, GL_EPARSE, 1, "malformed verifier key");
    snprintf(text, sizeof(text), "%s\n%s\n", ka, kcos);
    expect_error(text, 16, GL_EKEYTYPE, 2, "cosigning key");
    snprintf(text, sizeof(text), "%s\n%s\n# again:\n%s rate=3\n", ka, kb, ka);
    expect_error(text, 16, GL_EEXIST, 4, "listed twice");
    snprintf(text, sizeof(text), "%s\n%s\n%s\n", ka, kb, kc);
    expect_error(text, 2, GL_ETOOBIG, 3, "more than 2 submitter keys");
    /* a key glued to an option is a malformed key, not a key */
    snprintf(text, sizeof(text), "%s,rate=1\n", ka);
    expect_error(text, 16, GL_EPARSE, 1, "malformed verifier key");
    /* an over-long line, even a comment */
    memset(big, ' ', sizeof(big) - 1);
    big[0] = '#';
    big[sizeof(big) - 1] = 0;
    snprintf(text, sizeof(text), "%s\n%s\n", ka, big);
    expect_error(text, 16, GL_ETOOBIG, 2, "line longer");
}

static void test_load(void **state)
{
    char path[] = "/tmp/glasslog-submitters-XXXXXX", text[1024];
    struct submitters s;
    struct gl_err why = {0, ""};
    int fd = mkstemp(path);
    (void)state;

    assert_true(fd >= 0);
    snprintf(text, sizeof(text), "%s rate=0.25 burst=2\n", ka);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(submitters_load(path, 16, &unlimited, 0, &s, &why), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.limits[0].lim.rate_u, 250000);
    assert_int_equal(s.limits[0].lim.burst, 2);
    submitters_release(&s);
    unlink(path);
    assert_int_equal(submitters_load(path, 16, &unlimited, 0, &s, &why), GL_EIO);
    assert_int_equal(why.line, 0);
    assert_non_null(strstr(why.reason, "cannot read the file: "));
    submitters_release(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_old_format),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_load),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}

/*
 * test_client_opts: how every glasslog command reads its options
 * (cli_parse_opts) and the --log/--timeout options of the commands that
 * read a log (fetch_opts_take): each option reaches the command's take
 * function with its value; operands may stand between options; --help
 * stops at once (1); an unknown option, a missing value and a refused
 * value are -1; a repeated --log adds URLs; a bad --log or --timeout
 * changes nothing.
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "../../client/cli.h"
#include "../../client/fetch.h"
#include "glasslog/error.h"

static const struct option opts[] = {
    {"name", required_argument, NULL, 'n'}, {"flag", no_argument, NULL, 'f'},
    {"log", required_argument, NULL, 'l'},  {"timeout", required_argument, NULL, 't'},
    {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
};

struct seen {
    const char *name;
    int flags, calls;
    struct fetch_opts net;
};

static int take(void *ctx, int c, const char *arg)
{
    struct seen *s = ctx;

    s->calls++;
    if (c == 'n') {
        if (strcmp(arg, "bad") == 0)
            return GL_EINVAL;
        s->name = arg;
        return 0;
    }
    if (c == 'f') {
        s->flags++;
        return 0;
    }
    return fetch_opts_take(&s->net, c, arg);
}

/* Runs cli_parse_opts over the n words of w (w[0] the command). */
static int parse(struct seen *s, char **w, int n)
{
    memset(s, 0, sizeof(*s));
    return cli_parse_opts(n, w, opts, "usage: test\n", take, s);
}

static void test_parse(void **state)
{
    char *w[] = {"cmd",
                 "--name",
                 "x",
                 "op1",
                 "--flag",
                 "--log",
                 "http://a,http://b/",
                 "--log=https://c",
                 "--flag",
                 "--timeout",
                 "7",
                 "op2",
                 NULL};
    struct seen s;

    (void)state;
    assert_int_equal(parse(&s, w, 12), 0);
    assert_string_equal(s.name, "x");
    assert_int_equal(s.flags, 2);
    assert_int_equal(s.calls, 6);
    assert_int_equal(s.net.urls.n, 3);
    assert_string_equal(fetch_opts_log(&s.net), "http://a");
    assert_string_equal(s.net.urls.v[1], "http://b");
    assert_string_equal(s.net.urls.v[2], "https://c");
    assert_true(s.net.timeout_s == 7.0);
    /* the operands, in order, from optind on */
    assert_int_equal(optind, 10);
    assert_string_equal(w[optind], "op1");
    assert_string_equal(w[optind + 1], "op2");
    /* a second parse starts over */
    char *w2[] = {"cmd", "op", NULL};
    assert_int_equal(parse(&s, w2, 2), 0);
    assert_int_equal(s.calls, 0);
    assert_int_equal(optind, 1);
}

static void test_stops(void **state)
{
    char *help[] = {"cmd", "--flag", "--help", "--name", "bad", NULL};
    char *unknown[] = {"cmd", "--bogus", "--flag", NULL};
    char *missing[] = {"cmd", "--flag", "--name", NULL};
    char *refused[] = {"cmd", "--name", "bad", "--flag", NULL};
    struct seen s;

    (void)state;
    assert_int_equal(parse(&s, help, 5), 1);
    assert_int_equal(s.calls, 1); /* nothing after --help is taken */
    assert_int_equal(parse(&s, unknown, 3), -1);
    assert_int_equal(s.calls, 0);
    assert_int_equal(parse(&s, missing, 3), -1);
    assert_int_equal(s.flags, 1);
    assert_int_equal(parse(&s, refused, 4), -1);
    assert_int_equal(s.flags, 0);
}

static void test_fetch_opts(void **state)
{
    struct fetch_opts o;

    (void)state;
    memset(&o, 0, sizeof(o));
    assert_int_equal(fetch_opts_take(&o, 'l', "http://log"), 0);
    assert_int_equal(fetch_opts_take(&o, 't', "86400"), 0);
    assert_true(o.timeout_s == 86400.0);
    /* bad values: refused, o unchanged */
    assert_int_equal(fetch_opts_take(&o, 'l', "ftp://x"), GL_EINVAL);
    assert_int_equal(fetch_opts_take(&o, 'l', "http://ok,ftp://x"), GL_EINVAL);
    assert_int_equal(fetch_opts_take(&o, 't', "0"), GL_EINVAL);
    assert_int_equal(fetch_opts_take(&o, 't', "86401"), GL_EINVAL);
    assert_int_equal(fetch_opts_take(&o, 't', "10x"), GL_EINVAL);
    assert_int_equal(o.urls.n, 1);
    assert_string_equal(fetch_opts_log(&o), "http://log");
    assert_true(o.timeout_s == 86400.0);
    /* not one of its options */
    assert_int_equal(fetch_opts_take(&o, 'p', "x"), GL_ENOTFOUND);
    assert_int_equal(o.urls.n, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_stops),
        cmocka_unit_test(test_fetch_opts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

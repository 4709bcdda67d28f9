/*
 * test_options: lib/net/options.c, the settings table of both daemons:
 * defaults from the table, "--name value" and "--name=value", flags, the
 * config file (comments, CRLF, "key = value", line numbers in errors) with
 * flags winning, and refusals (trailing junk, signs, spaces, out of range,
 * empty or too long strings, unknown names, a flag with a value, a missing
 * value, a setting given twice, a second --config) that leave the verdict
 * -1; --config=FILE as well as --config FILE; a reload's check
 * (gl_opts_reload_check: the settings changed outside the reloadable
 * list, all named, the text cut to its buffer). Expected
 * values are written out here, not taken from the table.
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "options.h"

struct cfg {
    char name[8];
    char mode[16];
    unsigned n, ms;
    int on;
};

static const struct gl_opt table_v[] = {
    GL_OPT_STR("name", struct cfg, name, NULL, "S", "a short name"),
    GL_OPT_STR("mode", struct cfg, mode, "block", "MODE", "a mode"),
    GL_OPT_UINT("n", struct cfg, n, 1, 100, 10, "N", "a count"),
    GL_OPT_UINT("ms", struct cfg, ms, 0, 5000, 0, "MS", "a duration"),
    GL_OPT_FLAG("on", struct cfg, on, "a flag"),
};
static const struct gl_opts table = {"prog", "1.0", "usage: prog\n", table_v, 5};

/* Parses the NULL-terminated argument list (argv[0] added). */
static int parse(struct cfg *c, const char *const *args)
{
    char *argv[32] = {"prog"};
    int argc = 1;

    while (*args != NULL && argc < 31)
        argv[argc++] = (char *)*args++;
    memset(c, 0x55, sizeof(*c)); /* the parser must set every field */
    return gl_opts_parse(&table, argc, argv, c);
}

static void test_defaults_and_flags(void **state)
{
    struct cfg c;
    (void)state;

    assert_int_equal(parse(&c, (const char *[]){NULL}), 0);
    assert_string_equal(c.name, "");
    assert_string_equal(c.mode, "block");
    assert_int_equal(c.n, 10);
    assert_int_equal(c.ms, 0);
    assert_int_equal(c.on, 0);
    assert_int_equal(parse(&c, (const char *[]){"--name", "abc", "--n=100", "--on",
                                                "--ms", "5000", "--mode=x", NULL}),
                     0);
    assert_string_equal(c.name, "abc");
    assert_string_equal(c.mode, "x");
    assert_int_equal(c.n, 100);
    assert_int_equal(c.ms, 5000);
    assert_int_equal(c.on, 1);
    assert_int_equal(parse(&c, (const char *[]){"--help", NULL}), 1);
    assert_int_equal(parse(&c, (const char *[]){"--version", NULL}), 1);
}

static void test_refusals(void **state)
{
    static const char *const bad[][3] = {
        {"--n", "10x", NULL},     {"--n", "-1", NULL},
        {"--n", " 5", NULL},      {"--n", "", NULL},
        {"--n", "0", NULL},       {"--n", "101", NULL},
        {"--n", "010", NULL},     {"--n", "+5", NULL},
        {"--ms", "5001", NULL},   {"--n", NULL, NULL},
        {"--name", "", NULL},     {"--name", "12345678", NULL},
        {"--on=yes", NULL, NULL}, {"--nope", "1", NULL},
        {"stray", NULL, NULL},    {"--n", "99999999999999999999", NULL},
    };
    struct cfg c;
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (parse(&c, bad[i]) != -1)
            fail_msg("accepted %s %s", bad[i][0], bad[i][1] ? bad[i][1] : "");
    assert_int_equal(parse(&c, (const char *[]){"--name", "1234567", "--n", "1", NULL}),
                     0);
    assert_string_equal(c.name, "1234567");
    assert_int_equal(c.n, 1);
    /* Each setting once: a repeated flag is refused, in any spelling. */
    assert_int_equal(parse(&c, (const char *[]){"--n", "5", "--n", "6", NULL}), -1);
    assert_int_equal(parse(&c, (const char *[]){"--n=5", "--ms", "1", "--n=5", NULL}),
                     -1);
    assert_int_equal(parse(&c, (const char *[]){"--on", "--on", NULL}), -1);
}

/* Writes text to a temporary config file; returns its path in path[]. */
static void write_conf(const char *dir, const char *text, char *path, size_t max)
{
    FILE *f;

    snprintf(path, max, "%s/conf", dir);
    assert_non_null(f = fopen(path, "w"));
    fputs(text, f);
    fclose(f);
}

static void test_config_file(void **state)
{
    char dir[256], path[300];
    struct cfg c;
    (void)state;

    tu_tempdir("opts", dir, sizeof(dir));
    write_conf(dir, "# comment\r\n\n  name = fromf\r\nn 7\non\nms\t20", path,
               sizeof(path));
    assert_int_equal(parse(&c, (const char *[]){"--config", path, NULL}), 0);
    assert_string_equal(c.name, "fromf");
    assert_int_equal(c.n, 7);
    assert_int_equal(c.ms, 20);
    assert_int_equal(c.on, 1);
    /* flags win over the file, wherever --config is */
    assert_int_equal(parse(&c, (const char *[]){"--n", "9", "--config", path, NULL}), 0);
    assert_int_equal(c.n, 9);
    assert_string_equal(c.name, "fromf");
    write_conf(dir, "ms 7\nn 7x\n", path, sizeof(path));
    assert_int_equal(parse(&c, (const char *[]){"--config", path, NULL}), -1);
    /* a "#" after a value is refused (it would join the value); one
     * within a value is the value's */
    {
        static const char txt[] = "n 7\nname dir # backups\n";
        struct gl_err why;
        tu_expect_why(gl_opts_text(&table, txt, strlen(txt), &c, &why), &why, GL_EPARSE,
                      2,
                      "name: a \"#\" after the value: a comment takes a line of its own");
        assert_int_equal(gl_opts_text(&table, "name a#b\n", 9, &c, &why), 0);
        assert_string_equal(c.name, "a#b");
    }
    write_conf(dir, "name x\t#\n", path, sizeof(path));
    assert_int_equal(parse(&c, (const char *[]){"--config", path, NULL}), -1);
    write_conf(dir, "bogus 1\n", path, sizeof(path));
    assert_int_equal(parse(&c, (const char *[]){"--config", path, NULL}), -1);
    write_conf(dir, "on no\n", path, sizeof(path));
    assert_int_equal(parse(&c, (const char *[]){"--config", path, NULL}), -1);
    assert_int_equal(parse(&c, (const char *[]){"--config", NULL}), -1);
    snprintf(path, sizeof(path), "%s/missing", dir);
    assert_int_equal(parse(&c, (const char *[]){"--config", path, NULL}), -1);
    {
        char big[4096];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        memcpy(big, "# ", 2); /* a huge comment is still too long a line */
        write_conf(dir, big, path, sizeof(path));
        assert_int_equal(parse(&c, (const char *[]){"--config", path, NULL}), -1);
    }
    tu_rmtree(dir);
}

static void test_config_once(void **state)
{
    char dir[256], a[300], b[300];
    struct cfg c;
    (void)state;

    tu_tempdir("opts", dir, sizeof(dir));
    write_conf(dir, "n 7\nname fromf\n", b, sizeof(b));
    snprintf(a, sizeof(a), "%s/a.conf", dir);
    assert_int_equal(rename(b, a), 0);
    write_conf(dir, "n 8\n", b, sizeof(b));
    /* one file, in either form */
    assert_int_equal(parse(&c, (const char *[]){"--config", a, NULL}), 0);
    assert_int_equal(c.n, 7);
    {
        char arg[320];
        snprintf(arg, sizeof(arg), "--config=%s", a);
        assert_int_equal(parse(&c, (const char *[]){arg, "--ms", "3", NULL}), 0);
        assert_int_equal(c.n, 7);
        assert_int_equal(c.ms, 3);
        assert_string_equal(c.name, "fromf");
        /* a second file is refused, not read over the first, in any form */
        assert_int_equal(parse(&c, (const char *[]){"--config", a, "--config", b, NULL}),
                         -1);
        assert_int_equal(parse(&c, (const char *[]){arg, "--config", b, NULL}), -1);
        assert_int_equal(parse(&c, (const char *[]){"--config", a, arg, NULL}), -1);
    }
    assert_int_equal(parse(&c, (const char *[]){"--config=", NULL}), -1);
    tu_rmtree(dir);
}

static void test_reload_check(void **state)
{
    static const char *const reloadable[] = {"mode", "on", NULL};
    struct cfg a, b;
    char why[64];
    (void)state;

    assert_int_equal(parse(&a, (const char *[]){"--name", "x", NULL}), 0);
    assert_int_equal(
        parse(&b, (const char *[]){"--name", "x", "--mode", "y", "--on", NULL}), 0);
    assert_int_equal(gl_opts_reload_check(&table, &a, &b, reloadable, why, sizeof(why)),
                     0);
    assert_int_equal(parse(&b, (const char *[]){"--name", "z", "--ms", "1", NULL}), 0);
    assert_int_equal(gl_opts_reload_check(&table, &a, &b, reloadable, why, sizeof(why)),
                     GL_ESTATE);
    assert_string_equal(why, "name, ms changed: only a restart applies them");
    assert_int_equal(parse(&b, (const char *[]){"--name", "x", "--n", "11", NULL}), 0);
    assert_int_equal(gl_opts_reload_check(&table, &a, &b, reloadable, why, sizeof(why)),
                     GL_ESTATE);
    assert_string_equal(why, "n changed: only a restart applies it");
    assert_int_equal(parse(&b, (const char *[]){"--name", "z", "--ms", "1", NULL}), 0);
    assert_int_equal(gl_opts_reload_check(&table, &a, &b, reloadable, why, 8), GL_ESTATE);
    assert_string_equal(why, "name, m");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_flags), cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_config_file),        cmocka_unit_test(test_config_once),
        cmocka_unit_test(test_reload_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

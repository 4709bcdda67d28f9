/*
 * test_log_config: glasslogd's config file, parsed from memory
 * (config_text) and through --config FILE (config_parse): every setting
 * kind ("key value", "key=value", tabs, flags), comments, CRLF and a last
 * line without newline; every refusal with its line (unknown key, out of
 * range, a flag with a value, a missing value, an over-long value or line,
 * control bytes, a file over the cap, a setting given twice); flags win
 * over the file; a flag given twice is refused; a missing file is an
 * error; a reload's check (config_reload_check): what it applies or
 * ignores may change, any other change and removed witnesses are refused,
 * named.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../log/config.h"
#include "options.h"
#include "glasslog/error.h"

static char a0[] = "glasslogd", a1[] = "--store", a2[] = "mem:", a3[] = "--key",
            a4[] = "k", a5[] = "--submitters", a6[] = "s";

/* The defaults, through config_parse with only the required flags. */
static void defaults(struct config *c)
{
    char *argv[] = {a0, a1, a2, a3, a4, a5, a6, NULL};
    assert_int_equal(config_parse(7, argv, c), 0);
}

static void test_settings(void **state)
{
    static const char text[] = "# a comment\n"
                               "\n"
                               "  listen 127.0.0.1:9000  \n"
                               "batch-ms=0\n"
                               "\tpool-max \t= 99\r\n"
                               "data /var/lib/glasslog\n"
                               "witness-mode fail-open\n"
                               "create\n"
                               "submit-rate 0.5";
    struct config c, d;
    struct gl_err why = {0, ""};
    (void)state;

    defaults(&c);
    defaults(&d);
    assert_int_equal(c.batch_ms, 5);
    assert_int_equal(config_text(text, sizeof(text) - 1, &c, &why), 0);
    assert_string_equal(c.listen, "127.0.0.1:9000");
    assert_int_equal(c.batch_ms, 0);
    assert_int_equal(c.pool_max, 99);
    assert_string_equal(c.data, "/var/lib/glasslog");
    assert_string_equal(c.witness_mode, "fail-open");
    assert_int_equal(c.create, 1);
    assert_string_equal(c.submit_rate, "0.5");
    /* Untouched settings keep their values. */
    assert_int_equal(c.batch_max, d.batch_max);
    assert_string_equal(c.log_level, "info");
    assert_int_equal(config_text("", 0, &d, &why), 0);
    assert_int_equal(config_text("create true\n", 12, &d, &why), 0);
    assert_int_equal(d.create, 1);
    defaults(&d);
    assert_int_equal(config_text("create=1\n", 9, &d, &why), 0);
    assert_int_equal(d.create, 1);
}

static void refused_n(const char *text, size_t n, int rc, size_t line, const char *reason)
{
    struct config c;
    struct gl_err why = {0, ""};

    defaults(&c);
    tu_expect_why(config_text(text, n, &c, &why), &why, rc, line, reason);
}

static void refused(const char *text, int rc, size_t line, const char *reason)
{
    refused_n(text, strlen(text), rc, line, reason);
}

static void test_errors(void **state)
{
    char big[GL_OPTS_LINE_MAX + 16];
    char *huge;
    struct config c;
    struct gl_err why = {0, ""};
    (void)state;

    refused("listen 127.0.0.1:1\nlisten-port 8080\n", GL_EPARSE, 2,
            "unknown setting \"listen-port\"");
    refused("batch-max 0\n", GL_EPARSE, 1,
            "batch-max must be a whole number from 1 to 65536");
    refused("\n\ncache-mb 65537\n", GL_EPARSE, 3, "cache-mb must be a whole number");
    refused("pool-max 1e6\n", GL_EPARSE, 1, "pool-max must be a whole number");
    refused("create yes\n", GL_EPARSE, 1, "create takes no value");
    /* Every setting takes one value: a second one is refused, not last-wins. */
    refused("data /a\n# b\ndata /b\n", GL_EPARSE, 3, "data given twice (lines 1 and 3)");
    refused("create\nlisten 127.0.0.1:1\ncreate=1\n", GL_EPARSE, 3,
            "create given twice (lines 1 and 3)");
    refused("batch-ms 1\nbatch-ms 1\n", GL_EPARSE, 2,
            "batch-ms given twice (lines 1 and 2)");
    refused("key\n", GL_EPARSE, 1, "key needs a value");
    refused("key =\n", GL_EPARSE, 1, "key needs a value");
    refused("log-level de\x1b[0mbug\n", GL_EPARSE, 1, "a control character (byte 0x1b)");
    refused_n("listen a\0b\n", 11, GL_EPARSE, 1, "a control character (byte 0x00)");
    memset(big, 'd', sizeof(big));
    memcpy(big, "data ", 5);
    big[CONFIG_PATH_MAX + 5] = 0;
    refused(big, GL_EPARSE, 1, "data: empty or longer than 1023 bytes");
    big[0] = '#';
    big[GL_OPTS_LINE_MAX + 1] = '\n';
    big[GL_OPTS_LINE_MAX + 2] = 0;
    memset(big + CONFIG_PATH_MAX + 5, 'd', GL_OPTS_LINE_MAX - CONFIG_PATH_MAX - 4);
    refused(big, GL_ETOOBIG, 1, "line longer than 2048 bytes");
    /* A line of exactly the cap is fine. */
    big[GL_OPTS_LINE_MAX] = '\n';
    big[GL_OPTS_LINE_MAX + 1] = 0;
    defaults(&c);
    assert_int_equal(config_text(big, strlen(big), &c, &why), 0);
    huge = malloc(GL_OPTS_FILE_MAX + 1);
    assert_non_null(huge);
    memset(huge, '\n', GL_OPTS_FILE_MAX + 1);
    tu_expect_why(config_text(huge, GL_OPTS_FILE_MAX + 1, &c, &why), &why, GL_ETOOBIG, 0,
                  "larger than 65536 bytes");
    assert_int_equal(config_text(huge, GL_OPTS_FILE_MAX, &c, &why), 0);
    free(huge);
}

static void test_file(void **state)
{
    char path[] = "/tmp/glasslog-config-XXXXXX";
    static const char text[] =
        "batch-max 7\nstore mem:\nkey k\nsubmitters s\nlog-level warn\n";
    char *argv[] = {a0,  (char *)"--config", path, (char *)"--batch-max", (char *)"9",
                    NULL};
    struct config c;
    int fd = mkstemp(path);
    (void)state;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
    close(fd);
    assert_int_equal(config_parse(3, argv, &c), 0);
    assert_int_equal(c.batch_max, 7);
    assert_string_equal(c.log_level, "warn");
    assert_int_equal(config_parse(5, argv, &c), 0); /* flags win */
    assert_int_equal(c.batch_max, 9);
    {
        /* a flag given twice is refused (the file's value does not count) */
        char *twice[] = {a0,
                         (char *)"--config",
                         path,
                         (char *)"--listen",
                         (char *)"127.0.0.1:1",
                         (char *)"--listen=127.0.0.1:2",
                         NULL};
        char *flag2[] = {
            a0,  (char *)"--config", path, (char *)"--read-only", (char *)"--read-only",
            NULL};
        assert_int_equal(config_parse(6, twice, &c), -1);
        assert_int_equal(config_parse(5, flag2, &c), -1);
        twice[5] = (char *)"--log-level=debug"; /* different settings: fine */
        assert_int_equal(config_parse(6, twice, &c), 0);
        assert_string_equal(c.listen, "127.0.0.1:1");
    }
    unlink(path);
    assert_int_equal(config_parse(3, argv, &c), -1);
}

/* cur with text applied over a copy: config_reload_check's verdict. */
static int reload_verdict(const struct config *cur, const char *text, char *why, size_t n)
{
    static struct config next;

    next = *cur;
    assert_int_equal(config_text(text, strlen(text), &next, NULL), 0);
    return config_reload_check(cur, &next, why, n);
}

static void test_reload_check(void **state)
{
    static struct config cur;
    char why[128];
    (void)state;

    defaults(&cur);
    assert_int_equal(reload_verdict(&cur,
                                    "submitters s2\nwitnesses w\nsubmit-rate 0.5\n"
                                    "submit-burst 3\nlog-level warn\ncreate\n"
                                    "restore-from x\naccept-copy\n",
                                    why, sizeof(why)),
                     0);
    assert_int_equal(
        reload_verdict(&cur, "listen 127.0.0.1:1\nsubmitters s2\n", why, sizeof(why)),
        GL_ESTATE);
    assert_string_equal(why, "listen changed: only a restart applies it");
    assert_int_equal(reload_verdict(&cur, "key k2\nread-only\n", why, sizeof(why)),
                     GL_ESTATE);
    assert_string_equal(why, "key, read-only changed: only a restart applies them");
    assert_int_equal(config_text("witnesses w", 11, &cur, NULL), 0);
    assert_int_equal(config_reload_check(&cur, &(struct config){0}, why, sizeof(why)),
                     GL_ESTATE);
    assert_string_equal(why, "witnesses removed: only a restart applies it");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_file),
        cmocka_unit_test(test_reload_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_client_expect: the monitor's expected-releases file, parsed from
 * memory (expect_parse) and loaded from a file (expect_load): the three
 * kinds, runs of spaces and tabs, comments, blank lines and a last line
 * without newline; lookups of listed and unlisted releases (each field
 * and the digest changed); every refusal with its line; the file cap.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../client/expect.h"
#include "glasslog/codec.h"
#include "glasslog/error.h"

#define H1 "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define H2 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static int has(const struct expect *e, enum gl_statement_kind kind, const char *subject,
               const char *version, const char *hex)
{
    struct gl_statement_fields f;

    memset(&f, 0, sizeof(f));
    f.kind = kind;
    f.subject = subject;
    f.subject_len = strlen(subject);
    f.version = version;
    f.version_len = strlen(version);
    assert_int_equal(gl_hex_decode_exact(hex, 64, f.sha256, 32, 1), 0);
    return expect_has(e, &f);
}

static void test_parse(void **state)
{
    static const char text[] = "# releases\n"
                               "\n"
                               "build my-app 1.0.0 " H1 "\n"
                               "  rule-update\tblocklist   2026-12-01\t\t" H2 "  \n"
                               "\t# indented comment\n"
                               "audit-report my-app 1.0.0-audit " H1;
    struct expect e;
    struct gl_err why = {0, ""};
    (void)state;

    assert_int_equal(expect_parse(text, sizeof(text) - 1, &e, &why), 0);
    assert_int_equal(e.n, 3);
    assert_true(has(&e, GL_STATEMENT_BUILD, "my-app", "1.0.0", H1));
    assert_true(has(&e, GL_STATEMENT_RULE_UPDATE, "blocklist", "2026-12-01", H2));
    assert_true(has(&e, GL_STATEMENT_AUDIT_REPORT, "my-app", "1.0.0-audit", H1));
    assert_false(has(&e, GL_STATEMENT_AUDIT_REPORT, "my-app", "1.0.0", H1));
    assert_false(has(&e, GL_STATEMENT_BUILD, "my-app2", "1.0.0", H1));
    assert_false(has(&e, GL_STATEMENT_BUILD, "my-app", "1.0.1", H1));
    assert_false(has(&e, GL_STATEMENT_BUILD, "my-app", "1.0.0", H2));
    expect_release(&e);
    assert_int_equal(expect_parse("", 0, &e, &why), 0);
    assert_int_equal(e.n, 0);
    assert_false(has(&e, GL_STATEMENT_BUILD, "my-app", "1.0.0", H1));
    expect_release(&e);
}

static void refused(const char *text, int rc, size_t line, const char *reason)
{
    struct expect e;
    struct gl_err why = {0, ""};

    tu_expect_why(expect_parse(text, strlen(text), &e, &why), &why, rc, line, reason);
    assert_int_equal(e.n, 0);
    assert_null(e.h);
}

static void test_errors(void **state)
{
    char line[600], *huge;
    struct expect e;
    struct gl_err why = {0, ""};
    (void)state;

    refused("build my-app 1.0\n", GL_EPARSE, 1, "want 4 items");
    refused("# c\nbuild a 1 " H1 "\nbuild a 1 " H1 " more\n", GL_EPARSE, 3,
            "want 4 items");
    refused("release a 1 " H1 "\n", GL_EPARSE, 1, "the kind must be");
    refused(
        "build a 1 9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08\n",
        GL_EPARSE, 1, "64 lowercase hex digits");
    refused("build a 1 " H1 "0\n", GL_EPARSE, 1, "64 lowercase hex digits");
    refused("build a 1 " H1 "\r\n", GL_EPARSE, 1, "64 lowercase hex digits");
    refused("build a\xc3\xa9 1 " H1 "\n", GL_EPARSE, 1, "printable ASCII");
    snprintf(line, sizeof(line), "\n\nbuild %0257d 1 " H1 "\n", 0);
    refused(line, GL_EPARSE, 3, "1 to 256 printable ASCII characters");
    huge = malloc(EXPECT_MAX_SIZE + 1);
    assert_non_null(huge);
    memset(huge, '#', EXPECT_MAX_SIZE + 1);
    tu_expect_why(expect_parse(huge, EXPECT_MAX_SIZE + 1, &e, &why), &why, GL_ETOOBIG, 0,
                  "larger than 67108864 bytes");
    free(huge);
}

static void test_load(void **state)
{
    char path[] = "/tmp/glasslog-expect-XXXXXX";
    static const char text[] = "build a 1 " H1 "\n";
    struct expect e;
    int fd = mkstemp(path);
    (void)state;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
    close(fd);
    assert_int_equal(expect_load(path, &e), 0);
    assert_int_equal(e.n, 1);
    assert_true(has(&e, GL_STATEMENT_BUILD, "a", "1", H1));
    expect_release(&e);
    unlink(path);
    assert_int_equal(expect_load(path, &e), GL_EIO);
    assert_int_equal(e.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_error: lib/error.c's struct gl_err, the one way parsers say why:
 * gl_err_set (returns the code, NULL is a no-op, one line whatever the
 * arguments, truncated to fit, never empty), gl_err_wrap (context prefix,
 * line offset only for lines that exist) and gl_err_format (the four
 * message shapes programs print). Also gl_utf8_escape (lib/utf8.c), the
 * same rule of what is printable showing the rest as \xHH.
 */
#include "testutil.h"

#include <string.h>

#include "glasslog/error.h"
#include "utf8.h"

static void test_set(void **state)
{
    struct gl_err e;
    char big[2 * GL_ERR_REASON_MAX];
    (void)state;

    assert_int_equal(gl_err_set(NULL, GL_EPARSE, 3, "ignored %d", 1), GL_EPARSE);
    assert_int_equal(gl_err_set(&e, GL_ETOOBIG, 7, "more than %d lines", 16), GL_ETOOBIG);
    assert_int_equal(e.line, 7);
    assert_string_equal(e.reason, "more than 16 lines");
    /* quoted input stays one printable line */
    assert_int_equal(gl_err_set(&e, GL_EPARSE, 1, "name \"%s\"", "a\nb\rc\x1b\x7f"),
                     GL_EPARSE);
    assert_string_equal(e.reason, "name \"a?b?c??\"");
    /* so do UTF-8 encoded C1 controls (CSI, NEL); other characters stay */
    gl_err_set(&e, GL_EPARSE, 1, "name %s",
               "a\xc2\x9b"
               "31m\xc2\x85\xc2\xa0\xc3\xa9\xc2");
    assert_string_equal(e.reason, "name a??31m??\xc2\xa0\xc3\xa9?");
    /* and bytes that are not UTF-8: a lone 0x9b is an 8-bit CSI */
    gl_err_set(&e, GL_EPARSE, 1, "name %s", "a\x9b[31m\xff\xe2\x80");
    assert_string_equal(e.reason, "name a?[31m???");
    /* truncated, NUL-terminated */
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    gl_err_set(&e, GL_EPARSE, 0, "%s", big);
    assert_int_equal(strlen(e.reason), GL_ERR_REASON_MAX - 1);
    /* never empty: an empty reason falls back to the code's text */
    gl_err_set(&e, GL_ENOMEM, 0, "%s", "");
    assert_string_equal(e.reason, "out of memory");
}

static void test_wrap(void **state)
{
    struct gl_err e;
    (void)state;

    gl_err_set(&e, GL_EPARSE, 2, "missing tree size line");
    assert_int_equal(gl_err_wrap(&e, GL_EPARSE, 5, "checkpoint"), GL_EPARSE);
    assert_int_equal(e.line, 7);
    assert_string_equal(e.reason, "checkpoint: missing tree size line");
    /* line 0 (not tied to a line) stays 0 */
    gl_err_set(&e, GL_ETOOBIG, 0, "note larger than 1 MiB");
    assert_int_equal(gl_err_wrap(&e, GL_EVERIFY, 5, "the first checkpoint"), GL_EVERIFY);
    assert_int_equal(e.line, 0);
    assert_string_equal(e.reason, "the first checkpoint: note larger than 1 MiB");
    /* no prefix: only the line moves */
    gl_err_set(&e, GL_EPARSE, 1, "empty origin line");
    assert_int_equal(gl_err_wrap(&e, GL_EPARSE, 2, NULL), GL_EPARSE);
    assert_int_equal(e.line, 3);
    assert_string_equal(e.reason, "empty origin line");
    assert_int_equal(gl_err_wrap(NULL, GL_EIO, 1, "x"), GL_EIO);
}

static void test_format(void **state)
{
    struct gl_err e = {4, "undefined name \"Y1\""};
    char out[64], tiny[8];
    (void)state;

    assert_string_equal(gl_err_format(&e, "policy", out, sizeof(out)),
                        "policy:4: undefined name \"Y1\"");
    assert_string_equal(gl_err_format(&e, NULL, out, sizeof(out)),
                        "line 4: undefined name \"Y1\"");
    e.line = 0;
    assert_string_equal(gl_err_format(&e, "policy", out, sizeof(out)),
                        "policy: undefined name \"Y1\"");
    assert_string_equal(gl_err_format(&e, NULL, out, sizeof(out)),
                        "undefined name \"Y1\"");
    assert_string_equal(gl_err_format(&e, "policy", tiny, sizeof(tiny)), "policy:");
}

static void test_escape(void **state)
{
    char out[64];
    (void)state;

    /* C0, DEL, both bytes of a C1 control, lone and truncated bytes */
    assert_int_equal(gl_utf8_escape("a\x1b]52\x07\x7f\xc2\x9b"
                                    "1\x9b\xe2\x80",
                                    13, NULL, out, sizeof(out)),
                     13);
    assert_string_equal(out, "a\\x1b]52\\x07\\x7f\\xc2\\x9b1\\x9b\\xe2\\x80");
    /* printable UTF-8 passes; keep lets newline and tab through */
    gl_utf8_escape("\xc2\xa0\xc3\xa9\n\tx\r", 8, "\n\t", out, sizeof(out));
    assert_string_equal(out, "\xc2\xa0\xc3\xa9\n\tx\\x0d");
    gl_utf8_escape("a\nb", 3, NULL, out, sizeof(out));
    assert_string_equal(out, "a\\x0ab");
    /* a NUL is a control like any other */
    gl_utf8_escape("a\0b", 3, "\n", out, sizeof(out));
    assert_string_equal(out, "a\\x00b");
    /* cut before a sequence or an escape that does not fit whole */
    assert_int_equal(gl_utf8_escape("ab\xc3\xa9", 4, NULL, out, 4), 2);
    assert_string_equal(out, "ab");
    assert_int_equal(gl_utf8_escape("ab\x1b", 3, NULL, out, 6), 2);
    assert_string_equal(out, "ab");
    assert_int_equal(gl_utf8_escape("ab", 2, NULL, out, 1), 0);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_text: lib/text.c, the one line cutter: strict lines (a last line
 * without "\n" is an error), an open last line, CRLF, trimming at either
 * end, blank and comment skipping with skipped lines still counted, the
 * line cap (measured before trimming), a preset line number, the "missing
 * line" reasons and gl_text_line_at. Every case lists the exact lines and
 * line numbers the cursor must hand out.
 */
#include "testutil.h"

#include <string.h>

#include "glasslog/error.h"
#include "text.h"

/* What one gl_text_line call must give: rc, and for rc 0 the line and its
 * number; for errors the line number the cursor then holds. */
struct want {
    int rc;
    const char *line;
    size_t no;
};

static void expect_lines(const char *s, size_t n, unsigned flags, size_t max,
                         const struct want *w, size_t nw)
{
    struct gl_text t;
    const char *line;
    size_t len;

    gl_text_init(&t, s, n, flags);
    t.max = max;
    for (size_t i = 0; i < nw; i++) {
        int rc = gl_text_line(&t, &line, &len);
        if (rc != w[i].rc || t.line != w[i].no ||
            (rc == 0 && (len != strlen(w[i].line) || memcmp(line, w[i].line, len) != 0)))
            fail_msg("step %zu of \"%s\": want rc %d line %zu \"%s\", got rc %d line %zu "
                     "\"%.*s\"",
                     i, s, w[i].rc, w[i].no, w[i].line ? w[i].line : "", rc, t.line,
                     rc == 0 ? (int)len : 0, rc == 0 ? line : "");
        assert_true(t.pos <= t.n);
    }
}

#define LINES(s, flags, max, ...)                                                        \
    do {                                                                                 \
        static const struct want w_[] = {__VA_ARGS__};                                   \
        expect_lines(s, strlen(s), flags, max, w_, sizeof(w_) / sizeof(w_[0]));          \
    } while (0)

static void test_strict(void **state)
{
    (void)state;
    LINES("a\nbb\n\nc\n", 0, 0, {0, "a", 1}, {0, "bb", 2}, {0, "", 3}, {0, "c", 4},
          {GL_ENOTFOUND, NULL, 4}, {GL_ENOTFOUND, NULL, 4});
    /* a last line without "\n" is malformed in a strict format */
    LINES("a\nb", 0, 0, {0, "a", 1}, {GL_EPARSE, NULL, 2}, {GL_ENOTFOUND, NULL, 2});
    /* nothing is trimmed: CR, spaces and tabs belong to the line */
    LINES(" a\t\r\n", 0, 0, {0, " a\t\r", 1}, {GL_ENOTFOUND, NULL, 1});
    LINES("", 0, 0, {GL_ENOTFOUND, NULL, 0});
    LINES("\n", 0, 0, {0, "", 1}, {GL_ENOTFOUND, NULL, 1});
}

static void test_open_end(void **state)
{
    (void)state;
    LINES("a\nb", GL_TEXT_OPEN_END, 0, {0, "a", 1}, {0, "b", 2}, {GL_ENOTFOUND, NULL, 2});
    /* a final "\n" does not make an extra empty line */
    LINES("a\n", GL_TEXT_OPEN_END, 0, {0, "a", 1}, {GL_ENOTFOUND, NULL, 1});
}

static void test_trimming(void **state)
{
    (void)state;
    /* CR: exactly one "\r" before the "\n" (or at the open end) */
    LINES("a\r\nb\r\r\nc \r\nd\r", GL_TEXT_OPEN_END | GL_TEXT_CR, 0, {0, "a", 1},
          {0, "b\r", 2}, {0, "c ", 3}, {0, "d", 4});
    /* start: spaces and tabs only, never "\r" */
    LINES(" \t a \n\r b\n", GL_TEXT_TRIM_START, 0, {0, "a ", 1}, {0, "\r b", 2});
    /* end: any mix of spaces, tabs and "\r" */
    LINES(" a \t\r \r\n\t\n", GL_TEXT_TRIM_END, 0, {0, " a", 1}, {0, "", 2});
    /* both ends, as the witness's log list trims */
    LINES("  logs/v0 \r\n", GL_TEXT_TRIM_START | GL_TEXT_TRIM_END, 0, {0, "logs/v0", 1});
}

static void test_skip(void **state)
{
    (void)state;
    /* skipped lines are counted: line numbers stay those of the file */
    LINES("# c\n\n  \nx\n  # d\ny # not a comment\n",
          GL_TEXT_TRIM_START | GL_TEXT_TRIM_END | GL_TEXT_SKIP, 0, {0, "x", 4},
          {0, "y # not a comment", 6}, {GL_ENOTFOUND, NULL, 6});
    /* without trimming, "#" must be the first byte and blank means empty */
    LINES(" # c\n\n#\nz", GL_TEXT_SKIP | GL_TEXT_OPEN_END, 0, {0, " # c", 1},
          {0, "z", 4});
    /* only skipped lines left: the end, at the last line */
    LINES("a\n#\n\n", GL_TEXT_SKIP, 0, {0, "a", 1}, {GL_ENOTFOUND, NULL, 3});
}

static void test_max(void **state)
{
    (void)state;
    /* the cap is measured before trimming, after the CR of GL_TEXT_CR, and
     * applies to skipped lines too */
    LINES("abc\r\n  ab\n", GL_TEXT_CR | GL_TEXT_TRIM_START, 3, {0, "abc", 1},
          {GL_ETOOBIG, NULL, 2});
    LINES("ok\n#    \n", GL_TEXT_SKIP, 3, {0, "ok", 1}, {GL_ETOOBIG, NULL, 2});
    LINES("abc", GL_TEXT_OPEN_END, 3, {0, "abc", 1});
}

static void test_preset_and_missing(void **state)
{
    static const char s[] = "text\n\nsig one\nsig two";
    struct gl_text t;
    struct gl_err why;
    const char *line;
    size_t len;
    (void)state;

    /* a part of a larger input, numbered as lines of the whole */
    gl_text_init(&t, s + 6, sizeof(s) - 1 - 6, 0);
    t.line = gl_text_line_at(s, 6) - 1;
    assert_int_equal(t.line, 2);
    assert_int_equal(gl_text_line(&t, &line, &len), 0);
    assert_int_equal(t.line, 3);
    assert_int_equal(len, 7);
    /* the last line lacks "\n": named with its number */
    assert_int_equal(
        gl_text_missing(&t, gl_text_line(&t, &line, &len), "signature line", &why),
        GL_EPARSE);
    assert_int_equal(why.line, 4);
    assert_string_equal(why.reason, "signature line does not end with a newline");
    /* the end of the input: the line after the last one is missing */
    gl_text_init(&t, s, 5, 0);
    assert_int_equal(gl_text_line(&t, &line, &len), 0);
    assert_int_equal(
        gl_text_missing(&t, gl_text_line(&t, &line, &len), "size line", &why), GL_EPARSE);
    assert_int_equal(why.line, 2);
    assert_string_equal(why.reason, "missing size line");
    assert_int_equal(gl_text_missing(&t, GL_ENOTFOUND, "x", NULL), GL_EPARSE);
}

static void test_line_at(void **state)
{
    (void)state;
    assert_int_equal(gl_text_line_at("a\nb\nc", 0), 1);
    assert_int_equal(gl_text_line_at("a\nb\nc", 1), 1); /* the "\n" ends line 1 */
    assert_int_equal(gl_text_line_at("a\nb\nc", 2), 2);
    assert_int_equal(gl_text_line_at("a\nb\nc", 4), 3);
    assert_int_equal(gl_text_line_at("\n\n", 2), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strict),   cmocka_unit_test(test_open_end),
        cmocka_unit_test(test_trimming), cmocka_unit_test(test_skip),
        cmocka_unit_test(test_max),      cmocka_unit_test(test_preset_and_missing),
        cmocka_unit_test(test_line_at),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_logger: lib/net/log.c, the stderr logger (named test_logger: the
 * test_log_* names are the log daemon's modules). stderr is redirected to
 * a file for the test: the line shape "<UTC time> <level> <msg>", the
 * level filter, newlines in messages made spaces (one event, one line),
 * other controls and invalid UTF-8 shown as \xHH (UTF-8 text and tabs kept),
 * truncation of a huge message to one line, gl_log_err's "WHERE:LINE:
 * reason", the level names, and the journal's priority prefix when stderr
 * is the stream JOURNAL_STREAM names (and only then).
 */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "glasslog/error.h"
#include "glasslog/log.h"

/* Runs the logging calls of step (a void (*)(void)) with stderr going to a
 * file; returns what was written (caller frees). */
static void run_step(void *step)
{
    void (**fn)(void) = step;

    (*fn)();
}

static char *capture(void (*step)(void))
{
    return tu_capture_stderr(run_step, &step);
}

static void lines_step(void)
{
    struct gl_err e = {3, "bad thing"};

    gl_log_set_level(GL_LOG_INFO);
    gl_log(GL_LOG_DEBUG, "hidden");
    gl_log(GL_LOG_INFO, "one %d", 1);
    gl_log(GL_LOG_ERROR, "two\nlines\r");
    gl_log(GL_LOG_WARN,
           "key %s: \x1b]52;c;eA==\x07 \xc2\x9b"
           "2J\ttab \xe2\x80\x94 \xff",
           "n\x1b[31m");
    gl_log_err(GL_LOG_WARN, "f.txt", &e);
    gl_log_set_level(GL_LOG_ERROR);
    gl_log(GL_LOG_WARN, "hidden too");
    gl_log_set_level(GL_LOG_INFO);
}

static void test_lines(void **state)
{
    char *got = capture(lines_step), *p = got;
    const char *want[] = {
        "info one 1", "error two lines ",
        "warn key n\\x1b[31m: \\x1b]52;c;eA==\\x07 \\xc2\\x9b2J\ttab \xe2\x80\x94 \\xff",
        "warn f.txt:3: bad thing"};
    (void)state;

    for (size_t i = 0; i < 4; i++) {
        char *nl = strchr(p, '\n');
        assert_non_null(nl);
        *nl = 0;
        /* 2026-12-02T10:00:00Z is 20 bytes, then a space */
        assert_true(strlen(p) > 21);
        assert_true(p[4] == '-' && p[10] == 'T' && p[19] == 'Z' && p[20] == ' ');
        assert_string_equal(p + 21, want[i]);
        p = nl + 1;
    }
    assert_string_equal(p, "");
    free(got);
}

static void huge_step(void)
{
    char big[5000];

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    gl_log(GL_LOG_WARN, "%s", big);
}

static void test_truncation(void **state)
{
    char *got = capture(huge_step);
    (void)state;

    assert_true(strlen(got) < 1024);
    assert_ptr_equal(strchr(got, '\n'), got + strlen(got) - 1);
    free(got);
}

static void test_levels(void **state)
{
    enum gl_log_level l;
    (void)state;

    assert_int_equal(gl_log_parse_level("debug", &l), 0);
    assert_int_equal(l, GL_LOG_DEBUG);
    assert_int_equal(gl_log_parse_level("error", &l), 0);
    assert_int_equal(l, GL_LOG_ERROR);
    assert_int_equal(gl_log_parse_level("ERROR", &l), GL_EINVAL);
    assert_int_equal(gl_log_parse_level("", &l), GL_EINVAL);
}

static void journal_step(void)
{
    struct stat st;
    char v[64];

    assert_int_equal(fstat(2, &st), 0);
    snprintf(v, sizeof(v), "%ju:%ju", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
    setenv("JOURNAL_STREAM", v, 1);
    gl_log_set_level(GL_LOG_DEBUG);
    gl_log(GL_LOG_ERROR, "e %d", 1);
    gl_log(GL_LOG_WARN, "w");
    gl_log(GL_LOG_INFO, "i");
    gl_log(GL_LOG_DEBUG, "d");
    gl_log_set_level(GL_LOG_INFO);
    snprintf(v, sizeof(v), "%ju:%ju", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino + 1);
    setenv("JOURNAL_STREAM", v, 1); /* another stream: not the journal */
    gl_log(GL_LOG_INFO, "elsewhere");
    unsetenv("JOURNAL_STREAM");
}

static void test_journal(void **state)
{
    char *got = capture(journal_step), *t;
    (void)state;

    t = strstr(got, "<7>debug d\n");
    assert_non_null(t);
    *t = 0;
    assert_string_equal(got, "<3>error e 1\n<4>warn w\n<6>info i\n");
    t += strlen("<7>debug d\n");
    assert_true(strlen(t) > 21 && t[4] == '-' && t[10] == 'T' && t[19] == 'Z');
    assert_string_equal(t + 21, "info elsewhere\n");
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_journal),
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_levels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

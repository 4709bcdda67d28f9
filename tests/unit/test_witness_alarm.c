/*
 * test_witness_alarm: the witness's --on-evidence commands are bounded.
 * Six alarms raised at once with a command that records its pid and then
 * hangs: exactly ALARM_MAX_RUNNING commands start (the others are not
 * run, and alarm_raise says so, GL_ESTATE, for the caller to raise them
 * again later), each is stopped at its 1 s limit (its pid gone), every slot comes
 * back, and the next alarm's command runs again. The commands append
 * their pids to a file that the test reads back. An alarm whose shell
 * cannot start (its exec fails: an environment string past the kernel's
 * 128 KiB limit) is reported (GL_EIO, to be raised again), runs nothing
 * and keeps no slot.
 */
#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../witness/alarm.h"
#include "glasslog/error.h"

/* Lines in path (0 if it is missing). */
static int lines(const char *path)
{
    char *text = tu_read_file(path, NULL);
    int n = 0;

    for (const char *p = text; p != NULL && *p; p++)
        n += *p == '\n';
    free(text);
    return n;
}

static long long mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_bounded(void **state)
{
    char dir[256], started[300], done[300], cmd[1024], *text;
    long long t0;
    int n = 0;
    (void)state;

    tu_tempdir("walarm", dir, sizeof(dir));
    snprintf(started, sizeof(started), "%s/started", dir);
    snprintf(done, sizeof(done), "%s/done", dir);
    snprintf(cmd, sizeof(cmd), "echo $$ >> '%s'; sleep 30", started);
    t0 = mono_ms();
    for (int i = 0; i < 6; i++)
        assert_int_equal(
            alarm_raise(cmd, 1, "00ff", "example.com/log", "/nonexistent/evidence"),
            i < ALARM_MAX_RUNNING ? 0 : GL_ESTATE);
    assert_int_equal(alarm_running(), ALARM_MAX_RUNNING);
    while (alarm_running() > 0 && mono_ms() - t0 < 10000)
        usleep(20000);
    /* stopped at the limit, not after the command's 30 s */
    assert_int_equal(alarm_running(), 0);
    assert_true(mono_ms() - t0 < 1000 + 3000);
    assert_int_equal(lines(started), ALARM_MAX_RUNNING);
    assert_non_null(text = tu_read_file(started, NULL));
    for (char *p = text, *end; *p; p = end + 1, n++) {
        long pid = strtol(p, &end, 10);

        assert_true(pid > 1 && *end == '\n');
        assert_true(kill((pid_t)pid, 0) != 0 && errno == ESRCH);
    }
    free(text);
    assert_int_equal(n, ALARM_MAX_RUNNING);
    /* the slots came back */
    snprintf(cmd, sizeof(cmd), "echo \"$1 $GLASSLOG_EVIDENCE_ID\" > '%s'", done);
    assert_int_equal(alarm_raise(cmd, 1, "abcd", "example.com/log", "/some/path"), 0);
    t0 = mono_ms();
    while (lines(done) < 1 && mono_ms() - t0 < 5000)
        usleep(10000);
    assert_non_null(text = tu_read_file(done, NULL));
    assert_string_equal(text, "/some/path abcd\n");
    free(text);
    while (alarm_running() > 0 && mono_ms() - t0 < 5000)
        usleep(10000);
    assert_int_equal(alarm_running(), 0);
    tu_rmtree(dir);
}

static void test_start_fails(void **state)
{
    char dir[256], ran[300], cmd[600], *big;
    const size_t big_len = 200u << 10;
    long long t0;
    (void)state;

    tu_tempdir("walarm", dir, sizeof(dir));
    snprintf(ran, sizeof(ran), "%s/ran", dir);
    snprintf(cmd, sizeof(cmd), "echo ran >> '%s'", ran);
    assert_non_null(big = malloc(big_len + 1));
    memset(big, 'x', big_len);
    big[big_len] = '\0';
    assert_int_equal(setenv("GL_ALARM_TEST_BIG", big, 1), 0);
    free(big);
    assert_int_equal(alarm_raise(cmd, 1, "00ff", "example.com/log", "/some/path"),
                     GL_EIO);
    assert_int_equal(alarm_running(), 0);
    assert_int_equal(unsetenv("GL_ALARM_TEST_BIG"), 0);
    /* raised again once the shell can start: it runs, once */
    assert_int_equal(alarm_raise(cmd, 1, "00ff", "example.com/log", "/some/path"), 0);
    t0 = mono_ms();
    while ((lines(ran) < 1 || alarm_running() > 0) && mono_ms() - t0 < 5000)
        usleep(10000);
    assert_int_equal(alarm_running(), 0);
    assert_int_equal(lines(ran), 1);
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_start_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

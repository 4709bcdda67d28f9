/*
 * test_hook: lib/net/hook.c, the operator's hook commands: $0 and the
 * positional arguments reach the command, the added variables are in its
 * environment and replace (never duplicate) a variable of the same name,
 * the process's other variables are kept, the exit status comes back, and
 * bad arguments are refused without running anything, and the command
 * starts with no signal ignored or blocked whatever the caller ignores or
 * blocks. The command writes
 * what it saw to a file that the test reads back.
 */
#include "testutil.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "glasslog/error.h"
#include "hook.h"

static void test_args_env_status(void **state)
{
    char dir[256], cmd[1024], out[300];
    const char *args[] = {"first arg", "second"};
    const struct gl_hook_var vars[] = {{"GL_HOOK_A", "value a"}, {"GL_HOOK_B", NULL}};
    char *got;
    int st = -1;
    (void)state;

    tu_tempdir("hook", dir, sizeof(dir));
    snprintf(out, sizeof(out), "%s/out", dir);
    setenv("GL_HOOK_A", "old", 1);
    setenv("GL_HOOK_KEEP", "kept", 1);
    snprintf(cmd, sizeof(cmd),
             "{ echo \"0=$0 1=$1 2=$2 #=$#\"; echo \"A=$GL_HOOK_A B=[$GL_HOOK_B] "
             "K=$GL_HOOK_KEEP\"; env | grep -c '^GL_HOOK_A='; } > '%s'; exit 7",
             out);
    assert_int_equal(gl_hook_run(cmd, "myname", args, 2, vars, 2, &st), 0);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 7);
    assert_non_null(got = tu_read_file(out, NULL));
    assert_string_equal(got, "0=myname 1=first arg 2=second #=2\n"
                             "A=value a B=[] K=kept\n1\n");
    free(got);
    /* our own environment is untouched */
    assert_string_equal(getenv("GL_HOOK_A"), "old");
    unsetenv("GL_HOOK_A");
    unsetenv("GL_HOOK_KEEP");
    tu_rmtree(dir);
}

static void test_refusals(void **state)
{
    const struct gl_hook_var eq[] = {{"A=B", "x"}};
    const struct gl_hook_var empty[] = {{"", "x"}};
    const char *args[GL_HOOK_MAX_ARGS + 1] = {0};
    int st = -1;
    (void)state;

    assert_int_equal(gl_hook_run("exit 0", "n", NULL, 0, eq, 1, &st), GL_EINVAL);
    assert_int_equal(gl_hook_run("exit 0", "n", NULL, 0, empty, 1, &st), GL_EINVAL);
    assert_int_equal(gl_hook_run("exit 0", "n", args, GL_HOOK_MAX_ARGS + 1, NULL, 0, &st),
                     GL_EINVAL);
    assert_int_equal(st, -1); /* nothing ran */
    assert_int_equal(gl_hook_run("exit 0", "n", NULL, 0, NULL, 0, &st), 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* The hex mask of a "Name:\tHEX" line of a /proc/PID/status text. */
static unsigned long long status_mask(const char *text, const char *name)
{
    const char *p = strstr(text, name);

    assert_non_null(p);
    return strtoull(p + strlen(name), NULL, 16);
}

static void test_signals_reset(void **state)
{
    char dir[256], cmd[600], out[300];
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe;
    sigset_t usr1, old_mask;
    char *got;
    int st = -1;
    (void)state;

    tu_tempdir("hook", dir, sizeof(dir));
    snprintf(out, sizeof(out), "%s/out", dir);
    sigemptyset(&ign.sa_mask);
    assert_int_equal(sigaction(SIGPIPE, &ign, &old_pipe), 0);
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    assert_int_equal(pthread_sigmask(SIG_BLOCK, &usr1, &old_mask), 0);
    /* exec replaces the shell, so the status read is the command's own */
    snprintf(cmd, sizeof(cmd), "exec grep -E '^Sig(Ign|Blk):' /proc/self/status > '%s'",
             out);
    assert_int_equal(gl_hook_run(cmd, "sig", NULL, 0, NULL, 0, &st), 0);
    assert_int_equal(pthread_sigmask(SIG_SETMASK, &old_mask, NULL), 0);
    assert_int_equal(sigaction(SIGPIPE, &old_pipe, NULL), 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_non_null(got = tu_read_file(out, NULL));
    assert_int_equal(status_mask(got, "SigIgn:") & (1ULL << (SIGPIPE - 1)), 0);
    assert_int_equal(status_mask(got, "SigBlk:"), 0);
    free(got);
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_args_env_status),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_signals_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

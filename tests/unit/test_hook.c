/*
 * test_hook: lib/net/hook.c, the operator's hook commands: $0 and the
 * positional arguments reach the command, the added variables are in its
 * environment and replace (never duplicate) a variable of the same name,
 * the process's other variables are kept, the exit status comes back, and
 * bad arguments are refused without running anything, and the command
 * starts with no signal ignored or blocked whatever the caller ignores or
 * blocks. The command writes
 * what it saw to a file that the test reads back.
 *
 * Time limit: a command past it is stopped with everything it started
 * (its shell, a background child, a grandchild that ignores SIGTERM): the
 * processes write their pids to files, and after the call every one of
 * them must be gone (no such process, or a zombie waiting for init),
 * within about the limit; a shell that ignores SIGTERM is killed
 * GL_HOOK_KILL_GRACE_MS later; a command that ends in time gets its own
 * status and no timeout.
 */
#include "testutil.h"

#include <pthread.h>
#include <signal.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
    assert_int_equal(gl_hook_run(cmd, "myname", args, 2, vars, 2, 0, &st, NULL), 0);
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
    char *big;
    pid_t pid;
    int st = -1;
    (void)state;

    assert_int_equal(gl_hook_run("exit 0", "n", NULL, 0, eq, 1, 0, &st, NULL), GL_EINVAL);
    assert_int_equal(gl_hook_run("exit 0", "n", NULL, 0, empty, 1, 0, &st, NULL),
                     GL_EINVAL);
    assert_int_equal(
        gl_hook_run("exit 0", "n", args, GL_HOOK_MAX_ARGS + 1, NULL, 0, 0, &st, NULL),
        GL_EINVAL);
    assert_int_equal(st, -1); /* nothing ran */
    /* the shell's exec fails (an argument past the kernel's 128 KiB) */
    assert_non_null(big = malloc(200u << 10));
    memset(big, 'x', (200u << 10) - 1);
    big[(200u << 10) - 1] = '\0';
    args[0] = big;
    assert_int_equal(gl_hook_run("exit 0", "n", args, 1, NULL, 0, 0, &st, NULL), GL_EIO);
    assert_int_equal(gl_hook_start("exit 0", "n", args, 1, NULL, 0, &pid), GL_EIO);
    free(big);
    assert_int_equal(st, -1);
    assert_int_equal(gl_hook_run("exit 0", "n", NULL, 0, NULL, 0, 0, &st, NULL), 0);
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
    assert_int_equal(gl_hook_run(cmd, "sig", NULL, 0, NULL, 0, 0, &st, NULL), 0);
    assert_int_equal(pthread_sigmask(SIG_SETMASK, &old_mask, NULL), 0);
    assert_int_equal(sigaction(SIGPIPE, &old_pipe, NULL), 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_non_null(got = tu_read_file(out, NULL));
    assert_int_equal(status_mask(got, "SigIgn:") & (1ULL << (SIGPIPE - 1)), 0);
    assert_int_equal(status_mask(got, "SigBlk:"), 0);
    free(got);
    tu_rmtree(dir);
}

static long long mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 if pid is gone: no such process, or a zombie (an orphan that init has
 * not collected yet). */
static int gone(pid_t pid)
{
    char path[64], *text, *p;
    int z;

    if (kill(pid, 0) != 0 && errno == ESRCH)
        return 1;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if ((text = tu_read_file(path, NULL)) == NULL)
        return 1;
    p = strrchr(text, ')');
    z = p != NULL && p[1] == ' ' && p[2] == 'Z';
    free(text);
    return z;
}

/* The pid written in dir/name (waits up to 2 s for the file). */
static pid_t read_pid(const char *dir, const char *name)
{
    char path[300], *text = NULL;
    long pid = 0;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    for (int i = 0; i < 200 && (text == NULL || strchr(text, '\n') == NULL); i++) {
        free(text);
        if ((text = tu_read_file(path, NULL)) == NULL)
            usleep(10000);
    }
    assert_non_null(text);
    pid = strtol(text, NULL, 10);
    free(text);
    assert_true(pid > 1);
    return (pid_t)pid;
}

/* Asserts that pid is gone within a second (init collects orphans). */
static void assert_gone(pid_t pid)
{
    for (int i = 0; i < 100 && !gone(pid); i++)
        usleep(10000);
    assert_true(gone(pid));
}

static void test_timeout_kills_group(void **state)
{
    char dir[256], cmd[1024];
    long long t0, ms;
    pid_t sh, bg, stubborn;
    int st = -1, to = -1;
    (void)state;

    tu_tempdir("hook", dir, sizeof(dir));
    /* the shell, a background sleep, and a grandchild shell (and its sleep)
     * that ignore SIGTERM: all in the command's group */
    snprintf(cmd, sizeof(cmd),
             "cd '%s' || exit 1; echo $$ > sh; sleep 30 & echo $! > bg; "
             "sh -c 'trap \"\" TERM; echo $$ > stubborn; sleep 30' & sleep 30",
             dir);
    t0 = mono_ms();
    /* 2 s: time for the shells to start and write their pids on a loaded
     * machine before the limit */
    assert_int_equal(gl_hook_run(cmd, "to", NULL, 0, NULL, 0, 2000, &st, &to), 0);
    ms = mono_ms() - t0;
    assert_int_equal(to, 1);
    assert_true(ms >= 2000 && ms < 2000 + 5000);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
    sh = read_pid(dir, "sh");
    bg = read_pid(dir, "bg");
    stubborn = read_pid(dir, "stubborn");
    assert_true(gone(sh)); /* collected by gl_hook_run */
    assert_gone(bg);
    assert_gone(stubborn); /* SIGKILL, as soon as the shell had exited */
    tu_rmtree(dir);
}

static void test_timeout_grace(void **state)
{
    char dir[256], cmd[600];
    long long t0, ms;
    int st = -1, to = -1;
    (void)state;

    tu_tempdir("hook", dir, sizeof(dir));
    /* the shell itself ignores SIGTERM: SIGKILL after the grace */
    snprintf(cmd, sizeof(cmd), "trap '' TERM; echo $$ > '%s/sh'; sleep 30; sleep 30",
             dir);
    t0 = mono_ms();
    /* 1 s: time for the shell to set its trap before the limit */
    assert_int_equal(gl_hook_run(cmd, "to", NULL, 0, NULL, 0, 1000, &st, &to), 0);
    ms = mono_ms() - t0;
    assert_int_equal(to, 1);
    assert_true(ms >= 1000 + GL_HOOK_KILL_GRACE_MS &&
                ms < 1000 + GL_HOOK_KILL_GRACE_MS + 5000);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    assert_true(gone(read_pid(dir, "sh")));
    tu_rmtree(dir);
}

static void test_in_time(void **state)
{
    long long t0, ms;
    int st = -1, to = -1;
    (void)state;

    t0 = mono_ms();
    assert_int_equal(
        gl_hook_run("sleep 0.1; exit 3", "n", NULL, 0, NULL, 0, 5000, &st, &to), 0);
    ms = mono_ms() - t0;
    assert_int_equal(to, 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 3);
    assert_true(ms >= 100 && ms < 1500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_args_env_status),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_signals_reset),
        cmocka_unit_test(test_timeout_kills_group),
        cmocka_unit_test(test_timeout_grace),
        cmocka_unit_test(test_in_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

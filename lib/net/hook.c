/*
 * hook: see hook.h. The child's environment is a heap array of pointers:
 * the process's entries that no added variable replaces, then the added
 * "NAME=value" strings (heap copies), then NULL.
 *
 * With a limit, the wait is a loop of waitid(WNOHANG | WNOWAIT), which
 * sees the exit without collecting it, and short sleeps; the one
 * collecting call is the final waitpid, after any SIGKILL to the group,
 * so kill(-pid, ...) can never reach a group that reused the ID. The
 * clock is CLOCK_MONOTONIC (a clock step cannot shorten or stretch the
 * limit).
 */
#include "hook.h"

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "glasslog/buf.h"
#include "glasslog/error.h"

extern char **environ;

/* 1 if the environ entry e ("NAME=...") is replaced by one of vars. */
static int replaced(const char *e, const struct gl_hook_var *vars, size_t nvars)
{
    for (size_t i = 0; i < nvars; i++) {
        size_t n = strlen(vars[i].name);
        if (strncmp(e, vars[i].name, n) == 0 && e[n] == '=')
            return 1;
    }
    return 0;
}

/* "name=value" on the heap, or NULL. */
static char *var_string(const struct gl_hook_var *v)
{
    const char *value = v->value != NULL ? v->value : "";
    size_t n;
    char *s;

    if (gl_size_add(strlen(v->name), strlen(value), &n) != 0 ||
        gl_size_add(n, 2, &n) != 0 || (s = malloc(n)) == NULL)
        return NULL;
    snprintf(s, n, "%s=%s", v->name, value);
    return s;
}

/* The child's environment (see the top); *nadded heap strings at its end
 * belong to it. NULL when out of memory. */
static char **make_env(const struct gl_hook_var *vars, size_t nvars, size_t *first_added)
{
    size_t n = 0, k = 0;
    char **env;

    while (environ != NULL && environ[n] != NULL)
        n++;
    if ((env = calloc(n + nvars + 1, sizeof(*env))) == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!replaced(environ[i], vars, nvars))
            env[k++] = environ[i];
    *first_added = k;
    for (size_t i = 0; i < nvars; i++)
        if ((env[k++] = var_string(&vars[i])) == NULL)
            break;
    assert(k <= n + nvars);
    return env;
}

static void free_env(char **env, size_t first_added)
{
    for (size_t i = first_added; env[i] != NULL; i++)
        free(env[i]);
    free(env);
}

/* *a for a child that starts like a fresh process: every signal at its
 * default action (our ignored ones, such as SIGPIPE, are not inherited)
 * and none blocked (the calling thread's mask is not inherited), in a new
 * process group whose ID is its pid. 0, or -1 with nothing to destroy. */
static int spawn_attr_init(posix_spawnattr_t *a)
{
    sigset_t all, none;

    if (posix_spawnattr_init(a) != 0)
        return -1;
    if (sigfillset(&all) != 0 || sigemptyset(&none) != 0 ||
        posix_spawnattr_setsigdefault(a, &all) != 0 ||
        posix_spawnattr_setsigmask(a, &none) != 0 ||
        posix_spawnattr_setpgroup(a, 0) != 0 ||
        posix_spawnattr_setflags(a, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETPGROUP) != 0) {
        posix_spawnattr_destroy(a);
        return -1;
    }
    return 0;
}

/* Milliseconds on the monotonic clock. */
static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Waits until the child pid has exited (left uncollected) or the monotonic
 * time deadline (ms) has come. 1 exited, 0 deadline, GL_EIO (no such
 * child). */
static int exited_by(pid_t pid, uint64_t deadline)
{
    uint64_t step = 1, now;
    struct timespec ts;
    siginfo_t si;

    for (;;) {
        memset(&si, 0, sizeof(si));
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0) {
            if (errno == EINTR)
                continue;
            return GL_EIO;
        }
        if (si.si_pid != 0)
            return 1;
        if ((now = now_ms()) >= deadline)
            return 0;
        if (step > deadline - now)
            step = deadline - now;
        ts.tv_sec = (time_t)(step / 1000u);
        ts.tv_nsec = (long)(step % 1000u) * 1000000L;
        nanosleep(&ts, NULL); /* EINTR: the loop looks again */
        step = step * 2 > 50 ? 50 : step * 2;
    }
}

/* Waits for pid within timeout_ms (0: none), stopping its group past the
 * limit (hook.h); collects it into *status. 0 or GL_EIO. */
static int wait_limited(pid_t pid, unsigned timeout_ms, int *status, int *timed_out)
{
    int r = 0, rc = 0;

    if (timeout_ms > 0 && (r = exited_by(pid, now_ms() + timeout_ms)) == 0) {
        *timed_out = 1;
        kill(-pid, SIGTERM);
        r = exited_by(pid, now_ms() + GL_HOOK_KILL_GRACE_MS);
        kill(-pid, SIGKILL); /* the survivors; the uncollected shell holds the ID */
    }
    if (r < 0)
        rc = r;
    while (rc == 0 && waitpid(pid, status, 0) < 0)
        if (errno != EINTR)
            rc = GL_EIO;
    return rc;
}

int gl_hook_start(const char *cmd, const char *name, const char *const *args,
                  size_t nargs, const struct gl_hook_var *vars, size_t nvars, pid_t *pid)
{
    char *argv[GL_HOOK_MAX_ARGS + 5];
    char **env;
    posix_spawnattr_t attr;
    size_t first = 0;
    int rc = 0;

    if (nargs > GL_HOOK_MAX_ARGS || nvars > GL_HOOK_MAX_VARS)
        return GL_EINVAL;
    for (size_t i = 0; i < nvars; i++)
        if (vars[i].name == NULL || vars[i].name[0] == '\0' || strchr(vars[i].name, '='))
            return GL_EINVAL;
    argv[0] = "/bin/sh";
    argv[1] = "-c";
    argv[2] = (char *)cmd;
    argv[3] = (char *)name;
    for (size_t i = 0; i < nargs; i++)
        argv[4 + i] = (char *)args[i];
    argv[4 + nargs] = NULL;
    if ((env = make_env(vars, nvars, &first)) == NULL)
        return GL_ENOMEM;
    for (size_t i = first; i < first + nvars; i++)
        if (env[i] == NULL)
            rc = GL_ENOMEM;
    fflush(NULL); /* the child must not repeat our buffered output */
    if (rc == 0 && spawn_attr_init(&attr) != 0)
        rc = GL_ENOMEM;
    else if (rc == 0) {
        /* glibc's posix_spawn reports a failed exec too (E2BIG, ENOENT) */
        if (posix_spawn(pid, "/bin/sh", NULL, &attr, argv, env) != 0)
            rc = GL_EIO;
        posix_spawnattr_destroy(&attr);
    }
    free_env(env, first);
    return rc;
}

int gl_hook_wait(pid_t pid, unsigned timeout_ms, int *status, int *timed_out)
{
    int timed_out_local = 0, rc = wait_limited(pid, timeout_ms, status, &timed_out_local);

    if (timed_out != NULL)
        *timed_out = timed_out_local;
    return rc;
}

int gl_hook_run(const char *cmd, const char *name, const char *const *args, size_t nargs,
                const struct gl_hook_var *vars, size_t nvars, unsigned timeout_ms,
                int *status, int *timed_out)
{
    pid_t pid;
    int rc = gl_hook_start(cmd, name, args, nargs, vars, nvars, &pid);

    if (rc == 0)
        return gl_hook_wait(pid, timeout_ms, status, timed_out);
    if (timed_out != NULL)
        *timed_out = 0;
    return rc;
}

/*
 * alarm: the split-view alarm; see alarm.h. alarm_raise starts the
 * command itself (so a command that cannot start, the shell's exec
 * failing included, is reported to the caller, who raises the alarm
 * again later), then hands its pid to a detached thread that waits for
 * it; that thread owns a heap copy of what it logs, so the caller's
 * strings may vanish right after alarm_raise returns. `running` counts
 * the commands not yet collected (under mu): a slot is taken before the
 * start and given back as the waiting thread's last act, or at once if
 * the command or its thread cannot be started.
 */
#include "alarm.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "glasslog/error.h"
#include "glasslog/log.h"
#include "hook.h"

struct alarm_job {
    pid_t pid; /* the started command, collected by the job's thread */
    char *path;
    unsigned timeout_s;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned running;

/* Takes a slot: 0, or -1 when ALARM_MAX_RUNNING are taken. */
static int slot_take(void)
{
    int rc = -1;

    pthread_mutex_lock(&mu);
    if (running < ALARM_MAX_RUNNING) {
        running++;
        rc = 0;
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

static void slot_give(void)
{
    pthread_mutex_lock(&mu);
    running--;
    pthread_mutex_unlock(&mu);
}

unsigned alarm_running(void)
{
    unsigned n;

    pthread_mutex_lock(&mu);
    n = running;
    pthread_mutex_unlock(&mu);
    return n;
}

static void *job_run(void *arg)
{
    struct alarm_job *j = arg;
    int status = 0, timed_out = 0;

    if (gl_hook_wait(j->pid, j->timeout_s * 1000u, &status, &timed_out) != 0)
        gl_log(GL_LOG_ERROR, "cannot wait for the --on-evidence command for %s", j->path);
    else if (timed_out)
        gl_log(GL_LOG_WARN,
               "--on-evidence command for %s timed out after %u s: stopped (its process "
               "group got SIGTERM, then SIGKILL)",
               j->path, j->timeout_s);
    else
        gl_log(WIFEXITED(status) && WEXITSTATUS(status) == 0 ? GL_LOG_INFO : GL_LOG_WARN,
               "--on-evidence command for %s exited with status %d", j->path,
               WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    free(j->path);
    free(j);
    slot_give();
    return NULL;
}

/* Starts the command (synchronously: a start that fails is reported
 * here) and a detached thread that waits for it and frees j. GL_EIO or
 * GL_ENOMEM if either cannot start: then no command runs (one already
 * started is killed with its group and collected) and j is the caller's. */
static int job_start(struct alarm_job *j, const char *cmd, const char *id,
                     const char *origin)
{
    const char *args[] = {j->path};
    const struct gl_hook_var vars[] = {
        {"GLASSLOG_EVIDENCE", j->path},
        {"GLASSLOG_EVIDENCE_ID", id},
        {"GLASSLOG_ORIGIN", origin},
    };
    pthread_attr_t attr;
    pthread_t t;
    int err, status;

    err = gl_hook_start(cmd, "glasslog-witness-alarm", args, 1, vars,
                        sizeof(vars) / sizeof(vars[0]), &j->pid);
    if (err != 0)
        return err;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, job_run, j) != 0) {
        kill(-j->pid, SIGKILL);
        while (waitpid(j->pid, &status, 0) < 0 && errno == EINTR)
            ;
        err = GL_EIO;
    }
    pthread_attr_destroy(&attr);
    return err;
}

int alarm_raise(const char *cmd, unsigned timeout_s, const char *id, const char *origin,
                const char *path)
{
    struct alarm_job *j;
    int err;

    gl_log(GL_LOG_ERROR, "ALARM: split view of log %s proven; evidence %s stored at %s",
           origin, id, path);
    if (cmd == NULL)
        return 0;
    if (slot_take() != 0) {
        gl_log(GL_LOG_WARN,
               "--on-evidence command for %s not run yet: %d --on-evidence commands "
               "still running",
               path, ALARM_MAX_RUNNING);
        return GL_ESTATE;
    }
    err = (j = calloc(1, sizeof(*j))) == NULL ? GL_ENOMEM : 0;
    if (err == 0) {
        j->timeout_s = timeout_s;
        if ((j->path = strdup(path)) == NULL)
            err = GL_ENOMEM;
        else
            err = job_start(j, cmd, id, origin);
        if (err != 0) {
            free(j->path);
            free(j);
        }
    }
    if (err != 0) {
        gl_log(GL_LOG_ERROR, "cannot start the --on-evidence command for %s yet: %s",
               path, gl_strerror(err));
        slot_give();
    }
    return err;
}

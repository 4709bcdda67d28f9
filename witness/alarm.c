/*
 * alarm: the split-view alarm; see alarm.h. The spawning thread owns a
 * heap copy of everything it needs, so the caller's strings may vanish
 * right after alarm_raise returns. `running` counts the started threads
 * that have not finished (under mu): a slot is taken before the thread is
 * created and given back as the thread's last act, or at once if it
 * cannot be created.
 */
#include "alarm.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "glasslog/error.h"
#include "glasslog/log.h"
#include "hook.h"

struct alarm_job {
    char *cmd, *path, *id, *origin;
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

static void job_free(struct alarm_job *j)
{
    free(j->cmd);
    free(j->path);
    free(j->id);
    free(j->origin);
    free(j);
}

static void *job_run(void *arg)
{
    struct alarm_job *j = arg;
    const char *args[] = {j->path};
    const struct gl_hook_var vars[] = {
        {"GLASSLOG_EVIDENCE", j->path},
        {"GLASSLOG_EVIDENCE_ID", j->id},
        {"GLASSLOG_ORIGIN", j->origin},
    };
    int status = 0, timed_out = 0;

    if (gl_hook_run(j->cmd, "glasslog-witness-alarm", args, 1, vars,
                    sizeof(vars) / sizeof(vars[0]), j->timeout_s * 1000u, &status,
                    &timed_out) != 0)
        gl_log(GL_LOG_ERROR, "cannot run the --on-evidence command");
    else if (timed_out)
        gl_log(GL_LOG_WARN,
               "--on-evidence command for %s timed out after %u s: stopped (its process "
               "group got SIGTERM, then SIGKILL)",
               j->path, j->timeout_s);
    else
        gl_log(WIFEXITED(status) && WEXITSTATUS(status) == 0 ? GL_LOG_INFO : GL_LOG_WARN,
               "--on-evidence command for %s exited with status %d", j->path,
               WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    job_free(j);
    slot_give();
    return NULL;
}

/* Starts j on a detached thread of its own (which frees it); GL_EIO if
 * the thread cannot start (j freed). */
static int job_start(struct alarm_job *j)
{
    pthread_attr_t attr;
    pthread_t t;
    int err = 0;

    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, job_run, j) != 0) {
        job_free(j);
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
        j->cmd = strdup(cmd);
        j->path = strdup(path);
        j->id = strdup(id);
        j->origin = strdup(origin);
        if (!j->cmd || !j->path || !j->id || !j->origin) {
            job_free(j);
            err = GL_ENOMEM;
        } else {
            err = job_start(j);
        }
    }
    if (err != 0) {
        gl_log(GL_LOG_ERROR, "cannot start the --on-evidence command for %s yet: %s",
               path, gl_strerror(err));
        slot_give();
    }
    return err;
}

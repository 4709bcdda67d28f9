/*
 * alarm: the split-view alarm; see alarm.h. The spawning thread owns a
 * heap copy of everything it needs, so the caller's strings may vanish
 * right after alarm_raise returns.
 */
#include "alarm.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "glasslog/log.h"
#include "hook.h"

struct alarm_job {
    char *cmd, *path, *id, *origin;
};

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
    int status = 0;

    if (gl_hook_run(j->cmd, "glasslog-witness-alarm", args, 1, vars,
                    sizeof(vars) / sizeof(vars[0]), &status) != 0)
        gl_log(GL_LOG_ERROR, "cannot run the --on-evidence command");
    else
        gl_log(WIFEXITED(status) && WEXITSTATUS(status) == 0 ? GL_LOG_INFO : GL_LOG_WARN,
               "--on-evidence command for %s exited with status %d", j->path,
               WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    job_free(j);
    return NULL;
}

void alarm_raise(const char *cmd, const char *id, const char *origin, const char *path)
{
    struct alarm_job *j;
    pthread_attr_t attr;
    pthread_t t;

    gl_log(GL_LOG_ERROR, "ALARM: split view of log %s proven; evidence %s stored at %s",
           origin, id, path);
    if (cmd == NULL || (j = calloc(1, sizeof(*j))) == NULL)
        return;
    j->cmd = strdup(cmd);
    j->path = strdup(path);
    j->id = strdup(id);
    j->origin = strdup(origin);
    if (!j->cmd || !j->path || !j->id || !j->origin) {
        job_free(j);
        return;
    }
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, job_run, j) != 0) {
        gl_log(GL_LOG_ERROR, "cannot start the --on-evidence command");
        job_free(j);
    }
    pthread_attr_destroy(&attr);
}

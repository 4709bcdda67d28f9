/*
 * alarm: the split-view alarm; see alarm.h. The spawning thread owns a
 * heap copy of everything it needs, so the caller's strings may vanish
 * right after alarm_raise returns.
 */
#include "alarm.h"

#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "glasslog/log.h"

extern char **environ;

#define ALARM_ENV_EXTRA 3

struct alarm_job {
    char *cmd, *path;
    char *env_extra[ALARM_ENV_EXTRA];
};

static void job_free(struct alarm_job *j)
{
    free(j->cmd);
    free(j->path);
    for (int i = 0; i < ALARM_ENV_EXTRA; i++)
        free(j->env_extra[i]);
    free(j);
}

static char *kv(const char *k, const char *v)
{
    size_t n = strlen(k) + strlen(v) + 2;
    char *s = malloc(n);

    if (s != NULL)
        snprintf(s, n, "%s=%s", k, v);
    return s;
}

/* environ plus the job's variables (NULL-terminated, shallow). */
static char **job_env(struct alarm_job *j)
{
    size_t n = 0;
    char **env;

    while (environ != NULL && environ[n] != NULL)
        n++;
    if ((env = calloc(n + ALARM_ENV_EXTRA + 1, sizeof(*env))) == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        env[i] = environ[i];
    for (int i = 0; i < ALARM_ENV_EXTRA; i++)
        env[n + (size_t)i] = j->env_extra[i];
    return env;
}

static void *job_run(void *arg)
{
    struct alarm_job *j = arg;
    char *argv[] = {"/bin/sh", "-c", j->cmd, "glasslog-witness-alarm", j->path, NULL};
    char **env = job_env(j);
    pid_t pid;
    int status = 0, rc;

    rc = env == NULL ? -1 : posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, env);
    if (rc != 0)
        gl_log(GL_LOG_ERROR, "cannot run the --on-evidence command");
    else if (waitpid(pid, &status, 0) == pid)
        gl_log(WIFEXITED(status) && WEXITSTATUS(status) == 0 ? GL_LOG_INFO : GL_LOG_WARN,
               "--on-evidence command for %s exited with status %d", j->path,
               WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    free(env);
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
    j->env_extra[0] = kv("GLASSLOG_EVIDENCE", path);
    j->env_extra[1] = kv("GLASSLOG_EVIDENCE_ID", id);
    j->env_extra[2] = kv("GLASSLOG_ORIGIN", origin);
    if (!j->cmd || !j->path || !j->env_extra[0] || !j->env_extra[1] || !j->env_extra[2]) {
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

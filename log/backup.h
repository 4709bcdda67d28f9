/*
 * backup: glasslogd's online backup. On request (SIGUSR1) the store makes
 * a consistent snapshot (store_backup) into a new directory under the
 * --backup-dir, named glasslog-YYYYMMDDTHHMMSSZ (a second request in the
 * same second gets a "-N" suffix), on the libuv threadpool, while the log
 * serves and appends. One backup at a time: a request during one is
 * refused with a log line. Each backup first removes the
 * glasslog-*.incomplete directories interrupted ones left there (logged;
 * see STORE_BACKUP_PARTIAL). The outcome is logged ("backup: DIR ..."); the
 * snapshot is a data directory that `glasslogd --fsck` checks and
 * `glasslogd --data` serves, marked as a copy (store_get_copy): it may
 * be older than what the log released by then, so glasslogd signs on it
 * only once every witness answered without conflict, or with
 * --accept-copy (main.c). Loop thread only.
 */
#ifndef GL_LOG_BACKUP_H
#define GL_LOG_BACKUP_H

#include <uv.h>

#include "store.h"

#define BACKUP_PATH_MAX 1200

struct backup {
    uv_loop_t *loop;
    struct store *store;
    const char *dir; /* the --backup-dir ("" or NULL: none) */
    uv_work_t work;
    int busy, rc;
    int locked, lock_fd; /* while busy: dir, open and flock'ed (one backup
                          * into a directory at a time, across processes) */
    char path[BACKUP_PATH_MAX];
};

/* Starts a backup into a new directory under b->dir (logged when done).
 * 0 if started; GL_EINVAL without a --backup-dir, GL_ESTATE while one
 * runs (here, or in another process holding the lock on b->dir: two logs
 * given one --backup-dir), GL_ETOOBIG if the path is too long (all
 * logged). */
int backup_start(struct backup *b);

#endif

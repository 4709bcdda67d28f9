/*
 * backup: see backup.h. The snapshot itself is RocksDB's checkpoint
 * (store_backup, kv_checkpoint): a point in time at which every committed
 * batch is present or absent as a whole, so the copy's stored checkpoint
 * and tiles always agree. The name is chosen on the loop thread; the copy
 * runs on the threadpool. Before each backup, the glasslog-*.incomplete
 * directories an interrupted one left in the backup directory (a crash
 * between the snapshot and its rename) are removed, logged: they may lack
 * the copy mark, so they must not be mistaken for backups. Only one
 * backup runs at a time, in this process (busy) and across processes (an
 * flock on the backup directory, held from before the sweep until the
 * backup ends), so none of them is one being written.
 */
#include "backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "glasslog/error.h"
#include "glasslog/log.h"

/* Takes the lock on b->dir: 0, or GL_ESTATE (another process backs up
 * into it) or GL_EIO, logged. */
static int backup_lock(struct backup *b)
{
    int fd = open(b->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0) {
        gl_log(GL_LOG_ERROR, "backup: cannot open %s: %s", b->dir, strerror(errno));
        return GL_EIO;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        gl_log(GL_LOG_ERROR,
               "backup: another process is writing a backup into %s (it holds the "
               "directory's lock): request ignored; give each log its own --backup-dir",
               b->dir);
        close(fd);
        return GL_ESTATE;
    }
    b->lock_fd = fd;
    b->locked = 1;
    return 0;
}

static void backup_unlock(struct backup *b)
{
    if (b->locked)
        close(b->lock_fd);
    b->locked = 0;
}

static void backup_work(uv_work_t *w)
{
    struct backup *b = w->data;

    b->rc = store_backup(b->store, b->path);
}

static void backup_after(uv_work_t *w, int status)
{
    struct backup *b = w->data;

    b->busy = 0;
    backup_unlock(b);
    if (status != 0)
        b->rc = GL_ESTATE;
    if (b->rc == 0)
        gl_log(GL_LOG_INFO,
               "backup: %s written (a consistent snapshot; check it with "
               "glasslogd --fsck)",
               b->path);
    else if (b->rc != GL_ESTATE)
        gl_log(GL_LOG_ERROR, "backup: %s failed: %s", b->path, gl_strerror(b->rc));
    else if (strcmp(store_backend(b->store), "postgresql") == 0)
        gl_log(GL_LOG_ERROR,
               "backup: %s not written: the PostgreSQL store has no online backup here "
               "(use pg_basebackup or point-in-time recovery)",
               b->path);
    else
        gl_log(GL_LOG_ERROR, "backup: %s not written: the %s store has no online backup",
               b->path, store_backend(b->store));
}

/* 1 if name is that of a backup's directory before it was complete:
 * "glasslog-", at least one character, then the partial suffix
 * (store_backup_partial). */
static int partial_name(const char *name)
{
    return strncmp(name, "glasslog-", 9) == 0 && name[9] != 0 &&
           store_backup_partial(name + 10);
}

/* Removes the directories interrupted backups left under b->dir (uses
 * b->path as scratch). Logged; a failure does not stop the backup. */
static void sweep_partial(struct backup *b)
{
    DIR *d = opendir(b->dir);
    const struct dirent *ent;
    struct stat st;
    int n;

    if (d == NULL)
        return;
    while ((ent = readdir(d)) != NULL) {
        if (!partial_name(ent->d_name))
            continue;
        n = snprintf(b->path, sizeof(b->path), "%s/%s", b->dir, ent->d_name);
        if (n < 0 || (size_t)n >= sizeof(b->path) || lstat(b->path, &st) != 0 ||
            !S_ISDIR(st.st_mode))
            continue;
        if (gl_file_remove_tree(b->path) == 0)
            gl_log(GL_LOG_WARN, "backup: removed %s, left by an interrupted backup",
                   b->path);
        else
            gl_log(GL_LOG_ERROR,
                   "backup: cannot remove %s, left by an interrupted backup: %s", b->path,
                   strerror(errno));
    }
    closedir(d);
}

/* A fresh name under b->dir into b->path. */
static int backup_name(struct backup *b)
{
    time_t now = time(NULL);
    struct tm tm;
    char stamp[32];
    int n;

    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    for (unsigned i = 0; i < 100; i++) {
        if (i == 0)
            n = snprintf(b->path, sizeof(b->path), "%s/glasslog-%s", b->dir, stamp);
        else
            n = snprintf(b->path, sizeof(b->path), "%s/glasslog-%s-%u", b->dir, stamp, i);
        if (n < 0 || (size_t)n >= sizeof(b->path))
            return GL_ETOOBIG;
        if (access(b->path, F_OK) != 0)
            return 0;
    }
    return GL_EEXIST;
}

int backup_start(struct backup *b)
{
    int rc;

    if (b->dir == NULL || b->dir[0] == 0) {
        gl_log(GL_LOG_ERROR, "backup: requested, but no --backup-dir is set");
        return GL_EINVAL;
    }
    if (b->busy) {
        gl_log(GL_LOG_WARN, "backup: one is running (%s); request ignored", b->path);
        return GL_ESTATE;
    }
    if (mkdir(b->dir, 0700) == 0) {
        if (gl_file_sync_parent(b->dir) != 0) {
            gl_log(GL_LOG_ERROR, "backup: cannot sync the directory holding %s: %s",
                   b->dir, strerror(errno));
            return GL_EIO;
        }
    } else if (access(b->dir, W_OK) != 0) {
        gl_log(GL_LOG_ERROR, "backup: cannot create or write %s", b->dir);
        return GL_EIO;
    }
    if ((rc = backup_lock(b)) != 0)
        return rc;
    sweep_partial(b);
    if ((rc = backup_name(b)) != 0) {
        gl_log(GL_LOG_ERROR, "backup: no usable name under %s: %s", b->dir,
               gl_strerror(rc));
        backup_unlock(b);
        return rc;
    }
    b->work.data = b;
    if (uv_queue_work(b->loop, &b->work, backup_work, backup_after) != 0) {
        gl_log(GL_LOG_ERROR, "backup: cannot queue the work");
        backup_unlock(b);
        return GL_ENOMEM;
    }
    b->busy = 1;
    gl_log(GL_LOG_INFO, "backup: writing %s", b->path);
    return 0;
}

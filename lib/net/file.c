/*
 * file: bounded reads and durable writes; see file.h. Failures keep errno
 * for the caller's message. A descriptor is closed exactly once, whether
 * close(2) succeeds or not (a failed close has still released it).
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "glasslog/error.h"
#include "glasslog/log.h"

int gl_file_read(const char *path, struct gl_buf *out)
{
    int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    char chunk[8192];
    ssize_t got;
    int rc = 0, saved;

    if (fd < 0)
        return GL_EIO;
    while ((got = read(fd, chunk, sizeof(chunk))) != 0) {
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = GL_EIO;
            break;
        }
        if ((rc = gl_buf_append(out, chunk, (size_t)got)) != 0)
            break;
    }
    saved = errno;
    if (fd != 0)
        close(fd);
    OPENSSL_cleanse(chunk, sizeof(chunk)); /* the file may be a private key */
    errno = saved;
    return rc;
}

const char *gl_file_read_error(int rc)
{
    if (rc == GL_EIO && errno != 0)
        return strerror(errno);
    return rc == GL_ETOOBIG ? "larger than the cap" : gl_strerror(rc);
}

static int write_all(int fd, const void *data, size_t n)
{
    const char *p = data;

    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return GL_EIO;
        p += w;
        n -= (size_t)w;
    }
    return fsync(fd) == 0 ? 0 : GL_EIO;
}

/* Writes data to the open fd, fsyncs and closes it (always). 0 or GL_EIO
 * (errno kept). */
static int write_close(int fd, const void *data, size_t n)
{
    int rc = write_all(fd, data, n), saved = errno;

    if (close(fd) != 0 && rc == 0)
        return GL_EIO;
    errno = saved;
    return rc;
}

int gl_file_write_new(const char *path, const void *data, size_t n, int mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode), saved;

    if (fd < 0)
        return errno == EEXIST ? GL_EEXIST : GL_EIO;
    if (write_close(fd, data, n) != 0) {
        saved = errno;
        unlink(path);
        errno = saved;
        return GL_EIO;
    }
    return 0;
}

int gl_file_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc, saved;

    if (fd < 0)
        return GL_EIO;
    rc = fsync(fd) == 0 ? 0 : GL_EIO;
    saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

void gl_file_trim_slashes(char *path)
{
    size_t n = strlen(path);

    while (n > 1 && path[n - 1] == '/')
        path[--n] = 0;
}

int gl_file_sync_parent(const char *path)
{
    char dir[4096];
    char *slash;

    if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
        return GL_ETOOBIG;
    gl_file_trim_slashes(dir);
    slash = strrchr(dir, '/');
    if (slash == NULL)
        return gl_file_sync_dir(".");
    slash[slash == dir] = 0; /* "/x" -> "/", "a/x" -> "a" */
    return gl_file_sync_dir(dir);
}

/* Temporary names gl_file_replace tries before giving up. */
#define REPLACE_TRIES 64

/* Writes data to a new temporary file beside path (its name in *tmp),
 * with a name unique to this call (path.tmp-<pid>-<serial>: the process
 * id keeps processes apart, the serial the threads and calls of one
 * process), created with O_EXCL, so a file or symlink someone planted at
 * that name is never written through: it is passed over for the next
 * serial. 0, or GL_EIO (nothing left behind). */
static int write_temp(const char *path, const void *data, size_t n, int mode,
                      struct gl_buf *tmp)
{
    static atomic_uint serial;
    int rc = GL_EEXIST;

    for (int i = 0; i < REPLACE_TRIES && rc == GL_EEXIST; i++) {
        gl_buf_reset(tmp);
        if (gl_buf_printf(tmp, "%s.tmp-%ld-%u", path, (long)getpid(),
                          atomic_fetch_add(&serial, 1u)) != 0)
            return GL_EIO;
        rc = gl_file_write_new((char *)tmp->data, data, n, mode);
    }
    return rc == 0 ? 0 : GL_EIO;
}

int gl_file_replace(const char *path, const void *data, size_t n, int mode)
{
    struct gl_buf tmp;
    int rc;

    gl_buf_init(&tmp, 4096);
    if ((rc = write_temp(path, data, n, mode, &tmp)) != 0)
        goto out;
    if (rename((char *)tmp.data, path) != 0) {
        int saved = errno;
        unlink((char *)tmp.data);
        errno = saved;
        rc = GL_EIO;
        goto out;
    }
    rc = gl_file_sync_parent(path);
out:
    gl_buf_release(&tmp);
    return rc;
}

int gl_file_publish_new(const char *path, const void *data, size_t n, int mode)
{
    struct gl_buf tmp;
    int rc, saved;

    gl_buf_init(&tmp, 4096);
    if ((rc = write_temp(path, data, n, mode, &tmp)) != 0)
        goto out;
    /* link, unlike rename, never replaces: an existing path stays */
    rc = link((char *)tmp.data, path) == 0 ? 0 : errno == EEXIST ? GL_EEXIST : GL_EIO;
    saved = errno;
    unlink((char *)tmp.data);
    errno = saved;
    if (rc == GL_EIO) /* no hard links here (vfat, some network file systems) */
        rc = gl_file_write_new(path, data, n, mode);
    if (rc == 0)
        rc = gl_file_sync_parent(path);
out:
    gl_buf_release(&tmp);
    return rc;
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path) != 0 ? -1 : 0;
}

int gl_file_remove_tree(const char *path)
{
    struct stat st;

    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : GL_EIO;
    return nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : GL_EIO;
}

int gl_file_dir_empty(const char *dir)
{
    DIR *d = opendir(dir);
    const struct dirent *ent;
    int empty = 1;

    if (d == NULL)
        return errno == ENOENT ? 1 : GL_EIO;
    while (empty && (ent = readdir(d)) != NULL)
        empty = strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0;
    closedir(d);
    return empty;
}

int gl_file_load_signer(const char *path, struct gl_signer *out, struct gl_err *why)
{
    struct gl_buf b;
    int rc;

    gl_buf_init(&b, GL_KEY_TEXT_MAX + 1);
    rc = gl_file_read(path, &b);
    if (rc == GL_ETOOBIG)
        gl_err_set(why, rc, 0, "larger than a key (%d bytes)", GL_KEY_TEXT_MAX);
    else if (rc != 0)
        gl_err_set(why, rc, 0, "cannot read the file: %s", strerror(errno));
    else
        rc = gl_signer_parse((const char *)b.data, b.len, out, why);
    gl_buf_release(&b);
    if (rc == 0 && gl_file_exposed(path))
        gl_log(GL_LOG_WARN,
               "the private key %s can be read by other users (group or others have "
               "access): chmod 600 it, or hand it over as a systemd credential",
               path);
    return rc;
}

int gl_file_exposed(const char *path)
{
    struct stat st;

    return strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
           (st.st_mode & 077) != 0;
}

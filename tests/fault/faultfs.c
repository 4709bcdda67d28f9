/*
 * faultfs: an LD_PRELOAD shim that makes writes and syncs of regular files
 * under one directory fail with ENOSPC or EIO, armed and cleared at run
 * time by a control file. Test-only: it needs no root and no mounts.
 *
 * Environment (read once, at load):
 *   GL_FAULT_DIR  the directory whose regular files are faulted, at any
 *                 depth (resolved with realpath; if it does not exist yet,
 *                 its parent must)
 *   GL_FAULT_CTL  the control file (anywhere outside GL_FAULT_DIR)
 * Without both the shim passes every call through.
 *
 * Control file, one line:
 *   off                        (or a missing or empty file) no fault
 *   enospc AFTER [CLASS]       the first AFTER matching calls succeed,
 *   eio AFTER [CLASS]          every later one fails with ENOSPC / EIO
 *   delay MS [CLASS]           every matching call is delayed by MS
 *                              milliseconds, then made
 *   CLASS: write  write, pwrite, pwrite64, writev, pwritev, pwritev64,
 *                 pwritev2, pwritev64v2, fallocate, fallocate64,
 *                 posix_fallocate, posix_fallocate64, ftruncate,
 *                 ftruncate64
 *          sync   fsync, fdatasync, sync_file_range (not with flags 0: the
 *                 kernel does nothing then, and RocksDB asserts that such
 *                 a probe succeeds), syncfs
 *          any    both (the default)
 * The file is checked (stat: inode, size, mtime) on every call of the
 * functions above; a change re-reads it and restarts the count. Write it
 * atomically (write a temporary file, rename it over the control file),
 * so a reader never sees half a line.
 *
 * A call is faulted only if its descriptor is a regular file (fstat) whose
 * path (readlink /proc/self/fd/N) is below GL_FAULT_DIR: sockets, pipes,
 * terminals and other paths are never touched. Nothing is cached: the two
 * system calls are made on every call, but only while a fault is armed
 * (when off, a call costs one stat of the control file). Not covered:
 * msync (RocksDB writes through mmap only if asked to) and stdio streams
 * (the daemons write no file through stdio; RocksDB's info LOG uses
 * write(2) and is faulted like its other files).
 *
 * On the first injected failure after each change of the control file the
 * shim writes one line to stderr, "faultfs: injecting <ERR> into
 * <function> on <path>" ("faultfs: delaying <function> on <path>" as a
 * delay starts), so a test can check the fault really fired.
 *
 * Async-signal and thread safety: the hooks use only system calls that are
 * async-signal-safe (stat, fstat, readlink, open, read, close, write,
 * nanosleep) and
 * lock-free atomics, never malloc or locks. The real functions are
 * resolved with dlsym(RTLD_NEXT) in the constructor (or, if a hook runs
 * before it, at first use). Under AddressSanitizer preload the sanitizer's
 * runtime first (LD_PRELOAD=libasan.so:faultfs.so): its interceptors then
 * call into this shim, which calls libc. When the control file changes
 * while threads are writing, a call racing the change may still use the
 * previous setting: arm a fault before the writes it is meant for.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

enum { MODE_OFF = 0, MODE_ENOSPC = 1, MODE_EIO = 2, MODE_DELAY = 3 };
enum { CLASS_ANY = 0, CLASS_WRITE = 1, CLASS_SYNC = 2 };

/* The setting, packed into one word so readers see it whole:
 * bits 0-1 mode, 2-3 class, 8-63 the number of calls let through (a
 * delay: its milliseconds). */
static _Atomic uint64_t setting;
static _Atomic uint64_t ctl_key = 1; /* 1: never loaded (0: no file) */
static _Atomic uint64_t calls;       /* matching calls since the last load */
static atomic_int reported;          /* the first failure since the load was logged */
static char fault_dir[PATH_MAX];     /* canonical, no trailing slash */
static size_t fault_dir_len;
static char ctl_path[PATH_MAX];
static int enabled;

/* --- the real functions ------------------------------------------------------ */

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off64_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static ssize_t (*real_pwritev64)(int, const struct iovec *, int, off64_t);
static ssize_t (*real_pwritev2)(int, const struct iovec *, int, off_t, int);
static ssize_t (*real_pwritev64v2)(int, const struct iovec *, int, off64_t, int);
static int (*real_fallocate)(int, int, off_t, off_t);
static int (*real_fallocate64)(int, int, off64_t, off64_t);
static int (*real_posix_fallocate)(int, off_t, off_t);
static int (*real_posix_fallocate64)(int, off64_t, off64_t);
static int (*real_ftruncate)(int, off_t);
static int (*real_ftruncate64)(int, off64_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_sync_file_range)(int, off64_t, off64_t, unsigned int);
static int (*real_syncfs)(int);

#define RESOLVE(name)                                                                    \
    do {                                                                                 \
        if (real_##name == NULL)                                                         \
            *(void **)&real_##name = dlsym(RTLD_NEXT, #name);                            \
    } while (0)

static void resolve_all(void)
{
    RESOLVE(write);
    RESOLVE(pwrite);
    RESOLVE(pwrite64);
    RESOLVE(writev);
    RESOLVE(pwritev);
    RESOLVE(pwritev64);
    RESOLVE(pwritev2);
    RESOLVE(pwritev64v2);
    RESOLVE(fallocate);
    RESOLVE(fallocate64);
    RESOLVE(posix_fallocate);
    RESOLVE(posix_fallocate64);
    RESOLVE(ftruncate);
    RESOLVE(ftruncate64);
    RESOLVE(fsync);
    RESOLVE(fdatasync);
    RESOLVE(sync_file_range);
    RESOLVE(syncfs);
}

/* Canonical form of dir into fault_dir: realpath, or, for a directory
 * not made yet, realpath of its parent plus its last component. */
static int canonical_dir(const char *dir)
{
    char parent[PATH_MAX];
    const char *slash = strrchr(dir, '/'), *base = slash != NULL ? slash + 1 : dir;
    size_t n;

    if (realpath(dir, fault_dir) != NULL)
        return 0;
    n = slash == NULL ? 0 : slash == dir ? 1 : (size_t)(slash - dir);
    if (n >= sizeof(parent))
        return -1;
    memcpy(parent, slash == NULL ? "." : dir, n ? n : 1);
    parent[n ? n : 1] = 0;
    if (*base == 0 || realpath(parent, fault_dir) == NULL)
        return -1;
    n = strlen(fault_dir);
    if (n + 1 + strlen(base) >= sizeof(fault_dir))
        return -1;
    if (n > 1)
        fault_dir[n++] = '/';
    strcpy(fault_dir + n, base);
    return 0;
}

__attribute__((constructor)) static void faultfs_init(void)
{
    const char *dir = getenv("GL_FAULT_DIR"), *ctl = getenv("GL_FAULT_CTL");

    resolve_all();
    if (dir == NULL || ctl == NULL || strlen(ctl) >= sizeof(ctl_path) ||
        canonical_dir(dir) != 0)
        return;
    fault_dir_len = strlen(fault_dir);
    while (fault_dir_len > 1 && fault_dir[fault_dir_len - 1] == '/')
        fault_dir[--fault_dir_len] = 0;
    strcpy(ctl_path, ctl);
    enabled = 1;
}

/* --- the control file -------------------------------------------------------- */

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
}

/* A number naming this version of the control file; 0 if it is missing. */
static uint64_t ctl_version(void)
{
    struct stat st;
    uint64_t h = 0x51ed270b27fd8c3dULL;

    if (stat(ctl_path, &st) != 0)
        return 0;
    h = mix(h, (uint64_t)st.st_dev);
    h = mix(h, (uint64_t)st.st_ino);
    h = mix(h, (uint64_t)st.st_size);
    h = mix(h, (uint64_t)st.st_mtim.tv_sec);
    h = mix(h, (uint64_t)st.st_mtim.tv_nsec);
    return h < 2 ? h + 2 : h;
}

static int word_is(const char **p, const char *w)
{
    size_t n = strlen(w);

    if (strncmp(*p, w, n) != 0 || ((*p)[n] != 0 && (*p)[n] != ' ' && (*p)[n] != '\n'))
        return 0;
    *p += n;
    while (**p == ' ')
        (*p)++;
    return 1;
}

/* Parses the control line; anything unreadable means "off". */
static uint64_t parse_setting(const char *p)
{
    uint64_t mode, cls = CLASS_ANY, after = 0;

    while (*p == ' ')
        p++;
    if (word_is(&p, "enospc"))
        mode = MODE_ENOSPC;
    else if (word_is(&p, "eio"))
        mode = MODE_EIO;
    else if (word_is(&p, "delay"))
        mode = MODE_DELAY;
    else
        return MODE_OFF;
    if (*p < '0' || *p > '9')
        return MODE_OFF;
    while (*p >= '0' && *p <= '9' && after < (1ULL << 50))
        after = after * 10 + (uint64_t)(*p++ - '0');
    while (*p == ' ')
        p++;
    if (word_is(&p, "write"))
        cls = CLASS_WRITE;
    else if (word_is(&p, "sync"))
        cls = CLASS_SYNC;
    else if (*p != 0 && *p != '\n' && !word_is(&p, "any"))
        return MODE_OFF;
    return mode | cls << 2 | after << 8;
}

static uint64_t read_setting(void)
{
    char buf[128];
    ssize_t n = 0, got;
    int fd = open(ctl_path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return MODE_OFF;
    while (n < (ssize_t)sizeof(buf) - 1 &&
           ((got = read(fd, buf + n, sizeof(buf) - 1 - (size_t)n)) > 0 ||
            (got < 0 && errno == EINTR)))
        n += got > 0 ? got : 0;
    close(fd);
    buf[n] = 0;
    return parse_setting(buf);
}

/* The current setting, re-read if the control file changed. */
static uint64_t current_setting(void)
{
    uint64_t v = ctl_version(), old = atomic_load(&ctl_key);

    if (v != old && atomic_compare_exchange_strong(&ctl_key, &old, v)) {
        uint64_t s = read_setting();
        atomic_store(&calls, 0);
        atomic_store(&reported, 0);
        atomic_store(&setting, s);
    }
    return atomic_load(&setting);
}

/* --- deciding ------------------------------------------------------------------ */

/* Writes "/proc/self/fd/<fd>" into buf. */
static void fd_link(int fd, char *buf)
{
    char digits[16];
    int n = 0;
    unsigned u = (unsigned)fd;

    strcpy(buf, "/proc/self/fd/");
    do {
        digits[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    buf += strlen(buf);
    while (n > 0)
        *buf++ = digits[--n];
    *buf = 0;
}

/* 1 if fd is a regular file below the fault directory; its path in path. */
static int fd_in_dir(int fd, char *path, size_t size)
{
    struct stat st;
    char link[32];
    ssize_t n;

    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    fd_link(fd, link);
    if ((n = readlink(link, path, size - 1)) <= 0)
        return 0;
    path[n] = 0;
    return (size_t)n > fault_dir_len && strncmp(path, fault_dir, fault_dir_len) == 0 &&
           path[fault_dir_len] == '/';
}

static void say(const char *s)
{
    size_t n = strlen(s);

    while (n > 0) {
        ssize_t w = real_write(2, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* Sleeps ms milliseconds (saying so once since the last load); 0. */
static int delay(uint64_t ms, const char *fn, const char *path)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

    if (atomic_exchange(&reported, 1) == 0) {
        say("faultfs: delaying ");
        say(fn);
        say(" on ");
        say(path);
        say("\n");
    }
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    return 0;
}

/* 0 to let the call through, or the errno to fail it with. */
static int decide(int fd, int cls, const char *fn)
{
    char path[PATH_MAX];
    uint64_t s;
    int err;

    s = current_setting();
    if ((s & 3) == MODE_OFF ||
        ((s >> 2 & 3) != CLASS_ANY && (s >> 2 & 3) != (uint64_t)cls))
        return 0;
    if (!fd_in_dir(fd, path, sizeof(path)))
        return 0;
    if ((s & 3) == MODE_DELAY)
        return delay(s >> 8, fn, path);
    if (atomic_fetch_add(&calls, 1) < s >> 8)
        return 0;
    err = (s & 3) == MODE_ENOSPC ? ENOSPC : EIO;
    if (atomic_exchange(&reported, 1) == 0) {
        say("faultfs: injecting ");
        say(err == ENOSPC ? "ENOSPC" : "EIO");
        say(" into ");
        say(fn);
        say(" on ");
        say(path);
        say("\n");
    }
    return err;
}

/* 0 to let the call through (errno untouched), or the errno to fail it. */
static int fault(int fd, int cls, const char *fn)
{
    int saved = errno, err;

    if (!enabled)
        return 0;
    err = decide(fd, cls, fn);
    errno = saved;
    return err;
}

/* --- the hooks ------------------------------------------------------------------ */

/* For functions returning -1 with errno. */
#define HOOK(name, cls, call)                                                            \
    do {                                                                                 \
        int e_;                                                                          \
        RESOLVE(name);                                                                   \
        if ((e_ = fault(fd, cls, #name)) != 0) {                                         \
            errno = e_;                                                                  \
            return -1;                                                                   \
        }                                                                                \
        return call;                                                                     \
    } while (0)

ssize_t write(int fd, const void *buf, size_t n)
{
    HOOK(write, CLASS_WRITE, real_write(fd, buf, n));
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    HOOK(pwrite, CLASS_WRITE, real_pwrite(fd, buf, n, off));
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
    HOOK(pwrite64, CLASS_WRITE, real_pwrite64(fd, buf, n, off));
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    HOOK(writev, CLASS_WRITE, real_writev(fd, iov, cnt));
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
    HOOK(pwritev, CLASS_WRITE, real_pwritev(fd, iov, cnt, off));
}

ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off64_t off)
{
    HOOK(pwritev64, CLASS_WRITE, real_pwritev64(fd, iov, cnt, off));
}

ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
    HOOK(pwritev2, CLASS_WRITE, real_pwritev2(fd, iov, cnt, off, flags));
}

ssize_t pwritev64v2(int fd, const struct iovec *iov, int cnt, off64_t off, int flags)
{
    HOOK(pwritev64v2, CLASS_WRITE, real_pwritev64v2(fd, iov, cnt, off, flags));
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
    HOOK(fallocate, CLASS_WRITE, real_fallocate(fd, mode, off, len));
}

int fallocate64(int fd, int mode, off64_t off, off64_t len)
{
    HOOK(fallocate64, CLASS_WRITE, real_fallocate64(fd, mode, off, len));
}

int ftruncate(int fd, off_t len)
{
    HOOK(ftruncate, CLASS_WRITE, real_ftruncate(fd, len));
}

int ftruncate64(int fd, off64_t len)
{
    HOOK(ftruncate64, CLASS_WRITE, real_ftruncate64(fd, len));
}

int fsync(int fd)
{
    HOOK(fsync, CLASS_SYNC, real_fsync(fd));
}

int fdatasync(int fd)
{
    HOOK(fdatasync, CLASS_SYNC, real_fdatasync(fd));
}

/* With flags 0 the kernel does nothing and cannot fail (RocksDB probes
 * support that way and asserts success): passed through. */
int sync_file_range(int fd, off64_t off, off64_t n, unsigned int flags)
{
    if (flags == 0) {
        RESOLVE(sync_file_range);
        return real_sync_file_range(fd, off, n, flags);
    }
    HOOK(sync_file_range, CLASS_SYNC, real_sync_file_range(fd, off, n, flags));
}

int syncfs(int fd)
{
    HOOK(syncfs, CLASS_SYNC, real_syncfs(fd));
}

/* posix_fallocate returns the error instead of setting errno. */
int posix_fallocate(int fd, off_t off, off_t len)
{
    int e;

    RESOLVE(posix_fallocate);
    if ((e = fault(fd, CLASS_WRITE, "posix_fallocate")) != 0)
        return e;
    return real_posix_fallocate(fd, off, len);
}

int posix_fallocate64(int fd, off64_t off, off64_t len)
{
    int e;

    RESOLVE(posix_fallocate64);
    if ((e = fault(fd, CLASS_WRITE, "posix_fallocate64")) != 0)
        return e;
    return real_posix_fallocate64(fd, off, len);
}

/*
 * state: per-log memory of the client on disk; see state.h for the layout.
 *
 * Invariants:
 *   - Files are only ever replaced with gl_file_replace (write a temporary,
 *     fsync, rename, fsync the directory); evidence directories appear
 *     complete or not at all (built as alarms/.tmp-*, its files and the
 *     directory fsynced, then renamed and alarms/ fsynced, so an alarm is
 *     on disk before anything written after it, e.g. the progress file).
 *   - The stored checkpoint only moves forward. state_store_checkpoint
 *     refuses to write unless the caller holds "lock" (the caller has read
 *     and checked the stored note under that same lock), re-reads the
 *     stored note and keeps it when it describes a larger tree (or the same
 *     size with another root: that is a fork the caller has already
 *     reported, and the first view is kept).
 *   - Nothing read from here is trusted blindly: callers re-verify the
 *     stored checkpoint's signature, and the progress file is parsed
 *     strictly (a damaged one is reported and the monitor starts over).
 */
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "file.h"
#include "glasslog/checkpoint.h"
#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/note.h"
#include "glasslog/sha256.h"
#include "text.h"

#define PROGRESS_HEADER "glasslog-monitor-progress v1\n"
#define PROGRESS_MAX (STATE_CHECKPOINT_MAX + 8192)

int state_default_root(char *out)
{
    const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    int n;

    if (x != NULL && x[0] == '/')
        n = snprintf(out, STATE_PATH_MAX, "%s/glasslog", x);
    else if (home != NULL && home[0] == '/')
        n = snprintf(out, STATE_PATH_MAX, "%s/.local/state/glasslog", home);
    else
        return GL_EINVAL;
    return n > 0 && n < STATE_PATH_MAX ? 0 : GL_ETOOBIG;
}

/* mkdir -p with mode for the missing components. */
static int mkdirs(const char *path, mode_t mode)
{
    char tmp[STATE_PATH_MAX];
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof(tmp))
        return GL_ETOOBIG;
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, mode) != 0 && errno != EEXIST)
            return GL_EIO;
        *p = '/';
    }
    return mkdir(tmp, mode) != 0 && errno != EEXIST ? GL_EIO : 0;
}

static int path_of(const struct state *s, const char *name, char out[STATE_PATH_MAX])
{
    int n = snprintf(out, STATE_PATH_MAX, "%s/%s", s->dir, name);

    return n > 0 && n < STATE_PATH_MAX ? 0 : GL_ETOOBIG;
}

/* Writes the vkey file the first time (for humans looking at the dir). */
static int write_vkey(const struct state *s, const struct gl_verifier *k)
{
    char path[STATE_PATH_MAX];
    struct gl_buf b;
    int rc;

    gl_buf_init(&b, GL_KEY_TEXT_MAX + 2);
    if ((rc = path_of(s, "vkey", path)) == 0 && access(path, F_OK) != 0 &&
        (rc = gl_verifier_format(k, &b)) == 0 && (rc = gl_buf_putc(&b, '\n')) == 0)
        rc = gl_file_replace(path, b.data, b.len, 0644);
    gl_buf_release(&b);
    return rc;
}

/* ROOT/<logid of k> into s->dir and s->logid. */
static int key_dir(struct state *s, const char *root, const struct gl_verifier *k)
{
    struct gl_buf vk;
    uint8_t h[GL_HASH_LEN];
    int rc, n;

    gl_buf_init(&vk, GL_KEY_TEXT_MAX + 1);
    if ((rc = gl_verifier_format(k, &vk)) != 0 ||
        (rc = gl_sha256(vk.data, vk.len, h)) != 0)
        goto out;
    gl_hex_encode(h, GL_HASH_LEN, s->logid, sizeof(s->logid));
    n = snprintf(s->dir, sizeof(s->dir), "%s/%s", root, s->logid);
    if (n <= 0 || n >= (int)sizeof(s->dir)) {
        cli_error("state directory path too long: %s", root);
        rc = GL_ETOOBIG;
    }
out:
    gl_buf_release(&vk);
    return rc;
}

int state_check_stored_log(const struct state *s, const struct gl_verifier *keys,
                           size_t stored, size_t log)
{
    if (strcmp(keys[stored].name, keys[log].name) == 0)
        return 0;
    cli_error("the stored checkpoint in %s is of log %s, not %s: remove it to start over",
              s->dir, keys[stored].name, keys[log].name);
    return GL_EINVAL;
}

/* Entries of the state root read when looking for a retired key's
 * directory (a root holds one directory per log key). */
#define STATE_SCAN_MAX 4096

/* 1 if the checkpoint note in dir verifies with keys (at least one
 * signature by one of them, none bad). */
static int signed_by(const char *dir, const struct gl_verifier *keys, size_t n)
{
    char path[STATE_PATH_MAX];
    struct gl_note *note = NULL;
    struct gl_buf b;
    int ok, len = snprintf(path, sizeof(path), "%s/checkpoint", dir);

    gl_buf_init(&b, STATE_CHECKPOINT_MAX);
    ok = len > 0 && len < (int)sizeof(path) && gl_file_read(path, &b) == 0 &&
         gl_note_parse((const char *)b.data, b.len, &note, NULL) == 0 &&
         gl_note_verify(note, keys, n, NULL) == 0;
    gl_note_free(note);
    gl_buf_release(&b);
    return ok;
}

/* A directory under root of another key of origin `name` (its vkey file
 * names the origin; called when none of the policy's keys of that origin
 * has one) whose stored checkpoint verifies with one of the policy's
 * keys, into dir: the memory of the same log under a key the policy no
 * longer lists (the end of a rotation: the checkpoints signed during it
 * carry both keys' signatures). 1 found, 0 none. Another log that merely
 * shares the origin name never has such a checkpoint, so its directory
 * stays its own. other gets the first directory of the origin passed
 * over ("" if none). */
static int retired_dir(const char *root, const char *name, const struct gl_verifier *keys,
                       size_t nkeys, char dir[STATE_PATH_MAX], char other[STATE_PATH_MAX])
{
    DIR *d = opendir(root);
    const struct dirent *e;
    char path[STATE_PATH_MAX];
    struct gl_verifier v;
    struct gl_buf b;
    int found = 0, n;

    other[0] = 0;
    if (d == NULL)
        return 0;
    gl_buf_init(&b, GL_KEY_TEXT_MAX + 2);
    for (int i = 0; !found && i < STATE_SCAN_MAX && (e = readdir(d)) != NULL; i++) {
        if (strlen(e->d_name) != GL_HASH_HEX_LEN)
            continue;
        n = snprintf(path, sizeof(path), "%s/%s/vkey", root, e->d_name);
        gl_buf_reset(&b);
        if (n <= 0 || n >= (int)sizeof(path) || gl_file_read(path, &b) != 0 ||
            gl_verifier_parse((const char *)b.data, b.len, &v, NULL) != 0 ||
            strcmp(v.name, name) != 0)
            continue;
        n = snprintf(dir, STATE_PATH_MAX, "%s/%s", root, e->d_name);
        found = n > 0 && n < STATE_PATH_MAX && signed_by(dir, keys, nkeys);
        if (!found && other[0] == 0 && n > 0 && n < STATE_PATH_MAX)
            memcpy(other, dir, (size_t)n + 1);
    }
    closedir(d);
    gl_buf_release(&b);
    return found;
}

/* When the directory of the same log under a key the policy no longer
 * lists exists (retired_dir), s->dir becomes it, in place: the memory of
 * a log survives the end of a key rotation instead of starting over with
 * trust on first use. Not renamed: a process still running under the old
 * policy keeps using it, and clients of both policies share it (reported
 * on stderr). */
static void use_retired(struct state *s, const char *root, const struct gl_verifier *keys,
                        size_t n, const struct gl_verifier *use)
{
    char old[STATE_PATH_MAX], other[STATE_PATH_MAX];
    const char *base;

    if (!retired_dir(root, use->name, keys, n, old, other)) {
        if (other[0] != 0)
            cli_error("note: %s holds a memory of a log named %s under a key the policy "
                      "does not list, and no key of the policy signed its checkpoint: "
                      "not used (another log of that name, or a key rotation this "
                      "client saw no checkpoint of)",
                      other, use->name);
        return;
    }
    base = strrchr(old, '/') + 1; /* retired_dir wrote root/<64 hex> */
    memcpy(s->dir, old, strlen(old) + 1);
    memcpy(s->logid, base, GL_HASH_HEX_LEN + 1);
    cli_error("note: the state of log %s is kept in %s, made for a key the policy no "
              "longer lists (its checkpoint carries a signature by the policy's key)",
              use->name, s->dir);
}

int state_open_log(struct state *s, const char *root, const struct gl_verifier *keys,
                   size_t n, size_t log)
{
    const struct gl_verifier *use = NULL;
    struct stat sb;
    int rc, found = 0;

    memset(s, 0, sizeof(*s));
    s->lock_fd = s->monitor_fd = -1;
    if (log >= n)
        return GL_EINVAL;
    for (size_t i = 0; i < n && !found; i++) {
        if (strcmp(keys[i].name, keys[log].name) != 0)
            continue;
        if ((rc = key_dir(s, root, &keys[i])) != 0)
            return rc;
        if (use == NULL)
            use = &keys[i]; /* no directory yet: the first key's */
        if (stat(s->dir, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            use = &keys[i];
            found = 1;
        }
    }
    if ((rc = key_dir(s, root, use)) != 0)
        return rc;
    if (!found)
        use_retired(s, root, keys, n, use);
    if ((rc = mkdirs(s->dir, 0700)) != 0 || (rc = write_vkey(s, use)) != 0)
        cli_error("cannot use the state directory %s: %s", s->dir, strerror(errno));
    return rc;
}

int state_open(struct state *s, const char *root, const struct gl_verifier *log_key)
{
    return state_open_log(s, root, log_key, 1, 0);
}

void state_close(struct state *s)
{
    state_unlock(s);
    if (s->monitor_fd >= 0)
        close(s->monitor_fd);
    s->monitor_fd = -1;
}

static int lock_file(const struct state *s, const char *name, int how, int *fd)
{
    char path[STATE_PATH_MAX];

    if (path_of(s, name, path) != 0)
        return GL_ETOOBIG;
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (*fd < 0)
        return GL_EIO;
    if (flock(*fd, how) != 0) {
        int e = errno;
        close(*fd);
        *fd = -1;
        errno = e;
        return e == EWOULDBLOCK ? GL_EEXIST : GL_EIO;
    }
    return 0;
}

int state_lock(struct state *s)
{
    int rc;

    if (s->lock_fd >= 0)
        return 0;
    if ((rc = lock_file(s, "lock", LOCK_EX, &s->lock_fd)) != 0)
        cli_error("cannot lock %s/lock: %s", s->dir,
                  rc == GL_ETOOBIG ? "path too long" : strerror(errno));
    return rc;
}

void state_unlock(struct state *s)
{
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    s->lock_fd = -1;
}

int state_lock_monitor(struct state *s)
{
    if (s->monitor_fd >= 0)
        return 0;
    return lock_file(s, "monitor.lock", LOCK_EX | LOCK_NB, &s->monitor_fd);
}

/* Reads a state file; GL_ENOTFOUND if missing. */
static int read_state_file(const struct state *s, const char *name, struct gl_buf *out)
{
    char path[STATE_PATH_MAX];
    int rc;

    if ((rc = path_of(s, name, path)) != 0)
        return rc;
    rc = gl_file_read(path, out);
    if (rc == GL_EIO && errno == ENOENT)
        return GL_ENOTFOUND;
    return rc;
}

int state_load_checkpoint(const struct state *s, struct gl_buf *note)
{
    return read_state_file(s, "checkpoint", note);
}

/* Size and root of a stored checkpoint note (syntax only). */
static int stored_tree(const struct gl_buf *b, uint64_t *size, uint8_t root[GL_HASH_LEN])
{
    struct gl_note *n = NULL;
    struct gl_checkpoint c;
    int rc;

    if ((rc = gl_note_parse((const char *)b->data, b->len, &n, NULL)) == 0 &&
        (rc = gl_checkpoint_parse(n->text, n->text_len, &c, NULL)) == 0) {
        *size = c.size;
        memcpy(root, c.root, GL_HASH_LEN);
    }
    gl_note_free(n);
    return rc;
}

int state_store_checkpoint(struct state *s, const char *note, size_t len, uint64_t size,
                           const uint8_t root[GL_HASH_LEN], int *stored)
{
    char path[STATE_PATH_MAX];
    struct gl_buf old;
    uint64_t osize;
    uint8_t oroot[GL_HASH_LEN];
    int rc;

    if (stored != NULL)
        *stored = 0;
    if (s->lock_fd < 0) {
        cli_error("internal error: the checkpoint in %s is stored without its lock",
                  s->dir);
        return GL_EINVAL;
    }
    gl_buf_init(&old, STATE_CHECKPOINT_MAX);
    rc = state_load_checkpoint(s, &old);
    if (rc == 0 && stored_tree(&old, &osize, oroot) == 0 &&
        (osize > size || (osize == size && memcmp(oroot, root, GL_HASH_LEN) != 0)))
        goto out; /* keep the larger (or first) view */
    if ((rc = path_of(s, "checkpoint", path)) == 0 &&
        (rc = gl_file_replace(path, note, len, 0644)) != 0)
        cli_error("cannot write %s: %s", path, strerror(errno));
    if (rc == 0 && stored != NULL)
        *stored = 1;
out:
    gl_buf_release(&old);
    return rc == GL_ENOTFOUND ? 0 : rc;
}

/* --- monitor progress -------------------------------------------------------------- */

void state_progress_init(struct state_progress *p)
{
    gl_merkle_range_init(&p->range);
    gl_buf_init(&p->target, STATE_CHECKPOINT_MAX);
}

void state_progress_release(struct state_progress *p)
{
    gl_buf_release(&p->target);
}

/* Reads the line "<prefix><value>" and returns the value. */
static int take_line(struct gl_text *t, const char *prefix, const char **val,
                     size_t *vlen, struct gl_err *why)
{
    size_t pl = strlen(prefix), len;
    const char *line;
    int rc;

    if ((rc = gl_text_line(t, &line, &len)) != 0)
        return gl_text_missing(t, rc, "line", why);
    if (len < pl || memcmp(line, prefix, pl) != 0)
        return gl_err_set(why, GL_EPARSE, t->line, "expected a \"%s\" line", prefix);
    *val = line + pl;
    *vlen = len - pl;
    return 0;
}

static int parse_progress(const struct gl_buf *b, struct state_progress *p,
                          struct gl_err *why)
{
    struct gl_text t;
    const char *v;
    size_t vlen;
    uint64_t checked;
    int rc;

    gl_text_init(&t, (const char *)b->data, b->len, 0);
    if (b->len < sizeof(PROGRESS_HEADER) - 1 ||
        memcmp(b->data, PROGRESS_HEADER, sizeof(PROGRESS_HEADER) - 1) != 0)
        return gl_err_set(why, GL_EPARSE, 1, "the first line is not %.*s",
                          (int)sizeof(PROGRESS_HEADER) - 2, PROGRESS_HEADER);
    t.pos = sizeof(PROGRESS_HEADER) - 1;
    t.line = 1;
    if ((rc = take_line(&t, "checked ", &v, &vlen, why)) != 0)
        return rc;
    if (gl_parse_u64(v, vlen, &checked) != 0 || checked > GL_MERKLE_MAX_SIZE)
        return gl_err_set(why, GL_EPARSE, t.line, "checked is not a tree size");
    gl_merkle_range_init(&p->range);
    p->range.size = checked;
    for (unsigned l = 0; l < GL_MERKLE_MAX_HEIGHT; l++) {
        char prefix[16];
        if (!(checked >> l & 1))
            continue;
        snprintf(prefix, sizeof(prefix), "edge %u ", l);
        if ((rc = take_line(&t, prefix, &v, &vlen, why)) != 0)
            return rc;
        if (gl_base64_decode_exact(v, vlen, p->range.edge[l], GL_HASH_LEN) != 0)
            return gl_err_set(why, GL_EPARSE, t.line,
                              "the edge is not base64 of 32 bytes");
    }
    if ((rc = take_line(&t, "target", &v, &vlen, why)) != 0)
        return rc;
    if (vlen != 0)
        return gl_err_set(why, GL_EPARSE, t.line, "expected a \"target\" line");
    gl_buf_reset(&p->target);
    if ((rc = gl_buf_append(&p->target, b->data + t.pos, b->len - t.pos)) != 0)
        return gl_err_set(why, rc, 0, "the target: %s", gl_strerror(rc));
    if (p->target.len == 0)
        return gl_err_set(why, GL_EPARSE, t.line + 1, "no target checkpoint");
    return 0;
}

int state_load_progress(const struct state *s, struct state_progress *p,
                        struct gl_err *why)
{
    struct gl_buf b;
    int rc;

    gl_buf_init(&b, PROGRESS_MAX);
    if ((rc = read_state_file(s, "monitor", &b)) == GL_ENOTFOUND)
        gl_err_set(why, rc, 0, "no progress file");
    else if (rc != 0)
        gl_err_set(why, rc, 0, "cannot read the progress file: %s", gl_strerror(rc));
    else
        rc = parse_progress(&b, p, why) != 0 ? GL_EPARSE : 0;
    gl_buf_release(&b);
    return rc;
}

int state_save_progress(const struct state *s, const struct state_progress *p)
{
    char path[STATE_PATH_MAX], b64[48];
    struct gl_buf b;
    int rc;

    gl_buf_init(&b, PROGRESS_MAX);
    rc = gl_buf_printf(&b, PROGRESS_HEADER "checked %llu\n",
                       (unsigned long long)p->range.size);
    for (unsigned l = 0; rc == 0 && l < GL_MERKLE_MAX_HEIGHT; l++) {
        if (!(p->range.size >> l & 1))
            continue;
        gl_base64_encode(p->range.edge[l], GL_HASH_LEN, b64, sizeof(b64));
        rc = gl_buf_printf(&b, "edge %u %s\n", l, b64);
    }
    if (rc == 0 && (rc = gl_buf_append_str(&b, "target\n")) == 0)
        rc = gl_buf_append(&b, p->target.data, p->target.len);
    if (rc == 0 && (rc = path_of(s, "monitor", path)) == 0 &&
        (rc = gl_file_replace(path, b.data, b.len, 0644)) != 0)
        cli_error("cannot write %s: %s", path, strerror(errno));
    gl_buf_release(&b);
    return rc;
}

int state_drop_progress(const struct state *s)
{
    char path[STATE_PATH_MAX];
    int rc = path_of(s, "monitor", path);

    if (rc == 0 && unlink(path) != 0 && errno != ENOENT)
        rc = GL_EIO;
    return rc;
}

/* --- evidence ---------------------------------------------------------------------- */

/* dir/name into out[STATE_PATH_MAX]; name must be a plain file name. */
static int join(const char *dir, const char *name, char *out)
{
    int n;

    if (strchr(name, '/') != NULL)
        return GL_EINVAL;
    n = snprintf(out, STATE_PATH_MAX, "%s/%s", dir, name);
    return n > 0 && n < STATE_PATH_MAX ? 0 : GL_EINVAL;
}

static int write_in(const char *dir, const char *name, const void *data, size_t len)
{
    char path[STATE_PATH_MAX];

    if (join(dir, name, path) != 0)
        return GL_EINVAL;
    return gl_file_write_new(path, data, len, 0644);
}

static void remove_tree(const char *dir, const struct state_file *files, size_t n)
{
    char path[STATE_PATH_MAX];

    if (join(dir, "alarm", path) == 0)
        unlink(path);
    for (size_t i = 0; i < n; i++)
        if (join(dir, files[i].name, path) == 0)
            unlink(path);
    rmdir(dir);
}

int state_save_evidence(const struct state *s, const char *name, const char *summary,
                        const struct state_file *files, size_t n, char *path)
{
    char alarms[STATE_PATH_MAX], tmp[STATE_PATH_MAX];
    int rc = GL_EIO;

    if (path_of(s, "alarms", alarms) != 0 ||
        snprintf(tmp, sizeof(tmp), "%s/.tmp-%s-%ld", alarms, name, (long)getpid()) >=
            (int)sizeof(tmp) ||
        snprintf(path, STATE_PATH_MAX, "%s/%s", alarms, name) >= STATE_PATH_MAX)
        return GL_ETOOBIG;
    if (access(path, F_OK) == 0)
        return GL_EEXIST;
    if (mkdirs(alarms, 0700) != 0 || (mkdir(tmp, 0700) != 0 && errno != EEXIST))
        goto fail;
    if (write_in(tmp, "alarm", summary, strlen(summary)) != 0)
        goto fail;
    for (size_t i = 0; i < n; i++)
        if (write_in(tmp, files[i].name, files[i].data, files[i].len) != 0)
            goto fail;
    if (gl_file_sync_dir(tmp) != 0)
        goto fail;
    if (rename(tmp, path) == 0) {
        if (gl_file_sync_dir(alarms) == 0)
            return 0;
        cli_error("cannot record the evidence in %s: %s", path, strerror(errno));
        return GL_EIO; /* renamed, but the rename may not survive a crash */
    }
    rc = errno == EEXIST || errno == ENOTEMPTY ? GL_EEXIST : GL_EIO;
fail:
    if (rc == GL_EIO)
        cli_error("cannot record the evidence in %s: %s", path, strerror(errno));
    remove_tree(tmp, files, n);
    return rc;
}

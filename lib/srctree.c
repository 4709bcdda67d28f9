/*
 * srctree: the tree digest of a directory (include/glasslog/srctree.h,
 * specs/statement.md section 10).
 *
 * Design. Two passes: walk the tree (lstat, never following links) and
 * collect every file and link as a relative path with its type; sort the
 * paths bytewise; then hash each entry and feed its manifest line into
 * one streaming SHA-256. Sorting the whole list (not directory by
 * directory) gives the manifest its one order whatever readdir returns.
 *
 * Invariants: every path is checked (0x21-0x7E, at most MAX_PATH bytes)
 * before it is used; nesting is bounded by MAX_DEPTH, entries by
 * MAX_ENTRIES; on failure the output and the manifest are unchanged.
 */
#include "glasslog/srctree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "glasslog/codec.h"
#include "glasslog/sha256.h"

enum { T_FILE, T_EXEC, T_LINK };
static const char *const type_names[] = {"file", "exec", "link"};

struct entry {
    char *path; /* relative, NUL-terminated, owned */
    int type;
};

struct walk {
    const char *root;
    struct entry *e;
    size_t n, cap;
    struct gl_err *why;
};

static int path_ok(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < 0x21 || (unsigned char)p[i] > 0x7e)
            return 0;
    return n > 0 && n <= GL_SRCTREE_MAX_PATH;
}

/* root + "/" + rel into buf (2 * MAX_PATH + 2 bytes). */
static int full_path(const struct walk *w, const char *rel, char *buf, size_t max)
{
    int n = snprintf(buf, max, "%s%s%s", w->root, rel[0] ? "/" : "", rel);

    return n < 0 || (size_t)n >= max ? GL_ETOOBIG : 0;
}

static int add_entry(struct walk *w, const char *rel, int type)
{
    if (w->n == GL_SRCTREE_MAX_ENTRIES)
        return gl_err_set(w->why, GL_ETOOBIG, 0, "more than %d files in the tree",
                          GL_SRCTREE_MAX_ENTRIES);
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 256;
        struct entry *e = realloc(w->e, cap * sizeof(*e));
        if (e == NULL)
            return gl_err_set(w->why, GL_ENOMEM, 0, "out of memory");
        w->e = e;
        w->cap = cap;
    }
    if ((w->e[w->n].path = strdup(rel)) == NULL)
        return gl_err_set(w->why, GL_ENOMEM, 0, "out of memory");
    w->e[w->n++].type = type;
    return 0;
}

static int walk_dir(struct walk *w, const char *rel, int depth);

/* One directory entry name of directory rel. */
static int walk_one(struct walk *w, const char *rel, const char *name, int depth)
{
    char sub[GL_SRCTREE_MAX_PATH + 2], full[2 * GL_SRCTREE_MAX_PATH + 2];
    struct stat st;
    int n = snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", name);

    if (n < 0 || !path_ok(sub, (size_t)n)) /* name unchecked: not printed */
        return gl_err_set(w->why, GL_EPARSE, 0,
                          "%.300s: an entry's path is not 1-%d printable ASCII bytes "
                          "without spaces",
                          rel[0] ? rel : ".", GL_SRCTREE_MAX_PATH);
    if (full_path(w, sub, full, sizeof(full)) != 0 || lstat(full, &st) != 0)
        return gl_err_set(w->why, GL_EIO, 0, "cannot stat %.300s", full);
    if (S_ISDIR(st.st_mode))
        return walk_dir(w, sub, depth + 1);
    if (S_ISLNK(st.st_mode))
        return add_entry(w, sub, T_LINK);
    if (S_ISREG(st.st_mode))
        return add_entry(w, sub, (st.st_mode & 0111) ? T_EXEC : T_FILE);
    return gl_err_set(w->why, GL_EPARSE, 0,
                      "%.300s is not a regular file, directory or symbolic link", full);
}

static int walk_dir(struct walk *w, const char *rel, int depth)
{
    char full[2 * GL_SRCTREE_MAX_PATH + 2];
    struct dirent *d;
    DIR *dir;
    int err = 0;

    if (depth > GL_SRCTREE_MAX_DEPTH)
        return gl_err_set(w->why, GL_ETOOBIG, 0,
                          "%.300s: directories nested deeper than %d", rel,
                          GL_SRCTREE_MAX_DEPTH);
    if (full_path(w, rel, full, sizeof(full)) != 0 || (dir = opendir(full)) == NULL)
        return gl_err_set(w->why, GL_EIO, 0, "cannot read directory %.300s", full);
    for (;;) {
        errno = 0;
        if ((d = readdir(dir)) == NULL) {
            if (errno != 0)
                err = gl_err_set(w->why, GL_EIO, 0, "cannot read directory %.300s", full);
            break;
        }
        if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
            continue;
        if ((err = walk_one(w, rel, d->d_name, depth)) != 0)
            break;
    }
    closedir(dir);
    return err;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->path, ((const struct entry *)b)->path);
}

/* The hash of an entry: a file's contents or a link's target. */
static int hash_entry(const struct walk *w, const struct entry *e, uint8_t out[32])
{
    char full[2 * GL_SRCTREE_MAX_PATH + 2], target[GL_SRCTREE_MAX_PATH + 1], chunk[65536];
    struct gl_sha256 *h = NULL;
    ssize_t got;
    int fd, err;

    if (full_path(w, e->path, full, sizeof(full)) != 0)
        return gl_err_set(w->why, GL_ETOOBIG, 0, "path too long");
    if (e->type == T_LINK) {
        if ((got = readlink(full, target, sizeof(target))) < 0 ||
            (size_t)got >= sizeof(target))
            return gl_err_set(w->why, GL_EIO, 0, "cannot read link %.300s", full);
        return gl_sha256(target, (size_t)got, out);
    }
    if ((fd = open(full, O_RDONLY | O_NOFOLLOW)) < 0)
        return gl_err_set(w->why, GL_EIO, 0, "cannot open %.300s", full);
    if ((err = gl_sha256_new(&h)) != 0)
        goto out;
    while ((got = read(fd, chunk, sizeof(chunk))) > 0)
        if ((err = gl_sha256_update(h, chunk, (size_t)got)) != 0)
            goto out;
    err = got < 0 ? gl_err_set(w->why, GL_EIO, 0, "cannot read %.300s", full)
                  : gl_sha256_final(h, out);
out:
    gl_sha256_free(h);
    close(fd);
    return err;
}

/* Hashes the sorted entries' manifest into h. With keep the whole
 * manifest stays in m; else m is flushed into h every MiB. */
static int hash_manifest(const struct walk *w, struct gl_sha256 *h, struct gl_buf *m,
                         int keep)
{
    uint8_t d[32];
    char hex[GL_HASH_HEX_LEN + 1];
    int err;

    if ((err = gl_buf_append_str(m, GL_SRCTREE_HEADER "\n")) != 0)
        return gl_err_set(w->why, err, 0, "manifest too large");
    for (size_t i = 0; i < w->n; i++) {
        if ((err = hash_entry(w, &w->e[i], d)) != 0)
            return err;
        gl_hex_encode(d, 32, hex, sizeof(hex));
        if ((err = gl_buf_printf(m, "%s %s %s\n", type_names[w->e[i].type], hex,
                                 w->e[i].path)) != 0)
            return gl_err_set(w->why, err, 0, "manifest too large");
        if (!keep && m->len > (1u << 20)) {
            if ((err = gl_sha256_update(h, m->data, m->len)) != 0)
                return err;
            m->len = 0;
        }
    }
    return gl_sha256_update(h, m->data, m->len);
}

int gl_srctree_digest(const char *dir, uint8_t out[32], struct gl_buf *manifest,
                      struct gl_err *why)
{
    struct walk w = {dir, NULL, 0, 0, why};
    struct gl_sha256 *h = NULL;
    struct gl_buf m;
    uint8_t d[32];
    int err;

    if (dir == NULL || out == NULL)
        return gl_err_set(why, GL_EINVAL, 0, "no directory");
    gl_buf_init(&m, manifest != NULL ? manifest->max : (size_t)4 << 20);
    if ((err = walk_dir(&w, "", 0)) != 0)
        goto out;
    if (w.n > 0) /* an empty tree has no array: qsort's base must not be NULL */
        qsort(w.e, w.n, sizeof(*w.e), cmp_entry);
    if ((err = gl_sha256_new(&h)) != 0 ||
        (err = hash_manifest(&w, h, &m, manifest != NULL)) != 0 ||
        (err = gl_sha256_final(h, d)) != 0)
        goto out;
    if (manifest != NULL && (err = gl_buf_append(manifest, m.data, m.len)) != 0) {
        gl_err_set(why, err, 0, "manifest too large");
        goto out;
    }
    memcpy(out, d, 32);
out:
    gl_sha256_free(h);
    gl_buf_release(&m);
    for (size_t i = 0; i < w.n; i++)
        free(w.e[i].path);
    free(w.e);
    return err;
}

/*
 * cmd_mirrordir: `glasslog mirror-dir`, static publishing of a log (or of
 * a mirror's copy) for nginx, a CDN or an object store:
 *
 *   glasslog mirror-dir --log URL --log-vkey VKEY --dir DIR [--timeout S]
 *
 * Fetches the checkpoint and verifies the log's signature, then the leaf
 * hashes: from the full bundles DIR already holds (full bundles are
 * immutable), else from the log's level-0 hash tiles; their root must be
 * the checkpoint's before any entry bundle is fetched. Each missing bundle
 * is then fetched, checked against those hashes as it arrives (every
 * entry must hash to its leaf hash) and written at once; every hash tile
 * is computed here from the leaf hashes, never copied above level 0, so a
 * log cannot make DIR serve tiles that disagree with its entries. A
 * partial tile or bundle the log no longer serves (404) is read from the
 * full one's prefix (fetch_tile) and checked the same way. The
 * checkpoint is written last. Every file is written atomically (a
 * temporary file, fsync, rename, directory fsync): a reader of DIR sees
 * the old checkpoint or the new one, never a checkpoint whose files are
 * missing. A run that stops early (an entry that does not match, an I/O
 * error, a crash) leaves DIR's checkpoint as it was; the bundles it wrote
 * hold entries of a tree whose root was checked, and the next run hashes
 * every full bundle it takes from DIR again.
 *
 * Memory: the leaf hashes (32 bytes an entry) and one bundle (at most
 * GL_TILE_BUNDLE_MAX), whatever the log serves; the disk only ever gets
 * bundles that matched. A run handles at most MIRRORDIR_MAX_SIZE entries
 * (512 MiB of hashes); a larger log is refused (exit 3).
 *
 * DIR only moves forward: a checkpoint already in DIR (of m entries) must
 * be the root of the first m of the new checkpoint's entries, so a smaller
 * tree, or one that forks from what DIR publishes, is refused (exit 2,
 * nothing written).
 *
 * One run at a time: a run holds flock(LOCK_EX | LOCK_NB) on
 * DIR/.glasslog-mirror.lock from its start to its exit (the kernel drops
 * it when the process dies, kill -9 included, so a crash never leaves DIR
 * locked); a second run on DIR exits 3 at once, before it reads or writes
 * anything there. The lock file is empty, never removed (removing it would
 * let two runs lock two different files) and a dot-file outside the
 * tlog-tiles paths, so no client asks for it. When DIR does not exist yet,
 * the run verifies the log first and creates DIR and takes the lock only
 * before its first write (a refused log leaves no DIR behind); what it
 * read from DIR before that (full bundles another run may have written
 * meanwhile) is checked against the signed root like anything else.
 *
 * Temporaries: every file is written as NAME.tmp-<pid>-<serial> beside
 * NAME (gl_file_replace) and renamed; a run killed between the two leaves
 * the temporary behind. Holding the lock, a run first removes every
 * regular file of DIR whose path is exactly that of such a temporary for a
 * file mirror-dir writes (NAME the checkpoint or a canonical tile path):
 * under the lock no other run is writing one. It descends only into
 * directories a tile path can name (tile/, then levels, entries, xNNN and
 * NNN.p), never through a symbolic link, and leaves every other file
 * alone.
 *
 * Layout: DIR/checkpoint, DIR/tile/<L>/<N>[.p/<W>],
 * DIR/tile/entries/<N>[.p/<W>] (C2SP tlog-tiles paths), and the lock file
 * DIR/.glasslog-mirror.lock. A tile's partial forms (N.p/) stay while it
 * is partial (every width a published checkpoint needs), and are removed
 * once a published checkpoint holds it in full (prune_partials), as
 * tlog-tiles allows.
 * Exit 0, 2 when the log's answers do not check out (the checkpoint in DIR
 * unchanged; nothing written if the hashes or the root do not), 3 usage,
 * I/O or network errors, or another run holding DIR.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <assert.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "fetch.h"
#include "file.h"
#include "glasslog/checkpoint.h"
#include "glasslog/error.h"
#include "glasslog/key.h"
#include "glasslog/merkle.h"
#include "glasslog/note.h"
#include "glasslog/subtree.h"
#include "glasslog/tile.h"
#include "util.h"

#define HLEN GL_HASH_LEN
#define PATH_MAX_LEN 4096
#define CK_MAX ((size_t)64 << 10)
#define MIRRORDIR_MAX_SIZE ((uint64_t)1 << 24) /* entries: 512 MiB of leaf hashes */
#define LOCK_NAME ".glasslog-mirror.lock"
/* Longest path in DIR the sweep looks at: a tile path and ".tmp-" with a
 * pid and a serial (20 and 10 digits). */
#define SWEEP_REL_MAX (GL_TILE_PATH_MAX + 40)
_Static_assert(GL_TILE_PATH_MAX < SWEEP_REL_MAX, "sweep_dir's bound on at");

static const char usage[] =
    "usage: glasslog mirror-dir --log URL --log-vkey VKEY --dir DIR [--timeout S]\n"
    "\n"
    "Writes the log's checkpoint, hash tiles and entry bundles into DIR for a\n"
    "static web server, after verifying the log's signature and recomputing\n"
    "every tile from the entries. DIR only moves forward: a checkpoint already\n"
    "there must be a prefix of the new tree. At most 16777216 entries.\n"
    "One run at a time: a run locks DIR/.glasslog-mirror.lock (an empty dot-file,\n"
    "not part of the log; the lock dies with the process), and a second run on\n"
    "DIR exits 3 at once. A run first removes the temporary files\n"
    "(NAME.tmp-PID-N, renamed into place once written) that a killed run left.\n"
    "  --log URL      may be repeated (or a comma-separated list): the log, then\n"
    "                 its mirrors, tried in order when one does not answer\n"
    "  --timeout S    give up on the log after S seconds of retries (60)\n"
    "Exit: 0 ok, 2 the log's answers do not check out (DIR keeps its checkpoint),\n"
    "3 usage, I/O or network error, another run holding DIR, or a log larger\n"
    "than mirror-dir handles.\n";

/* mkdir -p of the directory part of path; each directory it creates is
 * made durable in its parent (fsync), so that after a crash a file renamed
 * into it is not lost with the directory. */
static int make_parents(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        int rc = mkdir(path, 0755);
        if (rc == 0)
            rc = gl_file_sync_parent(path);
        else if (errno == EEXIST)
            rc = 0;
        *p = '/';
        if (rc != 0)
            return GL_EIO;
    }
    return 0;
}

static int put_file(const char *dir, const char *rel, const void *data, size_t n)
{
    char path[PATH_MAX_LEN];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, rel) >= sizeof path)
        return GL_ETOOBIG;
    int rc = make_parents(path);
    if (rc == 0)
        rc = gl_file_replace(path, data, n, 0644);
    if (rc != 0)
        cli_error("cannot write %s: %s", path, strerror(errno));
    return rc;
}

/* The bytes of DIR/rel into out, GL_ENOTFOUND if it does not exist. */
static int read_local(const char *dir, const char *rel, struct gl_buf *out)
{
    char path[PATH_MAX_LEN];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    if (stat(path, &st) != 0)
        return GL_ENOTFOUND;
    gl_buf_reset(out);
    return gl_file_read(path, out);
}

/* 1 if s[0..n) is a number as printf's %ld or %u writes a nonnegative
 * one: 1 to 20 digits, no sign, no leading zero. */
static int is_decimal(const char *s, size_t n)
{
    if (n == 0 || n > 20 || (n > 1 && s[0] == '0'))
        return 0;
    return strspn(s, "0123456789") >= n;
}

/* 1 if rel (a path in DIR) names a temporary gl_file_replace makes for a
 * file this command writes: NAME.tmp-<pid>-<serial>, NAME "checkpoint" or
 * a canonical tile path, pid > 0. Tile paths and "checkpoint" hold no
 * ".tmp-", so its first occurrence ends NAME. */
static int is_stale_tmp(const char *rel)
{
    const char *t = strstr(rel, ".tmp-"), *pid, *dash;
    struct gl_tile tile;
    int entries;

    if (t == NULL)
        return 0;
    pid = t + 5;
    dash = strchr(pid, '-');
    if (dash == NULL || pid[0] == '0' || !is_decimal(pid, (size_t)(dash - pid)) ||
        !is_decimal(dash + 1, strlen(dash + 1)))
        return 0;
    if ((size_t)(t - rel) == strlen("checkpoint") && memcmp(rel, "checkpoint", 10) == 0)
        return 1;
    return gl_tile_path_parse(rel, (size_t)(t - rel), &tile, &entries, NULL) == 0;
}

/* 1 if a directory named name, in the directory rel of DIR (len bytes,
 * 0 for DIR itself), can be on a tile path: "tile" in DIR; below it a
 * level (digits), "entries", "x" and digits, or digits and ".p". */
static int is_tile_dir(size_t len, const char *name)
{
    size_t n = strlen(name), k = 0;

    if (len == 0)
        return strcmp(name, "tile") == 0;
    if (strcmp(name, "entries") == 0)
        return 1;
    if (name[0] == 'x')
        k = 1;
    else if (n > 2 && strcmp(name + n - 2, ".p") == 0)
        n -= 2;
    return n > k && strspn(name + k, "0123456789") >= n - k;
}

struct sweep {
    const char *dir;
    char rel[SWEEP_REL_MAX + 1]; /* the path in DIR being looked at */
    size_t removed;
};

/* Removes the stale temporaries (is_stale_tmp) in the directory fd, whose
 * path in DIR is sw->rel[0..len), and in the directories below it that a
 * tile path can hold; never follows a symbolic link. Takes fd (closed
 * here). 0 or GL_EIO (reported). */
static int sweep_dir(struct sweep *sw, int fd, size_t len)
{
    DIR *d = fdopendir(fd);
    const struct dirent *e;
    struct stat st;
    int rc = 0;

    if (d == NULL) {
        cli_error("cannot read %s/%.*s: %s", sw->dir, (int)len, sw->rel, strerror(errno));
        close(fd);
        return GL_EIO;
    }
    for (;;) {
        errno = 0;
        if ((e = readdir(d)) == NULL) {
            if (errno != 0) {
                cli_error("cannot read %s/%.*s: %s", sw->dir, (int)len, sw->rel,
                          strerror(errno));
                rc = GL_EIO;
            }
            break;
        }
        /* at <= GL_TILE_PATH_MAX < SWEEP_REL_MAX: only directories whose
         * path is shorter than a tile path's are descended into */
        size_t n = strlen(e->d_name), at = len ? len + 1 : 0;
        if (e->d_name[0] == '.' || n > SWEEP_REL_MAX - at)
            continue; /* ".", "..", the lock, or too long: never ours */
        if (len)
            sw->rel[len] = '/';
        memcpy(sw->rel + at, e->d_name, n + 1);
        unsigned char type = e->d_type;
        if (type == DT_UNKNOWN) {
            if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
                continue; /* gone meanwhile: not ours to judge */
            type = S_ISREG(st.st_mode) ? DT_REG : S_ISDIR(st.st_mode) ? DT_DIR : DT_LNK;
        }
        if (type == DT_REG && is_stale_tmp(sw->rel)) {
            if (unlinkat(dirfd(d), e->d_name, 0) != 0 && errno != ENOENT) {
                cli_error("cannot remove %s/%s: %s", sw->dir, sw->rel, strerror(errno));
                rc = GL_EIO;
                break;
            }
            sw->removed++;
        } else if (type == DT_DIR && at + n < GL_TILE_PATH_MAX &&
                   is_tile_dir(len, e->d_name)) {
            int sub = openat(dirfd(d), e->d_name,
                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) {
                cli_error("cannot open %s/%s: %s", sw->dir, sw->rel, strerror(errno));
                rc = GL_EIO;
                break;
            }
            if ((rc = sweep_dir(sw, sub, at + n)) != 0)
                break;
        }
    }
    closedir(d);
    return rc;
}

/* Takes the run's lock on DIR into *fd (the caller closes it at exit),
 * then removes the temporaries a killed run left (sweep_dir). With
 * create, makes DIR first; without, a missing DIR is CLI_OK with *fd -1
 * (the caller tries again before its first write). CLI_OK, or CLI_USAGE
 * (another run holds DIR, or an I/O error: reported, *fd -1). */
static int take_dir(const char *dir, int create, int *fd)
{
    char path[PATH_MAX_LEN];
    struct sweep sw;
    int dfd, rc = CLI_USAGE;

    *fd = -1;
    if ((size_t)snprintf(path, sizeof path, "%s/" LOCK_NAME, dir) >= sizeof path) {
        cli_error("--dir: path too long");
        return CLI_USAGE;
    }
    if (create && make_parents(path) != 0) {
        cli_error("cannot create %s: %s", dir, strerror(errno));
        return CLI_USAGE;
    }
    /* Read-only is enough for flock, and lets runs by users other than
     * the file's owner lock it too. O_NOFOLLOW: never a planted link. */
    *fd = open(path, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (*fd < 0) {
        if (!create && errno == ENOENT)
            return CLI_OK;
        cli_error("cannot open %s: %s", path, strerror(errno));
        return CLI_USAGE;
    }
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            cli_error("another mirror-dir run holds %s (%s is locked): nothing done", dir,
                      path);
        else
            cli_error("cannot lock %s: %s", path, strerror(errno));
        goto out;
    }
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        cli_error("cannot open %s: %s", dir, strerror(errno));
        goto out;
    }
    sw.dir = dir;
    sw.rel[0] = 0;
    sw.removed = 0;
    if (sweep_dir(&sw, dfd, 0) != 0)
        goto out;
    if (sw.removed > 0)
        cli_error("removed %zu temporary file%s an interrupted run left in %s",
                  sw.removed, sw.removed == 1 ? "" : "s", dir);
    rc = CLI_OK;
out:
    if (rc != CLI_OK) {
        close(*fd);
        *fd = -1;
    }
    return rc;
}

struct plan {
    uint64_t size;
    uint8_t (*leaves)[HLEN]; /* size leaf hashes */
    uint8_t *local;          /* 1 if bundle t is a full bundle of DIR */
};

/* Width of bundle (and level-0 tile) t of a tree of size entries. */
static uint32_t width_of(uint64_t size, uint64_t t)
{
    return size - t * 256 >= 256 ? 256 : (uint32_t)(size - t * 256);
}

/* Why fetch_tile of t failed with rc: "not found (404)" when a tile
 * that has no partial form to fall back from answered 404, else what
 * f->error says. */
static const char *fetch_why(const struct fetch *f, const struct gl_tile *t, int rc)
{
    return rc == GL_ENOTFOUND && t->width == GL_TILE_WIDTH ? "not found (404)" : f->error;
}

/* The leaf hashes of the w entries of bundle b into leaves[0..w): b was
 * read from DIR/rel when dir is set, else fetched as rel (the name a
 * refusal gives). CLI_OK; CLI_VERIFY when b is not a bundle of w entries
 * (reported); CLI_USAGE when hashing fails. */
static int bundle_leaves(const struct gl_buf *b, uint32_t w, const char *dir,
                         const char *rel, uint8_t (*leaves)[HLEN])
{
    struct gl_tile_entry e[GL_TILE_WIDTH];
    size_t n;

    assert(w >= 1 && w <= GL_TILE_WIDTH); /* decode checks n == w */
    if (gl_tile_bundle_decode(b->data, b->len, w, e, &n) != 0) {
        if (dir != NULL)
            cli_error("%s/%s: not a bundle of %u entries", dir, rel, w);
        else
            cli_error("%s: not a bundle of %u entries", rel, w);
        return CLI_VERIFY;
    }
    for (size_t i = 0; i < n; i++)
        if (gl_merkle_leaf_hash(e[i].data, e[i].len, leaves[i]) != 0)
            return CLI_USAGE;
    return CLI_OK;
}

/* The leaf hashes of bundle t (width w) into pl->leaves: hashed from the
 * full bundle in DIR if there is one (pl->local[t] set), else copied from
 * the log's level-0 hash tile, which the caller checks against the
 * checkpoint's root. CLI_* code, reported. */
static int take_hashes(struct fetch *f, const char *dir, struct plan *pl, uint64_t t,
                       uint32_t w)
{
    struct gl_tile tile = {t, 0, w};
    char rel[GL_TILE_PATH_MAX];
    struct gl_buf b;
    int rc;

    gl_buf_init(&b, GL_TILE_BUNDLE_MAX);
    gl_tile_path_format(&tile, 1, rel, NULL);
    if (w == GL_TILE_WIDTH && read_local(dir, rel, &b) == 0) {
        if ((rc = bundle_leaves(&b, w, dir, rel, pl->leaves + t * 256)) == CLI_OK)
            pl->local[t] = 1;
        goto out;
    }
    gl_tile_path_format(&tile, 0, rel, NULL);
    if ((rc = fetch_tile(f, &tile, 0, &b)) != 0) {
        cli_error("%s: %s", rel, fetch_why(f, &tile, rc));
        rc = rc == GL_ETOOBIG || rc == GL_EPARSE ? CLI_VERIFY : CLI_USAGE;
        goto out;
    }
    if (b.len != (size_t)w * HLEN) {
        cli_error("%s: %zu bytes, not a tile of %u hashes", rel, b.len, w);
        rc = CLI_VERIFY;
        goto out;
    }
    memcpy(pl->leaves[t * 256], b.data, b.len);
    rc = CLI_OK;
out:
    gl_buf_release(&b);
    return rc;
}

/* Fetches bundle t (width w), checks that its entries hash to the leaf
 * hashes of pl (already checked against the checkpoint's root), and only
 * then writes it to DIR. Holds one bundle in memory. CLI_* code,
 * reported. */
static int put_bundle(struct fetch *f, const char *dir, const struct plan *pl, uint64_t t,
                      uint32_t w)
{
    struct gl_tile tile = {t, 0, w};
    char rel[GL_TILE_PATH_MAX];
    uint8_t h[GL_TILE_WIDTH][HLEN];
    struct gl_buf b;
    int rc;

    gl_buf_init(&b, GL_TILE_BUNDLE_MAX);
    gl_tile_path_format(&tile, 1, rel, NULL);
    if ((rc = fetch_tile(f, &tile, 1, &b)) != 0) {
        cli_error("%s: %s", rel, fetch_why(f, &tile, rc));
        rc = rc == GL_EPARSE ? CLI_VERIFY : CLI_USAGE;
        goto out;
    }
    if ((rc = bundle_leaves(&b, w, NULL, rel, h)) != CLI_OK)
        goto out;
    rc = CLI_VERIFY;
    for (uint32_t i = 0; i < w; i++) {
        if (memcmp(h[i], pl->leaves[t * 256 + i], HLEN) != 0) {
            cli_error("%s: entry %llu is not the one the checkpoint's tree holds", rel,
                      (unsigned long long)t * 256 + i);
            goto out;
        }
    }
    rc = put_file(dir, rel, b.data, b.len) == 0 ? CLI_OK : CLI_USAGE;
out:
    gl_buf_release(&b);
    return rc;
}

/* Writes every hash tile of the tree (new files only for full tiles).
 * Computes the levels in place: pl->leaves is overwritten. */
static int write_tiles(const char *dir, struct plan *pl)
{
    uint64_t count = pl->size;
    uint8_t(*level)[HLEN] = pl->leaves;
    int rc = 0;

    for (uint32_t L = 0; rc == 0 && count > 0; L++) {
        for (uint64_t t = 0; rc == 0 && t * 256 < count; t++) {
            uint32_t w = count - t * 256 >= 256 ? 256 : (uint32_t)(count - t * 256);
            struct gl_tile tile = {t, L, w};
            char rel[GL_TILE_PATH_MAX], path[PATH_MAX_LEN];
            struct stat st;
            gl_tile_path_format(&tile, 0, rel, NULL);
            snprintf(path, sizeof path, "%s/%s", dir, rel);
            if (w == 256 && stat(path, &st) == 0 && st.st_size == (off_t)256 * HLEN)
                continue; /* full tiles never change */
            rc = put_file(dir, rel, level[t * 256], (size_t)w * HLEN);
        }
        uint64_t up = count / 256;
        for (uint64_t t = 0; rc == 0 && t < up; t++)
            rc = gl_tile_hash((const uint8_t(*)[HLEN])level + t * 256, level[t]);
        count = up;
    }
    return rc;
}

/* The checkpoint DIR publishes now (signed by v), if any, against the new
 * tree of pl: its root must be the root of the first m leaves; *published
 * gets m (0 without one). CLI code: CLI_OK (none, or a prefix),
 * CLI_VERIFY (smaller or forked: reported), CLI_USAGE (unreadable or not a
 * checkpoint of v: reported). */
static int check_published(const char *dir, const struct gl_verifier *v,
                           const struct plan *pl, uint64_t *published)
{
    struct gl_buf b;
    struct gl_note *note = NULL;
    struct gl_checkpoint old;
    uint8_t root[HLEN];
    int rc;

    gl_buf_init(&b, CK_MAX);
    rc = read_local(dir, "checkpoint", &b);
    if (rc == GL_ENOTFOUND) {
        rc = CLI_OK;
        goto out;
    }
    if (rc != 0 || gl_note_parse((const char *)b.data, b.len, &note, NULL) != 0 ||
        gl_note_verify(note, v, 1, NULL) != 0 ||
        gl_checkpoint_parse(note->text, note->text_len, &old, NULL) != 0 ||
        strcmp(old.origin, v->name) != 0) {
        cli_error("%s/checkpoint is not a checkpoint signed by %s: remove DIR to start "
                  "over",
                  dir, v->name);
        rc = CLI_USAGE;
        goto out;
    }
    if (old.size > pl->size) {
        cli_error(
            "the log's checkpoint of size %llu is smaller than the one of size %llu "
            "in %s: nothing written",
            (unsigned long long)pl->size, (unsigned long long)old.size, dir);
        rc = CLI_VERIFY;
        goto out;
    }
    if (old.size == 0)
        gl_merkle_empty_root(root);
    else
        gl_subtree_hash((const uint8_t(*)[HLEN])pl->leaves, old.size, root);
    if (memcmp(root, old.root, HLEN) != 0) {
        cli_error("the log's tree of size %llu does not extend the one of size %llu in "
                  "%s (its first %llu entries have another root): nothing written",
                  (unsigned long long)pl->size, (unsigned long long)old.size, dir,
                  (unsigned long long)old.size);
        rc = CLI_VERIFY;
        goto out;
    }
    *published = old.size;
    rc = CLI_OK;
out:
    gl_note_free(note);
    gl_buf_release(&b);
    return rc;
}

/* Removes DIR/<rel of tile t, level L (entries: its bundle)>.p, the
 * directory of that tile's partial forms; a failure is reported, not
 * fatal. */
static void prune_one(const char *dir, uint64_t t, uint32_t L, int entries)
{
    struct gl_tile tile = {t, L, 1};
    char rel[GL_TILE_PATH_MAX], path[PATH_MAX_LEN];
    size_t len;

    if (gl_tile_path_format(&tile, entries, rel, &len) != 0)
        return;
    assert(len > 2 && strcmp(rel + len - 2, "/1") == 0);
    rel[len - 2] = 0; /* "tile/L/N.p" */
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    if (gl_file_remove_tree(path) != 0)
        cli_error("warning: cannot remove %s, the partial forms of a full tile: %s", path,
                  strerror(errno));
}

/* Removes the partial tiles and bundles (N.p/) of every tile the newly
 * published tree (size entries) holds in full and the one published
 * before (old entries) did not: tlog-tiles lets a log delete a partial
 * tile once the full one is served, and readers of an older checkpoint
 * take the full tile's prefix. Without it, every run at a new size added
 * one partial file a level for good. */
static void prune_partials(const char *dir, uint64_t old, uint64_t size)
{
    for (uint32_t L = 0; L < 7 && size >> (8 * L) >= 256; L++) /* shifts below 64 */
        for (uint64_t t = old >> (8 * (L + 1)); t < size >> (8 * (L + 1)); t++) {
            prune_one(dir, t, L, 0);
            if (L == 0)
                prune_one(dir, t, 0, 1);
        }
}

/* mirror-dir's options (the strings point into argv). */
struct mirrordir_opts {
    struct fetch_opts net; /* --log (the log, then mirrors to read from), --timeout */
    const char *vkey, *dir;
};

/* Takes one option of mirror-dir (a cli_take_fn; ctx: the mirrordir_opts). */
static int mirrordir_take(void *ctx, int c, const char *arg)
{
    struct mirrordir_opts *o = ctx;
    int rc = fetch_opts_take(&o->net, c, arg);

    if (rc != GL_ENOTFOUND)
        return rc == 0 ? 0 : -1;
    if (c == 'k')
        o->vkey = arg;
    else {
        assert(c == 'd');
        o->dir = arg;
    }
    return 0;
}

int cmd_mirrordir_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"log", required_argument, NULL, 'l'}, {"log-vkey", required_argument, NULL, 'k'},
        {"dir", required_argument, NULL, 'd'}, {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0},
    };
    struct mirrordir_opts o;
    const char *log, *dir;
    struct gl_verifier v;
    struct fetch f;
    struct gl_buf ck;
    struct gl_note *note = NULL;
    struct gl_checkpoint c;
    struct plan pl;
    uint64_t published = 0;
    int lock = -1, rc;

    memset(&o, 0, sizeof(o));
    rc = cli_parse_opts(argc, argv, opts, usage, mirrordir_take, &o);
    if (rc != 0)
        return rc > 0 ? CLI_OK : CLI_USAGE;
    rc = CLI_USAGE;
    log = fetch_opts_log(&o.net);
    dir = o.dir;
    if (log == NULL || o.vkey == NULL || dir == NULL || optind != argc) {
        cli_error("mirror-dir needs --log, --log-vkey and --dir");
        return CLI_USAGE;
    }
    if (cli_load_verifier(o.vkey, &v) != 0)
        return CLI_USAGE;
    memset(&pl, 0, sizeof pl);
    memset(&f, 0, sizeof f);
    gl_buf_init(&ck, CK_MAX);
    /* The lock before DIR is read (a missing DIR: before the first write) */
    if (take_dir(dir, 0, &lock) != CLI_OK)
        goto out;
    if (fetch_open(&f, &o.net) != 0)
        goto out;
    if (fetch_get(&f, "checkpoint", CK_MAX, &ck) != 0) {
        cli_error("%s/checkpoint: %s", log, f.error);
        goto out;
    }
    rc = CLI_VERIFY;
    if (gl_note_parse((const char *)ck.data, ck.len, &note, NULL) != 0 ||
        gl_note_verify(note, &v, 1, NULL) != 0 ||
        gl_checkpoint_parse(note->text, note->text_len, &c, NULL) != 0 ||
        strcmp(c.origin, v.name) != 0) {
        cli_error("the checkpoint is not signed by %s (or is not a checkpoint of it)",
                  v.name);
        goto out;
    }
    if (c.size > MIRRORDIR_MAX_SIZE) {
        cli_error("the log has %llu entries, more than mirror-dir handles (%llu): "
                  "nothing written",
                  (unsigned long long)c.size, (unsigned long long)MIRRORDIR_MAX_SIZE);
        rc = CLI_USAGE;
        goto out;
    }
    pl.size = c.size; /* <= 2^24: the sizes below cannot overflow */
    uint64_t nb = (c.size + 255) / 256;
    pl.leaves = malloc((size_t)(c.size ? c.size : 1) * HLEN);
    pl.local = calloc(nb ? nb : 1, 1);
    if (pl.leaves == NULL || pl.local == NULL) {
        rc = CLI_USAGE;
        goto out;
    }
    /* The leaf hashes first, and the root checked, before any entry
     * bundle is fetched: a bundle is then checked as it arrives and
     * written at once, so memory holds the hashes and one bundle. */
    for (uint64_t t = 0; t < nb; t++)
        if ((rc = take_hashes(&f, dir, &pl, t, width_of(c.size, t))) != CLI_OK)
            goto out;
    uint8_t root[HLEN];
    if (c.size == 0)
        gl_merkle_empty_root(root);
    else
        gl_subtree_hash((const uint8_t(*)[HLEN])pl.leaves, c.size, root);
    if (memcmp(root, c.root, HLEN) != 0) {
        cli_error("the level-0 tiles of %s (and the full bundles in %s) do not hash to "
                  "its checkpoint's root: nothing written",
                  log, dir);
        rc = CLI_VERIFY;
        goto out;
    }
    if (lock < 0 && (rc = take_dir(dir, 1, &lock)) != CLI_OK)
        goto out;
    if ((rc = check_published(dir, &v, &pl, &published)) != CLI_OK)
        goto out;
    for (uint64_t t = 0; t < nb; t++) {
        if (pl.local[t])
            continue;
        if ((rc = put_bundle(&f, dir, &pl, t, width_of(c.size, t))) != CLI_OK) {
            if (rc == CLI_VERIFY)
                cli_error("%s keeps its checkpoint (the bundles written so far hold "
                          "entries of the checkpoint's tree)",
                          dir);
            goto out;
        }
    }
    rc = CLI_USAGE;
    if (write_tiles(dir, &pl) != 0 || put_file(dir, "checkpoint", ck.data, ck.len) != 0)
        goto out;
    prune_partials(dir, published, c.size);
    printf("%s: checkpoint %llu\n", dir, (unsigned long long)c.size);
    rc = CLI_OK;
out:
    free(pl.local);
    free(pl.leaves);
    gl_note_free(note);
    gl_buf_release(&ck);
    fetch_release(&f);
    if (lock >= 0)
        close(lock); /* releases the lock (so would the exit) */
    return rc;
}

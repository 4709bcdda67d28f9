/*
 * restore: see restore.h. Entries go into the store one bundle (256
 * entries) a batch, with their leaf index and secondary indexes, while the
 * tree grows in memory (tree_append records the full tiles into the same
 * batches); nothing names a size until the final batch, which also holds
 * the log key, so a store left behind by a crash has no state and cannot
 * open as a log. Memory: one bundle and the tree edge.
 */
#include "restore.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "entryindex.h"
#include "file.h"
#include "glasslog/checkpoint.h"
#include "glasslog/cosig.h"
#include "glasslog/error.h"
#include "glasslog/log.h"
#include "glasslog/merkle.h"
#include "glasslog/note.h"
#include "glasslog/statement.h"
#include "glasslog/tile.h"
#include "http_client.h"
#include "store.h"
#include "tree.h"

#define RESTORE_CKPT_MAX ((size_t)1 << 16)
#define RESTORE_TIMEOUT_MS 60000L
#define RESTORE_URL_MAX 4096

struct restore {
    const struct restore_config *cfg;
    struct gl_http_client *http;
    struct store *s;
    struct tree *t;
    struct gl_checkpoint c;
    char dir[4096]; /* the data directory, without trailing slashes; a
                     * symbolic link's target */
    char tmp[4200]; /* dir + ".restoring": built there, then renamed */
    int lock;       /* dir, open and flock'ed while the restore runs, or -1 */
    int made_dir;   /* 1 if the restore made dir (removed again on failure) */
    int renamed;    /* 1 once dir holds the restored store */
};

/* GETs <url>/<path> into resp (the caller releases it); 0 only on 200.
 * A 404 is GL_ENOTFOUND, logged unless quiet404 (a tile's: a partial
 * one's is read from its full tile, and fetch_tile logs what is still
 * missing); any other failure is GL_EIO or the transport's code, logged. */
static int get(struct restore *r, const char *path, size_t max, int quiet404,
               struct gl_http_response *resp)
{
    const char *u = r->cfg->url;
    char url[RESTORE_URL_MAX];
    int n = snprintf(url, sizeof(url), "%s%s%s", u,
                     u[0] && u[strlen(u) - 1] == '/' ? "" : "/", path);
    int rc;

    if (n < 0 || (size_t)n >= sizeof(url))
        return GL_ETOOBIG;
    rc = gl_http_get(r->http, url, max, RESTORE_TIMEOUT_MS, resp);
    if (rc != 0) {
        gl_log(GL_LOG_ERROR, "restore: GET %s: %s", url,
               resp->error[0] ? resp->error : gl_strerror(rc));
        return rc;
    }
    if (resp->status != 200 && !(resp->status == 404 && quiet404))
        gl_log(GL_LOG_ERROR, "restore: GET %s answered %ld", url, resp->status);
    if (resp->status == 404)
        return GL_ENOTFOUND;
    return resp->status == 200 ? 0 : GL_EIO;
}

static int fetch(struct restore *r, const char *path, size_t max,
                 struct gl_http_response *resp)
{
    int rc = get(r, path, max, 0, resp);

    return rc == GL_ENOTFOUND ? GL_EIO : rc;
}

/* get as a gl_tile_get_fn (ctx: the restore): the body moves into *body;
 * a 404 is fetch_tile's to log. */
static int tile_get(void *ctx, const char *path, size_t max, struct gl_buf *body)
{
    struct gl_http_response resp = {0};
    int rc = get(ctx, path, max, 1, &resp);

    if (rc == 0)
        gl_http_response_take_body(&resp, body);
    gl_http_response_release(&resp);
    return rc;
}

/* Tile t (a bundle when entries) of the copy into *body (the caller
 * releases it), read from its full tile when a partial one is gone
 * (gl_tile_fetch). 0, or an error, logged (a 404 is GL_EIO). */
static int fetch_tile(struct restore *r, const struct gl_tile *t, int entries,
                      struct gl_buf *body)
{
    char path[GL_TILE_PATH_MAX];
    struct gl_err why = {0, ""}; /* set by gl_tile_fetch, not the transport */
    int rc = gl_tile_fetch(t, entries, tile_get, r, body, &why);

    if ((rc == GL_EPARSE || rc == GL_EINVAL) && why.reason[0] != 0)
        gl_log(GL_LOG_ERROR, "restore: %s", why.reason);
    if (rc == GL_ENOTFOUND) {
        gl_tile_path_format(t, entries, path, NULL);
        gl_log(GL_LOG_ERROR, "restore: the copy at %s has no %s (404)%s", r->cfg->url,
               path, t->width < GL_TILE_WIDTH ? ", nor its full tile" : "");
        rc = GL_EIO;
    }
    return rc;
}

/* Step 1: the copy's checkpoint, signed by the log and (with a policy)
 * cosigned by its quorum, into r->c. */
static int prove_checkpoint(struct restore *r)
{
    struct gl_http_response resp = {0};
    const struct gl_policy *p = r->cfg->policy;
    struct gl_cosig_status st[GL_POLICY_MAX_WITNESSES];
    uint8_t witnessed[GL_POLICY_MAX_WITNESSES];
    struct gl_note *note = NULL;
    struct gl_err why;
    size_t nw = 0, nvalid = 0;
    int rc;

    if ((rc = fetch(r, "checkpoint", RESTORE_CKPT_MAX, &resp)) != 0)
        goto out;
    if ((rc = gl_checkpoint_open((const char *)resp.body.data, resp.body.len,
                                 r->cfg->vkey, &r->c, &note, &why)) != 0) {
        gl_log(GL_LOG_ERROR, "restore: the copy's checkpoint is not this log's: %s",
               why.reason);
        goto out;
    }
    if (p != NULL) {
        const struct gl_verifier *wk = gl_policy_witness_keys(p, &nw);
        if ((rc = gl_cosig_verify_note(note, wk, nw, st, &nvalid)) != 0)
            goto out;
        for (size_t i = 0; i < nw; i++)
            witnessed[i] = st[i].status == 0;
        if ((rc = gl_policy_quorum_check(p, witnessed, nw)) != 0) {
            gl_log(GL_LOG_ERROR,
                   "restore: the copy's checkpoint (size %" PRIu64 ") lacks the "
                   "witness quorum: %zu of %zu witnesses cosigned it",
                   r->c.size, nvalid, nw);
            goto out;
        }
    }
    if (p != NULL && nw > 0)
        gl_log(GL_LOG_INFO,
               "restore: target size %" PRIu64 ", signed by the log, cosigned by the "
               "witness quorum (%zu of %zu witnesses)",
               r->c.size, nvalid, nw);
    else
        gl_log(GL_LOG_INFO, "restore: target size %" PRIu64 ", signed by the log %s",
               r->c.size,
               p != NULL ? "(no witnesses in the policy)" : "(no witness policy given)");
out:
    gl_note_free(note);
    gl_http_response_release(&resp);
    return rc;
}

/* Appends the entries of one bundle (their count: width) to the tree and
 * to a batch, and commits it. */
static int restore_bundle(struct restore *r, uint64_t k, uint32_t width)
{
    struct gl_tile t = {k, 0, width};
    struct gl_tile_entry e[GL_TILE_WIDTH];
    struct store_batch *b = NULL;
    char path[GL_TILE_PATH_MAX];
    struct gl_buf body;
    size_t n;
    int rc;

    gl_buf_init(&body, GL_TILE_BUNDLE_MAX);
    if ((rc = fetch_tile(r, &t, 1, &body)) != 0)
        goto out;
    if ((rc = gl_tile_bundle_decode(body.data, body.len, width, e, &n)) != 0) {
        gl_tile_path_format(&t, 1, path, NULL);
        gl_log(GL_LOG_ERROR, "restore: %s is not a bundle of %u entries", path, width);
        goto out;
    }
    if ((rc = store_batch_new(r->s, &b)) != 0)
        goto out;
    for (size_t i = 0; i < n && rc == 0; i++) {
        uint64_t index = k * GL_TILE_WIDTH + i;
        struct gl_statement st;
        struct entryindex ix;
        uint8_t leaf[GL_HASH_LEN];
        if (gl_statement_parse((const char *)e[i].data, e[i].len, &st, NULL) != 0) {
            gl_log(GL_LOG_ERROR, "restore: entry %" PRIu64 " is not a statement", index);
            rc = GL_EVERIFY;
            break;
        }
        if ((rc = gl_merkle_leaf_hash(e[i].data, e[i].len, leaf)) != 0 ||
            (rc = tree_append(r->t, leaf, b)) != 0)
            break;
        store_batch_put_entry(b, index, e[i].data, e[i].len);
        store_batch_put_leaf(b, leaf, index);
        entryindex_of(&st, e[i].data, &ix);
        entryindex_put(&ix, e[i].data, index, b);
    }
    if (rc == 0)
        rc = store_batch_commit(b, NULL);
out:
    store_batch_free(b);
    gl_buf_release(&body);
    return rc;
}

/* Step 3: every hash tile of the copy equals ours (the full ones are in
 * the store; partial ones, put by the final batch, are checked after). */
static int check_tile(struct restore *r, uint32_t level, uint64_t index, uint32_t width)
{
    struct gl_tile t = {index, level, width};
    struct gl_buf body;
    uint8_t mine[STORE_TILE_MAX];
    size_t len = 0;
    char path[GL_TILE_PATH_MAX];
    int rc;

    if ((rc = gl_tile_path_format(&t, 0, path, NULL)) != 0)
        return rc;
    if (width == GL_TILE_WIDTH)
        rc = store_get_tile(r->s, level, index, mine, &len);
    else
        memcpy(mine, r->t->edge[level], (len = (size_t)width * GL_HASH_LEN));
    if (rc != 0) {
        gl_log(GL_LOG_ERROR, "restore: recomputed %s is missing: %s", path,
               gl_strerror(rc));
        return rc;
    }
    gl_buf_init(&body, STORE_TILE_MAX);
    rc = fetch_tile(r, &t, 0, &body);
    if (rc == GL_ETOOBIG || rc == GL_EPARSE)
        rc = GL_EVERIFY; /* longer than the tile, or a broken full one: it differs */
    if (rc == GL_EVERIFY ||
        (rc == 0 && (body.len != len || memcmp(body.data, mine, len) != 0))) {
        gl_log(GL_LOG_ERROR,
               "restore: the copy's %s differs from the tile recomputed from "
               "its entries",
               path);
        rc = GL_EVERIFY;
    }
    gl_buf_release(&body);
    return rc;
}

static int check_tiles(struct restore *r)
{
    uint64_t size = r->c.size;
    int rc = 0;

    for (uint32_t l = 0; l < TREE_TILE_LEVELS && (size >> (8 * l)) > 0 && rc == 0; l++) {
        uint64_t nodes = size >> (8 * l), full = nodes / GL_TILE_WIDTH;
        uint32_t w = (uint32_t)(nodes % GL_TILE_WIDTH);
        for (uint64_t i = 0; i < full && rc == 0; i++)
            rc = check_tile(r, l, i, GL_TILE_WIDTH);
        if (rc == 0 && w > 0)
            rc = check_tile(r, l, full, w);
    }
    return rc;
}

/* The copy mark (store_get_copy), then the final batch: the partial
 * tiles, the key, the state. */
static int finish(struct restore *r)
{
    struct store_batch *b = NULL;
    struct gl_buf ck, vk;
    int rc;

    gl_buf_init(&ck, RESTORE_CKPT_MAX);
    gl_buf_init(&vk, GL_KEY_TEXT_MAX);
    if ((rc = gl_verifier_format(r->cfg->vkey, &vk)) != 0 ||
        (rc = gl_checkpoint_sign(r->cfg->key->name, r->c.size, r->c.root, r->cfg->key,
                                 &ck)) != 0 ||
        (rc = store_set_copy(r->s, 1)) != 0 || (rc = store_batch_new(r->s, &b)) != 0)
        goto out;
    tree_finish_batch(r->t, 0, b);
    store_batch_put_vkey(b, (const char *)vk.data);
    store_batch_put_index_version(b, ENTRYINDEX_VERSION);
    store_batch_put_state(b, r->c.size, ck.data, ck.len);
    rc = store_batch_commit(b, NULL);
out:
    store_batch_free(b);
    gl_buf_release(&ck);
    gl_buf_release(&vk);
    return rc;
}

static int rebuild(struct restore *r)
{
    struct store_options o = {.dir = r->tmp, .create = 1, .cache_mb = r->cfg->cache_mb};
    uint64_t bundles, shown = 0;
    uint8_t root[GL_HASH_LEN];
    const char *why = "";
    int rc;

    if ((rc = prove_checkpoint(r)) != 0)
        return rc;
    if ((rc = store_open(&o, &r->s, &why)) != 0) {
        gl_log(GL_LOG_ERROR, "restore: %s: %s", r->tmp, why);
        return rc;
    }
    tree_init(r->t);
    bundles = (r->c.size + GL_TILE_WIDTH - 1) / GL_TILE_WIDTH;
    for (uint64_t k = 0; k < bundles && rc == 0; k++) {
        uint64_t left = r->c.size - k * GL_TILE_WIDTH;
        rc = restore_bundle(r, k, left >= GL_TILE_WIDTH ? GL_TILE_WIDTH : (uint32_t)left);
        if (rc == 0 && (k + 1) * 10 / bundles > shown) {
            shown = (k + 1) * 10 / bundles;
            gl_log(GL_LOG_INFO, "restore: %" PRIu64 "%% of %" PRIu64 " entries",
                   shown * 10, r->c.size);
        }
    }
    if (rc != 0)
        return rc;
    if ((rc = tree_root(r->t, root)) != 0)
        return rc;
    if (memcmp(root, r->c.root, GL_HASH_LEN) != 0) {
        gl_log(GL_LOG_ERROR,
               "restore: the copy's entries do not hash to the signed root "
               "of size %" PRIu64 ": the copy was altered",
               r->c.size);
        return GL_EVERIFY;
    }
    if ((rc = check_tiles(r)) != 0)
        return rc;
    return finish(r);
}

/* 1 if dir exists and is a mount point (a rename cannot replace it). */
static int is_mount_point(const char *dir)
{
    char parent[4200];
    struct stat d, p;

    if (stat(dir, &d) != 0 ||
        snprintf(parent, sizeof(parent), "%s/..", dir) >= (int)sizeof(parent) ||
        stat(parent, &p) != 0)
        return 0;
    return d.st_dev != p.st_dev || d.st_ino == p.st_ino;
}

/* A data directory given as a symbolic link is restored into the
 * directory it names: built beside that one, on its file system (a rename
 * cannot replace the link itself with a directory). */
static int restore_resolve(struct restore *r)
{
    struct stat st;
    char *real;
    int n;

    if (lstat(r->dir, &st) != 0 || !S_ISLNK(st.st_mode))
        return 0;
    if ((real = realpath(r->dir, NULL)) == NULL) {
        gl_log(GL_LOG_ERROR,
               "restore: %s is a symbolic link to nothing that can be read (%s): "
               "a restore fills the directory a link names",
               r->dir, strerror(errno));
        return GL_EINVAL;
    }
    n = snprintf(r->dir, sizeof(r->dir), "%s", real);
    free(real);
    return n >= (int)sizeof(r->dir) ? GL_ETOOBIG : 0;
}

/* Takes the data directory for this restore: makes it if missing and
 * holds an flock on it until restore_run returns, so that a second
 * restore of the same directory is refused before it touches the first
 * one's DIR.restoring. */
static int restore_lock(struct restore *r)
{
    if (mkdir(r->dir, 0700) == 0)
        r->made_dir = 1;
    else if (errno != EEXIST) {
        gl_log(GL_LOG_ERROR, "restore: cannot make %s: %s", r->dir, strerror(errno));
        return GL_EIO;
    }
    r->lock = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (r->lock < 0) {
        gl_log(GL_LOG_ERROR, "restore: cannot open %s: %s", r->dir, strerror(errno));
        return GL_EIO;
    }
    if (flock(r->lock, LOCK_EX | LOCK_NB) != 0) {
        gl_log(GL_LOG_ERROR,
               "restore: another restore of %s is running (the directory is locked): "
               "nothing done",
               r->dir);
        return GL_ESTATE;
    }
    return 0;
}

/* Checks the data directory can be made by a restore (missing or empty,
 * not a mount point), takes it, and clears the leftover of an interrupted
 * one. */
static int restore_prepare(struct restore *r)
{
    const char *dir = r->cfg->dir;
    int empty, rc;

    if (snprintf(r->dir, sizeof(r->dir), "%s", dir) >= (int)sizeof(r->dir))
        return GL_ETOOBIG;
    gl_file_trim_slashes(r->dir);
    if ((rc = restore_resolve(r)) != 0 || (rc = restore_lock(r)) != 0)
        return rc;
    if ((empty = gl_file_dir_empty(r->dir)) <= 0) {
        gl_log(GL_LOG_ERROR, "restore: %s %s: a restore makes a new data directory", dir,
               empty < 0 ? "cannot be read" : "has data");
        return GL_EEXIST;
    }
    if (is_mount_point(r->dir)) {
        gl_log(GL_LOG_ERROR,
               "restore: %s is a mount point: a restore is built beside the data "
               "directory and renamed into place, so give a directory below it",
               dir);
        return GL_EINVAL;
    }
    if (snprintf(r->tmp, sizeof(r->tmp), "%s.restoring", r->dir) >= (int)sizeof(r->tmp))
        return GL_ETOOBIG;
    if (gl_file_remove_tree(r->tmp) != 0) {
        gl_log(GL_LOG_ERROR, "restore: cannot remove the leftover %s", r->tmp);
        return GL_EIO;
    }
    return 0;
}

/* Moves the built store into place. After the rename the data directory
 * holds the restore whatever else fails; only its durability is then in
 * doubt, and nothing is removed. */
static int restore_publish(struct restore *r)
{
    if (rename(r->tmp, r->dir) != 0) {
        gl_log(GL_LOG_ERROR, "restore: cannot move %s to %s: %s", r->tmp, r->dir,
               strerror(errno));
        return GL_EIO;
    }
    r->renamed = 1;
    if (gl_file_sync_parent(r->dir) != 0) {
        gl_log(GL_LOG_ERROR,
               "restore: %s holds the restored log, but syncing its parent directory "
               "failed (%s): the rename may not survive a crash; check the disk, then "
               "start glasslogd",
               r->dir, strerror(errno));
        return GL_EIO;
    }
    return 0;
}

/* Undoes a failed restore: its temporary store, and the data directory if
 * the restore made it. */
static void restore_discard(struct restore *r, int rc)
{
    if (r->tmp[0] != 0)
        (void)gl_file_remove_tree(r->tmp);
    if (r->made_dir)
        (void)rmdir(r->dir);
    gl_log(GL_LOG_ERROR, "restore: refused (%s); nothing was made", gl_strerror(rc));
}

int restore_run(const struct restore_config *cfg)
{
    struct restore r = {.cfg = cfg, .lock = -1};
    int rc;

    if ((rc = restore_prepare(&r)) != 0)
        goto out;
    if ((r.t = malloc(sizeof(*r.t))) == NULL || gl_http_client_new(NULL, &r.http) != 0) {
        rc = GL_ENOMEM;
        goto out;
    }
    gl_log(GL_LOG_INFO, "restore: rebuilding %s from %s", r.dir, cfg->url);
    rc = rebuild(&r);
    store_close(r.s);
    /* rename replaces an empty r.dir in one step: at no moment is there
     * neither the old empty directory nor the restored store */
    if (rc == 0 && (rc = restore_publish(&r)) == 0)
        gl_log(GL_LOG_INFO, "restore: %s holds %" PRIu64 " verified entries", r.dir,
               r.c.size);
out:
    if (rc != 0 && !r.renamed)
        restore_discard(&r, rc);
    if (r.lock >= 0)
        close(r.lock);
    gl_http_client_free(r.http);
    free(r.t);
    return rc;
}

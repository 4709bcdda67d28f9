/*
 * mirror: the tlog-mirror role (mirror.h). Per mirrored log, one store
 * (log/store.h) and one struct tree (log/tree.h) at the next entry.
 *
 * add-entries, per request, under the log's writer lock:
 *   header -> 400/404; upload_end must be a remembered pending size at or
 *   above the mirror checkpoint, upload_start at most next (else 409);
 *   then for each whole package of the canonical sequence: hash its
 *   entries (plus, for the first one, the stored leaf hashes before
 *   upload_start), verify the subtree proof against the pending root
 *   (422), append the entries not stored yet to the tree and a batch;
 *   commit every MIRROR_COMMIT_PACKAGES packages and at the end. A
 *   complete upload then cosigns the pending checkpoint of size upload_end
 *   and commits it as the mirror checkpoint unless a larger one is there.
 * The tree is copied before each batch and restored if the commit fails,
 * so memory never runs ahead of the disk.
 */
#include "mirror.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../log/store.h"
#include "../log/tree.h"
#include "glasslog/codec.h"
#include "glasslog/cosig.h"
#include "glasslog/error.h"
#include "glasslog/log.h"
#include "glasslog/merkle.h"
#include "glasslog/mirror.h"
#include "glasslog/note.h"
#include "glasslog/subtree.h"
#include "glasslog/tile.h"

#define HLEN GL_HASH_LEN
#define NOTE_MAX ((size_t)64 << 10)

struct pending {
    uint64_t size;
    uint8_t root[HLEN];
    char *note; /* the log's note (text and its signatures); owned */
    size_t len;
};

struct mlog {
    size_t log; /* index into the logs list */
    struct store *store;
    pthread_mutex_t wmu; /* one writer at a time: tree, next */
    struct tree *tree;   /* at size next */
    pthread_mutex_t pmu; /* guards what follows */
    struct pending ring[MIRROR_PENDING_KEEP];
    size_t ring_at; /* next slot to overwrite */
    uint64_t size;  /* mirror checkpoint */
    struct gl_buf note;
};

struct mirror {
    struct mirror_config cfg;
    struct gl_signer key;
    char wname[GL_KEY_NAME_MAX + 1];
    struct mlog *v;
    size_t n;
};

static void set_why(struct mirror_result *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_why(struct mirror_result *r, int status, const char *fmt, ...)
{
    va_list ap;
    r->status = status;
    va_start(ap, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): a false positive */
    vsnprintf(r->why, sizeof(r->why), fmt, ap);
    va_end(ap);
}

/* --- opening ------------------------------------------------------------------------ */

struct last_tile {
    uint64_t index;
    size_t len;
    int any;
};

static int note_last(void *ctx, uint64_t index, const uint8_t *data, size_t len)
{
    struct last_tile *t = ctx;
    (void)data;
    t->index = index;
    t->len = len;
    t->any = 1;
    return 0;
}

/* The next entry: the end of the stored level-0 tiles. */
static int find_next(struct store *s, uint64_t size, uint64_t *next)
{
    struct last_tile t = {0, 0, 0};
    int rc = store_scan_tiles(s, 0, size / 256, note_last, &t);
    if (rc < 0)
        return rc;
    *next = t.any ? t.index * 256 + t.len / HLEN : 0;
    return *next < size ? GL_EPARSE : 0;
}

static int mlog_open(struct mirror *m, struct mlog *ml, size_t log)
{
    const struct logs_entry *e = &m->cfg.logs->v[log];
    char dir[4096], hex[65];
    struct store_options o;
    struct stat st;
    const char *why = "";
    uint64_t next = 0;
    int rc;

    ml->log = log;
    pthread_mutex_init(&ml->wmu, NULL);
    pthread_mutex_init(&ml->pmu, NULL);
    gl_buf_init(&ml->note, NOTE_MAX);
    gl_hex_encode(e->origin_hash, 32, hex, sizeof hex);
    snprintf(dir, sizeof dir, "%s/mirror", m->cfg.data);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        gl_log(GL_LOG_ERROR, "cannot create %s", dir);
        return GL_EIO;
    }
    snprintf(dir, sizeof dir, "%s/mirror/%s", m->cfg.data, hex);
    memset(&o, 0, sizeof o);
    o.dir = dir;
    o.create = stat(dir, &st) != 0;
    o.cache_mb = m->cfg.cache_mb;
    if ((rc = store_open(&o, &ml->store, &why)) != 0) {
        gl_log(GL_LOG_ERROR, "mirror of %s: %s: %s", e->origin, dir, why);
        return rc;
    }
    if ((ml->tree = malloc(sizeof *ml->tree)) == NULL)
        return GL_ENOMEM;
    if ((rc = store_get_state(ml->store, &ml->size, &ml->note)) != 0 ||
        (rc = find_next(ml->store, ml->size, &next)) != 0 ||
        (rc = tree_load(ml->tree, ml->store, next)) != 0) {
        gl_log(GL_LOG_ERROR, "mirror of %s: cannot load %s: %s", e->origin, dir,
               gl_strerror(rc));
        return rc;
    }
    gl_log(GL_LOG_INFO, "mirror of %s: checkpoint %llu, next entry %llu%s", e->origin,
           (unsigned long long)ml->size, (unsigned long long)next,
           o.create ? " (new)" : "");
    return 0;
}

int mirror_open(const struct mirror_config *cfg, struct mirror **out)
{
    struct mirror *m;
    size_t n = 0;
    int rc = 0;

    if (cfg == NULL || out == NULL || cfg->key == NULL || cfg->key->type != GL_KEY_COSIG)
        return GL_EINVAL;
    for (size_t i = 0; i < cfg->logs->n; i++)
        n += cfg->logs->v[i].mirror != 0;
    if (n == 0)
        return GL_EINVAL;
    if ((m = calloc(1, sizeof *m)) == NULL || (m->v = calloc(n, sizeof *m->v)) == NULL) {
        free(m);
        return GL_ENOMEM;
    }
    m->cfg = *cfg;
    m->key = *cfg->key;
    snprintf(m->wname, sizeof m->wname, "%s", cfg->witness_name ? cfg->witness_name : "");
    for (size_t i = 0; i < cfg->logs->n && rc == 0; i++) {
        if (!cfg->logs->v[i].mirror)
            continue;
        rc = mlog_open(m, &m->v[m->n++], i);
        if (rc == 0)
            mirror_observe(m, i);
    }
    if (rc != 0) {
        mirror_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

void mirror_free(struct mirror *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n; i++) {
        struct mlog *ml = &m->v[i];
        store_close(ml->store);
        free(ml->tree);
        for (size_t j = 0; j < MIRROR_PENDING_KEEP; j++)
            free(ml->ring[j].note);
        gl_buf_release(&ml->note);
        pthread_mutex_destroy(&ml->wmu);
        pthread_mutex_destroy(&ml->pmu);
    }
    free(m->v);
    gl_signer_wipe(&m->key);
    free(m);
}

size_t mirror_count(const struct mirror *m)
{
    return m ? m->n : 0;
}

static struct mlog *by_log(struct mirror *m, size_t log)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->v[i].log == log)
            return &m->v[i];
    return NULL;
}

static struct mlog *by_hash(struct mirror *m, const uint8_t oh[32])
{
    size_t i;
    if (logs_find_hash(m->cfg.logs, oh, &i) != 0)
        return NULL;
    return by_log(m, i);
}

static struct mlog *by_origin(struct mirror *m, const char *origin, size_t n)
{
    size_t i;
    if (logs_find(m->cfg.logs, origin, n, &i) != 0)
        return NULL;
    return by_log(m, i);
}

/* --- pending checkpoints ---------------------------------------------------------- */

/* The log's note without the witness's own line: text, blank line and the
 * other signature lines. */
static int strip_witness(const struct mirror *m, const char *rec, size_t len,
                         struct gl_buf *out)
{
    struct gl_note *n = NULL;
    size_t wl = strlen(m->wname);
    int rc = gl_note_parse(rec, len, &n, NULL);
    if (rc != 0)
        return rc;
    rc = gl_buf_append(out, n->text, n->text_len);
    if (rc == 0)
        rc = gl_buf_putc(out, '\n');
    for (size_t i = 0; i < n->nsigs && rc == 0; i++) {
        const struct gl_note_sig *s = &n->sigs[i];
        if (s->name_len == wl && memcmp(s->name, m->wname, wl) == 0)
            continue;
        rc = gl_buf_append(out, s->line, s->line_len);
    }
    gl_note_free(n);
    return rc;
}

void mirror_observe(struct mirror *m, size_t log)
{
    struct mlog *ml = by_log(m, log);
    struct engine_view v;
    struct gl_buf rec, note;

    if (ml == NULL)
        return;
    gl_buf_init(&rec, NOTE_MAX);
    gl_buf_init(&note, NOTE_MAX);
    if (engine_view(m->cfg.engine, log, &v, &rec) == 0 && v.has &&
        strip_witness(m, (const char *)rec.data, rec.len, &note) == 0) {
        pthread_mutex_lock(&ml->pmu);
        size_t last = (ml->ring_at + MIRROR_PENDING_KEEP - 1) % MIRROR_PENDING_KEEP;
        if (ml->ring[last].note == NULL || ml->ring[last].size != v.size) {
            struct pending *p = &ml->ring[ml->ring_at];
            uint8_t *d = NULL;
            size_t dl = 0;
            if (gl_buf_detach(&note, &d, &dl) == 0) {
                free(p->note);
                p->note = (char *)d;
                p->len = dl;
                p->size = v.size;
                memcpy(p->root, v.root, HLEN);
                ml->ring_at = (ml->ring_at + 1) % MIRROR_PENDING_KEEP;
            }
        }
        pthread_mutex_unlock(&ml->pmu);
    }
    gl_buf_release(&rec);
    gl_buf_release(&note);
}

/* Copies the pending checkpoint of this size (root, note) out; also the
 * newest pending size. 0 or GL_ENOTFOUND. */
static int find_pending(struct mlog *ml, uint64_t size, uint8_t root[HLEN],
                        struct gl_buf *note, uint64_t *newest, uint64_t *mirror_size)
{
    int rc = GL_ENOTFOUND;
    pthread_mutex_lock(&ml->pmu);
    size_t last = (ml->ring_at + MIRROR_PENDING_KEEP - 1) % MIRROR_PENDING_KEEP;
    *newest = ml->ring[last].note ? ml->ring[last].size : 0;
    *mirror_size = ml->size;
    for (size_t i = 0; i < MIRROR_PENDING_KEEP && rc != 0; i++) {
        const struct pending *p = &ml->ring[i];
        if (p->note == NULL || p->size != size)
            continue;
        memcpy(root, p->root, HLEN);
        rc = gl_buf_append(note, p->note, p->len);
    }
    pthread_mutex_unlock(&ml->pmu);
    return rc;
}

/* --- add-entries ------------------------------------------------------------------- */

struct upload {
    struct mirror *m;
    struct mlog *ml;
    struct gl_mirror_upload u;
    uint8_t root[HLEN];        /* pending root at upload_end */
    struct store_batch *batch; /* open batch, or NULL */
    struct tree *saved;        /* the tree when the batch opened */
    uint64_t batch_from;       /* next when the batch opened */
    size_t batch_packages;
    struct mirror_result *r;
};

static uint64_t next_of(const struct mlog *ml)
{
    return ml->tree->range.size;
}

static int batch_open(struct upload *up)
{
    if (up->batch != NULL)
        return 0;
    int rc = store_batch_new(up->ml->store, &up->batch);
    if (rc != 0)
        return rc;
    memcpy(up->saved, up->ml->tree, sizeof *up->saved);
    up->batch_from = next_of(up->ml);
    up->batch_packages = 0;
    return 0;
}

/* Commits the open batch (with its partial tiles); on failure the tree
 * goes back to where the batch began. */
static int batch_commit(struct upload *up)
{
    int rc;
    if (up->batch == NULL)
        return 0;
    tree_finish_batch(up->ml->tree, up->batch_from, up->batch);
    rc = store_batch_commit(up->batch, NULL);
    store_batch_free(up->batch);
    up->batch = NULL;
    if (rc != 0) {
        memcpy(up->ml->tree, up->saved, sizeof *up->saved);
        gl_log(GL_LOG_ERROR, "mirror of %s: storage commit failed: %s",
               up->m->cfg.logs->v[up->ml->log].origin, gl_strerror(rc));
    }
    return rc;
}

/* Leaf hashes of stored entries [from, to) within one level-0 tile. */
static int stored_leaves(struct mlog *ml, uint64_t from, uint64_t to,
                         uint8_t (*out)[HLEN])
{
    uint64_t next = next_of(ml), tile = from / 256;
    if (to <= from)
        return 0;
    assert(to <= next && tile == (to - 1) / 256);
    if (tile == next / 256) { /* the partial tile: the tree's edge */
        memcpy(out, ml->tree->edge[0][from % 256], (size_t)(to - from) * HLEN);
        return 0;
    }
    uint8_t *buf = malloc(STORE_TILE_MAX);
    size_t len = 0;
    int rc = buf ? store_get_tile(ml->store, 0, tile, buf, &len) : GL_ENOMEM;
    if (rc == 0 && len < (to % 256 == 0 ? 256 : to % 256) * HLEN)
        rc = GL_EPARSE;
    if (rc == 0)
        memcpy(out, buf + (from % 256) * HLEN, (size_t)(to - from) * HLEN);
    free(buf);
    return rc;
}

/* Authenticates package p and stores what is new of it. 0, or the HTTP
 * status to answer (r->why set). */
static int take_package(struct upload *up, const struct gl_mirror_package *p)
{
    struct mlog *ml = up->ml;
    uint8_t(*h)[HLEN] = malloc((size_t)256 * HLEN), node[HLEN];
    size_t pre = (size_t)(p->start - p->subtree_start), cnt = (size_t)(p->end - p->start);
    int rc, status = 0;

    if (h == NULL)
        return set_why(up->r, 503, "out of memory"), 503;
    if ((rc = stored_leaves(ml, p->subtree_start, p->start, h)) != 0) {
        set_why(up->r, 500, "cannot read stored leaf hashes: %s", gl_strerror(rc));
        status = 500;
        goto out;
    }
    for (size_t i = 0; i < cnt && rc == 0; i++)
        rc = gl_merkle_leaf_hash(p->entries[i].data, p->entries[i].len, h[pre + i]);
    if (rc == 0)
        rc = gl_subtree_hash((const uint8_t(*)[HLEN])h, pre + cnt, node);
    if (rc != 0) {
        set_why(up->r, 500, "hashing failed");
        status = 500;
        goto out;
    }
    rc = gl_subtree_verify(p->subtree_start, p->end, up->u.end, node, up->root,
                           (const uint8_t(*)[HLEN])p->proof, p->nproof);
    if (rc != 0) {
        set_why(up->r, 422,
                "package [%llu, %llu): the subtree consistency proof does not "
                "verify against the checkpoint of size %llu",
                (unsigned long long)p->start, (unsigned long long)p->end,
                (unsigned long long)up->u.end);
        status = 422;
        goto out;
    }
    if (p->end > next_of(ml) && (rc = batch_open(up)) != 0) {
        set_why(up->r, 503, "cannot start a storage batch");
        status = 503;
        goto out;
    }
    for (uint64_t i = next_of(ml); i < p->end && rc == 0; i++) {
        const struct gl_tile_entry *e = &p->entries[i - p->start];
        rc = tree_append(ml->tree, h[i - p->subtree_start], up->batch);
        store_batch_put_entry(up->batch, i, e->data, e->len);
        store_batch_put_leaf(up->batch, h[i - p->subtree_start], i);
        up->r->stored++;
    }
    if (rc != 0) {
        set_why(up->r, 500, "cannot append to the tree");
        status = 500;
    }
    up->batch_packages++;
out:
    free(h);
    return status;
}

/* Makes the pending checkpoint of size upload_end the mirror checkpoint
 * (unless a larger one is there): 200 with our cosignature, or 409. */
static void finish(struct upload *up, const struct gl_buf *pnote)
{
    struct mlog *ml = up->ml;
    struct gl_note *n = NULL;
    struct gl_buf line, note;
    struct store_batch *b = NULL;
    int rc;

    gl_buf_init(&line, sizeof up->r->line);
    gl_buf_init(&note, NOTE_MAX);
    pthread_mutex_lock(&ml->pmu);
    uint64_t cur = ml->size;
    pthread_mutex_unlock(&ml->pmu);
    if (up->u.end < cur) {
        set_why(up->r, 409, "the mirror checkpoint is already larger");
        up->r->info_size = cur;
        up->r->info_next = next_of(ml);
        goto out;
    }
    if ((rc = gl_note_parse((const char *)pnote->data, pnote->len, &n, NULL)) != 0 ||
        (rc = gl_cosig_sign(&up->m->key, n->text, n->text_len, (uint64_t)time(NULL),
                            &line)) != 0 ||
        (rc = gl_buf_append(&note, pnote->data, pnote->len)) != 0 ||
        (rc = gl_buf_append(&note, line.data, line.len)) != 0) {
        set_why(up->r, 500, "cannot cosign the checkpoint: %s", gl_strerror(rc));
        goto out;
    }
    if ((rc = store_batch_new(ml->store, &b)) == 0) {
        store_batch_put_state(b, up->u.end, note.data, note.len);
        rc = store_batch_commit(b, NULL);
    }
    if (rc != 0) {
        set_why(up->r, 503, "cannot store the mirror checkpoint");
        goto out;
    }
    pthread_mutex_lock(&ml->pmu);
    if (up->u.end >= ml->size) {
        ml->size = up->u.end;
        gl_buf_reset(&ml->note);
        rc = gl_buf_append(&ml->note, note.data, note.len);
    }
    pthread_mutex_unlock(&ml->pmu);
    up->r->status = 200;
    memcpy(up->r->line, line.data, line.len);
    up->r->line_len = line.len;
out:
    store_batch_free(b);
    gl_note_free(n);
    gl_buf_release(&line);
    gl_buf_release(&note);
}

/* The packages of the body (from offset at); leaves r->status 0 when the
 * whole canonical sequence was taken. */
static void take_packages(struct upload *up, const uint8_t *body, size_t len, size_t at)
{
    uint64_t np = gl_mirror_npackages(up->u.start, up->u.end), i;
    struct gl_mirror_package *p = malloc(sizeof *p);
    struct gl_err why;

    if (p == NULL) {
        set_why(up->r, 503, "out of memory");
        return;
    }
    for (i = 0; i < np; i++) {
        size_t used = 0;
        gl_mirror_package_bounds(up->u.start, up->u.end, i, p);
        int rc = gl_mirror_package_parse(body + at, len - at, p, &used, &why);
        if (rc == GL_EPARSE)
            break; /* the body ends here: keep what was whole */
        if (rc != 0) {
            set_why(up->r, 422, "package %llu: %s", (unsigned long long)i, why.reason);
            break;
        }
        if (take_package(up, p) != 0)
            break;
        at += used;
        up->r->packages++;
        if (up->batch_packages >= MIRROR_COMMIT_PACKAGES && batch_commit(up) != 0) {
            set_why(up->r, 503, "storage commit failed");
            break;
        }
    }
    free(p);
    if (batch_commit(up) != 0 && up->r->status == 0)
        set_why(up->r, 503, "storage commit failed");
    if (up->r->status != 0)
        return;
    if (i < np) {
        if (up->r->packages > 0) {
            up->r->status = 202;
        } else {
            set_why(up->r, 400, "no whole entry package in the body (%s)", why.reason);
        }
    } else if (at != len) {
        set_why(up->r, 400, "%zu bytes after the last entry package", len - at);
    }
}

void mirror_add_entries(struct mirror *m, const uint8_t *body, size_t len,
                        struct mirror_result *r)
{
    struct upload up;
    struct gl_err why;
    struct gl_buf pnote;
    uint64_t newest = 0, msize = 0;
    size_t at = 0;

    memset(r, 0, sizeof *r);
    memset(&up, 0, sizeof up);
    up.m = m;
    up.r = r;
    if (gl_mirror_upload_parse(body, len, &up.u, &at, &why) != 0)
        return set_why(r, 400, "%s", why.reason);
    if ((up.ml = by_origin(m, up.u.origin, up.u.origin_len)) == NULL)
        return set_why(r, 404, "unknown log origin (or not mirrored here)");
    if ((up.saved = malloc(sizeof *up.saved)) == NULL)
        return set_why(r, 503, "out of memory");
    gl_buf_init(&pnote, NOTE_MAX);
    mirror_observe(m, up.ml->log);
    pthread_mutex_lock(&up.ml->wmu);
    uint64_t next = next_of(up.ml);
    int known = find_pending(up.ml, up.u.end, up.root, &pnote, &newest, &msize) == 0;
    r->info_size = known && up.u.end >= msize ? up.u.end : newest;
    r->info_next = next;
    if (!known || up.u.end < msize) {
        set_why(r, 409,
                "upload_end %llu is not a pending checkpoint size at or above the "
                "mirror checkpoint",
                (unsigned long long)up.u.end);
    } else if (up.u.start > next) {
        set_why(r, 409, "upload_start %llu is beyond the next entry %llu",
                (unsigned long long)up.u.start, (unsigned long long)next);
    } else {
        take_packages(&up, body, len, at);
        r->info_next = next_of(up.ml);
        if (r->status == 0)
            finish(&up, &pnote);
    }
    pthread_mutex_unlock(&up.ml->wmu);
    gl_buf_release(&pnote);
    free(up.saved);
}

int mirror_progress(struct mirror *m, size_t log, uint64_t *pending, uint64_t *next,
                    uint64_t *size)
{
    struct mlog *ml = by_log(m, log);
    if (ml == NULL)
        return GL_ENOTFOUND;
    pthread_mutex_lock(&ml->wmu);
    *next = next_of(ml);
    pthread_mutex_unlock(&ml->wmu);
    pthread_mutex_lock(&ml->pmu);
    size_t last = (ml->ring_at + MIRROR_PENDING_KEEP - 1) % MIRROR_PENDING_KEEP;
    *pending = ml->ring[last].note ? ml->ring[last].size : 0;
    *size = ml->size;
    pthread_mutex_unlock(&ml->pmu);
    return 0;
}

/* --- reads ---------------------------------------------------------------------------
 */

int mirror_checkpoint(struct mirror *m, const uint8_t oh[32], struct gl_buf *out)
{
    struct mlog *ml = by_hash(m, oh);
    int rc = GL_ENOTFOUND;
    if (ml == NULL)
        return rc;
    pthread_mutex_lock(&ml->pmu);
    if (ml->note.len > 0)
        rc = gl_buf_append(out, ml->note.data, ml->note.len);
    pthread_mutex_unlock(&ml->pmu);
    return rc;
}

struct bundle {
    struct gl_tile_entry e[GL_TILE_WIDTH];
    struct gl_buf raw;
    size_t n;
};

static int collect(void *ctx, uint64_t index, const uint8_t *data, size_t len)
{
    struct bundle *b = ctx;
    (void)index;
    b->e[b->n++].len = len;
    return gl_buf_append(&b->raw, data, len);
}

static int read_bundle(struct mlog *ml, uint64_t index, uint32_t width,
                       struct gl_buf *out)
{
    struct bundle *b = calloc(1, sizeof *b);
    size_t off = 0;
    int rc;
    if (b == NULL)
        return GL_ENOMEM;
    gl_buf_init(&b->raw, GL_TILE_BUNDLE_MAX);
    rc = store_scan_entries(ml->store, index * 256, width, collect, b);
    for (size_t i = 0; i < b->n && rc == 0; i++) {
        b->e[i].data = b->raw.data + off;
        off += b->e[i].len;
    }
    if (rc == 0)
        rc = b->n == width ? gl_tile_bundle_encode(b->e, b->n, out) : GL_ENOTFOUND;
    gl_buf_release(&b->raw);
    free(b);
    return rc;
}

int mirror_tile(struct mirror *m, const uint8_t oh[32], uint32_t level, uint64_t index,
                uint32_t width, int entries, struct gl_buf *out)
{
    struct mlog *ml = by_hash(m, oh);
    uint64_t size, count;
    if (ml == NULL || width == 0 || width > 256)
        return GL_ENOTFOUND;
    pthread_mutex_lock(&ml->pmu);
    size = ml->size;
    pthread_mutex_unlock(&ml->pmu);
    count = level < TREE_TILE_LEVELS ? size >> (8 * level) : 0;
    if (index > count / 256 || index * 256 + width > count)
        return GL_ENOTFOUND;
    if (entries)
        return read_bundle(ml, index, width, out);
    uint8_t *buf = malloc(STORE_TILE_MAX);
    size_t len = 0;
    int rc = buf ? store_get_tile(ml->store, level, index, buf, &len) : GL_ENOMEM;
    if (rc == 0 && len < (size_t)width * HLEN)
        rc = GL_EPARSE;
    if (rc == 0)
        rc = gl_buf_append(out, buf, (size_t)width * HLEN);
    free(buf);
    return rc;
}

/*
 * mirror: the tlog-mirror role (mirror.h). Per mirrored log, one store
 * (log/store.h) and one struct tree (log/tree.h) at the next entry.
 *
 * add-entries, per request, under the log's writer lock:
 *   header -> 400/404; upload_end must be a remembered pending size (or
 *   the size in a ticket this process sealed) at or above the mirror
 *   checkpoint, upload_start at most next and, when the upload carries
 *   packages, at least MIRROR_BELOW_MAX entries below the next entry's
 *   package start (else 409);
 *   then for each whole package of the canonical sequence: hash its
 *   entries (plus, for the first one, the stored leaf hashes before
 *   upload_start), verify the subtree proof against the pending root
 *   (422), append the entries not stored yet to the tree and a batch;
 *   commit every MIRROR_COMMIT_PACKAGES packages and at the end. A
 *   complete upload then recomputes the stored tree's root at upload_end
 *   (the proofs covered only the packages' subtrees) and, when it is the
 *   pending root, cosigns the pending checkpoint of size upload_end and
 *   commits it as the mirror checkpoint unless a larger one is there;
 *   another root is a 500, logged, nothing signed. When the mirror
 *   checkpoint that would be committed is the stored one (same size,
 *   text and witness lines: an empty upload at the mirror's size) and
 *   the stored mirror cosignature is at most MIRROR_COSIG_REUSE_S old,
 *   that cosignature is the answer: nothing signed or written.
 * The tree is copied before each batch and restored if the commit fails,
 * so memory never runs ahead of the disk. A failed commit (of entries or
 * of the mirror checkpoint) marks the log broken: its outcome is unknown
 * and RocksDB refuses later writes (log/store.h rule 4), so the next
 * writer first reopens the store and reloads the state (mlog_recover).
 *
 * Tickets: every 202/409 carries a ticket sealing the pending checkpoint
 * its mirror info names (lib/mirror.c format) under a random key drawn
 * at mirror_open and wiped at mirror_free (tickets die with the process,
 * as the in-memory ring does). A ticket is consulted only when upload_end
 * is not in the ring; one that does not open, or names another size, is
 * ignored (the request is then judged as if it had no ticket).
 *
 * One request reuses its scratch (leaf hashes, a tile) for every package.
 *
 * Reload (mirror.h): each log's state is its own allocation, so a new
 * list is a new array of pointers: mirror_prepare stages it (logs kept by
 * origin, copies opened for the new ones, each marked kept or not) and
 * mirror_switch installs it, closing the logs not kept and setting each
 * log's index into the new list. The gate (a count of add-entries and
 * refreshes inside, under cmu) lets the reload wait for none to run.
 *
 * Reads: full tiles and full entry bundles at or below the mirror
 * checkpoint never change, so mirror_tile keeps each one it served in a
 * bounded LRU per log (blobcache.h) and serves it from there afterwards;
 * partial ones are read from the store every time. Invariant: the bounds
 * of all the logs' caches add up to at most TILE_CACHE_BYTES, whatever
 * the number of logs: each log's bound is TILE_CACHE_BYTES / n for the n
 * logs mirrored (at most LOGS_MAX, so a share is at least 16 KiB), set
 * when its copy opens and again, for every log kept, when mirror_switch
 * installs a new set (shrinking a bound evicts the least recently used).
 *
 * Storage bounds (mirror.h, Bounds): max_logs is fixed at open; every
 * copy is opened (mlog_open) with MIRROR_OPEN_FILES table files at most
 * and MIRROR_WRITE_BUFFER_MB write buffers, all on one block cache
 * (m->cache, cfg.cache_mb), and mirror_prepare, the only place
 * copies are opened, refuses a list mirroring more than max_logs logs
 * before it opens any. Between mirror_prepare and mirror_switch the
 * copies in use and the staged ones are open together (the ones the next
 * list keeps count once), so the bound is on that peak (mirror_copies,
 * checked by mirror_check_copies alone, which a reload also calls
 * before it pauses anything; the copies kept are found by by_log's
 * lookup, find_log, as mirror_prepare finds them): invariant, at most
 * max_logs copies are ever open at once. mirror_bound is the bound
 * mirror_open fixes, for the caller to size descriptors before opening.
 */
#include "mirror.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/crypto.h>

#include "../log/entryindex.h"
#include "../log/store.h"
#include "../log/tree.h"
#include "blobcache.h"
#include "clock.h"
#include "file.h"
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
/* Full tiles and entry bundles kept in memory, in all: split evenly
 * between the mirrored logs (tile_share). */
#define TILE_CACHE_BYTES ((size_t)64 << 20)
/* A broken store (a commit failed) is reopened at most this often. */
#define RECOVER_MS 1000

struct pending {
    uint64_t size;
    uint8_t root[HLEN];
    char *note; /* the log's note (text and its signatures); owned */
    size_t len;
};

struct mlog {
    size_t log; /* index into the logs list */
    struct store *store;
    pthread_mutex_t wmu;     /* one writer at a time: tree, broken,
                              * recover_ms, next */
    struct tree *tree;       /* at size next */
    int broken;              /* a commit failed: mlog_recover first */
    uint64_t recover_ms;     /* its last attempt (monotonic ms) */
    struct blobcache *tiles; /* full tiles and bundles served (immutable) */
    pthread_mutex_t pmu;     /* guards what follows */
    uint64_t next;           /* next entry committed (the tree's size once
                              * its batch is on disk): mirror_progress reads
                              * it without waiting for a writer */
    struct pending ring[MIRROR_PENDING_KEEP];
    size_t ring_at; /* next slot to overwrite */
    uint64_t size;  /* mirror checkpoint */
    struct gl_buf note;
    char origin[GL_CHECKPOINT_ORIGIN_MAX + 1]; /* for log lines */
    int kept; /* staged by mirror_prepare for the next list too */
};

/* What mirror_prepare staged for the next list: the logs in its order,
 * the ones kept (same pointer) and the ones opened for it. */
struct staged {
    struct mlog **v;
    size_t *log; /* v[i]'s index in the next list */
    size_t n;
};

struct mirror {
    struct mirror_config cfg;
    size_t max_logs;        /* copies open at once, at most (fixed at open) */
    struct kv_cache *cache; /* the copies' block cache, cfg.cache_mb */
    struct gl_signer key;
    uint8_t ticket_key[GL_MIRROR_TICKET_KEY]; /* secret; wiped at free */
    pthread_mutex_t cmu;                      /* guards uploads and the gate */
    uint64_t uploads[2];                      /* identity, gzip bodies */
    int paused;                               /* the gate: add-entries get 503 */
    size_t busy;                              /* calls inside the gate */
    char wname[GL_KEY_NAME_MAX + 1];
    struct mlog **v; /* owned, each owned */
    size_t n;
    struct staged next; /* mirror_prepare .. mirror_switch/mirror_unstage */
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

/* Each log's tile cache bound when n logs are mirrored: n of them add
 * up to at most TILE_CACHE_BYTES. */
static size_t tile_share(size_t n)
{
    return TILE_CACHE_BYTES / (n > 0 ? n : 1);
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

/* The next entry: the end of the stored level-0 tiles, scanned from the
 * tile holding entry size - 1 (at a size that is a multiple of 256 that
 * tile is full and none after it may exist yet). */
static int find_next(struct store *s, uint64_t size, uint64_t *next)
{
    struct last_tile t = {0, 0, 0};
    int rc = store_scan_tiles(s, 0, size > 0 ? (size - 1) / 256 : 0, note_last, &t);
    if (rc < 0)
        return rc;
    *next = t.any ? t.index * 256 + t.len / HLEN : 0;
    return *next < size ? GL_EPARSE : 0;
}

static void mlog_close(struct mlog *ml)
{
    if (ml == NULL)
        return;
    store_close(ml->store);
    free(ml->tree);
    blobcache_free(ml->tiles);
    for (size_t j = 0; j < MIRROR_PENDING_KEEP; j++)
        free(ml->ring[j].note);
    gl_buf_release(&ml->note);
    pthread_mutex_destroy(&ml->wmu);
    pthread_mutex_destroy(&ml->pmu);
    free(ml);
}

/* Reads what store s holds: the mirror checkpoint (*size, its note
 * appended to note), the next entry (*next) and tree, loaded at next
 * (the lookup indexes brought up to it). */
static int load_state(struct store *s, uint64_t *size, struct gl_buf *note,
                      uint64_t *next, struct tree *tree)
{
    int rc;

    if ((rc = store_get_state(s, size, note)) != 0 ||
        (rc = find_next(s, *size, next)) != 0 || (rc = entryindex_update(s, *next)) != 0)
        return rc;
    return tree_load(tree, s, *next);
}

/* Loads the data of ml (its store open) for logs entry e. */
static int mlog_load(struct mlog *ml, const struct logs_entry *e, const char *dir)
{
    int rc = load_state(ml->store, &ml->size, &ml->note, &ml->next, ml->tree);

    if (rc != 0)
        gl_log(GL_LOG_ERROR, "mirror of %s: cannot load %s: %s", e->origin, dir,
               gl_strerror(rc));
    return rc;
}

/* After a failed commit (ml->broken; rule 4 of log/store.h): reopens the
 * store as a restart would, so that what reached the disk (all of the
 * failed batch or none of it) becomes the records, and reloads the tree,
 * the next entry and the mirror checkpoint from there. Under the writer
 * lock, before anything else is written; at most once every
 * RECOVER_MS (GL_EIO in between, and while the disk still fails:
 * the copy stays readable as it was). 0 when ml is not broken. */
static int mlog_recover(struct mlog *ml)
{
    struct tree *tree;
    struct gl_buf note;
    uint64_t size = 0, next = 0, now = gl_clock_mono_ms();
    int rc;

    if (!ml->broken)
        return 0;
    if (ml->recover_ms != 0 && now - ml->recover_ms < RECOVER_MS)
        return GL_EIO;
    ml->recover_ms = now;
    if ((tree = malloc(sizeof *tree)) == NULL)
        return GL_ENOMEM;
    gl_buf_init(&note, NOTE_MAX);
    if ((rc = store_reopen(ml->store)) == 0 &&
        (rc = load_state(ml->store, &size, &note, &next, tree)) == 0) {
        memcpy(ml->tree, tree, sizeof *tree);
        pthread_mutex_lock(&ml->pmu);
        struct gl_buf old = ml->note; /* a swap: both have the cap NOTE_MAX */
        ml->note = note;
        note = old;
        ml->size = size;
        ml->next = next;
        pthread_mutex_unlock(&ml->pmu);
        ml->broken = 0;
        gl_log(GL_LOG_INFO,
               "mirror of %s: store recovered: checkpoint %llu, next entry %llu",
               ml->origin, (unsigned long long)size, (unsigned long long)next);
    } else {
        gl_log(GL_LOG_ERROR, "mirror of %s: store not recovered (%s); uploads answer 503",
               ml->origin, gl_strerror(rc));
    }
    gl_buf_release(&note);
    free(tree);
    return rc;
}

/* Opens (creating when missing) the copy of logs entry e into *out, with
 * a tile cache of cache_bytes. Caller closes with mlog_close. */
static int mlog_open(const struct mirror *m, const struct logs_entry *e,
                     size_t cache_bytes, struct mlog **out)
{
    char dir[4096], hex[GL_HASH_HEX_LEN + 1];
    struct store_options o;
    const char *why = "";
    struct mlog *ml = calloc(1, sizeof *ml);
    int rc;

    if (ml == NULL)
        return GL_ENOMEM;
    pthread_mutex_init(&ml->wmu, NULL);
    pthread_mutex_init(&ml->pmu, NULL);
    gl_buf_init(&ml->note, NOTE_MAX);
    snprintf(ml->origin, sizeof ml->origin, "%s", e->origin);
    gl_hex_encode(e->origin_hash, GL_HASH_LEN, hex, sizeof hex);
    snprintf(dir, sizeof dir, "%s/mirror", m->cfg.data);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        gl_log(GL_LOG_ERROR, "cannot create %s", dir);
        mlog_close(ml);
        return GL_EIO;
    }
    snprintf(dir, sizeof dir, "%s/mirror/%s", m->cfg.data, hex);
    memset(&o, 0, sizeof o);
    o.dir = dir;
    /* made when missing or empty: an empty copy (a crash before the
     * store's first files, or emptied by hand) holds nothing to lose */
    if ((rc = gl_file_dir_empty(dir)) < 0) {
        gl_log(GL_LOG_ERROR, "mirror of %s: cannot read %s", e->origin, dir);
        mlog_close(ml);
        return rc;
    }
    o.create = rc;
    o.cache = m->cache;
    o.max_open_files = MIRROR_OPEN_FILES;
    o.write_buffer_mb = MIRROR_WRITE_BUFFER_MB;
    if ((rc = store_open(&o, &ml->store, &why)) != 0)
        gl_log(GL_LOG_ERROR, "mirror of %s: %s: %s", e->origin, dir, why);
    else if ((ml->tree = malloc(sizeof *ml->tree)) == NULL)
        rc = GL_ENOMEM;
    if (rc == 0 && (rc = blobcache_new(cache_bytes, &ml->tiles)) == 0)
        rc = mlog_load(ml, e, dir);
    if (rc != 0) {
        mlog_close(ml);
        return rc;
    }
    size_t own = 0;
    for (size_t i = 0; i < e->nwitnesses; i++)
        own += strcmp(e->witnesses[i].name, m->wname) == 0;
    gl_log(GL_LOG_INFO,
           "mirror of %s: checkpoint %llu, next entry %llu%s; keeps the cosignatures of "
           "%zu witnesses%s",
           e->origin, (unsigned long long)ml->size,
           (unsigned long long)ml->tree->range.size, o.create ? " (new)" : "",
           e->nwitnesses, own ? " (this one's included)" : "");
    *out = ml;
    return 0;
}

/* Where logs entry `log` is in m->v: 0 and *at, or GL_ENOTFOUND (not
 * mirrored). The one lookup by log, for const and non-const callers. */
static int find_log(const struct mirror *m, size_t log, size_t *at)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->v[i]->log == log) {
            *at = i;
            return 0;
        }
    return GL_ENOTFOUND;
}

static struct mlog *by_log(struct mirror *m, size_t log)
{
    size_t i;

    return find_log(m, log, &i) == 0 ? m->v[i] : NULL;
}

/* Frees a staging: closes the logs opened for it, unmarks the kept. */
static void staged_drop(struct staged *x)
{
    for (size_t i = 0; i < x->n; i++) {
        if (x->v[i]->kept)
            x->v[i]->kept = 0;
        else
            mlog_close(x->v[i]);
    }
    free(x->v);
    free(x->log);
    memset(x, 0, sizeof *x);
}

void mirror_unstage(struct mirror *m)
{
    staged_drop(&m->next);
}

void mirror_copies(const struct mirror *m, const struct logs_list *next, size_t *after,
                   size_t *peak)
{
    size_t n = 0, kept = 0, old, at;

    for (size_t i = 0; i < next->n; i++) {
        const struct logs_entry *e = &next->v[i];
        if (!e->mirror)
            continue;
        n++;
        /* as mirror_prepare finds the copies it keeps */
        kept += logs_find(m->cfg.logs, e->origin, strlen(e->origin), &old) == 0 &&
                find_log(m, old, &at) == 0;
    }
    *after = n;
    *peak = n + (m->n - kept);
}

int mirror_check_copies(const struct mirror *m, const struct logs_list *next, char *why,
                        size_t len)
{
    size_t after, peak;

    mirror_copies(m, next, &after, &peak);
    if (peak <= m->max_logs)
        return 0;
    snprintf(why, len,
             "the list needs %zu copies open at once (%zu logs with a mirror line, %zu "
             "dropped but open until the switch), more than the %zu copies set aside "
             "for at start (descriptors and cache: --mirror-max-logs): %s",
             peak, after, peak - after, m->max_logs,
             after > m->max_logs ? "restart the witness with a larger --mirror-max-logs"
                                 : "drop them in one reload, add the others in the "
                                   "next");
    return GL_ERANGE;
}

size_t mirror_bound(const struct logs_list *logs, size_t max_logs)
{
    if (max_logs == 0) /* logs_mirrored <= LOGS_MAX: no overflow */
        max_logs = logs_mirrored(logs) + MIRROR_LOGS_SPARE;
    return max_logs < LOGS_MAX ? max_logs : LOGS_MAX;
}

int mirror_prepare(struct mirror *m, const struct logs_list *next)
{
    struct staged x = {NULL, NULL, 0};
    char why[MIRROR_WHY_MAX];
    size_t n = logs_mirrored(next), cache;
    int rc = 0;

    assert(m->next.v == NULL);
    if ((rc = mirror_check_copies(m, next, why, sizeof why)) != 0) {
        gl_log(GL_LOG_ERROR, "mirror: %s", why);
        return rc;
    }
    x.v = calloc(n ? n : 1, sizeof(struct mlog *));
    x.log = calloc(n ? n : 1, sizeof(size_t));
    if (x.v == NULL || x.log == NULL) {
        staged_drop(&x);
        return GL_ENOMEM;
    }
    cache = tile_share(n);
    for (size_t i = 0; i < next->n && rc == 0; i++) {
        const struct logs_entry *e = &next->v[i];
        struct mlog *ml = NULL;
        size_t old;
        if (!e->mirror)
            continue;
        /* the same origin in the list in use: its copy goes on as it is */
        if (logs_find(m->cfg.logs, e->origin, strlen(e->origin), &old) == 0 &&
            (ml = by_log(m, old)) != NULL)
            ml->kept = 1;
        else
            rc = mlog_open(m, e, cache, &ml);
        if (rc == 0) {
            assert(ml != NULL && x.n < n);
            x.v[x.n] = ml;
            x.log[x.n++] = i;
        }
    }
    if (rc != 0) {
        staged_drop(&x);
        return rc;
    }
    m->next = x;
    return 0;
}

void mirror_switch(struct mirror *m, struct engine *engine)
{
    struct staged *x = &m->next;
    size_t kept = 0, added = 0, dropped = 0;

    assert(x->v != NULL && mirror_busy(m) == 0);
    for (size_t i = 0; i < m->n; i++) {
        if (m->v[i]->kept)
            continue;
        gl_log(GL_LOG_INFO, "mirror of %s: no longer mirrored (its copy stays on disk)",
               m->v[i]->origin);
        mlog_close(m->v[i]);
        dropped++;
    }
    free(m->v);
    m->v = x->v;
    m->n = x->n;
    for (size_t i = 0; i < m->n; i++) {
        kept += m->v[i]->kept;
        added += !m->v[i]->kept;
        m->v[i]->kept = 0;
        m->v[i]->log = x->log[i];
        /* a kept log's cache had the old set's share */
        blobcache_set_max(m->v[i]->tiles, tile_share(m->n));
    }
    free(x->log);
    memset(x, 0, sizeof *x);
    m->cfg.engine = engine;
    for (size_t i = 0; i < m->n; i++)
        mirror_observe(m, m->v[i]->log);
    gl_log(GL_LOG_INFO, "mirror: %zu logs (%zu kept, %zu added, %zu dropped)", m->n, kept,
           added, dropped);
}

int mirror_open(const struct mirror_config *cfg, struct mirror **out)
{
    struct mirror *m;
    int rc;

    if (cfg == NULL || out == NULL || cfg->key == NULL ||
        cfg->key->type != GL_KEY_COSIG || logs_mirrored(cfg->logs) == 0)
        return GL_EINVAL;
    if ((m = calloc(1, sizeof *m)) == NULL)
        return GL_ENOMEM;
    m->cfg = *cfg;
    m->max_logs = mirror_bound(cfg->logs, cfg->max_logs);
    m->key = *cfg->key;
    pthread_mutex_init(&m->cmu, NULL);
    if ((rc = kv_cache_new(cfg->cache_mb > 0 ? cfg->cache_mb : 16, &m->cache)) != 0) {
        mirror_free(m);
        return rc;
    }
    snprintf(m->wname, sizeof m->wname, "%s", cfg->witness_name ? cfg->witness_name : "");
    for (size_t got = 0; got < sizeof m->ticket_key;) {
        ssize_t k = getrandom(m->ticket_key + got, sizeof m->ticket_key - got, 0);
        if (k < 0 && errno != EINTR) {
            mirror_free(m);
            return GL_EIO;
        }
        got += k > 0 ? (size_t)k : 0;
    }
    if ((rc = mirror_prepare(m, cfg->logs)) != 0) {
        mirror_free(m);
        return rc;
    }
    mirror_switch(m, cfg->engine);
    *out = m;
    return 0;
}

void mirror_free(struct mirror *m)
{
    if (m == NULL)
        return;
    staged_drop(&m->next);
    for (size_t i = 0; i < m->n; i++)
        mlog_close(m->v[i]);
    free(m->v);
    kv_cache_free(m->cache);
    gl_signer_wipe(&m->key);
    OPENSSL_cleanse(m->ticket_key, sizeof m->ticket_key);
    pthread_mutex_destroy(&m->cmu);
    free(m);
}

size_t mirror_count(const struct mirror *m)
{
    return m ? m->n : 0;
}

size_t mirror_max_logs(const struct mirror *m)
{
    return m ? m->max_logs : 0;
}

void mirror_tile_cache(struct mirror *m, size_t *limit, size_t *held)
{
    *limit = *held = 0;
    for (size_t i = 0; i < m->n; i++) {
        uint64_t hits, misses;
        size_t n, bytes;
        blobcache_stats(m->v[i]->tiles, &hits, &misses, &n, &bytes);
        *limit += blobcache_max(m->v[i]->tiles);
        *held += bytes;
    }
}

/* --- the gate ---------------------------------------------------------------------- */

void mirror_pause(struct mirror *m)
{
    pthread_mutex_lock(&m->cmu);
    m->paused = 1;
    pthread_mutex_unlock(&m->cmu);
}

void mirror_resume(struct mirror *m)
{
    pthread_mutex_lock(&m->cmu);
    m->paused = 0;
    pthread_mutex_unlock(&m->cmu);
}

size_t mirror_busy(struct mirror *m)
{
    pthread_mutex_lock(&m->cmu);
    size_t n = m->busy;
    pthread_mutex_unlock(&m->cmu);
    return n;
}

/* 0 and counted inside, or GL_ESTATE while paused. */
static int gate_enter(struct mirror *m)
{
    int rc = 0;
    pthread_mutex_lock(&m->cmu);
    if (m->paused)
        rc = GL_ESTATE;
    else
        m->busy++;
    pthread_mutex_unlock(&m->cmu);
    return rc;
}

static void gate_leave(struct mirror *m)
{
    pthread_mutex_lock(&m->cmu);
    assert(m->busy > 0);
    m->busy--;
    pthread_mutex_unlock(&m->cmu);
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

/* --- kept notes -------------------------------------------------------------------- */

static int same_key(const struct gl_note_sig *s, const struct gl_verifier *k)
{
    return s->id == k->id && s->name_len == strlen(k->name) &&
           memcmp(s->name, k->name, s->name_len) == 0;
}

static int is_log_line(const struct logs_entry *e, const struct gl_note_sig *s)
{
    for (size_t i = 0; i < e->nkeys; i++)
        if (same_key(s, &e->keys[i]))
            return 1;
    return 0;
}

/* The first signature line of n by witness key k, or NULL. */
static const struct gl_note_sig *first_line(const struct gl_note *n,
                                            const struct gl_verifier *k)
{
    for (size_t i = 0; n != NULL && i < n->nsigs; i++)
        if (same_key(&n->sigs[i], k))
            return &n->sigs[i];
    return NULL;
}

/* Builds into out the kept form of base's checkpoint (mirror.h): base is a
 * kept note or a witness record (parsed), extra (may be NULL) another note
 * of the same text with any lines. Out: the text, base's lines by the
 * log's keys as they are, then, for each witness line of the log, that
 * witness's cosignature with the newest timestamp among base's and
 * extra's (base's on a tie). base is a note this mirror made or took
 * verified (a pending checkpoint of its ring, one a ticket it sealed
 * holds): its lines are not checked again; extra's are. A witness's first
 * line in each note is its line there, its later ones are ignored
 * (gl_cosig_verify_note's rule), and an extra line the same as base's is
 * not checked: at most one check per witness, whatever a sender repeats.
 * Every other line is dropped. *added (may be NULL) gets 1 when a line of
 * extra was taken. */
static int build_kept(const struct logs_entry *e, const struct gl_note *base,
                      const struct gl_note *extra, struct gl_buf *out, int *added)
{
    int rc = gl_buf_append(out, base->text, base->text_len), took = 0;

    assert(extra == NULL || (extra->text_len == base->text_len &&
                             memcmp(extra->text, base->text, base->text_len) == 0));
    if (rc == 0)
        rc = gl_buf_putc(out, '\n');
    for (size_t i = 0; i < base->nsigs && rc == 0; i++)
        if (is_log_line(e, &base->sigs[i]))
            rc = gl_buf_append(out, base->sigs[i].line, base->sigs[i].line_len);
    for (size_t w = 0; w < e->nwitnesses && rc == 0; w++) {
        const struct gl_verifier *k = &e->witnesses[w];
        const struct gl_note_sig *b = first_line(base, k), *x = first_line(extra, k);
        const struct gl_note_sig *best = NULL;
        uint64_t tb = 0, tx = 0;

        if (x != NULL && b != NULL && x->line_len == b->line_len &&
            memcmp(x->line, b->line, b->line_len) == 0)
            x = NULL; /* base's own line */
        if (b != NULL && gl_cosig_time(b, &tb) == 0)
            best = b;
        if (x != NULL && gl_cosig_verify(k, base->text, base->text_len, x, &tx) == 0 &&
            (best == NULL || tx > tb)) {
            best = x;
            took = 1;
        }
        if (best != NULL)
            rc = gl_buf_append(out, best->line, best->line_len);
    }
    if (added != NULL)
        *added = took;
    return rc;
}

/* --- pending checkpoints ---------------------------------------------------------- */

void mirror_observe(struct mirror *m, size_t log)
{
    struct mlog *ml = by_log(m, log);
    struct engine_view v;
    struct gl_buf rec;

    if (ml == NULL || m->cfg.engine == NULL)
        return;
    gl_buf_init(&rec, NOTE_MAX);
    /* the record: text, the log's lines, our own witness cosignature
     * (engine.h), kept when the log lists our witness key (build_kept) */
    if (engine_view(m->cfg.engine, log, &v, &rec) == 0 && v.has) {
        pthread_mutex_lock(&ml->pmu);
        size_t last = (ml->ring_at + MIRROR_PENDING_KEEP - 1) % MIRROR_PENDING_KEEP;
        if (ml->ring[last].note == NULL || ml->ring[last].size != v.size) {
            struct pending *p = &ml->ring[ml->ring_at];
            uint8_t *d = NULL;
            size_t dl = 0;
            if (gl_buf_detach(&rec, &d, &dl) == 0) {
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
}

int mirror_offer(struct mirror *m, size_t log, const char *note, size_t len)
{
    struct mlog *ml = m ? by_log(m, log) : NULL;
    struct gl_note *x = NULL;
    struct gl_buf out;
    int fresh = 0;

    if (ml == NULL || len > NOTE_MAX || gl_note_parse(note, len, &x, NULL) != 0)
        return 0;
    gl_buf_init(&out, NOTE_MAX);
    pthread_mutex_lock(&ml->pmu);
    for (size_t i = 0; i < MIRROR_PENDING_KEEP; i++) {
        struct pending *p = &ml->ring[i];
        struct gl_note *b = NULL;
        uint8_t *d = NULL;
        size_t dl = 0;
        int added = 0;
        if (p->note == NULL || gl_note_parse(p->note, p->len, &b, NULL) != 0)
            continue;
        gl_buf_reset(&out);
        if (b->text_len == x->text_len && memcmp(b->text, x->text, x->text_len) == 0 &&
            build_kept(&m->cfg.logs->v[log], b, x, &out, &added) == 0 && added &&
            gl_buf_detach(&out, &d, &dl) == 0) {
            free(p->note);
            p->note = (char *)d;
            p->len = dl;
            fresh |= p->size == ml->size;
        }
        gl_note_free(b);
    }
    pthread_mutex_unlock(&ml->pmu);
    gl_buf_release(&out);
    gl_note_free(x);
    return fresh;
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
    uint8_t (*h)[HLEN];        /* a package's leaf hashes (256) */
    uint8_t *tile;             /* a stored level-0 tile (STORE_TILE_MAX) */
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
        up->ml->broken = 1;
        gl_log(GL_LOG_ERROR, "mirror of %s: storage commit failed: %s",
               up->m->cfg.logs->v[up->ml->log].origin, gl_strerror(rc));
        return rc;
    }
    pthread_mutex_lock(&up->ml->pmu);
    up->ml->next = next_of(up->ml);
    pthread_mutex_unlock(&up->ml->pmu);
    return 0;
}

/* Leaf hashes of stored entries [from, to) within one level-0 tile (buf:
 * STORE_TILE_MAX bytes of scratch). */
static int stored_leaves(struct mlog *ml, uint64_t from, uint64_t to, uint8_t *buf,
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
    size_t len = 0;
    int rc = store_get_tile(ml->store, 0, tile, buf, &len);
    if (rc == 0 && len < (to % 256 == 0 ? 256 : to % 256) * HLEN)
        rc = GL_EPARSE;
    if (rc == 0)
        memcpy(out, buf + (from % 256) * HLEN, (size_t)(to - from) * HLEN);
    return rc;
}

/* Puts the secondary-index keys of entry i (lookup's, entryindex.h) into
 * b, as glasslogd does; an entry that is not a statement gets none. */
static void index_entry(const struct gl_tile_entry *e, uint64_t i, struct store_batch *b)
{
    struct gl_statement st;
    struct entryindex ix;

    if (gl_statement_parse((const char *)e->data, e->len, &st, NULL) != 0)
        return;
    entryindex_of(&st, e->data, &ix);
    entryindex_put(&ix, e->data, i, b);
}

/* Authenticates package p and stores what is new of it. 0, or the HTTP
 * status to answer (r->why set). */
static int take_package(struct upload *up, const struct gl_mirror_package *p)
{
    struct mlog *ml = up->ml;
    uint8_t(*h)[HLEN] = up->h, node[HLEN];
    size_t pre = (size_t)(p->start - p->subtree_start), cnt = (size_t)(p->end - p->start);
    int rc, status = 0;

    if ((rc = stored_leaves(ml, p->subtree_start, p->start, up->tile, h)) != 0) {
        set_why(up->r, 500, "cannot read stored leaf hashes: %s", gl_strerror(rc));
        return 500;
    }
    for (size_t i = 0; i < cnt && rc == 0; i++)
        rc = gl_merkle_leaf_hash(p->entries[i].data, p->entries[i].len, h[pre + i]);
    if (rc == 0)
        rc = gl_subtree_hash((const uint8_t(*)[HLEN])h, pre + cnt, node);
    if (rc != 0) {
        set_why(up->r, 500, "hashing failed");
        return 500;
    }
    rc = gl_subtree_verify(p->subtree_start, p->end, up->u.end, node, up->root,
                           (const uint8_t(*)[HLEN])p->proof, p->nproof);
    if (rc != 0) {
        set_why(up->r, 422,
                "package [%llu, %llu): the subtree consistency proof does not "
                "verify against the checkpoint of size %llu",
                (unsigned long long)p->start, (unsigned long long)p->end,
                (unsigned long long)up->u.end);
        return 422;
    }
    if (p->end > next_of(ml) && (rc = batch_open(up)) != 0) {
        set_why(up->r, 503, "cannot start a storage batch");
        return 503;
    }
    for (uint64_t i = next_of(ml); i < p->end && rc == 0; i++) {
        const struct gl_tile_entry *e = &p->entries[i - p->start];
        rc = tree_append(ml->tree, h[i - p->subtree_start], up->batch);
        store_batch_put_entry(up->batch, i, e->data, e->len);
        store_batch_put_leaf(up->batch, h[i - p->subtree_start], i);
        index_entry(e, i, up->batch);
        up->r->stored++;
    }
    if (rc != 0) {
        set_why(up->r, 500, "cannot append to the tree");
        status = 500;
    }
    up->batch_packages++;
    return status;
}

/* The kept note of the new mirror checkpoint into out: pnote (the pending
 * checkpoint's) merged with the witness cosignatures of the current
 * mirror checkpoint when it has the same text, so none is lost. */
static int merge_current(struct upload *up, const struct gl_note *pn, struct gl_buf *out)
{
    struct mlog *ml = up->ml;
    struct gl_note *cur = NULL;
    struct gl_buf copy;
    int rc;

    gl_buf_init(&copy, NOTE_MAX);
    pthread_mutex_lock(&ml->pmu);
    rc = gl_buf_append(&copy, ml->note.data, ml->note.len);
    pthread_mutex_unlock(&ml->pmu);
    if (rc == 0 && copy.len > 0 &&
        gl_note_parse((const char *)copy.data, copy.len, &cur, NULL) == 0 &&
        (cur->text_len != pn->text_len ||
         memcmp(cur->text, pn->text, pn->text_len) != 0)) {
        gl_note_free(cur);
        cur = NULL;
    }
    if (rc == 0)
        rc = build_kept(&up->m->cfg.logs->v[ml->log], pn, cur, out, NULL);
    gl_note_free(cur);
    gl_buf_release(&copy);
    return rc;
}

/* When the mirror checkpoint is already of size `size` with the kept note
 * `kept` (its text and witness lines, as finish would store them) and
 * then one line, this key's cosignature over text (n) that verifies and
 * is dated at most MIRROR_COSIG_REUSE_S seconds ago: copies that line
 * into r and returns 1 (the state finish would write is the one stored).
 * Else 0 (another size, text or witness line, a line by another key: the
 * mirror key changed since, or one too old, or dated ahead). Under the
 * log's writer lock (the only one that changes the mirror checkpoint). */
static int unchanged(struct upload *up, uint64_t size, const struct gl_note *n,
                     const struct gl_buf *kept)
{
    struct mlog *ml = up->ml;
    struct gl_note_sig sig;
    struct gl_verifier v;
    uint64_t t = 0, now = (uint64_t)time(NULL);
    int same = 0;

    gl_signer_verifier(&up->m->key, &v);
    pthread_mutex_lock(&ml->pmu);
    size_t len = ml->note.len > kept->len ? ml->note.len - kept->len : 0;
    const char *rest = len > 0 ? (const char *)ml->note.data + kept->len : "";
    if (ml->size == size && len > 1 && len <= sizeof up->r->line &&
        memcmp(ml->note.data, kept->data, kept->len) == 0 && rest[len - 1] == '\n' &&
        memchr(rest, '\n', len - 1) == NULL &&
        gl_note_parse_sig(rest, len - 1, &sig, NULL) == 0 &&
        gl_cosig_verify(&v, n->text, n->text_len, &sig, &t) == 0 && t <= now &&
        now - t < MIRROR_COSIG_REUSE_S) {
        memcpy(up->r->line, rest, len);
        up->r->line_len = len;
        same = 1;
    }
    pthread_mutex_unlock(&ml->pmu);
    return same;
}

/* The time for a new mirror cosignature: now, or the time of the stored
 * mirror checkpoint's cosignature by our key if later (the clock stepped
 * back), so the mirror's cosignatures never go back in time, as the
 * witness's do not (engine.c cosign_time). Under the log's writer lock. */
static uint64_t mirror_cosign_time(struct upload *up)
{
    struct mlog *ml = up->ml;
    struct gl_verifier v;
    struct gl_note *n = NULL;
    uint64_t now = (uint64_t)time(NULL), t = 0;

    gl_signer_verifier(&up->m->key, &v);
    pthread_mutex_lock(&ml->pmu);
    if (ml->note.len > 0 &&
        gl_note_parse((const char *)ml->note.data, ml->note.len, &n, NULL) == 0) {
        const struct gl_note_sig *s = first_line(n, &v);
        if (s != NULL && gl_cosig_verify(&v, n->text, n->text_len, s, &t) != 0)
            t = 0; /* not a line of ours that verifies: no floor */
    }
    pthread_mutex_unlock(&ml->pmu);
    gl_note_free(n);
    return t > now ? t : now;
}

/* Makes the pending checkpoint of size upload_end the mirror checkpoint
 * (unless a larger one is there): its kept note, the witness cosignatures
 * of the current mirror checkpoint of the same text, and a new mirror
 * cosignature, committed as one state. 200 with our cosignature, or 409;
 * 500 (logged, nothing signed) when the stored tree's root at upload_end
 * is not the pending checkpoint's. Needs next >= upload_end.
 * When that state is the one stored already (an empty upload at the
 * mirror's size bringing no new witness line) and its cosignature is
 * recent (unchanged), 200 with the stored cosignature: nothing signed or
 * written, so repeating it costs no signature and no synced commit, and
 * the served checkpoint keeps its bytes. Its root was checked when it was
 * stored (the text names it). */
static void finish(struct upload *up, const struct gl_buf *pnote)
{
    struct mlog *ml = up->ml;
    struct gl_note *n = NULL;
    struct gl_buf line, note;
    struct store_batch *b = NULL;
    uint8_t root[HLEN];
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
        (rc = merge_current(up, n, &note)) != 0) {
        set_why(up->r, 500, "cannot cosign the checkpoint: %s", gl_strerror(rc));
        goto out;
    }
    if (up->u.end == cur && unchanged(up, cur, n, &note)) {
        up->r->status = 200;
        goto out;
    }
    /* The packages proved [subtree_start, end) only: the whole stored
     * prefix must produce the pending root (a witness state restored or
     * reset under a surviving copy could name another tree). */
    if ((rc = tree_root_at(ml->tree, ml->store, up->u.end, root)) != 0) {
        gl_log(GL_LOG_ERROR,
               "mirror of %s: cannot compute the stored tree's root at %llu: %s",
               ml->origin, (unsigned long long)up->u.end, gl_strerror(rc));
        set_why(up->r, 500, "cannot compute the stored tree's root");
        goto out;
    }
    if (CRYPTO_memcmp(root, up->root, HLEN) != 0) {
        gl_log(GL_LOG_ERROR,
               "mirror of %s: the stored tree of size %llu does not produce the root of "
               "the pending checkpoint of that size: nothing cosigned",
               ml->origin, (unsigned long long)up->u.end);
        set_why(up->r, 500,
                "the stored tree at %llu does not match the pending checkpoint's root",
                (unsigned long long)up->u.end);
        goto out;
    }
    if ((rc = gl_cosig_sign(&up->m->key, n->text, n->text_len, mirror_cosign_time(up),
                            &line)) != 0 ||
        (rc = gl_buf_append(&note, line.data, line.len)) != 0) {
        set_why(up->r, 500, "cannot cosign the checkpoint: %s", gl_strerror(rc));
        goto out;
    }
    if ((rc = store_batch_new(ml->store, &b)) == 0) {
        store_batch_put_state(b, up->u.end, note.data, note.len);
        rc = store_batch_commit(b, NULL);
        ml->broken = rc != 0;
    }
    if (rc != 0) {
        set_why(up->r, 503, "cannot store the mirror checkpoint");
        goto out;
    }
    pthread_mutex_lock(&ml->pmu);
    if (up->u.end >= ml->size) {
        /* A swap, not a copy: serving the new note cannot fail (both
         * buffers have the cap NOTE_MAX; the old one is released below). */
        struct gl_buf old = ml->note;
        ml->size = up->u.end;
        ml->note = note;
        note = old;
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
    /* Bytes after the last package taken are discarded (tlog-mirror),
     * after the whole sequence too: the upload goes on to finish. */
    if (i < np) {
        if (up->r->packages > 0) {
            up->r->status = 202;
        } else {
            set_why(up->r, 400, "no whole entry package in the body (%s)", why.reason);
        }
    }
}

/* Seals the pending checkpoint (size, root, note) into ticket
 * (GL_MIRROR_TICKET_MAX bytes); *len 0 when root is NULL or the note is
 * too long for a ticket. */
static void seal_ticket(const struct mirror *m, const struct mlog *ml, uint64_t size,
                        const uint8_t *root, const struct gl_buf *note, uint8_t *ticket,
                        size_t *len)
{
    const uint8_t *oh = m->cfg.logs->v[ml->log].origin_hash;
    struct gl_buf t;

    *len = 0;
    gl_buf_init(&t, GL_MIRROR_TICKET_MAX);
    if (root != NULL &&
        gl_mirror_ticket_seal(m->ticket_key, oh, size, root, (const char *)note->data,
                              note->len, &t) == 0) {
        memcpy(ticket, t.data, t.len);
        *len = t.len;
    }
    gl_buf_release(&t);
}

/* The ticket of the pending checkpoint of this size: from (root, note)
 * when given, else from the ring; none (r->ticket_len 0) when neither
 * has it or its note is too long for a ticket. */
static void issue_ticket(struct mirror *m, struct mlog *ml, uint64_t size,
                         const uint8_t *root, const struct gl_buf *note,
                         struct mirror_result *r)
{
    struct gl_buf rnote;
    uint8_t rroot[HLEN];
    uint64_t newest, msize;

    gl_buf_init(&rnote, NOTE_MAX);
    if (root == NULL && find_pending(ml, size, rroot, &rnote, &newest, &msize) == 0) {
        root = rroot;
        note = &rnote;
    }
    seal_ticket(m, ml, size, root, note, r->ticket, &r->ticket_len);
    gl_buf_release(&rnote);
}

int mirror_pending_ticket(struct mirror *m, size_t log, uint64_t *pending,
                          uint8_t *ticket, size_t *ticket_len)
{
    struct mlog *ml = by_log(m, log);
    struct gl_buf note;
    uint8_t root[HLEN];

    *pending = 0;
    *ticket_len = 0;
    if (ml == NULL)
        return GL_ENOTFOUND;
    gl_buf_init(&note, NOTE_MAX);
    pthread_mutex_lock(&ml->pmu);
    size_t last = (ml->ring_at + MIRROR_PENDING_KEEP - 1) % MIRROR_PENDING_KEEP;
    const struct pending *p = &ml->ring[last];
    int have = p->note != NULL && gl_buf_append(&note, p->note, p->len) == 0;
    if (have) {
        *pending = p->size;
        memcpy(root, p->root, HLEN);
    }
    pthread_mutex_unlock(&ml->pmu);
    if (have)
        seal_ticket(m, ml, *pending, root, &note, ticket, ticket_len);
    gl_buf_release(&note);
    return 0;
}

/* The pending checkpoint of size upload_end from the request's ticket
 * (root and note); GL_ENOTFOUND if there is none, it does not open, or it
 * names another size. */
static int from_ticket(struct upload *up, struct gl_buf *pnote)
{
    const uint8_t *oh = up->m->cfg.logs->v[up->ml->log].origin_hash;
    struct gl_mirror_ticket t;
    struct gl_err why;

    if (up->u.ticket_len == 0)
        return GL_ENOTFOUND;
    if (gl_mirror_ticket_open(up->m->ticket_key, oh, up->u.ticket, up->u.ticket_len, &t,
                              &why) != 0) {
        gl_log(GL_LOG_DEBUG, "mirror of %s: ticket ignored: %s",
               up->m->cfg.logs->v[up->ml->log].origin, why.reason);
        return GL_ENOTFOUND;
    }
    if (t.size != up->u.end)
        return GL_ENOTFOUND;
    memcpy(up->root, t.root, HLEN);
    gl_buf_reset(pnote);
    return gl_buf_append(pnote, t.note, t.note_len) == 0 ? 0 : GL_ENOTFOUND;
}

/* The lowest upload_start taken for an upload carrying packages: one
 * package below the start of the next entry's package (so a request
 * re-verifies at most MIRROR_BELOW_MAX + 255 stored entries). */
static uint64_t lowest_start(uint64_t next)
{
    uint64_t base = next / GL_MIRROR_PACKAGE * GL_MIRROR_PACKAGE;
    return base > MIRROR_BELOW_MAX ? base - MIRROR_BELOW_MAX : 0;
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
    if (gate_enter(m) != 0)
        return set_why(r, 503, "the logs list is being reloaded; retry");
    if ((up.ml = by_origin(m, up.u.origin, up.u.origin_len)) == NULL) {
        gate_leave(m);
        return set_why(r, 404, "unknown log origin (or not mirrored here)");
    }
    if ((up.saved = malloc(sizeof *up.saved)) == NULL ||
        (up.h = malloc((size_t)256 * HLEN)) == NULL ||
        (up.tile = malloc(STORE_TILE_MAX)) == NULL) {
        free(up.saved);
        free(up.h);
        gate_leave(m);
        return set_why(r, 503, "out of memory");
    }
    gl_buf_init(&pnote, NOTE_MAX);
    mirror_observe(m, up.ml->log);
    pthread_mutex_lock(&up.ml->wmu);
    int broken = mlog_recover(up.ml);
    uint64_t next = next_of(up.ml);
    int known = find_pending(up.ml, up.u.end, up.root, &pnote, &newest, &msize) == 0;
    if (!known && from_ticket(&up, &pnote) == 0) {
        known = 1;
        r->ticket_used = 1;
    }
    r->info_size = known && up.u.end >= msize ? up.u.end : newest;
    r->info_next = next;
    if (broken != 0) {
        set_why(r, 503, "the copy's storage failed and is not recovered yet; retry");
    } else if (!known || up.u.end < msize) {
        set_why(r, 409,
                "upload_end %llu is not a pending checkpoint size at or above the "
                "mirror checkpoint",
                (unsigned long long)up.u.end);
    } else if (up.u.start > next) {
        set_why(r, 409, "upload_start %llu is beyond the next entry %llu",
                (unsigned long long)up.u.start, (unsigned long long)next);
    } else if (up.u.start < up.u.end && up.u.start < lowest_start(next)) {
        set_why(r, 409,
                "upload_start %llu is too far below the next entry %llu (at least %llu)",
                (unsigned long long)up.u.start, (unsigned long long)next,
                (unsigned long long)lowest_start(next));
    } else {
        take_packages(&up, body, len, at);
        r->info_next = next_of(up.ml);
        if (r->status == 0)
            finish(&up, &pnote);
    }
    if (r->status == 202 || r->status == 409) {
        int same = known && r->info_size == up.u.end;
        issue_ticket(m, up.ml, r->info_size, same ? up.root : NULL, same ? &pnote : NULL,
                     r);
    }
    pthread_mutex_unlock(&up.ml->wmu);
    gate_leave(m);
    gl_buf_release(&pnote);
    free(up.saved);
    free(up.h);
    free(up.tile);
}

void mirror_count_upload(struct mirror *m, int gzip)
{
    pthread_mutex_lock(&m->cmu);
    m->uploads[gzip != 0]++;
    pthread_mutex_unlock(&m->cmu);
}

void mirror_uploads(struct mirror *m, uint64_t *identity, uint64_t *gzip)
{
    pthread_mutex_lock(&m->cmu);
    *identity = m->uploads[0];
    *gzip = m->uploads[1];
    pthread_mutex_unlock(&m->cmu);
}

int mirror_refresh(struct mirror *m, size_t log)
{
    struct upload up;
    struct mirror_result r;
    struct gl_buf pnote;
    uint64_t newest = 0, msize = 0;
    int rc = 0;

    memset(&up, 0, sizeof up);
    memset(&r, 0, sizeof r);
    up.m = m;
    up.r = &r;
    if ((rc = gate_enter(m)) != 0)
        return rc;
    if ((up.ml = by_log(m, log)) == NULL) {
        gate_leave(m);
        return GL_ENOTFOUND;
    }
    gl_buf_init(&pnote, NOTE_MAX);
    pthread_mutex_lock(&up.ml->wmu);
    if ((rc = mlog_recover(up.ml)) != 0)
        goto out;
    pthread_mutex_lock(&up.ml->pmu);
    up.u.end = up.ml->size;
    pthread_mutex_unlock(&up.ml->pmu);
    if (up.u.end > 0 &&
        find_pending(up.ml, up.u.end, up.root, &pnote, &newest, &msize) == 0) {
        finish(&up, &pnote);
        rc = r.status == 200 || r.status == 409 ? 0 : GL_EIO;
    }
out:
    pthread_mutex_unlock(&up.ml->wmu);
    gate_leave(m);
    gl_buf_release(&pnote);
    return rc;
}

int mirror_progress(struct mirror *m, size_t log, uint64_t *pending, uint64_t *next,
                    uint64_t *size)
{
    struct mlog *ml = by_log(m, log);
    if (ml == NULL)
        return GL_ENOTFOUND;
    /* never the writer lock: an upload holds it for seconds, and this
     * runs on the event loop (/metrics) */
    pthread_mutex_lock(&ml->pmu);
    *next = ml->next;
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

int mirror_view(struct mirror *m, const uint8_t oh[32], struct store **s, uint64_t *size,
                struct gl_buf *note)
{
    struct mlog *ml = by_hash(m, oh);
    int rc = GL_ENOTFOUND;
    if (ml == NULL)
        return rc;
    pthread_mutex_lock(&ml->pmu);
    if (ml->note.len > 0 && (rc = gl_buf_append(note, ml->note.data, ml->note.len)) == 0)
        *size = ml->size;
    pthread_mutex_unlock(&ml->pmu);
    *s = ml->store;
    return rc;
}

static int read_bundle(struct mlog *ml, uint64_t index, uint32_t width,
                       struct gl_buf *out)
{
    struct store_entries *x = malloc(sizeof *x);
    if (x == NULL)
        return GL_ENOMEM;
    int rc = store_read_entries(ml->store, index * 256, width, x);
    if (rc == 0)
        rc = gl_tile_bundle_encode(x->e, x->n, out);
    store_entries_release(x);
    free(x);
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
    /* a full tile or bundle never changes: served from memory once read */
    uint64_t key = index << 4 | (entries ? 8u : level);
    size_t mark = out->len;
    int rc = width == 256 ? blobcache_get(ml->tiles, key, out) : GL_ENOTFOUND;
    if (rc != GL_ENOTFOUND)
        return rc;
    if (entries) {
        rc = read_bundle(ml, index, width, out);
    } else {
        uint8_t *buf = malloc(STORE_TILE_MAX);
        size_t len = 0;
        rc = buf ? store_get_tile(ml->store, level, index, buf, &len) : GL_ENOMEM;
        if (rc == 0 && len < (size_t)width * HLEN)
            rc = GL_EPARSE;
        if (rc == 0)
            rc = gl_buf_append(out, buf, (size_t)width * HLEN);
        free(buf);
    }
    if (rc == 0 && width == 256)
        blobcache_put(ml->tiles, key, out->data + mark, out->len - mark);
    return rc;
}

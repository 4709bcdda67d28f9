/*
 * wstore: RocksDB adapter for the witness; layout in wstore.h.
 *
 * Invariant: every write is part of a batch committed with sync, so the
 * witness never acknowledges state that a crash could take back. Records
 * carry a magic so that a corrupt or foreign value is refused at load
 * (GL_EPARSE), never misread.
 */
#include "wstore.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <rocksdb/c.h>

#include "glasslog/error.h"
#include "glasslog/log.h"

static const char log_magic[4] = {'G', 'L', 'W', '1'};
static const char ev_magic[4] = {'G', 'L', 'E', '1'};

struct wstore {
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_block_based_table_options_t *table;
    rocksdb_cache_t *cache;
    rocksdb_readoptions_t *ropts;
    rocksdb_writeoptions_t *wopts;
};

struct wstore_batch {
    struct wstore *s;
    rocksdb_writebatch_t *wb;
    size_t count;
};

static void be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static int wstore_options(struct wstore *s, size_t cache_mb)
{
    s->opts = rocksdb_options_create();
    s->table = rocksdb_block_based_options_create();
    s->cache = rocksdb_cache_create_lru((cache_mb ? cache_mb : 16) << 20);
    s->ropts = rocksdb_readoptions_create();
    s->wopts = rocksdb_writeoptions_create();
    if (!s->opts || !s->table || !s->cache || !s->ropts || !s->wopts)
        return GL_ENOMEM;
    rocksdb_block_based_options_set_block_cache(s->table, s->cache);
    rocksdb_block_based_options_set_cache_index_and_filter_blocks(s->table, 1);
    rocksdb_options_set_block_based_table_factory(s->opts, s->table);
    rocksdb_options_set_create_if_missing(s->opts, 1);
    rocksdb_options_set_write_buffer_size(s->opts, 8 << 20);
    rocksdb_options_set_max_write_buffer_number(s->opts, 2);
    rocksdb_options_set_max_open_files(s->opts, 256);
    rocksdb_options_set_keep_log_file_num(s->opts, 4);
    rocksdb_options_set_max_background_jobs(s->opts, 2);
    rocksdb_options_set_info_log_level(s->opts, 2);
    rocksdb_writeoptions_set_sync(s->wopts, 1);
    return 0;
}

int wstore_open(const char *dir, size_t cache_mb, struct wstore **out, const char **why)
{
    struct wstore *s;
    char *err = NULL;
    int rc;

    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        *why = "cannot create the data directory";
        return GL_EIO;
    }
    if ((s = calloc(1, sizeof(*s))) == NULL)
        return GL_ENOMEM;
    if ((rc = wstore_options(s, cache_mb)) != 0) {
        *why = "out of memory";
        goto fail;
    }
    s->db = rocksdb_open(s->opts, dir, &err);
    if (err != NULL) {
        gl_log(GL_LOG_ERROR, "wstore: cannot open %s: %s", dir, err);
        free(err);
        *why = "cannot open the RocksDB store (see the error above)";
        rc = GL_EIO;
        goto fail;
    }
    *out = s;
    return 0;
fail:
    wstore_close(s);
    return rc;
}

void wstore_close(struct wstore *s)
{
    if (s == NULL)
        return;
    if (s->db != NULL)
        rocksdb_close(s->db);
    if (s->opts != NULL)
        rocksdb_options_destroy(s->opts);
    if (s->table != NULL)
        rocksdb_block_based_options_destroy(s->table);
    if (s->cache != NULL)
        rocksdb_cache_destroy(s->cache);
    if (s->ropts != NULL)
        rocksdb_readoptions_destroy(s->ropts);
    if (s->wopts != NULL)
        rocksdb_writeoptions_destroy(s->wopts);
    free(s);
}

/* Reads key into out; GL_ENOTFOUND if absent. */
static int wstore_get(struct wstore *s, const void *key, size_t klen, struct gl_buf *out)
{
    char *err = NULL;
    rocksdb_pinnableslice_t *p = rocksdb_get_pinned(s->db, s->ropts, key, klen, &err);
    const char *v;
    size_t n;
    int rc;

    if (err != NULL) {
        gl_log(GL_LOG_ERROR, "wstore: read failed: %s", err);
        free(err);
        return GL_EIO;
    }
    if (p == NULL)
        return GL_ENOTFOUND;
    v = rocksdb_pinnableslice_value(p, &n);
    rc = gl_buf_append(out, v, n);
    rocksdb_pinnableslice_destroy(p);
    return rc;
}

int wstore_bind_key(struct wstore *s, const char *vkey, int *created,
                    struct gl_buf *stored)
{
    struct wstore_batch *b;
    int rc = wstore_get(s, "K", 1, stored);

    *created = 0;
    if (rc == 0)
        return stored->len == strlen(vkey) && memcmp(stored->data, vkey, stored->len) == 0
                   ? 0
                   : GL_EINVAL;
    if (rc != GL_ENOTFOUND || (rc = wstore_batch_new(s, &b)) != 0)
        return rc;
    rocksdb_writebatch_put(b->wb, "K", 1, vkey, strlen(vkey));
    rc = wstore_batch_commit(b);
    wstore_batch_free(b);
    *created = rc == 0;
    return rc;
}

/* Iterates over the keys starting with prefix p (1 byte) whose key is
 * 1 + 32 bytes; fn gets the 32-byte suffix and the value. */
static int wstore_scan(struct wstore *s, char p,
                       int (*fn)(void *ctx, const uint8_t k[32], const uint8_t *v,
                                 size_t n),
                       void *ctx)
{
    rocksdb_iterator_t *it = rocksdb_create_iterator(s->db, s->ropts);
    char *err = NULL;
    int rc = 0;

    if (it == NULL)
        return GL_ENOMEM;
    for (rocksdb_iter_seek(it, &p, 1); rc == 0 && rocksdb_iter_valid(it);
         rocksdb_iter_next(it)) {
        size_t klen, vlen;
        const char *k = rocksdb_iter_key(it, &klen), *v;
        if (klen == 0 || k[0] != p)
            break;
        if (klen != 33) {
            gl_log(GL_LOG_ERROR, "wstore: a record has a malformed key");
            rc = GL_EPARSE;
            break;
        }
        v = rocksdb_iter_value(it, &vlen);
        rc = fn(ctx, (const uint8_t *)k + 1, (const uint8_t *)v, vlen);
    }
    rocksdb_iter_get_error(it, &err);
    if (err != NULL) {
        gl_log(GL_LOG_ERROR, "wstore: scan failed: %s", err);
        free(err);
        rc = GL_EIO;
    }
    rocksdb_iter_destroy(it);
    return rc;
}

struct scan_ctx {
    void *ctx;
    int (*log_fn)(void *, const uint8_t *, uint64_t, const uint8_t *, const uint8_t *,
                  size_t);
    int (*frozen_fn)(void *, const uint8_t *);
    int (*ev_fn)(void *, const uint8_t *, uint64_t, const char *, const uint8_t *,
                 size_t);
};

static int scan_log(void *ctx, const uint8_t k[32], const uint8_t *v, size_t n)
{
    struct scan_ctx *c = ctx;

    if (n < 44 || memcmp(v, log_magic, 4) != 0) {
        gl_log(GL_LOG_ERROR, "wstore: a log record is corrupt");
        return GL_EPARSE;
    }
    return c->log_fn(c->ctx, k, get_be64(v + 4), v + 12, v + 44, n - 44);
}

int wstore_scan_logs(struct wstore *s,
                     int (*fn)(void *ctx, const uint8_t oh[32], uint64_t size,
                               const uint8_t root[32], const uint8_t *note, size_t len),
                     void *ctx)
{
    struct scan_ctx c = {ctx, fn, NULL, NULL};

    return wstore_scan(s, 'L', scan_log, &c);
}

static int scan_frozen(void *ctx, const uint8_t k[32], const uint8_t *v, size_t n)
{
    struct scan_ctx *c = ctx;

    (void)v;
    (void)n;
    return c->frozen_fn(c->ctx, k);
}

int wstore_scan_frozen(struct wstore *s, int (*fn)(void *ctx, const uint8_t oh[32]),
                       void *ctx)
{
    struct scan_ctx c = {ctx, NULL, fn, NULL};

    return wstore_scan(s, 'F', scan_frozen, &c);
}

static int scan_ev(void *ctx, const uint8_t k[32], const uint8_t *v, size_t n)
{
    struct scan_ctx *c = ctx;
    char src[WSTORE_SOURCE_MAX + 1];
    size_t sl;

    if (n < 13 || memcmp(v, ev_magic, 4) != 0 || (sl = v[12]) > n - 13) {
        gl_log(GL_LOG_ERROR, "wstore: an evidence record is corrupt");
        return GL_EPARSE;
    }
    memcpy(src, v + 13, sl);
    src[sl] = 0;
    return c->ev_fn(c->ctx, k, get_be64(v + 4), src, v + 13 + sl, n - 13 - sl);
}

int wstore_scan_evidence(struct wstore *s,
                         int (*fn)(void *ctx, const uint8_t id[32], uint64_t found_at,
                                   const char *source, const uint8_t *file, size_t len),
                         void *ctx)
{
    struct scan_ctx c = {ctx, NULL, NULL, fn};

    return wstore_scan(s, 'E', scan_ev, &c);
}

int wstore_get_evidence(struct wstore *s, const uint8_t id[32], struct gl_buf *out)
{
    uint8_t key[33];
    struct gl_buf v;
    size_t sl;
    int rc;

    key[0] = 'E';
    memcpy(key + 1, id, 32);
    gl_buf_init(&v, (size_t)1 << 20);
    if ((rc = wstore_get(s, key, sizeof(key), &v)) == 0) {
        if (v.len < 13 || memcmp(v.data, ev_magic, 4) != 0 ||
            (sl = v.data[12]) > v.len - 13)
            rc = GL_EPARSE;
        else
            rc = gl_buf_append(out, v.data + 13 + sl, v.len - 13 - sl);
    }
    gl_buf_release(&v);
    return rc;
}

int wstore_batch_new(struct wstore *s, struct wstore_batch **out)
{
    struct wstore_batch *b = calloc(1, sizeof(*b));

    if (b == NULL)
        return GL_ENOMEM;
    b->s = s;
    if ((b->wb = rocksdb_writebatch_create()) == NULL) {
        free(b);
        return GL_ENOMEM;
    }
    *out = b;
    return 0;
}

void wstore_batch_free(struct wstore_batch *b)
{
    if (b == NULL)
        return;
    rocksdb_writebatch_destroy(b->wb);
    free(b);
}

void wstore_batch_put_log(struct wstore_batch *b, const uint8_t oh[32], uint64_t size,
                          const uint8_t root[32], const void *note, size_t len)
{
    uint8_t key[33], head[44];
    const char *parts[2] = {(const char *)head, note};
    size_t sizes[2] = {sizeof(head), len};
    const char *kp[1] = {(const char *)key};
    size_t ks[1] = {sizeof(key)};

    key[0] = 'L';
    memcpy(key + 1, oh, 32);
    memcpy(head, log_magic, 4);
    be64(head + 4, size);
    memcpy(head + 12, root, 32);
    rocksdb_writebatch_putv(b->wb, 1, kp, ks, 2, parts, sizes);
    b->count++;
}

void wstore_batch_put_frozen(struct wstore_batch *b, const uint8_t oh[32])
{
    uint8_t key[33];

    key[0] = 'F';
    memcpy(key + 1, oh, 32);
    rocksdb_writebatch_put(b->wb, (const char *)key, sizeof(key), "", 0);
    b->count++;
}

void wstore_batch_put_evidence(struct wstore_batch *b, const uint8_t id[32],
                               uint64_t found_at, const char *source, const void *file,
                               size_t len)
{
    uint8_t key[33], head[13];
    size_t sl = strlen(source) > WSTORE_SOURCE_MAX ? WSTORE_SOURCE_MAX : strlen(source);
    const char *parts[3] = {(const char *)head, source, file};
    size_t sizes[3] = {sizeof(head), sl, len};
    const char *kp[1] = {(const char *)key};
    size_t ks[1] = {sizeof(key)};

    key[0] = 'E';
    memcpy(key + 1, id, 32);
    memcpy(head, ev_magic, 4);
    be64(head + 4, found_at);
    head[12] = (uint8_t)sl;
    rocksdb_writebatch_putv(b->wb, 1, kp, ks, 3, parts, sizes);
    b->count++;
}

size_t wstore_batch_count(const struct wstore_batch *b)
{
    return b->count;
}

int wstore_batch_commit(struct wstore_batch *b)
{
    char *err = NULL;

    rocksdb_write(b->s->db, b->s->wopts, b->wb, &err);
    if (err != NULL) {
        gl_log(GL_LOG_ERROR, "wstore: write failed: %s", err);
        free(err);
        return GL_EIO;
    }
    return 0;
}

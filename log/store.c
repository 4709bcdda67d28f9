/*
 * store: RocksDB adapter; layout and guarantees in store.h.
 *
 * The "state" value is: magic "GLS1" (4) || size (8). It is written in the
 * same WriteBatch as the entries, tiles and checkpoint of that size, so
 * after any crash the state, the checkpoint and the tree agree (glasslogd
 * re-checks this at start anyway).
 */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <rocksdb/c.h>

#include "glasslog/error.h"
#include "glasslog/log.h"

enum { CF_DEFAULT, CF_ENTRIES, CF_TILES, CF_LEAVES, CF_SUBJECTS, CF_COUNT };
static const char *const cf_names[CF_COUNT] = {"default", "entries", "tiles", "leaves",
                                               "subjects"};
static const char state_magic[4] = {'G', 'L', 'S', '1'};

struct store {
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_options_t *cf_opts[CF_COUNT];
    rocksdb_block_based_table_options_t *table;
    rocksdb_cache_t *cache;
    rocksdb_filterpolicy_t *bloom;
    rocksdb_column_family_handle_t *cf[CF_COUNT];
    rocksdb_readoptions_t *ropts;
    rocksdb_writeoptions_t *wopts;
};

struct store_batch {
    struct store *s;
    rocksdb_writebatch_t *wb;
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

/* 1 if dir is missing or has no entries but . and .. ; 0 otherwise. */
static int dir_is_empty(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int empty = 1;

    if (d == NULL)
        return errno == ENOENT;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            empty = 0;
    closedir(d);
    return empty;
}

static int store_setup_options(struct store *s, size_t cache_mb)
{
    s->opts = rocksdb_options_create();
    s->table = rocksdb_block_based_options_create();
    s->cache = rocksdb_cache_create_lru((cache_mb ? cache_mb : 64) << 20);
    s->bloom = rocksdb_filterpolicy_create_bloom(10);
    s->ropts = rocksdb_readoptions_create();
    s->wopts = rocksdb_writeoptions_create();
    if (!s->opts || !s->table || !s->cache || !s->bloom || !s->ropts || !s->wopts)
        return GL_ENOMEM;
    rocksdb_block_based_options_set_block_cache(s->table, s->cache);
    rocksdb_block_based_options_set_filter_policy(s->table, s->bloom);
    rocksdb_block_based_options_set_cache_index_and_filter_blocks(s->table, 1);
    rocksdb_writeoptions_set_sync(s->wopts, 1);
    for (int i = 0; i < CF_COUNT; i++) {
        rocksdb_options_t *o = s->cf_opts[i] = rocksdb_options_create();
        if (o == NULL)
            return GL_ENOMEM;
        rocksdb_options_set_block_based_table_factory(o, s->table);
        rocksdb_options_set_write_buffer_size(o, 16 << 20);
        rocksdb_options_set_max_write_buffer_number(o, 2);
        rocksdb_options_set_compression(o, rocksdb_lz4_compression);
    }
    rocksdb_options_set_create_if_missing(s->opts, 1);
    rocksdb_options_set_create_missing_column_families(s->opts, 1);
    rocksdb_options_set_max_open_files(s->opts, 512);
    rocksdb_options_set_db_write_buffer_size(s->opts, 64 << 20);
    rocksdb_options_set_keep_log_file_num(s->opts, 4);
    rocksdb_options_set_max_background_jobs(s->opts, 2);
    rocksdb_options_set_info_log_level(s->opts, 2); /* warnings only */
    return 0;
}

int store_open(const struct store_options *o, struct store **out, const char **why)
{
    struct store *s;
    char *err = NULL;
    int empty = dir_is_empty(o->dir), rc;

    if (empty && !o->create) {
        *why = "the data directory is missing or empty (use --create to make a new log)";
        return GL_ENOTFOUND;
    }
    if (!empty && o->create) {
        *why = "--create needs a missing or empty data directory; this one has data";
        return GL_EEXIST;
    }
    if (o->create && mkdir(o->dir, 0700) != 0 && errno != EEXIST) {
        *why = "cannot create the data directory";
        return GL_EIO;
    }
    if ((s = calloc(1, sizeof(*s))) == NULL)
        return GL_ENOMEM;
    if ((rc = store_setup_options(s, o->cache_mb)) != 0) {
        *why = "out of memory";
        goto fail;
    }
    if (!o->create)
        rocksdb_options_set_create_if_missing(s->opts, 0);
    s->db = rocksdb_open_column_families(s->opts, o->dir, CF_COUNT, (const char *const *)cf_names,
                                         (const rocksdb_options_t *const *)s->cf_opts, s->cf, &err);
    if (err != NULL) {
        gl_log(GL_LOG_ERROR, "store: cannot open %s: %s", o->dir, err);
        free(err);
        *why = "cannot open the RocksDB store (see the error above)";
        rc = GL_EIO;
        goto fail;
    }
    *out = s;
    return 0;
fail:
    store_close(s);
    return rc;
}

void store_close(struct store *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < CF_COUNT; i++)
        if (s->cf[i] != NULL)
            rocksdb_column_family_handle_destroy(s->cf[i]);
    if (s->db != NULL)
        rocksdb_close(s->db);
    for (int i = 0; i < CF_COUNT; i++)
        if (s->cf_opts[i] != NULL)
            rocksdb_options_destroy(s->cf_opts[i]);
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

/* Reads key in cf and hands the value to fn; GL_ENOTFOUND if absent. */
static int store_get(struct store *s, int cf, const void *key, size_t klen,
                     int (*fn)(void *ctx, const char *v, size_t n), void *ctx)
{
    char *err = NULL;
    rocksdb_pinnableslice_t *p =
        rocksdb_get_pinned_cf(s->db, s->ropts, s->cf[cf], key, klen, &err);
    const char *v;
    size_t n;
    int rc;

    if (err != NULL) {
        gl_log(GL_LOG_ERROR, "store: read failed: %s", err);
        free(err);
        return GL_EIO;
    }
    if (p == NULL)
        return GL_ENOTFOUND;
    v = rocksdb_pinnableslice_value(p, &n);
    rc = fn(ctx, v, n);
    rocksdb_pinnableslice_destroy(p);
    return rc;
}

static int copy_to_buf(void *ctx, const char *v, size_t n)
{
    return gl_buf_append(ctx, v, n);
}

int store_get_state(struct store *s, uint64_t *size, struct gl_buf *checkpoint)
{
    struct gl_buf st;
    int rc;

    gl_buf_init(&st, 64);
    rc = store_get(s, CF_DEFAULT, "state", 5, copy_to_buf, &st);
    if (rc == GL_ENOTFOUND) {
        *size = 0;
        rc = 0;
        goto out;
    }
    if (rc != 0)
        goto out;
    if (st.len != 12 || memcmp(st.data, state_magic, 4) != 0) {
        gl_log(GL_LOG_ERROR, "store: the tree state record is corrupt");
        rc = GL_EPARSE;
        goto out;
    }
    *size = get_be64(st.data + 4);
    rc = store_get(s, CF_DEFAULT, "checkpoint", 10, copy_to_buf, checkpoint);
out:
    gl_buf_release(&st);
    return rc;
}

int store_get_vkey(struct store *s, struct gl_buf *out)
{
    return store_get(s, CF_DEFAULT, "vkey", 4, copy_to_buf, out);
}

int store_get_entry(struct store *s, uint64_t index, struct gl_buf *out)
{
    uint8_t key[8];

    be64(key, index);
    return store_get(s, CF_ENTRIES, key, 8, copy_to_buf, out);
}

int store_scan_entries(struct store *s, uint64_t start, uint64_t n,
                       int (*fn)(void *ctx, uint64_t index, const uint8_t *data, size_t len),
                       void *ctx)
{
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ropts, s->cf[CF_ENTRIES]);
    uint8_t key[8];
    char *err = NULL;
    int rc = 0;

    if (it == NULL)
        return GL_ENOMEM;
    be64(key, start);
    rocksdb_iter_seek(it, (const char *)key, 8);
    for (uint64_t i = 0; i < n && rc == 0; i++, rocksdb_iter_next(it)) {
        size_t klen, vlen;
        const char *k, *v;
        if (!rocksdb_iter_valid(it)) {
            rc = GL_ENOTFOUND;
            break;
        }
        k = rocksdb_iter_key(it, &klen);
        if (klen != 8 || get_be64((const uint8_t *)k) != start + i) {
            rc = GL_ENOTFOUND;
            break;
        }
        v = rocksdb_iter_value(it, &vlen);
        rc = fn(ctx, start + i, (const uint8_t *)v, vlen);
    }
    rocksdb_iter_get_error(it, &err);
    if (err != NULL) {
        gl_log(GL_LOG_ERROR, "store: scan failed: %s", err);
        free(err);
        rc = GL_EIO;
    }
    rocksdb_iter_destroy(it);
    return rc;
}

struct tile_out {
    uint8_t *out;
    size_t *len;
};

static int copy_tile(void *ctx, const char *v, size_t n)
{
    struct tile_out *t = ctx;

    if (n > STORE_TILE_MAX || n % 32 != 0) {
        gl_log(GL_LOG_ERROR, "store: corrupt tile record (%zu bytes)", n);
        return GL_EPARSE;
    }
    memcpy(t->out, v, n);
    *t->len = n;
    return 0;
}

static void tile_key(uint8_t key[9], uint32_t level, uint64_t index)
{
    key[0] = (uint8_t)level;
    be64(key + 1, index);
}

int store_get_tile(struct store *s, uint32_t level, uint64_t index, uint8_t *out, size_t *len)
{
    struct tile_out t = {out, len};
    uint8_t key[9];

    tile_key(key, level, index);
    return store_get(s, CF_TILES, key, 9, copy_tile, &t);
}

static int copy_index(void *ctx, const char *v, size_t n)
{
    if (n != 8)
        return GL_EPARSE;
    *(uint64_t *)ctx = get_be64((const uint8_t *)v);
    return 0;
}

int store_find_leaf(struct store *s, const uint8_t hash[32], uint64_t *index)
{
    return store_get(s, CF_LEAVES, hash, 32, copy_index, index);
}

int store_find_subject(struct store *s, const uint8_t sha[32], uint64_t below,
                       uint64_t *indices, size_t max, size_t *n)
{
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ropts, s->cf[CF_SUBJECTS]);
    char *err = NULL;
    int rc = 0;

    if (it == NULL)
        return GL_ENOMEM;
    *n = 0;
    rocksdb_iter_seek(it, (const char *)sha, 32);
    for (; rocksdb_iter_valid(it) && *n < max; rocksdb_iter_next(it)) {
        size_t klen;
        const char *k = rocksdb_iter_key(it, &klen);
        uint64_t idx;
        if (klen != 40 || memcmp(k, sha, 32) != 0)
            break;
        idx = get_be64((const uint8_t *)k + 32);
        if (idx < below)
            indices[(*n)++] = idx;
    }
    rocksdb_iter_get_error(it, &err);
    if (err != NULL) {
        gl_log(GL_LOG_ERROR, "store: subject scan failed: %s", err);
        free(err);
        rc = GL_EIO;
    }
    rocksdb_iter_destroy(it);
    return rc;
}

int store_batch_new(struct store *s, struct store_batch **out)
{
    struct store_batch *b = malloc(sizeof(*b));

    if (b == NULL)
        return GL_ENOMEM;
    b->s = s;
    b->wb = rocksdb_writebatch_create();
    if (b->wb == NULL) {
        free(b);
        return GL_ENOMEM;
    }
    *out = b;
    return 0;
}

void store_batch_free(struct store_batch *b)
{
    if (b == NULL)
        return;
    rocksdb_writebatch_destroy(b->wb);
    free(b);
}

void store_batch_put_entry(struct store_batch *b, uint64_t index, const void *data, size_t len)
{
    uint8_t key[8];

    be64(key, index);
    rocksdb_writebatch_put_cf(b->wb, b->s->cf[CF_ENTRIES], (const char *)key, 8, data, len);
}

void store_batch_put_leaf(struct store_batch *b, const uint8_t hash[32], uint64_t index)
{
    uint8_t v[8];

    be64(v, index);
    rocksdb_writebatch_put_cf(b->wb, b->s->cf[CF_LEAVES], (const char *)hash, 32,
                              (const char *)v, 8);
}

void store_batch_put_subject(struct store_batch *b, const uint8_t sha[32], uint64_t index)
{
    uint8_t key[40];

    memcpy(key, sha, 32);
    be64(key + 32, index);
    rocksdb_writebatch_put_cf(b->wb, b->s->cf[CF_SUBJECTS], (const char *)key, 40, "", 0);
}

void store_batch_put_tile(struct store_batch *b, uint32_t level, uint64_t index,
                          const void *data, size_t len)
{
    uint8_t key[9];

    tile_key(key, level, index);
    rocksdb_writebatch_put_cf(b->wb, b->s->cf[CF_TILES], (const char *)key, 9, data, len);
}

void store_batch_put_state(struct store_batch *b, uint64_t size, const void *checkpoint,
                           size_t len)
{
    uint8_t st[12];

    memcpy(st, state_magic, 4);
    be64(st + 4, size);
    rocksdb_writebatch_put_cf(b->wb, b->s->cf[CF_DEFAULT], "state", 5, (const char *)st, 12);
    rocksdb_writebatch_put_cf(b->wb, b->s->cf[CF_DEFAULT], "checkpoint", 10, checkpoint, len);
}

void store_batch_put_vkey(struct store_batch *b, const char *vkey)
{
    rocksdb_writebatch_put_cf(b->wb, b->s->cf[CF_DEFAULT], "vkey", 4, vkey, strlen(vkey));
}

int store_batch_commit(struct store_batch *b)
{
    char *err = NULL;

    rocksdb_write(b->s->db, b->s->wopts, b->wb, &err);
    if (err != NULL) {
        gl_log(GL_LOG_ERROR, "store: write failed: %s", err);
        free(err);
        return GL_EIO;
    }
    return 0;
}

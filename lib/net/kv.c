/*
 * kv: RocksDB adapter; see kv.h. Every handle made at open is kept in
 * struct kv and destroyed by kv_close, in reverse order, whatever point
 * the open reached.
 */
#include "kv.h"

#include <stdlib.h>
#include <string.h>

#include <rocksdb/c.h>

#include "glasslog/error.h"
#include "glasslog/log.h"

struct kv {
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_options_t *cf_opts[KV_MAX_CFS];
    rocksdb_column_family_handle_t *cf[KV_MAX_CFS];
    size_t ncfs;
    rocksdb_block_based_table_options_t *table;
    rocksdb_cache_t *cache;
    rocksdb_filterpolicy_t *bloom;
    rocksdb_readoptions_t *ropts;
    rocksdb_writeoptions_t *wopts;
};

struct kv_batch {
    struct kv *kv;
    rocksdb_writebatch_t *wb;
    size_t count;
};

/* 0, or GL_EIO after logging and freeing RocksDB's message. */
static int kv_check(char *err, const char *what)
{
    if (err == NULL)
        return 0;
    gl_log(GL_LOG_ERROR, "store: %s: %s", what, err);
    free(err);
    return GL_EIO;
}

static int kv_options(struct kv *kv, const struct kv_options *o)
{
    kv->opts = rocksdb_options_create();
    kv->table = rocksdb_block_based_options_create();
    kv->cache = rocksdb_cache_create_lru((o->cache_mb ? o->cache_mb : 16) << 20);
    kv->ropts = rocksdb_readoptions_create();
    kv->wopts = rocksdb_writeoptions_create();
    if (!kv->opts || !kv->table || !kv->cache || !kv->ropts || !kv->wopts)
        return GL_ENOMEM;
    rocksdb_block_based_options_set_block_cache(kv->table, kv->cache);
    rocksdb_block_based_options_set_cache_index_and_filter_blocks(kv->table, 1);
    if (o->bloom) {
        /* Partitioned filters and index: a lookup loads one small filter
         * partition, not a whole-file filter that a bounded cache keeps
         * evicting (at millions of keys that re-read dominated appends). */
        if ((kv->bloom = rocksdb_filterpolicy_create_bloom(10)) == NULL)
            return GL_ENOMEM;
        rocksdb_block_based_options_set_filter_policy(kv->table, kv->bloom);
        rocksdb_block_based_options_set_partition_filters(kv->table, 1);
        rocksdb_block_based_options_set_index_type(
            kv->table, rocksdb_block_based_table_index_type_two_level_index_search);
        rocksdb_block_based_options_set_metadata_block_size(kv->table, 4096);
        rocksdb_block_based_options_set_pin_top_level_index_and_filter(kv->table, 1);
        rocksdb_block_based_options_set_pin_l0_filter_and_index_blocks_in_cache(kv->table, 1);
        rocksdb_block_based_options_set_cache_index_and_filter_blocks_with_high_priority(
            kv->table, 1);
    }
    rocksdb_writeoptions_set_sync(kv->wopts, 1);
    for (size_t i = 0; i < o->ncfs; i++) {
        rocksdb_options_t *c = kv->cf_opts[i] = rocksdb_options_create();
        if (c == NULL)
            return GL_ENOMEM;
        rocksdb_options_set_block_based_table_factory(c, kv->table);
        rocksdb_options_set_write_buffer_size(c, (o->write_buffer_mb ? o->write_buffer_mb : 8) << 20);
        rocksdb_options_set_max_write_buffer_number(c, 2);
        rocksdb_options_set_compression(c, (o->compress >> i) & 1 ? rocksdb_lz4_compression
                                                                  : rocksdb_no_compression);
    }
    rocksdb_options_set_create_if_missing(kv->opts, o->create);
    rocksdb_options_set_create_missing_column_families(kv->opts, 1);
    rocksdb_options_set_max_open_files(kv->opts, KV_MAX_OPEN_FILES);
    rocksdb_options_set_keep_log_file_num(kv->opts, 4);
    rocksdb_options_set_max_background_jobs(kv->opts, 2);
    rocksdb_options_set_info_log_level(kv->opts, 2); /* warnings and up */
    return 0;
}

int kv_open(const struct kv_options *o, struct kv **out)
{
    struct kv *kv;
    char *err = NULL;
    int rc;

    if (o->ncfs == 0 || o->ncfs > KV_MAX_CFS)
        return GL_EINVAL;
    if ((kv = calloc(1, sizeof(*kv))) == NULL)
        return GL_ENOMEM;
    kv->ncfs = o->ncfs;
    if ((rc = kv_options(kv, o)) != 0)
        goto fail;
    kv->db = rocksdb_open_column_families(kv->opts, o->dir, (int)o->ncfs, o->cfs,
                                          (const rocksdb_options_t *const *)kv->cf_opts,
                                          kv->cf, &err);
    if ((rc = kv_check(err, o->dir)) != 0)
        goto fail;
    *out = kv;
    return 0;
fail:
    kv_close(kv);
    return rc;
}

void kv_close(struct kv *kv)
{
    if (kv == NULL)
        return;
    for (size_t i = 0; i < kv->ncfs; i++)
        if (kv->cf[i] != NULL)
            rocksdb_column_family_handle_destroy(kv->cf[i]);
    if (kv->db != NULL)
        rocksdb_close(kv->db);
    for (size_t i = 0; i < kv->ncfs; i++)
        if (kv->cf_opts[i] != NULL)
            rocksdb_options_destroy(kv->cf_opts[i]);
    if (kv->opts != NULL)
        rocksdb_options_destroy(kv->opts);
    if (kv->table != NULL)
        rocksdb_block_based_options_destroy(kv->table);
    if (kv->cache != NULL)
        rocksdb_cache_destroy(kv->cache);
    if (kv->ropts != NULL)
        rocksdb_readoptions_destroy(kv->ropts);
    if (kv->wopts != NULL)
        rocksdb_writeoptions_destroy(kv->wopts);
    free(kv);
}

int kv_get(struct kv *kv, int cf, const void *key, size_t klen, struct gl_buf *out)
{
    char *err = NULL;
    rocksdb_pinnableslice_t *p =
        rocksdb_get_pinned_cf(kv->db, kv->ropts, kv->cf[cf], key, klen, &err);
    const char *v;
    size_t n;
    int rc;

    if ((rc = kv_check(err, "read failed")) != 0)
        return rc;
    if (p == NULL)
        return GL_ENOTFOUND;
    v = rocksdb_pinnableslice_value(p, &n);
    rc = gl_buf_append(out, v, n);
    rocksdb_pinnableslice_destroy(p);
    return rc;
}

int kv_scan(struct kv *kv, int cf, const void *start, size_t slen,
            int (*fn)(void *ctx, const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen),
            void *ctx)
{
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(kv->db, kv->ropts, kv->cf[cf]);
    char *err = NULL;
    int rc = 0;

    if (it == NULL)
        return GL_ENOMEM;
    for (rocksdb_iter_seek(it, start, slen); rc == 0 && rocksdb_iter_valid(it);
         rocksdb_iter_next(it)) {
        size_t klen, vlen;
        const char *k = rocksdb_iter_key(it, &klen);
        const char *v = rocksdb_iter_value(it, &vlen);
        rc = fn(ctx, (const uint8_t *)k, klen, (const uint8_t *)v, vlen);
    }
    rocksdb_iter_get_error(it, &err);
    rocksdb_iter_destroy(it);
    if (kv_check(err, "scan failed") != 0)
        return GL_EIO;
    return rc < 0 ? rc : 0;
}

int kv_batch_new(struct kv *kv, struct kv_batch **out)
{
    struct kv_batch *b = calloc(1, sizeof(*b));

    if (b == NULL)
        return GL_ENOMEM;
    b->kv = kv;
    if ((b->wb = rocksdb_writebatch_create()) == NULL) {
        free(b);
        return GL_ENOMEM;
    }
    *out = b;
    return 0;
}

void kv_batch_free(struct kv_batch *b)
{
    if (b == NULL)
        return;
    rocksdb_writebatch_destroy(b->wb);
    free(b);
}

void kv_batch_putv(struct kv_batch *b, int cf, const void *key, size_t klen,
                   const void *const *parts, const size_t *sizes, size_t n)
{
    const char *kp[1] = {key};
    size_t ks[1] = {klen};

    rocksdb_writebatch_putv_cf(b->wb, b->kv->cf[cf], 1, kp, ks, (int)n,
                               (const char *const *)parts, sizes);
    b->count++;
}

void kv_batch_put(struct kv_batch *b, int cf, const void *key, size_t klen, const void *val,
                  size_t vlen)
{
    rocksdb_writebatch_put_cf(b->wb, b->kv->cf[cf], key, klen, val, vlen);
    b->count++;
}

size_t kv_batch_count(const struct kv_batch *b)
{
    return b->count;
}

int kv_batch_commit(struct kv_batch *b)
{
    char *err = NULL;

    rocksdb_write(b->kv->db, b->kv->wopts, b->wb, &err);
    return kv_check(err, "write failed");
}

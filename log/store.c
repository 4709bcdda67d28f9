/*
 * store: glasslogd's records on top of the shared RocksDB adapter (kv);
 * layout and guarantees in store.h.
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

#include "glasslog/error.h"
#include "glasslog/log.h"
#include "kv.h"

enum { CF_DEFAULT, CF_ENTRIES, CF_TILES, CF_LEAVES, CF_SUBJECTS, CF_COUNT };
static const char *const cf_names[CF_COUNT] = {"default", "entries", "tiles", "leaves",
                                               "subjects"};
static const char state_magic[4] = {'G', 'L', 'S', '1'};

struct store {
    struct kv *kv;
};

struct store_batch {
    struct kv_batch *b;
};

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

int store_open(const struct store_options *o, struct store **out, const char **why)
{
    /* Entries (text) compress; tiles, leaf and subject indexes are hashes. */
    struct kv_options ko = {o->dir, cf_names, CF_COUNT, o->cache_mb ? o->cache_mb : 64, 16,
                            1u << CF_DEFAULT | 1u << CF_ENTRIES, o->create, 1};
    struct store *s;
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
    if ((rc = kv_open(&ko, &s->kv)) != 0) {
        *why = "cannot open the RocksDB store (see the error above)";
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void store_close(struct store *s)
{
    if (s == NULL)
        return;
    kv_close(s->kv);
    free(s);
}

int store_reopen(struct store *s)
{
    return kv_reopen(s->kv);
}

int store_get_state(struct store *s, uint64_t *size, struct gl_buf *checkpoint)
{
    struct gl_buf st;
    int rc;

    gl_buf_init(&st, 64);
    rc = kv_get(s->kv, CF_DEFAULT, "state", 5, &st);
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
    *size = kv_get_be64(st.data + 4);
    rc = kv_get(s->kv, CF_DEFAULT, "checkpoint", 10, checkpoint);
out:
    gl_buf_release(&st);
    return rc;
}

int store_get_vkey(struct store *s, struct gl_buf *out)
{
    return kv_get(s->kv, CF_DEFAULT, "vkey", 4, out);
}

int store_get_entry(struct store *s, uint64_t index, struct gl_buf *out)
{
    uint8_t key[8];

    kv_put_be64(key, index);
    return kv_get(s->kv, CF_ENTRIES, key, 8, out);
}

struct scan_entries {
    uint64_t next, end;
    int (*fn)(void *ctx, uint64_t index, const uint8_t *data, size_t len);
    void *ctx;
};

static int scan_entry(void *ctx, const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen)
{
    struct scan_entries *se = ctx;
    int rc;

    if (klen != 8 || kv_get_be64(k) != se->next)
        return GL_ENOTFOUND;
    if ((rc = se->fn(se->ctx, se->next, v, vlen)) != 0)
        return rc;
    return ++se->next == se->end ? 1 : 0;
}

int store_scan_entries(struct store *s, uint64_t start, uint64_t n,
                       int (*fn)(void *ctx, uint64_t index, const uint8_t *data, size_t len),
                       void *ctx)
{
    struct scan_entries se = {start, start + n, fn, ctx};
    uint8_t key[8];
    int rc;

    if (n == 0)
        return 0;
    kv_put_be64(key, start);
    rc = kv_scan(s->kv, CF_ENTRIES, key, 8, scan_entry, &se);
    return rc != 0 ? rc : se.next == se.end ? 0 : GL_ENOTFOUND;
}

static void tile_key(uint8_t key[9], uint32_t level, uint64_t index)
{
    key[0] = (uint8_t)level;
    kv_put_be64(key + 1, index);
}

int store_get_tile(struct store *s, uint32_t level, uint64_t index, uint8_t *out, size_t *len)
{
    struct gl_buf b;
    uint8_t key[9];
    int rc;

    tile_key(key, level, index);
    gl_buf_init(&b, STORE_TILE_MAX);
    if ((rc = kv_get(s->kv, CF_TILES, key, 9, &b)) == 0) {
        if (b.len % 32 != 0) {
            gl_log(GL_LOG_ERROR, "store: corrupt tile record (%zu bytes)", b.len);
            rc = GL_EPARSE;
        } else {
            memcpy(out, b.data, b.len);
            *len = b.len;
        }
    } else if (rc == GL_ETOOBIG) {
        gl_log(GL_LOG_ERROR, "store: corrupt tile record (too large)");
        rc = GL_EPARSE;
    }
    gl_buf_release(&b);
    return rc;
}

struct scan_tiles {
    uint32_t level;
    int (*fn)(void *ctx, uint64_t index, const uint8_t *data, size_t len);
    void *ctx;
};

static int scan_tile(void *ctx, const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen)
{
    struct scan_tiles *st = ctx;

    if (klen != 9 || k[0] != st->level)
        return 1;
    return st->fn(st->ctx, kv_get_be64(k + 1), v, vlen);
}

int store_scan_tiles(struct store *s, uint32_t level, uint64_t start,
                     int (*fn)(void *ctx, uint64_t index, const uint8_t *data, size_t len),
                     void *ctx)
{
    struct scan_tiles st = {level, fn, ctx};
    uint8_t key[9];

    tile_key(key, level, start);
    return kv_scan(s->kv, CF_TILES, key, 9, scan_tile, &st);
}

int store_find_leaf(struct store *s, const uint8_t hash[32], uint64_t *index)
{
    struct gl_buf b;
    int rc;

    gl_buf_init(&b, 8);
    rc = kv_get(s->kv, CF_LEAVES, hash, 32, &b);
    if (rc == 0 && b.len != 8)
        rc = GL_EPARSE;
    if (rc == 0)
        *index = kv_get_be64(b.data);
    gl_buf_release(&b);
    return rc == GL_ETOOBIG ? GL_EPARSE : rc;
}

struct scan_subject {
    const uint8_t *sha;
    uint64_t below, *indices;
    size_t max, n;
};

static int scan_subject(void *ctx, const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen)
{
    struct scan_subject *ss = ctx;
    uint64_t idx;

    (void)v;
    (void)vlen;
    if (klen != 40 || memcmp(k, ss->sha, 32) != 0 || ss->n == ss->max)
        return 1;
    idx = kv_get_be64(k + 32);
    if (idx < ss->below)
        ss->indices[ss->n++] = idx;
    return 0;
}

int store_find_subject(struct store *s, const uint8_t sha[32], uint64_t below,
                       uint64_t *indices, size_t max, size_t *n)
{
    struct scan_subject ss = {sha, below, indices, max, 0};
    int rc = kv_scan(s->kv, CF_SUBJECTS, sha, 32, scan_subject, &ss);

    *n = ss.n;
    return rc;
}

int store_batch_new(struct store *s, struct store_batch **out)
{
    struct store_batch *b = malloc(sizeof(*b));
    int rc;

    if (b == NULL)
        return GL_ENOMEM;
    if ((rc = kv_batch_new(s->kv, &b->b)) != 0) {
        free(b);
        return rc;
    }
    *out = b;
    return 0;
}

void store_batch_free(struct store_batch *b)
{
    if (b == NULL)
        return;
    kv_batch_free(b->b);
    free(b);
}

void store_batch_put_entry(struct store_batch *b, uint64_t index, const void *data, size_t len)
{
    uint8_t key[8];

    kv_put_be64(key, index);
    kv_batch_put(b->b, CF_ENTRIES, key, 8, data, len);
}

void store_batch_put_leaf(struct store_batch *b, const uint8_t hash[32], uint64_t index)
{
    uint8_t v[8];

    kv_put_be64(v, index);
    kv_batch_put(b->b, CF_LEAVES, hash, 32, v, 8);
}

void store_batch_put_subject(struct store_batch *b, const uint8_t sha[32], uint64_t index)
{
    uint8_t key[40];

    memcpy(key, sha, 32);
    kv_put_be64(key + 32, index);
    kv_batch_put(b->b, CF_SUBJECTS, key, 40, "", 0);
}

void store_batch_put_tile(struct store_batch *b, uint32_t level, uint64_t index,
                          const void *data, size_t len)
{
    uint8_t key[9];

    tile_key(key, level, index);
    kv_batch_put(b->b, CF_TILES, key, 9, data, len);
}

void store_batch_put_state(struct store_batch *b, uint64_t size, const void *checkpoint,
                           size_t len)
{
    uint8_t st[12];

    memcpy(st, state_magic, 4);
    kv_put_be64(st + 4, size);
    kv_batch_put(b->b, CF_DEFAULT, "state", 5, st, 12);
    kv_batch_put(b->b, CF_DEFAULT, "checkpoint", 10, checkpoint, len);
}

void store_batch_delete_tile(struct store_batch *b, uint32_t level, uint64_t index)
{
    uint8_t key[9];

    tile_key(key, level, index);
    kv_batch_delete(b->b, CF_TILES, key, 9);
}

void store_batch_put_vkey(struct store_batch *b, const char *vkey)
{
    kv_batch_put(b->b, CF_DEFAULT, "vkey", 4, vkey, strlen(vkey));
}

int store_batch_commit(struct store_batch *b)
{
    return kv_batch_commit(b->b);
}

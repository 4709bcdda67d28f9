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

#include "glasslog/error.h"
#include "file.h"
#include "glasslog/log.h"
#include "kv.h"

static const char log_magic[4] = {'G', 'L', 'W', '1'};
static const char ev_magic[4] = {'G', 'L', 'E', '1'};

struct wstore {
    struct kv *kv;
};

struct wstore_batch {
    struct kv_batch *b;
};

static const char *const wstore_cfs[1] = {"default"};

int wstore_open(const char *dir, size_t cache_mb, int create, struct wstore **out,
                const char **why)
{
    struct kv_options ko = {.dir = dir,
                            .cfs = wstore_cfs,
                            .ncfs = 1,
                            .cache_mb = cache_mb ? cache_mb : 16,
                            .write_buffer_mb = 8,
                            .compress = 1,
                            .create = create};
    struct wstore *s;
    int empty = gl_file_dir_empty(dir), rc;

    if (empty < 0) {
        *why = "cannot read the data directory";
        return GL_EIO;
    }
    if (empty && !create) {
        *why = "the data directory is missing or empty: refusing to start a witness "
               "with no memory of what it cosigned (use --create for a new witness)";
        return GL_ENOTFOUND;
    }
    if (!empty && create) {
        *why = "--create needs a missing or empty data directory; this one has data";
        return GL_EEXIST;
    }
    if (create && mkdir(dir, 0700) != 0 && errno != EEXIST) {
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

void wstore_close(struct wstore *s)
{
    if (s == NULL)
        return;
    kv_close(s->kv);
    free(s);
}

/* Reads key into out; GL_ENOTFOUND if absent. */
static int wstore_get(struct wstore *s, const void *key, size_t klen, struct gl_buf *out)
{
    return kv_get(s->kv, 0, key, klen, out);
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
    kv_batch_put(b->b, 0, "K", 1, vkey, strlen(vkey));
    rc = wstore_batch_commit(b);
    wstore_batch_free(b);
    *created = rc == 0;
    return rc;
}

struct prefix_scan {
    char p;
    int (*fn)(void *ctx, const uint8_t k[GL_HASH_LEN], const uint8_t *v, size_t n);
    void *ctx;
};

static int prefix_record(void *ctx, const uint8_t *k, size_t klen, const uint8_t *v,
                         size_t vlen)
{
    struct prefix_scan *ps = ctx;

    if (klen == 0 || k[0] != (uint8_t)ps->p)
        return 1;
    if (klen != 33) {
        gl_log(GL_LOG_ERROR, "wstore: a record has a malformed key");
        return GL_EPARSE;
    }
    return ps->fn(ps->ctx, k + 1, v, vlen);
}

/* Iterates over the keys starting with prefix p (1 byte) whose key is
 * 1 + 32 bytes; fn gets the 32-byte suffix and the value. */
static int wstore_scan(struct wstore *s, char p,
                       int (*fn)(void *ctx, const uint8_t k[GL_HASH_LEN],
                                 const uint8_t *v, size_t n),
                       void *ctx)
{
    struct prefix_scan ps = {p, fn, ctx};

    return kv_scan(s->kv, 0, &p, 1, prefix_record, &ps);
}

struct scan_ctx {
    void *ctx;
    int (*log_fn)(void *, const uint8_t *, uint64_t, const uint8_t *, const uint8_t *,
                  size_t);
    int (*frozen_fn)(void *, const uint8_t *);
    int (*ev_fn)(void *, const uint8_t *, uint64_t, const char *, const uint8_t *,
                 size_t);
};

static int scan_log(void *ctx, const uint8_t k[GL_HASH_LEN], const uint8_t *v, size_t n)
{
    struct scan_ctx *c = ctx;

    if (n < 44 || memcmp(v, log_magic, 4) != 0) {
        gl_log(GL_LOG_ERROR, "wstore: a log record is corrupt");
        return GL_EPARSE;
    }
    return c->log_fn(c->ctx, k, kv_get_be64(v + 4), v + 12, v + 44, n - 44);
}

int wstore_scan_logs(struct wstore *s,
                     int (*fn)(void *ctx, const uint8_t oh[GL_HASH_LEN], uint64_t size,
                               const uint8_t root[GL_HASH_LEN], const uint8_t *note,
                               size_t len),
                     void *ctx)
{
    struct scan_ctx c = {ctx, fn, NULL, NULL};

    return wstore_scan(s, 'L', scan_log, &c);
}

static int scan_frozen(void *ctx, const uint8_t k[GL_HASH_LEN], const uint8_t *v,
                       size_t n)
{
    struct scan_ctx *c = ctx;

    (void)v;
    (void)n;
    return c->frozen_fn(c->ctx, k);
}

int wstore_scan_frozen(struct wstore *s,
                       int (*fn)(void *ctx, const uint8_t oh[GL_HASH_LEN]), void *ctx)
{
    struct scan_ctx c = {ctx, NULL, fn, NULL};

    return wstore_scan(s, 'F', scan_frozen, &c);
}

static int scan_ev(void *ctx, const uint8_t k[GL_HASH_LEN], const uint8_t *v, size_t n)
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
    return c->ev_fn(c->ctx, k, kv_get_be64(v + 4), src, v + 13 + sl, n - 13 - sl);
}

int wstore_scan_evidence(struct wstore *s,
                         int (*fn)(void *ctx, const uint8_t id[GL_HASH_LEN],
                                   uint64_t found_at, const char *source,
                                   const uint8_t *file, size_t len),
                         void *ctx)
{
    struct scan_ctx c = {ctx, NULL, NULL, fn};

    return wstore_scan(s, 'E', scan_ev, &c);
}

int wstore_get_evidence(struct wstore *s, const uint8_t id[GL_HASH_LEN],
                        struct gl_buf *out)
{
    uint8_t key[33];
    struct gl_buf v;
    size_t sl;
    int rc;

    key[0] = 'E';
    memcpy(key + 1, id, GL_HASH_LEN);
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

void wstore_batch_free(struct wstore_batch *b)
{
    if (b == NULL)
        return;
    kv_batch_free(b->b);
    free(b);
}

void wstore_batch_put_log(struct wstore_batch *b, const uint8_t oh[GL_HASH_LEN],
                          uint64_t size, const uint8_t root[GL_HASH_LEN],
                          const void *note, size_t len)
{
    uint8_t key[33], head[44];
    const void *parts[2] = {head, note};
    size_t sizes[2] = {sizeof(head), len};

    key[0] = 'L';
    memcpy(key + 1, oh, GL_HASH_LEN);
    memcpy(head, log_magic, 4);
    kv_put_be64(head + 4, size);
    memcpy(head + 12, root, GL_HASH_LEN);
    kv_batch_putv(b->b, 0, key, sizeof(key), parts, sizes, 2);
}

void wstore_batch_put_frozen(struct wstore_batch *b, const uint8_t oh[GL_HASH_LEN])
{
    uint8_t key[33];

    key[0] = 'F';
    memcpy(key + 1, oh, GL_HASH_LEN);
    kv_batch_put(b->b, 0, key, sizeof(key), "", 0);
}

void wstore_batch_put_evidence(struct wstore_batch *b, const uint8_t id[GL_HASH_LEN],
                               uint64_t found_at, const char *source, const void *file,
                               size_t len)
{
    uint8_t key[33], head[13];
    size_t sl = strlen(source) > WSTORE_SOURCE_MAX ? WSTORE_SOURCE_MAX : strlen(source);
    const void *parts[3] = {head, source, file};
    size_t sizes[3] = {sizeof(head), sl, len};

    key[0] = 'E';
    memcpy(key + 1, id, GL_HASH_LEN);
    memcpy(head, ev_magic, 4);
    kv_put_be64(head + 4, found_at);
    head[12] = (uint8_t)sl;
    kv_batch_putv(b->b, 0, key, sizeof(key), parts, sizes, 3);
}

size_t wstore_batch_count(const struct wstore_batch *b)
{
    return kv_batch_count(b->b);
}

int wstore_batch_commit(struct wstore_batch *b)
{
    return kv_batch_commit(b->b);
}

/*
 * readapi: the JSON read handlers; see readapi.h.
 *
 * Proofs are computed from the view's tree at the time of the reply, so
 * they always match the checkpoint they embed. Entries and proofs are
 * bounded by the view's size; lookups by the size of the checkpoint they
 * embed (an entry found beyond it is not reported, and the answer gives
 * that size as "tree_size" so "none" is never read as "never logged").
 * Without a served checkpoint a lookup answers 503, never an empty list.
 * A size past the view's is 404 (this server may lag a shared store),
 * a request that cannot be right is 400.
 *
 * Off the loop (readapi.h): every store read of a handler goes through
 * the rd_* functions below, which read the store directly when there is
 * no job (the synchronous path), and otherwise answer from the job's
 * results or record the read as wanted (a fresh want: the reply is then
 * suppressed, see reply_error/reply_json, and whatever the handler made
 * of the missing data is thrown away). A missing tile gives zero hashes
 * for its nodes, so one run collects every tile a proof needs: which
 * nodes a proof reads depends on the sizes and indices only.
 *
 * A read is done once, however many jobs in flight want it: at every
 * pump (async_pump), the tiles a queued job wants that the cache now
 * holds are copied into its wants, done as if its thread had read them;
 * a job wanting a read that a job on a thread is doing stays queued
 * (others behind it may start) until that job's job_after puts the tile
 * in the cache, or copies any other result (an entry, a bundle, a leaf
 * hash's look-up) into the wants of the queued jobs that want it (there
 * is no cache but the tiles': each waiting job holds its own copy, as if
 * it had read it; at most ra->slots bundle copies per job_after, so jobs
 * hold at most twice the read slots' bundles at once), even if its client
 * left, and pumps. No job waits for a thread that does more than that
 * one read unless it reads only tiles and bundles (a lookup's 100
 * entries with their tiles may take long), nor for an index look-up (its
 * result may be older than the checkpoint the waiting lookup answers
 * with), nor for a read that failed or found nothing once (its waiters
 * then read it themselves, at once): see "the reads others wait for". A
 * job left with nothing to read is computed again on the loop without a
 * thread. A tile a job holds is taken from its want (rd_tile), not only
 * through the cache, so an eviction before the handler runs costs no
 * round. A job is computed on arrival and at most READAPI_ASYNC_ROUNDS
 * times more, on the loop or after a thread, so it cannot go round
 * forever.
 *
 * A job answers as of its first computation (job_view): every later one
 * sees the view's size and served checkpoint of that moment (its pin;
 * the tree only grows, and a proof for an older size is read from it as
 * for a tree_size asked). Its thread reads all come after that moment, so
 * every entry and index row of the pinned tree is in what they read: an
 * index read before a batch committed cannot be cut at a size that holds
 * the batch (a lookup listing less than its tree_size holds), nor a leaf
 * hash found missing answer 404 for a tree that holds it. A pin the view
 * no longer reaches (a follower that dropped a rolled-back size) is not
 * used.
 *
 * A pump costs time linear in the wants of the queued jobs, whatever the
 * number of jobs running: it goes through the queue once (a job computed
 * again goes on at once, and to the head if it still waits), and the
 * reads others may wait for are a hash set (ra->reading), filled when a
 * job starts and emptied in its job_after, not compared want by want.
 * So does a job_after's hand-over, whatever the number of reads that
 * ended: the shared reads it hands over go in a hash map
 * (ra->ended, each key to its want), and one walk of the queue looks
 * each want not done up there, not in every read that ended.
 *
 * Invariant: a job's wants are touched by its threadpool thread only
 * while it is there (running, counted in inflight), by the loop
 * otherwise: the loop does not read a running job's wants at all (what
 * others wait for is the copy of their keys in ra->reading). ra->reading
 * holds exactly the keys of the shared wants of the running jobs (marked
 * shared, all different, none an index look-up or alone). ra->ended is
 * empty but during a job_after (job_ended fills it, job_hand_over
 * empties it).
 */
#include "readapi.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entryindex.h"
#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/merkle.h"
#include "glasslog/note.h"
#include "glasslog/statement.h"
#include "glasslog/tile.h"
#include "glasslog/tlogproof.h"
#include "query.h"
#include "text.h"
#include "utf8.h"

#define QUERY_VALUE_MAX 128

#define WANTS_MAX 1024 /* store reads one request may collect */

static const struct gl_http_header hdr_nocache[] = {{"Cache-Control", "no-store"}};

/* --- store reads, direct or through a job ------------------------------------------ */

enum want_kind { WANT_ENTRY, WANT_LEAF, WANT_INDEX, WANT_TILE, WANT_BUNDLE };

/* One store read a request needs, and (done) its outcome. */
struct want {
    enum want_kind kind;
    int done, rc;
    int reading;                /* its job's thread reads it this round */
    int shared;                 /* so, and in ra->reading: others wait for it */
    int alone;                  /* read by its own job, whoever else reads it */
    uint32_t level;             /* TILE: its level */
    enum store_index ikind;     /* INDEX: the index */
    uint64_t a, b;              /* ENTRY, TILE: index; INDEX: from, no bound (rd_index);
                                 * BUNDLE: start, n */
    uint8_t hash[GL_HASH_LEN];  /* LEAF: the leaf hash */
    uint64_t found;             /* LEAF: the entry's index */
    struct gl_buf data;         /* ENTRY, TILE: the bytes read; INDEX: the key */
    uint64_t *idx;              /* INDEX: READAPI_LOOKUP_MAX + 1 indices found */
    size_t n;                   /* INDEX: how many */
    struct store_entries *ents; /* BUNDLE: the entries read */
};

struct readapi_job {
    struct readapi_async *ra;
    struct readapi_job *next; /* in ra's queue, or its running list */
    struct gl_http_pending *p;
    struct store *store;
    uv_work_t work;
    unsigned rounds;
    int queued;             /* in ra's queue (else on a thread, or being computed) */
    struct addr_key client; /* the key of its place in ra->places */
    struct want *wants;
    size_t nwants, cap;
    size_t fresh; /* wants added by the current run */
    size_t done;  /* wants done by the thread in the current round */
    /* its pin (job_view): the view's size and checkpoint at its first
     * computation */
    uint64_t size0, ck0_size;
    int has_ck0;
    struct gl_buf ck0;
    char path[];
};

/* Returned by an rd_* function whose read was recorded for later; the
 * handler's reply is suppressed anyway (job->fresh > 0). */
#define RD_LATER GL_ESTATE

static struct want *want_add(struct readapi_job *j, enum want_kind kind)
{
    struct want *w;

    if (j->nwants == j->cap) {
        size_t cap = j->cap ? 2 * j->cap : 16;
        if (cap > WANTS_MAX || (w = realloc(j->wants, cap * sizeof(*w))) == NULL)
            return NULL;
        j->wants = w;
        j->cap = cap;
    }
    w = &j->wants[j->nwants++];
    memset(w, 0, sizeof(*w));
    w->kind = kind;
    gl_buf_init(&w->data, 0);
    j->fresh++;
    return w;
}

static int rd_entry(const struct readapi_view *v, struct readapi_job *j, uint64_t index,
                    struct gl_buf *out)
{
    struct want *w;

    if (j == NULL)
        return store_get_entry(v->store, index, out);
    for (size_t i = 0; i < j->nwants; i++) {
        w = &j->wants[i];
        if (w->kind == WANT_ENTRY && w->a == index)
            return !w->done ? RD_LATER
                   : w->rc  ? w->rc
                            : gl_buf_append(out, w->data.data, w->data.len);
    }
    if ((w = want_add(j, WANT_ENTRY)) == NULL)
        return GL_ENOMEM;
    w->a = index;
    gl_buf_init(&w->data, GL_STATEMENT_MAX_SIZE);
    return RD_LATER;
}

static int rd_leaf(const struct readapi_view *v, struct readapi_job *j,
                   const uint8_t hash[GL_HASH_LEN], uint64_t *index)
{
    struct want *w;

    if (j == NULL)
        return store_find_leaf(v->store, hash, index);
    for (size_t i = 0; i < j->nwants; i++) {
        w = &j->wants[i];
        if (w->kind == WANT_LEAF && memcmp(w->hash, hash, GL_HASH_LEN) == 0) {
            if (!w->done)
                return RD_LATER;
            *index = w->found;
            return w->rc;
        }
    }
    if ((w = want_add(j, WANT_LEAF)) == NULL)
        return GL_ENOMEM;
    memcpy(w->hash, hash, GL_HASH_LEN);
    return RD_LATER;
}

/* store_find_index with max = READAPI_LOOKUP_MAX + 1. Through a job the
 * index is read with no upper bound (every entry under the key from
 * `from` on, also past the view's tree) and cut to those below `below`
 * here: the first max indices from `from` on that are below `below` are
 * the first max in [from, below), since they ascend. below is the job's
 * pinned checkpoint size (job_view), whose rows were all committed before
 * the thread read, so the cut list is complete. */
static int rd_index(const struct readapi_view *v, struct readapi_job *j,
                    enum store_index kind, const uint8_t *key, size_t klen, uint64_t from,
                    uint64_t below, uint64_t *idx, size_t *n)
{
    struct want *w;

    if (j == NULL)
        return store_find_index(v->store, kind, key, klen, from, below, idx,
                                READAPI_LOOKUP_MAX + 1, n);
    *n = 0;
    if (from >= below) /* nothing can be listed: no read */
        return 0;
    for (size_t i = 0; i < j->nwants; i++) {
        w = &j->wants[i];
        if (w->kind == WANT_INDEX && w->ikind == kind && w->a == from &&
            w->data.len == klen && memcmp(w->data.data, key, klen) == 0) {
            if (!w->done)
                return RD_LATER;
            for (; w->rc == 0 && *n < w->n && w->idx[*n] < below; (*n)++)
                idx[*n] = w->idx[*n];
            return w->rc;
        }
    }
    if ((w = want_add(j, WANT_INDEX)) == NULL)
        return GL_ENOMEM;
    w->ikind = kind;
    w->a = from;
    w->b = UINT64_MAX;
    gl_buf_init(&w->data, STORE_INDEX_KEY_MAX);
    if ((w->idx = malloc((READAPI_LOOKUP_MAX + 1) * sizeof(*w->idx))) == NULL ||
        gl_buf_append(&w->data, key, klen) != 0) {
        j->fresh--; /* not a read to do: the reply (500) goes out */
        j->nwants--;
        free(w->idx);
        gl_buf_release(&w->data);
        return GL_ENOMEM;
    }
    return RD_LATER;
}

/* store_read_entries; *out is the job's (valid while the job is) or, with
 * no job, the caller's mine, which the caller releases. */
static int rd_bundle(const struct readapi_view *v, struct readapi_job *j, uint64_t start,
                     uint64_t n, struct store_entries *mine,
                     const struct store_entries **out)
{
    struct want *w;
    int rc;

    if (j == NULL) {
        rc = store_read_entries(v->store, start, n, mine);
        *out = mine;
        return rc;
    }
    gl_buf_init(&mine->raw, 0);
    for (size_t i = 0; i < j->nwants; i++) {
        w = &j->wants[i];
        if (w->kind == WANT_BUNDLE && w->a == start && w->b == n) {
            if (!w->done)
                return RD_LATER;
            *out = w->ents;
            return w->rc;
        }
    }
    if ((w = want_add(j, WANT_BUNDLE)) == NULL)
        return GL_ENOMEM;
    w->a = start;
    w->b = n;
    if ((w->ents = calloc(1, sizeof(*w->ents))) == NULL) {
        j->fresh--; /* not a read to do: the reply (500) goes out */
        j->nwants--;
        return GL_ENOMEM;
    }
    gl_buf_init(&w->ents->raw, 0);
    return RD_LATER;
}

/* Makes sure the full tile (level, index) is in the view's cache: from the
 * job's result, or recorded as wanted (RD_LATER). */
static int rd_tile(const struct readapi_view *v, struct readapi_job *j, uint32_t level,
                   uint64_t index)
{
    struct want *w;

    for (size_t i = 0; i < j->nwants; i++) {
        w = &j->wants[i];
        if (w->kind == WANT_TILE && w->level == level && w->a == index) {
            if (!w->done)
                return RD_LATER;
            if (w->rc != 0)
                return w->rc;
            if (tilecache_peek(v->cache, level, index, GL_TILE_WIDTH))
                return 0; /* put already (job_after), or still there */
            if (w->data.len != STORE_TILE_MAX)
                return GL_EPARSE; /* a tile left of the edge must be full */
            return tilecache_put(v->cache, level, index, GL_TILE_WIDTH,
                                 (const uint8_t(*)[GL_HASH_LEN])w->data.data) != NULL
                       ? 0
                       : GL_ECRYPTO;
        }
    }
    if ((w = want_add(j, WANT_TILE)) == NULL)
        return GL_ENOMEM;
    tilecache_count_miss(v->cache);
    w->level = level;
    w->a = index;
    gl_buf_init(&w->data, STORE_TILE_MAX);
    return RD_LATER;
}

/* A hash source over the view's tree that reads no store: tree_source's
 * reads, once rd_tile put every full tile they need in the cache (the
 * right edge's partial tiles are the tree's). */
struct job_source {
    const struct readapi_view *v;
    struct readapi_job *j;
    struct tree_reader r;
    struct gl_hash_source tree;
};

static int job_read(void *ctx, const struct gl_node_id *ids, size_t n,
                    uint8_t (*out)[GL_HASH_LEN])
{
    struct job_source *js = ctx;
    uint64_t size = js->v->tree->range.size;
    struct gl_tile_span span;
    int rc;

    for (size_t i = 0; i < n; i++) {
        if ((rc = gl_tile_locate(&ids[i], &span)) != 0)
            return rc;
        if (span.level < TREE_TILE_LEVELS &&
            span.index < (size >> (8 * span.level)) / GL_TILE_WIDTH &&
            !tilecache_peek(js->v->cache, span.level, span.index, GL_TILE_WIDTH)) {
            rc = rd_tile(js->v, js->j, span.level, span.index);
            if (rc == RD_LATER && js->j->fresh > 0) {
                memset(out[i], 0, GL_HASH_LEN); /* the proof is thrown away */
                continue;
            }
            if (rc != 0)
                return rc;
        }
        if ((rc = js->tree.read(js->tree.ctx, &ids[i], 1, &out[i])) != 0)
            return rc;
    }
    return 0;
}

/* src: the view's tree, through the job's reads when j is not NULL. */
static void source_of(const struct readapi_view *v, struct readapi_job *j,
                      struct job_source *js, struct gl_hash_source *src)
{
    js->v = v;
    js->j = j;
    js->r.t = v->tree;
    js->r.s = v->store;
    js->r.c = v->cache;
    tree_source(&js->r, &js->tree);
    if (j == NULL) {
        *src = js->tree;
    } else {
        src->read = job_read;
        src->ctx = js;
    }
}

/* --- query parsing -------------------------------------------------------------- */

/* Reads an optional text parameter, percent-decoded (%XX, either case;
 * nothing else is special), into out (max bytes with its NUL); the value
 * must be 1..max-1 bytes 0x21-0x7E once decoded. -1 malformed, 0 absent,
 * 1 found (*len gets its length). */
static int query_text(const char *query, const char *name, char *out, size_t max,
                      size_t *len)
{
    char v[3 * (GL_STATEMENT_SUBJECT_MAX + GL_STATEMENT_VERSION_MAX) + 1];
    size_t n = 0;
    int r = gl_query_get_raw(query, name, v, sizeof(v));

    if (r != 1)
        return r;
    for (const char *p = v; *p != 0; p++) {
        unsigned c = (unsigned char)*p;
        if (c == '%') {
            uint8_t byte;
            if (p[1] == 0 || p[2] == 0 || /* never read past the value's NUL */
                gl_hex_decode_exact(p + 1, 2, &byte, 1, 0) != 0)
                return -1;
            c = byte;
            p += 2;
        }
        if (c < 0x21 || c > 0x7e || n + 1 >= max)
            return -1;
        out[n++] = (char)c;
    }
    out[n] = 0;
    *len = n;
    return n > 0 ? 1 : -1;
}

static int query_hash(const char *query, const char *name, uint8_t out[GL_HASH_LEN])
{
    char v[QUERY_VALUE_MAX];
    int r = gl_query_get(query, name, v, sizeof(v));

    if (r != 1)
        return r;
    return gl_hex_decode_exact(v, strlen(v), out, GL_HASH_LEN, 1) == 0 ? 1 : -1;
}

/* --- JSON ------------------------------------------------------------------------- */

/* Answers obj (consumed; NULL: out of memory) printed, with headers h. */
static int reply_json_with(struct gl_http_req *req, struct gl_http_pending *p, int status,
                           const struct gl_http_header *h, size_t nh, cJSON *obj)
{
    char *text = obj != NULL ? cJSON_PrintUnformatted(obj) : NULL;
    int rc;

    cJSON_Delete(obj);
    if (text == NULL)
        return p ? gl_http_pending_reply_error(p, 500, "out of memory")
                 : gl_http_reply_error(req, 500, "out of memory");
    if (p != NULL)
        rc = gl_http_pending_reply(p, status, "application/json", h, nh, text,
                                   strlen(text));
    else
        rc = gl_http_reply(req, status, "application/json", h, nh, text, strlen(text));
    free(text);
    return rc;
}

int readapi_reply_json(struct gl_http_req *req, struct gl_http_pending *p, int status,
                       cJSON *obj)
{
    return reply_json_with(req, p, status, hdr_nocache, 1, obj);
}

int readapi_reply_retry(struct gl_http_req *req, struct gl_http_pending *p,
                        const char *reason)
{
    static const struct gl_http_header h[] = {{"Retry-After", "1"},
                                              {"Cache-Control", "no-store"}};
    cJSON *obj = cJSON_CreateObject();

    if (obj != NULL && cJSON_AddStringToObject(obj, "error", reason) == NULL) {
        cJSON_Delete(obj);
        obj = NULL;
    }
    return reply_json_with(req, p, 503, h, 2, obj);
}

/* The handlers' replies: none while the job wants store reads (its
 * request is computed again once they are done). */
static int reply_error(struct readapi_job *j, struct gl_http_req *req, int status,
                       const char *why)
{
    return j != NULL && j->fresh > 0 ? 0 : gl_http_reply_error(req, status, why);
}

static int reply_json(struct readapi_job *j, struct gl_http_req *req, cJSON *obj)
{
    if (j != NULL && j->fresh > 0) {
        cJSON_Delete(obj);
        return 0;
    }
    return readapi_reply_json(req, NULL, 200, obj);
}

static int tlogproof(const struct readapi_view *v, struct readapi_job *j, uint64_t index,
                     struct gl_buf *out)
{
    uint64_t size = 0;
    const struct gl_buf *ck = v->checkpoint(v->ctx, &size);
    struct gl_tlogproof tp; /* 2 KiB: on the stack, not the heap, per append */
    struct job_source js;
    struct gl_hash_source src;
    int rc;

    if (ck == NULL || index >= size || size > v->tree->range.size)
        return GL_ESTATE;
    memset(&tp, 0, sizeof(tp));
    source_of(v, j, &js, &src);
    rc = gl_merkle_prove_inclusion(&src, index, size, tp.hashes, &tp.nhashes);
    if (rc == 0) {
        tp.index = index;
        tp.checkpoint = (const char *)ck->data;
        tp.checkpoint_len = ck->len;
        /* the checkpoint this process serves: its own signed one (log) or
         * one it verified when it took it (mirror) */
        tp.checkpoint_checked = 1;
        rc = gl_tlogproof_format(&tp, out);
    }
    return rc;
}

int readapi_tlogproof(const struct readapi_view *v, uint64_t index, struct gl_buf *out)
{
    return tlogproof(v, NULL, index, out);
}

/* Adds "hashes": [hex...] to obj. */
static int json_hashes(cJSON *obj, const uint8_t (*h)[GL_HASH_LEN], size_t n)
{
    cJSON *arr = cJSON_AddArrayToObject(obj, "hashes");
    char hex[GL_HASH_HEX_LEN + 1];

    if (arr == NULL)
        return GL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        gl_hex_encode(h[i], GL_HASH_LEN, hex, sizeof(hex));
        if (!cJSON_AddItemToArray(arr, cJSON_CreateString(hex)))
            return GL_ENOMEM;
    }
    return 0;
}

/* Adds index, leaf_hash, statement (and proof when with_proof) of entry
 * index to obj. GL_EPARSE if the entry is not valid UTF-8 without NULs
 * (a mirrored log's entries are any bytes): JSON cannot carry it as a
 * string. */
static int json_entry(const struct readapi_view *v, struct readapi_job *j, cJSON *obj,
                      uint64_t index, int with_proof)
{
    struct gl_buf e, proof;
    uint8_t leaf[GL_HASH_LEN];
    char hex[GL_HASH_HEX_LEN + 1];
    int rc;

    gl_buf_init(&e, GL_STATEMENT_MAX_SIZE);
    gl_buf_init(&proof, 1 << 16);
    if ((rc = rd_entry(v, j, index, &e)) == RD_LATER && j != NULL && j->fresh > 0) {
        if (with_proof) /* collects its tiles in the same round */
            (void)tlogproof(v, j, index, &proof);
        goto out;
    }
    if (rc != 0 || (rc = gl_merkle_leaf_hash(e.data, e.len, leaf)) != 0)
        goto out;
    if (!gl_utf8_string(e.data, e.len)) { /* a mirrored log's entry, not text */
        rc = GL_EPARSE;
        goto out;
    }
    gl_hex_encode(leaf, GL_HASH_LEN, hex, sizeof(hex));
    if (!cJSON_AddNumberToObject(obj, "index", (double)index) ||
        !cJSON_AddStringToObject(obj, "leaf_hash", hex) ||
        !cJSON_AddStringToObject(obj, "statement", (const char *)e.data)) {
        rc = GL_ENOMEM;
        goto out;
    }
    if (with_proof && ((rc = tlogproof(v, j, index, &proof)) != 0 ||
                       !cJSON_AddStringToObject(obj, "proof", (const char *)proof.data)))
        rc = rc ? rc : GL_ENOMEM;
out:
    gl_buf_release(&e);
    gl_buf_release(&proof);
    return rc;
}

/* --- handlers ----------------------------------------------------------------------- */

static int read_entry(const struct readapi_view *v, struct readapi_job *j,
                      struct gl_http_req *req, const char *arg)
{
    uint64_t index;
    cJSON *obj;
    int rc = 0;

    if (gl_parse_u64(arg, strlen(arg), &index) != 0)
        return gl_http_reply_error(req, 400, "the entry index must be a decimal number");
    if (index >= v->size)
        return gl_http_reply_error(req, 404, "no such entry");
    if ((obj = cJSON_CreateObject()) == NULL ||
        (rc = json_entry(v, j, obj, index, 0)) != 0) {
        cJSON_Delete(obj);
        if (rc == GL_EPARSE)
            return reply_error(j, req, 422,
                               "the entry is not UTF-8 text without NULs: "
                               "read it from the entry bundles (tile/entries)");
        return reply_error(j, req, 500, "storage read failed");
    }
    return reply_json(j, req, obj);
}

/* The reply to a request for a tree larger than this server's: 404, not
 * 400, since the request may be right (several front-ends share one store
 * and this one may lag: another one, or this one later, can answer). */
static int reply_past(struct gl_http_req *req, const char *name, uint64_t n,
                      uint64_t size)
{
    char why[128];

    snprintf(why, sizeof(why), "%s %llu is past this server's tree (size %llu)", name,
             (unsigned long long)n, (unsigned long long)size);
    return gl_http_reply_error(req, 404, why);
}

static int read_inclusion(const struct readapi_view *v, struct readapi_job *j,
                          struct gl_http_req *req)
{
    static const char *const names[] = {"index", "leaf_hash", "tree_size"};
    uint64_t size = v->size, tree_size = size, index = 0;
    uint8_t leaf[GL_HASH_LEN], proof[GL_MERKLE_MAX_PROOF][GL_HASH_LEN];
    struct job_source js;
    struct gl_hash_source src;
    size_t len;
    char why[128];
    int hi, hl, hs;
    cJSON *obj;

    if (gl_query_check(req->query, names, 3, why, sizeof(why)) != 0)
        return gl_http_reply_error(req, 400, why);
    hi = gl_query_u64(req->query, "index", &index);
    hl = query_hash(req->query, "leaf_hash", leaf);
    hs = gl_query_u64(req->query, "tree_size", &tree_size);
    if (hi < 0 || hl < 0 || hs < 0 || hi + hl != 1)
        return gl_http_reply_error(req, 400,
                                   "give exactly one of index=<n> or leaf_hash=<hex>, "
                                   "and optionally tree_size=<n>");
    if (tree_size > size)
        return reply_past(req, "tree_size", tree_size, size);
    if (hl == 1) {
        int rc = rd_leaf(v, j, leaf, &index);
        if (rc == GL_ENOTFOUND || (rc == 0 && index >= size))
            return reply_error(j, req, 404, "no entry with that leaf hash");
        if (rc != 0)
            return reply_error(j, req, 500, "storage read failed");
        if (index >= tree_size) {
            snprintf(why, sizeof(why),
                     "no entry with that leaf hash in the tree of size %llu",
                     (unsigned long long)tree_size);
            return gl_http_reply_error(req, 404, why);
        }
    }
    if (index >= tree_size)
        return hs == 1 ? gl_http_reply_error(req, 400,
                                             "the entry is not in a tree of that size")
                       : reply_past(req, "index", index, size);
    source_of(v, j, &js, &src);
    if (gl_merkle_prove_inclusion(&src, index, tree_size, proof, &len) != 0)
        return reply_error(j, req, 500, "cannot compute the proof");
    if ((obj = cJSON_CreateObject()) == NULL ||
        !cJSON_AddNumberToObject(obj, "index", (double)index) ||
        !cJSON_AddNumberToObject(obj, "tree_size", (double)tree_size) ||
        json_hashes(obj, gl_hashes_const(proof), len) != 0) {
        cJSON_Delete(obj);
        obj = NULL;
    }
    return reply_json(j, req, obj);
}

/* RFC 9162 2.1.4: a consistency proof is defined for 0 < first <= second
 * only (first = 0 is refused, as Go's tlog does). */
static int read_consistency(const struct readapi_view *v, struct readapi_job *j,
                            struct gl_http_req *req)
{
    static const char *const names[] = {"first", "second"};
    uint64_t size = v->size, first, second;
    uint8_t proof[GL_MERKLE_MAX_PROOF][GL_HASH_LEN];
    struct job_source js;
    struct gl_hash_source src;
    size_t len;
    char why[128];
    cJSON *obj;

    if (gl_query_check(req->query, names, 2, why, sizeof(why)) != 0)
        return gl_http_reply_error(req, 400, why);
    if (gl_query_u64(req->query, "first", &first) != 1 ||
        gl_query_u64(req->query, "second", &second) != 1)
        return gl_http_reply_error(req, 400, "give first=<m> and second=<n>");
    if (first == 0)
        return gl_http_reply_error(req, 400, "first must be at least 1");
    if (first > second)
        return gl_http_reply_error(req, 400, "need first <= second");
    if (second > size)
        return reply_past(req, "second", second, size);
    source_of(v, j, &js, &src);
    if (gl_merkle_prove_consistency(&src, first, second, proof, &len) != 0)
        return reply_error(j, req, 500, "cannot compute the proof");
    if ((obj = cJSON_CreateObject()) == NULL ||
        json_hashes(obj, gl_hashes_const(proof), len) != 0) {
        cJSON_Delete(obj);
        obj = NULL;
    }
    return reply_json(j, req, obj);
}

/* The lookup's index and key: sha256=<hex>, source=<hex>, or
 * subject=<s>[&version=<v>]
 * (percent-decoded, each 1..256 bytes 0x21-0x7E as in a statement).
 * 0, or -1 with *why. */
static int lookup_key(const char *query, enum store_index *kind, uint8_t *key,
                      size_t *klen, const char **why)
{
    char subject[GL_STATEMENT_SUBJECT_MAX + 1], version[GL_STATEMENT_VERSION_MAX + 1];
    size_t slen = 0, vlen = 0;
    uint8_t src[32];
    int hh = query_hash(query, "sha256", key);
    int hx = query_hash(query, "source", src);
    int hs = query_text(query, "subject", subject, sizeof(subject), &slen);
    int hv = query_text(query, "version", version, sizeof(version), &vlen);

    *why =
        "give sha256=<64 lowercase hex digits>, source=<64 lowercase hex digits>, or "
        "subject=<subject> and optionally version=<version> (percent-encoded, 1 to 256 "
        "printable ASCII bytes each)";
    if (hh < 0 || hx < 0 || hs < 0 || hv < 0 || hh + hx + hs != 1 || (hv == 1 && hs != 1))
        return -1;
    if (hh == 1 || hx == 1) {
        *kind = hh == 1 ? STORE_INDEX_ARTIFACT : STORE_INDEX_SOURCE;
        if (hx == 1)
            memcpy(key, src, 32);
        *klen = 32;
        return 0;
    }
    if (hv == 1) {
        *kind = STORE_INDEX_SUBJECT_VERSION;
        return entryindex_subject_version(subject, slen, version, vlen, key, klen) == 0
                   ? 0
                   : -1;
    }
    *kind = STORE_INDEX_SUBJECT;
    memcpy(key, subject, slen);
    *klen = slen;
    return 0;
}

/* Statements under the key with index >= from=<index> (default 0), at
 * most READAPI_LOOKUP_MAX, in the served checkpoint, whose size the
 * answer gives as "tree_size" (a statement missing from the answer may
 * be logged past it); "next" says where the following page starts when
 * more are served. 503 while no checkpoint is served. */
static int read_lookup(const struct readapi_view *v, struct readapi_job *j,
                       struct gl_http_req *req)
{
    static const char *const names[] = {"sha256", "source", "subject", "version", "from"};
    uint64_t idx[READAPI_LOOKUP_MAX + 1], served = 0, from = 0;
    uint8_t key[STORE_INDEX_KEY_MAX];
    enum store_index kind;
    const char *why;
    char dup[128];
    size_t n, klen;
    cJSON *obj, *arr;

    if (gl_query_check(req->query, names, sizeof(names) / sizeof(names[0]), dup,
                       sizeof(dup)) != 0)
        return gl_http_reply_error(req, 400, dup);
    if (lookup_key(req->query, &kind, key, &klen, &why) != 0)
        return gl_http_reply_error(req, 400, why);
    if (gl_query_u64(req->query, "from", &from) < 0)
        return gl_http_reply_error(req, 400, "from=<index> must be a decimal index");
    /* no checkpoint served: answering "none" would deny what is logged */
    if (v->checkpoint(v->ctx, &served) == NULL)
        return readapi_reply_retry(req, NULL, "no checkpoint with a witness quorum yet");
    if (rd_index(v, j, kind, key, klen, from, served, idx, &n) != 0)
        return reply_error(j, req, 500, "storage read failed");
    if ((obj = cJSON_CreateObject()) == NULL ||
        (arr = cJSON_AddArrayToObject(obj, "statements")) == NULL ||
        cJSON_AddNumberToObject(obj, "tree_size", (double)served) == NULL ||
        (n > READAPI_LOOKUP_MAX &&
         cJSON_AddNumberToObject(obj, "next", (double)idx[READAPI_LOOKUP_MAX]) == NULL)) {
        cJSON_Delete(obj);
        return gl_http_reply_error(req, 500, "out of memory");
    }
    for (size_t i = 0; i < n && i < READAPI_LOOKUP_MAX; i++) {
        cJSON *e = cJSON_CreateObject();
        int added = e != NULL && cJSON_AddItemToArray(arr, e);
        if (!added)
            cJSON_Delete(e);
        if (!added || json_entry(v, j, e, idx[i], 1) != 0) {
            if (added && j != NULL && j->fresh > 0)
                continue; /* collect every entry's reads in this round */
            cJSON_Delete(obj);
            return reply_error(j, req, 500, "storage read failed");
        }
    }
    return reply_json(j, req, obj);
}

/* --- tiles (glasslogd's own tree) ------------------------------------------------------
 */

static const struct gl_http_header hdr_immutable[] = {
    {"Cache-Control", "public, max-age=31536000, immutable"},
};

static int read_bundle(const struct readapi_view *v, struct readapi_job *j,
                       struct gl_http_req *req, const struct gl_tile *t)
{
    uint64_t size = v->tree->range.size;
    struct store_entries mine;
    const struct store_entries *ents = NULL;
    struct gl_buf out;
    int rc;

    if (t->index > (size / 256) || t->index * 256 + t->width > size)
        return gl_http_reply_error(req, 404, "no such entry bundle");
    gl_buf_init(&out, GL_TILE_BUNDLE_MAX);
    if (rd_bundle(v, j, t->index * 256, t->width, &mine, &ents) != 0)
        rc = reply_error(j, req, 500, "storage read failed");
    else if (gl_tile_bundle_encode(ents->e, ents->n, &out) != 0)
        rc = gl_http_reply_error(req, 500, "cannot encode the bundle");
    else
        rc = gl_http_reply(req, 200, "application/octet-stream", hdr_immutable, 1,
                           out.data, out.len);
    store_entries_release(&mine);
    gl_buf_release(&out);
    return rc;
}

static int read_tile(const struct readapi_view *v, struct readapi_job *j,
                     struct gl_http_req *req, const char *path)
{
    const struct tree *tr = v->tree;
    const uint8_t(*nodes)[GL_HASH_LEN];
    struct gl_tile t;
    struct gl_err why;
    uint32_t avail;
    uint64_t count;
    int entries;

    if (gl_tile_path_parse(path + 1, strlen(path + 1), &t, &entries, &why) != 0) {
        char msg[GL_ERR_REASON_MAX + 32];
        snprintf(msg, sizeof(msg), "malformed tile path: %s", why.reason);
        return gl_http_reply_error(req, 400, msg);
    }
    if (entries)
        return read_bundle(v, j, req, &t);
    count = t.level < TREE_TILE_LEVELS ? tr->range.size >> (8 * t.level) : 0;
    if (t.index > count / 256 || t.index * 256 + t.width > count)
        return gl_http_reply_error(req, 404, "no such tile");
    /* a full tile not cached: from the job's read */
    if (j != NULL && t.index < count / 256 &&
        !tilecache_peek(v->cache, t.level, t.index, GL_TILE_WIDTH) &&
        rd_tile(v, j, t.level, t.index) != 0) /* RD_LATER: no reply yet */
        return reply_error(j, req, 500, "storage read failed");
    if (tree_tile(tr, v->store, v->cache, t.level, t.index, &nodes, &avail) != 0 ||
        avail < t.width)
        return gl_http_reply_error(req, 500, "storage read failed");
    return gl_http_reply(req, 200, "application/octet-stream", hdr_immutable, 1, nodes,
                         (size_t)t.width * GL_HASH_LEN);
}

/* --- routing ------------------------------------------------------------------------ */

int readapi_wants(const char *path)
{
    return gl_str_prefix(path, "/api/v1/entries/") ||
           strcmp(path, "/api/v1/proof/inclusion") == 0 ||
           strcmp(path, "/api/v1/proof/consistency") == 0 ||
           strcmp(path, "/api/v1/lookup") == 0;
}

static int handle(const struct readapi_view *v, struct readapi_job *j,
                  struct gl_http_req *req, const char *path)
{
    assert(v->size <= v->tree->range.size);
    if (gl_str_prefix(path, "/api/v1/entries/"))
        return read_entry(v, j, req, path + GL_LIT_LEN("/api/v1/entries/"));
    if (strcmp(path, "/api/v1/proof/inclusion") == 0)
        return read_inclusion(v, j, req);
    if (strcmp(path, "/api/v1/proof/consistency") == 0)
        return read_consistency(v, j, req);
    if (strcmp(path, "/api/v1/lookup") == 0)
        return read_lookup(v, j, req);
    if (gl_str_prefix(path, "/tile/"))
        return read_tile(v, j, req, path);
    return gl_http_reply_error(req, 404, "not found");
}

int readapi_handle(const struct readapi_view *v, struct gl_http_req *req,
                   const char *path)
{
    return handle(v, NULL, req, path);
}

/* --- off the loop ------------------------------------------------------------------- */

static const struct gl_buf *job_checkpoint(void *ctx, uint64_t *size)
{
    const struct readapi_job *j = ctx;

    *size = j->ck0_size;
    return &j->ck0;
}

/* Pins j to view v (its first computation): v's size and checkpoint (a
 * view without one pins the size alone). 0; GL_ENOMEM (or GL_ETOOBIG, a
 * note over GL_NOTE_MAX_SIZE) if the note cannot be copied: the request
 * then fails, never pinning a size without the checkpoint it was served
 * with. j->ck0 is initialised either way (job_free releases it). */
static int job_pin(struct readapi_job *j, const struct readapi_view *v)
{
    const struct gl_buf *ck;
    uint64_t size = 0;
    int rc;

    j->size0 = v->size;
    gl_buf_init(&j->ck0, GL_NOTE_MAX_SIZE);
    if ((ck = v->checkpoint(v->ctx, &size)) == NULL)
        return 0;
    /* the copy is NUL-terminated (buf.h) */
    if ((rc = gl_buf_append(&j->ck0, ck->data, ck->len)) != 0)
        return rc;
    j->ck0_size = size;
    j->has_ck0 = 1;
    return 0;
}

/* The view j is computed from again: the server's now, as of j's pin
 * where the view still reaches it (see the top of this file). */
static void job_view(struct readapi_async *ra, struct readapi_job *j,
                     struct readapi_view *v)
{
    ra->view(ra->ctx, v);
    if (j->size0 > v->size)
        return; /* the view dropped below the pin */
    v->size = j->size0;
    if (j->has_ck0) {
        v->checkpoint = job_checkpoint;
        v->ctx = j;
    }
}

static void job_free(struct readapi_job *j)
{
    for (size_t i = 0; i < j->nwants; i++) {
        gl_buf_release(&j->wants[i].data);
        free(j->wants[i].idx);
        store_entries_release(j->wants[i].ents);
        free(j->wants[i].ents);
    }
    free(j->wants);
    gl_buf_release(&j->ck0);
    free(j);
}

/* Takes a place in ra->places for a request of req's client (*client:
 * its key), making the set for the first place taken (readapi.h). 0;
 * GL_ETOOBIG or GL_ERANGE, inflight_take's refusals; GL_ENOMEM, GL_EIO
 * (inflight_new). Nothing changes on error. */
static int async_take(struct readapi_async *ra, struct gl_http_req *req,
                      struct addr_key *client)
{
    int rc;

    if (ra->places == NULL &&
        (rc = inflight_new(READAPI_ASYNC_MAX, READAPI_ASYNC_CLIENT, &ra->places)) != 0)
        return rc;
    if ((rc = inflight_take(ra->places, gl_http_req_peer(req), client)) != 0) {
        assert(ra->jobs > 0); /* refused: half the places at least are taken */
        return rc;
    }
    ra->jobs++;
    return 0;
}

/* Gives back the place taken for client, freeing the set with the last. */
static void async_give(struct readapi_async *ra, const struct addr_key *client)
{
    inflight_give(ra->places, client);
    if (--ra->jobs == 0) {
        inflight_free(ra->places);
        ra->places = NULL;
    }
}

/* The request is answered or dropped: forget the job. */
static void job_finish(struct readapi_job *j)
{
    async_give(j->ra, &j->client);
    gl_http_pending_on_gone(j->p, NULL, NULL);
    gl_http_pending_release(j->p); /* 500 for one left unanswered */
    job_free(j);
}

/* On a threadpool thread: the reads the job wants, with their outcomes. */
static void job_work(uv_work_t *work)
{
    struct readapi_job *j = work->data;
    uint8_t tile[STORE_TILE_MAX];
    size_t len;

    for (size_t i = 0; i < j->nwants; i++) {
        struct want *w = &j->wants[i];
        if (w->done)
            continue;
        switch (w->kind) {
        case WANT_ENTRY:
            w->rc = store_get_entry(j->store, w->a, &w->data);
            break;
        case WANT_LEAF:
            w->rc = store_find_leaf(j->store, w->hash, &w->found);
            break;
        case WANT_INDEX:
            w->rc = store_find_index(j->store, w->ikind, w->data.data, w->data.len, w->a,
                                     w->b, w->idx, READAPI_LOOKUP_MAX + 1, &w->n);
            break;
        case WANT_TILE:
            w->rc = store_get_tile(j->store, w->level, w->a, tile, &len);
            if (w->rc == 0)
                w->rc = gl_buf_append(&w->data, tile, len);
            break;
        case WANT_BUNDLE:
            w->rc = store_read_entries(j->store, w->a, w->b, w->ents);
            break;
        }
        w->done = 1;
        j->done++;
    }
}

/* The threads reads of st may take: half the threadpool (at least one),
 * so reads waiting on a stalled database leave threads to the signature
 * checks of appends (main.c sizes UV_THREADPOOL_SIZE; libuv's default is
 * 4), and at most the store's read capacity, so they leave connections
 * to the loop's own store calls (store_read_capacity: 4 on PostgreSQL,
 * whatever the threadpool's size). */
static size_t read_slots(const struct store *st)
{
    const char *v = getenv("UV_THREADPOOL_SIZE");
    long n = v != NULL ? strtol(v, NULL, 10) : 4;
    size_t slots = n < 2 ? 1 : n > 1024 ? 512 : (size_t)n / 2;
    size_t cap = store_read_capacity(st);

    return cap != 0 && cap < slots ? cap : slots;
}

static void job_after(uv_work_t *work, int status);

/* Takes j out of ra's queue; prev is the job before it there, or NULL. */
static void queue_unlink(struct readapi_async *ra, struct readapi_job *prev,
                         struct readapi_job *j)
{
    if (prev != NULL)
        prev->next = j->next;
    else
        ra->queue = j->next;
    if (ra->queue_tail == j)
        ra->queue_tail = prev;
    j->next = NULL;
    j->queued = 0;
}

/* Puts j (out of the queue) in ra's queue after prev, or at the head when
 * prev is NULL. */
static void queue_insert(struct readapi_async *ra, struct readapi_job *prev,
                         struct readapi_job *j)
{
    struct readapi_job **at = prev != NULL ? &prev->next : &ra->queue;

    j->next = *at;
    *at = j;
    if (ra->queue_tail == prev)
        ra->queue_tail = j;
    j->queued = 1;
}

/* Queues j (not pumped): a new request at the tail, one that needs
 * another round (again) at the head, since it has waited its turn already
 * and what it read may be outdated by more rounds if it waits behind
 * every other. */
static void queue_put(struct readapi_async *ra, struct readapi_job *j, int again)
{
    queue_insert(ra, again ? NULL : ra->queue_tail, j);
}

/* Each tile j still wants that the cache now holds (another job read it
 * meanwhile) is copied into the want, done as if j's thread had read it:
 * an eviction before j's handler runs costs nothing. Returns how many of
 * j's wants are left to read. */
static size_t job_take_cached(struct readapi_job *j, struct tilecache *c)
{
    size_t left = 0;

    for (size_t i = 0; i < j->nwants; i++) {
        struct want *w = &j->wants[i];
        const uint8_t(*h)[GL_HASH_LEN];
        if (!w->done && w->kind == WANT_TILE &&
            tilecache_peek(c, w->level, w->a, GL_TILE_WIDTH) &&
            (h = tilecache_get(c, w->level, w->a, GL_TILE_WIDTH)) != NULL) {
            /* a full tile's own hashes are its node tree's first 256 */
            w->rc = gl_buf_append(&w->data, h, STORE_TILE_MAX);
            w->done = 1;
        }
        left += !w->done;
    }
    return left;
}

/* --- the reads others wait for: ra->reading ---------------------------------------- */

/* A job waits for a read another job's thread does (that want is
 * shared) only if that thread does that one read alone, or reads only
 * full tiles and entry bundles: entries and their tiles may take long (a
 * lookup reads up to 100 entries; a locked table), and a job's results
 * reach the others only once all its reads are done. So ra->reading
 * holds the keys (read_key) of the shared wants of the running jobs: a
 * set (readset.h) of at most READSET_MAX keys, all different (a shared
 * want starts only when its key is not there), so that the pump checks a
 * want in O(1), not against every running want. A job whose reads do not
 * fit shares none: no job waits for it (a read done twice, nothing
 * worse). A leaf's key holds the first 16 bytes of its hash, which a
 * client chooses: two leaves with one key only make one wait for the
 * other needlessly (a job holds one leaf want); results go by want_same,
 * on the whole hash.
 *
 * Never shared: an index look-up (no job waits for another's): it has no
 * upper bound and answers what the index held when it was read, so a
 * lookup that came after an append, answering with a checkpoint that
 * covers the new entry, must not take the result of one read before it;
 * and a want marked alone (job_hand_over): its job reads it itself,
 * whoever else reads it, and waits for nobody. Only a result read without
 * error is handed over: a failed read or one that found nothing (a leaf
 * hash not logged yet when it was read: it may be by the checkpoint the
 * waiting job answers with) leaves each waiting want to read it itself,
 * alone, so they read at once on the free threads rather than one after
 * the other, each waiting for the next (N round trips, or N times a
 * failing store's time, for N requests). Entries, bundles and leaf hashes
 * found never change, and tiles are cached as before. */

static int want_tile_or_bundle(const struct want *w)
{
    return w->kind == WANT_TILE || w->kind == WANT_BUNDLE;
}

/* 1 if other jobs may wait for w and take its result (see above). */
static int want_shareable(const struct want *w)
{
    return w->kind != WANT_INDEX && !w->alone;
}

/* 1 if x and w, w shareable, are the same store read. */
static int want_same(const struct want *x, const struct want *w)
{
    assert(want_shareable(w));
    if (x->kind != w->kind)
        return 0;
    if (w->kind == WANT_LEAF)
        return memcmp(x->hash, w->hash, GL_HASH_LEN) == 0;
    return x->level == w->level && x->a == w->a && x->b == w->b;
}

/* The key of w, any want but an index look-up (also one marked alone: a
 * queued want is looked up in ra->ended by it, job_hand_over). */
static struct readset_key read_key(const struct want *w)
{
    struct readset_key k = {.a = w->a, .b = w->b, .level = w->level};

    assert(w->kind != WANT_INDEX);
    k.kind = (uint32_t)w->kind + 1; /* 0: a free slot */
    if (w->kind == WANT_LEAF) {
        memcpy(&k.a, w->hash, sizeof(k.a));
        memcpy(&k.b, w->hash + sizeof(k.a), sizeof(k.b));
    }
    return k;
}

/* The key of w, shareable: the only keys put in ra->reading and
 * ra->ended. */
static struct readset_key shared_key(const struct want *w)
{
    assert(want_shareable(w));
    return read_key(w);
}

static int reading_has(const struct readapi_async *ra, const struct want *w)
{
    struct readset_key k = shared_key(w);

    return readset_has(&ra->reading, &k);
}

/* Marks j's wants not done as read by its thread this round, and shares
 * (puts in ra->reading) those shareable when j does one read, or tiles
 * and bundles only, and they fit. */
static void job_mark_reading(struct readapi_async *ra, struct readapi_job *j)
{
    size_t n = 0;
    int shared = 1;

    for (size_t i = 0; i < j->nwants; i++) {
        struct want *w = &j->wants[i];
        w->reading = !w->done;
        n += w->reading;
        shared &= !w->reading || want_tile_or_bundle(w);
    }
    shared = (shared || n == 1) && n <= readset_room(&ra->reading);
    for (size_t i = 0; i < j->nwants; i++) {
        struct want *w = &j->wants[i];
        struct readset_key k;
        w->shared = shared && w->reading && want_shareable(w);
        if (!w->shared)
            continue;
        k = shared_key(w);
        readset_put(&ra->reading, &k); /* not there: j started, job_waits said 0 */
    }
}

/* j's thread is done: its shared wants leave ra->reading. */
static void job_unmark_reading(struct readapi_async *ra, struct readapi_job *j)
{
    for (size_t i = 0; i < j->nwants; i++) {
        struct want *w = &j->wants[i];
        if (w->shared) {
            struct readset_key k = shared_key(w);
            readset_drop(&ra->reading, &k);
        }
        w->reading = 0;
        w->shared = 0;
    }
}

/* 1 if a read j wants is being done by a shared job's thread. */
static int job_waits(const struct readapi_async *ra, const struct readapi_job *j)
{
    if (ra->reading.n == 0)
        return 0;
    for (size_t i = 0; i < j->nwants; i++) {
        const struct want *w = &j->wants[i];
        if (!w->done && want_shareable(w) && reading_has(ra, w))
            return 1;
    }
    return 0;
}

/* Sends j (out of the queue) to a thread for the reads it wants. */
static void job_start(struct readapi_async *ra, struct readapi_job *j)
{
    job_mark_reading(ra, j);
    j->work.data = j;
    if (uv_queue_work(ra->loop, &j->work, job_work, job_after) != 0) {
        job_unmark_reading(ra, j);
        readapi_reply_retry(NULL, j->p, "cannot queue the store read; retry");
        job_finish(j);
        return;
    }
    j->next = ra->running;
    ra->running = j;
    ra->inflight++;
}

/* Computes j's request (out of the queue) again on the loop from what it
 * holds. Returns 1 if it needs another round (j is the caller's to queue
 * or start), else 0: answered, or dropped if its client left (j freed). */
static int job_rerun(struct readapi_async *ra, struct readapi_job *j)
{
    struct gl_http_req *req = gl_http_pending_req(j->p);
    struct readapi_view v;

    if (req == NULL) { /* the client left */
        job_finish(j);
        return 0;
    }
    job_view(ra, j, &v);
    j->rounds++;
    j->fresh = 0;
    (void)handle(&v, j, req, j->path);
    if (j->fresh == 0) {
        job_finish(j); /* answered */
        return 0;
    }
    if (j->rounds >= READAPI_ASYNC_ROUNDS) {
        readapi_reply_retry(NULL, j->p, "the log grew while this was read; retry");
        job_finish(j);
        return 0;
    }
    return 1;
}

enum settled { SETTLED_GONE, SETTLED_KEEP, SETTLED_AGAIN };

/* Moves j (out of the queue) on as far as it goes now: drops it if its
 * client left; computes it again on the loop while the cache holds all
 * it wants (at most READAPI_ASYNC_ROUNDS times); starts it on a free
 * thread unless it wants a read another job's thread does (it waits for
 * that: its job_after puts the tile in the cache or hands the result
 * over, and pumps). Returns SETTLED_GONE if j is answered, dropped or
 * started, else whether it goes back in the queue where it was (KEEP)
 * or at the head (AGAIN: it was computed again, see queue_put). */
static enum settled job_settle(struct readapi_async *ra, struct tilecache *c,
                               struct readapi_job *j)
{
    enum settled keep = SETTLED_KEEP;

    for (;;) {
        if (!gl_http_pending_alive(j->p)) {
            job_finish(j);
            return SETTLED_GONE;
        }
        if (job_take_cached(j, c) != 0)
            break;
        if (!job_rerun(ra, j))
            return SETTLED_GONE;
        keep = SETTLED_AGAIN;
    }
    if (ra->inflight < ra->slots && !job_waits(ra, j)) {
        job_start(ra, j);
        return SETTLED_GONE;
    }
    return keep;
}

/* Goes through the queue once, in order, settling each job (job_settle):
 * one computed again and still waiting goes to the head, ahead of the
 * jobs passed already, which it could not change. Each want is looked at
 * a bounded number of times (ra->reading: once per job_waits). */
static void async_pump(struct readapi_async *ra)
{
    struct readapi_job *prev = NULL, *j, *next;
    struct readapi_view v;

    assert(ra->slots > 0); /* set by readapi_handle_async */
    ra->view(ra->ctx, &v);
    for (j = ra->queue; j != NULL; j = next) {
        next = j->next;
        queue_unlink(ra, prev, j);
        switch (job_settle(ra, v.cache, j)) {
        case SETTLED_KEEP:
            queue_insert(ra, prev, j);
            prev = j;
            break;
        case SETTLED_AGAIN:
            queue_put(ra, j, 1);
            prev = prev != NULL ? prev : j;
            break;
        case SETTLED_GONE:
            break;
        }
    }
}

/* The client of a deferred read left: a queued job goes at once, one on
 * a thread when its reads come back (job_after). */
static void job_gone(void *arg)
{
    struct readapi_job *j = arg, *prev = NULL;
    struct readapi_async *ra = j->ra;

    if (!j->queued)
        return;
    for (struct readapi_job *q = ra->queue; q != j; q = q->next) {
        assert(q != NULL);
        prev = q;
    }
    queue_unlink(ra, prev, j);
    job_finish(j);
}

/* Copies the result of w (done, rc 0) into x, the same read not done:
 * an entry, a bundle or a leaf hash's look-up (tiles go through the
 * cache, an index look-up is never shared). */
static int want_copy(struct want *x, const struct want *w)
{
    switch (w->kind) {
    case WANT_LEAF:
        x->found = w->found;
        return 0;
    case WANT_BUNDLE:
        return store_entries_copy(x->ents, w->ents);
    case WANT_ENTRY:
        return gl_buf_append(&x->data, w->data.data, w->data.len);
    case WANT_INDEX:
    case WANT_TILE:
        break;
    }
    return GL_EINVAL;
}

/* Gives x, a want not done, the result of w, the same read done by a
 * shared want: a copy of it, done as if x's thread had read it, but a
 * bundle only while *bundles (copies left) is not 0. Returns 1 if x is
 * to read it alone (w failed or found nothing, a tile (those reach their
 * waiters through the cache: this one failed or missed it), no copy
 * left, out of memory), else 0. */
static int want_take(struct want *x, const struct want *w, size_t *bundles)
{
    if (w->rc != 0 || (w->kind == WANT_BUNDLE && *bundles == 0))
        return 1;
    if (want_copy(x, w) != 0)
        return 1;
    *bundles -= w->kind == WANT_BUNDLE;
    x->done = 1; /* x->rc: 0 (want_add) */
    return 0;
}

/* Puts in ra->ended (empty) the key of each shared read of j, whose
 * thread is done, that goes to the queued jobs waiting for it, with the
 * index of its want, after putting each full tile j's thread read in the
 * cache (c): every one but a tile now in the cache (a tile reaches its
 * waiters through the cache; one that is not there, short, failed or not
 * put, is theirs to read alone). They fit: their keys are in ra->reading
 * (at most READSET_MAX, all different) until job_unmark_reading. */
static void job_ended(struct readapi_async *ra, struct readapi_job *j,
                      struct tilecache *c)
{
    assert(ra->ended.keys.n == 0);
    for (size_t i = 0; i < j->nwants; i++) {
        struct want *w = &j->wants[i];
        struct readset_key k;
        if (!w->reading || !w->done)
            continue;
        if (w->kind == WANT_TILE && w->rc == 0 && w->data.len == STORE_TILE_MAX &&
            !tilecache_peek(c, w->level, w->a, GL_TILE_WIDTH))
            (void)tilecache_put(c, w->level, w->a, GL_TILE_WIDTH,
                                (const uint8_t(*)[GL_HASH_LEN])w->data.data);
        if (!w->shared || (w->kind == WANT_TILE && w->rc == 0 &&
                           tilecache_peek(c, w->level, w->a, GL_TILE_WIDTH)))
            continue;
        k = shared_key(w);
        readset_map_put(&ra->ended, &k, (uint32_t)i); /* i < WANTS_MAX */
    }
}

/* Each read in ra->ended (put by job_ended for j) is over for each
 * queued job that wants it (they waited for it: job_waits): want_take, or
 * reading it alone, at once, with no more waiting. One walk of the queue
 * (none if no read ended), each want not done looked up in ra->ended by
 * its key and compared whole (want_same: two leaves' keys may be the
 * same) with the want found: time linear in the queued wants, however
 * many reads ended. The bundle copies (ra->slots at most) go to the first
 * waiters in queue order. Empties ra->ended. */
static void job_hand_over(struct readapi_async *ra, struct readapi_job *j)
{
    size_t bundles = ra->slots;
    struct readset_key k;
    uint32_t at;

    if (ra->ended.keys.n == 0)
        return;
    for (struct readapi_job *q = ra->queue; q != NULL; q = q->next) {
        for (size_t i = 0; i < q->nwants; i++) {
            struct want *x = &q->wants[i];
            if (x->done || x->kind == WANT_INDEX) /* never shared */
                continue;
            k = read_key(x);
            if (readset_map_get(&ra->ended, &k, &at) && want_same(x, &j->wants[at]) &&
                want_take(x, &j->wants[at], &bundles) != 0)
                x->alone = 1;
        }
    }
    for (size_t i = 0; i < j->nwants && ra->ended.keys.n > 0; i++) {
        if (j->wants[i].shared) {
            k = shared_key(&j->wants[i]);
            readset_map_drop(&ra->ended, &k);
        }
    }
}

/* On the loop: the job's reads are done. Each full tile its thread read
 * goes into the cache, and each other shared read (and each shared tile
 * read that failed or is not in the cache) to the queued jobs waiting
 * for it (job_ended, job_hand_over), even if its client left; then its
 * request is computed again. At most ra->slots copies of a bundle are
 * handed over per call, the other waiters reading it alone: jobs hold at
 * most twice the read slots' bundles at once (those on threads, and the
 * copies, answered in the pump that follows), not one per waiting
 * request (up to READAPI_ASYNC_MAX of up to GL_TILE_BUNDLE_MAX bytes). */
static void job_after(uv_work_t *work, int status)
{
    struct readapi_job *j = work->data, **pp;
    struct readapi_async *ra = j->ra;
    struct readapi_view v;

    for (pp = &ra->running; *pp != j; pp = &(*pp)->next)
        assert(*pp != NULL);
    *pp = j->next;
    j->next = NULL;
    ra->inflight--;
    ra->reads += j->done;
    j->done = 0;
    ra->view(ra->ctx, &v);
    job_ended(ra, j, v.cache);
    job_hand_over(ra, j);
    job_unmark_reading(ra, j);
    if (status != 0) {
        readapi_reply_retry(NULL, j->p, "shutting down");
        job_finish(j);
    } else if (job_rerun(ra, j)) {
        queue_put(ra, j, 1);
    }
    async_pump(ra);
}

/* The 503 for a request that found no place (rc: async_take's). */
static int async_refuse(struct readapi_async *ra, struct gl_http_req *req, int rc)
{
    if (rc != GL_ETOOBIG && rc != GL_ERANGE)
        return gl_http_reply_error(req, 503, gl_strerror(rc));
    ra->refused++;
    return readapi_reply_retry(req, NULL,
                               rc == GL_ERANGE
                                   ? "too many of this client's reads wait for the "
                                     "database; retry"
                                   : "too many reads wait for the database; retry");
}

int readapi_handle_async(struct readapi_async *ra, const struct readapi_view *v,
                         struct gl_http_req *req, const char *path)
{
    size_t plen = strlen(path);
    struct readapi_job *j;
    int rc;

    if (!store_shared(v->store)) /* embedded: reads take microseconds */
        return handle(v, NULL, req, path);
    if (ra->slots == 0)
        ra->slots = read_slots(v->store);
    if ((j = calloc(1, sizeof(*j) + plen + 1)) == NULL)
        return gl_http_reply_error(req, 503, "out of memory");
    memcpy(j->path, path, plen + 1);
    j->ra = ra;
    j->store = v->store;
    if ((rc = job_pin(j, v)) != 0) {
        job_free(j);
        return rc == GL_ENOMEM
                   ? gl_http_reply_error(req, 503, "out of memory")
                   : gl_http_reply_error(req, 500, "cannot pin the served checkpoint");
    }
    rc = handle(v, j, req, path);
    if (j->fresh == 0) { /* answered from what the loop holds */
        job_free(j);
        return rc;
    }
    if ((rc = async_take(ra, req, &j->client)) != 0) {
        job_free(j);
        return async_refuse(ra, req, rc);
    }
    if ((rc = gl_http_defer(req, &j->p)) != 0) {
        async_give(ra, &j->client);
        job_free(j);
        return rc;
    }
    gl_http_pending_on_gone(j->p, job_gone, j);
    queue_put(ra, j, 0);
    async_pump(ra);
    return 0;
}

/*
 * api: request routing and handlers; see api.h.
 *
 * Every error is a JSON {"error": "..."} with its status. Query strings are
 * parsed strictly (name=value pairs, no percent-encoding: every value we
 * take is decimal or hex), paths are parsed, never used as file names.
 * Replies that carry proofs are computed from the published tree at the
 * time of the reply, so they always match the checkpoint they embed.
 */
#include "api.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "glasslog/codec.h"
#include "glasslog/cosig.h"
#include "glasslog/error.h"
#include "glasslog/log.h"
#include "glasslog/merkle.h"
#include "glasslog/statement.h"
#include "glasslog/tile.h"
#include "glasslog/tlogproof.h"
#include "text.h"

#define LOOKUP_MAX 100
#define QUERY_VALUE_MAX 128

static const struct gl_http_header hdr_immutable[] = {
    {"Cache-Control", "public, max-age=31536000, immutable"},
};
static const struct gl_http_header hdr_nocache[] = {{"Cache-Control", "no-store"}};
static const struct gl_http_header hdr_checkpoint[] = {
    {"Cache-Control", "public, max-age=2"}};
static const struct gl_http_header hdr_retry[] = {{"Retry-After", "1"}};

/* --- helpers ---------------------------------------------------------------- */

/* Finds name=value in query; copies value to out (NUL-terminated), as it
 * is (percent escapes included). 1 found, 0 absent, -1 malformed or too
 * long. */
static int query_get_raw(const char *query, const char *name, char *out, size_t max)
{
    size_t nlen = strlen(name);
    const char *p = query;

    while (*p != 0) {
        const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (eq == NULL)
            return -1;
        if ((size_t)(eq - p) == nlen && memcmp(p, name, nlen) == 0) {
            size_t vlen = (size_t)(end - eq - 1);
            if (vlen >= max)
                return -1;
            memcpy(out, eq + 1, vlen);
            out[vlen] = 0;
            return 1;
        }
        p = amp ? amp + 1 : end;
    }
    return 0;
}

/* As query_get_raw, for values that are never percent-encoded (decimal,
 * hex): a '%' makes the value malformed. */
static int query_get(const char *query, const char *name, char *out, size_t max)
{
    int r = query_get_raw(query, name, out, max);

    return r == 1 && strchr(out, '%') != NULL ? -1 : r;
}

/* Reads an optional decimal parameter; -1 malformed, 0 absent, 1 found. */
static int query_u64(const char *query, const char *name, uint64_t *out)
{
    char v[QUERY_VALUE_MAX];
    int r = query_get(query, name, v, sizeof(v));

    if (r != 1)
        return r;
    return gl_parse_u64(v, strlen(v), out) == 0 ? 1 : -1;
}

/* Reads an optional text parameter, percent-decoded (%XX, either case;
 * nothing else is special), into out (max bytes with its NUL); the value
 * must be 1..max-1 bytes 0x21-0x7E once decoded. -1 malformed, 0 absent,
 * 1 found (*len gets its length). */
static int query_text(const char *query, const char *name, char *out, size_t max,
                      size_t *len)
{
    char v[3 * (GL_STATEMENT_SUBJECT_MAX + GL_STATEMENT_VERSION_MAX) + 1];
    size_t n = 0;
    int r = query_get_raw(query, name, v, sizeof(v));

    if (r != 1)
        return r;
    for (const char *p = v; *p != 0; p++) {
        unsigned c = (unsigned char)*p;
        if (c == '%') {
            uint8_t byte;
            if (gl_hex_decode_exact(p + 1, 2, &byte, 1, 0) != 0)
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
    int r = query_get(query, name, v, sizeof(v));

    if (r != 1)
        return r;
    return gl_hex_decode_exact(v, strlen(v), out, GL_HASH_LEN, 1) == 0 ? 1 : -1;
}

/* 503 with Retry-After and {"error": reason} (reason: a plain literal). */
static int reply_retry(struct gl_http_req *req, struct gl_http_pending *p,
                       const char *reason)
{
    char body[256];
    int n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}", reason);

    if (n < 0 || (size_t)n >= sizeof(body))
        n = 0;
    if (p != NULL)
        return gl_http_pending_reply(p, 503, "application/json", hdr_retry, 1, body,
                                     (size_t)n);
    return gl_http_reply(req, 503, "application/json", hdr_retry, 1, body, (size_t)n);
}

/* 429 for a submitter key over its rate limit, with Retry-After: seconds. */
static int reply_limited(struct gl_http_req *req, uint64_t seconds)
{
    char secs[24], body[160];
    const struct gl_http_header h[] = {{"Retry-After", secs},
                                       {"Cache-Control", "no-store"}};
    int n;

    snprintf(secs, sizeof(secs), "%llu", (unsigned long long)seconds);
    n = snprintf(
        body, sizeof(body),
        "{\"error\":\"rate limit of this submitter key exceeded; retry in %s s\"}", secs);
    return gl_http_reply(req, 429, "application/json", h, 2, body, (size_t)n);
}

static void hex32(const uint8_t h[GL_HASH_LEN], char out[65])
{
    gl_hex_encode(h, GL_HASH_LEN, out, 65);
}

/* Sends a cJSON object (consumed) as the reply. */
static int reply_json(struct gl_http_req *req, struct gl_http_pending *p, int status,
                      cJSON *obj)
{
    char *text = obj != NULL ? cJSON_PrintUnformatted(obj) : NULL;
    int rc;

    cJSON_Delete(obj);
    if (text == NULL)
        return p ? gl_http_pending_reply_error(p, 500, "out of memory")
                 : gl_http_reply_error(req, 500, "out of memory");
    if (p != NULL)
        rc = gl_http_pending_reply(p, status, "application/json", hdr_nocache, 1, text,
                                   strlen(text));
    else
        rc = gl_http_reply(req, status, "application/json", hdr_nocache, 1, text,
                           strlen(text));
    free(text);
    return rc;
}

/* note with the cosignature lines of the mirrors that hold its text
 * (mirrorpush.h), built in a->ck_mirrored (valid until the next call);
 * note itself when there are none. */
static const struct gl_buf *api_with_mirrors(struct api *a, const struct gl_buf *note)
{
    struct gl_buf lines;
    size_t t = 0;

    if (note == NULL || a->mpush == NULL)
        return note;
    while (t + 1 < note->len && !(note->data[t] == '\n' && note->data[t + 1] == '\n'))
        t++;
    gl_buf_init(&lines, 16 << 10);
    if (t + 1 < note->len &&
        mirrorpush_lines(a->mpush, (const char *)note->data, t + 1, &lines) == 0 &&
        lines.len > 0) {
        gl_buf_reset(&a->ck_mirrored);
        if (gl_cosig_append((const char *)note->data, note->len, (const char *)lines.data,
                            lines.len, &a->ck_mirrored, NULL) == 0)
            note = &a->ck_mirrored;
    }
    gl_buf_release(&lines);
    return note;
}

/* The checkpoint clients get (cosigned when witnesses are configured, and
 * by the mirrors that hold it) and its size; NULL while none can be served
 * (block mode, no quorum yet). */
static const struct gl_buf *api_checkpoint_note(struct api *a, uint64_t *size)
{
    const struct gl_buf *note;

    if (a->pub == NULL) {
        *size = seq_tree(a->seq)->range.size;
        return api_with_mirrors(a, seq_checkpoint(a->seq));
    }
    publish_served(a->pub, &note, size);
    return api_with_mirrors(a, note);
}

static void api_reader(struct api *a, struct tree_reader *r, struct gl_hash_source *src)
{
    r->t = seq_tree(a->seq);
    r->s = a->store;
    r->c = a->cache;
    tree_source(r, src);
}

/* Appends the tlog-proof of entry index against the published checkpoint. */
static int api_tlogproof(struct api *a, uint64_t index, struct gl_buf *out)
{
    uint64_t size;
    const struct gl_buf *ck = api_checkpoint_note(a, &size);
    struct gl_tlogproof *tp;
    struct tree_reader r;
    struct gl_hash_source src;
    int rc;

    if (ck == NULL || index >= size)
        return GL_ESTATE;
    if ((tp = calloc(1, sizeof(*tp))) == NULL)
        return GL_ENOMEM;
    api_reader(a, &r, &src);
    rc = gl_merkle_prove_inclusion(&src, index, size, tp->hashes, &tp->nhashes);
    if (rc == 0) {
        tp->index = index;
        tp->checkpoint = (const char *)ck->data;
        tp->checkpoint_len = ck->len;
        rc = gl_tlogproof_format(tp, out);
    }
    free(tp);
    return rc;
}

/* Adds "hashes": [hex...] to obj. */
static int json_hashes(cJSON *obj, const uint8_t (*h)[GL_HASH_LEN], size_t n)
{
    cJSON *arr = cJSON_AddArrayToObject(obj, "hashes");
    char hex[65];

    if (arr == NULL)
        return GL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        hex32(h[i], hex);
        if (!cJSON_AddItemToArray(arr, cJSON_CreateString(hex)))
            return GL_ENOMEM;
    }
    return 0;
}

/* Adds index, leaf_hash, statement (and proof when with_proof) of entry
 * index to obj. */
static int json_entry(struct api *a, cJSON *obj, uint64_t index, int with_proof)
{
    struct gl_buf e, proof;
    uint8_t leaf[GL_HASH_LEN];
    char hex[65];
    int rc;

    gl_buf_init(&e, GL_STATEMENT_MAX_SIZE);
    gl_buf_init(&proof, 1 << 16);
    if ((rc = store_get_entry(a->store, index, &e)) != 0 ||
        (rc = gl_merkle_leaf_hash(e.data, e.len, leaf)) != 0)
        goto out;
    hex32(leaf, hex);
    if (!cJSON_AddNumberToObject(obj, "index", (double)index) ||
        !cJSON_AddStringToObject(obj, "leaf_hash", hex) ||
        !cJSON_AddStringToObject(obj, "statement", (const char *)e.data)) {
        rc = GL_ENOMEM;
        goto out;
    }
    if (with_proof && ((rc = api_tlogproof(a, index, &proof)) != 0 ||
                       !cJSON_AddStringToObject(obj, "proof", (const char *)proof.data)))
        rc = rc ? rc : GL_ENOMEM;
out:
    gl_buf_release(&e);
    gl_buf_release(&proof);
    return rc;
}

/* --- appends ------------------------------------------------------------------ */

struct add_req {
    struct api *api;
    struct add_req *prev, *next; /* in api->waiting while parked */
    uint64_t index;
    int dup;
    struct gl_http_pending *p;
    size_t submitter;       /* index in api->submitters (and api->limits) */
    struct gl_verifier key; /* a copy of that key: the worker reads only this,
                               so a reload may replace api->submitters */
    uv_work_t work;
    struct gl_statement st;
    int verify_rc;
    uint8_t leaf[GL_HASH_LEN];
    size_t len;
    uint8_t data[];
};

static void add_finish(struct add_req *ar)
{
    gl_http_pending_release(ar->p);
    free(ar);
}

/* Answers an append whose entry is in the served checkpoint. */
static void add_reply(struct add_req *ar)
{
    struct gl_buf proof;
    uint64_t index = ar->index;
    int dup = ar->dup;
    cJSON *obj;
    char hex[65];

    gl_buf_init(&proof, 1 << 16);
    obj = cJSON_CreateObject();
    hex32(ar->leaf, hex);
    if (obj == NULL || api_tlogproof(ar->api, index, &proof) != 0 ||
        !cJSON_AddNumberToObject(obj, "index", (double)index) ||
        !cJSON_AddStringToObject(obj, "leaf_hash", hex) ||
        !cJSON_AddBoolToObject(obj, "duplicate", dup) ||
        !cJSON_AddStringToObject(obj, "proof", (const char *)proof.data)) {
        cJSON_Delete(obj);
        obj = NULL;
    }
    reply_json(NULL, ar->p, 200, obj);
    gl_buf_release(&proof);
    add_finish(ar);
}

static void park_unlink(struct api *a, struct add_req *ar)
{
    assert((ar->prev == NULL) == (a->waiting == ar)); /* only the head has no prev */
    if (ar->prev != NULL)
        ar->prev->next = ar->next;
    else
        a->waiting = ar->next;
    if (ar->next != NULL)
        ar->next->prev = ar->prev;
    ar->prev = ar->next = NULL;
    a->nwaiting--;
}

/* The client of a parked append went away: forget it now. */
static void park_gone(void *arg)
{
    struct add_req *ar = arg;

    park_unlink(ar->api, ar);
    ar->api->parked_gone++;
    add_finish(ar);
}

/* Parks a durable append until a served checkpoint covers it; 503 when
 * the waiting list is full (the entry stays logged: a retry gets it). */
static void park(struct api *a, struct add_req *ar)
{
    if (a->nwaiting >= a->waiting_max) {
        reply_retry(NULL, ar->p,
                    "logged, but too many appends wait for witness "
                    "cosignatures; retry for the proof");
        add_finish(ar);
        return;
    }
    ar->prev = NULL;
    ar->next = a->waiting;
    if (a->waiting != NULL)
        a->waiting->prev = ar;
    a->waiting = ar;
    a->nwaiting++;
    gl_http_pending_on_gone(ar->p, park_gone, ar);
}

void api_served(void *ctx)
{
    struct api *a = ctx;
    struct add_req *ar, *next;
    uint64_t size;

    if (api_checkpoint_note(a, &size) == NULL)
        return;
    for (ar = a->waiting; ar != NULL; ar = next) {
        next = ar->next;
        if (ar->index < size) {
            park_unlink(a, ar);
            gl_http_pending_on_gone(ar->p, NULL, NULL);
            add_reply(ar);
        }
    }
}

void api_shutdown(struct api *a)
{
    while (a->waiting != NULL) {
        struct add_req *ar = a->waiting;
        park_unlink(a, ar);
        gl_http_pending_on_gone(ar->p, NULL, NULL);
        reply_retry(NULL, ar->p,
                    "logged, but shutting down before the witnesses cosigned; "
                    "retry for the proof");
        add_finish(ar);
    }
}

static void add_done(void *arg, int status, uint64_t index, int dup)
{
    struct add_req *ar = arg;
    uint64_t size;

    if (status != 0) {
        reply_retry(NULL, ar->p, "storage failure, try again");
        add_finish(ar);
        return;
    }
    ar->index = index;
    ar->dup = dup;
    if (api_checkpoint_note(ar->api, &size) != NULL && index < size) {
        add_reply(ar);
        return;
    }
    if (!gl_http_pending_alive(ar->p)) { /* nobody left to answer */
        add_finish(ar);
        return;
    }
    park(ar->api, ar); /* until the witnesses' quorum covers the entry */
}

static void add_verify_work(uv_work_t *w)
{
    struct add_req *ar = w->data;

    ar->verify_rc = gl_statement_verify(&ar->st, &ar->key, 1, NULL);
    if (ar->verify_rc == 0)
        ar->verify_rc = gl_merkle_leaf_hash(ar->data, ar->len, ar->leaf);
}

static int add_known_submitter(const struct api *a, const struct gl_note_sig *sig,
                               size_t *index);

static void add_verify_after(uv_work_t *w, int status)
{
    struct entryindex ix;
    struct add_req *ar = w->data;
    struct api *a = ar->api;
    int rc;

    a->adds_in_verify--;
    if (status != 0 || ar->verify_rc != 0) {
        seq_unreserve(a->seq);
        gl_http_pending_reply_error(
            ar->p, status != 0 ? 503 : 403,
            status != 0 ? "shutting down" : "the submitter signature does not verify");
        add_finish(ar);
        return;
    }
    /* The submitters may have been reloaded meanwhile: a key removed since
     * is refused, one kept spends from its bucket (found again). */
    if (!add_known_submitter(a, &ar->st.sig, &ar->submitter) ||
        memcmp(a->submitters[ar->submitter].pub, ar->key.pub, sizeof(ar->key.pub)) != 0) {
        seq_unreserve(a->seq);
        gl_http_pending_reply_error(ar->p, 403, "the submitter key was removed");
        add_finish(ar);
        return;
    }
    if (a->limits != NULL) /* verified: only the key's holder spends its tokens */
        ratelimit_spend(&a->limits[ar->submitter], uv_now(a->loop));
    entryindex_of(&ar->st, ar->data, &ix);
    rc = seq_submit(a->seq, ar->data, ar->len, ar->leaf, &ix, add_done, ar);
    if (rc != 0) {
        seq_unreserve(a->seq);
        gl_http_pending_reply_error(ar->p, 503, "out of memory");
        add_finish(ar);
    }
}

/* 1 if a submitter key has the statement signature's name and key ID;
 * *index gets its position. */
static int add_known_submitter(const struct api *a, const struct gl_note_sig *sig,
                               size_t *index)
{
    for (size_t i = 0; i < a->nsubmitters; i++)
        if (a->submitters[i].id == sig->id &&
            strlen(a->submitters[i].name) == sig->name_len && sig->name != NULL &&
            memcmp(a->submitters[i].name, sig->name, sig->name_len) == 0) {
            *index = i;
            return 1;
        }
    return 0;
}

/* 1 if the submitter's bucket admits an append now; otherwise answers 429
 * (the refusal is counted in the bucket). Spent in add_verify_after. */
static int add_admit(struct api *a, struct gl_http_req *req, size_t submitter)
{
    uint64_t retry_after;

    if (a->limits == NULL ||
        ratelimit_admit(&a->limits[submitter], uv_now(a->loop), &retry_after))
        return 1;
    reply_limited(req, retry_after);
    return 0;
}

static int api_add(struct api *a, struct gl_http_req *req)
{
    struct add_req *ar;
    struct gl_err why;
    int rc;

    if (a->read_only) /* before anything else: final, clients must not retry */
        return gl_http_reply_error(req, 410,
                                   "this log is read-only (retired): it serves "
                                   "what it holds but takes no more appends");
    if (req->body_len > GL_STATEMENT_MAX_SIZE)
        return gl_http_reply_error(req, 413, "statement larger than 65535 bytes");
    if ((ar = calloc(1, sizeof(*ar) + req->body_len + 1)) == NULL)
        return gl_http_reply_error(req, 503, "out of memory");
    memcpy(ar->data, req->body, req->body_len);
    ar->len = req->body_len;
    ar->api = a;
    if (gl_statement_parse((const char *)ar->data, ar->len, &ar->st, &why) != 0) {
        char msg[GL_ERR_REASON_MAX + 64], reason[GL_ERR_REASON_MAX + 32];
        snprintf(msg, sizeof(msg), "malformed statement: %s",
                 gl_err_format(&why, NULL, reason, sizeof(reason)));
        free(ar);
        return gl_http_reply_error(req, 400, msg);
    }
    if (!add_known_submitter(a, &ar->st.sig, &ar->submitter)) {
        free(ar);
        return gl_http_reply_error(req, 403, "unknown submitter key");
    }
    ar->key = a->submitters[ar->submitter];
    if (!add_admit(a, req, ar->submitter)) { /* before a pool slot is taken */
        free(ar);
        return 0;
    }
    if ((rc = seq_reserve(a->seq)) != 0) {
        free(ar);
        if (rc == GL_ESTATE)
            return reply_retry(req, NULL, "shutting down");
        return reply_retry(req, NULL, "too many pending appends, retry later");
    }
    if ((rc = gl_http_defer(req, &ar->p)) != 0)
        goto fail;
    ar->work.data = ar;
    if (uv_queue_work(a->loop, &ar->work, add_verify_work, add_verify_after) != 0) {
        gl_http_pending_reply_error(ar->p, 503, "cannot queue the signature check");
        gl_http_pending_release(ar->p);
        rc = 0;
        goto fail;
    }
    a->adds_in_verify++;
    return 0;
fail:
    seq_unreserve(a->seq);
    free(ar);
    return rc;
}

/* --- reads --------------------------------------------------------------------- */

static int api_checkpoint(struct api *a, struct gl_http_req *req)
{
    uint64_t size;
    const struct gl_buf *ck = api_checkpoint_note(a, &size);

    if (ck == NULL)
        return reply_retry(req, NULL, "no checkpoint with a witness quorum yet");
    return gl_http_reply(req, 200, "text/plain; charset=utf-8", hdr_checkpoint, 1,
                         ck->data, ck->len);
}

struct bundle_ctx {
    struct gl_tile_entry e[GL_TILE_WIDTH];
    struct gl_buf raw; /* the entries' bytes, back to back */
    size_t n;
};

static int bundle_collect(void *ctx, uint64_t index, const uint8_t *data, size_t len)
{
    struct bundle_ctx *b = ctx;

    (void)index;
    b->e[b->n].len = len;
    b->n++;
    return gl_buf_append(&b->raw, data, len);
}

static int api_entry_bundle(struct api *a, struct gl_http_req *req,
                            const struct gl_tile *t)
{
    uint64_t size = seq_tree(a->seq)->range.size;
    struct bundle_ctx *b = calloc(1, sizeof(*b));
    struct gl_buf out;
    size_t off = 0;
    int rc;

    if (b == NULL)
        return gl_http_reply_error(req, 503, "out of memory");
    gl_buf_init(&b->raw, GL_TILE_BUNDLE_MAX);
    gl_buf_init(&out, GL_TILE_BUNDLE_MAX);
    if (t->index > (size / 256) || t->index * 256 + t->width > size) {
        rc = gl_http_reply_error(req, 404, "no such entry bundle");
        goto out;
    }
    if (store_scan_entries(a->store, t->index * 256, t->width, bundle_collect, b) != 0) {
        rc = gl_http_reply_error(req, 500, "storage read failed");
        goto out;
    }
    for (size_t i = 0; i < b->n; i++) {
        b->e[i].data = b->raw.data + off;
        off += b->e[i].len;
    }
    if (gl_tile_bundle_encode(b->e, b->n, &out) != 0)
        rc = gl_http_reply_error(req, 500, "cannot encode the bundle");
    else
        rc = gl_http_reply(req, 200, "application/octet-stream", hdr_immutable, 1,
                           out.data, out.len);
out:
    gl_buf_release(&b->raw);
    gl_buf_release(&out);
    free(b);
    return rc;
}

static int api_tile(struct api *a, struct gl_http_req *req)
{
    const struct tree *tr = seq_tree(a->seq);
    const uint8_t(*nodes)[GL_HASH_LEN];
    struct gl_tile t;
    struct gl_err why;
    uint32_t avail;
    uint64_t count;
    int entries;

    if (gl_tile_path_parse(req->path + 1, strlen(req->path + 1), &t, &entries, &why) !=
        0) {
        char msg[GL_ERR_REASON_MAX + 32];
        snprintf(msg, sizeof(msg), "malformed tile path: %s", why.reason);
        return gl_http_reply_error(req, 400, msg);
    }
    if (entries)
        return api_entry_bundle(a, req, &t);
    count = t.level < TREE_TILE_LEVELS ? tr->range.size >> (8 * t.level) : 0;
    if (t.index > count / 256 || t.index * 256 + t.width > count)
        return gl_http_reply_error(req, 404, "no such tile");
    if (tree_tile(tr, a->store, a->cache, t.level, t.index, &nodes, &avail) != 0 ||
        avail < t.width)
        return gl_http_reply_error(req, 500, "storage read failed");
    return gl_http_reply(req, 200, "application/octet-stream", hdr_immutable, 1, nodes,
                         (size_t)t.width * GL_HASH_LEN);
}

static int api_entry(struct api *a, struct gl_http_req *req, const char *arg)
{
    uint64_t index;
    cJSON *obj;

    if (gl_parse_u64(arg, strlen(arg), &index) != 0)
        return gl_http_reply_error(req, 400, "the entry index must be a decimal number");
    if (index >= seq_tree(a->seq)->range.size)
        return gl_http_reply_error(req, 404, "no such entry");
    if ((obj = cJSON_CreateObject()) == NULL || json_entry(a, obj, index, 0) != 0) {
        cJSON_Delete(obj);
        return gl_http_reply_error(req, 500, "storage read failed");
    }
    return reply_json(req, NULL, 200, obj);
}

static int api_inclusion(struct api *a, struct gl_http_req *req)
{
    uint64_t size = seq_tree(a->seq)->range.size, tree_size = size, index = 0;
    uint8_t leaf[GL_HASH_LEN], proof[GL_MERKLE_MAX_PROOF][GL_HASH_LEN];
    struct tree_reader r;
    struct gl_hash_source src;
    size_t len;
    int hi = query_u64(req->query, "index", &index),
        hl = query_hash(req->query, "leaf_hash", leaf);
    int hs = query_u64(req->query, "tree_size", &tree_size);
    cJSON *obj;

    if (hi < 0 || hl < 0 || hs < 0 || hi + hl != 1)
        return gl_http_reply_error(req, 400,
                                   "give exactly one of index=<n> or leaf_hash=<hex>, "
                                   "and optionally tree_size=<n>");
    if (tree_size > size)
        return gl_http_reply_error(req, 400, "tree_size is larger than the log");
    if (hl == 1) {
        int rc = store_find_leaf(a->store, leaf, &index);
        if (rc == GL_ENOTFOUND || (rc == 0 && index >= size))
            return gl_http_reply_error(req, 404, "no entry with that leaf hash");
        if (rc != 0)
            return gl_http_reply_error(req, 500, "storage read failed");
    }
    if (index >= tree_size)
        return gl_http_reply_error(req, 400, "the entry is not in a tree of that size");
    api_reader(a, &r, &src);
    if (gl_merkle_prove_inclusion(&src, index, tree_size, proof, &len) != 0)
        return gl_http_reply_error(req, 500, "cannot compute the proof");
    if ((obj = cJSON_CreateObject()) == NULL ||
        !cJSON_AddNumberToObject(obj, "index", (double)index) ||
        !cJSON_AddNumberToObject(obj, "tree_size", (double)tree_size) ||
        json_hashes(obj, gl_hashes_const(proof), len) != 0) {
        cJSON_Delete(obj);
        obj = NULL;
    }
    return reply_json(req, NULL, 200, obj);
}

static int api_consistency(struct api *a, struct gl_http_req *req)
{
    uint64_t size = seq_tree(a->seq)->range.size, first, second;
    uint8_t proof[GL_MERKLE_MAX_PROOF][GL_HASH_LEN];
    struct tree_reader r;
    struct gl_hash_source src;
    size_t len;
    cJSON *obj;

    if (query_u64(req->query, "first", &first) != 1 ||
        query_u64(req->query, "second", &second) != 1)
        return gl_http_reply_error(req, 400, "give first=<m> and second=<n>");
    if (first > second || second > size)
        return gl_http_reply_error(req, 400, "need first <= second <= the tree size");
    api_reader(a, &r, &src);
    if (gl_merkle_prove_consistency(&src, first, second, proof, &len) != 0)
        return gl_http_reply_error(req, 500, "cannot compute the proof");
    if ((obj = cJSON_CreateObject()) == NULL ||
        json_hashes(obj, gl_hashes_const(proof), len) != 0) {
        cJSON_Delete(obj);
        obj = NULL;
    }
    return reply_json(req, NULL, 200, obj);
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

static int api_lookup(struct api *a, struct gl_http_req *req)
{
    uint64_t idx[LOOKUP_MAX], served = 0;
    uint8_t key[STORE_INDEX_KEY_MAX];
    enum store_index kind;
    const char *why;
    size_t n, klen;
    cJSON *obj, *arr;

    if (lookup_key(req->query, &kind, key, &klen, &why) != 0)
        return gl_http_reply_error(req, 400, why);
    if (api_checkpoint_note(a, &served) == NULL)
        served = 0;
    if (store_find_index(a->store, kind, key, klen, served, idx, LOOKUP_MAX, &n) != 0)
        return gl_http_reply_error(req, 500, "storage read failed");
    if ((obj = cJSON_CreateObject()) == NULL ||
        (arr = cJSON_AddArrayToObject(obj, "statements")) == NULL) {
        cJSON_Delete(obj);
        return gl_http_reply_error(req, 500, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        cJSON *e = cJSON_CreateObject();
        if (e == NULL || !cJSON_AddItemToArray(arr, e) ||
            json_entry(a, e, idx[i], 1) != 0) {
            cJSON_Delete(obj);
            return gl_http_reply_error(req, 500, "storage read failed");
        }
    }
    return reply_json(req, NULL, 200, obj);
}

static int api_healthz(struct api *a, struct gl_http_req *req)
{
    const struct seq_stats *st = seq_stats(a->seq);
    double age = (double)time(NULL) - st->last_checkpoint;
    double limit = 2.0 * a->checkpoint_interval_s + 10;

    if (st->storage_failed)
        return gl_http_reply_error(req, 503, "storage is failing: the last write failed");
    if (a->checkpoint_interval_s > 0 && age > limit)
        return gl_http_reply_error(req, 503, "the checkpoint is stale");
    return gl_http_reply_text(req, 200, "ok\n");
}

static int api_metrics(struct api *a, struct gl_http_req *req)
{
    const struct seq_stats *st = seq_stats(a->seq);
    struct gl_http_stats hs;
    uint64_t hits = 0, misses = 0;
    struct gl_buf b;
    int rc = 0;

    memset(&hs, 0, sizeof(hs));
    if (a->http != NULL)
        gl_http_server_stats(a->http, &hs);
    tilecache_stats(a->cache, &hits, &misses);
    gl_buf_init(&b, 8 << 20); /* room for two series per submitter key (4096) */
#define VAL(n, t, h, v)                                                                  \
    if (rc == 0)                                                                         \
    rc = gl_metrics_value(&b, n, t, h, (double)(v))
    VAL("glasslog_tree_size", "gauge", "Entries in the published tree.",
        seq_tree(a->seq)->range.size);
    VAL("glasslog_appends_total", "counter", "New entries appended.", st->appends);
    VAL("glasslog_duplicates_total", "counter",
        "Submissions answered with an existing entry.", st->duplicates);
    VAL("glasslog_batches_total", "counter", "Batches made durable.", st->batches);
    VAL("glasslog_write_failures_total", "counter", "Batches whose write failed.",
        st->write_failures);
    VAL("glasslog_pool_entries", "gauge", "Submissions waiting for a batch.", st->pool);
    VAL("glasslog_pool_reserved", "gauge", "Pool slots in use (incl. being verified).",
        st->reserved);
    VAL("glasslog_checkpoint_age_seconds", "gauge",
        "Seconds since the checkpoint was signed.",
        (double)time(NULL) - st->last_checkpoint);
    VAL("glasslog_storage_failed", "gauge", "1 if the last write failed.",
        st->storage_failed);
    VAL("glasslog_tile_cache_hits_total", "counter", "Tile cache hits.", hits);
    VAL("glasslog_tile_cache_misses_total", "counter", "Tile cache misses.", misses);
    VAL("glasslog_resident_memory_bytes", "gauge", "Resident set size.",
        gl_metrics_rss_bytes());
    VAL("glasslog_parked_appends", "gauge",
        "Durable appends waiting for a served checkpoint (witness cosignatures).",
        a->nwaiting);
    VAL("glasslog_parked_gone_total", "counter",
        "Parked appends freed because their client went away.", a->parked_gone);
#undef VAL
    if (rc == 0)
        rc = gl_metrics_http(&b, "glasslog_http", &hs);
    if (rc == 0 && a->pub != NULL)
        rc = publish_metrics(a->pub, &b);
    if (rc == 0 && a->limits != NULL)
        rc = ratelimit_render(a->submitters, a->limits, a->nsubmitters, uv_now(a->loop),
                              &b);
    if (rc == 0)
        rc = gl_metrics_hist_render(&st->batch_size, "glasslog_batch_entries",
                                    "Entries per batch.", &b);
    if (rc == 0)
        rc = gl_metrics_hist_render(&st->queue_wait, "glasslog_queue_wait_seconds",
                                    "Time from submission to batch cut.", &b);
    if (rc == 0)
        rc = gl_metrics_hist_render(&st->integrate, "glasslog_integrate_seconds",
                                    "Time from batch cut to durable.", &b);
    rc = rc != 0 ? gl_http_reply_error(req, 500, "metrics too large")
                 : gl_http_reply(req, 200, "text/plain; version=0.0.4", hdr_nocache, 1,
                                 b.data, b.len);
    gl_buf_release(&b);
    return rc;
}

/* --- routing -------------------------------------------------------------------- */

static int is_get(const struct gl_http_req *req)
{
    return strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
}

static int method_not_allowed(struct gl_http_req *req, const char *allow)
{
    const struct gl_http_header h[] = {{"Allow", allow}, {"Cache-Control", "no-store"}};
    static const char body[] = "{\"error\":\"method not allowed\"}";

    return gl_http_reply(req, 405, "application/json", h, 2, body, sizeof(body) - 1);
}

int api_handle(void *ctx, struct gl_http_req *req)
{
    struct api *a = ctx;
    const char *p = req->path;

    if (strcmp(p, "/api/v1/add") == 0)
        return strcmp(req->method, "POST") == 0 ? api_add(a, req)
                                                : method_not_allowed(req, "POST");
    if (!is_get(req))
        return method_not_allowed(req, "GET, HEAD");
    if (strcmp(p, "/checkpoint") == 0)
        return api_checkpoint(a, req);
    if (gl_str_prefix(p, "/tile/"))
        return api_tile(a, req);
    if (gl_str_prefix(p, "/api/v1/entries/"))
        return api_entry(a, req, p + GL_LIT_LEN("/api/v1/entries/"));
    if (strcmp(p, "/api/v1/proof/inclusion") == 0)
        return api_inclusion(a, req);
    if (strcmp(p, "/api/v1/proof/consistency") == 0)
        return api_consistency(a, req);
    if (strcmp(p, "/api/v1/lookup") == 0)
        return api_lookup(a, req);
    if (strcmp(p, "/healthz") == 0)
        return api_healthz(a, req);
    if (strcmp(p, "/metrics") == 0)
        return api_metrics(a, req);
    return web_handle(a->web, req); /* the explorer, /policy, or 404 */
}

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
#include "glasslog/statement.h"
#include "glasslog/tlogproof.h"
#include "query.h"
#include "text.h"
#include "utf8.h"

#define QUERY_VALUE_MAX 128

static const struct gl_http_header hdr_nocache[] = {{"Cache-Control", "no-store"}};

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

static void reader_of(const struct readapi_view *v, struct tree_reader *r,
                      struct gl_hash_source *src)
{
    r->t = v->tree;
    r->s = v->store;
    r->c = v->cache;
    tree_source(r, src);
}

int readapi_tlogproof(const struct readapi_view *v, uint64_t index, struct gl_buf *out)
{
    uint64_t size = 0;
    const struct gl_buf *ck = v->checkpoint(v->ctx, &size);
    struct gl_tlogproof tp; /* 2 KiB: on the stack, not the heap, per append */
    struct tree_reader r;
    struct gl_hash_source src;
    int rc;

    if (ck == NULL || index >= size || size > v->tree->range.size)
        return GL_ESTATE;
    memset(&tp, 0, sizeof(tp));
    reader_of(v, &r, &src);
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
static int json_entry(const struct readapi_view *v, cJSON *obj, uint64_t index,
                      int with_proof)
{
    struct gl_buf e, proof;
    uint8_t leaf[GL_HASH_LEN];
    char hex[GL_HASH_HEX_LEN + 1];
    int rc;

    gl_buf_init(&e, GL_STATEMENT_MAX_SIZE);
    gl_buf_init(&proof, 1 << 16);
    if ((rc = store_get_entry(v->store, index, &e)) != 0 ||
        (rc = gl_merkle_leaf_hash(e.data, e.len, leaf)) != 0)
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
    if (with_proof && ((rc = readapi_tlogproof(v, index, &proof)) != 0 ||
                       !cJSON_AddStringToObject(obj, "proof", (const char *)proof.data)))
        rc = rc ? rc : GL_ENOMEM;
out:
    gl_buf_release(&e);
    gl_buf_release(&proof);
    return rc;
}

/* --- handlers ----------------------------------------------------------------------- */

static int read_entry(const struct readapi_view *v, struct gl_http_req *req,
                      const char *arg)
{
    uint64_t index;
    cJSON *obj;
    int rc = 0;

    if (gl_parse_u64(arg, strlen(arg), &index) != 0)
        return gl_http_reply_error(req, 400, "the entry index must be a decimal number");
    if (index >= v->size)
        return gl_http_reply_error(req, 404, "no such entry");
    if ((obj = cJSON_CreateObject()) == NULL ||
        (rc = json_entry(v, obj, index, 0)) != 0) {
        cJSON_Delete(obj);
        if (rc == GL_EPARSE)
            return gl_http_reply_error(req, 422,
                                       "the entry is not UTF-8 text without NULs: "
                                       "read it from the entry bundles (tile/entries)");
        return gl_http_reply_error(req, 500, "storage read failed");
    }
    return readapi_reply_json(req, NULL, 200, obj);
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

static int read_inclusion(const struct readapi_view *v, struct gl_http_req *req)
{
    static const char *const names[] = {"index", "leaf_hash", "tree_size"};
    uint64_t size = v->size, tree_size = size, index = 0;
    uint8_t leaf[GL_HASH_LEN], proof[GL_MERKLE_MAX_PROOF][GL_HASH_LEN];
    struct tree_reader r;
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
        int rc = store_find_leaf(v->store, leaf, &index);
        if (rc == GL_ENOTFOUND || (rc == 0 && index >= size))
            return gl_http_reply_error(req, 404, "no entry with that leaf hash");
        if (rc != 0)
            return gl_http_reply_error(req, 500, "storage read failed");
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
    reader_of(v, &r, &src);
    if (gl_merkle_prove_inclusion(&src, index, tree_size, proof, &len) != 0)
        return gl_http_reply_error(req, 500, "cannot compute the proof");
    if ((obj = cJSON_CreateObject()) == NULL ||
        !cJSON_AddNumberToObject(obj, "index", (double)index) ||
        !cJSON_AddNumberToObject(obj, "tree_size", (double)tree_size) ||
        json_hashes(obj, gl_hashes_const(proof), len) != 0) {
        cJSON_Delete(obj);
        obj = NULL;
    }
    return readapi_reply_json(req, NULL, 200, obj);
}

/* RFC 9162 2.1.4: a consistency proof is defined for 0 < first <= second
 * only (first = 0 is refused, as Go's tlog does). */
static int read_consistency(const struct readapi_view *v, struct gl_http_req *req)
{
    static const char *const names[] = {"first", "second"};
    uint64_t size = v->size, first, second;
    uint8_t proof[GL_MERKLE_MAX_PROOF][GL_HASH_LEN];
    struct tree_reader r;
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
    reader_of(v, &r, &src);
    if (gl_merkle_prove_consistency(&src, first, second, proof, &len) != 0)
        return gl_http_reply_error(req, 500, "cannot compute the proof");
    if ((obj = cJSON_CreateObject()) == NULL ||
        json_hashes(obj, gl_hashes_const(proof), len) != 0) {
        cJSON_Delete(obj);
        obj = NULL;
    }
    return readapi_reply_json(req, NULL, 200, obj);
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
static int read_lookup(const struct readapi_view *v, struct gl_http_req *req)
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
    if (store_find_index(v->store, kind, key, klen, from, served, idx,
                         READAPI_LOOKUP_MAX + 1, &n) != 0)
        return gl_http_reply_error(req, 500, "storage read failed");
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
        if (e == NULL || !cJSON_AddItemToArray(arr, e) ||
            json_entry(v, e, idx[i], 1) != 0) {
            cJSON_Delete(obj);
            return gl_http_reply_error(req, 500, "storage read failed");
        }
    }
    return readapi_reply_json(req, NULL, 200, obj);
}

/* --- routing ------------------------------------------------------------------------ */

int readapi_wants(const char *path)
{
    return gl_str_prefix(path, "/api/v1/entries/") ||
           strcmp(path, "/api/v1/proof/inclusion") == 0 ||
           strcmp(path, "/api/v1/proof/consistency") == 0 ||
           strcmp(path, "/api/v1/lookup") == 0;
}

int readapi_handle(const struct readapi_view *v, struct gl_http_req *req,
                   const char *path)
{
    assert(v->size <= v->tree->range.size);
    if (gl_str_prefix(path, "/api/v1/entries/"))
        return read_entry(v, req, path + GL_LIT_LEN("/api/v1/entries/"));
    if (strcmp(path, "/api/v1/proof/inclusion") == 0)
        return read_inclusion(v, req);
    if (strcmp(path, "/api/v1/proof/consistency") == 0)
        return read_consistency(v, req);
    if (strcmp(path, "/api/v1/lookup") == 0)
        return read_lookup(v, req);
    return gl_http_reply_error(req, 404, "not found");
}

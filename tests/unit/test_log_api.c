/*
 * test_log_api: glasslogd's HTTP interface (log/api.c) end to end in one
 * process: a real gl_http_server on 127.0.0.1:0 with api_handle, the
 * sequencer and a mem store, no witnesses, the loop in the test thread;
 * a client thread talks to it with lib/net/http_client and records every
 * check (cmocka cannot fail from another thread); the test thread asserts
 * after the loop ended that every check passed. Each test runs its
 * scenario against a new log.
 *
 * The store is seeded with the reference tree of tests/vectors at size
 * 1000 (leaf i is the ASCII decimal of i), signed with notes/log.key, so
 * the log serves exactly the Go-made tiles-1000 directory: the checkpoint,
 * tiles and entry bundles are compared byte for byte with it, and proofs
 * with tree/inclusion.txt and consistency.txt. Then 30 statements are
 * appended (past the tile boundary at 1024) and everything is checked
 * against recomputation: leaf hashes, MTH roots, tiles and bundles encoded
 * by the test, proofs verified with lib/merkle.h and gl_tlogproof_verify.
 *
 * Covered: append (200 with index, leaf_hash, duplicate and a verifying
 * tlog-proof; the duplicate; 400 malformed; 403 unknown submitter and bad
 * signature; 405 with Allow), lookup by sha256, subject, subject and
 * version (percent-encoded values, '+' and the characters the query
 * syntax uses), its tree_size and its 400s, entries and their 400/404,
 * inclusion and consistency proofs against the checkpoint and their
 * 400/404 (404 naming this server's size for a tree past it; first=0
 * refused), the query rules (a known parameter twice or without a value
 * is 400 naming it; unknown ones and empty segments are ignored), tiles
 * and entry bundles (partial and full) and their 400/404, /healthz,
 * /metrics with the counters, 404 for unknown paths; every error says
 * Cache-Control: no-store. The rate limit on a shared store (a fake: the
 * mem store's ops with a lease, its buckets another mem store's): a
 * forged statement naming the limited key makes no bucket call, a
 * verified append exactly one, and an append the mirror admits but the
 * shared bucket (emptied by "another front-end") cannot pay is 429 after
 * its signature check.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "../../log/api.h"
#include "../../log/readapi.h"
#include "../../log/store_impl.h"
#include "glasslog/checkpoint.h"
#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/key.h"
#include "glasslog/merkle.h"
#include "glasslog/statement.h"
#include "glasslog/tlogproof.h"
#include "net/http_client.h"
#include "net/http_server.h"

#define SEED 1000 /* the reference tree the store starts with */
#define NAPPEND                                                                          \
    110 /* statements appended (past the tile boundary at 1024; more                     \
         * fillers than one lookup answer holds) */
#define MAXLEAVES (SEED + NAPPEND + 8)

/* The subject of appended statement k: the first four test the lookup's
 * decoding, the rest fill the log past a tile boundary. */
static const char *subject_of(int k)
{
    static const char *const first[4] = {"my+app", "my+app", "other", "a&b=c%d"};

    return k < 4 ? first[k] : "filler";
}

/* Appended statements CHAIN0..CHAIN0+3 are a v2 chain about the source
 * digest SHA-256("src"): its source statement, a build, a rebuild and an
 * audit report (which also audits SHA-256("other src")). */
#define CHAIN0 4

static void chain_statement(const struct gl_signer *sub, int k, const char *version,
                            struct gl_buf *out, uint8_t sha256[32])
{
    static const enum gl_statement_kind kinds[4] = {
        GL_STATEMENT_SOURCE, GL_STATEMENT_BUILD, GL_STATEMENT_REBUILD,
        GL_STATEMENT_AUDIT_REPORT};
    struct gl_statement_fields f;
    uint8_t other[32];

    memset(&f, 0, sizeof(f));
    f.format = 2;
    f.kind = kinds[k - CHAIN0];
    f.subject = "filler";
    f.subject_len = 6;
    f.version = version;
    f.version_len = strlen(version);
    f.time = 1700000000;
    assert_int_equal(gl_sha256("src", 3, f.source), 0);
    assert_int_equal(gl_sha256("other src", 9, other), 0);
    memcpy(f.sha256, f.source, 32);
    if (f.kind != GL_STATEMENT_SOURCE)
        assert_int_equal(gl_sha256(version, strlen(version), f.sha256), 0);
    if (f.kind == GL_STATEMENT_AUDIT_REPORT) {
        int lt = memcmp(f.source, other, 32) < 0;
        memcpy(f.audited[0], lt ? f.source : other, 32);
        memcpy(f.audited[1], lt ? other : f.source, 32);
        f.naudited = 2;
        f.scope = "everything";
        f.scope_len = 10;
    }
    assert_int_equal(gl_statement_sign(&f, sub, out, NULL), 0);
    memcpy(sha256, f.sha256, 32);
}

struct fx;
typedef void (*client_fn)(struct fx *f);

struct fx {
    client_fn scenario;
    int with_appends; /* append the statements before the scenario */
    uv_loop_t loop;
    uv_async_t done;
    struct store *s;
    struct seq *seq;
    struct tilecache *cache;
    struct api api;
    struct gl_http_server *http;
    struct gl_signer key, sub, stranger;
    struct gl_verifier vkey, subv;
    char base[64];
    int closed_parts;
    /* the log as the test knows it */
    uint8_t (*leaves)[32]; /* leaf hashes by index */
    uint64_t size;
    struct gl_buf stmt[NAPPEND];
    uint8_t stmt_sha[NAPPEND][32], stmt_leaf[NAPPEND][32];
    char version[NAPPEND][16];
    struct gl_buf unknown, forged; /* by a key not listed; text changed after signing */
    uint64_t appends, duplicates;  /* counted by the client */
    struct ratelimit limit;        /* the submitter's bucket (client_ratelimit) */
    /* client thread */
    struct gl_http_client *c;
    int checks, failures, before; /* before: checks made before the scenario */
    char failed[16][256];
};

/* --- the client's checks ------------------------------------------------------------ */

static int check_(struct fx *f, int ok, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int check_(struct fx *f, int ok, int line, const char *fmt, ...)
{
    va_list ap;

    f->checks++;
    if (ok)
        return 1;
    if (f->failures < 16) {
        int n = snprintf(f->failed[f->failures], sizeof(f->failed[0]), "line %d: ", line);
        va_start(ap, fmt);
        vsnprintf(f->failed[f->failures] + n, sizeof(f->failed[0]) - (size_t)n, fmt, ap);
        va_end(ap);
    }
    f->failures++;
    return 0;
}

#define CHECK(f, cond) check_(f, (cond), __LINE__, "%s", #cond)
#define CHECKF(f, cond, ...) check_(f, (cond), __LINE__, __VA_ARGS__)

struct reply {
    long status;
    struct gl_buf body;
    char ctype[GL_HTTP_MAX_CAPTURE];
    char header[GL_HTTP_MAX_CAPTURE];
    cJSON *json; /* when the body is JSON */
};

static void reply_free(struct reply *r)
{
    gl_buf_release(&r->body);
    cJSON_Delete(r->json);
    memset(r, 0, sizeof(*r));
}

/* One request; r gets the answer (status 0 if none came). */
static void request(struct fx *f, const char *method, const char *path, const void *body,
                    size_t len, const char *capture, struct reply *r)
{
    struct gl_http_request_spec spec;
    struct gl_http_response resp;
    char url[GL_HTTP_CLIENT_MAX_URL];

    memset(r, 0, sizeof(*r));
    snprintf(url, sizeof(url), "%s%s", f->base, path);
    memset(&spec, 0, sizeof(spec));
    spec.method = method;
    spec.url = url;
    spec.content_type = body != NULL ? "text/plain" : NULL;
    spec.body = body;
    spec.body_len = len;
    spec.max_response = (size_t)16 << 20;
    spec.timeout_ms = 20000;
    spec.capture_header = capture;
    if (gl_http_request(f->c, &spec, &resp) != 0)
        CHECKF(f, 0, "%s %s: no answer (%s)", method, path, resp.error);
    r->status = resp.status;
    r->body = resp.body;
    memcpy(r->ctype, resp.content_type, sizeof(r->ctype));
    memcpy(r->header, resp.header, sizeof(r->header));
    if (strncmp(r->ctype, "application/json", 16) == 0)
        r->json = cJSON_ParseWithLength((const char *)r->body.data, r->body.len);
}

static void get(struct fx *f, const char *path, struct reply *r)
{
    request(f, "GET", path, NULL, 0, NULL, r);
}

/* path answers status with a JSON error whose text contains what, and
 * "Cache-Control: no-store" (no cache may keep an error). */
static void expect_error(struct fx *f, const char *method, const char *path,
                         const void *body, size_t len, long status, const char *what)
{
    struct reply r;
    const cJSON *e;

    request(f, method, path, body, len, "Cache-Control", &r);
    e = cJSON_GetObjectItemCaseSensitive(r.json, "error");
    CHECKF(f,
           r.status == status && cJSON_IsString(e) &&
               strstr(e->valuestring, what) != NULL && strcmp(r.header, "no-store") == 0,
           "%s %s: got %ld %.*s (Cache-Control \"%s\"), want %ld with \"%s\" (no-store)",
           method, path, r.status, (int)(r.body.len > 150 ? 150 : r.body.len),
           (const char *)r.body.data, r.header, status, what);
    reply_free(&r);
}

static uint64_t json_u64(const cJSON *o, const char *name, int *ok)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    if (!cJSON_IsNumber(v) || v->valuedouble < 0) {
        *ok = 0;
        return 0;
    }
    return (uint64_t)v->valuedouble;
}

static const char *json_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsString(v) ? v->valuestring : "";
}

static void hex32(const uint8_t h[32], char out[65])
{
    gl_hex_encode(h, 32, out, 65);
}

/* "hashes": [hex...] into proof; 1 if well formed. */
static int json_proof(const cJSON *o, uint8_t (*proof)[32], size_t *len)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "hashes"), *h;

    *len = 0;
    if (!cJSON_IsArray(arr))
        return 0;
    cJSON_ArrayForEach(h, arr)
    {
        if (*len >= GL_MERKLE_MAX_PROOF || !cJSON_IsString(h) ||
            gl_hex_decode_exact(h->valuestring, strlen(h->valuestring), proof[*len], 32,
                                1) != 0)
            return 0;
        (*len)++;
    }
    return 1;
}

/* The root of the log at size n: the vectors' at SEED and below, else the
 * recursive MTH of the leaves the test knows. */
static void root_at(struct fx *f, uint64_t n, uint8_t out[32])
{
    if (n > SEED || !tu_ref_root(n, out))
        tu_mth((const uint8_t(*)[32])f->leaves, n, out);
}

/* The served checkpoint, verified with the log key: its size and root. */
static int served(struct fx *f, uint64_t *size, uint8_t root[32])
{
    struct reply r;
    struct gl_checkpoint cp;
    int ok;

    get(f, "/checkpoint", &r);
    ok = CHECK(f, r.status == 200) &&
         CHECK(f, gl_checkpoint_open((const char *)r.body.data, r.body.len, &f->vkey, &cp,
                                     NULL, NULL) == 0);
    if (ok) {
        *size = cp.size;
        memcpy(root, cp.root, 32);
    }
    reply_free(&r);
    return ok;
}

/* A tlog-proof (text) proves leaf at index against a checkpoint signed by
 * the log key whose root is the recomputed one. */
static void check_tlogproof(struct fx *f, const char *text, const uint8_t leaf[32],
                            uint64_t index)
{
    struct gl_tlogproof *p = NULL;
    struct gl_checkpoint cp;
    struct gl_err what;
    uint8_t root[32];

    if (!CHECK(f, gl_tlogproof_parse(text, strlen(text), &p, NULL) == 0))
        return;
    CHECK(f, p->index == index);
    if (CHECKF(f, gl_tlogproof_verify(p, leaf, &f->vkey, &cp, &what) == 0,
               "proof of %llu: %s", (unsigned long long)index, what.reason)) {
        CHECK(f, cp.size > index && cp.size <= f->size);
        root_at(f, cp.size, root);
        CHECK(f, memcmp(cp.root, root, 32) == 0);
    }
    gl_tlogproof_free(p);
}

/* GET path answers 200 with exactly want (len bytes). */
static void expect_bytes(struct fx *f, const char *path, const void *want, size_t len)
{
    struct reply r;

    get(f, path, &r);
    CHECKF(f, r.status == 200 && r.body.len == len && memcmp(r.body.data, want, len) == 0,
           "GET %s: %ld, %zu bytes (want 200, %zu bytes equal)", path, r.status,
           r.body.len, len);
    reply_free(&r);
}

/* GET path answers 200 with the vector file of the same path in tiles-1000. */
static void expect_vector(struct fx *f, const char *path)
{
    char file[4096];
    size_t len;
    char *want;

    snprintf(file, sizeof(file), "%s/tiles-1000%s", tu_vectors(), path);
    want = tu_read_file(file, &len);
    if (CHECKF(f, want != NULL, "cannot read %s", file))
        expect_bytes(f, path, want, len);
    free(want);
}

/* --- the client's scenario
 * -------------------------------------------------------------- */

static void client_seeded(struct fx *f)
{
    static const char *const tiles[] = {
        "/tile/0/000",       "/tile/0/001",       "/tile/0/002",
        "/tile/0/003.p/232", "/tile/1/000.p/3",   "/tile/entries/000",
        "/tile/entries/001", "/tile/entries/002", "/tile/entries/003.p/232",
    };
    static const char *const missing[] = {
        "/tile/0/003",       "/tile/0/004",
        "/tile/0/003.p/233", "/tile/1/000",
        "/tile/1/000.p/4",   "/tile/2/000.p/1",
        "/tile/entries/003", "/tile/entries/004.p/1",
        "/tile/8/000.p/1",   "/tile/entries/x001/000",
    };
    static const char *const malformed[] = {
        "/tile/0/3",       "/tile/0/abc",       "/tile/x",
        "/tile/0/000.p/0", "/tile/0/000.p/256", "/tile/entries/000.p/",
    };
    struct tu_proof_case *cases = calloc(64, sizeof(*cases));
    struct reply r;
    char path[256], hex[65];
    uint8_t proof[GL_MERKLE_MAX_PROOF][32];
    size_t n, len;
    int ok;

    if (!CHECK(f, cases != NULL))
        return;
    expect_vector(f, "/checkpoint");
    for (size_t i = 0; i < sizeof(tiles) / sizeof(tiles[0]); i++)
        expect_vector(f, tiles[i]);
    for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++)
        expect_error(f, "GET", missing[i], NULL, 0, 404, "no such");
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
        expect_error(f, "GET", malformed[i], NULL, 0, 400, "malformed tile path");

    /* entries of the reference tree */
    get(f, "/api/v1/entries/999", &r);
    ok = 1;
    hex32(f->leaves[999], hex);
    CHECK(f, r.status == 200 && json_u64(r.json, "index", &ok) == 999 && ok &&
                 strcmp(json_str(r.json, "leaf_hash"), hex) == 0 &&
                 strcmp(json_str(r.json, "statement"), "999") == 0);
    reply_free(&r);
    expect_error(f, "GET", "/api/v1/entries/1000", NULL, 0, 404, "no such entry");
    expect_error(f, "GET", "/api/v1/entries/abc", NULL, 0, 400, "decimal");
    expect_error(f, "GET", "/api/v1/entries/", NULL, 0, 400, "decimal");
    expect_error(f, "GET", "/api/v1/entries/-1", NULL, 0, 400, "decimal");
    expect_error(f, "GET", "/api/v1/entries/0999", NULL, 0, 400, "decimal");

    /* the vectors' proofs, exactly */
    n = tu_read_proofs("tree/inclusion.txt", 1, cases, 64);
    for (size_t i = 0; i < n; i++) {
        if (cases[i].b > SEED)
            continue;
        snprintf(path, sizeof(path), "/api/v1/proof/inclusion?index=%llu&tree_size=%llu",
                 (unsigned long long)cases[i].a, (unsigned long long)cases[i].b);
        for (int by_leaf = 0; by_leaf < 2; by_leaf++) {
            if (by_leaf) {
                hex32(cases[i].leaf, hex);
                snprintf(path, sizeof(path),
                         "/api/v1/proof/inclusion?tree_size=%llu&leaf_hash=%s",
                         (unsigned long long)cases[i].b, hex);
            }
            get(f, path, &r);
            ok = 1;
            CHECKF(f,
                   r.status == 200 && json_u64(r.json, "index", &ok) == cases[i].a &&
                       json_u64(r.json, "tree_size", &ok) == cases[i].b && ok &&
                       json_proof(r.json, proof, &len) && len == cases[i].len &&
                       memcmp(proof, cases[i].proof, len * 32) == 0,
                   "GET %s: %ld %.*s", path, r.status, (int)r.body.len,
                   (const char *)r.body.data);
            reply_free(&r);
        }
    }
    n = tu_read_proofs("tree/consistency.txt", 0, cases, 64);
    for (size_t i = 0; i < n; i++) {
        if (cases[i].b > SEED)
            continue;
        snprintf(path, sizeof(path), "/api/v1/proof/consistency?first=%llu&second=%llu",
                 (unsigned long long)cases[i].a, (unsigned long long)cases[i].b);
        get(f, path, &r);
        CHECKF(f,
               r.status == 200 && json_proof(r.json, proof, &len) &&
                   len == cases[i].len && memcmp(proof, cases[i].proof, len * 32) == 0,
               "GET %s: %ld", path, r.status);
        reply_free(&r);
    }
    free(cases);
}

/* POST statement k; checks the answer and the proof. */
static void append(struct fx *f, int k, int want_dup, uint64_t want_index)
{
    struct reply r;
    char hex[65];
    int ok = 1;
    const cJSON *dup;

    request(f, "POST", "/api/v1/add", f->stmt[k].data, f->stmt[k].len, NULL, &r);
    hex32(f->stmt_leaf[k], hex);
    dup = cJSON_GetObjectItemCaseSensitive(r.json, "duplicate");
    if (!want_dup) { /* it is in the log now (the reply waits until it is durable) */
        memcpy(f->leaves[want_index], f->stmt_leaf[k], 32);
        f->size = want_index + 1;
        f->appends++;
    } else {
        f->duplicates++;
    }
    if (CHECKF(f,
               r.status == 200 && json_u64(r.json, "index", &ok) == want_index && ok &&
                   strcmp(json_str(r.json, "leaf_hash"), hex) == 0 && cJSON_IsBool(dup) &&
                   cJSON_IsTrue(dup) == want_dup,
               "append %d: %ld %.*s", k, r.status, (int)r.body.len,
               (const char *)r.body.data))
        check_tlogproof(f, json_str(r.json, "proof"), f->stmt_leaf[k], want_index);
    reply_free(&r);
}

static void client_appends(struct fx *f)
{
    struct reply r;
    uint64_t size;
    uint8_t root[32], want[32];

    for (int k = 0; k < NAPPEND; k++)
        append(f, k, 0, SEED + (uint64_t)k);
    append(f, 0, 1, SEED);
    append(f, 2, 1, SEED + 2);

    /* refused: nothing logged */
    expect_error(f, "POST", "/api/v1/add", "garbage", 7, 400, "malformed statement");
    expect_error(f, "POST", "/api/v1/add", "", 0, 400, "malformed statement");
    expect_error(f, "POST", "/api/v1/add", f->unknown.data, f->unknown.len, 403,
                 "unknown submitter");
    expect_error(f, "POST", "/api/v1/add", f->forged.data, f->forged.len, 403,
                 "does not verify");
    request(f, "GET", "/api/v1/add", NULL, 0, "Allow", &r);
    CHECKF(f, r.status == 405 && strcmp(r.header, "POST") == 0,
           "GET /api/v1/add: %ld Allow %s", r.status, r.header);
    reply_free(&r);
    request(f, "POST", "/checkpoint", "x", 1, "Allow", &r);
    CHECKF(f, r.status == 405 && strcmp(r.header, "GET, HEAD") == 0,
           "POST /checkpoint: %ld Allow %s", r.status, r.header);
    reply_free(&r);
    request(f, "POST", "/tile/0/000", "x", 1, "Allow", &r);
    CHECK(f, r.status == 405 && strcmp(r.header, "GET, HEAD") == 0);
    reply_free(&r);
    if (served(f, &size, root)) {
        CHECK(f, size == SEED + NAPPEND);
        root_at(f, SEED + NAPPEND, want);
        CHECK(f, memcmp(root, want, 32) == 0);
    }
}

/* GET lookup?query answers the appended statements ks[0..n), ascending,
 * each with a verifying proof, and "next" (UINT64_MAX: none). */
static void expect_lookup_page(struct fx *f, const char *query, const int *ks, int n,
                               uint64_t next)
{
    char path[1024];
    struct reply r;
    const cJSON *arr, *e;
    int i = 0, ok;

    snprintf(path, sizeof(path), "/api/v1/lookup?%s", query);
    get(f, path, &r);
    arr = cJSON_GetObjectItemCaseSensitive(r.json, "statements");
    ok = 1;
    if (!CHECKF(f,
                r.status == 200 && cJSON_IsArray(arr) && cJSON_GetArraySize(arr) == n &&
                    json_u64(r.json, "tree_size", &ok) == f->size && ok,
                "GET %s: %ld %.*s (want %d, tree_size %llu)", path, r.status,
                (int)r.body.len, (const char *)r.body.data, n,
                (unsigned long long)f->size)) {
        reply_free(&r);
        return;
    }
    cJSON_ArrayForEach(e, arr)
    {
        int k = ks[i++];
        char hex[65];

        ok = 1;
        hex32(f->stmt_leaf[k], hex);
        CHECKF(f,
               json_u64(e, "index", &ok) == SEED + (uint64_t)k && ok &&
                   strcmp(json_str(e, "leaf_hash"), hex) == 0 &&
                   strcmp(json_str(e, "statement"), (const char *)f->stmt[k].data) == 0,
               "GET %s: entry %d", path, i - 1);
        check_tlogproof(f, json_str(e, "proof"), f->stmt_leaf[k], SEED + (uint64_t)k);
    }
    if (next == UINT64_MAX) {
        CHECKF(f, cJSON_GetObjectItemCaseSensitive(r.json, "next") == NULL,
               "GET %s: a next page", path);
    } else {
        ok = 1;
        CHECKF(f, json_u64(r.json, "next", &ok) == next && ok, "GET %s: next", path);
    }
    reply_free(&r);
}

static void expect_lookup(struct fx *f, const char *query, const int *ks, int n)
{
    expect_lookup_page(f, query, ks, n, UINT64_MAX);
}

/* Percent-encodes every byte but letters and digits (%XX upper case). */
static void pct(const char *s, char *out, size_t max)
{
    size_t n = 0;

    for (; *s != 0 && n + 4 < max; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
            out[n++] = (char)c;
        else
            n += (size_t)snprintf(out + n, max - n, "%%%02X", c);
    }
    out[n] = 0;
}

static void client_lookups(struct fx *f)
{
    char q[1024], hex[65], subj[128], ver[64], big[600];
    static const int my_app[] = {0, 1};
    int fillers[NAPPEND];

    hex32(f->stmt_sha[0], hex);
    snprintf(q, sizeof(q), "sha256=%s", hex);
    expect_lookup(f, q, (int[]){0}, 1);
    hex32(f->stmt_sha[3], hex);
    snprintf(q, sizeof(q), "sha256=%s", hex);
    expect_lookup(f, q, (int[]){3}, 1);
    expect_lookup(f, "subject=my%2Bapp", my_app, 2);
    expect_lookup(f, "subject=my%2bapp", my_app, 2); /* either case */
    expect_lookup(f, "subject=my+app", my_app, 2);   /* '+' is only a byte */
    snprintf(q, sizeof(q), "subject=my%%2Bapp&version=%s", f->version[1]);
    expect_lookup(f, q, (int[]){1}, 1);
    snprintf(q, sizeof(q), "version=%s&subject=my%%2Bapp", f->version[0]);
    expect_lookup(f, q, (int[]){0}, 1);
    pct(subject_of(3), subj, sizeof(subj));
    pct(f->version[3], ver, sizeof(ver));
    snprintf(q, sizeof(q), "subject=%s&version=%s", subj, ver);
    expect_lookup(f, q, (int[]){3}, 1);
    snprintf(q, sizeof(q), "subject=%s", subj);
    expect_lookup(f, q, (int[]){3}, 1);
    for (int k = 4; k < NAPPEND; k++)
        fillers[k - 4] = k;
    /* one page holds READAPI_LOOKUP_MAX; from=<next> gives the rest */
    assert_true(NAPPEND - 4 > READAPI_LOOKUP_MAX);
    expect_lookup_page(f, "subject=filler", fillers, READAPI_LOOKUP_MAX,
                       SEED + 4 + READAPI_LOOKUP_MAX);
    snprintf(q, sizeof(q), "subject=filler&from=%d", SEED + 4 + READAPI_LOOKUP_MAX);
    expect_lookup(f, q, fillers + READAPI_LOOKUP_MAX, NAPPEND - 4 - READAPI_LOOKUP_MAX);
    snprintf(q, sizeof(q), "from=%d&subject=filler", SEED + 10);
    expect_lookup(f, q, fillers + 6, NAPPEND - 10);
    snprintf(q, sizeof(q), "subject=filler&from=%d", SEED + NAPPEND);
    expect_lookup(f, q, NULL, 0);
    expect_lookup(f, "subject=other&version=0.0", NULL, 0);
    expect_lookup(f, "subject=nosuch", NULL, 0);
    expect_lookup(f, "subject=my", NULL, 0);
    memset(hex, 'a', 64);
    snprintf(q, sizeof(q), "sha256=%.64s", hex);
    expect_lookup(f, q, NULL, 0);
    snprintf(q, sizeof(q), "source=%.64s", hex);
    expect_lookup(f, q, NULL, 0);
    /* the source index: everything linked to a source digest */
    {
        uint8_t d[32];
        assert_int_equal(gl_sha256("src", 3, d), 0);
        hex32(d, hex);
        snprintf(q, sizeof(q), "source=%s", hex);
        expect_lookup(f, q, (int[]){CHAIN0, CHAIN0 + 1, CHAIN0 + 2, CHAIN0 + 3}, 4);
        snprintf(q, sizeof(q), "sha256=%s", hex); /* the source statement's digest */
        expect_lookup(f, q, (int[]){CHAIN0}, 1);
        assert_int_equal(gl_sha256("other src", 9, d), 0);
        hex32(d, hex);
        snprintf(q, sizeof(q), "source=%s", hex);
        expect_lookup(f, q, (int[]){CHAIN0 + 3}, 1);
        hex32(f->stmt_sha[0], hex); /* a v1 build's digest is no source */
        snprintf(q, sizeof(q), "source=%s", hex);
        expect_lookup(f, q, NULL, 0);
        snprintf(q, sizeof(q), "/api/v1/lookup?source=%s&sha256=%s", hex, hex);
        expect_error(f, "GET", q, NULL, 0, 400, "give sha256");
        snprintf(q, sizeof(q), "/api/v1/lookup?source=%s&subject=filler", hex);
        expect_error(f, "GET", q, NULL, 0, 400, "give sha256");
        snprintf(q, sizeof(q), "/api/v1/lookup?source=%.63s", hex);
        expect_error(f, "GET", q, NULL, 0, 400, "give sha256");
    }

    /* malformed lookups */
    static const char *const bad[] = {
        "",
        "sha256=xyz",
        "sha256=",
        "version=1.0",
        "subject=",
        "subject=%zz",
        "subject=a%",
        "subject=a%2",
        "subject=%20x",
        "subject=a%00b",
        "subject=x&sha256=" /* 64 below */,
        "other=1",
        "nocache",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(q, sizeof(q), "/api/v1/lookup?%s", bad[i]);
        expect_error(f, "GET", q, NULL, 0, 400, "give sha256");
    }
    /* a parameter the lookup knows: once, with a value; unknown ones and
     * empty segments are ignored */
    expect_error(f, "GET", "/api/v1/lookup?subject", NULL, 0, 400,
                 "parameter subject has no value");
    expect_error(f, "GET", "/api/v1/lookup?subject=my%2Bapp&from", NULL, 0, 400,
                 "parameter from has no value");
    expect_error(f, "GET", "/api/v1/lookup?subject=other&subject=my%2Bapp", NULL, 0, 400,
                 "parameter subject is given more than once");
    expect_error(f, "GET", "/api/v1/lookup?subject=my%2Bapp&version=1&version=1", NULL, 0,
                 400, "parameter version is given more than once");
    expect_error(f, "GET", "/api/v1/lookup?from=0&subject=my%2Bapp&from=1", NULL, 0, 400,
                 "parameter from is given more than once");
    expect_lookup(f, "subject=my%2Bapp&nocache", my_app, 2);
    expect_lookup(f, "&&_=1&subject=my%2Bapp&_=2&&", my_app, 2);
    expect_lookup(f, "subjects=x&subject=my%2Bapp&xsubject", my_app, 2);
    expect_error(f, "GET", "/api/v1/lookup?subject=filler&from=x", NULL, 0, 400,
                 "from=<index>");
    expect_error(f, "GET", "/api/v1/lookup?subject=filler&from=-1", NULL, 0, 400,
                 "from=<index>");
    hex32(f->stmt_sha[0], hex);
    for (int i = 0; i < 64; i++)
        hex[i] = hex[i] >= 'a' ? (char)(hex[i] - 32) : hex[i];
    snprintf(q, sizeof(q), "/api/v1/lookup?sha256=%s", hex); /* upper case */
    expect_error(f, "GET", q, NULL, 0, 400, "give sha256");
    hex32(f->stmt_sha[0], hex);
    snprintf(q, sizeof(q), "/api/v1/lookup?sha256=%s&subject=my%%2Bapp", hex);
    expect_error(f, "GET", q, NULL, 0, 400, "give sha256");
    memset(big, 'x', 257);
    big[257] = 0;
    snprintf(q, sizeof(q), "/api/v1/lookup?subject=%s", big); /* 257 bytes */
    expect_error(f, "GET", q, NULL, 0, 400, "give sha256");
    snprintf(q, sizeof(q), "/api/v1/lookup?subject=x&version=%s", big);
    expect_error(f, "GET", q, NULL, 0, 400, "give sha256");
}

/* Proof requests refused whatever the tree: path, status, reason. */
static const struct {
    const char *path;
    long status;
    const char *what;
} refused[] = {
    {"/api/v1/proof/inclusion", 400, "exactly one"},
    {"/api/v1/proof/inclusion?index=abc", 400, "exactly one"},
    {"/api/v1/proof/inclusion?index=%31", 400, "exactly one"},
    {"/api/v1/proof/inclusion?leaf_hash=00", 400, "exactly one"},
    {"/api/v1/proof/inclusion?index=1&tree_size=x", 400, "exactly one"},
    {"/api/v1/proof/inclusion?index", 400, "parameter index has no value"},
    {"/api/v1/proof/inclusion?tree_size=5&index", 400, "parameter index has no value"},
    {"/api/v1/proof/inclusion?index=7&index=8", 400,
     "parameter index is given more than once"},
    {"/api/v1/proof/inclusion?index=7&tree_size=9&tree_size=10", 400,
     "parameter tree_size is given more than once"},
    {"/api/v1/proof/inclusion?index=1000&tree_size=1000", 400,
     "not in a tree of that size"},
    {"/api/v1/proof/consistency", 400, "first="},
    {"/api/v1/proof/consistency?first=1", 400, "first="},
    {"/api/v1/proof/consistency?first=1&second=", 400, "first="},
    {"/api/v1/proof/consistency?first=5&second=4", 400, "first <= second"},
    {"/api/v1/proof/consistency?first=0&second=5", 400, "first must be at least 1"},
    {"/api/v1/proof/consistency?first=0&second=0", 400, "first must be at least 1"},
    {"/api/v1/proof/consistency?first=1&second=5&second=6", 400,
     "parameter second is given more than once"},
    {"/api/v1/proof/consistency?first&second=5", 400, "parameter first has no value"},
};

static void client_proofs(struct fx *f)
{
    uint8_t root[32], old[32], proof[GL_MERKLE_MAX_PROOF][32];
    uint64_t size = 0;
    struct reply r;
    char path[256], hex[65], want[128];
    size_t len;
    int ok;
    static const uint64_t firsts[] = {1, 999, 1000, 1023, 1024, SEED + NAPPEND};
    static const uint64_t idx[] = {0, 255, 999, 1000, 1023, 1024, SEED + NAPPEND - 1};

    if (!served(f, &size, root))
        return;
    root_at(f, size, old);
    CHECK(f, size == f->size && memcmp(old, root, 32) == 0);
    /* inclusion in the served tree (tree_size defaults to it) */
    for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
        for (int by_leaf = 0; by_leaf < 2; by_leaf++) {
            hex32(f->leaves[idx[i]], hex);
            if (by_leaf)
                snprintf(path, sizeof(path), "/api/v1/proof/inclusion?leaf_hash=%s", hex);
            else
                snprintf(path, sizeof(path), "/api/v1/proof/inclusion?index=%llu",
                         (unsigned long long)idx[i]);
            get(f, path, &r);
            ok = 1;
            CHECKF(f,
                   r.status == 200 && json_u64(r.json, "index", &ok) == idx[i] &&
                       json_u64(r.json, "tree_size", &ok) == size && ok &&
                       json_proof(r.json, proof, &len) &&
                       gl_merkle_verify_inclusion(idx[i], size, f->leaves[idx[i]],
                                                  (const uint8_t(*)[32])proof, len,
                                                  root) == 0,
                   "GET %s: %ld", path, r.status);
            reply_free(&r);
        }
    }
    /* in an older tree: against the recomputed root of that size */
    snprintf(path, sizeof(path), "/api/v1/proof/inclusion?index=1000&tree_size=1010");
    get(f, path, &r);
    root_at(f, 1010, old);
    CHECK(f, r.status == 200 && json_proof(r.json, proof, &len) &&
                 gl_merkle_verify_inclusion(1000, 1010, f->leaves[1000],
                                            (const uint8_t(*)[32])proof, len, old) == 0);
    reply_free(&r);
    /* consistency with the served tree */
    for (size_t i = 0; i < sizeof(firsts) / sizeof(firsts[0]); i++) {
        snprintf(path, sizeof(path), "/api/v1/proof/consistency?first=%llu&second=%llu",
                 (unsigned long long)firsts[i], (unsigned long long)size);
        get(f, path, &r);
        root_at(f, firsts[i], old);
        CHECKF(f,
               r.status == 200 && json_proof(r.json, proof, &len) &&
                   gl_merkle_verify_consistency(firsts[i], size, old, root,
                                                (const uint8_t(*)[32])proof, len) == 0,
               "GET %s: %ld", path, r.status);
        reply_free(&r);
    }

    /* refused */
    snprintf(path, sizeof(path), "/api/v1/proof/inclusion?index=1&leaf_hash=%s", hex);
    expect_error(f, "GET", path, NULL, 0, 400, "exactly one");
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        expect_error(f, "GET", refused[i].path, NULL, 0, refused[i].status,
                     refused[i].what);
    /* past this server's tree: 404 naming its size (a front-end lagging
     * behind a shared store may get such a request rightly) */
    snprintf(path, sizeof(path), "/api/v1/proof/inclusion?index=1&tree_size=%llu",
             (unsigned long long)size + 1);
    snprintf(want, sizeof(want), "tree_size %llu is past this server's tree (size %llu)",
             (unsigned long long)size + 1, (unsigned long long)size);
    expect_error(f, "GET", path, NULL, 0, 404, want);
    snprintf(path, sizeof(path), "/api/v1/proof/inclusion?index=%llu",
             (unsigned long long)size);
    snprintf(want, sizeof(want), "index %llu is past this server's tree (size %llu)",
             (unsigned long long)size, (unsigned long long)size);
    expect_error(f, "GET", path, NULL, 0, 404, want);
    snprintf(path, sizeof(path), "/api/v1/proof/consistency?first=1&second=%llu",
             (unsigned long long)size + 1);
    snprintf(want, sizeof(want), "second %llu is past this server's tree (size %llu)",
             (unsigned long long)size + 1, (unsigned long long)size);
    expect_error(f, "GET", path, NULL, 0, 404, want);
    /* a logged leaf asked for in a tree too small to hold it */
    hex32(f->leaves[1005], hex);
    snprintf(path, sizeof(path), "/api/v1/proof/inclusion?leaf_hash=%s&tree_size=1005",
             hex);
    expect_error(f, "GET", path, NULL, 0, 404,
                 "no entry with that leaf hash in the tree of size 1005");
    memset(hex, 'b', 64);
    snprintf(path, sizeof(path), "/api/v1/proof/inclusion?leaf_hash=%.64s", hex);
    expect_error(f, "GET", path, NULL, 0, 404, "no entry with that leaf hash");
    /* unknown parameters (a cache-buster) and empty segments are ignored */
    snprintf(path, sizeof(path),
             "/api/v1/proof/inclusion?index=7&nocache&_=1&&tree_size=9");
    get(f, path, &r);
    ok = 1;
    CHECKF(f,
           r.status == 200 && json_u64(r.json, "index", &ok) == 7 &&
               json_u64(r.json, "tree_size", &ok) == 9 && ok,
           "GET %s: %ld %.*s", path, r.status, (int)r.body.len,
           (const char *)r.body.data);
    reply_free(&r);
    get(f, "/api/v1/proof/consistency?nocache&first=3&second=7&", &r);
    CHECKF(f, r.status == 200 && json_proof(r.json, proof, &len) && len > 0,
           "consistency with a cache-buster: %ld", r.status);
    reply_free(&r);
}

/* The bundle of entries [from, to) as C2SP encodes it: u16 big-endian
 * length, then the entry; the seeded entries are the decimals. */
static void bundle(struct fx *f, uint64_t from, uint64_t to, struct gl_buf *out)
{
    for (uint64_t i = from; i < to; i++) {
        char dec[24];
        const uint8_t *d;
        size_t n;
        if (i < SEED) {
            n = tu_u64_dec(i, dec);
            d = (const uint8_t *)dec;
        } else {
            d = f->stmt[i - SEED].data;
            n = f->stmt[i - SEED].len;
        }
        CHECK(f, gl_buf_putc(out, (uint8_t)(n >> 8)) == 0 &&
                     gl_buf_putc(out, (uint8_t)n) == 0 && gl_buf_append(out, d, n) == 0);
    }
}

static void client_tiles(struct fx *f)
{
    struct gl_buf want;
    uint8_t l1[4][32];
    /* tile 0/3 full, 0/4 partial (W entries), 1/0 of 4 */
    enum { W = SEED + NAPPEND - 1024 };
    uint64_t size = SEED + NAPPEND;
    char p[64];

    assert_true(W > 0 && W < 255);

    gl_buf_init(&want, (size_t)1 << 20);
    /* the seeded tiles are still served as they were */
    expect_vector(f, "/tile/0/000");
    expect_vector(f, "/tile/0/003.p/232");
    expect_vector(f, "/tile/1/000.p/3");
    expect_vector(f, "/tile/entries/003.p/232");
    /* the tile the appends completed, and the new partial ones */
    expect_bytes(f, "/tile/0/003", f->leaves[768], 256 * 32);
    expect_bytes(f, "/tile/0/003.p/240", f->leaves[768], 240 * 32);
    snprintf(p, sizeof(p), "/tile/0/004.p/%d", W);
    expect_bytes(f, p, f->leaves[1024], W * 32);
    for (int k = 0; k < 4; k++)
        tu_mth((const uint8_t(*)[32])f->leaves + 256 * k, 256, l1[k]);
    expect_bytes(f, "/tile/1/000.p/4", l1, 4 * 32);
    expect_bytes(f, "/tile/1/000.p/2", l1, 2 * 32);
    bundle(f, 768, 1024, &want);
    expect_bytes(f, "/tile/entries/003", want.data, want.len);
    gl_buf_reset(&want);
    bundle(f, 768, 1010, &want);
    expect_bytes(f, "/tile/entries/003.p/242", want.data, want.len);
    gl_buf_reset(&want);
    bundle(f, 1024, size, &want);
    snprintf(p, sizeof(p), "/tile/entries/004.p/%d", W);
    expect_bytes(f, p, want.data, want.len);
    gl_buf_release(&want);
    snprintf(p, sizeof(p), "/tile/0/004.p/%d", W + 1);
    expect_error(f, "GET", p, NULL, 0, 404, "no such tile");
    expect_error(f, "GET", "/tile/0/004", NULL, 0, 404, "no such tile");
    expect_error(f, "GET", "/tile/1/000.p/5", NULL, 0, 404, "no such tile");
    snprintf(p, sizeof(p), "/tile/entries/004.p/%d", W + 1);
    expect_error(f, "GET", p, NULL, 0, 404, "no such entry bundle");
    expect_error(f, "GET", "/tile/entries/005.p/1", NULL, 0, 404, "no such entry bundle");
}

/* /metrics has name followed by exactly value on a line. */
static void expect_metric(struct fx *f, const struct reply *r, const char *name,
                          uint64_t value)
{
    char line[160];

    snprintf(line, sizeof(line), "\n%s %llu\n", name, (unsigned long long)value);
    CHECKF(f, r->status == 200 && strstr((const char *)r->body.data, line) != NULL,
           "/metrics lacks \"%s %llu\"", name, (unsigned long long)value);
}

static void client_misc(struct fx *f)
{
    struct reply r;

    get(f, "/healthz", &r);
    CHECK(f, r.status == 200 && r.body.len == 3 && memcmp(r.body.data, "ok\n", 3) == 0);
    reply_free(&r);
    expect_error(f, "GET", "/nope", NULL, 0, 404, "not found");
    expect_error(f, "GET", "/api/v1/nope", NULL, 0, 404, "not found");
    expect_error(f, "POST", "/metrics", "x", 1, 405, "method not allowed");
    get(f, "/metrics", &r);
    CHECK(f, r.status == 200 && strncmp(r.ctype, "text/plain", 10) == 0);
    expect_metric(f, &r, "glasslog_tree_size", f->size);
    expect_metric(f, &r, "glasslog_appends_total", f->appends);
    expect_metric(f, &r, "glasslog_duplicates_total", f->duplicates);
    expect_metric(f, &r, "glasslog_write_failures_total", 0);
    expect_metric(f, &r, "glasslog_storage_failed", 0);
    expect_metric(f, &r, "glasslog_pool_entries", 0);
    expect_metric(f, &r, "glasslog_parked_appends", 0);
    CHECK(f, strstr((const char *)r.body.data, "\nglasslog_batches_total ") != NULL);
    CHECK(f,
          strstr((const char *)r.body.data, "\nglasslog_tile_cache_hits_total ") != NULL);
    CHECK(f,
          strstr((const char *)r.body.data, "\nglasslog_http_requests_total ") != NULL);
    CHECK(f, strstr((const char *)r.body.data,
                    "\nglasslog_http_responses_total{code=\"404\"} ") != NULL);
    CHECK(f,
          strstr((const char *)r.body.data, "\nglasslog_batch_entries_count ") != NULL);
    reply_free(&r);
}

/* --- the rate limit on a shared store --------------------------------------------
 * The store as a front-end of a shared log sees it (store_shared: a
 * lease op), its buckets those of shared.db, a plain mem store standing
 * for the database; calls counts the bucket calls (from the loop). */
static struct shared_db {
    struct store_ops ops;
    const struct store_ops *own;
    struct store *db;
    int calls; /* atomic */
} shared;

static int shared_lease(struct store *s, const char *holder, unsigned ms, uint64_t have,
                        uint64_t *epoch)
{
    (void)s, (void)holder, (void)ms, (void)have, (void)epoch;
    return GL_ESTATE;
}

static int shared_bucket_take(struct store *s, const char *name, uint64_t rate_u,
                              uint64_t burst, int take, int64_t *level, int *took)
{
    (void)s;
    __atomic_add_fetch(&shared.calls, 1, __ATOMIC_SEQ_CST);
    return store_bucket_take(shared.db, name, rate_u, burst, take, level, took);
}

static int bucket_calls(void)
{
    return __atomic_load_n(&shared.calls, __ATOMIC_SEQ_CST);
}

/* A limit of burst 2 and a token every 1000 s (refill negligible). */
#define LIMIT_RATE_U 1000
#define LIMIT_BURST 2

/* POST statement k: 429 with Retry-After 999 or 1000 s (a token every
 * 1000 s, about none there). */
static void expect_limited(struct fx *f, const void *body, size_t len)
{
    struct reply r;
    long ra;

    request(f, "POST", "/api/v1/add", body, len, "Retry-After", &r);
    ra = strtol(r.header, NULL, 10);
    CHECKF(f, r.status == 429 && ra >= 999 && ra <= 1000, "limited append: %ld (%s) %.*s",
           r.status, r.header, (int)r.body.len, (const char *)r.body.data);
    reply_free(&r);
}

static void client_ratelimit(struct fx *f)
{
    char name[STORE_BUCKET_NAME_MAX + 1], line[STORE_BUCKET_NAME_MAX + 128];
    struct reply r;
    int64_t level;
    int took = 0;

    /* forged: 403 after the signature check, and no bucket call */
    for (int i = 0; i < 3; i++)
        expect_error(f, "POST", "/api/v1/add", f->forged.data, f->forged.len, 403,
                     "does not verify");
    CHECKF(f, bucket_calls() == 0, "forged statements made %d bucket calls",
           bucket_calls());
    /* verified: one call, the take */
    append(f, 0, 0, SEED);
    CHECKF(f, bucket_calls() == 1, "an append made %d bucket calls", bucket_calls());
    /* replays of the logged statement (anybody may fetch it): answered as
     * duplicates without a take */
    for (int i = 0; i < 3; i++)
        append(f, 0, 1, SEED);
    CHECKF(f, bucket_calls() == 1, "replays made %d bucket calls", bucket_calls() - 1);
    /* another front-end takes the last token: this one's mirror still has
     * one, admits, and the take after the signature check refuses */
    ratelimit_bucket_name(&f->subv, name);
    CHECK(f, store_bucket_take(shared.db, name, LIMIT_RATE_U, LIMIT_BURST, 1, &level,
                               &took) == 0 &&
                 took == 1);
    expect_limited(f, f->stmt[1].data, f->stmt[1].len);
    CHECKF(f, bucket_calls() == 2, "%d bucket calls", bucket_calls());
    /* now the mirror refuses, before the signature check: no call */
    expect_limited(f, f->stmt[1].data, f->stmt[1].len);
    expect_limited(f, f->forged.data, f->forged.len);
    CHECKF(f, bucket_calls() == 2, "%d bucket calls", bucket_calls());
    /* every 429 counted, the one after the signature check too */
    get(f, "/metrics", &r);
    snprintf(line, sizeof(line),
             "\nglasslog_rate_limited_total{submitter=\"%s\",key_id=\"%08x\"} 3\n",
             f->subv.name, (unsigned)f->subv.id);
    CHECKF(f, r.status == 200 && strstr((const char *)r.body.data, line) != NULL,
           "/metrics lacks %s", line);
    expect_metric(f, &r, "glasslog_http_responses_total{code=\"429\"}", 3);
    reply_free(&r);
}

static void *client_main(void *arg)
{
    struct fx *f = arg;

    if (CHECK(f, gl_http_client_new(NULL, &f->c) == 0)) {
        for (int k = 0; f->with_appends && k < NAPPEND; k++)
            append(f, k, 0, SEED + (uint64_t)k);
        f->before = f->checks;
        f->scenario(f);
        gl_http_client_free(f->c);
    }
    uv_async_send(&f->done);
    return NULL;
}

/* --- the server side ------------------------------------------------------------------
 */

static void on_part_closed(void *arg)
{
    ((struct fx *)arg)->closed_parts++;
}

static void on_client_done(uv_async_t *a)
{
    struct fx *f = a->data;

    gl_http_server_close(f->http, on_part_closed, f);
    seq_shutdown(f->seq, on_part_closed, f);
    uv_close((uv_handle_t *)a, NULL);
}

/* The store holds the reference tree at SEED, signed with notes/log.key
 * as glasslogd would have written it. */
static void seed(struct fx *f, struct tree *t)
{
    struct store_batch *b;
    struct gl_buf ck, vk;
    uint8_t root[32];
    char dec[24];
    size_t flen;
    char *want;

    tree_init(t);
    assert_int_equal(store_batch_new(f->s, &b), 0);
    for (uint64_t i = 0; i < SEED; i++) {
        size_t n = tu_u64_dec(i, dec);
        store_batch_put_entry(b, i, dec, n);
        store_batch_put_leaf(b, f->leaves[i], i);
        assert_int_equal(tree_append(t, f->leaves[i], b), 0);
    }
    tree_finish_batch(t, 0, b);
    assert_int_equal(tree_root(t, root), 0);
    gl_buf_init(&ck, 4096);
    gl_buf_init(&vk, GL_KEY_TEXT_MAX);
    assert_int_equal(gl_checkpoint_sign(f->key.name, SEED, root, &f->key, &ck), 0);
    /* Ed25519 is deterministic: the very checkpoint Go signed */
    want = tu_read_vector("tiles-1000/checkpoint", &flen);
    assert_int_equal(ck.len, flen);
    assert_memory_equal(ck.data, want, flen);
    free(want);
    assert_int_equal(gl_verifier_format(&f->vkey, &vk), 0);
    store_batch_put_vkey(b, (const char *)vk.data);
    store_batch_put_state(b, SEED, ck.data, ck.len);
    assert_int_equal(store_batch_commit(b, NULL), 0);
    store_batch_free(b);
    /* started as glasslogd starts: the tree loaded from the store */
    assert_int_equal(tree_load(t, f->s, SEED), 0);
    gl_buf_release(&ck);
    gl_buf_release(&vk);
}

/* Runs scenario in the client thread against a new log (seeded, and with
 * the statements appended first if with_appends); fails unless every
 * check passed and the scenario made at least min_checks. */
static void run_api(client_fn scenario, int with_appends, int min_checks)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct store_options o = {.url = "mem:", .create = 1};
    struct seq_config sc = {NULL, NULL, 2, 64, 64, 0, NULL, 0};
    struct gl_http_server_config hc;
    struct gl_buf ck;
    struct tree *t = malloc(sizeof(*t));
    pthread_t thread;
    uint64_t size;
    int checks, failures;

    assert_non_null(f);
    assert_non_null(t);
    f->scenario = scenario;
    f->with_appends = with_appends;
    f->leaves = calloc(MAXLEAVES, 32);
    assert_non_null(f->leaves);
    for (uint64_t i = 0; i < SEED; i++)
        tu_ref_leaf(i, f->leaves[i]);
    f->size = SEED;
    tu_load_signer("notes/log.key", &f->key);
    tu_load_verifier("notes/log.vkey", &f->vkey);
    assert_int_equal(gl_signer_generate("ci.example.com", GL_KEY_NOTE, &f->sub), 0);
    gl_signer_verifier(&f->sub, &f->subv);
    assert_int_equal(gl_signer_generate("ci.example.com", GL_KEY_NOTE, &f->stranger), 0);
    for (int k = 0; k < NAPPEND; k++) {
        snprintf(f->version[k], sizeof(f->version[k]), k == 3 ? "v/%d" : "1.%d", k);
        gl_buf_init(&f->stmt[k], GL_STATEMENT_MAX_SIZE);
        if (k >= CHAIN0 && k < CHAIN0 + 4)
            chain_statement(&f->sub, k, f->version[k], &f->stmt[k], f->stmt_sha[k]);
        else
            tu_statement(&f->sub, subject_of(k), f->version[k], (uint64_t)k, &f->stmt[k],
                         f->stmt_sha[k]);
        assert_int_equal(
            gl_merkle_leaf_hash(f->stmt[k].data, f->stmt[k].len, f->stmt_leaf[k]), 0);
    }
    gl_buf_init(&f->unknown, GL_STATEMENT_MAX_SIZE);
    tu_statement(&f->stranger, "my+app", "9.9", 999, &f->unknown, NULL);
    gl_buf_init(&f->forged, GL_STATEMENT_MAX_SIZE);
    tu_statement(&f->sub, "my+app", "9.9", 999, &f->forged, NULL);
    {
        char *v = strstr((char *)f->forged.data, "version 9.9");
        assert_non_null(v);
        v[8] = '8'; /* the text changed under the signature */
    }

    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(store_open(&o, &f->s, NULL), 0);
    seed(f, t);
    gl_buf_init(&ck, 4096);
    assert_int_equal(store_get_state(f->s, &size, &ck), 0);
    assert_int_equal(seq_new(&f->loop, f->s, &f->key, t, ck.data, ck.len, &sc, &f->seq),
                     0);
    gl_buf_release(&ck);
    free(t);
    if (scenario == client_ratelimit) { /* the sequencer made: it stays unshared */
        struct ratelimit_limit l = {LIMIT_RATE_U, LIMIT_BURST};
        assert_int_equal(store_open(&o, &shared.db, NULL), 0);
        shared.own = f->s->ops;
        shared.ops = *f->s->ops;
        shared.ops.lease = shared_lease;
        shared.ops.bucket_take = shared_bucket_take;
        shared.calls = 0;
        f->s->ops = &shared.ops;
        ratelimit_init(&f->limit, &l, uv_now(&f->loop));
        f->api.limits = &f->limit;
    }
    assert_int_equal(tilecache_new(16, &f->cache), 0);
    f->api.loop = &f->loop;
    f->api.seq = f->seq;
    f->api.store = f->s;
    f->api.cache = f->cache;
    f->api.submitters = &f->subv;
    f->api.nsubmitters = 1;
    f->api.waiting_max = 64;
    memset(&hc, 0, sizeof(hc));
    hc.listen = "127.0.0.1:0";
    hc.max_body = GL_STATEMENT_MAX_SIZE;
    assert_int_equal(gl_http_server_new(&f->loop, &hc, api_handle, &f->api, &f->http), 0);
    f->api.http = f->http;
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u",
             (unsigned)gl_http_server_port(f->http));
    assert_int_equal(uv_async_init(&f->loop, &f->done, on_client_done), 0);
    f->done.data = f;

    assert_int_equal(pthread_create(&thread, NULL, client_main, f), 0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_int_equal(f->closed_parts, 2);
    gl_http_server_free(f->http);
    seq_free(f->seq);
    tilecache_free(f->cache);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    if (f->api.limits != NULL) {
        f->s->ops = shared.own;
        store_close(shared.db);
    }
    store_close(f->s);

    for (int i = 0; i < f->failures && i < 16; i++)
        print_error("%s\n", f->failed[i]);
    checks = f->checks - f->before;
    failures = f->failures;
    for (int k = 0; k < NAPPEND; k++)
        gl_buf_release(&f->stmt[k]);
    gl_buf_release(&f->unknown);
    gl_buf_release(&f->forged);
    gl_signer_wipe(&f->key);
    gl_signer_wipe(&f->sub);
    gl_signer_wipe(&f->stranger);
    free(f->leaves);
    free(f);
    if (failures > 0)
        fail_msg("%d checks failed", failures);
    if (checks < min_checks)
        fail_msg("only %d checks ran (want %d)", checks, min_checks);
    printf("%d checks of the scenario passed\n", checks);
}

static void test_seeded(void **state)
{
    (void)state;
    run_api(client_seeded, 0, 40);
}

static void test_append(void **state)
{
    (void)state;
    run_api(client_appends, 0, 150);
}

static void test_lookup(void **state)
{
    (void)state;
    run_api(client_lookups, 1, 150);
}

static void test_proofs(void **state)
{
    (void)state;
    run_api(client_proofs, 1, 30);
}

static void test_tiles(void **state)
{
    (void)state;
    run_api(client_tiles, 1, 20);
}

static void test_health_metrics(void **state)
{
    (void)state;
    run_api(client_misc, 1, 15);
}

static void test_ratelimit_shared(void **state)
{
    (void)state;
    run_api(client_ratelimit, 0, 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seeded),
        cmocka_unit_test(test_append),
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_proofs),
        cmocka_unit_test(test_tiles),
        cmocka_unit_test(test_health_metrics),
        cmocka_unit_test(test_ratelimit_shared),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

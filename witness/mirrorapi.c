/*
 * mirrorapi: HTTP for the mirror role (mirrorapi.h).
 *
 * add-entries: the server hands the handler whole bodies only (at most
 * MIRRORAPI_BODY_MAX on the mirror listener; a connection cut mid-body
 * never reaches it), the loop copies the body and queues a worker; the
 * worker gunzips (every member must end whole with a good CRC, else 400
 * "malformed gzip body"; the output is capped at MIRRORAPI_BODY_MAX and
 * a stream decoding past it keeps what decoded), runs mirror_add_entries
 * and hands the result back through after_work on the loop, which
 * replies: 200 with the mirror's cosignature line, 202/409 with
 * text/x.tlog.mirror-info (and its ticket), else the status with a
 * one-line reason. Every reply carries
 * Accept-Encoding: gzip. Bodies are counted by encoding (metrics).
 * While a reload switches the lists (api paused, mirror gate closed)
 * add-entries gets 503 with Retry-After: 1. The reads run on the loop
 * thread, as the switch does, so they never see it half done.
 *
 * The budget (mirrorapi.h): the handler charges twice the body (the
 * server's buffer and the copy) before it queues the worker; gunzip
 * charges each growth of its output and gives back the compressed copy
 * once decoded; entries_done, which libuv runs for every queued work
 * (done, failed or cancelled), gives back everything the request holds
 * (er->charged), as do the paths that answer before queueing. er->charged
 * is touched by one thread at a time (loop, worker, loop: ordered by
 * libuv); the budget's totals are under its mutex.
 *
 * Reads: the checkpoint and tiles (text errors, as before), and
 * glasslogd's JSON read API under the same prefix (readapi.h, JSON
 * errors), from a view of the copy at the mirror checkpoint.
 */
#include "mirrorapi.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

#include "../log/readapi.h"
#include "../log/tree.h"
#include "glasslog/codec.h"
#include "glasslog/mirror.h"
#include "glasslog/note.h"
#include "glasslog/tile.h"

#define TEXT "text/plain; charset=utf-8"
#define VIEW_CACHE_SLOTS 16 /* tiles cached while answering one JSON read */
#define PREFIX_LEN (sizeof(MIRRORAPI_PREFIX) - 1)

static const struct gl_http_header hdr_post[] = {{"Cache-Control", "no-store"},
                                                 {"Accept-Encoding", "gzip"}};
static const struct gl_http_header hdr_retry[] = {
    {"Cache-Control", "no-store"}, {"Accept-Encoding", "gzip"}, {"Retry-After", "1"}};
static const struct gl_http_header hdr_immutable[] = {
    {"Cache-Control", "public, max-age=31536000, immutable"}};
static const struct gl_http_header hdr_checkpoint[] = {
    {"Cache-Control", "public, max-age=2"}};

struct entries_req {
    uv_work_t work;
    struct api *a;
    struct gl_http_pending *p;
    uint8_t *body; /* the copy; replaced by the decoded body when gzipped */
    size_t len;
    int gzip, gzip_bad;
    int over;       /* the decoded body outgrew the budget */
    size_t charged; /* bytes charged to a->budget for this request */
    struct mirror_result r;
};

struct mirrorapi_budget {
    pthread_mutex_t mu; /* guards what follows */
    size_t max;         /* the bound */
    size_t bytes;       /* charged now */
    size_t n;           /* requests holding a charge */
    uint64_t refused;   /* requests answered 503 for the budget */
};

int mirrorapi_budget_new(size_t max_bytes, struct mirrorapi_budget **out)
{
    struct mirrorapi_budget *b;

    if (max_bytes == 0 || out == NULL)
        return GL_EINVAL;
    if ((b = calloc(1, sizeof *b)) == NULL)
        return GL_ENOMEM;
    pthread_mutex_init(&b->mu, NULL);
    b->max = max_bytes;
    *out = b;
    return 0;
}

void mirrorapi_budget_free(struct mirrorapi_budget *b)
{
    if (b == NULL)
        return;
    pthread_mutex_destroy(&b->mu);
    free(b);
}

/* Charges len more bytes to er (its first charge makes it a request in
 * flight): 0, or GL_ETOOBIG when other requests are in flight and the
 * total would pass the bound (nothing charged; counted as refused). No
 * budget: always 0. Any thread (the one er is on). */
static int budget_take(struct entries_req *er, size_t len)
{
    struct mirrorapi_budget *b = er->a->budget;
    int rc = 0;

    if (b == NULL)
        return 0;
    pthread_mutex_lock(&b->mu);
    size_t others = b->n - (er->charged > 0);
    if (others > 0 && (b->bytes > b->max || len > b->max - b->bytes)) {
        b->refused++;
        rc = GL_ETOOBIG;
    } else if (len > SIZE_MAX - b->bytes) {
        rc = GL_EOVERFLOW;
    } else if (len > 0) {
        b->n += er->charged == 0;
        b->bytes += len;
        er->charged += len;
    }
    pthread_mutex_unlock(&b->mu);
    return rc;
}

/* Gives len of er's charged bytes back (all of them: no longer in
 * flight). Any thread (the one er is on). */
static void budget_give(struct entries_req *er, size_t len)
{
    struct mirrorapi_budget *b = er->a->budget;

    if (b == NULL || er->charged == 0)
        return;
    if (len > er->charged)
        len = er->charged;
    pthread_mutex_lock(&b->mu);
    b->bytes -= len;
    er->charged -= len;
    b->n -= er->charged == 0;
    pthread_mutex_unlock(&b->mu);
}

/* Frees er after giving its budget back. */
static void entries_free(struct entries_req *er)
{
    budget_give(er, er->charged);
    free(er->body);
    free(er);
}

int mirrorapi_wants(const struct gl_http_req *req)
{
    return strcmp(req->path, "/add-entries") == 0 ||
           strncmp(req->path, MIRRORAPI_PREFIX, PREFIX_LEN) == 0;
}

/* Decodes a gzip body (one or more members, RFC 1952) into a new buffer
 * of at most MIRRORAPI_BODY_MAX bytes. Each member must end whole with a
 * good CRC and length: anything else (a plain body, bad data, a bad
 * trailer, a truncated member, bytes after the last member that are not
 * one) sets er->gzip_bad. Output past the cap stops the decoding and
 * keeps what decoded (its whole packages count). Each growth of the
 * buffer is charged to the budget first: past it, er->over is set and the
 * decoding stops. 0, or -1 when out of memory. */
static int gunzip(struct entries_req *er)
{
    size_t cap = 1 << 20, n = 0;
    uint8_t *out;
    z_stream z;
    int zr = Z_OK, done = 0;

    if (budget_take(er, cap) != 0) {
        er->over = 1;
        return 0;
    }
    if ((out = malloc(cap)) == NULL)
        return -1;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
        free(out);
        return -1;
    }
    z.next_in = er->body;
    z.avail_in = (uInt)er->len;
    while (!done && !er->gzip_bad && n < MIRRORAPI_BODY_MAX) {
        if (n == cap) {
            size_t nc = cap * 2 > MIRRORAPI_BODY_MAX ? MIRRORAPI_BODY_MAX : cap * 2;
            if (budget_take(er, nc - cap) != 0) {
                er->over = 1;
                break;
            }
            uint8_t *t = realloc(out, nc);
            if (t == NULL) {
                inflateEnd(&z);
                free(out);
                return -1;
            }
            out = t;
            cap = nc;
        }
        z.next_out = out + n;
        z.avail_out = (uInt)(cap - n);
        zr = inflate(&z, Z_NO_FLUSH);
        n = cap - z.avail_out;
        if (zr == Z_STREAM_END) { /* a member ended, its CRC and length good */
            if (z.avail_in == 0)
                done = 1;
            else if (inflateReset(&z) != Z_OK)
                er->gzip_bad = 1;
        } else if (zr == Z_BUF_ERROR) {
            /* no progress: the output is full (grow it) or the input
             * ended inside a member (truncated) */
            er->gzip_bad = z.avail_out > 0;
        } else if (zr != Z_OK) {
            er->gzip_bad = 1; /* Z_DATA_ERROR (bad data, CRC), Z_NEED_DICT, ... */
        }
    }
    inflateEnd(&z);
    free(er->body);
    budget_give(er, er->len); /* the compressed copy */
    er->body = out;
    er->len = n;
    return 0;
}

static void entries_work(uv_work_t *w)
{
    struct entries_req *er = w->data;

    mirror_count_upload(er->a->mirror, er->gzip);
    if (er->gzip && gunzip(er) != 0) {
        memset(&er->r, 0, sizeof er->r);
        er->r.status = 503;
        strcpy(er->r.why, "cannot decode the gzip body");
        return;
    }
    if (er->over) {
        memset(&er->r, 0, sizeof er->r);
        er->r.status = 503;
        strcpy(er->r.why, "too many add-entries bytes in memory (decoded); retry");
        return;
    }
    if (er->gzip_bad) {
        memset(&er->r, 0, sizeof er->r);
        er->r.status = 400;
        strcpy(er->r.why, "malformed gzip body");
        return;
    }
    mirror_add_entries(er->a->mirror, er->body, er->len, &er->r);
}

static void entries_done(uv_work_t *w, int status)
{
    struct entries_req *er = w->data;
    const struct mirror_result *r = &er->r;
    struct gl_buf b;

    gl_buf_init(&b, GL_MIRROR_INFO_MAX);
    if (status != 0) {
        gl_http_pending_reply(er->p, 503, TEXT, hdr_post, 2, "shutting down\n", 14);
    } else if (r->status == 200) {
        gl_http_pending_reply(er->p, 200, TEXT, hdr_post, 2, r->line, r->line_len);
    } else if (r->status == 202 || r->status == 409) {
        if (gl_mirror_info_format(r->info_size, r->info_next, r->ticket, r->ticket_len,
                                  &b) == 0)
            gl_http_pending_reply(er->p, r->status, "text/x.tlog.mirror-info", hdr_post,
                                  2, b.data, b.len);
    } else {
        gl_buf_printf(&b, "%s\n", r->why[0] ? r->why : "error");
        gl_http_pending_reply(er->p, r->status, TEXT,
                              r->status == 503 ? hdr_retry : hdr_post,
                              r->status == 503 ? 3 : 2, b.data, b.len);
    }
    gl_buf_release(&b);
    gl_http_pending_release(er->p);
    entries_free(er);
}

static int add_entries(struct api *a, struct gl_http_req *req)
{
    struct entries_req *er;
    const char *ce;
    size_t cel;
    int rc;

    if (strcmp(req->method, "POST") != 0)
        return gl_http_reply(req, 405, TEXT,
                             (const struct gl_http_header[]){{"Allow", "POST"}}, 1,
                             "method not allowed\n", 19);
    if (a->paused) /* a reload is switching the lists (mirror.h: the gate) */
        return gl_http_reply(req, 503, TEXT, hdr_retry, 3,
                             "the logs list is being reloaded; retry\n", 39);
    if ((er = calloc(1, sizeof *er)) == NULL)
        return gl_http_reply(req, 503, TEXT, hdr_post, 2, "out of memory\n", 14);
    er->a = a;
    if (gl_http_req_header(req, "Content-Encoding", &ce, &cel) == 0) {
        if (cel == 4 && strncasecmp(ce, "gzip", 4) == 0) {
            er->gzip = 1;
        } else if (!(cel == 8 && strncasecmp(ce, "identity", 8) == 0)) {
            entries_free(er);
            return gl_http_reply(req, 415, TEXT, hdr_post, 2,
                                 "unsupported Content-Encoding (gzip only)\n", 41);
        }
    }
    /* the server's buffer and the copy, both held until the reply */
    if (req->body_len > MIRRORAPI_BODY_MAX ||
        budget_take(er, req->body_len > 0 ? req->body_len * 2 : 1) != 0) {
        entries_free(er);
        static const char why[] = "too many add-entries bytes in memory; retry\n";
        return gl_http_reply(req, 503, TEXT, hdr_retry, 3, why, sizeof why - 1);
    }
    if ((er->body = malloc(req->body_len ? req->body_len : 1)) == NULL) {
        entries_free(er);
        return gl_http_reply(req, 503, TEXT, hdr_post, 2, "out of memory\n", 14);
    }
    memcpy(er->body, req->body, req->body_len);
    er->len = req->body_len;
    if ((rc = gl_http_defer(req, &er->p)) != 0) {
        entries_free(er);
        return rc;
    }
    er->work.data = er;
    if (uv_queue_work(a->loop, &er->work, entries_work, entries_done) != 0) {
        gl_http_pending_reply(er->p, 503, TEXT, hdr_post, 2, "cannot queue the upload\n",
                              24);
        gl_http_pending_release(er->p);
        entries_free(er);
    }
    return 0;
}

static int not_found(struct gl_http_req *req, const char *why)
{
    char line[160];
    int n = snprintf(line, sizeof line, "%s\n", why);
    return gl_http_reply(req, 404, TEXT, hdr_post, 1, line, (size_t)n);
}

struct view_ctx {
    struct gl_buf note; /* the mirror checkpoint, as served */
    uint64_t size;
};

static const struct gl_buf *view_checkpoint(void *ctx, uint64_t *size)
{
    const struct view_ctx *c = ctx;

    *size = c->size;
    return &c->note;
}

/* GET /mirror/<hex>/api/v1/...: glasslogd's JSON read API (readapi.h) over
 * the mirror's copy at the mirror checkpoint: the tree loaded from the
 * copy's stored tiles at that size (the copy may hold more entries; they
 * are not served), and the checkpoint as /mirror/<hex>/checkpoint serves
 * it in lookups' proofs. */
static int read_json(struct api *a, struct gl_http_req *req, const uint8_t oh[32],
                     const char *path)
{
    struct view_ctx c = {.size = 0};
    struct readapi_view v;
    struct tree *t = malloc(sizeof *t);
    struct tilecache *tc = NULL;
    struct store *s = NULL;
    int rc;

    gl_buf_init(&c.note, GL_NOTE_MAX_SIZE);
    if (t == NULL || tilecache_new(VIEW_CACHE_SLOTS, &tc) != 0) {
        rc = gl_http_reply_error(req, 503, "out of memory");
        goto out;
    }
    rc = mirror_view(a->mirror, oh, &s, &c.size, &c.note);
    if (rc == GL_ENOTFOUND) {
        rc = gl_http_reply_error(req, 404, "no mirror checkpoint of this log");
        goto out;
    }
    if (rc != 0 || tree_load(t, s, c.size) != 0) {
        rc = gl_http_reply_error(req, 500, "storage read failed");
        goto out;
    }
    v.store = s;
    v.tree = t;
    v.cache = tc;
    v.size = c.size;
    v.checkpoint = view_checkpoint;
    v.ctx = &c;
    rc = readapi_handle(&v, req, path);
out:
    tilecache_free(tc);
    free(t);
    gl_buf_release(&c.note);
    return rc;
}

/* GET /mirror/<hex>/checkpoint, /mirror/<hex>/tile/... and the JSON
 * read API. */
static int read_api(struct api *a, struct gl_http_req *req)
{
    const char *p = req->path + PREFIX_LEN;
    uint8_t oh[32];
    struct gl_buf out;
    struct gl_tile t;
    struct gl_err why;
    int entries, rc;

    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
        return gl_http_reply(req, 405, TEXT,
                             (const struct gl_http_header[]){{"Allow", "GET, HEAD"}}, 1,
                             "method not allowed\n", 19);
    if (strlen(p) <= GL_HASH_HEX_LEN || p[GL_HASH_HEX_LEN] != '/' ||
        gl_hex_decode_exact(p, GL_HASH_HEX_LEN, oh, GL_HASH_LEN, 1) != 0)
        return not_found(req, "not found");
    p += GL_HASH_HEX_LEN;
    if (readapi_wants(p))
        return read_json(a, req, oh, p);
    p++;
    gl_buf_init(&out, GL_TILE_BUNDLE_MAX);
    if (strcmp(p, "checkpoint") == 0) {
        rc = mirror_checkpoint(a->mirror, oh, &out);
        rc = rc == 0 ? gl_http_reply(req, 200, TEXT, hdr_checkpoint, 1, out.data, out.len)
                     : not_found(req, "no mirror checkpoint of this log");
    } else if (gl_tile_path_parse(p, strlen(p), &t, &entries, &why) != 0) {
        char msg[GL_ERR_REASON_MAX + 32];
        int n = snprintf(msg, sizeof msg, "malformed tile path: %s\n", why.reason);
        rc = gl_http_reply(req, 400, TEXT, hdr_post, 1, msg, (size_t)n);
    } else {
        rc = mirror_tile(a->mirror, oh, t.level, t.index, t.width, entries, &out);
        if (rc == 0)
            rc = gl_http_reply(req, 200, "application/octet-stream", hdr_immutable, 1,
                               out.data, out.len);
        else if (rc == GL_ENOTFOUND)
            rc = not_found(req, "no such tile in the mirror checkpoint");
        else
            rc = gl_http_reply(req, 500, TEXT, hdr_post, 1, "storage read failed\n", 20);
    }
    gl_buf_release(&out);
    return rc;
}

int mirrorapi_metrics(struct api *a, struct gl_buf *b)
{
    static const char *const name[3] = {"size", "next_entry", "pending_size"};
    static const char *const help[3] = {"Size of the mirror checkpoint.",
                                        "First entry the mirror does not hold.",
                                        "Newest pending checkpoint size."};
    int rc = 0;

    for (int k = 0; k < 3 && rc == 0; k++) {
        rc = gl_buf_printf(
            b, "# HELP glasslog_mirror_%s %s\n# TYPE glasslog_mirror_%s gauge\n", name[k],
            help[k], name[k]);
        for (size_t i = 0; i < a->logs->n && rc == 0; i++) {
            uint64_t v[3];
            if (mirror_progress(a->mirror, i, &v[2], &v[1], &v[0]) != 0)
                continue;
            rc = gl_buf_append_str(b, "glasslog_mirror_");
            if (rc == 0)
                rc = gl_buf_printf(b, "%s{origin=\"", name[k]);
            for (const char *o = a->logs->v[i].origin; *o && rc == 0; o++)
                rc = (*o == '"' || *o == '\\') ? gl_buf_printf(b, "\\%c", *o)
                                               : gl_buf_putc(b, (uint8_t)*o);
            if (rc == 0)
                rc = gl_buf_printf(b, "\"} %llu\n", (unsigned long long)v[k]);
        }
    }
    if (rc == 0 && a->budget != NULL) {
        struct mirrorapi_budget *bu = a->budget;
        pthread_mutex_lock(&bu->mu);
        size_t bytes = bu->bytes, max = bu->max;
        uint64_t refused = bu->refused;
        pthread_mutex_unlock(&bu->mu);
        rc = gl_buf_printf(b,
                           "# HELP glasslog_mirror_inflight_bytes add-entries bytes in "
                           "memory (bodies, copies, decoded bodies).\n"
                           "# TYPE glasslog_mirror_inflight_bytes gauge\n"
                           "glasslog_mirror_inflight_bytes %zu\n"
                           "# HELP glasslog_mirror_inflight_max_bytes The bound on "
                           "glasslog_mirror_inflight_bytes.\n"
                           "# TYPE glasslog_mirror_inflight_max_bytes gauge\n"
                           "glasslog_mirror_inflight_max_bytes %zu\n"
                           "# HELP glasslog_mirror_inflight_refused_total add-entries "
                           "answered 503 for the bound.\n"
                           "# TYPE glasslog_mirror_inflight_refused_total counter\n"
                           "glasslog_mirror_inflight_refused_total %llu\n",
                           bytes, max, (unsigned long long)refused);
    }
    uint64_t up[2];
    mirror_uploads(a->mirror, &up[0], &up[1]);
    if (rc == 0)
        rc = gl_buf_printf(b,
                           "# HELP glasslog_mirror_uploads_total add-entries bodies "
                           "received, by Content-Encoding.\n"
                           "# TYPE glasslog_mirror_uploads_total counter\n"
                           "glasslog_mirror_uploads_total{encoding=\"identity\"} %llu\n"
                           "glasslog_mirror_uploads_total{encoding=\"gzip\"} %llu\n",
                           (unsigned long long)up[0], (unsigned long long)up[1]);
    return rc;
}

int mirrorapi_handle(struct api *a, struct gl_http_req *req)
{
    if (strcmp(req->path, "/add-entries") == 0)
        return add_entries(a, req);
    return read_api(a, req);
}

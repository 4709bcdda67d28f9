/*
 * mirrorpush: pushing the log to its mirrors (mirrorpush.h).
 *
 * Each round loads the stored tree at its size (tree_load: reads the
 * right-edge tiles) and uses it as the hash source for consistency and
 * subtree proofs; entries come from store_scan_entries. All HTTP is
 * blocking with a timeout on this thread only.
 *
 * add-entries bodies go gzipped (deflate level 1: cheap, and entries
 * compress well) to a mirror while gzip[k] holds: it starts set (the
 * spec lets a client send gzip without prior knowledge) and follows each
 * reply's Accept-Encoding (cleared when a reply does not list gzip, set
 * again when one does); a 415 to a gzipped body clears it and the same
 * body is sent again as is. The ticket of the last 202/409 is sent back
 * in the next request to that mirror, byte for byte: any mirror's ticket,
 * so up to GL_MIRROR_PEER_TICKET_MAX (65535, the request's u16) bytes, not
 * the cap of the tickets glasslog's own mirror issues; it is kept in the
 * push state (heap), and an answer is read up to ANSWER_MAX bytes, room
 * for such a ticket in base64. A mirror info whose ticket is longer (it
 * could not be sent back) fails the push, the log line naming it.
 *
 * A failed push backs off that mirror alone: its next try waits the
 * round interval, then twice as long after each further failure, at most
 * BACKOFF_MAX_S, and one success resets it. So a mirror that is down
 * costs one request and one log line per back-off, not per round.
 * Every add-entries answer that is not the final 200 must move the
 * mirror's next entry past where the upload started (capped at the tree
 * size); one that does not (a 202 or 409 repeating the same next entry,
 * or going back) is a failed push, so a mirror stuck at an entry never
 * holds the thread, and the mirrors after it in the list still get their
 * turn in the same round. Nor does a slow one that moves: after
 * PUSH_SLICE_S of uploads to a mirror (or once asked to stop) the push
 * pauses where it got to, without counting as failed, and the next round
 * resumes it from the mirror's next entry.
 *
 * A body takes packages until it holds GL_MIRROR_BODY_SOFT bytes or
 * MIRRORPUSH_PACKAGES packages; a 413 to one of n > 1 packages makes
 * the rest of that push send at most n / 2 a body (a 413 to one package
 * is a failed push).
 *
 * The answers' bodies are read by mirrorresp.c (a 200's signature lines,
 * a 409's tree size to add-checkpoint) and lib/mirror.c (the mirror info
 * of a 202 or 409 to add-entries): a 200 whose body is not well formed as
 * a whole, or holds no line by the mirror's key that verifies, is a
 * failed push; so is a 409 to add-checkpoint without a tree size.
 */
#include "mirrorpush.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <zlib.h>

#include "glasslog/codec.h"
#include "glasslog/cosig.h"
#include "glasslog/log.h"
#include "glasslog/mirror.h"
#include "glasslog/note.h"
#include "glasslog/sha256.h"
#include "glasslog/subtree.h"
#include "clock.h"
#include "http_client.h"
#include "metrics.h"
#include "mirrorresp.h"
#include "text.h"
#include "tilecache.h"
#include "tree.h"
#include "wprobe.h"

#define HLEN GL_HASH_LEN
#define TIMEOUT_MS 30000
#define BACKOFF_MAX_S 30.0
#define PUSH_SLICE_S 2.0 /* seconds of uploads to one mirror a round */
/* An add-entries answer: a mirror info with any mirror's ticket (65535
 * bytes, in base64), or a 200's signature lines. */
#define ANSWER_MAX GL_MIRROR_PEER_INFO_MAX
_Static_assert(ANSWER_MAX >= MIRRORRESP_BODY_MAX, "a 200's lines fit ANSWER_MAX");
/* A mirror's endpoint URL: its URL, '/' and the endpoint's name. */
#define ENDPOINT_URL_MAX (MIRRORPUSH_URL_MAX + 32)

struct mirrorpush {
    struct store *store;
    struct mirrorpush_list list;
    unsigned interval_ms;
    struct gl_http_client *http;
    struct tilecache *cache;
    struct tree *tree;
    uint64_t done[MIRRORPUSH_MAX];             /* size each mirror cosigned last
                                                * (written under mu) */
    uint64_t failures[MIRRORPUSH_MAX];         /* its failed pushes (under mu) */
    int gzip[MIRRORPUSH_MAX];                  /* send it gzipped bodies */
    uint8_t ticket[GL_MIRROR_PEER_TICKET_MAX]; /* the last ticket of the
                                                * mirror being pushed (any
                                                * mirror's: up to 65535 bytes;
                                                * here, not on the stack) */
    size_t ticket_len;                         /* its length (push_one) */
    struct gl_buf line[MIRRORPUSH_MAX];        /* its verified cosignature line */
    struct gl_buf text[MIRRORPUSH_MAX];        /* and the text it signs (both
                                                * guarded by mu) */
    struct gl_buf served;                      /* mirrorpush_served (guarded by mu) */
    uint8_t sent[MIRRORPUSH_MAX][HLEN];        /* SHA-256 of the checkpoint each
                                                * mirror got last (push thread) */
    double retry_at[MIRRORPUSH_MAX];           /* gl_clock_mono() of its next try */
    double backoff[MIRRORPUSH_MAX];            /* its wait after a failure, s (0:
                                                * the last push went well) */
    uint64_t released;                         /* the largest size the sequencer
                                                * released (under mu) */
    uint64_t held;                             /* the stored size the last round
                                                * held back, 0: none (under mu) */
    uint64_t held_logged;                      /* the held size last logged (push
                                                * thread) */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop, started;
    int wake; /* a held size was released: a round now (under mu) */
};

/* 1 if a mirror's name can go as it is into log lines and metric
 * labels: printable ASCII (no space: fields are split at spaces) without
 * the quote and backslash a label would need escaped. */
static int label_ok(const char *s)
{
    for (; *s != 0; s++)
        if (*s <= 0x20 || *s >= 0x7f || *s == '"' || *s == '\\')
            return 0;
    return 1;
}

int mirrorpush_parse(const char *text, size_t n, struct mirrorpush_list *out,
                     struct gl_err *why)
{
    struct gl_text t;
    const char *line;
    size_t len;

    memset(out, 0, sizeof *out);
    gl_text_init(&t, text, n,
                 GL_TEXT_OPEN_END | GL_TEXT_TRIM_START | GL_TEXT_TRIM_END | GL_TEXT_SKIP);
    while (gl_text_line(&t, &line, &len) == 0) {
        char buf[4096], *f[5], *save = NULL;
        size_t nf = 0;
        size_t no = t.line;
        if (len == 0 || line[0] == '#')
            continue;
        if (len >= sizeof buf)
            return gl_err_set(why, GL_ETOOBIG, no, "line too long");
        if (memchr(line, 0, len) != NULL)
            return gl_err_set(why, GL_EPARSE, no, "NUL byte in the line");
        memcpy(buf, line, len);
        buf[len] = 0;
        for (char *s = strtok_r(buf, " \t", &save); s && nf < 5;
             s = strtok_r(NULL, " \t", &save))
            f[nf++] = s;
        if (nf != 4 || strcmp(f[0], "mirror") != 0)
            return gl_err_set(why, GL_EPARSE, no, "want: mirror <name> <vkey> <url>");
        if (out->n == MIRRORPUSH_MAX)
            return gl_err_set(why, GL_ETOOBIG, no, "more than %d mirrors",
                              MIRRORPUSH_MAX);
        struct mirrorpush_target *m = &out->v[out->n];
        if (strlen(f[1]) > MIRRORPUSH_NAME_MAX)
            return gl_err_set(why, GL_ETOOBIG, no, "name longer than %d bytes",
                              MIRRORPUSH_NAME_MAX);
        if (!label_ok(f[1]))
            return gl_err_set(why, GL_EPARSE, no,
                              "a name is printable ASCII without \" or \\");
        for (size_t i = 0; i < out->n; i++)
            if (strcmp(out->v[i].name, f[1]) == 0)
                return gl_err_set(why, GL_EPARSE, no, "a second mirror named %s", f[1]);
        snprintf(m->name, sizeof m->name, "%s", f[1]);
        if (gl_verifier_parse(f[2], strlen(f[2]), &m->key, NULL) != 0 ||
            m->key.type != GL_KEY_COSIG)
            return gl_err_set(
                why, GL_EPARSE, no,
                "not a cosigning verifier key (glasslog keygen --cosigner)");
        size_t ul = strlen(f[3]), scheme = strncmp(f[3], "https://", 8) == 0 ? 8 : 7;
        if (ul > MIRRORPUSH_URL_MAX ||
            (strncmp(f[3], "http://", 7) != 0 && strncmp(f[3], "https://", 8) != 0))
            return gl_err_set(why, GL_EPARSE, no, "bad url (http:// or https://)");
        while (ul > scheme && f[3][ul - 1] == '/')
            ul--;
        if (ul == scheme)
            return gl_err_set(why, GL_EPARSE, no, "bad url: no host");
        for (size_t i = 0; i < ul; i++)
            if ((unsigned char)f[3][i] < 0x20 || f[3][i] == 0x7f)
                return gl_err_set(why, GL_EPARSE, no, "bad url: control character");
        memcpy(m->url, f[3], ul);
        m->url[ul] = 0;
        out->n++;
    }
    return 0;
}

/* Writes into url (ENDPOINT_URL_MAX bytes) the URL of m's endpoint
 * name ("add-entries", "add-checkpoint"). GL_ETOOBIG if it does not fit
 * (url then holds a cut text not to be used). */
static int endpoint_url(const struct mirrorpush_target *m, const char *name,
                        char url[ENDPOINT_URL_MAX])
{
    int n = snprintf(url, ENDPOINT_URL_MAX, "%s/%s", m->url, name);

    return n < 0 || (size_t)n >= ENDPOINT_URL_MAX ? GL_ETOOBIG : 0;
}

static int post(struct mirrorpush *p, const char *url, const char *ctype,
                const void *body, size_t len, struct gl_http_response *r)
{
    return gl_http_post(p->http, url, ctype, body, len, 64 << 10, TIMEOUT_MS, r);
}

/* The gzip stream of in[0..n) into *out (malloc'd, *out_len bytes; the
 * caller frees). GL_ENOMEM, GL_EIO if zlib fails. */
static int gzip_body(const uint8_t *in, size_t n, uint8_t **out, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (n > UINT32_MAX ||
        deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return GL_EIO;
    size_t cap = deflateBound(&z, (uLong)n) + 32; /* + the gzip header */
    uint8_t *b = malloc(cap);
    if (b == NULL) {
        deflateEnd(&z);
        return GL_ENOMEM;
    }
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = b;
    z.avail_out = (uInt)cap;
    int zr = deflate(&z, Z_FINISH);
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    if (zr != Z_STREAM_END) {
        free(b);
        return GL_EIO;
    }
    *out = b;
    return 0;
}

/* 1 if an Accept-Encoding value lists gzip. */
static int lists_gzip(const char *v)
{
    for (const char *t = v; *t != 0; t++)
        if (strncasecmp(t, "gzip", 4) == 0 && (t == v || t[-1] == ' ' || t[-1] == ',') &&
            (t[4] == 0 || t[4] == ',' || t[4] == ';' || t[4] == ' '))
            return 1;
    return 0;
}

/* POSTs an add-entries body to mirror k (gzipped while p->gzip[k]);
 * fills status and, for 202/409, the info and p->ticket (a mirror info
 * that does not parse: its error, why says what, p->ticket kept). */
static int add_entries(struct mirrorpush *p, size_t k, const struct gl_buf *body,
                       long *status, uint64_t *isize, uint64_t *inext,
                       struct gl_buf *line, struct gl_err *why)
{
    const struct mirrorpush_target *m = &p->list.v[k];
    char url[ENDPOINT_URL_MAX];
    static const struct gl_http_header gz[] = {{"Content-Encoding", "gzip"}};
    struct gl_http_request_spec spec;
    struct gl_http_response r;
    uint8_t *z = NULL;
    size_t zl = 0;
    int rc, zipped;

    *status = 0;
    if ((rc = endpoint_url(m, "add-entries", url)) != 0)
        return rc;
    memset(&spec, 0, sizeof spec);
    spec.method = "POST";
    spec.url = url;
    spec.content_type = "application/octet-stream";
    spec.max_response = ANSWER_MAX;
    spec.timeout_ms = TIMEOUT_MS;
    spec.capture_header = "Accept-Encoding";
    do {
        zipped = p->gzip[k] && gzip_body(body->data, body->len, &z, &zl) == 0;
        spec.body = zipped ? z : body->data;
        spec.body_len = zipped ? zl : body->len;
        spec.headers = zipped ? gz : NULL;
        spec.nheaders = zipped ? 1 : 0;
        rc = gl_http_request(p->http, &spec, &r);
        free(z);
        z = NULL;
        if (rc == 0) {
            int again = zipped && r.status == 415;
            p->gzip[k] = !again && r.has_header && lists_gzip(r.header);
            if (again) {
                gl_log(GL_LOG_INFO, "mirror %s refuses gzip (415): sending identity",
                       m->name);
                gl_http_response_release(&r);
                continue;
            }
        }
        break;
    } while (1);
    *status = r.status;
    if (rc == 0 && (r.status == 202 || r.status == 409))
        rc = gl_mirror_info_parse((const char *)r.body.data, r.body.len, isize, inext,
                                  p->ticket, sizeof p->ticket, &p->ticket_len, why);
    else if (rc == 0 && r.status == 200 && line != NULL)
        rc = gl_buf_append(line, r.body.data, r.body.len);
    gl_http_response_release(&r);
    return rc;
}

/* POSTs add-checkpoint of ck with the consistency proof from old to m.
 * 0 on a 200 (*conflict = 0) or on a 409 that names the mirror's tree
 * size (*conflict = 1, *theirs = that size); GL_EPARSE for a 409 without
 * one, GL_EVERIFY for any other answer. */
static int add_checkpoint(struct mirrorpush *p, const struct mirrorpush_target *m,
                          uint64_t old, uint64_t size, const struct gl_buf *ck,
                          int *conflict, uint64_t *theirs)
{
    struct tree_reader rd = {p->tree, p->store, p->cache};
    struct gl_hash_source src;
    uint8_t proof[GL_MERKLE_MAX_PROOF][HLEN];
    size_t n = 0;
    char url[ENDPOINT_URL_MAX], b64[64];
    struct gl_buf body;
    struct gl_http_response r;
    int rc;

    tree_source(&rd, &src);
    if ((rc = gl_merkle_prove_consistency(&src, old, size, proof, &n)) != 0)
        return rc;
    gl_buf_init(&body, 64 << 10);
    rc = gl_buf_printf(&body, "old %llu\n", (unsigned long long)old);
    for (size_t i = 0; i < n && rc == 0; i++) {
        gl_base64_encode(proof[i], HLEN, b64, sizeof b64);
        rc = gl_buf_printf(&body, "%s\n", b64);
    }
    if (rc == 0)
        rc = gl_buf_putc(&body, '\n');
    if (rc == 0)
        rc = gl_buf_append(&body, ck->data, ck->len);
    if (rc == 0)
        rc = endpoint_url(m, "add-checkpoint", url);
    if (rc == 0)
        rc = post(p, url, NULL, body.data, body.len, &r);
    gl_buf_release(&body);
    if (rc != 0)
        return rc;
    *conflict = r.status == 409;
    if (r.status == 409) {
        rc = gl_parse_size_body((const char *)r.body.data, r.body.len, theirs);
        if (rc != 0)
            gl_log(GL_LOG_WARN,
                   "mirror %s: add-checkpoint answered 409 without a tree size "
                   "(text/x.tlog.size: a decimal and a newline)",
                   m->name);
    } else if (r.status != 200) {
        rc = GL_EVERIFY;
    }
    gl_http_response_release(&r);
    return rc;
}

/* Appends package i of [start, size) to body. */
static int add_package(struct mirrorpush *p, uint64_t start, uint64_t size, uint64_t i,
                       struct gl_buf *body)
{
    struct tree_reader rd = {p->tree, p->store, p->cache};
    struct gl_hash_source src;
    struct gl_mirror_package *pk = malloc(sizeof *pk);
    struct store_entries *x = calloc(1, sizeof *x); /* raw empty until read */
    int rc = pk && x ? gl_mirror_package_bounds(start, size, i, pk) : GL_ENOMEM;

    tree_source(&rd, &src);
    if (rc == 0)
        rc = store_read_entries(p->store, pk->start, pk->end - pk->start, x);
    if (rc == 0)
        rc = gl_subtree_prove(&src, pk->subtree_start, pk->end, size, pk->proof,
                              &pk->nproof);
    if (rc == 0)
        rc = gl_mirror_package_encode(x->e, x->n, (const uint8_t(*)[HLEN])pk->proof,
                                      pk->nproof, body);
    store_entries_release(x);
    free(x);
    free(pk);
    return rc;
}

static int stopping(struct mirrorpush *p)
{
    pthread_mutex_lock(&p->mu);
    int s = p->stop;
    pthread_mutex_unlock(&p->mu);
    return s;
}

/* The push client's abort_cb: a stop ends the request in flight (within
 * about a second) and fails every later one at once, so a slow mirror
 * cannot hold a shutdown for one timeout per request left in push_one. */
static int stop_requested(void *arg)
{
    return stopping(arg);
}

/* Schedules mirror k's next try after a failed push and says so. */
static void push_failed(struct mirrorpush *p, size_t k, uint64_t at, const char *why,
                        long status)
{
    const struct mirrorpush_target *m = &p->list.v[k];

    pthread_mutex_lock(&p->mu);
    p->failures[k]++;
    pthread_mutex_unlock(&p->mu);
    p->backoff[k] =
        gl_clock_backoff(p->backoff[k], (double)p->interval_ms / 1000.0, BACKOFF_MAX_S);
    p->retry_at[k] = gl_clock_mono() + p->backoff[k];
    gl_log(GL_LOG_WARN,
           "mirror %s (%s): push at %llu failed: %s (HTTP %ld); retrying in %.1f s",
           m->name, m->url, (unsigned long long)at, why, status, p->backoff[k]);
}

/* Brings mirror k to the stored tree (size, ck: the checkpoint to send).
 * ck_hash is ck's SHA-256; cosigned: ck carries more than the stored
 * checkpoint (the witness cosignatures), to be sent again to a mirror
 * that holds the size already. */
static void push_one(struct mirrorpush *p, size_t k, uint64_t size,
                     const struct gl_buf *ck, const uint8_t ck_hash[HLEN], int cosigned,
                     const char *origin, size_t olen)
{
    const struct mirrorpush_target *m = &p->list.v[k];
    struct gl_buf body, line;
    struct gl_err info_why = {0, ""}; /* a mirror info that does not parse */
    uint64_t pend = 0, next = 0, theirs = 0;
    long st = 0;
    uint64_t maxpk = MIRRORPUSH_PACKAGES; /* packages a body, at most */
    int rc, ck_sent = 0, stalled = 0, paused = 0, conflict = 0;
    double t0 = gl_clock_mono();

    gl_buf_init(&body, GL_MIRROR_BODY_BUILT);
    gl_buf_init(&line, MIRRORRESP_BODY_MAX);
    p->ticket_len = 0;
    /* the probe: an empty upload at our size; a 200 means the mirror holds
     * it already, a 409 tells its pending size and next entry */
    rc = gl_mirror_upload_encode(origin, olen, size, size, NULL, 0, &body);
    if (rc == 0)
        rc = add_entries(p, k, &body, &st, &pend, &next, &line, &info_why);
    if (rc == 0 && st != 409 && st != 200)
        rc = GL_ESTATE;
    if (rc == 0 && st == 409 && pend < size) {
        ck_sent = 1;
        rc = add_checkpoint(p, m, pend, size, ck, &conflict, &theirs);
        if (rc == 0 && conflict && theirs <= size)
            rc = add_checkpoint(p, m, theirs, size, ck, &conflict, &theirs);
        if (rc == 0 && conflict)
            rc = GL_ESTATE;
    }
    while (rc == 0 && st != 200) {
        uint64_t from = next < size ? next : size;
        gl_buf_reset(&body);
        gl_buf_reset(&line);
        rc = gl_mirror_upload_encode(origin, olen, from, size, p->ticket, p->ticket_len,
                                     &body);
        uint64_t np = gl_mirror_npackages(from, size), npk = 0;
        for (; npk < np && rc == 0 && gl_mirror_body_room(body.len, npk, maxpk); npk++)
            rc = add_package(p, from, size, npk, &body);
        if (rc == 0)
            rc = add_entries(p, k, &body, &st, &pend, &next, &line, &info_why);
        if (rc != 0 || st == 200)
            break;
        if (st == 413 && npk > 1) { /* too large for it: half as many */
            maxpk = npk / 2;
            gl_log(GL_LOG_INFO,
                   "mirror %s: body of %llu packages too large (413); sending %llu",
                   m->name, (unsigned long long)npk, (unsigned long long)maxpk);
            continue;
        }
        if (st != 202 && (st != 409 || pend != size)) {
            rc = GL_ESTATE;
            break;
        }
        if ((next < size ? next : size) <= from) {
            stalled = 1; /* it would be asked for the same entries forever */
            break;
        }
        if (st == 202)
            gl_log(GL_LOG_INFO, "mirror %s: next entry %llu of %llu", m->name,
                   (unsigned long long)next, (unsigned long long)size);
        if (stopping(p) || gl_clock_mono() - t0 >= PUSH_SLICE_S) {
            paused = 1; /* it moved: the next round resumes it */
            break;
        }
    }
    if (rc != 0 && stopping(p))
        paused = 1; /* a request the stop aborted (stop_requested): no failure */
    if (paused) {
        gl_log(GL_LOG_INFO,
               "mirror %s: paused at entry %llu of %llu until the next round", m->name,
               (unsigned long long)next, (unsigned long long)size);
        goto out;
    }
    if (stalled) {
        push_failed(p, k, next, "its next entry did not advance", st);
        goto out;
    }
    if (rc == 0 && st == 200 && !ck_sent && cosigned &&
        memcmp(p->sent[k], ck_hash, HLEN) != 0) {
        /* the mirror holds the size, not these cosignatures: the checkpoint
         * again (old = size), then the probe again, which makes the mirror
         * checkpoint take them */
        rc = add_checkpoint(p, m, size, size, ck, &conflict, &theirs);
        if (rc == 0 && !conflict) { /* else keep the first answer */
            gl_buf_reset(&body);
            gl_buf_reset(&line);
            rc = gl_mirror_upload_encode(origin, olen, size, size, NULL, 0, &body);
        }
        if (rc == 0 && !conflict)
            rc = add_entries(p, k, &body, &st, &pend, &next, &line, &info_why);
    }
    if (rc == 0 && st == 200) {
        struct gl_note *n = NULL;
        struct gl_err why = {0, "the checkpoint does not parse"};
        char msg[GL_ERR_REASON_MAX + 48];
        const char *sl = NULL;
        size_t so = 0, sn = 0;
        if (gl_note_parse((const char *)ck->data, ck->len, &n, NULL) == 0 &&
            mirrorresp_cosig(&m->key, n->text, n->text_len, (const char *)line.data,
                             line.len, (uint64_t)time(NULL), &so, &sn, &why) == 0) {
            sl = (const char *)line.data + so;
            if (p->done[k] != size)
                gl_log(GL_LOG_INFO, "mirror %s holds the log at %llu", m->name,
                       (unsigned long long)size);
            memcpy(p->sent[k], ck_hash, HLEN);
            pthread_mutex_lock(&p->mu);
            p->done[k] = size;
            gl_buf_reset(&p->line[k]);
            gl_buf_reset(&p->text[k]);
            if (gl_buf_append(&p->line[k], sl, sn) != 0 ||
                gl_buf_append(&p->text[k], n->text, n->text_len) != 0)
                gl_buf_reset(&p->line[k]);
            pthread_mutex_unlock(&p->mu);
            p->backoff[k] = 0;
        } else {
            snprintf(msg, sizeof msg, "its cosignature does not verify: %s", why.reason);
            push_failed(p, k, size, msg, st);
        }
        gl_note_free(n);
    } else {
        /* an answer outside the protocol's (a 503 while the mirror
         * reloads, a 404 for a log it does not mirror) is named as such */
        int refused = (rc == 0 || rc == GL_ESTATE) && st != 200 && st != 202 && st != 409;
        char msg[GL_ERR_REASON_MAX + 32];
        if (rc != 0 && stopping(p))
            goto out; /* the re-send the stop aborted: no failure */
        snprintf(msg, sizeof msg, "its mirror info: %s", info_why.reason);
        push_failed(p, k, next,
                    refused                   ? "the mirror refused it"
                    : info_why.reason[0] != 0 ? msg
                                              : gl_strerror(rc ? rc : GL_ESTATE),
                    st);
    }
out:
    gl_buf_release(&body);
    gl_buf_release(&line);
}

/* Mirror m's answer to the copy's question (mirrorpush_probe). */
static int probe_mirror(struct gl_http_client *c, const struct mirrorpush_target *m,
                        const uint8_t *note, size_t len, uint64_t size, int accept)
{
    char url[ENDPOINT_URL_MAX];
    struct wprobe_answer a;
    int rc;

    if ((rc = endpoint_url(m, "add-checkpoint", url)) != 0)
        return rc;
    if ((rc = wprobe_ask(c, url, TIMEOUT_MS, NULL, note, len, size, &a)) != 0)
        return rc;
    if (a.known && a.size > size) {
        gl_log(GL_LOG_ERROR,
               "this store is a copy (backup or restore) of size %llu and mirror %s "
               "(%s) holds size %llu of this log: the log released more than the copy "
               "holds, and signing on it would fork the log; refusing to start",
               (unsigned long long)size, m->name, m->url, (unsigned long long)a.size);
        return GL_ESTATE;
    }
    if (a.known && a.conflict) {
        gl_log(GL_LOG_ERROR,
               "this store is a copy (backup or restore) and mirror %s (%s) holds "
               "another tree of size %llu: refusing to start",
               m->name, m->url, (unsigned long long)size);
        return GL_ESTATE;
    }
    if (a.known || accept)
        return 0;
    gl_log(GL_LOG_ERROR,
           "this store is a copy (backup or restore) and mirror %s (%s) did not "
           "answer (%s): nothing shows the copy holds all the log released; refusing "
           "to start (start when every mirror answers, or pass --accept-copy if the "
           "copy is known to be current)",
           m->name, m->url,
           a.status == 0     ? a.error
           : a.status == 409 ? "HTTP 409 without a tree size"
                             : "an HTTP status other than 200 or 409");
    return GL_ESTATE;
}

int mirrorpush_probe(const struct mirrorpush_list *list, const uint8_t *note, size_t len,
                     uint64_t size, int accept)
{
    struct gl_http_client *c;
    int rc = 0;

    if (gl_http_client_new(NULL, &c) != 0)
        return GL_ENOMEM;
    for (size_t k = 0; k < list->n && rc == 0; k++)
        rc = probe_mirror(c, &list->v[k], note, len, size, accept);
    gl_http_client_free(c);
    if (rc == 0 && list->n > 0)
        gl_log(GL_LOG_INFO, "this store is a copy (backup or restore): no mirror holds "
                            "more of the log");
    return rc;
}

int mirrorpush_lines(struct mirrorpush *p, const char *text, size_t n, struct gl_buf *out)
{
    int rc = 0;
    if (p == NULL)
        return 0;
    pthread_mutex_lock(&p->mu);
    for (size_t k = 0; k < p->list.n && rc == 0; k++)
        if (p->line[k].len > 0 && p->text[k].len == n &&
            memcmp(p->text[k].data, text, n) == 0)
            rc = gl_buf_append(out, p->line[k].data, p->line[k].len);
    pthread_mutex_unlock(&p->mu);
    return rc;
}

int mirrorpush_metrics(struct mirrorpush *p, struct gl_buf *out)
{
    int rc;

    if (p == NULL)
        return 0;
    pthread_mutex_lock(&p->mu);
    /* each family is one group: its header, then a sample per mirror */
    rc = gl_metrics_family(out, "glasslog_mirror_size", "gauge",
                           "The tree size the mirror cosigned last.");
    for (size_t k = 0; k < p->list.n && rc == 0; k++)
        rc = gl_buf_printf(out, "glasslog_mirror_size{mirror=\"%s\"} %llu\n",
                           p->list.v[k].name, (unsigned long long)p->done[k]);
    if (rc == 0)
        rc = gl_metrics_family(out, "glasslog_mirror_push_failures_total", "counter",
                               "Pushes to the mirror that failed.");
    for (size_t k = 0; k < p->list.n && rc == 0; k++)
        rc = gl_buf_printf(out,
                           "glasslog_mirror_push_failures_total{mirror=\"%s\"} %llu\n",
                           p->list.v[k].name, (unsigned long long)p->failures[k]);
    pthread_mutex_unlock(&p->mu);
    return rc;
}

/* The checkpoint to push at the stored state (ck, size): the served one
 * when its text is ck's. *cosigned: it is the served one and differs. */
static int pick_checkpoint(struct mirrorpush *p, const struct gl_buf *ck,
                           struct gl_buf *out, int *cosigned)
{
    struct gl_note *n = NULL;
    size_t t = 0; /* the text and the blank line */
    int rc = 0;

    if (gl_note_parse((const char *)ck->data, ck->len, &n, NULL) == 0)
        t = n->text_len + 1;
    gl_note_free(n);

    *cosigned = 0;
    pthread_mutex_lock(&p->mu);
    if (t > 0 && p->served.len > t && memcmp(p->served.data, ck->data, t) == 0 &&
        (p->served.len != ck->len || memcmp(p->served.data, ck->data, ck->len) != 0)) {
        rc = gl_buf_append(out, p->served.data, p->served.len);
        *cosigned = rc == 0;
    }
    pthread_mutex_unlock(&p->mu);
    if (!*cosigned) {
        gl_buf_reset(out);
        rc = gl_buf_append(out, ck->data, ck->len);
    }
    return rc;
}

/* 1 if the stored tree (size) is above the released one: not pushed
 * (mirrorpush.h), the round is skipped and mirrorpush_released wakes the
 * thread once it is released. A size held in two rounds in a row (no
 * release between them: a full interval) is logged once. */
static int held_back(struct mirrorpush *p, uint64_t size)
{
    uint64_t released, before;

    pthread_mutex_lock(&p->mu);
    released = p->released;
    before = p->held;
    p->held = size > released ? size : 0;
    pthread_mutex_unlock(&p->mu);
    if (size <= released) {
        if (p->held_logged != 0)
            gl_log(GL_LOG_INFO, "mirror push: size %llu released; pushing again",
                   (unsigned long long)released);
        p->held_logged = 0;
        return 0;
    }
    if (before == size && p->held_logged != size) {
        gl_log(GL_LOG_WARN,
               "mirror push: the stored tree of size %llu is not released (released: "
               "%llu); the mirrors get it once the sequencer releases it",
               (unsigned long long)size, (unsigned long long)released);
        p->held_logged = size;
    }
    return 1;
}

static void round_all(struct mirrorpush *p)
{
    struct gl_buf ck, send;
    uint64_t size = 0;
    uint8_t h[HLEN];
    int cosigned = 0;
    gl_buf_init(&ck, 64 << 10);
    gl_buf_init(&send, 64 << 10);
    if (store_get_state(p->store, &size, &ck) == 0 && size > 0 && ck.len > 0 &&
        !held_back(p, size) && pick_checkpoint(p, &ck, &send, &cosigned) == 0 &&
        gl_sha256(send.data, send.len, h) == 0) {
        const char *nl = memchr(ck.data, '\n', ck.len);
        int loaded = 0;
        for (size_t k = 0; k < p->list.n && !stopping(p) && nl != NULL; k++) {
            if (p->done[k] == size && (!cosigned || memcmp(p->sent[k], h, HLEN) == 0))
                continue;
            if (p->backoff[k] > 0 && gl_clock_mono() < p->retry_at[k])
                continue;
            if (!loaded && tree_load(p->tree, p->store, size) != 0)
                break;
            loaded = 1;
            push_one(p, k, size, &send, h, cosigned, (const char *)ck.data,
                     (size_t)(nl - (char *)ck.data));
        }
    }
    gl_buf_release(&ck);
    gl_buf_release(&send);
}

void mirrorpush_served(struct mirrorpush *p, const uint8_t *note, size_t len)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    gl_buf_reset(&p->served);
    if (gl_buf_append(&p->served, note, len) != 0)
        gl_buf_reset(&p->served);
    pthread_mutex_unlock(&p->mu);
}

void mirrorpush_released(struct mirrorpush *p, uint64_t size)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    if (size > p->released)
        p->released = size;
    if (p->held != 0 && p->released >= p->held) {
        p->held = 0;
        p->wake = 1;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
}

static void *push_main(void *arg)
{
    struct mirrorpush *p = arg;
    while (!stopping(p)) {
        round_all(p);
        uint64_t until = gl_clock_mono_ms() + p->interval_ms;
        pthread_mutex_lock(&p->mu);
        while (!p->stop && !p->wake && !gl_clock_wait_until(&p->cv, &p->mu, until))
            ;
        p->wake = 0;
        pthread_mutex_unlock(&p->mu);
    }
    return NULL;
}

int mirrorpush_start(struct store *store, const struct mirrorpush_list *list,
                     unsigned interval_ms, struct mirrorpush **out)
{
    struct mirrorpush *p = calloc(1, sizeof *p);
    int rc;
    if (p == NULL || (p->tree = malloc(sizeof *p->tree)) == NULL) {
        free(p);
        return GL_ENOMEM;
    }
    p->store = store;
    p->list = *list;
    p->interval_ms = interval_ms ? interval_ms : 1000;
    for (size_t k = 0; k < MIRRORPUSH_MAX; k++) {
        p->gzip[k] = 1;
        gl_buf_init(&p->line[k], 1024);
        gl_buf_init(&p->text[k], 64 << 10);
    }
    gl_buf_init(&p->served, 64 << 10);
    pthread_mutex_init(&p->mu, NULL);
    gl_clock_cond_init(&p->cv);
    struct gl_http_client_config hc = {.abort_cb = stop_requested, .abort_arg = p};
    if ((rc = tilecache_new(256, &p->cache)) != 0 ||
        (rc = gl_http_client_new(&hc, &p->http)) != 0) {
        mirrorpush_free(p);
        return rc;
    }
    if (pthread_create(&p->thread, NULL, push_main, p) != 0) {
        mirrorpush_free(p);
        return GL_EIO;
    }
    p->started = 1;
    *out = p;
    return 0;
}

void mirrorpush_free(struct mirrorpush *p)
{
    if (p == NULL)
        return;
    if (p->started) {
        pthread_mutex_lock(&p->mu);
        p->stop = 1;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->thread, NULL);
    }
    gl_http_client_free(p->http);
    tilecache_free(p->cache);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    for (size_t k = 0; k < MIRRORPUSH_MAX; k++) {
        gl_buf_release(&p->line[k]);
        gl_buf_release(&p->text[k]);
    }
    gl_buf_release(&p->served);
    free(p->tree);
    free(p);
}

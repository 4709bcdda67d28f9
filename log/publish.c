/*
 * publish: witness cosigning of glasslogd's checkpoints; see publish.h.
 *
 * Each witness is a small state machine driven by a 250 ms timer and by
 * new checkpoints: idle -> request in flight -> (200: line kept, size
 * known | 409: size learnt, retry now | 422, 4xx, 5xx, 429, transport
 * error: back off). Every new checkpoint is a new generation; lines are
 * kept only for the current generation, so the served note always carries
 * cosignatures of exactly its own text.
 */
#include "publish.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "file.h"
#include "glasslog/codec.h"
#include "glasslog/cosig.h"
#include "glasslog/error.h"
#include "glasslog/log.h"
#include "glasslog/note.h"
#include "http_client.h"

#define PUB_NOTE_MAX ((size_t)65536)
#define PUB_BODY_MAX ((size_t)64 * 1024)
#define PUB_TICK_MS 250

struct wit {
    struct publish *p;
    const struct gl_policy_witness *pw;
    struct gl_buf url;       /* <url>/add-checkpoint */
    uint64_t known;          /* size the witness has cosigned */
    int known_valid, inflight, has_line;
    double retry_at, backoff;
    struct gl_buf line;      /* its cosignature of the current generation */
    uint64_t ok, failures;
};

struct publish {
    uv_loop_t *loop;
    struct gl_policy *pol;
    struct publish_config cfg;
    struct wit *w;
    size_t nw;
    struct gl_buf target;    /* latest log-signed checkpoint */
    uint64_t target_size, gen;
    int has_target;
    struct gl_buf served;
    uint64_t served_size;
    int has_served, quorum_met, closing;
    uv_timer_t timer;
};

struct push {
    struct wit *w;
    uint64_t gen, size;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Builds the add-checkpoint body for w at the current target. */
static int push_body(struct publish *p, struct wit *w, struct gl_buf *body)
{
    uint8_t proof[GL_MERKLE_MAX_PROOF][GL_HASH_LEN];
    char b64[48];
    uint64_t old = w->known_valid ? w->known : 0;
    size_t n = 0;
    int rc;

    if (old > p->target_size)
        return GL_ESTATE;
    if (old > 0 && (rc = p->cfg.prove(p->cfg.ctx, old, p->target_size, proof, &n)) != 0)
        return rc;
    if ((rc = gl_buf_printf(body, "old %llu\n", (unsigned long long)old)) != 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        gl_base64_encode(proof[i], GL_HASH_LEN, b64, sizeof(b64));
        if ((rc = gl_buf_printf(body, "%s\n", b64)) != 0)
            return rc;
    }
    if ((rc = gl_buf_putc(body, '\n')) != 0)
        return rc;
    return gl_buf_append(body, p->target.data, p->target.len);
}

/* Joins the current target and the kept lines into out. */
static int join_lines(struct publish *p, struct gl_buf *out, uint8_t *flags)
{
    struct gl_buf lines;
    int rc = 0;

    gl_buf_init(&lines, PUB_NOTE_MAX);
    for (size_t i = 0; i < p->nw && rc == 0; i++) {
        flags[i] = (uint8_t)p->w[i].has_line;
        if (p->w[i].has_line)
            rc = gl_buf_append(&lines, p->w[i].line.data, p->w[i].line.len);
    }
    if (rc == 0 && lines.len > 0)
        rc = gl_cosig_append((const char *)p->target.data, p->target.len,
                             (const char *)lines.data, lines.len, out);
    else if (rc == 0)
        rc = gl_buf_append(out, p->target.data, p->target.len);
    gl_buf_release(&lines);
    return rc;
}

static void update_served(struct publish *p)
{
    uint8_t *flags = calloc(p->nw ? p->nw : 1, 1);
    struct gl_buf note;
    int quorum;

    gl_buf_init(&note, PUB_NOTE_MAX);
    if (flags == NULL || !p->has_target || join_lines(p, &note, flags) != 0)
        goto out;
    quorum = gl_policy_quorum_check(p->pol, flags, p->nw) == 0;
    if (quorum != p->quorum_met && !quorum && !p->cfg.block)
        gl_log(GL_LOG_WARN, "witness quorum not met for size %llu: serving it anyway "
                            "(fail-open)", (unsigned long long)p->target_size);
    p->quorum_met = quorum;
    if (!quorum && p->cfg.block)
        goto out;
    if (p->has_served && note.len == p->served.len &&
        memcmp(note.data, p->served.data, note.len) == 0)
        goto out;
    gl_buf_release(&p->served);
    p->served = note;
    gl_buf_init(&note, PUB_NOTE_MAX);
    p->served_size = p->target_size;
    p->has_served = 1;
    if (p->cfg.served != NULL)
        p->cfg.served(p->cfg.ctx);
out:
    gl_buf_release(&note);
    free(flags);
}

static void wit_backoff(struct wit *w, const char *why, long status)
{
    w->failures++;
    w->backoff = w->backoff < 0.5 ? 0.5 : w->backoff * 2 > 30 ? 30 : w->backoff * 2;
    w->retry_at = now_s() + w->backoff;
    gl_log(GL_LOG_WARN, "witness %s: %s (%ld); retrying in %.1f s", w->pw->name, why, status,
           w->backoff);
}

/* Checks a 200 answer's cosignature line(s) and keeps this witness's. */
static int wit_take_line(struct wit *w, const struct gl_buf *body)
{
    struct publish *p = w->p;
    struct gl_cosig_status st;
    struct gl_note *n = NULL;
    struct gl_buf joined;
    int rc;

    gl_buf_init(&joined, PUB_NOTE_MAX);
    if ((rc = gl_cosig_append((const char *)p->target.data, p->target.len,
                              (const char *)body->data, body->len, &joined)) != 0 ||
        (rc = gl_note_parse((const char *)joined.data, joined.len, &n)) != 0 ||
        (rc = gl_cosig_verify_note(n, w->pw->key, 1, &st, NULL)) != 0)
        goto out;
    if (st.status != 0) {
        rc = GL_EVERIFY;
        goto out;
    }
    gl_buf_reset(&w->line);
    rc = gl_buf_append(&w->line, n->sigs[st.sig].line, n->sigs[st.sig].line_len);
    w->has_line = rc == 0;
out:
    gl_note_free(n);
    gl_buf_release(&joined);
    return rc;
}

static void wit_kick(struct wit *w);

static void on_push(void *arg, int err, struct gl_http_response *resp)
{
    struct push *ps = arg;
    struct wit *w = ps->w;
    struct publish *p = w->p;
    uint64_t size;

    w->inflight = 0;
    if (err != 0) {
        wit_backoff(w, resp->error[0] ? resp->error : gl_strerror(err), 0);
    } else if (resp->status == 200) {
        w->known = ps->size;
        w->known_valid = 1;
        w->backoff = 0;
        if (ps->gen == p->gen && wit_take_line(w, &resp->body) == 0) {
            w->ok++;
            update_served(p);
        } else if (ps->gen == p->gen) {
            wit_backoff(w, "answered 200 without a valid cosignature", 200);
        }
    } else if (resp->status == 409 &&
               gl_parse_u64((const char *)resp->body.data,
                            resp->body.len > 0 ? resp->body.len - 1 : 0, &size) == 0) {
        w->known = size;
        w->known_valid = 1;
        if (size > p->target_size)
            gl_log(GL_LOG_ERROR, "witness %s has cosigned size %llu, larger than ours (%llu): "
                                 "this log's data was lost or replaced",
                   w->pw->name, (unsigned long long)size, (unsigned long long)p->target_size);
        if (size > p->target_size)
            wit_backoff(w, "witness is ahead of the log", 409);
    } else {
        if (resp->status == 422)
            gl_log(GL_LOG_ERROR, "witness %s says our checkpoint is inconsistent with what it "
                                 "cosigned (422)", w->pw->name);
        wit_backoff(w, "add-checkpoint refused", resp->status);
    }
    free(ps);
    if (!p->closing)
        wit_kick(w);
}

/* Sends the current target to w if it needs it and may be asked now. */
static void wit_kick(struct wit *w)
{
    struct publish *p = w->p;
    struct gl_http_request_spec spec;
    struct gl_buf body;
    struct push *ps;

    if (p->closing || !p->has_target || w->inflight || w->has_line || now_s() < w->retry_at)
        return;
    gl_buf_init(&body, PUB_BODY_MAX);
    ps = malloc(sizeof(*ps));
    if (ps == NULL || push_body(p, w, &body) != 0) {
        free(ps);
        gl_buf_release(&body);
        wit_backoff(w, "cannot build the request", 0);
        return;
    }
    *ps = (struct push){w, p->gen, p->target_size};
    memset(&spec, 0, sizeof(spec));
    spec.method = "POST";
    spec.url = (const char *)w->url.data;
    spec.content_type = "text/plain";
    spec.body = body.data;
    spec.body_len = body.len;
    spec.max_response = PUB_BODY_MAX;
    spec.timeout_ms = p->cfg.timeout_ms;
    if (gl_http_request_async(p->loop, NULL, &spec, on_push, ps) == 0)
        w->inflight = 1;
    else {
        free(ps);
        wit_backoff(w, "cannot queue the request", 0);
    }
    gl_buf_release(&body);
}

static void on_tick(uv_timer_t *t)
{
    struct publish *p = t->data;

    for (size_t i = 0; i < p->nw; i++)
        wit_kick(&p->w[i]);
}

void publish_checkpoint(struct publish *p, const uint8_t *note, size_t len, uint64_t size)
{
    gl_buf_reset(&p->target);
    if (gl_buf_append(&p->target, note, len) != 0) {
        gl_log(GL_LOG_ERROR, "checkpoint too large to publish");
        return;
    }
    p->target_size = size;
    p->has_target = 1;
    p->gen++;
    for (size_t i = 0; i < p->nw; i++) {
        p->w[i].has_line = 0;
        p->w[i].retry_at = 0;
    }
    update_served(p);
    if (!p->closing) /* push on the next loop turn, then every tick */
        uv_timer_start(&p->timer, on_tick, 0, PUB_TICK_MS);
}

void publish_served(const struct publish *p, const struct gl_buf **note, uint64_t *size)
{
    *note = p->has_served ? &p->served : NULL;
    *size = p->has_served ? p->served_size : 0;
}

int publish_new(uv_loop_t *loop, struct gl_policy *pol, const struct publish_config *cfg,
                struct publish **out)
{
    struct publish *p = calloc(1, sizeof(*p));
    size_t n = gl_policy_nwitnesses(pol);

    if (p == NULL || (p->w = calloc(n ? n : 1, sizeof(*p->w))) == NULL) {
        free(p);
        gl_policy_free(pol);
        return GL_ENOMEM;
    }
    p->loop = loop;
    p->pol = pol;
    p->cfg = *cfg;
    p->nw = n;
    gl_buf_init(&p->target, PUB_NOTE_MAX);
    gl_buf_init(&p->served, PUB_NOTE_MAX);
    for (size_t i = 0; i < n; i++) {
        struct wit *w = &p->w[i];
        const char *u;
        w->p = p;
        w->pw = gl_policy_witness_at(pol, i);
        u = w->pw->url;
        gl_buf_init(&w->url, 2048);
        gl_buf_init(&w->line, 1024);
        if (u == NULL || gl_buf_printf(&w->url, "%s%sadd-checkpoint", u,
                                       u[0] && u[strlen(u) - 1] == '/' ? "" : "/") != 0) {
            gl_log(GL_LOG_ERROR, "witness %s has no usable URL", w->pw->name);
            publish_free(p);
            return GL_EINVAL;
        }
    }
    uv_timer_init(loop, &p->timer);
    p->timer.data = p;
    uv_timer_start(&p->timer, on_tick, PUB_TICK_MS, PUB_TICK_MS);
    *out = p;
    return 0;
}

void publish_close(struct publish *p)
{
    if (p == NULL || p->closing)
        return;
    p->closing = 1;
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->timer, NULL);
}

void publish_free(struct publish *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->nw; i++) {
        gl_buf_release(&p->w[i].url);
        gl_buf_release(&p->w[i].line);
    }
    free(p->w);
    gl_buf_release(&p->target);
    gl_buf_release(&p->served);
    gl_policy_free(p->pol);
    free(p);
}

/* One blocking add-checkpoint with an empty proof from `old`. */
static int probe_one(struct gl_http_client *c, struct wit *w, uint64_t old, const uint8_t *note,
                     size_t len, struct gl_http_response *resp)
{
    struct gl_buf body;
    int rc;

    gl_buf_init(&body, PUB_BODY_MAX);
    rc = gl_buf_printf(&body, "old %llu\n\n", (unsigned long long)old);
    if (rc == 0)
        rc = gl_buf_append(&body, note, len);
    if (rc == 0)
        rc = gl_http_post(c, (const char *)w->url.data, "text/plain", body.data, body.len,
                          PUB_BODY_MAX, 5000, resp);
    gl_buf_release(&body);
    return rc;
}

static int probe_witness(struct gl_http_client *c, struct wit *w, const uint8_t *note,
                         size_t len, uint64_t size)
{
    struct gl_http_response r;
    uint64_t theirs;
    int rc = probe_one(c, w, 0, note, len, &r);

    if (rc != 0) {
        gl_log(GL_LOG_WARN, "witness %s unreachable at start: %s", w->pw->name, r.error);
        rc = 0; /* not proof of anything; pushes will retry */
        goto out;
    }
    if (r.status == 409 &&
        gl_parse_u64((const char *)r.body.data, r.body.len ? r.body.len - 1 : 0, &theirs) == 0) {
        w->known = theirs;
        w->known_valid = 1;
        if (theirs > size) {
            gl_log(GL_LOG_ERROR, "witness %s has cosigned size %llu but this log has only %llu: "
                                 "its data was lost or replaced; refusing to sign",
                   w->pw->name, (unsigned long long)theirs, (unsigned long long)size);
            rc = GL_ESTATE;
        } else if (theirs == size) {
            gl_http_response_release(&r);
            if (probe_one(c, w, size, note, len, &r) == 0 && r.status == 422) {
                gl_log(GL_LOG_ERROR, "witness %s has cosigned another tree of size %llu: this "
                                     "log's data was replaced; refusing to sign",
                       w->pw->name, (unsigned long long)size);
                rc = GL_ESTATE;
            }
        }
    } else if (r.status == 200) {
        w->known = size;
        w->known_valid = 1;
    } else {
        gl_log(GL_LOG_WARN, "witness %s answered %ld at start", w->pw->name, r.status);
    }
out:
    gl_http_response_release(&r);
    return rc;
}

int publish_probe(struct publish *p, const uint8_t *note, size_t len, uint64_t size)
{
    struct gl_http_client *c;
    int rc = 0;

    if (gl_http_client_new(NULL, &c) != 0)
        return GL_ENOMEM;
    for (size_t i = 0; i < p->nw && rc == 0; i++)
        rc = probe_witness(c, &p->w[i], note, len, size);
    gl_http_client_free(c);
    return rc;
}

int publish_metrics(const struct publish *p, struct gl_buf *out)
{
    int rc = gl_buf_printf(out, "# TYPE glasslog_witness_cosignatures_total counter\n"
                                "# TYPE glasslog_witness_failures_total counter\n"
                                "# TYPE glasslog_witness_size gauge\n");

    for (size_t i = 0; i < p->nw && rc == 0; i++) {
        const struct wit *w = &p->w[i];
        rc = gl_buf_printf(out,
                           "glasslog_witness_cosignatures_total{witness=\"%s\"} %llu\n"
                           "glasslog_witness_failures_total{witness=\"%s\"} %llu\n"
                           "glasslog_witness_size{witness=\"%s\"} %llu\n",
                           w->pw->name, (unsigned long long)w->ok, w->pw->name,
                           (unsigned long long)w->failures, w->pw->name,
                           (unsigned long long)w->known);
    }
    if (rc == 0)
        rc = gl_buf_printf(out, "# HELP glasslog_witness_quorum_met 1 if the latest checkpoint "
                                "has a quorum of cosignatures.\n# TYPE glasslog_witness_quorum_met "
                                "gauge\nglasslog_witness_quorum_met %d\n"
                                "# TYPE glasslog_served_checkpoint_size gauge\n"
                                "glasslog_served_checkpoint_size %llu\n",
                           p->quorum_met, (unsigned long long)p->served_size);
    return rc;
}

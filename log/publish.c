/*
 * publish: witness cosigning of glasslogd's checkpoints; see publish.h.
 *
 * State:
 *  - the history: a ring of at most PUB_HISTORY entries, one per released
 *    size, ascending; each holds the log-signed note and, per witness, the
 *    cosignature line it gave for that note (if any) and the release
 *    number ("gen") it was asked at. An entry is "fresh" for a witness
 *    when its line was asked at the entry's latest release: re-releasing a
 *    size bumps the entry's gen, so the witnesses are asked again. Entries
 *    below the served size are dropped; when the ring is full the oldest
 *    goes (a late line for it is then ignored).
 *  - the round: the size every idle witness is asked about (see
 *    publish.h); it only grows.
 *  - per witness: the size it has cosigned (known), one request in flight
 *    at most, back-off and health (the last exchange went well).
 * Invariants: the served note always carries cosignatures of exactly its
 * own text (each line is verified against that text before it is kept);
 * served_size never decreases; the round target is in the history while
 * has_round is set.
 */
#include "publish.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "glasslog/codec.h"
#include "glasslog/cosig.h"
#include "glasslog/error.h"
#include "glasslog/log.h"
#include "glasslog/note.h"
#include "clock.h"
#include "http_client.h"
#include "metrics.h"
#include "wprobe.h"

#define PUB_NOTE_MAX ((size_t)65536)
#define PUB_BODY_MAX ((size_t)64 * 1024)
#define PUB_LINE_MAX ((size_t)1024)
#define PUB_HISTORY 64
#define PUB_TICK_MS 250
#define PUB_BACKOFF_FIRST 0.5
#define PUB_BACKOFF_MAX 30.0

struct entry {
    uint64_t size, gen;
    double released_at;  /* wall-clock time of its latest release (signing) */
    struct gl_buf note;  /* the log-signed checkpoint */
    struct gl_buf *line; /* [nw]: a witness's cosignature line, or empty */
    uint64_t *line_gen;  /* [nw]: the gen it was asked at (0: no line) */
};

struct wit {
    struct publish *p;
    const struct gl_policy_witness *pw;
    struct gl_buf url; /* <url>/add-checkpoint */
    uint64_t known;    /* size the witness has cosigned */
    int known_valid, inflight, conflicts, healthy;
    uint64_t inflight_size;
    double retry_at, backoff;
    uint64_t ok, failures;
};

struct publish {
    uv_loop_t *loop;
    struct gl_policy *pol;
    struct publish_config cfg;
    struct gl_http_multi *http;
    struct wit *w;
    size_t nw;
    struct entry ring[PUB_HISTORY];
    size_t head, count; /* ring[head] is the oldest of count entries */
    uint64_t gen;       /* releases so far */
    uint64_t round;     /* the round's target size, if has_round */
    int has_round;
    uint8_t *flags; /* [nw] scratch for quorum checks */
    struct gl_buf served;
    uint64_t served_size;
    int has_served, served_quorum, closing;
    double served_at; /* see publish_served_time; publish_new's time at first */
    uint64_t rounds;
    struct gl_policy *next_pol; /* a reloaded policy, applied once nothing is in flight */
    uv_timer_t timer;
};

struct push {
    struct wit *w;
    uint64_t size, gen;
};

/* --- the history ------------------------------------------------------------ */

static struct entry *entry_at(struct publish *p, size_t i)
{
    assert(i < p->count);
    return &p->ring[(p->head + i) % PUB_HISTORY];
}

static struct entry *newest(struct publish *p)
{
    return p->count > 0 ? entry_at(p, p->count - 1) : NULL;
}

static struct entry *find(struct publish *p, uint64_t size)
{
    for (size_t i = 0; i < p->count; i++)
        if (entry_at(p, i)->size == size)
            return entry_at(p, i);
    return NULL;
}

static void entry_clear(struct publish *p, struct entry *e)
{
    gl_buf_reset(&e->note);
    for (size_t i = 0; i < p->nw; i++) {
        gl_buf_reset(&e->line[i]);
        e->line_gen[i] = 0;
    }
}

static void drop_oldest(struct publish *p)
{
    struct entry *e = entry_at(p, 0);

    if (p->has_round && e->size == p->round)
        p->has_round = 0;
    entry_clear(p, e);
    p->head = (p->head + 1) % PUB_HISTORY;
    p->count--;
}

/* Sets p->flags to the witnesses with a line for e (fresh ones only, if
 * fresh), and says whether they make a quorum. */
static int entry_quorum(struct publish *p, const struct entry *e, int fresh)
{
    for (size_t i = 0; i < p->nw; i++)
        p->flags[i] = e->line_gen[i] != 0 && (!fresh || e->line_gen[i] >= e->gen);
    return gl_policy_quorum_check(p->pol, p->flags, p->nw) == 0;
}

/* 1 if the witnesses that last answered well could make a quorum. */
static int quorum_reachable(struct publish *p)
{
    for (size_t i = 0; i < p->nw; i++)
        p->flags[i] = (uint8_t)p->w[i].healthy;
    return gl_policy_quorum_check(p->pol, p->flags, p->nw) == 0;
}

/* --- the served checkpoint --------------------------------------------------------- */

/* Writes e's note with every line it has into out. */
static int join_lines(struct publish *p, const struct entry *e, struct gl_buf *out)
{
    struct gl_buf lines;
    int rc = 0;

    gl_buf_init(&lines, PUB_NOTE_MAX);
    for (size_t i = 0; i < p->nw && rc == 0; i++)
        rc = gl_buf_append(&lines, e->line[i].data, e->line[i].len);
    if (rc == 0 && lines.len > 0)
        rc = gl_cosig_append((const char *)e->note.data, e->note.len,
                             (const char *)lines.data, lines.len, out, NULL);
    else if (rc == 0)
        rc = gl_buf_append(out, e->note.data, e->note.len);
    gl_buf_release(&lines);
    return rc;
}

/* Serves e (with its lines) if that changes what is served. */
static void serve(struct publish *p, struct entry *e, int quorum)
{
    struct gl_buf note;

    assert(!p->has_served || e->size >= p->served_size);
    gl_buf_init(&note, PUB_NOTE_MAX);
    if (join_lines(p, e, &note) != 0) {
        gl_log(GL_LOG_ERROR, "cannot assemble the cosigned checkpoint of size %llu",
               (unsigned long long)e->size);
        goto out;
    }
    if (!quorum && (!p->has_served || p->served_quorum))
        gl_log(GL_LOG_WARN,
               "witness quorum not met for size %llu: serving it anyway "
               "(fail-open)",
               (unsigned long long)e->size);
    /* a quorum of lines asked at an older release of this size (the
     * witnesses did not answer the re-signing) leaves the time as it was */
    if (!quorum || entry_quorum(p, e, 1) || !p->has_served || p->served_size != e->size)
        p->served_at = e->released_at;
    p->served_quorum = quorum;
    if (p->has_served && note.len == p->served.len &&
        memcmp(note.data, p->served.data, note.len) == 0)
        goto out;
    gl_buf_release(&p->served);
    p->served = note;
    gl_buf_init(&note, PUB_NOTE_MAX);
    p->served_size = e->size;
    p->has_served = 1;
    while (p->count > 1 && entry_at(p, 0)->size < p->served_size)
        drop_oldest(p);
    if (p->cfg.served != NULL)
        p->cfg.served(p->cfg.ctx);
out:
    gl_buf_release(&note);
}

/* The newest checkpoint of the history, or NULL if serving it would take
 * the served size back: a follower that adopted a larger served checkpoint
 * (publish_adopt) may still hold its own older one. */
static struct entry *newest_servable(struct publish *p)
{
    struct entry *e = p->count > 0 ? newest(p) : NULL;

    return e != NULL && (!p->has_served || e->size >= p->served_size) ? e : NULL;
}

/* Serves the newest checkpoint with a quorum, or (fail-open, when no quorum
 * can form) the newest one. */
static void update_served(struct publish *p)
{
    struct entry *e;

    for (size_t i = p->count; i-- > 0;) {
        e = entry_at(p, i);
        if (p->has_served && e->size < p->served_size)
            break;
        if (entry_quorum(p, e, 0)) {
            serve(p, e, 1);
            return;
        }
    }
    if (!p->cfg.block && (e = newest_servable(p)) != NULL && !quorum_reachable(p))
        serve(p, e, 0);
}

void publish_serve_newest(struct publish *p)
{
    struct entry *e = newest_servable(p);

    if (e != NULL)
        serve(p, e, entry_quorum(p, e, 0));
}

/* --- rounds ---------------------------------------------------------------------- */

/* Ends the round if its target has a fresh quorum or nobody is being asked
 * about it any more; a new round targets the newest checkpoint. */
static void update_round(struct publish *p)
{
    struct entry *e = p->has_round ? find(p, p->round) : NULL;

    if (e != NULL) {
        if (!entry_quorum(p, e, 1)) {
            for (size_t i = 0; i < p->nw; i++)
                if (p->w[i].inflight && p->w[i].inflight_size == p->round)
                    return;
        }
        if (e == newest(p) && entry_quorum(p, e, 1))
            return; /* done, and nothing newer to ask about yet */
    }
    if (p->count == 0)
        return;
    if (!p->has_round || newest(p)->size != p->round || e == NULL)
        p->rounds++;
    p->round = newest(p)->size;
    p->has_round = 1;
}

/* What w should be asked about now, or NULL: the round's target, or the
 * newest checkpoint if the witness is already past the target. */
static struct entry *wit_target(struct wit *w)
{
    struct publish *p = w->p;
    size_t i = (size_t)(w - p->w);
    struct entry *e = p->has_round ? find(p, p->round) : NULL;

    if (e != NULL && w->known_valid && w->known > e->size)
        e = newest(p);
    if (e == NULL || (w->known_valid && w->known > e->size))
        return NULL;
    if (e->line_gen[i] != 0 && e->line_gen[i] >= e->gen)
        return NULL; /* already fresh */
    return e;
}

/* --- one witness ------------------------------------------------------------------ */

/* Builds the add-checkpoint body asking w to cosign e. */
static int push_body(struct publish *p, struct wit *w, const struct entry *e,
                     struct gl_buf *body)
{
    uint8_t proof[GL_MERKLE_MAX_PROOF][GL_HASH_LEN];
    char b64[48];
    uint64_t old = w->known_valid ? w->known : 0;
    size_t n = 0;
    int rc;

    if (old > e->size)
        return GL_ESTATE;
    if (old > 0 && (rc = p->cfg.prove(p->cfg.ctx, old, e->size, proof, &n)) != 0)
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
    return gl_buf_append(body, e->note.data, e->note.len);
}

static void wit_backoff(struct wit *w, const char *why, long status)
{
    w->failures++;
    w->healthy = 0;
    w->backoff = gl_clock_backoff(w->backoff, PUB_BACKOFF_FIRST, PUB_BACKOFF_MAX);
    w->retry_at = gl_clock_mono() + w->backoff;
    gl_log(GL_LOG_WARN, "witness %s: %s (%ld); retrying in %.1f s", w->pw->name, why,
           status, w->backoff);
}

/* Checks a 200 answer's cosignature line(s) for e and keeps this
 * witness's, asked at gen; why says what is wrong with a refused one. */
static int wit_take_line(struct wit *w, struct entry *e, uint64_t gen,
                         const struct gl_buf *body, struct gl_err *why)
{
    size_t i = (size_t)(w - w->p->w);
    int rc = gl_cosig_check_answer(w->pw->key, (const char *)e->note.data, e->note.len,
                                   (const char *)body->data, body->len,
                                   (uint64_t)time(NULL), &e->line[i], why);

    if (rc == 0)
        e->line_gen[i] = gen;
    return rc;
}

static void kick_all(struct publish *p);

/* A 409: the witness's size is `size`. Retried at once, unless the last
 * answer was a 409 too. */
static void wit_conflict(struct wit *w, uint64_t size)
{
    struct publish *p = w->p;
    struct entry *e = newest(p);

    w->known = size;
    w->known_valid = 1;
    if (e != NULL && size > e->size) {
        gl_log(GL_LOG_ERROR,
               "witness %s has cosigned size %llu, larger than ours (%llu): "
               "this log's data was lost or replaced",
               w->pw->name, (unsigned long long)size, (unsigned long long)e->size);
        wit_backoff(w, "witness is ahead of the log", 409);
    } else if (w->conflicts++ > 0) {
        wit_backoff(w, "409 twice in a row", 409);
    }
}

static void on_push(void *arg, int err, struct gl_http_response *resp)
{
    struct push *ps = arg;
    struct wit *w = ps->w;
    struct publish *p = w->p;
    struct entry *e = find(p, ps->size);
    char msg[GL_ERR_REASON_MAX + 64], reason[GL_ERR_REASON_MAX + 32];
    struct gl_err why;
    uint64_t size;

    w->inflight = 0;
    if (p->closing) {
        free(ps);
        return;
    }
    if (err != 0) {
        wit_backoff(w, resp->error[0] ? resp->error : gl_strerror(err), 0);
    } else if (resp->status == 200) {
        w->known = ps->size;
        w->known_valid = 1;
        w->conflicts = 0;
        if (e != NULL && wit_take_line(w, e, ps->gen, &resp->body, &why) != 0) {
            snprintf(msg, sizeof(msg), "answered 200 without a valid cosignature: %s",
                     gl_err_format(&why, NULL, reason, sizeof(reason)));
            wit_backoff(w, msg, 200);
        } else {
            w->ok++;
            w->healthy = 1;
            w->backoff = 0;
        }
    } else if (resp->status == 409 && gl_parse_size_body((const char *)resp->body.data,
                                                         resp->body.len, &size) == 0) {
        wit_conflict(w, size);
    } else {
        if (resp->status == 422)
            gl_log(GL_LOG_ERROR,
                   "witness %s says our checkpoint is inconsistent with what it "
                   "cosigned (422)",
                   w->pw->name);
        wit_backoff(w, "add-checkpoint refused", resp->status);
    }
    free(ps);
    update_served(p);
    update_round(p);
    kick_all(p);
}

/* Asks w about its target if it has one and may be asked now. */
static void wit_kick(struct wit *w)
{
    struct publish *p = w->p;
    struct gl_http_request_spec spec;
    struct entry *e;
    struct gl_buf body;
    struct push *ps;

    if (p->closing || p->next_pol != NULL || w->inflight ||
        gl_clock_mono() < w->retry_at || (e = wit_target(w)) == NULL)
        return;
    gl_buf_init(&body, PUB_BODY_MAX);
    ps = malloc(sizeof(*ps));
    if (ps == NULL || push_body(p, w, e, &body) != 0) {
        free(ps);
        gl_buf_release(&body);
        wit_backoff(w, "cannot build the request", 0);
        return;
    }
    *ps = (struct push){w, e->size, e->gen};
    memset(&spec, 0, sizeof(spec));
    spec.method = "POST";
    spec.url = (const char *)w->url.data;
    spec.content_type = "text/plain";
    spec.body = body.data;
    spec.body_len = body.len;
    spec.max_response = PUB_BODY_MAX;
    spec.timeout_ms = p->cfg.timeout_ms;
    if (gl_http_multi_request(p->http, &spec, on_push, ps) == 0) {
        w->inflight = 1;
        w->inflight_size = e->size;
    } else {
        free(ps);
        wit_backoff(w, "cannot queue the request", 0);
    }
    gl_buf_release(&body);
}

static int apply_policy(struct publish *p);

static void kick_all(struct publish *p)
{
    if (p->next_pol != NULL) {
        for (size_t i = 0; i < p->nw; i++)
            if (p->w[i].inflight)
                return; /* the policy waits for the last answer */
        if (apply_policy(p) != 0)
            return;
        update_served(p);
        update_round(p);
    }
    for (size_t i = 0; i < p->nw; i++)
        wit_kick(&p->w[i]);
}

static void on_tick(uv_timer_t *t)
{
    struct publish *p = t->data;

    update_round(p);
    kick_all(p);
}

/* --- a reloaded policy ----------------------------------------------------------------
 * Applied between requests (no struct wit is referenced by a request in
 * flight then). A witness of the new policy with the same name, key and
 * URL as one of the old keeps its state and the cosignatures it gave; the
 * others start afresh. The served checkpoint stays (the served size never
 * goes down); the next one needs the new quorum. */

/* The index in the old witnesses of one equal to pw, or SIZE_MAX. */
static size_t old_witness(const struct publish *p, const struct gl_policy_witness *pw)
{
    for (size_t i = 0; i < p->nw; i++) {
        const struct gl_policy_witness *o = p->w[i].pw;
        if (strcmp(o->name, pw->name) == 0 && o->key->id == pw->key->id &&
            memcmp(o->key->pub, pw->key->pub, sizeof(o->key->pub)) == 0 &&
            strcmp(o->url != NULL ? o->url : "", pw->url != NULL ? pw->url : "") == 0)
            return i;
    }
    return SIZE_MAX;
}

static int wit_init(struct publish *p, struct wit *w, const struct gl_policy_witness *pw);

static int apply_policy(struct publish *p)
{
    struct gl_policy *pol = p->next_pol;
    size_t n = gl_policy_nwitnesses(pol), m = n ? n : 1, *from;
    struct wit *w = calloc(m, sizeof(*w));
    uint8_t *flags = calloc(m, 1);
    struct gl_buf *lines[PUB_HISTORY] = {0};
    uint64_t *gens[PUB_HISTORY] = {0};
    int rc = GL_ENOMEM;

    p->next_pol = NULL;
    from = calloc(m, sizeof(*from));
    if (w == NULL || flags == NULL || from == NULL)
        goto fail;
    for (size_t h = 0; h < PUB_HISTORY; h++)
        if ((lines[h] = calloc(m, sizeof(*lines[h]))) == NULL ||
            (gens[h] = calloc(m, sizeof(*gens[h]))) == NULL)
            goto fail;
    for (size_t j = 0; j < n; j++) {
        const struct gl_policy_witness *pw = gl_policy_witness_at(pol, j);
        from[j] = old_witness(p, pw);
        if (from[j] == SIZE_MAX && (rc = wit_init(p, &w[j], pw)) != 0)
            goto fail;
    }
    /* Nothing fails from here on: the kept witnesses move over. */
    for (size_t j = 0; j < n; j++)
        if (from[j] != SIZE_MAX) {
            w[j] = p->w[from[j]];
            w[j].pw = gl_policy_witness_at(pol, j);
            gl_buf_init(&p->w[from[j]].url, 2048); /* moved to w[j] */
        }
    for (size_t h = 0; h < PUB_HISTORY; h++) {
        struct entry *e = &p->ring[h];
        for (size_t j = 0; j < n; j++) {
            gl_buf_init(&lines[h][j], PUB_LINE_MAX);
            if (from[j] != SIZE_MAX) {
                lines[h][j] = e->line[from[j]];
                gens[h][j] = e->line_gen[from[j]];
                gl_buf_init(&e->line[from[j]], PUB_LINE_MAX);
            }
        }
        for (size_t i = 0; i < p->nw; i++)
            gl_buf_release(&e->line[i]);
        free(e->line);
        free(e->line_gen);
        e->line = lines[h];
        e->line_gen = gens[h];
    }
    for (size_t i = 0; i < p->nw; i++)
        gl_buf_release(&p->w[i].url);
    free(p->w);
    free(p->flags);
    gl_policy_free(p->pol);
    for (size_t j = 0; j < n; j++)
        w[j].p = p;
    p->w = w;
    p->flags = flags;
    p->nw = n;
    p->pol = pol;
    p->has_round = 0;
    free(from);
    gl_log(GL_LOG_INFO, "witness policy reloaded: %zu witness(es)", n);
    return 0;
fail:
    for (size_t j = 0; w != NULL && from != NULL && j < n; j++)
        if (from[j] == SIZE_MAX)
            gl_buf_release(&w[j].url); /* a no-op on one never initialised */
    for (size_t h = 0; h < PUB_HISTORY; h++) {
        free(lines[h]);
        free(gens[h]);
    }
    free(w);
    free(flags);
    free(from);
    gl_policy_free(pol);
    gl_log(GL_LOG_ERROR,
           "cannot apply the reloaded witness policy: %s; keeping the old one",
           gl_strerror(rc));
    return rc;
}

void publish_set_policy(struct publish *p, struct gl_policy *pol)
{
    gl_policy_free(p->next_pol);
    p->next_pol = pol;
    kick_all(p);
}

/* --- the interface ----------------------------------------------------------------- */

void publish_checkpoint(struct publish *p, const uint8_t *note, size_t len, uint64_t size)
{
    struct entry *e = newest(p);

    if (e != NULL && size < e->size) {
        gl_log(GL_LOG_ERROR, "checkpoint of size %llu after size %llu: not published",
               (unsigned long long)size, (unsigned long long)e->size);
        return;
    }
    if (e == NULL || e->size != size) {
        if (p->count == PUB_HISTORY)
            drop_oldest(p);
        p->count++;
        e = newest(p);
        e->size = size;
    }
    gl_buf_reset(&e->note);
    if (gl_buf_append(&e->note, note, len) != 0) {
        gl_log(GL_LOG_ERROR, "checkpoint too large to publish");
        p->count--;
        entry_clear(p, e);
        return;
    }
    e->gen = ++p->gen;
    e->released_at = (double)time(NULL);
    update_served(p);
    update_round(p);
    kick_all(p);
}

void publish_served(const struct publish *p, const struct gl_buf **note, uint64_t *size)
{
    *note = p->has_served ? &p->served : NULL;
    *size = p->has_served ? p->served_size : 0;
}

void publish_served_time(const struct publish *p, double *at)
{
    *at = p->served_at;
}

void publish_adopt(struct publish *p, const uint8_t *note, size_t len, uint64_t size)
{
    struct gl_buf b;

    if (p->has_served &&
        (size < p->served_size || (size == p->served_size && len == p->served.len &&
                                   memcmp(note, p->served.data, len) == 0)))
        return;
    gl_buf_init(&b, PUB_NOTE_MAX);
    if (gl_buf_append(&b, note, len) != 0) {
        gl_log(GL_LOG_ERROR, "the sequencer's served checkpoint is too large");
        gl_buf_release(&b);
        return;
    }
    gl_buf_release(&p->served);
    p->served = b;
    p->served_size = size;
    p->has_served = 1;
    p->served_quorum = 1; /* as the sequencer's policy decided */
    p->served_at = (double)time(NULL);
    while (p->count > 1 && entry_at(p, 0)->size < p->served_size)
        drop_oldest(p);
    if (p->cfg.served != NULL)
        p->cfg.served(p->cfg.ctx);
}

/* Sets up w for pw: healthy, never asked, its add-checkpoint URL. */
static int wit_init(struct publish *p, struct wit *w, const struct gl_policy_witness *pw)
{
    const char *u = pw->url;

    memset(w, 0, sizeof(*w));
    w->p = p;
    w->pw = pw;
    w->healthy = 1;
    gl_buf_init(&w->url, 2048);
    if (u == NULL || gl_buf_printf(&w->url, "%s%sadd-checkpoint", u,
                                   u[0] && u[strlen(u) - 1] == '/' ? "" : "/") != 0) {
        gl_log(GL_LOG_ERROR, "witness %s has no usable URL", pw->name);
        return GL_EINVAL;
    }
    return 0;
}

int publish_new(uv_loop_t *loop, struct gl_policy *pol, const struct publish_config *cfg,
                struct publish **out)
{
    struct publish *p = calloc(1, sizeof(*p));
    size_t n = gl_policy_nwitnesses(pol), m = n ? n : 1;
    int rc = GL_ENOMEM;

    if (p == NULL) {
        gl_policy_free(pol);
        return GL_ENOMEM;
    }
    p->loop = loop;
    p->pol = pol;
    p->cfg = *cfg;
    p->nw = n;
    p->served_at = (double)time(NULL);
    gl_buf_init(&p->served, PUB_NOTE_MAX);
    if ((p->w = calloc(m, sizeof(*p->w))) == NULL || (p->flags = calloc(m, 1)) == NULL)
        goto fail;
    for (size_t i = 0; i < PUB_HISTORY; i++) {
        struct entry *e = &p->ring[i];
        gl_buf_init(&e->note, PUB_NOTE_MAX);
        if ((e->line = calloc(m, sizeof(*e->line))) == NULL ||
            (e->line_gen = calloc(m, sizeof(*e->line_gen))) == NULL)
            goto fail;
        for (size_t j = 0; j < n; j++)
            gl_buf_init(&e->line[j], PUB_LINE_MAX);
    }
    for (size_t i = 0; i < n; i++)
        if ((rc = wit_init(p, &p->w[i], gl_policy_witness_at(pol, i))) != 0)
            goto fail;
    if ((rc = gl_http_multi_new(loop, NULL, &p->http)) != 0)
        goto fail;
    uv_timer_init(loop, &p->timer);
    p->timer.data = p;
    uv_timer_start(&p->timer, on_tick, PUB_TICK_MS, PUB_TICK_MS);
    *out = p;
    return 0;
fail:
    publish_free(p);
    return rc;
}

static void on_http_closed(void *arg)
{
    (void)arg;
}

void publish_close(struct publish *p)
{
    if (p == NULL || p->closing)
        return;
    p->closing = 1;
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->timer, NULL);
    gl_http_multi_close(p->http, on_http_closed, p);
}

void publish_free(struct publish *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; p->w != NULL && i < p->nw; i++)
        gl_buf_release(&p->w[i].url);
    for (size_t i = 0; i < PUB_HISTORY; i++) {
        struct entry *e = &p->ring[i];
        gl_buf_release(&e->note);
        for (size_t j = 0; e->line != NULL && j < p->nw; j++)
            gl_buf_release(&e->line[j]);
        free(e->line);
        free(e->line_gen);
    }
    gl_http_multi_free(p->http);
    free(p->w);
    free(p->flags);
    gl_buf_release(&p->served);
    gl_policy_free(p->pol);
    gl_policy_free(p->next_pol);
    free(p);
}

/* Asks witness w what it holds (wprobe_ask) at start: size is the
 * checkpoint's, stored the store's tree (at least size). One that does
 * not answer is not proof of anything (pushes will retry); one that
 * holds more than stored, or another tree of size, shows this log's
 * data lost or replaced: GL_ESTATE. */
static int probe_witness(struct gl_http_client *c, struct wit *w, const uint8_t *note,
                         size_t len, uint64_t size, uint64_t stored)
{
    struct wprobe_answer a;
    int rc = wprobe_ask(c, (const char *)w->url.data, (long)w->p->cfg.timeout_ms,
                        w->pw->key, note, len, size, &a);

    if (rc != 0)
        return rc;
    if (a.status == 0) {
        gl_log(GL_LOG_WARN, "witness %s unreachable at start: %s", w->pw->name, a.error);
        w->healthy = 0;
        return 0;
    }
    if (!a.known) {
        gl_log(GL_LOG_WARN, "witness %s answered %ld at start%s%s", w->pw->name, a.status,
               a.error[0] != 0 ? ": " : "", a.error);
        w->healthy = 0;
        return 0;
    }
    w->known = a.size;
    w->known_valid = 1;
    if (a.size > stored) {
        gl_log(GL_LOG_ERROR,
               "witness %s has cosigned size %llu but this log has only %llu: "
               "its data was lost or replaced; refusing to sign",
               w->pw->name, (unsigned long long)a.size, (unsigned long long)stored);
        return GL_ESTATE;
    }
    if (a.size > size)
        gl_log(GL_LOG_INFO,
               "witness %s has cosigned size %llu, beyond the size %llu marked "
               "durable and within the stored %llu",
               w->pw->name, (unsigned long long)a.size, (unsigned long long)size,
               (unsigned long long)stored);
    if (a.conflict) {
        gl_log(GL_LOG_ERROR,
               "witness %s has cosigned another tree of size %llu: this "
               "log's data was replaced; refusing to sign",
               w->pw->name, (unsigned long long)size);
        return GL_ESTATE;
    }
    return 0;
}

int publish_probe(struct publish *p, const uint8_t *note, size_t len, uint64_t size,
                  uint64_t stored, int every)
{
    struct gl_http_client *c;
    int rc = 0;

    if (every && p->nw == 0) {
        gl_log(GL_LOG_ERROR,
               "this store is a copy (backup or restore), which may be older than what "
               "the log released, and the witness policy names no witness to show it "
               "current: refusing to start (name witnesses in the policy, or pass "
               "--accept-copy if the copy is known to be current)");
        return GL_ESTATE;
    }
    if (gl_http_client_new(NULL, &c) != 0)
        return GL_ENOMEM;
    for (size_t i = 0; i < p->nw && rc == 0; i++) {
        rc = probe_witness(c, &p->w[i], note, len, size, stored < size ? size : stored);
        if (rc == 0 && every && !p->w[i].known_valid) {
            gl_log(GL_LOG_ERROR,
                   "this store is a copy (backup or restore) and witness %s did not "
                   "answer: nothing shows the copy holds all the log released; "
                   "refusing to start (start when every witness answers, or pass "
                   "--accept-copy if the copy is known to be current)",
                   p->w[i].pw->name);
            rc = GL_ESTATE;
        }
    }
    gl_http_client_free(c);
    return rc;
}

int publish_metrics(const struct publish *p, struct gl_buf *out)
{
    static const struct {
        const char *name, *type, *help;
    } fam[] = {
        {"glasslog_witness_cosignatures_total", "counter",
         "Cosignatures the witness gave."},
        {"glasslog_witness_failures_total", "counter",
         "Requests to the witness that failed."},
        {"glasslog_witness_size", "gauge", "The tree size the witness is known to hold."},
        {"glasslog_witness_healthy", "gauge",
         "1 if the witness answered its last request."},
    };
    const struct entry *e =
        p->count > 0 ? &p->ring[(p->head + p->count - 1) % PUB_HISTORY] : NULL;
    int rc = 0;

    /* each family is one group: its header, then a sample per witness */
    for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]) && rc == 0; f++) {
        rc = gl_metrics_family(out, fam[f].name, fam[f].type, fam[f].help);
        for (size_t i = 0; i < p->nw && rc == 0; i++) {
            const struct wit *w = &p->w[i];
            uint64_t v[] = {w->ok, w->failures, w->known, (uint64_t)w->healthy};
            rc = gl_buf_printf(out, "%s{witness=\"%s\"} %llu\n", fam[f].name, w->pw->name,
                               (unsigned long long)v[f]);
        }
    }
#define VAL(n, t, h, v)                                                                  \
    if (rc == 0)                                                                         \
    rc = gl_metrics_value(out, n, t, h, (double)(v))
    VAL("glasslog_witness_quorum_met", "gauge",
        "1 if the served checkpoint has a quorum of cosignatures.",
        p->has_served && p->served_quorum);
    VAL("glasslog_served_checkpoint_size", "gauge", "The size of the served checkpoint.",
        p->served_size);
    VAL("glasslog_unwitnessed_entries", "gauge",
        "Entries durable but not yet in the served checkpoint.",
        e != NULL && e->size > p->served_size ? e->size - p->served_size : 0);
    VAL("glasslog_witness_rounds_total", "counter", "Cosigning rounds.", p->rounds);
#undef VAL
    return rc;
}

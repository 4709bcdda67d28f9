/*
 * mirrorpull: pull feeding of the mirror (mirrorpull.h).
 *
 * A round for one log: P = newest pending size, N = next entry. While the
 * mirror checkpoint is below P: seal P's pending checkpoint in a ticket
 * (mirror_pending_ticket) and build the add-entries body for [N, P) with
 * it, at most MIRROR_COMMIT_PACKAGES packages and no more once the body holds
 * GL_MIRROR_BODY_SOFT bytes (bundles fetched from the log,
 * proofs from its hash tiles at size P), and hand it to
 * mirror_add_entries; 202 goes on from the new next entry, 200 ends the
 * round, anything else is logged and retried next round. The ticket keeps
 * P fixed for the whole batch: building it takes seconds, while the log's
 * checkpoints reaching the witness (add-checkpoint on every sequencer
 * tick of a busy log) may push P out of the mirror's ring of pending
 * checkpoints, whose 409 would otherwise end every round of a log under
 * steady load before a package is read. Before that, the
 * log's checkpoint is fetched and offered (mirror_offer) for the witness
 * cosignatures it carries; when they are new for the mirror checkpoint
 * and no upload replaced it, mirror_refresh serves them.
 *
 * Hash tile cache: direct-mapped, CACHE slots, each keyed by the log's
 * origin hash and the tile's level, index and width at the round's size
 * (two logs hold tiles at the same coordinates, and a tile's hashes are
 * the same at every size where it has that width); the slot is chosen by
 * the coordinates and the origin hash's first byte, so that two logs'
 * tiles at the same coordinates mostly land in different slots. Tiles and bundles are
 * read with gl_tile_fetch: a partial one that answers 404 comes from the
 * full one's prefix, checked the same way. Tiles are the log's,
 * untrusted: a round that fails (a fetch or a proof that does not
 * compute, or an upload refused, e.g. 422 for a wrong tile) drops every
 * cached tile of that log, so the next round fetches them afresh; a 409
 * (the copy moved on) or a 503 (the mirror's storage) judged no tile and
 * drops nothing.
 *
 * Round budget (rounds.h): one timeout per log (and a little slack for
 * the work between requests). Each mirrored log with a url is a part,
 * numbered in the logs list's order and run from part (round number mod
 * parts) on; each gets a share of what is left of the round (until) and
 * starts no GET once it has passed (late); a GET once started has its
 * whole timeout, and one that fails fails the log's round as ever. A log
 * whose share runs out uploads the packages it already built (so a slow
 * log still moves on, a batch at a time), logs one line, is counted and
 * is left for the next round; the next log gets its share. No GET is
 * exempt, so a log ends within its share plus one timeout (and the
 * upload), and a round within its budget plus one timeout. A stop asked
 * (rounds_stopping) ends a round sooner: no GET starts after it, the one
 * in flight is aborted (the client's abort_cb), nothing is uploaded.
 * A log out of time says so once a round (its checkpoint not fetched, or
 * its catch-up cut short: one log line with the share it had,
 * rounds_late). A log that ran out of time keeps the last entry bundle it fetched across
 * rounds (up to KEPT such logs, one bundle each, the slots reused in turn beyond that;
 * dropped with the log's tiles, and once it catches up), so a log whose
 * share holds its checkpoint and one more GET goes on from that bundle at
 * its next round rather than fetching it again; whether it completes a
 * package then depends on the hash tiles it still needs (the direct-mapped
 * cache may have lost them to another log's).
 *
 * Memory: the cache holds CACHE x 8 KiB of hashes. Bundles: the last one
 * fetched (fetched straight into its buffer and read from there, never
 * copied; kept by moving its buffer into a slot) and the KEPT kept ones,
 * each at most GL_TILE_BUNDLE_MAX bytes, so
 * at most (KEPT + 1) x GL_TILE_BUNDLE_MAX; a bundle's buffer is freed when
 * the bundle is dropped (its log caught up, its tiles dropped, its slot
 * reused), so that bound is only reached while KEPT logs are out of time
 * with a bundle each.
 */
#include "mirrorpull.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glasslog/error.h"
#include "glasslog/log.h"
#include "glasslog/mirror.h"
#include "glasslog/note.h"
#include "glasslog/subtree.h"
#include "glasslog/tile.h"
#include "clock.h"
#include "http_client.h"
#include "rounds.h"

#define CACHE 64
#define HLEN GL_HASH_LEN
#define KEPT 8 /* logs out of time whose last entry bundle is kept */

struct slot {
    uint8_t origin_hash[GL_HASH_LEN]; /* the log the tile is from */
    struct gl_tile t;                 /* width 0: empty */
    uint8_t h[256][HLEN];
};

/* An entry bundle of a log, kept whole (t.width 0: none). */
struct kept {
    uint8_t origin_hash[GL_HASH_LEN];
    struct gl_tile t;
    struct gl_buf b;
};

struct mirrorpull {
    struct mirrorpull_config cfg;
    struct gl_http_client *http;
    struct rounds rounds; /* the thread, and its stop */
    /* the round's log and tree size (hash source context) */
    const struct logs_entry *log;
    uint64_t size;
    uint64_t until;     /* the end of the log's share of the round (monotonic ms) */
    uint64_t share_ms;  /* the log's share when its part started */
    int late;           /* a GET was not made: until had passed */
    int told;           /* the log's part was said to be late (log_late) */
    struct slot *cache; /* CACHE slots */
    size_t *order;      /* the mirrored logs with a url (the parts), in list order */
    size_t nparts;
    struct kept last; /* the last entry bundle fetched */
    /* the last bundles of logs that ran out of time, kept across rounds so
     * that a log whose share ends after each GET still completes its next
     * package; one per log, the slots reused in turn (round-robin) when
     * all are taken */
    struct kept kept[KEPT];
    size_t kept_next;
};

static int stopping(struct mirrorpull *p)
{
    return rounds_stopping(&p->rounds);
}

/* The client's abort_cb: a transfer in flight ends once a stop is asked. */
static int abort_cb(void *arg)
{
    return stopping(arg);
}

/* GETs <log url>/<path> into r (caller releases), started within the
 * log's share of the round: 0 on 200, GL_ENOTFOUND on 404, else an error.
 * No request is made (r empty) once a stop is asked (GL_ESTATE), nor when
 * the share has run out (GL_EIO with late set); one in flight is aborted
 * when a stop is asked (GL_EIO). */
static int get(struct mirrorpull *p, const char *path, size_t max,
               struct gl_http_response *r)
{
    char url[LOGS_URL_MAX + GL_TILE_PATH_MAX + 8];
    int err, stop = stopping(p);

    if (stop || !rounds_may_start(p->until)) {
        memset(r, 0, sizeof *r);
        gl_buf_init(&r->body, max);
        p->late = !stop;
        return stop ? GL_ESTATE : GL_EIO;
    }
    snprintf(url, sizeof url, "%s/%s", p->log->url, path);
    err = gl_http_get(p->http, url, max, p->cfg.timeout_ms, r);
    if (err == 0 && r->status != 200)
        err = r->status == 404 ? GL_ENOTFOUND : GL_EIO;
    return err;
}

/* get as a gl_tile_get_fn (ctx: the puller): the body moves into *body. */
static int tile_get(void *ctx, const char *path, size_t max, struct gl_buf *body)
{
    struct gl_http_response r = {0};
    int rc = get(ctx, path, max, &r);

    if (rc == 0)
        gl_http_response_take_body(&r, body);
    gl_http_response_release(&r);
    return rc;
}

/* Hash tile (level, index) at the round's size, through the cache. */
static int tile_hashes(struct mirrorpull *p, uint32_t level, uint64_t index,
                       const uint8_t (**h)[HLEN], uint32_t *width)
{
    struct gl_tile t = {index, level, 0};
    struct gl_buf b;
    int rc = gl_tile_width(level, index, p->size, &t.width);
    if (rc != 0)
        return rc;
    struct slot *s = &p->cache[(index * 7 + level + p->log->origin_hash[0]) % CACHE];
    if (s->t.width != t.width || s->t.level != level || s->t.index != index ||
        memcmp(s->origin_hash, p->log->origin_hash, GL_HASH_LEN) != 0) {
        gl_buf_init(&b, (size_t)t.width * HLEN);
        rc = gl_tile_fetch(&t, 0, tile_get, p, &b, NULL);
        if (rc == 0 && b.len != (size_t)t.width * HLEN)
            rc = GL_EPARSE;
        if (rc == 0) {
            memcpy(s->h, b.data, b.len);
            memcpy(s->origin_hash, p->log->origin_hash, GL_HASH_LEN);
            s->t = t;
        }
        gl_buf_release(&b);
        if (rc != 0)
            return rc;
    }
    *h = (const uint8_t(*)[HLEN])s->h;
    *width = t.width;
    return 0;
}

static int read_nodes(void *ctx, const struct gl_node_id *ids, size_t n,
                      uint8_t (*out)[HLEN])
{
    struct mirrorpull *p = ctx;
    for (size_t i = 0; i < n; i++) {
        struct gl_tile_span sp;
        const uint8_t(*h)[HLEN];
        uint32_t w;
        int rc = gl_tile_locate(&ids[i], &sp);
        if (rc == 0)
            rc = tile_hashes(p, sp.level, sp.index, &h, &w);
        if (rc == 0)
            rc = gl_tile_span_hash(h, w, &sp, out[i]);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* The kept bundle of log, or NULL. */
static struct kept *kept_of(struct mirrorpull *p, const struct logs_entry *log)
{
    for (size_t i = 0; i < KEPT; i++)
        if (p->kept[i].t.width != 0 &&
            memcmp(p->kept[i].origin_hash, log->origin_hash, GL_HASH_LEN) == 0)
            return &p->kept[i];
    return NULL;
}

/* Drops bundle k: its buffer freed (it may hold GL_TILE_BUNDLE_MAX). */
static void drop_bundle(struct kept *k)
{
    k->t.width = 0;
    gl_buf_release(&k->b);
}

/* The round's log ran out of time: the last bundle fetched, if it is that
 * log's, is kept across rounds, in the log's slot, else a free one, else
 * the next in turn (buffers swapped, not copied; the one it held dropped). */
static void keep_last(struct mirrorpull *p)
{
    struct kept *k = kept_of(p, p->log), swap;

    if (p->last.t.width == 0 ||
        memcmp(p->last.origin_hash, p->log->origin_hash, GL_HASH_LEN) != 0)
        return;
    for (size_t i = 0; k == NULL && i < KEPT; i++)
        if (p->kept[i].t.width == 0)
            k = &p->kept[i];
    if (k == NULL)
        k = &p->kept[p->kept_next++ % KEPT];
    swap = *k;
    *k = p->last;
    p->last = swap;
    drop_bundle(&p->last);
}

/* Forgets the bundles of log, kept or last fetched. */
static void forget_bundles(struct mirrorpull *p, const struct logs_entry *log)
{
    struct kept *k = kept_of(p, log);

    if (k != NULL)
        drop_bundle(k);
    if (memcmp(p->last.origin_hash, log->origin_hash, GL_HASH_LEN) == 0)
        drop_bundle(&p->last);
}

/* Empties the cache slots holding tiles of log, and its bundles. */
static void drop_tiles(struct mirrorpull *p, const struct logs_entry *log)
{
    for (size_t i = 0; i < CACHE; i++)
        if (memcmp(p->cache[i].origin_hash, log->origin_hash, GL_HASH_LEN) == 0)
            memset(&p->cache[i].t, 0, sizeof p->cache[i].t);
    forget_bundles(p, log);
}

/* Entry bundle t of the round's log (*out, valid until the next bundle
 * fetched or dropped): its kept bundle when it is that one, else fetched
 * straight into the last one (last), never copied. */
static int bundle_fetch(struct mirrorpull *p, const struct gl_tile *t,
                        const struct gl_buf **out)
{
    const struct kept *k = kept_of(p, p->log);
    int rc;

    if (k != NULL && k->t.width == t->width && k->t.index == t->index) {
        *out = &k->b;
        return 0;
    }
    gl_buf_release(&p->last.b); /* freed before the next arrives: 9 at most */
    p->last.t.width = 0;        /* kept only whole */
    if ((rc = gl_tile_fetch(t, 1, tile_get, p, &p->last.b, NULL)) != 0)
        return rc;
    p->last.t = *t;
    memcpy(p->last.origin_hash, p->log->origin_hash, GL_HASH_LEN);
    *out = &p->last.b;
    return 0;
}

/* Appends package i of [start, end) to body. */
static int add_package(struct mirrorpull *p, uint64_t start, uint64_t end, uint64_t i,
                       struct gl_buf *body)
{
    struct gl_mirror_package *pk = malloc(sizeof *pk);
    struct gl_tile_entry *e = malloc(GL_TILE_WIDTH * sizeof *e);
    struct gl_tile t;
    const struct gl_buf *b;
    struct gl_hash_source src = {read_nodes, p};
    size_t n = 0;
    int rc = pk && e ? gl_mirror_package_bounds(start, end, i, pk) : GL_ENOMEM;

    if (rc != 0)
        goto out;
    t.level = 0;
    t.index = pk->subtree_start / 256;
    t.width = (uint32_t)(pk->end - pk->subtree_start);
    /* e points into the bundle: nothing fetches or drops one until the
     * package is encoded */
    if ((rc = bundle_fetch(p, &t, &b)) != 0 ||
        (rc = gl_tile_bundle_decode(b->data, b->len, t.width, e, &n)) != 0 ||
        (rc = gl_subtree_prove(&src, pk->subtree_start, pk->end, end, pk->proof,
                               &pk->nproof)) != 0)
        goto out;
    size_t skip = (size_t)(pk->start - pk->subtree_start);
    rc = gl_mirror_package_encode(e + skip, n - skip, (const uint8_t(*)[HLEN])pk->proof,
                                  pk->nproof, body);
out:
    free(pk);
    free(e);
    return rc;
}

/* The log's share of the round ran out (at what: its checkpoint, or
 * entry next of pending): keeps its last bundle fetched; the first time
 * in its part, logs and counts it (rounds_late). */
static void log_late(struct mirrorpull *p, const char *what, uint64_t next,
                     uint64_t pending)
{
    char part[GL_CHECKPOINT_ORIGIN_MAX + 96];

    keep_last(p);
    if (p->told)
        return;
    p->told = 1;
    if (what != NULL)
        snprintf(part, sizeof part, "mirror pull of %s at %s", p->log->origin, what);
    else
        snprintf(part, sizeof part, "mirror pull of %s at %llu of %llu", p->log->origin,
                 (unsigned long long)next, (unsigned long long)pending);
    rounds_late(&p->rounds, part, p->share_ms);
}

/* Catches one log up to its newest pending checkpoint, or as far as it
 * gets by until (the end of its share of the round). */
static void pull_log(struct mirrorpull *p, size_t li, uint64_t until)
{
    const struct logs_entry *log = &p->cfg.logs->v[li];
    uint64_t pending, newest, next, size;
    struct gl_buf body;
    struct mirror_result *res = malloc(sizeof *res);
    uint8_t *ticket = malloc(GL_MIRROR_TICKET_MAX);
    size_t ticket_len = 0;

    if (res == NULL || ticket == NULL) {
        free(res);
        free(ticket);
        return;
    }
    gl_buf_init(&body, GL_MIRROR_BODY_BUILT);
    mirror_observe(p->cfg.mirror, li);
    p->log = log;
    p->until = until;
    p->late = p->told = 0;
    uint64_t now = gl_clock_mono_ms();
    p->share_ms = until > now ? until - now : 0;
    int fresh = 0, moved = 0;
    struct gl_http_response ck;
    if (get(p, "checkpoint", GL_NOTE_MAX_SIZE, &ck) == 0)
        fresh = mirror_offer(p->cfg.mirror, li, (const char *)ck.body.data, ck.body.len);
    else if (p->late && !stopping(p))
        log_late(p, "its checkpoint", 0, 0); /* its new cosignatures wait */
    gl_http_response_release(&ck);
    for (int guard = 0; guard < 1 << 20; guard++) {
        /* the batch's pending checkpoint, sealed: taken however far the
         * log's checkpoints reaching the witness move on meanwhile */
        int got = mirror_pending_ticket(p->cfg.mirror, li, &pending, ticket, &ticket_len);
        if (got != 0 || mirror_progress(p->cfg.mirror, li, &newest, &next, &size) != 0 ||
            pending <= size)
            break;
        if (next > pending) /* only the checkpoint is missing: an empty upload */
            next = pending;
        p->size = pending;
        p->late = 0; /* set again only by a GET of this batch not made */
        gl_buf_reset(&body);
        int rc = gl_mirror_upload_encode(log->origin, strlen(log->origin), next, pending,
                                         ticket, ticket_len, &body);
        uint64_t np = gl_mirror_npackages(next, pending), built = 0;
        for (; built < np && rc == 0 &&
               gl_mirror_body_room(body.len, built, MIRROR_COMMIT_PACKAGES);
             built++) {
            size_t len = body.len;
            rc = stopping(p) ? GL_ESTATE : add_package(p, next, pending, built, &body);
            if (rc != 0) {
                gl_buf_truncate(&body, len); /* whole packages only */
                break;
            }
        }
        if (rc == GL_ESTATE || stopping(p))
            break; /* a request aborted or not made: nothing to report */
        if (rc != 0 && p->late && built == 0) {
            log_late(p, NULL, next, pending);
            break;
        }
        if (rc != 0 && p->late)
            rc = 0; /* out of time: upload the packages built */
        if (rc != 0) {
            gl_log(GL_LOG_WARN, "mirror pull of %s at %llu: cannot fetch from %s: %s",
                   log->origin, (unsigned long long)next, log->url, gl_strerror(rc));
            drop_tiles(p, log);
            break;
        }
        mirror_add_entries(p->cfg.mirror, body.data, body.len, res);
        moved = 1;
        if (res->status == 200) {
            forget_bundles(p, log); /* caught up: its slot is free */
            gl_log(GL_LOG_INFO, "mirror of %s pulled up to %llu", log->origin,
                   (unsigned long long)pending);
            break;
        }
        if (res->status == 202)
            gl_log(GL_LOG_INFO, "mirror pull of %s: next entry %llu of %llu", log->origin,
                   (unsigned long long)res->info_next, (unsigned long long)pending);
        if (res->status == 202 && p->late) {
            log_late(p, NULL, res->info_next, pending);
            break;
        }
        if (res->status != 202) {
            gl_log(GL_LOG_WARN, "mirror pull of %s at %llu refused (%d): %s", log->origin,
                   (unsigned long long)next, res->status, res->why);
            /* a wrong tile of the log's must not stay; a 409 (the copy
             * moved on) or a 503 (the mirror's storage) says nothing of
             * the tiles: they stay for the next round */
            if (res->status != 409 && res->status != 503)
                drop_tiles(p, log);
            break;
        }
        if (stopping(p))
            break;
    }
    if (fresh && !moved && !stopping(p) && mirror_refresh(p->cfg.mirror, li) != 0)
        gl_log(GL_LOG_WARN, "mirror of %s: cannot store the new witness cosignatures",
               log->origin);
    gl_buf_release(&body);
    free(res);
    free(ticket);
}

static int pulled(const struct logs_entry *log)
{
    return log->mirror && log->url[0];
}

/* One round (a rounds round; arg: the puller): each mirrored log with a
 * url (p->order), each within its share of what is left of the round,
 * until a stop is asked; from part (round number mod parts) on. */
static void pull_round(void *arg)
{
    struct mirrorpull *p = arg;
    size_t n = p->nparts;

    for (size_t k = 0; k < n && !stopping(p); k++)
        pull_log(p, p->order[rounds_nth(&p->rounds, k, n)],
                 rounds_share(&p->rounds, n - k));
}

/* Sets up the buffers of the kept bundles. */
static void bundles_init(struct mirrorpull *p)
{
    gl_buf_init(&p->last.b, GL_TILE_BUNDLE_MAX);
    for (size_t i = 0; i < KEPT; i++)
        gl_buf_init(&p->kept[i].b, GL_TILE_BUNDLE_MAX);
}

int mirrorpull_start(const struct mirrorpull_config *cfg, struct mirrorpull **out)
{
    struct mirrorpull *p;
    size_t urls = 0;
    int rc;

    *out = NULL;
    for (size_t i = 0; i < cfg->logs->n; i++)
        urls += pulled(&cfg->logs->v[i]);
    if (urls == 0)
        return 0;
    if ((p = calloc(1, sizeof *p)) == NULL)
        return GL_ENOMEM;
    p->cache = calloc(CACHE, sizeof *p->cache);
    p->order = calloc(urls, sizeof *p->order);
    if (p->cache == NULL || p->order == NULL) {
        free(p->cache);
        free(p->order);
        free(p);
        return GL_ENOMEM;
    }
    p->cfg = *cfg;
    for (size_t i = 0; i < cfg->logs->n; i++)
        if (pulled(&cfg->logs->v[i]))
            p->order[p->nparts++] = i;
    bundles_init(p);
    rounds_init(&p->rounds, p->cfg.poll_interval_s, rounds_budget(urls, cfg->timeout_ms),
                pull_round, p);
    struct gl_http_client_config hc = {0};
    hc.abort_cb = abort_cb;
    hc.abort_arg = p;
    if ((rc = gl_http_client_new(&hc, &p->http)) != 0) {
        mirrorpull_free(p);
        return rc;
    }
    if (rounds_start(&p->rounds) != 0) {
        mirrorpull_free(p);
        return GL_EIO;
    }
    *out = p;
    return 0;
}

void mirrorpull_ask_stop(struct mirrorpull *p)
{
    if (p != NULL)
        rounds_ask_stop(&p->rounds);
}

int mirrorpull_stopped(struct mirrorpull *p)
{
    return p == NULL || rounds_stopped(&p->rounds);
}

uint64_t mirrorpull_parts_late(struct mirrorpull *p)
{
    return p == NULL ? 0 : rounds_parts_late(&p->rounds);
}

int mirrorpull_resume(struct mirrorpull *p)
{
    return p == NULL ? 0 : rounds_resume(&p->rounds);
}

void mirrorpull_stop(struct mirrorpull *p)
{
    if (p != NULL)
        rounds_stop(&p->rounds);
}

void mirrorpull_free(struct mirrorpull *p)
{
    if (p == NULL)
        return;
    rounds_release(&p->rounds);
    gl_http_client_free(p->http);
    gl_buf_release(&p->last.b);
    for (size_t i = 0; i < KEPT; i++)
        gl_buf_release(&p->kept[i].b);
    free(p->order);
    free(p->cache);
    free(p);
}

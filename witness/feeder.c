/*
 * feeder: pull feeding, gossip and evidence import on one thread (its
 * rounds and their stop: rounds.h); what it does and why in feeder.h.
 *
 * Design: every comparison of two signed checkpoints of one log (ours and
 * the log's, or ours and a peer's) goes through compare(), which returns
 * SAME, AHEAD/BEHIND (consistent, with the proof), SPLIT (with a proven
 * evidence file) or SUSPECT (the log gave no proof that settles it).
 * Changes to the state only ever go through the engine (engine_submit and
 * a wait), with the same checks as a pushed add-checkpoint.
 * Responses are bounded (checkpoints 64 KiB, proofs and list pages 1 MiB,
 * evidence GL_EVIDENCE_MAX_SIZE; a peer's evidence list is read in at
 * most IMPORT_PAGES_MAX pages a round), and JSON from logs and peers is parsed
 * with cJSON and validated field by field.
 *
 * Round budget (rounds.h): the round's parts are the pulls (one a log
 * with a url) and the peers (gossip, then evidence import: peer_part),
 * numbered in that order and run from part (round number mod parts) on;
 * each gets a share of what is left of the round's budget (until) and
 * starts no request once it has passed (late: the request not made is
 * nobody's failure and is not counted; one log line with the share the
 * part had, or saying the round was out of time when its turn came; the
 * part goes on next round). A request once started has its whole timeout,
 * and one that fails is a failure as on any round. Exempt from the share
 * (made whatever is left of it): the consistency proof asked of a log
 * about a checkpoint just fetched, from it or from a peer, and the prefix
 * root that checks a proof; a log cannot escape SUSPECTED by being slow.
 * Their time is given back to the running part and the round
 * (rounds_extend), so a log's slow proofs do not use up a peer's share;
 * but a log's exempt requests are capped, across its pull and every
 * peer's gossip (struct log_round), at a comparison's first one: its
 * consistency proof starts only while they took less than
 * ROUNDS_EXEMPT_TIMEOUTS timeouts this round; a comparison once started
 * is finished (its prefix-root requests, made only when its proof did not
 * verify, are always made: a split the proof shows is proven, the log
 * frozen, as on a round without a budget). A proof refused by the cap is
 * taken as that log giving no answer in time, as if it had timed out:
 * the log is down for the rest of the round (one log line; its pull, if
 * still to come, is skipped with a line, not counted again) and the
 * comparison that needed it is SUSPECT (counted, logged, retried: a pull
 * next round, a peer's gossip at its next part, held at that log: gossip_all),
 * never a pass. Bounds: a log's exempt requests take less
 * than (ROUNDS_EXEMPT_TIMEOUTS + ROUNDS_EXEMPT_SERIES) timeouts a round (under the cap,
 * plus one comparison: < T + 3T); a part ends within its share plus one timeout plus its
 * exempt requests' time; a round within its budget plus one timeout plus
 * (ROUNDS_EXEMPT_TIMEOUTS + ROUNDS_EXEMPT_SERIES) timeouts per log with a url, plus the
 * engine's writes. A peer's part resumes where its previous one stopped (struct
 * peercursor, peercursor.h): its gossip after the last log it polled (or at a log
 * whose proof was refused: gossip_all), its evidence
 * list at the first entry not looked at, or at the first whose fetch was
 * made and failed (the read goes on past it in the round; it is resumed
 * at up to PEERCURSOR_TRIES rounds in a row: peercursor_import_retry), and its list
 * first when its last part that made a request ran out of share before
 * reaching it (peer_part). So, P being the round's parts and L the logs:
 * the part makes a request at least in
 * every round where it runs first (once every P rounds), its list and its
 * gossip go first at least every other such round, its list is read at
 * least once every 2P rounds and every log gossiped with it within
 * 2P x L rounds (2P x ceil(L / k) when its gossip polls k logs each time
 * it goes first), even when a round cannot hold them all; a peer fast
 * enough polls every log and reads its list every round, as it always
 * did.
 */
#include "feeder.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "addck.h"
#include "clock.h"
#include "json.h"
#include "glasslog/codec.h"
#include "glasslog/cosig.h"
#include "glasslog/error.h"
#include "glasslog/evidence.h"
#include "glasslog/log.h"
#include "glasslog/merkle.h"
#include "http_client.h"
#include "peercursor.h"
#include "rounds.h"

#define CKPT_MAX ADDCK_BODY_MAX
#define JSON_MAX ((size_t)1 << 20)
#define IMPORT_MAX 16   /* evidence files fetched per peer per round */
#define IMPORT_PAGE 256 /* entries of a peer's evidence list asked per request */
/* pages and entries of a peer's evidence list read per round: enough for
 * the whole list of a witness of ours (ENGINE_EVIDENCE_MAX + LOGS_MAX) */
#define IMPORT_PAGES_MAX 32
#define IMPORT_SEEN_MAX ((size_t)IMPORT_PAGES_MAX * IMPORT_PAGE)
_Static_assert(IMPORT_SEEN_MAX >= ENGINE_EVIDENCE_MAX + LOGS_MAX,
               "a round can read a whole evidence list of ours");
_Static_assert(PEERCURSOR_ID_LEN == GL_HASH_LEN, "an evidence ID is a SHA-256");

/* A party's down (get()): what its first failed request brought. */
#define DOWN_SILENT 1 /* no status: connect error, reset, timeout before one */
#define DOWN_HUNG 2   /* a status, then a timeout (a trickling body) */

/* A log's url in the running round. */
struct log_round {
    unsigned char down; /* DOWN_*: it gave no answer (or its exempt time ran out) */
    uint64_t exempt_ms; /* its exempt requests' time so far */
};

struct feeder {
    struct feeder_config cfg;
    struct rounds rounds; /* the thread, and its stop */
    pthread_mutex_t mu;   /* stats, done */
    pthread_cond_t cv;    /* done */
    int done;
    struct log_round *logr;  /* per log, this round (zeroed at its start) */
    uint64_t until;          /* the end of the running part's share (monotonic ms) */
    uint64_t share_ms;       /* the running part's share when it started */
    int late;                /* the part's share ran out: a request not made */
    uint64_t asked;          /* requests made so far (get()) */
    uint64_t refused;        /* comparisons' proofs not asked so far: the log
                              * down or its cap spent (get()) */
    size_t *pulled, npulled; /* the logs with a url (the pulls), in list order */
    struct peercursor *cur;  /* per peer, kept across rounds */
    struct gl_http_client *http;
    struct wreq *w; /* the one request in flight */
    struct feeder_stats st;
};

enum cmp { CMP_SAME, CMP_AHEAD, CMP_BEHIND, CMP_SPLIT, CMP_SUSPECT, CMP_UNKNOWN };

/* A signed checkpoint of one log, opened. */
struct side {
    struct gl_checkpoint c;
    struct addck_kept kept; /* fetched sides: what a record keeps */
    const char *note;
    size_t len;
};

#define COUNT(f, field)                                                                  \
    do {                                                                                 \
        pthread_mutex_lock(&(f)->mu);                                                    \
        (f)->st.field++;                                                                 \
        pthread_mutex_unlock(&(f)->mu);                                                  \
    } while (0)

/* --- HTTP ------------------------------------------------------------------------ */

static int stopping(struct feeder *f)
{
    return rounds_stopping(&f->rounds);
}

/* The client's abort_cb: a transfer in flight ends once a stop is asked. */
static int abort_cb(void *arg)
{
    return stopping(arg);
}

/* GETs url, a request to one party (a peer, or a log's url) whose *down
 * says it gave no answer earlier this round, into r (caller releases).
 * Without exempt, only while the running part's share lasts: else late is
 * set and no request is made. With exempt (a request exempt from the
 * share: exempt is the log's exempt time this round), whatever is left of
 * the share; the first request of a comparison (first: its consistency
 * proof) only while the log's exempt time is under its cap, its later
 * ones (the prefix root) always (rounds_exempt_may_start). One refused by
 * the cap is not made, the log is down for the rest of the round (one log
 * line) and GL_EIO is returned as for a timeout, so the comparison that
 * needed it is SUSPECT, never a pass.
 * 0 if it answered 200, GL_ENOTFOUND if 404 (nothing there yet), GL_EIO
 * for any other status (r->status says which) or no answer. A party down
 * (or a stop asked) is not asked again: GL_EIO at once, r empty. The
 * first request of a party that brings no complete answer (connect error,
 * reset before a status, or the timeout, whatever status it sent before:
 * a party that sends headers and then trickles its body is as costly as
 * a dead one) sets *down (DOWN_SILENT with no status, else DOWN_HUNG) and
 * says so in one log line, so a dead or slow
 * party costs one timeout per round, not one per request. f->asked
 * counts the requests made; the time an exempt one took is given back to
 * the part and the round (rounds_extend). */
static int get(struct feeder *f, unsigned char *down, uint64_t *exempt, int first,
               const char *url, size_t max, struct gl_http_response *r)
{
    int spent = exempt == NULL && !rounds_may_start(f->until);
    int capped =
        exempt != NULL && !rounds_exempt_may_start(*exempt, f->cfg.timeout_ms, first);
    int err;

    if ((down != NULL && *down) || stopping(f) || spent || capped) {
        memset(r, 0, sizeof(*r));
        gl_buf_init(&r->body, max);
        snprintf(r->error, sizeof(r->error), "%s",
                 down != NULL && *down ? "not asked: no answer earlier this round"
                 : stopping(f)         ? "stopping"
                 : spent               ? "not asked: its share of the round is spent"
                         : "not asked: its proofs took their time this round");
        f->late |= spent;
        f->refused += exempt != NULL && first && !stopping(f);
        if (capped && down != NULL && !*down && !stopping(f)) {
            *down = DOWN_SILENT;
            gl_log(GL_LOG_WARN,
                   "%s not asked: the log's proofs took %llu ms this round, the most it "
                   "may take (%d x %ld ms): taken as no answer, no more requests to it "
                   "this round",
                   url, (unsigned long long)*exempt, ROUNDS_EXEMPT_TIMEOUTS,
                   f->cfg.timeout_ms);
        }
        return GL_EIO;
    }
    uint64_t t0 = gl_clock_mono_ms();
    f->asked++;
    err = gl_http_get(f->http, url, max, f->cfg.timeout_ms, r);
    if (exempt != NULL) {
        uint64_t took = gl_clock_mono_ms() - t0;
        *exempt += took;
        f->until += took;
        rounds_extend(&f->rounds, took);
    }
    if (err == GL_EIO && (r->status == 0 || r->timed_out) && !r->aborted &&
        down != NULL) {
        *down = r->status == 0 ? DOWN_SILENT : DOWN_HUNG;
        if (r->status == 0)
            gl_log(GL_LOG_WARN,
                   "%s gave no answer (%s): no more requests to it this round", url,
                   r->error);
        else
            gl_log(GL_LOG_WARN,
                   "%s timed out after HTTP %ld headers (%s): no more requests to it "
                   "this round",
                   url, r->status, r->error);
    }
    if (err != 0)
        return err;
    return r->status == 200 ? 0 : r->status == 404 ? GL_ENOTFOUND : GL_EIO;
}

/* Where a request to log li's url records that it gave no answer. */
static unsigned char *log_party(struct feeder *f, size_t li)
{
    return &f->logr[li].down;
}

/* Log li's exempt time this round (get()). */
static uint64_t *log_exempt(struct feeder *f, size_t li)
{
    return &f->logr[li].exempt_ms;
}

/* GETs url as JSON (get()); *out is the caller's (cJSON_Delete). */
static int get_json(struct feeder *f, unsigned char *down, uint64_t *exempt, int first,
                    const char *url, cJSON **out)
{
    struct gl_http_response r;
    int err = get(f, down, exempt, first, url, JSON_MAX, &r);

    *out = NULL;
    if (err == 0 &&
        (*out = cJSON_ParseWithLength((const char *)r.body.data, r.body.len)) == NULL)
        err = GL_EPARSE;
    gl_http_response_release(&r);
    return err;
}

/* Log li's consistency proof m -> n: exempt from the share, the first
 * request of its comparison (under the log's cap: get()). */
static int fetch_proof(struct feeder *f, size_t li, uint64_t m, uint64_t n,
                       uint8_t (*proof)[GL_HASH_LEN], size_t *len)
{
    const struct logs_entry *log = &f->cfg.logs->v[li];
    char url[LOGS_URL_MAX + 128];
    cJSON *j;
    int err;

    snprintf(url, sizeof(url), "%s/api/v1/proof/consistency?first=%llu&second=%llu",
             log->url, (unsigned long long)m, (unsigned long long)n);
    if ((err = get_json(f, log_party(f, li), log_exempt(f, li), 1, url, &j)) == 0)
        err = gl_json_hashes(j, 0, proof, GL_MERKLE_MAX_PROOF, len);
    cJSON_Delete(j);
    return err;
}

/* What the log claims is the root of its first m entries (m a power of
 * two), from entry 0's leaf hash and its inclusion proof at size m. The
 * claim is only believed if a consistency proof then reproduces a root
 * the log signed (gl_evidence_build checks). Exempt from the share and,
 * asked only within a comparison whose proof did not verify, from the
 * log's cap too (get(): a comparison once started is finished). */
static int fetch_prefix_root(struct feeder *f, size_t li, uint64_t m,
                             uint8_t root[GL_HASH_LEN])
{
    const struct logs_entry *log = &f->cfg.logs->v[li];
    unsigned char *down = log_party(f, li);
    char url[LOGS_URL_MAX + 128];
    uint8_t path[GL_MERKLE_MAX_PROOF][GL_HASH_LEN], leaf[GL_HASH_LEN];
    const cJSON *lh;
    cJSON *j = NULL;
    size_t n = 0;
    int err;

    snprintf(url, sizeof(url), "%s/api/v1/entries/0", log->url);
    if ((err = get_json(f, down, log_exempt(f, li), 0, url, &j)) != 0)
        goto out;
    lh = cJSON_GetObjectItemCaseSensitive(j, "leaf_hash");
    if (!cJSON_IsString(lh) ||
        gl_hex_decode_exact(lh->valuestring, strlen(lh->valuestring), leaf, GL_HASH_LEN,
                            0) != 0) {
        err = GL_EPARSE;
        goto out;
    }
    cJSON_Delete(j);
    snprintf(url, sizeof(url), "%s/api/v1/proof/inclusion?index=0&tree_size=%llu",
             log->url, (unsigned long long)m);
    if ((err = get_json(f, down, log_exempt(f, li), 0, url, &j)) == 0 &&
        (err = gl_json_hashes(j, 0, path, GL_MERKLE_MAX_PROOF, &n)) == 0)
        err = gl_merkle_root_from_inclusion(0, m, leaf, gl_hashes_const(path), n, root);
out:
    cJSON_Delete(j);
    return err;
}

/* GETs a signed checkpoint from a party (get()) and opens it with the
 * log's keys; why (lines of the note) says why not. */
static int fetch_checkpoint(struct feeder *f, unsigned char *down,
                            const struct logs_entry *log, const char *url,
                            struct gl_buf *note, struct side *s, struct gl_err *why)
{
    struct gl_http_response r;
    struct addck_req q;
    int err = get(f, down, NULL, 0, url, CKPT_MAX, &r);

    if (err == GL_EIO && r.status != 0 && r.timed_out) {
        gl_err_set(why, err, 0, "timed out after HTTP %ld headers (%s)", r.status,
                   r.error);
    } else if (err == GL_EIO && r.status != 0 && r.error[0] == 0) {
        gl_err_set(why, err, 0, "answered HTTP %ld", r.status);
    } else if (err == GL_EIO && r.status != 0) {
        gl_err_set(why, err, 0, "failed after HTTP %ld headers (%s)", r.status, r.error);
    } else if (err != 0 || (err = gl_buf_append(note, r.body.data, r.body.len)) != 0) {
        gl_err_set(why, err, 0, "no answer (%s)", gl_strerror(err));
    } else {
        memset(&q, 0, sizeof(q));
        q.note = (const char *)note->data;
        q.note_len = note->len;
        err = addck_open(&q, log, &s->c, &s->kept, why);
        s->note = q.note;
        s->len = q.note_len;
    }
    gl_http_response_release(&r);
    return err;
}

/* --- engine ------------------------------------------------------------------------- */

static void submit_done(struct wreq *w, void *arg)
{
    struct feeder *f = arg;

    (void)w;
    pthread_mutex_lock(&f->mu);
    f->done = 1;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

/* Submits f->w (filled by the caller) and waits; returns its status. */
static int submit_wait(struct feeder *f)
{
    f->w->done = submit_done;
    f->w->arg = f;
    f->done = 0;
    engine_submit(f->cfg.engine, f->w);
    pthread_mutex_lock(&f->mu);
    while (!f->done)
        pthread_cond_wait(&f->cv, &f->mu);
    pthread_mutex_unlock(&f->mu);
    return f->w->status;
}

static int submit_add(struct feeder *f, size_t log, uint64_t old,
                      const uint8_t (*proof)[GL_HASH_LEN], size_t n, const struct side *s,
                      const char *source)
{
    struct wreq *w = f->w;

    memset(w, 0, sizeof(*w));
    if (n > ADDCK_MAX_PROOF)
        return 400;
    w->kind = WREQ_ADD;
    w->log = log;
    w->old = old;
    w->nproof = n;
    memcpy(w->proof, proof, n * GL_HASH_LEN);
    w->ck = s->c;
    w->kept = s->kept;
    w->note = s->note;
    w->note_len = s->len;
    snprintf(w->source, sizeof(w->source), "%s", source);
    return submit_wait(f);
}

/* Hands an evidence file to the engine: its status (200 stored, 422 not
 * valid evidence; any other, e.g. 500 when the store failed, is worth
 * trying again), logged when not 200. */
static int submit_evidence(struct feeder *f, size_t log, const struct gl_buf *file,
                           const char *source)
{
    struct wreq *w = f->w;
    const struct logs_entry *l = &f->cfg.logs->v[log];
    int status;

    memset(w, 0, sizeof(*w));
    w->kind = WREQ_EVIDENCE;
    w->log = log;
    w->note = (const char *)file->data;
    w->note_len = file->len;
    snprintf(w->source, sizeof(w->source), "%s", source);
    status = submit_wait(f);
    if (status == 422) /* what a peer or log served: not our failure */
        gl_log(GL_LOG_WARN, "%s: the engine refused split-view evidence (%s): %s",
               l->origin, source, w->why ? w->why : "?");
    else if (status != 200)
        gl_log(GL_LOG_ERROR,
               "%s: the engine could not store split-view evidence (%s): %s", l->origin,
               source, w->why ? w->why : "?");
    return status;
}

/* --- comparing two views -------------------------------------------------------------
 */

static int is_pow2(uint64_t m)
{
    return m != 0 && (m & (m - 1)) == 0;
}

/* Different sizes: ask the log. On AHEAD/BEHIND *n holds the RFC proof
 * small -> big; on SPLIT ev holds the evidence file. */
static enum cmp compare_sizes(struct feeder *f, size_t li, const struct side *small,
                              const struct side *big, uint8_t (*proof)[GL_HASH_LEN],
                              size_t *n, struct gl_buf *ev, const char **why)
{
    const struct logs_entry *log = &f->cfg.logs->v[li];
    uint8_t full[GL_EVIDENCE_MAX_PROOF][GL_HASH_LEN], x[GL_HASH_LEN];
    size_t nfull;

    *n = 0;
    if (small->c.size == 0)
        return CMP_AHEAD;
    if (log->url[0] == 0)
        return *why = "the log has no url to ask for a proof", CMP_UNKNOWN;
    if (fetch_proof(f, li, small->c.size, big->c.size, proof, n) != 0)
        return *why = "the log gave no consistency proof between the two sizes",
               CMP_SUSPECT;
    if (gl_merkle_verify_consistency(small->c.size, big->c.size, small->c.root,
                                     big->c.root, gl_hashes_const(proof), *n) == 0)
        return CMP_AHEAD;
    memcpy(x, small->c.root, GL_HASH_LEN);
    if (is_pow2(small->c.size) && fetch_prefix_root(f, li, small->c.size, x) != 0)
        return *why = "the log's proof does not verify and it gave no prefix root",
               CMP_SUSPECT;
    if (gl_evidence_full_proof(small->c.size, big->c.size, x, gl_hashes_const(proof), *n,
                               full, &nfull) != 0)
        return *why = "the log's proof has the wrong length", CMP_SUSPECT;
    if (gl_evidence_build(log->keys, log->nkeys, small->note, small->len, big->note,
                          big->len, gl_hashes_const(full), nfull, ev, NULL) != 0)
        return *why = "the log's proof neither proves consistency nor a split view",
               CMP_SUSPECT;
    return CMP_SPLIT;
}

/* Compares our view (mine) with theirs; AHEAD: theirs extends ours. */
static enum cmp compare(struct feeder *f, size_t li, const struct side *mine,
                        const struct side *theirs, uint8_t (*proof)[GL_HASH_LEN],
                        size_t *n, struct gl_buf *ev, const char **why)
{
    const struct logs_entry *log = &f->cfg.logs->v[li];
    enum cmp c;

    *why = "";
    *n = 0;
    if (mine->c.size == theirs->c.size) {
        if (memcmp(mine->c.root, theirs->c.root, GL_HASH_LEN) == 0)
            return CMP_SAME;
        if (gl_evidence_build(log->keys, log->nkeys, mine->note, mine->len, theirs->note,
                              theirs->len, NULL, 0, ev, NULL) != 0)
            return *why = "cannot build evidence from two roots of one size", CMP_SUSPECT;
        return CMP_SPLIT;
    }
    if (mine->c.size < theirs->c.size)
        return compare_sizes(f, li, mine, theirs, proof, n, ev, why);
    c = compare_sizes(f, li, theirs, mine, proof, n, ev, why);
    return c == CMP_AHEAD ? CMP_BEHIND : c;
}

/* Acts on a comparison; source names where theirs came from. */
static void settle(struct feeder *f, size_t li, const struct engine_view *v,
                   const struct side *theirs, const struct side *mine, const char *source,
                   int from_peer)
{
    const struct logs_entry *log = &f->cfg.logs->v[li];
    uint8_t proof[GL_MERKLE_MAX_PROOF][GL_HASH_LEN];
    struct gl_buf ev;
    const char *why = "";
    size_t n = 0;
    enum cmp c;

    gl_buf_init(&ev, GL_EVIDENCE_MAX_SIZE);
    c = v->has ? compare(f, li, mine, theirs, proof, &n, &ev, &why) : CMP_AHEAD;
    if (c == CMP_AHEAD &&
        submit_add(f, li, v->has ? v->size : 0, gl_hashes_const(proof), n, theirs,
                   source) == 200 &&
        from_peer)
        COUNT(f, caught_up);
    if (c == CMP_SPLIT) {
        COUNT(f, splits_found);
        gl_log(GL_LOG_ERROR,
               "%s: split view between our checkpoint (size %llu) and %s's "
               "(size %llu)",
               log->origin, (unsigned long long)mine->c.size, source,
               (unsigned long long)theirs->c.size);
        submit_evidence(f, li, &ev, source);
    }
    if (c == CMP_SUSPECT) {
        COUNT(f, suspected);
        gl_log(GL_LOG_WARN,
               "%s: SUSPECTED inconsistency with %s (sizes %llu and %llu): %s; "
               "will retry",
               log->origin, source, (unsigned long long)mine->c.size,
               (unsigned long long)theirs->c.size, why);
    }
    gl_buf_release(&ev);
}

/* Our record of log li: view, and (if has) the stored note opened; s is
 * zeroed when there is none, so it is defined on every path. */
static int mine_of(struct feeder *f, size_t li, struct engine_view *v,
                   struct gl_buf *note, struct side *s)
{
    int err;

    memset(s, 0, sizeof(*s));
    if ((err = engine_view(f->cfg.engine, li, v, note)) == GL_ENOTFOUND)
        return 0;
    if (err != 0)
        return err;
    s->c.size = v->size;
    memcpy(s->c.root, v->root, GL_HASH_LEN);
    s->note = (const char *)note->data;
    s->len = note->len;
    return 0;
}

/* --- the round ---------------------------------------------------------------------- */

static void pull(struct feeder *f, size_t li)
{
    const struct logs_entry *log = &f->cfg.logs->v[li];
    struct gl_buf tn, mn;
    struct side theirs, mine;
    struct engine_view v;
    char url[LOGS_URL_MAX + 32], source[ENGINE_SOURCE_MAX];
    char msg[GL_ERR_REASON_MAX + 32];
    struct gl_err why;
    uint64_t asked = f->asked;
    int err;

    gl_buf_init(&tn, CKPT_MAX);
    gl_buf_init(&mn, CKPT_MAX + 1024);
    snprintf(url, sizeof(url), "%s/checkpoint", log->url);
    snprintf(source, sizeof(source), "pull");
    if (*log_party(f, li)) {
        /* its failure was counted (and logged) where it happened: told,
         * not counted again */
        gl_log(GL_LOG_INFO,
               "%s: not pulled this round: its url gave no answer earlier in it (or "
               "its proofs took their time)",
               log->origin);
        goto out;
    }
    err = fetch_checkpoint(f, log_party(f, li), log, url, &tn, &theirs, &why);
    if (f->asked != asked)
        COUNT(f, pulls);
    if (err != 0) {
        /* not asked (its share spent: part_end tells; a stop) or cut short
         * by a stop: not its failure, not counted */
        if (f->asked == asked || stopping(f))
            goto out;
        COUNT(f, pull_errors);
        gl_log(GL_LOG_WARN, "%s: pulling %s failed: %s", log->origin, url,
               gl_err_format(&why, NULL, msg, sizeof(msg)));
    } else if (mine_of(f, li, &v, &mn, &mine) == 0 && !v.frozen) {
        settle(f, li, &v, &theirs, &mine, source, 0);
    }
out:
    gl_buf_release(&tn);
    gl_buf_release(&mn);
}

/* 1 if note carries a valid cosignature by peer. */
static int peer_cosigned(const struct peers_entry *peer, const struct side *s)
{
    struct gl_note *n = NULL;
    struct gl_cosig_status st;
    size_t nvalid = 0;

    if (gl_note_parse(s->note, s->len, &n, NULL) != 0)
        return 0;
    if (gl_cosig_verify_note(n, &peer->key, 1, &st, &nvalid) != 0)
        nvalid = 0;
    gl_note_free(n);
    return nvalid == 1;
}

/* Polls the peer's checkpoint of log li and settles it with ours; 1 if
 * the poll was made, -1 if it was made and counted as a gossip error (0:
 * not asked, its share spent, the peer down or a stop). */
static int gossip(struct feeder *f, const struct peers_entry *peer, unsigned char *down,
                  size_t li)
{
    const struct logs_entry *log = &f->cfg.logs->v[li];
    char url[LOGS_URL_MAX + 96], hex[GL_HASH_HEX_LEN + 1], source[ENGINE_SOURCE_MAX];
    struct gl_buf tn, mn;
    struct side theirs, mine;
    struct engine_view v;
    char msg[GL_ERR_REASON_MAX + 32];
    struct gl_err why;
    uint64_t asked = f->asked;
    int err, made;

    gl_buf_init(&tn, CKPT_MAX);
    gl_buf_init(&mn, CKPT_MAX + 1024);
    gl_hex_encode(log->origin_hash, GL_HASH_LEN, hex, sizeof(hex));
    snprintf(url, sizeof(url), "%s/%s/checkpoint", peer->url, hex);
    snprintf(source, sizeof(source), "peer %s", peer->name);
    err = fetch_checkpoint(f, down, log, url, &tn, &theirs, &why);
    made = f->asked != asked;
    if (made)
        COUNT(f, gossip_polls);
    if (!made || err == GL_ENOTFOUND || (err != 0 && stopping(f))) {
        /* not asked, the peer has nothing for this log yet, or a stop */
    } else if (err != 0 || !peer_cosigned(peer, &theirs)) {
        COUNT(f, gossip_errors);
        made = -1;
        gl_log(GL_LOG_WARN, "%s: peer %s served no valid cosigned checkpoint: %s",
               log->origin, peer->name,
               err != 0 ? gl_err_format(&why, NULL, msg, sizeof(msg))
                        : "no valid cosignature by the peer");
    } else if (mine_of(f, li, &v, &mn, &mine) == 0 && !v.frozen) {
        settle(f, li, &v, &theirs, &mine, source, 1);
    }
    gl_buf_release(&tn);
    gl_buf_release(&mn);
    return made;
}

/* What import_one made of a file. */
enum import_result {
    IMPORT_DONE = 0,    /* imported (or held already) */
    IMPORT_FAILED = 1,  /* not had (no answer, another status, or not the file
                         * with that id), or the engine neither stored nor
                         * refused it (e.g. its store failed): tried again,
                         * peercursor_import_retry */
    IMPORT_REFUSED = 2, /* the engine refused it (422, logged by
                         * submit_evidence): peercursor_refuse */
};

/* Fetches and submits one evidence file the peer lists: an enum
 * import_result. */
static int import_one(struct feeder *f, const struct peers_entry *peer,
                      unsigned char *down, size_t li, const char *id)
{
    char url[LOGS_URL_MAX + 96], got[GL_HASH_HEX_LEN + 1], source[ENGINE_SOURCE_MAX];
    struct gl_http_response r;
    struct gl_buf file;
    int had, status = 0;

    gl_buf_init(&file, GL_EVIDENCE_MAX_SIZE);
    snprintf(url, sizeof(url), "%s/evidence/%s", peer->url, id);
    snprintf(source, sizeof(source), "imported from peer %s", peer->name);
    had = get(f, down, NULL, 0, url, GL_EVIDENCE_MAX_SIZE, &r) == 0 &&
          gl_buf_append(&file, r.body.data, r.body.len) == 0 &&
          gl_evidence_id((const char *)file.data, file.len, got) == 0 &&
          strcmp(got, id) == 0;
    if (had) {
        status = submit_evidence(f, li, &file, source);
        if (status == 200 && f->w->evidence_id[0] != 0)
            COUNT(f, evidence_imported);
    }
    gl_http_response_release(&r);
    gl_buf_release(&file);
    return status == 200 ? IMPORT_DONE : status == 422 ? IMPORT_REFUSED : IMPORT_FAILED;
}

/* 1 if log li is frozen: it holds its evidence, more would not be kept. */
static int frozen(struct feeder *f, size_t li)
{
    struct engine_view v = {0};

    (void)engine_view(f->cfg.engine, li, &v, NULL); /* fills v even if not found */
    return v.frozen;
}

/* The next page's index in a Link header value (ours:
 * `<evidence?from=K&limit=M>; rel="next"`): the from= of the query of the
 * URI between '<' and '>', if the parameters after it say rel="next" (or
 * rel=next). 0 and *next, or GL_ENOTFOUND (no next page named). */
static int link_next(const char *link, size_t *next)
{
    const char *lt = strchr(link, '<'), *gt = lt != NULL ? strchr(lt, '>') : NULL;
    const char *q = lt != NULL && gt != NULL ? memchr(lt, '?', (size_t)(gt - lt)) : NULL;
    uint64_t v = 0;
    int found = 0;

    if (q == NULL ||
        (strstr(gt, "rel=\"next\"") == NULL && strstr(gt, "rel=next") == NULL))
        return GL_ENOTFOUND;
    for (q++; q < gt && !found;) {
        const char *amp = memchr(q, '&', (size_t)(gt - q)), *end = amp != NULL ? amp : gt;
        found = end - q > 5 && memcmp(q, "from=", 5) == 0 &&
                gl_parse_u64(q + 5, (size_t)(end - q - 5), &v) == 0 &&
                (uint64_t)(size_t)v == v;
        q = end + 1;
    }
    if (!found)
        return GL_ENOTFOUND;
    *next = (size_t)v;
    return 0;
}

/* Fetches, from one page (list, its first entry at index at) of a peer's
 * evidence list, the files we do not hold for logs we witness and have
 * not frozen; *fetched counts the fetches (at most IMPORT_MAX), *seen the
 * entries looked at (at most IMPORT_SEEN_MAX). An entry whose fetch was
 * not made (its share spent) is not looked at, and ends the page. The
 * first entry this round whose fetch was made and failed is *failed
 * (SIZE_MAX: none yet), unless peercursor_import_retry gave up on it: the next round
 * resumes there (import_evidence); the read goes on past it. */
static void import_page(struct feeder *f, const struct peers_entry *peer,
                        unsigned char *down, struct peercursor *c, const cJSON *list,
                        size_t at, int *fetched, size_t *seen, size_t *failed_at)
{
    const cJSON *o;
    size_t pos = 0;

    cJSON_ArrayForEach(o, list)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
        const cJSON *origin = cJSON_GetObjectItemCaseSensitive(o, "origin");
        uint8_t raw[GL_HASH_LEN];
        uint64_t asked = f->asked;
        size_t li, i = at + pos++;
        int failed, result;
        if (*fetched == IMPORT_MAX || *seen == IMPORT_SEEN_MAX || *down || f->late ||
            stopping(f))
            return;
        ++*seen;
        if (!cJSON_IsString(id) || !cJSON_IsString(origin) ||
            strlen(id->valuestring) != GL_HASH_HEX_LEN ||
            gl_hex_decode_exact(id->valuestring, GL_HASH_HEX_LEN, raw, GL_HASH_LEN, 1) !=
                0 ||
            logs_find(f->cfg.logs, origin->valuestring, strlen(origin->valuestring),
                      &li) != 0 ||
            peercursor_refused(c, raw) || frozen(f, li) ||
            engine_has_evidence(f->cfg.engine, id->valuestring))
            continue;
        ++*fetched;
        result = import_one(f, peer, down, li, id->valuestring);
        failed = result == IMPORT_FAILED;
        if (result == IMPORT_REFUSED)
            peercursor_refuse(c, raw);
        if (f->asked == asked) { /* not asked: this entry comes first next time */
            --*seen;
            --*fetched;
            return;
        }
        if (failed && *failed_at == SIZE_MAX &&
            (stopping(f) || peercursor_import_retry(c, peer->name, i, id->valuestring)))
            *failed_at = i; /* a stop: not a try */
        if (!failed && c->fail_at == i + 1)
            c->fail_at = 0;
    }
}

/* Reads the peer's evidence list page by page (specs/witness.md: a JSON
 * array per page, a Link header to the next) from entry *from
 * (c->evidence), where its
 * previous round stopped (c), and imports from each. A next page is followed
 * only if it starts right after the entries just read, so every request
 * moves forward; at most IMPORT_PAGES_MAX pages and IMPORT_SEEN_MAX
 * entries a round, whatever the peer answers. *from is left at the first
 * entry not looked at, or 0 once the list's end was read or the peer gave
 * no list there; an empty page at *from > 0 (its list shrank) starts over
 * at 0 at once. A peer that ignores the query (it serves its whole list
 * at once, no Link) is read as one page, from its start every round. The
 * caller moves *from back to the first entry that failed (import_page). */
static void import_pages(struct feeder *f, const struct peers_entry *peer,
                         unsigned char *down, struct peercursor *c, size_t *failed_at)
{
    size_t *from = &c->evidence;
    char url[LOGS_URL_MAX + 64];
    struct gl_http_response r;
    size_t next = 0, seen = 0;
    int fetched = 0, more = 1;

    for (int page = 0; more && page < IMPORT_PAGES_MAX; page++) {
        cJSON *list = NULL;
        size_t n, looked = seen;
        int answered;
        if (fetched == IMPORT_MAX || seen == IMPORT_SEEN_MAX || *down || f->late ||
            stopping(f))
            return;
        snprintf(url, sizeof(url), "%s/evidence?from=%zu&limit=%d", peer->url, *from,
                 IMPORT_PAGE);
        if (get(f, down, NULL, 0, url, JSON_MAX, &r) == 0)
            list = cJSON_ParseWithLength((const char *)r.body.data, r.body.len);
        more = r.has_header && link_next(r.header, &next) == 0;
        answered = r.status != 0;
        gl_http_response_release(&r);
        if (!cJSON_IsArray(list)) {
            cJSON_Delete(list);
            if (answered) /* no list there: the next round starts over */
                *from = 0;
            return;
        }
        n = (size_t)cJSON_GetArraySize(list);
        import_page(f, peer, down, c, list, *from, &fetched, &seen, failed_at);
        cJSON_Delete(list);
        looked = seen - looked;
        if (n == 0 && *from > 0 && page == 0) {
            *from = 0; /* its list shrank below where we were: start over */
            more = 1;
            continue;
        }
        if (looked < n) {
            *from += looked; /* stopped inside the page: resume there */
            return;
        }
        /* n is at most JSON_MAX / 2 a page: *from stays far below SIZE_MAX */
        more = more && n > 0 && next == *from + n;
        *from = more ? next : 0;
    }
}

/* import_pages; then, if an entry's fetch was made and failed (the first
 * such this round, import_page), the next round resumes at it. */
static void import_evidence(struct feeder *f, const struct peers_entry *peer,
                            unsigned char *down, struct peercursor *c)
{
    size_t failed_at = SIZE_MAX;

    import_pages(f, peer, down, c, &failed_at);
    if (failed_at != SIZE_MAX)
        c->evidence = failed_at;
}

/* The round's parts (f->pulled: the logs with a url; f->cur: a cursor
 * per peer) and the logs' state in a round (f->logr). 0 or GL_ENOMEM. */
static int parts_init(struct feeder *f)
{
    const struct logs_list *logs = f->cfg.logs;
    size_t npeers = f->cfg.peers != NULL ? f->cfg.peers->n : 0;

    f->pulled = calloc(logs->n + 1, sizeof(*f->pulled));
    f->cur = calloc(npeers + 1, sizeof(*f->cur));
    f->logr = calloc(logs->n + 1, sizeof(*f->logr));
    if (f->pulled == NULL || f->cur == NULL || f->logr == NULL)
        return GL_ENOMEM;
    for (size_t i = 0; i < logs->n; i++)
        if (logs->v[i].url[0] != 0)
            f->pulled[f->npulled++] = i;
    return 0;
}

/* The number of a round's parts: a pull per log with a url, each peer. */
static size_t parts_of(const struct feeder *f)
{
    return f->npulled + (f->cfg.peers != NULL ? f->cfg.peers->n : 0);
}

/* Starts the next of `parts` parts of the round: its share of what is
 * left of the round. */
static void part_start(struct feeder *f, size_t parts)
{
    uint64_t now = gl_clock_mono_ms();

    f->until = rounds_share(&f->rounds, parts);
    f->share_ms = f->until > now ? f->until - now : 0;
    f->late = 0;
}

/* Ends a part (what and name name it): if its share ran out before it
 * was done, one log line and the count (rounds_late). */
static void part_end(struct feeder *f, const char *what, const char *name)
{
    char part[PEERS_NAME_MAX + GL_CHECKPOINT_ORIGIN_MAX + 32];

    if (!f->late || stopping(f))
        return;
    snprintf(part, sizeof(part), "%s %s", what, name);
    rounds_late(&f->rounds, part, f->share_ms);
}

/* Peer p's gossip: a checkpoint per log, starting after the last log
 * polled at its previous round, so that a peer whose share holds k polls
 * covers every log within ceil(logs / k) of the rounds where its gossip
 * comes first. A comparison whose proof was refused (the log's cap spent,
 * or the log down earlier in the round: get()) holds the cursor at its
 * log (the polls after it still made), so the peer's next part polls it
 * first; in a round where that part runs first (once every P rounds, P
 * the round's parts; its gossip goes first, or after its list, at least
 * in every other such round that makes a request: peer_part) that
 * proof is the log's first request of the round and is never refused. A
 * hold is kept at most P parts in a row (peercursor_gossip), then the cursor moves
 * on, and it never moves the cursor back: a log cannot pin a peer's
 * gossip, and the bound on every log's gossip (module comment) stands. 1 if a poll
 * failed and was counted as a gossip error. */
static int gossip_all(struct feeder *f, size_t p, unsigned char *down)
{
    const struct peers_entry *peer = &f->cfg.peers->v[p];
    struct peercursor *c = &f->cur[p];
    size_t n = f->cfg.logs->n, start = c->gossip;
    int failed = 0, hold = 0;

    for (size_t k = 0; k < n && !*down && !f->late && !stopping(f); k++) {
        size_t li = (start + k) % n;
        uint64_t refused = f->refused;
        int made = gossip(f, peer, down, li);
        peercursor_gossip(c, li, n, made != 0, f->refused != refused, parts_of(f), &hold);
        failed |= made < 0;
    }
    return failed;
}

/* Peer p's evidence import, its list read on from where its last round
 * stopped (struct peercursor); *made: whether a request of it was made.
 * 1 if its import gave no answer (*down set by it: its list or a file). */
static int evidence_all(struct feeder *f, size_t p, unsigned char *down, int *made)
{
    uint64_t asked = f->asked;
    int was = *down;

    import_evidence(f, &f->cfg.peers->v[p], down, &f->cur[p]);
    *made = f->asked != asked;
    return !was && *down;
}

/* Peer p's part: its gossip, then its evidence list, each within the
 * part's share, as on a round without shares (a peer that gives no answer
 * to its gossip is not asked for its list: one timeout a round). The
 * cursor's evidence_due changes only in a part that made a request (one
 * whose turn came with no share left changes nothing): it is set when the
 * list was not reached (the gossip used the share), cleared when the list
 * made a request; when set, the list goes first at the peer's next part,
 * and the gossip then runs after it, unless a request of the import (the
 * list or a file it lists) got no status at all (DOWN_SILENT: the peer is
 * down for the gossip too, one timeout a round); one that hangs after its
 * status (DOWN_HUNG) does not stop the gossip. So in the rounds where the part makes a
 * request, its list and its gossip go first at least every other one; and it makes one at
 * least in every round where it runs first (rounds_nth: once every P rounds, P the
 * round's parts, with a share of about a timeout). A peer's list that gives no answer is
 * one gossip error, unless a poll of its gossip failed this round too: one error a peer a
 * round for a peer that is down. */
static void peer_part(struct feeder *f, size_t p)
{
    struct peercursor *c = &f->cur[p];
    unsigned char down = 0, list_down = 0;
    uint64_t asked = f->asked;
    int failed, list_failed, list_made;

    if (c->evidence_due) {
        list_failed = evidence_all(f, p, &list_down, &list_made);
        if (list_down == DOWN_SILENT)
            down = DOWN_SILENT;
        failed = gossip_all(f, p, &down);
    } else {
        failed = gossip_all(f, p, &down);
        list_failed = evidence_all(f, p, &down, &list_made);
    }
    if (f->asked != asked)
        c->evidence_due = !list_made && !down && !stopping(f);
    if (list_failed && !failed)
        COUNT(f, gossip_errors);
}

/* One round (a rounds round; arg: the feeder); returns at once when a
 * stop is asked. A party (a log's url, a peer) that gives no answer is
 * not asked again until the next round (get()): a peer down skips its
 * other requests; a log's url down, its proofs. The parts, each within its
 * share of the round: a pull per log with a url and a peer_part per peer,
 * numbered pulls then peers, run from part (round number mod parts) on. */
static void round_once(void *arg)
{
    struct feeder *f = arg;
    const struct logs_list *logs = f->cfg.logs;
    size_t parts = parts_of(f);

    memset(f->logr, 0, (logs->n + 1) * sizeof(*f->logr));
    for (size_t k = 0; k < parts && !stopping(f); k++) {
        size_t s = rounds_nth(&f->rounds, k, parts);
        part_start(f, parts - k);
        if (s < f->npulled) {
            pull(f, f->pulled[s]);
            part_end(f, "pulling", logs->v[f->pulled[s]].origin);
        } else {
            peer_part(f, s - f->npulled);
            part_end(f, "gossip with peer", f->cfg.peers->v[s - f->npulled].name);
        }
    }
    COUNT(f, rounds);
}

/* --- lifecycle ------------------------------------------------------------------------
 */

int feeder_start(const struct feeder_config *cfg, struct feeder **out)
{
    struct feeder *f = calloc(1, sizeof(*f));
    struct gl_http_client_config hc = {0};
    int err;

    if (f == NULL || (f->w = calloc(1, sizeof(*f->w))) == NULL) {
        free(f);
        return GL_ENOMEM;
    }
    f->cfg = *cfg;
    f->st = cfg->start;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    err = parts_init(f);
    rounds_init(&f->rounds, cfg->poll_interval_s,
                rounds_budget(parts_of(f), cfg->timeout_ms), round_once, f);
    if (err != 0)
        goto fail;
    hc.capture_header = "Link"; /* the evidence list's next page */
    hc.abort_cb = abort_cb;
    hc.abort_arg = f;
    if ((err = gl_http_client_new(&hc, &f->http)) != 0)
        goto fail;
    if (rounds_start(&f->rounds) != 0) {
        err = GL_ENOMEM;
        goto fail;
    }
    *out = f;
    return 0;
fail:
    feeder_free(f);
    return err;
}

void feeder_ask_stop(struct feeder *f)
{
    if (f != NULL)
        rounds_ask_stop(&f->rounds);
}

int feeder_stopped(struct feeder *f)
{
    return f == NULL || rounds_stopped(&f->rounds);
}

int feeder_resume(struct feeder *f)
{
    return f == NULL || rounds_resume(&f->rounds) == 0 ? 0 : GL_ENOMEM;
}

void feeder_stop(struct feeder *f)
{
    if (f != NULL)
        rounds_stop(&f->rounds);
}

void feeder_free(struct feeder *f)
{
    if (f == NULL)
        return;
    rounds_release(&f->rounds);
    gl_http_client_free(f->http);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    free(f->pulled);
    free(f->cur);
    free(f->logr);
    free(f->w);
    free(f);
}

void feeder_stats(struct feeder *f, struct feeder_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (f == NULL)
        return;
    pthread_mutex_lock(&f->mu);
    *out = f->st;
    pthread_mutex_unlock(&f->mu);
    out->parts_late = f->cfg.start.parts_late + rounds_parts_late(&f->rounds);
}

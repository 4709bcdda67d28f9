/*
 * monitor: one monitoring cycle over a log; see monitor.h for the steps.
 *
 * Trust chain. The stored checkpoint S was verified (log signature,
 * quorum) and proven consistent with every earlier stored checkpoint. A
 * new checkpoint N becomes the *target* only after it verified and was
 * proven consistent with S. Entries are checked against the target: their
 * leaf hashes extend the compact range saved with the progress, and the
 * target is stored (becomes S) only when that range's root equals the
 * target's root, and only after the target was proven consistent, under
 * the state lock, with the checkpoint stored at that moment (another
 * command sharing the state may have stored a newer one during the
 * catch-up, or while an interrupted target waited in the progress file).
 * So the progress file never vouches for anything by itself: a range
 * built from bad data fails the root comparison at the end of the target
 * (a bad-tree alarm, and the progress is dropped so the next cycle starts
 * over from entry 0).
 *
 * A catch-up that cannot reach its target (a chain check could not ask
 * the log, a malformed bundle, a bad tree) is *stalled*: whatever the
 * cause, every cycle still compares the served checkpoint with S (or with
 * the target before any S), so a log cannot hide a fork behind a bundle
 * it refuses or mangles; the due audit checks run at the end of every
 * cycle whatever its result.
 *
 * Tiles (tiles.h) are cached unchecked, so the cache lives for one cycle
 * at most, and a proof built from it that does not verify is built once
 * more from fresh fetches before it raises anything.
 *
 * Pipelining: while the workers check bundle k, this thread downloads
 * bundle k+1 and its tile; after the wait it submits k+1 at once and then
 * does the sequential part of k (tile comparison, compact range, watched
 * submitters, alarms, progress file), so both cores stay busy with
 * signatures. Only this thread touches the network and the state.
 */
#include "monitor.h"
#include "chainwatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "alarm.h"
#include "cli.h"
#include "consist.h"
#include "expect.h"
#include "fetch.h"
#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/merkle.h"
#include "glasslog/note.h"
#include "glasslog/tile.h"
#include "glasslog/tlogproof.h"
#include "pool.h"
#include "state.h"
#include "tiles.h"
#include "trust.h"
#include "util.h"
#include "clock.h"

#define BAR_MIN_ENTRIES 2048 /* show a progress bar from this many entries */
#define BAR_PERIOD 0.25      /* seconds between redraws */
/* New alarms about entries a cycle records, at most (the cap), in each of
 * its two phases: the catch-up, and the due chain checks after it (each
 * its own count, so a long catch-up never holds the due checks back).
 * At the alarm that reaches the catch-up's cap the catch-up stops before
 * that entry (the cycle then fails, exit 2, and goes on from that entry
 * next cycle); at the due checks' cap the checks not run yet stay pending
 * for the next cycle. Every alarm about an entry counts: bad-entry,
 * bad-tile, unexpected-statement and the chain alarms (chainwatch), but
 * only when recorded now: one recorded before (met again where the
 * catch-up stopped, or a bundle checked again) is announced on stderr
 * again, neither recorded nor hooked, and counts nothing, so a catch-up
 * met again at its stop always goes past it. So a log serving bundles of
 * bad entries, or holding many builds that raise chain alarms, adds at
 * most twice this many evidence directories (and --on-alarm runs) a
 * cycle, not one an entry. */
#define ENTRY_ALARMS_MAX 16

struct bundle {
    uint64_t k;         /* bundle (level-0 tile) index */
    const char *mirror; /* the mirror URL that served the bundle or its tile
                         * (into f.urls), NULL when the log served both */
    uint32_t width;     /* entries at the target size */
    size_t skip;        /* entries [0, skip) were checked before */
    struct gl_buf data; /* the entry bundle */
    struct gl_buf tile; /* the level-0 hash tile, width * 32 bytes */
    size_t n;
    struct gl_tile_entry e[GL_TILE_WIDTH];
    struct pool_result res[GL_TILE_WIDTH];
};

struct stats {
    uint64_t entries, watched, expected, unexpected, verified, other, bad;
    double t0;
};

struct monitor {
    /* the catch-up: a bundle of this cycle came from a mirror
     * (mirrored); the mirror of the bundle being checked (cur_mirror);
     * a catch-up is running (catching_up); a chain alarm of the entry
     * being checked could not be recorded (chain_stop: mirror_differs).
     * New alarms about entries this cycle recorded: in its catch-up
     * (entry_alarms) and its due chain checks (due_alarms), each capped */
    int mirrored;
    const char *cur_mirror;
    int catching_up, chain_stop;
    unsigned entry_alarms, due_alarms;
    const struct monitor_opts *o;
    struct gl_policy *p;
    struct fetch f;
    struct tiles *ts;
    struct pool *pool;
    struct expect ex;
    struct gl_verifier *keys; /* policy submitters, then extra watched keys */
    size_t nkeys, nsub;
    uint8_t *watched; /* per key: 1 if its statements are watched */
    int have_state;
    size_t log; /* policy index of the log being monitored */
    struct state s;
    struct alarm_ctx a;
    struct state_progress prog;
    struct trust_checkpoint tgt; /* the target checkpoint, opened */
    struct bundle *b[2];
    struct stats st;
    double bar_last;
    uint64_t bar_from, bar_to;
    struct chainwatch *cw; /* the provenance-chain alarms */
    unsigned alarms;       /* alarms found in this cycle */
    int fatal;             /* the state cannot be used: stop polling */
};

/* --- setup ------------------------------------------------------------------------- */

static int same_key(const struct gl_verifier *a, const struct gl_verifier *b)
{
    return a->id == b->id && memcmp(a->pub, b->pub, GL_KEY_LEN) == 0 &&
           strcmp(a->name, b->name) == 0;
}

/* Builds keys = policy submitters + watched keys not among them. */
static int setup_keys(struct monitor *m)
{
    const struct gl_verifier *subs = gl_policy_submitters(m->p, &m->nsub);
    size_t cap = m->nsub + m->o->nwatch;

    m->keys = calloc(cap ? cap : 1, sizeof(*m->keys));
    m->watched = calloc(cap ? cap : 1, 1);
    if (m->keys == NULL || m->watched == NULL)
        return GL_ENOMEM;
    memcpy(m->keys, subs, m->nsub * sizeof(*subs));
    m->nkeys = m->nsub;
    for (size_t i = 0; i < m->o->nwatch; i++) {
        struct gl_verifier k;
        size_t j;
        if (cli_load_verifier(m->o->watch[i], &k) != 0)
            return GL_EPARSE;
        if (k.type != GL_KEY_NOTE) {
            cli_error("--watch-submitter %s is not a note (0x01) key", m->o->watch[i]);
            return GL_EKEYTYPE;
        }
        for (j = 0; j < m->nkeys && !same_key(&m->keys[j], &k); j++)
            ;
        if (j == m->nkeys)
            m->keys[m->nkeys++] = k;
        m->watched[j] = 1;
    }
    if (m->o->nwatch == 0 && m->o->expect != NULL) {
        if (m->nsub == 0) { /* nothing to watch: --expect would check nothing */
            cli_error("--expect %s watches the policy's submitters, but %s lists none: "
                      "add submitter lines or give --watch-submitter",
                      m->o->expect, m->o->policy);
            return GL_EINVAL;
        }
        memset(m->watched, 1, m->nsub);
    }
    return 0;
}

static void chain_alarm(void *ctx, const struct chainwatch_alarm *a);
static int chain_full(void *ctx);
static int read_entry(void *ctx, uint64_t index, struct gl_buf *stmt,
                      struct gl_buf *proof, char *why, size_t whylen);
static int prove_entry(void *ctx, uint64_t index, const uint8_t leaf[GL_HASH_LEN],
                       const char *proof);

int monitor_new(const struct monitor_opts *o, struct monitor **out)
{
    struct monitor *m = calloc(1, sizeof(*m));
    int rc;

    if (m == NULL)
        return GL_ENOMEM;
    m->o = o;
    state_progress_init(&m->prog);
    m->s.lock_fd = m->s.monitor_fd = -1;
    if ((rc = trust_load_policy(o->policy, 1, &m->p)) != 0 || (rc = setup_keys(m)) != 0)
        goto fail;
    if (o->expect != NULL && (rc = expect_load(o->expect, &m->ex)) != 0)
        goto fail;
    if ((rc = fetch_open(&m->f, &o->net)) != 0)
        goto fail;
    for (int i = 0; i < 2; i++) {
        if ((m->b[i] = calloc(1, sizeof(*m->b[i]))) == NULL) {
            rc = GL_ENOMEM;
            goto fail;
        }
        gl_buf_init(&m->b[i]->data, GL_TILE_BUNDLE_MAX);
        gl_buf_init(&m->b[i]->tile, (size_t)GL_TILE_WIDTH * GL_HASH_LEN);
    }
    if ((rc = tiles_new(&m->f, &m->ts)) != 0 ||
        (rc = pool_new(o->threads, &m->pool)) != 0 ||
        (rc = chainwatch_new(m->p, &o->net.urls, o->net.timeout_s, o->audit_within,
                             chain_alarm, read_entry, prove_entry, chain_full, m,
                             &m->cw)) != 0)
        goto fail;
    *out = m;
    return 0;
fail:
    monitor_free(m);
    return rc;
}

void monitor_free(struct monitor *m)
{
    if (m == NULL)
        return;
    chainwatch_free(m->cw);
    pool_free(m->pool);
    tiles_free(m->ts);
    for (int i = 0; i < 2; i++) {
        if (m->b[i] == NULL)
            continue;
        gl_buf_release(&m->b[i]->data);
        gl_buf_release(&m->b[i]->tile);
        free(m->b[i]);
    }
    fetch_release(&m->f);
    state_progress_release(&m->prog);
    state_close(&m->s);
    expect_release(&m->ex);
    free(m->keys);
    free(m->watched);
    gl_policy_free(m->p);
    free(m);
}

int monitor_reload_expect(struct monitor *m)
{
    struct expect ex;
    int rc;

    if (m->o->expect == NULL)
        return 0;
    if ((rc = expect_load(m->o->expect, &ex)) != 0) {
        cli_error("keeping the previous expected releases");
        return rc;
    }
    expect_release(&m->ex);
    m->ex = ex;
    return 0;
}

/* --- progress bar ------------------------------------------------------------------ */

static void bar_start(struct monitor *m, uint64_t from, uint64_t to)
{
    m->bar_from = from;
    m->bar_to = to;
    m->bar_last = 0;
}

static void bar_draw(struct monitor *m, uint64_t at, int last)
{
    double now = gl_clock_mono(), el = now - m->st.t0;
    uint64_t total = m->bar_to - m->bar_from, done = at - m->bar_from;
    char bar[41];
    size_t fill;

    if (!m->o->progress || total < BAR_MIN_ENTRIES ||
        (!last && now - m->bar_last < BAR_PERIOD))
        return;
    m->bar_last = now;
    fill = (size_t)(40.0 * (double)done / (double)total);
    memset(bar, '#', fill);
    memset(bar + fill, '.', 40 - fill);
    bar[40] = 0;
    fprintf(stderr, "\r[%s] %llu/%llu entries %3.0f%% %8.0f/s", bar,
            (unsigned long long)at, (unsigned long long)m->bar_to,
            100.0 * (double)done / (double)total,
            el > 0 ? (double)m->st.entries / el : 0.0);
    if (last)
        fputc('\n', stderr);
    fflush(stderr);
}

/* --- state and checkpoints --------------------------------------------------------- */

/* Opens the state of policy log `log` (once per run). */
static int open_state(struct monitor *m, size_t log)
{
    size_t n;
    const struct gl_verifier *keys = gl_policy_log_keys(m->p, &n);
    int rc;

    if (m->have_state) {
        if (strcmp(keys[log].name, keys[m->log].name) == 0) {
            m->log = log; /* another key of the same log: the same state */
            m->a.log_key = &keys[log];
            return 0;
        }
        cli_error("the log at %s changed keys (now %s): not followed",
                  fetch_opts_log(&m->o->net), keys[log].name);
        return GL_EVERIFY;
    }
    m->fatal = 1;
    if ((rc = state_open_log(&m->s, m->o->state, keys, n, log)) != 0)
        return rc;
    if ((rc = state_lock_monitor(&m->s)) != 0) {
        cli_error(rc == GL_EEXIST ? "another monitor is running on %s"
                                  : "cannot lock %s/monitor.lock",
                  m->s.dir);
        state_close(&m->s);
        return rc;
    }
    m->have_state = 1;
    m->fatal = 0;
    m->log = log;
    m->a.s = &m->s;
    m->a.log_key = &keys[log];
    m->a.url = fetch_opts_log(&m->o->net);
    m->a.on_alarm = m->o->on_alarm;
    m->a.on_alarm_timeout_s = m->o->on_alarm_timeout_s;
    return 0;
}

/* Opens a checkpoint note from the log or the state (log signature
 * required; quorum required when need_quorum). */
static int open_checkpoint(struct monitor *m, const struct gl_buf *note, const char *what,
                           int need_quorum, struct trust_checkpoint *tc)
{
    char why[TRUST_WHY_MAX];
    int rc = trust_checkpoint_open(m->p, (const char *)note->data, note->len,
                                   (uint64_t)time(NULL), tc, why);

    if (rc == 0 || (rc == GL_EQUORUM && !need_quorum))
        return 0;
    cli_error("%s does not verify: %s", what, why);
    return rc;
}

/* The log's checkpoint into note and *tc. CLI_OK also when it lacks its
 * witness quorum but is signed by a policy log key (*no_quorum set,
 * reported): such a checkpoint is still compared with the remembered one
 * (a split view the witnesses refused to cosign is exactly what the log
 * signed alone), though never followed. */
static int fetch_checkpoint(struct monitor *m, struct gl_buf *note,
                            struct trust_checkpoint *tc, int *no_quorum)
{
    int rc = fetch_get(&m->f, "checkpoint", STATE_CHECKPOINT_MAX, note);

    *no_quorum = 0;
    if (rc != 0) {
        cli_error("cannot get the log's checkpoint: %s", m->f.error);
        return CLI_USAGE;
    }
    if ((rc = open_checkpoint(m, note, "the log's checkpoint", 1, tc)) == GL_EQUORUM)
        *no_quorum = 1;
    else if (rc != 0)
        return CLI_VERIFY;
    return open_state(m, tc->log) == 0 ? CLI_OK : CLI_USAGE;
}

/* The root of the first lo leaves of the tree of hi leaves, from the tiles,
 * when lo is a power of two below hi (what a split-view evidence file needs
 * besides the consistency proof); GL_EINVAL otherwise. A consist_source's
 * prefix_root (ctx: the monitor). */
static int prefix_root(void *ctx, uint64_t lo, uint64_t hi, uint8_t out[GL_HASH_LEN])
{
    struct monitor *m = ctx;
    struct gl_hash_source src;

    if (lo == 0 || lo >= hi || (lo & (lo - 1)) != 0)
        return GL_EINVAL;
    tiles_source(m->ts, hi, &src);
    return gl_merkle_root_at(&src, lo, out);
}

/* A consistency proof lo -> hi computed from the tiles (a consist_source's
 * prove). */
static int tiles_proof(void *ctx, uint64_t lo, uint64_t hi, uint8_t (*proof)[GL_HASH_LEN],
                       size_t *len)
{
    struct monitor *m = ctx;

    return tiles_prove_consistency(m->ts, lo, hi, proof, len);
}

/* Empties the tile cache (a consist_source's refresh). */
static void tiles_refresh(void *ctx)
{
    struct monitor *m = ctx;

    tiles_clear(m->ts);
}

/* Is the served checkpoint consistent with the stored one? Proven from
 * tiles (consist.h). 0 yes; GL_EVERIFY no (alarm raised, or a smaller one
 * not proven a prefix); other codes: could not tell (reported). */
static int check_consistency(struct monitor *m, const struct gl_buf *snote,
                             const struct trust_checkpoint *sc,
                             const struct gl_buf *nnote,
                             const struct trust_checkpoint *nc)
{
    const struct consist_source src = {.prove = tiles_proof,
                                       .prefix_root = prefix_root,
                                       .refresh = tiles_refresh,
                                       .ctx = m,
                                       .error = m->f.error,
                                       .what = "the log's tiles",
                                       .seen = "verified"};
    const struct consist_checkpoint old = {(const char *)snote->data, snote->len,
                                           &sc->cp};
    const struct consist_checkpoint cur = {(const char *)nnote->data, nnote->len,
                                           &nc->cp};
    int forked = 0, rc;

    m->a.url = m->f.base; /* evidence names the server that answered */
    rc = consist_check(&m->a, &src, &old, &cur, &forked);
    m->alarms += (unsigned)forked;
    return rc;
}

/* The stored checkpoint: its note and the note opened. */
struct stored {
    struct gl_buf note;
    struct trust_checkpoint tc;
};

static void stored_free(struct stored *st)
{
    if (st == NULL)
        return;
    gl_buf_release(&st->note);
    free(st);
}

/* Loads and opens the stored checkpoint into a new *out (the caller frees
 * it with stored_free). 0, GL_ENOTFOUND (none yet, *out NULL) or an error
 * (reported, *out NULL). */
static int stored_load(struct monitor *m, struct stored **out)
{
    struct stored *st = malloc(sizeof(*st));
    size_t nk;
    int rc;

    *out = NULL;
    if (st == NULL)
        return GL_ENOMEM;
    gl_buf_init(&st->note, STATE_CHECKPOINT_MAX);
    rc = state_load_checkpoint(&m->s, &st->note);
    if (rc == GL_ENOTFOUND)
        goto fail;
    if (rc != 0 ||
        open_checkpoint(m, &st->note, "the stored checkpoint", 0, &st->tc) != 0) {
        cli_error("cannot use the stored checkpoint in %s: remove it to start over",
                  m->s.dir);
        rc = rc != 0 ? rc : GL_EVERIFY;
        goto fail;
    }
    if ((rc = state_check_stored_log(&m->s, gl_policy_log_keys(m->p, &nk), st->tc.log,
                                     m->log)) != 0)
        goto fail;
    *out = st;
    return 0;
fail:
    stored_free(st);
    return rc;
}

/* Stores the verified checkpoint note (opened as tc) as the remembered
 * one. Under the state lock it loads the stored checkpoint again (another
 * command sharing the state may have replaced it since this cycle read
 * it), proves note consistent with that one from the tiles (a fork is an
 * alarm) and only then stores note (state_store_checkpoint keeps a larger
 * stored tree). CLI code. */
static int store_checked(struct monitor *m, const struct gl_buf *note,
                         const struct trust_checkpoint *tc)
{
    struct stored *st = NULL;
    int rc;

    if (state_lock(&m->s) != 0)
        return CLI_USAGE;
    alarm_defer(&m->a); /* a fork's hook runs once the lock is let go */
    rc = stored_load(m, &st);
    if (rc == 0 && (rc = check_consistency(m, &st->note, &st->tc, note, tc)) != 0) {
        rc = rc == GL_EVERIFY ? CLI_VERIFY : CLI_USAGE;
        goto out;
    }
    if (rc != 0 && rc != GL_ENOTFOUND) {
        rc = CLI_USAGE;
        goto out;
    }
    rc = state_store_checkpoint(&m->s, (const char *)note->data, note->len, tc->cp.size,
                                tc->cp.root, NULL) == 0
             ? CLI_OK
             : CLI_USAGE;
out:
    state_unlock(&m->s);
    alarm_run_deferred(&m->a);
    stored_free(st);
    return rc;
}

/* --- entries ----------------------------------------------------------------------- */

/* Downloads bundle k (and its level-0 tile) at tree size `size` (the
 * target's, in a catch-up). */
static int fetch_bundle(struct monitor *m, uint64_t k, uint64_t from, uint64_t size,
                        struct bundle *b)
{
    struct gl_tile t = {.index = k, .level = 0};
    int rc;

    b->k = k;
    if ((rc = gl_tile_width(0, k, size, &b->width)) != 0)
        return rc;
    t.width = b->width;
    b->skip = k * GL_TILE_WIDTH < from ? (size_t)(from - k * GL_TILE_WIDTH) : 0;
    b->mirror = NULL;
    if ((rc = fetch_tile(&m->f, &t, 1, &b->data)) == 0) {
        b->mirror = m->f.cur != 0 ? m->f.base : NULL;
        rc = fetch_tile(&m->f, &t, 0, &b->tile);
    }
    if (rc != 0) {
        cli_error("cannot download bundle %llu: %s", (unsigned long long)k, m->f.error);
        return rc;
    }
    if (m->f.cur != 0 && b->mirror == NULL)
        b->mirror = m->f.base;
    m->mirrored |= b->mirror != NULL;
    if (b->tile.len != (size_t)b->width * GL_HASH_LEN ||
        gl_tile_bundle_decode(b->data.data, b->data.len, b->width, b->e, &b->n) != 0) {
        cli_error("bundle %llu or its tile is malformed (%zu-byte tile for %u entries)",
                  (unsigned long long)k, b->tile.len, b->width);
        return GL_EPARSE;
    }
    return 0;
}

static void submit(struct monitor *m, struct bundle *b)
{
    struct pool_job j = {.e = b->e,
                         .from = b->skip,
                         .n = b->n,
                         .keys = m->keys,
                         .nkeys = m->nkeys,
                         .out = b->res};

    pool_submit(m->pool, &j);
}

/* Appends to out the tlog-proof (the offline bundle: entry e as its extra
 * data) of entry e at index, leaf hash `leaf`, in the checkpoint `note`
 * (opened as cp): the inclusion proof is computed from the tiles and
 * verified against cp's root first. 0; GL_EVERIFY when the tiles' proof
 * does not lead to that root; another code when it could not be computed
 * or formatted (m->f.error may say why). */
static int entry_proof(struct monitor *m, uint64_t index, const struct gl_tile_entry *e,
                       const uint8_t leaf[GL_HASH_LEN], const struct gl_buf *note,
                       const struct gl_checkpoint *cp, struct gl_buf *out)
{
    struct gl_tlogproof *tp = calloc(1, sizeof(*tp));
    int rc;

    if (tp == NULL)
        return GL_ENOMEM;
    /* a proof from cached tiles that does not verify: once more, fresh */
    for (int attempt = 0; attempt < 2; attempt++) {
        if (attempt > 0)
            tiles_clear(m->ts);
        if ((rc = tiles_prove_inclusion(m->ts, index, cp->size, tp->hashes,
                                        &tp->nhashes)) != 0)
            goto out;
        rc =
            gl_merkle_verify_inclusion(index, cp->size, leaf, gl_hashes_const(tp->hashes),
                                       tp->nhashes, cp->root) == 0
                ? 0
                : GL_EVERIFY;
        if (rc == 0)
            break;
    }
    if (rc != 0)
        goto out;
    tp->index = index;
    tp->extra = e->data;
    tp->extra_len = e->len;
    tp->checkpoint = (const char *)note->data;
    tp->checkpoint_len = note->len;
    rc = gl_tlogproof_format(tp, out);
out:
    free(tp);
    return rc;
}

/* A mirror's copy that differs from the log's signed tree: a failed
 * verification, but no alarm against the log, whose tree nothing here
 * shows wrong (a mirror signs no tile: there is no evidence to keep); the
 * cycle stops (the next request asks the log first again). GL_EVERIFY. */
static int mirror_differs(struct monitor *m, const char *mirror, const char *what)
{
    cli_error("%s, served by mirror %s, differs from the log's signed tree of size %llu: "
              "no alarm against the log; the catch-up stops here and resumes next cycle",
              what, mirror, (unsigned long long)m->tgt.cp.size);
    fetch_rewind(&m->f);
    return GL_EVERIFY;
}

/* Counts an alarm about entry index toward its phase's cap
 * (ENTRY_ALARMS_MAX: the catch-up's or the due checks') when it was
 * recorded now (m->a.recorded moved past `before`, its value before the
 * alarm): 0, or GL_EVERIFY when the cap is reached (in a catch-up, which
 * then stops before entry index: reported). */
static int count_alarm(struct monitor *m, uint64_t index, unsigned before)
{
    unsigned *n = m->catching_up ? &m->entry_alarms : &m->due_alarms;

    if (m->a.recorded == before || ++*n < ENTRY_ALARMS_MAX)
        return 0;
    if (m->catching_up)
        cli_error("%u new alarms about entries in this cycle: the catch-up stops at "
                  "entry %llu and goes on next cycle",
                  *n, (unsigned long long)index);
    return GL_EVERIFY;
}

/* Records entry e (leaf hash `leaf`) at index with its tlog-proof: proof
 * (text) when given, else one against the target (entry_proof; the
 * target checkpoint instead when the tiles do not prove it), and up to
 * two more evidence files (extra). An entry a mirror served
 * (m->cur_mirror) is an alarm only when proven in the log's signed tree:
 * else mirror_differs (GL_EVERIFY), nothing recorded. 0 when recorded;
 * GL_EVERIFY, recorded, when it reaches the cap (count_alarm). */
static int statement_alarm_with(struct monitor *m, uint64_t index,
                                const struct gl_tile_entry *e,
                                const uint8_t leaf[GL_HASH_LEN], const char *kind,
                                const char *detail, const char *proof,
                                const struct state_file *extra, size_t nextra)
{
    struct state_file files[4];
    struct gl_buf bundle;
    char dir[STATE_PATH_MAX], what[64];
    size_t nf = 0;
    unsigned before = m->a.recorded;
    int proven = proof != NULL;

    gl_buf_init(&bundle, (size_t)GL_TLOGPROOF_MAX_SIZE);
    files[nf++] = (struct state_file){"statement", e->data, e->len};
    if (proof != NULL) {
        files[nf++] = (struct state_file){"statement.tlog-proof", proof, strlen(proof)};
    } else if (entry_proof(m, index, e, leaf, &m->prog.target, &m->tgt.cp, &bundle) ==
               0) {
        files[nf++] =
            (struct state_file){"statement.tlog-proof", bundle.data, bundle.len};
        proven = 1;
    } else {
        files[nf++] =
            (struct state_file){"checkpoint", m->prog.target.data, m->prog.target.len};
    }
    if (!proven && m->cur_mirror != NULL) {
        gl_buf_release(&bundle);
        snprintf(what, sizeof(what), "entry %llu", (unsigned long long)index);
        return mirror_differs(m, m->cur_mirror, what);
    }
    for (size_t i = 0; i < nextra && i < 2; i++)
        files[nf++] = extra[i];
    m->alarms++;
    m->a.url = m->f.urls.v[0]; /* the log's tree holds it, or the log served it */
    alarm_entry(&m->a, kind, index, leaf, files, nf, detail, dir);
    gl_buf_release(&bundle);
    return count_alarm(m, index, before);
}

static int statement_alarm(struct monitor *m, uint64_t index,
                           const struct gl_tile_entry *e, const uint8_t leaf[GL_HASH_LEN],
                           const char *kind, const char *detail)
{
    return statement_alarm_with(m, index, e, leaf, kind, detail, NULL, NULL, 0);
}

/* chainwatch's alarms: the entry with its tlog-proof (chainwatch's when it
 * has one: a build read by read_entry; else proven against the target),
 * and the related statement with the log's proof for it. Without the entry
 * (neither the log's answer nor its tiles gave it) the evidence is the
 * checkpoint followed, and the name carries the source digest instead of
 * the leaf hash. Each counts toward the cycle's cap (count_alarm), which
 * chainwatch asks about (chain_full). */
static void chain_alarm(void *ctx, const struct chainwatch_alarm *a)
{
    struct monitor *m = ctx;
    struct gl_tile_entry e = {.data = (const uint8_t *)a->stmt, .len = a->len};
    struct state_file extra[2];
    uint8_t leaf[GL_HASH_LEN];
    char dir[STATE_PATH_MAX];
    size_t n = 0;
    unsigned before = m->a.recorded;

    if (a->stmt == NULL) {
        if (m->prog.target.len > 0)
            extra[n++] = (struct state_file){"checkpoint", m->prog.target.data,
                                             m->prog.target.len};
        m->alarms++;
        m->a.url = m->f.base;
        alarm_entry(&m->a, a->kind, a->index, a->source, extra, n, a->detail, dir);
        (void)count_alarm(m, a->index, before); /* chain_full tells chainwatch */
        return;
    }
    if (gl_merkle_leaf_hash(e.data, e.len, leaf) != 0)
        return;
    if (a->related != NULL) {
        extra[n++] = (struct state_file){"related.statement", a->related, a->related_len};
        extra[n++] = (struct state_file){"related.tlog-proof", a->related_proof,
                                         strlen(a->related_proof)};
    }
    /* at the cap (reported) chain_full says so; when a mirror's entry is
     * not proven (mirror_differs: nothing recorded) the entry's checks
     * stop too, and its catch-up (check_result) */
    if (statement_alarm_with(m, a->index, &e, leaf, a->kind, a->detail, a->stmt_proof,
                             extra, n) != 0)
        m->chain_stop = 1;
}

/* chainwatch's chainwatch_full_fn (ctx: the monitor): 1 once the
 * phase's new alarms about entries (the catch-up's, or the due checks')
 * reached the cap, or a chain alarm of the entry being checked could not
 * be recorded (chain_stop); chainwatch then raises no more, and keeps
 * what is left for the next cycle. */
static int chain_full(void *ctx)
{
    const struct monitor *m = ctx;

    return m->chain_stop ||
           (m->catching_up ? m->entry_alarms : m->due_alarms) >= ENTRY_ALARMS_MAX;
}

/* chainwatch's reader (chainwatch_read_fn, ctx: the monitor): entry index
 * from the log's entry bundle at the size of the stored checkpoint (or,
 * before one is stored, of the catch-up's target: both were verified,
 * signed by the log), with entry_proof's tlog-proof against that
 * checkpoint. The entry must hash to the leaf the level-0 tile holds at
 * index, and that leaf's inclusion proof from the tiles must lead to the
 * checkpoint's root. Runs between catch-ups (chainwatch_due), so it uses
 * the bundle buffer b[0]. */
static int read_entry(void *ctx, uint64_t index, struct gl_buf *stmt,
                      struct gl_buf *proof, char *why, size_t whylen)
{
    struct monitor *m = ctx;
    struct bundle *b = m->b[0];
    struct stored *st = NULL;
    const struct gl_buf *note;
    const struct gl_checkpoint *cp;
    uint8_t leaf[GL_HASH_LEN];
    size_t i = (size_t)(index % GL_TILE_WIDTH);
    int rc = stored_load(m, &st);

    if (rc == 0 && st->tc.cp.size > index) {
        note = &st->note;
        cp = &st->tc.cp;
    } else if ((rc == 0 || rc == GL_ENOTFOUND) && m->prog.target.len > 0 &&
               m->tgt.cp.size > index) {
        note = &m->prog.target;
        cp = &m->tgt.cp;
    } else {
        snprintf(why, whylen, "no checkpoint the monitor verified holds entry %llu",
                 (unsigned long long)index);
        rc = GL_ENOTFOUND;
        goto out;
    }
    if ((rc = fetch_bundle(m, index / GL_TILE_WIDTH, 0, cp->size, b)) != 0) {
        snprintf(why, whylen, "the log's entry bundle %llu could not be read (%s)",
                 (unsigned long long)(index / GL_TILE_WIDTH),
                 rc == GL_EPARSE ? "malformed" : m->f.error);
        goto out;
    }
    if (i >= b->n || gl_merkle_leaf_hash(b->e[i].data, b->e[i].len, leaf) != 0 ||
        !util_hash_equal(leaf, b->tile.data + i * GL_HASH_LEN)) {
        snprintf(why, whylen,
                 "the entry the log's bundle holds at %llu does not hash to the leaf of "
                 "its tile",
                 (unsigned long long)index);
        rc = GL_EVERIFY;
        goto out;
    }
    if ((rc = entry_proof(m, index, &b->e[i], leaf, note, cp, proof)) != 0) {
        snprintf(why, whylen,
                 "the log's tiles do not prove entry %llu in its checkpoint of size %llu "
                 "(%s)",
                 (unsigned long long)index, (unsigned long long)cp->size,
                 rc == GL_EVERIFY ? "the proof does not lead to its root"
                                  : gl_strerror(rc));
        goto out;
    }
    if ((rc = gl_buf_append(stmt, b->e[i].data, b->e[i].len)) != 0)
        snprintf(why, whylen, "entry %llu: %s", (unsigned long long)index,
                 gl_strerror(rc));
out:
    stored_free(st);
    return rc;
}

/* prove_entry past the checkpoints verified: proof (a tlog-proof's text)
 * must carry index, a checkpoint signed by the monitored log (its origin;
 * cosignatures not needed) whose tree holds leaf at index, and that
 * checkpoint must be consistent with vnote/vc (verified, smaller), proven
 * from the tiles (check_consistency: a fork is an alarm). 0 proven;
 * GL_EIO the consistency could not be told; another code: not proven. */
static int prove_later(struct monitor *m, uint64_t index, const uint8_t leaf[GL_HASH_LEN],
                       const char *proof, const struct gl_buf *vnote,
                       const struct trust_checkpoint *vc)
{
    size_t nk;
    const struct gl_verifier *keys = gl_policy_log_keys(m->p, &nk);
    struct trust_checkpoint *tc = malloc(sizeof(*tc));
    struct gl_tlogproof *tp = NULL;
    struct gl_buf note;
    char why[TRUST_WHY_MAX];
    int rc;

    gl_buf_init(&note, STATE_CHECKPOINT_MAX);
    if (tc == NULL) {
        rc = GL_ENOMEM;
        goto out;
    }
    if ((rc = gl_tlogproof_parse(proof, strlen(proof), &tp, NULL)) != 0 ||
        (rc = gl_buf_append(&note, tp->checkpoint, tp->checkpoint_len)) != 0)
        goto out;
    rc = trust_checkpoint_open(m->p, (const char *)note.data, note.len,
                               (uint64_t)time(NULL), tc, why);
    if ((rc != 0 && rc != GL_EQUORUM) || tp->index != index ||
        strcmp(keys[tc->log].name, keys[m->log].name) != 0 ||
        tc->cp.size <= vc->cp.size ||
        gl_merkle_verify_inclusion(index, tc->cp.size, leaf, gl_hashes_const(tp->hashes),
                                   tp->nhashes, tc->cp.root) != 0) {
        rc = GL_EVERIFY;
        goto out;
    }
    rc = check_consistency(m, vnote, vc, &note, tc);
    if (rc != 0 && rc != GL_EVERIFY)
        rc = GL_EIO;
out:
    gl_tlogproof_free(tp);
    gl_buf_release(&note);
    free(tc);
    return rc;
}

/* chainwatch's prover (chainwatch_prove_fn, ctx: the monitor): leaf must
 * be entry index of the stored checkpoint (or, when it is smaller than
 * index or none is stored yet, of the catch-up's target: both verified,
 * signed by the log), by the inclusion proof computed from the tiles at
 * that checkpoint's size leading to its root. An index past both is
 * proven by the answer's own proof against a larger checkpoint of the
 * log consistent with the larger of them (prove_later). Uses the tiles
 * only (no bundle buffer), so it also runs during a catch-up. */
static int prove_entry(void *ctx, uint64_t index, const uint8_t leaf[GL_HASH_LEN],
                       const char *proof)
{
    struct monitor *m = ctx;
    struct stored *st = NULL;
    const struct gl_checkpoint *cp;
    uint8_t(*hashes)[GL_HASH_LEN] = calloc(GL_MERKLE_MAX_PROOF, GL_HASH_LEN);
    size_t n = 0;
    int rc = hashes == NULL ? GL_ENOMEM : stored_load(m, &st);
    int have_tgt = m->prog.target.len > 0;

    if (rc == 0 && st->tc.cp.size > index)
        cp = &st->tc.cp;
    else if ((rc == 0 || rc == GL_ENOTFOUND) && have_tgt && m->tgt.cp.size > index)
        cp = &m->tgt.cp;
    else {
        if (rc == 0 && (!have_tgt || st->tc.cp.size >= m->tgt.cp.size))
            rc = prove_later(m, index, leaf, proof, &st->note, &st->tc);
        else if ((rc == 0 || rc == GL_ENOTFOUND) && have_tgt)
            rc = prove_later(m, index, leaf, proof, &m->prog.target, &m->tgt);
        else if (rc == GL_ENOTFOUND)
            rc = GL_EVERIFY; /* nothing verified yet to prove it against */
        goto out;
    }
    /* a proof from cached tiles that does not verify: once more, fresh */
    for (int attempt = 0; attempt < 2; attempt++) {
        if (attempt > 0)
            tiles_clear(m->ts);
        rc = tiles_prove_inclusion(m->ts, index, cp->size, hashes, &n);
        if (rc == 0 &&
            gl_merkle_verify_inclusion(index, cp->size, leaf, gl_hashes_const(hashes), n,
                                       cp->root) != 0)
            rc = GL_EVERIFY;
        if (rc != GL_EVERIFY)
            break;
    }
    if (rc != 0 && rc != GL_EVERIFY && rc != GL_ENOMEM)
        rc = GL_EIO;
out:
    stored_free(st);
    free(hashes);
    return rc;
}

/* A length for "%.*s" in one-line messages. */
static int clip(size_t n)
{
    return n > 200 ? 200 : (int)n;
}

/* The sequential checks of entry i of b. 0; GL_EIO: the chain checks
 * could not be made (the log could not be asked, or chain-pending could
 * not be kept: the message says which), and entry i's checks after them
 * were not made; GL_EVERIFY: a mirror served entry i and it is not in
 * the log's signed tree (mirror_differs). Either way the caller stops
 * before i, so its checks are made again. */
static int check_result(struct monitor *m, const struct bundle *b, size_t i)
{
    const struct pool_result *r = &b->res[i];
    const struct gl_statement_fields *f = &r->st.fields;
    uint64_t index = b->k * GL_TILE_WIDTH + i;
    char detail[600], hex[GL_HASH_HEX_LEN + 1], reason[GL_ERR_REASON_MAX + 32];
    int rc;

    m->st.entries++;
    if (r->status == POOL_MALFORMED || r->status == POOL_BADSIG) {
        m->st.bad++;
        if (r->status == POOL_BADSIG)
            snprintf(
                detail, sizeof(detail),
                "entry %llu claims a signature by submitter %.*s that does not verify",
                (unsigned long long)index, clip(r->st.sig.name_len), r->st.sig.name);
        else
            snprintf(detail, sizeof(detail), "entry %llu is not a valid statement: %s",
                     (unsigned long long)index,
                     gl_err_format(&r->why, NULL, reason, sizeof(reason)));
        if ((rc = statement_alarm(m, index, &b->e[i], r->leaf, "bad-entry", detail)) != 0)
            m->st.entries--, m->st.bad--; /* checked again next cycle */
        return rc;
    }
    if (r->status == POOL_UNKNOWN) {
        m->st.other++;
        return 0;
    }
    /* Chain alarms. A log that cannot answer must not make them skipped:
     * the entry is checked again next cycle. Nor the cap (GL_ETOOBIG, the
     * cap's message said it): the entry is met again next cycle, and so is
     * an entry whose chain alarm a mirror kept back (chain_stop). */
    m->chain_stop = 0;
    rc = r->which < m->nsub
             ? chainwatch_entry(m->cw, m->s.dir, index, (const char *)b->e[i].data,
                                b->e[i].len, &r->st, r->which, (uint64_t)time(NULL))
             : 0;
    if (rc == GL_ETOOBIG) {
        m->st.entries--;
        return GL_EVERIFY;
    }
    if (rc != 0) {
        m->st.entries--;
        cli_error("entry %llu: its chain checks could not be made (%s): the catch-up "
                  "stops before it and resumes there next cycle",
                  (unsigned long long)index,
                  rc == GL_EIO      ? "the log could not be asked"
                  : rc == GL_ESTATE ? "its audit check could not be kept in chain-pending"
                                    : gl_strerror(rc));
        return GL_EIO;
    }
    if (!m->watched[r->which]) {
        m->st.verified++;
        return 0;
    }
    m->st.watched++;
    if (expect_has(&m->ex, f)) {
        m->st.expected++;
        return 0;
    }
    m->st.unexpected++;
    gl_hex_encode(f->sha256, GL_HASH_LEN, hex, sizeof(hex));
    snprintf(detail, sizeof(detail),
             "entry %llu: unexpected statement by %s: %s %.*s %.*s sha256 %s",
             (unsigned long long)index, m->keys[r->which].name,
             gl_statement_kind_name(f->kind), clip(f->subject_len), f->subject,
             clip(f->version_len), f->version, hex);
    if ((rc = statement_alarm(m, index, &b->e[i], r->leaf, "unexpected-statement",
                              detail)) != 0)
        m->st.entries--, m->st.watched--, m->st.unexpected--; /* again next cycle */
    return rc;
}

/* A bundle's checks stopped before an entry (rc, returned): the progress
 * up to the entry before it is kept, the checks made pending first
 * (progress past their builds must not outlive them). */
static int stop_bundle(struct monitor *m, int rc)
{
    if (chainwatch_flush(m->cw, m->s.dir) == 0)
        (void)state_save_progress(&m->s, &m->prog);
    return rc;
}

/* Tile comparison, per-entry checks, compact range, progress file. An
 * entry joins the range (the progress) only after its checks were made:
 * when they could not be (check_result), the progress is saved up to the
 * entry before it and the error returned. */
static int finish_bundle(struct monitor *m, struct bundle *b)
{
    char detail[200];
    uint8_t leaf[GL_HASH_LEN];
    int rc;

    m->cur_mirror = b->mirror;
    for (size_t i = 0; i < b->n; i++) {
        const uint8_t *th = b->tile.data + i * GL_HASH_LEN;
        if (i < b->skip) {
            if (gl_merkle_leaf_hash(b->e[i].data, b->e[i].len, leaf) != 0)
                return GL_ECRYPTO;
        } else {
            memcpy(leaf, b->res[i].leaf, GL_HASH_LEN);
        }
        if (!util_hash_equal(leaf, th) && b->mirror != NULL) {
            /* the mirror's bundle and tile disagree: one of them is not
             * the log's, and nothing shows the log wrong */
            snprintf(detail, sizeof(detail), "bundle %llu (entry %llu and tile 0/%llu)",
                     (unsigned long long)b->k,
                     (unsigned long long)b->k * GL_TILE_WIDTH + i,
                     (unsigned long long)b->k);
            return stop_bundle(m, mirror_differs(m, b->mirror, detail));
        }
        if (!util_hash_equal(leaf, th)) {
            snprintf(detail, sizeof(detail),
                     "entry %llu: its leaf hash differs from hash %zu of the log's tile "
                     "0/%llu",
                     (unsigned long long)b->k * GL_TILE_WIDTH + i, i,
                     (unsigned long long)b->k);
            if ((rc = statement_alarm(m, b->k * GL_TILE_WIDTH + i, &b->e[i], leaf,
                                      "bad-tile", detail)) != 0)
                return stop_bundle(m, rc);
        }
        if (i < b->skip)
            continue;
        if ((rc = check_result(m, b, i)) != 0) {
            return stop_bundle(m, rc);
        }
        if ((rc = gl_merkle_range_append(&m->prog.range, leaf, NULL, NULL)) != 0)
            return rc;
    }
    bar_draw(m, m->prog.range.size, 0);
    if ((rc = chainwatch_flush(m->cw, m->s.dir)) != 0)
        return rc;
    return state_save_progress(&m->s, &m->prog);
}

/* Checks entries [prog.range.size, tgt.size), bundle by bundle. */
static int check_entries(struct monitor *m)
{
    uint64_t from = m->prog.range.size, size = m->tgt.cp.size;
    uint64_t k0 = from / GL_TILE_WIDTH, k1 = (size - 1) / GL_TILE_WIDTH;
    int rc, next = 0;

    bar_start(m, from, size);
    if ((rc = fetch_bundle(m, k0, from, size, m->b[0])) != 0)
        return rc;
    submit(m, m->b[0]);
    for (uint64_t k = k0; k <= k1; k++) {
        struct bundle *cur = m->b[(k - k0) % 2], *nxt = m->b[(k - k0 + 1) % 2];
        next = k < k1 ? fetch_bundle(m, k + 1, from, size, nxt) : 0;
        pool_wait(m->pool);
        if (next == 0 && k < k1)
            submit(m, nxt);
        if ((rc = finish_bundle(m, cur)) != 0) {
            if (next == 0 && k < k1)
                pool_wait(m->pool);
            return rc;
        }
        if (next != 0)
            return next;
    }
    bar_draw(m, m->prog.range.size, 1);
    return 0;
}

/* Catches up to the target in m->prog, then stores it: CLI code. */
static int finish_target(struct monitor *m)
{
    struct state_file f = {"checkpoint", m->prog.target.data, m->prog.target.len};
    uint8_t root[GL_HASH_LEN];
    char detail[300], dir[STATE_PATH_MAX];
    int rc;

    m->catching_up = 1;
    rc = m->prog.range.size < m->tgt.cp.size ? check_entries(m) : 0;
    m->catching_up = 0;
    if (rc != 0) {
        m->cur_mirror = NULL;
        return rc == GL_EPARSE || rc == GL_EVERIFY ? CLI_VERIFY : CLI_USAGE;
    }
    m->cur_mirror = NULL;
    if (gl_merkle_range_root(&m->prog.range, root) != 0)
        return CLI_USAGE;
    if ((m->prog.range.size != m->tgt.cp.size ||
         !util_hash_equal(root, m->tgt.cp.root)) &&
        m->mirrored) {
        /* a mirror served some of the entries: its copy may be the one
         * that differs; the catch-up starts over, asking the log first */
        cli_error("the entries of this catch-up (some served by a mirror) do not hash to "
                  "the root of the log's checkpoint of size %llu: no alarm against the "
                  "log; the catch-up starts over next cycle",
                  (unsigned long long)m->tgt.cp.size);
        state_drop_progress(&m->s);
        gl_merkle_range_init(&m->prog.range);
        fetch_rewind(&m->f);
        m->mirrored = 0;
        return CLI_VERIFY;
    }
    m->mirrored = 0; /* the next target's catch-up counts its own bundles */
    if (m->prog.range.size != m->tgt.cp.size || !util_hash_equal(root, m->tgt.cp.root)) {
        snprintf(
            detail, sizeof(detail),
            "the log's entries do not hash to the root of its checkpoint of size %llu: "
            "the entries or tiles served differ from the signed tree",
            (unsigned long long)m->tgt.cp.size);
        m->alarms++;
        m->a.url = m->f.base;
        alarm_entry(&m->a, "bad-tree", m->tgt.cp.size, m->tgt.cp.root, &f, 1, detail,
                    dir);
        state_drop_progress(&m->s);
        gl_merkle_range_init(&m->prog.range);
        return CLI_VERIFY;
    }
    return store_checked(m, &m->prog.target, &m->tgt);
}

/* --- the cycle --------------------------------------------------------------------- */

/* Resumes an interrupted target, if the progress file has one. The target
 * is opened as the log's checkpoint is, quorum included: the policy may
 * have changed since it was chosen (a witness removed), and a target the
 * policy no longer accepts must not be stored. Such a target, like a
 * damaged progress file, is dropped and the catch-up starts over. */
static int resume(struct monitor *m)
{
    char msg[GL_ERR_REASON_MAX + 32];
    struct gl_err why;
    int rc = state_load_progress(&m->s, &m->prog, &why), orc = 0;

    if (rc == GL_ENOTFOUND) {
        gl_merkle_range_init(&m->prog.range);
        gl_buf_reset(&m->prog.target);
        return CLI_OK;
    }
    if (rc == 0 &&
        (orc = open_checkpoint(m, &m->prog.target, "the progress file's target", 1,
                               &m->tgt)) == 0 &&
        m->prog.range.size <= m->tgt.cp.size) {
        if (m->prog.range.size == m->tgt.cp.size)
            return finish_target(m); /* a crash after the last bundle */
        cli_error("resuming at entry %llu of %llu",
                  (unsigned long long)m->prog.range.size,
                  (unsigned long long)m->tgt.cp.size);
        return finish_target(m);
    }
    if (rc != 0)
        cli_error("the progress file in %s is damaged (%s): starting over from entry 0",
                  m->s.dir, gl_err_format(&why, NULL, msg, sizeof(msg)));
    else if (orc == GL_EQUORUM)
        cli_error("the interrupted catch-up's target in %s does not meet the policy's "
                  "quorum (the policy changed since it was chosen): starting over from "
                  "entry 0",
                  m->s.dir);
    else
        cli_error("the progress file in %s is damaged: starting over from entry 0",
                  m->s.dir);
    state_drop_progress(&m->s);
    gl_merkle_range_init(&m->prog.range);
    gl_buf_reset(&m->prog.target);
    return CLI_OK;
}

/* Adopts the served checkpoint as the target and catches up to it. */
static int adopt(struct monitor *m, const struct gl_buf *note,
                 const struct trust_checkpoint *nc)
{
    gl_buf_reset(&m->prog.target);
    if (gl_buf_append(&m->prog.target, note->data, note->len) != 0)
        return CLI_USAGE;
    m->tgt = *nc;
    if (m->prog.range.size > nc->cp.size) /* progress past the target: start over */
        gl_merkle_range_init(&m->prog.range);
    if (state_save_progress(&m->s, &m->prog) != 0)
        return CLI_USAGE;
    return finish_target(m);
}

static void report(struct monitor *m, const struct trust_checkpoint *nc, int rc)
{
    double el = gl_clock_mono() - m->st.t0;
    struct rusage ru;

    memset(&ru, 0, sizeof(ru));
    getrusage(RUSAGE_SELF, &ru);
    if (m->st.entries > 0)
        cli_error(
            "checked %llu entries in %.2f s, %.0f entries/s on %zu threads, peak RSS %ld "
            "KiB (%llu by watched submitters: %llu expected, %llu unexpected; %llu by "
            "other submitters of the policy; %llu by keys outside the policy; %llu bad)",
            (unsigned long long)m->st.entries, el,
            el > 0 ? (double)m->st.entries / el : 0, pool_threads(m->pool), ru.ru_maxrss,
            (unsigned long long)m->st.watched, (unsigned long long)m->st.expected,
            (unsigned long long)m->st.unexpected, (unsigned long long)m->st.verified,
            (unsigned long long)m->st.other, (unsigned long long)m->st.bad);
    printf("log %s: tree size %llu, %s\n", nc->cp.origin, (unsigned long long)nc->cp.size,
           rc == CLI_OK && m->alarms == 0 ? "verified, no alarm"
           : m->alarms > 0                ? "ALARM (see stderr and the alarms directory)"
                                          : "not verified");
    fflush(stdout);
}

/* Compares the served checkpoint with the stored one and follows it. This
 * read and check choose the target without the state lock (a catch-up can
 * take minutes and must not block lookup); store_checked repeats them
 * under the lock before anything is stored. */
static int follow(struct monitor *m, const struct gl_buf *note,
                  const struct trust_checkpoint *nc)
{
    struct stored *st = NULL;
    int rc = stored_load(m, &st);

    if (rc == GL_ENOTFOUND) {
        cli_error("first checkpoint of log %s (size %llu): checking every entry",
                  nc->cp.origin, (unsigned long long)nc->cp.size);
        return adopt(m, note, nc);
    }
    if (rc != 0)
        return CLI_USAGE;
    rc = check_consistency(m, &st->note, &st->tc, note, nc);
    if (rc != 0)
        rc = rc == GL_EVERIFY ? CLI_VERIFY : CLI_USAGE;
    else if (nc->cp.size > st->tc.cp.size || m->prog.range.size < st->tc.cp.size)
        rc = nc->cp.size >= st->tc.cp.size ? adopt(m, note, nc)
                                           : adopt(m, &st->note, &st->tc);
    else if (nc->cp.size == st->tc.cp.size)
        rc = store_checked(m, note, nc);
    else
        rc = CLI_OK; /* an older checkpoint, proven a prefix: nothing new */
    stored_free(st);
    return rc;
}

/* Step 3 while the catch-up is stalled (resume could not reach its
 * target for any reason: a chain check could not ask the log, a malformed
 * bundle, a bad tree), and for a served checkpoint without its witness
 * quorum: the served checkpoint is compared with the stored
 * one, or with the target when none is stored yet (the target is the
 * first checkpoint followed), so a log that refuses lookups or mangles
 * bundles cannot serve a fork unnoticed. Nothing is
 * adopted or stored: the progress stays at the stalled entry. CLI_VERIFY
 * for a fork (alarm raised) or a smaller checkpoint not proven a prefix;
 * CLI_USAGE otherwise (the cycle is not verified either way). */
static int check_stalled(struct monitor *m, const struct gl_buf *note,
                         const struct trust_checkpoint *nc)
{
    struct stored *st = NULL;
    int rc = stored_load(m, &st);

    if (rc == 0)
        rc = check_consistency(m, &st->note, &st->tc, note, nc);
    else if (rc == GL_ENOTFOUND && m->prog.target.len > 0)
        rc = check_consistency(m, &m->prog.target, &m->tgt, note, nc);
    stored_free(st);
    return rc == GL_EVERIFY ? CLI_VERIFY : CLI_USAGE;
}

/* --max-age: 0 if the served checkpoint's freshest quorum of witness
 * cosignatures is recent enough (or no limit is set); else reported and
 * GL_EVERIFY: a log or mirror serving an old view (a frozen one) fails
 * the cycle, though everything in it verifies. */
static int check_age(const struct monitor *m, const struct trust_checkpoint *nc)
{
    uint64_t now = (uint64_t)time(NULL);
    struct trust_age a;
    char why[TRUST_WHY_MAX];

    if (m->o->max_age == 0)
        return 0;
    if (trust_age(m->p, nc, now, &a) == GL_EINVAL)
        snprintf(why, sizeof(why),
                 "its age cannot be told (the current time is unknown)");
    else if (trust_age_judge(m->p, nc, &a, now, m->o->max_age, why) == 0)
        return 0;
    cli_error("the log's checkpoint fails --max-age: %s", why);
    return GL_EVERIFY;
}

/* An interrupted catch-up's target from the progress file into m->prog
 * and m->tgt, when none is loaded yet (a first cycle: resume loads it
 * otherwise), so that check_stalled can compare with it; nothing loaded
 * when there is none or it does not verify (resume reports why). */
static void load_target(struct monitor *m)
{
    struct gl_err why;
    char msg[TRUST_WHY_MAX];

    if (m->prog.target.len > 0)
        return;
    if (state_load_progress(&m->s, &m->prog, &why) != 0 ||
        trust_checkpoint_open(m->p, (const char *)m->prog.target.data, m->prog.target.len,
                              (uint64_t)time(NULL), &m->tgt, msg) != 0) {
        gl_merkle_range_init(&m->prog.range);
        gl_buf_reset(&m->prog.target);
    }
}

int monitor_fatal(const struct monitor *m)
{
    return m->fatal;
}

int monitor_cycle(struct monitor *m)
{
    struct trust_checkpoint *nc = malloc(sizeof(*nc));
    struct gl_buf note;
    int rc, stalled = 0, no_quorum;

    memset(&m->st, 0, sizeof(m->st));
    m->st.t0 = gl_clock_mono();
    m->alarms = 0;
    m->entry_alarms = m->due_alarms = 0; /* the caps are per cycle: ENTRY_ALARMS_MAX */
    gl_buf_init(&note, STATE_CHECKPOINT_MAX);
    if (nc == NULL) {
        rc = CLI_USAGE;
        goto out;
    }
    fetch_rewind(&m->f); /* each cycle asks the log first, then its mirrors */
    tiles_clear(m->ts);  /* and fetches its tiles afresh: none outlives a cycle */
    if ((rc = fetch_checkpoint(m, &note, nc, &no_quorum)) != CLI_OK)
        goto out;
    if (no_quorum) { /* compared (a fork is an alarm), never followed */
        load_target(m);
        check_stalled(m, &note, nc);
        rc = CLI_VERIFY;
        goto out;
    }
    /* A stalled catch-up (resume fails for whatever reason: a chain check
     * could not ask the log, a malformed bundle, a bad tree) keeps the
     * checkpoint checks of every cycle; the due audit checks run whatever
     * the cycle's result. */
    if ((rc = resume(m)) == CLI_OK)
        rc = follow(m, &note, nc);
    else {
        int src = rc;

        stalled = 1;
        rc = check_stalled(m, &note, nc);
        if (rc != CLI_VERIFY)
            rc = src; /* no fork: the resume's own failure */
    }
    /* only the followed log's checkpoints show that an answer reaches a
     * build; the checks of entries the catch-up has not finished (from
     * where it stopped) wait: meeting the entry again adds them again */
    m->chain_stop = 0;
    if (chainwatch_due(m->cw, m->s.dir, gl_policy_log_at(m->p, m->log)->key->name,
                       m->prog.range.size, (uint64_t)time(NULL)) != 0 &&
        rc == CLI_OK)
        rc = CLI_USAGE;
    if (stalled && m->alarms > 0)
        rc = CLI_VERIFY;
    if (rc == CLI_OK && check_age(m, nc) != 0)
        rc = CLI_VERIFY;
    report(m, nc, rc);
out:
    if (rc == CLI_OK && m->alarms > 0)
        rc = CLI_VERIFY;
    free(nc);
    gl_buf_release(&note);
    return rc;
}

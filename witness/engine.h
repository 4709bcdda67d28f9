/*
 * engine: the witness's state machine and its single writer. Every change
 * to the durable state (cosigning a checkpoint, storing evidence, freezing
 * an origin) is a request queued here and applied by one committer thread,
 * in batches:
 *
 *   1. take every queued request (at most ENGINE_BATCH_MAX);
 *   2. decide each against the state as the batch has left it so far
 *      (addck_decide), cosign the accepted ones, build evidence;
 *   3. write the whole batch in one RocksDB WriteBatch with sync (one
 *      fsync for all the origins in the batch: group commit);
 *   4. only then publish the new state (monitoring endpoint, feeder) and
 *      complete the requests (done callbacks): no cosignature leaves the
 *      process before the state that makes it safe is on disk.
 * If the write fails, every request of the batch that would have changed
 * the state fails with 503, the published state is unchanged, and the
 * engine fails stop: it refuses every later change (503) until a restart
 * reloads the state from disk (the failed write may have landed).
 * While one batch syncs, new requests queue up and form the next batch,
 * so throughput grows with load instead of paying one fsync per request.
 *
 * Invariants (the witness's promise): for each origin, the sequence of
 * durable records only grows along consistency proofs checked by
 * addck_decide, so no two cosigned checkpoints are inconsistent, across
 * restarts and kill -9. An origin with proven split-view evidence is
 * frozen (durably, in the same batch as the evidence) and never cosigned
 * again. An add-checkpoint proves a split view in two ways: the same size
 * as the record with another root (ADDCK_SPLIT), or a consistency proof
 * from the record's size m to a larger signed checkpoint that does not
 * verify against the record (ADDCK_BAD_PROOF) but reproduces the
 * checkpoint's root and gives another root at m than the one the log
 * signed there (a log that pushes a rebuilt or forked tree with that
 * tree's true proof). Either pair is kept as evidence only if
 * gl_evidence_build, which checks it as gl_evidence_verify does, finds a
 * split view; any other bad proof is a 422 that changes nothing. Our
 * cosignature times never go back for a log (cosign_time): so
 * a replay of the tree held (its text, or the same tree with other
 * extension lines) is answered with a cosignature dated at the latest
 * one's time while that is younger than ENGINE_REPLAY_REUSE_S (no write,
 * no new time that a crash could lose, the stored text kept), and a log whose latest
 * cosignature is dated more than ENGINE_CLOCK_SLACK_S ahead of the clock is refused (503)
 * instead of cosigned in the future (engine_stats counts such logs).
 *
 * Announcing evidence (the file copy and the alarm), after its batch is
 * durable: (1) create the empty mark DIR/.<id>.pending, (2) write the copy
 * DIR/<id> (DIR is evidence_dir; atomic replace, fsync, directory fsync),
 * (3) only if the copy is written, call on_evidence with its path,
 * (4) only if on_evidence raised the alarm, remove the mark. A copy that
 * cannot be written is logged and no on_evidence is called: no alarm ever
 * names a path that does not exist; the committer retries it (from the
 * file in the store) every retry_ms, between batches, until it succeeds;
 * so it retries an alarm that on_evidence could not raise (each stored
 * file once: the retries are as bounded as the evidence list). At start (engine_new),
 * each loaded evidence entry whose copy is missing, has another size than the stored
 * file, or is still marked pending is announced again that way by the
 * committer thread before it takes its first batch (engine_new itself
 * does one stat or two per entry), and retried likewise. So a failed copy
 * or a crash anywhere between the store commit and the mark's removal
 * ends in an announcement: at least once, possibly twice (a crash after
 * on_evidence returned and before the mark was removed). Not covered:
 * stored evidence beyond the entries loaded at start (evidence_max); a
 * copy of the right size with other bytes; a command that on_evidence
 * started in the background and a crash stopped (once on_evidence has
 * returned, the evidence counts as announced).
 *
 * Threads: engine_submit from any thread; done callbacks run on the
 * committer thread and must be quick (hand the result over, don't block).
 * Readers (engine_view, engine_evidence, engine_stats) take the state lock
 * briefly and copy.
 */
#ifndef GL_WITNESS_ENGINE_H
#define GL_WITNESS_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "addck.h"
#include "glasslog/buf.h"
#include "glasslog/checkpoint.h"
#include "glasslog/cosig.h"
#include "glasslog/key.h"
#include "logs.h"
#include "wstore.h"

#define ENGINE_BATCH_MAX 1024
#define ENGINE_EVIDENCE_MAX 4096 /* evidence loaded at start (more stay unlisted) */
#define ENGINE_SOURCE_MAX 320
#define ENGINE_RETRY_MS 60000 /* retrying unannounced evidence while running */
/* A replay of the tree held gets our latest cosignature again, without a
 * write, while it is younger than this; after, a new one (one write). */
#define ENGINE_REPLAY_REUSE_S 30
/* A log whose latest cosignature is dated more than this after now is not
 * cosigned (503): every new one would be dated as far in the future.
 * Less than verifiers accept (glasslog/cosig.h), so no cosignature this
 * witness gives out is one they discard as future-dated. */
#define ENGINE_CLOCK_SLACK_S GL_COSIG_WITNESS_SLACK
#define ENGINE_CLOCK_SLACK_TEXT "4 minutes" /* ENGINE_CLOCK_SLACK_S, in words */

enum wreq_kind {
    WREQ_ADD = 0,     /* an add-checkpoint (HTTP, pull or gossip) */
    WREQ_EVIDENCE = 1 /* a complete evidence file to verify and store */
};

/* One request. The submitter owns it (and note) and must keep both alive
 * until done() has been called; the engine only uses `next`. */
struct wreq {
    enum wreq_kind kind;
    size_t log; /* index into the logs list */
    /* WREQ_ADD: the request, the checkpoint verified by the submitter */
    uint64_t old;
    size_t nproof;
    uint8_t proof[ADDCK_MAX_PROOF][GL_HASH_LEN];
    struct gl_checkpoint ck; /* from addck_open; ck.ext points into note */
    struct addck_kept kept;  /* from addck_open: what the record keeps */
    const char *note;        /* ADD: the signed note; EVIDENCE: the file */
    size_t note_len;
    char source[ENGINE_SOURCE_MAX]; /* who sent it ("push", "pull", "peer x") */
    /* results, set before done() */
    int status;           /* 200, 400, 409, 422, 500 or 503 */
    uint64_t stored_size; /* 409: the witness's size */
    char line[512];       /* 200 (ADD): our cosignature line */
    size_t line_len;
    const char *why;                       /* non-200: static reason */
    char evidence_id[GL_HASH_HEX_LEN + 1]; /* evidence stored because of this request */
    void (*done)(struct wreq *r, void *arg);
    void *arg;
    struct wreq *next;
};

struct engine_config {
    struct wstore *store;
    const struct logs_list *logs; /* must outlive the engine */
    const struct gl_signer *key;  /* GL_KEY_COSIG; copied */
    const char *evidence_dir;     /* a file copy of each evidence: DIR/<id> */
    /* Called on the committer thread once evidence is durable and its
     * file copy (path, a regular file) is written; again after a restart
     * that finds it unannounced (above). Must not block for long. Returns
     * 0 once the alarm is raised, or a negative GL_E* code if it could
     * not be now (its command could not start): the evidence then stays
     * unannounced (marked pending) and is announced again like a copy
     * that could not be written, every retry_ms and at start. */
    int (*on_evidence)(void *arg, const char *id, const char *origin, const char *path);
    void *arg;
    size_t evidence_max; /* evidence loaded at start; 0: ENGINE_EVIDENCE_MAX */
    uint64_t retry_ms;   /* unannounced evidence retried; 0: ENGINE_RETRY_MS */
};

/* A copy of one log's record. */
struct engine_view {
    int has, frozen;
    uint64_t size;
    uint8_t root[GL_HASH_LEN];
    uint64_t cosigned_at; /* time of our latest cosignature, 0 if none */
};

struct engine_evidence {
    char id[GL_HASH_HEX_LEN + 1];
    size_t log; /* SIZE_MAX if the origin is no longer configured */
    char origin[GL_CHECKPOINT_ORIGIN_MAX + 1];
    uint64_t found_at;
    int kind; /* enum gl_evidence_kind */
    uint64_t size[2];
    char source[ENGINE_SOURCE_MAX];
};

struct engine_stats {
    uint64_t cosigned, refused, conflicts, batches, batch_requests, batch_max;
    double commit_seconds; /* total time in synced writes */
    uint64_t write_failures, evidence, frozen, queued;
    int storage_failed; /* the last write failed */
    size_t
        clock_ahead; /* logs refused: latest cosignature > ENGINE_CLOCK_SLACK_S ahead */
};

struct engine;

/* Loads the state from cfg->store and starts the committer thread. The
 * caller stops it with engine_stop and frees it with engine_free.
 * GL_ESTATE (logged) if a stored checkpoint of a listed log carries no
 * signature by a key the list names for it (engine_check_records). */
int engine_new(const struct engine_config *cfg, struct engine **out);
/* Whether every stored checkpoint of a log in logs is signed by a key
 * logs names for it: 0, or GL_ESTATE with the first one that is not
 * logged. Reads the store only (safe beside a running engine), so a
 * reload can refuse such a list before it stops anything. */
int engine_check_records(struct wstore *ws, const struct logs_list *logs);
/* Queues r (any thread). After engine_stop, r fails at once with 503. */
void engine_submit(struct engine *e, struct wreq *r);
/* engine_submit, then waits until r is done (its done callback, which
 * must be NULL here, is the engine's own). For tools and tests: never on
 * a thread the engine's callbacks need. r->status and r->why say how it
 * went. */
void engine_run(struct engine *e, struct wreq *r);
/* Finishes the queued requests and joins the committer. Idempotent. */
void engine_stop(struct engine *e);
void engine_free(struct engine *e);

/* Copies log's record into *v, and (if not NULL) appends its note to
 * note: the one form that is stored, served by the monitoring endpoint
 * and used as our side in evidence (addck_record: text, the log's
 * signatures, our cosignature). GL_ENOTFOUND if nothing was cosigned yet
 * (v is still filled). */
int engine_view(struct engine *e, size_t log, struct engine_view *v, struct gl_buf *note);
/* Copies up to max evidence entries starting at index from; returns how
 * many were copied. *total (may be NULL) gets the count. */
size_t engine_evidence(struct engine *e, size_t from, struct engine_evidence *out,
                       size_t max, size_t *total);
/* 1 if evidence with this hex id is stored. */
int engine_has_evidence(struct engine *e, const char *id);
void engine_stats(struct engine *e, struct engine_stats *st);

#endif

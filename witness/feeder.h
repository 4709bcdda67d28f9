/*
 * feeder: the witness's own thread for pull feeding and gossip. Every poll
 * interval it
 *   1. pulls: for each log with a url, GETs <url>/checkpoint and, if it is
 *      newer than ours, the consistency proof from the log's proof API
 *      (<url>/api/v1/proof/consistency?first=m&second=n), and submits an
 *      add-checkpoint to the engine exactly as a pushing log would;
 *   2. gossips: for each peer and each log, GETs the peer's monitoring
 *      endpoint <peer>/<hex SHA-256(origin)>/checkpoint, checks the log's
 *      signature and the peer's cosignature, and compares with our record:
 *        same size, other root           -> split view: evidence
 *        sizes differ                    -> ask the log (url) for the proof
 *          it reproduces the larger root
 *            and the smaller one         -> consistent (catch up if behind)
 *            but another smaller root    -> split view: evidence
 *          no usable proof               -> "suspected": log line, metric,
 *                                           retried (specs/witness.md,
 *                                           Round budget); no evidence
 *   3. imports evidence: GETs <peer>/evidence page by page (following its
 *      Link to the next page, at most 32 pages a round) and fetches the
 *      files it does not hold for logs it witnesses (at most 16 a round);
 *      the engine stores only files that it verifies itself with the
 *      log's key.
 * All HTTP here is blocking (libcurl) with short timeouts on this one
 * thread, so the event loop and the threadpool never wait for a log or a
 * peer. Within a round, a party (a peer, or a log's url) whose request
 * brings no complete answer (connect error, reset before a status, or a
 * timeout even after a status) is not asked again until the next round:
 * one log line, one error counted, its other requests skipped, so a dead
 * or trickling party costs at most one timeout per round (two for a peer
 * whose evidence import, read first, hangs after a status: its gossip is
 * still asked; a request of it, the list or a file, with no status at all
 * marks the peer down for its gossip too). Each part of
 * a round (a pull of a log, a peer; rounds.h) gets a share of what is left
 * of the round's budget (one timeout per part) and starts no request once
 * it is spent, except a log's consistency proof (and its check) for a
 * checkpoint just fetched, whose time is given back to the part and the
 * round; a request once started has its whole timeout. So a party that
 * answers each request slowly but in time holds the others back by its
 * share plus one timeout (and the logs' exempt proofs, under four timeouts
 * a log a round: past one, a log's proof is not asked and the comparison
 * is SUSPECTED, as for a timeout; a comparison started under one timeout
 * takes at most three more: its proof and, if that does not verify, the
 * two requests that check it, always made); it goes on next
 * round where it stopped (a peer's gossip after the last log it polled,
 * or at a log whose proof was refused, its evidence list at the first
 * entry not looked at or whose fetch failed), with one log line, and the parts' order
 * rotates every round (over P parts: each part's list is read within 2P rounds, every log
 * gossiped with each peer within 2P x L rounds; feeder.c).
 * A stop (feeder_ask_stop, feeder_stop) is checked before every request
 * and aborts the one in flight within about a second (the HTTP client's
 * abort hook), so the thread leaves within about a second of being asked.
 * Evidence only ever comes from gl_evidence_build or a file
 * gl_evidence_verify accepts, so an honest log can never be accused.
 */
#ifndef GL_WITNESS_FEEDER_H
#define GL_WITNESS_FEEDER_H

#include <stdint.h>

#include "engine.h"
#include "logs.h"
#include "peers.h"

struct feeder_stats {
    uint64_t rounds, pulls, pull_errors, gossip_polls, gossip_errors, caught_up,
        suspected, splits_found, evidence_imported;
    uint64_t parts_late; /* round parts whose share ran out (rounds.h) */
};

struct feeder_config {
    struct engine *engine;
    const struct logs_list *logs;   /* must outlive the feeder */
    const struct peers_list *peers; /* idem; may be empty */
    unsigned poll_interval_s;       /* >= 1 (0: each round follows the last at
                                     * once, for tests) */
    long timeout_ms;                /* per HTTP request; and per part (a
                                     * pull, a peer) in a round's budget */
    struct feeder_stats start;      /* the counters start from these: a
                                     * reload's feeder goes on from the one
                                     * it replaces (zeros at start-up) */
};

struct feeder;

/* Starts the thread. Caller stops it with feeder_stop, then feeder_free. */
int feeder_start(const struct feeder_config *cfg, struct feeder **out);
/* Asks the thread to stop without waiting (f may be NULL): it leaves its
 * loop within about a second (a request in flight is aborted). */
void feeder_ask_stop(struct feeder *f);
/* 1 when the thread has left its loop after feeder_ask_stop (or f is NULL
 * or stopped), else 0. Never blocks. */
int feeder_stopped(struct feeder *f);
/* Cancels feeder_ask_stop or feeder_stop: the thread goes on, or, if it
 * had left, is joined and started again (counters kept). 0, or GL_ENOMEM (no thread:
 * feeder_stop and feeder_free still work). */
int feeder_resume(struct feeder *f);
/* Asks the thread to stop and joins it (about a second at most; at once
 * after feeder_stopped said 1). */
void feeder_stop(struct feeder *f);
void feeder_free(struct feeder *f);
/* A copy of the counters (any thread); f may be NULL (zeros). */
void feeder_stats(struct feeder *f, struct feeder_stats *out);

#endif

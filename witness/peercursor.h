/*
 * peercursor: where a peer's part of the feeder's rounds resumes at its
 * next round (feeder.c, specs/witness.md Feeding and Gossip), and the
 * two decisions that move it, kept apart from the HTTP so they can be
 * checked alone:
 *   - its gossip: the log polled first, after the last one polled, or
 *     held at a log whose consistency proof was refused (the log's proof
 *     cap spent, or the log down earlier in the round), so that the
 *     peer's next part asks that proof first (peercursor_gossip);
 *   - its evidence list: the entry read first, held at an entry whose
 *     fetch was made and failed for at most PEERCURSOR_TRIES rounds in a
 *     row (peercursor_import_retry), and the IDs of the last
 *     PEERCURSOR_REFUSED files the engine refused (not valid evidence),
 *     which are not fetched again while remembered
 *     (peercursor_refused): a peer listing junk costs one fetch and one
 *     log line per file, not one every round.
 * Invariants: a part's gossip starts at c->gossip and polls logs forward
 * from it; c->gossip only ever moves to a log that part reached (the
 * log after one polled, or the held log), never before its start, and a
 * hold is kept at most `parts` parts in a row (c->held), so a log cannot
 * pin a peer's gossip. c->fail_at names an entry only while it failed
 * fewer than PEERCURSOR_TRIES rounds in a row.
 */
#ifndef GL_WITNESS_PEERCURSOR_H
#define GL_WITNESS_PEERCURSOR_H

#include <stddef.h>
#include <stdint.h>

#define PEERCURSOR_TRIES 3     /* rounds an evidence fetch that fails is retried */
#define PEERCURSOR_REFUSED 256 /* refused evidence IDs remembered per peer */
#define PEERCURSOR_ID_LEN 32   /* an evidence ID: a SHA-256 */

struct peercursor {
    size_t gossip;    /* the log to gossip about first (after the last polled) */
    size_t evidence;  /* the entry of its evidence list to read first */
    int evidence_due; /* its list was not reached in its last part that made a
                       * request: read it first */
    size_t fail_at;   /* 1 + the entry of its list whose fetch failed, or 0 */
    unsigned fails;   /* the rounds in a row that fetch failed */
    size_t held;      /* the parts in a row its gossip was held at a log
                       * whose proof was refused */
    uint8_t refused[PEERCURSOR_REFUSED][PEERCURSOR_ID_LEN]; /* a ring */
    size_t nrefused; /* IDs put in the ring so far (the last
                      * PEERCURSOR_REFUSED are held) */
};

/* One poll of a part's gossip, in order from c->gossip: log li of n (n
 * >= 1); made: the poll was made; refused: a comparison's proof was
 * refused in it; parts: the round's parts. *hold (0 at the part's start,
 * the caller's) says the part has held the cursor: then nothing moves.
 * Else a refusal holds the cursor at li (c->held counts it) unless it was
 * held `parts` parts in a row already; a poll made that is not held moves
 * the cursor past li and ends the run of holds; a poll not made moves
 * nothing. */
void peercursor_gossip(struct peercursor *c, size_t li, size_t n, int made, int refused,
                       size_t parts, int *hold);
/* The fetch of entry i of the list of peer (its name) was made and failed,
 * the first to fail in the round (file id): 1 if the next round is to
 * resume at it (so it is tried again), 0 once it failed PEERCURSOR_TRIES
 * rounds in a row (one log line; it is tried again when the read comes
 * back round the list), so one entry that always fails cannot hold the
 * cursor. */
int peercursor_import_retry(struct peercursor *c, const char *peer, size_t i,
                            const char *id);
/* 1 if the engine refused the peer's evidence file id lately (one of the
 * last PEERCURSOR_REFUSED it refused): not fetched again. */
int peercursor_refused(const struct peercursor *c, const uint8_t id[PEERCURSOR_ID_LEN]);
/* Remembers that the engine refused the peer's evidence file id (the
 * oldest remembered one is forgotten when the ring is full). */
void peercursor_refuse(struct peercursor *c, const uint8_t id[PEERCURSOR_ID_LEN]);

#endif

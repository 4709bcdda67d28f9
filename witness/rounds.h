/*
 * rounds: a thread that runs round(arg) every interval_s seconds until it
 * is stopped: the feeder's pulls and gossip, the mirror's pulls. A stop
 * can be asked without waiting (rounds_ask_stop; a reload then polls
 * rounds_stopped from its timer, never joining on the loop thread) and
 * taken back (rounds_resume). round should check rounds_stopping between
 * requests, so a stop takes effect within one of them.
 *
 * Round budget: a party that answers slowly (each request just inside
 * its timeout, or trickling) must not hold the thread, and every other
 * party it serves, for as many timeouts as a round makes requests. A
 * round's parts (a pulled log, a peer) each get a share of what is left of
 * the round's budget (rounds_share: an equal part of it, the last part all
 * of it), and a part may START a request only while its share lasts
 * (rounds_may_start); a request once started keeps its whole timeout, so a
 * timeout means what it always meant (the party gave no answer in time).
 * A part whose share is spent stops before its next request (it is "late":
 * one log line, rounds_count_late), keeps what it committed and goes on at
 * the next round. A user may exempt requests whose outcome is evidence of
 * misbehaviour (the feeder's consistency proof for a checkpoint just
 * fetched, and the fetches that check it) from the share: they are made
 * whatever is left of it, and the time they take is given back
 * (rounds_extend: the round's end, and the part's share, move back by as
 * much). The exempt requests to one party (a log) are capped instead, per
 * round and across all parts, at the first request of each series
 * (a comparison: the feeder's consistency proof, then, only when it does
 * not verify, at most ROUNDS_EXEMPT_SERIES - 1 requests that check it): a
 * series starts only while that party's exempt requests took less than
 * ROUNDS_EXEMPT_TIMEOUTS timeouts so far in the round, and a series once
 * started is always finished, whatever the cap (rounds_exempt_may_start),
 * so that a proof that did not verify is always checked and a split it
 * shows proven. So a party's exempt requests take less than
 * ROUNDS_EXEMPT_TIMEOUTS + ROUNDS_EXEMPT_SERIES timeouts a round (under
 * the cap, plus one series). A series refused by the cap is the user's to
 * treat as that party's failure to answer in time (the feeder: the log is
 * down for the round, the comparison that needed it SUSPECT, as when the
 * request times out). So a part ends by the end of its share plus one
 * timeout plus its exempt requests' time, and a round within budget_ms +
 * one timeout + (ROUNDS_EXEMPT_TIMEOUTS + ROUNDS_EXEMPT_SERIES) timeouts
 * per party asked exempt requests, plus its local work (the engine's
 * writes). A part that overruns its
 * share takes that time from the parts after it, so the users rotate the
 * order of their parts (rounds_nth: part k of the round is (round number +
 * k) mod parts): over any `parts` consecutive rounds each part runs first
 * once, with a whole share of about a timeout.
 * Its users give a round one request timeout per part plus
 * ROUNDS_SLACK_MS (rounds_budget): the first part's share is then about a
 * timeout, and each later one about as much when those before it kept to
 * theirs.
 *
 * Invariant: exited is set (under mu) only by the thread itself, as it
 * leaves its loop because stop was set, and cleared only when the thread
 * is started again; rounds_resume restarts only such a thread (joining it
 * first unless rounds_stop did), and otherwise just clears stop.
 */
#ifndef GL_WITNESS_ROUNDS_H
#define GL_WITNESS_ROUNDS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct rounds {
    pthread_mutex_t mu; /* stop, exited */
    pthread_cond_t cv;  /* a stop wakes the wait between rounds */
    pthread_t thread;
    int stop, started, exited;
    unsigned interval_s;
    uint64_t budget_ms; /* a round's time, from its start */
    uint64_t round_end; /* the running round's end (monotonic ms); its thread only */
    uint64_t round_no;  /* rounds begun; its thread only */
    uint64_t late;      /* parts cut short (rounds_count_late); under mu */
    void (*round)(void *arg);
    void *arg;
};

#define ROUNDS_SLACK_MS 250
/* A party's exempt series start only while its exempt requests took less
 * than this many timeouts in the round (rounds_exempt_may_start). */
#define ROUNDS_EXEMPT_TIMEOUTS 1
/* The most requests in an exempt series (the feeder's comparison: the
 * consistency proof, then entry 0 and its inclusion proof). */
#define ROUNDS_EXEMPT_SERIES 3

/* The budget of a round of `parts` parts (0 counts as 1) whose requests
 * each have timeout_ms: parts x timeout_ms + ROUNDS_SLACK_MS. */
uint64_t rounds_budget(size_t parts, long timeout_ms);
/* Initialises r (budget_ms >= 1: each round's budget); no thread runs
 * until rounds_start. Released with rounds_release (which stops a running
 * thread first). */
void rounds_init(struct rounds *r, unsigned interval_s, uint64_t budget_ms,
                 void (*round)(void *arg), void *arg);
/* From the round's thread, during a round: the end (monotonic ms) of the
 * next of `parts` parts still to run in this round (parts >= 1, the next
 * one included): now plus an equal share of what is left of the round's
 * budget; the round's end for the last part; now once the round's end has
 * passed. */
uint64_t rounds_share(const struct rounds *r, size_t parts);
/* 1 if a request may start now in a part whose share ends at until_ms
 * (monotonic): until_ms is still ahead. */
int rounds_may_start(uint64_t until_ms);
/* 1 if an exempt request (timeout_ms) may start to a party whose exempt
 * requests took spent_ms so far in the running round: always if it is not
 * the first of its series (first 0: a series once started is finished);
 * the first only while spent_ms is less than ROUNDS_EXEMPT_TIMEOUTS x
 * timeout_ms. */
int rounds_exempt_may_start(uint64_t spent_ms, long timeout_ms, int first);
/* From the round's thread: which of `parts` parts (numbered 0 to parts-1)
 * runs k-th (k < parts) in the running round: (round number + k) modulo
 * parts, so each round runs every part once and the first one rotates; 0
 * if parts is 0. */
size_t rounds_nth(const struct rounds *r, size_t k, size_t parts);
/* From the round's thread: moves the running round's end back by ms (the
 * time an exempt request took), so that the parts after it keep their
 * time. */
void rounds_extend(struct rounds *r, uint64_t ms);
/* Counts a part whose share ran out before it was done (any thread). */
void rounds_count_late(struct rounds *r);
/* A part (part names it, e.g. "pulling ORIGIN") that started with a share
 * of share_ms ran out of it before it was done: counts it
 * (rounds_count_late) and logs one line: "too slow" with its share when
 * it had one, or, when it had none (0: the parts before it used up the
 * round), that the round was out of time when its turn came, not that it
 * was slow. */
void rounds_late(struct rounds *r, const char *part, uint64_t share_ms);
/* The parts counted by rounds_count_late so far (any thread). */
uint64_t rounds_parts_late(struct rounds *r);
/* Starts the thread: a first round at once. 0, or GL_EIO. */
int rounds_start(struct rounds *r);
/* 1 once a stop was asked (any thread). */
int rounds_stopping(struct rounds *r);
/* Asks the thread to stop; returns at once. */
void rounds_ask_stop(struct rounds *r);
/* 1 when the thread has left its loop after rounds_ask_stop (or never
 * ran); never blocks. */
int rounds_stopped(struct rounds *r);
/* Takes rounds_ask_stop (or rounds_stop) back: the thread goes on, or,
 * if it had left its loop, is joined and started again. Nothing for a
 * thread never started. 0, or GL_EIO (no thread runs). */
int rounds_resume(struct rounds *r);
/* Asks the thread to stop and joins it (immediate after rounds_stopped
 * said 1). */
void rounds_stop(struct rounds *r);
void rounds_release(struct rounds *r);

#endif

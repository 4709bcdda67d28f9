/*
 * rounds: a thread that runs round(arg) every interval_s seconds until it
 * is stopped: the feeder's pulls and gossip, the mirror's pulls. A stop
 * can be asked without waiting (rounds_ask_stop; a reload then polls
 * rounds_stopped from its timer, never joining on the loop thread) and
 * taken back (rounds_resume). round should check rounds_stopping between
 * requests, so a stop takes effect within one of them.
 *
 * Round budget: each round must end within budget_ms of its start, so a
 * party that answers slowly (each request just inside its timeout, or
 * trickling) cannot hold the thread, and every other party it serves,
 * for as many timeouts as a round makes requests. The round splits what
 * is left of it between the parts still to run (rounds_share: a log, a
 * peer), so a slow first part leaves the others their turn; each request
 * gets min(its timeout, what is left of its part) (rounds_timeout). A
 * part cut short keeps what it committed and goes on at the next round.
 * Its users give a round one request timeout per part plus
 * ROUNDS_SLACK_MS for the work between requests (rounds_budget): the
 * first part then gets a whole timeout, as much as one request of it may
 * take, and each later one about as much (more when those before it left
 * some unused), so a party that does not answer at all is still told from
 * a slow one; and a round is bounded by parts x timeout + the slack,
 * whatever the parties' speeds.
 *
 * Invariant: exited is set (under mu) only by the thread itself, as it
 * leaves its loop because stop was set; rounds_resume joins and restarts
 * only such a thread, and otherwise just clears stop.
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
    void (*round)(void *arg);
    void *arg;
};

#define ROUNDS_SLACK_MS 250

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
/* The timeout of a request that must end by until_ms (monotonic):
 * min(timeout_ms, until_ms - now), or 0 when until_ms has passed (make no
 * request then: 0 means a default timeout to the HTTP client). */
long rounds_timeout(uint64_t until_ms, long timeout_ms);
/* Starts the thread: a first round at once. 0, or GL_EIO. */
int rounds_start(struct rounds *r);
/* 1 once a stop was asked (any thread). */
int rounds_stopping(struct rounds *r);
/* Asks the thread to stop; returns at once. */
void rounds_ask_stop(struct rounds *r);
/* 1 when the thread has left its loop after rounds_ask_stop (or never
 * ran); never blocks. */
int rounds_stopped(struct rounds *r);
/* Takes rounds_ask_stop back: the thread goes on, or, if it had left its
 * loop, is joined and started again. 0, or GL_EIO (no thread runs). */
int rounds_resume(struct rounds *r);
/* Asks the thread to stop and joins it (immediate after rounds_stopped
 * said 1). */
void rounds_stop(struct rounds *r);
void rounds_release(struct rounds *r);

#endif

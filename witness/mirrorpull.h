/*
 * mirrorpull: the mirror's own feeder, for logs nobody pushes to. Every
 * poll interval, for each mirrored log with a url, once the witness (its
 * feeder or a push) has accepted a checkpoint larger than the mirror
 * checkpoint, it downloads the missing entry bundles from the log's
 * tlog-tiles API, computes each package's subtree consistency proof from
 * the log's hash tiles, and feeds the packages, 32 per body, through
 * mirror_add_entries: exactly the checks a pushed upload gets (every
 * package verified against the witness-accepted checkpoint before it is
 * stored; the log's tiles are untrusted and can only make it fail). A log
 * that forks is caught by the witness's feeder and gossip (split-view
 * evidence, the origin frozen), so the mirror never gets a pending
 * checkpoint of the fork.
 *
 * One thread for all the logs, blocking HTTP with timeouts (like
 * feeder.c), each round within its budget of one timeout per log plus
 * one timeout (each log, in an order whose first log rotates every round,
 * gets a share of what is left of the budget and starts no request once
 * it is spent; a request once started has its whole timeout; a log out of
 * time uploads what it built, keeps its last entry bundle and goes on next
 * round), so a slow log cannot hold the others back for more than its
 * share plus one timeout; a small direct-mapped cache of hash tiles, keyed
 * by origin and tile, whose tiles of a log are dropped when a round of
 * that log fails. The thread reads the logs
 * list: a reload (reload.h) asks it to stop (mirrorpull_ask_stop: no HTTP
 * request starts after it, and one in flight is aborted, the client's
 * abort_cb polling the stop about once a second, so the thread leaves
 * within about a second, however slowly the log answers), waits for
 * mirrorpull_stopped without blocking the loop, frees it (a join, quick
 * then) and starts a new one for the new list (or mirrorpull_resume when
 * the reload gives up).
 */
#ifndef GL_WITNESS_MIRRORPULL_H
#define GL_WITNESS_MIRRORPULL_H

#include <stdint.h>

#include "logs.h"
#include "mirror.h"

struct mirrorpull_config {
    struct mirror *mirror;
    const struct logs_list *logs; /* must outlive the puller */
    unsigned poll_interval_s;     /* >= 1 */
    long timeout_ms;              /* per HTTP request; and per log in a
                                   * round's budget */
};

struct mirrorpull;

/* Starts the thread if some mirrored log has a url (*out NULL otherwise).
 * Caller stops it with mirrorpull_stop, then mirrorpull_free. */
int mirrorpull_start(const struct mirrorpull_config *cfg, struct mirrorpull **out);
void mirrorpull_stop(struct mirrorpull *p);
void mirrorpull_free(struct mirrorpull *p);
/* Asks the thread to stop, without waiting (p may be NULL). */
void mirrorpull_ask_stop(struct mirrorpull *p);
/* 1 when the thread has left its loop after mirrorpull_ask_stop (or p is
 * NULL or stopped), else 0. */
int mirrorpull_stopped(struct mirrorpull *p);
/* Cancels mirrorpull_ask_stop: the thread goes on, or is joined and
 * started again if it had left. 0 or GL_EIO (no thread runs). */
int mirrorpull_resume(struct mirrorpull *p);
/* The logs cut short in a round so far, their share spent (any thread;
 * p may be NULL: 0). */
uint64_t mirrorpull_parts_late(struct mirrorpull *p);

#endif

/*
 * rounds: a thread that runs round(arg) every interval_s seconds until it
 * is stopped: the feeder's pulls and gossip, the mirror's pulls. A stop
 * can be asked without waiting (rounds_ask_stop; a reload then polls
 * rounds_stopped from its timer, never joining on the loop thread) and
 * taken back (rounds_resume). round should check rounds_stopping between
 * requests, so a stop takes effect within one of them.
 *
 * Invariant: exited is set (under mu) only by the thread itself, as it
 * leaves its loop because stop was set; rounds_resume joins and restarts
 * only such a thread, and otherwise just clears stop.
 */
#ifndef GL_WITNESS_ROUNDS_H
#define GL_WITNESS_ROUNDS_H

#include <pthread.h>

struct rounds {
    pthread_mutex_t mu; /* stop, exited */
    pthread_cond_t cv;  /* a stop wakes the wait between rounds */
    pthread_t thread;
    int stop, started, exited;
    unsigned interval_s;
    void (*round)(void *arg);
    void *arg;
};

/* Initialises r; no thread runs until rounds_start. Released with
 * rounds_release (which stops a running thread first). */
void rounds_init(struct rounds *r, unsigned interval_s, void (*round)(void *arg),
                 void *arg);
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

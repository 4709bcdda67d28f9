/*
 * clock: the monotonic clock every timer of the daemons and the CLI reads
 * (deadlines, back-offs, token buckets, intervals). Never the wall clock:
 * a stepped system time must not fire or stall a timer. Lives in the I/O
 * archive (libglasslog-net.a) so the core stays pure.
 */
#ifndef GL_NET_CLOCK_H
#define GL_NET_CLOCK_H

#include <pthread.h>
#include <stdint.h>

/* Seconds of CLOCK_MONOTONIC, with its nanoseconds as the fraction. */
double gl_clock_mono(void);
/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t gl_clock_mono_ms(void);
/* The next wait of a doubling back-off, in seconds: first while cur is
 * below first (0: nothing failed yet), else twice cur, at most max. */
double gl_clock_backoff(double cur, double first, double max);
/* Initialises cv (released by the caller with pthread_cond_destroy) so
 * that gl_clock_wait_until times its waits on CLOCK_MONOTONIC: a wait of
 * pthread_cond_timedwait's default clock (CLOCK_REALTIME) lasts as long
 * as the wall clock is stepped back. */
void gl_clock_cond_init(pthread_cond_t *cv);
/* pthread_cond_timedwait on cv (from gl_clock_cond_init; mu held) until
 * it is signalled (or wakes spuriously) or gl_clock_mono_ms() reaches
 * at_ms. 1 if at_ms has passed, else 0. */
int gl_clock_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, uint64_t at_ms);

#endif

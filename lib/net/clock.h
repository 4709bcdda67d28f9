/*
 * clock: the monotonic clock every timer of the daemons and the CLI reads
 * (deadlines, back-offs, token buckets, intervals). Never the wall clock:
 * a stepped system time must not fire or stall a timer. Lives in the I/O
 * archive (libglasslog-net.a) so the core stays pure.
 */
#ifndef GL_NET_CLOCK_H
#define GL_NET_CLOCK_H

#include <stdint.h>

/* Seconds of CLOCK_MONOTONIC, with its nanoseconds as the fraction. */
double gl_clock_mono(void);
/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t gl_clock_mono_ms(void);
/* The next wait of a doubling back-off, in seconds: first while cur is
 * below first (0: nothing failed yet), else twice cur, at most max. */
double gl_clock_backoff(double cur, double first, double max);

#endif

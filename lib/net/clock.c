/*
 * clock: CLOCK_MONOTONIC as seconds or milliseconds, and the doubling
 * back-off every retry loop waits by (clock.h). A read cannot fail for
 * this clock on Linux; the result is asserted anyway.
 */
#include <assert.h>
#include <time.h>

#include "clock.h"

static struct timespec mono(void)
{
    struct timespec ts;
    int rc = clock_gettime(CLOCK_MONOTONIC, &ts);

    assert(rc == 0);
    (void)rc;
    return ts;
}

double gl_clock_mono(void)
{
    struct timespec ts = mono();

    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t gl_clock_mono_ms(void)
{
    struct timespec ts = mono();

    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

double gl_clock_backoff(double cur, double first, double max)
{
    double next = cur < first ? first : cur * 2;

    assert(first > 0 && max >= first);
    return next > max ? max : next;
}

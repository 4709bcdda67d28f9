/*
 * clock: CLOCK_MONOTONIC as seconds or milliseconds, the doubling
 * back-off every retry loop waits by, and condition waits with a deadline
 * on the same clock (clock.h). A read cannot fail for this clock on
 * Linux; the result is asserted anyway.
 */
#include <assert.h>
#include <errno.h>
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

void gl_clock_cond_init(pthread_cond_t *cv)
{
    pthread_condattr_t ca;
    int rc = pthread_condattr_init(&ca);

    assert(rc == 0);
    rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* supported on Linux */
    assert(rc == 0);
    rc = pthread_cond_init(cv, &ca);
    assert(rc == 0);
    pthread_condattr_destroy(&ca);
    (void)rc;
}

int gl_clock_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, uint64_t at_ms)
{
    struct timespec ts = {(time_t)(at_ms / 1000), (long)(at_ms % 1000) * 1000000L};

    return pthread_cond_timedwait(cv, mu, &ts) == ETIMEDOUT ||
           gl_clock_mono_ms() >= at_ms;
}

/*
 * rounds: see rounds.h. The wait between rounds is a timed wait on cv
 * with a deadline on the monotonic clock (gl_clock_wait_until), cut short
 * by a stop: a wall clock stepped back does not stretch it. A round's
 * end is set when it starts (round_end, monotonic) and moved back only by
 * rounds_extend; the parts' shares are cut from it, and a request starts
 * only within its part's share.
 */
#include "rounds.h"

#include "clock.h"
#include "glasslog/error.h"
#include "glasslog/log.h"

static void *rounds_main(void *arg)
{
    struct rounds *r = arg;

    for (;;) {
        uint64_t until;
        int stop;
        r->round_end = gl_clock_mono_ms() + r->budget_ms;
        r->round(r->arg); /* returns soon once a stop is asked */
        r->round_no++;
        until = gl_clock_mono_ms() + (uint64_t)r->interval_s * 1000;
        pthread_mutex_lock(&r->mu);
        while (!r->stop && !gl_clock_wait_until(&r->cv, &r->mu, until))
            ;
        stop = r->stop;
        r->exited = stop; /* under the lock that rounds_resume reads it with */
        pthread_mutex_unlock(&r->mu);
        if (stop)
            return NULL;
    }
}

void rounds_init(struct rounds *r, unsigned interval_s, uint64_t budget_ms,
                 void (*round)(void *arg), void *arg)
{
    pthread_mutex_init(&r->mu, NULL);
    gl_clock_cond_init(&r->cv);
    r->stop = r->started = r->exited = 0;
    r->interval_s = interval_s;
    r->budget_ms = budget_ms;
    r->round_end = 0;
    r->round_no = 0;
    r->late = 0;
    r->round = round;
    r->arg = arg;
}

uint64_t rounds_budget(size_t parts, long timeout_ms)
{
    /* parts <= LOGS_MAX + peers and timeout_ms <= 600000: far from 2^64 */
    return (uint64_t)(parts > 0 ? parts : 1) * (uint64_t)timeout_ms + ROUNDS_SLACK_MS;
}

uint64_t rounds_share(const struct rounds *r, size_t parts)
{
    uint64_t now = gl_clock_mono_ms();

    if (now >= r->round_end)
        return now;
    return now + (r->round_end - now) / (parts > 0 ? parts : 1);
}

int rounds_may_start(uint64_t until_ms)
{
    return gl_clock_mono_ms() < until_ms;
}

size_t rounds_nth(const struct rounds *r, size_t k, size_t parts)
{
    return parts > 0 ? (size_t)((r->round_no + k) % parts) : 0;
}

void rounds_extend(struct rounds *r, uint64_t ms)
{
    r->round_end += ms;
}

int rounds_exempt_may_start(uint64_t spent_ms, long timeout_ms, int first)
{
    /* timeout_ms <= 600000: the product is far from 2^64 */
    return !first || timeout_ms <= 0 ||
           spent_ms < (uint64_t)ROUNDS_EXEMPT_TIMEOUTS * (uint64_t)timeout_ms;
}

void rounds_late(struct rounds *r, const char *part, uint64_t share_ms)
{
    rounds_count_late(r);
    if (share_ms > 0)
        gl_log(GL_LOG_WARN,
               "%s: too slow, out of its time this round (a share of %llu ms); it goes "
               "on next round",
               part, (unsigned long long)share_ms);
    else
        gl_log(GL_LOG_WARN,
               "%s: not done, the round was out of time when its turn came (the parts "
               "before it used it up); it goes on next round",
               part);
}

void rounds_count_late(struct rounds *r)
{
    pthread_mutex_lock(&r->mu);
    r->late++;
    pthread_mutex_unlock(&r->mu);
}

uint64_t rounds_parts_late(struct rounds *r)
{
    uint64_t n;

    pthread_mutex_lock(&r->mu);
    n = r->late;
    pthread_mutex_unlock(&r->mu);
    return n;
}

int rounds_start(struct rounds *r)
{
    if (pthread_create(&r->thread, NULL, rounds_main, r) != 0)
        return GL_EIO;
    r->started = 1;
    return 0;
}

int rounds_stopping(struct rounds *r)
{
    int stop;

    pthread_mutex_lock(&r->mu);
    stop = r->stop;
    pthread_mutex_unlock(&r->mu);
    return stop;
}

void rounds_ask_stop(struct rounds *r)
{
    pthread_mutex_lock(&r->mu);
    r->stop = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

int rounds_stopped(struct rounds *r)
{
    int done;

    if (!r->started)
        return 1;
    pthread_mutex_lock(&r->mu);
    done = r->exited;
    pthread_mutex_unlock(&r->mu);
    return done;
}

int rounds_resume(struct rounds *r)
{
    int done;

    if (!r->started && !r->exited)
        return 0; /* never started */
    pthread_mutex_lock(&r->mu);
    done = r->exited;
    r->stop = 0;
    pthread_mutex_unlock(&r->mu);
    if (!done)
        return 0;   /* it had not left its loop: it goes on */
    if (r->started) /* not joined yet (rounds_stop joins) */
        pthread_join(r->thread, NULL);
    r->started = 0;
    r->exited = 0;
    return rounds_start(r);
}

void rounds_stop(struct rounds *r)
{
    if (!r->started)
        return;
    rounds_ask_stop(r);
    pthread_join(r->thread, NULL);
    r->started = 0;
}

void rounds_release(struct rounds *r)
{
    rounds_stop(r);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
}

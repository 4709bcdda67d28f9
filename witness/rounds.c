/*
 * rounds: see rounds.h. The wait between rounds is a timed wait on cv
 * (CLOCK_REALTIME, as pthread_cond_timedwait's default), cut short by a
 * stop.
 */
#include "rounds.h"

#include <errno.h>
#include <time.h>

#include "glasslog/error.h"

static void *rounds_main(void *arg)
{
    struct rounds *r = arg;

    for (;;) {
        struct timespec until;
        int stop;
        r->round(r->arg); /* returns soon once a stop is asked */
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)r->interval_s;
        pthread_mutex_lock(&r->mu);
        while (!r->stop && pthread_cond_timedwait(&r->cv, &r->mu, &until) != ETIMEDOUT)
            ;
        stop = r->stop;
        r->exited = stop; /* under the lock that rounds_resume reads it with */
        pthread_mutex_unlock(&r->mu);
        if (stop)
            return NULL;
    }
}

void rounds_init(struct rounds *r, unsigned interval_s, void (*round)(void *arg),
                 void *arg)
{
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->stop = r->started = r->exited = 0;
    r->interval_s = interval_s;
    r->round = round;
    r->arg = arg;
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

    if (!r->started)
        return 0;
    pthread_mutex_lock(&r->mu);
    done = r->exited;
    r->stop = 0;
    pthread_mutex_unlock(&r->mu);
    if (!done)
        return 0; /* it had not left its loop: it goes on */
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

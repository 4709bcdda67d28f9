/*
 * test_net_clock: condition waits with a deadline on the monotonic clock
 * (gl_clock_cond_init, gl_clock_wait_until). A deadline 100 ms ahead on
 * CLOCK_MONOTONIC is waited for: at least 100 ms pass and the call says
 * the deadline passed. A condition variable on the default clock
 * (CLOCK_REALTIME, decades ahead of the monotonic clock) would return at
 * once; one that waited on the wall clock would also stretch its wait by
 * any step back of that clock, which this test cannot do without
 * privileges. A signal before the deadline ends the wait early (0).
 */
#include "testutil.h"

#include <pthread.h>

#include "clock.h"

static void test_waits_until_monotonic_deadline(void **state)
{
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv;
    uint64_t t0, at;
    int passed = 0;
    (void)state;

    gl_clock_cond_init(&cv);
    pthread_mutex_lock(&mu);
    t0 = gl_clock_mono_ms();
    at = t0 + 100;
    while (!passed)
        passed = gl_clock_wait_until(&cv, &mu, at);
    assert_true(gl_clock_mono_ms() >= at);
    assert_true(gl_clock_mono_ms() < t0 + 2000);
    pthread_mutex_unlock(&mu);
    pthread_cond_destroy(&cv);
}

struct signaller {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int signalled;
};

static void *signal_soon(void *arg)
{
    struct signaller *s = arg;

    pthread_mutex_lock(&s->mu);
    s->signalled = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void test_signal_ends_wait(void **state)
{
    struct signaller s = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    pthread_t t;
    uint64_t t0;
    int passed = 0;
    (void)state;

    pthread_cond_destroy(&s.cv);
    gl_clock_cond_init(&s.cv);
    pthread_mutex_lock(&s.mu);
    assert_int_equal(pthread_create(&t, NULL, signal_soon, &s), 0);
    t0 = gl_clock_mono_ms();
    while (!s.signalled && !passed)
        passed = gl_clock_wait_until(&s.cv, &s.mu, t0 + 10000);
    assert_int_equal(passed, 0);
    assert_true(gl_clock_mono_ms() < t0 + 5000);
    pthread_mutex_unlock(&s.mu);
    pthread_join(t, NULL);
    pthread_cond_destroy(&s.cv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_waits_until_monotonic_deadline),
        cmocka_unit_test(test_signal_ends_wait),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

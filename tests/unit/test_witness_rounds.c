/*
 * test_witness_rounds: a round's budget and its shares (rounds.h). A
 * round's budget is a timeout per part and the slack; a request's timeout
 * is cut to what is left before its deadline (0 once it has passed); a part gets an equal
 * share of what is left of the round, the last part all of it; a round's end is its start
 * plus the budget. A round of three parts that each use up their share (a slow party)
 * ends within the budget, and a part that ends early leaves its time to the next.
 */
#include "testutil.h"

#include <stdint.h>
#include <unistd.h>

#include "../../lib/net/clock.h"
#include "../../witness/rounds.h"

#define SLACK 40 /* ms of scheduling noise allowed (2 shared cores, ASan) */

static void test_timeout(void **state)
{
    uint64_t now = gl_clock_mono_ms();

    (void)state;
    assert_int_equal(rounds_timeout(now, 500), 0);
    assert_int_equal(rounds_timeout(now - 1000, 500), 0);
    assert_int_equal(rounds_timeout(now + 100000, 500), 500);
    /* a timeout per part, and the slack */
    assert_int_equal(rounds_budget(3, 500), 1500 + ROUNDS_SLACK_MS);
    assert_int_equal(rounds_budget(0, 500), 500 + ROUNDS_SLACK_MS);
    long t = rounds_timeout(now + 200, 500);
    assert_true(t > 200 - SLACK && t <= 200);
}

static void test_share(void **state)
{
    struct rounds r;
    uint64_t now;

    (void)state;
    rounds_init(&r, 1, 300, NULL, NULL);
    now = gl_clock_mono_ms();
    r.round_end = now + 300;
    uint64_t third = rounds_share(&r, 3);
    assert_true(third >= now + 100 - SLACK && third <= now + 100 + SLACK);
    assert_int_equal(rounds_share(&r, 1), r.round_end);
    assert_true(rounds_share(&r, 0) == r.round_end); /* 0 parts: as 1 */
    r.round_end = now - 10;                          /* passed: a share ends now */
    uint64_t past = rounds_share(&r, 2);
    assert_true(past >= now && past <= now + SLACK);
    assert_int_equal(rounds_timeout(past, 500), 0);
    rounds_release(&r);
}

/* What the round saw: its budget as round_end - start, and its parts'
 * shares. */
struct seen {
    struct rounds *r;
    uint64_t start, end, took, share[3];
    int done;
};

/* A round of three parts: the first ends at once, the others wait out
 * their shares (a party slow to the end). */
static void round_fn(void *arg)
{
    struct seen *s = arg;

    if (s->done)
        return;
    s->start = gl_clock_mono_ms();
    s->end = s->r->round_end;
    for (size_t i = 0; i < 3; i++) {
        uint64_t until = rounds_share(s->r, 3 - i);
        s->share[i] = until - gl_clock_mono_ms();
        while (i > 0 && rounds_timeout(until, 1000) > 0)
            usleep(1000);
    }
    s->took = gl_clock_mono_ms() - s->start;
    __atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
}

static void test_round(void **state)
{
    struct rounds r;
    struct seen s = {&r, 0, 0, 0, {0}, 0};

    (void)state;
    rounds_init(&r, 3600, 300, round_fn, &s);
    assert_int_equal(rounds_start(&r), 0);
    for (int i = 0; i < 500 && !rounds_stopping(&r); i++) {
        usleep(10000);
        if (__atomic_load_n(&s.done, __ATOMIC_ACQUIRE))
            break;
    }
    rounds_release(&r); /* joins: s is the thread's no more */
    assert_int_equal(s.done, 1);
    assert_true(s.end >= s.start + 300 - SLACK && s.end <= s.start + 300);
    assert_true(s.share[0] >= 100 - SLACK && s.share[0] <= 100);
    /* the first part left its share: the second gets half of 300 */
    assert_true(s.share[1] >= 150 - SLACK && s.share[1] <= 150);
    assert_true(s.share[2] >= 150 - 2 * SLACK && s.share[2] <= 150);
    assert_true(s.took >= 300 - SLACK && s.took <= 300 + SLACK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_share),
        cmocka_unit_test(test_round),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

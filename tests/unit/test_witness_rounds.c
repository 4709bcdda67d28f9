/*
 * test_witness_rounds: a round's budget and its shares (rounds.h). A
 * round's budget is a timeout per part and the slack; a request may start
 * only before its part's share ends; a part gets an equal share of what is
 * left of the round, the last part all of it; a round's end is its start
 * plus the budget. A round of three parts whose slow parts start requests
 * (of 40 ms) while their shares last ends within the budget plus one
 * request, and a part that ends early leaves its time to the next. The
 * parts' order rotates with the round's number over the real parts; time
 * given back (rounds_extend) moves the round's end; late parts are
 * counted, and told apart from parts that had no share left.
 * A log's exempt requests (given back to the round) are capped
 * (rounds_exempt_may_start, the decision the feeder makes): a
 * comparison's first request (its proof) starts only while the log's
 * exempt time this round is under ROUNDS_EXEMPT_TIMEOUTS timeouts; a
 * comparison's later requests (the prefix root that checks its proof)
 * start whatever that time, even past the cap by a whole series; with
 * no timeout there is no cap. A late part's log line gives its share, or
 * says the round was out of time.
 */
#include "testutil.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/net/clock.h"
#include "../../witness/rounds.h"

#define SLACK 40   /* ms of scheduling noise allowed (2 shared cores, ASan) */
#define LOADED 200 /* ms more for a whole round's end under load */
#define REQ_MS 40  /* a slow part's request */

static void test_may_start(void **state)
{
    uint64_t now = gl_clock_mono_ms();

    (void)state;
    assert_false(rounds_may_start(now));
    assert_false(rounds_may_start(now - 1000));
    assert_true(rounds_may_start(now + 100000));
    /* a timeout per part, and the slack */
    assert_int_equal(rounds_budget(3, 500), 1500 + ROUNDS_SLACK_MS);
    assert_int_equal(rounds_budget(0, 500), 500 + ROUNDS_SLACK_MS);
}

/* Parts 0..4 over 5 rounds: each round runs every part once, and each
 * part runs first in exactly one of them (a list of the real parts, not
 * of slots some of which are skipped). */
static void test_rotation_late(void **state)
{
    struct rounds r;
    unsigned first_count[5] = {0};

    (void)state;
    rounds_init(&r, 1, 300, NULL, NULL);
    assert_int_equal(rounds_nth(&r, 0, 0), 0);
    for (r.round_no = 7; r.round_no < 12; r.round_no++) {
        unsigned ran[5] = {0};
        for (size_t k = 0; k < 5; k++) {
            size_t s = rounds_nth(&r, k, 5);
            assert_true(s < 5);
            ran[s]++;
        }
        for (size_t s = 0; s < 5; s++)
            assert_int_equal(ran[s], 1);
        first_count[rounds_nth(&r, 0, 5)]++;
        assert_int_equal(rounds_nth(&r, 0, 1), 0);
    }
    for (size_t s = 0; s < 5; s++)
        assert_int_equal(first_count[s], 1);
    /* exempt time given back: the round's end moves, and so the shares */
    r.round_end = gl_clock_mono_ms() + 100;
    rounds_extend(&r, 200);
    assert_true(rounds_share(&r, 1) >= gl_clock_mono_ms() + 300 - SLACK);
    assert_int_equal(rounds_parts_late(&r), 0);
    rounds_count_late(&r);
    rounds_count_late(&r);
    assert_int_equal(rounds_parts_late(&r), 2);
    rounds_release(&r);
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
    assert_false(rounds_may_start(past));
    rounds_release(&r);
}

/* What the round saw: its budget as round_end - start, and its parts'
 * shares. */
struct seen {
    struct rounds *r;
    uint64_t start, end, took, share[3];
    int done;
};

/* A round of three parts: the first ends at once, the others start
 * requests of REQ_MS while their shares last (a slow party). */
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
        while (i > 0 && rounds_may_start(until))
            usleep(REQ_MS * 1000);
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
    /* the third: what the second's last request left (up to REQ_MS less) */
    assert_true(s.share[2] + REQ_MS + 2 * SLACK >= 150 && s.share[2] <= 150);
    /* the last part's last request started before the end: one request more */
    assert_true(s.took >= 300 && s.took <= 300 + REQ_MS + LOADED);
    assert_true(r.round_no >= 1);
}

/* The cap on a party's exempt requests (rounds_exempt_may_start, the
 * feeder's only decision on it): a series' first request starts only
 * while the party's exempt time is under the cap; the later ones of a
 * series once started (the feeder: the prefix root that checks a proof
 * that did not verify) always, however far past the cap, so that a split
 * the proof shows is proven. */
static void test_exempt_cap(void **state)
{
    const long t = 500;
    const uint64_t cap = (uint64_t)ROUNDS_EXEMPT_TIMEOUTS * (uint64_t)t;

    (void)state;
    assert_true(rounds_exempt_may_start(0, t, 1));
    assert_true(rounds_exempt_may_start(cap - 1, t, 1));
    assert_false(rounds_exempt_may_start(cap, t, 1));
    assert_false(rounds_exempt_may_start(100000, t, 1));
    /* a series started just under the cap: its proof took a whole timeout,
     * and its two checks are still made (the bound: under the cap + one
     * series of ROUNDS_EXEMPT_SERIES timeouts) */
    assert_true(rounds_exempt_may_start(cap - 1 + (uint64_t)t, t, 0));
    assert_true(rounds_exempt_may_start(cap - 1 + 2 * (uint64_t)t, t, 0));
    assert_true(rounds_exempt_may_start(100000, t, 0));
    /* no timeout: no cap */
    assert_true(rounds_exempt_may_start(100000, 0, 1));
}

/* What a late part logs (rounds_late): its share, or that the round was
 * out of time when its turn came. */
static void late_step(void *arg)
{
    struct rounds *r = arg;

    rounds_late(r, "gossip with peer p1", 1234);
    rounds_late(r, "pulling example.com/log", 0);
}

static void test_late_line(void **state)
{
    struct rounds r;
    char *got;

    (void)state;
    rounds_init(&r, 1, 300, NULL, NULL);
    got = tu_capture_stderr(late_step, &r);
    assert_non_null(strstr(got,
                           "gossip with peer p1: too slow, out of its time this round "
                           "(a share of 1234 ms); it goes on next round"));
    assert_non_null(strstr(got, "pulling example.com/log: not done, the round was out of "
                                "time when its turn came"));
    assert_null(strstr(got, "pulling example.com/log: too slow"));
    assert_int_equal(rounds_parts_late(&r), 2);
    free(got);
    rounds_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_may_start),  cmocka_unit_test(test_rotation_late),
        cmocka_unit_test(test_share),      cmocka_unit_test(test_round),
        cmocka_unit_test(test_exempt_cap), cmocka_unit_test(test_late_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_witness_peercursor: where a peer's part resumes (peercursor.h).
 * Its gossip: polls made move the cursor past the last one; a refused
 * proof holds it at that log, and nothing after it in the part moves it
 * (neither later polls nor a later refusal: it never moves back nor past
 * the held log); a hold is kept at most `parts` parts in a row, then the
 * refusal moves the cursor on like any poll, and a part that polls the
 * held log without a refusal ends the run; polls not made move nothing.
 * Its evidence list: an entry whose fetch fails is resumed at for
 * PEERCURSOR_TRIES rounds in a row, then passed (one log line); another
 * entry failing starts a new count. The files the engine refused: the
 * last PEERCURSOR_REFUSED distinct IDs are remembered, a repeat takes no
 * room.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "../../witness/peercursor.h"

#define N 5     /* logs */
#define PARTS 3 /* the round's parts */

/* A part's gossip from c->gossip over k polls: made[i], refused[i] of
 * the i-th poll. */
static void part(struct peercursor *c, size_t k, const int *made, const int *refused)
{
    size_t start = c->gossip;
    int hold = 0;

    for (size_t i = 0; i < k; i++)
        peercursor_gossip(c, (start + i) % N, N, made[i], refused[i], PARTS, &hold);
}

static void test_gossip_moves(void **state)
{
    struct peercursor c = {0};
    const int yes[N] = {1, 1, 1, 1, 1}, no[N] = {0};

    (void)state;
    c.gossip = 3;
    part(&c, 2, yes, no); /* logs 3, 4 */
    assert_int_equal(c.gossip, 0);
    part(&c, N, yes, no); /* all: back at its start */
    assert_int_equal(c.gossip, 0);
    part(&c, 3, no, no); /* nothing made (its share spent) */
    assert_int_equal(c.gossip, 0);
    assert_int_equal(c.held, 0);
}

static void test_gossip_hold(void **state)
{
    struct peercursor c = {0};
    const int yes[N] = {1, 1, 1, 1, 1}, no[N] = {0};
    const int at0[N] = {1, 0, 0, 0, 0}, at1[N] = {0, 1, 0, 0, 0};
    const int at0and1[N] = {1, 1, 0, 0, 0};
    int hold = 0;

    (void)state;
    c.gossip = 1;
    /* logs 1, 2 (refused), 3, 4, 0: held at 2, the polls after it made */
    part(&c, N, yes, at1);
    assert_int_equal(c.gossip, 2);
    assert_int_equal(c.held, 1);
    /* from 2 (polls 2, 3, 4): refused again (2 in a row), and at 3:
     * held at 2, not moved on to 3 */
    part(&c, 3, yes, at0and1);
    assert_int_equal(c.gossip, 2);
    assert_int_equal(c.held, 2);
    /* a part that polled nothing changes nothing */
    part(&c, N, no, no);
    assert_int_equal(c.gossip, 2);
    assert_int_equal(c.held, 2);
    /* third in a row: PARTS reached, still held */
    part(&c, 1, yes, at0);
    assert_int_equal(c.gossip, 2);
    assert_int_equal(c.held, PARTS);
    /* a fourth: the gossip moves on past it (polls 2, 3) */
    part(&c, 2, yes, at0);
    assert_int_equal(c.gossip, 4);
    assert_int_equal(c.held, 0);
    /* held again at 0 (polls 4, 0, 1: refused at 0) */
    part(&c, 3, yes, at1);
    assert_int_equal(c.gossip, 0);
    assert_int_equal(c.held, 1);
    /* its proof asked, no refusal: the run of holds ends */
    part(&c, 1, yes, no);
    assert_int_equal(c.gossip, 1);
    assert_int_equal(c.held, 0);
    /* a refusal after a hold in the same part does not move it */
    peercursor_gossip(&c, 1, N, 1, 1, PARTS, &hold);
    peercursor_gossip(&c, 2, N, 1, 1, PARTS, &hold);
    peercursor_gossip(&c, 3, N, 1, 0, PARTS, &hold);
    assert_int_equal(c.gossip, 1);
    assert_int_equal(c.held, 1);
}

static void test_import_retry(void **state)
{
    struct peercursor c = {0};

    (void)state;
    for (int r = 1; r < PEERCURSOR_TRIES; r++)
        assert_int_equal(peercursor_import_retry(&c, "p", 7, "id7"), 1);
    assert_int_equal(peercursor_import_retry(&c, "p", 7, "id7"), 0);
    assert_int_equal(c.fail_at, 0);
    /* after giving up, a new run of PEERCURSOR_TRIES */
    assert_int_equal(peercursor_import_retry(&c, "p", 7, "id7"), 1);
    /* another entry fails first: its own count */
    for (int r = 1; r < PEERCURSOR_TRIES; r++)
        assert_int_equal(peercursor_import_retry(&c, "p", 3, "id3"), 1);
    assert_int_equal(c.fail_at, 4);
    assert_int_equal(peercursor_import_retry(&c, "p", 3, "id3"), 0);
}

/* An ID made of its number k. */
static void id_of(unsigned k, uint8_t id[PEERCURSOR_ID_LEN])
{
    memset(id, 0, PEERCURSOR_ID_LEN);
    memcpy(id, &k, sizeof(k));
}

static void test_refused(void **state)
{
    struct peercursor *c = calloc(1, sizeof(*c));
    uint8_t id[PEERCURSOR_ID_LEN];

    (void)state;
    assert_non_null(c);
    id_of(0, id);
    assert_int_equal(peercursor_refused(c, id), 0);
    for (unsigned k = 0; k < PEERCURSOR_REFUSED; k++) {
        id_of(k, id);
        peercursor_refuse(c, id);
        peercursor_refuse(c, id); /* a repeat: no room taken */
    }
    for (unsigned k = 0; k < PEERCURSOR_REFUSED; k++) {
        id_of(k, id);
        assert_int_equal(peercursor_refused(c, id), 1);
    }
    id_of(PEERCURSOR_REFUSED, id); /* one more: the oldest (0) goes */
    assert_int_equal(peercursor_refused(c, id), 0);
    peercursor_refuse(c, id);
    assert_int_equal(peercursor_refused(c, id), 1);
    id_of(0, id);
    assert_int_equal(peercursor_refused(c, id), 0);
    id_of(1, id);
    assert_int_equal(peercursor_refused(c, id), 1);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gossip_moves),
        cmocka_unit_test(test_gossip_hold),
        cmocka_unit_test(test_import_retry),
        cmocka_unit_test(test_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

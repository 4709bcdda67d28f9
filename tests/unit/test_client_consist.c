/*
 * test_client_consist: client/consist.c, the one consistency check of
 * lookup and monitor, against a source whose proofs come from the
 * reference tree (tu_ref_leaf; the signed roots are the vectors'
 * tree/roots.txt) and can be spoiled as a cached tile spoils them. A proof
 * that does not verify is asked for once more after the source's refresh:
 * spoiled once, it passes without an alarm; spoiled for good, it is a fork
 * recorded once (one alarm directory), after exactly one refresh. Without
 * a refresh (nothing cached) there is no second try. A good proof never
 * calls refresh.
 */
#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "../../client/consist.h"
#include "../../client/state.h"
#include "glasslog/checkpoint.h"

struct fake {
    int spoil;          /* proofs to spoil from now on (-1: all) */
    unsigned proves;    /* prove calls */
    unsigned refreshes; /* refresh calls */
};

/* The root of the complete subtree ids names, from the reference leaves. */
static int fake_read(void *ctx, const struct gl_node_id *ids, size_t n,
                     uint8_t (*out)[GL_HASH_LEN])
{
    uint8_t leaves[64][GL_HASH_LEN];
    (void)ctx;

    for (size_t i = 0; i < n; i++) {
        uint64_t w = (uint64_t)1 << ids[i].level, first = ids[i].index * w;
        if (w > 64)
            return GL_ERANGE;
        for (uint64_t k = 0; k < w; k++)
            tu_ref_leaf(first + k, leaves[k]);
        tu_mth(gl_hashes_const(leaves), w, out[i]);
    }
    return 0;
}

static int fake_prove(void *ctx, uint64_t lo, uint64_t hi, uint8_t (*proof)[GL_HASH_LEN],
                      size_t *len)
{
    struct fake *f = ctx;
    const struct gl_hash_source src = {.read = fake_read, .ctx = f};
    int rc = gl_merkle_prove_consistency(&src, lo, hi, proof, len);

    f->proves++;
    if (rc == 0 && f->spoil != 0 && *len > 0) {
        proof[0][0] ^= 1; /* a wrong hash, as a bad cached tile gives */
        if (f->spoil > 0)
            f->spoil--;
    }
    return rc;
}

static void fake_refresh(void *ctx)
{
    ((struct fake *)ctx)->refreshes++;
}

static unsigned count_alarms(const char *dir)
{
    char path[STATE_PATH_MAX + 16];
    struct dirent *e;
    unsigned n = 0;
    DIR *d;

    snprintf(path, sizeof(path), "%s/alarms", dir);
    if ((d = opendir(path)) == NULL)
        return 0;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Checks 5 -> 9 with fk's spoiling, refresh on or off: consist_check's
 * code, *forked and the alarms recorded in a fresh state. */
static int run(struct fake *fk, int with_refresh, int *forked, unsigned *alarms)
{
    char root[256];
    struct gl_verifier v;
    struct state s;
    struct gl_checkpoint c5, c9;
    static const char n5[] = "note 5\n", n9[] = "note 9\n";
    int rc;

    tu_tempdir("glasslog-consist", root, sizeof(root));
    tu_load_verifier("notes/log.vkey", &v);
    assert_int_equal(state_open(&s, root, &v), 0);
    memset(&c5, 0, sizeof(c5));
    memset(&c9, 0, sizeof(c9));
    strcpy(c5.origin, "example.com/log");
    strcpy(c9.origin, "example.com/log");
    c5.size = 5;
    c9.size = 9;
    assert_int_equal(tu_ref_root(5, c5.root), 1);
    assert_int_equal(tu_ref_root(9, c9.root), 1);
    {
        struct alarm_ctx a = {.s = &s, .log_key = &v};
        const struct consist_source src = {.prove = fake_prove,
                                           .refresh = with_refresh ? fake_refresh : NULL,
                                           .ctx = fk,
                                           .what = "the test's tiles",
                                           .seen = "verified"};
        const struct consist_checkpoint old = {n5, sizeof(n5) - 1, &c5};
        const struct consist_checkpoint cur = {n9, sizeof(n9) - 1, &c9};
        rc = consist_check(&a, &src, &old, &cur, forked);
    }
    *alarms = count_alarms(s.dir);
    state_close(&s);
    tu_rmtree(root);
    return rc;
}

static void test_good(void **state)
{
    struct fake fk = {0, 0, 0};
    unsigned alarms;
    int forked = -1;
    (void)state;

    assert_int_equal(run(&fk, 1, &forked, &alarms), 0);
    assert_int_equal(forked, 0);
    assert_int_equal(alarms, 0);
    assert_int_equal(fk.proves, 1);
    assert_int_equal(fk.refreshes, 0);
}

static void test_spoiled_once(void **state)
{
    struct fake fk = {1, 0, 0};
    unsigned alarms;
    int forked = -1;
    (void)state;

    assert_int_equal(run(&fk, 1, &forked, &alarms), 0);
    assert_int_equal(forked, 0);
    assert_int_equal(alarms, 0);
    assert_int_equal(fk.proves, 2);
    assert_int_equal(fk.refreshes, 1);
}

static void test_spoiled_for_good(void **state)
{
    struct fake fk = {-1, 0, 0};
    unsigned alarms;
    int forked = -1;
    (void)state;

    assert_int_equal(run(&fk, 1, &forked, &alarms), GL_EVERIFY);
    assert_int_equal(forked, 1);
    assert_int_equal(alarms, 1);
    assert_int_equal(fk.proves, 2);
    assert_int_equal(fk.refreshes, 1);
}

static void test_no_refresh(void **state)
{
    struct fake fk = {1, 0, 0};
    unsigned alarms;
    int forked = -1;
    (void)state;

    assert_int_equal(run(&fk, 0, &forked, &alarms), GL_EVERIFY);
    assert_int_equal(forked, 1);
    assert_int_equal(alarms, 1);
    assert_int_equal(fk.proves, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_spoiled_once),
        cmocka_unit_test(test_spoiled_for_good),
        cmocka_unit_test(test_no_refresh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

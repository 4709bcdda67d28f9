/*
 * test_client_state: the monitor's progress file (client/state.c): what
 * state_save_progress writes loads back, and a damaged file is refused
 * with its line and what is wrong (the monitor prints it and starts over).
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../client/cli.c"
#include "../../client/state.c"

#define HEADER "glasslog-monitor-progress v1\n"
#define EDGE "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="

static char root[] = "/tmp/glasslog-state-XXXXXX";
static struct state st;

static int setup(void **state)
{
    struct gl_verifier v;
    (void)state;

    if (mkdtemp(root) == NULL)
        return -1;
    tu_load_verifier("notes/log.vkey", &v);
    return state_open(&st, root, &v) == 0 ? 0 : -1;
}

/* Removes what the tests made: ROOT/<logid>/{vkey,monitor}, the dirs. */
static int teardown(void **state)
{
    char path[STATE_PATH_MAX + 16];
    (void)state;

    state_close(&st);
    snprintf(path, sizeof(path), "%s/vkey", st.dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/monitor", st.dir);
    unlink(path);
    return rmdir(st.dir) == 0 && rmdir(root) == 0 ? 0 : -1;
}

static void write_progress(const char *text)
{
    char path[STATE_PATH_MAX + 16];
    FILE *f;

    snprintf(path, sizeof(path), "%s/monitor", st.dir);
    assert_non_null(f = fopen(path, "wb"));
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static void test_roundtrip(void **state)
{
    struct state_progress p, q;
    struct gl_err why = {42, "untouched"};
    (void)state;

    state_progress_init(&p);
    state_progress_init(&q);
    p.range.size = 5;
    memset(p.range.edge[0], 1, 32);
    memset(p.range.edge[2], 2, 32);
    assert_int_equal(gl_buf_append_str(&p.target, "a checkpoint note\n"), 0);
    assert_int_equal(state_save_progress(&st, &p), 0);
    assert_int_equal(state_load_progress(&st, &q, &why), 0);
    assert_int_equal(q.range.size, 5);
    assert_memory_equal(q.range.edge[2], p.range.edge[2], 32);
    assert_int_equal(q.target.len, p.target.len);
    assert_int_equal(why.line, 42); /* success leaves why alone */
    assert_string_equal(why.reason, "untouched");
    state_progress_release(&p);
    state_progress_release(&q);
}

static void test_damaged(void **state)
{
    static const struct {
        const char *text;
        size_t line;
        const char *why;
    } bad[] = {
        {"bogus\n", 1, "the first line is not glasslog-monitor-progress v1"},
        {HEADER "check 5\n", 2, "expected a \"checked \" line"},
        {HEADER "checked x\n", 2, "checked is not a tree size"},
        {HEADER "checked 5\nedge 0 AAAA\n", 3, "the edge is not base64 of 32 bytes"},
        {HEADER "checked 5\nedge 0 " EDGE "\n", 4, "missing line"},
        {HEADER "checked 5\nedge 0 " EDGE "\nedge 1 " EDGE "\n", 4,
         "expected a \"edge 2 \" line"},
        {HEADER "checked 1\nedge 0 " EDGE "\ntarget", 4,
         "line does not end with a newline"},
        {HEADER "checked 1\nedge 0 " EDGE "\ntarget x\n", 4,
         "expected a \"target\" line"},
        {HEADER "checked 1\nedge 0 " EDGE "\ntarget\n", 5, "no target checkpoint"},
    };
    struct state_progress p;
    struct gl_err why;
    (void)state;

    state_progress_init(&p);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_progress(bad[i].text);
        tu_expect_why(state_load_progress(&st, &p, &why), &why, GL_EPARSE, bad[i].line,
                      bad[i].why);
    }
    assert_int_equal(state_drop_progress(&st), 0);
    tu_expect_why(state_load_progress(&st, &p, &why), &why, GL_ENOTFOUND, 0,
                  "no progress file");
    state_progress_release(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_damaged),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

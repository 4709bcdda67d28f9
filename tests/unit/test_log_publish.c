/*
 * Unit tests of log/publish.c: which checkpoint is served. A follower of a
 * shared store adopts the sequencer's served checkpoint, which may be
 * larger than every checkpoint in its own history (a front-end that
 * sequenced once keeps its last one); in fail-open mode neither the
 * shutdown's publish_serve_newest nor a quorum lost afterwards may then
 * serve that older checkpoint: the served size never goes down.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "glasslog/checkpoint.h"
#include "glasslog/key.h"
#include "glasslog/policy.h"
#include "../../log/publish.h"
#include "testutil.h"

static int served_calls;

static void on_served(void *ctx)
{
    (void)ctx;
    served_calls++;
}

/* The log's checkpoint of size (root: the byte size), into out. */
static void ck(const struct gl_signer *k, uint64_t size, struct gl_buf *out)
{
    uint8_t root[GL_HASH_LEN];

    memset(root, (int)size, sizeof(root));
    gl_buf_reset(out);
    assert_int_equal(gl_checkpoint_sign(k->name, size, root, k, out), 0);
}

static void test_adopted_size_never_goes_down(void **state)
{
    char wv[256], text[1024];
    struct gl_signer k;
    struct gl_policy *pol = NULL;
    struct publish *p = NULL;
    struct publish_config cfg = {0, 1000, NULL, on_served, NULL};
    struct gl_buf own, adopted;
    const struct gl_buf *note;
    uint64_t size = 0;
    uv_loop_t loop;
    (void)state;

    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(gl_signer_generate("example.com/log", GL_KEY_NOTE, &k), 0);
    tu_gen_vkey("w.example", GL_KEY_COSIG, wv, sizeof(wv));
    /* a witness nobody listens for: the loop never runs, so it never fails */
    snprintf(text, sizeof(text), "witness w %s http://127.0.0.1:1/\nquorum w\n", wv);
    assert_int_equal(gl_policy_parse(text, strlen(text), &pol, NULL), 0);
    assert_int_equal(publish_new(&loop, pol, &cfg, &p), 0);
    gl_buf_init(&own, 4096);
    gl_buf_init(&adopted, 4096);

    ck(&k, 5, &own); /* this front-end's own last checkpoint */
    publish_checkpoint(p, own.data, own.len, 5);
    ck(&k, 9, &adopted); /* the new sequencer's, served there */
    publish_adopt(p, adopted.data, adopted.len, 9);
    publish_served(p, &note, &size);
    assert_non_null(note);
    assert_int_equal(size, 9);
    assert_int_equal(served_calls, 1);

    publish_serve_newest(p); /* the fail-open shutdown */
    publish_served(p, &note, &size);
    assert_non_null(note);
    assert_int_equal(size, 9);
    assert_int_equal(note->len, adopted.len);
    assert_memory_equal(note->data, adopted.data, adopted.len);
    assert_int_equal(served_calls, 1);

    publish_close(p);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    publish_free(p);
    assert_int_equal(uv_loop_close(&loop), 0);
    gl_buf_release(&own);
    gl_buf_release(&adopted);
    gl_signer_wipe(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adopted_size_never_goes_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

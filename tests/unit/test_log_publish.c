/*
 * Unit tests of log/publish.c: which checkpoint is served. A follower of a
 * shared store adopts the sequencer's served checkpoint, which may be
 * larger than every checkpoint in its own history (a front-end that
 * sequenced once keeps its last one); in fail-open mode neither the
 * shutdown's publish_serve_newest nor a quorum lost afterwards may then
 * serve that older checkpoint: the served size never goes down.
 *
 * publish_probe against a fake witness (a thread answering scripted
 * statuses and bodies on a loopback socket): a witness that holds our
 * size and then answers the add-checkpoint from that size with 409 and
 * no body (tlog-witness v1.0.0: another root of that size), with 409
 * naming that size, or with 422, holds another tree: GL_ESTATE; a 409
 * naming a larger size (it moved on) or a 200 is no conflict. A witness
 * whose first 409 names 50 without the final newline holds 50, more than
 * our 5: publish_probe refuses (the size is not read as 5, its last digit
 * dropped), after that one request. A policy naming no witness ("quorum
 * none") shows nothing: the probe of a copy (every witness must answer)
 * refuses it rather than count "every one of none" as an answer. A
 * probe with a checkpoint behind the stored size (a shared store's
 * front-end probes with the one marked durable) refuses only a witness
 * that cosigned more than the store holds.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <uv.h>

#include "glasslog/checkpoint.h"
#include "glasslog/cosig.h"
#include "glasslog/note.h"
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

/* A fake witness: answers its scripted (status, body) pairs, one per
 * connection, in order; records the first line of each request body. */
struct fake {
    int fd, port, n;
    struct {
        int status;
        const char *body;
    } ans[2];
    char line[256]; /* room for a body made by the test (a cosignature) */
    char old[2][32];
    int served; /* connections answered */
    pthread_t t;
};

static void *fake_run(void *arg)
{
    struct fake *f = arg;

    for (int i = 0; i < f->n; i++) {
        char req[8192], out[256];
        size_t got = 0, need = 0;
        const char *end = NULL, *cl;
        int c = accept(f->fd, NULL, NULL);

        if (c < 0)
            break;
        while (got < sizeof(req) - 1) { /* the head, then Content-Length bytes */
            ssize_t k = read(c, req + got, sizeof(req) - 1 - got);
            if (k <= 0)
                break;
            got += (size_t)k;
            req[got] = 0;
            if (end == NULL && (end = strstr(req, "\r\n\r\n")) != NULL) {
                cl = strstr(req, "Content-Length: ");
                need = (size_t)(end + 4 - req) + (cl ? strtoul(cl + 16, NULL, 10) : 0);
            }
            if (end != NULL && got >= need)
                break;
        }
        if (end != NULL)
            sscanf(end + 4, "%31[^\n]", f->old[i]);
        snprintf(out, sizeof(out),
                 "HTTP/1.1 %d X\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                 "Connection: close\r\n\r\n%s",
                 f->ans[i].status, strlen(f->ans[i].body), f->ans[i].body);
        if (write(c, out, strlen(out)) < 0)
            i = f->n;
        f->served++;
        close(c);
    }
    return NULL;
}

/* f listens on a loopback port of the kernel's choice (f->fd, f->port). */
static void fake_listen(struct fake *f)
{
    struct sockaddr_in a = {0};
    socklen_t alen = sizeof(a);

    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(f->fd >= 0);
    assert_int_equal(bind(f->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(f->fd, 4), 0);
    assert_int_equal(getsockname(f->fd, (struct sockaddr *)&a, &alen), 0);
    f->port = ntohs(a.sin_port);
}

/* A publisher on its own loop whose policy has one witness w at
 * 127.0.0.1:port (timeout_ms per request), and our checkpoint of size 5
 * in note; probe_close frees it all. */
struct probe_env {
    uv_loop_t loop;
    struct gl_signer k, w; /* the log's key, the witness's */
    struct publish *p;
    struct gl_buf note;
};

static void probe_open(struct probe_env *e, int port, int timeout_ms)
{
    struct publish_config cfg = {0, timeout_ms, NULL, on_served, NULL};
    struct gl_policy *pol = NULL;
    char wv[256], text[1024];

    assert_int_equal(uv_loop_init(&e->loop), 0);
    assert_int_equal(gl_signer_generate("example.com/log", GL_KEY_NOTE, &e->k), 0);
    assert_int_equal(gl_signer_generate("w.example", GL_KEY_COSIG, &e->w), 0);
    tu_vkey_text(&e->w, wv, sizeof(wv));
    snprintf(text, sizeof(text), "witness w %s http://127.0.0.1:%d/\nquorum w\n", wv,
             port);
    assert_int_equal(gl_policy_parse(text, strlen(text), &pol, NULL), 0);
    assert_int_equal(publish_new(&e->loop, pol, &cfg, &e->p), 0);
    gl_buf_init(&e->note, 4096);
    ck(&e->k, 5, &e->note);
}

static void probe_close(struct probe_env *e)
{
    publish_close(e->p);
    assert_int_equal(uv_run(&e->loop, UV_RUN_DEFAULT), 0);
    publish_free(e->p);
    assert_int_equal(uv_loop_close(&e->loop), 0);
    gl_buf_release(&e->note);
    gl_signer_wipe(&e->k);
    gl_signer_wipe(&e->w);
}

/* publish_probe of our checkpoint of size 5, the store holding `stored`,
 * against a fake witness that answers its first request with 409 first,
 * then (status, body); returns publish_probe's result and the number of
 * requests it made (*nreq). */
static int probe_script_stored(uint64_t stored, const char *first, int status,
                               const char *body, int *nreq)
{
    struct fake f = {0};
    struct probe_env e;
    int rc;

    f.n = 2;
    f.ans[0].status = 409;
    f.ans[0].body = first;
    f.ans[1].status = status;
    f.ans[1].body = body;
    fake_listen(&f);
    assert_int_equal(pthread_create(&f.t, NULL, fake_run, &f), 0);

    probe_open(&e, f.port, 5000);
    rc = publish_probe(e.p, e.note.data, e.note.len, 5, stored, 0);
    shutdown(f.fd, SHUT_RDWR); /* ends an accept waiting for no request */
    assert_int_equal(pthread_join(f.t, NULL), 0);
    close(f.fd);
    assert_string_equal(f.old[0], "old 0"); /* the first to learn the size */
    *nreq = f.served;
    probe_close(&e);
    return rc;
}

static int probe_script(const char *first, int status, const char *body, int *nreq)
{
    return probe_script_stored(5, first, status, body, nreq);
}

/* As probe_script with a first answer of 409 "5": the probe then asks
 * again from 5. */
static int probe_against(int status, const char *body)
{
    int n = 0;
    int rc = probe_script("5\n", status, body, &n);

    assert_int_equal(n, 2);
    return rc;
}

static void test_probe_conflict_409(void **state)
{
    (void)state;
    assert_int_equal(probe_against(409, ""), GL_ESTATE);
    assert_int_equal(probe_against(409, "5\n"), GL_ESTATE);
    assert_int_equal(probe_against(422, "bad proof\n"), GL_ESTATE);
}

/* 409 "50" with no newline: the witness holds 50, ahead of our 5. */
static void test_probe_size_without_newline(void **state)
{
    int n = 0;
    (void)state;
    assert_int_equal(probe_script("50", 409, "50", &n), GL_ESTATE);
    assert_int_equal(n, 1);
    assert_int_equal(probe_script("50\n", 409, "50\n", &n), GL_ESTATE);
    assert_int_equal(n, 1);
}

/* A shared store's front-end probes with the checkpoint marked durable
 * (5), behind the stored size (10): a witness that cosigned 7 or 10 (the
 * sequencer released them) proves nothing lost, and is not asked again;
 * one that cosigned 11, more than the store holds, does. */
static void test_probe_marked_behind_stored(void **state)
{
    int n = 0;
    (void)state;
    assert_int_equal(probe_script_stored(10, "7\n", 409, "7\n", &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(probe_script_stored(10, "10\n", 409, "10\n", &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(probe_script_stored(10, "11\n", 409, "11\n", &n), GL_ESTATE);
    assert_int_equal(n, 1);
    /* at the marked size itself the roots are compared, as always */
    assert_int_equal(probe_script_stored(10, "5\n", 409, "", &n), GL_ESTATE);
    assert_int_equal(n, 2);
}

static void test_probe_no_conflict(void **state)
{
    int n = 0;
    (void)state;
    assert_int_equal(probe_against(200, "\u2014 w.example AAAA\n"), 0);
    /* moved on between the two questions, within what the store holds */
    assert_int_equal(probe_script_stored(10, "5\n", 409, "7\n", &n), 0);
    assert_int_equal(n, 2);
}

/* The second answer names a size above the stored one (the witness moved
 * on meanwhile, past what this store holds): data lost, as when the
 * first answer names it. */
static void test_probe_second_answer_ahead(void **state)
{
    (void)state;
    assert_int_equal(probe_against(409, "7\n"), GL_ESTATE);
}

/* A copy is shown current only by a signed answer: a 200 without a
 * valid cosignature by the witness's key (a stale URL, a catch-all proxy)
 * shows nothing, so a copy's probe (every witness must answer) refuses
 * the start, and so does one dated more than GL_COSIG_FUTURE_SLACK ahead
 * (verifiers would not count it); a 200 with the witness's cosignature of
 * our checkpoint lets it start. */
static void test_probe_every_200_signed(void **state)
{
    struct gl_buf line;
    (void)state;

    gl_buf_init(&line, 256);
    for (int kind = 0; kind < 3; kind++) { /* garbage, signed, signed ahead */
        struct fake f = {0};
        struct probe_env e;
        struct gl_note *n = NULL;

        fake_listen(&f);
        probe_open(&e, f.port, 5000);
        assert_int_equal(gl_note_parse((char *)e.note.data, e.note.len, &n, NULL), 0);
        gl_buf_reset(&line);
        assert_int_equal(gl_cosig_sign(&e.w, n->text, n->text_len,
                                       (uint64_t)time(NULL) + (kind == 2 ? 1000 : 0),
                                       &line),
                         0);
        gl_note_free(n);
        assert_true(line.len < sizeof(f.line));
        memcpy(f.line, line.data, line.len);
        f.n = 1;
        f.ans[0].status = 200;
        f.ans[0].body = kind > 0 ? f.line : "hello\n";
        assert_int_equal(pthread_create(&f.t, NULL, fake_run, &f), 0);
        assert_int_equal(publish_probe(e.p, e.note.data, e.note.len, 5, 5, 1),
                         kind == 1 ? 0 : GL_ESTATE);
        assert_int_equal(pthread_join(f.t, NULL), 0);
        close(f.fd);
        assert_int_equal(f.served, 1);
        probe_close(&e);
    }
    gl_buf_release(&line);
}

/* A witness that does not answer (nothing listens on its port): skipped
 * by the ordinary probe, refused when every witness must answer (a store
 * that is a copy). */
static void test_probe_every_unreachable(void **state)
{
    struct sockaddr_in a = {0};
    socklen_t alen = sizeof(a);
    struct probe_env e;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    (void)state;

    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    close(fd); /* the port is now closed: connections are refused */
    probe_open(&e, ntohs(a.sin_port), 2000);
    assert_int_equal(publish_probe(e.p, e.note.data, e.note.len, 5, 5, 0), 0);
    assert_int_equal(publish_probe(e.p, e.note.data, e.note.len, 5, 5, 1), GL_ESTATE);
    probe_close(&e);
}

/* No witness in the policy: the ordinary probe has nobody to ask (0); a
 * copy's probe, where every witness must answer, is refused. */
static void test_probe_every_no_witness(void **state)
{
    struct publish_config cfg = {1, 1000, NULL, on_served, NULL};
    struct gl_policy *pol = NULL;
    struct probe_env e;
    (void)state;

    assert_int_equal(uv_loop_init(&e.loop), 0);
    assert_int_equal(gl_signer_generate("example.com/log", GL_KEY_NOTE, &e.k), 0);
    assert_int_equal(gl_policy_parse("quorum none\n", 12, &pol, NULL), 0);
    assert_int_equal(gl_policy_nwitnesses(pol), 0);
    assert_int_equal(publish_new(&e.loop, pol, &cfg, &e.p), 0);
    gl_buf_init(&e.note, 4096);
    ck(&e.k, 5, &e.note);
    assert_int_equal(publish_probe(e.p, e.note.data, e.note.len, 5, 5, 0), 0);
    assert_int_equal(publish_probe(e.p, e.note.data, e.note.len, 5, 5, 1), GL_ESTATE);
    probe_close(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adopted_size_never_goes_down),
        cmocka_unit_test(test_probe_conflict_409),
        cmocka_unit_test(test_probe_size_without_newline),
        cmocka_unit_test(test_probe_no_conflict),
        cmocka_unit_test(test_probe_second_answer_ahead),
        cmocka_unit_test(test_probe_every_200_signed),
        cmocka_unit_test(test_probe_marked_behind_stored),
        cmocka_unit_test(test_probe_every_unreachable),
        cmocka_unit_test(test_probe_every_no_witness),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

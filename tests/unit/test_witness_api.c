/*
 * test_witness_api: the witness's evidence list (witness/api.c GET
 * /evidence) in pages, and the feeder reading a peer's list page by page,
 * in one process: witness A (engine, RocksDB store, api_handle on a real
 * gl_http_server on 127.0.0.1:0, the loop in the test thread) and witness
 * B (engine, store, feeder with A as its only peer); a client thread makes
 * every check and records it (cmocka cannot fail from another thread); the
 * test thread asserts once the loop has ended.
 *
 * A's store is seeded with NJUNK records under the ids 0...0 || i (2 bytes,
 * big-endian: they sort before any real id) whose files are no evidence
 * (listed with kind "unknown" and an empty origin), and one real evidence
 * file of log a.example/log (a split view at size 1) under its id, last in
 * the list's order (the store's key order). So the list is NJUNK + 1
 * entries, more than two pages, and only the last page names a file B can
 * import.
 *
 * Covered: the pages with the default and with a smaller limit cover every
 * record exactly once, in the expected order, each page at most the limit,
 * with a Link header naming exactly the next page (none on the last);
 * from past the end gives [] without a Link; unknown parameters are
 * ignored; bad from and limit values (not decimal, signed, leading zeros,
 * empty, overflow, limit 0 or above 256, given twice, no '=') get 400 with
 * one reason line; B's feeder follows A's pages to the real file on the
 * last page and imports it. Bounds against hostile peers: a feeder whose
 * peers are "fwd", a list of full pages whose Link always names the next
 * one (endless), and "back", whose Link names its first page again, reads
 * exactly 32 pages of fwd and one of back a round.
 *
 * test_add_inflight: the places of add-checkpoints in flight (api.h), 4
 * of them with 3 per client (api_limit), the threadpool (one thread)
 * held by a blocker so every request stays in flight: three posts from
 * 127.0.0.1 take places, its fourth gets 503 (Retry-After: 1, the
 * client's reason), one from 127.0.0.2 takes the last place and its next
 * gets 503 (the total's reason); /metrics shows 4 in flight and 2
 * refused. One client hangs up while waiting. Once the blocker ends, the
 * three still connected are answered (200 or 409), every place is given
 * back (the abandoned request's too) and a new post from 127.0.0.1 is
 * cosigned.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "../../witness/api.h"
#include "../../witness/engine.h"
#include "../../witness/feeder.h"
#include "../../witness/logs.h"
#include "../../witness/peers.h"
#include "../../witness/wstore.h"
#include "glasslog/checkpoint.h"
#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/evidence.h"
#include "glasslog/key.h"
#include "http_client.h"
#include "http_server.h"

#define NJUNK 600            /* records that are no evidence */
#define NREC (NJUNK + 1)     /* and the real one, last */
#define PAGE 256             /* the server's default and largest limit */
#define FOUND_AT 1700000000u /* found_at of junk record i: FOUND_AT + i */

struct fx {
    char dir[512], base[64];
    char ids[NREC][GL_HASH_HEX_LEN + 1]; /* the list as the test expects it */
    struct gl_signer ka, wa, wb;
    struct logs_list logs;
    struct peers_list peers;
    struct wstore *sa, *sb;
    struct engine *ea, *eb;
    struct feeder *fb;
    uv_loop_t loop;
    uv_async_t done;
    struct api api;
    struct gl_http_server *http;
    struct gl_http_server *hostile; /* two peers lying about their list */
    char hbase[64];
    atomic_uint fwd, back; /* list pages they served */
    int closed;
    /* client thread */
    struct gl_http_client *c;
    struct tu_checks ck;
    uint64_t imported;
};

#define CHECK(f, cond) tu_check(&(f)->ck, (cond), #cond, __LINE__)

/* GETs base + path; r->header gets the Link header. */
static void get(struct fx *f, const char *path, struct gl_http_response *r)
{
    char url[256];

    snprintf(url, sizeof(url), "%s%s", f->base, path);
    if (!CHECK(f, gl_http_get(f->c, url, 1 << 22, 10000, r) == 0))
        r->status = 0;
}

/* Reads the list with limit (0: the default) from the start, following
 * each page's Link; checks the pages and that they hold f->ids in order. */
static void read_all(struct fx *f, size_t limit)
{
    size_t want_limit = limit != 0 ? limit : PAGE, from = 0, pages = 0;
    char path[128];
    int ok = 1;

    if (limit != 0)
        snprintf(path, sizeof(path), "/evidence?limit=%zu", limit);
    else
        snprintf(path, sizeof(path), "/evidence");
    while (ok && pages++ <= NREC) {
        struct gl_http_response r;
        cJSON *list = NULL;
        const cJSON *o;
        size_t n = 0, want_n = NREC - from < want_limit ? NREC - from : want_limit;
        char link[128];

        get(f, path, &r);
        ok = CHECK(f, r.status == 200) &&
             CHECK(f, strcmp(r.content_type, "application/json") == 0) &&
             CHECK(f, (list = cJSON_ParseWithLength((const char *)r.body.data,
                                                    r.body.len)) != NULL) &&
             CHECK(f, cJSON_IsArray(list)) &&
             CHECK(f, (size_t)cJSON_GetArraySize(list) == want_n);
        const cJSON *each = ok ? list : NULL;
        cJSON_ArrayForEach(o, each)
        {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
            const cJSON *at = cJSON_GetObjectItemCaseSensitive(o, "found_at");
            size_t i = from + n++;
            ok =
                CHECK(f, cJSON_IsString(id) && strcmp(id->valuestring, f->ids[i]) == 0) &&
                CHECK(f, cJSON_IsNumber(at) &&
                             (i == NJUNK || at->valuedouble == (double)(FOUND_AT + i)));
        }
        cJSON_Delete(list);
        from += n;
        if (ok && from < NREC) {
            snprintf(link, sizeof(link), "<evidence?from=%zu&limit=%zu>; rel=\"next\"",
                     from, want_limit);
            ok = CHECK(f, r.has_header && strcmp(r.header, link) == 0);
            snprintf(path, sizeof(path), "/evidence?from=%zu&limit=%zu", from,
                     want_limit);
        } else if (ok) {
            CHECK(f, !r.has_header); /* the last page names no next one */
            gl_http_response_release(&r);
            break;
        }
        gl_http_response_release(&r);
    }
    CHECK(f, from == NREC);
    CHECK(f, pages == (NREC + want_limit - 1) / want_limit);
}

/* Names path in the last failure if it came after before. */
static void failed_at(struct fx *f, int before, const char *path, long status)
{
    if (f->ck.failures > before && f->ck.failures <= TU_CHECKS_MAX) {
        char *m = f->ck.failed[f->ck.failures - 1];
        size_t used = strlen(m);
        snprintf(m + used, sizeof(f->ck.failed[0]) - used, " (GET %s: %ld)", path,
                 status);
    }
}

/* GET path answers 200 with a JSON array of n entries, the first being
 * record first, and a Link exactly when records follow them. */
static void expect_page(struct fx *f, const char *path, int n, size_t first)
{
    struct gl_http_response r;
    cJSON *list;
    const cJSON *id;
    int before = f->ck.failures;

    get(f, path, &r);
    list = cJSON_ParseWithLength((const char *)r.body.data, r.body.len);
    CHECK(f, r.status == 200 && cJSON_IsArray(list) && cJSON_GetArraySize(list) == n &&
                 r.has_header == (n > 0 && first + (size_t)n < NREC));
    id = n > 0 ? cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, 0), "id")
               : NULL;
    CHECK(f,
          n == 0 || (cJSON_IsString(id) && strcmp(id->valuestring, f->ids[first]) == 0));
    failed_at(f, before, path, r.status);
    cJSON_Delete(list);
    gl_http_response_release(&r);
}

/* GET path answers 400 with one non-empty reason line. */
static void expect_400(struct fx *f, const char *path)
{
    struct gl_http_response r;
    const char *b;
    int before = f->ck.failures;

    get(f, path, &r);
    b = (const char *)r.body.data;
    CHECK(f, r.status == 400 && r.body.len > 1 && b[r.body.len - 1] == '\n' &&
                 memchr(b, '\n', r.body.len) == b + r.body.len - 1);
    failed_at(f, before, path, r.status);
    gl_http_response_release(&r);
}

static void scenario(struct fx *f)
{
    struct feeder_stats st;
    char path[96];

    read_all(f, 0);
    read_all(f, 100);
    read_all(f, 7);
    snprintf(path, sizeof(path), "/evidence?from=%d&limit=5", NJUNK);
    expect_page(f, path, 1, NJUNK);
    snprintf(path, sizeof(path), "/evidence?limit=5&from=%d", NREC);
    expect_page(f, path, 0, 0);
    expect_page(f, "/evidence?from=18446744073709551615", 0, 0);
    expect_page(f, "/evidence?y", 256, 0);
    expect_page(f, "/evidence?x=1&limit=3&from=7&", 3, 7);
    expect_page(f, "/evidence?limit=256&from=599", 2, 599);
    expect_400(f, "/evidence?from=abc");
    expect_400(f, "/evidence?from=-1");
    expect_400(f, "/evidence?from=+1");
    expect_400(f, "/evidence?from=01");
    expect_400(f, "/evidence?from=");
    expect_400(f, "/evidence?from=1.5");
    expect_400(f, "/evidence?from=%31");
    expect_400(f, "/evidence?from=18446744073709551616");
    expect_400(f, "/evidence?limit=0");
    expect_400(f, "/evidence?limit=257");
    expect_400(f, "/evidence?limit=99999999999999999999999");
    expect_400(f, "/evidence?limit=-5");
    expect_400(f, "/evidence?from=1&from=2");
    expect_400(f, "/evidence?limit=1&limit=1");
    expect_400(f, "/evidence?from");

    /* B's feeder reads A's pages and imports the file on the last one */
    for (int i = 0; i < 150 && !engine_has_evidence(f->eb, f->ids[NJUNK]); i++)
        nanosleep(&(struct timespec){0, 100000000}, NULL);
    CHECK(f, engine_has_evidence(f->eb, f->ids[NJUNK]));
    feeder_stop(f->fb);
    feeder_stats(f->fb, &st);
    f->imported = st.evidence_imported;
    CHECK(f, st.evidence_imported == 1);
}

/* Feeder C, gossiping with the hostile peers, runs two rounds. */
static void hostile_rounds(struct fx *f)
{
    char vk[GL_KEY_TEXT_MAX + 1], text[2 * GL_KEY_TEXT_MAX + 256];
    struct peers_list peers;
    struct feeder_stats st = {0};
    struct feeder *fc;
    struct gl_err why;
    unsigned fwd, back;
    int before = f->ck.failures;

    tu_vkey_text(&f->wa, vk, sizeof(vk));
    snprintf(text, sizeof(text), "witness fwd %s %s/fwd\nwitness back %s %s/back\n", vk,
             f->hbase, vk, f->hbase);
    if (!CHECK(f, peers_parse(text, strlen(text), &peers, &why) == 0))
        return;
    struct feeder_config cfg = {f->eb, &f->logs, &peers, 1, 5000, {0}};
    if (CHECK(f, feeder_start(&cfg, &fc) == 0)) {
        for (int i = 0; i < 100 && st.rounds < 2; i++) {
            nanosleep(&(struct timespec){0, 50000000}, NULL);
            feeder_stats(fc, &st);
        }
        feeder_stop(fc);
        feeder_stats(fc, &st);
        feeder_free(fc);
    }
    fwd = atomic_load(&f->fwd);
    back = atomic_load(&f->back);
    /* rounds counts finished rounds: a third may have begun */
    CHECK(f, st.rounds >= 2);
    CHECK(f, fwd >= 32 * st.rounds && fwd <= 32 * (st.rounds + 1));
    CHECK(f, back >= st.rounds && back <= st.rounds + 1);
    if (f->ck.failures > before && f->ck.failures <= TU_CHECKS_MAX) {
        char *m = f->ck.failed[f->ck.failures - 1];
        size_t used = strlen(m);
        snprintf(m + used, sizeof(f->ck.failed[0]) - used,
                 " (%u fwd, %u back pages in %llu rounds)", fwd, back,
                 (unsigned long long)st.rounds);
    }
    peers_release(&peers);
}

static void *client_main(void *arg)
{
    struct fx *f = arg;
    struct gl_http_client_config cc = {0};

    cc.capture_header = "Link";
    if (CHECK(f, gl_http_client_new(&cc, &f->c) == 0)) {
        scenario(f);
        hostile_rounds(f);
        gl_http_client_free(f->c);
    }
    uv_async_send(&f->done);
    return NULL;
}

/* --- the server side ------------------------------------------------------------ */

static void on_closed(void *arg)
{
    ((struct fx *)arg)->closed++;
}

static void on_client_done(uv_async_t *h)
{
    struct fx *f = h->data;

    gl_http_server_close(f->http, on_closed, f);
    gl_http_server_close(f->hostile, on_closed, f);
    api_close(&f->api);
    uv_close((uv_handle_t *)h, NULL);
}

/* The hostile peers: /fwd/evidence?from=K answers 256 entries for no log
 * we know and Link from=K+256; /back/evidence answers them with Link
 * from=0; anything else 404. */
static int hostile_handle(void *ctx, struct gl_http_req *req)
{
    struct fx *f = ctx;
    int fwd = strcmp(req->path, "/fwd/evidence") == 0;
    int back = strcmp(req->path, "/back/evidence") == 0;
    struct gl_http_header h[1] = {{"Link", NULL}};
    char link[96], *body;
    unsigned long long from = 0;
    size_t len = 0, max = 256 * 128 + 2;
    int rc;

    if (!fwd && !back)
        return gl_http_reply(req, 404, "text/plain", NULL, 0, "no\n", 3);
    atomic_fetch_add(fwd ? &f->fwd : &f->back, 1);
    if (strncmp(req->query, "from=", 5) == 0)
        from = strtoull(req->query + 5, NULL, 10);
    snprintf(link, sizeof(link), "<evidence?from=%llu&limit=256>; rel=\"next\"",
             fwd ? from + 256 : 0);
    h[0].value = link;
    body = malloc(max);
    if (body == NULL)
        return GL_ENOMEM;
    body[len++] = '[';
    for (int i = 0; i < 256; i++)
        len += (size_t)snprintf(body + len, max - len,
                                "%s{\"id\":\"%064x\",\"origin\":\"x\"}", i > 0 ? "," : "",
                                i);
    body[len++] = ']';
    rc = gl_http_reply(req, 200, "application/json", h, 1, body, len);
    free(body);
    return rc;
}

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[700];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

/* A's store: the junk records and the real evidence, each with its file
 * copy in evdir (so none is announced again at start). */
static void seed(struct fx *f, const char *evdir)
{
    struct wstore_batch *b;
    struct gl_buf n1, n2, file;
    struct gl_verifier va;
    uint8_t id[GL_HASH_LEN], root[GL_HASH_LEN];
    char text[64], source[32];

    assert_int_equal(wstore_batch_new(f->sa, &b), 0);
    for (unsigned i = 0; i < NJUNK; i++) {
        int n = snprintf(text, sizeof(text), "not evidence %u\n", i);
        memset(id, 0, sizeof(id));
        id[GL_HASH_LEN - 2] = (uint8_t)(i >> 8);
        id[GL_HASH_LEN - 1] = (uint8_t)i;
        snprintf(source, sizeof(source), "test %u", i);
        wstore_batch_put_evidence(b, id, FOUND_AT + i, source, text, (size_t)n);
        gl_hex_encode(id, GL_HASH_LEN, f->ids[i], sizeof(f->ids[i]));
        write_file(evdir, f->ids[i], text, (size_t)n);
    }
    gl_buf_init(&n1, 1 << 16);
    gl_buf_init(&n2, 1 << 16);
    gl_buf_init(&file, GL_EVIDENCE_MAX_SIZE);
    gl_signer_verifier(&f->ka, &va);
    memset(root, 1, sizeof(root));
    assert_int_equal(gl_checkpoint_sign(f->ka.name, 1, root, &f->ka, &n1), 0);
    memset(root, 2, sizeof(root));
    assert_int_equal(gl_checkpoint_sign(f->ka.name, 1, root, &f->ka, &n2), 0);
    assert_int_equal(gl_evidence_build(&va, 1, (const char *)n1.data, n1.len,
                                       (const char *)n2.data, n2.len, NULL, 0, &file,
                                       NULL),
                     0);
    assert_int_equal(gl_evidence_id((const char *)file.data, file.len, f->ids[NJUNK]), 0);
    assert_int_equal(
        gl_hex_decode_exact(f->ids[NJUNK], GL_HASH_HEX_LEN, id, GL_HASH_LEN, 1), 0);
    assert_true(memcmp(f->ids[NJUNK], f->ids[NJUNK - 1], GL_HASH_HEX_LEN) > 0);
    wstore_batch_put_evidence(b, id, FOUND_AT, "test", file.data, file.len);
    write_file(evdir, f->ids[NJUNK], file.data, file.len);
    assert_int_equal(wstore_batch_commit(b), 0);
    wstore_batch_free(b);
    gl_buf_release(&n1);
    gl_buf_release(&n2);
    gl_buf_release(&file);
}

static void test_evidence_pages(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    char path[4][600], vk[GL_KEY_TEXT_MAX + 1], text[2 * GL_KEY_TEXT_MAX + 256];
    struct gl_http_server_config hc;
    struct gl_err why;
    const char *swhy;
    pthread_t thread;
    int checks, failures;
    (void)state;

    assert_non_null(f);
    tu_tempdir("test_witness_api", f->dir, sizeof(f->dir));
    assert_int_equal(gl_signer_generate("a.example/log", GL_KEY_NOTE, &f->ka), 0);
    assert_int_equal(gl_signer_generate("wa.example", GL_KEY_COSIG, &f->wa), 0);
    assert_int_equal(gl_signer_generate("wb.example", GL_KEY_COSIG, &f->wb), 0);
    tu_vkey_text(&f->ka, vk, sizeof(vk));
    snprintf(text, sizeof(text), "logs/v0\nvkey %s\n", vk);
    assert_int_equal(logs_parse(text, strlen(text), &f->logs, &why), 0);
    for (int i = 0; i < 4; i++) {
        snprintf(path[i], sizeof(path[i]), "%s/%s", f->dir,
                 (const char *[]){"a", "a-ev", "b", "b-ev"}[i]);
        if (i % 2 == 1)
            assert_int_equal(mkdir(path[i], 0700), 0);
    }

    /* witness A, serving */
    assert_int_equal(wstore_open(path[0], 8, 1, &f->sa, &swhy), 0);
    seed(f, path[1]);
    struct engine_config eca = {f->sa, &f->logs, &f->wa, path[1], NULL, NULL, 0, 0};
    assert_int_equal(engine_new(&eca, &f->ea), 0);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(api_init(&f->api, &f->loop, f->ea, &f->logs, f->sa), 0);
    memset(&hc, 0, sizeof(hc));
    hc.listen = "127.0.0.1:0";
    assert_int_equal(gl_http_server_new(&f->loop, &hc, api_handle, &f->api, &f->http), 0);
    f->api.http = f->http;
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u",
             (unsigned)gl_http_server_port(f->http));
    assert_int_equal(gl_http_server_new(&f->loop, &hc, hostile_handle, f, &f->hostile),
                     0);
    snprintf(f->hbase, sizeof(f->hbase), "http://127.0.0.1:%u",
             (unsigned)gl_http_server_port(f->hostile));
    assert_int_equal(uv_async_init(&f->loop, &f->done, on_client_done), 0);
    f->done.data = f;

    /* witness B, gossiping with A */
    tu_vkey_text(&f->wa, vk, sizeof(vk));
    snprintf(text, sizeof(text), "witness wa %s %s\n", vk, f->base);
    assert_int_equal(peers_parse(text, strlen(text), &f->peers, &why), 0);
    assert_int_equal(wstore_open(path[2], 8, 1, &f->sb, &swhy), 0);
    struct engine_config ecb = {f->sb, &f->logs, &f->wb, path[3], NULL, NULL, 0, 0};
    assert_int_equal(engine_new(&ecb, &f->eb), 0);
    struct feeder_config fc = {f->eb, &f->logs, &f->peers, 1, 5000, {0}};
    assert_int_equal(feeder_start(&fc, &f->fb), 0);

    assert_int_equal(pthread_create(&thread, NULL, client_main, f), 0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_int_equal(f->closed, 2);
    gl_http_server_free(f->http);
    gl_http_server_free(f->hostile);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    api_release(&f->api);
    feeder_free(f->fb);
    engine_stop(f->ea);
    engine_free(f->ea);
    engine_stop(f->eb);
    engine_free(f->eb);
    wstore_close(f->sa);
    wstore_close(f->sb);
    logs_release(&f->logs);
    peers_release(&f->peers);
    gl_signer_wipe(&f->ka);
    gl_signer_wipe(&f->wa);
    gl_signer_wipe(&f->wb);
    tu_rmtree(f->dir);

    failures = tu_checks_report(&f->ck);
    checks = f->ck.checks;
    free(f);
    assert_int_equal(failures, 0);
    assert_true(checks > NREC);
}

/* --- add-checkpoints in flight ----------------------------------------------------- */

struct cap {
    char dir[512];
    uint16_t port;
    struct gl_signer ka, wa;
    struct logs_list logs;
    struct wstore *store;
    struct engine *engine;
    uv_loop_t loop;
    uv_async_t done;
    uv_work_t blocker;
    atomic_int release; /* the blocker ends once set */
    struct api api;
    struct gl_http_server *http;
    char body[2][4096]; /* add-checkpoint with old 0, with old 1 */
    size_t len[2];
    /* client thread */
    struct gl_http_client *c;
    struct tu_checks ck;
};

#define CCHECK(f, cond) tu_check(&(f)->ck, (cond), #cond, __LINE__)

/* A connection to the witness from address from (127.0.0.x), which has
 * sent POST /add-checkpoint with body k; -1 if that failed. */
static int cap_post(struct cap *f, const char *from, int k)
{
    struct sockaddr_in src = {.sin_family = AF_INET}, dst = {.sin_family = AF_INET};
    char head[256];
    int fd = socket(AF_INET, SOCK_STREAM, 0), n;

    dst.sin_port = htons(f->port);
    inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
    inet_pton(AF_INET, from, &src.sin_addr);
    n = snprintf(head, sizeof(head),
                 "POST /add-checkpoint HTTP/1.1\r\nHost: w\r\nConnection: close\r\n"
                 "Content-Length: %zu\r\n\r\n",
                 f->len[k]);
    if (fd < 0 || bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0 ||
        connect(fd, (struct sockaddr *)&dst, sizeof(dst)) != 0 ||
        write(fd, head, (size_t)n) != n ||
        write(fd, f->body[k], f->len[k]) != (ssize_t)f->len[k]) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Reads fd's answer to its end (at most ms) into buf (lower-cased head,
 * NUL-terminated), closes fd; its status, or 0 if none came. *body points
 * at the body in buf. */
static int cap_answer(int fd, int ms, char *buf, size_t max, const char **body)
{
    size_t n = 0;
    int status = 0;
    char *end;

    buf[0] = 0;
    *body = buf;
    if (fd < 0)
        return 0;
    while (n + 1 < max) {
        struct pollfd p = {fd, POLLIN, 0};
        ssize_t r;
        if (poll(&p, 1, ms) != 1 || (r = read(fd, buf + n, max - 1 - n)) <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    if ((end = strstr(buf, "\r\n\r\n")) == NULL)
        return 0;
    *body = end + 4;
    for (char *c = buf; c < end; c++)
        *c = (char)tolower((unsigned char)*c);
    sscanf(buf, "http/1.1 %d", &status);
    return status;
}

/* A 503 from fd with Retry-After: 1 and the reason line why. */
static void cap_expect_503(struct cap *f, int fd, const char *why)
{
    char buf[2048];
    const char *body;
    int status = cap_answer(fd, 3000, buf, sizeof(buf), &body);

    CCHECK(f, status == 503);
    CCHECK(f, strstr(buf, "\r\nretry-after: 1\r\n") != NULL);
    CCHECK(f, strcmp(body, why) == 0);
}

/* The value of metric name in /metrics, -1 if absent. */
static double cap_metric(struct cap *f, const char *name)
{
    struct gl_http_response r;
    char url[128], key[128];
    double v = -1;
    const char *at;

    snprintf(url, sizeof(url), "http://127.0.0.1:%u/metrics", (unsigned)f->port);
    snprintf(key, sizeof(key), "\n%s ", name);
    if (gl_http_get(f->c, url, 1 << 20, 5000, &r) != 0)
        return -1;
    if (gl_buf_putc(&r.body, 0) == 0 && (at = strstr((const char *)r.body.data, key)))
        v = strtod(at + strlen(key), NULL);
    gl_http_response_release(&r);
    return v;
}

/* Waits (at most 5 s) for add_inflight to be n. */
static int cap_inflight(struct cap *f, double n)
{
    for (int i = 0; i < 500; i++) {
        if (cap_metric(f, "glasslog_witness_add_inflight") == n)
            return 1;
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    }
    return 0;
}

static void cap_scenario(struct cap *f)
{
    static const char mine[] =
        "too many of this client's add-checkpoint requests in flight; retry\n";
    static const char all[] = "too many add-checkpoint requests in flight; retry\n";
    char buf[2048];
    const char *body;
    int fd[4], status;

    for (int i = 0; i < 3; i++)
        CCHECK(f, (fd[i] = cap_post(f, "127.0.0.1", 0)) >= 0);
    CCHECK(f, cap_inflight(f, 3));
    cap_expect_503(f, cap_post(f, "127.0.0.1", 0), mine);
    CCHECK(f, (fd[3] = cap_post(f, "127.0.0.2", 0)) >= 0);
    CCHECK(f, cap_inflight(f, 4));
    cap_expect_503(f, cap_post(f, "127.0.0.2", 0), all);
    CCHECK(f, cap_metric(f, "glasslog_witness_add_inflight_refused_total") == 2);
    close(fd[0]); /* hangs up: its request stays in flight */
    atomic_store(&f->release, 1);
    for (int i = 1; i < 4; i++) {
        status = cap_answer(fd[i], 10000, buf, sizeof(buf), &body);
        CCHECK(f, status == 200 || status == 409);
    }
    CCHECK(f, cap_inflight(f, 0));
    status = cap_answer(cap_post(f, "127.0.0.1", 1), 10000, buf, sizeof(buf), &body);
    CCHECK(f, status == 200 && strncmp(body, "\xe2\x80\x94 wa.example ", 14) == 0);
}

static void *cap_client(void *arg)
{
    struct cap *f = arg;

    if (CCHECK(f, gl_http_client_new(NULL, &f->c) == 0)) {
        cap_scenario(f);
        gl_http_client_free(f->c);
    }
    atomic_store(&f->release, 1);
    uv_async_send(&f->done);
    return NULL;
}

/* Holds the threadpool's one thread until the client says. */
static void cap_block(uv_work_t *w)
{
    struct cap *f = w->data;

    while (!atomic_load(&f->release))
        nanosleep(&(struct timespec){0, 1000000}, NULL);
}

static void cap_unblocked(uv_work_t *w, int status)
{
    (void)w;
    (void)status;
}

static void cap_closed(void *arg)
{
    (void)arg;
}

static void cap_client_done(uv_async_t *h)
{
    struct cap *f = h->data;

    gl_http_server_close(f->http, cap_closed, f);
    api_close(&f->api);
    uv_close((uv_handle_t *)h, NULL);
}

/* The two bodies: old 0 and old 1 before a checkpoint of size 1. */
static void cap_bodies(struct cap *f)
{
    struct gl_buf note;
    uint8_t root[GL_HASH_LEN];

    gl_buf_init(&note, 1 << 16);
    memset(root, 7, sizeof(root));
    assert_int_equal(gl_checkpoint_sign(f->ka.name, 1, root, &f->ka, &note), 0);
    for (int k = 0; k < 2; k++) {
        int n = snprintf(f->body[k], sizeof(f->body[k]), "old %d\n\n%.*s", k,
                         (int)note.len, (const char *)note.data);
        assert_true(n > 0 && (size_t)n < sizeof(f->body[k]));
        f->len[k] = (size_t)n;
    }
    gl_buf_release(&note);
}

static void test_add_inflight(void **state)
{
    struct cap *f = calloc(1, sizeof(*f));
    char path[2][600], vk[GL_KEY_TEXT_MAX + 1], text[GL_KEY_TEXT_MAX + 64];
    struct gl_http_server_config hc;
    struct gl_err why;
    const char *swhy;
    pthread_t thread;
    int failures;
    (void)state;

    assert_non_null(f);
    tu_tempdir("test_witness_api_cap", f->dir, sizeof(f->dir));
    assert_int_equal(gl_signer_generate("a.example/log", GL_KEY_NOTE, &f->ka), 0);
    assert_int_equal(gl_signer_generate("wa.example", GL_KEY_COSIG, &f->wa), 0);
    tu_vkey_text(&f->ka, vk, sizeof(vk));
    snprintf(text, sizeof(text), "logs/v0\nvkey %s\n", vk);
    assert_int_equal(logs_parse(text, strlen(text), &f->logs, &why), 0);
    cap_bodies(f);
    snprintf(path[0], sizeof(path[0]), "%s/w", f->dir);
    snprintf(path[1], sizeof(path[1]), "%s/ev", f->dir);
    assert_int_equal(mkdir(path[1], 0700), 0);
    assert_int_equal(wstore_open(path[0], 8, 1, &f->store, &swhy), 0);
    struct engine_config ec = {f->store, &f->logs, &f->wa, path[1], NULL, NULL, 0, 0};
    assert_int_equal(engine_new(&ec, &f->engine), 0);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(api_init(&f->api, &f->loop, f->engine, &f->logs, f->store), 0);
    assert_int_equal(api_limit(&f->api, 4, 3), 0);
    memset(&hc, 0, sizeof(hc));
    hc.listen = "127.0.0.1:0";
    assert_int_equal(gl_http_server_new(&f->loop, &hc, api_handle, &f->api, &f->http), 0);
    f->api.http = f->http;
    f->port = gl_http_server_port(f->http);
    assert_int_equal(uv_async_init(&f->loop, &f->done, cap_client_done), 0);
    f->done.data = f;
    f->blocker.data = f;
    assert_int_equal(uv_queue_work(&f->loop, &f->blocker, cap_block, cap_unblocked), 0);

    assert_int_equal(pthread_create(&thread, NULL, cap_client, f), 0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(pthread_join(thread, NULL), 0);
    gl_http_server_free(f->http);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    api_release(&f->api);
    engine_stop(f->engine);
    engine_free(f->engine);
    wstore_close(f->store);
    logs_release(&f->logs);
    gl_signer_wipe(&f->ka);
    gl_signer_wipe(&f->wa);
    tu_rmtree(f->dir);

    failures = tu_checks_report(&f->ck);
    assert_true(f->ck.checks > 10);
    free(f);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_inflight),
        cmocka_unit_test(test_evidence_pages),
    };

    /* test_add_inflight holds the threadpool with one blocker */
    setenv("UV_THREADPOOL_SIZE", "1", 1);

    return cmocka_run_group_tests(tests, NULL, NULL);
}

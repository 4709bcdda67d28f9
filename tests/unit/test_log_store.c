/*
 * test_log_store: the storage contract of log/store.h, one set of tests
 * run against both backends: "mem:" and RocksDB in a temporary directory.
 * What a batch writes is read back record by record and compared with what
 * the test put (entries, scan_entries in order and stopping at a gap or at
 * the callback's return, tiles and the prefix rule, scan_tiles per level,
 * the leaf index (one hash and many at once), every secondary-index kind with below
 * (UINT64_MAX: no bound), ascending order, max and set semantics), the read capacity, the
 * compare-and-set (a stale expect.size gets GL_ESTATE and writes nothing),
 * store_batch_count, puts over their caps failing the whole commit, the index version,
 * delete_tile, store_reopen (and, for RocksDB, closing and opening the directory again),
 * the create rules, concurrent readers seeing only whole batches (rule 5), store_reopen
 * while another thread reads, the bound on a reopen of the bound thread
 * (store_bound_thread) while another thread's call is under way (PostgreSQL: the
 * reconnect after that wait within the same bound; what a reopen given up
 * logs), and the longest index
 * key (a 256-byte subject with a 256-byte version). The mem backend's test hook fails
 * commits: nothing of a failed commit is written.
 *
 * With GL_TEST_PG set to a PostgreSQL server's URL without a database
 * (postgresql://USER@HOST:PORT, a server the test may create databases
 * on), every test also runs against the PostgreSQL backend, each in a
 * database of its own, plus its own tests: the schema version, two
 * handles (two glasslogd processes) racing to extend one state, and the
 * sequencer epoch of the compare-and-set, a warned COMMIT whose next
 * writing transaction fails for a reason other than a cancel (GL_EIO, no
 * endless retry), and the migration of a version 1
 * schema, the retried reopen's stale connections, a reopen on a server
 * that takes no writes (the test's database set read-only, and back; also
 * after a failed reopen; the store's URL setting target_session_attrs=any)
 * and a served note refused there, a store whose URL leaves
 * target_session_attrs out refusing a read-only server, a connection whose
 * session settings a server refused so (the next one is kept), and the bound on the
 * event loop's calls (store_bound_thread; a
 * few tests run again with the test's thread bound, so their calls take
 * the asynchronous path). Every backend: the token buckets of
 * store_bucket_take.
 * tests/integration/60-pg-store.sh starts such a server and runs them; without GL_TEST_PG
 * they are not run, and the test says so.
 */
#include "testutil.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <poll.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <libpq-fe.h>

#include "../../log/entryindex.h"
#include "../../log/store_impl.h"
#include "glasslog/error.h"
#include "glasslog/merkle.h"
#include "clock.h"

enum kind { MEM, ROCKSDB, PG };
static enum kind kind_mem = MEM, kind_rocksdb = ROCKSDB, kind_postgresql = PG;
/* PostgreSQL with the test's thread bound (store_bound_thread, far above
 * what any call takes here): its calls but the commits go through the
 * asynchronous statements of the event loop's calls. */
static enum kind kind_postgresql_bounded = PG;
#define LOOSE_BOUND_MS 10000
#define FX_MAX 8 /* threads, and their arguments, of one test */

struct fx {
    enum kind kind;
    char tmp[256]; /* RocksDB: the temporary directory */
    char dir[300]; /* RocksDB: the store, tmp/db (missing until created);
                    * PostgreSQL: the URL of the test's database */
    char db[64];   /* PostgreSQL: the test's database */
    struct store *s;
    /* The test's threads (fx_spawn), their arguments (fx_alloc) and
     * another store of its own (s2; NULL: none). A failed assertion leaves
     * the test at once, its threads still running: teardown asks them to
     * end (release, which they poll) and joins them (fx_end) before the
     * stores close and the arguments are freed. */
    pthread_t th[FX_MAX];
    size_t nth, njoined;
    void *mem[FX_MAX];
    size_t nmem;
    int release; /* atomic */
    struct store *s2;
};

/* Zeroed memory for a thread's argument, owned by f (freed by teardown,
 * once f's threads are joined). */
static void *fx_alloc(struct fx *f, size_t size)
{
    void *m = calloc(1, size);

    assert_non_null(m);
    assert_true(f->nmem < FX_MAX);
    f->mem[f->nmem++] = m;
    return m;
}

/* Runs fn(arg) on a thread of its own, joined by fx_end. */
static void fx_spawn(struct fx *f, void *(*fn)(void *), void *arg)
{
    assert_true(f->nth < FX_MAX);
    assert_int_equal(pthread_create(&f->th[f->nth], NULL, fn, arg), 0);
    f->nth++;
}

/* Asks f's threads to end (release) and joins them. */
static void fx_end(struct fx *f)
{
    __atomic_store_n(&f->release, 1, __ATOMIC_SEQ_CST);
    for (; f->njoined < f->nth; f->njoined++)
        pthread_join(f->th[f->njoined], NULL);
    __atomic_store_n(&f->release, 0, __ATOMIC_SEQ_CST);
}

static const char *const backend_names[] = {"mem", "rocksdb", "postgresql"};

/* --- PostgreSQL: a database per test on the server GL_TEST_PG names ------ */

/* Runs sql in the server's "postgres" database; fails the test on error. */
static void pg_admin(const char *sql)
{
    char url[512];
    PGconn *c;
    PGresult *r;

    snprintf(url, sizeof(url), "%s/postgres", getenv("GL_TEST_PG"));
    c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("cannot connect to %s: %s", url, PQerrorMessage(c));
    r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

/* Makes a new, empty database for one test: its name in db, its URL in
 * url. */
static void pg_new_db(char *db, size_t dbmax, char *url, size_t urlmax)
{
    static unsigned n;
    char sql[128];

    snprintf(db, dbmax, "glasslog_test_%ld_%u", (long)getpid(), n++);
    snprintf(url, urlmax, "%s/%s", getenv("GL_TEST_PG"), db);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db);
    pg_admin(sql);
}

static void pg_drop_db(const char *db)
{
    char sql[128];

    snprintf(sql, sizeof(sql), "DROP DATABASE %s WITH (FORCE)", db);
    pg_admin(sql);
}

/* Runs sql in the test's own database (as another program would). */
static void pg_exec_in(const char *url, const char *sql)
{
    PGconn *c = PQconnectdb(url);
    PGresult *r;

    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("cannot connect to %s: %s", url, PQerrorMessage(c));
    r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

#define ENTRY_MAX ((size_t)4 << 20)
#define TOKEN 1000000000LL          /* nanotokens in a token (ratelimit.h) */
#define BIG_ENTRY ((size_t)3 << 19) /* 1.5 MiB: larger than any statement */

static int fx_open(struct fx *f, int create, struct store **out, const char **why)
{
    struct store_options o = {.url = f->kind == MEM  ? "mem:"
                                     : f->kind == PG ? f->dir
                                                     : NULL,
                              .dir = f->kind == ROCKSDB ? f->dir : NULL,
                              .create = create,
                              .cache_mb = 8};

    return store_open(&o, out, why);
}

/* setup, PostgreSQL's URL with the parameter attr (NULL: none) added. */
static int setup_with(void **state, const char *attr)
{
    struct fx *f = calloc(1, sizeof(*f));
    const char *why = NULL;

    assert_non_null(f);
    f->kind = *(enum kind *)*state;
    if (f->kind == ROCKSDB) {
        tu_tempdir("glasslog-store", f->tmp, sizeof(f->tmp));
        snprintf(f->dir, sizeof(f->dir), "%s/db", f->tmp);
    }
    if (f->kind == PG)
        pg_new_db(f->db, sizeof(f->db), f->dir, sizeof(f->dir));
    if (f->kind == PG && attr != NULL) {
        size_t n = strlen(f->dir);
        assert_true(snprintf(f->dir + n, sizeof(f->dir) - n, "%c%s",
                             strchr(f->dir, '?') != NULL ? '&' : '?',
                             attr) < (int)(sizeof(f->dir) - n));
    }
    assert_int_equal(fx_open(f, 1, &f->s, &why), 0);
    assert_string_equal(store_backend(f->s), backend_names[f->kind]);
    if (*state == &kind_postgresql_bounded)
        assert_int_equal(store_bound_thread(f->s, LOOSE_BOUND_MS), 0);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, NULL);
}

/* setup, the store's URL setting target_session_attrs=any (an operator's
 * choice that overrides the store's default, read-write): the store then
 * takes a read-only session too. */
static int setup_any(void **state)
{
    return setup_with(state, "target_session_attrs=any");
}

static int teardown(void **state)
{
    struct fx *f = *state;

    fx_end(f);
    while (f->nmem > 0)
        free(f->mem[--f->nmem]);
    store_close(f->s2);
    store_close(f->s);
    if (f->kind == ROCKSDB)
        tu_rmtree(f->tmp);
    if (f->kind == PG)
        pg_drop_db(f->db);
    free(f);
    return 0;
}

/* RocksDB, PostgreSQL: closes the store and opens it again (without
 * create), as a restart would. mem: store_reopen (nothing survives a
 * close there). */
static void fx_restart(struct fx *f)
{
    const char *why = NULL;

    if (f->kind == MEM) {
        assert_int_equal(store_reopen(f->s), 0);
        return;
    }
    store_close(f->s);
    f->s = NULL;
    assert_int_equal(fx_open(f, 0, &f->s, &why), 0);
}

/* --- what a test puts, and checks ------------------------------------------------- */

/* Entry i of the tests: "entry <i>", but entry 3 is binary (NUL bytes
 * included) and entry 7 is BIG_ENTRY bytes. Caller frees. */
static uint8_t *entry_data(uint64_t i, size_t *len)
{
    size_t n = i == 7 ? BIG_ENTRY : i == 3 ? 100 : 32;
    uint8_t *d = malloc(n);
    uint64_t rng = i + 1;

    assert_non_null(d);
    if (i == 3 || i == 7) {
        for (size_t k = 0; k < n; k++)
            d[k] = (uint8_t)(tu_rand(&rng) & (k % 10 == 0 ? 0 : 0xff));
    } else {
        n = (size_t)snprintf((char *)d, n, "entry %llu", (unsigned long long)i);
    }
    *len = n;
    return d;
}

static void leaf_of(uint64_t i, uint8_t out[32])
{
    size_t n;
    uint8_t *d = entry_data(i, &n);

    assert_int_equal(gl_merkle_leaf_hash(d, n, out), 0);
    free(d);
}

/* Tile hashes: hash k of tile (level, index) is a pattern naming all three. */
static void tile_data(uint32_t level, uint64_t index, size_t width, uint8_t *out)
{
    for (size_t k = 0; k < width; k++) {
        uint64_t rng = ((uint64_t)level << 56) ^ (index << 16) ^ k;
        for (size_t j = 0; j < 32; j += 8) {
            uint64_t v = tu_rand(&rng);
            memcpy(out + k * 32 + j, &v, 8);
        }
    }
}

static void put_entries(struct store_batch *b, uint64_t from, uint64_t to)
{
    for (uint64_t i = from; i < to; i++) {
        size_t n;
        uint8_t *d = entry_data(i, &n), leaf[32];
        store_batch_put_entry(b, i, d, n);
        assert_int_equal(gl_merkle_leaf_hash(d, n, leaf), 0);
        store_batch_put_leaf(b, leaf, i);
        free(d);
    }
}

static void put_tile(struct store_batch *b, uint32_t level, uint64_t index, size_t width)
{
    uint8_t t[STORE_TILE_MAX];

    tile_data(level, index, width, t);
    store_batch_put_tile(b, level, index, t, width * 32);
}

static void checkpoint_text(uint64_t size, char *out, size_t max)
{
    snprintf(out, max, "example.com/log\n%llu\nroot of %llu\n", (unsigned long long)size,
             (unsigned long long)size);
}

static void put_state(struct store_batch *b, uint64_t size)
{
    char ck[128];

    checkpoint_text(size, ck, sizeof(ck));
    store_batch_put_state(b, size, ck, strlen(ck));
}

/* The state is want with its checkpoint; size 0 is a new store's (no
 * checkpoint yet). */
static void check_state(struct store *s, uint64_t want)
{
    char ck[128] = "";
    struct gl_buf b;
    uint64_t size = 12345;

    if (want > 0)
        checkpoint_text(want, ck, sizeof(ck));
    gl_buf_init(&b, 4096);
    assert_int_equal(gl_buf_append_str(&b, "x"), 0); /* appended, not replaced */
    assert_int_equal(store_get_state(s, &size, &b), 0);
    assert_int_equal(size, want);
    assert_int_equal(b.len, 1 + strlen(ck));
    assert_memory_equal(b.data + 1, ck, strlen(ck));
    gl_buf_release(&b);
}

static void check_entry(struct store *s, uint64_t i)
{
    struct gl_buf b;
    size_t n;
    uint8_t *d = entry_data(i, &n);

    gl_buf_init(&b, ENTRY_MAX);
    assert_int_equal(store_get_entry(s, i, &b), 0);
    assert_int_equal(b.len, n);
    assert_memory_equal(b.data, d, n);
    gl_buf_release(&b);
    free(d);
}

static void check_absent_entry(struct store *s, uint64_t i)
{
    struct gl_buf b;

    gl_buf_init(&b, ENTRY_MAX);
    assert_int_equal(store_get_entry(s, i, &b), GL_ENOTFOUND);
    assert_int_equal(b.len, 0);
    gl_buf_release(&b);
}

static void check_tile(struct store *s, uint32_t level, uint64_t index, size_t width)
{
    uint8_t got[STORE_TILE_MAX], want[STORE_TILE_MAX];
    size_t len = 0;

    tile_data(level, index, width, want);
    assert_int_equal(store_get_tile(s, level, index, got, &len), 0);
    assert_int_equal(len, width * 32);
    assert_memory_equal(got, want, len);
}

static void check_absent_tile(struct store *s, uint32_t level, uint64_t index)
{
    uint8_t got[STORE_TILE_MAX];
    size_t len = 0;

    assert_int_equal(store_get_tile(s, level, index, got, &len), GL_ENOTFOUND);
}

static void check_leaf(struct store *s, uint64_t i)
{
    uint8_t leaf[32];
    uint64_t got = UINT64_MAX;

    leaf_of(i, leaf);
    assert_int_equal(store_find_leaf(s, leaf, &got), 0);
    assert_int_equal(got, i);
}

/* find_index(kind, key, from, below, max) gives exactly want[0..nwant). */
static void check_range(struct store *s, enum store_index kind, const char *key,
                        size_t klen, uint64_t from, uint64_t below, size_t max,
                        const uint64_t *want, size_t nwant)
{
    uint64_t got[64];
    size_t n = 99;

    assert_true(max <= 64);
    assert_int_equal(store_find_index(s, kind, key, klen, from, below, got, max, &n), 0);
    assert_int_equal(n, nwant);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(got[i], want[i]);
}

/* find_index(kind, key, 0, below, max) gives exactly want[0..nwant). */
static void check_index(struct store *s, enum store_index kind, const char *key,
                        size_t klen, uint64_t below, size_t max, const uint64_t *want,
                        size_t nwant)
{
    check_range(s, kind, key, klen, 0, below, max, want, nwant);
}

static void check_empty(struct store *s)
{
    struct gl_buf b;
    uint64_t size = 1, idx[4];
    uint32_t version = 9;
    uint8_t leaf[32] = {0};
    size_t n = 9;

    gl_buf_init(&b, 4096);
    assert_int_equal(store_get_state(s, &size, &b), 0);
    assert_int_equal(size, 0);
    assert_int_equal(b.len, 0);
    assert_int_equal(store_get_vkey(s, &b), GL_ENOTFOUND);
    assert_int_equal(store_get_index_version(s, &version), 0);
    assert_int_equal(version, 0);
    gl_buf_release(&b);
    check_absent_entry(s, 0);
    check_absent_tile(s, 0, 0);
    assert_int_equal(store_find_leaf(s, leaf, &size), GL_ENOTFOUND);
    assert_int_equal(store_find_index(s, STORE_INDEX_SUBJECT, "a", 1, 0, 100, idx, 4, &n),
                     0);
    assert_int_equal(n, 0);
}

static void commit(struct store_batch *b, const struct store_expect *expect, int want)
{
    assert_int_equal(store_batch_commit(b, expect), want);
    store_batch_free(b);
}

#define UNCHECKED UINT64_MAX

/* Commits entries [from, to) with their leaves and the state `to`,
 * expecting the stored size `expect` (UNCHECKED: none); want is the
 * commit's result. */
static void commit_entries(struct store *s, uint64_t from, uint64_t to, uint64_t expect,
                           int want)
{
    struct store_batch *b;

    assert_int_equal(store_batch_new(s, &b), 0);
    put_entries(b, from, to);
    put_state(b, to);
    commit(b, expect == UNCHECKED ? NULL : &(struct store_expect){expect, 0}, want);
}

/* --- scan callbacks ----------------------------------------------------------------- */

struct seen {
    uint64_t idx[64];
    size_t len[64];
    size_t n;
    uint64_t stop_at; /* return ret at this index */
    int ret;
    int check_entries; /* compare data with entry_data */
    uint32_t level;    /* tiles: compare data with tile_data */
};

static int on_entry(void *ctx, uint64_t index, const uint8_t *data, size_t len)
{
    struct seen *sn = ctx;
    size_t n;
    uint8_t *want = entry_data(index, &n);
    int same = n == len && memcmp(want, data, n) == 0;

    free(want);
    assert_true(sn->n < 64);
    assert_true(same);
    sn->idx[sn->n] = index;
    sn->len[sn->n++] = len;
    return index == sn->stop_at ? sn->ret : 0;
}

static int on_tile(void *ctx, uint64_t index, const uint8_t *data, size_t len)
{
    struct seen *sn = ctx;
    uint8_t want[STORE_TILE_MAX];

    assert_true(sn->n < 64);
    assert_true(len > 0 && len <= STORE_TILE_MAX && len % 32 == 0);
    tile_data(sn->level, index, len / 32, want);
    assert_memory_equal(data, want, len);
    sn->idx[sn->n] = index;
    sn->len[sn->n++] = len;
    return index == sn->stop_at ? sn->ret : 0;
}

static void check_seen(const struct seen *sn, const uint64_t *want, size_t n)
{
    assert_int_equal(sn->n, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(sn->idx[i], want[i]);
}

static int scan_entries(struct store *s, uint64_t start, uint64_t n, uint64_t stop_at,
                        int ret, struct seen *sn)
{
    memset(sn, 0, sizeof(*sn));
    sn->stop_at = stop_at;
    sn->ret = ret;
    return store_scan_entries(s, start, n, on_entry, sn);
}

static int scan_tiles(struct store *s, uint32_t level, uint64_t start, uint64_t stop_at,
                      int ret, struct seen *sn)
{
    memset(sn, 0, sizeof(*sn));
    sn->stop_at = stop_at;
    sn->ret = ret;
    sn->level = level;
    return store_scan_tiles(s, level, start, on_tile, sn);
}

/* --- the tests ------------------------------------------------------------------------
 */

static const uint8_t artifact_a[32] = {0xaa, 1, 2, 3};
static const uint8_t artifact_b[32] = {0xbb, 1, 2, 3};
static const char sv_key[] = "app\0"
                             "1.0"; /* subject, 0, version */

/* Batch 1 of test_read_back: entries 0..9 with their leaves, four tiles on
 * three levels, indexes of every kind (put out of order), state 10, the
 * verifier key and index version 1. Returns how many puts it made. */
static size_t put_batch1(struct store_batch *b)
{
    put_entries(b, 0, 10);
    put_tile(b, 0, 0, 256);
    put_tile(b, 0, 1, 5);
    put_tile(b, 1, 0, 1);
    put_tile(b, 2, 7, 3);
    store_batch_put_index(b, STORE_INDEX_ARTIFACT, artifact_a, 32, 4);
    store_batch_put_index(b, STORE_INDEX_ARTIFACT, artifact_a, 32, 1);
    store_batch_put_index(b, STORE_INDEX_ARTIFACT, artifact_b, 32, 9);
    store_batch_put_index(b, STORE_INDEX_SUBJECT, "app", 3, 5);
    store_batch_put_index(b, STORE_INDEX_SUBJECT, "app", 3, 0);
    store_batch_put_index(b, STORE_INDEX_SUBJECT, "app", 3, 2);
    store_batch_put_index(b, STORE_INDEX_SUBJECT, "app2", 4, 3);
    store_batch_put_index(b, STORE_INDEX_SUBJECT_VERSION, sv_key, sizeof(sv_key) - 1, 0);
    store_batch_put_index(b, STORE_INDEX_SOURCE, artifact_a, 32, 7);
    store_batch_put_index(b, STORE_INDEX_SOURCE, artifact_a, 32, 2);
    put_state(b, 10);
    store_batch_put_vkey(b, "example.com/log+01234567+AAAA");
    store_batch_put_index_version(b, 1);
    return 10 * 2 + 4 + 10 + 3;
}

/* store_find_leaves: entries 0..9 are stored (batch 1), 10..11 are not;
 * asked out of order, with a repeat. */
static void check_leaves_at_once(struct store *s)
{
    static const uint64_t ask[] = {10, 3, 0, 11, 9, 3};
    const size_t n = sizeof(ask) / sizeof(ask[0]);
    uint8_t leaves[6][32], found[6];
    const uint8_t *hashes[6];
    uint64_t idx[6];

    for (size_t i = 0; i < n; i++) {
        leaf_of(ask[i], leaves[i]);
        hashes[i] = leaves[i];
        found[i] = 7;
    }
    assert_int_equal(store_find_leaves(s, n, hashes, idx, found), 0);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(found[i], ask[i] < 10);
        if (ask[i] < 10)
            assert_int_equal(idx[i], ask[i]);
    }
}

static void test_read_back(void **state)
{
    struct fx *f = *state;
    struct store_batch *b;
    struct seen sn;
    struct gl_buf vk;
    uint32_t version = 0;
    uint8_t leaf[32], tile[STORE_TILE_MAX], old[STORE_TILE_MAX];
    size_t len, oldlen;
    uint64_t size = 0;
    static const uint64_t all[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};

    assert_int_equal(store_batch_new(f->s, &b), 0);
    assert_int_equal(store_batch_count(b), 0);
    len = put_batch1(b);
    assert_int_equal(store_batch_count(b), len);
    commit(b, &(struct store_expect){0, 0}, 0);

    check_state(f->s, 10);
    gl_buf_init(&vk, 4096);
    assert_int_equal(store_get_vkey(f->s, &vk), 0);
    assert_string_equal((const char *)vk.data, "example.com/log+01234567+AAAA");
    gl_buf_release(&vk);
    for (uint64_t i = 0; i < 10; i++) {
        check_entry(f->s, i);
        check_leaf(f->s, i);
    }
    check_absent_entry(f->s, 10);
    leaf_of(10, leaf);
    assert_int_equal(store_find_leaf(f->s, leaf, &size), GL_ENOTFOUND);
    check_leaves_at_once(f->s);
    assert_int_equal(store_get_index_version(f->s, &version), 0);
    assert_int_equal(version, 1);

    /* scan_entries: in order, stops at the end of what is stored, or
     * where the callback says (its value returned) */
    assert_int_equal(scan_entries(f->s, 0, 10, UINT64_MAX, 0, &sn), 0);
    check_seen(&sn, all, 10);
    assert_int_equal(sn.len[7], BIG_ENTRY);
    assert_int_equal(scan_entries(f->s, 8, 5, UINT64_MAX, 0, &sn), GL_ENOTFOUND);
    check_seen(&sn, all + 8, 2);
    assert_int_equal(scan_entries(f->s, 3, 0, UINT64_MAX, 0, &sn), 0);
    check_seen(&sn, all, 0);
    assert_int_equal(scan_entries(f->s, 0, 10, 2, 7, &sn), 7);
    check_seen(&sn, all, 3);
    assert_int_equal(scan_entries(f->s, 1, 9, 2, GL_EPARSE, &sn), GL_EPARSE);
    check_seen(&sn, all + 1, 2);
    assert_int_equal(scan_entries(f->s, 20, 5, UINT64_MAX, 0, &sn), GL_ENOTFOUND);
    check_seen(&sn, all, 0);

    /* tiles and their levels */
    check_tile(f->s, 0, 0, 256);
    check_tile(f->s, 0, 1, 5);
    check_tile(f->s, 1, 0, 1);
    check_tile(f->s, 2, 7, 3);
    check_absent_tile(f->s, 0, 2);
    check_absent_tile(f->s, 1, 1);
    check_absent_tile(f->s, 2, 6);
    check_absent_tile(f->s, 3, 7);
    assert_int_equal(scan_tiles(f->s, 0, 0, UINT64_MAX, 0, &sn), 0);
    check_seen(&sn, all, 2);
    assert_int_equal(sn.len[0], STORE_TILE_MAX);
    assert_int_equal(sn.len[1], 5 * 32);
    assert_int_equal(scan_tiles(f->s, 0, 1, UINT64_MAX, 0, &sn), 0);
    check_seen(&sn, all + 1, 1);
    assert_int_equal(scan_tiles(f->s, 0, 0, 0, 1, &sn), 0); /* 1 = stop */
    check_seen(&sn, all, 1);
    assert_int_equal(scan_tiles(f->s, 0, 0, 1, GL_EPARSE, &sn), GL_EPARSE);
    check_seen(&sn, all, 2);
    assert_int_equal(scan_tiles(f->s, 1, 0, UINT64_MAX, 0, &sn), 0);
    check_seen(&sn, all, 1);
    assert_int_equal(scan_tiles(f->s, 2, 0, UINT64_MAX, 0, &sn), 0);
    check_seen(&sn, all + 7, 1);
    assert_int_equal(scan_tiles(f->s, 2, 8, UINT64_MAX, 0, &sn), 0);
    check_seen(&sn, all, 0);
    assert_int_equal(scan_tiles(f->s, 3, 0, UINT64_MAX, 0, &sn), 0);
    check_seen(&sn, all, 0);

    /* secondary indexes: per kind and key, ascending, below, max */
    check_index(f->s, STORE_INDEX_SUBJECT, "app", 3, 100, 10, (uint64_t[]){0, 2, 5}, 3);
    check_index(f->s, STORE_INDEX_SUBJECT, "app", 3, 5, 10, (uint64_t[]){0, 2}, 2);
    check_index(f->s, STORE_INDEX_SUBJECT, "app", 3, 6, 10, (uint64_t[]){0, 2, 5}, 3);
    check_index(f->s, STORE_INDEX_SUBJECT, "app", 3, 0, 10, NULL, 0);
    check_index(f->s, STORE_INDEX_SUBJECT, "app", 3, 100, 2, (uint64_t[]){0, 2}, 2);
    check_index(f->s, STORE_INDEX_SUBJECT, "app", 3, 100, 1, (uint64_t[]){0}, 1);
    check_index(f->s, STORE_INDEX_SUBJECT, "app2", 4, 100, 10, (uint64_t[]){3}, 1);
    check_index(f->s, STORE_INDEX_SUBJECT, "ap", 2, 100, 10, NULL, 0);
    check_index(f->s, STORE_INDEX_SUBJECT, "app20", 5, 100, 10, NULL, 0);
    /* from: the first index listed; [i, i + 1) asks for entry i alone */
    check_range(f->s, STORE_INDEX_SUBJECT, "app", 3, 1, 100, 10, (uint64_t[]){2, 5}, 2);
    check_range(f->s, STORE_INDEX_SUBJECT, "app", 3, 2, 3, 10, (uint64_t[]){2}, 1);
    check_range(f->s, STORE_INDEX_SUBJECT, "app", 3, 5, 6, 1, (uint64_t[]){5}, 1);
    check_range(f->s, STORE_INDEX_SUBJECT, "app", 3, 3, 5, 10, NULL, 0);
    check_range(f->s, STORE_INDEX_SUBJECT, "app", 3, 6, 100, 10, NULL, 0);
    check_range(f->s, STORE_INDEX_SUBJECT, "app", 3, 5, 5, 10, NULL, 0);
    check_range(f->s, STORE_INDEX_SUBJECT, "app2", 4, 3, 4, 10, (uint64_t[]){3}, 1);
    /* below = UINT64_MAX: no upper bound; a from past every index (also
     * past 2^63, beyond PostgreSQL's bigint) lists none */
    check_range(f->s, STORE_INDEX_SUBJECT, "app", 3, 0, UINT64_MAX, 10,
                (uint64_t[]){0, 2, 5}, 3);
    check_range(f->s, STORE_INDEX_SUBJECT, "app", 3, 1, UINT64_MAX, 1, (uint64_t[]){2},
                1);
    check_range(f->s, STORE_INDEX_SUBJECT, "app", 3, 6, UINT64_MAX, 10, NULL, 0);
    check_range(f->s, STORE_INDEX_SUBJECT, "app", 3, (uint64_t)1 << 63, UINT64_MAX, 10,
                NULL, 0);
    check_range(f->s, STORE_INDEX_SUBJECT, "app", 3, UINT64_MAX - 1, UINT64_MAX, 10, NULL,
                0);
    check_range(f->s, STORE_INDEX_ARTIFACT, (const char *)artifact_a, 32, 2, 100, 10,
                (uint64_t[]){4}, 1);
    check_range(f->s, STORE_INDEX_ARTIFACT, (const char *)artifact_a, 32, 4, 5, 10,
                (uint64_t[]){4}, 1);
    check_range(f->s, STORE_INDEX_SOURCE, (const char *)artifact_a, 32, 7, 8, 10,
                (uint64_t[]){7}, 1);
    check_index(f->s, STORE_INDEX_ARTIFACT, (const char *)artifact_a, 32, 100, 10,
                (uint64_t[]){1, 4}, 2);
    check_index(f->s, STORE_INDEX_ARTIFACT, (const char *)artifact_b, 32, 100, 10,
                (uint64_t[]){9}, 1);
    check_index(f->s, STORE_INDEX_ARTIFACT, (const char *)artifact_b, 32, 9, 10, NULL, 0);
    check_index(f->s, STORE_INDEX_SUBJECT_VERSION, sv_key, sizeof(sv_key) - 1, 100, 10,
                (uint64_t[]){0}, 1);
    check_index(f->s, STORE_INDEX_SOURCE, (const char *)artifact_a, 32, 100, 10,
                (uint64_t[]){2, 7}, 2);
    check_index(f->s, STORE_INDEX_SOURCE, (const char *)artifact_a, 32, 7, 10,
                (uint64_t[]){2}, 1);
    /* the kinds are separate name spaces */
    check_index(f->s, STORE_INDEX_SOURCE, (const char *)artifact_b, 32, 100, 10, NULL, 0);
    check_index(f->s, STORE_INDEX_SUBJECT_VERSION, "app", 3, 100, 10, NULL, 0);
    check_index(f->s, STORE_INDEX_SUBJECT, sv_key, sizeof(sv_key) - 1, 100, 10, NULL, 0);

    /* batch 2 extends it: a wider tile over the partial one (the prefix
     * rule), more indices for a key (one of them already there) */
    oldlen = 0;
    assert_int_equal(store_get_tile(f->s, 0, 1, old, &oldlen), 0);
    assert_int_equal(store_batch_new(f->s, &b), 0);
    put_entries(b, 10, 12);
    put_tile(b, 0, 1, 12);
    store_batch_put_index(b, STORE_INDEX_SUBJECT, "app", 3, 11);
    store_batch_put_index(b, STORE_INDEX_SUBJECT, "app", 3, 1);
    store_batch_put_index(b, STORE_INDEX_SUBJECT, "app", 3, 5);
    put_state(b, 12);
    store_batch_put_index_version(b, 2);
    assert_int_equal(store_batch_count(b), 2 * 2 + 1 + 3 + 1 + 1);
    commit(b, &(struct store_expect){10, 0}, 0);
    check_state(f->s, 12);
    check_entry(f->s, 10);
    check_entry(f->s, 11);
    check_leaf(f->s, 11);
    check_tile(f->s, 0, 1, 12);
    assert_int_equal(store_get_tile(f->s, 0, 1, tile, &len), 0);
    assert_int_equal(len, 12 * 32);
    assert_memory_equal(tile, old, oldlen); /* the old partial is its prefix */
    check_index(f->s, STORE_INDEX_SUBJECT, "app", 3, 100, 10,
                (uint64_t[]){0, 1, 2, 5, 11}, 5);
    check_index(f->s, STORE_INDEX_SUBJECT, "app", 3, 11, 10, (uint64_t[]){0, 1, 2, 5}, 4);
    check_index(f->s, STORE_INDEX_SUBJECT, "app", 3, 100, 3, (uint64_t[]){0, 1, 2}, 3);
    check_range(f->s, STORE_INDEX_SUBJECT, "app", 3, 3, UINT64_MAX, 10,
                (uint64_t[]){5, 11}, 2);
    assert_int_equal(store_get_index_version(f->s, &version), 0);
    assert_int_equal(version, 2);
    assert_int_equal(scan_entries(f->s, 0, 12, UINT64_MAX, 0, &sn), 0);
    check_seen(&sn, all, 12);
}

static void test_bad_index_queries(void **state)
{
    struct fx *f = *state;
    uint64_t idx[4];
    char key[STORE_INDEX_KEY_MAX + 1];
    size_t n;

    memset(key, 'k', sizeof(key));
    n = 9;
    assert_int_equal(
        store_find_index(f->s, (enum store_index)0, "a", 1, 0, 10, idx, 4, &n),
        GL_EINVAL);
    assert_int_equal(n, 0);
    n = 9;
    assert_int_equal(
        store_find_index(f->s, STORE_INDEX_NKINDS, "a", 1, 0, 10, idx, 4, &n), GL_EINVAL);
    assert_int_equal(n, 0);
    assert_int_equal(
        store_find_index(f->s, STORE_INDEX_SUBJECT, "a", 0, 0, 10, idx, 4, &n),
        GL_EINVAL);
    assert_int_equal(
        store_find_index(f->s, STORE_INDEX_SUBJECT, key, sizeof(key), 0, 10, idx, 4, &n),
        GL_EINVAL);
    assert_int_equal(
        store_find_index(f->s, STORE_INDEX_ARTIFACT, key, 31, 0, 10, idx, 4, &n),
        GL_EINVAL);
    assert_int_equal(
        store_find_index(f->s, STORE_INDEX_ARTIFACT, key, 33, 0, 10, idx, 4, &n),
        GL_EINVAL);
    assert_int_equal(
        store_find_index(f->s, STORE_INDEX_SOURCE, key, 31, 0, 10, idx, 4, &n),
        GL_EINVAL);
    assert_int_equal(
        store_find_index(f->s, STORE_INDEX_SUBJECT, NULL, 1, 0, 10, idx, 4, &n),
        GL_EINVAL);
    assert_int_equal(store_find_index(f->s, STORE_INDEX_SUBJECT, key, STORE_INDEX_KEY_MAX,
                                      0, 10, idx, 4, &n),
                     0);
    assert_int_equal(n, 0);
}

static void test_scan_gaps(void **state)
{
    struct fx *f = *state;
    struct store_batch *b;
    struct seen sn;
    static const uint64_t all[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};

    assert_int_equal(store_batch_new(f->s, &b), 0);
    put_entries(b, 0, 5);
    put_entries(b, 6, 10);
    put_tile(b, 0, 0, 256);
    put_tile(b, 0, 1, 256);
    put_tile(b, 0, 3, 256);
    put_tile(b, 0, 4, 9);
    commit(b, NULL, 0);

    assert_int_equal(scan_entries(f->s, 0, 10, UINT64_MAX, 0, &sn), GL_ENOTFOUND);
    check_seen(&sn, all, 5);
    assert_int_equal(scan_entries(f->s, 6, 4, UINT64_MAX, 0, &sn), 0);
    check_seen(&sn, all + 6, 4);
    assert_int_equal(scan_entries(f->s, 5, 1, UINT64_MAX, 0, &sn), GL_ENOTFOUND);
    check_seen(&sn, all, 0);

    /* scan_tiles calls fn for each stored tile of the level: past a gap */
    assert_int_equal(scan_tiles(f->s, 0, 0, UINT64_MAX, 0, &sn), 0);
    check_seen(&sn, (uint64_t[]){0, 1, 3, 4}, 4);
    assert_int_equal(scan_tiles(f->s, 0, 2, UINT64_MAX, 0, &sn), 0);
    check_seen(&sn, (uint64_t[]){3, 4}, 2);
    assert_int_equal(sn.len[1], 9 * 32);
}

static void test_compare_and_set(void **state)
{
    struct fx *f = *state;
    struct store_batch *b;
    uint64_t idx[4], got;
    uint32_t version = 9;
    uint8_t leaf[32];
    size_t n;

    commit_entries(f->s, 0, 3, UNCHECKED, 0);

    /* stale or wrong expectations: GL_ESTATE and nothing written */
    for (uint64_t stale = 0; stale < 6; stale++) {
        if (stale == 3)
            continue;
        assert_int_equal(store_batch_new(f->s, &b), 0);
        put_entries(b, 3, 4);
        put_tile(b, 0, 0, 4);
        store_batch_put_index(b, STORE_INDEX_SUBJECT, "app", 3, 3);
        store_batch_put_index_version(b, 5);
        store_batch_put_vkey(b, "example.com/log+01234567+AAAA");
        put_state(b, 4);
        commit(b, &(struct store_expect){stale, 0}, GL_ESTATE);
        check_state(f->s, 3);
        check_absent_entry(f->s, 3);
        check_absent_tile(f->s, 0, 0);
        leaf_of(3, leaf);
        assert_int_equal(store_find_leaf(f->s, leaf, &got), GL_ENOTFOUND);
        n = 9;
        assert_int_equal(
            store_find_index(f->s, STORE_INDEX_SUBJECT, "app", 3, 0, 100, idx, 4, &n), 0);
        assert_int_equal(n, 0);
        assert_int_equal(store_get_index_version(f->s, &version), 0);
        assert_int_equal(version, 0);
        assert_int_equal(store_get_vkey(f->s, &(struct gl_buf){0}), GL_ENOTFOUND);
    }

    /* the right one */
    commit_entries(f->s, 3, 4, 3, 0);
    check_state(f->s, 4);
    check_entry(f->s, 3);
    check_leaf(f->s, 3);

    /* the old size is stale now */
    commit_entries(f->s, 4, 5, 3, GL_ESTATE);
    check_absent_entry(f->s, 4);

    /* a batch without a state keeps the size */
    assert_int_equal(store_batch_new(f->s, &b), 0);
    store_batch_put_index(b, STORE_INDEX_SUBJECT, "app", 3, 1);
    commit(b, &(struct store_expect){4, 0}, 0);
    check_state(f->s, 4);
    check_index(f->s, STORE_INDEX_SUBJECT, "app", 3, 100, 4, (uint64_t[]){1}, 1);

    /* after a restart the expectation is still the stored size */
    fx_restart(f);
    commit_entries(f->s, 4, 5, 3, GL_ESTATE);
    check_absent_entry(f->s, 4);
    commit_entries(f->s, 4, 5, 4, 0);
    check_state(f->s, 5);
    check_entry(f->s, 4);

    /* no expectation: unchecked (creation and tools) */
    assert_int_equal(store_batch_new(f->s, &b), 0);
    put_state(b, 7);
    commit(b, NULL, 0);
    check_state(f->s, 7);
}

/* A batch holding one valid entry and one put over a cap (made by bad):
 * the put is not counted, the commit fails with GL_EINVAL, and the valid
 * entry is not written either. */
static void check_refused(struct fx *f, void (*bad)(struct store_batch *b))
{
    struct store_batch *b;
    size_t before;

    assert_int_equal(store_batch_new(f->s, &b), 0);
    put_entries(b, 0, 1);
    before = store_batch_count(b);
    bad(b);
    assert_int_equal(store_batch_count(b), before);
    put_state(b, 1);
    commit(b, &(struct store_expect){0, 0}, GL_EINVAL);
    check_absent_entry(f->s, 0);
    check_state(f->s, 0);
}

static void bad_long_key(struct store_batch *b)
{
    char key[STORE_INDEX_KEY_MAX + 1];

    memset(key, 'k', sizeof(key));
    store_batch_put_index(b, STORE_INDEX_SUBJECT, key, sizeof(key), 0);
}

static void bad_empty_key(struct store_batch *b)
{
    store_batch_put_index(b, STORE_INDEX_SUBJECT_VERSION, "", 0, 0);
}

static void bad_artifact_len(struct store_batch *b)
{
    store_batch_put_index(b, STORE_INDEX_ARTIFACT, artifact_a, 31, 0);
}

static void bad_index_kind(struct store_batch *b)
{
    store_batch_put_index(b, STORE_INDEX_NKINDS, "a", 1, 0);
}

static void bad_big_tile(struct store_batch *b)
{
    static uint8_t t[STORE_TILE_MAX + 32];

    store_batch_put_tile(b, 0, 0, t, sizeof(t));
}

static void bad_ragged_tile(struct store_batch *b)
{
    static uint8_t t[33];

    store_batch_put_tile(b, 0, 0, t, sizeof(t));
}

static void bad_empty_tile(struct store_batch *b)
{
    static uint8_t t[32];

    store_batch_put_tile(b, 0, 0, t, 0);
}

static void test_count_and_caps(void **state)
{
    struct fx *f = *state;
    struct store_batch *b;
    char key[STORE_INDEX_KEY_MAX];
    uint8_t leaf[32] = {1};

    /* every kind of put counts one record */
    assert_int_equal(store_batch_new(f->s, &b), 0);
    store_batch_put_entry(b, 0, "e", 1);
    assert_int_equal(store_batch_count(b), 1);
    store_batch_put_leaf(b, leaf, 0);
    assert_int_equal(store_batch_count(b), 2);
    store_batch_put_index(b, STORE_INDEX_SUBJECT, "s", 1, 0);
    assert_int_equal(store_batch_count(b), 3);
    put_tile(b, 0, 0, 1);
    assert_int_equal(store_batch_count(b), 4);
    store_batch_delete_tile(b, 5, 5);
    assert_int_equal(store_batch_count(b), 5);
    store_batch_put_vkey(b, "k");
    assert_int_equal(store_batch_count(b), 6);
    store_batch_put_index_version(b, 1);
    assert_int_equal(store_batch_count(b), 7);
    put_state(b, 1);
    assert_int_equal(store_batch_count(b), 8);
    store_batch_free(b);

    check_refused(f, bad_long_key);
    check_refused(f, bad_empty_key);
    check_refused(f, bad_artifact_len);
    check_refused(f, bad_index_kind);
    check_refused(f, bad_big_tile);
    check_refused(f, bad_ragged_tile);
    check_refused(f, bad_empty_tile);

    /* exactly at the caps is fine */
    memset(key, 'k', sizeof(key));
    assert_int_equal(store_batch_new(f->s, &b), 0);
    put_entries(b, 0, 1);
    store_batch_put_index(b, STORE_INDEX_SUBJECT, key, sizeof(key), 0);
    put_tile(b, 3, 0, 256);
    put_state(b, 1);
    assert_int_equal(store_batch_count(b), 5);
    commit(b, &(struct store_expect){0, 0}, 0);
    check_entry(f->s, 0);
    check_tile(f->s, 3, 0, 256);
    check_index(f->s, STORE_INDEX_SUBJECT, key, sizeof(key), 10, 4, (uint64_t[]){0}, 1);
}

static void test_delete_tile(void **state)
{
    struct fx *f = *state;
    struct store_batch *b;
    struct seen sn;

    assert_int_equal(store_batch_new(f->s, &b), 0);
    put_tile(b, 0, 0, 256);
    put_tile(b, 0, 1, 256);
    put_tile(b, 0, 2, 7);
    put_tile(b, 1, 1, 2);
    commit(b, NULL, 0);

    assert_int_equal(store_batch_new(f->s, &b), 0);
    store_batch_delete_tile(b, 0, 1);
    store_batch_delete_tile(b, 4, 4); /* absent: nothing to do */
    commit(b, NULL, 0);
    check_tile(f->s, 0, 0, 256);
    check_absent_tile(f->s, 0, 1);
    check_tile(f->s, 0, 2, 7);
    check_tile(f->s, 1, 1, 2);
    assert_int_equal(scan_tiles(f->s, 0, 0, UINT64_MAX, 0, &sn), 0);
    check_seen(&sn, (uint64_t[]){0, 2}, 2);

    /* within one batch the puts apply in order */
    assert_int_equal(store_batch_new(f->s, &b), 0);
    put_tile(b, 3, 0, 4);
    store_batch_delete_tile(b, 3, 0);
    store_batch_delete_tile(b, 3, 1);
    put_tile(b, 3, 1, 4);
    commit(b, NULL, 0);
    check_absent_tile(f->s, 3, 0);
    check_tile(f->s, 3, 1, 4);

    /* a deleted tile can be put again */
    assert_int_equal(store_batch_new(f->s, &b), 0);
    put_tile(b, 0, 1, 256);
    commit(b, NULL, 0);
    check_tile(f->s, 0, 1, 256);
    fx_restart(f);
    check_tile(f->s, 0, 1, 256);
    check_absent_tile(f->s, 3, 0);
}

static void test_reopen(void **state)
{
    struct fx *f = *state;
    struct store_batch *b;
    struct store *other = NULL;
    struct gl_buf vk;
    uint32_t version = 0;
    const char *why = NULL;

    assert_int_equal(store_batch_new(f->s, &b), 0);
    put_batch1(b);
    commit(b, &(struct store_expect){0, 0}, 0);
    assert_int_equal(store_reopen(f->s), 0);
    for (int round = 0; round < 2; round++) {
        check_state(f->s, 10);
        for (uint64_t i = 0; i < 10; i++) {
            check_entry(f->s, i);
            check_leaf(f->s, i);
        }
        check_tile(f->s, 0, 0, 256);
        check_tile(f->s, 0, 1, 5);
        check_tile(f->s, 2, 7, 3);
        check_index(f->s, STORE_INDEX_SUBJECT, "app", 3, 100, 10, (uint64_t[]){0, 2, 5},
                    3);
        check_index(f->s, STORE_INDEX_ARTIFACT, (const char *)artifact_a, 32, 100, 10,
                    (uint64_t[]){1, 4}, 2);
        check_index(f->s, STORE_INDEX_SUBJECT_VERSION, sv_key, sizeof(sv_key) - 1, 100,
                    10, (uint64_t[]){0}, 1);
        assert_int_equal(store_get_index_version(f->s, &version), 0);
        assert_int_equal(version, 1);
        gl_buf_init(&vk, 4096);
        assert_int_equal(store_get_vkey(f->s, &vk), 0);
        assert_string_equal((const char *)vk.data, "example.com/log+01234567+AAAA");
        gl_buf_release(&vk);
        fx_restart(f);
    }
    /* commits go on after a reopen */
    assert_int_equal(store_reopen(f->s), 0);
    commit_entries(f->s, 10, 11, 10, 0);
    check_entry(f->s, 10);
    check_state(f->s, 11);

    if (f->kind != MEM) { /* --create refuses a directory (database) with data */
        store_close(f->s);
        f->s = NULL;
        assert_int_equal(fx_open(f, 1, &other, &why), GL_EEXIST);
        assert_non_null(why);
        assert_int_equal(fx_open(f, 0, &f->s, &why), 0);
        check_state(f->s, 11);
        check_entry(f->s, 10);
    }
}

static void pg_open_rules(void);

/* A backup that fails after its snapshot was made (here the rename: the
 * name is a dangling symbolic link, which the existence check passes)
 * leaves no dir.incomplete behind, an openable store without the copy
 * mark; and a data directory so named, as a crash leaves it, is refused
 * (a trailing slash changes nothing). s is an open RocksDB store. */
static void backup_leftovers(struct store *s, const char *tmp)
{
    struct store_options o = {.cache_mb = 8};
    struct store *s2 = NULL;
    const char *why = NULL;
    char bak[320], part[340], slash[360];
    struct stat st;
    int copy;

    snprintf(bak, sizeof(bak), "%s/bak", tmp);
    snprintf(part, sizeof(part), "%s" STORE_BACKUP_PARTIAL, bak);
    snprintf(slash, sizeof(slash), "%s/", part);
    assert_int_equal(symlink("nowhere", bak), 0);
    assert_int_equal(store_backup(s, bak), GL_EIO);
    assert_int_equal(lstat(part, &st), -1); /* removed */
    assert_int_equal(unlink(bak), 0);
    assert_int_equal(store_backup(s, bak), 0);
    assert_int_equal(lstat(part, &st), -1);
    assert_int_equal(rename(bak, part), 0); /* as an interrupted backup leaves it */
    o.dir = part;
    assert_int_equal(store_open(&o, &s2, &why), GL_EINVAL);
    assert_non_null(strstr(why, "an interrupted backup"));
    o.dir = slash;
    why = NULL;
    assert_int_equal(store_open(&o, &s2, &why), GL_EINVAL);
    assert_non_null(why);
    assert_null(s2);
    assert_int_equal(rename(part, bak), 0); /* the same snapshot opens as bak */
    o.dir = bak;
    assert_int_equal(store_open(&o, &s2, &why), 0);
    copy = 0;
    assert_int_equal(store_get_copy(s2, &copy), 0); /* the backup is a copy */
    assert_int_equal(copy, 1);
    assert_int_equal(store_get_copy(s, &copy), 0); /* its original is not */
    assert_int_equal(copy, 0);
    store_close(s2);
    tu_rmtree(bak);
}

/* store_backup_partial: the one test of an interrupted backup's name. */
static void test_backup_partial_names(void **state)
{
    (void)state;
    assert_int_equal(store_backup_partial("/d/glasslog-x" STORE_BACKUP_PARTIAL), 1);
    assert_int_equal(store_backup_partial("d" STORE_BACKUP_PARTIAL "//"), 1);
    assert_int_equal(store_backup_partial(STORE_BACKUP_PARTIAL), 1);
    /* RocksDB's staging directory of such a snapshot */
    assert_int_equal(store_backup_partial("/d/glasslog-x" STORE_BACKUP_PARTIAL ".tmp"),
                     1);
    assert_int_equal(store_backup_partial("d" STORE_BACKUP_PARTIAL ".tmp/"), 1);
    assert_int_equal(store_backup_partial("d.tmp"), 0);
    assert_int_equal(store_backup_partial("d" STORE_BACKUP_PARTIAL ".tmp.tmp"), 0);
    assert_int_equal(store_backup_partial("d" STORE_BACKUP_PARTIAL ".x"), 0);
    assert_int_equal(store_backup_partial("d" STORE_BACKUP_PARTIAL "/x"), 0);
    assert_int_equal(store_backup_partial(STORE_BACKUP_PARTIAL + 1), 0);
    assert_int_equal(store_backup_partial("/"), 0);
    assert_int_equal(store_backup_partial(""), 0);
}

/* The copy mark (store_get_copy, store_set_copy): never on mem, whose
 * set is refused; elsewhere set and removed, each idempotent, durable
 * (across a restart), and nothing but the mark (the state stays). Only
 * rocksdb has an online backup (store_backup, backup_leftovers): the
 * others refuse one, making nothing. */
static void test_copy_mark(void **state)
{
    struct fx *f = *state;
    const char *nobak = "glasslog-test-no-backup";
    int copy = -1;

    assert_int_equal(store_get_copy(f->s, &copy), 0); /* a new log is no copy */
    assert_int_equal(copy, 0);
    if (f->kind != ROCKSDB) {
        assert_int_equal(store_backup(f->s, nobak), GL_ESTATE);
        assert_int_equal(access(nobak, F_OK), -1);
    }
    commit_entries(f->s, 0, 2, UNCHECKED, 0);
    if (f->kind == MEM) {
        assert_int_equal(store_set_copy(f->s, 1), GL_ESTATE);
        assert_int_equal(store_set_copy(f->s, 0), GL_ESTATE);
        copy = -1;
        assert_int_equal(store_get_copy(f->s, &copy), 0);
        assert_int_equal(copy, 0);
        check_state(f->s, 2);
        return;
    }
    for (int round = 0; round < 2; round++) { /* mark, then unmark */
        int want = round == 0;
        assert_int_equal(store_set_copy(f->s, want), 0);
        assert_int_equal(store_set_copy(f->s, want), 0);
        copy = -1;
        assert_int_equal(store_get_copy(f->s, &copy), 0);
        assert_int_equal(copy, want);
        fx_restart(f);
        copy = -1;
        assert_int_equal(store_get_copy(f->s, &copy), 0);
        assert_int_equal(copy, want);
        check_state(f->s, 2);
    }
}

static void test_open_rules(void **state)
{
    enum kind k = *(enum kind *)*state;
    struct store_options o = {.create = 1, .cache_mb = 8};
    struct store *s = NULL, *s2 = NULL;
    const char *why = NULL;
    char tmp[256], dir[300];
    struct stat st;

    /* arguments */
    assert_int_equal(store_open(&o, &s, &why), GL_EINVAL);
    assert_non_null(why);
    o.url = "nosuch:";
    why = NULL;
    assert_int_equal(store_open(&o, &s, &why), GL_EINVAL);
    assert_non_null(why);
    o.url = "postgresql://[bad";
    why = NULL;
    assert_int_equal(store_open(&o, &s, &why), GL_EIO); /* libpq refuses it */
    assert_non_null(why);

    if (k == MEM) {
        o.url = "mem:";
        o.create = 0;
        why = NULL;
        assert_int_equal(store_open(&o, &s, &why), GL_ENOTFOUND);
        assert_non_null(why);
        o.create = 1;
        assert_int_equal(store_open(&o, &s, &why), 0);
        assert_string_equal(store_backend(s), "mem");
        check_empty(s);
        commit_entries(s, 0, 2, UNCHECKED, 0);
        /* every open is a new store of its own */
        assert_int_equal(store_open(&o, &s2, &why), 0);
        check_empty(s2);
        check_state(s, 2);
        store_close(s2);
        store_close(s);
        return;
    }
    if (k == PG) {
        pg_open_rules();
        return;
    }

    tu_tempdir("glasslog-store", tmp, sizeof(tmp));
    snprintf(dir, sizeof(dir), "%s/db", tmp);
    o.url = NULL;
    o.dir = dir;
    o.create = 0;
    why = NULL;
    assert_int_equal(store_open(&o, &s, &why), GL_ENOTFOUND); /* missing */
    assert_non_null(why);
    assert_int_equal(stat(dir, &st), -1); /* and not made */
    assert_int_equal(mkdir(dir, 0700), 0);
    why = NULL;
    assert_int_equal(store_open(&o, &s, &why), GL_ENOTFOUND); /* empty */
    assert_non_null(why);
    assert_int_equal(rmdir(dir), 0);
    o.create = 1;
    assert_int_equal(store_open(&o, &s, &why), 0); /* made where missing */
    assert_string_equal(store_backend(s), "rocksdb");
    check_empty(s);
    commit_entries(s, 0, 2, UNCHECKED, 0);
    store_close(s);
    why = NULL;
    assert_int_equal(store_open(&o, &s, &why), GL_EEXIST); /* has data */
    assert_non_null(why);
    o.create = 0;
    assert_int_equal(store_open(&o, &s, &why), 0);
    check_state(s, 2);
    check_entry(s, 1);
    backup_leftovers(s, tmp);
    store_close(s);
    tu_rmtree(dir);
    assert_int_equal(mkdir(dir, 0700), 0); /* an empty directory can be made a log */
    o.create = 1;
    assert_int_equal(store_open(&o, &s, &why), 0);
    check_empty(s);
    store_close(s);
    tu_rmtree(tmp);
}

/* Entries [0, n) are stored; entry n - 1's leaf has origin `last`, the
 * others `first` (store_find_leaves_origin). */
static void check_origins(struct store *s, uint64_t n, uint64_t first, uint64_t last)
{
    uint8_t leaves[8][32], found[8];
    const uint8_t *hashes[8];
    uint64_t idx[8], origin[8];

    assert_true(n >= 1 && n <= 8);
    for (uint64_t i = 0; i < n; i++) {
        leaf_of(i, leaves[i]);
        hashes[i] = leaves[i];
        origin[i] = 99;
    }
    assert_int_equal(store_find_leaves_origin(s, n, hashes, idx, origin, found), 0);
    for (uint64_t i = 0; i < n; i++) {
        assert_int_equal(found[i], 1);
        assert_int_equal(idx[i], i);
        assert_int_equal(origin[i], i == n - 1 ? last : first);
    }
}

/* The create rules on a database, and the schema version. */
static void pg_open_rules(void)
{
    struct store_options o = {.cache_mb = 8};
    struct store *s = NULL;
    const char *why = NULL;
    char db[64], url[512];

    pg_new_db(db, sizeof(db), url, sizeof(url));
    o.url = url;
    assert_int_equal(store_open(&o, &s, &why), GL_ENOTFOUND); /* no schema */
    assert_non_null(why);
    o.create = 1;
    assert_int_equal(store_open(&o, &s, &why), 0);
    assert_string_equal(store_backend(s), "postgresql");
    check_empty(s);
    store_close(s);
    o.create = 0;
    why = NULL;
    assert_int_equal(store_open(&o, &s, &why), GL_ENOTFOUND); /* schema, no log */
    assert_non_null(why);
    o.create = 1;
    assert_int_equal(store_open(&o, &s, &why), 0); /* an empty schema can be made a log */
    commit_entries(s, 0, 2, UNCHECKED, 0);
    store_close(s);
    why = NULL;
    assert_int_equal(store_open(&o, &s, &why), GL_EEXIST); /* has data */
    assert_non_null(why);
    o.create = 0;
    assert_int_equal(store_open(&o, &s, &why), 0);
    check_state(s, 2);
    check_entry(s, 1);
    store_close(s);
    /* a version 1 database (no token buckets, no durable mark) is
     * migrated at open; its state is marked durable */
    pg_exec_in(url, "DROP TABLE glasslog_buckets;"
                    "ALTER TABLE glasslog_state DROP COLUMN durable,"
                    " DROP COLUMN durable_ck, DROP COLUMN durable_epoch;"
                    "ALTER TABLE glasslog_leaves DROP COLUMN origin;"
                    "UPDATE glasslog_meta SET v = '1' WHERE k = 'schema_version'");
    assert_int_equal(store_open(&o, &s, &why), 0);
    check_state(s, 2);
    {
        struct gl_buf ck;
        uint64_t size = 0;
        gl_buf_init(&ck, 4096);
        assert_int_equal(store_get_durable(s, &size, &ck), 0);
        assert_int_equal(size, 2);
        gl_buf_release(&ck);
    }
    {
        int64_t level;
        int took;
        assert_int_equal(store_bucket_take(s, "m+00000001", 1, 2, 1, &level, &took), 0);
        assert_int_equal(took, 1);
        assert_true(level >= TOKEN && level < TOKEN + 1000000);
    }
    check_origins(s, 2, 0, 0);
    store_close(s);
    assert_int_equal(store_open(&o, &s, &why), 0); /* version 4 now: opens as is */
    store_close(s);
    /* a version 3 database (no leaf origins) is migrated at open: its
     * entries have none, new ones record theirs */
    pg_exec_in(url, "ALTER TABLE glasslog_leaves DROP COLUMN origin;"
                    "UPDATE glasslog_meta SET v = '3' WHERE k = 'schema_version'");
    assert_int_equal(store_open(&o, &s, &why), 0);
    check_origins(s, 2, 0, 0);
    {
        struct store_batch *b;
        uint8_t leaf[32];
        assert_int_equal(store_batch_new(s, &b), 0);
        leaf_of(2, leaf);
        store_batch_put_leaf_origin(b, leaf, 2, 77);
        put_state(b, 3);
        commit(b, &(struct store_expect){2, 0}, 0);
    }
    check_origins(s, 3, 0, 77);
    store_close(s);
    /* a schema version this code does not know is refused, with or
     * without create */
    pg_exec_in(url, "UPDATE glasslog_meta SET v = '5' WHERE k = 'schema_version'");
    why = NULL;
    assert_int_equal(store_open(&o, &s, &why), GL_EINVAL);
    assert_non_null(why);
    assert_non_null(strstr(why, "schema version"));
    o.create = 1;
    assert_int_equal(store_open(&o, &s, &why), GL_EINVAL);
    pg_drop_db(db);
}

/* Two handles on one database (two glasslogd processes): both read size
 * 3, one extends it, the other's commit is refused (GL_ESTATE) and writes
 * nothing; each sees the other's commits. */
static void test_pg_two_writers(void **state)
{
    struct fx *f = *state;
    struct store *other = NULL;
    const char *why = NULL;

    commit_entries(f->s, 0, 3, UNCHECKED, 0);
    assert_int_equal(fx_open(f, 0, &other, &why), 0);
    check_state(other, 3);
    commit_entries(other, 3, 5, 3, 0);
    check_state(f->s, 5);
    check_entry(f->s, 4);
    commit_entries(f->s, 3, 4, 3, GL_ESTATE); /* the loser */
    check_state(other, 5);
    check_entry(other, 3); /* the winner's entry 3, not the loser's */
    commit_entries(f->s, 5, 6, 5, 0);
    check_state(other, 6);
    store_close(other);
}

/* The epoch is part of the compare-and-set: a sequencer whose epoch is
 * not the stored one (another took over) cannot commit, even on the
 * right size. */
static void test_pg_epoch(void **state)
{
    struct fx *f = *state;
    struct store_batch *b;

    commit_entries(f->s, 0, 2, UNCHECKED, 0);
    pg_exec_in(f->dir, "UPDATE glasslog_state SET epoch = 7");
    commit_entries(f->s, 2, 3, 2, GL_ESTATE); /* epoch 0: stale */
    check_absent_entry(f->s, 2);
    assert_int_equal(store_batch_new(f->s, &b), 0);
    put_entries(b, 2, 3);
    put_state(b, 3);
    commit(b, &(struct store_expect){2, 6}, GL_ESTATE);
    assert_int_equal(store_batch_new(f->s, &b), 0);
    put_entries(b, 2, 3);
    put_state(b, 3);
    commit(b, &(struct store_expect){2, 7}, 0);
    check_state(f->s, 3);
    check_entry(f->s, 2);
}

/* The durable mark (store_get_durable): a sequencer's commit (with an
 * expectation) marks its state once committed, under its epoch; a commit
 * without one (tools) marks nothing; an epoch raised behind the lease's
 * back hides the old mark, a takeover through the lease carries it over; a mark the
 * server never got (simulated: the columns reset) leaves the followers' view where it was
 * though the state moved on. */
static void check_durable(struct store *s, int want_rc, uint64_t want)
{
    struct gl_buf ck, st;
    uint64_t size = 0, ssize = 0;

    gl_buf_init(&ck, 4096);
    gl_buf_init(&st, 4096);
    assert_int_equal(store_get_durable(s, &size, &ck), want_rc);
    if (want_rc == 0) {
        assert_int_equal(size, want);
        assert_int_equal(store_get_state(s, &ssize, &st), 0);
        if (ssize == want) /* the checkpoint is the state's */
            assert_memory_equal(ck.data, st.data, st.len);
    }
    gl_buf_release(&ck);
    gl_buf_release(&st);
}

static void test_pg_durable(void **state)
{
    struct fx *f = *state;

    commit_entries(f->s, 0, 2, UNCHECKED, 0);
    check_durable(f->s, GL_ENOTFOUND, 0); /* never marked */
    commit_entries(f->s, 2, 3, 2, 0);
    check_durable(f->s, 0, 3);
    pg_exec_in(f->dir, "UPDATE glasslog_state SET epoch = 7"); /* a takeover */
    check_durable(f->s, GL_ENOTFOUND, 0);
    pg_exec_in(f->dir, "UPDATE glasslog_state SET durable = 3, durable_epoch = 7");
    check_durable(f->s, 0, 3);
    /* a mark that never arrives: the trigger keeps the columns */
    pg_exec_in(f->dir,
               "CREATE FUNCTION keep_mark() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
               " NEW.durable := OLD.durable; NEW.durable_ck := OLD.durable_ck;"
               " NEW.durable_epoch := OLD.durable_epoch; RETURN NEW; END $$;"
               "CREATE TRIGGER keep_mark BEFORE UPDATE ON glasslog_state"
               " FOR EACH ROW EXECUTE FUNCTION keep_mark()");
    {
        struct store_batch *b;
        assert_int_equal(store_batch_new(f->s, &b), 0);
        put_entries(b, 3, 5);
        put_state(b, 5);
        commit(b, &(struct store_expect){3, 7}, 0);
    }
    check_state(f->s, 5);
    check_durable(f->s, 0, 3);
    pg_exec_in(f->dir, "DROP TRIGGER keep_mark ON glasslog_state");
    {
        struct store_batch *b;
        assert_int_equal(store_batch_new(f->s, &b), 0);
        put_entries(b, 5, 6);
        put_state(b, 6);
        commit(b, &(struct store_expect){5, 7}, 0);
    }
    check_durable(f->s, 0, 6);
    /* a takeover through the lease carries the mark over to its epoch */
    {
        uint64_t epoch = 0;
        pg_exec_in(f->dir, "UPDATE glasslog_lease SET expires = '-infinity'");
        assert_int_equal(store_lease(f->s, "taker", 10000, 0, &epoch), 0);
        assert_true(epoch != 7);
        check_durable(f->s, 0, 6);
    }
}

/* A commit on a thread of its own (commit_main): its result once done
 * (atomic) is set. */
struct committer {
    struct store *s;
    int rc, done;
};

static void *commit_main(void *arg)
{
    struct committer *k = arg;
    struct store_batch *b;

    if ((k->rc = store_batch_new(k->s, &b)) == 0) {
        put_entries(b, 2, 3);
        put_state(b, 3);
        k->rc = store_batch_commit(b, NULL);
        store_batch_free(b);
    }
    __atomic_store_n(&k->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

/* The triggers of test_pg_warned_commit_fails. */
static const char warn_then_fail[] =
    "CREATE FUNCTION warn_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " RAISE WARNING 'test: a warned COMMIT'; RETURN NULL; END $$;"
    "CREATE CONSTRAINT TRIGGER warn_commit AFTER INSERT OR UPDATE ON glasslog_state"
    " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION warn_commit();"
    "CREATE FUNCTION refuse_meta() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " RAISE EXCEPTION 'test: refused' USING ERRCODE = 'P0001'; END $$;"
    "CREATE TRIGGER refuse_meta BEFORE UPDATE ON glasslog_meta"
    " FOR EACH STATEMENT EXECUTE FUNCTION refuse_meta()";

/* A COMMIT the server warned about (here a deferred trigger's WARNING at
 * COMMIT, as a cancelled wait for a synchronous standby gives) whose next
 * writing transaction then fails with an error that is no cancel (a
 * statement trigger refuses the no-op UPDATE, whether or not it
 * finds a row; SQLSTATE P0001): the commit returns
 * GL_EIO, an unknown outcome, after the one-second pause, instead of
 * trying again. Once the triggers are gone, a reopen reads the state the
 * warned COMMIT wrote and the next commit goes through. (The old
 * commit_durable took every failure with a live connection for a cancel
 * and tried again once a second, for ever: here it returned only once
 * the test dropped the refusing trigger after DEADLINE_MS, and then 0.) */
static void test_pg_warned_commit_fails(void **state)
{
    enum { DEADLINE_MS = 4000 };
    struct fx *f = *state;
    struct committer *k = fx_alloc(f, sizeof(*k));
    uint64_t t0 = gl_clock_mono_ms(), ms;
    int done = 0;

    commit_entries(f->s, 0, 2, UNCHECKED, 0);
    pg_exec_in(f->dir, warn_then_fail);
    k->s = f->s;
    fx_spawn(f, commit_main, k);
    while (!(done = __atomic_load_n(&k->done, __ATOMIC_SEQ_CST)) &&
           gl_clock_mono_ms() - t0 < DEADLINE_MS)
        usleep(10000);
    ms = gl_clock_mono_ms() - t0;
    /* the old loop ends once the UPDATE succeeds (and its COMMIT, which
     * writes no glasslog_state, does not warn) */
    pg_exec_in(f->dir, "DROP TRIGGER refuse_meta ON glasslog_meta;"
                       "DROP TRIGGER warn_commit ON glasslog_state");
    fx_end(f);
    print_message("warned commit, then a refused UPDATE: %s after %llu ms, %d\n",
                  done ? "returned" : "still waiting", (unsigned long long)ms, k->rc);
    assert_true(done);
    assert_int_equal(k->rc, GL_EIO);
    assert_int_equal(store_reopen(f->s), 0);
    check_state(f->s, 3); /* committed on the primary */
    commit_entries(f->s, 3, 4, 3, 0);
    check_state(f->s, 4);
}

/* Racing commits from threads on two handles, all built on the same
 * state: exactly one wins each round. */
struct racer {
    struct store *s;
    uint64_t from;
    int rc;
};

static void *race_commit(void *arg)
{
    struct racer *r = arg;
    struct store_batch *b;

    if ((r->rc = store_batch_new(r->s, &b)) != 0)
        return NULL;
    put_entries(b, r->from, r->from + 1);
    put_state(b, r->from + 1);
    r->rc = store_batch_commit(b, &(struct store_expect){r->from, 0});
    store_batch_free(b);
    return NULL;
}

static void test_pg_race(void **state)
{
    struct fx *f = *state;
    struct store *other = NULL;
    const char *why = NULL;

    commit_entries(f->s, 0, 1, UNCHECKED, 0);
    assert_int_equal(fx_open(f, 0, &other, &why), 0);
    for (uint64_t round = 1; round < 20; round++) {
        struct racer r[2] = {{f->s, round, 1}, {other, round, 1}};
        pthread_t t[2];
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_create(&t[i], NULL, race_commit, &r[i]), 0);
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_true((r[0].rc == 0 && r[1].rc == GL_ESTATE) ||
                    (r[0].rc == GL_ESTATE && r[1].rc == 0));
        check_state(f->s, round + 1);
        check_entry(other, round);
    }
    store_close(other);
}

/* A creation: the key and a size-0 checkpoint over the untouched state. */
static int create_with(struct store *s, const char *vkey)
{
    struct store_batch *b = NULL;
    int rc;

    assert_int_equal(store_batch_new(s, &b), 0);
    store_batch_put_vkey(b, vkey);
    store_batch_put_state(b, 0, "ck", 2);
    rc = store_batch_commit(b, &(struct store_expect){0, 0});
    store_batch_free(b);
    return rc;
}

/* The log's key is written once: a second creation with another key (a
 * second glasslogd started with --create at the same time) loses though
 * the state it expects is still the untouched one; the same key again
 * changes nothing. */
static void test_pg_create_once(void **state)
{
    struct fx *f = *state;
    struct gl_buf vk;

    assert_int_equal(create_with(f->s, "example.com/log+01234567+AAAA"), 0);
    assert_int_equal(create_with(f->s, "example.com/log+89abcdef+BBBB"), GL_ESTATE);
    assert_int_equal(create_with(f->s, "example.com/log+01234567+AAAA"), 0);
    gl_buf_init(&vk, 256);
    assert_int_equal(store_get_vkey(f->s, &vk), 0);
    assert_int_equal(vk.len, strlen("example.com/log+01234567+AAAA"));
    assert_memory_equal(vk.data, "example.com/log+01234567+AAAA", vk.len);
    gl_buf_release(&vk);
}

static void test_failed_commit(void **state)
{
    struct fx *f = *state;
    struct store_batch *b;
    uint8_t leaf[32];
    uint64_t got;

    commit_entries(f->s, 0, 2, UNCHECKED, 0);

    store_mem_fail_commits(f->s, 2, GL_EIO);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(store_batch_new(f->s, &b), 0);
        put_entries(b, 2, 4);
        put_tile(b, 0, 0, 4);
        store_batch_put_index(b, STORE_INDEX_SUBJECT, "app", 3, 2);
        store_batch_put_index_version(b, 1);
        put_state(b, 4);
        commit(b, &(struct store_expect){2, 0}, GL_EIO);
        check_state(f->s, 2);
        check_absent_entry(f->s, 2);
        check_absent_entry(f->s, 3);
        leaf_of(2, leaf);
        assert_int_equal(store_find_leaf(f->s, leaf, &got), GL_ENOTFOUND);
        check_absent_tile(f->s, 0, 0);
        check_index(f->s, STORE_INDEX_SUBJECT, "app", 3, 100, 4, NULL, 0);
    }
    /* the failure cleared: the same batch goes through */
    assert_int_equal(store_reopen(f->s), 0);
    assert_int_equal(store_batch_new(f->s, &b), 0);
    put_entries(b, 2, 4);
    put_tile(b, 0, 0, 4);
    put_state(b, 4);
    commit(b, &(struct store_expect){2, 0}, 0);
    check_state(f->s, 4);
    check_entry(f->s, 3);
    check_tile(f->s, 0, 0, 4);

    /* whatever error the hook is given is the commit's */
    store_mem_fail_commits(f->s, 1, GL_ENOMEM);
    assert_int_equal(store_batch_new(f->s, &b), 0);
    put_state(b, 5);
    commit(b, NULL, GL_ENOMEM);
    check_state(f->s, 4);
}

/* Rule 5: a reader on another thread sees whole batches only. The writer
 * commits batch i = entry i, its leaf, tile (0, i) and state i + 1; the
 * reader checks, for every state it reads, that the checkpoint names that
 * size and that every record of the newest batch is there. */
#define RACE_BATCHES 300

struct race {
    struct store *s;
    int rc;
    volatile int done;
};

static void *race_writer(void *arg)
{
    struct race *r = arg;

    for (uint64_t i = 0; i < RACE_BATCHES && r->rc == 0; i++) {
        struct store_batch *b;
        if ((r->rc = store_batch_new(r->s, &b)) != 0)
            break;
        put_entries(b, i, i + 1);
        put_tile(b, 0, i, 1);
        put_state(b, i + 1);
        r->rc = store_batch_commit(b, &(struct store_expect){i, 0});
        store_batch_free(b);
    }
    __atomic_store_n(&r->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void test_concurrent_readers(void **state)
{
    struct fx *f = *state;
    struct race r = {f->s, 0, 0};
    pthread_t t;
    uint64_t last = 0, reads = 0;
    int torn = 0, missing = 0, backwards = 0;

    assert_int_equal(pthread_create(&t, NULL, race_writer, &r), 0);
    for (;;) {
        int done = __atomic_load_n(&r.done, __ATOMIC_SEQ_CST);
        struct gl_buf ck, e;
        char want[128];
        uint64_t size = 0;
        uint8_t tile[STORE_TILE_MAX];
        size_t len;

        gl_buf_init(&ck, 4096);
        gl_buf_init(&e, ENTRY_MAX);
        assert_int_equal(store_get_state(f->s, &size, &ck), 0);
        reads++;
        if (size < last)
            backwards++;
        last = size;
        if (size > 0) {
            checkpoint_text(size, want, sizeof(want));
            if (ck.len != strlen(want) || memcmp(ck.data, want, ck.len) != 0)
                torn++;
            if (store_get_entry(f->s, size - 1, &e) != 0 ||
                store_get_tile(f->s, 0, size - 1, tile, &len) != 0)
                missing++;
        }
        gl_buf_release(&ck);
        gl_buf_release(&e);
        if (done)
            break;
    }
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(r.rc, 0);
    assert_int_equal(torn, 0);
    assert_int_equal(missing, 0);
    assert_int_equal(backwards, 0);
    assert_int_equal(last, RACE_BATCHES);
    assert_true(reads > 1);
}

/* --- the longest index key ------------------------------------------------------- */

/* A statement with the longest subject and version (256 bytes each) gets
 * its SUBJECT_VERSION key (513 bytes), stored and found like any other. */
static void test_longest_index_key(void **state)
{
    struct fx *f = *state;
    struct entryindex ix = {.subject_off = 0,
                            .subject_len = GL_STATEMENT_SUBJECT_MAX,
                            .version_off = GL_STATEMENT_SUBJECT_MAX,
                            .version_len = GL_STATEMENT_VERSION_MAX};
    uint8_t entry[GL_STATEMENT_SUBJECT_MAX + GL_STATEMENT_VERSION_MAX];
    uint8_t key[STORE_INDEX_KEY_MAX];
    struct store_batch *b;
    uint64_t got[4] = {99};
    size_t klen = 0, n = 0;

    memset(entry, 's', GL_STATEMENT_SUBJECT_MAX);
    memset(entry + GL_STATEMENT_SUBJECT_MAX, 'v', GL_STATEMENT_VERSION_MAX);
    assert_int_equal(
        entryindex_subject_version((const char *)entry, GL_STATEMENT_SUBJECT_MAX,
                                   (const char *)entry + GL_STATEMENT_SUBJECT_MAX,
                                   GL_STATEMENT_VERSION_MAX, key, &klen),
        0);
    assert_int_equal(klen, 513);
    assert_int_equal(key[GL_STATEMENT_SUBJECT_MAX], 0);
    assert_int_equal(store_batch_new(f->s, &b), 0);
    store_batch_put_entry(b, 0, entry, sizeof(entry));
    entryindex_put(&ix, entry, 0, b);
    put_state(b, 1);
    assert_int_equal(store_batch_count(b), 5); /* entry, artifact, subject, s+v, state */
    commit(b, &(struct store_expect){0, 0}, 0);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(store_find_index(f->s, STORE_INDEX_SUBJECT_VERSION, key, klen, 0,
                                          1, got, 4, &n),
                         0);
        assert_int_equal(n, 1);
        assert_int_equal(got[0], 0);
        /* the subject alone, and a version one byte shorter, are other keys */
        assert_int_equal(store_find_index(f->s, STORE_INDEX_SUBJECT_VERSION, key,
                                          klen - 1, 0, 1, got, 4, &n),
                         0);
        assert_int_equal(n, 0);
        assert_int_equal(store_find_index(f->s, STORE_INDEX_SUBJECT, entry,
                                          GL_STATEMENT_SUBJECT_MAX, 0, 1, got, 4, &n),
                         0);
        assert_int_equal(n, 1);
        fx_restart(f);
    }
}

/* --- store_reopen while other threads use the store ------------------------------ */

#define REOPENS 100

struct reopen_reader {
    struct store *s;
    uint8_t leaves[10][32];
    volatile int stop;
    uint64_t reads; /* rounds done (atomic) */
    int bad;        /* reads that failed or read wrong data */
};

/* store_scan_tiles callback: reads the store again from inside the scan
 * (a nested read, as a callback may do) and checks the tile. */
static int reopen_tile(void *ctx, uint64_t index, const uint8_t *data, size_t len)
{
    struct reopen_reader *r = ctx;
    uint8_t want[STORE_TILE_MAX];
    uint64_t at = UINT64_MAX;

    tile_data(0, index, 256, want);
    if (index != 0 || len != 256 * 32 || memcmp(data, want, len) != 0 ||
        store_find_leaf(r->s, r->leaves[9], &at) != 0 || at != 9)
        r->bad++;
    return 1;
}

/* Loops over reads of what put_batch1 wrote, counting wrong outcomes (no
 * cmocka assertion off the main thread). */
static void *reopen_reader_run(void *arg)
{
    struct reopen_reader *r = arg;
    uint8_t tile[STORE_TILE_MAX], want[STORE_TILE_MAX];
    char ck[128];

    checkpoint_text(10, ck, sizeof(ck));
    tile_data(0, 1, 5, want);
    while (!__atomic_load_n(&r->stop, __ATOMIC_SEQ_CST)) {
        struct gl_buf b;
        uint64_t size = 0, at = UINT64_MAX, i = r->reads % 10;
        size_t len = 0;

        gl_buf_init(&b, 4096);
        if (store_get_state(r->s, &size, &b) != 0 || size != 10 || b.len != strlen(ck) ||
            memcmp(b.data, ck, b.len) != 0)
            r->bad++;
        gl_buf_release(&b);
        if (store_get_tile(r->s, 0, 1, tile, &len) != 0 || len != 5 * 32 ||
            memcmp(tile, want, len) != 0)
            r->bad++;
        if (store_find_leaf(r->s, r->leaves[i], &at) != 0 || at != i)
            r->bad++;
        if (store_scan_tiles(r->s, 0, 0, reopen_tile, r) != 0)
            r->bad++;
        __atomic_add_fetch(&r->reads, 1, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

/* store_reopen may run while another thread reads (the mirror pusher,
 * a backup): REOPENS reopens while a reader loops over tiles, the state
 * and the leaf index, and every read succeeds with the right data; then
 * commits go on. */
static void test_reopen_while_reading(void **state)
{
    struct fx *f = *state;
    struct reopen_reader r = {.s = f->s};
    struct store_batch *b;
    pthread_t t;
    uint64_t before;

    assert_int_equal(store_batch_new(f->s, &b), 0);
    put_batch1(b);
    commit(b, &(struct store_expect){0, 0}, 0);
    for (uint64_t i = 0; i < 10; i++)
        leaf_of(i, r.leaves[i]);
    assert_int_equal(pthread_create(&t, NULL, reopen_reader_run, &r), 0);
    while (__atomic_load_n(&r.reads, __ATOMIC_SEQ_CST) == 0)
        sched_yield();
    for (int i = 0; i < REOPENS; i++) {
        before = __atomic_load_n(&r.reads, __ATOMIC_SEQ_CST);
        assert_int_equal(store_reopen(f->s), 0);
        /* let the reader get a round in between two reopens */
        while (__atomic_load_n(&r.reads, __ATOMIC_SEQ_CST) == before)
            sched_yield();
    }
    __atomic_store_n(&r.stop, 1, __ATOMIC_SEQ_CST);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(r.bad, 0);
    assert_true(r.reads > REOPENS);
    commit_entries(f->s, 10, 11, 10, 0);
    check_entry(f->s, 10);
    check_state(f->s, 11);
}

/* The test on each backend, named after it. */

/* --- token buckets ---------------------------------------------------------------- */

/* *level is want, or above it by at most the refill of rate_u over
 * elapsed_ms (+ 2 ms of clock granularity). */
static void check_level(int64_t level, int64_t want, uint64_t rate_u, uint64_t elapsed_ms)
{
    if (level < want || level > want + (int64_t)(rate_u * (elapsed_ms + 2)))
        fail_msg("bucket level %lld, want %lld (+ at most %llu ms of refill)",
                 (long long)level, (long long)want, (unsigned long long)elapsed_ms + 2);
}

struct taker {
    struct store *s;
    int n, rc, took;
};

static void *taker_run(void *arg)
{
    struct taker *t = arg;
    int64_t level;
    int took;

    for (int i = 0; i < t->n && t->rc == 0; i++) {
        t->rc = store_bucket_take(t->s, "racer+00000001", 1, 150, 1, &level, &took);
        t->took += took;
    }
    return NULL;
}

/* store_bucket_take: arguments, a new bucket is full, a read changes
 * nothing, takes lower the level by one token each while a whole token is
 * there and then take nothing and leave the level as it was (burst 1: the
 * second take is refused), buckets are independent, the refill by the
 * store's clock (exactly full again after long enough), a lowered burst
 * cuts the level, and concurrent takes (on PostgreSQL from two handles:
 * two front-ends) take exactly the tokens there are. The slow rates (1
 * nanotoken a millisecond) make the refill during a test negligible but
 * bounded: check_level allows it. */
static void test_buckets(void **state)
{
    struct fx *f = *state;
    struct store *other = f->s;
    struct taker t[4];
    pthread_t th[4];
    uint64_t t0 = gl_clock_mono_ms();
    int64_t level;
    int took, sum = 0;
    char longname[STORE_BUCKET_NAME_MAX + 2];
    const char *why = NULL;

    memset(longname, 'k', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    assert_int_equal(store_bucket_take(f->s, "", 1, 3, 0, &level, &took), GL_EINVAL);
    assert_int_equal(store_bucket_take(f->s, NULL, 1, 3, 0, &level, &took), GL_EINVAL);
    assert_int_equal(store_bucket_take(f->s, longname, 1, 3, 0, &level, &took),
                     GL_EINVAL);
    assert_int_equal(store_bucket_take(f->s, "a+00000001", 0, 3, 0, &level, &took),
                     GL_EINVAL);
    assert_int_equal(store_bucket_take(f->s, "a+00000001", 1, 0, 0, &level, &took),
                     GL_EINVAL);
    assert_int_equal(store_bucket_take(f->s, "a+00000001", 1, 3, 1, &level, NULL),
                     GL_EINVAL);
    longname[STORE_BUCKET_NAME_MAX] = 0; /* the longest name is fine */
    assert_int_equal(store_bucket_take(f->s, longname, 1, 3, 1, &level, &took), 0);
    assert_int_equal(took, 1);
    check_level(level, 2 * TOKEN, 1, gl_clock_mono_ms() - t0);

    assert_int_equal(store_bucket_take(f->s, "a+00000001", 1, 3, 0, &level, &took), 0);
    assert_int_equal(level, 3 * TOKEN); /* new: full */
    assert_int_equal(took, 0);
    assert_int_equal(store_bucket_take(f->s, "a+00000001", 1, 3, 0, &level, &took), 0);
    assert_int_equal(level, 3 * TOKEN); /* a read took nothing */
    for (int i = 1; i <= 5; i++) {
        assert_int_equal(store_bucket_take(f->s, "a+00000001", 1, 3, 1, &level, &took),
                         0);
        assert_int_equal(took, i <= 3); /* then no whole token: nothing taken */
        check_level(level, (i <= 3 ? 3 - i : 0) * TOKEN, 1, gl_clock_mono_ms() - t0);
    }
    assert_int_equal(store_bucket_take(f->s, "a+00000001", 1, 3, 0, &level, &took), 0);
    check_level(level, 0, 1, gl_clock_mono_ms() - t0); /* no debt */
    assert_int_equal(store_bucket_take(f->s, "b+00000001", 1, 3, 0, &level, &took), 0);
    assert_int_equal(level, 3 * TOKEN); /* another bucket */

    /* burst 1: the first take takes, the second is refused and leaves the
     * level as the first left it (but for the refill meanwhile) */
    t0 = gl_clock_mono_ms();
    assert_int_equal(store_bucket_take(f->s, "one+00000001", 1, 1, 1, &level, &took), 0);
    assert_int_equal(took, 1);
    check_level(level, 0, 1, gl_clock_mono_ms() - t0);
    assert_int_equal(store_bucket_take(f->s, "one+00000001", 1, 1, 1, &level, &took), 0);
    assert_int_equal(took, 0);
    check_level(level, 0, 1, gl_clock_mono_ms() - t0);
    assert_int_equal(store_bucket_take(f->s, "one+00000001", 1, 1, 0, &level, &took), 0);
    check_level(level, 0, 1, gl_clock_mono_ms() - t0);

    /* refill: 10 tokens a second (10^7 nanotokens a ms), burst 1; a take
     * leaves about 0 tokens, which 100 ms fill to exactly one token */
    assert_int_equal(
        store_bucket_take(f->s, "fast+00000001", 10000000, 1, 1, &level, &took), 0);
    assert_int_equal(took, 1);
    assert_true(level < TOKEN);
    usleep(250 * 1000);
    assert_int_equal(
        store_bucket_take(f->s, "fast+00000001", 10000000, 1, 0, &level, &took), 0);
    assert_int_equal(level, TOKEN);
    /* a lowered burst cuts a fuller level */
    assert_int_equal(store_bucket_take(f->s, "b+00000001", 1, 2, 0, &level, &took), 0);
    assert_int_equal(level, 2 * TOKEN);

    /* 4 threads (two handles on PostgreSQL) x 50 takes of a bucket of 150
     * tokens: exactly 150 take one */
    if (f->kind == PG) {
        commit_entries(f->s, 0, 1, UNCHECKED, 0); /* a log the other handle opens */
        assert_int_equal(fx_open(f, 0, &other, &why), 0);
    }
    t0 = gl_clock_mono_ms();
    for (int i = 0; i < 4; i++) {
        t[i] = (struct taker){i % 2 ? other : f->s, 50, 0, 0};
        assert_int_equal(pthread_create(&th[i], NULL, taker_run, &t[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(t[i].rc, 0);
        sum += t[i].took;
    }
    assert_int_equal(sum, 150);
    assert_int_equal(store_bucket_take(other, "racer+00000001", 1, 150, 0, &level, &took),
                     0);
    check_level(level, 0, 1, gl_clock_mono_ms() - t0);
    if (other != f->s)
        store_close(other);
}

#define ON(fn, k)                                                                        \
    {                                                                                    \
#fn " (" #k ")", fn, setup, teardown, &kind_##k                                  \
    }
#define BOTH(fn) ON(fn, mem), ON(fn, rocksdb)

/* store_read_capacity: no limit (0) where a read holds nothing another
 * call needs (mem, rocksdb); half the connection pool (4 of 8) on
 * PostgreSQL. */
static void test_read_capacity(void **state)
{
    struct fx *f = *state;

    assert_int_equal(store_read_capacity(f->s), f->kind == PG ? 4 : 0);
}

/* The served checkpoint: only shared backends hold one; a put never
 * lowers the size, the same size replaces the note (fresher
 * cosignatures), and another handle reads what was put. */
static void check_served(struct store *s, int want_rc, uint64_t want_size,
                         const char *want)
{
    struct gl_buf b;
    uint64_t size = 0;

    gl_buf_init(&b, 1024);
    assert_int_equal(store_get_served(s, &size, &b), want_rc);
    if (want_rc == 0) {
        assert_int_equal(size, want_size);
        assert_int_equal(b.len, strlen(want));
        assert_memory_equal(b.data, want, b.len);
    }
    gl_buf_release(&b);
}

static void test_served(void **state)
{
    struct fx *f = *state;
    struct store *other = NULL;
    const char *why = NULL;

    if (!store_shared(f->s)) {
        assert_int_equal(store_put_served(f->s, 1, (const uint8_t *)"x", 1), GL_EINVAL);
        check_served(f->s, GL_EINVAL, 0, NULL);
        return;
    }
    check_served(f->s, GL_ENOTFOUND, 0, NULL);
    assert_int_equal(store_put_served(f->s, 5, (const uint8_t *)"five", 4), 0);
    check_served(f->s, 0, 5, "five");
    assert_int_equal(store_put_served(f->s, 3, (const uint8_t *)"three", 5), 0);
    check_served(f->s, 0, 5, "five"); /* never lowered */
    assert_int_equal(store_put_served(f->s, 5, (const uint8_t *)"five'", 5), 0);
    check_served(f->s, 0, 5, "five'");
    assert_int_equal(store_put_served(f->s, 256, (const uint8_t *)"big", 3), 0);
    assert_int_equal(store_put_served(f->s, 255, (const uint8_t *)"less", 4), 0);
    assert_int_equal(fx_open(f, 0, &other, &why), 0);
    check_served(other, 0, 256, "big"); /* 255 < 256, as numbers */
    assert_int_equal(store_put_served(other, 5, NULL, 0), GL_EINVAL);
    store_close(other);
}

/* Leaf origins and queue ids: a shared store records with a leaf the
 * queue id of the copy that created it, the first put of a hash keeping
 * its own; store_queue_put gives each row the id store_queue_scan reports,
 * in order. The others record no origin (0), and have no queue. */
struct qseen {
    uint64_t ids[8];
    size_t n;
};

static int queue_seen(void *ctx, uint64_t id, const struct store_queued *q)
{
    struct qseen *qs = ctx;

    assert_true(qs->n < 8);
    assert_int_equal(q->len, 2);
    assert_int_equal(q->data[0], 'q');
    assert_int_equal(q->data[1], '0' + qs->n);
    qs->ids[qs->n++] = id;
    return 0;
}

static void test_origins(void **state)
{
    struct fx *f = *state;
    struct store_batch *b;
    struct store_queued q[3];
    struct qseen qs = {{0}, 0};
    uint64_t ids[3] = {0};
    uint8_t leaf[32];
    int shared = store_shared(f->s);

    if (shared) {
        static const char *const data[] = {"q0", "q1", "q2"};
        for (int i = 0; i < 3; i++)
            q[i] = (struct store_queued){(const uint8_t *)data[i], (const uint8_t *)"m",
                                         2, 1};
        assert_int_equal(store_queue_put(f->s, q, 3, ids), 0);
        assert_int_equal(store_queue_scan(f->s, 8, queue_seen, &qs), 0);
        assert_int_equal(qs.n, 3);
        for (int i = 0; i < 3; i++)
            assert_int_equal(ids[i], qs.ids[i]);
        assert_true(ids[0] != 0 && ids[0] < ids[1] && ids[1] < ids[2]);
    } else {
        ids[1] = 42; /* recorded nowhere: these backends keep no origin */
        assert_int_equal(store_queue_put(f->s, q, 1, ids), GL_EINVAL);
    }
    commit_entries(f->s, 0, 2, UNCHECKED, 0);
    assert_int_equal(store_batch_new(f->s, &b), 0);
    leaf_of(2, leaf);
    store_batch_put_leaf_origin(b, leaf, 2, ids[1]);
    store_batch_put_leaf_origin(b, leaf, 2, ids[2]); /* a later put: ignored */
    put_state(b, 3);
    commit(b, &(struct store_expect){2, 0}, 0);
    check_origins(f->s, 3, 0, shared ? ids[1] : 0);
}

/* store_bound_thread. PostgreSQL: another session holds the lease and
 * state tables locked for LOCK_HOLD_MS (as a database that stops
 * answering would hold every statement); the bound thread's lease
 * renewal returns GL_EIO once its bound (BOUND_MS) passed, not when the
 * lock goes (the old code waited for it), and its next call fails at
 * once (the quiet time); a call of another thread is not bounded: it
 * waits for the lock and succeeds; after the lock the bound thread's
 * calls succeed again, on a new connection. The other backends: nothing
 * to bound, calls work as before. A bound of 0 is refused, and so is
 * another thread's store_bound_thread once one thread is bound. */
#define BOUND_MS 300
#define LOCK_HOLD_MS 1500

struct locker {
    const char *url;
    const char *tables; /* locked, "t1, t2" */
    pthread_barrier_t locked;
    int ok; /* the tables were locked */
};

static void *locker_run(void *arg)
{
    struct locker *l = arg;
    PGconn *c = PQconnectdb(l->url);
    char sql[128];
    PGresult *r;
    int ok;

    snprintf(sql, sizeof(sql), "BEGIN READ WRITE; LOCK TABLE %s IN ACCESS EXCLUSIVE MODE",
             l->tables);
    r = PQexec(c, sql);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;

    PQclear(r);
    l->ok = ok;
    pthread_barrier_wait(&l->locked);
    if (ok) {
        usleep(LOCK_HOLD_MS * 1000);
        PQclear(PQexec(c, "COMMIT"));
    }
    PQfinish(c);
    return ok ? arg : NULL;
}

struct other_reader {
    struct store *s;
    /* when_waiting: read once a reopen waits for the gate (store_impl.h),
     * or once release (if not NULL) is set or BLOCK_MS passed; saw: one
     * did */
    int when_waiting, saw;
    const int *release;
    uint64_t ms, size, end; /* end: gl_clock_mono_ms when the read returned */
    int rc;
};

#define BLOCK_MS 3000

/* store_bound_thread from a thread other than the bound one: GL_EINVAL,
 * and the bound thread and its bound stay (store_bound_ms reads them
 * without a lock: they must not change under it). */
struct binder {
    struct store *s;
    int rc;
    unsigned ms;
};

static void *other_binder_run(void *arg)
{
    struct binder *b = arg;

    b->rc = store_bound_thread(b->s, 2 * BOUND_MS);
    b->ms = store_bound_ms(b->s);
    return NULL;
}

/* Whether a store_reopen of s waits for its gate. */
static int reopen_waits(struct store *s)
{
    int w;

    pthread_mutex_lock(&s->gate_mu);
    w = s->reopen == STORE_REOPEN_WAITING;
    pthread_mutex_unlock(&s->gate_mu);
    return w;
}

static void *other_reader_run(void *arg)
{
    struct other_reader *o = arg;
    uint64_t t0 = gl_clock_mono_ms();
    struct gl_buf ck;

    while (o->when_waiting && !(o->saw = reopen_waits(o->s)) &&
           (o->release == NULL || !__atomic_load_n(o->release, __ATOMIC_SEQ_CST)) &&
           gl_clock_mono_ms() - t0 < BLOCK_MS)
        usleep(1000);
    t0 = gl_clock_mono_ms();
    gl_buf_init(&ck, 4096);
    o->rc = store_get_state(o->s, &o->size, &ck);
    o->end = gl_clock_mono_ms();
    o->ms = o->end - t0;
    gl_buf_release(&ck);
    return NULL;
}

static void test_bound_thread(void **state)
{
    struct fx *f = *state;
    struct locker l;
    struct other_reader o = {.s = f->s, .rc = -1};
    struct binder b = {.s = f->s, .rc = -1, .ms = 1};
    struct gl_buf ck;
    pthread_t lt, ot;
    uint64_t epoch = 0, again = 0, t0, ms;
    int64_t level;
    int took;
    void *locked = NULL;
    int rc;

    assert_int_equal(store_bound_thread(f->s, 0), GL_EINVAL);
    assert_int_equal(store_bound_thread(f->s, BOUND_MS), 0);
    assert_int_equal(pthread_create(&ot, NULL, other_binder_run, &b), 0);
    pthread_join(ot, NULL);
    assert_int_equal(b.rc, GL_EINVAL); /* the bound thread stays */
    assert_int_equal(b.ms, 0);
    assert_int_equal(store_bound_ms(f->s), BOUND_MS);
    commit_entries(f->s, 0, 2, UNCHECKED, 0);
    check_state(f->s, 2);
    if (!store_shared(f->s))
        return;
    assert_int_equal(store_lease(f->s, "bound", 60000, 0, &epoch), 0);
    l.url = f->dir;
    l.tables = "glasslog_lease, glasslog_state";
    assert_int_equal(pthread_barrier_init(&l.locked, NULL, 2), 0);
    assert_int_equal(pthread_create(&lt, NULL, locker_run, &l), 0);
    pthread_barrier_wait(&l.locked);
    t0 = gl_clock_mono_ms();
    rc = store_lease(f->s, "bound", 60000, epoch, &again);
    ms = gl_clock_mono_ms() - t0;
    print_message("bound lease renewal: %d after %llu ms\n", rc, (unsigned long long)ms);
    assert_int_equal(rc, GL_EIO);
    assert_true(ms >= BOUND_MS - 5 && ms < LOCK_HOLD_MS - 300);
    t0 = gl_clock_mono_ms();
    gl_buf_init(&ck, 4096);
    assert_int_equal(store_get_state(f->s, &again, &ck), GL_EIO);
    gl_buf_release(&ck);
    /* at once: the quiet time (a call that asked the locked database
     * would wait its whole bound) */
    assert_true(gl_clock_mono_ms() - t0 < BOUND_MS - 50);
    assert_int_equal(pthread_create(&ot, NULL, other_reader_run, &o), 0);
    pthread_join(ot, NULL);
    pthread_join(lt, &locked);
    assert_non_null(locked);
    assert_int_equal(o.rc, 0); /* waited for the lock, as before */
    assert_int_equal(o.size, 2);
    assert_true(o.ms > BOUND_MS);
    pthread_barrier_destroy(&l.locked);
    usleep(BOUND_MS * 1000); /* the quiet time is over */
    assert_int_equal(store_lease(f->s, "bound", 60000, epoch, &again), 0);
    assert_int_equal(again, epoch);
    check_state(f->s, 2);
    /* another call's timeout (the served note's table locked) spares the
     * lease: its renewal in the quiet time asks the database and keeps
     * the lease, while the other calls fail at once */
    l.tables = "glasslog_meta";
    assert_int_equal(pthread_barrier_init(&l.locked, NULL, 2), 0);
    assert_int_equal(pthread_create(&lt, NULL, locker_run, &l), 0);
    pthread_barrier_wait(&l.locked);
    gl_buf_init(&ck, 4096);
    assert_int_equal(store_get_served(f->s, &again, &ck), GL_EIO);
    t0 = gl_clock_mono_ms();
    assert_int_equal(store_get_state(f->s, &again, &ck), GL_EIO);
    assert_true(gl_clock_mono_ms() - t0 < BOUND_MS - 50); /* the quiet time */
    gl_buf_release(&ck);
    assert_int_equal(store_lease(f->s, "bound", 60000, epoch, &again), 0);
    assert_int_equal(again, epoch);
    pthread_join(lt, &locked);
    assert_non_null(locked);
    pthread_barrier_destroy(&l.locked);
    usleep(BOUND_MS * 1000);
    check_state(f->s, 2);
    /* a statement the server refuses is an error at once, not a timeout:
     * no quiet time follows */
    pg_exec_in(f->dir, "DROP TABLE glasslog_buckets");
    t0 = gl_clock_mono_ms();
    assert_int_equal(store_bucket_take(f->s, "b", 1000000, 1, 1, &level, &took), GL_EIO);
    check_state(f->s, 2);
    assert_true(gl_clock_mono_ms() - t0 < BOUND_MS);
}

/* The bound thread never connects (the connector does). A connection
 * string whose first host is a black hole (a listening socket that never
 * answers: the kernel completes the handshake) before the test's server,
 * with connect_timeout=1: the bound thread's store_reopen (glasslogd's
 * after a failed commit, retried on the event loop) drops the pool, each
 * try returns within its bound (GL_EIO while the connector waits on the
 * black hole), and one succeeds within seconds, on the connection the
 * connector made meanwhile, which a retried reopen keeps. (The old code
 * connected on the bound thread step by step, where libpq ignores
 * connect_timeout: every try gave its whole bound to the black hole.) */
#define CONNECT_WAIT_MS 8000

/* A socket bound to 127.0.0.1, on a free port (*port; if not 0 before,
 * that port), not listening: the port refuses connections while it is
 * held. shared: with SO_REUSEPORT, so another shared socket of this user
 * can bind (and listen on) that port meanwhile. */
static int bind_local(int *port, int shared)
{
    struct sockaddr_in a = {0};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), on = 1;

    assert_true(fd >= 0);
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)), 0);
    if (shared)
        assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)), 0);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)*port);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* A socket listening on 127.0.0.1, on a free port (*port). Until the
 * test accepts on it, a black hole: the kernel completes the handshake,
 * nothing ever answers. */
static int listen_local(int *port)
{
    int fd = bind_local(port, 0);

    assert_int_equal(listen(fd, 16), 0);
    return fd;
}

static void test_pg_connector(void **state)
{
    struct fx *f = *state;
    struct store_options o = {0};
    struct store *s = NULL;
    const char *why = NULL, *at = strchr(f->dir, '@');
    char url[512];
    uint64_t t0, t, ms;
    int port = 0, bh = listen_local(&port), rc, tries = 0;

    assert_non_null(at);
    snprintf(url, sizeof(url), "%.*s127.0.0.1:%d,%s?connect_timeout=1",
             (int)(at + 1 - f->dir), f->dir, port, at + 1);
    o.url = url;
    commit_entries(f->s, 0, 2, UNCHECKED, 0);      /* not empty: opened without create */
    assert_int_equal(store_open(&o, &s, &why), 0); /* PQconnectdb: past the hole */
    assert_int_equal(store_bound_thread(s, BOUND_MS), 0);
    t0 = gl_clock_mono_ms();
    do {
        t = gl_clock_mono_ms();
        rc = store_reopen(s);
        ms = gl_clock_mono_ms() - t;
        tries++;
        assert_true(ms < BOUND_MS + 1000); /* never blocked for a connect (2 s) */
        if (rc != 0)
            usleep(BOUND_MS * 1000 + 50000); /* the quiet time */
    } while (rc != 0 && gl_clock_mono_ms() - t0 < CONNECT_WAIT_MS);
    print_message("reopen past a black hole: %d after %d tries, %llu ms\n", rc, tries,
                  (unsigned long long)(gl_clock_mono_ms() - t0));
    assert_int_equal(rc, 0);
    assert_true(tries > 1); /* the first waited for the connector */
    check_state(s, 2);
    store_close(s);
    close(bh);
}

/* A proxy to the test's server that goes silent once the server has let
 * the session in: it relays both ways until it has relayed the server's
 * first ReadyForQuery ('Z'), then relays nothing more and keeps both
 * sockets open (a host that froze right after a login). */
struct frozen_proxy {
    int lfd, server_port;
    int c, srv;  /* the relayed connection's two sockets; -1: none */
    int stop[2]; /* a byte written to stop[1] ends the thread */
    pthread_t th;
};

/* The big-endian 32-bit number at p (a protocol message's length). */
static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads the server's messages from buf[0..*have) as far as whole ones go:
 * 1 once a ReadyForQuery is among them (*cut: the bytes up to its end),
 * else 0 (*cut: the whole messages). */
static int frozen_scan(const uint8_t *buf, size_t have, size_t *cut)
{
    size_t at = 0;

    while (have - at >= 5) {
        uint32_t len = get_u32(buf + at + 1);
        if (len < 4 || have - at - 1 < len)
            break;
        at += 1 + len;
        if (buf[at - 1 - len] == 'Z') {
            *cut = at;
            return 1;
        }
    }
    *cut = at;
    return 0;
}

/* Waits for fd (POLLIN) or the stop pipe: 1 for fd, 0 to stop. */
static int frozen_wait(const struct frozen_proxy *fp, int fd)
{
    struct pollfd pf[2] = {{fp->stop[0], POLLIN, 0}, {fd, POLLIN, 0}};

    return poll(pf, fd >= 0 ? 2 : 1, -1) > 0 && pf[0].revents == 0;
}

static void *frozen_main(void *arg)
{
    struct frozen_proxy *fp = arg;
    struct sockaddr_in a = {0};
    uint8_t buf[65536];
    size_t have = 0, cut;
    int ready = 0;

    if (!frozen_wait(fp, fp->lfd) || (fp->c = accept(fp->lfd, NULL, NULL)) < 0 ||
        (fp->srv = socket(AF_INET, SOCK_STREAM, 0)) < 0)
        return NULL;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)fp->server_port);
    if (connect(fp->srv, (struct sockaddr *)&a, sizeof(a)) != 0)
        return NULL;
    while (!ready) {
        struct pollfd pf[3] = {
            {fp->c, POLLIN, 0}, {fp->srv, POLLIN, 0}, {fp->stop[0], POLLIN, 0}};
        ssize_t n;
        if (poll(pf, 3, -1) < 0 || pf[2].revents != 0)
            return NULL;
        if (pf[0].revents & (POLLIN | POLLHUP)) {
            if ((n = read(fp->c, buf + have, sizeof(buf) / 2)) <= 0 ||
                write(fp->srv, buf + have, (size_t)n) != n)
                return NULL;
        }
        if (pf[1].revents & (POLLIN | POLLHUP)) {
            if ((n = read(fp->srv, buf + have, sizeof(buf) - have)) <= 0)
                return NULL;
            have += (size_t)n;
            ready = frozen_scan(buf, have, &cut);
            if (write(fp->c, buf, cut) != (ssize_t)cut)
                return NULL;
            memmove(buf, buf + cut, have - cut);
            have -= cut;
        }
    }
    (void)frozen_wait(fp, -1); /* silent from now on, both sockets held */
    return NULL;
}

/* The store's session settings are bounded: a server that lets a new
 * session in and then stops answering fails the connection after
 * PG_SETUP_MS (5 s) in store_pg.c, instead of holding the connecting
 * thread (for the event loop, the store's connector) without end. */
static void test_pg_frozen_after_login(void **state)
{
    struct fx *f = *state;
    struct frozen_proxy fp;
    struct store_options o = {0};
    struct store *s = NULL;
    const char *why = NULL, *at = strchr(f->dir, '@'), *colon, *slash;
    char url[512];
    uint64_t t0, ms;
    int port, rc;

    assert_non_null(at);
    assert_non_null(colon = strchr(at, ':'));
    assert_non_null(slash = strchr(colon, '/'));
    fp.server_port = atoi(colon + 1);
    fp.c = fp.srv = -1;
    assert_int_equal(pipe(fp.stop), 0);
    port = 0;
    fp.lfd = listen_local(&port);
    assert_int_equal(pthread_create(&fp.th, NULL, frozen_main, &fp), 0);
    snprintf(url, sizeof(url), "%.*s127.0.0.1:%d%s%csslmode=disable&gssencmode=disable",
             (int)(at + 1 - f->dir), f->dir, port, slash,
             strchr(slash, '?') != NULL ? '&' : '?');
    o.url = url;
    commit_entries(f->s, 0, 2, UNCHECKED, 0); /* not empty: opened without create */
    t0 = gl_clock_mono_ms();
    alarm(60); /* a connection held without end fails the run, not hangs it */
    rc = store_open(&o, &s, &why);
    alarm(0);
    ms = gl_clock_mono_ms() - t0;
    print_message("open through a host silent after login: %d after %llu ms\n", rc,
                  (unsigned long long)ms);
    assert_int_not_equal(rc, 0);
    assert_null(s);
    assert_true(ms >= 4500 && ms < 9000); /* the settings' bound, not before */
    assert_int_equal(write(fp.stop[1], "", 1), 1);
    pthread_join(fp.th, NULL);
    close(fp.c); /* the server's session ends */
    close(fp.srv);
    close(fp.lfd);
    close(fp.stop[0]);
    close(fp.stop[1]);
}

/* store_reopen on the bound thread (glasslogd's event loop, after a
 * failed commit) waits at most its bound (BOUND_MS) for the operations
 * under way, then returns GL_EIO and changes nothing; once they ended a
 * reopen succeeds and the store works. (The old code waited for them
 * without a bound.) Every backend: another thread's scan whose callback
 * holds on (until the test releases it, BLOCK_MS at most, for the old
 * code, where the reopen waits for it); the callback reads the store
 * again while the reopen waits, and is not held back by it (a nested
 * call would otherwise wait for a reopen that waits for it); a read a
 * third thread starts while the reopen waits is held back (the reopen
 * goes first) until the reopen gives up, and goes on at once then.
 * PostgreSQL: another thread's read that the database holds up (its
 * table locked by another session for LOCK_HOLD_MS; the off-loop reads
 * of glasslogd's read API). */
struct blocker {
    struct store *s;
    pthread_barrier_t in; /* the callback runs */
    const int *release;   /* atomic: the callback is to return */
    struct store *nested; /* the callback reads it (NULL: none) once its
                           * reopen waits */
    unsigned hold_ms;     /* the callback's longest hold (0: BLOCK_MS) */
    int rc, nested_rc;
    uint64_t nested_ms;
};

static int block_entry(void *ctx, uint64_t index, const uint8_t *data, size_t len)
{
    struct blocker *b = ctx;
    uint64_t t0, t, size = 0;
    struct gl_buf ck;

    (void)index, (void)data, (void)len;
    pthread_barrier_wait(&b->in);
    t0 = gl_clock_mono_ms();
    if (b->nested != NULL) {
        while (!reopen_waits(b->nested) &&
               !__atomic_load_n(b->release, __ATOMIC_SEQ_CST) &&
               gl_clock_mono_ms() - t0 < BLOCK_MS)
            usleep(1000);
        gl_buf_init(&ck, 4096);
        t = gl_clock_mono_ms();
        b->nested_rc = store_get_state(b->nested, &size, &ck);
        b->nested_ms = gl_clock_mono_ms() - t;
        gl_buf_release(&ck);
    }
    while (!__atomic_load_n(b->release, __ATOMIC_SEQ_CST) &&
           gl_clock_mono_ms() - t0 < (b->hold_ms != 0 ? b->hold_ms : BLOCK_MS))
        usleep(1000);
    return 0;
}

static void *blocker_run(void *arg)
{
    struct blocker *b = arg;

    b->rc = store_scan_entries(b->s, 0, 1, block_entry, b);
    return NULL;
}

/* Starts b's scan on a thread of f's (fx_spawn) and returns once its
 * callback runs: b holds the store's gate until released (fx_end) or its
 * hold is over. The caller destroys b->in after fx_end. */
static void blocker_start(struct fx *f, struct blocker *b)
{
    assert_int_equal(pthread_barrier_init(&b->in, NULL, 2), 0);
    fx_spawn(f, blocker_run, b);
    pthread_barrier_wait(&b->in);
}

/* How many sessions of the database at url (but the asking one) match
 * cond (SQL on pg_stat_activity's columns); -1 on an error. */
static int pg_sessions(const char *url, const char *cond)
{
    PGconn *c = PQconnectdb(url);
    char sql[256];
    PGresult *r;
    int n;

    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
             "AND pid <> pg_backend_pid() AND %s",
             cond);
    r = PQexec(c, sql);
    n = PQresultStatus(r) == PGRES_TUPLES_OK ? atoi(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    PQfinish(c);
    return n;
}

/* The pids of the sessions of the database at url for which cond
 * holds, in ascending order, comma-separated, into buf (max bytes; ""
 * for none). */
static void pg_session_pids(const char *url, const char *cond, char *buf, size_t max)
{
    PGconn *c = PQconnectdb(url);
    char sql[256];
    PGresult *r;

    snprintf(sql, sizeof(sql),
             "SELECT coalesce(string_agg(pid::text, ',' ORDER BY pid), '')"
             " FROM pg_stat_activity WHERE datname = current_database()"
             " AND pid <> pg_backend_pid() AND %s",
             cond);
    r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    snprintf(buf, max, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(c);
}

/* How many sessions of the database at url wait for a lock. */
static int pg_lock_waiters(const char *url)
{
    return pg_sessions(url, "wait_event_type = 'Lock'");
}

/* store_reopen, tried again after each failure (the quiet time after a
 * timeout, the connector's connection) for up to CONNECT_WAIT_MS. */
static int reopen_until_done(struct store *s)
{
    uint64_t t0 = gl_clock_mono_ms();
    int rc;

    while ((rc = store_reopen(s)) != 0 && gl_clock_mono_ms() - t0 < CONNECT_WAIT_MS)
        usleep(BOUND_MS * 1000 + 50000);
    return rc;
}

/* The bound thread's store_reopen while the store is read: its result
 * (want) and how long it took; the time (gl_clock_mono_ms) it returned. */
static uint64_t reopen_bounded(struct store *s, int want)
{
    uint64_t t0 = gl_clock_mono_ms(), t1;
    int rc = store_reopen(s);

    t1 = gl_clock_mono_ms();
    print_message("bound reopen during a read: %d after %llu ms\n", rc,
                  (unsigned long long)(t1 - t0));
    assert_int_equal(rc, want);
    assert_true(t1 - t0 >= BOUND_MS - 5 && t1 - t0 < BOUND_MS + 700);
    return t1;
}

static void test_reopen_bounded(void **state)
{
    struct fx *f = *state;
    struct blocker *b = fx_alloc(f, sizeof(*b));
    struct other_reader *c = fx_alloc(f, sizeof(*c)), *o = fx_alloc(f, sizeof(*o));
    struct locker *l = fx_alloc(f, sizeof(*l));
    uint64_t t0, t1;
    int waiters = 0;

    *b = (struct blocker){.s = f->s, .release = &f->release, .nested = f->s};
    *c = (struct other_reader){
        .s = f->s, .when_waiting = 1, .release = &f->release, .rc = -1};
    *o = (struct other_reader){.s = f->s, .rc = -1};
    commit_entries(f->s, 0, 2, UNCHECKED, 0);
    assert_int_equal(store_bound_thread(f->s, BOUND_MS), 0);
    blocker_start(f, b);
    fx_spawn(f, other_reader_run, c); /* reads once the reopen waits */
    t0 = gl_clock_mono_ms();
    t1 = reopen_bounded(f->s, GL_EIO);
    fx_end(f);
    pthread_barrier_destroy(&b->in);
    assert_int_equal(b->rc, 0);
    assert_int_equal(b->nested_rc, 0);
    assert_true(b->nested_ms < BOUND_MS / 2); /* not held back */
    print_message("a read started while the reopen waited: %d after %llu ms, %lld ms "
                  "after the reopen gave up\n",
                  c->rc, (unsigned long long)c->ms, (long long)(c->end - t1));
    assert_true(c->saw);
    assert_int_equal(c->rc, 0);
    assert_int_equal(c->size, 2);
    assert_true(c->end >= t0 + BOUND_MS - 5); /* held back until the reopen gave up */
    assert_true(c->end < t1 + BOUND_MS);      /* and let go then (not BLOCK_MS) */
    assert_int_equal(reopen_until_done(f->s), 0);
    check_state(f->s, 2);
    commit_entries(f->s, 2, 3, 2, 0);
    check_state(f->s, 3);
    if (f->kind != PG)
        return;
    l->url = f->dir;
    l->tables = "glasslog_state";
    assert_int_equal(pthread_barrier_init(&l->locked, NULL, 2), 0);
    fx_spawn(f, locker_run, l);
    pthread_barrier_wait(&l->locked);
    fx_spawn(f, other_reader_run, o);
    for (int i = 0; i < 200 && (waiters = pg_lock_waiters(f->dir)) < 1; i++)
        usleep(10000);
    assert_int_equal(waiters, 1); /* the read waits for the lock */
    reopen_bounded(f->s, GL_EIO);
    fx_end(f); /* the lock is held LOCK_HOLD_MS, then the read ends */
    pthread_barrier_destroy(&l->locked);
    assert_true(l->ok);
    assert_int_equal(o->rc, 0); /* the read waited for the lock */
    assert_int_equal(o->size, 3);
    assert_int_equal(reopen_until_done(f->s), 0);
    check_state(f->s, 3);
    commit_entries(f->s, 3, 4, 3, 0);
    check_state(f->s, 4);
}

/* A bound reopen given up says what it waited for: store calls under way
 * (another thread's scan, held), or another thread's reopen (itself
 * waiting for that scan, without a bound). (The old code said "store
 * calls under way" for both.) */
struct reopener {
    struct store *s;
    int rc;
};

static void *reopener_run(void *arg)
{
    struct reopener *r = arg;

    r->rc = store_reopen(r->s);
    return NULL;
}

/* store_reopen(s) with stderr (the store's log) going to buf (max bytes
 * with the NUL): its result. */
static int reopen_logged(struct store *s, char *buf, size_t max)
{
    FILE *t = tmpfile();
    size_t n;
    int saved, rc;

    assert_non_null(t);
    fflush(stderr);
    assert_true((saved = dup(2)) >= 0);
    assert_true(dup2(fileno(t), 2) >= 0);
    rc = store_reopen(s);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(t);
    n = fread(buf, 1, max - 1, t);
    buf[n] = 0;
    fclose(t);
    return rc;
}

static void test_reopen_says_why(void **state)
{
    struct fx *f = *state;
    struct blocker *b = fx_alloc(f, sizeof(*b));
    struct reopener *r = fx_alloc(f, sizeof(*r));
    char calls[1024], reopen[1024];
    int rc_calls, rc_reopen;

    *b = (struct blocker){.s = f->s, .release = &f->release};
    *r = (struct reopener){.s = f->s, .rc = -1};
    assert_int_equal(store_bound_thread(f->s, BOUND_MS), 0);
    commit_entries(f->s, 0, 2, UNCHECKED, 0);
    blocker_start(f, b);
    rc_calls = reopen_logged(f->s, calls, sizeof(calls));
    fx_spawn(f, reopener_run, r);
    for (int i = 0; i < 1000 && !reopen_waits(f->s); i++)
        usleep(1000);
    rc_reopen = reopen_logged(f->s, reopen, sizeof(reopen));
    fx_end(f); /* the scan ends, then the other reopen runs */
    pthread_barrier_destroy(&b->in);
    print_message("behind a scan: %d, %s", rc_calls, calls);
    print_message("behind another reopen: %d, %s", rc_reopen, reopen);
    assert_int_equal(rc_calls, GL_EIO);
    assert_non_null(strstr(calls, "store: not reopened: store calls under way did not "
                                  "end within 300 ms; the reopen is tried again later"));
    assert_int_equal(rc_reopen, GL_EIO);
    assert_non_null(strstr(reopen, "store: not reopened: another thread's reopen did not "
                                   "end within 300 ms; the reopen is tried again later"));
    assert_int_equal(r->rc, 0);
    check_state(f->s, 2);
}

/* held, the count of a thread's operations under way, is per thread, not
 * per store (store.c says why): a call on store B made inside an
 * operation on store A (a scan's callback) passes B's waiting reopen as
 * one nested in B would, so no two threads can wait for each other's
 * stores' reopens in a cycle. */
static void test_reopen_nested_other_store(void **state)
{
    struct fx *f = *state;
    struct blocker *hb = fx_alloc(f, sizeof(*hb)), *ib = fx_alloc(f, sizeof(*ib));
    const char *why = NULL;
    int rc;

    assert_int_equal(fx_open(f, 1, &f->s2, &why), 0);
    commit_entries(f->s, 0, 1, UNCHECKED, 0);
    commit_entries(f->s2, 0, 1, UNCHECKED, 0);
    assert_int_equal(store_bound_thread(f->s2, BOUND_MS), 0);
    *hb = (struct blocker){.s = f->s2, .release = &f->release}; /* holds B */
    *ib = (struct blocker){.s = f->s, .release = &f->release, .nested = f->s2};
    assert_int_equal(pthread_barrier_init(&hb->in, NULL, 2), 0);
    assert_int_equal(pthread_barrier_init(&ib->in, NULL, 2), 0);
    fx_spawn(f, blocker_run, hb);
    pthread_barrier_wait(&hb->in);
    fx_spawn(f, blocker_run, ib);
    pthread_barrier_wait(&ib->in);
    rc = store_reopen(f->s2);
    fx_end(f);
    pthread_barrier_destroy(&hb->in);
    pthread_barrier_destroy(&ib->in);
    print_message("a read of B inside a scan of A while B's reopen waited: %d after %llu "
                  "ms\n",
                  ib->nested_rc, (unsigned long long)ib->nested_ms);
    assert_int_equal(rc, GL_EIO);
    assert_int_equal(ib->nested_rc, 0);
    assert_true(ib->nested_ms < BOUND_MS / 2); /* not held back */
}

/* The bound thread's whole store_reopen takes at most its bound
 * (ONE_BOUND_MS): the wait for a call under way (another thread's scan,
 * whose callback holds on for GATE_HOLD_MS, most of the bound) and the
 * reconnect after it, which the connector cannot make in time (the
 * connection string's first host is a black hole, connect_timeout 2 s),
 * share one bound. (The old code gave the reconnect a bound of its own:
 * about ONE_BOUND_MS + GATE_HOLD_MS, 1700 ms; the test allows 1300.) */
#define ONE_BOUND_MS 1000
#define GATE_HOLD_MS 700

static void test_pg_reopen_one_bound(void **state)
{
    struct fx *f = *state;
    struct blocker *b = fx_alloc(f, sizeof(*b));
    struct store_options o = {0};
    const char *why = NULL, *at = strchr(f->dir, '@');
    char url[512];
    uint64_t t0, ms;
    int port = 0, bh = listen_local(&port), rc;

    assert_non_null(at);
    snprintf(url, sizeof(url), "%.*s127.0.0.1:%d,%s?connect_timeout=1",
             (int)(at + 1 - f->dir), f->dir, port, at + 1);
    o.url = url;
    commit_entries(f->s, 0, 2, UNCHECKED, 0); /* not empty: opened without create */
    assert_int_equal(store_open(&o, &f->s2, &why), 0); /* PQconnectdb: past the hole */
    assert_int_equal(store_bound_thread(f->s2, ONE_BOUND_MS), 0);
    *b = (struct blocker){.s = f->s2, .release = &f->release, .hold_ms = GATE_HOLD_MS};
    blocker_start(f, b);
    t0 = gl_clock_mono_ms();
    rc = store_reopen(f->s2);
    ms = gl_clock_mono_ms() - t0;
    fx_end(f);
    pthread_barrier_destroy(&b->in);
    print_message("bound reopen after a wait of %d ms, reconnecting to a black hole: "
                  "%d after %llu ms\n",
                  GATE_HOLD_MS, rc, (unsigned long long)ms);
    close(bh);
    assert_int_equal(b->rc, 0);
    assert_int_equal(rc, GL_EIO);
    assert_true(ms >= ONE_BOUND_MS - 5 && ms < ONE_BOUND_MS + 300);
}

/* After a failed reopen the pool keeps the connections made since (a
 * retry needs the connector's). When their server goes away too before a
 * reopen succeeds (here: every session of the test's database ended, as a
 * restart or a fail-over ends them), the retry whose check fails on one
 * closes the others to that server, and the next retry connects afresh.
 * (The old code closed only the connection it tried: one failed retry per
 * stale connection, each a whole bound for a server that stopped
 * answering.) The failed reopen and the three connections made since:
 * fail_reopen. The bound is STALE_BOUND_MS (below LOCK_HOLD_MS, for
 * fail_reopen's timeout), long enough for the connector to connect on a
 * loaded machine. */
#define STALE_READERS 3
#define STALE_BOUND_MS 1000

/* A failed reopen of f's store, on its bound thread (the caller), and
 * STALE_READERS connections made since: the bound thread's read times out
 * on a locked table (a quiet time follows, in which the reopen's check
 * fails at once); other threads' reads, waiting for the lock meanwhile,
 * make the connections. */
static void fail_reopen(struct fx *f)
{
    struct locker *l = fx_alloc(f, sizeof(*l));
    struct other_reader *o = fx_alloc(f, STALE_READERS * sizeof(*o));
    struct gl_buf ck;
    uint64_t size;
    int rc;

    *l = (struct locker){.url = f->dir, .tables = "glasslog_state"};
    assert_int_equal(pthread_barrier_init(&l->locked, NULL, 2), 0);
    fx_spawn(f, locker_run, l);
    pthread_barrier_wait(&l->locked);
    gl_buf_init(&ck, 4096);
    rc = store_get_state(f->s, &size, &ck);
    gl_buf_release(&ck);
    assert_int_equal(rc, GL_EIO);                 /* timed out */
    assert_int_equal(store_reopen(f->s), GL_EIO); /* the pool dropped; the quiet time */
    for (int i = 0; i < STALE_READERS; i++) {
        o[i] = (struct other_reader){.s = f->s, .rc = -1};
        fx_spawn(f, other_reader_run, &o[i]);
    }
    fx_end(f); /* the lock, then the reads end */
    pthread_barrier_destroy(&l->locked);
    assert_true(l->ok);
    for (int i = 0; i < STALE_READERS; i++)
        assert_int_equal(o[i].rc, 0);
}

static void test_pg_reopen_stale(void **state)
{
    struct fx *f = *state;
    char sql[256];
    int failed = 0, rc;

    commit_entries(f->s, 0, 2, UNCHECKED, 0);
    assert_int_equal(store_bound_thread(f->s, STALE_BOUND_MS), 0);
    fail_reopen(f);
    snprintf(
        sql, sizeof(sql),
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s'",
        f->db);
    pg_admin(sql);
    usleep(STALE_BOUND_MS * 1000 + 50000); /* the sessions end; the quiet time is over */
    while ((rc = store_reopen(f->s)) != 0 && failed < 2 * STALE_READERS) {
        failed++;
        usleep(STALE_BOUND_MS * 1000 + 50000); /* past a quiet time */
    }
    print_message("reopen with %d stale connections: %d after %d failed tries\n",
                  STALE_READERS, rc, failed);
    assert_int_equal(rc, 0);
    assert_true(failed <= 1);
    check_state(f->s, 2);
}

/* A bound reopen whose wait at the store's gate leaves next to nothing of
 * its bound (another thread's scan holds the gate until 2 ms before the
 * bound ends) returns GL_EIO and changes nothing: no quiet time (a call
 * of the bound thread right after it succeeds), no connection of the pool
 * closed (as many sessions of the database as before), and the next
 * reopen succeeds at once on a pooled connection (no new session). The
 * pool holds connections made after a failed reopen (fail_reopen), kept
 * by a reopen. (The old code ran the check with the few ms left and took
 * its cut for a failed server's: a timeout's log line, quiet time, and
 * the server's other connections closed; or it got the answer in time
 * and succeeded.) */
static void test_pg_reopen_no_time(void **state)
{
    struct fx *f = *state;
    struct blocker *b = fx_alloc(f, sizeof(*b));
    uint64_t t0, ms, next_ms;
    int n, after, rc;

    commit_entries(f->s, 0, 2, UNCHECKED, 0);
    assert_int_equal(store_bound_thread(f->s, BOUND_MS), 0);
    fail_reopen(f);
    usleep(BOUND_MS * 1000 + 50000); /* the quiet time is over */
    n = pg_sessions(f->dir, "true");
    *b = (struct blocker){.s = f->s, .release = &f->release, .hold_ms = BOUND_MS - 2};
    blocker_start(f, b);
    t0 = gl_clock_mono_ms();
    rc = store_reopen(f->s);
    ms = gl_clock_mono_ms() - t0;
    fx_end(f);
    pthread_barrier_destroy(&b->in);
    assert_int_equal(b->rc, 0);
    print_message("bound reopen with ~2 ms of the bound left: %d after %llu ms\n", rc,
                  (unsigned long long)ms);
    assert_int_equal(rc, GL_EIO);
    check_state(f->s, 2); /* no quiet time */
    after = pg_sessions(f->dir, "true");
    print_message("sessions: %d before, %d after\n", n, after);
    assert_true(n >= STALE_READERS);
    assert_int_equal(after, n); /* none closed */
    t0 = gl_clock_mono_ms();
    rc = store_reopen(f->s);
    next_ms = gl_clock_mono_ms() - t0;
    print_message("next reopen: %d after %llu ms, %d sessions\n", rc,
                  (unsigned long long)next_ms, pg_sessions(f->dir, "true"));
    assert_int_equal(rc, 0);
    assert_true(next_ms < BOUND_MS / 2);
    assert_int_equal(pg_sessions(f->dir, "true"), n); /* no new connection */
    check_state(f->s, 2);
}

/* Sets f's database read-only for new sessions (on) or back
 * (default_transaction_read_only, ALTER DATABASE: limited to the test's
 * database, which teardown drops), and waits until a new session sees
 * it. Sessions already open keep their default. */
static void pg_read_only(struct fx *f, int on)
{
    char sql[256];
    int seen = !on;

    snprintf(sql, sizeof(sql),
             on ? "ALTER DATABASE \"%s\" SET default_transaction_read_only = on"
                : "ALTER DATABASE \"%s\" RESET default_transaction_read_only",
             f->db);
    pg_admin(sql);
    for (int i = 0; i < 500 && seen != on; i++) {
        PGconn *c = PQconnectdb(f->dir);
        PGresult *r = PQexec(c, "SHOW transaction_read_only");

        if (PQresultStatus(r) == PGRES_TUPLES_OK)
            seen = strcmp(PQgetvalue(r, 0, 0), "on") == 0;
        PQclear(r);
        PQfinish(c);
        if (seen != on)
            usleep(10000);
    }
    if (seen != on)
        fail_msg("%s is not read-%s after 5 s", f->db, on ? "only" : "write");
}

/* teardown, after the database is read-write again (whether the test
 * passed or not). */
static int teardown_read_write(void **state)
{
    pg_read_only(*state, 0);
    return teardown(state);
}

/* The sessions of f's database for which cond holds (pg_sessions),
 * once none is left: a closed connection's server process may still be
 * listed for a while (waits up to 2 s). */
static int pg_sessions_left(struct fx *f, const char *cond)
{
    int n = -1;

    for (int i = 0; i < 200 && (n = pg_sessions(f->dir, cond)) != 0; i++)
        usleep(10000);
    return n;
}

/* A reopen whose check fails on a server that takes no writes: GL_EIO,
 * logged as such (host and port), and no session of f's database left
 * (the checked connection and the pool's others to that server closed).
 * No quiet time follows: a read right after it succeeds (on a new
 * connection, kept: a read-only session). A served note then fails on
 * it, refused as the server takes no writes, and it is closed too (no
 * session left), so a follower, which never reopens, does not keep a
 * demoted primary's connections, nor a retried reopen check one. */
static void reopen_read_only(struct fx *f)
{
    char log[4096];
    int rc, n;

    rc = reopen_logged(f->s, log, sizeof(log));
    n = pg_sessions_left(f, "true");
    print_message("reopen on a read-only server: %d, %d sessions left; %s", rc, n, log);
    assert_int_equal(rc, GL_EIO);
    assert_non_null(strstr(log, "answers the reconnect check but takes no writes"));
    assert_non_null(strstr(log, "target_session_attrs=read-write would go on"));
    assert_int_equal(n, 0);
    check_state(f->s, 2);
    assert_int_equal(store_put_served(f->s, 2, (const uint8_t *)"two", 3), GL_EIO);
    assert_int_equal(pg_sessions_left(f, "true"), 0);
}

/* A store whose URL leaves target_session_attrs out connects only to a
 * server that takes writes (the store's default, read-write): with the
 * test's database read-only for new sessions, a reopen fails as it
 * connects, logged with the host and that the session is read-only (not
 * at its check, which it never reaches), and so does a read that needs
 * a new connection, so a follower never reads a hot standby (which may
 * lag behind the tree it served) through a string that lists one. No
 * session is left. Once the database takes writes again, a reopen
 * succeeds and the next commit goes through. (Before, the read-only
 * session was taken: the reopen failed at its check only, and the read
 * was answered.) */
static void test_pg_read_only_refused(void **state)
{
    struct fx *f = *state;
    char log[4096];
    struct gl_buf ck;
    uint64_t size;
    int rc, rc_read;

    commit_entries(f->s, 0, 2, UNCHECKED, 0);
    pg_read_only(f, 1);
    rc = reopen_logged(f->s, log, sizeof(log));
    gl_buf_init(&ck, 4096);
    rc_read = store_get_state(f->s, &size, &ck);
    gl_buf_release(&ck);
    print_message("reopen on a read-only server: %d, a read: %d; %s", rc, rc_read, log);
    assert_int_equal(rc, GL_EIO);
    assert_non_null(strstr(log, "cannot connect to PostgreSQL"));
    assert_non_null(strstr(log, "session is read-only"));
    assert_null(strstr(log, "answers the reconnect check"));
    assert_int_equal(rc_read, GL_EIO);
    assert_int_equal(pg_sessions_left(f, "true"), 0);
    pg_read_only(f, 0);
    assert_int_equal(store_reopen(f->s), 0);
    commit_entries(f->s, 2, 3, 2, 0);
    check_state(f->s, 3);
}

/* A reopen whose server answers but takes no writes (a demoted primary;
 * here the test's database set read-only for new sessions, and the
 * store's URL sets target_session_attrs=any, setup_any, so it connects
 * there: the reopen drops the pool, so its check runs on a new one) fails
 * (reopen_read_only), so the next reopen connects afresh (where
 * target_session_attrs leads). Once the server takes writes
 * again, a reopen succeeds and the next commit goes through. (The old
 * check, SELECT 1, passed on the read-only server: the next commit
 * failed; and the old pg_put kept a connection whose statement the
 * server refused.) Also bound (the check's asynchronous path). */
static void test_pg_reopen_read_only(void **state)
{
    struct fx *f = *state;

    commit_entries(f->s, 0, 2, UNCHECKED, 0);
    pg_read_only(f, 1);
    reopen_read_only(f);
    pg_read_only(f, 0);
    assert_int_equal(store_reopen(f->s), 0);
    commit_entries(f->s, 2, 3, 2, 0);
    check_state(f->s, 3);
}

/* As test_pg_reopen_read_only, after a failed reopen (fail_reopen): the
 * pool keeps the connections made since, read-only sessions here (the
 * database set read-only before, setup_any; the locker's transaction is READ
 * WRITE), and the check that fails on one closes them all (take_server
 * on the recovering path). */
static void test_pg_reopen_read_only_recovering(void **state)
{
    struct fx *f = *state;

    commit_entries(f->s, 0, 2, UNCHECKED, 0);
    assert_int_equal(store_bound_thread(f->s, STALE_BOUND_MS), 0);
    pg_read_only(f, 1);
    fail_reopen(f);
    usleep(STALE_BOUND_MS * 1000 + 50000); /* the quiet time is over */
    assert_true(pg_sessions(f->dir, "true") >= STALE_READERS);
    reopen_read_only(f);
    pg_read_only(f, 0);
    assert_int_equal(store_reopen(f->s), 0);
    commit_entries(f->s, 2, 3, 2, 0);
    check_state(f->s, 3);
}

/* Whether fd has something to read (or a connection to accept) within
 * 10 s: the fake server's waits end, so its thread does. */
static int readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};

    return poll(&p, 1, 10000) == 1;
}

/* A PostgreSQL server of one session, listening on *(int *)arg: it lets
 * the session in (no password) and refuses its first statement as a
 * server that takes no writes does (SQLSTATE 25006), then waits for the
 * client to go (10 s at most for each thing it waits for). */
static void *refusing_main(void *arg)
{
    static const uint8_t login[] = {'R', 0, 0, 0, 8, 0, 0, 0, 0, 'Z', 0, 0, 0, 5, 'I'};
    static const char fields[] = "SERROR\0C25006\0Mcannot execute SET in a read-only "
                                 "transaction\0"; /* and the end's 0 */
    uint8_t buf[4096], answer[128] = {'E'};
    size_t have = 0, at = 0, len = 4 + sizeof(fields);
    ssize_t n;
    int c;

    if (!readable(*(int *)arg) || (c = accept(*(int *)arg, NULL, NULL)) < 0)
        return NULL;
    answer[3] = (uint8_t)(len >> 8);
    answer[4] = (uint8_t)len;
    memcpy(answer + 5, fields, sizeof(fields));
    memcpy(answer + 1 + len, "Z\0\0\0\5I", 6);
    /* the startup message (its length first), then the statement's
     * messages up to its Sync ('S') */
    while (readable(c) && (n = read(c, buf + have, sizeof(buf) - have)) > 0) {
        have += (size_t)n;
        if (at == 0 && have >= 4 && have >= get_u32(buf)) {
            at = get_u32(buf);
            if (write(c, login, sizeof(login)) != (ssize_t)sizeof(login))
                break;
        }
        while (at != 0 && have - at >= 5 && have - at - 1 >= get_u32(buf + at + 1)) {
            if (buf[at] == 'S' && write(c, answer, 1 + len + 6) != (ssize_t)(1 + len + 6))
                goto out;
            at += 1 + get_u32(buf + at + 1);
        }
        if (have == sizeof(buf))
            break;
    }
out:
    close(c);
    return NULL;
}

/* A connection whose session settings a server refused as it takes no
 * writes (SQLSTATE 25006) is closed there (pg_connect); the next
 * connection of that thread, to a server that takes writes, is kept in
 * the pool. The store's URL names first a host that refuses connections
 * (a port held by a socket that does not listen, all along: so the store
 * opens on the test's server), then the test's server; it sets
 * target_session_attrs=any, as the fake server answers no check of
 * whether it takes writes (read-write, the store's default, would skip
 * it after connect_timeout). For a reopen, a
 * second socket listens on the first host's port too: refusing_main lets
 * a session in and refuses its first statement, so the reopen's
 * connection fails, logged as refused by a read-only server. Once that
 * socket is closed and the session the reopen closed is gone from
 * pg_stat_activity, the next reopen connects to the test's server: that
 * connection is kept, and a read after the reopen uses it (the same
 * session, by its pid). (The old store remembered the refused
 * connection's address, which the next connection took, and closed that
 * one once it was given back; under AddressSanitizer, which does not
 * hand a freed address out again at once, the old store passed too.) */
static void test_pg_refused_connect(void **state)
{
    struct fx *f = *state;
    struct store_options o = {0};
    const char *why = NULL, *at = strchr(f->dir, '@'), *slash;
    char url[512], log[4096], pids[64], pids_after[64];
    const char *app = "application_name LIKE 'glasslog_refused %'";
    pthread_t th;
    int port = 0, hold = bind_local(&port, 1), fd, rc;

    assert_non_null(at);
    assert_non_null(slash = strchr(at, '/'));
    snprintf(url, sizeof(url),
             "%.*s127.0.0.1:%d,%.*s%s%csslmode=disable&gssencmode=disable"
             "&application_name=glasslog_refused&connect_timeout=2"
             "&target_session_attrs=any",
             (int)(at + 1 - f->dir), f->dir, port, (int)(slash - at - 1), at + 1, slash,
             strchr(slash, '?') != NULL ? '&' : '?');
    o.url = url;
    commit_entries(f->s, 0, 2, UNCHECKED, 0); /* not empty: opened without create */
    assert_int_equal(store_open(&o, &f->s2, &why), 0);
    fd = bind_local(&port, 1);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(pthread_create(&th, NULL, refusing_main, &fd), 0);
    rc = reopen_logged(f->s2, log, sizeof(log));
    pthread_join(th, NULL);
    close(fd); /* the port refuses connections again (hold) */
    print_message("the reopen on the refusing server: %d; %s", rc, log);
    assert_int_equal(rc, GL_EIO);
    assert_non_null(strstr(log, "ERROR:  cannot execute SET in a read-only transaction"));
    assert_int_equal(pg_sessions_left(f, app), 0); /* the store's first session */
    assert_int_equal(store_reopen(f->s2), 0);
    pg_session_pids(f->dir, app, pids, sizeof(pids));
    check_state(f->s2, 2);
    pg_session_pids(f->dir, app, pids_after, sizeof(pids_after));
    print_message("the store's sessions: %s after the reopen, %s after a read\n", pids,
                  pids_after);
    assert_true(pids[0] != 0 && strchr(pids, ',') == NULL);
    assert_string_equal(pids, pids_after);
    close(hold);
}

static const struct CMUnitTest pg_tests[] = {
    {"test_open_rules (postgresql)", test_open_rules, NULL, NULL, &kind_postgresql},
    ON(test_read_back, postgresql),
    ON(test_bad_index_queries, postgresql),
    ON(test_scan_gaps, postgresql),
    ON(test_compare_and_set, postgresql),
    ON(test_count_and_caps, postgresql),
    ON(test_delete_tile, postgresql),
    ON(test_reopen, postgresql),
    ON(test_concurrent_readers, postgresql),
    ON(test_reopen_while_reading, postgresql),
    ON(test_longest_index_key, postgresql),
    ON(test_pg_two_writers, postgresql),
    ON(test_pg_epoch, postgresql),
    ON(test_pg_durable, postgresql),
    ON(test_pg_warned_commit_fails, postgresql),
    ON(test_pg_race, postgresql),
    ON(test_pg_create_once, postgresql),
    ON(test_served, postgresql),
    ON(test_read_capacity, postgresql),
    ON(test_buckets, postgresql),
    ON(test_origins, postgresql),
    ON(test_bound_thread, postgresql),
    ON(test_pg_connector, postgresql),
    ON(test_pg_frozen_after_login, postgresql),
    ON(test_reopen_bounded, postgresql),
    ON(test_pg_reopen_one_bound, postgresql),
    ON(test_pg_reopen_stale, postgresql),
    ON(test_pg_reopen_no_time, postgresql),
    {"test_pg_read_only_refused (postgresql)", test_pg_read_only_refused, setup,
     teardown_read_write, &kind_postgresql},
    {"test_pg_reopen_read_only (postgresql)", test_pg_reopen_read_only, setup_any,
     teardown_read_write, &kind_postgresql},
    {"test_pg_reopen_read_only (postgresql_bounded)", test_pg_reopen_read_only, setup_any,
     teardown_read_write, &kind_postgresql_bounded},
    {"test_pg_reopen_read_only_recovering (postgresql)",
     test_pg_reopen_read_only_recovering, setup_any, teardown_read_write,
     &kind_postgresql},
    ON(test_pg_refused_connect, postgresql),
    ON(test_copy_mark, postgresql),
    ON(test_read_back, postgresql_bounded),
    ON(test_reopen, postgresql_bounded),
    ON(test_served, postgresql_bounded),
    ON(test_origins, postgresql_bounded),
};

int main(void)
{
    const struct CMUnitTest tests[] = {
        {"test_open_rules (mem)", test_open_rules, NULL, NULL, &kind_mem},
        {"test_open_rules (rocksdb)", test_open_rules, NULL, NULL, &kind_rocksdb},
        BOTH(test_read_back),
        BOTH(test_bad_index_queries),
        BOTH(test_scan_gaps),
        BOTH(test_compare_and_set),
        BOTH(test_count_and_caps),
        BOTH(test_delete_tile),
        BOTH(test_reopen),
        BOTH(test_concurrent_readers),
        BOTH(test_reopen_while_reading),
        BOTH(test_longest_index_key),
        BOTH(test_served),
        BOTH(test_read_capacity),
        BOTH(test_buckets),
        BOTH(test_origins),
        BOTH(test_bound_thread),
        BOTH(test_reopen_bounded),
        BOTH(test_copy_mark),
        cmocka_unit_test(test_backup_partial_names),
        /* the mem backend's failure hook (RocksDB's failures are the fault
         * shim's: tests/integration/06-log-storage-faults.sh) */
        ON(test_failed_commit, mem),
        /* the gate is the backends' own (store.c) */
        ON(test_reopen_says_why, mem),
        ON(test_reopen_nested_other_store, mem),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    if (getenv("GL_TEST_PG") == NULL) {
        printf("test_log_store: the %zu PostgreSQL tests were not run (GL_TEST_PG unset; "
               "tests/integration/60-pg-store.sh runs them)\n",
               sizeof(pg_tests) / sizeof(pg_tests[0]));
        return rc;
    }
    return rc | cmocka_run_group_tests_name("postgresql", pg_tests, NULL, NULL);
}

/*
 * bench_mirror: the mirror's catch-up rate (make bench-mirror), measured
 * in-process on the real code: a witness engine and mirror store in a
 * temporary directory, one mirrored log, a checkpoint of N entries
 * accepted by the engine, then the whole log uploaded through
 * mirror_add_entries in bodies of 32 packages (what a push or a pull
 * hands it), every package verified and committed with fsync. Bodies and
 * proofs are built before the clock starts (the client's cost).
 *
 * Same-run references: SHA-256 over the same entries (leaf hashes/s: the
 * floor of any mirror, which must hash every entry) and Ed25519 verifies/s
 * (one per checkpoint). The rate is printed per wall-clock second and per
 * CPU-second of the whole process (RocksDB's threads too: on a shared
 * machine the wall clock mostly measures the CPU the process was given),
 * each with its ratio to SHA-256. Prints "bench <name> <value> <unit>"
 * lines. Usage: bench_mirror [N] (default 100000).
 */
#include <pthread.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../witness/addck.h"
#include "../../witness/engine.h"
#include "../../witness/logs.h"
#include "../../witness/mirror.h"
#include "../../witness/wstore.h"
#include "glasslog/checkpoint.h"
#include "glasslog/codec.h"
#include "glasslog/key.h"
#include "glasslog/merkle.h"
#include "glasslog/mirror.h"
#include "glasslog/note.h"
#include "glasslog/subtree.h"
#include "clock.h"

#define HLEN 32
#define ENTRY 200

static uint8_t (*leaves)[HLEN];
static uint8_t *data;
static uint64_t n;

/* CPU seconds of the whole process (every thread: RocksDB's too). */
static double cpu(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec +
           u.ru_stime.tv_usec / 1e6;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_mirror: %s: %s\n", what, gl_strerror(rc));
    exit(1);
}

/* Every complete subtree, level by level (tree[0] is the leaves), built
 * once outside the clock: the proofs read them. */
static uint8_t (*tree[64])[HLEN];

static void build_tree(void)
{
    tree[0] = leaves;
    for (uint32_t l = 1; (n >> l) > 0; l++) {
        uint64_t k = n >> l;
        if ((tree[l] = malloc(k * HLEN)) == NULL)
            die("malloc", GL_ENOMEM);
        for (uint64_t i = 0; i < k; i++)
            gl_merkle_node_hash(tree[l - 1][2 * i], tree[l - 1][2 * i + 1], tree[l][i]);
    }
}

static void node(uint32_t level, uint64_t index, uint8_t out[HLEN])
{
    memcpy(out, tree[level][index], HLEN);
}

static int read_nodes(void *ctx, const struct gl_node_id *ids, size_t k,
                      uint8_t (*out)[HLEN])
{
    (void)ctx;
    for (size_t i = 0; i < k; i++)
        node(ids[i].level, ids[i].index, out[i]);
    return 0;
}

int main(int argc, char **argv)
{
    n = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000;
    char dir[] = "/tmp/bench_mirror.XXXXXX", data_dir[64], cmd[128];
    struct gl_signer lk, mk, wk;
    struct gl_verifier lv;
    struct gl_buf b, note;
    int rc;

    if (n < 256 || mkdtemp(dir) == NULL)
        return fprintf(stderr, "usage: bench_mirror [N >= 256]\n"), 2;
    leaves = malloc(n * HLEN);
    data = malloc(n * ENTRY);
    for (uint64_t i = 0; i < n * ENTRY; i++)
        data[i] = (uint8_t)(i * 2654435761u >> 13);
    for (uint64_t i = 0; i < n; i++)
        memcpy(data + i * ENTRY, &i, sizeof i);

    /* reference 1: SHA-256 leaf hashes of the entries */
    double t0 = gl_clock_mono();
    for (uint64_t i = 0; i < n; i++)
        gl_merkle_leaf_hash(data + i * ENTRY, ENTRY, leaves[i]);
    double sha = n / (gl_clock_mono() - t0);
    build_tree();

    /* keys, the log list, the witness and the mirror */
    if ((rc = gl_signer_generate("bench.example/log", GL_KEY_NOTE, &lk)) != 0 ||
        (rc = gl_signer_generate("bench.example/witness", GL_KEY_COSIG, &wk)) != 0 ||
        (rc = gl_signer_generate("bench.example/mirror", GL_KEY_COSIG, &mk)) != 0)
        die("keygen", rc);
    gl_signer_verifier(&lk, &lv);
    gl_buf_init(&b, 1 << 20);
    gl_buf_append_str(&b, "logs/v0\nvkey ");
    gl_verifier_format(&lv, &b);
    gl_buf_append_str(&b, "\nmirror\n");
    struct logs_list logs;
    struct gl_err why;
    if ((rc = logs_parse((const char *)b.data, b.len, &logs, &why)) != 0)
        die(why.reason, rc);
    snprintf(data_dir, sizeof data_dir, "%s/w", dir);
    struct wstore *ws;
    const char *swhy;
    if ((rc = wstore_open(data_dir, 16, 1, &ws, &swhy)) != 0)
        die(swhy, rc);
    struct engine_config ec = {
        .store = ws, .logs = &logs, .key = &wk, .evidence_dir = dir};
    struct engine *eng;
    if ((rc = engine_new(&ec, &eng)) != 0)
        die("engine", rc);

    /* reference 2: Ed25519 verifies/s, over the checkpoint note */
    uint8_t root[HLEN];
    gl_subtree_hash((const uint8_t(*)[HLEN])leaves, n, root);
    gl_buf_init(&note, 1 << 16);
    if ((rc = gl_checkpoint_sign(lk.name, n, root, &lk, &note)) != 0)
        die("sign", rc);
    struct gl_note *pn;
    gl_note_parse((const char *)note.data, note.len, &pn, NULL);
    int reps = 2000;
    t0 = gl_clock_mono();
    for (int i = 0; i < reps; i++)
        if (gl_note_verify(pn, &lv, 1, NULL) != 0)
            die("verify", GL_EVERIFY);
    double ed = reps / (gl_clock_mono() - t0);
    gl_note_free(pn);

    /* the pending checkpoint, through the engine as add-checkpoint does */
    struct gl_buf body;
    gl_buf_init(&body, 1 << 20);
    gl_buf_append_str(&body, "old 0\n\n");
    gl_buf_append(&body, note.data, note.len);
    struct wreq *r = calloc(1, sizeof *r);
    struct addck_req ar;
    if ((rc = addck_parse(body.data, body.len, &ar, &why)) != 0 ||
        (rc = addck_open(&ar, &logs.v[0], &r->ck, &r->kept, &why)) != 0)
        die(why.reason, rc);
    r->kind = WREQ_ADD;
    r->note = ar.note;
    r->note_len = ar.note_len;
    engine_run(eng, r);
    if (r->status != 200)
        die("add-checkpoint", GL_EVERIFY);

    struct mirror_config mc = {dir, &logs, eng, &mk, wk.name, 16, 0};
    struct mirror *m;
    if ((rc = mirror_open(&mc, &m)) != 0)
        die("mirror_open", rc);

    /* the bodies (outside the clock) */
    struct gl_hash_source src = {read_nodes, NULL};
    uint64_t np = gl_mirror_npackages(0, n), nbodies = (np + 31) / 32;
    struct gl_buf *bodies = calloc(nbodies, sizeof *bodies);
    struct gl_mirror_package *pk = malloc(sizeof *pk);
    struct gl_tile_entry e[256];
    for (uint64_t k = 0; k < nbodies; k++) {
        uint64_t start = k * 32 * 256;
        gl_buf_init(&bodies[k], 32 * GL_MIRROR_PACKAGE_MAX);
        gl_mirror_upload_encode(lk.name, strlen(lk.name), start, n, NULL, 0, &bodies[k]);
        for (uint64_t i = 0; i < 32 && i < gl_mirror_npackages(start, n); i++) {
            gl_mirror_package_bounds(start, n, i, pk);
            for (uint64_t j = pk->start; j < pk->end; j++)
                e[j - pk->start] = (struct gl_tile_entry){data + j * ENTRY, ENTRY};
            if ((rc = gl_subtree_prove(&src, pk->subtree_start, pk->end, n, pk->proof,
                                       &pk->nproof)) != 0 ||
                (rc = gl_mirror_package_encode(e, pk->end - pk->start,
                                               (const uint8_t(*)[HLEN])pk->proof,
                                               pk->nproof, &bodies[k])) != 0)
                die("package", rc);
        }
    }

    /* the catch-up */
    struct mirror_result res;
    double c0 = cpu();
    t0 = gl_clock_mono();
    for (uint64_t k = 0; k < nbodies; k++) {
        mirror_add_entries(m, bodies[k].data, bodies[k].len, &res);
        int want = k + 1 == nbodies ? 200 : 202;
        if (res.status != want) {
            fprintf(stderr, "bench_mirror: body %llu answered %d (%s)\n",
                    (unsigned long long)k, res.status, res.why);
            return 1;
        }
    }
    double rate = n / (gl_clock_mono() - t0), crate = n / (cpu() - c0);
    printf("bench mirror_catchup %.0f entries/s\n", rate);
    printf("bench mirror_catchup_cpu %.0f entries/cpu-s\n", crate);
    printf("bench mirror_ref_sha256 %.0f leaf-hashes/s\n", sha);
    printf("bench mirror_ref_ed25519 %.0f verifies/s\n", ed);
    printf("bench mirror_catchup_vs_sha256 %.3f ratio\n", rate / sha);
    printf("bench mirror_catchup_cpu_vs_sha256 %.3f ratio\n", crate / sha);
    printf("bench mirror_catchup_target %s (>= 100000 entries/s)\n",
           rate >= 100000 ? "met" : "missed");
    printf("bench mirror_catchup_cpu_target %s (>= 100000 entries/cpu-s)\n",
           crate >= 100000 ? "met" : "missed");

    mirror_free(m);
    engine_stop(eng);
    engine_free(eng);
    wstore_close(ws);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_mirror: could not remove %s\n", dir);
    return 0;
}

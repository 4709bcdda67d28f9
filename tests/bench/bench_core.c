/*
 * bench_core: single-core throughput of the Merkle core. Usage:
 *     bench_core VECTORS_DIR
 * Prints one line per figure, "bench <name> <value> <unit>", and exits
 * non-zero if anything is wrong (the 1,000,000-leaf root must match
 * VECTORS_DIR/tree/roots.txt; every proof made must verify).
 *
 * Figures run in table order and may read what earlier ones left in the
 * shared state (the reference SHA-256 rate, the in-memory tree); to add a
 * figure, write a bench_* function and add a row to `benches`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/key.h"
#include "glasslog/merkle.h"
#include "glasslog/sha256.h"

#define HLEN GL_HASH_LEN
#define TREE_SIZE 1000000
#define NPROOFS 4096 /* distinct proofs cycled through by the proof figures */

typedef uint8_t hash_t[HLEN];

/* State shared by the figures. */
struct bench_ctx {
    const char *vectors;
    double sha_rate; /* ref_sha256_65B, hashes/s */
    double append_rate;
    hash_t *lv[GL_MERKLE_MAX_HEIGHT]; /* the tree: level L has size >> L */
    uint64_t size;
    hash_t root;
    uint64_t rng;
    /* proofs made by *_prove, checked by *_verify */
    uint64_t idx[NPROOFS];
    hash_t (*proofs)[GL_MERKLE_MAX_PROOF];
    size_t lens[NPROOFS];
    hash_t *m_roots;
};

struct bench {
    const char *name;
    const char *unit;
    /* Sets *value; returns 0, or non-zero on failure (reported, exit 1). */
    int (*run)(struct bench_ctx *c, double *value);
};

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Decimal of v into buf (>= 20 bytes), two digits per division; returns
 * the length. */
static size_t u64_dec(uint64_t v, char *buf)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324"
                                "25262728293031323334353637383940414243444546474849"
                                "50515253545556575859606162636465666768697071727374"
                                "75767778798081828384858687888990919293949596979899";
    char tmp[20];
    size_t n = sizeof(tmp), len;

    while (v >= 100) {
        unsigned d = (unsigned)(v % 100) * 2;
        v /= 100;
        tmp[--n] = pairs[d + 1];
        tmp[--n] = pairs[d];
    }
    if (v >= 10) {
        tmp[--n] = pairs[v * 2 + 1];
        tmp[--n] = pairs[v * 2];
    } else {
        tmp[--n] = (char)('0' + v);
    }
    len = sizeof(tmp) - n;
    memcpy(buf, tmp + n, len);
    return len;
}

/* ---- figures ----------------------------------------------------------------- */

static int bench_sha(struct bench_ctx *c, double *value)
{
    uint8_t in[64], out[HLEN];
    double t0 = now(), t;
    uint64_t n = 0;
    int i;

    memset(in, 0xa5, sizeof(in));
    do {
        for (i = 0; i < 10000; i++) {
            if (gl_sha256_3(0x01, in, 32, in + 32, 32, out) != 0)
                return 1;
            in[0] ^= out[0];
        }
        n += 10000;
        t = now() - t0;
    } while (t < 1.0);
    *value = c->sha_rate = (double)n / t;
    return 0;
}

/* Appends the reference tree's leaves "0".."999999" into a compact range;
 * with keep, also stores every complete subtree (for the proof figures). */
static int append_tree(struct bench_ctx *c, gl_merkle_node_fn fn, uint8_t root[HLEN])
{
    struct gl_merkle_range r;
    hash_t leaf;
    char dec[20];
    uint64_t i;

    gl_merkle_range_init(&r);
    for (i = 0; i < TREE_SIZE; i++) {
        size_t n = u64_dec(i, dec);
        if (gl_merkle_leaf_hash(dec, n, leaf) != 0 ||
            gl_merkle_range_append(&r, leaf, fn, c) != 0)
            return 1;
    }
    return gl_merkle_range_root(&r, root) != 0;
}

static int bench_append(struct bench_ctx *c, double *value)
{
    double best = 0, t;
    int round;

    for (round = 0; round < 3; round++) {
        t = now();
        if (append_tree(c, NULL, c->root) != 0)
            return 1;
        t = now() - t;
        if (best == 0 || t < best)
            best = t;
    }
    *value = c->append_rate = TREE_SIZE / best;
    return 0;
}

/* The root for 1000000 in roots.txt, base64. */
static int vector_root(const char *vectors, char *out, size_t max)
{
    char path[4096], line[256];
    FILE *f;
    int found = 0;

    snprintf(path, sizeof(path), "%s/tree/roots.txt", vectors);
    f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "bench: cannot read %s\n", path);
        return 1;
    }
    while (!found && fgets(line, sizeof(line), f) != NULL) {
        size_t n;
        if (strncmp(line, "1000000 ", 8) != 0)
            continue;
        n = strcspn(line + 8, "\n");
        if (n >= max)
            break;
        memcpy(out, line + 8, n);
        out[n] = 0;
        found = 1;
    }
    fclose(f);
    return !found;
}

static int bench_root(struct bench_ctx *c, double *value)
{
    char got[64], want[64];

    (void)value;
    if (gl_base64_encode(c->root, HLEN, got, sizeof(got)) != 0)
        return 1;
    printf("bench merkle_root_%d %s root\n", TREE_SIZE, got);
    if (vector_root(c->vectors, want, sizeof(want)) != 0)
        return 1;
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "bench: root %s, roots.txt says %s\n", got, want);
        return 1;
    }
    return 0;
}

static int keep_node(void *ctx, const struct gl_node_id *id, const uint8_t hash[HLEN])
{
    struct bench_ctx *c = ctx;

    memcpy(c->lv[id->level][id->index], hash, HLEN);
    return 0;
}

static int tree_read(void *ctx, const struct gl_node_id *ids, size_t n,
                     uint8_t (*out)[HLEN])
{
    struct bench_ctx *c = ctx;
    size_t i;

    for (i = 0; i < n; i++) {
        if (ids[i].level >= GL_MERKLE_MAX_HEIGHT ||
            ids[i].index >= (c->size >> ids[i].level))
            return GL_ENOTFOUND;
        memcpy(out[i], c->lv[ids[i].level][ids[i].index], HLEN);
    }
    return 0;
}

/* The whole 1M tree as per-level arrays (built untimed). */
static int build_tree(struct bench_ctx *c)
{
    hash_t root;
    unsigned l;

    for (l = 0; (TREE_SIZE >> l) > 0; l++) {
        c->lv[l] = malloc((size_t)(TREE_SIZE >> l) * HLEN);
        if (c->lv[l] == NULL)
            return 1;
    }
    c->size = TREE_SIZE;
    c->proofs = malloc(NPROOFS * sizeof(c->proofs[0]));
    c->m_roots = malloc(NPROOFS * sizeof(c->m_roots[0]));
    if (c->proofs == NULL || c->m_roots == NULL || append_tree(c, keep_node, root) != 0)
        return 1;
    return memcmp(root, c->root, HLEN) != 0;
}

/* Runs one prove/verify step over the NPROOFS slots for ~0.5 s. */
static int timed(struct bench_ctx *c, int (*step)(struct bench_ctx *, size_t),
                 double *value)
{
    double t0 = now(), t;
    uint64_t n = 0;
    size_t i;

    do {
        for (i = 0; i < NPROOFS; i++)
            if (step(c, i) != 0)
                return 1;
        n += NPROOFS;
        t = now() - t0;
    } while (t < 0.5);
    *value = (double)n / t;
    return 0;
}

static int step_inclusion_prove(struct bench_ctx *c, size_t i)
{
    struct gl_hash_source src = {tree_read, c};

    return gl_merkle_prove_inclusion(&src, c->idx[i], TREE_SIZE, c->proofs[i],
                                     &c->lens[i]);
}

static int step_inclusion_verify(struct bench_ctx *c, size_t i)
{
    return gl_merkle_verify_inclusion(c->idx[i], TREE_SIZE, c->lv[0][c->idx[i]],
                                      (const uint8_t(*)[HLEN])c->proofs[i], c->lens[i],
                                      c->root);
}

static int step_consistency_prove(struct bench_ctx *c, size_t i)
{
    struct gl_hash_source src = {tree_read, c};

    return gl_merkle_prove_consistency(&src, c->idx[i], TREE_SIZE, c->proofs[i],
                                       &c->lens[i]);
}

static int step_consistency_verify(struct bench_ctx *c, size_t i)
{
    return gl_merkle_verify_consistency(c->idx[i], TREE_SIZE, c->m_roots[i], c->root,
                                        (const uint8_t(*)[HLEN])c->proofs[i], c->lens[i]);
}

static int bench_inclusion_prove(struct bench_ctx *c, double *value)
{
    size_t i;

    if (c->lv[0] == NULL && build_tree(c) != 0)
        return 1;
    for (i = 0; i < NPROOFS; i++)
        c->idx[i] = rnd(&c->rng) % TREE_SIZE;
    return timed(c, step_inclusion_prove, value);
}

static int bench_inclusion_verify(struct bench_ctx *c, double *value)
{
    return timed(c, step_inclusion_verify, value);
}

static int bench_consistency_prove(struct bench_ctx *c, double *value)
{
    struct gl_hash_source src = {tree_read, c};
    size_t i;

    if (c->lv[0] == NULL && build_tree(c) != 0)
        return 1;
    for (i = 0; i < NPROOFS; i++) {
        c->idx[i] = 1 + rnd(&c->rng) % (TREE_SIZE - 1);
        if (gl_merkle_root_at(&src, c->idx[i], c->m_roots[i]) != 0)
            return 1;
    }
    return timed(c, step_consistency_prove, value);
}

static int bench_consistency_verify(struct bench_ctx *c, double *value)
{
    return timed(c, step_consistency_verify, value);
}

static int bench_ratio(struct bench_ctx *c, double *value)
{
    *value = c->append_rate / c->sha_rate;
    return 0;
}

/* Ed25519 over a 200-byte message (a checkpoint-sized note text), one
 * core, ~0.5 s each; verify checks the signatures sign made. */
#define ED_MSG_LEN 200
static uint8_t ed_seed[32], ed_pub[32], ed_sig[64], ed_msg[ED_MSG_LEN];

static int bench_ed25519_sign(struct bench_ctx *c, double *value)
{
    double t0 = now(), t;
    uint64_t n = 0;

    (void)c;
    memset(ed_seed, 7, sizeof(ed_seed));
    memset(ed_msg, 'm', sizeof(ed_msg));
    if (gl_ed25519_public(ed_seed, ed_pub) != 0)
        return 1;
    do {
        ed_msg[n % ED_MSG_LEN]++;
        if (gl_ed25519_sign(ed_seed, ed_msg, ED_MSG_LEN, ed_sig) != 0)
            return 1;
        n++;
        t = now() - t0;
    } while (t < 0.5);
    *value = (double)n / t;
    return 0;
}

static int bench_ed25519_verify(struct bench_ctx *c, double *value)
{
    double t0 = now(), t;
    uint64_t n = 0;

    (void)c;
    do {
        if (gl_ed25519_verify(ed_pub, ed_msg, ED_MSG_LEN, ed_sig) != 0)
            return 1;
        n++;
        t = now() - t0;
    } while (t < 0.5);
    *value = (double)n / t;
    return 0;
}

/* In order; a NULL unit means the figure prints its own line. */
static const struct bench benches[] = {
    {"ref_sha256_65B", "hashes/s", bench_sha},
    {"merkle_append", "leaves/s", bench_append},
    {"merkle_root", NULL, bench_root},
    {"inclusion_prove", "proofs/s", bench_inclusion_prove},
    {"inclusion_verify", "proofs/s", bench_inclusion_verify},
    {"consistency_prove", "proofs/s", bench_consistency_prove},
    {"consistency_verify", "proofs/s", bench_consistency_verify},
    {"ratio_merkle_append_vs_sha256", "ratio", bench_ratio},
    {"ed25519_sign", "sigs/s", bench_ed25519_sign},
    {"ed25519_verify", "verifies/s", bench_ed25519_verify},
};

static void bench_ctx_release(struct bench_ctx *c)
{
    unsigned l;

    for (l = 0; l < GL_MERKLE_MAX_HEIGHT; l++)
        free(c->lv[l]);
    free(c->proofs);
    free(c->m_roots);
}

int main(int argc, char **argv)
{
    struct bench_ctx c;
    size_t i;
    double v;
    int status = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: %s VECTORS_DIR\n", argv[0]);
        return 2;
    }
    memset(&c, 0, sizeof(c));
    c.vectors = argv[1];
    c.rng = 20240601;
    for (i = 0; i < sizeof(benches) / sizeof(benches[0]); i++) {
        v = 0;
        if (benches[i].run(&c, &v) != 0) {
            fprintf(stderr, "bench: %s FAILED\n", benches[i].name);
            status = 1;
            break;
        }
        if (benches[i].unit == NULL)
            continue;
        if (strcmp(benches[i].unit, "ratio") == 0)
            printf("bench %s %.3f %s\n", benches[i].name, v, benches[i].unit);
        else
            printf("bench %s %.0f %s\n", benches[i].name, v, benches[i].unit);
        fflush(stdout);
    }
    bench_ctx_release(&c);
    return status;
}

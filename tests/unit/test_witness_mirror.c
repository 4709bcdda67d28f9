/*
 * The mirror checkpoint's witness cosignatures (witness/mirror.h, "Kept
 * notes"): a one-entry log, the witness engine and the mirror in a
 * temporary directory. Checks: the listed witnesses' lines that verify are
 * kept (the own witness's from its record, the other's from an offered
 * note), a forged line and an unlisted witness's line are dropped; a newer
 * cosignature offered later replaces the older one after mirror_refresh,
 * an older one changes nothing; another text matches nothing; the served
 * checkpoint survives closing and reopening the mirror, byte for byte.
 *
 * An existing but empty copy directory is made anew, not refused. The
 * stored tree's root at upload_end must be the pending checkpoint's
 * before the mirror cosigns it: a witness state replaced under a
 * surviving copy (another tree of the same size accepted) gets a 500 and
 * nothing signed. The 0/0 probe is a 409 until 0 is a pending size, then
 * a valid empty upload (200). An empty upload that changes nothing is
 * answered with the stored mirror cosignature, nothing signed or stored.
 *
 * mirror_progress (/metrics, on the event loop) answers at once while a
 * writer holds the log's lock, with the next entry committed.
 *
 * The mirror's puller stops within about a second of being asked while a
 * log holds its request unanswered (a reload waits for it, then joins it
 * on the event loop): the request in flight is aborted.
 *
 * The tile cache budget: the bounds of the logs' tile caches add up to at
 * most 64 MiB with 32 mirrored logs, and across reloads from 1 log to 32
 * (the kept log's cache shrinks to its share) and back to 1 (it grows to
 * the whole budget again).
 *
 * The copies' bounds (mirror.h, Bounds): a mirror opened for 2 logs
 * refuses a list of 3 (at open and at a reload, nothing changed), and a
 * reload that would hold 3 copies open at once (2 in use, 1 of them
 * replaced) but is fine once split in two (drop, then add); each copy's
 * RocksDB keeps MIRROR_OPEN_FILES table files open at most (its OPTIONS
 * file) and gets its share of the block cache; mirror_open's bound is the
 * logs mirrored plus MIRROR_LOGS_SPARE.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../log/store.h"
#include "../../witness/addck.h"
#include "../../witness/engine.h"
#include "../../witness/logs.h"
#include "../../witness/mirrorpull.h"
/* the module itself: the writer-lock test holds a log's lock */
#include "../../witness/mirror.c"
#include "../../witness/wstore.h"
#include "file.h"
#include "glasslog/buf.h"
#include "glasslog/checkpoint.h"
#include "glasslog/codec.h"
#include "glasslog/cosig.h"
#include "glasslog/error.h"
#include "glasslog/key.h"
#include "glasslog/merkle.h"
#include "glasslog/mirror.h"
#include "glasslog/note.h"

/* The cosignature line of k over text at time t, into out (reset first). */
static void cosign(const struct gl_signer *k, const struct gl_buf *note, uint64_t t,
                   struct gl_buf *out)
{
    struct gl_note *n = NULL;
    assert_int_equal(gl_note_parse((const char *)note->data, note->len, &n, NULL), 0);
    gl_buf_reset(out);
    assert_int_equal(gl_cosig_sign(k, n->text, n->text_len, t, out), 0);
    gl_note_free(n);
}

/* note + lines, offered to the mirror. */
static int offer(struct mirror *m, const struct gl_buf *note, const char *lines)
{
    struct gl_buf b;
    gl_buf_init(&b, 1 << 16);
    assert_int_equal(gl_buf_append(&b, note->data, note->len), 0);
    assert_int_equal(gl_buf_append_str(&b, lines), 0);
    int fresh = mirror_offer(m, 0, (const char *)b.data, b.len);
    gl_buf_release(&b);
    return fresh;
}

/* The served mirror checkpoint into out (reset first). */
static void served(struct mirror *m, const struct logs_entry *e, struct gl_buf *out)
{
    gl_buf_reset(out);
    assert_int_equal(mirror_checkpoint(m, e->origin_hash, out), 0);
}

static size_t count_lines(const struct gl_buf *b, const char *name)
{
    struct gl_note *n = NULL;
    size_t c = 0, nl = strlen(name);
    assert_int_equal(gl_note_parse((const char *)b->data, b->len, &n, NULL), 0);
    for (size_t i = 0; i < n->nsigs; i++)
        c += name[0] == 0 ||
             (n->sigs[i].name_len == nl && memcmp(n->sigs[i].name, name, nl) == 0);
    gl_note_free(n);
    return c;
}

static int has(const struct gl_buf *b, const struct gl_buf *line)
{
    char *s = strndup((const char *)b->data, b->len),
         *l = strndup((const char *)line->data, line->len);
    int r = strstr(s, l) != NULL;
    free(s);
    free(l);
    return r;
}

/* Stops and frees the engine of a witness state and closes the state. */
static void witness_close(struct wstore *ws, struct engine *eng)
{
    engine_stop(eng);
    engine_free(eng);
    wstore_close(ws);
}

static void test_mirror_witness_cosignatures(void **state)
{
    char dir[] = "/tmp/test_mirror.XXXXXX", wdir[64], cmd[96];
    struct gl_signer lk, wk, w2, w3, mk;
    struct gl_verifier v;
    struct gl_buf b, note, other, l2, l2new, l2old, l3, forged, ck, ck2;
    struct logs_list logs;
    struct gl_err why;
    struct wstore *ws;
    const char *swhy;
    struct engine *eng;
    struct mirror *m;
    struct mirror_result res;
    uint8_t leaf[GL_HASH_LEN];
    (void)state;

    assert_non_null(mkdtemp(dir));
    assert_int_equal(gl_signer_generate("t.example/log", GL_KEY_NOTE, &lk), 0);
    assert_int_equal(gl_signer_generate("w1.example", GL_KEY_COSIG, &wk), 0);
    assert_int_equal(gl_signer_generate("w2.example", GL_KEY_COSIG, &w2), 0);
    assert_int_equal(gl_signer_generate("w3.example", GL_KEY_COSIG, &w3), 0);
    assert_int_equal(gl_signer_generate("m.example", GL_KEY_COSIG, &mk), 0);
    gl_buf_init(&b, 1 << 16);
    gl_buf_append_str(&b, "logs/v0\nvkey ");
    gl_signer_verifier(&lk, &v);
    gl_verifier_format(&v, &b);
    gl_buf_append_str(&b, "\nmirror\nwitness ");
    gl_signer_verifier(&wk, &v);
    gl_verifier_format(&v, &b);
    gl_buf_append_str(&b, "\nwitness ");
    gl_signer_verifier(&w2, &v);
    gl_verifier_format(&v, &b);
    gl_buf_append_str(&b, "\n");
    assert_int_equal(logs_parse((const char *)b.data, b.len, &logs, &why), 0);
    assert_int_equal(logs.v[0].nwitnesses, 2);

    /* a one-entry log: its checkpoint, and one at another size (text) */
    assert_int_equal(gl_merkle_leaf_hash("e0", 2, leaf), 0);
    gl_buf_init(&note, 1 << 16);
    gl_buf_init(&other, 1 << 16);
    assert_int_equal(gl_checkpoint_sign(lk.name, 1, leaf, &lk, &note), 0);
    assert_int_equal(gl_checkpoint_sign(lk.name, 2, leaf, &lk, &other), 0);

    /* the witness cosigns it (add-checkpoint from 0) */
    snprintf(wdir, sizeof wdir, "%s/w", dir);
    assert_int_equal(wstore_open(wdir, 8, 1, &ws, &swhy), 0);
    struct engine_config ec = {ws, &logs, &wk, dir, NULL, NULL, 0, 0};
    assert_int_equal(engine_new(&ec, &eng), 0);
    gl_buf_reset(&b);
    gl_buf_append_str(&b, "old 0\n\n");
    gl_buf_append(&b, note.data, note.len);
    struct wreq *r = calloc(1, sizeof *r);
    struct addck_req ar;
    assert_non_null(r);
    assert_int_equal(addck_parse(b.data, b.len, &ar, &why), 0);
    assert_int_equal(addck_open(&ar, &logs.v[0], &r->ck, &r->kept, &why), 0);
    r->kind = WREQ_ADD;
    r->note = ar.note;
    r->note_len = ar.note_len;
    engine_run(eng, r);
    assert_int_equal(r->status, 200);

    struct mirror_config mc = {dir, &logs, eng, &mk, wk.name, 8, 0};
    assert_int_equal(mirror_open(&mc, &m), 0);

    /* offered before the mirror checkpoint: w2's line, a forged w2 line
     * (one signature byte changed: after w2's first line, ignored), w3's
     * (unlisted) */
    gl_buf_init(&l2, 1024);
    gl_buf_init(&l2new, 1024);
    gl_buf_init(&l2old, 1024);
    gl_buf_init(&l3, 1024);
    gl_buf_init(&forged, 1024);
    cosign(&w2, &note, 100, &l2);
    cosign(&w2, &note, 300, &l2new);
    cosign(&w2, &note, 50, &l2old);
    cosign(&w3, &note, 100, &l3);
    cosign(&w2, &note, 200, &forged);
    forged.data[forged.len - 10] =
        forged.data[forged.len - 10] == 'A' ? 'B' : 'A'; /* in the signature */
    gl_buf_reset(&b);
    gl_buf_append(&b, l2.data, l2.len);
    gl_buf_append(&b, forged.data, forged.len);
    gl_buf_append(&b, l3.data, l3.len);
    gl_buf_putc(&b, 0);
    assert_int_equal(offer(m, &note, (const char *)b.data),
                     0); /* no mirror checkpoint yet */

    /* the entry: one package, an empty proof (the subtree is the tree) */
    struct gl_tile_entry e = {(const uint8_t *)"e0", 2};
    gl_buf_reset(&b);
    assert_int_equal(gl_mirror_upload_encode(lk.name, strlen(lk.name), 0, 1, NULL, 0, &b),
                     0);
    assert_int_equal(gl_mirror_package_encode(&e, 1, NULL, 0, &b), 0);
    mirror_add_entries(m, b.data, b.len, &res);
    assert_int_equal(res.status, 200);

    gl_buf_init(&ck, 1 << 16);
    gl_buf_init(&ck2, 1 << 16);
    served(m, &logs.v[0], &ck);
    assert_int_equal(count_lines(&ck, ""), 4); /* log, w1 (own), w2, mirror */
    assert_int_equal(count_lines(&ck, "w1.example"), 1);
    assert_true(has(&ck, &l2));
    assert_false(has(&ck, &forged));
    assert_int_equal(count_lines(&ck, "w3.example"), 0);
    assert_int_equal(count_lines(&ck, "m.example"), 1);
    struct gl_note *n = NULL;
    struct gl_cosig_status st[3];
    struct gl_verifier ws3[3];
    gl_signer_verifier(&wk, &ws3[0]);
    gl_signer_verifier(&w2, &ws3[1]);
    gl_signer_verifier(&mk, &ws3[2]);
    assert_int_equal(gl_note_parse((const char *)ck.data, ck.len, &n, NULL), 0);
    assert_int_equal(gl_cosig_verify_note(n, ws3, 3, st, NULL), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(st[i].status, 0);
    gl_note_free(n);

    /* older: nothing; another text: nothing; newer: taken after a refresh */
    gl_buf_reset(&b);
    gl_buf_append(&b, l2old.data, l2old.len);
    gl_buf_putc(&b, 0);
    assert_int_equal(offer(m, &note, (const char *)b.data), 0);
    assert_int_equal(offer(m, &other, (const char *)b.data), 0);
    /* newer, but after a forged first line by w2: a witness's first line
     * decides (gl_cosig_verify_note's rule), so nothing */
    gl_buf_reset(&b);
    gl_buf_append(&b, forged.data, forged.len);
    gl_buf_append(&b, l2new.data, l2new.len);
    gl_buf_putc(&b, 0);
    assert_int_equal(offer(m, &note, (const char *)b.data), 0);
    gl_buf_reset(&b);
    gl_buf_append(&b, l2new.data, l2new.len);
    gl_buf_putc(&b, 0);
    assert_int_equal(offer(m, &note, (const char *)b.data), 1);
    served(m, &logs.v[0], &ck2);
    assert_true(ck2.len == ck.len && memcmp(ck2.data, ck.data, ck.len) == 0);
    assert_int_equal(mirror_refresh(m, 0), 0);
    served(m, &logs.v[0], &ck);
    assert_true(has(&ck, &l2new));
    assert_false(has(&ck, &l2));
    assert_int_equal(count_lines(&ck, ""), 4);
    assert_int_equal(count_lines(&ck, "w1.example"), 1);

    /* persisted with the mirror checkpoint */
    mirror_free(m);
    assert_int_equal(mirror_open(&mc, &m), 0);
    served(m, &logs.v[0], &ck2);
    assert_true(ck2.len == ck.len && memcmp(ck2.data, ck.data, ck.len) == 0);

    mirror_free(m);
    witness_close(ws, eng);
    free(r);
    logs_release(&logs);
    gl_buf_release(&b);
    gl_buf_release(&note);
    gl_buf_release(&other);
    gl_buf_release(&l2);
    gl_buf_release(&l2new);
    gl_buf_release(&l2old);
    gl_buf_release(&l3);
    gl_buf_release(&forged);
    gl_buf_release(&ck);
    gl_buf_release(&ck2);
    gl_signer_wipe(&lk);
    gl_signer_wipe(&wk);
    gl_signer_wipe(&w2);
    gl_signer_wipe(&w3);
    gl_signer_wipe(&mk);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

#define BUDGET ((size_t)64 << 20)

/* A logs list mirroring the n logs keys[0 .. n-1]. */
static void mirrored_list(const struct gl_signer *keys, size_t n, struct logs_list *out)
{
    struct gl_buf b;
    struct gl_verifier v;
    struct gl_err why;

    gl_buf_init(&b, 1 << 20);
    gl_buf_append_str(&b, "logs/v0\n");
    for (size_t i = 0; i < n; i++) {
        gl_buf_append_str(&b, "vkey ");
        gl_signer_verifier(&keys[i], &v);
        gl_verifier_format(&v, &b);
        gl_buf_append_str(&b, "\nmirror\n");
    }
    assert_int_equal(logs_parse((const char *)b.data, b.len, out, &why), 0);
    assert_int_equal(out->n, n);
    gl_buf_release(&b);
}

/* Replaces the mirror's list (*logs) by next, as a reload does. */
static void reload_to(struct mirror *m, struct logs_list *logs, struct logs_list *next)
{
    assert_int_equal(mirror_prepare(m, next), 0);
    logs_release(logs);
    *logs = *next;
    mirror_switch(m, NULL);
}

static void test_mirror_tile_cache_budget(void **state)
{
    enum { NLOGS = 32 };
    char dir[] = "/tmp/test_mirror.XXXXXX", cmd[96];
    struct gl_signer keys[NLOGS], mk;
    struct logs_list logs, next;
    struct mirror *m;
    size_t limit, held;
    (void)state;

    assert_non_null(mkdtemp(dir));
    for (size_t i = 0; i < NLOGS; i++) {
        char name[32];
        snprintf(name, sizeof name, "t%zu.example/log", i);
        assert_int_equal(gl_signer_generate(name, GL_KEY_NOTE, &keys[i]), 0);
    }
    assert_int_equal(gl_signer_generate("m.example", GL_KEY_COSIG, &mk), 0);

    /* 32 logs from the start */
    mirrored_list(keys, NLOGS, &logs);
    struct mirror_config mc = {dir, &logs, NULL, &mk, "w.example", 1, 0};
    assert_int_equal(mirror_open(&mc, &m), 0);
    assert_int_equal(mirror_count(m), NLOGS);
    mirror_tile_cache(m, &limit, &held);
    assert_true(limit <= BUDGET);
    assert_true(limit >= BUDGET - NLOGS); /* the whole budget, split */
    assert_int_equal(held, 0);
    mirror_free(m);
    logs_release(&logs);

    /* 1 log, then 32 (the first kept), then 1 again: room for 32 copies */
    mirrored_list(keys, 1, &logs);
    mc.max_logs = NLOGS;
    assert_int_equal(mirror_open(&mc, &m), 0);
    mirror_tile_cache(m, &limit, &held);
    assert_int_equal(limit, BUDGET);
    mirrored_list(keys, NLOGS, &next);
    reload_to(m, &logs, &next);
    assert_int_equal(mirror_count(m), NLOGS);
    mirror_tile_cache(m, &limit, &held);
    assert_true(limit <= BUDGET);
    assert_true(limit >= BUDGET - NLOGS);
    mirrored_list(keys, 1, &next);
    reload_to(m, &logs, &next);
    assert_int_equal(mirror_count(m), 1);
    mirror_tile_cache(m, &limit, &held);
    assert_int_equal(limit, BUDGET);

    mirror_free(m);
    logs_release(&logs);
    for (size_t i = 0; i < NLOGS; i++)
        gl_signer_wipe(&keys[i]);
    gl_signer_wipe(&mk);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* 1 if the newest OPTIONS file RocksDB wrote in the copy of logs entry e
 * (under the witness data dir) has the line "  <setting>" (it writes one
 * at every open; all of them must say it). */
static int copy_options_say(const char *dir, const struct logs_entry *e,
                            const char *setting)
{
    char hex[GL_HASH_HEX_LEN + 1], cmd[512];
    gl_hex_encode(e->origin_hash, GL_HASH_LEN, hex, sizeof hex);
    snprintf(cmd, sizeof cmd,
             "f=$(ls %s/mirror/%s/OPTIONS-* | sort | tail -1) && grep -qx '  %s' \"$f\"",
             dir, hex, setting);
    return system(cmd) == 0;
}

static void test_mirror_copy_bounds(void **state)
{
    char dir[] = "/tmp/test_mirror.XXXXXX", cmd[96];
    struct gl_signer keys[3], mk;
    struct logs_list logs, next;
    struct mirror *m;
    size_t after, peak;
    char why[MIRROR_WHY_MAX];
    (void)state;

    assert_non_null(mkdtemp(dir));
    for (size_t i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "b%zu.example/log", i);
        assert_int_equal(gl_signer_generate(name, GL_KEY_NOTE, &keys[i]), 0);
    }
    assert_int_equal(gl_signer_generate("m.example", GL_KEY_COSIG, &mk), 0);

    /* 3 mirrored logs, room for 2: refused at open, nothing opened */
    mirrored_list(keys, 3, &logs);
    struct mirror_config mc = {dir, &logs, NULL, &mk, "w.example", 8, 0};
    mc.max_logs = 2;
    assert_int_equal(mirror_open(&mc, &m), GL_ERANGE);
    snprintf(cmd, sizeof cmd, "test ! -e '%s/mirror'", dir);
    assert_int_equal(system(cmd), 0);
    logs_release(&logs);

    /* keys 0 and 1, room for 2: the table files and cache of each copy */
    mirrored_list(keys, 2, &logs);
    assert_int_equal(mirror_open(&mc, &m), 0);
    assert_int_equal(mirror_max_logs(m), 2);
    assert_int_equal(kv_cache_mb(m->cache), 8); /* one cache for both, 8 MiB */
    assert_true(copy_options_say(dir, &logs.v[0], "max_open_files=64"));
    assert_true(copy_options_say(dir, &logs.v[1], "max_open_files=64"));
    assert_false(copy_options_say(dir, &logs.v[0], "max_open_files=512"));
    /* write buffers of MIRROR_WRITE_BUFFER_MB, not the log's 16 MiB */
    assert_true(copy_options_say(dir, &logs.v[0], "write_buffer_size=4194304"));
    assert_false(copy_options_say(dir, &logs.v[0], "write_buffer_size=16777216"));

    /* a reload to 3: refused, the 2 in use stay */
    mirrored_list(keys, 3, &next);
    mirror_copies(m, &next, &after, &peak);
    assert_int_equal(after, 3);
    assert_int_equal(peak, 3);
    /* one check, one reason (a reload's and mirror_prepare's) */
    assert_int_equal(mirror_check_copies(m, &next, why, sizeof why), GL_ERANGE);
    assert_string_equal(why, "the list needs 3 copies open at once (3 logs with a mirror "
                             "line, 0 dropped but open until the switch), more than the "
                             "2 copies set aside for at start (descriptors and cache: "
                             "--mirror-max-logs): restart the witness with a larger "
                             "--mirror-max-logs");
    assert_int_equal(mirror_prepare(m, &next), GL_ERANGE);
    assert_int_equal(mirror_count(m), 2);
    logs_release(&next);

    /* keys 0 and 2: 2 mirrored, but key 1's copy stays open until the
     * switch beside key 2's: 3 at once, refused */
    {
        struct gl_signer two[2] = {keys[0], keys[2]};
        mirrored_list(two, 2, &next);
    }
    mirror_copies(m, &next, &after, &peak);
    assert_int_equal(after, 2);
    assert_int_equal(peak, 3);
    assert_int_equal(mirror_check_copies(m, &next, why, sizeof why), GL_ERANGE);
    assert_non_null(strstr(why, "the list needs 3 copies open at once (2 logs with a "
                                "mirror line, 1 dropped but open until the switch), "
                                "more than the 2 "));
    assert_non_null(strstr(why, ": drop them in one reload, add the others in the "
                                "next"));
    assert_int_equal(mirror_prepare(m, &next), GL_ERANGE);
    assert_int_equal(mirror_count(m), 2);
    /* the same switch in two reloads: drop key 1, then add key 2 */
    struct logs_list only0;
    mirrored_list(keys, 1, &only0);
    reload_to(m, &logs, &only0);
    assert_int_equal(mirror_count(m), 1);
    mirror_copies(m, &next, &after, &peak);
    assert_int_equal(peak, 2);
    assert_int_equal(mirror_check_copies(m, &next, why, sizeof why), 0);
    reload_to(m, &logs, &next);
    assert_int_equal(mirror_count(m), 2);
    assert_true(copy_options_say(dir, &logs.v[1], "max_open_files=64"));
    mirror_free(m);
    logs_release(&logs);

    /* mirror_open: the logs mirrored plus MIRROR_LOGS_SPARE, one cache;
     * mirror_bound says so before it opens (the descriptors sized on it) */
    mirrored_list(keys, 1, &logs);
    assert_int_equal(mirror_bound(&logs, 0), 1 + MIRROR_LOGS_SPARE);
    assert_int_equal(mirror_bound(&logs, 2), 2);
    assert_int_equal(mirror_bound(&logs, LOGS_MAX + 1), LOGS_MAX);
    mc.cache_mb = 1;
    mc.max_logs = 0;
    assert_int_equal(mirror_open(&mc, &m), 0);
    assert_int_equal(mirror_max_logs(m), 1 + MIRROR_LOGS_SPARE);
    assert_int_equal(kv_cache_mb(m->cache), 1); /* not split: one copy has it all */
    mirror_free(m);
    logs_release(&logs);

    for (size_t i = 0; i < 3; i++)
        gl_signer_wipe(&keys[i]);
    gl_signer_wipe(&mk);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* A witness state in dir/<name> (made) whose engine accepted `note` (a
 * checkpoint of the first log of logs, from size 0). */
static void witness_accepting(const char *dir, const char *name,
                              const struct logs_list *logs, const struct gl_signer *wk,
                              const struct gl_buf *note, struct wstore **ws,
                              struct engine **eng)
{
    char wdir[96];
    const char *swhy;
    struct gl_err why;
    struct gl_buf b;
    struct addck_req ar;
    struct wreq *r = calloc(1, sizeof *r);

    assert_non_null(r);
    snprintf(wdir, sizeof wdir, "%s/%s", dir, name);
    assert_int_equal(wstore_open(wdir, 8, 1, ws, &swhy), 0);
    struct engine_config ec = {*ws, logs, wk, dir, NULL, NULL, 0, 0};
    assert_int_equal(engine_new(&ec, eng), 0);
    gl_buf_init(&b, 1 << 16);
    gl_buf_append_str(&b, "old 0\n\n");
    gl_buf_append(&b, note->data, note->len);
    assert_int_equal(addck_parse(b.data, b.len, &ar, &why), 0);
    assert_int_equal(addck_open(&ar, &logs->v[0], &r->ck, &r->kept, &why), 0);
    r->kind = WREQ_ADD;
    r->note = ar.note;
    r->note_len = ar.note_len;
    engine_run(*eng, r);
    assert_int_equal(r->status, 200);
    free(r);
    gl_buf_release(&b);
}

/* An add-entries of [start, end) of the one-log list (entries: n of them
 * at start, an empty proof), into *res. */
static void upload(struct mirror *m, const struct gl_signer *lk, uint64_t start,
                   uint64_t end, const struct gl_tile_entry *e, size_t n,
                   struct mirror_result *res)
{
    struct gl_buf b;

    gl_buf_init(&b, 1 << 16);
    assert_int_equal(
        gl_mirror_upload_encode(lk->name, strlen(lk->name), start, end, NULL, 0, &b), 0);
    if (n > 0)
        assert_int_equal(gl_mirror_package_encode(e, n, NULL, 0, &b), 0);
    mirror_add_entries(m, b.data, b.len, res);
    gl_buf_release(&b);
}

/* A mirror copy directory that exists but is empty (a crash between its
 * mkdir and the store's first files, or emptied by hand) is made anew,
 * not refused; one holding a store is opened as it is. */
static void test_mirror_empty_copy_dir(void **state)
{
    char dir[] = "/tmp/test_mirror.XXXXXX", path[256], hex[GL_HASH_HEX_LEN + 1], cmd[96];
    struct gl_signer lk, mk;
    struct logs_list logs;
    struct mirror *m = NULL;
    uint64_t pending, next, size;
    (void)state;

    assert_non_null(mkdtemp(dir));
    assert_int_equal(gl_signer_generate("t.example/log", GL_KEY_NOTE, &lk), 0);
    assert_int_equal(gl_signer_generate("m.example", GL_KEY_COSIG, &mk), 0);
    mirrored_list(&lk, 1, &logs);
    gl_hex_encode(logs.v[0].origin_hash, GL_HASH_LEN, hex, sizeof hex);
    snprintf(path, sizeof path, "%s/mirror", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/mirror/%s", dir, hex);
    assert_int_equal(mkdir(path, 0755), 0);

    struct mirror_config mc = {dir, &logs, NULL, &mk, "w.example", 1, 0};
    assert_int_equal(mirror_open(&mc, &m), 0);
    assert_int_equal(mirror_progress(m, 0, &pending, &next, &size), 0);
    assert_int_equal(next, 0);
    assert_int_equal(size, 0);
    mirror_free(m);
    assert_int_equal(gl_file_dir_empty(path), 0); /* the store is there now */
    assert_int_equal(mirror_open(&mc, &m), 0);    /* and opened, not made */
    mirror_free(m);

    logs_release(&logs);
    gl_signer_wipe(&lk);
    gl_signer_wipe(&mk);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* One mirrored log t.example/log (key lk), a witness key wk and a mirror
 * key mk, in a new directory dir (one_close removes it). */
struct one {
    char dir[32];
    struct gl_signer lk, wk, mk;
    struct logs_list logs;
};

static void one_open(struct one *o)
{
    snprintf(o->dir, sizeof o->dir, "/tmp/test_mirror.XXXXXX");
    assert_non_null(mkdtemp(o->dir));
    assert_int_equal(gl_signer_generate("t.example/log", GL_KEY_NOTE, &o->lk), 0);
    assert_int_equal(gl_signer_generate("w1.example", GL_KEY_COSIG, &o->wk), 0);
    assert_int_equal(gl_signer_generate("m.example", GL_KEY_COSIG, &o->mk), 0);
    mirrored_list(&o->lk, 1, &o->logs);
}

static void one_close(struct one *o)
{
    char cmd[96];

    logs_release(&o->logs);
    gl_signer_wipe(&o->lk);
    gl_signer_wipe(&o->wk);
    gl_signer_wipe(&o->mk);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", o->dir);
    assert_int_equal(system(cmd), 0);
}

/* A mirror holding e0 cosigned at size 1 (e0_open, e0_close): the
 * one-log fixture o, the log's checkpoint of e0 at size 1 (note0), a
 * witness state in o.dir/w that accepted it (ws, eng) and the mirror m,
 * opened with mc (mc.engine: eng), to which e0 was uploaded (200). A test
 * may close m (NULL) or the witness and open others in their place: the
 * ones there at e0_close are closed. */
struct e0_mirror {
    struct one o;
    struct gl_buf note0;
    struct wstore *ws;
    struct engine *eng;
    struct mirror_config mc;
    struct mirror *m;
};

static void e0_open(struct e0_mirror *f)
{
    struct gl_tile_entry e0 = {(const uint8_t *)"e0", 2};
    uint8_t leaf0[GL_HASH_LEN];
    struct mirror_result res;

    one_open(&f->o);
    assert_int_equal(gl_merkle_leaf_hash("e0", 2, leaf0), 0);
    gl_buf_init(&f->note0, 1 << 16);
    assert_int_equal(gl_checkpoint_sign(f->o.lk.name, 1, leaf0, &f->o.lk, &f->note0), 0);
    witness_accepting(f->o.dir, "w", &f->o.logs, &f->o.wk, &f->note0, &f->ws, &f->eng);
    f->mc = (struct mirror_config){f->o.dir,     &f->o.logs, f->eng, &f->o.mk,
                                   f->o.wk.name, 8,          0};
    assert_int_equal(mirror_open(&f->mc, &f->m), 0);
    upload(f->m, &f->o.lk, 0, 1, &e0, 1, &res);
    assert_int_equal(res.status, 200);
}

static void e0_close(struct e0_mirror *f)
{
    mirror_free(f->m);
    witness_close(f->ws, f->eng);
    gl_buf_release(&f->note0);
    one_close(&f->o);
}

/* The copy survives while the witness state is replaced by one that
 * accepted another tree of the same size: the packages were proven
 * against the old root, so the mirror must not cosign the new
 * checkpoint over entries that do not produce its root (500, nothing
 * signed, the mirror checkpoint unchanged); the checkpoint its entries
 * do produce is still cosigned. */
static void test_mirror_root_checked_before_cosigning(void **state)
{
    struct e0_mirror f;
    struct gl_buf note1, ck, ck2;
    struct mirror_result res;
    uint8_t leaf1[GL_HASH_LEN];
    (void)state;

    /* the copy holds e0, cosigned at size 1 */
    e0_open(&f);
    assert_int_equal(gl_merkle_leaf_hash("e1", 2, leaf1), 0);
    gl_buf_init(&note1, 1 << 16);
    gl_buf_init(&ck, 1 << 16);
    gl_buf_init(&ck2, 1 << 16);
    assert_int_equal(gl_checkpoint_sign(f.o.lk.name, 1, leaf1, &f.o.lk, &note1), 0);
    served(f.m, &f.o.logs.v[0], &ck);
    mirror_free(f.m);
    witness_close(f.ws, f.eng);

    /* a new witness state that accepted the tree of e1 at size 1 */
    witness_accepting(f.o.dir, "w2", &f.o.logs, &f.o.wk, &note1, &f.ws, &f.eng);
    f.mc.engine = f.eng;
    assert_int_equal(mirror_open(&f.mc, &f.m), 0);
    upload(f.m, &f.o.lk, 1, 1, NULL, 0, &res); /* empty: entries stored already */
    assert_int_equal(res.status, 500);
    assert_int_equal(res.line_len, 0);
    assert_non_null(strstr(res.why, "does not match the pending checkpoint's root"));
    assert_int_equal(mirror_refresh(f.m, 0), GL_EIO);
    served(f.m, &f.o.logs.v[0], &ck2);
    assert_true(ck2.len == ck.len && memcmp(ck2.data, ck.data, ck.len) == 0);
    mirror_free(f.m);
    witness_close(f.ws, f.eng);

    /* the first state again: its checkpoint is cosigned (200) */
    witness_accepting(f.o.dir, "w3", &f.o.logs, &f.o.wk, &f.note0, &f.ws, &f.eng);
    f.mc.engine = f.eng;
    assert_int_equal(mirror_open(&f.mc, &f.m), 0);
    upload(f.m, &f.o.lk, 1, 1, NULL, 0, &res);
    assert_int_equal(res.status, 200);

    gl_buf_release(&note1);
    gl_buf_release(&ck);
    gl_buf_release(&ck2);
    e0_close(&f);
}

/* The 0/0 probe (specs/mirror.md): 409 with the state while 0 is not a
 * pending size; once the witness holds a checkpoint of size 0 (and the
 * mirror checkpoint is 0), it is a valid empty upload: 200 with the
 * mirror's cosignature on that empty checkpoint, as tlog-mirror's
 * processing says. */
static void test_mirror_zero_probe(void **state)
{
    struct one o;
    struct gl_buf note0, ck;
    struct wstore *ws;
    struct engine *eng;
    struct mirror *m;
    struct mirror_result res;
    uint8_t empty[GL_HASH_LEN];
    (void)state;

    one_open(&o);
    gl_merkle_empty_root(empty);
    gl_buf_init(&note0, 1 << 16);
    gl_buf_init(&ck, 1 << 16);
    assert_int_equal(gl_checkpoint_sign(o.lk.name, 0, empty, &o.lk, &note0), 0);

    struct mirror_config mc = {o.dir, &o.logs, NULL, &o.mk, o.wk.name, 8, 0};
    assert_int_equal(mirror_open(&mc, &m), 0); /* nothing pending */
    upload(m, &o.lk, 0, 0, NULL, 0, &res);
    assert_int_equal(res.status, 409);
    assert_int_equal(res.info_size, 0);
    assert_int_equal(res.info_next, 0);
    mirror_free(m);

    witness_accepting(o.dir, "w", &o.logs, &o.wk, &note0, &ws, &eng);
    mc.engine = eng;
    assert_int_equal(mirror_open(&mc, &m), 0);
    upload(m, &o.lk, 0, 0, NULL, 0, &res);
    assert_int_equal(res.status, 200);
    assert_true(res.line_len > 0 && memcmp(res.line, "\xe2\x80\x94 m.example ", 13) == 0);
    served(m, &o.logs.v[0], &ck);
    assert_int_equal(count_lines(&ck, "m.example"), 1);
    mirror_free(m);
    witness_close(ws, eng);

    gl_buf_release(&note0);
    gl_buf_release(&ck);
    one_close(&o);
}

/* The store of the one-log list's copy in dir (the mirror closed). */
static struct store *copy_store(const char *dir, const struct logs_entry *e)
{
    char path[256], hex[GL_HASH_HEX_LEN + 1];
    struct store_options o;
    struct store *s = NULL;
    const char *why;

    gl_hex_encode(e->origin_hash, GL_HASH_LEN, hex, sizeof hex);
    snprintf(path, sizeof path, "%s/mirror/%s", dir, hex);
    memset(&o, 0, sizeof o);
    o.dir = path;
    assert_int_equal(store_open(&o, &s, &why), 0);
    return s;
}

/* The mirror checkpoint stored in that copy into out (reset first). */
static void stored(const char *dir, const struct logs_entry *e, struct gl_buf *out)
{
    struct store *s = copy_store(dir, e);
    uint64_t size;
    gl_buf_reset(out);
    assert_int_equal(store_get_state(s, &size, out), 0);
    store_close(s);
}

/* Rewrites the stored mirror checkpoint of that copy: its last line (the
 * mirror's cosignature) signed again by mk at time t; into out. */
static void restamp(const char *dir, const struct logs_entry *e,
                    const struct gl_signer *mk, uint64_t t, struct gl_buf *out)
{
    struct store *s = copy_store(dir, e);
    struct store_batch *b;
    struct gl_buf line;
    struct gl_note *n = NULL;
    uint64_t size;

    gl_buf_reset(out);
    assert_int_equal(store_get_state(s, &size, out), 0);
    assert_int_equal(gl_note_parse((const char *)out->data, out->len, &n, NULL), 0);
    out->len -= n->sigs[n->nsigs - 1].line_len; /* the mirror's line */
    gl_buf_init(&line, 1024);
    assert_int_equal(gl_cosig_sign(mk, n->text, n->text_len, t, &line), 0);
    assert_int_equal(gl_buf_append(out, line.data, line.len), 0);
    assert_int_equal(store_batch_new(s, &b), 0);
    store_batch_put_state(b, size, out->data, out->len);
    assert_int_equal(store_batch_commit(b, NULL), 0);
    store_batch_free(b);
    store_close(s);
    gl_note_free(n);
    gl_buf_release(&line);
}

static int same_bytes(const struct gl_buf *a, const struct gl_buf *b)
{
    return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

/* 1 if the note in b ends with line (len bytes). */
static int ends_with_line(const struct gl_buf *b, const char *line, size_t len)
{
    return len > 0 && b->len > len && memcmp(b->data + b->len - len, line, len) == 0;
}

/* An empty upload at the mirror's size that brings nothing new (the same
 * checkpoint text, no new witness line) stores nothing while the stored
 * mirror cosignature is younger than MIRROR_COSIG_REUSE_S: it is the
 * answer, nothing signed again nor committed, however often the upload is
 * repeated, and the served checkpoint keeps its bytes (the stored line is
 * restamped 20 s in the past, so a fresh signature would differ). An
 * older one is signed afresh and stored, and so is one by another mirror
 * key. */
static void test_mirror_empty_upload_unchanged(void **state)
{
    struct e0_mirror f;
    struct gl_signer mk2;
    struct gl_buf ck, ck2, old;
    struct mirror_result res, res2;
    struct gl_note *n = NULL;
    struct gl_cosig_status st;
    struct gl_verifier v;
    (void)state;

    e0_open(&f);
    assert_int_equal(gl_signer_generate("m.example", GL_KEY_COSIG, &mk2), 0);
    gl_buf_init(&ck, 1 << 16);
    gl_buf_init(&ck2, 1 << 16);
    gl_buf_init(&old, 1 << 16);
    mirror_free(f.m);
    f.m = NULL;
    restamp(f.o.dir, &f.o.logs.v[0], &f.o.mk, (uint64_t)time(NULL) - 20, &old);

    /* recent: reused */
    assert_int_equal(mirror_open(&f.mc, &f.m), 0);
    served(f.m, &f.o.logs.v[0], &ck);
    assert_true(same_bytes(&ck, &old));
    upload(f.m, &f.o.lk, 1, 1, NULL, 0, &res);
    upload(f.m, &f.o.lk, 1, 1, NULL, 0, &res2);
    assert_int_equal(res.status, 200);
    assert_int_equal(res2.status, 200);
    assert_true(res.line_len == res2.line_len &&
                memcmp(res.line, res2.line, res.line_len) == 0);
    assert_true(ends_with_line(&old, res.line, res.line_len)); /* not signed */
    served(f.m, &f.o.logs.v[0], &ck2);
    assert_true(same_bytes(&ck2, &old));
    assert_int_equal(mirror_refresh(f.m, 0), 0); /* nothing new either */
    served(f.m, &f.o.logs.v[0], &ck2);
    assert_true(same_bytes(&ck2, &old));
    mirror_free(f.m);
    stored(f.o.dir, &f.o.logs.v[0], &ck2); /* nothing was committed */
    assert_true(same_bytes(&ck2, &old));

    /* too old: signed afresh, stored */
    restamp(f.o.dir, &f.o.logs.v[0], &f.o.mk,
            (uint64_t)time(NULL) - MIRROR_COSIG_REUSE_S - 3600, &old);
    assert_int_equal(mirror_open(&f.mc, &f.m), 0);
    upload(f.m, &f.o.lk, 1, 1, NULL, 0, &res);
    assert_int_equal(res.status, 200);
    assert_false(ends_with_line(&old, res.line, res.line_len));
    mirror_free(f.m);
    stored(f.o.dir, &f.o.logs.v[0], &ck);
    assert_true(ends_with_line(&ck, res.line, res.line_len));
    gl_signer_verifier(&f.o.mk, &v);
    assert_int_equal(gl_note_parse((const char *)ck.data, ck.len, &n, NULL), 0);
    assert_int_equal(gl_cosig_verify_note(n, &v, 1, &st, NULL), 0);
    assert_int_equal(st.status, 0);
    assert_true(st.timestamp + 60 >= (uint64_t)time(NULL));
    gl_note_free(n);
    gl_buf_reset(&old);
    assert_int_equal(gl_buf_append(&old, ck.data, ck.len), 0);

    /* dated ahead (the clock stepped back 1000 s since it was signed): the
     * new cosignature is not dated before it, as the witness's are not */
    uint64_t ahead = (uint64_t)time(NULL) + 1000;
    restamp(f.o.dir, &f.o.logs.v[0], &f.o.mk, ahead, &old);
    assert_int_equal(mirror_open(&f.mc, &f.m), 0);
    upload(f.m, &f.o.lk, 1, 1, NULL, 0, &res);
    assert_int_equal(res.status, 200);
    served(f.m, &f.o.logs.v[0], &ck);
    assert_true(ends_with_line(&ck, res.line, res.line_len));
    assert_int_equal(gl_note_parse((const char *)ck.data, ck.len, &n, NULL), 0);
    assert_int_equal(gl_cosig_verify_note(n, &v, 1, &st, NULL), 0);
    assert_int_equal(st.status, 0);
    assert_true(st.timestamp >= ahead);
    gl_note_free(n);
    mirror_free(f.m);

    /* another mirror key (same name): its own cosignature, stored */
    f.mc.key = &mk2;
    assert_int_equal(mirror_open(&f.mc, &f.m), 0);
    upload(f.m, &f.o.lk, 1, 1, NULL, 0, &res);
    assert_int_equal(res.status, 200);
    served(f.m, &f.o.logs.v[0], &ck);
    assert_false(same_bytes(&ck, &old));
    assert_true(ends_with_line(&ck, res.line, res.line_len));
    gl_signer_verifier(&mk2, &v);
    assert_int_equal(gl_note_parse((const char *)ck.data, ck.len, &n, NULL), 0);
    assert_int_equal(gl_cosig_verify_note(n, &v, 1, &st, NULL), 0);
    assert_int_equal(st.status, 0);
    gl_note_free(n);

    gl_buf_release(&ck);
    gl_buf_release(&ck2);
    gl_buf_release(&old);
    gl_signer_wipe(&mk2);
    e0_close(&f);
}

struct progress_call {
    struct mirror *m;
    uint64_t pending, next, size;
    int rc;
    int done; /* under mu */
    pthread_mutex_t mu;
};

static void *call_progress(void *arg)
{
    struct progress_call *c = arg;
    int rc = mirror_progress(c->m, 0, &c->pending, &c->next, &c->size);
    pthread_mutex_lock(&c->mu);
    c->rc = rc;
    c->done = 1;
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* mirror_progress (/metrics, on the event loop) does not wait for the
 * log's writer lock, which an upload holds for all its hashing and
 * synced commits: with the lock held, it answers within 2 s (at once),
 * with the next entry the last commit published. */
static void test_mirror_progress_not_blocked_by_writer(void **state)
{
    struct e0_mirror f;
    struct progress_call c;
    pthread_t t;
    int done = 0;
    (void)state;

    e0_open(&f);
    memset(&c, 0, sizeof c);
    c.m = f.m;
    pthread_mutex_init(&c.mu, NULL);
    pthread_mutex_lock(&f.m->v[0]->wmu); /* a writer mid-upload */
    assert_int_equal(pthread_create(&t, NULL, call_progress, &c), 0);
    for (int i = 0; i < 200 && !done; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&c.mu);
        done = c.done;
        pthread_mutex_unlock(&c.mu);
    }
    pthread_mutex_unlock(&f.m->v[0]->wmu);
    pthread_join(t, NULL);
    pthread_mutex_destroy(&c.mu);
    assert_true(done);
    assert_int_equal(c.rc, 0);
    assert_int_equal(c.next, 1);
    assert_int_equal(c.size, 1);
    assert_int_equal(c.pending, 1);
    e0_close(&f);
}

/* A log that takes connections and never answers: the first one accepted
 * is fd (kept open until the test closes it), read until its client
 * leaves. */
struct mute_log {
    int lfd, fd;
    int port;
    pthread_mutex_t mu;
    pthread_t t;
};

static void *mute_serve(void *arg)
{
    struct mute_log *s = arg;
    char buf[4096];
    int fd = accept(s->lfd, NULL, NULL);
    pthread_mutex_lock(&s->mu);
    s->fd = fd;
    pthread_mutex_unlock(&s->mu);
    while (fd >= 0 && read(fd, buf, sizeof buf) > 0)
        ;
    return NULL;
}

static int mute_fd(struct mute_log *s)
{
    pthread_mutex_lock(&s->mu);
    int fd = s->fd;
    pthread_mutex_unlock(&s->mu);
    return fd;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000 * 1000};
    nanosleep(&ts, NULL);
}

/* The puller asked to stop while the log holds its request (20 s
 * timeout) unanswered: it has stopped within 5 s (the request aborted),
 * so a reload neither waits for the timeout nor joins it on the loop. */
static void test_mirrorpull_stops_during_a_request(void **state)
{
    char dir[] = "/tmp/test_mirror.XXXXXX", cmd[96];
    struct gl_signer lk, mk;
    struct gl_verifier v;
    struct gl_buf b;
    struct gl_err why;
    struct logs_list logs;
    struct mirror *m;
    struct mirrorpull *p = NULL;
    struct mute_log s = {-1, -1, 0, PTHREAD_MUTEX_INITIALIZER, 0};
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    (void)state;

    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true((s.lfd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
    assert_int_equal(bind(s.lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s.lfd, 4), 0);
    assert_int_equal(getsockname(s.lfd, (struct sockaddr *)&a, &alen), 0);
    s.port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s.t, NULL, mute_serve, &s), 0);

    assert_non_null(mkdtemp(dir));
    assert_int_equal(gl_signer_generate("t.example/log", GL_KEY_NOTE, &lk), 0);
    assert_int_equal(gl_signer_generate("m.example", GL_KEY_COSIG, &mk), 0);
    gl_buf_init(&b, 1 << 16);
    gl_buf_append_str(&b, "logs/v0\nvkey ");
    gl_signer_verifier(&lk, &v);
    gl_verifier_format(&v, &b);
    char url[64];
    snprintf(url, sizeof url, "\nurl http://127.0.0.1:%d\nmirror\n", s.port);
    gl_buf_append_str(&b, url);
    assert_int_equal(logs_parse((const char *)b.data, b.len, &logs, &why), 0);
    struct mirror_config mc = {dir, &logs, NULL, &mk, "w.example", 1, 0};
    assert_int_equal(mirror_open(&mc, &m), 0);

    struct mirrorpull_config pc = {m, &logs, 1, 20000};
    assert_int_equal(mirrorpull_start(&pc, &p), 0);
    assert_non_null(p);
    for (int i = 0; i < 500 && mute_fd(&s) < 0; i++)
        sleep_ms(10);
    assert_true(mute_fd(&s) >= 0); /* its checkpoint GET is in flight */
    uint64_t t0 = now_ms();
    mirrorpull_ask_stop(p);
    while (!mirrorpull_stopped(p) && now_ms() - t0 < 5000)
        sleep_ms(10);
    int stopped = mirrorpull_stopped(p);
    uint64_t took = now_ms() - t0;
    shutdown(mute_fd(&s), SHUT_RDWR); /* old code: the GET ends, the join too */
    mirrorpull_free(p);
    pthread_join(s.t, NULL);
    close(s.fd);
    close(s.lfd);
    assert_true(stopped);
    assert_true(took < 5000);

    mirror_free(m);
    logs_release(&logs);
    gl_buf_release(&b);
    gl_signer_wipe(&lk);
    gl_signer_wipe(&mk);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mirror_witness_cosignatures),
        cmocka_unit_test(test_mirror_tile_cache_budget),
        cmocka_unit_test(test_mirror_copy_bounds),
        cmocka_unit_test(test_mirror_empty_copy_dir),
        cmocka_unit_test(test_mirror_root_checked_before_cosigning),
        cmocka_unit_test(test_mirror_zero_probe),
        cmocka_unit_test(test_mirror_empty_upload_unchanged),
        cmocka_unit_test(test_mirror_progress_not_blocked_by_writer),
        cmocka_unit_test(test_mirrorpull_stops_during_a_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_witness_engine: the engine's evidence bounds. With the list of
 * evidence loaded at start made small (evidence_max 3), many distinct
 * valid evidence files for one origin A are accepted but only the first
 * is stored (it freezes A; a frozen origin takes no more), as its
 * canonical file (the copy submitted had a re-encoded signature line and
 * another key's line: it gets the canonical file's ID); then a split
 * view of another origin B found by add-checkpoint is still stored, B
 * frozen, and the 422 says the evidence was kept; after a restart of the
 * engine on the same store both are still frozen and listed. A
 * cosignature is never dated before the log's latest one, and a log whose
 * latest one is far in the future is refused; a replay of the tree held
 * writes nothing. And stored
 * evidence is announced (file copy, then on_evidence with its path) even
 * when the copy could not be written at first or a restart finds it
 * missing, never with a path that does not exist. A pushed consistency
 * proof that reproduces the new signed root but another root at the
 * stored size is kept as evidence and freezes the log; bad proofs change
 * nothing. A stored checkpoint signed by no key of the list stops the
 * engine from opening.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../witness/addck.h"
#include "../../witness/engine.h"
#include "../../witness/logs.h"
#include "../../witness/wstore.h"
#include "glasslog/buf.h"
#include "glasslog/checkpoint.h"
#include "glasslog/codec.h"
#include "glasslog/cosig.h"
#include "glasslog/error.h"
#include "glasslog/evidence.h"
#include "glasslog/key.h"
#include "glasslog/merkle.h"
#include "glasslog/note.h"
#include "file.h"

#define NA 8 /* evidence files for A: more than the list loaded at start */
#define REPLAYS 50

/* The log's checkpoint of size with a root made of byte tag, into out. */
static void ck(const struct gl_signer *k, uint64_t size, uint8_t tag, struct gl_buf *out)
{
    uint8_t root[GL_HASH_LEN];

    memset(root, tag, sizeof(root));
    gl_buf_reset(out);
    assert_int_equal(gl_checkpoint_sign(k->name, size, root, k, out), 0);
}

/* add-checkpoint of note with header old (the "old" line and any proof
 * lines, then the blank line) for log li; returns the status. */
static int add(struct engine *e, const struct logs_list *logs, size_t li, const char *old,
               const struct gl_buf *note, struct wreq *r, struct gl_buf *body)
{
    struct addck_req ar;
    struct gl_err why;

    gl_buf_reset(body);
    assert_int_equal(gl_buf_append_str(body, old), 0);
    assert_int_equal(gl_buf_append(body, note->data, note->len), 0);
    memset(r, 0, sizeof(*r));
    assert_int_equal(addck_parse(body->data, body->len, &ar, &why), 0);
    assert_int_equal(addck_open(&ar, &logs->v[li], &r->ck, &r->kept, &why), 0);
    r->kind = WREQ_ADD;
    r->log = li;
    r->old = ar.old;
    r->nproof = ar.nproof;
    memcpy(r->proof, ar.proof, sizeof(r->proof));
    r->note = ar.note;
    r->note_len = ar.note_len;
    snprintf(r->source, sizeof(r->source), "test");
    engine_run(e, r);
    return r->status;
}

static void frozen_with_evidence(struct engine *e, size_t ia, size_t ib)
{
    struct engine_evidence ev[NA + 2];
    struct engine_view v;
    struct engine_stats st;
    size_t total = 0, n, na = 0, nb = 0;

    (void)engine_view(e, ia, &v, NULL);
    assert_true(v.frozen);
    (void)engine_view(e, ib, &v, NULL);
    assert_true(v.frozen);
    n = engine_evidence(e, 0, ev, NA + 2, &total);
    assert_int_equal(n, 2);
    assert_int_equal(total, 2);
    for (size_t i = 0; i < n; i++) {
        na += strcmp(ev[i].origin, "a.example/log") == 0;
        nb += strcmp(ev[i].origin, "b.example/log") == 0;
    }
    assert_int_equal(na, 1);
    assert_int_equal(nb, 1);
    engine_stats(e, &st);
    assert_true(st.frozen == 2 && st.evidence == 2);
}

/* The canonical evidence file f as anyone could re-encode it: its first
 * signature line with an unused base64 bit set, then another key's line.
 * It proves the same split view of the same pair. */
static void dirty_file(const struct gl_buf *f, struct gl_buf *out)
{
    static const char foreign[] = "\xe2\x80\x94 x.example AAAAAAAA\n";
    const char *sig, *end;
    size_t at;

    gl_buf_reset(out);
    assert_int_equal(gl_buf_append(out, f->data, f->len), 0);
    tu_b64_noncanonical_sig((char *)out->data, out->len, 0);
    assert_int_equal(gl_buf_putc(out, 0), 0);
    sig = strstr((const char *)out->data, "\n\xe2\x80\x94 ");
    assert_non_null(sig);
    end = strchr(sig + 1, '\n') + 1;
    at = (size_t)(end - (const char *)out->data);
    out->len = f->len;
    assert_int_equal(gl_buf_append(out, foreign, sizeof(foreign) - 1), 0);
    memmove(out->data + at + sizeof(foreign) - 1, out->data + at, f->len - at);
    memcpy(out->data + at, foreign, sizeof(foreign) - 1);
}

static void test_evidence_bounded_per_origin(void **state)
{
    char dir[512], wdir[600], text[2048], id[GL_HASH_HEX_LEN + 1];
    struct gl_signer ka, kb, wk;
    struct gl_verifier va, vb;
    struct gl_buf b, n1, n2, file, body;
    struct logs_list logs;
    struct gl_err why;
    struct wstore *ws;
    const char *swhy;
    struct engine *e;
    struct wreq *r = calloc(1, sizeof(*r));
    size_t ia, ib;
    (void)state;

    assert_non_null(r);
    tu_tempdir("test_witness_engine", dir, sizeof(dir));
    assert_int_equal(gl_signer_generate("a.example/log", GL_KEY_NOTE, &ka), 0);
    assert_int_equal(gl_signer_generate("b.example/log", GL_KEY_NOTE, &kb), 0);
    assert_int_equal(gl_signer_generate("w.example", GL_KEY_COSIG, &wk), 0);
    gl_signer_verifier(&ka, &va);
    gl_signer_verifier(&kb, &vb);
    gl_buf_init(&b, 4096);
    assert_int_equal(gl_verifier_format(&va, &b), 0);
    assert_int_equal(gl_buf_putc(&b, 0), 0);
    snprintf(text, sizeof(text), "logs/v0\nvkey %s\n", (const char *)b.data);
    gl_buf_reset(&b);
    assert_int_equal(gl_verifier_format(&vb, &b), 0);
    assert_int_equal(gl_buf_putc(&b, 0), 0);
    snprintf(text + strlen(text), sizeof(text) - strlen(text), "vkey %s\n",
             (const char *)b.data);
    assert_int_equal(logs_parse(text, strlen(text), &logs, &why), 0);
    assert_int_equal(logs_find(&logs, "a.example/log", 13, &ia), 0);
    assert_int_equal(logs_find(&logs, "b.example/log", 13, &ib), 0);

    snprintf(wdir, sizeof(wdir), "%s/w", dir);
    assert_int_equal(wstore_open(wdir, 8, 1, &ws, &swhy), 0);
    struct engine_config ec = {ws, &logs, &wk, dir, NULL, NULL, 3, 0};
    assert_int_equal(engine_new(&ec, &e), 0);

    /* NA distinct valid evidence files for A (sizes 1..NA): all accepted,
     * only the first stored */
    gl_buf_init(&n1, 1 << 16);
    gl_buf_init(&n2, 1 << 16);
    gl_buf_init(&file, GL_EVIDENCE_MAX_SIZE);
    gl_buf_init(&body, 1 << 16);
    for (uint64_t i = 1; i <= NA; i++) {
        ck(&ka, i, 1, &n1);
        ck(&ka, i, 2, &n2);
        gl_buf_reset(&file);
        assert_int_equal(gl_evidence_build(&va, 1, (const char *)n1.data, n1.len,
                                           (const char *)n2.data, n2.len, NULL, 0, &file,
                                           NULL),
                         0);
        memset(r, 0, sizeof(*r));
        r->kind = WREQ_EVIDENCE;
        r->log = ia;
        r->note = (const char *)file.data;
        r->note_len = file.len;
        if (i == 1) { /* a re-encoded copy is stored as the canonical file */
            assert_int_equal(gl_evidence_id((char *)file.data, file.len, id), 0);
            dirty_file(&file, &body);
            r->note = (const char *)body.data;
            r->note_len = body.len;
        }
        snprintf(r->source, sizeof(r->source), "test");
        engine_run(e, r);
        assert_int_equal(r->status, 200);
        if (i == 1)
            assert_string_equal(r->evidence_id, id);
        else
            assert_int_equal(r->evidence_id[0], 0); /* not stored */
    }

    /* B: cosigned at size 4, then another root at size 4: a split view */
    ck(&kb, 4, 7, &n1);
    assert_int_equal(add(e, &logs, ib, "old 0\n\n", &n1, r, &body), 200);
    ck(&kb, 4, 8, &n2);
    assert_int_equal(add(e, &logs, ib, "old 4\n\n", &n2, r, &body), 422);
    assert_int_not_equal(r->evidence_id[0], 0);
    assert_non_null(strstr(r->why, "kept as evidence"));
    frozen_with_evidence(e, ia, ib);
    /* a frozen B takes no more evidence either */
    gl_buf_reset(&file);
    ck(&kb, 9, 1, &n1);
    ck(&kb, 9, 2, &n2);
    assert_int_equal(gl_evidence_build(&vb, 1, (const char *)n1.data, n1.len,
                                       (const char *)n2.data, n2.len, NULL, 0, &file,
                                       NULL),
                     0);
    memset(r, 0, sizeof(*r));
    r->kind = WREQ_EVIDENCE;
    r->log = ib;
    r->note = (const char *)file.data;
    r->note_len = file.len;
    engine_run(e, r);
    assert_int_equal(r->status, 200);
    assert_int_equal(r->evidence_id[0], 0);
    frozen_with_evidence(e, ia, ib);

    /* the same after a restart on the store */
    engine_free(e);
    assert_int_equal(engine_new(&ec, &e), 0);
    frozen_with_evidence(e, ia, ib);
    engine_free(e);

    wstore_close(ws);
    logs_release(&logs);
    gl_buf_release(&b);
    gl_buf_release(&n1);
    gl_buf_release(&n2);
    gl_buf_release(&file);
    gl_buf_release(&body);
    gl_signer_wipe(&ka);
    gl_signer_wipe(&kb);
    gl_signer_wipe(&wk);
    free(r);
    tu_rmtree(dir);
}

/* One log, a.example/log (key ka, verifier va), the witness's list of it
 * (at ia), a witness key wk and a new witness store in dir/w. */
struct one_log {
    char dir[512];
    struct gl_signer ka, wk;
    struct gl_verifier va;
    struct logs_list logs;
    size_t ia;
    struct wstore *ws;
};

static void one_log_open(struct one_log *f, const char *name)
{
    struct gl_buf b;
    struct gl_err why;
    char text[512], wdir[600];
    const char *swhy = NULL;

    tu_tempdir(name, f->dir, sizeof(f->dir));
    assert_int_equal(gl_signer_generate("a.example/log", GL_KEY_NOTE, &f->ka), 0);
    assert_int_equal(gl_signer_generate("w.example", GL_KEY_COSIG, &f->wk), 0);
    gl_signer_verifier(&f->ka, &f->va);
    gl_buf_init(&b, 4096);
    assert_int_equal(gl_verifier_format(&f->va, &b), 0);
    assert_int_equal(gl_buf_putc(&b, 0), 0);
    snprintf(text, sizeof(text), "logs/v0\nvkey %s\n", (const char *)b.data);
    gl_buf_release(&b);
    assert_int_equal(logs_parse(text, strlen(text), &f->logs, &why), 0);
    assert_int_equal(logs_find(&f->logs, "a.example/log", 13, &f->ia), 0);
    snprintf(wdir, sizeof(wdir), "%s/w", f->dir);
    assert_int_equal(wstore_open(wdir, 8, 1, &f->ws, &swhy), 0);
}

static void one_log_close(struct one_log *f)
{
    wstore_close(f->ws);
    logs_release(&f->logs);
    gl_signer_wipe(&f->ka);
    gl_signer_wipe(&f->wk);
    tu_rmtree(f->dir);
}

/* The timestamp of a cosignature line ("— name base64(id, time, sig)"). */
static uint64_t line_time(const char *line, size_t len)
{
    const char *b64 = memchr(line + 4, ' ', len - 4); /* after "— " and the name */
    uint8_t blob[76];
    size_t n = 0;
    uint64_t t = 0;

    assert_non_null(b64);
    b64++;
    assert_int_equal(
        gl_base64_decode(b64, (size_t)(line + len - b64) - 1, blob, sizeof(blob), &n), 0);
    assert_int_equal(n, 76);
    for (int i = 4; i < 12; i++)
        t = t << 8 | blob[i];
    return t;
}

/* Stores log ia's checkpoint note (size 3, root of byte 1; text_len
 * bytes of text) as the engine keeps it, with our cosignature dated t. */
static void store_cosigned_at(struct one_log *f, const char *note,
                              const struct addck_kept *kept, uint64_t t)
{
    struct wstore_batch *wb = NULL;
    struct gl_buf line, rec;
    uint8_t root[GL_HASH_LEN];

    gl_buf_init(&line, 512);
    gl_buf_init(&rec, 1 << 16);
    assert_int_equal(gl_cosig_sign(&f->wk, note, kept->text_len, t, &line), 0);
    assert_int_equal(addck_record(note, kept, (const char *)line.data, line.len, &rec),
                     0);
    memset(root, 1, sizeof(root));
    assert_int_equal(wstore_batch_new(f->ws, &wb), 0);
    wstore_batch_put_log(wb, f->logs.v[f->ia].origin_hash, 3, root, rec.data, rec.len);
    assert_int_equal(wstore_batch_commit(wb), 0);
    wstore_batch_free(wb);
    gl_buf_release(&line);
    gl_buf_release(&rec);
}

/* The time of r's cosignature line after checking that it verifies, by
 * the witness key wk, over r's checkpoint text. */
static uint64_t verified_time(const struct gl_signer *wk, const struct wreq *r)
{
    struct gl_verifier wv;
    struct gl_note *n = NULL;
    struct gl_buf msg;
    uint64_t t = 0;

    gl_signer_verifier(wk, &wv);
    gl_buf_init(&msg, 1 << 16);
    assert_int_equal(gl_buf_append(&msg, r->note, r->kept.text_len), 0);
    assert_int_equal(gl_buf_putc(&msg, '\n'), 0);
    assert_int_equal(gl_buf_append(&msg, r->line, r->line_len), 0);
    assert_int_equal(gl_note_parse((const char *)msg.data, msg.len, &n, NULL), 0);
    assert_int_equal(n->nsigs, 1);
    assert_int_equal(gl_cosig_verify(&wv, n->text, n->text_len, &n->sigs[0], &t), 0);
    assert_int_equal(t, line_time(r->line, r->line_len));
    gl_note_free(n);
    gl_buf_release(&msg);
    return t;
}

/* With log ia's record cosigned at t (ahead of now by more than the
 * witness's slack), the engine refuses to cosign it: 503, counted by
 * engine_stats, nothing written. */
static void far_refused(struct one_log *f, const struct engine_config *ec, struct wreq *r,
                        const struct gl_buf *n1, struct gl_buf *body, uint64_t t)
{
    struct engine *e = NULL;
    struct engine_stats st;

    store_cosigned_at(f, r->note, &r->kept, t);
    assert_int_equal(engine_new(ec, &e), 0);
    engine_stats(e, &st);
    assert_int_equal(st.clock_ahead, 1);
    assert_int_equal(add(e, &f->logs, f->ia, "old 3\n\n", n1, r, body), 503);
    assert_int_equal(r->line_len, 0);
    engine_stats(e, &st);
    assert_int_equal(st.clock_ahead, 1);
    assert_int_equal(st.batches, 0);
    assert_int_equal(st.cosigned, 0);
    engine_free(e);
}

/* A cosignature is never dated before the log's latest one, also across a
 * restart: with a stored record cosigned a little in the future (a wall
 * clock since stepped back), the next cosignature carries that time, not
 * now. One cosigned more than ENGINE_CLOCK_SLACK_S in the future (a clock
 * that was far ahead) stops the log: 503, counted by engine_stats, and
 * nothing written; never a cosignature dated there. That holds for a time
 * clients discard as future-dated (more than GL_COSIG_FUTURE_SLACK ahead)
 * but within the old ten minutes, too. */
static void test_cosign_time_never_goes_back(void **state)
{
    struct one_log f;
    struct engine *e = NULL;
    struct engine_stats st;
    struct wreq *r = calloc(1, sizeof(*r));
    struct gl_buf n1, body;
    uint64_t now = (uint64_t)time(NULL);
    uint64_t ahead = now + ENGINE_CLOCK_SLACK_S / 2, far = now + 100000;
    (void)state;

    assert_non_null(r);
    one_log_open(&f, "test_witness_engine_time");
    struct engine_config ec = {f.ws, &f.logs, &f.wk, f.dir, NULL, NULL, 0, 0};
    assert_int_equal(engine_new(&ec, &e), 0);

    gl_buf_init(&n1, 1 << 16);
    gl_buf_init(&body, 1 << 17);
    ck(&f.ka, 3, 1, &n1);
    assert_int_equal(add(e, &f.logs, f.ia, "old 0\n\n", &n1, r, &body), 200);
    assert_true(line_time(r->line, r->line_len) < ahead);
    engine_free(e);

    store_cosigned_at(&f, r->note, &r->kept, ahead);
    assert_int_equal(engine_new(&ec, &e), 0);
    assert_int_equal(add(e, &f.logs, f.ia, "old 3\n\n", &n1, r, &body), 200);
    assert_true(verified_time(&f.wk, r) == ahead);
    engine_stats(e, &st);
    assert_int_equal(st.clock_ahead, 0);
    engine_free(e);

    far_refused(&f, &ec, r, &n1, &body, far);
    far_refused(&f, &ec, r, &n1, &body, now + GL_COSIG_FUTURE_SLACK + 60);

    gl_buf_release(&n1);
    gl_buf_release(&body);
    free(r);
    one_log_close(&f);
}

/* size/root of note (signed by k) with one extension line ext: the same
 * tree as ck(k, size, tag), another checkpoint text. */
static void ck_ext(const struct gl_signer *k, uint64_t size, uint8_t tag, const char *ext,
                   struct gl_buf *out)
{
    struct gl_buf plain, text;
    const char *end;

    gl_buf_init(&plain, 1 << 16);
    gl_buf_init(&text, 1 << 16);
    ck(k, size, tag, &plain);
    for (end = (const char *)plain.data; end + 1 < (const char *)plain.data + plain.len &&
                                         !(end[0] == '\n' && end[1] == '\n');
         end++)
        ;
    assert_true(end + 1 < (const char *)plain.data + plain.len);
    assert_int_equal(
        gl_buf_append(&text, plain.data, (size_t)(end - (char *)plain.data) + 1), 0);
    assert_int_equal(gl_buf_append_str(&text, ext), 0);
    gl_buf_reset(out);
    assert_int_equal(gl_note_sign((const char *)text.data, text.len, k, 1, out), 0);
    gl_buf_release(&plain);
    gl_buf_release(&text);
}

/* The same tree re-signed with another extension line, within the reuse
 * window, gets a cosignature of its own text: a cosignature covers the
 * extension lines, so the stored one would not verify over the new text
 * (verified_time checks the reply over the request's note). It is dated
 * at the stored cosignature's time and written nowhere: the two texts
 * posted in turn, many times, cost no write (batches counts writes) and
 * leave the first text stored. */
static void test_replay_other_text(void **state)
{
    struct one_log f;
    struct engine *e = NULL;
    struct engine_stats st;
    struct engine_view v;
    struct wreq *r = calloc(1, sizeof(*r));
    struct gl_buf n1, n2, body, rec;
    uint64_t t0;
    (void)state;

    assert_non_null(r);
    one_log_open(&f, "test_witness_engine_other_text");
    struct engine_config ec = {f.ws, &f.logs, &f.wk, f.dir, NULL, NULL, 0, 0};
    assert_int_equal(engine_new(&ec, &e), 0);
    gl_buf_init(&n1, 1 << 16);
    gl_buf_init(&n2, 1 << 16);
    gl_buf_init(&body, 1 << 17);
    ck_ext(&f.ka, 3, 1, "Timestamp: 1\n", &n1);
    ck_ext(&f.ka, 3, 1, "Timestamp: 2\n", &n2);
    assert_int_equal(add(e, &f.logs, f.ia, "old 0\n\n", &n1, r, &body), 200);
    t0 = verified_time(&f.wk, r);
    for (int i = 0; i < REPLAYS; i++) {
        assert_int_equal(add(e, &f.logs, f.ia, "old 3\n\n", i % 2 ? &n2 : &n1, r, &body),
                         200);
        assert_true(verified_time(&f.wk, r) == t0);
    }
    engine_stats(e, &st);
    assert_int_equal(st.batches, 1);
    gl_buf_init(&rec, 1 << 17);
    assert_int_equal(engine_view(e, f.ia, &v, &rec), 0);
    assert_true(v.cosigned_at == t0);
    assert_true(rec.len > r->kept.text_len && n1.len > r->kept.text_len); /* n2 last */
    assert_memory_equal(rec.data, n1.data, r->kept.text_len);
    engine_free(e);

    gl_buf_release(&rec);
    gl_buf_release(&n1);
    gl_buf_release(&n2);
    gl_buf_release(&body);
    free(r);
    one_log_close(&f);
}

/* A replay of the tree held (old = size = stored size, same root) writes
 * nothing: within ENGINE_REPLAY_REUSE_S of our latest cosignature it gets
 * that cosignature again; once that is older (a record cosigned long ago),
 * the first replay gets a new one, now, in one write, and the next ones
 * get that one. Every reply verifies; batches_total counts writes. */
static void test_replay_writes_nothing(void **state)
{
    struct one_log f;
    struct engine *e = NULL;
    struct engine_stats st;
    struct wreq *r = calloc(1, sizeof(*r));
    struct gl_buf n1, body;
    uint64_t t0, t1, old = (uint64_t)time(NULL) - 1000;
    (void)state;

    assert_non_null(r);
    one_log_open(&f, "test_witness_engine_replay");
    struct engine_config ec = {f.ws, &f.logs, &f.wk, f.dir, NULL, NULL, 0, 0};
    assert_int_equal(engine_new(&ec, &e), 0);
    gl_buf_init(&n1, 1 << 16);
    gl_buf_init(&body, 1 << 17);
    ck(&f.ka, 3, 1, &n1);
    assert_int_equal(add(e, &f.logs, f.ia, "old 0\n\n", &n1, r, &body), 200);
    t0 = verified_time(&f.wk, r);
    for (int i = 0; i < REPLAYS; i++) {
        assert_int_equal(add(e, &f.logs, f.ia, "old 3\n\n", &n1, r, &body), 200);
        assert_true(verified_time(&f.wk, r) == t0);
    }
    engine_stats(e, &st);
    assert_int_equal(st.batches, 1);
    assert_int_equal(st.cosigned, REPLAYS + 1);
    engine_free(e);

    store_cosigned_at(&f, r->note, &r->kept, old);
    assert_int_equal(engine_new(&ec, &e), 0);
    assert_int_equal(add(e, &f.logs, f.ia, "old 3\n\n", &n1, r, &body), 200);
    t1 = verified_time(&f.wk, r);
    assert_true(t1 >= t0 && t1 > old);
    for (int i = 0; i < REPLAYS; i++) {
        assert_int_equal(add(e, &f.logs, f.ia, "old 3\n\n", &n1, r, &body), 200);
        assert_true(verified_time(&f.wk, r) == t1);
    }
    engine_stats(e, &st);
    assert_int_equal(st.batches, 1);
    engine_free(e);

    gl_buf_release(&n1);
    gl_buf_release(&body);
    free(r);
    one_log_close(&f);
}

/* A list of a.example/log with the verifiers' texts, one vkey line each. */
static void list_of(struct logs_list *out, const struct gl_verifier *v, size_t n)
{
    struct gl_buf b;
    struct gl_err why;

    gl_buf_init(&b, 8192);
    assert_int_equal(gl_buf_append_str(&b, "logs/v0\n"), 0);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(gl_buf_append_str(&b, "vkey "), 0);
        assert_int_equal(gl_verifier_format(&v[i], &b), 0);
        assert_int_equal(gl_buf_putc(&b, '\n'), 0);
    }
    assert_int_equal(logs_parse((const char *)b.data, b.len, out, &why), 0);
    gl_buf_release(&b);
}

/* A stored checkpoint signed only by a key the list no longer names (a
 * rotation's old key removed too early) stops the engine from opening:
 * the record could prove nothing. With the old key listed beside the new
 * one it opens, and the log is still at the stored size. */
static void test_removed_key_refused(void **state)
{
    struct one_log f;
    struct engine *e = NULL;
    struct engine_view v;
    struct logs_list only_new, both;
    struct gl_signer k2;
    struct gl_verifier keys[2];
    struct wreq *r = calloc(1, sizeof(*r));
    struct gl_buf n1, body;
    size_t i;
    (void)state;

    assert_non_null(r);
    one_log_open(&f, "test_witness_engine_removed_key");
    assert_int_equal(gl_signer_generate("a.example/log", GL_KEY_NOTE, &k2), 0);
    keys[0] = f.va;
    gl_signer_verifier(&k2, &keys[1]);
    struct engine_config ec = {f.ws, &f.logs, &f.wk, f.dir, NULL, NULL, 0, 0};
    assert_int_equal(engine_new(&ec, &e), 0);
    gl_buf_init(&n1, 1 << 16);
    gl_buf_init(&body, 1 << 17);
    ck(&f.ka, 3, 1, &n1);
    assert_int_equal(add(e, &f.logs, f.ia, "old 0\n\n", &n1, r, &body), 200);
    engine_free(e);
    e = NULL;

    list_of(&only_new, &keys[1], 1);
    list_of(&both, keys, 2);
    assert_int_equal(engine_check_records(f.ws, &only_new), GL_ESTATE);
    assert_int_equal(engine_check_records(f.ws, &both), 0);
    assert_int_equal(engine_check_records(f.ws, &f.logs), 0);
    ec.logs = &only_new;
    assert_int_equal(engine_new(&ec, &e), GL_ESTATE);
    assert_null(e);
    ec.logs = &both;
    assert_int_equal(engine_new(&ec, &e), 0);
    assert_int_equal(logs_find(&both, "a.example/log", 13, &i), 0);
    (void)engine_view(e, i, &v, NULL);
    assert_true(v.has && v.size == 3);
    engine_free(e);

    logs_release(&only_new);
    logs_release(&both);
    gl_signer_wipe(&k2);
    gl_buf_release(&n1);
    gl_buf_release(&body);
    free(r);
    one_log_close(&f);
}

/* What on_evidence saw (on the committer thread: under mu). */
struct announced {
    pthread_mutex_t mu;
    int calls, missing; /* missing: calls whose path was no regular file */
    int refuse;         /* calls to answer "not raised" (GL_ESTATE) first */
    char id[GL_HASH_HEX_LEN + 1];
    char path[1024];
};

static int on_ev(void *arg, const char *id, const char *origin, const char *path)
{
    struct announced *a = arg;
    struct stat st;
    int err = 0;

    assert_string_equal(origin, "a.example/log");
    pthread_mutex_lock(&a->mu);
    a->calls++;
    a->missing += stat(path, &st) != 0 || !S_ISREG(st.st_mode);
    snprintf(a->id, sizeof(a->id), "%s", id);
    snprintf(a->path, sizeof(a->path), "%s", path);
    if (a->refuse > 0) {
        a->refuse--;
        err = GL_ESTATE;
    }
    pthread_mutex_unlock(&a->mu);
    return err;
}

/* a->calls once it reaches want, or after 10 s. */
static int wait_calls(struct announced *a, int want)
{
    struct timespec tick = {0, 20000000L};
    int calls = 0;

    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&a->mu);
        calls = a->calls;
        pthread_mutex_unlock(&a->mu);
        if (calls >= want)
            break;
        nanosleep(&tick, NULL);
    }
    return calls;
}

/* The copy holds file and is no longer marked pending. */
static void copy_written(const char *copy, const char *mark, const struct gl_buf *file)
{
    struct gl_buf got;
    struct stat st;

    gl_buf_init(&got, GL_EVIDENCE_MAX_SIZE);
    assert_int_equal(gl_file_read(copy, &got), 0);
    assert_int_equal(got.len, file->len);
    assert_memory_equal(got.data, file->data, file->len);
    gl_buf_release(&got);
    assert_int_not_equal(stat(mark, &st), 0);
}

/* Imports file as evidence for log li (engine_run: when it returns, the
 * committer has done everything before it, announcements included). */
static void import(struct engine *e, size_t li, const struct gl_buf *file, struct wreq *r)
{
    memset(r, 0, sizeof(*r));
    r->kind = WREQ_EVIDENCE;
    r->log = li;
    r->note = (const char *)file->data;
    r->note_len = file->len;
    snprintf(r->source, sizeof(r->source), "test");
    engine_run(e, r);
    assert_int_equal(r->status, 200);
}

/* The restarted engine has announced exactly `calls` times in all, the
 * last time id with its file copy in place, equal to file. */
static void restart_announces(struct engine **e, const struct engine_config *ec,
                              size_t li, const struct gl_buf *file, struct wreq *r,
                              const struct announced *a, int calls, const char *id,
                              const char *copy, const char *mark)
{
    engine_free(*e);
    assert_int_equal(engine_new(ec, e), 0);
    import(*e, li, file, r); /* frozen: accepted, not stored again */
    assert_int_equal(r->evidence_id[0], 0);
    assert_int_equal(a->calls, calls); /* engine_run: after the committer wrote */
    assert_int_equal(a->missing, 0);
    assert_string_equal(a->id, id);
    assert_string_equal(a->path, copy);
    copy_written(copy, mark, file);
}

/* Evidence whose file copy cannot be written (the evidence directory is a
 * plain file: fails for root too) is stored but not announced, retries
 * included; once the directory is there, a retry writes the copy and
 * announces it without a restart. A restart that cannot write a missing
 * copy announces nothing; the next one, with the directory back, writes
 * and announces it; so does a restart that finds the copy deleted,
 * truncated, or still marked pending (a crash between the copy and
 * on_evidence); a restart with the copy in place and no mark announces
 * nothing. An alarm that on_evidence could not raise (its command could
 * not start) stays marked pending and is raised again at each retry until
 * it is, then no more. */
static void test_evidence_announced_once_copied(void **state)
{
    struct one_log f;
    struct engine *e = NULL;
    struct wreq *r = calloc(1, sizeof(*r));
    struct announced *a = calloc(1, sizeof(*a));
    struct gl_buf n1, n2, file;
    char evdir[600], id[GL_HASH_HEX_LEN + 1];
    char copy[700], mark[700];
    struct timespec pause = {0, 200000000L};
    (void)state;

    assert_true(r != NULL && a != NULL);
    one_log_open(&f, "test_witness_engine_ann");
    snprintf(evdir, sizeof(evdir), "%s/ev", f.dir);
    assert_int_equal(gl_file_write_new(evdir, "x", 1, 0644), 0); /* not a directory */
    struct engine_config ec = {f.ws,  &f.logs, &f.wk, evdir,
                               on_ev, a,       0,     0}; /* retry: 60 s */
    struct engine_config fast = ec;
    fast.retry_ms = 20;
    assert_int_equal(pthread_mutex_init(&a->mu, NULL), 0);
    assert_int_equal(engine_new(&fast, &e), 0);

    gl_buf_init(&n1, 1 << 16);
    gl_buf_init(&n2, 1 << 16);
    gl_buf_init(&file, GL_EVIDENCE_MAX_SIZE);
    ck(&f.ka, 5, 1, &n1);
    ck(&f.ka, 5, 2, &n2);
    assert_int_equal(gl_evidence_build(&f.va, 1, (const char *)n1.data, n1.len,
                                       (const char *)n2.data, n2.len, NULL, 0, &file,
                                       NULL),
                     0);
    import(e, f.ia, &file, r);
    assert_int_not_equal(r->evidence_id[0], 0); /* stored */
    memcpy(id, r->evidence_id, sizeof(id));
    snprintf(copy, sizeof(copy), "%s/%s", evdir, id);
    snprintf(mark, sizeof(mark), "%s/.%s.pending", evdir, id);
    assert_int_equal(a->calls, 0); /* no copy: no alarm with a path that is not there */
    /* retried every 20 ms, failing each time: still no alarm */
    nanosleep(&pause, NULL);
    pthread_mutex_lock(&a->mu);
    assert_int_equal(a->calls, 0);
    pthread_mutex_unlock(&a->mu);
    /* the directory is back: a retry writes the copy and announces */
    assert_int_equal(unlink(evdir), 0);
    assert_int_equal(mkdir(evdir, 0755), 0);
    assert_int_equal(wait_calls(a, 1), 1);
    import(e, f.ia, &file, r); /* sync with the committer */
    assert_int_equal(a->calls, 1);
    assert_int_equal(a->missing, 0);
    assert_string_equal(a->path, copy);
    copy_written(copy, mark, &file);

    /* the copy gone and the directory a plain file again at a restart: no
     * alarm; the next restart, with the directory back, announces */
    engine_free(e);
    e = NULL;
    assert_int_equal(unlink(copy), 0);
    assert_int_equal(rmdir(evdir), 0);
    assert_int_equal(gl_file_write_new(evdir, "x", 1, 0644), 0);
    assert_int_equal(engine_new(&ec, &e), 0);
    import(e, f.ia, &file, r);
    assert_int_equal(a->calls, 1);
    assert_int_equal(unlink(evdir), 0);
    assert_int_equal(mkdir(evdir, 0755), 0);
    restart_announces(&e, &ec, f.ia, &file, r, a, 2, id, copy, mark);
    /* copy in place, no mark: nothing to announce */
    restart_announces(&e, &ec, f.ia, &file, r, a, 2, id, copy, mark);
    /* copy deleted */
    assert_int_equal(unlink(copy), 0);
    restart_announces(&e, &ec, f.ia, &file, r, a, 3, id, copy, mark);
    /* copy of another size */
    assert_int_equal(unlink(copy), 0);
    assert_int_equal(gl_file_write_new(copy, "x", 1, 0644), 0);
    restart_announces(&e, &ec, f.ia, &file, r, a, 4, id, copy, mark);
    /* copy written, marked pending: on_evidence may not have run */
    assert_int_equal(gl_file_write_new(mark, "", 0, 0644), 0);
    restart_announces(&e, &ec, f.ia, &file, r, a, 5, id, copy, mark);
    /* the alarm not raised twice: retried, marked pending until raised */
    engine_free(e);
    assert_int_equal(unlink(copy), 0);
    a->refuse = 2;
    assert_int_equal(engine_new(&fast, &e), 0);
    assert_int_equal(wait_calls(a, 8), 8);
    import(e, f.ia, &file, r); /* sync with the committer */
    copy_written(copy, mark, &file);
    nanosleep(&pause, NULL);
    pthread_mutex_lock(&a->mu);
    assert_int_equal(a->calls, 8);
    assert_int_equal(a->refuse, 0);
    pthread_mutex_unlock(&a->mu);
    engine_free(e);
    pthread_mutex_destroy(&a->mu);

    gl_buf_release(&n1);
    gl_buf_release(&n2);
    gl_buf_release(&file);
    free(r);
    free(a);
    one_log_close(&f);
}

/* A tree for the pushed-proof tests: leaf i is the leaf hash of "a <i>"
 * for i < shared, else of "<tag> <i>" (tag 'a': one log's tree; another
 * tag: a tree rebuilt after entry `shared` by a log that lost its state). */
struct tree {
    char tag;
    uint64_t shared;
};

static void tree_leaf(const struct tree *t, uint64_t i, uint8_t out[GL_HASH_LEN])
{
    char s[32];
    int n = snprintf(s, sizeof(s), "%c %llu", i < t->shared ? 'a' : t->tag,
                     (unsigned long long)i);

    assert_int_equal(gl_merkle_leaf_hash(s, (size_t)n, out), 0);
}

static int tree_read(void *ctx, const struct gl_node_id *ids, size_t n,
                     uint8_t (*out)[GL_HASH_LEN])
{
    uint8_t leaves[64][GL_HASH_LEN];

    for (size_t i = 0; i < n; i++) {
        uint64_t w = (uint64_t)1 << ids[i].level, first = ids[i].index * w;
        assert_true(w <= 64);
        for (uint64_t k = 0; k < w; k++)
            tree_leaf(ctx, first + k, leaves[k]);
        tu_mth(gl_hashes_const(leaves), w, out[i]);
    }
    return 0;
}

/* t's checkpoint of size, signed by k, into note. */
static void tree_ck(const struct gl_signer *k, struct tree *t, uint64_t size,
                    struct gl_buf *note)
{
    const struct gl_hash_source src = {tree_read, t};
    uint8_t root[GL_HASH_LEN];

    assert_int_equal(gl_merkle_root_at(&src, size, root), 0);
    gl_buf_reset(note);
    assert_int_equal(gl_checkpoint_sign(k->name, size, root, k, note), 0);
}

/* The header "old m", t's RFC 9162 proof m -> n (garbage: as many random
 * hashes instead; extra: that many more random hashes), blank line. */
static void proof_header(struct tree *t, uint64_t m, uint64_t n, int garbage, int extra,
                         char *out, size_t max)
{
    const struct gl_hash_source src = {tree_read, t};
    uint8_t proof[GL_MERKLE_MAX_PROOF + 4][GL_HASH_LEN];
    uint64_t seed = m * 1000 + n;
    size_t len = 0, k;
    char b64[48];

    assert_int_equal(gl_merkle_prove_consistency(&src, m, n, proof, &len), 0);
    for (size_t i = 0; i < len + (size_t)extra; i++)
        for (size_t j = 0; j < GL_HASH_LEN && (garbage || i >= len); j++)
            proof[i][j] = (uint8_t)tu_rand(&seed);
    k = (size_t)snprintf(out, max, "old %llu\n", (unsigned long long)m);
    for (size_t i = 0; i < len + (size_t)extra; i++) {
        assert_int_equal(gl_base64_encode(proof[i], GL_HASH_LEN, b64, sizeof(b64)), 0);
        k += (size_t)snprintf(out + k, max - k, "%s\n", b64);
    }
    assert_true(k + 2 < max);
    strcpy(out + k, "\n");
}

/* The one evidence stored: listed as not-prefix (m, n), its file copy in
 * dir verifies with the log's key as that split view, and it was
 * announced once. */
static void pushed_evidence(struct engine *e, const struct one_log *f,
                            const struct wreq *r, struct announced *a, uint64_t m,
                            uint64_t n)
{
    struct engine_evidence ev[2];
    struct gl_evidence *file = calloc(1, sizeof(*file));
    struct gl_evidence_result res;
    struct engine_view v;
    struct gl_buf copy;
    char path[700];
    size_t total = 0;

    assert_non_null(file);
    assert_int_not_equal(r->evidence_id[0], 0);
    assert_non_null(strstr(r->why, "a split view (kept as evidence)"));
    assert_int_equal(engine_view(e, f->ia, &v, NULL), 0);
    assert_true(v.frozen && v.size == m);
    assert_int_equal(engine_evidence(e, 0, ev, 2, &total), 1);
    assert_string_equal(ev[0].id, r->evidence_id);
    assert_int_equal(ev[0].kind, GL_EVIDENCE_NOT_PREFIX);
    assert_true(ev[0].size[0] == m && ev[0].size[1] == n);
    snprintf(path, sizeof(path), "%s/%s", f->dir, r->evidence_id);
    gl_buf_init(&copy, GL_EVIDENCE_MAX_SIZE);
    assert_int_equal(gl_file_read(path, &copy), 0);
    assert_int_equal(gl_evidence_parse((const char *)copy.data, copy.len, file, NULL), 0);
    assert_int_equal(gl_evidence_verify(file, &f->va, 1, &res), 0);
    assert_int_equal(res.kind, GL_EVIDENCE_NOT_PREFIX);
    assert_true(res.size[0] == m && res.size[1] == n);
    pthread_mutex_lock(&a->mu);
    assert_int_equal(a->calls, 1);
    assert_string_equal(a->path, path);
    pthread_mutex_unlock(&a->mu);
    gl_buf_release(&copy);
    free(file);
}

/* Nothing stored, nothing frozen, no alarm, and r got the plain 422. */
static void no_evidence(struct engine *e, const struct one_log *f, const struct wreq *r,
                        struct announced *a)
{
    struct engine_view v;
    size_t total = 1;

    assert_int_equal(r->status, 422);
    assert_string_equal(r->why, "the consistency proof does not verify");
    assert_int_equal(r->evidence_id[0], 0);
    (void)engine_evidence(e, 0, NULL, 0, &total);
    assert_int_equal(total, 0);
    assert_int_equal(engine_view(e, f->ia, &v, NULL), 0);
    assert_false(v.frozen);
    pthread_mutex_lock(&a->mu);
    assert_int_equal(a->calls, 0);
    pthread_mutex_unlock(&a->mu);
}

/* Pushes note with the proof from m to n of tree t (garbage, extra as
 * proof_header) and checks it proves nothing: 422, no evidence. */
static void proves_nothing(struct engine *e, const struct one_log *f, struct wreq *r,
                           struct announced *a, struct tree *t, uint64_t m, uint64_t n,
                           int garbage, int extra, const struct gl_buf *note,
                           struct gl_buf *body)
{
    char hdr[8192];

    proof_header(t, m, n, garbage, extra, hdr, sizeof(hdr));
    assert_int_equal(add(e, &f->logs, f->ia, hdr, note, r, body), 422);
    no_evidence(e, f, r, a);
}

/* A pushed add-checkpoint whose consistency proof m -> n contradicts what
 * the witness cosigned at m. The witness holds the log's checkpoint of
 * tree A at m; the log then signs tree B (the first 3 entries of A, then
 * others: it lost its state) at n and pushes it. Random hashes (of the
 * right length, or one too many), or A's true proof (which reproduces A's
 * root, not B's), prove nothing: 422, nothing stored or frozen. B's true
 * proof does (m = 6, not a power of two): 422 saying the evidence was
 * kept, the file copy verifies as a not-prefix split view with the log's
 * key alone, the log is frozen (still after a restart) and the alarm was
 * raised. For m = 4, a power of two, the RFC proof leaves out B's root at
 * m, so B's true proof proves nothing either (422, nothing stored), while
 * A's own extension is still cosigned. */
static void test_pushed_proof_split(void **state)
{
    struct one_log f;
    struct engine *e = NULL;
    struct wreq *r = calloc(1, sizeof(*r));
    struct announced *a = calloc(1, sizeof(*a));
    struct tree ta = {'a', 0}, tb = {'b', 3};
    struct gl_buf nm, nb, na, body;
    struct engine_view v;
    char hdr[8192];
    (void)state;

    assert_true(r != NULL && a != NULL);
    assert_int_equal(pthread_mutex_init(&a->mu, NULL), 0);
    gl_buf_init(&nm, 1 << 16);
    gl_buf_init(&nb, 1 << 16);
    gl_buf_init(&na, 1 << 16);
    gl_buf_init(&body, 1 << 17);

    one_log_open(&f, "test_witness_engine_pushsplit");
    struct engine_config ec = {f.ws, &f.logs, &f.wk, f.dir, on_ev, a, 0, 0};
    assert_int_equal(engine_new(&ec, &e), 0);
    tree_ck(&f.ka, &ta, 6, &nm);
    tree_ck(&f.ka, &tb, 13, &nb);
    assert_int_equal(add(e, &f.logs, f.ia, "old 0\n\n", &nm, r, &body), 200);
    proves_nothing(e, &f, r, a, &tb, 6, 13, 1, 0, &nb, &body);
    proves_nothing(e, &f, r, a, &tb, 6, 13, 0, 1, &nb, &body);
    proves_nothing(e, &f, r, a, &ta, 6, 13, 0, 0, &nb, &body);
    proof_header(&tb, 6, 13, 0, 0, hdr, sizeof(hdr));
    assert_int_equal(add(e, &f.logs, f.ia, hdr, &nb, r, &body), 422);
    pushed_evidence(e, &f, r, a, 6, 13);
    /* frozen: not even A's own extension is cosigned, also after a restart */
    tree_ck(&f.ka, &ta, 13, &na);
    proof_header(&ta, 6, 13, 0, 0, hdr, sizeof(hdr));
    assert_int_equal(add(e, &f.logs, f.ia, hdr, &na, r, &body), 422);
    assert_non_null(strstr(r->why, "cosigns none of its checkpoints"));
    engine_free(e);
    assert_int_equal(engine_new(&ec, &e), 0);
    assert_int_equal(engine_view(e, f.ia, &v, NULL), 0);
    assert_true(v.frozen);
    engine_free(e);
    one_log_close(&f);

    /* m = 4, a power of two: B's true proof cannot show B's root at 4 */
    a->calls = 0;
    one_log_open(&f, "test_witness_engine_pushsplit2");
    ec.store = f.ws;
    ec.logs = &f.logs;
    ec.key = &f.wk;
    ec.evidence_dir = f.dir;
    assert_int_equal(engine_new(&ec, &e), 0);
    tree_ck(&f.ka, &ta, 4, &nm);
    tree_ck(&f.ka, &tb, 13, &nb);
    tree_ck(&f.ka, &ta, 13, &na);
    assert_int_equal(add(e, &f.logs, f.ia, "old 0\n\n", &nm, r, &body), 200);
    proves_nothing(e, &f, r, a, &tb, 4, 13, 0, 0, &nb, &body);
    proof_header(&ta, 4, 13, 0, 0, hdr, sizeof(hdr));
    assert_int_equal(add(e, &f.logs, f.ia, hdr, &na, r, &body), 200);
    engine_free(e);
    one_log_close(&f);

    pthread_mutex_destroy(&a->mu);
    gl_buf_release(&nm);
    gl_buf_release(&nb);
    gl_buf_release(&na);
    gl_buf_release(&body);
    free(r);
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_evidence_bounded_per_origin),
        cmocka_unit_test(test_cosign_time_never_goes_back),
        cmocka_unit_test(test_replay_writes_nothing),
        cmocka_unit_test(test_replay_other_text),
        cmocka_unit_test(test_evidence_announced_once_copied),
        cmocka_unit_test(test_removed_key_refused),
        cmocka_unit_test(test_pushed_proof_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

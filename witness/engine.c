/*
 * engine: the committer thread and the state it owns; design, threads and
 * invariants in engine.h.
 *
 * State: pub[i] is the published record of log i (what readers see, what
 * is durable); pend[i] is the record as the batch in progress leaves it,
 * valid when pend[i].dirty. Only the committer writes either, so it reads
 * both without the lock; it takes the lock only to publish. Notes are
 * owned buffers swapped from pend to pub at publish time, so memory does
 * not grow with the number of requests.
 *
 * Records: a log's note is kept in one form only, addck_record's (text,
 * the log's verified signatures, our cosignature), which is what is
 * written, served and used as our side of evidence. A record enters pend
 * only after record_check, the same check loading applies, so the witness
 * never writes a record it could not load again (a record that failed to
 * load would stop the witness from starting).
 */
#include "engine.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "glasslog/codec.h"
#include "glasslog/cosig.h"
#include "glasslog/error.h"
#include "glasslog/evidence.h"
#include "glasslog/log.h"
#include "glasslog/note.h"
#include "clock.h"

struct record {
    struct engine_view v;
    struct gl_buf note;    /* the record (addck_record): stored and served */
    int dirty;             /* pend only: changed in this batch */
    int frozen_new;        /* pend only: frozen in this batch */
    uint64_t ahead_logged; /* pub only: when clock_ahead was last logged */
};

/* Evidence made durable by the batch in progress. */
struct new_ev {
    struct engine_evidence meta;
    uint8_t id[GL_HASH_LEN];
    struct gl_buf file;
};

struct engine {
    struct engine_config cfg;
    struct gl_signer key;
    struct gl_verifier vkey;
    size_t nlogs;
    struct record *pub, *pend;
    size_t *dirty; /* indices of dirty pend records */
    size_t ndirty;
    struct new_ev *nev; /* ENGINE_BATCH_MAX entries */
    size_t nnev;
    struct engine_evidence *ev;            /* the evidence list, ev_cap entries */
    size_t nev_total, ev_load_max, ev_cap; /* ev_cap = ev_load_max + nlogs */
    size_t *redo; /* committer: evidence not announced yet (indices into ev, */
    size_t nredo; /* each once: at most ev_cap), retried every retry_ms */
    uint64_t retry_ms;
    pthread_mutex_t mu; /* queue, pub, ev, stats */
    pthread_cond_t cv;
    struct wreq *head, *tail;
    size_t queued;
    int stopping, started;
    int broken;            /* a write failed: refuse every change (fail-stop) */
    struct gl_buf scratch; /* committer: a record being built */
    pthread_t thread;
    struct engine_stats st;
};

#define NOTE_MAX (ADDCK_BODY_MAX + 1024)
#define EV_PATH_MAX 4096

/* A record holds at most one signature per log key and our cosignature,
 * and at most NOTE_MAX bytes: the signed-note parser that loads it again
 * must accept that much. */
_Static_assert(LOGS_MAX_KEYS + 1 <= GL_NOTE_MAX_SIGS, "records must stay loadable");
_Static_assert(NOTE_MAX <= GL_NOTE_MAX_SIZE, "records must stay loadable");

/* --- records ------------------------------------------------------------------ */

static int same_key(const struct gl_note_sig *s, const struct gl_verifier *k)
{
    return s->id == k->id && s->name_len == strlen(k->name) &&
           memcmp(s->name, k->name, s->name_len) == 0;
}

static int by_log_key(const struct gl_note_sig *s, const struct logs_entry *log)
{
    for (size_t i = 0; i < log->nkeys; i++)
        if (same_key(s, &log->keys[i]))
            return 1;
    return 0;
}

/* Opens a record of log and checks that it is that log's checkpoint at
 * (size, root): the one check every record passes before it is stored and
 * after it is loaded. *n (caller frees) is the parsed record; why (may be
 * NULL) says what is wrong with a refused one. */
static int record_check(const struct logs_entry *log, const uint8_t *rec, size_t len,
                        uint64_t size, const uint8_t root[GL_HASH_LEN],
                        struct gl_note **n, struct gl_err *why)
{
    struct gl_checkpoint c;
    int err = addck_record_open((const char *)rec, len, &c, n, why);

    if (err == 0 && (strcmp(c.origin, log->origin) != 0 || c.size != size ||
                     memcmp(c.root, root, GL_HASH_LEN) != 0)) {
        gl_note_free(*n);
        *n = NULL;
        err = gl_err_set(why, GL_EPARSE, 0,
                         "not the log's checkpoint of size %llu it is stored as",
                         (unsigned long long)size);
    }
    return err;
}

static void record_init(struct record *r)
{
    memset(r, 0, sizeof(*r));
    gl_buf_init(&r->note, NOTE_MAX);
}

static void record_release(struct record *r)
{
    gl_buf_release(&r->note);
}

/* --- evidence files ----------------------------------------------------------- */

/* The file copy of evidence id (hex) and its pending marker:
 * DIR/evidence/<id> and DIR/evidence/.<id>.pending. GL_ETOOBIG if a path
 * would not fit. */
static int evidence_paths(const struct engine *e, const char *id, char path[EV_PATH_MAX],
                          char mark[EV_PATH_MAX])
{
    int n = snprintf(path, EV_PATH_MAX, "%s/%s", e->cfg.evidence_dir, id);
    int m = snprintf(mark, EV_PATH_MAX, "%s/.%s.pending", e->cfg.evidence_dir, id);

    return n < 0 || n >= EV_PATH_MAX || m < 0 || m >= EV_PATH_MAX ? GL_ETOOBIG : 0;
}

/* 1 if stored evidence id (a file of len bytes) is not known to be
 * announced: its file copy is missing or of another size, or its pending
 * marker is there (a crash came between the copy and on_evidence). */
static int evidence_unannounced(const struct engine *e, const char *id, size_t len)
{
    char path[EV_PATH_MAX], mark[EV_PATH_MAX];
    struct stat st;

    if (evidence_paths(e, id, path, mark) != 0 || stat(path, &st) != 0 ||
        !S_ISREG(st.st_mode) || (uint64_t)st.st_size != (uint64_t)len)
        return 1;
    return stat(mark, &st) == 0;
}

/* Announces durable evidence id of origin (file, len): marks it pending,
 * writes its file copy, and only if the copy is written calls on_evidence
 * with its path, then, if it raised the alarm, removes the mark. A copy
 * that cannot be written, or an alarm that could not be raised, is
 * logged; the caller retries (redo), and so does the next start
 * (evidence_unannounced: the mark is still there). */
static int announce(struct engine *e, const char *id, const char *origin,
                    const uint8_t *file, size_t len)
{
    char path[EV_PATH_MAX], mark[EV_PATH_MAX];
    int err, marked;

    if ((err = evidence_paths(e, id, path, mark)) != 0) {
        gl_log(GL_LOG_ERROR,
               "split view of log %s proven (evidence %s stored) but %s is "
               "too long a directory for its file copy: no alarm",
               origin, id, e->cfg.evidence_dir);
        return err;
    }
    err = gl_file_write_new(mark, "", 0, 0644);
    marked = err == 0 || err == GL_EEXIST;
    if ((err = gl_file_replace(path, file, len, 0644)) != 0) {
        gl_log(GL_LOG_ERROR,
               "split view of log %s proven (evidence %s stored) but its file copy %s "
               "cannot be written (%s): the alarm is raised when it is (retried every "
               "%llu s and at start)",
               origin, id, path, strerror(errno),
               (unsigned long long)((e->retry_ms + 999) / 1000));
        return err;
    }
    if (!marked)
        gl_log(GL_LOG_WARN,
               "cannot create %s: a crash before the alarm is raised would "
               "lose it",
               mark);
    if (e->cfg.on_evidence != NULL &&
        (err = e->cfg.on_evidence(e->cfg.arg, id, origin, path)) != 0) {
        gl_log(GL_LOG_WARN,
               "the alarm for evidence %s could not be raised (%s): retried every %llu s "
               "and at start",
               id, gl_strerror(err), (unsigned long long)((e->retry_ms + 999) / 1000));
        return err;
    }
    if (marked && unlink(mark) != 0)
        gl_log(GL_LOG_WARN,
               "cannot remove %s: evidence %s is announced again at the next "
               "start",
               mark, id);
    return 0;
}

/* On the committer: announces the evidence in redo (found unannounced at
 * start, or whose announcement failed since), reading each file back from
 * the store; keeps in redo what fails again. Stops early if the engine is
 * stopping (the rest stay unannounced and are found again at the next
 * start). Entries of ev are never changed once listed, and only the
 * committer adds them: no lock needed to read them here. */
static void retry_unannounced(struct engine *e)
{
    struct gl_buf f;
    uint8_t id[GL_HASH_LEN];
    size_t kept = 0;
    int stopping = 0, err;

    gl_buf_init(&f, GL_EVIDENCE_MAX_SIZE);
    for (size_t k = 0; k < e->nredo; k++) {
        const struct engine_evidence *m = &e->ev[e->redo[k]];
        err = GL_ESTATE; /* not tried (stopping): kept */
        if (!stopping) {
            gl_buf_reset(&f);
            err = gl_hex_decode_exact(m->id, GL_HASH_HEX_LEN, id, GL_HASH_LEN, 1);
            if (err == 0)
                err = wstore_get_evidence(e->cfg.store, id, &f);
            if (err != 0)
                gl_log(GL_LOG_ERROR, "cannot read stored evidence %s to announce it: %s",
                       m->id, gl_strerror(err));
            else
                err = announce(e, m->id, m->origin, f.data, f.len);
            pthread_mutex_lock(&e->mu);
            stopping = e->stopping;
            pthread_mutex_unlock(&e->mu);
        }
        if (err != 0)
            e->redo[kept++] = e->redo[k];
    }
    e->nredo = kept;
    gl_buf_release(&f);
}

/* --- loading ------------------------------------------------------------------ */

/* A stored record of log at size that no key of the list signs: logged,
 * GL_ESTATE. */
static int unsigned_record(const struct logs_entry *log, uint64_t size)
{
    gl_log(GL_LOG_ERROR,
           "the stored checkpoint of %s (size %llu) is signed by none of the log's keys "
           "in the list: list the key that signed it again, until this witness holds a "
           "checkpoint signed by a listed key",
           log->origin, (unsigned long long)size);
    return GL_ESTATE;
}

/* Rebuilds a loaded record n (parsed from rec) in record form into r: the
 * log's signatures and our cosignature (records written before the form
 * was fixed may carry other lines), and sets our cosignature's time. A
 * record signed by no key the list names for its log (a key was removed
 * from the list before the witness held a checkpoint signed by a newer
 * one) is GL_ESTATE: without the log's signature it could neither be
 * served to peers nor prove a split view. */
static int load_record(struct engine *e, const struct logs_entry *log, const char *rec,
                       const struct gl_note *n, struct record *r)
{
    struct addck_kept kept = {n->text_len, 0, {{0, 0}}};
    const struct gl_note_sig *ours = NULL;

    for (size_t k = 0; k < n->nsigs; k++) {
        const struct gl_note_sig *s = &n->sigs[k];
        if (by_log_key(s, log) && kept.n < LOGS_MAX_KEYS) {
            kept.line[kept.n].off = (size_t)(s->line - rec);
            kept.line[kept.n++].len = s->line_len;
        } else if (same_key(s, &e->vkey) &&
                   gl_cosig_verify(&e->vkey, n->text, n->text_len, s,
                                   &r->v.cosigned_at) == 0) {
            ours = s;
        }
    }
    if (kept.n == 0)
        return unsigned_record(log, r->v.size);
    return addck_record(rec, &kept, ours ? ours->line : NULL, ours ? ours->line_len : 0,
                        &r->note);
}

static int load_log(void *ctx, const uint8_t oh[GL_HASH_LEN], uint64_t size,
                    const uint8_t root[GL_HASH_LEN], const uint8_t *note, size_t len)
{
    struct engine *e = ctx;
    const struct logs_entry *log;
    struct gl_note *n = NULL;
    struct gl_err why;
    char msg[GL_ERR_REASON_MAX + 32];
    struct record *r;
    size_t i;
    int err;

    if (logs_find_hash(e->cfg.logs, oh, &i) != 0)
        return 0; /* a log no longer configured: kept on disk, unused */
    log = &e->cfg.logs->v[i];
    r = &e->pub[i];
    r->v.has = 1;
    r->v.size = size;
    memcpy(r->v.root, root, GL_HASH_LEN);
    if ((err = record_check(log, note, len, size, root, &n, &why)) != 0)
        gl_log(GL_LOG_ERROR, "the stored record of %s is corrupt: %s", log->origin,
               gl_err_format(&why, NULL, msg, sizeof(msg)));
    else if ((err = load_record(e, log, (const char *)note, n, r)) != 0 &&
             err != GL_ESTATE)
        gl_log(GL_LOG_ERROR, "cannot load the stored record of %s: %s", log->origin,
               gl_strerror(err));
    gl_note_free(n);
    return err;
}

/* wstore_scan_logs callback of engine_check_records: ctx is the list. */
static int check_record(void *ctx, const uint8_t oh[GL_HASH_LEN], uint64_t size,
                        const uint8_t root[GL_HASH_LEN], const uint8_t *note, size_t len)
{
    const struct logs_list *logs = ctx;
    const struct logs_entry *log;
    struct gl_note *n = NULL;
    size_t i, k;
    int err;

    if (logs_find_hash(logs, oh, &i) != 0)
        return 0;
    log = &logs->v[i];
    if (record_check(log, note, len, size, root, &n, NULL) != 0)
        return 0; /* corrupt: engine_new says so */
    for (k = 0; k < n->nsigs && !by_log_key(&n->sigs[k], log); k++)
        ;
    err = k < n->nsigs ? 0 : unsigned_record(log, size);
    gl_note_free(n);
    return err;
}

int engine_check_records(struct wstore *ws, const struct logs_list *logs)
{
    return wstore_scan_logs(ws, check_record, (void *)logs);
}

static int load_frozen(void *ctx, const uint8_t oh[GL_HASH_LEN])
{
    struct engine *e = ctx;
    size_t i;

    if (logs_find_hash(e->cfg.logs, oh, &i) == 0)
        e->pub[i].v.frozen = 1;
    return 0;
}

/* Fills meta from an evidence file (origin, kind, sizes). */
static void describe_evidence(const struct engine *e, const uint8_t *file, size_t len,
                              struct engine_evidence *m)
{
    struct gl_evidence *ev = calloc(1, sizeof(*ev));
    struct gl_evidence_result *r = calloc(1, sizeof(*r));
    const char *nl;

    m->log = SIZE_MAX;
    if (ev == NULL || r == NULL ||
        gl_evidence_parse((const char *)file, len, ev, NULL) != 0)
        goto out;
    nl = memchr(ev->note[0], '\n', ev->note_len[0]);
    if (nl == NULL || (size_t)(nl - ev->note[0]) > GL_CHECKPOINT_ORIGIN_MAX)
        goto out;
    memcpy(m->origin, ev->note[0], (size_t)(nl - ev->note[0]));
    m->origin[nl - ev->note[0]] = 0;
    if (logs_find(e->cfg.logs, m->origin, strlen(m->origin), &m->log) != 0) {
        m->log = SIZE_MAX;
        goto out;
    }
    if (gl_evidence_verify(ev, e->cfg.logs->v[m->log].keys, e->cfg.logs->v[m->log].nkeys,
                           r) == 0) {
        m->kind = (int)r->kind;
        m->size[0] = r->size[0];
        m->size[1] = r->size[1];
    }
out:
    free(ev);
    free(r);
}

static int load_evidence(void *ctx, const uint8_t id[GL_HASH_LEN], uint64_t found_at,
                         const char *source, const uint8_t *file, size_t len)
{
    struct engine *e = ctx;
    struct engine_evidence *m;

    if (e->nev_total == e->ev_load_max)
        return 0;
    m = &e->ev[e->nev_total++];
    memset(m, 0, sizeof(*m));
    gl_hex_encode(id, GL_HASH_LEN, m->id, sizeof(m->id));
    m->found_at = found_at;
    snprintf(m->source, sizeof(m->source), "%s", source);
    describe_evidence(e, file, len, m);
    if (evidence_unannounced(e, m->id, len))
        e->redo[e->nredo++] = e->nev_total - 1; /* nredo < nev_total <= ev_cap */
    return 0;
}

/* --- the batch ---------------------------------------------------------------- */

static void swap_buf(struct gl_buf *a, struct gl_buf *b)
{
    struct gl_buf t = *a;

    *a = *b;
    *b = t;
}

/* The record as the batch has left it so far. */
static struct record *cur(struct engine *e, size_t i)
{
    return e->pend[i].dirty ? &e->pend[i] : &e->pub[i];
}

/* Makes pend[i] dirty (a copy of pub[i]'s view, empty notes). */
static struct record *touch(struct engine *e, size_t i)
{
    struct record *p = &e->pend[i];

    if (!p->dirty) {
        p->v = e->pub[i].v;
        gl_buf_reset(&p->note);
        p->dirty = 1;
        p->frozen_new = 0;
        e->dirty[e->ndirty++] = i;
    }
    return p;
}

static int evidence_known(struct engine *e, const char *hex)
{
    for (size_t i = 0; i < e->nnev; i++)
        if (strcmp(e->nev[i].meta.id, hex) == 0)
            return 1;
    return engine_has_evidence(e, hex);
}

/* Adds a proven evidence file to the batch and freezes its log; id_out
 * names it. GL_ESTATE (id_out empty) if the log is frozen already: the
 * file is not kept. GL_EEXIST if the same file is stored. Each stored
 * file freezes a log that was not frozen, so at most nlogs are added to
 * what was loaded: the list (ev_cap) always has room. */
static int add_evidence(struct engine *e, size_t log, const uint8_t *file, size_t len,
                        const char *source, char id_out[GL_HASH_HEX_LEN + 1])
{
    struct new_ev *n;
    struct record *p;
    int err;

    id_out[0] = 0;
    if (cur(e, log)->v.frozen)
        return GL_ESTATE;
    if ((err = gl_evidence_id((const char *)file, len, id_out)) != 0)
        return err;
    if (evidence_known(e, id_out))
        return GL_EEXIST;
    if (e->nev_total + e->nnev >= e->ev_cap || e->nnev >= ENGINE_BATCH_MAX) {
        id_out[0] = 0;
        return GL_ETOOBIG; /* cannot happen (above) */
    }
    n = &e->nev[e->nnev];
    memset(&n->meta, 0, sizeof(n->meta));
    gl_buf_reset(&n->file);
    if ((err = gl_buf_append(&n->file, file, len)) != 0)
        return err;
    gl_hex_decode_exact(id_out, GL_HASH_HEX_LEN, n->id, GL_HASH_LEN, 1);
    memcpy(n->meta.id, id_out, sizeof(n->meta.id)); /* both GL_HASH_HEX_LEN + 1 */
    n->meta.found_at = (uint64_t)time(NULL);
    snprintf(n->meta.source, sizeof(n->meta.source), "%s", source);
    describe_evidence(e, file, len, &n->meta);
    e->nnev++;
    p = touch(e, log);
    if (!p->v.frozen)
        p->frozen_new = 1;
    p->v.frozen = 1;
    return 0;
}

/* The time of a new cosignature for log i: now, but never before the
 * log's latest cosignature (pending or published, restored from the store
 * at start), so a wall clock stepped back cannot date a larger tree
 * earlier than a smaller one. */
static uint64_t cosign_time(const struct engine *e, size_t i)
{
    const struct record *p = e->pend[i].dirty ? &e->pend[i] : &e->pub[i];
    uint64_t now = (uint64_t)time(NULL);

    return now > p->v.cosigned_at ? now : p->v.cosigned_at;
}

/* 1 if log i's latest cosignature (v) is dated more than
 * ENGINE_CLOCK_SLACK_S after now: cosign_time would date every new one
 * that far in the future, where clients do not count it. */
static int clock_ahead(const struct engine_view *v, uint64_t now)
{
    return v->cosigned_at > now && v->cosigned_at - now > ENGINE_CLOCK_SLACK_S;
}

/* The same tree as log i's record (size and root; the text may differ in
 * its extension lines) within ENGINE_REPLAY_REUSE_S of our latest
 * cosignature: r gets a cosignature of its own text dated at that
 * cosignature's time, which is durable (or made durable by this batch
 * before any reply). The record is not rewritten and no new time is given
 * out that a crash could lose; Ed25519 is deterministic, so the text held
 * gets that cosignature again byte for byte. A log that signed one tree
 * with several texts, posted in turn by anyone, thus costs no write and
 * cannot flip the stored text. GL_ENOTFOUND if our latest cosignature is
 * older or there is none: then the caller cosigns anew (a write). */
static int reuse_cosig(struct engine *e, struct wreq *r)
{
    uint64_t t = cur(e, r->log)->v.cosigned_at;
    struct gl_buf line;
    int err;

    if (t == 0 || (uint64_t)time(NULL) >= t + ENGINE_REPLAY_REUSE_S)
        return GL_ENOTFOUND;
    gl_buf_init(&line, sizeof(r->line) - 1);
    if ((err = gl_cosig_sign(&e->key, r->note, r->kept.text_len, t, &line)) == 0) {
        memcpy(r->line, line.data, line.len);
        r->line_len = line.len;
        r->status = 200;
    }
    gl_buf_release(&line);
    return err;
}

/* Cosigns r's checkpoint and records it in pend. The record is built
 * aside and checked as a load would check it, so pend changes only if the
 * record can be loaded again. */
static int accept_add(struct engine *e, struct wreq *r)
{
    const struct logs_entry *log = &e->cfg.logs->v[r->log];
    struct gl_note *n = NULL;
    struct record *p;
    struct gl_buf line;
    uint64_t t = cosign_time(e, r->log);
    int err;

    gl_buf_init(&line, sizeof(r->line) - 1);
    gl_buf_reset(&e->scratch);
    if ((err = gl_cosig_sign(&e->key, r->note, r->kept.text_len, t, &line)) == 0 &&
        (err = addck_record(r->note, &r->kept, (const char *)line.data, line.len,
                            &e->scratch)) == 0 &&
        (err = record_check(log, e->scratch.data, e->scratch.len, r->ck.size, r->ck.root,
                            &n, NULL)) == 0) {
        p = touch(e, r->log);
        /* the witness's promise: a log's cosigned tree never shrinks, and
         * a frozen log is never cosigned */
        assert(!p->v.frozen && (!p->v.has || r->ck.size >= p->v.size));
        swap_buf(&p->note, &e->scratch);
        p->v.has = 1;
        p->v.size = r->ck.size;
        memcpy(p->v.root, r->ck.root, GL_HASH_LEN);
        p->v.cosigned_at = t;
        memcpy(r->line, line.data, line.len);
        r->line_len = line.len;
        r->status = 200;
    }
    gl_note_free(n);
    gl_buf_release(&line);
    return err;
}

/* Keeps r's checkpoint and our record of its log (in record form: the
 * log's signatures only) as evidence, with the full proof from the
 * smaller size to the larger (nfull 0 for equal sizes): 0 when stored, or
 * stored already; GL_EVERIFY, nothing changed, when the pair proves no
 * split view (gl_evidence_build, which checks it as gl_evidence_verify
 * does); another code when it could not be built or stored. Only
 * evidence this request stored is named in r->evidence_id. */
static int keep_split(struct engine *e, struct wreq *r,
                      const uint8_t (*full)[GL_HASH_LEN], size_t nfull)
{
    const struct logs_entry *log = &e->cfg.logs->v[r->log];
    const struct record *c = cur(e, r->log);
    struct gl_buf f;
    int err;

    gl_buf_init(&f, GL_EVIDENCE_MAX_SIZE);
    gl_buf_reset(&e->scratch);
    err = addck_record(r->note, &r->kept, NULL, 0, &e->scratch);
    if (err == 0)
        err = gl_evidence_build(log->keys, log->nkeys, (const char *)c->note.data,
                                c->note.len, (const char *)e->scratch.data,
                                e->scratch.len, full, nfull, &f, NULL);
    if (err == 0)
        err = add_evidence(e, r->log, f.data, f.len, r->source, r->evidence_id);
    if (err != 0 && err != GL_EEXIST)
        r->evidence_id[0] = 0;
    gl_buf_release(&f);
    return err == GL_EEXIST ? 0 : err;
}

/* Same size, other root (ADDCK_SPLIT): the pair is evidence. */
static void split_add(struct engine *e, struct wreq *r)
{
    int err = keep_split(e, r, NULL, 0);

    if (err != 0) {
        r->why = "same size as the cosigned checkpoint but another root: a split view "
                 "(the witness could not store the evidence)";
        gl_log(GL_LOG_ERROR, "%s: cannot record split-view evidence: %s",
               e->cfg.logs->v[r->log].origin, gl_strerror(err));
    }
}

/* The reason of a 422 for a proof that proves a split view. */
#define PROOF_SPLIT                                                                      \
    "the consistency proof reproduces the checkpoint's root but gives another root "     \
    "for the old size than the log signed: a split view "

/* A consistency proof from our size m to r's larger size n that did not
 * verify against our root (ADDCK_BAD_PROOF): if it reproduces r's signed
 * root but implies another root at m than the one the log signed there
 * (our record), the log has signed two trees of which one is not a
 * prefix of the other: a split view, kept as evidence and the log frozen,
 * as a log that lost its state or forked on purpose and pushes its new
 * tree with that tree's true proof. A proof that reproduces nothing
 * proves nothing (anyone can write hashes): the 422 stands, nothing
 * changes. When m is a power of two the RFC 9162 proof leaves out the
 * root at m, which only our own root can fill in, so it never reproduces
 * the root of a tree that is not an extension of ours: no evidence from
 * such a proof alone. The cheap Merkle check comes first, so a bad proof
 * costs no signature check and no allocation here. */
static void proof_split(struct engine *e, struct wreq *r)
{
    const struct record *c = cur(e, r->log);
    uint8_t full[GL_EVIDENCE_MAX_PROOF][GL_HASH_LEN], root_m[GL_HASH_LEN],
        root_n[GL_HASH_LEN];
    size_t nfull = 0;
    int err;

    if (!c->v.has || r->old != c->v.size || r->old == 0 || r->ck.size <= r->old ||
        gl_evidence_full_proof(r->old, r->ck.size, c->v.root, gl_hashes_const(r->proof),
                               r->nproof, full, &nfull) != 0 ||
        gl_evidence_roots(r->old, r->ck.size, gl_hashes_const(full), nfull, root_m,
                          root_n) != 0 ||
        memcmp(root_n, r->ck.root, GL_HASH_LEN) != 0 ||
        memcmp(root_m, c->v.root, GL_HASH_LEN) == 0)
        return;
    if ((err = keep_split(e, r, gl_hashes_const(full), nfull)) == 0) {
        r->why = PROOF_SPLIT "(kept as evidence)";
        return;
    }
    r->why = PROOF_SPLIT "(the witness could not store the evidence)";
    gl_log(GL_LOG_ERROR, "%s: cannot record split-view evidence: %s",
           e->cfg.logs->v[r->log].origin, gl_strerror(err));
}

static void process_add(struct engine *e, struct wreq *r)
{
    const struct record *c = cur(e, r->log);
    struct addck_state st = {c->v.has, c->v.size, {0}, c->v.frozen};
    enum addck_verdict v;
    uint64_t now = (uint64_t)time(NULL);

    memcpy(st.root, c->v.root, GL_HASH_LEN);
    v = addck_decide(&st, r->old, gl_hashes_const(r->proof), r->nproof, &r->ck, &r->why);
    r->status = addck_status(v);
    r->stored_size = c->v.has ? c->v.size : 0;
    if (v == ADDCK_OK && clock_ahead(&c->v, now)) {
        r->status = 503;
        r->why = "this witness's latest cosignature of this log is dated more "
                 "than " ENGINE_CLOCK_SLACK_TEXT
                 " in the future (its clock was ahead); it cosigns "
                 "this log again once its clock passes that time";
        if (now - e->pub[r->log].ahead_logged < 60)
            return; /* logged loudly once a minute, not once per request */
        e->pub[r->log].ahead_logged = now;
        gl_log(GL_LOG_ERROR,
               "%s: refusing to cosign: our latest cosignature is dated %llu, more than "
               "%d s after now (the clock was ahead, or is behind now); fix the clock",
               e->cfg.logs->v[r->log].origin, (unsigned long long)c->v.cosigned_at,
               ENGINE_CLOCK_SLACK_S);
        return;
    }
    if (v == ADDCK_OK && c->v.has && r->ck.size == c->v.size && reuse_cosig(e, r) == 0)
        return; /* a replay of the tree held: equal sizes pass only with its root */
    if (v == ADDCK_OK && accept_add(e, r) != 0) {
        r->status = 500;
        r->why = "cannot cosign";
    }
    if (v == ADDCK_SPLIT)
        split_add(e, r);
    if (v == ADDCK_BAD_PROOF)
        proof_split(e, r);
}

/* A submitted file that proves a split view of its log is stored in its
 * canonical form (gl_evidence_build: foreign signature lines dropped,
 * canonical base64), so re-encoding a signature line or adding one never
 * gives the same pair another ID. */
static void process_evidence(struct engine *e, struct wreq *r)
{
    const struct logs_entry *log = &e->cfg.logs->v[r->log];
    struct gl_evidence *ev = calloc(1, sizeof(*ev));
    struct gl_evidence_result *res = calloc(1, sizeof(*res));
    struct gl_buf canon;
    int err = ev == NULL || res == NULL ? GL_ENOMEM : 0;

    gl_buf_init(&canon, GL_EVIDENCE_MAX_SIZE);
    r->status = 422;
    r->why = "the file does not prove a split view of this log";
    if (err == 0 && gl_evidence_parse(r->note, r->note_len, ev, NULL) == 0 &&
        (err = gl_evidence_build(log->keys, log->nkeys, ev->note[0], ev->note_len[0],
                                 ev->note[1], ev->note_len[1],
                                 (const uint8_t(*)[GL_HASH_LEN])ev->proof, ev->nproof,
                                 &canon, res)) == 0 &&
        strcmp(res->origin, log->origin) == 0) {
        err = add_evidence(e, r->log, canon.data, canon.len, r->source, r->evidence_id);
        if (err != 0) /* only stored evidence is this request's */
            r->evidence_id[0] = 0;
        r->status = err == 0 || err == GL_EEXIST || err == GL_ESTATE ? 200 : 500;
        r->why = r->status == 200 ? NULL : "cannot store the evidence";
    } else if (err == GL_ENOMEM || err == GL_ECRYPTO) { /* not the file's fault */
        r->status = 500;
        r->why = "out of memory checking the evidence";
    }
    gl_buf_release(&canon);
    free(ev);
    free(res);
}

/* Writes the batch's changes; 0 when there is nothing to write. */
static int write_batch(struct engine *e)
{
    struct wstore_batch *b = NULL;
    int err;

    if (e->ndirty == 0 && e->nnev == 0)
        return 0;
    if ((err = wstore_batch_new(e->cfg.store, &b)) != 0)
        return err;
    for (size_t k = 0; k < e->ndirty; k++) {
        size_t i = e->dirty[k];
        const struct record *p = &e->pend[i];
        const uint8_t *oh = e->cfg.logs->v[i].origin_hash;
        if (p->note.len > 0)
            wstore_batch_put_log(b, oh, p->v.size, p->v.root, p->note.data, p->note.len);
        if (p->frozen_new)
            wstore_batch_put_frozen(b, oh);
    }
    for (size_t k = 0; k < e->nnev; k++)
        wstore_batch_put_evidence(b, e->nev[k].id, e->nev[k].meta.found_at,
                                  e->nev[k].meta.source, e->nev[k].file.data,
                                  e->nev[k].file.len);
    err = wstore_batch_commit(b);
    wstore_batch_free(b);
    return err;
}

/* Moves pend into pub and the new evidence into the list (under mu). */
static void publish(struct engine *e)
{
    for (size_t k = 0; k < e->ndirty; k++) {
        size_t i = e->dirty[k];
        struct record *p = &e->pend[i], *q = &e->pub[i];
        q->v = p->v;
        if (p->note.len > 0)
            swap_buf(&q->note, &p->note);
        e->st.frozen += p->frozen_new ? 1 : 0;
    }
    for (size_t k = 0; k < e->nnev; k++)
        e->ev[e->nev_total++] = e->nev[k].meta;
    e->st.evidence += e->nnev;
}

/* After a durable batch (published: the batch's evidence is the last nnev
 * entries of ev): a file copy and the alarm for each evidence; what fails
 * goes to redo. */
static void announce_evidence(struct engine *e)
{
    size_t base = e->nev_total - e->nnev;

    for (size_t k = 0; k < e->nnev; k++) {
        struct new_ev *n = &e->nev[k];
        if (announce(e, n->meta.id, n->meta.origin, n->file.data, n->file.len) != 0)
            e->redo[e->nredo++] = base + k; /* each index once: nredo <= nev_total */
    }
}

static void fail_batch(struct wreq *batch)
{
    for (struct wreq *r = batch; r != NULL; r = r->next)
        if (r->status == 200 || r->evidence_id[0] != 0) {
            r->status = 503;
            r->why = "the witness could not write its state; try again";
            r->line_len = 0;
            r->evidence_id[0] = 0;
        }
}

static void count(struct engine *e, struct wreq *batch, size_t n, int wrote, double secs,
                  int err)
{
    e->st.batches += wrote ? 1 : 0;
    e->st.batch_requests += n;
    if (n > e->st.batch_max)
        e->st.batch_max = n;
    e->st.commit_seconds += secs;
    e->st.storage_failed = err != 0 || e->broken;
    e->st.write_failures += err != 0 ? 1 : 0;
    for (struct wreq *r = batch; r != NULL; r = r->next) {
        e->st.cosigned += r->kind == WREQ_ADD && r->status == 200;
        e->st.conflicts += r->status == 409;
        e->st.refused += r->status != 200 && r->status != 409;
    }
}

static void run_batch(struct engine *e, struct wreq *batch, size_t n)
{
    double t0;
    int wrote, err;

    for (struct wreq *r = batch; r != NULL; r = r->next) {
        r->status = 500;
        if (e->broken) {
            r->status = 503;
            r->why = "the witness's storage failed; it cosigns nothing until restarted";
        } else if (r->kind == WREQ_ADD)
            process_add(e, r);
        else
            process_evidence(e, r);
    }
    wrote = e->ndirty > 0 || e->nnev > 0;
    t0 = gl_clock_mono();
    err = write_batch(e);
    if (err != 0) {
        /* The write may or may not have landed: stop changing anything
         * until a restart reloads the truth from disk. The batch's answers
         * become 503s before they are counted. */
        e->broken = 1;
        gl_log(GL_LOG_ERROR,
               "a state write failed: refusing all changes until restarted");
        fail_batch(batch);
    }
    pthread_mutex_lock(&e->mu);
    if (err == 0)
        publish(e);
    count(e, batch, n, wrote, gl_clock_mono() - t0, err);
    pthread_mutex_unlock(&e->mu);
    if (err == 0)
        announce_evidence(e);
    for (size_t k = 0; k < e->ndirty; k++)
        e->pend[e->dirty[k]].dirty = 0;
    e->ndirty = e->nnev = 0;
    while (batch != NULL) {
        struct wreq *next = batch->next;
        batch->done(batch, batch->arg);
        batch = next;
    }
}

/* The committer: first the evidence start-up found unannounced (before
 * any batch), then batches; while some evidence is unannounced, it is
 * retried every retry_ms, between batches. */
static void *committer(void *arg)
{
    struct engine *e = arg;
    uint64_t retry_at = 0;

    pthread_mutex_lock(&e->mu);
    for (;;) {
        struct wreq *batch, **tail;
        size_t n = 0;
        if (e->nredo > 0 && gl_clock_mono_ms() >= retry_at) {
            pthread_mutex_unlock(&e->mu);
            retry_unannounced(e);
            retry_at = gl_clock_mono_ms() + e->retry_ms;
            pthread_mutex_lock(&e->mu);
        }
        if (e->head == NULL && !e->stopping) {
            if (e->nredo > 0)
                (void)gl_clock_wait_until(&e->cv, &e->mu, retry_at);
            else
                pthread_cond_wait(&e->cv, &e->mu);
            continue;
        }
        if (e->head == NULL)
            break;
        batch = e->head;
        for (tail = &batch; *tail != NULL && n < ENGINE_BATCH_MAX; tail = &(*tail)->next)
            n++;
        e->head = *tail;
        if (e->head == NULL)
            e->tail = NULL;
        *tail = NULL;
        e->queued -= n;
        pthread_mutex_unlock(&e->mu);
        run_batch(e, batch, n);
        pthread_mutex_lock(&e->mu);
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

/* --- lifecycle and readers ------------------------------------------------------ */

static int engine_alloc(struct engine *e)
{
    size_t n = e->nlogs ? e->nlogs : 1;

    e->pub = calloc(n, sizeof(*e->pub));
    e->pend = calloc(n, sizeof(*e->pend));
    e->dirty = calloc(n, sizeof(*e->dirty));
    e->nev = calloc(ENGINE_BATCH_MAX, sizeof(*e->nev));
    e->ev = calloc(e->ev_cap, sizeof(*e->ev));
    e->redo = calloc(e->ev_cap, sizeof(*e->redo));
    if (!e->pub || !e->pend || !e->dirty || !e->nev || !e->ev || !e->redo)
        return GL_ENOMEM;
    for (size_t i = 0; i < e->nlogs; i++) {
        record_init(&e->pub[i]);
        record_init(&e->pend[i]);
    }
    for (size_t i = 0; i < ENGINE_BATCH_MAX; i++)
        gl_buf_init(&e->nev[i].file, GL_EVIDENCE_MAX_SIZE);
    gl_buf_init(&e->scratch, NOTE_MAX);
    return 0;
}

int engine_new(const struct engine_config *cfg, struct engine **out)
{
    struct engine *e = calloc(1, sizeof(*e));
    int err;

    if (e == NULL)
        return GL_ENOMEM;
    e->cfg = *cfg;
    e->key = *cfg->key;
    gl_signer_verifier(&e->key, &e->vkey);
    e->nlogs = cfg->logs->n;
    e->ev_load_max = cfg->evidence_max ? cfg->evidence_max : ENGINE_EVIDENCE_MAX;
    if (e->ev_load_max > ENGINE_EVIDENCE_MAX || e->nlogs > LOGS_MAX) {
        gl_signer_wipe(&e->key);
        free(e);
        return GL_EINVAL;
    }
    e->ev_cap = e->ev_load_max + e->nlogs; /* both capped: no overflow */
    e->retry_ms = cfg->retry_ms ? cfg->retry_ms : ENGINE_RETRY_MS;
    pthread_mutex_init(&e->mu, NULL);
    gl_clock_cond_init(&e->cv);
    if ((err = engine_alloc(e)) != 0 ||
        (err = wstore_scan_logs(cfg->store, load_log, e)) != 0 ||
        (err = wstore_scan_frozen(cfg->store, load_frozen, e)) != 0 ||
        (err = wstore_scan_evidence(cfg->store, load_evidence, e)) != 0)
        goto fail;
    for (size_t i = 0; i < e->nlogs; i++) {
        e->st.frozen += e->pub[i].v.frozen ? 1 : 0;
        if (clock_ahead(&e->pub[i].v, (uint64_t)time(NULL)))
            gl_log(GL_LOG_ERROR,
                   "%s: our latest cosignature is dated %llu, more than %d s in the "
                   "future: this log is not cosigned until the clock passes it",
                   cfg->logs->v[i].origin, (unsigned long long)e->pub[i].v.cosigned_at,
                   ENGINE_CLOCK_SLACK_S);
    }
    e->st.evidence = e->nev_total;
    if (pthread_create(&e->thread, NULL, committer, e) != 0) {
        err = GL_ENOMEM;
        goto fail;
    }
    e->started = 1;
    *out = e;
    return 0;
fail:
    engine_free(e);
    return err;
}

struct run_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
};

static void run_done(struct wreq *r, void *arg)
{
    struct run_wait *w = arg;

    (void)r;
    pthread_mutex_lock(&w->mu);
    w->done = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void engine_run(struct engine *e, struct wreq *r)
{
    struct run_wait w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};

    assert(r->done == NULL);
    r->done = run_done;
    r->arg = &w;
    engine_submit(e, r);
    pthread_mutex_lock(&w.mu);
    while (!w.done)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    r->done = NULL;
    r->arg = NULL;
}

void engine_submit(struct engine *e, struct wreq *r)
{
    r->next = NULL;
    r->status = 0;
    r->evidence_id[0] = 0;
    r->line_len = 0;
    pthread_mutex_lock(&e->mu);
    if (e->stopping) {
        pthread_mutex_unlock(&e->mu);
        r->status = 503;
        r->why = "the witness is stopping";
        r->done(r, r->arg);
        return;
    }
    if (e->tail != NULL)
        e->tail->next = r;
    else
        e->head = r;
    e->tail = r;
    e->queued++;
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
}

void engine_stop(struct engine *e)
{
    if (e == NULL || !e->started)
        return;
    pthread_mutex_lock(&e->mu);
    e->stopping = 1;
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
    pthread_join(e->thread, NULL);
    e->started = 0;
}

void engine_free(struct engine *e)
{
    if (e == NULL)
        return;
    engine_stop(e);
    for (size_t i = 0; e->pub != NULL && e->pend != NULL && i < e->nlogs; i++) {
        record_release(&e->pub[i]);
        record_release(&e->pend[i]);
    }
    for (size_t i = 0; e->nev != NULL && i < ENGINE_BATCH_MAX; i++)
        gl_buf_release(&e->nev[i].file);
    gl_buf_release(&e->scratch);
    free(e->pub);
    free(e->pend);
    free(e->dirty);
    free(e->nev);
    free(e->ev);
    free(e->redo);
    gl_signer_wipe(&e->key);
    pthread_mutex_destroy(&e->mu);
    pthread_cond_destroy(&e->cv);
    free(e);
}

int engine_view(struct engine *e, size_t log, struct engine_view *v, struct gl_buf *note)
{
    int err = 0;

    if (log >= e->nlogs)
        return GL_EINVAL;
    pthread_mutex_lock(&e->mu);
    *v = e->pub[log].v;
    if (note != NULL)
        err = gl_buf_append(note, e->pub[log].note.data, e->pub[log].note.len);
    pthread_mutex_unlock(&e->mu);
    return err != 0 ? err : v->has ? 0 : GL_ENOTFOUND;
}

size_t engine_evidence(struct engine *e, size_t from, struct engine_evidence *out,
                       size_t max, size_t *total)
{
    size_t n = 0;

    pthread_mutex_lock(&e->mu);
    for (size_t i = from; i < e->nev_total && n < max; i++)
        out[n++] = e->ev[i];
    if (total != NULL)
        *total = e->nev_total;
    pthread_mutex_unlock(&e->mu);
    return n;
}

int engine_has_evidence(struct engine *e, const char *id)
{
    int found = 0;

    pthread_mutex_lock(&e->mu);
    for (size_t i = 0; i < e->nev_total && !found; i++)
        found = strcmp(e->ev[i].id, id) == 0;
    pthread_mutex_unlock(&e->mu);
    return found;
}

void engine_stats(struct engine *e, struct engine_stats *st)
{
    uint64_t now = (uint64_t)time(NULL);

    pthread_mutex_lock(&e->mu);
    *st = e->st;
    st->queued = e->queued;
    st->clock_ahead = 0;
    for (size_t i = 0; i < e->nlogs; i++)
        st->clock_ahead += clock_ahead(&e->pub[i].v, now) ? 1 : 0;
    pthread_mutex_unlock(&e->mu);
}

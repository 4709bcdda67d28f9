/*
 * addck: add-checkpoint parsing and decisions; rules and order in addck.h.
 *
 * Invariant: addck_decide returns ADDCK_OK only if c is the first tree of
 * its log (from size 0, empty proof), or the stored tree itself, or a tree
 * the proof shows to extend the stored one; so a witness that applies only
 * OK verdicts, atomically with their durable record, never cosigns two
 * inconsistent trees.
 */
#include "addck.h"

#include <assert.h>
#include <string.h>

#include <openssl/crypto.h>

#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/merkle.h"
#include "text.h"

/* Finds "\n\n" in [p, end). */
static const char *find_blank(const char *p, const char *end)
{
    for (; p + 1 < end; p++)
        if (p[0] == '\n' && p[1] == '\n')
            return p;
    return NULL;
}

/* Parses the header (old line and proof lines) in s[0..n), which ends
 * with the "\n" before the blank line: 0, or GL_EPARSE with why (lines of
 * the body) saying how it is malformed. */
static int parse_header(const char *s, size_t n, struct addck_req *r, struct gl_err *why)
{
    struct gl_text t;
    const char *line;
    size_t len;

    gl_text_init(&t, s, n, 0);
    if (gl_text_line(&t, &line, &len) != 0 || len <= GL_LIT_LEN("old ") ||
        !gl_mem_prefix(line, len, "old ") ||
        gl_parse_u64(line + GL_LIT_LEN("old "), len - GL_LIT_LEN("old "), &r->old) != 0)
        return gl_err_set(why, GL_EPARSE, 1, "the first line must be \"old <size>\"");
    while (gl_text_line(&t, &line, &len) == 0) {
        if (r->nproof == ADDCK_MAX_PROOF)
            return gl_err_set(why, GL_EPARSE, t.line,
                              "more than %d consistency proof lines", ADDCK_MAX_PROOF);
        if (len != 44 ||
            gl_base64_decode_exact(line, len, r->proof[r->nproof], GL_HASH_LEN) != 0)
            return gl_err_set(why, GL_EPARSE, t.line,
                              "a consistency proof line is not one base64 hash");
        r->nproof++;
    }
    return 0;
}

int addck_parse(const uint8_t *body, size_t len, struct addck_req *out,
                struct gl_err *why)
{
    const char *s = (const char *)body, *end = s + len, *blank, *nl;

    memset(out, 0, sizeof(*out));
    if (len > ADDCK_BODY_MAX)
        return gl_err_set(why, GL_EPARSE, 0, "the body is larger than %zu KiB",
                          ADDCK_BODY_MAX >> 10);
    if ((blank = find_blank(s, end)) == NULL)
        return gl_err_set(why, GL_EPARSE, 0,
                          "no blank line between the header and the checkpoint");
    out->note = blank + 2;
    out->note_len = (size_t)(end - out->note);
    out->head_lines = gl_text_line_at(s, (size_t)(out->note - s)) - 1;
    nl = memchr(out->note, '\n', out->note_len);
    if (nl == NULL || nl == out->note)
        return gl_err_set(why, GL_EPARSE, out->head_lines + 1,
                          "no checkpoint origin line after the blank line");
    out->origin = out->note;
    out->origin_len = (size_t)(nl - out->note);
    out->malformed = parse_header(s, (size_t)(blank + 1 - s), out, &out->syntax) != 0;
    return 0;
}

/* The signature block of a note: the bytes after its last "\n\n" (the
 * signed-note rule), or NULL if it has none. */
static const char *sig_block(const char *note, size_t len)
{
    for (size_t i = len; i >= 2; i--)
        if (note[i - 2] == '\n' && note[i - 1] == '\n')
            return note + i;
    return NULL;
}

/* The lines of [s, s + n), a last line without "\n" included. */
static void sig_lines(struct gl_text *t, const char *s, size_t n)
{
    gl_text_init(t, s, n, GL_TEXT_OPEN_END);
}

/* Number of lines in [s, s + n) (a final line without "\n" counts). */
static size_t count_lines(const char *s, size_t n)
{
    struct gl_text t;
    const char *line;
    size_t len;

    sig_lines(&t, s, n);
    while (gl_text_line(&t, &line, &len) == 0)
        ;
    return t.line;
}

/* 1 if the signature line [s, s+n) names one of log's keys: "— " <name>
 * " " <base64>, the name equal to the key's and the key ID (the first four
 * bytes of the base64, decoded from its first 8 characters alone, so that
 * what follows may be malformed) equal to the key's ID. */
static int names_log_key(const char *s, size_t n, const struct logs_entry *log)
{
    static const char dash[] = "\xe2\x80\x94 ";
    const char *sp;
    uint8_t blob[6];
    size_t name_len, got;
    uint32_t id;

    if (n < 4 || memcmp(s, dash, 4) != 0 || (sp = memchr(s + 4, ' ', n - 4)) == NULL)
        return 0;
    name_len = (size_t)(sp - (s + 4));
    if ((size_t)(s + n - (sp + 1)) < 8 || gl_base64_decode(sp + 1, 8, blob, 6, &got) != 0)
        return 0;
    id = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 |
         blob[3];
    for (size_t i = 0; i < log->nkeys; i++)
        if (log->keys[i].id == id && strlen(log->keys[i].name) == name_len &&
            memcmp(log->keys[i].name, s + 4, name_len) == 0)
            return 1;
    return 0;
}

/* Why a note the strict parser refused (saying why in *why, lines of the
 * note) is refused: GL_EVERIFY (403) if one of its signature lines names
 * one of the log's keys but is malformed (a signature by a trusted key
 * that does not verify), GL_EPARSE (400) for any other malformation. */
static int refused_note(const char *note, size_t len, const struct logs_entry *log,
                        struct gl_err *why)
{
    const char *block = sig_block(note, len), *line;
    size_t before, n;
    struct gl_note_sig sig;
    struct gl_text t;

    if (block != NULL) {
        before = gl_text_line_at(note, (size_t)(block - note)) - 1;
        sig_lines(&t, block, (size_t)(note + len - block));
        while (gl_text_line(&t, &line, &n) == 0)
            if (names_log_key(line, n, log) &&
                gl_note_parse_sig(line, n, &sig, NULL) != 0)
                return gl_err_set(why, GL_EVERIFY, before + t.line,
                                  "a signature line by the log's key is malformed");
    }
    return gl_err_wrap(why, GL_EPARSE, 0,
                       "the checkpoint is not a well-formed signed note");
}

/* Fills kept from a verified note: its text and the signatures that
 * verified (flags from gl_note_verify: at most one per log key). */
static void keep(const char *msg, const struct gl_note *note, const uint8_t *verified,
                 struct addck_kept *kept)
{
    kept->text_len = note->text_len;
    kept->n = 0;
    for (size_t i = 0; i < note->nsigs && kept->n < LOGS_MAX_KEYS; i++) {
        if (verified[i] != 1)
            continue;
        kept->line[kept->n].off = (size_t)(note->sigs[i].line - msg);
        kept->line[kept->n].len = note->sigs[i].line_len;
        kept->n++;
    }
}

/* Verifies the note with the log's keys and parses its checkpoint, which
 * must be the log's. */
static int open_note(const struct gl_note *note, const struct logs_entry *log,
                     struct gl_checkpoint *c, uint8_t *verified, struct gl_err *why)
{
    int err = gl_note_verify(note, log->keys, log->nkeys, verified);

    if (err == GL_ENOKEY)
        return gl_err_set(why, err, 0, "no signature by the log's key");
    if (err == GL_EVERIFY)
        return gl_err_set(why, err, 0, "a bad signature by the log's key");
    if (err != 0)
        return gl_err_set(why, err, 0, "cannot verify the signatures: %s",
                          gl_strerror(err));
    if (gl_checkpoint_parse(note->text, note->text_len, c, why) != 0)
        return gl_err_wrap(why, GL_EPARSE, 0,
                           "the signed note is not a valid checkpoint");
    if (strcmp(c->origin, log->origin) != 0)
        return gl_err_set(why, GL_EPARSE, 1, "the checkpoint's origin is not the log's");
    return 0;
}

int addck_open(const struct addck_req *r, const struct logs_entry *log,
               struct gl_checkpoint *c, struct addck_kept *kept, struct gl_err *why)
{
    const char *block = sig_block(r->note, r->note_len);
    struct gl_note *note = NULL;
    uint8_t verified[GL_NOTE_MAX_SIGS];
    int err;

    if (block != NULL &&
        count_lines(block, (size_t)(r->note + r->note_len - block)) > GL_NOTE_MAX_SIGS)
        return gl_err_set(why, GL_EPARSE, 0,
                          "the note has more signature lines than a signed note may have "
                          "(%d)",
                          GL_NOTE_MAX_SIGS);
    if ((err = gl_note_parse(r->note, r->note_len, &note, why)) != 0)
        err = err == GL_ENOMEM ? err : refused_note(r->note, r->note_len, log, why);
    else if ((err = open_note(note, log, c, verified, why)) == 0)
        keep(r->note, note, verified, kept);
    gl_note_free(note);
    return err != 0 ? gl_err_wrap(why, err, r->head_lines, NULL) : 0;
}

int addck_record(const char *note, const struct addck_kept *kept, const char *extra,
                 size_t extra_len, struct gl_buf *out)
{
    int err = gl_buf_append(out, note, kept->text_len);

    if (err == 0)
        err = gl_buf_putc(out, '\n');
    for (size_t i = 0; err == 0 && i < kept->n; i++)
        err = gl_buf_append(out, note + kept->line[i].off, kept->line[i].len);
    if (err == 0 && extra_len > 0)
        err = gl_buf_append(out, extra, extra_len);
    return err;
}

int addck_record_open(const char *rec, size_t len, struct gl_checkpoint *c,
                      struct gl_note **n, struct gl_err *why)
{
    int err = gl_note_parse(rec, len, n, why);

    if (err == 0 &&
        (err = gl_checkpoint_parse((*n)->text, (*n)->text_len, c, why)) != 0) {
        gl_note_free(*n);
        *n = NULL;
    }
    return err;
}

enum addck_verdict addck_decide(const struct addck_state *st, uint64_t old,
                                const uint8_t (*proof)[GL_HASH_LEN], size_t nproof,
                                const struct gl_checkpoint *c, const char **why)
{
    uint8_t empty[GL_HASH_LEN];

    gl_merkle_empty_root(empty);
    if (old > c->size)
        return *why = "old size larger than the checkpoint size", ADDCK_BAD_REQUEST;
    if (st->frozen)
        return *why = "this witness proved a split view of this log and cosigns none of "
                      "its checkpoints any more (see /evidence)",
               ADDCK_FROZEN;
    if (old != (st->has ? st->size : 0))
        return *why = "old size differs from the witness's", ADDCK_CONFLICT;
    if (c->size == 0 && CRYPTO_memcmp(c->root, empty, GL_HASH_LEN) != 0)
        return *why = "a checkpoint of size 0 must have the empty tree's root",
               ADDCK_EMPTY_ROOT;
    if (old == 0 && nproof != 0)
        return *why = "the consistency proof from size 0 must be empty", ADDCK_BAD_PROOF;
    if (st->has && c->size == st->size) {
        if (CRYPTO_memcmp(c->root, st->root, GL_HASH_LEN) != 0)
            return *why =
                       "same size as the cosigned checkpoint but another root: a split "
                       "view (kept as evidence)",
                   ADDCK_SPLIT;
        if (nproof != 0)
            return *why = "the consistency proof between equal sizes must be empty",
                   ADDCK_BAD_PROOF;
        return ADDCK_OK;
    }
    assert(!st->frozen && old <= c->size);
    if (old == 0)
        return ADDCK_OK;
    if (gl_merkle_verify_consistency(old, c->size, st->root, c->root, proof, nproof) != 0)
        return *why = "the consistency proof does not verify", ADDCK_BAD_PROOF;
    return ADDCK_OK;
}

int addck_status(enum addck_verdict v)
{
    switch (v) {
    case ADDCK_OK:
        return 200;
    case ADDCK_BAD_REQUEST:
        return 400;
    case ADDCK_CONFLICT:
        return 409;
    default:
        return 422;
    }
}

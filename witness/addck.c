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

#include <string.h>

#include <openssl/crypto.h>

#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/merkle.h"

/* Finds "\n\n" in [p, end). */
static const char *find_blank(const char *p, const char *end)
{
    for (; p + 1 < end; p++)
        if (p[0] == '\n' && p[1] == '\n')
            return p;
    return NULL;
}

/* Parses the header (old line and proof lines) in [s, end), which ends
 * just before the blank line. Returns NULL or why it is malformed. */
static const char *parse_header(const char *s, const char *end, struct addck_req *r)
{
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);

    if (len < 5 || memcmp(s, "old ", 4) != 0 ||
        gl_parse_u64(s + 4, len - 4, &r->old) != 0)
        return "the first line must be \"old <size>\"";
    s += len + 1;
    while (s < end) {
        nl = memchr(s, '\n', (size_t)(end - s));
        len = nl ? (size_t)(nl - s) : (size_t)(end - s);
        if (r->nproof == ADDCK_MAX_PROOF)
            return "more than 63 consistency proof lines";
        if (len != 44 || gl_base64_decode_exact(s, len, r->proof[r->nproof], 32) != 0)
            return "a consistency proof line is not one base64 hash";
        r->nproof++;
        s += len + 1;
    }
    return NULL;
}

int addck_parse(const uint8_t *body, size_t len, struct addck_req *out, const char **why)
{
    const char *s = (const char *)body, *end = s + len, *blank, *nl;

    memset(out, 0, sizeof(*out));
    if (len > ADDCK_BODY_MAX) {
        *why = "the body is larger than 64 KiB";
        return GL_EPARSE;
    }
    if ((blank = find_blank(s, end)) == NULL) {
        *why = "no blank line between the header and the checkpoint";
        return GL_EPARSE;
    }
    out->note = blank + 2;
    out->note_len = (size_t)(end - out->note);
    nl = memchr(out->note, '\n', out->note_len);
    if (nl == NULL || nl == out->note) {
        *why = "no checkpoint origin line after the blank line";
        return GL_EPARSE;
    }
    out->origin = out->note;
    out->origin_len = (size_t)(nl - out->note);
    out->syntax = parse_header(s, blank + 1, out);
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

/* Number of lines in [s, end) (a final line without "\n" counts). */
static size_t count_lines(const char *s, const char *end)
{
    size_t n = 0;

    for (const char *p = s; p < end; p++)
        n += *p == '\n';
    return n + (s < end && end[-1] != '\n');
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
    id = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 | blob[3];
    for (size_t i = 0; i < log->nkeys; i++)
        if (log->keys[i].id == id && strlen(log->keys[i].name) == name_len &&
            memcmp(log->keys[i].name, s + 4, name_len) == 0)
            return 1;
    return 0;
}

/* Why a note the strict parser refused is refused: GL_EVERIFY (403) if one
 * of its signature lines names one of the log's keys but is malformed (a
 * signature by a trusted key that does not verify), GL_EPARSE (400) for
 * any other malformation. */
static int refused_note(const char *note, size_t len, const struct logs_entry *log,
                        const char **why)
{
    const char *s = sig_block(note, len), *end = note + len;
    struct gl_note_sig sig;

    while (s != NULL && s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
        if (names_log_key(s, n, log) && gl_note_parse_sig(s, n, &sig) != 0) {
            *why = "a signature line by the log's key is malformed";
            return GL_EVERIFY;
        }
        s += n + 1;
    }
    *why = "the checkpoint is not a well-formed signed note";
    return GL_EPARSE;
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

int addck_open(const struct addck_req *r, const struct logs_entry *log,
               struct gl_checkpoint *c, struct addck_kept *kept, const char **why)
{
    const char *block = sig_block(r->note, r->note_len);
    struct gl_note *note = NULL;
    uint8_t verified[GL_NOTE_MAX_SIGS];
    int err;

    if (block != NULL && count_lines(block, r->note + r->note_len) > GL_NOTE_MAX_SIGS) {
        *why = "the note has more signature lines than a signed note may have (100)";
        return GL_EPARSE;
    }
    if ((err = gl_note_parse(r->note, r->note_len, &note)) != 0)
        return err == GL_ENOMEM ? err : refused_note(r->note, r->note_len, log, why);
    err = gl_note_verify(note, log->keys, log->nkeys, verified);
    if (err == GL_ENOKEY || err == GL_EVERIFY) {
        *why = err == GL_ENOKEY ? "no signature by the log's key"
                                : "a bad signature by the log's key";
    } else if (err == 0 && (gl_checkpoint_parse(note->text, note->text_len, c) != 0 ||
                            strcmp(c->origin, log->origin) != 0)) {
        *why = "the signed note is not a valid checkpoint";
        err = GL_EPARSE;
    } else if (err == 0) {
        keep(r->note, note, verified, kept);
    }
    gl_note_free(note);
    return err;
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
                      struct gl_note **n)
{
    int err = gl_note_parse(rec, len, n);

    if (err == 0 && (err = gl_checkpoint_parse((*n)->text, (*n)->text_len, c)) != 0) {
        gl_note_free(*n);
        *n = NULL;
    }
    return err;
}

enum addck_verdict addck_decide(const struct addck_state *st, uint64_t old,
                                const uint8_t (*proof)[32], size_t nproof,
                                const struct gl_checkpoint *c, const char **why)
{
    uint8_t empty[32];

    gl_merkle_empty_root(empty);
    if (old > c->size)
        return *why = "old size larger than the checkpoint size", ADDCK_BAD_REQUEST;
    if (st->frozen)
        return *why = "this witness proved a split view of this log and cosigns none of "
                      "its checkpoints any more (see /evidence)",
               ADDCK_FROZEN;
    if (old != (st->has ? st->size : 0))
        return *why = "old size differs from the witness's", ADDCK_CONFLICT;
    if (c->size == 0 && CRYPTO_memcmp(c->root, empty, 32) != 0)
        return *why = "a checkpoint of size 0 must have the empty tree's root",
               ADDCK_EMPTY_ROOT;
    if (old == 0 && nproof != 0)
        return *why = "the consistency proof from size 0 must be empty", ADDCK_BAD_PROOF;
    if (st->has && c->size == st->size) {
        if (CRYPTO_memcmp(c->root, st->root, 32) != 0)
            return *why =
                       "same size as the cosigned checkpoint but another root: a split "
                       "view (kept as evidence)",
                   ADDCK_SPLIT;
        if (nproof != 0)
            return *why = "the consistency proof between equal sizes must be empty",
                   ADDCK_BAD_PROOF;
        return ADDCK_OK;
    }
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

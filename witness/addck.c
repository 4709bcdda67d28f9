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
    const char *s = (const char *)body, *end = s + len, *blank, *nl, *sep;

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
    sep = find_blank(out->note, end);
    out->text_len = sep ? (size_t)(sep + 1 - out->note) : 0;
    out->syntax = parse_header(s, blank + 1, out);
    return 0;
}

int addck_open(const struct addck_req *r, const struct logs_entry *log,
               struct gl_checkpoint *c, const char **why)
{
    struct gl_note *note = NULL;
    int err = gl_note_parse(r->note, r->note_len, &note);

    if (err != 0) {
        *why = "the checkpoint is not a well-formed signed note";
        return err == GL_ENOMEM ? err : GL_EPARSE;
    }
    err = gl_note_verify(note, log->keys, log->nkeys, NULL);
    if (err == GL_ENOKEY || err == GL_EVERIFY) {
        *why = err == GL_ENOKEY ? "no signature by the log's key"
                                : "a bad signature by the log's key";
    } else if (err == 0 && (gl_checkpoint_parse(note->text, note->text_len, c) != 0 ||
                            strcmp(c->origin, log->origin) != 0)) {
        *why = "the signed note is not a valid checkpoint";
        err = GL_EPARSE;
    }
    gl_note_free(note);
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

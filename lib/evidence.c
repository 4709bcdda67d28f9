/*
 * evidence: split-view evidence files; format and meaning in evidence.h and
 * specs/evidence.md.
 *
 * Design: parsing only finds the pieces (header line, proof lines, the two
 * notes) with hard caps; every judgement is made by gl_evidence_verify,
 * which opens both notes with the log's keys, requires one origin, orders
 * the checkpoints (size, then root) and then decides:
 *   equal sizes      empty proof; different roots prove SAME_SIZE
 *   size 0 and more  never a split view (the empty tree prefixes all)
 *   0 < m < n        the full proof must reproduce the larger signed root;
 *                    then a size-m root other than the signed one proves
 *                    NOT_PREFIX, the same root proves consistency.
 * A proof that does not reproduce the larger root proves nothing at all
 * (anyone can write random hashes), so it is "invalid", never "split".
 *
 * Invariants: gl_evidence_build emits only files that gl_evidence_verify
 * accepts as proof of a split view; a file's bytes are canonical for its
 * pair of checkpoints (order fixed, foreign signature lines dropped, the
 * log's signature lines sorted and re-encoded in canonical base64), so
 * its ID (the SHA-256 of those bytes) names the pair, however the notes it
 * was built from were encoded or ordered. (A party that received fewer of
 * the log's lines, during a rotation, writes fewer: that cannot be undone.)
 */
#include "glasslog/evidence.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/note.h"
#include "glasslog/sha256.h"
#include "text.h"

#define HLEN GL_HASH_LEN
#define B64_HASH_LEN 44

/* --- parsing -------------------------------------------------------------- */

/* Finds "\n\n" in [p, end); NULL if none. */
static const char *find_blank(const char *p, const char *end)
{
    for (; p + 1 < end; p++)
        if (p[0] == '\n' && p[1] == '\n')
            return p;
    return NULL;
}

/* Reads the magic line and the proof lines up to the empty line. */
static int parse_proof(struct gl_text *t, struct gl_evidence *out, struct gl_err *why)
{
    const char *line;
    size_t len;
    int err;

    if (gl_text_line(t, &line, &len) != 0 || len != strlen(GL_EVIDENCE_MAGIC) ||
        memcmp(line, GL_EVIDENCE_MAGIC, len) != 0)
        return gl_err_set(why, GL_EPARSE, 1, "the first line is not " GL_EVIDENCE_MAGIC);
    out->nproof = 0;
    while ((err = gl_text_line(t, &line, &len)) == 0 && len != 0) {
        if (len != B64_HASH_LEN)
            return gl_err_set(why, GL_EPARSE, t->line,
                              "a proof line is not one base64 hash");
        if (out->nproof == GL_EVIDENCE_MAX_PROOF)
            return gl_err_set(why, GL_ETOOBIG, t->line, "more than %d proof lines",
                              GL_EVIDENCE_MAX_PROOF);
        if (gl_base64_decode_exact(line, B64_HASH_LEN, out->proof[out->nproof], HLEN) !=
            0)
            return gl_err_set(why, GL_EPARSE, t->line,
                              "a proof line is not one base64 hash");
        out->nproof++;
    }
    if (err != 0)
        return gl_text_missing(t, err, "empty line after the proof", why);
    return 0;
}

int gl_evidence_parse(const char *msg, size_t len, struct gl_evidence *out,
                      struct gl_err *why)
{
    const char *p, *end = msg + len, *t1, *e1, *t2;
    struct gl_text t;
    int err;

    if (len > GL_EVIDENCE_MAX_SIZE)
        return gl_err_set(why, GL_ETOOBIG, 0, "evidence file larger than %zu bytes",
                          GL_EVIDENCE_MAX_SIZE);
    gl_text_init(&t, msg, len, 0);
    if ((err = parse_proof(&t, out, why)) != 0)
        return err;
    p = msg + t.pos;
    /* note 1: text, blank line, signature lines, blank line */
    if ((t1 = find_blank(p, end)) == NULL || t1 == p ||
        (e1 = find_blank(t1 + 2, end)) == NULL)
        return gl_err_set(why, GL_EPARSE, t.line + 1,
                          "the first checkpoint note is not followed by an empty line");
    out->note[0] = p;
    out->note_len[0] = (size_t)(e1 + 1 - p);
    /* note 2: the rest, with exactly one blank line and a final "\n" */
    p = e1 + 2;
    if ((t2 = find_blank(p, end)) == NULL || t2 == p || find_blank(t2 + 2, end) != NULL ||
        end[-1] != '\n')
        return gl_err_set(why, GL_EPARSE, gl_text_line_at(msg, (size_t)(p - msg)),
                          "the second checkpoint is not one signed note ending the file");
    out->note[1] = p;
    out->note_len[1] = (size_t)(end - p);
    return 0;
}

/* --- the Merkle part ------------------------------------------------------ */

static int is_pow2(uint64_t m)
{
    return m != 0 && (m & (m - 1)) == 0;
}

static int full_len(uint64_t m, uint64_t n, size_t *want)
{
    int err;

    if (m == 0 || m >= n || n > GL_MERKLE_MAX_SIZE)
        return GL_ERANGE;
    if ((err = gl_merkle_consistency_len(m, n, want)) != 0)
        return err;
    *want += is_pow2(m) ? 1 : 0;
    return 0;
}

int gl_evidence_roots(uint64_t m, uint64_t n, const uint8_t (*proof)[GL_HASH_LEN],
                      size_t len, uint8_t root_m[GL_HASH_LEN],
                      uint8_t root_n[GL_HASH_LEN])
{
    uint8_t fr[HLEN], sr[HLEN];
    uint64_t fn = m - 1, sn = n - 1;
    size_t want;
    int err;

    if ((err = full_len(m, n, &want)) != 0)
        return err;
    if (len != want || len == 0)
        return GL_EVERIFY;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    memcpy(fr, proof[0], HLEN);
    memcpy(sr, proof[0], HLEN);
    for (size_t i = 1; i < len; i++) {
        if (sn == 0)
            return GL_EVERIFY;
        if ((fn & 1) || fn == sn) {
            if ((err = gl_sha256_3(0x01, proof[i], HLEN, fr, HLEN, fr)) != 0 ||
                (err = gl_sha256_3(0x01, proof[i], HLEN, sr, HLEN, sr)) != 0)
                return err;
            while ((fn & 1) == 0 && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else if ((err = gl_sha256_3(0x01, sr, HLEN, proof[i], HLEN, sr)) != 0) {
            return err;
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return GL_EVERIFY;
    memcpy(root_m, fr, HLEN);
    memcpy(root_n, sr, HLEN);
    return 0;
}

int gl_evidence_full_proof(uint64_t m, uint64_t n, const uint8_t root_m[GL_HASH_LEN],
                           const uint8_t (*proof)[GL_HASH_LEN], size_t len,
                           uint8_t (*full)[GL_HASH_LEN], size_t *nfull)
{
    size_t want, k = 0;
    int err;

    if ((err = full_len(m, n, &want)) != 0)
        return err;
    if (len + (is_pow2(m) ? 1 : 0) != want)
        return GL_EVERIFY;
    if (is_pow2(m))
        memcpy(full[k++], root_m, HLEN);
    memcpy(full[k], proof, len * HLEN);
    *nfull = want;
    return 0;
}

int gl_evidence_id(const char *msg, size_t len, char hex[GL_HASH_HEX_LEN + 1])
{
    uint8_t h[HLEN];
    int err = gl_sha256(msg, len, h);

    return err != 0 ? err : gl_hex_encode(h, HLEN, hex, 2 * HLEN + 1);
}

/* --- verification ---------------------------------------------------------- */

/* One signed checkpoint, opened. */
struct opened {
    struct gl_note *note;
    struct gl_checkpoint c;
    uint8_t verified[GL_NOTE_MAX_SIGS];
};

static void opened_release(struct opened *o)
{
    gl_note_free(o->note);
    o->note = NULL;
}

/* Opens note i (len bytes, starting after `before` lines of the file):
 * parse, verify with keys, parse the text. */
static int open_note(const char *msg, size_t len, size_t before,
                     const struct gl_verifier *keys, size_t nkeys, struct opened *o,
                     const char *which, struct gl_evidence_result *r)
{
    char prefix[64];
    int err;

    memset(o, 0, sizeof(*o));
    snprintf(prefix, sizeof(prefix), "the %s checkpoint", which);
    if ((err = gl_note_parse(msg, len, &o->note, &r->why)) != 0)
        return gl_err_wrap(&r->why, err == GL_ENOMEM ? err : GL_EVERIFY, before, prefix);
    err = gl_note_verify(o->note, keys, nkeys, o->verified);
    if (err == GL_ENOKEY || err == GL_EVERIFY) {
        err = gl_err_set(&r->why, GL_EVERIFY, 0,
                         err == GL_ENOKEY
                             ? "the %s checkpoint carries no signature by the log key"
                             : "the %s checkpoint has a bad signature by the log key",
                         which);
    } else if (err == 0 && gl_checkpoint_parse(o->note->text, o->note->text_len, &o->c,
                                               &r->why) != 0) {
        err = gl_err_wrap(&r->why, GL_EVERIFY, before, prefix);
    } else if (err != 0) {
        gl_err_set(&r->why, err, 0, "cannot verify the %s checkpoint: %s", which,
                   gl_strerror(err));
    }
    if (err != 0)
        opened_release(o);
    return err;
}

/* Sets r->signer to the name of the keys whose signatures on o[0] and
 * o[1] verified, r->key_id[k] to the key ID of the first on o[k];
 * GL_EVERIFY if they are not all of one name. */
static int one_signer(const struct opened *o, struct gl_evidence_result *r)
{
    const struct gl_note_sig *first = NULL;

    for (int k = 0; k < 2; k++)
        for (size_t i = 0, seen = 0; i < o[k].note->nsigs; i++) {
            const struct gl_note_sig *s = &o[k].note->sigs[i];
            if (o[k].verified[i] != 1)
                continue;
            if (!seen++)
                r->key_id[k] = s->id;
            if (first == NULL)
                first = s;
            else if (s->name_len != first->name_len ||
                     memcmp(s->name, first->name, s->name_len) != 0)
                return gl_err_set(&r->why, GL_EVERIFY, 0,
                                  "the checkpoints are signed by keys of different names "
                                  "(%.*s, %.*s): not one log's",
                                  (int)first->name_len, first->name, (int)s->name_len,
                                  s->name);
        }
    assert(first != NULL && first->name_len <= GL_KEY_NAME_MAX);
    snprintf(r->signer, sizeof(r->signer), "%.*s", (int)first->name_len, first->name);
    return 0;
}

/* 1 if a signature on o by key's name and ID verified. */
static int signed_by(const struct opened *o, const struct gl_verifier *key)
{
    for (size_t i = 0; i < o->note->nsigs; i++) {
        const struct gl_note_sig *s = &o->note->sigs[i];
        if (o->verified[i] == 1 && key->type == GL_KEY_NOTE && s->id == key->id &&
            s->name_len == strlen(key->name) &&
            memcmp(s->name, key->name, s->name_len) == 0)
            return 1;
    }
    return 0;
}

/* Sets r->one_key and r->key: the first of keys whose signatures verified
 * on both notes. gl_note_verify checks a signature with the first key of
 * its name and ID (a later key of both, another public key, makes it
 * fail), so that key is the one that verified it: no more crypto here. */
static void one_key(const struct opened *o, const struct gl_verifier *keys, size_t nkeys,
                    struct gl_evidence_result *r)
{
    for (size_t k = 0; k < nkeys && !r->one_key; k++)
        if (signed_by(&o[0], &keys[k]) && signed_by(&o[1], &keys[k])) {
            r->one_key = 1;
            r->key = k;
        }
}

/* 1 if a sorts before b: smaller size, then smaller root. */
static int sorts_before(const struct gl_checkpoint *a, const struct gl_checkpoint *b)
{
    if (a->size != b->size)
        return a->size < b->size;
    return memcmp(a->root, b->root, HLEN) < 0;
}

/* Equal sizes: different roots are a split view. */
static int judge_same_size(const struct gl_evidence *e, struct gl_evidence_result *r)
{
    if (e->nproof != 0) {
        return gl_err_set(&r->why, GL_EVERIFY, 0,
                          "two checkpoints of one size need an empty proof");
    }
    if (CRYPTO_memcmp(r->root[0], r->root[1], HLEN) == 0) {
        r->consistent = 1;
        return gl_err_set(&r->why, GL_EVERIFY, 0,
                          "the two checkpoints describe the same tree: no split view");
    }
    r->kind = GL_EVIDENCE_SAME_SIZE;
    return gl_err_set(&r->why, 0, 0,
                      "the log signed two different trees of size %llu: a split view",
                      (unsigned long long)r->size[0]);
}

/* Different sizes: the full proof decides. */
static int judge_sizes(const struct gl_evidence *e, struct gl_evidence_result *r)
{
    uint8_t root_n[HLEN], empty[HLEN];
    int err;

    if (r->size[0] == 0) {
        gl_merkle_empty_root(empty);
        r->consistent = CRYPTO_memcmp(r->root[0], empty, HLEN) == 0 && e->nproof == 0;
        return gl_err_set(&r->why, GL_EVERIFY, 0, "%s",
                          r->consistent
                              ? "the empty tree is a prefix of every tree: no split view"
                              : "a size-0 checkpoint needs the empty root and no proof");
    }
    err = gl_evidence_roots(r->size[0], r->size[1], (const uint8_t(*)[HLEN])e->proof,
                            e->nproof, r->implied, root_n);
    if (err == GL_EVERIFY || err == GL_ERANGE)
        return gl_err_set(&r->why, GL_EVERIFY, 0,
                          "the proof does not have the length of a full consistency "
                          "proof between the two sizes");
    if (err != 0)
        return gl_err_set(&r->why, err, 0, "cannot run the proof: %s", gl_strerror(err));
    if (CRYPTO_memcmp(root_n, r->root[1], HLEN) != 0)
        return gl_err_set(&r->why, GL_EVERIFY, 0,
                          "the proof does not reproduce the larger checkpoint's root, so "
                          "it proves nothing about the log");
    if (CRYPTO_memcmp(r->implied, r->root[0], HLEN) == 0) {
        r->consistent = 1;
        return gl_err_set(
            &r->why, GL_EVERIFY, 0,
            "the smaller tree is a prefix of the larger one: no split view");
    }
    r->kind = GL_EVIDENCE_NOT_PREFIX;
    return gl_err_set(
        &r->why, 0, 0,
        "the first %llu entries of the signed tree of size %llu do not have "
        "the root the log signed for size %llu: a split view",
        (unsigned long long)r->size[0], (unsigned long long)r->size[1],
        (unsigned long long)r->size[0]);
}

int gl_evidence_verify(const struct gl_evidence *e, const struct gl_verifier *keys,
                       size_t nkeys, struct gl_evidence_result *r)
{
    struct opened *o = calloc(2, sizeof(*o));
    int err;

    size_t before[2];

    memset(r, 0, sizeof(*r));
    if (o == NULL)
        return gl_err_set(&r->why, GL_ENOMEM, 0, "out of memory");
    if (keys == NULL || nkeys == 0) {
        free(o);
        return gl_err_set(&r->why, GL_EINVAL, 0, "no log key");
    }
    /* The magic line, the proof lines and the empty line come first; an
     * empty line separates the notes. */
    before[0] = e->nproof + 2;
    before[1] = before[0] + gl_text_line_at(e->note[0], e->note_len[0]);
    if ((err = open_note(e->note[0], e->note_len[0], before[0], keys, nkeys, &o[0],
                         "first", r)) != 0 ||
        (err = open_note(e->note[1], e->note_len[1], before[1], keys, nkeys, &o[1],
                         "second", r)) != 0)
        goto out;
    if (strcmp(o[0].c.origin, o[1].c.origin) != 0) {
        err = gl_err_set(&r->why, GL_EVERIFY, 0,
                         "the two checkpoints have different origins");
        goto out;
    }
    if ((err = one_signer(o, r)) != 0)
        goto out;
    one_key(o, keys, nkeys, r);
    if (sorts_before(&o[1].c, &o[0].c)) { /* one pair, one file, one ID */
        err = gl_err_set(&r->why, GL_EVERIFY, 0,
                         "the checkpoints are out of order (the smaller size first; "
                         "for one size, the smaller root)");
        goto out;
    }
    snprintf(r->origin, sizeof(r->origin), "%s", o[0].c.origin);
    for (int i = 0; i < 2; i++) {
        r->size[i] = o[i].c.size;
        memcpy(r->root[i], o[i].c.root, HLEN);
    }
    err = r->size[0] == r->size[1] ? judge_same_size(e, r) : judge_sizes(e, r);
out:
    opened_release(&o[0]);
    opened_release(&o[1]);
    free(o);
    return err;
}

/* --- building --------------------------------------------------------------- */

/* Appends signature s (verified, so by a known key: a valid key name and
 * a signature kept whole) re-encoded: canonical base64, whatever unused
 * bits the line it came from had set. */
static int append_sig(const struct gl_note_sig *s, struct gl_buf *out)
{
    char name[GL_KEY_NAME_MAX + 1];

    if (s->name_len >= sizeof(name) || s->sig_len > GL_NOTE_SIG_MAX)
        return GL_EINVAL; /* cannot happen for a verified signature */
    memcpy(name, s->name, s->name_len);
    name[s->name_len] = 0;
    return gl_note_format_sig(name, s->id, s->sig, s->sig_len, out);
}

/* 1 if signature a sorts before b: by key name (bytes), then key ID. */
static int sig_before(const struct gl_note_sig *a, const struct gl_note_sig *b)
{
    size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
    int c = memcmp(a->name, b->name, n);

    if (c != 0)
        return c < 0;
    if (a->name_len != b->name_len)
        return a->name_len < b->name_len;
    return a->id < b->id;
}

/* Appends o's text, the blank line and its log-key signature lines,
 * sorted (sig_before) whatever their order in the note, so that the
 * order a party received them in (lines are not signed) changes no byte.
 * A selection pass per line: a note has at most GL_NOTE_MAX_SIGS. */
static int append_stripped(const struct opened *o, struct gl_buf *out)
{
    const struct gl_note_sig *last = NULL, *next;
    int err = gl_buf_append(out, o->note->text, o->note->text_len);

    if (err == 0)
        err = gl_buf_putc(out, '\n');
    while (err == 0) {
        next = NULL;
        for (size_t i = 0; i < o->note->nsigs; i++) {
            const struct gl_note_sig *s = &o->note->sigs[i];
            if (o->verified[i] == 1 && (last == NULL || sig_before(last, s)) &&
                (next == NULL || sig_before(s, next)))
                next = s;
        }
        if (next == NULL)
            break;
        err = append_sig(next, out);
        last = next;
    }
    return err;
}

static int format_file(const struct opened *o, const uint8_t (*proof)[HLEN],
                       size_t nproof, struct gl_buf *b)
{
    char line[B64_HASH_LEN + 1];
    int first = sorts_before(&o[1].c, &o[0].c) ? 1 : 0;
    int err = gl_buf_append_str(b, GL_EVIDENCE_MAGIC "\n");

    for (size_t i = 0; err == 0 && i < nproof; i++) {
        if ((err = gl_base64_encode(proof[i], HLEN, line, sizeof(line))) == 0 &&
            (err = gl_buf_append(b, line, B64_HASH_LEN)) == 0)
            err = gl_buf_putc(b, '\n');
    }
    if (err == 0 && (err = gl_buf_putc(b, '\n')) == 0 &&
        (err = append_stripped(&o[first], b)) == 0 && (err = gl_buf_putc(b, '\n')) == 0)
        err = append_stripped(&o[first ^ 1], b);
    return err;
}

int gl_evidence_build(const struct gl_verifier *keys, size_t nkeys, const char *note1,
                      size_t len1, const char *note2, size_t len2,
                      const uint8_t (*proof)[GL_HASH_LEN], size_t nproof,
                      struct gl_buf *out, struct gl_evidence_result *res)
{
    struct opened *o = calloc(2, sizeof(*o));
    struct gl_evidence *e = calloc(1, sizeof(*e));
    struct gl_evidence_result *own = res == NULL ? calloc(1, sizeof(*own)) : NULL,
                              *r = res != NULL ? res : own;
    struct gl_buf b;
    int err;

    gl_buf_init(&b, GL_EVIDENCE_MAX_SIZE);
    if (o == NULL || e == NULL || r == NULL) {
        err = GL_ENOMEM;
        goto out;
    }
    if (nproof > GL_EVIDENCE_MAX_PROOF) {
        err = GL_ETOOBIG;
        goto out;
    }
    if ((err = open_note(note1, len1, 0, keys, nkeys, &o[0], "first", r)) != 0 ||
        (err = open_note(note2, len2, 0, keys, nkeys, &o[1], "second", r)) != 0 ||
        (err = format_file(o, proof, nproof, &b)) != 0 ||
        (err = gl_evidence_parse((const char *)b.data, b.len, e, NULL)) != 0)
        goto out;
    if ((err = gl_evidence_verify(e, keys, nkeys, r)) == 0)
        err = gl_buf_append(out, b.data, b.len);
out:
    if (o != NULL) {
        opened_release(&o[0]);
        opened_release(&o[1]);
    }
    gl_buf_release(&b);
    free(o);
    free(e);
    free(own);
    return err;
}

/*
 * cosig: tlog-cosignature v1 (Ed25519, type 0x04) signing and checking.
 *
 * Design: the signed message "cosignature/v1\ntime <T>\n" || text is built
 * in a bounded private buffer (text is capped at GL_CHECKPOINT_TEXT_MAX,
 * cosignatures only ever cover checkpoints). A signature line is matched to
 * a witness by name AND key ID before any crypto; only then are its length
 * (exactly 72 payload bytes), timestamp range and Ed25519 signature
 * checked. Signature lines themselves are produced and parsed by note.c,
 * so both kinds of line share one syntax.
 *
 * Invariants: GL_KEY_NOTE keys never sign or verify here; a timestamp above
 * 2^63 - 1 is never signed nor accepted; gl_cosig_append never emits a note
 * gl_note_parse would refuse, nor one whose text differs from msg's.
 * Nothing here holds secrets beyond the caller's gl_signer (the seed is
 * used in place, never copied).
 */
#include "glasslog/cosig.h"

#include <string.h>

#include "glasslog/checkpoint.h"
#include "glasslog/error.h"

#define COSIG_HEADER "cosignature/v1\ntime "
#define COSIG_MSG_MAX (GL_CHECKPOINT_TEXT_MAX + 64)

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* Builds the signed message into msg (initialised here; the caller
 * releases it, also on error). */
static int cosig_message(const char *text, size_t n, uint64_t timestamp,
                         struct gl_buf *msg)
{
    int err;

    gl_buf_init(msg, COSIG_MSG_MAX);
    if (n > GL_CHECKPOINT_TEXT_MAX)
        return GL_ETOOBIG;
    if ((err = gl_buf_append_str(msg, COSIG_HEADER)) != 0 ||
        (err = gl_buf_append_u64(msg, timestamp)) != 0 ||
        (err = gl_buf_putc(msg, '\n')) != 0)
        return err;
    return gl_buf_append(msg, text, n);
}

int gl_cosig_sign(const struct gl_signer *k, const char *text, size_t n,
                  uint64_t timestamp, struct gl_buf *out)
{
    uint8_t payload[GL_COSIG_SIG_LEN];
    struct gl_checkpoint c;
    struct gl_buf msg;
    int err;

    if (k == NULL || text == NULL || out == NULL)
        return GL_EINVAL;
    if (k->type != GL_KEY_COSIG)
        return GL_EKEYTYPE;
    if (timestamp > GL_COSIG_TIME_MAX)
        return GL_ERANGE;
    if ((err = gl_checkpoint_parse(text, n, &c, NULL)) != 0)
        return err;
    if ((err = cosig_message(text, n, timestamp, &msg)) != 0)
        goto out;
    put_be64(payload, timestamp);
    if ((err = gl_ed25519_sign(k->seed, msg.data, msg.len, payload + 8)) != 0)
        goto out;
    err = gl_note_format_sig(k->name, k->id, payload, sizeof(payload), out);
out:
    gl_buf_release(&msg);
    return err;
}

/* 1 if the line carries w's name and key ID. */
static int sig_is_by(const struct gl_verifier *w, const struct gl_note_sig *sig)
{
    size_t nlen = strlen(w->name);

    return sig->id == w->id && sig->name_len == nlen &&
           memcmp(sig->name, w->name, nlen) == 0;
}

int gl_cosig_time(const struct gl_note_sig *sig, uint64_t *timestamp)
{
    uint64_t t;

    if (sig->sig_len != GL_COSIG_SIG_LEN)
        return GL_EVERIFY;
    if ((t = get_be64(sig->sig)) > GL_COSIG_TIME_MAX)
        return GL_EVERIFY;
    *timestamp = t;
    return 0;
}

int gl_cosig_verify(const struct gl_verifier *w, const char *text, size_t n,
                    const struct gl_note_sig *sig, uint64_t *timestamp)
{
    struct gl_buf msg;
    uint64_t t;
    int err;

    if (w == NULL || text == NULL || sig == NULL)
        return GL_EINVAL;
    if (w->type != GL_KEY_COSIG)
        return GL_EKEYTYPE;
    if (!sig_is_by(w, sig))
        return GL_ENOKEY;
    if (gl_cosig_time(sig, &t) != 0)
        return GL_EVERIFY;
    if ((err = cosig_message(text, n, t, &msg)) != 0)
        goto out;
    if ((err = gl_ed25519_verify(w->pub, msg.data, msg.len, sig->sig + 8)) != 0)
        goto out;
    if (timestamp != NULL)
        *timestamp = t;
out:
    gl_buf_release(&msg);
    return err;
}

int gl_cosig_dated_ahead(uint64_t ts, uint64_t now)
{
    return now != 0 && ts > now && ts - now > GL_COSIG_FUTURE_SLACK;
}

/* Fills one witness's status from all lines of the note. Only
 * memory/crypto failures are returned; verdicts go to *st. */

static int check_witness(const struct gl_note *note, const struct gl_verifier *w,
                         struct gl_cosig_status *st)
{
    uint64_t t;
    int err;

    st->status = GL_ENOKEY;
    st->timestamp = 0;
    st->sig = 0;
    /* The witness's first line decides; later lines by its key are
     * ignored, as Go's note verifier drops repeated signatures by one key:
     * a note costs at most one check per witness, however many lines a
     * sender repeats. */
    for (size_t j = 0; j < note->nsigs; j++) {
        err = gl_cosig_verify(w, note->text, note->text_len, &note->sigs[j], &t);
        if (err == GL_ENOKEY)
            continue;
        if (err == GL_EVERIFY || err == GL_ETOOBIG) {
            st->status = GL_EVERIFY;
            return 0;
        }
        if (err != 0)
            return err;
        st->status = 0;
        st->timestamp = t;
        st->sig = j;
        return 0;
    }
    return 0;
}

int gl_cosig_verify_note(const struct gl_note *note, const struct gl_verifier *w,
                         size_t nw, struct gl_cosig_status *st, size_t *nvalid)
{
    size_t valid = 0;
    int err;

    if (note == NULL || (nw > 0 && (w == NULL || st == NULL)))
        return GL_EINVAL;
    for (size_t i = 0; i < nw; i++)
        if (w[i].type != GL_KEY_COSIG)
            return GL_EKEYTYPE;
    for (size_t i = 0; i < nw; i++) {
        if ((err = check_witness(note, &w[i], &st[i])) != 0)
            return err;
        valid += st[i].status == 0;
    }
    if (nvalid != NULL)
        *nvalid = valid;
    return 0;
}

int gl_cosig_check_answer(const struct gl_verifier *w, const char *msg, size_t len,
                          const char *body, size_t n, uint64_t now, struct gl_buf *line,
                          struct gl_err *why)
{
    struct gl_cosig_status st;
    struct gl_note *note = NULL;
    struct gl_buf joined;
    int rc;

    gl_buf_init(&joined, GL_NOTE_MAX_SIZE);
    if ((rc = gl_cosig_append(msg, len, body, n, &joined, why)) != 0 ||
        (rc = gl_note_parse((const char *)joined.data, joined.len, &note, why)) != 0)
        goto out;
    if ((rc = gl_cosig_verify_note(note, w, 1, &st, NULL)) != 0) {
        gl_err_set(why, rc, 0, "cannot check the cosignature: %s", gl_strerror(rc));
        goto out;
    }
    if (st.status != 0) {
        rc = gl_err_set(why, GL_EVERIFY, 0, "%s",
                        st.status == GL_ENOKEY ? "no line by the witness's key"
                                               : "the cosignature does not verify");
        goto out;
    }
    /* counted as a verifier counts it (specs/policy.md) */
    if (gl_cosig_dated_ahead(st.timestamp, now)) {
        rc = gl_err_set(why, GL_EVERIFY, 0,
                        "the cosignature is dated %llu, more than %d s after this "
                        "clock: verifiers do not count it",
                        (unsigned long long)st.timestamp, GL_COSIG_FUTURE_SLACK);
        goto out;
    }
    if (line != NULL) {
        gl_buf_reset(line);
        rc = gl_buf_append(line, note->sigs[st.sig].line, note->sigs[st.sig].line_len);
    }
out:
    gl_note_free(note);
    gl_buf_release(&joined);
    return rc;
}

static size_t count_lines(const char *s, size_t n)
{
    size_t c = 0;

    for (size_t i = 0; i < n; i++)
        c += s[i] == '\n';
    return c;
}

static int same_signer(const struct gl_note_sig *a, const struct gl_note_sig *b)
{
    return a->id == b->id && a->name_len == b->name_len &&
           memcmp(a->name, b->name, a->name_len) == 0;
}

/* Checks that joined (old note + lines) kept old's text, gained exactly
 * nlines signatures, and that no new line repeats an earlier signer. */
static int check_appended(const struct gl_note *old, const struct gl_note *joined,
                          size_t nlines, struct gl_err *why)
{
    if (joined->text_len != old->text_len || joined->nsigs < old->nsigs ||
        joined->nsigs - old->nsigs != nlines)
        return gl_err_set(why, GL_EPARSE, 0,
                          "the added lines are not signature lines after the note's");
    for (size_t j = old->nsigs; j < joined->nsigs; j++)
        for (size_t k = 0; k < j; k++)
            if (same_signer(&joined->sigs[j], &joined->sigs[k]))
                return gl_err_set(why, GL_EEXIST, 0,
                                  "added signature %zu repeats the key %.*s+%08x",
                                  j - old->nsigs + 1, (int)joined->sigs[j].name_len,
                                  joined->sigs[j].name, (unsigned)joined->sigs[j].id);
    return 0;
}

int gl_cosig_append(const char *msg, size_t len, const char *lines, size_t n,
                    struct gl_buf *out, struct gl_err *why)
{
    struct gl_note *old = NULL, *joined = NULL;
    struct gl_buf tmp;
    int err;

    if (msg == NULL || lines == NULL || out == NULL)
        return gl_err_set(why, GL_EINVAL, 0, "no note or no lines");
    if (n == 0 || lines[n - 1] != '\n')
        return gl_err_set(why, GL_EPARSE, 0, "the added lines do not end with a newline");
    gl_buf_init(&tmp, GL_NOTE_MAX_SIZE);
    if ((err = gl_note_parse(msg, len, &old, why)) != 0)
        goto out;
    if ((err = gl_buf_append(&tmp, msg, len)) != 0 ||
        (err = gl_buf_append(&tmp, lines, n)) != 0) {
        gl_err_set(why, err, 0, "the note with the added lines: %s", gl_strerror(err));
        goto out;
    }
    if ((err = gl_note_parse((const char *)tmp.data, tmp.len, &joined, why)) != 0) {
        gl_err_wrap(why, err, 0, "the note with the added lines");
        goto out;
    }
    if ((err = check_appended(old, joined, count_lines(lines, n), why)) != 0)
        goto out;
    if ((err = gl_buf_append(out, tmp.data, tmp.len)) != 0)
        gl_err_set(why, err, 0, "the note with the added lines: %s", gl_strerror(err));
out:
    gl_note_free(joined);
    gl_note_free(old);
    gl_buf_release(&tmp);
    return err;
}

/*
 * mirrorresp: the bodies of a tlog-mirror's answers to a push
 * (mirrorresp.h).
 *
 * mirrorresp_cosig makes two passes over a 200 body: the first checks
 * every line (syntax, caps) and the second verifies the lines whose name
 * and key ID are the mirror's. So a malformed line or one line too many
 * refuses the body wherever it stands, and the one line served on the
 * log's checkpoint comes from a body that is well formed as a whole. The
 * lines are cut by lib/text.c without GL_TEXT_CR or GL_TEXT_OPEN_END: a
 * last line without "\n" is a refusal, and a "\r" stays in the line,
 * where the base64 decoder refuses it.
 */
#include "mirrorresp.h"

#include <string.h>

#include "glasslog/codec.h"
#include "glasslog/cosig.h"
#include "glasslog/note.h"
#include "text.h"

/* First pass: every line of body[0..n) is a signature line. */
static int check_lines(const char *body, size_t n, struct gl_err *why)
{
    struct gl_text t;
    struct gl_note_sig sig;
    struct gl_err e;
    const char *l;
    size_t ll;
    int rc;

    gl_text_init(&t, body, n, 0);
    while ((rc = gl_text_line(&t, &l, &ll)) == 0) {
        if (t.line > MIRRORRESP_LINES)
            return gl_err_set(why, GL_ETOOBIG, t.line, "more than %d signature lines",
                              MIRRORRESP_LINES);
        if (memchr(l, 0, ll) != NULL)
            return gl_err_set(why, GL_EPARSE, t.line, "NUL byte in a signature line");
        if (gl_note_parse_sig(l, ll, &sig, &e) != 0)
            return gl_err_set(why, GL_EPARSE, t.line, "%s", e.reason);
    }
    if (rc != GL_ENOTFOUND)
        return gl_err_set(why, GL_EPARSE, t.line,
                          "a signature line does not end with a newline");
    return 0;
}

int mirrorresp_cosig(const struct gl_verifier *key, const char *text, size_t text_len,
                     const char *body, size_t n, uint64_t now, size_t *off, size_t *len,
                     struct gl_err *why)
{
    struct gl_text t;
    struct gl_note_sig sig;
    const char *l;
    size_t ll, bad = 0, ahead = 0;
    uint64_t ts = 0;
    int rc;

    if (n > MIRRORRESP_BODY_MAX)
        return gl_err_set(why, GL_ETOOBIG, 0, "body of %zu bytes, over %d", n,
                          MIRRORRESP_BODY_MAX);
    if (n == 0)
        return gl_err_set(why, GL_EPARSE, 1, "empty body: no signature line");
    if ((rc = check_lines(body, n, why)) != 0)
        return rc;
    gl_text_init(&t, body, n, 0);
    while (gl_text_line(&t, &l, &ll) == 0) {
        if (gl_note_parse_sig(l, ll, &sig, NULL) != 0)
            return gl_err_set(why, GL_EPARSE, t.line, "not a signature line");
        rc = gl_cosig_verify(key, text, text_len, &sig, &ts);
        if (rc == GL_ENOKEY)
            continue; /* another key's line */
        if (rc == GL_EVERIFY) {
            bad = bad ? bad : t.line;
            continue;
        }
        if (rc == 0 && gl_cosig_dated_ahead(ts, now)) {
            ahead = ahead ? ahead : t.line;
            continue;
        }
        if (rc != 0)
            return gl_err_set(why, rc, t.line, "cannot check the cosignature: %s",
                              gl_strerror(rc));
        *off = (size_t)(l - body);
        *len = ll + 1;
        return 0;
    }
    if (bad)
        return gl_err_set(why, GL_EVERIFY, bad, "the cosignature by %s does not verify",
                          key->name);
    if (ahead)
        return gl_err_set(why, GL_EVERIFY, ahead,
                          "the cosignature by %s is dated more than %d s after this "
                          "clock: verifiers do not count it",
                          key->name, GL_COSIG_FUTURE_SLACK);
    return gl_err_set(why, GL_ENOKEY, 0, "no signature line by %s", key->name);
}

/*
 * peers: the peer-witness list parser; format and caps in peers.h.
 * Each `witness` line is split on single spaces into exactly three
 * fields; everything else but the other tlog-policy keywords is an error
 * (a typo in a peer list silently removing a peer would weaken gossip).
 */
#include "peers.h"

#include <stdlib.h>
#include <string.h>

#include "glasslog/error.h"

static int starts(const char *s, size_t n, const char *word)
{
    size_t w = strlen(word);
    return n >= w && memcmp(s, word, w) == 0 && (n == w || s[w] == ' ');
}

/* Splits s (n bytes) on ' ' into at most max fields. */
static size_t split(const char *s, size_t n, const char **f, size_t *fl, size_t max)
{
    size_t k = 0;
    const char *end = s + n;

    while (s < end && k < max + 1) {
        const char *sp = memchr(s, ' ', (size_t)(end - s));
        size_t len = sp ? (size_t)(sp - s) : (size_t)(end - s);
        if (k < max) {
            f[k] = s;
            fl[k] = len;
        }
        k++;
        s = sp ? sp + 1 : end;
    }
    return k;
}

static int peer_line(struct peers_list *l, const char *s, size_t n, const char **why)
{
    const char *f[4];
    size_t fl[4];
    struct gl_verifier v;
    struct peers_entry *e = &l->v[l->n];

    if (split(s, n, f, fl, 4) != 4 || fl[1] == 0 || fl[1] > PEERS_NAME_MAX) {
        *why = "want: witness <name> <vkey> <url>";
        return GL_EPARSE;
    }
    if (l->n == PEERS_MAX) {
        *why = "too many peers";
        return GL_ETOOBIG;
    }
    memset(e, 0, sizeof(*e));
    memcpy(e->name, f[1], fl[1]);
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].name, e->name) == 0) {
            *why = "two peers with one name";
            return GL_EPARSE;
        }
    if (gl_verifier_parse(f[2], fl[2], &v) != 0 ||
        gl_verifier_to_cosig(&v, &e->key, &e->converted) != 0) {
        *why = "malformed or unsupported witness vkey";
        return GL_EPARSE;
    }
    if (logs_url_parse(f[3], fl[3], e->url) != 0) {
        *why = "invalid url (http:// or https://)";
        return GL_EPARSE;
    }
    l->n++;
    return 0;
}

int peers_parse(const char *text, size_t n, struct peers_list *out, size_t *bad_line,
                const char **why)
{
    const char *s = text, *end = text + n;
    size_t line = 0;
    int err = 0;

    memset(out, 0, sizeof(*out));
    *bad_line = 0;
    *why = "";
    if (n > PEERS_FILE_MAX) {
        *why = "the file is too large";
        return GL_ETOOBIG;
    }
    if ((out->v = calloc(PEERS_MAX, sizeof(*out->v))) == NULL)
        return GL_ENOMEM;
    while (err == 0 && s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
        line++;
        while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
            len--;
        if (len == 0 || s[0] == '#' || starts(s, len, "log") || starts(s, len, "group") ||
            starts(s, len, "quorum") || starts(s, len, "submitter"))
            ;
        else if (starts(s, len, "witness"))
            err = peer_line(out, s, len, why);
        else {
            *why = "unknown line (want: witness <name> <vkey> <url>)";
            err = GL_EPARSE;
        }
        s = nl ? nl + 1 : end;
    }
    if (err != 0)
        *bad_line = line;
    return err;
}

void peers_release(struct peers_list *l)
{
    free(l->v);
    memset(l, 0, sizeof(*l));
}

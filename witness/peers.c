/*
 * peers: the peer-witness list parser; format and caps in peers.h.
 * Lines are cut by text.h (trailing spaces, tabs and "\r" trimmed, blank
 * lines and "#" comments skipped). Each `witness` line is split on single
 * spaces into exactly three fields after the keyword; everything else but
 * the other tlog-policy keywords is an error (a typo in a peer list
 * silently removing a peer would weaken gossip).
 */
#include "peers.h"

#include <stdlib.h>
#include <string.h>

#include "glasslog/error.h"
#include "text.h"

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

/* Makes room in l->v (room entries) for one more peer: doubles, up to
 * PEERS_MAX. */
static int peer_room(struct peers_list *l, size_t *room, size_t line, struct gl_err *why)
{
    size_t nc = *room ? *room * 2 : 8;
    struct peers_entry *v;

    if (l->n < *room)
        return 0;
    if (nc > PEERS_MAX)
        nc = PEERS_MAX;
    if ((v = realloc(l->v, nc * sizeof(*v))) == NULL)
        return gl_err_set(why, GL_ENOMEM, line, "out of memory");
    l->v = v;
    *room = nc;
    return 0;
}

static int peer_line(struct peers_list *l, size_t *room, const char *s, size_t n,
                     size_t line, struct gl_err *why)
{
    const char *f[4];
    size_t fl[4];
    struct gl_verifier v;
    struct gl_err kerr;
    struct peers_entry *e;
    int err;

    if (split(s, n, f, fl, 4) != 4 || fl[1] == 0 || fl[1] > PEERS_NAME_MAX)
        return gl_err_set(why, GL_EPARSE, line, "want: witness <name> <vkey> <url>");
    if (l->n == PEERS_MAX)
        return gl_err_set(why, GL_ETOOBIG, line, "more than %d peers", PEERS_MAX);
    if ((err = peer_room(l, room, line, why)) != 0)
        return err;
    e = &l->v[l->n];
    memset(e, 0, sizeof(*e));
    memcpy(e->name, f[1], fl[1]);
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].name, e->name) == 0)
            return gl_err_set(why, GL_EPARSE, line, "two peers named %s", e->name);
    if (gl_verifier_parse(f[2], fl[2], &v, &kerr) != 0)
        return gl_err_set(why, GL_EPARSE, line, "malformed witness vkey: %s",
                          kerr.reason);
    if (gl_verifier_to_cosig(&v, &e->key, &e->converted) != 0)
        return gl_err_set(why, GL_EPARSE, line, "unsupported witness key type");
    if (logs_url_parse(f[3], fl[3], e->url) != 0)
        return gl_err_set(why, GL_EPARSE, line, "invalid url (http:// or https://)");
    l->n++;
    return 0;
}

int peers_parse(const char *text, size_t n, struct peers_list *out, struct gl_err *why)
{
    struct gl_text t;
    const char *s;
    size_t len, room = 0;
    int err = 0;

    memset(out, 0, sizeof(*out));
    if (n > PEERS_FILE_MAX)
        return gl_err_set(why, GL_ETOOBIG, 0, "the file is larger than %zu bytes",
                          PEERS_FILE_MAX);
    gl_text_init(&t, text, n, GL_TEXT_OPEN_END | GL_TEXT_TRIM_END | GL_TEXT_SKIP);
    while (err == 0 && gl_text_line(&t, &s, &len) == 0) {
        if (starts(s, len, "log") || starts(s, len, "group") ||
            starts(s, len, "quorum") || starts(s, len, "submitter"))
            continue;
        if (starts(s, len, "witness"))
            err = peer_line(out, &room, s, len, t.line, why);
        else
            err = gl_err_set(why, GL_EPARSE, t.line,
                             "unknown line (want: witness <name> <vkey> <url>)");
    }
    return err;
}

void peers_release(struct peers_list *l)
{
    free(l->v);
    memset(l, 0, sizeof(*l));
}

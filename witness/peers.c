/*
 * peers: the peer-witness list parser; format and caps in peers.h.
 * Lines are cut by text.h (leading and trailing spaces and tabs and a
 * "\r" trimmed, blank lines and "#" comments skipped) and split on runs
 * of spaces and tabs, as tlog-policy (specs/policy.md) does. A `witness`
 * line has two or three items after the keyword; without the url it is
 * a policy witness but no peer: skipped and counted (nourl, warned by
 * the caller); so is one whose key is of a type this build cannot verify
 * (skipped). The other policy keywords (log, group, quorum, submitter,
 * mirror, require) are skipped whatever they carry; anything else is an
 * error (a typo in a peer list silently removing a peer would weaken
 * gossip).
 */
#include "peers.h"

#include <stdlib.h>
#include <string.h>

#include "glasslog/error.h"
#include "text.h"

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Splits s (n bytes) on runs of spaces and tabs (tlog-policy) into at
 * most max fields; returns how many there are (max + 1 if more). */
static size_t split(const char *s, size_t n, const char **f, size_t *fl, size_t max)
{
    size_t k = 0, i = 0, j;

    while (i < n) {
        while (i < n && is_space(s[i]))
            i++;
        if (i == n)
            break;
        for (j = i; j < n && !is_space(s[j]); j++)
            ;
        if (k == max)
            return max + 1;
        f[k] = s + i;
        fl[k++] = j - i;
        i = j;
    }
    return k;
}

static int is(const char *f, size_t fl, const char *word)
{
    return fl == strlen(word) && memcmp(f, word, fl) == 0;
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

/* One witness line, split into nf fields f (nf <= 4: checked by the
 * caller; f[0] is "witness"). */
static int peer_line(struct peers_list *l, size_t *room, const char **f, const size_t *fl,
                     size_t nf, size_t line, struct gl_err *why)
{
    struct gl_verifier v;
    struct gl_err kerr;
    struct peers_entry *e;
    int err;

    if (nf < 3 || fl[1] > PEERS_NAME_MAX)
        return gl_err_set(why, GL_EPARSE, line, "want: witness <name> <vkey> <url>");
    err = gl_verifier_parse(f[2], fl[2], &v, &kerr);
    if (err == GL_EKEYTYPE) { /* a witness we cannot verify: no peer */
        l->skipped++;
        return 0;
    }
    if (err != 0)
        return gl_err_set(why, GL_EPARSE, line, "malformed witness vkey: %s",
                          kerr.reason);
    if (nf == 3) { /* a policy witness without a url: not a peer */
        l->nourl++;
        return 0;
    }
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
    gl_text_init(&t, text, n,
                 GL_TEXT_OPEN_END | GL_TEXT_TRIM_START | GL_TEXT_TRIM_END | GL_TEXT_SKIP);
    while (err == 0 && gl_text_line(&t, &s, &len) == 0) {
        const char *f[4];
        size_t fl[4], nf = split(s, len, f, fl, 4);
        if (nf == 0) /* not after GL_TEXT_SKIP; for the reader */
            continue;
        if (is(f[0], fl[0], "log") || is(f[0], fl[0], "group") ||
            is(f[0], fl[0], "quorum") || is(f[0], fl[0], "submitter") ||
            is(f[0], fl[0], "mirror") || is(f[0], fl[0], "require"))
            continue;
        if (!is(f[0], fl[0], "witness"))
            err = gl_err_set(why, GL_EPARSE, t.line,
                             "unknown line (want: witness <name> <vkey> <url>)");
        else if (nf > 4)
            err = gl_err_set(why, GL_EPARSE, t.line,
                             "too many items (want: witness <name> <vkey> <url>)");
        else
            err = peer_line(out, &room, f, fl, nf, t.line, why);
    }
    return err;
}

void peers_release(struct peers_list *l)
{
    free(l->v);
    memset(l, 0, sizeof(*l));
}

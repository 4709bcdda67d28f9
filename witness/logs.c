/*
 * logs: the log list parser; format and caps in logs.h.
 *
 * Design: one pass over the lines (the line cutter of text.h, trimming
 * both ends and skipping blank lines and comments); an entry opened by `vkey` collects
 * its attribute lines until the next `vkey` or the end, then is closed: defaults applied,
 * then merged into an earlier entry of the same origin (found through a hash index of
 * the origins, so a long list costs linear time) or appended. Sorting at the end
 * gives O(log n) lookups by origin (the add-checkpoint path) and by origin hash (the
 * monitoring path). Invariants: every kept entry has 1..LOGS_MAX_KEYS GL_KEY_NOTE keys, a
 * valid origin and its hash; origins are unique; witness keys are GL_KEY_COSIG, distinct,
 * at most LOGS_MAX_WITNESSES, and only on mirrored logs.
 */
#include "logs.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/sha256.h"
#include "text.h"

/* The origin index's slots: twice the most logs, a power of two. */
#define LP_SLOTS ((size_t)2 * LOGS_MAX)
_Static_assert((LP_SLOTS & (LP_SLOTS - 1)) == 0 && LOGS_MAX < 65536,
               "slots: a power of two, indices fit uint16_t");

/* Parser state: the entry being built, the origin index of the list. */
struct lp {
    struct logs_list *l;
    size_t cap; /* entries l->v has room for; it grows to LOGS_MAX */
    struct gl_err *why;
    size_t line; /* the line being parsed, for errors */
    struct logs_entry cur;
    int open;     /* an entry is being built */
    int skipping; /* the current entry has an unsupported key */
    int has_origin, has_qpd, has_url, has_mirror;
    uint16_t slot[LP_SLOTS]; /* origin -> 1 + index in l->v; 0: empty */
};

int logs_url_parse(const char *s, size_t n, char out[LOGS_URL_MAX + 1])
{
    while (n > 0 && s[n - 1] == '/')
        n--;
    if (n == 0 || n > LOGS_URL_MAX)
        return GL_EPARSE;
    if (!(n > GL_LIT_LEN("http://") && gl_mem_prefix(s, n, "http://")) &&
        !(n > GL_LIT_LEN("https://") && gl_mem_prefix(s, n, "https://")))
        return GL_EPARSE;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] == 0x7f)
            return GL_EPARSE;
    memcpy(out, s, n);
    out[n] = 0;
    return 0;
}

static int origin_valid(const char *s, size_t n)
{
    if (n == 0 || n > GL_CHECKPOINT_ORIGIN_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
            return 0;
    return 1;
}

/* Makes room in l->v for one more entry: doubles, up to LOGS_MAX (a short
 * list costs what it holds, not the cap). */
static int lp_room(struct lp *p)
{
    size_t nc = p->cap ? p->cap * 2 : 8;
    struct logs_entry *v;

    if (p->l->n < p->cap)
        return 0;
    if (nc > LOGS_MAX)
        nc = LOGS_MAX;
    if ((v = realloc(p->l->v, nc * sizeof(*v))) == NULL)
        return gl_err_set(p->why, GL_ENOMEM, p->line, "out of memory");
    p->l->v = v;
    p->cap = nc;
    return 0;
}

/* The slot of p->slot for e's origin: the one holding it, or the empty
 * one where it goes (linear probing from the origin's hash; the table is
 * at most half full, so the walk ends). */
static uint16_t *lp_slot(struct lp *p, const struct logs_entry *e)
{
    size_t i = ((size_t)e->origin_hash[0] << 8 | e->origin_hash[1]) % LP_SLOTS;

    while (p->slot[i] != 0 && strcmp(p->l->v[p->slot[i] - 1].origin, e->origin) != 0)
        i = (i + 1) % LP_SLOTS;
    return &p->slot[i];
}

/* Adds witness key w to e unless it is there already (same name and key ID).
 * 0, or GL_ETOOBIG when e has LOGS_MAX_WITNESSES others. */
static int add_witness(struct logs_entry *e, const struct gl_verifier *w)
{
    for (size_t i = 0; i < e->nwitnesses; i++)
        if (e->witnesses[i].id == w->id && strcmp(e->witnesses[i].name, w->name) == 0)
            return 0;
    if (e->nwitnesses == LOGS_MAX_WITNESSES)
        return GL_ETOOBIG;
    e->witnesses[e->nwitnesses++] = *w;
    return 0;
}

/* Closes the current entry: merge or append. */
static int lp_close(struct lp *p)
{
    struct logs_list *l = p->l;
    struct logs_entry *e = &p->cur;
    uint16_t *slot;
    int err;

    if (!p->open || p->skipping)
        goto done;
    if (!p->has_origin)
        snprintf(e->origin, sizeof(e->origin), "%s", e->keys[0].name);
    if (gl_sha256(e->origin, strlen(e->origin), e->origin_hash) != 0)
        return gl_err_set(p->why, GL_ECRYPTO, p->line, "cannot hash the origin");
    slot = lp_slot(p, e);
    if (*slot != 0) {
        struct logs_entry *o = &l->v[*slot - 1];
        if (strcmp(o->keys[0].name, e->keys[0].name) != 0)
            return gl_err_set(p->why, GL_EPARSE, p->line,
                              "keys %s and %s for the origin %s: one log's keys have "
                              "one name (evidence names its signer by it)",
                              o->keys[0].name, e->keys[0].name, e->origin);
        if (o->nkeys == LOGS_MAX_KEYS)
            return gl_err_set(p->why, GL_ETOOBIG, p->line,
                              "more than %d keys for the origin %s", LOGS_MAX_KEYS,
                              e->origin);
        o->keys[o->nkeys++] = e->keys[0];
        if (o->qpd == 0)
            o->qpd = e->qpd;
        if (o->url[0] == 0)
            snprintf(o->url, sizeof(o->url), "%s", e->url);
        o->mirror |= e->mirror;
        for (size_t i = 0; i < e->nwitnesses; i++)
            if (add_witness(o, &e->witnesses[i]) != 0)
                return gl_err_set(p->why, GL_ETOOBIG, p->line,
                                  "more than %d witnesses for the origin %s",
                                  LOGS_MAX_WITNESSES, e->origin);
        goto done;
    }
    if (l->n == LOGS_MAX)
        return gl_err_set(p->why, GL_ETOOBIG, p->line, "more than %d logs", LOGS_MAX);
    if ((err = lp_room(p)) != 0)
        return err;
    l->v[l->n++] = *e;
    assert(l->n <= LOGS_MAX && e->nkeys >= 1 && e->nkeys <= LOGS_MAX_KEYS &&
           e->keys[0].type == GL_KEY_NOTE && e->origin[0] != 0);
    *slot = (uint16_t)l->n;
done:
    memset(&p->cur, 0, sizeof(p->cur));
    p->open = p->skipping = p->has_origin = p->has_qpd = p->has_url = p->has_mirror = 0;
    return 0;
}

static int lp_vkey(struct lp *p, const char *v, size_t n)
{
    struct gl_err kerr;
    int err = lp_close(p);

    if (err != 0)
        return err;
    p->open = 1;
    err = gl_verifier_parse(v, n, &p->cur.keys[0], &kerr);
    if (err == GL_EKEYTYPE) {
        p->skipping = 1;
        p->l->skipped++;
        return 0;
    }
    if (err != 0)
        return gl_err_set(p->why, GL_EPARSE, p->line, "malformed vkey: %s", kerr.reason);
    if (p->cur.keys[0].type != GL_KEY_NOTE)
        return gl_err_set(p->why, GL_EPARSE, p->line,
                          "a log key must be a note key (type 0x01)");
    p->cur.nkeys = 1;
    return 0;
}

static int lp_no_entry(const struct lp *p)
{
    return gl_err_set(p->why, GL_EPARSE, p->line, "a log attribute before any vkey line");
}

/* One attribute line (key k, value v of n bytes) of the open entry. */
static int lp_attr(struct lp *p, const char *k, const char *v, size_t n)
{
    if (!p->open)
        return lp_no_entry(p);
    if (p->skipping)
        return 0;
    if (strcmp(k, "origin") == 0) {
        if (p->has_origin++ || !origin_valid(v, n))
            return gl_err_set(p->why, GL_EPARSE, p->line, "repeated or invalid origin");
        memcpy(p->cur.origin, v, n);
        p->cur.origin[n] = 0;
    } else if (strcmp(k, "qpd") == 0) {
        if (p->has_qpd++)
            return gl_err_set(p->why, GL_EPARSE, p->line, "repeated qpd");
        if (gl_parse_u64(v, n, &p->cur.qpd) != 0 || p->cur.qpd < 1 ||
            p->cur.qpd > LOGS_QPD_MAX)
            return gl_err_set(p->why, GL_EPARSE, p->line,
                              "qpd must be a decimal from 1 to 2147483647 (2^31 - 1)");
    } else if (strcmp(k, "url") == 0) {
        if (p->has_url++ || logs_url_parse(v, n, p->cur.url) != 0)
            return gl_err_set(p->why, GL_EPARSE, p->line,
                              "repeated or invalid url (http:// or https://)");
    } else if (strcmp(k, "mirror") == 0) {
        if (p->has_mirror++ || n != 0)
            return gl_err_set(p->why, GL_EPARSE, p->line,
                              "repeated mirror line, or a value after it");
        p->cur.mirror = 1;
    } else if (strcmp(k, "witness") == 0) {
        struct gl_verifier wk, ck;
        struct gl_err kerr;
        int err = gl_verifier_parse(v, n, &wk, &kerr);
        if (err == GL_EKEYTYPE) { /* a cosigner we cannot verify: skipped */
            p->l->skipped_witnesses++;
            return 0;
        }
        if (err != 0 || (wk.type != GL_KEY_NOTE && wk.type != GL_KEY_COSIG) ||
            gl_verifier_to_cosig(&wk, &ck, NULL) != 0)
            return gl_err_set(p->why, GL_EPARSE, p->line,
                              "witness: not a cosigner verifier key%s%s",
                              err != 0 ? ": " : "", err != 0 ? kerr.reason : "");
        if (add_witness(&p->cur, &ck) != 0)
            return gl_err_set(p->why, GL_ETOOBIG, p->line, "more than %d witness lines",
                              LOGS_MAX_WITNESSES);
    }
    return 0;
}

/* One non-blank, non-comment line. */
static int lp_line(struct lp *p, const char *s, size_t n)
{
    const char *sp = memchr(s, ' ', n);
    char key[16];
    size_t kl = sp ? (size_t)(sp - s) : n;
    const char *v = sp ? sp + 1 : s + n;
    size_t vn = sp ? n - kl - 1 : 0;

    if (kl >= sizeof(key)) {
        p->l->unknown++;
        return 0;
    }
    memcpy(key, s, kl);
    key[kl] = 0;
    if (strcmp(key, "vkey") == 0)
        return lp_vkey(p, v, vn);
    if (strcmp(key, "origin") == 0 || strcmp(key, "qpd") == 0 ||
        strcmp(key, "url") == 0 || strcmp(key, "mirror") == 0 ||
        strcmp(key, "witness") == 0)
        return lp_attr(p, key, v, vn);
    if (strcmp(key, "contact") != 0 && strcmp(key, "bastion") != 0)
        p->l->unknown++;
    else if (!p->open)
        return lp_no_entry(p);
    return 0;
}

static int by_origin(const void *a, const void *b)
{
    return strcmp(((const struct logs_entry *)a)->origin,
                  ((const struct logs_entry *)b)->origin);
}

static const struct logs_list *sort_list; /* qsort has no context argument */

static int by_hash(const void *a, const void *b)
{
    return memcmp(sort_list->v[*(const size_t *)a].origin_hash,
                  sort_list->v[*(const size_t *)b].origin_hash, GL_HASH_LEN);
}

/* Witness lines only make sense on a mirrored log (checked once the
 * entries of an origin are merged: any of them may carry the mirror line). */
static int lp_check(struct lp *p)
{
    for (size_t i = 0; i < p->l->n; i++)
        if (p->l->v[i].nwitnesses > 0 && !p->l->v[i].mirror)
            return gl_err_set(p->why, GL_EPARSE, p->line,
                              "witness lines of %s without a mirror line",
                              p->l->v[i].origin);
    return 0;
}

static int lp_finish(struct logs_list *l)
{
    if (l->n > 1)
        qsort(l->v, l->n, sizeof(*l->v), by_origin);
    if ((l->by_hash = calloc(l->n ? l->n : 1, sizeof(size_t))) == NULL)
        return GL_ENOMEM;
    for (size_t i = 0; i < l->n; i++)
        l->by_hash[i] = i;
    sort_list = l;
    qsort(l->by_hash, l->n, sizeof(size_t), by_hash);
    sort_list = NULL;
    return 0;
}

/* The lines: the first that is not blank or a comment must be logs/v0.
 * Blank lines and comments are skipped anywhere, every line is trimmed at
 * both ends (a list saved with CRLF line ends too). */
static int lp_lines(struct lp *p, const char *text, size_t n)
{
    struct gl_text t;
    const char *line;
    size_t len;
    int err = 0, header = 0;

    gl_text_init(&t, text, n,
                 GL_TEXT_OPEN_END | GL_TEXT_TRIM_START | GL_TEXT_TRIM_END | GL_TEXT_SKIP);
    while (err == 0 && gl_text_line(&t, &line, &len) == 0) {
        p->line = t.line;
        if (header)
            err = lp_line(p, line, len);
        else if (!gl_mem_is(line, len, "logs/v0"))
            err = gl_err_set(p->why, GL_EPARSE, t.line,
                             "the first line that is not a comment must be \"logs/v0\"");
        header = 1;
    }
    p->line = t.line;
    if (err == 0 && !header)
        err = gl_err_set(p->why, GL_EPARSE, t.line, "no \"logs/v0\" line");
    return err;
}

int logs_parse(const char *text, size_t n, struct logs_list *out, struct gl_err *why)
{
    struct lp *p = calloc(1, sizeof(*p));
    int err;

    memset(out, 0, sizeof(*out));
    if (p == NULL)
        return gl_err_set(why, GL_ENOMEM, 0, "out of memory");
    p->l = out;
    p->why = why;
    if (n > LOGS_FILE_MAX)
        err = gl_err_set(why, GL_ETOOBIG, 0, "the file is larger than %zu bytes",
                         LOGS_FILE_MAX);
    else if ((err = lp_lines(p, text, n)) == 0 && (err = lp_close(p)) == 0 &&
             (err = lp_check(p)) == 0 && (err = lp_finish(out)) != 0)
        gl_err_set(why, err, 0, "out of memory");
    free(p);
    return err;
}

void logs_release(struct logs_list *l)
{
    free(l->v);
    free(l->by_hash);
    memset(l, 0, sizeof(*l));
}

/* A look-up of logs_find (origin, n bytes) or logs_find_hash (h, the
 * origin hash of an entry of l), for bsearch. */
struct find_key {
    const char *origin;
    size_t n;
    const struct logs_list *l;
    const uint8_t *h;
};

/* bsearch's order of l->v (by origin): k's origin against entry e's. */
static int origin_order(const void *k, const void *e)
{
    const struct find_key *key = k;
    const char *o = ((const struct logs_entry *)e)->origin;
    size_t ol = strlen(o);
    int c = memcmp(key->origin, o, ol < key->n ? ol : key->n);

    return c != 0 ? c : key->n < ol ? -1 : key->n > ol ? 1 : 0;
}

/* bsearch's order of l->by_hash: k's hash against that of the entry
 * whose index is at e. */
static int hash_order(const void *k, const void *e)
{
    const struct find_key *key = k;

    return memcmp(key->h, key->l->v[*(const size_t *)e].origin_hash, GL_HASH_LEN);
}

size_t logs_mirrored(const struct logs_list *l)
{
    size_t n = 0;

    for (size_t i = 0; i < l->n; i++)
        n += l->v[i].mirror != 0;
    return n;
}

int logs_find(const struct logs_list *l, const char *origin, size_t n, size_t *idx)
{
    struct find_key key = {origin, n, l, NULL};
    const struct logs_entry *e =
        l->n > 0 ? bsearch(&key, l->v, l->n, sizeof(*l->v), origin_order) : NULL;

    if (e == NULL)
        return GL_ENOTFOUND;
    *idx = (size_t)(e - l->v);
    return 0;
}

int logs_find_hash(const struct logs_list *l, const uint8_t h[GL_HASH_LEN], size_t *idx)
{
    struct find_key key = {NULL, 0, l, h};
    const size_t *at =
        l->n > 0 ? bsearch(&key, l->by_hash, l->n, sizeof(*l->by_hash), hash_order)
                 : NULL;

    if (at == NULL)
        return GL_ENOTFOUND;
    *idx = *at;
    return 0;
}

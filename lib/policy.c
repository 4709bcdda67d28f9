/*
 * policy: C2SP tlog-policy parser, quorum decision, description and
 * canonical formatting (specs/policy.md).
 *
 * Design. Parsing is two passes over a private copy of the text. Pass one
 * only counts lines per keyword and group members, so every array is
 * allocated once at its final size (capped at the GL_POLICY_MAX_* limits);
 * nothing moves afterwards and the accessors can hand out stable pointers.
 * Pass two validates and defines, line by line, so the error reported is
 * always the first one in the file. Names and URLs are NUL-terminated in
 * place inside the copy, which the policy owns.
 *
 * Invariants of a parsed policy.
 *  - Exactly one quorum; it names "none", a witness or a group.
 *  - A group's members are witnesses or groups with a smaller index (define
 *    before use), so groups form no cycle and one pass in index order
 *    decides every group. Each witness or group is a member of at most one
 *    group, once (tlog-policy: "each defined name can be listed as a group
 *    member at most once"), so the structure is a forest.
 *  - 1 <= k <= nmembers <= GL_POLICY_MAX_MEMBERS for every group.
 *  - Logs and submitters are GL_KEY_NOTE, witnesses GL_KEY_COSIG.
 *  - No public key appears twice anywhere in the policy; (key name, key ID)
 *    is unique among logs, among witnesses and among submitters.
 */
#include "glasslog/policy.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "glasslog/chainbundle.h"
#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/tlogproof.h"
#include "text.h"

#define MAX_TOKENS (GL_POLICY_MAX_MEMBERS + 3)
#define MAX_NAMED (GL_POLICY_MAX_WITNESSES + GL_POLICY_MAX_GROUPS)
#define NAME_SHOWN 64 /* bytes of a name quoted in an error message */

struct gl_policy {
    char *text; /* owned copy; names, URLs point in */
    struct gl_policy_log *logs;
    struct gl_verifier *log_keys;
    size_t nlogs;
    struct gl_policy_witness *witnesses;
    struct gl_verifier *witness_keys;
    size_t nwitnesses;
    struct gl_policy_group *groups;
    size_t ngroups;
    struct gl_policy_ref *members; /* every group's members, in order */
    size_t nmembers;
    struct gl_verifier *submitters;
    uint8_t *roles; /* enum gl_policy_role per submitter */
    size_t nsubmitters;
    struct gl_policy_ref quorum;
    size_t require_rebuilds; /* 0: none required */
    int require_audit;
};

struct tok {
    char *s;
    size_t n;
};

/* Capacities from pass one; parse state of pass two. */
struct pstate {
    struct gl_policy *p;
    struct gl_err *why;
    size_t line;
    size_t cap_logs, cap_witnesses, cap_groups, cap_members, cap_submitters;
    size_t submitter_line[GL_POLICY_MAX_SUBMITTERS];
    size_t witness_in[GL_POLICY_MAX_WITNESSES]; /* group index + 1, or 0 */
    size_t group_in[GL_POLICY_MAX_GROUPS];
    size_t quorum_line;               /* 0: no quorum yet */
    size_t rebuilds_line, audit_line; /* require lines, 0: none */
};

enum role { ROLE_LOG, ROLE_WITNESS, ROLE_SUBMITTER };

/* ---- errors: gl_err_set(ps->why, code, ps->line, ...) ---- */

static int shown(size_t n)
{
    return (int)(n < NAME_SHOWN ? n : NAME_SHOWN);
}

/* ---- lines and tokens ---- */

/* The policy's lines: the last may lack "\n"; nothing is trimmed, as
 * check_chars must see every byte (comments included). */
static void lines_init(struct gl_text *t, const char *text, size_t n)
{
    gl_text_init(t, text, n, GL_TEXT_OPEN_END);
}

/* The cursor runs over the policy's own copy of the text, so its lines may
 * be written (tokens are NUL-terminated in place). */
static char *own(const struct gl_policy *p, const char *line)
{
    return p->text + (line - p->text);
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t';
}

/* Splits on spaces and tabs; stores up to tmax tokens in t, returns the
 * count of all tokens. A comment line ("#" first after whitespace) has
 * none. */
static size_t tokenize(char *line, size_t len, struct tok *t, size_t tmax)
{
    size_t i = 0, n = 0, start;

    while (i < len && is_ws(line[i]))
        i++;
    if (i < len && line[i] == '#')
        return 0;
    while (i < len) {
        start = i;
        while (i < len && !is_ws(line[i]))
            i++;
        if (n < tmax) {
            t[n].s = line + start;
            t[n].n = i - start;
        }
        n++;
        while (i < len && is_ws(line[i]))
            i++;
    }
    return n;
}

static int tok_is(const struct tok *t, const char *word)
{
    return t->n == strlen(word) && memcmp(t->s, word, t->n) == 0;
}

/* tlog-policy character set: tab, newline, 0x20-0x7E, 0x80-0xFF. */
static int check_chars(struct pstate *ps, const char *line, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c == '\r')
            return gl_err_set(ps->why, GL_EPARSE, ps->line,
                              "carriage return (line endings must be \\n)");
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return gl_err_set(ps->why, GL_EPARSE, ps->line, "control character 0x%02x",
                              c);
    }
    return 0;
}

/* ---- pass one: sizes ---- */

static size_t cap_at(size_t n, size_t max)
{
    return n < max ? n : max;
}

static void count_lines(const struct gl_policy *p, size_t n, struct pstate *ps)
{
    struct gl_text it;
    size_t logs = 0, wits = 0, groups = 0, members = 0, subs = 0, nt, len;
    struct tok first;
    const char *line;

    lines_init(&it, p->text, n);
    while (gl_text_line(&it, &line, &len) == 0) {
        if ((nt = tokenize(own(p, line), len, &first, 1)) == 0)
            continue;
        logs += tok_is(&first, "log");
        wits += tok_is(&first, "witness") || tok_is(&first, "mirror");
        subs += tok_is(&first, "submitter");
        if (tok_is(&first, "group")) {
            groups++;
            members += nt > 3 ? nt - 3 : 0;
        }
    }
    ps->cap_logs = cap_at(logs, GL_POLICY_MAX_LOGS);
    ps->cap_witnesses = cap_at(wits, GL_POLICY_MAX_WITNESSES);
    ps->cap_groups = cap_at(groups, GL_POLICY_MAX_GROUPS);
    ps->cap_members = cap_at(members, MAX_NAMED);
    ps->cap_submitters = cap_at(subs, GL_POLICY_MAX_SUBMITTERS);
}

/* Zeroed array of n items (at least one, so NULL always means failure). */
static void *alloc_array(size_t n, size_t size)
{
    return calloc(n != 0 ? n : 1, size);
}

static int alloc_policy(const char *text, size_t n, struct pstate *ps)
{
    struct gl_policy *p = calloc(1, sizeof(*p));
    size_t sz;

    ps->p = p;
    if (p == NULL || gl_size_add(n, 1, &sz) != 0 || (p->text = malloc(sz)) == NULL)
        return GL_ENOMEM;
    if (n > 0)
        memcpy(p->text, text, n);
    p->text[n] = 0;
    count_lines(p, n, ps);
    p->logs = alloc_array(ps->cap_logs, sizeof(*p->logs));
    p->log_keys = alloc_array(ps->cap_logs, sizeof(*p->log_keys));
    p->witnesses = alloc_array(ps->cap_witnesses, sizeof(*p->witnesses));
    p->witness_keys = alloc_array(ps->cap_witnesses, sizeof(*p->witness_keys));
    p->groups = alloc_array(ps->cap_groups, sizeof(*p->groups));
    p->members = alloc_array(ps->cap_members, sizeof(*p->members));
    p->submitters = alloc_array(ps->cap_submitters, sizeof(*p->submitters));
    p->roles = alloc_array(ps->cap_submitters, sizeof(*p->roles));
    if (p->logs == NULL || p->log_keys == NULL || p->witnesses == NULL ||
        p->witness_keys == NULL || p->groups == NULL || p->members == NULL ||
        p->submitters == NULL || p->roles == NULL)
        return GL_ENOMEM;
    return 0;
}

/* ---- names and keys ---- */

static void terminate(const struct tok *t)
{
    t->s[t->n] = 0; /* a separator, "\n" or the copy's final NUL */
}

static int lookup_name(const struct gl_policy *p, const char *s, size_t n,
                       struct gl_policy_ref *out)
{
    size_t i;

    if (gl_mem_is(s, n, "none")) {
        out->kind = GL_POLICY_REF_NONE;
        out->index = 0;
        return 0;
    }
    for (i = 0; i < p->nwitnesses; i++) {
        if (strlen(p->witnesses[i].name) == n &&
            memcmp(p->witnesses[i].name, s, n) == 0) {
            out->kind = GL_POLICY_REF_WITNESS;
            out->index = i;
            return 0;
        }
    }
    for (i = 0; i < p->ngroups; i++) {
        if (strlen(p->groups[i].name) == n && memcmp(p->groups[i].name, s, n) == 0) {
            out->kind = GL_POLICY_REF_GROUP;
            out->index = i;
            return 0;
        }
    }
    return GL_ENOTFOUND;
}

static size_t ref_line(const struct gl_policy *p, struct gl_policy_ref r)
{
    if (r.kind == GL_POLICY_REF_WITNESS)
        return p->witnesses[r.index].line;
    if (r.kind == GL_POLICY_REF_GROUP)
        return p->groups[r.index].line;
    return 0;
}

/* A new witness or group name: not too long, not yet defined. */
static int check_new_name(struct pstate *ps, const struct tok *t)
{
    struct gl_policy_ref r;

    if (t->n > GL_POLICY_MAX_NAME)
        return gl_err_set(ps->why, GL_ETOOBIG, ps->line, "name longer than %d bytes",
                          GL_POLICY_MAX_NAME);
    if (lookup_name(ps->p, t->s, t->n, &r) != 0)
        return 0;
    if (r.kind == GL_POLICY_REF_NONE)
        return gl_err_set(ps->why, GL_EPARSE, ps->line,
                          "the name \"none\" is predefined");
    return gl_err_set(ps->why, GL_EPARSE, ps->line,
                      "name \"%.*s\" already defined on line %zu", shown(t->n), t->s,
                      ref_line(ps->p, r));
}

static int same_name_id(const struct gl_verifier *a, const struct gl_verifier *b)
{
    return a->id == b->id && strcmp(a->name, b->name) == 0;
}

/* Compares v with one existing key of some role. */
static int check_against(struct pstate *ps, const struct gl_verifier *v,
                         const struct gl_verifier *old, size_t old_line, int same_role)
{
    if (memcmp(v->pub, old->pub, sizeof(v->pub)) == 0)
        return gl_err_set(ps->why, GL_EPARSE, ps->line,
                          "public key already used on line %zu "
                          "(a key may appear only once)",
                          old_line);
    if (same_role && same_name_id(v, old))
        return gl_err_set(ps->why, GL_EPARSE, ps->line,
                          "key name and key ID collide with line %zu", old_line);
    return 0;
}

static int check_key_unique(struct pstate *ps, const struct gl_verifier *v,
                            enum role role)
{
    const struct gl_policy *p = ps->p;
    size_t i;
    int err;

    for (i = 0; i < p->nlogs; i++)
        if ((err = check_against(ps, v, &p->log_keys[i], p->logs[i].line,
                                 role == ROLE_LOG)) != 0)
            return err;
    for (i = 0; i < p->nwitnesses; i++)
        if ((err = check_against(ps, v, &p->witness_keys[i], p->witnesses[i].line,
                                 role == ROLE_WITNESS)) != 0)
            return err;
    for (i = 0; i < p->nsubmitters; i++)
        if ((err = check_against(ps, v, &p->submitters[i], ps->submitter_line[i],
                                 role == ROLE_SUBMITTER)) != 0)
            return err;
    return 0;
}

static int parse_vkey(struct pstate *ps, const struct tok *t, const char *what,
                      struct gl_verifier *v)
{
    struct gl_err kerr;
    int err;

    memset(v, 0, sizeof(*v));
    if (t->n > GL_KEY_TEXT_MAX)
        return gl_err_set(ps->why, GL_ETOOBIG, ps->line, "%s key longer than %d bytes",
                          what, GL_KEY_TEXT_MAX);
    if ((err = gl_verifier_parse(t->s, t->n, v, &kerr)) != 0)
        return gl_err_set(ps->why, err == GL_EKEYTYPE ? err : GL_EPARSE, ps->line,
                          "%s key is not a valid vkey: %s", what, kerr.reason);
    return 0;
}

/* Optional URL token: NULL if absent. */
static int parse_url(struct pstate *ps, const struct tok *t, const char **url)
{
    *url = NULL;
    if (t == NULL)
        return 0;
    if (t->n > GL_POLICY_MAX_URL)
        return gl_err_set(ps->why, GL_ETOOBIG, ps->line, "URL longer than %d bytes",
                          GL_POLICY_MAX_URL);
    terminate(t);
    *url = t->s;
    return 0;
}

/* ---- pass two: one parser per keyword ---- */

static int parse_log(struct pstate *ps, struct tok *t, size_t nt)
{
    struct gl_policy *p = ps->p;
    struct gl_verifier v;
    int err;

    if (nt != 2 && nt != 3)
        return gl_err_set(ps->why, GL_EPARSE, ps->line, "expected: log <vkey> [<url>]");
    if (p->nlogs == ps->cap_logs)
        return gl_err_set(ps->why, GL_ETOOBIG, ps->line, "more than %d logs",
                          GL_POLICY_MAX_LOGS);
    if ((err = parse_vkey(ps, &t[1], "log", &v)) != 0)
        return err;
    if (v.type != GL_KEY_NOTE)
        return gl_err_set(ps->why, GL_EKEYTYPE, ps->line,
                          "log key must be an Ed25519 note key (type 0x01)");
    if ((err = check_key_unique(ps, &v, ROLE_LOG)) != 0 ||
        (err = parse_url(ps, nt == 3 ? &t[2] : NULL, &p->logs[p->nlogs].url)) != 0)
        return err;
    p->log_keys[p->nlogs] = v;
    p->logs[p->nlogs].line = ps->line;
    p->nlogs++;
    return 0;
}

/* A cosigner line: "witness" or (mirror = 1) "mirror", a C2SP tlog-mirror
 * cosigner, which counts in groups and the quorum exactly like a witness. */
static int parse_cosigner(struct pstate *ps, struct tok *t, size_t nt, int mirror)
{
    struct gl_policy *p = ps->p;
    struct gl_policy_witness *w;
    struct gl_verifier v, c;
    int err, converted = 0;

    if (nt != 3 && nt != 4)
        return gl_err_set(ps->why, GL_EPARSE, ps->line,
                          "expected: %s <name> <vkey> [<url>]",
                          mirror ? "mirror" : "witness");
    if (p->nwitnesses == ps->cap_witnesses)
        return gl_err_set(ps->why, GL_ETOOBIG, ps->line, "more than %d witnesses",
                          GL_POLICY_MAX_WITNESSES);
    if ((err = check_new_name(ps, &t[1])) != 0 ||
        (err = parse_vkey(ps, &t[2], "witness", &v)) != 0)
        return err;
    if ((v.type != GL_KEY_NOTE && v.type != GL_KEY_COSIG) ||
        gl_verifier_to_cosig(&v, &c, &converted) != 0)
        return gl_err_set(ps->why, GL_EKEYTYPE, ps->line,
                          "witness key must be a cosignature key (type 0x04)");
    if ((err = check_key_unique(ps, &c, ROLE_WITNESS)) != 0)
        return err;
    w = &p->witnesses[p->nwitnesses];
    if ((err = parse_url(ps, nt == 4 ? &t[3] : NULL, &w->url)) != 0)
        return err;
    terminate(&t[1]);
    w->name = t[1].s;
    w->converted = converted;
    w->mirror = mirror;
    w->line = ps->line;
    p->witness_keys[p->nwitnesses++] = c;
    return 0;
}

static int parse_witness(struct pstate *ps, struct tok *t, size_t nt)
{
    return parse_cosigner(ps, t, nt, 0);
}

static int parse_mirror(struct pstate *ps, struct tok *t, size_t nt)
{
    return parse_cosigner(ps, t, nt, 1);
}

static int parse_threshold(struct pstate *ps, const struct tok *t, size_t n,
                           struct gl_policy_group *g)
{
    uint64_t k;

    if (tok_is(t, "all")) {
        g->threshold = GL_POLICY_K_ALL;
        g->k = n;
        return 0;
    }
    if (tok_is(t, "any")) {
        g->threshold = GL_POLICY_K_ANY;
        g->k = 1;
        return 0;
    }
    if (gl_parse_u64(t->s, t->n, &k) != 0)
        return gl_err_set(ps->why, GL_EPARSE, ps->line,
                          "threshold must be all, any or a decimal number "
                          "without leading zeros");
    if (k < 1 || k > n)
        return gl_err_set(ps->why, GL_EPARSE, ps->line,
                          "threshold %.*s out of range 1..%zu", shown(t->n), t->s, n);
    g->threshold = GL_POLICY_K_NUMBER;
    g->k = (size_t)k;
    return 0;
}

/* Resolves one member token of group gi and appends it. */
static int add_member(struct pstate *ps, const struct tok *t, size_t gi)
{
    struct gl_policy *p = ps->p;
    struct gl_policy_ref r;
    size_t *in;

    if (lookup_name(p, t->s, t->n, &r) != 0)
        return gl_err_set(ps->why, GL_EPARSE, ps->line,
                          "undefined name \"%.*s\" (names must be "
                          "defined on an earlier line)",
                          shown(t->n), t->s);
    if (r.kind == GL_POLICY_REF_NONE)
        return gl_err_set(ps->why, GL_EPARSE, ps->line,
                          "\"none\" cannot be a group member");
    in = r.kind == GL_POLICY_REF_WITNESS ? &ps->witness_in[r.index]
                                         : &ps->group_in[r.index];
    if (*in == gi + 1)
        return gl_err_set(ps->why, GL_EPARSE, ps->line,
                          "\"%.*s\" listed twice in this group", shown(t->n), t->s);
    if (*in != 0)
        return gl_err_set(ps->why, GL_EPARSE, ps->line,
                          "\"%.*s\" is already a member of group %s on "
                          "line %zu (a name may be a member only once)",
                          shown(t->n), t->s, p->groups[*in - 1].name,
                          p->groups[*in - 1].line);
    if (p->nmembers == ps->cap_members) /* impossible: each name once */
        return gl_err_set(ps->why, GL_ETOOBIG, ps->line, "too many group members");
    *in = gi + 1;
    p->members[p->nmembers++] = r;
    return 0;
}

static int parse_group(struct pstate *ps, struct tok *t, size_t nt)
{
    struct gl_policy *p = ps->p;
    struct gl_policy_group *g;
    size_t i, n;
    int err;

    if (nt < 4)
        return gl_err_set(ps->why, GL_EPARSE, ps->line,
                          "expected: group <name> all|any|<k> <member>...");
    n = nt - 3;
    if (n > GL_POLICY_MAX_MEMBERS)
        return gl_err_set(ps->why, GL_ETOOBIG, ps->line, "more than %d group members",
                          GL_POLICY_MAX_MEMBERS);
    if (p->ngroups == ps->cap_groups)
        return gl_err_set(ps->why, GL_ETOOBIG, ps->line, "more than %d groups",
                          GL_POLICY_MAX_GROUPS);
    g = &p->groups[p->ngroups];
    if ((err = check_new_name(ps, &t[1])) != 0 ||
        (err = parse_threshold(ps, &t[2], n, g)) != 0)
        return err;
    g->members = p->members + p->nmembers;
    for (i = 0; i < n; i++)
        if ((err = add_member(ps, &t[3 + i], p->ngroups)) != 0)
            return err;
    terminate(&t[1]);
    g->name = t[1].s;
    g->nmembers = n;
    g->line = ps->line;
    p->ngroups++;
    return 0;
}

static int parse_quorum(struct pstate *ps, struct tok *t, size_t nt)
{
    if (nt != 2)
        return gl_err_set(ps->why, GL_EPARSE, ps->line, "expected: quorum <name>|none");
    if (ps->quorum_line != 0)
        return gl_err_set(ps->why, GL_EPARSE, ps->line,
                          "second quorum line (the first is on line %zu)",
                          ps->quorum_line);
    if (lookup_name(ps->p, t[1].s, t[1].n, &ps->p->quorum) != 0)
        return gl_err_set(ps->why, GL_EPARSE, ps->line,
                          "undefined name \"%.*s\" (names must be "
                          "defined on an earlier line)",
                          shown(t[1].n), t[1].s);
    ps->quorum_line = ps->line;
    return 0;
}

static const char *const role_names[] = {
    [GL_POLICY_ROLE_NONE] = "",
    [GL_POLICY_ROLE_BUILDER] = "builder",
    [GL_POLICY_ROLE_REBUILDER] = "rebuilder",
    [GL_POLICY_ROLE_AUDITOR] = "auditor",
};

const char *gl_policy_role_name(enum gl_policy_role r)
{
    if (r < GL_POLICY_ROLE_BUILDER || r > GL_POLICY_ROLE_AUDITOR)
        return NULL;
    return role_names[r];
}

static int parse_role(struct pstate *ps, const struct tok *t, uint8_t *role)
{
    int r;

    for (r = GL_POLICY_ROLE_BUILDER; r <= GL_POLICY_ROLE_AUDITOR; r++)
        if (tok_is(t, role_names[r])) {
            *role = (uint8_t)r;
            return 0;
        }
    return gl_err_set(ps->why, GL_EPARSE, ps->line,
                      "unknown submitter role \"%.*s\" (builder, rebuilder or auditor)",
                      shown(t->n), t->s);
}

static int parse_submitter(struct pstate *ps, struct tok *t, size_t nt)
{
    struct gl_policy *p = ps->p;
    struct gl_verifier v;
    uint8_t role = GL_POLICY_ROLE_NONE;
    int err;

    if (nt != 2 && nt != 3)
        return gl_err_set(ps->why, GL_EPARSE, ps->line,
                          "expected: submitter <vkey> [builder|rebuilder|auditor]");
    if (nt == 3 && (err = parse_role(ps, &t[2], &role)) != 0)
        return err;
    if (p->nsubmitters == ps->cap_submitters)
        return gl_err_set(ps->why, GL_ETOOBIG, ps->line, "more than %d submitters",
                          GL_POLICY_MAX_SUBMITTERS);
    if ((err = parse_vkey(ps, &t[1], "submitter", &v)) != 0)
        return err;
    if (v.type != GL_KEY_NOTE)
        return gl_err_set(ps->why, GL_EKEYTYPE, ps->line,
                          "submitter key must be an Ed25519 note key (type 0x01)");
    if ((err = check_key_unique(ps, &v, ROLE_SUBMITTER)) != 0)
        return err;
    ps->submitter_line[p->nsubmitters] = ps->line;
    p->roles[p->nsubmitters] = role;
    p->submitters[p->nsubmitters++] = v;
    return 0;
}

/* require rebuilds <k> | require audit: each at most once. */
static int parse_require(struct pstate *ps, struct tok *t, size_t nt)
{
    struct gl_policy *p = ps->p;
    uint64_t k;

    if (nt == 2 && tok_is(&t[1], "audit")) {
        if (ps->audit_line != 0)
            return gl_err_set(ps->why, GL_EPARSE, ps->line,
                              "second \"require audit\" line (first on line %zu)",
                              ps->audit_line);
        ps->audit_line = ps->line;
        p->require_audit = 1;
        return 0;
    }
    if (nt != 3 || !tok_is(&t[1], "rebuilds"))
        return gl_err_set(ps->why, GL_EPARSE, ps->line,
                          "expected: require rebuilds <k> | require audit");
    if (ps->rebuilds_line != 0)
        return gl_err_set(ps->why, GL_EPARSE, ps->line,
                          "second \"require rebuilds\" line (first on line %zu)",
                          ps->rebuilds_line);
    if (gl_parse_u64(t[2].s, t[2].n, &k) != 0 || k < 1 || k > GL_POLICY_MAX_SUBMITTERS)
        return gl_err_set(ps->why, GL_EPARSE, ps->line,
                          "rebuild count is not a decimal in 1..%d without leading zeros",
                          GL_POLICY_MAX_SUBMITTERS);
    ps->rebuilds_line = ps->line;
    p->require_rebuilds = (size_t)k;
    return 0;
}

static size_t count_role(const struct gl_policy *p, enum gl_policy_role r)
{
    size_t i, n = 0;

    for (i = 0; i < p->nsubmitters; i++)
        n += p->roles[i] == r;
    return n;
}

/* After the last line: the requirements can be met by the roles given. */
static int check_requirements(struct pstate *ps)
{
    const struct gl_policy *p = ps->p;
    size_t rebuilders = count_role(p, GL_POLICY_ROLE_REBUILDER);
    size_t first = ps->rebuilds_line != 0 ? ps->rebuilds_line : ps->audit_line;

    if (ps->audit_line != 0 && ps->audit_line < first)
        first = ps->audit_line;
    if (first != 0 && count_role(p, GL_POLICY_ROLE_BUILDER) == 0)
        return gl_err_set(
            ps->why, GL_EPARSE, first,
            "a requirement needs at least one \"submitter <vkey> builder\"");
    if (p->require_rebuilds > rebuilders)
        return gl_err_set(ps->why, GL_EPARSE, ps->rebuilds_line,
                          "require rebuilds %zu, but the policy names %zu rebuilder%s",
                          p->require_rebuilds, rebuilders, rebuilders == 1 ? "" : "s");
    if (p->require_audit && count_role(p, GL_POLICY_ROLE_AUDITOR) == 0)
        return gl_err_set(ps->why, GL_EPARSE, ps->audit_line,
                          "require audit, but the policy names no auditor");
    return 0;
}

static const struct {
    const char *word;
    int (*parse)(struct pstate *, struct tok *, size_t);
} keywords[] = {
    {"log", parse_log},       {"witness", parse_witness},     {"group", parse_group},
    {"quorum", parse_quorum}, {"submitter", parse_submitter}, {"require", parse_require},
    {"mirror", parse_mirror},
};

/* Each keyword parser checks nt before touching t[1..]; t holds the
 * first MAX_TOKENS tokens, enough for every valid line. */
static int parse_line(struct pstate *ps, char *line, size_t len)
{
    struct tok t[MAX_TOKENS];
    size_t nt, i;
    int err;

    if ((err = check_chars(ps, line, len)) != 0)
        return err;
    if ((nt = tokenize(line, len, t, MAX_TOKENS)) == 0)
        return 0;
    for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
        if (tok_is(&t[0], keywords[i].word))
            return keywords[i].parse(ps, t, nt);
    if (ps->line == 1 &&
        (tok_is(&t[0], GL_TLOGPROOF_HEADER) || tok_is(&t[0], GL_CHAINBUNDLE_HEADER)))
        return gl_err_set(ps->why, GL_EPARSE, 1, "a proof bundle, not a policy");
    return gl_err_set(ps->why, GL_EPARSE, ps->line, "unknown keyword \"%.*s\"",
                      shown(t[0].n), t[0].s);
}

static int parse_all(struct pstate *ps, size_t n)
{
    struct gl_text it;
    const char *line;
    size_t len;
    int err;

    lines_init(&it, ps->p->text, n);
    while (gl_text_line(&it, &line, &len) == 0) {
        ps->line = it.line;
        if ((err = parse_line(ps, own(ps->p, line), len)) != 0)
            return err;
    }
    ps->line = 0;
    if (ps->quorum_line == 0)
        return gl_err_set(ps->why, GL_EPARSE, 0,
                          "no quorum line (use \"quorum none\" to "
                          "require no cosignatures)");
    return check_requirements(ps);
}

/* Points each entry at its key now that the arrays are final. */
static void link_keys(struct gl_policy *p)
{
    size_t i;

    for (i = 0; i < p->nlogs; i++)
        p->logs[i].key = &p->log_keys[i];
    for (i = 0; i < p->nwitnesses; i++)
        p->witnesses[i].key = &p->witness_keys[i];
}

/* The cheap invariants of a parsed policy (top of the file), asserted. */
static void check_invariants(const struct gl_policy *p)
{
#ifndef NDEBUG
    for (size_t i = 0; i < p->ngroups; i++) {
        const struct gl_policy_group *g = &p->groups[i];
        assert(g->k >= 1 && g->k <= g->nmembers && g->nmembers <= GL_POLICY_MAX_MEMBERS);
        for (size_t m = 0; m < g->nmembers; m++) /* define before use: no cycle */
            assert(g->members[m].kind != GL_POLICY_REF_GROUP || g->members[m].index < i);
    }
    for (size_t i = 0; i < p->nlogs; i++)
        assert(p->log_keys[i].type == GL_KEY_NOTE);
    for (size_t i = 0; i < p->nwitnesses; i++)
        assert(p->witness_keys[i].type == GL_KEY_COSIG);
    for (size_t i = 0; i < p->nsubmitters; i++)
        assert(p->submitters[i].type == GL_KEY_NOTE);
#endif
    (void)p;
}

int gl_policy_parse(const char *text, size_t n, struct gl_policy **out,
                    struct gl_err *why)
{
    struct pstate *ps;
    int rc;

    if (out == NULL || (text == NULL && n != 0))
        return gl_err_set(why, GL_EINVAL, 0, "no policy text");
    *out = NULL;
    if ((ps = calloc(1, sizeof(*ps))) == NULL)
        return gl_err_set(why, GL_ENOMEM, 0, "out of memory");
    ps->why = why;
    if (n > GL_POLICY_MAX_SIZE) {
        rc = gl_err_set(why, GL_ETOOBIG, 0, "policy larger than %d bytes",
                        GL_POLICY_MAX_SIZE);
        goto out;
    }
    if ((rc = alloc_policy(text, n, ps)) != 0) {
        gl_err_set(why, rc, 0, "out of memory");
        goto out;
    }
    if ((rc = parse_all(ps, n)) != 0)
        goto out;
    link_keys(ps->p);
    check_invariants(ps->p);
    *out = ps->p;
    ps->p = NULL;
out:
    gl_policy_free(ps->p);
    free(ps);
    return rc;
}

void gl_policy_free(struct gl_policy *p)
{
    if (p == NULL)
        return;
    free(p->text);
    free(p->logs);
    free(p->log_keys);
    free(p->witnesses);
    free(p->witness_keys);
    free(p->groups);
    free(p->members);
    free(p->submitters);
    free(p->roles);
    free(p);
}

/* ---- accessors and lookups ---- */

size_t gl_policy_nlogs(const struct gl_policy *p)
{
    return p->nlogs;
}

const struct gl_policy_log *gl_policy_log_at(const struct gl_policy *p, size_t i)
{
    return i < p->nlogs ? &p->logs[i] : NULL;
}

size_t gl_policy_nwitnesses(const struct gl_policy *p)
{
    return p->nwitnesses;
}

const struct gl_policy_witness *gl_policy_witness_at(const struct gl_policy *p, size_t i)
{
    return i < p->nwitnesses ? &p->witnesses[i] : NULL;
}

size_t gl_policy_ngroups(const struct gl_policy *p)
{
    return p->ngroups;
}

const struct gl_policy_group *gl_policy_group_at(const struct gl_policy *p, size_t i)
{
    return i < p->ngroups ? &p->groups[i] : NULL;
}

struct gl_policy_ref gl_policy_quorum(const struct gl_policy *p)
{
    return p->quorum;
}

const struct gl_verifier *gl_policy_log_keys(const struct gl_policy *p, size_t *n)
{
    *n = p->nlogs;
    return p->log_keys;
}

const struct gl_verifier *gl_policy_witness_keys(const struct gl_policy *p, size_t *n)
{
    *n = p->nwitnesses;
    return p->witness_keys;
}

const struct gl_verifier *gl_policy_submitters(const struct gl_policy *p, size_t *n)
{
    *n = p->nsubmitters;
    return p->submitters;
}

enum gl_policy_role gl_policy_submitter_role(const struct gl_policy *p, size_t i)
{
    return i < p->nsubmitters ? (enum gl_policy_role)p->roles[i] : GL_POLICY_ROLE_NONE;
}

size_t gl_policy_require_rebuilds(const struct gl_policy *p)
{
    return p->require_rebuilds;
}

int gl_policy_require_audit(const struct gl_policy *p)
{
    return p->require_audit;
}

static int name_is(const char *name, const char *s, size_t n)
{
    return strlen(name) == n && memcmp(name, s, n) == 0;
}

int gl_policy_find_log(const struct gl_policy *p, const char *origin, size_t n,
                       size_t from, size_t *idx)
{
    size_t i;

    for (i = from; i < p->nlogs; i++) {
        if (name_is(p->log_keys[i].name, origin, n)) {
            *idx = i;
            return 0;
        }
    }
    return GL_ENOTFOUND;
}

static int find_key(const struct gl_verifier *keys, size_t nkeys, const char *name,
                    size_t n, uint32_t id, size_t *idx)
{
    size_t i;

    for (i = 0; i < nkeys; i++) {
        if (keys[i].id == id && name_is(keys[i].name, name, n)) {
            *idx = i;
            return 0;
        }
    }
    return GL_ENOTFOUND;
}

int gl_policy_find_log_key(const struct gl_policy *p, const char *name, size_t n,
                           uint32_t id, size_t *idx)
{
    return find_key(p->log_keys, p->nlogs, name, n, id, idx);
}

int gl_policy_find_witness_key(const struct gl_policy *p, const char *name, size_t n,
                               uint32_t id, size_t *idx)
{
    return find_key(p->witness_keys, p->nwitnesses, name, n, id, idx);
}

int gl_policy_find_name(const struct gl_policy *p, const char *name, size_t n,
                        struct gl_policy_ref *out)
{
    return lookup_name(p, name, n, out);
}

/* ---- the quorum decision ---- */

int gl_policy_quorum_check(const struct gl_policy *p, const uint8_t *witnessed,
                           size_t nwitnessed)
{
    uint8_t sat[GL_POLICY_MAX_GROUPS] = {0};
    size_t g, m, count;

    static const uint8_t no_witnesses[1];

    if (p == NULL || nwitnessed != p->nwitnesses ||
        (witnessed == NULL && nwitnessed != 0))
        return GL_EINVAL;
    if (witnessed == NULL) /* no witnesses, so no witness refs either */
        witnessed = no_witnesses;
    /* Members precede their group, so index order decides every group. */
    for (g = 0; g < p->ngroups; g++) {
        const struct gl_policy_group *grp = &p->groups[g];
        for (m = 0, count = 0; m < grp->nmembers; m++) {
            struct gl_policy_ref r = grp->members[m];
            count +=
                r.kind == GL_POLICY_REF_WITNESS ? witnessed[r.index] != 0 : sat[r.index];
        }
        sat[g] = count >= grp->k;
    }
    switch (p->quorum.kind) {
    case GL_POLICY_REF_NONE:
        return 0;
    case GL_POLICY_REF_WITNESS:
        return witnessed[p->quorum.index] != 0 ? 0 : GL_EQUORUM;
    default:
        return sat[p->quorum.index] ? 0 : GL_EQUORUM;
    }
}

/* ---- the quorum's time ---- */

static int cmp_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Whether the counted witnesses dated at or after t satisfy the quorum. */
static int quorum_since(const struct gl_policy *p, const uint64_t *times,
                        const uint8_t *counted, uint64_t t)
{
    uint8_t w[GL_POLICY_MAX_WITNESSES];
    size_t i;

    for (i = 0; i < p->nwitnesses; i++)
        w[i] = counted[i] != 0 && times[i] >= t;
    return gl_policy_quorum_check(p, w, p->nwitnesses) == 0;
}

/* Distinct counted times, sorted descending; returns their number. */
static size_t distinct_times(const uint64_t *times, const uint8_t *counted, size_t n,
                             uint64_t *out)
{
    size_t i, m = 0, d = 0;

    for (i = 0; i < n; i++)
        if (counted[i])
            out[m++] = times[i];
    qsort(out, m, sizeof(*out), cmp_desc);
    for (i = 0; i < m; i++)
        if (d == 0 || out[i] != out[d - 1])
            out[d++] = out[i];
    return d;
}

int gl_policy_quorum_time(const struct gl_policy *p, const uint64_t *times,
                          const uint8_t *counted, size_t n, uint64_t *t)
{
    uint64_t cand[GL_POLICY_MAX_WITNESSES];
    size_t d, lo, hi;

    if (p == NULL || t == NULL || n != p->nwitnesses ||
        ((times == NULL || counted == NULL) && n != 0))
        return GL_EINVAL;
    if (p->quorum.kind == GL_POLICY_REF_NONE)
        return GL_ENOTFOUND;
    d = distinct_times(times, counted, n, cand);
    if (d == 0 || !quorum_since(p, times, counted, cand[d - 1]))
        return GL_EQUORUM;
    /* Satisfaction only grows as the threshold falls (cand[j] descends
     * with j): find the first j at which it holds; cand[hi] always does. */
    lo = 0;
    hi = d - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (quorum_since(p, times, counted, cand[mid]))
            hi = mid;
        else
            lo = mid + 1;
    }
    *t = cand[hi];
    return 0;
}

/* ---- description ---- */

static const char *ref_name(const struct gl_policy *p, struct gl_policy_ref r)
{
    if (r.kind == GL_POLICY_REF_WITNESS)
        return p->witnesses[r.index].name;
    if (r.kind == GL_POLICY_REF_GROUP)
        return p->groups[r.index].name;
    return "none";
}

/* "witnesses", "groups" or "members", by what the group holds. */
static const char *member_noun(const struct gl_policy_group *g)
{
    size_t i, nw = 0;

    for (i = 0; i < g->nmembers; i++)
        nw += g->members[i].kind == GL_POLICY_REF_WITNESS;
    if (nw == g->nmembers)
        return g->nmembers == 1 ? "witness" : "witnesses";
    if (nw == 0)
        return g->nmembers == 1 ? "group" : "groups";
    return "members";
}

static int describe_group(const struct gl_policy *p, size_t gi, struct gl_buf *out);

static int describe_member(const struct gl_policy *p, struct gl_policy_ref r,
                           struct gl_buf *out)
{
    int err;

    if ((err = gl_buf_append_str(out, ref_name(p, r))) != 0 ||
        r.kind != GL_POLICY_REF_GROUP)
        return err;
    if ((err = gl_buf_append_str(out, " (")) != 0 ||
        (err = describe_group(p, r.index, out)) != 0)
        return err;
    return gl_buf_putc(out, ')');
}

/* "2 of 3 witnesses: A, B, C"; groups nest in parentheses (depth is at
 * most GL_POLICY_MAX_GROUPS, each level a small frame). */
static int describe_group(const struct gl_policy *p, size_t gi, struct gl_buf *out)
{
    const struct gl_policy_group *g = &p->groups[gi];
    size_t i;
    int err;

    if (g->k == g->nmembers && g->nmembers > 1)
        err = gl_buf_printf(out, "all %zu %s: ", g->nmembers, member_noun(g));
    else if (g->k == 1 && g->nmembers > 1)
        err = gl_buf_printf(out, "any of %zu %s: ", g->nmembers, member_noun(g));
    else
        err = gl_buf_printf(out, "%zu of %zu %s: ", g->k, g->nmembers, member_noun(g));
    for (i = 0; err == 0 && i < g->nmembers; i++) {
        if (i > 0 && (err = gl_buf_append_str(out, ", ")) != 0)
            break;
        err = describe_member(p, g->members[i], out);
    }
    return err;
}

static int describe_logs(const struct gl_policy *p, struct gl_buf *out)
{
    size_t i;
    int err;

    if (p->nlogs == 0)
        return gl_buf_append_str(out, "no logs");
    if ((err = gl_buf_append_str(out, p->nlogs == 1 ? "log " : "logs ")) != 0)
        return err;
    for (i = 0; i < p->nlogs; i++)
        if ((i > 0 && (err = gl_buf_append_str(out, ", ")) != 0) ||
            (err = gl_buf_append_str(out, p->log_keys[i].name)) != 0)
            return err;
    return 0;
}

static int describe_submitters(const struct gl_policy *p, struct gl_buf *out)
{
    size_t i;
    int err = 0;

    if (p->nsubmitters == 0)
        return 0;
    if ((err = gl_buf_append_str(out, p->nsubmitters == 1 ? "; submitter "
                                                          : "; submitters ")) != 0)
        return err;
    for (i = 0; i < p->nsubmitters; i++)
        if ((i > 0 && (err = gl_buf_append_str(out, ", ")) != 0) ||
            (err = gl_buf_append_str(out, p->submitters[i].name)) != 0 ||
            (p->roles[i] != GL_POLICY_ROLE_NONE &&
             (err = gl_buf_printf(out, " (%s)", role_names[p->roles[i]])) != 0))
            return err;
    if (p->require_rebuilds > 0 &&
        (err = gl_buf_printf(out, "; requires %zu rebuild%s", p->require_rebuilds,
                             p->require_rebuilds == 1 ? "" : "s")) != 0)
        return err;
    if (p->require_audit &&
        (err = gl_buf_append_str(out, "; requires an audit of the source")) != 0)
        return err;
    return 0;
}

static int describe_quorum(const struct gl_policy *p, struct gl_buf *out)
{
    int err;

    if ((err = gl_buf_append_str(out, "; quorum: ")) != 0)
        return err;
    switch (p->quorum.kind) {
    case GL_POLICY_REF_NONE:
        return gl_buf_append_str(out, "none (no cosignatures required)");
    case GL_POLICY_REF_WITNESS:
        return gl_buf_printf(out, "witness %s", ref_name(p, p->quorum));
    default:
        return describe_group(p, p->quorum.index, out);
    }
}

int gl_policy_describe(const struct gl_policy *p, struct gl_buf *out)
{
    int err;

    if (p == NULL || out == NULL)
        return GL_EINVAL;
    if ((err = describe_logs(p, out)) != 0 || (err = describe_quorum(p, out)) != 0)
        return err;
    return describe_submitters(p, out);
}

/* ---- canonical formatting ---- */

static int put_key_url(struct gl_buf *out, const struct gl_verifier *k, const char *url)
{
    int err;

    if ((err = gl_verifier_format(k, out)) != 0)
        return err;
    if (url != NULL &&
        ((err = gl_buf_putc(out, ' ')) != 0 || (err = gl_buf_append_str(out, url)) != 0))
        return err;
    return gl_buf_putc(out, '\n');
}

static int format_group(const struct gl_policy *p, const struct gl_policy_group *g,
                        struct gl_buf *out)
{
    size_t i;
    int err;

    if ((err = gl_buf_printf(out, "group %s ", g->name)) != 0)
        return err;
    if (g->threshold == GL_POLICY_K_ALL)
        err = gl_buf_append_str(out, "all");
    else if (g->threshold == GL_POLICY_K_ANY)
        err = gl_buf_append_str(out, "any");
    else
        err = gl_buf_append_u64(out, g->k);
    for (i = 0; err == 0 && i < g->nmembers; i++)
        if ((err = gl_buf_putc(out, ' ')) == 0)
            err = gl_buf_append_str(out, ref_name(p, g->members[i]));
    return err != 0 ? err : gl_buf_putc(out, '\n');
}

/* portable: mirror lines are written as witness lines (plain tlog-policy
 * has no mirror keyword; a mirror is a cosigner all the same). */
static int format_entries(const struct gl_policy *p, int portable, struct gl_buf *out)
{
    size_t i;
    int err;

    for (i = 0; i < p->nlogs; i++)
        if ((err = gl_buf_append_str(out, "log ")) != 0 ||
            (err = put_key_url(out, &p->log_keys[i], p->logs[i].url)) != 0)
            return err;
    for (i = 0; i < p->nwitnesses; i++)
        if ((err =
                 gl_buf_printf(out, "%s %s ",
                               p->witnesses[i].mirror && !portable ? "mirror" : "witness",
                               p->witnesses[i].name)) != 0 ||
            (err = put_key_url(out, &p->witness_keys[i], p->witnesses[i].url)) != 0)
            return err;
    for (i = 0; i < p->ngroups; i++)
        if ((err = format_group(p, &p->groups[i], out)) != 0)
            return err;
    return gl_buf_printf(out, "quorum %s\n", ref_name(p, p->quorum));
}

/* The glasslog extension lines: submitters (with roles), requirements. */
static int format_glasslog(const struct gl_policy *p, struct gl_buf *out)
{
    size_t i;
    int err;

    for (i = 0; i < p->nsubmitters; i++)
        if ((err = gl_buf_append_str(out, "submitter ")) != 0 ||
            (err =
                 put_key_url(out, &p->submitters[i],
                             p->roles[i] != GL_POLICY_ROLE_NONE ? role_names[p->roles[i]]
                                                                : NULL)) != 0)
            return err;
    if (p->require_rebuilds > 0 &&
        (err = gl_buf_printf(out, "require rebuilds %zu\n", p->require_rebuilds)) != 0)
        return err;
    if (p->require_audit && (err = gl_buf_append_str(out, "require audit\n")) != 0)
        return err;
    return 0;
}

int gl_policy_format(const struct gl_policy *p, int flags, struct gl_buf *out)
{
    struct gl_buf tmp;
    int err;

    if (p == NULL || out == NULL)
        return GL_EINVAL;
    gl_buf_init(&tmp, out->max);
    if ((err = format_entries(p, (flags & GL_POLICY_FORMAT_PORTABLE) != 0, &tmp)) != 0)
        goto out;
    if (!(flags & GL_POLICY_FORMAT_PORTABLE) && (err = format_glasslog(p, &tmp)) != 0)
        goto out;
    err = gl_buf_append(out, tmp.data, tmp.len);
out:
    gl_buf_release(&tmp);
    return err;
}

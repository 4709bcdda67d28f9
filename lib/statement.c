/*
 * statement: parse, verify, format and sign glasslog statements
 * (specs/statement.md).
 *
 * Design. The note layer (note.c) owns the signed-note syntax; this module
 * adds the statement rules on top: size <= 65535, exactly one 64-byte
 * Ed25519 signature, and the fixed line grammar of the text. The text is
 * read with the strict line cutter (text.h), one expected field at a
 * time, so the order is enforced by construction; a refusal names the
 * first problem and its line.
 *
 * Invariants.
 *  - One set of field predicates (kind, token, digest, time, meta key, meta
 *    value, meta order) serves both the parser and the formatter, so
 *    format_text(parse(x).fields) == x.text for every valid x.
 *  - A parsed statement owns nothing; every pointer is into the message.
 *  - Outputs (gl_buf) change only on success: text and notes are built in
 *    a private buffer and appended in one step.
 */
#include "glasslog/statement.h"

#include <stdio.h>
#include <string.h>

#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "text.h"

#define ED25519_SIG_LEN 64
/* "— " + name + " " + base64(4 + 64 bytes) + "\n" around the key name. */
#define SIG_LINE_OVERHEAD (4 + 1 + 92 + 1)

static const char *const kind_names[] = {
    [GL_STATEMENT_BUILD] = "build",
    [GL_STATEMENT_RULE_UPDATE] = "rule-update",
    [GL_STATEMENT_AUDIT_REPORT] = "audit-report",
    [GL_STATEMENT_SOURCE] = "source",
    [GL_STATEMENT_REBUILD] = "rebuild",
};

const char *gl_statement_kind_name(enum gl_statement_kind kind)
{
    if (kind < GL_STATEMENT_BUILD || kind > GL_STATEMENT_REBUILD)
        return NULL;
    return kind_names[kind];
}

int gl_statement_kind_parse(const char *s, size_t n, enum gl_statement_kind *out)
{
    int k;

    for (k = GL_STATEMENT_BUILD; k <= GL_STATEMENT_REBUILD; k++) {
        if (strlen(kind_names[k]) == n && memcmp(kind_names[k], s, n) == 0) {
            *out = (enum gl_statement_kind)k;
            return 0;
        }
    }
    return GL_EPARSE;
}

/* ---- field predicates (shared by parse and format) ---- */

/* Reasons shared by the parser and the formatter. */
#define WHY_KIND "kind is not build, rule-update or audit-report"
#define WHY_KIND2 "kind is not build, rule-update, audit-report, source or rebuild"
#define WHY_SCOPE "scope is not 1-1024 printable bytes with single inner spaces"
#define WHY_SUBJECT "subject is not 1-256 printable ASCII bytes without spaces"
#define WHY_VERSION "version is not 1-256 printable ASCII bytes without spaces"
#define WHY_META_MAX "more than 32 meta lines"
#define WHY_META_KEY "meta key is not 1-64 bytes of [a-z0-9._-]"
#define WHY_META_VALUE "meta value is not 0-1024 printable bytes with single inner spaces"

/* 1 if kind exists in statement format 1 or 2. */
static int kind_valid(unsigned format, enum gl_statement_kind kind)
{
    if (format == 2)
        return gl_statement_kind_name(kind) != NULL;
    return format == 1 && kind >= GL_STATEMENT_BUILD && kind <= GL_STATEMENT_AUDIT_REPORT;
}

int gl_statement_has_source(const struct gl_statement_fields *f)
{
    return f->format == 2 &&
           (f->kind == GL_STATEMENT_BUILD || f->kind == GL_STATEMENT_RULE_UPDATE ||
            f->kind == GL_STATEMENT_REBUILD);
}

int gl_statement_links_source(const struct gl_statement_fields *f, const uint8_t x[32])
{
    if (f->kind == GL_STATEMENT_AUDIT_REPORT) {
        for (size_t i = 0; i < f->naudited; i++)
            if (memcmp(f->audited[i], x, 32) == 0)
                return 1;
        return 0;
    }
    return gl_statement_has_source(f) && memcmp(f->source, x, 32) == 0;
}

static int is_v2_audit(const struct gl_statement_fields *f)
{
    return f->format == 2 && f->kind == GL_STATEMENT_AUDIT_REPORT;
}

/* 1..max bytes, each 0x21-0x7E. */
static int token_valid(const char *s, size_t n, size_t max)
{
    size_t i;

    if (s == NULL || n == 0 || n > max)
        return 0;
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return 0;
    return 1;
}

static int meta_key_valid(const char *s, size_t n)
{
    size_t i;

    if (s == NULL || n == 0 || n > GL_STATEMENT_META_KEY_MAX)
        return 0;
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return 0;
    }
    return 1;
}

/* 0..1024 bytes of 0x20-0x7E, no leading, trailing or double space. */
static int meta_value_valid(const char *s, size_t n)
{
    size_t i;

    if (n == 0)
        return 1;
    if (s == NULL || n > GL_STATEMENT_META_VALUE_MAX || s[0] == ' ' || s[n - 1] == ' ')
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7e || (c == ' ' && s[i - 1] == ' '))
            return 0;
    }
    return 1;
}

/* Bytewise order of two keys: <0, 0, >0. */
static int key_cmp(const struct gl_statement_meta *a, const struct gl_statement_meta *b)
{
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(a->key, b->key, n);

    if (c != 0)
        return c;
    return a->key_len < b->key_len ? -1 : a->key_len > b->key_len;
}

static int time_valid(uint64_t t)
{
    return t >= 1 && t <= (uint64_t)GL_STATEMENT_TIME_MAX;
}

/* ---- parsing the text ---- */

/* Reads the line "<name> <value>" and returns the value (NULL, 0 on
 * failure: the outputs are set on every path). */
static int take_field(struct gl_text *t, const char *name, const char **val, size_t *vlen,
                      struct gl_err *why)
{
    size_t nl = strlen(name), len;
    const char *line;
    char what[16];
    int err;

    *val = NULL;
    *vlen = 0;
    if ((err = gl_text_line(t, &line, &len)) != 0) {
        snprintf(what, sizeof(what), "%s line", name);
        return gl_text_missing(t, err, what, why);
    }
    if (len <= nl || line[nl] != ' ' || memcmp(line, name, nl) != 0)
        return gl_err_set(why, GL_EPARSE, t->line, "expected a \"%s <value>\" line",
                          name);
    *val = line + nl + 1;
    *vlen = len - nl - 1;
    return 0;
}

static int parse_head(struct gl_text *t, struct gl_statement_fields *f,
                      struct gl_err *why)
{
    const char *line, *v;
    size_t len, vn;
    int err;

    if (gl_text_line(t, &line, &len) != 0 || len != strlen(GL_STATEMENT_HEADER))
        return gl_err_set(why, GL_EPARSE, 1,
                          "first line is not " GL_STATEMENT_HEADER
                          " or " GL_STATEMENT_HEADER_V2);
    if (memcmp(line, GL_STATEMENT_HEADER, len) == 0)
        f->format = 1;
    else if (memcmp(line, GL_STATEMENT_HEADER_V2, len) == 0)
        f->format = 2;
    else
        return gl_err_set(why, GL_EPARSE, 1,
                          "first line is not " GL_STATEMENT_HEADER
                          " or " GL_STATEMENT_HEADER_V2);
    if ((err = take_field(t, "kind", &v, &vn, why)) != 0)
        return err;
    if (gl_statement_kind_parse(v, vn, &f->kind) != 0 || !kind_valid(f->format, f->kind))
        return gl_err_set(why, GL_EPARSE, t->line, f->format == 2 ? WHY_KIND2 : WHY_KIND);
    if ((err = take_field(t, "subject", &f->subject, &f->subject_len, why)) != 0)
        return err;
    if (!token_valid(f->subject, f->subject_len, GL_STATEMENT_SUBJECT_MAX))
        return gl_err_set(why, GL_EPARSE, t->line, WHY_SUBJECT);
    if ((err = take_field(t, "version", &f->version, &f->version_len, why)) != 0)
        return err;
    if (!token_valid(f->version, f->version_len, GL_STATEMENT_VERSION_MAX))
        return gl_err_set(why, GL_EPARSE, t->line, WHY_VERSION);
    return 0;
}

static int parse_digest_time(struct gl_text *t, struct gl_statement_fields *f,
                             struct gl_err *why)
{
    const char *v;
    size_t vn;
    int err;

    if ((err = take_field(t, "sha256", &v, &vn, why)) != 0)
        return err;
    if (vn != GL_HASH_HEX_LEN ||
        gl_hex_decode_exact(v, vn, f->sha256, GL_HASH_LEN, 1) != 0)
        return gl_err_set(why, GL_EPARSE, t->line,
                          "sha256 is not 64 lowercase hex digits");
    if ((err = take_field(t, "time", &v, &vn, why)) != 0)
        return err;
    if (gl_parse_u64(v, vn, &f->time) != 0 || !time_valid(f->time))
        return gl_err_set(why, GL_EPARSE, t->line,
                          "time is not a decimal in 1..2^63-1 without leading zeros");
    return 0;
}

/* A "<name> <64 lowercase hex>" line into out. */
static int take_digest(struct gl_text *t, const char *name, uint8_t out[GL_HASH_LEN],
                       struct gl_err *why)
{
    const char *v;
    size_t vn;
    int err;

    if ((err = take_field(t, name, &v, &vn, why)) != 0)
        return err;
    if (vn != GL_HASH_HEX_LEN || gl_hex_decode_exact(v, vn, out, GL_HASH_LEN, 1) != 0)
        return gl_err_set(why, GL_EPARSE, t->line, "%s is not 64 lowercase hex digits",
                          name);
    return 0;
}

/* 1 if the next line starts with "<name> " (the cursor does not move). */
static int next_is(const struct gl_text *t, const char *name)
{
    struct gl_text peek = *t;
    size_t nl = strlen(name), len;
    const char *line;

    return gl_text_line(&peek, &line, &len) == 0 && len > nl && line[nl] == ' ' &&
           memcmp(line, name, nl) == 0;
}

/* The audited lines of a v2 audit-report: 1..AUDITED_MAX, ascending. */
static int parse_audited(struct gl_text *t, struct gl_statement_fields *f,
                         struct gl_err *why)
{
    int err;

    f->naudited = 0;
    do {
        if (f->naudited == GL_STATEMENT_AUDITED_MAX)
            return gl_err_set(why, GL_EPARSE, t->line + 1, "more than %d audited lines",
                              GL_STATEMENT_AUDITED_MAX);
        if ((err = take_digest(t, "audited", f->audited[f->naudited], why)) != 0)
            return err;
        if (f->naudited > 0 && memcmp(f->audited[f->naudited - 1],
                                      f->audited[f->naudited], GL_HASH_LEN) >= 0)
            return gl_err_set(why, GL_EPARSE, t->line,
                              "audited digests are not strictly ascending (duplicate or "
                              "out of order)");
        f->naudited++;
    } while (next_is(t, "audited"));
    return 0;
}

/* The v2 link lines between time and meta, as the kind requires. */
static int parse_links(struct gl_text *t, struct gl_statement_fields *f,
                       struct gl_err *why)
{
    int err;

    if (gl_statement_has_source(f))
        return take_digest(t, "source", f->source, why);
    if (!is_v2_audit(f))
        return 0;
    if ((err = parse_audited(t, f, why)) != 0 ||
        (err = take_field(t, "scope", &f->scope, &f->scope_len, why)) != 0)
        return err;
    if (f->scope_len == 0 || !meta_value_valid(f->scope, f->scope_len))
        return gl_err_set(why, GL_EPARSE, t->line, WHY_SCOPE);
    return 0;
}

/* One "meta <key>[ <value>]" line (line number no) into *m. */
static int parse_meta_line(const char *line, size_t len, size_t no,
                           struct gl_statement_meta *m, struct gl_err *why)
{
    const char *sp;

    if (!gl_mem_prefix(line, len, "meta "))
        return gl_err_set(why, GL_EPARSE, no,
                          "unexpected line after time and the kind's links (only meta "
                          "lines may follow)");
    m->key = line + GL_LIT_LEN("meta ");
    sp = memchr(m->key, ' ', len - GL_LIT_LEN("meta "));
    m->key_len = sp != NULL ? (size_t)(sp - m->key) : len - GL_LIT_LEN("meta ");
    m->value = sp != NULL ? sp + 1 : m->key + m->key_len;
    m->value_len = len - 5 - m->key_len - (sp != NULL);
    if (!meta_key_valid(m->key, m->key_len))
        return gl_err_set(why, GL_EPARSE, no, WHY_META_KEY);
    if ((sp != NULL && m->value_len == 0) || !meta_value_valid(m->value, m->value_len))
        return gl_err_set(why, GL_EPARSE, no, WHY_META_VALUE);
    return 0;
}

static int parse_meta(struct gl_text *t, struct gl_statement_fields *f,
                      struct gl_err *why)
{
    const char *line;
    size_t len;
    int err;

    f->nmeta = 0;
    while ((err = gl_text_line(t, &line, &len)) == 0) {
        struct gl_statement_meta *m = &f->meta[f->nmeta];
        if (f->nmeta == GL_STATEMENT_META_MAX)
            return gl_err_set(why, GL_EPARSE, t->line, WHY_META_MAX);
        if ((err = parse_meta_line(line, len, t->line, m, why)) != 0)
            return err;
        if (f->nmeta > 0 && key_cmp(m - 1, m) >= 0)
            return gl_err_set(why, GL_EPARSE, t->line,
                              "meta keys are not strictly ascending (duplicate or out of "
                              "order)");
        f->nmeta++;
    }
    if (err != GL_ENOTFOUND)
        return gl_text_missing(t, err, "a meta line", why);
    return 0;
}

/* The text of a note ends with "\n", so every line is complete. */
static int parse_text(const char *text, size_t n, struct gl_statement_fields *f,
                      struct gl_err *why)
{
    struct gl_text t;
    int err;

    gl_text_init(&t, text, n, 0);
    if ((err = parse_head(&t, f, why)) != 0)
        return err;
    if ((err = parse_digest_time(&t, f, why)) != 0 ||
        (err = parse_links(&t, f, why)) != 0)
        return err;
    return parse_meta(&t, f, why);
}

/* The note layer: exactly one 64-byte signature; copies it into out. */
static int parse_note(const char *msg, size_t n, struct gl_statement *out,
                      struct gl_err *why)
{
    struct gl_note *note = NULL;
    int err = gl_note_parse(msg, n, &note, why);

    if (err == GL_ENOMEM)
        return err;
    if (err != 0)
        return gl_err_wrap(why, GL_EPARSE, 0, "not a signed note");
    err = GL_EPARSE;
    if (note->nsigs != 1) {
        gl_err_set(why, err, 0, "a statement has exactly one signature line, not %zu",
                   note->nsigs);
        goto out;
    }
    if (note->sigs[0].sig_len != ED25519_SIG_LEN) {
        gl_err_set(why, err, gl_text_line_at(msg, (size_t)(note->sigs[0].line - msg)),
                   "the signature is not an Ed25519 note signature (64 bytes)");
        goto out;
    }
    /* One spelling per statement: canonical base64, and a key name a
     * submitter key can have. */
    if (!note->sigs[0].canonical ||
        !gl_key_name_valid(note->sigs[0].name, note->sigs[0].name_len)) {
        gl_err_set(why, err, gl_text_line_at(msg, (size_t)(note->sigs[0].line - msg)),
                   "the signature line is not in canonical form (key name, base64)");
        goto out;
    }
    out->text = note->text;
    out->text_len = note->text_len;
    out->sig = note->sigs[0];
    err = 0;
out:
    gl_note_free(note);
    return err;
}

int gl_statement_parse(const char *msg, size_t n, struct gl_statement *out,
                       struct gl_err *why)
{
    int err;

    if (msg == NULL || out == NULL)
        return gl_err_set(why, GL_EINVAL, 0, "no statement");
    if (n > GL_STATEMENT_MAX_SIZE)
        return gl_err_set(why, GL_ETOOBIG, 0, "statement larger than %d bytes",
                          GL_STATEMENT_MAX_SIZE);
    memset(out, 0, sizeof(*out));
    if ((err = parse_note(msg, n, out, why)) != 0)
        return err;
    if ((err = parse_text(out->text, out->text_len, &out->fields, why)) != 0)
        return err;
    out->msg = msg;
    out->msg_len = n;
    return 0;
}

/* ---- verification ---- */

static int sig_matches(const struct gl_note_sig *s, const struct gl_verifier *k)
{
    return k->id == s->id && strlen(k->name) == s->name_len &&
           memcmp(k->name, s->name, s->name_len) == 0;
}

int gl_statement_verify(const struct gl_statement *st,
                        const struct gl_verifier *submitters, size_t n, size_t *which)
{
    struct gl_note_sig sig;
    struct gl_note note;
    size_t i;
    int err;

    if (st == NULL || st->text == NULL || (submitters == NULL && n != 0))
        return GL_EINVAL;
    for (i = 0; i < n; i++)
        if (submitters[i].type != GL_KEY_NOTE)
            return GL_EKEYTYPE;
    sig = st->sig;
    note.text = st->text;
    note.text_len = st->text_len;
    note.nsigs = 1;
    note.sigs = &sig;
    if ((err = gl_note_verify(&note, submitters, n, NULL)) != 0)
        return err;
    for (i = 0; i < n && !sig_matches(&sig, &submitters[i]); i++)
        ;
    if (i == n)
        return GL_ENOKEY; /* unreachable if note.c keeps its rules */
    if (which != NULL)
        *which = i;
    return 0;
}

/* ---- formatting and signing ---- */

/* The v2 links: audited digests ascending, scope valid. */
static int check_links(const struct gl_statement_fields *f, struct gl_err *why)
{
    size_t i;

    if (!is_v2_audit(f))
        return 0;
    if (f->naudited == 0 || f->naudited > GL_STATEMENT_AUDITED_MAX)
        return gl_err_set(why, GL_EPARSE, 0,
                          "an audit-report names 1 to %d audited digests",
                          GL_STATEMENT_AUDITED_MAX);
    for (i = 1; i < f->naudited; i++)
        if (memcmp(f->audited[i - 1], f->audited[i], GL_HASH_LEN) >= 0)
            return gl_err_set(why, GL_EPARSE, 0,
                              "audited digests are not strictly ascending (duplicate or "
                              "out of order)");
    if (f->scope_len == 0 || !meta_value_valid(f->scope, f->scope_len))
        return gl_err_set(why, GL_EPARSE, 0, WHY_SCOPE);
    return 0;
}

static int check_fields(const struct gl_statement_fields *f, struct gl_err *why)
{
    size_t i;
    int err;

    if (f->format > 2)
        return gl_err_set(why, GL_EPARSE, 0, "statement version is not 1 or 2");
    if (!kind_valid(f->format == 0 ? 1 : f->format, f->kind))
        return gl_err_set(why, GL_EPARSE, 0, f->format == 2 ? WHY_KIND2 : WHY_KIND);
    if ((err = check_links(f, why)) != 0)
        return err;
    if (!token_valid(f->subject, f->subject_len, GL_STATEMENT_SUBJECT_MAX))
        return gl_err_set(why, GL_EPARSE, 0, WHY_SUBJECT);
    if (!token_valid(f->version, f->version_len, GL_STATEMENT_VERSION_MAX))
        return gl_err_set(why, GL_EPARSE, 0, WHY_VERSION);
    if (!time_valid(f->time))
        return gl_err_set(why, GL_EPARSE, 0, "time is not in 1..2^63-1");
    if (f->nmeta > GL_STATEMENT_META_MAX)
        return gl_err_set(why, GL_EPARSE, 0, WHY_META_MAX);
    for (i = 0; i < f->nmeta; i++) {
        if (!meta_key_valid(f->meta[i].key, f->meta[i].key_len))
            return gl_err_set(why, GL_EPARSE, 0, WHY_META_KEY);
        if (!meta_value_valid(f->meta[i].value, f->meta[i].value_len))
            return gl_err_set(why, GL_EPARSE, 0, WHY_META_VALUE);
    }
    return 0;
}

/* Indices of f->meta in ascending key order (insertion sort, n <= 32);
 * GL_EPARSE on a duplicate key. */
static int sort_meta(const struct gl_statement_fields *f,
                     size_t order[GL_STATEMENT_META_MAX], struct gl_err *why)
{
    size_t i, j;

    for (i = 0; i < f->nmeta; i++) {
        for (j = i; j > 0 && key_cmp(&f->meta[order[j - 1]], &f->meta[i]) > 0; j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
    for (i = 1; i < f->nmeta; i++)
        if (key_cmp(&f->meta[order[i - 1]], &f->meta[order[i]]) == 0)
            return gl_err_set(why, GL_EPARSE, 0, "duplicate meta key");
    return 0;
}

static int put_field(struct gl_buf *b, const char *name, const char *v, size_t n)
{
    int err;

    if ((err = gl_buf_append_str(b, name)) != 0 || (err = gl_buf_putc(b, ' ')) != 0 ||
        (err = gl_buf_append(b, v, n)) != 0)
        return err;
    return gl_buf_putc(b, '\n');
}

static int put_head(struct gl_buf *b, const struct gl_statement_fields *f)
{
    const char *kind = gl_statement_kind_name(f->kind);
    char hex[GL_HASH_HEX_LEN + 1];
    int err;

    if ((err = gl_hex_encode(f->sha256, GL_HASH_LEN, hex, sizeof(hex))) != 0 ||
        (err = gl_buf_append_str(b, f->format == 2 ? GL_STATEMENT_HEADER_V2 "\n"
                                                   : GL_STATEMENT_HEADER "\n")) != 0 ||
        (err = put_field(b, "kind", kind, strlen(kind))) != 0 ||
        (err = put_field(b, "subject", f->subject, f->subject_len)) != 0 ||
        (err = put_field(b, "version", f->version, f->version_len)) != 0 ||
        (err = put_field(b, "sha256", hex, GL_HASH_HEX_LEN)) != 0 ||
        (err = gl_buf_append_str(b, "time ")) != 0 ||
        (err = gl_buf_append_u64(b, f->time)) != 0)
        return err;
    return gl_buf_putc(b, '\n');
}

static int put_digest(struct gl_buf *b, const char *name, const uint8_t d[GL_HASH_LEN])
{
    char hex[GL_HASH_HEX_LEN + 1];
    int err;

    if ((err = gl_hex_encode(d, GL_HASH_LEN, hex, sizeof(hex))) != 0)
        return err;
    return put_field(b, name, hex, GL_HASH_HEX_LEN);
}

static int put_links(struct gl_buf *b, const struct gl_statement_fields *f)
{
    size_t i;
    int err;

    if (gl_statement_has_source(f))
        return put_digest(b, "source", f->source);
    if (!is_v2_audit(f))
        return 0;
    for (i = 0; i < f->naudited; i++)
        if ((err = put_digest(b, "audited", f->audited[i])) != 0)
            return err;
    return put_field(b, "scope", f->scope, f->scope_len);
}

static int put_meta(struct gl_buf *b, const struct gl_statement_meta *m)
{
    int err;

    if ((err = gl_buf_append_str(b, "meta ")) != 0 ||
        (err = gl_buf_append(b, m->key, m->key_len)) != 0)
        return err;
    if (m->value_len > 0 && ((err = gl_buf_putc(b, ' ')) != 0 ||
                             (err = gl_buf_append(b, m->value, m->value_len)) != 0))
        return err;
    return gl_buf_putc(b, '\n');
}

/* Validates and writes the text into tmp (initialised by the caller). */
static int build_text(const struct gl_statement_fields *f, struct gl_buf *tmp,
                      struct gl_err *why)
{
    size_t order[GL_STATEMENT_META_MAX], i;
    int err;

    if ((err = check_fields(f, why)) != 0 || (err = sort_meta(f, order, why)) != 0)
        return err;
    if ((err = put_head(tmp, f)) != 0 || (err = put_links(tmp, f)) != 0)
        return gl_err_set(why, err, 0, "statement text: %s", gl_strerror(err));
    for (i = 0; i < f->nmeta; i++)
        if ((err = put_meta(tmp, &f->meta[order[i]])) != 0)
            return gl_err_set(why, err, 0, "statement text: %s", gl_strerror(err));
    return 0;
}

int gl_statement_format_text(const struct gl_statement_fields *f, struct gl_buf *out,
                             struct gl_err *why)
{
    struct gl_buf tmp;
    int err;

    if (f == NULL || out == NULL)
        return gl_err_set(why, GL_EINVAL, 0, "no fields or no output");
    gl_buf_init(&tmp, GL_STATEMENT_MAX_SIZE);
    if ((err = build_text(f, &tmp, why)) != 0)
        goto out;
    if ((err = gl_buf_append(out, tmp.data, tmp.len)) != 0)
        gl_err_set(why, err, 0, "statement text: %s", gl_strerror(err));
out:
    gl_buf_release(&tmp);
    return err;
}

int gl_statement_sign(const struct gl_statement_fields *f, const struct gl_signer *signer,
                      struct gl_buf *out, struct gl_err *why)
{
    struct gl_buf text, note;
    size_t total;
    int err;

    if (f == NULL || signer == NULL || out == NULL)
        return gl_err_set(why, GL_EINVAL, 0, "no fields, signer or output");
    if (signer->type != GL_KEY_NOTE)
        return gl_err_set(why, GL_EKEYTYPE, 0,
                          "the signer is not a note key (type 0x01)");
    gl_buf_init(&text, GL_STATEMENT_MAX_SIZE);
    gl_buf_init(&note, GL_STATEMENT_MAX_SIZE);
    if ((err = build_text(f, &text, why)) != 0)
        goto out;
    /* text + "\n" + signature line; every term is small, no overflow. */
    total = text.len + 1 + strlen(signer->name) + SIG_LINE_OVERHEAD;
    if (total > GL_STATEMENT_MAX_SIZE) {
        err = gl_err_set(why, GL_ETOOBIG, 0, "the signed statement would exceed %d bytes",
                         GL_STATEMENT_MAX_SIZE);
        goto out;
    }
    if ((err = gl_note_sign((const char *)text.data, text.len, signer, 1, &note)) != 0 ||
        (err = gl_buf_append(out, note.data, note.len)) != 0)
        gl_err_set(why, err, 0, "cannot sign the statement: %s", gl_strerror(err));
out:
    gl_buf_release(&note);
    gl_buf_release(&text);
    return err;
}

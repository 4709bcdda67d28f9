/*
 * expect: parse the expected-releases file into a sorted set of line
 * hashes; see expect.h. Both the file's lines and the statements are
 * brought to one canonical line before hashing, so spacing in the file
 * does not matter and equality is exact byte equality of the fields.
 * expect_load reads the file whole and parses it from memory with
 * expect_parse (lines cut by text.h).
 */
#include "expect.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/sha256.h"
#include "text.h"

#define ITEMS 4

static int cmp_hash(const void *a, const void *b)
{
    return memcmp(a, b, GL_HASH_LEN);
}

/* SHA-256 of "kind subject version hex" from its parts. */
static int line_hash(const char *kind, size_t kl, const char *subj, size_t sl,
                     const char *ver, size_t vl, const char *hex,
                     uint8_t out[GL_HASH_LEN])
{
    struct gl_sha256 *h;
    int rc;

    if ((rc = gl_sha256_new(&h)) != 0)
        return rc;
    if ((rc = gl_sha256_update(h, kind, kl)) == 0 &&
        (rc = gl_sha256_update(h, " ", 1)) == 0 &&
        (rc = gl_sha256_update(h, subj, sl)) == 0 &&
        (rc = gl_sha256_update(h, " ", 1)) == 0 &&
        (rc = gl_sha256_update(h, ver, vl)) == 0 &&
        (rc = gl_sha256_update(h, " ", 1)) == 0 &&
        (rc = gl_sha256_update(h, hex, GL_HASH_HEX_LEN)) == 0)
        rc = gl_sha256_final(h, out);
    gl_sha256_free(h);
    return rc;
}

static int printable(const char *s, size_t n, size_t max)
{
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e)
            return 0;
    return 1;
}

/* Splits a line into exactly ITEMS items; 0 or -1. */
static int split(const char *p, size_t len, const char **it, size_t *il)
{
    size_t i = 0, k = 0;

    while (i < len) {
        while (i < len && (p[i] == ' ' || p[i] == '\t'))
            i++;
        if (i == len)
            break;
        if (k == ITEMS)
            return -1;
        it[k] = p + i;
        while (i < len && p[i] != ' ' && p[i] != '\t')
            i++;
        il[k] = (size_t)(p + i - it[k]);
        k++;
    }
    return k == ITEMS ? 0 : -1;
}

/* Parses one non-comment line into its hash; why names the problem. */
static int parse_line(const char *p, size_t len, uint8_t out[GL_HASH_LEN],
                      const char **why)
{
    const char *it[ITEMS];
    size_t il[ITEMS];
    enum gl_statement_kind kind;
    uint8_t digest[GL_HASH_LEN];

    if (split(p, len, it, il) != 0) {
        *why = "want 4 items: <kind> <subject> <version> <sha256>";
        return GL_EPARSE;
    }
    if (gl_statement_kind_parse(it[0], il[0], &kind) != 0) {
        *why = "the kind must be build, rule-update or audit-report";
        return GL_EPARSE;
    }
    if (!printable(it[1], il[1], GL_STATEMENT_SUBJECT_MAX) ||
        !printable(it[2], il[2], GL_STATEMENT_VERSION_MAX)) {
        *why = "subject and version must be 1 to 256 printable ASCII characters";
        return GL_EPARSE;
    }
    if (il[3] != GL_HASH_HEX_LEN ||
        gl_hex_decode_exact(it[3], GL_HASH_HEX_LEN, digest, GL_HASH_LEN, 1) != 0) {
        *why = "the sha256 must be 64 lowercase hex digits";
        return GL_EPARSE;
    }
    return line_hash(it[0], il[0], it[1], il[1], it[2], il[2], it[3], out);
}

static int grow(struct expect *e, size_t *cap)
{
    size_t nc = *cap ? *cap * 2 : 256;
    void *p;

    if (nc > SIZE_MAX / sizeof(*e->h) || (p = realloc(e->h, nc * sizeof(*e->h))) == NULL)
        return GL_ENOMEM;
    e->h = p;
    *cap = nc;
    return 0;
}

int expect_parse(const char *text, size_t len, struct expect *e, struct gl_err *why)
{
    struct gl_text t;
    const char *p, *reason = NULL;
    size_t n, cap = 0;
    int rc = 0;

    memset(e, 0, sizeof(*e));
    if (len > EXPECT_MAX_SIZE)
        return gl_err_set(why, GL_ETOOBIG, 0, "the file is larger than %u bytes",
                          EXPECT_MAX_SIZE);
    gl_text_init(&t, text, len, GL_TEXT_OPEN_END | GL_TEXT_TRIM_START | GL_TEXT_SKIP);
    while (gl_text_line(&t, &p, &n) == 0) {
        if (e->n == cap && (rc = grow(e, &cap)) != 0) {
            gl_err_set(why, rc, t.line, "out of memory");
            goto out;
        }
        if ((rc = parse_line(p, n, e->h[e->n], &reason)) != 0) {
            gl_err_set(why, rc, t.line, "%s", reason != NULL ? reason : gl_strerror(rc));
            goto out;
        }
        e->n++;
    }
    if (e->n > 1)
        qsort(e->h, e->n, sizeof(*e->h), cmp_hash);
out:
    if (rc != 0)
        expect_release(e);
    return rc;
}

int expect_load(const char *path, struct expect *e)
{
    struct gl_buf b;
    struct gl_err why;
    int rc;

    memset(e, 0, sizeof(*e));
    gl_buf_init(&b, EXPECT_MAX_SIZE);
    if ((rc = cli_read_file(path, &b)) == 0 &&
        (rc = expect_parse(b.data != NULL ? (const char *)b.data : "", b.len, e, &why)) !=
            0)
        cli_err(path, &why);
    gl_buf_release(&b);
    return rc;
}

void expect_release(struct expect *e)
{
    free(e->h);
    e->h = NULL;
    e->n = 0;
}

int expect_has(const struct expect *e, const struct gl_statement_fields *f)
{
    const char *kind = gl_statement_kind_name(f->kind);
    uint8_t h[GL_HASH_LEN];
    char hex[GL_HASH_HEX_LEN + 1];

    if (e->n == 0 || kind == NULL)
        return 0;
    gl_hex_encode(f->sha256, GL_HASH_LEN, hex, sizeof(hex));
    if (line_hash(kind, strlen(kind), f->subject, f->subject_len, f->version,
                  f->version_len, hex, h) != 0)
        return 0;
    return bsearch(h, e->h, e->n, sizeof(*e->h), cmp_hash) != NULL;
}

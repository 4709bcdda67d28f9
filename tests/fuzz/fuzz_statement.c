/*
 * fuzz_statement: statement parsing (specs/statement.md). Whatever parses
 * must (1) point inside the input, (2) format back to exactly its text
 * (the canonical-form property), (3) verify without crashing, and (4) sign
 * again into a statement that parses and verifies. The submitter key is a
 * throwaway test key, public on purpose; corpus/statement/valid-* are
 * signed with it so verification reaches the Ed25519 check.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "glasslog/error.h"
#include "glasslog/statement.h"

static const char fuzz_skey[] = "PRIVATE+KEY+fuzz.glasslog.dev/submitter+6f903c75+"
                                "AVV3yO8WhwezZNu8BfXj6geOK1YGqivazYp5yi8Wywwo";

static int inside(const char *p, size_t n, const uint8_t *data, size_t size)
{
    return p >= (const char *)data && p + n <= (const char *)data + size;
}

static void check_pointers(const struct gl_statement *st, const uint8_t *data,
                           size_t size)
{
    const struct gl_statement_fields *f = &st->fields;

    if (st->msg != (const char *)data || st->msg_len != size || st->text != st->msg ||
        !inside(st->text, st->text_len, data, size) ||
        !inside(f->subject, f->subject_len, data, size) ||
        !inside(f->version, f->version_len, data, size) ||
        !inside(st->sig.name, st->sig.name_len, data, size) ||
        f->nmeta > GL_STATEMENT_META_MAX || st->sig.sig_len != 64 ||
        (f->format != 1 && f->format != 2) || f->naudited > GL_STATEMENT_AUDITED_MAX ||
        (f->scope_len > 0 && !inside(f->scope, f->scope_len, data, size)))
        abort();
    for (size_t i = 0; i < f->nmeta; i++)
        if (!inside(f->meta[i].key, f->meta[i].key_len, data, size) ||
            (f->meta[i].value_len > 0 &&
             !inside(f->meta[i].value, f->meta[i].value_len, data, size)))
            abort();
}

/* format(parse(x)) == x */
static void check_canonical(const struct gl_statement *st)
{
    struct gl_buf b;

    gl_buf_init(&b, GL_STATEMENT_MAX_SIZE);
    if (gl_statement_format_text(&st->fields, &b, NULL) != 0 || b.len != st->text_len ||
        memcmp(b.data, st->text, b.len) != 0)
        abort();
    gl_buf_release(&b);
}

/* Re-signing the fields gives a statement that parses and verifies. */
static void check_resign(const struct gl_statement *st, const struct gl_signer *s,
                         const struct gl_verifier *v)
{
    struct gl_statement again;
    struct gl_buf b;
    size_t which = 9;

    gl_buf_init(&b, GL_STATEMENT_MAX_SIZE);
    if (gl_statement_sign(&st->fields, s, &b, NULL) != 0 ||
        gl_statement_parse((const char *)b.data, b.len, &again, NULL) != 0 ||
        gl_statement_verify(&again, v, 1, &which) != 0 || which != 0 ||
        again.text_len != st->text_len || memcmp(again.text, st->text, st->text_len) != 0)
        abort();
    gl_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The vector key (public test key: kept, not wiped), parsed once. */
    static struct gl_signer s;
    static struct gl_verifier v;
    static int ready;
    struct gl_statement st;
    struct gl_err why;
    int rc;

    if (!ready) {
        if (gl_signer_parse(fuzz_skey, strlen(fuzz_skey), &s, NULL) != 0)
            abort();
        gl_signer_verifier(&s, &v);
        ready = 1;
    }
    memset(&why, 0, sizeof(why));
    rc = gl_statement_parse((const char *)data, size, &st, &why);
    if (rc != 0) {
        fuzz_check_why(rc, &why, data, size);
        return 0;
    }
    check_pointers(&st, data, size);
    check_canonical(&st);
    rc = gl_statement_verify(&st, &v, 1, NULL);
    if (rc != 0 && rc != GL_ENOKEY && rc != GL_EVERIFY)
        abort();
    check_resign(&st, &s, &v);
    return 0;
}

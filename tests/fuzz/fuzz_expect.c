/*
 * fuzz_expect: the monitor's expected-releases file (client/expect.c,
 * expect_parse). Nothing may crash; a refusal must say why and where
 * (fuzz_check_why) and leave the set empty; an accepted file holds at
 * most one release a line, sorted, and every line it accepted is found
 * again by expect_has (each line is parsed here a second time, alone,
 * and looked up through the statement fields it names).
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "../../client/expect.h"
#include "glasslog/codec.h"

/* Looks up line (n bytes, the 4 items of an accepted line) as a statement
 * would present it. */
static void check_found(const struct expect *e, const char *line, size_t n)
{
    struct gl_statement_fields f;
    const char *it[4];
    size_t il[4], k = 0, i = 0;

    memset(&f, 0, sizeof(f));
    while (i < n && k < 4) {
        while (i < n && (line[i] == ' ' || line[i] == '\t'))
            i++;
        it[k] = line + i;
        while (i < n && line[i] != ' ' && line[i] != '\t')
            i++;
        il[k] = (size_t)(line + i - it[k]);
        k++;
    }
    if (k != 4 || gl_statement_kind_parse(it[0], il[0], &f.kind) != 0 ||
        gl_hex_decode_exact(it[3], il[3], f.sha256, 32, 1) != 0)
        abort();
    f.subject = it[1];
    f.subject_len = il[1];
    f.version = it[2];
    f.version_len = il[2];
    if (!expect_has(e, &f))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data, *end = s + size;
    struct expect e;
    struct gl_err why;
    size_t lines = 0;
    int rc;

    memset(&why, 0, sizeof(why));
    rc = expect_parse(s, size, &e, &why);
    fuzz_check_why(rc, &why, data, size);
    if (rc != 0) {
        if (e.n != 0 || e.h != NULL)
            abort();
        return 0;
    }
    for (size_t i = 1; i < e.n; i++)
        if (memcmp(e.h[i - 1], e.h[i], 32) > 0)
            abort();
    /* Every line that is not blank or a comment was accepted: find it. */
    for (const char *p = s, *nl; p < end; p = nl + 1) {
        size_t len, i = 0;
        struct expect one;
        nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            nl = end;
        len = (size_t)(nl - p);
        while (i < len && (p[i] == ' ' || p[i] == '\t'))
            i++;
        if (i == len || p[i] == '#')
            continue;
        lines++;
        if (expect_parse(p, len, &one, NULL) != 0 || one.n != 1)
            abort();
        expect_release(&one);
        check_found(&e, p, len);
    }
    if (e.n != lines)
        abort();
    expect_release(&e);
    return 0;
}

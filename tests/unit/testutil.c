/*
 * testutil: see testutil.h.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/key.h"

const char *tu_vectors(void)
{
    const char *v = getenv("GL_VECTORS");
    return v != NULL && *v != 0 ? v : "tests/vectors";
}

char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    size_t n = 0, cap = 0, got;

    if (f == NULL)
        return NULL;
    do {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *p = realloc(data, cap);
            if (p == NULL) {
                free(data);
                fclose(f);
                return NULL;
            }
            data = p;
        }
        got = fread(data + n, 1, 4096, f);
        n += got;
    } while (got > 0);
    fclose(f);
    data[n] = 0;
    if (len != NULL)
        *len = n;
    return data;
}

char *tu_read_vector(const char *rel, size_t *len)
{
    char path[4096];
    char *data;

    snprintf(path, sizeof(path), "%s/%s", tu_vectors(), rel);
    data = tu_read_file(path, len);
    if (data == NULL)
        fail_msg("cannot read vector %s", path);
    return data;
}

void tu_b64_hash(const char *b64, uint8_t out[32])
{
    assert_int_equal(gl_base64_decode_exact(b64, strlen(b64), out, 32), 0);
}

uint64_t tu_rand(uint64_t *state)
{
    /* splitmix64 */
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void tu_load_signer(const char *rel, struct gl_signer *s)
{
    size_t n;
    char *t = tu_read_vector(rel, &n);

    assert_int_equal(gl_signer_parse(t, n, s, NULL), 0);
    free(t);
}

void tu_load_verifier(const char *rel, struct gl_verifier *v)
{
    size_t n;
    char *t = tu_read_vector(rel, &n);

    assert_int_equal(gl_verifier_parse(t, n, v, NULL), 0);
    free(t);
}

void tu_gen_vkey(const char *name, uint8_t type, char *out, size_t max)
{
    struct gl_signer k;
    struct gl_verifier v;
    struct gl_buf b;

    assert_int_equal(gl_signer_generate(name, type, &k), 0);
    gl_signer_verifier(&k, &v);
    gl_signer_wipe(&k);
    gl_buf_init(&b, GL_KEY_TEXT_MAX);
    assert_int_equal(gl_verifier_format(&v, &b), 0);
    assert_true(b.len < max);
    memcpy(out, b.data, b.len + 1);
    gl_buf_release(&b);
}

size_t tu_u64_dec(uint64_t v, char *buf)
{
    char tmp[20];
    size_t n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = 0;
    return n;
}

void tu_expect_why(int got, const struct gl_err *why, int rc, size_t line,
                   const char *reason)
{
    if (got != rc || why->line != line || strstr(why->reason, reason) == NULL)
        fail_msg("want %d at line %zu \"%s\", got %d at line %zu \"%s\"", rc, line,
                 reason, got, why->line, why->reason);
}

/*
 * testutil: see testutil.h.
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/key.h"
#include "glasslog/merkle.h"
#include "glasslog/sha256.h"
#include "glasslog/statement.h"

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

void tu_b64_noncanonical_sig(char *msg, size_t len, size_t from)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *line = NULL, *pad, *at;

    for (size_t i = from; line == NULL && i + 5 <= len; i++)
        if (memcmp(msg + i, "\n\xe2\x80\x94 ", 5) == 0)
            line = msg + i;
    assert_non_null(line);
    pad = memchr(line + 1, '\n', len - (size_t)(line + 1 - msg));
    assert_non_null(pad);
    pad--;
    assert_true(pad[0] == '=' && pad[-1] != '=');
    at = strchr(b64, pad[-1]);
    assert_non_null(at);
    assert_int_equal((at - b64) & 3, 0); /* canonical: unused bits zero */
    pad[-1] = b64[(at - b64) | 1];
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

void tu_vkey_text(const struct gl_signer *s, char *out, size_t max)
{
    struct gl_verifier v;
    struct gl_buf b;

    gl_signer_verifier(s, &v);
    gl_buf_init(&b, GL_KEY_TEXT_MAX);
    assert_int_equal(gl_verifier_format(&v, &b), 0);
    assert_true(b.len < max);
    memcpy(out, b.data, b.len);
    out[b.len] = 0;
    gl_buf_release(&b);
}

void tu_gen_vkey(const char *name, uint8_t type, char *out, size_t max)
{
    struct gl_signer k;

    assert_int_equal(gl_signer_generate(name, type, &k), 0);
    tu_vkey_text(&k, out, max);
    gl_signer_wipe(&k);
}

size_t tu_foreign_vkey(const char *name, uint8_t type, size_t klen, uint64_t *seed,
                       char *out, size_t max)
{
    size_t nl = strlen(name), blen = 1 + klen, b64len = (blen + 2) / 3 * 4, n;
    uint8_t *raw = malloc(blen), *hin = malloc(nl + 1 + blen), h[EVP_MAX_MD_SIZE];
    unsigned hl = 0;

    assert_non_null(raw);
    assert_non_null(hin);
    raw[0] = type;
    for (size_t i = 1; i < blen; i++)
        raw[i] = (uint8_t)tu_rand(seed);
    memcpy(hin, name, nl);
    hin[nl] = '\n';
    memcpy(hin + nl + 1, raw, blen);
    assert_int_equal(EVP_Digest(hin, nl + 1 + blen, h, &hl, EVP_sha256(), NULL), 1);
    n = (size_t)snprintf(out, max, "%s+%02x%02x%02x%02x+", name, h[0], h[1], h[2], h[3]);
    assert_true(n + b64len < max);
    assert_int_equal(gl_base64_encode(raw, blen, out + n, max - n), 0);
    free(raw);
    free(hin);
    return n + b64len;
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

void tu_ref_leaf(uint64_t i, uint8_t out[32])
{
    char buf[24];
    size_t n = tu_u64_dec(i, buf);

    assert_int_equal(gl_merkle_leaf_hash(buf, n, out), 0);
}

int tu_ref_root(uint64_t size, uint8_t out[32])
{
    char *text = tu_read_vector("tree/roots.txt", NULL), *line, *save = NULL;
    int found = 0;

    for (line = strtok_r(text, "\n", &save); line != NULL && !found;
         line = strtok_r(NULL, "\n", &save)) {
        const char *sp = strchr(line, ' ');
        uint64_t n;
        if (line[0] == '#' || sp == NULL)
            continue;
        assert_int_equal(gl_parse_u64(line, (size_t)(sp - line), &n), 0);
        if (n == size) {
            tu_b64_hash(sp + 1, out);
            found = 1;
        }
    }
    free(text);
    return found;
}

void tu_statement(const struct gl_signer *sub, const char *subject, const char *version,
                  uint64_t k, struct gl_buf *out, uint8_t sha256[32])
{
    struct gl_statement_fields f;
    struct gl_err why;
    char artifact[48];
    int rc;

    memset(&f, 0, sizeof(f));
    f.kind = GL_STATEMENT_BUILD;
    f.subject = subject;
    f.subject_len = strlen(subject);
    f.version = version;
    f.version_len = strlen(version);
    snprintf(artifact, sizeof(artifact), "artifact %llu", (unsigned long long)k);
    assert_int_equal(gl_sha256(artifact, strlen(artifact), f.sha256), 0);
    f.time = 1700000000 + k;
    if ((rc = gl_statement_sign(&f, sub, out, &why)) != 0)
        fail_msg("cannot sign a statement: %s (%s)", gl_strerror(rc), why.reason);
    if (sha256 != NULL)
        memcpy(sha256, f.sha256, 32);
}

size_t tu_read_proofs(const char *rel, int with_leaf, struct tu_proof_case *out,
                      size_t cap)
{
    char *text = tu_read_vector(rel, NULL), *p = text;
    struct tu_proof_case *c = NULL;
    size_t n = 0;

    while (*p != 0) {
        char *end = strchr(p, '\n'), b64[64];
        unsigned long long a, b;
        if (end != NULL)
            *end = 0;
        if (p[0] == '#' || p[0] == 0) {
            /* comment or the blank line after a case */
        } else if (strchr(p, ' ') != NULL) { /* "a b [leaf]" opens a case */
            assert_true(n < cap);
            c = &out[n++];
            memset(c, 0, sizeof(*c));
            assert_int_equal(sscanf(p, "%llu %llu %63s", &a, &b, b64), with_leaf ? 3 : 2);
            c->a = a;
            c->b = b;
            if (with_leaf)
                tu_b64_hash(b64, c->leaf);
        } else { /* a proof hash */
            assert_non_null(c);
            assert_true(c->len < 64);
            tu_b64_hash(p, c->proof[c->len++]);
        }
        p = end != NULL ? end + 1 : p + strlen(p);
    }
    free(text);
    return n;
}

void tu_mth(const uint8_t (*leaves)[32], uint64_t n, uint8_t out[32])
{
    uint8_t left[32], right[32];
    uint64_t k = 1;

    if (n == 0) {
        assert_int_equal(gl_sha256("", 0, out), 0);
        return;
    }
    if (n == 1) {
        memcpy(out, leaves[0], 32);
        return;
    }
    while (k * 2 < n)
        k *= 2;
    tu_mth(leaves, k, left);
    tu_mth(leaves + k, n - k, right);
    assert_int_equal(gl_sha256_3(0x01, left, 32, right, 32, out), 0);
}

void tu_tempdir(const char *prefix, char *out, size_t max)
{
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(out, max, "%s/%s.XXXXXX", tmp != NULL && *tmp != 0 ? tmp : "/tmp",
                     prefix);

    assert_true(n > 0 && (size_t)n < max);
    if (mkdtemp(out) == NULL)
        fail_msg("cannot make a temporary directory %s: %s", out, strerror(errno));
}

void tu_rmtree(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    char sub[4096];

    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return;
        fail_msg("cannot stat %s: %s", path, strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) {
        if ((d = opendir(path)) == NULL)
            fail_msg("cannot open %s: %s", path, strerror(errno));
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            assert_true((size_t)snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name) <
                        sizeof(sub));
            tu_rmtree(sub);
        }
        closedir(d);
        if (rmdir(path) != 0)
            fail_msg("cannot remove %s: %s", path, strerror(errno));
    } else if (unlink(path) != 0) {
        fail_msg("cannot remove %s: %s", path, strerror(errno));
    }
}

char *tu_capture_stderr(void (*step)(void *arg), void *arg)
{
    char dir[256], path[300];
    int fd, saved;
    char *got;

    tu_tempdir("stderr", dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/err", dir);
    fflush(stderr);
    saved = dup(2);
    assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0);
    dup2(fd, 2);
    close(fd);
    step(arg);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    got = tu_read_file(path, NULL);
    tu_rmtree(dir);
    assert_non_null(got);
    return got;
}

int tu_check(struct tu_checks *c, int ok, const char *what, int line)
{
    c->checks++;
    if (!ok) {
        if (c->failures < TU_CHECKS_MAX)
            snprintf(c->failed[c->failures], sizeof(c->failed[0]), "line %d: %s", line,
                     what);
        c->failures++;
    }
    return ok;
}

int tu_checks_report(const struct tu_checks *c)
{
    for (int i = 0; i < c->failures && i < TU_CHECKS_MAX; i++)
        print_error("%s\n", c->failed[i]);
    return c->failures;
}

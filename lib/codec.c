/*
 * codec: strict base64, hex and decimal parsing. Decoders never read past
 * inlen and never write past outmax; they reject rather than repair. The
 * one lax decoder (signed-note signatures) differs only in ignoring the
 * unused bits of the last base64 group.
 */
#include "glasslog/codec.h"

#include <string.h>

#include "glasslog/error.h"

static const char b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t gl_base64_len(size_t n)
{
    if (n > (SIZE_MAX / 4 - 1) * 3)
        return 0;
    return (n + 2) / 3 * 4;
}

int gl_base64_encode(const uint8_t *in, size_t n, char *out, size_t outmax)
{
    size_t need = gl_base64_len(n), i, o = 0;

    if ((need == 0 && n != 0) || outmax < need + 1)
        return GL_ETOOBIG;
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64_chars[v >> 18 & 63];
        out[o++] = b64_chars[v >> 12 & 63];
        out[o++] = b64_chars[v >> 6 & 63];
        out[o++] = b64_chars[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        out[o++] = b64_chars[v >> 18 & 63];
        out[o++] = b64_chars[v >> 12 & 63];
        out[o++] = i + 1 < n ? b64_chars[v >> 6 & 63] : '=';
        out[o++] = '=';
    }
    out[o] = 0;
    return 0;
}

/* The value of each base64 character, -1 for every other byte: one load
 * per character instead of a chain of range tests (statement parsing
 * decodes a signature per append). */
static const signed char b64_vals[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, 62, -1, -1, -1, 63, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1,
    -1, -1, -1, -1, -1, 0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1, -1, 26, 27, 28,
    29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48,
    49, 50, 51, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

static int b64_val(char c)
{
    return b64_vals[(unsigned char)c];
}

/* Decodes in (inlen bytes) into out (NULL: only checks and counts). With
 * strict, non-zero unused bits of the last group are refused; without,
 * they are ignored and *canonical says whether they were zero. */
static int b64_decode(const char *in, size_t inlen, uint8_t *out, size_t outmax,
                      size_t *outlen, int strict, int *canonical)
{
    size_t i, o = 0, pad = 0, need;
    int canon = 1;

    if (inlen % 4 != 0)
        return GL_EPARSE;
    if (inlen >= 1 && in[inlen - 1] == '=')
        pad++;
    if (inlen >= 2 && in[inlen - 2] == '=')
        pad++;
    need = inlen / 4 * 3 - pad;
    if (out != NULL && need > outmax)
        return GL_ETOOBIG;
    for (i = 0; i < inlen; i += 4) {
        int v[4], k, last = i + 4 == inlen;
        uint32_t w;
        for (k = 0; k < 4; k++) {
            v[k] = b64_val(in[i + k]);
            if (v[k] < 0 && !(last && in[i + k] == '=' && k >= 4 - (int)pad))
                return GL_EPARSE;
            if (v[k] < 0)
                v[k] = 0;
        }
        w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
            (uint32_t)v[3];
        if (last && ((pad == 2 && (w & 0xffff) != 0) || (pad == 1 && (w & 0xff) != 0))) {
            if (strict)
                return GL_EPARSE; /* non-zero unused bits */
            canon = 0;
        }
        if (out == NULL) {
            o += last ? 3 - pad : 3;
            continue;
        }
        out[o++] = (uint8_t)(w >> 16);
        if (!(last && pad == 2))
            out[o++] = (uint8_t)(w >> 8);
        if (!(last && pad >= 1))
            out[o++] = (uint8_t)w;
    }
    *outlen = o;
    if (canonical != NULL)
        *canonical = canon;
    return 0;
}

int gl_base64_decode(const char *in, size_t inlen, uint8_t *out, size_t outmax,
                     size_t *outlen)
{
    return b64_decode(in, inlen, out, outmax, outlen, 1, NULL);
}

int gl_base64_decode_lax(const char *in, size_t inlen, uint8_t *out, size_t outmax,
                         size_t *outlen, int *canonical)
{
    return b64_decode(in, inlen, out, outmax, outlen, 0, canonical);
}

int gl_base64_decode_exact(const char *in, size_t inlen, uint8_t *out, size_t want)
{
    size_t got;
    int err;

    if (inlen != gl_base64_len(want))
        return GL_EPARSE;
    err = gl_base64_decode(in, inlen, out, want, &got);
    if (err != 0)
        return err == GL_ETOOBIG ? GL_EPARSE : err;
    return got == want ? 0 : GL_EPARSE;
}

int gl_hex_encode(const uint8_t *in, size_t n, char *out, size_t outmax)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    if (n > (SIZE_MAX - 1) / 2 || outmax < 2 * n + 1)
        return GL_ETOOBIG;
    for (i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = 0;
    return 0;
}

static int hex_val(char c, int strict)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (!strict && c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int gl_hex_decode_exact(const char *in, size_t inlen, uint8_t *out, size_t want,
                        int strict)
{
    size_t i;

    if (want > SIZE_MAX / 2 || inlen != 2 * want)
        return GL_EPARSE;
    for (i = 0; i < want; i++) {
        int hi = hex_val(in[2 * i], strict), lo = hex_val(in[2 * i + 1], strict);
        if (hi < 0 || lo < 0)
            return GL_EPARSE;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

int gl_parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;

    if (n == 0 || n > 20 || (n > 1 && s[0] == '0'))
        return GL_EPARSE;
    for (i = 0; i < n; i++) {
        unsigned d;
        if (s[i] < '0' || s[i] > '9')
            return GL_EPARSE;
        d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return GL_EPARSE;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int gl_parse_size_body(const char *body, size_t n, uint64_t *out)
{
    if (n > 0 && body[n - 1] == '\n')
        n--;
    return gl_parse_u64(body, n, out);
}

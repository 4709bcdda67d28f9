/*
 * utf8: strict UTF-8 decoding; see utf8.h.
 */
#include "utf8.h"

#include <string.h>

#include "glasslog/codec.h"

/* Decodes one UTF-8 sequence at s (n bytes left) into *cp; returns its
 * length, or 0 if invalid (overlong, surrogate, > U+10FFFF, truncated). */
size_t gl_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    uint32_t c = s[0], min;
    size_t len, i;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if ((c & 0xe0) == 0xc0)
        len = 2, c &= 0x1f, min = 0x80;
    else if ((c & 0xf0) == 0xe0)
        len = 3, c &= 0x0f, min = 0x800;
    else if ((c & 0xf8) == 0xf0)
        len = 4, c &= 0x07, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

int gl_utf8_string(const unsigned char *s, size_t n)
{
    uint32_t c;
    for (size_t i = 0, k; i < n; i += k)
        if ((k = gl_utf8_decode(s + i, n - i, &c)) == 0 || c == 0)
            return 0;
    return 1;
}

/* Unicode White_Space (Go's unicode.IsSpace). */
int gl_utf8_is_space(uint32_t c)
{
    return c == ' ' || (c >= 0x09 && c <= 0x0d) || c == 0x85 || c == 0xa0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
           c == 0x202f || c == 0x205f || c == 0x3000;
}

size_t gl_utf8_printable(const unsigned char *s, size_t n)
{
    uint32_t c;
    size_t k = gl_utf8_decode(s, n, &c);

    if (k == 0 || c < 0x20 || (c >= 0x7f && c <= 0x9f))
        return 0;
    return k;
}

size_t gl_utf8_escape(const char *s, size_t n, const char *keep, char *out, size_t max)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, j = 0, k;

    while (i < n) {
        k = gl_utf8_printable(u + i, n - i);
        if (k == 0 && u[i] != 0 && keep != NULL && strchr(keep, s[i]) != NULL)
            k = 1;
        if (k > 0) {
            if (j + k >= max)
                break;
            memcpy(out + j, s + i, k);
            j += k;
            i += k;
            continue;
        }
        if (j + 4 >= max)
            break;
        out[j++] = '\\';
        out[j++] = 'x';
        gl_hex_encode(u + i, 1, out + j, 3); /* j + 4 < max: room for 2 and a NUL */
        j += 2;
        i++;
    }
    out[j] = 0;
    return i;
}

/*
 * json: see json.h.
 */
#include "json.h"

#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glasslog/codec.h"
#include "glasslog/error.h"

int gl_json_hashes(const cJSON *obj, int strict, uint8_t (*out)[GL_HASH_LEN], size_t max,
                   size_t *n)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, "hashes"), *h;

    *n = 0;
    if (!cJSON_IsArray(arr))
        return GL_EPARSE;
    cJSON_ArrayForEach(h, arr)
    {
        if (*n == max || !cJSON_IsString(h) ||
            gl_hex_decode_exact(h->valuestring, strlen(h->valuestring), out[*n],
                                GL_HASH_LEN, strict) != 0)
            return GL_EPARSE;
        (*n)++;
    }
    return 0;
}

int gl_json_append_string(struct gl_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0; /* start of the bytes copied as they are */
    int err;

    if ((err = gl_buf_putc(b, '"')) != 0)
        return err;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6] = {'\\', 0};
        size_t elen = 2;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        }
        if ((err = gl_buf_append(b, s + run, i - run)) != 0 ||
            (err = gl_buf_append(b, esc, elen)) != 0)
            return err;
        run = i + 1;
    }
    if ((err = gl_buf_append(b, s + run, n - run)) != 0)
        return err;
    return gl_buf_putc(b, '"');
}

int gl_json_append_u64(struct gl_buf *b, uint64_t v)
{
    char num[32];
    double d = (double)v;
    int len;

    double back, diff;

    /* cJSON: "%d" up to INT_MAX, else "%1.15g" (all digits below 1e15),
     * else "%1.17g" when "%1.15g" does not read back as d to within a
     * relative DBL_EPSILON (its compare_double). */
    if (v < 1000000000000000ull)
        return gl_buf_append_u64(b, v);
    len = snprintf(num, sizeof(num), "%1.15g", d);
    back = strtod(num, NULL);
    diff = back > d ? back - d : d - back;
    if (diff > (back > d ? back : d) * DBL_EPSILON)
        len = snprintf(num, sizeof(num), "%1.17g", d);
    if (len < 0 || (size_t)len >= sizeof(num))
        return GL_EINVAL;
    return gl_buf_append(b, num, (size_t)len);
}

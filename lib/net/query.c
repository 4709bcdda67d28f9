/*
 * query: the one query-string reader of the daemons (rule in query.h).
 * Segments are scanned in place; nothing is allocated, and every copy out
 * is bounded by the caller's max.
 */
#include "query.h"

#include <stdio.h>
#include <string.h>

#include "glasslog/codec.h"

#define QUERY_VALUE_MAX 128

/* The segment of query at p: [p, *end); *next is where the following one
 * starts (NULL after the last). */
static void query_segment(const char *p, const char **end, const char **next)
{
    const char *amp = strchr(p, '&');

    *end = amp ? amp : p + strlen(p);
    *next = amp ? amp + 1 : NULL;
}

/* 0 if each of the n names appears in query at most once, each time as
 * name=value; else -1 with why (max bytes) naming the parameter. */
int gl_query_check(const char *query, const char *const *names, size_t n, char *why,
                   size_t max)
{
    for (size_t i = 0; i < n; i++) {
        size_t nlen = strlen(names[i]);
        unsigned seen = 0, bare = 0;

        for (const char *p = query, *end, *next; p != NULL; p = next) {
            query_segment(p, &end, &next);
            if ((size_t)(end - p) >= nlen && memcmp(p, names[i], nlen) == 0 &&
                (p + nlen == end || p[nlen] == '=')) {
                seen++;
                bare += p + nlen == end;
            }
        }
        if (bare > 0) {
            snprintf(why, max, "parameter %s has no value (give %s=<value>)", names[i],
                     names[i]);
            return -1;
        }
        if (seen > 1) {
            snprintf(why, max, "parameter %s is given more than once", names[i]);
            return -1;
        }
    }
    return 0;
}

/* Finds name=value in query (checked by gl_query_check: at most once);
 * copies value to out (NUL-terminated), as it is (percent escapes
 * included). 1 found, 0 absent, -1 too long. */
int gl_query_get_raw(const char *query, const char *name, char *out, size_t max)
{
    size_t nlen = strlen(name);

    for (const char *p = query, *end, *next; p != NULL; p = next) {
        const char *eq;

        query_segment(p, &end, &next);
        eq = memchr(p, '=', (size_t)(end - p));
        if (eq != NULL && (size_t)(eq - p) == nlen && memcmp(p, name, nlen) == 0) {
            size_t vlen = (size_t)(end - eq - 1);
            if (vlen >= max)
                return -1;
            memcpy(out, eq + 1, vlen);
            out[vlen] = 0;
            return 1;
        }
    }
    return 0;
}

/* As query_get_raw, for values that are never percent-encoded (decimal,
 * hex): a '%' makes the value malformed. */
int gl_query_get(const char *query, const char *name, char *out, size_t max)
{
    int r = gl_query_get_raw(query, name, out, max);

    return r == 1 && strchr(out, '%') != NULL ? -1 : r;
}

/* Reads an optional decimal parameter; -1 malformed, 0 absent, 1 found. */
int gl_query_u64(const char *query, const char *name, uint64_t *out)
{
    char v[QUERY_VALUE_MAX];
    int r = gl_query_get(query, name, v, sizeof(v));

    if (r != 1)
        return r;
    return gl_parse_u64(v, strlen(v), out) == 0 ? 1 : -1;
}

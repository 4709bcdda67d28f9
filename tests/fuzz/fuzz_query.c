/*
 * fuzz_query: the daemons' query-string reader (lib/net/query.c), fed the
 * input as a query (up to its first NUL). Nothing may crash, and the
 * answers agree with a second reading done here another way (strsep on a
 * copy): gl_query_check accepts exactly when each known name appears at
 * most once and never bare; a value found is the text after "name=" in
 * its segment, NUL-terminated and within the buffer; a decimal read
 * prints back as that value.
 */
#include "fuzz.h"

#include <inttypes.h>
#include <stdio.h>

#include "query.h"

#define QUERY_MAX 4096

static const char *const names[] = {"a", "bb"};

/* The reference: counts of name=... and of bare name, and the value of
 * the first name=... (a pointer into copy). */
static void count(char *copy, const char *name, int *with, int *bare, const char **value)
{
    size_t n = strlen(name);
    char *seg;

    *with = *bare = 0;
    *value = NULL;
    while ((seg = strsep(&copy, "&")) != NULL) {
        if (strcmp(seg, name) == 0)
            (*bare)++;
        else if (strncmp(seg, name, n) == 0 && seg[n] == '=') {
            if ((*with)++ == 0)
                *value = seg + n + 1;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char q[QUERY_MAX + 1], copy[QUERY_MAX + 1], why[96], v[16];
    size_t n = size < QUERY_MAX ? size : QUERY_MAX;
    int ok = 1;

    memcpy(q, data, n);
    q[n] = 0;
    for (size_t i = 0; i < 2; i++) {
        int with, bare, r;
        const char *value;
        uint64_t x;

        memcpy(copy, q, n + 1);
        count(copy, names[i], &with, &bare, &value);
        ok &= with + bare <= 1 && bare == 0;
        if (with > 1)
            continue; /* gl_query_get is defined for checked queries */
        r = gl_query_get_raw(q, names[i], v, sizeof(v));
        if (r != (value == NULL ? 0 : strlen(value) < sizeof(v) ? 1 : -1))
            abort();
        if (r == 1 && strcmp(v, value) != 0)
            abort();
        r = gl_query_u64(q, names[i], &x);
        if (r == 1) {
            char back[24];
            snprintf(back, sizeof(back), "%" PRIu64, x);
            if (strcmp(back, value) != 0)
                abort();
        }
    }
    if ((gl_query_check(q, names, 2, why, sizeof(why)) == 0) != ok)
        abort();
    return 0;
}

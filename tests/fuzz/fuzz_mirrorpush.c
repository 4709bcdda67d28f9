/*
 * fuzz_mirrorpush: glasslogd's --mirrors file parser (mirrorpush_parse).
 * Nothing may crash; every refusal says why (fuzz_check_why); a parsed
 * list holds at most MIRRORPUSH_MAX mirrors, each with a cosigning key
 * and an http(s) URL of at most MIRRORPUSH_URL_MAX bytes without a
 * trailing slash.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "../../log/mirrorpush.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mirrorpush_list *l = malloc(sizeof *l);
    struct gl_err why;
    int rc;

    if (l == NULL)
        return 0;
    memset(&why, 0, sizeof why);
    rc = mirrorpush_parse((const char *)data, size, l, &why);
    fuzz_check_why(rc, &why, data, size);
    if (rc == 0) {
        if (l->n > MIRRORPUSH_MAX)
            abort();
        for (size_t i = 0; i < l->n; i++) {
            const char *u = l->v[i].url;
            size_t ul = strnlen(u, sizeof l->v[i].url);
            for (const char *c = l->v[i].name; *c != 0; c++)
                if (*c <= 0x20 || *c >= 0x7f || *c == '"' || *c == '\\')
                    abort();
            for (size_t j = 0; j < i; j++)
                if (strcmp(l->v[j].name, l->v[i].name) == 0)
                    abort();
            if (ul == sizeof l->v[i].url || ul > MIRRORPUSH_URL_MAX ||
                l->v[i].key.type != GL_KEY_COSIG ||
                (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) ||
                (ul > 0 && u[ul - 1] == '/'))
                abort();
        }
    }
    free(l);
    return 0;
}

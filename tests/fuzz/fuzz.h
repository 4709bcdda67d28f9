/* fuzz: the libFuzzer entry point every tests/fuzz/fuzz_*.c defines, and
 * the check every harness makes of a parser's refusal. */
#ifndef GL_FUZZ_H
#define GL_FUZZ_H
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "glasslog/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every refusal says why: after a parser returned rc != 0 for the input
 * (size bytes), *e (zeroed before the call) must hold a non-empty,
 * NUL-terminated one-line reason and a line that exists in the input (or
 * the one after its last, for a missing line). Aborts otherwise. */
static inline void fuzz_check_why(int rc, const struct gl_err *e, const uint8_t *data,
                                  size_t size)
{
    size_t lines = 1;

    if (rc == 0)
        return;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    if (e->reason[0] == 0 || memchr(e->reason, 0, sizeof(e->reason)) == NULL ||
        e->line > lines)
        abort();
    for (const char *p = e->reason; *p != 0; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            abort();
}
#endif

/* fuzz: the libFuzzer entry point every tests/fuzz/fuzz_*.c defines. */
#ifndef GL_FUZZ_H
#define GL_FUZZ_H
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#endif

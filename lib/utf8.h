/*
 * utf8 (internal): strict UTF-8 decoding shared by the text validators
 * (key names, note texts). Refuses overlong forms, surrogates, code points
 * above U+10FFFF and truncated sequences.
 */
#ifndef GL_UTF8_H
#define GL_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes one sequence at s (n >= 1 bytes left) into *cp; returns its
 * length (1..4), or 0 if invalid. */
size_t gl_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
/* 1 if s[0..n) is valid UTF-8 without a NUL (a JSON or C string can
 * carry it whole), else 0. */
int gl_utf8_string(const unsigned char *s, size_t n);
/* 1 if c is Unicode White_Space (as Go's unicode.IsSpace). */
int gl_utf8_is_space(uint32_t c);

#endif

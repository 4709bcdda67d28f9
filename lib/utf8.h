/*
 * utf8 (internal): strict UTF-8 decoding shared by the text validators
 * (key names, note texts). Refuses overlong forms, surrogates, code points
 * above U+10FFFF and truncated sequences.
 *
 * Also the one rule for text from elsewhere that reaches a terminal (error
 * reasons, the client's messages and its copies of what a log served): a
 * byte is unprintable when it is a C0 control, DEL, a byte of a UTF-8
 * encoded C1 control (U+0080..U+009F, which some terminals obey: 0x9b is
 * an 8-bit CSI) or a byte that is not part of valid UTF-8. Everything
 * else passes whole, so a printable sequence is never cut.
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
/* The length (1..4) of the printable sequence at s (n >= 1 bytes left),
 * or 0 when s[0] is unprintable (above); every byte of a C1 control and
 * of an invalid sequence is unprintable on its own. */
size_t gl_utf8_printable(const unsigned char *s, size_t n);

/* Writes s[0..n) into out (max >= 1 bytes, NUL included) with every
 * unprintable byte as the four characters \xHH, except the bytes of keep
 * (NUL-terminated, e.g. "\n\t"; may be NULL) which pass as they are. Stops
 * before the first sequence or escape that would not fit whole, so out
 * always ends at a UTF-8 boundary. Returns the number of bytes of s
 * written (n when all of it fit). */
size_t gl_utf8_escape(const char *s, size_t n, const char *keep, char *out, size_t max);

/* 1 if c is Unicode White_Space (as Go's unicode.IsSpace). */
int gl_utf8_is_space(uint32_t c);

#endif

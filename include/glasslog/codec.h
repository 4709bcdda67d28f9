/*
 * codec: strict base64 (standard alphabet, padded, canonical: unused bits
 * of the last group must be zero, no whitespace) and lowercase hex. Strict
 * decoding makes every encoded value have exactly one text form, which
 * signed formats rely on.
 */
#ifndef GLASSLOG_CODEC_H
#define GLASSLOG_CODEC_H

#include <stddef.h>
#include <stdint.h>

/* Length of the base64 text for n bytes (without NUL); 0 on overflow. */
size_t gl_base64_len(size_t n);
/* Encodes n bytes into out (capacity outmax including the NUL). */
int gl_base64_encode(const uint8_t *in, size_t n, char *out, size_t outmax);
/* Decodes text of length inlen into out (capacity outmax); *outlen gets the
 * byte count. GL_EPARSE on any non-canonical input, GL_ETOOBIG if outmax
 * is too small. */
int gl_base64_decode(const char *in, size_t inlen, uint8_t *out, size_t outmax,
                     size_t *outlen);
/* Decodes as Go's encoding/base64 StdEncoding (which is not Strict): as
 * gl_base64_decode, but non-zero unused bits of the last group are ignored
 * rather than refused; *canonical (may be NULL) is then 0, else 1. out may
 * be NULL to only check the text and count its bytes into *outlen (outmax
 * is then ignored). Only for signed-note signature lines, which Go's
 * verifiers read this way, and as a strict check that writes nothing (0
 * with *canonical 1 is exactly gl_base64_decode's success: a parser that
 * must leave its output untouched on failure checks first). */
int gl_base64_decode_lax(const char *in, size_t inlen, uint8_t *out, size_t outmax,
                         size_t *outlen, int *canonical);
/* Decodes exactly want bytes or fails with GL_EPARSE. */
int gl_base64_decode_exact(const char *in, size_t inlen, uint8_t *out, size_t want);

/* Lowercase hex of n bytes into out (capacity >= 2n+1). */
int gl_hex_encode(const uint8_t *in, size_t n, char *out, size_t outmax);
/* Decodes exactly want bytes from 2*want hex digits (lowercase only when
 * strict, either case otherwise). GL_EPARSE on anything else. */
int gl_hex_decode_exact(const char *in, size_t inlen, uint8_t *out, size_t want,
                        int strict);

/* Parses a decimal uint64 with no sign, no leading zeros (except "0"), no
 * spaces, no overflow. GL_EPARSE otherwise. */
int gl_parse_u64(const char *s, size_t n, uint64_t *out);
/* Parses the body of a text/x.tlog.size answer (a witness's or a mirror's
 * 409): a decimal as gl_parse_u64, then "\n". A body without the final
 * "\n" is read whole, never with its last digit dropped: a size misread
 * low would hide a witness or mirror that is ahead of the log. GL_EPARSE
 * for anything else, an empty body included; *out untouched then. */
int gl_parse_size_body(const char *body, size_t n, uint64_t *out);

#endif

/*
 * json: reading the proof API's answers, shared by the witness, the client
 * and the load generator (all parse {"hashes": [hex, ...]} the same way);
 * and writing JSON values without building a cJSON tree, for the hot
 * paths, byte for byte as cJSON_PrintUnformatted writes them (so answers
 * do not change with the writer).
 */
#ifndef GL_NET_JSON_H
#define GL_NET_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include "glasslog/buf.h"
#include "glasslog/sha256.h"

/* Decodes obj's "hashes" array of 64-hex-digit strings into out (room for
 * max hashes; lowercase only when strict); *n gets the count. GL_EPARSE if
 * the field is missing, not an array, longer than max, or holds anything
 * but such strings. out and *n may be partly written on error. */
int gl_json_hashes(const cJSON *obj, int strict, uint8_t (*out)[GL_HASH_LEN], size_t max,
                   size_t *n);

/* Appends the n bytes at s to b as a quoted JSON string, escaped as cJSON
 * escapes (", \\, \b, \f, \n, \r, \t; other bytes below 0x20 as
 * \u00xx; everything else as is). GL_ETOOBIG (b's max) or GL_ENOMEM; b
 * may then hold part of the string. */
int gl_json_append_string(struct gl_buf *b, const char *s, size_t n);

/* Appends v to b as cJSON prints the number (double)v. Errors as above. */
int gl_json_append_u64(struct gl_buf *b, uint64_t v);

#endif

/*
 * json: reading the proof API's answers, shared by the witness, the client
 * and the load generator (all parse {"hashes": [hex, ...]} the same way).
 */
#ifndef GL_NET_JSON_H
#define GL_NET_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include "glasslog/sha256.h"

/* Decodes obj's "hashes" array of 64-hex-digit strings into out (room for
 * max hashes; lowercase only when strict); *n gets the count. GL_EPARSE if
 * the field is missing, not an array, longer than max, or holds anything
 * but such strings. out and *n may be partly written on error. */
int gl_json_hashes(const cJSON *obj, int strict, uint8_t (*out)[GL_HASH_LEN], size_t max,
                   size_t *n);

#endif

/*
 * util: small helpers of the verify/lookup/monitor/get commands: option
 * values (durations, counts), hashing an artifact file, time stamps for
 * humans, joining a log's URL prefix with a path, reading a log
 * index from its JSON answers, and making what a log sent printable in
 * a message. No network, no state.
 */
#ifndef GL_CLIENT_UTIL_H
#define GL_CLIENT_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "glasslog/buf.h"
#include "glasslog/sha256.h"

/* Parses a duration: a decimal number of seconds with an optional unit
 * suffix s, m, h or d ("30s", "10m", "24h", "7d", "90"). 0 or GL_EPARSE
 * (also for zero, overflow or anything else). */
int util_parse_duration(const char *s, uint64_t *seconds);
/* Parses a decimal (canonical, gl_parse_u64 rules) within [lo, hi].
 * 0 or GL_EPARSE. */
int util_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);
/* The same for the value of option `name` (e.g. "--timeout"): on a bad
 * value says "NAME takes a number from LO to HI, not 'V'" on stderr.
 * 0 or GL_EPARSE. */
int util_opt_u64(const char *name, const char *s, uint64_t lo, uint64_t hi,
                 uint64_t *out);

/* SHA-256 of a file's contents, streamed (any size). 0, or GL_EIO with a
 * message on stderr naming the file. */
int util_hash_file(const char *path, uint8_t out[GL_HASH_LEN]);

/* Writes t (Unix seconds) as "YYYY-MM-DDTHH:MM:SSZ" into out[32]. */
void util_time_utc(uint64_t t, char out[32]);

/* Appends base (a log's URL prefix, trailing "/" optional), "/" and path
 * (no leading "/") to out. GL_ETOOBIG past out's max. */
int util_join_url(const char *base, const char *path, struct gl_buf *out);

/* The largest integer a JSON number (an IEEE double) holds exactly. */
#define UTIL_JSON_INT_MAX 9007199254740992.0 /* 2^53 */

/* A log index (or tree size) from a JSON value: a number that is a whole
 * number from 0 to 2^53. 0, or GL_EPARSE for anything else (not a number,
 * negative, fractional, larger, NaN), *out untouched. j may be NULL. */
int util_json_index(const cJSON *j, uint64_t *out);

/* One page of a log's lookup answer (GET api/v1/lookup): at most
 * UTIL_LOOKUP_BYTES, listing at most UTIL_LOOKUP_ITEMS statements (the
 * log's page), so at most UTIL_LOOKUP_VALUES JSON values: an object of a
 * few members whose list holds objects of four string or number members;
 * the margin leaves room for members added later, never for millions. */
#define UTIL_LOOKUP_BYTES ((size_t)32 << 20)
#define UTIL_LOOKUP_ITEMS 100u
#define UTIL_LOOKUP_VALUES (UTIL_LOOKUP_ITEMS * 16u + 64u)
/* Counts the JSON values that parsing the n bytes of s would make (one
 * per ',', '[' or '{' outside strings, plus one), stopping past max: 0
 * when at most max, GL_ETOOBIG otherwise. Run before cJSON on a hostile
 * answer so the parse allocates a bounded number of nodes; syntax is
 * cJSON's to check. */
int util_json_values_within(const uint8_t *s, size_t n, size_t max);

/* Room for a name from a log (an origin, a key name) in a message:
 * its first bytes, escaped, cut at a UTF-8 boundary. */
#define UTIL_PRINTABLE_NAME 208

/* What a log sent (s, n bytes: a name, an origin, an error text), made
 * fit for a message into out (max >= 1 bytes): every unprintable byte
 * (C0 controls, DEL, the bytes of UTF-8 encoded C1 controls, bytes of
 * invalid UTF-8) as \xHH, cut before the first sequence that does not
 * fit (gl_utf8_escape, lib/utf8.h: the one rule, also the one of
 * `get`'s terminal output and of error reasons). Returns out. Every
 * string from a log or a mirror goes through it before it reaches a
 * message, unless the policy vouched for it (a verified origin). */
const char *util_printable(const char *s, size_t n, char *out, size_t max);

/* Constant-time equality of two 32-byte hashes: 1 equal, 0 not. */
int util_hash_equal(const uint8_t a[GL_HASH_LEN], const uint8_t b[GL_HASH_LEN]);

/* Sleeps for seconds (any length; fractions too), resuming after signals. */
void util_sleep(double seconds);

#endif

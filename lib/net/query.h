/*
 * query: reading the query string of an HTTP request, one rule for every
 * route of every daemon. A query is name=value segments separated by '&'.
 * Empty segments and parameters a route does not know (with or without
 * '=', e.g. a cache-buster "&_=123" or "&nocache") are ignored; a
 * parameter the route knows must appear at most once and with '='
 * (gl_query_check). Values are taken as they are: no '+' for space, and
 * percent escapes only where the caller decodes them.
 */
#ifndef GL_NET_QUERY_H
#define GL_NET_QUERY_H

#include <stddef.h>
#include <stdint.h>

/* 0 if each of the n names appears in query (NUL-terminated, may be "")
 * at most once, each time as name=value; else -1 with why (max bytes,
 * NUL-terminated) naming the parameter. */
int gl_query_check(const char *query, const char *const *names, size_t n, char *why,
                   size_t max);
/* Finds name=value in query (checked by gl_query_check: at most once) and
 * copies value, percent escapes included, to out (max bytes with its NUL).
 * 1 found, 0 absent, -1 too long. */
int gl_query_get_raw(const char *query, const char *name, char *out, size_t max);
/* As gl_query_get_raw, for values that are never percent-encoded
 * (decimal, hex): a '%' in the value is -1. */
int gl_query_get(const char *query, const char *name, char *out, size_t max);
/* Reads name as a decimal (no sign, no leading zero, no overflow) into
 * *out. 1 found, 0 absent, -1 malformed. */
int gl_query_u64(const char *query, const char *name, uint64_t *out);

#endif

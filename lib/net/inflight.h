/*
 * inflight: places for a server's deferred requests of one kind, so that
 * the memory they hold stays bounded however often their clients leave
 * before the answer. At most max requests hold a place at once; once half
 * of the places are taken, a client (addr_limit's key: an IPv4 address,
 * an IPv6 /64; behind a reverse proxy, the proxy) holding per_client of
 * them gets no more, so one client alone cannot take the other half,
 * while a busy one (a proxy) is not refused while places are plenty.
 *
 * A request takes its place before it is deferred and gives it back once
 * it is finished (answered, or dropped at shutdown), not when its client
 * leaves: the place stands for what the request holds until then.
 *
 * The one rule for such places: the witness's add-checkpoints
 * (witness/api.c) and the log's reads waiting for a database
 * (log/readapi.c) both hold theirs here.
 *
 * Not thread-safe: one owner thread (the server's loop thread).
 */
#ifndef GL_NET_INFLIGHT_H
#define GL_NET_INFLIGHT_H

#include <stddef.h>

#include "addr_limit.h"

struct inflight;

/* A set of max places (1..ADDR_LIMIT_MAX_CAPACITY), per_client (>= 1) of
 * them for one client once half are taken. *out is the caller's, freed
 * with inflight_free. GL_EINVAL, GL_ENOMEM, GL_EIO (addr_limit_new). */
int inflight_new(size_t max, unsigned per_client, struct inflight **out);
/* NULL is a no-op. Places still taken are dropped with it. */
void inflight_free(struct inflight *t);
/* Takes a place for the client at peer (gl_http_req_peer's text) and
 * sets *k to its key, for inflight_give. 0; GL_ETOOBIG when all places
 * are taken; GL_ERANGE when half or more are and the client holds its
 * share. Nothing changes on error. */
int inflight_take(struct inflight *t, const char *peer, struct addr_key *k);
/* Gives back a place taken for k (which must hold one: asserted). */
void inflight_give(struct inflight *t, const struct addr_key *k);
/* Places taken. */
size_t inflight_count(const struct inflight *t);

#endif

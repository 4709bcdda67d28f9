/*
 * addr_limit: how many connections each client address has open, so a
 * server can refuse a client's connection over a per-client limit at
 * accept, at O(1) expected cost per accept and per close.
 *
 * Who is "one client": an IPv4 address (an IPv4-mapped IPv6 address counts
 * as the IPv4 address), or the /64 prefix of an IPv6 address. A /64 is one
 * subnet, what a single host or site is given; counting whole IPv6
 * addresses would let one client spread over 2^64 of them.
 *
 * Table: open addressing with linear probing and backward-shift deletion
 * (no tombstones, so a long-running server never degrades). It holds at
 * most `capacity` keys (one per client with a connection open) in a
 * power-of-two array of at least twice that many slots, so the load stays
 * at or below 1/2. Hash: multiply-shift over the key's 32-bit words with
 * random 64-bit multipliers drawn at creation (getrandom), so a client
 * choosing its addresses cannot aim at one probe chain without knowing
 * them.
 *
 * Not thread-safe: one owner thread (the server's loop thread).
 */
#ifndef GL_NET_ADDR_LIMIT_H
#define GL_NET_ADDR_LIMIT_H

#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

/* Most keys a table can be made for. */
#define ADDR_LIMIT_MAX_CAPACITY ((size_t)1 << 24)
/* Room addr_limit_format needs: any inet_ntop text (INET6_ADDRSTRLEN,
 * 46 with the NUL) and "/64". */
#define ADDR_LIMIT_TEXT_MAX 64

/* One client, canonical: IPv4 as ::ffff:a.b.c.d (bytes 10-11 0xff), IPv6
 * as its first 8 bytes then 8 zero bytes. The two forms never collide. */
struct addr_key {
    uint8_t b[16];
};

struct addr_limit;

/* The client key of a peer address (AF_INET or AF_INET6; len its size).
 * GL_EINVAL for anything else or a short len. */
int addr_limit_key(const struct sockaddr *sa, size_t len, struct addr_key *out);
/* The client key of a numeric peer address as text ("192.0.2.1",
 * "2001:db8::1", as gl_http_req_peer gives it). Any other text (an
 * unknown peer: "") gets the zero key, which all such peers share. */
void addr_limit_key_text(const char *peer, struct addr_key *out);
/* Writes the key as text into buf (ADDR_LIMIT_TEXT_MAX bytes):
 * "203.0.113.7" or "2001:db8:1:2::/64". */
void addr_limit_format(const struct addr_key *k, char buf[ADDR_LIMIT_TEXT_MAX]);

/* A table for at most capacity (1..ADDR_LIMIT_MAX_CAPACITY) clients with
 * connections open at once. *out freed with addr_limit_free. GL_EINVAL,
 * GL_ENOMEM, GL_EIO (no randomness for the hash). */
int addr_limit_new(size_t capacity, struct addr_limit **out);
/* NULL is a no-op. */
void addr_limit_free(struct addr_limit *t);
/* Counts one more connection for k, unless k has `limit` already or the
 * table holds `capacity` clients: then GL_ERANGE and nothing changes. */
int addr_limit_acquire(struct addr_limit *t, const struct addr_key *k, unsigned limit);
/* Counts one connection less for k (which must have one: asserted). The
 * key leaves the table at 0. */
void addr_limit_release(struct addr_limit *t, const struct addr_key *k);
/* Connections counted for k (0 if absent). */
unsigned addr_limit_count(const struct addr_limit *t, const struct addr_key *k);
/* Clients in the table (keys with at least one connection). */
size_t addr_limit_clients(const struct addr_limit *t);

#endif

/*
 * expect: the monitor's expected-releases file, one release per line:
 *
 *   <kind> <subject> <version> <sha256>
 *
 * kind is build, rule-update or audit-report; subject and version follow
 * the statement grammar (printable ASCII, no spaces); sha256 is 64
 * lowercase hex digits. Items are separated by single spaces or tabs
 * (runs allowed); blank lines and lines starting with "#" are ignored.
 * Any other line is an error naming its number.
 *
 * In memory a release is the SHA-256 of its canonical line ("kind subject
 * version sha256", single spaces), kept sorted: lookup is a binary search,
 * memory is 32 bytes per release whatever the line lengths.
 */
#ifndef GL_CLIENT_EXPECT_H
#define GL_CLIENT_EXPECT_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/error.h"
#include "glasslog/statement.h"
#include "glasslog/sha256.h"

#define EXPECT_MAX_SIZE (64u << 20) /* bytes of the file */

struct expect {
    uint8_t (*h)[GL_HASH_LEN]; /* owned, sorted */
    size_t n;
};

/* Parses the file's text (len bytes, any bytes) into *e (zeroed first).
 * 0, or GL_EPARSE, GL_ETOOBIG, GL_ENOMEM with why (may be NULL) naming the
 * line and what was wrong; *e is then empty. Free with expect_release. */
int expect_parse(const char *text, size_t len, struct expect *e, struct gl_err *why);
/* Loads path into *e (zeroed first) with expect_parse. Errors are printed
 * ("FILE:LINE: why"). 0, GL_EPARSE, GL_EIO, GL_ETOOBIG, GL_ENOMEM. Free
 * with expect_release. */
int expect_load(const char *path, struct expect *e);
void expect_release(struct expect *e);
/* 1 if the statement's (kind, subject, version, sha256) is listed. */
int expect_has(const struct expect *e, const struct gl_statement_fields *f);

#endif

/*
 * srctree: the deterministic digest of a source tree (a directory), the
 * digest a `source` statement names when the snapshot is a directory
 * rather than an archive (specs/statement.md, section 10).
 *
 * The digest is SHA-256 of a manifest:
 *
 *   glasslog.dev/srctree/v1\n
 *   <type> <sha256 hex> <path>\n      one line per entry, paths ascending
 *
 * type "file" (regular, no execute bit), "exec" (regular, any execute
 * bit), "link" (a symbolic link, not followed; the hash is of its target
 * string). path is relative, '/'-separated, bytes 0x21-0x7E only (no
 * space). Directories appear only through their entries (an empty one
 * adds nothing); any other file type is refused. Owners, times and other
 * mode bits do not count.
 */
#ifndef GLASSLOG_SRCTREE_H
#define GLASSLOG_SRCTREE_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/buf.h"
#include "glasslog/error.h"

#define GL_SRCTREE_HEADER "glasslog.dev/srctree/v1"
#define GL_SRCTREE_MAX_ENTRIES 1000000 /* files and links */
#define GL_SRCTREE_MAX_PATH 4096       /* bytes of a relative path */
#define GL_SRCTREE_MAX_DEPTH 64        /* directory nesting */

/* The tree digest of directory dir into out. If manifest is not NULL the
 * manifest is appended to it (GL_ETOOBIG past its max). GL_EIO if
 * something cannot be read, GL_EPARSE for a path or file type the
 * manifest cannot carry, GL_ETOOBIG past a cap, GL_ENOMEM; why (may be
 * NULL; line 0) names the path. Nothing is allocated for the caller. */
int gl_srctree_digest(const char *dir, uint8_t out[32], struct gl_buf *manifest,
                      struct gl_err *why);

#endif

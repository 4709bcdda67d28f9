/*
 * file: the few file operations the daemons and the CLI share (reading a
 * bounded file, creating a new one durably, loading keys).
 * Lives in the I/O archive (libglasslog-net.a) so the core stays pure.
 */
#ifndef GL_NET_FILE_H
#define GL_NET_FILE_H

#include <stddef.h>

#include "glasslog/buf.h"
#include "glasslog/key.h"

/* Appends the contents of path ("-" = stdin) to out; GL_ETOOBIG past
 * out->max, GL_EIO (errno kept) if it cannot be opened or read. */
int gl_file_read(const char *path, struct gl_buf *out);
/* The reason for gl_file_read's error rc, for a log line: errno's text
 * for GL_EIO (call it before anything changes errno), "larger than the
 * cap" for GL_ETOOBIG. A static string. */
const char *gl_file_read_error(int rc);
/* Creates path with O_EXCL and mode, writes data, fsyncs, closes; removes
 * it again on failure. GL_EEXIST if it exists, GL_EIO otherwise. The
 * directory is not synced: the caller syncs it once after its files
 * (gl_file_sync_dir, gl_file_sync_parent). */
int gl_file_write_new(const char *path, const void *data, size_t n, int mode);
/* Replaces path atomically: writes a temporary file beside it whose name
 * is unique to this call (path.tmp-<pid>-<serial>, so concurrent writers
 * of one path, in one process or several, never share it; created with
 * O_EXCL, the next serial tried if that name exists), fsyncs,
 * renames, fsyncs the directory. The last rename wins: callers that must
 * not lose a newer version serialise read-check-replace with a lock.
 * GL_EIO on failure (the temporary is removed). */
int gl_file_replace(const char *path, const void *data, size_t n, int mode);
/* Creates path atomically and durably, never replacing it: the data goes
 * to a temporary file beside it (as gl_file_replace's), fsynced, which is
 * then linked to path (link(2) fails if path exists, symlinks included)
 * and removed; then the directory is fsynced. So path appears whole or
 * not at all, even across a crash (a crash may leave the temporary). On
 * a file system without hard links (vfat: link fails otherwise than with
 * EEXIST) it is written in place instead, as gl_file_write_new does.
 * GL_EEXIST if path exists, GL_EIO otherwise (errno kept). */
int gl_file_publish_new(const char *path, const void *data, size_t n, int mode);
/* fsyncs the directory dir (after creating, renaming or removing an entry
 * in it, so the change survives a crash). 0 or GL_EIO (errno kept). */
int gl_file_sync_dir(const char *dir);
/* fsyncs the directory that holds path (trailing slashes of path are
 * ignored: "a/b/" is b in a). 0, GL_ETOOBIG for a path over 4095 bytes,
 * or GL_EIO (errno kept). */
int gl_file_sync_parent(const char *path);
/* Removes trailing slashes from path in place, keeping a lone "/". */
void gl_file_trim_slashes(char *path);

/* Removes path and, for a directory, everything under it, depth first,
 * never following a symbolic link (a link is removed, not what it names).
 * 0 once nothing is left (also when path was missing); GL_EIO (errno kept)
 * at the first entry that cannot be removed. The caller makes sure path is
 * its own to remove. */
int gl_file_remove_tree(const char *path);

/* 1 if the directory dir is missing or holds nothing but "." and "..",
 * 0 if it holds anything, GL_EIO (errno kept) if it cannot be read (a
 * daemon deciding whether to make new state there). */
int gl_file_dir_empty(const char *dir);

/* Reads a signer key file into *out (the caller wipes it). GL_EIO (errno
 * kept), GL_ETOOBIG or the errors of gl_signer_parse, with why (may be
 * NULL) saying what was wrong. A key others can read (gl_file_exposed)
 * is loaded, with a warning logged. */
int gl_file_load_signer(const char *path, struct gl_signer *out, struct gl_err *why);
/* 1 if path is a regular file whose group or others have any permission
 * (a private key there is exposed), else 0. */
int gl_file_exposed(const char *path);

#endif

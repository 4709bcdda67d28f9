/*
 * state: the client's memory of each log, in a state directory (specs/
 * client.md, "State directory"):
 *
 *   ROOT/                    --state DIR, or $XDG_STATE_HOME/glasslog,
 *                            or ~/.local/state/glasslog
 *     <logid>/               logid = lowercase hex SHA-256 of a verifier
 *                            key string ("name+id+base64") of the log
 *       vkey                 that key, for humans
 *       checkpoint           the newest verified checkpoint (the signed note
 *                            as served, cosignatures included)
 *       lock                 flock(2) for read-verify-replace of checkpoint
 *       monitor              monitor progress (entries checked, the compact
 *                            range over them, the target checkpoint)
 *       monitor.lock         held by a running monitor
 *       alarms/<name>/       evidence of one alarm: "alarm" (what, when) and
 *                            the files that prove it
 *
 * One log is one origin of the policy: the policy may list several keys
 * with one origin (a key rotation), and trust.c accepts a checkpoint signed
 * by any of them, so they share one directory, that of the first of them
 * (in policy order) whose directory exists, else that of the first. A
 * checkpoint of the log under any of its keys is thus checked against the
 * same memory, and a directory made before a key was added keeps being
 * used. Naming it by a verifier key, not the origin, keeps apart two logs
 * that share an origin name under policies that list different keys
 * (the stored checkpoint of one would not verify under the other).
 *
 * Every file is replaced atomically (write, fsync, rename, fsync the
 * directory), so a crash leaves the old or the new version, never a mix.
 * The stored checkpoint only moves forward: a smaller tree never replaces
 * a larger one.
 */
#ifndef GL_CLIENT_STATE_H
#define GL_CLIENT_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/buf.h"
#include "glasslog/error.h"
#include "glasslog/key.h"
#include "glasslog/merkle.h"
#include "glasslog/sha256.h"

#define STATE_PATH_MAX 4096
#define STATE_CHECKPOINT_MAX (1u << 20) /* = GL_NOTE_MAX_SIZE */

struct state {
    char dir[STATE_PATH_MAX]; /* ROOT/<logid> */
    char logid[GL_HASH_HEX_LEN + 1];
    int lock_fd;    /* "lock", held between state_lock/unlock, or -1 */
    int monitor_fd; /* "monitor.lock" while held, or -1 */
};

/* The default root into out[STATE_PATH_MAX]: $XDG_STATE_HOME/glasslog if
 * that is set and absolute, else $HOME/.local/state/glasslog. GL_EINVAL if
 * neither can be determined. */
int state_default_root(char *out);

/* Opens (creating as needed, mode 0700) the directory of the log whose
 * key is keys[log], keys being the policy's n log keys: among the keys
 * with the name (origin) of keys[log], the first whose ROOT/<logid>
 * exists, else the first. Reports failures on stderr. 0 or GL_EIO /
 * GL_ETOOBIG / GL_EINVAL (log >= n). */
int state_open_log(struct state *s, const char *root, const struct gl_verifier *keys,
                   size_t n, size_t log);
/* 0 if the checkpoint stored in s, signed by keys[stored] (a policy log
 * key), is a checkpoint of the log keys[log] whose directory s is (the
 * same origin: a rotation's keys share it). Otherwise it reports "the
 * stored checkpoint in DIR is of log X, not Y: remove it to start over"
 * on stderr and returns GL_EINVAL (a copied or restored file: comparing
 * it would raise a false fork alarm). */
int state_check_stored_log(const struct state *s, const struct gl_verifier *keys,
                           size_t stored, size_t log);
/* state_open_log for a log with the one key log_key. */
int state_open(struct state *s, const char *root, const struct gl_verifier *log_key);
/* Releases the locks. Safe to call twice. */
void state_close(struct state *s);

/* Exclusive lock around a read-verify-replace of the checkpoint (blocks
 * while another glasslog process holds it). 0 or GL_EIO / GL_ETOOBIG,
 * reported on stderr. */
int state_lock(struct state *s);
void state_unlock(struct state *s);
/* Takes monitor.lock without waiting: GL_EEXIST if another monitor runs on
 * this state. Released by state_close. */
int state_lock_monitor(struct state *s);

/* Appends the stored checkpoint note to note. GL_ENOTFOUND if there is
 * none, GL_EIO / GL_ETOOBIG otherwise. The caller verifies it again. */
int state_load_checkpoint(const struct state *s, struct gl_buf *note);
/* Stores note (a checkpoint of `size` leaves and this root, already
 * verified by the caller) unless the stored one is larger, or of the same
 * size with another root. The caller must hold state_lock and have
 * loaded and checked the stored checkpoint (consistency) under it, so no
 * other process replaced it in between; without the lock nothing is
 * written and GL_EINVAL returned. *stored (may be NULL) says whether it
 * was written. 0, GL_EINVAL or GL_EIO. */
int state_store_checkpoint(struct state *s, const char *note, size_t len, uint64_t size,
                           const uint8_t root[GL_HASH_LEN], int *stored);

/* Monitor progress: entries [0, range.size) have been checked, range is
 * their compact range, target the checkpoint being caught up to (a signed
 * note, verified when it was adopted). */
struct state_progress {
    struct gl_merkle_range range;
    struct gl_buf target; /* owned; init by state_progress_init */
};

void state_progress_init(struct state_progress *p);
void state_progress_release(struct state_progress *p);
/* Loads the progress into *p (initialised). GL_ENOTFOUND if none,
 * GL_EPARSE if the file is damaged (the caller starts over), GL_EIO /
 * GL_ETOOBIG if it cannot be read; why (may be NULL) says which, with the
 * line of the file for damage. */
int state_load_progress(const struct state *s, struct state_progress *p,
                        struct gl_err *why);
/* Replaces the progress file atomically. */
int state_save_progress(const struct state *s, const struct state_progress *p);
/* Removes the progress file (after an alarm that invalidates it). */
int state_drop_progress(const struct state *s);

/* One file of evidence. */
struct state_file {
    const char *name; /* plain file name */
    const void *data;
    size_t len;
};

/* Records an alarm: creates alarms/<name>/ holding "alarm" (summary text)
 * and the n files, atomically (built under a temporary name, then
 * renamed). path (STATE_PATH_MAX bytes) gets the directory. GL_EEXIST if
 * this alarm was recorded before (same name), GL_EIO otherwise. */
int state_save_evidence(const struct state *s, const char *name, const char *summary,
                        const struct state_file *files, size_t n, char *path);

#endif

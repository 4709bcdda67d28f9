/*
 * reload: glasslog-witness's SIGHUP. The logs file and the peers file are
 * read and parsed in full first; if either does not parse (or cannot be
 * read) the reload is refused with a log line and the lists in use stay.
 * Otherwise the witness switches to them without closing a connection or
 * losing state:
 *  1. the API pauses: new add-checkpoints and add-entries get 503 with
 *     Retry-After: 1 (the mirror's gate closes, mirror.h), the mirror's
 *     pull thread and the feeder are asked to stop, and the reload waits
 *     (a loop timer) for the outstanding adds and uploads to be answered
 *     and both threads to leave (at most RELOAD_WAIT_MS; if adds or
 *     uploads are still outstanding then, it gives up and resumes);
 *  2. the feeder is joined; the stored checkpoints are checked against
 *     the new list again (an add or a pull running when the reload was
 *     asked may have stored one signed only by a key the new list drops:
 *     then the reload gives up, nothing changed); the mirror opens the
 *     copies of the logs newly mirrored (if one does not open, the reload
 *     gives up: nothing changed); the engine drains and stops: everything
 *     it acknowledged is durable; the pull thread is joined;
 *  3. the lists are replaced in place (every component keeps its pointer
 *     to them), the rate buckets move by origin, a new engine loads the
 *     durable state for the new list, the mirror switches to the new list
 *     by origin, the feeder and the pull thread start again;
 *  4. the API resumes.
 * The mirror, by origin: a log mirrored before and after keeps its copy
 * and its state (mirror checkpoint, pending checkpoints, tile cache),
 * served unchanged; a log no longer mirrored (removed, or its mirror line
 * gone) is closed and its /mirror/ endpoints and uploads answer 404, its
 * copy staying on disk (DATA/mirror/<SHA-256(origin)>/); a log newly
 * mirrored gets its copy opened, created when missing, so a log mirrored
 * again later finds everything it had. Mirror lines without --mirror-key
 * are refused, as at start-up; so is a list whose copies would not fit
 * the bound the mirror was opened with (mirror.h, Bounds;
 * --mirror-max-logs: the descriptors set aside at start), counting the
 * copies a switch holds open at once; a list with no mirror line keeps the
 * mirror listener up with nothing mirrored. Tickets (mirror-info) stay
 * valid across a reload.
 * After a failed storage write (the engine's fail-stop) a reload is
 * refused: only a restart reopens the store and reads what reached the
 * disk. What a witness cosigned is on disk, keyed by origin: a log dropped and
 * re-added later finds its record again. If the new engine cannot start
 * the witness cannot go on safely: the old lists and the old (stopped)
 * engine stay, reads are served from it, /healthz answers 503 with the
 * reason, and RELOAD_FATAL_GRACE_MS later the witness stops itself
 * (SIGTERM) with fatal set (the caller exits non-zero). Loop thread only.
 */
#ifndef GL_WITNESS_RELOAD_H
#define GL_WITNESS_RELOAD_H

#include <uv.h>

#include "api.h"
#include "engine.h"
#include "feeder.h"
#include "logs.h"
#include "mirror.h"
#include "mirrorpull.h"
#include "peers.h"

#define RELOAD_WAIT_MS 30000
#define RELOAD_FATAL_GRACE_MS 1000 /* /healthz says why, then the witness stops */

/* Reads and parses the logs file (the peers file) at path into *out
 * (released by the caller with logs_release / peers_release, also after
 * a failure), logging why it failed, and the warnings the lists carry
 * (lines skipped or ignored, converted peer keys), each line prefixed
 * with prefix ("" at start-up, "reload: " on SIGHUP). 0 or an error. */
int reload_read_logs(const char *path, const char *prefix, struct logs_list *out);
int reload_read_peers(const char *path, const char *prefix, struct peers_list *out);

struct reload {
    uv_loop_t *loop;
    const char *logs_path, *peers_path; /* peers_path may be NULL */
    struct logs_list *logs;             /* the lists in use (the caller's) */
    struct peers_list *peers;
    struct api *api;
    struct engine **engine;
    struct feeder **feeder;
    struct engine_config *ec;     /* ec->logs == logs */
    struct feeder_config *fc;     /* fc->logs == logs, fc->peers == peers */
    struct mirror *mirror;        /* NULL without --mirror-key; cfg.logs == logs */
    struct mirrorpull **mpull;    /* *mpull may be NULL */
    struct mirrorpull_config *pc; /* pc->logs == logs (used when mirror) */
    void (*switched)(void *arg);  /* or NULL: run once the lists are switched */
    void *arg;
    /* internal */
    uv_timer_t timer;
    int timer_ready, pending;
    int fatal; /* the new engine did not start: stopping, exit non-zero */
    uint64_t started_ms;
    struct logs_list next_logs;
    struct peers_list next_peers;
};

/* Sets up the timer (fields above the internal ones filled by the
 * caller). */
void reload_init(struct reload *r);
/* SIGHUP: starts a reload (logged); ignored while one runs. */
void reload_request(struct reload *r);
/* Closes the timer (shutdown); a pending reload is dropped. */
void reload_close(struct reload *r);

#endif

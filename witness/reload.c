/*
 * reload: see reload.h. The components hold pointers to the caller's
 * lists, so the switch swaps the lists' contents in place while nothing
 * runs that reads them: no add outstanding (the API is paused), no
 * add-entries inside the mirror (its gate closed), the feeder and the
 * mirror's pull thread joined, the engine drained and joined. Both
 * threads are asked to stop when the reload starts and the loop timer
 * waits for them to leave, so the join never blocks the loop (which keeps
 * answering reads and /healthz all along); a reload that gives up lets
 * them go on (feeder_resume, mirrorpull_resume). The mirror
 * also holds indices into the logs list and the engine's pointer: it
 * stages the new set of copies before the swap (mirror_prepare, the only
 * step of the mirror's that can fail, so a failure changes nothing) and
 * installs it, remapped by origin, after the swap with the new engine
 * (mirror_switch).
 *
 * The old engine is stopped (drained, its committer joined) before the
 * new one loads, since both use the one store and the new one must read
 * everything the old one acknowledged; but it is freed only once the new
 * one is made and every pointer to it (API, feeder config, mirror) is
 * replaced. If the new engine cannot be made, the old lists are put back,
 * so the stopped old engine still matches them and keeps serving reads
 * (monitoring, /evidence, /metrics) of what is durable; changes get 503
 * (the API stays paused and the engine refuses submissions), /healthz
 * answers 503 with the reason (api.down), and after RELOAD_FATAL_GRACE_MS
 * (so that health checks see why before the listener closes) the witness
 * stops itself (SIGTERM) with r->fatal set, so it exits non-zero and a
 * supervisor restarts it. No pointer is ever left to a freed engine.
 */
#include "reload.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "mirror.h"
#include "mirrorpull.h"
#include "glasslog/error.h"
#include "glasslog/log.h"

#define RELOAD_POLL_MS 20

int reload_read_logs(const char *path, const char *prefix, struct logs_list *out)
{
    struct gl_buf b;
    struct gl_err why;
    int rc;

    memset(out, 0, sizeof(*out));
    gl_buf_init(&b, LOGS_FILE_MAX);
    if ((rc = gl_file_read(path, &b)) != 0)
        gl_log(GL_LOG_ERROR, "%scannot read %s: %s", prefix, path,
               gl_file_read_error(rc));
    else if ((rc = logs_parse((const char *)b.data, b.len, out, &why)) != 0)
        gl_log_err(GL_LOG_ERROR, path, &why);
    gl_buf_release(&b);
    if (rc == 0 && out->skipped > 0)
        gl_log(GL_LOG_WARN, "%s%s: skipped %zu logs with keys this build cannot verify",
               prefix, path, out->skipped);
    if (rc == 0 && out->skipped_witnesses > 0)
        gl_log(GL_LOG_WARN,
               "%s%s: skipped %zu witness lines with keys this build cannot verify",
               prefix, path, out->skipped_witnesses);
    if (rc == 0 && out->unknown > 0)
        gl_log(GL_LOG_WARN, "%s%s: ignored %zu lines with unknown keywords", prefix, path,
               out->unknown);
    return rc;
}

int reload_read_peers(const char *path, const char *prefix, struct peers_list *out)
{
    struct gl_buf b;
    struct gl_err why;
    int rc;

    memset(out, 0, sizeof(*out));
    gl_buf_init(&b, PEERS_FILE_MAX);
    if ((rc = gl_file_read(path, &b)) != 0)
        gl_log(GL_LOG_ERROR, "%scannot read %s: %s", prefix, path,
               gl_file_read_error(rc));
    else if ((rc = peers_parse((const char *)b.data, b.len, out, &why)) != 0)
        gl_log_err(GL_LOG_ERROR, path, &why);
    gl_buf_release(&b);
    for (size_t i = 0; rc == 0 && i < out->n; i++)
        if (out->v[i].converted)
            gl_log(GL_LOG_WARN,
                   "%speer %s: its 0x01 key was converted to a cosignature (0x04) key; "
                   "publish 0x04 keys for witnesses",
                   prefix, out->v[i].name);
    if (rc == 0 && out->skipped > 0)
        gl_log(GL_LOG_WARN,
               "%s%s: skipped %zu witness lines with keys this build cannot verify",
               prefix, path, out->skipped);
    if (rc == 0 && out->nourl > 0)
        gl_log(GL_LOG_WARN, "%s%s: skipped %zu witness lines without a url (not peers)",
               prefix, path, out->nourl);
    return rc;
}

static int parse_files(struct reload *r)
{
    int rc = reload_read_logs(r->logs_path, "reload: ", &r->next_logs);

    memset(&r->next_peers, 0, sizeof(r->next_peers));
    if (rc == 0 && r->peers_path != NULL)
        rc = reload_read_peers(r->peers_path, "reload: ", &r->next_peers);
    if (rc != 0) {
        logs_release(&r->next_logs);
        peers_release(&r->next_peers);
    }
    return rc;
}

/* Logs with a mirror line need the mirror role (--mirror-key): as at
 * start-up, a list that has them is refused without it. With it, the
 * copies the switch would hold open at once must fit the bound set at
 * start (mirror.h, Bounds: descriptors and cache were set aside for that
 * many), checked here before anything pauses by mirror_check_copies,
 * which mirror_prepare calls again. */
static int check_mirror(const struct reload *r)
{
    char why[MIRROR_WHY_MAX];
    int rc;

    if (r->mirror != NULL) {
        if ((rc = mirror_check_copies(r->mirror, &r->next_logs, why, sizeof why)) != 0)
            gl_log(GL_LOG_ERROR, "reload: %s: %s", r->logs_path, why);
        return rc;
    }
    for (size_t i = 0; i < r->next_logs.n; i++)
        if (r->next_logs.v[i].mirror) {
            gl_log(GL_LOG_ERROR,
                   "reload: %s: log %s has a mirror line, and the witness runs "
                   "without --mirror-key",
                   r->logs_path, r->next_logs.v[i].origin);
            return GL_EINVAL;
        }
    return 0;
}

static int wants_feeder(const struct reload *r)
{
    for (size_t i = 0; i < r->logs->n; i++)
        if (r->logs->v[i].url[0] != 0)
            return 1;
    return r->peers->n > 0;
}

/* The check of reload_request again, once nothing can change the records
 * (no add outstanding, the feeder joined, the engine idle: every
 * submitter waits for its answer): an add or a pull that was running when
 * the reload was asked may have stored a checkpoint signed only by a key
 * the new list drops, and the new engine would refuse to load it. 0, or
 * an error with the lists in use kept (the next lists released). */
static int recheck_records(struct reload *r)
{
    int rc = engine_check_records(r->ec->store, &r->next_logs);

    if (rc != 0) {
        gl_log(GL_LOG_ERROR,
               "reload: refused: a checkpoint stored while the reload waited is signed "
               "by none of its log's keys in the new list; the lists in use stay");
        logs_release(&r->next_logs);
        peers_release(&r->next_peers);
    }
    return rc;
}

/* Steps 2-4, with nothing outstanding. 0 once the lists are switched,
 * or once the new engine did not start (then r->fatal,
 * everything as it was but the engine stopped and the API paused), else
 * an error with everything as it was (the next lists released). */
static int do_switch(struct reload *r)
{
    struct logs_list old_logs;
    struct peers_list old_peers;
    struct engine *old_engine = *r->engine, *next_engine = NULL;
    int rc;

    feeder_stop(*r->feeder); /* it was asked to stop: it has, or soon does */
    if ((rc = recheck_records(r)) != 0)
        return rc;
    if (r->mirror != NULL && (rc = mirror_prepare(r->mirror, &r->next_logs)) != 0) {
        gl_log(GL_LOG_ERROR,
               "reload: cannot open the mirror's copies for the new list (%s); the lists "
               "in use stay",
               gl_strerror(rc));
        logs_release(&r->next_logs);
        peers_release(&r->next_peers);
        return rc;
    }
    if ((rc = api_remap(r->api, r->logs, &r->next_logs)) != 0) {
        gl_log(GL_LOG_ERROR, "reload: out of memory; the lists in use stay");
        if (r->mirror != NULL)
            mirror_unstage(r->mirror);
        logs_release(&r->next_logs);
        peers_release(&r->next_peers);
        return rc;
    }
    if (*r->feeder != NULL) /* its counters go on in the next feeder */
        feeder_stats(*r->feeder, &r->fc->start);
    feeder_free(*r->feeder);
    *r->feeder = NULL;
    r->api->feeder = NULL;
    engine_stop(old_engine);    /* drained; its reads stay valid until freed */
    mirrorpull_free(*r->mpull); /* it was asked to stop: it has, or soon does */
    *r->mpull = NULL;
    old_logs = *r->logs;
    old_peers = *r->peers;
    *r->logs = r->next_logs;
    *r->peers = r->next_peers;
    if ((rc = engine_new(r->ec, &next_engine)) != 0) {
        /* Back to the old lists, which the old engine, still every
         * component's, was made for: its reads stay right. */
        *r->logs = old_logs;
        *r->peers = old_peers;
        (void)api_remap(r->api, &r->next_logs, r->logs); /* unused: paused */
        logs_release(&r->next_logs);
        peers_release(&r->next_peers);
        if (r->mirror != NULL)
            mirror_unstage(r->mirror);
        gl_log(GL_LOG_ERROR,
               "reload: cannot load the witness state for the new list (%s): "
               "stopping",
               gl_strerror(rc));
        r->fatal = 1;
        r->api->down = "the witness is stopping: a reload could not load its state";
        return 0; /* on_timer stops it after RELOAD_FATAL_GRACE_MS */
    }
    memset(&r->next_logs, 0, sizeof(r->next_logs)); /* now *r->logs */
    memset(&r->next_peers, 0, sizeof(r->next_peers));
    logs_release(&old_logs);
    peers_release(&old_peers);
    *r->engine = next_engine;
    r->api->engine = next_engine;
    r->fc->engine = next_engine;
    if (r->mirror != NULL) {
        mirror_switch(r->mirror, next_engine);
        if ((rc = mirrorpull_start(r->pc, r->mpull)) != 0)
            gl_log(GL_LOG_ERROR, "reload: the mirror's pull did not start (%s)",
                   gl_strerror(rc));
    }
    engine_free(old_engine); /* no component points at it any more */
    if (wants_feeder(r) && (rc = feeder_start(r->fc, r->feeder)) != 0)
        gl_log(GL_LOG_ERROR, "reload: the feeder did not start (%s): no pulls or gossip",
               gl_strerror(rc));
    r->api->feeder = *r->feeder;
    gl_log(GL_LOG_INFO,
           "reload: witnessing %zu logs, gossiping with %zu peers, mirroring %zu logs",
           r->logs->n, r->peers->n, mirror_count(r->mirror));
    if (r->switched != NULL)
        r->switched(r->arg);
    return 0;
}

/* Adds or uploads still inside. */
static int busy(const struct reload *r)
{
    return r->api->outstanding > 0 || (r->mirror != NULL && mirror_busy(r->mirror) > 0);
}

static void on_fatal_grace(uv_timer_t *t)
{
    (void)t;
    kill(getpid(), SIGTERM);
}

static void on_timer(uv_timer_t *t)
{
    struct reload *r = t->data;
    int rc = GL_ESTATE;

    if ((busy(r) || !mirrorpull_stopped(*r->mpull) || !feeder_stopped(*r->feeder)) &&
        uv_now(r->loop) - r->started_ms < RELOAD_WAIT_MS)
        return;
    uv_timer_stop(&r->timer);
    r->pending = 0;
    if (busy(r)) {
        gl_log(GL_LOG_ERROR,
               "reload: %zu add-checkpoints and %zu add-entries still outstanding after "
               "%d ms; the lists in use stay",
               r->api->outstanding, r->mirror ? mirror_busy(r->mirror) : 0,
               RELOAD_WAIT_MS);
        logs_release(&r->next_logs);
        peers_release(&r->next_peers);
    } else {
        rc = do_switch(r);
    }
    if (rc != 0 && mirrorpull_resume(*r->mpull) != 0)
        gl_log(GL_LOG_ERROR, "reload: the mirror's pull did not start again");
    if (rc != 0 && feeder_resume(*r->feeder) != 0)
        gl_log(GL_LOG_ERROR,
               "reload: the feeder did not start again: no pulls or gossip");
    if (r->fatal) { /* stopping: nothing more is taken */
        uv_timer_start(&r->timer, on_fatal_grace, RELOAD_FATAL_GRACE_MS, 0);
        return;
    }
    if (r->mirror != NULL)
        mirror_resume(r->mirror);
    r->api->paused = 0;
}

void reload_init(struct reload *r)
{
    uv_timer_init(r->loop, &r->timer);
    r->timer.data = r;
    r->timer_ready = 1;
}

void reload_request(struct reload *r)
{
    struct engine_stats st;

    if (r->fatal)
        return; /* stopping */
    if (r->pending || !r->timer_ready) {
        gl_log(GL_LOG_WARN, "reload: one is running; SIGHUP ignored");
        return;
    }
    engine_stats(*r->engine, &st);
    if (st.storage_failed) {
        /* Only a restart reopens the store and reads what reached the disk;
         * a new engine on this handle could trust a write that failed. */
        gl_log(GL_LOG_ERROR,
               "reload: refused: a storage write failed; restart the witness");
        return;
    }
    if (parse_files(r) != 0 || check_mirror(r) != 0 ||
        engine_check_records(r->ec->store, &r->next_logs) != 0) {
        logs_release(&r->next_logs); /* parse_files released them on failure */
        peers_release(&r->next_peers);
        gl_log(GL_LOG_ERROR, "reload: refused; the lists in use stay");
        return;
    }
    gl_log(GL_LOG_INFO, "reload: %s parsed (%zu logs); switching", r->logs_path,
           r->next_logs.n);
    r->pending = 1;
    r->started_ms = uv_now(r->loop);
    r->api->paused = 1;
    mirrorpull_ask_stop(*r->mpull); /* first: it stops rather than get 503s */
    feeder_ask_stop(*r->feeder);    /* do_switch then joins it at once */
    if (r->mirror != NULL)
        mirror_pause(r->mirror);
    uv_timer_start(&r->timer, on_timer, 0, RELOAD_POLL_MS);
}

void reload_close(struct reload *r)
{
    if (!r->timer_ready)
        return;
    r->timer_ready = 0;
    uv_timer_stop(&r->timer);
    uv_close((uv_handle_t *)&r->timer, NULL);
    if (r->pending) {
        r->pending = 0;
        r->api->paused = 0;
        if (r->mirror != NULL)
            mirror_resume(r->mirror);
        logs_release(&r->next_logs);
        peers_release(&r->next_peers);
    }
}

/*
 * glasslog-witness: a C2SP tlog-witness that also pulls from logs, gossips
 * with peer witnesses and keeps split-view evidence (specs/witness.md).
 *
 * Start-up is where the safety rules live:
 *  - the key must be a cosigning key (type 0x04): a witness must never
 *    hold a key that also signs notes (key.h explains why);
 *  - new state is made only with --create, in a missing or empty data
 *    directory (a lost disk must never silently restart a witness with no
 *    memory of what it cosigned: it could then cosign a fork of it);
 *  - the data directory is bound to that key on first use and refused
 *    with any other key afterwards (state cosigned under one key says
 *    nothing about another);
 *  - every stored record is re-checked against its note before serving.
 *  - the descriptors it will hold (its state, the mirror's copies, 64
 *    connections at least) must fit the open-file limit before anything
 *    opens (fd_check; --check-config runs the same check), so a limit too
 *    low is refused with its reason rather than found later by EMFILE.
 * Then the engine (committer thread), the feeder thread and the HTTP
 * server on one libuv loop run until SIGINT/SIGTERM (SIGHUP and SIGUSR1
 * are held from the start of main until the loop handles them, and
 * ignored from the shutdown on: opsignal.h): stop accepting,
 * answer the requests in flight, stop the feeder, drain the engine, exit 0
 * (1 when a reload could not load the state: reload.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "alarm.h"
#include "api.h"
#include "engine.h"
#include "feeder.h"
#include "file.h"
#include "glasslog/error.h"
#include "glasslog/log.h"
#include "http_server.h"
#include "kv.h"
#include "logs.h"
#include "opsignal.h"
#include "options.h"
#include "mirror.h"
#include "mirrorapi.h"
#include "mirrorpull.h"
#include "peers.h"
#include "reload.h"
#include "sdnotify.h"
#include "wstore.h"

#define PATH_MAX_LEN 4096
/* Descriptors kept from HTTP connections: the witness state's RocksDB,
 * and 128 for the feeder's connections, evidence files, alarm commands,
 * libuv and stdio; the mirror's copies come on top (fd_reserve). */
#define FD_OTHER 128u
#define FD_RESERVE (KV_FD_RESERVE + FD_OTHER)
_Static_assert(FD_RESERVE + (size_t)LOGS_MAX * MIRROR_COPY_FDS <= GL_HTTP_MAX_FD_RESERVE,
               "the mirror's copies' reserve fits gl_http_fd_budget's");
_Static_assert(MIRROR_COPY_FDS == 128 && MIRROR_LOGS_SPARE == 4,
               "the --mirror-max-logs help says 128 and 4");

#define OPT_PATH_MAX 1024

_Static_assert(ALARM_MAX_RUNNING == 4, "the --on-evidence-timeout help says 4");

struct options {
    char listen[128], data[OPT_PATH_MAX], key[OPT_PATH_MAX], logs[OPT_PATH_MAX];
    char peers[OPT_PATH_MAX], on_evidence[4096], log_level[16];
    char mirror_key[OPT_PATH_MAX], mirror_listen[128];
    unsigned poll_interval, pull_timeout_ms, mirror_pull_timeout_ms, on_evidence_timeout;
    unsigned cache_mb, mirror_inflight_mb;
    int create, check_config;
    unsigned conns_per_client, request_timeout_ms;
    unsigned mirror_conns, mirror_conns_per_client, mirror_max_logs;
};

struct witness {
    struct options o;
    struct options next; /* a reload's settings, until its lists are switched */
    int argc;            /* the command line, read again by a reload */
    char **argv;
    uv_loop_t loop;
    struct gl_signer key;
    struct gl_verifier vkey;
    struct logs_list logs;
    struct peers_list peers;
    struct wstore *store;
    struct engine *engine;
    struct feeder *feeder;
    struct gl_http_server *http;
    struct gl_signer mkey;           /* the mirror's cosigning key */
    struct mirror *mirror;           /* NULL unless --mirror-key */
    struct mirrorpull *mpull;        /* NULL unless a mirrored log has a url */
    struct gl_http_server *mhttp;    /* --mirror-listen, or NULL */
    struct mirrorapi_budget *budget; /* add-entries in flight; with the mirror */
    int servers_closed;
    struct api api;
    int api_ready;
    uv_signal_t sigint, sigterm, sighup;
    int stopping, signals_ready;
    struct engine_config ec; /* kept for a reload (reload.h) */
    struct feeder_config fc;
    struct mirrorpull_config pc;
    struct reload reload;
    char evdir[PATH_MAX_LEN];
    int mirrors;         /* load_mirror_key's *on: --mirror-key, mirror lines */
    unsigned fd_reserve; /* fd_check's: kept from connections */
};

/* --- options ---------------------------------------------------------------------- */

#define S(n, f, def, arg, h) GL_OPT_STR(n, struct options, f, def, arg, h)
#define U(n, f, lo, hi, def, arg, h)                                                     \
    GL_OPT_UINT(n, struct options, f, lo, hi, def, arg, h)

static const struct gl_opt settings[] = {
    S("listen", listen, "127.0.0.1:7380", "ADDR:PORT", "serve HTTP here (port 0: any)"),
    S("data", data, NULL, "DIR", "state (RocksDB); must exist unless --create"),
    GL_OPT_FLAG("create", struct options, create,
                "make a new witness state (DIR missing or empty)"),
    S("key", key, NULL, "FILE", "cosigning key (glasslog keygen --cosigner)"),
    S("logs", logs, NULL, "FILE", "log list: logs/v0, then vkey/origin/qpd/url lines"),
    S("peers", peers, NULL, "FILE", "peer witnesses: witness <name> <vkey> <url> lines"),
    U("poll-interval", poll_interval, 1, 86400, 10, "SECONDS", "pull and gossip period"),
    U("pull-timeout-ms", pull_timeout_ms, 100, 600000, 5000, "MS",
      "time limit of each pull, gossip or evidence request; and each log's pull and "
      "each peer's share of a round, in which it may start requests"),
    U("mirror-pull-timeout-ms", mirror_pull_timeout_ms, 100, 600000, 30000, "MS",
      "time limit of each request of the mirror's pull; and each log's share of its "
      "round, in which it may start requests"),
    S("on-evidence", on_evidence, NULL, "CMD",
      "run `sh -c CMD _ FILE` for each new evidence file"),
    U("on-evidence-timeout", on_evidence_timeout, 0, 86400, 60, "SECONDS",
      "stop an --on-evidence command (its process group) after this long (0: never); "
      "at most 4 run at once"),
    U("cache-mb", cache_mb, 1, 65536, 16, "MIB",
      "RocksDB block cache in MiB of the witness state; the mirror's copies share one "
      "block cache of as much again"),
    U("conns-per-client", conns_per_client, 1, GL_HTTP_MAX_CONNECTIONS_LIMIT,
      GL_HTTP_DEFAULT_CONNS_PER_ADDR, "N",
      "connections at once from one IPv4 address or IPv6 /64; also its share of the "
      "add-checkpoints in flight once half of the 256 places are taken"),
    U("request-timeout-ms", request_timeout_ms, 100, 600000, 10000, "MS",
      "a request must arrive in full, and an answer be read, within this"),
    S("log-level", log_level, "info", "LEVEL", "debug, info, warn or error"),
    S("mirror-key", mirror_key, NULL, "FILE",
      "mirror the logs with a \"mirror\" line (C2SP tlog-mirror) with this cosigning key "
      "(not the witness key)"),
    S("mirror-listen", mirror_listen, NULL, "ADDR:PORT",
      "also serve here, with add-entries bodies up to 34 MiB"),
    U("mirror-inflight-mb", mirror_inflight_mb, 1, 65536, MIRRORAPI_INFLIGHT_MB, "MIB",
      "add-entries bytes in memory at once (bodies, copies, decoded bodies); past it, "
      "503"),
    U("mirror-conns", mirror_conns, 0, GL_HTTP_MAX_CONNECTIONS_LIMIT, 0, "N",
      "connections at once on --mirror-listen, each of which may hold a 34 MiB body "
      "(0: --mirror-inflight-mb / 34 MiB, at least 8)"),
    U("mirror-conns-per-client", mirror_conns_per_client, 1,
      GL_HTTP_MAX_CONNECTIONS_LIMIT, MIRRORAPI_CONNS_PER_CLIENT, "N",
      "connections at once on --mirror-listen from one IPv4 address or IPv6 /64"),
    U("mirror-max-logs", mirror_max_logs, 0, LOGS_MAX, 0, "N",
      "logs mirrored at most: descriptors (128 a copy) and block cache are set aside "
      "for N copies at start, and a logs list (or a reload's switch) needing more "
      "copies open is refused (0: the logs mirrored at start plus 4)"),
    GL_OPT_FLAG("check-config", struct options, check_config,
                "read the keys and the logs and peers files and check the descriptors "
                "they need against the hard open-file limit (without --mirror-max-logs: "
                "the copies the file mirrors, not a start's spare 4), then exit: 0 if "
                "all are usable (no state opened, no port bound)"),
};

static const struct gl_opts table = {
    "glasslog-witness", GL_VERSION,
    "usage: glasslog-witness --data DIR --key FILE --logs FILE [options]\n"
    "\n"
    "A C2SP tlog-witness: cosigns checkpoints consistent with what it cosigned\n"
    "before, pulls from logs, gossips with peers and keeps split-view evidence.\n"
    "Options (also as \"key value\" lines in --config FILE; flags win):\n",
    settings, sizeof(settings) / sizeof(settings[0])};

/* 0 to run, 1 after --help/--version, -1 on a usage error. */
static int parse_options(int argc, char **argv, struct options *o)
{
    int rc;

    memset(o, 0, sizeof(*o));
    if ((rc = gl_opts_parse(&table, argc, argv, o)) != 0)
        return rc;
    if (o->data[0] == 0 || o->key[0] == 0 || o->logs[0] == 0) {
        fputs("glasslog-witness: --data, --key and --logs are required (see --help)\n",
              stderr);
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        const char *a = i == 0 ? o->listen : o->mirror_listen;
        if ((i == 0 || a[0] != 0) && !gl_http_listen_valid(a)) {
            fprintf(stderr,
                    "glasslog-witness: %s takes ADDR:PORT or [ADDR]:PORT, not \"%s\"\n",
                    i == 0 ? "listen" : "mirror-listen", a);
            return -1;
        }
    }
    return 0;
}

/* --- configuration files -------------------------------------------------------------
 */

static int load_key(struct witness *w)
{
    struct gl_buf vk;
    struct gl_err why;
    int rc = gl_file_load_signer(w->o.key, &w->key, &why);

    if (rc != 0) {
        gl_log_err(GL_LOG_ERROR, w->o.key, &why);
        return rc;
    }
    if (w->key.type != GL_KEY_COSIG) {
        gl_log(GL_LOG_ERROR,
               "%s is a note-signing key; a witness needs a cosigning key "
               "(glasslog keygen --cosigner)",
               w->o.key);
        return GL_EKEYTYPE;
    }
    gl_signer_verifier(&w->key, &w->vkey);
    gl_buf_init(&vk, GL_KEY_TEXT_MAX);
    if ((rc = gl_verifier_format(&w->vkey, &vk)) == 0) {
        printf("%s\n", (char *)vk.data);
        fflush(stdout);
        gl_log(GL_LOG_INFO, "witness key (cosignature/v1, 0x04): %s", (char *)vk.data);
    }
    gl_buf_release(&vk);
    return rc;
}

static int load_logs(struct witness *w)
{
    size_t urls = 0;
    int rc = reload_read_logs(w->o.logs, "", &w->logs);

    if (rc != 0)
        return rc;
    for (size_t i = 0; i < w->logs.n; i++)
        urls += w->logs.v[i].url[0] != 0;
    gl_log(GL_LOG_INFO, "witnessing %zu logs (%zu pulled)", w->logs.n, urls);
    return 0;
}

static int load_peers(struct witness *w)
{
    int rc;

    if (w->o.peers[0] == 0)
        return 0;
    if ((rc = reload_read_peers(w->o.peers, "", &w->peers)) == 0)
        gl_log(GL_LOG_INFO, "gossiping with %zu peers", w->peers.n);
    return rc;
}

/* --- state
 * ------------------------------------------------------------------------------ */

static int on_evidence(void *arg, const char *id, const char *origin, const char *path)
{
    const struct witness *w = arg;

    return alarm_raise(w->o.on_evidence[0] ? w->o.on_evidence : NULL,
                       w->o.on_evidence_timeout, id, origin, path);
}

static int open_state(struct witness *w)
{
    struct engine_config *ec = &w->ec;
    struct gl_buf vk, stored;
    const char *why = "";
    int created = 0, rc;

    if ((rc = wstore_open(w->o.data, w->o.cache_mb, w->o.create, &w->store, &why)) != 0) {
        gl_log(GL_LOG_ERROR, "%s: %s", w->o.data, why);
        return rc;
    }
    gl_buf_init(&vk, GL_KEY_TEXT_MAX);
    gl_buf_init(&stored, GL_KEY_TEXT_MAX);
    if ((rc = gl_verifier_format(&w->vkey, &vk)) == 0 &&
        (rc = wstore_bind_key(w->store, (const char *)vk.data, &created, &stored)) != 0)
        gl_log(GL_LOG_ERROR,
               "the state in %s belongs to witness key %s, not %s: refusing "
               "to start",
               w->o.data, stored.len ? (char *)stored.data : "?", (char *)vk.data);
    if (rc == 0 && created)
        gl_log(w->o.create ? GL_LOG_INFO : GL_LOG_WARN,
               "new witness state in %s (nothing cosigned before)", w->o.data);
    gl_buf_release(&vk);
    gl_buf_release(&stored);
    snprintf(w->evdir, sizeof(w->evdir), "%s/evidence", w->o.data);
    if (rc == 0 && mkdir(w->evdir, 0755) != 0 && errno != EEXIST) {
        gl_log(GL_LOG_ERROR, "cannot create %s", w->evdir);
        rc = GL_EIO;
    }
    if (rc != 0)
        return rc;
    memset(ec, 0, sizeof(*ec));
    ec->store = w->store;
    ec->logs = &w->logs;
    ec->key = &w->key;
    ec->evidence_dir = w->evdir;
    ec->on_evidence = on_evidence;
    ec->arg = w;
    if ((rc = engine_new(ec, &w->engine)) != 0)
        gl_log(GL_LOG_ERROR, "cannot load the witness state: %s", gl_strerror(rc));
    return rc;
}

/* Loads --mirror-key when the logs or --mirror-listen need one, and
 * refuses one nothing needs. *on: 1 if this witness mirrors. */
static int load_mirror_key(struct witness *w, int *on)
{
    struct gl_err why;
    size_t mirrored = logs_mirrored(&w->logs);
    int rc;

    *on = 0;
    if (w->o.mirror_key[0] == 0) {
        int need = mirrored > 0 || w->o.mirror_listen[0] != 0 || w->o.mirror_max_logs > 0;
        if (need)
            gl_log(GL_LOG_ERROR,
                   "logs with a mirror line, --mirror-listen and --mirror-max-logs need "
                   "--mirror-key (%s without it)",
                   mirrored                     ? "a mirror line"
                   : w->o.mirror_listen[0] != 0 ? "--mirror-listen"
                                                : "--mirror-max-logs");
        return need ? GL_EINVAL : 0;
    }
    if ((rc = gl_file_load_signer(w->o.mirror_key, &w->mkey, &why)) != 0) {
        gl_log_err(GL_LOG_ERROR, w->o.mirror_key, &why);
        return rc;
    }
    if (w->mkey.type != GL_KEY_COSIG || strcmp(w->mkey.name, w->key.name) == 0) {
        gl_log(GL_LOG_ERROR,
               "%s: the mirror key must be a cosigning key with a name of its "
               "own (not the witness key's)",
               w->o.mirror_key);
        return GL_EKEYTYPE;
    }
    if (w->o.mirror_max_logs > 0 && mirrored > w->o.mirror_max_logs) {
        gl_log(GL_LOG_ERROR,
               "%s: %zu logs have a mirror line, more than --mirror-max-logs %u",
               w->o.logs, mirrored, w->o.mirror_max_logs);
        return GL_ERANGE;
    }
    if (mirrored == 0) {
        gl_log(GL_LOG_ERROR, "--mirror-key: no log of %s has a mirror line", w->o.logs);
        return GL_EINVAL;
    }
    *on = 1;
    return 0;
}

/* The mirror role's stores (its own cosigning key, distinct from the
 * witness's, C2SP tlog-mirror: distinct cosigner identities, loaded by
 * load_config) when this witness mirrors. */
static int load_mirror(struct witness *w)
{
    struct mirror_config mc = {.data = w->o.data,
                               .logs = &w->logs,
                               .engine = w->engine,
                               .key = &w->mkey,
                               .witness_name = w->key.name,
                               .cache_mb = w->o.cache_mb,
                               .max_logs = w->o.mirror_max_logs};
    int rc;

    if (!w->mirrors)
        return 0;
    if ((rc = mirror_open(&mc, &w->mirror)) != 0)
        gl_log(GL_LOG_ERROR, "cannot open the mirror state: %s", gl_strerror(rc));
    return rc;
}

/* Descriptors kept from HTTP connections (gl_http_fd_budget's reserve):
 * FD_RESERVE, and MIRROR_COPY_FDS for each of the `copies` the mirror may
 * hold open (its bound, mirror_bound: fixed at start, mirror.h, Bounds),
 * logged. 0 and *reserve when the open-file limit as gl_http_fd_raise
 * left it (the hard one, unless the raise was refused) holds them and
 * connections beside (gl_http_fd_fits); else GL_ERANGE, logged in one
 * line naming the count, the hard limit and what to raise, or lower when
 * a --mirror-max-logs below the bound would hold (copies above the
 * `mirrored` logs the file mirrors, which no bound is below, and the
 * limit holding those). The one computation of the budget:
 * --check-config and a start (before any store opens, so a start too low
 * never gets as far as EMFILE) call it, and the start sizes its
 * connections with *reserve. */
static int fd_check(size_t copies, size_t mirrored, unsigned *reserve)
{
    struct gl_http_fd_limits lim;
    char hard[32], soft[48] = "", mirror[96] = "";
    int rc;
    unsigned cfds = (unsigned)copies * MIRROR_COPY_FDS; /* <= LOGS_MAX: asserted above */
    unsigned r = FD_RESERVE + cfds, need = r + GL_HTTP_MIN_CONNECTIONS;
    /* mirrored <= copies (mirror_bound): no overflow either */
    unsigned least =
        FD_RESERVE + (unsigned)mirrored * MIRROR_COPY_FDS + GL_HTTP_MIN_CONNECTIONS;

    if (copies > 0) {
        gl_log(GL_LOG_INFO,
               "descriptors kept from connections: %u (the witness state %u, the "
               "mirror's copies %u: %zu logs at most, %u each; other %u)",
               r, KV_FD_RESERVE, cfds, copies, MIRROR_COPY_FDS, FD_OTHER);
        snprintf(mirror, sizeof mirror, ", %u for %zu mirror copies at most", cfds,
                 copies);
    }
    if ((rc = gl_http_fd_fits(r, &lim)) == GL_EINVAL) {
        gl_log(GL_LOG_ERROR, "cannot read the open-file limit: %s", strerror(errno));
        return rc;
    }
    if (rc == 0) {
        *reserve = r;
        return 0;
    }
    if (lim.hard == UINT64_MAX)
        snprintf(hard, sizeof hard, "unlimited");
    else
        snprintf(hard, sizeof hard, "%llu", (unsigned long long)lim.hard);
    if (lim.soft < lim.hard) /* gl_http_fd_raise was refused */
        snprintf(soft, sizeof soft, ", soft %llu not raised",
                 (unsigned long long)lim.soft);
    gl_log(GL_LOG_ERROR,
           "the open-file limit (hard %s%s) cannot hold the %u descriptors the witness "
           "needs (%u for its state and the rest%s, %u connections at least): raise the "
           "hard limit (ulimit -Hn, LimitNOFILE=) to %u%s",
           hard, soft, need, FD_RESERVE, mirror, GL_HTTP_MIN_CONNECTIONS, need,
           copies > mirrored && lim.soft >= least ? " or lower --mirror-max-logs" : "");
    return GL_ERANGE;
}

/* What a start does before it opens anything: the open-file limit
 * raised (before the stores open: a mirror's copies are many databases),
 * the keys, the logs and peers files read, and the descriptor budget they
 * need checked against the limit (fd_check, with the mirror's bound when
 * the witness mirrors). 0, or an error logged. */
static int load_config(struct witness *w)
{
    size_t copies, mirrored;
    int rc;

    if ((rc = gl_http_fd_raise()) != 0) {
        gl_log(GL_LOG_ERROR, "cannot read the open-file limit");
        return rc;
    }
    if ((rc = load_key(w)) != 0 || (rc = load_logs(w)) != 0 ||
        (rc = load_peers(w)) != 0 || (rc = load_mirror_key(w, &w->mirrors)) != 0)
        return rc;
    mirrored = w->mirrors ? logs_mirrored(&w->logs) : 0;
    if (!w->mirrors || (w->o.check_config && w->o.mirror_max_logs == 0))
        copies = mirrored; /* see check_config: no lower bound holds */
    else
        copies = mirror_bound(&w->logs, w->o.mirror_max_logs);
    return fd_check(copies, mirrored, &w->fd_reserve);
}

/* --check-config: what a start does before it opens anything
 * (load_config: the keys and the logs and peers files read and parsed as
 * a start reads them, and a reload the two files; the descriptors needed
 * against the open-file limit, raised as a start raises its own); the
 * state is not opened and no port bound. 0 if all are usable; otherwise
 * the log says why. A reload runs it first (the unit's ExecReload), and
 * the running witness's bound on mirror copies was fixed at its start,
 * which this process cannot know: with the bound automatic (no
 * --mirror-max-logs) it checks the copies the logs file mirrors, which no
 * bound a reload takes is below, not the spare a start adds (a start
 * short of those says so itself). */
static int check_config(struct witness *w)
{
    return load_config(w) != 0 ? 1 : 0;
}

/* --- running
 * ------------------------------------------------------------------------------ */

static void on_http_closed(void *arg)
{
    struct witness *w = arg;

    if (++w->servers_closed < 1 + (w->mhttp != NULL))
        return;
    api_close(&w->api);
    if (w->signals_ready) {
        uv_close((uv_handle_t *)&w->sigint, NULL);
        uv_close((uv_handle_t *)&w->sigterm, NULL);
        uv_close((uv_handle_t *)&w->sighup, NULL);
        gl_opsignal_ignore(); /* while the state closes (opsignal.h) */
        reload_close(&w->reload);
        w->signals_ready = 0;
    }
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct witness *w = h->data;

    if (w->stopping)
        return;
    w->stopping = 1;
    gl_log(GL_LOG_INFO, "signal %d: answering the requests in flight, then stopping",
           signum);
    (void)gl_sdnotify("STOPPING=1");
    gl_http_server_close(w->http, on_http_closed, w);
    if (w->mhttp != NULL)
        gl_http_server_close(w->mhttp, on_http_closed, w);
}

/* What a reload applies (logs, peers, log-level) or ignores (the start-up
 * actions); any other setting changed needs a restart. */
static const char *const reloadable[] = {"logs",   "peers",        "log-level",
                                         "create", "check-config", NULL};

/* The settings a reload reads into w->next: the command line with its
 * config file as they are now, parsed as at start. 0, or an error logged
 * in one "reload: refused" line naming the setting. */
static int reload_settings(struct witness *w)
{
    enum gl_log_level lvl;
    char why[512];
    int rc = 0;

    if (parse_options(w->argc, w->argv, &w->next) != 0) {
        snprintf(why, sizeof(why), "the settings do not parse (the line above says why)");
        rc = GL_EPARSE;
    } else if (gl_log_parse_level(w->next.log_level, &lvl) != 0) {
        snprintf(why, sizeof(why), "log-level: unknown level \"%s\"", w->next.log_level);
        rc = GL_EPARSE;
    } else {
        rc = gl_opts_reload_check(&table, &w->o, &w->next, reloadable, why, sizeof(why));
    }
    if (rc != 0)
        gl_log(GL_LOG_ERROR, "reload: refused: %s; the lists in use stay", why);
    return rc;
}

/* The reload switched to the lists of w->next's files: its settings are
 * now in use. */
static void on_switched(void *arg)
{
    struct witness *w = arg;
    enum gl_log_level lvl;

    memcpy(w->o.logs, w->next.logs, sizeof(w->o.logs));
    memcpy(w->o.peers, w->next.peers, sizeof(w->o.peers));
    memcpy(w->o.log_level, w->next.log_level, sizeof(w->o.log_level));
    if (gl_log_parse_level(w->o.log_level, &lvl) == 0) /* checked by reload_settings */
        gl_log_set_level(lvl);
}

/* SIGHUP: read the settings again (reload_settings), then switch to the
 * logs and peers files they name as the files are now (reload.h). While
 * a reload runs, w->next is its own: reload_request refuses another. */
static void on_hup(uv_signal_t *h, int signum)
{
    struct witness *w = h->data;
    struct reload *r = &w->reload;

    (void)signum;
    if (w->stopping)
        return;
    if (!r->pending && !r->fatal) {
        if (reload_settings(w) != 0)
            return;
        r->logs_path = w->next.logs;
        r->peers_path = w->next.peers[0] ? w->next.peers : NULL;
    }
    reload_request(r);
}

/* The mirror listener's connections: --mirror-conns, or the in-flight
 * budget's worth of largest bodies (at least MIRRORAPI_CONNS_MIN); never
 * more than fd_conns, its share of the descriptors. */
static unsigned mirror_conns(const struct options *o, unsigned fd_conns)
{
    size_t n = o->mirror_conns;

    if (n == 0) {
        n = ((size_t)o->mirror_inflight_mb << 20) / MIRRORAPI_BODY_MAX;
        n = n < MIRRORAPI_CONNS_MIN ? MIRRORAPI_CONNS_MIN : n;
    }
    return n < fd_conns ? (unsigned)n : fd_conns;
}

static int start(struct witness *w)
{
    struct gl_http_server_config hc;
    struct feeder_config *fc = &w->fc;
    size_t urls = 0;
    unsigned max_conns, mshare = 0;
    int rc;

    if ((rc = api_init(&w->api, &w->loop, w->engine, &w->logs, w->store)) != 0)
        return rc;
    w->api_ready = 1;
    _Static_assert(API_ADD_INFLIGHT_MAX == 256, "--conns-per-client's help names 256");
    if ((rc = api_limit(&w->api, API_ADD_INFLIGHT_MAX, w->o.conns_per_client)) != 0)
        return rc;
    /* fd_check's reserve, which the open-file limit holds (unless it was
     * lowered since: gl_http_fd_budget checks again) */
    if ((rc = gl_http_fd_budget(w->fd_reserve, &max_conns)) != 0)
        return rc;
    /* The two listeners share the descriptors left for connections: the
     * mirror's (at most half) first, the rest for the witness API. */
    if (w->mirror != NULL && w->o.mirror_listen[0] != 0)
        mshare = mirror_conns(&w->o, max_conns / 2);
    memset(&hc, 0, sizeof(hc));
    hc.listen = w->o.listen;
    hc.max_body = ADDCK_BODY_MAX; /* POST /add-checkpoint */
    hc.max_connections = max_conns - mshare;
    hc.max_conns_per_addr = w->o.conns_per_client;
    hc.idle_timeout_ms = w->o.request_timeout_ms;
    if ((rc = gl_http_server_new(&w->loop, &hc, api_handle, &w->api, &w->http)) != 0)
        return rc;
    w->api.http = w->http;
    w->api.mirror = w->mirror;
    if (w->mirror != NULL &&
        (rc = mirrorapi_budget_new((size_t)w->o.mirror_inflight_mb << 20, &w->budget)) !=
            0)
        return rc;
    w->api.budget = w->budget;
    if (w->mirror != NULL && w->o.mirror_listen[0] != 0) {
        /* h2o reads a whole body before the handler (and the budget) sees
         * it: the bodies held at once are bounded by these connections */
        hc.listen = w->o.mirror_listen;
        hc.max_body = MIRRORAPI_BODY_MAX; /* POST /add-entries */
        hc.max_connections = mshare;
        hc.max_conns_per_addr = w->o.mirror_conns_per_client;
        if ((rc = gl_http_server_new(&w->loop, &hc, api_handle, &w->api, &w->mhttp)) != 0)
            return rc;
        gl_log(GL_LOG_INFO,
               "mirror %s of %zu logs on %s (port %u): %u connections, the witness "
               "API %u",
               w->mkey.name, mirror_count(w->mirror), w->o.mirror_listen,
               (unsigned)gl_http_server_port(w->mhttp), mshare, max_conns - mshare);
    }
    for (size_t i = 0; i < w->logs.n; i++)
        urls += w->logs.v[i].url[0] != 0;
    *fc = (struct feeder_config){
        w->engine, &w->logs, &w->peers, w->o.poll_interval, w->o.pull_timeout_ms, {0}};
    if ((urls > 0 || w->peers.n > 0) && (rc = feeder_start(fc, &w->feeder)) != 0)
        return rc;
    w->api.feeder = w->feeder;
    w->api.mpull = &w->mpull;
    w->pc = (struct mirrorpull_config){w->mirror, &w->logs, w->o.poll_interval,
                                       w->o.mirror_pull_timeout_ms};
    if (w->mirror != NULL && (rc = mirrorpull_start(&w->pc, &w->mpull)) != 0)
        return rc;
    uv_signal_init(&w->loop, &w->sigint);
    uv_signal_init(&w->loop, &w->sigterm);
    w->sigint.data = w->sigterm.data = w;
    uv_signal_start(&w->sigint, on_signal, SIGINT);
    uv_signal_start(&w->sigterm, on_signal, SIGTERM);
    w->reload = (struct reload){.loop = &w->loop,
                                .logs_path = w->o.logs,
                                .peers_path = w->o.peers[0] ? w->o.peers : NULL,
                                .logs = &w->logs,
                                .peers = &w->peers,
                                .api = &w->api,
                                .engine = &w->engine,
                                .feeder = &w->feeder,
                                .ec = &w->ec,
                                .fc = &w->fc,
                                .mirror = w->mirror,
                                .mpull = &w->mpull,
                                .pc = &w->pc,
                                .switched = on_switched,
                                .arg = w};
    reload_init(&w->reload);
    uv_signal_init(&w->loop, &w->sighup);
    w->sighup.data = w;
    uv_signal_start(&w->sighup, on_hup, SIGHUP);
    w->signals_ready = 1;
    /* the handler is in place: a SIGHUP held since main is delivered now */
    gl_opsignal_release();
    gl_log(GL_LOG_INFO, "witness %s serving %zu logs on %s (port %u)", w->key.name,
           w->logs.n, w->o.listen, (unsigned)gl_http_server_port(w->http));
    if (gl_sdnotify("READY=1\nSTATUS=serving") != 0) /* Type=notify */
        gl_log(GL_LOG_WARN, "cannot notify the service manager at $NOTIFY_SOCKET");
    return 0;
}

static void shutdown_all(struct witness *w)
{
    if (w->http != NULL && !gl_http_server_is_closed(w->http)) {
        gl_http_server_close(w->http, on_http_closed, w);
        if (w->mhttp != NULL)
            gl_http_server_close(w->mhttp, on_http_closed, w);
        uv_run(&w->loop, UV_RUN_DEFAULT);
    } else if (w->api_ready && !w->api.async_closed) {
        api_close(&w->api);
        uv_run(&w->loop, UV_RUN_DEFAULT);
    }
    feeder_stop(w->feeder);
    mirrorpull_free(w->mpull);
    engine_stop(w->engine);
    gl_http_server_free(w->http);
    gl_http_server_free(w->mhttp);
    mirror_free(w->mirror);
    mirrorapi_budget_free(w->budget);
    feeder_free(w->feeder);
    engine_free(w->engine);
    wstore_close(w->store);
    if (w->api_ready)
        api_release(&w->api);
    if (uv_loop_close(&w->loop) != 0)
        gl_log(GL_LOG_WARN, "event loop closed with handles still open");
}

int main(int argc, char **argv)
{
    static struct witness w;
    enum gl_log_level lvl;
    int rc, status = 1;

    gl_opsignal_hold(); /* before any thread: see opsignal.h */
    rc = parse_options(argc, argv, &w.o);
    w.argc = argc;
    w.argv = argv;
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (gl_log_parse_level(w.o.log_level, &lvl) != 0) {
        fprintf(stderr, "glasslog-witness: unknown log level %s\n", w.o.log_level);
        return 2;
    }
    gl_log_set_level(lvl);
    if (uv_loop_init(&w.loop) != 0)
        return 1;
    if (w.o.check_config) {
        status = check_config(&w);
        printf("glasslog-witness: %s\n", status == 0 ? "the configuration is usable"
                                                     : "the configuration is not usable");
        goto out;
    }
    if (load_config(&w) == 0 && open_state(&w) == 0 && load_mirror(&w) == 0 &&
        start(&w) == 0) {
        uv_run(&w.loop, UV_RUN_DEFAULT);
        status = w.reload.fatal ? 1 : 0; /* a failed reload must be restarted */
    }
out:
    shutdown_all(&w);
    gl_signer_wipe(&w.key);
    gl_signer_wipe(&w.mkey);
    logs_release(&w.logs);
    peers_release(&w.peers);
    if (status == 0 && !w.o.check_config)
        gl_log(GL_LOG_INFO, "stopped");
    return status;
}

/*
 * config: glasslogd's settings table and the checks across settings; see
 * config.h. Flags, the config file, --help and the defaults all come from
 * the one table below (lib/net/options.h). To add a setting: a field in
 * struct config and one line here.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "http_server.h"
#include "options.h"
#include "ratelimit.h"

#define S(n, f, def, arg, h) GL_OPT_STR(n, struct config, f, def, arg, h)
#define U(n, f, lo, hi, def, arg, h) GL_OPT_UINT(n, struct config, f, lo, hi, def, arg, h)

static const struct gl_opt settings[] = {
    S("listen", listen, "127.0.0.1:8080", "ADDR:PORT", "serve HTTP here"),
    S("data", data, NULL, "DIR", "data directory (the embedded RocksDB store)"),
    S("store", store, NULL, "URL",
      "instead of --data: a PostgreSQL URL (postgresql://...), or mem: (in memory, for "
      "tests)"),
    S("key", key, NULL, "FILE", "the log's private key file; its name is the origin"),
    S("submitters", submitters, NULL, "FILE",
      "verifier keys allowed to submit, one a line [rate=R] [burst=B]"),
    U("batch-ms", batch_ms, 0, 10000, 5, "MS",
      "cut a batch this many ms after its first entry"),
    U("batch-max", batch_max, 1, 65536, 1024, "N", "or once this many entries wait"),
    U("pool-max", pool_max, 1, 1000000, 16384, "N", "pending appends before 503"),
    U("checkpoint-interval", checkpoint_interval, 0, 86400, 60, "S",
      "re-sign an unchanged tree every S seconds (0 = never)"),
    U("cache-mb", cache_mb, 8, 65536, 64, "MIB", "RocksDB block cache in MiB"),
    U("lease-ms", lease_ms, 100, 600000, 3000, "MS",
      "on a shared store (PostgreSQL): a dead sequencer is replaced within this"),
    U("tile-cache", tile_cache, 16, 1u << 20, 2048, "N",
      "hot tiles kept in memory with their nodes, 16 KiB each"),
    S("log-level", log_level, "info", "LEVEL", "debug, info, warn or error"),
    S("witnesses", witnesses, NULL, "FILE",
      "tlog-policy file: witness lines with URLs, groups, quorum"),
    S("mirrors", mirrors, NULL, "FILE",
      "mirror lines (mirror <name> <vkey> <url>) to push the log to"),
    S("witness-mode", witness_mode, "block", "MODE",
      "block (serve only quorum-cosigned) or fail-open"),
    U("witness-timeout-ms", witness_timeout_ms, 100, 60000, 5000, "MS",
      "timeout of one add-checkpoint request"),
    S("submit-rate", submit_rate, "unlimited", "R",
      "appends a second per submitter key, e.g. 0.5; see --submitters"),
    U("submit-burst", submit_burst, 1, 1000000, 100, "N",
      "appends a submitter key may make at once"),
    U("conns-per-client", conns_per_client, 1, GL_HTTP_MAX_CONNECTIONS_LIMIT,
      GL_HTTP_DEFAULT_CONNS_PER_ADDR, "N",
      "connections at once from one IPv4 address or IPv6 /64"),
    U("request-timeout-ms", request_timeout_ms, 100, 600000, 10000, "MS",
      "a request must arrive in full, and an answer be read, within this"),
    S("web", web, NULL, "DIR",
      "the explorer's files (default <exe dir>/../share/glasslog/web, else "
      "<exe dir>/../web; none = no explorer)"),
    S("public-policy", public_policy, NULL, "FILE",
      "a suggested tlog-policy for visitors, served at /policy"),
    GL_OPT_FLAG("create", struct config, create,
                "make a new log (only in a missing or empty data directory)"),
    S("backup-dir", backup_dir, NULL, "DIR",
      "SIGUSR1 writes a consistent snapshot of the store into a new directory here"),
    S("restore-from", restore_from, NULL, "URL",
      "first rebuild the missing or empty --data from this tlog-tiles copy, verified"),
    GL_OPT_FLAG("accept-copy", struct config, accept_copy,
                "start on a backup or restored store (a copy) that no witness can "
                "check (none, fail-open mode, a quorum met without witnesses) or a "
                "mirror did not answer about: the operator states the copy holds all "
                "the log released"),
    GL_OPT_FLAG("read-only", struct config, read_only,
                "serve everything, refuse appends with 410 (a retired log)"),
    GL_OPT_FLAG("check-config", struct config, check_config,
                "read the key and every file the options name, then exit: 0 if all "
                "are usable (no store opened, no port bound)"),
};

static const struct gl_opts table = {
    "glasslogd", GL_VERSION,
    "usage: glasslogd --data DIR | --store URL --key FILE --submitters FILE [options]\n"
    "       glasslogd --fsck DIR [--vkey VKEY|@FILE]  (check a stopped or backed-up "
    "store)\n\n"
    "The glasslog transparency log server. Options (also as \"key value\"\n"
    "lines in --config FILE; flags win):\n",
    settings, sizeof(settings) / sizeof(settings[0])};

int config_parse(int argc, char **argv, struct config *cfg)
{
    int rc;

    memset(cfg, 0, sizeof(*cfg));
    if ((rc = gl_opts_parse(&table, argc, argv, cfg)) != 0)
        return rc;
    if (strcmp(cfg->witness_mode, "block") != 0 &&
        strcmp(cfg->witness_mode, "fail-open") != 0) {
        fprintf(stderr, "glasslogd: --witness-mode must be block or fail-open\n");
        return -1;
    }
    if (ratelimit_parse_rate(cfg->submit_rate, strlen(cfg->submit_rate),
                             &cfg->submit_rate_u) != 0) {
        fprintf(stderr, "glasslogd: submit-rate takes %s, not \"%s\"\n",
                RATELIMIT_RATE_SYNTAX, cfg->submit_rate);
        return -1;
    }
    if (!gl_http_listen_valid(cfg->listen)) {
        fprintf(stderr, "glasslogd: listen takes ADDR:PORT or [ADDR]:PORT, not \"%s\"\n",
                cfg->listen);
        return -1;
    }
    if ((cfg->data[0] == 0) == (cfg->store[0] == 0)) {
        fprintf(stderr, "glasslogd: give exactly one of --data DIR and --store URL\n");
        gl_opts_usage(&table, stderr);
        return -1;
    }
    if (cfg->key[0] == 0 || cfg->submitters[0] == 0) {
        fprintf(stderr, "glasslogd: --key and --submitters are required\n");
        gl_opts_usage(&table, stderr);
        return -1;
    }
    return 0;
}

/* What a reload applies or ignores (config.h); keep in step with on_hup
 * (log/main.c) and the man page. */
static const char *const reloadable[] = {
    "submitters", "witnesses",    "submit-rate", "submit-burst", "log-level",
    "create",     "restore-from", "accept-copy", "check-config", NULL};

int config_reload_check(const struct config *cur, const struct config *next, char *why,
                        size_t why_len)
{
    if (cur->witnesses[0] != 0 && next->witnesses[0] == 0) {
        snprintf(why, why_len, "witnesses removed: only a restart applies it");
        return GL_ESTATE;
    }
    return gl_opts_reload_check(&table, cur, next, reloadable, why, why_len);
}

int config_text(const char *text, size_t len, struct config *cfg, struct gl_err *why)
{
    return gl_opts_text(&table, text, len, cfg, why);
}

/*
 * config: flag and config-file parsing for glasslogd; see config.h. One
 * table describes every setting, so flags, the file and --help agree.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glasslog/codec.h"
#include "ratelimit.h"

enum kind { K_STR, K_UINT, K_FLAG };

struct setting {
    const char *name;
    enum kind kind;
    size_t off, size;       /* K_STR: buffer; K_UINT/K_FLAG: the field */
    unsigned min, max;      /* K_UINT range */
    const char *help;
};

#define STR(n, f, h) {n, K_STR, offsetof(struct config, f), sizeof(((struct config *)0)->f), 0, 0, h}
#define UINT(n, f, lo, hi, h) {n, K_UINT, offsetof(struct config, f), 0, lo, hi, h}

static const struct setting settings[] = {
    STR("listen", listen, "ADDR:PORT to serve HTTP on (default 127.0.0.1:8080)"),
    STR("data", data, "data directory (the embedded RocksDB store)"),
    STR("store", store,
        "instead of --data: a PostgreSQL URL (postgresql://...), or mem: (in memory, for tests)"),
    STR("key", key, "the log's private key file; its name is the origin"),
    STR("submitters", submitters,
        "file of verifier keys allowed to submit, one a line [rate=R] [burst=B]"),
    UINT("batch-ms", batch_ms, 0, 10000, "cut a batch this many ms after its first entry (5)"),
    UINT("batch-max", batch_max, 1, 65536, "or once this many entries wait (1024)"),
    UINT("pool-max", pool_max, 1, 1000000, "pending appends before 503 (16384)"),
    UINT("checkpoint-interval", checkpoint_interval, 0, 86400,
         "re-sign an unchanged tree every N s (60; 0 = never)"),
    UINT("cache-mb", cache_mb, 8, 65536, "RocksDB block cache in MiB (64)"),
    UINT("lease-ms", lease_ms, 100, 600000,
         "on a shared store (PostgreSQL): a dead sequencer is replaced within this (3000)"),
    UINT("tile-cache", tile_cache, 16, 1u << 20, "hot tiles kept in memory with their nodes, 16 KiB each (2048)"),
    STR("log-level", log_level, "debug, info, warn or error (info)"),
    STR("witnesses", witnesses, "tlog-policy file: witness lines with URLs, groups, quorum"),
    STR("witness-mode", witness_mode, "block (serve only quorum-cosigned) or fail-open (block)"),
    UINT("witness-timeout-ms", witness_timeout_ms, 100, 60000,
         "timeout of one add-checkpoint request (5000)"),
    STR("submit-rate", submit_rate,
        "appends a second per submitter key, e.g. 0.5 (unlimited); see --submitters"),
    UINT("submit-burst", submit_burst, 1, 1000000,
         "appends a submitter key may make at once (100)"),
    UINT("conns-per-client", conns_per_client, 1, 65536,
         "connections at once from one IPv4 address or IPv6 /64 (64)"),
    UINT("request-timeout-ms", request_timeout_ms, 100, 600000,
         "a request must arrive in full, and an answer be read, within this (10000)"),
    STR("web", web,
        "the explorer's files (default <exe dir>/../share/glasslog/web, else "
        "<exe dir>/../web; none = no explorer)"),
    STR("public-policy", public_policy,
        "a suggested tlog-policy for visitors, served at /policy"),
    {"create", K_FLAG, offsetof(struct config, create), 0, 0, 0,
     "make a new log (only in a missing or empty data directory)"},
};
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

static void config_defaults(struct config *c)
{
    memset(c, 0, sizeof(*c));
    strcpy(c->listen, "127.0.0.1:8080");
    strcpy(c->log_level, "info");
    strcpy(c->witness_mode, "block");
    c->witness_timeout_ms = 5000;
    c->conns_per_client = 64;
    c->request_timeout_ms = 10000;
    c->batch_ms = 5;
    c->batch_max = 1024;
    c->pool_max = 16384;
    c->checkpoint_interval = 60;
    c->cache_mb = 64;
    c->tile_cache = 2048;
    c->lease_ms = 3000;
    strcpy(c->submit_rate, "unlimited");
    c->submit_burst = 100;
}

static void config_usage(FILE *f)
{
    fputs("usage: glasslogd --data DIR | --store URL --key FILE --submitters FILE [options]\n\n"
          "The glasslog transparency log server. Options (also as \"key value\"\n"
          "lines in --config FILE; flags win):\n", f);
    for (size_t i = 0; i < NSETTINGS; i++)
        fprintf(f, "  --%-20s %s\n", settings[i].name, settings[i].help);
    fputs("  --config FILE          read settings from FILE\n"
          "  --help, --version\n", f);
}

static const struct setting *config_find(const char *name, size_t n)
{
    for (size_t i = 0; i < NSETTINGS; i++)
        if (strlen(settings[i].name) == n && memcmp(settings[i].name, name, n) == 0)
            return &settings[i];
    return NULL;
}

/* Sets one setting from text value (NULL for a flag). */
static int config_set(struct config *c, const struct setting *s, const char *value)
{
    char *field = (char *)c + s->off;
    uint64_t v;

    if (s->kind == K_FLAG) {
        if (value != NULL && strcmp(value, "true") != 0 && strcmp(value, "1") != 0) {
            fprintf(stderr, "glasslogd: %s takes no value (or \"true\")\n", s->name);
            return -1;
        }
        *(int *)field = 1;
        return 0;
    }
    if (value == NULL) {
        fprintf(stderr, "glasslogd: --%s needs a value\n", s->name);
        return -1;
    }
    if (s->kind == K_STR) {
        if (strlen(value) >= s->size || value[0] == 0) {
            fprintf(stderr, "glasslogd: %s: empty or longer than %zu bytes\n", s->name,
                    s->size - 1);
            return -1;
        }
        strcpy(field, value);
        return 0;
    }
    if (gl_parse_u64(value, strlen(value), &v) != 0 || v < s->min || v > s->max) {
        fprintf(stderr, "glasslogd: %s must be a whole number from %u to %u, not \"%s\"\n",
                s->name, s->min, s->max, value);
        return -1;
    }
    *(unsigned *)field = (unsigned)v;
    return 0;
}

static int config_file(struct config *c, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[2048];
    int lineno = 0, rc = 0;

    if (f == NULL) {
        fprintf(stderr, "glasslogd: cannot open config file %s\n", path);
        return -1;
    }
    while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
        char *p = line, *key, *val;
        const struct setting *s;
        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            fprintf(stderr, "glasslogd: %s:%d: line too long\n", path, lineno);
            rc = -1;
            break;
        }
        line[strcspn(line, "\r\n")] = 0;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == 0 || *p == '#')
            continue;
        key = p;
        p += strcspn(p, " \t=");
        val = p;
        if (*p != 0) {
            *p++ = 0;
            val = p + strspn(p, " \t=");
        }
        s = config_find(key, strlen(key));
        if (s == NULL) {
            fprintf(stderr, "glasslogd: %s:%d: unknown setting \"%s\"\n", path, lineno, key);
            rc = -1;
        } else {
            rc = config_set(c, s, *val ? val : NULL);
            if (rc != 0)
                fprintf(stderr, "glasslogd: (in %s:%d)\n", path, lineno);
        }
    }
    fclose(f);
    return rc;
}

int config_parse(int argc, char **argv, struct config *cfg)
{
    config_defaults(cfg);
    for (int i = 1; i < argc; i++) /* --config first, so flags win */
        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc || config_file(cfg, argv[i + 1]) != 0)
                return -1;
        }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *eq;
        const struct setting *s;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            config_usage(stdout);
            return 1;
        }
        if (strcmp(a, "--version") == 0) {
            printf("glasslogd %s\n", GL_VERSION);
            return 1;
        }
        if (strcmp(a, "--config") == 0) {
            i++;
            continue;
        }
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "glasslogd: unexpected argument \"%s\" (see --help)\n", a);
            return -1;
        }
        eq = strchr(a + 2, '=');
        s = config_find(a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
        if (s == NULL) {
            fprintf(stderr, "glasslogd: unknown option %s (see --help)\n", a);
            return -1;
        }
        if (config_set(cfg, s, eq ? eq + 1 : s->kind == K_FLAG ? NULL
                                             : (i + 1 < argc ? argv[++i] : NULL)) != 0)
            return -1;
    }
    if (strcmp(cfg->witness_mode, "block") != 0 && strcmp(cfg->witness_mode, "fail-open") != 0) {
        fprintf(stderr, "glasslogd: --witness-mode must be block or fail-open\n");
        return -1;
    }
    if (ratelimit_parse_rate(cfg->submit_rate, strlen(cfg->submit_rate), &cfg->submit_rate_u) != 0) {
        fprintf(stderr, "glasslogd: submit-rate takes %s, not \"%s\"\n", RATELIMIT_RATE_SYNTAX,
                cfg->submit_rate);
        return -1;
    }
    if ((cfg->data[0] == 0) == (cfg->store[0] == 0)) {
        fprintf(stderr, "glasslogd: give exactly one of --data DIR and --store URL\n");
        config_usage(stderr);
        return -1;
    }
    if (cfg->key[0] == 0 || cfg->submitters[0] == 0) {
        fprintf(stderr, "glasslogd: --key and --submitters are required\n");
        config_usage(stderr);
        return -1;
    }
    return 0;
}

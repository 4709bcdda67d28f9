/*
 * config: glasslogd's settings, from flags and an optional config file of
 * the same keys ("key value" lines, "#" comments; flags win; see
 * config_text). Every numeric setting has a range; anything out of range
 * or unknown is an error naming the key.
 */
#ifndef GL_LOG_CONFIG_H
#define GL_LOG_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/error.h"

#define CONFIG_PATH_MAX 1024

struct config {
    char listen[128];
    char data[CONFIG_PATH_MAX];
    char store[CONFIG_PATH_MAX];
    char key[CONFIG_PATH_MAX];
    char submitters[CONFIG_PATH_MAX];
    unsigned batch_ms, batch_max, pool_max, checkpoint_interval;
    unsigned cache_mb, tile_cache;
    unsigned lease_ms; /* shared stores: the sequencer lease */
    char log_level[16];
    char witnesses[CONFIG_PATH_MAX];
    char witness_mode[16];
    char mirrors[CONFIG_PATH_MAX]; /* --mirrors: mirrorpush.h */
    unsigned witness_timeout_ms;
    char submit_rate[32]; /* per submitter key: "unlimited" or appends/s */
    unsigned submit_burst;
    uint64_t submit_rate_u; /* submit_rate parsed (ratelimit_parse_rate) */
    unsigned conns_per_client, request_timeout_ms;
    char web[CONFIG_PATH_MAX];           /* --web: "" default, "none" off */
    char public_policy[CONFIG_PATH_MAX]; /* served at /policy; "" none */
    int create;
    int accept_copy;  /* a copy (store_get_copy) starts without witnesses */
    int read_only;    /* serve, refuse appends (410) */
    int check_config; /* read every file named, then exit */
    char restore_from[CONFIG_PATH_MAX]; /* rebuild --data from this copy first */
    char backup_dir[CONFIG_PATH_MAX];   /* SIGUSR1 snapshots go here; "" none */
};

/* Parses argv into cfg (defaults first, then --config FILE, then flags).
 * Returns 0, 1 if --help/--version was answered, or -1 after printing the
 * error to stderr. */
int config_parse(int argc, char **argv, struct config *cfg);

/* A reload's settings (next: config_parse again, the command line with
 * the config file as they are now) against cur, those in use. A reload
 * applies submitters, witnesses, submit-rate, submit-burst and log-level
 * and ignores the start-up actions (create, restore-from, accept-copy,
 * check-config); witnesses cannot be removed. Any other change needs a
 * restart. 0, or GL_ESTATE with why (NUL-terminated, cut to why_len)
 * naming the settings changed. */
int config_reload_check(const struct config *cur, const struct config *next, char *why,
                        size_t why_len);

/* Applies the settings of a config file's text (len bytes, any bytes) to
 * *cfg, over what it holds; config_parse reads --config FILE with it.
 * Lines are trimmed at both ends ("\r\n" line ends allowed); blank lines
 * and "#" comments are skipped; others are "key value", "key=value" or a
 * flag's "key", without control characters but tabs. 0, or GL_EPARSE /
 * GL_ETOOBIG with why (may be NULL) naming the line and what was wrong;
 * *cfg may then hold the settings of the lines before it. */
int config_text(const char *text, size_t len, struct config *cfg, struct gl_err *why);

#endif

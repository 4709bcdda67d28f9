/*
 * fuzz_config: glasslogd's config file (log/config.c, config_text), over
 * the defaults. Nothing may crash; a refusal must say why and where
 * (fuzz_check_why); an accepted file must leave every setting in its
 * documented range (the ranges of `glasslogd --help`, written out again
 * here), every text setting NUL-terminated and non-empty, and applying
 * the same file a second time must change nothing. The defaults are
 * computed once (config_parse with the required flags), not per run.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "../../log/config.h"
#include "../../log/ratelimit.h"

static const struct config *fuzz_defaults(void)
{
    static char a0[] = "glasslogd", a1[] = "--store", a2[] = "mem:", a3[] = "--key",
                a4[] = "k", a5[] = "--submitters", a6[] = "s";
    static char *argv[] = {a0, a1, a2, a3, a4, a5, a6, NULL};
    static struct config c;
    static int ready;

    if (!ready) {
        if (config_parse(7, argv, &c) != 0)
            abort();
        ready = 1;
    }
    return &c;
}

static void check_range(unsigned v, unsigned lo, unsigned hi)
{
    if (v < lo || v > hi)
        abort();
}

static void check_str(const char *s, size_t size)
{
    if (memchr(s, 0, size) == NULL || s[0] == 0)
        abort();
}

static void check_config(const struct config *c)
{
    const struct config *d = fuzz_defaults();

    check_range(c->batch_ms, 0, 10000);
    check_range(c->batch_max, 1, 65536);
    check_range(c->pool_max, 1, 1000000);
    check_range(c->checkpoint_interval, 0, 86400);
    check_range(c->cache_mb, 8, 65536);
    check_range(c->tile_cache, 16, 1u << 20);
    check_range(c->witness_timeout_ms, 100, 60000);
    check_range(c->submit_burst, 1, 1000000);
    check_range(c->conns_per_client, 1, 65536);
    check_range(c->request_timeout_ms, 100, 600000);
    check_range((unsigned)c->create, 0, 1);
    check_str(c->listen, sizeof(c->listen));
    check_str(c->log_level, sizeof(c->log_level));
    check_str(c->witness_mode, sizeof(c->witness_mode));
    check_str(c->submit_rate, sizeof(c->submit_rate));
    check_str(c->store, sizeof(c->store));
    check_str(c->key, sizeof(c->key));
    check_str(c->submitters, sizeof(c->submitters));
    /* Optional text settings: empty unless set, then not empty. */
    if (memchr(c->data, 0, sizeof(c->data)) == NULL ||
        memchr(c->witnesses, 0, sizeof(c->witnesses)) == NULL ||
        memchr(c->web, 0, sizeof(c->web)) == NULL ||
        memchr(c->public_policy, 0, sizeof(c->public_policy)) == NULL)
        abort();
    /* The file never sets the parsed rate: config_parse does, after it. */
    if (c->submit_rate_u != d->submit_rate_u)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config *c = malloc(2 * sizeof(*c));
    struct gl_err why;
    uint64_t rate;
    int rc;

    if (c == NULL)
        return 0;
    c[0] = *fuzz_defaults();
    memset(&why, 0, sizeof(why));
    rc = config_text((const char *)data, size, &c[0], &why);
    fuzz_check_why(rc, &why, data, size);
    if (rc == 0) {
        check_config(&c[0]);
        c[1] = c[0];
        if (config_text((const char *)data, size, &c[1], NULL) != 0 ||
            memcmp(&c[0], &c[1], sizeof(c[0])) != 0)
            abort();
        /* What config_parse does next with the rate text. */
        (void)ratelimit_parse_rate(c[0].submit_rate, strlen(c[0].submit_rate), &rate);
    }
    free(c);
    return 0;
}

/*
 * util: option parsing, artifact hashing and formatting helpers; see
 * util.h. Parsers are strict (canonical decimals, a known unit, no
 * overflow) so that a typo in a command line is refused, never guessed.
 */
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/sha256.h"
#include "clock.h"
#include "utf8.h"

int util_parse_duration(const char *s, uint64_t *seconds)
{
    size_t n = strlen(s);
    uint64_t v, mul = 1;

    if (n == 0)
        return GL_EPARSE;
    switch (s[n - 1]) {
    case 's':
        mul = 1;
        n--;
        break;
    case 'm':
        mul = 60;
        n--;
        break;
    case 'h':
        mul = 3600;
        n--;
        break;
    case 'd':
        mul = 86400;
        n--;
        break;
    default:
        break;
    }
    if (gl_parse_u64(s, n, &v) != 0 || v == 0 || v > UINT64_MAX / mul)
        return GL_EPARSE;
    *seconds = v * mul;
    return 0;
}

int util_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    uint64_t v;

    if (gl_parse_u64(s, strlen(s), &v) != 0 || v < lo || v > hi)
        return GL_EPARSE;
    *out = v;
    return 0;
}

int util_opt_u64(const char *name, const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (util_parse_u64(s, lo, hi, out) == 0)
        return 0;
    cli_error("%s takes a number from %llu to %llu, not '%s'", name,
              (unsigned long long)lo, (unsigned long long)hi, s);
    return GL_EPARSE;
}

int util_hash_file(const char *path, uint8_t out[GL_HASH_LEN])
{
    FILE *f = fopen(path, "rb");
    struct gl_sha256 *h = NULL;
    char chunk[65536];
    size_t got;
    int rc;

    if (f == NULL) {
        cli_error("cannot open %s: %s", path, strerror(errno));
        return GL_EIO;
    }
    if ((rc = gl_sha256_new(&h)) != 0)
        goto out;
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if ((rc = gl_sha256_update(h, chunk, got)) != 0)
            goto out;
    rc = ferror(f) ? GL_EIO : gl_sha256_final(h, out);
out:
    if (rc != 0) {
        cli_error("cannot read %s: %s", path, strerror(errno));
        rc = GL_EIO;
    }
    gl_sha256_free(h);
    fclose(f);
    return rc;
}

void util_time_utc(uint64_t t, char out[32])
{
    time_t tt = t > (uint64_t)INT32_MAX * 1024 ? (time_t)INT32_MAX * 1024 : (time_t)t;
    struct tm tm;

    if (gmtime_r(&tt, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, 32, "@%llu", (unsigned long long)t);
}

int util_join_url(const char *base, const char *path, struct gl_buf *out)
{
    size_t n = strlen(base);

    return gl_buf_printf(out, "%s%s%s", base, n > 0 && base[n - 1] == '/' ? "" : "/",
                         path);
}

int util_hash_equal(const uint8_t a[GL_HASH_LEN], const uint8_t b[GL_HASH_LEN])
{
    return CRYPTO_memcmp(a, b, GL_HASH_LEN) == 0;
}

void util_sleep(double seconds)
{
    struct timespec ts, rem;

    if (!(seconds > 0))
        return;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec > 999999999L)
        ts.tv_nsec = 999999999L;
    while (nanosleep(&ts, &rem) != 0 && errno == EINTR)
        ts = rem;
}

int util_json_index(const cJSON *j, uint64_t *out)
{
    double v;

    if (!cJSON_IsNumber(j))
        return GL_EPARSE;
    v = j->valuedouble;
    if (!(v >= 0 && v <= UTIL_JSON_INT_MAX) || (double)(uint64_t)v != v)
        return GL_EPARSE; /* the cast is defined: v is in range */
    *out = (uint64_t)v;
    return 0;
}

int util_json_values_within(const uint8_t *s, size_t n, size_t max)
{
    size_t count = 1;
    int in_str = 0;

    for (size_t i = 0; i < n; i++) {
        if (in_str) {
            if (s[i] == '\\')
                i++;
            else if (s[i] == '"')
                in_str = 0;
        } else if (s[i] == '"')
            in_str = 1;
        else if ((s[i] == ',' || s[i] == '[' || s[i] == '{') && ++count > max)
            return GL_ETOOBIG;
    }
    return 0;
}

const char *util_printable(const char *s, size_t n, char *out, size_t max)
{
    gl_utf8_escape(s, n, NULL, out, max);
    return out;
}

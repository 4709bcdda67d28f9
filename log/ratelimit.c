/*
 * ratelimit: token buckets; see ratelimit.h for the model and the
 * admit/spend split.
 *
 * Units: rate_u is millionths of a token per second = nanotokens per
 * millisecond, so a refill over dt ms is rate_u * dt nanotokens, exactly.
 * Overflow: a refill is only multiplied out when it is below what is
 * missing to a full bucket (at most burst tokens plus the debt), and the
 * debt is bounded far from INT64_MIN, so every product fits in 64 bits.
 */
#include "ratelimit.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/log.h"
#include "metrics.h"
#include "text.h"

#define RATE_DECIMALS 6
#define RATE_SCALE 1000000ULL      /* 10^RATE_DECIMALS */
#define DEBT_FLOOR (INT64_MIN / 4) /* the level never goes below */

static int64_t bucket_cap(const struct ratelimit *b)
{
    return (int64_t)b->lim.burst * RATELIMIT_TOKEN;
}

void ratelimit_init(struct ratelimit *b, const struct ratelimit_limit *l, uint64_t now_ms)
{
    assert(l->rate_u <= RATELIMIT_RATE_MAX);
    assert(l->rate_u == 0 || (l->burst >= 1 && l->burst <= RATELIMIT_BURST_MAX));
    memset(b, 0, sizeof(*b));
    b->lim = *l;
    b->level = l->rate_u != 0 ? bucket_cap(b) : 0;
    b->last_ms = now_ms;
}

int ratelimit_unlimited(const struct ratelimit *b)
{
    return b->lim.rate_u == 0;
}

int64_t ratelimit_level(const struct ratelimit *b, uint64_t now_ms)
{
    int64_t cap = bucket_cap(b);
    uint64_t dt, missing, full_after;

    if (ratelimit_unlimited(b))
        return cap;
    assert(b->level <= cap);
    if (now_ms <= b->last_ms)
        return b->level;
    dt = now_ms - b->last_ms;
    missing = (uint64_t)(cap - b->level);
    full_after = missing / b->lim.rate_u + (missing % b->lim.rate_u != 0);
    if (dt >= full_after)
        return cap;
    return b->level + (int64_t)(b->lim.rate_u * dt); /* < missing: fits */
}

uint64_t ratelimit_retry_after(const struct ratelimit *b, uint64_t now_ms)
{
    int64_t level = ratelimit_level(b, now_ms);
    uint64_t missing, per_s;

    if (ratelimit_unlimited(b) || level >= RATELIMIT_TOKEN)
        return 1;
    missing = (uint64_t)(RATELIMIT_TOKEN - level);
    per_s = b->lim.rate_u * 1000; /* nanotokens a second, <= 10^15 */
    return missing / per_s + (missing % per_s != 0);
}

int ratelimit_admit(struct ratelimit *b, uint64_t now_ms, uint64_t *retry_after_s)
{
    if (ratelimit_unlimited(b) || ratelimit_level(b, now_ms) >= RATELIMIT_TOKEN)
        return 1;
    b->limited++;
    *retry_after_s = ratelimit_retry_after(b, now_ms);
    return 0;
}

void ratelimit_spend(struct ratelimit *b, uint64_t now_ms)
{
    if (ratelimit_unlimited(b))
        return;
    b->level = ratelimit_level(b, now_ms);
    if (b->level > DEBT_FLOOR)
        b->level -= RATELIMIT_TOKEN;
    if (now_ms > b->last_ms)
        b->last_ms = now_ms;
}

void ratelimit_bucket_name(const struct gl_verifier *key,
                           char out[STORE_BUCKET_NAME_MAX + 1])
{
    /* GL_KEY_NAME_MAX + 9 <= STORE_BUCKET_NAME_MAX: never cut */
    snprintf(out, STORE_BUCKET_NAME_MAX + 1, "%s+%08x", key->name, (unsigned)key->id);
}

/* Takes a whole token from the shared bucket of key if it has one (*took)
 * and mirrors the level the store answered in b at now_ms. 0, or the
 * store's error (logged; b unchanged). */
static int shared_take(struct ratelimit *b, struct store *s,
                       const struct gl_verifier *key, uint64_t now_ms, int *took)
{
    char name[STORE_BUCKET_NAME_MAX + 1];
    int64_t level, cap = bucket_cap(b);
    int rc;

    ratelimit_bucket_name(key, name);
    rc = store_bucket_take(s, name, b->lim.rate_u, b->lim.burst, 1, &level, took);
    if (rc != 0) {
        gl_log(GL_LOG_WARN,
               "rate limit of %s: the shared bucket failed (%d); deciding "
               "on this process's last view of it",
               name, rc);
        return rc;
    }
    b->level = level < cap ? (level > DEBT_FLOOR ? level : DEBT_FLOOR) : cap;
    b->last_ms = now_ms;
    return 0;
}

int ratelimit_take_shared(struct ratelimit *b, struct store *s,
                          const struct gl_verifier *key, uint64_t now_ms,
                          uint64_t *retry_after_s)
{
    int took;

    if (s == NULL || ratelimit_unlimited(b) || !store_shared(s) ||
        shared_take(b, s, key, now_ms, &took) != 0) {
        ratelimit_spend(b, now_ms); /* admitted by ratelimit_admit before */
        return 1;
    }
    if (took)
        return 1;
    b->limited++;
    *retry_after_s = ratelimit_retry_after(b, now_ms);
    return 0;
}

int ratelimit_parse_rate(const char *s, size_t n, uint64_t *rate_u)
{
    const char *dot = memchr(s, '.', n);
    size_t ilen = dot != NULL ? (size_t)(dot - s) : n,
           flen = dot != NULL ? n - ilen - 1 : 0;
    uint64_t whole, frac = 0, scale = RATE_SCALE;

    if (gl_mem_is(s, n, "unlimited")) {
        *rate_u = 0;
        return 0;
    }
    if (n > RATELIMIT_RATE_TEXT_MAX || gl_parse_u64(s, ilen, &whole) != 0 ||
        whole > RATELIMIT_RATE_MAX / RATE_SCALE)
        return GL_EPARSE;
    if (dot != NULL && (flen == 0 || flen > RATE_DECIMALS))
        return GL_EPARSE;
    for (size_t i = 0; i < flen; i++) {
        if (dot[1 + i] < '0' || dot[1 + i] > '9')
            return GL_EPARSE;
        scale /= 10;
        frac += (uint64_t)(dot[1 + i] - '0') * scale;
    }
    whole = whole * RATE_SCALE + frac;
    if (whole == 0 || whole > RATELIMIT_RATE_MAX)
        return GL_EPARSE;
    *rate_u = whole;
    return 0;
}

int ratelimit_parse_burst(const char *s, size_t n, uint64_t *burst)
{
    uint64_t v;

    if (gl_parse_u64(s, n, &v) != 0 || v < 1 || v > RATELIMIT_BURST_MAX)
        return GL_EPARSE;
    *burst = v;
    return 0;
}

/* Appends {submitter="<name>",key_id="<hex>"}, the name escaped for the
 * Prometheus text format. */
static int render_labels(const struct gl_verifier *k, struct gl_buf *out)
{
    int rc = gl_buf_append_str(out, "{submitter=\"");

    for (const char *p = k->name; rc == 0 && *p != 0; p++) {
        if (*p == '\\' || *p == '"')
            rc = gl_buf_putc(out, '\\');
        if (rc == 0)
            rc = gl_buf_putc(out, (uint8_t)*p);
    }
    if (rc == 0)
        rc = gl_buf_printf(out, "\",key_id=\"%08x\"}", (unsigned)k->id);
    return rc;
}

/* One family: HELP, TYPE and a series per limited key (tokens when
 * gauge, the refusal count otherwise). */
static int render_family(const struct gl_verifier *keys, const struct ratelimit *b,
                         size_t n, uint64_t now_ms, int gauge, struct gl_buf *out)
{
    const char *name = gauge ? "glasslog_rate_tokens" : "glasslog_rate_limited_total";
    int rc = gl_metrics_family(
        out, name, gauge ? "gauge" : "counter",
        gauge ? "Tokens in the submitter key's bucket (negative: debt)."
              : "Appends refused by the submitter key's rate limit (429).");

    for (size_t i = 0; i < n && rc == 0; i++) {
        if (ratelimit_unlimited(&b[i]))
            continue;
        if ((rc = gl_buf_append_str(out, name)) != 0 ||
            (rc = render_labels(&keys[i], out)) != 0)
            break;
        if (gauge)
            rc = gl_buf_printf(out, " %.9g\n",
                               (double)ratelimit_level(&b[i], now_ms) /
                                   (double)RATELIMIT_TOKEN);
        else
            rc = gl_buf_printf(out, " %llu\n", (unsigned long long)b[i].limited);
    }
    return rc;
}

int ratelimit_render(const struct gl_verifier *keys, const struct ratelimit *b, size_t n,
                     uint64_t now_ms, struct gl_buf *out)
{
    size_t limited = 0;
    int rc;

    for (size_t i = 0; i < n; i++)
        limited += !ratelimit_unlimited(&b[i]);
    if (limited == 0)
        return 0;
    if ((rc = render_family(keys, b, n, now_ms, 0, out)) != 0)
        return rc;
    return render_family(keys, b, n, now_ms, 1, out);
}

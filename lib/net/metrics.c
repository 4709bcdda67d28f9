/*
 * metrics: see metrics.h. Names longer than METRICS_NAME_MAX are refused
 * (GL_EINVAL): they are compile-time strings, so that is a caller bug.
 */
#include "metrics.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "glasslog/error.h"

#define METRICS_NAME_MAX 128

/* The upper bounds of the finite buckets, ascending: seconds, counts. */
static const double hist_bounds[2][GL_METRICS_HIST_BUCKETS] = {
    {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10},
    {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192}};

static const double *bounds_of(const struct gl_metrics_hist *h)
{
    return hist_bounds[h->of_counts ? 1 : 0];
}

void gl_metrics_hist_observe(struct gl_metrics_hist *h, double value)
{
    const double *bounds = bounds_of(h);
    int i = 0;

    while (i < GL_METRICS_HIST_BUCKETS && value > bounds[i])
        i++;
    h->counts[i]++;
    h->sum += value;
    h->n++;
}

int gl_metrics_hist_render(const struct gl_metrics_hist *h, const char *name,
                           const char *help, struct gl_buf *out)
{
    uint64_t cum = 0;
    int rc = gl_buf_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);

    for (int i = 0; i < GL_METRICS_HIST_BUCKETS && rc == 0; i++) {
        cum += h->counts[i];
        rc = gl_buf_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name, bounds_of(h)[i],
                           (unsigned long long)cum);
    }
    assert(rc != 0 || cum + h->counts[GL_METRICS_HIST_BUCKETS] == h->n);
    if (rc == 0)
        rc = gl_buf_printf(
            out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name,
            (unsigned long long)h->n, name, h->sum, name, (unsigned long long)h->n);
    return rc;
}

int gl_metrics_family(struct gl_buf *out, const char *name, const char *type,
                      const char *help)
{
    return gl_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

int gl_metrics_value(struct gl_buf *out, const char *name, const char *type,
                     const char *help, double value)
{
    int rc = gl_metrics_family(out, name, type, help);

    return rc != 0 ? rc : gl_buf_printf(out, "%s %.17g\n", name, value);
}

/* prefix "_" suffix into name[METRICS_NAME_MAX]. */
static int join(char *name, const char *prefix, const char *suffix)
{
    int n = snprintf(name, METRICS_NAME_MAX, "%s_%s", prefix, suffix);

    return n < 0 || n >= METRICS_NAME_MAX ? GL_EINVAL : 0;
}

int gl_metrics_http(struct gl_buf *out, const char *prefix, const struct gl_http_stats *s)
{
    char name[METRICS_NAME_MAX];
    int rc = 0;

#define HTTP_VAL(suffix, type, help, v)                                                  \
    if (rc == 0 && (rc = join(name, prefix, suffix)) == 0)                               \
    rc = gl_metrics_value(out, name, type, help, (double)(v))
    HTTP_VAL("requests_total", "counter", "HTTP requests handled.", s->requests);
    HTTP_VAL("connections_open", "gauge", "HTTP connections open.", s->conns_active);
    HTTP_VAL("connections_accepted_total", "counter", "HTTP connections served.",
             s->conns_accepted);
    HTTP_VAL("connections_refused_total", "counter",
             "Connections closed at once: over the total limit (or shutting down).",
             s->conns_rejected);
    HTTP_VAL("connections_refused_per_client_total", "counter",
             "Connections closed at once: over the per-client limit.",
             s->conns_rejected_addr);
    HTTP_VAL("connections_stalled_total", "counter",
             "Connections reset because the client stopped reading its answer, or read "
             "it too slowly.",
             s->conns_stalled);
    HTTP_VAL("connections_head_too_large_total", "counter",
             "Connections reset because an unfinished request head outgrew its cap.",
             s->conns_big_head);
    HTTP_VAL("replies_over_held_total", "counter",
             "Large answers refused (503) as the answers held for their readers had "
             "reached their cap.",
             s->replies_over_held);
    HTTP_VAL("reply_bytes_held", "gauge",
             "Bytes of answers held until their readers take them.", s->held_bytes);
#undef HTTP_VAL
    if (rc == 0 && (rc = join(name, prefix, "responses_total")) == 0)
        rc = gl_metrics_family(out, name, "counter", "HTTP responses by status code.");
    for (int i = 0; i < GL_HTTP_STAT_NCODES && rc == 0; i++)
        if (s->by_code[i] > 0)
            rc = gl_buf_printf(out, "%s_responses_total{code=\"%d\"} %llu\n", prefix,
                               GL_HTTP_STAT_MIN + i, (unsigned long long)s->by_code[i]);
    return rc;
}

uint64_t gl_metrics_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long pages = 0, rss = 0;
    long page = sysconf(_SC_PAGESIZE);

    if (f == NULL)
        return 0;
    if (fscanf(f, "%llu %llu", &pages, &rss) != 2)
        rss = 0;
    fclose(f);
    return page > 0 ? (uint64_t)rss * (uint64_t)page : 0;
}

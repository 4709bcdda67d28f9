/*
 * metrics: the one Prometheus text renderer of the daemons' /metrics:
 * single values (counter or gauge), family headers for labelled series,
 * fixed-bucket histograms, the HTTP server's counters, and the process's
 * resident set size. Plain functions over a caller-owned struct gl_buf;
 * no locking (each daemon renders from its loop thread).
 *
 * Invariant: every rendered family has "# HELP" and "# TYPE" lines before
 * its samples; a histogram's buckets are cumulative and its +Inf bucket
 * equals its _count.
 */
#ifndef GL_NET_METRICS_H
#define GL_NET_METRICS_H

#include <stdint.h>

#include "glasslog/buf.h"
#include "http_server.h"

#define GL_METRICS_HIST_BUCKETS 14

/* A histogram. Zero-initialised is an empty one of durations (buckets
 * 0.0005 s to 10 s); set of_counts before the first observation for one
 * of sizes (buckets 1 to 8192, powers of two). */
struct gl_metrics_hist {
    uint64_t counts[GL_METRICS_HIST_BUCKETS + 1]; /* last: +Inf */
    double sum;
    uint64_t n;
    int of_counts; /* 0: seconds; 1: counts */
};

/* Counts value in its bucket. */
void gl_metrics_hist_observe(struct gl_metrics_hist *h, double value);

/* Appends the histogram: "# HELP", "# TYPE name histogram", NAME_bucket
 * lines (cumulative), NAME_sum, NAME_count. 0 or GL_ETOOBIG/GL_ENOMEM
 * (out may then hold part of it). */
int gl_metrics_hist_render(const struct gl_metrics_hist *h, const char *name,
                           const char *help, struct gl_buf *out);

/* Appends "# HELP name help" and "# TYPE name type" (type "counter" or
 * "gauge"), for a family whose labelled samples the caller appends. */
int gl_metrics_family(struct gl_buf *out, const char *name, const char *type,
                      const char *help);

/* Appends the family header and the one sample "name value". */
int gl_metrics_value(struct gl_buf *out, const char *name, const char *type,
                     const char *help, double value);

/* Appends the HTTP server's counters as PREFIX_requests_total,
 * PREFIX_connections_* and PREFIX_responses_total{code="N"} (codes seen
 * at least once); prefix is e.g. "glasslog_http". */
int gl_metrics_http(struct gl_buf *out, const char *prefix,
                    const struct gl_http_stats *s);

/* The process's resident set size in bytes (/proc/self/statm times the
 * page size from sysconf), or 0 when unknown. */
uint64_t gl_metrics_rss_bytes(void);

#endif

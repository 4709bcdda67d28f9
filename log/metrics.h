/*
 * metrics: counters and fixed-bucket histograms for /metrics, rendered in
 * the Prometheus text format. Loop-thread only (the writer thread hands
 * its timings back with the batch result), so no locking.
 */
#ifndef GL_LOG_METRICS_H
#define GL_LOG_METRICS_H

#include <stdint.h>

#include "glasslog/buf.h"

#define HIST_BUCKETS 14

/* A histogram of durations in seconds (buckets from 0.5 ms to 10 s). */
struct hist {
    uint64_t counts[HIST_BUCKETS + 1]; /* last: +Inf */
    double sum;
    uint64_t n;
};

extern const double hist_bounds[HIST_BUCKETS];

void hist_observe(struct hist *h, double value);
/* Appends the histogram as Prometheus text: NAME_bucket{le=...}, _sum,
 * _count, after "# HELP" and "# TYPE" lines. */
int hist_render(const struct hist *h, const char *name, const char *help, struct gl_buf *out);
/* Appends "# HELP", "# TYPE" (counter or gauge) and the value line. */
int metrics_render_value(struct gl_buf *out, const char *name, const char *type,
                         const char *help, double value);
/* The process's resident set size in bytes (from /proc/self/statm), or 0. */
uint64_t metrics_rss_bytes(void);

#endif

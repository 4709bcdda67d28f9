/*
 * metrics: see metrics.h.
 */
#include "metrics.h"

#include <stdio.h>
#include <unistd.h>

const double hist_bounds[HIST_BUCKETS] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
                                          0.1,    0.2,   0.5,   1,     2,    5,    10};

void hist_observe(struct hist *h, double value)
{
    int i = 0;

    while (i < HIST_BUCKETS && value > hist_bounds[i])
        i++;
    h->counts[i]++;
    h->sum += value;
    h->n++;
}

int hist_render(const struct hist *h, const char *name, const char *help, struct gl_buf *out)
{
    uint64_t cum = 0;
    int rc = gl_buf_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);

    for (int i = 0; i < HIST_BUCKETS && rc == 0; i++) {
        cum += h->counts[i];
        rc = gl_buf_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name, hist_bounds[i],
                           (unsigned long long)cum);
    }
    if (rc == 0)
        rc = gl_buf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name,
                           (unsigned long long)h->n, name, h->sum, name,
                           (unsigned long long)h->n);
    return rc;
}

int metrics_render_value(struct gl_buf *out, const char *name, const char *type,
                         const char *help, double value)
{
    return gl_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type,
                         name, value);
}

uint64_t metrics_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long pages = 0, rss = 0;

    if (f == NULL)
        return 0;
    if (fscanf(f, "%llu %llu", &pages, &rss) != 2)
        rss = 0;
    fclose(f);
    return (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE);
}

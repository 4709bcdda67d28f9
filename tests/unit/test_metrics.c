/*
 * test_metrics: lib/net/metrics.c, the daemons' Prometheus renderer: the
 * exact text of a value, a family header, a histogram (cumulative
 * buckets, +Inf equal to _count, boundaries inclusive), the HTTP counters
 * under a prefix (only response codes seen), a refusal of a prefix too
 * long, and the RSS against /proc/self/status's VmRSS (an independent
 * source, in kB).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glasslog/buf.h"
#include "glasslog/error.h"
#include "metrics.h"

static void test_value_and_family(void **state)
{
    struct gl_buf b;
    (void)state;

    gl_buf_init(&b, 4096);
    assert_int_equal(gl_metrics_value(&b, "x_total", "counter", "Things.", 42), 0);
    assert_int_equal(gl_metrics_family(&b, "y", "gauge", "Why."), 0);
    assert_string_equal((char *)b.data, "# HELP x_total Things.\n# TYPE x_total counter\n"
                                        "x_total 42\n# HELP y Why.\n# TYPE y gauge\n");
    gl_buf_release(&b);
    gl_buf_init(&b, 10);
    assert_int_equal(gl_metrics_value(&b, "x", "gauge", "Too long for ten bytes.", 1),
                     GL_ETOOBIG);
    gl_buf_release(&b);
}

static void test_histogram(void **state)
{
    struct gl_metrics_hist h;
    struct gl_buf b;
    (void)state;

    memset(&h, 0, sizeof(h));
    gl_metrics_hist_observe(&h, 0.0005); /* on the first bound: first bucket */
    gl_metrics_hist_observe(&h, 0.003);  /* the 0.005 bucket */
    gl_metrics_hist_observe(&h, 10);     /* the last finite bucket */
    gl_metrics_hist_observe(&h, 11);     /* +Inf only */
    gl_buf_init(&b, 1 << 16);
    assert_int_equal(gl_metrics_hist_render(&h, "d_seconds", "D.", &b), 0);
    assert_non_null(strstr((char *)b.data,
                           "# HELP d_seconds D.\n# TYPE d_seconds histogram\n"
                           "d_seconds_bucket{le=\"0.0005\"} 1\n"
                           "d_seconds_bucket{le=\"0.001\"} 1\n"
                           "d_seconds_bucket{le=\"0.002\"} 1\n"
                           "d_seconds_bucket{le=\"0.005\"} 2\n"));
    assert_non_null(strstr((char *)b.data, "d_seconds_bucket{le=\"5\"} 2\n"
                                           "d_seconds_bucket{le=\"10\"} 3\n"
                                           "d_seconds_bucket{le=\"+Inf\"} 4\n"
                                           "d_seconds_sum 21.003500\n"
                                           "d_seconds_count 4\n"));
    gl_buf_release(&b);
}

/* A histogram of sizes has its own bounds: 1, 2, 4, ... 8192. */
static void test_histogram_of_counts(void **state)
{
    struct gl_metrics_hist h;
    struct gl_buf b;
    (void)state;

    memset(&h, 0, sizeof(h));
    h.of_counts = 1;
    gl_metrics_hist_observe(&h, 1);    /* the first bucket */
    gl_metrics_hist_observe(&h, 67);   /* the 128 bucket */
    gl_metrics_hist_observe(&h, 8193); /* +Inf only */
    gl_buf_init(&b, 1 << 16);
    assert_int_equal(gl_metrics_hist_render(&h, "n", "N.", &b), 0);
    assert_non_null(strstr((char *)b.data, "n_bucket{le=\"1\"} 1\n"
                                           "n_bucket{le=\"2\"} 1\n"));
    assert_non_null(strstr((char *)b.data, "n_bucket{le=\"64\"} 1\n"
                                           "n_bucket{le=\"128\"} 2\n"));
    assert_non_null(strstr((char *)b.data, "n_bucket{le=\"8192\"} 2\n"
                                           "n_bucket{le=\"+Inf\"} 3\n"
                                           "n_sum 8261.000000\n"));
    gl_buf_release(&b);
}

static void test_http(void **state)
{
    struct gl_http_stats s;
    struct gl_buf b;
    char name[200];
    (void)state;

    memset(&s, 0, sizeof(s));
    s.requests = 7;
    s.conns_active = 2;
    s.conns_big_head = 3;
    s.by_code[422 - GL_HTTP_STAT_MIN] = 5;
    gl_buf_init(&b, 1 << 16);
    assert_int_equal(gl_metrics_http(&b, "p_http", &s), 0);
    assert_non_null(strstr((char *)b.data, "# TYPE p_http_requests_total counter\n"
                                           "p_http_requests_total 7\n"));
    assert_non_null(strstr((char *)b.data, "p_http_connections_open 2\n"));
    assert_non_null(strstr((char *)b.data, "p_http_connections_stalled_total 0\n"));
    assert_non_null(
        strstr((char *)b.data, "p_http_connections_head_too_large_total 3\n"));
    snprintf(name, sizeof(name), "p_http_responses_total{code=\"%d\"} 5\n", 422);
    assert_non_null(strstr((char *)b.data, name));
    /* one responses line: the codes never seen are left out */
    {
        const char *p = (const char *)b.data;
        int n = 0;
        while ((p = strstr(p, "_responses_total{")) != NULL && ++n)
            p++;
        assert_int_equal(n, 1);
    }
    gl_buf_reset(&b);
    memset(name, 'p', 150);
    name[150] = 0;
    assert_int_equal(gl_metrics_http(&b, name, &s), GL_EINVAL);
    gl_buf_release(&b);
}

static void test_rss(void **state)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long kb = 0;
    uint64_t rss = gl_metrics_rss_bytes();
    (void)state;

    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "VmRSS: %llu kB", &kb) == 1)
            break;
    fclose(f);
    assert_true(kb > 0);
    /* the two reads are moments apart: within 25% of each other */
    assert_true(rss > kb * 1024 * 3 / 4 && rss < kb * 1024 * 5 / 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_value_and_family),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_histogram_of_counts),
        cmocka_unit_test(test_http),
        cmocka_unit_test(test_rss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

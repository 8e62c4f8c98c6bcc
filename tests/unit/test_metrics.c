/* metrics: the registry counts what it is told, keeps label sets bounded,
 * and renders Prometheus text that parses back: every line is a # HELP, a
 * # TYPE or a sample of the exposition grammar, every sample belongs to a
 * family whose TYPE came first, histograms are cumulative with +Inf equal
 * to _count. The health endpoint's /metrics is scraped over a real socket
 * and checked the same way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <dpf/health.h>
#include <dpf/metrics.h>

#define BUF_MAX (512 * 1024)

/* Checks text against the exposition format; returns the number of
 * samples. Fails the test naming the first bad line. */
static int parse_exposition(const char *text)
{
    regex_t help, type, sample;
    assert_int_equal(regcomp(&help, "^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* [^\n]*$", REG_EXTENDED), 0);
    assert_int_equal(regcomp(&type,
                             "^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) "
                             "(counter|gauge|histogram|summary|untyped)$",
                             REG_EXTENDED), 0);
    assert_int_equal(regcomp(&sample,
                             "^([a-zA-Z_:][a-zA-Z0-9_:]*)"
                             "(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\""
                             "(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\")*\\})? "
                             "([-+]?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?|NaN|[-+]Inf)$",
                             REG_EXTENDED), 0);
    char typed[64][96]; /* family names whose # TYPE was seen */
    char types[64][16];
    int ntyped = 0, nsamples = 0;
    char *copy = strdup(text);
    char *save = NULL;
    assert_true(strlen(text) == 0 || text[strlen(text) - 1] == '\n');
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        regmatch_t m[3];
        if (strncmp(line, "# HELP ", 7) == 0) {
            if (regexec(&help, line, 0, NULL, 0) != 0)
                fail_msg("bad HELP line: %s", line);
            continue;
        }
        if (strncmp(line, "# TYPE ", 7) == 0) {
            if (regexec(&type, line, 3, m, 0) != 0)
                fail_msg("bad TYPE line: %s", line);
            assert_true(ntyped < 64);
            snprintf(typed[ntyped], sizeof typed[0], "%.*s", (int)(m[1].rm_eo - m[1].rm_so),
                     line + m[1].rm_so);
            snprintf(types[ntyped], sizeof types[0], "%.*s", (int)(m[2].rm_eo - m[2].rm_so),
                     line + m[2].rm_so);
            for (int i = 0; i < ntyped; i++)
                if (strcmp(typed[i], typed[ntyped]) == 0)
                    fail_msg("family %s typed twice", typed[i]);
            ntyped++;
            continue;
        }
        if (regexec(&sample, line, 2, m, 0) != 0)
            fail_msg("line is not a sample of the exposition format: '%s'", line);
        char name[96];
        snprintf(name, sizeof name, "%.*s", (int)(m[1].rm_eo - m[1].rm_so), line + m[1].rm_so);
        int found = 0;
        for (int i = 0; i < ntyped && !found; i++) {
            size_t fl = strlen(typed[i]);
            if (strcmp(name, typed[i]) == 0)
                found = 1;
            else if (strcmp(types[i], "histogram") == 0 && strncmp(name, typed[i], fl) == 0 &&
                     (strcmp(name + fl, "_bucket") == 0 || strcmp(name + fl, "_sum") == 0 ||
                      strcmp(name + fl, "_count") == 0))
                found = 1;
            if (found && strcmp(types[i], "counter") == 0 &&
                (strlen(name) < 6 || strcmp(name + strlen(name) - 6, "_total") != 0))
                fail_msg("counter %s does not end in _total", name);
        }
        if (!found)
            fail_msg("sample %s comes before its # TYPE line", name);
        nsamples++;
    }
    free(copy);
    regfree(&help);
    regfree(&type);
    regfree(&sample);
    return nsamples;
}

static char *render(void)
{
    char *buf = malloc(BUF_MAX);
    assert_non_null(buf);
    size_t n = dpf_metrics_render(buf, BUF_MAX);
    assert_int_equal(n, strlen(buf));
    return buf;
}

static int setup(void **state)
{
    (void)state;
    dpf_metrics_reset();
    return 0;
}

static void test_counters(void **state)
{
    (void)state;
    dpf_metrics_inc(DPF_M_DP_INSTALLS, "ok", NULL, NULL);
    dpf_metrics_inc(DPF_M_DP_INSTALLS, "ok", NULL, NULL);
    dpf_metrics_add(DPF_M_DP_INSTALLS, "failed", NULL, NULL, 3);
    dpf_metrics_add(DPF_M_DP_INSTALLS, "ok", NULL, NULL, -5); /* counters never go down */
    dpf_metrics_touch(DPF_M_DP_REMOVALS, "ok", NULL, NULL);
    assert_true(dpf_metrics_value(DPF_M_DP_INSTALLS, "ok", NULL, NULL) == 2);
    assert_true(dpf_metrics_value(DPF_M_DP_INSTALLS, "failed", NULL, NULL) == 3);
    assert_true(dpf_metrics_value(DPF_M_DP_REMOVALS, "ok", NULL, NULL) == 0);
    assert_true(dpf_metrics_value(DPF_M_DP_REMOVALS, "failed", NULL, NULL) == 0);
    /* a histogram id through inc: no counter value appears */
    dpf_metrics_inc(DPF_M_HMAN_CHANGE_SECONDS, "ok", NULL, NULL);
    assert_true(dpf_metrics_value(DPF_M_HMAN_CHANGE_SECONDS, "ok", NULL, NULL) == 0);

    char *out = render();
    assert_non_null(strstr(out, "# TYPE dpfleet_dp_installs_total counter\n"));
    assert_non_null(strstr(out, "dpfleet_dp_installs_total{result=\"ok\"} 2\n"));
    assert_non_null(strstr(out, "dpfleet_dp_installs_total{result=\"failed\"} 3\n"));
    assert_non_null(strstr(out, "dpfleet_dp_removals_total{result=\"ok\"} 0\n"));
    /* families never counted are not rendered */
    assert_null(strstr(out, "dpfleet_http_requests_total"));
    /* 2 + 1 counter samples, the histogram touched by inc: 13 buckets, _sum, _count */
    assert_int_equal(parse_exposition(out), 2 + 1 + 15);
    free(out);
}

static void test_subject_family(void **state)
{
    (void)state;
    dpf_metrics_event(DPF_M_EVENTS_RECEIVED, "dp.ins.42", NULL);
    dpf_metrics_event(DPF_M_EVENTS_RECEIVED, "dp.ins.43", NULL);
    dpf_metrics_event(DPF_M_EVENTS_RECEIVED, "sitecontrol.changed.PS1", NULL);
    dpf_metrics_event(DPF_M_HANDLER_ERRORS, "dp.dpn.7", "nak");
    dpf_metrics_event(DPF_M_EVENTS_RECEIVED, "single", NULL);
    assert_true(dpf_metrics_value(DPF_M_EVENTS_RECEIVED, "dp.ins", NULL, NULL) == 2);
    assert_true(dpf_metrics_value(DPF_M_EVENTS_RECEIVED, "sitecontrol.changed", NULL, NULL) == 1);
    assert_true(dpf_metrics_value(DPF_M_EVENTS_RECEIVED, "single", NULL, NULL) == 1);
    assert_true(dpf_metrics_value(DPF_M_HANDLER_ERRORS, "dp.dpn", "nak", NULL) == 1);
    char *out = render();
    assert_non_null(strstr(out, "dpfleet_handler_errors_total{subject=\"dp.dpn\",action=\"nak\"} 1\n"));
    assert_null(strstr(out, "dp.ins.42")); /* no per-DP series */
    parse_exposition(out);
    free(out);
}

static void test_labels_stay_valid_and_bounded(void **state)
{
    (void)state;
    /* hostile values: quotes, backslashes, newlines, braces in a route */
    dpf_metrics_inc(DPF_M_HTTP_REQUESTS, "GET", "/v1/x\"} 1\nevil 2", "200");
    dpf_metrics_inc(DPF_M_HTTP_REQUESTS, "GET", "/v1/distributionpoints/{serverName}", "404");
    dpf_metrics_inc(DPF_M_HTTP_REQUESTS, NULL, "a\\b", NULL);
    for (int i = 0; i < 3 * DPF_METRICS_MAX_SERIES; i++) {
        char step[32];
        snprintf(step, sizeof step, "step%d", i);
        dpf_metrics_inc(DPF_M_AGENT_STEPS, step, "ok", NULL);
    }
    assert_true(dpf_metrics_value(DPF_M_AGENT_STEPS, "step0", "ok", NULL) == 1);
    /* the last slot counts every label set past the limit */
    assert_true(dpf_metrics_value(DPF_M_AGENT_STEPS, "other", "other", NULL) ==
                3 * DPF_METRICS_MAX_SERIES - (DPF_METRICS_MAX_SERIES - 1));
    char *out = render();
    assert_null(strstr(out, "\nevil"));
    assert_non_null(strstr(out, "route=\"/v1/distributionpoints/{serverName}\",code=\"404\"} 1\n"));
    int steps = 0;
    for (const char *p = out; (p = strstr(p, "\ndpfleet_agent_steps_total{")) != NULL; p++)
        steps++;
    assert_int_equal(steps, DPF_METRICS_MAX_SERIES);
    parse_exposition(out);
    free(out);
}

static void test_histogram(void **state)
{
    (void)state;
    dpf_metrics_observe(DPF_M_HTTP_SECONDS, "GET", "/healthz", NULL, 0.001);
    dpf_metrics_observe(DPF_M_HTTP_SECONDS, "GET", "/healthz", NULL, 0.01); /* le is inclusive */
    dpf_metrics_observe(DPF_M_HTTP_SECONDS, "GET", "/healthz", NULL, 0.3);
    dpf_metrics_observe(DPF_M_HTTP_SECONDS, "GET", "/healthz", NULL, 99);
    assert_true(dpf_metrics_value(DPF_M_HTTP_SECONDS, "GET", "/healthz", NULL) == 4);
    char *out = render();
    const char *pre = "dpfleet_http_request_duration_seconds";
    char want[256];
    snprintf(want, sizeof want, "%s_bucket{method=\"GET\",route=\"/healthz\",le=\"0.005\"} 1\n", pre);
    assert_non_null(strstr(out, want));
    snprintf(want, sizeof want, "%s_bucket{method=\"GET\",route=\"/healthz\",le=\"0.01\"} 2\n", pre);
    assert_non_null(strstr(out, want));
    snprintf(want, sizeof want, "%s_bucket{method=\"GET\",route=\"/healthz\",le=\"0.25\"} 2\n", pre);
    assert_non_null(strstr(out, want));
    snprintf(want, sizeof want, "%s_bucket{method=\"GET\",route=\"/healthz\",le=\"10\"} 3\n", pre);
    assert_non_null(strstr(out, want));
    snprintf(want, sizeof want, "%s_bucket{method=\"GET\",route=\"/healthz\",le=\"+Inf\"} 4\n", pre);
    assert_non_null(strstr(out, want));
    snprintf(want, sizeof want, "%s_count{method=\"GET\",route=\"/healthz\"} 4\n", pre);
    assert_non_null(strstr(out, want));
    snprintf(want, sizeof want, "%s_sum{method=\"GET\",route=\"/healthz\"} 99.311", pre);
    assert_non_null(strstr(out, want));
    assert_non_null(strstr(out, "# TYPE dpfleet_http_request_duration_seconds histogram\n"));
    /* buckets never decrease */
    unsigned long long last = 0;
    for (const char *p = out; (p = strstr(p, "_bucket{")) != NULL; p++) {
        const char *sp = strchr(p, '}');
        unsigned long long v = strtoull(sp + 2, NULL, 10);
        assert_true(v >= last);
        last = v;
    }
    parse_exposition(out);
    free(out);
}

static void test_small_buffer_keeps_whole_lines(void **state)
{
    (void)state;
    dpf_metrics_inc(DPF_M_DP_INSTALLS, "ok", NULL, NULL);
    dpf_metrics_observe(DPF_M_HMAN_CHANGE_SECONDS, "ok", NULL, NULL, 1.5);
    char buf[300];
    size_t n = dpf_metrics_render(buf, sizeof buf);
    assert_true(n < sizeof buf);
    assert_int_equal(n, strlen(buf));
    assert_true(n > 0 && buf[n - 1] == '\n');
    parse_exposition(buf);
    assert_int_equal(dpf_metrics_render(buf, 0), 0);
}

#define THREADS 4
#define PER_THREAD 20000
static void *counter_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < PER_THREAD; i++) {
        dpf_metrics_event(DPF_M_EVENTS_ACKED, "dp.ins.1", NULL);
        dpf_metrics_observe(DPF_M_HMAN_CHANGE_SECONDS, "ok", NULL, NULL, 0.02);
    }
    return NULL;
}

static void test_threads_lose_nothing(void **state)
{
    (void)state;
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, counter_thread, NULL), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    assert_true(dpf_metrics_value(DPF_M_EVENTS_ACKED, "dp.ins", NULL, NULL) ==
                THREADS * PER_THREAD);
    assert_true(dpf_metrics_value(DPF_M_HMAN_CHANGE_SECONDS, "ok", NULL, NULL) ==
                THREADS * PER_THREAD);
}

/* GET path from the health server on 127.0.0.1:port; the whole answer. */
static char *http_get(int port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    char req[128];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: x\r\n\r\n", path);
    assert_int_equal(write(fd, req, (size_t)n), n);
    size_t cap = BUF_MAX, len = 0;
    char *buf = malloc(cap + 1);
    ssize_t r;
    while ((r = read(fd, buf + len, cap - len)) > 0)
        len += (size_t)r;
    buf[len] = '\0';
    close(fd);
    return buf;
}

static void pool_series(void *arg, dpf_health_out *out)
{
    (void)arg;
    dpf_health_metric_family(out, "dpfleet_test_threads_busy", "gauge", "Test gauge.");
    dpf_health_metric(out, "dpfleet_test_threads_busy", "pool=\"install\"", 3);
}

static void test_health_metrics_endpoint(void **state)
{
    (void)state;
    dpf_health *h = NULL;
    assert_int_equal(dpf_health_start("127.0.0.1:0", "unit", &h), DPF_OK);
    assert_non_null(h);
    dpf_health_set_metrics(h, pool_series, NULL);
    dpf_metrics_inc(DPF_M_DP_INSTALLS, "ok", NULL, NULL);
    dpf_health_set_started(h);
    char *resp = http_get(dpf_health_port(h), "/metrics");
    assert_non_null(strstr(resp, "HTTP/1.0 200") ? resp : strstr(resp, "HTTP/1.1 200"));
    assert_non_null(strstr(resp, "text/plain; version=0.0.4"));
    char *body = strstr(resp, "\r\n\r\n");
    assert_non_null(body);
    body += 4;
    assert_non_null(strstr(body, "dpfleet_up{service=\"unit\"} 1\n"));
    assert_non_null(strstr(body, "dpfleet_ready{service=\"unit\"} 1\n"));
    assert_non_null(strstr(body, "dpfleet_test_threads_busy{pool=\"install\"} 3\n"));
    assert_non_null(strstr(body, "dpfleet_dp_installs_total{result=\"ok\"} 1\n"));
    assert_true(parse_exposition(body) >= 5);
    free(resp);

    /* a drain: /readyz says so, /healthz still answers */
    dpf_health_set_stopping(h);
    resp = http_get(dpf_health_port(h), "/readyz");
    assert_non_null(strstr(resp, " 503 "));
    assert_non_null(strstr(resp, "\"stopping\":true"));
    free(resp);
    resp = http_get(dpf_health_port(h), "/healthz");
    assert_non_null(strstr(resp, " 200 "));
    free(resp);
    dpf_health_stop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_counters, setup),
        cmocka_unit_test_setup(test_subject_family, setup),
        cmocka_unit_test_setup(test_labels_stay_valid_and_bounded, setup),
        cmocka_unit_test_setup(test_histogram, setup),
        cmocka_unit_test_setup(test_small_buffer_keeps_whole_lines, setup),
        cmocka_unit_test_setup(test_threads_lose_nothing, setup),
        cmocka_unit_test_setup(test_health_metrics_endpoint, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

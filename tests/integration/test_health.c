/* The health endpoints (lib/src/health.c) over real HTTP (libcurl), with
 * the ready-made checks against the real PostgreSQL and nats-server that
 * scripts/test starts: what a Kubernetes probe and an operator with curl see. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "dpf/bus.h"
#include "dpf/health.h"
#include "dpf_capture.h"
#include "dpf_test.h"

typedef struct {
    char body[65536];
    size_t len;
} resp;

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    resp *r = ud;
    size_t k = sz * n;
    if (r->len + k >= sizeof r->body)
        k = sizeof r->body - r->len - 1;
    memcpy(r->body + r->len, p, k);
    r->len += k;
    r->body[r->len] = '\0';
    return sz * n;
}

/* GET (or another method) http://127.0.0.1:port/path -> status, body in *r */
static long get(int port, const char *method, const char *path, resp *r)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    memset(r, 0, sizeof *r);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    return status;
}

static int flag_ok = 1;

static int flag_check(void *arg, char *why, size_t len)
{
    (void)arg;
    if (!flag_ok)
        snprintf(why, len, "the test said \"no\"");
    return flag_ok;
}

static void metrics(void *arg, dpf_health_out *out)
{
    dpf_health_metric(out, "dpfleet_test_items", "queue=\"install\"", *(int *)arg);
}

static void test_endpoints_and_transitions(void **state)
{
    (void)state;
    dpf_health *h = NULL;
    assert_int_equal(dpf_health_start("127.0.0.1:0", "testsvc", &h), DPF_OK);
    assert_non_null(h);
    int port = dpf_health_port(h);
    assert_true(port > 0);
    int items = 7;
    flag_ok = 1;
    assert_int_equal(dpf_health_add_check(h, "flag", flag_check, NULL), DPF_OK);
    dpf_health_set_metrics(h, metrics, &items);

    /* alive at once, ready only once the service says it has started */
    resp r;
    assert_int_equal(get(port, "GET", "/healthz", &r), 200);
    assert_string_equal(r.body, "ok\n");
    assert_int_equal(get(port, "GET", "/readyz", &r), 503);
    assert_non_null(strstr(r.body, "\"started\":false"));
    dpf_health_set_started(h);
    assert_int_equal(get(port, "GET", "/readyz", &r), 200);
    assert_non_null(strstr(r.body, "\"ready\":true"));
    assert_non_null(strstr(r.body, "\"flag\":\"ok\""));

    /* the check starts failing: /readyz says why (valid JSON despite the
     * quotes in the reason) once the cached second is over, and the log
     * says it once, whatever the number of probes */
    flag_ok = 0;
    usleep(1100 * 1000);
    dpf_capture_begin();
    long s1 = get(port, "GET", "/readyz", &r);
    resp r2;
    long s2 = get(port, "GET", "/readyz", &r2);
    char *log = dpf_capture_end();
    assert_int_equal(s1, 503);
    assert_int_equal(s2, 503);
    assert_non_null(strstr(r.body, "\"ready\":false"));
    /* the reason as the check gave it, quotes and all, in valid JSON */
    json_error_t jerr;
    json_t *body = json_loads(r.body, 0, &jerr);
    assert_non_null(body);
    assert_string_equal(json_string_value(json_object_get(json_object_get(body, "checks"),
                                                          "flag")),
                        "the test said \"no\"");
    assert_true(json_is_false(json_object_get(body, "ready")));
    json_decref(body);
    assert_non_null(strstr(log, "Not ready"));
    assert_null(strstr(strstr(log, "Not ready") + 1, "Not ready"));
    free(log);
    assert_int_equal(get(port, "GET", "/metrics", &r), 200);
    assert_non_null(strstr(r.body, "dpfleet_ready{service=\"testsvc\"} 0\n"));
    assert_non_null(strstr(r.body, "dpfleet_up{service=\"testsvc\"} 1\n"));
    assert_non_null(strstr(r.body, "dpfleet_test_items{queue=\"install\"} 7\n"));

    flag_ok = 1;
    usleep(1100 * 1000);
    dpf_capture_begin();
    assert_int_equal(get(port, "GET", "/readyz", &r), 200);
    log = dpf_capture_end();
    assert_non_null(strstr(log, "Ready again"));
    free(log);

    assert_int_equal(get(port, "GET", "/nothing", &r), 404);
    assert_int_equal(get(port, "POST", "/readyz", &r), 405);
    dpf_health_stop(h);
}

static void test_real_servers(void **state)
{
    (void)state;
    const char *pg = dpf_test_env("DPF_TEST_PG_URL");
    const char *nats = dpf_test_env("NATS_URL");
    dpf_bus *bus = NULL;
    assert_int_equal(dpf_bus_connect(nats, "test_health", &bus), DPF_OK);
    dpf_health *h = NULL;
    assert_int_equal(dpf_health_start("127.0.0.1:0", "testsvc", &h), DPF_OK);
    assert_int_equal(dpf_health_add_db_check(h, pg), DPF_OK);
    assert_int_equal(dpf_health_add_bus_check(h, bus), DPF_OK);
    dpf_health_set_started(h);
    resp r;
    assert_int_equal(get(dpf_health_port(h), "GET", "/readyz", &r), 200);
    assert_non_null(strstr(r.body, "\"database\":\"ok\""));
    assert_non_null(strstr(r.body, "\"nats\":\"ok\""));
    dpf_health_stop(h);

    /* a database nobody listens on: not ready, and it says which part */
    h = NULL;
    assert_int_equal(dpf_health_start("127.0.0.1:0", "testsvc", &h), DPF_OK);
    assert_int_equal(dpf_health_add_db_check(h, "postgresql://127.0.0.1:1/none?connect_timeout=2"),
                     DPF_OK);
    dpf_health_set_started(h);
    dpf_capture_begin();
    long s = get(dpf_health_port(h), "GET", "/readyz", &r);
    free(dpf_capture_end());
    assert_int_equal(s, 503);
    assert_non_null(strstr(r.body, "\"database\":\"cannot connect to PostgreSQL\""));
    dpf_health_stop(h);
    dpf_bus_destroy(bus);
}

static void test_off_and_bad_address(void **state)
{
    (void)state;
    dpf_health *h = (dpf_health *)1;
    assert_int_equal(dpf_health_start("", "testsvc", &h), DPF_OK);
    assert_null(h);
    assert_int_equal(dpf_health_port(NULL), 0);
    dpf_capture_begin();
    dpf_status st = dpf_health_start("no-port-here", "testsvc", &h);
    char *log = dpf_capture_end();
    assert_int_equal(st, DPF_ERR_INVALID);
    assert_non_null(strstr(log, "no-port-here"));
    free(log);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoints_and_transitions),
        cmocka_unit_test(test_real_servers),
        cmocka_unit_test(test_off_and_bad_address),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}

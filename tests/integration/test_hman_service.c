/* The real hman service, in-process, against PostgreSQL and nats-server:
 * garbage on sitecontrol.changed is terminated and reported (9901) and the
 * service goes on; a valid change is processed, acked and reported (3306)
 * with its correlation id; a failing change is reported (3307 naming the
 * DP), rolled back and retried after HmanRetryDelaySeconds until it goes
 * through; an unknown site is reported and not retried. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <nats/nats.h>

#include <dpf/dp.h>
#include <dpf/log.h>
#include <dpf/sitecontrol.h>
#include <dpf/util.h>
#include "dpf_test.h"
#include "dpfleet.pb-c.h"
#include "hman.h"
#include "service.h"

static char g_url[1024];
static char g_site[8];
static char g_subject[64];
static char g_durable[64];
static dpf_db *g_db;
static dpf_bus *g_bus;
static hman_service *g_svc;
static natsConnection *g_nc;
static jsCtx *g_js;

static void sql(const char *q, int n, const char *const *p)
{
    dpf_test_sql(g_db, q, n, p);
}

static long long num(const char *q, int n, const char *const *p)
{
    return dpf_test_num(g_db, q, n, p);
}

/* Polls q until it returns want or timeout_ms passes; returns the last value. */
static long long wait_num(const char *q, int n, const char *const *p, long long want,
                          int timeout_ms)
{
    long long v = -1;
    for (int waited = 0; waited <= timeout_ms; waited += 100) {
        v = num(q, n, p);
        if (v == want)
            break;
        usleep(100 * 1000);
    }
    return v;
}

static void purge_subject(void)
{
    jsOptions o;
    jsOptions_Init(&o);
    o.Stream.Purge.Subject = g_subject;
    jsErrCode jerr = 0;
    js_PurgeStream(g_js, DPF_STREAM_EVENTS, &o, &jerr);
}

static int setup(void **state)
{
    dpf_log_init(DPF_COMP_HMAN);
    snprintf(g_site, sizeof g_site, "T%02d", (int)(getpid() % 100));
    snprintf(g_subject, sizeof g_subject, "sitecontrol.changed.%s", g_site);
    snprintf(g_durable, sizeof g_durable, "hman_test_%d", (int)getpid());
    const char *nats_url = dpf_test_env("NATS_URL");
    if (nats_url == NULL || dpf_test_db_create("hman_service", g_url, sizeof g_url) != 0)
        return -1;
    if (dpf_db_connect(g_url, &g_db) != DPF_OK)
        return -1;
    const char *p[] = {g_site};
    sql("INSERT INTO sites (site_code, site_name, server_name) "
        "VALUES ($1, 'Test Site ' || $1, 'TESTSITE.CONTOSO.COM')", 1, p);
    sql("INSERT INTO site_control (site_code) VALUES ($1)", 1, p);

    if (dpf_bus_connect(nats_url, "test_hman_service", &g_bus) != DPF_OK ||
        dpf_bus_ensure_streams(g_bus) != DPF_OK)
        return -1;
    if (dpf_test_nats_connect(nats_url, &g_nc) != 0 ||
        natsConnection_JetStream(&g_js, g_nc, NULL) != NATS_OK)
        return -1;
    purge_subject();

    static hman_config cfg;
    cfg = (hman_config){
        .db_url = g_url, .nats_url = nats_url, .subject = g_subject, .durable = g_durable,
        .site = "PS1", .retry_delay_s = 1, .ack_wait_s = 5, .max_deliver = 10,
        .max_ack_pending = 4,
    };
    return hman_service_create(&cfg, &g_svc) == DPF_OK ? 0 : -1;
}

static int teardown(void **state)
{
    hman_service_destroy(g_svc);
    jsErrCode jerr = 0;
    if (g_js != NULL) {
        js_DeleteConsumer(g_js, DPF_STREAM_EVENTS, g_durable, NULL, &jerr);
        purge_subject();
    }
    jsCtx_Destroy(g_js);
    natsConnection_Destroy(g_nc);
    dpf_bus_destroy(g_bus);
    dpf_db_destroy(g_db);
    dpf_test_db_drop("hman_service");
    return 0;
}

static void publish_change(const char *site, long long change_id, const char *corr)
{
    Dpf__SiteControlChanged m = DPF__SITE_CONTROL_CHANGED__INIT;
    m.site_code = (char *)site;
    m.change_id = change_id;
    uint8_t buf[64];
    size_t n = dpf__site_control_changed__pack(&m, buf);
    assert_int_equal(dpf_bus_publish(g_bus, g_subject, buf, n, NULL, corr), DPF_OK);
}

static void add_dp(const char *server, const char *description)
{
    char nal[DPF_NAL_MAX + 1];
    assert_int_equal(dpf_nal_path(server, g_site, nal, sizeof nal), DPF_OK);
    const char *p[] = {g_site, DPF_ROLE_DP, nal, server, DPF_PROP_DESCRIPTION, description};
    sql("WITH r AS (INSERT INTO site_system_roles (site_code, role_name, nal_path, server_name) "
        "VALUES ($1, $2, $3, $4) RETURNING id) "
        "INSERT INTO site_system_role_props (role_id, name, value1) SELECT id, $5, $6 FROM r",
        6, p);
}

static void consumer_counts(long long *ack_pending, long long *redelivered)
{
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    assert_int_equal(js_GetConsumerInfo(&ci, g_js, DPF_STREAM_EVENTS, g_durable, NULL, &jerr),
                     NATS_OK);
    *ack_pending = (long long)ci->NumAckPending;
    *redelivered = (long long)ci->NumRedelivered;
    jsConsumerInfo_Destroy(ci);
}

static void test_garbage_then_valid_change(void **state)
{
    const char *ps[] = {g_subject};
    /* garbage: logged, terminated, 9901 naming the subject */
    const char garbage[] = "not a protobuf at all";
    assert_int_equal(dpf_bus_publish(g_bus, g_subject, garbage, sizeof garbage - 1, NULL,
                                     "corr-garbage"), DPF_OK);
    assert_int_equal(wait_num("SELECT count(*) FROM status_messages WHERE msg_id = 9901 AND "
                              "istr[1] = $1 AND correlation_id = 'corr-garbage'", 1, ps, 1, 10000),
                     1);
    /* decodes, but names no valid site: the same */
    publish_change("", 1, "corr-empty");
    assert_int_equal(wait_num("SELECT count(*) FROM status_messages WHERE msg_id = 9901 AND "
                              "istr[1] = $1 AND istr[2] LIKE '%is not valid%'", 1, ps, 1, 10000),
                     1);

    /* the service goes on: a real change is processed, 3306, acked */
    add_dp("TESTDP1.CONTOSO.COM", "first");
    publish_change(g_site, 77, "corr-valid");
    char path[96];
    snprintf(path, sizeof path, "%s [77]", g_subject);
    const char *p3[] = {path, g_site};
    assert_int_equal(wait_num("SELECT count(*) FROM status_messages WHERE msg_id = 3306 AND "
                              "istr[1] = $1 AND istr[2] = 'Test Site ' || $2 AND istr[3] = $2 "
                              "AND site_code = $2 AND correlation_id = 'corr-valid'", 2, p3, 1,
                              10000), 1);
    assert_int_equal(num("SELECT count(*) FROM distribution_points", 0, NULL), 1);
    assert_int_equal(num("SELECT count(*) FROM outbox WHERE subject LIKE 'dp.ins.%' AND "
                         "correlation_id = 'corr-valid'", 0, NULL), 1);

    /* nothing left unacknowledged, nothing redelivered */
    long long pending = -1, redelivered = -1;
    for (int i = 0; i < 50; i++) {
        consumer_counts(&pending, &redelivered);
        if (pending == 0)
            break;
        usleep(100 * 1000);
    }
    assert_int_equal(pending, 0);
    assert_int_equal(redelivered, 0);
    assert_int_equal(num("SELECT count(*) FROM status_messages WHERE msg_id = 9901", 0, NULL), 2);
}

static void test_failure_is_reported_and_retried(void **state)
{
    add_dp("TESTDP1.CONTOSO.COM", "good");
    add_dp("TESTDP2.CONTOSO.COM", "boom");
    sql("ALTER TABLE distribution_points ADD CONSTRAINT no_boom CHECK (description <> 'boom')",
        0, NULL);
    publish_change(g_site, 78, "corr-fail");

    char path[96], nal[DPF_NAL_MAX + 1];
    snprintf(path, sizeof path, "%s [78]", g_subject);
    assert_int_equal(dpf_nal_path("TESTDP2.CONTOSO.COM", g_site, nal, sizeof nal), DPF_OK);
    const char *p[] = {path, g_site, nal};
    /* 3307 names the change, the site, the failing DP and the reason */
    assert_true(wait_num("SELECT count(*) > 0 FROM status_messages WHERE msg_id = 3307 AND "
                         "istr[1] = $1 AND istr[2] = $2 AND istr[3] = $3 AND "
                         "istr[4] LIKE '%no_boom%' AND attrs::text LIKE '%404%'", 3, p, 1,
                         10000) == 1);
    /* rolled back whole: not even the good DP is in */
    assert_int_equal(num("SELECT count(*) FROM distribution_points", 0, NULL), 0);

    /* the cause goes away; the retry (1 s) processes the same change */
    sql("ALTER TABLE distribution_points DROP CONSTRAINT no_boom", 0, NULL);
    assert_int_equal(wait_num("SELECT count(*) FROM status_messages WHERE msg_id = 3306 AND "
                              "istr[1] = $1", 1, p, 1, 15000), 1);
    assert_int_equal(num("SELECT count(*) FROM distribution_points", 0, NULL), 2);
    long long pending = -1, redelivered = -1;
    for (int i = 0; i < 50; i++) {
        consumer_counts(&pending, &redelivered);
        if (pending == 0)
            break;
        usleep(100 * 1000);
    }
    assert_int_equal(pending, 0);
    /* it was the same message, delivered again: no second 3306 follows */
    sleep(2);
    assert_int_equal(num("SELECT count(*) FROM status_messages WHERE msg_id = 3306", 0, NULL), 1);
}

static void test_unknown_site_not_retried(void **state)
{
    publish_change("ZZ8", 79, "corr-unknown");
    assert_int_equal(wait_num("SELECT count(*) FROM status_messages WHERE msg_id = 3307 AND "
                              "site_code = 'ZZ8' AND istr[4] LIKE '%not in the sites table%'",
                              0, NULL, 1, 10000), 1);
    /* terminated, so no second report after the retry delay */
    sleep(2);
    assert_int_equal(num("SELECT count(*) FROM status_messages WHERE msg_id = 3307", 0, NULL), 1);
    long long pending = -1, redelivered = -1;
    consumer_counts(&pending, &redelivered);
    assert_int_equal(pending, 0);
}

/* The service started with HmanSetAsideFailedDPs: the failing DP gets a
 * 3308 naming it, the good one is inserted, the change is acknowledged with
 * its 3306 (no 3307, no retry). */
static void test_set_aside_setting(void **state)
{
    hman_service_destroy(g_svc);
    g_svc = NULL;
    static hman_config cfg;
    cfg = (hman_config){
        .db_url = g_url, .nats_url = dpf_test_env("NATS_URL"), .subject = g_subject,
        .durable = g_durable, .site = "PS1", .retry_delay_s = 1, .ack_wait_s = 5,
        .max_deliver = 10, .max_ack_pending = 4, .set_aside_failed = 1,
    };
    assert_int_equal(hman_service_create(&cfg, &g_svc), DPF_OK);
    add_dp("TESTDP1.CONTOSO.COM", "good");
    add_dp("TESTDP2.CONTOSO.COM", "boom");
    sql("ALTER TABLE distribution_points ADD CONSTRAINT no_boom CHECK (description <> 'boom')",
        0, NULL);
    publish_change(g_site, 81, "corr-aside");

    char path[96], nal[DPF_NAL_MAX + 1];
    snprintf(path, sizeof path, "%s [81]", g_subject);
    assert_int_equal(dpf_nal_path("TESTDP2.CONTOSO.COM", g_site, nal, sizeof nal), DPF_OK);
    const char *p[] = {path, g_site, nal};
    assert_int_equal(wait_num("SELECT count(*) FROM status_messages WHERE msg_id = 3306 AND "
                              "istr[1] = $1", 1, p, 1, 10000), 1);
    assert_int_equal(num("SELECT count(*) FROM status_messages WHERE msg_id = 3308 AND "
                         "istr[1] = $1 AND istr[2] = $2 AND istr[3] = $3 AND "
                         "istr[4] LIKE '%no_boom%' AND correlation_id = 'corr-aside'", 3, p), 1);
    assert_int_equal(num("SELECT count(*) FROM distribution_points WHERE server_name = "
                         "'TESTDP1.CONTOSO.COM'", 0, NULL), 1);
    assert_int_equal(num("SELECT count(*) FROM distribution_points", 0, NULL), 1);
    long long pending = -1, redelivered = -1;
    for (int i = 0; i < 50; i++) {
        consumer_counts(&pending, &redelivered);
        if (pending == 0)
            break;
        usleep(100 * 1000);
    }
    assert_int_equal(pending, 0);
    sleep(2); /* the retry delay: nothing is processed again */
    assert_int_equal(num("SELECT count(*) FROM status_messages WHERE msg_id IN (3306, 3307, "
                         "3308)", 0, NULL), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_garbage_then_valid_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_is_reported_and_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_site_not_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_aside_setting, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

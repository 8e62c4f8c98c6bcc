/* The timeline distmgr records (trace_events, issue 11), read as
 * `dpctl trace` reads it: the distmgr binary against a real PostgreSQL and
 * nats-server with the test playing the DP agents. An install's steps in
 * agent order, each with its result, end time and the agent's lines; a
 * failed step with its error and the agent's lines, committed with the
 * DP's Failed state, then the retry as a new attempt (another job_id); a
 * removal's steps in the source's order, kept after the DP's row is gone;
 * a failed removal step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <dpf/agent.h>
#include <dpf/log.h>

#include "dpf_test.h"
#include "test_distmgr_agent.h"
#include "test_distmgr_harness.h"

#define TEST_NAME "distmgr_trace"
#define WAIT_MS DMT_WAIT_MS

static char g_log[128];
static pid_t g_dm;
static fake_agent *g_agent;

static const char *const HOSTS[] = {
    "PS1TR1.CONTOSO.COM", "PS1TR2.CONTOSO.COM", "PS1TR3.CONTOSO.COM", "PS1TR4.CONTOSO.COM",
    "PS1TRW1.CONTOSO.COM", "PS1TRW2.CONTOSO.COM", "PS1TRW3.CONTOSO.COM", "PS1TRW4.CONTOSO.COM",
    "PS1TRW5.CONTOSO.COM",
};

static const char *const INSTALL_STEPS =
    "install_files,create_shares,enable_http,register_provider,configure_vdirs,"
    "write_settings,configure_pxe";
static const char *const REMOVE_STEPS =
    "remove_pxe,remove_tasks,remove_pulldp,unregister_provider,remove_shares,remove_vdirs,"
    "remove_settings";

static int group_setup(void **state)
{
    (void)state;
    dpf_log_init("TEST_DISTMGR_TRACE");
    if (dmt_setup(TEST_NAME) != 0)
        return -1;
    snprintf(g_log, sizeof g_log, "%s/distmgr.log", dmt_tmp);
    if (fa_start(dmt_bus, HOSTS, (int)(sizeof HOSTS / sizeof HOSTS[0]), &g_agent) != 0)
        return -1;
    g_dm = dmt_start_distmgr("tr-a", g_log, NULL);
    return g_dm > 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    dmt_stop(g_dm);
    fa_stop(g_agent);
    dmt_teardown(TEST_NAME);
    return 0;
}

/* One text answer of sql with $1 = corr. */
static void text(const char *sql, const char *corr, char *out, size_t len)
{
    dmt_sql_text(sql, corr, out, len);
}

/* Waits until the timeline of corr has no step running and the DP's row
 * is in state (or gone, state NULL). */
static int settled(const char *corr, long long dpid, const char *state)
{
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", dpid);
    for (int i = 0; i < WAIT_MS / 50; i++) {
        long long running = dmt_sql_int("SELECT count(*) FROM trace_events WHERE "
                                        "correlation_id = $1 AND result = 'running'", corr);
        long long rows = dmt_sql_int("SELECT count(*) FROM trace_events WHERE "
                                     "correlation_id = $1", corr);
        char st[32] = "";
        if (state != NULL)
            dmt_sql_text("SELECT coalesce((SELECT install_state FROM distribution_points "
                         "WHERE dpid = $1::bigint), 'gone')", ids, st, sizeof st);
        else
            dmt_sql_text("SELECT CASE WHEN EXISTS (SELECT 1 FROM distribution_points WHERE "
                         "dpid = $1::bigint) THEN 'there' ELSE 'gone' END", ids, st, sizeof st);
        if (rows > 0 && running == 0 && strcmp(st, state != NULL ? state : "gone") == 0)
            return 1;
        usleep(50 * 1000);
    }
    return 0;
}

static void test_install_steps_in_order(void **state)
{
    (void)state;
    const char *srv = "PS1TR1.CONTOSO.COM";
    const char *corr = "corr-trace-install";
    long long id = dmt_insert_dp(srv, 0, 0, "", 0);
    assert_true(id > 0);
    assert_int_equal(dmt_publish_ins(id, "insert", corr), 0);
    assert_true(dmt_wait_installed(srv, WAIT_MS));
    assert_true(settled(corr, id, "Installed"));

    char out[1024];
    text("SELECT string_agg(step, ',' ORDER BY at, id) FROM trace_events "
         "WHERE correlation_id = $1", corr, out, sizeof out);
    assert_string_equal(out, INSTALL_STEPS);
    /* every step ok, ended, by DistMgr on replica tr-a, about this DP, one attempt */
    text("SELECT string_agg(DISTINCT result || '/' || component || '/' || replica || '/' || "
         "job || '/' || server_name, ',') FROM trace_events WHERE correlation_id = $1",
         corr, out, sizeof out);
    assert_string_equal(out, "ok/DistMgr/tr-a/install/PS1TR1.CONTOSO.COM");
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", id);
    assert_int_equal(dmt_sql_int("SELECT count(*) FROM trace_events WHERE dpid = $1::bigint "
                                 "AND ended_at >= at AND tid > 0 AND job_id LIKE 'tr-a/%'", ids),
                     7);
    assert_int_equal(dmt_sql_int("SELECT count(DISTINCT job_id) FROM trace_events "
                                 "WHERE correlation_id = $1", corr), 1);
    /* the agent's lines with their step, as the host's smsdpprov.log says them */
    text("SELECT array_to_string(agent_lines, '|') FROM trace_events WHERE correlation_id = $1 "
         "AND step = 'create_shares'", corr, out, sizeof out);
    assert_string_equal(out, "fake agent: starting create_shares|fake agent did it");
    /* the steps do not overlap: each starts after the one before ended */
    assert_int_equal(dmt_sql_int("SELECT count(*) FROM (SELECT at, lag(ended_at) OVER "
                                 "(ORDER BY at, id) AS prev FROM trace_events WHERE "
                                 "correlation_id = $1) s WHERE s.at < s.prev", corr), 0);
}

static void test_failed_step_then_retry_as_new_attempt(void **state)
{
    (void)state;
    const char *srv = "PS1TR2.CONTOSO.COM";
    const char *corr = "corr-trace-fail";
    const char *error = "cannot write vdirs.conf: Permission denied";
    fa_fail(g_agent, srv, DPF_STEP_CONFIGURE_VDIRS, 1, error);
    long long id = dmt_insert_dp(srv, 0, 0, "", 0);
    assert_int_equal(dmt_publish_ins(id, "insert", corr), 0);
    assert_true(dmt_wait_installed(srv, WAIT_MS));
    assert_true(settled(corr, id, "Installed"));

    char out[1024];
    /* two attempts: the first stops at configure_vdirs, the second runs every step */
    assert_int_equal(dmt_sql_int("SELECT count(DISTINCT job_id) FROM trace_events "
                                 "WHERE correlation_id = $1", corr), 2);
    text("SELECT string_agg(j.steps, ' ; ' ORDER BY j.first) FROM (SELECT job_id, min(id) AS "
         "first, string_agg(step || '=' || result, ',' ORDER BY at, id) AS steps FROM "
         "trace_events WHERE correlation_id = $1 GROUP BY job_id) j", corr, out, sizeof out);
    assert_string_equal(out,
                        "install_files=ok,create_shares=ok,enable_http=ok,register_provider=ok,"
                        "configure_vdirs=failed ; "
                        "install_files=ok,create_shares=ok,enable_http=ok,register_provider=ok,"
                        "configure_vdirs=ok,write_settings=ok,configure_pxe=ok");
    /* the failed step names its reason and carries the agent's lines */
    text("SELECT message || ' | ' || array_to_string(agent_lines, '|') FROM trace_events "
         "WHERE correlation_id = $1 AND result = 'failed'", corr, out, sizeof out);
    assert_string_equal(out, "cannot write vdirs.conf: Permission denied | fake agent: starting "
                             "configure_vdirs|cannot write vdirs.conf: Permission denied");
    /* the failure's end was committed with the DP's Failed state: it ended
     * before the retry's first step started */
    assert_int_equal(dmt_sql_int("SELECT count(*) FROM trace_events f, trace_events r "
                                 "WHERE f.correlation_id = $1 AND r.correlation_id = $1 "
                                 "AND f.result = 'failed' AND r.job_id <> f.job_id "
                                 "AND r.step = 'install_files' AND f.ended_at <= r.at", corr),
                     1);
}

/* A DP installed, then marked for removal as HMAN does. */
static long long installed_then_marked(const char *srv)
{
    long long id = dmt_insert_dp(srv, 0, 0, "", 0);
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", id);
    dmt_sql_int("UPDATE distribution_points SET install_state = 'Installed', installed_crc = "
                "dp_crc, installed_version = '" DPF_COMPONENT_VERSION "' "
                "WHERE dpid = $1::bigint RETURNING 1", ids);
    assert_int_equal(dmt_mark_removed(id), 0);
    return id;
}

static void test_removal_steps_in_source_order(void **state)
{
    (void)state;
    const char *srv = "PS1TR3.CONTOSO.COM";
    const char *corr = "corr-trace-remove";
    long long id = installed_then_marked(srv);
    assert_int_equal(dmt_publish_dpn(id, corr), 0);
    assert_true(settled(corr, id, NULL));

    char out[1024];
    text("SELECT string_agg(step || '=' || result, ',' ORDER BY at, id) FROM trace_events "
         "WHERE correlation_id = $1", corr, out, sizeof out);
    assert_string_equal(out, "remove_pxe=ok,remove_tasks=ok,remove_pulldp=ok,"
                             "unregister_provider=ok,remove_shares=ok,remove_vdirs=ok,"
                             "remove_settings=ok");
    text("SELECT string_agg(DISTINCT job || '/' || server_name, ',') FROM trace_events "
         "WHERE correlation_id = $1", corr, out, sizeof out);
    assert_string_equal(out, "remove/PS1TR3.CONTOSO.COM");
    (void)REMOVE_STEPS;
}

static void test_failed_removal_step(void **state)
{
    (void)state;
    const char *srv = "PS1TR4.CONTOSO.COM";
    const char *corr = "corr-trace-remove-fail";
    fa_fail(g_agent, srv, DPF_STEP_REMOVE_SHARES, 1, "SMS_DP$ is busy");
    long long id = installed_then_marked(srv);
    assert_int_equal(dmt_publish_dpn(id, corr), 0);
    /* retried and removed in the end */
    assert_true(settled(corr, id, NULL));
    char out[1024];
    text("SELECT string_agg(step || '=' || result || coalesce(nullif(':' || message, ':'), ''), "
         "',' ORDER BY at, id) FROM trace_events WHERE correlation_id = $1 AND job_id = "
         "(SELECT job_id FROM trace_events WHERE correlation_id = $1 ORDER BY id LIMIT 1)",
         corr, out, sizeof out);
    assert_string_equal(out, "remove_pxe=ok,remove_tasks=ok,remove_pulldp=ok,"
                             "unregister_provider=ok,remove_shares=failed:SMS_DP$ is busy");
    text("SELECT string_agg(step, ',' ORDER BY at, id) FROM trace_events WHERE "
         "correlation_id = $1 AND job_id = (SELECT job_id FROM trace_events WHERE "
         "correlation_id = $1 ORDER BY id DESC LIMIT 1)", corr, out, sizeof out);
    assert_string_equal(out, REMOVE_STEPS);
}

/* DPUpgradeThreadLimit 2 and five DPs at once: a DP that waits for a free
 * thread says so, then its install follows. */
static void test_waiting_for_a_free_thread(void **state)
{
    (void)state;
    static const char *const five[] = {"PS1TRW1.CONTOSO.COM", "PS1TRW2.CONTOSO.COM",
                                       "PS1TRW3.CONTOSO.COM", "PS1TRW4.CONTOSO.COM",
                                       "PS1TRW5.CONTOSO.COM"};
    fa_set_delay(g_agent, 100);
    for (int i = 0; i < 5; i++) {
        char corr[32];
        snprintf(corr, sizeof corr, "corr-trace-wait-%d", i);
        long long id = dmt_insert_dp(five[i], 0, 0, "", 0);
        assert_int_equal(dmt_publish_ins(id, "insert", corr), 0);
    }
    for (int i = 0; i < 5; i++) {
        char corr[32];
        snprintf(corr, sizeof corr, "corr-trace-wait-%d", i);
        assert_true(dmt_wait_installed(five[i], WAIT_MS));
        assert_true(settled(corr, dmt_sql_int("SELECT dpid FROM distribution_points WHERE "
                                              "server_name = $1", five[i]), "Installed"));
    }
    fa_set_delay(g_agent, 0);
    /* at least one waited, saying why, as an install of that DP */
    long long waited = dmt_sql_int("SELECT count(*) FROM trace_events WHERE correlation_id LIKE $1 "
                                   "AND result = 'waiting' AND step = 'wait' AND job = 'install' "
                                   "AND server_name LIKE 'PS1TRW%' AND message = 'all 2 threads "
                                   "of the DP upgrade processing thread are busy; the DP waits "
                                   "for a free thread'", "corr-trace-wait-%");
    assert_true(waited >= 1);
    /* and each waiting DP's install steps come after its wait, all ok */
    assert_int_equal(dmt_sql_int("SELECT count(*) FROM trace_events w WHERE w.correlation_id "
                                 "LIKE $1 AND w.result = 'waiting' AND (SELECT count(*) FROM "
                                 "trace_events s WHERE s.correlation_id = w.correlation_id AND "
                                 "s.server_name = w.server_name AND s.result = 'ok' AND "
                                 "s.at > w.at) = 7", "corr-trace-wait-%"), waited);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_install_steps_in_order),
        cmocka_unit_test(test_failed_step_then_retry_as_new_attempt),
        cmocka_unit_test(test_removal_steps_in_source_order),
        cmocka_unit_test(test_failed_removal_step),
        cmocka_unit_test(test_waiting_for_a_free_thread),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/* distmgr's DP manager against a real PostgreSQL and nats-server, the test
 * playing the agents: a DP marked deleted (Action = 3) is removed from its
 * host step by step and then from the database, with 2390 and 2391; a failed
 * step leaves RemoveFailed with 2392 and is retried; removals run one at a
 * time by default (DPRemovalThreadLimit = 1, as in the source); a DP that is
 * not marked is left alone; garbage on dp.dpn is terminated and reported; a
 * removal asked while the same replica installs the DP waits for the
 * install's job and never interleaves with it; a restarted replica releases
 * its own jobs' leases and no other replica's; a removal waits while a
 * content transfer to the DP holds a live lease. */
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
#include <dpf/sitecontrol.h>

#include "dpf_test.h"
#include "test_distmgr_agent.h"
#include "test_distmgr_harness.h"

#define TEST_NAME "distmgr_remove"

static const char *const HOSTS[] = {
    "PS1DP2.CONTOSO.COM", "PS1DP5.CONTOSO.COM", "PS1DP6.CONTOSO.COM", "PS1GONE.CONTOSO.COM",
    "PS1Q1.CONTOSO.COM",  "PS1Q2.CONTOSO.COM",  "PS1Q3.CONTOSO.COM",  "PS1KEEP.CONTOSO.COM",
    "PS1MEET1.CONTOSO.COM", "PS1XFER.CONTOSO.COM",
};

static const char *const REMOVE_STEPS =
    "remove_pxe,remove_tasks,remove_pulldp,unregister_provider,remove_shares,remove_vdirs,"
    "remove_settings";

static char g_log[128];
static pid_t g_dm;
static fake_agent *g_agent;
static long long g_gone; /* marked for removal before distmgr started */

/* A DP that is installed, then marked deleted as HMAN does. */
static long long installed_then_marked(const char *srv, int pull, int mark)
{
    long long id = dmt_insert_dp(srv, 0, pull, pull ? "PS1DP5.CONTOSO.COM:1" : "", 0);
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", id);
    dmt_sql_int("UPDATE distribution_points SET install_state = 'Installed', installed_crc = "
                "dp_crc, installed_version = '" DPF_COMPONENT_VERSION "', pull_dp_state = "
                "CASE WHEN is_pull_dp THEN 'Installed' ELSE '' END "
                "WHERE dpid = $1::bigint RETURNING 1", ids);
    dmt_sql_int("INSERT INTO dp_packages (dpid, package_id) VALUES ($1::bigint, 'CS100002') "
                "RETURNING 1", ids);
    dmt_sql_int("INSERT INTO dp_certificates (server_name, identity_guid, thumbprint) "
                "SELECT server_name, identity_guid, 'AB12' FROM distribution_points "
                "WHERE dpid = $1::bigint RETURNING 1", ids);
    if (mark)
        dmt_sql_int("UPDATE distribution_points SET action = 3, state = 0 WHERE dpid = $1::bigint "
                    "RETURNING 1", ids);
    return id;
}

static int gone(long long id, int ms)
{
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", id);
    return dmt_wait_text("SELECT count(*)::text FROM distribution_points WHERE dpid = $1::bigint",
                         ids, "0", ms);
}

static long long msgs(unsigned id, const char *srv)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM status_messages WHERE msg_id = %u AND "
             "istr[2] = $1", id);
    return dmt_sql_int(sql, srv);
}

static int group_setup(void **state)
{
    dpf_log_init("TEST_DISTMGR_REMOVE");
    if (dmt_setup(TEST_NAME) != 0)
        return -1;
    snprintf(g_log, sizeof g_log, "%s/distmgr.log", dmt_tmp);
    if (fa_start(dmt_bus, HOSTS, (int)(sizeof HOSTS / sizeof HOSTS[0]), &g_agent) != 0)
        return -1;
    /* its dp.dpn was lost: only the startup reconcile can find it */
    g_gone = installed_then_marked("PS1GONE.CONTOSO.COM", 0, 1);
    g_dm = dmt_start_distmgr("it-r", g_log, NULL);
    return g_gone > 0 && g_dm > 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
    dmt_stop(g_dm);
    fa_stop(g_agent);
    dmt_teardown(TEST_NAME);
    return 0;
}

static void test_startup_reconcile_removes_marked_dp(void **state)
{
    assert_true(gone(g_gone, DMT_WAIT_MS));
    assert_true(dmt_log_count(g_log, "~Starting the DP manager thread, thread ID = 0x") == 1);
    assert_true(dmt_log_count(g_log, "DP manager thread: Started, will perform any pending work "
                                     "then will wait for additional work.") == 1);
    assert_int_equal(dmt_log_count(g_log, "Reconcile: 1 DPs need removing"), 1);
    assert_int_equal(msgs(2391, "PS1GONE.CONTOSO.COM"), 1);
}

static void test_remove_standard_dp(void **state)
{
    const char *srv = "PS1DP2.CONTOSO.COM";
    long long id = installed_then_marked(srv, 0, 1);
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", id);
    /* the install side leaves a DP marked for removal alone */
    assert_int_equal(dmt_publish_ins(id, "update", "corr-ins-of-removed"), 0);
    assert_true(dmt_wait_log(g_log, "is marked for removal (Action = 3); the DP manager removes "
                                    "it, nothing to install", 1, DMT_WAIT_MS));
    assert_int_equal(fa_count(g_agent, srv, NULL), 0);

    assert_int_equal(dmt_publish_dpn(id, "corr-remove"), 0);
    assert_true(gone(id, DMT_WAIT_MS));
    char steps[512];
    fa_steps(g_agent, srv, steps, sizeof steps);
    assert_string_equal(steps, REMOVE_STEPS);
    char corr[64] = "";
    int nfiles = -1;
    size_t ml = 0, sl = 0;
    assert_true(fa_request_info(g_agent, srv, DPF_STEP_REMOVE_SETTINGS, corr, sizeof corr,
                                &nfiles, &ml, &sl));
    assert_string_equal(corr, "corr-remove");

    /* gone from the database with what hung off it; 2390 then 2391 */
    assert_int_equal(dmt_sql_int("SELECT count(*) FROM dp_packages WHERE dpid = $1::bigint", ids),
                     0);
    assert_int_equal(dmt_sql_int("SELECT count(*) FROM dp_certificates WHERE server_name = $1",
                                 srv), 0);
    assert_int_equal(msgs(2390, srv), 1);
    assert_int_equal(msgs(2391, srv), 1);
    assert_int_equal(dmt_sql_int("SELECT count(*) FROM status_messages WHERE msg_id = 2391 AND "
                                 "correlation_id = $1 AND attrs @> '[{\"id\": 404}]'",
                                 "corr-remove"), 1);

    char line[200];
    snprintf(line, sizeof line, "[corr-remove] DP manager thread: Removing DP with ID %lld. "
             "Thread 0x", id);
    assert_int_equal(dmt_log_count(g_log, line), 1);
    snprintf(line, sizeof line, "~Created policy provider trigger for ID %lld", id);
    assert_int_equal(dmt_log_count(g_log, line), 1);
    assert_true(dmt_log_count(g_log, "Used 1 threads out of 1.") >= 2);
    assert_int_equal(dmt_log_count(g_log, "~[\"Display=\\\\PS1DP2.CONTOSO.COM\\\"]MSWNET:"
                                          "[\"SMS_SITE=PS1\"]\\\\PS1DP2.CONTOSO.COM\\ is NOT a "
                                          "Pull DP"), 1);
    assert_int_equal(dmt_log_count(g_log, "Removed share SMS_DP$ from server PS1DP2.CONTOSO.COM"),
                     1);
    assert_int_equal(dmt_log_count(g_log, "Deleting DP registry on NAL Path = [\"Display=\\\\"
                                          "PS1DP2.CONTOSO.COM\\\"]"), 1);
    assert_true(dmt_log_count(g_log, "~Completed uninstalling distribution on the remote "
                                     "distribution point") >= 2);
}

static void test_remove_pull_dp(void **state)
{
    const char *srv = "PS1DP5.CONTOSO.COM";
    long long id = installed_then_marked(srv, 1, 1);
    assert_int_equal(dmt_publish_dpn(id, "corr-remove-pull"), 0);
    assert_true(gone(id, DMT_WAIT_MS));
    assert_int_equal(dmt_log_count(g_log, "~NAL Path [\"Display=\\\\PS1DP5.CONTOSO.COM\\\"]"
                                          "MSWNET:[\"SMS_SITE=PS1\"]\\\\PS1DP5.CONTOSO.COM\\ is a "
                                          "Pull DP"), 1);
    assert_int_equal(dmt_log_count(g_log, "Uninstalling PullDP, check \\\\PS1DP5.CONTOSO.COM\\"),
                     1);
}

static void test_not_marked_is_left_alone(void **state)
{
    const char *srv = "PS1KEEP.CONTOSO.COM";
    long long id = installed_then_marked(srv, 0, 0);
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", id);
    assert_int_equal(dmt_publish_dpn(id, "corr-keep"), 0);
    assert_true(dmt_wait_log(g_log, "is not marked for removal (Action = 0), nothing to remove", 1,
                             DMT_WAIT_MS));
    assert_int_equal(fa_count(g_agent, srv, NULL), 0);
    char row[64];
    dmt_sql_text("SELECT install_state || '/' || coalesce(lease_owner, 'free') FROM "
                 "distribution_points WHERE dpid = $1::bigint", ids, row, sizeof row);
    assert_string_equal(row, "Installed/free");
    assert_int_equal(msgs(2390, srv), 0);
}

static void test_failed_step_retried(void **state)
{
    const char *srv = "PS1DP6.CONTOSO.COM";
    fa_fail(g_agent, srv, DPF_STEP_REMOVE_SHARES, 1,
            "cannot remove SMS_DP$: Device or resource busy");
    long long id = installed_then_marked(srv, 0, 1);
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", id);
    assert_int_equal(dmt_publish_dpn(id, "corr-remove-fail"), 0);
    assert_true(dmt_wait_text("SELECT install_state || '/' || last_step || '/' || attempts FROM "
                              "distribution_points WHERE dpid = $1::bigint", ids,
                              "RemoveFailed/remove_shares/1", DMT_WAIT_MS));
    assert_int_equal(dmt_sql_int("SELECT count(*) FROM status_messages WHERE msg_id = 2392 AND "
                                 "severity = 'E' AND istr[3] = 'remove_shares' AND istr[4] = "
                                 "'cannot remove SMS_DP$: Device or resource busy' AND "
                                 "istr[2] = $1", srv), 1);
    assert_true(gone(id, DMT_WAIT_MS));
    assert_int_equal(fa_count(g_agent, srv, DPF_STEP_REMOVE_SHARES), 2);
    assert_int_equal(fa_count(g_agent, srv, DPF_STEP_REMOVE_SETTINGS), 1);
    assert_int_equal(msgs(2391, srv), 1);
    assert_int_equal(dmt_log_count(g_log, "removal step remove_shares failed: cannot remove "
                                          "SMS_DP$: Device or resource busy. Attempt 1, will "
                                          "retry in 1 s"), 1);
}

static void test_removals_one_at_a_time(void **state)
{
    static const char *const three[] = {"PS1Q1.CONTOSO.COM", "PS1Q2.CONTOSO.COM",
                                        "PS1Q3.CONTOSO.COM"};
    long long ids[3];
    fa_set_delay(g_agent, 60);
    fa_reset_max(g_agent);
    for (int i = 0; i < 3; i++)
        ids[i] = installed_then_marked(three[i], 0, 1);
    for (int i = 0; i < 3; i++) {
        char corr[32];
        snprintf(corr, sizeof corr, "corr-q-%d", i);
        assert_int_equal(dmt_publish_dpn(ids[i], corr), 0);
    }
    for (int i = 0; i < 3; i++)
        assert_true(gone(ids[i], DMT_WAIT_MS));
    fa_set_delay(g_agent, 0);
    /* DPRemovalThreadLimit = 1: the source's DP manager, one DP at a time */
    assert_int_equal(fa_max_inflight(g_agent), 1);
    assert_true(dmt_log_count(g_log, "DP manager thread: All 1 threads are busy, DP with ID ")
                >= 1);
}

static void test_garbage_on_dpn(void **state)
{
    const char junk[] = "\xff\xff\xff\xff garbage";
    dpf_test_consumer before, after;
    assert_true(dpf_test_consumer_settled(dmt_nats_url(), DPF_STREAM_EVENTS, "distmgr-dpn",
                                          DMT_WAIT_MS, &before));
    assert_int_equal(dpf_bus_publish(dmt_bus, "dp.dpn.999", junk, sizeof junk - 1, "junk-dpn",
                                     "corr-junk-dpn"), DPF_OK);
    assert_true(dmt_wait_text("SELECT count(*)::text FROM status_messages WHERE msg_id = 9901 AND "
                              "istr[1] = $1", "dp.dpn.999", "1", DMT_WAIT_MS));
    /* terminated: delivered once, and the server holds nothing for a
     * redelivery (the ack wait is 35 s: a sleep could never see one); not
     * reported twice */
    assert_true(dpf_test_consumer_settled(dmt_nats_url(), DPF_STREAM_EVENTS, "distmgr-dpn", 5000,
                                          &after));
    assert_int_equal(after.delivered, before.delivered + 1);
    assert_int_equal(dmt_sql_int("SELECT count(*) FROM status_messages WHERE msg_id = 9901",
                                 NULL), 1);
}

static void test_removal_during_install_one_replica(void **state)
{
    const char *const logs[] = {g_log};
    dmt_install_meets_removal(g_agent, "PS1MEET1.CONTOSO.COM", logs, 1);
}

/* A removal does not start on the host while a content transfer job holds
 * a live lease on one of the DP's dp_packages rows; it does once the
 * transfer has stopped (its lease gone). */
static void test_removal_waits_for_content_transfer(void **state)
{
    const char *srv = "PS1XFER.CONTOSO.COM";
    long long id = installed_then_marked(srv, 0, 0);
    char ids[24], line[200], row[64];
    snprintf(ids, sizeof ids, "%lld", id);
    assert_int_equal(dmt_sql_int("UPDATE dp_packages SET state = 'InProgress', lease_owner = "
                                 "'it-x/job-1', lease_until = now() + interval '1 hour' "
                                 "WHERE dpid = $1::bigint RETURNING 1", ids), 1);
    assert_int_equal(dmt_mark_removed(id), 0);
    assert_int_equal(dmt_publish_dpn(id, "corr-xfer"), 0);
    snprintf(line, sizeof line, "DPID %lld: waiting for the transfer of package CS100002 to stop "
             "(held by it-x/job-1); will look again in 3 s", id);
    assert_true(dmt_wait_log(g_log, line, 2, DMT_WAIT_MS));
    assert_int_equal(fa_count(g_agent, srv, NULL), 0);
    assert_int_equal(msgs(2390, srv), 0);
    dmt_sql_text("SELECT install_state || '/' || coalesce(lease_owner, 'free') FROM "
                 "distribution_points WHERE dpid = $1::bigint", ids, row, sizeof row);
    assert_string_equal(row, "Removing/free");

    /* the transfer saw Action = 3 and stopped */
    assert_int_equal(dmt_sql_int("UPDATE dp_packages SET lease_owner = NULL, lease_until = NULL "
                                 "WHERE dpid = $1::bigint RETURNING 1", ids), 1);
    assert_true(gone(id, DMT_WAIT_MS));
    char steps[512];
    fa_steps(g_agent, srv, steps, sizeof steps);
    assert_string_equal(steps, REMOVE_STEPS);
    assert_int_equal(msgs(2390, srv), 1);
    assert_int_equal(msgs(2391, srv), 1);
}

/* Leases held at a restart: this replica's jobs' (it-r/...) are released;
 * those of replicas whose names merely start alike (it-r%, it-rx) are not. */
static void test_restart_releases_own_job_leases(void **state)
{
    static const char *const owners[] = {"it-r/3f0e1c2a-0000-4000-8000-000000000001", "it-r%/x",
                                         "it-rx/y"};
    static const char *const srvs[] = {"PS1L1.CONTOSO.COM", "PS1L2.CONTOSO.COM",
                                       "PS1L3.CONTOSO.COM"};
    char ids[3][24];
    for (int i = 0; i < 3; i++) {
        snprintf(ids[i], sizeof ids[i], "%lld", installed_then_marked(srvs[i], 0, 0));
        const char *p[] = {ids[i], owners[i]};
        assert_int_equal(dpf_db_exec(dmt_db, "UPDATE distribution_points SET lease_owner = $2, "
                                     "lease_until = now() + interval '1 hour' "
                                     "WHERE dpid = $1::bigint", 2, p, NULL), DPF_OK);
    }
    assert_int_equal(dmt_stop(g_dm), 0);
    /* the restarted replica logs to a file of its own */
    snprintf(g_log, sizeof g_log, "%s/distmgr-restarted.log", dmt_tmp);
    g_dm = dmt_start_distmgr("it-r", g_log, NULL);
    assert_true(g_dm > 0);
    assert_true(dmt_wait_log(g_log, "Replica it-r held 1 DP leases from before its restart", 1,
                             DMT_WAIT_MS));
    char row[128];
    for (int i = 0; i < 3; i++) {
        dmt_sql_text("SELECT coalesce(lease_owner, 'free') FROM distribution_points WHERE dpid = "
                     "$1::bigint", ids[i], row, sizeof row);
        assert_string_equal(row, i == 0 ? "free" : owners[i]);
    }
    dmt_sql_int("UPDATE distribution_points SET lease_owner = NULL, lease_until = NULL "
                "RETURNING 1", NULL);
}

static void test_sigterm(void **state)
{
    assert_int_equal(dmt_stop(g_dm), 0);
    g_dm = 0;
    assert_int_equal(dmt_log_count(g_log, "DP manager thread: stopped after "), 1);
    assert_int_equal(dmt_sql_int("SELECT count(*) FROM distribution_points WHERE lease_owner IS "
                                 "NOT NULL", NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_startup_reconcile_removes_marked_dp),
        cmocka_unit_test(test_remove_standard_dp),
        cmocka_unit_test(test_remove_pull_dp),
        cmocka_unit_test(test_not_marked_is_left_alone),
        cmocka_unit_test(test_failed_step_retried),
        cmocka_unit_test(test_removals_one_at_a_time),
        cmocka_unit_test(test_garbage_on_dpn),
        cmocka_unit_test(test_removal_during_install_one_replica),
        cmocka_unit_test(test_removal_waits_for_content_transfer),
        cmocka_unit_test(test_restart_releases_own_job_leases),
        cmocka_unit_test(test_sigterm),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

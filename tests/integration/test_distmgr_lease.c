/* distmgr's leases after an outage (issue 8, Recovery): a DP whose lease is
 * held by a job of this same replica that has ended (it ended in a
 * PostgreSQL outage, after or before the reclaim that runs on the
 * recovery, and could not release the lease) is installed at once when its
 * event comes, not after the lease runs out (AgentStepTimeoutSeconds + 30 s,
 * 90 s by default): e2e_fault once saw a DP installed 96 s after both
 * servers were back for this reason. A lease held by another replica is
 * still respected. Runs the distmgr binary against a real PostgreSQL and
 * nats-server (test_distmgr_harness.c), the test playing the agents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <dpf/log.h>

#include "test_distmgr_agent.h"
#include "test_distmgr_harness.h"

#define TEST_NAME "distmgr_lease"
/* well under the lease (90 s) and its "look again" delay (30 s) */
#define SOON_MS 8000

static char g_log[128];
static pid_t g_dm;
static fake_agent *g_agent;

static const char *const HOSTS[] = {"PS1DEAD.CONTOSO.COM", "PS1OTHER.CONTOSO.COM"};

static int group_setup(void **state)
{
    (void)state;
    dpf_log_init("TEST_DISTMGR");
    if (dmt_setup(TEST_NAME) != 0)
        return -1;
    snprintf(g_log, sizeof g_log, "%s/distmgr-l.log", dmt_tmp);
    if (fa_start(dmt_bus, HOSTS, (int)(sizeof HOSTS / sizeof HOSTS[0]), &g_agent) != 0)
        return -1;
    g_dm = dmt_start_distmgr("it-l", g_log, NULL);
    /* past its start-up, whose reclaim releases every lease of the replica */
    return g_dm > 0 && dmt_wait_log(g_log, "Pulling dp.ins.>", 1, DMT_WAIT_MS) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    dmt_stop(g_dm);
    fa_stop(g_agent);
    dmt_teardown(TEST_NAME);
    return 0;
}

/* Leases the DP for 90 s to owner, as a job that took it and then ended
 * without releasing it would have left it. */
static void lease_to(long long id, const char *owner)
{
    char sql[256], ids[24];
    snprintf(ids, sizeof ids, "%lld", id);
    snprintf(sql, sizeof sql, "UPDATE distribution_points SET lease_owner = '%s', "
             "lease_until = now() + interval '90 seconds' WHERE dpid = $1::bigint "
             "RETURNING 1", owner);
    assert_int_equal(dmt_sql_int(sql, ids), 1);
}

static void test_dead_lease_of_this_replica_is_released_at_once(void **state)
{
    (void)state;
    const char *srv = "PS1DEAD.CONTOSO.COM";
    long long id = dmt_insert_dp(srv, 0, 0, "", 0);
    assert_true(id > 0);
    lease_to(id, "it-l/00000000-0000-4000-8000-000000000001");
    assert_int_equal(dmt_publish_ins(id, "insert", "corr-dead-lease"), 0);
    assert_true(dmt_wait_installed(srv, SOON_MS));
    assert_true(dmt_log_count(g_log, "is leased by it-l/00000000-0000-4000-8000-000000000001, "
                                     "a job of this replica that has ended; releasing") == 1);
    assert_true(dmt_log_count(g_log, "Released 1 DP leases of this replica's jobs") >= 1);
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", id);
    assert_int_equal(dmt_sql_int("SELECT count(*) FROM status_messages WHERE msg_id = 2399 AND "
                                 "istr[2] = $1", srv), 1);
    assert_int_equal(dmt_sql_int("SELECT count(*) FROM distribution_points WHERE dpid = "
                                 "$1::bigint AND lease_owner IS NULL", ids), 1);
}

static void test_lease_of_another_replica_is_respected(void **state)
{
    (void)state;
    const char *srv = "PS1OTHER.CONTOSO.COM";
    long long id = dmt_insert_dp(srv, 0, 0, "", 0);
    assert_true(id > 0);
    lease_to(id, "it-other/00000000-0000-4000-8000-000000000002");
    assert_int_equal(dmt_publish_ins(id, "insert", "corr-other-lease"), 0);
    char line[128];
    snprintf(line, sizeof line, "DPID %lld is being worked on by it-other/", id);
    assert_true(dmt_wait_log(g_log, line, 1, SOON_MS));
    assert_int_equal(fa_count(g_agent, srv, NULL), 0);
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", id);
    assert_int_equal(dmt_sql_int("SELECT count(*) FROM distribution_points WHERE dpid = "
                                 "$1::bigint AND lease_owner LIKE 'it-other/%'", ids), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dead_lease_of_this_replica_is_released_at_once),
        cmocka_unit_test(test_lease_of_another_replica_is_respected),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/* distmgr's package transfer thread against a real PostgreSQL and
 * nats-server: a burst of pkg.changed wake-ups for one package is one pass
 * (installing 5,000 DPs wakes each client package 5,000 times). While one
 * pass of the package runs (held on a table lock the test takes), the next
 * wake-up is queued behind it and every later one is acknowledged as
 * covered by that queued pass: 21 wake-ups give 2 passes, each message is
 * delivered once and nothing is left unacknowledged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <dpf/bus.h>
#include <dpf/db.h>
#include <dpf/log.h>
#include <dpf/sitecontrol.h>

#include "dpf_test.h"
#include "test_distmgr_harness.h"

#include "dpfleet.pb-c.h"

#define TEST_NAME "distmgr_coalesce"
#define SEQ 777LL
#define BURST 20

static char g_log[128];
static pid_t g_dm;

static int publish_pkg(long long seq, int n)
{
    Dpf__PackageChanged m = DPF__PACKAGE_CHANGED__INIT;
    m.seq = seq;
    m.change_id = n;
    m.reason = "dp-ready";
    uint8_t buf[64];
    size_t len = dpf__package_changed__pack(&m, buf);
    char subject[64], msg_id[64], corr[64];
    snprintf(subject, sizeof subject, DPF_SUBJ_PKG_CHANGED ".%lld", seq);
    snprintf(msg_id, sizeof msg_id, "test-pkg-%lld-%d", seq, n);
    snprintf(corr, sizeof corr, "corr-pkg-%lld-%d", seq, n);
    return dpf_bus_publish(dmt_bus, subject, buf, len, msg_id, corr) == DPF_OK ? 0 : -1;
}

/* Polls the consumer until want says so; 1 if it did within ms. */
static int wait_consumer(long long pending, long long ack_pending, int ms,
                         dpf_test_consumer *c)
{
    for (int waited = 0; waited <= ms; waited += 50) {
        if (dpf_test_consumer_state(dmt_nats_url(), DPF_STREAM_EVENTS, "distmgr-pkg", c) == 0 &&
            c->pending == pending && c->ack_pending == ack_pending)
            return 1;
        usleep(50 * 1000);
    }
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    dpf_log_init("TEST_DISTMGR_COALESCE");
    if (dmt_setup(TEST_NAME) != 0)
        return -1;
    snprintf(g_log, sizeof g_log, "%s/distmgr.log", dmt_tmp);
    g_dm = dmt_start_distmgr("it-c", g_log, NULL);
    return g_dm > 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    if (g_dm > 0)
        dmt_stop(g_dm);
    dmt_teardown(TEST_NAME);
    return 0;
}

static void test_burst_is_one_queued_pass(void **state)
{
    (void)state;
    dpf_test_consumer c = {0};
    /* the consumer exists once distmgr has started its pull consumers */
    assert_true(wait_consumer(0, 0, DMT_WAIT_MS, &c));

    /* the first pass reads the package under a lock the test holds */
    assert_int_equal(dpf_db_begin(dmt_db), DPF_OK);
    assert_int_equal(dpf_db_exec(dmt_db, "LOCK TABLE packages IN ACCESS EXCLUSIVE MODE", 0, NULL,
                                 NULL), DPF_OK);
    assert_int_equal(publish_pkg(SEQ, 0), 0);
    assert_true(dmt_wait_log(g_log, "Package transfer thread: Sending package number 777.", 1,
                             DMT_WAIT_MS));

    for (int i = 1; i <= BURST; i++)
        assert_int_equal(publish_pkg(SEQ, i), 0);
    /* all taken: the running pass and the one queued behind it wait for
     * their ack, the other 19 are acknowledged as covered */
    int held = wait_consumer(0, 2, DMT_WAIT_MS, &c);
    /* read while the lock still holds the first pass: once it is released
     * the pass ends within milliseconds */
    int ended = dmt_log_count(g_log, "Package number 777 no longer exists");
    dpf_db_rollback(dmt_db);
    assert_true(held);
    assert_int_equal(ended, 0);

    assert_true(dpf_test_consumer_settled(dmt_nats_url(), DPF_STREAM_EVENTS, "distmgr-pkg",
                                          DMT_WAIT_MS, &c));
    assert_int_equal(c.delivered, BURST + 1);
    assert_int_equal(c.redelivered, 0);
    /* two passes: the one that ran and the one queued behind it */
    assert_true(dmt_wait_log(g_log, "Package number 777 no longer exists, nothing to do", 2,
                             DMT_WAIT_MS));
    usleep(300 * 1000);
    assert_int_equal(dmt_log_count(g_log, "Package number 777 no longer exists"), 2);
    assert_int_equal(dmt_log_count(g_log, "Sending package number 777."), 2);
}

/* Wake-ups that find no queued pass each run: one after another, each done
 * before the next is sent. */
static void test_wakeups_apart_each_run(void **state)
{
    (void)state;
    dpf_test_consumer c = {0};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(publish_pkg(SEQ + 1, i), 0);
        assert_true(dmt_wait_log(g_log, "Package number 778 no longer exists", i + 1,
                                 DMT_WAIT_MS));
    }
    assert_true(dpf_test_consumer_settled(dmt_nats_url(), DPF_STREAM_EVENTS, "distmgr-pkg",
                                          DMT_WAIT_MS, &c));
    assert_int_equal(dmt_log_count(g_log, "Package number 778 no longer exists"), 3);
}

static void test_sigterm_reports_covered(void **state)
{
    (void)state;
    assert_int_equal(dmt_stop(g_dm), 0);
    g_dm = 0;
    assert_int_equal(dmt_log_count(g_log, "Package transfer thread: 19 wake-ups were covered by "
                                          "a queued pass of the same package"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_is_one_queued_pass),
        cmocka_unit_test(test_wakeups_apart_each_run),
        cmocka_unit_test(test_sigterm_reports_covered),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/* distmgr dp_state: the install state machine's transitions, the state
 * names as stored, and the decision a dp.ins event leads to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <dpf/agent.h>

#include "dp_state.h"

static void expect_next(dm_state from, dm_event ev, dm_state want)
{
    dm_state to = DM_ST__COUNT;
    assert_int_equal(dm_state_next(from, ev, &to), DPF_OK);
    assert_int_equal(to, want);
}

static void expect_refused(dm_state from, dm_event ev)
{
    dm_state to = DM_ST__COUNT;
    assert_int_equal(dm_state_next(from, ev, &to), DPF_ERR_INVALID);
    assert_int_equal(to, DM_ST__COUNT); /* untouched */
}

static void test_install_path(void **state)
{
    expect_next(DM_ST_PENDING, DM_EV_START, DM_ST_INSTALLING);
    expect_next(DM_ST_INSTALLING, DM_EV_SUCCEEDED, DM_ST_INSTALLED);
    expect_next(DM_ST_INSTALLING, DM_EV_STEP_FAILED, DM_ST_FAILED);
    expect_next(DM_ST_FAILED, DM_EV_START, DM_ST_INSTALLING);
    /* upgrade or property change of an installed DP */
    expect_next(DM_ST_INSTALLED, DM_EV_START, DM_ST_INSTALLING);
    /* resumed after a crash: the lease expired with the row still Installing */
    expect_next(DM_ST_INSTALLING, DM_EV_START, DM_ST_INSTALLING);
    /* a stop between steps keeps Installing (Pending would fire the outbox) */
    expect_next(DM_ST_INSTALLING, DM_EV_INTERRUPTED, DM_ST_INSTALLING);
}

static void test_refused(void **state)
{
    expect_refused(DM_ST_PENDING, DM_EV_SUCCEEDED);
    expect_refused(DM_ST_PENDING, DM_EV_STEP_FAILED);
    expect_refused(DM_ST_INSTALLED, DM_EV_SUCCEEDED);
    expect_refused(DM_ST_INSTALLED, DM_EV_STEP_FAILED);
    expect_refused(DM_ST_FAILED, DM_EV_SUCCEEDED);
    /* nothing installs a DP that is being removed */
    expect_refused(DM_ST_REMOVING, DM_EV_START);
    expect_refused(DM_ST_REMOVE_FAILED, DM_EV_START);
    expect_refused(DM_ST_REMOVING, DM_EV_SUCCEEDED);
    /* out of range never reads past the table */
    expect_refused((dm_state)-1, DM_EV_START);
    expect_refused(DM_ST__COUNT, DM_EV_START);
    expect_refused(DM_ST_PENDING, DM_EV__COUNT);
}

static void test_removal_path(void **state)
{
    expect_next(DM_ST_INSTALLED, DM_EV_REMOVE, DM_ST_REMOVING);
    expect_next(DM_ST_FAILED, DM_EV_REMOVE, DM_ST_REMOVING);
    expect_next(DM_ST_INSTALLING, DM_EV_REMOVE, DM_ST_REMOVING);
    expect_next(DM_ST_REMOVING, DM_EV_REMOVE_FAILED, DM_ST_REMOVE_FAILED);
    expect_next(DM_ST_REMOVE_FAILED, DM_EV_REMOVE, DM_ST_REMOVING);
}

static void test_every_state_reachable_or_start(void **state)
{
    /* every state except Pending is the target of some transition */
    int reached[DM_ST__COUNT] = {0};
    for (int s = 0; s < DM_ST__COUNT; s++) {
        for (int e = 0; e < DM_EV__COUNT; e++) {
            dm_state to;
            if (dm_state_next((dm_state)s, (dm_event)e, &to) == DPF_OK)
                reached[to] = 1;
        }
    }
    for (int s = 1; s < DM_ST__COUNT; s++)
        assert_true(reached[s]);
}

static void test_names_round_trip(void **state)
{
    static const char *const stored[] = {"Pending", "Installing", "Installed", "Failed",
                                         "Removing", "RemoveFailed"};
    for (int s = 0; s < DM_ST__COUNT; s++) {
        assert_string_equal(dm_state_name((dm_state)s), stored[s]);
        dm_state back;
        assert_int_equal(dm_state_parse(stored[s], &back), DPF_OK);
        assert_int_equal(back, s);
    }
    dm_state x;
    assert_int_equal(dm_state_parse("installed", &x), DPF_ERR_INVALID);
    assert_int_equal(dm_state_parse("", &x), DPF_ERR_INVALID);
    assert_int_equal(dm_state_parse(NULL, &x), DPF_ERR_INVALID);
    assert_string_equal(dm_state_name(DM_ST__COUNT), "?");
    assert_string_equal(dm_event_name(DM_EV_START), "start");
}

static void test_decide(void **state)
{
    const char *v = DPF_COMPONENT_VERSION;
    /* the redelivered event for an installed, unchanged DP does nothing */
    assert_int_equal(dm_state_decide(DM_ST_INSTALLED, 0, "439BCA34", "439BCA34", v, "insert"),
                     DM_DO_NOTHING);
    assert_int_equal(dm_state_decide(DM_ST_INSTALLED, 0, "439BCA34", "439BCA34", v, "update"),
                     DM_DO_NOTHING);
    /* changed properties or older components: install again */
    assert_int_equal(dm_state_decide(DM_ST_INSTALLED, 0, "439BCA34", "5EAEB9DF", v, "update"),
                     DM_DO_INSTALL);
    assert_int_equal(dm_state_decide(DM_ST_INSTALLED, 0, "439BCA34", "439BCA34", "5.0.8239.1000",
                                     "reconcile"), DM_DO_INSTALL);
    /* a site reset sets the row Pending; a "reset" event that finds the DP
     * Installed (redelivered after a crash, or late after the reconcile
     * upgraded it) has been served and must not upgrade it twice */
    assert_int_equal(dm_state_decide(DM_ST_PENDING, 0, "439BCA34", "439BCA34", v, "reset"),
                     DM_DO_INSTALL);
    assert_int_equal(dm_state_decide(DM_ST_INSTALLED, 0, "439BCA34", "439BCA34", v, "reset"),
                     DM_DO_NOTHING);
    /* anything not Installed needs work */
    assert_int_equal(dm_state_decide(DM_ST_PENDING, 0, "", "439BCA34", "", "insert"),
                     DM_DO_INSTALL);
    assert_int_equal(dm_state_decide(DM_ST_FAILED, 0, "", "439BCA34", "", "reconcile"),
                     DM_DO_INSTALL);
    assert_int_equal(dm_state_decide(DM_ST_INSTALLING, 0, "", "439BCA34", "", "insert"),
                     DM_DO_INSTALL);
    /* removal is the DP manager's */
    assert_int_equal(dm_state_decide(DM_ST_INSTALLED, 3, "439BCA34", "439BCA34", v, "update"),
                     DM_DO_SKIP_REMOVED);
    assert_int_equal(dm_state_decide(DM_ST_PENDING, 3, "", "439BCA34", "", "insert"),
                     DM_DO_SKIP_REMOVED);
    assert_int_equal(dm_state_decide(DM_ST_REMOVING, 0, "", "439BCA34", "", "insert"),
                     DM_DO_SKIP_BUSY);
    assert_int_equal(dm_state_decide(DM_ST_INSTALLED, 0, "439BCA34", "439BCA34", v, NULL),
                     DM_DO_NOTHING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_install_path),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_removal_path),
        cmocka_unit_test(test_every_state_reachable_or_start),
        cmocka_unit_test(test_names_round_trip),
        cmocka_unit_test(test_decide),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

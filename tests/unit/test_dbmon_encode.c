/* dbmon: outbox row -> protobuf event, subject checks and inbox names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dbmon.h"
#include "dpfleet.pb-c.h"

static dbmon_row row(long long id, const char *subject, const char *key, const char *reason)
{
    dbmon_row r = {
        .id = id, .subject = subject, .operation = "INSERT", .table_name = "T",
        .trigger_name = "X", .object_key = key, .reason = reason, .corr = "c-1",
    };
    return r;
}

static void test_sitecontrol(void **state)
{
    dbmon_row r = row(1027921, "sitecontrol.changed.PS1", "PS1", "");
    dbmon_event ev;
    char err[128] = "";
    assert_int_equal(dbmon_encode(&r, &ev, err, sizeof err), DPF_OK);
    assert_string_equal(ev.msg_id, "outbox-1027921");
    assert_string_equal(ev.inbox, "hman.box/PS1.SCU");
    Dpf__SiteControlChanged *m = dpf__site_control_changed__unpack(NULL, ev.len, ev.data);
    assert_non_null(m);
    assert_string_equal(m->site_code, "PS1");
    assert_int_equal(m->change_id, 1027921);
    dpf__site_control_changed__free_unpacked(m, NULL);
    dbmon_event_clear(&ev);
    dbmon_event_clear(&ev); /* twice is harmless */
}

static void test_dp_ins_carries_reason(void **state)
{
    dbmon_row r = row(1027928, "dp.ins.32", "32", "update");
    dbmon_event ev;
    char err[128] = "";
    assert_int_equal(dbmon_encode(&r, &ev, err, sizeof err), DPF_OK);
    assert_string_equal(ev.inbox, "distmgr.box/32.INS");
    Dpf__DpInstall *m = dpf__dp_install__unpack(NULL, ev.len, ev.data);
    assert_non_null(m);
    assert_int_equal(m->dpid, 32);
    assert_int_equal(m->change_id, 1027928);
    assert_string_equal(m->reason, "update");
    dpf__dp_install__free_unpacked(m, NULL);
    dbmon_event_clear(&ev);
}

static void test_dp_dpn(void **state)
{
    dbmon_row r = row(1031679, "dp.dpn.34", "34", "");
    dbmon_event ev;
    char err[128] = "";
    assert_int_equal(dbmon_encode(&r, &ev, err, sizeof err), DPF_OK);
    assert_string_equal(ev.inbox, "distmgr.box/34.DPN");
    Dpf__DpNotification *m = dpf__dp_notification__unpack(NULL, ev.len, ev.data);
    assert_non_null(m);
    assert_int_equal(m->dpid, 34);
    assert_int_equal(m->change_id, 1031679);
    dpf__dp_notification__free_unpacked(m, NULL);
    dbmon_event_clear(&ev);
}

static void expect_invalid(const char *subject, const char *key, const char *needle)
{
    dbmon_row r = row(5, subject, key, "");
    dbmon_event ev;
    char err[128] = "";
    assert_int_equal(dbmon_encode(&r, &ev, err, sizeof err), DPF_ERR_INVALID);
    assert_null(ev.data);
    assert_non_null(strstr(err, needle));
    dbmon_event_clear(&ev);
}

static void test_rows_that_cannot_become_events(void **state)
{
    expect_invalid("bogus.subject", "x", "no event is defined for subject 'bogus.subject'");
    /* a prefix of a known subject is not that subject */
    expect_invalid("dp.insx.3", "3", "no event is defined");
    expect_invalid("dp.ins", "3", "no event is defined");
    /* the subject must name the row's key */
    expect_invalid("dp.ins.32", "33", "does not match key '33'");
    expect_invalid("dp.ins.abc", "abc", "'abc' is not a DPID");
    expect_invalid("dp.dpn.0", "0", "'0' is not a DPID");
    expect_invalid("dp.dpn.-4", "-4", "'-4' is not a DPID");
    expect_invalid("sitecontrol.changed.ps1", "ps1", "'ps1' is not a site code");
}

static void test_null_row(void **state)
{
    dbmon_event ev;
    char err[64];
    assert_int_equal(dbmon_encode(NULL, &ev, err, sizeof err), DPF_ERR_INVALID);
    assert_null(ev.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sitecontrol),
        cmocka_unit_test(test_dp_ins_carries_reason),
        cmocka_unit_test(test_dp_dpn),
        cmocka_unit_test(test_rows_that_cannot_become_events),
        cmocka_unit_test(test_null_row),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* distmgr message decoding (handle_dp_ins, handle_dp_dpn): a DpInstall or
 * DpNotification becomes a work item; garbage, a missing DPID or a subject
 * that disagrees with the body is marked bad (and is then terminated and
 * reported with 9901). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "handle_dp_dpn.h"
#include "handle_dp_ins.h"

#include "dpfleet.pb-c.h"

static size_t pack(long long dpid, long long change, const char *reason, uint8_t *buf)
{
    Dpf__DpInstall m = DPF__DP_INSTALL__INIT;
    m.dpid = dpid;
    m.change_id = change;
    m.reason = (char *)reason;
    dpf__dp_install__pack(&m, buf);
    return dpf__dp_install__get_packed_size(&m);
}

static void test_valid(void **state)
{
    uint8_t buf[128];
    size_t n = pack(32, 1027928, "insert", buf);
    dm_item it;
    memset(&it, 0, sizeof it);
    dm_dp_ins_decode(buf, n, "dp.ins.32", &it);
    assert_string_equal(it.bad, "");
    assert_int_equal(it.dpid, 32);
    assert_int_equal(it.change_id, 1027928);
    assert_string_equal(it.reason, "insert");
}

static void test_missing_reason_is_update(void **state)
{
    uint8_t buf[128];
    size_t n = pack(7, 0, "", buf);
    dm_item it;
    memset(&it, 0, sizeof it);
    dm_dp_ins_decode(buf, n, "dp.ins.7", &it);
    assert_int_equal(it.dpid, 7);
    assert_string_equal(it.reason, "update");
}

static void test_garbage(void **state)
{
    const char junk[] = "\xff\xff\xff\xff garbage";
    dm_item it;
    memset(&it, 0, sizeof it);
    it.dpid = 99;
    dm_dp_ins_decode(junk, sizeof junk - 1, "dp.ins.999", &it);
    assert_int_equal(it.dpid, 0);
    assert_non_null(strstr(it.bad, "not a DpInstall"));
}

static void test_empty_body_has_no_dpid(void **state)
{
    dm_item it;
    memset(&it, 0, sizeof it);
    dm_dp_ins_decode("", 0, "dp.ins.5", &it);
    assert_int_equal(it.dpid, 0);
    assert_non_null(strstr(it.bad, "without a valid DPID"));
    uint8_t buf[64];
    size_t n = pack(-4, 0, "insert", buf);
    dm_dp_ins_decode(buf, n, "dp.ins.5", &it);
    assert_int_equal(it.dpid, 0);
    assert_non_null(strstr(it.bad, "-4"));
}

static void test_subject_must_agree(void **state)
{
    uint8_t buf[64];
    size_t n = pack(32, 1, "insert", buf);
    dm_item it;
    memset(&it, 0, sizeof it);
    dm_dp_ins_decode(buf, n, "dp.ins.33", &it);
    assert_int_equal(it.dpid, 0);
    assert_non_null(strstr(it.bad, "33"));
    /* a subject without a number (test tools, replays) is not held against it */
    dm_dp_ins_decode(buf, n, "dp.ins.replay", &it);
    assert_int_equal(it.dpid, 32);
}

static size_t pack_dpn(long long dpid, uint8_t *buf)
{
    Dpf__DpNotification m = DPF__DP_NOTIFICATION__INIT;
    m.dpid = dpid;
    m.change_id = 1031679;
    dpf__dp_notification__pack(&m, buf);
    return dpf__dp_notification__get_packed_size(&m);
}

static void test_dpn(void **state)
{
    uint8_t buf[64];
    size_t n = pack_dpn(34, buf);
    dm_item it;
    memset(&it, 0, sizeof it);
    dm_dp_dpn_decode(buf, n, "dp.dpn.34", &it);
    assert_string_equal(it.bad, "");
    assert_int_equal(it.dpid, 34);
    assert_int_equal(it.change_id, 1031679);
    dm_dp_dpn_decode(buf, n, "dp.dpn.35", &it);
    assert_int_equal(it.dpid, 0);
    assert_non_null(strstr(it.bad, "35"));
    const char junk[] = "\xff\xff\xff\xff garbage";
    dm_dp_dpn_decode(junk, sizeof junk - 1, "dp.dpn.34", &it);
    assert_int_equal(it.dpid, 0);
    assert_non_null(strstr(it.bad, "not a DpNotification"));
    dm_dp_dpn_decode("", 0, "dp.dpn.34", &it);
    assert_int_equal(it.dpid, 0);
    assert_non_null(strstr(it.bad, "without a valid DPID"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_missing_reason_is_update),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_empty_body_has_no_dpid),
        cmocka_unit_test(test_subject_must_agree),
        cmocka_unit_test(test_dpn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The outcome rules of a trace (services/provider/trace_outcome.c) on rows
 * built here: the latest attempt decides, in the order waiting, failed,
 * running, completed by its status message, between two steps; with no
 * attempt the newest deciding status message; and the ISO times. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "trace_outcome.h"

#define T0 1764669600000LL /* 2025-12-02T10:00:00.000Z */

static prov_trace_row step(long long id, int64_t at, int64_t dur, const char *job_id,
                           const char *name, const char *result, const char *msg)
{
    prov_trace_row r;
    memset(&r, 0, sizeof r);
    r.id = id;
    r.at_ms = T0 + at;
    r.ended_ms = dur < 0 ? -1 : T0 + at + dur;
    r.job = "install";
    r.job_id = job_id;
    r.step = name;
    r.result = result;
    r.message = msg;
    for (int i = 0; i < 5; i++)
        r.istr[i] = "";
    return r;
}

static prov_trace_row statmsg(long long id, int64_t at, int msg_id, const char *s2, const char *s3)
{
    prov_trace_row r = step(id, at, 0, "", "", "", "");
    r.is_statmsg = 1;
    r.msg_id = msg_id;
    r.istr[2] = s2;
    r.istr[3] = s3;
    return r;
}

static void test_failed_then_retried_is_installed(void **state)
{
    (void)state;
    prov_trace_row rows[] = {
        step(1, 0, 5, "a", "install_files", "ok", ""),
        step(2, 10, 5, "a", "create_shares", "failed", "no room"),
        statmsg(3, 16, 2398, "create_shares", "no room"),
        step(4, 2000, 5, "b", "install_files", "ok", ""),
        step(5, 2010, 5, "b", "create_shares", "ok", ""),
        statmsg(6, 2020, 2399, "", ""),
    };
    prov_trace_outcome o;
    prov_trace_outcome_of(rows, 6, &o);
    assert_int_equal(o.state, PROV_TRACE_DONE);
    assert_string_equal(o.text, "Installed");
    assert_int_equal(o.attempts, 2);
    /* without the 2399 the retry is between two steps */
    prov_trace_outcome_of(rows, 5, &o);
    assert_string_equal(o.text, "Still running: install since 2025-12-02T10:00:02.000Z");
    /* the first attempt alone failed */
    prov_trace_outcome_of(rows, 3, &o);
    assert_int_equal(o.state, PROV_TRACE_FAILED);
    assert_string_equal(o.text, "Failed at create_shares: no room");
    assert_string_equal(o.step, "create_shares");
    assert_string_equal(o.reason, "no room");
    assert_int_equal(o.attempts, 1);
}

static void test_running_and_waiting(void **state)
{
    (void)state;
    prov_trace_row rows[] = {
        step(1, 0, 5, "a", "install_files", "ok", ""),
        step(2, 7, -1, "a", "create_shares", "running", ""),
        step(3, 9, 0, "", "lease", "waiting", "the removal of the DP holds its lease"),
    };
    prov_trace_outcome o;
    prov_trace_outcome_of(rows, 2, &o);
    assert_string_equal(o.text, "Still running: create_shares since 2025-12-02T10:00:00.007Z");
    prov_trace_outcome_of(rows, 3, &o);
    assert_int_equal(o.state, PROV_TRACE_WAITING);
    assert_string_equal(o.text, "Waiting: the removal of the DP holds its lease");
}

static void test_statmsgs_alone(void **state)
{
    (void)state;
    prov_trace_row rows[] = {
        statmsg(1, 0, 2390, "", ""),
        statmsg(2, 50, 2392, "remove_shares", "busy"),
        statmsg(3, 60, 9901, "", ""), /* never decides */
    };
    prov_trace_outcome o;
    prov_trace_outcome_of(rows, 1, &o);
    assert_string_equal(o.text, "Still running: removal since 2025-12-02T10:00:00.000Z");
    prov_trace_outcome_of(rows, 3, &o);
    assert_string_equal(o.text, "Failed at remove_shares: busy");
    prov_trace_outcome_of(rows + 2, 1, &o);
    assert_int_equal(o.state, PROV_TRACE_NONE);
    prov_trace_outcome_of(NULL, 0, &o);
    assert_int_equal(o.state, PROV_TRACE_NONE);
}

static void test_removal_completes_with_2391_only(void **state)
{
    (void)state;
    prov_trace_row rows[] = {
        step(1, 0, 5, "r", "remove_settings", "ok", ""),
        statmsg(2, 10, 2399, "", ""), /* not the removal's */
    };
    rows[0].job = "remove";
    prov_trace_outcome o;
    prov_trace_outcome_of(rows, 2, &o);
    assert_int_equal(o.state, PROV_TRACE_RUNNING);
    rows[1].msg_id = 2391;
    prov_trace_outcome_of(rows, 2, &o);
    assert_string_equal(o.text, "Removed");
}

/* The DP's own job decides over its client packages' distribution in the
 * same action; alone, the content jobs decide together. */
static void test_dp_outcome_own_job_and_content(void **state)
{
    (void)state;
    prov_trace_row rows[] = {
        step(1, 0, 5, "a", "install_files", "ok", ""),
        statmsg(2, 10, 2399, "", ""),
        step(3, 20, 5, "t1", "package CS100002 version 1", "ok", ""),
        step(4, 21, 5, "t2", "package CS100003 version 1", "failed", "disk full"),
        step(5, 30, -1, "t3", "package CS100024 version 1", "running", ""),
    };
    for (int i = 2; i < 5; i++)
        rows[i].job = "distribute";
    prov_trace_outcome o;
    prov_trace_item items[8];
    size_t n = prov_trace_dp_outcome(rows, 5, &o, items, 8);
    assert_string_equal(o.text, "Installed");
    assert_int_equal(n, 4);
    assert_string_equal(items[0].name, "install");
    assert_string_equal(items[1].name, "distribute: package CS100002 version 1");
    assert_string_equal(items[1].o.text, "Distributed");
    assert_string_equal(items[2].o.text, "Failed at package CS100003 version 1: disk full");
    /* a distribution alone: the failed package decides */
    n = prov_trace_dp_outcome(rows + 2, 3, &o, NULL, 0);
    assert_int_equal(n, 3);
    assert_string_equal(o.text, "Failed at package CS100003 version 1: disk full");
    /* all sent */
    n = prov_trace_dp_outcome(rows + 2, 1, &o, items, 1);
    assert_string_equal(o.text, "Distributed");
    /* a retry of the same package is an attempt of the same job */
    prov_trace_row retry[] = {rows[3], rows[3]};
    retry[1].id = 9;
    retry[1].at_ms += 1000;
    retry[1].job_id = "t9";
    retry[1].result = "ok";
    n = prov_trace_dp_outcome(retry, 2, &o, items, 8);
    assert_int_equal(n, 1);
    assert_string_equal(o.text, "Distributed");
    assert_int_equal(o.attempts, 2);
}

static void test_iso(void **state)
{
    (void)state;
    char buf[40];
    prov_trace_iso(T0 + 7, buf, sizeof buf);
    assert_string_equal(buf, "2025-12-02T10:00:00.007Z");
    prov_trace_iso(0, buf, sizeof buf);
    assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failed_then_retried_is_installed),
        cmocka_unit_test(test_running_and_waiting),
        cmocka_unit_test(test_statmsgs_alone),
        cmocka_unit_test(test_removal_completes_with_2391_only),
        cmocka_unit_test(test_dp_outcome_own_job_and_content),
        cmocka_unit_test(test_iso),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

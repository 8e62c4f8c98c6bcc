/* Changing, removing and resetting over the API (PATCH/DELETE
 * /v1/distributionpoints/{serverName}, POST /v1/sites/{siteCode}/reset)
 * against the real provider and PostgreSQL: what changes, what must not,
 * and exactly one wake-up event per admin change. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_provider_harness.h"

static void send_json(const char *method, const char *path, const char *json, resp *r)
{
    static const char *const h[] = {"X-Dpf-Application: test", NULL};
    http(method, path, json, json ? strlen(json) : 0, h, r);
}

static long long prop(const char *server, const char *name)
{
    const char *p[] = {server, name};
    return sql_int("SELECT pr.value3 FROM site_system_role_props pr JOIN site_system_roles r "
                   "ON r.id = pr.role_id WHERE r.server_name = $1 AND pr.name = $2", 2, p);
}

static int setup(void **state)
{
    (void)state;
    if (ph_setup("provider_changes") != 0)
        return -1;
    resp r;
    post("{\"serverName\":\"ps1dp1.contoso.com\",\"siteCode\":\"PS1\",\"description\":\"one\","
         "\"enablePXE\":true,\"boundaryGroups\":[\"Group A\",\"Group B\"]}", &r);
    int ok = r.status == 201;
    resp_free(&r);
    post("{\"serverName\":\"ps1dp2.contoso.com\",\"siteCode\":\"PS1\","
         "\"pullDP\":{\"sources\":[{\"serverName\":\"ps1dp1.contoso.com\",\"priority\":1}]}}", &r);
    ok = ok && r.status == 201;
    resp_free(&r);
    return ok ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return ph_teardown();
}

static void test_patch_changes_only_what_is_given(void **state)
{
    (void)state;
    long long before[NCOUNTS], after[NCOUNTS];
    counts(before);
    resp r;
    send_json("PATCH", "/v1/distributionpoints/PS1DP1.contoso.com",
              "{\"description\":\"one, changed\",\"priority\":7,"
              "\"boundaryGroups\":[\"group b\",\"Group C\"]}", &r);
    if (r.status != 200)
        print_error("%s\n", r.body);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "serverName"), "PS1DP1.CONTOSO.COM");
    assert_string_equal(jstr(r.json, "siteCode"), "PS1");
    const char *corr = jstr(r.json, "correlationId");
    const char *p[] = {corr};
    assert_int_equal(prop("PS1DP1.CONTOSO.COM", "Priority"), 7);
    assert_int_equal(prop("PS1DP1.CONTOSO.COM", "IsPXE"), 1); /* not given: kept */
    assert_int_equal(prop("PS1DP1.CONTOSO.COM", "MinFreeSpace"), 50);
    const char *srv[] = {"PS1DP1.CONTOSO.COM"};
    char *desc = sql_text("SELECT pr.value1 FROM site_system_role_props pr JOIN site_system_roles r "
                          "ON r.id = pr.role_id WHERE r.server_name = $1 AND pr.name = 'Description'", 1, srv);
    assert_string_equal(desc, "one, changed");
    free(desc);
    /* groups: A left, B kept (matched case-insensitively), C created and joined */
    char *groups = sql_text("SELECT string_agg(g.name, '|' ORDER BY g.name) FROM boundary_group_members m "
                            "JOIN boundary_groups g ON g.id = m.group_id WHERE m.server_name = $1", 1, srv);
    assert_string_equal(groups, "Group B|Group C");
    free(groups);
    assert_int_equal(sql_int("SELECT count(*) FROM audit_log WHERE correlation_id = $1 AND "
                             "class_name = 'SMS_SCI_SysResUse' AND action = 'modified'", 1, p), 1);
    assert_int_equal(sql_int("SELECT count(*) FROM audit_log WHERE correlation_id = $1 AND "
                             "class_name = 'SMS_BoundaryGroup' AND action = 'modified'", 1, p), 2);
    assert_int_equal(sql_int("SELECT count(*) FROM outbox WHERE correlation_id = $1 AND "
                             "subject = 'sitecontrol.changed.PS1'", 1, p), 1);
    counts(after);
    assert_int_equal(after[6], before[6] + 1); /* one outbox row */
    assert_int_equal(after[7], before[7] + 1); /* one site control change */
    assert_int_equal(after[0], before[0]);     /* no role added or removed */
    assert_true(log_contains("from the boundary group Group A"));
    assert_true(log_contains("Auditing: User CONTOSO\\Admin modified an instance of class SMS_SCI_SysResUse."));
    resp_free(&r);
}

static void test_patch_bad_input_changes_nothing(void **state)
{
    (void)state;
    static const struct {
        const char *path, *body;
        long status;
        const char *field;
    } cases[] = {
        {"/v1/distributionpoints/ps1dp1.contoso.com", "{\"serverName\":\"x.contoso.com\"}", 400, "serverName"},
        {"/v1/distributionpoints/ps1dp1.contoso.com", "{\"siteCode\":\"PS2\"}", 400, "siteCode"},
        {"/v1/distributionpoints/ps1dp1.contoso.com", "{}", 400, NULL},
        {"/v1/distributionpoints/ps1dp1.contoso.com", "{\"priority\":\"high\"}", 400, "priority"},
        {"/v1/distributionpoints/ps1dp1.contoso.com", "not json", 400, NULL},
        {"/v1/distributionpoints/nothere.contoso.com", "{\"priority\":3}", 404, "serverName"},
        {"/v1/distributionpoints/bad_name", "{\"priority\":3}", 404, "serverName"},
        {"/v1/distributionpoints/ps1dp1.contoso.com",
         "{\"pullDP\":{\"sources\":[{\"serverName\":\"PS1DP1.CONTOSO.COM\",\"priority\":1}]}}", 400, "pullDP.sources"},
        {"/v1/distributionpoints/ps1dp1.contoso.com",
         "{\"pullDP\":{\"sources\":[{\"serverName\":\"nowhere.contoso.com\",\"priority\":1}]}}", 400, "pullDP.sources"},
        /* PS1DP2 pulls from PS1DP1 (setup): a loop */
        {"/v1/distributionpoints/ps1dp1.contoso.com",
         "{\"pullDP\":{\"sources\":[{\"serverName\":\"ps1dp2.contoso.com\",\"priority\":1}]}}", 409, "pullDP.sources"},
    };
    long long before[NCOUNTS], after[NCOUNTS];
    counts(before);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        resp r;
        send_json("PATCH", cases[i].path, cases[i].body, &r);
        if (r.status != cases[i].status)
            print_error("case %zu: %s\n", i, r.body ? r.body : "");
        assert_json_error(&r, cases[i].status, cases[i].field);
        resp_free(&r);
    }
    counts(after);
    for (int i = 0; i < NCOUNTS; i++)
        assert_int_equal(after[i], before[i]);
    assert_int_equal(prop("PS1DP1.CONTOSO.COM", "Priority"), 7);
}

static void test_delete_refused_while_a_pull_source(void **state)
{
    (void)state;
    long long before[NCOUNTS], after[NCOUNTS];
    counts(before);
    resp r;
    send_json("DELETE", "/v1/distributionpoints/ps1dp1.contoso.com", NULL, &r);
    assert_json_error(&r, 409, "serverName");
    assert_non_null(strstr(jstr(r.json, "error"), "PS1DP2.CONTOSO.COM"));
    resp_free(&r);
    counts(after);
    for (int i = 0; i < NCOUNTS; i++)
        assert_int_equal(after[i], before[i]);
}

static void test_patch_pull_off(void **state)
{
    (void)state;
    resp r;
    send_json("PATCH", "/v1/distributionpoints/ps1dp2.contoso.com", "{\"pullDP\":null}", &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    assert_int_equal(prop("PS1DP2.CONTOSO.COM", "IsPullDP"), 0);
    const char *srv[] = {"PS1DP2.CONTOSO.COM"};
    assert_int_equal(sql_int("SELECT count(*) FROM pull_dp_sources s JOIN site_system_roles r "
                             "ON r.id = s.role_id WHERE r.server_name = $1", 1, srv), 0);
    http("GET", "/v1/distributionpoints/ps1dp2.contoso.com", NULL, 0, NULL, &r);
    assert_true(json_is_null(json_object_get(r.json, "pullDP")));
    resp_free(&r);
}

static void test_delete(void **state)
{
    (void)state;
    long long before[NCOUNTS], after[NCOUNTS];
    counts(before);
    resp r;
    send_json("DELETE", "/v1/distributionpoints/PS1DP1.CONTOSO.COM", NULL, &r);
    if (r.status != 200)
        print_error("%s\n", r.body);
    assert_int_equal(r.status, 200);
    const char *p[] = {jstr(r.json, "correlationId"), "PS1DP1.CONTOSO.COM"};
    assert_int_equal(sql_int("SELECT count(*) FROM site_system_roles WHERE server_name = $1 "
                             "AND role_name = 'SMS Distribution Point'", 1, p + 1), 0);
    assert_int_equal(sql_int("SELECT count(*) FROM boundary_group_members WHERE server_name = $1", 1, p + 1), 0);
    assert_int_equal(sql_int("SELECT count(*) FROM audit_log WHERE correlation_id = $1 AND "
                             "class_name = 'SMS_SCI_SysResUse' AND action = 'deleted'", 1, p), 1);
    assert_int_equal(sql_int("SELECT count(*) FROM outbox WHERE correlation_id = $1 AND "
                             "subject = 'sitecontrol.changed.PS1'", 1, p), 1);
    counts(after);
    assert_int_equal(after[0], before[0] - 1); /* the DP role; the site system stays */
    assert_int_equal(after[1], before[1] - 9); /* its nine properties */
    assert_int_equal(after[6], before[6] + 1);
    assert_int_equal(after[7], before[7] + 1);
    assert_true(log_contains("DeleteInstanceAsync SMS_SCI_SysResUse.FileType=2,ItemName="));
    assert_true(log_contains("Auditing: User CONTOSO\\Admin deleted an instance of class SMS_SCI_SysResUse."));
    resp_free(&r);

    http("GET", "/v1/distributionpoints/ps1dp1.contoso.com", NULL, 0, NULL, &r);
    assert_json_error(&r, 404, "serverName");
    resp_free(&r);
    send_json("DELETE", "/v1/distributionpoints/ps1dp1.contoso.com", NULL, &r);
    assert_json_error(&r, 404, "serverName");
    resp_free(&r);
}

static void test_readd_while_removal_pending(void **state)
{
    (void)state;
    /* hman marked the removed DP Action = 3; distmgr has not finished */
    assert_int_equal(dpf_db_exec(g_db,
        "INSERT INTO distribution_points (server_name, nal_path, site_code, identity_guid, dp_crc, action) "
        "VALUES ('PS1DP1.CONTOSO.COM', '[\"Display=\\\\PS1DP1.CONTOSO.COM\\\"]MSWNET:[\"SMS_SITE=PS1\"]"
        "\\\\PS1DP1.CONTOSO.COM\\', 'PS1', 'g', '1', 3)", 0, NULL, NULL), DPF_OK);
    resp r;
    post("{\"serverName\":\"ps1dp1.contoso.com\",\"siteCode\":\"PS1\"}", &r);
    assert_json_error(&r, 409, "serverName");
    assert_non_null(strstr(jstr(r.json, "error"), "still being removed"));
    resp_free(&r);
    assert_int_equal(dpf_db_exec(g_db, "DELETE FROM distribution_points", 0, NULL, NULL), DPF_OK);
}

static void test_site_reset(void **state)
{
    (void)state;
    assert_int_equal(dpf_db_exec(g_db,
        "INSERT INTO distribution_points (server_name, nal_path, site_code, identity_guid, dp_crc, "
        "install_state, action) VALUES "
        "('A.CONTOSO.COM', 'nal-a', 'PS1', 'g1', '1', 'Installed', 0), "
        "('B.CONTOSO.COM', 'nal-b', 'PS1', 'g2', '2', 'Failed', 0), "
        "('C.CONTOSO.COM', 'nal-c', 'PS1', 'g3', '3', 'Removing', 3)", 0, NULL, NULL), DPF_OK);
    long long before[NCOUNTS], after[NCOUNTS];
    counts(before);
    resp r;
    send_json("POST", "/v1/sites/ps1/reset", NULL, &r);
    if (r.status != 200)
        print_error("%s\n", r.body);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "distributionPoints")), 2);
    const char *p[] = {jstr(r.json, "correlationId")};
    /* one dp.ins per DP that is not being removed, each with the correlation id */
    assert_int_equal(sql_int("SELECT count(*) FROM outbox WHERE correlation_id = $1 AND "
                             "subject LIKE 'dp.ins.%' AND reason = 'reset'", 1, p), 2);
    assert_int_equal(sql_int("SELECT count(*) FROM distribution_points WHERE install_state = 'Pending'", 0, NULL), 2);
    assert_int_equal(sql_int("SELECT count(*) FROM audit_log WHERE correlation_id = $1 AND action = 'reset'", 1, p), 1);
    counts(after);
    assert_int_equal(after[7], before[7]); /* a reset is not a site control change */
    resp_free(&r);

    send_json("POST", "/v1/sites/ZZ9/reset", NULL, &r);
    assert_json_error(&r, 404, "siteCode");
    resp_free(&r);
    send_json("POST", "/v1/sites/P'1/reset", NULL, &r);
    assert_json_error(&r, 404, "siteCode");
    resp_free(&r);
    send_json("GET", "/v1/sites/PS1/reset", NULL, &r);
    assert_json_error(&r, 405, NULL);
    resp_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_patch_changes_only_what_is_given),
        cmocka_unit_test(test_patch_bad_input_changes_nothing),
        cmocka_unit_test(test_delete_refused_while_a_pull_source),
        cmocka_unit_test(test_patch_pull_off),
        cmocka_unit_test(test_delete),
        cmocka_unit_test(test_readd_while_removal_pending),
        cmocka_unit_test(test_site_reset),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

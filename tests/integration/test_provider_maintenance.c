/* Maintenance mode, validation requests and the validation schedule over the
 * provider's API against a real PostgreSQL (issue 7 items 1, 3, behaviours
 * 4 and 5, and the schedule of item 5): both ways of setting the mode
 * (POST .../maintenance and the source's SetDPMaintenanceMode with its
 * ReturnValue), its audit row and status messages 2394/2395 naming the
 * user, the 409 naming the boundary groups and packages a DP would leave
 * without a source and the forced 2396, enabling under a lock, every
 * property change refused while in maintenance mode with nothing changed,
 * WaitingMaintenance content released when it ends, validation requests,
 * contentValidationIntervalHours, and dpctl's commands. The
 * distribution_points rows are written directly (hman does that in the real
 * stack). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <dpf/dp.h>
#include "dpf_test.h"
#include "test_provider_harness.h"

#ifndef DPCTL_BIN
#error "DPCTL_BIN must be defined"
#endif

#define MAINT_LOCK_KEY "7233958143587938932" /* store_maint.c */

static const char *const H[] = {"Content-Type: application/json",
                                "X-Dpf-Application: test_provider_maintenance",
                                "X-Dpf-Machine: PS1SITE.CONTOSO.COM", NULL};

static void call(const char *method, const char *path, const char *body, resp *r)
{
    http(method, path, body, body ? strlen(body) : 0, H, r);
}

static void sql(const char *q, int n, const char *const *p)
{
    dpf_test_sql(g_db, q, n, p);
}

static void nal_of(const char *server, char *out)
{
    assert_int_equal(dpf_nal_path(server, "PS1", out, DPF_NAL_MAX), DPF_OK);
}

/* A DP as the provider adds it, then its DistributionPoints row as hman
 * writes it (state NULL: no row). */
static int add_dp(const char *server, const char *groups_json, const char *state, int action)
{
    char body[512], nal[DPF_NAL_MAX];
    resp r;
    if (action == 0) {
        snprintf(body, sizeof body, "{\"serverName\":\"%s\",\"siteCode\":\"PS1\"%s%s}", server,
                 groups_json ? ",\"boundaryGroups\":" : "", groups_json ? groups_json : "");
        post(body, &r);
        int ok = r.status == 201;
        resp_free(&r);
        if (!ok)
            return -1;
    }
    if (state == NULL)
        return 0;
    nal_of(server, nal);
    char act[4];
    snprintf(act, sizeof act, "%d", action);
    const char *p[] = {server, nal, state, act};
    sql("INSERT INTO distribution_points (server_name, nal_path, site_code, identity_guid, "
        "dp_crc, install_state, action) VALUES (upper($1), $2, 'PS1', md5($1), 'ABC', $3, "
        "$4::int)",
        4, p);
    return 0;
}

static void hold(const char *server, const char *pkg)
{
    const char *p[] = {server, pkg};
    sql("INSERT INTO dp_packages (dpid, package_id, state, version, installed_version) "
        "SELECT dpid, $2, 'Installed', 1, 1 FROM distribution_points WHERE server_name = $1",
        2, p);
}

static int setup(void **state)
{
    (void)state;
    if (ph_setup("provider_maintenance") != 0)
        return -1;
    /* Branch A: DP1, DP2; Branch B: DP1 alone; Branch C: DP3, DP4 */
    if (add_dp("ps1dp1.contoso.com", "[\"Branch A\",\"Branch B\"]", "Installed", 0) ||
        add_dp("ps1dp2.contoso.com", "[\"Branch A\"]", "Installed", 0) ||
        add_dp("ps1dp3.contoso.com", "[\"Branch C\"]", "Installed", 0) ||
        add_dp("ps1dp4.contoso.com", "[\"Branch C\"]", "Installed", 0) ||
        add_dp("ps1dp5.contoso.com", NULL, "Installed", 0) ||
        add_dp("ps1dp6.contoso.com", NULL, "Installing", 0) ||
        add_dp("PS1GONE.CONTOSO.COM", NULL, "Removing", 3) ||
        add_dp("ps1dp8.contoso.com", NULL, NULL, 0))
        return -1;
    sql("INSERT INTO packages (package_id, name) VALUES ('PS100001', 'Office'), "
        "('PS100002', 'Viewer'), ('PS100003', 'Drivers')", 0, NULL);
    /* PS100001 on DP1 and DP2; PS100002 on DP1 only; PS100003 on DP3 and DP4 */
    hold("PS1DP1.CONTOSO.COM", "PS100001");
    hold("PS1DP1.CONTOSO.COM", "PS100002");
    hold("PS1DP2.CONTOSO.COM", "PS100001");
    hold("PS1DP3.CONTOSO.COM", "PS100003");
    hold("PS1DP4.CONTOSO.COM", "PS100003");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return ph_teardown();
}

/* Everything a refused request must leave alone, as one text. */
static char *snapshot(void)
{
    return sql_text(
        "SELECT concat_ws('|', "
        "(SELECT md5(string_agg(concat_ws(',', dpid, maintenance_mode, maintenance_changed_by, "
        "   maintenance_changed_at, validation_requested_at, dp_crc, install_state), ';' "
        "   ORDER BY dpid)) FROM distribution_points), "
        "(SELECT md5(string_agg(concat_ws(',', dpid, package_id, state), ';' "
        "   ORDER BY dpid, package_id)) FROM dp_packages), "
        "(SELECT md5(string_agg(concat_ws(',', role_id, name, value1, value3), ';' "
        "   ORDER BY role_id, name)) FROM site_system_role_props), "
        "(SELECT md5(coalesce(string_agg(concat_ws(',', group_id, nal_path), ';' "
        "   ORDER BY group_id, nal_path), '')) FROM boundary_group_members), "
        "(SELECT count(*) FROM pull_dp_sources), (SELECT count(*) FROM audit_log), "
        "(SELECT count(*) FROM outbox), (SELECT count(*) FROM status_messages), "
        "(SELECT serial FROM site_control WHERE site_code = 'PS1'))", 0, NULL);
}

static long long maint_of(const char *server)
{
    const char *p[] = {server};
    return sql_int("SELECT maintenance_mode::int FROM distribution_points WHERE server_name = $1",
                   1, p);
}

static json_t *find_dp(json_t *list, const char *server)
{
    size_t i;
    json_t *dp;
    json_array_foreach(list, i, dp) {
        if (strcmp(jstr(dp, "serverName"), server) == 0)
            return dp;
    }
    return NULL;
}

static void test_json_shows_mode_and_schedule(void **state)
{
    (void)state;
    resp r;
    call("GET", "/v1/distributionpoints", NULL, &r);
    assert_int_equal(r.status, 200);
    json_t *dp = find_dp(r.json, "PS1DP1.CONTOSO.COM");
    assert_non_null(dp);
    assert_true(json_is_false(json_object_get(dp, "maintenanceMode")));
    assert_int_equal(json_integer_value(json_object_get(dp, "contentValidationIntervalHours")), 168);
    assert_true(json_is_null(json_object_get(dp, "lastValidationAt")));
    assert_true(json_is_null(json_object_get(dp, "lastValidationResult")));
    /* a DP hman has not processed yet is not in maintenance mode either */
    dp = find_dp(r.json, "PS1DP8.CONTOSO.COM");
    assert_true(json_is_false(json_object_get(dp, "maintenanceMode")));
    resp_free(&r);
    sql("UPDATE distribution_points SET last_validation_at = '2026-01-02 03:04:05+00', "
        "last_validation_result = 'verified 2 packages' WHERE server_name = 'PS1DP5.CONTOSO.COM'",
        0, NULL);
    call("GET", "/v1/distributionpoints/ps1dp5.contoso.com", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "lastValidationAt"), "2026-01-02T03:04:05Z");
    assert_string_equal(jstr(r.json, "lastValidationResult"), "verified 2 packages");
    assert_true(json_is_false(json_object_get(r.json, "maintenanceMode")));
    resp_free(&r);
}

static void expect_dp1_impact(json_t *o)
{
    json_t *groups = json_object_get(o, "boundaryGroups");
    assert_int_equal(json_array_size(groups), 1);
    assert_string_equal(json_string_value(json_array_get(groups, 0)), "Branch B");
    json_t *pkgs = json_object_get(o, "packages");
    assert_int_equal(json_array_size(pkgs), 3);
    static const char *const want[3][2] = {
        {"PS100001", "Branch B"}, {"PS100002", "Branch A"}, {"PS100002", "Branch B"}};
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(jstr(json_array_get(pkgs, i), "packageId"), want[i][0]);
        assert_string_equal(jstr(json_array_get(pkgs, i), "boundaryGroup"), want[i][1]);
    }
}

/* DP1 is the only DP of Branch B and the only one holding PS100002. */
static void test_enable_refused_when_last_source(void **state)
{
    (void)state;
    char *before = snapshot();
    resp r;
    call("POST", "/v1/distributionpoints/ps1dp1.contoso.com/maintenance", "{\"enabled\":true}", &r);
    if (r.status != 409)
        print_error("%s\n", r.body);
    assert_int_equal(r.status, 409);
    assert_non_null(strstr(jstr(r.json, "error"), "Branch B"));
    assert_non_null(strstr(jstr(r.json, "error"), "PS100002"));
    assert_non_null(strstr(jstr(r.json, "error"), "force"));
    expect_dp1_impact(r.json);
    resp_free(&r);

    call("POST", "/v1/SetDPMaintenanceMode", "{\"NALPath\":\"[\\\"Display=\\\\\\\\PS1DP1.CONTOSO.COM"
         "\\\\\\\"]MSWNET:[\\\"SMS_SITE=PS1\\\"]\\\\\\\\PS1DP1.CONTOSO.COM\\\\\",\"Mode\":1}", &r);
    if (r.status != 409)
        print_error("%s\n", r.body);
    assert_int_equal(r.status, 409);
    assert_int_equal(json_integer_value(json_object_get(r.json, "ReturnValue")), 2147749889LL);
    expect_dp1_impact(r.json);
    resp_free(&r);

    char *after = snapshot();
    assert_string_equal(after, before);
    free(before);
    free(after);
    assert_int_equal(maint_of("PS1DP1.CONTOSO.COM"), 0);
}

/* DP2 shares Branch A and PS100001 with DP1, which still serves: no impact. */
static void test_enable_without_impact_then_same_mode_again(void **state)
{
    (void)state;
    resp r;
    call("POST", "/v1/distributionpoints/PS1DP2.contoso.com/maintenance", "{\"enabled\":true}", &r);
    if (r.status != 200)
        print_error("%s\n", r.body);
    assert_int_equal(r.status, 200);
    assert_true(json_is_true(json_object_get(r.json, "maintenanceMode")));
    assert_true(json_is_true(json_object_get(r.json, "changed")));
    assert_null(json_object_get(r.json, "leftWithoutSource"));
    resp_free(&r);
    assert_int_equal(maint_of("PS1DP2.CONTOSO.COM"), 1);

    char *before = snapshot();
    call("POST", "/v1/distributionpoints/PS1DP2.contoso.com/maintenance", "{\"enabled\":true}", &r);
    assert_int_equal(r.status, 200);
    assert_true(json_is_false(json_object_get(r.json, "changed")));
    resp_free(&r);
    char *after = snapshot();
    assert_string_equal(after, before); /* nothing written */
    free(after);
    free(before);

    call("POST", "/v1/distributionpoints/PS1DP2.contoso.com/maintenance", "{\"enabled\":false}", &r);
    assert_int_equal(r.status, 200);
    assert_true(json_is_true(json_object_get(r.json, "changed")));
    resp_free(&r);
    assert_int_equal(maint_of("PS1DP2.CONTOSO.COM"), 0);
}

static void test_enable_forced(void **state)
{
    (void)state;
    resp r;
    call("POST", "/v1/distributionpoints/ps1dp1.contoso.com/maintenance",
         "{\"enabled\":true,\"force\":true}", &r);
    if (r.status != 200)
        print_error("%s\n", r.body);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "serverName"), "PS1DP1.CONTOSO.COM");
    assert_true(json_is_true(json_object_get(r.json, "maintenanceMode")));
    expect_dp1_impact(json_object_get(r.json, "leftWithoutSource"));
    const char *p[] = {jstr(r.json, "correlationId"), "PS1DP1.CONTOSO.COM"};
    assert_int_equal(sql_int("SELECT count(*) FROM distribution_points WHERE server_name = $1 AND "
                             "maintenance_mode AND maintenance_changed_by = 'CONTOSO\\Admin' AND "
                             "maintenance_changed_at > now() - interval '1 minute'", 1, p + 1), 1);
    assert_int_equal(sql_int("SELECT count(*) FROM audit_log WHERE correlation_id = $1 AND "
                             "class_name = 'SMS_DistributionPointInfo' AND action = 'modified' "
                             "AND user_name = 'CONTOSO\\Admin' AND object LIKE "
                             "'NALPath=\"[\"Display=%PS1DP1.CONTOSO.COM%\",MaintenanceMode=1'",
                             1, p), 1);
    /* 2394 naming the user, 2396 W naming groups and packages, both queued */
    assert_int_equal(sql_int("SELECT count(*) FROM status_messages s JOIN outbox o "
                             "ON o.object_key = s.id::text AND o.table_name = 'StatusMessages' "
                             "WHERE s.correlation_id = $1 AND s.msg_id = 2394 AND s.severity = 'I' "
                             "AND s.istr[2] = $2 AND s.istr[3] = 'CONTOSO\\Admin' AND "
                             "s.istr[1] LIKE '%MSWNET%' AND s.site_code = 'PS1' AND "
                             "o.subject = 'statmsg.PS1.SMS_PROVIDER.2394'", 2, p), 1);
    assert_int_equal(sql_int("SELECT count(*) FROM status_messages WHERE correlation_id = $1 "
                             "AND msg_id = 2396 AND severity = 'W' AND istr[2] = 'CONTOSO\\Admin' "
                             "AND istr[3] = 'Branch B' AND istr[4] = 'PS100001 (Branch B), "
                             "PS100002 (Branch A), PS100002 (Branch B)'", 1, p), 1);
    /* DP information, not site control: no hman wake-up */
    assert_int_equal(sql_int("SELECT count(*) FROM outbox WHERE correlation_id = $1 AND "
                             "subject LIKE 'sitecontrol.%'", 1, p), 0);
    resp_free(&r);
    assert_true(log_contains("entered maintenance mode (user CONTOSO\\Admin)"));
}

/* Behaviour 4: every property change refused, nothing changed. DP1 is in
 * maintenance mode since test_enable_forced. */
static void test_properties_read_only(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        "{\"description\":\"patched\"}",
        "{\"enablePXE\":true}",
        "{\"priority\":3}",
        "{\"minFreeSpaceMB\":100}",
        "{\"drive\":\"E:\"}",
        "{\"boundaryGroups\":[\"Branch A\",\"Branch B\",\"Branch Z\"]}",
        "{\"boundaryGroups\":[]}",
        "{\"pullDP\":{\"sources\":[{\"serverName\":\"ps1dp5.contoso.com\",\"priority\":1}]}}",
        "{\"contentValidationIntervalHours\":24}",
    };
    char *before = snapshot();
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        resp r;
        call("PATCH", "/v1/distributionpoints/ps1dp1.contoso.com", bodies[i], &r);
        if (r.status != 409)
            print_error("%s -> %ld %s\n", bodies[i], r.status, r.body);
        assert_int_equal(r.status, 409);
        assert_non_null(strstr(jstr(r.json, "error"), "maintenance mode"));
        resp_free(&r);
    }
    char *after = snapshot();
    assert_string_equal(after, before);
    free(after);
    free(before);
    /* another DP is not affected */
    resp r;
    call("PATCH", "/v1/distributionpoints/ps1dp5.contoso.com", "{\"priority\":4}", &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
}

/* Behaviour 5 (its API half): a validation can be asked for in maintenance mode. */
static void test_validate(void **state)
{
    (void)state;
    resp r;
    call("POST", "/v1/distributionpoints/ps1dp1.contoso.com/validate", NULL, &r);
    if (r.status != 202)
        print_error("%s\n", r.body);
    assert_int_equal(r.status, 202);
    assert_string_equal(jstr(r.json, "serverName"), "PS1DP1.CONTOSO.COM");
    const char *p[] = {jstr(r.json, "correlationId")};
    assert_string_equal(p[0], r.corr);
    assert_int_equal(sql_int("SELECT count(*) FROM outbox o JOIN distribution_points d "
                             "ON o.subject = 'dp.val.' || d.dpid WHERE o.correlation_id = $1 AND "
                             "d.server_name = 'PS1DP1.CONTOSO.COM' AND "
                             "d.validation_requested_at IS NOT NULL", 1, p), 1);
    assert_int_equal(sql_int("SELECT count(*) FROM audit_log WHERE correlation_id = $1 AND "
                             "class_name = 'SMS_DistributionPointInfo' AND action = 'validate'",
                             1, p), 1);
    resp_free(&r);
    call("GET", "/v1/distributionpoints/ps1dp1.contoso.com", NULL, &r);
    assert_true(json_is_string(json_object_get(r.json, "validationRequestedAt")));
    resp_free(&r);

    static const struct {
        const char *server, *body;
        long status;
        const char *says;
    } bad[] = {
        {"nothere.contoso.com", NULL, 404, "no distribution point"},
        {"bad_name", NULL, 404, "no distribution point"},
        {"ps1dp6.contoso.com", NULL, 409, "not installed"},
        {"ps1dp8.contoso.com", NULL, 409, "not installed yet"},
        {"ps1gone.contoso.com", NULL, 409, "being removed"},
        {"ps1dp5.contoso.com", "{\"now\":true}", 400, "no body"},
    };
    char *before = snapshot();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[200];
        snprintf(path, sizeof path, "/v1/distributionpoints/%s/validate", bad[i].server);
        call("POST", path, bad[i].body, &r);
        if (r.status != bad[i].status)
            print_error("%s -> %ld %s\n", bad[i].server, r.status, r.body);
        assert_int_equal(r.status, bad[i].status);
        assert_non_null(strstr(jstr(r.json, "error"), bad[i].says));
        resp_free(&r);
    }
    char *after = snapshot();
    assert_string_equal(after, before);
    free(after);
    free(before);
}

/* Leaving maintenance mode through the source's method releases the
 * content that waited for it. */
static void test_disable_releases_waiting_content(void **state)
{
    (void)state;
    sql("UPDATE dp_packages SET state = 'WaitingMaintenance' WHERE package_id = 'PS100002' AND "
        "dpid = (SELECT dpid FROM distribution_points WHERE server_name = 'PS1DP1.CONTOSO.COM')",
        0, NULL);
    char nal[DPF_NAL_MAX], body[DPF_NAL_MAX + 64];
    nal_of("ps1dp1.contoso.com", nal);
    json_t *b = json_pack("{s:s, s:i}", "NALPath", nal, "Mode", 0);
    char *text = json_dumps(b, 0);
    snprintf(body, sizeof body, "%s", text);
    free(text);
    json_decref(b);
    resp r;
    call("POST", "/v1/SetDPMaintenanceMode", body, &r);
    if (r.status != 200)
        print_error("%s\n", r.body);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "ReturnValue")), 0);
    const char *p[] = {r.corr};
    assert_int_equal(maint_of("PS1DP1.CONTOSO.COM"), 0);
    assert_int_equal(sql_int("SELECT count(*) FROM dp_packages k JOIN distribution_points d "
                             "USING (dpid) WHERE d.server_name = 'PS1DP1.CONTOSO.COM' AND "
                             "k.package_id = 'PS100002' AND k.state = 'Pending'", 0, NULL), 1);
    /* the dp_packages trigger wakes distmgr, in the same transaction */
    assert_int_equal(sql_int("SELECT count(*) FROM outbox WHERE correlation_id = $1 AND "
                             "subject LIKE 'pkg.changed.%'", 1, p), 1);
    assert_int_equal(sql_int("SELECT count(*) FROM status_messages WHERE correlation_id = $1 "
                             "AND msg_id = 2395 AND istr[3] = 'CONTOSO\\Admin' AND "
                             "istr[2] = 'PS1DP1.CONTOSO.COM'", 1, p), 1);
    assert_int_equal(sql_int("SELECT count(*) FROM audit_log WHERE correlation_id = $1 AND "
                             "object LIKE '%MaintenanceMode=0'", 1, p), 1);
    resp_free(&r);
    sql("UPDATE dp_packages SET state = 'Installed'", 0, NULL);
}

static void test_bad_input_changes_nothing(void **state)
{
    (void)state;
    static const struct {
        const char *path, *body;
        long status;
        long long rv; /* ReturnValue, 0 = not expected */
        const char *field;
    } cases[] = {
        {"/v1/SetDPMaintenanceMode", "{\"NALPath\":\"[\\\"Display=\\\\\\\\NOPE\\\"]\",\"Mode\":1}",
         404, 2147749890LL, "NALPath"},
        {"/v1/SetDPMaintenanceMode", "{\"NALPath\":\"x\",\"Mode\":2}", 400, 2147749896LL, "Mode"},
        {"/v1/SetDPMaintenanceMode", "{\"NALPath\":\"x\",\"Mode\":\"1\"}", 400, 2147749896LL, "Mode"},
        {"/v1/SetDPMaintenanceMode", "{\"Mode\":1}", 400, 2147749896LL, "NALPath"},
        {"/v1/SetDPMaintenanceMode", "{\"NALPath\":\"x\",\"Mode\":1,\"force\":true}", 400,
         2147749896LL, "force"},
        {"/v1/SetDPMaintenanceMode", "not json", 400, 2147749896LL, NULL},
        {"/v1/SetDPMaintenanceMode", NULL, 400, 2147749896LL, NULL},
        {"/v1/distributionpoints/ps1dp5.contoso.com/maintenance", "{\"enabled\":\"yes\"}", 400, 0,
         "enabled"},
        {"/v1/distributionpoints/ps1dp5.contoso.com/maintenance", "{\"enabled\":1}", 400, 0,
         "enabled"},
        {"/v1/distributionpoints/ps1dp5.contoso.com/maintenance", "{}", 400, 0, "enabled"},
        {"/v1/distributionpoints/ps1dp5.contoso.com/maintenance", "{\"enabled\":true,\"x\":1}", 400,
         0, "x"},
        {"/v1/distributionpoints/nothere.contoso.com/maintenance", "{\"enabled\":true}", 404, 0,
         "serverName"},
        {"/v1/distributionpoints/bad_name/maintenance", "{\"enabled\":true}", 404, 0, "serverName"},
        {"/v1/distributionpoints/ps1dp8.contoso.com/maintenance", "{\"enabled\":true}", 404, 0,
         "serverName"},
        {"/v1/distributionpoints/ps1gone.contoso.com/maintenance", "{\"enabled\":true}", 409, 0,
         NULL},
    };
    char *before = snapshot();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        resp r;
        call("POST", cases[i].path, cases[i].body, &r);
        if (r.status != cases[i].status)
            print_error("case %zu: %s -> %ld %s\n", i, cases[i].body ? cases[i].body : "(none)",
                        r.status, r.body);
        assert_json_error(&r, cases[i].status, cases[i].field);
        if (cases[i].rv != 0)
            assert_int_equal(json_integer_value(json_object_get(r.json, "ReturnValue")),
                             cases[i].rv);
        resp_free(&r);
    }
    char *after = snapshot();
    assert_string_equal(after, before);
    free(after);
    free(before);
}

typedef struct enable_job {
    const char *path;
    resp r;
    volatile int done;
} enable_job;

static void *enable_thread(void *arg)
{
    enable_job *j = arg;
    call("POST", j->path, "{\"enabled\":true}", &j->r);
    j->done = 1;
    return NULL;
}

/* DP3 and DP4 are the two DPs of Branch C: enabling both at once must not
 * pass for both. The test holds the maintenance lock first: neither request
 * may answer while it is held, and once it is released exactly one wins. */
static void test_concurrent_enables_one_wins(void **state)
{
    (void)state;
    const char *key[] = {MAINT_LOCK_KEY};
    assert_int_equal(dpf_db_begin(g_db), DPF_OK);
    sql("SELECT pg_advisory_xact_lock($1::bigint)", 1, key);
    enable_job a = {.path = "/v1/distributionpoints/ps1dp3.contoso.com/maintenance"};
    enable_job b = {.path = "/v1/distributionpoints/ps1dp4.contoso.com/maintenance"};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, enable_thread, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, enable_thread, &b), 0);
    nap_ms(700);
    int early = a.done || b.done;
    assert_int_equal(dpf_db_commit(g_db), DPF_OK);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_false(early);
    long s1 = a.r.status, s2 = b.r.status;
    assert_true((s1 == 200 && s2 == 409) || (s1 == 409 && s2 == 200));
    resp *lost = s1 == 409 ? &a.r : &b.r;
    assert_string_equal(json_string_value(json_array_get(json_object_get(lost->json,
                                                                         "boundaryGroups"), 0)),
                        "Branch C");
    assert_int_equal(sql_int("SELECT count(*) FROM distribution_points WHERE maintenance_mode",
                             0, NULL), 1);
    resp_free(&a.r);
    resp_free(&b.r);
    sql("UPDATE distribution_points SET maintenance_mode = false", 0, NULL);
}

static long long prop(const char *server)
{
    const char *p[] = {server};
    return sql_int("SELECT pr.value3 FROM site_system_role_props pr JOIN site_system_roles r "
                   "ON r.id = pr.role_id WHERE r.server_name = $1 AND "
                   "pr.name = 'ContentValidationIntervalHours'", 1, p);
}

static void test_validation_interval_property(void **state)
{
    (void)state;
    resp r;
    post("{\"serverName\":\"ps1dp9.contoso.com\",\"siteCode\":\"PS1\","
         "\"contentValidationIntervalHours\":0}", &r);
    assert_int_equal(r.status, 201);
    resp_free(&r);
    assert_int_equal(prop("PS1DP9.CONTOSO.COM"), 0);
    call("GET", "/v1/distributionpoints/ps1dp9.contoso.com", NULL, &r);
    assert_int_equal(json_integer_value(json_object_get(r.json, "contentValidationIntervalHours")), 0);
    resp_free(&r);
    call("PATCH", "/v1/distributionpoints/ps1dp9.contoso.com",
         "{\"contentValidationIntervalHours\":720}", &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    assert_int_equal(prop("PS1DP9.CONTOSO.COM"), 720);
    char *before = snapshot();
    call("PATCH", "/v1/distributionpoints/ps1dp9.contoso.com",
         "{\"contentValidationIntervalHours\":8761}", &r);
    assert_json_error(&r, 400, "contentValidationIntervalHours");
    resp_free(&r);
    call("PATCH", "/v1/distributionpoints/ps1dp9.contoso.com",
         "{\"contentValidationIntervalHours\":\"daily\"}", &r);
    assert_json_error(&r, 400, "contentValidationIntervalHours");
    resp_free(&r);
    char *after = snapshot();
    assert_string_equal(after, before);
    free(after);
    free(before);
}

/* Runs dpctl with args against the provider; stdout and stderr into out. */
static int dpctl(const char *args, char *out, size_t len)
{
    char cmd[1500];
    snprintf(cmd, sizeof cmd, "'%s' --api '%s' %s 2>&1", DPCTL_BIN, g_api, args);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, len - 1, f);
    out[n] = '\0';
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_dpctl(void **state)
{
    (void)state;
    char out[16384];
    assert_int_equal(dpctl("dp maintenance on ps1dp5.contoso.com", out, sizeof out), 0);
    assert_non_null(strstr(out, "PS1DP5.CONTOSO.COM is now in maintenance mode"));
    assert_int_equal(maint_of("PS1DP5.CONTOSO.COM"), 1);
    assert_int_equal(dpctl("dp list", out, sizeof out), 0);
    assert_non_null(strstr(out, "MAINTENANCE MODE"));
    const char *line = strstr(out, "PS1DP5.CONTOSO.COM");
    assert_non_null(line);
    const char *eol = strchr(line, '\n');
    assert_true(eol - line > 4 && strncmp(eol - 4, " yes", 4) == 0);
    line = strstr(out, "PS1DP3.CONTOSO.COM");
    eol = strchr(line, '\n');
    assert_true(strncmp(eol - 3, " no", 3) == 0);
    assert_int_equal(dpctl("dp show ps1dp5.contoso.com", out, sizeof out), 0);
    assert_non_null(strstr(out, "Maintenance mode:  yes"));
    assert_non_null(strstr(out, "  changed:"));
    assert_non_null(strstr(out, "Validation:        every 168 hours"));
    assert_int_equal(dpctl("dp set ps1dp5.contoso.com --validation-interval-hours 24", out,
                           sizeof out), 1);
    assert_non_null(strstr(out, "maintenance mode"));
    assert_int_equal(prop("PS1DP5.CONTOSO.COM"), 168);
    assert_int_equal(dpctl("dp validate ps1dp5.contoso.com", out, sizeof out), 0);
    assert_non_null(strstr(out, "Content validation of PS1DP5.CONTOSO.COM requested"));
    assert_int_equal(dpctl("dp maintenance on ps1dp5.contoso.com", out, sizeof out), 0);
    assert_non_null(strstr(out, "already"));
    assert_int_equal(dpctl("dp maintenance off ps1dp5.contoso.com", out, sizeof out), 0);
    assert_non_null(strstr(out, "left maintenance mode"));
    assert_int_equal(dpctl("dp set ps1dp5.contoso.com --validation-interval-hours 24", out,
                           sizeof out), 0);
    assert_int_equal(prop("PS1DP5.CONTOSO.COM"), 24);
    assert_int_equal(dpctl("dp add ps1dp10.contoso.com --site PS1 --validation-interval-hours 0",
                           out, sizeof out), 0);
    assert_int_equal(prop("PS1DP10.CONTOSO.COM"), 0);
    /* the refusal names what would be left without a source; --force goes ahead */
    assert_int_equal(dpctl("dp maintenance on ps1dp1.contoso.com", out, sizeof out), 1);
    assert_non_null(strstr(out, "boundary group Branch B"));
    assert_non_null(strstr(out, "package PS100002 (boundary group Branch A)"));
    assert_int_equal(maint_of("PS1DP1.CONTOSO.COM"), 0);
    assert_int_equal(dpctl("dp maintenance on ps1dp1.contoso.com --force", out, sizeof out), 0);
    assert_non_null(strstr(out, "Forced"));
    assert_int_equal(maint_of("PS1DP1.CONTOSO.COM"), 1);
    assert_int_equal(dpctl("dp maintenance off ps1dp1.contoso.com", out, sizeof out), 0);
    assert_int_equal(dpctl("dp maintenance maybe ps1dp1.contoso.com", out, sizeof out), 2);
    assert_int_equal(dpctl("dp maintenance on", out, sizeof out), 2);
    assert_int_equal(dpctl("dp validate", out, sizeof out), 2);
}

/* Removal and site reset stay allowed in maintenance mode (behaviour 3). */
static void test_reset_and_remove_in_maintenance(void **state)
{
    (void)state;
    resp r;
    call("POST", "/v1/distributionpoints/ps1dp2.contoso.com/maintenance", "{\"enabled\":true}", &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    call("POST", "/v1/sites/PS1/reset", NULL, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    assert_int_equal(sql_int("SELECT count(*) FROM distribution_points WHERE server_name = "
                             "'PS1DP2.CONTOSO.COM' AND maintenance_mode AND "
                             "install_state = 'Pending'", 0, NULL), 1);
    call("DELETE", "/v1/distributionpoints/ps1dp2.contoso.com", NULL, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    assert_int_equal(sql_int("SELECT count(*) FROM site_system_roles WHERE server_name = "
                             "'PS1DP2.CONTOSO.COM' AND role_name = 'SMS Distribution Point'",
                             0, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_shows_mode_and_schedule),
        cmocka_unit_test(test_enable_refused_when_last_source),
        cmocka_unit_test(test_enable_without_impact_then_same_mode_again),
        cmocka_unit_test(test_enable_forced),
        cmocka_unit_test(test_properties_read_only),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_disable_releases_waiting_content),
        cmocka_unit_test(test_bad_input_changes_nothing),
        cmocka_unit_test(test_concurrent_enables_one_wins),
        cmocka_unit_test(test_validation_interval_property),
        cmocka_unit_test(test_dpctl),
        cmocka_unit_test(test_reset_and_remove_in_maintenance),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

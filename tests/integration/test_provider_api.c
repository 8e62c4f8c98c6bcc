/* The provider binary against a real PostgreSQL, driven over HTTP the way
 * dpctl and scripts drive it: a DP is created with every row and exactly one
 * site control change, read back, and every kind of bad input is refused
 * with the right status while the tables stay exactly as they were. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dpf/statmsg.h>

#include "test_provider_harness.h"

static int setup(void **state)
{
    (void)state;
    return ph_setup("provider_api");
}

static int teardown(void **state)
{
    (void)state;
    return ph_teardown();
}

/* ---- tests ---- */

static void test_create_dp(void **state)
{
    (void)state;
    long long before[NCOUNTS], after[NCOUNTS];
    counts(before);
    resp r;
    post("{\"serverName\":\"ps1dp1.contoso.com\",\"siteCode\":\"PS1\",\"description\":\"PS1 Standard DP\","
         "\"boundaryGroups\":[\"PS1 Assignment And Content\",\"PS1 Branch Offices\"],"
         "\"enablePXE\":true,\"minFreeSpaceMB\":100,\"drive\":\"E\",\"priority\":5}", &r);
    if (r.status != 201)
        print_error("%s\n", r.body);
    assert_int_equal(r.status, 201);
    assert_string_equal(jstr(r.json, "serverName"), "PS1DP1.CONTOSO.COM");
    assert_string_equal(jstr(r.json, "siteCode"), "PS1");
    assert_string_equal(jstr(r.json, "nalPath"),
                        "[\"Display=\\\\PS1DP1.CONTOSO.COM\\\"]MSWNET:[\"SMS_SITE=PS1\"]\\\\PS1DP1.CONTOSO.COM\\");
    const char *corr = jstr(r.json, "correlationId");
    assert_non_null(corr);
    assert_string_equal(corr, r.corr);
    const char *p[] = {corr};
    const char *srv[] = {"PS1DP1.CONTOSO.COM"};

    /* both roles, the nine properties, the boundary groups */
    assert_int_equal(sql_int("SELECT count(*) FROM site_system_roles WHERE server_name = $1 "
                             "AND role_name IN ('SMS Site System', 'SMS Distribution Point')", 1, srv), 2);
    assert_int_equal(sql_int("SELECT count(*) FROM site_system_role_props pr JOIN site_system_roles r "
                             "ON r.id = pr.role_id WHERE r.server_name = $1", 1, srv), 9);
    assert_int_equal(sql_int("SELECT value3 FROM site_system_role_props pr JOIN site_system_roles r "
                             "ON r.id = pr.role_id WHERE r.server_name = $1 AND "
                             "pr.name = 'ContentValidationIntervalHours'", 1, srv), 168);
    assert_int_equal(sql_int("SELECT value3 FROM site_system_role_props pr JOIN site_system_roles r "
                             "ON r.id = pr.role_id WHERE r.server_name = $1 AND pr.name = 'Priority'", 1, srv), 5);
    assert_int_equal(sql_int("SELECT value3 FROM site_system_role_props pr JOIN site_system_roles r "
                             "ON r.id = pr.role_id WHERE r.server_name = $1 AND pr.name = 'IsPXE'", 1, srv), 1);
    assert_int_equal(sql_int("SELECT value3 FROM site_system_role_props pr JOIN site_system_roles r "
                             "ON r.id = pr.role_id WHERE r.server_name = $1 AND pr.name = 'MinFreeSpace'", 1, srv), 100);
    assert_int_equal(sql_int("SELECT count(*) FROM boundary_group_members WHERE server_name = $1", 1, srv), 2);
    assert_int_equal(sql_int("SELECT count(*) FROM boundary_groups WHERE name = 'PS1 Branch Offices'", 0, NULL), 1);
    /* audit: the DP created, both groups modified, the new group created */
    assert_int_equal(sql_int("SELECT count(*) FROM audit_log WHERE correlation_id = $1 AND "
                             "class_name = 'SMS_SCI_SysResUse' AND action = 'created' AND "
                             "user_name = 'CONTOSO\\Admin' AND app_name = 'test_provider_api' AND "
                             "machine_name = 'PS1SITE.CONTOSO.COM'", 1, p), 1);
    assert_int_equal(sql_int("SELECT count(*) FROM audit_log WHERE correlation_id = $1 AND "
                             "class_name = 'SMS_BoundaryGroup' AND action = 'modified'", 1, p), 2);
    assert_int_equal(sql_int("SELECT count(*) FROM audit_log WHERE correlation_id = $1 AND "
                             "class_name = 'SMS_BoundaryGroup' AND action = 'created'", 1, p), 1);
    /* exactly one site control change, carrying the correlation id */
    assert_int_equal(sql_int("SELECT count(*) FROM outbox WHERE correlation_id = $1", 1, p), 1);
    assert_int_equal(sql_int("SELECT count(*) FROM outbox WHERE correlation_id = $1 AND "
                             "subject = 'sitecontrol.changed.PS1'", 1, p), 1);
    counts(after);
    assert_int_equal(after[6], before[6] + 1); /* outbox */
    assert_int_equal(after[7], before[7] + 1); /* site_control.serial */
    /* the log an administrator greps */
    assert_true(log_contains("INFO: 'PS1DP1.CONTOSO.COM' is a valid FQDN."));
    assert_true(log_contains("Auditing: User CONTOSO\\Admin created an instance of class SMS_SCI_SysResUse."));
    assert_true(log_contains("Successfully added 1 servers to boundary group PS1 Branch Offices"));
    char line[200];
    snprintf(line, sizeof line, "HTTP POST /v1/distributionpoints 201 ");
    assert_true(log_contains(line));
    snprintf(line, sizeof line, "Context: __CorrelationId={%s}", corr);
    assert_true(log_contains(line));
    resp_free(&r);
}

static void test_given_correlation_id_is_used(void **state)
{
    (void)state;
    static const char *const h[] = {"X-Correlation-Id: corr-from-dpctl-42", NULL};
    const char *body = "{\"serverName\":\"ps1dp2.contoso.com\",\"siteCode\":\"ps1\"}";
    resp r;
    http("POST", "/v1/distributionpoints", body, strlen(body), h, &r);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.corr, "corr-from-dpctl-42");
    assert_string_equal(jstr(r.json, "correlationId"), "corr-from-dpctl-42");
    const char *p[] = {"corr-from-dpctl-42"};
    assert_int_equal(sql_int("SELECT count(*) FROM outbox WHERE correlation_id = $1", 1, p), 1);
    /* no context headers: the token's user, the client's address */
    assert_int_equal(sql_int("SELECT count(*) FROM audit_log WHERE correlation_id = $1 AND "
                             "user_name = 'CONTOSO\\Admin' AND app_name = 'unknown' AND "
                             "machine_name = '127.0.0.1'", 1, p), 1);
    resp_free(&r);
    /* an unusable one is replaced, not trusted */
    static const char *const bad[] = {"X-Correlation-Id: has spaces;and'quotes", NULL};
    http("GET", "/healthz", NULL, 0, bad, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(strlen(r.corr), 36);
    resp_free(&r);
}

static void test_pull_dp_and_literal_sql(void **state)
{
    (void)state;
    const char *desc = "it's; DROP TABLE sites;-- \\\" $1 %s";
    resp r;
    post("{\"serverName\":\"ps1pull.contoso.com\",\"siteCode\":\"PS1\","
         "\"description\":\"it's; DROP TABLE sites;-- \\\\\\\" $1 %s\","
         "\"pullDP\":{\"sources\":[{\"serverName\":\"PS1DP2.CONTOSO.COM\",\"priority\":2},"
         "{\"serverName\":\"ps1dp1.contoso.com\",\"priority\":1}]}}", &r);
    if (r.status != 201)
        print_error("%s\n", r.body);
    assert_int_equal(r.status, 201);
    resp_free(&r);
    const char *p[] = {"PS1PULL.CONTOSO.COM"};
    char *stored = sql_text("SELECT pr.value1 FROM site_system_role_props pr JOIN site_system_roles r "
                            "ON r.id = pr.role_id WHERE r.server_name = $1 AND pr.name = 'Description'", 1, p);
    assert_string_equal(stored, desc);
    free(stored);
    assert_int_equal(sql_int("SELECT count(*) FROM sites", 0, NULL), 1);
    assert_int_equal(sql_int("SELECT count(*) FROM pull_dp_sources s JOIN site_system_roles r "
                             "ON r.id = s.role_id WHERE r.server_name = $1", 1, p), 2);

    /* read back: the same shape as the input, sources by priority */
    http("GET", "/v1/distributionpoints/Ps1Pull.Contoso.Com", NULL, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "description"), desc);
    json_t *src = json_object_get(json_object_get(r.json, "pullDP"), "sources");
    assert_int_equal(json_array_size(src), 2);
    assert_string_equal(jstr(json_array_get(src, 0), "serverName"), "PS1DP1.CONTOSO.COM");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(src, 0), "priority")), 1);
    resp_free(&r);
}

static void test_list_and_show(void **state)
{
    (void)state;
    resp r;
    http("GET", "/v1/distributionpoints", NULL, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_true(json_is_array(r.json));
    assert_int_equal(json_array_size(r.json), 3);
    resp_free(&r);

    http("GET", "/v1/distributionpoints?site=PS2", NULL, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 0);
    resp_free(&r);

    http("GET", "/v1/distributionpoints/ps1dp1.CONTOSO.com", NULL, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "serverName"), "PS1DP1.CONTOSO.COM");
    assert_string_equal(jstr(r.json, "description"), "PS1 Standard DP");
    assert_true(json_is_true(json_object_get(r.json, "enablePXE")));
    assert_true(json_is_null(json_object_get(r.json, "pullDP")));
    assert_true(json_is_null(json_object_get(r.json, "dpid"))); /* hman has not run */
    assert_true(json_is_null(json_object_get(r.json, "crc")));
    assert_int_equal(json_integer_value(json_object_get(r.json, "priority")), 5);
    assert_int_equal(json_integer_value(json_object_get(r.json, "minFreeSpaceMB")), 100);
    assert_string_equal(jstr(r.json, "drive"), "E:");
    json_t *groups = json_object_get(r.json, "boundaryGroups");
    assert_int_equal(json_array_size(groups), 2);
    assert_string_equal(json_string_value(json_array_get(groups, 0)), "PS1 Assignment And Content");
    resp_free(&r);

    /* once hman has inserted the DP, its state shows */
    assert_int_equal(dpf_db_exec(g_db,
        "INSERT INTO distribution_points (server_name, nal_path, site_code, identity_guid, dp_crc, "
        "install_state) SELECT server_name, nal_path, site_code, '23a72b6c-eace-4218-929c-4c80638c031e', "
        "'439BCA34', 'Installing' FROM site_system_roles WHERE server_name = 'PS1DP1.CONTOSO.COM' "
        "AND role_name = 'SMS Distribution Point'", 0, NULL, NULL), DPF_OK);
    http("GET", "/v1/distributionpoints/PS1DP1.CONTOSO.COM", NULL, 0, NULL, &r);
    assert_true(json_integer_value(json_object_get(r.json, "dpid")) > 0);
    assert_string_equal(jstr(r.json, "crc"), "439BCA34");
    assert_string_equal(jstr(r.json, "identityGuid"), "23a72b6c-eace-4218-929c-4c80638c031e");
    assert_string_equal(jstr(r.json, "installState"), "Installing");
    assert_int_equal(json_integer_value(json_object_get(r.json, "action")), 0);
    resp_free(&r);

    http("GET", "/v1/distributionpoints/nothere.contoso.com", NULL, 0, NULL, &r);
    assert_json_error(&r, 404, "serverName");
    resp_free(&r);
}

typedef struct bad_case {
    const char *what;
    const char *body;
    long status;
    const char *field;
} bad_case;

static void test_bad_input_changes_nothing(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        {"malformed JSON", "{\"serverName\":", 400, NULL},
        {"not an object", "[\"ps1dp9.contoso.com\"]", 400, NULL},
        {"empty body", "", 400, NULL},
        {"missing serverName", "{\"siteCode\":\"PS1\"}", 400, "serverName"},
        {"missing siteCode", "{\"serverName\":\"ps1dp9.contoso.com\"}", 400, "siteCode"},
        {"priority as a string", "{\"serverName\":\"ps1dp9.contoso.com\",\"siteCode\":\"PS1\",\"priority\":\"5\"}", 400, "priority"},
        {"enablePXE as a number", "{\"serverName\":\"ps1dp9.contoso.com\",\"siteCode\":\"PS1\",\"enablePXE\":1}", 400, "enablePXE"},
        {"priority out of range", "{\"serverName\":\"ps1dp9.contoso.com\",\"siteCode\":\"PS1\",\"priority\":0}", 400, "priority"},
        {"invalid FQDN", "{\"serverName\":\"bad_name\",\"siteCode\":\"PS1\"}", 400, "serverName"},
        {"unknown site", "{\"serverName\":\"ps1dp9.contoso.com\",\"siteCode\":\"ZZ9\"}", 400, "siteCode"},
        {"existing DP", "{\"serverName\":\"PS1DP1.contoso.com\",\"siteCode\":\"PS1\"}", 409, "serverName"},
        {"unknown field", "{\"serverName\":\"ps1dp9.contoso.com\",\"siteCode\":\"PS1\",\"isPXE\":true}", 400, "isPXE"},
        {"duplicate key", "{\"serverName\":\"ps1dp9.contoso.com\",\"siteCode\":\"PS1\",\"siteCode\":\"PS1\"}", 400, NULL},
        {"pull source is not a DP", "{\"serverName\":\"ps1dp9.contoso.com\",\"siteCode\":\"PS1\","
         "\"pullDP\":{\"sources\":[{\"serverName\":\"nowhere.contoso.com\",\"priority\":1}]}}", 400, "pullDP.sources"},
        {"new boundary group, then unknown site", "{\"serverName\":\"ps1dp9.contoso.com\",\"siteCode\":\"XX1\","
         "\"boundaryGroups\":[\"Brand New Group\"]}", 400, "siteCode"},
    };
    long long before[NCOUNTS], after[NCOUNTS];
    counts(before);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        resp r;
        post(cases[i].body, &r);
        if (r.status != cases[i].status)
            print_error("case '%s': %s\n", cases[i].what, r.body ? r.body : "");
        assert_json_error(&r, cases[i].status, cases[i].field);
        resp_free(&r);
    }
    counts(after);
    for (int i = 0; i < NCOUNTS; i++)
        assert_int_equal(after[i], before[i]);
    assert_true(log_contains("'bad_name' is not a valid FQDN"));
}

static void test_huge_bodies_refused(void **state)
{
    (void)state;
    size_t n = 10 * 1024 * 1024;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, ' ', n);
    const char *pre = "{\"serverName\":\"ps1dp9.contoso.com\",\"siteCode\":\"PS1\",\"description\":\"";
    size_t pl = strlen(pre);
    memcpy(big, pre, pl);
    big[n - 2] = '"';
    big[n - 1] = '}';
    big[n] = '\0';
    long long before[NCOUNTS], after[NCOUNTS];
    counts(before);
    resp r;
    post(big, &r);
    assert_json_error(&r, 413, NULL);
    resp_free(&r);
    /* without Content-Length: drained, never stored, still 413 */
    static const char *const chunked[] = {"Transfer-Encoding: chunked", NULL};
    http("POST", "/v1/distributionpoints", big, n, chunked, &r);
    assert_json_error(&r, 413, NULL);
    resp_free(&r);
    /* a string over its own cap inside a body under the limit */
    memset(big + pl, 'x', 600);
    memcpy(big + pl + 600, "\"}", 3);
    post(big, &r);
    assert_json_error(&r, 400, "description");
    resp_free(&r);
    free(big);
    counts(after);
    for (int i = 0; i < NCOUNTS; i++)
        assert_int_equal(after[i], before[i]);
    /* still serving */
    http("GET", "/healthz", NULL, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
}

static void test_bad_headers(void **state)
{
    (void)state;
    char longuser[400] = "X-Dpf-Application: ";
    memset(longuser + strlen(longuser), 'u', 300);
    const char *const h[] = {longuser, NULL};
    long long before[NCOUNTS], after[NCOUNTS];
    counts(before);
    const char *body = "{\"serverName\":\"ps1dp9.contoso.com\",\"siteCode\":\"PS1\"}";
    resp r;
    http("POST", "/v1/distributionpoints", body, strlen(body), h, &r);
    assert_json_error(&r, 400, "X-Dpf-Application");
    resp_free(&r);
    counts(after);
    for (int i = 0; i < NCOUNTS; i++)
        assert_int_equal(after[i], before[i]);
}

static void test_unknown_paths_and_methods(void **state)
{
    (void)state;
    resp r;
    http("GET", "/v1/nothing", NULL, 0, NULL, &r);
    assert_json_error(&r, 404, NULL);
    resp_free(&r);
    http("DELETE", "/v1/distributionpoints", NULL, 0, NULL, &r);
    assert_json_error(&r, 405, NULL);
    assert_string_equal(r.allow, "POST, GET");
    resp_free(&r);
    http("PUT", "/healthz", NULL, 0, NULL, &r);
    assert_json_error(&r, 405, NULL);
    resp_free(&r);
}

static void test_statmsgs(void **state)
{
    (void)state;
    /* raised the way distmgr raises them (no bus: stored and logged only) */
    for (int i = 0; i < 3; i++) {
        char server[64];
        snprintf(server, sizeof server, "PS1DP%d.CONTOSO.COM", i + 1);
        dpf_statmsg m = {.id = 2399, .severity = 'I', .level = 'M', .component = "SMS_DISTRIBUTION_MANAGER",
                         .site = "PS1", .system = "PS1SITE.CONTOSO.COM", .istr = {"nal", server},
                         .nattrs = 1, .attr_id = {404}, .attr_val = {"nal"}};
        assert_int_equal(dpf_statmsg_raise(NULL, g_db, &m), DPF_OK);
    }
    dpf_statmsg other = {.id = 3306, .severity = 'I', .level = 'M', .component = "SMS_HIERARCHY_MANAGER",
                         .site = "PS1", .istr = {"PS1.SCU", "ConfigMgr Primary Site 1", "PS1"}};
    assert_int_equal(dpf_statmsg_raise(NULL, g_db, &other), DPF_OK);

    resp r;
    http("GET", "/v1/statmsgs?id=2399&site=PS1", NULL, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 3);
    json_t *first = json_array_get(r.json, 0), *last = json_array_get(r.json, 2);
    assert_int_equal(json_integer_value(json_object_get(first, "msgId")), 2399);
    assert_string_equal(jstr(first, "severity"), "I");
    assert_string_equal(jstr(first, "component"), "SMS_DISTRIBUTION_MANAGER");
    assert_string_equal(jstr(first, "system"), "PS1SITE.CONTOSO.COM");
    assert_int_equal(json_array_size(json_object_get(first, "istr")), 10);
    assert_string_equal(json_string_value(json_array_get(json_object_get(first, "istr"), 1)), "PS1DP1.CONTOSO.COM");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(first, "attrs"), 0), "id")), 404);
    json_int_t first_id = json_integer_value(json_object_get(first, "id"));
    assert_true(json_integer_value(json_object_get(last, "id")) > first_id); /* newest last */
    resp_free(&r);

    char path[128];
    snprintf(path, sizeof path, "/v1/statmsgs?id=2399&after=%lld&limit=1", (long long)first_id);
    http("GET", path, NULL, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(json_array_get(r.json, 0), "istr"), 1)),
                        "PS1DP2.CONTOSO.COM");
    resp_free(&r);

    http("GET", "/v1/statmsgs?limit=2", NULL, 0, NULL, &r); /* the newest two */
    assert_int_equal(json_array_size(r.json), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(r.json, 1), "msgId")), 3306);
    resp_free(&r);

    static const char *const bad[] = {"/v1/statmsgs?id=abc", "/v1/statmsgs?site=P'1", "/v1/statmsgs?after=-1",
                                      "/v1/statmsgs?limit=0", "/v1/statmsgs?limit=100000",
                                      "/v1/statmsgs?id=99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        http("GET", bad[i], NULL, 0, NULL, &r);
        assert_json_error(&r, 400, NULL);
        resp_free(&r);
    }
}

/* Two admins add the same DP at the same moment: one wins. */
static void *racer(void *arg)
{
    resp *r = arg;
    post("{\"serverName\":\"ps1race.contoso.com\",\"siteCode\":\"PS1\",\"boundaryGroups\":[\"Race Group\"]}", r);
    return NULL;
}

static void test_concurrent_duplicate(void **state)
{
    (void)state;
    resp a, b;
    pthread_t ta, tb;
    pthread_create(&ta, NULL, racer, &a);
    pthread_create(&tb, NULL, racer, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_true((a.status == 201 && b.status == 409) || (a.status == 409 && b.status == 201));
    resp_free(&a);
    resp_free(&b);
    const char *p[] = {"PS1RACE.CONTOSO.COM"};
    assert_int_equal(sql_int("SELECT count(*) FROM site_system_roles WHERE server_name = $1", 1, p), 2);
    assert_int_equal(sql_int("SELECT count(*) FROM boundary_groups WHERE name = 'Race Group'", 0, NULL), 1);
}

static size_t discard(char *p, size_t sz, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return sz * n;
}

/* Started while PostgreSQL cannot be reached, the provider keeps running,
 * says so on /readyz (503) while /healthz says it is alive (200: a liveness
 * probe must not restart it for the database's outage), and stops cleanly. */
static void test_database_down(void **state)
{
    (void)state;
    int dead_port = free_port(), port = free_port();
    char dead_url[128], listen[64], api[96], log[256];
    snprintf(dead_url, sizeof dead_url, "postgresql://postgres@127.0.0.1:%d/none?connect_timeout=1", dead_port);
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    snprintf(api, sizeof api, "http://%s", listen);
    snprintf(log, sizeof log, "/tmp/test_provider_api.down.%ld.log", (long)getpid());
    pid_t pid = spawn_provider(dead_url, listen, log);
    long ready = wait_health(api, 503);
    /* alive all the same: GET /healthz */
    char url[128];
    snprintf(url, sizeof url, "%s/healthz", api);
    long live = 0;
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 7L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &live);
    curl_easy_cleanup(c);
    int alive = waitpid(pid, NULL, WNOHANG) == 0;
    int stopped = stop_provider(pid); /* before any assert, so a failure leaves no provider behind */
    unlink(log);
    assert_int_equal(ready, 503);
    assert_int_equal(live, 200);
    assert_true(alive);
    assert_int_equal(stopped, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_dp),
        cmocka_unit_test(test_given_correlation_id_is_used),
        cmocka_unit_test(test_pull_dp_and_literal_sql),
        cmocka_unit_test(test_list_and_show),
        cmocka_unit_test(test_bad_input_changes_nothing),
        cmocka_unit_test(test_huge_bodies_refused),
        cmocka_unit_test(test_bad_headers),
        cmocka_unit_test(test_unknown_paths_and_methods),
        cmocka_unit_test(test_statmsgs),
        cmocka_unit_test(test_concurrent_duplicate),
        cmocka_unit_test(test_database_down),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* Boundary groups and content location on the provider binary against a
 * real PostgreSQL, over HTTP: groups are created with IPv4 and IPv6 subnets
 * and address ranges and with neighbors, shown, listed, changed (the set of
 * boundaries and neighbors replaced, the site default moved) and deleted,
 * each with its audit row; every kind of bad input is refused with the
 * right status while the groups, boundaries, neighbors, members and the
 * audit log stay exactly as they were. Content location is asked for
 * clients in a subnet, in a range, on IPv6, in a group with a neighbor
 * before and after its fallback time and in no group at all (the site
 * default after 120 minutes); a DP in maintenance mode and a DP whose copy
 * failed validation are never returned. dpctl's boundarygroup and content
 * locate commands run against the same provider. DPs, their memberships
 * and their packages are written with SQL (hman and distmgr do that in
 * the real stack). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "dpf_test.h"
#include "test_provider_harness.h"

#ifndef DPCTL_BIN
#error "DPCTL_BIN must be defined"
#endif

#define PKG "PS100001"  /* on DP1..DP6 as below */
#define PKG2 "PS100002" /* only on DP3, ValidationFailed */
#define DEFAULT_GROUP "Default-Site-Boundary-Group<PS1>"

static const char *const H[] = {"Content-Type: application/json",
                                "X-Dpf-Application: test_provider_location",
                                "X-Dpf-Machine: PS1SITE.CONTOSO.COM", NULL};

static void call(const char *method, const char *path, const char *body, resp *r)
{
    http(method, path, body, body ? strlen(body) : 0, H, r);
}

static void sql(const char *q)
{
    dpf_test_sql(g_db, q, 0, NULL);
}

static int setup(void **state)
{
    (void)state;
    if (ph_setup("provider_location") != 0)
        return -1;
    /* six installed DPs as hman and distmgr leave them */
    sql("INSERT INTO distribution_points (server_name, nal_path, site_code, identity_guid, "
        "dp_crc, install_state, content_base) SELECT 'PS1DP' || i || '.CONTOSO.COM', 'nal' || i, "
        "'PS1', 'g' || i, 'c' || i, 'Installed', 'http://ps1dp' || i || '.contoso.com:8081' "
        "FROM generate_series(1, 6) i");
    sql("INSERT INTO packages (package_id, name, site_code, state, processed_version) VALUES "
        "('" PKG "', 'Office', 'PS1', 'Ready', 1), ('" PKG2 "', 'Viewer', 'PS1', 'Ready', 1)");
    /* DP2 holds it but is in maintenance mode; DP3's copy failed validation */
    sql("INSERT INTO dp_packages (dpid, package_id, state, version, installed_version) "
        "SELECT dpid, '" PKG "', CASE WHEN nal_path = 'nal3' THEN 'ValidationFailed' "
        "ELSE 'Installed' END, 1, 1 FROM distribution_points");
    sql("INSERT INTO dp_packages (dpid, package_id, state, version, installed_version) "
        "SELECT dpid, '" PKG2 "', 'ValidationFailed', 1, 1 FROM distribution_points "
        "WHERE nal_path = 'nal3'");
    sql("UPDATE distribution_points SET maintenance_mode = true WHERE nal_path = 'nal2'");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return ph_teardown();
}

/* Everything a boundary group request may change, as one text. */
static char *snapshot(void)
{
    return sql_text("SELECT concat_ws('|', "
                    "(SELECT md5(coalesce(string_agg(g::text, ',' ORDER BY id), '')) FROM boundary_groups g), "
                    "(SELECT md5(coalesce(string_agg(b::text, ',' ORDER BY id), '')) FROM boundaries b), "
                    "(SELECT md5(coalesce(string_agg(n::text, ',' ORDER BY group_id, neighbor_id), '')) "
                    "   FROM boundary_group_neighbors n), "
                    "(SELECT md5(coalesce(string_agg(m::text, ',' ORDER BY group_id, nal_path), '')) "
                    "   FROM boundary_group_members m), "
                    "(SELECT md5(coalesce(string_agg(d::text, ',' ORDER BY dpid), '')) "
                    "   FROM distribution_points d), "
                    "(SELECT count(*) FROM audit_log))",
                    0, NULL);
}

/* method path body must be refused with status (and field, if not NULL)
 * and an error containing want (if not NULL), changing nothing. */
static void refused(const char *method, const char *path, const char *body, long status,
                    const char *field, const char *want)
{
    char *before = snapshot();
    resp r;
    call(method, path, body, &r);
    if (r.status != status)
        print_error("%s %s %s\n", method, path, body ? body : "");
    assert_json_error(&r, status, field);
    assert_non_null(jstr(r.json, "error"));
    if (want != NULL && strstr(jstr(r.json, "error"), want) == NULL) {
        print_error("error '%s' lacks '%s'\n", jstr(r.json, "error"), want);
        fail();
    }
    resp_free(&r);
    char *after = snapshot();
    assert_string_equal(before, after);
    free(before);
    free(after);
}

static long long audit_for(const char *corr, const char *action, const char *name)
{
    const char *p[] = {corr, action, name};
    return sql_int("SELECT count(*) FROM audit_log WHERE correlation_id = $1 AND "
                   "class_name = 'SMS_BoundaryGroup' AND action = $2 AND object = "
                   "'GroupID=' || (SELECT id FROM boundary_groups WHERE name = $3) || "
                   "',Name=\"' || $3 || '\"' AND user_name = 'CONTOSO\\Admin'", 3, p);
}

static void member(const char *group, const char *nal)
{
    const char *p[] = {group, nal};
    dpf_test_sql(g_db, "INSERT INTO boundary_group_members (group_id, nal_path, server_name) "
                       "SELECT g.id, d.nal_path, d.server_name FROM boundary_groups g, "
                       "distribution_points d WHERE g.name = $1 AND d.nal_path = $2", 2, p);
}

static void created(const char *body, resp *r)
{
    call("POST", "/v1/boundarygroups", body, r);
    if (r->status != 201)
        print_error("POST %s -> %ld %s\n", body, r->status, r->body);
    assert_int_equal(r->status, 201);
    assert_non_null(r->json);
    assert_string_equal(jstr(r->json, "correlationId"), r->corr);
}

/* ---- create ---- */

static void test_create(void **state)
{
    (void)state;
    resp r;
    created("{\"name\":\"PS1 Neighbor\",\"boundaries\":[\"10.2.0.0/16\"]}", &r);
    assert_int_equal(audit_for(r.corr, "created", "PS1 Neighbor"), 1);
    resp_free(&r);
    created("{\"name\":\"PS1 Branch\",\"description\":\"branch offices\",\"boundaries\":"
            "[\"10.1.0.0/16\",\"192.168.5.10 - 192.168.5.50\"],"
            "\"neighbors\":[{\"name\":\"ps1 neighbor\",\"fallbackMinutes\":30}]}", &r);
    assert_string_equal(jstr(r.json, "name"), "PS1 Branch");
    assert_string_equal(jstr(r.json, "siteCode"), "PS1");
    assert_string_equal(jstr(r.json, "description"), "branch offices");
    assert_false(json_is_true(json_object_get(r.json, "siteDefault")));
    assert_int_equal(json_integer_value(json_object_get(r.json, "defaultFallbackMinutes")), 120);
    json_t *b = json_object_get(r.json, "boundaries");
    assert_int_equal(json_array_size(b), 2);
    assert_string_equal(json_string_value(json_array_get(b, 0)), "10.1.0.0/16");
    assert_string_equal(json_string_value(json_array_get(b, 1)), "192.168.5.10-192.168.5.50");
    json_t *n = json_array_get(json_object_get(r.json, "neighbors"), 0);
    assert_string_equal(jstr(n, "name"), "PS1 Neighbor");
    assert_int_equal(json_integer_value(json_object_get(n, "fallbackMinutes")), 30);
    assert_int_equal(audit_for(r.corr, "created", "PS1 Branch"), 1);
    resp_free(&r);
    assert_int_equal(sql_int("SELECT count(*) FROM boundaries b JOIN boundary_groups g ON "
                             "g.id = b.group_id WHERE g.name = 'PS1 Branch' AND ("
                             "(kind = 'subnet' AND net = '10.1.0.0/16') OR (kind = 'range' AND "
                             "range_start = '192.168.5.10' AND range_end = '192.168.5.50'))",
                             0, NULL), 2);
    created("{\"name\":\"PS1 IPv6\",\"boundaries\":[\"2001:DB8::/48\"]}", &r);
    assert_string_equal(json_string_value(json_array_get(json_object_get(r.json, "boundaries"),
                                                         0)), "2001:db8::/48");
    resp_free(&r);
    /* membership is a DP property (the DP endpoints, hman): written here */
    member("PS1 Branch", "nal1");
    member("PS1 Branch", "nal2");
    member("PS1 Branch", "nal3");
    member("PS1 Neighbor", "nal4");
    member("PS1 Neighbor", "nal1"); /* in two groups: still listed once */
    member(DEFAULT_GROUP, "nal5");
    member("PS1 IPv6", "nal6");
}

static void test_create_bad_input(void **state)
{
    (void)state;
    const char *p = "/v1/boundarygroups";
    refused("POST", p, "{\"name\":\"X\",\"boundaries\":[\"10.1.2.3/16\"]}", 400, "boundaries[0]",
            "10.1.2.3/16 has host bits set; did you mean 10.1.0.0/16?");
    refused("POST", p, "{\"name\":\"X\",\"boundaries\":[\"2001:db8::1/48\"]}", 400,
            "boundaries[0]", "did you mean 2001:db8::/48?");
    refused("POST", p, "{\"name\":\"X\",\"boundaries\":[\"10.0.0.1-2001:db8::1\"]}", 400,
            "boundaries[0]", "one family");
    refused("POST", p, "{\"name\":\"X\",\"boundaries\":[\"10.0.0.9-10.0.0.1\"]}", 400,
            "boundaries[0]", "reversed");
    refused("POST", p, "{\"name\":\"X\",\"boundaries\":[\"10.0.0.0/33\"]}", 400, "boundaries[0]",
            "prefix length");
    refused("POST", p, "{\"name\":\"X\",\"boundaries\":[\"10.0.0.0/8\",\"10.0.0.0/8\"]}", 400,
            "boundaries[1]", "twice");
    refused("POST", p, "{\"name\":\"X\",\"boundaries\":[\"10.1.300.0/24\"]}", 400,
            "boundaries[0]", NULL);
    refused("POST", p, "{\"name\":\"X\",\"boundaries\":[\"bogus\"]}", 400, "boundaries[0]", NULL);
    refused("POST", p, "{\"name\":\"X\",\"boundaries\":[\"10.0.0.1-10.0.0.2-10.0.0.3\"]}", 400,
            "boundaries[0]", NULL);
    refused("POST", p, "{\"name\":\"X\",\"boundaries\":\"10.0.0.0/8\"}", 400, "boundaries", NULL);
    refused("POST", p, "{\"name\":\"Loop\",\"neighbors\":[{\"name\":\"loop\"}]}", 400,
            "neighbors[0]", "its own neighbor");
    refused("POST", p, "{\"name\":\"X\",\"neighbors\":[{\"name\":\"Nowhere\"}]}", 404,
            "neighbors[0]", "Nowhere");
    refused("POST", p, "{\"name\":\"X\",\"neighbors\":[{\"name\":\"PS1 Branch\","
            "\"fallbackMinutes\":-1}]}", 400, "neighbors[0].fallbackMinutes", NULL);
    refused("POST", p, "{\"name\":\"X\",\"neighbors\":[{\"name\":\"PS1 Branch\",\"x\":1}]}", 400,
            NULL, "unknown field");
    refused("POST", p, "{\"name\":\"ps1 BRANCH\"}", 409, "name", "exists already");
    refused("POST", p, "{\"name\":\"X\",\"siteCode\":\"ZZ9\"}", 400, "siteCode", "ZZ9");
    refused("POST", p, "{\"name\":\"X\",\"siteDefault\":\"yes\"}", 400, "siteDefault", NULL);
    refused("POST", p, "{\"name\":\"X\",\"defaultFallbackMinutes\":1.5}", 400,
            "defaultFallbackMinutes", NULL);
    refused("POST", p, "{\"name\":\"X\",\"color\":\"red\"}", 400, "color", "unknown field");
    refused("POST", p, "{\"name\":\"a/b\"}", 400, "name", NULL);
    refused("POST", p, "{\"description\":\"no name\"}", 400, "name", NULL);
    refused("POST", p, "{\"name\":", 400, NULL, NULL);
    refused("POST", p, "[]", 400, NULL, NULL);
}

/* ---- show, list ---- */

static void test_show_and_list(void **state)
{
    (void)state;
    resp r;
    call("GET", "/v1/boundarygroups/ps1%20branch", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "name"), "PS1 Branch");
    assert_int_equal(json_integer_value(json_object_get(r.json, "memberCount")), 3);
    json_t *m = json_object_get(r.json, "members");
    assert_int_equal(json_array_size(m), 3);
    assert_string_equal(jstr(json_array_get(m, 1), "serverName"), "PS1DP2.CONTOSO.COM");
    assert_true(json_is_true(json_object_get(json_array_get(m, 1), "maintenanceMode")));
    assert_true(json_is_false(json_object_get(json_array_get(m, 0), "maintenanceMode")));
    resp_free(&r);
    call("GET", "/v1/boundarygroups", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_true(json_is_array(r.json));
    int seen = 0;
    for (size_t i = 0; i < json_array_size(r.json); i++) {
        json_t *g = json_array_get(r.json, i);
        if (strcmp(jstr(g, "name"), DEFAULT_GROUP) == 0) {
            seen++;
            assert_true(json_is_true(json_object_get(g, "siteDefault")));
            assert_int_equal(json_integer_value(json_object_get(g, "memberCount")), 1);
        }
        if (strcmp(jstr(g, "name"), "PS1 Neighbor") == 0) {
            seen++;
            assert_int_equal(json_integer_value(json_object_get(g, "memberCount")), 2);
        }
    }
    assert_int_equal(seen, 2);
    resp_free(&r);
    call("GET", "/v1/boundarygroups/Nowhere", NULL, &r);
    assert_json_error(&r, 404, "name");
    resp_free(&r);
}

/* ---- content location ---- */

/* GET /v1/contentlocation for PKG; the locations as "SERVER source group;..."
 * (DP names shortened to PS1DPn) into out. */
static void locate(const char *pkg, const char *addr, int waited, resp *r, char *out, size_t len)
{
    char path[300];
    snprintf(path, sizeof path, "/v1/contentlocation?packageId=%s&clientAddress=%s"
             "&waitedMinutes=%d", pkg, addr, waited);
    call("GET", path, NULL, r);
    if (r->status != 200)
        print_error("GET %s -> %ld %s\n", path, r->status, r->body);
    assert_int_equal(r->status, 200);
    assert_string_equal(jstr(r->json, "packageId"), pkg);
    assert_int_equal(json_integer_value(json_object_get(r->json, "waitedMinutes")), waited);
    out[0] = '\0';
    json_t *l = json_object_get(r->json, "locations");
    for (size_t i = 0; i < json_array_size(l); i++) {
        json_t *o = json_array_get(l, i);
        char url[200];
        const char *server = jstr(o, "serverName");
        snprintf(url, sizeof url, "http://ps1dp%c.contoso.com:8081/SMS_DP_SMSPKG$/%s", server[5],
                 pkg);
        assert_string_equal(jstr(o, "url"), url);
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%.6s %s %s", i ? ";" : "", server,
                 jstr(o, "source"), jstr(o, "boundaryGroup"));
    }
    if (json_array_size(l) == 0)
        assert_non_null(jstr(r->json, "reason"));
    else
        assert_null(json_object_get(r->json, "reason"));
}

static void expect(const char *addr, int waited, const char *want)
{
    resp r;
    char got[1000];
    locate(PKG, addr, waited, &r, got, sizeof got);
    if (strcmp(got, want) != 0)
        print_error("%s after %d min: %s\n", addr, waited, r.body);
    assert_string_equal(got, want);
    resp_free(&r);
}

static void expect_none(const char *pkg, const char *addr, int waited, const char *reason)
{
    resp r;
    char got[1000];
    locate(pkg, addr, waited, &r, got, sizeof got);
    assert_string_equal(got, "");
    assert_non_null(jstr(r.json, "reason"));
    if (strstr(jstr(r.json, "reason"), reason) == NULL)
        print_error("reason '%s' lacks '%s'\n", jstr(r.json, "reason"), reason);
    assert_non_null(strstr(jstr(r.json, "reason"), reason));
    resp_free(&r);
}

static void test_location(void **state)
{
    (void)state;
    resp r;
    char got[1000];
    /* a subnet: DP1 only (DP2 is in maintenance mode, DP3's copy failed) */
    locate(PKG, "10.1.2.3", 0, &r, got, sizeof got);
    assert_string_equal(got, "PS1DP1 current PS1 Branch");
    assert_string_equal(json_string_value(json_array_get(json_object_get(r.json, "boundaryGroups"),
                                                         0)), "PS1 Branch");
    assert_string_equal(jstr(r.json, "clientAddress"), "10.1.2.3");
    resp_free(&r);
    assert_true(log_contains("Content location for " PKG " from 10.1.2.3: 1 DP "
                             "(current: PS1 Branch)"));
    /* the neighbor before and after its fallback time; DP1 is not listed twice */
    expect("10.1.2.3", 29, "PS1DP1 current PS1 Branch");
    expect("10.1.2.3", 30, "PS1DP1 current PS1 Branch;PS1DP4 neighbor PS1 Neighbor");
    expect("10.1.2.3", 120, "PS1DP1 current PS1 Branch;PS1DP4 neighbor PS1 Neighbor;"
           "PS1DP5 siteDefault " DEFAULT_GROUP);
    /* a range, its ends included */
    expect("192.168.5.10", 0, "PS1DP1 current PS1 Branch");
    expect("192.168.5.50", 0, "PS1DP1 current PS1 Branch");
    expect("::ffff:192.168.5.20", 0, "PS1DP1 current PS1 Branch");
    /* IPv6 */
    expect("2001:db8:0:1::5", 0, "PS1DP6 current PS1 IPv6");
    /* in no group: the site default only, after 120 minutes */
    expect_none(PKG, "192.168.5.51", 0, "no boundary group contains 192.168.5.51");
    expect_none(PKG, "10.9.9.9", 119, "fallback after 120 minutes");
    expect("10.9.9.9", 120, "PS1DP5 siteDefault " DEFAULT_GROUP);
    expect_none(PKG, "2001:db9::1", 0, "no boundary group contains 2001:db9::1");
    /* every DP of the group in maintenance mode */
    sql("UPDATE distribution_points SET maintenance_mode = true WHERE nal_path = 'nal1'");
    expect_none(PKG, "10.1.2.3", 0, "every DP that holds " PKG " for this client is in "
                "maintenance mode (PS1DP1.CONTOSO.COM, PS1DP2.CONTOSO.COM)");
    expect("10.1.2.3", 30, "PS1DP4 neighbor PS1 Neighbor");
    sql("UPDATE distribution_points SET maintenance_mode = false WHERE nal_path = 'nal1'");
    /* a copy that failed validation is not a copy; neither is one on its way
     * or on a DP being removed */
    expect_none(PKG2, "10.1.2.3", 0, "no DP holds " PKG2);
    sql("UPDATE dp_packages SET state = 'InProgress' WHERE package_id = '" PKG "' AND dpid = "
        "(SELECT dpid FROM distribution_points WHERE nal_path = 'nal4')");
    sql("UPDATE distribution_points SET action = 3, install_state = 'Removing' WHERE nal_path = 'nal5'");
    expect("10.1.2.3", 500, "PS1DP1 current PS1 Branch");
    sql("UPDATE dp_packages SET state = 'Installed' WHERE package_id = '" PKG "'"
        " AND state = 'InProgress'");
    sql("UPDATE distribution_points SET action = 0, install_state = 'Installed' WHERE nal_path = 'nal5'");
}

static void test_location_bad_input(void **state)
{
    (void)state;
    const char *const bad[][3] = {
        {"/v1/contentlocation?packageId=" PKG "&clientAddress=10.1.2", "400", "clientAddress"},
        {"/v1/contentlocation?packageId=" PKG "&clientAddress=10.1.2.3/24", "400", "clientAddress"},
        {"/v1/contentlocation?packageId=" PKG "&clientAddress=fe80::1%25eth0", "400", "clientAddress"},
        {"/v1/contentlocation?packageId=" PKG, "400", "clientAddress"},
        {"/v1/contentlocation?clientAddress=10.1.2.3", "400", "packageId"},
        {"/v1/contentlocation?packageId=nope&clientAddress=10.1.2.3", "400", "packageId"},
        {"/v1/contentlocation?packageId=PS1FFFFF&clientAddress=10.1.2.3", "404", "packageId"},
        {"/v1/contentlocation?packageId=" PKG "&clientAddress=10.1.2.3&waitedMinutes=-1", "400",
         "waitedMinutes"},
        {"/v1/contentlocation?packageId=" PKG "&clientAddress=10.1.2.3&waitedMinutes=1.5", "400",
         "waitedMinutes"},
        {"/v1/contentlocation?packageId=" PKG "&clientAddress=10.1.2.3&waitedMinutes=abc", "400",
         "waitedMinutes"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        refused("GET", bad[i][0], NULL, atol(bad[i][1]), bad[i][2], NULL);
}

/* ---- update ---- */

static void test_update(void **state)
{
    (void)state;
    const char *p = "/v1/boundarygroups/PS1%20Branch";
    resp r;
    /* the set of boundaries is replaced: the range is gone */
    call("PATCH", p, "{\"boundaries\":[\"10.1.0.0/16\",\"10.3.0.0/16\"],\"description\":\"d2\"}",
         &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "boundaries")), 2);
    assert_string_equal(jstr(r.json, "description"), "d2");
    assert_int_equal(audit_for(r.corr, "modified", "PS1 Branch"), 1);
    resp_free(&r);
    expect_none(PKG, "192.168.5.20", 0, "no boundary group contains");
    expect("10.3.0.1", 0, "PS1DP1 current PS1 Branch");
    /* the neighbor with a shorter fallback time */
    call("PATCH", p, "{\"neighbors\":[{\"name\":\"PS1 Neighbor\",\"fallbackMinutes\":5}]}", &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    expect("10.1.2.3", 5, "PS1DP1 current PS1 Branch;PS1DP4 neighbor PS1 Neighbor");
    /* the site default moves: the previous one gives up the flag */
    call("PATCH", "/v1/boundarygroups/PS1%20Neighbor",
         "{\"siteDefault\":true,\"defaultFallbackMinutes\":60}", &r);
    assert_int_equal(r.status, 200);
    assert_true(json_is_true(json_object_get(r.json, "siteDefault")));
    assert_int_equal(audit_for(r.corr, "modified", "PS1 Neighbor"), 1);
    assert_int_equal(audit_for(r.corr, "modified", DEFAULT_GROUP), 1);
    resp_free(&r);
    assert_int_equal(sql_int("SELECT count(*) FROM boundary_groups WHERE is_site_default", 0,
                             NULL), 1);
    expect("10.9.9.9", 60, "PS1DP1 siteDefault PS1 Neighbor;PS1DP4 siteDefault PS1 Neighbor");
    refused("PATCH", "/v1/boundarygroups/PS1%20Neighbor", "{\"siteDefault\":false}", 409,
            "siteDefault", "make another group the site default");
    call("PATCH", "/v1/boundarygroups/Default-Site-Boundary-Group%3CPS1%3E",
         "{\"siteDefault\":true}", &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    expect("10.9.9.9", 120, "PS1DP5 siteDefault " DEFAULT_GROUP);
    /* bad changes */
    refused("PATCH", p, "{\"neighbors\":[{\"name\":\"ps1 branch\",\"fallbackMinutes\":1}]}", 400,
            "neighbors[0]", "its own neighbor");
    refused("PATCH", p, "{\"neighbors\":[{\"name\":\"Nowhere\"}]}", 404, "neighbors[0]", NULL);
    refused("PATCH", p, "{\"boundaries\":[\"10.1.2.3/16\"]}", 400, "boundaries[0]",
            "did you mean 10.1.0.0/16?");
    refused("PATCH", p, "{\"name\":\"Renamed\"}", 400, "name", NULL);
    refused("PATCH", p, "{\"siteCode\":\"PS2\"}", 400, "siteCode", NULL);
    refused("PATCH", p, "{}", 400, NULL, "nothing to change");
    refused("PATCH", "/v1/boundarygroups/Nowhere", "{\"description\":\"x\"}", 404, "name", NULL);
}

/* ---- delete ---- */

static void test_delete(void **state)
{
    (void)state;
    refused("DELETE", "/v1/boundarygroups/PS1%20Branch", NULL, 409, "name",
            "PS1DP1.CONTOSO.COM, PS1DP2.CONTOSO.COM, PS1DP3.CONTOSO.COM");
    refused("DELETE", "/v1/boundarygroups/Default-Site-Boundary-Group%3CPS1%3E", NULL, 409, "name",
            "site default");
    refused("DELETE", "/v1/boundarygroups/Nowhere", NULL, 404, "name", NULL);
    resp r;
    created("{\"name\":\"PS1 Temp\",\"boundaries\":[\"10.200.0.0-10.200.0.255\"]}", &r);
    resp_free(&r);
    call("PATCH", "/v1/boundarygroups/PS1%20IPv6", "{\"neighbors\":[{\"name\":\"PS1 Temp\"}]}",
         &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    long long id = sql_int("SELECT id FROM boundary_groups WHERE name = 'PS1 Temp'", 0, NULL);
    call("DELETE", "/v1/boundarygroups/ps1%20temp", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "name"), "PS1 Temp");
    json_t *of = json_object_get(r.json, "removedAsNeighborOf");
    assert_int_equal(json_array_size(of), 1);
    assert_string_equal(json_string_value(json_array_get(of, 0)), "PS1 IPv6");
    char object[64];
    snprintf(object, sizeof object, "GroupID=%lld,Name=\"PS1 Temp\"", id);
    const char *pa[] = {r.corr, object};
    assert_int_equal(sql_int("SELECT count(*) FROM audit_log WHERE correlation_id = $1 AND "
                             "action = 'deleted' AND class_name = 'SMS_BoundaryGroup' AND "
                             "object = $2", 2, pa), 1);
    resp_free(&r);
    assert_int_equal(sql_int("SELECT count(*) FROM boundary_groups WHERE name = 'PS1 Temp'", 0,
                             NULL), 0);
    assert_int_equal(sql_int("SELECT count(*) FROM boundaries b WHERE NOT EXISTS (SELECT 1 FROM "
                             "boundary_groups g WHERE g.id = b.group_id)", 0, NULL), 0);
    assert_int_equal(sql_int("SELECT count(*) FROM boundary_group_neighbors", 0, NULL), 1);
}

/* ---- dpctl ---- */

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
    char out[8192];
    assert_int_equal(dpctl("boundarygroup create 'PS1 Cli' --boundary 172.16.0.0/12 "
                           "--boundary '172.32.0.1-172.32.0.9' --neighbor 'PS1 Branch:45' "
                           "--description 'from dpctl'", out, sizeof out), 0);
    assert_non_null(strstr(out, "172.16.0.0/12"));
    assert_non_null(strstr(out, "PS1 Branch (fallback after 45 minutes)"));
    assert_int_equal(sql_int("SELECT count(*) FROM boundary_group_neighbors n JOIN "
                             "boundary_groups g ON g.id = n.group_id WHERE g.name = 'PS1 Cli' "
                             "AND n.fallback_minutes = 45", 0, NULL), 1);
    assert_int_equal(dpctl("boundarygroup list", out, sizeof out), 0);
    assert_non_null(strstr(out, "PS1 Cli"));
    assert_non_null(strstr(out, DEFAULT_GROUP));
    assert_int_equal(dpctl("boundarygroup show 'PS1 Branch'", out, sizeof out), 0);
    assert_non_null(strstr(out, "PS1DP2.CONTOSO.COM"));
    assert_int_equal(dpctl("boundarygroup set 'PS1 Cli' --no-neighbors --description changed",
                           out, sizeof out), 0);
    assert_int_equal(sql_int("SELECT count(*) FROM boundary_groups WHERE name = 'PS1 Cli' AND "
                             "description = 'changed' AND NOT EXISTS (SELECT 1 FROM "
                             "boundary_group_neighbors WHERE group_id = id)", 0, NULL), 1);
    assert_int_equal(dpctl("boundarygroup set 'PS1 Cli' --boundary 10.1.2.3/16", out, sizeof out),
                     1);
    assert_non_null(strstr(out, "did you mean 10.1.0.0/16?"));
    assert_int_equal(dpctl("content locate " PKG " --client 10.1.2.3 --waited-minutes 30", out,
                           sizeof out), 0);
    assert_non_null(strstr(out, "PS1DP1.CONTOSO.COM"));
    assert_non_null(strstr(out, "PS1DP4.CONTOSO.COM"));
    assert_non_null(strstr(out, "http://ps1dp1.contoso.com:8081/SMS_DP_SMSPKG$/" PKG));
    assert_int_equal(dpctl("content locate " PKG " --client 10.9.9.9", out, sizeof out), 0);
    assert_non_null(strstr(out, "no boundary group contains 10.9.9.9"));
    assert_int_equal(dpctl("--json content locate " PKG " --client 2001:db8::1", out, sizeof out),
                     0);
    json_t *doc = json_loads(out, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(jstr(json_array_get(json_object_get(doc, "locations"), 0), "serverName"),
                        "PS1DP6.CONTOSO.COM");
    json_decref(doc);
    assert_int_equal(dpctl("content locate " PKG " --client not-an-address", out, sizeof out), 1);
    assert_int_equal(dpctl("content locate " PKG, out, sizeof out), 2);
    assert_int_equal(dpctl("boundarygroup delete 'PS1 Branch'", out, sizeof out), 1);
    assert_non_null(strstr(out, "PS1DP1.CONTOSO.COM"));
    assert_int_equal(dpctl("boundarygroup delete 'PS1 Cli'", out, sizeof out), 0);
    assert_int_equal(sql_int("SELECT count(*) FROM boundary_groups WHERE name = 'PS1 Cli'", 0,
                             NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_create_bad_input),
        cmocka_unit_test(test_show_and_list),
        cmocka_unit_test(test_location),
        cmocka_unit_test(test_location_bad_input),
        cmocka_unit_test(test_update),
        cmocka_unit_test(test_delete),
        cmocka_unit_test(test_dpctl),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

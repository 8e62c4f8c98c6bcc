/* The package endpoints of the provider binary against a real PostgreSQL,
 * driven over HTTP: a package is created from a directory under a content
 * source root, distributed to DPs by name and by boundary group,
 * redistributed, removed from one DP, updated and deleted, each with its
 * rows, its audit row and its pkg.changed outbox row carrying the
 * correlation id; every kind of bad input is refused with the right status
 * while packages, dp_packages, package_boundary_groups, the audit log and
 * the outbox stay exactly as they were. dpctl's package commands are run
 * against the same provider. The DPs are written into distribution_points
 * directly (hman does that in the real stack). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dpf_test.h"
#include "test_provider_harness.h"

#ifndef DPCTL_BIN
#error "DPCTL_BIN must be defined"
#endif

static char g_root[256];    /* a content source root */
static char g_root2[256];   /* another one */
static char g_outside[256]; /* a directory under no root */
static char g_pkg[64];      /* the package test_create made */

static const char *const H[] = {"Content-Type: application/json",
                                "X-Dpf-Application: test_provider_packages",
                                "X-Dpf-Machine: PS1SITE.CONTOSO.COM", NULL};

static void call(const char *method, const char *path, const char *body, resp *r)
{
    http(method, path, body, body ? strlen(body) : 0, H, r);
}

static void sql(const char *q)
{
    dpf_test_sql(g_db, q, 0, NULL);
}

static void mkdir_p(const char *path)
{
    assert_int_equal(mkdir(path, 0755), 0);
}

static int setup(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/dpf_pkg_test.XXXXXX";
    if (mkdtemp(tmpl) == NULL)
        return -1;
    snprintf(g_root, sizeof g_root, "%s/sources", tmpl);
    snprintf(g_root2, sizeof g_root2, "%s/more", tmpl);
    snprintf(g_outside, sizeof g_outside, "%s/elsewhere", tmpl);
    char roots[600];
    snprintf(roots, sizeof roots, "%s:%s", g_root, g_root2);
    setenv("DPFLEET_CONTENT_SOURCE_ROOTS", roots, 1);
    if (mkdir(g_root, 0755) != 0 || mkdir(g_root2, 0755) != 0 || mkdir(g_outside, 0755) != 0)
        return -1;
    if (ph_setup("provider_packages") != 0)
        return -1;
    /* three DPs as hman writes them: one installed, one still installing,
     * one being removed; two of them in a boundary group */
    dpf_db *db = g_db;
    dpf_test_sql(db, "INSERT INTO distribution_points (server_name, nal_path, site_code, "
                     "identity_guid, dp_crc, install_state, content_base) VALUES "
                     "('PS1DP1.CONTOSO.COM', 'nal1', 'PS1', 'g1', 'c1', 'Installed', "
                     "  'http://ps1dp1.contoso.com:8081'), "
                     "('PS1DP2.CONTOSO.COM', 'nal2', 'PS1', 'g2', 'c2', 'Installing', ''), "
                     "('PS1DP3.CONTOSO.COM', 'nal3', 'PS1', 'g3', 'c3', 'Installed', "
                     "  'http://ps1dp3.contoso.com:8081')", 0, NULL);
    dpf_test_sql(db, "INSERT INTO distribution_points (server_name, nal_path, site_code, "
                     "identity_guid, dp_crc, install_state, action) VALUES "
                     "('PS1GONE.CONTOSO.COM', 'nal4', 'PS1', 'g4', 'c4', 'Removing', 3)", 0, NULL);
    dpf_test_sql(db, "INSERT INTO boundary_groups (name, site_code) VALUES ('Branch Offices', 'PS1')",
                 0, NULL);
    dpf_test_sql(db, "INSERT INTO boundary_group_members (group_id, nal_path, server_name) "
                     "SELECT id, n, s FROM boundary_groups, (VALUES ('nal2', 'PS1DP2.CONTOSO.COM'), "
                     "('nal4', 'PS1GONE.CONTOSO.COM')) v(n, s) WHERE name = 'Branch Offices'", 0, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    int rc = ph_teardown();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%.*s'", (int)(strrchr(g_root, '/') - g_root), g_root);
    if (system(cmd) != 0)
        rc = -1;
    return rc;
}

/* Everything a package request may change, as one text. */
static char *snapshot(void)
{
    return sql_text("SELECT concat_ws('|', "
                    "(SELECT md5(coalesce(string_agg(p::text, ',' ORDER BY package_id), '')) FROM packages p), "
                    "(SELECT md5(coalesce(string_agg(d::text, ',' ORDER BY dpid, package_id), '')) FROM dp_packages d), "
                    "(SELECT md5(coalesce(string_agg(b::text, ',' ORDER BY package_id, group_id), '')) "
                    "   FROM package_boundary_groups b), "
                    "(SELECT count(*) FROM audit_log), (SELECT count(*) FROM outbox))",
                    0, NULL);
}

/* method path body must be refused with status (and field, if not NULL),
 * changing nothing. */
static void refused(const char *method, const char *path, const char *body, long status,
                    const char *field)
{
    char *before = snapshot();
    resp r;
    call(method, path, body, &r);
    if (r.status != status)
        print_error("%s %s %s\n", method, path, body ? body : "");
    assert_json_error(&r, status, field);
    resp_free(&r);
    char *after = snapshot();
    assert_string_equal(before, after);
    free(before);
    free(after);
}

static long long outbox_for(const char *corr)
{
    const char *p[] = {corr};
    return sql_int("SELECT count(*) FROM outbox WHERE correlation_id = $1 AND subject = "
                   "'pkg.changed.' || (SELECT seq FROM packages WHERE package_id = "
                   "(SELECT object FROM audit_log WHERE correlation_id = $1 LIMIT 1))", 1, p);
}

static long long audit_for(const char *corr, const char *cls, const char *action, const char *id)
{
    const char *p[] = {corr, cls, action, id};
    return sql_int("SELECT count(*) FROM audit_log WHERE correlation_id = $1 AND class_name = $2 "
                   "AND action = $3 AND object = $4 AND user_name = 'CONTOSO\\Admin' "
                   "AND app_name = 'test_provider_packages'", 4, p);
}

/* tmpl with its one "%s" replaced by value (templates of test cases are
 * data, not format strings). */
static void subst(char *out, size_t len, const char *tmpl, const char *value)
{
    const char *at = strstr(tmpl, "%s");
    if (at == NULL)
        snprintf(out, len, "%s", tmpl);
    else
        snprintf(out, len, "%.*s%s%s", (int)(at - tmpl), tmpl, value, at + 2);
}

/* ---- create ---- */

static void test_create(void **state)
{
    (void)state;
    char dir[400], body[800];
    snprintf(dir, sizeof dir, "%s/Office", g_root);
    mkdir_p(dir);
    snprintf(body, sizeof body, "{\"name\":\"Office 2024\",\"description\":\"the suite\","
             "\"sourcePath\":\"%s//./Office/\"}", g_root);
    long long before = sql_int("SELECT count(*) FROM packages", 0, NULL);
    resp r;
    call("POST", "/v1/packages", body, &r);
    if (r.status != 201)
        print_error("%s\n", r.body);
    assert_int_equal(r.status, 201);
    const char *id = jstr(r.json, "packageId");
    assert_non_null(id);
    assert_int_equal(strlen(id), 8);
    assert_memory_equal(id, "PS1", 3);
    assert_int_equal(strspn(id + 3, "0123456789ABCDEF"), 5);
    snprintf(g_pkg, sizeof g_pkg, "%s", id);
    assert_int_equal(json_integer_value(json_object_get(r.json, "version")), 1);
    assert_string_equal(jstr(r.json, "state"), "Processing");
    assert_string_equal(jstr(r.json, "sourcePath"), dir);
    assert_string_equal(jstr(r.json, "correlationId"), r.corr);
    assert_int_equal(sql_int("SELECT count(*) FROM packages", 0, NULL), before + 1);
    const char *p[] = {id, dir};
    assert_int_equal(sql_int("SELECT count(*) FROM packages WHERE package_id = $1 AND "
                             "name = 'Office 2024' AND description = 'the suite' AND "
                             "source_path = $2 AND site_code = 'PS1' AND state = 'Processing' "
                             "AND source_version = 1 AND processed_version = 0", 2, p), 1);
    assert_int_equal(audit_for(r.corr, "SMS_Package", "created", id), 1);
    assert_int_equal(outbox_for(r.corr), 1);
    assert_true(log_contains("Auditing: User CONTOSO\\Admin created an instance of class SMS_Package."));
    resp_free(&r);

    /* the next one gets the next number; a symbolic link inside the roots
     * is stored as its target */
    char link[400];
    snprintf(dir, sizeof dir, "%s/Tools", g_root2);
    mkdir_p(dir);
    snprintf(link, sizeof link, "%s/tools-link", g_root);
    assert_int_equal(symlink(dir, link), 0);
    snprintf(body, sizeof body, "{\"name\":\"Tools\",\"sourcePath\":\"%s\",\"siteCode\":\"ps1\"}",
             link);
    call("POST", "/v1/packages", body, &r);
    assert_int_equal(r.status, 201);
    assert_string_equal(jstr(r.json, "sourcePath"), dir);
    assert_int_equal(strtol(jstr(r.json, "packageId") + 3, NULL, 16),
                     strtol(g_pkg + 3, NULL, 16) + 1);
    resp_free(&r);

    /* the same name again, in any case: 409 */
    snprintf(body, sizeof body, "{\"name\":\"office 2024\",\"sourcePath\":\"%s/Office\"}", g_root);
    refused("POST", "/v1/packages", body, 409, "name");
}

static void test_create_bad_source(void **state)
{
    (void)state;
    char body[1200], path[600];
    struct { const char *path; const char *says; } cases[] = {
        {"relative/dir", "absolute"},
        {"%s/../sources/Office", "'..'"},
        {"%s/Office/..", "'..'"},
        {"/etc", "outside every content source root"},
        {"%s/missing", "does not exist"},
        {"%s/file.txt", "not a directory"},
        {"%s/out-link", "symbolic link"},
        {"%s/out-link/sub", "symbolic link"},
    };
    char file[400], out_link[400];
    snprintf(file, sizeof file, "%s/file.txt", g_root);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("x", f);
    fclose(f);
    snprintf(out_link, sizeof out_link, "%s/out-link", g_root);
    assert_int_equal(symlink(g_outside, out_link), 0);
    char sub[400];
    snprintf(sub, sizeof sub, "%s/sub", g_outside);
    mkdir_p(sub);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        subst(path, sizeof path, cases[i].path, g_root);
        snprintf(body, sizeof body, "{\"name\":\"Bad %zu\",\"sourcePath\":\"%s\"}", i, path);
        char *before = snapshot();
        resp r;
        call("POST", "/v1/packages", body, &r);
        assert_json_error(&r, 400, "sourcePath");
        if (strstr(jstr(r.json, "error"), cases[i].says) == NULL)
            print_error("%s: %s\n", path, jstr(r.json, "error"));
        assert_non_null(strstr(jstr(r.json, "error"), cases[i].says));
        if (i == 3) { /* names the roots */
            assert_non_null(strstr(jstr(r.json, "error"), g_root));
            assert_non_null(strstr(jstr(r.json, "error"), g_root2));
        }
        resp_free(&r);
        char *after = snapshot();
        assert_string_equal(before, after);
        free(before);
        free(after);
    }
}

static void test_create_bad_body(void **state)
{
    (void)state;
    char ok_src[400], body[2000];
    snprintf(ok_src, sizeof ok_src, "%s/Office", g_root);
    struct { const char *fmt; const char *field; } cases[] = {
        {"{\"name\":5,\"sourcePath\":\"%s\"}", "name"},
        {"{\"name\":\"\",\"sourcePath\":\"%s\"}", "name"},
        {"{\"name\":\" padded\",\"sourcePath\":\"%s\"}", "name"},
        {"{\"name\":\"tab\\there\",\"sourcePath\":\"%s\"}", "name"},
        {"{\"name\":\"x\",\"sourcePath\":\"%s\",\"description\":[]}", "description"},
        {"{\"name\":\"x\",\"sourcePath\":\"%s\",\"siteCode\":\"PS\"}", "siteCode"},
        {"{\"name\":\"x\",\"sourcePath\":\"%s\",\"siteCode\":\"XYZ\"}", "siteCode"},
        {"{\"name\":\"x\",\"sourcePath\":\"%s\",\"sourceDir\":\"/\"}", "sourceDir"},
        {"{\"name\":\"x\",\"name\":\"y\",\"sourcePath\":\"%s\"}", ""},
        {"{\"name\":\"x\",\"sourcePath\":\"%s\"", ""},
        {"{\"sourcePath\":\"%s\"}", "name"},
        {"{\"name\":\"x\",\"sourcePath\":null,\"z\":\"%s\"}", "sourcePath"},
        {"{\"name\":\"x\"} %s", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        subst(body, sizeof body, cases[i].fmt, ok_src);
        refused("POST", "/v1/packages", body, 400, *cases[i].field ? cases[i].field : NULL);
    }
    refused("POST", "/v1/packages", "[]", 400, NULL);
    refused("POST", "/v1/packages", "", 400, NULL);
    /* the limits: 100 characters of name (multi-byte ones count once), 500 of description */
    char name[400] = "";
    for (int i = 0; i < 101; i++)
        strcat(name, "\xc3\xa9");
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"sourcePath\":\"%s\"}", name, ok_src);
    refused("POST", "/v1/packages", body, 400, "name");
    name[200] = '\0'; /* 100 characters: accepted */
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"sourcePath\":\"%s\"}", name, ok_src);
    resp r;
    call("POST", "/v1/packages", body, &r);
    assert_int_equal(r.status, 201);
    resp_free(&r);
    char desc[600];
    memset(desc, 'd', 501);
    desc[501] = '\0';
    snprintf(body, sizeof body, "{\"name\":\"desc\",\"description\":\"%s\",\"sourcePath\":\"%s\"}",
             desc, ok_src);
    refused("POST", "/v1/packages", body, 400, "description");
    /* a 10 MB body: 413 before it is read */
    size_t n = 10 * 1024 * 1024;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, ' ', n);
    memcpy(big, "{\"name\":\"", 9);
    memcpy(big + n - 2, "\"}", 3);
    char *before = snapshot();
    http("POST", "/v1/packages", big, n, H, &r);
    assert_json_error(&r, 413, NULL);
    resp_free(&r);
    char *after = snapshot();
    assert_string_equal(before, after);
    free(before);
    free(after);
    free(big);
}

/* ---- read ---- */

static void test_list_and_show(void **state)
{
    (void)state;
    resp r;
    call("GET", "/v1/packages", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_true(json_is_array(r.json));
    json_t *found = NULL, *client = NULL, *p;
    size_t i;
    json_array_foreach(r.json, i, p) {
        if (strcmp(jstr(p, "packageId"), g_pkg) == 0)
            found = p;
        if (strcmp(jstr(p, "packageId"), "CS100002") == 0)
            client = p;
    }
    assert_non_null(found);
    assert_non_null(client);
    assert_string_equal(jstr(found, "name"), "Office 2024");
    assert_string_equal(jstr(found, "state"), "Processing");
    assert_int_equal(json_integer_value(json_object_get(found, "version")), 0);
    assert_true(json_is_integer(json_object_get(found, "fileCount")));
    assert_true(json_is_integer(json_object_get(found, "size")));
    assert_int_equal(json_integer_value(json_object_get(client, "version")), 1);
    resp_free(&r);

    char path[128];
    snprintf(path, sizeof path, "/v1/packages/%s", g_pkg);
    for (char *c = path + strlen("/v1/packages/"); *c; c++)
        *c = (char)tolower((unsigned char)*c);
    call("GET", path, NULL, &r); /* the id is matched in any case */
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "packageId"), g_pkg);
    assert_string_equal(jstr(r.json, "description"), "the suite");
    assert_int_equal(json_integer_value(json_object_get(r.json, "sourceVersion")), 1);
    assert_string_equal(jstr(r.json, "lastError"), "");
    assert_non_null(strstr(jstr(r.json, "sourcePath"), "/sources/Office"));
    assert_int_equal(json_array_size(json_object_get(r.json, "boundaryGroups")), 0);
    assert_int_equal(json_array_size(json_object_get(r.json, "distributionPoints")), 0);
    resp_free(&r);

    refused("GET", "/v1/packages/PS1FFFFF", NULL, 404, "packageId");
    refused("GET", "/v1/packages/not-an-id", NULL, 404, "packageId");
    refused("PUT", "/v1/packages", NULL, 405, NULL);
}

/* ---- distribute ---- */

static void test_distribute(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "/v1/packages/%s/distribute", g_pkg);
    resp r;
    call("POST", path, "{\"distributionPoints\":[\"ps1dp1.contoso.com\"],"
                       "\"boundaryGroups\":[\"branch offices\"]}", &r);
    if (r.status != 202)
        print_error("%s\n", r.body);
    assert_int_equal(r.status, 202);
    assert_string_equal(jstr(r.json, "packageId"), g_pkg);
    json_t *dps = json_object_get(r.json, "distributionPoints");
    /* DP1 by name, DP2 through the group; the group's DP being removed is left out */
    assert_int_equal(json_array_size(dps), 2);
    assert_string_equal(jstr(json_array_get(dps, 0), "serverName"), "PS1DP1.CONTOSO.COM");
    assert_string_equal(jstr(json_array_get(dps, 0), "state"), "Pending");
    assert_true(json_is_true(json_object_get(json_array_get(dps, 0), "queued")));
    assert_string_equal(jstr(json_array_get(dps, 1), "serverName"), "PS1DP2.CONTOSO.COM");
    const char *p[] = {g_pkg};
    assert_int_equal(sql_int("SELECT count(*) FROM dp_packages WHERE package_id = $1 AND "
                             "state = 'Pending'", 1, p), 2);
    assert_int_equal(sql_int("SELECT count(*) FROM package_boundary_groups b JOIN boundary_groups g "
                             "ON g.id = b.group_id WHERE b.package_id = $1 AND g.name = 'Branch Offices'",
                             1, p), 1);
    assert_int_equal(audit_for(r.corr, "SMS_DistributionPoint", "created", g_pkg), 1);
    /* one wake-up for the package, however many DPs */
    assert_int_equal(outbox_for(r.corr), 1);
    char corr[128];
    snprintf(corr, sizeof corr, "%s", r.corr);
    resp_free(&r);

    /* again, to DP1 and DP3: DP1's row stays as it is, DP3 is added */
    sql("UPDATE dp_packages SET state = 'InProgress' WHERE dpid = "
        "(SELECT dpid FROM distribution_points WHERE nal_path = 'nal1')");
    call("POST", path, "{\"distributionPoints\":[\"PS1DP1.contoso.com\",\"ps1dp3.contoso.com\"]}", &r);
    assert_int_equal(r.status, 202);
    dps = json_object_get(r.json, "distributionPoints");
    assert_int_equal(json_array_size(dps), 2);
    assert_string_equal(jstr(json_array_get(dps, 0), "state"), "InProgress");
    assert_true(json_is_false(json_object_get(json_array_get(dps, 0), "queued")));
    assert_string_equal(jstr(json_array_get(dps, 1), "serverName"), "PS1DP3.CONTOSO.COM");
    assert_true(json_is_true(json_object_get(json_array_get(dps, 1), "queued")));
    resp_free(&r);
    assert_int_equal(sql_int("SELECT count(*) FROM dp_packages WHERE package_id = $1", 1, p), 3);
}

static void test_distribute_bad_input(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "/v1/packages/%s/distribute", g_pkg);
    refused("POST", path, "{}", 400, "distributionPoints");
    refused("POST", path, "{\"distributionPoints\":[],\"boundaryGroups\":[]}", 400, "distributionPoints");
    refused("POST", path, "{\"distributionPoints\":\"PS1DP1.CONTOSO.COM\"}", 400, "distributionPoints");
    refused("POST", path, "{\"distributionPoints\":[5]}", 400, "distributionPoints[0]");
    refused("POST", path, "{\"distributionPoints\":[\"not a name\"]}", 400, "distributionPoints[0]");
    refused("POST", path, "{\"distributionPoints\":[\"a.b.com\",\"A.B.COM\"]}", 400,
            "distributionPoints[1]");
    refused("POST", path, "{\"boundaryGroups\":[null]}", 400, "boundaryGroups[0]");
    refused("POST", path, "{\"dps\":[\"a.b.com\"]}", 400, "dps");
    refused("POST", path, "{\"distributionPoints\":[],\"distributionPoints\":[]}", 400, NULL);
    refused("POST", path, "{", 400, NULL);
    refused("POST", path, NULL, 400, NULL);
    /* unknown names: 404 naming them */
    char *before = snapshot();
    resp r;
    call("POST", path, "{\"distributionPoints\":[\"PS1DP1.CONTOSO.COM\",\"nope1.contoso.com\","
                       "\"nope2.contoso.com\"]}", &r);
    assert_json_error(&r, 404, "distributionPoints[1]");
    assert_non_null(strstr(jstr(r.json, "error"), "NOPE1.CONTOSO.COM"));
    assert_non_null(strstr(jstr(r.json, "error"), "NOPE2.CONTOSO.COM"));
    resp_free(&r);
    call("POST", path, "{\"distributionPoints\":[\"PS1DP3.CONTOSO.COM\"],"
                       "\"boundaryGroups\":[\"Branch Offices\",\"No Such Group\"]}", &r);
    assert_json_error(&r, 404, "boundaryGroups[1]");
    assert_non_null(strstr(jstr(r.json, "error"), "No Such Group"));
    resp_free(&r);
    /* a DP being removed: 409 naming it */
    call("POST", path, "{\"distributionPoints\":[\"ps1gone.contoso.com\"]}", &r);
    assert_json_error(&r, 409, "distributionPoints[0]");
    assert_non_null(strstr(jstr(r.json, "error"), "PS1GONE.CONTOSO.COM"));
    resp_free(&r);
    char *after = snapshot();
    assert_string_equal(before, after);
    free(before);
    free(after);
    refused("POST", "/v1/packages/PS1FFFFF/distribute", "{\"distributionPoints\":[\"PS1DP1.CONTOSO.COM\"]}",
            404, "packageId");
}

static void test_show_distribution(void **state)
{
    (void)state;
    sql("UPDATE dp_packages SET state = 'Retrying', retry_at = '2030-01-02 03:04:05+00', "
        "last_error = 'connection refused', bytes_sent = 1234, installed_version = 0 "
        "WHERE dpid = (SELECT dpid FROM distribution_points WHERE nal_path = 'nal1')");
    char path[128];
    snprintf(path, sizeof path, "/v1/packages/%s", g_pkg);
    resp r;
    call("GET", path, NULL, &r);
    assert_int_equal(r.status, 200);
    json_t *dps = json_object_get(r.json, "distributionPoints");
    assert_int_equal(json_array_size(dps), 3);
    json_t *d1 = json_array_get(dps, 0), *d2 = json_array_get(dps, 1);
    assert_string_equal(jstr(d1, "serverName"), "PS1DP1.CONTOSO.COM");
    assert_string_equal(jstr(d1, "state"), "Retrying");
    assert_string_equal(jstr(d1, "retryAt"), "2030-01-02T03:04:05Z");
    assert_string_equal(jstr(d1, "lastError"), "connection refused");
    assert_int_equal(json_integer_value(json_object_get(d1, "bytesSent")), 1234);
    assert_int_equal(json_integer_value(json_object_get(d1, "version")), 0);
    assert_true(json_is_integer(json_object_get(d1, "targetVersion")));
    char url[200];
    snprintf(url, sizeof url, "http://ps1dp1.contoso.com:8081/SMS_DP_SMSPKG$/%s", g_pkg);
    assert_string_equal(jstr(d1, "contentUrl"), url);
    assert_true(json_is_null(json_object_get(d2, "contentUrl"))); /* DP2 reported none yet */
    assert_true(json_is_null(json_object_get(d2, "retryAt")));
    json_t *groups = json_object_get(r.json, "boundaryGroups");
    assert_int_equal(json_array_size(groups), 1);
    assert_string_equal(json_string_value(json_array_get(groups, 0)), "Branch Offices");
    resp_free(&r);
}

static void test_redistribute(void **state)
{
    (void)state;
    const char *p[] = {g_pkg};
    dpf_test_sql(g_db, "UPDATE packages SET processed_version = 2, source_version = 2, "
                       "state = 'Ready' WHERE package_id = $1", 1, p);
    sql("UPDATE dp_packages SET state = 'Failed', attempts = 7, last_error = 'disk full' "
        "WHERE dpid = (SELECT dpid FROM distribution_points WHERE nal_path = 'nal3')");
    char path[128];
    snprintf(path, sizeof path, "/v1/packages/%s/redistribute", g_pkg);
    resp r;
    call("POST", path, "{\"distributionPoints\":[\"ps1dp3.contoso.com\"]}", &r);
    if (r.status != 202)
        print_error("%s\n", r.body);
    assert_int_equal(r.status, 202);
    json_t *dps = json_object_get(r.json, "distributionPoints");
    assert_int_equal(json_array_size(dps), 1);
    assert_string_equal(jstr(json_array_get(dps, 0), "serverName"), "PS1DP3.CONTOSO.COM");
    assert_int_equal(sql_int("SELECT count(*) FROM dp_packages k JOIN distribution_points d "
                             "USING (dpid) WHERE k.package_id = $1 AND d.nal_path = 'nal3' AND "
                             "k.state = 'Pending' AND k.attempts = 0 AND k.last_error = '' AND "
                             "k.retry_at IS NULL AND k.version = 2", 1, p), 1);
    assert_int_equal(audit_for(r.corr, "SMS_DistributionPoint", "modified", g_pkg), 1);
    assert_int_equal(outbox_for(r.corr), 1);
    resp_free(&r);

    refused("POST", path, "{\"distributionPoints\":[]}", 400, "distributionPoints");
    refused("POST", path, "{\"boundaryGroups\":[\"Branch Offices\"]}", 400, "boundaryGroups");
    refused("POST", path, "{\"distributionPoints\":[\"nope.contoso.com\"]}", 404,
            "distributionPoints[0]");
    /* a DP the package is not on */
    sql("INSERT INTO distribution_points (server_name, nal_path, site_code, identity_guid, dp_crc, "
        "install_state) VALUES ('PS1DP5.CONTOSO.COM', 'nal5', 'PS1', 'g5', 'c5', 'Installed')");
    refused("POST", path, "{\"distributionPoints\":[\"PS1DP3.CONTOSO.COM\",\"PS1DP5.CONTOSO.COM\"]}",
            404, "distributionPoints[1]");
}

static void test_remove_from_dp(void **state)
{
    (void)state;
    const char *p[] = {g_pkg};
    char path[200];
    snprintf(path, sizeof path, "/v1/packages/%s/distributionpoints/ps1dp3.contoso.com", g_pkg);
    resp r;
    call("DELETE", path, NULL, &r);
    if (r.status != 202)
        print_error("%s\n", r.body);
    assert_int_equal(r.status, 202);
    assert_string_equal(jstr(r.json, "serverName"), "PS1DP3.CONTOSO.COM");
    assert_string_equal(jstr(r.json, "state"), "Removing");
    assert_int_equal(sql_int("SELECT count(*) FROM dp_packages k JOIN distribution_points d "
                             "USING (dpid) WHERE k.package_id = $1 AND d.nal_path = 'nal3' AND "
                             "k.state = 'Removing'", 1, p), 1);
    assert_int_equal(audit_for(r.corr, "SMS_DistributionPoint", "deleted", g_pkg), 1);
    assert_int_equal(outbox_for(r.corr), 1);
    resp_free(&r);

    /* distributed again: the row goes back to Pending */
    snprintf(path, sizeof path, "/v1/packages/%s/distribute", g_pkg);
    call("POST", path, "{\"distributionPoints\":[\"ps1dp3.contoso.com\"]}", &r);
    assert_int_equal(r.status, 202);
    assert_true(json_is_true(json_object_get(json_array_get(json_object_get(r.json,
                                                  "distributionPoints"), 0), "queued")));
    resp_free(&r);
    assert_int_equal(sql_int("SELECT count(*) FROM dp_packages k JOIN distribution_points d "
                             "USING (dpid) WHERE k.package_id = $1 AND d.nal_path = 'nal3' AND "
                             "k.state = 'Pending' AND k.version = 2", 1, p), 1);

    snprintf(path, sizeof path, "/v1/packages/%s/distributionpoints/PS1DP5.CONTOSO.COM", g_pkg);
    refused("DELETE", path, NULL, 404, "serverName");
    snprintf(path, sizeof path, "/v1/packages/%s/distributionpoints/nope.contoso.com", g_pkg);
    refused("DELETE", path, NULL, 404, "serverName");
    snprintf(path, sizeof path, "/v1/packages/%s/distributionpoints/bad..name", g_pkg);
    refused("DELETE", path, NULL, 404, "serverName");
    refused("DELETE", "/v1/packages/PS1FFFFF/distributionpoints/ps1dp1.contoso.com", NULL, 404,
            "packageId");
}

static void test_update(void **state)
{
    (void)state;
    const char *p[] = {g_pkg};
    char path[128];
    snprintf(path, sizeof path, "/v1/packages/%s/update", g_pkg);
    resp r;
    call("POST", path, NULL, &r);
    if (r.status != 202)
        print_error("%s\n", r.body);
    assert_int_equal(r.status, 202);
    assert_int_equal(json_integer_value(json_object_get(r.json, "version")), 3);
    assert_string_equal(jstr(r.json, "state"), "Processing");
    assert_int_equal(sql_int("SELECT count(*) FROM packages WHERE package_id = $1 AND "
                             "source_version = 3 AND processed_version = 2 AND state = 'Processing'",
                             1, p), 1);
    assert_int_equal(audit_for(r.corr, "SMS_Package", "modified", g_pkg), 1);
    assert_int_equal(outbox_for(r.corr), 1);
    resp_free(&r);
    /* while it is processed: 409 */
    refused("POST", path, NULL, 409, "packageId");
    /* the source directory went away: 400, nothing changed */
    dpf_test_sql(g_db, "UPDATE packages SET state = 'ProcessFailed' WHERE package_id = $1", 1, p);
    char dir[400], moved[400];
    snprintf(dir, sizeof dir, "%s/Office", g_root);
    snprintf(moved, sizeof moved, "%s/Office.moved", g_root);
    assert_int_equal(rename(dir, moved), 0);
    refused("POST", path, NULL, 400, "sourcePath");
    assert_int_equal(rename(moved, dir), 0);
    refused("POST", path, "{\"x\":1}", 400, NULL);
    refused("POST", "/v1/packages/CS100002/update", NULL, 409, "packageId");
    refused("POST", "/v1/packages/PS1FFFFF/update", NULL, 404, "packageId");
    /* after a failed processing the same version is made again */
    call("POST", path, "{}", &r);
    assert_int_equal(r.status, 202);
    assert_int_equal(json_integer_value(json_object_get(r.json, "version")), 3);
    resp_free(&r);
}

static void test_delete(void **state)
{
    (void)state;
    const char *p[] = {g_pkg};
    refused("DELETE", "/v1/packages/CS100002", NULL, 409, "packageId");
    refused("DELETE", "/v1/packages/PS1FFFFF", NULL, 404, "packageId");
    char path[128];
    snprintf(path, sizeof path, "/v1/packages/%s", g_pkg);
    resp r;
    call("DELETE", path, NULL, &r);
    if (r.status != 202)
        print_error("%s\n", r.body);
    assert_int_equal(r.status, 202);
    assert_string_equal(jstr(r.json, "state"), "Deleting");
    assert_int_equal(json_integer_value(json_object_get(r.json, "distributionPoints")), 3);
    assert_int_equal(sql_int("SELECT count(*) FROM packages WHERE package_id = $1 AND "
                             "state = 'Deleting'", 1, p), 1);
    assert_int_equal(sql_int("SELECT count(*) FROM dp_packages WHERE package_id = $1 AND "
                             "state <> 'Removing'", 1, p), 0);
    assert_int_equal(audit_for(r.corr, "SMS_Package", "deleted", g_pkg), 1);
    assert_true(outbox_for(r.corr) >= 1);
    resp_free(&r);
    /* nothing more can be done with it */
    refused("DELETE", path, NULL, 409, "packageId");
    snprintf(path, sizeof path, "/v1/packages/%s/distribute", g_pkg);
    refused("POST", path, "{\"distributionPoints\":[\"PS1DP5.CONTOSO.COM\"]}", 409, "packageId");
    snprintf(path, sizeof path, "/v1/packages/%s/update", g_pkg);
    refused("POST", path, NULL, 409, "packageId");
    snprintf(path, sizeof path, "/v1/packages/%s/redistribute", g_pkg);
    refused("POST", path, "{\"distributionPoints\":[\"PS1DP1.CONTOSO.COM\"]}", 409, "packageId");
}

/* ---- dpctl ---- */

/* Runs dpctl with args against the provider; its stdout into out. Exit code. */
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
    char out[8192], args[1200], dir[400], id[16];
    snprintf(dir, sizeof dir, "%s/Viewer", g_root);
    mkdir_p(dir);
    snprintf(args, sizeof args, "package create 'PDF Viewer' --source '%s' --description 'reader'",
             dir);
    assert_int_equal(dpctl(args, out, sizeof out), 0);
    const char *at = strstr(out, "PS1");
    assert_non_null(at);
    snprintf(id, sizeof id, "%.8s", at);
    const char *p[] = {id};
    assert_int_equal(sql_int("SELECT count(*) FROM packages WHERE package_id = $1 AND "
                             "name = 'PDF Viewer' AND description = 'reader'", 1, p), 1);
    assert_int_equal(dpctl("package list", out, sizeof out), 0);
    assert_non_null(strstr(out, id));
    assert_non_null(strstr(out, "PDF Viewer"));
    snprintf(args, sizeof args, "package distribute %s --dp ps1dp1.contoso.com --group 'Branch Offices'",
             id);
    assert_int_equal(dpctl(args, out, sizeof out), 0);
    assert_non_null(strstr(out, "PS1DP1.CONTOSO.COM"));
    assert_non_null(strstr(out, "PS1DP2.CONTOSO.COM"));
    assert_int_equal(sql_int("SELECT count(*) FROM dp_packages WHERE package_id = $1", 1, p), 2);
    snprintf(args, sizeof args, "package show %s", id);
    assert_int_equal(dpctl(args, out, sizeof out), 0);
    assert_non_null(strstr(out, "PS1DP2.CONTOSO.COM"));
    assert_non_null(strstr(out, "Branch Offices"));
    snprintf(args, sizeof args, "--json package show %s", id);
    assert_int_equal(dpctl(args, out, sizeof out), 0);
    json_t *doc = json_loads(out, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(jstr(doc, "packageId"), id);
    json_decref(doc);
    snprintf(args, sizeof args, "package redistribute %s --dp PS1DP1.CONTOSO.COM", id);
    assert_int_equal(dpctl(args, out, sizeof out), 0);
    snprintf(args, sizeof args, "package remove %s --dp PS1DP1.CONTOSO.COM", id);
    assert_int_equal(dpctl(args, out, sizeof out), 0);
    assert_int_equal(sql_int("SELECT count(*) FROM dp_packages WHERE package_id = $1 AND "
                             "state = 'Removing'", 1, p), 1);
    /* refusals: exit 1 with the API's message; bad command lines: exit 2 */
    snprintf(args, sizeof args, "package distribute %s --dp nope.contoso.com", id);
    assert_int_equal(dpctl(args, out, sizeof out), 1);
    assert_non_null(strstr(out, "NOPE.CONTOSO.COM"));
    snprintf(args, sizeof args, "package distribute %s", id);
    assert_int_equal(dpctl(args, out, sizeof out), 2);
    snprintf(args, sizeof args, "package redistribute %s", id);
    assert_int_equal(dpctl(args, out, sizeof out), 2);
    assert_int_equal(dpctl("package create NoSource", out, sizeof out), 2);
    assert_int_equal(dpctl("package create X --source relative", out, sizeof out), 1);
    assert_non_null(strstr(out, "absolute"));
    snprintf(args, sizeof args, "package update %s", id);
    assert_int_equal(dpctl(args, out, sizeof out), 1); /* still Processing */
    snprintf(args, sizeof args, "package delete %s", id);
    assert_int_equal(dpctl(args, out, sizeof out), 0);
    assert_int_equal(sql_int("SELECT count(*) FROM packages WHERE package_id = $1 AND "
                             "state = 'Deleting'", 1, p), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_create_bad_source),
        cmocka_unit_test(test_create_bad_body),
        cmocka_unit_test(test_list_and_show),
        cmocka_unit_test(test_distribute),
        cmocka_unit_test(test_distribute_bad_input),
        cmocka_unit_test(test_show_distribution),
        cmocka_unit_test(test_redistribute),
        cmocka_unit_test(test_remove_from_dp),
        cmocka_unit_test(test_update),
        cmocka_unit_test(test_delete),
        cmocka_unit_test(test_dpctl),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

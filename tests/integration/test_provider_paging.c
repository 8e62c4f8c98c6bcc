/* GET /v1/distributionpoints a page at a time (issue 8, item 2) against a
 * real PostgreSQL: 520 DPs of site PS1 and 2 of PS2 written as hman and the
 * provider write them (half have a DistributionPoints row with a state and
 * maintenance mode, every 7th is in a boundary group). The default page of
 * 500 and X-Next-After, a walk by pages that returns each DP exactly once in
 * serverName order, the end of the list, every filter alone, together and
 * with paging, refused values naming their argument, a DP read alone equal
 * to the same DP in a page, and dpctl dp list following the pages; the
 * same paging on GET /v1/packages and X-Next-After on GET /v1/statmsgs. */
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

#define NPS1 520
#define NALL (NPS1 + 2)

static void get(const char *path, resp *r)
{
    http("GET", path, NULL, 0, NULL, r);
}

static int setup(void **state)
{
    (void)state;
    if (ph_setup("provider_paging") != 0)
        return -1;
    /* the roles and properties as bench_add_sql writes them; PGDP001..520 */
    dpf_test_sql(g_db,
        "INSERT INTO sites (site_code, site_name, server_name) "
        "VALUES ('PS2', 'Second', 'PS2SITE.CONTOSO.COM')", 0, NULL);
    dpf_test_sql(g_db,
        "CREATE TEMP TABLE pg_dp AS SELECT i, site, h AS server, "
        "  '[\"Display=\\\\' || h || '\\\"]MSWNET:[\"SMS_SITE=' || site || '\"]\\\\' || h || '\\' AS nal "
        "FROM (SELECT i, 'PS1' AS site, format('PGDP%s.CONTOSO.COM', lpad(i::text, 3, '0')) AS h "
        "        FROM generate_series(1, 520) i "
        "      UNION ALL SELECT 1000 + i, 'PS2', format('PGX%s.CONTOSO.COM', i) "
        "        FROM generate_series(1, 2) i) s", 0, NULL);
    dpf_test_sql(g_db,
        "WITH r AS (INSERT INTO site_system_roles (site_code, role_name, nal_path, server_name) "
        "           SELECT site, 'SMS Distribution Point', nal, server FROM pg_dp RETURNING id) "
        "INSERT INTO site_system_role_props (role_id, name, value1, value3) "
        "SELECT r.id, p.name, p.v1, p.v3 FROM r, (VALUES ('Description', 'paging', 0), "
        "  ('Priority', '', 7)) AS p(name, v1, v3)", 0, NULL);
    /* even DPs have been inserted by hman: every 10th Failed, the others
     * Installed; every 4th in maintenance mode */
    dpf_test_sql(g_db,
        "INSERT INTO distribution_points (server_name, nal_path, site_code, identity_guid, dp_crc, "
        "  install_state, maintenance_mode) "
        "SELECT server, nal, site, md5(server), 'ABC', "
        "  CASE WHEN i % 10 = 0 THEN 'Failed' ELSE 'Installed' END, i % 4 = 0 "
        "FROM pg_dp WHERE i % 2 = 0", 0, NULL);
    dpf_test_sql(g_db,
        "WITH g AS (INSERT INTO boundary_groups (name, site_code) VALUES ('Paging Group', 'PS1') "
        "           RETURNING id) "
        "INSERT INTO boundary_group_members (group_id, nal_path, server_name) "
        "SELECT g.id, nal, server FROM g, pg_dp WHERE i % 7 = 0", 0, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return ph_teardown();
}

/* Walks every page of path (which has a '?') and returns all DPs in order
 * (owned); *pages receives the number of requests. */
static json_t *walk(const char *path, int *pages)
{
    json_t *all = json_array();
    char after[256] = "";
    for (*pages = 0; *pages < 100;) {
        char url[1024];
        snprintf(url, sizeof url, "%s%s%s", path, after[0] ? "&after=" : "", after);
        resp r;
        get(url, &r);
        assert_int_equal(r.status, 200);
        assert_true(json_is_array(r.json));
        (*pages)++;
        json_array_extend(all, r.json);
        if (r.next_after[0] != '\0') {
            /* the header names the last DP of this page */
            json_t *last = json_array_get(r.json, json_array_size(r.json) - 1);
            assert_string_equal(r.next_after, jstr(last, "serverName"));
        }
        snprintf(after, sizeof after, "%s", r.next_after);
        resp_free(&r);
        if (after[0] == '\0')
            return all;
    }
    fail_msg("%s did not end after 100 pages", path);
    return NULL;
}

/* Every serverName strictly after the one before it (so none twice). */
static void assert_ordered(json_t *list)
{
    for (size_t i = 1; i < json_array_size(list); i++) {
        const char *a = jstr(json_array_get(list, i - 1), "serverName");
        const char *b = jstr(json_array_get(list, i), "serverName");
        if (strcmp(a, b) >= 0)
            fail_msg("%s listed before %s", a, b);
    }
}

static void test_default_page(void **state)
{
    (void)state;
    resp r;
    get("/v1/distributionpoints", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 500);
    assert_ordered(r.json);
    assert_string_equal(jstr(json_array_get(r.json, 0), "serverName"), "PGDP001.CONTOSO.COM");
    assert_string_equal(r.next_after, "PGDP500.CONTOSO.COM");
    resp_free(&r);
    /* the next page holds the rest: PGDP501..520 and the two of PS2 */
    get("/v1/distributionpoints?after=pgdp500.contoso.com", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), NALL - 500);
    assert_string_equal(jstr(json_array_get(r.json, 0), "serverName"), "PGDP501.CONTOSO.COM");
    assert_string_equal(r.next_after, "");
    resp_free(&r);
}

static void test_walk_returns_each_once(void **state)
{
    (void)state;
    int pages;
    json_t *all = walk("/v1/distributionpoints?limit=128", &pages);
    assert_int_equal(json_array_size(all), NALL);
    assert_int_equal(pages, 5); /* 128 * 4 = 512, then 10 */
    assert_ordered(all);
    json_decref(all);
    /* a page of one walks them too */
    all = walk("/v1/distributionpoints?limit=1&site=PS2", &pages);
    assert_int_equal(json_array_size(all), 2);
    assert_int_equal(pages, 2);
    json_decref(all);
}

static void test_end_of_list(void **state)
{
    (void)state;
    resp r;
    get("/v1/distributionpoints?limit=522", &r); /* exactly all: no next page */
    assert_int_equal(json_array_size(r.json), NALL);
    assert_string_equal(r.next_after, "");
    resp_free(&r);
    get("/v1/distributionpoints?limit=521", &r);
    assert_int_equal(json_array_size(r.json), NALL - 1);
    assert_string_equal(r.next_after, "PGX1.CONTOSO.COM");
    resp_free(&r);
    get("/v1/distributionpoints?after=PGX2.CONTOSO.COM", &r); /* past the last */
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 0);
    assert_string_equal(r.next_after, "");
    resp_free(&r);
    get("/v1/distributionpoints?limit=5000", &r);
    assert_int_equal(json_array_size(r.json), NALL);
    resp_free(&r);
}

/* How many DPs path lists when walked by pages of 10, each checked by check. */
static size_t count_walk(const char *path, const char *key, const char *want)
{
    int pages;
    json_t *all = walk(path, &pages);
    size_t i, n = json_array_size(all);
    json_t *dp;
    json_array_foreach(all, i, dp) {
        if (key != NULL && strcmp(want, "true") == 0)
            assert_true(json_is_true(json_object_get(dp, key)));
        else if (key != NULL && strcmp(want, "false") == 0)
            assert_true(json_is_false(json_object_get(dp, key)));
        else if (key != NULL)
            assert_string_equal(jstr(dp, key), want);
    }
    assert_ordered(all);
    json_decref(all);
    return n;
}

static void test_filters(void **state)
{
    (void)state;
    /* i % 10 = 0 among 520 */
    assert_int_equal(count_walk("/v1/distributionpoints?limit=10&state=failed", "installState",
                                "Failed"), 52);
    /* even and not a multiple of 10: 208 of PS1 and PGX2 (i = 1002) */
    assert_int_equal(count_walk("/v1/distributionpoints?limit=100&state=Installed", "installState",
                                "Installed"), 209);
    /* i % 4 = 0; not in it: the rest, those hman has not inserted included */
    assert_int_equal(count_walk("/v1/distributionpoints?limit=50&maintenanceMode=true",
                                "maintenanceMode", "true"), 130);
    assert_int_equal(count_walk("/v1/distributionpoints?limit=50&maintenanceMode=false",
                                "maintenanceMode", "false"), NALL - 130);
    /* i % 7 = 0: 74 DPs of PS1 and PGX1 (i = 1001); the name in any letter case */
    assert_int_equal(count_walk("/v1/distributionpoints?limit=20&boundaryGroup=paging%20GROUP",
                                NULL, NULL), 75);
    assert_int_equal(count_walk("/v1/distributionpoints?limit=20&site=ps2", "siteCode", "PS2"), 2);
    assert_int_equal(count_walk("/v1/distributionpoints?site=PS3", NULL, NULL), 0);
    assert_int_equal(count_walk("/v1/distributionpoints?boundaryGroup=No%20Such%20Group", NULL, NULL), 0);
    /* together: i % 20 = 0 Failed and in maintenance mode, 26; of those in
     * the group too: i % 140 = 0, 3 (140, 280, 420) */
    assert_int_equal(count_walk("/v1/distributionpoints?limit=7&state=Failed&maintenanceMode=true"
                                "&site=PS1", "installState", "Failed"), 26);
    assert_int_equal(count_walk("/v1/distributionpoints?limit=2&state=Failed&maintenanceMode=true"
                                "&boundaryGroup=Paging%20Group", "installState", "Failed"), 3);
}

static void test_bad_values(void **state)
{
    (void)state;
    static const struct { const char *query, *field; } cases[] = {
        {"limit=0", "limit"},
        {"limit=5001", "limit"},
        {"limit=-1", "limit"},
        {"limit=ten", "limit"},
        {"limit=99999999999999999999999", "limit"},
        {"after=bad_name", "after"},
        {"after=", "after"},
        {"site=P%271", "site"},
        {"state=Broken", "state"},
        {"state=", "state"},
        {"maintenanceMode=yes", "maintenanceMode"},
        {"maintenanceMode=1", "maintenanceMode"},
        {"boundaryGroup=", "boundaryGroup"},
        {"boundaryGroup=a%01b", "boundaryGroup"},
        {"stat=Failed", "stat"}, /* a typo is not silently "every DP" */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, "/v1/distributionpoints?%s", cases[i].query);
        resp r;
        get(path, &r);
        assert_json_error(&r, 400, cases[i].field);
        resp_free(&r);
    }
    resp r;
    get("/v1/distributionpoints?state=Broken", &r);
    assert_non_null(strstr(jstr(r.json, "error"), "RemoveFailed")); /* says what is accepted */
    resp_free(&r);
}

static void test_show_equals_list_item(void **state)
{
    (void)state;
    resp one, page;
    get("/v1/distributionpoints/pgdp140.contoso.com", &one);
    assert_int_equal(one.status, 200);
    get("/v1/distributionpoints?limit=1&after=PGDP139.CONTOSO.COM", &page);
    assert_int_equal(json_array_size(page.json), 1);
    assert_true(json_equal(one.json, json_array_get(page.json, 0)));
    /* and it is the DP as stored */
    assert_string_equal(jstr(one.json, "installState"), "Failed");
    assert_true(json_is_true(json_object_get(one.json, "maintenanceMode")));
    assert_int_equal(json_integer_value(json_object_get(one.json, "priority")), 7);
    assert_string_equal(jstr(one.json, "description"), "paging");
    assert_string_equal(json_string_value(json_array_get(json_object_get(one.json, "boundaryGroups"), 0)),
                        "Paging Group");
    resp_free(&one);
    resp_free(&page);
    /* a DP hman has not inserted: its state is null, not in maintenance */
    get("/v1/distributionpoints/PGDP001.CONTOSO.COM", &one);
    assert_true(json_is_null(json_object_get(one.json, "installState")));
    assert_true(json_is_null(json_object_get(one.json, "dpid")));
    assert_true(json_is_false(json_object_get(one.json, "maintenanceMode")));
    resp_free(&one);
    get("/v1/distributionpoints/NOPE.CONTOSO.COM", &one);
    assert_json_error(&one, 404, "serverName");
    resp_free(&one);
}

static int dpctl(const char *args, char **out)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' --api '%s' %s 2>&1", DPCTL_BIN, g_api, args);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t cap = 1 << 20, n = 0, got;
    *out = malloc(cap);
    assert_non_null(*out);
    while ((got = fread(*out + n, 1, cap - 1 - n, f)) > 0)
        n += got;
    (*out)[n] = '\0';
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_dpctl_follows_pages(void **state)
{
    (void)state;
    char *out;
    assert_int_equal(dpctl("--json dp list --page-size 100", &out), 0);
    json_t *all = json_loads(out, 0, NULL);
    assert_non_null(all);
    assert_int_equal(json_array_size(all), NALL);
    assert_ordered(all);
    json_decref(all);
    free(out);

    assert_int_equal(dpctl("dp list --state failed --maintenance on --group 'Paging Group' "
                           "--page-size 2", &out), 0);
    /* the header, then PGDP140, 280 and 420 */
    assert_non_null(strstr(out, "MAINTENANCE MODE"));
    assert_non_null(strstr(out, "PGDP140.CONTOSO.COM"));
    assert_non_null(strstr(out, "PGDP420.CONTOSO.COM"));
    int lines = 0;
    for (const char *p = out; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 4);
    free(out);

    assert_int_equal(dpctl("dp list --maintenance off --site PS2", &out), 0);
    assert_non_null(strstr(out, "PGX1.CONTOSO.COM"));
    free(out);
    assert_int_equal(dpctl("dp list --state Broken", &out), 1);
    assert_non_null(strstr(out, "field state"));
    free(out);
    assert_int_equal(dpctl("dp list --maintenance maybe", &out), 2);
    free(out);
}

/* GET /v1/packages: the four client packages of the seed data and seven
 * more, by pages of 3 in package id order. */
static void test_packages_paged(void **state)
{
    (void)state;
    dpf_test_sql(g_db, "INSERT INTO packages (package_id, name) SELECT format('PS1%s', "
                 "lpad(i::text, 5, '0')), format('Paging %s', i) FROM generate_series(1, 7) i",
                 0, NULL);
    int pages;
    json_t *all = json_array();
    char after[256] = "";
    for (pages = 0; pages < 10; pages++) {
        char url[400];
        snprintf(url, sizeof url, "/v1/packages?limit=3%s%s", after[0] ? "&after=" : "", after);
        resp r;
        get(url, &r);
        assert_int_equal(r.status, 200);
        json_array_extend(all, r.json);
        snprintf(after, sizeof after, "%s", r.next_after);
        resp_free(&r);
        if (after[0] == '\0')
            break;
    }
    assert_int_equal(json_array_size(all), 11);
    assert_int_equal(pages + 1, 4); /* 3 + 3 + 3 + 2 */
    assert_string_equal(jstr(json_array_get(all, 0), "packageId"), "CS100002");
    assert_string_equal(jstr(json_array_get(all, 10), "packageId"), "PS100007");
    for (size_t i = 1; i < json_array_size(all); i++)
        assert_true(strcmp(jstr(json_array_get(all, i - 1), "packageId"),
                           jstr(json_array_get(all, i), "packageId")) < 0);
    json_decref(all);
    resp r;
    get("/v1/packages", &r); /* the default page holds them all */
    assert_int_equal(json_array_size(r.json), 11);
    assert_string_equal(r.next_after, "");
    resp_free(&r);
    get("/v1/packages?after=ps100005", &r); /* any letter case */
    assert_int_equal(json_array_size(r.json), 2);
    resp_free(&r);
    static const struct { const char *path, *field; } bad[] = {
        {"/v1/packages?limit=0", "limit"},
        {"/v1/packages?limit=5001", "limit"},
        {"/v1/packages?after=PS1", "after"},
        {"/v1/packages?after=PS10000G", "after"},
        {"/v1/packages?page=2", "page"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        get(bad[i].path, &r);
        assert_json_error(&r, 400, bad[i].field);
        resp_free(&r);
    }
}

/* GET /v1/statmsgs?after=ID: X-Next-After while messages follow. */
static void test_statmsgs_next_after(void **state)
{
    (void)state;
    dpf_test_sql(g_db, "INSERT INTO status_messages (msg_id, severity, level, source, component, "
                 "system, site_code, pid, tid, raised_at, istr) SELECT 2399, 'I', 'M', 'SMS Server', "
                 "'SMS_DISTRIBUTION_MANAGER', 'PS1SITE', 'PS1', 1, 1, now(), ARRAY['x'] "
                 "FROM generate_series(1, 5)", 0, NULL);
    long long first = dpf_test_num(g_db, "SELECT min(id) - 1 FROM status_messages", 0, NULL);
    char url[400], after[256];
    snprintf(after, sizeof after, "%lld", first);
    int got = 0, pages = 0;
    while (after[0] != '\0' && pages < 10) {
        snprintf(url, sizeof url, "/v1/statmsgs?limit=2&after=%s", after);
        resp r;
        get(url, &r);
        assert_int_equal(r.status, 200);
        got += (int)json_array_size(r.json);
        pages++;
        if (r.next_after[0] != '\0') {
            json_t *last = json_array_get(r.json, json_array_size(r.json) - 1);
            assert_int_equal(strtoll(r.next_after, NULL, 10),
                             json_integer_value(json_object_get(last, "id")));
        }
        snprintf(after, sizeof after, "%s", r.next_after);
        resp_free(&r);
    }
    assert_int_equal(got, 5);
    assert_int_equal(pages, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_page),
        cmocka_unit_test(test_walk_returns_each_once),
        cmocka_unit_test(test_end_of_list),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_show_equals_list_item),
        cmocka_unit_test(test_dpctl_follows_pages),
        cmocka_unit_test(test_packages_paged),
        cmocka_unit_test(test_statmsgs_next_after),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* The SMS Provider's part of the timeline (trace_events, issue 11): the
 * provider binary over HTTP against a real PostgreSQL. Each admin action
 * that changes something leaves one 'info' row under its correlation id,
 * written with its audit row, naming the action, the DP and the user from
 * the credential; a refused request leaves none. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_provider_harness.h"

static void send_json(const char *method, const char *path, const char *json, resp *r)
{
    const char *h[] = {"Content-Type: application/json", NULL};
    http(method, path, json, json ? strlen(json) : 0, h, r);
}

static int setup(void **state)
{
    (void)state;
    return ph_setup("provider_trace_rows");
}

static int teardown(void **state)
{
    (void)state;
    return ph_teardown();
}

/* The provider's rows of corr: "step|server|result|job" joined by ';'. */
static char *rows_of(const char *corr)
{
    const char *p[] = {corr};
    return sql_text("SELECT coalesce(string_agg(step || '|' || server_name || '|' || result || "
                    "'|' || job, ';' ORDER BY id), '') FROM trace_events "
                    "WHERE correlation_id = $1 AND component = 'SMS Provider'", 1, p);
}

static void expect_rows(const char *corr, const char *want)
{
    char *got = rows_of(corr);
    assert_string_equal(got, want);
    free(got);
}

static void test_dp_actions_on_the_timeline(void **state)
{
    (void)state;
    resp r;
    post("{\"serverName\":\"ps1tr1.contoso.com\",\"siteCode\":\"PS1\",\"description\":\"t\"}", &r);
    assert_int_equal(r.status, 201);
    expect_rows(r.corr, "DP add|PS1TR1.CONTOSO.COM|info|change");
    /* the user from the credential, and the audit row of the same transaction */
    const char *p[] = {r.corr};
    char *msg = sql_text("SELECT message FROM trace_events WHERE correlation_id = $1", 1, p);
    assert_non_null(strstr(msg, "DP add by CONTOSO\\Admin ("));
    free(msg);
    assert_int_equal(sql_int("SELECT count(*) FROM audit_log WHERE correlation_id = $1", 1, p),
                     1);
    resp_free(&r);

    send_json("PATCH", "/v1/distributionpoints/PS1TR1.contoso.com", "{\"description\":\"u\"}",
              &r);
    assert_int_equal(r.status, 200);
    expect_rows(r.corr, "DP set|PS1TR1.CONTOSO.COM|info|change");
    resp_free(&r);

    /* the DP's row as hman would write it (no hman here) */
    const char *ps[] = {"PS1TR1.CONTOSO.COM"};
    assert_true(sql_int("INSERT INTO distribution_points (server_name, nal_path, site_code, "
                        "identity_guid, dp_crc, install_state) SELECT server_name, nal_path, "
                        "site_code, 'g', 'c', 'Installed' FROM site_system_roles WHERE "
                        "server_name = $1 LIMIT 1 RETURNING dpid", 1, ps) > 0);
    send_json("POST", "/v1/distributionpoints/ps1tr1.contoso.com/maintenance",
              "{\"enabled\":true,\"force\":true}", &r);
    assert_int_equal(r.status, 200);
    expect_rows(r.corr, "maintenance mode|PS1TR1.CONTOSO.COM|info|change");
    resp_free(&r);

    send_json("POST", "/v1/sites/PS1/reset", NULL, &r);
    assert_int_equal(r.status / 100, 2);
    expect_rows(r.corr, "site reset||info|change");
    resp_free(&r);

    send_json("DELETE", "/v1/distributionpoints/ps1tr1.contoso.com", NULL, &r);
    assert_int_equal(r.status / 100, 2);
    expect_rows(r.corr, "DP remove|PS1TR1.CONTOSO.COM|info|change");
    resp_free(&r);
}

static void test_refused_request_leaves_no_row(void **state)
{
    (void)state;
    long long before = sql_int("SELECT count(*) FROM trace_events", 0, NULL);
    resp r;
    post("{\"serverName\":\"not a name\",\"siteCode\":\"PS1\"}", &r);
    assert_int_equal(r.status, 400);
    resp_free(&r);
    send_json("PATCH", "/v1/distributionpoints/PS1NONE.contoso.com", "{\"description\":\"u\"}",
              &r);
    assert_int_equal(r.status, 404);
    resp_free(&r);
    assert_int_equal(sql_int("SELECT count(*) FROM trace_events", 0, NULL), before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dp_actions_on_the_timeline),
        cmocka_unit_test(test_refused_request_leaves_no_row),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

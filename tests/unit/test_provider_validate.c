/* Unit tests for the provider's DP body checks (services/provider/validate_dp.c)
 * and the maintenance mode bodies (validate_maint.c): every bad input the API
 * must refuse, with the field it must name, and the values a good body
 * produces. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "validate_dp.h"
#include "validate_maint.h"

/* Parses body in create mode and expects a refusal naming field. */
static void expect_bad_mode(const char *body, prov_spec_mode mode, dpf_status want,
                            const char *field, const char *msg_part)
{
    prov_dp_spec s;
    prov_field_error e;
    dpf_status st = prov_dp_spec_parse(body, strlen(body), mode, &s, &e);
    if (st != want || strcmp(e.field, field) != 0 ||
        (msg_part && strstr(e.message, msg_part) == NULL))
        print_error("body %s\n  got status %d field '%s' message '%s'\n  want %d '%s' ~'%s'\n",
                    body, st, e.field, e.message, want, field, msg_part ? msg_part : "");
    assert_int_equal(st, want);
    assert_string_equal(e.field, field);
    if (msg_part)
        assert_non_null(strstr(e.message, msg_part));
    assert_null(s.doc); /* nothing kept on failure */
}

static void expect_bad(const char *body, const char *field, const char *msg_part)
{
    expect_bad_mode(body, PROV_SPEC_CREATE, DPF_ERR_INVALID, field, msg_part);
}

#define OK_PREFIX "{\"serverName\":\"ps1dp1.contoso.com\",\"siteCode\":\"ps1\""

static void test_minimal_body_gets_defaults(void **state)
{
    (void)state;
    const char *body = OK_PREFIX "}";
    prov_dp_spec s;
    prov_field_error e;
    assert_int_equal(prov_dp_spec_parse(body, strlen(body), PROV_SPEC_CREATE, &s, &e), DPF_OK);
    assert_string_equal(s.server, "PS1DP1.CONTOSO.COM");
    assert_string_equal(s.site, "PS1");
    assert_string_equal(s.description, "");
    assert_int_equal(s.priority, 200);
    assert_int_equal(s.min_free_mb, 50);
    assert_int_equal(s.enable_pxe, 0);
    assert_int_equal(s.is_pull, 0);
    assert_int_equal(s.n_groups, 0);
    assert_string_equal(s.drive, "");
    assert_int_equal(s.validation_hours, 168);
    assert_true((s.present & PROV_F_PRIORITY) == 0);
    prov_dp_spec_clear(&s);
    prov_dp_spec_clear(&s); /* twice is harmless */
}

static void test_full_body(void **state)
{
    (void)state;
    const char *body = OK_PREFIX ",\"description\":\"it's; DROP TABLE sites;--\","
        "\"boundaryGroups\":[\"PS1 Assignment And Content\",\"Branch\"],\"enablePXE\":true,"
        "\"pullDP\":{\"sources\":[{\"serverName\":\"b.contoso.com\",\"priority\":2},"
        "{\"serverName\":\"a.contoso.com\",\"priority\":1}]},\"minFreeSpaceMB\":0,"
        "\"drive\":\"d\",\"priority\":10000}";
    prov_dp_spec s;
    prov_field_error e;
    assert_int_equal(prov_dp_spec_parse(body, strlen(body), PROV_SPEC_CREATE, &s, &e), DPF_OK);
    assert_string_equal(s.description, "it's; DROP TABLE sites;--");
    assert_int_equal(s.n_groups, 2);
    assert_string_equal(s.groups[1], "Branch");
    assert_int_equal(s.enable_pxe, 1);
    assert_int_equal(s.is_pull, 1);
    assert_int_equal(s.n_sources, 2);
    /* sorted by priority, upper-cased */
    assert_string_equal(s.sources[0].server, "A.CONTOSO.COM");
    assert_int_equal(s.sources[0].priority, 1);
    assert_string_equal(s.sources[1].server, "B.CONTOSO.COM");
    assert_int_equal(s.min_free_mb, 0);
    assert_string_equal(s.drive, "D:");
    assert_int_equal(s.priority, 10000);
    prov_dp_spec_clear(&s);
}

static void test_pull_null_is_not_pull(void **state)
{
    (void)state;
    const char *body = OK_PREFIX ",\"pullDP\":null}";
    prov_dp_spec s;
    prov_field_error e;
    assert_int_equal(prov_dp_spec_parse(body, strlen(body), PROV_SPEC_CREATE, &s, &e), DPF_OK);
    assert_int_equal(s.is_pull, 0);
    prov_dp_spec_clear(&s);
}

static void test_malformed_json(void **state)
{
    (void)state;
    expect_bad_mode("{\"serverName\":", PROV_SPEC_CREATE, DPF_ERR_DECODE, "", "line 1, column");
    expect_bad_mode("", PROV_SPEC_CREATE, DPF_ERR_DECODE, "", "empty");
    expect_bad_mode("{} trailing", PROV_SPEC_CREATE, DPF_ERR_DECODE, "", "malformed JSON");
    expect_bad_mode("{\"a\":1,\n\"a\":2}", PROV_SPEC_CREATE, DPF_ERR_DECODE, "", "line 2");
    expect_bad_mode("[1,2]", PROV_SPEC_CREATE, DPF_ERR_INVALID, "", "JSON object");
    expect_bad_mode("\"x\"", PROV_SPEC_CREATE, DPF_ERR_DECODE, "", NULL);
}

static void test_duplicate_keys_rejected(void **state)
{
    (void)state;
    expect_bad_mode(OK_PREFIX ",\"siteCode\":\"PS2\"}", PROV_SPEC_CREATE, DPF_ERR_DECODE, "",
                    "duplicate");
}

static void test_required_fields(void **state)
{
    (void)state;
    expect_bad("{\"siteCode\":\"PS1\"}", "serverName", "required");
    expect_bad("{\"serverName\":\"a.contoso.com\"}", "siteCode", "required");
    expect_bad("{}", "serverName", "required");
}

static void test_wrong_types(void **state)
{
    (void)state;
    expect_bad("{\"serverName\":42,\"siteCode\":\"PS1\"}", "serverName", "must be a string");
    expect_bad("{\"serverName\":\"a.b.com\",\"siteCode\":1}", "siteCode", "must be a string");
    expect_bad(OK_PREFIX ",\"description\":false}", "description", "must be a string");
    expect_bad(OK_PREFIX ",\"boundaryGroups\":\"x\"}", "boundaryGroups", "array");
    expect_bad(OK_PREFIX ",\"boundaryGroups\":[1]}", "boundaryGroups[0]", "must be a string");
    expect_bad(OK_PREFIX ",\"enablePXE\":1}", "enablePXE", "true or false");
    expect_bad(OK_PREFIX ",\"enablePXE\":\"true\"}", "enablePXE", "true or false");
    expect_bad(OK_PREFIX ",\"pullDP\":true}", "pullDP", "null or");
    expect_bad(OK_PREFIX ",\"minFreeSpaceMB\":\"5\"}", "minFreeSpaceMB", "integer");
    expect_bad(OK_PREFIX ",\"minFreeSpaceMB\":1.5}", "minFreeSpaceMB", "integer");
    expect_bad(OK_PREFIX ",\"drive\":4}", "drive", "must be a string");
    expect_bad(OK_PREFIX ",\"priority\":200.0}", "priority", "integer");
    expect_bad(OK_PREFIX ",\"priority\":null}", "priority", "integer");
}

static void test_invalid_fqdn(void **state)
{
    (void)state;
    expect_bad("{\"serverName\":\"bad_name\",\"siteCode\":\"PS1\"}", "serverName", "not a valid FQDN");
    expect_bad("{\"serverName\":\"nodots\",\"siteCode\":\"PS1\"}", "serverName", "not a valid FQDN");
    expect_bad("{\"serverName\":\"-a.contoso.com\",\"siteCode\":\"PS1\"}", "serverName", "not a valid FQDN");
    expect_bad("{\"serverName\":\"\",\"siteCode\":\"PS1\"}", "serverName", "empty");
    expect_bad("{\"serverName\":\"a.b.com\\u00e9\",\"siteCode\":\"PS1\"}", "serverName", "not a valid FQDN");
}

static void test_long_strings_capped(void **state)
{
    (void)state;
    char body[4096];
    char big[1024];
    memset(big, 'a', 600);
    big[600] = '\0';
    snprintf(body, sizeof body, "{\"serverName\":\"%s.com\",\"siteCode\":\"PS1\"}", big);
    expect_bad(body, "serverName", "at most 253");
    snprintf(body, sizeof body, OK_PREFIX ",\"description\":\"%s\"}", big);
    expect_bad(body, "description", "at most 512");
    big[129] = '\0';
    snprintf(body, sizeof body, OK_PREFIX ",\"boundaryGroups\":[\"%s\"]}", big);
    expect_bad(body, "boundaryGroups[0]", "at most 128");
    /* exactly at the limits is fine */
    memset(big, 'x', 512);
    big[512] = '\0';
    snprintf(body, sizeof body, OK_PREFIX ",\"description\":\"%s\"}", big);
    prov_dp_spec s;
    prov_field_error e;
    assert_int_equal(prov_dp_spec_parse(body, strlen(body), PROV_SPEC_CREATE, &s, &e), DPF_OK);
    prov_dp_spec_clear(&s);
}

static void test_site_code(void **state)
{
    (void)state;
    expect_bad("{\"serverName\":\"a.b.com\",\"siteCode\":\"PS\"}", "siteCode", "exactly 3");
    expect_bad("{\"serverName\":\"a.b.com\",\"siteCode\":\"PS1X\"}", "siteCode", "exactly 3");
    expect_bad("{\"serverName\":\"a.b.com\",\"siteCode\":\"P'1\"}", "siteCode", "exactly 3");
}

static void test_ranges(void **state)
{
    (void)state;
    expect_bad(OK_PREFIX ",\"priority\":0}", "priority", "between 1 and 10000");
    expect_bad(OK_PREFIX ",\"priority\":10001}", "priority", "between 1 and 10000");
    expect_bad(OK_PREFIX ",\"minFreeSpaceMB\":-1}", "minFreeSpaceMB", "between 0 and");
    expect_bad(OK_PREFIX ",\"minFreeSpaceMB\":9999999999}", "minFreeSpaceMB", "between 0 and");
    expect_bad(OK_PREFIX ",\"drive\":\"CD\"}", "drive", "drive letter");
    expect_bad(OK_PREFIX ",\"drive\":\"1:\"}", "drive", "drive letter");
    expect_bad(OK_PREFIX ",\"contentValidationIntervalHours\":-1}",
               "contentValidationIntervalHours", "between 0 and 8760");
    expect_bad(OK_PREFIX ",\"contentValidationIntervalHours\":8761}",
               "contentValidationIntervalHours", "between 0 and 8760");
    expect_bad(OK_PREFIX ",\"contentValidationIntervalHours\":\"weekly\"}",
               "contentValidationIntervalHours", "must be an integer");
    expect_bad(OK_PREFIX ",\"contentValidationIntervalHours\":24.5}",
               "contentValidationIntervalHours", "must be an integer");
}

/* 0 turns the schedule off; PATCH may carry the interval alone */
static void test_validation_interval(void **state)
{
    (void)state;
    prov_dp_spec s;
    prov_field_error e;
    const char *body = OK_PREFIX ",\"contentValidationIntervalHours\":0}";
    assert_int_equal(prov_dp_spec_parse(body, strlen(body), PROV_SPEC_CREATE, &s, &e), DPF_OK);
    assert_int_equal(s.validation_hours, 0);
    assert_true(s.present & PROV_F_VALIDATION);
    prov_dp_spec_clear(&s);
    body = "{\"contentValidationIntervalHours\":8760}";
    assert_int_equal(prov_dp_spec_parse(body, strlen(body), PROV_SPEC_UPDATE, &s, &e), DPF_OK);
    assert_int_equal(s.validation_hours, 8760);
    assert_int_equal(s.present, PROV_F_VALIDATION);
    prov_dp_spec_clear(&s);
}

static void maint_bad(int wmi, const char *body, dpf_status want, const char *field)
{
    prov_maint_body b;
    prov_field_error e;
    dpf_status st = wmi ? prov_setdpmm_body_parse(body, strlen(body), &b, &e)
                        : prov_maint_body_parse(body, strlen(body), &b, &e);
    if (st != want || strcmp(e.field, field) != 0)
        print_error("body %s: got %d field '%s' (%s)\n", body, st, e.field, e.message);
    assert_int_equal(st, want);
    assert_string_equal(e.field, field);
    assert_true(e.message[0] != '\0');
}

static void test_maintenance_bodies(void **state)
{
    (void)state;
    prov_maint_body b;
    prov_field_error e;
    const char *on = "{\"enabled\":true,\"force\":true}";
    assert_int_equal(prov_maint_body_parse(on, strlen(on), &b, &e), DPF_OK);
    assert_true(b.enable && b.force);
    const char *off = "{\"enabled\":false}";
    assert_int_equal(prov_maint_body_parse(off, strlen(off), &b, &e), DPF_OK);
    assert_true(!b.enable && !b.force);
    maint_bad(0, "{\"enabled\":\"yes\"}", DPF_ERR_INVALID, "enabled");
    maint_bad(0, "{\"enabled\":1}", DPF_ERR_INVALID, "enabled");
    maint_bad(0, "{}", DPF_ERR_INVALID, "enabled");
    maint_bad(0, "{\"enabled\":true,\"force\":\"yes\"}", DPF_ERR_INVALID, "force");
    maint_bad(0, "{\"enabled\":true,\"Enabled\":true}", DPF_ERR_INVALID, "Enabled");
    maint_bad(0, "{\"enabled\":true,\"enabled\":false}", DPF_ERR_DECODE, "");
    maint_bad(0, "[true]", DPF_ERR_INVALID, "");
    maint_bad(0, "", DPF_ERR_DECODE, "");

    const char *wmi = "{\"NALPath\":\"[\\\"Display=\\\\\\\\X.C.COM\\\\\\\"]\",\"Mode\":1}";
    assert_int_equal(prov_setdpmm_body_parse(wmi, strlen(wmi), &b, &e), DPF_OK);
    assert_true(b.enable && !b.force);
    assert_string_equal(b.nal, "[\"Display=\\\\X.C.COM\\\"]");
    const char *zero = "{\"NALPath\":\"x\",\"Mode\":0,\"Force\":true}";
    assert_int_equal(prov_setdpmm_body_parse(zero, strlen(zero), &b, &e), DPF_OK);
    assert_true(!b.enable && b.force);
    maint_bad(1, "{\"NALPath\":\"x\",\"Mode\":2}", DPF_ERR_INVALID, "Mode");
    maint_bad(1, "{\"NALPath\":\"x\",\"Mode\":-1}", DPF_ERR_INVALID, "Mode");
    maint_bad(1, "{\"NALPath\":\"x\",\"Mode\":\"1\"}", DPF_ERR_INVALID, "Mode");
    maint_bad(1, "{\"NALPath\":\"x\",\"Mode\":true}", DPF_ERR_INVALID, "Mode");
    maint_bad(1, "{\"NALPath\":\"x\"}", DPF_ERR_INVALID, "Mode");
    maint_bad(1, "{\"NALPath\":1,\"Mode\":1}", DPF_ERR_INVALID, "NALPath");
    maint_bad(1, "{\"NALPath\":\"\",\"Mode\":1}", DPF_ERR_INVALID, "NALPath");
    maint_bad(1, "{\"Mode\":1}", DPF_ERR_INVALID, "NALPath");
    maint_bad(1, "{\"NALPath\":\"x\",\"Mode\":1,\"Force\":1}", DPF_ERR_INVALID, "Force");
    maint_bad(1, "{\"NalPath\":\"x\",\"Mode\":1}", DPF_ERR_INVALID, "NalPath");
    char big[800];
    snprintf(big, sizeof big, "{\"NALPath\":\"%0700d\",\"Mode\":1}", 0);
    maint_bad(1, big, DPF_ERR_INVALID, "NALPath");
}

static void test_unknown_fields(void **state)
{
    (void)state;
    expect_bad(OK_PREFIX ",\"enablePxe\":true}", "enablePxe", "unknown field 'enablePxe'");
    expect_bad(OK_PREFIX ",\"pullDP\":{\"sources\":[{\"serverName\":\"a.b.com\",\"priority\":1}],"
               "\"x\":1}}", "pullDP", "unknown field 'x'");
    expect_bad(OK_PREFIX ",\"pullDP\":{\"sources\":[{\"serverName\":\"a.b.com\",\"priority\":1,"
               "\"weight\":3}]}}", "pullDP.sources[0]", "unknown field 'weight'");
}

static void test_boundary_groups(void **state)
{
    (void)state;
    expect_bad(OK_PREFIX ",\"boundaryGroups\":[\"A\",\"a\"]}", "boundaryGroups[1]", "listed twice");
    expect_bad(OK_PREFIX ",\"boundaryGroups\":[\"\"]}", "boundaryGroups[0]", "empty");
    expect_bad(OK_PREFIX ",\"boundaryGroups\":[\"a,b\"]}", "boundaryGroups[0]", "','");
    expect_bad(OK_PREFIX ",\"boundaryGroups\":[\"a\\nb\"]}", "boundaryGroups[0]", "control");
    expect_bad(OK_PREFIX ",\"boundaryGroups\":[\" a\"]}", "boundaryGroups[0]", "white space");
    char body[2048] = OK_PREFIX ",\"boundaryGroups\":[";
    for (int i = 0; i < 33; i++)
        snprintf(body + strlen(body), sizeof body - strlen(body), "%s\"g%d\"", i ? "," : "", i);
    strcat(body, "]}");
    expect_bad(body, "boundaryGroups", "at most 32");
}

static void test_pull_sources(void **state)
{
    (void)state;
    expect_bad(OK_PREFIX ",\"pullDP\":{\"sources\":[]}}", "pullDP.sources", "at least one");
    expect_bad(OK_PREFIX ",\"pullDP\":{}}", "pullDP.sources", "array");
    expect_bad(OK_PREFIX ",\"pullDP\":{\"sources\":[{\"priority\":1}]}}",
               "pullDP.sources[0].serverName", "required");
    expect_bad(OK_PREFIX ",\"pullDP\":{\"sources\":[{\"serverName\":\"a.b.com\"}]}}",
               "pullDP.sources[0].priority", "required");
    expect_bad(OK_PREFIX ",\"pullDP\":{\"sources\":[{\"serverName\":\"a.b.com\",\"priority\":0}]}}",
               "pullDP.sources[0].priority", "between 1");
    expect_bad(OK_PREFIX ",\"pullDP\":{\"sources\":[{\"serverName\":\"bad_x\",\"priority\":1}]}}",
               "pullDP.sources[0].serverName", "not a valid FQDN");
    expect_bad(OK_PREFIX ",\"pullDP\":{\"sources\":[{\"serverName\":\"a.b.com\",\"priority\":1},"
               "{\"serverName\":\"A.B.COM\",\"priority\":2}]}}",
               "pullDP.sources[1].serverName", "listed twice");
    expect_bad(OK_PREFIX ",\"pullDP\":{\"sources\":[\"a.b.com\"]}}", "pullDP.sources[0]", "object");
    /* its own source, whichever key comes first */
    expect_bad(OK_PREFIX ",\"pullDP\":{\"sources\":[{\"serverName\":\"PS1DP1.contoso.com\",\"priority\":1}]}}",
               "pullDP.sources", "its own pull source");
    expect_bad("{\"pullDP\":{\"sources\":[{\"serverName\":\"x.contoso.com\",\"priority\":1}]},"
               "\"serverName\":\"X.CONTOSO.COM\",\"siteCode\":\"PS1\"}",
               "pullDP.sources", "its own pull source");
}

static void test_update_mode(void **state)
{
    (void)state;
    const char *body = "{\"priority\":7}";
    prov_dp_spec s;
    prov_field_error e;
    assert_int_equal(prov_dp_spec_parse(body, strlen(body), PROV_SPEC_UPDATE, &s, &e), DPF_OK);
    assert_int_equal(s.present, PROV_F_PRIORITY);
    assert_int_equal(s.priority, 7);
    prov_dp_spec_clear(&s);
    expect_bad_mode("{\"serverName\":\"a.b.com\"}", PROV_SPEC_UPDATE, DPF_ERR_INVALID,
                    "serverName", "cannot be changed");
    expect_bad_mode("{}", PROV_SPEC_UPDATE, DPF_ERR_INVALID, "", "changes nothing");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_body_gets_defaults),
        cmocka_unit_test(test_full_body),
        cmocka_unit_test(test_pull_null_is_not_pull),
        cmocka_unit_test(test_malformed_json),
        cmocka_unit_test(test_duplicate_keys_rejected),
        cmocka_unit_test(test_required_fields),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_invalid_fqdn),
        cmocka_unit_test(test_long_strings_capped),
        cmocka_unit_test(test_site_code),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_unknown_fields),
        cmocka_unit_test(test_boundary_groups),
        cmocka_unit_test(test_pull_sources),
        cmocka_unit_test(test_update_mode),
        cmocka_unit_test(test_validation_interval),
        cmocka_unit_test(test_maintenance_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

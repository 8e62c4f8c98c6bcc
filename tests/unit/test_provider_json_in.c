/* Unit tests for the provider's JSON input helpers (services/provider/
 * json_in.c): the words and statuses a refused body gets, the same through
 * every endpoint's parser that uses them (DP, package, boundary group,
 * maintenance mode). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "json_in.h"
#include "validate_bg.h"
#include "validate_dp.h"
#include "validate_maint.h"
#include "validate_pkg.h"

static void test_error_fills_field_and_message(void **state)
{
    (void)state;
    prov_field_error e;
    memset(&e, 'x', sizeof e);
    assert_int_equal(prov_json_error(&e, DPF_ERR_CONFLICT, "name", "%s is taken (%d)", "PKG", 7),
                     DPF_ERR_CONFLICT);
    assert_string_equal(e.field, "name");
    assert_string_equal(e.message, "PKG is taken (7)");
    assert_int_equal(prov_json_error(&e, DPF_ERR_DB, NULL, "database error"), DPF_ERR_DB);
    assert_string_equal(e.field, "");
    assert_int_equal(prov_json_fail(&e, "priority", "priority must be %d..%d", 1, 10000),
                     DPF_ERR_INVALID);
    assert_string_equal(e.field, "priority");
    assert_string_equal(e.message, "priority must be 1..10000");

    /* too long for the buffers: cut, still terminated */
    char big[1000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    prov_json_fail(&e, big, "%s", big);
    assert_int_equal(strlen(e.field), sizeof e.field - 1);
    assert_int_equal(strlen(e.message), sizeof e.message - 1);
}

static void test_type_names(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *name;
    } cases[] = {
        {"{}", "an object"}, {"[]", "an array"},      {"\"s\"", "a string"},
        {"1", "an integer"}, {"1.5", "a number with a fraction"},
        {"true", "a boolean"}, {"false", "a boolean"}, {"null", "null"},
    };
    assert_string_equal(prov_json_type_name(NULL), "nothing");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *v = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
        assert_non_null(v);
        assert_string_equal(prov_json_type_name(v), cases[i].name);
        json_decref(v);
    }
}

static void test_text(void **state)
{
    (void)state;
    prov_field_error e;
    size_t n = 99;
    json_t *v = json_string("PS1DP1.CONTOSO.COM");
    assert_int_equal(prov_json_text(v, "serverName", "an FQDN", 0, &n, &e), DPF_OK);
    assert_int_equal(n, 18);

    /* at most max bytes: checked after the type, and for text after emptiness */
    assert_int_equal(prov_json_text(v, "serverName", NULL, 18, &n, &e), DPF_OK);
    assert_int_equal(prov_json_text(v, "serverName", NULL, 17, &n, &e), DPF_ERR_INVALID);
    assert_string_equal(e.field, "serverName");
    assert_string_equal(e.message, "serverName is 18 bytes long; at most 17 are allowed");
    assert_int_equal(prov_json_string(v, "description", NULL, 3, &n, &e), DPF_ERR_INVALID);
    assert_string_equal(e.message, "description is 18 bytes long; at most 3 are allowed");
    json_decref(v);

    v = json_string("");
    assert_int_equal(prov_json_text(v, "name", NULL, 128, &n, &e), DPF_ERR_INVALID);
    assert_string_equal(e.message, "name must not be empty");
    assert_int_equal(prov_json_string(v, "description", NULL, 0, &n, &e), DPF_OK); /* may be empty */
    assert_int_equal(n, 0);
    assert_int_equal(prov_json_text(v, "name", NULL, 0, &n, &e), DPF_ERR_INVALID);
    assert_string_equal(e.field, "name");
    assert_string_equal(e.message, "name must not be empty");
    json_decref(v);

    v = json_integer(5);
    assert_int_equal(prov_json_text(v, "sourcePath", "an absolute directory path", 0, &n, &e),
                     DPF_ERR_INVALID);
    assert_string_equal(e.message,
                        "sourcePath must be a string (an absolute directory path), not an integer");
    assert_int_equal(prov_json_text(v, "name", NULL, 0, &n, &e), DPF_ERR_INVALID);
    assert_string_equal(e.message, "name must be a string, not an integer");
    assert_int_equal(prov_json_string(v, "field", "a server FQDN", 0, &n, &e), DPF_ERR_INVALID);
    assert_string_equal(e.field, "field");
    assert_string_equal(e.message, "field must be a string (a server FQDN), not an integer");
    assert_int_equal(n, 0);
    json_decref(v);
    assert_int_equal(prov_json_text(NULL, "name", NULL, 0, &n, &e), DPF_ERR_INVALID);
    assert_string_equal(e.message, "name must be a string, not nothing");
}

static void test_site_code(void **state)
{
    (void)state;
    prov_field_error e;
    char site[4] = "XXX";
    json_t *v = json_string("ps1");
    assert_int_equal(prov_json_site_code(v, "siteCode", site, &e), DPF_OK);
    assert_string_equal(site, "PS1");
    json_decref(v);
    static const char *const bad[] = {"PS", "PS12", "P-1", "", "p s"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = json_string(bad[i]);
        assert_int_equal(prov_json_site_code(v, "siteCode", site, &e), DPF_ERR_INVALID);
        assert_string_equal(e.field, "siteCode");
        assert_string_equal(e.message, "siteCode must be exactly 3 letters or digits (e.g. PS1)");
        json_decref(v);
    }
    v = json_integer(123);
    assert_int_equal(prov_json_site_code(v, "site", site, &e), DPF_ERR_INVALID);
    assert_string_equal(e.message, "site must be exactly 3 letters or digits (e.g. PS1)");
    json_decref(v);
    assert_string_equal(site, "PS1"); /* left alone on failure */
}

static void test_has_control(void **state)
{
    (void)state;
    assert_int_equal(prov_json_has_control("plain text", 10), 0);
    assert_int_equal(prov_json_has_control("\xc3\xa9t\xc3\xa9", 5), 0); /* UTF-8 is not control */
    assert_int_equal(prov_json_has_control("a\tb", 3), 1);
    assert_int_equal(prov_json_has_control("a\x7f", 2), 1);
    assert_int_equal(prov_json_has_control("ab\0c", 4), 1); /* an embedded NUL counts */
    assert_int_equal(prov_json_has_control("a\n", 1), 0);   /* only n bytes are looked at */
    assert_int_equal(prov_json_has_control("", 0), 0);
}

static void expect_load(const char *body, size_t len, dpf_status want, const char *msg)
{
    prov_field_error e;
    dpf_status st = DPF_OK;
    json_t *doc = prov_json_load_object(body, len, &e, &st);
    assert_null(doc);
    assert_int_equal(st, want);
    assert_string_equal(e.field, "");
    if (strstr(e.message, msg) == NULL)
        fail_msg("body '%.*s': message '%s' lacks '%s'", (int)len, body ? body : "", e.message,
                 msg);
}

static void test_load_object(void **state)
{
    (void)state;
    expect_load(NULL, 0, DPF_ERR_DECODE, "the request body is empty; expected a JSON object");
    expect_load("{}", 0, DPF_ERR_DECODE, "the request body is empty");
    expect_load("{\"a\":", 5, DPF_ERR_DECODE, "malformed JSON at line 1, column");
    expect_load("{\"a\":1,\"a\":2}", 13, DPF_ERR_DECODE, "malformed JSON");
    expect_load("[1]", 3, DPF_ERR_INVALID, "the body must be a JSON object, not an array");
    expect_load("\"x\"", 3, DPF_ERR_DECODE, "malformed JSON"); /* jansson wants a container */

    /* not NUL-terminated: only len bytes are read */
    const char body[] = {'{', '"', 'a', '"', ':', '1', '}', 'X'};
    prov_field_error e;
    dpf_status st = DPF_ERR_IO;
    memset(&e, 'x', sizeof e);
    json_t *doc = prov_json_load_object(body, 7, &e, &st);
    assert_non_null(doc);
    assert_int_equal(st, DPF_ERR_IO); /* left alone */
    assert_string_equal(e.field, "");  /* cleared */
    assert_string_equal(e.message, "");
    assert_int_equal(json_integer_value(json_object_get(doc, "a")), 1);
    json_decref(doc);
}

/* Each endpoint's parser answers a body that is not an object as before
 * the helpers were shared: the maintenance bodies without naming the type. */
static void test_parsers_share_the_words(void **state)
{
    (void)state;
    const char *arr = "[1]";
    prov_field_error e;
    prov_dp_spec dp;
    assert_int_equal(prov_dp_spec_parse(arr, 3, PROV_SPEC_CREATE, &dp, &e), DPF_ERR_INVALID);
    assert_string_equal(e.message, "the body must be a JSON object, not an array");
    prov_pkg_spec pkg;
    assert_int_equal(prov_pkg_spec_parse(arr, 3, &pkg, &e), DPF_ERR_INVALID);
    assert_string_equal(e.message, "the body must be a JSON object, not an array");
    prov_bg_spec bg;
    assert_int_equal(prov_bg_spec_parse(arr, 3, PROV_BG_CREATE, NULL, &bg, &e), DPF_ERR_INVALID);
    assert_string_equal(e.message, "the body must be a JSON object, not an array");
    prov_maint_body m;
    assert_int_equal(prov_maint_body_parse(arr, 3, &m, &e), DPF_ERR_INVALID);
    assert_string_equal(e.message, "the body must be a JSON object");
    assert_int_equal(prov_setdpmm_body_parse("", 0, &m, &e), DPF_ERR_DECODE);
    assert_string_equal(e.message, "the request body is empty; expected a JSON object");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_fills_field_and_message),
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_site_code),
        cmocka_unit_test(test_has_control),
        cmocka_unit_test(test_load_object),
        cmocka_unit_test(test_parsers_share_the_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for the query arguments of the paged lists
 * (services/provider/list_args.c): defaults, bounds of limit, the install
 * states in any letter case, maintenanceMode true/false only, and each
 * refusal naming its argument. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "list_args.h"

/* A query as name=value pairs, NULL-terminated. */
static const char *lookup(void *ctx, const char *name)
{
    const char *const *kv = ctx;
    for (; kv[0] != NULL; kv += 2) {
        if (strcmp(kv[0], name) == 0)
            return kv[1];
    }
    return NULL;
}

static int parse(const char *const *kv, prov_dp_filter *f, prov_arg_error *err)
{
    memset(err, 0, sizeof *err);
    return prov_dp_filter_parse(lookup, (void *)kv, f, err);
}

static void test_defaults(void **state)
{
    (void)state;
    static const char *const none[] = {NULL};
    prov_dp_filter f;
    prov_arg_error err;
    assert_int_equal(parse(none, &f, &err), 1);
    assert_int_equal(f.limit, PROV_PAGE_DEFAULT);
    assert_int_equal(f.limit, 500);
    assert_int_equal(f.maintenance, -1);
    assert_null(f.after);
    assert_null(f.site);
    assert_null(f.state);
    assert_null(f.group);
}

static void test_all_set(void **state)
{
    (void)state;
    static const char *const q[] = {"limit", "5000", "after", "ps1dp1.contoso.com", "site", "ps1",
                                    "state", "removefailed", "boundaryGroup", "Branch A",
                                    "maintenanceMode", "false", NULL};
    prov_dp_filter f;
    prov_arg_error err;
    assert_int_equal(parse(q, &f, &err), 1);
    assert_int_equal(f.limit, 5000);
    assert_string_equal(f.after, "ps1dp1.contoso.com");
    assert_string_equal(f.site, "PS1"); /* upper-cased */
    assert_string_equal(f.state, "RemoveFailed"); /* the stored spelling */
    assert_string_equal(f.group, "Branch A");
    assert_int_equal(f.maintenance, 0);
    static const char *const q2[] = {"maintenanceMode", "true", "limit", "1", NULL};
    assert_int_equal(parse(q2, &f, &err), 1);
    assert_int_equal(f.maintenance, 1);
    assert_int_equal(f.limit, 1);
}

static void test_refusals_name_the_argument(void **state)
{
    (void)state;
    static const struct { const char *name, *value; } bad[] = {
        {"limit", "0"}, {"limit", "5001"}, {"limit", ""}, {"limit", "1e3"}, {"limit", " 5"},
        {"limit", "123456789012345678901234"}, {"after", "no_underscores.com"}, {"after", "x"},
        {"site", "PS"}, {"site", "P$1"}, {"site", "PS12"}, {"state", "Install"}, {"state", ""},
        {"maintenanceMode", "TRUE"}, {"maintenanceMode", "on"}, {"boundaryGroup", ""},
        {"boundaryGroup", "tab\there"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *q[] = {bad[i].name, bad[i].value, NULL};
        prov_dp_filter f;
        prov_arg_error err;
        if (parse(q, &f, &err) != 0)
            fail_msg("%s=%s was accepted", bad[i].name, bad[i].value);
        assert_string_equal(err.field, bad[i].name);
        assert_true(strlen(err.msg) > 10);
    }
    char long_name[200];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    const char *q[] = {"boundaryGroup", long_name, NULL};
    prov_dp_filter f;
    prov_arg_error err;
    assert_int_equal(parse(q, &f, &err), 0);
    assert_string_equal(err.field, "boundaryGroup");
}

static void test_limit_alone(void **state)
{
    (void)state;
    int limit = 0;
    prov_arg_error err;
    assert_int_equal(prov_page_limit_parse(NULL, &limit, &err), 1);
    assert_int_equal(limit, 500);
    assert_int_equal(prov_page_limit_parse("42", &limit, &err), 1);
    assert_int_equal(limit, 42);
    assert_int_equal(prov_page_limit_parse("-3", &limit, &err), 0);
    assert_int_equal(limit, 42); /* kept */
    assert_non_null(strstr(err.msg, "5000"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_all_set),
        cmocka_unit_test(test_refusals_name_the_argument),
        cmocka_unit_test(test_limit_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

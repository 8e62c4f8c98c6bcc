/* Unit tests of who may do what (services/provider/routes.c, token.c): every
 * route of the one table names the roles that may call it, the table says
 * what the README's "Who may do what" says for one endpoint of each group,
 * and token secrets have their documented form and are never equal. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "provider.h"
#include "router.h"
#include "token.h"

static void test_every_route_has_roles(void **state)
{
    (void)state;
    size_t n = 0;
    const prov_route *r = prov_routes(&n);
    assert_true(n >= 28);
    for (size_t i = 0; i < n; i++) {
        unsigned roles = r[i].roles;
        if (roles == 0)
            print_error("%s %s has no roles\n", r[i].method, r[i].pattern);
        assert_true(roles != 0);
        if (roles & PROV_PUBLIC) { /* only the probes */
            assert_string_equal(r[i].method, "GET");
            assert_true(strcmp(r[i].pattern, "/healthz") == 0 || strcmp(r[i].pattern, "/readyz") == 0);
            continue;
        }
        /* a Full Administrator may do everything */
        assert_true(roles & PROV_ROLE_FULL);
        assert_int_equal(roles & ~(unsigned)PROV_ROLE_ALL, 0);
        int tokens = strncmp(r[i].pattern, "/v1/tokens", 10) == 0;
        if (tokens) /* tokens: Full Administrator only, reading them too */
            assert_int_equal(roles, PROV_ROLE_FULL);
        else if (strcmp(r[i].method, "GET") == 0) /* every other GET: everyone */
            assert_int_equal(roles, PROV_ROLE_ALL);
        else /* no change is the Read-only Analyst's */
            assert_false(roles & PROV_ROLE_READ);
    }
}

static unsigned roles_of(const char *method, const char *path)
{
    unsigned roles = 0;
    assert_int_equal(prov_route_roles(method, path, &roles), 1);
    return roles;
}

static void test_groups(void **state)
{
    (void)state;
    const unsigned infra = PROV_ROLE_FULL | PROV_ROLE_INFRA, app = PROV_ROLE_FULL | PROV_ROLE_APP;
    assert_int_equal(roles_of("POST", "/v1/distributionpoints"), infra);
    assert_int_equal(roles_of("DELETE", "/v1/distributionpoints/X.CONTOSO.COM"), infra);
    assert_int_equal(roles_of("POST", "/v1/distributionpoints/X/maintenance"), infra);
    assert_int_equal(roles_of("POST", "/v1/SetDPMaintenanceMode"), infra);
    assert_int_equal(roles_of("POST", "/v1/distributionpoints/X/validate"), infra);
    assert_int_equal(roles_of("POST", "/v1/sites/PS1/reset"), infra);
    assert_int_equal(roles_of("PATCH", "/v1/boundarygroups/G"), infra);
    assert_int_equal(roles_of("POST", "/v1/packages"), app);
    assert_int_equal(roles_of("POST", "/v1/packages/PS100001/distribute"), app);
    assert_int_equal(roles_of("DELETE", "/v1/packages/PS100001/distributionpoints/X"), app);
    assert_int_equal(roles_of("GET", "/v1/statmsgs"), PROV_ROLE_ALL);
    assert_int_equal(roles_of("GET", "/v1/contentlocation"), PROV_ROLE_ALL);
    assert_int_equal(roles_of("POST", "/v1/tokens"), PROV_ROLE_FULL);
    assert_int_equal(roles_of("DELETE", "/v1/tokens/7"), PROV_ROLE_FULL);
    assert_int_equal(roles_of("GET", "/healthz"), PROV_PUBLIC);
    unsigned roles = 99;
    assert_int_equal(prov_route_roles("GET", "/v1/nothing", &roles), 0);
    assert_int_equal(roles, 0);
    assert_int_equal(prov_route_roles("PUT", "/v1/tokens", &roles), 0);
}

static void test_role_names(void **state)
{
    (void)state;
    const char *names[] = {"Full Administrator", "Infrastructure Administrator",
                           "Application Administrator", "Read-only Analyst"};
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(prov_role_parse(names[i]), 1u << i);
        assert_string_equal(prov_role_name(1u << i), names[i]);
    }
    assert_int_equal(prov_role_parse("full administrator"), 0);
    assert_int_equal(prov_role_parse("Administrator"), 0);
    assert_int_equal(prov_role_parse(NULL), 0);
    assert_null(prov_role_name(3));
    char buf[160];
    prov_roles_text(PROV_ROLE_FULL | PROV_ROLE_APP, buf, sizeof buf);
    assert_string_equal(buf, "Full Administrator or Application Administrator");
}

static void test_secret_form(void **state)
{
    (void)state;
    char a[PROV_TOKEN_SECRET_LEN + 1], b[PROV_TOKEN_SECRET_LEN + 1];
    assert_int_equal(prov_token_secret(a), DPF_OK);
    assert_int_equal(prov_token_secret(b), DPF_OK);
    assert_int_equal(strlen(a), 47);
    assert_memory_equal(a, "dpf_", 4);
    assert_int_equal(strspn(a + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
    assert_string_not_equal(a, b);
    assert_true(prov_token_wellformed(a));
    assert_false(prov_token_wellformed("dpf_short"));
    char bad[PROV_TOKEN_SECRET_LEN + 1];
    memcpy(bad, a, sizeof bad);
    bad[10] = '+'; /* base64, not base64url */
    assert_false(prov_token_wellformed(bad));
    assert_false(prov_token_wellformed(a + 1));
    /* SHA-256 of "abc" */
    char hex[65];
    prov_token_hash("abc", NULL, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_route_has_roles),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_role_names),
        cmocka_unit_test(test_secret_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

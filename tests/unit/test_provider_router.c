/* Unit tests for the provider's route matching (services/provider/router.c):
 * 404 versus 405, {param} capture (one or two), trailing slashes, hostile
 * paths. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "router.h"

static void h_create(void) {}
static void h_list(void) {}
static void h_show(void) {}
static void h_patch(void) {}
static void h_health(void) {}
static void h_pkg_dp_remove(void) {}
static void h_pkg_show(void) {}

static const prov_route ROUTES[] = {
    {"POST", "/v1/distributionpoints", h_create, 0},
    {"GET", "/v1/distributionpoints", h_list, 0},
    {"GET", "/v1/distributionpoints/{serverName}", h_show, 0},
    {"PATCH", "/v1/distributionpoints/{serverName}", h_patch, 0},
    {"GET", "/healthz", h_health, 0},
    {"GET", "/v1/packages/{packageId}", h_pkg_show, 0},
    {"DELETE", "/v1/packages/{packageId}/distributionpoints/{serverName}", h_pkg_dp_remove, 0},
};
#define N (sizeof ROUTES / sizeof ROUTES[0])

static prov_route_result match(const char *method, const char *path, const prov_route **r,
                               char *param, size_t plen, char *allow)
{
    return prov_route_match(ROUTES, N, method, path, r, param, NULL, plen, allow, 64);
}

static void test_two_params(void **state)
{
    (void)state;
    const prov_route *r;
    char p1[32], p2[32], allow[64];
    assert_int_equal(prov_route_match(ROUTES, N, "DELETE",
                                      "/v1/packages/PS100001/distributionpoints/ps1dp1.contoso.com/",
                                      &r, p1, p2, sizeof p1, allow, sizeof allow),
                     PROV_ROUTE_FOUND);
    assert_ptr_equal(r->handler, h_pkg_dp_remove);
    assert_string_equal(p1, "PS100001");
    assert_string_equal(p2, "ps1dp1.contoso.com");
    /* one capture: the second stays empty */
    assert_int_equal(prov_route_match(ROUTES, N, "GET", "/v1/packages/PS100001", &r, p1, p2,
                                      sizeof p1, allow, sizeof allow),
                     PROV_ROUTE_FOUND);
    assert_ptr_equal(r->handler, h_pkg_show);
    assert_string_equal(p1, "PS100001");
    assert_string_equal(p2, "");
    assert_int_equal(prov_route_match(ROUTES, N, "GET",
                                      "/v1/packages/PS100001/distributionpoints/a.b.com", &r, p1,
                                      p2, sizeof p1, allow, sizeof allow),
                     PROV_ROUTE_BAD_METHOD);
    assert_string_equal(allow, "DELETE");
    /* an empty or too long second segment does not match, nor a third */
    const char *bad[] = {"/v1/packages/PS100001/distributionpoints/",
                         "/v1/packages/PS100001/distributionpoints//",
                         "/v1/packages/PS100001/distributionpoints/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                         "/v1/packages/PS100001/distributionpoints/a.b.com/x",
                         "/v1/packages//distributionpoints/a.b.com"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(prov_route_match(ROUTES, N, "DELETE", bad[i], &r, p1, p2, sizeof p1,
                                          allow, sizeof allow),
                         PROV_ROUTE_NOT_FOUND);
        assert_null(r);
        assert_string_equal(p1, "");
        assert_string_equal(p2, "");
    }
    /* without a second buffer a two-capture pattern never matches */
    assert_int_equal(prov_route_match(ROUTES, N, "DELETE",
                                      "/v1/packages/PS100001/distributionpoints/a.b.com", &r, p1,
                                      NULL, sizeof p1, allow, sizeof allow),
                     PROV_ROUTE_NOT_FOUND);
}

static void test_exact_routes(void **state)
{
    (void)state;
    const prov_route *r;
    char param[64], allow[64];
    assert_int_equal(match("POST", "/v1/distributionpoints", &r, param, sizeof param, allow), PROV_ROUTE_FOUND);
    assert_ptr_equal(r->handler, h_create);
    assert_string_equal(param, "");
    assert_int_equal(match("GET", "/v1/distributionpoints", &r, param, sizeof param, allow), PROV_ROUTE_FOUND);
    assert_ptr_equal(r->handler, h_list);
    assert_int_equal(match("GET", "/healthz", &r, param, sizeof param, allow), PROV_ROUTE_FOUND);
    assert_ptr_equal(r->handler, h_health);
}

static void test_param_capture(void **state)
{
    (void)state;
    const prov_route *r;
    char param[64], allow[64];
    assert_int_equal(match("GET", "/v1/distributionpoints/ps1dp1.contoso.com", &r, param, sizeof param, allow),
                     PROV_ROUTE_FOUND);
    assert_ptr_equal(r->handler, h_show);
    assert_string_equal(param, "ps1dp1.contoso.com");
    assert_int_equal(match("PATCH", "/v1/distributionpoints/A.B.COM/", &r, param, sizeof param, allow),
                     PROV_ROUTE_FOUND);
    assert_ptr_equal(r->handler, h_patch);
    assert_string_equal(param, "A.B.COM");
}

static void test_trailing_slash(void **state)
{
    (void)state;
    const prov_route *r;
    char param[64], allow[64];
    assert_int_equal(match("GET", "/v1/distributionpoints/", &r, param, sizeof param, allow), PROV_ROUTE_FOUND);
    assert_ptr_equal(r->handler, h_list);
    assert_int_equal(match("GET", "/healthz//", &r, param, sizeof param, allow), PROV_ROUTE_NOT_FOUND);
}

static void test_not_found(void **state)
{
    (void)state;
    const prov_route *r;
    char param[64], allow[64];
    const char *paths[] = {"/", "", "x", "/v1", "/v2/distributionpoints", "/v1/distributionpoints/a/b",
                           "/v1/distributionpoints//", "/healthzz", "/healthz/x", "//healthz",
                           "/v1/distributionpointsX"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        assert_int_equal(match("GET", paths[i], &r, param, sizeof param, allow), PROV_ROUTE_NOT_FOUND);
        assert_null(r);
    }
}

static void test_bad_method_lists_allowed(void **state)
{
    (void)state;
    const prov_route *r;
    char param[64], allow[64];
    assert_int_equal(match("DELETE", "/v1/distributionpoints", &r, param, sizeof param, allow),
                     PROV_ROUTE_BAD_METHOD);
    assert_string_equal(allow, "POST, GET");
    assert_int_equal(match("POST", "/v1/distributionpoints/a.b.com", &r, param, sizeof param, allow),
                     PROV_ROUTE_BAD_METHOD);
    assert_string_equal(allow, "GET, PATCH");
    assert_int_equal(match("get", "/healthz", &r, param, sizeof param, allow), PROV_ROUTE_BAD_METHOD);
    assert_string_equal(allow, "GET");
}

static void test_long_segment_does_not_overflow(void **state)
{
    (void)state;
    const prov_route *r;
    char param[8], allow[64];
    char path[5000] = "/v1/distributionpoints/";
    memset(path + strlen(path), 'a', 4000);
    /* longer than param: no match rather than a truncated name */
    assert_int_equal(match("GET", path, &r, param, sizeof param, allow), PROV_ROUTE_NOT_FOUND);
    assert_string_equal(param, "");
    assert_int_equal(match("GET", "/v1/distributionpoints/abcdefg", &r, param, sizeof param, allow),
                     PROV_ROUTE_FOUND);
    assert_string_equal(param, "abcdefg");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_routes),
        cmocka_unit_test(test_param_capture),
        cmocka_unit_test(test_trailing_slash),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_bad_method_lists_allowed),
        cmocka_unit_test(test_long_segment_does_not_overflow),
        cmocka_unit_test(test_two_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

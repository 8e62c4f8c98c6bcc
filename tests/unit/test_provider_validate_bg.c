/* Unit tests for the boundary group endpoints' input checks
 * (services/provider/validate_bg.c): boundaries (subnets with and without
 * host bits, ranges of one or two families, in order or reversed), client
 * addresses, and the create / update bodies. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "validate_bg.h"

/* The canonical value of text, or "!<why>" when it is refused. */
static const char *boundary(const char *text)
{
    static char out[400];
    json_t *b = NULL;
    char why[300];
    if (!prov_bg_boundary_parse(text, &b, why, sizeof why)) {
        assert_null(b);
        snprintf(out, sizeof out, "!%s", why);
        return out;
    }
    snprintf(out, sizeof out, "%s %s", json_string_value(json_object_get(b, "kind")),
             json_string_value(json_object_get(b, "value")));
    json_decref(b);
    return out;
}

static void test_boundaries(void **state)
{
    (void)state;
    assert_string_equal(boundary("10.1.0.0/16"), "subnet 10.1.0.0/16");
    assert_string_equal(boundary("10.1.2.3"), "subnet 10.1.2.3/32");
    assert_string_equal(boundary("0.0.0.0/0"), "subnet 0.0.0.0/0");
    assert_string_equal(boundary("2001:DB8::/48"), "subnet 2001:db8::/48");
    assert_string_equal(boundary("10.1.2.3/16"),
                        "!10.1.2.3/16 has host bits set; did you mean 10.1.0.0/16?");
    assert_string_equal(boundary("10.1.2.128/25"), "subnet 10.1.2.128/25");
    assert_string_equal(boundary("10.1.2.129/25"),
                        "!10.1.2.129/25 has host bits set; did you mean 10.1.2.128/25?");
    assert_string_equal(boundary("2001:db8::1/64"),
                        "!2001:db8::1/64 has host bits set; did you mean 2001:db8::/64?");
    assert_string_equal(boundary("192.168.5.10-192.168.5.50"), "range 192.168.5.10-192.168.5.50");
    assert_string_equal(boundary("192.168.5.10 - 192.168.5.10"), "range 192.168.5.10-192.168.5.10");
    assert_string_equal(boundary("2001:db8::1-2001:db8::ff"), "range 2001:db8::1-2001:db8::ff");
    assert_non_null(strstr(boundary("192.168.5.50-192.168.5.10"), "reversed"));
    assert_non_null(strstr(boundary("10.0.0.1-2001:db8::1"), "one family"));
    assert_non_null(strstr(boundary("10.0.0.0/33"), "prefix length"));
    assert_non_null(strstr(boundary("2001:db8::/129"), "prefix length"));
    assert_non_null(strstr(boundary("10.0.0.0/+8"), "prefix length"));
    assert_non_null(strstr(boundary("10.0.0.0/"), "prefix length"));
    assert_int_equal(boundary("10.1.300.0/24")[0], '!');
    assert_int_equal(boundary("010.1.0.0/16")[0], '!');
    assert_int_equal(boundary("10.0.0")[0], '!');
    assert_int_equal(boundary(" 10.0.0.0/8")[0], '!');
    assert_int_equal(boundary("")[0], '!');
    assert_int_equal(boundary("10.0.0.1-")[0], '!');
    assert_int_equal(boundary("-10.0.0.1")[0], '!');
    assert_int_equal(boundary("10.0.0.1-10.0.0.2-10.0.0.3")[0], '!');
    assert_int_equal(boundary("10.0.0.1/32-10.0.0.2")[0], '!');
}

static void test_addresses(void **state)
{
    (void)state;
    char a[64];
    assert_true(prov_bg_address_parse("10.1.2.3", a, sizeof a));
    assert_string_equal(a, "10.1.2.3");
    assert_true(prov_bg_address_parse("2001:DB8::0:1", a, sizeof a));
    assert_string_equal(a, "2001:db8::1");
    assert_true(prov_bg_address_parse("::ffff:192.168.5.20", a, sizeof a));
    assert_string_equal(a, "192.168.5.20");
    assert_false(prov_bg_address_parse("10.1.2", a, sizeof a));
    assert_false(prov_bg_address_parse("10.1.2.3/32", a, sizeof a));
    assert_false(prov_bg_address_parse("fe80::1%eth0", a, sizeof a));
    assert_false(prov_bg_address_parse(" 10.1.2.3", a, sizeof a));
    assert_false(prov_bg_address_parse("", a, sizeof a));
    assert_false(prov_bg_address_parse(NULL, a, sizeof a));
}

static dpf_status parse(const char *body, prov_bg_mode mode, const char *self, prov_bg_spec *s,
                        prov_field_error *err)
{
    return prov_bg_spec_parse(body, strlen(body), mode, self, s, err);
}

static void test_spec(void **state)
{
    (void)state;
    prov_bg_spec s;
    prov_field_error err;
    assert_int_equal(parse("{\"name\":\"B\"}", PROV_BG_CREATE, NULL, &s, &err), DPF_OK);
    assert_string_equal(s.site, "PS1");
    assert_string_equal(s.description, "");
    assert_int_equal(s.default_fallback, 120);
    assert_false(s.site_default);
    prov_bg_spec_clear(&s);
    assert_int_equal(parse("{\"name\":\"B\",\"siteCode\":\"cs1\",\"siteDefault\":true,"
                           "\"boundaries\":[\"10.0.0.0/8\"],\"neighbors\":[{\"name\":\"N\"},"
                           "{\"name\":\"M\",\"fallbackMinutes\":0}]}", PROV_BG_CREATE, NULL, &s,
                           &err), DPF_OK);
    assert_string_equal(s.site, "CS1");
    assert_true(s.site_default);
    assert_int_equal(json_array_size(s.boundaries), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(s.neighbors, 0),
                                                        "fallbackMinutes")), 120);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(s.neighbors, 1),
                                                        "fallbackMinutes")), 0);
    prov_bg_spec_clear(&s);
    /* refusals: the field named, nothing kept */
    struct {
        const char *body;
        prov_bg_mode mode;
        const char *field;
    } bad[] = {
        {"{\"name\":\"B\",\"neighbors\":[{\"name\":\"b\"}]}", PROV_BG_CREATE, "neighbors[0]"},
        {"{\"neighbors\":[{\"name\":\"Self\"}]}", PROV_BG_UPDATE, "neighbors[0]"},
        {"{\"name\":\"B\",\"neighbors\":[{\"name\":\"N\"},{\"name\":\"n\"}]}", PROV_BG_CREATE,
         "neighbors[1]"},
        {"{\"name\":\"B\",\"neighbors\":[{}]}", PROV_BG_CREATE, "neighbors[0]"},
        {"{\"name\":\"B\",\"boundaries\":[\"10.0.0.0/8\",\"10.0.0.0/8\"]}", PROV_BG_CREATE,
         "boundaries[1]"},
        {"{\"name\":\"B\",\"boundaries\":[7]}", PROV_BG_CREATE, "boundaries[0]"},
        {"{\"name\":\"B\",\"defaultFallbackMinutes\":-1}", PROV_BG_CREATE,
         "defaultFallbackMinutes"},
        {"{\"name\":\"B,C\"}", PROV_BG_CREATE, "name"},
        {"{\"name\":\" B\"}", PROV_BG_CREATE, "name"},
        {"{\"name\":\"\"}", PROV_BG_CREATE, "name"},
        {"{}", PROV_BG_CREATE, "name"},
        {"{}", PROV_BG_UPDATE, ""},
        {"{\"name\":\"B\"}", PROV_BG_UPDATE, "name"},
        {"{\"siteCode\":\"PS1\"}", PROV_BG_UPDATE, "siteCode"},
        {"{\"name\":\"B\",\"x\":1}", PROV_BG_CREATE, "x"},
        {"{\"name\":\"B\",\"name\":\"C\"}", PROV_BG_CREATE, ""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dpf_status st = parse(bad[i].body, bad[i].mode, "self", &s, &err);
        if (st == DPF_OK)
            print_error("accepted: %s\n", bad[i].body);
        assert_int_not_equal(st, DPF_OK);
        assert_string_equal(err.field, bad[i].field);
        assert_true(err.message[0] != '\0');
        assert_null(s.doc);
        assert_null(s.boundaries);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boundaries),
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_spec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

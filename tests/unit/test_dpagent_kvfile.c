/* kvfile.c: the etc/<name>.conf files. Validation keeps a request from adding a
 * line or a key of its own; parsing round-trips what formatting wrote. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include "kvfile.h"

static void set_get_sort_format(void **state)
{
    (void)state;
    dpa_kv *kv = NULL;
    assert_int_equal(dpa_kv_create(&kv), DPF_OK);
    assert_int_equal(dpa_kv_set(kv, "Priority", "200"), DPF_OK);
    assert_int_equal(dpa_kv_set(kv, "ComponentVersion", "5.0.8355.1000"), DPF_OK);
    assert_int_equal(dpa_kv_set(kv, "Description", "PS1 Standard DP; DROP TABLE x;--"), DPF_OK);
    assert_int_equal(dpa_kv_set(kv, "Priority", "100"), DPF_OK); /* replaces */
    assert_int_equal(dpa_kv_count(kv), 3);
    assert_string_equal(dpa_kv_get(kv, "Priority"), "100");
    assert_null(dpa_kv_get(kv, "Missing"));
    dpa_kv_sort(kv);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(dpa_kv_format(kv, &text, &len), DPF_OK);
    assert_string_equal(text, "ComponentVersion=5.0.8355.1000\n"
                              "Description=PS1 Standard DP; DROP TABLE x;--\n"
                              "Priority=100\n");
    assert_int_equal(len, strlen(text));

    dpa_kv *back = NULL;
    assert_int_equal(dpa_kv_parse(text, len, &back), DPF_OK);
    assert_int_equal(dpa_kv_count(back), 3);
    assert_string_equal(dpa_kv_get(back, "Description"), "PS1 Standard DP; DROP TABLE x;--");
    free(text);
    dpa_kv_destroy(back);
    dpa_kv_destroy(kv);
    dpa_kv_destroy(NULL);
}

static void refuses_injection(void **state)
{
    (void)state;
    char err[256];
    dpa_kv *kv = NULL;
    assert_int_equal(dpa_kv_create(&kv), DPF_OK);
    assert_int_equal(dpa_kv_set(kv, "a", "1\nComponentVersion=0"), DPF_ERR_INVALID);
    assert_int_equal(dpa_kv_set(kv, "a=b", "1"), DPF_ERR_INVALID);
    assert_int_equal(dpa_kv_set(kv, "", "1"), DPF_ERR_INVALID);
    assert_int_equal(dpa_kv_set(kv, "a b", "1"), DPF_ERR_INVALID);
    assert_int_equal(dpa_kv_count(kv), 0);
    assert_false(dpa_kv_valid("x", "a\rb", err, sizeof err));
    assert_non_null(strstr(err, "control character"));
    assert_true(dpa_kv_valid("SMS_DP_SMSPKG$", "/var/x/SCCMContentLib$", err, sizeof err));
    dpa_kv_destroy(kv);
}

static void parse_skips_junk(void **state)
{
    (void)state;
    const char *text = "# comment\n\nenabled=1\nnot a line\n=novalue\nport=8080";
    dpa_kv *kv = NULL;
    assert_int_equal(dpa_kv_parse(text, strlen(text), &kv), DPF_OK);
    assert_int_equal(dpa_kv_count(kv), 2);
    assert_string_equal(dpa_kv_get(kv, "enabled"), "1");
    assert_string_equal(dpa_kv_get(kv, "port"), "8080");
    dpa_kv_destroy(kv);
    assert_int_equal(dpa_kv_load("/nonexistent/x.conf", &kv), DPF_ERR_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(set_get_sort_format),
        cmocka_unit_test(refuses_injection),
        cmocka_unit_test(parse_skips_junk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

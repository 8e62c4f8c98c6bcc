/* log, JSON format: each record is one line that jansson parses back into
 * an object with the fields a log store indexes (time, level, component,
 * thread, correlationId and dpid when set, message), whatever the message
 * holds (quotes, backslashes, newlines, control bytes, invalid UTF-8); the
 * text format stays the default and comes back when asked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include <dpf/log.h>

#include "dpf_capture.h"

/* out holds exactly n lines; returns line i parsed (caller decrefs). */
static json_t *parse_line(const char *out, int i, int n)
{
    int lines = 0;
    for (const char *p = out; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, n);
    const char *p = out;
    for (int k = 0; k < i; k++)
        p = strchr(p, '\n') + 1;
    const char *end = strchr(p, '\n');
    json_error_t err;
    json_t *o = json_loadb(p, (size_t)(end - p), 0, &err);
    if (o == NULL)
        fail_msg("not JSON (%s): %.*s", err.text, (int)(end - p), p);
    assert_true(json_is_object(o));
    return o;
}

static void test_record_fields(void **state)
{
    (void)state;
    dpf_log_init("SMS_DISTRIBUTION_MANAGER");
    dpf_log_set_level(DPF_LOG_INFO);
    dpf_log_set_format(DPF_LOG_FORMAT_JSON);
    dpf_log_set_corr("4f1c-corr");
    dpf_log_set_dpid(42);
    dpf_capture_begin();
    DPF_WARN("~Processing %d.INS", 32);
    char *out = dpf_capture_end();
    dpf_log_set_corr(NULL);
    dpf_log_set_dpid(0);

    json_t *o = parse_line(out, 0, 1);
    regex_t re;
    assert_int_equal(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$",
                             REG_EXTENDED | REG_NOSUB), 0);
    const char *t = json_string_value(json_object_get(o, "time"));
    assert_non_null(t);
    assert_int_equal(regexec(&re, t, 0, NULL, 0), 0);
    regfree(&re);
    assert_string_equal(json_string_value(json_object_get(o, "level")), "warn");
    assert_string_equal(json_string_value(json_object_get(o, "component")),
                        "SMS_DISTRIBUTION_MANAGER");
    assert_true(json_integer_value(json_object_get(o, "thread")) == (json_int_t)dpf_log_tid());
    assert_string_equal(json_string_value(json_object_get(o, "correlationId")), "4f1c-corr");
    assert_int_equal(json_integer_value(json_object_get(o, "dpid")), 42);
    assert_string_equal(json_string_value(json_object_get(o, "message")), "~Processing 32.INS");
    assert_int_equal(json_object_size(o), 7);
    json_decref(o);
    free(out);

    /* without a correlation id or DP: the keys are left out */
    dpf_capture_begin();
    DPF_ERROR("plain");
    out = dpf_capture_end();
    o = parse_line(out, 0, 1);
    assert_null(json_object_get(o, "correlationId"));
    assert_null(json_object_get(o, "dpid"));
    assert_string_equal(json_string_value(json_object_get(o, "level")), "error");
    json_decref(o);
    free(out);
    dpf_log_set_format(DPF_LOG_FORMAT_TEXT);
}

static void test_hostile_messages(void **state)
{
    (void)state;
    dpf_log_set_format(DPF_LOG_FORMAT_JSON);
    dpf_capture_begin();
    DPF_INFO("quote \" backslash \\ tab\tnew\nline\r\n");
    DPF_INFO("bad utf-8 \xff\xfe end, good \xc3\xa9");
    DPF_INFO("ctl \x01\x1f");
    char big[10000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    DPF_INFO("%s", big);
    char *out = dpf_capture_end();
    dpf_log_set_format(DPF_LOG_FORMAT_TEXT);

    json_t *o = parse_line(out, 0, 4);
    assert_string_equal(json_string_value(json_object_get(o, "message")),
                        "quote \" backslash \\ tab\tnew\nline");
    json_decref(o);
    o = parse_line(out, 1, 4);
    const char *m = json_string_value(json_object_get(o, "message"));
    assert_non_null(strstr(m, "bad utf-8 ?? end"));
    json_decref(o);
    o = parse_line(out, 2, 4);
    assert_string_equal(json_string_value(json_object_get(o, "message")), "ctl \x01\x1f");
    json_decref(o);
    o = parse_line(out, 3, 4);
    assert_true(strlen(json_string_value(json_object_get(o, "message"))) > 4000);
    json_decref(o);
    free(out);
}

static void test_format_names(void **state)
{
    (void)state;
    assert_int_equal(dpf_log_set_format_name("yaml"), DPF_ERR_INVALID);
    assert_int_equal(dpf_log_set_format_name(NULL), DPF_OK);
    assert_int_equal(dpf_log_set_format_name("JSON"), DPF_OK);
    dpf_capture_begin();
    DPF_INFO("as json");
    char *out = dpf_capture_end();
    assert_true(out[0] == '{');
    free(out);
    assert_int_equal(dpf_log_set_format_name("text"), DPF_OK);
    dpf_log_init("T");
    dpf_capture_begin();
    DPF_INFO("as text");
    out = dpf_capture_end();
    assert_non_null(strstr(out, " I T "));
    assert_non_null(strstr(out, "[-] as text\n"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_fields),
        cmocka_unit_test(test_hostile_messages),
        cmocka_unit_test(test_format_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* util: UUID shape, clocks, system name, whole-file reads and dpf_fmt; the
 * status texts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <dpf/status.h>
#include <dpf/util.h>

static void test_uuid_v4(void **state)
{
    char a[37], b[37];
    dpf_uuid(a);
    dpf_uuid(b);
    assert_int_equal(strlen(a), 36);
    assert_string_not_equal(a, b);
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(a[i], '-');
        else
            assert_non_null(strchr("0123456789abcdef", a[i]));
    }
    assert_int_equal(a[14], '4');
    assert_non_null(strchr("89ab", a[19]));
    /* version and variant on every one, not by luck on the first */
    for (int i = 0; i < 200; i++) {
        dpf_uuid(b);
        assert_int_equal(strlen(b), 36);
        assert_int_equal(b[14], '4');
        assert_non_null(strchr("89ab", b[19]));
        assert_string_not_equal(a, b);
    }
}

static void test_clocks(void **state)
{
    int64_t ms = dpf_now_ms();
    assert_true(ms > 1700000000000LL);
    int64_t m1 = dpf_mono_us();
    usleep(2000);
    int64_t m2 = dpf_mono_us();
    assert_true(m2 - m1 >= 2000);
}

static void test_system_name_from_env(void **state)
{
    /* read once per process: set before the first call */
    setenv("DPFLEET_SYSTEM_NAME", "ps1site.contoso.com", 1);
    assert_string_equal(dpf_system_name(), "PS1SITE.CONTOSO.COM");
}

static void test_read_file(void **state)
{
    char path[] = "/tmp/test_util_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char body[] = "line one\nline two\n";
    assert_int_equal(write(fd, body, sizeof body - 1), (ssize_t)(sizeof body - 1));
    close(fd);
    char *data = NULL;
    size_t len = 0;
    assert_int_equal(dpf_read_file(path, &data, &len), DPF_OK);
    assert_int_equal(len, sizeof body - 1);
    assert_string_equal(data, body);
    free(data);
    unlink(path);
    assert_int_equal(dpf_read_file(path, &data, &len), DPF_ERR_NOT_FOUND);
    assert_null(data);
    /* files that report size 0 are still read to the end */
    assert_int_equal(dpf_read_file("/proc/self/status", &data, &len), DPF_OK);
    assert_true(len > 0);
    assert_non_null(strstr(data, "Name:"));
    free(data);
}

static void test_parse_int(void **state)
{
    long long v = 99;
    assert_int_equal(dpf_parse_int("42", 0, 100, &v), 1);
    assert_int_equal(v, 42);
    assert_int_equal(dpf_parse_int("-5", -10, 10, &v), 1);
    assert_int_equal(v, -5);
    v = 99;
    assert_int_equal(dpf_parse_int("101", 0, 100, &v), 0);  /* above max */
    assert_int_equal(dpf_parse_int("-1", 0, 100, &v), 0);   /* below min */
    assert_int_equal(dpf_parse_int("4x", 0, 100, &v), 0);   /* trailing text */
    assert_int_equal(dpf_parse_int("", 0, 100, &v), 0);
    assert_int_equal(dpf_parse_int(NULL, 0, 100, &v), 0);
    assert_int_equal(dpf_parse_int("99999999999999999999", 0, 9223372036854775807LL, &v), 0);
    assert_int_equal(v, 99); /* untouched on failure */
}

static void test_fmt(void **state)
{
    char buf[8];
    assert_int_equal(dpf_fmt(buf, sizeof buf, "%s", "1234567"), 1);
    assert_string_equal(buf, "1234567");
    assert_int_equal(dpf_fmt(buf, sizeof buf, "%s-%d", "abcdef", 42), 0);
    assert_string_equal(buf, "abcdef-");
    assert_int_equal(dpf_fmt(NULL, 0, "x"), 0);
}

/* Whole lines or nothing: once one line does not fit, later shorter ones
 * are left out too (a Prometheus sample must not lose its # TYPE line). */
static void test_textbuf(void **state)
{
    (void)state;
    char buf[16];
    dpf_textbuf t = {buf, 0, sizeof buf};
    dpf_textbuf_printf(&t, "%s\n", "one");
    dpf_textbuf_printf(&t, "%s\n", "two");
    assert_string_equal(buf, "one\ntwo\n");
    assert_int_equal(t.len, 8);
    dpf_textbuf_printf(&t, "%s\n", "a line too long");
    assert_string_equal(buf, "one\ntwo\n");
    dpf_textbuf_printf(&t, "x\n");
    assert_string_equal(buf, "one\ntwo\n");
    assert_int_equal(t.len, 8);
    dpf_textbuf none = {NULL, 0, 0};
    dpf_textbuf_printf(&none, "x");
    assert_int_equal(none.len, 0);
}

static void test_signals(void **state)
{
    dpf_handle_signals();
    assert_false(dpf_stopping());
    raise(SIGTERM);
    assert_true(dpf_stopping());
}

/* Every status has a text of its own: an administrator reading one in a log
 * line can tell a missing row from a missing stream or a --help. */
static void test_status_texts(void **state)
{
    const dpf_status last = DPF_HELP_SHOWN;
    for (int a = DPF_OK; a <= (int)last; a++) {
        const char *ta = dpf_status_text((dpf_status)a);
        assert_non_null(ta);
        assert_string_not_equal(ta, "unknown status");
        for (int b = a + 1; b <= (int)last; b++)
            assert_string_not_equal(ta, dpf_status_text((dpf_status)b));
    }
    assert_string_equal(dpf_status_text(DPF_ERR_NOT_FOUND), "not found");
    assert_string_equal(dpf_status_text(DPF_ERR_NO_STREAM),
                        "no such JetStream stream or consumer");
    assert_string_equal(dpf_status_text(DPF_HELP_SHOWN), "help shown");
    assert_string_equal(dpf_status_text((dpf_status)(last + 1)), "unknown status");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid_v4),
        cmocka_unit_test(test_clocks),
        cmocka_unit_test(test_system_name_from_env),
        cmocka_unit_test(test_read_file),
        cmocka_unit_test(test_parse_int),
        cmocka_unit_test(test_fmt),
        cmocka_unit_test(test_textbuf),
        cmocka_unit_test(test_signals),
        cmocka_unit_test(test_status_texts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

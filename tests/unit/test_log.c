/* log: line shape, level filtering, one line per record, and a correlation
 * id that belongs to the thread that set it. Lines go to stderr, which the
 * tests point at a temporary file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <dpf/log.h>

#include "dpf_capture.h"

static void test_line_shape(void **state)
{
    dpf_log_init("SMS_DISTRIBUTION_MANAGER");
    dpf_log_set_level(DPF_LOG_INFO);
    dpf_log_set_corr("4f1c-corr");
    dpf_capture_begin();
    DPF_INFO("~Processing %d.INS", 32);
    char *out = dpf_capture_end();
    dpf_log_set_corr(NULL);

    regex_t re;
    assert_int_equal(regcomp(&re,
                             "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3} "
                             "I SMS_DISTRIBUTION_MANAGER [0-9]+ \\(0x[0-9a-f]+\\) "
                             "\\[4f1c-corr\\] ~Processing 32\\.INS\n$",
                             REG_EXTENDED),
                     0);
    if (regexec(&re, out, 0, NULL, 0) != 0)
        fail_msg("unexpected line: %s", out);
    regfree(&re);

    /* the decimal and hex thread ids are the same number, the caller's */
    char want[64];
    snprintf(want, sizeof want, " %llu (0x%llx) ", (unsigned long long)dpf_log_tid(),
             (unsigned long long)dpf_log_tid());
    assert_non_null(strstr(out, want));
    free(out);
}

static void test_levels_and_newlines(void **state)
{
    dpf_log_init("T");
    dpf_log_set_level(DPF_LOG_WARN);
    assert_false(dpf_log_enabled(DPF_LOG_INFO));
    assert_true(dpf_log_enabled(DPF_LOG_ERROR));
    dpf_capture_begin();
    DPF_DEBUG("hidden debug");
    DPF_INFO("hidden info");
    DPF_WARN("first\nsecond\n");
    DPF_ERROR("boom");
    char *out = dpf_capture_end();
    dpf_log_set_level(DPF_LOG_INFO);
    assert_null(strstr(out, "hidden"));
    assert_non_null(strstr(out, " W T "));
    assert_non_null(strstr(out, "[-] first second\n"));
    assert_non_null(strstr(out, " E T "));
    int lines = 0;
    for (char *p = out; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 2);
    free(out);
}

static void test_long_message_is_one_line(void **state)
{
    char big[10000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    dpf_capture_begin();
    DPF_INFO("%s", big);
    char *out = dpf_capture_end();
    size_t len = strlen(out);
    assert_true(len > 1000 && len <= 4096);
    assert_int_equal(out[len - 1], '\n');
    assert_non_null(strstr(out, "zzz...\n"));
    free(out);
}

static void *other_thread(void *arg)
{
    char *seen = arg;
    /* a new thread starts without the creator's id */
    strcpy(seen, dpf_log_corr());
    dpf_log_set_corr("thread-b");
    return NULL;
}

static void test_corr_is_per_thread(void **state)
{
    dpf_log_set_corr("thread-a");
    char seen[80] = "unset";
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, other_thread, seen), 0);
    pthread_join(t, NULL);
    assert_string_equal(seen, "");
    assert_string_equal(dpf_log_corr(), "thread-a");
    /* long ids are cut to 63 characters */
    char long_id[100];
    memset(long_id, 'c', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    dpf_log_set_corr(long_id);
    assert_int_equal(strlen(dpf_log_corr()), 63);
    dpf_log_set_corr("");
    assert_string_equal(dpf_log_corr(), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_shape),
        cmocka_unit_test(test_levels_and_newlines),
        cmocka_unit_test(test_long_message_is_one_line),
        cmocka_unit_test(test_corr_is_per_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

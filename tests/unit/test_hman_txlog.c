/* hman txlog: lines of a transaction are written only when it ends, in
 * order, at their level when it committed and as debug "Rolled back: "
 * lines when it did not. stderr is pointed at a temporary file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <dpf/log.h>

#include "dpf_capture.h"
#include "txlog.h"

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_committed_lines_written_at_the_end_in_order(void **state)
{
    (void)state;
    hman_txlog l = {0};
    dpf_log_set_level(DPF_LOG_INFO);
    dpf_capture_begin();
    hman_txlog_add(&l, DPF_LOG_INFO, "~Inserted DP %s. CRC:%s", "\\\\DP1\\", "439BCA34");
    hman_txlog_add(&l, DPF_LOG_DEBUG, "SQL>>>insert DistributionPoints %d", 1);
    hman_txlog_add(&l, DPF_LOG_WARN, "~Will not update DP %s", "\\\\DP2\\");
    char *before = dpf_capture_end();
    assert_string_equal(before, "");
    free(before);

    dpf_capture_begin();
    hman_txlog_flush(&l, 1);
    hman_txlog_flush(&l, 1); /* emptied: nothing twice */
    char *out = dpf_capture_end();
    assert_int_equal(count(out, "\n"), 2);
    assert_int_equal(count(out, "~Inserted DP \\\\DP1\\. CRC:439BCA34"), 1);
    assert_int_equal(count(out, " W "), 1);
    assert_null(strstr(out, "SQL>>>")); /* debug is below the level */
    assert_true(strstr(out, "Inserted DP") < strstr(out, "Will not update DP"));
    free(out);
    hman_txlog_clear(&l);
}

static void test_rolled_back_lines_only_at_debug(void **state)
{
    (void)state;
    hman_txlog l = {0};
    dpf_log_set_level(DPF_LOG_INFO);
    hman_txlog_add(&l, DPF_LOG_INFO, "~Inserted DP %s", "DP1");
    dpf_capture_begin();
    hman_txlog_flush(&l, 0);
    char *out = dpf_capture_end();
    assert_string_equal(out, "");
    free(out);

    dpf_log_set_level(DPF_LOG_DEBUG);
    hman_txlog_add(&l, DPF_LOG_INFO, "~Inserted DP %s", "DP1");
    dpf_capture_begin();
    hman_txlog_flush(&l, 0);
    out = dpf_capture_end();
    assert_int_equal(count(out, " D "), 1);
    assert_int_equal(count(out, "Rolled back: ~Inserted DP DP1"), 1);
    free(out);
    hman_txlog_clear(&l);
    dpf_log_set_level(DPF_LOG_INFO);
}

static void test_many_lines_keep_their_order(void **state)
{
    (void)state;
    hman_txlog l = {0};
    dpf_log_set_level(DPF_LOG_INFO);
    for (int i = 0; i < 2000; i++)
        hman_txlog_add(&l, DPF_LOG_INFO, "line %04d %s", i, "padding padding padding");
    dpf_capture_begin();
    hman_txlog_flush(&l, 1);
    char *out = dpf_capture_end();
    assert_int_equal(count(out, "\n"), 2000);
    const char *p = out;
    for (int i = 0; i < 2000; i++) {
        char want[16];
        snprintf(want, sizeof want, "line %04d", i);
        const char *q = strstr(p, want);
        assert_non_null(q);
        p = q;
    }
    free(out);
    hman_txlog_clear(&l);
    hman_txlog_clear(&l); /* twice is harmless */
    hman_txlog_flush(&l, 1); /* and an empty log flushes nothing */
}

/* A DP set aside (HmanSetAsideFailedDPs) is rolled back to its savepoint:
 * its lines go (at debug), the lines before and after it stay. */
static void test_undo_drops_the_lines_after_the_mark(void **state)
{
    (void)state;
    hman_txlog l = {0};
    dpf_log_set_level(DPF_LOG_INFO);
    hman_txlog_add(&l, DPF_LOG_INFO, "~Inserted DP %s", "DP1");
    size_t mark = hman_txlog_mark(&l);
    hman_txlog_add(&l, DPF_LOG_INFO, "~Inserted DP %s", "DP9");
    hman_txlog_add(&l, DPF_LOG_INFO, "DP cert query: %s", "DP9");
    dpf_capture_begin();
    hman_txlog_undo(&l, mark);
    hman_txlog_undo(&l, mark); /* nothing after the mark any more */
    char *out = dpf_capture_end();
    assert_string_equal(out, ""); /* info level: the rolled-back lines are not shown */
    free(out);
    hman_txlog_add(&l, DPF_LOG_INFO, "~Inserted DP %s", "DP2");
    dpf_capture_begin();
    hman_txlog_flush(&l, 1);
    out = dpf_capture_end();
    assert_int_equal(count(out, "\n"), 2);
    assert_int_equal(count(out, "Inserted DP DP1"), 1);
    assert_int_equal(count(out, "Inserted DP DP2"), 1);
    assert_null(strstr(out, "DP9"));
    free(out);

    dpf_log_set_level(DPF_LOG_DEBUG);
    hman_txlog_add(&l, DPF_LOG_INFO, "~Inserted DP %s", "DP1");
    mark = hman_txlog_mark(&l);
    hman_txlog_add(&l, DPF_LOG_INFO, "~Inserted DP %s", "DP9");
    dpf_capture_begin();
    hman_txlog_undo(&l, mark);
    out = dpf_capture_end();
    assert_int_equal(count(out, "Rolled back: ~Inserted DP DP9"), 1);
    assert_null(strstr(out, "DP1"));
    free(out);
    hman_txlog_clear(&l);
    dpf_log_set_level(DPF_LOG_INFO);
}

/* Inserting 5,000 DPs keeps ~30,000 lines: past HMAN_TXLOG_MEM_MAX they
 * wait in a temporary file, and still come out once, in order; a DP set
 * aside after the spill drops exactly its own lines. */
static void test_spilled_lines_keep_their_order_and_undo(void **state)
{
    (void)state;
    enum { LINES = 12000 };
    hman_txlog l = {0};
    dpf_log_set_level(DPF_LOG_INFO);
    for (int i = 0; i < LINES; i++)
        hman_txlog_add(&l, DPF_LOG_INFO, "line %05d %s", i, "padding padding padding padding");
    assert_non_null(l.spill);
    assert_true(l.cap <= 2 * HMAN_TXLOG_MEM_MAX);
    size_t mark = hman_txlog_mark(&l);
    for (int i = 0; i < LINES; i++)
        hman_txlog_add(&l, DPF_LOG_INFO, "undone %05d %s", i, "padding padding padding");
    hman_txlog_undo(&l, mark); /* the mark lies in the spill file by now */
    hman_txlog_add(&l, DPF_LOG_INFO, "line %05d last", LINES);
    dpf_capture_begin();
    hman_txlog_flush(&l, 1);
    char *out = dpf_capture_end();
    assert_int_equal(count(out, "\n"), LINES + 1);
    assert_null(strstr(out, "undone"));
    const char *p = out;
    for (int i = 0; i <= LINES; i++) {
        char want[16];
        snprintf(want, sizeof want, "line %05d", i);
        const char *q = strstr(p, want);
        assert_non_null(q);
        p = q;
    }
    free(out);
    assert_null(l.spill); /* flushed: the file is gone */
    hman_txlog_clear(&l);
}

int main(void)
{
    dpf_log_init("SMS_HIERARCHY_MANAGER");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_committed_lines_written_at_the_end_in_order),
        cmocka_unit_test(test_rolled_back_lines_only_at_debug),
        cmocka_unit_test(test_many_lines_keep_their_order),
        cmocka_unit_test(test_undo_drops_the_lines_after_the_mark),
        cmocka_unit_test(test_spilled_lines_keep_their_order_and_undo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

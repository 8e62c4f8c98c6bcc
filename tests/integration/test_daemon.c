/* daemon: the start-up every service shares (options, --help, a bad
 * option), naps, and the connect-with-retry loops against the real
 * PostgreSQL and nats-server; the stop request, which cannot be undone in a
 * process, comes last. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <dpf/log.h>
#include <dpf/daemon.h>
#include <dpf/util.h>

#include "dpf_capture.h"
#include "dpf_test.h"

/* An address where nothing listens: connects fail at once. */
#define DEAD_PG_URL "postgresql://postgres@127.0.0.1:1/postgres?connect_timeout=2"

static int g_retries;
static char *g_name;

static const dpf_option g_opts[] = {
    DPF_OPT_INT("retries", "TEST_DAEMON_RETRIES", &g_retries, 3, 0, 10, "a number"),
    DPF_OPT_STRING("name", "TEST_DAEMON_NAME", &g_name, "x", "a string"),
    DPF_OPT_END,
};

static void test_start_help(void **state)
{
    char *argv[] = {"svc", "--help", NULL};
    int rc = -1;
    assert_int_equal(dpf_daemon_start("svc", "TEST_DAEMON", g_opts, 2, argv, &rc),
                     DPF_HELP_SHOWN);
    assert_int_equal(rc, 0);
    assert_null(g_name); /* freed: nothing to leak */
}

static void test_start_bad_option(void **state)
{
    char *argv[] = {"svc", "--retries=eleven", NULL};
    int rc = -1;
    dpf_capture_begin();
    dpf_status st = dpf_daemon_start("svc", "TEST_DAEMON", g_opts, 2, argv, &rc);
    char *err = dpf_capture_end();
    assert_int_not_equal(st, DPF_OK);
    assert_int_equal(rc, 2);
    assert_int_equal(strncmp(err, "svc: ", 5), 0);
    assert_non_null(strstr(err, "retries"));
    free(err);
    assert_null(g_name);
}

static void test_start_runs(void **state)
{
    char *argv[] = {"svc", "--retries", "7", "--name=hman", NULL};
    int rc = -1;
    assert_int_equal(dpf_daemon_start("svc", "TEST_DAEMON", g_opts, 4, argv, &rc), DPF_OK);
    assert_int_equal(rc, 0);
    assert_int_equal(g_retries, 7);
    assert_string_equal(g_name, "hman");
    assert_string_equal(dpf_log_component(), "TEST_DAEMON");
    assert_false(dpf_stopping());
    dpf_config_free(g_opts);
}

static void test_nap_sleeps(void **state)
{
    int64_t t0 = dpf_mono_us();
    assert_int_equal(dpf_daemon_nap(250), 1);
    int64_t took = dpf_mono_us() - t0;
    assert_true(took >= 250000);
    assert_true(took < 2000000);
}

static int g_ready_calls;

/* Fails the first connection it sees, passes the next. */
static dpf_status ready_second_time(dpf_db *db, void *arg)
{
    assert_non_null(db);
    assert_ptr_equal(arg, &g_ready_calls);
    return ++g_ready_calls == 1 ? DPF_ERR_DB : DPF_OK;
}

static void test_connect_db_retries_until_ready(void **state)
{
    const char *url = dpf_test_env("DPF_TEST_PG_URL");
    assert_non_null(url);
    g_ready_calls = 0;
    dpf_capture_begin();
    dpf_db *db = dpf_daemon_connect_db(url, 1000, ready_second_time, &g_ready_calls);
    char *err = dpf_capture_end();
    assert_non_null(db);
    assert_int_equal(g_ready_calls, 2);
    assert_non_null(strstr(err, "Cannot reach the database yet; retrying in 500 ms"));
    assert_null(strstr(err, "retrying in 1000 ms"));
    free(err);
    assert_int_equal(dpf_db_exec(db, "SELECT 1", 0, NULL, NULL), DPF_OK);
    dpf_db_destroy(db);
}

static void test_connect_bus_with_streams(void **state)
{
    const char *url = dpf_test_env("NATS_URL");
    assert_non_null(url);
    dpf_bus *bus = dpf_daemon_connect_bus(url, "test_daemon", 1000);
    assert_non_null(bus);
    dpf_bus_destroy(bus);
}

static void *stop_later(void *arg)
{
    (void)arg;
    usleep(1200 * 1000);
    kill(getpid(), SIGTERM);
    return NULL;
}

/* Waits double up to the cap; a stop ends the loops and the naps at once. */
static void test_stop_ends_retries(void **state)
{
    dpf_handle_signals();
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, stop_later, NULL), 0);
    int64_t t0 = dpf_mono_us();
    dpf_capture_begin();
    dpf_db *db = dpf_daemon_connect_db(DEAD_PG_URL, 700, NULL, NULL);
    char *err = dpf_capture_end();
    int64_t took = dpf_mono_us() - t0;
    pthread_join(t, NULL);
    assert_null(db);
    assert_true(dpf_stopping());
    assert_true(took >= 1200000);
    assert_true(took < 1900000);
    /* 500 ms, then doubled but capped at 700 ms */
    assert_non_null(strstr(err, "Cannot reach the database yet; retrying in 500 ms"));
    assert_non_null(strstr(err, "Cannot reach the database yet; retrying in 700 ms"));
    assert_null(strstr(err, "retrying in 1000 ms"));
    free(err);

    t0 = dpf_mono_us();
    assert_int_equal(dpf_daemon_nap(5000), 0);
    assert_null(dpf_daemon_connect_db(DEAD_PG_URL, 1000, NULL, NULL));
    assert_null(dpf_daemon_connect_bus("nats://127.0.0.1:1", "test_daemon", 1000));
    dpf_daemon_wait_stop();
    assert_true(dpf_mono_us() - t0 < 500000);
}

int main(void)
{
    dpf_log_init("TEST_DAEMON");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_help),
        cmocka_unit_test(test_start_bad_option),
        cmocka_unit_test(test_start_runs),
        cmocka_unit_test(test_nap_sleeps),
        cmocka_unit_test(test_connect_db_retries_until_ready),
        cmocka_unit_test(test_connect_bus_with_streams),
        cmocka_unit_test(test_stop_ends_retries), /* last: the stop cannot be undone */
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* distmgr's pool of PostgreSQL connections (services/distmgr/db_pool.c)
 * against the real PostgreSQL: never more connections than its size, a
 * connection given back goes to a waiting borrower at once, long holders
 * (package transfers) never take the connections short jobs need, and a
 * borrower that waits too long gets NULL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <dpf/log.h>
#include <dpf/util.h>
#include "db_pool.h"
#include "dpf_test.h"

#define TEST_NAME "distmgr_dbpool"

static char g_url[1024];

static int group_setup(void **state)
{
    (void)state;
    dpf_log_init("TEST_DISTMGR_DBPOOL");
    return dpf_test_db_create(TEST_NAME, g_url, sizeof g_url);
}

static int group_teardown(void **state)
{
    (void)state;
    dpf_test_db_drop(TEST_NAME);
    return 0;
}

typedef struct borrower {
    dm_dbpool *pool;
    int is_long;
    int wait_ms;
    int hold_ms;
    int64_t waited_us; /* how long the get took */
    int got;
    pthread_t t;
} borrower;

static void *borrow(void *arg)
{
    borrower *b = arg;
    int64_t t0 = dpf_mono_us();
    dpf_db *db = b->is_long ? dm_dbpool_get_long(b->pool, b->wait_ms)
                            : dm_dbpool_get(b->pool, b->wait_ms);
    b->waited_us = dpf_mono_us() - t0;
    b->got = db != NULL;
    if (db == NULL)
        return NULL;
    char one[8] = "";
    if (dpf_db_exec_text(db, "SELECT 1", 0, NULL, one, sizeof one) != DPF_OK ||
        strcmp(one, "1") != 0)
        b->got = -1; /* a connection that does not answer */
    usleep((useconds_t)b->hold_ms * 1000);
    if (b->is_long)
        dm_dbpool_put_long(b->pool, db);
    else
        dm_dbpool_put(b->pool, db);
    return NULL;
}

static void start(borrower *b)
{
    assert_int_equal(pthread_create(&b->t, NULL, borrow, b), 0);
}

/* 40 threads on a pool of 4: each gets a working connection, never more
 * than 4 are out, and none waits anywhere near its limit. */
static void test_many_borrowers_few_connections(void **state)
{
    (void)state;
    dm_dbpool *p = NULL;
    assert_int_equal(dm_dbpool_create(g_url, 4, &p), DPF_OK);
    borrower b[40];
    for (int i = 0; i < 40; i++) {
        b[i] = (borrower){.pool = p, .wait_ms = 20000, .hold_ms = 20};
        start(&b[i]);
    }
    for (int i = 0; i < 40; i++) {
        pthread_join(b[i].t, NULL);
        assert_int_equal(b[i].got, 1);
        assert_true(b[i].waited_us < 10 * 1000000LL);
    }
    dm_dbpool_stats s;
    dm_dbpool_get_stats(p, &s);
    assert_int_equal(s.peak_out, 4);
    assert_true(s.open <= 4);
    assert_int_equal(s.out, 0);
    assert_true(s.waits > 0);
    dm_dbpool_destroy(p);
}

/* Pool of 3: long holders get at most 2. A third long borrower waits while
 * short ones are still served, and gets its connection when a long one
 * comes back. */
static void test_long_holders_leave_room_for_short_jobs(void **state)
{
    (void)state;
    dm_dbpool *p = NULL;
    assert_int_equal(dm_dbpool_create(g_url, 3, &p), DPF_OK);
    dpf_db *l1 = dm_dbpool_get_long(p, 1000), *l2 = dm_dbpool_get_long(p, 1000);
    assert_non_null(l1);
    assert_non_null(l2);
    borrower third = {.pool = p, .is_long = 1, .wait_ms = 10000};
    start(&third);
    usleep(200 * 1000);
    /* the short jobs still have their connection, again and again */
    for (int i = 0; i < 3; i++) {
        borrower s = {.pool = p, .wait_ms = 1000, .hold_ms = 10};
        start(&s);
        pthread_join(s.t, NULL);
        assert_int_equal(s.got, 1);
        assert_true(s.waited_us < 500 * 1000);
    }
    dm_dbpool_stats st;
    dm_dbpool_get_stats(p, &st);
    assert_int_equal(st.out, 2); /* the third long borrower still waits */
    int64_t back = dpf_mono_us();
    dm_dbpool_put_long(p, l1);
    pthread_join(third.t, NULL);
    assert_int_equal(third.got, 1);
    /* served when the long connection came back, not at its time-out */
    assert_true(third.waited_us < 5 * 1000000LL);
    assert_true(dpf_mono_us() - back < 2 * 1000000LL);
    dm_dbpool_put_long(p, l2);
    dm_dbpool_destroy(p);
}

/* All out and none given back: NULL after the wait, and the connection
 * given back later serves the next borrower. */
static void test_timeout_then_served(void **state)
{
    (void)state;
    dm_dbpool *p = NULL;
    assert_int_equal(dm_dbpool_create(g_url, 1, &p), DPF_OK);
    dpf_db *db = dm_dbpool_get(p, 1000);
    assert_non_null(db);
    int64_t t0 = dpf_mono_us();
    assert_null(dm_dbpool_get(p, 300));
    assert_true(dpf_mono_us() - t0 >= 250 * 1000);
    borrower w = {.pool = p, .wait_ms = 10000};
    start(&w);
    usleep(100 * 1000);
    dm_dbpool_put(p, db);
    pthread_join(w.t, NULL);
    assert_int_equal(w.got, 1);
    assert_true(w.waited_us < 5 * 1000000LL);
    dm_dbpool_destroy(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_borrowers_few_connections),
        cmocka_unit_test(test_long_holders_leave_room_for_short_jobs),
        cmocka_unit_test(test_timeout_then_served),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

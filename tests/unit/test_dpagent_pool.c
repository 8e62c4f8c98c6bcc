/* pool.c: jobs of one lane (host) run one at a time and in order; jobs of
 * another lane are not held up by a slow one; destroying the pool drops
 * what has not started. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <dpf/util.h>
#include "pool.h"

typedef struct lane_state {
    atomic_int running;
    atomic_int max_running;
    atomic_int done;
    int order[16];
    atomic_int norder;
} lane_state;

typedef struct job_arg {
    lane_state *ls;
    int id;
    int sleep_ms;
    int64_t finished_us;
} job_arg;

static atomic_int g_dropped;

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void run(void *p)
{
    job_arg *a = p;
    int now = atomic_fetch_add(&a->ls->running, 1) + 1;
    int prev = atomic_load(&a->ls->max_running);
    while (now > prev && !atomic_compare_exchange_weak(&a->ls->max_running, &prev, now))
        ;
    sleep_ms(a->sleep_ms);
    a->ls->order[atomic_fetch_add(&a->ls->norder, 1)] = a->id;
    atomic_fetch_sub(&a->ls->running, 1);
    a->finished_us = dpf_mono_us();
    atomic_fetch_add(&a->ls->done, 1);
}

static void drop(void *p)
{
    (void)p;
    atomic_fetch_add(&g_dropped, 1);
}

static void wait_done(lane_state *ls, int n)
{
    for (int i = 0; i < 500 && atomic_load(&ls->done) < n; i++)
        sleep_ms(10);
    assert_int_equal(atomic_load(&ls->done), n);
}

static void one_lane_serial_others_free(void **state)
{
    (void)state;
    dpa_pool *pool = NULL;
    dpa_lane *slow = NULL, *fast = NULL;
    assert_int_equal(dpa_pool_create(4, &pool), DPF_OK);
    assert_int_equal(dpa_pool_lane(pool, &slow), DPF_OK);
    assert_int_equal(dpa_pool_lane(pool, &fast), DPF_OK);

    lane_state s = {0}, f = {0};
    job_arg sa[3], fa = {&f, 0, 0, 0};
    int64_t t0 = dpf_mono_us();
    for (int i = 0; i < 3; i++) {
        sa[i] = (job_arg){&s, i, 150, 0};
        assert_int_equal(dpa_pool_submit(pool, slow, run, drop, &sa[i]), DPF_OK);
    }
    assert_int_equal(dpa_pool_submit(pool, fast, run, drop, &fa), DPF_OK);
    wait_done(&f, 1);
    wait_done(&s, 3);

    /* the fast lane finished long before the slow lane's first job */
    assert_true(fa.finished_us - t0 < 100000);
    /* the slow lane ran one at a time, in order, so it took 3 x 150 ms */
    assert_int_equal(atomic_load(&s.max_running), 1);
    assert_true(sa[2].finished_us - t0 >= 440000);
    for (int i = 0; i < 3; i++)
        assert_int_equal(s.order[i], i);
    dpa_pool_destroy(pool);
}

static void lanes_run_in_parallel(void **state)
{
    (void)state;
    dpa_pool *pool = NULL;
    dpa_lane *lanes[3];
    assert_int_equal(dpa_pool_create(3, &pool), DPF_OK);
    lane_state ls[3] = {{0}};
    job_arg args[3];
    int64_t t0 = dpf_mono_us();
    for (int i = 0; i < 3; i++) {
        assert_int_equal(dpa_pool_lane(pool, &lanes[i]), DPF_OK);
        args[i] = (job_arg){&ls[i], i, 200, 0};
        assert_int_equal(dpa_pool_submit(pool, lanes[i], run, drop, &args[i]), DPF_OK);
    }
    for (int i = 0; i < 3; i++)
        wait_done(&ls[i], 1);
    for (int i = 0; i < 3; i++)
        assert_true(args[i].finished_us - t0 < 390000); /* not 600 ms: in parallel */
    dpa_pool_destroy(pool);
}

static void destroy_drops_queued(void **state)
{
    (void)state;
    dpa_pool *pool = NULL;
    dpa_lane *lane = NULL;
    assert_int_equal(dpa_pool_create(1, &pool), DPF_OK);
    assert_int_equal(dpa_pool_lane(pool, &lane), DPF_OK);
    lane_state s = {0};
    job_arg a[4];
    atomic_store(&g_dropped, 0);
    for (int i = 0; i < 4; i++) {
        a[i] = (job_arg){&s, i, 100, 0};
        assert_int_equal(dpa_pool_submit(pool, lane, run, drop, &a[i]), DPF_OK);
    }
    sleep_ms(30); /* the first job is running */
    dpa_pool_destroy(pool);
    assert_int_equal(atomic_load(&s.done), 1);
    assert_int_equal(atomic_load(&g_dropped), 3);
    dpa_pool_destroy(NULL);
    assert_int_equal(dpa_pool_create(0, &pool), DPF_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_lane_serial_others_free),
        cmocka_unit_test(lanes_run_in_parallel),
        cmocka_unit_test(destroy_drops_queued),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

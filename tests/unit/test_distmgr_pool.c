/* distmgr worker_pool: never more than the limit busy at once (with fake
 * jobs that hold their worker), the "Used k" count and the peak, waiting and
 * timing out when all are busy, worker reuse, per-worker state, idle exit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "worker_pool.h"

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static int g_running, g_max_running, g_done, g_gate_open, g_states_freed;

static void reset(void)
{
    g_running = g_max_running = g_done = g_states_freed = 0;
    g_gate_open = 1;
}

/* A fake install: counts itself in while it holds its worker. */
static void fake_job(void *job, void **wstate)
{
    int ms = *(int *)job;
    free(job);
    if (*wstate == NULL)
        *wstate = calloc(1, sizeof(int));
    (*(int *)*wstate)++;
    pthread_mutex_lock(&g_mu);
    g_running++;
    if (g_running > g_max_running)
        g_max_running = g_running;
    while (!g_gate_open)
        pthread_cond_wait(&g_cv, &g_mu);
    pthread_mutex_unlock(&g_mu);
    usleep((useconds_t)ms * 1000);
    pthread_mutex_lock(&g_mu);
    g_running--;
    g_done++;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
}

static void free_state(void *s)
{
    pthread_mutex_lock(&g_mu);
    g_states_freed++;
    pthread_mutex_unlock(&g_mu);
    free(s);
}

static int *ms(int v)
{
    int *p = malloc(sizeof *p);
    *p = v;
    return p;
}

static void wait_done(int n)
{
    pthread_mutex_lock(&g_mu);
    while (g_done < n)
        pthread_cond_wait(&g_cv, &g_mu);
    pthread_mutex_unlock(&g_mu);
}

static void test_never_more_than_limit(void **state)
{
    reset();
    dm_pool *p = NULL;
    assert_int_equal(dm_pool_create(3, 10000, free_state, &p), DPF_OK);
    int peaks = 0;
    for (int i = 0; i < 12; i++) {
        dm_pool_assign a = {0, 0, 0};
        assert_int_equal(dm_pool_submit(p, fake_job, ms(30), 5000, NULL, NULL, &a), DPF_OK);
        assert_true(a.tid != 0);
        assert_in_range(a.used, 1, 3);
        peaks += a.new_peak;
    }
    wait_done(12);
    assert_int_equal(g_max_running, 3); /* reached the limit, never passed it */
    dm_pool_stats s;
    dm_pool_get_stats(p, &s);
    assert_int_equal(s.limit, 3);
    assert_int_equal(s.peak, 3);
    assert_int_equal(s.jobs, 12);
    assert_int_equal(peaks, 3); /* raised to 1, 2, then 3 */
    assert_in_range(s.threads, 1, 3);
    dm_pool_destroy(p);
    /* each worker freed its own state once */
    assert_in_range(g_states_freed, 1, 3);
}

static void test_busy_when_all_taken(void **state)
{
    reset();
    g_gate_open = 0;
    dm_pool *p = NULL;
    assert_int_equal(dm_pool_create(2, 10000, free_state, &p), DPF_OK);
    dm_pool_assign a1, a2, a3;
    assert_int_equal(dm_pool_submit(p, fake_job, ms(0), 0, NULL, NULL, &a1), DPF_OK);
    assert_int_equal(a1.used, 1);
    assert_int_equal(dm_pool_submit(p, fake_job, ms(0), 0, NULL, NULL, &a2), DPF_OK);
    assert_int_equal(a2.used, 2);
    assert_true(a1.tid != a2.tid);

    int *job = ms(0);
    assert_int_equal(dm_pool_submit(p, fake_job, job, 0, NULL, NULL, &a3), DPF_ERR_BUSY);
    assert_int_equal(dm_pool_submit(p, fake_job, job, 50, NULL, NULL, &a3), DPF_ERR_BUSY);
    dm_pool_stats s;
    dm_pool_get_stats(p, &s);
    assert_int_equal(s.busy, 2);

    pthread_mutex_lock(&g_mu);
    g_gate_open = 1;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
    /* a freed worker takes it, and it is one of the two (reused) */
    assert_int_equal(dm_pool_submit(p, fake_job, job, 5000, NULL, NULL, &a3), DPF_OK);
    assert_true(a3.tid == a1.tid || a3.tid == a2.tid);
    wait_done(3);
    dm_pool_get_stats(p, &s);
    assert_int_equal(s.threads, 2);
    assert_int_equal(s.peak, 2);
    dm_pool_destroy(p);
    assert_int_equal(g_states_freed, 2);
}

static void test_idle_workers_leave(void **state)
{
    reset();
    dm_pool *p = NULL;
    assert_int_equal(dm_pool_create(4, 50, free_state, &p), DPF_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(dm_pool_submit(p, fake_job, ms(20), 5000, NULL, NULL, NULL), DPF_OK);
    wait_done(4);
    usleep(400 * 1000);
    dm_pool_stats s;
    dm_pool_get_stats(p, &s);
    assert_int_equal(s.threads, 0);
    assert_int_equal(s.busy, 0);
    pthread_mutex_lock(&g_mu);
    int freed = g_states_freed;
    pthread_mutex_unlock(&g_mu);
    assert_int_equal(freed, 4);
    /* and the pool still works afterwards */
    assert_int_equal(dm_pool_submit(p, fake_job, ms(0), 5000, NULL, NULL, NULL), DPF_OK);
    wait_done(5);
    dm_pool_destroy(p);
    assert_int_equal(g_states_freed, 5);
}

/* The announcement runs before the job starts, on the submitting thread. */
static int g_announced, g_started_before_announce;

static void mark_started(void *job, void **wstate)
{
    pthread_mutex_lock(&g_mu);
    if (!g_announced)
        g_started_before_announce = 1;
    g_done++;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
}

static void note_announce(void *arg, const dm_pool_assign *a)
{
    usleep(20 * 1000); /* a worker that did not wait would start meanwhile */
    pthread_mutex_lock(&g_mu);
    g_announced = 1;
    *(uint64_t *)arg = a->tid;
    pthread_mutex_unlock(&g_mu);
}

static void test_announce_before_start(void **state)
{
    reset();
    dm_pool *p = NULL;
    assert_int_equal(dm_pool_create(2, 10000, NULL, &p), DPF_OK);
    for (int round = 0; round < 3; round++) { /* new worker, then reused ones */
        g_announced = 0;
        uint64_t tid = 0;
        dm_pool_assign a;
        assert_int_equal(dm_pool_submit(p, mark_started, NULL, 1000, note_announce, &tid, &a),
                         DPF_OK);
        wait_done(round + 1);
        assert_false(g_started_before_announce);
        assert_true(tid != 0 && tid == a.tid);
    }
    dm_pool_destroy(p);
}

static void test_bad_arguments(void **state)
{
    dm_pool *p = NULL;
    assert_int_equal(dm_pool_create(0, 100, NULL, &p), DPF_ERR_INVALID);
    assert_null(p);
    assert_int_equal(dm_pool_create(1, 0, NULL, &p), DPF_ERR_INVALID);
    assert_int_equal(dm_pool_submit(NULL, fake_job, NULL, 0, NULL, NULL, NULL), DPF_ERR_INVALID);
    dm_pool_destroy(NULL);
    dm_pool_kick(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_never_more_than_limit),
        cmocka_unit_test(test_busy_when_all_taken),
        cmocka_unit_test(test_idle_workers_leave),
        cmocka_unit_test(test_announce_before_start),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

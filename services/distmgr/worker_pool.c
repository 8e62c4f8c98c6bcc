/* The bounded worker pool behind the DP upgrade processing thread. The
 * source starts "a thread from the DP upgrade processing thread pool" for
 * each DP and reports "Used k threads out of 50"; this pool keeps that
 * count exact (busy is changed only under the pool lock, when a job is
 * handed over and when it returns) and never lets it pass the limit.
 *
 * Each worker sleeps on its own condition variable, so handing a job to a
 * particular worker wakes only that one, and the submitter learns the
 * worker's kernel thread id before it logs the hand-over. */
#include "worker_pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include <dpf/log.h>

typedef struct worker {
    struct worker *next;
    dm_pool *pool;
    pthread_t thread;
    pthread_cond_t cv;
    uint64_t tid;           /* 0 until the thread has started */
    dm_pool_job_fn fn;      /* non-NULL while a job is assigned */
    void *job;
    void *state;
    int busy;
    int dead;               /* left the loop; to be joined */
} worker;

struct dm_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv_free; /* a worker became free, or a thread started */
    worker *workers;
    dm_pool_state_free_fn state_free;
    int limit;
    int idle_ms;
    int busy;
    int peak;
    int live;
    int stopping;
    long long jobs;
};

static void deadline_in(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    dm_pool *p = w->pool;

    pthread_mutex_lock(&p->mu);
    w->tid = dpf_log_tid();
    pthread_cond_broadcast(&p->cv_free);
    for (;;) {
        while (w->fn == NULL && !p->stopping) {
            struct timespec ts;
            deadline_in(&ts, p->idle_ms);
            if (pthread_cond_timedwait(&w->cv, &p->mu, &ts) == ETIMEDOUT && w->fn == NULL)
                break;
        }
        if (w->fn == NULL)
            break; /* idle too long, or the pool is stopping */
        dm_pool_job_fn fn = w->fn;
        void *job = w->job;
        pthread_mutex_unlock(&p->mu);

        fn(job, &w->state);
        dpf_log_set_corr(NULL);
        dpf_log_set_dpid(0);

        pthread_mutex_lock(&p->mu);
        w->fn = NULL;
        w->job = NULL;
        w->busy = 0;
        p->busy--;
        pthread_cond_broadcast(&p->cv_free);
    }
    w->dead = 1;
    p->live--;
    pthread_cond_broadcast(&p->cv_free);
    pthread_mutex_unlock(&p->mu);

    /* the state (a database connection) is closed outside the lock */
    if (w->state != NULL && p->state_free != NULL)
        p->state_free(w->state);
    w->state = NULL;
    return NULL;
}

/* Joins and frees workers that left. Called with the lock held; the join
 * cannot block for long because a dead worker has only its return left. */
static void reap(dm_pool *p)
{
    worker **pp = &p->workers;
    while (*pp != NULL) {
        worker *w = *pp;
        if (w->dead) {
            *pp = w->next;
            pthread_mutex_unlock(&p->mu);
            pthread_join(w->thread, NULL);
            pthread_mutex_lock(&p->mu);
            pthread_cond_destroy(&w->cv);
            free(w);
        } else {
            pp = &w->next;
        }
    }
}

dpf_status dm_pool_create(int limit, int idle_ms, dm_pool_state_free_fn state_free,
                          dm_pool **out)
{
    if (limit < 1 || idle_ms < 1 || out == NULL)
        return DPF_ERR_INVALID;
    dm_pool *p = calloc(1, sizeof *p);
    if (p == NULL)
        return DPF_ERR_NOMEM;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_free, NULL);
    p->limit = limit;
    p->idle_ms = idle_ms;
    p->state_free = state_free;
    *out = p;
    return DPF_OK;
}

void dm_pool_destroy(dm_pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    while (p->busy > 0)
        pthread_cond_wait(&p->cv_free, &p->mu);
    p->stopping = 1;
    for (worker *w = p->workers; w != NULL; w = w->next)
        pthread_cond_signal(&w->cv);
    while (p->live > 0)
        pthread_cond_wait(&p->cv_free, &p->mu);
    reap(p);
    pthread_mutex_unlock(&p->mu);
    pthread_cond_destroy(&p->cv_free);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

/* A new, idle worker. Lock held. The worker gets its job like a reused
 * one, after the announcement, so it cannot start before it. */
static dpf_status spawn(dm_pool *p, worker **out)
{
    worker *w = calloc(1, sizeof *w);
    if (w == NULL)
        return DPF_ERR_NOMEM;
    w->pool = p;
    pthread_cond_init(&w->cv, NULL);
    w->busy = 1; /* reserved for the caller's job */
    /* The default stack (8 MiB of address space, a few tens of KiB used)
     * on purpose: glibc keeps up to 40 MiB of exited threads' stacks for
     * reuse, with their top pages (descriptor, TLS) still resident. With
     * 512 KiB stacks that cache held 72 stacks, 20 MB, after idle workers
     * left (bench/scale 1000); with 8 MiB stacks it holds 5. */
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        pthread_cond_destroy(&w->cv);
        free(w);
        return DPF_ERR_IO;
    }
    w->next = p->workers;
    p->workers = w;
    p->live++;
    while (w->tid == 0)
        pthread_cond_wait(&p->cv_free, &p->mu);
    *out = w;
    return DPF_OK;
}

dpf_status dm_pool_submit(dm_pool *p, dm_pool_job_fn fn, void *job, int timeout_ms,
                          dm_pool_announce_fn announce, void *arg, dm_pool_assign *out)
{
    if (p == NULL || fn == NULL)
        return DPF_ERR_INVALID;
    struct timespec deadline;
    deadline_in(&deadline, timeout_ms > 0 ? timeout_ms : 0);

    pthread_mutex_lock(&p->mu);
    reap(p);
    while (p->busy >= p->limit && !p->stopping) {
        if (timeout_ms <= 0 ||
            pthread_cond_timedwait(&p->cv_free, &p->mu, &deadline) == ETIMEDOUT) {
            if (p->busy >= p->limit)
                break;
        }
    }
    if (p->busy >= p->limit || p->stopping) {
        pthread_mutex_unlock(&p->mu);
        return DPF_ERR_BUSY;
    }

    worker *w = NULL;
    for (worker *c = p->workers; c != NULL; c = c->next) {
        if (!c->busy && !c->dead && c->tid != 0) {
            w = c;
            break;
        }
    }
    if (w == NULL) {
        dpf_status st = spawn(p, &w);
        if (st != DPF_OK) {
            pthread_mutex_unlock(&p->mu);
            return st;
        }
    }
    w->busy = 1;
    p->busy++;
    p->jobs++;
    dm_pool_assign a = {w->tid, p->busy, 0};
    if (p->busy > p->peak) {
        p->peak = p->busy;
        a.new_peak = 1;
    }
    if (announce != NULL)
        announce(arg, &a);
    w->fn = fn;
    w->job = job;
    pthread_cond_signal(&w->cv);
    if (out != NULL)
        *out = a;
    pthread_mutex_unlock(&p->mu);
    return DPF_OK;
}

void dm_pool_kick(dm_pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cv_free);
    pthread_mutex_unlock(&p->mu);
}

void dm_pool_get_stats(dm_pool *p, dm_pool_stats *out)
{
    pthread_mutex_lock(&p->mu);
    out->limit = p->limit;
    out->busy = p->busy;
    out->peak = p->peak;
    out->threads = p->live;
    out->jobs = p->jobs;
    pthread_mutex_unlock(&p->mu);
}

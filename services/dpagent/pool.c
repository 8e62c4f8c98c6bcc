/* Worker pool with one lane per host. A lane is "ready" when it has queued
 * jobs and none of them is running; workers take ready lanes in FIFO order,
 * run one job, and put the lane back at the end if it has more. This gives
 * per-host serialization (the source's one DP provider per server) without
 * a per-host thread, and without workers blocking on a busy host's lock. */
#include "pool.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct job {
    dpa_job_fn run, drop;
    void *arg;
    struct job *next;
} job;

struct dpa_lane {
    job *head, *tail;
    int running;   /* a worker is running one of its jobs */
    int ready;     /* on the pool's ready list */
    struct dpa_lane *next_ready;
    struct dpa_lane *next_all;
};

struct dpa_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    dpa_lane *ready_head, *ready_tail;
    dpa_lane *lanes;
    int stopping;
    int nthreads;
    pthread_t *threads;
};

static void make_ready(dpa_pool *p, dpa_lane *l)
{
    if (l->ready || l->running || l->head == NULL)
        return;
    l->ready = 1;
    l->next_ready = NULL;
    if (p->ready_tail)
        p->ready_tail->next_ready = l;
    else
        p->ready_head = l;
    p->ready_tail = l;
    pthread_cond_signal(&p->cv);
}

static void *worker(void *arg)
{
    dpa_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stopping && p->ready_head == NULL)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->stopping)
            break;
        dpa_lane *l = p->ready_head;
        p->ready_head = l->next_ready;
        if (p->ready_head == NULL)
            p->ready_tail = NULL;
        l->ready = 0;
        job *j = l->head;
        l->head = j->next;
        if (l->head == NULL)
            l->tail = NULL;
        l->running = 1;
        pthread_mutex_unlock(&p->mu);

        j->run(j->arg);
        free(j);

        pthread_mutex_lock(&p->mu);
        l->running = 0;
        make_ready(p, l);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

dpf_status dpa_pool_create(int workers, dpa_pool **out)
{
    *out = NULL;
    if (workers < 1)
        return DPF_ERR_INVALID;
    dpa_pool *p = calloc(1, sizeof *p);
    if (p == NULL)
        return DPF_ERR_NOMEM;
    p->threads = calloc((size_t)workers, sizeof *p->threads);
    if (p->threads == NULL) {
        free(p);
        return DPF_ERR_NOMEM;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    for (int i = 0; i < workers; i++) {
        if (pthread_create(&p->threads[i], NULL, worker, p) != 0)
            break;
        p->nthreads++;
    }
    if (p->nthreads == 0) {
        dpa_pool_destroy(p);
        return DPF_ERR_NOMEM;
    }
    *out = p;
    return DPF_OK;
}

void dpa_pool_destroy(dpa_pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);

    dpa_lane *l = p->lanes;
    while (l != NULL) {
        dpa_lane *next = l->next_all;
        job *j = l->head;
        while (j != NULL) {
            job *jn = j->next;
            if (j->drop)
                j->drop(j->arg);
            free(j);
            j = jn;
        }
        free(l);
        l = next;
    }
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p->threads);
    free(p);
}

dpf_status dpa_pool_lane(dpa_pool *p, dpa_lane **out)
{
    dpa_lane *l = calloc(1, sizeof *l);
    if (l == NULL)
        return DPF_ERR_NOMEM;
    pthread_mutex_lock(&p->mu);
    l->next_all = p->lanes;
    p->lanes = l;
    pthread_mutex_unlock(&p->mu);
    *out = l;
    return DPF_OK;
}

dpf_status dpa_pool_submit(dpa_pool *p, dpa_lane *l, dpa_job_fn run, dpa_job_fn drop, void *arg)
{
    job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return DPF_ERR_NOMEM;
    j->run = run;
    j->drop = drop;
    j->arg = arg;
    pthread_mutex_lock(&p->mu);
    if (p->stopping) {
        pthread_mutex_unlock(&p->mu);
        free(j);
        return DPF_ERR_BUSY;
    }
    if (l->tail)
        l->tail->next = j;
    else
        l->head = j;
    l->tail = j;
    make_ready(p, l);
    pthread_mutex_unlock(&p->mu);
    return DPF_OK;
}

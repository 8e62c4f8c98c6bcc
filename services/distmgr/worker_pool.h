/* A pool of worker threads bounded by a limit (DPUpgradeThreadLimit).
 * Workers are created when needed, reused while busy work keeps coming, and
 * leave after an idle period, so a quiet distmgr holds no threads and no
 * database connections. Each worker keeps one opaque state pointer (its
 * database connection) across the jobs it runs. */
#ifndef DM_WORKER_POOL_H
#define DM_WORKER_POOL_H

#include <stdint.h>
#include <dpf/status.h>

typedef struct dm_pool dm_pool;

/* Runs on a worker thread. job: consumed (the function frees what it owns).
 * wstate: the worker's own slot, NULL on a new worker; the function may set
 * it, and the pool frees it with the state_free given at create when the
 * worker leaves. */
typedef void (*dm_pool_job_fn)(void *job, void **wstate);
typedef void (*dm_pool_state_free_fn)(void *wstate);

/* limit: 1..; idle_ms: how long an idle worker waits for work before it
 * leaves; state_free may be NULL. *out owned by the caller (dm_pool_destroy). */
dpf_status dm_pool_create(int limit, int idle_ms, dm_pool_state_free_fn state_free,
                          dm_pool **out) DPF_MUSTCHECK;

/* Waits until every running job has returned, then stops and joins every
 * worker and frees their states. NULL is a no-op. */
void dm_pool_destroy(dm_pool *p);

/* Who took a job: the worker's kernel thread id, the number of busy
 * workers including this one, and whether this raised the peak. */
typedef struct dm_pool_assign {
    uint64_t tid;
    int used;
    int new_peak;
} dm_pool_assign;

/* Called on the submitting thread once a worker is chosen and before it
 * starts the job, so what it logs comes first (the source's "Upgrading DP
 * with ID 32. Thread 0x12b4." precedes the worker's "~Processing 32.INS").
 * Runs with the pool lock held: it must not call the pool. */
typedef void (*dm_pool_announce_fn)(void *arg, const dm_pool_assign *a);

/* Hands job to a free worker, starting one if all are busy and fewer than
 * limit exist. Waits up to timeout_ms (0 = do not wait) for a worker to be
 * free. On DPF_OK the job is taken; announce (may be NULL) has run and *out
 * (may be NULL) says who took it. DPF_ERR_BUSY: none was free in time, the
 * job was not taken. DPF_ERR_NOMEM / DPF_ERR_IO: no thread could be
 * started. */
dpf_status dm_pool_submit(dm_pool *p, dm_pool_job_fn fn, void *job, int timeout_ms,
                          dm_pool_announce_fn announce, void *arg,
                          dm_pool_assign *out) DPF_MUSTCHECK;

/* Wakes submitters waiting for a worker without freeing a worker (used at
 * shutdown so a waiting submitter re-checks its stop flag). */
void dm_pool_kick(dm_pool *p);

typedef struct dm_pool_stats {
    int limit;
    int busy;     /* running a job now */
    int peak;     /* most busy at once since create */
    int threads;  /* live worker threads, busy or idle */
    long long jobs; /* jobs started since create */
} dm_pool_stats;

void dm_pool_get_stats(dm_pool *p, dm_pool_stats *out);

#endif

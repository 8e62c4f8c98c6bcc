/* The agent's worker pool. Requests for many hosts run concurrently, but the
 * steps of one host run one at a time, in arrival order: each host has a
 * lane (a FIFO of jobs), and a worker only takes a lane that is not already
 * running. So a long step (remove_shares of a big content library, or
 * --step-delay-ms) holds up only its own host, and no worker ever sits
 * blocked on another host's lock. */
#ifndef DPA_POOL_H
#define DPA_POOL_H

#include <dpf/status.h>

typedef struct dpa_pool dpa_pool;
typedef struct dpa_lane dpa_lane;

/* Runs arg's work; called on a worker thread. */
typedef void (*dpa_job_fn)(void *arg);

/* Starts workers threads. *out owned by the caller. */
dpf_status dpa_pool_create(int workers, dpa_pool **out) DPF_MUSTCHECK;

/* Waits for the jobs that are running, calls each queued job's drop
 * function instead of running it, joins the workers and frees the pool and
 * its lanes. NULL is a no-op. */
void dpa_pool_destroy(dpa_pool *pool);

/* A new lane; owned by the pool (freed by dpa_pool_destroy). */
dpf_status dpa_pool_lane(dpa_pool *pool, dpa_lane **out) DPF_MUSTCHECK;

/* Queues run(arg) on lane. drop(arg) is called instead if the pool is
 * destroyed before the job runs (may be NULL). arg is owned by the job.
 * DPF_ERR_BUSY once the pool is stopping. */
dpf_status dpa_pool_submit(dpa_pool *pool, dpa_lane *lane, dpa_job_fn run, dpa_job_fn drop,
                           void *arg) DPF_MUSTCHECK;

#endif

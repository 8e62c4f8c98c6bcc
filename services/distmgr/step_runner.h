/* Runs agent steps one after another for one DP whose lease the caller
 * holds. Before each step it stops if the service is stopping, tells
 * JetStream the message is still in progress and renews the lease, so a
 * long install or removal is neither redelivered nor taken over. Shared by
 * install_steps.c and remove_steps.c. */
#ifndef DM_STEP_RUNNER_H
#define DM_STEP_RUNNER_H

#include <stddef.h>
#include <dpf/db.h>

#include "agent_client.h"
#include "distmgr.h"
#include "store_dp.h"

typedef enum dm_steps_outcome {
    DM_STEPS_OK = 0,     /* every step replied ok */
    DM_STEPS_FAILED,     /* step failed with reason */
    DM_STEPS_STOPPING,   /* the service is stopping; step is the next one */
    DM_STEPS_LOST_LEASE, /* another job took the DP over; step is the next one */
    DM_STEPS_REMOVED,    /* the DP was marked for removal (Action = 3) while the run
                            had stop_if_removed set; step is the next one */
} dm_steps_outcome;

typedef struct dm_steps_result {
    dm_steps_outcome outcome;
    char step[32];               /* the failed or next step */
    char reason[2 * DM_ERR_MAX];
    char pull_dp_state[16];      /* install: to record on success, "Installed" or "" */
    char content_url[256];       /* the last non-empty content_url an agent reply gave */
    /* The timeline (dpf/trace.h): the last step's trace_events row, whose
     * end is written with the next step's start or, for the step that ends
     * the run, by dm_step_trace_end in the transaction of the DP state the
     * run's outcome moves. trace_id 0: nothing pending. */
    long long trace_id;
    int trace_failed;            /* the pending step failed (reason says why) */
    char trace_lines[4096];      /* its agent's reply lines, '\n'-separated */
} dm_steps_result;

/* One run over one DP. All borrowed; res is written. slot: the job's
 * connection slot (dm_item_db): a connection is borrowed for the work
 * between two steps and given back while the agent runs a step, so a job
 * holds one only while it uses it. The slot is empty after a step. */
typedef struct dm_step_run {
    const dm_ctx *ctx;
    dm_item *it;
    dpf_db **slot;
    const dm_dp_row *dp;
    dm_steps_result *res;
    int stop_if_removed;  /* an install: give way to the DP manager (0 after init) */
} dm_step_run;

/* Starts a run: res cleared, outcome OK. */
void dm_step_run_init(dm_step_run *r, const dm_ctx *ctx, dm_item *it, dpf_db **slot,
                      const dm_dp_row *dp, dm_steps_result *res);

/* Runs step name with params (comps for install_files, else NULL). 1 when
 * it replied ok; 0 when the run must end (res says why). */
int dm_step(dm_step_run *r, const char *name, const dm_agent_kv *params, size_t n,
            const dm_components *comps);

/* Writes the end of res's pending step (if any) on db, outside a
 * transaction: result ok or failed with res->reason and the agent's lines.
 * A failure is logged and returned; nothing pending is DPF_OK.
 * res->trace_id is 0 afterwards. */
dpf_status dm_step_trace_end(dpf_db *db, dm_steps_result *res);

/* The same inside the caller's open transaction (the one that records the
 * DP state the job moved), under a savepoint (dpf_trace_step_finish_tx): a
 * row that cannot be written never keeps the DP's state from being
 * recorded; only a broken connection is returned. */
dpf_status dm_step_trace_end_tx(dpf_db *db, dm_steps_result *res);

/* A 'waiting' row on the timeline for dp (the reader's "Waiting: <why>"):
 * its job (dm_step_job) has not started, or stopped, because of why. On
 * db, in the caller's transaction if one is open; best effort (logged).
 * All borrowed. */
void dm_step_trace_wait(dpf_db *db, const dm_item *it, const dm_dp_row *dp, const char *why);

/* A 'waiting' row on the timeline for the DP it->dpid names while it waits
 * for a free worker thread: thread names the processing thread ("DP
 * upgrade processing thread"), limit its thread limit, job "install"
 * (refined to "upgrade" from the DP's row), "remove" or "validate". On a
 * connection borrowed from ctx's pool for a moment; none free, or the DP
 * gone: nothing is written. Best effort (logged). All borrowed. */
void dm_step_trace_queued(const dm_ctx *ctx, const dm_item *it, const char *job,
                          const char *thread, int limit);

/* The job a run over dp is on the timeline: "remove" while the DP is
 * Removing, else "upgrade" when the host already had a DP installed, else
 * "install". dp borrowed. */
const char *dm_step_job(const dm_dp_row *dp);

#endif

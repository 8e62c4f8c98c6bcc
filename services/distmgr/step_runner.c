/* One agent step at a time, with what has to happen between two steps of a
 * long-running job: stop when asked, keep the JetStream message alive, renew
 * the lease. The result says which step ended the run and why, in the words
 * the status message and the log carry. */
#include "step_runner.h"

#include <stdio.h>
#include <string.h>

#include <dpf/log.h>
#include <dpf/trace.h>
#include <dpf/util.h>

#include "db_pool.h"
#include "item.h"

void dm_step_run_init(dm_step_run *r, const dm_ctx *ctx, dm_item *it, dpf_db **slot,
                      const dm_dp_row *dp, dm_steps_result *res)
{
    r->ctx = ctx;
    r->it = it;
    r->slot = slot;
    r->dp = dp;
    r->res = res;
    r->stop_if_removed = 0;
    memset(res, 0, sizeof *res);
    res->outcome = DM_STEPS_OK;
}

/* Between two steps: stop when asked, keep the message alive. 0 when the
 * run must end. */
static int between_steps(dm_step_run *r, const char *next)
{
    if (dpf_stopping()) {
        r->res->outcome = DM_STEPS_STOPPING;
        snprintf(r->res->step, sizeof r->res->step, "%s", next);
        return 0;
    }
    if (r->it->msg != NULL && dpf_bus_msg_in_progress(r->it->msg) != DPF_OK)
        DPF_DEBUG("DPID %lld: could not tell JetStream the work is in progress", r->dp->dpid);
    return 1;
}

static int end_run(dm_step_run *r, dm_steps_outcome outcome, const char *next)
{
    r->res->outcome = outcome;
    snprintf(r->res->step, sizeof r->res->step, "%s", next);
    return 0;
}
static dpf_status trace_end(dpf_db *db, dm_steps_result *res, int in_tx)
{
    if (res->trace_id <= 0)
        return DPF_OK;
    long long id = res->trace_id;
    res->trace_id = 0;
    const char *result = res->trace_failed ? DPF_TRACE_FAILED : DPF_TRACE_OK;
    const char *msg = res->trace_failed ? res->reason : NULL;
    dpf_status st = in_tx ? dpf_trace_step_finish_tx(db, id, result, msg, res->trace_lines)
                          : dpf_trace_step_finish(db, id, result, msg, res->trace_lines);
    if (st != DPF_OK)
        DPF_WARN("could not record the end of step %s on the timeline (row %lld): %s",
                 res->step[0] != '\0' ? res->step : "(last)", id,
                 db != NULL ? dpf_db_error(db) : dpf_status_text(st));
    return st;
}

dpf_status dm_step_trace_end(dpf_db *db, dm_steps_result *res)
{
    return trace_end(db, res, 0);
}

dpf_status dm_step_trace_end_tx(dpf_db *db, dm_steps_result *res)
{
    return trace_end(db, res, 1);
}

const char *dm_step_job(const dm_dp_row *dp)
{
    if (dp->state == DM_ST_REMOVING)
        return "remove";
    int had = (dp->installed_crc != NULL && dp->installed_crc[0] != '\0') ||
              (dp->installed_version != NULL && dp->installed_version[0] != '\0');
    return had ? "upgrade" : "install";
}

void dm_step_trace_wait(dpf_db *db, const dm_item *it, const dm_dp_row *dp, const char *why)
{
    if (db == NULL || it == NULL || dp == NULL)
        return;
    dpf_trace_who who = {.corr = it->corr, .component = DPF_TRACE_DISTMGR, .dpid = dp->dpid,
                         .server = dp->server_name, .job = dm_step_job(dp),
                         .job_id = it->token};
    if (dpf_trace_event(db, &who, "wait", DPF_TRACE_WAITING, why) != DPF_OK)
        DPF_WARN("DPID %lld: could not record on the timeline that it waits: %s", dp->dpid,
                 dpf_db_error(db));
}

/* Written from the DP's row: the processing thread knows only its DPID. */
static const char SQL_QUEUED[] =
    "INSERT INTO trace_events (correlation_id, at, ended_at, component, dpid, server_name, "
    " job, job_id, step, replica, tid, result, message) "
    "SELECT $1, c.t, c.t, 'DistMgr', d.dpid, d.server_name, "
    " CASE WHEN $3 = 'install' AND (d.installed_crc <> '' OR d.installed_version <> '') "
    "      THEN 'upgrade' ELSE $3 END, '', 'wait', $4, $5::bigint, 'waiting', $6 "
    "FROM distribution_points d CROSS JOIN (SELECT clock_timestamp() AS t) c "
    "WHERE d.dpid = $2::bigint";

void dm_step_trace_queued(const dm_ctx *ctx, const dm_item *it, const char *job,
                          const char *thread, int limit)
{
    if (ctx == NULL || ctx->dbpool == NULL || it == NULL || it->dpid <= 0 || job == NULL)
        return;
    /* a moment only: the dispatcher must not wait on the database */
    dpf_db *db = dm_dbpool_get(ctx->dbpool, 200);
    if (db == NULL)
        return;
    char dpid[24], tid[24], why[256];
    snprintf(dpid, sizeof dpid, "%lld", it->dpid);
    snprintf(tid, sizeof tid, "%llu", (unsigned long long)dpf_log_tid());
    snprintf(why, sizeof why, "all %d threads of the %s are busy; the DP waits for a free "
             "thread", limit, thread != NULL ? thread : "processing thread");
    const char *p[] = {it->corr, dpid, job, dpf_trace_replica(), tid, why};
    if (dpf_db_exec(db, SQL_QUEUED, 6, p, NULL) != DPF_OK)
        DPF_WARN("DPID %lld: could not record on the timeline that it waits for a thread: %s",
                 it->dpid, dpf_db_error(db));
    dm_dbpool_put(ctx->dbpool, db);
}

/* Before a step, one statement: the DP's lease renewed (how the job
 * learns that it lost the lease or that the DP is being removed), the
 * previous step's end and this step's start on the timeline. When the
 * timeline cannot be written the lease is renewed by itself: a broken
 * timeline is logged and never costs a DP its job. 0 when the run must
 * end. */
static int step_begin(dm_step_run *r, const char *name)
{
    dpf_db *db = dm_item_db(r->ctx, r->slot);
    dpf_trace_who who = {.corr = r->it->corr, .component = DPF_TRACE_DISTMGR,
                         .dpid = r->dp->dpid, .server = r->dp->server_name, .job = dm_step_job(r->dp),
                         .job_id = r->it->token};
    dm_steps_result *res = r->res;
    long long prev = res->trace_id, id = 0;
    int action = 0;
    dpf_status st = DPF_ERR_DB;
    if (db != NULL)
        st = dpf_trace_step_next_leased(db, prev, res->trace_failed ? DPF_TRACE_FAILED : DPF_TRACE_OK,
                                        res->trace_failed ? res->reason : NULL, res->trace_lines,
                                        &who, name, r->it->token, r->ctx->lease_s, &id, &action);
    res->trace_id = id;
    res->trace_failed = 0;
    res->trace_lines[0] = '\0';
    if (st != DPF_OK && st != DPF_ERR_NOT_FOUND && db != NULL) {
        DPF_WARN("DPID %lld: could not record step %s on the timeline: %s", r->dp->dpid, name,
                 dpf_db_error(db));
        st = dm_store_dp_renew(db, r->dp->dpid, r->it->token, r->ctx->lease_s, &action);
    }
    if (st == DPF_ERR_NOT_FOUND)
        return end_run(r, DM_STEPS_LOST_LEASE, name);
    if (st == DPF_OK && action == 3 && r->stop_if_removed)
        return end_run(r, DM_STEPS_REMOVED, name);
    if (st != DPF_OK) {
        /* the lease still runs for lease_s; going on is safe, and the final
         * update fails cleanly if the database stays away */
        DPF_WARN("DPID %lld: could not renew the lease before %s: %s", r->dp->dpid, name,
                 db != NULL ? dpf_db_error(db) : "no database connection");
    }
    return 1;
}

int dm_step(dm_step_run *r, const char *name, const dm_agent_kv *params, size_t n,
            const dm_components *comps)
{
    if (!between_steps(r, name) || !step_begin(r, name))
        return 0;
    /* the agent may take seconds: the connection serves other jobs meanwhile */
    dm_item_db_put(r->ctx, r->slot);
    dm_agent_result ar;
    dpf_status st = dm_agent_run(r->ctx->bus, r->dp, name, params, n, comps,
                                 r->ctx->step_timeout_s, &ar, r->res->reason,
                                 sizeof r->res->reason);
    if (ar.content_url[0] != '\0')
        snprintf(r->res->content_url, sizeof r->res->content_url, "%s", ar.content_url);
    snprintf(r->res->trace_lines, sizeof r->res->trace_lines, "%s", ar.log);
    if (st == DPF_OK)
        return 1;
    r->res->trace_failed = 1;
    r->res->outcome = DM_STEPS_FAILED;
    snprintf(r->res->step, sizeof r->res->step, "%s", name);
    return 0;
}

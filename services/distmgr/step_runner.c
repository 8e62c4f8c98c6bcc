/* One agent step at a time, with what has to happen between two steps of a
 * long-running job: stop when asked, keep the JetStream message alive, renew
 * the lease. The result says which step ended the run and why, in the words
 * the status message and the log carry. */
#include "step_runner.h"

#include <stdio.h>
#include <string.h>

#include <dpf/log.h>
#include <dpf/util.h>

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

/* Between two steps: stop, keep alive, renew. 0 when the run must end. */
static int between_steps(dm_step_run *r, const char *next)
{
    if (dpf_stopping()) {
        r->res->outcome = DM_STEPS_STOPPING;
        snprintf(r->res->step, sizeof r->res->step, "%s", next);
        return 0;
    }
    if (r->it->msg != NULL && dpf_bus_msg_in_progress(r->it->msg) != DPF_OK)
        DPF_DEBUG("DPID %lld: could not tell JetStream the work is in progress", r->dp->dpid);
    int action = 0;
    dpf_db *db = dm_item_db(r->ctx, r->slot);
    dpf_status st = db != NULL ? dm_store_dp_renew(db, r->dp->dpid, r->it->token,
                                                   r->ctx->lease_s, &action)
                               : DPF_ERR_DB;
    if (st == DPF_ERR_NOT_FOUND) {
        r->res->outcome = DM_STEPS_LOST_LEASE;
        snprintf(r->res->step, sizeof r->res->step, "%s", next);
        return 0;
    }
    if (st == DPF_OK && action == 3 && r->stop_if_removed) {
        r->res->outcome = DM_STEPS_REMOVED;
        snprintf(r->res->step, sizeof r->res->step, "%s", next);
        return 0;
    }
    if (st != DPF_OK) {
        /* the lease still runs for lease_s; going on is safe, and the final
         * update fails cleanly if the database stays away */
        DPF_WARN("DPID %lld: could not renew the lease before %s: %s", r->dp->dpid, next,
                 db != NULL ? dpf_db_error(db) : "no database connection");
    }
    return 1;
}

int dm_step(dm_step_run *r, const char *name, const dm_agent_kv *params, size_t n,
            const dm_components *comps)
{
    if (!between_steps(r, name))
        return 0;
    /* the agent may take seconds: the connection serves other jobs meanwhile */
    dm_item_db_put(r->ctx, r->slot);
    dm_agent_result ar;
    dpf_status st = dm_agent_run(r->ctx->bus, r->dp, name, params, n, comps,
                                 r->ctx->step_timeout_s, &ar, r->res->reason,
                                 sizeof r->res->reason);
    if (ar.content_url[0] != '\0')
        snprintf(r->res->content_url, sizeof r->res->content_url, "%s", ar.content_url);
    if (st == DPF_OK)
        return 1;
    r->res->outcome = DM_STEPS_FAILED;
    snprintf(r->res->step, sizeof r->res->step, "%s", name);
    return 0;
}

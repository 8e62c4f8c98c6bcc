/* One reconcile pass. The database is the truth and events are only
 * wake-ups, so this pass is what makes a lost event, a crash in the middle
 * of an install or a new component version heal without an administrator.
 * Several replicas may run it at once: the upgrade thread skips DPs it
 * already has, and the lease keeps two replicas off one DP. */
#include "reconcile.h"

#include <stdio.h>
#include <string.h>

#include <dpf/agent.h>
#include <dpf/log.h>
#include <dpf/util.h>

#include "store_dp.h"

#define RECONCILE_BATCH 1000

int dm_reconcile_run(const dm_ctx *ctx, dpf_db *db, dm_upgrade *up)
{
    static long long ids[RECONCILE_BATCH];
    int n = 0;
    char corr[37];
    dpf_uuid(corr);
    dpf_log_set_corr(corr);
    if (dpf_db_ensure(db) != DPF_OK ||
        dm_store_dp_needing_work(db, ctx->retry_delay_s, DPF_COMPONENT_VERSION, ids,
                                 RECONCILE_BATCH, &n) != DPF_OK) {
        DPF_ERROR("Reconcile: cannot read DistributionPoints: %s; will try again in %d s",
                  dpf_db_error(db), ctx->reconcile_s);
        dpf_log_set_corr(NULL);
        return -1;
    }
    int queued = 0;
    char list[256] = "";
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        if (!dm_upgrade_push_dpid(up, ids[i], "reconcile", corr))
            continue;
        queued++;
        if (used + 24 < sizeof list) {
            int w = snprintf(list + used, sizeof list - used, "%s%lld", used ? ", " : "", ids[i]);
            if (w > 0)
                used += (size_t)w;
        }
    }
    if (queued > 0)
        DPF_INFO("Reconcile: %d DPs need installing or upgrading without a pending event, "
                 "queued them (DPID %s%s)", queued, list, used + 24 >= sizeof list ? ", ..." : "");
    else
        DPF_DEBUG("Reconcile: every DP is in the state its row asks for (%d already queued)", n);
    dpf_log_set_corr(NULL);
    return queued;
}

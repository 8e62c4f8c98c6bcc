/* One reconcile pass. The database is the truth and events are only
 * wake-ups, so this pass is what makes a lost event, a crash in the middle
 * of an install or removal, or a new component version heal without an
 * administrator. Several replicas may run it at once: a processing thread
 * skips DPs it already has, and the lease keeps two replicas off one DP. */
#include "reconcile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dpf/agent.h>
#include <dpf/log.h>
#include <dpf/util.h>

#include "store_dp.h"

#define RECONCILE_BATCH 1000

/* Queues ids on p; logs which. Returns how many were new to p. */
static int queue(dm_proc *p, const long long *ids, int n, const char *what, const char *corr)
{
    int queued = 0;
    char list[256] = "";
    size_t used = 0;
    int cut = 0;
    for (int i = 0; i < n; i++) {
        if (!dm_proc_push_dpid(p, ids[i], "reconcile", corr))
            continue;
        queued++;
        int w = snprintf(list + used, sizeof list - used, "%s%lld", used ? ", " : "", ids[i]);
        if (w < 0 || (size_t)w >= sizeof list - used)
            cut = 1;
        else if (!cut)
            used += (size_t)w;
    }
    list[used] = '\0';
    if (queued > 0)
        DPF_INFO("Reconcile: %d DPs need %s without a pending event, queued them (DPID %s%s)",
                 queued, what, list, cut ? ", ..." : "");
    return queued;
}

/* "1, 2, 3" (", ..." when cut) for a log line. */
static void id_list(const long long *ids, int n, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        int w = snprintf(out + used, len - used, "%s%lld", used ? ", " : "", ids[i]);
        if (w < 0 || (size_t)w + 5 >= len - used) {
            snprintf(out + used, len - used, ", ...");
            return;
        }
        used += (size_t)w;
    }
}

int dm_reconcile_reclaim(const dm_ctx *ctx, dpf_db *db)
{
    /* on the heap, not function-static: a pass may run on two threads */
    long long *ids = malloc(RECONCILE_BATCH * sizeof *ids);
    int n = 0;
    char list[256];
    if (ids == NULL)
        return -1;
    if (dpf_db_ensure(db) != DPF_OK ||
        dm_store_dp_release_owner(db, ctx->owner, ids, RECONCILE_BATCH, &n) != DPF_OK) {
        DPF_ERROR("Cannot release the leases replica %s held before its restart: %s; they "
                  "expire on their own", ctx->owner, dpf_db_error(db));
        free(ids);
        return -1;
    }
    if (n > 0) {
        id_list(ids, n, list, sizeof list);
        DPF_WARN("Replica %s held %d DP leases from before its restart (a crash): released "
                 "them, so their install or removal resumes now (DPID %s)", ctx->owner, n,
                 list);
    }
    free(ids);
    return n;
}

int dm_reconcile_run(const dm_ctx *ctx, dpf_db *db, dm_proc *upgrade, dm_proc *manager,
                     int after_outage)
{
    long long *ids = malloc(RECONCILE_BATCH * sizeof *ids);
    int n = 0, queued = 0;
    char corr[37];
    if (ids == NULL) {
        DPF_ERROR("Reconcile: out of memory; will try again in %d s", ctx->reconcile_s);
        return -1;
    }
    dpf_uuid(corr);
    dpf_log_set_corr(corr);
    int grace = after_outage ? 0 : ctx->retry_delay_s;
    if (dpf_db_ensure(db) != DPF_OK ||
        dm_store_dp_needing_work(db, grace, DPF_COMPONENT_VERSION, ids, RECONCILE_BATCH, &n) !=
            DPF_OK)
        goto db_error;
    queued += queue(upgrade, ids, n, "installing or upgrading", corr);
    if (manager != NULL) {
        if (dm_store_dp_needing_removal(db, grace, ids, RECONCILE_BATCH, &n) != DPF_OK)
            goto db_error;
        queued += queue(manager, ids, n, "removing", corr);
    }
    if (queued == 0)
        DPF_DEBUG("Reconcile: every DP is in the state its row asks for");
    dpf_log_set_corr(NULL);
    free(ids);
    return queued;
db_error:
    DPF_ERROR("Reconcile: cannot read DistributionPoints: %s; will try again in %d s",
              dpf_db_error(db), ctx->reconcile_s);
    dpf_log_set_corr(NULL);
    free(ids);
    return -1;
}

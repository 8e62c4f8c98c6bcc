/* dp.dpn.<dpid>: the DP manager removes a DP. As with installs, the event is
 * a wake-up: the row says whether the DP is still marked for removal
 * (Action = 3), the lease keeps other replicas (and installs) off it, and
 * the row is deleted, with status message 2391, in one transaction after
 * every removal step has succeeded. A failed step leaves the row
 * RemoveFailed with 2392 and is retried after InstallRetryDelaySeconds.
 * A removal never runs while a content transfer job holds a live lease on
 * one of the DP's dp_packages rows: the DP manager waits for it to stop. */
#include "handle_dp_dpn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dpf/log.h>
#include <dpf/sitecontrol.h>
#include <dpf/statmsg.h>

#include "dp_state.h"
#include "item.h"
#include "remove_steps.h"
#include "store_dp.h"

#include "dpfleet.pb-c.h"

/* How soon the DP manager looks again at a DP a content transfer still
 * sends to (transfers stop between two files once they see Action = 3). */
#define TRANSFER_WAIT_MS 3000

void dm_dp_dpn_decode(const void *data, size_t len, const char *subject, dm_item *it)
{
    it->dpid = 0;
    it->bad[0] = '\0';
    it->reason[0] = '\0';
    Dpf__DpNotification *m = dpf__dp_notification__unpack(NULL, len, data);
    if (m == NULL) {
        snprintf(it->bad, sizeof it->bad, "not a DpNotification protobuf (%zu bytes)", len);
        return;
    }
    dm_item_take_dpid(it, "DpNotification", DPF_SUBJ_DP_DPN ".", subject, m->dpid,
                      m->change_id);
    dpf__dp_notification__free_unpacked(m, NULL);
}

static void raise_msg(const dm_ctx *ctx, dpf_db *db, const dm_dp_row *dp, unsigned id, char sev,
                      const char *step, const char *reason)
{
    if (dm_item_raise(ctx, db, dp, id, sev, step, reason) != DPF_OK)
        DPF_WARN("DPID %lld: status message %u could not be published or stored", dp->dpid, id);
}

static dm_outcome removed(const dm_ctx *ctx, const dm_item *it, dpf_db *db,
                          const dm_dp_row *dp, dm_steps_result *res)
{
    char words[128];
    dpf_status st = dpf_db_begin(db);
    if (st == DPF_OK)
        st = dpf_db_set_corr(db, it->corr);
    if (st == DPF_OK)
        st = dm_store_dp_delete(db, dp->dpid, it->token);
    if (st == DPF_OK) /* the last step's end on the timeline commits with the deletion */
        st = dm_step_trace_end_tx(db, res);
    if (st == DPF_ERR_NOT_FOUND) {
        dpf_db_rollback(db);
        (void)dm_step_trace_end(db, res);
        dm_item_lost(it, db, dp->dpid, "its row could be deleted");
        return dm_outcome_done();
    }
    if (st == DPF_OK) {
        raise_msg(ctx, db, dp, DPF_MSG_DP_REMOVED, 'I', NULL, NULL);
        st = dpf_db_commit(db);
    }
    if (st != DPF_OK) {
        dpf_db_rollback(db);
        int delay = dm_item_retry_ms(ctx, it, words, sizeof words);
        DPF_ERROR("DPID %lld - NAL Path %s: removed from the host but could not delete the row: "
                  "%s; %s", dp->dpid, dp->nal_path, dpf_db_error(db), words);
        return dm_outcome_retry(delay, "removed from the host but could not delete the row");
    }
    DPF_INFO("DPID %lld - NAL Path %s , ServerName = %s is removed from DistributionPoints",
             dp->dpid, dp->nal_path, dp->server_name);
    return dm_outcome_done();
}

static dm_outcome failed(const dm_ctx *ctx, const dm_item *it, dpf_db *db, const dm_dp_row *dp,
                         dm_steps_result *res)
{
    char words[128];
    int attempts = 0;
    int delay = dm_item_retry_ms(ctx, it, words, sizeof words);
    dm_item_record_failure(ctx, it, db, dp, res, DM_EV_REMOVE_FAILED, DPF_MSG_DP_REMOVE_FAILED,
                           "removal", &attempts);
    DPF_ERROR("DPID %lld - NAL Path %s , ServerName = %s: removal step %s failed: %s. Attempt "
              "%d, %s", dp->dpid, dp->nal_path, dp->server_name, res->step, res->reason,
              attempts, words);
    return dm_outcome_retry(delay, res->reason);
}

static dm_outcome remove_dp(const dm_ctx *ctx, dm_item *it, dpf_db **slot, dm_dp_row *dp)
{
    dpf_db *db = *slot;
    dm_outcome o;
    if (!dm_item_begin_work(ctx, it, db, dp, DM_EV_REMOVE, &o))
        return o;
    /* Removing now, so no new transfer starts; one that runs stops by itself
     * when it sees Action = 3. Its files must not land after the shares are
     * gone, so the removal waits for it. */
    char pkg[64], holder[DM_TOKEN_MAX];
    dpf_status st = dm_store_dp_live_transfer(db, dp->dpid, pkg, sizeof pkg, holder,
                                              sizeof holder);
    if (st != DPF_ERR_NOT_FOUND) {
        int delay = st == DPF_OK ? TRANSFER_WAIT_MS : ctx->retry_delay_s * 1000;
        char when[64];
        if (it->msg != NULL)
            snprintf(when, sizeof when, "in %d s", delay / 1000);
        else
            snprintf(when, sizeof when, "at the next reconcile (%d s)", ctx->reconcile_s);
        dm_item_release(it, db, dp->dpid);
        if (st == DPF_OK) {
            char why[DM_TOKEN_MAX + 512];
            snprintf(why, sizeof why, "the transfer of package %s to the DP must stop first "
                     "(held by %s); looking again %s", pkg, holder, when);
            dm_step_trace_wait(db, it, dp, why);
        }
        if (st == DPF_OK)
            DPF_INFO("DPID %lld: waiting for the transfer of package %s to stop (held by %s); "
                     "will look again %s", dp->dpid, pkg, holder, when);
        else
            DPF_ERROR("DPID %lld: cannot check for running content transfers (%s); will look "
                      "again %s", dp->dpid, dpf_db_error(db), when);
        return dm_outcome_retry(delay, "a content transfer to the DP is running");
    }
    DPF_INFO("~Created policy provider trigger for ID %lld", dp->dpid);
    raise_msg(ctx, db, dp, DPF_MSG_DP_REMOVE_STARTED, 'I', NULL, NULL);

    dm_steps_result res;
    dm_remove_run(ctx, it, slot, dp, &res);
    /* the steps gave the connection back while the agent worked */
    if ((db = dm_item_db(ctx, slot)) == NULL)
        return dm_item_no_db_after_steps(it, dp, &res, "removal");
    switch (res.outcome) {
    case DM_STEPS_OK:
        return removed(ctx, it, db, dp, &res);
    case DM_STEPS_FAILED:
        return failed(ctx, it, db, dp, &res);
    case DM_STEPS_STOPPING:
    case DM_STEPS_LOST_LEASE:
    case DM_STEPS_REMOVED:
        break;
    }
    (void)dm_step_trace_end(db, &res);
    return dm_item_steps_interrupted(it, db, dp, &res, "removal");
}

static dm_outcome handle(const dm_ctx *ctx, dm_item *it, dpf_db **slot, dm_dp_row *dp)
{
    dpf_db *db = dm_item_db(ctx, slot);
    dpf_status st = db != NULL ? dm_store_dp_lease(db, it->dpid, it->token, ctx->lease_s, dp)
                               : DPF_ERR_DB;
    if (st == DPF_ERR_BUSY && dm_item_lease_dead(ctx, db, dp))
        st = dm_store_dp_lease(db, it->dpid, it->token, ctx->lease_s, dp);
    if (st == DPF_ERR_NOT_FOUND) {
        DPF_INFO("DPID %lld is no longer in DistributionPoints, nothing to remove", it->dpid);
        return dm_outcome_done();
    }
    if (st == DPF_ERR_BUSY) {
        char why[DM_TOKEN_MAX + 64];
        snprintf(why, sizeof why, "another job (%s) holds the DP", dp->lease_owner);
        dm_step_trace_wait(db, it, dp, why);
        return dm_item_lease_busy(ctx, it, dp);
    }
    if (st != DPF_OK)
        return dm_item_read_failed(ctx, it, db);
    if (dp->action != 3) {
        /* added back since HMAN marked it: the row is the truth. The lease
         * goes first so that whoever reads the line finds the row free. */
        dm_item_release(it, db, dp->dpid);
        DPF_INFO("DPID %lld - NAL Path %s is not marked for removal (Action = %d), nothing to "
                 "remove", dp->dpid, dp->nal_path, dp->action);
        return dm_outcome_done();
    }
    return remove_dp(ctx, it, slot, dp);
}

dm_outcome dm_handle_dp_dpn(const dm_ctx *ctx, dm_item *it, dpf_db **slot)
{
    dm_dp_row dp = {0};
    DPF_INFO("~Processing %lld.DPN", it->dpid);
    dm_outcome o = handle(ctx, it, slot, &dp);
    dm_dp_row_clear(&dp);
    return o;
}

/* dp.ins.<dpid>: one DP to install or upgrade. The event is only a wake-up:
 * the handler reads the DP's row, decides from its state whether there is
 * anything to do (a redelivered or duplicate event finds the DP installed
 * and does nothing), takes the row's lease so no other replica works on the
 * same DP, drives the agent, and records the outcome with its status message
 * (2399 or 2398) in one transaction before it acks. */
#include "handle_dp_ins.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dpf/agent.h>
#include <dpf/log.h>
#include <dpf/sitecontrol.h>
#include <dpf/statmsg.h>
#include <dpf/util.h>

#include "dp_state.h"
#include "install_steps.h"
#include "item.h"
#include "store_dp.h"

#include "dpfleet.pb-c.h"

void dm_dp_ins_decode(const void *data, size_t len, const char *subject, dm_item *it)
{
    it->dpid = 0;
    it->bad[0] = '\0';
    Dpf__DpInstall *m = dpf__dp_install__unpack(NULL, len, data);
    if (m == NULL) {
        snprintf(it->bad, sizeof it->bad, "not a DpInstall protobuf (%zu bytes)", len);
        return;
    }
    if (dm_item_take_dpid(it, "DpInstall", DPF_SUBJ_DP_INS ".", subject, m->dpid,
                          m->change_id))
        snprintf(it->reason, sizeof it->reason, "%s",
                 m->reason != NULL && m->reason[0] != '\0' ? m->reason : "update");
    dpf__dp_install__free_unpacked(m, NULL);
}

/* The reset requests already announced: site code and correlation id. */
#define RESETS_REMEMBERED 16
static pthread_mutex_t resets_mu = PTHREAD_MUTEX_INITIALIZER;
static char resets_seen[RESETS_REMEMBERED][80];
static int resets_next;

/* The source's "Found file resetdps.trn, will upgrade all the Distribution
 * Points". Here a site reset is one admin request (POST .../reset) that sets
 * every DP of the site Pending in one transaction, so its dp.ins events all
 * carry reason "reset" and the request's correlation id: the first of them
 * that a worker reads announces the wave, once per site and request. The
 * line is logged under the lock, so no other worker of the wave gets to its
 * steps before it. */
static void note_reset(const dm_item *it, const dm_dp_row *dp)
{
    char key[sizeof resets_seen[0]];
    if (strcmp(it->reason, "reset") != 0)
        return;
    snprintf(key, sizeof key, "%s/%s", dp->site_code, it->corr);
    pthread_mutex_lock(&resets_mu);
    int seen = 0;
    for (int i = 0; i < RESETS_REMEMBERED && !seen; i++)
        seen = strcmp(resets_seen[i], key) == 0;
    if (!seen) {
        snprintf(resets_seen[resets_next], sizeof resets_seen[0], "%s", key);
        resets_next = (resets_next + 1) % RESETS_REMEMBERED;
        DPF_INFO("Found site reset request for site %s, will upgrade all the Distribution Points",
                 dp->site_code);
    }
    pthread_mutex_unlock(&resets_mu);
}

static dm_outcome succeeded(const dm_ctx *ctx, const dm_item *it, dpf_db *db,
                            const dm_dp_row *dp, dm_steps_result *res)
{
    dpf_status st = dpf_db_begin(db);
    if (st == DPF_OK)
        st = dpf_db_set_corr(db, it->corr);
    if (st == DPF_OK)
        st = dm_store_dp_mark_installed(db, dp->dpid, it->token, dp->state, DM_EV_SUCCEEDED,
                                        dp->dp_crc, DPF_COMPONENT_VERSION,
                                        res->pull_dp_state, res->content_url);
    if (st == DPF_OK) /* the last step's end on the timeline commits with Installed */
        st = dm_step_trace_end_tx(db, res);
    if (st == DPF_ERR_NOT_FOUND) {
        dpf_db_rollback(db);
        (void)dm_step_trace_end(db, res);
        dm_item_lost(it, db, dp->dpid, "it could be marked Installed");
        return dm_outcome_done();
    }
    if (st == DPF_OK) {
        if (dm_item_raise(ctx, db, dp, DPF_MSG_DP_INSTALLED, 'I', NULL, NULL) != DPF_OK)
            DPF_WARN("DPID %lld: status message 2399 could not be published; it is stored",
                     dp->dpid);
        st = dpf_db_commit(db);
    }
    if (st != DPF_OK) {
        dpf_db_rollback(db);
        /* the database went away at the end: the steps are idempotent, so
         * the retry (soon, or from the reconcile when PostgreSQL is back)
         * finds the DP Installing and runs them again */
        DPF_ERROR("DPID %lld - NAL Path %s: installed on the host but could not record it: "
                  "%s; will retry in %d s", dp->dpid, dp->nal_path, dpf_db_error(db),
                  DM_DB_RETRY_MS / 1000);
        return dm_outcome_retry(DM_DB_RETRY_MS, "installed on the host but could not record it");
    }
    DPF_INFO("DPID %lld - NAL Path %s is installed at CRC %s, components %s", dp->dpid,
             dp->nal_path, dp->dp_crc, DPF_COMPONENT_VERSION);
    if (res->content_url[0] != '\0')
        DPF_INFO("DPID %lld - NAL Path %s serves content at %s", dp->dpid, dp->nal_path,
                 res->content_url);
    return dm_outcome_done();
}

static dm_outcome failed(const dm_ctx *ctx, const dm_item *it, dpf_db *db, const dm_dp_row *dp,
                         dm_steps_result *res)
{
    char words[128];
    int attempts = 0;
    int delay = dm_item_retry_ms(ctx, it, words, sizeof words);
    dm_item_record_failure(ctx, it, db, dp, res, DM_EV_STEP_FAILED, DPF_MSG_DP_INSTALL_FAILED,
                           "install", &attempts);
    DPF_ERROR("DPID %lld - NAL Path %s , ServerName = %s: step %s failed: %s. Attempt %d, %s",
              dp->dpid, dp->nal_path, dp->server_name, res->step, res->reason, attempts, words);
    return dm_outcome_retry(delay, res->reason);
}

static dm_outcome install(const dm_ctx *ctx, dm_item *it, dpf_db **slot, dm_dp_row *dp)
{
    dpf_db *db = *slot;
    dm_outcome o;
    if (!dm_item_begin_work(ctx, it, db, dp, DM_EV_START, &o))
        return o;
    if (dp->installed_version[0] != '\0' &&
        strcmp(dp->installed_version, DPF_COMPONENT_VERSION) != 0)
        DPF_INFO("DPID %lld has components %s, upgrading to %s", dp->dpid,
                 dp->installed_version, DPF_COMPONENT_VERSION);
    DPF_INFO("~DPID %lld - NAL Path %s , ServerName = %s, DPDrive = %s, IsMulticast = %d, "
             "PXE = %d, RemoveWDS = 0", dp->dpid, dp->nal_path, dp->server_name, dp->dp_drive,
             dp->is_multicast, dp->is_pxe);
    DPF_DEBUG("DPID %lld: reason %s, change %lld, state %s, CRC %s (host at '%s'), attempts %d",
              dp->dpid, it->reason, it->change_id, dm_state_name(dp->state), dp->dp_crc,
              dp->installed_crc, dp->attempts);

    dm_steps_result res;
    dm_install_run(ctx, it, slot, dp, &res);
    /* the steps gave the connection back while the agent worked */
    if ((db = dm_item_db(ctx, slot)) == NULL)
        return dm_item_no_db_after_steps(it, dp, &res, "install");
    switch (res.outcome) {
    case DM_STEPS_OK:
        return succeeded(ctx, it, db, dp, &res);
    case DM_STEPS_FAILED:
        return failed(ctx, it, db, dp, &res);
    case DM_STEPS_STOPPING:
    case DM_STEPS_LOST_LEASE:
    case DM_STEPS_REMOVED:
        break;
    }
    (void)dm_step_trace_end(db, &res);
    return dm_item_steps_interrupted(it, db, dp, &res, "install");
}

/* 1 when the row needs installing; otherwise logs why not. */
static int needs_install(const dm_item *it, const dm_dp_row *dp)
{
    switch (dm_state_decide(dp->state, dp->action, dp->installed_crc, dp->dp_crc,
                            dp->installed_version, it->reason)) {
    case DM_DO_INSTALL:
        return 1;
    case DM_DO_NOTHING:
        DPF_INFO("DP %s is already installed at CRC %s, nothing to do", dp->nal_path,
                 dp->installed_crc);
        return 0;
    case DM_DO_SKIP_REMOVED:
        DPF_INFO("DPID %lld - NAL Path %s is marked for removal (Action = 3); the DP manager "
                 "removes it, nothing to install", dp->dpid, dp->nal_path);
        return 0;
    case DM_DO_SKIP_BUSY:
        DPF_INFO("DPID %lld - NAL Path %s is being removed (%s), nothing to install", dp->dpid,
                 dp->nal_path, dm_state_name(dp->state));
        return 0;
    }
    return 0;
}

/* Reads the row, decides, takes the lease and decides again (the row may
 * have changed in between), then installs. */
static dm_outcome handle(const dm_ctx *ctx, dm_item *it, dpf_db **slot, dm_dp_row *dp)
{
    dpf_db *db = dm_item_db(ctx, slot);
    dpf_status st = db != NULL ? dm_store_dp_get(db, it->dpid, dp) : DPF_ERR_DB;
    if (st == DPF_OK) {
        note_reset(it, dp);
        if (!needs_install(it, dp))
            return dm_outcome_done();
        st = dm_store_dp_lease(db, it->dpid, it->token, ctx->lease_s, dp);
        if (st == DPF_ERR_BUSY && dm_item_lease_dead(ctx, db, dp))
            st = dm_store_dp_lease(db, it->dpid, it->token, ctx->lease_s, dp);
        if (st == DPF_ERR_BUSY) {
            char why[DM_TOKEN_MAX + 64];
            snprintf(why, sizeof why, "another job (%s) holds the DP", dp->lease_owner);
            dm_step_trace_wait(db, it, dp, why);
            return dm_item_lease_busy(ctx, it, dp);
        }
        if (st != DPF_OK && st != DPF_ERR_NOT_FOUND) {
            /* the database, not the DP: look again soon */
            DPF_ERROR("DPID %lld: cannot take the lease (%s); will retry in %d s", it->dpid,
                      dpf_db_error(db), DM_DB_RETRY_MS / 1000);
            return dm_outcome_retry(DM_DB_RETRY_MS, "cannot take the lease");
        }
    } else if (st != DPF_ERR_NOT_FOUND) {
        return dm_item_read_failed(ctx, it, db);
    }
    if (st == DPF_ERR_NOT_FOUND) {
        DPF_INFO("DPID %lld no longer exists in DistributionPoints, nothing to do", it->dpid);
        return dm_outcome_done();
    }
    if (!needs_install(it, dp)) {
        dm_item_release(it, db, it->dpid);
        return dm_outcome_done();
    }
    return install(ctx, it, slot, dp);
}

dm_outcome dm_handle_dp_ins(const dm_ctx *ctx, dm_item *it, dpf_db **slot)
{
    dm_dp_row dp = {0};
    DPF_INFO("~Processing %lld.INS", it->dpid);
    dm_outcome o = handle(ctx, it, slot, &dp);
    dm_dp_row_clear(&dp);
    return o;
}

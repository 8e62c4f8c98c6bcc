/* dp.ins.<dpid>: one DP to install or upgrade. The event is only a wake-up:
 * the handler reads the DP's row, decides from its state whether there is
 * anything to do (a redelivered or duplicate event finds the DP installed
 * and does nothing), takes the row's lease so no other replica works on the
 * same DP, drives the agent, and records the outcome with its status message
 * (2399 or 2398) in one transaction before it acks. */
#include "handle_dp_ins.h"

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
#include "store_dp.h"

#include "dpfleet.pb-c.h"

/* How soon to look again at a DP another replica is working on: a third of
 * a lease, so the event is not spent on MaxDeliveries while the lease runs
 * (the reconcile takes over a lease that expired anyway). */
static int lease_busy_retry_s(const dm_ctx *ctx)
{
    int s = ctx->lease_s / 3;
    return s < 5 ? 5 : s > 30 ? 30 : s;
}

typedef enum finish { F_ACK, F_NAK, F_TERM } finish;

void dm_dp_ins_decode(const void *data, size_t len, const char *subject, dm_ins_item *it)
{
    it->dpid = 0;
    it->bad[0] = '\0';
    Dpf__DpInstall *m = dpf__dp_install__unpack(NULL, len, data);
    if (m == NULL) {
        snprintf(it->bad, sizeof it->bad, "not a DpInstall protobuf (%zu bytes)", len);
        return;
    }
    const char *tail = NULL;
    size_t plen = strlen(DPF_SUBJ_DP_INS ".");
    if (subject != NULL && strncmp(subject, DPF_SUBJ_DP_INS ".", plen) == 0)
        tail = subject + plen;
    char *end = NULL;
    long long subj_id = tail != NULL ? strtoll(tail, &end, 10) : 0;
    if (m->dpid <= 0) {
        snprintf(it->bad, sizeof it->bad, "DpInstall without a valid DPID (%lld)",
                 (long long)m->dpid);
    } else if (tail != NULL && end != NULL && *end == '\0' && end != tail &&
               subj_id != m->dpid) {
        snprintf(it->bad, sizeof it->bad, "subject names DPID %lld but the body DPID %lld",
                 subj_id, (long long)m->dpid);
    } else {
        it->dpid = m->dpid;
        it->change_id = m->change_id;
        snprintf(it->reason, sizeof it->reason, "%s",
                 m->reason != NULL && m->reason[0] != '\0' ? m->reason : "update");
    }
    dpf__dp_install__free_unpacked(m, NULL);
}

/* Ends the item's message, if it has one. */
static void finish_msg(dm_ins_item *it, finish f, int delay_ms)
{
    if (it->msg == NULL)
        return;
    dpf_status st = DPF_OK;
    const char *what = "ack";
    switch (f) {
    case F_ACK: st = dpf_bus_msg_ack(it->msg); break;
    case F_NAK: what = "nak"; st = dpf_bus_msg_nak(it->msg, delay_ms); break;
    case F_TERM: what = "term"; st = dpf_bus_msg_term(it->msg); break;
    }
    if (st != DPF_OK)
        DPF_WARN("Could not %s the message for DPID %lld (%s); JetStream will redeliver it "
                 "and it will be found done", what, it->dpid, dpf_status_text(st));
    dpf_bus_msg_destroy(it->msg);
    it->msg = NULL;
}

/* Best effort: an unreleased lease only delays the next attempt until it
 * expires. */
static void release(dpf_db *db, long long dpid, const char *owner)
{
    if (dm_store_dp_release(db, dpid, owner) != DPF_OK)
        DPF_WARN("DPID %lld: could not release the lease (%s); it expires by itself", dpid,
                 dpf_db_error(db));
}

static dpf_db *worker_db(const dm_ctx *ctx, dpf_db **slot)
{
    if (*slot == NULL) {
        if (dpf_db_connect(ctx->db_url, slot) != DPF_OK)
            *slot = NULL;
        return *slot;
    }
    return dpf_db_ensure(*slot) == DPF_OK ? *slot : NULL;
}

static void report_bad(const dm_ctx *ctx, dm_ins_item *it, dpf_db **slot)
{
    DPF_ERROR("Message on %s could not be decoded: %s. Terminated; it will not be "
              "redelivered.", it->subject, it->bad);
    finish_msg(it, F_TERM, 0);
    dpf_statmsg m = {
        .id = DPF_MSG_BAD_MESSAGE, .severity = 'E', .level = 'M',
        .component = DPF_COMP_DISTMGR, .site = ctx->site_code,
        .istr = {it->subject, it->bad},
    };
    if (dpf_statmsg_raise(ctx->bus, worker_db(ctx, slot), &m) != DPF_OK)
        DPF_WARN("Could not raise status message %u for the message on %s", m.id, it->subject);
}

/* Retry delay after a failure, and the words for it. */
static int retry_ms(const dm_ctx *ctx, const dm_ins_item *it, char *words, size_t len)
{
    if (it->msg == NULL) {
        snprintf(words, len, "will retry within %d s (reconcile)",
                 ctx->retry_delay_s + ctx->reconcile_s);
        return 0;
    }
    if ((int)dpf_bus_msg_deliveries(it->msg) >= ctx->max_deliveries)
        snprintf(words, len, "that was delivery %d of %d, the reconcile will retry within %d s",
                 ctx->max_deliveries, ctx->max_deliveries, ctx->retry_delay_s + ctx->reconcile_s);
    else
        snprintf(words, len, "will retry in %d s", ctx->retry_delay_s);
    return ctx->retry_delay_s * 1000;
}

static void succeeded(const dm_ctx *ctx, dm_ins_item *it, dpf_db *db, const dm_dp_row *dp,
                      const dm_install_result *res)
{
    char words[128];
    dpf_status st = dpf_db_begin(db);
    if (st == DPF_OK)
        st = dpf_db_set_corr(db, it->corr);
    if (st == DPF_OK)
        st = dm_store_dp_mark_installed(db, dp->dpid, ctx->owner, dp->dp_crc,
                                        DPF_COMPONENT_VERSION, res->pull_dp_state);
    if (st == DPF_ERR_NOT_FOUND) {
        dpf_db_rollback(db);
        DPF_WARN("DPID %lld: another replica took the DP over before it could be marked "
                 "Installed; leaving it to that replica", dp->dpid);
        finish_msg(it, F_ACK, 0);
        return;
    }
    if (st == DPF_OK) {
        dpf_statmsg m = {
            .id = DPF_MSG_DP_INSTALLED, .severity = 'I', .level = 'M',
            .component = DPF_COMP_DISTMGR, .site = dp->site_code,
            .istr = {dp->nal_path, dp->server_name},
            .nattrs = 1, .attr_id = {404}, .attr_val = {dp->nal_path},
        };
        if (dpf_statmsg_raise(ctx->bus, db, &m) != DPF_OK)
            DPF_WARN("DPID %lld: status message 2399 could not be published; it is stored",
                     dp->dpid);
        st = dpf_db_commit(db);
    }
    if (st != DPF_OK) {
        dpf_db_rollback(db);
        int delay = retry_ms(ctx, it, words, sizeof words);
        DPF_ERROR("DPID %lld - NAL Path %s: installed on the host but could not record it: "
                  "%s; %s", dp->dpid, dp->nal_path, dpf_db_error(db), words);
        finish_msg(it, F_NAK, delay);
        return;
    }
    DPF_INFO("DPID %lld - NAL Path %s is installed at CRC %s, components %s", dp->dpid,
             dp->nal_path, dp->dp_crc, DPF_COMPONENT_VERSION);
    finish_msg(it, F_ACK, 0);
}

static void failed(const dm_ctx *ctx, dm_ins_item *it, dpf_db *db, const dm_dp_row *dp,
                   const dm_install_result *res)
{
    char words[128];
    int attempts = 0;
    int delay = retry_ms(ctx, it, words, sizeof words);
    dpf_status st = dpf_db_begin(db);
    if (st == DPF_OK)
        st = dpf_db_set_corr(db, it->corr);
    if (st == DPF_OK)
        st = dm_store_dp_mark_failed(db, dp->dpid, ctx->owner, res->step, res->reason,
                                     &attempts);
    if (st == DPF_OK) {
        dpf_statmsg m = {
            .id = DPF_MSG_DP_INSTALL_FAILED, .severity = 'E', .level = 'M',
            .component = DPF_COMP_DISTMGR, .site = dp->site_code,
            .istr = {dp->nal_path, dp->server_name, res->step, res->reason},
            .nattrs = 1, .attr_id = {404}, .attr_val = {dp->nal_path},
        };
        if (dpf_statmsg_raise(ctx->bus, db, &m) != DPF_OK)
            DPF_WARN("DPID %lld: status message 2398 could not be published; it is stored",
                     dp->dpid);
        st = dpf_db_commit(db);
    }
    if (st != DPF_OK) {
        dpf_db_rollback(db);
        DPF_ERROR("DPID %lld: could not record the failure (%s): %s", dp->dpid,
                  st == DPF_ERR_NOT_FOUND ? "lease lost" : "database", dpf_db_error(db));
    }
    DPF_ERROR("DPID %lld - NAL Path %s , ServerName = %s: step %s failed: %s. Attempt %d, %s",
              dp->dpid, dp->nal_path, dp->server_name, res->step, res->reason, attempts, words);
    finish_msg(it, F_NAK, delay);
}

static void install(const dm_ctx *ctx, dm_ins_item *it, dpf_db *db, const dm_dp_row *dp)
{
    dm_state to;
    if (dm_state_next(dp->state, DM_EV_START, &to) != DPF_OK ||
        dm_store_dp_set_installing(db, dp->dpid, ctx->owner) != DPF_OK) {
        char words[128];
        int delay = retry_ms(ctx, it, words, sizeof words);
        DPF_ERROR("DPID %lld: could not move from %s to Installing: %s; %s", dp->dpid,
                  dm_state_name(dp->state), dpf_db_error(db), words);
        release(db, dp->dpid, ctx->owner);
        finish_msg(it, F_NAK, delay);
        return;
    }
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

    dm_install_result res;
    dm_install_run(ctx, it, db, dp, &res);
    switch (res.outcome) {
    case DM_INSTALL_OK:
        succeeded(ctx, it, db, dp, &res);
        break;
    case DM_INSTALL_FAILED:
        failed(ctx, it, db, dp, &res);
        break;
    case DM_INSTALL_STOPPING:
        release(db, dp->dpid, ctx->owner);
        DPF_INFO("Stopping: DPID %lld install interrupted before step %s; it resumes on the "
                 "next start or on another replica", dp->dpid, res.step);
        finish_msg(it, F_NAK, 0);
        break;
    case DM_INSTALL_LOST_LEASE:
        DPF_WARN("DPID %lld: another replica took the DP over before step %s; leaving it to "
                 "that replica", dp->dpid, res.step);
        finish_msg(it, F_ACK, 0);
        break;
    }
}

/* 1 when the row needs installing; otherwise logs why not. */
static int needs_install(const dm_ins_item *it, const dm_dp_row *dp)
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

void dm_handle_dp_ins(const dm_ctx *ctx, dm_ins_item *it, dpf_db **slot)
{
    char words[128];
    dm_dp_row dp = {0};
    dpf_log_set_corr(it->corr);
    if (it->bad[0] != '\0') {
        report_bad(ctx, it, slot);
        return;
    }
    DPF_INFO("~Processing %lld.INS", it->dpid);

    dpf_db *db = worker_db(ctx, slot);
    dpf_status st = db != NULL ? dm_store_dp_get(db, it->dpid, &dp) : DPF_ERR_DB;
    if (st == DPF_ERR_NOT_FOUND) {
        DPF_INFO("DPID %lld no longer exists in DistributionPoints, nothing to do", it->dpid);
        finish_msg(it, F_ACK, 0);
        goto cleanup;
    }
    if (st != DPF_OK) {
        int delay = retry_ms(ctx, it, words, sizeof words);
        DPF_ERROR("DPID %lld: cannot read DistributionPoints (%s); %s", it->dpid,
                  db != NULL ? dpf_db_error(db) : "no database connection", words);
        finish_msg(it, F_NAK, delay);
        goto cleanup;
    }
    if (!needs_install(it, &dp)) {
        finish_msg(it, F_ACK, 0);
        goto cleanup;
    }

    st = dm_store_dp_lease(db, it->dpid, ctx->owner, ctx->lease_s, &dp);
    if (st == DPF_ERR_BUSY) {
        DPF_INFO("DPID %lld is being worked on by %s (lease until %s), will look again in %d s",
                 it->dpid, dp.lease_owner, dp.lease_until, lease_busy_retry_s(ctx));
        finish_msg(it, F_NAK, lease_busy_retry_s(ctx) * 1000);
        goto cleanup;
    }
    if (st == DPF_ERR_NOT_FOUND) {
        DPF_INFO("DPID %lld no longer exists in DistributionPoints, nothing to do", it->dpid);
        finish_msg(it, F_ACK, 0);
        goto cleanup;
    }
    if (st != DPF_OK) {
        int delay = retry_ms(ctx, it, words, sizeof words);
        DPF_ERROR("DPID %lld: cannot take the lease (%s); %s", it->dpid, dpf_db_error(db), words);
        finish_msg(it, F_NAK, delay);
        goto cleanup;
    }
    /* the row may have changed between the read and the lease */
    if (!needs_install(it, &dp)) {
        release(db, it->dpid, ctx->owner);
        finish_msg(it, F_ACK, 0);
        goto cleanup;
    }
    install(ctx, it, db, &dp);
cleanup:
    finish_msg(it, F_NAK, 0); /* no-op unless a path above forgot to end it */
    dm_dp_row_clear(&dp);
}

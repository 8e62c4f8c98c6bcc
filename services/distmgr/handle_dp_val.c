/* dp.val.<dpid>: validate the content of one DP (issue 7, the source's
 * scheduled "content validation" task). The event is a wake-up: the handler
 * takes the DP's validation lease, asks the agent to re-hash each package
 * the DP holds (one package per request, so the host's other steps are held
 * up by one package at most) and records each verdict with its status
 * message in one transaction: 2384 verified, 2383 failed (the package
 * becomes ValidationFailed and content location stops offering the DP for
 * it until a redistribute repairs it). 2380 opens the validation. It runs
 * in maintenance mode too: the source's scheduled tasks keep their
 * schedule there. */
#include "validation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dpf/agent.h>
#include <dpf/log.h>
#include <dpf/sitecontrol.h>
#include <dpf/statmsg.h>
#include <dpf/trace.h>
#include <dpf/util.h>

#include "content.h"
#include "content_agent.h"
#include "item.h"
#include "store_val.h"

#include "dpfleet.pb-c.h"

#define MAX_PACKAGES 4096

void dm_dp_val_decode(const void *data, size_t len, const char *subject, dm_item *it)
{
    it->dpid = 0;
    it->bad[0] = '\0';
    Dpf__DpNotification *m = dpf__dp_notification__unpack(NULL, len, data);
    if (m == NULL) {
        dpf_fmt(it->bad, sizeof it->bad, "not a DpNotification protobuf (%zu bytes)", len);
        return;
    }
    if (dm_item_take_dpid(it, "DpValidate", DPF_SUBJ_DP_VAL ".", subject, m->dpid, m->change_id))
        dpf_fmt(it->reason, sizeof it->reason, "validate");
    dpf__dp_notification__free_unpacked(m, NULL);
}

/* "a.bin (missing), b.bin (corrupt)" from the agent's list of bad files. */
static void describe_bad(const Dpf__AgentReply *rep, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; rep != NULL && i < rep->n_content && used + 1 < len; i++) {
        const Dpf__ContentFile *f = rep->content[i];
        if (f == NULL)
            continue;
        int k = snprintf(out + used, len - used, "%s%s (%s)", used ? ", " : "",
                         f->path ? f->path : "?", f->size < 0 ? "missing" : "corrupt");
        if (k < 0)
            break;
        used += (size_t)k < len - used ? (size_t)k : len - used - 1;
    }
}

/* The validation job on the timeline (dpf/trace.h): who its rows are. */
static dpf_trace_who val_who(const dm_item *it, const dm_val_dp *dp)
{
    dpf_trace_who who = {.corr = it->corr, .component = DPF_TRACE_DISTMGR, .dpid = dp->dpid,
                         .server = dp->server_name, .job = "validate", .job_id = it->token};
    return who;
}

/* Records one package's verdict with 2384 / 2383, and the end of its step
 * on the timeline (trace_id, with the agent's lines) in the same
 * transaction. */
static void verdict(const dm_ctx *ctx, dpf_db *db, const dm_val_dp *dp, const char *corr,
                    const char *package_id, int ok, const char *why, long long trace_id,
                    const char *lines)
{
    int changed = 0;
    dpf_status st = dpf_db_begin(db);
    if (st == DPF_OK)
        st = dpf_db_set_corr(db, corr);
    if (st == DPF_OK)
        st = dm_store_val_verdict(db, dp->dpid, package_id, ok, why, &changed);
    if (st == DPF_OK)
        st = dpf_trace_step_finish_tx(db, trace_id, ok ? DPF_TRACE_OK : DPF_TRACE_FAILED,
                                      ok ? NULL : why, lines);
    if (st == DPF_OK)
        st = dm_content_raise(ctx, db, dp->site_code,
                              ok ? DPF_MSG_VALIDATION_OK : DPF_MSG_VALIDATION_FAILED,
                              ok ? 'I' : 'E', package_id, dp->nal_path, ok ? NULL : why, NULL);
    if (st == DPF_OK)
        st = dpf_db_commit(db);
    if (st != DPF_OK) {
        dpf_db_rollback(db);
        DPF_WARN("DPID %lld: could not record the validation of package %s (%s)", dp->dpid,
                 package_id, dpf_db_error(db));
        return;
    }
    if (ok)
        DPF_INFO("Content validation: package %s on DP %s is verified%s", package_id,
                 dp->nal_path, changed ? "; it is Installed again" : "");
    else
        DPF_ERROR("Content validation: package %s on DP %s failed: %s%s", package_id,
                  dp->nal_path, why,
                  changed ? ". It is ValidationFailed until a redistribute repairs it" : "");
}

dm_outcome dm_handle_dp_val(const dm_ctx *ctx, dm_item *it, dpf_db **slot)
{
    /* held while the agent hashes the content: a long holder */
    dpf_db *db = dm_item_db_long(ctx, slot);
    if (db == NULL)
        return dm_content_retry(ctx->retry_delay_s * 1000, "no database connection");
    const char *token = it->token; /* the validation is this item's job */
    dm_val_dp dp = {0};
    dpf_status st = dm_store_val_lease(db, it->dpid, token, ctx->lease_s, &dp);
    if (st == DPF_ERR_NOT_FOUND) {
        DPF_INFO("DPID %lld no longer exists, no content to validate", it->dpid);
        return (dm_outcome){.kind = DM_DONE};
    }
    if (st == DPF_ERR_BUSY) {
        DPF_INFO("DPID %lld is being validated by another job, will look again in %d s",
                 it->dpid, dm_item_lease_busy_s(ctx));
        return dm_content_retry(dm_item_lease_busy_s(ctx) * 1000, "validated elsewhere");
    }
    if (st != DPF_OK)
        return dm_content_retry(ctx->retry_delay_s * 1000, "cannot take the validation lease");
    if (dp.requested_at[0] == '\0' || !dp.installed) {
        DPF_INFO("DPID %lld: %s, nothing to validate", dp.dpid,
                 dp.installed ? "no validation is requested" : "the DP is not installed");
        if (dm_store_val_release(db, dp.dpid, token) != DPF_OK)
            DPF_WARN("DPID %lld: could not release the validation lease", dp.dpid);
        dm_val_dp_clear(&dp);
        return (dm_outcome){.kind = DM_DONE};
    }

    dm_val_pkg *pkgs = calloc(MAX_PACKAGES, sizeof *pkgs);
    int n = 0, bad = 0, checked = 0;
    dm_outcome out = {.kind = DM_DONE};
    if (pkgs == NULL || dm_store_val_packages(db, dp.dpid, pkgs, MAX_PACKAGES, &n) != DPF_OK) {
        out = dm_content_retry(ctx->retry_delay_s * 1000, "cannot read the DP's packages");
        goto release;
    }
    DPF_INFO("Content validation started on DP %s: %d packages", dp.nal_path, n);
    if (dm_content_raise(ctx, db, dp.site_code, DPF_MSG_VALIDATION_STARTED, 'I', dp.nal_path,
                         dp.server_name, NULL, NULL) != DPF_OK)
        DPF_WARN("DPID %lld: status message 2380 could not be stored", dp.dpid);
    dm_cagent_target t = {dp.dpid, dp.server_name, dp.nal_path, dp.site_code};
    dpf_trace_who who = val_who(it, &dp);
    for (int i = 0; i < n; i++) {
        int stop = 0;
        if (dpf_stopping() ||
            dm_store_val_renew(db, dp.dpid, token, ctx->lease_s, &stop) != DPF_OK || stop) {
            DPF_INFO("Content validation of DP %s stopped after %d of %d packages (%s)",
                     dp.nal_path, checked, n,
                     dpf_stopping() ? "distmgr is stopping" : "the DP is being removed");
            out = dpf_stopping() ? dm_content_retry(0, "stopping") : (dm_outcome){.kind = DM_DONE};
            goto release;
        }
        dm_agent_kv kv[] = {{"package_id", pkgs[i].package_id}};
        dm_cagent_reply r = {0};
        char reason[1024], why[1024], step[96], lines[2048] = "";
        long long trace_id = 0;
        dpf_fmt(step, sizeof step, "validate package %s", pkgs[i].package_id);
        if (dpf_trace_step_start(db, &who, step, &trace_id) != DPF_OK)
            DPF_WARN("DPID %lld: could not record the validation of package %s on the "
                     "timeline: %s", dp.dpid, pkgs[i].package_id, dpf_db_error(db));
        st = dm_cagent_run(ctx->bus, &t, DPF_STEP_CONTENT_VALIDATE, kv, 1, NULL, 0, NULL, 0, 0,
                           ctx->step_timeout_s, &r, reason, sizeof reason);
        if (r.rep != NULL)
            dpf_trace_join_lines(r.rep->log, r.rep->n_log, lines, sizeof lines);
        if (st == DPF_OK && r.rep->n_content == 0) {
            verdict(ctx, db, &dp, it->corr, pkgs[i].package_id, 1, NULL, trace_id, lines);
        } else if (st == DPF_OK || st == DPF_ERR_STEP) {
            /* the check ran and found files, or the DP does not hold it */
            if (st == DPF_OK)
                describe_bad(r.rep, why, sizeof why);
            else
                dpf_fmt(why, sizeof why, "%s", reason);
            verdict(ctx, db, &dp, it->corr, pkgs[i].package_id, 0, why, trace_id, lines);
            bad++;
        } else {
            dm_cagent_reply_free(&r);
            if (dpf_trace_step_finish(db, trace_id, DPF_TRACE_FAILED, reason, lines) != DPF_OK)
                DPF_WARN("DPID %lld: could not record the failed validation step on the "
                         "timeline: %s", dp.dpid, dpf_db_error(db));
            DPF_ERROR("Content validation of DP %s could not go on: %s; will retry in %d s",
                      dp.nal_path, reason, ctx->retry_delay_s);
            out = dm_content_retry(ctx->retry_delay_s * 1000, "the agent did not answer");
            goto release;
        }
        dm_cagent_reply_free(&r);
        checked++;
    }
    char result[128];
    if (bad == 0)
        dpf_fmt(result, sizeof result, "Verified: %d packages", n);
    else
        dpf_fmt(result, sizeof result, "Failed: %d of %d packages", bad, n);
    /* the end and its row on the timeline commit together */
    st = dpf_db_begin(db);
    if (st == DPF_OK)
        st = dm_store_val_done(db, dp.dpid, token, dp.requested_at, result);
    if (st == DPF_OK)
        st = dpf_trace_event_tx(db, &who, "validation finished",
                                bad ? DPF_TRACE_FAILED : DPF_TRACE_OK, result);
    if (st == DPF_OK)
        st = dpf_db_commit(db);
    if (st != DPF_OK) {
        dpf_db_rollback(db);
        DPF_WARN("DPID %lld: could not record the end of the validation (%s)", dp.dpid,
                 dpf_db_error(db));
    }
    DPF_INFO("Content validation finished on DP %s: %s", dp.nal_path, result);
    free(pkgs);
    dm_val_dp_clear(&dp);
    return out;
release:
    if (dm_store_val_release(db, dp.dpid, token) != DPF_OK)
        DPF_WARN("DPID %lld: could not release the validation lease", dp.dpid);
    free(pkgs);
    dm_val_dp_clear(&dp);
    return out;
}

int dm_validation_reconcile(const dm_ctx *ctx, dpf_db *db, dm_proc *validator)
{
    int scheduled = 0, n = 0, queued = 0;
    long long ids[256];
    if (dm_store_val_schedule(db, &scheduled) != DPF_OK) {
        DPF_WARN("Reconcile: cannot schedule content validations: %s", dpf_db_error(db));
        return -1;
    }
    if (scheduled > 0)
        DPF_INFO("Reconcile: content validation is due on %d DPs", scheduled);
    if (dm_store_val_stale(db, ctx->retry_delay_s, ids, 256, &n) != DPF_OK) {
        DPF_WARN("Reconcile: cannot look for waiting validations: %s", dpf_db_error(db));
        return -1;
    }
    for (int i = 0; i < n; i++)
        queued += dm_proc_push_dpid(validator, ids[i], "reconcile", NULL);
    return scheduled + queued;
}

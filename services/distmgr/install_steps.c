/* Drives one DP's agent through the install steps, in agent.h's order,
 * which is the source's step 8 order, with the parameters each step needs
 * from the DP's row. step_runner.c does what happens between steps. */
#include "install_steps.h"

#include "agent_creds.h"

#include "item.h"

#include <stdio.h>
#include <string.h>

#include <dpf/agent.h>
#include <dpf/log.h>
#include <dpf/metrics.h>
#include <dpf/util.h>


static int write_settings(dm_step_run *r)
{
    const dm_dp_row *dp = r->dp;
    char dpid[24], prio[16], minfree[16], rate[16], ssl[16];
    snprintf(dpid, sizeof dpid, "%lld", dp->dpid);
    snprintf(prio, sizeof prio, "%d", dp->priority);
    snprintf(minfree, sizeof minfree, "%d", dp->min_free_space);
    snprintf(rate, sizeof rate, "%d", dp->transfer_rate);
    snprintf(ssl, sizeof ssl, "%d", dp->ssl_state);
    const dm_agent_kv kv[] = {
        {"DPID", dpid},
        {"NALPath", dp->nal_path},
        {"ServerName", dp->server_name},
        {"SiteCode", dp->site_code},
        {"IdentityGUID", dp->identity_guid},
        {"Description", dp->description},
        {"Priority", prio},
        {"MinFreeSpace", minfree},
        {"DPDrive", dp->dp_drive},
        {"IsPXE", dp->is_pxe ? "1" : "0"},
        {"IsPullDP", dp->is_pull_dp ? "1" : "0"},
        {"IsMulticast", dp->is_multicast ? "1" : "0"},
        {"PullSources", dp->pull_sources},
        {"BoundaryGroups", dp->boundary_groups},
        {"TransferRate", rate},
        {"SslState", ssl},
        {"DPCRC", dp->dp_crc},
        {"ComponentVersion", DPF_COMPONENT_VERSION},
    };
    DPF_INFO("ConfigureDP");
    return dm_step(r, DPF_STEP_WRITE_SETTINGS, kv, sizeof kv / sizeof kv[0], NULL);
}

static int configure_pxe(dm_step_run *r)
{
    const dm_agent_kv kv[] = {{"pxe", r->dp->is_pxe ? "1" : "0"}};
    DPF_INFO("ConfigurePXE");
    return dm_step(r, DPF_STEP_CONFIGURE_PXE, kv, 1, NULL);
}

/* Source step 11 / upgrade steps 5 and 7. A standard DP that was a pull DP
 * before has its pull-DP component removed; one that never was is left alone
 * (configure_pulldp belongs to issue 3 on the agent side). */
static int configure_pulldp(dm_step_run *r)
{
    const dm_dp_row *dp = r->dp;
    int was_pull = strcmp(dp->pull_dp_state, "Installed") == 0;
    if (!dp->is_pull_dp) {
        DPF_INFO("~%s is NOT a Pull DP", dp->nal_path);
        if (!was_pull)
            return 1;
        const dm_agent_kv kv[] = {{"pulldp", "0"}};
        DPF_INFO("ConfigurePullDP");
        if (!dm_step(r, DPF_STEP_CONFIGURE_PULLDP, kv, 1, NULL))
            return 0;
        DPF_INFO("PullDP %s is marked Uninstalled", dp->nal_path);
        return 1;
    }
    DPF_INFO("~%s is a Pull DP", dp->nal_path);
    if (was_pull) {
        /* upgrade: reset the pull DP's state so it is brought up to date */
        dpf_db *db = dm_item_db(r->ctx, r->slot);
        if (db == NULL ||
            dm_store_dp_set_pull_state(db, dp->dpid, r->it->token, "Uninstalled") != DPF_OK)
            DPF_WARN("DPID %lld: could not record pull_dp_state Uninstalled: %s", dp->dpid,
                     db != NULL ? dpf_db_error(db) : "no database connection");
        DPF_INFO("PullDP %s is marked Uninstalled", dp->nal_path);
    }
    const dm_agent_kv kv[] = {{"pulldp", "1"}, {"sources", dp->pull_sources}};
    DPF_INFO("ConfigurePullDP");
    DPF_INFO("~NAL Path %s is a Pull DP", dp->nal_path);
    if (!dm_step(r, DPF_STEP_CONFIGURE_PULLDP, kv, 2, NULL))
        return 0;
    snprintf(r->res->pull_dp_state, sizeof r->res->pull_dp_state, "Installed");
    DPF_INFO("PullDP %s is marked Installed", dp->nal_path);
    return 1;
}

void dm_install_run(const dm_ctx *ctx, dm_item *it, dpf_db **slot, const dm_dp_row *dp,
                    dm_steps_result *res)
{
    dm_step_run run;
    dm_step_run_init(&run, ctx, it, slot, dp, res);
    dm_step_run *r = &run;
    /* a DP marked for removal meanwhile is the DP manager's: its removal
     * waits for this job's lease, so give it up between two steps */
    r->stop_if_removed = 1;
    /* the host's own NATS identity comes with the DP (issue 9); the steps
     * below do not wait for it: the agent may still use its bootstrap one */
    (void)dm_agent_creds_issue(dp);
    /* the && chain stops at the first step that ends the run; res says why */
    (void)(dm_step(r, DPF_STEP_INSTALL_FILES, NULL, 0, ctx->components) &&
           dm_step(r, DPF_STEP_CREATE_SHARES, NULL, 0, NULL) &&
           dm_step(r, DPF_STEP_ENABLE_HTTP, NULL, 0, NULL) &&
           dm_step(r, DPF_STEP_REGISTER_PROVIDER, NULL, 0, NULL) &&
           dm_step(r, DPF_STEP_CONFIGURE_VDIRS, NULL, 0, NULL) &&
           write_settings(r) &&
           configure_pxe(r) &&
           configure_pulldp(r));
    dpf_metrics_inc(DPF_M_DP_INSTALLS, res->outcome == DM_STEPS_OK ? "ok"
                    : res->outcome == DM_STEPS_FAILED ? "failed" : "interrupted", NULL, NULL);
}

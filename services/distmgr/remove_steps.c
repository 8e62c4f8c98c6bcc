/* Removes a DP from its host: PXE, the scheduled tasks, the pull-DP
 * component, the DP provider, the shares (content library included), the
 * virtual directories and last the settings ("Deleting DP registry"). Every
 * step runs even when the row says there is nothing to remove (a standard
 * DP has no pull-DP component): the agent's steps are idempotent, and the
 * row may not know what an interrupted earlier install left behind. */
#include "remove_steps.h"

#include "agent_creds.h"

#include <dpf/agent.h>
#include <dpf/log.h>
#include <dpf/metrics.h>

static void remove_all(const dm_ctx *ctx, dm_item *it, dpf_db **slot, const dm_dp_row *dp,
                       dm_steps_result *res)
{
    dm_step_run run;
    dm_step_run_init(&run, ctx, it, slot, dp, res);
    dm_step_run *r = &run;
    const char *srv = dp->server_name;

    DPF_INFO("ConfigurePXE");
    if (!dm_step(r, DPF_STEP_REMOVE_PXE, NULL, 0, NULL) ||
        !dm_step(r, DPF_STEP_REMOVE_TASKS, NULL, 0, NULL))
        return;
    if (dp->is_pull_dp || dp->pull_dp_state[0] != '\0') {
        DPF_INFO("~NAL Path %s is a Pull DP", dp->nal_path);
        DPF_INFO("Uninstalling PullDP, check \\\\%s\\SMS_DP$\\sms\\logs\\smsdpprov.log and "
                 "\\\\%s\\SMS_DP$\\sms\\logs\\pulldp_install.log", srv, srv);
    } else {
        DPF_INFO("~%s is NOT a Pull DP", dp->nal_path);
    }
    if (!dm_step(r, DPF_STEP_REMOVE_PULLDP, NULL, 0, NULL))
        return;
    DPF_INFO("Uninstalling distribution point files from server %s~", srv);
    DPF_INFO("Deleting DP provider classes from server %s", dp->nal_path);
    if (!dm_step(r, DPF_STEP_UNREGISTER_PROVIDER, NULL, 0, NULL))
        return;
    DPF_INFO("Uninstalling distribution point files from server %s~", srv);
    if (!dm_step(r, DPF_STEP_REMOVE_SHARES, NULL, 0, NULL) ||
        !dm_step(r, DPF_STEP_REMOVE_VDIRS, NULL, 0, NULL))
        return;
    DPF_INFO("~Completed uninstalling distribution on the remote distribution point");
    DPF_INFO("Deleting DP registry on NAL Path = %s , ServerName = %s", dp->nal_path, srv);
    /* the host is no DP any more: its NATS identity goes with it (issue 9) */
    if (dm_step(r, DPF_STEP_REMOVE_SETTINGS, NULL, 0, NULL))
        (void)dm_agent_creds_revoke(dp);
}

void dm_remove_run(const dm_ctx *ctx, dm_item *it, dpf_db **slot, const dm_dp_row *dp,
                   dm_steps_result *res)
{
    remove_all(ctx, it, slot, dp, res);
    dpf_metrics_inc(DPF_M_DP_REMOVALS, res->outcome == DM_STEPS_OK ? "ok"
                    : res->outcome == DM_STEPS_FAILED ? "failed" : "interrupted", NULL, NULL);
}

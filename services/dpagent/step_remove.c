/* Removal steps that undo the small pieces of an install (issue 3), in the
 * source's order: scheduled tasks, the DP provider registration, and last
 * the DP settings ("Deleting DP registry"). Each is the exact inverse of its
 * install step and idempotent: a second run finds nothing and replies
 * changed=0. remove_pxe, remove_pulldp, remove_shares and remove_vdirs live
 * next to the steps they undo. */
#include "dpagent.h"

#include <stdio.h>
#include "fsutil.h"

/* Removes <root>/<rel>; then etc/ itself once it is empty, so a fully
 * removed host leaves no trace under its root. */
static dpf_status remove_conf(dpa_step *s, const char *rel, int *removed)
{
    char conf[PATH_MAX], etc[PATH_MAX];
    if (dpa_step_path(s, conf, sizeof conf, rel) != DPF_OK ||
        dpa_step_path(s, etc, sizeof etc, DPA_REL_ETC) != DPF_OK)
        return DPF_ERR_STEP;
    if (dpa_fs_unlink(conf, removed) != DPF_OK)
        return dpa_step_fail(s, "cannot remove %s", conf);
    dpa_fs_rmdir_if_empty(etc);
    s->changed |= *removed;
    return DPF_OK;
}

dpf_status dpa_step_remove_tasks(dpa_step *s)
{
    int removed = 0;
    dpf_status rc = remove_conf(s, DPA_REL_TASKS_CONF, &removed);
    if (rc == DPF_OK)
        dpa_step_log(s, removed ? "Removed Monitoring and Usage scheduled tasks on %s"
                                : "No Monitoring and Usage scheduled tasks on %s",
                     s->host->fqdn);
    return rc;
}

dpf_status dpa_step_unregister_provider(dpa_step *s)
{
    int removed = 0;
    dpa_step_log(s, "Unregistering DPProvider on server %s.", s->host->fqdn);
    dpf_status rc = remove_conf(s, DPA_REL_PROVIDER_CONF, &removed);
    if (rc == DPF_OK)
        dpa_step_log(s, removed ? "Deleted provider classes on distribution point %s"
                                : "DP provider is not registered on %s",
                     s->host->fqdn);
    return rc;
}

dpf_status dpa_step_remove_settings(dpa_step *s)
{
    int removed = 0;
    const char *nal = s->req->nal_path ? s->req->nal_path : "";
    dpa_step_log(s, "Deleting DP registry on NAL Path = %s , ServerName = %s", nal,
                 s->host->fqdn);
    dpf_status rc = remove_conf(s, DPA_REL_DP_CONF, &removed);
    if (rc == DPF_OK && !removed)
        dpa_step_log(s, "No DP registry settings on %s", s->host->fqdn);
    return rc;
}

/* status: what is installed on the host, one "key=value" log line each, so
 * distmgr (upgrade decisions), tests and an administrator can read the state
 * of a DP without logging on to it. Reads only; never creates anything. */
#include "dpagent.h"

#include <stdio.h>
#include <string.h>
#include "content_server.h"
#include "fsutil.h"
#include "kvfile.h"

static int exists(dpa_step *s, const char *rel, int dir)
{
    char path[PATH_MAX];
    if (dpa_step_path(s, path, sizeof path, rel) != DPF_OK)
        return 0;
    return dir ? dpa_fs_is_dir(path) : dpa_fs_is_file(path);
}

dpf_status dpa_step_status(dpa_step *s)
{
    char bin[PATH_MAX], conf[PATH_MAX];
    if (dpa_step_path(s, bin, sizeof bin, DPA_REL_BIN) != DPF_OK ||
        dpa_step_path(s, conf, sizeof conf, DPA_REL_DP_CONF) != DPF_OK)
        return DPF_ERR_STEP;
    dpa_kv *dp = NULL;
    if (dpa_kv_load(conf, &dp) != DPF_OK)
        dp = NULL; /* no settings written */
    const char *version = dpa_kv_get(dp, "ComponentVersion");

    dpa_step_log(s, "fqdn=%s", s->host->fqdn);
    dpa_step_log(s, "files=%zu", dpa_fs_count_files(bin));
    dpa_step_log(s, "version=%s", version ? version : "");
    dpa_step_log(s, "shares=%d", exists(s, DPA_REL_SHARES_CONF, 0));
    dpa_step_log(s, "provider=%d", exists(s, DPA_REL_PROVIDER_CONF, 0));
    dpa_step_log(s, "vdirs=%d", exists(s, DPA_REL_VDIRS_CONF, 0));
    dpa_step_log(s, "settings=%d", dp != NULL);
    dpa_step_log(s, "pxe=%d", exists(s, DPA_REL_REMINST, 1) && exists(s, DPA_REL_TFTP_CONF, 0));
    dpa_step_log(s, "pulldp=%d", exists(s, DPA_REL_PULLDP_CONF, 0));
    dpa_step_log(s, "http_port=%d", dpa_http_port(s->host->http));
    dpa_kv_destroy(dp);
    return DPF_OK;
}

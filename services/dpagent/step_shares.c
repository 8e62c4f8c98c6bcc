/* create_shares: SMS_DP$ (with sms/bin and sms/logs), SCCMContentLib$ (the
 * single-instance store: PkgLib, DataLib, FileLib) and SMSSIG$, mode 0755,
 * and their table in etc/shares.conf (name=path). The source logs
 * "Successfully created share SMS_DP$ on server ..." for each. */
#include "dpagent.h"

#include <stdio.h>
#include <string.h>
#include "fsutil.h"
#include "kvfile.h"

typedef struct share_def {
    const char *name;
    const char *dirs[5]; /* relative to the host root, NULL-terminated */
} share_def;

static const share_def g_shares[] = {
    {"SMS_DP$", {"SMS_DP$", "SMS_DP$/sms", DPA_REL_BIN, DPA_REL_LOGS, NULL}},
    {"SCCMContentLib$",
     {DPA_REL_CONTENTLIB, DPA_REL_CONTENTLIB "/PkgLib", DPA_REL_CONTENTLIB "/DataLib",
      DPA_REL_CONTENTLIB "/FileLib", NULL}},
    {"SMSSIG$", {DPA_REL_SIG, NULL}},
};

#define NSHARES (sizeof g_shares / sizeof g_shares[0])

dpf_status dpa_step_create_shares(dpa_step *s)
{
    dpa_kv *table = NULL, *old = NULL;
    char etc[PATH_MAX], conf[PATH_MAX];
    if (dpa_step_path(s, etc, sizeof etc, DPA_REL_ETC) != DPF_OK ||
        dpa_step_path(s, conf, sizeof conf, DPA_REL_SHARES_CONF) != DPF_OK)
        return DPF_ERR_STEP;
    /* install_files already made SMS_DP$/sms/bin: a share is "created" once
     * it is recorded in etc/shares.conf, not when its directory appears */
    if (dpa_kv_load(conf, &old) != DPF_OK)
        old = NULL;
    dpf_status rc = dpa_kv_create(&table);
    if (rc != DPF_OK) {
        dpa_kv_destroy(old);
        return dpa_step_fail(s, "out of memory");
    }
    for (size_t i = 0; rc == DPF_OK && i < NSHARES; i++) {
        const share_def *sh = &g_shares[i];
        int created = 0;
        char path[PATH_MAX];
        for (size_t d = 0; rc == DPF_OK && sh->dirs[d] != NULL; d++) {
            rc = dpa_step_path(s, path, sizeof path, sh->dirs[d]);
            if (rc == DPF_OK && dpa_fs_mkdirs(path, 0755, &created) != DPF_OK)
                rc = dpa_step_fail(s, "Failed to create share %s on server %s: cannot create %s",
                                   sh->name, s->host->fqdn, path);
        }
        if (rc == DPF_OK)
            rc = dpa_step_path(s, path, sizeof path, sh->dirs[0]);
        if (rc == DPF_OK && dpa_kv_set(table, sh->name, path) != DPF_OK)
            rc = dpa_step_fail(s, "out of memory");
        if (rc != DPF_OK)
            break;
        const char *recorded = dpa_kv_get(old, sh->name);
        created |= recorded == NULL || strcmp(recorded, path) != 0;
        s->changed |= created;
        if (created)
            dpa_step_log(s, "~Successfully created share %s on server %s", sh->name,
                         s->host->fqdn);
        else
            dpa_step_log(s, "~Share %s already exists on server %s", sh->name, s->host->fqdn);
    }

    if (rc == DPF_OK && (dpa_fs_mkdirs(etc, 0755, &s->changed) != DPF_OK ||
                         dpa_kv_save(table, conf, &s->changed) != DPF_OK))
        rc = dpa_step_fail(s, "cannot write %s", conf);
    dpa_kv_destroy(table);
    dpa_kv_destroy(old);
    return rc;
}

dpf_status dpa_step_remove_shares(dpa_step *s)
{
    dpf_status rc = DPF_OK;
    dpa_step_log(s, "Uninstalling distribution point files from server %s~", s->host->fqdn);
    for (size_t i = 0; rc == DPF_OK && i < NSHARES; i++) {
        const share_def *sh = &g_shares[i];
        char path[PATH_MAX];
        int removed = 0;
        rc = dpa_step_path(s, path, sizeof path, sh->dirs[0]);
        if (rc != DPF_OK)
            break;
        if (!dpa_fs_is_dir(path)) {
            dpa_step_log(s, "Share %s does not exist on server %s", sh->name, s->host->fqdn);
            continue;
        }
        dpa_step_log(s, "Removed share %s from server %s", sh->name, s->host->fqdn);
        if (dpa_fs_rmtree(path, &removed) != DPF_OK)
            rc = dpa_step_fail(s, "Failed to remove %s directory %s", sh->name, path);
        else
            dpa_step_log(s, "Successfully removed %s directory.", sh->name);
        s->changed |= removed;
    }
    char conf[PATH_MAX], etc[PATH_MAX];
    if (rc == DPF_OK && (rc = dpa_step_path(s, conf, sizeof conf, DPA_REL_SHARES_CONF)) == DPF_OK &&
        dpa_fs_unlink(conf, &s->changed) != DPF_OK)
        rc = dpa_step_fail(s, "cannot remove %s", conf);
    if (rc == DPF_OK && dpa_step_path(s, etc, sizeof etc, DPA_REL_ETC) == DPF_OK)
        dpa_fs_rmdir_if_empty(etc);
    if (rc == DPF_OK)
        dpa_step_log(s, "~Completed uninstalling distribution on the remote distribution point");
    return rc;
}

/* configure_pxe / remove_pxe: the source's PXE role (seed step 9). With
 * pxe=1 the REMINST tree (RemoteInstall/SMSBoot/x64, SMSImages, SMSTemp,
 * SMSTempBootFiles) and the TFTP configuration are created, logged the way
 * SMSDPProv.log shows CcmInstallPXE; with pxe=0 (or remove_pxe) all of it
 * is removed if present. */
#include "dpagent.h"

#include <stdio.h>
#include <string.h>
#include "fsutil.h"
#include "kvfile.h"

static const char *const g_pxe_dirs[] = {
    DPA_REL_REMINST "/SMSBoot/x64",
    DPA_REL_REMINST "/SMSImages",
    DPA_REL_REMINST "/SMSTemp",
    DPA_REL_REMINST "/SMSTempBootFiles",
};

#define NPXEDIRS (sizeof g_pxe_dirs / sizeof g_pxe_dirs[0])

static dpf_status write_tftp_conf(dpa_step *s, const char *reminst, int *changed)
{
    char etc[PATH_MAX], conf[PATH_MAX];
    dpa_kv *kv = NULL;
    if (dpa_step_path(s, etc, sizeof etc, DPA_REL_ETC) != DPF_OK ||
        dpa_step_path(s, conf, sizeof conf, DPA_REL_TFTP_CONF) != DPF_OK)
        return DPF_ERR_STEP;
    dpf_status rc = dpa_kv_create(&kv);
    if (rc == DPF_OK && (rc = dpa_kv_set(kv, "enabled", "1")) == DPF_OK &&
        (rc = dpa_kv_set(kv, "root", reminst)) == DPF_OK &&
        (rc = dpa_kv_set(kv, "readfilter", "\\SMSBoot\\*,\\SMSImages\\*,\\SMSTemp\\*,"
                                           "\\SMSTempBootFiles\\*")) == DPF_OK &&
        (rc = dpa_fs_mkdirs(etc, 0755, changed)) == DPF_OK)
        rc = dpa_kv_save(kv, conf, changed);
    dpa_kv_destroy(kv);
    if (rc != DPF_OK)
        return dpa_step_fail(s, "cannot write %s: %s", conf, dpf_status_text(rc));
    return DPF_OK;
}

static dpf_status install_pxe(dpa_step *s)
{
    char reminst[PATH_MAX], bin[PATH_MAX], path[PATH_MAX];
    int changed = 0;
    if (dpa_step_path(s, reminst, sizeof reminst, DPA_REL_REMINST) != DPF_OK ||
        dpa_step_path(s, bin, sizeof bin, DPA_REL_BIN) != DPF_OK)
        return DPF_ERR_STEP;
    dpa_step_log(s, "CcmInstallPXE");
    if (dpa_fs_is_dir(reminst)) {
        dpa_step_log(s, "REMINST share exists and points to: %s", reminst);
    } else {
        dpa_step_log(s, "Share (REMINST) does not exist.");
        dpa_step_log(s, "REMINST share does not exist. Need to create it.");
        dpa_step_log(s, "Creating REMINST share to point to: %s", reminst);
    }
    for (size_t i = 0; i < NPXEDIRS; i++) {
        if (dpa_step_path(s, path, sizeof path, g_pxe_dirs[i]) != DPF_OK)
            return DPF_ERR_STEP;
        if (dpa_fs_mkdirs(path, 0755, &changed) != DPF_OK)
            return dpa_step_fail(s, "Failed to create share REMINST: cannot create %s", path);
    }
    if (changed)
        dpa_step_log(s, "Succesfully created share REMINST");
    dpa_step_log(s, "Setting TFTP config as: %s/" DPA_REL_TFTP_CONF, s->host->root);
    dpa_step_log(s, "Configuring TFTP read filters");
    if (write_tftp_conf(s, reminst, &changed) != DPF_OK)
        return DPF_ERR_STEP;
    dpa_step_log(s, "Registering WDS provider: SourceDir: %s", bin);
    dpa_step_log(s, "Registering WDS provider: ProviderPath: %s/smspxe", bin);
    s->changed |= changed;
    dpa_step_log(s, changed ? "Installed PXE" : "PXE is already installed");
    return DPF_OK;
}

static dpf_status uninstall_pxe(dpa_step *s)
{
    char reminst[PATH_MAX], conf[PATH_MAX], etc[PATH_MAX];
    if (dpa_step_path(s, reminst, sizeof reminst, DPA_REL_REMINST) != DPF_OK ||
        dpa_step_path(s, conf, sizeof conf, DPA_REL_TFTP_CONF) != DPF_OK ||
        dpa_step_path(s, etc, sizeof etc, DPA_REL_ETC) != DPF_OK)
        return DPF_ERR_STEP;
    if (!dpa_fs_is_dir(reminst) && !dpa_fs_is_file(conf)) {
        dpa_step_log(s, "PXE is not installed on %s, nothing to remove", s->host->fqdn);
        return DPF_OK;
    }
    dpa_step_log(s, "Removing existing PXE related directories");
    if (dpa_fs_rmtree(reminst, &s->changed) != DPF_OK)
        return dpa_step_fail(s, "Failed to remove %s", reminst);
    if (dpa_fs_unlink(conf, &s->changed) != DPF_OK)
        return dpa_step_fail(s, "Failed to remove %s", conf);
    dpa_fs_rmdir_if_empty(etc);
    dpa_step_log(s, "Removed share REMINST (%s) and the TFTP configuration", reminst);
    dpa_step_log(s, "Uninstalled PXE");
    return DPF_OK;
}

dpf_status dpa_step_configure_pxe(dpa_step *s)
{
    const char *pxe = dpa_step_param(s, "pxe");
    if (pxe == NULL)
        return dpa_step_fail(s, "configure_pxe needs parameter 'pxe' (1 or 0)");
    if (strcmp(pxe, "1") == 0)
        return install_pxe(s);
    if (strcmp(pxe, "0") == 0)
        return uninstall_pxe(s);
    return dpa_step_fail(s, "parameter 'pxe' must be 1 or 0, not '%.32s'", pxe);
}

dpf_status dpa_step_remove_pxe(dpa_step *s)
{
    return uninstall_pxe(s);
}

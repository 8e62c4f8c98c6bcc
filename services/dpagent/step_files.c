/* install_files: the DP component files into SMS_DP$/sms/bin (seed step 8,
 * "Copies necessary files to the DP", and the "File '...' is signed and
 * trusted." check). The whole set is verified before the first byte is
 * written; then each file is written atomically, only if it differs, and
 * component files that are no longer in the signed set are removed, so the
 * directory always holds exactly one verified release. */
#include "dpagent.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fsutil.h"
#include "verify.h"

static int in_set(const dpa_file *files, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(files[i].name, name) == 0)
            return 1;
    }
    return 0;
}

static dpf_status remove_obsolete(dpa_step *s, const char *bin, const dpa_file *files, size_t n)
{
    DIR *d = opendir(bin);
    if (d == NULL)
        return DPF_OK;
    dpf_status rc = DPF_OK;
    struct dirent *e;
    while (rc == DPF_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || in_set(files, n, e->d_name))
            continue;
        char path[PATH_MAX], rel[PATH_MAX], unc[PATH_MAX];
        snprintf(rel, sizeof rel, DPA_REL_BIN "/%s", e->d_name);
        rc = dpa_step_path(s, path, sizeof path, rel);
        if (rc == DPF_OK && dpa_fs_is_file(path)) {
            rc = dpa_fs_unlink(path, &s->changed);
            dpa_step_unc(s, unc, sizeof unc, rel);
            if (rc == DPF_OK)
                dpa_step_log(s, "Removed obsolete component file '%s'", unc);
        }
    }
    closedir(d);
    return rc;
}

dpf_status dpa_step_install_files(dpa_step *s)
{
    const Dpf__AgentRequest *req = s->req;
    dpa_file *files = calloc(req->n_files ? req->n_files : 1, sizeof *files);
    if (files == NULL)
        return dpa_step_fail(s, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < req->n_files; i++) {
        const Dpf__ComponentFile *f = req->files[i];
        if (f == NULL || (f->name != NULL && dpa_verify_is_meta(f->name)))
            continue;
        files[n].name = f->name ? f->name : "";
        files[n].data = f->data.data;
        files[n].len = f->data.len;
        n++;
    }

    char err[1024];
    dpf_status rc = dpa_verify_files(s->host->agent ? s->host->agent->verify : NULL,
                                     req->manifest.data, req->manifest.len, req->signature.data,
                                     req->signature.len, files, n, err, sizeof err);
    if (rc != DPF_OK) {
        free(files);
        return dpa_step_fail(s, "%s; nothing was installed", err);
    }

    char bin[PATH_MAX];
    rc = dpa_step_path(s, bin, sizeof bin, DPA_REL_BIN);
    if (rc == DPF_OK && dpa_fs_mkdirs(bin, 0755, &s->changed) != DPF_OK)
        rc = dpa_step_fail(s, "cannot create %s", bin);
    size_t written = 0;
    for (size_t i = 0; rc == DPF_OK && i < n; i++) {
        char path[PATH_MAX], rel[PATH_MAX], unc[PATH_MAX];
        int file_changed = 0;
        snprintf(rel, sizeof rel, DPA_REL_BIN "/%s", files[i].name);
        dpa_step_unc(s, unc, sizeof unc, rel);
        rc = dpa_step_path(s, path, sizeof path, rel);
        if (rc != DPF_OK)
            break;
        dpa_step_log(s, "File '%s' is signed and trusted.", unc);
        rc = dpa_fs_write_atomic(path, files[i].data, files[i].len, 0644, &file_changed);
        if (rc != DPF_OK) {
            rc = dpa_step_fail(s, "cannot write '%s': %s", unc, dpf_status_text(rc));
            break;
        }
        if (file_changed) {
            written++;
            s->changed = 1;
            dpa_step_log(s, "Copied %s to %s", files[i].name, unc);
        }
    }
    if (rc == DPF_OK)
        rc = remove_obsolete(s, bin, files, n);
    if (rc == DPF_OK) {
        char unc[PATH_MAX];
        dpa_step_unc(s, unc, sizeof unc, DPA_REL_BIN);
        dpa_step_log(s, "Installed %zu DP component files in %s (%zu copied, %zu already up to "
                        "date)", n, unc, written, n - written);
    }
    free(files);
    return rc;
}

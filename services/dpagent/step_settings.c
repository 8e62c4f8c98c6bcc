/* register_provider and write_settings: the source's "Successfully installed
 * DP WMI provider" and "DP registry settings have been successfully updated".
 * The provider registration is the agent's control endpoint (the subject
 * distmgr sends steps to); the settings are the DP's properties as
 * key=value, sorted, with ComponentVersion, which an upgrade compares. */
#include "dpagent.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <dpf/agent.h>
#include <dpf/util.h>
#include "fsutil.h"
#include "kvfile.h"

static dpf_status save_in_etc(dpa_step *s, const dpa_kv *kv, const char *rel)
{
    char etc[PATH_MAX], conf[PATH_MAX];
    if (dpa_step_path(s, etc, sizeof etc, DPA_REL_ETC) != DPF_OK ||
        dpa_step_path(s, conf, sizeof conf, rel) != DPF_OK)
        return DPF_ERR_STEP;
    if (dpa_fs_mkdirs(etc, 0755, &s->changed) != DPF_OK ||
        dpa_kv_save(kv, conf, &s->changed) != DPF_OK)
        return dpa_step_fail(s, "cannot write %s", conf);
    return DPF_OK;
}

static const char *component_version(const dpa_step *s)
{
    const char *v = dpa_step_param(s, "ComponentVersion");
    return v != NULL && *v != '\0' ? v : DPF_COMPONENT_VERSION;
}

dpf_status dpa_step_register_provider(dpa_step *s)
{
    char subject[DPF_FQDN_MAX + 32], conf[PATH_MAX], when[32];
    snprintf(subject, sizeof subject, DPF_AGENT_SUBJECT_FMT, s->host->fqdn);
    const char *version = component_version(s);
    if (dpa_step_path(s, conf, sizeof conf, DPA_REL_PROVIDER_CONF) != DPF_OK)
        return DPF_ERR_STEP;

    dpa_kv *old = NULL, *kv = NULL;
    if (dpa_kv_load(conf, &old) != DPF_OK)
        old = NULL; /* not registered yet, or unreadable: register afresh */
    const char *old_subject = dpa_kv_get(old, "subject"), *old_version = dpa_kv_get(old, "version");
    if (old_subject && old_version && strcmp(old_subject, subject) == 0 &&
        strcmp(old_version, version) == 0 && dpa_kv_get(old, "time") != NULL) {
        dpa_step_log(s, "DP provider (SMSDPProvider) is already registered on %s: %s, version %s, "
                        "since %s", s->host->fqdn, subject, version, dpa_kv_get(old, "time"));
        dpa_kv_destroy(old);
        return DPF_OK;
    }
    dpa_kv_destroy(old);

    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    dpa_step_log(s, "Registering DPProvider on server %s: %s, version %s", s->host->fqdn, subject,
                 version);
    dpf_status rc = dpa_kv_create(&kv);
    if (rc == DPF_OK && ((rc = dpa_kv_set(kv, "subject", subject)) != DPF_OK ||
                         (rc = dpa_kv_set(kv, "version", version)) != DPF_OK ||
                         (rc = dpa_kv_set(kv, "time", when)) != DPF_OK))
        rc = dpa_step_fail(s, "ComponentVersion '%.64s' cannot be recorded", version);
    if (rc == DPF_OK)
        rc = save_in_etc(s, kv, DPA_REL_PROVIDER_CONF);
    dpa_kv_destroy(kv);
    if (rc == DPF_OK)
        dpa_step_log(s, "~Successfully installed DP provider (SMSDPProvider) on %s",
                     s->host->fqdn);
    return rc;
}

static dpf_status set_default(dpa_kv *kv, const char *key, const char *value)
{
    if (dpa_kv_get(kv, key) != NULL || value == NULL || *value == '\0')
        return DPF_OK;
    return dpa_kv_set(kv, key, value);
}

dpf_status dpa_step_write_settings(dpa_step *s)
{
    const Dpf__AgentRequest *req = s->req;
    dpa_kv *kv = NULL;
    char err[256], dpid[24];
    if (dpa_kv_create(&kv) != DPF_OK)
        return dpa_step_fail(s, "out of memory");
    dpa_step_log(s, "ConfigureDP");
    for (size_t i = 0; i < req->n_params; i++) {
        const Dpf__KeyValue *p = req->params[i];
        const char *key = p && p->key ? p->key : "", *value = p && p->value ? p->value : "";
        if (!dpa_kv_valid(key, value, err, sizeof err)) {
            dpa_kv_destroy(kv);
            return dpa_step_fail(s, "DP registry settings were not updated on %s: %s",
                                 s->host->fqdn, err);
        }
        if (dpa_kv_set(kv, key, value) != DPF_OK) {
            dpa_kv_destroy(kv);
            return dpa_step_fail(s, "out of memory");
        }
    }
    snprintf(dpid, sizeof dpid, "%lld", (long long)req->dpid);
    char nal[DPF_NAL_MAX + 1] = "", site[8] = "";
    /* request text fields that break the file's format are not stored */
    if (req->nal_path && dpa_kv_valid("NALPath", req->nal_path, err, sizeof err))
        snprintf(nal, sizeof nal, "%s", req->nal_path);
    if (req->site_code && dpa_kv_valid("SiteCode", req->site_code, err, sizeof err))
        snprintf(site, sizeof site, "%s", req->site_code);
    if (set_default(kv, "ComponentVersion", DPF_COMPONENT_VERSION) != DPF_OK ||
        set_default(kv, "ServerName", s->host->fqdn) != DPF_OK ||
        set_default(kv, "DPID", req->dpid ? dpid : NULL) != DPF_OK ||
        set_default(kv, "NALPath", nal) != DPF_OK || set_default(kv, "SiteCode", site) != DPF_OK) {
        dpa_kv_destroy(kv);
        return dpa_step_fail(s, "out of memory");
    }
    dpa_kv_sort(kv);
    int before = s->changed;
    s->changed = 0;
    dpf_status rc = save_in_etc(s, kv, DPA_REL_DP_CONF);
    if (rc == DPF_OK && s->changed)
        dpa_step_log(s, "DP registry settings have been successfully updated on %s (%zu "
                        "settings, ComponentVersion %s)", s->host->fqdn, dpa_kv_count(kv),
                     dpa_kv_get(kv, "ComponentVersion"));
    else if (rc == DPF_OK)
        dpa_step_log(s, "DP registry settings on %s are already up to date (%zu settings, "
                        "ComponentVersion %s)", s->host->fqdn, dpa_kv_count(kv),
                     dpa_kv_get(kv, "ComponentVersion"));
    s->changed |= before;
    dpa_kv_destroy(kv);
    return rc;
}

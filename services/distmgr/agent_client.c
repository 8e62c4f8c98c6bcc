/* Sends one install step to a DP's agent and turns the reply into the
 * lines the source's DistMgr.log shows for that step, so an administrator
 * who knows "~Successfully created share SMS_DP$ on server ..." finds it
 * here too. The agent's own lines (its SMSDPProv.log) are kept at debug
 * level, or shown in full when the step failed. */
#include "agent_client.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dpf/agent.h>
#include <dpf/dp.h>
#include <dpf/log.h>
#include <dpf/trace.h>
#include <dpf/metrics.h>
#include <dpf/util.h>

#include "dpfleet.pb-c.h"

#define MAX_PARAMS 32
#define ISAPI_FILE "smsfileisapi"

static const dpf_stepsig_signer *g_signer;

static dpf_stepsig_signer *g_loaded; /* the one dm_agent_signer_load owns */

void dm_agent_set_signer(const dpf_stepsig_signer *s) { g_signer = s; }
const dpf_stepsig_signer *dm_agent_signer(void) { return g_signer; }

dpf_status dm_agent_signer_load(const char *path, char *err, size_t errlen)
{
    dpf_stepsig_signer *s = NULL;
    dpf_status st = dpf_stepsig_signer_load(path, &s, err, errlen);
    if (st != DPF_OK)
        return st;
    dm_agent_signer_free();
    g_loaded = s;
    g_signer = s;
    return DPF_OK;
}

void dm_agent_signer_free(void)
{
    if (g_signer == g_loaded)
        g_signer = NULL;
    dpf_stepsig_signer_free(g_loaded);
    g_loaded = NULL;
}

const char *dm_agent_param(const dm_agent_kv *params, size_t nparams, const char *key)
{
    for (size_t i = 0; i < nparams; i++) {
        if (strcmp(params[i].key, key) == 0)
            return params[i].value;
    }
    return NULL;
}

static void upper(const char *in, char *out, size_t len)
{
    size_t i = 0;
    for (; in[i] != '\0' && i + 1 < len; i++)
        out[i] = (char)toupper((unsigned char)in[i]);
    out[i] = '\0';
}

static void log_install_files(const dm_dp_row *dp, const dm_components *comps, int changed)
{
    const char *srv = dp->server_name;
    size_t n = comps != NULL ? dm_components_count(comps) : 0;
    for (size_t i = 0; i < n; i++) {
        const char *f = dm_components_name(comps, i);
        if (!changed)
            break;
        if (strcmp(f, ISAPI_FILE) == 0)
            DPF_INFO("Installed ISAPI on %s, copied %s/%s to \\\\%s\\SMS_DP$\\sms\\bin\\%s", srv,
                     dm_components_dir(comps), f, srv, f);
        else
            DPF_INFO("Copied %s/%s to \\\\%s\\SMS_DP$\\sms\\bin\\%s", dm_components_dir(comps),
                     f, srv, f);
    }
    if (!changed)
        DPF_INFO("DP component files on %s are already up to date (%zu files)", srv, n);
    for (size_t i = 0; i < n; i++)
        DPF_INFO("File '\\\\%s\\SMS_DP$\\sms\\bin\\%s' is signed and trusted.", srv,
                 dm_components_name(comps, i));
}

/* The source's removal lines (seed "DP removal" step 5). */
static void log_removed(const dm_dp_row *dp, const char *step, int changed)
{
    const char *srv = dp->server_name;
    if (strcmp(step, DPF_STEP_REMOVE_PXE) == 0) {
        DPF_INFO(changed ? "Removed PXE (RemoteInstall and TFTP configuration) from %s"
                         : "PXE is not installed on %s", srv);
    } else if (strcmp(step, DPF_STEP_REMOVE_TASKS) == 0) {
        DPF_INFO(changed ? "Removed Monitoring and Usage scheduled tasks from %s"
                         : "No Monitoring and Usage scheduled tasks on %s", srv);
    } else if (strcmp(step, DPF_STEP_REMOVE_PULLDP) == 0) {
        if (changed)
            DPF_INFO("PullDP %s is marked Uninstalled", dp->nal_path);
    } else if (strcmp(step, DPF_STEP_UNREGISTER_PROVIDER) == 0) {
        DPF_INFO("Deleted provider classes on distribution point");
        DPF_INFO("~Uninstalling DP provider from remote distribution point.");
        DPF_INFO("Unregistering DPProvider on server %s.", srv);
    } else if (strcmp(step, DPF_STEP_REMOVE_SHARES) == 0) {
        if (changed) {
            DPF_INFO("Removed share SMS_DP$ from server %s", srv);
            DPF_INFO("Successfully removed SMS_DP$ directory.");
            DPF_INFO("Removed share SCCMContentLib$ from server %s", srv);
            DPF_INFO("Removed share SMSSIG$ from server %s", srv);
        } else {
            DPF_INFO("DP shares SMS_DP$, SCCMContentLib$ and SMSSIG$ do not exist on %s", srv);
        }
    } else if (strcmp(step, DPF_STEP_REMOVE_VDIRS) == 0) {
        DPF_INFO("Removed IIS virtual directories from the distribution point %s", srv);
    } else if (strcmp(step, DPF_STEP_REMOVE_SETTINGS) == 0) {
        DPF_INFO(changed ? "DP registry settings have been deleted on %s"
                         : "DP registry settings were already gone on %s", srv);
    }
}

/* The source's line(s) for a step that replied ok. */
static void log_done(const dm_dp_row *dp, const char *step, const dm_agent_kv *params,
                     size_t nparams, const dm_components *comps, int changed)
{
    const char *srv = dp->server_name;
    if (strcmp(step, DPF_STEP_INSTALL_FILES) == 0) {
        log_install_files(dp, comps, changed);
    } else if (strcmp(step, DPF_STEP_CREATE_SHARES) == 0) {
        if (changed) {
            DPF_INFO("~Successfully created share SMS_DP$ on server %s", srv);
            DPF_INFO("~Successfully created share SCCMContentLib$ on server %s", srv);
            DPF_INFO("~Successfully created share SMSSIG$ on server %s", srv);
        } else {
            DPF_INFO("DP share SMS_DP$ already exist on the remote DP~");
        }
    } else if (strcmp(step, DPF_STEP_ENABLE_HTTP) == 0) {
        if (changed)
            DPF_INFO("~Enabled HTTP content server on remote server %s.", srv);
        else
            DPF_INFO("HTTP content server is already enabled on remote server %s.", srv);
    } else if (strcmp(step, DPF_STEP_REGISTER_PROVIDER) == 0) {
        DPF_INFO("~Successfully installed DP control provider on the remote distribution point");
    } else if (strcmp(step, DPF_STEP_CONFIGURE_VDIRS) == 0) {
        DPF_INFO("Configure IIS virtual directories successfully on the distribution point %s",
                 srv);
    } else if (strcmp(step, DPF_STEP_WRITE_SETTINGS) == 0) {
        DPF_INFO("DP registry settings have been successfully updated on %s", srv);
    } else if (strcmp(step, DPF_STEP_CONFIGURE_PXE) == 0) {
        const char *pxe = dm_agent_param(params, nparams, "pxe");
        if (pxe != NULL && strcmp(pxe, "1") == 0)
            DPF_INFO("Installed PXE on %s (RemoteInstall and TFTP configuration)%s", srv,
                     changed ? "" : ", already in place");
        else if (changed)
            DPF_INFO("PXE is not enabled on %s, removed its RemoteInstall and TFTP "
                     "configuration", srv);
        else
            DPF_INFO("PXE is not enabled on %s, nothing to configure", srv);
    } else if (strncmp(step, "remove_", 7) == 0 || strcmp(step, DPF_STEP_UNREGISTER_PROVIDER) == 0) {
        log_removed(dp, step, changed);
    } else if (strcmp(step, DPF_STEP_CONFIGURE_PULLDP) == 0) {
        const char *pull = dm_agent_param(params, nparams, "pulldp");
        if (pull != NULL && strcmp(pull, "1") == 0)
            DPF_INFO("Installing PullDP, check \\\\%s\\SMS_DP$\\sms\\logs\\smsdpprov.log", srv);
        else
            DPF_INFO("Uninstalled PullDP on %s%s", srv, changed ? "" : " (was not installed)");
    }
}

static void log_agent_lines(const Dpf__AgentReply *rep, dpf_log_level level)
{
    for (size_t i = 0; i < rep->n_log; i++)
        DPF_LOG(level, "agent %s: %s", rep->fqdn, rep->log[i]);
}

/* Fills req with the step's params and, for install_files, the files.
 * The arrays are the caller's, sized MAX_PARAMS and the file count. */
static dpf_status build(Dpf__AgentRequest *req, const dm_dp_row *dp, const char *step,
                        const dm_agent_kv *params, size_t nparams, const dm_components *comps,
                        Dpf__KeyValue *kv, Dpf__KeyValue **kvp, Dpf__ComponentFile **filep,
                        char *fqdn)
{
    if (nparams > MAX_PARAMS)
        return DPF_ERR_INVALID;
    req->step = (char *)step;
    req->fqdn = fqdn;
    req->dpid = dp->dpid;
    req->nal_path = dp->nal_path;
    req->site_code = dp->site_code;
    for (size_t i = 0; i < nparams; i++) {
        dpf__key_value__init(&kv[i]);
        kv[i].key = (char *)params[i].key;
        kv[i].value = (char *)params[i].value;
        kvp[i] = &kv[i];
    }
    req->n_params = nparams;
    req->params = kvp;
    if (comps == NULL)
        return DPF_OK;
    size_t n = dm_components_count(comps);
    for (size_t i = 0; i < n; i++) {
        Dpf__ComponentFile *f = malloc(sizeof *f);
        if (f == NULL)
            return DPF_ERR_NOMEM;
        dpf__component_file__init(f);
        f->name = (char *)dm_components_name(comps, i);
        f->data.data = (uint8_t *)dm_components_data(comps, i, &f->data.len);
        filep[i] = f;
        req->n_files = i + 1;
    }
    req->files = filep;
    req->manifest.data = (uint8_t *)dm_components_manifest(comps, &req->manifest.len);
    req->signature.data = (uint8_t *)dm_components_signature(comps, &req->signature.len);
    return DPF_OK;
}

static dpf_status request(dpf_bus *bus, Dpf__AgentRequest *req, const char *subject,
                          int timeout_s, void **reply, size_t *reply_len)
{
    size_t len = 0;
    uint8_t *buf = NULL;
    if (g_signer != NULL) { /* signed, timestamped, its own nonce (dpf/stepsig.h) */
        dpf_status st = dpf_stepsig_pack(g_signer, req, &buf, &len);
        if (st != DPF_OK)
            return st;
    } else {
        len = dpf__agent_request__get_packed_size(req);
        buf = malloc(len ? len : 1);
        if (buf == NULL)
            return DPF_ERR_NOMEM;
        dpf__agent_request__pack(req, buf);
    }
    /* the agent's steps are idempotent: a request whose reply a NATS
     * restart lost is sent again instead of waiting for the step timeout */
    dpf_status st = dpf_bus_request_idem(bus, subject, buf, len, dpf_log_corr(),
                                         timeout_s * 1000, reply, reply_len);
    free(buf);
    return st;
}

/* 1 when the reply refuses the request as a replay (dpf/stepsig.h). */
static int refused_as_replay(const void *reply, size_t len)
{
    Dpf__AgentReply *rep = dpf__agent_reply__unpack(NULL, len, reply);
    int replay = rep != NULL && !rep->ok && rep->error != NULL &&
                 strstr(rep->error, "replayed: this request's nonce") != NULL;
    if (rep != NULL)
        dpf__agent_reply__free_unpacked(rep, NULL);
    return replay;
}

dpf_status dm_agent_run(dpf_bus *bus, const dm_dp_row *dp, const char *step,
                        const dm_agent_kv *params, size_t nparams,
                        const dm_components *comps, int timeout_s,
                        dm_agent_result *res, char *reason, size_t reasonlen)
{
    char fqdn[DPF_FQDN_MAX + 1], subject[DPF_FQDN_MAX + 32];
    Dpf__KeyValue kv[MAX_PARAMS];
    Dpf__KeyValue *kvp[MAX_PARAMS];
    Dpf__AgentRequest req = DPF__AGENT_REQUEST__INIT;
    size_t nfiles = comps != NULL ? dm_components_count(comps) : 0;
    Dpf__ComponentFile **filep = calloc(nfiles + 1, sizeof *filep);
    void *reply = NULL;
    size_t reply_len = 0;
    Dpf__AgentReply *rep = NULL;
    dpf_status st = DPF_ERR_NOMEM;

    memset(res, 0, sizeof *res);
    reason[0] = '\0';
    upper(dp->server_name, fqdn, sizeof fqdn);
    snprintf(subject, sizeof subject, DPF_AGENT_SUBJECT_FMT, fqdn);
    if (filep == NULL)
        goto cleanup;
    st = build(&req, dp, step, params, nparams, comps, kv, kvp, filep, fqdn);
    if (st != DPF_OK) {
        snprintf(reason, reasonlen, "could not build the %s request: %s", step,
                 dpf_status_text(st));
        goto cleanup;
    }

    DPF_DEBUG("step %s on %s: sending request to %s", step, fqdn, subject);
    int64_t t0 = dpf_mono_us();
    st = request(bus, &req, subject, timeout_s, &reply, &reply_len);
    if (st == DPF_OK && g_signer != NULL && refused_as_replay(reply, reply_len)) {
        /* dpf_bus_request_idem sent the same signed bytes again after a NATS
         * reconnection, and the agent had received the first copy: the step
         * is idempotent, so it is signed anew (fresh nonce) and asked again */
        DPF_INFO("step %s on %s: the agent had already received this request (sent again "
                 "after a NATS reconnection); signing it anew", step, fqdn);
        free(reply);
        reply = NULL;
        reply_len = 0;
        st = request(bus, &req, subject, timeout_s, &reply, &reply_len);
    }
    res->round_trip_us = dpf_mono_us() - t0;
    if (st == DPF_ERR_TIMEOUT && res->round_trip_us < (long long)timeout_s * 1000000 / 2) {
        /* NATS answered "no responders" at once: nobody serves the subject */
        snprintf(reason, reasonlen, "no agent answers on %s \xe2\x80\x94 is dpagent running "
                 "for %s?", subject, fqdn);
        goto cleanup;
    }
    if (st == DPF_ERR_TIMEOUT) {
        snprintf(reason, reasonlen, "no reply from the agent in %d s \xe2\x80\x94 is dpagent "
                 "running for %s?", timeout_s, fqdn);
        goto cleanup;
    }
    if (st != DPF_OK) {
        snprintf(reason, reasonlen, "could not reach the agent on %s (%s) \xe2\x80\x94 is dpagent "
                 "running for %s?", subject, dpf_status_text(st), fqdn);
        goto cleanup;
    }
    rep = dpf__agent_reply__unpack(NULL, reply_len, reply);
    if (rep == NULL) {
        st = DPF_ERR_DECODE;
        snprintf(reason, reasonlen, "the agent on %s sent a reply that is not an AgentReply "
                 "(%zu bytes)", fqdn, reply_len);
        goto cleanup;
    }
    res->changed = rep->changed;
    res->agent_us = rep->duration_us;
    /* what the host's smsdpprov.log says, for the timeline (trace_events) */
    dpf_trace_join_lines(rep->log, rep->n_log, res->log, sizeof res->log);
    if (rep->content_url != NULL)
        snprintf(res->content_url, sizeof res->content_url, "%s", rep->content_url);
    if (!rep->ok) {
        st = DPF_ERR_STEP;
        snprintf(reason, reasonlen, "%s", rep->error != NULL && rep->error[0] != '\0'
                 ? rep->error : "the agent reported a failure without a reason");
        log_agent_lines(rep, DPF_LOG_INFO);
        goto cleanup;
    }
    log_agent_lines(rep, DPF_LOG_DEBUG);
    log_done(dp, step, params, nparams, comps, rep->changed);
    DPF_INFO("step %s on %s ok in %lld ms (on the host %lld ms, %s)", step, fqdn,
             (long long)(res->round_trip_us / 1000), (long long)(rep->duration_us / 1000),
             rep->changed ? "changed" : "already in place");
    st = DPF_OK;
cleanup:
    dpf_metrics_inc(DPF_M_AGENT_STEPS, step,
                    st == DPF_OK ? "ok" : st == DPF_ERR_STEP ? "failed" : "error", NULL);
    if (rep != NULL)
        dpf__agent_reply__free_unpacked(rep, NULL);
    free(reply);
    if (filep != NULL) {
        for (size_t i = 0; i < nfiles; i++)
            free(filep[i]);
        free(filep);
    }
    return st;
}

/* The one dispatch point of dpagent: the step table and the request ->
 * reply round trip. Whatever arrives, a reply goes back: distmgr's worker
 * waits on it, and a reply with ok=0 and a reason is what lets it raise a
 * status message naming the failed step instead of timing out. */
#include "dispatch.h"
#include "content_server.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <dpf/agent.h>
#include <dpf/log.h>
#include <dpf/stepsig.h>
#include <dpf/util.h>

static const dpa_step_def g_steps[] = {
    {DPF_STEP_INSTALL_FILES, dpa_step_install_files, DPA_INSTALL},
    {DPF_STEP_CREATE_SHARES, dpa_step_create_shares, DPA_INSTALL},
    {DPF_STEP_ENABLE_HTTP, dpa_step_enable_http, DPA_INSTALL},
    {DPF_STEP_REGISTER_PROVIDER, dpa_step_register_provider, DPA_INSTALL},
    {DPF_STEP_CONFIGURE_VDIRS, dpa_step_configure_vdirs, DPA_INSTALL},
    {DPF_STEP_WRITE_SETTINGS, dpa_step_write_settings, DPA_INSTALL},
    {DPF_STEP_CONFIGURE_PXE, dpa_step_configure_pxe, DPA_INSTALL},
    {DPF_STEP_CONFIGURE_PULLDP, dpa_step_configure_pulldp, DPA_INSTALL},
    {DPF_STEP_REMOVE_PXE, dpa_step_remove_pxe, DPA_REMOVE},
    {DPF_STEP_REMOVE_TASKS, dpa_step_remove_tasks, DPA_REMOVE},
    {DPF_STEP_REMOVE_PULLDP, dpa_step_remove_pulldp, DPA_REMOVE},
    {DPF_STEP_UNREGISTER_PROVIDER, dpa_step_unregister_provider, DPA_REMOVE},
    {DPF_STEP_REMOVE_SHARES, dpa_step_remove_shares, DPA_REMOVE},
    {DPF_STEP_REMOVE_VDIRS, dpa_step_remove_vdirs, DPA_REMOVE},
    {DPF_STEP_REMOVE_SETTINGS, dpa_step_remove_settings, DPA_REMOVE},
    {DPF_STEP_STATUS, dpa_step_status, DPA_QUERY},
    {DPF_STEP_CONTENT_HAVE, dpa_step_content_have, DPA_CONTENT},
    {DPF_STEP_CONTENT_PUT, dpa_step_content_put, DPA_CONTENT},
    {DPF_STEP_CONTENT_INSTALL, dpa_step_content_install, DPA_CONTENT},
    {DPF_STEP_CONTENT_REMOVE, dpa_step_content_remove, DPA_CONTENT},
    {DPF_STEP_CONTENT_PULL, dpa_step_content_pull, DPA_CONTENT},
    {DPF_STEP_CONTENT_VALIDATE, dpa_step_content_validate, DPA_CONTENT},
};

#define NSTEPS (sizeof g_steps / sizeof g_steps[0])

const dpa_step_def *dpa_dispatch_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < NSTEPS; i++) {
        if (strcmp(g_steps[i].name, name) == 0)
            return &g_steps[i];
    }
    return NULL;
}

size_t dpa_dispatch_count(void) { return NSTEPS; }
const dpa_step_def *dpa_dispatch_at(size_t i) { return i < NSTEPS ? &g_steps[i] : NULL; }

/* Signed agent steps (issue 9): the trusted key and one nonce memory per
 * host (dpa_host.index), set once by main before any request arrives. */
static const dpf_stepsig_verifier *g_verifier;
static dpf_stepsig_replay **g_replay;
static size_t g_nreplay;

dpf_status dpa_dispatch_require_signed(const dpf_stepsig_verifier *v, size_t nhosts)
{
    for (size_t i = 0; i < g_nreplay; i++)
        dpf_stepsig_replay_free(g_replay[i]);
    free(g_replay);
    g_replay = NULL;
    g_nreplay = 0;
    g_verifier = v;
    if (v == NULL)
        return DPF_OK;
    g_replay = calloc(nhosts, sizeof *g_replay);
    if (g_replay == NULL)
        return DPF_ERR_NOMEM;
    g_nreplay = nhosts;
    for (size_t i = 0; i < nhosts; i++) {
        if (dpf_stepsig_replay_create(&g_replay[i]) != DPF_OK)
            return DPF_ERR_NOMEM;
    }
    return DPF_OK;
}

/* 1 when the request may run; else 0 with s->error set and the refusal
 * logged for the administrator (host, step, reason, correlation id). */
static int signed_by_distmgr(dpa_host *h, const void *data, size_t len,
                             const Dpf__AgentRequest *req, const char *step, dpa_step *s)
{
    char why[200];
    if (g_verifier == NULL)
        return 1;
    if (h->index < 0 || (size_t)h->index >= g_nreplay) {
        snprintf(why, sizeof why, "no nonce memory for this host");
    } else if (dpf_stepsig_check(g_verifier, g_replay[h->index], data, len, req,
                                 dpf_stepsig_now_ms(), why, sizeof why) == DPF_OK) {
        return 1;
    }
    const char *corr = dpf_log_corr();
    DPF_ERROR("%s: step %s REFUSED (correlation id %s): %s; only distmgr's signed requests "
              "run on this host", h->fqdn, step[0] ? step : "(none)",
              corr != NULL && corr[0] ? corr : "none", why);
    snprintf(s->error, sizeof s->error, "step %s refused by the agent of %s: %s",
             step[0] ? step : "(none)", h->fqdn, why);
    return 0;
}

/* Names from the wire go into error texts and logs: printable and short. */
static void printable(const char *in, char *out, size_t len)
{
    size_t o = 0;
    for (; in != NULL && *in && o + 1 < len && o < 64; in++)
        out[o++] = isprint((unsigned char)*in) ? *in : '?';
    out[o] = '\0';
}

/* --step-delay-ms: benchmarks and crash tests need hosts that take a while */
static void simulate_slow_host(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !dpf_stopping())
        ;
}

/* "http://<addr>:<port>" of the host's running content server, "" when it
 * is off. A wildcard listen address is no address for a client: the host's
 * FQDN stands in for it. distmgr records this after content_install. */
static void content_url(const dpa_host *h, char *out, size_t len)
{
    if (h->http == NULL || h->agent == NULL)
        return;
    const char *addr = h->agent->http_addr;
    if (strcmp(addr, "0.0.0.0") == 0 || addr[0] == '\0')
        addr = h->fqdn;
    snprintf(out, len, "http://%s:%d", addr, dpa_http_port(h->http));
}

static dpf_status encode(const Dpf__AgentReply *r, uint8_t **out, size_t *len)
{
    size_t n = dpf__agent_reply__get_packed_size(r);
    uint8_t *buf = malloc(n ? n : 1);
    if (buf == NULL)
        return DPF_ERR_NOMEM;
    dpf__agent_reply__pack(r, buf);
    *out = buf;
    *len = n;
    return DPF_OK;
}

dpf_status dpa_dispatch(dpa_host *h, const void *data, size_t len, uint8_t **reply,
                        size_t *reply_len)
{
    int64_t t0 = dpf_mono_us();
    Dpf__AgentReply r = DPF__AGENT_REPLY__INIT;
    dpa_step s;
    memset(&s, 0, sizeof s);
    s.host = h;
    char step_name[72] = "", fqdn[72] = "";

    r.fqdn = h->fqdn;
    Dpf__AgentRequest *req = dpf__agent_request__unpack(NULL, len, data);
    if (req == NULL) {
        DPF_ERROR("%s: cannot decode request (%zu bytes); replying with an error", h->fqdn, len);
        snprintf(s.error, sizeof s.error, "cannot decode request");
    } else {
        printable(req->step, step_name, sizeof step_name);
        printable(req->fqdn, fqdn, sizeof fqdn);
        const dpa_step_def *def = dpa_dispatch_find(req->step);
        s.req = req;
        if (!signed_by_distmgr(h, data, len, req, step_name, &s)) {
            /* refused: nothing runs */
        } else if (req->fqdn == NULL || strcasecmp(req->fqdn, h->fqdn) != 0) {
            DPF_ERROR("%s: request for host '%s' refused", h->fqdn, fqdn);
            snprintf(s.error, sizeof s.error, "request for host '%s' reached the agent of %s",
                     fqdn, h->fqdn);
        } else if (def == NULL) {
            DPF_ERROR("%s: unknown step '%s'", h->fqdn, step_name);
            snprintf(s.error, sizeof s.error, "unknown step '%s'", step_name);
        } else {
            s.kind = def->kind;
            DPF_INFO("%s: %s (DPID %lld, NAL path %s)", h->fqdn, def->name,
                     (long long)req->dpid, req->nal_path ? req->nal_path : "");
            /* status (readiness probes, tests) and content (hundreds of chunks)
             * are never slowed down */
            if (h->agent != NULL && h->agent->step_delay_ms > 0 &&
                (def->kind == DPA_INSTALL || def->kind == DPA_REMOVE))
                simulate_slow_host(h->agent->step_delay_ms);
            dpf_status rc = def->fn(&s);
            if (rc != DPF_OK && s.error[0] == '\0')
                snprintf(s.error, sizeof s.error, "%s failed: %s", def->name,
                         dpf_status_text(rc));
        }
    }

    char url[DPF_FQDN_MAX + 32] = "";
    content_url(h, url, sizeof url);
    r.content_url = url;
    r.content = s.content;
    r.n_content = s.ncontent;
    r.ok = s.error[0] == '\0';
    r.step = step_name;
    r.changed = s.changed;
    r.error = s.error;
    r.log = s.lines;
    r.n_log = s.nlines;
    r.duration_us = dpf_mono_us() - t0;
    if (req != NULL)
        DPF_INFO("%s: %s %s in %lld us%s%s", h->fqdn, step_name[0] ? step_name : "(none)",
                 r.ok ? (r.changed ? "done" : "done, nothing changed") : "FAILED",
                 (long long)r.duration_us, r.ok ? "" : ": ", s.error);
    dpf_status rc = encode(&r, reply, reply_len);
    dpa_step_clear(&s);
    if (req != NULL)
        dpf__agent_request__free_unpacked(req, NULL);
    return rc;
}

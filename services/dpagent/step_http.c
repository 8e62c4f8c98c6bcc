/* enable_http and configure_vdirs: the source's "installed IIS on remote
 * server" and "Configure IIS virtual directories successfully". The HTTP
 * content server of a host runs inside the agent; etc/http.conf records that
 * it is enabled (so a restarted agent starts it again) and on which port,
 * etc/vdirs.conf holds the virtual-directory table it serves. */
#include "dpagent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <dpf/log.h>
#include <dpf/util.h>
#include "content_server.h"
#include "fsutil.h"
#include "kvfile.h"

/* The virtual directories of a DP, and the share each one exposes. */
static const struct {
    const char *name;
    const char *rel;
} g_vdirs[] = {
    {"SMS_DP_SMSPKG$", DPA_REL_CONTENTLIB},
    {"SMS_DP_SMSSIG$", DPA_REL_SIG},
    {"NOCERT_SMS_DP_SMSPKG$", DPA_REL_CONTENTLIB},
    {"NOCERT_SMS_DP_SMSSIG$", DPA_REL_SIG},
};

#define NVDIRS (sizeof g_vdirs / sizeof g_vdirs[0])

dpf_status dpa_http_reload_vdirs(dpa_host *h)
{
    if (h->http == NULL)
        return DPF_OK;
    char conf[PATH_MAX];
    if (!dpf_fmt(conf, sizeof conf, "%s/" DPA_REL_VDIRS_CONF, h->root))
        return DPF_ERR_INVALID;
    dpa_kv *kv = NULL;
    dpf_status rc = dpa_kv_load(conf, &kv);
    if (rc == DPF_ERR_NOT_FOUND)
        return dpa_http_set_vdirs(h->http, NULL, NULL, 0);
    if (rc != DPF_OK)
        return rc;
    const char *names[16], *dirs[16];
    size_t n = 0, rootlen = strlen(h->root);
    for (size_t i = 0; i < dpa_kv_count(kv) && n < 16; i++) {
        const char *dir = dpa_kv_value(kv, i);
        /* a hand-edited table must not expose anything outside the host */
        if (strncmp(dir, h->root, rootlen) != 0 || dir[rootlen] != '/' || strstr(dir, "/..")) {
            DPF_WARN("%s: ignoring virtual directory %s=%s: not under %s", h->fqdn,
                     dpa_kv_key(kv, i), dir, h->root);
            continue;
        }
        names[n] = dpa_kv_key(kv, i);
        dirs[n++] = dir;
    }
    rc = dpa_http_set_vdirs(h->http, names, dirs, n);
    dpa_kv_destroy(kv);
    return rc;
}

/* prev_port: the port a previous run served on (0 = none). With an
 * ephemeral --http-listen the server asks for that port again, so the
 * contentUrl clients and the database know stays right across a restart;
 * only when it is taken does it fall back to a new one. */
static dpf_status start_http(dpa_host *h, int prev_port, char *err, size_t errlen)
{
    const dpa_agent *a = h->agent;
    int port = a->http_port ? a->http_port + h->index : 0;
    dpf_status rc = DPF_ERR_IO;
    if (port == 0 && prev_port > 0 && prev_port <= 65535) {
        rc = dpa_http_start(a->http_addr, prev_port, &h->http, err, errlen);
        if (rc != DPF_OK)
            DPF_WARN("%s: cannot serve on port %d again (%s); taking a new port, the DP's "
                     "contentUrl changes with its next install or transfer", h->fqdn, prev_port,
                     err);
    }
    if (rc != DPF_OK)
        rc = dpa_http_start(a->http_addr, port, &h->http, err, errlen);
    if (rc == DPF_OK && (rc = dpa_http_reload_vdirs(h)) != DPF_OK)
        snprintf(err, errlen, "cannot load the virtual directories: %s", dpf_status_text(rc));
    return rc;
}

static dpf_status write_http_conf(dpa_host *h, int *changed)
{
    char etc[PATH_MAX], conf[PATH_MAX], port[16];
    dpa_kv *kv = NULL;
    if (!dpf_fmt(etc, sizeof etc, "%s/" DPA_REL_ETC, h->root) ||
        !dpf_fmt(conf, sizeof conf, "%s/" DPA_REL_HTTP_CONF, h->root))
        return DPF_ERR_INVALID;
    snprintf(port, sizeof port, "%d", dpa_http_port(h->http));
    dpf_status rc = dpa_kv_create(&kv);
    if (rc == DPF_OK && (rc = dpa_kv_set(kv, "enabled", "1")) == DPF_OK &&
        (rc = dpa_kv_set(kv, "address", h->agent->http_addr)) == DPF_OK &&
        (rc = dpa_kv_set(kv, "port", port)) == DPF_OK &&
        (rc = dpa_fs_mkdirs(etc, 0755, changed)) == DPF_OK)
        rc = dpa_kv_save(kv, conf, changed);
    dpa_kv_destroy(kv);
    return rc;
}

dpf_status dpa_host_resume(dpa_host *h, char *err, size_t errlen)
{
    char conf[PATH_MAX];
    dpa_kv *kv = NULL;
    if (!dpf_fmt(conf, sizeof conf, "%s/" DPA_REL_HTTP_CONF, h->root))
        return DPF_ERR_INVALID;
    if (dpa_kv_load(conf, &kv) != DPF_OK)
        return DPF_OK; /* never enabled: nothing to resume */
    const char *enabled = dpa_kv_get(kv, "enabled");
    const char *port = dpa_kv_get(kv, "port");
    int on = enabled != NULL && strcmp(enabled, "1") == 0;
    int prev = port != NULL ? atoi(port) : 0;
    dpa_kv_destroy(kv);
    if (!on || h->http != NULL)
        return DPF_OK;
    dpf_status rc = start_http(h, prev, err, errlen);
    if (rc == DPF_OK)
        rc = write_http_conf(h, NULL);
    if (rc == DPF_OK)
        DPF_INFO("%s: HTTP content server resumed on %s:%d", h->fqdn, h->agent->http_addr,
                 dpa_http_port(h->http));
    return rc;
}

void dpa_host_stop(dpa_host *h)
{
    dpa_http_stop(h->http);
    h->http = NULL;
}

dpf_status dpa_step_enable_http(dpa_step *s)
{
    dpa_host *h = s->host;
    char err[256];
    if (h->http == NULL) {
        struct utsname u;
        if (uname(&u) != 0)
            snprintf(u.release, sizeof u.release, "unknown");
        if (start_http(h, 0, err, sizeof err) != DPF_OK) {
            dpa_host_stop(h);
            return dpa_step_fail(s, "Failed to install the HTTP content server on %s: %s",
                                 h->fqdn, err);
        }
        s->changed = 1;
        dpa_step_log(s, "~OS version Linux %s: installed HTTP content server (IIS) on remote "
                        "server %s, listening on %s:%d.", u.release, h->fqdn,
                     h->agent->http_addr, dpa_http_port(h->http));
    } else {
        dpa_step_log(s, "HTTP content server (IIS) is already installed on %s, listening on %s:%d",
                     h->fqdn, h->agent->http_addr, dpa_http_port(h->http));
    }
    if (write_http_conf(h, &s->changed) != DPF_OK)
        return dpa_step_fail(s, "cannot write %s/" DPA_REL_HTTP_CONF, h->root);
    return DPF_OK;
}

dpf_status dpa_step_configure_vdirs(dpa_step *s)
{
    dpa_kv *kv = NULL;
    char etc[PATH_MAX], conf[PATH_MAX], dir[PATH_MAX];
    dpf_status rc = dpa_kv_create(&kv);
    for (size_t i = 0; rc == DPF_OK && i < NVDIRS; i++) {
        if ((rc = dpa_step_path(s, dir, sizeof dir, g_vdirs[i].rel)) == DPF_OK)
            rc = dpa_kv_set(kv, g_vdirs[i].name, dir);
    }
    if (rc == DPF_OK && (rc = dpa_step_path(s, etc, sizeof etc, DPA_REL_ETC)) == DPF_OK &&
        (rc = dpa_step_path(s, conf, sizeof conf, DPA_REL_VDIRS_CONF)) == DPF_OK) {
        if (dpa_fs_mkdirs(etc, 0755, &s->changed) != DPF_OK ||
            dpa_kv_save(kv, conf, &s->changed) != DPF_OK)
            rc = dpa_step_fail(s, "cannot write %s", conf);
    }
    if (rc == DPF_OK && dpa_http_reload_vdirs(s->host) != DPF_OK)
        rc = dpa_step_fail(s, "cannot load the virtual directories into the content server");
    for (size_t i = 0; rc == DPF_OK && i < dpa_kv_count(kv); i++)
        dpa_step_log(s, "Virtual directory %s -> %s", dpa_kv_key(kv, i), dpa_kv_value(kv, i));
    if (rc == DPF_OK)
        dpa_step_log(s, "Configure IIS virtual directories successfully on the distribution "
                        "point %s%s", s->host->fqdn,
                     s->host->http ? "" : " (the content server is not enabled yet)");
    dpa_kv_destroy(kv);
    if (rc != DPF_OK && s->error[0] == '\0')
        return dpa_step_fail(s, "configure_vdirs: %s", dpf_status_text(rc));
    return rc;
}

dpf_status dpa_step_remove_vdirs(dpa_step *s)
{
    dpa_host *h = s->host;
    char conf[PATH_MAX], http[PATH_MAX], etc[PATH_MAX];
    if (h->http != NULL) {
        dpa_host_stop(h);
        s->changed = 1;
        dpa_step_log(s, "Stopped the HTTP content server (IIS) on %s", h->fqdn);
    }
    if (dpa_step_path(s, conf, sizeof conf, DPA_REL_VDIRS_CONF) != DPF_OK ||
        dpa_step_path(s, http, sizeof http, DPA_REL_HTTP_CONF) != DPF_OK ||
        dpa_step_path(s, etc, sizeof etc, DPA_REL_ETC) != DPF_OK)
        return DPF_ERR_STEP;
    int removed = 0;
    if (dpa_fs_unlink(conf, &removed) != DPF_OK || dpa_fs_unlink(http, &removed) != DPF_OK)
        return dpa_step_fail(s, "cannot remove %s or %s", conf, http);
    s->changed |= removed;
    dpa_fs_rmdir_if_empty(etc);
    if (removed)
        dpa_step_log(s, "Removed DP virtual directories SMS_DP_SMSPKG$, SMS_DP_SMSSIG$ from %s",
                     h->fqdn);
    else
        dpa_step_log(s, "No DP virtual directories on %s", h->fqdn);
    return DPF_OK;
}

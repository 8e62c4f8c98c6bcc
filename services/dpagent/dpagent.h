/* dpagent's private types: the agent (process-wide settings), a host it
 * serves, and the context one step runs in. The steps (step_*.c) are the
 * source's on-host work of seed steps 8-9 and of DP removal; dispatch.c maps
 * a step name to its handler and turns a request into a reply. */
#ifndef DPAGENT_H
#define DPAGENT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <dpf/status.h>
#include <dpf/dp.h>
#include "dpfleet.pb-c.h"

typedef struct dpa_verify dpa_verify;
typedef struct dpa_http dpa_http;

/* Process-wide settings, read-only once the hosts are serving. */
typedef struct dpa_agent {
    const dpa_verify *verify; /* trusted key; NULL = install_files refuses */
    char http_addr[64];       /* --http-listen address */
    int http_port;            /* --http-listen port; 0 = ephemeral, else port + host index */
    int step_delay_ms;        /* --step-delay-ms */
} dpa_agent;

/* One simulated DP host. Only the host's lane touches it (steps run one at
 * a time per host), except at start-up and shutdown. */
typedef struct dpa_host {
    const dpa_agent *agent; /* borrowed */
    int index;              /* position in --hosts */
    char fqdn[DPF_FQDN_MAX + 1];  /* upper case */
    char root[PATH_MAX];    /* <root>/<FQDN> */
    dpa_http *http;         /* running content server, NULL when disabled */
} dpa_host;

/* How a step treats the host's smsdpprov.log. */
typedef enum dpa_step_kind {
    DPA_INSTALL = 1, /* install/upgrade: creates SMS_DP$/sms/logs if missing */
    DPA_REMOVE = 2,  /* removal: appends only while the log directory exists */
    DPA_QUERY = 3,   /* status: lines go to the reply only (debug log) */
    DPA_CONTENT = 4, /* content steps: append only while the log directory exists
                        (never bring back a removed DP's SMS_DP$); no --step-delay-ms */
} dpa_step_kind;

/* What one step reports back: it becomes the AgentReply. */
typedef struct dpa_step {
    dpa_host *host;                 /* borrowed */
    const Dpf__AgentRequest *req;   /* borrowed */
    dpa_step_kind kind;
    char **lines;                   /* owned */
    size_t nlines, caplines;
    char error[1024];
    int changed;
    Dpf__ContentFile **content;     /* owned: the reply's content (content steps) */
    size_t ncontent, capcontent;
} dpa_step;

typedef dpf_status (*dpa_step_fn)(dpa_step *s);

/* Reports one line: into the reply, smsdpprov.log and the service log. */
void dpa_step_log(dpa_step *s, const char *fmt, ...) DPF_PRINTF(2, 3);
/* Sets the reply's error (also logged) and returns DPF_ERR_STEP. */
dpf_status dpa_step_fail(dpa_step *s, const char *fmt, ...) DPF_PRINTF(2, 3);
/* Borrowed value of request parameter key, or NULL. */
const char *dpa_step_param(const dpa_step *s, const char *key);
/* <host root>/<rel> into buf; DPF_ERR_INVALID (with the step failed) if too long. */
dpf_status dpa_step_path(dpa_step *s, char *buf, size_t len, const char *rel) DPF_MUSTCHECK;
/* \\<FQDN>\<rel with '/' shown as '\'>: how the source names a file on a DP. */
void dpa_step_unc(const dpa_step *s, char *buf, size_t len, const char *rel);
/* Adds a file to the reply's content (path and sha copied; path may be
 * NULL). DPF_ERR_NOMEM with the step failed if it cannot. */
dpf_status dpa_step_content(dpa_step *s, const char *path, const char *sha,
                            int64_t size) DPF_MUSTCHECK;
/* Frees the lines and the content. */
void dpa_step_clear(dpa_step *s);

/* Host start-up: resumes what a previous run left enabled (the HTTP
 * server when etc/http.conf says enabled=1, with etc/vdirs.conf). */
dpf_status dpa_host_resume(dpa_host *h, char *err, size_t errlen) DPF_MUSTCHECK;
/* Stops the host's HTTP server if running. */
void dpa_host_stop(dpa_host *h);

/* Shared by the steps that start the HTTP server or change its table:
 * loads etc/vdirs.conf into the running server (empty table if none). */
dpf_status dpa_http_reload_vdirs(dpa_host *h) DPF_MUSTCHECK;

/* Canonical pull-DP source list: "FQDN:prio,..." validated (FQDNs, numeric
 * priorities, no duplicates, not self), upper-cased and sorted by priority
 * (lowest number first, ties in the given order) into out. Pure. */
dpf_status dpa_pulldp_canonical(const char *in, const char *self, char *out, size_t outlen,
                                char *err, size_t errlen) DPF_MUSTCHECK;

/* The steps (agent.h). */
dpf_status dpa_step_install_files(dpa_step *s);
dpf_status dpa_step_create_shares(dpa_step *s);
dpf_status dpa_step_enable_http(dpa_step *s);
dpf_status dpa_step_register_provider(dpa_step *s);
dpf_status dpa_step_configure_vdirs(dpa_step *s);
dpf_status dpa_step_write_settings(dpa_step *s);
dpf_status dpa_step_configure_pxe(dpa_step *s);
dpf_status dpa_step_configure_pulldp(dpa_step *s);
dpf_status dpa_step_remove_pxe(dpa_step *s);
dpf_status dpa_step_remove_tasks(dpa_step *s);
dpf_status dpa_step_remove_pulldp(dpa_step *s);
dpf_status dpa_step_unregister_provider(dpa_step *s);
dpf_status dpa_step_remove_shares(dpa_step *s);
dpf_status dpa_step_remove_vdirs(dpa_step *s);
dpf_status dpa_step_remove_settings(dpa_step *s);
dpf_status dpa_step_status(dpa_step *s);
dpf_status dpa_step_content_have(dpa_step *s);
dpf_status dpa_step_content_put(dpa_step *s);
dpf_status dpa_step_content_install(dpa_step *s);
dpf_status dpa_step_content_remove(dpa_step *s);
dpf_status dpa_step_content_pull(dpa_step *s);
dpf_status dpa_step_content_validate(dpa_step *s);

/* Relative paths under a host root (README.md). */
#define DPA_REL_BIN "SMS_DP$/sms/bin"
#define DPA_REL_LOGS "SMS_DP$/sms/logs"
#define DPA_REL_ETC "etc"
#define DPA_REL_SHARES_CONF "etc/shares.conf"
#define DPA_REL_HTTP_CONF "etc/http.conf"
#define DPA_REL_PROVIDER_CONF "etc/provider.conf"
#define DPA_REL_VDIRS_CONF "etc/vdirs.conf"
#define DPA_REL_DP_CONF "etc/dp.conf"
#define DPA_REL_TFTP_CONF "etc/tftp.conf"
#define DPA_REL_PULLDP_CONF "etc/pulldp.conf"
#define DPA_REL_TASKS_CONF "etc/tasks.conf"
#define DPA_REL_REMINST "RemoteInstall"
#define DPA_REL_CONTENTLIB "SCCMContentLib$"
#define DPA_REL_SIG "SMSSIG$"

#endif

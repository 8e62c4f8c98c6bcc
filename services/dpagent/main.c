/* dpagent: the on-host side of a DP (the source's DP provider, IIS, shares
 * and registry). One process serves one or more hosts: each host has its
 * own root directory and answers core NATS requests on agent.<FQDN>.step.
 * Requests are handed to a worker pool with one lane per host, so hosts
 * proceed in parallel while the steps of one host run one at a time. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dpf/agent.h>
#include <dpf/bus.h>
#include <dpf/config.h>
#include <dpf/log.h>
#include <dpf/daemon.h>
#include <dpf/sitecontrol.h>
#include <dpf/stepsig.h>
#include <dpf/util.h>
#include "dispatch.h"
#include "fsutil.h"
#include "hostbus.h"
#include "pool.h"
#include "pull.h"
#include "verify.h"

#ifndef DPAGENT_DEFAULT_TRUSTED_KEY
#define DPAGENT_DEFAULT_TRUSTED_KEY "share/dp-components/signing.pub"
#endif
#define MAX_HOSTS 1024

static char *g_nats_url, *g_hosts_opt, *g_root_opt, *g_key_path, *g_http_listen;
static char *g_step_key_path;
static int g_step_delay_ms, g_workers, g_step_max_age;

static char *g_log_format;
static const dpf_option g_opts[] = {
    DPF_OPT_STRING("nats-url", "NATS_URL", &g_nats_url, "nats://127.0.0.1:4222",
                   "NATS server the agent takes its step requests from"),
    DPF_OPT_STRING("hosts", "DPFLEET_AGENT_HOSTS", &g_hosts_opt, "",
                   "comma-separated FQDNs of the DP hosts this process serves (required)"),
    DPF_OPT_STRING("root", "DPFLEET_AGENT_ROOT", &g_root_opt, "",
                   "directory holding one root per host, <root>/<FQDN> (required)"),
    DPF_OPT_STRING("trusted-key", "DPFLEET_TRUSTED_KEY", &g_key_path,
                   DPAGENT_DEFAULT_TRUSTED_KEY,
                   "PEM Ed25519 public key the component MANIFEST must be signed with"),
    DPF_OPT_STRING("step-trusted-key", "DPFLEET_STEP_TRUSTED_KEY", &g_step_key_path, "",
                   "PEM Ed25519 public key of distmgr's step signing key: every request must "
                   "be signed with it (required)"),
    DPF_OPT_INT("step-max-age-seconds", "DPFLEET_STEP_MAX_AGE_SECONDS", &g_step_max_age,
                DPF_STEPSIG_DEFAULT_MAX_AGE_S, 1, 3600,
                "a signed request older (or further in the future) than this is refused"),
    DPF_OPT_STRING("http-listen", "DPFLEET_HTTP_LISTEN", &g_http_listen, "127.0.0.1:0",
                   "content server address:port; port 0 = ephemeral, else host i uses port+i"),
    DPF_OPT_INT("step-delay-ms", "DPFLEET_STEP_DELAY_MS", &g_step_delay_ms, 0, 0, 600000,
                "extra time every install/removal step takes (simulates slow hosts; not status)"),
    DPF_OPT_INT("workers", "DPFLEET_AGENT_WORKERS", &g_workers, 8, 1, 256,
                "steps run at once across all hosts (one at a time per host)"),
    DPF_OPT_STRING("log-format", "DPFLEET_LOG_FORMAT", &g_log_format, "text",
                   "log lines: text (like the source's logs) or json (one object per line)"),
    DPF_OPT_END};

typedef struct served {
    dpa_host host;
    dpa_lane *lane;
    dpf_bus_sub *sub;
    dpf_bus *own; /* the host's own connection (etc/nats.creds), or NULL: g_bus */
} served;

typedef struct request_job {
    served *sv;
    dpf_bus_msg *msg;
} request_job;

static dpf_bus *g_bus;
static dpa_pool *g_pool;
/* nats.c may still be inside on_request after a subscription is destroyed;
 * shutdown waits for those callbacks before it frees the pool. */
static pthread_mutex_t g_gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_gate_cv = PTHREAD_COND_INITIALIZER;
static int g_accepting, g_in_callback;

static void run_request(void *arg)
{
    request_job *j = arg;
    dpa_host *h = &j->sv->host;
    uint8_t *reply = NULL;
    size_t len = 0;
    dpf_log_set_corr(dpf_bus_msg_corr(j->msg));
    if (dpa_dispatch(h, dpf_bus_msg_data(j->msg), dpf_bus_msg_len(j->msg), &reply, &len) ==
        DPF_OK) {
        dpf_bus *bus = j->sv->own != NULL ? j->sv->own : g_bus;
        dpf_status rc = dpf_bus_respond(bus, j->msg, reply, len);
        if (rc != DPF_OK)
            DPF_ERROR("%s: cannot send the reply to '%s': %s", h->fqdn,
                      dpf_bus_msg_reply(j->msg), dpf_status_text(rc));
        free(reply);
    } else {
        DPF_ERROR("%s: out of memory building a reply", h->fqdn);
    }
    dpf_bus_msg_destroy(j->msg);
    free(j);
    dpf_log_set_corr(NULL);
}

static void drop_request(void *arg)
{
    request_job *j = arg;
    DPF_WARN("%s: agent stopping, request dropped (the sender will retry)", j->sv->host.fqdn);
    dpf_bus_msg_destroy(j->msg);
    free(j);
}

static void on_request(dpf_bus_msg *msg, void *closure)
{
    served *sv = closure;
    pthread_mutex_lock(&g_gate_mu);
    int open = g_accepting;
    g_in_callback += open;
    pthread_mutex_unlock(&g_gate_mu);
    if (!open) {
        dpf_bus_msg_destroy(msg);
        return;
    }
    request_job *j = malloc(sizeof *j);
    if (j != NULL) {
        j->sv = sv;
        j->msg = msg;
    }
    if (j == NULL || dpa_pool_submit(g_pool, sv->lane, run_request, drop_request, j) != DPF_OK) {
        DPF_ERROR("%s: cannot queue a request", sv->host.fqdn);
        free(j);
        dpf_bus_msg_destroy(msg);
    }
    pthread_mutex_lock(&g_gate_mu);
    if (--g_in_callback == 0)
        pthread_cond_broadcast(&g_gate_cv);
    pthread_mutex_unlock(&g_gate_mu);
}

/* "A,b.example.com , C" -> upper-cased, validated, de-duplicated FQDNs. */
static int parse_hosts(const char *list, served **out, size_t *n)
{
    served *hosts = calloc(MAX_HOSTS, sizeof *hosts);
    size_t count = 0;
    if (hosts == NULL)
        return -1;
    const char *p = list;
    while (*p) {
        while (*p == ',' || isspace((unsigned char)*p))
            p++;
        size_t len = strcspn(p, ",");
        while (len > 0 && isspace((unsigned char)p[len - 1]))
            len--;
        if (len == 0)
            break;
        char name[DPF_FQDN_MAX + 1], why[128];
        if (len > DPF_FQDN_MAX || count == MAX_HOSTS) {
            fprintf(stderr, "dpagent: --hosts: '%.*s' is too long or too many hosts\n",
                    (int)(len > 64 ? 64 : len), p);
            free(hosts);
            return -1;
        }
        memcpy(name, p, len);
        name[len] = '\0';
        if (!dpf_fqdn_valid(name, why, sizeof why)) {
            fprintf(stderr, "dpagent: --hosts: '%s' is not a valid FQDN: %s\n", name, why);
            free(hosts);
            return -1;
        }
        for (char *c = name; *c; c++)
            *c = (char)toupper((unsigned char)*c);
        int dup = 0;
        for (size_t i = 0; i < count; i++)
            dup |= strcmp(hosts[i].host.fqdn, name) == 0;
        if (!dup) {
            snprintf(hosts[count].host.fqdn, sizeof hosts[count].host.fqdn, "%s", name);
            hosts[count].host.index = (int)count;
            count++;
        }
        p += strcspn(p, ",");
    }
    if (count == 0) {
        fprintf(stderr, "dpagent: --hosts (DPFLEET_AGENT_HOSTS) names no host\n");
        free(hosts);
        return -1;
    }
    *out = hosts;
    *n = count;
    return 0;
}

static int parse_listen(const char *s, dpa_agent *a)
{
    const char *colon = strrchr(s, ':');
    char *end = NULL;
    if (colon == NULL || (size_t)(colon - s) >= sizeof a->http_addr)
        return -1;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || port < 0 || port > 65535)
        return -1;
    snprintf(a->http_addr, sizeof a->http_addr, "%.*s", (int)(colon - s), s);
    a->http_port = (int)port;
    return 0;
}

static int prepare_roots(served *hosts, size_t n, const dpa_agent *agent)
{
    char root[PATH_MAX];
    if (dpa_fs_mkdirs(g_root_opt, 0755, NULL) != DPF_OK || realpath(g_root_opt, root) == NULL) {
        DPF_ERROR("cannot create the agents' root directory '%s': %s", g_root_opt,
                  strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        dpa_host *h = &hosts[i].host;
        h->agent = agent;
        char err[256];
        if (!dpf_fmt(h->root, sizeof h->root, "%s/%s", root, h->fqdn) ||
            dpa_fs_mkdirs(h->root, 0755, NULL) != DPF_OK) {
            DPF_ERROR("cannot create the root of %s under %s", h->fqdn, root);
            return -1;
        }
        if (dpa_host_resume(h, err, sizeof err) != DPF_OK)
            DPF_ERROR("%s: cannot resume the HTTP content server: %s", h->fqdn, err);
    }
    return 0;
}

static void unsubscribe_all(served *hosts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        dpf_bus_sub_destroy(hosts[i].sub);
        hosts[i].sub = NULL;
    }
}

static void disconnect_own(served *hosts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        dpf_bus_destroy(hosts[i].own);
        hosts[i].own = NULL;
    }
}

/* The connection host sv is served on: its own when its root holds its
 * credential (issue 9), else the process's, connected on first need. */
static dpf_status host_bus(served *sv, dpf_bus **bus)
{
    if (sv->own == NULL) {
        int r = dpa_hostbus_connect(g_nats_url, sv->host.fqdn, sv->host.root, &sv->own);
        if (r < 0)
            return DPF_ERR_BUS;
    }
    if (sv->own != NULL) {
        *bus = sv->own;
        return DPF_OK;
    }
    dpf_status rc = g_bus == NULL ? dpf_bus_connect(g_nats_url, "dpagent", &g_bus) : DPF_OK;
    *bus = g_bus;
    return rc;
}

/* Connects and subscribes every host, retrying until it works or we stop:
 * an agent started before NATS must come up by itself. */
static int connect_and_serve(served *hosts, size_t n)
{
    for (int attempt = 1; !dpf_stopping(); attempt++) {
        dpf_status rc = DPF_OK;
        for (size_t i = 0; rc == DPF_OK && i < n; i++) {
            dpf_bus *bus = NULL;
            rc = host_bus(&hosts[i], &bus);
            if (rc != DPF_OK)
                break;
            char subject[DPF_FQDN_MAX + 32], queue[DPF_FQDN_MAX + 16];
            snprintf(subject, sizeof subject, DPF_AGENT_SUBJECT_FMT, hosts[i].host.fqdn);
            snprintf(queue, sizeof queue, "dpagent.%s", hosts[i].host.fqdn);
            /* read before serving: from then on the host's lane owns it */
            const char *http = hosts[i].host.http ? "running" : "not enabled";
            rc = dpf_bus_serve(bus, subject, queue, on_request, &hosts[i], &hosts[i].sub);
            if (rc == DPF_OK)
                DPF_INFO("%s: serving %s (queue %s), root %s, content server %s", hosts[i].host.fqdn,
                         subject, queue, hosts[i].host.root, http);
        }
        if (rc == DPF_OK)
            return 0;
        DPF_WARN("cannot serve on NATS at %s (attempt %d): %s; retrying in 2 s", g_nats_url,
                 attempt, dpf_status_text(rc));
        unsubscribe_all(hosts, n);
        disconnect_own(hosts, n);
        dpf_bus_destroy(g_bus);
        g_bus = NULL;
        dpf_daemon_nap(2000);
    }
    return -1;
}

int main(int argc, char **argv)
{
    char err[512];
    dpf_log_init(DPF_COMP_DPAGENT);
    dpf_status rc = dpf_config_parse(g_opts, argc, argv, err, sizeof err);
    if (rc == DPF_HELP_SHOWN) {
        printf("\nSteps served on agent.<FQDN>.step:");
        for (size_t i = 0; i < dpa_dispatch_count(); i++)
            printf(" %s", dpa_dispatch_at(i)->name);
        printf("\n");
        return 0;
    }
    if (rc != DPF_OK) {
        fprintf(stderr, "dpagent: %s\n", err);
        return 2;
    }
    if (dpf_log_set_format_name(g_log_format) != DPF_OK) {
        fprintf(stderr, "dpagent: --log-format %s: want text or json\n", g_log_format);
        dpf_config_free(g_opts);
        return 2;
    }

    dpa_agent agent;
    memset(&agent, 0, sizeof agent);
    agent.step_delay_ms = g_step_delay_ms;
    served *hosts = NULL;
    size_t nhosts = 0;
    dpa_verify *verify = NULL;
    dpf_stepsig_verifier *stepkey = NULL;
    int status = 1;
    if (g_root_opt[0] == '\0') {
        fprintf(stderr, "dpagent: --root (DPFLEET_AGENT_ROOT) is required\n");
        status = 2;
        goto cleanup;
    }
    if (parse_listen(g_http_listen, &agent) != 0) {
        fprintf(stderr, "dpagent: --http-listen '%s' is not address:port\n", g_http_listen);
        status = 2;
        goto cleanup;
    }
    if (parse_hosts(g_hosts_opt, &hosts, &nhosts) != 0) {
        status = 2;
        goto cleanup;
    }
    if (dpa_verify_create(g_key_path, &verify, err, sizeof err) != DPF_OK) {
        DPF_ERROR("cannot load the trusted key: %s", err);
        status = 2;
        goto cleanup;
    }
    agent.verify = verify;
    if (g_step_key_path[0] == '\0') {
        DPF_ERROR("--step-trusted-key (DPFLEET_STEP_TRUSTED_KEY) is required: the public key "
                  "of distmgr's step signing key, so that only distmgr's requests run here");
        status = 2;
        goto cleanup;
    }
    if (dpf_stepsig_verifier_load(g_step_key_path, g_step_max_age, &stepkey, err,
                                  sizeof err) != DPF_OK) {
        DPF_ERROR("cannot load the trusted step key (--step-trusted-key): %s", err);
        status = 2;
        goto cleanup;
    }
    if (dpa_dispatch_require_signed(stepkey, nhosts) != DPF_OK) {
        DPF_ERROR("out of memory for the nonce memory of %zu hosts", nhosts);
        goto cleanup;
    }
    if (dpa_pull_global_init() != DPF_OK) { /* before any worker thread exists */
        DPF_ERROR("cannot initialise libcurl (pull-DP downloads)");
        goto cleanup;
    }
    dpf_handle_signals();
    if (prepare_roots(hosts, nhosts, &agent) != 0)
        goto cleanup;
    if (dpa_pool_create(g_workers, &g_pool) != DPF_OK) {
        DPF_ERROR("cannot start %d workers", g_workers);
        goto cleanup;
    }
    for (size_t i = 0; i < nhosts; i++) {
        if (dpa_pool_lane(g_pool, &hosts[i].lane) != DPF_OK)
            goto cleanup;
    }
    DPF_INFO("SMS DP provider starting: %zu host(s) under %s, trusted key %s, steps signed by "
             "%s within %d s, content server on %s, %d workers, step delay %d ms", nhosts,
             g_root_opt, g_key_path, g_step_key_path, g_step_max_age, g_http_listen, g_workers,
             g_step_delay_ms);
    g_accepting = 1;
    if (connect_and_serve(hosts, nhosts) == 0)
        dpf_daemon_wait_stop();
    status = 0; /* only a signal ends the loops above: a clean stop */
    DPF_INFO("SMS DP provider stopping");

cleanup:
    pthread_mutex_lock(&g_gate_mu);
    g_accepting = 0;
    while (g_in_callback > 0)
        pthread_cond_wait(&g_gate_cv, &g_gate_mu);
    pthread_mutex_unlock(&g_gate_mu);
    if (hosts != NULL)
        unsubscribe_all(hosts, nhosts);
    dpa_pool_destroy(g_pool); /* lets running steps finish and reply */
    for (size_t i = 0; hosts != NULL && i < nhosts; i++)
        dpa_host_stop(&hosts[i].host);
    if (hosts != NULL)
        disconnect_own(hosts, nhosts);
    dpf_bus_destroy(g_bus);
    dpa_verify_destroy(verify);
    dpa_dispatch_require_signed(NULL, 0); /* frees the nonce memories */
    dpf_stepsig_verifier_free(stepkey);
    free(hosts);
    dpf_config_free(g_opts);
    return status;
}

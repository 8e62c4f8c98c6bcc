/* Per-host agent credentials in the DP's install and removal flow.
 *
 * distmgr is the component that knows when a DP starts and stops being one,
 * so it holds the issuer files (the dpfleet account's signing key, the
 * operator's signing key and a system-account user): adding a DP mints a
 * credential allowing exactly agent.<FQDN>.step and its replies; removing
 * it pushes a revocation to nats-server's resolver. The credential file is
 * kept in the --agent-creds-dir directory rather than sent over the bus: the
 * host cannot receive anything before it has an identity, so it is placed
 * on the host out of band, as an administrator provisions any secret. */
#include "agent_creds.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dpf/jwt.h>
#include <dpf/log.h>
#include <dpf/natsissuer.h>
#include <dpf/util.h>

/* set once by dm_agent_creds_init before the workers start; read under g_mu */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static int g_configured;
static dpf_natsissuer *g_issuer;
static char g_dir[4096];
static char g_nats_url[1024];

void dm_agent_creds_init(const char *issuer_dir, const char *creds_dir, const char *nats_url)
{
    pthread_mutex_lock(&g_mu);
    if (g_configured) {
        pthread_mutex_unlock(&g_mu);
        return;
    }
    g_configured = 1;
    if (issuer_dir == NULL || *issuer_dir == '\0' || creds_dir == NULL || *creds_dir == '\0') {
        DPF_INFO("Agent NATS credentials are not managed (--nats-issuer/DPFLEET_NATS_ISSUER and "
                 "--agent-creds-dir/DPFLEET_NATS_AGENT_CREDS_DIR not both set): agents use their "
                 "process identity");
    } else if (!dpf_fmt(g_dir, sizeof g_dir, "%s", creds_dir) ||
               !dpf_fmt(g_nats_url, sizeof g_nats_url, "%s",
                        nats_url != NULL && *nats_url != '\0' ? nats_url
                                                              : "nats://127.0.0.1:4222")) {
        DPF_ERROR("Agent NATS credentials cannot be issued: the directory %s or the NATS URL is "
                  "too long", creds_dir);
    } else {
        char err[512];
        if (dpf_natsissuer_load(issuer_dir, &g_issuer, err, sizeof err) != DPF_OK)
            DPF_ERROR("Agent NATS credentials cannot be issued: %s", err);
        else
            DPF_INFO("Agent NATS credentials are issued into %s (issuer %s)", g_dir, issuer_dir);
    }
    pthread_mutex_unlock(&g_mu);
}

static int creds_path(const dm_dp_row *dp, char *path, size_t len)
{
    char fqdn[300];
    if (!dpf_fmt(fqdn, sizeof fqdn, "%s", dp->server_name))
        return 0;
    for (char *p = fqdn; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    return strchr(fqdn, '/') == NULL && dpf_fmt(path, len, "%s/%s.creds", g_dir, fqdn);
}

int dm_agent_creds_issue(const dm_dp_row *dp)
{
    char path[4096], pub[DPF_NKEY_PUBLIC_LEN + 1], *creds = NULL;
    pthread_mutex_lock(&g_mu);
    if (g_issuer == NULL) {
        pthread_mutex_unlock(&g_mu);
        return 1;
    }
    int ok = 1;
    if (!creds_path(dp, path, sizeof path)) {
        DPF_ERROR("DPID %lld: no agent NATS credential file name for %s", dp->dpid,
                  dp->server_name);
        ok = 0;
    } else if (access(path, F_OK) == 0) {
        DPF_INFO("DPID %lld: agent NATS credential of %s exists (%s)", dp->dpid, dp->server_name, path);
    } else if (dpf_natsissuer_agent(g_issuer, dp->server_name, &creds, pub) != DPF_OK ||
               dpf_jwt_write_file(path, creds, 0600) != DPF_OK) {
        DPF_ERROR("DPID %lld: cannot issue the agent NATS credential of %s into %s", dp->dpid,
                  dp->server_name, path);
        ok = 0;
    } else {
        DPF_INFO("DPID %lld: issued agent NATS credential of %s (user %s, agent.%s.step only) "
                 "into %s", dp->dpid, dp->server_name, pub, dp->server_name, path);
    }
    pthread_mutex_unlock(&g_mu);
    if (creds != NULL) {
        memset(creds, 0, strlen(creds));
        free(creds);
    }
    return ok;
}

int dm_agent_creds_revoke(const dm_dp_row *dp)
{
    char path[4096], err[512] = "", *jwt = NULL;
    dpf_nkey *user = NULL;
    pthread_mutex_lock(&g_mu);
    if (g_issuer == NULL) {
        pthread_mutex_unlock(&g_mu);
        return 1;
    }
    int ok = 1;
    dpf_status st = DPF_OK;
    if (!creds_path(dp, path, sizeof path)) {
        DPF_ERROR("DPID %lld: no agent NATS credential file name for %s", dp->dpid,
                  dp->server_name);
        ok = 0;
    } else if ((st = dpf_jwt_creds_read(path, &jwt, &user)) == DPF_ERR_NOT_FOUND) {
        DPF_INFO("DPID %lld: %s has no agent NATS credential to revoke", dp->dpid, dp->server_name);
    } else if (st != DPF_OK) {
        DPF_ERROR("DPID %lld: agent NATS credential %s cannot be read: %s", dp->dpid, path,
                  dpf_status_text(st));
        ok = 0;
    } else {
        st = dpf_natsissuer_revoke(g_issuer, g_nats_url, dpf_nkey_public(user), err,
                                   sizeof err);
        if (st != DPF_OK) {
            DPF_ERROR("DPID %lld: cannot revoke the agent NATS credential of %s (user %s): %s",
                      dp->dpid, dp->server_name, dpf_nkey_public(user), err);
            ok = 0;
        } else {
            unlink(path);
            DPF_INFO("DPID %lld: revoked agent NATS credential of %s (user %s)", dp->dpid,
                     dp->server_name, dpf_nkey_public(user));
        }
    }
    pthread_mutex_unlock(&g_mu);
    free(jwt);
    dpf_nkey_destroy(user);
    return ok;
}

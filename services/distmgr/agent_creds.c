/* Per-host agent credentials in the DP's install and removal flow.
 *
 * distmgr is the component that knows when a DP starts and stops being one,
 * so it holds the issuer files (the dpfleet account's signing key, the
 * operator's signing key and a system-account user): adding a DP mints a
 * credential allowing exactly agent.<FQDN>.step and its replies; removing
 * it pushes a revocation to nats-server's resolver. The credential file is
 * kept in DPFLEET_NATS_AGENT_CREDS_DIR rather than sent over the bus: the
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

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static dpf_natsissuer *g_issuer;
static const char *g_dir;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

static void load(void)
{
    const char *issuer = getenv("DPFLEET_NATS_ISSUER");
    g_dir = getenv("DPFLEET_NATS_AGENT_CREDS_DIR");
    if (issuer == NULL || *issuer == '\0' || g_dir == NULL || *g_dir == '\0') {
        DPF_INFO("Agent NATS credentials are not managed (DPFLEET_NATS_ISSUER and "
                 "DPFLEET_NATS_AGENT_CREDS_DIR unset): agents use their process identity");
        g_dir = NULL;
        return;
    }
    char err[512];
    if (dpf_natsissuer_load(issuer, &g_issuer, err, sizeof err) != DPF_OK) {
        DPF_ERROR("Agent NATS credentials cannot be issued: %s", err);
        g_dir = NULL;
        return;
    }
    DPF_INFO("Agent NATS credentials are issued into %s (issuer %s)", g_dir, issuer);
}

void dm_agent_creds_init(void)
{
    pthread_once(&g_once, load);
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
    dm_agent_creds_init();
    if (g_issuer == NULL)
        return 1;
    char path[4096], pub[DPF_NKEY_PUBLIC_LEN + 1], *creds = NULL;
    if (!creds_path(dp, path, sizeof path))
        return 0;
    pthread_mutex_lock(&g_mu);
    int ok = 1;
    if (access(path, F_OK) == 0) {
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
    dm_agent_creds_init();
    if (g_issuer == NULL)
        return 1;
    char path[4096], err[512] = "", *jwt = NULL;
    if (!creds_path(dp, path, sizeof path))
        return 0;
    dpf_nkey *user = NULL;
    pthread_mutex_lock(&g_mu);
    int ok = 1;
    dpf_status st = dpf_jwt_creds_read(path, &jwt, &user);
    if (st == DPF_ERR_NOT_FOUND) {
        DPF_INFO("DPID %lld: %s has no agent NATS credential to revoke", dp->dpid, dp->server_name);
    } else if (st != DPF_OK) {
        DPF_ERROR("DPID %lld: agent NATS credential %s cannot be read: %s", dp->dpid, path,
                  dpf_status_text(st));
        ok = 0;
    } else {
        const char *url = getenv("NATS_URL");
        st = dpf_natsissuer_revoke(g_issuer, url ? url : "nats://127.0.0.1:4222",
                                   dpf_nkey_public(user), err, sizeof err);
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

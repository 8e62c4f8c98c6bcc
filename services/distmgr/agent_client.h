/* distmgr's side of the agent protocol (dpf/agent.h): one step on one DP's
 * agent by request/reply, with the source's DistMgr.log line for it. */
#ifndef DM_AGENT_CLIENT_H
#define DM_AGENT_CLIENT_H

#include <stddef.h>
#include <dpf/bus.h>
#include <dpf/status.h>
#include <dpf/stepsig.h>

#include "components.h"
#include "store_dp.h"

typedef struct dm_agent_kv {
    const char *key;
    const char *value;
} dm_agent_kv;

typedef struct dm_agent_result {
    int changed;             /* the agent changed something on the host */
    long long agent_us;      /* how long the step took on the host */
    long long round_trip_us; /* request to reply, as distmgr saw it */
    char content_url[256];   /* the host's content server ("http://<addr>:<port>") as the
                                reply gave it; "" when it gave none */
    char log[4096];          /* the reply's log lines (what the host's smsdpprov.log says),
                                '\n'-separated, cut at a line that does not fit; "" if none */
} dm_agent_result;

/* Runs step on the agent of dp (subject agent.<SERVER>.step), waiting up to
 * timeout_s, and logs what happened. params (nparams pairs) are sent as the
 * request's params; comps (install_files only, else NULL) supplies the files,
 * manifest and signature. All borrowed.
 * DPF_OK: res filled. Otherwise reason says why, in words an administrator
 * can act on: DPF_ERR_TIMEOUT (no reply), DPF_ERR_STEP (the agent's error),
 * DPF_ERR_DECODE (unreadable reply), DPF_ERR_BUS, DPF_ERR_NOMEM. */
dpf_status dm_agent_run(dpf_bus *bus, const dm_dp_row *dp, const char *step,
                        const dm_agent_kv *params, size_t nparams,
                        const dm_components *comps, int timeout_s,
                        dm_agent_result *res, char *reason, size_t reasonlen) DPF_MUSTCHECK;

/* Signed agent steps (issue 9): from now on every request to an agent
 * (these steps and the content steps) is signed with s, borrowed for the
 * life of the process. main sets it before any worker starts; with none set
 * requests go unsigned, which only fake agents in tests accept. */
void dm_agent_set_signer(const dpf_stepsig_signer *s);
const dpf_stepsig_signer *dm_agent_signer(void);
/* Loads the PEM Ed25519 private key at path (--step-signing-key; must be
 * mode 0600) and sets it as the signer. DPF_OK, or an error with err
 * saying why (never the key). dm_agent_signer_free at exit. */
dpf_status dm_agent_signer_load(const char *path, char *err, size_t errlen) DPF_MUSTCHECK;
void dm_agent_signer_free(void);

/* The value of key in params, or NULL. */
const char *dm_agent_param(const dm_agent_kv *params, size_t nparams, const char *key);

#endif

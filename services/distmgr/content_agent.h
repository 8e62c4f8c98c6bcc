/* distmgr's side of the content steps (dpf/agent.h): one request/reply on
 * agent.<FQDN>.step carrying a file list or a chunk. */
#ifndef DM_CONTENT_AGENT_H
#define DM_CONTENT_AGENT_H

#include <stddef.h>
#include <dpf/bus.h>
#include <dpf/status.h>

#include "agent_client.h"
#include "dpfleet.pb-c.h"

/* The DP a step is for. Strings borrowed. */
typedef struct dm_cagent_target {
    long long dpid;
    const char *server_name;
    const char *nal_path;
    const char *site_code;
} dm_cagent_target;

/* A reply; rep owned (dm_cagent_reply_free), NULL when none came. */
typedef struct dm_cagent_reply {
    Dpf__AgentReply *rep;
} dm_cagent_reply;

void dm_cagent_reply_free(dm_cagent_reply *r);

/* Runs step on t's agent with params, files (content), chunk at offset
 * (content_put; chunk may be NULL), waiting up to timeout_s. All borrowed.
 * DPF_OK with out->rep set. Otherwise reason says why (out->rep may still
 * be set when the agent answered with a failure: DPF_ERR_STEP). */
dpf_status dm_cagent_run(dpf_bus *bus, const dm_cagent_target *t, const char *step,
                         const dm_agent_kv *params, size_t nparams, Dpf__ContentFile **files,
                         size_t nfiles, const void *chunk, size_t chunk_len, long long offset,
                         int timeout_s, dm_cagent_reply *out, char *reason,
                         size_t reasonlen) DPF_MUSTCHECK;

#endif

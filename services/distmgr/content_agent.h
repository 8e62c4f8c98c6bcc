/* distmgr's side of the content steps (dpf/agent.h): one request/reply on
 * agent.<FQDN>.step carrying a file list or a chunk. */
#ifndef DM_CONTENT_AGENT_H
#define DM_CONTENT_AGENT_H

#include <stddef.h>
#include <stdint.h>
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
 * be set when the agent answered with a failure: DPF_ERR_STEP). The chunk
 * is copied into the request: a transfer sends its chunks with
 * dm_cagent_put instead. */
dpf_status dm_cagent_run(dpf_bus *bus, const dm_cagent_target *t, const char *step,
                         const dm_agent_kv *params, size_t nparams, Dpf__ContentFile **files,
                         size_t nfiles, const void *chunk, size_t chunk_len, long long offset,
                         int timeout_s, dm_cagent_reply *out, char *reason,
                         size_t reasonlen) DPF_MUSTCHECK;

/* The request buffer of one transfer, reused by its content_put steps
 * ({NULL, 0} to start; dm_cagent_buf_free when the transfer ends). */
typedef struct dm_cagent_buf {
    uint8_t *data;
    size_t cap;
} dm_cagent_buf;

/* Writes the n bytes of a chunk to dst; DPF_OK, or an error with reason set. */
typedef dpf_status (*dm_cagent_fill)(void *arg, uint8_t *dst, size_t n, char *reason,
                                     size_t reasonlen);

/* content_put of n bytes at offset: fill writes the chunk straight into the
 * request in b (no second copy of it), then as dm_cagent_run. */
dpf_status dm_cagent_put(dpf_bus *bus, const dm_cagent_target *t, const dm_agent_kv *params,
                         size_t nparams, long long offset, size_t n, dm_cagent_fill fill,
                         void *fill_arg, dm_cagent_buf *b, int timeout_s, dm_cagent_reply *out,
                         char *reason, size_t reasonlen) DPF_MUSTCHECK;
void dm_cagent_buf_free(dm_cagent_buf *b);

/* The packing of dm_cagent_put: req (borrowed; its chunk empty) then the
 * chunk of n bytes that fill writes in place, into b; *len is the packed
 * size. DPF_OK, or fill's error or DPF_ERR_NOMEM with reason set. */
dpf_status dm_cagent_pack_put(const Dpf__AgentRequest *req, size_t n, dm_cagent_fill fill,
                              void *fill_arg, dm_cagent_buf *b, size_t *len, char *reason,
                              size_t reasonlen) DPF_MUSTCHECK;

#endif

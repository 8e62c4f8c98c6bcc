/* The content steps on a DP's agent (dpf/agent.h, "Content steps"): one
 * request, one reply, turned into a status and a reason an administrator
 * can act on. The install steps have their own client (agent_client.c);
 * this one carries file lists and chunks instead of component files. */
#include "content_agent.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dpf/agent.h>
#include <dpf/dp.h>
#include <dpf/log.h>
#include <dpf/stepsig.h>
#include <dpf/util.h>

void dm_cagent_reply_free(dm_cagent_reply *r)
{
    if (r == NULL)
        return;
    dpf__agent_reply__free_unpacked(r->rep, NULL);
    r->rep = NULL;
}

/* The request's common fields. kv, kvp (8 each), fqdn and subject are the
 * caller's storage; DPF_ERR_INVALID (reason set) with too many params. */
static dpf_status build(Dpf__AgentRequest *req, const dm_cagent_target *t, const char *step,
                        const dm_agent_kv *params, size_t nparams, Dpf__KeyValue *kv,
                        Dpf__KeyValue **kvp, char *fqdn, char *subject, size_t subjlen,
                        char *reason, size_t reasonlen)
{
    size_t i = 0;
    for (; t->server_name[i] != '\0' && i < DPF_FQDN_MAX; i++)
        fqdn[i] = (char)toupper((unsigned char)t->server_name[i]);
    fqdn[i] = '\0';
    dpf_fmt(subject, subjlen, DPF_AGENT_SUBJECT_FMT, fqdn);
    if (nparams > 8) {
        dpf_fmt(reason, reasonlen, "too many parameters for %s", step);
        return DPF_ERR_INVALID;
    }
    for (size_t k = 0; k < nparams; k++) {
        dpf__key_value__init(&kv[k]);
        kv[k].key = (char *)params[k].key;
        kv[k].value = (char *)params[k].value;
        kvp[k] = &kv[k];
    }
    req->step = (char *)step;
    req->fqdn = fqdn;
    req->dpid = t->dpid;
    req->nal_path = (char *)t->nal_path;
    req->site_code = (char *)t->site_code;
    req->n_params = nparams;
    req->params = kvp;
    return DPF_OK;
}

/* Sends the packed request (borrowed) and reads the reply into out. */
static dpf_status exchange(dpf_bus *bus, const char *subject, const char *fqdn,
                           const char *step, const uint8_t *buf, size_t len, int timeout_s,
                           dm_cagent_reply *out, char *reason, size_t reasonlen)
{
    void *reply = NULL;
    size_t reply_len = 0;
    int64_t t0 = dpf_mono_us();
    dpf_status st = dpf_bus_request(bus, subject, buf, len, dpf_log_corr(), timeout_s * 1000,
                                    &reply, &reply_len);
    int64_t took = dpf_mono_us() - t0;
    if (st == DPF_ERR_TIMEOUT && took < (int64_t)timeout_s * 500000) {
        dpf_fmt(reason, reasonlen, "no agent answers on %s; is dpagent running for %s?",
                subject, fqdn);
        return st;
    }
    if (st == DPF_ERR_TIMEOUT) {
        dpf_fmt(reason, reasonlen, "no reply from the agent of %s in %d s (step %s)", fqdn,
                timeout_s, step);
        return st;
    }
    if (st != DPF_OK) {
        dpf_fmt(reason, reasonlen, "could not reach the agent on %s: %s", subject,
                dpf_status_text(st));
        return st;
    }
    out->rep = dpf__agent_reply__unpack(NULL, reply_len, reply);
    free(reply);
    if (out->rep == NULL) {
        dpf_fmt(reason, reasonlen, "the agent of %s sent a reply that is not an AgentReply",
                fqdn);
        return DPF_ERR_DECODE;
    }
    for (size_t k = 0; k < out->rep->n_log; k++)
        DPF_DEBUG("%s: %s", fqdn, out->rep->log[k] ? out->rep->log[k] : "");
    if (!out->rep->ok) {
        dpf_fmt(reason, reasonlen, "%s", out->rep->error && out->rep->error[0]
                                             ? out->rep->error
                                             : "the agent reported a failure without a reason");
        return DPF_ERR_STEP;
    }
    return DPF_OK;
}

dpf_status dm_cagent_run(dpf_bus *bus, const dm_cagent_target *t, const char *step,
                         const dm_agent_kv *params, size_t nparams, Dpf__ContentFile **files,
                         size_t nfiles, const void *chunk, size_t chunk_len, long long offset,
                         int timeout_s, dm_cagent_reply *out, char *reason, size_t reasonlen)
{
    char fqdn[DPF_FQDN_MAX + 1], subject[DPF_FQDN_MAX + 32];
    Dpf__KeyValue kv[8];
    Dpf__KeyValue *kvp[8];
    Dpf__AgentRequest req = DPF__AGENT_REQUEST__INIT;
    memset(out, 0, sizeof *out);
    reason[0] = '\0';
    dpf_status st = build(&req, t, step, params, nparams, kv, kvp, fqdn, subject,
                          sizeof subject, reason, reasonlen);
    if (st != DPF_OK)
        return st;
    req.n_content = nfiles;
    req.content = files;
    req.chunk.data = (uint8_t *)chunk;
    req.chunk.len = chunk_len;
    req.offset = offset;
    size_t len = 0;
    uint8_t *buf = NULL;
    if (dm_agent_signer() != NULL) { /* signed steps (dpf/stepsig.h) */
        st = dpf_stepsig_pack(dm_agent_signer(), &req, &buf, &len);
        if (st != DPF_OK) {
            dpf_fmt(reason, reasonlen, "could not sign the %s request: %s", step,
                    dpf_status_text(st));
            return st;
        }
    } else {
        len = dpf__agent_request__get_packed_size(&req);
        buf = malloc(len ? len : 1);
        if (buf == NULL)
            return DPF_ERR_NOMEM;
        dpf__agent_request__pack(&req, buf);
    }
    st = exchange(bus, subject, fqdn, step, buf, len, timeout_s, out, reason, reasonlen);
    free(buf);
    return st;
}

/* A ProtobufCBuffer that writes at buf + len; bytes already in place (the
 * chunk, read there by the caller) are not copied onto themselves. */
typedef struct place {
    ProtobufCBuffer base;
    uint8_t *buf;
    size_t len;
} place;

static void place_append(ProtobufCBuffer *b, size_t n, const uint8_t *data)
{
    place *p = (place *)b;
    if (data != p->buf + p->len)
        memmove(p->buf + p->len, data, n);
    p->len += n;
}

dpf_status dm_cagent_pack_put(const Dpf__AgentRequest *req, size_t n, dm_cagent_fill fill,
                              void *fill_arg, dm_cagent_buf *b, size_t *len, char *reason,
                              size_t reasonlen)
{
    /* Two encodings one after the other are one message (protobuf merges
     * concatenated messages, a field may come in any order): every field but
     * the chunk, then a message holding only the chunk, whose last n bytes
     * are the chunk itself. So the file is read straight into the request:
     * one buffer of chunk size per transfer rather than a chunk buffer plus
     * its packed copy. */
    Dpf__AgentRequest only = DPF__AGENT_REQUEST__INIT;
    static const uint8_t none;
    only.chunk.len = n;
    only.chunk.data = (uint8_t *)&none; /* only the size is asked here */
    size_t head = dpf__agent_request__get_packed_size(req);
    size_t total = head + dpf__agent_request__get_packed_size(&only);
    if (b->cap < total + DPF_STEPSIG_TAIL_MAX) { /* room for the signature */
        uint8_t *grown = realloc(b->data, total + DPF_STEPSIG_TAIL_MAX);
        if (grown == NULL) {
            dpf_fmt(reason, reasonlen, "no memory for a chunk of %zu bytes", n);
            return DPF_ERR_NOMEM;
        }
        b->data = grown;
        b->cap = total + DPF_STEPSIG_TAIL_MAX;
    }
    dpf__agent_request__pack(req, b->data);
    uint8_t *chunk = b->data + total - n;
    dpf_status st = fill(fill_arg, chunk, n, reason, reasonlen);
    if (st != DPF_OK)
        return st;
    only.chunk.data = chunk;
    place p = {.base = {.append = place_append}, .buf = b->data, .len = head};
    dpf__agent_request__pack_to_buffer(&only, &p.base);
    *len = p.len;
    return DPF_OK;
}

dpf_status dm_cagent_put(dpf_bus *bus, const dm_cagent_target *t, const dm_agent_kv *params,
                         size_t nparams, long long offset, size_t n, dm_cagent_fill fill,
                         void *fill_arg, dm_cagent_buf *b, int timeout_s, dm_cagent_reply *out,
                         char *reason, size_t reasonlen)
{
    char fqdn[DPF_FQDN_MAX + 1], subject[DPF_FQDN_MAX + 32];
    Dpf__KeyValue kv[8];
    Dpf__KeyValue *kvp[8];
    Dpf__AgentRequest req = DPF__AGENT_REQUEST__INIT;
    memset(out, 0, sizeof *out);
    reason[0] = '\0';
    dpf_status st = build(&req, t, DPF_STEP_CONTENT_PUT, params, nparams, kv, kvp, fqdn,
                          subject, sizeof subject, reason, reasonlen);
    if (st != DPF_OK)
        return st;
    req.offset = offset;
    size_t len = 0;
    uint8_t nonce[DPF_STEPSIG_NONCE_LEN];
    const dpf_stepsig_signer *signer = dm_agent_signer();
    if (signer != NULL && dpf_stepsig_stamp(&req, dpf_stepsig_now_ms(), nonce) != DPF_OK) {
        dpf_fmt(reason, reasonlen, "no random bytes for the content_put nonce");
        return DPF_ERR_IO;
    }
    st = dm_cagent_pack_put(&req, n, fill, fill_arg, b, &len, reason, reasonlen);
    if (st != DPF_OK)
        return st;
    /* the chunk is in place: the whole request is signed, then sent */
    if (signer != NULL && (st = dpf_stepsig_seal(signer, b->data, len, &len)) != DPF_OK) {
        dpf_fmt(reason, reasonlen, "could not sign the content_put request: %s",
                dpf_status_text(st));
        return st;
    }
    return exchange(bus, subject, fqdn, DPF_STEP_CONTENT_PUT, b->data, len, timeout_s, out,
                    reason, reasonlen);
}

void dm_cagent_buf_free(dm_cagent_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->cap = 0;
}

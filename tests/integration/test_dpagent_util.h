/* Helpers for the dpagent integration test: start/stop the real dpagent
 * binary, send it steps the way distmgr does, load the build-time component
 * set, and fetch from its HTTP content server. */
#ifndef TEST_DPAGENT_UTIL_H
#define TEST_DPAGENT_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <dpf/bus.h>
#include "dpfleet.pb-c.h"

/* Starts DPAGENT_BIN serving hosts (comma list) under root; its stderr goes
 * to <root>.log. extra: more "--opt", "value" arguments, NULL-terminated. */
pid_t tda_agent_start(const char *nats_url, const char *root, const char *hosts,
                      const char *const *extra);
/* SIGTERM and wait up to 10 s: dpf_test_stop. */
int tda_agent_stop(pid_t pid);
/* Waits until fqdn answers a status request (up to timeout_ms); 0 when it does. */
int tda_wait_ready(dpf_bus *bus, const char *fqdn, int timeout_ms);

/* The build-time component set (DPAGENT_COMPONENTS_DIR). */
typedef struct tda_components {
    size_t n;
    char *names[32];
    char *data[32];
    size_t lens[32];
    char *manifest, *sig;
    size_t mlen, slen;
} tda_components;
void tda_components_load(tda_components *c);
void tda_components_free(tda_components *c);

/* A request under construction; strings are borrowed. */
typedef struct tda_req {
    Dpf__AgentRequest req;
    Dpf__KeyValue kv[16];
    Dpf__KeyValue *pkv[16];
    Dpf__ComponentFile cf[32];
    Dpf__ComponentFile *pcf[32];
} tda_req;
void tda_req_init(tda_req *r, const char *step, const char *fqdn);
void tda_req_param(tda_req *r, const char *key, const char *value);
void tda_req_files(tda_req *r, const tda_components *c);

/* The test's step key pair (made once per process, removed at exit): the
 * private key distmgr would hold and the public key tda_agent_start's agents
 * trust (--step-trusted-key). */
const char *tda_step_priv(void);
const char *tda_step_pub(void);
/* r packed and signed with the PEM private key at priv (NULL: tda_step_priv())
 * as of at_ms (Unix ms; 0: now), fresh nonce; malloc'd, *len its size. */
uint8_t *tda_pack_signed(tda_req *r, const char *priv, int64_t at_ms, size_t *len);

/* Sends r signed (tda_pack_signed) and returns the decoded reply (NULL on timeout or garbage).
 * *elapsed_ms (may be NULL) gets the round-trip time. */
Dpf__AgentReply *tda_call(dpf_bus *bus, tda_req *r, const char *corr, int timeout_ms,
                          int *elapsed_ms);
Dpf__AgentReply *tda_call_raw(dpf_bus *bus, const char *fqdn, const void *data, size_t len,
                              int timeout_ms);
/* 1 if some reply line contains needle. */
int tda_has_line(const Dpf__AgentReply *r, const char *needle);
/* The "key=value" status line's value for key, into out ("" if absent). */
void tda_status_value(const Dpf__AgentReply *r, const char *key, char *out, size_t len);

/* GET on 127.0.0.1:port; returns the HTTP status, the body into body. */
int tda_http_get(int port, const char *path, char *body, size_t len);

#endif

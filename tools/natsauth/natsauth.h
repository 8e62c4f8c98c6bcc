/* dpf-natsauth's two commands (tools/natsauth/init.c). */
#ifndef NATSAUTH_H
#define NATSAUTH_H

#include <stddef.h>
#include <dpf/status.h>

/* init's options: nats-server's TLS certificate and key (PEM files), both
 * or neither; agent_days > 0: agent credentials expire that many days after
 * issue (DIR/issuer/agent-days), and older revocations are pruned. */
typedef struct natsauth_opts {
    const char *cert;
    const char *key;
    int agent_days;
} natsauth_opts;

/* Creates every key, JWT, credential and DIR/nats.conf (with a tls block
 * when opts names a certificate; opts may be NULL); refuses a DIR that already
 * holds a nats.conf (the keys in it are in use). Strings borrowed. */
dpf_status natsauth_init(const char *dir, const natsauth_opts *opts, char *err,
                         size_t errlen) DPF_MUSTCHECK;

/* One host's agent credential from DIR/issuer, written to out (0600). */
dpf_status natsauth_agent(const char *dir, const char *fqdn, const char *out, char *err,
                          size_t errlen) DPF_MUSTCHECK;

#endif

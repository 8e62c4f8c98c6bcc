/* dpf-natsauth's two commands (tools/natsauth/init.c). */
#ifndef NATSAUTH_H
#define NATSAUTH_H

#include <stddef.h>
#include <dpf/status.h>

/* Creates every key, JWT, credential and DIR/nats.conf; refuses a DIR that
 * already holds a nats.conf (the keys in it are in use). */
dpf_status natsauth_init(const char *dir, char *err, size_t errlen) DPF_MUSTCHECK;

/* One host's agent credential from DIR/issuer, written to out (0600). */
dpf_status natsauth_agent(const char *dir, const char *fqdn, const char *out, char *err,
                          size_t errlen) DPF_MUSTCHECK;

#endif

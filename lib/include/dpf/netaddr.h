/* Listen addresses as operators write them: "host:port", ":port" (every
 * interface) or "[v6]:port". One parser for every HTTP server of dpfleet
 * (the provider's API, each service's health endpoints). */
#ifndef DPF_NETADDR_H
#define DPF_NETADDR_H

#include <sys/socket.h>
#include "status.h"

/* Resolves listen (numeric port) into *ss / *sslen. DPF_ERR_INVALID when it
 * is not of the forms above or does not resolve. */
dpf_status dpf_listen_resolve(const char *listen, struct sockaddr_storage *ss, socklen_t *sslen)
    DPF_MUSTCHECK;
/* The port of a resolved address, in host order. */
unsigned dpf_sockaddr_port(const struct sockaddr_storage *ss);

#endif

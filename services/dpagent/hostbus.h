/* A DP host's own NATS identity (issue 9): <host root>/etc/nats.creds. */
#ifndef DPA_HOSTBUS_H
#define DPA_HOSTBUS_H

#include <stddef.h>
#include <dpf/bus.h>

/* Connects as host fqdn's own identity when its root holds etc/nats.creds
 * that only its owner can read (mode 0600 or stricter): *bus is a new
 * connection (owned by the caller) and 1 is returned, or -1 when that
 * connection failed (logged). 0, *bus NULL, when the host has no usable
 * credential (a file others can read is refused and logged): the host is
 * served on the process's connection. */
int dpa_hostbus_connect(const char *nats_url, const char *fqdn, const char *root, dpf_bus **bus);

#endif

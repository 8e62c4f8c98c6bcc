/* One NATS connection per DP host that has its own credential.
 *
 * distmgr issues each DP host a credential that allows exactly its own
 * agent.<FQDN>.step subject (lib/src/natsissuer.c); the administrator puts
 * it in the host's root as etc/nats.creds. A host with one gets a
 * connection of its own, so its steps can only ever arrive for it; hosts
 * without one (a process simulating many hosts in tests and benches) share
 * the process's connection and its identity (DPFLEET_NATS_CREDS). */
#include "hostbus.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dpf/log.h>
#include <dpf/util.h>

int dpa_hostbus_connect(const char *nats_url, const char *fqdn, const char *root, dpf_bus **bus)
{
    *bus = NULL;
    char path[4096], name[300];
    if (!dpf_fmt(path, sizeof path, "%s/etc/nats.creds", root))
        return 0;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (errno != ENOENT)
            DPF_WARN("%s: cannot read %s: %s; serving with the process identity", fqdn, path,
                     strerror(errno));
        return 0;
    }
    if ((sb.st_mode & 077) != 0 || sb.st_uid != geteuid()) {
        DPF_ERROR("%s: %s is mode %03o or not ours: a credential must be 0600 and owned by the "
                  "agent; not used, serving with the process identity", fqdn, path,
                  (unsigned)(sb.st_mode & 0777));
        return 0;
    }
    dpf_bus_auth auth = {.creds_file = path};
    dpf_fmt(name, sizeof name, "dpagent %s", fqdn);
    dpf_status st = dpf_bus_connect_as(nats_url, name, &auth, bus);
    if (st != DPF_OK) {
        DPF_ERROR("%s: cannot connect to NATS with the host's own credential %s: %s", fqdn, path,
                  dpf_status_text(st));
        *bus = NULL;
        return -1;
    }
    DPF_INFO("%s: connected with the host's own NATS credential %s", fqdn, path);
    return 1;
}

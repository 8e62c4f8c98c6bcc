/* Each DP host's own NATS credential (issue 9): issued when distmgr installs
 * the DP, revoked when it removes it. */
#ifndef DM_AGENT_CREDS_H
#define DM_AGENT_CREDS_H

#include "store_dp.h"

/* Set up once, from main before the workers start (later calls are
 * ignored; all strings borrowed for the call): issuer_dir is the issuer
 * directory of dpf-natsauth (lib/include/dpf/natsissuer.h; option --nats-issuer,
 * DPFLEET_NATS_ISSUER); creds_dir is where each host's credential is
 * written, <dir>/<FQDN>.creds (0600), for the administrator to place on the
 * host as <host root>/etc/nats.creds (option --agent-creds-dir,
 * DPFLEET_NATS_AGENT_CREDS_DIR); revocations are pushed to nats_url.
 * Without both directories, or without this call, credentials are not
 * managed (logged once) and issue/revoke return 1 doing nothing. */
void dm_agent_creds_init(const char *issuer_dir, const char *creds_dir, const char *nats_url);

/* Writes the credential of dp's host unless it has one already; logged with
 * the DPID and FQDN, never the secret. 0 if it could not (logged). */
int dm_agent_creds_issue(const dm_dp_row *dp);

/* Revokes the credential of dp's host (nats-server refuses it from then on)
 * and removes its file. 1 if revoked or there was none; 0 if nats-server
 * could not be told (logged as an error). */
int dm_agent_creds_revoke(const dm_dp_row *dp);

#endif

/* Issuing and revoking DP hosts' agent credentials (issue 9).
 *
 * The issuer directory (written by dpf-natsauth init, DIR/issuer) holds:
 *   account.pub           the dpfleet account's public key
 *   account-signing.nk    a signing key of that account (0600): signs user JWTs
 *   operator-signing.nk   a signing key of the operator (0600): re-signs the
 *                         account JWT when a credential is revoked
 *   sys.creds             a system-account user (0600): pushes that JWT to
 *                         nats-server's resolver ($SYS.REQ.CLAIMS.UPDATE)
 *   agent-days            optional, written only by dpf-natsauth init
 *                         --agent-days N: agent credentials expire N days
 *                         after issue, and revocations older than N days
 *                         (and a margin) are pruned from the account JWT
 * Whoever holds the directory can mint bus identities: only distmgr gets it. */
#ifndef DPF_NATSISSUER_H
#define DPF_NATSISSUER_H

#include <jansson.h>
#include <stddef.h>

#include "nkeys.h"
#include "status.h"

#define DPF_NATSISSUER_AGENT_DAYS_MAX 3650
/* clocks of distmgr and nats-server may differ this much */
#define DPF_NATSISSUER_PRUNE_MARGIN_S 3600

typedef struct dpf_natsissuer dpf_natsissuer;

/* Loads the issuer directory. *out owned by the caller. err gets the file
 * and the reason on failure (never a key). */
dpf_status dpf_natsissuer_load(const char *dir, dpf_natsissuer **out, char *err,
                               size_t errlen) DPF_MUSTCHECK;
void dpf_natsissuer_destroy(dpf_natsissuer *iss);

/* Mints the agent credential of host fqdn (publish/subscribe exactly
 * agent.<FQDN>.step, answer its requests; expiring after the agent
 * lifetime, if the directory sets one): *creds is the credentials-file
 * text (malloc'd, owned by the caller, secret), user_pub its public key,
 * the name a revocation takes. */
dpf_status dpf_natsissuer_agent(const dpf_natsissuer *iss, const char *fqdn, char **creds,
                                char user_pub[DPF_NKEY_PUBLIC_LEN + 1]) DPF_MUSTCHECK;

/* How long an agent credential lasts, seconds; 0: forever (no agent-days). */
long long dpf_natsissuer_agent_lifetime(const dpf_natsissuer *iss);

/* Removes from account claims (borrowed, changed) the revocations of user
 * keys revoked more than lifetime_s + DPF_NATSISSUER_PRUNE_MARGIN_S before
 * now: every credential such an entry revokes was issued before it and has
 * expired since. Never the "*" entry. lifetime_s 0: nothing. Returns how
 * many it removed. */
size_t dpf_natsissuer_prune(json_t *claims, long long now, long long lifetime_s);

/* Revokes every credential of user_pub issued until now: looks the account
 * JWT up in nats-server's resolver at nats_url, adds the revocation, prunes
 * (dpf_natsissuer_prune), signs it with the operator signing key and pushes it. DPF_OK once the server
 * answered that it took the update; err says why not otherwise. */
dpf_status dpf_natsissuer_revoke(const dpf_natsissuer *iss, const char *nats_url,
                                 const char *user_pub, char *err, size_t errlen) DPF_MUSTCHECK;

#endif

/* dpf-natsauth: creates dpfleet's NATS identities (issue 9, operator mode).
 *
 *   dpf-natsauth init DIR      operator, SYS and dpfleet accounts, one
 *                              credential per role of lib/src/natsroles.c,
 *                              the issuer files distmgr mints agent
 *                              credentials with, and DIR/nats.conf
 *   dpf-natsauth agent DIR FQDN OUT
 *                              one DP host's agent credential (what distmgr
 *                              does when a DP is added), written to OUT 0600
 *
 * Operator mode lets the control plane mint and revoke a credential per DP
 * host without touching nats-server's configuration: accounts live in the
 * server's NATS-based resolver (type full) and a revocation is an account
 * JWT pushed on $SYS.REQ.CLAIMS.UPDATE. Secrets (seeds) are written 0600 in
 * 0700 directories and never printed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <dpf/jwt.h>
#include <dpf/natsissuer.h>
#include <dpf/natsroles.h>
#include <dpf/nkeys.h>
#include <dpf/util.h>

#include "natsauth.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: dpf-natsauth init DIR [--tls-cert FILE --tls-key FILE] [--agent-days N]\n"
               "       dpf-natsauth agent DIR FQDN OUT\n\n"
               "init writes DIR/nats.conf (include it in nats-server's configuration), the\n"
               "operator and account keys, DIR/creds/<role>.creds for each role and\n"
               "DIR/issuer/ (what distmgr needs to issue and revoke agent credentials).\n"
               "--tls-cert/--tls-key (PEM, the key 0600) add a tls block to nats.conf: every\n"
               "client must then use TLS (tls:// URL, DPFLEET_NATS_CA = the signing CA).\n"
               "--agent-days N (1..3650): DP hosts' agent credentials expire N days after\n"
               "issue (re-issue with \"agent\" before then), and revocations older than that\n"
               "are pruned from the account; only at init, so every agent credential expires.\n"
               "Roles:\n");
    for (const dpf_natsrole *r = dpf_natsroles(); r->name != NULL; r++)
        fprintf(f, "  %-16s %s\n", r->name, r->purpose);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    char err[512] = "";
    dpf_status st;
    if (argc >= 3 && strcmp(argv[1], "init") == 0) {
        natsauth_opts opts = {NULL, NULL, 0};
        const char *days = NULL;
        for (int i = 3; i < argc; i += 2) {
            const char **slot = strcmp(argv[i], "--tls-cert") == 0     ? &opts.cert
                                : strcmp(argv[i], "--tls-key") == 0    ? &opts.key
                                : strcmp(argv[i], "--agent-days") == 0 ? &days
                                                                       : NULL;
            if (slot == NULL || i + 1 >= argc) {
                usage(stderr);
                return 2;
            }
            *slot = argv[i + 1];
        }
        if (days != NULL) {
            char *end = NULL;
            long v = strtol(days, &end, 10);
            if (end == days || *end != '\0' || v < 1 || v > DPF_NATSISSUER_AGENT_DAYS_MAX) {
                fprintf(stderr, "dpf-natsauth: --agent-days wants a number of days from 1 to %d\n",
                        DPF_NATSISSUER_AGENT_DAYS_MAX);
                return 2;
            }
            opts.agent_days = (int)v;
        }
        st = natsauth_init(argv[2], &opts, err, sizeof err);
        if (st == DPF_OK)
            printf("dpf-natsauth: wrote %s/nats.conf and the credentials in %s/creds\n", argv[2],
                   argv[2]);
    } else if (argc == 5 && strcmp(argv[1], "agent") == 0) {
        st = natsauth_agent(argv[2], argv[3], argv[4], err, sizeof err);
    } else {
        usage(stderr);
        return 2;
    }
    if (st != DPF_OK) {
        fprintf(stderr, "dpf-natsauth: %s (%s)\n", err[0] ? err : "failed", dpf_status_text(st));
        return 1;
    }
    return 0;
}

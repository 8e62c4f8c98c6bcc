/* Who may do what on the bus: the one permission table of dpfleet's NATS
 * identities (issue 9). dpf-natsauth mints a credential per role from it;
 * distmgr mints each DP host's agent credential with dpf_natsroles_agent. */
#ifndef DPF_NATSROLES_H
#define DPF_NATSROLES_H

#include <stddef.h>

#include "jwt.h"

/* Each role's request inboxes are "_INBOX_<role>.<...>" */
#define DPF_NATSROLES_INBOX_PREFIX "_INBOX_"

typedef struct dpf_natsrole {
    const char *name;        /* "dbmon", "statmsg-reader", ...: the credential's file name */
    const char *purpose;     /* one line for --help and the README */
    dpf_jwt_perms perms;     /* subjects borrowed from static tables */
    int everything;          /* 1: no permission limits (admin, for tests) */
} dpf_natsrole;

/* The table, terminated by an entry with name NULL. Static, borrowed. */
const dpf_natsrole *dpf_natsroles(void);

/* The role of that name, or NULL. Borrowed. */
const dpf_natsrole *dpf_natsroles_find(const char *name);

/* The inbox prefix of role's connections into buf: "_INBOX_<role>", the
 * only inboxes the table lets that role subscribe to (nats.c's default
 * "_INBOX" is refused). 0 if role is not in the table (a DP host, whose
 * agent only answers) or buf is too small, 1 otherwise. */
int dpf_natsroles_inbox_prefix(const char *role, char *buf, size_t len);

/* The permissions of one DP host's agent: publish and subscribe exactly
 * agent.<fqdn>.> and answer the requests it receives. The subject strings
 * are written into buf (its storage, borrowed by *perms and the arrays in
 * it); 0 if fqdn is not a host name (empty, too long, or holds '.'-empty
 * labels, blanks, '*' or '>'), 1 otherwise. */
typedef struct dpf_natsroles_agent_buf {
    char subject[300];
    const char *allow[2];
} dpf_natsroles_agent_buf;
int dpf_natsroles_agent(const char *fqdn, dpf_natsroles_agent_buf *buf, dpf_jwt_perms *perms);

#endif

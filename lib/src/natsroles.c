/* The NATS permission table (issue 9): each dpfleet identity and the
 * subjects it may publish and subscribe to, in one place.
 *
 * Found by what each service does on the bus (lib/src/bus*.c) and checked by
 * running the suite against a server started with these credentials and
 * reading its "Permissions Violation" lines. The JetStream API is a set of
 * request subjects ($JS.API.<verb>.<stream>[.<consumer>]); a consumer's
 * messages come on its deliver subject (_dpf.deliver.<stream>.<durable> for
 * the durable push consumers of bus_sub.c, an inbox for the ephemeral ones)
 * and are acknowledged on $JS.ACK.<stream>.<durable>.>. Replies (nats.c's
 * request inboxes, JetStream publish acks and API answers, an ephemeral
 * consumer's deliveries) come on inboxes: each role has a prefix of its own,
 * _INBOX_<role> (dpf_bus_connect_as sets it from the credential's name), and
 * may subscribe to that one only, so no identity can read another's replies
 * (the status-message reader cannot see an agent's answer to distmgr).
 * Agents get no inbox at all: they only answer, through "resp". */
#include "natsroles.h"

#include <ctype.h>
#include <string.h>

#include "dp.h"
#include "util.h"

/* the only inboxes role may read (see dpf_natsroles_inbox_prefix) */
#define INBOX(role) DPF_NATSROLES_INBOX_PREFIX role ".>"

#define JS_INFO "$JS.API.INFO", "$JS.API.STREAM.NAMES", "$JS.API.STREAM.INFO.DPF_EVENTS", \
                "$JS.API.STREAM.INFO.DPF_STATMSG"
/* every service makes sure of the streams when it connects (dpf_daemon) */
#define JS_STREAMS "$JS.API.STREAM.CREATE.DPF_EVENTS", "$JS.API.STREAM.CREATE.DPF_STATMSG", \
                   "$JS.API.STREAM.UPDATE.DPF_EVENTS", "$JS.API.STREAM.UPDATE.DPF_STATMSG"
/* a durable push or pull consumer's API calls, acks and flow control */
#define DURABLE(stream, d)                                                                  \
    "$JS.API.CONSUMER.DURABLE.CREATE." stream "." d, "$JS.API.CONSUMER.CREATE." stream "." d, \
        "$JS.API.CONSUMER.CREATE." stream "." d ".>", "$JS.API.CONSUMER.INFO." stream "." d,  \
        "$JS.API.CONSUMER.DELETE." stream "." d, "$JS.API.CONSUMER.MSG.NEXT." stream "." d,   \
        "$JS.ACK." stream "." d ".>", "$JS.FC." stream ".>"

static const char *const DBMON_PUB[] = {
    "sitecontrol.changed.>", "dp.ins.>", "dp.dpn.>", "pkg.changed.>", "dp.val.>", "statmsg.>",
    JS_INFO, JS_STREAMS, NULL};
static const char *const DBMON_SUB[] = {INBOX("dbmon"), NULL};

static const char *const HMAN_PUB[] = {"statmsg.>", JS_INFO, JS_STREAMS,
                                       DURABLE("DPF_EVENTS", "hman"), NULL};
static const char *const HMAN_SUB[] = {INBOX("hman"), "_dpf.deliver.DPF_EVENTS.hman", NULL};

static const char *const DISTMGR_PUB[] = {
    "statmsg.>", "agent.*.>", JS_INFO, JS_STREAMS, DURABLE("DPF_EVENTS", "distmgr-ins"),
    DURABLE("DPF_EVENTS", "distmgr-dpn"), DURABLE("DPF_EVENTS", "distmgr-pkg"),
    DURABLE("DPF_EVENTS", "distmgr-val"),
    /* issuing and revoking agent credentials goes through the system
     * account's own connection, not this one */
    NULL};
static const char *const DISTMGR_SUB[] = {INBOX("distmgr"), NULL};

static const char *const PROVIDER_PUB[] = {"statmsg.>", NULL};
static const char *const PROVIDER_SUB[] = {INBOX("provider"), NULL};

/* dpctl statmsg watch: an ephemeral consumer on DPF_STATMSG */
static const char *const STATMSG_PUB[] = {
    "$JS.API.INFO", "$JS.API.STREAM.NAMES", "$JS.API.STREAM.INFO.DPF_STATMSG",
    "$JS.API.CONSUMER.CREATE.DPF_STATMSG", "$JS.API.CONSUMER.CREATE.DPF_STATMSG.>",
    "$JS.API.CONSUMER.INFO.DPF_STATMSG.*", "$JS.API.CONSUMER.DELETE.DPF_STATMSG.*",
    "$JS.ACK.DPF_STATMSG.>", "$JS.FC.DPF_STATMSG.>", NULL};
static const char *const STATMSG_SUB[] = {"statmsg.>", INBOX("statmsg-reader"), NULL};

static const char *const SIM_ALL[] = {"agent.*.>", NULL};

static const dpf_natsrole ROLES[] = {
    {"dbmon", "publishes events and status messages, creates the streams",
     {DBMON_PUB, NULL, DBMON_SUB, NULL, 0}, 0},
    {"hman", "consumes sitecontrol.changed.> (durable hman), publishes status messages",
     {HMAN_PUB, NULL, HMAN_SUB, NULL, 0}, 0},
    {"distmgr", "consumes dp.ins/dp.dpn/pkg.changed/dp.val, requests agent steps",
     {DISTMGR_PUB, NULL, DISTMGR_SUB, NULL, 0}, 0},
    {"provider", "publishes status messages only", {PROVIDER_PUB, NULL, PROVIDER_SUB, NULL, 0},
     0},
    {"statmsg-reader", "reads statmsg.> (dpctl statmsg watch) and nothing else",
     {STATMSG_PUB, NULL, STATMSG_SUB, NULL, 0}, 0},
    {"host-simulator", "SIMULATION ONLY: one dpagent serving many hosts in tests and benches",
     {SIM_ALL, NULL, SIM_ALL, NULL, 1}, 0},
    {"admin", "everything (tests and operators' tools)", {NULL, NULL, NULL, NULL, 0}, 1},
    {NULL, NULL, {NULL, NULL, NULL, NULL, 0}, 0},
};

const dpf_natsrole *dpf_natsroles(void)
{
    return ROLES;
}

const dpf_natsrole *dpf_natsroles_find(const char *name)
{
    for (const dpf_natsrole *r = ROLES; name != NULL && r->name != NULL; r++)
        if (strcmp(r->name, name) == 0)
            return r;
    return NULL;
}

int dpf_natsroles_inbox_prefix(const char *role, char *buf, size_t len)
{
    if (dpf_natsroles_find(role) == NULL)
        return 0;
    return dpf_fmt(buf, len, "%s%s", DPF_NATSROLES_INBOX_PREFIX, role);
}

int dpf_natsroles_agent(const char *fqdn, dpf_natsroles_agent_buf *buf, dpf_jwt_perms *perms)
{
    char err[128];
    if (fqdn == NULL || !dpf_fqdn_valid(fqdn, err, sizeof err))
        return 0;
    /* exactly the step subject, not agent.<FQDN>.>: FQDNs hold dots, so
     * agent.H1.EXAMPLE.> would also match host H1.EXAMPLE.COM's requests */
    if (!dpf_fmt(buf->subject, sizeof buf->subject, "agent.%s.step", fqdn))
        return 0;
    /* agent subjects carry the FQDN upper-cased (DPF_AGENT_SUBJECT_FMT) */
    for (char *p = buf->subject + strlen("agent."); *p; p++)
        *p = (char)toupper((unsigned char)*p);
    memcpy(buf->subject + strlen(buf->subject) - strlen("STEP"), "step", 4);
    buf->allow[0] = buf->subject;
    buf->allow[1] = NULL;
    memset(perms, 0, sizeof *perms);
    perms->pub_allow = buf->allow; /* its own subject; replies go through resp */
    perms->sub_allow = buf->allow;
    perms->allow_responses = 1;
    return 1;
}

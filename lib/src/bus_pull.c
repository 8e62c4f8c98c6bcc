/* Durable JetStream pull consumers: one message at a time, asked for by a
 * receiver that has room for it. This is how a service with several
 * replicas spreads work by each replica's free capacity: a push consumer's
 * only brake is its max ack pending, which holds for the consumer as a
 * whole, so one replica's setting would cap all of them together.
 *
 * nats.c 3.4.1's natsSubscription_Fetch overflows the heap on a partial
 * batch (DESIGN.md, known constraints): every fetch here asks for exactly
 * one message. The consumer is created explicitly and then bound to, so
 * nats.c never deletes it when a replica goes away. After the connection
 * comes back (a nats-server restart), after a failed fetch and every
 * CHECK_IDLE_MS while idle (a fetch from a consumer that is gone only
 * times out), the consumer is looked up again and created if
 * JetStream lost it, so work resumes without a restart of the service. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus_p.h"
#include "dpf/log.h"
#include "dpf/util.h"

#define DEFAULT_MAX_ACK_PENDING 10000
/* an idle receiver checks that its consumer still exists this often */
#define CHECK_IDLE_MS 5000

struct dpf_bus_pull {
    dpf_bus *bus;
    natsSubscription *sub;
    char stream[64];
    char subject[128];
    char durable[64];
    jsConsumerConfig cc;      /* strings point into the fields above */
    char what[160];           /* "DPF_EVENTS/distmgr-ins", for log lines */
    uint64_t reconnects_seen; /* dpf_bus_reconnects when the consumer was last checked */
    int64_t checked_us;       /* when it was last checked */
    int recheck;              /* a fetch failed: check before the next one */
    /* checked_us only moves on a successful check, so an idle receiver
     * checks every CHECK_IDLE_MS; one that keeps receiving does too, which
     * costs one request per CHECK_IDLE_MS */
    int failing;              /* an outage is being reported */
    int64_t failing_since_us;
};

static dpf_status bind_sub(dpf_bus_pull *p)
{
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = p->stream;
    so.Consumer = p->durable;
    so.ManualAck = true;
    jsErrCode jerr = 0;
    natsStatus ns = js_PullSubscribe(&p->sub, p->bus->js, p->subject, p->durable, NULL, &so,
                                     &jerr);
    char op[200];
    snprintf(op, sizeof op, "pull subscribe %s", p->what);
    return dpf_bus__status(ns, jerr, op);
}

/* Makes sure the consumer exists as configured; logs when it had to be
 * created again (JetStream lost it: a server restarted without its store,
 * or someone deleted it). why: the occasion, NULL at creation. */
static dpf_status check_consumer(dpf_bus_pull *p, const char *why)
{
    int created = 0;
    dpf_status st = dpf_bus__ensure_consumer(p->bus, p->stream, &p->cc, &created);
    if (st == DPF_ERR_NO_STREAM || st == DPF_ERR_BUS) {
        /* the stream itself may be gone with the server's store */
        if (dpf_bus_ensure_streams(p->bus) == DPF_OK)
            st = dpf_bus__ensure_consumer(p->bus, p->stream, &p->cc, &created);
    }
    if (st == DPF_OK && created && why != NULL)
        DPF_WARN("Consumer %s was missing from JetStream (%s); created it again, messages "
                 "still in the stream are delivered from it", p->what, why);
    if (st == DPF_OK) {
        p->checked_us = dpf_mono_us();
        p->recheck = 0;
    }
    return st;
}

dpf_status dpf_bus_pull_create(dpf_bus *bus, const dpf_bus_sub_opts *opts, dpf_bus_pull **out)
{
    if (out != NULL)
        *out = NULL;
    if (bus == NULL || opts == NULL || out == NULL || opts->stream == NULL ||
        opts->subject == NULL || opts->durable == NULL || *opts->durable == '\0' ||
        strpbrk(opts->durable, ". *>") != NULL || strlen(opts->stream) >= 64 ||
        strlen(opts->subject) >= 128 || strlen(opts->durable) >= 64) {
        DPF_ERROR("dpf_bus_pull_create: stream, subject and a durable name (under 64 "
                  "characters, without '.', ' ', '*' or '>') are required");
        return DPF_ERR_INVALID;
    }
    dpf_bus_pull *p = calloc(1, sizeof *p);
    if (p == NULL)
        return DPF_ERR_NOMEM;
    p->bus = bus;
    snprintf(p->stream, sizeof p->stream, "%s", opts->stream);
    snprintf(p->subject, sizeof p->subject, "%s", opts->subject);
    snprintf(p->durable, sizeof p->durable, "%s", opts->durable);
    snprintf(p->what, sizeof p->what, "%s/%s", opts->stream, opts->durable);
    jsConsumerConfig_Init(&p->cc);
    p->cc.Durable = p->durable;
    p->cc.FilterSubject = p->subject;
    p->cc.DeliverPolicy = js_DeliverAll;
    p->cc.AckPolicy = js_AckExplicit;
    p->cc.AckWait = (int64_t)(opts->ack_wait_ms > 0 ? opts->ack_wait_ms : 30000) * NS_PER_MS;
    p->cc.MaxDeliver = opts->max_deliver > 0 ? opts->max_deliver : -1;
    p->cc.MaxAckPending = opts->max_ack_pending > 0 ? opts->max_ack_pending
                                                    : DEFAULT_MAX_ACK_PENDING;
    p->reconnects_seen = dpf_bus_reconnects(bus);

    dpf_status st = check_consumer(p, NULL);
    if (st == DPF_OK)
        st = bind_sub(p);
    if (st != DPF_OK) {
        free(p);
        return st;
    }
    DPF_INFO("Pulling %s from %s one message at a time (ack wait %d ms, max deliver %lld)",
             p->subject, p->what, (int)(p->cc.AckWait / NS_PER_MS), (long long)p->cc.MaxDeliver);
    *out = p;
    return DPF_OK;
}

static void nap_ms(int ms)
{
    if (ms > 0)
        nats_Sleep(ms);
}

/* Before a fetch: check the consumer when the connection came back, a fetch
 * failed, or it has been idle long enough. 0 when it cannot be checked
 * (the caller waits and reports). */
static int ready(dpf_bus_pull *p)
{
    uint64_t rc = dpf_bus_reconnects(p->bus);
    int back = rc != p->reconnects_seen;
    if (!back && !p->recheck && dpf_mono_us() - p->checked_us < (int64_t)CHECK_IDLE_MS * 1000)
        return 1;
    if (!dpf_bus_connected(p->bus))
        return 0;
    if (check_consumer(p, back ? "after the connection to NATS came back"
                               : p->recheck ? "after a failed fetch" : "periodic check") != DPF_OK)
        return 0;
    p->reconnects_seen = rc;
    return 1;
}

static void report_failure(dpf_bus_pull *p, const char *why)
{
    if (p->failing) {
        DPF_DEBUG("Still cannot fetch from %s: %s", p->what, why);
        return;
    }
    p->failing = 1;
    p->failing_since_us = dpf_mono_us();
    DPF_WARN("Cannot fetch from %s: %s; retrying until NATS answers", p->what, why);
}

dpf_status dpf_bus_pull_fetch(dpf_bus_pull *p, int timeout_ms, dpf_bus_msg **out)
{
    if (out != NULL)
        *out = NULL;
    if (p == NULL || out == NULL)
        return DPF_ERR_INVALID;
    if (timeout_ms < 10)
        timeout_ms = 10;
    int64_t start = dpf_mono_us();
    if (!ready(p)) {
        report_failure(p, dpf_bus_connected(p->bus) ? "the consumer cannot be looked up"
                                                     : "not connected");
        int spent = (int)((dpf_mono_us() - start) / 1000);
        nap_ms(timeout_ms - spent);
        return DPF_ERR_BUS;
    }
    natsMsgList list = {0};
    jsErrCode jerr = 0;
    natsStatus s = natsSubscription_Fetch(&list, p->sub, 1, timeout_ms, &jerr);
    if (s == NATS_TIMEOUT || (s == NATS_OK && list.Count == 0)) {
        natsMsgList_Destroy(&list);
        if (p->failing && dpf_bus_connected(p->bus)) {
            /* an empty answer is an answer: the consumer works again */
            p->failing = 0;
            DPF_INFO("Fetching from %s again after %lld ms", p->what,
                     (long long)((dpf_mono_us() - p->failing_since_us) / 1000));
        }
        return DPF_ERR_TIMEOUT;
    }
    if (s != NATS_OK) {
        char why[256];
        const char *detail = nats_GetLastError(NULL);
        snprintf(why, sizeof why, "%s (%s)", natsStatus_GetText(s), detail ? detail : "");
        natsMsgList_Destroy(&list);
        report_failure(p, why);
        p->recheck = 1;
        int spent = (int)((dpf_mono_us() - start) / 1000);
        nap_ms(timeout_ms - spent);
        return DPF_ERR_BUS;
    }
    natsMsg *msg = list.Msgs[0];
    list.Msgs[0] = NULL;
    natsMsgList_Destroy(&list);
    dpf_bus_msg *m = dpf_bus__wrap_msg(msg, 1);
    if (m == NULL) {
        natsMsg_Destroy(msg); /* redelivered after the ack wait */
        return DPF_ERR_NOMEM;
    }
    if (p->failing) {
        p->failing = 0;
        DPF_INFO("Fetching from %s again after %lld ms", p->what,
                 (long long)((dpf_mono_us() - p->failing_since_us) / 1000));
    }
    *out = m;
    return DPF_OK;
}

void dpf_bus_pull_destroy(dpf_bus_pull *p)
{
    if (p == NULL)
        return;
    /* a pull subscription has no handler thread: nothing to wait for */
    natsSubscription_Unsubscribe(p->sub);
    natsSubscription_Destroy(p->sub);
    free(p);
}

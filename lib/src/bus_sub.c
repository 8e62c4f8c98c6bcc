/* The receiving half of the bus module: JetStream durable queue
 * subscriptions with manual acks, stream watchers, core request serving, and
 * the messages handed to handlers. nats.c runs each async subscription's
 * handler on a delivery thread of its own, one message at a time.
 *
 * Durable consumers are created explicitly (js_AddConsumer) and then bound
 * to, rather than left to js_Subscribe: a consumer the subscribe call
 * created is deleted by nats.c when that subscription unsubscribes, which
 * would pull the consumer from under the other replicas of a service. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus_p.h"
#include "dpf/log.h"
#include "dpf/metrics.h"
#include "dpf/util.h"

/* while destroy waits for a running handler, it says so this often */
#define SUB_WAIT_WARN_MS 3000

struct dpf_bus_sub {
    dpf_bus *bus;
    natsSubscription *sub;
    dpf_bus_handler handler;
    void *closure;
    char what[160]; /* for log lines: "DPF_EVENTS/distmgr-ins" */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* under mu. The gate that keeps the caller's closure safe: once
     * closing is set no handler starts, and destroy waits while running. */
    int closing;
    int running;
    /* under mu. complete: nats.c's completion callback ran, so nothing of
     * nats.c refers to this struct any more; armed: that callback was set.
     * orphaned: destroy returned before complete (it was called from
     * inside the handler, or nats.c has not finished with the struct
     * yet): the completion callback frees the struct instead. */
    int complete;
    int armed;
    int orphaned;
    /* the thread that runs the handler: written there, read by destroy
     * (which compares it with its own thread) */
    _Atomic uint64_t delivery_tid;
};

/* ---- messages ---- */

dpf_bus_msg *dpf_bus__wrap_msg(natsMsg *msg, int jetstream)
{
    dpf_bus_msg *m = malloc(sizeof *m);
    if (m == NULL)
        return NULL;
    m->msg = msg;
    m->deliveries = 1;
    if (jetstream) {
        jsMsgMetaData *meta = NULL;
        if (natsMsg_GetMetaData(&meta, msg) == NATS_OK && meta != NULL)
            m->deliveries = meta->NumDelivered;
        jsMsgMetaData_Destroy(meta);
        dpf_metrics_event(DPF_M_EVENTS_RECEIVED, natsMsg_GetSubject(msg), NULL);
    }
    return m;
}

const char *dpf_bus_msg_subject(const dpf_bus_msg *m)
{
    return m ? natsMsg_GetSubject(m->msg) : "";
}

const void *dpf_bus_msg_data(const dpf_bus_msg *m)
{
    return m ? natsMsg_GetData(m->msg) : NULL;
}

size_t dpf_bus_msg_len(const dpf_bus_msg *m)
{
    if (m == NULL)
        return 0;
    int n = natsMsg_GetDataLength(m->msg);
    return n > 0 ? (size_t)n : 0;
}

const char *dpf_bus_msg_corr(const dpf_bus_msg *m)
{
    const char *v = NULL;
    if (m == NULL || natsMsgHeader_Get(m->msg, DPF_CORR_HEADER, &v) != NATS_OK || v == NULL)
        return "";
    return v;
}

uint64_t dpf_bus_msg_deliveries(const dpf_bus_msg *m)
{
    return m ? m->deliveries : 0;
}

const char *dpf_bus_msg_reply(const dpf_bus_msg *m)
{
    const char *r = m ? natsMsg_GetReply(m->msg) : NULL;
    return r ? r : "";
}

dpf_status dpf_bus_msg_ack(dpf_bus_msg *m)
{
    if (m == NULL)
        return DPF_ERR_INVALID;
    jsErrCode jerr = 0;
    dpf_status st = dpf_bus__status(natsMsg_AckSync(m->msg, NULL, &jerr), jerr, "ack");
    if (st == DPF_OK)
        dpf_metrics_event(DPF_M_EVENTS_ACKED, natsMsg_GetSubject(m->msg), NULL);
    return st;
}

dpf_status dpf_bus_msg_nak(dpf_bus_msg *m, int delay_ms)
{
    if (m == NULL)
        return DPF_ERR_INVALID;
    natsStatus s = delay_ms > 0 ? natsMsg_NakWithDelay(m->msg, delay_ms, NULL)
                                : natsMsg_Nak(m->msg, NULL);
    dpf_metrics_event(DPF_M_HANDLER_ERRORS, natsMsg_GetSubject(m->msg), "nak");
    return dpf_bus__status(s, 0, "nak");
}

dpf_status dpf_bus_msg_term(dpf_bus_msg *m)
{
    if (m == NULL)
        return DPF_ERR_INVALID;
    dpf_metrics_event(DPF_M_HANDLER_ERRORS, natsMsg_GetSubject(m->msg), "term");
    return dpf_bus__status(natsMsg_Term(m->msg, NULL), 0, "term");
}

dpf_status dpf_bus_msg_in_progress(dpf_bus_msg *m)
{
    if (m == NULL)
        return DPF_ERR_INVALID;
    return dpf_bus__status(natsMsg_InProgress(m->msg, NULL), 0, "in progress");
}

void dpf_bus_msg_destroy(dpf_bus_msg *m)
{
    if (m == NULL)
        return;
    natsMsg_Destroy(m->msg);
    free(m);
}

/* ---- subscriptions ---- */

static dpf_bus_sub *new_sub(dpf_bus *bus, dpf_bus_handler handler, void *closure,
                            const char *what)
{
    dpf_bus_sub *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->bus = bus;
    s->handler = handler;
    s->closure = closure;
    snprintf(s->what, sizeof s->what, "%s", what);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    return s;
}

static void free_sub(dpf_bus_sub *s)
{
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

static void dispatch(dpf_bus_sub *s, natsMsg *msg, int jetstream)
{
    pthread_mutex_lock(&s->mu);
    int closing = s->closing;
    if (!closing)
        s->running = 1;
    pthread_mutex_unlock(&s->mu);
    if (closing) {
        /* destroy has begun: unacknowledged, so JetStream delivers it again */
        natsMsg_Destroy(msg);
        return;
    }
    atomic_store(&s->delivery_tid, dpf_log_tid());
    dpf_bus_msg *m = dpf_bus__wrap_msg(msg, jetstream);
    if (m == NULL) {
        DPF_ERROR("out of memory receiving on %s; message left for redelivery", s->what);
        natsMsg_Destroy(msg);
    } else {
        s->handler(m, s->closure);
    }
    pthread_mutex_lock(&s->mu);
    s->running = 0;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void on_js_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    dispatch(closure, msg, 1);
}

static void on_core_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    dispatch(closure, msg, 0);
}

static void on_sub_complete(void *closure)
{
    dpf_bus_sub *s = closure;
    pthread_mutex_lock(&s->mu);
    s->complete = 1;
    int orphaned = s->orphaned;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (orphaned)
        free_sub(s);
}

/* Called right after the subscription exists, before anything can close it. */
static void arm_completion(dpf_bus_sub *s)
{
    natsStatus ns = natsSubscription_SetOnCompleteCB(s->sub, on_sub_complete, s);
    pthread_mutex_lock(&s->mu);
    s->armed = ns == NATS_OK;
    pthread_mutex_unlock(&s->mu);
    if (ns != NATS_OK)
        /* destroy still waits for a running handler (the gate in dispatch);
         * it only cannot know when nats.c is done with the struct */
        DPF_WARN("cannot watch %s for completion (%s); its few bytes will not be freed "
                 "when it is closed", s->what, natsStatus_GetText(ns));
}

/* Sets the gate and waits, however long it takes, until no handler runs:
 * returning earlier would hand the caller memory a running handler still
 * uses. Says so every SUB_WAIT_WARN_MS, naming the subscription. Called
 * with s->mu held. */
static void wait_for_handler(dpf_bus_sub *s)
{
    int64_t start_us = dpf_mono_us();
    int warned = 0;
    while (s->running) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += SUB_WAIT_WARN_MS / 1000;
        until.tv_nsec += (long)(SUB_WAIT_WARN_MS % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        if (pthread_cond_timedwait(&s->cv, &s->mu, &until) != 0 && s->running) {
            warned = 1;
            DPF_WARN("Closing subscription %s: still waiting for its handler, which has "
                     "been running for %.1f s since the close began (what it uses stays "
                     "allocated until it returns)",
                     s->what, (double)(dpf_mono_us() - start_us) / 1e6);
        }
    }
    if (warned)
        DPF_INFO("Closing subscription %s: its handler returned after %.1f s", s->what,
                 (double)(dpf_mono_us() - start_us) / 1e6);
}

void dpf_bus_sub_destroy(dpf_bus_sub *s)
{
    if (s == NULL)
        return;
    if (s->sub == NULL) {
        free_sub(s);
        return;
    }
    natsSubscription *ns = s->sub; /* s may be freed by the completion callback below */
    natsSubscription_Unsubscribe(ns);
    /* from inside the handler itself there is nothing to wait for */
    int from_handler = atomic_load(&s->delivery_tid) == dpf_log_tid();
    pthread_mutex_lock(&s->mu);
    s->closing = 1;
    if (!from_handler)
        wait_for_handler(s);
    /* nats.c may still be about to call dispatch (which now only drops the
     * message) or the completion callback: the last of us frees */
    int free_now = s->complete;
    if (!free_now)
        s->orphaned = s->armed; /* not armed: nobody can tell, so never freed */
    pthread_mutex_unlock(&s->mu);
    natsSubscription_Destroy(ns);
    if (free_now)
        free_sub(s);
}

/* How the existing consumer differs from what we are about to ask for. */
enum consumer_diff {
    CONSUMER_SAME = 0,
    CONSUMER_UPDATE,   /* limits only: the server updates them in place */
    CONSUMER_RECREATE, /* its shape: delete it and create it again */
};

static enum consumer_diff consumer_differs(const jsConsumerConfig *have,
                                           const jsConsumerConfig *want, char *why,
                                           size_t whylen)
{
    const char *hf = have->FilterSubject ? have->FilterSubject : "";
    const char *hg = have->DeliverGroup ? have->DeliverGroup : "";
    const char *wg = want->DeliverGroup ? want->DeliverGroup : "";
    int have_push = have->DeliverSubject != NULL && *have->DeliverSubject != '\0';
    int want_push = want->DeliverSubject != NULL && *want->DeliverSubject != '\0';
    /* nats-server 2.9 accepts a new filter on a push consumer but does not
     * always deliver under it afterwards (filter updates arrived in 2.10),
     * so anything beyond the limits is a new consumer */
    if (have_push != want_push)
        return dpf_fmt(why, whylen, "%s consumer, want %s", have_push ? "push" : "pull",
                       want_push ? "push" : "pull"), CONSUMER_RECREATE;
    if (strcmp(hf, want->FilterSubject) != 0)
        return dpf_fmt(why, whylen, "filter %s, want %s", hf, want->FilterSubject),
               CONSUMER_RECREATE;
    if (strcmp(hg, wg) != 0)
        return dpf_fmt(why, whylen, "deliver group '%s', want '%s'", hg, wg),
               CONSUMER_RECREATE;
    if (have->AckPolicy != want->AckPolicy)
        return dpf_fmt(why, whylen, "ack policy %d, want explicit", (int)have->AckPolicy),
               CONSUMER_RECREATE;
    if (have->DeliverPolicy != want->DeliverPolicy)
        return dpf_fmt(why, whylen, "deliver policy %d, want %d", (int)have->DeliverPolicy,
                       (int)want->DeliverPolicy), CONSUMER_RECREATE;
    if (have->AckWait != want->AckWait)
        return dpf_fmt(why, whylen, "ack wait %lld ms, want %lld ms",
                       (long long)(have->AckWait / NS_PER_MS),
                       (long long)(want->AckWait / NS_PER_MS)), CONSUMER_UPDATE;
    if (have->MaxDeliver != want->MaxDeliver)
        return dpf_fmt(why, whylen, "max deliver %lld, want %lld", (long long)have->MaxDeliver,
                       (long long)want->MaxDeliver), CONSUMER_UPDATE;
    if (have->MaxAckPending != want->MaxAckPending)
        return dpf_fmt(why, whylen, "max ack pending %lld, want %lld",
                       (long long)have->MaxAckPending, (long long)want->MaxAckPending),
               CONSUMER_UPDATE;
    return CONSUMER_SAME;
}

dpf_status dpf_bus__ensure_consumer(dpf_bus *bus, const char *stream, jsConsumerConfig *want,
                                    int *created)
{
    if (created != NULL)
        *created = 0;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetConsumerInfo(&ci, bus->js, stream, want->Durable, NULL, &jerr);
    if (s == NATS_OK) {
        char why[256] = "";
        enum consumer_diff diff = consumer_differs(ci->Config, want, why, sizeof why);
        if (diff == CONSUMER_SAME) {
            jsConsumerInfo_Destroy(ci);
            return DPF_OK;
        }
        int took = 0;
        if (diff == CONSUMER_UPDATE) {
            /* keep the deliver subject, so members bound to it still receive */
            jsConsumerConfig upd = *want;
            upd.DeliverSubject = ci->Config->DeliverSubject;
            jsConsumerInfo *ui = NULL;
            jerr = 0;
            s = js_UpdateConsumer(&ui, bus->js, stream, &upd, NULL, &jerr);
            /* trust only what the server reports back */
            char still[256] = "";
            took = s == NATS_OK && ui != NULL &&
                   consumer_differs(ui->Config, want, still, sizeof still) == CONSUMER_SAME;
            jsConsumerInfo_Destroy(ui);
        }
        jsConsumerInfo_Destroy(ci);
        if (took) {
            DPF_INFO("Updated consumer %s/%s (%s)", stream, want->Durable, why);
            return DPF_OK;
        }
        DPF_WARN("Consumer %s/%s has a different configuration (%s) that cannot be updated "
                 "in place; deleting and recreating it",
                 stream, want->Durable, why);
        jerr = 0;
        s = js_DeleteConsumer(bus->js, stream, want->Durable, NULL, &jerr);
        if (s != NATS_OK && jerr != JSConsumerNotFoundErr)
            return dpf_bus__status(s, jerr, "delete consumer");
    } else if (s != NATS_NOT_FOUND && jerr != JSConsumerNotFoundErr) {
        return dpf_bus__status(s, jerr, "consumer info");
    } else if (created != NULL) {
        *created = 1;
    }

    jsConsumerInfo *ai = NULL;
    jerr = 0;
    s = js_AddConsumer(&ai, bus->js, stream, want, NULL, &jerr);
    jsConsumerInfo_Destroy(ai);
    if (s != NATS_OK && jerr == JSConsumerNameExistErr) {
        /* another replica created it a moment ago with the same name */
        DPF_DEBUG("consumer %s/%s created concurrently", stream, want->Durable);
        return DPF_OK;
    }
    if (s == NATS_OK)
        DPF_INFO("Created consumer %s/%s on %s", stream, want->Durable, want->FilterSubject);
    return dpf_bus__status(s, jerr, "add consumer");
}

/* Ends a subscribe call, given what nats.c answered (ns, jerr): on failure
 * s is freed; otherwise its completion is armed and the connection flushed,
 * so the subscription is live at the server when this returns DPF_OK (on a
 * failed flush s is destroyed). what: the operation, for the log. */
static dpf_status go_live(dpf_bus *bus, dpf_bus_sub *s, natsStatus ns, jsErrCode jerr,
                          const char *what)
{
    if (ns != NATS_OK) {
        dpf_status st = dpf_bus__status(ns, jerr, what);
        free_sub(s);
        return st;
    }
    arm_completion(s);
    ns = natsConnection_FlushTimeout(bus->nc, 5000);
    if (ns != NATS_OK) {
        dpf_status st = dpf_bus__status(ns, 0, what);
        dpf_bus_sub_destroy(s);
        return st;
    }
    return DPF_OK;
}

dpf_status dpf_bus_subscribe(dpf_bus *bus, const dpf_bus_sub_opts *opts,
                             dpf_bus_handler handler, void *closure, dpf_bus_sub **out)
{
    if (out != NULL)
        *out = NULL;
    if (bus == NULL || opts == NULL || handler == NULL || out == NULL || opts->stream == NULL ||
        opts->subject == NULL || opts->durable == NULL || *opts->durable == '\0' ||
        strpbrk(opts->durable, ". *>") != NULL) {
        DPF_ERROR("dpf_bus_subscribe: stream, subject, handler and a durable name "
                  "without '.', ' ', '*' or '>' are required");
        return DPF_ERR_INVALID;
    }

    char deliver[200];
    if (!dpf_fmt(deliver, sizeof deliver, "_dpf.deliver.%s.%s", opts->stream, opts->durable))
        return DPF_ERR_INVALID;
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = opts->durable;
    cc.DeliverSubject = deliver;
    cc.DeliverGroup = opts->durable;
    cc.FilterSubject = opts->subject;
    cc.DeliverPolicy = js_DeliverAll;
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = (int64_t)(opts->ack_wait_ms > 0 ? opts->ack_wait_ms : 30000) * NS_PER_MS;
    cc.MaxDeliver = opts->max_deliver > 0 ? opts->max_deliver : -1;
    cc.MaxAckPending = opts->max_ack_pending > 0 ? opts->max_ack_pending : 1000;

    dpf_status st = dpf_bus__ensure_consumer(bus, opts->stream, &cc, NULL);
    if (st != DPF_OK)
        return st;

    char what[160];
    snprintf(what, sizeof what, "%s/%s", opts->stream, opts->durable);
    dpf_bus_sub *s = new_sub(bus, handler, closure, what);
    if (s == NULL)
        return DPF_ERR_NOMEM;

    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = opts->stream;
    so.Consumer = opts->durable;
    so.Queue = opts->durable;
    so.ManualAck = true;
    jsErrCode jerr = 0;
    /* 3.4.1 has no js_QueueSubscribe: the queue group is jsSubOptions.Queue */
    natsStatus ns = js_Subscribe(&s->sub, bus->js, opts->subject, on_js_msg, s, NULL, &so, &jerr);
    if (ns != NATS_OK && ns != NATS_TIMEOUT && ns != NATS_CONNECTION_CLOSED &&
        ns != NATS_NO_RESPONDERS) {
        /* nats.c refused to bind to the consumer as it stands (changed
         * behind our back, or a kind we could not recognise): start it over */
        DPF_WARN("Cannot bind to consumer %s (%s: %s); deleting and recreating it", what,
                 natsStatus_GetText(ns), nats_GetLastError(NULL));
        jsErrCode derr = 0;
        js_DeleteConsumer(bus->js, opts->stream, opts->durable, NULL, &derr);
        st = dpf_bus__ensure_consumer(bus, opts->stream, &cc, NULL);
        if (st != DPF_OK) {
            free_sub(s);
            return st;
        }
        jerr = 0;
        ns = js_Subscribe(&s->sub, bus->js, opts->subject, on_js_msg, s, NULL, &so, &jerr);
    }
    char op[200];
    snprintf(op, sizeof op, "subscribe %s", what);
    if ((st = go_live(bus, s, ns, jerr, op)) != DPF_OK)
        return st;
    DPF_INFO("Subscribed to %s on %s (ack wait %d ms, max deliver %lld, max ack pending %lld)",
             opts->subject, what, (int)(cc.AckWait / NS_PER_MS), (long long)cc.MaxDeliver,
             (long long)cc.MaxAckPending);
    *out = s;
    return DPF_OK;
}

dpf_status dpf_bus_watch_stream(dpf_bus *bus, const char *stream, const char *subject,
                                int deliver_new_only, dpf_bus_handler handler, void *closure,
                                dpf_bus_sub **out)
{
    if (out != NULL)
        *out = NULL;
    if (bus == NULL || stream == NULL || subject == NULL || handler == NULL || out == NULL)
        return DPF_ERR_INVALID;
    char what[160];
    snprintf(what, sizeof what, "%s watch %s", stream, subject);
    dpf_bus_sub *s = new_sub(bus, handler, closure, what);
    if (s == NULL)
        return DPF_ERR_NOMEM;

    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = stream;
    so.Config.DeliverPolicy = deliver_new_only ? js_DeliverNew : js_DeliverAll;
    so.Config.AckPolicy = js_AckNone;
    jsErrCode jerr = 0;
    natsStatus ns = js_Subscribe(&s->sub, bus->js, subject, on_js_msg, s, NULL, &so, &jerr);
    dpf_status st = go_live(bus, s, ns, jerr, what);
    if (st != DPF_OK)
        return st;
    *out = s;
    return DPF_OK;
}

dpf_status dpf_bus_serve(dpf_bus *bus, const char *subject, const char *queue,
                         dpf_bus_handler handler, void *closure, dpf_bus_sub **out)
{
    if (out != NULL)
        *out = NULL;
    if (bus == NULL || subject == NULL || handler == NULL || out == NULL)
        return DPF_ERR_INVALID;
    char what[160];
    snprintf(what, sizeof what, "serve %s", subject);
    dpf_bus_sub *s = new_sub(bus, handler, closure, what);
    if (s == NULL)
        return DPF_ERR_NOMEM;
    natsStatus ns;
    if (queue != NULL && *queue != '\0')
        ns = natsConnection_QueueSubscribe(&s->sub, bus->nc, subject, queue, on_core_msg, s);
    else
        ns = natsConnection_Subscribe(&s->sub, bus->nc, subject, on_core_msg, s);
    dpf_status st = go_live(bus, s, ns, 0, what);
    if (st != DPF_OK)
        return st;
    *out = s;
    return DPF_OK;
}

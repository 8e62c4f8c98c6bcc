/* NATS and JetStream over nats.c 3.4.1. Everything nats.c returns is turned
 * into a dpf_status here, with nats.c's own text logged at the point of
 * failure, so no natsStatus travels further.
 *
 * Durable consumers are created explicitly (js_AddConsumer) and then bound
 * to, rather than left to js_Subscribe: a consumer the subscribe call
 * created is deleted by nats.c when that subscription unsubscribes, which
 * would pull the consumer from under the other replicas of a service.
 * Pull Fetch is avoided altogether: in 3.4.1 it overflows the heap on a
 * partial batch (DESIGN.md, known constraints). */
#include "dpf/bus.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>

#include "dpf/log.h"
#include "dpf/util.h"

#define NS_PER_MS 1000000LL
#define DUPLICATE_WINDOW_NS (2LL * 60 * 1000 * NS_PER_MS)
#define KEEP_7_DAYS_NS (7LL * 24 * 3600 * 1000 * NS_PER_MS)
#define CONNECT_RETRY_MS 30000
#define SUB_CLOSE_WAIT_MS 5000

struct dpf_bus {
    natsConnection *nc;
    jsCtx *js;
    char name[128];
    volatile int closing; /* set by destroy: the disconnect is ours */
};

struct dpf_bus_msg {
    natsMsg *msg;
    uint64_t deliveries;
};

struct dpf_bus_sub {
    dpf_bus *bus;
    natsSubscription *sub;
    dpf_bus_handler handler;
    void *closure;
    char what[160]; /* for log lines: "DPF_EVENTS/distmgr-ins" */
    /* set by nats.c's completion callback once the handler can no longer run */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int complete;
};

/* Converts a natsStatus and logs nats.c's reason. what: the operation. */
static dpf_status from_nats(natsStatus s, jsErrCode jerr, const char *what)
{
    if (s == NATS_OK)
        return DPF_OK;
    const char *detail = nats_GetLastError(NULL);
    if (jerr != 0)
        DPF_ERROR("%s failed: %s (JetStream error %d: %s)", what, natsStatus_GetText(s),
                  (int)jerr, detail ? detail : "");
    else
        DPF_ERROR("%s failed: %s (%s)", what, natsStatus_GetText(s), detail ? detail : "");
    switch (s) {
    case NATS_TIMEOUT:
    case NATS_NO_RESPONDERS:
        return DPF_ERR_TIMEOUT;
    case NATS_NO_MEMORY:
        return DPF_ERR_NOMEM;
    case NATS_NOT_FOUND:
        return DPF_ERR_NOT_FOUND;
    case NATS_INVALID_ARG:
        return DPF_ERR_INVALID;
    default:
        return DPF_ERR_BUS;
    }
}

/* ---- connection ---- */

static void on_disconnected(natsConnection *nc, void *closure)
{
    dpf_bus *bus = closure;
    if (bus->closing)
        return;
    DPF_WARN("Disconnected from NATS (%s); reconnecting in the background", bus->name);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    dpf_bus *bus = closure;
    char url[256] = "";
    natsConnection_GetConnectedUrl(nc, url, sizeof url);
    DPF_INFO("Reconnected to NATS at %s (%s)", url, bus->name);
}

static void on_closed(natsConnection *nc, void *closure)
{
    dpf_bus *bus = closure;
    DPF_DEBUG("NATS connection closed (%s)", bus->name);
}

static void on_async_error(natsConnection *nc, natsSubscription *sub, natsStatus err,
                           void *closure)
{
    dpf_bus *bus = closure;
    /* slow consumers and sequence mismatches end up here; JetStream will
     * redeliver what was dropped, so this is a warning, not a failure */
    DPF_WARN("NATS asynchronous error on %s: %s", bus->name, natsStatus_GetText(err));
}

static natsStatus build_options(dpf_bus *bus, const char *url, natsOptions **out)
{
    natsOptions *o = NULL;
    natsStatus s = natsOptions_Create(&o);
    if (s == NATS_OK)
        s = natsOptions_SetURL(o, url);
    if (s == NATS_OK)
        s = natsOptions_SetName(o, bus->name);
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(o, -1);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(o, 250);
    if (s == NATS_OK)
        s = natsOptions_SetDisconnectedCB(o, on_disconnected, bus);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectedCB(o, on_reconnected, bus);
    if (s == NATS_OK)
        s = natsOptions_SetClosedCB(o, on_closed, bus);
    if (s == NATS_OK)
        s = natsOptions_SetErrorHandler(o, on_async_error, bus);
    if (s != NATS_OK) {
        natsOptions_Destroy(o);
        return s;
    }
    *out = o;
    return NATS_OK;
}

dpf_status dpf_bus_connect(const char *url, const char *name, dpf_bus **out)
{
    if (out == NULL)
        return DPF_ERR_INVALID;
    *out = NULL;
    if (url == NULL || *url == '\0') {
        DPF_ERROR("NATS URL is not set");
        return DPF_ERR_INVALID;
    }
    dpf_bus *bus = calloc(1, sizeof *bus);
    if (bus == NULL)
        return DPF_ERR_NOMEM;
    snprintf(bus->name, sizeof bus->name, "%s", name && *name ? name : "dpfleet");

    natsOptions *opts = NULL;
    natsStatus s = build_options(bus, url, &opts);
    if (s != NATS_OK) {
        free(bus);
        return from_nats(s, 0, "NATS options");
    }

    /* services may start before nats-server: keep trying for a while */
    int64_t deadline = dpf_mono_us() + (int64_t)CONNECT_RETRY_MS * 1000;
    int attempt = 0;
    for (;;) {
        attempt++;
        s = natsConnection_Connect(&bus->nc, opts);
        if (s == NATS_OK || dpf_mono_us() >= deadline || dpf_stopping())
            break;
        if (attempt == 1)
            DPF_WARN("NATS at %s not reachable yet (%s); retrying for up to %d s", url,
                     natsStatus_GetText(s), CONNECT_RETRY_MS / 1000);
        nats_Sleep(attempt < 4 ? 250 : 1000);
    }
    natsOptions_Destroy(opts);
    if (s != NATS_OK) {
        dpf_status st = from_nats(s, 0, "NATS connect");
        free(bus);
        return st;
    }

    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = 5000;
    s = natsConnection_JetStream(&bus->js, bus->nc, &jo);
    if (s != NATS_OK) {
        dpf_status st = from_nats(s, 0, "JetStream context");
        natsConnection_Destroy(bus->nc);
        free(bus);
        return st;
    }
    char curl[256] = "";
    natsConnection_GetConnectedUrl(bus->nc, curl, sizeof curl);
    DPF_INFO("Connected to NATS at %s as %s", curl, bus->name);
    *out = bus;
    return DPF_OK;
}

void dpf_bus_destroy(dpf_bus *bus)
{
    if (bus == NULL)
        return;
    bus->closing = 1;
    jsCtx_Destroy(bus->js);
    if (bus->nc != NULL) {
        /* flush what was published without waiting for an ack */
        natsConnection_FlushTimeout(bus->nc, 1000);
        natsConnection_Close(bus->nc);
        natsConnection_Destroy(bus->nc);
    }
    free(bus);
}

/* ---- streams ---- */

static dpf_status ensure_stream(dpf_bus *bus, jsStreamConfig *cfg)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_AddStream(&si, bus->js, cfg, NULL, &jerr);
    if (s != NATS_OK && jerr == JSStreamNameExistErr) {
        /* exists with a different configuration: bring it to ours */
        jerr = 0;
        s = js_UpdateStream(&si, bus->js, cfg, NULL, &jerr);
        if (s == NATS_OK)
            DPF_INFO("Updated stream %s to the current configuration", cfg->Name);
    }
    jsStreamInfo_Destroy(si);
    char what[96];
    snprintf(what, sizeof what, "ensure stream %s", cfg->Name);
    return from_nats(s, jerr, what);
}

dpf_status dpf_bus_ensure_streams(dpf_bus *bus)
{
    if (bus == NULL)
        return DPF_ERR_INVALID;
    static const char *events_subjects[] = {"sitecontrol.changed.>", "dp.ins.>", "dp.dpn.>"};
    static const char *statmsg_subjects[] = {"statmsg.>"};

    jsStreamConfig ev;
    jsStreamConfig_Init(&ev);
    ev.Name = "DPF_EVENTS";
    ev.Subjects = events_subjects;
    ev.SubjectsLen = 3;
    /* each event is work for exactly one consumer group and goes once acked */
    ev.Retention = js_WorkQueuePolicy;
    ev.Storage = js_FileStorage;
    ev.Duplicates = DUPLICATE_WINDOW_NS;
    ev.MaxAge = KEEP_7_DAYS_NS;
    dpf_status st = ensure_stream(bus, &ev);
    if (st != DPF_OK)
        return st;

    jsStreamConfig sm;
    jsStreamConfig_Init(&sm);
    sm.Name = "DPF_STATMSG";
    sm.Subjects = statmsg_subjects;
    sm.SubjectsLen = 1;
    sm.Retention = js_LimitsPolicy;
    sm.Storage = js_FileStorage;
    sm.Duplicates = DUPLICATE_WINDOW_NS;
    sm.MaxAge = KEEP_7_DAYS_NS;
    return ensure_stream(bus, &sm);
}

/* ---- publish ---- */

static natsStatus new_msg(const char *subject, const char *reply, const void *data, size_t len,
                          const char *corr, natsMsg **out)
{
    natsStatus s = natsMsg_Create(out, subject, reply, (const char *)data, (int)len);
    if (s == NATS_OK && corr != NULL && *corr != '\0')
        s = natsMsgHeader_Set(*out, DPF_CORR_HEADER, corr);
    if (s != NATS_OK) {
        natsMsg_Destroy(*out);
        *out = NULL;
    }
    return s;
}

dpf_status dpf_bus_publish(dpf_bus *bus, const char *subject, const void *data, size_t len,
                           const char *msg_id, const char *corr)
{
    if (bus == NULL || subject == NULL || (data == NULL && len > 0) || len > INT32_MAX)
        return DPF_ERR_INVALID;
    natsMsg *msg = NULL;
    natsStatus s = new_msg(subject, NULL, data, len, corr, &msg);
    if (s != NATS_OK)
        return from_nats(s, 0, "create message");

    jsPubOptions po;
    jsPubOptions_Init(&po);
    if (msg_id != NULL && *msg_id != '\0')
        po.MsgId = msg_id;
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    s = js_PublishMsg(&pa, bus->js, msg, &po, &jerr);
    if (s == NATS_OK && pa != NULL && pa->Duplicate)
        DPF_DEBUG("publish %s: duplicate of message id %s, not stored again", subject,
                  msg_id ? msg_id : "");
    jsPubAck_Destroy(pa);
    natsMsg_Destroy(msg);
    if (s == NATS_NO_RESPONDERS) {
        /* JetStream answers every subject a stream holds: nobody answering
         * means no stream does (or JetStream is off) */
        DPF_ERROR("publish to %s: no stream holds this subject (is JetStream enabled and "
                  "dpf_bus_ensure_streams called?)", subject);
        return DPF_ERR_NOT_FOUND;
    }
    char what[300];
    snprintf(what, sizeof what, "publish to %s", subject);
    return from_nats(s, jerr, what);
}

/* ---- messages ---- */

static dpf_bus_msg *wrap_msg(natsMsg *msg, int jetstream)
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
    return from_nats(natsMsg_AckSync(m->msg, NULL, &jerr), jerr, "ack");
}

dpf_status dpf_bus_msg_nak(dpf_bus_msg *m, int delay_ms)
{
    if (m == NULL)
        return DPF_ERR_INVALID;
    natsStatus s = delay_ms > 0 ? natsMsg_NakWithDelay(m->msg, delay_ms, NULL)
                                : natsMsg_Nak(m->msg, NULL);
    return from_nats(s, 0, "nak");
}

dpf_status dpf_bus_msg_term(dpf_bus_msg *m)
{
    if (m == NULL)
        return DPF_ERR_INVALID;
    return from_nats(natsMsg_Term(m->msg, NULL), 0, "term");
}

dpf_status dpf_bus_msg_in_progress(dpf_bus_msg *m)
{
    if (m == NULL)
        return DPF_ERR_INVALID;
    return from_nats(natsMsg_InProgress(m->msg, NULL), 0, "in progress");
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
    dpf_bus_msg *m = wrap_msg(msg, jetstream);
    if (m == NULL) {
        DPF_ERROR("out of memory receiving on %s; message left for redelivery", s->what);
        natsMsg_Destroy(msg);
        return;
    }
    s->handler(m, s->closure);
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
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Called right after the subscription exists, before anything can close it. */
static void arm_completion(dpf_bus_sub *s)
{
    if (natsSubscription_SetOnCompleteCB(s->sub, on_sub_complete, s) != NATS_OK) {
        /* without it, destroy cannot wait for a running handler */
        DPF_WARN("cannot watch %s for completion; destroy will not wait for its handler",
                 s->what);
        s->complete = 1;
    }
}

void dpf_bus_sub_destroy(dpf_bus_sub *s)
{
    if (s == NULL)
        return;
    if (s->sub != NULL) {
        natsSubscription_Unsubscribe(s->sub);
        /* the handler may be running on nats.c's thread: wait until it has
         * returned so the caller may free the closure afterwards */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += SUB_CLOSE_WAIT_MS / 1000;
        pthread_mutex_lock(&s->mu);
        while (!s->complete) {
            if (pthread_cond_timedwait(&s->cv, &s->mu, &until) != 0) {
                DPF_WARN("subscription %s did not finish its handler in %d ms", s->what,
                         SUB_CLOSE_WAIT_MS);
                break;
            }
        }
        pthread_mutex_unlock(&s->mu);
        natsSubscription_Destroy(s->sub);
    }
    free_sub(s);
}

/* Does the existing consumer differ from what we are about to ask for? */
static int consumer_differs(const jsConsumerConfig *have, const jsConsumerConfig *want,
                            char *why, size_t whylen)
{
    const char *hf = have->FilterSubject ? have->FilterSubject : "";
    const char *hg = have->DeliverGroup ? have->DeliverGroup : "";
    if (strcmp(hf, want->FilterSubject) != 0)
        return dpf_fmt(why, whylen, "filter %s, want %s", hf, want->FilterSubject), 1;
    if (strcmp(hg, want->DeliverGroup) != 0)
        return dpf_fmt(why, whylen, "deliver group '%s', want '%s'", hg, want->DeliverGroup), 1;
    if (have->DeliverSubject == NULL || *have->DeliverSubject == '\0')
        return dpf_fmt(why, whylen, "pull consumer, want push"), 1;
    if (have->AckPolicy != want->AckPolicy)
        return dpf_fmt(why, whylen, "ack policy %d, want explicit", (int)have->AckPolicy), 1;
    if (have->AckWait != want->AckWait)
        return dpf_fmt(why, whylen, "ack wait %lld ms, want %lld ms",
                       (long long)(have->AckWait / NS_PER_MS),
                       (long long)(want->AckWait / NS_PER_MS)), 1;
    if (have->MaxDeliver != want->MaxDeliver)
        return dpf_fmt(why, whylen, "max deliver %lld, want %lld", (long long)have->MaxDeliver,
                       (long long)want->MaxDeliver), 1;
    if (have->MaxAckPending != want->MaxAckPending)
        return dpf_fmt(why, whylen, "max ack pending %lld, want %lld",
                       (long long)have->MaxAckPending, (long long)want->MaxAckPending), 1;
    return 0;
}

/* Creates the durable consumer, or brings an existing one to want: update
 * in place when the server allows it, otherwise delete and create again
 * (unacked messages stay in the work-queue stream and are delivered anew). */
static dpf_status ensure_consumer(dpf_bus *bus, const char *stream, jsConsumerConfig *want)
{
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetConsumerInfo(&ci, bus->js, stream, want->Durable, NULL, &jerr);
    if (s == NATS_OK) {
        char why[256] = "";
        if (!consumer_differs(ci->Config, want, why, sizeof why)) {
            jsConsumerInfo_Destroy(ci);
            return DPF_OK;
        }
        /* keep the deliver subject, so members bound to it still receive */
        jsConsumerConfig upd = *want;
        upd.DeliverSubject = ci->Config->DeliverSubject;
        jsConsumerInfo *ui = NULL;
        jerr = 0;
        s = js_UpdateConsumer(&ui, bus->js, stream, &upd, NULL, &jerr);
        jsConsumerInfo_Destroy(ui);
        jsConsumerInfo_Destroy(ci);
        if (s == NATS_OK) {
            DPF_INFO("Updated consumer %s/%s (%s)", stream, want->Durable, why);
            return DPF_OK;
        }
        DPF_WARN("Consumer %s/%s has a different configuration (%s) that cannot be updated "
                 "(%s); deleting and recreating it",
                 stream, want->Durable, why, nats_GetLastError(NULL));
        jerr = 0;
        s = js_DeleteConsumer(bus->js, stream, want->Durable, NULL, &jerr);
        if (s != NATS_OK && jerr != JSConsumerNotFoundErr)
            return from_nats(s, jerr, "delete consumer");
    } else if (s != NATS_NOT_FOUND && jerr != JSConsumerNotFoundErr) {
        return from_nats(s, jerr, "consumer info");
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
    return from_nats(s, jerr, "add consumer");
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

    dpf_status st = ensure_consumer(bus, opts->stream, &cc);
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
    if (ns != NATS_OK) {
        char op[200];
        snprintf(op, sizeof op, "subscribe %s", what);
        st = from_nats(ns, jerr, op);
        free_sub(s);
        return st;
    }
    arm_completion(s);
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
    if (ns != NATS_OK) {
        dpf_status st = from_nats(ns, jerr, what);
        free_sub(s);
        return st;
    }
    arm_completion(s);
    *out = s;
    return DPF_OK;
}

/* ---- core request/reply ---- */

dpf_status dpf_bus_request(dpf_bus *bus, const char *subject, const void *data, size_t len,
                           const char *corr, int timeout_ms, void **reply, size_t *reply_len)
{
    if (reply != NULL)
        *reply = NULL;
    if (reply_len != NULL)
        *reply_len = 0;
    if (bus == NULL || subject == NULL || reply == NULL || reply_len == NULL ||
        (data == NULL && len > 0) || len > INT32_MAX)
        return DPF_ERR_INVALID;

    natsMsg *req = NULL;
    natsStatus s = new_msg(subject, NULL, data, len, corr, &req);
    if (s != NATS_OK)
        return from_nats(s, 0, "create request");
    natsMsg *rep = NULL;
    s = natsConnection_RequestMsg(&rep, bus->nc, req, timeout_ms > 0 ? timeout_ms : 1);
    natsMsg_Destroy(req);
    if (s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS) {
        /* an expected outcome (host down); the caller decides how loud to be */
        DPF_DEBUG("request to %s: %s", subject,
                  s == NATS_TIMEOUT ? "no reply in time" : "no responders");
        natsMsg_Destroy(rep);
        return DPF_ERR_TIMEOUT;
    }
    if (s != NATS_OK) {
        char what[300];
        snprintf(what, sizeof what, "request to %s", subject);
        return from_nats(s, 0, what);
    }
    int n = natsMsg_GetDataLength(rep);
    size_t rl = n > 0 ? (size_t)n : 0;
    /* one spare byte so text replies can be used as C strings */
    char *copy = malloc(rl + 1);
    if (copy == NULL) {
        natsMsg_Destroy(rep);
        return DPF_ERR_NOMEM;
    }
    if (rl > 0)
        memcpy(copy, natsMsg_GetData(rep), rl);
    copy[rl] = '\0';
    natsMsg_Destroy(rep);
    *reply = copy;
    *reply_len = rl;
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
    if (ns == NATS_OK) /* the subscription is live once the server has it */
        ns = natsConnection_FlushTimeout(bus->nc, 5000);
    if (ns != NATS_OK) {
        dpf_status st = from_nats(ns, 0, what);
        if (s->sub != NULL) {
            natsSubscription_Unsubscribe(s->sub);
            natsSubscription_Destroy(s->sub);
        }
        free_sub(s);
        return st;
    }
    arm_completion(s);
    *out = s;
    return DPF_OK;
}

dpf_status dpf_bus_respond(dpf_bus *bus, dpf_bus_msg *req, const void *data, size_t len)
{
    if (bus == NULL || req == NULL || (data == NULL && len > 0) || len > INT32_MAX)
        return DPF_ERR_INVALID;
    const char *reply = natsMsg_GetReply(req->msg);
    if (reply == NULL || *reply == '\0') {
        DPF_WARN("cannot respond on %s: the request has no reply subject",
                 natsMsg_GetSubject(req->msg));
        return DPF_ERR_INVALID;
    }
    natsMsg *rep = NULL;
    /* the reply carries the request's correlation id back */
    natsStatus s = new_msg(reply, NULL, data, len, dpf_bus_msg_corr(req), &rep);
    if (s == NATS_OK)
        s = natsConnection_PublishMsg(bus->nc, rep);
    natsMsg_Destroy(rep);
    return from_nats(s, 0, "respond");
}

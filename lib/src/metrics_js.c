/* JetStream consumer gauges for /metrics (see metrics.h): how many messages
 * wait for a service (num_pending), how many it holds unacknowledged
 * (num_ack_pending) and how many were delivered more than once. They are
 * JetStream's numbers, shared by every replica, read with consumer info at
 * scrape time: a short timeout so a scrape never hangs on a NATS outage,
 * and a cache so scrapes from several Prometheus servers or an autoscaler
 * do not each cost a JetStream API call. A consumer that cannot be read
 * keeps its last values and dpfleet_jetstream_consumer_info_ok says so.
 * Part of lib because it needs the bus's JetStream context (bus_p.h):
 * natsStatus stays inside lib. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "bus_p.h"
#include "dpf/metrics.h"
#include "dpf/util.h"

#define MAX_CONSUMERS 8
#define CACHE_US 5000000
#define INFO_WAIT_MS 500

typedef struct {
    char stream[64];
    char durable[64];
    int64_t read_us; /* when last asked (0: never) */
    int ok;          /* the last ask answered */
    uint64_t pending;
    int64_t ack_pending, redelivered;
} consumer;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static dpf_bus *g_bus;
static consumer g_cons[MAX_CONSUMERS];
static int g_ncons;

dpf_status dpf_metrics_watch_consumer(dpf_bus *bus, const char *stream, const char *durable)
{
    if (bus == NULL || stream == NULL || durable == NULL)
        return DPF_ERR_INVALID;
    dpf_status st = DPF_ERR_INVALID;
    pthread_mutex_lock(&g_mu);
    if (g_ncons < MAX_CONSUMERS && (g_bus == NULL || g_bus == bus)) {
        consumer *c = &g_cons[g_ncons++];
        memset(c, 0, sizeof *c);
        snprintf(c->stream, sizeof c->stream, "%s", stream);
        snprintf(c->durable, sizeof c->durable, "%s", durable);
        g_bus = bus;
        st = DPF_OK;
    }
    pthread_mutex_unlock(&g_mu);
    return st;
}

void dpf_metrics_unwatch_consumers(void)
{
    pthread_mutex_lock(&g_mu);
    g_ncons = 0;
    g_bus = NULL;
    pthread_mutex_unlock(&g_mu);
}

/* g_mu held: a scrape waits for another scrape's lookup rather than
 * asking JetStream twice. */
static void refresh(consumer *c)
{
    int64_t now = dpf_mono_us();
    if (c->read_us != 0 && now - c->read_us < CACHE_US)
        return;
    c->read_us = now;
    c->ok = 0;
    if (g_bus == NULL || g_bus->js == NULL || !dpf_bus_connected(g_bus))
        return;
    jsOptions o;
    if (jsOptions_Init(&o) != NATS_OK)
        return;
    o.Wait = INFO_WAIT_MS;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    if (js_GetConsumerInfo(&ci, g_bus->js, c->stream, c->durable, &o, &jerr) == NATS_OK &&
        ci != NULL) {
        c->ok = 1;
        c->pending = ci->NumPending;
        c->ack_pending = ci->NumAckPending;
        c->redelivered = ci->NumRedelivered;
    }
    jsConsumerInfo_Destroy(ci);
}

size_t dpf_metrics_render_consumers(char *buf, size_t cap)
{
    static const char *const names[4] = {
        "dpfleet_jetstream_consumer_pending", "dpfleet_jetstream_consumer_ack_pending",
        "dpfleet_jetstream_consumer_redelivered", "dpfleet_jetstream_consumer_info_ok"};
    static const char *const helps[4] = {
        "Messages in the stream not yet delivered to the consumer (all replicas).",
        "Messages delivered and not yet acknowledged (all replicas).",
        "Messages delivered more than once and not yet acknowledged.",
        "1 when the last consumer info request answered (else the values are stale)."};
    dpf_textbuf o = {buf, 0, cap};
    if (cap == 0)
        return 0;
    buf[0] = '\0';
    pthread_mutex_lock(&g_mu);
    for (int i = 0; i < g_ncons; i++)
        refresh(&g_cons[i]);
    for (int k = 0; k < 4 && g_ncons > 0; k++) {
        dpf_textbuf_printf(&o, "# HELP %s %s\n# TYPE %s gauge\n", names[k], helps[k], names[k]);
        for (int i = 0; i < g_ncons; i++) {
            const consumer *c = &g_cons[i];
            double v = k == 0 ? (double)c->pending
                     : k == 1 ? (double)c->ack_pending
                     : k == 2 ? (double)c->redelivered : c->ok;
            dpf_textbuf_printf(&o, "%s{stream=\"%s\",consumer=\"%s\"} %.17g\n", names[k],
                               c->stream, c->durable, v);
        }
    }
    pthread_mutex_unlock(&g_mu);
    return o.len;
}

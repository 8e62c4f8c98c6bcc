/* Private to the bus module (bus.c: connection, streams, publish,
 * request/reply; bus_sub.c: subscriptions and received messages). */
#ifndef DPF_BUS_P_H
#define DPF_BUS_P_H

#include <pthread.h>
#include <stdatomic.h>

#include <nats/nats.h>

#include "dpf/bus.h"

#define NS_PER_MS 1000000LL

struct dpf_bus {
    natsConnection *nc;
    jsCtx *js;
    char name[128];
    /* set by destroy, read on nats.c's event thread: the disconnect is ours */
    atomic_int closing;
    /* nats.c reports connection events on a thread of its own, after
     * natsConnection_Destroy has returned; the closed event is the last of
     * them, so destroy waits for it before freeing what they point to */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int closed;
    /* reconnections since connect, for dpf_bus_reconnects; connected: 1
     * between a (re)connect and a disconnect. Written on nats.c's event
     * thread, read anywhere. */
    atomic_uint_fast64_t reconnects;
    atomic_int connected;
    /* the credentials file, read again at each (re)connect by bus.c's own
     * JWT and signature callbacks ("" without one) */
    char creds_file[4096];
    /* set by the signature callback when it refused a signature that
     * begins with a zero byte (see bus.c): the connect is tried again */
    atomic_int zero_sig;
    /* the connection's inbox prefix (natsOptions_SetCustomInboxPrefix), ""
     * for nats.c's "_INBOX": inboxes made here must use it too */
    char inbox_prefix[128];
    /* 1 when the connection uses TLS (dpf_bus__tls_options) */
    int tls;
};

struct dpf_bus_msg {
    natsMsg *msg;
    uint64_t deliveries;
};

/* TLS options of a connection to url from DPFLEET_NATS_CA (and
 * DPFLEET_NATS_TLS_HOSTNAME): see bus.c. Logs why it fails; *tls gets 1
 * when TLS is on. Also used by natsissuer.c's system-account connection. */
natsStatus dpf_bus__tls_options(natsOptions *o, const char *url, int *tls);

/* Converts s to a dpf_status, logging nats.c's reason for what (the
 * operation) when it is a failure. jerr: the JetStream error code or 0. */
dpf_status dpf_bus__status(natsStatus s, jsErrCode jerr, const char *what);

/* A message on subject (reply may be NULL) carrying data and, when corr is
 * set, the correlation header. *out owned by the caller (natsMsg_Destroy). */
natsStatus dpf_bus__new_msg(const char *subject, const char *reply, const void *data,
                            size_t len, const char *corr, natsMsg **out);

/* Wraps a received message (jetstream: read its delivery count). NULL
 * without memory (msg is then still the caller's). */
dpf_bus_msg *dpf_bus__wrap_msg(natsMsg *msg, int jetstream);

/* Creates the durable consumer want->Durable on stream, or brings an
 * existing one to want (limits updated in place; another shape, push
 * against pull included, deleted and created again). *created (may be
 * NULL) is set to 1 when the consumer did not exist. */
dpf_status dpf_bus__ensure_consumer(dpf_bus *bus, const char *stream, jsConsumerConfig *want,
                                    int *created);

#endif

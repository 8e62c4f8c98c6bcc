/* NATS JetStream over nats.c (Debian's 3.4.1). Events are published to
 * JetStream with a message id (de-duplication) and consumed with manual
 * acks through durable pull consumers (hman, distmgr: each process fetches
 * one message when it has room for one) or durable push queue
 * subscriptions; the agent steps are core NATS request/reply. The correlation id travels in the "Dpf-Correlation-Id"
 * header. natsStatus never leaves this module.
 *
 * Streams (created by dpf_bus_ensure_streams):
 *   DPF_EVENTS   sitecontrol.changed.>, dp.ins.>, dp.dpn.>, pkg.changed.>, dp.val.>
 *   DPF_STATMSG  statmsg.>                                   (status messages, kept 7 days)
 * Both: file storage, duplicate window 2 minutes. DPF_EVENTS has work-queue
 * retention (a message goes once acked or terminated; kept 7 days at most):
 * the filters of its consumers must not overlap, so each durable owns its
 * subjects (hman: sitecontrol.changed.>; distmgr: dp.ins.>, dp.dpn.>, pkg.changed.>, dp.val.>) and
 * an ephemeral watcher (dpf_bus_watch_stream) cannot be put on it.
 *
 * Threads: nats.c runs each subscription's handler on a delivery thread of
 * that subscription, one message at a time; a handler that blocks holds up
 * only its own subscription. Handlers, acks and publishes may be called from
 * any thread. Connection events (disconnect, reconnect) are logged.
 */
#ifndef DPF_BUS_H
#define DPF_BUS_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"

#define DPF_CORR_HEADER "Dpf-Correlation-Id"

typedef struct dpf_bus dpf_bus;
typedef struct dpf_bus_msg dpf_bus_msg;
typedef struct dpf_bus_sub dpf_bus_sub;

/* url: NATS_URL (borrowed); name: connection name shown by the server.
 * Waits up to 30 s for an unreachable server (services may start first);
 * reconnects forever in the background once connected. */
dpf_status dpf_bus_connect(const char *url, const char *name, dpf_bus **out) DPF_MUSTCHECK;

/* Who the connection is: a NATS credentials file (user JWT + nkey seed), or
 * a user name and password, or nothing (a server without authorization).
 * creds_file wins over user/password. inbox_prefix: where replies to this
 * connection's requests come ("_INBOX_dbmon"; NULL or "": "_INBOX_<role>"
 * when the credential is one of dpf-natsauth's roles (its JWT's name,
 * lib/include/dpf/natsroles.h), each of which may read only its own
 * inboxes; else nats.c's "_INBOX"). All borrowed for the call only. */
typedef struct dpf_bus_auth {
    const char *creds_file;
    const char *user;
    const char *password;
    const char *inbox_prefix;
} dpf_bus_auth;

/* dpf_bus_connect takes its identity from the environment: DPFLEET_NATS_CREDS
 * (a credentials file), else NATS_USER and NATS_PASS, and the inbox prefix
 * from DPFLEET_NATS_INBOX_PREFIX. This one from auth (NULL: none). A server
 * that refuses the identity is not retried: the error says so and names the
 * user or file. */
dpf_status dpf_bus_connect_as(const char *url, const char *name, const dpf_bus_auth *auth,
                              dpf_bus **out) DPF_MUSTCHECK;
/* Fills *auth from the environment as dpf_bus_connect does (pointers into
 * the environment). */
void dpf_bus_auth_from_env(dpf_bus_auth *auth);
/* Unsubscribes nothing: destroy subscriptions first. Waits (up to 5 s) for
 * nats.c's close event, after which no callback refers to bus. NULL is a no-op. */
void dpf_bus_destroy(dpf_bus *bus);

/* How many times the connection came back after a loss since connect (0
 * while it never dropped); whether it is up now. Any thread. A caller that
 * keeps the last count sees an outage end (resync what may have been lost
 * while the server was away). NULL: 0. */
uint64_t dpf_bus_reconnects(dpf_bus *bus);
int dpf_bus_connected(dpf_bus *bus);

/* Creates or updates the streams above. Idempotent. */
dpf_status dpf_bus_ensure_streams(dpf_bus *bus) DPF_MUSTCHECK;

/* Publishes to JetStream and waits for the stream's ack. msg_id (may be NULL)
 * de-duplicates within the stream's window; corr may be NULL. All borrowed. */
dpf_status dpf_bus_publish(dpf_bus *bus, const char *subject, const void *data, size_t len,
                           const char *msg_id, const char *corr) DPF_MUSTCHECK;

/* Handler for JetStream messages. msg is owned by the handler: it must end
 * with exactly one of ack/nak/term and then dpf_bus_msg_destroy, possibly
 * later and from another thread. */
typedef void (*dpf_bus_handler)(dpf_bus_msg *msg, void *closure);

typedef struct dpf_bus_sub_opts {
    const char *stream;    /* "DPF_EVENTS" */
    const char *subject;   /* filter, e.g. "dp.ins.>" */
    const char *durable;   /* durable consumer name, also the queue group */
    int max_ack_pending;   /* how many unacked messages at once (>= worker count) */
    int ack_wait_ms;       /* redelivery after this long without ack/in-progress */
    int max_deliver;       /* after this many deliveries the message is dropped */
} dpf_bus_sub_opts;

/* Durable push queue subscription with manual acks. Several processes with
 * the same durable share the work. handler runs on a nats.c thread.
 * The consumer is created if missing; if it exists with other limits they
 * are updated, with another shape (filter, group, policy) it is deleted and
 * created again (logged; unacked messages stay in the work queue). The
 * subscription is live at the server when this returns. Defaults for
 * fields <= 0: ack wait 30 s, max ack pending 1000, max deliver unlimited.
 * *out owned by the caller (dpf_bus_sub_destroy). */
dpf_status dpf_bus_subscribe(dpf_bus *bus, const dpf_bus_sub_opts *opts,
                             dpf_bus_handler handler, void *closure,
                             dpf_bus_sub **out) DPF_MUSTCHECK;
/* Drains nothing; leaves a durable consumer in place. No handler of sub
 * starts once this is called (a message arriving meanwhile is left
 * unacknowledged, so JetStream delivers it again), and it does not return
 * while one is still running: it waits as long as that takes, logging a
 * warning naming the subscription every 3 s, so the closure may be freed
 * as soon as it returns. A handler that never returns therefore holds its
 * caller here. May also be called from inside the subscription's own
 * handler (it then returns at once; the handler knows what it still uses).
 * NULL is a no-op. */
void dpf_bus_sub_destroy(dpf_bus_sub *sub);

/* Durable pull consumer (bus_pull.c): the receiver asks for one message
 * when it has room for one, so what each process holds depends on its own
 * free capacity, not on a consumer-wide max ack pending that one replica
 * chose. Several processes with the same durable share the work. opts as
 * for dpf_bus_subscribe, but max_ack_pending <= 0 means 10000 (a safety
 * net, not a flow control: every replica should pass the same value). The
 * consumer is created or brought to opts as dpf_bus_subscribe does (a push
 * consumer of the same name is deleted and created again as pull; unacked
 * messages stay in the work queue). *out owned by the caller
 * (dpf_bus_pull_destroy). One dpf_bus_pull serves one thread at a time. */
typedef struct dpf_bus_pull dpf_bus_pull;
dpf_status dpf_bus_pull_create(dpf_bus *bus, const dpf_bus_sub_opts *opts,
                               dpf_bus_pull **out) DPF_MUSTCHECK;

/* Fetches at most one message (nats.c 3.4.1's Fetch is safe only with a
 * batch of 1), waiting up to timeout_ms (>= 10). DPF_OK: *out is a message
 * owned by the caller exactly as a dpf_bus_handler owns one (ack/nak/term,
 * then destroy). DPF_ERR_TIMEOUT: none came in time. Another status: the
 * server cannot be reached (logged once per outage; the call has waited
 * up to timeout_ms, so a loop that calls it does not spin). After the
 * connection came back, and now and then when idle, the consumer is checked
 * and created again if JetStream lost it (logged). */
dpf_status dpf_bus_pull_fetch(dpf_bus_pull *p, int timeout_ms, dpf_bus_msg **out) DPF_MUSTCHECK;

/* Leaves the durable consumer in place; messages fetched and not yet ended
 * stay valid. NULL is a no-op. */
void dpf_bus_pull_destroy(dpf_bus_pull *p);

/* Borrowed views of a message, valid until dpf_bus_msg_destroy. */
const char *dpf_bus_msg_subject(const dpf_bus_msg *m);
const void *dpf_bus_msg_data(const dpf_bus_msg *m);
size_t dpf_bus_msg_len(const dpf_bus_msg *m);
const char *dpf_bus_msg_corr(const dpf_bus_msg *m);    /* "" if none */
uint64_t dpf_bus_msg_deliveries(const dpf_bus_msg *m); /* 1 on first delivery */
const char *dpf_bus_msg_reply(const dpf_bus_msg *m);   /* core request reply inbox, "" if none */
/* (dpf_bus_publish returns DPF_ERR_NO_STREAM when no stream holds the
 * subject, as every JetStream call here does for a missing stream or
 * consumer.) */

dpf_status dpf_bus_msg_ack(dpf_bus_msg *m) DPF_MUSTCHECK;          /* waits for the server */
dpf_status dpf_bus_msg_nak(dpf_bus_msg *m, int delay_ms) DPF_MUSTCHECK;
dpf_status dpf_bus_msg_term(dpf_bus_msg *m) DPF_MUSTCHECK;         /* never redeliver */
dpf_status dpf_bus_msg_in_progress(dpf_bus_msg *m) DPF_MUSTCHECK;  /* resets ack wait */
void dpf_bus_msg_destroy(dpf_bus_msg *m); /* NULL is a no-op */

/* Core request/reply. *reply (malloc'd, owned by the caller, with a NUL
 * after the data) and *reply_len on success; DPF_ERR_TIMEOUT if nobody
 * answered in time, and at once when nobody serves the subject at all. */
dpf_status dpf_bus_request(dpf_bus *bus, const char *subject, const void *data, size_t len,
                           const char *corr, int timeout_ms, void **reply,
                           size_t *reply_len) DPF_MUSTCHECK;

/* dpf_bus_request for a request the responder may receive twice (its work
 * is idempotent, e.g. an agent step): when NATS drops and comes back while
 * the reply is awaited, the request is sent again on the new connection
 * (its reply was lost with the old one), and "no responders" right after a
 * reconnection is asked again every 500 ms (the responder may not have
 * subscribed again yet), all within timeout_ms. So a server restart costs
 * the time it takes, not the whole timeout. Otherwise as dpf_bus_request. */
dpf_status dpf_bus_request_idem(dpf_bus *bus, const char *subject, const void *data, size_t len,
                                const char *corr, int timeout_ms, void **reply,
                                size_t *reply_len) DPF_MUSTCHECK;

/* Core subscription (queue group may be NULL) for serving requests; the
 * handler owns each msg as above but must only dpf_bus_respond (no acks).
 * The reply carries the request's correlation header back. */
dpf_status dpf_bus_serve(dpf_bus *bus, const char *subject, const char *queue,
                         dpf_bus_handler handler, void *closure,
                         dpf_bus_sub **out) DPF_MUSTCHECK;
dpf_status dpf_bus_respond(dpf_bus *bus, dpf_bus_msg *req, const void *data,
                           size_t len) DPF_MUSTCHECK;

/* Watcher: an ephemeral JetStream push consumer on stream with no acks,
 * from the first message kept (or only new ones with deliver_new_only);
 * handler owns each msg (destroy it; acks not needed). The consumer goes
 * away with dpf_bus_sub_destroy. Use it on DPF_STATMSG, not DPF_EVENTS. */
dpf_status dpf_bus_watch_stream(dpf_bus *bus, const char *stream, const char *subject,
                                int deliver_new_only, dpf_bus_handler handler,
                                void *closure, dpf_bus_sub **out) DPF_MUSTCHECK;

#endif

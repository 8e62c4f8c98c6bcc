/* bus against a real nats-server with JetStream: streams, de-duplication,
 * durable queue subscriptions, nak/term, request/reply and the correlation
 * header. Each test uses subjects of its own (the events stream is a work
 * queue, where consumer filters must not overlap). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <nats/nats.h>

#include <dpf/bus.h>
#include <dpf/log.h>
#include <dpf/util.h>

#include "dpf_capture.h"
#include "dpf_test.h"

static dpf_bus *bus;
static char tag[32]; /* unique per run: subjects and durables */
/* a plain nats.c connection, only to delete what the tests created: in the
 * work-queue stream a leftover consumer would collide with the filter of a
 * later test's (or service's) consumer */
static natsConnection *admin_nc;
static jsCtx *admin_js;

static void delete_consumer(const char *durable)
{
    jsErrCode jerr = 0;
    js_DeleteConsumer(admin_js, "DPF_EVENTS", durable, NULL, &jerr);
}

/* What handlers saw, shared with the test thread. */
typedef struct seen {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int count;
    int per_sub[2];
    int acked;
    uint64_t max_deliveries;
    char last_corr[64];
    char last_subject[128];
    char last_data[128];
    int mode; /* what the handler does, see handle() */
} seen;

enum { ACK = 0, NAK_FIRST = 1, TERM = 2, IGNORE_FIRST = 3 };

typedef struct who {
    seen *s;
    int index;
} who;

static void seen_init(seen *s, int mode)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->mode = mode;
}

static void seen_free(seen *s)
{
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
}

/* Waits until s->count >= n or timeout; returns the count. */
static int wait_count(seen *s, int n, int timeout_ms)
{
    int64_t deadline = dpf_mono_us() + (int64_t)timeout_ms * 1000;
    pthread_mutex_lock(&s->mu);
    while (s->count < n && dpf_mono_us() < deadline) {
        pthread_mutex_unlock(&s->mu);
        usleep(10000);
        pthread_mutex_lock(&s->mu);
    }
    int c = s->count;
    pthread_mutex_unlock(&s->mu);
    return c;
}

static void handle(dpf_bus_msg *m, void *closure)
{
    who *w = closure;
    seen *s = w->s;
    uint64_t d = dpf_bus_msg_deliveries(m);
    dpf_status st;
    if (s->mode == NAK_FIRST && d == 1)
        st = dpf_bus_msg_nak(m, 100);
    else if (s->mode == TERM)
        st = dpf_bus_msg_term(m);
    else if (s->mode == IGNORE_FIRST && d == 1)
        st = DPF_ERR_TIMEOUT; /* as if the worker died: no answer at all */
    else
        st = dpf_bus_msg_ack(m);

    pthread_mutex_lock(&s->mu);
    s->count++;
    s->per_sub[w->index]++;
    if (st == DPF_OK && (s->mode == ACK || (s->mode != TERM && d > 1)))
        s->acked++;
    if (d > s->max_deliveries)
        s->max_deliveries = d;
    snprintf(s->last_corr, sizeof s->last_corr, "%s", dpf_bus_msg_corr(m));
    snprintf(s->last_subject, sizeof s->last_subject, "%s", dpf_bus_msg_subject(m));
    snprintf(s->last_data, sizeof s->last_data, "%.*s", (int)dpf_bus_msg_len(m),
             (const char *)dpf_bus_msg_data(m));
    pthread_mutex_unlock(&s->mu);
    dpf_bus_msg_destroy(m);
}

static int group_setup(void **state)
{
    dpf_log_init("TEST_BUS");
    const char *url = dpf_test_env("NATS_URL");
    if (url == NULL)
        return -1;
    snprintf(tag, sizeof tag, "t%ld", (long)getpid());
    /* as the bus connects: the identity of DPFLEET_NATS_CREDS when the
     * server runs with identities */
    dpf_bus_auth auth;
    dpf_bus_auth_from_env(&auth);
    natsOptions *no = NULL;
    natsStatus ns = natsOptions_Create(&no);
    if (ns == NATS_OK)
        ns = natsOptions_SetURL(no, url);
    if (ns == NATS_OK && auth.creds_file != NULL)
        ns = natsOptions_SetUserCredentialsFromFiles(no, auth.creds_file, NULL);
    else if (ns == NATS_OK && auth.user != NULL)
        ns = natsOptions_SetUserInfo(no, auth.user, auth.password ? auth.password : "");
    /* nats.c 3.4.1 drops a nonce signature beginning with a zero byte (1
     * connect in 256 refused; bus.c works around it): try again */
    for (int i = 0; i < 3 && (ns == NATS_OK || ns == NATS_CONNECTION_AUTH_FAILED); i++) {
        ns = natsConnection_Connect(&admin_nc, no);
        if (ns == NATS_OK)
            break;
    }
    natsOptions_Destroy(no);
    if (ns != NATS_OK || natsConnection_JetStream(&admin_js, admin_nc, NULL) != NATS_OK)
        return -1;
    if (dpf_bus_connect(url, "test_bus", &bus) != DPF_OK)
        return -1;
    return dpf_bus_ensure_streams(bus) == DPF_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
    /* again, for tests that failed before their own cleanup */
    static const char *const names[] = {"dedup", "share", "nak", "term", "lost", "corr",
                                          "filter", "pull", "pull-lost", "slow"};
    for (size_t i = 0; admin_js != NULL && i < sizeof names / sizeof names[0]; i++) {
        char durable[64];
        snprintf(durable, sizeof durable, "%s-%s", tag, names[i]);
        delete_consumer(durable);
    }
    dpf_bus_destroy(bus);
    jsCtx_Destroy(admin_js);
    natsConnection_Destroy(admin_nc);
    return 0;
}

static dpf_bus_sub_opts sub_opts(const char *subject, const char *durable)
{
    dpf_bus_sub_opts o = {
        .stream = "DPF_EVENTS",
        .subject = subject,
        .durable = durable,
        .max_ack_pending = 16,
        .ack_wait_ms = 2000,
        .max_deliver = 5,
    };
    return o;
}

static void test_ensure_streams_twice(void **state)
{
    assert_int_equal(dpf_bus_ensure_streams(bus), DPF_OK);
    assert_int_equal(dpf_bus_ensure_streams(bus), DPF_OK);
}

static void test_dedup_by_msg_id(void **state)
{
    char subject[128], durable[64];
    snprintf(subject, sizeof subject, "dp.ins.%s.dedup", tag);
    snprintf(durable, sizeof durable, "%s-dedup", tag);
    /* message ids are unique per run: the duplicate window outlives a run */
    char id1[64], id2[64];
    snprintf(id1, sizeof id1, "%s-dp.ins-32-1", tag);
    snprintf(id2, sizeof id2, "%s-dp.ins-33-1", tag);
    assert_int_equal(dpf_bus_publish(bus, subject, "32", 2, id1, "c1"), DPF_OK);
    assert_int_equal(dpf_bus_publish(bus, subject, "32", 2, id1, "c1"), DPF_OK);
    assert_int_equal(dpf_bus_publish(bus, subject, "33", 2, id2, "c2"), DPF_OK);

    seen s;
    seen_init(&s, ACK);
    who w = {&s, 0};
    dpf_bus_sub_opts o = sub_opts(subject, durable);
    dpf_bus_sub *sub = NULL;
    assert_int_equal(dpf_bus_subscribe(bus, &o, handle, &w, &sub), DPF_OK);
    assert_int_equal(wait_count(&s, 2, 5000), 2);
    /* nothing more arrives: the duplicate was not stored */
    usleep(500000);
    assert_int_equal(wait_count(&s, 3, 10), 2);
    assert_int_equal(s.acked, 2);
    dpf_bus_sub_destroy(sub);
    delete_consumer(durable);
    seen_free(&s);
}

static void test_queue_shares_work(void **state)
{
    char subject[128], durable[64];
    snprintf(subject, sizeof subject, "dp.ins.%s.share", tag);
    snprintf(durable, sizeof durable, "%s-share", tag);
    dpf_bus *bus2 = NULL;
    assert_int_equal(dpf_bus_connect(dpf_test_env("NATS_URL"), "test_bus_2", &bus2), DPF_OK);

    seen s;
    seen_init(&s, ACK);
    who w0 = {&s, 0}, w1 = {&s, 1};
    dpf_bus_sub_opts o = sub_opts(subject, durable);
    dpf_bus_sub *a = NULL, *b = NULL;
    assert_int_equal(dpf_bus_subscribe(bus, &o, handle, &w0, &a), DPF_OK);
    assert_int_equal(dpf_bus_subscribe(bus2, &o, handle, &w1, &b), DPF_OK);

    const int n = 40;
    for (int i = 0; i < n; i++) {
        char id[64], data[16];
        snprintf(id, sizeof id, "%s-share-%d", tag, i);
        snprintf(data, sizeof data, "%d", i);
        assert_int_equal(dpf_bus_publish(bus, subject, data, strlen(data), id, NULL), DPF_OK);
    }
    assert_int_equal(wait_count(&s, n, 10000), n);
    usleep(300000);
    assert_int_equal(wait_count(&s, n + 1, 10), n); /* each exactly once */
    assert_int_equal(s.acked, n);
    assert_true(s.per_sub[0] > 0);
    assert_true(s.per_sub[1] > 0);
    dpf_bus_sub_destroy(a);
    dpf_bus_sub_destroy(b);
    delete_consumer(durable);
    dpf_bus_destroy(bus2);
    seen_free(&s);
}

static void test_nak_redelivers(void **state)
{
    char subject[128], durable[64];
    snprintf(subject, sizeof subject, "dp.dpn.%s.nak", tag);
    snprintf(durable, sizeof durable, "%s-nak", tag);
    seen s;
    seen_init(&s, NAK_FIRST);
    who w = {&s, 0};
    dpf_bus_sub_opts o = sub_opts(subject, durable);
    dpf_bus_sub *sub = NULL;
    assert_int_equal(dpf_bus_subscribe(bus, &o, handle, &w, &sub), DPF_OK);
    assert_int_equal(dpf_bus_publish(bus, subject, "34", 2, NULL, NULL), DPF_OK);
    assert_int_equal(wait_count(&s, 2, 5000), 2);
    assert_int_equal(s.max_deliveries, 2);
    assert_int_equal(s.acked, 1);
    usleep(500000);
    assert_int_equal(wait_count(&s, 3, 10), 2);
    dpf_bus_sub_destroy(sub);
    delete_consumer(durable);
    seen_free(&s);
}

static void test_term_stops_redelivery(void **state)
{
    char subject[128], durable[64];
    snprintf(subject, sizeof subject, "dp.dpn.%s.term", tag);
    snprintf(durable, sizeof durable, "%s-term", tag);
    seen s;
    seen_init(&s, TERM);
    who w = {&s, 0};
    dpf_bus_sub_opts o = sub_opts(subject, durable);
    o.ack_wait_ms = 300; /* would redeliver quickly if term did not stop it */
    dpf_bus_sub *sub = NULL;
    assert_int_equal(dpf_bus_subscribe(bus, &o, handle, &w, &sub), DPF_OK);
    assert_int_equal(dpf_bus_publish(bus, subject, "bad", 3, NULL, NULL), DPF_OK);
    assert_int_equal(wait_count(&s, 1, 5000), 1);
    usleep(1200000);
    assert_int_equal(wait_count(&s, 2, 10), 1);
    dpf_bus_sub_destroy(sub);
    delete_consumer(durable);
    seen_free(&s);
}

static void test_no_ack_redelivers_after_ack_wait(void **state)
{
    /* a handler that dies without answering: the message comes back */
    char subject[128], durable[64];
    snprintf(subject, sizeof subject, "dp.ins.%s.lost", tag);
    snprintf(durable, sizeof durable, "%s-lost", tag);
    seen s;
    seen_init(&s, IGNORE_FIRST);
    who w = {&s, 0};
    dpf_bus_sub_opts o = sub_opts(subject, durable);
    o.ack_wait_ms = 400;
    dpf_bus_sub *sub = NULL;
    assert_int_equal(dpf_bus_subscribe(bus, &o, handle, &w, &sub), DPF_OK);
    dpf_bus_sub_destroy(sub);
    /* same durable, new settings: the consumer is brought up to date */
    o.max_ack_pending = 4;
    o.max_deliver = 3;
    assert_int_equal(dpf_bus_subscribe(bus, &o, handle, &w, &sub), DPF_OK);
    assert_int_equal(dpf_bus_publish(bus, subject, "x", 1, NULL, "corr-lost"), DPF_OK);
    int64_t t0 = dpf_mono_us();
    assert_int_equal(wait_count(&s, 2, 5000), 2);
    assert_true(dpf_mono_us() - t0 >= 350000); /* only after the ack wait */
    assert_int_equal(s.max_deliveries, 2);
    assert_int_equal(s.acked, 1);
    assert_string_equal(s.last_corr, "corr-lost");
    dpf_bus_sub_destroy(sub);
    delete_consumer(durable);
    seen_free(&s);
}

static void test_consumer_brought_to_config(void **state)
{
    char subject_a[128], subject_b[128], durable[64];
    snprintf(subject_a, sizeof subject_a, "dp.dpn.%s.filter-a", tag);
    snprintf(subject_b, sizeof subject_b, "dp.dpn.%s.filter-b", tag);
    snprintf(durable, sizeof durable, "%s-filter", tag);

    /* left behind by some older deployment: a pull consumer, which the
     * server cannot turn into a push one in place, so it is deleted and
     * created again */
    jsConsumerConfig old;
    jsConsumerConfig_Init(&old);
    old.Durable = durable;
    old.FilterSubject = subject_a;
    old.AckPolicy = js_AckExplicit;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    assert_int_equal(js_AddConsumer(&ci, admin_js, "DPF_EVENTS", &old, NULL, &jerr), NATS_OK);
    jsConsumerInfo_Destroy(ci);

    seen s;
    seen_init(&s, ACK);
    who w = {&s, 0};
    dpf_bus_sub_opts o = sub_opts(subject_a, durable);
    dpf_bus_sub *sub = NULL;
    assert_int_equal(dpf_bus_subscribe(bus, &o, handle, &w, &sub), DPF_OK);
    dpf_bus_sub_destroy(sub);
    ci = NULL;
    assert_int_equal(js_GetConsumerInfo(&ci, admin_js, "DPF_EVENTS", durable, NULL, &jerr),
                     NATS_OK);
    assert_non_null(ci->Config->DeliverSubject);
    assert_string_equal(ci->Config->DeliverGroup, durable);
    jsConsumerInfo_Destroy(ci);

    /* a new filter is updated in place */
    o.subject = subject_b;
    assert_int_equal(dpf_bus_subscribe(bus, &o, handle, &w, &sub), DPF_OK);
    assert_int_equal(dpf_bus_publish(bus, subject_b, "b", 1, NULL, NULL), DPF_OK);
    assert_int_equal(wait_count(&s, 1, 5000), 1);
    assert_string_equal(s.last_subject, subject_b);
    assert_int_equal(s.acked, 1);
    dpf_bus_sub_destroy(sub);
    delete_consumer(durable);
    seen_free(&s);
}

static void test_correlation_header(void **state)
{
    char subject[128], durable[64];
    snprintf(subject, sizeof subject, "sitecontrol.changed.%s", tag);
    snprintf(durable, sizeof durable, "%s-corr", tag);
    seen s;
    seen_init(&s, ACK);
    who w = {&s, 0};
    dpf_bus_sub_opts o = sub_opts(subject, durable);
    dpf_bus_sub *sub = NULL;
    assert_int_equal(dpf_bus_subscribe(bus, &o, handle, &w, &sub), DPF_OK);
    assert_int_equal(dpf_bus_publish(bus, subject, "PS1", 3, NULL, "23a72b6c-corr"), DPF_OK);
    assert_int_equal(wait_count(&s, 1, 5000), 1);
    assert_string_equal(s.last_corr, "23a72b6c-corr");
    assert_string_equal(s.last_subject, subject);
    assert_string_equal(s.last_data, "PS1");
    assert_int_equal(dpf_bus_publish(bus, subject, "PS2", 3, NULL, NULL), DPF_OK);
    assert_int_equal(wait_count(&s, 2, 5000), 2);
    assert_string_equal(s.last_corr, "");
    dpf_bus_sub_destroy(sub);
    delete_consumer(durable);
    seen_free(&s);
}

/* An agent: echoes "re:<request>" and records the request's correlation id;
 * a request "silence" gets no answer. */
static void agent(dpf_bus_msg *m, void *closure)
{
    seen *s = closure;
    char body[128];
    snprintf(body, sizeof body, "re:%.*s", (int)dpf_bus_msg_len(m),
             (const char *)dpf_bus_msg_data(m));
    pthread_mutex_lock(&s->mu);
    s->count++;
    snprintf(s->last_corr, sizeof s->last_corr, "%s", dpf_bus_msg_corr(m));
    pthread_mutex_unlock(&s->mu);
    /* no cmocka asserts here: this runs on a nats.c thread */
    if (strcmp(body, "re:silence") != 0 && dpf_bus_respond(bus, m, body, strlen(body)) == DPF_OK) {
        pthread_mutex_lock(&s->mu);
        s->acked++;
        pthread_mutex_unlock(&s->mu);
    }
    dpf_bus_msg_destroy(m);
}

static void test_request_reply(void **state)
{
    char subject[128];
    snprintf(subject, sizeof subject, "agent.%s.CONTOSO.COM.step", tag);
    seen s;
    seen_init(&s, ACK);
    dpf_bus_sub *srv = NULL;
    assert_int_equal(dpf_bus_serve(bus, subject, "agents", agent, &s, &srv), DPF_OK);

    void *reply = NULL;
    size_t len = 0;
    assert_int_equal(dpf_bus_request(bus, subject, "status", 6, "corr-rr", 5000, &reply, &len),
                     DPF_OK);
    assert_int_equal(len, 9);
    assert_string_equal((char *)reply, "re:status");
    free(reply);
    assert_string_equal(s.last_corr, "corr-rr");
    assert_int_equal(s.acked, 1);

    /* nobody answers in time */
    int64_t t0 = dpf_mono_us();
    assert_int_equal(dpf_bus_request(bus, subject, "silence", 7, NULL, 300, &reply, &len),
                     DPF_ERR_TIMEOUT);
    assert_null(reply);
    assert_true(dpf_mono_us() - t0 >= 250000);

    /* nobody listens at all */
    char none[160];
    snprintf(none, sizeof none, "agent.%s.NOBODY.step", tag);
    assert_int_equal(dpf_bus_request(bus, none, "status", 6, NULL, 2000, &reply, &len),
                     DPF_ERR_TIMEOUT);
    dpf_bus_sub_destroy(srv);
    seen_free(&s);
}

/* A one-shot server: answers once, then closes its own subscription from
 * inside the handler. */
static dpf_bus_sub *one_shot_sub;

static void one_shot(dpf_bus_msg *m, void *closure)
{
    int *answered = closure;
    if (dpf_bus_respond(bus, m, "once", 4) == DPF_OK)
        (*answered)++;
    dpf_bus_msg_destroy(m);
    dpf_bus_sub_destroy(one_shot_sub);
}

static void test_destroy_from_handler(void **state)
{
    char subject[128];
    snprintf(subject, sizeof subject, "agent.%s.ONESHOT.step", tag);
    int answered = 0;
    assert_int_equal(dpf_bus_serve(bus, subject, NULL, one_shot, &answered, &one_shot_sub),
                     DPF_OK);
    void *reply = NULL;
    size_t len = 0;
    assert_int_equal(dpf_bus_request(bus, subject, "a", 1, NULL, 5000, &reply, &len), DPF_OK);
    assert_string_equal((char *)reply, "once");
    free(reply);
    reply = NULL;
    assert_int_equal(dpf_bus_request(bus, subject, "b", 1, NULL, 500, &reply, &len),
                     DPF_ERR_TIMEOUT);
    assert_int_equal(answered, 1);
}

/* A handler still busy when its subscription is destroyed: it says it has
 * started, sleeps past the old 5 s give-up of destroy, then marks that it
 * finished. All under mu. */
typedef struct slow {
    pthread_mutex_t mu;
    int started;
    int finished;
    int acked;
} slow;

#define SLOW_HANDLER_MS 6000

static void slow_handler(dpf_bus_msg *m, void *closure)
{
    slow *sl = closure;
    pthread_mutex_lock(&sl->mu);
    sl->started = 1;
    pthread_mutex_unlock(&sl->mu);
    usleep(SLOW_HANDLER_MS * 1000);
    int acked = dpf_bus_msg_ack(m) == DPF_OK;
    dpf_bus_msg_destroy(m);
    pthread_mutex_lock(&sl->mu);
    sl->acked = acked;
    sl->finished = 1;
    pthread_mutex_unlock(&sl->mu);
}

static void test_destroy_waits_for_running_handler(void **state)
{
    char subject[128], durable[64];
    snprintf(subject, sizeof subject, "dp.ins.%s.slow", tag);
    snprintf(durable, sizeof durable, "%s-slow", tag);
    slow *sl = calloc(1, sizeof *sl); /* freed after destroy, as hman frees its service */
    assert_non_null(sl);
    pthread_mutex_init(&sl->mu, NULL);
    dpf_bus_sub_opts o = sub_opts(subject, durable);
    o.ack_wait_ms = 30000;
    dpf_bus_sub *sub = NULL;
    assert_int_equal(dpf_bus_subscribe(bus, &o, slow_handler, sl, &sub), DPF_OK);
    assert_int_equal(dpf_bus_publish(bus, subject, "slow", 4, NULL, NULL), DPF_OK);
    int started = 0;
    for (int i = 0; i < 500 && !started; i++) {
        usleep(10000);
        pthread_mutex_lock(&sl->mu);
        started = sl->started;
        pthread_mutex_unlock(&sl->mu);
    }
    assert_true(started);

    dpf_capture_begin();
    int64_t t0 = dpf_mono_us();
    dpf_bus_sub_destroy(sub);
    int64_t took_ms = (dpf_mono_us() - t0) / 1000;
    char *log = dpf_capture_end();
    pthread_mutex_lock(&sl->mu);
    int finished = sl->finished, acked = sl->acked;
    pthread_mutex_unlock(&sl->mu);
    /* destroy came back only once the handler was done with sl */
    assert_int_equal(finished, 1);
    assert_int_equal(acked, 1);
    assert_true(took_ms >= SLOW_HANDLER_MS - 1000);
    /* and said meanwhile what it was waiting for, naming the subscription */
    char want[160];
    snprintf(want, sizeof want, "Closing subscription DPF_EVENTS/%s: still waiting for its handler",
             durable);
    if (strstr(log, want) == NULL)
        fail_msg("no line '%s' in:\n%s", want, log);
    free(log);
    pthread_mutex_destroy(&sl->mu);
    free(sl);

    /* the handler's ack, sent after destroy began, still counted: the
     * consumer holds nothing pending or unacknowledged */
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    for (int i = 0; i < 50; i++) {
        jsConsumerInfo_Destroy(ci);
        ci = NULL;
        assert_int_equal(js_GetConsumerInfo(&ci, admin_js, "DPF_EVENTS", durable, NULL, &jerr),
                         NATS_OK);
        if (ci->NumPending == 0 && ci->NumAckPending == 0)
            break;
        usleep(100000);
    }
    assert_int_equal((int)ci->NumPending, 0);
    assert_int_equal((int)ci->NumAckPending, 0);
    assert_int_equal((int)ci->Delivered.Consumer, 1);
    jsConsumerInfo_Destroy(ci);
    delete_consumer(durable);
}

static void test_watch_stream(void **state)
{
    char subject[128], pattern[128];
    snprintf(subject, sizeof subject, "statmsg.%s.TEST.1", tag);
    snprintf(pattern, sizeof pattern, "statmsg.%s.>", tag);
    assert_int_equal(dpf_bus_publish(bus, subject, "old", 3, NULL, NULL), DPF_OK);

    seen all, fresh;
    seen_init(&all, ACK);
    seen_init(&fresh, ACK);
    who wa = {&all, 0}, wf = {&fresh, 0};
    dpf_bus_sub *sa = NULL, *sf = NULL;
    assert_int_equal(dpf_bus_watch_stream(bus, "DPF_STATMSG", pattern, 0, handle, &wa, &sa),
                     DPF_OK);
    assert_int_equal(dpf_bus_watch_stream(bus, "DPF_STATMSG", pattern, 1, handle, &wf, &sf),
                     DPF_OK);
    assert_int_equal(wait_count(&all, 1, 5000), 1);
    assert_string_equal(all.last_data, "old");
    assert_int_equal(dpf_bus_publish(bus, subject, "new", 3, NULL, "w"), DPF_OK);
    assert_int_equal(wait_count(&all, 2, 5000), 2);
    assert_int_equal(wait_count(&fresh, 1, 5000), 1);
    assert_string_equal(fresh.last_data, "new");
    assert_string_equal(fresh.last_corr, "w");
    dpf_bus_sub_destroy(sa);
    dpf_bus_sub_destroy(sf);
    seen_free(&all);
    seen_free(&fresh);
}

/* Fetches one message within timeout_ms; asserts it came. */
static dpf_bus_msg *fetch_one(dpf_bus_pull *p, int timeout_ms)
{
    dpf_bus_msg *m = NULL;
    assert_int_equal(dpf_bus_pull_fetch(p, timeout_ms, &m), DPF_OK);
    assert_non_null(m);
    return m;
}

static void test_pull_one_at_a_time(void **state)
{
    char subject[128], durable[64];
    snprintf(subject, sizeof subject, "dp.ins.%s.pull", tag);
    snprintf(durable, sizeof durable, "%s-pull", tag);
    dpf_bus *bus2 = NULL;
    assert_int_equal(dpf_bus_connect(dpf_test_env("NATS_URL"), "test_bus_pull", &bus2), DPF_OK);
    /* left by an older deployment: a push consumer of the same name */
    seen s;
    seen_init(&s, ACK);
    who w = {&s, 0};
    dpf_bus_sub_opts o = sub_opts(subject, durable);
    dpf_bus_sub *sub = NULL;
    assert_int_equal(dpf_bus_subscribe(bus, &o, handle, &w, &sub), DPF_OK);
    dpf_bus_sub_destroy(sub);

    o.max_ack_pending = 0; /* the default: no consumer-wide brake chosen by one replica */
    dpf_bus_pull *a = NULL, *b = NULL;
    assert_int_equal(dpf_bus_pull_create(bus, &o, &a), DPF_OK);
    assert_int_equal(dpf_bus_pull_create(bus2, &o, &b), DPF_OK);
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    assert_int_equal(js_GetConsumerInfo(&ci, admin_js, "DPF_EVENTS", durable, NULL, &jerr),
                     NATS_OK);
    assert_true(ci->Config->DeliverSubject == NULL || ci->Config->DeliverSubject[0] == '\0');
    assert_int_equal(ci->Config->MaxAckPending, 10000);
    jsConsumerInfo_Destroy(ci);

    for (int i = 0; i < 3; i++) {
        char data[8];
        snprintf(data, sizeof data, "m%d", i);
        assert_int_equal(dpf_bus_publish(bus, subject, data, 2, NULL, "corr-pull"), DPF_OK);
    }
    /* each fetch takes one message; a message fetched and not ended is no
     * one else's */
    dpf_bus_msg *m0 = fetch_one(a, 2000), *m1 = fetch_one(b, 2000), *m2 = fetch_one(a, 2000);
    char got[3][8];
    dpf_bus_msg *ms[3] = {m0, m1, m2};
    for (int i = 0; i < 3; i++)
        snprintf(got[i], sizeof got[i], "%.*s", (int)dpf_bus_msg_len(ms[i]),
                 (const char *)dpf_bus_msg_data(ms[i]));
    assert_string_not_equal(got[0], got[1]);
    assert_string_not_equal(got[0], got[2]);
    assert_string_not_equal(got[1], got[2]);
    assert_string_equal(dpf_bus_msg_corr(m1), "corr-pull");
    assert_int_equal(dpf_bus_msg_deliveries(m1), 1);
    dpf_bus_msg *none = NULL;
    assert_int_equal(dpf_bus_pull_fetch(b, 300, &none), DPF_ERR_TIMEOUT);
    assert_null(none);

    /* nak with a delay: back to the next fetch after it, delivery 2 */
    assert_int_equal(dpf_bus_msg_ack(m0), DPF_OK);
    assert_int_equal(dpf_bus_msg_nak(m1, 300), DPF_OK);
    assert_int_equal(dpf_bus_msg_in_progress(m2), DPF_OK);
    assert_int_equal(dpf_bus_msg_ack(m2), DPF_OK);
    int64_t t0 = dpf_mono_us();
    dpf_bus_msg *again = fetch_one(a, 3000);
    assert_true(dpf_mono_us() - t0 >= 200 * 1000);
    assert_int_equal(dpf_bus_msg_deliveries(again), 2);
    assert_memory_equal(dpf_bus_msg_data(again), got[1], 2);
    assert_int_equal(dpf_bus_msg_ack(again), DPF_OK);
    for (int i = 0; i < 3; i++)
        dpf_bus_msg_destroy(ms[i]);
    dpf_bus_msg_destroy(again);
    assert_int_equal(dpf_bus_pull_fetch(a, 300, &none), DPF_ERR_TIMEOUT);

    /* the replicas going away leave the consumer for the others */
    dpf_bus_pull_destroy(a);
    dpf_bus_pull_destroy(b);
    ci = NULL;
    assert_int_equal(js_GetConsumerInfo(&ci, admin_js, "DPF_EVENTS", durable, NULL, &jerr),
                     NATS_OK);
    assert_int_equal((int)ci->NumAckPending, 0);
    jsConsumerInfo_Destroy(ci);
    delete_consumer(durable);
    dpf_bus_destroy(bus2);
    seen_free(&s);
}

static void test_pull_recreates_lost_consumer(void **state)
{
    char subject[128], durable[64];
    snprintf(subject, sizeof subject, "dp.dpn.%s.pull-lost", tag);
    snprintf(durable, sizeof durable, "%s-pull-lost", tag);
    dpf_bus_sub_opts o = sub_opts(subject, durable);
    dpf_bus_pull *p = NULL;
    assert_int_equal(dpf_bus_pull_create(bus, &o, &p), DPF_OK);
    /* JetStream loses the consumer (as after a restart without its store) */
    delete_consumer(durable);
    assert_int_equal(dpf_bus_publish(bus, subject, "35", 2, NULL, NULL), DPF_OK);
    dpf_bus_msg *m = NULL;
    dpf_status st = DPF_ERR_TIMEOUT;
    int64_t t0 = dpf_mono_us();
    while (st != DPF_OK && dpf_mono_us() - t0 < 10 * 1000000LL)
        st = dpf_bus_pull_fetch(p, 500, &m);
    assert_int_equal(st, DPF_OK);
    assert_memory_equal(dpf_bus_msg_data(m), "35", 2);
    assert_int_equal(dpf_bus_msg_ack(m), DPF_OK);
    dpf_bus_msg_destroy(m);
    dpf_bus_pull_destroy(p);
    delete_consumer(durable);
}

static void test_bad_arguments(void **state)
{
    dpf_bus_sub *sub = NULL;
    dpf_bus_sub_opts o = sub_opts("dp.ins.x", "has.dot");
    assert_int_equal(dpf_bus_subscribe(bus, &o, handle, NULL, &sub), DPF_ERR_INVALID);
    assert_null(sub);
    dpf_bus_pull *pull = NULL;
    assert_int_equal(dpf_bus_pull_create(bus, &o, &pull), DPF_ERR_INVALID);
    assert_null(pull);
    dpf_bus_pull_destroy(NULL);
    assert_int_equal(dpf_bus_publish(NULL, "x", "", 0, NULL, NULL), DPF_ERR_INVALID);
    /* a subject no stream holds: JetStream has no responder for it */
    assert_int_equal(dpf_bus_publish(bus, "nostream.x", "1", 1, NULL, NULL), DPF_ERR_NO_STREAM);
    dpf_bus_destroy(NULL);
    dpf_bus_sub_destroy(NULL);
    dpf_bus_msg_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ensure_streams_twice),
        cmocka_unit_test(test_dedup_by_msg_id),
        cmocka_unit_test(test_queue_shares_work),
        cmocka_unit_test(test_nak_redelivers),
        cmocka_unit_test(test_term_stops_redelivery),
        cmocka_unit_test(test_no_ack_redelivers_after_ack_wait),
        cmocka_unit_test(test_consumer_brought_to_config),
        cmocka_unit_test(test_correlation_header),
        cmocka_unit_test(test_request_reply),
        cmocka_unit_test(test_destroy_from_handler),
        cmocka_unit_test(test_destroy_waits_for_running_handler),
        cmocka_unit_test(test_watch_stream),
        cmocka_unit_test(test_pull_one_at_a_time),
        cmocka_unit_test(test_pull_recreates_lost_consumer),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/* A processing thread and its queue (the DP upgrade processing thread, the
 * DP manager thread, the package transfer and content validation threads).
 * The reconcile (and, without a pull consumer, the nats.c callback) only
 * append to the queue; this one thread decides what runs next, fetches one
 * message from its pull consumer whenever a worker of its pool is free and
 * nothing queued can run, waits for a free worker when all are busy, and
 * keeps the waiting messages alive (JetStream "in progress") so a long
 * queue does not turn into redeliveries. Network calls (fetch, in-progress,
 * ack, nak) are made without the queue lock: only this thread removes nodes
 * from the queue, so the messages it reads outside the lock stay put.
 *
 * For a kind that coalesces (the package transfer), a wake-up for a package
 * that already has a queued, not yet started item adds no second pass: see
 * coalesce(). */
#include "processing_thread.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dpf/log.h>
#include <dpf/util.h>

#include "item.h"
#include "step_runner.h"

/* How long the thread waits for a worker before it re-checks its stop flag
 * and keeps queued messages alive. */
#define WAIT_SLICE_MS 500
/* A free worker may be a moment from being back in the pool (its job has
 * returned, the pool has not yet marked it idle): a wait this short is not
 * announced as "All N threads are busy". */
#define QUIET_WAIT_MS 100
/* How long one fetch waits for a message; the reconcile's items wait at
 * most this long behind it. */
#define FETCH_WAIT_MS 500
/* A coalescing kind drains a backlog before it starts the next pass: while
 * fetches return messages at once (a fetch waits at most DRAIN_WAIT_MS),
 * up to DRAIN_MAX of them, so a burst of wake-ups for a package meets that
 * package's queued item and is covered by it instead of each starting a
 * pass the moment a worker is free. */
#define DRAIN_WAIT_MS 20
#define DRAIN_MAX 2000

typedef struct node {
    struct node *next;
    dm_item item;
} node;

struct dm_proc {
    const dm_ctx *ctx;
    const dm_proc_kind *kind;
    dm_pool *pool;
    int limit;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    node *head, *tail;
    int queued;
    long long *inflight;     /* DPIDs handed over (or about to be); 0 = free slot */
    int inflight_cap;
    uint64_t tid;
    int running;             /* jobs handed to workers and not yet returned */
    int stop;
    int64_t last_keepalive_us;
    dpf_bus_pull *pull;      /* NULL: fed by dm_proc_on_msg */
    int draining;            /* coalescing kind: messages fetched in this drain */
    long long coalesced;     /* wake-ups covered by a queued item */
};

typedef struct job {
    dm_proc *u;
    node *n;
} job;

static int inflight_has(const dm_proc *u, long long dpid)
{
    for (int i = 0; i < u->inflight_cap; i++) {
        if (u->inflight[i] == dpid)
            return 1;
    }
    return 0;
}

/* Replaces from (0: a free slot) by to. Taking a slot grows the table when
 * it is full; 0 when that fails (no memory), and the caller must not hand
 * the item over. Lock held. */
static int inflight_set(dm_proc *u, long long from, long long to)
{
    for (int i = 0; i < u->inflight_cap; i++) {
        if (u->inflight[i] == from) {
            u->inflight[i] = to;
            return 1;
        }
    }
    if (from != 0)
        return 1; /* clearing a DPID that is not there: nothing to do */
    int cap = u->inflight_cap * 2;
    long long *grown = realloc(u->inflight, (size_t)cap * sizeof *grown);
    if (grown == NULL) {
        DPF_ERROR("%s: out of memory tracking DP %lld in flight", u->kind->name, to);
        return 0;
    }
    for (int i = u->inflight_cap; i < cap; i++)
        grown[i] = 0;
    grown[u->inflight_cap] = to;
    u->inflight = grown;
    u->inflight_cap = cap;
    return 1;
}

static void append(dm_proc *u, node *n)
{
    n->next = NULL;
    if (u->tail != NULL)
        u->tail->next = n;
    else
        u->head = n;
    u->tail = n;
    u->queued++;
    pthread_cond_signal(&u->cv);
}

/* The first item that may run now: undecodable ones always may; others only
 * when their DP is not in flight. Lock held. */
static node *take_runnable(dm_proc *u)
{
    node *prev = NULL;
    for (node *n = u->head; n != NULL; prev = n, n = n->next) {
        if (n->item.dpid != 0 && inflight_has(u, n->item.dpid))
            continue;
        if (prev != NULL)
            prev->next = n->next;
        else
            u->head = n->next;
        if (u->tail == n)
            u->tail = prev;
        u->queued--;
        return n;
    }
    return NULL;
}

/* Messages waiting in the queue (and held) would pass the consumer's ack
 * wait while all workers are busy; tell JetStream they are in progress.
 * Processing thread only, lock not held: the pointers are copied under the
 * lock, and the nodes stay until this same thread takes them. */
static void keepalive(dm_proc *u, node *held)
{
    int64_t now = dpf_mono_us();
    int64_t every = (int64_t)u->ctx->ack_wait_ms * 1000 / 3;
    pthread_mutex_lock(&u->mu);
    if (now - u->last_keepalive_us < every) {
        pthread_mutex_unlock(&u->mu);
        return;
    }
    u->last_keepalive_us = now;
    int n = 0;
    node **list = malloc((size_t)(u->queued + 1) * sizeof *list);
    for (node *q = u->head; q != NULL && list != NULL; q = q->next) {
        if (q->item.msg != NULL)
            list[n++] = q;
    }
    pthread_mutex_unlock(&u->mu);
    if (held != NULL && held->item.msg != NULL && list != NULL)
        list[n++] = held;
    for (int i = 0; i < n; i++) {
        if (dpf_bus_msg_in_progress(list[i]->item.msg) != DPF_OK)
            DPF_DEBUG("%s: in-progress for DPID %lld failed", u->kind->name,
                      list[i]->item.dpid);
    }
    free(list);
}

static void give_back(node *n)
{
    if (n->item.msg != NULL) {
        if (dpf_bus_msg_nak(n->item.msg, 0) != DPF_OK)
            DPF_DEBUG("nak of DPID %lld at shutdown failed; JetStream redelivers it after "
                      "the ack wait", n->item.dpid);
        dpf_bus_msg_destroy(n->item.msg);
    }
    free(n);
}

static void run_job(void *arg, void **wstate)
{
    (void)wstate; /* connections come from the pool, not the worker */
    job *j = arg;
    dm_proc *u = j->u;
    node *n = j->n;
    free(j);
    dm_item *it = &n->item;
    dpf_log_set_corr(it->corr);
    dpf_log_set_dpid(it->dpid); /* the "dpid" of the job's JSON log records */
    dm_item_new_token(u->ctx, it);
    /* the job borrows connections from the replica's pool into db */
    dpf_db *db = NULL;
    dm_outcome o = it->bad[0] != '\0' ? dm_item_report_bad(u->ctx, it, &db)
                                      : u->kind->handle(u->ctx, it, &db);
    dm_item_db_put(u->ctx, &db);
    dm_item_token_done(it);
    /* the one place an item's message is ended */
    dm_item_end(it, &o);
    if (o.kind == DM_RETRY)
        DPF_DEBUG("%s: DPID %lld (%s) again in %d ms: %s", u->kind->name, it->dpid,
                  it->subject, o.delay_ms, o.reason);
    else if (o.kind == DM_GIVE_UP)
        DPF_DEBUG("%s: gave up on %s: %s", u->kind->name, it->subject, o.reason);
    long long dpid = it->dpid;
    free(n);
    /* the last touch of u: dm_proc_destroy waits for running to be 0 */
    pthread_mutex_lock(&u->mu);
    if (dpid != 0)
        inflight_set(u, dpid, 0);
    u->running--;
    pthread_cond_broadcast(&u->cv);
    pthread_mutex_unlock(&u->mu);
}

typedef struct announce_arg {
    const dm_proc *u;
    const char *verb;
    const char *what;
    const char *id;
} announce_arg;

/* The source's hand-over line, logged before the worker starts. */
static void announce(void *arg, const dm_pool_assign *a)
{
    const announce_arg *x = arg;
    DPF_INFO("%s: %s %s %s. Thread 0x%llx. Used %d threads out of %d.", x->u->kind->name,
             x->verb, x->what, x->id, (unsigned long long)a->tid, a->used, x->u->limit);
    if (a->new_peak)
        DPF_INFO("%s: peak %d threads in use out of %d", x->u->kind->name, a->used, x->u->limit);
}

/* Hands n to a worker, waiting for one if needed. Lock not held. 0 when the
 * service is stopping and n was not handed over. */
/* The job a kind's items are on the timeline (dm_step_trace_queued). */
static const char *trace_job(const dm_proc_kind *k)
{
    if (strcmp(k->verb, "Removing") == 0)
        return "remove";
    if (strcmp(k->verb, "Validating") == 0)
        return "validate";
    return "install";
}

static int dispatch(dm_proc *u, node *n)
{
    char id[160];
    int good = n->item.dpid != 0;
    announce_arg arg = {u, good ? u->kind->verb : "Reporting",
                        good ? (u->kind->noun ? u->kind->noun : "DP with ID")
                             : "an undecodable message on", id};
    if (n->item.dpid != 0)
        snprintf(id, sizeof id, "%lld", n->item.dpid);
    else
        snprintf(id, sizeof id, "%s", n->item.subject);
    job *j = malloc(sizeof *j);
    if (j == NULL)
        return 0;
    j->u = u;
    j->n = n;
    /* this thread's lines about the item carry its correlation id and DP */
    dpf_log_set_corr(n->item.corr);
    dpf_log_set_dpid(n->item.dpid);
    pthread_mutex_lock(&u->mu);
    u->running++;
    pthread_mutex_unlock(&u->mu);
    int waited = 0, handed = 0;
    for (;;) {
        /* the first try waits only a moment, so any real wait is announced */
        dpf_status st = dm_pool_submit(u->pool, run_job, j,
                                       waited ? WAIT_SLICE_MS : QUIET_WAIT_MS, announce, &arg,
                                       NULL);
        if (st == DPF_OK) {
            handed = 1;
            break;
        }
        if (st != DPF_ERR_BUSY) {
            DPF_ERROR("%s: cannot start a worker thread (%s), retrying", u->kind->name,
                      dpf_status_text(st));
            struct timespec pause = {0, WAIT_SLICE_MS * 1000000L};
            nanosleep(&pause, NULL);
        } else if (!waited) {
            DPF_INFO("%s: All %d threads are busy, %s %s waits for a free thread.",
                     u->kind->name, u->limit, arg.what, id);
            /* "Waiting: ..." on the DP's timeline (one row per DP that waits) */
            if (good && u->kind->noun == NULL)
                dm_step_trace_queued(u->ctx, &n->item, trace_job(u->kind), u->kind->name,
                                     u->limit);
        }
        waited = 1;
        pthread_mutex_lock(&u->mu);
        int stop = u->stop;
        pthread_mutex_unlock(&u->mu);
        keepalive(u, n);
        if (stop) {
            free(j);
            break;
        }
    }
    if (!handed) {
        pthread_mutex_lock(&u->mu);
        u->running--;
        pthread_mutex_unlock(&u->mu);
    }
    dpf_log_set_corr(NULL);
    dpf_log_set_dpid(0);
    return handed;
}

/* Queues n, or, when the kind coalesces and an item for the same DPID
 * (package) waits in the queue not yet started, lets that item cover it.
 * Why the duplicate may be acknowledged at once (the database is the truth,
 * events are wake-ups): the wake-up is published only after the change it
 * announces has committed (dbmon's outbox), and the queued item has not
 * started, so when it starts it reads the package and its DP rows as they
 * are then, which includes that change; the duplicate would run the same
 * pass over the same rows. Only a not yet started item covers: an item
 * already running may have read the rows before the change, so a wake-up
 * for a package in flight is queued behind it as before (at most one
 * running and one queued pass per package). If this replica dies before
 * the queued item runs, its own message is redelivered (or, for a
 * reconcile item, the start-up reconcile finds the package again); a
 * queued reconcile item (no message) takes the duplicate's message over
 * instead, so the work stays backed by JetStream. Lock held; returns the
 * node whose message the caller acknowledges outside the lock, or NULL. */
static node *coalesce(dm_proc *u, node *n)
{
    if (!u->kind->coalesce || n->item.dpid == 0 || n->item.bad[0] != '\0' ||
        n->item.msg == NULL) {
        append(u, n);
        return NULL;
    }
    for (node *q = u->head; q != NULL; q = q->next) {
        if (q->item.dpid != n->item.dpid || q->item.bad[0] != '\0')
            continue;
        u->coalesced++;
        if (q->item.msg == NULL) {
            q->item.msg = n->item.msg;
            memcpy(q->item.corr, n->item.corr, sizeof q->item.corr);
            memcpy(q->item.subject, n->item.subject, sizeof q->item.subject);
            free(n);
            return NULL;
        }
        return n;
    }
    append(u, n);
    return NULL;
}

/* Acknowledges a wake-up that a queued item covers (coalesce). Lock not
 * held. */
static void ack_covered(dm_proc *u, node *dup)
{
    if (dup == NULL)
        return;
    DPF_DEBUG("%s: wake-up %s for %s %lld is covered by the queued one", u->kind->name,
              dup->item.subject, u->kind->noun ? u->kind->noun : "DP with ID", dup->item.dpid);
    dm_outcome o = dm_outcome_done();
    dm_item_end(&dup->item, &o);
    free(dup);
}

/* A received message as a queue node (decoded). NULL without memory (the
 * message is then left for redelivery). */
static node *node_from_msg(dm_proc *u, dpf_bus_msg *msg)
{
    node *n = calloc(1, sizeof *n);
    if (n == NULL) {
        /* redelivered after the ack wait; nothing better to do without memory */
        DPF_ERROR("%s: out of memory queueing a message on %s", u->kind->name,
                  dpf_bus_msg_subject(msg));
        dpf_bus_msg_destroy(msg);
        return NULL;
    }
    n->item.msg = msg;
    snprintf(n->item.subject, sizeof n->item.subject, "%s", dpf_bus_msg_subject(msg));
    snprintf(n->item.corr, sizeof n->item.corr, "%s", dpf_bus_msg_corr(msg));
    if (n->item.corr[0] == '\0')
        dpf_uuid(n->item.corr); /* so this install's lines can still be followed together */
    u->kind->decode(dpf_bus_msg_data(msg), dpf_bus_msg_len(msg), n->item.subject, &n->item);
    return n;
}

/* Whether to ask the consumer for a message: the queue holds nothing that
 * could run (what waits there waits for its DP to be done), not more than a
 * pool's worth waits, and a worker is free, or all are busy and no message
 * is yet next in line: as in the source, one DP waits for a free thread
 * ("All 50 threads are busy, DP with ID 33 waits for a free thread.") and
 * starts the moment one is free; the rest stay in the consumer for
 * whichever replica has a free thread first. Lock held. */
static int want_fetch(const dm_proc *u)
{
    /* a coalescing kind queues at most one item per package (and a second
     * while one runs), so it may hold twice as many: a burst for one
     * package then never keeps another package's wake-ups out */
    int cap = u->kind->coalesce ? 2 * u->limit : u->limit;
    return u->pull != NULL && u->running <= u->limit && u->queued < cap;
}

/* One fetch waiting up to wait_ms, lock not held; the message (if any) is
 * queued or covered. 1 if a message came. */
static int fetch_one(dm_proc *u, int wait_ms)
{
    dpf_bus_msg *msg = NULL;
    if (dpf_bus_pull_fetch(u->pull, wait_ms, &msg) != DPF_OK)
        return 0; /* nothing came, or NATS is away (logged by the bus; the call waited) */
    node *n = node_from_msg(u, msg);
    if (n == NULL)
        return 1;
    pthread_mutex_lock(&u->mu);
    node *dup = coalesce(u, n);
    pthread_mutex_unlock(&u->mu);
    ack_covered(u, dup);
    return 1;
}

/* For a coalescing kind: after a fetch brought a message, goes on fetching
 * (short waits) until none comes at once or DRAIN_MAX came, before anything
 * queued is started. Lock held; 1 when it fetched (the caller loops). */
static int drain(dm_proc *u)
{
    if (!u->kind->coalesce || u->draining == 0 || !want_fetch(u))
        return 0;
    pthread_mutex_unlock(&u->mu);
    int got = fetch_one(u, DRAIN_WAIT_MS);
    keepalive(u, NULL);
    pthread_mutex_lock(&u->mu);
    u->draining = got && u->draining < DRAIN_MAX ? u->draining + 1 : 0;
    return 1;
}

static void *thread_main(void *arg)
{
    dm_proc *u = arg;
    pthread_mutex_lock(&u->mu);
    u->tid = dpf_log_tid();
    pthread_cond_broadcast(&u->cv);
    pthread_mutex_unlock(&u->mu);
    DPF_INFO("%s: Started, will perform any pending work then will wait for additional work.",
             u->kind->name);

    pthread_mutex_lock(&u->mu);
    while (!u->stop) {
        if (drain(u))
            continue;
        node *n = take_runnable(u);
        if (n == NULL) {
            if (want_fetch(u)) {
                pthread_mutex_unlock(&u->mu);
                int got = fetch_one(u, FETCH_WAIT_MS);
                keepalive(u, NULL);
                pthread_mutex_lock(&u->mu);
                if (got)
                    u->draining = 1;
                continue;
            }
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            pthread_cond_timedwait(&u->cv, &u->mu, &ts);
            pthread_mutex_unlock(&u->mu);
            keepalive(u, NULL);
            pthread_mutex_lock(&u->mu);
            continue;
        }
        if (n->item.dpid != 0 && !inflight_set(u, 0, n->item.dpid)) {
            pthread_mutex_unlock(&u->mu);
            give_back(n);
            pthread_mutex_lock(&u->mu);
            continue;
        }
        long long dpid = n->item.dpid;
        pthread_mutex_unlock(&u->mu);
        int handed = dispatch(u, n);
        if (!handed)
            give_back(n);
        pthread_mutex_lock(&u->mu);
        if (!handed && dpid != 0)
            inflight_set(u, dpid, 0);
    }
    node *rest = u->head;
    u->head = u->tail = NULL;
    u->queued = 0;
    pthread_mutex_unlock(&u->mu);
    /* given back outside the lock: a nak is a network call */
    while (rest != NULL) {
        node *n = rest;
        rest = n->next;
        give_back(n);
    }
    return NULL;
}

dpf_status dm_proc_create(const dm_ctx *ctx, const dm_proc_kind *kind, dm_pool *pool,
                          int limit, dm_proc **out)
{
    dm_proc *u = calloc(1, sizeof *u);
    if (u == NULL)
        return DPF_ERR_NOMEM;
    /* one slot per worker, plus the item waiting for a worker */
    u->inflight_cap = limit + 1;
    u->inflight = calloc((size_t)u->inflight_cap, sizeof *u->inflight);
    if (u->inflight == NULL) {
        free(u);
        return DPF_ERR_NOMEM;
    }
    u->ctx = ctx;
    u->kind = kind;
    u->pool = pool;
    u->limit = limit;
    pthread_mutex_init(&u->mu, NULL);
    pthread_cond_init(&u->cv, NULL);
    u->last_keepalive_us = dpf_mono_us();
    pthread_mutex_lock(&u->mu);
    if (pthread_create(&u->thread, NULL, thread_main, u) != 0) {
        pthread_mutex_unlock(&u->mu);
        pthread_cond_destroy(&u->cv);
        pthread_mutex_destroy(&u->mu);
        free(u->inflight);
        free(u);
        return DPF_ERR_IO;
    }
    while (u->tid == 0)
        pthread_cond_wait(&u->cv, &u->mu);
    DPF_INFO("~Starting the %s, thread ID = 0x%llX (%llu)", kind->name,
             (unsigned long long)u->tid, (unsigned long long)u->tid);
    pthread_mutex_unlock(&u->mu);
    *out = u;
    return DPF_OK;
}

void dm_proc_destroy(dm_proc *u)
{
    if (u == NULL)
        return;
    pthread_mutex_lock(&u->mu);
    u->stop = 1;
    pthread_cond_broadcast(&u->cv);
    pthread_mutex_unlock(&u->mu);
    dm_pool_kick(u->pool);
    pthread_join(u->thread, NULL);
    /* No fetch runs now: drop the pull subscription before the running
     * jobs give their messages back. The server keeps this replica's last
     * pull request a moment after the fetch that sent it has returned, and
     * a message nak'd meanwhile (a job stopped mid-install) went to it,
     * where nothing took it: the other replicas got it only after the ack
     * wait (AgentStepTimeoutSeconds + 30 s). With no subscription left the
     * server drops that request and hands the message on at once. */
    dpf_bus_pull_destroy(u->pull);
    u->pull = NULL;
    /* workers still running a job come back to u when they finish */
    pthread_mutex_lock(&u->mu);
    while (u->running > 0)
        pthread_cond_wait(&u->cv, &u->mu);
    pthread_mutex_unlock(&u->mu);
    pthread_cond_destroy(&u->cv);
    pthread_mutex_destroy(&u->mu);
    free(u->inflight);
    free(u);
}

void dm_proc_on_msg(dpf_bus_msg *msg, void *closure)
{
    dm_proc *u = closure;
    node *n = node_from_msg(u, msg);
    if (n == NULL)
        return;
    pthread_mutex_lock(&u->mu);
    if (u->stop) {
        pthread_mutex_unlock(&u->mu);
        give_back(n);
        return;
    }
    node *dup = coalesce(u, n);
    pthread_mutex_unlock(&u->mu);
    ack_covered(u, dup);
}

void dm_proc_set_pull(dm_proc *u, dpf_bus_pull *pull)
{
    pthread_mutex_lock(&u->mu);
    u->pull = pull;
    pthread_cond_signal(&u->cv);
    pthread_mutex_unlock(&u->mu);
}

int dm_proc_push_dpid(dm_proc *u, long long dpid, const char *reason, const char *corr)
{
    if (dpid <= 0)
        return 0;
    pthread_mutex_lock(&u->mu);
    int known = u->stop || inflight_has(u, dpid);
    for (node *q = u->head; q != NULL && !known; q = q->next)
        known = q->item.dpid == dpid;
    if (known) {
        pthread_mutex_unlock(&u->mu);
        return 0;
    }
    node *n = calloc(1, sizeof *n);
    if (n == NULL) {
        pthread_mutex_unlock(&u->mu);
        return 0;
    }
    n->item.dpid = dpid;
    snprintf(n->item.reason, sizeof n->item.reason, "%s", reason);
    snprintf(n->item.subject, sizeof n->item.subject, "reconcile");
    if (corr != NULL && *corr != '\0')
        snprintf(n->item.corr, sizeof n->item.corr, "%s", corr);
    else
        dpf_uuid(n->item.corr);
    append(u, n);
    pthread_mutex_unlock(&u->mu);
    return 1;
}

long long dm_proc_coalesced(dm_proc *u)
{
    pthread_mutex_lock(&u->mu);
    long long n = u->coalesced;
    pthread_mutex_unlock(&u->mu);
    return n;
}

int dm_proc_queued(dm_proc *u)
{
    pthread_mutex_lock(&u->mu);
    int n = u->queued;
    pthread_mutex_unlock(&u->mu);
    return n;
}

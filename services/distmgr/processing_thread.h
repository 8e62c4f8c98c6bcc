/* A processing thread: one thread that takes DPs from a queue (messages and
 * reconcile findings) and hands each to a worker of its pool, logging the
 * source's hand-over line. distmgr runs two: the DP upgrade processing
 * thread (dp.ins, "Upgrading DP with ID 32. Thread 0x12b4. Used 1 threads
 * out of 50.") and the DP manager thread (dp.dpn, removals). Neither runs
 * two items for the same DP at once: an item whose DP is in flight waits in
 * the queue until that DP is done. */
#ifndef DM_PROCESSING_THREAD_H
#define DM_PROCESSING_THREAD_H

#include <dpf/bus.h>
#include <dpf/status.h>

#include "distmgr.h"
#include "worker_pool.h"

typedef struct dm_proc dm_proc;

/* What a processing thread is for. Strings are static. */
typedef struct dm_proc_kind {
    const char *name;    /* "DP upgrade processing thread", "DP manager thread" */
    const char *verb;    /* "Upgrading", "Removing" */
    dm_decode_fn decode; /* message body -> item (runs on the nats.c thread) */
    dm_handle_fn handle; /* runs on a worker */
    const char *noun;    /* what an item names: "DP with ID" (NULL: that), "package number" */
    /* 1: a message for a DPID (package) that already has a queued item not
     * yet started is acknowledged as covered by it instead of queueing a
     * second pass (the package transfer, whose handler reads the current
     * state when it starts); 0: every message is its own item. */
    int coalesce;
} dm_proc_kind;

/* Starts the thread; the pool's limit is what "Used k threads out of N"
 * reports. ctx, kind and pool borrowed; they must outlive the dm_proc.
 * *out owned by the caller (dm_proc_destroy). */
dpf_status dm_proc_create(const dm_ctx *ctx, const dm_proc_kind *kind, dm_pool *pool,
                          int limit, dm_proc **out) DPF_MUSTCHECK;

/* Stops the thread, destroys its pull (dm_proc_set_pull) and waits for the
 * jobs it handed to workers (they stop after their current step). Items
 * still queued are given back: their messages are nak'd without delay so
 * another replica takes them at once.
 * Destroy the pool after this. NULL is a no-op. */
void dm_proc_destroy(dm_proc *p);

/* A dpf_bus_handler for a push subscription feeding the thread (closure:
 * the dm_proc), the alternative to dm_proc_set_pull. Never blocks: decodes
 * and queues. msg consumed. */
void dm_proc_on_msg(dpf_bus_msg *msg, void *closure);

/* Feeds the thread from a pull consumer: it fetches one message whenever a
 * worker of its pool is free and nothing queued can run, so what this
 * replica takes depends on its own free workers. Set once; pull owned by
 * p from here on: dm_proc_destroy destroys it once the thread has stopped,
 * before the running jobs end (their nak'd messages then go to another
 * replica at once). */
void dm_proc_set_pull(dm_proc *p, dpf_bus_pull *pull);

/* Queues a DP found by the reconcile (no message to ack). Returns 1 if
 * queued, 0 if that DP is already queued or in flight. reason, corr
 * borrowed (corr may be NULL: a new one is made). */
int dm_proc_push_dpid(dm_proc *p, long long dpid, const char *reason, const char *corr);

/* Messages acknowledged as covered by a queued item (kind->coalesce). */
long long dm_proc_coalesced(dm_proc *p);

/* Items waiting in the queue (not yet handed to a worker). */
int dm_proc_queued(dm_proc *p);

#endif

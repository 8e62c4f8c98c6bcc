/* The DP upgrade processing thread: one thread that takes DPs from a queue
 * (dp.ins messages and reconcile findings) and hands each to a worker of the
 * pool, logging the source's "Upgrading DP with ID 32. Thread 0x12b4. Used 1
 * threads out of 50." It never runs two items for the same DP at once: an
 * item whose DP is in flight waits in the queue until that DP is done. */
#ifndef DM_UPGRADE_THREAD_H
#define DM_UPGRADE_THREAD_H

#include <dpf/bus.h>
#include <dpf/status.h>

#include "distmgr.h"
#include "worker_pool.h"

typedef struct dm_upgrade dm_upgrade;

/* Starts the thread. ctx and pool borrowed; both must outlive the
 * dm_upgrade. *out owned by the caller (dm_upgrade_destroy). */
dpf_status dm_upgrade_create(const dm_ctx *ctx, dm_pool *pool, dm_upgrade **out) DPF_MUSTCHECK;

/* Stops the thread and waits for the jobs it handed to workers (they stop
 * after their current step). Items still queued are given back: their
 * messages are nak'd without delay so another replica takes them at once.
 * Destroy the pool after this. NULL is a no-op. */
void dm_upgrade_destroy(dm_upgrade *u);

/* A dpf_bus_handler for the dp.ins subscription (closure: the dm_upgrade).
 * Never blocks: decodes and queues. msg consumed. */
void dm_upgrade_on_msg(dpf_bus_msg *msg, void *closure);

/* Queues a DP found by the reconcile (no message to ack). Returns 1 if
 * queued, 0 if that DP is already queued or in flight. reason, corr
 * borrowed (corr may be NULL: a new one is made). */
int dm_upgrade_push_dpid(dm_upgrade *u, long long dpid, const char *reason, const char *corr);

/* Items waiting in the queue (not yet handed to a worker). */
int dm_upgrade_queued(dm_upgrade *u);

#endif

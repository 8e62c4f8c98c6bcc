/* The reconcile: DPs that need work although no event may come (an event
 * lost, a crash mid-install, a failed install whose retries ran out,
 * components older than this distmgr's, a removal that failed or was cut
 * short) are queued for the DP upgrade processing thread or the DP manager
 * thread, at startup and every ReconcileIntervalSeconds. */
#ifndef DM_RECONCILE_H
#define DM_RECONCILE_H

#include <dpf/db.h>

#include "distmgr.h"
#include "processing_thread.h"

/* One pass. All borrowed; manager may be NULL (removals not handled).
 * after_outage: the pass that runs when NATS or PostgreSQL came back, which
 * also takes DPs Pending or Failed less than InstallRetryDelaySeconds ago
 * (their event or their retry may have been lost with the outage; a DP
 * that is also being worked on elsewhere is kept off by its lease).
 * Returns how many DPs were queued (-1 on a database error, already logged). */
int dm_reconcile_run(const dm_ctx *ctx, dpf_db *db, dm_proc *upgrade, dm_proc *manager,
                     int after_outage);

/* At startup, before the first pass: leases still held under this replica's
 * name are from before a crash of this replica (a restart under a stable
 * DPFLEET_REPLICA_NAME), so they are released and the first pass resumes
 * that work at once instead of after the lease runs out. Returns how many
 * (-1 on a database error, already logged). */
int dm_reconcile_reclaim(const dm_ctx *ctx, dpf_db *db);

#endif

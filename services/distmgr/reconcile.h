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
 * Returns how many DPs were queued (-1 on a database error, already logged). */
int dm_reconcile_run(const dm_ctx *ctx, dpf_db *db, dm_proc *upgrade, dm_proc *manager);

#endif

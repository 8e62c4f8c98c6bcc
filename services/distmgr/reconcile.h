/* The reconcile: DPs that need installing although no event may come (an
 * event lost, a crash mid-install, a failed install whose retries ran out,
 * components older than this distmgr's) are queued for the DP upgrade
 * processing thread, at startup and every ReconcileIntervalSeconds. */
#ifndef DM_RECONCILE_H
#define DM_RECONCILE_H

#include <dpf/db.h>

#include "distmgr.h"
#include "upgrade_thread.h"

/* One pass. db, ctx, up borrowed. Returns how many DPs were queued (-1 on a
 * database error, already logged). */
int dm_reconcile_run(const dm_ctx *ctx, dpf_db *db, dm_upgrade *up);

#endif

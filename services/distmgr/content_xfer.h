/* One transfer job: a claimed dp_packages row (store_pkg.h) carried to its
 * end on the DP's agent, the outcome recorded with its status message. */
#ifndef DM_CONTENT_XFER_H
#define DM_CONTENT_XFER_H

#include <dpf/db.h>

#include "distmgr.h"
#include "store_pkg.h"

/* Runs the job of row, which token claimed; db is the calling thread's
 * own connection. Never fails: every outcome (installed, removed, retrying,
 * failed, stopped) is recorded and logged. All borrowed. */
void dm_xfer_run(const dm_ctx *ctx, dpf_db *db, dm_dist_row *row, const char *token,
                 const char *corr);

#endif

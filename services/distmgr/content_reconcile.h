/* Content work found without an event, queued for the package transfer
 * thread (dm_proc keyed by package seq). */
#ifndef DM_CONTENT_RECONCILE_H
#define DM_CONTENT_RECONCILE_H

#include <dpf/db.h>

#include "distmgr.h"
#include "processing_thread.h"

/* One pass: returns how many packages were queued (-1 on a database error,
 * logged). All borrowed. */
int dm_content_reconcile(const dm_ctx *ctx, dpf_db *db, dm_proc *transfer);

/* At startup: releases the content leases this replica's jobs held before a
 * restart under the same name. Returns how many (-1 on error). */
int dm_content_reclaim(const dm_ctx *ctx, dpf_db *db);

#endif

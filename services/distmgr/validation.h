/* Content validation (issue 7): the content validation thread's handler for
 * dp.val.<dpid>, and the schedule the reconcile keeps. */
#ifndef DM_VALIDATION_H
#define DM_VALIDATION_H

#include <stddef.h>
#include <dpf/db.h>

#include "distmgr.h"
#include "processing_thread.h"

/* dp.val.<dpid> -> item (a DpNotification body). */
void dm_dp_val_decode(const void *data, size_t len, const char *subject, dm_item *it);

/* Validates the DP's content package by package (2380, then 2384 or 2383
 * each) under the DP's validation lease. */
dm_outcome dm_handle_dp_val(const dm_ctx *ctx, dm_item *it, dpf_db **db);

/* One pass: marks due validations requested (which queues dp.val) and
 * queues requested ones whose event was lost. Returns how many (-1 on a
 * database error, logged). All borrowed. */
int dm_validation_reconcile(const dm_ctx *ctx, dpf_db *db, dm_proc *validator);

#endif

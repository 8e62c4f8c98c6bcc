/* dp.ins.<dpid>: install or upgrade one DP (seed "DP installation" steps
 * 7-10, "DP upgrade" steps 3-6). */
#ifndef DM_HANDLE_DP_INS_H
#define DM_HANDLE_DP_INS_H

#include <stddef.h>
#include <dpf/db.h>

#include "distmgr.h"

/* Decodes a DpInstall body into it (dpid, change_id, reason); on failure
 * it->dpid is 0 and it->bad says why. subject (borrowed) must agree with the
 * body's DPID when it ends in one. Pure: no I/O. */
void dm_dp_ins_decode(const void *data, size_t len, const char *subject, dm_item *it);

/* A dm_handle_fn (distmgr.h): runs on a worker thread and does everything
 * for one decoded item; the outcome is DM_DONE once the effects are
 * committed (or there was nothing to do), DM_RETRY with a delay otherwise.
 * db: the worker's connection slot, connected on first use and kept for the
 * next item. */
dm_outcome dm_handle_dp_ins(const dm_ctx *ctx, dm_item *it, dpf_db **db);

#endif

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

/* Runs on a worker thread. Does everything for one item and ends its
 * message (ack after the effects are committed, nak with a delay to retry,
 * term for garbage), then destroys it. it: its msg is consumed, the struct
 * stays the caller's. db: the worker's connection slot, connected on first
 * use and kept for the next item. */
void dm_handle_dp_ins(const dm_ctx *ctx, dm_item *it, dpf_db **db);

#endif

/* dp.dpn.<dpid>: remove one DP that HMAN marked deleted (Action = 3) from
 * its host and from the database (seed "DP removal" step 5). */
#ifndef DM_HANDLE_DP_DPN_H
#define DM_HANDLE_DP_DPN_H

#include <stddef.h>
#include <dpf/db.h>

#include "distmgr.h"

/* Decodes a DpNotification body into it (dpid, change_id); on failure
 * it->dpid is 0 and it->bad says why. Pure. */
void dm_dp_dpn_decode(const void *data, size_t len, const char *subject, dm_item *it);

/* Runs on a worker of the DP manager. Same contract as dm_handle_dp_ins. */
dm_outcome dm_handle_dp_dpn(const dm_ctx *ctx, dm_item *it, dpf_db **db);

#endif

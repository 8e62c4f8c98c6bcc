/* The removal steps of one DP (seed "DP removal" step 5), in agent.h's
 * order, with the source's DistMgr.log lines. The caller holds the lease. */
#ifndef DM_REMOVE_STEPS_H
#define DM_REMOVE_STEPS_H

#include <dpf/db.h>

#include "distmgr.h"
#include "step_runner.h"
#include "store_dp.h"

/* Drives dp's agent through the removal steps. All borrowed. */
void dm_remove_run(const dm_ctx *ctx, dm_item *it, dpf_db **slot, const dm_dp_row *dp,
                   dm_steps_result *res);

#endif

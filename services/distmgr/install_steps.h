/* The install / upgrade steps of one DP, in agent.h's order, with the
 * source's milestones between them (ConfigureDP, ConfigurePXE,
 * ConfigurePullDP). The caller holds the DP's lease. */
#ifndef DM_INSTALL_STEPS_H
#define DM_INSTALL_STEPS_H

#include <dpf/db.h>

#include "distmgr.h"
#include "step_runner.h"
#include "store_dp.h"

/* Drives dp's agent through the install steps. it->msg (may be NULL) is
 * kept alive between steps and the lease renewed. All borrowed. */
void dm_install_run(const dm_ctx *ctx, dm_item *it, dpf_db **slot, const dm_dp_row *dp,
                    dm_steps_result *res);

#endif

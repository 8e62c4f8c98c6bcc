/* The install / upgrade steps of one DP, in agent.h's order, with the
 * source's milestones between them (ConfigureDP, ConfigurePXE,
 * ConfigurePullDP). The caller holds the DP's lease. */
#ifndef DM_INSTALL_STEPS_H
#define DM_INSTALL_STEPS_H

#include <dpf/db.h>

#include "distmgr.h"
#include "store_dp.h"

typedef enum dm_install_outcome {
    DM_INSTALL_OK = 0,     /* every step replied ok */
    DM_INSTALL_FAILED,     /* step failed with reason */
    DM_INSTALL_STOPPING,   /* the service is stopping; step is the next one */
    DM_INSTALL_LOST_LEASE, /* another replica took the DP over */
} dm_install_outcome;

typedef struct dm_install_result {
    dm_install_outcome outcome;
    char step[32];               /* the failed or next step */
    char reason[2 * DM_ERR_MAX];
    char pull_dp_state[16];      /* to record on success: "Installed" or "" */
} dm_install_result;

/* Drives dp's agent through the steps. it->msg (may be NULL) is kept alive
 * between steps and the lease renewed. All borrowed. */
void dm_install_run(const dm_ctx *ctx, dm_ins_item *it, dpf_db *db, const dm_dp_row *dp,
                    dm_install_result *res);

#endif

/* One table of the moves a package on a DP may make, so what an
 * administrator reads in GET /v1/packages/{id} follows written rules. */
#include "content_state.h"

#include <string.h>

static const char *const names[DM_CS__COUNT] = {
    [DM_CS_PENDING] = "Pending",     [DM_CS_IN_PROGRESS] = "InProgress",
    [DM_CS_INSTALLED] = "Installed", [DM_CS_RETRYING] = "Retrying",
    [DM_CS_FAILED] = "Failed",       [DM_CS_REMOVING] = "Removing",
    [DM_CS_WAITING_MAINT] = "WaitingMaintenance",
    [DM_CS_VALIDATION_FAILED] = "ValidationFailed",
};

#define NO (-1)
#define GONE DM_CS__COUNT

/* columns: claim, done, retry, give up, cancel, maint, valid, invalid */
static const int next[DM_CS__COUNT][DM_CE__COUNT] = {
    [DM_CS_PENDING] = {DM_CS_IN_PROGRESS, NO, NO, NO, NO, DM_CS_WAITING_MAINT, NO, NO},
    [DM_CS_IN_PROGRESS] = {DM_CS_IN_PROGRESS, DM_CS_INSTALLED, DM_CS_RETRYING, DM_CS_FAILED,
                           DM_CS_PENDING, DM_CS_WAITING_MAINT, NO, NO},
    [DM_CS_INSTALLED] = {NO, NO, NO, NO, NO, NO, DM_CS_INSTALLED, DM_CS_VALIDATION_FAILED},
    [DM_CS_RETRYING] = {DM_CS_IN_PROGRESS, NO, NO, NO, NO, DM_CS_WAITING_MAINT, NO, NO},
    [DM_CS_FAILED] = {NO, NO, NO, NO, NO, NO, NO, NO},
    /* a removal that fails stays Removing and is claimed again */
    [DM_CS_REMOVING] = {DM_CS_REMOVING, GONE, DM_CS_REMOVING, DM_CS_REMOVING, DM_CS_REMOVING, NO,
                        NO, NO},
    [DM_CS_WAITING_MAINT] = {NO, NO, NO, NO, NO, DM_CS_WAITING_MAINT, NO, NO},
    [DM_CS_VALIDATION_FAILED] = {NO, NO, NO, NO, NO, NO, DM_CS_INSTALLED,
                                 DM_CS_VALIDATION_FAILED},
};

dpf_status dm_cstate_next(dm_cstate from, dm_cevent ev, dm_cstate *to)
{
    if ((int)from < 0 || from >= DM_CS__COUNT || (int)ev < 0 || ev >= DM_CE__COUNT)
        return DPF_ERR_INVALID;
    if (next[from][ev] == NO)
        return DPF_ERR_INVALID;
    *to = (dm_cstate)next[from][ev];
    return DPF_OK;
}

const char *dm_cstate_name(dm_cstate s)
{
    return (int)s >= 0 && s < DM_CS__COUNT ? names[s] : "?";
}

dpf_status dm_cstate_parse(const char *name, dm_cstate *out)
{
    for (int i = 0; name != NULL && i < DM_CS__COUNT; i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (dm_cstate)i;
            return DPF_OK;
        }
    }
    return DPF_ERR_INVALID;
}

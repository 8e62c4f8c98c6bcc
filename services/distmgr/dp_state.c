/* The install state machine of a DP. One table says which event is allowed
 * in which state and where it leads, so the rules an administrator reads in
 * distribution_points.install_state are written down in exactly one place.
 * Removal states are here already so issue 3 only adds its handler. */
#include "dp_state.h"

#include <string.h>

#include <dpf/agent.h>

static const char *const state_names[DM_ST__COUNT] = {
    [DM_ST_PENDING] = "Pending",
    [DM_ST_INSTALLING] = "Installing",
    [DM_ST_INSTALLED] = "Installed",
    [DM_ST_FAILED] = "Failed",
    [DM_ST_REMOVING] = "Removing",
    [DM_ST_REMOVE_FAILED] = "RemoveFailed",
};

static const char *const event_names[DM_EV__COUNT] = {
    [DM_EV_START] = "start",
    [DM_EV_SUCCEEDED] = "succeeded",
    [DM_EV_STEP_FAILED] = "step-failed",
    [DM_EV_INTERRUPTED] = "interrupted",
    [DM_EV_REMOVE] = "remove",
    [DM_EV_REMOVE_FAILED] = "remove-failed",
};

#define NONE (-1)

/* next[from][event]; NONE = not allowed. An interrupted install stays
 * Installing with its lease released, so the reconcile (which looks for
 * Installing rows with an expired lease) resumes it; going back to Pending
 * would fire the outbox trigger and look like a reset. */
static const int next[DM_ST__COUNT][DM_EV__COUNT] = {
    [DM_ST_PENDING] = {
        [DM_EV_START] = DM_ST_INSTALLING, [DM_EV_SUCCEEDED] = NONE,
        [DM_EV_STEP_FAILED] = NONE, [DM_EV_INTERRUPTED] = NONE,
        [DM_EV_REMOVE] = DM_ST_REMOVING, [DM_EV_REMOVE_FAILED] = NONE },
    [DM_ST_INSTALLING] = {
        [DM_EV_START] = DM_ST_INSTALLING, [DM_EV_SUCCEEDED] = DM_ST_INSTALLED,
        [DM_EV_STEP_FAILED] = DM_ST_FAILED, [DM_EV_INTERRUPTED] = DM_ST_INSTALLING,
        [DM_EV_REMOVE] = DM_ST_REMOVING, [DM_EV_REMOVE_FAILED] = NONE },
    [DM_ST_INSTALLED] = {
        [DM_EV_START] = DM_ST_INSTALLING, [DM_EV_SUCCEEDED] = NONE,
        [DM_EV_STEP_FAILED] = NONE, [DM_EV_INTERRUPTED] = NONE,
        [DM_EV_REMOVE] = DM_ST_REMOVING, [DM_EV_REMOVE_FAILED] = NONE },
    [DM_ST_FAILED] = {
        [DM_EV_START] = DM_ST_INSTALLING, [DM_EV_SUCCEEDED] = NONE,
        [DM_EV_STEP_FAILED] = NONE, [DM_EV_INTERRUPTED] = NONE,
        [DM_EV_REMOVE] = DM_ST_REMOVING, [DM_EV_REMOVE_FAILED] = NONE },
    /* a removal ends by deleting the row, so Removing has no success state */
    [DM_ST_REMOVING] = {
        [DM_EV_START] = NONE, [DM_EV_SUCCEEDED] = NONE,
        [DM_EV_STEP_FAILED] = NONE, [DM_EV_INTERRUPTED] = DM_ST_REMOVING,
        [DM_EV_REMOVE] = DM_ST_REMOVING, [DM_EV_REMOVE_FAILED] = DM_ST_REMOVE_FAILED },
    [DM_ST_REMOVE_FAILED] = {
        [DM_EV_START] = NONE, [DM_EV_SUCCEEDED] = NONE,
        [DM_EV_STEP_FAILED] = NONE, [DM_EV_INTERRUPTED] = NONE,
        [DM_EV_REMOVE] = DM_ST_REMOVING, [DM_EV_REMOVE_FAILED] = NONE },
};

dpf_status dm_state_next(dm_state from, dm_event ev, dm_state *to)
{
    if ((int)from < 0 || from >= DM_ST__COUNT || (int)ev < 0 || ev >= DM_EV__COUNT)
        return DPF_ERR_INVALID;
    int n = next[from][ev];
    if (n == NONE)
        return DPF_ERR_INVALID;
    *to = (dm_state)n;
    return DPF_OK;
}

const char *dm_state_name(dm_state s)
{
    if ((int)s < 0 || s >= DM_ST__COUNT)
        return "?";
    return state_names[s];
}

const char *dm_event_name(dm_event ev)
{
    if ((int)ev < 0 || ev >= DM_EV__COUNT)
        return "?";
    return event_names[ev];
}

dpf_status dm_state_parse(const char *name, dm_state *out)
{
    if (name == NULL)
        return DPF_ERR_INVALID;
    for (int i = 0; i < DM_ST__COUNT; i++) {
        if (strcmp(name, state_names[i]) == 0) {
            *out = (dm_state)i;
            return DPF_OK;
        }
    }
    return DPF_ERR_INVALID;
}

dm_decision dm_state_decide(dm_state st, int action, const char *installed_crc,
                            const char *dp_crc, const char *installed_version,
                            const char *reason)
{
    if (action == 3)
        return DM_DO_SKIP_REMOVED;
    if (st == DM_ST_REMOVING || st == DM_ST_REMOVE_FAILED)
        return DM_DO_SKIP_BUSY;
    /* A site reset (source: resetdps.trn) is in the row: the provider sets
     * every DP of the site back to Pending. So an Installed row at the
     * current CRC and version has been upgraded since, whatever the event's
     * reason: a redelivered "reset" (a crash before the ack) or one that
     * arrives after the reconcile upgraded the DP must not upgrade it twice. */
    (void)reason;
    if (st == DM_ST_INSTALLED && strcmp(installed_crc, dp_crc) == 0 &&
        strcmp(installed_version, DPF_COMPONENT_VERSION) == 0)
        return DM_DO_NOTHING;
    return DM_DO_INSTALL;
}

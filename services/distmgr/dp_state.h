/* The install state machine of one DP (distribution_points.install_state).
 * Pure functions: the SQL that records a state lives in store_dp.c. */
#ifndef DM_DP_STATE_H
#define DM_DP_STATE_H

#include <dpf/status.h>

typedef enum dm_state {
    DM_ST_PENDING = 0,   /* new or changed row; nobody has started on it yet */
    DM_ST_INSTALLING,    /* a worker holds the lease and is driving the agent;
                            with an expired lease it was interrupted (crash, stop) */
    DM_ST_INSTALLED,     /* the host runs installed_crc / installed_version */
    DM_ST_FAILED,        /* last attempt stopped at last_step with last_error;
                            retried after InstallRetryDelaySeconds */
    DM_ST_REMOVING,      /* the DP manager is removing it from its host (issue 3) */
    DM_ST_REMOVE_FAILED, /* removal stopped at last_step (issue 3) */
    DM_ST__COUNT
} dm_state;

typedef enum dm_event {
    DM_EV_START = 0,     /* lease taken and work needed: begin installing */
    DM_EV_SUCCEEDED,     /* every step replied ok */
    DM_EV_STEP_FAILED,   /* a step failed or timed out */
    DM_EV_INTERRUPTED,   /* the service is stopping between steps */
    DM_EV_REMOVE,        /* the DP manager starts a removal (issue 3) */
    DM_EV_REMOVE_FAILED, /* a removal step failed (issue 3) */
    DM_EV__COUNT
} dm_event;

/* The one transition function. DPF_OK with *to set, or DPF_ERR_INVALID when
 * ev is not allowed in from (*to untouched). */
dpf_status dm_state_next(dm_state from, dm_event ev, dm_state *to) DPF_MUSTCHECK;

/* "Pending", "Installing", ... as stored; static strings. */
const char *dm_state_name(dm_state s);
const char *dm_event_name(dm_event ev);
/* DPF_ERR_INVALID for a name that is not one of the states. */
dpf_status dm_state_parse(const char *name, dm_state *out) DPF_MUSTCHECK;

typedef enum dm_decision {
    DM_DO_INSTALL = 0,   /* drive the agent through the steps */
    DM_DO_NOTHING,       /* already installed at this CRC and version */
    DM_DO_SKIP_REMOVED,  /* action = 3: the DP manager's business */
    DM_DO_SKIP_BUSY,     /* removal in progress: not ours */
} dm_decision;

/* What a dp.ins for a DP in this state means. Strings borrowed; reason is the
 * event's, and changes nothing: the row is the truth (a site reset sets the
 * row Pending, so an Installed row has been upgraded since the reset). */
dm_decision dm_state_decide(dm_state st, int action, const char *installed_crc,
                            const char *dp_crc, const char *installed_version,
                            const char *reason);

#endif

/* The state machine of one package on one DP (dp_packages.state), the
 * content counterpart of dp_state.h. Pure functions: store_pkg.c writes a
 * state only in SQL conditioned on the from-state this table allows. */
#ifndef DM_CONTENT_STATE_H
#define DM_CONTENT_STATE_H

#include <dpf/status.h>

typedef enum dm_cstate {
    DM_CS_PENDING = 0, /* to be transferred: new, redistributed or a new version */
    DM_CS_IN_PROGRESS, /* a transfer job holds the lease; with an expired lease
                          it was interrupted and is claimed again */
    DM_CS_INSTALLED,   /* the DP holds installed_version and serves it */
    DM_CS_RETRYING,    /* the last attempt failed; claimed again at retry_at */
    DM_CS_FAILED,      /* retry limit reached; only a redistribute starts it again */
    DM_CS_REMOVING,    /* the package is to leave the DP; the row goes when it has */
    DM_CS_WAITING_MAINT, /* distributed while the DP is in maintenance mode; the
                            provider sets it Pending when maintenance mode ends */
    DM_CS_VALIDATION_FAILED, /* content validation found a file missing or corrupt;
                                a redistribute (Pending) repairs it */
    DM_CS__COUNT
} dm_cstate;

typedef enum dm_cevent {
    DM_CE_CLAIM = 0, /* a transfer job takes the row */
    DM_CE_DONE,      /* installed (or, for Removing, removed: the row goes) */
    DM_CE_RETRY,     /* an attempt failed below the retry limit */
    DM_CE_GIVE_UP,   /* an attempt failed at the retry limit */
    DM_CE_CANCEL,    /* the job stopped without an outcome (service stopping,
                        DP being removed): back to Pending */
    DM_CE_MAINT,     /* the DP is in maintenance mode: the content waits */
    DM_CE_VALID,     /* content validation verified the package */
    DM_CE_INVALID,   /* content validation found it broken */
    DM_CE__COUNT
} dm_cevent;

/* The one transition function. DPF_OK with *to, or DPF_ERR_INVALID. A
 * Removing row that is DONE has no next state: *to = DM_CS__COUNT (deleted). */
dpf_status dm_cstate_next(dm_cstate from, dm_cevent ev, dm_cstate *to) DPF_MUSTCHECK;

const char *dm_cstate_name(dm_cstate s); /* as stored; static */
dpf_status dm_cstate_parse(const char *name, dm_cstate *out) DPF_MUSTCHECK;

#endif

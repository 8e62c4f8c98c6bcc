/* distmgr's SQL for content validation (issue 7): the validation job's own
 * lease on a DP (validation_lease_owner/until, separate from the install
 * lease: validating does not change what is installed), the packages to
 * check, each package's verdict, the end of a validation, and the schedule.
 * Every statement takes parameters. */
#ifndef DM_STORE_VAL_H
#define DM_STORE_VAL_H

#include <dpf/db.h>
#include <dpf/status.h>

/* The DP a validation runs on. Strings owned (dm_val_dp_clear). */
typedef struct dm_val_dp {
    long long dpid;
    char *server_name;
    char *nal_path;
    char *site_code;
    char *requested_at;   /* validation_requested_at as text; "" when none */
    int installed;        /* install_state Installed and action 0 */
} dm_val_dp;

void dm_val_dp_clear(dm_val_dp *d);

/* One package to check: id and the version the DP holds. */
typedef struct dm_val_pkg {
    char package_id[16];
    int version;
} dm_val_pkg;

/* Takes the validation lease of dpid for token when free or expired and
 * reads the DP. DPF_ERR_BUSY when another job holds it, DPF_ERR_NOT_FOUND
 * when the DP is gone. */
dpf_status dm_store_val_lease(dpf_db *db, long long dpid, const char *token, int lease_s,
                              dm_val_dp *d) DPF_MUSTCHECK;

/* Extends it; *stop = 1 when the DP is being removed or no longer
 * Installed. DPF_ERR_NOT_FOUND when the lease was lost. */
dpf_status dm_store_val_renew(dpf_db *db, long long dpid, const char *token, int lease_s,
                              int *stop) DPF_MUSTCHECK;

/* The packages the DP holds (Installed or ValidationFailed), at most max
 * into out, sorted by id; *n how many. */
dpf_status dm_store_val_packages(dpf_db *db, long long dpid, dm_val_pkg *out, int max,
                                 int *n) DPF_MUSTCHECK;

/* Within the caller's transaction: the package's verdict on the DP.
 * ok: ValidationFailed -> Installed (Installed stays); else Installed ->
 * ValidationFailed with last_error = why. Only a row in one of those two
 * states and with no transfer lease changes (content_state.c); *changed
 * says whether it did. */
dpf_status dm_store_val_verdict(dpf_db *db, long long dpid, const char *package_id, int ok,
                                const char *why, int *changed) DPF_MUSTCHECK;

/* The validation ran: validation_requested_at cleared (only if it is still
 * requested_at: a request made meanwhile stays), last_validation_at now,
 * last_validation_result, lease freed. */
dpf_status dm_store_val_done(dpf_db *db, long long dpid, const char *token,
                             const char *requested_at, const char *result) DPF_MUSTCHECK;

/* Frees the lease without recording anything (stopped, agent unreachable). */
dpf_status dm_store_val_release(dpf_db *db, long long dpid, const char *token) DPF_MUSTCHECK;

/* The schedule: DPs whose validation is due (interval > 0, Installed, not
 * requested yet, last validated (or created) longer ago than the interval)
 * get validation_requested_at = now(), which queues dp.val. *n how many. */
dpf_status dm_store_val_schedule(dpf_db *db, int *n) DPF_MUSTCHECK;

/* DPIDs with a validation requested more than grace_s ago and no live
 * lease (an event lost or a job that crashed). */
dpf_status dm_store_val_stale(dpf_db *db, int grace_s, long long *ids, int max,
                              int *n) DPF_MUSTCHECK;

#endif

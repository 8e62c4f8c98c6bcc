/* distmgr's SQL on distribution_points: reading a DP, the lease that keeps
 * two replicas off one DP, recording the install state, and the reconcile
 * query. Every statement takes parameters. */
#ifndef DM_STORE_DP_H
#define DM_STORE_DP_H

#include <dpf/db.h>
#include <dpf/status.h>

#include "dp_state.h"

/* Runs sql (nparams params, borrowed) and collects the number in the first
 * column of up to max rows into ids (the caller's array), count in *n (0 on
 * error). Every "which rows need work" query of distmgr's stores (DPs,
 * packages, validations) reads its ids through this one function. */
dpf_status dm_store_query_ids(dpf_db *db, const char *sql, int nparams,
                              const char *const *params, long long *ids, int max,
                              int *n) DPF_MUSTCHECK;

/* dm_store_query_ids for the commonest of them: sql's $1 is grace_s (rows
 * left alone for that many seconds) and $2 the limit, max. */
dpf_status dm_store_query_ids_grace(dpf_db *db, const char *sql, int grace_s, long long *ids,
                                    int max, int *n) DPF_MUSTCHECK;

/* A DP as distmgr needs it. Strings owned by the row (dm_dp_row_clear). */
typedef struct dm_dp_row {
    long long dpid;
    char *server_name;
    char *nal_path;
    char *site_code;
    char *description;
    char *dp_drive;
    char *identity_guid;
    char *dp_crc;
    char *pull_sources;      /* "FQDN:prio,FQDN:prio" */
    char *boundary_groups;
    char *installed_crc;
    char *installed_version;
    char *pull_dp_state;
    char *last_step;
    char *last_error;
    char *lease_owner;       /* "" when free */
    char *lease_until;       /* "" when free */
    int is_pull_dp;
    int is_pxe;
    int is_multicast;
    int priority;
    int min_free_space;
    int transfer_rate;
    int ssl_state;
    int action;
    int attempts;
    dm_state state;
} dm_dp_row;

void dm_dp_row_clear(dm_dp_row *row); /* frees the strings; safe on a zeroed row */

/* Reads DP dpid into *row (cleared first). DPF_ERR_NOT_FOUND if it is gone. */
dpf_status dm_store_dp_get(dpf_db *db, long long dpid, dm_dp_row *row) DPF_MUSTCHECK;

/* owner below is always a job's lease token ("<replica>/<uuid>", dm_item),
 * never a bare replica name: two jobs of one replica are two owners. */

/* Takes the lease on dpid for owner for lease_s seconds when it is free,
 * expired or already owner's (renewal), and reads the row as it is now.
 * DPF_ERR_BUSY when another job holds an unexpired lease (row then holds
 * that DP with the holder's token in lease_owner/lease_until),
 * DPF_ERR_NOT_FOUND when the row is gone. */
dpf_status dm_store_dp_lease(dpf_db *db, long long dpid, const char *owner, int lease_s,
                             dm_dp_row *row) DPF_MUSTCHECK;

/* Extends the lease owner holds and reads the DP's action now into
 * *action (may be NULL). DPF_ERR_NOT_FOUND if owner lost it. */
dpf_status dm_store_dp_renew(dpf_db *db, long long dpid, const char *owner, int lease_s,
                             int *action) DPF_MUSTCHECK;

/* Every function below that writes install_state takes the state the
 * caller read (from) and the event, asks the transition table
 * (dm_state_next) where that leads, and writes only if the table allows it
 * (else DPF_ERR_INVALID, logged, nothing written) and only while the row is
 * still in from and owner holds the lease (else DPF_ERR_NOT_FOUND). */

/* The move into a working state: DM_EV_START (-> Installing; last_step and
 * last_error kept, so an administrator still sees why the previous attempt
 * failed) or DM_EV_REMOVE (-> Removing). The new state in *to (may be NULL). */
dpf_status dm_store_dp_move(dpf_db *db, long long dpid, const char *owner, dm_state from,
                            dm_event ev, dm_state *to) DPF_MUSTCHECK;

/* Within the caller's transaction: ev DM_EV_SUCCEEDED (-> Installed) at
 * crc/version, pull_dp_state, attempts 0, lease released; content_base
 * written unless "" (then the one recorded before stays); and
 * content_wake_dp(dpid), so the packages waiting for this DP are sent to
 * it once (and only if) the install commits. */
dpf_status dm_store_dp_mark_installed(dpf_db *db, long long dpid, const char *owner,
                                      dm_state from, dm_event ev, const char *crc,
                                      const char *version, const char *pull_dp_state,
                                      const char *content_base) DPF_MUSTCHECK;

/* Within the caller's transaction: ev DM_EV_STEP_FAILED (-> Failed) or
 * DM_EV_REMOVE_FAILED (-> RemoveFailed) at step with reason, attempts+1
 * (new count in *attempts), lease released. */
dpf_status dm_store_dp_mark_failed(dpf_db *db, long long dpid, const char *owner,
                                   dm_state from, dm_event ev, const char *step,
                                   const char *reason, int *attempts) DPF_MUSTCHECK;

/* Releases owner's lease without changing the state (interrupted, or
 * nothing to do after all). */
dpf_status dm_store_dp_release(dpf_db *db, long long dpid, const char *owner) DPF_MUSTCHECK;

/* Releases every lease held by a job of replica owner (lease_owner
 * "<owner>/..." or, from before job tokens, "<owner>"), whatever the state,
 * and returns the DPIDs (at most max into ids, count in *n). For a replica
 * starting under the name of one that crashed: those leases are its own
 * jobs' from before the restart, and nothing else may hold them (replica
 * names are unique). */
dpf_status dm_store_dp_release_owner(dpf_db *db, const char *owner, long long *ids, int max,
                                     int *n) DPF_MUSTCHECK;

/* Releases the leases held by jobs of replica owner that are no longer
 * running: lease_owner "<owner>/..." and not one of live (a PostgreSQL
 * text[] literal of the running jobs' tokens, e.g. {"r/1","r/2"}). For
 * after an outage, when jobs that could not reach the database left their
 * leases behind. DPIDs as dm_store_dp_release_owner. */
dpf_status dm_store_dp_release_dead(dpf_db *db, const char *owner, const char *live,
                                    long long *ids, int max, int *n) DPF_MUSTCHECK;

/* Writes pull_dp_state (the source's "PullDP ... is marked Uninstalled"). */
dpf_status dm_store_dp_set_pull_state(dpf_db *db, long long dpid, const char *owner,
                                      const char *pull_state) DPF_MUSTCHECK;

/* DPIDs that need work although no event may come: action 0 and Pending or
 * Failed for longer than grace_s, Installing with an expired lease, or
 * Installed at another CRC or component version. At most max ids into ids
 * (caller's array), count in *n. */
dpf_status dm_store_dp_needing_work(dpf_db *db, int grace_s, const char *version,
                                    long long *ids, int max, int *n) DPF_MUSTCHECK;

/* ---- removal (the DP manager) ---- */

/* Within the caller's transaction: the DP leaves the database (its package
 * assignments, notifications, and its certificate when no other DP row uses
 * that server), then the DistributionPoints row itself, last as in the
 * source. DPF_ERR_NOT_FOUND if owner lost the lease or the row is not
 * Removing. */
dpf_status dm_store_dp_delete(dpf_db *db, long long dpid, const char *owner) DPF_MUSTCHECK;

/* A package whose transfer to dpid runs now: a dp_packages row of the DP
 * under a live lease (a content transfer job's). DPF_OK with its package id
 * into pkg and the holder's token into holder; DPF_ERR_NOT_FOUND when
 * none. */
dpf_status dm_store_dp_live_transfer(dpf_db *db, long long dpid, char *pkg, size_t pkglen,
                                     char *holder, size_t holderlen) DPF_MUSTCHECK;

/* DPIDs marked for removal (action 3) that nobody is removing: not
 * Removing under a live lease, and RemoveFailed only after grace_s. */
dpf_status dm_store_dp_needing_removal(dpf_db *db, int grace_s, long long *ids, int max,
                                       int *n) DPF_MUSTCHECK;

#endif

/* distmgr's SQL on packages, package_versions, package_files and
 * dp_packages (db/030_content.sql): the package processing lease, recording
 * a processed version, and the per-DP transfer jobs, each holding its own
 * lease token on its dp_packages row. Every statement takes parameters;
 * every state write is conditioned on the job's token and on the from-state
 * content_state.c allows. */
#ifndef DM_STORE_PKG_H
#define DM_STORE_PKG_H

#include <dpf/db.h>
#include <dpf/status.h>

#include "content_lib.h"
#include "content_state.h"

/* A package as distmgr needs it. Strings owned (dm_pkg_row_clear). */
typedef struct dm_pkg_row {
    long long seq;
    char *package_id;
    char *name;
    char *source_path;
    char *site_code;
    char *state;           /* Processing, Ready, ProcessFailed, Deleting */
    char *lease_owner;     /* "" when free */
    int source_version;
    int processed_version;
    int is_client;         /* a default client package (no source) */
    int lease_live;        /* someone else holds an unexpired lease */
} dm_pkg_row;

void dm_pkg_row_clear(dm_pkg_row *r);

/* One file of a version. path owned by the array (dm_pkg_files_free). */
typedef struct dm_pkg_file {
    char *path;
    char sha256[DM_SHA256_HEX];
    long long size;
} dm_pkg_file;

void dm_pkg_files_free(dm_pkg_file *f, int n);

/* Reads the package with this seq. DPF_ERR_NOT_FOUND if gone. */
dpf_status dm_store_pkg_get(dpf_db *db, long long seq, dm_pkg_row *r) DPF_MUSTCHECK;

/* Takes (or renews) the processing lease of a package in 'Processing' for
 * token. DPF_ERR_BUSY when another job holds it, DPF_ERR_NOT_FOUND when
 * the package is gone or no longer Processing. */
dpf_status dm_store_pkg_lease(dpf_db *db, long long seq, const char *token, int lease_s,
                              dm_pkg_row *r) DPF_MUSTCHECK;

/* Within the caller's transaction: version of package_id is files[0..n),
 * the package becomes Ready at that version, and every DP row of it that is
 * not being removed is retargeted to it (Pending, lease cleared: a transfer
 * of an older version still running loses its lease and stops).
 * DPF_ERR_NOT_FOUND if token no longer holds the lease or the package moved
 * on to another source version. */
dpf_status dm_store_pkg_record_version(dpf_db *db, long long seq, const char *token,
                                       const char *package_id, int version,
                                       const dm_pkg_file *files, int n,
                                       long long total) DPF_MUSTCHECK;

/* Within the caller's transaction: ProcessFailed with reason, lease freed. */
dpf_status dm_store_pkg_process_failed(dpf_db *db, long long seq, const char *token,
                                       const char *reason) DPF_MUSTCHECK;

/* The files of package_id at version, sorted by path. *out owned by the
 * caller (dm_pkg_files_free). */
dpf_status dm_store_pkg_files(dpf_db *db, const char *package_id, int version,
                              dm_pkg_file **out, int *n) DPF_MUSTCHECK;

/* Deletes a 'Deleting' package that no DP holds any more (its versions,
 * files and group targets go with it). *deleted = 1 when it did. */
dpf_status dm_store_pkg_delete_if_done(dpf_db *db, long long seq, int *deleted) DPF_MUSTCHECK;

/* ---- one package on one DP (a transfer job) ---- */

/* A claimed dp_packages row and the DP it is on. Strings owned. */
typedef struct dm_dist_row {
    long long dpid;
    char *package_id;
    char *server_name;
    char *nal_path;
    char *site_code;
    char *pull_sources;   /* the DP's "FQDN:prio,..." when it is a pull DP */
    char *content_base;
    dm_cstate state;      /* after the claim: InProgress or Removing */
    int version;          /* the version to hold */
    int attempts;
    int is_pull_dp;
} dm_dist_row;

void dm_dist_row_clear(dm_dist_row *r);

/* Claims one row of package_id that needs work on an Installed DP (not being
 * removed): Pending, Retrying whose time has come, InProgress or Removing
 * with an expired lease. Rows locked by another claimer are skipped.
 * DPF_ERR_NOT_FOUND when there is none. */
dpf_status dm_store_dist_claim(dpf_db *db, const char *package_id, const char *token,
                               int lease_s, dm_dist_row *r) DPF_MUSTCHECK;

/* Extends the job's lease. *cancel = 1 (lease kept) when the job must stop:
 * its DP is being removed, no longer Installed, or (for a transfer, not a
 * removal) in maintenance mode. DPF_ERR_NOT_FOUND when
 * the job lost the row (a new version retargeted it, or another job took
 * it over). */
dpf_status dm_store_dist_renew(dpf_db *db, long long dpid, const char *package_id,
                               const char *token, int lease_s, int *cancel) DPF_MUSTCHECK;

/* Within the caller's transaction: Installed at version with the bytes and
 * files sent, attempts 0, lease freed. DPF_ERR_NOT_FOUND if the job lost
 * the row or the row was retargeted to another version. */
dpf_status dm_store_dist_installed(dpf_db *db, long long dpid, const char *package_id,
                                   const char *token, int version, long long bytes,
                                   int files) DPF_MUSTCHECK;

/* Within the caller's transaction: a failed attempt. attempts+1; below
 * max_attempts Retrying at now + retry_s, else Failed; a Removing row stays
 * Removing and is retried. *attempts and *gave_up say which. */
dpf_status dm_store_dist_failed(dpf_db *db, long long dpid, const char *package_id,
                                const char *token, const char *reason, int retry_s,
                                int max_attempts, int *attempts,
                                int *gave_up) DPF_MUSTCHECK;

/* The job stops without an outcome: lease freed, InProgress -> Pending, or
 * WaitingMaintenance when the DP is in maintenance mode. */
dpf_status dm_store_dist_release(dpf_db *db, long long dpid, const char *package_id,
                                 const char *token) DPF_MUSTCHECK;

/* Within the caller's transaction: a Removing row whose removal is done
 * leaves the table. */
dpf_status dm_store_dist_removed(dpf_db *db, long long dpid, const char *package_id,
                                 const char *token) DPF_MUSTCHECK;

/* Records the DP's content server ("http://host:port") as its agent
 * reported it; "" is ignored. */
dpf_status dm_store_dist_content_base(dpf_db *db, long long dpid,
                                      const char *base) DPF_MUSTCHECK;

/* Removing rows of package_id on DPs that are not Installed (nothing to
 * reach there) are dropped; *n how many. */
dpf_status dm_store_dist_drop_unreachable(dpf_db *db, const char *package_id,
                                          int *n) DPF_MUSTCHECK;

/* *any = 1 when some row of package_id could be claimed now (as
 * dm_store_dist_claim would, without locking anything). */
dpf_status dm_store_dist_any_claimable(dpf_db *db, const char *package_id,
                                       int *any) DPF_MUSTCHECK;

/* Rows of package_id waiting to be sent (Pending, Retrying) to DPs in
 * maintenance mode become WaitingMaintenance (logged per DP, and a
 * 'waiting' row each on the timeline under corr, unless corr is NULL or
 * ""); *n how many. The provider sets them Pending when maintenance mode
 * ends. */
dpf_status dm_store_dist_hold_for_maintenance(dpf_db *db, const char *package_id,
                                              const char *corr, int *n) DPF_MUSTCHECK;

/* Seconds until the earliest Retrying row of package_id is due (0 if due
 * now); DPF_ERR_NOT_FOUND when none is Retrying. */
dpf_status dm_store_dist_next_retry(dpf_db *db, const char *package_id,
                                    int *secs) DPF_MUSTCHECK;

/* The pull sources of a pull DP in the order to try, as the content_pull
 * step wants them: "FQDN=http://host:port,..." (sources with no known
 * content server are left out and named in *missing, space separated). */
dpf_status dm_store_dist_sources(dpf_db *db, long long dpid, char *out, size_t outlen,
                                 char *missing, size_t missinglen) DPF_MUSTCHECK;

/* Package seqs that need the package transfer although no event may come:
 * Processing with no live lease, Deleting, or a row claimable now (see
 * dm_store_dist_claim) whose state is older than grace_s. (A DP gets the
 * packages of its boundary groups when it is installed, content_wake_dp,
 * not here: a package an administrator removed from one DP of a group
 * stays removed until that DP is installed again.) */
dpf_status dm_store_pkg_needing_work(dpf_db *db, int grace_s, long long *seqs, int max,
                                     int *n) DPF_MUSTCHECK;

#endif

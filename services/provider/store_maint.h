/* SQL of maintenance mode and content validation requests (the source's
 * SMS_DistributionPointInfo): DP information written directly on the
 * distribution_points row, never through the site control. One function per
 * statement, run inside the caller's transaction. Strings are borrowed. */
#ifndef PROV_STORE_MAINT_H
#define PROV_STORE_MAINT_H

#include <stddef.h>
#include <dpf/db.h>
#include <dpf/dp.h>
#include <dpf/status.h>

/* A distribution_points row as these requests need it. */
typedef struct prov_maint_dp {
    long long dpid;
    char server[DPF_FQDN_MAX + 1];
    char site[8];
    char nal[DPF_NAL_MAX];
    int maintenance;        /* maintenance_mode */
    int action;             /* 3 = being removed */
    char install_state[32];
} prov_maint_dp;

/* Serialises every enabling of maintenance mode (all sites: a boundary
 * group may hold DPs of several sites), so two requests cannot both count
 * the other's DP as still serving. Held until the transaction ends. */
dpf_status prov_store_maint_lock(dpf_db *db) DPF_MUSTCHECK;

/* The row of the DP named by server (upper-cased FQDN) or, when server is
 * NULL, by nal (case-insensitive); locked FOR UPDATE when lock is 1 (lock
 * the DP's site first: hman locks the site, then writes the DP rows).
 * DPF_ERR_NOT_FOUND if there is none. */
dpf_status prov_store_maint_dp(dpf_db *db, const char *server, const char *nal, int lock,
                               prov_maint_dp *out) DPF_MUSTCHECK;

/* maintenance_mode = on, maintenance_changed_by = user, _at = now(). */
dpf_status prov_store_maint_set(dpf_db *db, long long dpid, int on, const char *user) DPF_MUSTCHECK;

/* Every dp_packages row of the DP in WaitingMaintenance back to Pending (its
 * trigger wakes distmgr); *count receives how many. */
dpf_status prov_store_maint_release(dpf_db *db, long long dpid, long long *count) DPF_MUSTCHECK;

/* What enabling maintenance mode on dpid would leave without a source, one
 * row per finding, ordered: columns group_name, package_id (NULL: the group
 * has no other Installed DP outside maintenance mode and not being removed;
 * otherwise no other such member of the group holds the package Installed).
 * Empty when the DP serves nothing itself (not Installed, being removed).
 * *out owned by the caller. */
dpf_status prov_store_maint_impact(dpf_db *db, long long dpid, dpf_db_result **out) DPF_MUSTCHECK;

/* DPF_OK if the DP with this NAL path is in maintenance mode,
 * DPF_ERR_NOT_FOUND if it is not (or has no distribution_points row). */
dpf_status prov_store_maint_active(dpf_db *db, const char *nal) DPF_MUSTCHECK;

/* validation_requested_at = now(): its trigger queues dp.val for distmgr. */
dpf_status prov_store_validate_request(dpf_db *db, long long dpid) DPF_MUSTCHECK;

#endif

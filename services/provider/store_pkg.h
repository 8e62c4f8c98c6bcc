/* The provider's SQL on packages and their distribution (db/030_content.sql):
 * one function per statement, every value a parameter; lists of names go in
 * as one JSON array parameter each. Callers run them inside their own
 * transaction (pkg_change.c begins it); nothing here begins or commits. The
 * triggers on packages and dp_packages write the pkg.changed outbox rows
 * that wake distmgr. Strings are borrowed. */
#ifndef PROV_STORE_PKG_H
#define PROV_STORE_PKG_H

#include <stddef.h>
#include <dpf/db.h>
#include <dpf/status.h>
#include "validate_pkg.h"

/* A package row as a change sees it, read under FOR UPDATE. */
typedef struct prov_pkg_row {
    char id[PROV_PKG_ID_LEN + 8];
    char state[16];      /* Processing, Ready, ProcessFailed, Deleting */
    int is_client;       /* a default client package (client_setting set) */
    char source_path[PROV_PKG_PATH_MAX + 1];
    long long processed_version;
    long long source_version;
} prov_pkg_row;

/* Serialises package creations (the name check and the insert) across the
 * site: a transaction-scoped advisory lock. */
dpf_status prov_store_pkg_lock_names(dpf_db *db) DPF_MUSTCHECK;

/* The id of a package named name (case-insensitive) into id (len bytes);
 * DPF_ERR_NOT_FOUND if there is none. */
dpf_status prov_store_pkg_by_name(dpf_db *db, const char *name, char *id,
                                  size_t len) DPF_MUSTCHECK;

/* DPF_OK if the site exists, DPF_ERR_NOT_FOUND if not. */
dpf_status prov_store_pkg_site_exists(dpf_db *db, const char *site) DPF_MUSTCHECK;

/* Inserts a new package (state Processing, source version 1) with the next
 * id of site (site + 5 hex digits of package_number) into id (len bytes). */
dpf_status prov_store_pkg_insert(dpf_db *db, const char *site, const char *name,
                                 const char *description, const char *source_path, char *id,
                                 size_t len) DPF_MUSTCHECK;

/* Reads and locks the package (FOR UPDATE). DPF_ERR_NOT_FOUND if none. */
dpf_status prov_store_pkg_lock(dpf_db *db, const char *id, prov_pkg_row *out) DPF_MUSTCHECK;

/* A new source version (processed_version + 1) to be processed: state
 * Processing, last_error cleared. *version receives it. */
dpf_status prov_store_pkg_new_version(dpf_db *db, const char *id,
                                      long long *version) DPF_MUSTCHECK;

/* state Deleting, and every dp_packages row of it Removing; *dps receives
 * how many rows there are. */
dpf_status prov_store_pkg_mark_deleting(dpf_db *db, const char *id,
                                        long long *dps) DPF_MUSTCHECK;

/* For each name of the JSON array dps (upper-cased FQDNs), in order:
 * name, dpid, server_name, action, install_state, row_state (the package's
 * dp_packages state on that DP); every column but name NULL when there is
 * no such DP, row_state NULL when the package is not on it. *out owned. */
dpf_status prov_store_pkg_dp_lookup(dpf_db *db, const char *id, const char *dps_json,
                                    dpf_db_result **out) DPF_MUSTCHECK;

/* For each name of the JSON array groups, in order: name, id (NULL if no
 * group of that name, case-insensitive), group_name. *out owned. */
dpf_status prov_store_pkg_group_lookup(dpf_db *db, const char *groups_json,
                                       dpf_db_result **out) DPF_MUSTCHECK;

/* Records the boundary groups (JSON array of names) the package was
 * distributed to. */
dpf_status prov_store_pkg_groups_add(dpf_db *db, const char *id,
                                     const char *groups_json) DPF_MUSTCHECK;

/* Adds a Pending dp_packages row for every DP named in dps_json and every
 * DP now in a group of groups_json (group members being removed are left
 * out); a row in Removing goes back to Pending, other rows stay. *out
 * (owned): server_name, state, queued ('t' if this statement added or
 * re-queued the row), one row per DP targeted, by name. */
dpf_status prov_store_pkg_distribute(dpf_db *db, const char *id, const char *dps_json,
                                     const char *groups_json, dpf_db_result **out) DPF_MUSTCHECK;

/* The rows of the DPs named in dps_json back to Pending with the newest
 * processed version, attempts and errors cleared. *out (owned): server_name
 * of each row changed. */
dpf_status prov_store_pkg_redistribute(dpf_db *db, const char *id, const char *dps_json,
                                       dpf_db_result **out) DPF_MUSTCHECK;

/* The package's row on DP dpid (decimal text) -> Removing. */
dpf_status prov_store_pkg_remove_dp(dpf_db *db, const char *id, const char *dpid) DPF_MUSTCHECK;

/* A page of packages in package id order, the first after `after` (NULL:
 * from the first), up to limit + 1 rows (one more says another page
 * follows). Summary columns: see pkg_json.c. *out owned. */
dpf_status prov_store_pkg_page(dpf_db *db, const char *after, int limit,
                               dpf_db_result **out) DPF_MUSTCHECK;

/* One package (or every one, id NULL) with the detail columns too:
 * description, source_path, source_version, last_error, groups and dps (the
 * last two JSON text). *out owned. */
dpf_status prov_store_pkg_query(dpf_db *db, const char *id, dpf_db_result **out) DPF_MUSTCHECK;

#endif

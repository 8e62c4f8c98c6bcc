/* The provider's SQL on boundary groups, their boundaries and neighbors
 * (db/001_init.sql, db/050_maintenance.sql): one function per statement,
 * every value a parameter; sets of boundaries and neighbors go in as one
 * JSON array parameter each (validate_bg.h gives their shape). Callers run
 * them inside their own transaction (bg_change.c begins it); nothing here
 * begins or commits. DP membership (boundary_group_members) is written by
 * the DP endpoints only; here it is read. Strings are borrowed. */
#ifndef PROV_STORE_BG_H
#define PROV_STORE_BG_H

#include <stddef.h>
#include <dpf/db.h>
#include <dpf/status.h>
#include "validate_dp.h"

/* A boundary group as a change sees it, read under FOR UPDATE. */
typedef struct prov_bg_row {
    long long id;
    char name[PROV_GROUP_NAME_MAX + 1];
    char site[8];      /* "" when the group has no site */
    int site_default;
} prov_bg_row;

/* Serialises boundary group changes (names, the site default): a
 * transaction-scoped advisory lock. */
dpf_status prov_store_bg_lock(dpf_db *db) DPF_MUSTCHECK;

/* Reads and locks the group named name (case-insensitive; an exact match
 * wins). DPF_ERR_NOT_FOUND if none. */
dpf_status prov_store_bg_find(dpf_db *db, const char *name, prov_bg_row *out) DPF_MUSTCHECK;

/* Inserts a group; *id receives its id. DPF_ERR_CONFLICT if the name is
 * taken (exactly). */
dpf_status prov_store_bg_insert(dpf_db *db, const char *name, const char *site,
                                const char *description, int site_default, int fallback,
                                long long *id) DPF_MUSTCHECK;

/* Sets the fields whose argument is not NULL / not negative. */
dpf_status prov_store_bg_update(dpf_db *db, long long id, const char *description,
                                int site_default, int fallback) DPF_MUSTCHECK;

/* Clears the site default flag of every other group of site; *out (owned)
 * receives the cleared groups: id, name. */
dpf_status prov_store_bg_clear_default(dpf_db *db, const char *site, long long except,
                                       dpf_db_result **out) DPF_MUSTCHECK;

/* Replaces the group's boundaries with those of the JSON array. */
dpf_status prov_store_bg_set_boundaries(dpf_db *db, long long id,
                                        const char *json) DPF_MUSTCHECK;

/* The names of the JSON neighbor array that name no group, in order
 * (*out owned; no rows when all exist). */
dpf_status prov_store_bg_missing(dpf_db *db, const char *json, dpf_db_result **out) DPF_MUSTCHECK;

/* Replaces the group's neighbors with those of the JSON array (names
 * matched case-insensitively). */
dpf_status prov_store_bg_set_neighbors(dpf_db *db, long long id, const char *json) DPF_MUSTCHECK;

/* The DPs that are members of the group: server_name, ordered (*out owned). */
dpf_status prov_store_bg_members(dpf_db *db, long long id, dpf_db_result **out) DPF_MUSTCHECK;

/* Deletes the group (its boundaries and neighbor links go with it); *out
 * (owned) receives the names of the groups that had it as a neighbor. */
dpf_status prov_store_bg_delete(dpf_db *db, long long id, dpf_db_result **out) DPF_MUSTCHECK;

/* Every group (name NULL) or the one named name (case-insensitive), ordered
 * by name (*out owned). Columns: id, name, site_code, description,
 * is_site_default ('t'/'f'), default_fallback_minutes, boundaries (JSON
 * array of strings), neighbors (JSON [{name, fallbackMinutes}]), members
 * (JSON [{serverName, maintenanceMode, installState}]), member_count. */
dpf_status prov_store_bg_query(dpf_db *db, const char *name, dpf_db_result **out) DPF_MUSTCHECK;

/* The audit row of a change of group id/name (class SMS_BoundaryGroup,
 * object GroupID=<id>,Name="<name>", as groups.c writes it). */
dpf_status prov_store_bg_audit(dpf_db *db, const char *user, const char *app, const char *machine,
                               const char *action, long long id, const char *name,
                               const char *corr) DPF_MUSTCHECK;

#endif

/* What the boundary group endpoints share (handle_bg_*.c): the group named
 * in the path, the transaction that starts with the correlation id, the
 * change lock and the group read, the boundaries / neighbors / site default
 * a body sets, the audit rows and the commit, the lines logged once it is
 * committed, and the JSON of a group. */
#ifndef PROV_BG_CHANGE_H
#define PROV_BG_CHANGE_H

#include <jansson.h>
#include <dpf/db.h>
#include <dpf/status.h>
#include "provider.h"
#include "store_bg.h"
#include "validate_bg.h"

#define PROV_BG_CLEARED_MAX 8

/* What a change did beyond the group itself, for the audit and the log. */
typedef struct prov_bg_changes {
    long long cleared_id[PROV_BG_CLEARED_MAX]; /* groups that were the site default */
    char cleared[PROV_BG_CLEARED_MAX][PROV_GROUP_NAME_MAX + 1];
    size_t n_cleared;
} prov_bg_changes;

/* The {name} of the path into name (PROV_GROUP_NAME_MAX + 1 bytes).
 * Otherwise answers 404 itself and returns 0. */
int prov_bg_name_param(const prov_request *req, prov_reply *reply, char *name);

/* BEGIN, the correlation id, the change lock. With name (not NULL), the
 * group read and locked into *row (DPF_ERR_NOT_FOUND, err filled, when
 * there is none). On failure nothing is open. */
dpf_status prov_bg_begin(dpf_db *db, const char *corr, const char *name, prov_bg_row *row,
                         prov_field_error *err) DPF_MUSTCHECK;

/* Checks that every neighbor of s names a group (DPF_ERR_NOT_FOUND naming
 * the first that does not). */
dpf_status prov_bg_check_neighbors(dpf_db *db, const prov_bg_spec *s,
                                   prov_field_error *err) DPF_MUSTCHECK;

/* When the group becomes its site's default: clears the flag of the
 * previous default (recorded in ch). Call before the group's own flag is
 * set (one default per site is a unique index). */
dpf_status prov_bg_take_default(dpf_db *db, const char *site, long long id, prov_bg_changes *ch,
                                prov_field_error *err) DPF_MUSTCHECK;

/* Writes the boundaries and neighbors s carries (present bits) to group id. */
dpf_status prov_bg_write_sets(dpf_db *db, long long id, const prov_bg_spec *s,
                              prov_field_error *err) DPF_MUSTCHECK;

/* The audit rows (the group with action, each group in ch "modified"),
 * then COMMIT. On failure the caller rolls back. */
dpf_status prov_bg_audit_commit(dpf_db *db, const prov_request *req, const char *action,
                                long long id, const char *name, const prov_bg_changes *ch,
                                prov_field_error *err) DPF_MUSTCHECK;

/* "Auditing: ..." lines after COMMIT, and one per cleared site default. */
void prov_bg_log_committed(const prov_request *req, const char *action, const char *name,
                           const char *site, const prov_bg_changes *ch);

/* One group of a prov_store_bg_query result as JSON (new reference):
 * name, siteCode, description, siteDefault, defaultFallbackMinutes,
 * boundaries, neighbors, memberCount and, with detail, members. */
json_t *prov_bg_row_json(const dpf_db_result *r, int i, int detail);

/* Answers status with the group named name as it is now (detail) and the
 * correlation id. */
void prov_bg_reply_group(prov_request *req, prov_reply *reply, int status, const char *name);

#endif

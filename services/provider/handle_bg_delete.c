/* DELETE /v1/boundarygroups/{name}: refused while DPs are members (named,
 * so the administrator knows which DPs to move; membership is a DP property,
 * changed with PATCH /v1/distributionpoints/{serverName}) and for the site
 * default group. The group's boundaries go with it, and so does its place
 * as a neighbor of other groups: those groups are named in the answer and
 * the log, since their clients lose that fallback. */
#include <stdio.h>
#include <string.h>

#include <dpf/log.h>

#include "bg_change.h"
#include "change.h"
#include "pkg_change.h"

static dpf_status members_refuse(dpf_db *db, const prov_bg_row *row, prov_field_error *err)
{
    dpf_db_result *r = NULL;
    if (prov_store_bg_members(db, row->id, &r) != DPF_OK)
        return prov_change_db_fail(db, err, "reading the group's members");
    int n = dpf_db_result_rows(r);
    dpf_status st = DPF_OK;
    if (n > 0) {
        char names[300] = "";
        for (int i = 0; i < n; i++) {
            size_t used = strlen(names);
            const char *s = dpf_db_result_get(r, i, 0);
            if (used + strlen(s) + 8 >= sizeof names) {
                snprintf(names + used, sizeof names - used, ", ...");
                break;
            }
            snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "", s);
        }
        st = prov_change_err(err, DPF_ERR_CONFLICT, "name", "boundary group %s has %d member "
                             "distribution point%s: %s; remove %s from the group first",
                             row->name, n, n == 1 ? "" : "s", names, n == 1 ? "it" : "them");
    }
    dpf_db_result_free(r);
    return st;
}

static dpf_status delete(dpf_db *db, const prov_request *req, const char *name, prov_bg_row *row,
                         json_t *neighbor_of, prov_field_error *err)
{
    dpf_status st = prov_bg_begin(db, req->corr, name, row, err);
    if (st != DPF_OK)
        return st;
    if (row->site_default) {
        st = prov_change_err(err, DPF_ERR_CONFLICT, "name", "%s is the site default boundary "
                             "group of site %s and cannot be deleted; make another group the "
                             "site default first", row->name, row->site);
        goto cleanup;
    }
    if ((st = members_refuse(db, row, err)) != DPF_OK)
        goto cleanup;
    dpf_db_result *r = NULL;
    if (prov_store_bg_delete(db, row->id, &r) != DPF_OK) {
        dpf_db_result_free(r);
        st = prov_change_db_fail(db, err, "deleting the boundary group");
        goto cleanup;
    }
    for (int i = 0; i < dpf_db_result_rows(r); i++)
        json_array_append_new(neighbor_of, json_string(dpf_db_result_get(r, i, 0)));
    dpf_db_result_free(r);
    st = prov_bg_audit_commit(db, req, "deleted", row->id, row->name, NULL, err);
cleanup:
    if (st != DPF_OK)
        dpf_db_rollback(db);
    return st;
}

void prov_handle_bg_delete(prov_request *req, prov_reply *reply)
{
    char name[PROV_GROUP_NAME_MAX + 1];
    prov_field_error err;
    prov_bg_row row;
    if (!prov_bg_name_param(req, reply, name))
        return;
    prov_log_enter(req);
    DPF_INFO("DeleteInstanceAsync %s (%s)", PROV_CLASS_GROUP, name);
    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL)
        goto out;
    json_t *neighbor_of = json_array();
    dpf_status st = delete(db, req, name, &row, neighbor_of, &err);
    prov_dbpool_release(req->server->pool, db);
    if (st != DPF_OK) {
        json_decref(neighbor_of);
        prov_pkg_reply_error(reply, st, &err, "DeleteInstanceAsync SMS_BoundaryGroup");
        goto out;
    }
    DPF_INFO("Deleted boundary group %s (site %s)", row.name, row.site[0] ? row.site : "-");
    for (size_t i = 0; i < json_array_size(neighbor_of); i++)
        DPF_INFO("Boundary group %s no longer falls back to %s (deleted)",
                 json_string_value(json_array_get(neighbor_of, i)), row.name);
    prov_bg_log_committed(req, "deleted", row.name, row.site, NULL);
    prov_reply_json(reply, 200, json_pack("{s:s, s:b, s:o, s:s}", "name", row.name, "deleted", 1,
                                          "removedAsNeighborOf", neighbor_of, "correlationId",
                                          req->corr));
out:
    prov_log_leave(req);
}

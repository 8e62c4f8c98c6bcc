/* Shared pieces of the package changes. Each change is one transaction that
 * starts by locking the package row, so two changes of one package (an
 * update and a delete, two distributions) run one after the other and each
 * sees the state the other left. */
#include "pkg_change.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dpf/log.h>

#include "change.h"
#include "store_dp.h"

int prov_pkg_id_param(const prov_request *req, prov_reply *reply, char *id)
{
    if (!prov_pkg_id_parse(req->param, id)) {
        prov_reply_error(reply, 404, "packageId", "no package with id '%.32s' (a package id is "
                         "a site code and 5 hex digits, e.g. PS100001)", req->param);
        return 0;
    }
    return 1;
}

dpf_status prov_pkg_begin(dpf_db *db, const char *corr, const char *id, prov_pkg_row *row,
                          prov_field_error *err)
{
    dpf_status st = prov_change_begin(db, corr, err);
    if (st != DPF_OK)
        return st;
    st = prov_store_pkg_lock(db, id, row);
    if (st == DPF_ERR_NOT_FOUND)
        st = prov_change_err(err, DPF_ERR_NOT_FOUND, "packageId", "no package with id %s", id);
    else if (st != DPF_OK)
        st = prov_change_db_fail(db, err, "reading the package");
    if (st != DPF_OK)
        dpf_db_rollback(db);
    return st;
}

dpf_status prov_pkg_not_deleting(const prov_pkg_row *row, prov_field_error *err)
{
    if (strcmp(row->state, "Deleting") == 0)
        return prov_change_err(err, DPF_ERR_CONFLICT, "packageId",
                               "package %s is being deleted", row->id);
    return DPF_OK;
}

/* Appends name to a ", "-separated list in buf (len bytes), "..." once full. */
static void list_add(char *buf, size_t len, const char *name)
{
    size_t used = strlen(buf);
    if (used + strlen(name) + 8 >= len) {
        if (used + 4 < len && (used < 3 || strcmp(buf + used - 3, "...") != 0))
            snprintf(buf + used, len - used, ", ...");
        return;
    }
    snprintf(buf + used, len - used, "%s%s", used ? ", " : "", name);
}

static int is_removing(const dpf_db_result *r, int i)
{
    const char *state = dpf_db_result_get(r, i, dpf_db_result_col(r, "install_state"));
    return dpf_db_result_int(r, i, dpf_db_result_col(r, "action")) == 3 ||
           strcmp(state, "Removing") == 0 || strcmp(state, "RemoveFailed") == 0;
}

dpf_status prov_pkg_check_dps(dpf_db *db, const char *id, json_t *dps, int need_row,
                              prov_field_error *err)
{
    if (json_array_size(dps) == 0)
        return DPF_OK;
    char *text = json_dumps(dps, JSON_COMPACT);
    dpf_db_result *r = NULL;
    dpf_status st = text ? prov_store_pkg_dp_lookup(db, id, text, &r) : DPF_ERR_NOMEM;
    free(text);
    if (st != DPF_OK)
        return prov_change_db_fail(db, err, "looking up the distribution points");
    int c_dpid = dpf_db_result_col(r, "dpid"), c_row = dpf_db_result_col(r, "row_state");
    char names[256] = "", field[64] = "";
    for (int pass = 0; pass < 3 && st == DPF_OK; pass++) {
        for (int i = 0; i < dpf_db_result_rows(r); i++) {
            int unknown = dpf_db_result_isnull(r, i, c_dpid);
            int hit = pass == 0 ? unknown
                    : pass == 1 ? !unknown && is_removing(r, i)
                                : need_row && dpf_db_result_isnull(r, i, c_row);
            if (!hit)
                continue;
            if (field[0] == '\0')
                snprintf(field, sizeof field, "distributionPoints[%d]", i);
            list_add(names, sizeof names, dpf_db_result_get(r, i, 0));
        }
        if (names[0] == '\0')
            continue;
        if (pass == 0)
            st = prov_change_err(err, DPF_ERR_NOT_FOUND, field, "no distribution point named "
                                 "%s", names);
        else if (pass == 1)
            st = prov_change_err(err, DPF_ERR_CONFLICT, field, "distribution point %s is being "
                                 "removed and gets no new content", names);
        else
            st = prov_change_err(err, DPF_ERR_NOT_FOUND, field, "package %s is not on "
                                 "distribution point %s; distribute it there first", id, names);
    }
    dpf_db_result_free(r);
    return st;
}

dpf_status prov_pkg_audit_commit(dpf_db *db, const prov_user *u, const char *corr,
                                 const char *action, const char *class_name, const char *id,
                                 prov_field_error *err)
{
    if (prov_store_audit(db, u->user, u->app, u->machine, action, class_name, id, corr) != DPF_OK)
        return prov_change_db_fail(db, err, "writing the audit log");
    if (dpf_db_commit(db) != DPF_OK)
        return prov_change_db_fail(db, err, "committing");
    return DPF_OK;
}

void prov_pkg_reply_error(prov_reply *reply, dpf_status st, const prov_field_error *err,
                          const char *what)
{
    int status;
    switch (st) {
    case DPF_ERR_NOT_FOUND: status = 404; break;
    case DPF_ERR_CONFLICT: status = 409; break;
    case DPF_ERR_INVALID:
    case DPF_ERR_DECODE: status = 400; break;
    default: status = 500; break;
    }
    DPF_WARN("Rejected %s: %s", what, err->message);
    prov_reply_error(reply, status, err->field, "%s", err->message);
}

/* POST /v1/packages/{packageId}/distribute: the source's "Distribute
 * Content" (SMS_DistributionPoint instances created). Every DP named must
 * exist and not be being removed; every boundary group named must exist.
 * One transaction: the groups are recorded (a DP that joins one later gets
 * the package too), a Pending dp_packages row is added for each DP named and
 * each DP now in a group, a row being removed is queued again, rows already
 * there stay as they are. The dp_packages trigger wakes distmgr once per
 * package, however many DPs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dpf/log.h>

#include "change.h"
#include "pkg_change.h"
#include "provider.h"
#include "validate_pkg.h"

static dpf_status check_groups(dpf_db *db, json_t *groups, prov_field_error *err)
{
    if (json_array_size(groups) == 0)
        return DPF_OK;
    char *text = json_dumps(groups, JSON_COMPACT);
    dpf_db_result *r = NULL;
    dpf_status st = text ? prov_store_pkg_group_lookup(db, text, &r) : DPF_ERR_NOMEM;
    free(text);
    if (st != DPF_OK)
        return prov_change_db_fail(db, err, "looking up the boundary groups");
    int c_id = dpf_db_result_col(r, "id");
    for (int i = 0; i < dpf_db_result_rows(r) && st == DPF_OK; i++) {
        if (!dpf_db_result_isnull(r, i, c_id))
            continue;
        char field[48];
        snprintf(field, sizeof field, "boundaryGroups[%d]", i);
        st = prov_change_err(err, DPF_ERR_NOT_FOUND, field, "no boundary group named '%s'",
                             dpf_db_result_get(r, i, 0));
    }
    dpf_db_result_free(r);
    return st;
}

/* The DPs targeted, as the answer lists them. */
static json_t *targets_json(const dpf_db_result *r, int *queued)
{
    json_t *arr = json_array();
    *queued = 0;
    for (int i = 0; i < dpf_db_result_rows(r); i++) {
        int q = strcmp(dpf_db_result_get(r, i, 2), "t") == 0;
        *queued += q;
        json_array_append_new(arr, json_pack("{s:s, s:s, s:b}", "serverName",
                                             dpf_db_result_get(r, i, 0), "state",
                                             dpf_db_result_get(r, i, 1), "queued", q));
    }
    return arr;
}

static dpf_status distribute(dpf_db *db, const char *id, const prov_pkg_targets *t,
                             const prov_user *u, const char *corr, json_t **out,
                             prov_field_error *err)
{
    prov_pkg_row row;
    char *dps = NULL, *groups = NULL;
    dpf_db_result *r = NULL;
    dpf_status st = prov_pkg_begin(db, corr, id, &row, err);
    if (st != DPF_OK)
        return st;
    if ((st = prov_pkg_not_deleting(&row, err)) != DPF_OK ||
        (st = prov_pkg_check_dps(db, id, t->dps, 0, err)) != DPF_OK ||
        (st = check_groups(db, t->groups, err)) != DPF_OK)
        goto cleanup;
    dps = json_dumps(t->dps, JSON_COMPACT);
    groups = json_dumps(t->groups, JSON_COMPACT);
    if (dps == NULL || groups == NULL) {
        st = prov_change_err(err, DPF_ERR_NOMEM, "", "out of memory");
        goto cleanup;
    }
    if (prov_store_pkg_groups_add(db, id, groups) != DPF_OK ||
        prov_store_pkg_distribute(db, id, dps, groups, &r) != DPF_OK) {
        st = prov_change_db_fail(db, err, "adding the package to the distribution points");
        goto cleanup;
    }
    if ((st = prov_pkg_audit_commit(db, u, corr, "created", PROV_CLASS_DP_CONTENT, id, err)) !=
        DPF_OK)
        goto cleanup;
    int queued = 0;
    json_t *list = targets_json(r, &queued);
    DPF_INFO("Package %s distributed: %d distribution points targeted, %d queued", id,
             dpf_db_result_rows(r), queued);
    for (int i = 0; i < dpf_db_result_rows(r); i++)
        DPF_INFO("Package %s -> %s (%s)", id, dpf_db_result_get(r, i, 0),
                 dpf_db_result_get(r, i, 1));
    *out = list;

cleanup:
    if (st != DPF_OK)
        dpf_db_rollback(db);
    dpf_db_result_free(r);
    free(dps);
    free(groups);
    return st;
}

void prov_handle_pkg_distribute(prov_request *req, prov_reply *reply)
{
    prov_field_error err = {{0}, {0}};
    prov_pkg_targets t = {0};
    char id[PROV_PKG_ID_LEN + 1];
    json_t *list = NULL;

    prov_log_enter(req);
    if (!prov_pkg_id_param(req, reply, id))
        goto out;
    DPF_INFO("PutInstanceAsync %s for package %s", PROV_CLASS_DP_CONTENT, id);
    dpf_status st = prov_pkg_targets_parse(req->body, req->body_len, PROV_TARGETS_DISTRIBUTE, &t,
                                           &err);
    if (st != DPF_OK) {
        prov_pkg_reply_error(reply, st, &err, "distribution of package");
        goto out;
    }
    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL)
        goto out;
    st = distribute(db, id, &t, &req->user, req->corr, &list, &err);
    prov_dbpool_release(req->server->pool, db);
    if (st != DPF_OK) {
        prov_pkg_reply_error(reply, st, &err, "distribution of package");
        goto out;
    }
    DPF_INFO("Auditing: User %s created an instance of class %s.", req->user.user,
             PROV_CLASS_DP_CONTENT);
    prov_reply_json(reply, 202, json_pack("{s:s, s:o, s:O, s:s}", "packageId", id,
                                          "distributionPoints", list, "boundaryGroups", t.groups,
                                          "correlationId", req->corr));
out:
    prov_pkg_targets_clear(&t);
    prov_log_leave(req);
}

/* DELETE /v1/packages/{packageId}: the source's DeleteInstanceAsync
 * SMS_Package. The package goes to Deleting and every DP row of it to
 * Removing in one transaction; distmgr removes the content from the DPs and
 * then the package rows. The default client packages, which every DP must
 * hold, cannot be deleted (409), nor can a package twice. */
#include <dpf/log.h>

#include "change.h"
#include "pkg_change.h"
#include "provider.h"

static dpf_status delete_pkg(dpf_db *db, const char *id, const prov_user *u, const char *corr,
                             long long *dps, prov_field_error *err)
{
    prov_pkg_row row;
    dpf_status st = prov_pkg_begin(db, corr, id, &row, err);
    if (st != DPF_OK)
        return st;
    if ((st = prov_pkg_not_deleting(&row, err)) != DPF_OK)
        goto cleanup;
    if (row.is_client) {
        st = prov_change_err(err, DPF_ERR_CONFLICT, "packageId", "package %s is a default "
                             "client package, which every distribution point holds; it cannot "
                             "be deleted", id);
        goto cleanup;
    }
    if (prov_store_pkg_mark_deleting(db, id, dps) != DPF_OK) {
        st = prov_change_db_fail(db, err, "marking the package for deletion");
        goto cleanup;
    }
    st = prov_pkg_audit_commit(db, u, corr, "deleted", PROV_CLASS_PACKAGE, id, err);

cleanup:
    if (st != DPF_OK)
        dpf_db_rollback(db);
    return st;
}

void prov_handle_pkg_delete(prov_request *req, prov_reply *reply)
{
    prov_field_error err = {{0}, {0}};
    char id[PROV_PKG_ID_LEN + 1];
    long long dps = 0;

    prov_log_enter(req);
    if (!prov_pkg_id_param(req, reply, id))
        goto out;
    DPF_INFO("DeleteInstanceAsync SMS_Package.PackageID=\"%s\"", id);
    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL)
        goto out;
    dpf_status st = delete_pkg(db, id, &req->user, req->corr, &dps, &err);
    prov_dbpool_release(req->server->pool, db);
    if (st != DPF_OK) {
        prov_pkg_reply_error(reply, st, &err, "DeleteInstanceAsync SMS_Package");
        goto out;
    }
    DPF_INFO("Auditing: User %s deleted an instance of class %s.", req->user.user,
             PROV_CLASS_PACKAGE);
    DPF_INFO("Package %s is being deleted: its content leaves %lld distribution points", id, dps);
    prov_reply_json(reply, 202, json_pack("{s:s, s:s, s:I, s:s}", "packageId", id,
                                          "state", "Deleting", "distributionPoints",
                                          (json_int_t)dps, "correlationId", req->corr));
out:
    prov_log_leave(req);
}

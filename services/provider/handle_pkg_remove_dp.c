/* DELETE /v1/packages/{packageId}/distributionpoints/{serverName}: the
 * source's "Remove" of a package from one DP (SMS_DistributionPoint
 * deleted): the row goes to Removing and distmgr takes the content off the
 * DP, then the row. 404 when the package is not on that DP; a default
 * client package, which every DP holds, is refused (409). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include <dpf/dp.h>
#include <dpf/log.h>

#include "change.h"
#include "pkg_change.h"
#include "provider.h"
#include "store_pkg.h"

static dpf_status remove_dp(dpf_db *db, const char *id, const char *server, const prov_user *u,
                            const char *corr, prov_field_error *err)
{
    prov_pkg_row row;
    dpf_db_result *r = NULL;
    dpf_status st = prov_pkg_begin(db, corr, id, &row, err);
    if (st != DPF_OK)
        return st;
    if ((st = prov_pkg_not_deleting(&row, err)) != DPF_OK)
        goto cleanup;
    if (row.is_client) {
        st = prov_change_err(err, DPF_ERR_CONFLICT, "packageId", "package %s is a default client "
                             "package, which every distribution point holds", id);
        goto cleanup;
    }
    json_t *names = json_pack("[s]", server);
    char *text = json_dumps(names, JSON_COMPACT);
    json_decref(names);
    st = text ? prov_store_pkg_dp_lookup(db, id, text, &r) : DPF_ERR_NOMEM;
    free(text);
    if (st != DPF_OK || dpf_db_result_rows(r) != 1) {
        st = prov_change_db_fail(db, err, "looking up the distribution point");
        goto cleanup;
    }
    if (dpf_db_result_isnull(r, 0, dpf_db_result_col(r, "row_state"))) {
        st = prov_change_err(err, DPF_ERR_NOT_FOUND, "serverName", "package %s is not on "
                             "distribution point %s", id, server);
        goto cleanup;
    }
    if (prov_store_pkg_remove_dp(db, id, dpf_db_result_get(r, 0, dpf_db_result_col(r, "dpid")))
        != DPF_OK) {
        st = prov_change_db_fail(db, err, "marking the package for removal");
        goto cleanup;
    }
    st = prov_pkg_audit_commit(db, u, corr, "deleted", PROV_CLASS_DP_CONTENT, id, err);

cleanup:
    if (st != DPF_OK)
        dpf_db_rollback(db);
    dpf_db_result_free(r);
    return st;
}

void prov_handle_pkg_remove_dp(prov_request *req, prov_reply *reply)
{
    prov_field_error err = {{0}, {0}};
    char id[PROV_PKG_ID_LEN + 1], server[DPF_FQDN_MAX + 1], why[160];

    prov_log_enter(req);
    if (!prov_pkg_id_param(req, reply, id))
        goto out;
    if (!dpf_fqdn_valid(req->param2, why, sizeof why)) {
        prov_reply_error(reply, 404, "serverName", "no distribution point named '%.253s'",
                         req->param2);
        goto out;
    }
    size_t n = 0;
    for (; req->param2[n] != '\0' && n < DPF_FQDN_MAX; n++)
        server[n] = (char)toupper((unsigned char)req->param2[n]);
    server[n] = '\0';
    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL)
        goto out;
    dpf_status st = remove_dp(db, id, server, &req->user, req->corr, &err);
    prov_dbpool_release(req->server->pool, db);
    if (st != DPF_OK) {
        prov_pkg_reply_error(reply, st, &err, "removal of package");
        goto out;
    }
    DPF_INFO("Auditing: User %s deleted an instance of class %s.", req->user.user,
             PROV_CLASS_DP_CONTENT);
    DPF_INFO("Package %s is being removed from %s", id, server);
    prov_reply_json(reply, 202, json_pack("{s:s, s:s, s:s, s:s}", "packageId", id,
                                          "serverName", server, "state", "Removing",
                                          "correlationId", req->corr));
out:
    prov_log_leave(req);
}

/* POST /v1/packages/{packageId}/redistribute: the source's "Redistribute"
 * (RefreshNow on SMS_DistributionPoint): the package's rows on the DPs named
 * go back to Pending with the newest processed version, their attempts and
 * errors cleared, so distmgr sends it again (only what the DP lacks). Every
 * DP named must hold a row of the package (404 otherwise). */
#include <stdio.h>
#include <stdlib.h>

#include <dpf/log.h>

#include "change.h"
#include "pkg_change.h"
#include "provider.h"
#include "validate_pkg.h"

static dpf_status redistribute(dpf_db *db, const char *id, const prov_pkg_targets *t,
                               const prov_user *u, const char *corr, json_t **out,
                               prov_field_error *err)
{
    prov_pkg_row row;
    char *dps = NULL;
    dpf_db_result *r = NULL;
    dpf_status st = prov_pkg_begin(db, corr, id, &row, err);
    if (st != DPF_OK)
        return st;
    if ((st = prov_pkg_not_deleting(&row, err)) != DPF_OK ||
        (st = prov_pkg_check_dps(db, id, t->dps, 1, err)) != DPF_OK)
        goto cleanup;
    dps = json_dumps(t->dps, JSON_COMPACT);
    if (dps == NULL || prov_store_pkg_redistribute(db, id, dps, &r) != DPF_OK) {
        st = prov_change_db_fail(db, err, "queueing the package again");
        goto cleanup;
    }
    if ((st = prov_pkg_audit_commit(db, u, corr, "modified", PROV_CLASS_DP_CONTENT, id, err)) !=
        DPF_OK)
        goto cleanup;
    json_t *list = json_array();
    for (int i = 0; i < dpf_db_result_rows(r); i++) {
        DPF_INFO("Package %s -> %s: redistribute (version %lld)", id, dpf_db_result_get(r, i, 0),
                 row.processed_version);
        json_array_append_new(list, json_pack("{s:s, s:s}", "serverName",
                                              dpf_db_result_get(r, i, 0), "state", "Pending"));
    }
    *out = list;

cleanup:
    if (st != DPF_OK)
        dpf_db_rollback(db);
    dpf_db_result_free(r);
    free(dps);
    return st;
}

void prov_handle_pkg_redistribute(prov_request *req, prov_reply *reply)
{
    prov_field_error err = {{0}, {0}};
    prov_pkg_targets t = {0};
    char id[PROV_PKG_ID_LEN + 1];
    json_t *list = NULL;

    prov_log_enter(req);
    if (!prov_pkg_id_param(req, reply, id))
        goto out;
    dpf_status st = prov_pkg_targets_parse(req->body, req->body_len, PROV_TARGETS_REDISTRIBUTE,
                                           &t, &err);
    if (st != DPF_OK) {
        prov_pkg_reply_error(reply, st, &err, "redistribution of package");
        goto out;
    }
    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL)
        goto out;
    st = redistribute(db, id, &t, &req->user, req->corr, &list, &err);
    prov_dbpool_release(req->server->pool, db);
    if (st != DPF_OK) {
        prov_pkg_reply_error(reply, st, &err, "redistribution of package");
        goto out;
    }
    DPF_INFO("Auditing: User %s modified an instance of class %s.", req->user.user,
             PROV_CLASS_DP_CONTENT);
    prov_reply_json(reply, 202, json_pack("{s:s, s:o, s:s}", "packageId", id,
                                          "distributionPoints", list, "correlationId",
                                          req->corr));
out:
    prov_pkg_targets_clear(&t);
    prov_log_leave(req);
}

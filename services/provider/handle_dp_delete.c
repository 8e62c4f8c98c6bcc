/* DELETE /v1/distributionpoints/{serverName}: the source's
 * DeleteInstanceAsync SMS_SCI_SysResUse. Removes the DP role (its
 * properties and pull sources go with it) and its boundary group
 * memberships, audits, and changes the site control once; hman then marks
 * the DP Action = 3 and distmgr uninstalls it. A DP that other DPs pull from
 * is refused (409) until they stop using it. */
#include <stdio.h>

#include <dpf/dp.h>
#include <dpf/log.h>
#include <dpf/sitecontrol.h>

#include "change.h"
#include "provider.h"
#include "store_change.h"
#include "store_dp.h"

static dpf_status remove_dp(dpf_db *db, const char *server, const prov_user *u, const char *corr,
                            char *site, char *nal, prov_field_error *err)
{
    long long role_id = 0;
    char user_of[DPF_FQDN_MAX + 1];
    dpf_status st = prov_change_begin(db, corr, err);
    if (st != DPF_OK)
        return st;
    if ((st = prov_change_find_dp(db, server, &role_id, site, nal, err)) != DPF_OK)
        goto cleanup;
    DPF_INFO("DeleteInstanceAsync SMS_SCI_SysResUse.FileType=2,ItemName=\"%s,%s\","
             "ItemType=\"System Resource Usage\",SiteCode=\"%s\"", nal, DPF_ROLE_DP, site);
    DPF_INFO("Requested class =SMS_SCI_SysResUse");
    DPF_INFO("CExtProviderClassObject::DoDeleteInstance");
    st = prov_store_dp_sourced_by(db, server, user_of, sizeof user_of);
    if (st == DPF_OK) {
        st = prov_change_err(err, DPF_ERR_CONFLICT, "serverName",
                             "%s is a pull source of %s; remove it from that DP's sources first",
                             server, user_of);
        goto cleanup;
    }
    if (st != DPF_ERR_NOT_FOUND) {
        st = prov_change_db_fail(db, err, "looking up pull DPs");
        goto cleanup;
    }
    DPF_INFO("delete site_system_roles where site_code = N'%s' and role_name = N'%s' and "
             "nal_path = N'%s'", site, DPF_ROLE_DP, nal);
    if (prov_store_role_delete(db, role_id) != DPF_OK ||
        prov_store_members_delete(db, nal) != DPF_OK) {
        st = prov_change_db_fail(db, err, "deleting the DP role");
        goto cleanup;
    }
    if ((st = prov_change_audit_dp(db, u, corr, "deleted", nal, site, err)) != DPF_OK)
        goto cleanup;
    st = prov_change_commit_site(db, site, err);

cleanup:
    if (st != DPF_OK)
        dpf_db_rollback(db);
    return st;
}

void prov_handle_dp_delete(prov_request *req, prov_reply *reply)
{
    prov_field_error err = {{0}, {0}};
    char server[DPF_FQDN_MAX + 1], site[8] = "", nal[DPF_NAL_MAX] = "";

    prov_log_enter(req);
    if (!prov_change_server_param(req, reply, server))
        goto out;
    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL)
        goto out;
    dpf_status st = remove_dp(db, server, &req->user, req->corr, site, nal, &err);
    prov_dbpool_release(req->server->pool, db);
    if (st != DPF_OK) {
        DPF_WARN("Rejected DeleteInstanceAsync SMS_SCI_SysResUse for %s: %s", server, err.message);
        prov_reply_error(reply, st == DPF_ERR_NOT_FOUND ? 404 : st == DPF_ERR_CONFLICT ? 409 : 500,
                         err.field, "%s", err.message);
        goto out;
    }
    DPF_INFO("Auditing: User %s deleted an instance of class SMS_SCI_SysResUse.", req->user.user);
    prov_reply_json(reply, 200, json_pack("{s:s, s:s, s:s, s:s}", "serverName", server,
                                          "siteCode", site, "nalPath", nal,
                                          "correlationId", req->corr));
out:
    prov_log_leave(req);
}

/* POST /v1/distributionpoints/{serverName}/maintenance {"enabled": bool,
 * "force"?: bool}: the console's "Enable maintenance mode" on one DP (see
 * maint.h). 200 with the DP's mode and whether it changed; a refusal
 * because of the impact is a 409 naming boundaryGroups and packages. */
#include <dpf/dp.h>
#include <dpf/log.h>

#include "change.h"
#include "maint.h"
#include "provider.h"
#include "validate_maint.h"

void prov_handle_dp_maintenance(prov_request *req, prov_reply *reply)
{
    prov_maint_body body;
    prov_maint_result res = {0};
    prov_field_error err;
    char server[DPF_FQDN_MAX + 1];

    prov_log_enter(req);
    DPF_INFO("ExecMethodAsync : %s::SetDPMaintenanceMode", PROV_CLASS_DPINFO);
    dpf_status st = prov_maint_body_parse(req->body, req->body_len, &body, &err);
    if (st != DPF_OK) {
        DPF_WARN("Rejected SetDPMaintenanceMode: %s", err.message);
        prov_reply_error(reply, 400, err.field, "%s", err.message);
        goto out;
    }
    if (!prov_change_server_param(req, reply, server))
        goto out;
    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL)
        goto out;
    prov_maint_req rq = {.server = server, .enable = body.enable, .force = body.force};
    st = prov_maint_set(db, &rq, &req->user, req->corr, &res, &err);
    prov_dbpool_release(req->server->pool, db);
    if (st != DPF_OK) {
        DPF_WARN("Rejected SetDPMaintenanceMode for %s: %s", server, err.message);
        prov_reply_error(reply, prov_maint_http_status(st), err.field, "%s", err.message);
        if (st == DPF_ERR_CONFLICT && (res.groups || res.packages))
            prov_maint_impact_json(reply->body, &res);
        goto out;
    }
    json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:b, s:s}", "serverName", res.server,
                          "siteCode", res.site, "nalPath", res.nal, "maintenanceMode",
                          body.enable, "changed", res.changed, "correlationId", req->corr);
    if (res.groups || res.packages) {
        json_t *left = json_object();
        prov_maint_impact_json(left, &res);
        json_object_set_new(o, "leftWithoutSource", left);
    }
    prov_reply_json(reply, 200, o);
out:
    prov_maint_result_clear(&res);
    prov_log_leave(req);
}

/* PATCH /v1/distributionpoints/{serverName}: the source's PutInstanceAsync
 * on an existing SMS_SCI_SysResUse. Same validation as POST (serverName and
 * siteCode name the DP and cannot change); 200 with the DP's names and the
 * correlation id. */
#include <dpf/dp.h>
#include <dpf/log.h>

#include "change.h"
#include "dp_update.h"
#include "provider.h"
#include "validate_dp.h"

static int http_status(dpf_status st)
{
    switch (st) {
    case DPF_ERR_NOT_FOUND: return 404;
    case DPF_ERR_CONFLICT: return 409;
    case DPF_ERR_INVALID:
    case DPF_ERR_DECODE: return 400;
    default: return 500;
    }
}

void prov_handle_dp_update(prov_request *req, prov_reply *reply)
{
    prov_dp_spec spec;
    prov_field_error err;
    char server[DPF_FQDN_MAX + 1], site[8], nal[DPF_NAL_MAX];

    prov_log_enter(req);
    DPF_INFO("PutInstanceAsync %s", PROV_CLASS_SYSRES);
    dpf_status st = prov_dp_spec_parse(req->body, req->body_len, PROV_SPEC_UPDATE, &spec, &err);
    if (st != DPF_OK) {
        DPF_WARN("Rejected PutInstanceAsync SMS_SCI_SysResUse: %s", err.message);
        prov_reply_error(reply, 400, err.field, "%s", err.message);
        goto out;
    }
    if (!prov_change_server_param(req, reply, server))
        goto out;
    DPF_INFO("CExtProviderClassObject::DoPutInstanceInstance");

    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL)
        goto out;
    st = prov_dp_update(db, server, &spec, &req->user, req->corr, site, nal, &err);
    prov_dbpool_release(req->server->pool, db);
    if (st != DPF_OK) {
        DPF_WARN("Rejected PutInstanceAsync SMS_SCI_SysResUse for %s: %s", server, err.message);
        prov_reply_error(reply, http_status(st), err.field, "%s", err.message);
        goto out;
    }
    prov_reply_json(reply, 200, json_pack("{s:s, s:s, s:s, s:s}", "serverName", server,
                                          "siteCode", site, "nalPath", nal,
                                          "correlationId", req->corr));
out:
    prov_dp_spec_clear(&spec);
    prov_log_leave(req);
}

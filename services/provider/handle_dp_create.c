/* POST /v1/distributionpoints: the source's PutInstanceAsync
 * SMS_SCI_SysResUse. Validation first (nothing touches the database for a
 * bad body), then one transaction (dp_create.c). */
#include <dpf/log.h>

#include "change.h"
#include "dp_create.h"
#include "provider.h"
#include "validate_dp.h"

static int http_status(dpf_status st)
{
    switch (st) {
    case DPF_ERR_CONFLICT: return 409;
    case DPF_ERR_NOT_FOUND:    /* unknown site: the body is wrong, not the URL */
    case DPF_ERR_INVALID:
    case DPF_ERR_DECODE: return 400;
    default: return 500;
    }
}

void prov_handle_dp_create(prov_request *req, prov_reply *reply)
{
    prov_dp_spec spec;
    prov_field_error err;
    char nal[DPF_NAL_MAX];

    prov_log_enter(req);
    DPF_INFO("PutInstanceAsync %s", "SMS_SCI_SysResUse");
    dpf_status st = prov_dp_spec_parse(req->body, req->body_len, PROV_SPEC_CREATE, &spec, &err);
    if (st != DPF_OK) {
        DPF_WARN("Rejected PutInstanceAsync SMS_SCI_SysResUse: %s", err.message);
        prov_reply_error(reply, 400, err.field, "%s", err.message);
        goto out;
    }
    DPF_INFO("CExtProviderClassObject::DoPutInstanceInstance");
    DPF_INFO("INFO: '%s' is a valid FQDN.", spec.server);

    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL)
        goto out;
    st = prov_dp_create(db, &spec, &req->user, req->corr, nal, sizeof nal, &err);
    prov_dbpool_release(req->server->pool, db);
    if (st != DPF_OK) {
        DPF_WARN("Rejected PutInstanceAsync SMS_SCI_SysResUse for %s: %s", spec.server, err.message);
        prov_reply_error(reply, http_status(st), err.field, "%s", err.message);
        goto out;
    }
    prov_reply_json(reply, 201, json_pack("{s:s, s:s, s:s, s:s}", "serverName", spec.server,
                                          "siteCode", spec.site, "nalPath", nal,
                                          "correlationId", req->corr));
out:
    prov_dp_spec_clear(&spec);
    prov_log_leave(req);
}

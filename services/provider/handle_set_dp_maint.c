/* POST /v1/SetDPMaintenanceMode {"NALPath": "...", "Mode": 0|1, "Force"?:
 * bool}: the source's automation method SMS_DistributionPointInfo
 * .SetDPMaintenanceMode(NALPath, Mode), with its uint32 return value. 0 is
 * success; a failure is a non-zero HRESULT, as WMI methods return them, in
 * a 4xx/5xx answer with the message:
 *   2147749890 0x80041002 WBEM_E_NOT_FOUND          404 no DP with that NAL path
 *   2147749896 0x80041008 WBEM_E_INVALID_PARAMETER  400 bad body, Mode not 0/1, wrong types
 *   2147749889 0x80041001 WBEM_E_FAILED             409 refused: DP being removed, or it
 *                                                       would leave groups/packages without
 *                                                       a source (Force not set)
 *   2147749892 0x80041004 WBEM_E_PROVIDER_FAILURE   500/503 database failure */
#include <dpf/log.h>

#include "change.h"
#include "maint.h"
#include "provider.h"
#include "validate_maint.h"

#define RV_NOT_FOUND 0x80041002u
#define RV_INVALID_PARAMETER 0x80041008u
#define RV_FAILED 0x80041001u
#define RV_PROVIDER_FAILURE 0x80041004u

static unsigned return_value(int http)
{
    switch (http) {
    case 404: return RV_NOT_FOUND;
    case 400: return RV_INVALID_PARAMETER;
    case 409: return RV_FAILED;
    default: return RV_PROVIDER_FAILURE;
    }
}

/* Adds ReturnValue to an error answer already in reply. */
static void add_return_value(prov_reply *reply)
{
    if (reply->body != NULL)
        json_object_set_new(reply->body, "ReturnValue",
                            json_integer((json_int_t)return_value(reply->status)));
}

void prov_handle_set_dp_maint(prov_request *req, prov_reply *reply)
{
    prov_maint_body body;
    prov_maint_result res = {0};
    prov_field_error err;

    prov_log_enter(req);
    DPF_INFO("ExecMethodAsync : %s::SetDPMaintenanceMode", PROV_CLASS_DPINFO);
    dpf_status st = prov_setdpmm_body_parse(req->body, req->body_len, &body, &err);
    if (st != DPF_OK) {
        DPF_WARN("Rejected SetDPMaintenanceMode: %s", err.message);
        prov_reply_error(reply, 400, err.field, "%s", err.message);
        add_return_value(reply);
        goto out;
    }
    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL) {
        add_return_value(reply);
        goto out;
    }
    prov_maint_req rq = {.nal = body.nal, .enable = body.enable, .force = body.force};
    st = prov_maint_set(db, &rq, &req->user, req->corr, &res, &err);
    prov_dbpool_release(req->server->pool, db);
    if (st != DPF_OK) {
        DPF_WARN("Rejected SetDPMaintenanceMode(%.400s, %d): %s", body.nal, body.enable,
                 err.message);
        prov_reply_error(reply, prov_maint_http_status(st), err.field, "%s", err.message);
        if (st == DPF_ERR_CONFLICT && (res.groups || res.packages))
            prov_maint_impact_json(reply->body, &res);
        add_return_value(reply);
        goto out;
    }
    prov_reply_json(reply, 200, json_pack("{s:i, s:s}", "ReturnValue", 0, "correlationId",
                                          req->corr));
out:
    prov_maint_result_clear(&res);
    prov_log_leave(req);
}

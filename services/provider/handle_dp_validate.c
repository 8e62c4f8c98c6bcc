/* POST /v1/distributionpoints/{serverName}/validate: content validation now,
 * besides the DP's schedule (contentValidationIntervalHours). Sets
 * validation_requested_at; its trigger queues dp.val and distmgr's
 * validation thread re-hashes the DP's content (2380, 2384, 2383). 202 with
 * the correlation id to follow it. Allowed in maintenance mode (the source's
 * behaviour 5); refused (409) for a DP that is not Installed or is being
 * removed. The body is empty or {}. */
#include <string.h>

#include <dpf/dp.h>
#include <dpf/log.h>

#include "change.h"
#include "maint.h"
#include "provider.h"
#include "store_dp.h"
#include "store_maint.h"

static dpf_status check(dpf_db *db, const char *server, const prov_maint_dp *dp, dpf_status st,
                        prov_field_error *err)
{
    char site[16];
    if (st == DPF_ERR_NOT_FOUND && prov_store_dp_site(db, server, site, sizeof site) == DPF_OK)
        return prov_change_err(err, DPF_ERR_CONFLICT, "serverName", "distribution point %s is "
                               "not installed yet; validate it once it is", server);
    if (st == DPF_ERR_NOT_FOUND)
        return prov_change_err(err, st, "serverName", "no distribution point named %s", server);
    if (st != DPF_OK)
        return prov_change_db_fail(db, err, "looking up the DP");
    if (dp->action == 3 || strncmp(dp->install_state, "Remov", 5) == 0)
        return prov_change_err(err, DPF_ERR_CONFLICT, "serverName", "distribution point %s is "
                               "being removed; there is nothing to validate", server);
    if (strcmp(dp->install_state, "Installed") != 0)
        return prov_change_err(err, DPF_ERR_CONFLICT, "serverName", "distribution point %s is "
                               "not installed (install state %s); validate it once it is",
                               server, dp->install_state);
    return DPF_OK;
}

static dpf_status request(dpf_db *db, const char *server, const prov_user *u, const char *corr,
                          prov_field_error *err)
{
    prov_maint_dp dp;
    char object[DPF_NAL_MAX + 64];
    dpf_status st = prov_change_begin(db, corr, err);
    if (st != DPF_OK)
        return st;
    st = check(db, server, &dp, prov_store_maint_dp(db, server, NULL, 1, &dp), err);
    if (st != DPF_OK)
        goto cleanup;
    snprintf(object, sizeof object, "NALPath=\"%s\"", dp.nal);
    if (prov_store_validate_request(db, dp.dpid) != DPF_OK ||
        prov_store_audit(db, u->user, u->app, u->machine, "validate", PROV_CLASS_DPINFO, object,
                         corr) != DPF_OK) {
        st = prov_change_db_fail(db, err, "requesting the validation");
        goto cleanup;
    }
    if (dpf_db_commit(db) != DPF_OK)
        st = prov_change_db_fail(db, err, "committing");
    else
        DPF_INFO("Content validation of %s requested by %s", dp.nal, u->user);
cleanup:
    if (st != DPF_OK)
        dpf_db_rollback(db);
    return st;
}

/* Empty, or an empty JSON object. */
static int body_empty(const prov_request *req)
{
    if (req->body == NULL || req->body_len == 0)
        return 1;
    json_t *doc = json_loadb(req->body, req->body_len, 0, NULL);
    int ok = json_is_object(doc) && json_object_size(doc) == 0;
    json_decref(doc);
    return ok;
}

void prov_handle_dp_validate(prov_request *req, prov_reply *reply)
{
    prov_field_error err = {{0}, {0}};
    char server[DPF_FQDN_MAX + 1];

    prov_log_enter(req);
    if (!body_empty(req)) {
        prov_reply_error(reply, 400, NULL, "validate takes no body (or {})");
        goto out;
    }
    if (!prov_change_server_param(req, reply, server))
        goto out;
    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL)
        goto out;
    dpf_status st = request(db, server, &req->user, req->corr, &err);
    prov_dbpool_release(req->server->pool, db);
    if (st != DPF_OK) {
        DPF_WARN("Rejected content validation of %s: %s", server, err.message);
        prov_reply_error(reply, prov_maint_http_status(st), err.field, "%s", err.message);
        goto out;
    }
    prov_reply_json(reply, 202, json_pack("{s:s, s:s}", "serverName", server, "correlationId",
                                          req->corr));
out:
    prov_log_leave(req);
}

/* POST /v1/sites/{siteCode}/reset: what a site reset means for the DPs:
 * every DP of the site that is not being removed goes back to 'Pending' in
 * one transaction, and the DistributionPoints trigger turns each into a
 * dp.ins event, so distmgr upgrades them all. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <dpf/dp.h>
#include <dpf/log.h>

#include "change.h"
#include "provider.h"
#include "store_change.h"
#include "store_dp.h"

static dpf_status reset_site(dpf_db *db, const char *site, const prov_user *u, const char *corr,
                             long long *count, prov_field_error *err)
{
    char name[128], object[64];
    dpf_status st = prov_change_begin(db, corr, err);
    if (st != DPF_OK)
        return st;
    st = prov_store_site_lock(db, site, name, sizeof name);
    if (st == DPF_ERR_NOT_FOUND) {
        st = prov_change_err(err, DPF_ERR_NOT_FOUND, "siteCode", "unknown site code '%s'", site);
        goto cleanup;
    }
    if (st != DPF_OK || prov_store_site_reset(db, site, count) != DPF_OK) {
        st = prov_change_db_fail(db, err, "resetting the site's distribution points");
        goto cleanup;
    }
    snprintf(object, sizeof object, "SiteCode=\"%s\"", site);
    if (prov_store_audit(db, u->user, u->app, u->machine, "reset", "SMS_Site", object, corr) != DPF_OK) {
        st = prov_change_db_fail(db, err, "writing the audit log");
        goto cleanup;
    }
    if (dpf_db_commit(db) != DPF_OK)
        st = prov_change_db_fail(db, err, "committing");

cleanup:
    if (st != DPF_OK)
        dpf_db_rollback(db);
    return st;
}

void prov_handle_site_reset(prov_request *req, prov_reply *reply)
{
    prov_field_error err = {{0}, {0}};
    char site[4];
    long long count = 0;

    prov_log_enter(req);
    if (strlen(req->param) != 3) {
        prov_reply_error(reply, 404, "siteCode", "unknown site code '%.16s'", req->param);
        goto out;
    }
    for (int i = 0; i < 3; i++)
        site[i] = (char)toupper((unsigned char)req->param[i]);
    site[3] = '\0';
    if (!dpf_site_code_valid(site)) {
        prov_reply_error(reply, 404, "siteCode", "unknown site code '%s'", site);
        goto out;
    }
    DPF_INFO("Site reset requested for site %s", site);
    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL)
        goto out;
    dpf_status st = reset_site(db, site, &req->user, req->corr, &count, &err);
    prov_dbpool_release(req->server->pool, db);
    if (st != DPF_OK) {
        prov_reply_error(reply, st == DPF_ERR_NOT_FOUND ? 404 : 500, err.field, "%s", err.message);
        goto out;
    }
    DPF_INFO("Site reset of %s: %lld distribution points set to Pending for upgrade", site, count);
    DPF_INFO("Auditing: User %s modified an instance of class SMS_Site.", req->user.user);
    prov_reply_json(reply, 200, json_pack("{s:s, s:I, s:s}", "siteCode", site,
                                          "distributionPoints", (json_int_t)count,
                                          "correlationId", req->corr));
out:
    prov_log_leave(req);
}

/* Shared pieces of the admin-change requests and transactions (dp_create.c,
 * dp_update.c, handle_dp_update.c, handle_dp_delete.c, handle_site_reset.c). */
#include "change.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <dpf/dp.h>
#include <dpf/log.h>
#include <dpf/sitecontrol.h>

#include "store_change.h"
#include "store_dp.h"

dpf_status prov_change_err(prov_field_error *err, dpf_status st, const char *field,
                           const char *fmt, ...)
{
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return st;
}

dpf_status prov_change_db_fail(dpf_db *db, prov_field_error *err, const char *what)
{
    DPF_ERROR("%s failed: %s", what, dpf_db_error(db));
    return prov_change_err(err, DPF_ERR_DB, "", "database error while %s; nothing was changed", what);
}

int prov_change_server_param(const prov_request *req, prov_reply *reply, char *server)
{
    char why[160];
    if (!dpf_fqdn_valid(req->param, why, sizeof why)) {
        prov_reply_error(reply, 404, "serverName", "no distribution point named '%.253s'", req->param);
        return 0;
    }
    size_t n = 0;
    for (; req->param[n] != '\0' && n < DPF_FQDN_MAX; n++)
        server[n] = (char)toupper((unsigned char)req->param[n]);
    server[n] = '\0';
    return 1;
}

dpf_status prov_change_begin(dpf_db *db, const char *corr, prov_field_error *err)
{
    if (dpf_db_begin(db) != DPF_OK)
        return prov_change_db_fail(db, err, "starting the transaction");
    if (dpf_db_set_corr(db, corr) != DPF_OK) {
        dpf_status st = prov_change_db_fail(db, err, "setting the correlation id");
        dpf_db_rollback(db);
        return st;
    }
    return DPF_OK;
}

dpf_status prov_change_find_dp(dpf_db *db, const char *server, long long *role_id, char *site,
                               char *nal, prov_field_error *err)
{
    long long again = 0;
    char name[128];
    dpf_status st = prov_store_dp_role(db, server, role_id, site, nal);
    if (st == DPF_OK && (st = prov_store_site_lock(db, site, name, sizeof name)) == DPF_OK)
        st = prov_store_dp_role(db, server, &again, site, nal);
    if (st == DPF_OK && again != *role_id)
        st = DPF_ERR_NOT_FOUND;
    if (st == DPF_ERR_NOT_FOUND)
        return prov_change_err(err, DPF_ERR_NOT_FOUND, "serverName",
                               "no distribution point named %s", server);
    if (st != DPF_OK)
        return prov_change_db_fail(db, err, "looking up the DP");
    return DPF_OK;
}

dpf_status prov_change_check_sources(dpf_db *db, const prov_dp_spec *s, const char *self,
                                     prov_field_error *err)
{
    char site[16];
    for (size_t i = 0; i < s->n_sources; i++) {
        if (self != NULL && strcmp(s->sources[i].server, self) == 0)
            return prov_change_err(err, DPF_ERR_INVALID, "pullDP.sources",
                                   "a DP cannot be its own pull source (%s)", self);
        dpf_status st = prov_store_dp_site(db, s->sources[i].server, site, sizeof site);
        if (st == DPF_ERR_NOT_FOUND)
            return prov_change_err(err, DPF_ERR_INVALID, "pullDP.sources",
                                   "pull source %s is not a distribution point; add it first",
                                   s->sources[i].server);
        if (st != DPF_OK)
            return prov_change_db_fail(db, err, "looking up the pull sources");
        if (self == NULL)
            continue;
        char via[DPF_FQDN_MAX + 1];
        st = prov_store_pull_chain_reaches(db, s->sources[i].server, self, via, sizeof via);
        if (st == DPF_OK && strcmp(via, s->sources[i].server) == 0)
            return prov_change_err(err, DPF_ERR_CONFLICT, "pullDP.sources",
                                   "pull source %s pulls from %s itself; a chain of pull "
                                   "sources must not lead back to the DP",
                                   s->sources[i].server, self);
        if (st == DPF_OK)
            return prov_change_err(err, DPF_ERR_CONFLICT, "pullDP.sources",
                                   "pull source %s leads back to %s (through %s, which pulls "
                                   "from %s); a chain of pull sources must not lead back to "
                                   "the DP", s->sources[i].server, self, via, self);
        if (st != DPF_ERR_NOT_FOUND)
            return prov_change_db_fail(db, err, "following the pull source chain");
    }
    return DPF_OK;
}

dpf_status prov_change_audit_dp(dpf_db *db, const prov_user *u, const char *corr,
                                const char *action, const char *nal, const char *site,
                                prov_field_error *err)
{
    /* the instance key the source's DeleteInstanceAsync line shows */
    char object[DPF_NAL_MAX + 160];
    snprintf(object, sizeof object,
             "FileType=2,ItemName=\"%s,%s\",ItemType=\"System Resource Usage\",SiteCode=\"%s\"",
             nal, DPF_ROLE_DP, site);
    if (prov_store_audit(db, u->user, u->app, u->machine, action, PROV_CLASS_SYSRES, object,
                         corr) != DPF_OK)
        return prov_change_db_fail(db, err, "writing the audit log");
    return DPF_OK;
}

dpf_status prov_change_commit_site(dpf_db *db, const char *site, prov_field_error *err)
{
    if (prov_store_site_bump(db, site) != DPF_OK)
        return prov_change_db_fail(db, err, "updating the site control");
    if (dpf_db_commit(db) != DPF_OK)
        return prov_change_db_fail(db, err, "committing");
    return DPF_OK;
}

void prov_log_enter(const prov_request *req)
{
    DPF_INFO("CExtUserContext::EnterThread : User=%s", req->user.user);
    DPF_INFO("Context: SMSAppName=%s", req->user.app);
    DPF_INFO("Context: MachineName=%s", req->user.machine);
    DPF_INFO("Context: UserName=%s", req->user.user);
    DPF_INFO("Context: __CorrelationId={%s}", req->corr);
}

void prov_log_leave(const prov_request *req)
{
    (void)req;
    DPF_INFO("CExtUserContext::LeaveThread");
}

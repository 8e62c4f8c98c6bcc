/* The transaction behind POST /v1/distributionpoints. Checks that need the
 * database run inside it, after the site's site_control row is locked, so
 * two admins adding the same DP at once get one 201 and one 409. The log
 * lines follow SMSProv.log; the "Auditing:" and "Successfully added" lines
 * come only after COMMIT, because before it they would not be true yet. */
#include "dp_create.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <dpf/log.h>
#include <dpf/sitecontrol.h>

#include "store_dp.h"

#define CLASS_SYSRES "SMS_SCI_SysResUse"
#define CLASS_GROUP "SMS_BoundaryGroup"

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

static dpf_status set_err(prov_field_error *err, dpf_status st, const char *field,
                          const char *fmt, ...) DPF_PRINTF(4, 5);

static dpf_status set_err(prov_field_error *err, dpf_status st, const char *field,
                          const char *fmt, ...)
{
    snprintf(err->field, sizeof err->field, "%s", field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return st;
}

static dpf_status db_fail(dpf_db *db, prov_field_error *err, const char *what)
{
    DPF_ERROR("%s failed: %s", what, dpf_db_error(db));
    return set_err(err, DPF_ERR_DB, "", "database error while %s; nothing was changed", what);
}

/* The checks that need the database; the site row is locked already. */
static dpf_status check_state(dpf_db *db, const prov_dp_spec *s, const char *nal,
                              prov_field_error *err)
{
    char site[16];
    dpf_status st = prov_store_dp_site(db, s->server, site, sizeof site);
    if (st == DPF_OK)
        return set_err(err, DPF_ERR_CONFLICT, "serverName",
                       "distribution point %s already exists in site %s", s->server, site);
    if (st != DPF_ERR_NOT_FOUND)
        return db_fail(db, err, "looking up the DP");
    st = prov_store_dp_removing(db, nal);
    if (st == DPF_OK)
        return set_err(err, DPF_ERR_CONFLICT, "serverName",
                       "distribution point %s is still being removed; add it again once the "
                       "removal has completed", s->server);
    if (st != DPF_ERR_NOT_FOUND)
        return db_fail(db, err, "looking up the DP");
    for (size_t i = 0; i < s->n_sources; i++) {
        st = prov_store_dp_site(db, s->sources[i].server, site, sizeof site);
        if (st == DPF_ERR_NOT_FOUND)
            return set_err(err, DPF_ERR_INVALID, "pullDP.sources",
                           "pull source %s is not a distribution point; add it first",
                           s->sources[i].server);
        if (st != DPF_OK)
            return db_fail(db, err, "looking up the pull sources");
    }
    return DPF_OK;
}

static dpf_status write_roles(dpf_db *db, const prov_dp_spec *s, const char *nal,
                              const prov_user *u, const char *corr, prov_field_error *err)
{
    long long sys_id = 0, dp_id = 0;
    DPF_INFO("insert into site_system_roles (site_code, role_name, nal_path, nal_res_type) "
             "values (N'%s', N'%s', N'%s', N'Windows NT Server')", s->site, DPF_ROLE_SITE_SYSTEM, nal);
    if (prov_store_role_insert(db, s->site, DPF_ROLE_SITE_SYSTEM, nal, s->server, 1, &sys_id) != DPF_OK)
        return db_fail(db, err, "inserting the site system role");
    dpf_status st = prov_store_role_insert(db, s->site, DPF_ROLE_DP, nal, s->server, 0, &dp_id);
    if (st == DPF_ERR_CONFLICT)
        return set_err(err, DPF_ERR_CONFLICT, "serverName",
                       "distribution point %s already exists in site %s", s->server, s->site);
    if (st != DPF_OK)
        return db_fail(db, err, "inserting the distribution point role");
    prov_dp_props props = {
        .description = s->description, .drive = s->drive, .is_pxe = s->enable_pxe,
        .is_pull = s->is_pull, .priority = s->priority, .min_free_mb = s->min_free_mb,
        .transfer_rate = 0, .ssl_state = 0,
    };
    if (prov_store_props_write(db, dp_id, &props) != DPF_OK)
        return db_fail(db, err, "writing the DP properties");
    for (size_t i = 0; i < s->n_sources; i++) {
        if (prov_store_pull_source_add(db, dp_id, s->sources[i].server, s->sources[i].priority) != DPF_OK)
            return db_fail(db, err, "writing the pull sources");
    }
    char object[DPF_NAL_MAX + 160];
    snprintf(object, sizeof object,
             "FileType=2,ItemName=\"%s,%s\",ItemType=\"System Resource Usage\",SiteCode=\"%s\"",
             nal, DPF_ROLE_DP, s->site);
    if (prov_store_audit(db, u->user, u->app, u->machine, "created", CLASS_SYSRES, object, corr) != DPF_OK)
        return db_fail(db, err, "writing the audit log");
    return DPF_OK;
}

/* Step 2: boundary group membership. names[i] receives each group's stored
 * name for the lines logged after COMMIT. */
static dpf_status write_groups(dpf_db *db, const prov_dp_spec *s, const char *nal,
                               const prov_user *u, const char *corr,
                               char names[][PROV_GROUP_NAME_MAX + 1], prov_field_error *err)
{
    if (s->n_groups > 0)
        DPF_INFO("AddSiteSystem");
    for (size_t i = 0; i < s->n_groups; i++) {
        long long gid = 0;
        int created = 0, added = 0;
        if (prov_store_group_ensure(db, s->groups[i], s->site, &gid, &created, names[i],
                                    PROV_GROUP_NAME_MAX + 1) != DPF_OK)
            return db_fail(db, err, "creating the boundary group");
        char object[PROV_GROUP_NAME_MAX + 64];
        snprintf(object, sizeof object, "GroupID=%lld,Name=\"%s\"", gid, names[i]);
        if (created) {
            DPF_INFO("Creating boundary group %s in site %s", names[i], s->site);
            if (prov_store_audit(db, u->user, u->app, u->machine, "created", CLASS_GROUP, object, corr) != DPF_OK)
                return db_fail(db, err, "writing the audit log");
        }
        DPF_INFO("Adding site system %s to the boundary group %s", nal, names[i]);
        if (prov_store_group_add_member(db, gid, nal, s->server, &added) != DPF_OK)
            return db_fail(db, err, "adding the DP to the boundary group");
        if (prov_store_audit(db, u->user, u->app, u->machine, "modified", CLASS_GROUP, object, corr) != DPF_OK)
            return db_fail(db, err, "writing the audit log");
    }
    return DPF_OK;
}

dpf_status prov_dp_create(dpf_db *db, const prov_dp_spec *s, const prov_user *u,
                          const char *corr, char *nal, size_t nal_len, prov_field_error *err)
{
    char names[PROV_GROUPS_MAX][PROV_GROUP_NAME_MAX + 1];
    char site_name[128];
    memset(err, 0, sizeof *err);
    if (dpf_nal_path(s->server, s->site, nal, nal_len) != DPF_OK)
        return set_err(err, DPF_ERR_INVALID, "serverName", "the NAL path for %s is too long",
                       s->server);
    if (dpf_db_begin(db) != DPF_OK)
        return db_fail(db, err, "starting the transaction");
    dpf_status st = DPF_OK;
    if (dpf_db_set_corr(db, corr) != DPF_OK) {
        st = db_fail(db, err, "setting the correlation id");
        goto cleanup;
    }
    st = prov_store_site_lock(db, s->site, site_name, sizeof site_name);
    if (st == DPF_ERR_NOT_FOUND) {
        st = set_err(err, DPF_ERR_NOT_FOUND, "siteCode", "unknown site code '%s'", s->site);
        goto cleanup;
    }
    if (st != DPF_OK) {
        st = db_fail(db, err, "locking the site");
        goto cleanup;
    }
    if ((st = check_state(db, s, nal, err)) != DPF_OK ||
        (st = write_roles(db, s, nal, u, corr, err)) != DPF_OK ||
        (st = write_groups(db, s, nal, u, corr, names, err)) != DPF_OK)
        goto cleanup;
    /* one admin change = one site control change = one wake-up of hman */
    if (prov_store_site_bump(db, s->site) != DPF_OK) {
        st = db_fail(db, err, "updating the site control");
        goto cleanup;
    }
    if (dpf_db_commit(db) != DPF_OK) {
        st = db_fail(db, err, "committing");
        goto cleanup;
    }
    DPF_INFO("Auditing: User %s created an instance of class %s.", u->user, CLASS_SYSRES);
    for (size_t i = 0; i < s->n_groups; i++) {
        DPF_INFO("Successfully added 1 servers to boundary group %s", names[i]);
        DPF_INFO("Auditing: User %s modified an instance of class %s.", u->user, CLASS_GROUP);
    }
    return DPF_OK;

cleanup:
    dpf_db_rollback(db);
    return st;
}

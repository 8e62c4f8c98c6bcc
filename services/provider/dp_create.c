/* The transaction behind POST /v1/distributionpoints. Checks that need the
 * database run inside it, after the site's site_control row is locked, so
 * two admins adding the same DP at once get one 201 and one 409. The log
 * lines follow SMSProv.log; the "Auditing:" and "Successfully added" lines
 * come only after COMMIT, because before it they would not be true yet. */
#include "dp_create.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dpf/log.h>
#include <dpf/sitecontrol.h>

#include "change.h"
#include "groups.h"
#include "store_dp.h"

/* The checks that need the database; the site row is locked already. */
static dpf_status check_state(dpf_db *db, const prov_dp_spec *s, const char *nal,
                              prov_field_error *err)
{
    char site[16];
    dpf_status st = prov_store_dp_site(db, s->server, site, sizeof site);
    if (st == DPF_OK)
        return prov_change_err(err, DPF_ERR_CONFLICT, "serverName",
                               "distribution point %s already exists in site %s", s->server, site);
    if (st != DPF_ERR_NOT_FOUND)
        return prov_change_db_fail(db, err, "looking up the DP");
    st = prov_store_dp_removing(db, nal);
    if (st == DPF_OK)
        return prov_change_err(err, DPF_ERR_CONFLICT, "serverName",
                               "distribution point %s is still being removed; add it again once the "
                               "removal has completed", s->server);
    if (st != DPF_ERR_NOT_FOUND)
        return prov_change_db_fail(db, err, "looking up the DP");
    return prov_change_check_sources(db, s, s->server, err);
}

static dpf_status write_roles(dpf_db *db, const prov_dp_spec *s, const char *nal,
                              const prov_user *u, const char *corr, prov_field_error *err)
{
    long long sys_id = 0, dp_id = 0;
    DPF_INFO("insert into site_system_roles (site_code, role_name, nal_path, nal_res_type) "
             "values (N'%s', N'%s', N'%s', N'Windows NT Server')", s->site, DPF_ROLE_SITE_SYSTEM, nal);
    if (prov_store_role_insert(db, s->site, DPF_ROLE_SITE_SYSTEM, nal, s->server, 1, &sys_id) != DPF_OK)
        return prov_change_db_fail(db, err, "inserting the site system role");
    dpf_status st = prov_store_role_insert(db, s->site, DPF_ROLE_DP, nal, s->server, 0, &dp_id);
    if (st == DPF_ERR_CONFLICT)
        return prov_change_err(err, DPF_ERR_CONFLICT, "serverName",
                               "distribution point %s already exists in site %s", s->server, s->site);
    if (st != DPF_OK)
        return prov_change_db_fail(db, err, "inserting the distribution point role");
    prov_dp_props props = {
        .description = s->description, .drive = s->drive, .is_pxe = s->enable_pxe,
        .is_pull = s->is_pull, .priority = s->priority, .min_free_mb = s->min_free_mb,
        .transfer_rate = 0, .ssl_state = 0, .validation_hours = s->validation_hours,
    };
    if (prov_store_props_write(db, dp_id, &props) != DPF_OK)
        return prov_change_db_fail(db, err, "writing the DP properties");
    for (size_t i = 0; i < s->n_sources; i++) {
        if (prov_store_pull_source_add(db, dp_id, s->sources[i].server, s->sources[i].priority) != DPF_OK)
            return prov_change_db_fail(db, err, "writing the pull sources");
    }
    return prov_change_audit_dp(db, u, corr, "created", nal, s->site, err);
}

dpf_status prov_dp_create(dpf_db *db, const prov_dp_spec *s, const prov_user *u,
                          const char *corr, char *nal, size_t nal_len, prov_field_error *err)
{
    prov_group_changes *ch = NULL;
    char site_name[128];
    memset(err, 0, sizeof *err);
    if (dpf_nal_path(s->server, s->site, nal, nal_len) != DPF_OK)
        return prov_change_err(err, DPF_ERR_INVALID, "serverName", "the NAL path for %s is too long",
                       s->server);
    dpf_status st = prov_change_begin(db, corr, err);
    if (st != DPF_OK)
        return st;
    st = prov_store_site_lock(db, s->site, site_name, sizeof site_name);
    if (st == DPF_ERR_NOT_FOUND) {
        st = prov_change_err(err, DPF_ERR_NOT_FOUND, "siteCode", "unknown site code '%s'", s->site);
        goto cleanup;
    }
    if (st != DPF_OK) {
        st = prov_change_db_fail(db, err, "locking the site");
        goto cleanup;
    }
    prov_group_target target = {.site = s->site, .nal = nal, .server = s->server, .user = u,
                                .corr = corr};
    ch = calloc(1, sizeof *ch); /* ~16 KB: kept off the HTTP thread's stack */
    if (ch == NULL) {
        st = prov_change_err(err, DPF_ERR_NOMEM, "", "out of memory");
        goto cleanup;
    }
    if ((st = check_state(db, s, nal, err)) != DPF_OK ||
        (st = write_roles(db, s, nal, u, corr, err)) != DPF_OK ||
        (st = prov_groups_add(db, &target, s->groups, s->n_groups, ch, err)) != DPF_OK)
        goto cleanup;
    if ((st = prov_change_commit_site(db, s->site, err)) != DPF_OK)
        goto cleanup;
    DPF_INFO("Auditing: User %s created an instance of class %s.", u->user, PROV_CLASS_SYSRES);
    prov_groups_log_committed(ch, u->user);

cleanup:
    if (st != DPF_OK)
        dpf_db_rollback(db);
    free(ch);
    return st;
}

/* The transaction behind PATCH /v1/distributionpoints/{serverName}. The
 * stored properties are read, the given fields laid over them, and all nine
 * written back, so the role always has a complete set for hman's CRC. */
#include "dp_update.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dpf/dp.h>
#include <dpf/log.h>

#include "change.h"
#include "groups.h"
#include "maint.h"
#include "store_change.h"
#include "store_dp.h"

static void merge(prov_dp_props *p, const prov_dp_spec *s)
{
    if (s->present & PROV_F_DESCRIPTION)
        p->description = s->description;
    if (s->present & PROV_F_DRIVE)
        p->drive = s->drive;
    if (s->present & PROV_F_PXE)
        p->is_pxe = s->enable_pxe;
    if (s->present & PROV_F_PULL)
        p->is_pull = s->is_pull;
    if (s->present & PROV_F_MIN_FREE)
        p->min_free_mb = s->min_free_mb;
    if (s->present & PROV_F_PRIORITY)
        p->priority = s->priority;
    if (s->present & PROV_F_VALIDATION)
        p->validation_hours = s->validation_hours;
}

static dpf_status write_sources(dpf_db *db, long long role_id, const char *server,
                                const prov_dp_spec *s, prov_field_error *err)
{
    dpf_status st = prov_change_check_sources(db, s, server, err);
    if (st != DPF_OK)
        return st;
    if (prov_store_pull_sources_clear(db, role_id) != DPF_OK)
        return prov_change_db_fail(db, err, "writing the pull sources");
    for (size_t i = 0; i < s->n_sources; i++) {
        if (prov_store_pull_source_add(db, role_id, s->sources[i].server, s->sources[i].priority) != DPF_OK)
            return prov_change_db_fail(db, err, "writing the pull sources");
    }
    return DPF_OK;
}

static dpf_status write_props(dpf_db *db, long long role_id, const prov_dp_spec *s,
                              prov_field_error *err)
{
    prov_dp_props_buf *cur = malloc(sizeof *cur);
    if (cur == NULL)
        return prov_change_err(err, DPF_ERR_NOMEM, "", "out of memory");
    dpf_status st = DPF_OK;
    if (prov_store_props_read(db, role_id, cur) != DPF_OK) {
        st = prov_change_db_fail(db, err, "reading the DP properties");
    } else {
        merge(&cur->p, s);
        if (prov_store_props_write(db, role_id, &cur->p) != DPF_OK)
            st = prov_change_db_fail(db, err, "writing the DP properties");
    }
    free(cur);
    return st;
}

dpf_status prov_dp_update(dpf_db *db, const char *server, const prov_dp_spec *s,
                          const prov_user *u, const char *corr, char *site, char *nal,
                          prov_field_error *err)
{
    long long role_id = 0;
    prov_group_changes *ch = NULL;
    memset(err, 0, sizeof *err);
    dpf_status st = prov_change_begin(db, corr, err);
    if (st != DPF_OK)
        return st;
    if ((st = prov_change_find_dp(db, server, &role_id, site, nal, err)) != DPF_OK)
        goto cleanup;
    /* under the site lock every setter of maintenance mode takes too */
    if ((st = prov_maint_check_writable(db, nal, server, err)) != DPF_OK)
        goto cleanup;
    ch = calloc(1, sizeof *ch);
    if (ch == NULL) {
        st = prov_change_err(err, DPF_ERR_NOMEM, "", "out of memory");
        goto cleanup;
    }
    prov_group_target target = {.site = site, .nal = nal, .server = server, .user = u, .corr = corr};
    if ((s->present & PROV_F_PULL) && (st = write_sources(db, role_id, server, s, err)) != DPF_OK)
        goto cleanup;
    if ((st = write_props(db, role_id, s, err)) != DPF_OK)
        goto cleanup;
    if ((s->present & PROV_F_GROUPS) &&
        (st = prov_groups_set(db, &target, s->groups, s->n_groups, ch, err)) != DPF_OK)
        goto cleanup;
    if ((st = prov_change_audit_dp(db, u, corr, "modified", nal, site, err)) != DPF_OK)
        goto cleanup;
    if ((st = prov_change_commit_site(db, site, err)) != DPF_OK)
        goto cleanup;
    DPF_INFO("Auditing: User %s modified an instance of class %s.", u->user, PROV_CLASS_SYSRES);
    prov_groups_log_committed(ch, u->user);

cleanup:
    if (st != DPF_OK)
        dpf_db_rollback(db);
    free(ch);
    return st;
}

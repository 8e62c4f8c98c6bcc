/* PATCH /v1/boundarygroups/{name}: changes the fields the body carries;
 * boundaries and neighbors replace the whole set. Making the group its
 * site's default takes the flag from the previous one in the same
 * transaction; taking the flag off the default without naming another is
 * refused, because clients in no group would then have nowhere to go. */
#include <string.h>

#include <dpf/log.h>

#include "bg_change.h"
#include "change.h"
#include "pkg_change.h"

static dpf_status update(dpf_db *db, const prov_request *req, const char *name,
                         const prov_bg_spec *s, prov_bg_row *row, prov_bg_changes *ch,
                         prov_field_error *err)
{
    dpf_status st = prov_bg_begin(db, req->corr, name, row, err);
    if (st != DPF_OK)
        return st;
    int make_default = -1;
    if (s->present & PROV_BG_F_SITE_DEFAULT) {
        if (!s->site_default && row->site_default) {
            st = prov_change_err(err, DPF_ERR_CONFLICT, "siteDefault", "%s is the site default "
                                 "boundary group of site %s; make another group the site "
                                 "default instead", row->name, row->site);
            goto cleanup;
        }
        if (s->site_default && row->site[0] == '\0') {
            st = prov_change_err(err, DPF_ERR_INVALID, "siteDefault", "boundary group %s belongs "
                                 "to no site and cannot be a site default", row->name);
            goto cleanup;
        }
        if (s->site_default && !row->site_default) {
            make_default = 1;
            if ((st = prov_bg_take_default(db, row->site, row->id, ch, err)) != DPF_OK)
                goto cleanup;
        }
    }
    if ((st = prov_bg_check_neighbors(db, s, err)) != DPF_OK)
        goto cleanup;
    st = prov_store_bg_update(db, row->id,
                              (s->present & PROV_BG_F_DESCRIPTION) ? s->description : NULL,
                              make_default,
                              (s->present & PROV_BG_F_FALLBACK) ? s->default_fallback : -1);
    if (st != DPF_OK) {
        st = prov_change_db_fail(db, err, "updating the boundary group");
        goto cleanup;
    }
    if ((st = prov_bg_write_sets(db, row->id, s, err)) != DPF_OK)
        goto cleanup;
    st = prov_bg_audit_commit(db, req, "modified", row->id, row->name, ch, err);
cleanup:
    if (st != DPF_OK)
        dpf_db_rollback(db);
    return st;
}

void prov_handle_bg_update(prov_request *req, prov_reply *reply)
{
    char name[PROV_GROUP_NAME_MAX + 1];
    prov_bg_spec spec;
    prov_field_error err;
    prov_bg_changes ch;
    prov_bg_row row;
    memset(&ch, 0, sizeof ch);
    memset(&spec, 0, sizeof spec);

    if (!prov_bg_name_param(req, reply, name))
        return;
    prov_log_enter(req);
    DPF_INFO("PutInstanceAsync %s (modify %s)", PROV_CLASS_GROUP, name);
    dpf_status st = prov_bg_spec_parse(req->body, req->body_len, PROV_BG_UPDATE, name, &spec,
                                       &err);
    if (st != DPF_OK) {
        prov_pkg_reply_error(reply, st, &err, "modify SMS_BoundaryGroup");
        goto out;
    }
    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL)
        goto out;
    st = update(db, req, name, &spec, &row, &ch, &err);
    prov_dbpool_release(req->server->pool, db);
    if (st != DPF_OK) {
        prov_pkg_reply_error(reply, st, &err, "modify SMS_BoundaryGroup");
        goto out;
    }
    DPF_INFO("Modified boundary group %s:%s%s%s%s%s", row.name,
             (spec.present & PROV_BG_F_DESCRIPTION) ? " description" : "",
             (spec.present & PROV_BG_F_BOUNDARIES) ? " boundaries" : "",
             (spec.present & PROV_BG_F_NEIGHBORS) ? " neighbors" : "",
             (spec.present & PROV_BG_F_SITE_DEFAULT) ? " siteDefault" : "",
             (spec.present & PROV_BG_F_FALLBACK) ? " defaultFallbackMinutes" : "");
    prov_bg_log_committed(req, "modified", row.name, row.site, &ch);
    prov_bg_reply_group(req, reply, 200, row.name);
out:
    prov_bg_spec_clear(&spec);
    prov_log_leave(req);
}

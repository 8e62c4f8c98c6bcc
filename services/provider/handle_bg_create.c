/* POST /v1/boundarygroups: the source's PutInstanceAsync SMS_BoundaryGroup.
 * The body is checked first (boundaries parsed and put in canonical form,
 * no group its own neighbor), then one transaction under the change lock:
 * the site exists, the name is free (case-insensitive), every neighbor is a
 * group, the site's previous default gives up the flag when this group takes
 * it, the group, its boundaries and neighbors go in, and the audit rows. */
#include <string.h>

#include <dpf/log.h>

#include "bg_change.h"
#include "change.h"
#include "pkg_change.h"
#include "store_pkg.h"

static dpf_status create(dpf_db *db, const prov_request *req, const prov_bg_spec *s,
                         prov_bg_changes *ch, prov_field_error *err)
{
    prov_bg_row other;
    long long id = 0;
    dpf_status st = prov_bg_begin(db, req->corr, NULL, NULL, err);
    if (st != DPF_OK)
        return st;
    st = prov_store_pkg_site_exists(db, s->site);
    if (st == DPF_ERR_NOT_FOUND) {
        st = prov_change_err(err, DPF_ERR_INVALID, "siteCode", "unknown site code '%s'", s->site);
        goto cleanup;
    }
    if (st != DPF_OK) {
        st = prov_change_db_fail(db, err, "looking up the site");
        goto cleanup;
    }
    st = prov_store_bg_find(db, s->name, &other);
    if (st == DPF_OK) {
        st = prov_change_err(err, DPF_ERR_CONFLICT, "name", "a boundary group named '%s' exists "
                             "already", other.name);
        goto cleanup;
    }
    if (st != DPF_ERR_NOT_FOUND) {
        st = prov_change_db_fail(db, err, "looking up the group name");
        goto cleanup;
    }
    if ((st = prov_bg_check_neighbors(db, s, err)) != DPF_OK)
        goto cleanup;
    if (s->site_default && (st = prov_bg_take_default(db, s->site, 0, ch, err)) != DPF_OK)
        goto cleanup;
    st = prov_store_bg_insert(db, s->name, s->site, s->description, s->site_default,
                              s->default_fallback, &id);
    if (st == DPF_ERR_CONFLICT) {
        st = prov_change_err(err, DPF_ERR_CONFLICT, "name", "a boundary group named '%s' exists "
                             "already", s->name);
        goto cleanup;
    }
    if (st != DPF_OK) {
        st = prov_change_db_fail(db, err, "inserting the boundary group");
        goto cleanup;
    }
    if ((st = prov_bg_write_sets(db, id, s, err)) != DPF_OK)
        goto cleanup;
    st = prov_bg_audit_commit(db, req, "created", id, s->name, ch, err);
cleanup:
    if (st != DPF_OK)
        dpf_db_rollback(db);
    return st;
}

void prov_handle_bg_create(prov_request *req, prov_reply *reply)
{
    prov_bg_spec spec;
    prov_field_error err;
    prov_bg_changes ch;
    memset(&ch, 0, sizeof ch);

    prov_log_enter(req);
    DPF_INFO("PutInstanceAsync %s", PROV_CLASS_GROUP);
    dpf_status st = prov_bg_spec_parse(req->body, req->body_len, PROV_BG_CREATE, NULL, &spec,
                                       &err);
    if (st != DPF_OK) {
        prov_pkg_reply_error(reply, st, &err, "PutInstanceAsync SMS_BoundaryGroup");
        goto out;
    }
    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL)
        goto out;
    st = create(db, req, &spec, &ch, &err);
    prov_dbpool_release(req->server->pool, db);
    if (st != DPF_OK) {
        prov_pkg_reply_error(reply, st, &err, "PutInstanceAsync SMS_BoundaryGroup");
        goto out;
    }
    DPF_INFO("Creating boundary group %s in site %s: %zu boundaries, %zu neighbors%s",
             spec.name, spec.site, json_array_size(spec.boundaries),
             json_array_size(spec.neighbors),
             spec.site_default ? ", the site default boundary group" : "");
    prov_bg_log_committed(req, "created", spec.name, spec.site, &ch);
    prov_bg_reply_group(req, reply, 201, spec.name);
out:
    prov_bg_spec_clear(&spec);
    prov_log_leave(req);
}

/* POST /v1/packages: the source's PutInstanceAsync SMS_Package. The body is
 * checked, then the source directory against the content source roots
 * (before any database work), then one transaction: the name must be free
 * (checked under a lock, so two admins creating the same name get one 201
 * and one 409), the package row goes in as Processing with version 1 and
 * its trigger queues the processing for distmgr, and the audit row. */
#include <stdio.h>

#include <dpf/log.h>

#include "change.h"
#include "pkg_change.h"
#include "provider.h"
#include "store_pkg.h"
#include "validate_pkg.h"

static dpf_status create(dpf_db *db, const prov_pkg_spec *s, const char *source,
                         const prov_user *u, const char *corr, char *id, size_t len,
                         prov_field_error *err)
{
    char other[32];
    dpf_status st = prov_change_begin(db, corr, err);
    if (st != DPF_OK)
        return st;
    st = prov_store_pkg_site_exists(db, s->site);
    if (st == DPF_ERR_NOT_FOUND) {
        st = prov_change_err(err, DPF_ERR_INVALID, "siteCode", "unknown site code '%s'", s->site);
        goto cleanup;
    }
    if (st != DPF_OK || (st = prov_store_pkg_lock_names(db)) != DPF_OK) {
        st = prov_change_db_fail(db, err, "looking up the site");
        goto cleanup;
    }
    st = prov_store_pkg_by_name(db, s->name, other, sizeof other);
    if (st == DPF_OK) {
        st = prov_change_err(err, DPF_ERR_CONFLICT, "name", "a package named '%s' exists "
                             "already (%s)", s->name, other);
        goto cleanup;
    }
    if (st != DPF_ERR_NOT_FOUND) {
        st = prov_change_db_fail(db, err, "looking up the package name");
        goto cleanup;
    }
    st = prov_store_pkg_insert(db, s->site, s->name, s->description, source, id, len);
    if (st == DPF_ERR_CONFLICT) {
        st = prov_change_err(err, DPF_ERR_CONFLICT, "", "the next package id of site %s is "
                             "taken already; try again", s->site);
        goto cleanup;
    }
    if (st != DPF_OK) {
        st = prov_change_db_fail(db, err, "inserting the package");
        goto cleanup;
    }
    st = prov_pkg_audit_commit(db, u, corr, "created", PROV_CLASS_PACKAGE, id, err);

cleanup:
    if (st != DPF_OK)
        dpf_db_rollback(db);
    return st;
}

void prov_handle_pkg_create(prov_request *req, prov_reply *reply)
{
    prov_pkg_spec spec;
    prov_field_error err;
    char source[PROV_PKG_PATH_MAX + 1], id[32] = "";

    prov_log_enter(req);
    DPF_INFO("PutInstanceAsync %s", PROV_CLASS_PACKAGE);
    dpf_status st = prov_pkg_spec_parse(req->body, req->body_len, &spec, &err);
    if (st == DPF_OK)
        st = prov_pkg_source_check(spec.source_path, req->server->content_roots, source, &err);
    if (st != DPF_OK) {
        prov_pkg_reply_error(reply, st, &err, "PutInstanceAsync SMS_Package");
        goto out;
    }
    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL)
        goto out;
    st = create(db, &spec, source, &req->user, req->corr, id, sizeof id, &err);
    prov_dbpool_release(req->server->pool, db);
    if (st != DPF_OK) {
        prov_pkg_reply_error(reply, st, &err, "PutInstanceAsync SMS_Package");
        goto out;
    }
    DPF_INFO("Auditing: User %s created an instance of class %s.", req->user.user,
             PROV_CLASS_PACKAGE);
    DPF_INFO("Package %s '%s' created from %s (site %s); version 1 is queued for processing",
             id, spec.name, source, spec.site);
    prov_reply_json(reply, 201, json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:s}", "packageId", id,
                                          "name", spec.name, "siteCode", spec.site,
                                          "sourcePath", source, "version", 1,
                                          "state", "Processing", "correlationId", req->corr));
out:
    prov_pkg_spec_clear(&spec);
    prov_log_leave(req);
}

/* POST /v1/packages/{packageId}/update: the source's "Update Distribution
 * Points" of a package: its source directory is read again into a new
 * version. The directory is checked again (it may have gone, or the roots
 * changed); a package already being processed or deleted is refused (409),
 * and so is a client package, which has no source directory. */
#include <string.h>

#include <dpf/log.h>

#include "change.h"
#include "pkg_change.h"
#include "provider.h"
#include "validate_pkg.h"

static dpf_status update(dpf_db *db, const char *id, const char *roots, const prov_user *u,
                         const char *corr, long long *version, prov_field_error *err)
{
    prov_pkg_row row;
    char source[PROV_PKG_PATH_MAX + 1];
    dpf_status st = prov_pkg_begin(db, corr, id, &row, err);
    if (st != DPF_OK)
        return st;
    if ((st = prov_pkg_not_deleting(&row, err)) != DPF_OK)
        goto cleanup;
    if (strcmp(row.state, "Processing") == 0) {
        st = prov_change_err(err, DPF_ERR_CONFLICT, "packageId", "package %s is being processed "
                             "(version %lld); update it once that is done", id,
                             row.source_version);
        goto cleanup;
    }
    if (row.is_client || row.source_path[0] == '\0') {
        st = prov_change_err(err, DPF_ERR_CONFLICT, "packageId", "package %s has no source "
                             "directory to read again", id);
        goto cleanup;
    }
    if ((st = prov_pkg_source_check(row.source_path, roots, source, err)) != DPF_OK)
        goto cleanup;
    if ((st = prov_store_pkg_new_version(db, id, version)) != DPF_OK) {
        st = prov_change_db_fail(db, err, "updating the package");
        goto cleanup;
    }
    st = prov_pkg_audit_commit(db, u, corr, "modified", PROV_CLASS_PACKAGE, id, err);

cleanup:
    if (st != DPF_OK)
        dpf_db_rollback(db);
    return st;
}

void prov_handle_pkg_update(prov_request *req, prov_reply *reply)
{
    prov_field_error err = {{0}, {0}};
    char id[PROV_PKG_ID_LEN + 1];
    long long version = 0;

    prov_log_enter(req);
    if (!prov_pkg_id_param(req, reply, id))
        goto out;
    if (req->body_len > 0) { /* nothing, or an empty object */
        json_t *doc = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, NULL);
        int empty = json_is_object(doc) && json_object_size(doc) == 0;
        json_decref(doc);
        if (!empty) {
            prov_reply_error(reply, 400, "", "this request takes no body (or {})");
            goto out;
        }
    }
    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL)
        goto out;
    dpf_status st = update(db, id, req->server->content_roots, &req->user, req->corr, &version,
                           &err);
    prov_dbpool_release(req->server->pool, db);
    if (st != DPF_OK) {
        prov_pkg_reply_error(reply, st, &err, "update of package");
        goto out;
    }
    DPF_INFO("Auditing: User %s modified an instance of class %s.", req->user.user,
             PROV_CLASS_PACKAGE);
    DPF_INFO("Package %s: version %lld is queued for processing", id, version);
    prov_reply_json(reply, 202, json_pack("{s:s, s:I, s:s, s:s}", "packageId", id,
                                          "version", (json_int_t)version, "state", "Processing",
                                          "correlationId", req->corr));
out:
    prov_log_leave(req);
}

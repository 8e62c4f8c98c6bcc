/* Shared pieces of the boundary group changes. Every change takes one
 * advisory lock first, so two administrators creating the same name, or
 * making two groups the default of one site, run one after the other and
 * the second sees what the first did; the group row itself is then locked
 * FOR UPDATE, which also waits for a DP change that is adding a member to
 * it (the member's foreign key takes a share lock on the row), so a DELETE
 * never misses a DP joining at the same moment. */
#include "bg_change.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dpf/log.h>

#include "change.h"

int prov_bg_name_param(const prov_request *req, prov_reply *reply, char *name)
{
    if (!prov_bg_name_ok(req->param)) {
        prov_reply_error(reply, 404, "name", "no boundary group named '%.128s'", req->param);
        return 0;
    }
    size_t n = strlen(req->param); /* prov_bg_name_ok: at most PROV_GROUP_NAME_MAX */
    memcpy(name, req->param, n + 1);
    return 1;
}

dpf_status prov_bg_begin(dpf_db *db, const char *corr, const char *name, prov_bg_row *row,
                         prov_field_error *err)
{
    dpf_status st = prov_change_begin(db, corr, err);
    if (st != DPF_OK)
        return st;
    if (prov_store_bg_lock(db) != DPF_OK) {
        st = prov_change_db_fail(db, err, "locking the boundary groups");
        goto fail;
    }
    if (name == NULL)
        return DPF_OK;
    st = prov_store_bg_find(db, name, row);
    if (st == DPF_ERR_NOT_FOUND) {
        st = prov_change_err(err, DPF_ERR_NOT_FOUND, "name", "no boundary group named '%s'",
                             name);
        goto fail;
    }
    if (st == DPF_OK)
        return DPF_OK;
    st = prov_change_db_fail(db, err, "reading the boundary group");
fail:
    dpf_db_rollback(db);
    return st;
}

dpf_status prov_bg_check_neighbors(dpf_db *db, const prov_bg_spec *s, prov_field_error *err)
{
    if (!(s->present & PROV_BG_F_NEIGHBORS) || json_array_size(s->neighbors) == 0)
        return DPF_OK;
    char *json = json_dumps(s->neighbors, JSON_COMPACT);
    dpf_db_result *r = NULL;
    dpf_status st = json ? prov_store_bg_missing(db, json, &r) : DPF_ERR_NOMEM;
    free(json);
    if (st != DPF_OK)
        return prov_change_db_fail(db, err, "looking up the neighbor groups");
    if (dpf_db_result_rows(r) > 0) {
        const char *missing = dpf_db_result_get(r, 0, 0);
        size_t at = 0;
        for (size_t i = 0; i < json_array_size(s->neighbors); i++) {
            json_t *n = json_object_get(json_array_get(s->neighbors, i), "name");
            if (strcmp(json_string_value(n), missing) == 0) {
                at = i;
                break;
            }
        }
        char field[48];
        snprintf(field, sizeof field, "neighbors[%zu]", at);
        st = prov_change_err(err, DPF_ERR_NOT_FOUND, field, "no boundary group named '%s' "
                             "(neighbors[%zu]); create it first", missing, at);
    }
    dpf_db_result_free(r);
    return st;
}

dpf_status prov_bg_take_default(dpf_db *db, const char *site, long long id, prov_bg_changes *ch,
                                prov_field_error *err)
{
    dpf_db_result *r = NULL;
    if (prov_store_bg_clear_default(db, site, id, &r) != DPF_OK)
        return prov_change_db_fail(db, err, "clearing the previous site default group");
    for (int i = 0; i < dpf_db_result_rows(r) && ch->n_cleared < PROV_BG_CLEARED_MAX; i++) {
        ch->cleared_id[ch->n_cleared] = dpf_db_result_int(r, i, 0);
        snprintf(ch->cleared[ch->n_cleared++], PROV_GROUP_NAME_MAX + 1, "%s",
                 dpf_db_result_get(r, i, 1));
    }
    dpf_db_result_free(r);
    return DPF_OK;
}

dpf_status prov_bg_write_sets(dpf_db *db, long long id, const prov_bg_spec *s,
                              prov_field_error *err)
{
    char *json = NULL;
    if (s->present & PROV_BG_F_BOUNDARIES) {
        json = json_dumps(s->boundaries, JSON_COMPACT);
        dpf_status st = json ? prov_store_bg_set_boundaries(db, id, json) : DPF_ERR_NOMEM;
        free(json);
        if (st != DPF_OK)
            return prov_change_db_fail(db, err, "writing the boundaries");
    }
    if (s->present & PROV_BG_F_NEIGHBORS) {
        json = json_dumps(s->neighbors, JSON_COMPACT);
        dpf_status st = json ? prov_store_bg_set_neighbors(db, id, json) : DPF_ERR_NOMEM;
        free(json);
        if (st != DPF_OK)
            return prov_change_db_fail(db, err, "writing the neighbors");
    }
    return DPF_OK;
}

dpf_status prov_bg_audit_commit(dpf_db *db, const prov_request *req, const char *action,
                                long long id, const char *name, const prov_bg_changes *ch,
                                prov_field_error *err)
{
    const prov_user *u = &req->user;
    if (prov_store_bg_audit(db, u->user, u->app, u->machine, action, id, name, req->corr) !=
        DPF_OK)
        return prov_change_db_fail(db, err, "writing the audit log");
    for (size_t i = 0; ch != NULL && i < ch->n_cleared; i++) {
        if (prov_store_bg_audit(db, u->user, u->app, u->machine, "modified", ch->cleared_id[i],
                                ch->cleared[i], req->corr) != DPF_OK)
            return prov_change_db_fail(db, err, "writing the audit log");
    }
    if (dpf_db_commit(db) != DPF_OK)
        return prov_change_db_fail(db, err, "committing");
    return DPF_OK;
}

void prov_bg_log_committed(const prov_request *req, const char *action, const char *name,
                           const char *site, const prov_bg_changes *ch)
{
    DPF_INFO("Auditing: User %s %s an instance of class %s.", req->user.user, action,
             PROV_CLASS_GROUP);
    for (size_t i = 0; ch != NULL && i < ch->n_cleared; i++) {
        DPF_INFO("Boundary group %s is no longer the site default boundary group of site %s; "
                 "%s is", ch->cleared[i], site, name);
        DPF_INFO("Auditing: User %s modified an instance of class %s.", req->user.user,
                 PROV_CLASS_GROUP);
    }
}

static json_t *parsed(const char *text)
{
    json_t *v = json_loads(text, 0, NULL);
    return v != NULL ? v : json_array();
}

json_t *prov_bg_row_json(const dpf_db_result *r, int i, int detail)
{
    json_t *o = json_object();
    const char *site = dpf_db_result_get(r, i, 2);
    json_object_set_new(o, "name", json_string(dpf_db_result_get(r, i, 1)));
    json_object_set_new(o, "siteCode", *site ? json_string(site) : json_null());
    json_object_set_new(o, "description", json_string(dpf_db_result_get(r, i, 3)));
    json_object_set_new(o, "siteDefault", json_boolean(dpf_db_result_get(r, i, 4)[0] == 't'));
    json_object_set_new(o, "defaultFallbackMinutes", json_integer(dpf_db_result_int(r, i, 5)));
    json_object_set_new(o, "boundaries", parsed(dpf_db_result_get(r, i, 6)));
    json_object_set_new(o, "neighbors", parsed(dpf_db_result_get(r, i, 7)));
    json_object_set_new(o, "memberCount", json_integer(dpf_db_result_int(r, i, 9)));
    if (detail)
        json_object_set_new(o, "members", parsed(dpf_db_result_get(r, i, 8)));
    return o;
}

void prov_bg_reply_group(prov_request *req, prov_reply *reply, int status, const char *name)
{
    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL)
        return;
    dpf_db_result *r = NULL;
    if (prov_store_bg_query(db, name, &r) != DPF_OK) {
        DPF_ERROR("reading boundary group %s failed: %s", name, dpf_db_error(db));
        prov_reply_error(reply, 500, NULL, "database error while reading the boundary group");
    } else if (dpf_db_result_rows(r) == 0) {
        prov_reply_error(reply, 404, "name", "no boundary group named '%s'", name);
    } else {
        json_t *o = prov_bg_row_json(r, 0, 1);
        if (status != 200 || strcmp(req->method, "GET") != 0)
            json_object_set_new(o, "correlationId", json_string(req->corr));
        prov_reply_json(reply, status, o);
    }
    dpf_db_result_free(r);
    prov_dbpool_release(req->server->pool, db);
}

/* The transaction behind both maintenance mode endpoints, and the read-only
 * check the DP changes call. Locks, in the order hman and the other admin
 * changes take them, so none can deadlock with this one: the maintenance
 * advisory lock (only maintenance changes take it), the DP's site control
 * row, then the DP's row. Counting the impact under the advisory lock means
 * two DPs of one group enabled at the same moment cannot both see the other
 * as still serving. */
#include "maint.h"

#include <stdio.h>
#include <string.h>

#include <dpf/log.h>
#include <dpf/sitecontrol.h>
#include <dpf/statmsg.h>

#include "change.h"
#include "store_dp.h"
#include "store_maint.h"

#define LIST_MAX 1024 /* an insertion string listing groups or packages */

void prov_maint_result_clear(prov_maint_result *res)
{
    if (res == NULL)
        return;
    json_decref(res->groups);
    json_decref(res->packages);
    res->groups = res->packages = NULL;
}

void prov_maint_impact_json(json_t *o, const prov_maint_result *res)
{
    if (o == NULL)
        return;
    json_object_set_new(o, "boundaryGroups",
                        res->groups ? json_incref(res->groups) : json_array());
    json_object_set_new(o, "packages", res->packages ? json_incref(res->packages) : json_array());
}

int prov_maint_http_status(dpf_status st)
{
    switch (st) {
    case DPF_OK: return 200;
    case DPF_ERR_NOT_FOUND: return 404;
    case DPF_ERR_CONFLICT: return 409;
    case DPF_ERR_INVALID:
    case DPF_ERR_DECODE: return 400;
    default: return 500;
    }
}

/* Appends item to a ", "-separated list, ending it with "..." once full. */
static void list_add(char *buf, size_t len, const char *item)
{
    size_t n = strlen(buf);
    if (n >= 3 && strcmp(buf + n - 3, "...") == 0)
        return;
    size_t need = strlen(item) + (n ? 2 : 0);
    if (n + need + 4 >= len) {
        snprintf(buf + n, len - n, "%s...", n ? ", " : "");
        return;
    }
    snprintf(buf + n, len - n, "%s%s", n ? ", " : "", item);
}

/* The impact rows as JSON (res) and as two insertion strings. */
static dpf_status read_impact(dpf_db *db, long long dpid, prov_maint_result *res, char *groups,
                              char *packages, prov_field_error *err)
{
    dpf_db_result *r = NULL;
    if (prov_store_maint_impact(db, dpid, &r) != DPF_OK)
        return prov_change_db_fail(db, err, "counting the DPs that would still serve");
    for (int i = 0; i < dpf_db_result_rows(r); i++) {
        const char *group = dpf_db_result_get(r, i, 0);
        if (dpf_db_result_isnull(r, i, 1)) {
            if (res->groups == NULL)
                res->groups = json_array();
            json_array_append_new(res->groups, json_string(group));
            list_add(groups, LIST_MAX, group);
            continue;
        }
        const char *pkg = dpf_db_result_get(r, i, 1);
        char item[PROV_GROUP_NAME_MAX + 64];
        snprintf(item, sizeof item, "%s (%s)", pkg, group);
        if (res->packages == NULL)
            res->packages = json_array();
        json_array_append_new(res->packages,
                              json_pack("{s:s, s:s}", "packageId", pkg, "boundaryGroup", group));
        list_add(packages, LIST_MAX, item);
    }
    dpf_db_result_free(r);
    return DPF_OK;
}

static dpf_status raise_msg(dpf_db *db, unsigned id, char sev, const char *site,
                            const char *const *istr, int n, prov_field_error *err)
{
    dpf_statmsg m = {.id = id, .severity = sev, .level = 'M', .component = DPF_COMP_PROVIDER,
                     .site = site};
    for (int i = 0; i < n && i < 10; i++)
        m.istr[i] = istr[i];
    if (dpf_statmsg_raise(NULL, db, &m) != DPF_OK)
        return prov_change_db_fail(db, err, "raising the status message");
    return DPF_OK;
}

/* Finds the DP and locks its site and then its row (see the top). */
static dpf_status find_locked(dpf_db *db, const prov_maint_req *rq, prov_maint_dp *dp,
                              prov_field_error *err)
{
    char name[128];
    dpf_status st = prov_store_maint_dp(db, rq->server, rq->nal, 0, dp);
    if (st == DPF_OK && (st = prov_store_site_lock(db, dp->site, name, sizeof name)) == DPF_OK)
        st = prov_store_maint_dp(db, rq->server, rq->nal, 1, dp);
    if (st == DPF_ERR_NOT_FOUND && rq->server != NULL)
        return prov_change_err(err, st, "serverName", "no distribution point named %s (a DP "
                               "just added is known once hman has processed it)", rq->server);
    if (st == DPF_ERR_NOT_FOUND)
        return prov_change_err(err, st, "NALPath", "no distribution point with NAL path %.400s",
                               rq->nal);
    if (st != DPF_OK)
        return prov_change_db_fail(db, err, "looking up the DP");
    return DPF_OK;
}

static dpf_status refuse_impact(const prov_maint_dp *dp, const char *groups, const char *packages,
                                prov_field_error *err)
{
    char what[700] = "";
    if (groups[0] != '\0')
        snprintf(what, sizeof what, "boundary group(s) %.300s without a distribution point",
                 groups);
    if (packages[0] != '\0')
        snprintf(what + strlen(what), sizeof what - strlen(what), "%spackage(s) %.300s without "
                 "a source", what[0] ? " and " : "", packages);
    return prov_change_err(err, DPF_ERR_CONFLICT, "", "maintenance mode on %s would leave %s; "
                           "set force to enable it anyway", dp->server, what);
}

static dpf_status apply(dpf_db *db, const prov_maint_req *rq, const prov_maint_dp *dp,
                        const prov_user *u, const char *corr, const char *groups,
                        const char *packages, prov_field_error *err)
{
    char object[DPF_NAL_MAX + 64];
    long long released = 0;
    if (prov_store_maint_set(db, dp->dpid, rq->enable, u->user) != DPF_OK)
        return prov_change_db_fail(db, err, "setting maintenance mode");
    snprintf(object, sizeof object, "NALPath=\"%s\",MaintenanceMode=%d", dp->nal, rq->enable);
    if (prov_store_audit(db, u->user, u->app, u->machine, "modified", PROV_CLASS_DPINFO, object,
                         corr) != DPF_OK)
        return prov_change_db_fail(db, err, "writing the audit log");
    const char *istr[] = {dp->nal, dp->server, u->user};
    dpf_status st = raise_msg(db, rq->enable ? DPF_MSG_DP_MAINT_ON : DPF_MSG_DP_MAINT_OFF, 'I',
                          dp->site, istr, 3, err);
    if (st == DPF_OK && rq->enable && (groups[0] != '\0' || packages[0] != '\0')) {
        const char *forced[] = {dp->nal, u->user, groups, packages};
        st = raise_msg(db, DPF_MSG_DP_MAINT_FORCED, 'W', dp->site, forced, 4, err);
    }
    if (st != DPF_OK)
        return st;
    if (!rq->enable && prov_store_maint_release(db, dp->dpid, &released) != DPF_OK)
        return prov_change_db_fail(db, err, "releasing the content waiting for maintenance mode");
    if (released > 0)
        DPF_INFO("%lld package(s) waiting for the end of maintenance mode on %s go to Pending",
                 released, dp->nal);
    return DPF_OK;
}

dpf_status prov_maint_set(dpf_db *db, const prov_maint_req *rq, const prov_user *u,
                          const char *corr, prov_maint_result *res, prov_field_error *err)
{
    prov_maint_dp dp;
    char groups[LIST_MAX] = "", packages[LIST_MAX] = "";
    memset(res, 0, sizeof *res);
    memset(err, 0, sizeof *err);
    dpf_status st = prov_change_begin(db, corr, err);
    if (st != DPF_OK)
        return st;
    if (prov_store_maint_lock(db) != DPF_OK) {
        st = prov_change_db_fail(db, err, "taking the maintenance mode lock");
        goto cleanup;
    }
    if ((st = find_locked(db, rq, &dp, err)) != DPF_OK)
        goto cleanup;
    snprintf(res->server, sizeof res->server, "%s", dp.server);
    snprintf(res->site, sizeof res->site, "%s", dp.site);
    snprintf(res->nal, sizeof res->nal, "%s", dp.nal);
    if (dp.maintenance == (rq->enable != 0)) {
        DPF_INFO("%s is %s maintenance mode already; nothing to change", dp.nal,
                 rq->enable ? "in" : "not in");
        goto cleanup; /* st is DPF_OK: the rollback below ends the read-only transaction */
    }
    if (rq->enable && (dp.action == 3 || strncmp(dp.install_state, "Remov", 5) == 0)) {
        st = prov_change_err(err, DPF_ERR_CONFLICT, "", "distribution point %s is being "
                             "removed; maintenance mode cannot be enabled", dp.server);
        goto cleanup;
    }
    if (rq->enable && (st = read_impact(db, dp.dpid, res, groups, packages, err)) != DPF_OK)
        goto cleanup;
    if ((groups[0] != '\0' || packages[0] != '\0') && !rq->force) {
        st = refuse_impact(&dp, groups, packages, err);
        goto cleanup;
    }
    if ((st = apply(db, rq, &dp, u, corr, groups, packages, err)) != DPF_OK)
        goto cleanup;
    if (dpf_db_commit(db) != DPF_OK) {
        st = prov_change_db_fail(db, err, "committing");
        goto cleanup;
    }
    res->changed = 1;
    DPF_INFO("Auditing: User %s modified an instance of class %s.", u->user, PROV_CLASS_DPINFO);
    DPF_INFO("Distribution point %s %s maintenance mode (user %s)%s", dp.nal,
             rq->enable ? "entered" : "left", u->user,
             rq->force && (groups[0] || packages[0]) ? "; forced although it leaves groups or "
                                                       "packages without a source" : "");
    return DPF_OK;

cleanup:
    dpf_db_rollback(db);
    return st;
}

dpf_status prov_maint_check_writable(dpf_db *db, const char *nal, const char *server,
                                     prov_field_error *err)
{
    dpf_status st = prov_store_maint_active(db, nal);
    if (st == DPF_ERR_NOT_FOUND)
        return DPF_OK;
    if (st != DPF_OK)
        return prov_change_db_fail(db, err, "reading the maintenance mode");
    return prov_change_err(err, DPF_ERR_CONFLICT, "", "distribution point %s is in maintenance "
                           "mode: its properties are read-only until maintenance mode is turned "
                           "off (dpctl dp maintenance off %s)", server, server);
}

/* SQL for the DP role rows. Property names, role names and the like are
 * passed as parameters too, so no statement text is ever assembled. */
#include "store_dp.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <dpf/dp.h>
#include <dpf/sitecontrol.h>
#include <dpf/trace.h>

dpf_status prov_store_site_lock(dpf_db *db, const char *site, char *name, size_t len)
{
    const char *p[] = {site};
    return dpf_db_exec_text(db,
                            "SELECT s.site_name FROM sites s JOIN site_control c "
                            "USING (site_code) WHERE s.site_code = $1 FOR UPDATE OF c",
                            1, p, name, len);
}

dpf_status prov_store_dp_site(dpf_db *db, const char *server, char *site, size_t len)
{
    const char *p[] = {DPF_ROLE_DP, server};
    return dpf_db_exec_text(db,
                            "SELECT site_code FROM site_system_roles WHERE role_name = $1 "
                            "AND server_name = upper($2) ORDER BY id LIMIT 1",
                            2, p, site, len);
}

dpf_status prov_store_dp_removing(dpf_db *db, const char *nal)
{
    const char *p[] = {nal};
    return dpf_db_exec_text(db,
                            "SELECT dpid FROM distribution_points "
                            "WHERE nal_path = $1 AND action = 3",
                            1, p, NULL, 0);
}

dpf_status prov_store_role_insert(dpf_db *db, const char *site, const char *role,
                                  const char *nal, const char *server, int if_absent,
                                  long long *id)
{
    const char *p[] = {site, role, nal, server};
    const char *sql = if_absent
        ? "INSERT INTO site_system_roles (site_code, role_name, nal_path, server_name) "
          "VALUES ($1, $2, $3, $4) ON CONFLICT (site_code, role_name, nal_path) DO NOTHING "
          "RETURNING id"
        : "INSERT INTO site_system_roles (site_code, role_name, nal_path, server_name) "
          "VALUES ($1, $2, $3, $4) RETURNING id";
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec(db, sql, 4, p, &r);
    if (st != DPF_OK)
        return st;
    *id = dpf_db_result_rows(r) > 0 ? dpf_db_result_int(r, 0, 0) : 0;
    dpf_db_result_free(r);
    return DPF_OK;
}

dpf_status prov_store_props_write(dpf_db *db, long long role_id, const prov_dp_props *p)
{
    char id[24], pxe[4], pull[4], prio[16], minfree[16], rate[16], ssl[16], val[16];
    snprintf(id, sizeof id, "%lld", role_id);
    snprintf(pxe, sizeof pxe, "%d", p->is_pxe ? 1 : 0);
    snprintf(pull, sizeof pull, "%d", p->is_pull ? 1 : 0);
    snprintf(prio, sizeof prio, "%d", p->priority);
    snprintf(minfree, sizeof minfree, "%d", p->min_free_mb);
    snprintf(rate, sizeof rate, "%d", p->transfer_rate);
    snprintf(ssl, sizeof ssl, "%d", p->ssl_state);
    snprintf(val, sizeof val, "%d", p->validation_hours);
    const char *params[] = {
        id,
        DPF_PROP_DESCRIPTION, p->description,
        DPF_PROP_DP_DRIVE, p->drive,
        DPF_PROP_IS_PXE, pxe,
        DPF_PROP_IS_PULL_DP, pull,
        DPF_PROP_PRIORITY, prio,
        DPF_PROP_MIN_FREE_SPACE, minfree,
        DPF_PROP_TRANSFER_RATE, rate,
        DPF_PROP_SSL_STATE, ssl,
        DPF_PROP_CONTENT_VALIDATION, val,
    };
    return dpf_db_exec(db,
                       "INSERT INTO site_system_role_props (role_id, name, value1, value3) VALUES "
                       "($1, $2, $3, 0), ($1, $4, $5, 0), "
                       "($1, $6, '', $7::bigint), ($1, $8, '', $9::bigint), "
                       "($1, $10, '', $11::bigint), ($1, $12, '', $13::bigint), "
                       "($1, $14, '', $15::bigint), ($1, $16, '', $17::bigint), "
                       "($1, $18, '', $19::bigint) "
                       "ON CONFLICT (role_id, name) DO UPDATE "
                       "SET value1 = EXCLUDED.value1, value3 = EXCLUDED.value3",
                       19, params, NULL);
}

dpf_status prov_store_pull_source_add(dpf_db *db, long long role_id, const char *server,
                                      int priority)
{
    char id[24], prio[16];
    snprintf(id, sizeof id, "%lld", role_id);
    snprintf(prio, sizeof prio, "%d", priority);
    const char *p[] = {id, server, prio};
    return dpf_db_exec(db,
                       "INSERT INTO pull_dp_sources (role_id, source_server, priority) "
                       "VALUES ($1, $2, $3)",
                       3, p, NULL);
}

static dpf_status group_find(dpf_db *db, const char *name, long long *id, char *canonical,
                             size_t len)
{
    const char *p[] = {name};
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec_row(db,
                                    "SELECT id, name FROM boundary_groups "
                                    "WHERE lower(name) = lower($1) ORDER BY id LIMIT 1",
                                    1, p, &r);
    if (st != DPF_OK)
        return st;
    *id = dpf_db_result_int(r, 0, 0);
    snprintf(canonical, len, "%s", dpf_db_result_get(r, 0, 1));
    dpf_db_result_free(r);
    return DPF_OK;
}

dpf_status prov_store_group_ensure(dpf_db *db, const char *name, const char *site, long long *id,
                                   int *created, char *canonical, size_t len)
{
    *created = 0;
    dpf_status st = group_find(db, name, id, canonical, len);
    if (st != DPF_ERR_NOT_FOUND)
        return st;
    const char *p[] = {name, site};
    dpf_db_result *r = NULL;
    /* a concurrent request for another site may create the same name: the
     * conflict clause keeps this transaction alive and we read theirs */
    st = dpf_db_exec(db,
                     "INSERT INTO boundary_groups (name, site_code) VALUES ($1, $2) "
                     "ON CONFLICT (name) DO NOTHING RETURNING id",
                     2, p, &r);
    if (st != DPF_OK)
        return st;
    if (dpf_db_result_rows(r) > 0) {
        *id = dpf_db_result_int(r, 0, 0);
        *created = 1;
        snprintf(canonical, len, "%s", name);
        dpf_db_result_free(r);
        return DPF_OK;
    }
    dpf_db_result_free(r);
    return group_find(db, name, id, canonical, len);
}

dpf_status prov_store_group_add_member(dpf_db *db, long long group_id, const char *nal,
                                       const char *server, int *added)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", group_id);
    const char *p[] = {id, nal, server};
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec(db,
                                "INSERT INTO boundary_group_members (group_id, nal_path, server_name) "
                                "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING group_id",
                                3, p, &r);
    if (st != DPF_OK)
        return st;
    *added = dpf_db_result_rows(r) > 0;
    dpf_db_result_free(r);
    return DPF_OK;
}

/* The admin actions as the timeline names them (`dpctl trace`), by the
 * class and action of their audit row. */
static const struct {
    const char *class_name, *action, *step;
} TRACE_STEPS[] = {
    {"SMS_SCI_SysResUse", "created", "DP add"},
    {"SMS_SCI_SysResUse", "modified", "DP set"},
    {"SMS_SCI_SysResUse", "deleted", "DP remove"},
    {"SMS_DistributionPointInfo", "modified", "maintenance mode"},
    {"SMS_DistributionPointInfo", "validate", "content validation"},
    {"SMS_Site", "reset", "site reset"},
    {"SMS_DistributionPoint", "created", "package distribute"},
    {"SMS_DistributionPoint", "modified", "package redistribute"},
    {"SMS_DistributionPoint", "deleted", "package remove"},
    {"SMS_Package", "created", "package add"},
    {"SMS_Package", "modified", "package update"},
    {"SMS_Package", "deleted", "package delete"},
};

/* The server an audit object names through its NAL path
 * ("...Display=\\SERVER\"..."), upper case, or "". */
static void object_server(const char *object, char *buf, size_t len)
{
    static const char head[] = "Display=\\\\";
    buf[0] = '\0';
    const char *at = object != NULL ? strstr(object, head) : NULL;
    if (at == NULL)
        return;
    at += strlen(head);
    size_t n = 0;
    while (at[n] != '\0' && at[n] != '\\' && at[n] != '"' && n + 1 < len) {
        buf[n] = (char)toupper((unsigned char)at[n]);
        n++;
    }
    buf[n] = '\0';
}

/* The action on the timeline, in the audit row's transaction: one 'info'
 * row by the SMS Provider naming the step, the user and the object. */
static dpf_status trace_action(dpf_db *db, const char *user, const char *app,
                               const char *machine, const char *action,
                               const char *class_name, const char *object, const char *corr)
{
    char step[96], server[DPF_FQDN_MAX + 1], msg[DPF_TRACE_MESSAGE_MAX];
    snprintf(step, sizeof step, "%s %s", class_name, action);
    for (size_t i = 0; i < sizeof TRACE_STEPS / sizeof TRACE_STEPS[0]; i++)
        if (strcmp(class_name, TRACE_STEPS[i].class_name) == 0 &&
            strcmp(action, TRACE_STEPS[i].action) == 0)
            snprintf(step, sizeof step, "%s", TRACE_STEPS[i].step);
    object_server(object, server, sizeof server);
    snprintf(msg, sizeof msg, "%s by %s (%s on %s): %s %s %s", step, user, app, machine,
             action, class_name, object);
    dpf_trace_who who = {.corr = corr, .component = DPF_TRACE_PROVIDER, .server = server,
                         .job = "change"};
    /* under a savepoint: the action is recorded even if its row cannot be */
    return dpf_trace_event_tx(db, &who, step, DPF_TRACE_INFO, msg);
}

dpf_status prov_store_audit(dpf_db *db, const char *user, const char *app, const char *machine,
                            const char *action, const char *class_name, const char *object,
                            const char *corr)
{
    const char *p[] = {user, app, machine, action, class_name, object, corr};
    dpf_status st = dpf_db_exec(db,
                                "INSERT INTO audit_log (user_name, app_name, machine_name, "
                                "action, class_name, object, correlation_id) "
                                "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                                7, p, NULL);
    if (st != DPF_OK || corr == NULL || corr[0] == '\0')
        return st;
    return trace_action(db, user ? user : "", app ? app : "", machine ? machine : "",
                        action ? action : "", class_name ? class_name : "",
                        object ? object : "", corr);
}

dpf_status prov_store_site_bump(dpf_db *db, const char *site)
{
    const char *p[] = {site};
    return dpf_db_exec(db,
                       "UPDATE site_control SET serial = serial + 1, updated_at = now() "
                       "WHERE site_code = $1",
                       1, p, NULL);
}

/* The seven property names dpf_dp_json() reads, in its parameter order. */
#define DP_JSON_PROPS DPF_PROP_DESCRIPTION, DPF_PROP_DP_DRIVE, DPF_PROP_IS_PXE, DPF_PROP_IS_PULL_DP, \
    DPF_PROP_PRIORITY, DPF_PROP_MIN_FREE_SPACE, DPF_PROP_CONTENT_VALIDATION

dpf_status prov_store_dp_show(dpf_db *db, const char *server, dpf_db_result **out)
{
    const char *p[] = {DPF_ROLE_DP, server, DP_JSON_PROPS};
    return dpf_db_exec_row(db, "SELECT dpf_dp_show($1, $2, $3, $4, $5, $6, $7, $8, $9)", 9, p, out);
}

dpf_status prov_store_dp_page(dpf_db *db, const prov_dp_filter *f, dpf_db_result **out)
{
    char limit[16];
    snprintf(limit, sizeof limit, "%d", f->limit + 1);
    const char *maint = f->maintenance < 0 ? NULL : f->maintenance ? "true" : "false";
    const char *p[] = {DPF_ROLE_DP, f->site, f->after, f->state, maint, f->group, limit,
                       DP_JSON_PROPS};
    /* one row more than asked tells whether another page follows; the
     * JSON is made only for the rows the LIMIT lets through */
    return dpf_db_exec(db,
        "SELECT r.server_name, dpf_dp_json(r.id, $8, $9, $10, $11, $12, $13, $14) "
        "FROM site_system_roles r "
        "LEFT JOIN distribution_points d ON d.nal_path = r.nal_path "
        "WHERE r.role_name = $1 "
        "  AND ($2::text IS NULL OR r.site_code = upper($2)) "
        "  AND ($3::text IS NULL OR r.server_name > upper($3)) "
        "  AND ($4::text IS NULL OR d.install_state = $4) "
        "  AND ($5::boolean IS NULL OR coalesce(d.maintenance_mode, false) = $5::boolean) "
        "  AND ($6::text IS NULL OR EXISTS (SELECT 1 FROM boundary_group_members m "
        "       JOIN boundary_groups g ON g.id = m.group_id "
        "       WHERE m.nal_path = r.nal_path AND lower(g.name) = lower($6))) "
        "ORDER BY r.server_name "
        "LIMIT $7::int",
        14, p, out);
}

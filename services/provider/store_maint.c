/* SQL for maintenance mode and validation requests. The impact query is the
 * one place that decides what "left without a source" means, so the 409,
 * the forced 2396 and the tests all read the same answer. The provider's
 * database role cannot write or lock distribution_points rows: the writes
 * and the row lock are the functions of db/095_provider_writes.sql. */
#include "store_maint.h"

#include <stdio.h>
#include <string.h>

/* any constant works; this one reads "dpfmaint" */
#define MAINT_LOCK_KEY "7233958143587938932"

static void id_text(long long id, char *buf)
{
    snprintf(buf, 24, "%lld", id);
}

dpf_status prov_store_maint_lock(dpf_db *db)
{
    const char *p[] = {MAINT_LOCK_KEY};
    return dpf_db_exec(db, "SELECT pg_advisory_xact_lock($1::bigint)", 1, p, NULL);
}

#define SQL_MAINT_DP \
    "SELECT dpid, server_name, site_code, nal_path, maintenance_mode, action, install_state " \
    "FROM distribution_points " \
    "WHERE ($1::text IS NOT NULL AND server_name = upper($1)) " \
    "   OR ($1::text IS NULL AND lower(nal_path) = lower($2)) " \
    "ORDER BY action, dpid DESC LIMIT 1"
/* the same row, locked: the provider's role may not lock distribution_points
 * rows itself (db/095_provider_writes.sql) */
#define SQL_MAINT_DP_LOCK "SELECT * FROM provider_dp_lock($1::text, $2::text)"

dpf_status prov_store_maint_dp(dpf_db *db, const char *server, const char *nal, int lock,
                               prov_maint_dp *out)
{
    const char *p[] = {server, nal};
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec_row(db, lock ? SQL_MAINT_DP_LOCK : SQL_MAINT_DP, 2, p,
                                    &r);
    if (st != DPF_OK)
        return st;
    memset(out, 0, sizeof *out);
    out->dpid = dpf_db_result_int(r, 0, 0);
    snprintf(out->server, sizeof out->server, "%s", dpf_db_result_get(r, 0, 1));
    snprintf(out->site, sizeof out->site, "%s", dpf_db_result_get(r, 0, 2));
    snprintf(out->nal, sizeof out->nal, "%s", dpf_db_result_get(r, 0, 3));
    out->maintenance = strcmp(dpf_db_result_get(r, 0, 4), "t") == 0;
    out->action = (int)dpf_db_result_int(r, 0, 5);
    snprintf(out->install_state, sizeof out->install_state, "%s", dpf_db_result_get(r, 0, 6));
    dpf_db_result_free(r);
    return DPF_OK;
}

dpf_status prov_store_maint_set(dpf_db *db, long long dpid, int on, const char *user)
{
    char id[24];
    id_text(dpid, id);
    const char *p[] = {id, on ? "true" : "false", user};
    return dpf_db_exec(db, "SELECT provider_dp_maintenance_set($1::bigint, $2::boolean, $3)",
                       3, p, NULL);
}

dpf_status prov_store_maint_release(dpf_db *db, long long dpid, long long *count)
{
    char id[24];
    id_text(dpid, id);
    const char *p[] = {id};
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec(db,
                                "UPDATE dp_packages SET state = 'Pending', retry_at = NULL, "
                                "  updated_at = now() "
                                "WHERE dpid = $1::bigint AND state = 'WaitingMaintenance' "
                                "RETURNING package_id",
                                1, p, &r);
    if (st == DPF_OK)
        *count = dpf_db_result_rows(r);
    dpf_db_result_free(r);
    return st;
}

/* "Serving" = Installed, not being removed, not in maintenance mode. The
 * DP itself must be serving, otherwise taking it down changes nothing. */
dpf_status prov_store_maint_impact(dpf_db *db, long long dpid, dpf_db_result **out)
{
    char id[24];
    id_text(dpid, id);
    const char *p[] = {id};
    return dpf_db_exec(db,
        "WITH me AS ("
        "  SELECT dpid, nal_path FROM distribution_points WHERE dpid = $1::bigint "
        "    AND action = 0 AND install_state = 'Installed' AND NOT maintenance_mode), "
        "grp AS ("
        "  SELECT DISTINCT g.id, g.name FROM me "
        "  JOIN boundary_group_members m ON m.nal_path = me.nal_path "
        "  JOIN boundary_groups g ON g.id = m.group_id), "
        "peers AS ("
        "  SELECT DISTINCT grp.id AS group_id, d.dpid FROM grp "
        "  JOIN boundary_group_members m ON m.group_id = grp.id "
        "  JOIN distribution_points d ON d.nal_path = m.nal_path "
        "  WHERE d.dpid <> $1::bigint AND d.action = 0 AND d.install_state = 'Installed' "
        "    AND NOT d.maintenance_mode) "
        "SELECT grp.name AS group_name, NULL::text AS package_id FROM grp "
        "  WHERE NOT EXISTS (SELECT 1 FROM peers WHERE peers.group_id = grp.id) "
        "UNION ALL "
        "SELECT grp.name, k.package_id FROM grp CROSS JOIN me "
        "  JOIN dp_packages k ON k.dpid = me.dpid AND k.state = 'Installed' "
        "  WHERE NOT EXISTS (SELECT 1 FROM peers JOIN dp_packages o ON o.dpid = peers.dpid "
        "                    AND o.package_id = k.package_id AND o.state = 'Installed' "
        "                    WHERE peers.group_id = grp.id) "
        "ORDER BY 2 NULLS FIRST, 1",
        1, p, out);
}

dpf_status prov_store_maint_active(dpf_db *db, const char *nal)
{
    const char *p[] = {nal};
    return dpf_db_exec_text(db,
                            "SELECT dpid FROM distribution_points "
                            "WHERE nal_path = $1 AND maintenance_mode",
                            1, p, NULL, 0);
}

dpf_status prov_store_validate_request(dpf_db *db, long long dpid)
{
    char id[24];
    id_text(dpid, id);
    const char *p[] = {id};
    return dpf_db_exec(db, "SELECT provider_dp_validate_request($1::bigint)", 1, p, NULL);
}

/* SQL for packages and their DP rows. Names from request bodies reach the
 * statements as one JSON array parameter (json_array_elements_text), so a
 * distribution to hundreds of DPs is one statement, not hundreds, and no
 * statement text is ever assembled. */
#include "store_pkg.h"

#include <stdio.h>
#include <string.h>

dpf_status prov_store_pkg_lock_names(dpf_db *db)
{
    return dpf_db_exec(db, "SELECT pg_advisory_xact_lock(hashtext('dpfleet.packages.name'))", 0,
                       NULL, NULL);
}

dpf_status prov_store_pkg_by_name(dpf_db *db, const char *name, char *id, size_t len)
{
    const char *p[] = {name};
    return dpf_db_exec_text(db,
                            "SELECT package_id FROM packages WHERE lower(name) = lower($1) "
                            "ORDER BY package_id LIMIT 1",
                            1, p, id, len);
}

dpf_status prov_store_pkg_site_exists(dpf_db *db, const char *site)
{
    const char *p[] = {site};
    return dpf_db_exec_text(db, "SELECT site_code FROM sites WHERE site_code = $1", 1, p, NULL,
                            0);
}

dpf_status prov_store_pkg_insert(dpf_db *db, const char *site, const char *name,
                                 const char *description, const char *source_path, char *id,
                                 size_t len)
{
    const char *p[] = {site, name, description, source_path};
    return dpf_db_exec_text(db,
                            "INSERT INTO packages (package_id, name, description, source_path, "
                            "  site_code, state, source_version, processed_version) "
                            "VALUES ($1 || lpad(upper(to_hex(nextval('package_number'))), 5, '0'), "
                            "  $2, $3, $4, $1, 'Processing', 1, 0) "
                            "RETURNING package_id",
                            4, p, id, len);
}

dpf_status prov_store_pkg_lock(dpf_db *db, const char *id, prov_pkg_row *out)
{
    const char *p[] = {id};
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec_row(db,
                                    "SELECT package_id, state, client_setting IS NOT NULL, "
                                    "  source_path, processed_version, source_version "
                                    "FROM packages WHERE package_id = $1 FOR UPDATE",
                                    1, p, &r);
    if (st != DPF_OK)
        return st;
    memset(out, 0, sizeof *out);
    snprintf(out->id, sizeof out->id, "%s", dpf_db_result_get(r, 0, 0));
    snprintf(out->state, sizeof out->state, "%s", dpf_db_result_get(r, 0, 1));
    out->is_client = strcmp(dpf_db_result_get(r, 0, 2), "t") == 0;
    snprintf(out->source_path, sizeof out->source_path, "%s", dpf_db_result_get(r, 0, 3));
    out->processed_version = dpf_db_result_int(r, 0, 4);
    out->source_version = dpf_db_result_int(r, 0, 5);
    dpf_db_result_free(r);
    return DPF_OK;
}

dpf_status prov_store_pkg_new_version(dpf_db *db, const char *id, long long *version)
{
    const char *p[] = {id};
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec_row(db,
                                    "UPDATE packages SET source_version = processed_version + 1, "
                                    "  state = 'Processing', last_error = '', attempts = 0, "
                                    "  updated_at = now() "
                                    "WHERE package_id = $1 RETURNING source_version",
                                    1, p, &r);
    if (st == DPF_OK)
        *version = dpf_db_result_int(r, 0, 0);
    dpf_db_result_free(r);
    return st;
}

dpf_status prov_store_pkg_mark_deleting(dpf_db *db, const char *id, long long *dps)
{
    const char *p[] = {id};
    dpf_status st = dpf_db_exec(db,
                                "UPDATE packages SET state = 'Deleting', updated_at = now() "
                                "WHERE package_id = $1",
                                1, p, NULL);
    if (st != DPF_OK)
        return st;
    dpf_db_result *r = NULL;
    st = dpf_db_exec_row(db,
                         "WITH moved AS (UPDATE dp_packages SET state = 'Removing', "
                         "  updated_at = now() WHERE package_id = $1 AND state <> 'Removing' "
                         "  RETURNING 1) "
                         "SELECT (SELECT count(*) FROM dp_packages WHERE package_id = $1)",
                         1, p, &r);
    if (st == DPF_OK)
        *dps = dpf_db_result_int(r, 0, 0);
    dpf_db_result_free(r);
    return st;
}

dpf_status prov_store_pkg_dp_lookup(dpf_db *db, const char *id, const char *dps_json,
                                    dpf_db_result **out)
{
    const char *p[] = {id, dps_json};
    return dpf_db_exec(db,
                       "SELECT n.value AS name, d.dpid, d.server_name, d.action, d.install_state, "
                       "  k.state AS row_state "
                       "FROM json_array_elements_text($2::json) WITH ORDINALITY n(value, i) "
                       "LEFT JOIN distribution_points d ON upper(d.server_name) = upper(n.value) "
                       "LEFT JOIN dp_packages k ON k.dpid = d.dpid AND k.package_id = $1 "
                       "ORDER BY n.i",
                       2, p, out);
}

dpf_status prov_store_pkg_group_lookup(dpf_db *db, const char *groups_json, dpf_db_result **out)
{
    const char *p[] = {groups_json};
    return dpf_db_exec(db,
                       "SELECT n.value AS name, g.id, g.name AS group_name "
                       "FROM json_array_elements_text($1::json) WITH ORDINALITY n(value, i) "
                       "LEFT JOIN boundary_groups g ON lower(g.name) = lower(n.value) "
                       "ORDER BY n.i",
                       1, p, out);
}

dpf_status prov_store_pkg_groups_add(dpf_db *db, const char *id, const char *groups_json)
{
    const char *p[] = {id, groups_json};
    return dpf_db_exec(db,
                       "INSERT INTO package_boundary_groups (package_id, group_id) "
                       "SELECT $1, g.id FROM boundary_groups g WHERE lower(g.name) IN "
                       "  (SELECT lower(value) FROM json_array_elements_text($2::json)) "
                       "ON CONFLICT DO NOTHING",
                       2, p, NULL);
}

dpf_status prov_store_pkg_distribute(dpf_db *db, const char *id, const char *dps_json,
                                     const char *groups_json, dpf_db_result **out)
{
    const char *p[] = {id, dps_json, groups_json};
    /* the final SELECT sees the snapshot before the INSERT: a row it added
     * or re-queued is known from ins, the others from dp_packages */
    return dpf_db_exec(db,
        "WITH targets AS ("
        "  SELECT d.dpid FROM distribution_points d WHERE upper(d.server_name) IN "
        "    (SELECT upper(value) FROM json_array_elements_text($2::json)) "
        "  UNION "
        "  SELECT d.dpid FROM boundary_groups g "
        "  JOIN boundary_group_members m ON m.group_id = g.id "
        "  JOIN distribution_points d ON d.nal_path = m.nal_path "
        "  WHERE lower(g.name) IN (SELECT lower(value) FROM json_array_elements_text($3::json)) "
        "    AND d.action <> 3 AND d.install_state NOT IN ('Removing', 'RemoveFailed')), "
        "ins AS ("
        "  INSERT INTO dp_packages (dpid, package_id, state) "
        "  SELECT dpid, $1, 'Pending' FROM targets "
        "  ON CONFLICT (dpid, package_id) DO UPDATE SET state = 'Pending', "
        "    version = EXCLUDED.version, attempts = 0, retry_at = NULL, last_error = '', "
        "    updated_at = now() "
        "  WHERE dp_packages.state = 'Removing' "
        "  RETURNING dpid) "
        "SELECT d.server_name, CASE WHEN i.dpid IS NOT NULL THEN 'Pending' ELSE k.state END "
        "  AS state, i.dpid IS NOT NULL AS queued "
        "FROM targets t JOIN distribution_points d ON d.dpid = t.dpid "
        "LEFT JOIN ins i ON i.dpid = t.dpid "
        "LEFT JOIN dp_packages k ON k.dpid = t.dpid AND k.package_id = $1 "
        "ORDER BY d.server_name",
        3, p, out);
}

dpf_status prov_store_pkg_redistribute(dpf_db *db, const char *id, const char *dps_json,
                                       dpf_db_result **out)
{
    const char *p[] = {id, dps_json};
    return dpf_db_exec(db,
                       "UPDATE dp_packages k SET state = 'Pending', attempts = 0, "
                       "  retry_at = NULL, last_error = '', version = p.processed_version, "
                       "  updated_at = now() "
                       "FROM packages p, distribution_points d "
                       "WHERE k.package_id = $1 AND p.package_id = k.package_id "
                       "  AND d.dpid = k.dpid AND upper(d.server_name) IN "
                       "    (SELECT upper(value) FROM json_array_elements_text($2::json)) "
                       "RETURNING d.server_name",
                       2, p, out);
}

dpf_status prov_store_pkg_remove_dp(dpf_db *db, const char *id, const char *dpid)
{
    const char *p[] = {id, dpid};
    return dpf_db_exec(db,
                       "UPDATE dp_packages SET state = 'Removing', updated_at = now() "
                       "WHERE package_id = $1 AND dpid = $2::bigint AND state <> 'Removing'",
                       2, p, NULL);
}

dpf_status prov_store_pkg_page(dpf_db *db, const char *after, int limit, dpf_db_result **out)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit + 1);
    const char *p[] = {after, lim};
    return dpf_db_exec(db,
                       "SELECT package_id, name, site_code, processed_version, state, "
                       "  file_count, total_size FROM packages "
                       "WHERE ($1::text IS NULL OR package_id > $1) ORDER BY package_id "
                       "LIMIT $2::int",
                       2, p, out);
}

dpf_status prov_store_pkg_query(dpf_db *db, const char *id, dpf_db_result **out)
{
    const char *p[] = {id};
    return dpf_db_exec(db,
        "SELECT p.package_id, p.name, p.site_code, p.processed_version, p.state, p.file_count, "
        "  p.total_size, p.description, p.source_path, p.source_version, p.last_error, "
        "  (SELECT coalesce(json_agg(g.name ORDER BY g.name), '[]')::text "
        "     FROM package_boundary_groups b JOIN boundary_groups g ON g.id = b.group_id "
        "    WHERE b.package_id = p.package_id) AS groups, "
        "  (SELECT coalesce(json_agg(json_build_object("
        "      'serverName', d.server_name, 'state', k.state, "
        "      'version', k.installed_version, 'targetVersion', k.version, "
        "      'contentUrl', CASE WHEN d.content_base = '' THEN NULL "
        "                    ELSE d.content_base || '/SMS_DP_SMSPKG$/' || p.package_id END, "
        "      'lastError', k.last_error, "
        "      'retryAt', to_char(k.retry_at AT TIME ZONE 'UTC', "
        "                         'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
        "      'bytesSent', k.bytes_sent) ORDER BY d.server_name), '[]')::text "
        "     FROM dp_packages k JOIN distribution_points d ON d.dpid = k.dpid "
        "    WHERE k.package_id = p.package_id) AS dps "
        "FROM packages p WHERE ($1::text IS NULL OR p.package_id = $1) ORDER BY p.package_id",
        1, p, out);
}

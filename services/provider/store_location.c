/* Content location's SQL. One statement gives every candidate, including
 * the ones that do not qualify (no content, maintenance mode, a fallback
 * time not reached yet), because the answer must say why a client got no
 * DP, and the reason lives in exactly those rows. Groups without member DPs
 * still give a row (server NULL) so a client's current groups are known
 * even when they are empty. */
#include "store_location.h"

dpf_status prov_store_loc_package(dpf_db *db, const char *id)
{
    const char *p[] = {id};
    return dpf_db_exec_text(db, "SELECT 1 FROM packages WHERE package_id = $1", 1, p, NULL, 0);
}

dpf_status prov_store_loc_candidates(dpf_db *db, const char *address, const char *id,
                                     dpf_db_result **out)
{
    const char *p[] = {address, id};
    return dpf_db_exec(
        db,
        "WITH cur AS ("
        "  SELECT g.id FROM boundary_groups g WHERE EXISTS ("
        "    SELECT 1 FROM boundaries b WHERE b.group_id = g.id AND "
        "      ((b.kind = 'subnet' AND b.net >>= $1::inet) OR "
        "       (b.kind = 'range' AND family(b.range_start) = family($1::inet) "
        "        AND $1::inet BETWEEN b.range_start AND b.range_end)))), "
        "tiers AS ("
        "  SELECT id AS group_id, 0 AS tier, 0 AS minutes FROM cur "
        "  UNION ALL "
        "  SELECT n.neighbor_id, 1, min(n.fallback_minutes) FROM boundary_group_neighbors n "
        "    JOIN cur ON cur.id = n.group_id "
        "   WHERE n.neighbor_id NOT IN (SELECT id FROM cur) GROUP BY n.neighbor_id "
        "  UNION ALL "
        "  SELECT g.id, 2, g.default_fallback_minutes FROM boundary_groups g "
        "    JOIN packages p ON p.package_id = $2 "
        "   WHERE g.is_site_default AND (p.site_code IS NULL OR g.site_code = p.site_code)) "
        "SELECT t.tier, t.minutes, g.name, d.server_name, d.content_base, dp.state, "
        "       d.maintenance_mode, d.action, d.install_state "
        "FROM tiers t JOIN boundary_groups g ON g.id = t.group_id "
        "LEFT JOIN boundary_group_members m ON m.group_id = t.group_id "
        "LEFT JOIN distribution_points d ON d.nal_path = m.nal_path "
        "LEFT JOIN dp_packages dp ON dp.dpid = d.dpid AND dp.package_id = $2 "
        "ORDER BY t.tier, t.minutes, g.name, d.server_name",
        2, p, out);
}

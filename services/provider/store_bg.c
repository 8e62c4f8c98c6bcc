/* Boundary group SQL. Boundaries and neighbors are written as whole sets
 * (delete, then insert from the JSON parameter) because PATCH replaces the
 * set: one statement each, whatever the number. The addresses in the JSON
 * were checked by inet_pton already; the casts to cidr and inet here are
 * PostgreSQL's own check, and the table's CHECK constraints a third. */
#include "store_bg.h"

#include <stdio.h>

#include "change.h"
#include "store_dp.h"

static void id_text(long long id, char buf[24])
{
    snprintf(buf, 24, "%lld", id);
}

dpf_status prov_store_bg_lock(dpf_db *db)
{
    return dpf_db_exec(db, "SELECT pg_advisory_xact_lock(hashtext('dpfleet.boundary_groups'))",
                       0, NULL, NULL);
}

dpf_status prov_store_bg_find(dpf_db *db, const char *name, prov_bg_row *out)
{
    const char *p[] = {name};
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec_row(db,
                                    "SELECT id, name, coalesce(site_code, ''), is_site_default "
                                    "FROM boundary_groups WHERE lower(name) = lower($1) "
                                    "ORDER BY name = $1 DESC, id LIMIT 1 FOR UPDATE",
                                    1, p, &r);
    if (st != DPF_OK)
        return st;
    out->id = dpf_db_result_int(r, 0, 0);
    snprintf(out->name, sizeof out->name, "%s", dpf_db_result_get(r, 0, 1));
    snprintf(out->site, sizeof out->site, "%s", dpf_db_result_get(r, 0, 2));
    out->site_default = dpf_db_result_get(r, 0, 3)[0] == 't';
    dpf_db_result_free(r);
    return DPF_OK;
}

dpf_status prov_store_bg_insert(dpf_db *db, const char *name, const char *site,
                                const char *description, int site_default, int fallback,
                                long long *id)
{
    char fb[24];
    id_text(fallback, fb);
    const char *p[] = {name, site, description, site_default ? "true" : "false", fb};
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec_row(db,
                                    "INSERT INTO boundary_groups (name, site_code, description, "
                                    "is_site_default, default_fallback_minutes) "
                                    "VALUES ($1, $2, $3, $4::boolean, $5::int) RETURNING id",
                                    5, p, &r);
    if (st == DPF_OK)
        *id = dpf_db_result_int(r, 0, 0);
    dpf_db_result_free(r);
    return st;
}

dpf_status prov_store_bg_update(dpf_db *db, long long id, const char *description,
                                int site_default, int fallback)
{
    char gid[24], fb[24];
    id_text(id, gid);
    id_text(fallback, fb);
    const char *p[] = {gid, description, site_default < 0 ? NULL : site_default ? "true" : "false",
                       fallback < 0 ? NULL : fb};
    return dpf_db_exec(db,
                       "UPDATE boundary_groups SET description = coalesce($2, description), "
                       "is_site_default = coalesce($3::boolean, is_site_default), "
                       "default_fallback_minutes = coalesce($4::int, default_fallback_minutes) "
                       "WHERE id = $1",
                       4, p, NULL);
}

dpf_status prov_store_bg_clear_default(dpf_db *db, const char *site, long long except,
                                       dpf_db_result **out)
{
    char gid[24];
    id_text(except, gid);
    const char *p[] = {site, gid};
    return dpf_db_exec(db,
                       "UPDATE boundary_groups SET is_site_default = false "
                       "WHERE site_code = $1 AND is_site_default AND id <> $2 RETURNING id, name",
                       2, p, out);
}

dpf_status prov_store_bg_set_boundaries(dpf_db *db, long long id, const char *json)
{
    char gid[24];
    id_text(id, gid);
    const char *p[] = {gid, json};
    dpf_status st = dpf_db_exec(db, "DELETE FROM boundaries WHERE group_id = $1", 1, p, NULL);
    if (st != DPF_OK)
        return st;
    return dpf_db_exec(db,
                       "INSERT INTO boundaries (group_id, kind, value, net, range_start, range_end) "
                       "SELECT $1, x.kind, x.value, x.net::cidr, x.start::inet, x.\"end\"::inet "
                       "FROM json_to_recordset($2::json) "
                       "AS x(kind text, value text, net text, start text, \"end\" text)",
                       2, p, NULL);
}

dpf_status prov_store_bg_missing(dpf_db *db, const char *json, dpf_db_result **out)
{
    const char *p[] = {json};
    return dpf_db_exec(db,
                       "SELECT e.v->>'name' FROM json_array_elements($1::json) WITH ORDINALITY "
                       "AS e(v, n) WHERE NOT EXISTS (SELECT 1 FROM boundary_groups g "
                       "WHERE lower(g.name) = lower(e.v->>'name')) ORDER BY e.n",
                       1, p, out);
}

dpf_status prov_store_bg_set_neighbors(dpf_db *db, long long id, const char *json)
{
    char gid[24];
    id_text(id, gid);
    const char *p[] = {gid, json};
    dpf_status st = dpf_db_exec(db, "DELETE FROM boundary_group_neighbors WHERE group_id = $1",
                                1, p, NULL);
    if (st != DPF_OK)
        return st;
    return dpf_db_exec(db,
                       "INSERT INTO boundary_group_neighbors (group_id, neighbor_id, fallback_minutes) "
                       "SELECT DISTINCT ON (g.id) $1::bigint, g.id, x.\"fallbackMinutes\" "
                       "FROM json_to_recordset($2::json) AS x(name text, \"fallbackMinutes\" int) "
                       "JOIN boundary_groups g ON lower(g.name) = lower(x.name) "
                       "ORDER BY g.id, g.name = x.name DESC",
                       2, p, NULL);
}

dpf_status prov_store_bg_members(dpf_db *db, long long id, dpf_db_result **out)
{
    char gid[24];
    id_text(id, gid);
    const char *p[] = {gid};
    return dpf_db_exec(db,
                       "SELECT server_name FROM boundary_group_members WHERE group_id = $1 "
                       "ORDER BY server_name",
                       1, p, out);
}

dpf_status prov_store_bg_delete(dpf_db *db, long long id, dpf_db_result **out)
{
    char gid[24];
    id_text(id, gid);
    const char *p[] = {gid};
    dpf_status st = dpf_db_exec(db,
                                "SELECT g.name FROM boundary_group_neighbors n "
                                "JOIN boundary_groups g ON g.id = n.group_id "
                                "WHERE n.neighbor_id = $1 ORDER BY g.name",
                                1, p, out);
    if (st != DPF_OK)
        return st;
    return dpf_db_exec(db, "DELETE FROM boundary_groups WHERE id = $1", 1, p, NULL);
}

dpf_status prov_store_bg_query(dpf_db *db, const char *name, dpf_db_result **out)
{
    const char *p[] = {name};
    return dpf_db_exec(
        db,
        "SELECT g.id, g.name, coalesce(g.site_code, ''), g.description, g.is_site_default, "
        "  g.default_fallback_minutes, "
        "  (SELECT coalesce(json_agg(b.value ORDER BY b.kind DESC, b.value), '[]') "
        "     FROM boundaries b WHERE b.group_id = g.id), "
        "  (SELECT coalesce(json_agg(json_build_object('name', o.name, 'fallbackMinutes', "
        "                                              n.fallback_minutes) "
        "                            ORDER BY n.fallback_minutes, o.name), '[]') "
        "     FROM boundary_group_neighbors n JOIN boundary_groups o ON o.id = n.neighbor_id "
        "    WHERE n.group_id = g.id), "
        "  (SELECT coalesce(json_agg(json_build_object('serverName', m.server_name, "
        "            'maintenanceMode', coalesce(d.maintenance_mode, false), "
        "            'installState', d.install_state) ORDER BY m.server_name), '[]') "
        "     FROM boundary_group_members m "
        "     LEFT JOIN distribution_points d ON d.nal_path = m.nal_path "
        "    WHERE m.group_id = g.id), "
        "  (SELECT count(*) FROM boundary_group_members m WHERE m.group_id = g.id) "
        "FROM boundary_groups g WHERE $1::text IS NULL OR lower(g.name) = lower($1) "
        "ORDER BY g.name = $1 DESC, g.name",
        1, p, out);
}

dpf_status prov_store_bg_audit(dpf_db *db, const char *user, const char *app, const char *machine,
                               const char *action, long long id, const char *name,
                               const char *corr)
{
    char object[PROV_GROUP_NAME_MAX + 64];
    snprintf(object, sizeof object, "GroupID=%lld,Name=\"%s\"", id, name);
    return prov_store_audit(db, user, app, machine, action, PROV_CLASS_GROUP, object, corr);
}

/* SQL behind PATCH, DELETE and site reset. */
#include "store_change.h"

#include <stdio.h>
#include <string.h>

#include <dpf/dp.h>
#include <dpf/dp_props.h>
#include <dpf/sitecontrol.h>

static void id_text(long long id, char buf[24])
{
    snprintf(buf, 24, "%lld", id);
}

dpf_status prov_store_dp_role(dpf_db *db, const char *server, long long *role_id, char *site,
                              char *nal)
{
    const char *p[] = {DPF_ROLE_DP, server};
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec_row(db,
                                    "SELECT id, site_code, nal_path FROM site_system_roles "
                                    "WHERE role_name = $1 AND server_name = upper($2) "
                                    "ORDER BY id LIMIT 1",
                                    2, p, &r);
    if (st != DPF_OK)
        return st;
    *role_id = dpf_db_result_int(r, 0, 0);
    snprintf(site, 8, "%s", dpf_db_result_get(r, 0, 1));
    snprintf(nal, DPF_NAL_MAX, "%s", dpf_db_result_get(r, 0, 2));
    dpf_db_result_free(r);
    return DPF_OK;
}

/* Where a property lives in the buffer: *num for BOOL and INT, *text (of
 * *cap bytes) for TEXT. */
static void props_field(prov_dp_props_buf *b, dpf_dp_prop_id id, int **num, char **text,
                        size_t *cap)
{
    *num = NULL;
    *text = NULL;
    *cap = 0;
    switch (id) {
    case DPF_DP_PROP_DESCRIPTION:
        *text = b->description;
        *cap = sizeof b->description;
        break;
    case DPF_DP_PROP_DRIVE:
        *text = b->drive;
        *cap = sizeof b->drive;
        break;
    case DPF_DP_PROP_IS_PXE: *num = &b->p.is_pxe; break;
    case DPF_DP_PROP_IS_PULL_DP: *num = &b->p.is_pull; break;
    case DPF_DP_PROP_PRIORITY: *num = &b->p.priority; break;
    case DPF_DP_PROP_MIN_FREE_SPACE: *num = &b->p.min_free_mb; break;
    case DPF_DP_PROP_TRANSFER_RATE: *num = &b->p.transfer_rate; break;
    case DPF_DP_PROP_SSL_STATE: *num = &b->p.ssl_state; break;
    case DPF_DP_PROP_CONTENT_VALIDATION: *num = &b->p.validation_hours; break;
    case DPF_DP_PROP_COUNT: break;
    }
}

/* One property's value into the buffer; value3 as stored (a PATCH writes
 * back what it read, so nothing is clamped here). */
static void props_set(prov_dp_props_buf *b, const dpf_dp_prop *prop, const char *value1,
                      int value3)
{
    int *num;
    char *text;
    size_t cap;
    props_field(b, prop->id, &num, &text, &cap);
    if (text != NULL)
        snprintf(text, cap, "%s", value1);
    else if (num != NULL)
        *num = value3;
}

dpf_status prov_store_props_read(dpf_db *db, long long role_id, prov_dp_props_buf *out)
{
    char id[24];
    id_text(role_id, id);
    const char *p[] = {id};
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec(db, "SELECT name, value1, value3 FROM site_system_role_props "
                                    "WHERE role_id = $1", 1, p, &r);
    if (st != DPF_OK)
        return st;
    /* the defaults for a property that is missing */
    memset(out, 0, sizeof *out);
    for (int i = 0; i < DPF_DP_PROP_COUNT; i++) {
        const dpf_dp_prop *prop = dpf_dp_prop_get((dpf_dp_prop_id)i);
        props_set(out, prop, prop->text_default ? prop->text_default : "", prop->int_default);
    }
    for (int i = 0; i < dpf_db_result_rows(r); i++) {
        const dpf_dp_prop *prop = dpf_dp_prop_find(dpf_db_result_get(r, i, 0));
        if (prop != NULL)
            props_set(out, prop, dpf_db_result_get(r, i, 1), (int)dpf_db_result_int(r, i, 2));
    }
    dpf_db_result_free(r);
    out->p.description = out->description;
    out->p.drive = out->drive;
    return DPF_OK;
}

dpf_status prov_store_pull_sources_clear(dpf_db *db, long long role_id)
{
    char id[24];
    id_text(role_id, id);
    const char *p[] = {id};
    return dpf_db_exec(db, "DELETE FROM pull_dp_sources WHERE role_id = $1", 1, p, NULL);
}

dpf_status prov_store_dp_sourced_by(dpf_db *db, const char *server, char *buf, size_t len)
{
    const char *p[] = {server};
    return dpf_db_exec_text(db,
                            "SELECT r.server_name FROM pull_dp_sources s "
                            "JOIN site_system_roles r ON r.id = s.role_id "
                            "WHERE s.source_server = upper($1) ORDER BY r.server_name LIMIT 1",
                            1, p, buf, len);
}

dpf_status prov_store_pull_chain_reaches(dpf_db *db, const char *source, const char *self,
                                         char *via, size_t len)
{
    const char *p[] = {source, self, DPF_ROLE_DP};
    /* every DP the chain reaches, with the DP that pulls from it; UNION
     * keeps each (server, via) pair once, so even a loop already in the
     * table (written around the API) ends */
    return dpf_db_exec_text(db,
                            "WITH RECURSIVE reach(server, via) AS ("
                            "  SELECT upper($1)::text, ''::text "
                            "  UNION "
                            "  SELECT s.source_server, r.server_name FROM reach "
                            "  JOIN site_system_roles r "
                            "    ON r.role_name = $3 AND r.server_name = reach.server "
                            "  JOIN pull_dp_sources s ON s.role_id = r.id) "
                            "SELECT via FROM reach WHERE server = upper($2) "
                            "ORDER BY via = upper($1) DESC, via LIMIT 1",
                            3, p, via, len);
}

dpf_status prov_store_dp_groups(dpf_db *db, const char *nal, dpf_db_result **out)
{
    const char *p[] = {nal};
    return dpf_db_exec(db,
                       "SELECT g.id, g.name FROM boundary_group_members m "
                       "JOIN boundary_groups g ON g.id = m.group_id WHERE m.nal_path = $1 "
                       "ORDER BY g.name",
                       1, p, out);
}

dpf_status prov_store_group_remove_member(dpf_db *db, long long group_id, const char *nal)
{
    char id[24];
    id_text(group_id, id);
    const char *p[] = {id, nal};
    return dpf_db_exec(db, "DELETE FROM boundary_group_members WHERE group_id = $1 AND nal_path = $2",
                       2, p, NULL);
}

dpf_status prov_store_role_delete(dpf_db *db, long long role_id)
{
    char id[24];
    id_text(role_id, id);
    const char *p[] = {id};
    return dpf_db_exec(db, "DELETE FROM site_system_roles WHERE id = $1", 1, p, NULL);
}

dpf_status prov_store_members_delete(dpf_db *db, const char *nal)
{
    const char *p[] = {nal};
    return dpf_db_exec(db, "DELETE FROM boundary_group_members WHERE nal_path = $1", 1, p, NULL);
}

dpf_status prov_store_site_reset(dpf_db *db, const char *site, long long *count)
{
    const char *p[] = {site};
    dpf_db_result *r = NULL;
    /* db/095_provider_writes.sql: the role cannot update the rows itself */
    dpf_status st = dpf_db_exec(db, "SELECT provider_site_reset($1)", 1, p, &r);
    if (st == DPF_OK)
        *count = dpf_db_result_rows(r);
    dpf_db_result_free(r);
    return st;
}

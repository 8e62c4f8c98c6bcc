/* Reads one site's site control data (roles, their properties, pull sources,
 * boundary groups), its DistributionPoints rows and its SysResList into a
 * snapshot. Runs inside the processing transaction, after the site_control
 * row is locked, so two hman replicas never process one site at once and
 * the snapshot cannot change under us.
 *
 * One set-based query per table for the whole site; the rows are joined to
 * their roles through the snapshot's hash indexes (site.c), so loading is
 * linear in the site's rows (5,000 DPs: 10,000 roles, 40,000 properties). */
#include "hman.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <dpf/log.h>
#include <dpf/sitecontrol.h>
#include <dpf/util.h>

static const char SQL_LOCK[] =
    "SELECT s.site_name, c.serial FROM site_control c JOIN sites s ON s.site_code = c.site_code "
    "WHERE c.site_code = $1 FOR UPDATE OF c";

/* DP role first for one server, as the source logs "New site system" lines */
static const char SQL_ROLES[] =
    "SELECT id, role_name, nal_path, server_name FROM site_system_roles "
    "WHERE site_code = $1 ORDER BY server_name, nal_path, role_name";

static const char SQL_PROPS[] =
    "SELECT p.role_id, p.name, p.value1, p.value3 FROM site_system_role_props p "
    "JOIN site_system_roles r ON r.id = p.role_id WHERE r.site_code = $1";

static const char SQL_SOURCES[] =
    "SELECT s.role_id, s.source_server, s.priority FROM pull_dp_sources s "
    "JOIN site_system_roles r ON r.id = s.role_id WHERE r.site_code = $1 ORDER BY s.role_id";

static const char SQL_GROUPS[] =
    "SELECT m.nal_path, g.name FROM boundary_group_members m "
    "JOIN boundary_groups g ON g.id = m.group_id "
    "WHERE m.nal_path IN (SELECT nal_path FROM site_system_roles "
    "                     WHERE site_code = $1 AND role_name = $2) "
    "ORDER BY m.nal_path";

static const char SQL_DPS[] =
    "SELECT dpid, nal_path, server_name, identity_guid, dp_crc, action, is_pull_dp "
    "FROM distribution_points WHERE site_code = $1 ORDER BY dpid";

static const char SQL_SYSRES[] =
    "SELECT role_name, nal_path, server_name FROM sys_res_list WHERE site_code = $1 "
    "ORDER BY server_name, nal_path, role_name";

dpf_status hman_store_lock_site(dpf_db *db, const char *site_code, char *site_name,
                                size_t namelen, long long *serial)
{
    const char *p[] = {site_code};
    dpf_db_result *r = NULL;
    *serial = 0;
    dpf_status st = dpf_db_exec(db, SQL_LOCK, 1, p, &r);
    if (st == DPF_OK && dpf_db_result_rows(r) != 1)
        st = DPF_ERR_NOT_FOUND;
    if (st == DPF_OK) {
        dpf_fmt(site_name, namelen, "%s", dpf_db_result_get(r, 0, 0));
        *serial = dpf_db_result_int(r, 0, 1);
    }
    dpf_db_result_free(r);
    return st;
}

static char *upper_dup(const char *text)
{
    char *c = hman_strdup(text);
    for (char *p = c; p && *p; p++)
        *p = (char)toupper((unsigned char)*p);
    return c;
}

static dpf_status load_roles(dpf_db *db, hman_site *s, const char *const *p)
{
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec(db, SQL_ROLES, 1, p, &r);
    for (int i = 0; st == DPF_OK && i < dpf_db_result_rows(r); i++) {
        hman_role *role = hman_site_add_role(s);
        if (role == NULL) {
            st = DPF_ERR_NOMEM;
            break;
        }
        hman_role_set_defaults(role);
        role->role_id = dpf_db_result_int(r, i, 0);
        role->role_name = hman_strdup(dpf_db_result_get(r, i, 1));
        role->nal_path = hman_strdup(dpf_db_result_get(r, i, 2));
        /* the server as the NAL path names it (upper-cased), so the row, the
         * CRC and the log lines agree with the NAL path */
        char server[DPF_FQDN_MAX + 1];
        if (dpf_nal_server(role->nal_path ? role->nal_path : "", server, sizeof server) == DPF_OK)
            role->server_name = hman_strdup(server);
        else
            role->server_name = upper_dup(dpf_db_result_get(r, i, 3));
        role->description = hman_strdup("");
        role->dp_drive = hman_strdup("");
        role->pull_sources = hman_strdup("");
        role->boundary_groups = hman_strdup("");
        if (!role->role_name || !role->nal_path || !role->server_name || !role->description ||
            !role->dp_drive || !role->pull_sources || !role->boundary_groups)
            st = DPF_ERR_NOMEM;
    }
    dpf_db_result_free(r);
    return st;
}

static dpf_status load_props(dpf_db *db, hman_site *s, const char *const *p)
{
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec(db, SQL_PROPS, 1, p, &r);
    for (int i = 0; st == DPF_OK && i < dpf_db_result_rows(r); i++) {
        hman_role *role = hman_site_role_by_id(s, dpf_db_result_int(r, i, 0));
        if (role != NULL)
            st = hman_role_set_prop(role, dpf_db_result_get(r, i, 1), dpf_db_result_get(r, i, 2),
                                    dpf_db_result_int(r, i, 3));
    }
    dpf_db_result_free(r);
    return st;
}

/* Rows come grouped by role; each group becomes one canonical string. */
static dpf_status load_sources(dpf_db *db, hman_site *s, const char *const *p)
{
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec(db, SQL_SOURCES, 1, p, &r);
    int n = st == DPF_OK ? dpf_db_result_rows(r) : 0;
    const char **servers = calloc((size_t)n + 1, sizeof *servers);
    int *prios = calloc((size_t)n + 1, sizeof *prios);
    if (st == DPF_OK && (servers == NULL || prios == NULL))
        st = DPF_ERR_NOMEM;
    for (int i = 0; st == DPF_OK && i < n;) {
        long long id = dpf_db_result_int(r, i, 0);
        int k = 0;
        for (; i < n && dpf_db_result_int(r, i, 0) == id; i++, k++) {
            servers[k] = dpf_db_result_get(r, i, 1);
            prios[k] = (int)dpf_db_result_int(r, i, 2);
        }
        hman_role *role = hman_site_role_by_id(s, id);
        char *canon = NULL;
        if (role == NULL)
            continue;
        st = hman_canon_sources(servers, prios, k, &canon);
        if (st == DPF_OK) {
            free(role->pull_sources);
            role->pull_sources = canon;
        }
    }
    free(servers);
    free(prios);
    dpf_db_result_free(r);
    return st;
}

static dpf_status load_groups(dpf_db *db, hman_site *s, const char *site)
{
    dpf_db_result *r = NULL;
    const char *p[] = {site, DPF_ROLE_DP};
    dpf_status st = dpf_db_exec(db, SQL_GROUPS, 2, p, &r);
    int n = st == DPF_OK ? dpf_db_result_rows(r) : 0;
    const char **names = calloc((size_t)n + 1, sizeof *names);
    if (st == DPF_OK && names == NULL)
        st = DPF_ERR_NOMEM;
    for (int i = 0; st == DPF_OK && i < n;) {
        const char *nal = dpf_db_result_get(r, i, 0);
        int k = 0;
        for (; i < n && strcmp(dpf_db_result_get(r, i, 0), nal) == 0; i++, k++)
            names[k] = dpf_db_result_get(r, i, 1);
        hman_role *role = hman_site_role(s, DPF_ROLE_DP, nal);
        char *canon = NULL;
        if (role == NULL)
            continue;
        st = hman_canon_groups(names, k, &canon);
        if (st == DPF_OK) {
            free(role->boundary_groups);
            role->boundary_groups = canon;
        }
    }
    free(names);
    dpf_db_result_free(r);
    return st;
}

static dpf_status load_dps(dpf_db *db, hman_site *s, const char *const *p)
{
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec(db, SQL_DPS, 1, p, &r);
    for (int i = 0; st == DPF_OK && i < dpf_db_result_rows(r); i++) {
        hman_dp_row *row = hman_site_add_dp(s);
        if (row == NULL) {
            st = DPF_ERR_NOMEM;
            break;
        }
        row->dpid = dpf_db_result_int(r, i, 0);
        row->nal_path = hman_strdup(dpf_db_result_get(r, i, 1));
        row->server_name = hman_strdup(dpf_db_result_get(r, i, 2));
        row->identity_guid = hman_strdup(dpf_db_result_get(r, i, 3));
        row->dp_crc = hman_strdup(dpf_db_result_get(r, i, 4));
        row->action = (int)dpf_db_result_int(r, i, 5);
        row->is_pull_dp = dpf_db_result_get(r, i, 6)[0] == 't';
        if (!row->nal_path || !row->server_name || !row->identity_guid || !row->dp_crc)
            st = DPF_ERR_NOMEM;
    }
    dpf_db_result_free(r);
    return st;
}

static dpf_status load_sysres(dpf_db *db, hman_site *s, const char *const *p)
{
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec(db, SQL_SYSRES, 1, p, &r);
    for (int i = 0; st == DPF_OK && i < dpf_db_result_rows(r); i++) {
        hman_sysres *e = hman_site_add_sysres(s);
        if (e == NULL) {
            st = DPF_ERR_NOMEM;
            break;
        }
        e->role_name = hman_strdup(dpf_db_result_get(r, i, 0));
        e->nal_path = hman_strdup(dpf_db_result_get(r, i, 1));
        e->server_name = hman_strdup(dpf_db_result_get(r, i, 2));
        if (!e->role_name || !e->nal_path || !e->server_name)
            st = DPF_ERR_NOMEM;
    }
    dpf_db_result_free(r);
    return st;
}

dpf_status hman_store_load(dpf_db *db, hman_site *s)
{
    const char *p[] = {s->site_code};
    dpf_status st = load_roles(db, s, p);
    if (st == DPF_OK)
        st = load_props(db, s, p);
    if (st == DPF_OK)
        st = load_sources(db, s, p);
    if (st == DPF_OK)
        st = load_groups(db, s, s->site_code);
    if (st == DPF_OK)
        st = load_dps(db, s, p);
    if (st == DPF_OK)
        st = load_sysres(db, s, p);
    return st;
}

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

/* Only DP roles: the other roles matter to SysResList alone, which is
 * brought in step by the two set-based statements below. Creation order,
 * so a site's DPs are inserted in the order they were added. */
#define SQL_ROLES                                                                          \
    "SELECT id, role_name, nal_path, server_name FROM site_system_roles "                  \
    "WHERE site_code = $1 AND role_name = $2 ORDER BY id"

#define SQL_PROPS                                                                          \
    "SELECT p.role_id, p.name, p.value1, p.value3 FROM site_system_role_props p "          \
    "JOIN site_system_roles r ON r.id = p.role_id WHERE r.site_code = $1 AND r.role_name = $2"

static const char SQL_SOURCES[] =
    "SELECT s.role_id, s.source_server, s.priority FROM pull_dp_sources s "
    "JOIN site_system_roles r ON r.id = s.role_id WHERE r.site_code = $1 AND r.role_name = $2 "
    "ORDER BY s.role_id";

static const char SQL_GROUPS[] =
    "SELECT m.nal_path, g.name FROM boundary_group_members m "
    "JOIN boundary_groups g ON g.id = m.group_id "
    "WHERE m.nal_path IN (SELECT nal_path FROM site_system_roles "
    "                     WHERE site_code = $1 AND role_name = $2) "
    "ORDER BY m.nal_path";

#define SQL_DPS                                                                            \
    "SELECT dpid, nal_path, server_name, identity_guid, dp_crc, action, is_pull_dp "       \
    "FROM distribution_points WHERE site_code = $1 ORDER BY dpid"

/* SysResList against the roles, both ways, by hash anti-joins: usually no
 * row at all, however many DPs the site has. */
static const char SQL_SYSRES_MISSING[] =
    "SELECT r.role_name, r.nal_path, r.server_name FROM site_system_roles r "
    "WHERE r.site_code = $1 AND NOT EXISTS (SELECT 1 FROM sys_res_list s "
    "  WHERE s.site_code = r.site_code AND s.role_name = r.role_name "
    "    AND s.nal_path = r.nal_path) "
    "ORDER BY r.server_name, r.nal_path, r.role_name";

static const char SQL_SYSRES_PRUNE[] =
    "DELETE FROM sys_res_list s WHERE s.site_code = $1 AND NOT EXISTS (SELECT 1 "
    "  FROM site_system_roles r WHERE r.site_code = s.site_code "
    "    AND r.role_name = s.role_name AND r.nal_path = s.nal_path) "
    "RETURNING s.role_name, s.nal_path, s.server_name";

/* The big loads go through a cursor, FETCH_ROWS rows at a time, so the
 * query results held at once stay small (40,000 property rows at 5,000
 * DPs would be megabytes in one result). */
#define FETCH_ROWS 8000

typedef dpf_status (*row_fn)(hman_site *s, const dpf_db_result *r, int i);

static dpf_status each_row(dpf_db *db, hman_site *s, const char *declare, const char *fetch,
                           const char *close, int np, const char *const *p, row_fn fn)
{
    dpf_status st = dpf_db_exec(db, declare, np, p, NULL);
    while (st == DPF_OK) {
        dpf_db_result *r = NULL;
        st = dpf_db_exec(db, fetch, 0, NULL, &r);
        int n = st == DPF_OK ? dpf_db_result_rows(r) : 0;
        for (int i = 0; st == DPF_OK && i < n; i++)
            st = fn(s, r, i);
        dpf_db_result_free(r);
        if (n < FETCH_ROWS)
            break;
    }
    if (st == DPF_OK)
        st = dpf_db_exec(db, close, 0, NULL, NULL);
    return st;
}

#define STR_(x) #x
#define STR(x) STR_(x)
/* the three statements of each_row for a cursor name and a query */
#define CURSOR(name, sql)                                                                  \
    "DECLARE " name " NO SCROLL CURSOR FOR " sql, "FETCH " STR(FETCH_ROWS) " FROM " name,  \
        "CLOSE " name

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

char *hman_role_server(const char *nal, const char *server)
{
    /* the server as the NAL path names it (upper-cased), so the row, the
     * CRC and the log lines agree with the NAL path */
    char name[DPF_FQDN_MAX + 1];
    if (dpf_nal_server(nal ? nal : "", name, sizeof name) == DPF_OK)
        return hman_strdup(name);
    return upper_dup(server);
}

static dpf_status role_row(hman_site *s, const dpf_db_result *r, int i)
{
    hman_role *role = hman_site_add_role(s);
    if (role == NULL)
        return DPF_ERR_NOMEM;
    hman_role_set_defaults(role);
    role->role_id = dpf_db_result_int(r, i, 0);
    role->role_name = hman_strdup(dpf_db_result_get(r, i, 1));
    role->nal_path = hman_strdup(dpf_db_result_get(r, i, 2));
    role->server_name = hman_role_server(dpf_db_result_get(r, i, 2), dpf_db_result_get(r, i, 3));
    role->description = hman_strdup("");
    role->dp_drive = hman_strdup("");
    role->pull_sources = hman_strdup("");
    role->boundary_groups = hman_strdup("");
    if (!role->role_name || !role->nal_path || !role->server_name || !role->description ||
        !role->dp_drive || !role->pull_sources || !role->boundary_groups)
        return DPF_ERR_NOMEM;
    return DPF_OK;
}

static dpf_status prop_row(hman_site *s, const dpf_db_result *r, int i)
{
    hman_role *role = hman_site_role_by_id(s, dpf_db_result_int(r, i, 0));
    if (role == NULL)
        return DPF_OK; /* a role added since the roles were read: the next change has it */
    return hman_role_set_prop(role, dpf_db_result_get(r, i, 1), dpf_db_result_get(r, i, 2),
                              dpf_db_result_int(r, i, 3));
}

/* Rows come grouped by role; each group becomes one canonical string. */
static dpf_status load_sources(dpf_db *db, hman_site *s, const char *const *p)
{
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec(db, SQL_SOURCES, 2, p, &r);
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

static dpf_status load_groups(dpf_db *db, hman_site *s, const char *const *p)
{
    dpf_db_result *r = NULL;
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

static dpf_status dp_row(hman_site *s, const dpf_db_result *r, int i)
{
    hman_dp_row *row = hman_site_add_dp(s);
    if (row == NULL)
        return DPF_ERR_NOMEM;
    row->dpid = dpf_db_result_int(r, i, 0);
    row->nal_path = hman_strdup(dpf_db_result_get(r, i, 1));
    row->server_name = hman_strdup(dpf_db_result_get(r, i, 2));
    row->identity_guid = hman_strdup(dpf_db_result_get(r, i, 3));
    row->dp_crc = hman_strdup(dpf_db_result_get(r, i, 4));
    row->action = (int)dpf_db_result_int(r, i, 5);
    row->is_pull_dp = dpf_db_result_get(r, i, 6)[0] == 't';
    if (!row->nal_path || !row->server_name || !row->identity_guid || !row->dp_crc)
        return DPF_ERR_NOMEM;
    return DPF_OK;
}

dpf_status hman_store_load(dpf_db *db, hman_site *s)
{
    const char *p[] = {s->site_code, DPF_ROLE_DP};
    dpf_status st = each_row(db, s, CURSOR("hman_roles", SQL_ROLES), 2, p, role_row);
    if (st == DPF_OK)
        st = each_row(db, s, CURSOR("hman_props", SQL_PROPS), 2, p, prop_row);
    if (st == DPF_OK)
        st = load_sources(db, s, p);
    if (st == DPF_OK)
        st = load_groups(db, s, p);
    if (st == DPF_OK)
        st = each_row(db, s, CURSOR("hman_dps", SQL_DPS), 1, p, dp_row);
    return st;
}

dpf_status hman_store_sysres_missing(dpf_db *db, const char *site, dpf_db_result **out)
{
    const char *p[] = {site};
    return dpf_db_exec(db, SQL_SYSRES_MISSING, 1, p, out);
}

dpf_status hman_store_sysres_prune(dpf_db *db, const char *site, dpf_db_result **out)
{
    const char *p[] = {site};
    return dpf_db_exec(db, SQL_SYSRES_PRUNE, 1, p, out);
}

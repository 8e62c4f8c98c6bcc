/* HMAN's writes: SysResList, DistributionPoints, DPNotification, the client
 * packages of a new DP and spUpdateDPCert. One statement each, every value a
 * parameter; the caller runs them all in one transaction. The outbox rows
 * that wake distmgr come from the triggers on these tables, so they commit
 * (or roll back) together with the change. */
#include "hman.h"

#include <stdlib.h>

#include <dpf/util.h>

static const char SQL_SYSRES_ADD[] =
    "INSERT INTO sys_res_list (site_code, role_name, nal_path, server_name) "
    "VALUES ($1, $2, $3, $4) ON CONFLICT (site_code, role_name, nal_path) "
    "DO UPDATE SET server_name = EXCLUDED.server_name";

static const char SQL_DP_INSERT[] =
    "INSERT INTO distribution_points (server_name, nal_path, site_code, is_pull_dp, is_pxe, "
    "priority, transfer_rate, min_free_space, dp_drive, ssl_state, description, pull_sources, "
    "boundary_groups, identity_guid, dp_crc, content_validation_interval_hours, action, state) "
    "VALUES ($1, $2, $3, $4::boolean, $5::boolean, $6::int, $7::int, $8::int, $9, $10::int, "
    "$11, $12, $13, $14, $15, $16::int, 0, 0) RETURNING dpid";

/* install_state is distmgr's state machine and is left alone: the new dp_crc
 * makes the trigger emit dp.ins, and distmgr installs because installed_crc
 * no longer matches, even if an install of the old CRC is still running */
static const char SQL_DP_UPDATE[] =
    "UPDATE distribution_points SET server_name = $2, is_pull_dp = $3::boolean, "
    "is_pxe = $4::boolean, priority = $5::int, transfer_rate = $6::int, "
    "min_free_space = $7::int, dp_drive = $8, ssl_state = $9::int, description = $10, "
    "pull_sources = $11, boundary_groups = $12, dp_crc = $13, "
    "content_validation_interval_hours = $14::int, action = 0, "
    "updated_at = now() WHERE dpid = $1::bigint";

static const char SQL_DP_REMOVE[] =
    "UPDATE distribution_points SET action = 3, state = 0, updated_at = now() "
    "WHERE dpid = $1::bigint";

static const char SQL_DPN_INSERT[] = "INSERT INTO dp_notification (dpid) VALUES ($1::bigint)";

static const char SQL_PACKAGE_ADD[] =
    "INSERT INTO dp_packages (dpid, package_id) VALUES ($1::bigint, $2) "
    "ON CONFLICT (dpid, package_id) DO NOTHING";

static const char SQL_CLIENT_PACKAGES[] =
    "SELECT package_id, client_setting FROM packages WHERE client_setting IS NOT NULL "
    "ORDER BY package_id";

static const char SQL_CERT[] = "SELECT update_dp_cert($1, $2, $3::int, $4)";

dpf_status hman_store_sysres_add(dpf_db *db, const char *site, const char *role_name,
                                 const char *nal, const char *server)
{
    const char *p[] = {site, role_name, nal, server};
    return dpf_db_exec(db, SQL_SYSRES_ADD, 4, p, NULL);
}

/* The role's numbers as text parameters. */
typedef struct role_nums {
    char priority[16], transfer_rate[16], min_free[16], ssl_state[16], validation[16];
} role_nums;

static void nums(const hman_role *r, role_nums *n)
{
    dpf_fmt(n->priority, sizeof n->priority, "%d", r->priority);
    dpf_fmt(n->transfer_rate, sizeof n->transfer_rate, "%d", r->transfer_rate);
    dpf_fmt(n->min_free, sizeof n->min_free, "%d", r->min_free_space_mb);
    dpf_fmt(n->ssl_state, sizeof n->ssl_state, "%d", r->ssl_state);
    dpf_fmt(n->validation, sizeof n->validation, "%d", r->content_validation_hours);
}

static const char *boolstr(int v)
{
    return v ? "true" : "false";
}

dpf_status hman_store_dp_insert(dpf_db *db, const char *site, const hman_role *role,
                                const char *guid, const char *crc, long long *dpid)
{
    role_nums n;
    nums(role, &n);
    const char *p[] = {role->server_name, role->nal_path, site, boolstr(role->is_pull_dp),
                       boolstr(role->is_pxe), n.priority, n.transfer_rate, n.min_free,
                       role->dp_drive, n.ssl_state, role->description, role->pull_sources,
                       role->boundary_groups, guid, crc, n.validation};
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec(db, SQL_DP_INSERT, 16, p, &r);
    if (st == DPF_OK)
        *dpid = dpf_db_result_rows(r) == 1 ? dpf_db_result_int(r, 0, 0) : 0;
    dpf_db_result_free(r);
    return st;
}

dpf_status hman_store_dp_update(dpf_db *db, long long dpid, const hman_role *role,
                                const char *crc)
{
    role_nums n;
    char id[24];
    nums(role, &n);
    dpf_fmt(id, sizeof id, "%lld", dpid);
    const char *p[] = {id, role->server_name, boolstr(role->is_pull_dp), boolstr(role->is_pxe),
                       n.priority, n.transfer_rate, n.min_free, role->dp_drive, n.ssl_state,
                       role->description, role->pull_sources, role->boundary_groups, crc,
                       n.validation};
    return dpf_db_exec(db, SQL_DP_UPDATE, 14, p, NULL);
}

dpf_status hman_store_dp_remove(dpf_db *db, long long dpid)
{
    char id[24];
    dpf_fmt(id, sizeof id, "%lld", dpid);
    const char *p[] = {id};
    dpf_status st = dpf_db_exec(db, SQL_DP_REMOVE, 1, p, NULL);
    if (st == DPF_OK)
        st = dpf_db_exec(db, SQL_DPN_INSERT, 1, p, NULL);
    return st;
}

dpf_status hman_store_add_package(dpf_db *db, long long dpid, const char *package_id)
{
    char id[24];
    dpf_fmt(id, sizeof id, "%lld", dpid);
    const char *p[] = {id, package_id};
    return dpf_db_exec(db, SQL_PACKAGE_ADD, 2, p, NULL);
}

dpf_status hman_store_cert(dpf_db *db, const char *server, const char *guid, int cert_type,
                           const char *thumbprint)
{
    char type[8];
    dpf_fmt(type, sizeof type, "%d", cert_type);
    const char *p[] = {server, guid, type, thumbprint};
    return dpf_db_exec(db, SQL_CERT, 4, p, NULL);
}

dpf_status hman_store_client_packages(dpf_db *db, dpf_db_result **out)
{
    return dpf_db_exec(db, SQL_CLIENT_PACKAGES, 0, NULL, out);
}

dpf_status hman_store_record_change(dpf_db *db, long long change_id, const char *site)
{
    char id[24];
    dpf_fmt(id, sizeof id, "%lld", change_id);
    const char *p[] = {id, site};
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec(db,
                                "INSERT INTO hman_processed_changes (change_id, site_code) "
                                "VALUES ($1::bigint, $2) ON CONFLICT (change_id) DO NOTHING "
                                "RETURNING change_id",
                                2, p, &r);
    if (st == DPF_OK && dpf_db_result_rows(r) == 0)
        st = DPF_ERR_CONFLICT;
    dpf_db_result_free(r);
    if (st == DPF_OK)
        st = dpf_db_exec(db,
                         "DELETE FROM hman_processed_changes "
                         "WHERE processed_at < now() - interval '7 days'",
                         0, NULL, NULL);
    return st;
}

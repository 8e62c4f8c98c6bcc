/* The SQL distmgr runs on distribution_points. Every write that changes a
 * DP's state is conditioned on this replica still holding the lease, so a
 * replica that stalled past its lease cannot overwrite what the replica that
 * took over has recorded. */
#include "store_dp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dpf/log.h>
#include <dpf/util.h>

#define COLS                                                                         \
    "dpid, server_name, nal_path, site_code, description, dp_drive, identity_guid, " \
    "dp_crc, pull_sources, boundary_groups, installed_crc, installed_version, "      \
    "pull_dp_state, last_step, last_error, coalesce(lease_owner, ''), "              \
    "coalesce(lease_until::text, ''), is_pull_dp::int, is_pxe::int, "                \
    "is_multicast::int, priority, min_free_space, transfer_rate, ssl_state, "       \
    "action, attempts, install_state"

enum {
    C_DPID, C_SERVER, C_NAL, C_SITE, C_DESC, C_DRIVE, C_GUID, C_CRC, C_PULLSRC, C_BGS,
    C_ICRC, C_IVER, C_PULLSTATE, C_LSTEP, C_LERR, C_LOWNER, C_LUNTIL, C_ISPULL, C_ISPXE,
    C_ISMC, C_PRIO, C_MINFREE, C_RATE, C_SSL, C_ACTION, C_ATTEMPTS, C_STATE
};

void dm_dp_row_clear(dm_dp_row *row)
{
    if (row == NULL)
        return;
    char **strs[] = {&row->server_name, &row->nal_path, &row->site_code, &row->description,
                     &row->dp_drive, &row->identity_guid, &row->dp_crc, &row->pull_sources,
                     &row->boundary_groups, &row->installed_crc, &row->installed_version,
                     &row->pull_dp_state, &row->last_step, &row->last_error,
                     &row->lease_owner, &row->lease_until};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        free(*strs[i]);
    memset(row, 0, sizeof *row);
}

static dpf_status fill_row(const dpf_db_result *r, dm_dp_row *row)
{
    struct { char **dst; int col; } s[] = {
        {&row->server_name, C_SERVER}, {&row->nal_path, C_NAL}, {&row->site_code, C_SITE},
        {&row->description, C_DESC}, {&row->dp_drive, C_DRIVE}, {&row->identity_guid, C_GUID},
        {&row->dp_crc, C_CRC}, {&row->pull_sources, C_PULLSRC},
        {&row->boundary_groups, C_BGS}, {&row->installed_crc, C_ICRC},
        {&row->installed_version, C_IVER}, {&row->pull_dp_state, C_PULLSTATE},
        {&row->last_step, C_LSTEP}, {&row->last_error, C_LERR},
        {&row->lease_owner, C_LOWNER}, {&row->lease_until, C_LUNTIL},
    };
    dm_dp_row_clear(row);
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        *s[i].dst = strdup(dpf_db_result_get(r, 0, s[i].col));
        if (*s[i].dst == NULL) {
            dm_dp_row_clear(row);
            return DPF_ERR_NOMEM;
        }
    }
    row->dpid = dpf_db_result_int(r, 0, C_DPID);
    row->is_pull_dp = (int)dpf_db_result_int(r, 0, C_ISPULL);
    row->is_pxe = (int)dpf_db_result_int(r, 0, C_ISPXE);
    row->is_multicast = (int)dpf_db_result_int(r, 0, C_ISMC);
    row->priority = (int)dpf_db_result_int(r, 0, C_PRIO);
    row->min_free_space = (int)dpf_db_result_int(r, 0, C_MINFREE);
    row->transfer_rate = (int)dpf_db_result_int(r, 0, C_RATE);
    row->ssl_state = (int)dpf_db_result_int(r, 0, C_SSL);
    row->action = (int)dpf_db_result_int(r, 0, C_ACTION);
    row->attempts = (int)dpf_db_result_int(r, 0, C_ATTEMPTS);
    const char *st = dpf_db_result_get(r, 0, C_STATE);
    if (dm_state_parse(st, &row->state) != DPF_OK) {
        /* a state written by something newer than this distmgr: treat it
         * like a row that needs installing rather than refusing the DP */
        DPF_WARN("DPID %lld has unknown install_state '%s', treating it as Pending",
                 row->dpid, st);
        row->state = DM_ST_PENDING;
    }
    return DPF_OK;
}

/* Runs sql and fills row from its first row; DPF_ERR_NOT_FOUND if none. */
static dpf_status query_row(dpf_db *db, const char *sql, int n, const char *const *params,
                            dm_dp_row *row)
{
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec_row(db, sql, n, params, &r);
    if (st == DPF_OK)
        st = fill_row(r, row);
    dpf_db_result_free(r);
    return st;
}

/* Runs a write and maps "no row matched" to DPF_ERR_NOT_FOUND. The SQL ends
 * in RETURNING so the row count is visible through the result. */
static dpf_status write_one(dpf_db *db, const char *sql, int n, const char *const *params,
                            long long *first_col)
{
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec_row(db, sql, n, params, &r);
    if (st == DPF_OK && first_col != NULL)
        *first_col = dpf_db_result_int(r, 0, 0);
    dpf_db_result_free(r);
    return st;
}

dpf_status dm_store_query_ids(dpf_db *db, const char *sql, int nparams, const char *const *params,
                              long long *ids, int max, int *n)
{
    dpf_db_result *r = NULL;
    *n = 0;
    dpf_status st = dpf_db_exec(db, sql, nparams, params, &r);
    if (st == DPF_OK) {
        int rows = dpf_db_result_rows(r);
        for (int i = 0; i < rows && i < max; i++)
            ids[(*n)++] = dpf_db_result_int(r, i, 0);
    }
    dpf_db_result_free(r);
    return st;
}

dpf_status dm_store_query_ids_grace(dpf_db *db, const char *sql, int grace_s, long long *ids,
                                    int max, int *n)
{
    char grace[16], lim[16];
    snprintf(grace, sizeof grace, "%d", grace_s);
    snprintf(lim, sizeof lim, "%d", max);
    const char *p[] = {grace, lim};
    return dm_store_query_ids(db, sql, 2, p, ids, max, n);
}

/* The state ev leads to from from, if the transition table (dp_state.c)
 * allows it and it is want; otherwise DPF_ERR_INVALID and nothing is
 * written. Every install_state a store function writes comes from here. */
static dpf_status transition(dm_state from, dm_event ev, dm_state want, dm_state *to)
{
    if (dm_state_next(from, ev, to) != DPF_OK || *to != want) {
        DPF_ERROR("install_state: %s on %s is not a transition to %s; nothing written",
                  dm_event_name(ev), dm_state_name(from), dm_state_name(want));
        return DPF_ERR_INVALID;
    }
    return DPF_OK;
}

dpf_status dm_store_dp_move(dpf_db *db, long long dpid, const char *owner, dm_state from,
                            dm_event ev, dm_state *to)
{
    dm_state next;
    dpf_status st = transition(from, ev, ev == DM_EV_REMOVE ? DM_ST_REMOVING : DM_ST_INSTALLING,
                               &next);
    if (st != DPF_OK)
        return st;
    char id[24];
    snprintf(id, sizeof id, "%lld", dpid);
    const char *p[] = {id, owner, dm_state_name(next), dm_state_name(from)};
    st = write_one(db,
                   "UPDATE distribution_points SET install_state = $3, updated_at = now() "
                   "WHERE dpid = $1 AND lease_owner = $2 AND install_state = $4 "
                   "RETURNING dpid",
                   4, p, NULL);
    if (st == DPF_OK && to != NULL)
        *to = next;
    return st;
}

dpf_status dm_store_dp_mark_failed(dpf_db *db, long long dpid, const char *owner,
                                   dm_state from, dm_event ev, const char *step,
                                   const char *reason, int *attempts)
{
    dm_state to;
    dpf_status st = transition(from, ev, ev == DM_EV_REMOVE_FAILED ? DM_ST_REMOVE_FAILED
                                                                    : DM_ST_FAILED, &to);
    if (st != DPF_OK)
        return st;
    char id[24];
    snprintf(id, sizeof id, "%lld", dpid);
    const char *p[] = {id, owner, dm_state_name(to), step, reason, dm_state_name(from)};
    long long n = 0;
    st = write_one(db,
                   "UPDATE distribution_points SET install_state = $3, "
                   "last_step = $4, last_error = $5, attempts = attempts + 1, "
                   "lease_owner = NULL, lease_until = NULL, updated_at = now() "
                   "WHERE dpid = $1 AND lease_owner = $2 AND install_state = $6 "
                   "RETURNING attempts",
                   6, p, &n);
    if (st == DPF_OK && attempts != NULL)
        *attempts = (int)n;
    return st;
}

dpf_status dm_store_dp_get(dpf_db *db, long long dpid, dm_dp_row *row)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", dpid);
    const char *p[] = {id};
    return query_row(db, "SELECT " COLS " FROM distribution_points WHERE dpid = $1", 1, p, row);
}

dpf_status dm_store_dp_lease(dpf_db *db, long long dpid, const char *owner, int lease_s,
                             dm_dp_row *row)
{
    char id[24], secs[16];
    snprintf(id, sizeof id, "%lld", dpid);
    snprintf(secs, sizeof secs, "%d", lease_s);
    const char *p[] = {id, owner, secs};
    dpf_status st = query_row(
        db,
        "UPDATE distribution_points SET lease_owner = $2, "
        "lease_until = now() + make_interval(secs => $3::int) "
        "WHERE dpid = $1 AND (lease_until IS NULL OR lease_until < now() OR lease_owner = $2) "
        "RETURNING " COLS,
        3, p, row);
    if (st != DPF_ERR_NOT_FOUND)
        return st;
    /* either the row is gone or someone else holds it: tell which */
    st = dm_store_dp_get(db, dpid, row);
    return st == DPF_OK ? DPF_ERR_BUSY : st;
}

dpf_status dm_store_dp_renew(dpf_db *db, long long dpid, const char *owner, int lease_s,
                             int *action)
{
    char id[24], secs[16];
    snprintf(id, sizeof id, "%lld", dpid);
    snprintf(secs, sizeof secs, "%d", lease_s);
    const char *p[] = {id, owner, secs};
    long long a = 0;
    dpf_status st = write_one(db,
                              "UPDATE distribution_points "
                              "SET lease_until = now() + make_interval(secs => $3::int) "
                              "WHERE dpid = $1 AND lease_owner = $2 RETURNING action",
                              3, p, &a);
    if (st == DPF_OK && action != NULL)
        *action = (int)a;
    return st;
}

dpf_status dm_store_dp_mark_installed(dpf_db *db, long long dpid, const char *owner,
                                      dm_state from, dm_event ev, const char *crc,
                                      const char *version, const char *pull_dp_state,
                                      const char *content_base)
{
    dm_state to;
    dpf_status st = transition(from, ev, DM_ST_INSTALLED, &to);
    if (st != DPF_OK)
        return st;
    char id[24];
    snprintf(id, sizeof id, "%lld", dpid);
    const char *p[] = {id, owner, dm_state_name(to), crc, version, pull_dp_state,
                       dm_state_name(from), content_base};
    st = write_one(db,
                   "UPDATE distribution_points SET install_state = $3, installed_crc = $4, "
                   "installed_version = $5, pull_dp_state = $6, last_step = '', "
                   "last_error = '', attempts = 0, lease_owner = NULL, lease_until = NULL, "
                   "content_base = CASE WHEN $8 = '' THEN content_base ELSE $8 END, "
                   "updated_at = now() "
                   "WHERE dpid = $1 AND lease_owner = $2 AND install_state = $7 "
                   "RETURNING dpid",
                   8, p, NULL);
    if (st != DPF_OK)
        return st;
    const char *q[] = {id};
    return dpf_db_exec(db, "SELECT content_wake_dp($1::bigint)", 1, q, NULL);
}

dpf_status dm_store_dp_release(dpf_db *db, long long dpid, const char *owner)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", dpid);
    const char *p[] = {id, owner};
    return write_one(db,
                     "UPDATE distribution_points SET lease_owner = NULL, lease_until = NULL "
                     "WHERE dpid = $1 AND lease_owner = $2 RETURNING dpid",
                     2, p, NULL);
}

dpf_status dm_store_dp_release_owner(dpf_db *db, const char *owner, long long *ids, int max,
                                     int *n)
{
    /* a prefix compare, not LIKE: a replica name may hold '%' or '_'. The
     * bare name is a lease written before job tokens existed. */
    char prefix[320];
    if (!dpf_fmt(prefix, sizeof prefix, "%s/", owner))
        return DPF_ERR_INVALID;
    const char *p[] = {prefix, owner};
    return dm_store_query_ids(
        db,
        "UPDATE distribution_points SET lease_owner = NULL, lease_until = NULL "
        "WHERE left(lease_owner, length($1)) = $1 OR lease_owner = $2 "
        "RETURNING dpid",
        2, p, ids, max, n);
}

dpf_status dm_store_dp_release_dead(dpf_db *db, const char *owner, const char *live,
                                    long long *ids, int max, int *n)
{
    char prefix[320];
    if (!dpf_fmt(prefix, sizeof prefix, "%s/", owner))
        return DPF_ERR_INVALID;
    const char *p[] = {prefix, live};
    return dm_store_query_ids(
        db,
        "UPDATE distribution_points SET lease_owner = NULL, lease_until = NULL "
        "WHERE left(lease_owner, length($1)) = $1 "
        "AND lease_owner <> ALL ($2::text[]) RETURNING dpid",
        2, p, ids, max, n);
}

dpf_status dm_store_dp_set_pull_state(dpf_db *db, long long dpid, const char *owner,
                                      const char *pull_state)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", dpid);
    const char *p[] = {id, owner, pull_state};
    return write_one(db,
                     "UPDATE distribution_points SET pull_dp_state = $3 "
                     "WHERE dpid = $1 AND lease_owner = $2 RETURNING dpid",
                     3, p, NULL);
}

dpf_status dm_store_dp_needing_work(dpf_db *db, int grace_s, const char *version,
                                    long long *ids, int max, int *n)
{
    char grace[16], lim[16];
    snprintf(grace, sizeof grace, "%d", grace_s);
    snprintf(lim, sizeof lim, "%d", max);
    const char *p[] = {grace, version, lim};
    return dm_store_query_ids(
        db,
        "SELECT dpid FROM distribution_points WHERE action = 0 AND ("
        " (install_state IN ('Pending', 'Failed')"
        "   AND updated_at < now() - make_interval(secs => $1::int))"
        " OR (install_state = 'Installing' AND (lease_until IS NULL OR lease_until < now()))"
        " OR (install_state = 'Installed' AND (installed_crc <> dp_crc"
        "     OR installed_version <> $2))"
        ") ORDER BY dpid LIMIT $3::int",
        3, p, ids, max, n);
}

/* ---- removal ---- */

dpf_status dm_store_dp_delete(dpf_db *db, long long dpid, const char *owner)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", dpid);
    const char *p[] = {id, owner};
    /* the lease and state check first: nothing is deleted for a job that
     * lost its lease, or for a row that is not Removing any more */
    dpf_status st = write_one(db,
                              "SELECT dpid FROM distribution_points "
                              "WHERE dpid = $1 AND lease_owner = $2 "
                              "AND install_state = 'Removing' FOR UPDATE",
                              2, p, NULL);
    if (st != DPF_OK)
        return st;
    const char *q[] = {id};
    st = dpf_db_exec(db, "DELETE FROM dp_packages WHERE dpid = $1", 1, q, NULL);
    if (st == DPF_OK)
        st = dpf_db_exec(db, "DELETE FROM dp_notification WHERE dpid = $1", 1, q, NULL);
    if (st == DPF_OK)
        st = dpf_db_exec(db,
                         "DELETE FROM dp_certificates c USING distribution_points d "
                         "WHERE d.dpid = $1 AND c.server_name = d.server_name "
                         "AND NOT EXISTS (SELECT 1 FROM distribution_points o "
                         "WHERE o.server_name = d.server_name AND o.dpid <> d.dpid)",
                         1, q, NULL);
    if (st == DPF_OK)
        st = write_one(db, "DELETE FROM distribution_points WHERE dpid = $1 RETURNING dpid", 1, q,
                       NULL);
    return st;
}

dpf_status dm_store_dp_live_transfer(dpf_db *db, long long dpid, char *pkg, size_t pkglen,
                                     char *holder, size_t holderlen)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", dpid);
    const char *p[] = {id};
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec_row(db,
                                    "SELECT package_id, lease_owner FROM dp_packages "
                                    "WHERE dpid = $1 AND lease_owner IS NOT NULL "
                                    "AND lease_until > now() ORDER BY package_id LIMIT 1",
                                    1, p, &r);
    if (st == DPF_OK) {
        snprintf(pkg, pkglen, "%s", dpf_db_result_get(r, 0, 0));
        snprintf(holder, holderlen, "%s", dpf_db_result_get(r, 0, 1));
    }
    dpf_db_result_free(r);
    return st;
}

dpf_status dm_store_dp_needing_removal(dpf_db *db, int grace_s, long long *ids, int max, int *n)
{
    return dm_store_query_ids_grace(
        db,
        "SELECT dpid FROM distribution_points WHERE action = 3 AND ("
        " (install_state = 'RemoveFailed' AND updated_at < now() - make_interval(secs => $1::int))"
        " OR (install_state NOT IN ('RemoveFailed') AND (lease_until IS NULL OR lease_until < now()))"
        ") ORDER BY dpid LIMIT $2::int",
        grace_s, ids, max, n);
}

/* The SQL of the package transfer. A transfer job's writes all carry its
 * token (lease_owner) and the state it expects, so a job that stalled past
 * its lease, or whose row was retargeted to a newer version, cannot record
 * an outcome over what happened since. */
#include "store_pkg.h"
#include "store_dp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dpf/log.h>
#include <dpf/trace.h>
#include <dpf/util.h>

static char *dup_col(const dpf_db_result *r, int row, int col)
{
    char *s = strdup(dpf_db_result_get(r, row, col));
    return s;
}

void dm_pkg_row_clear(dm_pkg_row *r)
{
    if (r == NULL)
        return;
    free(r->package_id);
    free(r->name);
    free(r->source_path);
    free(r->site_code);
    free(r->state);
    free(r->lease_owner);
    memset(r, 0, sizeof *r);
}

void dm_pkg_files_free(dm_pkg_file *f, int n)
{
    for (int i = 0; f != NULL && i < n; i++)
        free(f[i].path);
    free(f);
}

void dm_dist_row_clear(dm_dist_row *r)
{
    if (r == NULL)
        return;
    free(r->package_id);
    free(r->server_name);
    free(r->nal_path);
    free(r->site_code);
    free(r->pull_sources);
    free(r->content_base);
    memset(r, 0, sizeof *r);
}

#define PKG_COLS                                                                         \
    "seq, package_id, name, source_path, coalesce(site_code, 'PS1'), state, "           \
    "coalesce(lease_owner, ''), source_version, processed_version, "                    \
    "(client_setting IS NOT NULL)::int, "                                               \
    "(lease_until IS NOT NULL AND lease_until > now())::int"

static dpf_status fill_pkg(dpf_db_result *r, dm_pkg_row *p)
{
    dm_pkg_row_clear(p);
    p->seq = dpf_db_result_int(r, 0, 0);
    p->package_id = dup_col(r, 0, 1);
    p->name = dup_col(r, 0, 2);
    p->source_path = dup_col(r, 0, 3);
    p->site_code = dup_col(r, 0, 4);
    p->state = dup_col(r, 0, 5);
    p->lease_owner = dup_col(r, 0, 6);
    p->source_version = (int)dpf_db_result_int(r, 0, 7);
    p->processed_version = (int)dpf_db_result_int(r, 0, 8);
    p->is_client = (int)dpf_db_result_int(r, 0, 9);
    p->lease_live = (int)dpf_db_result_int(r, 0, 10);
    if (!p->package_id || !p->name || !p->source_path || !p->site_code || !p->state ||
        !p->lease_owner) {
        dm_pkg_row_clear(p);
        return DPF_ERR_NOMEM;
    }
    return DPF_OK;
}

static dpf_status pkg_query(dpf_db *db, const char *sql, int n, const char *const *p,
                            dm_pkg_row *row)
{
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec_row(db, sql, n, p, &r);
    if (st == DPF_OK)
        st = fill_pkg(r, row);
    dpf_db_result_free(r);
    return st;
}

dpf_status dm_store_pkg_get(dpf_db *db, long long seq, dm_pkg_row *r)
{
    char s[24];
    snprintf(s, sizeof s, "%lld", seq);
    const char *p[] = {s};
    return pkg_query(db, "SELECT " PKG_COLS " FROM packages WHERE seq = $1", 1, p, r);
}

dpf_status dm_store_pkg_lease(dpf_db *db, long long seq, const char *token, int lease_s,
                              dm_pkg_row *r)
{
    char s[24], secs[16];
    snprintf(s, sizeof s, "%lld", seq);
    snprintf(secs, sizeof secs, "%d", lease_s);
    const char *p[] = {s, token, secs};
    dpf_status st = pkg_query(
        db,
        "UPDATE packages SET lease_owner = $2, lease_until = now() + make_interval(secs => "
        "$3::int) WHERE seq = $1 AND state = 'Processing' AND (lease_until IS NULL OR "
        "lease_until < now() OR lease_owner = $2) RETURNING " PKG_COLS,
        3, p, r);
    if (st != DPF_ERR_NOT_FOUND)
        return st;
    st = dm_store_pkg_get(db, seq, r);
    if (st == DPF_OK && strcmp(r->state, "Processing") == 0)
        return DPF_ERR_BUSY;
    return st == DPF_OK ? DPF_ERR_NOT_FOUND : st;
}

dpf_status dm_store_pkg_record_version(dpf_db *db, long long seq, const char *token,
                                       const char *package_id, int version,
                                       const dm_pkg_file *files, int n, long long total)
{
    char s[24], v[16], cnt[16], tot[24];
    snprintf(s, sizeof s, "%lld", seq);
    snprintf(v, sizeof v, "%d", version);
    snprintf(cnt, sizeof cnt, "%d", n);
    snprintf(tot, sizeof tot, "%lld", total);
    const char *p[] = {s, token, v, cnt, tot};
    dpf_status st = dpf_db_exec_text(
        db,
        "UPDATE packages SET state = 'Ready', processed_version = $3::int, file_count = $4::int, "
        "total_size = $5::bigint, last_error = '', attempts = 0, lease_owner = NULL, "
        "lease_until = NULL, updated_at = now() "
        "WHERE seq = $1 AND lease_owner = $2 AND state = 'Processing' "
        "AND source_version = $3::int RETURNING package_id",
        5, p, NULL, 0);
    if (st != DPF_OK)
        return st;
    const char *pv[] = {package_id, v, cnt, tot};
    st = dpf_db_exec(db,
                     "INSERT INTO package_versions (package_id, version, file_count, total_size) "
                     "VALUES ($1, $2::int, $3::int, $4::bigint)",
                     4, pv, NULL);
    for (int i = 0; st == DPF_OK && i < n; i++) {
        char size[24];
        snprintf(size, sizeof size, "%lld", files[i].size);
        const char *pf[] = {package_id, v, files[i].path, files[i].sha256, size};
        st = dpf_db_exec(db,
                         "INSERT INTO package_files (package_id, version, rel_path, sha256, size) "
                         "VALUES ($1, $2::int, $3, $4, $5::bigint)",
                         5, pf, NULL);
    }
    /* only the newest two versions are kept: a DP still on the one before
     * is retargeted just below */
    if (st == DPF_OK)
        st = dpf_db_exec(db,
                         "DELETE FROM package_versions WHERE package_id = $1 AND "
                         "version < $2::int - 1",
                         2, (const char *const[]){package_id, v}, NULL);
    if (st == DPF_OK)
        st = dpf_db_exec(db,
                         "UPDATE dp_packages SET version = $2::int, state = 'Pending', "
                         "attempts = 0, retry_at = NULL, last_error = '', lease_owner = NULL, "
                         "lease_until = NULL, updated_at = now() "
                         "WHERE package_id = $1 AND state <> 'Removing' AND version <> $2::int",
                         2, (const char *const[]){package_id, v}, NULL);
    return st;
}

dpf_status dm_store_pkg_process_failed(dpf_db *db, long long seq, const char *token,
                                       const char *reason)
{
    char s[24];
    snprintf(s, sizeof s, "%lld", seq);
    const char *p[] = {s, token, reason};
    return dpf_db_exec_text(db,
                            "UPDATE packages SET state = 'ProcessFailed', last_error = $3, "
                            "attempts = attempts + 1, lease_owner = NULL, lease_until = NULL, "
                            "updated_at = now() WHERE seq = $1 AND lease_owner = $2 "
                            "AND state = 'Processing' RETURNING seq",
                            3, p, NULL, 0);
}

dpf_status dm_store_pkg_files(dpf_db *db, const char *package_id, int version,
                              dm_pkg_file **out, int *n)
{
    char v[16];
    snprintf(v, sizeof v, "%d", version);
    const char *p[] = {package_id, v};
    dpf_db_result *r = NULL;
    *out = NULL;
    *n = 0;
    dpf_status st = dpf_db_exec(db,
                                "SELECT rel_path, sha256, size FROM package_files WHERE "
                                "package_id = $1 AND version = $2::int ORDER BY rel_path",
                                2, p, &r);
    if (st != DPF_OK) {
        dpf_db_result_free(r);
        return st;
    }
    int rows = dpf_db_result_rows(r);
    dm_pkg_file *f = calloc((size_t)rows + 1, sizeof *f);
    if (f == NULL) {
        dpf_db_result_free(r);
        return DPF_ERR_NOMEM;
    }
    for (int i = 0; i < rows; i++) {
        f[i].path = dup_col(r, i, 0);
        snprintf(f[i].sha256, sizeof f[i].sha256, "%s", dpf_db_result_get(r, i, 1));
        f[i].size = dpf_db_result_int(r, i, 2);
        if (f[i].path == NULL) {
            dm_pkg_files_free(f, i);
            dpf_db_result_free(r);
            return DPF_ERR_NOMEM;
        }
    }
    dpf_db_result_free(r);
    *out = f;
    *n = rows;
    return DPF_OK;
}

dpf_status dm_store_pkg_delete_if_done(dpf_db *db, long long seq, int *deleted)
{
    char s[24];
    snprintf(s, sizeof s, "%lld", seq);
    const char *p[] = {s};
    *deleted = 0;
    dpf_status st = dpf_db_exec_text(
        db,
        "DELETE FROM packages p WHERE seq = $1 AND state = 'Deleting' AND NOT EXISTS "
        "(SELECT 1 FROM dp_packages d WHERE d.package_id = p.package_id) RETURNING seq",
        1, p, NULL, 0);
    if (st == DPF_OK)
        *deleted = 1;
    return st == DPF_ERR_NOT_FOUND ? DPF_OK : st;
}

/* ---- transfer jobs ---- */

#define DIST_COLS                                                                        \
    "x.dpid, x.package_id, d.server_name, d.nal_path, d.site_code, d.pull_sources, "    \
    "d.content_base, x.state, x.version, x.attempts, d.is_pull_dp::int"

/* What a transfer job may claim, for package $1 (dp_packages x, DP d); the
 * state list first, as the index of the rows still to do has it (db/096). */
#define CLAIMABLE                                                                        \
    "x.package_id = $1 AND x.state IN ('Pending', 'InProgress', 'Retrying', 'Removing') " \
    "AND d.action = 0 AND d.install_state = 'Installed' "                               \
    "AND (x.state = 'Removing' OR NOT d.maintenance_mode) AND ("                       \
    " (x.state IN ('Pending', 'Removing') AND (x.lease_until IS NULL OR "               \
    "  x.lease_until < now()))"                                                         \
    " OR (x.state = 'InProgress' AND (x.lease_until IS NULL OR x.lease_until < now()))" \
    " OR (x.state = 'Retrying' AND x.retry_at <= now()))"                               \
    " AND (x.state = 'Removing' OR x.version >= 1)"

/* One claimable row of the package among the DPs that are (pull = "true")
 * or are not pull DPs, the lowest DPID first: a walk of the to-do rows in
 * DPID order (index dp_packages_todo, db/096) that stops at the first one
 * it can take, whatever the number of DPs. The DP row is share-locked so a
 * removal that moves it to Removing either waits for this claim (and then
 * sees its lease) or is seen by it. */
static dpf_status claim_one(dpf_db *db, const char *package_id, const char *token,
                            const char *secs, const char *pull, dpf_db_result **r)
{
    const char *p[] = {package_id, token, secs, pull};
    return dpf_db_exec_row(
        db,
        "WITH c AS (SELECT x.dpid, x.package_id FROM dp_packages x "
        " JOIN distribution_points d ON d.dpid = x.dpid "
        " WHERE d.is_pull_dp = $4::boolean AND " CLAIMABLE
        " ORDER BY x.dpid LIMIT 1 FOR UPDATE OF x SKIP LOCKED FOR SHARE OF d), "
        "x AS (UPDATE dp_packages u SET lease_owner = $2, "
        " lease_until = now() + make_interval(secs => $3::int), updated_at = now(), "
        " state = CASE WHEN u.state = 'Removing' THEN 'Removing' ELSE 'InProgress' END "
        " FROM c WHERE u.dpid = c.dpid AND u.package_id = c.package_id RETURNING u.*) "
        "SELECT " DIST_COLS " FROM x JOIN distribution_points d ON d.dpid = x.dpid",
        4, p, r);
}

dpf_status dm_store_dist_claim(dpf_db *db, const char *package_id, const char *token,
                               int lease_s, dm_dist_row *row)
{
    char secs[16];
    snprintf(secs, sizeof secs, "%d", lease_s);
    dpf_db_result *r = NULL;
    /* pull DPs last: their sources should hold the version first */
    dpf_status st = claim_one(db, package_id, token, secs, "false", &r);
    if (st == DPF_ERR_NOT_FOUND) {
        dpf_db_result_free(r);
        r = NULL;
        st = claim_one(db, package_id, token, secs, "true", &r);
    }
    if (st != DPF_OK) {
        dpf_db_result_free(r);
        return st;
    }
    dm_dist_row_clear(row);
    row->dpid = dpf_db_result_int(r, 0, 0);
    row->package_id = dup_col(r, 0, 1);
    row->server_name = dup_col(r, 0, 2);
    row->nal_path = dup_col(r, 0, 3);
    row->site_code = dup_col(r, 0, 4);
    row->pull_sources = dup_col(r, 0, 5);
    row->content_base = dup_col(r, 0, 6);
    if (dm_cstate_parse(dpf_db_result_get(r, 0, 7), &row->state) != DPF_OK)
        row->state = DM_CS_IN_PROGRESS;
    row->version = (int)dpf_db_result_int(r, 0, 8);
    row->attempts = (int)dpf_db_result_int(r, 0, 9);
    row->is_pull_dp = (int)dpf_db_result_int(r, 0, 10);
    dpf_db_result_free(r);
    if (!row->package_id || !row->server_name || !row->nal_path || !row->site_code ||
        !row->pull_sources || !row->content_base) {
        dm_dist_row_clear(row);
        return DPF_ERR_NOMEM;
    }
    return DPF_OK;
}

dpf_status dm_store_dist_renew(dpf_db *db, long long dpid, const char *package_id,
                               const char *token, int lease_s, int *cancel)
{
    char id[24], secs[16], out[8] = "";
    snprintf(id, sizeof id, "%lld", dpid);
    snprintf(secs, sizeof secs, "%d", lease_s);
    const char *p[] = {id, package_id, token, secs};
    dpf_status st = dpf_db_exec_text(
        db,
        "UPDATE dp_packages x SET lease_until = now() + make_interval(secs => $4::int) "
        "FROM distribution_points d WHERE d.dpid = x.dpid AND x.dpid = $1::bigint "
        "AND x.package_id = $2 AND x.lease_owner = $3 "
        "RETURNING (d.action <> 0 OR d.install_state <> 'Installed' "
        "OR (d.maintenance_mode AND x.state <> 'Removing'))::int",
        4, p, out, sizeof out);
    *cancel = st == DPF_OK && strcmp(out, "1") == 0;
    return st;
}

dpf_status dm_store_dist_installed(dpf_db *db, long long dpid, const char *package_id,
                                   const char *token, int version, long long bytes, int files)
{
    char id[24], v[16], b[24], f[16];
    snprintf(id, sizeof id, "%lld", dpid);
    snprintf(v, sizeof v, "%d", version);
    snprintf(b, sizeof b, "%lld", bytes);
    snprintf(f, sizeof f, "%d", files);
    dm_cstate to;
    if (dm_cstate_next(DM_CS_IN_PROGRESS, DM_CE_DONE, &to) != DPF_OK)
        return DPF_ERR_INVALID;
    const char *p[] = {id, package_id, token, v, b, f, dm_cstate_name(to),
                       dm_cstate_name(DM_CS_IN_PROGRESS)};
    return dpf_db_exec_text(
        db,
        "UPDATE dp_packages SET state = $7, installed_version = $4::int, bytes_sent = "
        "$5::bigint, files_sent = $6::int, attempts = 0, retry_at = NULL, last_error = '', "
        "lease_owner = NULL, lease_until = NULL, updated_at = now() "
        "WHERE dpid = $1::bigint AND package_id = $2 AND lease_owner = $3 AND state = $8 "
        "AND version = $4::int RETURNING dpid",
        8, p, NULL, 0);
}

dpf_status dm_store_dist_failed(dpf_db *db, long long dpid, const char *package_id,
                                const char *token, const char *reason, int retry_s,
                                int max_attempts, int *attempts, int *gave_up)
{
    char id[24], secs[16], max[16], out[64] = "";
    snprintf(id, sizeof id, "%lld", dpid);
    snprintf(secs, sizeof secs, "%d", retry_s);
    snprintf(max, sizeof max, "%d", max_attempts);
    const char *p[] = {id, package_id, token, reason, secs, max};
    /* Retrying below the limit, Failed at it (content_state.c); a Removing
     * row stays Removing and the reconcile retries it after its lease */
    dpf_status st = dpf_db_exec_text(
        db,
        "UPDATE dp_packages SET attempts = attempts + 1, last_error = $4, "
        "state = CASE WHEN state = 'Removing' THEN 'Removing' "
        "  WHEN attempts + 1 >= $6::int THEN 'Failed' ELSE 'Retrying' END, "
        "retry_at = CASE WHEN state = 'Removing' OR attempts + 1 < $6::int "
        "  THEN now() + make_interval(secs => $5::int) END, "
        "lease_owner = NULL, lease_until = CASE WHEN state = 'Removing' "
        "  THEN now() + make_interval(secs => $5::int) END, updated_at = now() "
        "WHERE dpid = $1::bigint AND package_id = $2 AND lease_owner = $3 "
        "AND state IN ('InProgress', 'Removing') "
        "RETURNING attempts || ' ' || state",
        6, p, out, sizeof out);
    if (st == DPF_OK) {
        char state[32] = "";
        if (sscanf(out, "%d %31s", attempts, state) != 2)
            return DPF_ERR_DB;
        *gave_up = strcmp(state, "Failed") == 0;
    }
    return st;
}

dpf_status dm_store_dist_release(dpf_db *db, long long dpid, const char *package_id,
                                 const char *token)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", dpid);
    const char *p[] = {id, package_id, token};
    /* a transfer stopped by maintenance mode waits for it to end */
    return dpf_db_exec_text(db,
                            "UPDATE dp_packages x SET lease_owner = NULL, lease_until = NULL, "
                            "state = CASE WHEN x.state <> 'InProgress' THEN x.state "
                            " WHEN d.maintenance_mode THEN 'WaitingMaintenance' "
                            " ELSE 'Pending' END "
                            "FROM distribution_points d WHERE d.dpid = x.dpid AND "
                            "x.dpid = $1::bigint AND x.package_id = $2 AND "
                            "x.lease_owner = $3 RETURNING x.dpid",
                            3, p, NULL, 0);
}

dpf_status dm_store_dist_removed(dpf_db *db, long long dpid, const char *package_id,
                                 const char *token)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", dpid);
    const char *p[] = {id, package_id, token};
    return dpf_db_exec_text(db,
                            "DELETE FROM dp_packages WHERE dpid = $1::bigint AND package_id = $2 "
                            "AND lease_owner = $3 AND state = 'Removing' RETURNING dpid",
                            3, p, NULL, 0);
}

dpf_status dm_store_dist_content_base(dpf_db *db, long long dpid, const char *base)
{
    if (base == NULL || base[0] == '\0')
        return DPF_OK;
    char id[24];
    snprintf(id, sizeof id, "%lld", dpid);
    const char *p[] = {id, base};
    return dpf_db_exec(db,
                       "UPDATE distribution_points SET content_base = $2 WHERE dpid = $1::bigint "
                       "AND content_base <> $2",
                       2, p, NULL);
}

dpf_status dm_store_dist_drop_unreachable(dpf_db *db, const char *package_id, int *n)
{
    const char *p[] = {package_id};
    dpf_db_result *r = NULL;
    *n = 0;
    dpf_status st = dpf_db_exec(
        db,
        "DELETE FROM dp_packages x USING distribution_points d WHERE d.dpid = x.dpid "
        "AND x.package_id = $1 AND x.state = 'Removing' AND d.install_state <> 'Installed' "
        "AND (x.lease_until IS NULL OR x.lease_until < now()) RETURNING x.dpid",
        1, p, &r);
    if (st == DPF_OK)
        *n = dpf_db_result_rows(r);
    dpf_db_result_free(r);
    return st;
}

dpf_status dm_store_dist_next_retry(dpf_db *db, const char *package_id, int *secs)
{
    char out[24] = "";
    const char *p[] = {package_id};
    dpf_status st = dpf_db_exec_text(
        db,
        "SELECT greatest(0, ceil(extract(epoch FROM min(retry_at) - now())))::int "
        "FROM dp_packages WHERE package_id = $1 AND state = 'Retrying' HAVING count(*) > 0",
        1, p, out, sizeof out);
    if (st == DPF_OK)
        *secs = atoi(out);
    return st;
}

dpf_status dm_store_dist_sources(dpf_db *db, long long dpid, char *out, size_t outlen,
                                 char *missing, size_t missinglen)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", dpid);
    const char *p[] = {id};
    dpf_db_result *r = NULL;
    out[0] = '\0';
    missing[0] = '\0';
    /* pull_sources is "FQDN:prio,..." (hman's canonical form) */
    dpf_status st = dpf_db_exec(
        db,
        "SELECT upper(split_part(s, ':', 1)), coalesce(o.content_base, '') "
        "FROM distribution_points d, unnest(string_to_array(d.pull_sources, ',')) "
        "WITH ORDINALITY AS t(s, n) "
        "LEFT JOIN distribution_points o ON upper(o.server_name) = upper(split_part(s, ':', 1)) "
        "WHERE d.dpid = $1::bigint AND s <> '' "
        "ORDER BY nullif(split_part(s, ':', 2), '')::int NULLS LAST, n",
        1, p, &r);
    if (st == DPF_OK) {
        size_t used = 0, mused = 0;
        for (int i = 0; i < dpf_db_result_rows(r); i++) {
            const char *fqdn = dpf_db_result_get(r, i, 0);
            const char *base = dpf_db_result_get(r, i, 1);
            if (base[0] == '\0') {
                int k = snprintf(missing + mused, missinglen - mused, "%s%s", mused ? " " : "",
                                 fqdn);
                if (k > 0 && (size_t)k < missinglen - mused)
                    mused += (size_t)k;
                continue;
            }
            int k = snprintf(out + used, outlen - used, "%s%s=%s", used ? "," : "", fqdn, base);
            if (k < 0 || (size_t)k >= outlen - used) {
                st = DPF_ERR_INVALID;
                break;
            }
            used += (size_t)k;
        }
    }
    dpf_db_result_free(r);
    return st;
}

dpf_status dm_store_pkg_needing_work(dpf_db *db, int grace_s, long long *seqs, int max, int *n)
{
    return dm_store_query_ids_grace(
        db,
        "SELECT p.seq FROM packages p WHERE "
        " (p.state = 'Processing' AND (p.lease_until IS NULL OR p.lease_until < now()) "
        "  AND p.updated_at < now() - make_interval(secs => $1::int))"
        " OR p.state = 'Deleting'"
        " OR EXISTS (SELECT 1 FROM dp_packages x JOIN distribution_points d ON d.dpid = x.dpid "
        "  WHERE x.package_id = p.package_id "
        "  AND x.state IN ('Pending', 'InProgress', 'Retrying', 'Removing') AND d.action = 0 "
        "  AND d.install_state = 'Installed' "
        "  AND (x.state = 'Removing' OR NOT d.maintenance_mode) AND ("
        "   (x.state IN ('Pending', 'Removing', 'InProgress') AND (x.lease_until IS NULL "
        "     OR x.lease_until < now()) AND x.updated_at < now() - make_interval(secs => $1::int))"
        "   OR (x.state = 'Retrying' AND x.retry_at <= now()))"
        "  AND (x.state = 'Removing' OR x.version >= 1))"
        " ORDER BY p.seq LIMIT $2::int",
        grace_s, seqs, max, n);
}

dpf_status dm_store_dist_hold_for_maintenance(dpf_db *db, const char *package_id,
                                              const char *corr, int *n)
{
    /* each DP that starts to wait gets its 'waiting' row on the timeline in
     * the same statement (one for all of them, whatever their number) */
    char tid[24];
    dpf_fmt(tid, sizeof tid, "%llu", (unsigned long long)dpf_log_tid());
    const char *p[] = {package_id, corr != NULL ? corr : "", dpf_trace_replica(), tid};
    dpf_db_result *r = NULL;
    *n = 0;
    dpf_status st = dpf_db_exec(
        db,
        "WITH h AS (UPDATE dp_packages x SET state = 'WaitingMaintenance', updated_at = now() "
        "  FROM distribution_points d WHERE d.dpid = x.dpid AND x.package_id = $1 "
        "  AND d.maintenance_mode AND x.state IN ('Pending', 'Retrying') "
        "  AND (x.lease_until IS NULL OR x.lease_until < now()) "
        "  RETURNING d.dpid, d.server_name), "
        "t AS (INSERT INTO trace_events (correlation_id, at, ended_at, component, dpid, "
        "  server_name, job, step, replica, tid, result, message) "
        "  SELECT $2, c.t, c.t, 'DistMgr', h.dpid, h.server_name, 'distribute', "
        "  'package ' || $1, $3, $4::bigint, 'waiting', "
        "  'the DP is in maintenance mode; package ' || $1 || ' waits until it is turned off' "
        "  FROM h CROSS JOIN (SELECT clock_timestamp() AS t) c WHERE $2 <> '') "
        "SELECT server_name FROM h",
        4, p, &r);
    if (st == DPF_OK)
        *n = dpf_db_result_rows(r);
    for (int i = 0; st == DPF_OK && i < *n && i < 20; i++)
        DPF_INFO("Package %s: DP %s is in maintenance mode; the package waits until it is "
                 "turned off", package_id, dpf_db_result_get(r, i, 0));
    dpf_db_result_free(r);
    return st;
}

dpf_status dm_store_dist_any_claimable(dpf_db *db, const char *package_id, int *any)
{
    const char *p[] = {package_id};
    char out[8] = "";
    dpf_status st = dpf_db_exec_text(db,
                                     "SELECT EXISTS (SELECT 1 FROM dp_packages x "
                                     "JOIN distribution_points d ON d.dpid = x.dpid WHERE "
                                     CLAIMABLE ")::int",
                                     1, p, out, sizeof out);
    *any = st == DPF_OK ? strcmp(out, "1") == 0 : 1;
    return st;
}

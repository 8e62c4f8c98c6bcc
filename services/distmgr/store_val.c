/* The SQL of content validation. The validation lease lives in its own
 * columns: a validation only reads the DP's content and records verdicts on
 * dp_packages rows, so it may run beside an install (the agent serializes
 * the steps of one host) but never beside another validation. */
#include "store_val.h"
#include "store_dp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content_state.h"

void dm_val_dp_clear(dm_val_dp *d)
{
    if (d == NULL)
        return;
    free(d->server_name);
    free(d->nal_path);
    free(d->site_code);
    free(d->requested_at);
    memset(d, 0, sizeof *d);
}

#define VAL_COLS                                                                        \
    "dpid, server_name, nal_path, site_code, coalesce(validation_requested_at::text, ''), " \
    "(action = 0 AND install_state = 'Installed')::int"

static dpf_status fill(dpf_db_result *r, dm_val_dp *d)
{
    dm_val_dp_clear(d);
    d->dpid = dpf_db_result_int(r, 0, 0);
    d->server_name = strdup(dpf_db_result_get(r, 0, 1));
    d->nal_path = strdup(dpf_db_result_get(r, 0, 2));
    d->site_code = strdup(dpf_db_result_get(r, 0, 3));
    d->requested_at = strdup(dpf_db_result_get(r, 0, 4));
    d->installed = (int)dpf_db_result_int(r, 0, 5);
    if (!d->server_name || !d->nal_path || !d->site_code || !d->requested_at) {
        dm_val_dp_clear(d);
        return DPF_ERR_NOMEM;
    }
    return DPF_OK;
}

dpf_status dm_store_val_lease(dpf_db *db, long long dpid, const char *token, int lease_s,
                              dm_val_dp *d)
{
    char id[24], secs[16];
    snprintf(id, sizeof id, "%lld", dpid);
    snprintf(secs, sizeof secs, "%d", lease_s);
    const char *p[] = {id, token, secs};
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec_row(
        db,
        "UPDATE distribution_points SET validation_lease_owner = $2, "
        "validation_lease_until = now() + make_interval(secs => $3::int) "
        "WHERE dpid = $1::bigint AND (validation_lease_until IS NULL OR "
        "validation_lease_until < now() OR validation_lease_owner = $2) RETURNING " VAL_COLS,
        3, p, &r);
    if (st == DPF_OK)
        st = fill(r, d);
    dpf_db_result_free(r);
    if (st != DPF_ERR_NOT_FOUND)
        return st;
    const char *q[] = {id};
    st = dpf_db_exec_text(db, "SELECT dpid FROM distribution_points WHERE dpid = $1::bigint", 1,
                          q, NULL, 0);
    return st == DPF_OK ? DPF_ERR_BUSY : st;
}

dpf_status dm_store_val_renew(dpf_db *db, long long dpid, const char *token, int lease_s,
                              int *stop)
{
    char id[24], secs[16], out[8] = "";
    snprintf(id, sizeof id, "%lld", dpid);
    snprintf(secs, sizeof secs, "%d", lease_s);
    const char *p[] = {id, token, secs};
    dpf_status st = dpf_db_exec_text(
        db,
        "UPDATE distribution_points SET validation_lease_until = now() + "
        "make_interval(secs => $3::int) WHERE dpid = $1::bigint AND validation_lease_owner = $2 "
        "RETURNING (action <> 0 OR install_state <> 'Installed')::int",
        3, p, out, sizeof out);
    *stop = st == DPF_OK && strcmp(out, "1") == 0;
    return st;
}

dpf_status dm_store_val_packages(dpf_db *db, long long dpid, dm_val_pkg *out, int max, int *n)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", dpid);
    const char *p[] = {id};
    dpf_db_result *r = NULL;
    *n = 0;
    dpf_status st = dpf_db_exec(db,
                                "SELECT package_id, installed_version FROM dp_packages "
                                "WHERE dpid = $1::bigint AND state IN ('Installed', "
                                "'ValidationFailed') ORDER BY package_id",
                                1, p, &r);
    for (int i = 0; st == DPF_OK && i < dpf_db_result_rows(r) && i < max; i++) {
        snprintf(out[i].package_id, sizeof out[i].package_id, "%s", dpf_db_result_get(r, i, 0));
        out[i].version = (int)dpf_db_result_int(r, i, 1);
        (*n)++;
    }
    dpf_db_result_free(r);
    return st;
}

dpf_status dm_store_val_verdict(dpf_db *db, long long dpid, const char *package_id, int ok,
                                const char *why, int *changed)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", dpid);
    /* the moves content_state.c allows for each verdict */
    dm_cstate from_ok = DM_CS_VALIDATION_FAILED, from_bad = DM_CS_INSTALLED, to;
    if (dm_cstate_next(ok ? from_ok : from_bad, ok ? DM_CE_VALID : DM_CE_INVALID, &to) != DPF_OK)
        return DPF_ERR_INVALID;
    const char *p[] = {id, package_id, dm_cstate_name(ok ? from_ok : from_bad), dm_cstate_name(to),
                       ok ? "" : why};
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec(db,
                                "UPDATE dp_packages SET state = $4, last_error = $5, "
                                "updated_at = now() WHERE dpid = $1::bigint AND package_id = $2 "
                                "AND state = $3 AND (lease_until IS NULL OR lease_until < now()) "
                                "RETURNING dpid",
                                5, p, &r);
    *changed = st == DPF_OK && dpf_db_result_rows(r) > 0;
    dpf_db_result_free(r);
    return st;
}

dpf_status dm_store_val_done(dpf_db *db, long long dpid, const char *token,
                             const char *requested_at, const char *result)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", dpid);
    const char *p[] = {id, token, requested_at[0] ? requested_at : NULL, result};
    return dpf_db_exec_text(
        db,
        "UPDATE distribution_points SET last_validation_at = now(), last_validation_result = $4, "
        "validation_requested_at = CASE WHEN validation_requested_at IS NOT DISTINCT FROM "
        "$3::timestamptz THEN NULL ELSE validation_requested_at END, "
        "validation_lease_owner = NULL, validation_lease_until = NULL "
        "WHERE dpid = $1::bigint AND validation_lease_owner = $2 RETURNING dpid",
        4, p, NULL, 0);
}

dpf_status dm_store_val_release(dpf_db *db, long long dpid, const char *token)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", dpid);
    const char *p[] = {id, token};
    return dpf_db_exec_text(db,
                            "UPDATE distribution_points SET validation_lease_owner = NULL, "
                            "validation_lease_until = NULL WHERE dpid = $1::bigint AND "
                            "validation_lease_owner = $2 RETURNING dpid",
                            2, p, NULL, 0);
}

dpf_status dm_store_val_schedule(dpf_db *db, int *n)
{
    dpf_db_result *r = NULL;
    *n = 0;
    dpf_status st = dpf_db_exec(
        db,
        "UPDATE distribution_points SET validation_requested_at = now() "
        "WHERE action = 0 AND install_state = 'Installed' "
        "AND content_validation_interval_hours > 0 "
        "AND validation_requested_at IS NULL AND coalesce(last_validation_at, created_at) < "
        "now() - make_interval(hours => content_validation_interval_hours) RETURNING dpid",
        0, NULL, &r);
    if (st == DPF_OK)
        *n = dpf_db_result_rows(r);
    dpf_db_result_free(r);
    return st;
}

dpf_status dm_store_val_stale(dpf_db *db, int grace_s, long long *ids, int max, int *n)
{
    return dm_store_query_ids_grace(
        db,
        "SELECT dpid FROM distribution_points WHERE validation_requested_at < now() - "
        "make_interval(secs => $1::int) AND (validation_lease_until IS NULL OR "
        "validation_lease_until < now()) AND action = 0 AND install_state = 'Installed' "
        "ORDER BY dpid LIMIT $2::int",
        grace_s, ids, max, n);
}

/* The DPs of one site control pass: each DP role and DistributionPoints row
 * is classified by CRC (classify.c) and only the new, changed and removed
 * ones are written. The source logs "Will not update DP ..." for every
 * unchanged DP; at 5,000 DPs that is 5,000 lines for a one-DP change, so
 * here the unchanged DPs get one info line ("Will not update 4,999 DPs of
 * site PS1 (unchanged)") and the per-DP lines go to the debug level.
 *
 * With HmanSetAsideFailedDPs the writes of each DP run under a savepoint:
 * a DP whose writes fail is rolled back alone, reported with 3308 (in the
 * pass's transaction) and picked up again by the next site control change,
 * while the others are processed. Without it (the source's behaviour, the
 * default) the first failure ends the pass and the caller rolls it all
 * back. */
#include "run.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <dpf/dp.h>
#include <dpf/log.h>
#include <dpf/sitecontrol.h>
#include <dpf/statmsg.h>
#include <dpf/trace.h>
#include <dpf/util.h>

static dpf_status update_cert(hman_run *r, const char *server, const char *guid,
                              const char *nal)
{
    char thumb[41];
    dpf_status st = hman_cert_thumbprint(server, guid, thumb);
    if (st == DPF_OK)
        st = hman_store_cert(r->db, server, guid, 0, thumb);
    if (st != DPF_OK)
        return hman_run_fail(r, st, nal, "updating the DP certificate failed");
    TX_INFO("DP cert query: EXEC spUpdateDPCert N'%s', N'%s', 0, N'%s'", server, guid, thumb);
    return DPF_OK;
}

static const char *package_for(const dpf_db_result *pk, const char *setting)
{
    for (int i = 0; i < dpf_db_result_rows(pk); i++) {
        if (strcmp(dpf_db_result_get(pk, i, 1), setting) == 0)
            return dpf_db_result_get(pk, i, 0);
    }
    return "(null)";
}

static dpf_status add_client_packages(hman_run *r, long long dpid, const char *nal)
{
    dpf_status st;
    if (r->packages == NULL) {
        st = hman_store_client_packages(r->db, &r->packages);
        if (st != DPF_OK)
            return hman_run_fail(r, st, nal, "loading the client upgrade settings failed");
        const dpf_db_result *pk = r->packages;
        TX_INFO("Loaded client upgrade settings from DB successfully. FullClientPackageID=%s, "
                "StagingClientPackageID=%s, ClientUpgradePackageID=%s, "
                "PilotingUpgradePackageID=%s", package_for(pk, "FullClientPackageID"),
                package_for(pk, "StagingClientPackageID"),
                package_for(pk, "ClientUpgradePackageID"),
                package_for(pk, "PilotingUpgradePackageID"));
    }
    for (int i = 0; i < dpf_db_result_rows(r->packages); i++) {
        const char *pkg = dpf_db_result_get(r->packages, i, 0);
        st = hman_store_add_package(r->db, dpid, pkg);
        if (st != DPF_OK)
            return hman_run_fail(r, st, nal, "adding a client package failed");
        TX_INFO("INFO: Successfully added client package (ID=%s) to DP %s~", pkg, nal);
    }
    return DPF_OK;
}

/* One DP's write on the timeline (trace_events): kept in the pass's batch
 * and written in the pass's transaction, so it commits with the write it
 * reports, and forgotten with the DP's writes when they roll back to its
 * savepoint (write_guarded). The batch goes out between two DPs once it
 * holds TRACE_CHUNK rows (flush_trace) and the rest before the pass
 * commits (process.c): a pass over 5,000 DPs holds a few hundred rows, not
 * 5,000. Only DPs that change get a row; the unchanged ones are one
 * summary row (hman_run_dps). */
#define TRACE_CHUNK 250

static dpf_status flush_trace(hman_run *r, const char *nal)
{
    if (r->trace == NULL || dpf_trace_batch_count(r->trace) < TRACE_CHUNK)
        return DPF_OK;
    dpf_status st = dpf_trace_batch_write_tx(r->db, r->trace);
    return st == DPF_OK ? st : hman_run_fail(r, st, nal, "recording the change on the timeline failed");
}

static dpf_status trace_dp(hman_run *r, long long dpid, const char *server, const char *nal,
                           const char *step, const char *result, const char *fmt, ...)
    DPF_PRINTF(7, 8);

static dpf_status trace_dp(hman_run *r, long long dpid, const char *server, const char *nal,
                           const char *step, const char *result, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    dpf_trace_who who = {.corr = r->corr, .component = DPF_TRACE_HMAN, .dpid = dpid,
                         .server = server, .job = "change"};
    if (r->trace == NULL)
        return DPF_OK;
    dpf_status st = dpf_trace_batch_add(r->trace, &who, step, result, msg);
    return st == DPF_OK ? st : hman_run_fail(r, st, nal, "recording the DP on the timeline failed");
}

static dpf_status insert_dp(hman_run *r, const hman_role *role)
{
    char guid[37];
    long long dpid = 0;
    const char *crc = role->crc;
    dpf_uuid(guid);
    dpf_status st = hman_store_dp_insert(r->db, r->site->site_code, role, guid, crc, &dpid);
    if (st != DPF_OK)
        return hman_run_fail(r, st, role->nal_path, "inserting the DP failed");
    TX_INFO("~Inserted DP %s. CRC:%s,PDP:0,PullDP:%d", role->nal_path, crc, role->is_pull_dp);
    TX_DEBUG("SQL>>>insert DistributionPoints (DPID, ServerName, SMSSiteCode, IsPullDP, IsPXE, "
             "Priority, TransferRate, MinFreeSpace, DPDrive, SslState, Description, "
             "PullSources, BoundaryGroups, IdentityGUID, DPCRC, ContentValidationIntervalHours, "
             "Action) values (%lld, N'%s', N'%s', %d, %d, %d, %d, %d, N'%s', %d, N'%s', N'%s', "
             "N'%s', N'%s', N'%s', %d, 0)",
             dpid, role->server_name, r->site->site_code, role->is_pull_dp, role->is_pxe,
             role->priority, role->transfer_rate, role->min_free_space_mb, role->dp_drive,
             role->ssl_state, role->description, role->pull_sources, role->boundary_groups,
             guid, crc, role->content_validation_hours);
    st = add_client_packages(r, dpid, role->nal_path);
    if (st == DPF_OK)
        st = update_cert(r, role->server_name, guid, role->nal_path);
    if (st == DPF_OK)
        st = trace_dp(r, dpid, role->server_name, role->nal_path, "Inserted DP", DPF_TRACE_INFO,
                      "Inserted DP %s (DPID %lld). CRC:%s, PullDP:%d, PXE:%d", role->nal_path,
                      dpid, crc, role->is_pull_dp, role->is_pxe);
    if (st == DPF_OK)
        r->res->inserted++;
    return st;
}

static dpf_status update_dp(hman_run *r, const hman_role *role, const hman_dp_row *row)
{
    const char *crc = role->crc;
    dpf_status st = hman_store_dp_update(r->db, row->dpid, role, crc);
    if (st != DPF_OK)
        return hman_run_fail(r, st, role->nal_path, "updating the DP failed");
    TX_INFO("~Updated DP %s. DBCRC:%s,NewCRC:%s,Action:0,PDP:0,PullDP:%d", role->nal_path,
            row->dp_crc, crc, role->is_pull_dp);
    TX_DEBUG("SQL>>>update DistributionPoints set IsPullDP = %d, IsPXE = %d, Priority = %d, "
             "TransferRate = %d, MinFreeSpace = %d, DPDrive = N'%s', SslState = %d, "
             "Description = N'%s', PullSources = N'%s', BoundaryGroups = N'%s', DPCRC = N'%s', "
             "ContentValidationIntervalHours = %d, Action = 0 where DPID = %lld",
             role->is_pull_dp, role->is_pxe, role->priority, role->transfer_rate,
             role->min_free_space_mb, role->dp_drive, role->ssl_state, role->description,
             role->pull_sources, role->boundary_groups, crc, role->content_validation_hours,
             row->dpid);
    st = update_cert(r, role->server_name, row->identity_guid, role->nal_path);
    if (st == DPF_OK)
        st = trace_dp(r, row->dpid, role->server_name, role->nal_path, "Updated DP",
                      DPF_TRACE_INFO, "Updated DP %s. DBCRC:%s, NewCRC:%s, PullDP:%d, PXE:%d",
                      role->nal_path, row->dp_crc, crc, role->is_pull_dp, role->is_pxe);
    if (st == DPF_OK)
        r->res->updated++;
    return st;
}

static dpf_status remove_dp(hman_run *r, const hman_dp_row *row)
{
    dpf_status st = hman_store_dp_remove(r->db, row->dpid);
    if (st != DPF_OK)
        return hman_run_fail(r, st, row->nal_path, "marking the DP deleted failed");
    TX_INFO("SQL>>>update DistributionPoints set Action = 3, State = 0 where DPID = %lld",
            row->dpid);
    TX_INFO("SQL>>>insert DPNotification (DPID, TimeKey) values (%lld, now())", row->dpid);
    st = trace_dp(r, row->dpid, row->server_name, row->nal_path, "Marked DP deleted",
                  DPF_TRACE_INFO, "DP %s is no longer in the site control: Action = 3 and a "
                  "DPNotification for the DP manager", row->nal_path);
    if (st != DPF_OK)
        return st;
    r->res->removed++;
    return DPF_OK;
}

static dpf_status write_dp(hman_run *r, const hman_role *role, const hman_dp_row *row,
                           hman_verdict v)
{
    switch (v) {
    case HMAN_DP_NEW: return insert_dp(r, role);
    case HMAN_DP_CHANGED: return update_dp(r, role, row);
    case HMAN_DP_REMOVED: return remove_dp(r, row);
    default: return DPF_OK;
    }
}

/* 3308 for the DP whose writes were rolled back to its savepoint, in the
 * pass's transaction (so it is published only if the pass commits). */
static dpf_status set_aside(hman_run *r, const char *nal)
{
    hman_result *res = r->res;
    const char *site = r->site->site_code;
    dpf_statmsg m = {.id = HMAN_MSG_DP_SET_ASIDE, .severity = 'E', .level = 'M', .site = site};
    m.istr[0] = r->path;
    m.istr[1] = site;
    m.istr[2] = nal;
    m.istr[3] = res->reason;
    m.nattrs = 1;
    m.attr_id[0] = 404;
    m.attr_val[0] = nal;
    TX_WARN("~Set aside DP %s of site %s: %s. The other DPs are processed; this one is tried "
            "again with the next site control change (HmanSetAsideFailedDPs)", nal, site,
            res->reason);
    dpf_status st = dpf_statmsg_raise(NULL, r->db, &m);
    if (st != DPF_OK)
        return hman_run_fail(r, st, nal, "recording status message 3308 failed");
    char server[DPF_FQDN_MAX + 1];
    if (dpf_nal_server(nal, server, sizeof server) != DPF_OK)
        server[0] = '\0';
    st = trace_dp(r, 0, server, nal, "Set aside DP", DPF_TRACE_FAILED, "Set aside DP %s: %s; tried "
                  "again with the next site control change", nal, res->reason);
    if (st != DPF_OK)
        return st;
    res->set_aside++;
    res->failed_nal[0] = res->reason[0] = '\0';
    return DPF_OK;
}

/* write_dp under a savepoint when DPs may be set aside. */
static dpf_status write_guarded(hman_run *r, const hman_role *role, const hman_dp_row *row,
                                hman_verdict v)
{
    if (!r->opts->set_aside_failed)
        return write_dp(r, role, row, v);
    const char *nal = role ? role->nal_path : row->nal_path;
    size_t mark = hman_txlog_mark(&r->log);
    size_t trace_mark = dpf_trace_batch_count(r->trace);
    dpf_status st = dpf_db_exec(r->db, "SAVEPOINT hman_dp", 0, NULL, NULL);
    if (st != DPF_OK)
        return hman_run_fail(r, st, nal, "starting the DP's savepoint failed");
    st = write_dp(r, role, row, v);
    if (st == DPF_OK) {
        st = dpf_db_exec(r->db, "RELEASE SAVEPOINT hman_dp", 0, NULL, NULL);
        return st == DPF_OK ? st : hman_run_fail(r, st, nal, "releasing the DP's savepoint failed");
    }
    /* only the database refusing this DP's rows is this DP's own problem;
     * a lost connection or memory ends the pass as usual */
    if (st != DPF_ERR_DB && st != DPF_ERR_CONFLICT)
        return st;
    if (dpf_db_exec(r->db, "ROLLBACK TO SAVEPOINT hman_dp", 0, NULL, NULL) != DPF_OK)
        return st;
    hman_txlog_undo(&r->log, mark);
    dpf_trace_batch_truncate(r->trace, trace_mark);
    return set_aside(r, nal);
}

static const char *thousands(int n, char out[32])
{
    char digits[24];
    dpf_fmt(digits, sizeof digits, "%d", n < 0 ? -n : n);
    int len = (int)strlen(digits);
    int o = 0;
    if (n < 0)
        out[o++] = '-';
    for (int i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
    return out;
}

static dpf_status process_dp(hman_run *r, const hman_role *role, const hman_dp_row *row)
{
    hman_verdict v = hman_classify(role, row, role ? role->crc : "");
    int pull = role ? role->is_pull_dp : row->is_pull_dp;
    /* between two DPs: no savepoint of a DP is open */
    dpf_status st = flush_trace(r, role ? role->nal_path : row->nal_path);
    if (st != DPF_OK)
        return st;
    switch (v) {
    case HMAN_DP_NEW:
    case HMAN_DP_CHANGED:
    case HMAN_DP_REMOVED:
        return write_guarded(r, role, row, v);
    case HMAN_DP_UNCHANGED:
        TX_DEBUG("~Will not update DP %s. DBCRC:%s,NewCRC:%s,Action:%d,PDP:0,PullDP:%d",
                 row->nal_path, row->dp_crc, role->crc, row->action, pull);
        r->res->unchanged++;
        return DPF_OK;
    case HMAN_DP_REMOVING:
        TX_WARN("~Will not update DP %s. DBCRC:%s,NewCRC:%s,Action:%d,PDP:0,PullDP:%d. The DP "
                "is still being removed; it is added again by the first site control change "
                "after its removal completes", row->nal_path, row->dp_crc, role->crc,
                row->action, pull);
        r->res->waiting++;
        return trace_dp(r, row->dpid, row->server_name, row->nal_path, "Will not update DP",
                        DPF_TRACE_WAITING, "the DP is still being removed; it is added again "
                        "by the first site control change after its removal completes");
    case HMAN_DP_GONE:
        return DPF_OK;
    }
    return DPF_OK;
}

static int is_dp_role(const hman_role *role)
{
    return strcmp(role->role_name, DPF_ROLE_DP) == 0;
}

/* Whether anything in DistributionPoints will change (for the source's
 * "have changed" / "have not changed" line, logged before the DP lines). */
static int dps_change(const hman_site *s)
{
    for (int i = 0; i < s->nroles; i++) {
        const hman_role *role = &s->roles[i];
        if (!is_dp_role(role))
            continue;
        hman_verdict v = hman_classify(role, role->dp, role->crc);
        if (v == HMAN_DP_NEW || v == HMAN_DP_CHANGED)
            return 1;
    }
    for (int i = 0; i < s->ndps; i++) {
        if (!s->dps[i].has_role && hman_classify(NULL, &s->dps[i], "") == HMAN_DP_REMOVED)
            return 1;
    }
    return 0;
}

dpf_status hman_run_dps(hman_run *r)
{
    hman_site *s = r->site;
    /* each DP role with its row, once: the snapshot's arrays no longer grow */
    for (int i = 0; i < s->nroles; i++) {
        hman_role *role = &s->roles[i];
        if (!is_dp_role(role))
            continue;
        hman_role_crc(role, s->site_code, role->crc);
        role->dp = hman_site_dp(s, role->nal_path);
        if (role->dp != NULL)
            role->dp->has_role = 1;
    }
    if (dps_change(s))
        TX_INFO("~Distribution Points of site %s have changed. Update the DistributionPoints "
                "table in the database.", s->site_code);
    else
        TX_INFO("~Distribution Points of site %s have not changed. HMAN will not update the "
                "DistributionPoints table in the database.", s->site_code);
    dpf_status st = DPF_OK;
    for (int i = 0; i < s->nroles && st == DPF_OK; i++) {
        const hman_role *role = &s->roles[i];
        if (is_dp_role(role))
            st = process_dp(r, role, role->dp);
    }
    for (int i = 0; i < s->ndps && st == DPF_OK; i++) {
        if (!s->dps[i].has_role)
            st = process_dp(r, NULL, &s->dps[i]);
    }
    if (st == DPF_OK && r->res->unchanged > 0) {
        char n[32];
        TX_INFO("~Will not update %s DP%s of site %s (unchanged)",
                thousands(r->res->unchanged, n), r->res->unchanged == 1 ? "" : "s",
                s->site_code);
        st = trace_dp(r, 0, "", NULL, "DPs unchanged", DPF_TRACE_INFO, "%s DP%s of site %s "
                      "unchanged", thousands(r->res->unchanged, n),
                      r->res->unchanged == 1 ? "" : "s", s->site_code);
    }
    return st;
}

/* Processing one site control change, as the source's HMAN does it: lock the
 * site, read its site control data and DistributionPoints, bring SysResList
 * in step, then insert new DPs, update changed ones (by CRC), leave the
 * unchanged ones alone and mark removed ones Action = 3 with a
 * DPNotification, all in ONE transaction. If any write fails the whole
 * change is rolled back, so a half-processed site never exists; the caller
 * reports which DP failed (3307) and retries later.
 *
 * Status message 3306 (processed) is raised inside that transaction, just
 * before the commit: it is written with the change (and published by dbmon
 * from the outbox), so it is never raised for a change that rolled back and
 * never lost when hman dies right after the commit. A failure to write it
 * rolls the change back like any other write. (3307 is raised by the caller
 * after the rollback, in its own statement.)
 *
 * The log lines are the source's HMAN lines, so an administrator reading
 * them can follow the source's troubleshooting guide. Those about the
 * transaction's writes are written when it commits (txlog.h): a crash in
 * the middle leaves none, and the redelivered change logs them once. */
#include "hman.h"

#include <string.h>

#include <dpf/log.h>
#include <dpf/sitecontrol.h>
#include <dpf/statmsg.h>
#include <dpf/util.h>

#include "txlog.h"

/* What one run needs besides the snapshot. */
typedef struct run {
    dpf_db *db;
    hman_site *site;
    hman_result *res;
    dpf_db_result *packages; /* loaded on the first new DP */
    hman_txlog log;          /* lines of the transaction, written when it ends */
} run;

/* Lines about writes of the transaction (the run is r): written only once
 * it commits, so a crash or rollback never leaves "Inserted DP" for a DP
 * that was not inserted, nor a second one when the change is redelivered. */
#define TX_INFO(...) hman_txlog_add(&r->log, DPF_LOG_INFO, __VA_ARGS__)
#define TX_WARN(...) hman_txlog_add(&r->log, DPF_LOG_WARN, __VA_ARGS__)
#define TX_DEBUG(...) hman_txlog_add(&r->log, DPF_LOG_DEBUG, __VA_ARGS__)

static dpf_status fail(run *r, dpf_status st, const char *nal, const char *what)
{
    hman_result *res = r->res;
    dpf_fmt(res->failed_nal, sizeof res->failed_nal, "%s", nal ? nal : "");
    const char *why = st == DPF_ERR_DB || st == DPF_ERR_CONFLICT ? dpf_db_error(r->db)
                                                                 : dpf_status_text(st);
    if (why == NULL || *why == '\0')
        why = "failed";
    /* the server's text without its "ERROR:" label; a check violation's
     * dump of the whole row says nothing an administrator needs */
    if (strncmp(why, "ERROR:", 6) == 0)
        why += 6 + strspn(why + 6, " ");
    const char *dump = strstr(why, "DETAIL:  Failing row contains");
    int n = dump ? (int)(dump - why) : (int)strlen(why);
    while (n > 0 && (why[n - 1] == ' ' || why[n - 1] == '\n' || why[n - 1] == '.'))
        n--;
    dpf_fmt(res->reason, sizeof res->reason, "%s: %.*s", what, n, why);
    return st;
}

/* SysResList follows the roles: a role not in it is a new site system, an
 * entry without a role is a site system no longer in use. */
static dpf_status sync_sysres(run *r)
{
    hman_site *s = r->site;
    for (int i = 0; i < s->nroles; i++) {
        hman_role *role = &s->roles[i];
        if (hman_site_sysres(s, role->role_name, role->nal_path) != NULL)
            continue;
        TX_INFO("New site system: %s %s %s", s->site_code, role->server_name, role->role_name);
        dpf_status st = hman_store_sysres_add(r->db, s->site_code, role);
        if (st != DPF_OK)
            return fail(r, st, role->nal_path, "adding the site system to SysResList failed");
        r->res->sysres_added++;
    }
    for (int i = 0; i < s->nsysres; i++) {
        hman_sysres *e = &s->sysres[i];
        if (hman_site_role(s, e->role_name, e->nal_path) != NULL)
            continue;
        TX_INFO("Site system no longer in use: %s %s %s", s->site_code, e->server_name,
                 e->role_name);
        TX_DEBUG("SQL>>> DELETE FROM SysResList WHERE SiteCode=N'%s' AND RoleName=N'%s' AND "
                  "NALPath=N'%s'", s->site_code, e->role_name, e->nal_path);
        dpf_status st = hman_store_sysres_del(r->db, s->site_code, e);
        if (st != DPF_OK)
            return fail(r, st, e->nal_path, "removing the site system from SysResList failed");
        r->res->sysres_removed++;
    }
    if (r->res->sysres_added || r->res->sysres_removed)
        TX_INFO("~Server Info of site %s has changed. Update the DPInfo table in the database.",
                 s->site_code);
    else
        TX_INFO("~Server Info of site %s has not changed.HMAN will not update the DPInfo "
                 "table in the database.", s->site_code);
    return DPF_OK;
}

static dpf_status update_cert(run *r, const char *server, const char *guid, const char *nal)
{
    char thumb[41];
    dpf_status st = hman_cert_thumbprint(server, guid, thumb);
    if (st == DPF_OK)
        st = hman_store_cert(r->db, server, guid, 0, thumb);
    if (st != DPF_OK)
        return fail(r, st, nal, "updating the DP certificate failed");
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

static dpf_status add_client_packages(run *r, long long dpid, const char *nal)
{
    dpf_status st;
    if (r->packages == NULL) {
        st = hman_store_client_packages(r->db, &r->packages);
        if (st != DPF_OK)
            return fail(r, st, nal, "loading the client upgrade settings failed");
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
            return fail(r, st, nal, "adding a client package failed");
        TX_INFO("INFO: Successfully added client package (ID=%s) to DP %s~", pkg, nal);
    }
    return DPF_OK;
}

static dpf_status insert_dp(run *r, const hman_role *role, const char *crc)
{
    char guid[37];
    long long dpid = 0;
    dpf_uuid(guid);
    dpf_status st = hman_store_dp_insert(r->db, r->site->site_code, role, guid, crc, &dpid);
    if (st != DPF_OK)
        return fail(r, st, role->nal_path, "inserting the DP failed");
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
        r->res->inserted++;
    return st;
}

static dpf_status update_dp(run *r, const hman_role *role, const hman_dp_row *row,
                            const char *crc)
{
    dpf_status st = hman_store_dp_update(r->db, row->dpid, role, crc);
    if (st != DPF_OK)
        return fail(r, st, role->nal_path, "updating the DP failed");
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
        r->res->updated++;
    return st;
}

static dpf_status remove_dp(run *r, const hman_dp_row *row)
{
    dpf_status st = hman_store_dp_remove(r->db, row->dpid);
    if (st != DPF_OK)
        return fail(r, st, row->nal_path, "marking the DP deleted failed");
    TX_INFO("SQL>>>update DistributionPoints set Action = 3, State = 0 where DPID = %lld",
             row->dpid);
    TX_INFO("SQL>>>insert DPNotification (DPID, TimeKey) values (%lld, now())", row->dpid);
    r->res->removed++;
    return DPF_OK;
}

/* One DP: decide, then write (or not). row may be NULL, role may be NULL. */
static dpf_status process_dp(run *r, const hman_role *role, const hman_dp_row *row)
{
    char crc[9] = "";
    if (role != NULL)
        hman_role_crc(role, r->site->site_code, crc);
    int pull = role ? role->is_pull_dp : row->is_pull_dp;
    switch (hman_classify(role, row, crc)) {
    case HMAN_DP_NEW:
        return insert_dp(r, role, crc);
    case HMAN_DP_CHANGED:
        return update_dp(r, role, row, crc);
    case HMAN_DP_UNCHANGED:
        TX_INFO("~Will not update DP %s. DBCRC:%s,NewCRC:%s,Action:%d,PDP:0,PullDP:%d",
                 row->nal_path, row->dp_crc, crc, row->action, pull);
        r->res->unchanged++;
        return DPF_OK;
    case HMAN_DP_REMOVING:
        TX_WARN("~Will not update DP %s. DBCRC:%s,NewCRC:%s,Action:%d,PDP:0,PullDP:%d. The DP "
                 "is still being removed; it is added again by the first site control change "
                 "after its removal completes", row->nal_path, row->dp_crc, crc, row->action,
                 pull);
        r->res->waiting++;
        return DPF_OK;
    case HMAN_DP_REMOVED:
        return remove_dp(r, row);
    case HMAN_DP_GONE:
        return DPF_OK;
    }
    return DPF_OK;
}

/* Whether anything in DistributionPoints will change (for the source's
 * "have changed" / "have not changed" line, logged before the DP lines). */
static int dps_change(const hman_site *s)
{
    for (int i = 0; i < s->nroles; i++) {
        const hman_role *role = &s->roles[i];
        if (strcmp(role->role_name, DPF_ROLE_DP) != 0)
            continue;
        char crc[9];
        hman_role_crc(role, s->site_code, crc);
        hman_verdict v = hman_classify(role, hman_site_dp(s, role->nal_path), crc);
        if (v == HMAN_DP_NEW || v == HMAN_DP_CHANGED)
            return 1;
    }
    for (int i = 0; i < s->ndps; i++) {
        if (hman_classify(hman_site_role(s, DPF_ROLE_DP, s->dps[i].nal_path), &s->dps[i], "") ==
            HMAN_DP_REMOVED)
            return 1;
    }
    return 0;
}

static dpf_status process_dps(run *r)
{
    hman_site *s = r->site;
    if (dps_change(s))
        TX_INFO("~Distribution Points of site %s have changed. Update the DistributionPoints "
                 "table in the database.", s->site_code);
    else
        TX_INFO("~Distribution Points of site %s have not changed. HMAN will not update the "
                 "DistributionPoints table in the database.", s->site_code);
    dpf_status st = DPF_OK;
    for (int i = 0; i < s->nroles && st == DPF_OK; i++) {
        const hman_role *role = &s->roles[i];
        if (strcmp(role->role_name, DPF_ROLE_DP) == 0)
            st = process_dp(r, role, hman_site_dp(s, role->nal_path));
    }
    for (int i = 0; i < s->ndps && st == DPF_OK; i++) {
        if (hman_site_role(s, DPF_ROLE_DP, s->dps[i].nal_path) == NULL)
            st = process_dp(r, NULL, &s->dps[i]);
    }
    return st;
}

/* 3306 in the run's transaction. ISTR0 names the change as dbmon's SND line
 * does ("sitecontrol.changed.PS1 [1027921]"). The correlation id is the
 * thread's, which the handler set from the event. */
static dpf_status raise_processed(run *r, long long change_id)
{
    const char *site = r->site->site_code;
    char path[160];
    if (change_id > 0)
        dpf_fmt(path, sizeof path, "%s.%s [%lld]", DPF_SUBJ_SITECONTROL, site, change_id);
    else
        dpf_fmt(path, sizeof path, "%s.%s", DPF_SUBJ_SITECONTROL, site);
    dpf_statmsg m = {.id = DPF_MSG_HMAN_PROCESSED, .severity = 'I', .level = 'M', .site = site};
    m.istr[0] = path;
    m.istr[1] = r->res->site_name;
    m.istr[2] = site;
    dpf_status st = dpf_statmsg_raise(NULL, r->db, &m);
    if (st != DPF_OK)
        return fail(r, st, NULL, "recording status message 3306 failed");
    return DPF_OK;
}

dpf_status hman_process_site(dpf_db *db, const char *site_code, const char *corr,
                             hman_result *res)
{
    return hman_process_change(db, site_code, corr, 0, res);
}

dpf_status hman_process_change(dpf_db *db, const char *site_code, const char *corr,
                               long long change_id, hman_result *res)
{
    memset(res, 0, sizeof *res);
    run r = {.db = db, .res = res};
    if (site_code == NULL || !dpf_site_code_valid(site_code)) {
        dpf_fmt(res->reason, sizeof res->reason, "'%s' is not a site code",
                site_code ? site_code : "");
        return DPF_ERR_INVALID;
    }
    dpf_status st = dpf_db_begin(db);
    if (st != DPF_OK)
        return fail(&r, st, NULL, "starting the transaction failed");
    st = dpf_db_set_corr(db, corr ? corr : "");
    if (st != DPF_OK) {
        fail(&r, st, NULL, "setting the correlation id failed");
        goto cleanup;
    }
    st = hman_store_lock_site(db, site_code, res->site_name, sizeof res->site_name);
    if (st == DPF_ERR_NOT_FOUND) {
        dpf_fmt(res->reason, sizeof res->reason, "site %s is not in the sites table", site_code);
        goto cleanup;
    }
    if (st != DPF_OK) {
        fail(&r, st, NULL, "locking the site control row failed");
        goto cleanup;
    }
    if (change_id > 0) {
        st = hman_store_record_change(db, change_id, site_code);
        if (st == DPF_ERR_CONFLICT) {
            DPF_INFO("~Site control change [%lld] of site %s was processed before; nothing to "
                     "do", change_id, site_code);
            res->already = 1;
            dpf_db_rollback(db);
            st = DPF_OK;
            goto done;
        }
        if (st != DPF_OK) {
            fail(&r, st, NULL, "recording the change failed");
            goto cleanup;
        }
    }
    DPF_INFO("~Processing site control file: Site %s", site_code);
    st = hman_site_create(site_code, &r.site);
    if (st == DPF_OK)
        st = hman_store_load(db, r.site);
    if (st != DPF_OK) {
        fail(&r, st, NULL, "reading the site control data failed");
        goto cleanup;
    }
    dpf_fmt(r.site->site_name, sizeof r.site->site_name, "%s", res->site_name);
    st = sync_sysres(&r);
    if (st == DPF_OK)
        st = process_dps(&r);
    if (st == DPF_OK)
        st = raise_processed(&r, change_id);
    if (st == DPF_OK) {
        st = dpf_db_commit(db);
        if (st != DPF_OK)
            fail(&r, st, NULL, "committing the site control change failed");
    }
    hman_txlog_flush(&r.log, st == DPF_OK);
    if (st == DPF_OK)
        DPF_INFO("~Processed site control file of site %s: %d inserted, %d updated, %d "
                 "unchanged, %d removed", site_code, res->inserted, res->updated,
                 res->unchanged, res->removed);

cleanup:
    if (st != DPF_OK) {
        hman_txlog_flush(&r.log, 0);
        dpf_db_rollback(db);
        if (st != DPF_ERR_NOT_FOUND)
            DPF_ERROR("~Failed to process site control file of site %s%s%s: %s. The whole "
                      "change was rolled back; none of the site's DPs was processed",
                      site_code, res->failed_nal[0] ? " at DP " : "", res->failed_nal,
                      res->reason);
        /* counts of a rolled-back run would mislead the caller */
        res->inserted = res->updated = res->removed = res->unchanged = res->waiting = 0;
        res->sysres_added = res->sysres_removed = 0;
    }
done:
    dpf_db_result_free(r.packages);
    hman_site_destroy(r.site);
    hman_txlog_clear(&r.log);
    return st;
}

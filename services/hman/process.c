/* Processing one site control change, as the source's HMAN does it: lock the
 * site, read its site control data and DistributionPoints, bring SysResList
 * in step, then insert new DPs, update changed ones (by CRC), leave the
 * unchanged ones alone and mark removed ones Action = 3 with a
 * DPNotification, all in ONE transaction. If any write fails the whole
 * change is rolled back, so a half-processed site never exists; the caller
 * reports which DP failed (3307) and retries later. (HmanSetAsideFailedDPs
 * lifts that for the DPs' own writes: see dps.c.)
 *
 * Status message 3306 (processed) is raised inside that transaction, just
 * before the commit: it is written with the change (and published by dbmon
 * from the outbox), so it is never raised for a change that rolled back and
 * never lost when hman dies right after the commit. A failure to write it
 * rolls the change back like any other write. (3307 is raised by the caller
 * after the rollback, in its own statement.)
 *
 * A burst of changes to one site is processed as one: each pass records
 * the outbox id high-water mark it read after locking the site
 * (store_state.c), and a change whose outbox id is at most that mark was
 * seen by the pass, so it is recorded and gets its own 3306 without a
 * second pass ("covered").
 *
 * The log lines are the source's HMAN lines, so an administrator reading
 * them can follow the source's troubleshooting guide. Those about the
 * transaction's writes are written when it commits (txlog.h): a crash in
 * the middle leaves none, and the redelivered change logs them once. */
#include "run.h"

#include <stdlib.h>
#include <string.h>

#include <dpf/log.h>
#include <dpf/metrics.h>
#include <dpf/sitecontrol.h>
#include <dpf/statmsg.h>
#include <dpf/util.h>

static const hman_opts DEFAULT_OPTS = {0};

dpf_status hman_run_fail(hman_run *r, dpf_status st, const char *nal, const char *what)
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
 * entry without a role is a site system no longer in use. Both found by
 * the database (store_site.c), so an unchanged site costs two anti-joins. */
static dpf_status sync_sysres(hman_run *r, int same_roles)
{
    const char *site = r->site->site_code;
    dpf_db_result *q = NULL;
    /* the same set of roles as when the last pass brought SysResList in
     * step: nothing to compare */
    dpf_status st = same_roles ? DPF_OK : hman_store_sysres_missing(r->db, site, &q);
    if (st != DPF_OK)
        return hman_run_fail(r, st, NULL, "reading SysResList failed");
    for (int i = 0; st == DPF_OK && i < dpf_db_result_rows(q); i++) {
        const char *role = dpf_db_result_get(q, i, 0), *nal = dpf_db_result_get(q, i, 1);
        char *server = hman_role_server(nal, dpf_db_result_get(q, i, 2));
        if (server == NULL) {
            st = hman_run_fail(r, DPF_ERR_NOMEM, nal, "adding the site system failed");
            break;
        }
        TX_INFO("New site system: %s %s %s", site, server, role);
        st = hman_store_sysres_add(r->db, site, role, nal, server);
        free(server);
        if (st != DPF_OK)
            hman_run_fail(r, st, nal, "adding the site system to SysResList failed");
        else
            r->res->sysres_added++;
    }
    dpf_db_result_free(q);
    q = NULL;
    if (st == DPF_OK && !same_roles) {
        st = hman_store_sysres_prune(r->db, site, &q);
        if (st != DPF_OK)
            hman_run_fail(r, st, NULL, "removing site systems from SysResList failed");
    }
    for (int i = 0; st == DPF_OK && i < dpf_db_result_rows(q); i++) {
        const char *role = dpf_db_result_get(q, i, 0), *nal = dpf_db_result_get(q, i, 1);
        TX_INFO("Site system no longer in use: %s %s %s", site, dpf_db_result_get(q, i, 2),
                role);
        TX_DEBUG("SQL>>> DELETE FROM SysResList WHERE SiteCode=N'%s' AND RoleName=N'%s' AND "
                 "NALPath=N'%s'", site, role, nal);
        r->res->sysres_removed++;
    }
    dpf_db_result_free(q);
    if (st != DPF_OK)
        return st;
    if (r->res->sysres_added || r->res->sysres_removed)
        TX_INFO("~Server Info of site %s has changed. Update the DPInfo table in the database.",
                site);
    else
        TX_INFO("~Server Info of site %s has not changed.HMAN will not update the DPInfo "
                "table in the database.", site);
    return DPF_OK;
}

/* The change as 3306/3307/3308 name it, as dbmon's SND line does
 * ("sitecontrol.changed.PS1 [1027921]"). */
static void change_path(const char *site, long long change_id, char *out, size_t len)
{
    if (change_id > 0)
        dpf_fmt(out, len, "%s.%s [%lld]", DPF_SUBJ_SITECONTROL, site, change_id);
    else
        dpf_fmt(out, len, "%s.%s", DPF_SUBJ_SITECONTROL, site);
}

/* 3306 in the run's transaction. The correlation id is the thread's, which
 * the handler set from the event. */
static dpf_status raise_processed(hman_run *r, const char *site)
{
    dpf_statmsg m = {.id = DPF_MSG_HMAN_PROCESSED, .severity = 'I', .level = 'M', .site = site};
    m.istr[0] = r->path;
    m.istr[1] = r->res->site_name;
    m.istr[2] = site;
    dpf_status st = dpf_statmsg_raise(NULL, r->db, &m);
    if (st != DPF_OK)
        return hman_run_fail(r, st, NULL, "recording status message 3306 failed");
    return DPF_OK;
}

/* The pass itself, after the lock: read the site, bring SysResList and
 * DistributionPoints in step, remember what the pass covered. */
static dpf_status run_pass(hman_run *r, const char *site_code, long long change_id,
                           const hman_pass *last)
{
    hman_result *res = r->res;
    hman_pass pass = {.serial = res->serial, .change_id = change_id};
    dpf_status st = hman_store_outbox_mark(r->db, &pass.covered);
    if (st == DPF_OK)
        st = hman_store_roles_fingerprint(r->db, site_code, pass.roles);
    if (st != DPF_OK)
        return hman_run_fail(r, st, NULL, "reading the outbox id mark and the roles failed");
    DPF_INFO("~Processing site control file: Site %s", site_code);
    int64_t t0 = dpf_mono_us();
    st = hman_site_create(site_code, &r->site);
    if (st == DPF_OK)
        st = hman_store_load(r->db, r->site);
    if (st != DPF_OK)
        return hman_run_fail(r, st, NULL, "reading the site control data failed");
    dpf_fmt(r->site->site_name, sizeof r->site->site_name, "%s", res->site_name);
    int64_t t1 = dpf_mono_us();
    st = sync_sysres(r, strcmp(pass.roles, last->roles) == 0);
    int64_t t2 = dpf_mono_us();
    if (st == DPF_OK)
        st = hman_run_dps(r);
    /* where a slow pass spends its time: reading, SysResList, the DPs */
    DPF_DEBUG("Pass over site %s: read %d DP roles and %d DistributionPoints rows in %lld ms, "
              "SysResList in %lld ms, DPs in %lld ms", site_code, r->site->nroles,
              r->site->ndps, (long long)(t1 - t0) / 1000, (long long)(t2 - t1) / 1000,
              (long long)(dpf_mono_us() - t2) / 1000);
    if (st == DPF_OK) {
        st = hman_store_record_pass(r->db, site_code, &pass);
        if (st != DPF_OK)
            hman_run_fail(r, st, NULL, "recording the pass failed");
    }
    return st;
}

/* A change the last pass already saw, on its timeline: nothing to write
 * for its DPs, the pass for the other change did. */
static dpf_status trace_covered(hman_run *r, long long change_id, const hman_pass *last)
{
    char msg[256];
    dpf_fmt(msg, sizeof msg, "site control change [%lld] was covered by the pass for change "
            "[%lld] (serial %lld); no second pass", change_id, last->change_id, last->serial);
    dpf_trace_who who = {.corr = r->corr, .component = DPF_TRACE_HMAN, .job = "change"};
    if (r->trace == NULL)
        return DPF_OK;
    dpf_status st = dpf_trace_batch_add(r->trace, &who, "covered", DPF_TRACE_INFO, msg);
    return st == DPF_OK ? st : hman_run_fail(r, st, NULL, "recording the change failed");
}

/* A change the last pass already saw: recorded (above) and reported, no
 * second pass. */
static void log_covered(const char *site, long long change_id, const hman_pass *last)
{
    DPF_INFO("~Site control change [%lld] of site %s was covered by the pass for change "
             "[%lld] (serial %lld, changes up to [%lld]); acknowledged without a second pass",
             change_id, site, last->change_id, last->serial, last->covered);
}

dpf_status hman_process_site(dpf_db *db, const char *site_code, const char *corr,
                             hman_result *res)
{
    return hman_process_change_opts(db, site_code, corr, 0, NULL, res);
}

dpf_status hman_process_change(dpf_db *db, const char *site_code, const char *corr,
                               long long change_id, hman_result *res)
{
    return hman_process_change_opts(db, site_code, corr, change_id, NULL, res);
}

dpf_status hman_process_change_opts(dpf_db *db, const char *site_code, const char *corr,
                                    long long change_id, const hman_opts *opts,
                                    hman_result *res)
{
    memset(res, 0, sizeof *res);
    int64_t t_start = dpf_mono_us();
    char path[160];
    hman_run r = {.db = db, .res = res, .opts = opts ? opts : &DEFAULT_OPTS, .path = path,
                  .corr = corr};
    if (site_code == NULL || !dpf_site_code_valid(site_code)) {
        dpf_fmt(res->reason, sizeof res->reason, "'%s' is not a site code",
                site_code ? site_code : "");
        return DPF_ERR_INVALID;
    }
    change_path(site_code, change_id, path, sizeof path);
    dpf_status st = dpf_db_begin(db);
    if (st != DPF_OK)
        return hman_run_fail(&r, st, NULL, "starting the transaction failed");
    if (dpf_trace_batch_create(&r.trace) != DPF_OK)
        DPF_WARN("No memory for the timeline of change [%lld]; processed without it",
                 change_id);
    st = dpf_db_set_corr(db, corr ? corr : "");
    if (st != DPF_OK) {
        hman_run_fail(&r, st, NULL, "setting the correlation id failed");
        goto cleanup;
    }
    st = hman_store_lock_site(db, site_code, res->site_name, sizeof res->site_name,
                              &res->serial);
    if (st == DPF_ERR_NOT_FOUND) {
        dpf_fmt(res->reason, sizeof res->reason, "site %s is not in the sites table", site_code);
        goto cleanup;
    }
    if (st != DPF_OK) {
        hman_run_fail(&r, st, NULL, "locking the site control row failed");
        goto cleanup;
    }
    hman_pass last = {0};
    st = hman_store_last_pass(db, site_code, &last);
    if (st != DPF_OK) {
        hman_run_fail(&r, st, NULL, "reading the last pass over the site failed");
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
            hman_run_fail(&r, st, NULL, "recording the change failed");
            goto cleanup;
        }
    }
    if (change_id > 0 && change_id <= last.covered)
        res->covered = 1;
    else
        st = run_pass(&r, site_code, change_id, &last);
    if (st == DPF_OK && res->covered)
        st = trace_covered(&r, change_id, &last);
    /* the pass's rows on the timeline, one statement (a failure is logged
     * and does not roll the change back) */
    if (st == DPF_OK && r.trace != NULL) {
        st = dpf_trace_batch_write_tx(db, r.trace);
        if (st != DPF_OK)
            hman_run_fail(&r, st, NULL, "recording the change on the timeline failed");
    }
    if (st == DPF_OK)
        st = raise_processed(&r, site_code);
    if (st == DPF_OK) {
        st = dpf_db_commit(db);
        if (st != DPF_OK)
            hman_run_fail(&r, st, NULL, "committing the site control change failed");
    }
    hman_txlog_flush(&r.log, st == DPF_OK);
    if (st == DPF_OK && res->covered)
        log_covered(site_code, change_id, &last);
    else if (st == DPF_OK)
        DPF_INFO("~Processed site control file of site %s: %d inserted, %d updated, %d "
                 "unchanged, %d removed%s", site_code, res->inserted, res->updated,
                 res->unchanged, res->removed, res->set_aside ? ", some set aside (3308)" : "");

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
        res->sysres_added = res->sysres_removed = res->set_aside = res->covered = 0;
    }
done:
    dpf_metrics_observe(DPF_M_HMAN_CHANGE_SECONDS, st == DPF_OK ? "ok" : "failed", NULL, NULL,
                        (double)(dpf_mono_us() - t_start) / 1e6);
    dpf_db_result_free(r.packages);
    dpf_trace_batch_destroy(r.trace);
    hman_site_destroy(r.site);
    hman_txlog_clear(&r.log);
    return st;
}

/* pkg.changed.<seq>: one package needs the package transfer. The event is
 * a wake-up; the handler reads the package and its DP rows and does what
 * they say: process a new source version, then run the transfer jobs of the
 * package with at most MaxThreadsPerPackage DPs at once (the processing
 * thread bounds the packages at once by MaxPackages), then delete a
 * package that is being deleted once no DP holds it. Each transfer job
 * claims its dp_packages row with its own lease token, so several
 * replicas can work on one package and a crashed job's row is claimed again
 * when its lease runs out. */
#include "content.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dpf/daemon.h>
#include <dpf/log.h>
#include <dpf/sitecontrol.h>
#include <dpf/util.h>

#include "content_xfer.h"
#include "db_pool.h"
#include "item.h"
#include "pkg_process.h"
#include "store_pkg.h"

#include "dpfleet.pb-c.h"

static const dm_content_cfg *g_cfg;

void dm_content_configure(const dm_content_cfg *cfg) { g_cfg = cfg; }
const dm_content_cfg *dm_content_cfg_get(void) { return g_cfg; }

dpf_status dm_content_raise(const dm_ctx *ctx, dpf_db *db, const char *site, unsigned id,
                            char severity, const char *s0, const char *s1, const char *s2,
                            const char *s3)
{
    dpf_statmsg m = {
        .id = id, .severity = severity, .level = 'M', .component = DPF_COMP_DISTMGR,
        .site = site, .istr = {s0, s1, s2, s3},
    };
    return dpf_statmsg_raise(ctx->bus, db, &m);
}

void dm_pkg_decode(const void *data, size_t len, const char *subject, dm_item *it)
{
    it->dpid = 0;
    it->bad[0] = '\0';
    Dpf__PackageChanged *m = dpf__package_changed__unpack(NULL, len, data);
    if (m == NULL) {
        dpf_fmt(it->bad, sizeof it->bad, "not a PackageChanged protobuf (%zu bytes)", len);
        return;
    }
    if (dm_item_take_dpid(it, "PackageChanged", DPF_SUBJ_PKG_CHANGED ".", subject, m->seq,
                          m->change_id))
        dpf_fmt(it->reason, sizeof it->reason, "%s", m->reason ? m->reason : "");
    dpf__package_changed__free_unpacked(m, NULL);
}

/* The transfer threads of one package run. */
typedef struct run {
    const dm_ctx *ctx;
    const char *package_id;
    const char *corr;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int running;
    int jobs;
} run;

/* Borrows a connection from the replica's pool for each DP it claims and
 * gives it back after that DP's transfer, so the transfer threads share
 * the replica's bounded set of connections with its other workers (as a
 * long holder: transfers never take the connections installs need). */
static void *transfer_thread(void *arg)
{
    run *r = arg;
    dpf_log_set_corr(r->corr);
    int jobs = 0;
    while (!dpf_stopping()) {
        dpf_db *db = dm_dbpool_get_long(r->ctx->dbpool, DM_DB_WAIT_MS);
        if (db == NULL) {
            DPF_WARN("Package %s: a transfer thread has no database connection; the reconcile "
                     "retries", r->package_id);
            break;
        }
        char token[128], uuid[37];
        dpf_uuid(uuid);
        dpf_fmt(token, sizeof token, "%s/%s", r->ctx->owner, uuid);
        dm_dist_row row = {0};
        dpf_status st = dm_store_dist_claim(db, r->package_id, token, r->ctx->lease_s, &row);
        if (st != DPF_OK) {
            if (st != DPF_ERR_NOT_FOUND)
                DPF_WARN("Package %s: cannot claim a DP (%s)", r->package_id, dpf_db_error(db));
            dm_dbpool_put_long(r->ctx->dbpool, db);
            break;
        }
        dpf_log_set_dpid(row.dpid);
        dm_xfer_run(r->ctx, db, &row, token, r->corr);
        dpf_log_set_dpid(0);
        dm_dbpool_put_long(r->ctx->dbpool, db);
        dm_dist_row_clear(&row);
        jobs++;
    }
    pthread_mutex_lock(&r->mu);
    r->running--;
    r->jobs += jobs;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* Runs up to MaxThreadsPerPackage transfer threads until no row of the
 * package can be claimed, keeping the event alive meanwhile. */
static int run_transfers(const dm_ctx *ctx, dm_item *it, const char *package_id)
{
    run r = {.ctx = ctx, .package_id = package_id, .corr = it->corr};
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    int want = g_cfg->max_threads_per_package;
    pthread_t *t = calloc((size_t)want, sizeof *t);
    int started = 0;
    for (int i = 0; t != NULL && i < want; i++) {
        pthread_mutex_lock(&r.mu);
        r.running++;
        pthread_mutex_unlock(&r.mu);
        if (pthread_create(&t[i], NULL, transfer_thread, &r) != 0) {
            pthread_mutex_lock(&r.mu);
            r.running--;
            pthread_mutex_unlock(&r.mu);
            break;
        }
        started++;
    }
    pthread_mutex_lock(&r.mu);
    while (r.running > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += ctx->ack_wait_ms / 3000 > 0 ? ctx->ack_wait_ms / 3000 : 1;
        pthread_cond_timedwait(&r.cv, &r.mu, &ts);
        if (r.running == 0 || it->msg == NULL)
            continue;
        /* a network call: not under the lock the transfer threads take */
        pthread_mutex_unlock(&r.mu);
        if (dpf_bus_msg_in_progress(it->msg) != DPF_OK)
            DPF_DEBUG("Package %s: in-progress for the event failed", package_id);
        pthread_mutex_lock(&r.mu);
    }
    pthread_mutex_unlock(&r.mu);
    for (int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    free(t);
    pthread_mutex_destroy(&r.mu);
    pthread_cond_destroy(&r.cv);
    return r.jobs;
}

dm_outcome dm_content_retry(int ms, const char *why)
{
    dm_outcome o = {.kind = DM_RETRY, .delay_ms = ms};
    dpf_fmt(o.reason, sizeof o.reason, "%s", why);
    return o;
}

static dm_outcome process(const dm_ctx *ctx, dm_item *it, dpf_db *db, const dm_pkg_row *pkg)
{
    const char *token = it->token; /* the processing is this item's job */
    dm_pkg_row leased = {0};
    dpf_status st = dm_store_pkg_lease(db, pkg->seq, token, ctx->lease_s, &leased);
    if (st == DPF_ERR_BUSY) {
        DPF_INFO("Package %s is being processed by %s, will look again in %d s",
                 pkg->package_id, leased.lease_owner, dm_item_lease_busy_s(ctx));
        dm_pkg_row_clear(&leased);
        return dm_content_retry(dm_item_lease_busy_s(ctx) * 1000, "processed elsewhere");
    }
    if (st == DPF_OK) {
        st = dm_pkg_process(ctx, db, &leased, token, it->corr);
        dm_pkg_row_clear(&leased);
        if (st == DPF_ERR_DB)
            return dm_content_retry(ctx->retry_delay_s * 1000, "could not record the processing");
        return (dm_outcome){.kind = DM_DONE};
    }
    dm_pkg_row_clear(&leased);
    if (st == DPF_ERR_NOT_FOUND)
        return (dm_outcome){.kind = DM_DONE};
    return dm_content_retry(ctx->retry_delay_s * 1000, "cannot take the processing lease");
}

static void delete_if_done(const dm_ctx *ctx, dpf_db *db, const dm_pkg_row *pkg,
                           const char *corr)
{
    int deleted = 0;
    dpf_status st = dpf_db_begin(db);
    if (st == DPF_OK)
        st = dpf_db_set_corr(db, corr);
    if (st == DPF_OK)
        st = dm_store_pkg_delete_if_done(db, pkg->seq, &deleted);
    if (st == DPF_OK && deleted)
        st = dm_content_raise(ctx, db, pkg->site_code, DM_MSG_PKG_DELETED, 'I', pkg->package_id,
                              pkg->name, NULL, NULL);
    if (st == DPF_OK)
        st = dpf_db_commit(db);
    if (st != DPF_OK) {
        dpf_db_rollback(db);
        DPF_WARN("Package %s: could not delete it (%s); the reconcile retries", pkg->package_id,
                 dpf_db_error(db));
    } else if (deleted) {
        DPF_INFO("Package %s (%s) is deleted: no DP holds it any more", pkg->package_id,
                 pkg->name);
    }
}

dm_outcome dm_handle_pkg(const dm_ctx *ctx, dm_item *it, dpf_db **slot)
{
    dm_pkg_row pkg = {0};
    dm_outcome out = {.kind = DM_DONE};
    dpf_db *db = dm_item_db(ctx, slot);
    dpf_status st = db != NULL ? dm_store_pkg_get(db, it->dpid, &pkg) : DPF_ERR_DB;
    if (st == DPF_ERR_NOT_FOUND) {
        DPF_INFO("Package number %lld no longer exists, nothing to do", it->dpid);
        return out;
    }
    if (st != DPF_OK)
        return dm_content_retry(ctx->retry_delay_s * 1000, "cannot read the package");
    DPF_INFO("~Processing package %s (%s): state %s, version %d (%s)", pkg.package_id, pkg.name,
             pkg.state, pkg.processed_version, it->reason[0] ? it->reason : "event");
    if (strcmp(pkg.state, "Processing") == 0) {
        out = process(ctx, it, db, &pkg);
        dm_pkg_row_clear(&pkg);
        if (out.kind != DM_DONE)
            return out;
        if (dm_store_pkg_get(db, it->dpid, &pkg) != DPF_OK)
            return out;
    }
    int dropped = 0;
    if (strcmp(pkg.state, "Deleting") == 0 &&
        dm_store_dist_drop_unreachable(db, pkg.package_id, &dropped) == DPF_OK && dropped > 0)
        DPF_INFO("Package %s: dropped from %d DPs that are not installed (nothing to remove "
                 "there)", pkg.package_id, dropped);
    int held = 0;
    if (dm_store_dist_hold_for_maintenance(db, pkg.package_id, it->corr, &held) != DPF_OK)
        DPF_WARN("Package %s: cannot look for DPs in maintenance mode (%s)", pkg.package_id,
                 dpf_db_error(db));
    /* Most wake-ups find nothing left to do (each DP install wakes its
     * client packages, and the first handler of a burst sends them to every
     * DP installed so far): no transfer threads for those. */
    int any = 1;
    if (dm_store_dist_any_claimable(db, pkg.package_id, &any) != DPF_OK)
        any = 1;
    int jobs = 0;
    if (any) {
        /* the transfer threads borrow their own connections: this one goes
         * back meanwhile, so a small pool cannot be held by waiting workers */
        dm_item_db_put(ctx, slot);
        jobs = run_transfers(ctx, it, pkg.package_id);
    }
    if ((db = dm_item_db(ctx, slot)) == NULL) {
        dm_pkg_row_clear(&pkg);
        return dm_content_retry(DM_DB_RETRY_MS, "no database connection after the transfers");
    }
    if (jobs > 0)
        DPF_INFO("Package %s: %d transfer jobs ran", pkg.package_id, jobs);
    if (strcmp(pkg.state, "Deleting") == 0)
        delete_if_done(ctx, db, &pkg, it->corr);
    int secs = 0;
    if (!dpf_stopping() && dm_store_dist_next_retry(db, pkg.package_id, &secs) == DPF_OK) {
        DPF_INFO("Package %s: DPs are waiting to retry, the next in %d s", pkg.package_id, secs);
        out = dm_content_retry((secs < 1 ? 1 : secs) * 1000, "DPs waiting to retry");
    }
    if (dpf_stopping())
        out = dm_content_retry(0, "stopping");
    dm_pkg_row_clear(&pkg);
    return out;
}

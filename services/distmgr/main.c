/* distmgr, the Distribution Manager: options, startup, the dispatch table,
 * the reconcile timer, the resync after an outage of NATS or PostgreSQL and
 * a clean stop. Startup waits for PostgreSQL and NATS rather than dying,
 * because in a fleet the services start in any order; an outage later is
 * logged when it starts and ends, and its end runs a reconcile pass at once
 * so the work in flight resumes in seconds, not at the next timer. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dpf/agent.h>
#include <dpf/bus.h>
#include <dpf/config.h>
#include <dpf/db.h>
#include <dpf/log.h>
#include <dpf/daemon.h>
#include <dpf/health.h>
#include <dpf/metrics.h>
#include <dpf/sitecontrol.h>
#include <dpf/util.h>

#include "agent_creds.h"
#include "components.h"
#include "content.h"
#include "content_lib.h"
#include "content_reconcile.h"
#include "db_pool.h"
#include "validation.h"
#include "distmgr.h"
#include "reconcile.h"
#include "handle_dp_dpn.h"
#include "handle_dp_ins.h"
#include "item.h"
#include "processing_thread.h"
#include "worker_pool.h"

#ifndef DM_DEFAULT_COMPONENTS_DIR
#define DM_DEFAULT_COMPONENTS_DIR "share/dp-components"
#endif

/* An idle worker leaves after this long. */
#define WORKER_IDLE_MS 60000
/* How often the reconcile's connection is checked, to see PostgreSQL go and
 * come back. */
#define DB_CHECK_MS 1000
/* Longest wait between two attempts to reach PostgreSQL, NATS or a consumer. */
#define RETRY_MAX_MS 5000

static int g_thread_limit, g_removal_limit, g_step_timeout, g_retry_delay, g_max_deliveries;
static int g_reconcile_s;
static int g_max_packages, g_max_threads_per_pkg, g_content_retry_s, g_content_attempts;
static int g_validation_limit, g_db_pool_size;
static char *g_db_url, *g_nats_url, *g_components_dir, *g_replica, *g_site;
static char *g_health_listen;
static char *g_log_format;
static char *g_content_lib, *g_source_roots;
static char *g_step_key;
static char *g_nats_issuer, *g_agent_creds_dir;

static const dpf_option g_opts[] = {
    DPF_OPT_INT("DPUpgradeThreadLimit", "DPFLEET_DP_UPGRADE_THREAD_LIMIT", &g_thread_limit, 50,
                1, 1000, "workers that install or upgrade DPs at once (per replica)"),
    DPF_OPT_INT("DPRemovalThreadLimit", "DPFLEET_DP_REMOVAL_THREAD_LIMIT", &g_removal_limit, 1,
                1, 100, "DPs the DP manager removes at once (per replica; the source removes "
                "one at a time)"),
    DPF_OPT_INT("AgentStepTimeoutSeconds", "DPFLEET_AGENT_STEP_TIMEOUT_SECONDS", &g_step_timeout,
                60, 1, 3600, "how long to wait for a DP's agent to answer one step"),
    DPF_OPT_INT("InstallRetryDelaySeconds", "DPFLEET_INSTALL_RETRY_DELAY_SECONDS",
                &g_retry_delay, 60, 1, 86400, "after a failed install, try again this much later"),
    DPF_OPT_INT("MaxDeliveries", "DPFLEET_MAX_DELIVERIES", &g_max_deliveries, 20, 1, 10000,
                "deliveries of one dp.ins event before JetStream gives it up (the reconcile "
                "still retries the DP)"),
    DPF_OPT_INT("ReconcileIntervalSeconds", "DPFLEET_RECONCILE_INTERVAL_SECONDS",
                &g_reconcile_s, 60, 1, 3600,
                "how often to look for DPs that need work without an event"),
    DPF_OPT_INT("MaxPackages", "DPFLEET_MAX_PACKAGES", &g_max_packages, 3, 1, 100,
                "packages the package transfer sends at once (per replica)"),
    DPF_OPT_INT("MaxThreadsPerPackage", "DPFLEET_MAX_THREADS_PER_PACKAGE",
                &g_max_threads_per_pkg, 5, 1, 200, "DPs one package is sent to at once"),
    DPF_OPT_INT("ContentRetryDelaySeconds", "DPFLEET_CONTENT_RETRY_DELAY_SECONDS",
                &g_content_retry_s, 60, 1, 86400,
                "after a failed package transfer to a DP, try again this much later"),
    DPF_OPT_INT("ContentRetryLimit", "DPFLEET_CONTENT_RETRY_LIMIT", &g_content_attempts, 10, 1,
                1000, "attempts of a package transfer to one DP before it is Failed"),
    DPF_OPT_INT("ValidationThreadLimit", "DPFLEET_VALIDATION_THREAD_LIMIT", &g_validation_limit,
                5, 1, 100, "DPs whose content is validated at once (per replica)"),
    DPF_OPT_INT("DBPoolSize", "DPFLEET_DB_POOL_SIZE", &g_db_pool_size, 10, 1, 200,
                "PostgreSQL connections the workers of this replica share (plus one for the "
                "reconcile)"),
    DPF_OPT_STRING("content-library", "DPFLEET_CONTENT_LIBRARY", &g_content_lib,
                   "/var/lib/dpfleet/contentlib",
                   "the site content library (FileLib by hash); every replica mounts the same"),
    DPF_OPT_STRING("content-source-roots", "DPFLEET_CONTENT_SOURCE_ROOTS", &g_source_roots,
                   "/srv/dpfleet/sources",
                   "':'-separated directories package sources must lie under"),
    DPF_OPT_STRING("database-url", "DATABASE_URL", &g_db_url,
                   "postgresql://postgres@127.0.0.1:5432/postgres", "PostgreSQL connection URL"),
    DPF_OPT_STRING("nats-url", "NATS_URL", &g_nats_url, "nats://127.0.0.1:4222",
                   "NATS server URL"),
    DPF_OPT_STRING("components-dir", "DPFLEET_COMPONENTS_DIR", &g_components_dir,
                   DM_DEFAULT_COMPONENTS_DIR,
                   "DP component files with MANIFEST and MANIFEST.sig (sent in install_files)"),
    DPF_OPT_STRING("ReplicaName", "DPFLEET_REPLICA_NAME", &g_replica, "",
                   "this replica's name, written as the lease owner (default hostname-pid)"),
    DPF_OPT_STRING("SiteCode", "DPFLEET_SITE_CODE", &g_site, "PS1",
                   "site for status messages about messages that name no DP"),
    DPF_OPT_STRING("health-listen", "DPFLEET_HEALTH_LISTEN", &g_health_listen, "",
                   "address:port of /healthz, /readyz and /metrics (empty: none)"),
    DPF_OPT_STRING("step-signing-key", "DPFLEET_STEP_SIGNING_KEY", &g_step_key, "",
                   "PEM Ed25519 private key (mode 0600) every agent request is signed with; "
                   "agents trust its public key (required)"),
    DPF_OPT_STRING("nats-issuer", "DPFLEET_NATS_ISSUER", &g_nats_issuer, "",
                   "dpf-natsauth's issuer directory: DP hosts' NATS credentials are issued at "
                   "install and revoked at removal (empty: not managed)"),
    DPF_OPT_STRING("agent-creds-dir", "DPFLEET_NATS_AGENT_CREDS_DIR", &g_agent_creds_dir, "",
                   "where each DP host's NATS credential is written, <FQDN>.creds (0600), to be "
                   "placed on the host as etc/nats.creds (empty: not managed)"),
    DPF_OPT_STRING("log-format", "DPFLEET_LOG_FORMAT", &g_log_format, "text",
                   "log lines: text (like the source's logs) or json (one object per line)"),
    DPF_OPT_END,
};

/* The two processing threads and what they run. */
static const dm_proc_kind g_upgrade_kind = {
    "DP upgrade processing thread", "Upgrading", dm_dp_ins_decode, dm_handle_dp_ins, NULL, 0,
};
static const dm_proc_kind g_manager_kind = {
    "DP manager thread", "Removing", dm_dp_dpn_decode, dm_handle_dp_dpn, NULL, 0,
};
static const dm_proc_kind g_validation_kind = {
    "Content validation thread", "Validating", dm_dp_val_decode, dm_handle_dp_val, NULL, 0,
};
static const dm_proc_kind g_transfer_kind = {
    "Package transfer thread", "Sending", dm_pkg_decode, dm_handle_pkg, "package number",
    1, /* a burst of wake-ups for one package is one pass (installing 5,000 DPs wakes
        * each of the 4 client packages 5,000 times) */
};

/* The one dispatch point: each subject distmgr consumes, its durable
 * consumer, and the processing thread (index into run()'s threads) whose
 * queue feeds its handler. */
typedef struct route {
    const char *subject;
    const char *durable;
    int thread;
} route;

enum { T_UPGRADE, T_MANAGER, T_TRANSFER, T_VALIDATION, NTHREADS };

static const route g_routes[] = {
    {DPF_SUBJ_DP_INS ".>", "distmgr-ins", T_UPGRADE},
    {DPF_SUBJ_DP_DPN ".>", "distmgr-dpn", T_MANAGER},
    {DPF_SUBJ_PKG_CHANGED ".>", "distmgr-pkg", T_TRANSFER},
    {DPF_SUBJ_DP_VAL ".>", "distmgr-val", T_VALIDATION},
};
#define NROUTES (sizeof g_routes / sizeof g_routes[0])

static int backoff(int attempt)
{
    int ms = 500 << (attempt < 4 ? attempt : 4);
    return ms > RETRY_MAX_MS ? RETRY_MAX_MS : ms;
}

/* One pull consumer per route, each feeding its processing thread, which
 * fetches only when one of its workers is free: what a replica takes
 * depends on its own free threads, whatever the other replicas run. */
static int pull_all(const dm_ctx *ctx, dm_proc **threads, dpf_bus_pull **pulls)
{
    for (size_t r = 0; r < NROUTES; r++) {
        dpf_bus_sub_opts o = {
            .stream = DPF_STREAM_EVENTS,
            .subject = g_routes[r].subject,
            .durable = g_routes[r].durable,
            .max_ack_pending = 0, /* the bus default, the same for every replica */
            .ack_wait_ms = ctx->ack_wait_ms,
            .max_deliver = ctx->max_deliveries,
        };
        for (int i = 0;; i++) {
            if (dpf_stopping())
                return 0;
            if (dpf_bus_pull_create(ctx->bus, &o, &pulls[r]) == DPF_OK)
                break;
            DPF_WARN("Cannot consume %s yet, retrying in %d ms", o.subject, backoff(i));
            dpf_daemon_nap(backoff(i));
        }
        dm_proc_set_pull(threads[g_routes[r].thread], pulls[r]);
    }
    return 1;
}

/* After a burst of work (an install of thousands of DPs, a package sent to
 * a thousand), once every pool is idle again: what malloc keeps free in its
 * arenas goes back to the system, so the memory of a burst is not held
 * until the next one. Looks every TRIM_EVERY_US; *last: the jobs count at
 * the last trim. */
#define TRIM_EVERY_US 5000000LL
static void trim_after_burst(dm_pool **pools, int n, long long *last)
{
    long long jobs = 0;
    int busy = 0;
    for (int t = 0; t < n; t++) {
        dm_pool_stats s;
        dm_pool_get_stats(pools[t], &s);
        jobs += s.jobs;
        busy += s.busy;
    }
    if (busy == 0 && jobs != *last) {
        *last = jobs;
        malloc_trim(0);
    }
}

/* Every kind of reconcile; after_outage as dm_reconcile_run. */
static void reconcile_all(const dm_ctx *ctx, dpf_db *db, dm_proc **threads, int after_outage)
{
    dm_reconcile_run(ctx, db, threads[T_UPGRADE], threads[T_MANAGER], after_outage);
    dm_content_reconcile(ctx, db, threads[T_TRANSFER]);
    dm_validation_reconcile(ctx, db, threads[T_VALIDATION]);
}

/* What the main loop knows about the two servers. */
typedef struct watch {
    uint64_t reconnects;  /* dpf_bus_reconnects last seen */
    int nats_down;
    int64_t nats_down_us;
    int db_down;
    int64_t db_down_us;
    int64_t next_db_check_us;
    int64_t followup_us[2];  /* more after-outage passes, 0 = none due */
} watch;

/* 1 when the reconcile's connection answers (reset when it went bad). */
static int db_alive(dpf_db *db)
{
    return dpf_db_ensure(db) == DPF_OK && dpf_db_exec(db, "SELECT 1", 0, NULL, NULL) == DPF_OK;
}

/* Watches NATS and PostgreSQL; when either comes back, releases what jobs
 * that died with the outage left behind and runs a reconcile pass now. */
static void watch_servers(const dm_ctx *ctx, dpf_db *db, dm_proc **threads, watch *w)
{
    int64_t now = dpf_mono_us();
    int resync = 0;
    if (!dpf_bus_connected(ctx->bus) && !w->nats_down) {
        w->nats_down = 1;
        w->nats_down_us = now;
        DPF_WARN("Outage: NATS is not reachable; jobs that need it wait, and the work resumes "
                 "as soon as it is back");
    }
    uint64_t rc = dpf_bus_reconnects(ctx->bus);
    if (rc != w->reconnects && dpf_bus_connected(ctx->bus)) {
        w->reconnects = rc;
        DPF_INFO("Recovery: NATS is back%s%.1f s; checking the consumers and running a "
                 "reconcile pass now", w->nats_down ? " after " : " (a short drop, ",
                 w->nats_down ? (double)(now - w->nats_down_us) / 1e6 : 0.0);
        w->nats_down = 0;
        resync = 1;
    }
    if (now >= w->next_db_check_us) {
        w->next_db_check_us = now + (int64_t)DB_CHECK_MS * 1000;
        int alive = db_alive(db);
        if (!alive && !w->db_down) {
            w->db_down = 1;
            w->db_down_us = now;
            DPF_WARN("Outage: PostgreSQL is not reachable (%s); jobs that need it wait and "
                     "retry, and the work resumes as soon as it is back", dpf_db_error(db));
        } else if (alive && w->db_down) {
            w->db_down = 0;
            DPF_INFO("Recovery: PostgreSQL is back after %.1f s; releasing the leases of jobs "
                     "that ended during the outage and running a reconcile pass now",
                     (double)(now - w->db_down_us) / 1e6);
            dm_item_reclaim_dead(ctx, db);
            resync = 1;
        }
    }
    if (resync && !w->db_down) {
        reconcile_all(ctx, db, threads, 1);
        /* work that was in flight in the outage can surface a little later (a
         * message delivered as the server died, a change hman or dbmon had to
         * retry): look again after 5 and 15 s rather than after the ack wait
         * or ReconcileIntervalSeconds */
        w->followup_us[0] = now + 5 * 1000000LL;
        w->followup_us[1] = now + 15 * 1000000LL;
    }
    for (int i = 0; i < 2 && !w->db_down; i++) {
        if (w->followup_us[i] != 0 && now >= w->followup_us[i]) {
            w->followup_us[i] = 0;
            DPF_INFO("After the outage: another reconcile pass");
            reconcile_all(ctx, db, threads, 1);
        }
    }
}

/* /metrics: each worker pool's threads, for an operator and an autoscaler
 * (busy at the limit for long = this replica is saturated). */
typedef struct {
    dm_pool *const *pools;
    const char *const *names;
} pool_metrics;

static void write_metrics(void *arg, dpf_health_out *out)
{
    const pool_metrics *m = arg;
    static const char *const series[] = {"dpfleet_distmgr_threads_busy",
                                         "dpfleet_distmgr_threads_limit",
                                         "dpfleet_distmgr_jobs_started_total"};
    static const char *const types[] = {"gauge", "gauge", "counter"};
    static const char *const helps[] = {
        "Worker threads of the pool running a job now (busy at the limit: saturated).",
        "Most worker threads the pool may run (DPUpgradeThreadLimit and the like).",
        "Jobs the pool started since the process started."};
    for (int k = 0; k < 3; k++) {
        dpf_health_metric_family(out, series[k], types[k], helps[k]);
        for (int t = 0; t < NTHREADS; t++) {
            dm_pool_stats s;
            dm_pool_get_stats(m->pools[t], &s);
            char labels[96];
            snprintf(labels, sizeof labels, "pool=\"%s\"", m->names[t]);
            double v = k == 0 ? s.busy : k == 1 ? s.limit : (double)s.jobs;
            dpf_health_metric(out, series[k], labels, v);
        }
    }
}

static int run(dm_ctx *ctx, dpf_db *db, dpf_health *health)
{
    static const char *const pool_names[NTHREADS] = {"install", "removal", "content",
                                                     "validation"};
    const dm_proc_kind *kinds[NTHREADS] = {&g_upgrade_kind, &g_manager_kind, &g_transfer_kind,
                                           &g_validation_kind};
    const int limits[NTHREADS] = {ctx->thread_limit, ctx->removal_limit, g_max_packages,
                                  g_validation_limit};
    dm_pool *pools[NTHREADS] = {0};
    dm_proc *threads[NTHREADS] = {0};
    dpf_bus_pull *pulls[NROUTES] = {0};
    int rc = 1;

    for (int t = 0; t < NTHREADS; t++) {
        if (dm_pool_create(limits[t], WORKER_IDLE_MS, NULL, &pools[t]) != DPF_OK ||
            dm_proc_create(ctx, kinds[t], pools[t], limits[t], &threads[t]) != DPF_OK) {
            DPF_ERROR("Cannot start the %s", kinds[t]->name);
            goto cleanup;
        }
    }
    /* pending work first (the source: "will perform any pending work"),
     * including what this replica was doing when it crashed */
    dm_reconcile_reclaim(ctx, db);
    dm_content_reclaim(ctx, db);
    reconcile_all(ctx, db, threads, 0);
    if (!pull_all(ctx, threads, pulls)) {
        rc = 0;
        goto cleanup;
    }
    for (size_t r = 0; r < NROUTES; r++)
        if (dpf_metrics_watch_consumer(ctx->bus, DPF_STREAM_EVENTS, g_routes[r].durable) !=
            DPF_OK)
            DPF_WARN("/metrics will not show consumer %s", g_routes[r].durable);
    /* the series an operator graphs read 0 before the first job */
    static const char *const results[] = {"ok", "failed"};
    for (int i = 0; i < 2; i++) {
        dpf_metrics_touch(DPF_M_DP_INSTALLS, results[i], NULL, NULL);
        dpf_metrics_touch(DPF_M_DP_REMOVALS, results[i], NULL, NULL);
        dpf_metrics_touch(DPF_M_PKG_PROCESSED, results[i], NULL, NULL);
        dpf_metrics_touch(DPF_M_DISTRIBUTIONS, results[i], NULL, NULL);
    }
    pool_metrics pm = {pools, pool_names};
    dpf_health_set_metrics(health, write_metrics, &pm);
    dpf_health_set_started(health);
    watch w = {.reconnects = dpf_bus_reconnects(ctx->bus)};
    int64_t next = dpf_mono_us() + (int64_t)ctx->reconcile_s * 1000000;
    int64_t next_trim = dpf_mono_us() + TRIM_EVERY_US;
    long long trimmed_at = -1;
    while (dpf_daemon_nap(200)) {
        watch_servers(ctx, db, threads, &w);
        if (dpf_mono_us() >= next_trim) {
            trim_after_burst(pools, NTHREADS, &trimmed_at);
            next_trim = dpf_mono_us() + TRIM_EVERY_US;
        }
        if (dpf_mono_us() >= next) {
            if (!w.db_down)
                reconcile_all(ctx, db, threads, 0);
            next = dpf_mono_us() + (int64_t)ctx->reconcile_s * 1000000;
        }
    }
    rc = 0;
cleanup:
    /* no metrics call reads a pool from here on (it runs under the health lock) */
    dpf_health_set_metrics(health, NULL, NULL);
    dpf_health_set_stopping(health); /* a Service sends no more traffic while this drains */
    DPF_INFO("Stopping: no new work is taken; running installs and removals stop after their "
             "current step");
    for (int t = 0; t < NTHREADS; t++) {
        if (threads[t] != NULL && kinds[t]->coalesce)
            DPF_INFO("%s: %lld wake-ups were covered by a queued pass of the same package",
                     kinds[t]->name, dm_proc_coalesced(threads[t]));
        dm_proc_destroy(threads[t]);
        if (pools[t] != NULL) {
            dm_pool_stats s;
            dm_pool_get_stats(pools[t], &s);
            dm_pool_destroy(pools[t]);
            DPF_INFO("%s: stopped after %lld DPs; peak %d threads in use out of %d",
                     kinds[t]->name, s.jobs, s.peak, s.limit);
        }
    }
    /* each pull was destroyed by its thread's dm_proc_destroy */
    dm_dbpool_stats ds;
    dm_dbpool_get_stats(ctx->dbpool, &ds);
    DPF_INFO("Database pool: peak %d connections in use out of %d; %lld borrows waited for one",
             ds.peak_out, ds.size, ds.waits);
    return rc;
}

int main(int argc, char **argv)
{
    char err[512];
    char replica[300];
    int rc;
    if (dpf_daemon_start("distmgr", DPF_COMP_DISTMGR, g_opts, argc, argv, &rc) != DPF_OK)
        return rc;
    if (dpf_log_set_format_name(g_log_format) != DPF_OK) {
        fprintf(stderr, "distmgr: --log-format %s: want text or json\n", g_log_format);
        dpf_config_free(g_opts);
        return 2;
    }
    /* Content chunks (256 KiB) are allocated and freed by several transfer
     * threads; kept mmap'd they go back to the system at once instead of
     * growing every thread's arena (peak RSS stays flat with file size). */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);

    if (g_replica != NULL && *g_replica != '\0') {
        snprintf(replica, sizeof replica, "%s", g_replica);
    } else {
        char host[256] = "localhost";
        gethostname(host, sizeof host - 1);
        host[sizeof host - 1] = '\0';
        snprintf(replica, sizeof replica, "%s-%d", host, (int)getpid());
    }
    DPF_INFO("~Started SMS_DISTRIBUTION_MANAGER as replica %s, thread ID %llu (0x%llx). "
             "DPUpgradeThreadLimit = %d, DPRemovalThreadLimit = %d, AgentStepTimeoutSeconds = %d, "
             "InstallRetryDelaySeconds = %d", replica, (unsigned long long)dpf_log_tid(),
             (unsigned long long)dpf_log_tid(), g_thread_limit, g_removal_limit, g_step_timeout,
             g_retry_delay);

    dm_components *comps = NULL;
    if (dm_components_load(g_components_dir, &comps, err, sizeof err) != DPF_OK) {
        DPF_ERROR("Cannot load the DP component files: %s (set DPFLEET_COMPONENTS_DIR or "
                  "--components-dir)", err);
        dpf_config_free(g_opts);
        return 1;
    }
    DPF_INFO("Loaded %zu DP component files from %s (%zu bytes with MANIFEST and "
             "MANIFEST.sig), version %s", dm_components_count(comps),
             dm_components_dir(comps), dm_components_total_bytes(comps),
             DPF_COMPONENT_VERSION);
    if (dm_agent_signer_load(g_step_key, err, sizeof err) != DPF_OK) {
        DPF_ERROR("Cannot load the step signing key: %s (set DPFLEET_STEP_SIGNING_KEY or "
                  "--step-signing-key; agents refuse unsigned steps)", err);
        dm_components_destroy(comps);
        dpf_config_free(g_opts);
        return 1;
    }
    DPF_INFO("Agent requests are signed with the step key %s", g_step_key);

    dm_content_cfg content = {
        .library = g_content_lib, .source_roots = g_source_roots,
        .max_packages = g_max_packages, .max_threads_per_package = g_max_threads_per_pkg,
        .retry_delay_s = g_content_retry_s, .max_attempts = g_content_attempts,
    };
    if (dm_clib_init(g_content_lib, err, sizeof err) != DPF_OK) {
        DPF_ERROR("%s (set DPFLEET_CONTENT_LIBRARY or --content-library)", err);
        dm_components_destroy(comps);
        dpf_config_free(g_opts);
        return 1;
    }
    dm_content_configure(&content);
    dm_agent_creds_init(g_nats_issuer, g_agent_creds_dir, g_nats_url);
    DPF_INFO("Site content library %s; package sources under %s; MaxPackages = %d, "
             "MaxThreadsPerPackage = %d", g_content_lib, g_source_roots, g_max_packages,
             g_max_threads_per_pkg);

    dpf_health *health = NULL;
    if (dpf_health_start(g_health_listen, "distmgr", &health) != DPF_OK ||
        dpf_health_add_db_check(health, g_db_url) != DPF_OK) {
        dpf_health_stop(health);
        dm_components_destroy(comps);
        dpf_config_free(g_opts);
        return 1;
    }
    char conn_name[340];
    snprintf(conn_name, sizeof conn_name, "distmgr-%s", replica);
    dpf_db *db = dpf_daemon_connect_db(g_db_url, RETRY_MAX_MS, NULL, NULL);
    dpf_bus *bus = db != NULL ? dpf_daemon_connect_bus(g_nats_url, conn_name, RETRY_MAX_MS)
                              : NULL;
    dm_dbpool *dbpool = NULL;
    if (bus != NULL && dm_dbpool_create(g_db_url, g_db_pool_size, &dbpool) != DPF_OK) {
        DPF_ERROR("Cannot create the database pool");
        rc = 1;
    } else if (bus != NULL) {
        DPF_INFO("Database pool: up to %d PostgreSQL connections shared by the workers "
                 "(DPFLEET_DB_POOL_SIZE)", g_db_pool_size);
        dm_ctx ctx = {
            .bus = bus,
            .db_url = g_db_url,
            .owner = replica,
            .site_code = g_site,
            .components = comps,
            .dbpool = dbpool,
            .thread_limit = g_thread_limit,
            .removal_limit = g_removal_limit,
            .step_timeout_s = g_step_timeout,
            .retry_delay_s = g_retry_delay,
            .max_deliveries = g_max_deliveries,
            /* renewed before every step, so it only has to outlast one */
            .lease_s = g_step_timeout + 30,
            .ack_wait_ms = (g_step_timeout + 30) * 1000,
            .reconcile_s = g_reconcile_s,
        };
        if (dpf_health_add_bus_check(health, bus) != DPF_OK)
            DPF_WARN("/readyz will not check NATS (too many checks)");
        rc = run(&ctx, db, health);
    }
    dpf_health_stop(health); /* before the bus and pools its checks read */
    dpf_metrics_unwatch_consumers();
    dm_dbpool_destroy(dbpool);
    dpf_bus_destroy(bus);
    dpf_db_destroy(db);
    dm_components_destroy(comps);
    dm_agent_signer_free();
    DPF_INFO("~SMS_DISTRIBUTION_MANAGER stopped");
    dpf_config_free(g_opts);
    return rc;
}

/* dbmon: SMS_DATABASE_NOTIFICATION_MONITOR. Applies the migrations when asked,
 * then turns committed database changes (outbox rows) into JetStream events
 * until SIGINT/SIGTERM.
 *
 * The loop waits on LISTEN dpf_outbox with a one second timeout and drains
 * the outbox every time it wakes: a notification is only a wake-up and is
 * lost while the connection is down, the outbox rows are the truth. When the
 * database goes away the connection is rebuilt (and LISTEN issued again);
 * when NATS refuses a publish the loop backs off, and the rows wait. */
#include "dbmon.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <dpf/config.h>
#include <dpf/log.h>
#include <dpf/daemon.h>
#include <dpf/health.h>
#include <dpf/sitecontrol.h>
#include <dpf/util.h>

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
#define RECONNECT_MAX_MS 1000
/* a publishing pause looks this often whether NATS came back */
#define NAP_SLICE_MS 100

static char *g_db_url;
static char *g_nats_url;
static char *g_migrations_dir;
static char *g_site;
static int g_migrate;
static int g_migrate_only;
static int g_batch;
static int g_retention_days;
static int g_trace_retention_days;
static char *g_health_listen;
static char *g_log_format;

static const dpf_option g_opts[] = {
    DPF_OPT_STRING("database-url", "DATABASE_URL", &g_db_url,
                   "postgresql://postgres@127.0.0.1:5432/postgres", "PostgreSQL connection URL"),
    DPF_OPT_STRING("nats-url", "NATS_URL", &g_nats_url, "nats://127.0.0.1:4222", "NATS server URL"),
    DPF_OPT_BOOL("migrate", "DPFLEET_MIGRATE", &g_migrate, 0,
                 "apply the db/ migrations at start, then run"),
    DPF_OPT_BOOL("migrate-only", NULL, &g_migrate_only, 0,
                 "apply the db/ migrations and exit (0 on success)"),
    DPF_OPT_STRING("migrations-dir", "DPFLEET_MIGRATIONS", &g_migrations_dir, "db",
                   "directory of the NNN_*.sql migrations"),
    DPF_OPT_STRING("SiteCode", "DPFLEET_SITE_CODE", &g_site, "PS1",
                   "site whose status messages this monitor raises"),
    DPF_OPT_INT("OutboxBatchSize", "DPFLEET_OUTBOX_BATCH", &g_batch, DBMON_BATCH_MAX, 1,
                DBMON_BATCH_MAX, "outbox rows claimed and published per transaction"),
    DPF_OPT_INT("StatusMessageRetentionDays", "DPFLEET_STATMSG_RETENTION_DAYS",
                &g_retention_days, 30, 0, 36500,
                "status messages older than this are deleted (hourly, in batches); 0 keeps them"),
    DPF_OPT_INT("TraceRetentionDays", "DPFLEET_TRACE_RETENTION_DAYS",
                &g_trace_retention_days, 30, 0, 36500,
                "the timeline of admin actions (trace_events, dpctl trace) older than this is "
                "deleted (hourly, in batches); 0 keeps it"),
    DPF_OPT_STRING("health-listen", "DPFLEET_HEALTH_LISTEN", &g_health_listen, "",
                   "address:port of /healthz, /readyz and /metrics (empty: none)"),
    DPF_OPT_STRING("log-format", "DPFLEET_LOG_FORMAT", &g_log_format, "text",
                   "log lines: text (like the source's logs) or json (one object per line)"),
    DPF_OPT_END,
};

static int next_backoff(int ms)
{
    ms *= 2;
    return ms > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ms;
}

/* The pause after a refused publish: up to ms, but over as soon as the NATS
 * connection is back (a reconnect since the pause began), so the outbox is
 * drained within NAP_SLICE_MS of the server's return rather than at the
 * end of a backoff that grew while it was away (up to BACKOFF_MAX_MS).
 * 1 when it ended because NATS came back. */
static int pause_publishing(dpf_bus *bus, int ms)
{
    uint64_t seen = dpf_bus_reconnects(bus);
    int was_connected = dpf_bus_connected(bus);
    for (int left = ms; left > 0; left -= NAP_SLICE_MS) {
        if (!dpf_daemon_nap(left < NAP_SLICE_MS ? left : NAP_SLICE_MS))
            return 0; /* stopping */
        if (dpf_bus_reconnects(bus) != seen || (!was_connected && dpf_bus_connected(bus)))
            return 1;
    }
    return 0;
}

static dpf_status listen_outbox(dpf_db *db, void *arg)
{
    (void)arg;
    if (dpf_db_listen(db, DBMON_NOTIFY_CHANNEL) == DPF_OK)
        return DPF_OK;
    DPF_WARN("LISTEN %s failed: %s", DBMON_NOTIFY_CHANNEL, dpf_db_error(db));
    return DPF_ERR_DB;
}

/* Connects (and LISTENs), retrying until it works or we are told to stop. */
static dpf_db *connect_db(int listen)
{
    return dpf_daemon_connect_db(g_db_url, BACKOFF_MAX_MS, listen ? listen_outbox : NULL, NULL);
}

static int migrate(void)
{
    dpf_db *db = connect_db(0);
    if (db == NULL)
        return -1;
    DPF_INFO("Applying migrations from %s", g_migrations_dir);
    dpf_status st = dpf_db_migrate(db, g_migrations_dir);
    if (st != DPF_OK)
        DPF_ERROR("Migrations from %s failed: %s %s", g_migrations_dir, dpf_status_text(st),
                  dpf_db_error(db));
    else
        DPF_INFO("Migrations from %s applied", g_migrations_dir);
    dpf_db_destroy(db);
    return st == DPF_OK ? 0 : -1;
}

static void run(dpf_bus *bus)
{
    dpf_db *db = connect_db(1);
    int backoff = BACKOFF_MIN_MS;
    dbmon_retention ret = {.days = g_retention_days, .trace_days = g_trace_retention_days};
    if (db != NULL)
        DPF_INFO("Monitoring the outbox (LISTEN %s), batches of %d", DBMON_NOTIFY_CHANNEL,
                 g_batch);
    while (db != NULL && !dpf_stopping()) {
        dbmon_drain_stats stats;
        dpf_status st = dbmon_drain_once(db, bus, g_batch, g_site, &stats);
        if (st == DPF_OK) {
            backoff = BACKOFF_MIN_MS;
            if (stats.claimed == g_batch)
                continue; /* more waiting: no need to sleep */
            if (dbmon_retention_tick(db, &ret, dpf_now_ms()))
                continue; /* more old status messages: the next batch after a drain */
            st = dpf_db_wait_notify(db, 1000);
            if (st == DPF_OK || st == DPF_ERR_TIMEOUT)
                continue;
        }
        if (!stats.bus_failed) {
            /* a fresh connection rather than dpf_db_ensure: a reset one
             * would have silently lost its LISTEN */
            DPF_WARN("Outage: lost the database connection (%s); reconnecting every second, "
                     "the changes wait in the outbox", dpf_db_error(db));
            int64_t since = dpf_now_ms();
            dpf_db_destroy(db);
            /* a short, fixed wait: a service that backs off to half a minute
             * resumes long after the database is back (issue 8: < 10 s) */
            db = dpf_daemon_connect_db(g_db_url, RECONNECT_MAX_MS, listen_outbox, NULL);
            if (db != NULL)
                DPF_INFO("Recovery: PostgreSQL is back after %.1f s; draining the outbox",
                         (dpf_now_ms() - since) / 1000.0);
            continue;
        }
        DPF_WARN("Publishing paused for %d ms (%s); the changes wait in the outbox", backoff,
                 dpf_status_text(st));
        if (pause_publishing(bus, backoff)) {
            DPF_INFO("NATS is back; publishing the outbox again");
            backoff = BACKOFF_MIN_MS;
        } else {
            backoff = next_backoff(backoff);
        }
        /* a stream deleted under us (or a JetStream restarted empty) is
         * created again rather than waited for */
        if (st == DPF_ERR_NO_STREAM && dpf_bus_ensure_streams(bus) == DPF_OK)
            DPF_INFO("Created the JetStream streams again");
    }
    dpf_db_destroy(db);
}

int main(int argc, char **argv)
{
    int rc;
    if (dpf_daemon_start("dbmon", DPF_COMP_DBMON, g_opts, argc, argv, &rc) != DPF_OK)
        return rc;
    if (dpf_log_set_format_name(g_log_format) != DPF_OK) {
        fprintf(stderr, "dbmon: --log-format %s: want text or json\n", g_log_format);
        dpf_config_free(g_opts);
        return 2;
    }
    if (g_migrate || g_migrate_only) {
        if (migrate() != 0) {
            rc = 1;
            goto out;
        }
        if (g_migrate_only)
            goto out;
    }
    dpf_health *health = NULL;
    if (dpf_health_start(g_health_listen, "dbmon", &health) != DPF_OK ||
        dpf_health_add_db_check(health, g_db_url) != DPF_OK) {
        dpf_health_stop(health);
        rc = 1;
        goto out;
    }
    dpf_bus *bus = dpf_daemon_connect_bus(g_nats_url, "dbmon", BACKOFF_MAX_MS);
    if (bus != NULL) {
        if (dpf_health_add_bus_check(health, bus) == DPF_OK)
            dpf_health_set_started(health);
        run(bus);
        DPF_INFO("Stopping: the last batch is published; unpublished outbox rows wait for the "
                 "next dbmon");
    }
    dpf_health_set_stopping(health);
    dpf_health_stop(health); /* before the bus its check reads */
    dpf_bus_destroy(bus);
    DPF_INFO("Stopped");
out:
    dpf_config_free(g_opts);
    return rc;
}

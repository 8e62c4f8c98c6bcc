/* SMSDBMON's part of the timeline (trace_events, issue 11) against the real
 * PostgreSQL and nats-server, with dbmon's own code (dbmon_core) running as
 * its database role dpf_dbmon: each published change is one 'publish' row
 * with its correlation id, the RCV/SND words, and the DP it names; status
 * messages and changes without a correlation id are not; a timeline that
 * cannot be written never holds the outbox back; retention
 * (TraceRetentionDays) deletes only rows older than the setting, in
 * batches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <cmocka.h>

#include <nats/nats.h>

#include <dpf/log.h>
#include <dpf/sitecontrol.h>
#include <dpf/statmsg.h>
#include <dpf/util.h>
#include "dbmon.h"
#include "dpf_test.h"

static char g_url[1024];
static char g_site[8];
static dpf_db *g_db;
static dpf_bus *g_bus;
static natsConnection *g_nc;
static jsCtx *g_js;
static long long g_dpid;

static void sql(const char *q, int n, const char *const *p)
{
    dpf_test_sql(g_db, q, n, p);
}

static long long num(const char *q, int n, const char *const *p)
{
    return dpf_test_num(g_db, q, n, p);
}

static void text(const char *q, const char *p1, char *out, size_t len)
{
    const char *p[] = {p1};
    out[0] = '\0';
    if (dpf_db_exec_text(g_db, q, p1 != NULL ? 1 : 0, p, out, len) != DPF_OK)
        fail_msg("%s: %s", q, dpf_db_error(g_db));
}

static int group_setup(void **state)
{
    (void)state;
    dpf_log_init(DPF_COMP_DBMON);
    setenv("DPFLEET_REPLICA_NAME", "dbmon-0", 1);
    const char *nats_url = dpf_test_env("NATS_URL");
    if (nats_url == NULL || dpf_test_db_create("trace_dbmon", g_url, sizeof g_url) != 0 ||
        dpf_db_connect(g_url, &g_db) != DPF_OK)
        return -1;
    /* ids and subjects unique to this run (the stream's duplicate window) */
    unsigned r = 0;
    if (getrandom(&r, sizeof r, 0) != sizeof r)
        r = (unsigned)getpid();
    char start[32];
    snprintf(start, sizeof start, "%llu", 2000000000ULL + (unsigned long long)(r % 1000000) * 1000);
    const char *p[] = {start};
    sql("SELECT setval('outbox_id_seq', $1::bigint)", 1, p);
    sql("SELECT setval('distribution_points_dpid_seq', $1::bigint)", 1, p);
    snprintf(g_site, sizeof g_site, "T%02u", r % 100);
    const char *ps[] = {g_site};
    sql("INSERT INTO sites (site_code, site_name, server_name) VALUES ($1, 'T', 'T.CONTOSO.COM')",
        1, ps);
    sql("INSERT INTO site_control (site_code) VALUES ($1)", 1, ps);
    sql("DELETE FROM outbox", 0, NULL);
    if (dpf_bus_connect(nats_url, "test_trace_dbmon", &g_bus) != DPF_OK ||
        dpf_bus_ensure_streams(g_bus) != DPF_OK)
        return -1;
    if (dpf_test_nats_connect(nats_url, &g_nc) != 0 ||
        natsConnection_JetStream(&g_js, g_nc, NULL) != NATS_OK)
        return -1;
    return 0;
}

static void purge(const char *subject)
{
    jsOptions o;
    jsOptions_Init(&o);
    o.Stream.Purge.Subject = subject;
    jsErrCode jerr = 0;
    js_PurgeStream(g_js, DPF_STREAM_EVENTS, &o, &jerr);
}

static int group_teardown(void **state)
{
    (void)state;
    /* no events left for other suites' consumers on the shared server */
    char subject[96];
    snprintf(subject, sizeof subject, "sitecontrol.changed.%s", g_site);
    purge(subject);
    snprintf(subject, sizeof subject, "dp.ins.%lld", g_dpid);
    purge(subject);
    jsCtx_Destroy(g_js);
    natsConnection_Destroy(g_nc);
    dpf_bus_destroy(g_bus);
    dpf_db_destroy(g_db);
    dpf_test_db_drop("trace_dbmon");
    return 0;
}

/* One committed change through the triggers, with corr ("" = none). */
static void change(const char *corr, const char *q, int n, const char *const *p)
{
    assert_int_equal(dpf_db_begin(g_db), DPF_OK);
    if (corr[0] != '\0')
        assert_int_equal(dpf_db_set_corr(g_db, corr), DPF_OK);
    sql(q, n, p);
    assert_int_equal(dpf_db_commit(g_db), DPF_OK);
}

/* One drain as dbmon runs it: as its role dpf_dbmon. */
static dbmon_drain_stats drain(void)
{
    dbmon_drain_stats stats;
    sql("SET ROLE dpf_dbmon", 0, NULL);
    dpf_status st = dbmon_drain_once(g_db, g_bus, DBMON_BATCH_MAX, g_site, &stats);
    sql("RESET ROLE", 0, NULL);
    assert_int_equal(st, DPF_OK);
    return stats;
}

static void test_published_changes_on_the_timeline(void **state)
{
    (void)state;
    const char *ps[] = {g_site};
    change("corr-dbmon-site", "UPDATE site_control SET serial = serial + 1 WHERE site_code = $1",
           1, ps);
    const char *pd[] = {"PS1TRACE.CONTOSO.COM", g_site};
    change("corr-dbmon-dp",
           "INSERT INTO distribution_points (server_name, nal_path, site_code, identity_guid, "
           "dp_crc) VALUES ($1, 'nal-' || $1, $2, 'g', 'ABC')", 2, pd);
    g_dpid = num("SELECT dpid FROM distribution_points WHERE server_name = $1", 1, pd);
    /* neither a change made outside the API nor a status message is traced */
    change("", "UPDATE site_control SET serial = serial + 1 WHERE site_code = $1", 1, ps);
    assert_int_equal(dpf_db_begin(g_db), DPF_OK);
    dpf_log_set_corr("corr-dbmon-statmsg");
    dpf_statmsg m = {.id = DPF_MSG_HMAN_PROCESSED, .severity = 'I', .level = 'M',
                     .site = g_site};
    assert_int_equal(dpf_statmsg_raise(g_bus, g_db, &m), DPF_OK);
    dpf_log_set_corr(NULL);
    assert_int_equal(dpf_db_commit(g_db), DPF_OK);
    long long outbox_rows = num("SELECT count(*) FROM outbox", 0, NULL);
    assert_int_equal(outbox_rows, 4);

    dbmon_drain_stats stats = drain();
    assert_int_equal(stats.published, 4);
    assert_int_equal(num("SELECT count(*) FROM outbox", 0, NULL), 0);

    char out[512], want[512];
    assert_int_equal(num("SELECT count(*) FROM trace_events", 0, NULL), 2);
    text("SELECT component || '|' || job || '|' || step || '|' || result || '|' || replica || "
         "'|' || (dpid IS NULL) || '|' || message FROM trace_events WHERE correlation_id = $1",
         "corr-dbmon-site", out, sizeof out);
    snprintf(want, sizeof want, "SMSDBMON|change|publish|info|dbmon-0|true|RCV: UPDATE on "
             "SiteControl for SiteControl_AddUpd_HMAN [%s ][", g_site);
    assert_true(strncmp(out, want, strlen(want)) == 0);
    snprintf(want, sizeof want, "]; SND: published sitecontrol.changed.%s", g_site);
    assert_non_null(strstr(out, want));
    /* the DP's change names the DP */
    text("SELECT job || '|' || dpid || '|' || server_name || '|' || (ended_at = at) FROM "
         "trace_events WHERE correlation_id = $1", "corr-dbmon-dp", out, sizeof out);
    snprintf(want, sizeof want, "install|%lld|PS1TRACE.CONTOSO.COM|true", g_dpid);
    assert_string_equal(out, want);
}

static void test_timeline_failure_never_holds_the_outbox(void **state)
{
    (void)state;
    sql("CREATE FUNCTION no_trace() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'trace_events is broken'; END $$", 0, NULL);
    sql("CREATE TRIGGER no_trace BEFORE INSERT ON trace_events FOR EACH STATEMENT "
        "EXECUTE FUNCTION no_trace()", 0, NULL);
    const char *ps[] = {g_site};
    change("corr-dbmon-broken", "UPDATE site_control SET serial = serial + 1 WHERE "
           "site_code = $1", 1, ps);
    dbmon_drain_stats stats = drain();
    assert_int_equal(stats.published, 1);
    assert_int_equal(num("SELECT count(*) FROM outbox", 0, NULL), 0);
    const char *pc[] = {"corr-dbmon-broken"};
    assert_int_equal(num("SELECT count(*) FROM trace_events WHERE correlation_id = $1", 1, pc),
                     0);
    sql("DROP TRIGGER no_trace ON trace_events", 0, NULL);
}

static void test_retention_deletes_only_old_rows(void **state)
{
    (void)state;
    sql("DELETE FROM trace_events", 0, NULL);
    /* 25 rows of 40 days ago, 5 of 29 days ago, 5 of now */
    sql("INSERT INTO trace_events (correlation_id, at, component, step, result) "
        "SELECT 'old-' || g, now() - interval '40 days' + g * interval '1 minute', 'DistMgr', "
        "'install_files', 'ok' FROM generate_series(1, 25) g", 0, NULL);
    sql("INSERT INTO trace_events (correlation_id, at, component, step, result) "
        "SELECT 'recent-' || g, now() - interval '29 days', 'DistMgr', 'install_files', 'ok' "
        "FROM generate_series(1, 5) g", 0, NULL);
    sql("INSERT INTO trace_events (correlation_id, component, step, result) "
        "SELECT 'new-' || g, 'HMAN', '3306', 'info' FROM generate_series(1, 5) g", 0, NULL);

    /* batches of 10, oldest first, as dpf_dbmon */
    sql("SET ROLE dpf_dbmon", 0, NULL);
    int n = -1;
    assert_int_equal(dbmon_trace_retention_delete(g_db, 30, 10, &n), DPF_OK);
    assert_int_equal(n, 10);
    sql("RESET ROLE", 0, NULL);
    assert_int_equal(num("SELECT count(*) FROM trace_events WHERE correlation_id IN "
                         "('old-1', 'old-10', 'old-11')", 0, NULL), 1); /* old-11 is left */
    sql("SET ROLE dpf_dbmon", 0, NULL);
    assert_int_equal(dbmon_trace_retention_delete(g_db, 30, 10, &n), DPF_OK);
    assert_int_equal(n, 10);
    assert_int_equal(dbmon_trace_retention_delete(g_db, 30, 10, &n), DPF_OK);
    assert_int_equal(n, 5);
    assert_int_equal(dbmon_trace_retention_delete(g_db, 30, 10, &n), DPF_OK);
    assert_int_equal(n, 0);
    /* 0 keeps everything */
    assert_int_equal(dbmon_trace_retention_delete(g_db, 0, 10, &n), DPF_OK);
    assert_int_equal(n, 0);
    sql("RESET ROLE", 0, NULL);
    assert_int_equal(num("SELECT count(*) FROM trace_events", 0, NULL), 10);
    assert_int_equal(num("SELECT count(*) FROM trace_events WHERE correlation_id LIKE 'old-%'",
                         0, NULL), 0);

    /* the main loop's tick: TraceRetentionDays 28 takes the 29-day-old rows
     * and then waits an hour; StatusMessageRetentionDays 0 does nothing */
    dbmon_retention ret = {.days = 0, .trace_days = 28};
    int64_t now = dpf_now_ms();
    assert_int_equal(dbmon_retention_tick(g_db, &ret, now), 0);
    assert_int_equal(num("SELECT count(*) FROM trace_events", 0, NULL), 5);
    assert_true(ret.trace_next_ms >= now + DBMON_RETENTION_INTERVAL_S * 1000LL);
    sql("INSERT INTO trace_events (correlation_id, at, component, step, result) "
        "VALUES ('old-again', now() - interval '40 days', 'DistMgr', 'x', 'ok')", 0, NULL);
    assert_int_equal(dbmon_retention_tick(g_db, &ret, now + 1000), 0);
    assert_int_equal(num("SELECT count(*) FROM trace_events", 0, NULL), 6); /* not yet */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_published_changes_on_the_timeline),
        cmocka_unit_test(test_timeline_failure_never_holds_the_outbox),
        cmocka_unit_test(test_retention_deletes_only_old_rows),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

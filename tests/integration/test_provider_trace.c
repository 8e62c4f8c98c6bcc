/* GET /v1/trace/{correlationId} and GET /v1/distributionpoints/{serverName}/history
 * (issue 11) against a real PostgreSQL and the real provider, with
 * trace_events rows written here the way the services write them (start
 * 'running', end 'ok'/'failed' with the agent's lines, a job_id per attempt,
 * 'waiting' rows) next to a real audit row and status messages: the
 * timeline's order across the three tables, each outcome rule (a failed
 * attempt followed by a good retry is Installed), 404/400, the Read-only
 * Analyst token reading both, the history newest first and paged by
 * limit, and dpctl trace / dp history printing them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "dpf_test.h"
#include "test_provider_harness.h"

#ifndef DPCTL_BIN
#error "DPCTL_BIN must be defined"
#endif

#define BASE "2026-12-01 10:00:00+00"

static int setup(void **state)
{
    (void)state;
    return ph_setup("provider_trace");
}

static int teardown(void **state)
{
    (void)state;
    return ph_teardown();
}

static void nal(const char *server, char *buf, size_t len)
{
    snprintf(buf, len, "[\"Display=\\\\%s\\\"]MSWNET:[\"SMS_SITE=PS1\"]\\\\%s\\", server, server);
}

/* One trace row at base + at_ms, ended dur_ms later (dur_ms < 0: running).
 * lines: the agent's lines, '\n'-separated, or NULL. */
static void ev(const char *corr, const char *base, int at_ms, int dur_ms, const char *comp,
               const char *server, const char *job, const char *job_id, const char *step,
               const char *result, const char *msg, const char *lines)
{
    char at[16], dur[16];
    snprintf(at, sizeof at, "%d", at_ms);
    snprintf(dur, sizeof dur, "%d", dur_ms);
    const char *p[] = {corr, base, at, dur, comp, server, job, job_id, step, result,
                       msg ? msg : "", lines ? lines : ""};
    dpf_test_sql(g_db,
        "INSERT INTO trace_events (correlation_id, at, ended_at, component, dpid, server_name, "
        " job, job_id, step, replica, tid, result, message, agent_lines) "
        "VALUES ($1, $2::timestamptz + $3::int * interval '1 ms', "
        " CASE WHEN $4::int < 0 THEN NULL "
        "      ELSE $2::timestamptz + ($3::int + $4::int) * interval '1 ms' END, "
        " $5, CASE WHEN $6 = '' THEN NULL ELSE 32 END, $6, $7, $8, $9, 'distmgr-0', "
        " CASE $5 WHEN 'DistMgr' THEN 4788 WHEN 'HMAN' THEN 2448 ELSE 2580 END, $10, $11, "
        " coalesce(string_to_array(nullif($12, ''), E'\\n'), '{}'))", 12, p);
}

/* A status message of server at base + at_ms: istr '|'-separated. */
static void msg(const char *corr, const char *base, int at_ms, int id, char sev, const char *istr)
{
    char at[16], mid[16], s[2] = {sev, 0};
    snprintf(at, sizeof at, "%d", at_ms);
    snprintf(mid, sizeof mid, "%d", id);
    const char *p[] = {corr, base, at, mid, s, istr};
    dpf_test_sql(g_db,
        "INSERT INTO status_messages (msg_id, severity, level, source, component, system, "
        " site_code, pid, tid, raised_at, istr, correlation_id) "
        "VALUES ($4::int, $5, 'M', 'SMS Server', 'SMS_DISTRIBUTION_MANAGER', 'PS1SITE.CONTOSO.COM', "
        " 'PS1', 1956, 4788, $2::timestamptz + $3::int * interval '1 ms', "
        " string_to_array($6, '|'), $1)", 6, p);
}

static void msg_dp(const char *corr, const char *base, int at_ms, int id, char sev,
                   const char *server, const char *more)
{
    char n[300], istr[1200];
    nal(server, n, sizeof n);
    snprintf(istr, sizeof istr, "%s|%s%s%s", n, server, more ? "|" : "", more ? more : "");
    msg(corr, base, at_ms, id, sev, istr);
}

static void get_as(const char *token, const char *path, resp *r)
{
    char auth[160];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    const char *h[] = {auth, NULL};
    http("GET", path, NULL, 0, h, r);
}

static void trace(const char *corr, resp *r)
{
    char path[300];
    snprintf(path, sizeof path, "/v1/trace/%s", corr);
    http("GET", path, NULL, 0, NULL, r);
    assert_int_equal(r->status, 200);
    assert_true(json_is_object(r->json));
}

/* The outcome text of server in a trace's summary ("" if absent). */
static const char *outcome(resp *r, const char *server, long long *attempts)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(r->json, "summary"), i, s) {
        if (strcmp(jstr(s, "serverName"), server) == 0) {
            if (attempts != NULL)
                *attempts = json_integer_value(json_object_get(s, "attempts"));
            return jstr(s, "outcome");
        }
    }
    return "";
}

static int dpctl(const char *args, char **out)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' --api '%s' %s 2>&1", DPCTL_BIN, g_api, args);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t cap = 1 << 20, n = 0, got;
    *out = malloc(cap);
    assert_non_null(*out);
    while ((got = fread(*out + n, 1, cap - 1 - n, f)) > 0)
        n += got;
    (*out)[n] = '\0';
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_malformed_and_unknown(void **state)
{
    (void)state;
    resp r;
    http("GET", "/v1/trace/0b7d3f6e-0000-4000-8000-000000000000", NULL, 0, NULL, &r);
    assert_json_error(&r, 404, "correlationId");
    assert_non_null(strstr(jstr(r.json, "error"), "0b7d3f6e-0000-4000-8000-000000000000"));
    resp_free(&r);
    http("GET", "/v1/trace/bad%20id", NULL, 0, NULL, &r);
    assert_json_error(&r, 400, "correlationId");
    resp_free(&r);
    http("GET", "/v1/trace/a;DROP%20TABLE%20trace_events", NULL, 0, NULL, &r);
    assert_json_error(&r, 400, "correlationId");
    resp_free(&r);
    char long_id[80];
    memset(long_id, 'a', 64);
    long_id[64] = '\0';
    char path[200];
    snprintf(path, sizeof path, "/v1/trace/%s", long_id);
    http("GET", path, NULL, 0, NULL, &r);
    assert_json_error(&r, 400, "correlationId");
    resp_free(&r);
    http("GET", "/v1/trace/some-id?limit=0", NULL, 0, NULL, &r);
    assert_json_error(&r, 400, "limit");
    resp_free(&r);
    http("GET", "/v1/trace/some-id?dp=X", NULL, 0, NULL, &r);
    assert_json_error(&r, 400, "dp");
    resp_free(&r);
    http("GET", "/v1/distributionpoints/not_a_host/history", NULL, 0, NULL, &r);
    assert_json_error(&r, 400, "serverName");
    resp_free(&r);
    http("GET", "/v1/distributionpoints/TR.CONTOSO.COM/history?limit=501", NULL, 0, NULL, &r);
    assert_json_error(&r, 400, "limit");
    resp_free(&r);
    /* the provider may read the audit rows it joins in (db/091_trace_read.sql) */
    assert_int_equal(dpf_test_num(g_db, "SELECT has_table_privilege('dpf_provider', 'audit_log', "
                                        "'SELECT')::int", 0, NULL), 1);
    char *out = NULL;
    assert_int_equal(dpctl("trace 0b7d3f6e-0000-4000-8000-000000000000", &out), 1);
    assert_non_null(strstr(out, "nothing was recorded"));
    free(out);
}

/* A DP added through the API (the real audit row) whose install fails at
 * create_shares, waits, is retried and ends Installed. */
static void test_install_failure_then_retry(void **state)
{
    (void)state;
    const char *dp = "TRDP1.CONTOSO.COM";
    resp r;
    post("{\"serverName\":\"trdp1.contoso.com\",\"siteCode\":\"PS1\"}", &r);
    assert_int_equal(r.status, 201);
    char corr[128];
    snprintf(corr, sizeof corr, "%s", r.corr);
    resp_free(&r);
    const char *p[] = {corr};
    /* after the provider's own rows of the action (its audit row, and the
     * trace row it writes itself) */
    char *base = sql_text("SELECT greatest((SELECT at FROM audit_log WHERE correlation_id = $1), "
                          " (SELECT max(at) FROM trace_events WHERE correlation_id = $1))::text",
                          1, p);
    size_t own = (size_t)dpf_test_num(g_db, "SELECT count(*) FROM trace_events "
                                            "WHERE correlation_id = $1", 1, p);
    ev(corr, base, 5, 0, "SMSDBMON", "", "", "", "SND sitecontrol.changed.PS1", "info",
       "RCV: UPDATE on SiteControl for SiteControl_AddUpd_HMAN [PS1]", NULL);
    ev(corr, base, 10, 0, "HMAN", dp, "change", "", "Inserted DP", "info", "Inserted DP", NULL);
    ev(corr, base, 20, 30, "DistMgr", dp, "install", "att-1", "install_files", "ok", "", "copied 3 files");
    ev(corr, base, 50, 9, "DistMgr", dp, "install", "att-1", "create_shares", "failed",
       "Failed to create share SMSSIG$ on server TRDP1.CONTOSO.COM",
       "~Successfully created share SMS_DP$ on server TRDP1.CONTOSO.COM\n"
       "~Successfully created share SCCMContentLib$ on server TRDP1.CONTOSO.COM");
    msg_dp(corr, base, 60, 2398, 'E', dp, "create_shares|Failed to create share SMSSIG$");

    trace(corr, &r);
    assert_string_equal(outcome(&r, dp, NULL),
                        "Failed at create_shares: Failed to create share SMSSIG$ on server "
                        "TRDP1.CONTOSO.COM");
    assert_string_equal(jstr(r.json, "user"), "CONTOSO\\Admin");
    json_t *e = json_object_get(r.json, "entries");
    size_t n = json_array_size(e);
    assert_int_equal(n, 6 + own);
    /* the audit row first (the provider), the status message last */
    assert_string_equal(jstr(json_array_get(e, 0), "source"), "audit");
    assert_string_equal(jstr(json_array_get(e, 0), "component"), "SMS Provider");
    assert_string_equal(jstr(json_array_get(e, 0), "serverName"), dp);
    assert_non_null(strstr(jstr(json_array_get(e, 0), "message"),
                           "User CONTOSO\\Admin created an instance of class SMS_SCI_SysResUse"));
    json_t *failed = json_array_get(e, n - 2);
    assert_string_equal(jstr(failed, "step"), "create_shares");
    assert_string_equal(jstr(failed, "result"), "failed");
    assert_string_equal(jstr(failed, "component"), "DistMgr");
    assert_int_equal(json_integer_value(json_object_get(failed, "durationMs")), 9);
    assert_int_equal(json_integer_value(json_object_get(failed, "tid")), 4788);
    assert_int_equal(json_array_size(json_object_get(failed, "agentLines")), 2);
    json_t *sm = json_array_get(e, n - 1);
    assert_string_equal(jstr(sm, "source"), "statmsg");
    assert_string_equal(jstr(sm, "component"), "DistMgr");
    assert_string_equal(jstr(sm, "serverName"), dp);
    assert_non_null(strstr(jstr(sm, "message"), "STATMSG: ID=2398 SEV=E"));
    resp_free(&r);

    /* waiting for the retry delay: the latest row decides */
    ev(corr, base, 70, 0, "DistMgr", dp, "install", "", "retry", "waiting",
       "retry of the install in 60 s (InstallRetryDelaySeconds)", NULL);
    trace(corr, &r);
    assert_string_equal(outcome(&r, dp, NULL),
                        "Waiting: retry of the install in 60 s (InstallRetryDelaySeconds)");
    resp_free(&r);

    /* the retry runs */
    ev(corr, base, 1000, 10, "DistMgr", dp, "install", "att-2", "install_files", "ok", "", NULL);
    ev(corr, base, 1010, 10, "DistMgr", dp, "install", "att-2", "create_shares", "ok", "",
       "~Successfully created share SMSSIG$ on server TRDP1.CONTOSO.COM");
    ev(corr, base, 1020, -1, "DistMgr", dp, "install", "att-2", "configure_vdirs", "running", "", NULL);
    trace(corr, &r);
    assert_non_null(strstr(outcome(&r, dp, NULL), "Still running: configure_vdirs since "));
    resp_free(&r);

    /* between two steps it is still running, not Installed */
    dpf_test_sql(g_db, "UPDATE trace_events SET result = 'ok', ended_at = at + interval '5 ms' "
                       "WHERE step = 'configure_vdirs' AND job_id = 'att-2'", 0, NULL);
    trace(corr, &r);
    assert_non_null(strstr(outcome(&r, dp, NULL), "Still running: install since "));
    resp_free(&r);

    ev(corr, base, 1030, 10, "DistMgr", dp, "install", "att-2", "write_settings", "ok", "", NULL);
    msg_dp(corr, base, 1045, 2399, 'I', dp, NULL);
    /* the default client package follows in the same action: the DP's
     * own job still decides, the package is listed beside it */
    ev(corr, base, 1050, 20, "DistMgr", dp, "distribute", "tok-9", "package CS100002 version 1",
       "ok", "", NULL);
    trace(corr, &r);
    long long attempts = 0;
    assert_string_equal(outcome(&r, dp, &attempts), "Installed");
    assert_int_equal(attempts, 2);
    json_t *jobs = json_object_get(json_array_get(json_object_get(r.json, "summary"), 0), "jobs");
    assert_int_equal(json_array_size(jobs), 2);
    assert_string_equal(jstr(json_array_get(jobs, 1), "job"),
                        "distribute: package CS100002 version 1");
    assert_string_equal(jstr(json_array_get(jobs, 1), "outcome"), "Distributed");
    /* the timeline still shows the failed attempt, and is in time order */
    e = json_object_get(r.json, "entries");
    int failed_seen = 0;
    const char *prev = "";
    size_t i;
    json_t *x;
    json_array_foreach(e, i, x) {
        assert_true(strcmp(prev, jstr(x, "time")) <= 0);
        prev = jstr(x, "time");
        failed_seen += strcmp(jstr(x, "result"), "failed") == 0 &&
                       strcmp(jstr(x, "source"), "trace") == 0;
    }
    assert_int_equal(failed_seen, 1);
    resp_free(&r);

    /* dpctl trace: one line per entry as the logs read, the outcome, the
     * failed step again with its reason and the agent's lines */
    char args[200], *out = NULL;
    snprintf(args, sizeof args, "trace %s", corr);
    assert_int_equal(dpctl(args, &out), 0);
    assert_non_null(strstr(out, "DistMgr      4788 (0x12b4)"));
    assert_non_null(strstr(out, "create_shares          FAILED"));
    assert_non_null(strstr(out, "TRDP1.CONTOSO.COM            Installed (2 attempts)"));
    assert_non_null(strstr(out, ">>> FAILED STEP create_shares on TRDP1.CONTOSO.COM"));
    assert_non_null(strstr(out, "Reason: Failed to create share SMSSIG$ on server"));
    assert_non_null(strstr(out, "      ~Successfully created share SCCMContentLib$ on server"));
    free(out);
    snprintf(args, sizeof args, "--json trace %s", corr);
    assert_int_equal(dpctl(args, &out), 0);
    json_t *j = json_loads(out, 0, NULL);
    assert_non_null(j);
    assert_string_equal(jstr(j, "correlationId"), corr);
    json_decref(j);
    free(out);
    free(base);
}

/* A site reset: one id, an outcome per DP by each rule. */
static void test_site_reset_outcomes(void **state)
{
    (void)state;
    const char *c = "{reset:PS1.7}";
    ev(c, BASE, 0, 0, "SMS Provider", "", "", "", "site reset", "info", "reset site PS1", NULL);
    /* A: done */
    ev(c, BASE, 10, 10, "DistMgr", "TRA.CONTOSO.COM", "upgrade", "a", "install_files", "ok", "", NULL);
    msg_dp(c, BASE, 25, 2399, 'I', "TRA.CONTOSO.COM", NULL);
    /* B: failed */
    ev(c, BASE, 11, 10, "DistMgr", "TRB.CONTOSO.COM", "upgrade", "b", "install_files", "ok", "", NULL);
    ev(c, BASE, 21, 10, "DistMgr", "TRB.CONTOSO.COM", "upgrade", "b", "configure_vdirs", "failed",
       "cannot write vdirs.conf", NULL);
    /* C: running */
    ev(c, BASE, 12, -1, "DistMgr", "TRC.CONTOSO.COM", "upgrade", "c", "write_settings", "running", "", NULL);
    /* D: waiting for a thread */
    ev(c, BASE, 13, 0, "DistMgr", "TRD.CONTOSO.COM", "upgrade", "", "wait", "waiting",
       "no free upgrade thread (50 of 50 busy)", NULL);
    /* E: known from its status message only */
    msg_dp(c, BASE, 30, 2398, 'E', "TRE.CONTOSO.COM", "enable_http|port in use");
    /* F: an attempt whose 2399 came before it started does not count */
    msg_dp(c, BASE, 0, 2399, 'I', "TRF.CONTOSO.COM", NULL);
    ev(c, BASE, 5000, 10, "DistMgr", "TRF.CONTOSO.COM", "upgrade", "f2", "install_files", "ok", "", NULL);
    resp r;
    trace(c, &r);
    assert_string_equal(outcome(&r, "TRA.CONTOSO.COM", NULL), "Installed");
    assert_string_equal(outcome(&r, "TRB.CONTOSO.COM", NULL),
                        "Failed at configure_vdirs: cannot write vdirs.conf");
    assert_string_equal(outcome(&r, "TRC.CONTOSO.COM", NULL),
                        "Still running: write_settings since 2026-12-01T10:00:00.012Z");
    assert_string_equal(outcome(&r, "TRD.CONTOSO.COM", NULL),
                        "Waiting: no free upgrade thread (50 of 50 busy)");
    assert_string_equal(outcome(&r, "TRE.CONTOSO.COM", NULL), "Failed at enable_http: port in use");
    assert_string_equal(outcome(&r, "TRF.CONTOSO.COM", NULL),
                        "Still running: upgrade since 2026-12-01T10:00:05.000Z");
    assert_int_equal(json_array_size(json_object_get(r.json, "summary")), 6);
    /* in server name order */
    assert_string_equal(jstr(json_array_get(json_object_get(r.json, "summary"), 0), "serverName"),
                        "TRA.CONTOSO.COM");
    resp_free(&r);

    /* limit cuts the timeline, never the summary */
    http("GET", "/v1/trace/%7Breset:PS1.7%7D?limit=2", NULL, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "entries")), 2);
    assert_true(json_is_true(json_object_get(r.json, "truncated")));
    assert_int_equal(json_array_size(json_object_get(r.json, "summary")), 6);
    resp_free(&r);
}

/* A package distribution: one content job per DP and package. */
static void test_distribution(void **state)
{
    (void)state;
    const char *c = "dist-test-1";
    ev(c, BASE, 0, 0, "SMS Provider", "", "", "", "package distribute", "info", "PS100001", NULL);
    ev(c, BASE, 10, 30, "DistMgr", "TRD1.CONTOSO.COM", "distribute", "t1",
       "package PS100001 version 1", "ok", "2 files, 10 bytes sent", NULL);
    msg_dp(c, BASE, 41, 2330, 'I', "TRD1.CONTOSO.COM", NULL);
    ev(c, BASE, 11, 30, "DistMgr", "TRD2.CONTOSO.COM", "distribute", "t2",
       "package PS100001 version 1", "failed", "disk full, file a.bin", "no space left on device");
    ev(c, BASE, 12, 0, "DistMgr", "TRD3.CONTOSO.COM", "distribute", "",
       "package PS100001 version 1", "waiting", "the DP is in maintenance mode", NULL);
    resp r;
    trace(c, &r);
    assert_string_equal(outcome(&r, "TRD1.CONTOSO.COM", NULL), "Distributed");
    assert_string_equal(outcome(&r, "TRD2.CONTOSO.COM", NULL),
                        "Failed at package PS100001 version 1: disk full, file a.bin");
    assert_string_equal(outcome(&r, "TRD3.CONTOSO.COM", NULL),
                        "Waiting: the DP is in maintenance mode");
    resp_free(&r);
    char *out = NULL;
    assert_int_equal(dpctl("trace dist-test-1", &out), 0);
    assert_non_null(strstr(out, ">>> FAILED STEP package PS100001 version 1 on TRD2.CONTOSO.COM"));
    assert_non_null(strstr(out, "      no space left on device"));
    free(out);
}

/* A removal lists its steps in the source's order and ends Removed. */
static void test_removal(void **state)
{
    (void)state;
    const char *c = "removal-test-1";
    const char *dp = "TRREM.CONTOSO.COM";
    static const char *const steps[] = {"remove_pxe", "remove_tasks", "remove_pulldp",
                                        "unregister_provider", "remove_shares", "remove_vdirs",
                                        "remove_settings"};
    msg_dp(c, BASE, 1, 2390, 'I', dp, NULL);
    for (int i = 6; i >= 0; i--) /* inserted backwards: the order is the times' */
        ev(c, BASE, 10 + 10 * i, 5, "DistMgr", dp, "remove", "r1", steps[i], "ok", "", NULL);
    resp r;
    trace(c, &r);
    assert_string_equal(outcome(&r, dp, NULL), "Still running: remove since 2026-12-01T10:00:00.010Z");
    resp_free(&r);
    msg_dp(c, BASE, 100, 2391, 'I', dp, NULL);
    trace(c, &r);
    assert_string_equal(outcome(&r, dp, NULL), "Removed");
    json_t *e = json_object_get(r.json, "entries");
    assert_int_equal(json_array_size(e), 9);
    for (int i = 0; i < 7; i++)
        assert_string_equal(jstr(json_array_get(e, (size_t)i + 1), "step"), steps[i]);
    resp_free(&r);
}

static void test_analyst_reads(void **state)
{
    (void)state;
    resp r;
    get_as(g_token[PH_READ], "/v1/trace/removal-test-1", &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    get_as(g_token[PH_READ], "/v1/distributionpoints/TRREM.CONTOSO.COM/history", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 1);
    resp_free(&r);
    const char *none[] = {"Authorization:", NULL};
    http("GET", "/v1/trace/removal-test-1", NULL, 0, none, &r);
    assert_int_equal(r.status, 401);
    resp_free(&r);
}

static void test_history(void **state)
{
    (void)state;
    const char *dp = "TRHIST.CONTOSO.COM";
    char corr[5][32];
    for (int i = 0; i < 5; i++) {
        snprintf(corr[i], sizeof corr[i], "hist-%d", i);
        int t = i * 60000;
        ev(corr[i], BASE, t, 10, "DistMgr", dp, i == 4 ? "remove" : "upgrade", "x", "first", "ok", "", NULL);
        if (i == 2)
            ev(corr[i], BASE, t + 20, 10, "DistMgr", dp, "upgrade", "x", "configure_pxe",
               "failed", "no TFTP", NULL);
        else if (i == 4)
            msg_dp(corr[i], BASE, t + 30, 2391, 'I', dp, NULL);
        else
            msg_dp(corr[i], BASE, t + 30, 2399, 'I', dp, NULL);
    }
    /* another DP's 2399 in the same action does not make this one Installed */
    msg_dp(corr[3], BASE, 10, 2399, 'I', "OTHER.CONTOSO.COM", NULL);
    resp r;
    http("GET", "/v1/distributionpoints/trhist.contoso.com/history?limit=2", NULL, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 2);
    json_t *j0 = json_array_get(r.json, 0), *j1 = json_array_get(r.json, 1);
    assert_string_equal(jstr(j0, "correlationId"), "hist-4");
    assert_string_equal(jstr(j0, "job"), "remove");
    assert_string_equal(jstr(j0, "outcome"), "Removed");
    assert_string_equal(jstr(j0, "startedAt"), "2026-12-01T10:04:00.000Z");
    assert_string_equal(jstr(j0, "endedAt"), "2026-12-01T10:04:00.030Z");
    assert_string_equal(jstr(j1, "correlationId"), "hist-3");
    assert_string_equal(jstr(j1, "outcome"), "Installed");
    resp_free(&r);
    http("GET", "/v1/distributionpoints/TRHIST.CONTOSO.COM/history", NULL, 0, NULL, &r);
    assert_int_equal(json_array_size(r.json), 5);
    assert_string_equal(jstr(json_array_get(r.json, 2), "outcome"), "Failed at configure_pxe: no TFTP");
    assert_true(json_is_null(json_object_get(json_array_get(r.json, 2), "endedAt")) ||
                json_is_string(json_object_get(json_array_get(r.json, 2), "endedAt")));
    assert_string_equal(jstr(json_array_get(r.json, 4), "correlationId"), "hist-0");
    resp_free(&r);
    http("GET", "/v1/distributionpoints/NOJOBS.CONTOSO.COM/history", NULL, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 0);
    resp_free(&r);
    char *out = NULL;
    assert_int_equal(dpctl("dp history TRHIST.CONTOSO.COM --limit 3", &out), 0);
    assert_non_null(strstr(out, "hist-4"));
    assert_non_null(strstr(out, "Failed at configure_pxe: no TFTP"));
    assert_null(strstr(out, "hist-1"));
    assert_true(strstr(out, "hist-4") < strstr(out, "hist-3"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_and_unknown),
        cmocka_unit_test(test_install_failure_then_retry),
        cmocka_unit_test(test_site_reset_outcomes),
        cmocka_unit_test(test_distribution),
        cmocka_unit_test(test_removal),
        cmocka_unit_test(test_analyst_reads),
        cmocka_unit_test(test_history),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

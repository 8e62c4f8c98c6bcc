/* lib/src/trace.c against the real PostgreSQL: the rows an administrator's
 * `dpctl trace` reads (trace_events, db/090_trace.sql). A point event and a
 * step carry who, where and when; a step's end belongs to the caller's
 * transaction (rolled back with it); texts from a host are cut to their
 * bounds and made valid UTF-8 without failing the caller's transaction;
 * bad arguments are refused; each service's database role may write what
 * it writes and the reader may not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dpf/db.h>
#include <dpf/log.h>
#include <dpf/trace.h>
#include <dpf/util.h>

#include "dpf_test.h"

static char url[1024];
static dpf_db *db;

static long long num(const char *q, int n, const char *const *p)
{
    return dpf_test_num(db, q, n, p);
}

/* One column of the row with id, as text, into buf. */
static const char *col(long long id, const char *expr, char *buf, size_t len)
{
    char sid[24], q[512];
    snprintf(sid, sizeof sid, "%lld", id);
    snprintf(q, sizeof q, "SELECT (%s)::text FROM trace_events WHERE id = $1::bigint", expr);
    const char *p[] = {sid};
    buf[0] = '\0';
    if (dpf_db_exec_text(db, q, 1, p, buf, len) != DPF_OK)
        fail_msg("%s of row %lld: %s", expr, id, dpf_db_error(db));
    return buf;
}

static long long last_id(void)
{
    return num("SELECT max(id) FROM trace_events", 0, NULL);
}

static int group_setup(void **state)
{
    (void)state;
    dpf_log_init("TEST_TRACE");
    setenv("DPFLEET_REPLICA_NAME", "distmgr-7", 1);
    if (dpf_test_db_create("trace", url, sizeof url) != 0)
        return -1;
    return dpf_db_connect(url, &db) == DPF_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    dpf_db_destroy(db);
    dpf_test_db_drop("trace");
    return 0;
}

static void test_event_carries_who_where_when(void **state)
{
    (void)state;
    char buf[256], tid[24];
    dpf_log_set_corr("9898210c-b772-4045-8b75-5d323f6e17e6");
    dpf_trace_who who = {.component = DPF_TRACE_PROVIDER, .server = "PS1DP1.CONTOSO.COM",
                         .job = "change"};
    assert_int_equal(dpf_trace_event(db, &who, "DP add", NULL, "CONTOSO\\Admin added the DP"),
                     DPF_OK);
    long long id = last_id();
    assert_string_equal(col(id, "correlation_id", buf, sizeof buf),
                        "9898210c-b772-4045-8b75-5d323f6e17e6");
    assert_string_equal(col(id, "component", buf, sizeof buf), "SMS Provider");
    assert_string_equal(col(id, "server_name", buf, sizeof buf), "PS1DP1.CONTOSO.COM");
    assert_string_equal(col(id, "dpid IS NULL", buf, sizeof buf), "true");
    assert_string_equal(col(id, "job", buf, sizeof buf), "change");
    assert_string_equal(col(id, "step", buf, sizeof buf), "DP add");
    assert_string_equal(col(id, "result", buf, sizeof buf), "info");
    assert_string_equal(col(id, "message", buf, sizeof buf), "CONTOSO\\Admin added the DP");
    assert_string_equal(col(id, "replica", buf, sizeof buf), "distmgr-7");
    snprintf(tid, sizeof tid, "%llu", (unsigned long long)dpf_log_tid());
    assert_string_equal(col(id, "tid", buf, sizeof buf), tid);
    assert_string_equal(col(id, "ended_at = at AND at > now() - interval '1 minute'", buf,
                            sizeof buf), "true");

    /* an explicit correlation id wins over the thread's; a waiting DP */
    dpf_trace_who w2 = {.corr = "c-explicit", .component = DPF_TRACE_DISTMGR, .dpid = 42,
                        .server = "PS1DP2.CONTOSO.COM", .job = "distribute", .job_id = "j-1"};
    assert_int_equal(dpf_trace_event(db, &w2, "content", DPF_TRACE_WAITING,
                                     "the DP is in maintenance mode"), DPF_OK);
    id = last_id();
    assert_string_equal(col(id, "correlation_id", buf, sizeof buf), "c-explicit");
    assert_string_equal(col(id, "dpid", buf, sizeof buf), "42");
    assert_string_equal(col(id, "job_id", buf, sizeof buf), "j-1");
    assert_string_equal(col(id, "result", buf, sizeof buf), "waiting");
    dpf_log_set_corr(NULL);
}

static void test_step_start_and_finish(void **state)
{
    (void)state;
    char buf[512];
    dpf_trace_who who = {.corr = "c-step", .component = DPF_TRACE_DISTMGR, .dpid = 7,
                         .server = "PS1DP1.CONTOSO.COM", .job = "install", .job_id = "r/u-1"};
    long long id = 0;
    assert_int_equal(dpf_trace_step_start(db, &who, "create_shares", &id), DPF_OK);
    assert_true(id > 0);
    assert_string_equal(col(id, "result", buf, sizeof buf), "running");
    assert_string_equal(col(id, "ended_at IS NULL", buf, sizeof buf), "true");

    assert_int_equal(dpf_trace_step_finish(db, id, DPF_TRACE_FAILED, "disk full",
                                           "Creating share SMS_DP$\n\nNo space left on device\n"),
                     DPF_OK);
    assert_string_equal(col(id, "result", buf, sizeof buf), "failed");
    assert_string_equal(col(id, "message", buf, sizeof buf), "disk full");
    assert_string_equal(col(id, "array_to_string(agent_lines, '|')", buf, sizeof buf),
                        "Creating share SMS_DP$|No space left on device");
    assert_string_equal(col(id, "ended_at >= at", buf, sizeof buf), "true");

    /* a finish without lines leaves an empty array, not NULL */
    assert_int_equal(dpf_trace_step_start(db, &who, "enable_http", &id), DPF_OK);
    assert_int_equal(dpf_trace_step_finish(db, id, DPF_TRACE_OK, NULL, NULL), DPF_OK);
    assert_string_equal(col(id, "cardinality(agent_lines)", buf, sizeof buf), "0");
    assert_string_equal(col(id, "message", buf, sizeof buf), "");
}

/* A job between two steps: the previous step ends and the next starts in
 * one statement; the first step of a job has no previous one. */
static void test_step_next(void **state)
{
    (void)state;
    char buf[512];
    dpf_trace_who who = {.corr = "c-next", .component = DPF_TRACE_DISTMGR, .dpid = 8,
                         .server = "PS1DP2.CONTOSO.COM", .job = "upgrade", .job_id = "r/u-2"};
    long long first = 0, second = 0, third = 0;
    assert_int_equal(dpf_trace_step_next(db, 0, DPF_TRACE_OK, NULL, NULL, &who, "install_files",
                                         &first),
                     DPF_OK);
    assert_true(first > 0);
    assert_string_equal(col(first, "result", buf, sizeof buf), "running");
    assert_int_equal(dpf_trace_step_next(db, first, DPF_TRACE_OK, NULL, "5 files in place\n",
                                         &who, "create_shares", &second),
                     DPF_OK);
    assert_true(second > first);
    assert_string_equal(col(first, "result", buf, sizeof buf), "ok");
    assert_string_equal(col(first, "ended_at IS NOT NULL", buf, sizeof buf), "true");
    assert_string_equal(col(first, "array_to_string(agent_lines, '|')", buf, sizeof buf),
                        "5 files in place");
    assert_string_equal(col(second, "step", buf, sizeof buf), "create_shares");
    assert_string_equal(col(second, "ended_at IS NULL", buf, sizeof buf), "true");
    assert_int_equal(dpf_trace_step_next(db, second, DPF_TRACE_FAILED, "access denied",
                                         "Creating share SMS_DP$\nAccess is denied\n", &who,
                                         "enable_http", &third),
                     DPF_OK);
    assert_string_equal(col(second, "result", buf, sizeof buf), "failed");
    assert_string_equal(col(second, "message", buf, sizeof buf), "access denied");
    assert_string_equal(col(second, "array_to_string(agent_lines, '|')", buf, sizeof buf),
                        "Creating share SMS_DP$|Access is denied");
    assert_string_equal(col(third, "result", buf, sizeof buf), "running");
    assert_string_equal(col(third, "job_id", buf, sizeof buf), "r/u-2");
    /* a bad previous result writes neither row */
    long long none = 1;
    assert_int_equal(dpf_trace_step_next(db, third, "bogus", NULL, NULL, &who, "x", &none),
                     DPF_ERR_INVALID);
    assert_int_equal(none, 0);
    assert_string_equal(col(third, "result", buf, sizeof buf), "running");
}

/* DistMgr's step: the DP's lease renewed in the same statement, the DP's
 * action read; once the job no longer holds the lease the previous step
 * still ends but no step starts and the lease is left alone. */
static void test_step_next_leased(void **state)
{
    (void)state;
    char buf[512];
    const char *dp[] = {"PS1DPL.CONTOSO.COM"};
    long long dpid = num("INSERT INTO distribution_points (server_name, nal_path, site_code, "
                         "identity_guid, dp_crc, install_state, action, lease_owner, lease_until) "
                         "VALUES ($1, 'nal:' || $1, 'PS1', md5($1), 'ABC', 'Installing', 1, "
                         "'r/job-1', now() + interval '5 seconds') RETURNING dpid", 1, dp);
    dpf_trace_who who = {.corr = "c-leased", .component = DPF_TRACE_DISTMGR, .dpid = dpid,
                         .server = dp[0], .job = "install", .job_id = "r/job-1"};
    long long first = 0, second = 0;
    int action = -1;
    assert_int_equal(dpf_trace_step_next_leased(db, 0, DPF_TRACE_OK, NULL, NULL, &who,
                                                "install_files", "r/job-1", 600, &first,
                                                &action), DPF_OK);
    assert_true(first > 0);
    assert_int_equal(action, 1);
    assert_string_equal(col(first, "step || '|' || result", buf, sizeof buf),
                        "install_files|running");
    /* renewed: the lease now runs about ten minutes, not five seconds */
    const char *ps[] = {dp[0]};
    assert_int_equal(num("SELECT (lease_until > now() + interval '590 seconds')::int FROM "
                         "distribution_points WHERE server_name = $1", 1, ps), 1);

    /* the DP is being removed: the job reads it from the same statement */
    dpf_test_sql(db, "UPDATE distribution_points SET action = 3 WHERE server_name = $1", 1, ps);
    assert_int_equal(dpf_trace_step_next_leased(db, first, DPF_TRACE_OK, NULL, "in place\n",
                                                &who, "create_shares", "r/job-1", 600, &second,
                                                &action), DPF_OK);
    assert_int_equal(action, 3);
    assert_string_equal(col(first, "result", buf, sizeof buf), "ok");

    /* another job took the lease over: not found, nothing started, the
     * other job's lease untouched */
    dpf_test_sql(db, "UPDATE distribution_points SET lease_owner = 'r/job-2', lease_until = "
                     "now() + interval '5 seconds' WHERE server_name = $1", 1, ps);
    long long before = last_id(), third = 7;
    assert_int_equal(dpf_trace_step_next_leased(db, second, DPF_TRACE_FAILED, "lost", NULL, &who,
                                                "enable_http", "r/job-1", 600, &third, &action),
                     DPF_ERR_NOT_FOUND);
    assert_int_equal(third, 0);
    assert_int_equal(last_id(), before);
    assert_string_equal(col(second, "result", buf, sizeof buf), "failed");
    assert_int_equal(num("SELECT (lease_until < now() + interval '10 seconds')::int FROM "
                         "distribution_points WHERE server_name = $1", 1, ps), 1);
    /* a lease needs its DP and its length */
    dpf_trace_who nodp = who;
    nodp.dpid = 0;
    assert_int_equal(dpf_trace_step_next_leased(db, 0, DPF_TRACE_OK, NULL, NULL, &nodp, "x",
                                                "r/job-1", 600, &third, &action),
                     DPF_ERR_INVALID);
    assert_int_equal(dpf_trace_step_next_leased(db, 0, DPF_TRACE_OK, NULL, NULL, &who, "x",
                                                NULL, 600, &third, &action),
                     DPF_ERR_INVALID);
    dpf_test_sql(db, "DELETE FROM distribution_points WHERE server_name = $1", 1, ps);
}

static void test_rolled_back_with_the_caller(void **state)
{
    (void)state;
    char buf[64];
    dpf_trace_who who = {.corr = "c-rollback", .component = DPF_TRACE_DISTMGR};
    long long id = 0;
    assert_int_equal(dpf_trace_step_start(db, &who, "remove_shares", &id), DPF_OK);
    assert_int_equal(dpf_db_begin(db), DPF_OK);
    assert_int_equal(dpf_trace_step_finish(db, id, DPF_TRACE_OK, NULL, "done"), DPF_OK);
    assert_int_equal(dpf_trace_event(db, &who, "3306", NULL, "processed"), DPF_OK);
    dpf_db_rollback(db);
    assert_string_equal(col(id, "result", buf, sizeof buf), "running");
    const char *p[] = {"c-rollback"};
    assert_int_equal(num("SELECT count(*) FROM trace_events WHERE correlation_id = $1", 1, p), 1);
}

static void test_texts_are_bounded_and_valid(void **state)
{
    (void)state;
    char buf[64];
    dpf_trace_who who = {.corr = "c-bounds", .component = DPF_TRACE_DISTMGR};
    /* 3000 'é', invalid bytes, a cut sequence */
    size_t n = 3000 * 2 + 16;
    char *msg = malloc(n);
    assert_non_null(msg);
    size_t o = 0;
    for (int i = 0; i < 3000; i++) {
        msg[o++] = (char)0xC3;
        msg[o++] = (char)0xA9;
    }
    msg[o] = '\0';
    char bad[] = {'o', 'k', (char)0xFF, (char)0xC3, 'x', (char)0xED, (char)0xA0, (char)0x80, 0};
    /* 150 lines of 700 characters */
    size_t ln = 150 * 701 + 1;
    char *lines = malloc(ln);
    assert_non_null(lines);
    o = 0;
    for (int i = 0; i < 150; i++) {
        memset(lines + o, 'a' + i % 26, 700);
        o += 700;
        lines[o++] = '\n';
    }
    lines[o] = '\0';

    assert_int_equal(dpf_db_begin(db), DPF_OK);
    long long id = 0;
    assert_int_equal(dpf_trace_step_start(db, &who, bad, &id), DPF_OK);
    assert_int_equal(dpf_trace_step_finish(db, id, DPF_TRACE_FAILED, msg, lines), DPF_OK);
    assert_int_equal(dpf_trace_event(db, &who, "note", NULL, bad), DPF_OK);
    /* the caller's transaction is still good */
    assert_int_equal(dpf_db_commit(db), DPF_OK);

    assert_string_equal(col(id, "step", buf, sizeof buf), "ok??x???");
    assert_string_equal(col(id, "char_length(message)", buf, sizeof buf), "2000");
    assert_string_equal(col(id, "left(message, 2)", buf, sizeof buf), "\xc3\xa9\xc3\xa9");
    assert_string_equal(col(id, "cardinality(agent_lines)", buf, sizeof buf), "100");
    assert_string_equal(col(id, "char_length(agent_lines[1])", buf, sizeof buf), "500");
    assert_string_equal(col(id, "left(agent_lines[1], 1) || left(agent_lines[100], 1)", buf,
                            sizeof buf), "av");
    assert_string_equal(col(last_id(), "message", buf, sizeof buf), "ok??x???");
    free(msg);
    free(lines);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    dpf_trace_who who = {.corr = "c-bad"};
    long long id = 99;
    long long before = last_id();
    assert_int_equal(dpf_trace_event(NULL, &who, "s", NULL, NULL), DPF_ERR_INVALID);
    assert_int_equal(dpf_trace_event(db, NULL, "s", NULL, NULL), DPF_ERR_INVALID);
    assert_int_equal(dpf_trace_event(db, &who, NULL, NULL, NULL), DPF_ERR_INVALID);
    assert_int_equal(dpf_trace_event(db, &who, "s", "done", NULL), DPF_ERR_INVALID);
    assert_int_equal(dpf_trace_step_start(db, &who, NULL, &id), DPF_ERR_INVALID);
    assert_int_equal(id, 0);
    assert_int_equal(dpf_trace_step_start(db, &who, "s", NULL), DPF_ERR_INVALID);
    assert_int_equal(dpf_trace_step_start(NULL, &who, "s", &id), DPF_ERR_INVALID);
    assert_int_equal(dpf_trace_step_finish(NULL, 1, DPF_TRACE_OK, NULL, NULL), DPF_ERR_INVALID);
    assert_int_equal(dpf_trace_step_finish(db, 1, NULL, NULL, NULL), DPF_ERR_INVALID);
    assert_int_equal(dpf_trace_step_finish(db, 1, "maybe", NULL, NULL), DPF_ERR_INVALID);
    /* a start that was not recorded: nothing to finish */
    assert_int_equal(dpf_trace_step_finish(db, 0, DPF_TRACE_OK, NULL, NULL), DPF_OK);
    assert_int_equal(dpf_trace_step_finish(db, before + 1000, DPF_TRACE_OK, NULL, NULL),
                     DPF_ERR_NOT_FOUND);
    assert_int_equal(last_id(), before);
}

/* The _tx variants: a row that cannot be written never fails the caller's
 * transaction; the state it belongs to commits without it. */
static void test_guarded_rows_never_fail_the_caller(void **state)
{
    (void)state;
    char buf[64];
    dpf_trace_who who = {.corr = "c-guarded", .component = DPF_TRACE_DISTMGR};
    long long id = 0;
    assert_int_equal(dpf_trace_step_start(db, &who, "configure_pxe", &id), DPF_OK);
    dpf_test_sql(db, "CREATE TABLE guarded_state (v int)", 0, NULL);
    dpf_test_sql(db, "CREATE FUNCTION trace_broken() RETURNS trigger LANGUAGE plpgsql AS $$ "
                     "BEGIN RAISE EXCEPTION 'the timeline is broken'; END $$", 0, NULL);
    dpf_test_sql(db, "CREATE TRIGGER trace_broken BEFORE INSERT OR UPDATE ON trace_events "
                     "FOR EACH ROW EXECUTE FUNCTION trace_broken()", 0, NULL);

    assert_int_equal(dpf_db_begin(db), DPF_OK);
    dpf_test_sql(db, "INSERT INTO guarded_state VALUES (1)", 0, NULL);
    assert_int_equal(dpf_trace_step_finish_tx(db, id, DPF_TRACE_OK, NULL, "x"), DPF_OK);
    assert_int_equal(dpf_trace_event_tx(db, &who, "done", NULL, "m"), DPF_OK);
    dpf_test_sql(db, "INSERT INTO guarded_state VALUES (2)", 0, NULL);
    assert_int_equal(dpf_db_commit(db), DPF_OK);
    assert_int_equal(num("SELECT count(*) FROM guarded_state", 0, NULL), 2);
    assert_string_equal(col(id, "result", buf, sizeof buf), "running");
    /* outside a transaction too */
    assert_int_equal(dpf_trace_event_tx(db, &who, "done", NULL, "m"), DPF_OK);
    const char *p[] = {"c-guarded"};
    assert_int_equal(num("SELECT count(*) FROM trace_events WHERE correlation_id = $1", 1, p), 1);

    /* once the timeline works again the same calls write their rows */
    dpf_test_sql(db, "DROP TRIGGER trace_broken ON trace_events", 0, NULL);
    assert_int_equal(dpf_db_begin(db), DPF_OK);
    assert_int_equal(dpf_trace_step_finish_tx(db, id, DPF_TRACE_OK, NULL, "x"), DPF_OK);
    assert_int_equal(dpf_trace_event_tx(db, &who, "done", NULL, "m"), DPF_OK);
    assert_int_equal(dpf_db_commit(db), DPF_OK);
    assert_int_equal(dpf_trace_event_tx(db, &who, "done again", NULL, "m"), DPF_OK);
    assert_string_equal(col(id, "result", buf, sizeof buf), "ok");
    assert_int_equal(num("SELECT count(*) FROM trace_events WHERE correlation_id = $1", 1, p), 3);
    assert_int_equal(dpf_trace_step_finish_tx(db, 0, DPF_TRACE_OK, NULL, NULL), DPF_OK);
    assert_int_equal(dpf_trace_event_tx(NULL, &who, "x", NULL, NULL), DPF_ERR_INVALID);
}

/* A batch: the rows in the order added, in one statement, with who and
 * the texts as single rows would have them; truncate forgets the last. */
static void test_batch(void **state)
{
    (void)state;
    char buf[512];
    dpf_trace_batch *b = NULL;
    assert_int_equal(dpf_trace_batch_create(&b), DPF_OK);
    dpf_trace_who w1 = {.corr = "c-batch", .component = DPF_TRACE_HMAN, .dpid = 11,
                        .server = "PS1DP1.CONTOSO.COM", .job = "change"};
    dpf_trace_who w2 = {.corr = "c-batch", .component = DPF_TRACE_HMAN, .job = "change"};
    char bad[] = {'x', (char)0xFF, '"', '\\', 0};
    assert_int_equal(dpf_trace_batch_add(b, &w1, "Inserted DP", NULL, bad), DPF_OK);
    assert_int_equal(dpf_trace_batch_add(b, &w2, "DPs unchanged", DPF_TRACE_INFO, "4 DPs"),
                     DPF_OK);
    assert_int_equal(dpf_trace_batch_add(b, &w1, "rolled back", DPF_TRACE_FAILED, "x"), DPF_OK);
    assert_int_equal(dpf_trace_batch_add(b, &w1, "x", "nonsense", "x"), DPF_ERR_INVALID);
    assert_int_equal(dpf_trace_batch_count(b), 3);
    dpf_trace_batch_truncate(b, 2);
    assert_int_equal(dpf_trace_batch_count(b), 2);
    assert_int_equal(dpf_db_begin(db), DPF_OK);
    assert_int_equal(dpf_trace_batch_write_tx(db, b), DPF_OK);
    assert_int_equal(dpf_db_commit(db), DPF_OK);
    assert_int_equal(dpf_trace_batch_count(b), 0);
    assert_int_equal(dpf_trace_batch_write_tx(db, b), DPF_OK); /* empty: nothing */
    const char *p[] = {"c-batch"};
    assert_int_equal(dpf_db_exec_text(db, "SELECT string_agg(step || '|' || coalesce(dpid::text, "
                                          "'-') || '|' || server_name || '|' || result || '|' || "
                                          "message || '|' || replica || '|' || (tid > 0) || '|' "
                                          "|| (ended_at = at), ';' ORDER BY id) FROM "
                                          "trace_events WHERE correlation_id = $1",
                                      1, p, buf, sizeof buf),
                     DPF_OK);
    assert_string_equal(buf, "Inserted DP|11|PS1DP1.CONTOSO.COM|info|x?\"\\|distmgr-7|true|true;"
                             "DPs unchanged|-||info|4 DPs|distmgr-7|true|true");
    dpf_trace_batch_destroy(b);
    dpf_trace_batch_destroy(NULL);
    assert_int_equal(dpf_trace_batch_add(NULL, &w1, "x", NULL, NULL), DPF_ERR_INVALID);
    assert_int_equal(dpf_trace_batch_create(NULL), DPF_ERR_INVALID);
}

/* Runs f as role in a transaction that is rolled back: its status. */
static dpf_status as_role(const char *role, dpf_status (*f)(void))
{
    char set[64];
    snprintf(set, sizeof set, "SET LOCAL ROLE %s", role);
    assert_int_equal(dpf_db_begin(db), DPF_OK);
    dpf_test_sql(db, set, 0, NULL);
    dpf_status st = f();
    dpf_db_rollback(db);
    return st;
}

static dpf_status write_event(void)
{
    dpf_trace_who who = {.corr = "c-role"};
    return dpf_trace_event(db, &who, "s", NULL, "m");
}

static dpf_status write_step(void)
{
    dpf_trace_who who = {.corr = "c-role"};
    long long id = 0;
    dpf_status st = dpf_trace_step_start(db, &who, "s", &id);
    return st != DPF_OK ? st : dpf_trace_step_finish(db, id, DPF_TRACE_OK, NULL, "line");
}

static dpf_status retention_delete(void)
{
    return dpf_db_exec(db, "DELETE FROM trace_events WHERE at < now() - interval '30 days'", 0,
                       NULL, NULL);
}

static void test_roles(void **state)
{
    (void)state;
    assert_int_equal(as_role("dpf_provider", write_event), DPF_OK);
    assert_int_equal(as_role("dpf_hman", write_event), DPF_OK);
    assert_int_equal(as_role("dpf_dbmon", write_event), DPF_OK);
    assert_int_equal(as_role("dpf_distmgr", write_step), DPF_OK);
    assert_int_equal(as_role("dpf_dbmon", retention_delete), DPF_OK);
    /* the others do not finish steps nor delete the story */
    assert_int_equal(as_role("dpf_provider", write_step), DPF_ERR_DB);
    assert_int_equal(as_role("dpf_hman", write_step), DPF_ERR_DB);
    assert_int_equal(as_role("dpf_distmgr", retention_delete), DPF_ERR_DB);
    assert_int_equal(as_role("dpf_reader", write_event), DPF_ERR_DB);
    assert_int_equal(as_role("dpf_reader", retention_delete), DPF_ERR_DB);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_carries_who_where_when),
        cmocka_unit_test(test_step_start_and_finish),
        cmocka_unit_test(test_step_next),
        cmocka_unit_test(test_step_next_leased),
        cmocka_unit_test(test_rolled_back_with_the_caller),
        cmocka_unit_test(test_texts_are_bounded_and_valid),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_guarded_rows_never_fail_the_caller),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_roles),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

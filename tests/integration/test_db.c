/* db against a real PostgreSQL: parameters stored literally, SQLSTATE
 * mapping, transactions, migrations, LISTEN/NOTIFY and reconnects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <dpf/db.h>
#include <dpf/log.h>
#include <dpf/util.h>

#include "dpf_test.h"

static char url[1024];

typedef struct fixture {
    dpf_db *db;
} fixture;

static int group_setup(void **state)
{
    dpf_log_init("TEST_DB");
    if (dpf_test_db_create("test_db", url, sizeof url) != 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    dpf_test_db_drop("test_db");
    return 0;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(dpf_db_connect(url, &f->db), DPF_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    dpf_db_destroy(f->db);
    free(f);
    return 0;
}

static void exec_ok(dpf_db *db, const char *sql)
{
    dpf_status st = dpf_db_exec(db, sql, 0, NULL, NULL);
    if (st != DPF_OK)
        fail_msg("%s: %s (%s)", sql, dpf_status_text(st), dpf_db_error(db));
}

static void test_params_are_literal(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, "CREATE TABLE lit (id int PRIMARY KEY, v text)");
    static const char *const values[] = {
        "Robert'); DROP TABLE lit;--",
        "$1 $2 \\ \\\\ \" '' ; -- /* */",
        "[\"Display=\\\\PS1DP1.CONTOSO.COM\\\"]MSWNET:[\"SMS_SITE=PS1\"]\\\\PS1DP1.CONTOSO.COM\\",
        "\xc3\xa9t\xc3\xa9 \xe2\x82\xac",
    };
    for (int i = 0; i < 4; i++) {
        char id[8];
        snprintf(id, sizeof id, "%d", i);
        const char *p[2] = {id, values[i]};
        assert_int_equal(dpf_db_exec(f->db, "INSERT INTO lit (id, v) VALUES ($1, $2)", 2, p, NULL),
                         DPF_OK);
    }
    dpf_db_result *r = NULL;
    assert_int_equal(dpf_db_exec(f->db, "SELECT id, v FROM lit ORDER BY id", 0, NULL, &r), DPF_OK);
    assert_int_equal(dpf_db_result_rows(r), 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(dpf_db_result_int(r, i, 0), i);
        assert_string_equal(dpf_db_result_get(r, i, 1), values[i]);
    }
    dpf_db_result_free(r);
}

static void test_nulls_and_result_helpers(void **state)
{
    fixture *f = *state;
    const char *p[2] = {NULL, "7"};
    dpf_db_result *r = NULL;
    assert_int_equal(dpf_db_exec(f->db, "SELECT $1::text AS a, $2::bigint AS b, true AS t, "
                                        "false AS f", 2, p, &r), DPF_OK);
    assert_int_equal(dpf_db_result_rows(r), 1);
    assert_true(dpf_db_result_isnull(r, 0, 0));
    assert_string_equal(dpf_db_result_get(r, 0, 0), "");
    assert_int_equal(dpf_db_result_int(r, 0, 0), 0);
    assert_int_equal(dpf_db_result_col(r, "b"), 1);
    assert_int_equal(dpf_db_result_col(r, "nope"), -1);
    assert_int_equal(dpf_db_result_int(r, 0, dpf_db_result_col(r, "b")), 7);
    assert_int_equal(dpf_db_result_int(r, 0, 2), 1);
    assert_int_equal(dpf_db_result_int(r, 0, 3), 0);
    /* out of range reads are harmless */
    assert_string_equal(dpf_db_result_get(r, 5, 0), "");
    assert_string_equal(dpf_db_result_get(r, 0, 9), "");
    assert_true(dpf_db_result_isnull(r, -1, 0));
    dpf_db_result_free(r);
    dpf_db_result_free(NULL);
    assert_int_equal(dpf_db_result_rows(NULL), 0);
}

static void test_conflict_and_errors(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, "CREATE TABLE uniq (k text PRIMARY KEY)");
    const char *p[1] = {"PS1"};
    assert_int_equal(dpf_db_exec(f->db, "INSERT INTO uniq VALUES ($1)", 1, p, NULL), DPF_OK);
    assert_int_equal(dpf_db_exec(f->db, "INSERT INTO uniq VALUES ($1)", 1, p, NULL),
                     DPF_ERR_CONFLICT);
    assert_string_equal(dpf_db_sqlstate(f->db), "23505");
    assert_non_null(strstr(dpf_db_error(f->db), "duplicate key"));
    /* a following success clears the error */
    assert_int_equal(dpf_db_exec(f->db, "SELECT 1", 0, NULL, NULL), DPF_OK);
    assert_string_equal(dpf_db_sqlstate(f->db), "");
    assert_string_equal(dpf_db_error(f->db), "");

    assert_int_equal(dpf_db_exec(f->db, "SELEC 1", 0, NULL, NULL), DPF_ERR_DB);
    assert_string_equal(dpf_db_sqlstate(f->db), "42601");
    /* the check constraint on sites.site_code */
    const char *bad[3] = {"ps1!", "x", "y"};
    assert_int_equal(dpf_db_exec(f->db, "INSERT INTO sites VALUES ($1, $2, $3)", 3, bad, NULL),
                     DPF_ERR_DB);
    assert_string_equal(dpf_db_sqlstate(f->db), "23514");
}

static long long count(dpf_db *db, const char *sql)
{
    dpf_db_result *r = NULL;
    assert_int_equal(dpf_db_exec(db, sql, 0, NULL, &r), DPF_OK);
    long long n = dpf_db_result_int(r, 0, 0);
    dpf_db_result_free(r);
    return n;
}

static void test_transactions(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, "CREATE TABLE tx (v int)");
    assert_int_equal(dpf_db_begin(f->db), DPF_OK);
    exec_ok(f->db, "INSERT INTO tx VALUES (1)");
    dpf_db_rollback(f->db);
    assert_int_equal(count(f->db, "SELECT count(*) FROM tx"), 0);

    assert_int_equal(dpf_db_begin(f->db), DPF_OK);
    exec_ok(f->db, "INSERT INTO tx VALUES (2)");
    assert_int_equal(dpf_db_commit(f->db), DPF_OK);
    assert_int_equal(count(f->db, "SELECT count(*) FROM tx"), 1);

    /* COMMIT after a failed statement is a rollback and reported as such */
    assert_int_equal(dpf_db_begin(f->db), DPF_OK);
    exec_ok(f->db, "INSERT INTO tx VALUES (3)");
    assert_int_equal(dpf_db_exec(f->db, "SELECT 1/0", 0, NULL, NULL), DPF_ERR_DB);
    assert_int_equal(dpf_db_commit(f->db), DPF_ERR_DB);
    assert_int_equal(count(f->db, "SELECT count(*) FROM tx"), 1);
    /* rollback outside a transaction is harmless */
    dpf_db_rollback(f->db);
}

static void test_migrate_twice_is_noop(void **state)
{
    fixture *f = *state;
    long long before = count(f->db, "SELECT count(*) FROM schema_migrations");
    assert_true(before >= 1);
    assert_int_equal(count(f->db, "SELECT count(*) FROM schema_migrations "
                                  "WHERE version = '001_init.sql'"), 1);
    assert_int_equal(dpf_db_migrate(f->db, DPF_SOURCE_DIR "/db"), DPF_OK);
    assert_int_equal(dpf_db_migrate(f->db, DPF_SOURCE_DIR "/db"), DPF_OK);
    assert_int_equal(count(f->db, "SELECT count(*) FROM schema_migrations"), before);
    /* seed rows were not inserted twice */
    assert_int_equal(count(f->db, "SELECT count(*) FROM sites"), 1);
    assert_int_equal(dpf_db_migrate(f->db, "/nonexistent/dir"), DPF_ERR_NOT_FOUND);
}

static void test_listen_notify(void **state)
{
    fixture *f = *state;
    dpf_db *other = NULL;
    assert_int_equal(dpf_db_connect(url, &other), DPF_OK);
    assert_int_equal(dpf_db_listen(f->db, "dpf_outbox"), DPF_OK);
    assert_int_equal(dpf_db_listen(f->db, "odd \"channel\""), DPF_OK);

    int64_t t0 = dpf_mono_us();
    assert_int_equal(dpf_db_wait_notify(f->db, 200), DPF_ERR_TIMEOUT);
    assert_true(dpf_mono_us() - t0 >= 190000);

    /* several notifications that have arrived are one wake-up (all drained),
     * then it is quiet again */
    const char *p[1] = {"dpf_outbox"};
    for (int i = 0; i < 3; i++)
        assert_int_equal(dpf_db_exec(other, "SELECT pg_notify($1, '')", 1, p, NULL), DPF_OK);
    usleep(200000);
    assert_int_equal(dpf_db_wait_notify(f->db, 5000), DPF_OK);
    assert_int_equal(dpf_db_wait_notify(f->db, 100), DPF_ERR_TIMEOUT);

    const char *q[1] = {"odd \"channel\""};
    assert_int_equal(dpf_db_exec(other, "SELECT pg_notify($1, 'x')", 1, q, NULL), DPF_OK);
    assert_int_equal(dpf_db_wait_notify(f->db, 5000), DPF_OK);

    /* the outbox trigger wakes a listener and carries the correlation id */
    assert_int_equal(dpf_db_begin(other), DPF_OK);
    assert_int_equal(dpf_db_set_corr(other, "corr-test-db"), DPF_OK);
    exec_ok(other, "UPDATE site_control SET serial = serial + 1 WHERE site_code = 'PS1'");
    assert_int_equal(dpf_db_commit(other), DPF_OK);
    assert_int_equal(dpf_db_wait_notify(f->db, 5000), DPF_OK);
    dpf_db_result *r = NULL;
    assert_int_equal(dpf_db_exec(f->db, "SELECT subject, correlation_id FROM outbox "
                                        "ORDER BY id DESC LIMIT 1", 0, NULL, &r), DPF_OK);
    assert_int_equal(dpf_db_result_rows(r), 1);
    assert_string_equal(dpf_db_result_get(r, 0, 0), "sitecontrol.changed.PS1");
    assert_string_equal(dpf_db_result_get(r, 0, 1), "corr-test-db");
    dpf_db_result_free(r);
    dpf_db_destroy(other);
}

static void test_reconnect_after_backend_dies(void **state)
{
    fixture *f = *state;
    dpf_db *killer = NULL;
    assert_int_equal(dpf_db_connect(url, &killer), DPF_OK);
    assert_int_equal(dpf_db_listen(f->db, "dpf_outbox"), DPF_OK);
    dpf_db_result *r = NULL;
    assert_int_equal(dpf_db_exec(f->db, "SELECT pg_backend_pid()", 0, NULL, &r), DPF_OK);
    const char *p[1] = {dpf_db_result_get(r, 0, 0)};
    assert_int_equal(dpf_db_exec(killer, "SELECT pg_terminate_backend($1::int)", 1, p, NULL),
                     DPF_OK);
    dpf_db_result_free(r);

    assert_int_not_equal(dpf_db_exec(f->db, "SELECT 1", 0, NULL, NULL), DPF_OK);
    assert_int_equal(dpf_db_ensure(f->db), DPF_OK);
    assert_int_equal(dpf_db_exec(f->db, "SELECT 1", 0, NULL, NULL), DPF_OK);
    /* LISTEN was re-issued on the new backend */
    const char *n[1] = {"dpf_outbox"};
    assert_int_equal(dpf_db_exec(killer, "SELECT pg_notify($1, '')", 1, n, NULL), DPF_OK);
    assert_int_equal(dpf_db_wait_notify(f->db, 5000), DPF_OK);
    assert_int_equal(dpf_db_ensure(f->db), DPF_OK);
    dpf_db_destroy(killer);
}

static void test_exec_row_and_text(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, "CREATE TABLE one (id int PRIMARY KEY, v text)");
    exec_ok(f->db, "INSERT INTO one VALUES (1, 'first value'), (2, 'second')");
    const char *p1[] = {"1"}, *p3[] = {"3"};
    dpf_db_result *r = NULL;
    assert_int_equal(dpf_db_exec_row(f->db, "SELECT id, v FROM one WHERE id >= $1 ORDER BY id",
                                     1, p1, &r), DPF_OK);
    assert_int_equal(dpf_db_result_rows(r), 2);
    assert_string_equal(dpf_db_result_get(r, 0, 1), "first value");
    dpf_db_result_free(r);
    r = (dpf_db_result *)&r; /* must be cleared */
    assert_int_equal(dpf_db_exec_row(f->db, "SELECT id FROM one WHERE id = $1", 1, p3, &r),
                     DPF_ERR_NOT_FOUND);
    assert_null(r);
    assert_int_equal(dpf_db_exec_row(f->db, "SELECT nope FROM one", 0, NULL, &r), DPF_ERR_DB);
    assert_null(r);
    assert_int_equal(dpf_db_exec_row(f->db, "SELECT 1", 0, NULL, NULL), DPF_ERR_INVALID);

    char buf[6] = "xxxxx";
    assert_int_equal(dpf_db_exec_text(f->db, "SELECT v FROM one WHERE id = $1", 1, p1, buf,
                                      sizeof buf), DPF_OK);
    assert_string_equal(buf, "first"); /* truncated to the buffer */
    assert_int_equal(dpf_db_exec_text(f->db, "SELECT v FROM one WHERE id = $1", 1, p3, buf,
                                      sizeof buf), DPF_ERR_NOT_FOUND);
    assert_string_equal(buf, "first"); /* untouched */
    assert_int_equal(dpf_db_exec_text(f->db, "SELECT v FROM one WHERE id = $1", 1, p1, NULL, 0),
                     DPF_OK);
    assert_int_equal(dpf_db_exec_text(f->db, "SELECT v FROM one WHERE id = $1", 1, p3, NULL, 0),
                     DPF_ERR_NOT_FOUND);
}

static void test_bad_arguments(void **state)
{
    dpf_db *db = NULL;
    assert_int_equal(dpf_db_connect(NULL, &db), DPF_ERR_INVALID);
    assert_int_equal(dpf_db_connect("postgresql://127.0.0.1:1/none?connect_timeout=2", &db),
                     DPF_ERR_DB);
    assert_null(db);
    dpf_db_destroy(NULL);
    assert_int_equal(dpf_db_exec(NULL, "SELECT 1", 0, NULL, NULL), DPF_ERR_INVALID);
    assert_string_equal(dpf_db_error(NULL), "");
}

static long long count_prepared(dpf_db *db)
{
    char n[32] = "";
    assert_int_equal(dpf_db_exec_text(db, "SELECT count(*) FROM pg_prepared_statements "
                                          "WHERE name LIKE 'dpf%'", 0, NULL, n, sizeof n),
                     DPF_OK);
    return atoll(n);
}

/* A statement is prepared once per connection and run by name after; what
 * the session or the schema does to prepared statements does not show. */
static void test_statements_prepared_once(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, "CREATE TEMP TABLE pq (id int PRIMARY KEY, v text)");
    long long before = count_prepared(f->db);
    char v[32];
    for (int i = 0; i < 3; i++) {
        char id[8];
        snprintf(id, sizeof id, "%d", i);
        const char *p[] = {id, "x"};
        assert_int_equal(dpf_db_exec(f->db, "INSERT INTO pq VALUES ($1::int, $2)", 2, p, NULL),
                         DPF_OK);
    }
    /* one more, the INSERT, whatever the number of calls (the count's own
     * statement was prepared before it counted the first time) */
    assert_int_equal(count_prepared(f->db), before + 1);
    assert_int_equal(dpf_db_exec_text(f->db, "SELECT string_agg(v, '') FROM pq", 0, NULL, v,
                                      sizeof v), DPF_OK);
    assert_string_equal(v, "xxx");

    /* the session dropped them (DISCARD ALL, as a pooler would) */
    exec_ok(f->db, "DEALLOCATE ALL");
    assert_int_equal(dpf_db_exec_text(f->db, "SELECT string_agg(v, '') FROM pq", 0, NULL, v,
                                      sizeof v), DPF_OK);
    assert_string_equal(v, "xxx");

    /* a table changed under a cached SELECT *: outside a transaction the
     * call still answers, with the new column */
    const char *one[] = {"1"};
    assert_int_equal(dpf_db_exec_text(f->db, "SELECT * FROM pq WHERE id = $1::int", 1, one, v,
                                      sizeof v), DPF_OK);
    exec_ok(f->db, "ALTER TABLE pq ADD COLUMN w int DEFAULT 7");
    dpf_db_result *r = NULL;
    assert_int_equal(dpf_db_exec(f->db, "SELECT * FROM pq WHERE id = $1::int", 1, one, &r),
                     DPF_OK);
    assert_int_equal(dpf_db_result_int(r, 0, 2), 7);
    dpf_db_result_free(r);

    /* a wrong statement reports its own error, also the first time */
    assert_int_equal(dpf_db_exec(f->db, "SELEC 1", 0, NULL, NULL), DPF_ERR_DB);
    assert_string_equal(dpf_db_sqlstate(f->db), "42601");
    /* in an aborted transaction a new statement says so */
    assert_int_equal(dpf_db_begin(f->db), DPF_OK);
    assert_int_equal(dpf_db_exec(f->db, "SELECT 1/0", 0, NULL, NULL), DPF_ERR_DB);
    assert_int_equal(dpf_db_exec(f->db, "SELECT 2 + $1::int", 1, one, NULL), DPF_ERR_DB);
    assert_string_equal(dpf_db_sqlstate(f->db), "25P02");
    dpf_db_rollback(f->db);
    assert_int_equal(dpf_db_exec_text(f->db, "SELECT 2 + $1::int", 1, one, v, sizeof v), DPF_OK);
    assert_string_equal(v, "3");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_params_are_literal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nulls_and_result_helpers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec_row_and_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_twice_is_noop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listen_notify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconnect_after_backend_dies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statements_prepared_once, setup, teardown),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/* The services' database roles (db/080_roles.sql, issue 9 item 6) against
 * the real PostgreSQL: each role, taken with SET LOCAL ROLE inside a
 * transaction that is rolled back, is refused what is not its job (the
 * provider writing distribution_points, hman deleting status messages,
 * distmgr writing site control, anyone writing the outbox, the reader
 * writing anything) and allowed a representative statement of its job. The
 * migration applies again on the same database and on a second database of
 * the same cluster, where the roles already exist. */
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

#include "dpf_test.h"

#define DENIED "42501" /* insufficient_privilege */

static char url[1024], url2[1024];
static dpf_db *g_db, *g_db2;
static char g_dpid[32];

static long long num(dpf_db *db, const char *q, int n, const char *const *p)
{
    return dpf_test_num(db, q, n, p);
}

/* Runs sql as role in a transaction that is rolled back; "" when it
 * succeeded, its SQLSTATE otherwise. prep (may be NULL) runs first as the
 * owner in the same transaction, to put the DP in the state the test needs.
 * When check is given, it runs as the owner afterwards in the same
 * transaction (to see what a trigger wrote) and *check_out gets its number. */
static const char *as_role_after(dpf_db *db, const char *prep, const char *role,
                                 const char *sql, int n, const char *const *p, const char *check,
                                 long long *check_out)
{
    static char state[8];
    char set[64];
    snprintf(set, sizeof set, "SET LOCAL ROLE %s", role);
    assert_int_equal(dpf_db_begin(db), DPF_OK);
    if (prep != NULL)
        dpf_test_sql(db, prep, strstr(prep, "$1") ? 1 : 0, p);
    dpf_test_sql(db, set, 0, NULL);
    dpf_status st = dpf_db_exec(db, sql, n, p, NULL);
    snprintf(state, sizeof state, "%s", st == DPF_OK ? "" : dpf_db_sqlstate(db));
    if (st == DPF_OK && check != NULL) {
        dpf_test_sql(db, "RESET ROLE", 0, NULL);
        *check_out = num(db, check, 0, NULL);
    }
    dpf_db_rollback(db);
    return state;
}

/* as_role_after without a preparation */
static const char *as_role(dpf_db *db, const char *role, const char *sql, int n,
                           const char *const *p, const char *check, long long *check_out)
{
    return as_role_after(db, NULL, role, sql, n, p, check, check_out);
}

static void denied_on(dpf_db *db, const char *role, const char *sql, int n, const char *const *p)
{
    const char *s = as_role(db, role, sql, n, p, NULL, NULL);
    if (strcmp(s, DENIED) != 0)
        fail_msg("%s: expected permission denied for \"%s\", got SQLSTATE '%s'", role, sql, s);
}

static void denied(const char *role, const char *sql)
{
    const char *p[] = {g_dpid};
    denied_on(g_db, role, sql, strstr(sql, "$1") ? 1 : 0, p);
}

static void allowed_on(dpf_db *db, const char *role, const char *sql)
{
    const char *p[] = {g_dpid};
    const char *s = as_role(db, role, sql, strstr(sql, "$1") ? 1 : 0, p, NULL, NULL);
    if (*s != '\0')
        fail_msg("%s: \"%s\" failed: SQLSTATE %s (%s)", role, sql, s, dpf_db_error(db));
}

static void allowed(const char *role, const char *sql) { allowed_on(g_db, role, sql); }

/* sql as role is allowed and its trigger left an outbox row whose subject
 * is like subject_like. */
static void allowed_with_outbox(const char *role, const char *sql, const char *subject_like)
{
    char check[256];
    long long rows = -1;
    const char *p[] = {g_dpid};
    snprintf(check, sizeof check, "SELECT count(*) FROM outbox WHERE subject LIKE '%s'",
             subject_like);
    const char *s = as_role(g_db, role, sql, strstr(sql, "$1") ? 1 : 0, p, check, &rows);
    if (*s != '\0')
        fail_msg("%s: \"%s\" failed: SQLSTATE %s (%s)", role, sql, s, dpf_db_error(g_db));
    if (rows != 1)
        fail_msg("%s: \"%s\" left %lld outbox rows like %s, expected 1", role, sql, rows,
                 subject_like);
}

static const char SQL_DP_ADD[] =
    "INSERT INTO distribution_points (server_name, nal_path, site_code, identity_guid, dp_crc) "
    "VALUES ('PS1DP1.CONTOSO.COM', '[\"Display=\\\\PS1DP1.CONTOSO.COM\\\"]MSWNET:', 'PS1', "
    "'guid-1', 'crc-1') RETURNING dpid";

static const char SQL_STATMSG_ADD[] =
    "INSERT INTO status_messages (msg_id, severity, level, source, component, system, site_code, "
    " pid, tid, raised_at, correlation_id, istr, attrs) VALUES (2301, 'I', 'M', 'dpfleet', "
    " 'SMS_DISTRIBUTION_MANAGER', 'PS1SITE', 'PS1', 1, 1, now() - interval '90 days', 'c1', "
    " ARRAY['x']::text[], '[]')";

/* what lib/src/statmsg.c runs to raise a status message */
static const char SQL_RAISE[] =
    "WITH s AS (" "INSERT INTO status_messages (msg_id, severity, level, source, component, "
    " system, site_code, pid, tid, raised_at, correlation_id, istr, attrs) VALUES (2301, 'I', "
    " 'M', 'dpfleet', 'X', 'PS1SITE', 'PS1', 1, 1, now(), 'c2', ARRAY['x']::text[], '[]') "
    " RETURNING id, correlation_id) "
    "SELECT statmsg_outbox_add(s.id, 'statmsg.PS1.X.2301', s.correlation_id) FROM s";

static int group_setup(void **state)
{
    (void)state;
    dpf_log_init("TEST_DB_ROLES");
    /* two databases of one cluster: the second migration meets the roles */
    if (dpf_test_db_create("db_roles", url, sizeof url) != 0 ||
        dpf_test_db_create("db_roles2", url2, sizeof url2) != 0)
        return -1;
    if (dpf_db_connect(url, &g_db) != DPF_OK || dpf_db_connect(url2, &g_db2) != DPF_OK)
        return -1;
    dpf_db_result *r = NULL;
    if (dpf_db_exec(g_db, SQL_DP_ADD, 0, NULL, &r) != DPF_OK || dpf_db_result_rows(r) != 1)
        return -1;
    snprintf(g_dpid, sizeof g_dpid, "%lld", dpf_db_result_int(r, 0, 0));
    dpf_db_result_free(r);
    if (dpf_db_exec(g_db, SQL_STATMSG_ADD, 0, NULL, NULL) != DPF_OK ||
        dpf_db_exec(g_db, "DELETE FROM outbox", 0, NULL, NULL) != DPF_OK)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    dpf_db_destroy(g_db);
    dpf_db_destroy(g_db2);
    dpf_test_db_drop("db_roles");
    dpf_test_db_drop("db_roles2");
    return 0;
}

static void test_roles_are_nologin_groups(void **state)
{
    (void)state;
    assert_int_equal(num(g_db, "SELECT count(*) FROM pg_roles WHERE rolname IN ('dpf_provider', "
                               "'dpf_hman', 'dpf_distmgr', 'dpf_dbmon', 'dpf_reader') "
                               "AND NOT rolcanlogin AND NOT rolsuper AND NOT rolcreaterole "
                               "AND NOT rolcreatedb AND NOT rolbypassrls",
                         0, NULL),
                     5);
}

static void test_provider(void **state)
{
    (void)state;
    denied("dpf_provider", "UPDATE distribution_points SET server_name = 'EVIL' WHERE dpid = $1::bigint");
    denied("dpf_provider", "UPDATE distribution_points SET dp_crc = 'x', action = 2 WHERE dpid = $1::bigint");
    denied("dpf_provider", "INSERT INTO distribution_points (server_name, nal_path, site_code, "
                           "identity_guid, dp_crc) VALUES ('A', 'B', 'PS1', 'g', 'c')");
    denied("dpf_provider", "DELETE FROM distribution_points WHERE dpid = $1::bigint");
    denied("dpf_provider", "INSERT INTO outbox (subject, operation, table_name, trigger_name, "
                           "object_key) VALUES ('dp.ins.1', 'INSERT', 'x', 'x', '1')");
    denied("dpf_provider", "SELECT outbox_add('dp.ins.1', 'INSERT', 'x', 'x', '1', '')");
    denied("dpf_provider", "SELECT statmsg_outbox_add(1, 'dp.ins.1', '')");
    denied("dpf_provider", "DELETE FROM status_messages");
    denied("dpf_provider", "SELECT count(*) FROM hman_site_state");
    /* its job: site control (the trigger writes the outbox row for it),
     * tokens, packages, audit; DP actions in test_provider_dp_functions */
    allowed_with_outbox("dpf_provider",
                        "UPDATE site_control SET serial = serial + 1 WHERE site_code = 'PS1'",
                        "sitecontrol.changed.PS1");
    allowed("dpf_provider", "INSERT INTO site_system_roles (site_code, role_name, nal_path, "
                            "server_name) VALUES ('PS1', 'SMS Distribution Point', 'n', 'S')");
    allowed("dpf_provider", "INSERT INTO api_tokens (user_name, role, created_by, secret_sha256) "
                            "VALUES ('u', 'Read-only Analyst', 'a', repeat('a', 64))");
    allowed("dpf_provider", "SELECT nextval('package_number')");
    allowed("dpf_provider", "INSERT INTO audit_log (user_name, app_name, machine_name, action, "
                            "class_name, object, correlation_id) VALUES ('u', 'dpfleet', 'm', "
                            "'modified', 'SMS_SCI_SysResUse', 'o', 'c')");
    allowed_with_outbox("dpf_provider", SQL_RAISE, "statmsg.PS1.X.2301");
}

/* No column of distribution_points is writable by the provider's role: an
 * UPDATE of each column, whatever the schema has today, is refused, and so
 * is a row lock (the functions below take it for the provider). */
static void test_provider_writes_no_dp_column(void **state)
{
    (void)state;
    dpf_db_result *cols = NULL;
    assert_int_equal(dpf_db_exec(g_db, "SELECT quote_ident(column_name::text) FROM "
                                       "information_schema.columns WHERE table_schema = 'public' "
                                       "AND table_name = 'distribution_points' ORDER BY 1",
                                 0, NULL, &cols),
                     DPF_OK);
    int n = dpf_db_result_rows(cols);
    assert_true(n >= 40); /* the query sees the table (dpid .. validation columns) */
    for (int i = 0; i < n; i++) {
        char sql[256];
        const char *c = dpf_db_result_get(cols, i, 0);
        snprintf(sql, sizeof sql, "UPDATE distribution_points SET %s = %s WHERE dpid = $1::bigint",
                 c, c);
        denied("dpf_provider", sql);
    }
    dpf_db_result_free(cols);
    assert_int_equal(num(g_db, "SELECT count(*) FROM information_schema.columns WHERE "
                               "table_schema = 'public' AND table_name = 'distribution_points' "
                               "AND has_column_privilege('dpf_provider', 'distribution_points', "
                               "column_name::text, 'INSERT,UPDATE,REFERENCES')",
                         0, NULL),
                     0);
    assert_int_equal(num(g_db, "SELECT count(*) FROM (VALUES ('INSERT'), ('UPDATE'), ('DELETE'), "
                               "('TRUNCATE'), ('TRIGGER')) v(p) WHERE has_table_privilege("
                               "'dpf_provider', 'distribution_points', v.p)",
                         0, NULL),
                     0);
    denied("dpf_provider", "SELECT dpid FROM distribution_points WHERE dpid = $1::bigint FOR UPDATE");
    denied("dpf_provider", "SELECT dpid FROM distribution_points WHERE dpid = $1::bigint FOR SHARE");
    allowed("dpf_provider", "SELECT count(*) FROM distribution_points"); /* it still reads */
}

/* sql as role after prep (as the owner); expects SQLSTATE want ("" = it ran)
 * and, when check is given, its number to be check_want. */
static void expect_after(const char *prep, const char *role, const char *sql, const char *want,
                         const char *check, long long check_want)
{
    const char *p[] = {g_dpid};
    long long got = -1;
    const char *s = as_role_after(g_db, prep, role, sql, strstr(sql, "$1") ? 1 : 0, p, check,
                                  &got);
    if (strcmp(s, want) != 0)
        fail_msg("%s: \"%s\": SQLSTATE '%s', expected '%s' (%s)", role, sql, s, want,
                 dpf_db_error(g_db));
    if (*want == '\0' && check != NULL && got != check_want)
        fail_msg("%s: \"%s\": %s is %lld, expected %lld", role, sql, check, got, check_want);
}

#define INSTALLED "UPDATE distribution_points SET install_state = 'Installed' WHERE dpid = $1::bigint"
#define REMOVING "UPDATE distribution_points SET action = 3 WHERE dpid = $1::bigint"
#define INSTALLED_REMOVING \
    "UPDATE distribution_points SET install_state = 'Installed', action = 3 WHERE dpid = $1::bigint"

/* The provider's three actions on a DP through db/095_provider_writes.sql:
 * each writes its columns (and its trigger's outbox row), checks its
 * arguments and the DP's state, and is executable by no other role. */
static void test_provider_dp_functions(void **state)
{
    (void)state;
    const char *prov = "dpf_provider";
    /* maintenance mode */
    expect_after(NULL, prov, "SELECT provider_dp_maintenance_set($1::bigint, true, 'CONTOSO\\Admin')",
                 "", "SELECT count(*) FROM distribution_points WHERE maintenance_mode AND "
                     "maintenance_changed_by = 'CONTOSO\\Admin' AND maintenance_changed_at "
                     "IS NOT NULL", 1);
    expect_after(NULL, prov, "SELECT provider_dp_maintenance_set($1::bigint, true, '')", "22023",
                 NULL, 0);
    expect_after(NULL, prov, "SELECT provider_dp_maintenance_set($1::bigint, true, E'a\\nb')",
                 "22023", NULL, 0);
    expect_after(NULL, prov, "SELECT provider_dp_maintenance_set($1::bigint, NULL, 'u')", "22023",
                 NULL, 0);
    expect_after(NULL, prov, "SELECT provider_dp_maintenance_set(-1, true, 'u')", "P0002", NULL, 0);
    expect_after(REMOVING, prov, "SELECT provider_dp_maintenance_set($1::bigint, true, 'u')",
                 "55000", NULL, 0);
    expect_after(REMOVING, prov, "SELECT provider_dp_maintenance_set($1::bigint, false, 'u')", "",
                 NULL, 0);
    /* the row lock, by name or NAL path, and the lookup's answer */
    expect_after(NULL, prov, "SELECT * FROM provider_dp_lock('ps1dp1.contoso.com', NULL)", "",
                 NULL, 0);
    expect_after(NULL, prov, "SELECT provider_dp_lock(NULL, NULL)", "22023", NULL, 0);
    assert_int_equal(num(g_db, "SELECT dp_id FROM provider_dp_lock(NULL, "
                               "'[\"display=\\\\ps1dp1.contoso.com\\\"]mswnet:')",
                         0, NULL),
                     atoll(g_dpid));
    /* a validation request: Installed DPs only; the trigger queues dp.val */
    expect_after(INSTALLED, prov, "SELECT provider_dp_validate_request($1::bigint)", "",
                 "SELECT count(*) FROM outbox WHERE subject LIKE 'dp.val.%'", 1);
    expect_after(NULL, prov, "SELECT provider_dp_validate_request($1::bigint)", "55000", NULL, 0);
    expect_after(INSTALLED_REMOVING, prov, "SELECT provider_dp_validate_request($1::bigint)",
                 "55000", NULL, 0);
    expect_after(NULL, prov, "SELECT provider_dp_validate_request(NULL)", "22023", NULL, 0);
    /* a site reset: the site's DPs to Pending, each a dp.ins event */
    expect_after(INSTALLED, prov, "SELECT provider_site_reset('PS1')", "",
                 "SELECT count(*) FROM distribution_points d JOIN outbox o ON o.subject = "
                 "'dp.ins.' || d.dpid WHERE d.install_state = 'Pending' AND d.last_step = 'reset'",
                 1);
    expect_after(NULL, prov, "SELECT provider_site_reset('ps1')", "22023", NULL, 0);
    expect_after(NULL, prov, "SELECT provider_site_reset('PS1'' OR ''1')", "22023", NULL, 0);
    expect_after(NULL, prov, "SELECT provider_site_reset('ZZ9')", "P0002", NULL, 0);
    /* nobody else may call them */
    static const char *const others[] = {"dpf_hman", "dpf_distmgr", "dpf_dbmon", "dpf_reader"};
    for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
        denied(others[i], "SELECT provider_dp_maintenance_set($1::bigint, true, 'u')");
        denied(others[i], "SELECT provider_dp_validate_request($1::bigint)");
        denied(others[i], "SELECT provider_site_reset('PS1')");
        denied(others[i], "SELECT * FROM provider_dp_lock('PS1DP1.CONTOSO.COM', NULL)");
    }
    assert_int_equal(num(g_db, "SELECT count(*) FROM pg_proc WHERE proname LIKE 'provider\\_%' "
                               "AND (NOT prosecdef OR proconfig IS NULL OR "
                               "has_function_privilege('public', oid, 'EXECUTE'))",
                         0, NULL),
                     0);
}

static void test_hman(void **state)
{
    (void)state;
    denied("dpf_hman", "DELETE FROM status_messages");
    denied("dpf_hman", "DELETE FROM site_system_roles");
    denied("dpf_hman", "INSERT INTO site_system_role_props (role_id, name) VALUES (1, 'x')");
    denied("dpf_hman", "UPDATE sites SET site_name = 'x'");
    denied("dpf_hman", "DELETE FROM distribution_points WHERE dpid = $1::bigint");
    denied("dpf_hman", "INSERT INTO outbox (subject, operation, table_name, trigger_name, "
                       "object_key) VALUES ('x', 'x', 'x', 'x', 'x')");
    denied("dpf_hman", "SELECT count(*) FROM api_tokens");
    /* its job */
    allowed("dpf_hman", "SELECT c.serial FROM site_control c JOIN sites s USING (site_code) "
                        "WHERE c.site_code = 'PS1' FOR UPDATE OF c");
    allowed_with_outbox("dpf_hman", "UPDATE distribution_points SET dp_crc = 'crc-2' "
                                    "WHERE dpid = $1::bigint",
                        "dp.ins.%");
    allowed_with_outbox("dpf_hman", "INSERT INTO dp_notification (dpid) VALUES ($1::bigint)",
                        "dp.dpn.%");
    allowed("dpf_hman", "INSERT INTO sys_res_list (site_code, role_name, nal_path, server_name) "
                        "VALUES ('PS1', 'r', 'n', 's') ON CONFLICT (site_code, role_name, nal_path) "
                        "DO UPDATE SET server_name = EXCLUDED.server_name");
    allowed("dpf_hman", "SELECT update_dp_cert('PS1DP1.CONTOSO.COM', 'g', 1, 'thumb')");
    allowed("dpf_hman", "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('outbox', "
                        "'id')::regclass), 0)");
    denied("dpf_hman", "SELECT nextval('outbox_id_seq')");
    allowed_with_outbox("dpf_hman", SQL_RAISE, "statmsg.%");
}

static void test_distmgr(void **state)
{
    (void)state;
    denied("dpf_distmgr", "UPDATE site_control SET serial = serial + 1");
    denied("dpf_distmgr", "INSERT INTO site_system_roles (site_code, role_name, nal_path, "
                          "server_name) VALUES ('PS1', 'r', 'n', 's')");
    denied("dpf_distmgr", "UPDATE site_system_roles SET server_name = 'x'");
    denied("dpf_distmgr", "DELETE FROM site_system_roles");
    denied("dpf_distmgr", "UPDATE site_system_role_props SET value1 = 'x'");
    denied("dpf_distmgr", "DELETE FROM pull_dp_sources");
    denied("dpf_distmgr", "INSERT INTO distribution_points (server_name, nal_path, site_code, "
                          "identity_guid, dp_crc) VALUES ('A', 'B', 'PS1', 'g', 'c')");
    denied("dpf_distmgr", "SELECT count(*) FROM api_tokens");
    /* its job */
    allowed("dpf_distmgr", "UPDATE distribution_points SET install_state = 'Installed', "
                           "last_step = 'done' WHERE dpid = $1::bigint");
    allowed("dpf_distmgr", "SELECT content_wake_dp($1::bigint)");
    allowed("dpf_distmgr", "DELETE FROM dp_notification WHERE dpid = $1::bigint");
    allowed_with_outbox("dpf_distmgr", SQL_RAISE, "statmsg.%");
}

static void test_dbmon(void **state)
{
    (void)state;
    denied("dpf_dbmon", "INSERT INTO outbox (subject, operation, table_name, trigger_name, "
                        "object_key) VALUES ('x', 'x', 'x', 'x', 'x')");
    denied("dpf_dbmon", "UPDATE outbox SET subject = 'x'");
    denied("dpf_dbmon", "UPDATE distribution_points SET dp_crc = 'x'");
    denied("dpf_dbmon", "SELECT count(*) FROM api_tokens");
    /* its job: claim, publish and delete outbox rows; retention */
    allowed("dpf_dbmon", "SELECT id, subject FROM outbox ORDER BY id LIMIT 10 FOR UPDATE SKIP LOCKED");
    allowed("dpf_dbmon", "DELETE FROM outbox WHERE id = 1");
    char check[] = "SELECT count(*) FROM status_messages";
    long long left = -1;
    const char *s = as_role(g_db, "dpf_dbmon",
                            "DELETE FROM status_messages WHERE raised_at < now() - interval '30 days'",
                            0, NULL, check, &left);
    assert_string_equal(s, "");
    assert_int_equal(left, 0);
    assert_int_equal(num(g_db, check, 0, NULL), 1); /* rolled back */
}

static void test_reader_writes_nothing(void **state)
{
    (void)state;
    /* no write privilege on any table or column, no secret read */
    static const char writable[] =
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind = 'r' AND "
        "(has_any_column_privilege('%s', c.oid, 'INSERT,UPDATE,REFERENCES') OR "
        "has_table_privilege('%s', c.oid, 'INSERT,UPDATE,DELETE,TRUNCATE,TRIGGER'))";
    char q[512];
    snprintf(q, sizeof q, writable, "dpf_reader", "dpf_reader");
    assert_int_equal(num(g_db, q, 0, NULL), 0);
    /* the check itself sees a writer's tables */
    snprintf(q, sizeof q, writable, "dpf_hman", "dpf_hman");
    assert_true(num(g_db, q, 0, NULL) >= 8);
    assert_true(num(g_db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", 0, NULL) > 20);
    denied("dpf_reader", "UPDATE distribution_points SET dp_crc = 'x'");
    denied("dpf_reader", "DELETE FROM status_messages");
    denied("dpf_reader", "UPDATE site_control SET serial = serial + 1");
    denied("dpf_reader", "INSERT INTO outbox (subject, operation, table_name, trigger_name, "
                         "object_key) VALUES ('x', 'x', 'x', 'x', 'x')");
    denied("dpf_reader", "SELECT count(*) FROM api_tokens");
    denied("dpf_reader", "SELECT content_wake_dp($1::bigint)");
    denied("dpf_reader", SQL_RAISE);
    /* reporting */
    allowed("dpf_reader", "SELECT count(*) FROM distribution_points d JOIN dp_packages p USING (dpid)");
    allowed("dpf_reader", "SELECT count(*) FROM status_messages");
    allowed("dpf_reader", "SELECT count(*) FROM audit_log");
}

/* The migration applies again (as a re-run would after a failed deploy),
 * twice, and leaves the same grants. */
static void test_migration_is_idempotent(void **state)
{
    (void)state;
    static const char grants[] =
        "SELECT count(*) FROM information_schema.role_table_grants WHERE grantee LIKE 'dpf\\_%'";
    long long before = num(g_db, grants, 0, NULL);
    assert_true(before > 40);
    for (int i = 0; i < 2; i++) {
        dpf_test_sql(g_db, "DELETE FROM schema_migrations WHERE version = '080_roles.sql'", 0, NULL);
        assert_int_equal(dpf_db_migrate(g_db, DPF_SOURCE_DIR "/db"), DPF_OK);
        assert_int_equal(num(g_db, "SELECT count(*) FROM schema_migrations WHERE version = "
                                   "'080_roles.sql'",
                             0, NULL),
                         1);
        assert_int_equal(num(g_db, grants, 0, NULL), before);
    }
    denied("dpf_provider", "UPDATE distribution_points SET server_name = 'EVIL'");
    denied("dpf_provider", "UPDATE distribution_points SET maintenance_mode = true");
    allowed("dpf_provider", "SELECT provider_dp_maintenance_set($1::bigint, true, 'u')");
}

/* The second database of the cluster got its own grants. */
static void test_second_database(void **state)
{
    (void)state;
    const char *p[] = {"0"};
    denied_on(g_db2, "dpf_provider", "UPDATE distribution_points SET server_name = 'EVIL'", 0, p);
    denied_on(g_db2, "dpf_hman", "DELETE FROM status_messages", 0, p);
    allowed_on(g_db2, "dpf_provider", "UPDATE site_control SET serial = serial + 1");
    allowed_on(g_db2, "dpf_dbmon", "DELETE FROM status_messages");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles_are_nologin_groups),
        cmocka_unit_test(test_provider),
        cmocka_unit_test(test_provider_writes_no_dp_column),
        cmocka_unit_test(test_provider_dp_functions),
        cmocka_unit_test(test_hman),
        cmocka_unit_test(test_distmgr),
        cmocka_unit_test(test_dbmon),
        cmocka_unit_test(test_reader_writes_nothing),
        cmocka_unit_test(test_migration_is_idempotent),
        cmocka_unit_test(test_second_database),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

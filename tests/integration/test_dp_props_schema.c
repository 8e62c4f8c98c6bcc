/* The DP role's property table (lib dp_props) is the one definition of the
 * properties and their defaults; SQL cannot include it, so this suite holds
 * the SQL side to it against the real PostgreSQL with every migration
 * applied: the distribution_points column of each property (type and
 * default, from information_schema, and the range its CHECK accepts), and
 * what dpf_dp_json() (db/065_provider_reads.sql, the API's reads) shows for
 * a DP role with no property rows and with each row written. Every
 * disagreement is reported naming the property; the last tests change the
 * schema and the data to show that a disagreement is caught. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include <dpf/db.h>
#include <dpf/dp_props.h>
#include <dpf/log.h>
#include <dpf/sitecontrol.h>

#include "dpf_test.h"

#define SERVER "PROPSDP1.CONTOSO.COM"
#define NAL "[\"Display=\\\\PROPSDP1.CONTOSO.COM\\\"]MSWNET:[\"SMS_SITE=PS1\"]\\\\PROPSDP1.CONTOSO.COM\\"

static char url[1024];
static dpf_db *db;
static char role_id[24];
static char dpid[24];

/* What went wrong, one line a property, for fail_msg. */
typedef struct report {
    char text[4096];
    size_t used;
    int n;
} report;

static void note(report *rp, const char *fmt, ...) DPF_PRINTF(2, 3);
static void note(report *rp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (rp->used < sizeof rp->text - 1) {
        int w = vsnprintf(rp->text + rp->used, sizeof rp->text - rp->used, fmt, ap);
        if (w > 0)
            rp->used += (size_t)w;
        if (rp->used >= sizeof rp->text)
            rp->used = sizeof rp->text - 1;
    }
    va_end(ap);
    rp->n++;
}

static int group_setup(void **state)
{
    (void)state;
    dpf_log_init("TEST_DP_PROPS");
    if (dpf_test_db_create("dp_props", url, sizeof url) != 0)
        return -1;
    if (dpf_db_connect(url, &db) != DPF_OK)
        return -1;
    /* site PS1 comes with the migrations */
    const char *p[] = {DPF_ROLE_DP, NAL, SERVER};
    snprintf(role_id, sizeof role_id, "%lld",
             dpf_test_num(db, "INSERT INTO site_system_roles (site_code, role_name, nal_path, "
                              "server_name) VALUES ('PS1', $1, $2, $3) RETURNING id", 3, p));
    /* a DistributionPoints row written with nothing but what has no default */
    const char *q[] = {SERVER, NAL};
    snprintf(dpid, sizeof dpid, "%lld",
             dpf_test_num(db, "INSERT INTO distribution_points (server_name, nal_path, site_code, "
                              "identity_guid, dp_crc) VALUES ($1, $2, 'PS1', 'G', 'C') "
                              "RETURNING dpid", 2, q));
    /* sets one column, named by a parameter, of the row above */
    dpf_test_sql(db,
                 "CREATE FUNCTION pg_temp.set_col(col text, v bigint, id bigint) RETURNS void "
                 "LANGUAGE plpgsql AS $$ BEGIN "
                 "EXECUTE format('UPDATE distribution_points SET %I = $1 WHERE dpid = $2', col) "
                 "USING v::int, id; END $$", 0, NULL);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    dpf_db_destroy(db);
    dpf_test_db_drop("dp_props");
    return 0;
}

/* ---- the schema: distribution_points columns ---- */

static const char *want_type(const dpf_dp_prop *p)
{
    switch (p->type) {
    case DPF_DP_PROP_TEXT: return "text";
    case DPF_DP_PROP_BOOL: return "boolean";
    case DPF_DP_PROP_INT: return "integer";
    }
    return "?";
}

/* The default as information_schema.columns.column_default prints it. */
static void want_default(const dpf_dp_prop *p, char *buf, size_t len)
{
    if (p->type == DPF_DP_PROP_TEXT)
        snprintf(buf, len, "'%s'::text", p->text_default);
    else if (p->type == DPF_DP_PROP_BOOL)
        snprintf(buf, len, "%s", p->int_default ? "true" : "false");
    else if (p->int_default < 0)
        snprintf(buf, len, "'%d'::integer", p->int_default);
    else
        snprintf(buf, len, "%d", p->int_default);
}

static void check_columns(report *rp)
{
    for (int i = 0; i < DPF_DP_PROP_COUNT; i++) {
        const dpf_dp_prop *p = dpf_dp_prop_get((dpf_dp_prop_id)i);
        const char *q[] = {p->column};
        dpf_db_result *r = NULL;
        dpf_status st = dpf_db_exec(db,
                                    "SELECT data_type, column_default, is_nullable "
                                    "FROM information_schema.columns "
                                    "WHERE table_schema = current_schema() "
                                    "AND table_name = 'distribution_points' AND column_name = $1",
                                    1, q, &r);
        if (st != DPF_OK)
            fail_msg("information_schema: %s", dpf_db_error(db));
        char def[128];
        want_default(p, def, sizeof def);
        if (dpf_db_result_rows(r) != 1) {
            note(rp, "%s: no column distribution_points.%s\n", p->name, p->column);
        } else {
            const char *type = dpf_db_result_get(r, 0, 0);
            const char *got = dpf_db_result_isnull(r, 0, 1) ? "(none)" : dpf_db_result_get(r, 0, 1);
            if (strcmp(type, want_type(p)) != 0)
                note(rp, "%s: distribution_points.%s is %s, the C table says %s\n", p->name,
                     p->column, type, want_type(p));
            if (strcmp(got, def) != 0)
                note(rp, "%s: distribution_points.%s defaults to %s, the C table to %s\n",
                     p->name, p->column, got, def);
            if (strcmp(dpf_db_result_get(r, 0, 2), "NO") != 0)
                note(rp, "%s: distribution_points.%s accepts NULL\n", p->name, p->column);
        }
        dpf_db_result_free(r);
    }
}

/* 1 if the column takes v (a CHECK may refuse it). */
static int column_takes(const dpf_dp_prop *p, long long v)
{
    char val[32];
    snprintf(val, sizeof val, "%lld", v);
    const char *q[] = {p->column, val, dpid};
    return dpf_db_exec(db, "SELECT pg_temp.set_col($1, $2::bigint, $3::bigint)", 3, q, NULL) ==
           DPF_OK;
}

/* The range hman holds an INT to is the range its column accepts. */
static void check_ranges(report *rp)
{
    for (int i = 0; i < DPF_DP_PROP_COUNT; i++) {
        const dpf_dp_prop *p = dpf_dp_prop_get((dpf_dp_prop_id)i);
        if (p->type != DPF_DP_PROP_INT)
            continue;
        if (!column_takes(p, p->min) || !column_takes(p, p->max))
            note(rp, "%s: distribution_points.%s refuses a value in %d..%d\n", p->name,
                 p->column, p->min, p->max);
        if (p->min > -2147483647 && column_takes(p, (long long)p->min - 1))
            note(rp, "%s: distribution_points.%s takes %lld, below the C table's %d\n", p->name,
                 p->column, (long long)p->min - 1, p->min);
        if (p->max < 2147483647 && column_takes(p, (long long)p->max + 1))
            note(rp, "%s: distribution_points.%s takes %lld, above the C table's %d\n", p->name,
                 p->column, (long long)p->max + 1, p->max);
        (void)column_takes(p, p->int_default);
    }
}

/* ---- SQL: dpf_dp_json(), through dpf_dp_show() ---- */

/* The DP as dpf_dp_show() returns it, called with the C table's names in
 * the order of its parameters (as services/provider/store_dp.c calls it). */
static json_t *show(void)
{
    static const dpf_dp_prop_id order[] = {
        DPF_DP_PROP_DESCRIPTION, DPF_DP_PROP_DRIVE, DPF_DP_PROP_IS_PXE,
        DPF_DP_PROP_IS_PULL_DP, DPF_DP_PROP_PRIORITY, DPF_DP_PROP_MIN_FREE_SPACE,
        DPF_DP_PROP_CONTENT_VALIDATION,
    };
    const char *q[9] = {DPF_ROLE_DP, SERVER};
    for (int i = 0; i < 7; i++)
        q[2 + i] = dpf_dp_prop_get(order[i])->name;
    dpf_db_result *r = NULL;
    if (dpf_db_exec_row(db, "SELECT dpf_dp_show($1, $2, $3, $4, $5, $6, $7, $8, $9)", 9, q, &r) !=
        DPF_OK)
        fail_msg("dpf_dp_show: %s", dpf_db_error(db));
    json_error_t err;
    json_t *doc = json_loads(dpf_db_result_get(r, 0, 0), 0, &err);
    dpf_db_result_free(r);
    if (!json_is_object(doc))
        fail_msg("dpf_dp_show returned no JSON object: %s", err.text);
    return doc;
}

/* Whether the DP's field for p shows text / num (a BOOL shown as an object,
 * such as pullDP, is on when the object is there). */
static int shows(const json_t *doc, const dpf_dp_prop *p, const char *text, int num)
{
    const json_t *v = json_object_get(doc, p->api_field);
    switch (p->type) {
    case DPF_DP_PROP_TEXT: return json_is_string(v) && strcmp(json_string_value(v), text) == 0;
    case DPF_DP_PROP_BOOL: return (json_is_true(v) || json_is_object(v)) == (num != 0);
    case DPF_DP_PROP_INT: return json_is_integer(v) && json_integer_value(v) == num;
    }
    return 0;
}

/* With no property rows, every field shows the C table's default. */
static void check_json_defaults(report *rp)
{
    json_t *doc = show();
    for (int i = 0; i < DPF_DP_PROP_COUNT; i++) {
        const dpf_dp_prop *p = dpf_dp_prop_get((dpf_dp_prop_id)i);
        if (p->api_field == NULL)
            continue;
        if (!shows(doc, p, p->text_default, p->int_default)) {
            char *got = json_dumps(json_object_get(doc, p->api_field), JSON_ENCODE_ANY);
            note(rp, "%s: dpf_dp_json shows %s = %s for a DP without the property, "
                     "the C table's default is %s%d\n", p->name, p->api_field,
                 got ? got : "(missing)", p->text_default ? p->text_default : "",
                 p->text_default ? 0 : p->int_default);
            free(got);
        }
    }
    json_decref(doc);
}

/* Each property written alone, at a value other than its default, shows. */
static void check_json_reads_each(report *rp)
{
    for (int i = 0; i < DPF_DP_PROP_COUNT; i++) {
        const dpf_dp_prop *p = dpf_dp_prop_get((dpf_dp_prop_id)i);
        if (p->api_field == NULL)
            continue;
        const char *text = p->type == DPF_DP_PROP_TEXT ? "E:" : "";
        int num = p->type == DPF_DP_PROP_TEXT ? 0 : p->int_default == p->max ? p->int_default - 1
                                                                            : p->int_default + 1;
        char v3[16];
        snprintf(v3, sizeof v3, "%d", num);
        const char *q[] = {role_id, p->name, text, v3};
        dpf_test_sql(db, "INSERT INTO site_system_role_props (role_id, name, value1, value3) "
                         "VALUES ($1::bigint, $2, $3, $4::bigint)", 4, q);
        json_t *doc = show();
        if (!shows(doc, p, text, num))
            note(rp, "%s: written as %s%s, dpf_dp_json's %s does not show it\n", p->name, text,
                 p->type == DPF_DP_PROP_TEXT ? "" : v3, p->api_field);
        json_decref(doc);
        dpf_test_sql(db, "DELETE FROM site_system_role_props WHERE role_id = $1::bigint", 1, q);
    }
}

static void test_schema_columns_follow_table(void **state)
{
    (void)state;
    report rp = {0};
    check_columns(&rp);
    if (rp.n > 0)
        fail_msg("the schema disagrees with lib/src/dp_props.c:\n%s", rp.text);
}

static void test_schema_ranges_follow_table(void **state)
{
    (void)state;
    report rp = {0};
    check_ranges(&rp);
    if (rp.n > 0)
        fail_msg("the schema disagrees with lib/src/dp_props.c:\n%s", rp.text);
}

static void test_dp_json_follows_table(void **state)
{
    (void)state;
    report rp = {0};
    check_json_defaults(&rp);
    check_json_reads_each(&rp);
    if (rp.n > 0)
        fail_msg("dpf_dp_json (db/065_provider_reads.sql) disagrees with lib/src/dp_props.c:\n%s",
                 rp.text);
}

/* The checks above can fail, and name the property: a column default
 * changed, a CHECK dropped, a property row that makes the DP differ. */
static void test_disagreements_are_named(void **state)
{
    (void)state;
    report rp = {0};
    dpf_test_sql(db, "ALTER TABLE distribution_points ALTER COLUMN min_free_space SET DEFAULT 60",
                 0, NULL);
    check_columns(&rp);
    dpf_test_sql(db, "ALTER TABLE distribution_points ALTER COLUMN min_free_space SET DEFAULT 50",
                 0, NULL);
    assert_int_equal(rp.n, 1);
    assert_non_null(strstr(rp.text, "MinFreeSpace: distribution_points.min_free_space "
                                    "defaults to 60, the C table to 50"));

    report rr = {0};
    dpf_test_sql(db, "BEGIN", 0, NULL);
    dpf_test_sql(db, "ALTER TABLE distribution_points DROP CONSTRAINT "
                     "distribution_points_content_validation_interval_hours_check", 0, NULL);
    check_ranges(&rr);
    dpf_test_sql(db, "ROLLBACK", 0, NULL);
    assert_int_equal(rr.n, 2);
    assert_non_null(strstr(rr.text, "ContentValidationIntervalHours: "
                                    "distribution_points.content_validation_interval_hours "
                                    "takes -1, below"));

    report rj = {0};
    const char *q[] = {role_id, DPF_PROP_PRIORITY};
    dpf_test_sql(db, "INSERT INTO site_system_role_props (role_id, name, value3) "
                     "VALUES ($1::bigint, $2, 7)", 2, q);
    check_json_defaults(&rj);
    dpf_test_sql(db, "DELETE FROM site_system_role_props WHERE role_id = $1::bigint", 1, q);
    assert_int_equal(rj.n, 1);
    assert_non_null(strstr(rj.text, "Priority: dpf_dp_json shows priority = 7"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_columns_follow_table),
        cmocka_unit_test(test_schema_ranges_follow_table),
        cmocka_unit_test(test_dp_json_follows_table),
        cmocka_unit_test(test_disagreements_are_named),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

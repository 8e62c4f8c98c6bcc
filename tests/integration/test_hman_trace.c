/* HMAN's part of the timeline (trace_events, issue 11) against a real
 * PostgreSQL, with hman's own code (hman_core): a site control change
 * leaves one row per DP it inserts, updates or marks deleted, under the
 * change's correlation id and in the change's transaction, and ONE summary
 * row for the DPs it leaves alone (never a row per unchanged DP). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dpf/dp.h>
#include <dpf/log.h>
#include <dpf/sitecontrol.h>
#include "dpf_test.h"
#include "hman.h"

static dpf_db *g_db;

static int setup(void **state)
{
    (void)state;
    char url[1024];
    dpf_log_init("SMS_HIERARCHY_MANAGER");
    if (dpf_test_db_create("hman_trace", url, sizeof url) != 0)
        return -1;
    return dpf_db_connect(url, &g_db) == DPF_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    dpf_db_destroy(g_db);
    dpf_test_db_drop("hman_trace");
    return 0;
}

static void sql(const char *q, int n, const char *const *p)
{
    dpf_test_sql(g_db, q, n, p);
}

static const char *text(const char *q, const char *p1)
{
    static char buf[2048];
    const char *p[] = {p1};
    buf[0] = '\0';
    if (dpf_db_exec_text(g_db, q, p1 ? 1 : 0, p, buf, sizeof buf) != DPF_OK)
        fail_msg("%s: %s", q, dpf_db_error(g_db));
    return buf;
}

/* A DP role with its properties, as the provider writes it. */
static void add_role(const char *server)
{
    char n[DPF_NAL_MAX + 1];
    assert_int_equal(dpf_nal_path(server, "PS1", n, sizeof n), DPF_OK);
    const char *rd[] = {n, server};
    char id[32];
    if (dpf_db_exec_text(g_db, "INSERT INTO site_system_roles (site_code, role_name, nal_path, "
                               "server_name) VALUES ('PS1', 'SMS Distribution Point', $1, $2) "
                               "RETURNING id", 2, rd, id, sizeof id) != DPF_OK)
        fail_msg("adding the role of %s: %s", server, dpf_db_error(g_db));
    const char *pp[] = {id, DPF_PROP_DESCRIPTION, "trace", DPF_PROP_DP_DRIVE, "",
                        DPF_PROP_IS_PXE, "0", DPF_PROP_IS_PULL_DP, "0",
                        DPF_PROP_PRIORITY, "200", DPF_PROP_MIN_FREE_SPACE, "50",
                        DPF_PROP_TRANSFER_RATE, "0", DPF_PROP_SSL_STATE, "0"};
    sql("INSERT INTO site_system_role_props (role_id, name, value1, value3) VALUES "
        "($1, $2, $3, 0), ($1, $4, $5, 0), "
        "($1, $6, '', $7::bigint), ($1, $8, '', $9::bigint), "
        "($1, $10, '', $11::bigint), ($1, $12, '', $13::bigint), "
        "($1, $14, '', $15::bigint), ($1, $16, '', $17::bigint)", 17, pp);
}

static void process(const char *corr)
{
    hman_result res;
    assert_int_equal(hman_process_site(g_db, "PS1", corr, &res), DPF_OK);
}

/* corr's HMAN rows: "step|server|result" in order, ';'-joined. */
static const char *rows(const char *corr)
{
    return text("SELECT coalesce(string_agg(step || '|' || server_name || '|' || result, ';' "
                "ORDER BY id), '') FROM trace_events WHERE correlation_id = $1 "
                "AND component = 'HMAN'", corr);
}

static void test_one_row_per_dp_written_and_one_for_the_rest(void **state)
{
    (void)state;
    add_role("PS1TR1.CONTOSO.COM");
    add_role("PS1TR2.CONTOSO.COM");
    add_role("PS1TR3.CONTOSO.COM");
    process("corr-hman-add");
    assert_string_equal(rows("corr-hman-add"),
                        "Inserted DP|PS1TR1.CONTOSO.COM|info;Inserted DP|PS1TR2.CONTOSO.COM|info;"
                        "Inserted DP|PS1TR3.CONTOSO.COM|info");
    /* the row names the DP's id and what hman wrote */
    assert_string_equal(text("SELECT (t.dpid = d.dpid AND t.job = 'change' AND t.message LIKE "
                             "'Inserted DP %CRC:' || d.dp_crc || '%')::text FROM trace_events t "
                             "JOIN distribution_points d USING (server_name) "
                             "WHERE t.correlation_id = $1 AND t.server_name = "
                             "'PS1TR2.CONTOSO.COM'", "corr-hman-add"), "true");

    /* one DP changed: its row and one summary row for the other two */
    const char *p[] = {"changed", "PS1TR2.CONTOSO.COM", DPF_PROP_DESCRIPTION};
    sql("UPDATE site_system_role_props SET value1 = $1 WHERE name = $3 AND role_id = "
        "(SELECT id FROM site_system_roles WHERE server_name = $2)", 3, p);
    process("corr-hman-set");
    assert_string_equal(rows("corr-hman-set"), "Updated DP|PS1TR2.CONTOSO.COM|info;"
                                                "DPs unchanged||info");
    assert_string_equal(text("SELECT message FROM trace_events WHERE correlation_id = $1 AND "
                             "step = 'DPs unchanged'", "corr-hman-set"),
                        "2 DPs of site PS1 unchanged");

    /* one DP removed from the site control: marked deleted */
    const char *pr[] = {"PS1TR3.CONTOSO.COM"};
    sql("DELETE FROM site_system_roles WHERE server_name = $1", 1, pr);
    process("corr-hman-remove");
    assert_string_equal(rows("corr-hman-remove"), "Marked DP deleted|PS1TR3.CONTOSO.COM|info;"
                                                   "DPs unchanged||info");

    /* nothing changed: the summary row only */
    process("corr-hman-nothing");
    assert_string_equal(rows("corr-hman-nothing"), "DPs unchanged||info");
}

/* HmanSetAsideFailedDPs: the DP whose writes fail has a 'failed' row with
 * the reason, the others their rows; a timeline that cannot be written
 * never rolls a change back. */
static void test_set_aside_and_broken_timeline(void **state)
{
    (void)state;
    sql("ALTER TABLE distribution_points ADD CONSTRAINT no_boom CHECK (server_name <> "
        "'PS1BOOM.CONTOSO.COM')", 0, NULL);
    add_role("PS1BOOM.CONTOSO.COM");
    add_role("PS1TR4.CONTOSO.COM");
    hman_result res;
    hman_opts opts = {.set_aside_failed = 1};
    assert_int_equal(hman_process_change_opts(g_db, "PS1", "corr-hman-aside", 0, &opts, &res),
                     DPF_OK);
    assert_int_equal(res.set_aside, 1);
    assert_string_equal(rows("corr-hman-aside"),
                        "Set aside DP|PS1BOOM.CONTOSO.COM|failed;"
                        "Inserted DP|PS1TR4.CONTOSO.COM|info;DPs unchanged||info");
    assert_string_equal(text("SELECT (message LIKE '%inserting the DP failed:%no_boom%')::text "
                             "FROM trace_events WHERE correlation_id = $1 AND result = 'failed'",
                             "corr-hman-aside"), "true");
    sql("ALTER TABLE distribution_points DROP CONSTRAINT no_boom", 0, NULL);

    sql("CREATE FUNCTION trace_broken() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'the timeline is broken'; END $$", 0, NULL);
    sql("CREATE TRIGGER trace_broken BEFORE INSERT ON trace_events "
        "FOR EACH ROW EXECUTE FUNCTION trace_broken()", 0, NULL);
    char before[32];
    snprintf(before, sizeof before, "%s",
             text("SELECT count(*)::text FROM status_messages WHERE msg_id = 3306", NULL));
    assert_int_equal(hman_process_site(g_db, "PS1", "corr-hman-broken", &res), DPF_OK);
    assert_int_equal(res.inserted, 1); /* PS1BOOM, now allowed */
    assert_string_equal(text("SELECT count(*)::text FROM distribution_points WHERE server_name "
                             "= $1", "PS1BOOM.CONTOSO.COM"), "1");
    assert_string_equal(rows("corr-hman-broken"), "");
    /* the change is processed all the same: its 3306 */
    assert_string_equal(text("SELECT (count(*) - $1::int)::text FROM status_messages "
                             "WHERE msg_id = 3306", before), "1");
    sql("DROP TRIGGER trace_broken ON trace_events", 0, NULL);
}

/* A pass over more DPs than hman keeps in memory: its timeline goes out a
 * few hundred rows at a time, between two DPs. Every DP has its row, in
 * the order processed, and a DP set aside after the first rows went out
 * loses only its own row. */
static void test_many_dps_rows_in_chunks(void **state)
{
    (void)state;
    sql("ALTER TABLE distribution_points ADD CONSTRAINT no_big CHECK (server_name <> "
        "'PS1BIG0400.CONTOSO.COM')", 0, NULL);
    char server[64];
    for (int i = 1; i <= 600; i++) {
        snprintf(server, sizeof server, "PS1BIG%04d.CONTOSO.COM", i);
        add_role(server);
    }
    hman_result res;
    hman_opts opts = {.set_aside_failed = 1};
    assert_int_equal(hman_process_change_opts(g_db, "PS1", "corr-hman-big", 0, &opts, &res),
                     DPF_OK);
    assert_int_equal(res.inserted, 599);
    assert_int_equal(res.set_aside, 1);
    assert_string_equal(text("SELECT count(*)::text FROM trace_events WHERE correlation_id = $1 "
                             "AND step = 'Inserted DP' AND server_name LIKE 'PS1BIG%'",
                             "corr-hman-big"), "599");
    assert_string_equal(text("SELECT string_agg(server_name, ',') FROM trace_events WHERE "
                             "correlation_id = $1 AND result = 'failed'", "corr-hman-big"),
                        "PS1BIG0400.CONTOSO.COM");
    /* in the order hman went through the DPs (by NAL path, here by name) */
    assert_string_equal(text("SELECT (array_agg(server_name ORDER BY id) = "
                             "array_agg(server_name ORDER BY server_name))::text "
                             "FROM trace_events WHERE correlation_id = $1 AND "
                             "server_name LIKE 'PS1BIG%'", "corr-hman-big"), "true");
    assert_string_equal(text("SELECT count(*)::text FROM distribution_points WHERE server_name "
                             "LIKE 'PS1BIG%'", NULL), "599");
    sql("ALTER TABLE distribution_points DROP CONSTRAINT no_big", 0, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_row_per_dp_written_and_one_for_the_rest),
        cmocka_unit_test(test_set_aside_and_broken_timeline),
        cmocka_unit_test(test_many_dps_rows_in_chunks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

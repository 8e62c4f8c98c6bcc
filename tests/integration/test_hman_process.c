/* hman against a real PostgreSQL: hman_process_site/_change on a database populated
 * with the same SQL the provider uses (roles + props + pull sources +
 * boundary groups + site_control bump). What an administrator would check:
 * DistributionPoints rows with CRC and GUID, client packages, certificates,
 * SysResList, the outbox rows that wake distmgr, status message 3306 written
 * with the change (row and outbox row, so dbmon publishes it only once the
 * change commits), and nothing written when nothing changed or when one DP
 * fails. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dpf/dp.h>
#include <dpf/log.h>
#include <dpf/sitecontrol.h>
#include "dpf_capture.h"
#include "dpf_test.h"
#include "hman.h"

static dpf_db *g_db;
static int g_seq;
static char g_dbname[64];

static int setup(void **state)
{
    char url[1024];
    snprintf(g_dbname, sizeof g_dbname, "hman_process_%d", ++g_seq);
    if (dpf_test_db_create(g_dbname, url, sizeof url) != 0)
        return -1;
    return dpf_db_connect(url, &g_db) == DPF_OK ? 0 : -1;
}

static int teardown(void **state)
{
    dpf_db_destroy(g_db);
    g_db = NULL;
    dpf_test_db_drop(g_dbname);
    return 0;
}

static void sql(const char *q, int n, const char *const *p)
{
    dpf_test_sql(g_db, q, n, p);
}

/* The first column of the first row of q, as text (static buffer). */
static const char *text(const char *q, int n, const char *const *p)
{
    static char buf[1024];
    dpf_db_result *r = NULL;
    if (dpf_db_exec(g_db, q, n, p, &r) != DPF_OK)
        fail_msg("%s: %s", q, dpf_db_error(g_db));
    snprintf(buf, sizeof buf, "%s", dpf_db_result_rows(r) ? dpf_db_result_get(r, 0, 0) : "");
    dpf_db_result_free(r);
    return buf;
}

static long long num(const char *q, int n, const char *const *p)
{
    return atoll(text(q, n, p));
}

static void nal(const char *server, char *out)
{
    assert_int_equal(dpf_nal_path(server, "PS1", out, DPF_NAL_MAX + 1), DPF_OK);
}

typedef struct dp_spec {
    const char *server;
    const char *description;
    int pxe, pull;
    const char *sources[3]; /* "SERVER" with prio = index + 1 (reversed on insert) */
    const char *groups[3];
} dp_spec;

/* Adds a DP the way the provider does: roles, props, sources, groups, one
 * site_control bump, all in one transaction. */
static void add_dp(const dp_spec *d)
{
    char n[DPF_NAL_MAX + 1];
    nal(d->server, n);
    assert_int_equal(dpf_db_begin(g_db), DPF_OK);
    const char *rs[] = {"PS1", DPF_ROLE_SITE_SYSTEM, n, d->server};
    sql("INSERT INTO site_system_roles (site_code, role_name, nal_path, server_name) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (site_code, role_name, nal_path) DO NOTHING", 4, rs);
    const char *rd[] = {"PS1", DPF_ROLE_DP, n, d->server};
    char id[32];
    snprintf(id, sizeof id, "%s",
             text("INSERT INTO site_system_roles (site_code, role_name, nal_path, server_name) "
                  "VALUES ($1, $2, $3, $4) RETURNING id", 4, rd));
    char pxe[4], pull[4];
    snprintf(pxe, sizeof pxe, "%d", d->pxe);
    snprintf(pull, sizeof pull, "%d", d->pull);
    const char *pp[] = {id, DPF_PROP_DESCRIPTION, d->description, DPF_PROP_DP_DRIVE, "",
                        DPF_PROP_IS_PXE, pxe, DPF_PROP_IS_PULL_DP, pull,
                        DPF_PROP_PRIORITY, "200", DPF_PROP_MIN_FREE_SPACE, "50",
                        DPF_PROP_TRANSFER_RATE, "0", DPF_PROP_SSL_STATE, "0"};
    sql("INSERT INTO site_system_role_props (role_id, name, value1, value3) VALUES "
        "($1, $2, $3, 0), ($1, $4, $5, 0), "
        "($1, $6, '', $7::bigint), ($1, $8, '', $9::bigint), "
        "($1, $10, '', $11::bigint), ($1, $12, '', $13::bigint), "
        "($1, $14, '', $15::bigint), ($1, $16, '', $17::bigint) "
        "ON CONFLICT (role_id, name) DO UPDATE "
        "SET value1 = EXCLUDED.value1, value3 = EXCLUDED.value3", 17, pp);
    /* inserted in reverse priority order: hman must sort them */
    for (int i = 2; i >= 0; i--) {
        if (d->sources[i] == NULL)
            continue;
        char prio[8];
        snprintf(prio, sizeof prio, "%d", i + 1);
        const char *ps[] = {id, d->sources[i], prio};
        sql("INSERT INTO pull_dp_sources (role_id, source_server, priority) VALUES ($1, $2, $3)",
            3, ps);
    }
    for (int i = 2; i >= 0; i--) {
        if (d->groups[i] == NULL)
            continue;
        const char *pg[] = {d->groups[i], "PS1"};
        sql("INSERT INTO boundary_groups (name, site_code) VALUES ($1, $2) "
            "ON CONFLICT (name) DO NOTHING", 2, pg);
        const char *pm[] = {d->groups[i], n, d->server};
        sql("INSERT INTO boundary_group_members (group_id, nal_path, server_name) "
            "SELECT id, $2, $3 FROM boundary_groups WHERE name = $1", 3, pm);
    }
    sql("UPDATE site_control SET serial = serial + 1, updated_at = now() WHERE site_code = 'PS1'",
        0, NULL);
    assert_int_equal(dpf_db_commit(g_db), DPF_OK);
}

static void set_description(const char *server, const char *desc)
{
    const char *p[] = {desc, server, DPF_PROP_DESCRIPTION, DPF_ROLE_DP};
    sql("UPDATE site_system_role_props SET value1 = $1 WHERE name = $3 AND role_id = "
        "(SELECT id FROM site_system_roles WHERE server_name = $2 AND role_name = $4)", 4, p);
}

static void clear_outbox(void)
{
    sql("DELETE FROM outbox", 0, NULL);
}

/* The outbox rows that wake other services (not the status messages'). */
static long long events(void)
{
    return num("SELECT count(*) FROM outbox WHERE subject NOT LIKE 'statmsg.%'", 0, NULL);
}

/* 3306 messages for the change path waiting in the outbox for dbmon: a
 * status_messages row and the outbox row naming it, with the same
 * correlation id. */
static long long processed_msgs(const char *path)
{
    const char *p[] = {path};
    return num("SELECT count(*) FROM outbox o JOIN status_messages s "
               "ON o.object_key = s.id::text WHERE s.msg_id = 3306 AND s.istr[1] = $1 AND "
               "s.istr[2] = 'ConfigMgr Primary Site 1' AND s.istr[3] = 'PS1' AND "
               "s.site_code = 'PS1' AND o.table_name = 'StatusMessages' AND "
               "o.subject = 'statmsg.PS1.SMS_HIERARCHY_MANAGER.3306' AND "
               "o.correlation_id = s.correlation_id", 1, p);
}

static const dp_spec DP1 = {"PS1DP1.CONTOSO.COM", "PS1 Standard DP", 1, 0, {NULL}, {NULL}};
static const dp_spec DP2 = {"PS1DP2.CONTOSO.COM", "it's; DROP TABLE sites;--", 0, 1,
                            {"ps1dp1.contoso.com", "PS1SITE.CONTOSO.COM", NULL},
                            {"PS1 Assignment And Content", "PS1 Branch Offices", NULL}};

/* The CRC an independent reading of the spec gives. */
static void expected_crc(const dp_spec *d, const char *sources, const char *groups, char out[9])
{
    dpf_dp_props p = {
        .server_name = d->server, .site_code = "PS1", .description = d->description,
        .dp_drive = "", .pull_sources = sources, .boundary_groups = groups,
        .is_pxe = d->pxe, .is_pull_dp = d->pull, .priority = 200, .min_free_space_mb = 50,
        .content_validation_hours = DPF_DP_VALIDATION_HOURS_DEFAULT, /* no property: 168 */
    };
    dpf_crc_hex(dpf_dp_crc(&p), out);
}

static const char *dp_col(const char *col_sql, const char *server)
{
    const char *p[] = {server};
    char q[256];
    snprintf(q, sizeof q, "SELECT %s FROM distribution_points WHERE server_name = $1", col_sql);
    return text(q, 1, p);
}

static void test_new_dps_inserted(void **state)
{
    add_dp(&DP1);
    add_dp(&DP2);
    clear_outbox(); /* the site control rows; keep only what hman causes */
    hman_result res;
    assert_int_equal(hman_process_site(g_db, "PS1", "corr-new-1", &res), DPF_OK);
    assert_int_equal(res.inserted, 2);
    assert_int_equal(res.updated + res.unchanged + res.removed, 0);
    assert_string_equal(res.site_name, "ConfigMgr Primary Site 1");
    assert_int_equal(res.sysres_added, 4);

    char crc1[9], crc2[9], n1[DPF_NAL_MAX + 1];
    expected_crc(&DP1, "", "", crc1);
    expected_crc(&DP2, "PS1DP1.CONTOSO.COM:1,PS1SITE.CONTOSO.COM:2",
                 "PS1 Assignment And Content,PS1 Branch Offices", crc2);
    nal(DP1.server, n1);
    assert_string_equal(dp_col("dp_crc", DP1.server), crc1);
    assert_string_equal(dp_col("dp_crc", DP2.server), crc2);
    assert_string_equal(dp_col("nal_path", DP1.server), n1);
    assert_string_equal(dp_col("is_pxe::text || is_pull_dp::text", DP1.server), "truefalse");
    assert_string_equal(dp_col("is_pull_dp", DP2.server), "t");
    assert_string_equal(dp_col("description", DP2.server), "it's; DROP TABLE sites;--");
    assert_string_equal(dp_col("pull_sources", DP2.server),
                        "PS1DP1.CONTOSO.COM:1,PS1SITE.CONTOSO.COM:2");
    assert_string_equal(dp_col("boundary_groups", DP2.server),
                        "PS1 Assignment And Content,PS1 Branch Offices");
    assert_string_equal(dp_col("action::text || state::text || install_state", DP1.server),
                        "00Pending");
    assert_int_equal(num("SELECT count(*) FROM distribution_points WHERE identity_guid ~ "
                         "'^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'",
                         0, NULL), 2);

    /* the four default client packages on each new DP */
    assert_int_equal(num("SELECT count(*) FROM dp_packages", 0, NULL), 8);
    assert_int_equal(num("SELECT count(*) FROM dp_packages p JOIN distribution_points d "
                         "USING (dpid) WHERE d.server_name = 'PS1DP1.CONTOSO.COM' AND "
                         "p.package_id IN ('CS100002','CS100003','CS100024','CS100025')", 0,
                         NULL), 4);
    /* a certificate per DP, under the DP's own GUID */
    assert_int_equal(num("SELECT count(*) FROM dp_certificates c JOIN distribution_points d "
                         "ON d.server_name = c.server_name AND d.identity_guid = c.identity_guid "
                         "WHERE c.cert_type = 0 AND c.thumbprint ~ '^[0-9A-F]{40}$'", 0, NULL), 2);
    /* SysResList: both roles of both servers */
    assert_int_equal(num("SELECT count(*) FROM sys_res_list WHERE site_code = 'PS1'", 0, NULL), 4);
    /* one dp.ins per new DP, carrying the correlation id */
    assert_int_equal(num("SELECT count(*) FROM outbox WHERE subject LIKE 'dp.ins.%' AND "
                         "reason = 'insert' AND correlation_id = 'corr-new-1'", 0, NULL), 2);
    assert_int_equal(events(), 2);
}

static void test_unchanged_writes_nothing(void **state)
{
    add_dp(&DP1);
    add_dp(&DP2);
    hman_result res;
    assert_int_equal(hman_process_site(g_db, "PS1", "c1", &res), DPF_OK);
    const char *before = "SELECT string_agg(dpid || dp_crc || updated_at::text, ',' ORDER BY dpid) "
                         "FROM distribution_points";
    char snap[1024], certs[1024];
    snprintf(snap, sizeof snap, "%s", text(before, 0, NULL));
    snprintf(certs, sizeof certs, "%s",
             text("SELECT string_agg(updated_at::text, ',' ORDER BY server_name) "
                  "FROM dp_certificates", 0, NULL));
    clear_outbox();

    /* an identical site control change */
    sql("UPDATE site_control SET serial = serial + 1 WHERE site_code = 'PS1'", 0, NULL);
    clear_outbox();
    assert_int_equal(hman_process_site(g_db, "PS1", "c2", &res), DPF_OK);
    assert_int_equal(res.unchanged, 2);
    assert_int_equal(res.inserted + res.updated + res.removed, 0);
    assert_int_equal(res.sysres_added + res.sysres_removed, 0);
    assert_string_equal(text(before, 0, NULL), snap);
    assert_string_equal(text("SELECT string_agg(updated_at::text, ',' ORDER BY server_name) "
                             "FROM dp_certificates", 0, NULL), certs);
    assert_int_equal(events(), 0); /* no new install */
    assert_int_equal(processed_msgs("sitecontrol.changed.PS1"), 1); /* but processed: 3306 */
    assert_int_equal(num("SELECT count(*) FROM dp_packages", 0, NULL), 8);
}

static void test_changed_description_updates_only_that_dp(void **state)
{
    add_dp(&DP1);
    add_dp(&DP2);
    hman_result res;
    assert_int_equal(hman_process_site(g_db, "PS1", "c1", &res), DPF_OK);
    sql("UPDATE distribution_points SET install_state = 'Installed'", 0, NULL);
    char dp2_before[256], guid1[64];
    snprintf(dp2_before, sizeof dp2_before, "%s",
             dp_col("dp_crc || updated_at::text || install_state", DP2.server));
    snprintf(guid1, sizeof guid1, "%s", dp_col("identity_guid", DP1.server));
    clear_outbox();

    set_description(DP1.server, "PS1 Standard DP - TestPropertyChange1");
    sql("UPDATE site_control SET serial = serial + 1 WHERE site_code = 'PS1'", 0, NULL);
    clear_outbox();
    assert_int_equal(hman_process_site(g_db, "PS1", "corr-change", &res), DPF_OK);
    assert_int_equal(res.updated, 1);
    assert_int_equal(res.unchanged, 1);
    assert_int_equal(res.inserted, 0);

    dp_spec changed = DP1;
    changed.description = "PS1 Standard DP - TestPropertyChange1";
    char crc[9];
    expected_crc(&changed, "", "", crc);
    assert_string_equal(dp_col("dp_crc", DP1.server), crc);
    assert_string_equal(dp_col("description", DP1.server), changed.description);
    /* distmgr's state is its own: the dp.ins below is what makes it act */
    assert_string_equal(dp_col("install_state", DP1.server), "Installed");
    assert_string_equal(dp_col("identity_guid", DP1.server), guid1); /* same identity */
    assert_string_equal(dp_col("dp_crc || updated_at::text || install_state", DP2.server),
                        dp2_before);
    /* exactly one dp.ins, for DP1, reason update */
    const char *p[] = {DP1.server};
    assert_int_equal(num("SELECT count(*) FROM outbox o JOIN distribution_points d "
                         "ON o.subject = 'dp.ins.' || d.dpid WHERE d.server_name = $1 "
                         "AND o.reason = 'update' AND o.correlation_id = 'corr-change'", 1, p), 1);
    assert_int_equal(events(), 1);
    assert_int_equal(num("SELECT count(*) FROM dp_packages", 0, NULL), 8); /* not added again */
}

static void set_validation_hours(const char *server, const char *hours)
{
    const char *p[] = {server, DPF_ROLE_DP, DPF_PROP_CONTENT_VALIDATION, hours};
    sql("INSERT INTO site_system_role_props (role_id, name, value1, value3) "
        "SELECT id, $3, '', $4::bigint FROM site_system_roles WHERE server_name = $1 AND "
        "role_name = $2 ON CONFLICT (role_id, name) DO UPDATE SET value3 = EXCLUDED.value3",
        4, p);
    sql("UPDATE site_control SET serial = serial + 1 WHERE site_code = 'PS1'", 0, NULL);
}

/* ContentValidationIntervalHours travels like Priority: site control ->
 * distribution_points, part of the CRC (a DP at the default keeps the CRC it
 * had without the property); out-of-range values are clamped, not fatal. */
static void test_validation_interval_copied(void **state)
{
    add_dp(&DP1);
    add_dp(&DP2);
    hman_result res;
    assert_int_equal(hman_process_site(g_db, "PS1", "c1", &res), DPF_OK);
    assert_string_equal(dp_col("content_validation_interval_hours", DP1.server), "168");
    char crc168[9];
    snprintf(crc168, sizeof crc168, "%s", dp_col("dp_crc", DP1.server));

    /* the default written explicitly changes nothing */
    set_validation_hours(DP1.server, "168");
    assert_int_equal(hman_process_site(g_db, "PS1", "c2", &res), DPF_OK);
    assert_int_equal(res.unchanged, 2);
    assert_string_equal(dp_col("dp_crc", DP1.server), crc168);

    set_validation_hours(DP1.server, "24");
    clear_outbox();
    assert_int_equal(hman_process_site(g_db, "PS1", "c3", &res), DPF_OK);
    assert_int_equal(res.updated, 1);
    assert_int_equal(res.unchanged, 1);
    assert_string_equal(dp_col("content_validation_interval_hours", DP1.server), "24");
    assert_string_equal(dp_col("content_validation_interval_hours", DP2.server), "168");
    assert_string_not_equal(dp_col("dp_crc", DP1.server), crc168);
    assert_int_equal(events(), 1); /* one dp.ins for DP1 */

    set_validation_hours(DP1.server, "0");
    assert_int_equal(hman_process_site(g_db, "PS1", "c4", &res), DPF_OK);
    assert_string_equal(dp_col("content_validation_interval_hours", DP1.server), "0");

    set_validation_hours(DP1.server, "99999");
    assert_int_equal(hman_process_site(g_db, "PS1", "c5", &res), DPF_OK);
    assert_string_equal(dp_col("content_validation_interval_hours", DP1.server), "8760");
}

static void test_removed_dp_marked_deleted(void **state)
{
    add_dp(&DP1);
    add_dp(&DP2);
    hman_result res;
    assert_int_equal(hman_process_site(g_db, "PS1", "c1", &res), DPF_OK);
    char dpid2[32];
    snprintf(dpid2, sizeof dpid2, "%s", dp_col("dpid", DP2.server));
    clear_outbox();

    /* the provider deletes the DP's roles and bumps site control */
    const char *p[] = {DP2.server};
    sql("DELETE FROM site_system_roles WHERE server_name = $1", 1, p);
    sql("UPDATE site_control SET serial = serial + 1 WHERE site_code = 'PS1'", 0, NULL);
    clear_outbox();
    assert_int_equal(hman_process_site(g_db, "PS1", "corr-rm", &res), DPF_OK);
    assert_int_equal(res.removed, 1);
    assert_int_equal(res.unchanged, 1);
    assert_int_equal(res.sysres_removed, 2);
    assert_string_equal(dp_col("action::text || state::text", DP2.server), "30");
    assert_int_equal(num("SELECT count(*) FROM sys_res_list WHERE server_name = $1", 1, p), 0);
    const char *pd[] = {dpid2};
    assert_int_equal(num("SELECT count(*) FROM dp_notification WHERE dpid = $1::bigint", 1, pd), 1);
    /* dp.dpn for the removed DP, and no dp.ins */
    assert_int_equal(num("SELECT count(*) FROM outbox WHERE subject = 'dp.dpn.' || $1 AND "
                         "correlation_id = 'corr-rm'", 1, pd), 1);
    assert_int_equal(events(), 1);

    /* processed again: already being removed, nothing more */
    clear_outbox();
    assert_int_equal(hman_process_site(g_db, "PS1", "c3", &res), DPF_OK);
    assert_int_equal(res.removed, 0);
    assert_int_equal(num("SELECT count(*) FROM dp_notification", 0, NULL), 1);
    assert_int_equal(events(), 0);
}

static void test_failure_rolls_back_everything(void **state)
{
    /* a DP whose insert violates a constraint, processed after two good ones */
    sql("ALTER TABLE distribution_points ADD CONSTRAINT no_boom CHECK (description <> 'boom')",
        0, NULL);
    dp_spec bad = {"PS1DP9.CONTOSO.COM", "boom", 0, 0, {NULL}, {NULL}};
    add_dp(&DP1);
    add_dp(&DP2);
    add_dp(&bad);
    clear_outbox();

    hman_result res;
    dpf_log_set_corr("corr-fail");
    dpf_status st = hman_process_change(g_db, "PS1", "corr-fail", 77, &res);
    assert_int_equal(st, DPF_ERR_DB);
    char n9[DPF_NAL_MAX + 1];
    nal(bad.server, n9);
    assert_string_equal(res.failed_nal, n9);
    assert_non_null(strstr(res.reason, "inserting the DP failed"));
    assert_non_null(strstr(res.reason, "no_boom"));
    assert_int_equal(res.inserted, 0);

    /* nothing of the change survived */
    assert_int_equal(num("SELECT count(*) FROM distribution_points", 0, NULL), 0);
    assert_int_equal(num("SELECT count(*) FROM sys_res_list", 0, NULL), 0);
    assert_int_equal(num("SELECT count(*) FROM dp_packages", 0, NULL), 0);
    assert_int_equal(num("SELECT count(*) FROM dp_certificates", 0, NULL), 0);
    assert_int_equal(events(), 0);
    assert_int_equal(num("SELECT count(*) FROM hman_processed_changes", 0, NULL), 0);
    /* and no 3306 for it: neither the row nor anything for dbmon to publish */
    assert_int_equal(num("SELECT count(*) FROM status_messages", 0, NULL), 0);
    assert_int_equal(num("SELECT count(*) FROM outbox", 0, NULL), 0);

    /* once the cause is gone the same change (redelivered) goes through whole */
    sql("ALTER TABLE distribution_points DROP CONSTRAINT no_boom", 0, NULL);
    assert_int_equal(hman_process_change(g_db, "PS1", "corr-fail", 77, &res), DPF_OK);
    assert_int_equal(res.already, 0);
    assert_int_equal(res.inserted, 3);
    assert_int_equal(events(), 3);
    assert_int_equal(num("SELECT count(*) FROM hman_processed_changes WHERE change_id = 77", 0,
                         NULL), 1);
    /* the 3306 committed with it, once, with the change's correlation id */
    assert_int_equal(processed_msgs("sitecontrol.changed.PS1 [77]"), 1);
    assert_int_equal(num("SELECT count(*) FROM status_messages WHERE msg_id = 3306 AND "
                         "correlation_id = 'corr-fail'", 0, NULL), 1);
    dpf_log_set_corr(NULL);
}

static void test_same_change_delivered_twice_is_processed_once(void **state)
{
    add_dp(&DP1);
    clear_outbox();
    hman_result res;
    assert_int_equal(hman_process_change(g_db, "PS1", "c1", 4242, &res), DPF_OK);
    assert_int_equal(res.already, 0);
    assert_int_equal(res.inserted, 1);

    /* change 4242 comes again (dbmon republished it after a crash): even
     * with new site control data waiting, nothing is processed or written */
    add_dp(&DP2);
    clear_outbox();
    assert_int_equal(hman_process_change(g_db, "PS1", "c1", 4242, &res), DPF_OK);
    assert_int_equal(res.already, 1);
    assert_int_equal(res.inserted + res.updated + res.unchanged + res.removed, 0);
    assert_int_equal(num("SELECT count(*) FROM distribution_points", 0, NULL), 1);
    assert_int_equal(events(), 0);
    /* one 3306 for change 4242, none for the redelivery */
    assert_int_equal(num("SELECT count(*) FROM outbox", 0, NULL), 0);
    assert_int_equal(num("SELECT count(*) FROM status_messages WHERE msg_id = 3306", 0, NULL), 1);

    /* the next change picks the new DP up */
    assert_int_equal(hman_process_change(g_db, "PS1", "c2", 4243, &res), DPF_OK);
    assert_int_equal(res.already, 0);
    assert_int_equal(res.inserted, 1);
    assert_int_equal(res.unchanged, 1);
    assert_int_equal(num("SELECT count(*) FROM hman_processed_changes", 0, NULL), 2);
    assert_int_equal(processed_msgs("sitecontrol.changed.PS1 [4243]"), 1);
}

static void test_later_dp_only_inserts_that_one(void **state)
{
    add_dp(&DP1);
    hman_result res;
    assert_int_equal(hman_process_site(g_db, "PS1", "c1", &res), DPF_OK);
    clear_outbox();
    add_dp(&DP2);
    clear_outbox();
    assert_int_equal(hman_process_site(g_db, "PS1", "c2", &res), DPF_OK);
    assert_int_equal(res.inserted, 1);
    assert_int_equal(res.unchanged, 1);
    assert_int_equal(res.sysres_added, 2);
    assert_int_equal(events(), 1);
    assert_int_equal(num("SELECT count(*) FROM dp_packages", 0, NULL), 8);
}

static void test_unknown_or_bad_site(void **state)
{
    hman_result res;
    assert_int_equal(hman_process_site(g_db, "ZZ9", "c", &res), DPF_ERR_NOT_FOUND);
    assert_non_null(strstr(res.reason, "ZZ9"));
    assert_int_equal(hman_process_site(g_db, "p'1", "c", &res), DPF_ERR_INVALID);
    assert_int_equal(hman_process_site(g_db, NULL, "c", &res), DPF_ERR_INVALID);
    /* the connection is still usable afterwards */
    assert_int_equal(hman_process_site(g_db, "PS1", "c", &res), DPF_OK);
    assert_int_equal(res.inserted, 0);
}

/* The outbox id of the last site control change written (what dbmon
 * publishes as the change id). */
static long long last_change_id(void)
{
    return num("SELECT max(id) FROM outbox WHERE subject = 'sitecontrol.changed.PS1'", 0, NULL);
}

static int count_in(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* A burst: two changes written before hman gets to the first. The pass
 * for the first sees both; the second is acknowledged with its own 3306
 * and no second pass. A change written after the pass gets a pass. */
static void test_burst_covered_by_one_pass(void **state)
{
    add_dp(&DP1);
    long long c1 = last_change_id();
    add_dp(&DP2);
    long long c2 = last_change_id();
    assert_true(c2 > c1);
    clear_outbox();
    hman_result res;
    dpf_log_set_level(DPF_LOG_INFO);
    dpf_capture_begin();
    dpf_log_set_corr("corr-b1"); /* as the handler does: 3306 carries the thread's */
    assert_int_equal(hman_process_change(g_db, "PS1", "corr-b1", c1, &res), DPF_OK);
    assert_int_equal(res.covered, 0);
    assert_int_equal(res.inserted, 2); /* both DPs: the second change was committed */
    assert_int_equal(num("SELECT serial FROM site_control WHERE site_code = 'PS1'", 0, NULL),
                     res.serial);
    clear_outbox();
    dpf_log_set_corr("corr-b2");
    assert_int_equal(hman_process_change(g_db, "PS1", "corr-b2", c2, &res), DPF_OK);
    char *out = dpf_capture_end();
    assert_int_equal(res.covered, 1);
    assert_int_equal(res.already, 0);
    assert_int_equal(res.inserted + res.updated + res.unchanged + res.removed, 0);
    assert_int_equal(events(), 0);
    /* its own 3306, with its correlation id, and recorded as processed */
    char path[64];
    snprintf(path, sizeof path, "sitecontrol.changed.PS1 [%lld]", c2);
    assert_int_equal(processed_msgs(path), 1);
    assert_int_equal(num("SELECT count(*) FROM status_messages WHERE msg_id = 3306 AND "
                         "correlation_id = 'corr-b2'", 0, NULL), 1);
    char id[24];
    snprintf(id, sizeof id, "%lld", c2);
    const char *pc[] = {id};
    assert_int_equal(num("SELECT count(*) FROM hman_processed_changes WHERE change_id = "
                         "$1::bigint", 1, pc), 1);
    /* one pass in the log, and the line that says why there was no second */
    assert_int_equal(count_in(out, "Processing site control file: Site PS1"), 1);
    char want[128];
    snprintf(want, sizeof want, "[corr-b2] ~Site control change [%lld] of site PS1 was covered "
             "by the pass for change [%lld]", c2, c1);
    assert_non_null(strstr(out, want));
    free(out);

    /* delivered again: already processed, no second 3306 */
    clear_outbox();
    assert_int_equal(hman_process_change(g_db, "PS1", "corr-b2", c2, &res), DPF_OK);
    assert_int_equal(res.already, 1);
    assert_int_equal(num("SELECT count(*) FROM outbox", 0, NULL), 0);

    /* a change written after the pass: a pass of its own */
    set_description(DP1.server, "after the burst");
    sql("UPDATE site_control SET serial = serial + 1 WHERE site_code = 'PS1'", 0, NULL);
    long long c3 = last_change_id();
    clear_outbox();
    assert_int_equal(hman_process_change(g_db, "PS1", "corr-b3", c3, &res), DPF_OK);
    assert_int_equal(res.covered, 0);
    assert_int_equal(res.updated, 1);
    assert_int_equal(res.unchanged, 1);
    assert_string_equal(dp_col("description", DP1.server), "after the burst");
    dpf_log_set_corr(NULL);
}

/* At info level the unchanged DPs are one line; each DP's line is debug. */
static void test_unchanged_dps_summarized(void **state)
{
    const dp_spec more[] = {
        {"PS1DP3.CONTOSO.COM", "three", 0, 0, {NULL}, {NULL}},
        {"PS1DP4.CONTOSO.COM", "four", 0, 0, {NULL}, {NULL}},
    };
    add_dp(&DP1);
    add_dp(&DP2);
    add_dp(&more[0]);
    add_dp(&more[1]);
    hman_result res;
    assert_int_equal(hman_process_site(g_db, "PS1", "c1", &res), DPF_OK);
    set_description(DP1.server, "changed");
    sql("UPDATE site_control SET serial = serial + 1 WHERE site_code = 'PS1'", 0, NULL);

    dpf_log_set_level(DPF_LOG_INFO);
    dpf_capture_begin();
    assert_int_equal(hman_process_site(g_db, "PS1", "c2", &res), DPF_OK);
    char *out = dpf_capture_end();
    assert_int_equal(res.updated, 1);
    assert_int_equal(res.unchanged, 3);
    assert_int_equal(count_in(out, "~Will not update 3 DPs of site PS1 (unchanged)"), 1);
    assert_int_equal(count_in(out, "Will not update DP "), 0);
    char n1[DPF_NAL_MAX + 1], line[DPF_NAL_MAX + 32];
    nal(DP1.server, n1);
    snprintf(line, sizeof line, "~Updated DP %s. DBCRC:", n1);
    assert_int_equal(count_in(out, line), 1);
    assert_int_equal(count_in(out, "Processing site control file: Site PS1"), 1);
    free(out);

    sql("UPDATE site_control SET serial = serial + 1 WHERE site_code = 'PS1'", 0, NULL);
    dpf_log_set_level(DPF_LOG_DEBUG);
    dpf_capture_begin();
    assert_int_equal(hman_process_site(g_db, "PS1", "c3", &res), DPF_OK);
    out = dpf_capture_end();
    dpf_log_set_level(DPF_LOG_INFO);
    assert_int_equal(count_in(out, " D SMS_HIERARCHY_MANAGER"), count_in(out, " D "));
    assert_int_equal(count_in(out, "~Will not update DP "), 4);
    assert_int_equal(count_in(out, "~Will not update 4 DPs of site PS1 (unchanged)"), 1);
    free(out);
}

/* HmanSetAsideFailedDPs: the DP whose insert fails is rolled back alone,
 * reported with 3308 in the same transaction, and the others go in; the
 * default stays all-or-nothing (test_failure_rolls_back_everything). */
static void test_failed_dp_set_aside(void **state)
{
    sql("ALTER TABLE distribution_points ADD CONSTRAINT no_boom CHECK (description <> 'boom')",
        0, NULL);
    dp_spec bad = {"PS1DP9.CONTOSO.COM", "boom", 0, 0, {NULL}, {NULL}};
    add_dp(&DP1);
    add_dp(&bad);
    add_dp(&DP2);
    long long c = last_change_id();
    clear_outbox();

    hman_result res;
    hman_opts opts = {.set_aside_failed = 1};
    dpf_log_set_level(DPF_LOG_INFO);
    dpf_log_set_corr("corr-aside");
    dpf_capture_begin();
    assert_int_equal(hman_process_change_opts(g_db, "PS1", "corr-aside", c, &opts, &res), DPF_OK);
    char *out = dpf_capture_end();
    assert_int_equal(res.inserted, 2);
    assert_int_equal(res.set_aside, 1);
    char n9[DPF_NAL_MAX + 1];
    nal(bad.server, n9);
    /* the two good DPs with their packages and certificates, nothing of the bad one */
    assert_int_equal(num("SELECT count(*) FROM distribution_points", 0, NULL), 2);
    assert_int_equal(num("SELECT count(*) FROM dp_packages", 0, NULL), 8);
    assert_int_equal(num("SELECT count(*) FROM dp_certificates", 0, NULL), 2);
    const char *p9[] = {bad.server};
    assert_int_equal(num("SELECT count(*) FROM distribution_points WHERE server_name = $1", 1,
                         p9), 0);
    assert_int_equal(events(), 2); /* dp.ins for the two */
    /* 3308 naming the DP and why, waiting in the outbox with the change */
    const char *pm[] = {n9};
    assert_int_equal(num("SELECT count(*) FROM status_messages s JOIN outbox o "
                         "ON o.object_key = s.id::text AND o.table_name = 'StatusMessages' "
                         "WHERE s.msg_id = 3308 AND "
                         "s.severity = 'E' AND s.istr[3] = $1 AND s.istr[2] = 'PS1' AND "
                         "s.istr[4] LIKE 'inserting the DP failed:%no_boom%' AND "
                         "s.attrs::text LIKE '%404%' AND s.correlation_id = 'corr-aside'",
                         1, pm), 1);
    char path[64];
    snprintf(path, sizeof path, "sitecontrol.changed.PS1 [%lld]", c);
    assert_int_equal(processed_msgs(path), 1); /* and the change is processed: 3306 */
    assert_non_null(strstr(out, "~Set aside DP "));
    assert_int_equal(count_in(out, "~Inserted DP "), 2);
    assert_null(strstr(out, "Inserted DP [\"Display=\\\\PS1DP9"));
    free(out);

    /* once the cause is gone the next change inserts it */
    sql("ALTER TABLE distribution_points DROP CONSTRAINT no_boom", 0, NULL);
    sql("UPDATE site_control SET serial = serial + 1 WHERE site_code = 'PS1'", 0, NULL);
    c = last_change_id();
    assert_int_equal(hman_process_change_opts(g_db, "PS1", "corr-aside2", c, &opts, &res),
                     DPF_OK);
    assert_int_equal(res.inserted, 1);
    assert_int_equal(res.set_aside, 0);
    assert_int_equal(res.unchanged, 2);
    assert_int_equal(num("SELECT count(*) FROM distribution_points WHERE server_name = $1", 1,
                         p9), 1);
    dpf_log_set_corr(NULL);
}

int main(void)
{
    dpf_log_init(DPF_COMP_HMAN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_dps_inserted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unchanged_writes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changed_description_updates_only_that_dp, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_validation_interval_copied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removed_dp_marked_deleted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_rolls_back_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_later_dp_only_inserts_that_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_change_delivered_twice_is_processed_once,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_or_bad_site, setup, teardown),
        cmocka_unit_test_setup_teardown(test_burst_covered_by_one_pass, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unchanged_dps_summarized, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_dp_set_aside, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* dbmon against real PostgreSQL and nats-server: outbox rows written by the
 * real triggers are published once, in order, with the message id
 * "outbox-<id>" and the correlation header, and deleted; a crash between
 * publish and commit, a restart mid-way and a row that can never become an
 * event lose nothing and duplicate nothing; the real binary wakes on NOTIFY,
 * drains what piled up while it was down and stops cleanly on SIGTERM.
 * Status messages raised in a transaction reach DPF_STATMSG through the
 * outbox: once if it commits (also when dbmon dies between publish and
 * delete, or a publish fails), never if it rolls back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <nats/nats.h>

#include <dpf/log.h>
#include <dpf/sitecontrol.h>
#include <dpf/statmsg.h>
#include <dpf/util.h>
#include "dbmon.h"
#include "dpf_test.h"
#include "dpfleet.pb-c.h"

extern char **environ;

#define MAXROWS 16

static char g_url[1024];
static char g_dbname[64];
static char g_site[8];
static int g_seq;
static dpf_db *g_db;
static dpf_bus *g_bus;
static natsConnection *g_nc;
static jsCtx *g_js;
static pid_t g_child; /* a running dbmon binary, stopped by teardown if a test failed */

/* An outbox row as the triggers wrote it. */
typedef struct expect {
    long long id;
    char subject[64];
    char corr[64];
    char reason[16];
} expect;

static void sql(const char *q, int n, const char *const *p)
{
    dpf_test_sql(g_db, q, n, p);
}

static long long num(const char *q, int n, const char *const *p)
{
    return dpf_test_num(g_db, q, n, p);
}

static int setup(void **state)
{
    dpf_log_init(DPF_COMP_DBMON);
    snprintf(g_dbname, sizeof g_dbname, "dbmon_outbox_%d", ++g_seq);
    const char *nats_url = dpf_test_env("NATS_URL");
    if (nats_url == NULL || dpf_test_db_create(g_dbname, g_url, sizeof g_url) != 0 ||
        dpf_db_connect(g_url, &g_db) != DPF_OK)
        return -1;
    /* message ids and subjects unique to this run: a fresh database starts
     * its sequences at 1, and the stream's duplicate window would drop a
     * second "outbox-1" published within two minutes */
    char start[32];
    unsigned r = 0;
    if (getrandom(&r, sizeof r, 0) != sizeof r)
        r = (unsigned)getpid();
    snprintf(start, sizeof start, "%llu", 1000000000ULL + (unsigned long long)(r % 1000000) * 1000);
    const char *p[] = {start};
    sql("SELECT setval('outbox_id_seq', $1::bigint)", 1, p);
    sql("SELECT setval('distribution_points_dpid_seq', $1::bigint)", 1, p);
    snprintf(g_site, sizeof g_site, "Q%02u", r % 100);
    const char *ps[] = {g_site};
    sql("INSERT INTO sites (site_code, site_name, server_name) VALUES ($1, 'Q', 'Q.CONTOSO.COM')",
        1, ps);
    sql("INSERT INTO site_control (site_code) VALUES ($1)", 1, ps);
    if (dpf_bus_connect(nats_url, "test_dbmon_outbox", &g_bus) != DPF_OK ||
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

static int teardown(void **state)
{
    if (g_child > 0) {
        kill(g_child, SIGKILL);
        waitpid(g_child, NULL, 0);
        g_child = 0;
    }
    /* leave no events behind for the consumers of other suites sharing
     * this nats-server (distmgr would try to install our test DPs) */
    char subject[96];
    snprintf(subject, sizeof subject, "sitecontrol.changed.%s", g_site);
    purge(subject);
    dpf_db_result *r = NULL;
    if (dpf_db_exec(g_db, "SELECT dpid FROM distribution_points", 0, NULL, &r) == DPF_OK) {
        for (int i = 0; i < dpf_db_result_rows(r); i++) {
            snprintf(subject, sizeof subject, "dp.ins.%s", dpf_db_result_get(r, i, 0));
            purge(subject);
            snprintf(subject, sizeof subject, "dp.dpn.%s", dpf_db_result_get(r, i, 0));
            purge(subject);
        }
    }
    dpf_db_result_free(r);
    jsCtx_Destroy(g_js);
    natsConnection_Destroy(g_nc);
    g_js = NULL;
    g_nc = NULL;
    dpf_bus_destroy(g_bus);
    dpf_db_destroy(g_db);
    dpf_test_db_drop(g_dbname);
    return 0;
}

/* One committed admin change with a correlation id, through the triggers. */
static void change(const char *corr, const char *q, int n, const char *const *p)
{
    assert_int_equal(dpf_db_begin(g_db), DPF_OK);
    assert_int_equal(dpf_db_set_corr(g_db, corr), DPF_OK);
    sql(q, n, p);
    assert_int_equal(dpf_db_commit(g_db), DPF_OK);
}

static void bump_site(const char *corr)
{
    const char *p[] = {g_site};
    change(corr, "UPDATE site_control SET serial = serial + 1 WHERE site_code = $1", 1, p);
}

static long long insert_dp(const char *server, const char *corr)
{
    const char *p[] = {server, g_site};
    change(corr,
           "INSERT INTO distribution_points (server_name, nal_path, site_code, identity_guid, "
           "dp_crc) VALUES ($1, 'nal-' || $1, $2, 'g', 'ABC')", 2, p);
    const char *q[] = {server};
    return num("SELECT dpid FROM distribution_points WHERE server_name = $1", 1, q);
}

static int outbox(expect *e, int max);

/* bump_site while a dbmon runs: the outbox row is read inside the change's
 * own transaction, before the commit wakes dbmon, which may publish and
 * delete it within a millisecond. Returns the rows seen. */
static int bump_site_seen(const char *corr, expect *e, int max)
{
    const char *p[] = {g_site};
    assert_int_equal(dpf_db_begin(g_db), DPF_OK);
    assert_int_equal(dpf_db_set_corr(g_db, corr), DPF_OK);
    sql("UPDATE site_control SET serial = serial + 1 WHERE site_code = $1", 1, p);
    int n = outbox(e, max);
    assert_int_equal(dpf_db_commit(g_db), DPF_OK);
    return n;
}

/* The outbox as it stands, oldest first. */
static int outbox(expect *e, int max)
{
    dpf_db_result *r = NULL;
    assert_int_equal(dpf_db_exec(g_db, "SELECT id, subject, correlation_id, reason FROM outbox "
                                       "ORDER BY id", 0, NULL, &r), DPF_OK);
    int n = dpf_db_result_rows(r);
    assert_true(n <= max);
    for (int i = 0; i < n; i++) {
        e[i].id = dpf_db_result_int(r, i, 0);
        snprintf(e[i].subject, sizeof e[i].subject, "%s", dpf_db_result_get(r, i, 1));
        snprintf(e[i].corr, sizeof e[i].corr, "%s", dpf_db_result_get(r, i, 2));
        snprintf(e[i].reason, sizeof e[i].reason, "%s", dpf_db_result_get(r, i, 3));
    }
    dpf_db_result_free(r);
    return n;
}

/* Checks the stream holds each expected row exactly once, in id order, with
 * its subject, message id, correlation header and a payload naming the
 * change id. */
static void assert_published_once(const expect *e, int n)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    assert_int_equal(js_GetStreamInfo(&si, g_js, DPF_STREAM_EVENTS, NULL, &jerr), NATS_OK);
    uint64_t first = si->State.FirstSeq, last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);

    int count[MAXROWS] = {0};
    uint64_t seq_of[MAXROWS] = {0};
    for (uint64_t seq = first; seq <= last && seq != 0; seq++) {
        natsMsg *m = NULL;
        jerr = 0;
        if (js_GetMsg(&m, g_js, DPF_STREAM_EVENTS, seq, NULL, &jerr) != NATS_OK)
            continue; /* deleted (acked by some consumer) */
        const char *id = NULL, *corr = NULL;
        natsMsgHeader_Get(m, "Nats-Msg-Id", &id);
        for (int i = 0; id != NULL && i < n; i++) {
            char want[32];
            snprintf(want, sizeof want, "outbox-%lld", e[i].id);
            if (strcmp(id, want) != 0)
                continue;
            count[i]++;
            seq_of[i] = seq;
            assert_string_equal(natsMsg_GetSubject(m), e[i].subject);
            assert_int_equal(natsMsgHeader_Get(m, DPF_CORR_HEADER, &corr), NATS_OK);
            assert_string_equal(corr, e[i].corr);
            const uint8_t *data = (const uint8_t *)natsMsg_GetData(m);
            size_t len = (size_t)natsMsg_GetDataLength(m);
            if (strncmp(e[i].subject, "sitecontrol.changed.", 20) == 0) {
                Dpf__SiteControlChanged *ev = dpf__site_control_changed__unpack(NULL, len, data);
                assert_non_null(ev);
                assert_int_equal(ev->change_id, e[i].id);
                assert_string_equal(ev->site_code, g_site);
                dpf__site_control_changed__free_unpacked(ev, NULL);
            } else if (strncmp(e[i].subject, "dp.ins.", 7) == 0) {
                Dpf__DpInstall *ev = dpf__dp_install__unpack(NULL, len, data);
                assert_non_null(ev);
                assert_int_equal(ev->change_id, e[i].id);
                assert_int_equal(ev->dpid, atoll(e[i].subject + 7));
                assert_string_equal(ev->reason, e[i].reason);
                dpf__dp_install__free_unpacked(ev, NULL);
            } else {
                Dpf__DpNotification *ev = dpf__dp_notification__unpack(NULL, len, data);
                assert_non_null(ev);
                assert_int_equal(ev->change_id, e[i].id);
                dpf__dp_notification__free_unpacked(ev, NULL);
            }
        }
        natsMsg_Destroy(m);
    }
    for (int i = 0; i < n; i++) {
        if (count[i] != 1)
            fail_msg("outbox-%lld (%s) is in the stream %d times", e[i].id, e[i].subject,
                     count[i]);
        if (i > 0 && seq_of[i] <= seq_of[i - 1])
            fail_msg("outbox-%lld was published before outbox-%lld", e[i].id, e[i - 1].id);
    }
}

/* Five changes of every kind the triggers know. */
static int five_changes(expect *e)
{
    bump_site("corr-1");
    long long dpid = insert_dp("A.CONTOSO.COM", "corr-2");
    char id[32];
    snprintf(id, sizeof id, "%lld", dpid);
    const char *p[] = {id};
    change("corr-3", "UPDATE distribution_points SET dp_crc = 'DEF' WHERE dpid = $1::bigint", 1, p);
    change("corr-4", "INSERT INTO dp_notification (dpid) VALUES ($1::bigint)", 1, p);
    bump_site("corr-5");
    int n = outbox(e, MAXROWS);
    assert_int_equal(n, 5);
    return n;
}

static void test_published_once_in_order(void **state)
{
    expect e[MAXROWS];
    int n = five_changes(e);
    assert_string_equal(e[1].reason, "insert");
    assert_string_equal(e[2].reason, "update");
    assert_non_null(strstr(e[3].subject, "dp.dpn."));

    dbmon_drain_stats stats;
    assert_int_equal(dbmon_drain_once(g_db, g_bus, DBMON_BATCH_MAX, g_site, &stats), DPF_OK);
    assert_int_equal(stats.claimed, 5);
    assert_int_equal(stats.published, 5);
    assert_int_equal(stats.dropped, 0);
    assert_int_equal(num("SELECT count(*) FROM outbox", 0, NULL), 0);
    assert_published_once(e, n);

    /* nothing left: an idle drain claims nothing */
    assert_int_equal(dbmon_drain_once(g_db, g_bus, DBMON_BATCH_MAX, g_site, &stats), DPF_OK);
    assert_int_equal(stats.claimed, 0);
}

static void test_crash_between_publish_and_commit(void **state)
{
    /* the DELETE fails as a crash before COMMIT would leave it */
    sql("CREATE TABLE crash (active boolean NOT NULL)", 0, NULL);
    sql("INSERT INTO crash VALUES (true)", 0, NULL);
    sql("CREATE FUNCTION crash_before_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF (SELECT active FROM crash) THEN RAISE EXCEPTION 'simulated crash'; END IF; "
        "RETURN NULL; END $$", 0, NULL);
    sql("CREATE TRIGGER crash BEFORE DELETE ON outbox FOR EACH STATEMENT "
        "EXECUTE FUNCTION crash_before_commit()", 0, NULL);
    expect e[MAXROWS];
    bump_site("corr-a");
    insert_dp("B.CONTOSO.COM", "corr-b");
    bump_site("corr-c");
    int n = outbox(e, MAXROWS);
    assert_int_equal(n, 3);

    dbmon_drain_stats stats;
    assert_int_equal(dbmon_drain_once(g_db, g_bus, DBMON_BATCH_MAX, g_site, &stats), DPF_ERR_DB);
    assert_int_equal(num("SELECT count(*) FROM outbox", 0, NULL), 3); /* nothing lost */
    assert_published_once(e, n);

    /* after the "restart" the same rows are sent again: JetStream drops
     * them as duplicates, and they leave the outbox */
    sql("UPDATE crash SET active = false", 0, NULL);
    assert_int_equal(dbmon_drain_once(g_db, g_bus, DBMON_BATCH_MAX, g_site, &stats), DPF_OK);
    assert_int_equal(stats.published, 3);
    assert_int_equal(num("SELECT count(*) FROM outbox", 0, NULL), 0);
    assert_published_once(e, n);
}

static void test_batches_and_restart(void **state)
{
    expect e[MAXROWS];
    int n = five_changes(e);
    dbmon_drain_stats stats;
    assert_int_equal(dbmon_drain_once(g_db, g_bus, 2, g_site, &stats), DPF_OK);
    assert_int_equal(stats.published, 2);
    /* the oldest two went first */
    const char *p[] = {"x"};
    char lo[32];
    snprintf(lo, sizeof lo, "%lld", e[2].id);
    p[0] = lo;
    assert_int_equal(num("SELECT count(*) FROM outbox WHERE id >= $1::bigint", 1, p), 3);
    assert_int_equal(num("SELECT count(*) FROM outbox", 0, NULL), 3);

    /* dbmon stops and starts again: new connections, the rest goes out */
    dpf_bus_destroy(g_bus);
    dpf_db_destroy(g_db);
    g_bus = NULL;
    assert_int_equal(dpf_db_connect(g_url, &g_db), DPF_OK);
    assert_int_equal(dpf_bus_connect(dpf_test_env("NATS_URL"), "test_dbmon_outbox", &g_bus),
                     DPF_OK);
    assert_int_equal(dbmon_drain_once(g_db, g_bus, DBMON_BATCH_MAX, g_site, &stats), DPF_OK);
    assert_int_equal(stats.published, 3);
    assert_int_equal(num("SELECT count(*) FROM outbox", 0, NULL), 0);
    assert_published_once(e, n);
}

static void test_bad_row_dropped_and_reported(void **state)
{
    change("corr-bad", "INSERT INTO outbox (subject, operation, table_name, trigger_name, "
                       "object_key, correlation_id) VALUES ('bogus.thing', 'INSERT', 'Bogus', "
                       "'Bogus_Ins', 'x', 'corr-bad')", 0, NULL);
    bump_site("corr-after");
    expect e[MAXROWS];
    assert_int_equal(outbox(e, MAXROWS), 2);

    dbmon_drain_stats stats;
    assert_int_equal(dbmon_drain_once(g_db, g_bus, DBMON_BATCH_MAX, g_site, &stats), DPF_OK);
    assert_int_equal(stats.claimed, 2);
    assert_int_equal(stats.published, 1);
    assert_int_equal(stats.dropped, 1);
    /* what is left is the report itself, queued in the same transaction */
    assert_int_equal(num("SELECT count(*) FROM outbox WHERE subject NOT LIKE 'statmsg.%'", 0,
                         NULL), 0);
    assert_int_equal(num("SELECT count(*) FROM outbox o JOIN status_messages s ON "
                         "o.object_key = s.id::text WHERE s.msg_id = 9901", 0, NULL), 1);
    /* reported, with the row's correlation id */
    assert_int_equal(num("SELECT count(*) FROM status_messages WHERE msg_id = 9901 AND "
                         "istr[1] = 'bogus.thing' AND istr[2] LIKE '%no event is defined%' AND "
                         "correlation_id = 'corr-bad' AND "
                         "component = 'SMS_DATABASE_NOTIFICATION_MONITOR'",
                         0, NULL), 1);
    /* the good row behind it was not held up */
    assert_published_once(&e[1], 1);
    /* and the report goes out with the next batch */
    assert_int_equal(dbmon_drain_once(g_db, g_bus, DBMON_BATCH_MAX, g_site, &stats), DPF_OK);
    assert_int_equal(stats.published, 1);
    assert_int_equal(num("SELECT count(*) FROM outbox", 0, NULL), 0);
}

/* ---- status messages ---- */

static uint64_t statmsg_last_seq(void)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    assert_int_equal(js_GetStreamInfo(&si, g_js, DPF_STREAM_STATMSG, NULL, &jerr), NATS_OK);
    uint64_t last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    return last;
}

/* How many messages after seq after are this site's status messages
 * (msg_id NULL) or carry the message id msg_id; the last one's payload,
 * subject and correlation header go to *out, subject and corr when given
 * (*out owned by the caller). */
static int statmsgs_since(uint64_t after, const char *msg_id, Dpf__StatusMessage **out,
                          char *subject, char *corr)
{
    char prefix[32];
    snprintf(prefix, sizeof prefix, "statmsg.%s.", g_site);
    uint64_t last = statmsg_last_seq();
    int n = 0;
    for (uint64_t seq = after + 1; seq <= last; seq++) {
        natsMsg *m = NULL;
        jsErrCode jerr = 0;
        if (js_GetMsg(&m, g_js, DPF_STREAM_STATMSG, seq, NULL, &jerr) != NATS_OK)
            continue;
        const char *id = NULL, *c = NULL;
        natsMsgHeader_Get(m, "Nats-Msg-Id", &id);
        int match = msg_id ? (id != NULL && strcmp(id, msg_id) == 0)
                           : strncmp(natsMsg_GetSubject(m), prefix, strlen(prefix)) == 0;
        if (match) {
            n++;
            if (out != NULL) {
                if (*out != NULL)
                    dpf__status_message__free_unpacked(*out, NULL);
                *out = dpf__status_message__unpack(NULL, (size_t)natsMsg_GetDataLength(m),
                                                   (const uint8_t *)natsMsg_GetData(m));
            }
            if (subject != NULL)
                snprintf(subject, 128, "%s", natsMsg_GetSubject(m));
            if (corr != NULL)
                snprintf(corr, 64, "%s",
                         natsMsgHeader_Get(m, DPF_CORR_HEADER, &c) == NATS_OK ? c : "");
        }
        natsMsg_Destroy(m);
    }
    return n;
}

/* Raises 3306 for g_site in a transaction that commits or rolls back;
 * returns the status_messages id (0 when rolled back). */
static long long raise_3306(const char *corr, const char *istr0, int commit)
{
    assert_int_equal(dpf_db_begin(g_db), DPF_OK);
    dpf_log_set_corr(corr);
    dpf_statmsg m = {.id = DPF_MSG_HMAN_PROCESSED, .severity = 'I', .level = 'M',
                     .site = g_site, .component = "SMS_HIERARCHY_MANAGER"};
    m.istr[0] = istr0;
    m.istr[1] = "Q";
    m.istr[2] = g_site;
    assert_int_equal(dpf_statmsg_raise(g_bus, g_db, &m), DPF_OK);
    dpf_log_set_corr(NULL);
    if (!commit) {
        dpf_db_rollback(g_db);
        return 0;
    }
    assert_int_equal(dpf_db_commit(g_db), DPF_OK);
    const char *p[] = {istr0};
    return num("SELECT id FROM status_messages WHERE istr[1] = $1", 1, p);
}

/* The message id dbmon must use: the record id and the stored raise time. */
static void expected_msg_id(long long record, char *buf, size_t len)
{
    char key[32];
    snprintf(key, sizeof key, "%lld", record);
    const char *p[] = {key};
    long long ms = num("SELECT round(extract(epoch FROM raised_at) * 1000)::bigint "
                       "FROM status_messages WHERE id = $1::bigint", 1, p);
    snprintf(buf, len, "statmsg-%lld-%lld", record, ms);
}

static void test_statmsg_committed_published_once_rolled_back_never(void **state)
{
    uint64_t before = statmsg_last_seq();
    bump_site("corr-site");
    long long rec = raise_3306("corr-sm", "committed", 1);
    raise_3306("corr-rb", "rolled back", 0);
    assert_true(rec > 0);
    /* the rolled-back raise left nothing for dbmon */
    assert_int_equal(num("SELECT count(*) FROM outbox", 0, NULL), 2);
    assert_int_equal(num("SELECT count(*) FROM status_messages", 0, NULL), 1);
    /* and raising published nothing by itself */
    assert_int_equal(statmsgs_since(before, NULL, NULL, NULL, NULL), 0);

    dbmon_drain_stats stats;
    assert_int_equal(dbmon_drain_once(g_db, g_bus, DBMON_BATCH_MAX, g_site, &stats), DPF_OK);
    assert_int_equal(stats.claimed, 2);
    assert_int_equal(stats.published, 2);
    assert_int_equal(num("SELECT count(*) FROM outbox", 0, NULL), 0);

    char msg_id[64], subject[128], corr[64], want[128];
    expected_msg_id(rec, msg_id, sizeof msg_id);
    Dpf__StatusMessage *pb = NULL;
    assert_int_equal(statmsgs_since(before, msg_id, &pb, subject, corr), 1);
    assert_int_equal(statmsgs_since(before, NULL, NULL, NULL, NULL), 1); /* nothing else */
    snprintf(want, sizeof want, "statmsg.%s.SMS_HIERARCHY_MANAGER.3306", g_site);
    assert_string_equal(subject, want);
    assert_string_equal(corr, "corr-sm");
    assert_non_null(pb);
    assert_int_equal(pb->record_id, rec);
    assert_int_equal(pb->id, 3306);
    assert_string_equal(pb->severity, "I");
    assert_string_equal(pb->component, "SMS_HIERARCHY_MANAGER");
    assert_string_equal(pb->site, g_site);
    assert_string_equal(pb->correlation_id, "corr-sm");
    assert_int_equal(pb->pid, getpid());
    assert_int_equal(pb->n_istr, 10);
    assert_string_equal(pb->istr[0], "committed");
    assert_string_equal(pb->istr[9], "");
    assert_int_equal(pb->n_attrs, 0);
    assert_true(llabs((long long)(pb->time_ms - dpf_now_ms())) < 60000);
    char line[4096];
    dpf_statmsg_format(pb, line, sizeof line);
    assert_non_null(strstr(line, "STATMSG: ID=3306 SEV=I LEV=M SOURCE=\"SMS Server\" "
                                 "COMP=\"SMS_HIERARCHY_MANAGER\""));
    dpf__status_message__free_unpacked(pb, NULL);
}

static void test_statmsg_crash_between_publish_and_delete(void **state)
{
    sql("CREATE TABLE crash (active boolean NOT NULL)", 0, NULL);
    sql("INSERT INTO crash VALUES (true)", 0, NULL);
    sql("CREATE FUNCTION crash_before_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF (SELECT active FROM crash) THEN RAISE EXCEPTION 'simulated crash'; END IF; "
        "RETURN NULL; END $$", 0, NULL);
    sql("CREATE TRIGGER crash BEFORE DELETE ON outbox FOR EACH STATEMENT "
        "EXECUTE FUNCTION crash_before_commit()", 0, NULL);
    uint64_t before = statmsg_last_seq();
    long long rec = raise_3306("corr-crash", "crash", 1);
    char msg_id[64];
    expected_msg_id(rec, msg_id, sizeof msg_id);

    dbmon_drain_stats stats;
    assert_int_equal(dbmon_drain_once(g_db, g_bus, DBMON_BATCH_MAX, g_site, &stats), DPF_ERR_DB);
    assert_int_equal(num("SELECT count(*) FROM outbox", 0, NULL), 1); /* still there */
    assert_int_equal(statmsgs_since(before, msg_id, NULL, NULL, NULL), 1);

    /* the restarted dbmon publishes it again with the same message id:
     * JetStream keeps one */
    sql("UPDATE crash SET active = false", 0, NULL);
    assert_int_equal(dbmon_drain_once(g_db, g_bus, DBMON_BATCH_MAX, g_site, &stats), DPF_OK);
    assert_int_equal(stats.published, 1);
    assert_int_equal(num("SELECT count(*) FROM outbox", 0, NULL), 0);
    assert_int_equal(statmsgs_since(before, msg_id, NULL, NULL, NULL), 1);
    assert_int_equal(statmsgs_since(before, NULL, NULL, NULL, NULL), 1);
}

static void test_statmsg_of_missing_row_dropped_and_reported(void **state)
{
    /* an outbox row naming a status message that is not there (deleted by
     * hand) can never be published: dropped, reported, not blocking */
    long long rec = raise_3306("corr-gone", "gone", 1);
    char key[32];
    snprintf(key, sizeof key, "%lld", rec);
    const char *p[] = {key};
    sql("DELETE FROM status_messages WHERE id = $1::bigint", 1, p);
    bump_site("corr-behind");
    expect e[MAXROWS];
    assert_int_equal(outbox(e, MAXROWS), 2);
    dbmon_drain_stats stats;
    assert_int_equal(dbmon_drain_once(g_db, g_bus, DBMON_BATCH_MAX, g_site, &stats), DPF_OK);
    assert_int_equal(stats.dropped, 1);
    assert_int_equal(stats.published, 1);
    assert_published_once(&e[1], 1);
    assert_int_equal(num("SELECT count(*) FROM status_messages WHERE msg_id = 9901 AND "
                         "istr[2] LIKE '%is not in status_messages%' AND "
                         "correlation_id = 'corr-gone'", 0, NULL), 1);
}

/* ---- the real binary ---- */

static pid_t start_dbmon(const char *log)
{
    char db_env[1100], nats_env[512], site_env[64], mig_env[600], creds_env[600];
    snprintf(db_env, sizeof db_env, "DATABASE_URL=%s", g_url);
    snprintf(nats_env, sizeof nats_env, "NATS_URL=%s", dpf_test_env("NATS_URL"));
    snprintf(site_env, sizeof site_env, "DPFLEET_SITE_CODE=%s", g_site);
    snprintf(mig_env, sizeof mig_env, "DPFLEET_MIGRATIONS=%s/db", DPF_SOURCE_DIR);
    /* the child connects as the test does (the admin on an operator-mode server) */
    char *envp[] = {db_env, nats_env, site_env, mig_env,
                    dpf_test_nats_creds_env(creds_env, sizeof creds_env),
                    "DPFLEET_LOG_LEVEL=debug", NULL};
    char *argv[] = {DBMON_BIN, "--migrate", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid = 0;
    assert_int_equal(posix_spawn(&pid, DBMON_BIN, &fa, NULL, argv, envp), 0);
    posix_spawn_file_actions_destroy(&fa);
    g_child = pid;
    return pid;
}

static int stop_dbmon(pid_t pid)
{
    g_child = 0;
    return dpf_test_stop(pid, 5000);
}

static long long wait_outbox_empty(int timeout_ms)
{
    long long n = -1;
    for (int waited = 0; waited <= timeout_ms; waited += 50) {
        n = num("SELECT count(*) FROM outbox", 0, NULL);
        if (n == 0)
            break;
        usleep(50 * 1000);
    }
    return n;
}

static int file_has(const char *path, const char *needle)
{
    char *data = NULL;
    size_t len = 0;
    if (dpf_read_file(path, &data, &len) != DPF_OK)
        return 0;
    int found = strstr(data, needle) != NULL;
    free(data);
    return found;
}

static void test_binary_wakes_restarts_and_stops(void **state)
{
    char log[128];
    snprintf(log, sizeof log, "/tmp/test_dbmon_outbox_%d.log", (int)getpid());
    unlink(log);
    pid_t pid = start_dbmon(log);
    usleep(500 * 1000); /* connected and listening */

    expect e[MAXROWS];
    assert_int_equal(bump_site_seen("corr-live", e, MAXROWS), 1);
    assert_int_equal(wait_outbox_empty(3000), 0);
    assert_published_once(e, 1);
    assert_int_equal(stop_dbmon(pid), 0); /* SIGTERM: clean exit */

    /* changes made while dbmon is down wait in the outbox */
    expect d[MAXROWS];
    bump_site("corr-down-1");
    insert_dp("C.CONTOSO.COM", "corr-down-2");
    assert_int_equal(outbox(d, MAXROWS), 2);
    usleep(300 * 1000);
    assert_int_equal(num("SELECT count(*) FROM outbox", 0, NULL), 2);

    pid = start_dbmon(log);
    assert_int_equal(wait_outbox_empty(5000), 0);
    assert_published_once(d, 2);
    assert_published_once(e, 1); /* and the first one still only once */
    assert_int_equal(stop_dbmon(pid), 0);

    /* the source's lines, with the change ids */
    char line[4096]; /* room for any subject: gcc cannot bound d[i].subject */
    snprintf(line, sizeof line,
             "RCV: UPDATE on SiteControl for SiteControl_AddUpd_HMAN [%s ][%lld]", g_site,
             e[0].id);
    assert_true(file_has(log, line));
    snprintf(line, sizeof line, "SND: Dropped sitecontrol.changed.%s (hman.box/%s.SCU) [%lld]",
             g_site, g_site, e[0].id);
    assert_true(file_has(log, line));
    snprintf(line, sizeof line, "RCV: INSERT on DistributionPoints for DistributionPoints_Ins "
             "[%s ][%lld]", d[1].subject + 7, d[1].id);
    assert_true(file_has(log, line));
    snprintf(line, sizeof line, "SND: Dropped %s (distmgr.box/%s.INS) [%lld]", d[1].subject,
             d[1].subject + 7, d[1].id);
    assert_true(file_has(log, line));
    assert_true(file_has(log, "[corr-down-2] RCV: INSERT"));
    assert_true(file_has(log, "Outbox batch: "));
    unlink(log);
}

static void test_binary_survives_lost_stream(void **state)
{
    char log[128];
    snprintf(log, sizeof log, "/tmp/test_dbmon_stream_%d.log", (int)getpid());
    unlink(log);
    pid_t pid = start_dbmon(log);
    usleep(500 * 1000);
    /* JetStream loses the stream (deleted, or a server restarted empty):
     * publishing fails, the change waits in the outbox, and dbmon creates
     * the stream again and sends it */
    jsErrCode jerr = 0;
    assert_int_equal(js_DeleteStream(g_js, DPF_STREAM_EVENTS, NULL, &jerr), NATS_OK);
    expect e[MAXROWS];
    assert_int_equal(bump_site_seen("corr-lost", e, MAXROWS), 1);
    assert_int_equal(wait_outbox_empty(10000), 0);
    assert_published_once(e, 1);
    assert_int_equal(stop_dbmon(pid), 0);
    assert_true(file_has(log, "Publishing paused for"));
    assert_true(file_has(log, "Created the JetStream streams again"));
    unlink(log);
}

static void test_binary_publishes_statmsgs_and_retries(void **state)
{
    char log[128];
    snprintf(log, sizeof log, "/tmp/test_dbmon_statmsg_%d.log", (int)getpid());
    unlink(log);
    pid_t pid = start_dbmon(log);
    usleep(500 * 1000);

    uint64_t before = statmsg_last_seq();
    long long rec = raise_3306("corr-bin", "live", 1);
    expect e[MAXROWS];
    assert_int_equal(outbox(e, MAXROWS), 1);
    assert_int_equal(wait_outbox_empty(3000), 0);
    char msg_id[64];
    expected_msg_id(rec, msg_id, sizeof msg_id);
    assert_int_equal(statmsgs_since(before, msg_id, NULL, NULL, NULL), 1);

    /* the source's RCV line, and a SND line that says what went out */
    char line[512];
    snprintf(line, sizeof line, "[corr-bin] RCV: INSERT on StatusMessages for "
             "StatusMessages_Ins [%lld ][%lld]", rec, e[0].id);
    assert_true(file_has(log, line));
    snprintf(line, sizeof line, "[corr-bin] SND: Published statmsg.%s.SMS_HIERARCHY_MANAGER.3306 "
             "(status message 3306, record %lld) [%lld]", g_site, rec, e[0].id);
    assert_true(file_has(log, line));

    /* publishing fails (the stream is gone): the message waits in the
     * outbox like any change and goes out once the stream is back */
    jsErrCode jerr = 0;
    assert_int_equal(js_DeleteStream(g_js, DPF_STREAM_STATMSG, NULL, &jerr), NATS_OK);
    long long rec2 = raise_3306("corr-retry", "retried", 1);
    assert_int_equal(wait_outbox_empty(10000), 0);
    expected_msg_id(rec2, msg_id, sizeof msg_id);
    assert_int_equal(statmsgs_since(0, msg_id, NULL, NULL, NULL), 1);
    assert_int_equal(stop_dbmon(pid), 0);
    snprintf(line, sizeof line, "SND: Failed to publish statmsg.%s.SMS_HIERARCHY_MANAGER.3306",
             g_site);
    assert_true(file_has(log, line));
    assert_true(file_has(log, "Created the JetStream streams again"));
    unlink(log);
}

static void test_change_without_correlation_id_gets_one(void **state)
{
    /* a change made with psql carries no correlation id: dbmon mints one,
     * so the events it causes can still be followed through hman/distmgr */
    const char *p[] = {g_site};
    sql("UPDATE site_control SET serial = serial + 1 WHERE site_code = $1", 1, p);
    expect e[MAXROWS];
    assert_int_equal(outbox(e, MAXROWS), 1);
    assert_string_equal(e[0].corr, "");
    dbmon_drain_stats stats;
    assert_int_equal(dbmon_drain_once(g_db, g_bus, DBMON_BATCH_MAX, g_site, &stats), DPF_OK);
    assert_int_equal(stats.published, 1);

    char subject[64];
    snprintf(subject, sizeof subject, "sitecontrol.changed.%s", g_site);
    natsMsg *m = NULL;
    jsErrCode jerr = 0;
    assert_int_equal(js_GetLastMsg(&m, g_js, DPF_STREAM_EVENTS, subject, NULL, &jerr), NATS_OK);
    const char *corr = NULL;
    assert_int_equal(natsMsgHeader_Get(m, DPF_CORR_HEADER, &corr), NATS_OK);
    assert_int_equal(strlen(corr), 36); /* a UUID */
    natsMsg_Destroy(m);
}

static void test_binary_migrate_only(void **state)
{
    char log[128];
    snprintf(log, sizeof log, "/tmp/test_dbmon_migrate_%d.log", (int)getpid());
    long long before = num("SELECT count(*) FROM schema_migrations", 0, NULL);
    char db_env[1100], mig_env[600];
    snprintf(db_env, sizeof db_env, "DATABASE_URL=%s", g_url);
    snprintf(mig_env, sizeof mig_env, "DPFLEET_MIGRATIONS=%s/db", DPF_SOURCE_DIR);
    char *envp[] = {db_env, mig_env, "NATS_URL=nats://127.0.0.1:1", NULL};
    char *argv[] = {DBMON_BIN, "--migrate-only", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = 0;
    assert_int_equal(posix_spawn(&pid, DBMON_BIN, &fa, NULL, argv, envp), 0);
    posix_spawn_file_actions_destroy(&fa);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    /* exits 0 without touching NATS, and applies nothing twice */
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(num("SELECT count(*) FROM schema_migrations", 0, NULL), before);
    assert_true(file_has(log, "Migrations from "));
    unlink(log);
}

/* Inserts n status messages raised `age` ago (an SQL interval). */
static void old_statmsgs(int n, const char *age)
{
    char count[16];
    snprintf(count, sizeof count, "%d", n);
    const char *p[] = {count, age, g_site};
    sql("INSERT INTO status_messages (msg_id, severity, level, source, component, system, "
        "site_code, pid, tid, raised_at, istr) SELECT 3306, 'I', 'M', 'SMS Server', "
        "'SMS_HIERARCHY_MANAGER', 'TEST', $3, 1, 1, now() - $2::interval, ARRAY['retention'] "
        "FROM generate_series(1, $1::int)", 3, p);
}

/* StatusMessageRetentionDays: rows older than the setting go, oldest first
 * and a batch at a time; newer rows stay, and so does an old row whose
 * outbox row dbmon has not published yet. A run goes on batch after batch
 * (the loop drains the outbox in between), then waits an hour. */
static void test_statmsg_retention(void **state)
{
    sql("DELETE FROM status_messages", 0, NULL);
    old_statmsgs(3, "40 days");
    old_statmsgs(1, "29 days 23 hours");
    old_statmsgs(1, "1 minute");
    /* an old message still waiting in the outbox */
    long long pending = num("INSERT INTO status_messages (msg_id, severity, level, source, "
                            "component, system, site_code, pid, tid, raised_at, istr) VALUES "
                            "(3306, 'I', 'M', 'SMS Server', 'SMS_HIERARCHY_MANAGER', 'TEST', "
                            "'PS1', 1, 1, now() - interval '90 days', ARRAY['pending']) "
                            "RETURNING id", 0, NULL);
    char key[24], subject[64];
    snprintf(key, sizeof key, "%lld", pending);
    snprintf(subject, sizeof subject, "statmsg.%s.SMS_HIERARCHY_MANAGER.3306", g_site);
    const char *po[] = {subject, key};
    sql("INSERT INTO outbox (subject, operation, table_name, trigger_name, object_key) "
        "VALUES ($1, 'INSERT', 'StatusMessages', 'StatusMessages_Ins', $2)", 2, po);

    int n = -1;
    assert_int_equal(dbmon_retention_delete(g_db, 0, 100, &n), DPF_OK); /* 0: keep all */
    assert_int_equal(n, 0);
    assert_int_equal(dbmon_retention_delete(g_db, 30, 2, &n), DPF_OK);
    assert_int_equal(n, 2);
    assert_int_equal(dbmon_retention_delete(g_db, 30, 2, &n), DPF_OK);
    assert_int_equal(n, 1);
    assert_int_equal(dbmon_retention_delete(g_db, 30, 2, &n), DPF_OK);
    assert_int_equal(n, 0);
    assert_int_equal(num("SELECT count(*) FROM status_messages", 0, NULL), 3);
    assert_int_equal(num("SELECT count(*) FROM status_messages WHERE raised_at < now() - "
                         "interval '30 days'", 0, NULL), 1); /* the pending one */
    const char *pk[] = {key};
    assert_int_equal(num("SELECT count(*) FROM status_messages WHERE id = $1::bigint", 1, pk), 1);

    /* a run: 1,500 old rows go in two batches, then nothing until the hour is up */
    old_statmsgs(DBMON_RETENTION_BATCH + 500, "31 days");
    dbmon_retention ret = {.days = 30};
    int64_t now = dpf_now_ms();
    assert_int_equal(dbmon_retention_tick(g_db, &ret, now), 1);
    assert_int_equal(num("SELECT count(*) FROM status_messages", 0, NULL), 3 + 500);
    assert_int_equal(dbmon_retention_tick(g_db, &ret, now + 10), 0);
    assert_int_equal(num("SELECT count(*) FROM status_messages", 0, NULL), 3);
    assert_true(ret.next_ms >= now + 10 + DBMON_RETENTION_INTERVAL_S * 1000LL);
    old_statmsgs(5, "31 days");
    assert_int_equal(dbmon_retention_tick(g_db, &ret, now + 60 * 1000), 0);
    assert_int_equal(num("SELECT count(*) FROM status_messages", 0, NULL), 8); /* not yet */
    assert_int_equal(dbmon_retention_tick(g_db, &ret, ret.next_ms), 0);
    assert_int_equal(num("SELECT count(*) FROM status_messages", 0, NULL), 3);
    /* 0 days: retention is off */
    dbmon_retention off = {.days = 0};
    old_statmsgs(2, "400 days");
    assert_int_equal(dbmon_retention_tick(g_db, &off, now), 0);
    assert_int_equal(num("SELECT count(*) FROM status_messages", 0, NULL), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_published_once_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_between_publish_and_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batches_and_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_row_dropped_and_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statmsg_committed_published_once_rolled_back_never,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_statmsg_crash_between_publish_and_delete, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_statmsg_of_missing_row_dropped_and_reported, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_binary_publishes_statmsgs_and_retries, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_binary_wakes_restarts_and_stops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binary_survives_lost_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_without_correlation_id_gets_one, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_binary_migrate_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statmsg_retention, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

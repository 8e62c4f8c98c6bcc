/* statmsg raised for real. With a database: the row in status_messages
 * (values stored literally, attributes as JSON) and its outbox row for dbmon
 * commit with the caller's transaction, a rolled-back raise leaves nothing
 * but its log line, and raising publishes nothing itself (dbmon does, see
 * test_dbmon_outbox). Without a database the message goes straight to the
 * statmsg stream with the thread's correlation id. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <dpf/bus.h>
#include <dpf/db.h>
#include <dpf/log.h>
#include <dpf/statmsg.h>
#include <dpf/util.h>

#include "dpf_capture.h"
#include "dpf_test.h"

#define NAL "[\"Display=\\\\PS1DP1.CONTOSO.COM\\\"]MSWNET:[\"SMS_SITE=PS1\"]\\\\PS1DP1.CONTOSO.COM\\"

static dpf_bus *bus;
static dpf_db *db;
static char url[1024];
static char site[16];

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static Dpf__StatusMessage *received[4];
static int nreceived;
static char received_subject[4][160];
static char received_corr[4][64];

static void watcher(dpf_bus_msg *m, void *closure)
{
    Dpf__StatusMessage *pb = dpf__status_message__unpack(NULL, dpf_bus_msg_len(m),
                                                         dpf_bus_msg_data(m));
    pthread_mutex_lock(&mu);
    if (pb != NULL && nreceived < 4) {
        snprintf(received_subject[nreceived], sizeof received_subject[0], "%s",
                 dpf_bus_msg_subject(m));
        snprintf(received_corr[nreceived], sizeof received_corr[0], "%s", dpf_bus_msg_corr(m));
        received[nreceived++] = pb;
        pb = NULL;
    }
    pthread_mutex_unlock(&mu);
    if (pb != NULL)
        dpf__status_message__free_unpacked(pb, NULL);
    dpf_bus_msg_destroy(m);
}

static int wait_received(int n)
{
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&mu);
        int c = nreceived;
        pthread_mutex_unlock(&mu);
        if (c >= n)
            return c;
        usleep(10000);
    }
    return nreceived;
}

static int received_now(void)
{
    pthread_mutex_lock(&mu);
    int c = nreceived;
    pthread_mutex_unlock(&mu);
    return c;
}

static int group_setup(void **state)
{
    dpf_log_init("SMS_DISTRIBUTION_MANAGER");
    return 0;
}

static dpf_bus_sub *watch(void)
{
    char pattern[64];
    snprintf(pattern, sizeof pattern, "statmsg.%s.>", site);
    dpf_bus_sub *sub = NULL;
    assert_int_equal(dpf_bus_watch_stream(bus, "DPF_STATMSG", pattern, 1, watcher, NULL, &sub),
                     DPF_OK);
    return sub;
}

static void forget_received(void)
{
    pthread_mutex_lock(&mu);
    for (int i = 0; i < nreceived; i++)
        dpf__status_message__free_unpacked(received[i], NULL);
    nreceived = 0;
    pthread_mutex_unlock(&mu);
}

static long long num(const char *q)
{
    const char *p[] = {site};
    return dpf_test_num(db, q, 1, p);
}

static int setup(void **state)
{
    const char *nats_url = dpf_test_env("NATS_URL");
    if (nats_url == NULL || dpf_test_db_create("statmsg_raise", url, sizeof url) != 0 ||
        dpf_db_connect(url, &db) != DPF_OK ||
        dpf_bus_connect(nats_url, "test_statmsg_raise", &bus) != DPF_OK ||
        dpf_bus_ensure_streams(bus) != DPF_OK)
        return -1;
    snprintf(site, sizeof site, "T%ld", (long)getpid() % 100000);
    return 0;
}

static int teardown(void **state)
{
    forget_received();
    dpf_bus_destroy(bus);
    dpf_db_destroy(db);
    bus = NULL;
    db = NULL;
    dpf_test_db_drop("statmsg_raise");
    return 0;
}

static void test_raise_in_committed_transaction(void **state)
{
    dpf_bus_sub *sub = watch();
    assert_int_equal(dpf_db_begin(db), DPF_OK);
    dpf_log_set_corr("corr-statmsg");
    dpf_statmsg m = {
        .id = DPF_MSG_DP_INSTALLED,
        .severity = 'I',
        .level = 'M',
        .site = site,
        .system = "PS1SITE.CONTOSO.COM",
        .istr = {NAL, "PS1DP1.CONTOSO.COM", NULL, "quote ' and \" and \\ and {\"json\": 1}"},
        .nattrs = 2,
        .attr_id = {404, 405},
        .attr_val = {NAL, "second \"value\""},
    };
    assert_int_equal(dpf_statmsg_raise(bus, db, &m), DPF_OK);
    m.component = "SMS_HIERARCHY_MANAGER";
    m.id = DPF_MSG_HMAN_PROCESSED;
    m.nattrs = 0;
    assert_int_equal(dpf_statmsg_raise(bus, db, &m), DPF_OK);
    dpf_log_set_corr(NULL);
    assert_int_equal(dpf_db_commit(db), DPF_OK);

    dpf_db_result *r = NULL;
    const char *p[1] = {site};
    assert_int_equal(dpf_db_exec(db,
                                 "SELECT id, msg_id, severity, level, source, component, system,"
                                 " pid, tid, istr[1], istr[2], istr[3], istr[4], istr[10],"
                                 " array_length(istr, 1), attrs->0->>'id', attrs->0->>'value',"
                                 " attrs->1->>'value', jsonb_array_length(attrs), correlation_id,"
                                 " raised_at > now() - interval '1 minute'"
                                 " FROM status_messages WHERE site_code = $1 ORDER BY id",
                                 1, p, &r),
                     DPF_OK);
    assert_int_equal(dpf_db_result_rows(r), 2);
    long long id0 = dpf_db_result_int(r, 0, 0);
    assert_int_equal(dpf_db_result_int(r, 0, 1), 2399);
    assert_string_equal(dpf_db_result_get(r, 0, 2), "I");
    assert_string_equal(dpf_db_result_get(r, 0, 3), "M");
    assert_string_equal(dpf_db_result_get(r, 0, 4), "SMS Server");
    assert_string_equal(dpf_db_result_get(r, 0, 5), "SMS_DISTRIBUTION_MANAGER");
    assert_string_equal(dpf_db_result_get(r, 0, 6), "PS1SITE.CONTOSO.COM");
    assert_int_equal(dpf_db_result_int(r, 0, 7), getpid());
    assert_int_equal(dpf_db_result_int(r, 0, 8), (long long)dpf_log_tid());
    assert_string_equal(dpf_db_result_get(r, 0, 9), NAL);
    assert_string_equal(dpf_db_result_get(r, 0, 10), "PS1DP1.CONTOSO.COM");
    assert_string_equal(dpf_db_result_get(r, 0, 11), "");
    assert_string_equal(dpf_db_result_get(r, 0, 12), m.istr[3]);
    assert_string_equal(dpf_db_result_get(r, 0, 13), "");
    assert_int_equal(dpf_db_result_int(r, 0, 14), 10);
    assert_string_equal(dpf_db_result_get(r, 0, 15), "404");
    assert_string_equal(dpf_db_result_get(r, 0, 16), NAL);
    assert_string_equal(dpf_db_result_get(r, 0, 17), "second \"value\"");
    assert_int_equal(dpf_db_result_int(r, 0, 18), 2);
    assert_string_equal(dpf_db_result_get(r, 0, 19), "corr-statmsg");
    assert_int_equal(dpf_db_result_int(r, 0, 20), 1);
    assert_int_equal(dpf_db_result_int(r, 1, 1), 3306);
    assert_string_equal(dpf_db_result_get(r, 1, 5), "SMS_HIERARCHY_MANAGER");
    assert_int_equal(dpf_db_result_int(r, 1, 18), 0);
    long long id1 = dpf_db_result_int(r, 1, 0);
    dpf_db_result_free(r);

    /* one outbox row each, in raise order, naming the row, for dbmon */
    assert_int_equal(dpf_db_exec(db,
                                 "SELECT subject, operation, table_name, trigger_name,"
                                 " object_key, correlation_id FROM outbox ORDER BY id",
                                 0, NULL, &r),
                     DPF_OK);
    assert_int_equal(dpf_db_result_rows(r), 2);
    char want[160], key[32];
    snprintf(want, sizeof want, "statmsg.%s.SMS_DISTRIBUTION_MANAGER.2399", site);
    assert_string_equal(dpf_db_result_get(r, 0, 0), want);
    assert_string_equal(dpf_db_result_get(r, 0, 1), "INSERT");
    assert_string_equal(dpf_db_result_get(r, 0, 2), "StatusMessages");
    assert_string_equal(dpf_db_result_get(r, 0, 3), "StatusMessages_Ins");
    snprintf(key, sizeof key, "%lld", id0);
    assert_string_equal(dpf_db_result_get(r, 0, 4), key);
    assert_string_equal(dpf_db_result_get(r, 0, 5), "corr-statmsg");
    snprintf(want, sizeof want, "statmsg.%s.SMS_HIERARCHY_MANAGER.3306", site);
    assert_string_equal(dpf_db_result_get(r, 1, 0), want);
    snprintf(key, sizeof key, "%lld", id1);
    assert_string_equal(dpf_db_result_get(r, 1, 4), key);
    dpf_db_result_free(r);

    /* raising published nothing: that is dbmon's job once this committed */
    usleep(500 * 1000);
    assert_int_equal(received_now(), 0);
    dpf_bus_sub_destroy(sub);
}

static void test_raise_in_rolled_back_transaction_leaves_only_the_line(void **state)
{
    dpf_bus_sub *sub = watch();
    assert_int_equal(dpf_db_begin(db), DPF_OK);
    dpf_statmsg m = {.id = DPF_MSG_DP_INSTALLED, .severity = 'I', .level = 'M', .site = site};
    m.istr[0] = "rolled back";
    dpf_capture_begin();
    dpf_status st = dpf_statmsg_raise(bus, db, &m);
    char *log = dpf_capture_end();
    assert_int_equal(st, DPF_OK);
    assert_non_null(strstr(log, "STATMSG: ID=2399 SEV=I LEV=M"));
    assert_non_null(strstr(log, "ISTR0=\"rolled back\""));
    free(log);
    /* inside the transaction the rows are there ... */
    assert_int_equal(num("SELECT count(*) FROM status_messages WHERE site_code = $1"), 1);
    dpf_db_rollback(db);
    /* ... and after the rollback nothing is: no row, no outbox row, nothing
     * on the stream */
    assert_int_equal(num("SELECT count(*) FROM status_messages WHERE site_code = $1"), 0);
    assert_int_equal(num("SELECT count(*) FROM outbox WHERE subject LIKE 'statmsg.' || $1 || '.%'"),
                     0);
    usleep(500 * 1000);
    assert_int_equal(received_now(), 0);

    /* outside a transaction the one statement commits row and outbox row */
    assert_int_equal(dpf_statmsg_raise(bus, db, &m), DPF_OK);
    assert_int_equal(num("SELECT count(*) FROM status_messages s JOIN outbox o "
                         "ON o.object_key = s.id::text WHERE s.site_code = $1"), 1);
    dpf_bus_sub_destroy(sub);
}

static void test_raise_without_db_publishes_at_once(void **state)
{
    dpf_bus_sub *sub = watch();
    dpf_log_set_corr("corr-nodb");
    dpf_statmsg m = {.id = DPF_MSG_HMAN_FAILED, .severity = 'E', .level = 'M', .site = site,
                     .component = "SMS_HIERARCHY_MANAGER"};
    m.istr[3] = "the database is down";
    assert_int_equal(dpf_statmsg_raise(bus, NULL, &m), DPF_OK);
    dpf_log_set_corr(NULL);
    assert_int_equal(wait_received(1), 1);
    char want[160];
    snprintf(want, sizeof want, "statmsg.%s.SMS_HIERARCHY_MANAGER.3307", site);
    assert_string_equal(received_subject[0], want);
    assert_string_equal(received_corr[0], "corr-nodb");
    Dpf__StatusMessage *pb = received[0];
    assert_int_equal(pb->record_id, 0);
    assert_int_equal(pb->id, 3307);
    assert_string_equal(pb->correlation_id, "corr-nodb");
    assert_int_equal(pb->n_istr, 10);
    assert_string_equal(pb->istr[3], "the database is down");
    char line[4096];
    dpf_statmsg_format(pb, line, sizeof line);
    assert_non_null(strstr(line, "STATMSG: ID=3307 SEV=E LEV=M SOURCE=\"SMS Server\" "
                                 "COMP=\"SMS_HIERARCHY_MANAGER\""));
    dpf_bus_sub_destroy(sub);
    assert_int_equal(num("SELECT count(*) FROM status_messages WHERE site_code = $1"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_raise_in_committed_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_raise_in_rolled_back_transaction_leaves_only_the_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_raise_without_db_publishes_at_once, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}

/* statmsg: the STATMSG line has exactly the source's shape, truncation is
 * safe, subjects and message ids have the shape watchers and JetStream's
 * de-duplication rely on, and raising without a database or bus still
 * validates and logs the line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dpf/log.h>
#include <dpf/statmsg.h>
#include "dpf_capture.h"

#define NAL "[\"Display=\\\\PS1DP1.CONTOSO.COM\\\"]MSWNET:[\"SMS_SITE=PS1\"]\\\\PS1DP1.CONTOSO.COM\\"

/* The source's 2399 line (seed 004), with the NAL path as stored. */
static const char SOURCE_2399[] =
    "STATMSG: ID=2399 SEV=I LEV=M SOURCE=\"SMS Server\" COMP=\"SMS_DISTRIBUTION_MANAGER\" "
    "SYS=PS1SITE.CONTOSO.COM SITE=PS1 PID=1956 TID=4788 GMTDATE=Wed May 11 18:36:58.062 2016 "
    "ISTR0=\"" NAL "\" ISTR1=\"PS1DP1.CONTOSO.COM\" ISTR2=\"\" ISTR3=\"\" ISTR4=\"\" "
    "ISTR5=\"\" ISTR6=\"\" ISTR7=\"\" ISTR8=\"\" ISTR9=\"\" NUMATTRS=1 AID0=404 AVAL0=\"" NAL "\"";

/* The source's 3306 line: no attributes. */
static const char SOURCE_3306[] =
    "STATMSG: ID=3306 SEV=I LEV=M SOURCE=\"SMS Server\" COMP=\"SMS_HIERARCHY_MANAGER\" "
    "SYS=PS1SITE.CONTOSO.COM SITE=PS1 PID=1956 TID=2448 GMTDATE=Wed May 11 18:33:34.813 2016 "
    "ISTR0=\"E:\\ConfigMgr\\inboxes\\HMAN.box\\PS1.SCU\" ISTR1=\"ConfigMgr Primary Site 1\" "
    "ISTR2=\"PS1\" ISTR3=\"\" ISTR4=\"\" ISTR5=\"\" ISTR6=\"\" ISTR7=\"\" ISTR8=\"\" ISTR9=\"\" "
    "NUMATTRS=0";

static void fill_2399(Dpf__StatusMessage *pb, char **istr, Dpf__StatusAttribute *a,
                      Dpf__StatusAttribute **attrs)
{
    dpf__status_message__init(pb);
    dpf__status_attribute__init(a);
    pb->id = 2399;
    pb->severity = "I";
    pb->level = "M";
    pb->source = "SMS Server";
    pb->component = "SMS_DISTRIBUTION_MANAGER";
    pb->system = "PS1SITE.CONTOSO.COM";
    pb->site = "PS1";
    pb->pid = 1956;
    pb->tid = 4788;
    pb->time_ms = 1462991818062LL; /* 2016-05-11 18:36:58.062 UTC */
    istr[0] = NAL;
    istr[1] = "PS1DP1.CONTOSO.COM";
    pb->n_istr = 2; /* the rest print as "" */
    pb->istr = istr;
    a->id = 404;
    a->value = NAL;
    attrs[0] = a;
    pb->n_attrs = 1;
    pb->attrs = attrs;
}

static void test_format_2399_matches_source(void **state)
{
    Dpf__StatusMessage pb;
    Dpf__StatusAttribute a, *attrs[1];
    char *istr[10];
    fill_2399(&pb, istr, &a, attrs);
    char line[2048];
    size_t n = dpf_statmsg_format(&pb, line, sizeof line);
    assert_string_equal(line, SOURCE_2399);
    assert_int_equal(n, strlen(SOURCE_2399));
}

static void test_format_3306_matches_source(void **state)
{
    char *istr[10] = {"E:\\ConfigMgr\\inboxes\\HMAN.box\\PS1.SCU", "ConfigMgr Primary Site 1",
                      "PS1", "", "", "", "", "", "", ""};
    Dpf__StatusMessage pb = DPF__STATUS_MESSAGE__INIT;
    pb.id = 3306;
    pb.severity = "I";
    pb.level = "M";
    pb.source = "SMS Server";
    pb.component = "SMS_HIERARCHY_MANAGER";
    pb.system = "PS1SITE.CONTOSO.COM";
    pb.site = "PS1";
    pb.pid = 1956;
    pb.tid = 2448;
    pb.time_ms = 1462991614813LL; /* 2016-05-11 18:33:34.813 UTC */
    pb.n_istr = 10;
    pb.istr = istr;
    char line[2048];
    dpf_statmsg_format(&pb, line, sizeof line);
    assert_string_equal(line, SOURCE_3306);
}

static void test_format_dates(void **state)
{
    /* "Fri Apr 08 22:31:56.637 2016": day of month zero-padded */
    Dpf__StatusMessage pb = DPF__STATUS_MESSAGE__INIT;
    pb.time_ms = 1460154716637LL;
    char line[1024];
    dpf_statmsg_format(&pb, line, sizeof line);
    assert_non_null(strstr(line, " GMTDATE=Fri Apr 08 22:31:56.637 2016 "));
    pb.time_ms = 0;
    dpf_statmsg_format(&pb, line, sizeof line);
    assert_non_null(strstr(line, " GMTDATE=Thu Jan 01 00:00:00.000 1970 "));
}

static void test_format_truncates_safely(void **state)
{
    Dpf__StatusMessage pb;
    Dpf__StatusAttribute a, *attrs[1];
    char *istr[10];
    fill_2399(&pb, istr, &a, attrs);
    char small[32];
    memset(small, 'x', sizeof small);
    size_t need = dpf_statmsg_format(&pb, small, sizeof small);
    assert_int_equal(need, strlen(SOURCE_2399));
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_memory_equal(small, SOURCE_2399, sizeof small - 1);
    /* a NULL buffer just measures */
    assert_int_equal(dpf_statmsg_format(&pb, NULL, 0), need);
    assert_int_equal(dpf_statmsg_format(NULL, small, sizeof small), 0);
    assert_string_equal(small, "");
}

static void test_raise_validates(void **state)
{
    dpf_statmsg m = {.id = 2399, .severity = 'X', .level = 'M', .site = "PS1"};
    assert_int_equal(dpf_statmsg_raise(NULL, NULL, &m), DPF_ERR_INVALID);
    m.severity = 'I';
    m.level = 'Q';
    assert_int_equal(dpf_statmsg_raise(NULL, NULL, &m), DPF_ERR_INVALID);
    m.level = 'M';
    m.nattrs = DPF_STATMSG_MAX_ATTRS + 1;
    assert_int_equal(dpf_statmsg_raise(NULL, NULL, &m), DPF_ERR_INVALID);
    assert_int_equal(dpf_statmsg_raise(NULL, NULL, NULL), DPF_ERR_INVALID);
}

static void test_raise_without_servers_logs(void **state)
{
    dpf_log_init("SMS_DISTRIBUTION_MANAGER");
    dpf_statmsg m = {
        .id = DPF_MSG_DP_INSTALLED,
        .severity = 'I',
        .level = 'M',
        .site = "PS1",
        .istr = {NAL, "PS1DP1.CONTOSO.COM"},
        .nattrs = 1,
        .attr_id = {404},
        .attr_val = {NAL},
    };
    dpf_capture_begin();
    dpf_status st = dpf_statmsg_raise(NULL, NULL, &m);
    char *log = dpf_capture_end();
    assert_int_equal(st, DPF_OK);
    assert_non_null(strstr(log, " SMS_DISTRIBUTION_MANAGER "));
    assert_non_null(strstr(log, "STATMSG: ID=2399 SEV=I LEV=M SOURCE=\"SMS Server\" "
                                "COMP=\"SMS_DISTRIBUTION_MANAGER\""));
    assert_non_null(strstr(log, " SITE=PS1 "));
    assert_non_null(strstr(log, " NUMATTRS=1 AID0=404 AVAL0=\"" NAL "\""));
    free(log);
}

static void test_subject(void **state)
{
    char s[256];
    dpf_statmsg_subject("PS1", "SMS_HIERARCHY_MANAGER", 3306, s, sizeof s);
    assert_string_equal(s, "statmsg.PS1.SMS_HIERARCHY_MANAGER.3306");
    /* tokens never carry a wildcard, a separator or white space, never empty */
    dpf_statmsg_subject("a.b", "X *>\tY", 9901, s, sizeof s);
    assert_string_equal(s, "statmsg.a_b.X____Y.9901");
    dpf_statmsg_subject(NULL, "", 1, s, sizeof s);
    assert_string_equal(s, "statmsg.-.-.1");
    char tiny[12];
    dpf_statmsg_subject("PS1", "SMS_HIERARCHY_MANAGER", 3306, tiny, sizeof tiny);
    assert_string_equal(tiny, "statmsg.PS1");
}

static void test_msg_id(void **state)
{
    char id[64];
    dpf_statmsg_msg_id(17, 1462991818062LL, id, sizeof id);
    assert_string_equal(id, "statmsg-17-1462991818062");
    /* the largest values still fit in 64 bytes */
    dpf_statmsg_msg_id(9223372036854775807LL, 9223372036854775807LL, id, sizeof id);
    assert_string_equal(id, "statmsg-9223372036854775807-9223372036854775807");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_2399_matches_source),
        cmocka_unit_test(test_format_3306_matches_source),
        cmocka_unit_test(test_format_dates),
        cmocka_unit_test(test_format_truncates_safely),
        cmocka_unit_test(test_raise_validates),
        cmocka_unit_test(test_raise_without_servers_logs),
        cmocka_unit_test(test_subject),
        cmocka_unit_test(test_msg_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for dpctl's command-line values (dpctl/args.c): pull sources,
 * numbers, and the NATS subject a status message watch subscribes to. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "args.h"

static void test_pull_source(void **state)
{
    (void)state;
    char server[64], err[200];
    int prio = 0;
    assert_true(dpctl_parse_pull_source("ps1dp1.contoso.com:3", 9, server, sizeof server, &prio, err, sizeof err));
    assert_string_equal(server, "ps1dp1.contoso.com");
    assert_int_equal(prio, 3);
    /* no priority: the default (the position) */
    assert_true(dpctl_parse_pull_source("a.b.com", 2, server, sizeof server, &prio, err, sizeof err));
    assert_string_equal(server, "a.b.com");
    assert_int_equal(prio, 2);
    assert_false(dpctl_parse_pull_source("a.b.com:x", 1, server, sizeof server, &prio, err, sizeof err));
    assert_non_null(strstr(err, "priority"));
    assert_false(dpctl_parse_pull_source("a.b.com:0", 1, server, sizeof server, &prio, err, sizeof err));
    assert_false(dpctl_parse_pull_source("a.b.com:", 1, server, sizeof server, &prio, err, sizeof err));
    assert_false(dpctl_parse_pull_source(":5", 1, server, sizeof server, &prio, err, sizeof err));
    assert_non_null(strstr(err, "no server name"));
    char tiny[4];
    assert_false(dpctl_parse_pull_source("abcdef:1", 1, tiny, sizeof tiny, &prio, err, sizeof err));
}

static void test_int(void **state)
{
    (void)state;
    long long v = 0;
    assert_true(dpctl_parse_int("200", 1, 10000, &v));
    assert_int_equal(v, 200);
    assert_true(dpctl_parse_int("-5", -10, 10, &v));
    assert_int_equal(v, -5);
    assert_false(dpctl_parse_int("", 0, 10, &v));
    assert_false(dpctl_parse_int("5x", 0, 10, &v));
    assert_false(dpctl_parse_int("11", 0, 10, &v));
    assert_false(dpctl_parse_int("99999999999999999999", 0, 10, &v));
    assert_false(dpctl_parse_int(NULL, 0, 10, &v));
}

static void test_watch_subject(void **state)
{
    (void)state;
    char s[64];
    assert_true(dpctl_statmsg_subject(NULL, NULL, s, sizeof s));
    assert_string_equal(s, "statmsg.>");
    assert_true(dpctl_statmsg_subject("PS1", NULL, s, sizeof s));
    assert_string_equal(s, "statmsg.PS1.*.*");
    assert_true(dpctl_statmsg_subject(NULL, "2399", s, sizeof s));
    assert_string_equal(s, "statmsg.*.*.2399");
    assert_true(dpctl_statmsg_subject("PS1", "3306", s, sizeof s));
    assert_string_equal(s, "statmsg.PS1.*.3306");
    /* a filter may not widen or break the subject */
    assert_false(dpctl_statmsg_subject("PS1.>", NULL, s, sizeof s));
    assert_false(dpctl_statmsg_subject("*", NULL, s, sizeof s));
    assert_false(dpctl_statmsg_subject("", NULL, s, sizeof s));
    char tiny[8];
    assert_false(dpctl_statmsg_subject("PS1", "2399", tiny, sizeof tiny));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pull_source),
        cmocka_unit_test(test_int),
        cmocka_unit_test(test_watch_subject),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

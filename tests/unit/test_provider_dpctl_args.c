/* Unit tests for dpctl's command-line values (dpctl/args.c): pull sources,
 * numbers, and the NATS subject a status message watch subscribes to. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "args.h"
#include "dp_opts.h"

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

/* argv as dpctl passes it: the command word first. */
static json_t *parse_opts(int with_site, int *ok, int argc, ...)
{
    char *argv[32];
    va_list ap;
    va_start(ap, argc);
    for (int i = 0; i < argc; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    argv[argc] = NULL;
    json_t *body = json_object();
    *ok = dpctl_dp_opts_parse(argc, argv, with_site, body);
    return body;
}

static void test_dp_add_body(void **state)
{
    (void)state;
    int ok;
    json_t *b = parse_opts(1, &ok, 14, "add", "ps1dp1.contoso.com", "--site", "PS1", "--pxe",
                           "--boundary-group", "A B", "--pull-source", "x.contoso.com:5",
                           "--pull-source", "y.contoso.com", "--priority", "7", "--drive=e");
    assert_true(ok);
    char *text = json_dumps(b, JSON_SORT_KEYS | JSON_COMPACT);
    assert_string_equal(text,
        "{\"boundaryGroups\":[\"A B\"],\"drive\":\"e\",\"enablePXE\":true,\"priority\":7,"
        "\"pullDP\":{\"sources\":[{\"priority\":5,\"serverName\":\"x.contoso.com\"},"
        "{\"priority\":2,\"serverName\":\"y.contoso.com\"}]},\"serverName\":\"ps1dp1.contoso.com\","
        "\"siteCode\":\"PS1\"}");
    free(text);
    json_decref(b);
    /* only what was given is sent */
    b = parse_opts(1, &ok, 2, "add", "a.b.com");
    assert_true(ok);
    assert_int_equal(json_object_size(b), 1);
    json_decref(b);
}

static void test_dp_set_body(void **state)
{
    (void)state;
    int ok;
    json_t *b = parse_opts(0, &ok, 5, "set", "a.b.com", "--no-pxe", "--no-pull", "--no-boundary-groups");
    assert_true(ok);
    assert_true(json_is_false(json_object_get(b, "enablePXE")));
    assert_true(json_is_null(json_object_get(b, "pullDP")));
    assert_int_equal(json_array_size(json_object_get(b, "boundaryGroups")), 0);
    assert_non_null(json_object_get(b, "boundaryGroups"));
    json_decref(b);
    b = parse_opts(0, &ok, 4, "set", "a.b.com", "--site", "PS2");
    assert_false(ok); /* the site names the DP */
    json_decref(b);
    b = parse_opts(1, &ok, 4, "add", "a.b.com", "--priority", "high");
    assert_false(ok);
    json_decref(b);
    b = parse_opts(0, &ok, 4, "set", "a.b.com", "--validation-interval-hours", "0");
    assert_true(ok);
    assert_int_equal(json_integer_value(json_object_get(b, "contentValidationIntervalHours")), 0);
    assert_int_equal(json_object_size(b), 2);
    json_decref(b);
    b = parse_opts(0, &ok, 4, "set", "a.b.com", "--validation-interval-hours", "weekly");
    assert_false(ok);
    json_decref(b);
    b = parse_opts(1, &ok, 3, "add", "a.b.com", "c.d.com");
    assert_false(ok); /* two servers */
    json_decref(b);
    b = parse_opts(1, &ok, 1, "add");
    assert_false(ok); /* none */
    json_decref(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pull_source),
        cmocka_unit_test(test_int),
        cmocka_unit_test(test_watch_subject),
        cmocka_unit_test(test_dp_add_body),
        cmocka_unit_test(test_dp_set_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

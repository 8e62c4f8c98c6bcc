/* The NATS permission table (lib/src/natsroles.c): the agent's subject is
 * exactly its own step subject, bad host names are refused, and the roles
 * that must not see events or agent traffic have no such subject. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "natsroles.h"

static int lists(const char *const *l, const char *prefix)
{
    for (size_t i = 0; l != NULL && l[i] != NULL; i++)
        if (strncmp(l[i], prefix, strlen(prefix)) == 0 || strcmp(l[i], ">") == 0)
            return 1;
    return 0;
}

static void test_agent(void **state)
{
    (void)state;
    dpf_natsroles_agent_buf buf;
    dpf_jwt_perms p;
    assert_true(dpf_natsroles_agent("ps1dp1.contoso.com", &buf, &p));
    assert_string_equal(p.sub_allow[0], "agent.PS1DP1.CONTOSO.COM.step");
    assert_null(p.sub_allow[1]);
    assert_string_equal(p.pub_allow[0], "agent.PS1DP1.CONTOSO.COM.step");
    assert_true(p.allow_responses);
    assert_false(dpf_natsroles_agent("a.b.>", &buf, &p));
    assert_false(dpf_natsroles_agent("*.contoso.com", &buf, &p));
    assert_false(dpf_natsroles_agent("single", &buf, &p));
    assert_false(dpf_natsroles_agent("", &buf, &p));
    assert_false(dpf_natsroles_agent(NULL, &buf, &p));
}

static void test_table(void **state)
{
    (void)state;
    const char *names[] = {"dbmon", "hman", "distmgr", "provider", "statmsg-reader",
                           "host-simulator", "admin"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_non_null(dpf_natsroles_find(names[i]));
    assert_null(dpf_natsroles_find("nobody"));
    const dpf_natsrole *r = dpf_natsroles_find("statmsg-reader");
    assert_false(r->everything);
    assert_false(lists(r->perms.sub_allow, "dp."));
    assert_false(lists(r->perms.sub_allow, "agent."));
    assert_false(lists(r->perms.sub_allow, "sitecontrol."));
    assert_false(lists(r->perms.pub_allow, "statmsg."));
    r = dpf_natsroles_find("hman");
    assert_true(lists(r->perms.sub_allow, "_dpf.deliver.DPF_EVENTS.hman"));
    assert_false(lists(r->perms.pub_allow, "agent."));
    assert_false(lists(r->perms.pub_allow, "dp."));
    r = dpf_natsroles_find("distmgr");
    assert_true(lists(r->perms.pub_allow, "agent.*.>"));
    assert_false(lists(r->perms.pub_allow, "dp.dpn"));
    assert_true(dpf_natsroles_find("admin")->everything);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_agent), cmocka_unit_test(test_table)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

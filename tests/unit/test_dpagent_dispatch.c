/* dispatch.c and the steps it reaches, without NATS: the step table, the
 * replies to bad requests, and the steps' effect on a temporary host root
 * (idempotence: a second run replies changed=0). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dpf/agent.h>
#include <dpf/util.h>
#include "dispatch.h"
#include "fsutil.h"

static dpa_agent g_agent = {NULL, "127.0.0.1", 0, 0};
static dpa_host g_host;
static char g_tmp[256];

static int setup(void **state)
{
    (void)state;
    snprintf(g_tmp, sizeof g_tmp, "/tmp/test_dpagent_dispatch.XXXXXX");
    assert_non_null(mkdtemp(g_tmp));
    memset(&g_host, 0, sizeof g_host);
    g_host.agent = &g_agent;
    snprintf(g_host.fqdn, sizeof g_host.fqdn, "PS1DP1.CONTOSO.COM");
    snprintf(g_host.root, sizeof g_host.root, "%s/PS1DP1.CONTOSO.COM", g_tmp);
    assert_int_equal(dpa_fs_mkdirs(g_host.root, 0755, NULL), DPF_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dpa_host_stop(&g_host);
    assert_int_equal(dpa_fs_rmtree(g_tmp, NULL), DPF_OK);
    return 0;
}

static Dpf__AgentReply *raw_call(const void *data, size_t len)
{
    uint8_t *out = NULL;
    size_t out_len = 0;
    assert_int_equal(dpa_dispatch(&g_host, data, len, &out, &out_len), DPF_OK);
    Dpf__AgentReply *r = dpf__agent_reply__unpack(NULL, out_len, out);
    free(out);
    assert_non_null(r);
    return r;
}

/* Sends step with params "k=v" (NULL-terminated) for fqdn; returns the reply. */
static Dpf__AgentReply *call(const char *step, const char *fqdn, const char **params)
{
    Dpf__AgentRequest req = DPF__AGENT_REQUEST__INIT;
    Dpf__KeyValue kvs[8], *pk[8];
    char keys[8][64];
    size_t n = 0;
    req.step = (char *)step;
    req.fqdn = (char *)fqdn;
    req.dpid = 32;
    req.site_code = "PS1";
    req.nal_path = "[\"Display=\\\\PS1DP1.CONTOSO.COM\\\"]MSWNET:[\"SMS_SITE=PS1\"]\\\\PS1DP1.CONTOSO.COM\\";
    for (; params != NULL && params[n] != NULL && n < 8; n++) {
        const char *eq = strchr(params[n], '=');
        dpf__key_value__init(&kvs[n]);
        snprintf(keys[n], sizeof keys[n], "%.*s", (int)(eq - params[n]), params[n]);
        kvs[n].key = keys[n];
        kvs[n].value = (char *)eq + 1;
        pk[n] = &kvs[n];
    }
    req.params = pk;
    req.n_params = n;
    size_t len = dpf__agent_request__get_packed_size(&req);
    uint8_t *buf = malloc(len + 1);
    dpf__agent_request__pack(&req, buf);
    Dpf__AgentReply *r = raw_call(buf, len);
    free(buf);
    return r;
}

static int has_line(const Dpf__AgentReply *r, const char *needle)
{
    for (size_t i = 0; i < r->n_log; i++) {
        if (strstr(r->log[i], needle) != NULL)
            return 1;
    }
    return 0;
}

static int exists(const char *rel)
{
    char p[8192];
    snprintf(p, sizeof p, "%s/%s", g_host.root, rel);
    struct stat st;
    return lstat(p, &st) == 0;
}

static char *read_rel(const char *rel)
{
    char p[8192], *text = NULL;
    size_t len = 0;
    snprintf(p, sizeof p, "%s/%s", g_host.root, rel);
    return dpf_read_file(p, &text, &len) == DPF_OK ? text : NULL;
}

static void table_has_every_step(void **state)
{
    (void)state;
    const char *names[] = {DPF_STEP_INSTALL_FILES, DPF_STEP_CREATE_SHARES, DPF_STEP_ENABLE_HTTP,
                           DPF_STEP_REGISTER_PROVIDER, DPF_STEP_CONFIGURE_VDIRS,
                           DPF_STEP_WRITE_SETTINGS, DPF_STEP_CONFIGURE_PXE,
                           DPF_STEP_CONFIGURE_PULLDP, DPF_STEP_REMOVE_PXE, DPF_STEP_REMOVE_TASKS,
                           DPF_STEP_REMOVE_PULLDP, DPF_STEP_UNREGISTER_PROVIDER,
                           DPF_STEP_REMOVE_SHARES, DPF_STEP_REMOVE_VDIRS,
                           DPF_STEP_REMOVE_SETTINGS, DPF_STEP_STATUS,
                           DPF_STEP_CONTENT_HAVE, DPF_STEP_CONTENT_PUT,
                           DPF_STEP_CONTENT_INSTALL, DPF_STEP_CONTENT_REMOVE,
                           DPF_STEP_CONTENT_PULL, DPF_STEP_CONTENT_VALIDATE};
    size_t n = sizeof names / sizeof names[0];
    assert_int_equal(dpa_dispatch_count(), n);
    for (size_t i = 0; i < n; i++) {
        const dpa_step_def *d = dpa_dispatch_find(names[i]);
        assert_non_null(d);
        assert_string_equal(d->name, names[i]);
        assert_non_null(d->fn);
        assert_ptr_equal(dpa_dispatch_at(i), d); /* the table is in agent.h's order */
    }
    assert_null(dpa_dispatch_find("bogus"));
    assert_null(dpa_dispatch_find(""));
    assert_null(dpa_dispatch_find(NULL));
    assert_null(dpa_dispatch_at(n));
    assert_int_equal(dpa_dispatch_find(DPF_STEP_CREATE_SHARES)->kind, DPA_INSTALL);
    assert_int_equal(dpa_dispatch_find(DPF_STEP_REMOVE_SHARES)->kind, DPA_REMOVE);
    assert_int_equal(dpa_dispatch_find(DPF_STEP_STATUS)->kind, DPA_QUERY);
    assert_int_equal(dpa_dispatch_find(DPF_STEP_CONTENT_PUT)->kind, DPA_CONTENT);
}

static void bad_requests_get_error_replies(void **state)
{
    (void)state;
    Dpf__AgentReply *r = raw_call("\xff\xff\xff\xff garbage", 13);
    assert_false(r->ok);
    assert_string_equal(r->error, "cannot decode request");
    assert_string_equal(r->fqdn, "PS1DP1.CONTOSO.COM");
    dpf__agent_reply__free_unpacked(r, NULL);

    r = call("bogus", "PS1DP1.CONTOSO.COM", NULL);
    assert_false(r->ok);
    assert_string_equal(r->error, "unknown step 'bogus'");
    assert_string_equal(r->step, "bogus");
    dpf__agent_reply__free_unpacked(r, NULL);

    r = call(DPF_STEP_CREATE_SHARES, "PS1DP2.CONTOSO.COM", NULL);
    assert_false(r->ok);
    assert_non_null(strstr(r->error, "request for host 'PS1DP2.CONTOSO.COM'"));
    assert_false(exists("SMS_DP$"));
    dpf__agent_reply__free_unpacked(r, NULL);

    /* the FQDN is compared case-insensitively, as DNS does */
    r = call(DPF_STEP_STATUS, "ps1dp1.contoso.com", NULL);
    assert_true(r->ok);
    dpf__agent_reply__free_unpacked(r, NULL);

    r = call(DPF_STEP_INSTALL_FILES, "PS1DP1.CONTOSO.COM", NULL);
    assert_false(r->ok); /* no trusted key in this test: refused */
    assert_non_null(strstr(r->error, "no trusted key"));
    assert_false(exists("SMS_DP$/sms/bin"));
    dpf__agent_reply__free_unpacked(r, NULL);
}

static void create_and_remove_shares(void **state)
{
    (void)state;
    Dpf__AgentReply *r = call(DPF_STEP_CREATE_SHARES, "PS1DP1.CONTOSO.COM", NULL);
    assert_true(r->ok);
    assert_true(r->changed);
    assert_true(has_line(r, "Successfully created share SMS_DP$ on server PS1DP1.CONTOSO.COM"));
    assert_true(r->duration_us > 0);
    dpf__agent_reply__free_unpacked(r, NULL);
    assert_true(exists("SCCMContentLib$/PkgLib") && exists("SCCMContentLib$/DataLib") &&
                exists("SCCMContentLib$/FileLib") && exists("SMSSIG$") &&
                exists("SMS_DP$/sms/logs/smsdpprov.log"));
    char *conf = read_rel("etc/shares.conf");
    assert_non_null(conf);
    char want[8192];
    snprintf(want, sizeof want, "SMS_DP$=%s/SMS_DP$\n", g_host.root);
    assert_non_null(strstr(conf, want));
    free(conf);
    char *log = read_rel("SMS_DP$/sms/logs/smsdpprov.log");
    assert_non_null(strstr(log, "Successfully created share SCCMContentLib$"));
    free(log);

    r = call(DPF_STEP_CREATE_SHARES, "PS1DP1.CONTOSO.COM", NULL);
    assert_true(r->ok);
    assert_false(r->changed);
    dpf__agent_reply__free_unpacked(r, NULL);

    r = call(DPF_STEP_REMOVE_SHARES, "PS1DP1.CONTOSO.COM", NULL);
    assert_true(r->ok);
    assert_true(r->changed);
    assert_true(has_line(r, "Removed share SCCMContentLib$ from server PS1DP1.CONTOSO.COM"));
    dpf__agent_reply__free_unpacked(r, NULL);
    assert_false(exists("SMS_DP$") || exists("SCCMContentLib$") || exists("SMSSIG$") ||
                 exists("etc"));

    r = call(DPF_STEP_REMOVE_SHARES, "PS1DP1.CONTOSO.COM", NULL);
    assert_true(r->ok);
    assert_false(r->changed);
    assert_false(exists("SMS_DP$")); /* removal steps do not bring the log back */
    dpf__agent_reply__free_unpacked(r, NULL);
}

static void pxe_on_and_off(void **state)
{
    (void)state;
    Dpf__AgentReply *r = call(DPF_STEP_CONFIGURE_PXE, "PS1DP1.CONTOSO.COM", NULL);
    assert_false(r->ok);
    assert_non_null(strstr(r->error, "'pxe'"));
    dpf__agent_reply__free_unpacked(r, NULL);

    const char *bad[] = {"pxe=yes", NULL};
    r = call(DPF_STEP_CONFIGURE_PXE, "PS1DP1.CONTOSO.COM", bad);
    assert_false(r->ok);
    dpf__agent_reply__free_unpacked(r, NULL);
    assert_false(exists("RemoteInstall"));

    const char *on[] = {"pxe=1", NULL}, *off[] = {"pxe=0", NULL};
    r = call(DPF_STEP_CONFIGURE_PXE, "PS1DP1.CONTOSO.COM", on);
    assert_true(r->ok && r->changed);
    assert_true(has_line(r, "CcmInstallPXE"));
    assert_true(has_line(r, "Creating REMINST share to point to: "));
    assert_true(has_line(r, "Succesfully created share REMINST"));
    assert_true(has_line(r, "Installed PXE"));
    dpf__agent_reply__free_unpacked(r, NULL);
    assert_true(exists("RemoteInstall/SMSBoot/x64") && exists("RemoteInstall/SMSImages") &&
                exists("RemoteInstall/SMSTemp") && exists("RemoteInstall/SMSTempBootFiles") &&
                exists("etc/tftp.conf"));

    r = call(DPF_STEP_CONFIGURE_PXE, "PS1DP1.CONTOSO.COM", on);
    assert_true(r->ok);
    assert_false(r->changed);
    dpf__agent_reply__free_unpacked(r, NULL);

    r = call(DPF_STEP_CONFIGURE_PXE, "PS1DP1.CONTOSO.COM", off);
    assert_true(r->ok && r->changed);
    assert_true(has_line(r, "Removing existing PXE related directories"));
    dpf__agent_reply__free_unpacked(r, NULL);
    assert_false(exists("RemoteInstall") || exists("etc/tftp.conf"));

    r = call(DPF_STEP_REMOVE_PXE, "PS1DP1.CONTOSO.COM", NULL);
    assert_true(r->ok);
    assert_false(r->changed);
    dpf__agent_reply__free_unpacked(r, NULL);
}

static void settings_sorted_and_validated(void **state)
{
    (void)state;
    const char *params[] = {"Priority=200", "Description=PS1 Standard DP", "IsPXE=0", NULL};
    Dpf__AgentReply *r = call(DPF_STEP_WRITE_SETTINGS, "PS1DP1.CONTOSO.COM", params);
    assert_true(r->ok && r->changed);
    assert_true(has_line(r, "DP registry settings have been successfully updated on "
                            "PS1DP1.CONTOSO.COM"));
    dpf__agent_reply__free_unpacked(r, NULL);
    char *conf = read_rel("etc/dp.conf");
    assert_non_null(conf);
    assert_string_equal(conf,
                        "ComponentVersion=" DPF_COMPONENT_VERSION "\n"
                        "DPID=32\n"
                        "Description=PS1 Standard DP\n"
                        "IsPXE=0\n"
                        "NALPath=[\"Display=\\\\PS1DP1.CONTOSO.COM\\\"]MSWNET:[\"SMS_SITE=PS1\"]"
                        "\\\\PS1DP1.CONTOSO.COM\\\n"
                        "Priority=200\n"
                        "ServerName=PS1DP1.CONTOSO.COM\n"
                        "SiteCode=PS1\n");
    free(conf);

    r = call(DPF_STEP_WRITE_SETTINGS, "PS1DP1.CONTOSO.COM", params);
    assert_true(r->ok);
    assert_false(r->changed);
    dpf__agent_reply__free_unpacked(r, NULL);

    const char *bad[] = {"Priority=1\nComponentVersion=0", NULL};
    r = call(DPF_STEP_WRITE_SETTINGS, "PS1DP1.CONTOSO.COM", bad);
    assert_false(r->ok);
    assert_non_null(strstr(r->error, "control character"));
    dpf__agent_reply__free_unpacked(r, NULL);
    conf = read_rel("etc/dp.conf");
    assert_non_null(strstr(conf, "Priority=200\n")); /* unchanged */
    free(conf);

    r = call(DPF_STEP_STATUS, "PS1DP1.CONTOSO.COM", NULL);
    assert_true(r->ok);
    assert_false(r->changed);
    assert_true(has_line(r, "version=" DPF_COMPONENT_VERSION));
    assert_true(has_line(r, "pxe=0"));
    assert_true(has_line(r, "http_port=0"));
    dpf__agent_reply__free_unpacked(r, NULL);

    r = call(DPF_STEP_REMOVE_SETTINGS, "PS1DP1.CONTOSO.COM", NULL);
    assert_true(r->ok && r->changed);
    assert_true(has_line(r, "Deleting DP registry on NAL Path = "));
    dpf__agent_reply__free_unpacked(r, NULL);
    assert_false(exists("etc/dp.conf"));
}

static void provider_and_pulldp(void **state)
{
    (void)state;
    Dpf__AgentReply *r = call(DPF_STEP_REGISTER_PROVIDER, "PS1DP1.CONTOSO.COM", NULL);
    assert_true(r->ok && r->changed);
    dpf__agent_reply__free_unpacked(r, NULL);
    char *conf = read_rel("etc/provider.conf");
    assert_non_null(strstr(conf, "subject=agent.PS1DP1.CONTOSO.COM.step\n"));
    assert_non_null(strstr(conf, "version=" DPF_COMPONENT_VERSION "\n"));
    free(conf);
    r = call(DPF_STEP_REGISTER_PROVIDER, "PS1DP1.CONTOSO.COM", NULL);
    assert_true(r->ok);
    assert_false(r->changed);
    dpf__agent_reply__free_unpacked(r, NULL);
    r = call(DPF_STEP_UNREGISTER_PROVIDER, "PS1DP1.CONTOSO.COM", NULL);
    assert_true(r->ok && r->changed);
    dpf__agent_reply__free_unpacked(r, NULL);
    assert_false(exists("etc/provider.conf"));

    const char *on[] = {"pulldp=1", "sources=ps1dp3.contoso.com:2,PS1DP2.CONTOSO.COM:1", NULL};
    r = call(DPF_STEP_CONFIGURE_PULLDP, "PS1DP1.CONTOSO.COM", on);
    assert_true(r->ok && r->changed);
    assert_true(has_line(r, "PullDP is marked Installed"));
    dpf__agent_reply__free_unpacked(r, NULL);
    conf = read_rel("etc/pulldp.conf");
    assert_string_equal(conf, "pulldp=1\nsources=PS1DP2.CONTOSO.COM:1,PS1DP3.CONTOSO.COM:2\n");
    free(conf);

    const char *self[] = {"pulldp=1", "sources=PS1DP1.CONTOSO.COM:1", NULL};
    r = call(DPF_STEP_CONFIGURE_PULLDP, "PS1DP1.CONTOSO.COM", self);
    assert_false(r->ok);
    dpf__agent_reply__free_unpacked(r, NULL);

    const char *off[] = {"pulldp=0", NULL};
    r = call(DPF_STEP_CONFIGURE_PULLDP, "PS1DP1.CONTOSO.COM", off);
    assert_true(r->ok && r->changed);
    dpf__agent_reply__free_unpacked(r, NULL);
    assert_false(exists("etc/pulldp.conf"));
}

static void pulldp_source_lists(void **state)
{
    (void)state;
    char out[512], err[256];
    assert_int_equal(dpa_pulldp_canonical("b.contoso.com:5,a.contoso.com:5,c.contoso.com:1",
                                          "X.CONTOSO.COM", out, sizeof out, err, sizeof err),
                     DPF_OK);
    assert_string_equal(out, "C.CONTOSO.COM:1,B.CONTOSO.COM:5,A.CONTOSO.COM:5");
    const char *bad[] = {"", "a.contoso.com", "a.contoso.com:x", "a.contoso.com:-1",
                         "a.contoso.com:1,", "a.contoso.com:1,A.CONTOSO.COM:2", "bad_name:1",
                         "x.contoso.com:1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(dpa_pulldp_canonical(bad[i], "X.CONTOSO.COM", out, sizeof out, err,
                                              sizeof err),
                         DPF_ERR_INVALID);
        assert_true(err[0] != '\0');
    }
    assert_int_equal(dpa_pulldp_canonical(NULL, NULL, out, sizeof out, err, sizeof err),
                     DPF_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_has_every_step),
        cmocka_unit_test_setup_teardown(bad_requests_get_error_replies, setup, teardown),
        cmocka_unit_test_setup_teardown(create_and_remove_shares, setup, teardown),
        cmocka_unit_test_setup_teardown(pxe_on_and_off, setup, teardown),
        cmocka_unit_test_setup_teardown(settings_sorted_and_validated, setup, teardown),
        cmocka_unit_test_setup_teardown(provider_and_pulldp, setup, teardown),
        cmocka_unit_test(pulldp_source_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* dpagent end to end on one machine: a real nats-server (NATS_URL), the real
 * dpagent binary serving two hosts under a temporary root, and every step
 * sent the way distmgr sends it, with the build-time signed component set.
 * Checks what an administrator would look at: the layout on disk after each
 * step, changed=0 on a second run, the PXE tree coming and going, a
 * tampered file refused, garbage answered, content served over HTTP without
 * path traversal, one slow host not holding up another, and a restarted
 * agent serving again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dpf/agent.h>
#include <dpf/util.h>
#include "dpf_test.h"
#include "fsutil.h"
#include "test_dpagent_util.h"

#define HOST_A "PS1DP1.CONTOSO.COM"
#define HOST_B "PS1DP2.CONTOSO.COM"
#define CORR "corr-test-dpagent-0001"

static struct {
    char tmp[256];
    char root[512];
    const char *nats_url;
    dpf_bus *bus;
    pid_t agent;
    pid_t slow; /* second agent of slow_host_does_not_delay_other_host */
    tda_components comp;
} g;

static int stop_slow_agent(void **state);

/* ---- small checks ---- */

static void host_path(const char *fqdn, const char *rel, char *out, size_t len)
{
    snprintf(out, len, "%s/%s/%s", g.root, fqdn, rel);
}

static int exists(const char *fqdn, const char *rel)
{
    char p[2048];
    struct stat st;
    host_path(fqdn, rel, p, sizeof p);
    return lstat(p, &st) == 0;
}

static int mode_of(const char *fqdn, const char *rel)
{
    char p[2048];
    struct stat st;
    host_path(fqdn, rel, p, sizeof p);
    return lstat(p, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static char *read_host(const char *fqdn, const char *rel)
{
    char p[2048], *text = NULL;
    size_t len = 0;
    host_path(fqdn, rel, p, sizeof p);
    return dpf_read_file(p, &text, &len) == DPF_OK ? text : NULL;
}

static int file_has(const char *fqdn, const char *rel, const char *needle)
{
    char *text = read_host(fqdn, rel);
    int found = text != NULL && strstr(text, needle) != NULL;
    free(text);
    return found;
}

/* Runs one step; asserts ok and returns changed. */
static int step_ok(const char *fqdn, const char *step, const char *k1, const char *v1,
                   const char *k2, const char *v2)
{
    tda_req r;
    tda_req_init(&r, step, fqdn);
    char nal[256];
    snprintf(nal, sizeof nal, "[\"Display=\\\\%s\\\"]MSWNET:[\"SMS_SITE=PS1\"]\\\\%s\\", fqdn, fqdn);
    r.req.nal_path = nal;
    if (strcmp(step, DPF_STEP_INSTALL_FILES) == 0)
        tda_req_files(&r, &g.comp);
    if (k1)
        tda_req_param(&r, k1, v1);
    if (k2)
        tda_req_param(&r, k2, v2);
    Dpf__AgentReply *rep = tda_call(g.bus, &r, CORR, 30000, NULL);
    assert_non_null(rep);
    if (!rep->ok)
        fail_msg("%s on %s failed: %s", step, fqdn, rep->error);
    assert_string_equal(rep->step, step);
    assert_string_equal(rep->fqdn, fqdn);
    assert_true(rep->duration_us > 0);
    assert_true(rep->n_log > 0);
    int changed = rep->changed;
    dpf__agent_reply__free_unpacked(rep, NULL);
    return changed;
}

static Dpf__AgentReply *status_of(const char *fqdn)
{
    tda_req r;
    tda_req_init(&r, DPF_STEP_STATUS, fqdn);
    Dpf__AgentReply *rep = tda_call(g.bus, &r, CORR, 10000, NULL);
    assert_non_null(rep);
    assert_true(rep->ok);
    return rep;
}

static int http_port_of(const char *fqdn)
{
    Dpf__AgentReply *rep = status_of(fqdn);
    char v[32];
    tda_status_value(rep, "http_port", v, sizeof v);
    dpf__agent_reply__free_unpacked(rep, NULL);
    return atoi(v);
}

/* ---- setup ---- */

static int group_setup(void **state)
{
    (void)state;
    g.nats_url = dpf_test_env("NATS_URL");
    if (g.nats_url == NULL)
        return -1;
    snprintf(g.tmp, sizeof g.tmp, "/tmp/test_dpagent.XXXXXX");
    if (mkdtemp(g.tmp) == NULL)
        return -1;
    snprintf(g.root, sizeof g.root, "%s/agents", g.tmp);
    if (dpf_bus_connect(g.nats_url, "test_dpagent", &g.bus) != DPF_OK)
        return -1;
    tda_components_load(&g.comp);
    g.agent = tda_agent_start(g.nats_url, g.root, HOST_A "," HOST_B, NULL);
    if (tda_wait_ready(g.bus, HOST_A, 15000) != 0 || tda_wait_ready(g.bus, HOST_B, 5000) != 0) {
        fprintf(stderr, "dpagent did not answer; see %s.log\n", g.root);
        (void)tda_agent_stop(g.agent); /* cmocka skips the group teardown */
        g.agent = 0;
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    (void)stop_slow_agent(state);
    int rc = g.agent > 0 ? tda_agent_stop(g.agent) : 0;
    dpf_bus_destroy(g.bus);
    tda_components_free(&g.comp);
    if (rc != 0) {
        fprintf(stderr, "dpagent exited with %d on SIGTERM; see %s.log\n", rc, g.root);
        return -1;
    }
    if (getenv("DPF_TEST_KEEP") == NULL && dpa_fs_rmtree(g.tmp, NULL) != DPF_OK)
        return -1;
    return 0;
}

/* ---- tests ---- */

static void install_steps_lay_out_both_hosts(void **state)
{
    (void)state;
    const char *hosts[] = {HOST_A, HOST_B};
    for (int h = 0; h < 2; h++) {
        const char *f = hosts[h];
        char want[2048];

        assert_true(step_ok(f, DPF_STEP_INSTALL_FILES, NULL, NULL, NULL, NULL));
        for (size_t i = 0; i < g.comp.n; i++) {
            char rel[512];
            snprintf(rel, sizeof rel, "SMS_DP$/sms/bin/%s", g.comp.names[i]);
            char *data = read_host(f, rel);
            assert_non_null(data);
            assert_memory_equal(data, g.comp.data[i], g.comp.lens[i]);
            free(data);
        }
        assert_false(exists(f, "SMS_DP$/sms/bin/MANIFEST"));
        assert_true(file_has(f, "SMS_DP$/sms/logs/smsdpprov.log", "' is signed and trusted."));

        assert_true(step_ok(f, DPF_STEP_CREATE_SHARES, NULL, NULL, NULL, NULL));
        /* SMS_DP$ existed already (install_files), yet it is created as a share now */
        snprintf(want, sizeof want, "~Successfully created share SMS_DP$ on server %s", f);
        assert_true(file_has(f, "SMS_DP$/sms/logs/smsdpprov.log", want));
        const char *dirs[] = {"SMS_DP$", "SCCMContentLib$", "SCCMContentLib$/PkgLib",
                              "SCCMContentLib$/DataLib", "SCCMContentLib$/FileLib", "SMSSIG$"};
        for (size_t i = 0; i < 6; i++)
            assert_int_equal(mode_of(f, dirs[i]), 0755);
        snprintf(want, sizeof want, "SCCMContentLib$=%s/%s/SCCMContentLib$\n", g.root, f);
        assert_true(file_has(f, "etc/shares.conf", want));

        assert_true(step_ok(f, DPF_STEP_ENABLE_HTTP, NULL, NULL, NULL, NULL));
        assert_true(file_has(f, "etc/http.conf", "enabled=1\n"));
        int port = http_port_of(f);
        assert_true(port > 0);
        snprintf(want, sizeof want, "port=%d\n", port);
        assert_true(file_has(f, "etc/http.conf", want));

        assert_true(step_ok(f, DPF_STEP_REGISTER_PROVIDER, NULL, NULL, NULL, NULL));
        snprintf(want, sizeof want, "subject=agent.%s.step\n", f);
        assert_true(file_has(f, "etc/provider.conf", want));

        assert_true(step_ok(f, DPF_STEP_CONFIGURE_VDIRS, NULL, NULL, NULL, NULL));
        snprintf(want, sizeof want, "SMS_DP_SMSPKG$=%s/%s/SCCMContentLib$\n", g.root, f);
        assert_true(file_has(f, "etc/vdirs.conf", want));
        snprintf(want, sizeof want, "SMS_DP_SMSSIG$=%s/%s/SMSSIG$\n", g.root, f);
        assert_true(file_has(f, "etc/vdirs.conf", want));

        assert_true(step_ok(f, DPF_STEP_WRITE_SETTINGS, "Priority", "200", "Description",
                            "PS1 Standard DP"));
        assert_true(file_has(f, "etc/dp.conf", "ComponentVersion=" DPF_COMPONENT_VERSION "\n"));
        /* sorted keys, with the request's DPID and the caller's settings */
        assert_true(file_has(f, "etc/dp.conf", "DPID=32\nDescription=PS1 Standard DP\nNALPath="));
        assert_true(file_has(f, "etc/dp.conf", "Priority=200\n"));

        const char *pxe = h == 0 ? "0" : "1";
        int changed = step_ok(f, DPF_STEP_CONFIGURE_PXE, "pxe", pxe, NULL, NULL);
        assert_int_equal(changed, h == 1);
        assert_int_equal(exists(f, "RemoteInstall/SMSBoot/x64"), h == 1);
        assert_int_equal(exists(f, "etc/tftp.conf"), h == 1);

        assert_false(step_ok(f, DPF_STEP_CONFIGURE_PULLDP, "pulldp", "0", NULL, NULL));
        assert_false(exists(f, "etc/pulldp.conf"));

        Dpf__AgentReply *st = status_of(f);
        char v[64];
        tda_status_value(st, "files", v, sizeof v);
        snprintf(want, sizeof want, "%zu", g.comp.n);
        assert_string_equal(v, want);
        tda_status_value(st, "version", v, sizeof v);
        assert_string_equal(v, DPF_COMPONENT_VERSION);
        tda_status_value(st, "pxe", v, sizeof v);
        assert_string_equal(v, pxe);
        dpf__agent_reply__free_unpacked(st, NULL);
    }
    /* every line carries the correlation id of the request that caused it */
    assert_true(file_has(HOST_A, "SMS_DP$/sms/logs/smsdpprov.log", "[" CORR "]"));
}

static void second_run_changes_nothing(void **state)
{
    (void)state;
    const char *hosts[] = {HOST_A, HOST_B};
    for (int h = 0; h < 2; h++) {
        const char *f = hosts[h];
        assert_false(step_ok(f, DPF_STEP_INSTALL_FILES, NULL, NULL, NULL, NULL));
        assert_false(step_ok(f, DPF_STEP_CREATE_SHARES, NULL, NULL, NULL, NULL));
        assert_false(step_ok(f, DPF_STEP_ENABLE_HTTP, NULL, NULL, NULL, NULL));
        assert_false(step_ok(f, DPF_STEP_REGISTER_PROVIDER, NULL, NULL, NULL, NULL));
        assert_false(step_ok(f, DPF_STEP_CONFIGURE_VDIRS, NULL, NULL, NULL, NULL));
        assert_false(step_ok(f, DPF_STEP_WRITE_SETTINGS, "Priority", "200", "Description",
                             "PS1 Standard DP"));
        assert_false(step_ok(f, DPF_STEP_CONFIGURE_PXE, "pxe", h == 0 ? "0" : "1", NULL, NULL));
        assert_false(step_ok(f, DPF_STEP_CONFIGURE_PULLDP, "pulldp", "0", NULL, NULL));
    }
}

static void pxe_on_then_off(void **state)
{
    (void)state;
    assert_true(step_ok(HOST_A, DPF_STEP_CONFIGURE_PXE, "pxe", "1", NULL, NULL));
    const char *tree[] = {"RemoteInstall/SMSBoot/x64", "RemoteInstall/SMSImages",
                          "RemoteInstall/SMSTemp", "RemoteInstall/SMSTempBootFiles",
                          "etc/tftp.conf"};
    for (size_t i = 0; i < 5; i++)
        assert_true(exists(HOST_A, tree[i]));
    assert_true(file_has(HOST_A, "SMS_DP$/sms/logs/smsdpprov.log", "Succesfully created share REMINST"));
    assert_true(file_has(HOST_A, "SMS_DP$/sms/logs/smsdpprov.log", "Installed PXE"));

    assert_true(step_ok(HOST_A, DPF_STEP_CONFIGURE_PXE, "pxe", "0", NULL, NULL));
    assert_false(exists(HOST_A, "RemoteInstall"));
    assert_false(exists(HOST_A, "etc/tftp.conf"));
    assert_true(file_has(HOST_A, "SMS_DP$/sms/logs/smsdpprov.log",
                         "Removing existing PXE related directories"));
    assert_true(exists(HOST_B, "RemoteInstall/SMSBoot/x64")); /* the other host is untouched */
}

static void pulldp_on_then_off(void **state)
{
    (void)state;
    assert_true(step_ok(HOST_A, DPF_STEP_CONFIGURE_PULLDP, "pulldp", "1", "sources",
                        "ps1dp3.contoso.com:2," HOST_B ":1"));
    assert_true(file_has(HOST_A, "etc/pulldp.conf",
                         "sources=" HOST_B ":1,PS1DP3.CONTOSO.COM:2\n"));
    assert_true(step_ok(HOST_A, DPF_STEP_CONFIGURE_PULLDP, "pulldp", "0", NULL, NULL));
    assert_false(exists(HOST_A, "etc/pulldp.conf"));
}

static void tampered_file_is_refused(void **state)
{
    (void)state;
    tda_req r;
    tda_req_init(&r, DPF_STEP_INSTALL_FILES, HOST_B);
    tda_req_files(&r, &g.comp);
    size_t victim = 0;
    for (size_t i = 0; i < g.comp.n; i++)
        victim = strcmp(g.comp.names[i], "smsdpprov") == 0 ? i : victim;
    char *evil = strdup("#!/bin/sh\nrm -rf /\n");
    r.cf[victim].data.data = (uint8_t *)evil;
    r.cf[victim].data.len = strlen(evil);
    Dpf__AgentReply *rep = tda_call(g.bus, &r, CORR, 10000, NULL);
    assert_non_null(rep);
    assert_false(rep->ok);
    assert_false(rep->changed);
    assert_non_null(strstr(rep->error, "File 'smsdpprov' failed verification: SHA-256 mismatch"));
    dpf__agent_reply__free_unpacked(rep, NULL);

    char rel[512];
    snprintf(rel, sizeof rel, "SMS_DP$/sms/bin/%s", g.comp.names[victim]);
    char *on_disk = read_host(HOST_B, rel);
    assert_memory_equal(on_disk, g.comp.data[victim], g.comp.lens[victim]);
    free(on_disk);

    /* a signature from another key is refused the same way */
    tda_req_files(&r, &g.comp);
    char badsig[64];
    memcpy(badsig, g.comp.sig, sizeof badsig);
    badsig[10] ^= 0x01;
    r.req.signature.data = (uint8_t *)badsig;
    rep = tda_call(g.bus, &r, CORR, 10000, NULL);
    assert_non_null(rep);
    assert_false(rep->ok);
    assert_non_null(strstr(rep->error, "MANIFEST failed verification"));
    dpf__agent_reply__free_unpacked(rep, NULL);
    free(evil);
}

static void garbage_request_gets_error_and_agent_goes_on(void **state)
{
    (void)state;
    Dpf__AgentReply *rep = tda_call_raw(g.bus, HOST_A, "\x0a\xff\xff\xff\xff\xff garbage", 14, 5000);
    assert_non_null(rep);
    assert_false(rep->ok);
    assert_string_equal(rep->error, "cannot decode request");
    dpf__agent_reply__free_unpacked(rep, NULL);

    rep = tda_call_raw(g.bus, HOST_A, "", 0, 5000); /* empty: decodes, has no step */
    assert_non_null(rep);
    assert_false(rep->ok);
    dpf__agent_reply__free_unpacked(rep, NULL);

    tda_req r;
    tda_req_init(&r, "format_c_drive", HOST_A);
    rep = tda_call(g.bus, &r, CORR, 5000, NULL);
    assert_non_null(rep);
    assert_false(rep->ok);
    assert_string_equal(rep->error, "unknown step 'format_c_drive'");
    dpf__agent_reply__free_unpacked(rep, NULL);

    tda_req_init(&r, DPF_STEP_CONFIGURE_PXE, HOST_A);
    tda_req_param(&r, "pxe", "maybe");
    rep = tda_call(g.bus, &r, CORR, 5000, NULL);
    assert_non_null(rep);
    assert_false(rep->ok);
    assert_non_null(strstr(rep->error, "'pxe' must be 1 or 0"));
    dpf__agent_reply__free_unpacked(rep, NULL);

    rep = status_of(HOST_A); /* still serving */
    dpf__agent_reply__free_unpacked(rep, NULL);
}

static void http_serves_content_and_refuses_traversal(void **state)
{
    (void)state;
    char path[2048], body[4096];
    host_path(HOST_A, "SMSSIG$/PS100002.tar", path, sizeof path);
    assert_int_equal(dpa_fs_write_atomic(path, "[Packages]\nCS100002=\n", 21, 0644, NULL),
                     DPF_OK);
    int port = http_port_of(HOST_A);
    assert_int_equal(tda_http_get(port, "/SMS_DP_SMSSIG$/PS100002.tar", body, sizeof body),
                     200);
    assert_string_equal(body, "[Packages]\nCS100002=\n");
    assert_int_equal(tda_http_get(port, "/NOCERT_SMS_DP_SMSSIG$/PS100002.tar", body,
                                  sizeof body), 200);
    assert_int_equal(tda_http_get(port, "/SMS_DP_SMSSIG$/nothere", body, sizeof body), 404);

    const char *attacks[] = {"/SMS_DP_SMSSIG$/../etc/dp.conf",
                             "/SMS_DP_SMSSIG$/x/../../etc/dp.conf",
                             "/SMS_DP_SMSSIG$/%2e%2e/etc/dp.conf",
                             "/SMS_DP_SMSSIG$/%2e%2e%2fetc/dp.conf",
                             "/SMS_DP_SMSSIG$//etc/passwd",
                             "/SMS_DP_SMSSIG$/PS100002.tar%00.txt",
                             "/SMS_DP_SMSPKG$/../etc/dp.conf",
                             "/SMS_DP_SMSPKG$/PS100002/..%2f..%2fetc/dp.conf"};
    for (size_t i = 0; i < sizeof attacks / sizeof attacks[0]; i++) {
        int code = tda_http_get(port, attacks[i], body, sizeof body);
        if (code != 400 && code != 404)
            fail_msg("%s answered %d", attacks[i], code);
        assert_null(strstr(body, "ComponentVersion"));
    }
    /* the other host serves its own library, not this one */
    int port_b = http_port_of(HOST_B);
    assert_int_not_equal(port, port_b);
    assert_int_equal(tda_http_get(port_b, "/SMS_DP_SMSSIG$/PS100002.tar", body,
                                  sizeof body), 404);
}

typedef struct bg_call {
    tda_req r;
    Dpf__AgentReply *rep;
    int elapsed_ms;
    int64_t done_us;
} bg_call;

static void *bg_run(void *p)
{
    bg_call *c = p;
    c->rep = tda_call(g.bus, &c->r, CORR, 60000, &c->elapsed_ms);
    c->done_us = dpf_mono_us();
    return NULL;
}

static void big_remove_shares_does_not_delay_other_host(void **state)
{
    (void)state;
    char dir[2048], path[4096];
    host_path(HOST_A, "SCCMContentLib$/FileLib/ABCD", dir, sizeof dir);
    assert_int_equal(dpa_fs_mkdirs(dir, 0755, NULL), DPF_OK);
    for (int i = 0; i < 30000; i++) {
        snprintf(path, sizeof path, "%s/%05d", dir, i);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs("x", f);
        fclose(f);
    }
    bg_call a;
    memset(&a, 0, sizeof a);
    tda_req_init(&a.r, DPF_STEP_REMOVE_SHARES, HOST_A);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, bg_run, &a), 0);
    struct timespec ts = {0, 20 * 1000000L};
    nanosleep(&ts, NULL);

    int worst = 0;
    int64_t last_b = 0;
    for (int i = 0; i < 5; i++) {
        tda_req r;
        tda_req_init(&r, DPF_STEP_STATUS, HOST_B);
        int ms = 0;
        Dpf__AgentReply *rep = tda_call(g.bus, &r, CORR, 10000, &ms);
        assert_non_null(rep);
        assert_true(rep->ok);
        dpf__agent_reply__free_unpacked(rep, NULL);
        worst = ms > worst ? ms : worst;
        last_b = dpf_mono_us();
    }
    pthread_join(t, NULL);
    assert_non_null(a.rep);
    assert_true(a.rep->ok);
    fprintf(stderr, "remove_shares of 30000 files on A: %d ms; status of B meanwhile: worst %d ms\n",
            a.elapsed_ms, worst);
    /* B's five answers all came while A was still removing */
    assert_true(last_b < a.done_us);
    assert_true(worst < 250);
    dpf__agent_reply__free_unpacked(a.rep, NULL);
    assert_false(exists(HOST_A, "SCCMContentLib$"));
    assert_false(exists(HOST_A, "SMS_DP$"));
}

static void removal_steps_leave_root_empty(void **state)
{
    (void)state;
    const char *steps[] = {DPF_STEP_REMOVE_PXE, DPF_STEP_REMOVE_TASKS, DPF_STEP_REMOVE_PULLDP,
                           DPF_STEP_UNREGISTER_PROVIDER, DPF_STEP_REMOVE_SHARES,
                           DPF_STEP_REMOVE_VDIRS, DPF_STEP_REMOVE_SETTINGS};
    for (size_t i = 0; i < 7; i++)
        (void)step_ok(HOST_A, steps[i], NULL, NULL, NULL, NULL);
    char root[2048];
    host_path(HOST_A, "", root, sizeof root);
    assert_int_equal(dpa_fs_count_files(root), 0);
    assert_false(exists(HOST_A, "etc"));
    assert_false(exists(HOST_A, "SMS_DP$"));
    assert_int_equal(http_port_of(HOST_A), 0);
    for (size_t i = 0; i < 7; i++)
        assert_false(step_ok(HOST_A, steps[i], NULL, NULL, NULL, NULL));
    assert_false(exists(HOST_A, "SMS_DP$")); /* removal does not bring the log back */
}

static void slow_host_does_not_delay_other_host(void **state)
{
    (void)state;
    char root2[600];
    snprintf(root2, sizeof root2, "%s/slow", g.tmp);
    const char *extra[] = {"--step-delay-ms", "1000", NULL};
    g.slow = tda_agent_start(g.nats_url, root2, "PS1DP7.CONTOSO.COM,PS1DP8.CONTOSO.COM", extra);
    assert_int_equal(tda_wait_ready(g.bus, "PS1DP7.CONTOSO.COM", 15000), 0);

    bg_call c[3];
    pthread_t t[3];
    const char *fq[3] = {"PS1DP7.CONTOSO.COM", "PS1DP7.CONTOSO.COM", "PS1DP8.CONTOSO.COM"};
    for (int i = 0; i < 3; i++) {
        memset(&c[i], 0, sizeof c[i]);
        tda_req_init(&c[i].r, DPF_STEP_CREATE_SHARES, fq[i]);
        assert_int_equal(pthread_create(&t[i], NULL, bg_run, &c[i]), 0);
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        assert_non_null(c[i].rep);
        assert_true(c[i].rep->ok);
    }
    fprintf(stderr, "step delay 1000 ms: host 7 first %d ms, host 7 second %d ms, host 8 %d ms\n",
            c[0].elapsed_ms, c[1].elapsed_ms, c[2].elapsed_ms);
    /* host 8 ran alongside host 7, not after it */
    assert_true(c[2].elapsed_ms >= 950 && c[2].elapsed_ms < 1600);
    /* the two steps of host 7 ran one after the other */
    assert_true(c[1].elapsed_ms >= 1800);
    assert_true(c[0].rep->changed);
    assert_false(c[1].rep->changed);
    for (int i = 0; i < 3; i++)
        dpf__agent_reply__free_unpacked(c[i].rep, NULL);
    pid_t slow = g.slow;
    g.slow = 0;
    assert_int_equal(tda_agent_stop(slow), 0);
}

/* a failed assertion must not leave the slow agent running */
static int stop_slow_agent(void **state)
{
    (void)state;
    if (g.slow > 0)
        (void)tda_agent_stop(g.slow);
    g.slow = 0;
    return 0;
}

static void restarted_agent_resumes_http(void **state)
{
    (void)state;
    char path[2048], body[256];
    host_path(HOST_B, "SMSSIG$/PS100003.tar", path, sizeof path);
    assert_int_equal(dpa_fs_write_atomic(path, "v3\n", 3, 0644, NULL), DPF_OK);
    assert_int_equal(tda_agent_stop(g.agent), 0);
    g.agent = tda_agent_start(g.nats_url, g.root, HOST_A "," HOST_B, NULL);
    assert_int_equal(tda_wait_ready(g.bus, HOST_B, 15000), 0);
    int port = http_port_of(HOST_B);
    assert_true(port > 0);
    char want[64];
    snprintf(want, sizeof want, "port=%d\n", port);
    assert_true(file_has(HOST_B, "etc/http.conf", want));
    assert_int_equal(tda_http_get(port, "/SMS_DP_SMSSIG$/PS100003.tar", body, sizeof body),
                     200);
    assert_string_equal(body, "v3\n");
    assert_int_equal(http_port_of(HOST_A), 0); /* A was removed: stays off */
    /* still installed: a full second run changes nothing */
    assert_false(step_ok(HOST_B, DPF_STEP_INSTALL_FILES, NULL, NULL, NULL, NULL));
    assert_false(step_ok(HOST_B, DPF_STEP_ENABLE_HTTP, NULL, NULL, NULL, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(install_steps_lay_out_both_hosts),
        cmocka_unit_test(second_run_changes_nothing),
        cmocka_unit_test(pxe_on_then_off),
        cmocka_unit_test(pulldp_on_then_off),
        cmocka_unit_test(tampered_file_is_refused),
        cmocka_unit_test(garbage_request_gets_error_and_agent_goes_on),
        cmocka_unit_test(http_serves_content_and_refuses_traversal),
        cmocka_unit_test(big_remove_shares_does_not_delay_other_host),
        cmocka_unit_test(removal_steps_leave_root_empty),
        cmocka_unit_test_teardown(slow_host_does_not_delay_other_host, stop_slow_agent),
        cmocka_unit_test(restarted_agent_resumes_http),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

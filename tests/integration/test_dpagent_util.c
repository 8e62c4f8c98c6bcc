/* Helpers of the dpagent integration test (see test_dpagent_util.h). */
#include "test_dpagent_util.h"
#include "dpf_test.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dpf/agent.h>
#include <dpf/stepsig.h>
#include <dpf/util.h>

/* The step key pair of this test process: distmgr's private key and the
 * public key every agent started here trusts (issue 9, signed steps). */
static char g_keydir[64], g_priv[128], g_pub[128];

static void remove_keys(void)
{
    unlink(g_priv);
    unlink(g_pub);
    rmdir(g_keydir);
}

static void make_keys(void)
{
    char err[256];
    if (g_keydir[0] != '\0')
        return;
    snprintf(g_keydir, sizeof g_keydir, "/tmp/tda_stepkey.XXXXXX");
    assert_non_null(mkdtemp(g_keydir));
    snprintf(g_priv, sizeof g_priv, "%s/step.key", g_keydir);
    snprintf(g_pub, sizeof g_pub, "%s/step.pub", g_keydir);
    if (dpf_stepsig_keygen(g_priv, g_pub, err, sizeof err) != DPF_OK)
        fail_msg("cannot make the step key pair: %s", err);
    atexit(remove_keys);
}

const char *tda_step_priv(void)
{
    make_keys();
    return g_priv;
}

const char *tda_step_pub(void)
{
    make_keys();
    return g_pub;
}

uint8_t *tda_pack_signed(tda_req *r, const char *priv, int64_t at_ms, size_t *len)
{
    char err[256];
    dpf_stepsig_signer *s = NULL;
    if (dpf_stepsig_signer_load(priv != NULL ? priv : tda_step_priv(), &s, err, sizeof err) !=
        DPF_OK)
        fail_msg("cannot load the step key: %s", err);
    uint8_t nonce[DPF_STEPSIG_NONCE_LEN];
    assert_int_equal(dpf_stepsig_stamp(&r->req, at_ms != 0 ? at_ms : dpf_stepsig_now_ms(), nonce),
                     DPF_OK);
    size_t n = dpf__agent_request__get_packed_size(&r->req);
    uint8_t *buf = malloc(n + DPF_STEPSIG_TAIL_MAX);
    assert_non_null(buf);
    dpf__agent_request__pack(&r->req, buf);
    r->req.nonce.data = NULL;
    r->req.nonce.len = 0;
    assert_int_equal(dpf_stepsig_seal(s, buf, n, len), DPF_OK);
    dpf_stepsig_signer_free(s);
    return buf;
}

pid_t tda_agent_start(const char *nats_url, const char *root, const char *hosts,
                      const char *const *extra)
{
    char logpath[1024];
    snprintf(logpath, sizeof logpath, "%s.log", root);
    make_keys();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            /* never the caller's stdout: a leaked agent would hold its pipe */
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        const char *argv[32] = {DPAGENT_BIN, "--nats-url", nats_url, "--root", root,
                                "--hosts", hosts, "--http-listen", "127.0.0.1:0",
                                "--step-trusted-key", g_pub};
        size_t n = 11;
        for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 31; i++)
            argv[n++] = extra[i];
        argv[n] = NULL;
        execv(DPAGENT_BIN, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

int tda_agent_stop(pid_t pid)
{
    return dpf_test_stop(pid, 10000);
}

int tda_wait_ready(dpf_bus *bus, const char *fqdn, int timeout_ms)
{
    int64_t until = dpf_mono_us() + (int64_t)timeout_ms * 1000;
    while (dpf_mono_us() < until) {
        tda_req r;
        tda_req_init(&r, DPF_STEP_STATUS, fqdn);
        Dpf__AgentReply *rep = tda_call(bus, &r, NULL, 2000, NULL);
        if (rep != NULL) {
            int ok = rep->ok;
            dpf__agent_reply__free_unpacked(rep, NULL);
            if (ok)
                return 0;
        }
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return -1;
}

static char *read_in(const char *dir, const char *name, size_t *len)
{
    char path[1024], *data = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(dpf_read_file(path, &data, len), DPF_OK);
    return data;
}

void tda_components_load(tda_components *c)
{
    memset(c, 0, sizeof *c);
    const char *dir = DPAGENT_COMPONENTS_DIR;
    c->manifest = read_in(dir, "MANIFEST", &c->mlen);
    c->sig = read_in(dir, "MANIFEST.sig", &c->slen);
    /* the names come from the manifest: "<64 hex>  <name>\n" */
    const char *p = c->manifest;
    while (*p && c->n < 32) {
        const char *nl = strchr(p, '\n');
        size_t ll = nl ? (size_t)(nl - p) : strlen(p);
        assert_true(ll > 66);
        c->names[c->n] = strndup(p + 66, ll - 66);
        c->data[c->n] = read_in(dir, c->names[c->n], &c->lens[c->n]);
        c->n++;
        p += ll + (nl ? 1 : 0);
    }
    assert_true(c->n >= 4);
}

void tda_components_free(tda_components *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->names[i]);
        free(c->data[i]);
    }
    free(c->manifest);
    free(c->sig);
}

void tda_req_init(tda_req *r, const char *step, const char *fqdn)
{
    memset(r, 0, sizeof *r);
    dpf__agent_request__init(&r->req);
    r->req.step = (char *)step;
    r->req.fqdn = (char *)fqdn;
    r->req.dpid = 32;
    r->req.site_code = "PS1";
    r->req.params = r->pkv;
    r->req.files = r->pcf;
}

void tda_req_param(tda_req *r, const char *key, const char *value)
{
    size_t i = r->req.n_params++;
    dpf__key_value__init(&r->kv[i]);
    r->kv[i].key = (char *)key;
    r->kv[i].value = (char *)value;
    r->pkv[i] = &r->kv[i];
}

void tda_req_files(tda_req *r, const tda_components *c)
{
    for (size_t i = 0; i < c->n; i++) {
        dpf__component_file__init(&r->cf[i]);
        r->cf[i].name = c->names[i];
        r->cf[i].data.data = (uint8_t *)c->data[i];
        r->cf[i].data.len = c->lens[i];
        r->pcf[i] = &r->cf[i];
    }
    r->req.n_files = c->n;
    r->req.manifest.data = (uint8_t *)c->manifest;
    r->req.manifest.len = c->mlen;
    r->req.signature.data = (uint8_t *)c->sig;
    r->req.signature.len = c->slen;
}

Dpf__AgentReply *tda_call_raw(dpf_bus *bus, const char *fqdn, const void *data, size_t len,
                              int timeout_ms)
{
    char subject[300];
    snprintf(subject, sizeof subject, DPF_AGENT_SUBJECT_FMT, fqdn);
    void *reply = NULL;
    size_t reply_len = 0;
    if (dpf_bus_request(bus, subject, data, len, NULL, timeout_ms, &reply, &reply_len) != DPF_OK)
        return NULL;
    Dpf__AgentReply *r = dpf__agent_reply__unpack(NULL, reply_len, reply);
    free(reply);
    return r;
}

Dpf__AgentReply *tda_call(dpf_bus *bus, tda_req *r, const char *corr, int timeout_ms,
                          int *elapsed_ms)
{
    char subject[300];
    snprintf(subject, sizeof subject, DPF_AGENT_SUBJECT_FMT, r->req.fqdn);
    size_t len = 0;
    uint8_t *buf = tda_pack_signed(r, NULL, 0, &len);
    void *reply = NULL;
    size_t reply_len = 0;
    int64_t t0 = dpf_mono_us();
    dpf_status rc = dpf_bus_request(bus, subject, buf, len, corr, timeout_ms, &reply, &reply_len);
    if (elapsed_ms)
        *elapsed_ms = (int)((dpf_mono_us() - t0) / 1000);
    free(buf);
    if (rc != DPF_OK)
        return NULL;
    Dpf__AgentReply *rep = dpf__agent_reply__unpack(NULL, reply_len, reply);
    free(reply);
    return rep;
}

int tda_has_line(const Dpf__AgentReply *r, const char *needle)
{
    for (size_t i = 0; r != NULL && i < r->n_log; i++) {
        if (strstr(r->log[i], needle) != NULL)
            return 1;
    }
    return 0;
}

void tda_status_value(const Dpf__AgentReply *r, const char *key, char *out, size_t len)
{
    size_t kl = strlen(key);
    out[0] = '\0';
    for (size_t i = 0; r != NULL && i < r->n_log; i++) {
        if (strncmp(r->log[i], key, kl) == 0 && r->log[i][kl] == '=')
            snprintf(out, len, "%s", r->log[i] + kl + 1);
    }
}

int tda_http_get(int port, const char *path, char *body, size_t len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    char req[1024];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: x\r\n\r\n", path);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    char resp[16384];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof resp - 1 && (r = read(fd, resp + got, sizeof resp - 1 - got)) > 0)
        got += (size_t)r;
    resp[got] = '\0';
    close(fd);
    int code = -1;
    sscanf(resp, "HTTP/1.%*d %d", &code);
    const char *b = strstr(resp, "\r\n\r\n");
    snprintf(body, len, "%s", b ? b + 4 : "");
    return code;
}

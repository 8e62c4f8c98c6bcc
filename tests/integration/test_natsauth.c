/* NATS identities in operator mode (issue 9): dpf-natsauth's key hierarchy
 * and credentials against a real nats-server started here with its
 * configuration (the harness's server runs without authorization).
 *
 * A user would check: each role connects and can do its job, and is refused
 * (by nats-server, "Permissions Violation") what it has no right to; a DP
 * host's credential serves only its own subject; a revoked credential no
 * longer connects; a credential of another operator is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <nats/nats.h>

#include <dpf/bus.h>
#include <dpf/jwt.h>
#include <dpf/natsissuer.h>

#include "dpf_test.h"

static char g_dir[] = "/tmp/test_natsauth.XXXXXX";
static char g_url[64];
static pid_t g_server;

typedef struct probe {
    natsConnection *nc;
    atomic_int violations; /* -ERR 'Permissions Violation ...' seen (nats.c's thread) */
} probe;

/* nats.c's thread: only the status it passes (nats.c sets NATS_NOT_PERMITTED
 * for a permissions violation). The connection's error text is not read
 * here: nats.c rewrites it when the next -ERR arrives, outside any lock we
 * could hold (a ThreadSanitizer report); last_error reads it from the
 * test's thread once the refusal is flushed. */
static void on_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure)
{
    (void)nc;
    (void)sub;
    probe *p = closure;
    if (err == NATS_NOT_PERMITTED)
        p->violations++;
}

/* The connection's last error text, read on the test's thread. */
static const char *last_error(probe *p)
{
    const char *text = NULL;
    natsConnection_GetLastError(p->nc, &text);
    return text != NULL ? text : "";
}

static natsStatus probe_connect(probe *p, const char *creds)
{
    memset(p, 0, sizeof *p);
    natsOptions *o = NULL;
    natsStatus s = natsOptions_Create(&o);
    if (s == NATS_OK)
        s = natsOptions_SetURL(o, g_url);
    if (s == NATS_OK)
        s = natsOptions_SetUserCredentialsFromFiles(o, creds, NULL);
    if (s == NATS_OK)
        s = natsOptions_SetErrorHandler(o, on_error, p);
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(o, 0);
    /* nats.c 3.4.1 drops a nonce signature beginning with a zero byte (1
     * connect in 256 refused; bus.c works around it): a refusal counts
     * only when it repeats */
    for (int i = 0; i < 3 && (s == NATS_OK || s == NATS_CONNECTION_AUTH_FAILED); i++) {
        s = natsConnection_Connect(&p->nc, o);
        if (s == NATS_OK)
            break;
    }
    natsOptions_Destroy(o);
    return s;
}

static void dump_server_log(void);

/* connects or fails the test with the server's side of the story */
static void expect_connect(probe *p, const char *creds)
{
    natsStatus s = probe_connect(p, creds);
    if (s != NATS_OK) {
        dump_server_log();
        fail_msg("%s refused: %s", creds, natsStatus_GetText(s));
    }
}

static void probe_close(probe *p)
{
    natsConnection_Destroy(p->nc);
    p->nc = NULL;
}

/* 1 if the server refused the subscription or publish just made */
static int refused(probe *p, int before)
{
    natsConnection_FlushTimeout(p->nc, 2000);
    for (int i = 0; i < 40 && p->violations == before; i++)
        usleep(25 * 1000);
    return p->violations > before;
}

static int try_sub(probe *p, const char *subject)
{
    int before = p->violations;
    natsSubscription *sub = NULL;
    natsStatus s = natsConnection_SubscribeSync(&sub, p->nc, subject);
    int r = s != NATS_OK || refused(p, before);
    natsSubscription_Destroy(sub);
    return r ? 0 : 1;
}

static int try_pub(probe *p, const char *subject)
{
    int before = p->violations;
    natsStatus s = natsConnection_PublishString(p->nc, subject, "x");
    return s != NATS_OK || refused(p, before) ? 0 : 1;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

static void path_of(char *buf, size_t len, const char *rel)
{
    snprintf(buf, len, "%s/%s", g_dir, rel);
}

static int g_port;
static int start_server(void);

static int setup(void **state)
{
    (void)state;
    if (mkdtemp(g_dir) == NULL)
        return -1;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s init %s/auth >/dev/null", DPF_NATSAUTH_BIN, g_dir);
    if (system(cmd) != 0)
        return -1;
    g_port = free_port();
    snprintf(g_url, sizeof g_url, "nats://127.0.0.1:%d", g_port);
    return start_server();
}

/* nats-server with the generated configuration; waits for the admin to get in */
static int start_server(void)
{
    g_server = fork();
    if (g_server == 0) {
        char conf[512], sd[512], p[16], log[512];
        snprintf(conf, sizeof conf, "%s/auth/nats.conf", g_dir);
        snprintf(sd, sizeof sd, "%s/js", g_dir);
        snprintf(log, sizeof log, "%s/nats.log", g_dir);
        snprintf(p, sizeof p, "%d", g_port);
        if (freopen(log, "a", stderr) == NULL)
            _exit(126);
        /* -D: the log says why a connection was refused */
        execlp("nats-server", "nats-server", "-c", conf, "-js", "-sd", sd, "-a", "127.0.0.1", "-p", p,
               "-D", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100; i++) {
        natsConnection *nc = NULL;
        char creds[512];
        path_of(creds, sizeof creds, "auth/creds/admin.creds");
        natsOptions *o = NULL;
        natsOptions_Create(&o);
        natsOptions_SetURL(o, g_url);
        natsOptions_SetUserCredentialsFromFiles(o, creds, NULL);
        natsStatus s = natsConnection_Connect(&nc, o);
        natsOptions_Destroy(o);
        natsConnection_Destroy(nc);
        if (s == NATS_OK)
            return 0;
        usleep(100 * 1000);
    }
    fprintf(stderr, "nats-server with %s/auth/nats.conf did not take the admin credential\n", g_dir);
    return -1;
}

static void dump_server_log(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "tail -n 30 %s/nats.log >&2", g_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "no nats.log\n");
}

static int teardown(void **state)
{
    (void)state;
    if (g_server > 0)
        dpf_test_stop(g_server, 5000);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* the admin (tests) has JetStream in the dpfleet account: the streams */
static void test_admin_jetstream(void **state)
{
    (void)state;
    char creds[512];
    path_of(creds, sizeof creds, "auth/creds/admin.creds");
    dpf_bus_auth auth = {.creds_file = creds};
    dpf_bus *bus = NULL;
    assert_int_equal(dpf_bus_connect_as(g_url, "test admin", &auth, &bus), DPF_OK);
    assert_int_equal(dpf_bus_ensure_streams(bus), DPF_OK);
    dpf_bus_destroy(bus);
}

static void test_statmsg_reader(void **state)
{
    (void)state;
    char creds[512];
    path_of(creds, sizeof creds, "auth/creds/statmsg-reader.creds");
    probe p;
    assert_int_equal(probe_connect(&p, creds), NATS_OK);
    assert_true(try_sub(&p, "statmsg.>"));
    assert_false(try_sub(&p, "dp.ins.>"));
    assert_non_null(strstr(last_error(&p), "Permissions Violation"));
    assert_false(try_sub(&p, "sitecontrol.changed.>"));
    assert_false(try_sub(&p, "agent.*.>"));
    assert_false(try_sub(&p, ">"));
    assert_false(try_pub(&p, "statmsg.PS1.x.1"));
    assert_false(try_pub(&p, "dp.dpn.x"));
    probe_close(&p);
}

static void test_agent_credential_and_revocation(void **state)
{
    (void)state;
    char cmd[4096], creds[512], other[512], admin[512], issuer[512];
    path_of(creds, sizeof creds, "h1.creds");
    path_of(other, sizeof other, "h2.creds");
    path_of(admin, sizeof admin, "auth/creds/admin.creds");
    path_of(issuer, sizeof issuer, "auth/issuer");
    snprintf(cmd, sizeof cmd, "%s agent %s/auth h1.example.com %s >/dev/null && %s agent %s/auth "
             "h2.example.com %s >/dev/null", DPF_NATSAUTH_BIN, g_dir, creds, DPF_NATSAUTH_BIN, g_dir, other);
    assert_int_equal(system(cmd), 0);

    probe p, q;
    expect_connect(&p, creds);
    assert_false(try_sub(&p, "agent.H2.EXAMPLE.COM.step"));
    assert_false(try_sub(&p, "agent.*.>"));
    assert_false(try_pub(&p, "dp.ins.x"));
    assert_false(try_pub(&p, "dp.dpn.x"));
    assert_false(try_sub(&p, "sitecontrol.changed.>"));
    assert_false(try_sub(&p, "_INBOX.>"));

    /* it serves its own subject: a request from the admin gets its answer */
    int refusals = p.violations;
    natsSubscription *sub = NULL;
    assert_int_equal(natsConnection_SubscribeSync(&sub, p.nc, "agent.H1.EXAMPLE.COM.step"), NATS_OK);
    assert_int_equal(natsConnection_Flush(p.nc), NATS_OK);
    expect_connect(&q, admin);
    natsInbox *inbox = NULL;
    natsSubscription *rsub = NULL;
    assert_int_equal(natsInbox_Create(&inbox), NATS_OK);
    assert_int_equal(natsConnection_SubscribeSync(&rsub, q.nc, (const char *)inbox), NATS_OK);
    assert_int_equal(natsConnection_PublishRequestString(q.nc, "agent.H1.EXAMPLE.COM.step",
                                                         (const char *)inbox, "step"), NATS_OK);
    natsMsg *req = NULL, *rep = NULL;
    assert_int_equal(natsSubscription_NextMsg(&req, sub, 3000), NATS_OK);
    assert_int_equal(natsConnection_PublishString(p.nc, natsMsg_GetReply(req), "done"), NATS_OK);
    assert_int_equal(natsSubscription_NextMsg(&rep, rsub, 3000), NATS_OK);
    assert_string_equal(natsMsg_GetData(rep), "done");
    assert_int_equal(p.violations, refusals);
    natsMsg_Destroy(req);
    natsMsg_Destroy(rep);
    natsSubscription_Destroy(sub);
    natsSubscription_Destroy(rsub);
    natsInbox_Destroy(inbox);
    probe_close(&q);

    /* revoked: the server drops it and refuses it from then on; h2 is unharmed */
    char pub[64] = "", err[512] = "";
    char *jwt = NULL;
    dpf_nkey *user = NULL;
    json_t *claims = NULL;
    assert_int_equal(dpf_jwt_creds_read(creds, &jwt, &user), DPF_OK);
    assert_int_equal(dpf_jwt_decode(jwt, &claims), DPF_OK);
    snprintf(pub, sizeof pub, "%s", dpf_nkey_public(user));
    /* minted by the account's signing key, on behalf of the dpfleet account */
    assert_string_equal(json_string_value(json_object_get(claims, "sub")), pub);
    assert_non_null(json_string_value(json_object_get(json_object_get(claims, "nats"), "issuer_account")));
    json_decref(claims);
    free(jwt);
    dpf_nkey_destroy(user);
    dpf_natsissuer *iss = NULL;
    assert_int_equal(dpf_natsissuer_load(issuer, &iss, err, sizeof err), DPF_OK);
    dpf_status rst = dpf_natsissuer_revoke(iss, g_url, pub, err, sizeof err);
    if (rst != DPF_OK)
        fail_msg("revocation failed: %s", err);
    dpf_natsissuer_destroy(iss);
    probe_close(&p);
    natsStatus s = NATS_OK;
    for (int i = 0; i < 40 && (s = probe_connect(&p, creds)) == NATS_OK; i++) {
        probe_close(&p); /* the update reaches the account asynchronously */
        usleep(50 * 1000);
    }
    assert_int_not_equal(s, NATS_OK);
    expect_connect(&q, other);
    assert_true(try_sub(&q, "agent.H2.EXAMPLE.COM.step"));
    probe_close(&q);

    /* a restart keeps the revocation: the resolver's store holds the newer
     * account JWT, which wins over the older one preloaded from nats.conf */
    assert_true(dpf_test_stop(g_server, 5000) >= 0); /* nats-server exits 1 on SIGTERM */
    g_server = 0;
    assert_int_equal(start_server(), 0);
    assert_int_not_equal(probe_connect(&p, creds), NATS_OK);
    probe_close(&p);
    assert_int_equal(probe_connect(&q, other), NATS_OK);
    probe_close(&q);
}

/* a credential of another operator (another dpf-natsauth init) is refused */
static void test_foreign_operator(void **state)
{
    (void)state;
    char cmd[1024], creds[512];
    snprintf(cmd, sizeof cmd, "%s init %s/other >/dev/null", DPF_NATSAUTH_BIN, g_dir);
    assert_int_equal(system(cmd), 0);
    path_of(creds, sizeof creds, "other/creds/admin.creds");
    probe p;
    assert_int_not_equal(probe_connect(&p, creds), NATS_OK);
    probe_close(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_admin_jetstream),
        cmocka_unit_test(test_statmsg_reader),
        cmocka_unit_test(test_agent_credential_and_revocation),
        cmocka_unit_test(test_foreign_operator),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

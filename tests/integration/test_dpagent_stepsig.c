/* Signed agent steps (issue 9, item 5) against the real dpagent binary over
 * the real nats-server: a removal step signed with another key, one signed
 * too long ago, one signed in the future, an unsigned one and a replay of
 * a request that already ran are each refused with ok=0 and the reason,
 * nothing changes in the host's root, and the agent's log names the host,
 * the step, the reason and the request's correlation id. The same steps
 * signed with distmgr's key run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dpf/agent.h>
#include <dpf/stepsig.h>
#include <dpf/util.h>
#include "dpf_test.h"
#include "fsutil.h"
#include "test_dpagent_util.h"

#define HOST "PS1DP5.CONTOSO.COM"

static struct {
    char tmp[256];
    char root[512];
    char other_priv[512], other_pub[512];
    const char *nats_url;
    dpf_bus *bus;
    pid_t agent;
} g;

static int share_exists(void)
{
    char p[1024];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s/SMS_DP$", g.root, HOST);
    return stat(p, &st) == 0;
}

/* Sends the bytes with correlation id corr; the decoded reply. */
static Dpf__AgentReply *send_bytes(const uint8_t *buf, size_t len, const char *corr)
{
    char subject[300];
    void *reply = NULL;
    size_t reply_len = 0;
    snprintf(subject, sizeof subject, DPF_AGENT_SUBJECT_FMT, HOST);
    assert_int_equal(dpf_bus_request(g.bus, subject, buf, len, corr, 10000, &reply, &reply_len),
                     DPF_OK);
    Dpf__AgentReply *r = dpf__agent_reply__unpack(NULL, reply_len, reply);
    free(reply);
    assert_non_null(r);
    return r;
}

/* step signed with priv (NULL: the trusted key's) as of at_ms (0: now). */
static Dpf__AgentReply *send_step(const char *step, const char *priv, int64_t at_ms,
                                  const char *corr)
{
    tda_req r;
    size_t len = 0;
    tda_req_init(&r, step, HOST);
    uint8_t *buf = tda_pack_signed(&r, priv, at_ms, &len);
    Dpf__AgentReply *rep = send_bytes(buf, len, corr);
    free(buf);
    return rep;
}

static void expect_ok(Dpf__AgentReply *rep)
{
    if (!rep->ok)
        fail_msg("step refused or failed: %s", rep->error);
    dpf__agent_reply__free_unpacked(rep, NULL);
}

/* The reply refuses the step with a reason containing why, and the agent's
 * log has the refusal line naming host, step, correlation id and reason. */
static void expect_refused(Dpf__AgentReply *rep, const char *step, const char *corr,
                           const char *why)
{
    assert_false(rep->ok);
    assert_false(rep->changed);
    char want[256];
    snprintf(want, sizeof want, "step %s refused by the agent of %s: ", step, HOST);
    if (strstr(rep->error, want) == NULL || strstr(rep->error, why) == NULL)
        fail_msg("reply error '%s' lacks '%s' or '%s'", rep->error, want, why);
    dpf__agent_reply__free_unpacked(rep, NULL);

    char logpath[600], *log = NULL, line[256];
    size_t len = 0;
    snprintf(logpath, sizeof logpath, "%s.log", g.root);
    assert_int_equal(dpf_read_file(logpath, &log, &len), DPF_OK);
    snprintf(line, sizeof line, "%s: step %s REFUSED (correlation id %s): ", HOST, step, corr);
    const char *at = strstr(log, line);
    const char *eol = at != NULL ? strchr(at, '\n') : NULL;
    const char *reason = at != NULL ? strstr(at, why) : NULL;
    if (at == NULL || reason == NULL || (eol != NULL && reason > eol))
        fail_msg("agent log %s has no line with '%s' and '%s'", logpath, line, why);
    free(log);
}

static int group_setup(void **state)
{
    (void)state;
    char err[256];
    g.nats_url = dpf_test_env("NATS_URL");
    if (g.nats_url == NULL)
        return -1;
    snprintf(g.tmp, sizeof g.tmp, "/tmp/test_dpagent_stepsig.XXXXXX");
    if (mkdtemp(g.tmp) == NULL)
        return -1;
    snprintf(g.root, sizeof g.root, "%s/agents", g.tmp);
    snprintf(g.other_priv, sizeof g.other_priv, "%s/other.key", g.tmp);
    snprintf(g.other_pub, sizeof g.other_pub, "%s/other.pub", g.tmp);
    if (dpf_stepsig_keygen(g.other_priv, g.other_pub, err, sizeof err) != DPF_OK) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    if (dpf_bus_connect(g.nats_url, "test_dpagent_stepsig", &g.bus) != DPF_OK)
        return -1;
    g.agent = tda_agent_start(g.nats_url, g.root, HOST, NULL);
    if (tda_wait_ready(g.bus, HOST, 15000) != 0) {
        fprintf(stderr, "dpagent did not answer; see %s.log\n", g.root);
        (void)tda_agent_stop(g.agent);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    int rc = g.agent > 0 ? tda_agent_stop(g.agent) : 0;
    dpf_bus_destroy(g.bus);
    if (rc != 0)
        return -1;
    if (getenv("DPF_TEST_KEEP") == NULL && dpa_fs_rmtree(g.tmp, NULL) != DPF_OK)
        return -1;
    return 0;
}

static void forged_old_future_and_unsigned_removals_change_nothing(void **state)
{
    (void)state;
    expect_ok(send_step(DPF_STEP_CREATE_SHARES, NULL, 0, "corr-sig-create-1"));
    assert_true(share_exists());

    expect_refused(send_step(DPF_STEP_REMOVE_SHARES, g.other_priv, 0, "corr-sig-forged"),
                   DPF_STEP_REMOVE_SHARES, "corr-sig-forged",
                   "the signature does not match the trusted step key");
    assert_true(share_exists());

    int64_t now = dpf_stepsig_now_ms();
    expect_refused(send_step(DPF_STEP_REMOVE_SHARES, NULL, now - 125000, "corr-sig-expired"),
                   DPF_STEP_REMOVE_SHARES, "corr-sig-expired",
                   "older than the 60 s window");
    assert_true(share_exists());

    expect_refused(send_step(DPF_STEP_REMOVE_SETTINGS, NULL, now + 600000, "corr-sig-future"),
                   DPF_STEP_REMOVE_SETTINGS, "corr-sig-future", "in the future");
    assert_true(share_exists());

    /* unsigned, the way every request looked before issue 9 */
    tda_req r;
    tda_req_init(&r, DPF_STEP_REMOVE_SHARES, HOST);
    size_t n = dpf__agent_request__get_packed_size(&r.req);
    uint8_t *plain = malloc(n + 1);
    assert_non_null(plain);
    dpf__agent_request__pack(&r.req, plain);
    expect_refused(send_bytes(plain, n, "corr-sig-unsigned"), DPF_STEP_REMOVE_SHARES,
                   "corr-sig-unsigned", "the request is not signed");
    free(plain);
    assert_true(share_exists());
}

static void replayed_removal_is_refused(void **state)
{
    (void)state;
    expect_ok(send_step(DPF_STEP_CREATE_SHARES, NULL, 0, "corr-sig-create-2"));
    assert_true(share_exists());
    /* a removal signed by distmgr runs once... */
    tda_req r;
    size_t len = 0;
    tda_req_init(&r, DPF_STEP_REMOVE_SHARES, HOST);
    uint8_t *captured = tda_pack_signed(&r, NULL, 0, &len);
    Dpf__AgentReply *rep = send_bytes(captured, len, "corr-sig-remove");
    assert_true(rep->ok);
    assert_true(rep->changed);
    dpf__agent_reply__free_unpacked(rep, NULL);
    assert_false(share_exists());
    /* ...the host is set up again, and the captured bytes sent once more */
    expect_ok(send_step(DPF_STEP_CREATE_SHARES, NULL, 0, "corr-sig-create-3"));
    assert_true(share_exists());
    expect_refused(send_bytes(captured, len, "corr-sig-replay"), DPF_STEP_REMOVE_SHARES,
                   "corr-sig-replay", "replayed: this request's nonce was already used");
    assert_true(share_exists());
    free(captured);
    /* the agent still serves distmgr's signed requests */
    rep = send_step(DPF_STEP_STATUS, NULL, 0, "corr-sig-status");
    assert_true(rep->ok);
    dpf__agent_reply__free_unpacked(rep, NULL);
}

static void agent_refuses_to_start_without_trusted_key(void **state)
{
    (void)state;
    char root[600], logpath[700], *log = NULL;
    size_t len = 0;
    snprintf(root, sizeof root, "%s/nokey", g.tmp);
    const char *extra[] = {"--step-trusted-key", "", NULL};
    pid_t pid = tda_agent_start(g.nats_url, root, "PS1DP6.CONTOSO.COM", extra);
    int status = -1;
    for (int waited = 0; waited < 10000 && waitpid(pid, &status, WNOHANG) != pid; waited += 50)
        usleep(50 * 1000);
    if (!WIFEXITED(status)) {
        (void)tda_agent_stop(pid);
        fail_msg("dpagent without a trusted step key did not exit by itself");
    }
    assert_int_equal(WEXITSTATUS(status), 2);
    snprintf(logpath, sizeof logpath, "%s.log", root);
    assert_int_equal(dpf_read_file(logpath, &log, &len), DPF_OK);
    assert_non_null(strstr(log, "--step-trusted-key (DPFLEET_STEP_TRUSTED_KEY) is required"));
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(forged_old_future_and_unsigned_removals_change_nothing),
        cmocka_unit_test(replayed_removal_is_refused),
        cmocka_unit_test(agent_refuses_to_start_without_trusted_key),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

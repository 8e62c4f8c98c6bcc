/* Signed agent steps (dpf/stepsig.h): a request distmgr signs is accepted
 * once; another key, a changed byte, an old or future time, a replayed
 * nonce, no signature, a signature not last, and a private key readable by
 * others are each refused with a reason naming the problem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dpf/stepsig.h>

static char g_dir[64];
static char g_priv[128], g_pub[128], g_priv2[128], g_pub2[128];

static int setup(void **state)
{
    (void)state;
    char err[256];
    snprintf(g_dir, sizeof g_dir, "/tmp/test_stepsig.XXXXXX");
    if (mkdtemp(g_dir) == NULL)
        return -1;
    snprintf(g_priv, sizeof g_priv, "%s/a.key", g_dir);
    snprintf(g_pub, sizeof g_pub, "%s/a.pub", g_dir);
    snprintf(g_priv2, sizeof g_priv2, "%s/b.key", g_dir);
    snprintf(g_pub2, sizeof g_pub2, "%s/b.pub", g_dir);
    if (dpf_stepsig_keygen(g_priv, g_pub, err, sizeof err) != DPF_OK ||
        dpf_stepsig_keygen(g_priv2, g_pub2, err, sizeof err) != DPF_OK)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(g_priv);
    unlink(g_pub);
    unlink(g_priv2);
    unlink(g_pub2);
    rmdir(g_dir);
    return 0;
}

static dpf_stepsig_signer *signer(const char *path)
{
    dpf_stepsig_signer *s = NULL;
    char err[256];
    assert_int_equal(dpf_stepsig_signer_load(path, &s, err, sizeof err), DPF_OK);
    return s;
}

static dpf_stepsig_verifier *verifier(const char *path)
{
    dpf_stepsig_verifier *v = NULL;
    char err[256];
    assert_int_equal(dpf_stepsig_verifier_load(path, 60, &v, err, sizeof err), DPF_OK);
    return v;
}

/* A remove_shares request for PS1DP1, signed by s at at_ms; malloc'd. */
static uint8_t *signed_req(dpf_stepsig_signer *s, int64_t at_ms, size_t *len)
{
    Dpf__AgentRequest req = DPF__AGENT_REQUEST__INIT;
    uint8_t nonce[DPF_STEPSIG_NONCE_LEN];
    req.step = "remove_shares";
    req.fqdn = "PS1DP1.CONTOSO.COM";
    req.dpid = 7;
    assert_int_equal(dpf_stepsig_stamp(&req, at_ms, nonce), DPF_OK);
    size_t n = dpf__agent_request__get_packed_size(&req);
    uint8_t *buf = malloc(n + DPF_STEPSIG_TAIL_MAX);
    assert_non_null(buf);
    dpf__agent_request__pack(&req, buf);
    assert_int_equal(dpf_stepsig_seal(s, buf, n, len), DPF_OK);
    return buf;
}

/* dpf_stepsig_check on the bytes as the agent would: decode, then check. */
static dpf_status check(dpf_stepsig_verifier *v, dpf_stepsig_replay *r, const uint8_t *buf,
                        size_t len, int64_t now_ms, char *why, size_t whylen)
{
    Dpf__AgentRequest *req = dpf__agent_request__unpack(NULL, len, buf);
    assert_non_null(req);
    why[0] = '\0';
    dpf_status rc = dpf_stepsig_check(v, r, buf, len, req, now_ms, why, whylen);
    dpf__agent_request__free_unpacked(req, NULL);
    return rc;
}

static void test_valid_once_then_replayed(void **state)
{
    (void)state;
    dpf_stepsig_signer *s = signer(g_priv);
    dpf_stepsig_verifier *v = verifier(g_pub);
    dpf_stepsig_replay *r = NULL;
    assert_int_equal(dpf_stepsig_replay_create(&r), DPF_OK);
    int64_t now = dpf_stepsig_now_ms();
    size_t len = 0;
    uint8_t *buf = signed_req(s, now, &len);
    char why[256];
    assert_int_equal(check(v, r, buf, len, now + 10, why, sizeof why), DPF_OK);
    assert_int_equal(check(v, r, buf, len, now + 20, why, sizeof why), DPF_ERR_VERIFY);
    assert_non_null(strstr(why, "replayed"));
    /* another host's memory is its own: the same bytes once more there */
    dpf_stepsig_replay *r2 = NULL;
    assert_int_equal(dpf_stepsig_replay_create(&r2), DPF_OK);
    assert_int_equal(check(v, r2, buf, len, now + 20, why, sizeof why), DPF_OK);
    /* a second request by the same signer has its own nonce */
    size_t len2 = 0;
    uint8_t *buf2 = signed_req(s, now, &len2);
    assert_int_equal(check(v, r, buf2, len2, now + 30, why, sizeof why), DPF_OK);
    free(buf);
    free(buf2);
    dpf_stepsig_replay_free(r);
    dpf_stepsig_replay_free(r2);
    dpf_stepsig_verifier_free(v);
    dpf_stepsig_signer_free(s);
}

static void test_wrong_key_and_tampered(void **state)
{
    (void)state;
    dpf_stepsig_signer *other = signer(g_priv2);
    dpf_stepsig_signer *s = signer(g_priv);
    dpf_stepsig_verifier *v = verifier(g_pub);
    dpf_stepsig_replay *r = NULL;
    assert_int_equal(dpf_stepsig_replay_create(&r), DPF_OK);
    int64_t now = dpf_stepsig_now_ms();
    char why[256];
    size_t len = 0;
    uint8_t *forged = signed_req(other, now, &len);
    assert_int_equal(check(v, r, forged, len, now, why, sizeof why), DPF_ERR_VERIFY);
    assert_non_null(strstr(why, "does not match the trusted step key"));
    free(forged);

    uint8_t *buf = signed_req(s, now, &len);
    /* "PS1DP1" -> "PS1DP2": the host name inside the signed bytes */
    uint8_t *p = memmem(buf, len, "PS1DP1", 6);
    assert_non_null(p);
    p[5] = '2';
    assert_int_equal(check(v, r, buf, len, now, why, sizeof why), DPF_ERR_VERIFY);
    assert_non_null(strstr(why, "does not match the trusted step key"));
    p[5] = '1';
    /* a last byte of the signature flipped */
    buf[len - 1] ^= 1;
    assert_int_equal(check(v, r, buf, len, now, why, sizeof why), DPF_ERR_VERIFY);
    assert_non_null(strstr(why, "does not match"));
    buf[len - 1] ^= 1;
    /* intact, it still passes (the refusals above remembered nothing) */
    assert_int_equal(check(v, r, buf, len, now, why, sizeof why), DPF_OK);
    free(buf);
    dpf_stepsig_replay_free(r);
    dpf_stepsig_verifier_free(v);
    dpf_stepsig_signer_free(s);
    dpf_stepsig_signer_free(other);
}

static void test_old_and_future(void **state)
{
    (void)state;
    dpf_stepsig_signer *s = signer(g_priv);
    dpf_stepsig_verifier *v = verifier(g_pub);
    dpf_stepsig_replay *r = NULL;
    assert_int_equal(dpf_stepsig_replay_create(&r), DPF_OK);
    int64_t now = dpf_stepsig_now_ms();
    char why[256];
    size_t len = 0;
    uint8_t *old = signed_req(s, now - 75000, &len);
    assert_int_equal(check(v, r, old, len, now, why, sizeof why), DPF_ERR_VERIFY);
    assert_string_equal(why, "signed 75 s ago, older than the 60 s window");
    free(old);
    uint8_t *future = signed_req(s, now + 90000, &len);
    assert_int_equal(check(v, r, future, len, now, why, sizeof why), DPF_ERR_VERIFY);
    assert_non_null(strstr(why, "signed 90 s in the future"));
    free(future);
    uint8_t *edge = signed_req(s, now - 59000, &len);
    assert_int_equal(check(v, r, edge, len, now, why, sizeof why), DPF_OK);
    free(edge);
    dpf_stepsig_replay_free(r);
    dpf_stepsig_verifier_free(v);
    dpf_stepsig_signer_free(s);
}

static void test_unsigned_and_not_last(void **state)
{
    (void)state;
    dpf_stepsig_signer *s = signer(g_priv);
    dpf_stepsig_verifier *v = verifier(g_pub);
    dpf_stepsig_replay *r = NULL;
    assert_int_equal(dpf_stepsig_replay_create(&r), DPF_OK);
    char why[256];
    Dpf__AgentRequest req = DPF__AGENT_REQUEST__INIT;
    req.step = "remove_shares";
    req.fqdn = "PS1DP1.CONTOSO.COM";
    uint8_t plain[128];
    size_t n = dpf__agent_request__pack(&req, plain);
    assert_int_equal(check(v, r, plain, n, dpf_stepsig_now_ms(), why, sizeof why),
                     DPF_ERR_VERIFY);
    assert_string_equal(why, "the request is not signed");

    /* a valid signature with more fields after it (an attacker's params) */
    int64_t now = dpf_stepsig_now_ms();
    size_t len = 0;
    uint8_t *buf = signed_req(s, now, &len);
    Dpf__KeyValue kv = DPF__KEY_VALUE__INIT, *kvp = &kv;
    Dpf__AgentRequest extra = DPF__AGENT_REQUEST__INIT;
    kv.key = "pxe";
    kv.value = "1";
    extra.params = &kvp;
    extra.n_params = 1;
    size_t en = dpf__agent_request__get_packed_size(&extra);
    buf = realloc(buf, len + en);
    assert_non_null(buf);
    dpf__agent_request__pack(&extra, buf + len);
    assert_int_equal(check(v, r, buf, len + en, now, why, sizeof why), DPF_ERR_VERIFY);
    assert_non_null(strstr(why, "not its last field"));
    free(buf);
    dpf_stepsig_replay_free(r);
    dpf_stepsig_verifier_free(v);
    dpf_stepsig_signer_free(s);
}

static void test_pack_and_bounded_memory(void **state)
{
    (void)state;
    dpf_stepsig_signer *s = signer(g_priv);
    dpf_stepsig_verifier *v = verifier(g_pub);
    dpf_stepsig_replay *r = NULL;
    assert_int_equal(dpf_stepsig_replay_create(&r), DPF_OK);
    char why[256];
    int64_t now = dpf_stepsig_now_ms();
    /* 9000 accepted requests in one window: more than the memory holds */
    uint8_t *first = NULL;
    size_t first_len = 0;
    for (int i = 0; i < 9000; i++) {
        Dpf__AgentRequest req = DPF__AGENT_REQUEST__INIT;
        req.step = "status";
        req.fqdn = "PS1DP1.CONTOSO.COM";
        uint8_t *buf = NULL;
        size_t len = 0;
        assert_int_equal(dpf_stepsig_pack(s, &req, &buf, &len), DPF_OK);
        assert_int_equal(check(v, r, buf, len, now + 1000, why, sizeof why), DPF_OK);
        if (i == 0) {
            first = buf;
            first_len = len;
        } else {
            free(buf);
        }
    }
    /* the first was forgotten, and is still refused */
    assert_int_equal(check(v, r, first, first_len, now + 1000, why, sizeof why),
                     DPF_ERR_VERIFY);
    assert_non_null(strstr(why, "replayed"));
    free(first);
    dpf_stepsig_replay_free(r);
    dpf_stepsig_verifier_free(v);
    dpf_stepsig_signer_free(s);
}

static void test_key_files(void **state)
{
    (void)state;
    char err[256];
    dpf_stepsig_signer *s = NULL;
    assert_int_equal(chmod(g_priv, 0644), 0);
    assert_int_equal(dpf_stepsig_signer_load(g_priv, &s, err, sizeof err), DPF_ERR_INVALID);
    assert_null(s);
    assert_non_null(strstr(err, "mode 644"));
    assert_null(strstr(err, "PRIVATE KEY"));
    assert_int_equal(chmod(g_priv, 0600), 0);
    /* a public key is no signing key, a private key no trusted key */
    assert_int_equal(chmod(g_pub, 0600), 0);
    assert_int_equal(dpf_stepsig_signer_load(g_pub, &s, err, sizeof err), DPF_ERR_INVALID);
    assert_int_equal(chmod(g_pub, 0644), 0);
    dpf_stepsig_verifier *v = NULL;
    assert_int_equal(dpf_stepsig_verifier_load(g_priv, 60, &v, err, sizeof err),
                     DPF_ERR_INVALID);
    assert_null(v);
    assert_int_equal(dpf_stepsig_verifier_load("/nonexistent/step.pub", 60, &v, err,
                                               sizeof err), DPF_ERR_INVALID);
    assert_non_null(strstr(err, "/nonexistent/step.pub"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_once_then_replayed),
        cmocka_unit_test(test_wrong_key_and_tampered),
        cmocka_unit_test(test_old_and_future),
        cmocka_unit_test(test_unsigned_and_not_last),
        cmocka_unit_test(test_pack_and_bounded_memory),
        cmocka_unit_test(test_key_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

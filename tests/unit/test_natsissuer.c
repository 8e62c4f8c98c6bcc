/* natsissuer.c's growth control: agent credentials expire after the
 * issuer's agent-days (and never without it), and a revocation is pruned
 * only once every credential it revokes has expired: older than the
 * lifetime plus the clock margin, never the "*" entry, nothing at all when
 * credentials do not expire. The issuer directory is made here, with keys
 * of its own; a bad agent-days file refuses the directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <dpf/jwt.h>
#include <dpf/natsissuer.h>
#include <dpf/nkeys.h>

static char g_dir[64];
static char g_users[4][DPF_NKEY_PUBLIC_LEN + 1];

static void put(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    chmod(path, 0600);
}

static void put_seed(const char *name, dpf_nkey_type type, char *pub)
{
    dpf_nkey *k = NULL;
    char seed[DPF_NKEY_SEED_LEN + 1];
    assert_int_equal(dpf_nkey_create(type, &k), DPF_OK);
    dpf_nkey_seed(k, seed);
    put(name, seed);
    if (pub != NULL)
        strcpy(pub, dpf_nkey_public(k));
    memset(seed, 0, sizeof seed);
    dpf_nkey_destroy(k);
}

/* the exp claim of a freshly issued agent credential, -1 without one */
static long long issued_exp(const dpf_natsissuer *iss)
{
    char *creds = NULL, *jwt = NULL, pub[DPF_NKEY_PUBLIC_LEN + 1], path[128];
    dpf_nkey *user = NULL;
    json_t *claims = NULL;
    assert_int_equal(dpf_natsissuer_agent(iss, "PS1DP1.CONTOSO.COM", &creds, pub), DPF_OK);
    snprintf(path, sizeof path, "%s/agent.creds", g_dir);
    assert_int_equal(dpf_jwt_write_file(path, creds, 0600), DPF_OK);
    assert_int_equal(dpf_jwt_creds_read(path, &jwt, &user), DPF_OK);
    assert_int_equal(dpf_jwt_decode(jwt, &claims), DPF_OK);
    assert_string_equal(json_string_value(json_object_get(claims, "sub")), pub);
    json_t *exp = json_object_get(claims, "exp");
    long long v = exp != NULL ? json_integer_value(exp) : -1;
    json_decref(claims);
    free(jwt);
    free(creds);
    dpf_nkey_destroy(user);
    unlink(path);
    return v;
}

static dpf_natsissuer *load(dpf_status want, const char *err_has)
{
    dpf_natsissuer *iss = NULL;
    char err[512] = "";
    assert_int_equal(dpf_natsissuer_load(g_dir, &iss, err, sizeof err), want);
    if (err_has != NULL && strstr(err, err_has) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", err, err_has);
    return iss;
}

static void expiry_follows_agent_days(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/agent-days", g_dir);
    unlink(path);
    dpf_natsissuer *iss = load(DPF_OK, NULL);
    assert_int_equal(dpf_natsissuer_agent_lifetime(iss), 0);
    assert_int_equal(issued_exp(iss), -1); /* without agent-days: no exp, as before */
    dpf_natsissuer_destroy(iss);

    put("agent-days", "30\n");
    iss = load(DPF_OK, NULL);
    assert_int_equal(dpf_natsissuer_agent_lifetime(iss), 30LL * 86400);
    long long now = (long long)time(NULL), exp = issued_exp(iss);
    assert_true(exp >= now + 30LL * 86400 - 5 && exp <= now + 30LL * 86400 + 5);
    dpf_natsissuer_destroy(iss);

    static const char *const bad[] = {"0\n", "-3\n", "3651\n", "30 days\n", "\n", "30\n\n", "x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        put("agent-days", bad[i]);
        assert_null(load(DPF_ERR_INVALID, "agent-days: not a number of days from 1 to 3650"));
    }
    unlink(path);
}

static json_t *account_with(long long now, long long lifetime)
{
    long long margin = DPF_NATSISSUER_PRUNE_MARGIN_S;
    json_t *rev = json_object();
    json_object_set_new(rev, g_users[0], json_integer(now - lifetime - margin - 60)); /* expired */
    json_object_set_new(rev, g_users[1], json_integer(now - lifetime - margin + 60)); /* not yet */
    json_object_set_new(rev, g_users[2], json_integer(now - 10));                     /* recent */
    json_object_set_new(rev, g_users[3], json_string("not a time"));                  /* kept */
    json_object_set_new(rev, "*", json_integer(now - 10 * lifetime));                 /* kept */
    return json_pack("{s:s, s:{s:o}}", "sub", "A", "nats", "revocations", rev);
}

static void prune_only_what_expired(void **state)
{
    (void)state;
    long long now = 1800000000, L = 30LL * 86400;
    json_t *claims = account_with(now, L);
    assert_int_equal(dpf_natsissuer_prune(claims, now, L), 1);
    json_t *rev = json_object_get(json_object_get(claims, "nats"), "revocations");
    assert_null(json_object_get(rev, g_users[0]));
    assert_non_null(json_object_get(rev, g_users[1]));
    assert_non_null(json_object_get(rev, g_users[2]));
    assert_non_null(json_object_get(rev, g_users[3]));
    assert_non_null(json_object_get(rev, "*"));
    /* what is left still revokes what it revoked */
    assert_true(dpf_jwt_account_revoked(claims, g_users[1], now - L - 7200));
    assert_int_equal(dpf_natsissuer_prune(claims, now, L), 0); /* idempotent */
    json_decref(claims);

    claims = account_with(now, L);
    assert_int_equal(dpf_natsissuer_prune(claims, now, 0), 0); /* credentials never expire */
    assert_int_equal(json_object_size(json_object_get(json_object_get(claims, "nats"),
                                                      "revocations")), 5);
    json_decref(claims);
    claims = json_pack("{s:{}}", "nats");
    assert_int_equal(dpf_natsissuer_prune(claims, now, L), 0); /* no list yet */
    json_decref(claims);

    /* ten thousand removals over two years: only the last month's stay */
    claims = json_pack("{s:{s:{}}}", "nats", "revocations");
    rev = json_object_get(json_object_get(claims, "nats"), "revocations");
    for (int i = 0; i < 10000; i++) {
        char key[40];
        snprintf(key, sizeof key, "U%031d", i);
        json_object_set_new(rev, key, json_integer(now - (long long)i * 6307)); /* ~2 years */
    }
    size_t pruned = dpf_natsissuer_prune(claims, now, L);
    assert_true(pruned > 9500);
    assert_int_equal(json_object_size(rev), 10000 - pruned);
    json_decref(claims);
}

static int setup(void **state)
{
    (void)state;
    char pub[DPF_NKEY_PUBLIC_LEN + 2];
    snprintf(g_dir, sizeof g_dir, "/tmp/test_natsissuer.XXXXXX");
    if (mkdtemp(g_dir) == NULL)
        return -1;
    put_seed("account-signing.nk", DPF_NKEY_ACCOUNT, NULL);
    put_seed("operator-signing.nk", DPF_NKEY_OPERATOR, NULL);
    dpf_nkey *acc = NULL;
    if (dpf_nkey_create(DPF_NKEY_ACCOUNT, &acc) != DPF_OK)
        return -1;
    snprintf(pub, sizeof pub, "%s\n", dpf_nkey_public(acc));
    dpf_nkey_destroy(acc);
    put("account.pub", pub);
    for (int i = 0; i < 4; i++) {
        dpf_nkey *u = NULL;
        if (dpf_nkey_create(DPF_NKEY_USER, &u) != DPF_OK)
            return -1;
        strcpy(g_users[i], dpf_nkey_public(u));
        dpf_nkey_destroy(u);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(expiry_follows_agent_days),
        cmocka_unit_test(prune_only_what_expired),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

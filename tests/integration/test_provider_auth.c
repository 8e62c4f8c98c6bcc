/* API authentication and roles (issue 9) against the real provider and
 * PostgreSQL: what a caller without a valid token gets (401, one message
 * whatever the reason), what each role may call (403 naming the role
 * needed), that the secret is shown once and stored nowhere, that the audit
 * row names the token's user whatever X-Dpf-User says, and the file
 * "provider issue-token" writes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dpf_test.h"
#include "test_provider_harness.h"
#include "provider.h"
#include "router.h"
#include "token.h"

#ifndef DPCTL_BIN
#error "DPCTL_BIN must be defined"
#endif

static void as(const char *token, const char *method, const char *path, const char *json,
               resp *r)
{
    char auth[128];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    const char *const h[] = {"Content-Type: application/json", auth, NULL};
    http(method, path, json, json ? strlen(json) : 0, h, r);
}

/* POST /v1/tokens as the Full Administrator: the new token's secret and id. */
static void make_token(const char *user, const char *role, int hours, char *secret,
                       long long *id)
{
    json_t *o = json_pack("{s:s, s:s}", "user", user, "role", role);
    if (hours > 0)
        json_object_set_new(o, "expiresInHours", json_integer(hours));
    char *body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    resp r;
    as(g_token[PH_FULL], "POST", "/v1/tokens", body, &r);
    free(body);
    if (r.status != 201)
        print_error("%s\n", r.body);
    assert_int_equal(r.status, 201);
    assert_string_equal(jstr(r.json, "user"), user);
    assert_string_equal(jstr(r.json, "role"), role);
    const char *t = jstr(r.json, "token");
    assert_non_null(t);
    assert_int_equal(strlen(t), 47);
    assert_memory_equal(t, "dpf_", 4);
    json_t *exp = json_object_get(r.json, "expiresAt");
    assert_true(hours > 0 ? json_is_string(exp) : json_is_null(exp));
    strcpy(secret, t);
    *id = json_integer_value(json_object_get(r.json, "id"));
    assert_true(*id > 0);
    resp_free(&r);
}

static int setup(void **state)
{
    (void)state;
    return ph_setup("provider_auth");
}

static int teardown(void **state)
{
    (void)state;
    return ph_teardown();
}

static char g_msg401[512];

static void assert_401(resp *r)
{
    assert_json_error(r, 401, NULL);
    assert_string_equal(r->www_auth, "Bearer realm=\"dpfleet\"");
    if (g_msg401[0] == '\0')
        snprintf(g_msg401, sizeof g_msg401, "%s", jstr(r->json, "error"));
    assert_string_equal(jstr(r->json, "error"), g_msg401); /* the same, whatever the reason */
}

static void test_bad_credentials_get_401(void **state)
{
    (void)state;
    resp r;
    static const char *const bad[] = {
        "Authorization:", /* none sent */
        "Authorization: Basic Q09OVE9TT1xBZG1pbjpwYXNz",
        "Authorization: Bearer",
        "Authorization: Bearer dpf_short",
        "Authorization: Bearer dpf_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* unknown */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *const h[] = {bad[i], NULL};
        http("GET", "/v1/distributionpoints", NULL, 0, h, &r);
        assert_401(&r);
        resp_free(&r);
        http("POST", "/v1/distributionpoints", "{}", 2, h, &r); /* refused before the body */
        assert_401(&r);
        resp_free(&r);
    }
    assert_true(log_contains("Access denied: GET /v1/distributionpoints from 127.0.0.1: unknown token"));
    assert_true(log_contains("Access denied: POST /v1/distributionpoints from 127.0.0.1: no "
                             "Authorization header"));
    /* an unknown path tells a stranger nothing either */
    const char *const none[] = {"Authorization:", NULL};
    http("GET", "/v1/nothing", NULL, 0, none, &r);
    assert_401(&r);
    resp_free(&r);
    http("DELETE", "/v1/tokens/1", NULL, 0, none, &r);
    assert_401(&r);
    resp_free(&r);
    assert_true(log_contains("Access denied: POST /v1/distributionpoints from 127.0.0.1: malformed"));

    /* expired: its expiry moved into the past before its first use */
    char secret[64];
    long long id;
    make_token("CONTOSO\\Temp", "Read-only Analyst", 1, secret, &id);
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", id);
    const char *p[] = {ids};
    dpf_test_sql(g_db, "UPDATE api_tokens SET expires_at = now() - interval '1 minute' "
                       "WHERE id = $1::bigint", 1, p);
    as(secret, "GET", "/v1/distributionpoints", NULL, &r);
    assert_401(&r);
    resp_free(&r);
    char line[160];
    snprintf(line, sizeof line, "token %lld (user CONTOSO\\Temp) is expired", id);
    assert_true(log_contains(line));

    /* revoked: used once (so cached), revoked, refused at once */
    make_token("CONTOSO\\Gone", "Read-only Analyst", 0, secret, &id);
    as(secret, "GET", "/v1/statmsgs", NULL, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    char path[64];
    snprintf(path, sizeof path, "/v1/tokens/%lld", id);
    as(g_token[PH_FULL], "DELETE", path, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_true(json_is_true(json_object_get(r.json, "revoked")));
    resp_free(&r);
    as(secret, "GET", "/v1/statmsgs", NULL, &r);
    assert_401(&r);
    resp_free(&r);
    snprintf(line, sizeof line, "token %lld (user CONTOSO\\Gone) is revoked", id);
    assert_true(log_contains(line));
    /* revoking again answers 200 and changes nothing; unknown ids 404 */
    as(g_token[PH_FULL], "DELETE", path, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_true(json_is_false(json_object_get(r.json, "changed")));
    resp_free(&r);
    as(g_token[PH_FULL], "DELETE", "/v1/tokens/999999", NULL, &r);
    assert_json_error(&r, 404, "id");
    resp_free(&r);
    as(g_token[PH_FULL], "DELETE", "/v1/tokens/abc", NULL, &r);
    assert_json_error(&r, 404, "id");
    resp_free(&r);
    /* no secret in the log, ever */
    assert_false(log_contains(secret));
    assert_false(log_contains(g_token[PH_FULL]));
    /* the probes need nothing */
    http("GET", "/healthz", NULL, 0, none, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
}

/* Every endpoint, with the roles the issue gives it written out here
 * independently of routes.c; "allowed" means past the check (the endpoint
 * itself may then refuse the empty body or the unknown name: every name
 * below is one no other test creates, so an allowed call changes nothing).
 * test_every_route_has_a_case keeps this list complete. */
static const struct {
    const char *method, *path, *body;
    unsigned who; /* bit per PH_* role */
    const char *needs;
} CASES[] = {
    {"POST", "/v1/distributionpoints", "{}", 1 | 2, "Infrastructure Administrator"},
    {"POST", "/v1/boundarygroups", "{}", 1 | 2, "Infrastructure Administrator"},
    {"POST", "/v1/distributionpoints/PS1NONE.CONTOSO.COM/maintenance", "{}", 1 | 2,
     "Infrastructure Administrator"},
    {"POST", "/v1/sites/PS9/reset", NULL, 1 | 2, "Infrastructure Administrator"},
    {"POST", "/v1/packages", "{}", 1 | 4, "Application Administrator"},
    {"POST", "/v1/packages/PS100009/distribute", "{}", 1 | 4, "Application Administrator"},
    {"GET", "/v1/distributionpoints", NULL, 15, NULL},
    {"GET", "/v1/statmsgs", NULL, 15, NULL},
    {"GET", "/v1/packages", NULL, 15, NULL},
    {"GET", "/v1/boundarygroups", NULL, 15, NULL},
    {"GET", "/v1/tokens", NULL, 1, "Full Administrator"},
    {"POST", "/v1/tokens", "{}", 1, "Full Administrator"},
    {"DELETE", "/v1/tokens/999999", NULL, 1, "Full Administrator"},
    {"GET", "/v1/distributionpoints/PS1NONE.CONTOSO.COM", NULL, 15, NULL},
    {"PATCH", "/v1/distributionpoints/PS1NONE.CONTOSO.COM", "{}", 1 | 2,
     "Infrastructure Administrator"},
    {"DELETE", "/v1/distributionpoints/PS1NONE.CONTOSO.COM", NULL, 1 | 2,
     "Infrastructure Administrator"},
    {"POST", "/v1/distributionpoints/PS1NONE.CONTOSO.COM/validate", "{}", 1 | 2,
     "Infrastructure Administrator"},
    {"POST", "/v1/SetDPMaintenanceMode", "{}", 1 | 2, "Infrastructure Administrator"},
    {"GET", "/v1/packages/PS100009", NULL, 15, NULL},
    {"DELETE", "/v1/packages/PS100009", NULL, 1 | 4, "Application Administrator"},
    {"POST", "/v1/packages/PS100009/update", "{}", 1 | 4, "Application Administrator"},
    {"POST", "/v1/packages/PS100009/redistribute", "{}", 1 | 4, "Application Administrator"},
    {"DELETE", "/v1/packages/PS100009/distributionpoints/PS1NONE.CONTOSO.COM", NULL, 1 | 4,
     "Application Administrator"},
    {"GET", "/v1/boundarygroups/No%20Such%20Group", NULL, 15, NULL},
    {"PATCH", "/v1/boundarygroups/No%20Such%20Group", "{}", 1 | 2, "Infrastructure Administrator"},
    {"DELETE", "/v1/boundarygroups/No%20Such%20Group", NULL, 1 | 2,
     "Infrastructure Administrator"},
    {"GET", "/v1/contentlocation?packageId=PS100009&clientIp=10.0.0.1", NULL, 15, NULL},
    {"GET", "/v1/distributionpoints/PS1NONE.CONTOSO.COM/history", NULL, 15, NULL},
    {"GET", "/v1/trace/no-such-correlation-id", NULL, 15, NULL},
};
#define NCASES (sizeof CASES / sizeof CASES[0])

/* Every route of routes.c but the public probes is tried above. */
static void test_every_route_has_a_case(void **state)
{
    (void)state;
    size_t n = 0;
    const prov_route *routes = prov_routes(&n);
    int covered[64] = {0};
    assert_true(n <= 64);
    for (size_t c = 0; c < NCASES; c++) {
        char path[256], p1[PROV_PARAM_MAX + 1], p2[PROV_PARAM_MAX + 1], allow[64];
        snprintf(path, sizeof path, "%s", CASES[c].path);
        char *q = strchr(path, '?');
        if (q != NULL)
            *q = '\0';
        const prov_route *r = NULL;
        assert_int_equal(prov_route_match(routes, n, CASES[c].method, path, &r, p1, p2,
                                          sizeof p1, allow, sizeof allow),
                         PROV_ROUTE_FOUND);
        covered[r - routes] = 1;
    }
    for (size_t i = 0; i < n; i++) {
        if (routes[i].roles == PROV_PUBLIC)
            continue;
        if (!covered[i])
            print_error("no case for %s %s\n", routes[i].method, routes[i].pattern);
        assert_true(covered[i]);
    }
}

static void test_roles(void **state)
{
    (void)state;
    for (size_t c = 0; c < NCASES; c++) {
        for (int role = 0; role < PH_NROLES; role++) {
            resp r;
            as(g_token[role], CASES[c].method, CASES[c].path, CASES[c].body, &r);
            int allowed = (CASES[c].who >> role) & 1;
            if (allowed != (r.status != 403 && r.status != 401))
                print_error("%s %s as %s: %ld %s\n", CASES[c].method, CASES[c].path,
                            PH_ROLE[role], r.status, r.body);
            if (allowed) {
                assert_true(r.status != 403 && r.status != 401);
                assert_true(r.status < 500);
            } else {
                assert_json_error(&r, 403, NULL);
                const char *e = jstr(r.json, "error");
                assert_non_null(strstr(e, CASES[c].needs));
                assert_non_null(strstr(e, PH_ROLE[role]));
            }
            resp_free(&r);
        }
    }
    assert_true(log_contains("Access denied: POST /v1/packages from 127.0.0.1: POST /v1/packages "
                             "needs the role Full Administrator or Application Administrator; "
                             "the token of CONTOSO\\Reader has the role Read-only Analyst"));
}

static void test_token_list_and_storage(void **state)
{
    (void)state;
    char secret[64];
    long long id;
    make_token("CONTOSO\\Listed", "Application Administrator", 24, secret, &id);
    char hex[65] = "";
    const char *p[] = {secret};
    char *h = sql_text("SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex')", 1, p);
    snprintf(hex, sizeof hex, "%s", h);
    free(h);
    resp r;
    as(g_token[PH_FULL], "GET", "/v1/tokens", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_true(json_is_array(r.json));
    assert_null(strstr(r.body, secret));
    assert_null(strstr(r.body, secret + 4));
    assert_null(strstr(r.body, hex));
    assert_null(strstr(r.body, g_token[PH_FULL] + 4));
    int found = 0;
    size_t i;
    json_t *t;
    json_array_foreach(r.json, i, t) {
        assert_null(json_object_get(t, "token"));
        if (json_integer_value(json_object_get(t, "id")) != id)
            continue;
        found = 1;
        assert_string_equal(jstr(t, "user"), "CONTOSO\\Listed");
        assert_string_equal(jstr(t, "role"), "Application Administrator");
        assert_string_equal(jstr(t, "createdBy"), "CONTOSO\\Admin");
        assert_non_null(jstr(t, "createdAt"));
        assert_non_null(jstr(t, "expiresAt"));
        assert_true(json_is_false(json_object_get(t, "revoked")));
    }
    assert_true(found);
    resp_free(&r);
    /* the database holds the hash and nothing of the secret, in any table */
    const char *q[] = {secret + 4};
    assert_int_equal(sql_int("SELECT count(*) FROM api_tokens t WHERE t::text LIKE '%' || $1 || '%'",
                             1, q), 0);
    assert_int_equal(sql_int("SELECT count(*) FROM audit_log a WHERE a::text LIKE '%' || $1 || '%'",
                             1, q), 0);
    const char *hp[] = {hex};
    assert_int_equal(sql_int("SELECT count(*) FROM api_tokens WHERE secret_sha256 = $1", 1, hp), 1);
    assert_false(log_contains(secret + 4));
    /* bad requests */
    as(g_token[PH_FULL], "POST", "/v1/tokens", "{\"user\":\"x\",\"role\":\"Administrator\"}", &r);
    assert_json_error(&r, 400, "role");
    resp_free(&r);
    as(g_token[PH_FULL], "POST", "/v1/tokens", "{\"user\":\"\",\"role\":\"Read-only Analyst\"}", &r);
    assert_json_error(&r, 400, "user");
    resp_free(&r);
    as(g_token[PH_FULL], "POST", "/v1/tokens",
       "{\"user\":\"x\",\"role\":\"Read-only Analyst\",\"expiresInHours\":0}", &r);
    assert_json_error(&r, 400, "expiresInHours");
    resp_free(&r);
}

static void test_audit_user_is_the_tokens(void **state)
{
    (void)state;
    char auth[128];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", g_token[PH_INFRA]);
    const char *const h[] = {"Content-Type: application/json", auth,
                             "X-Dpf-User: CONTOSO\\Mallory", "X-Dpf-Application: test_auth", NULL};
    const char *body = "{\"name\":\"Auth Group\",\"siteCode\":\"PS1\"}";
    resp r;
    http("POST", "/v1/boundarygroups", body, strlen(body), h, &r);
    if (r.status != 201)
        print_error("%s\n", r.body);
    assert_int_equal(r.status, 201);
    const char *p[] = {r.corr};
    char *user = sql_text("SELECT string_agg(DISTINCT user_name || '/' || app_name, ',') "
                          "FROM audit_log WHERE correlation_id = $1", 1, p);
    assert_string_equal(user, "CONTOSO\\Infra/test_auth");
    free(user);
    resp_free(&r);
    assert_true(log_contains("Auditing: User CONTOSO\\Infra created"));
    assert_false(log_contains("Mallory"));
}

static void test_issue_token_file(void **state)
{
    (void)state;
    char file[128], id[32];
    snprintf(file, sizeof file, "/tmp/test_provider_auth.%ld.token", (long)getpid());
    unlink(file);
    umask(022);
    const char *args[] = {"--user", "CONTOSO\\Boot", "--role", "Full Administrator",
                          "--expires-hours", "2", "--out", file, NULL};
    assert_int_equal(ph_issue_token(args, id, sizeof id), 0);
    assert_true(strtoll(id, NULL, 10) > 0);
    struct stat st;
    assert_int_equal(stat(file, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char secret[80] = "";
    FILE *f = fopen(file, "r");
    assert_non_null(f);
    assert_non_null(fgets(secret, sizeof secret, f));
    fclose(f);
    assert_int_equal(strlen(secret), 48); /* 47 and the newline */
    secret[47] = '\0';
    assert_null(strstr(id, "dpf_")); /* stdout is the id alone */
    resp r;
    as(secret, "GET", "/v1/tokens", NULL, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    /* an existing file is kept unless --force */
    assert_int_not_equal(ph_issue_token(args, NULL, 0), 0);
    const char *force[] = {"--user", "CONTOSO\\Boot", "--role", "Read-only Analyst", "--out",
                           file, "--force", NULL};
    assert_int_equal(ph_issue_token(force, NULL, 0), 0);
    assert_int_equal(stat(file, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    const char *bad[] = {"--user", "x", "--role", "Superuser", "--out", file, "--force", NULL};
    assert_int_equal(ph_issue_token(bad, NULL, 0), 2);
    unlink(file);
}

/* dpctl with env (e.g. "DPFLEET_TOKEN=x", may be "") before it; stdout and
 * stderr apart. Returns the exit code. */
static int dpctl(const char *env, const char *args, char *out, size_t len, char *err,
                 size_t errlen)
{
    char cmd[2048], errfile[128];
    snprintf(errfile, sizeof errfile, "/tmp/test_provider_auth.%ld.err", (long)getpid());
    snprintf(cmd, sizeof cmd, "env %s '%s' --api '%s' %s 2>'%s'", env, DPCTL_BIN, g_api, args,
             errfile);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, len - 1, f);
    out[n] = '\0';
    int st = pclose(f);
    FILE *e = fopen(errfile, "r");
    n = e ? fread(err, 1, errlen - 1, e) : 0;
    err[n] = '\0';
    if (e)
        fclose(e);
    unlink(errfile);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_dpctl_tokens(void **state)
{
    (void)state;
    char out[8192], err[4096], file[128], env[256];
    /* create: the secret alone on stdout, the warning on stderr */
    assert_int_equal(dpctl("", "token create --user 'CONTOSO\\Cli' --role 'Read-only Analyst' "
                               "--expires-hours 5", out, sizeof out, err, sizeof err), 0);
    out[strcspn(out, "\n")] = '\0';
    assert_int_equal(strlen(out), 47);
    assert_memory_equal(out, "dpf_", 4);
    assert_non_null(strstr(err, "not shown again"));
    assert_non_null(strstr(err, "CONTOSO\\Cli (Read-only Analyst)"));
    snprintf(file, sizeof file, "/tmp/test_provider_auth.%ld.cli", (long)getpid());
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fprintf(f, "%s\n", out);
    fclose(f);
    chmod(file, 0600);
    /* --token-file wins over DPFLEET_TOKEN: the reader may list DPs, not tokens */
    char args[512];
    snprintf(args, sizeof args, "--token-file '%s' dp list", file);
    assert_int_equal(dpctl("", args, out, sizeof out, err, sizeof err), 0);
    snprintf(args, sizeof args, "--token-file '%s' token list", file);
    assert_int_equal(dpctl("", args, out, sizeof out, err, sizeof err), 1);
    assert_non_null(strstr(err, "needs the role Full Administrator"));
    assert_non_null(strstr(err, "HTTP 403"));
    /* DPFLEET_TOKEN_FILE when DPFLEET_TOKEN is empty */
    snprintf(env, sizeof env, "DPFLEET_TOKEN= DPFLEET_TOKEN_FILE='%s'", file);
    assert_int_equal(dpctl(env, "token list", out, sizeof out, err, sizeof err), 1);
    assert_non_null(strstr(err, "HTTP 403"));
    /* list (as the administrator of DPFLEET_TOKEN) and revoke */
    assert_int_equal(dpctl("", "token list", out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "CONTOSO\\Cli"));
    assert_null(strstr(out, "dpf_"));
    const char *p[] = {"CONTOSO\\Cli"};
    long long id = sql_int("SELECT id FROM api_tokens WHERE user_name = $1", 1, p);
    snprintf(args, sizeof args, "token revoke %lld", id);
    assert_int_equal(dpctl("", args, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "revoked"));
    snprintf(args, sizeof args, "--token-file '%s' dp list", file);
    assert_int_equal(dpctl("", args, out, sizeof out, err, sizeof err), 1);
    assert_non_null(strstr(err, "HTTP 401"));
    assert_int_equal(dpctl("", "token revoke 99999999", out, sizeof out, err, sizeof err), 1);
    assert_non_null(strstr(err, "HTTP 404"));
    /* no token at all: 401, the server's message and where dpctl looks */
    assert_int_equal(dpctl("DPFLEET_TOKEN= DPFLEET_TOKEN_FILE= HOME=/nonexistent", "dp list", out,
                           sizeof out, err, sizeof err), 1);
    assert_non_null(strstr(err, "authentication required"));
    assert_non_null(strstr(err, "HTTP 401"));
    assert_non_null(strstr(err, "no API token was sent"));
    /* a named file that cannot be read is a usage error */
    assert_int_equal(dpctl("", "--token-file /nonexistent/token dp list", out, sizeof out, err,
                           sizeof err), 2);
    unlink(file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_credentials_get_401),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_every_route_has_a_case),
        cmocka_unit_test(test_token_list_and_storage),
        cmocka_unit_test(test_audit_user_is_the_tokens),
        cmocka_unit_test(test_issue_token_file),
        cmocka_unit_test(test_dpctl_tokens),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* The provider binary against a real PostgreSQL, driven over HTTP the way
 * dpctl and scripts drive it: a DP is created with every row and exactly one
 * site control change, read back, and every kind of bad input is refused
 * with the right status while the tables stay exactly as they were. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include <dpf/db.h>
#include <dpf/statmsg.h>

#include "dpf_test.h"

#ifndef PROVIDER_BIN
#error "PROVIDER_BIN must be defined"
#endif

#define DBNAME "provider_api"

static char g_url[1024];
static char g_api[96];
static char g_log[256];
static pid_t g_pid;
static dpf_db *g_db;

/* ---- HTTP ---- */

typedef struct resp {
    long status;
    char *body;
    size_t len;
    char corr[128];
    char allow[128];
    json_t *json;
} resp;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    resp *r = ud;
    size_t add = size * n;
    char *nb = realloc(r->body, r->len + add + 1);
    if (nb == NULL)
        return 0;
    memcpy(nb + r->len, p, add);
    r->body = nb;
    r->len += add;
    r->body[r->len] = '\0';
    return add;
}

static void header_value(const char *line, size_t n, const char *name, char *out, size_t len)
{
    size_t k = strlen(name);
    if (n <= k + 1 || strncasecmp(line, name, k) != 0 || line[k] != ':')
        return;
    const char *v = line + k + 1;
    while (*v == ' ')
        v++;
    size_t vl = n - (size_t)(v - line);
    while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
        vl--;
    snprintf(out, len, "%.*s", (int)vl, v);
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    resp *r = ud;
    header_value(p, size * n, "X-Correlation-Id", r->corr, sizeof r->corr);
    header_value(p, size * n, "Allow", r->allow, sizeof r->allow);
    return size * n;
}

/* headers: NULL-terminated list or NULL. */
static void http(const char *method, const char *path, const char *body, size_t body_len,
                 const char *const *headers, resp *r)
{
    memset(r, 0, sizeof *r);
    char url[1024];
    snprintf(url, sizeof url, "%s%s", g_api, path);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    struct curl_slist *h = NULL;
    for (const char *const *p = headers; p && *p; p++)
        h = curl_slist_append(h, *p);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        print_error("%s %s: %s\n", method, path, curl_easy_strerror(rc));
    assert_int_equal(rc, CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (r->body != NULL)
        r->json = json_loads(r->body, 0, NULL);
}

static void resp_free(resp *r)
{
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

static void post(const char *json, resp *r)
{
    static const char *const h[] = {"Content-Type: application/json",
                                    "X-Dpf-User: CONTOSO\\Admin",
                                    "X-Dpf-Application: test_provider_api",
                                    "X-Dpf-Machine: PS1SITE.CONTOSO.COM", NULL};
    http("POST", "/v1/distributionpoints", json, strlen(json), h, r);
}

static const char *jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Every response, error or not, is JSON and carries the correlation id. */
static void assert_json_error(resp *r, long status, const char *field)
{
    if (r->status != status)
        print_error("want %ld, got %ld: %s\n", status, r->status, r->body ? r->body : "");
    assert_int_equal(r->status, status);
    assert_non_null(r->json);
    assert_non_null(jstr(r->json, "error"));
    assert_string_equal(jstr(r->json, "correlationId"), r->corr);
    if (field != NULL)
        assert_string_equal(jstr(r->json, "field"), field);
}

/* ---- database ---- */

static long long sql_int(const char *sql, int n, const char *const *params)
{
    dpf_db_result *r = NULL;
    assert_int_equal(dpf_db_exec(g_db, sql, n, params, &r), DPF_OK);
    assert_int_equal(dpf_db_result_rows(r), 1);
    long long v = dpf_db_result_int(r, 0, 0);
    dpf_db_result_free(r);
    return v;
}

static char *sql_text(const char *sql, int n, const char *const *params)
{
    dpf_db_result *r = NULL;
    assert_int_equal(dpf_db_exec(g_db, sql, n, params, &r), DPF_OK);
    assert_int_equal(dpf_db_result_rows(r), 1);
    char *v = strdup(dpf_db_result_get(r, 0, 0));
    dpf_db_result_free(r);
    return v;
}

/* Row counts of everything a DP change may touch. */
#define NCOUNTS 9
static void counts(long long out[NCOUNTS])
{
    static const char *const q[NCOUNTS] = {
        "SELECT count(*) FROM site_system_roles", "SELECT count(*) FROM site_system_role_props",
        "SELECT count(*) FROM pull_dp_sources", "SELECT count(*) FROM boundary_groups",
        "SELECT count(*) FROM boundary_group_members", "SELECT count(*) FROM audit_log",
        "SELECT count(*) FROM outbox", "SELECT serial FROM site_control WHERE site_code = 'PS1'",
        "SELECT count(*) FROM sites",
    };
    for (int i = 0; i < NCOUNTS; i++)
        out[i] = sql_int(q[i], 0, NULL);
}

static int log_contains(const char *needle)
{
    char *data = NULL;
    FILE *f = fopen(g_log, "r");
    if (f == NULL)
        return 0;
    size_t cap = 0, len = 0;
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            data = realloc(data, cap);
        }
        memcpy(data + len, buf, n);
        len += n;
        data[len] = '\0';
    }
    fclose(f);
    int found = data != NULL && strstr(data, needle) != NULL;
    free(data);
    return found;
}

/* ---- the provider process ---- */

static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &len) != 0) {
        if (s >= 0)
            close(s);
        return -1;
    }
    close(s);
    return ntohs(a.sin_port);
}

static pid_t spawn_provider(const char *db_url, const char *listen, const char *log)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    FILE *f = freopen(log, "w", stderr);
    (void)f;
    setenv("DATABASE_URL", db_url, 1);
    setenv("DPFLEET_LISTEN", listen, 1);
    setenv("DPFLEET_MAX_BODY", "1048576", 1);
    execl(PROVIDER_BIN, "provider", (char *)NULL);
    _exit(127);
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Polls GET /healthz until it answers want (or 10 s pass). */
static long wait_health(const char *api, long want)
{
    char url[128];
    snprintf(url, sizeof url, "%s/healthz", api);
    long code = 0;
    for (int i = 0; i < 100 && code != want; i++) {
        CURL *c = curl_easy_init();
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_NOBODY, 0L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        resp sink = {0};
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 7L);
        if (curl_easy_perform(c) == CURLE_OK)
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_cleanup(c);
        free(sink.body);
        if (code != want)
            nap_ms(100);
    }
    return code;
}

/* SIGTERM, then the exit status (-1 if it had to be killed). */
static int stop_provider(pid_t pid)
{
    int status = 0;
    kill(pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        nap_ms(100);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (dpf_test_db_create(DBNAME, g_url, sizeof g_url) != 0)
        return -1;
    if (dpf_db_connect(g_url, &g_db) != DPF_OK)
        return -1;
    int port = free_port();
    if (port < 0)
        return -1;
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    snprintf(g_api, sizeof g_api, "http://%s", listen);
    snprintf(g_log, sizeof g_log, "/tmp/test_provider_api.%ld.log", (long)getpid());
    g_pid = spawn_provider(g_url, listen, g_log);
    if (wait_health(g_api, 200) != 200) {
        fprintf(stderr, "provider did not become healthy; log in %s\n", g_log);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    int rc = g_pid > 0 ? stop_provider(g_pid) : 0;
    dpf_db_destroy(g_db);
    dpf_test_db_drop(DBNAME);
    curl_global_cleanup();
    if (rc != 0) {
        fprintf(stderr, "provider did not stop cleanly on SIGTERM (exit %d); log in %s\n", rc, g_log);
        return -1;
    }
    unlink(g_log);
    return 0;
}

/* ---- tests ---- */

static void test_create_dp(void **state)
{
    (void)state;
    long long before[NCOUNTS], after[NCOUNTS];
    counts(before);
    resp r;
    post("{\"serverName\":\"ps1dp1.contoso.com\",\"siteCode\":\"PS1\",\"description\":\"PS1 Standard DP\","
         "\"boundaryGroups\":[\"PS1 Assignment And Content\",\"PS1 Branch Offices\"],"
         "\"enablePXE\":true,\"minFreeSpaceMB\":100,\"drive\":\"E\",\"priority\":5}", &r);
    if (r.status != 201)
        print_error("%s\n", r.body);
    assert_int_equal(r.status, 201);
    assert_string_equal(jstr(r.json, "serverName"), "PS1DP1.CONTOSO.COM");
    assert_string_equal(jstr(r.json, "siteCode"), "PS1");
    assert_string_equal(jstr(r.json, "nalPath"),
                        "[\"Display=\\\\PS1DP1.CONTOSO.COM\\\"]MSWNET:[\"SMS_SITE=PS1\"]\\\\PS1DP1.CONTOSO.COM\\");
    const char *corr = jstr(r.json, "correlationId");
    assert_non_null(corr);
    assert_string_equal(corr, r.corr);
    const char *p[] = {corr};
    const char *srv[] = {"PS1DP1.CONTOSO.COM"};

    /* both roles, the eight properties, the boundary groups */
    assert_int_equal(sql_int("SELECT count(*) FROM site_system_roles WHERE server_name = $1 "
                             "AND role_name IN ('SMS Site System', 'SMS Distribution Point')", 1, srv), 2);
    assert_int_equal(sql_int("SELECT count(*) FROM site_system_role_props pr JOIN site_system_roles r "
                             "ON r.id = pr.role_id WHERE r.server_name = $1", 1, srv), 8);
    assert_int_equal(sql_int("SELECT value3 FROM site_system_role_props pr JOIN site_system_roles r "
                             "ON r.id = pr.role_id WHERE r.server_name = $1 AND pr.name = 'Priority'", 1, srv), 5);
    assert_int_equal(sql_int("SELECT value3 FROM site_system_role_props pr JOIN site_system_roles r "
                             "ON r.id = pr.role_id WHERE r.server_name = $1 AND pr.name = 'IsPXE'", 1, srv), 1);
    assert_int_equal(sql_int("SELECT value3 FROM site_system_role_props pr JOIN site_system_roles r "
                             "ON r.id = pr.role_id WHERE r.server_name = $1 AND pr.name = 'MinFreeSpace'", 1, srv), 100);
    assert_int_equal(sql_int("SELECT count(*) FROM boundary_group_members WHERE server_name = $1", 1, srv), 2);
    assert_int_equal(sql_int("SELECT count(*) FROM boundary_groups WHERE name = 'PS1 Branch Offices'", 0, NULL), 1);
    /* audit: the DP created, both groups modified, the new group created */
    assert_int_equal(sql_int("SELECT count(*) FROM audit_log WHERE correlation_id = $1 AND "
                             "class_name = 'SMS_SCI_SysResUse' AND action = 'created' AND "
                             "user_name = 'CONTOSO\\Admin' AND app_name = 'test_provider_api' AND "
                             "machine_name = 'PS1SITE.CONTOSO.COM'", 1, p), 1);
    assert_int_equal(sql_int("SELECT count(*) FROM audit_log WHERE correlation_id = $1 AND "
                             "class_name = 'SMS_BoundaryGroup' AND action = 'modified'", 1, p), 2);
    assert_int_equal(sql_int("SELECT count(*) FROM audit_log WHERE correlation_id = $1 AND "
                             "class_name = 'SMS_BoundaryGroup' AND action = 'created'", 1, p), 1);
    /* exactly one site control change, carrying the correlation id */
    assert_int_equal(sql_int("SELECT count(*) FROM outbox WHERE correlation_id = $1", 1, p), 1);
    assert_int_equal(sql_int("SELECT count(*) FROM outbox WHERE correlation_id = $1 AND "
                             "subject = 'sitecontrol.changed.PS1'", 1, p), 1);
    counts(after);
    assert_int_equal(after[6], before[6] + 1); /* outbox */
    assert_int_equal(after[7], before[7] + 1); /* site_control.serial */
    /* the log an administrator greps */
    assert_true(log_contains("INFO: 'PS1DP1.CONTOSO.COM' is a valid FQDN."));
    assert_true(log_contains("Auditing: User CONTOSO\\Admin created an instance of class SMS_SCI_SysResUse."));
    assert_true(log_contains("Successfully added 1 servers to boundary group PS1 Branch Offices"));
    char line[200];
    snprintf(line, sizeof line, "HTTP POST /v1/distributionpoints 201 ");
    assert_true(log_contains(line));
    snprintf(line, sizeof line, "Context: __CorrelationId={%s}", corr);
    assert_true(log_contains(line));
    resp_free(&r);
}

static void test_given_correlation_id_is_used(void **state)
{
    (void)state;
    static const char *const h[] = {"X-Correlation-Id: corr-from-dpctl-42", NULL};
    const char *body = "{\"serverName\":\"ps1dp2.contoso.com\",\"siteCode\":\"ps1\"}";
    resp r;
    http("POST", "/v1/distributionpoints", body, strlen(body), h, &r);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.corr, "corr-from-dpctl-42");
    assert_string_equal(jstr(r.json, "correlationId"), "corr-from-dpctl-42");
    const char *p[] = {"corr-from-dpctl-42"};
    assert_int_equal(sql_int("SELECT count(*) FROM outbox WHERE correlation_id = $1", 1, p), 1);
    /* no context headers: the defaults */
    assert_int_equal(sql_int("SELECT count(*) FROM audit_log WHERE correlation_id = $1 AND "
                             "user_name = 'unknown' AND machine_name = '127.0.0.1'", 1, p), 1);
    resp_free(&r);
    /* an unusable one is replaced, not trusted */
    static const char *const bad[] = {"X-Correlation-Id: has spaces;and'quotes", NULL};
    http("GET", "/healthz", NULL, 0, bad, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(strlen(r.corr), 36);
    resp_free(&r);
}

static void test_pull_dp_and_literal_sql(void **state)
{
    (void)state;
    const char *desc = "it's; DROP TABLE sites;-- \\\" $1 %s";
    resp r;
    post("{\"serverName\":\"ps1pull.contoso.com\",\"siteCode\":\"PS1\","
         "\"description\":\"it's; DROP TABLE sites;-- \\\\\\\" $1 %s\","
         "\"pullDP\":{\"sources\":[{\"serverName\":\"PS1DP2.CONTOSO.COM\",\"priority\":2},"
         "{\"serverName\":\"ps1dp1.contoso.com\",\"priority\":1}]}}", &r);
    if (r.status != 201)
        print_error("%s\n", r.body);
    assert_int_equal(r.status, 201);
    resp_free(&r);
    const char *p[] = {"PS1PULL.CONTOSO.COM"};
    char *stored = sql_text("SELECT pr.value1 FROM site_system_role_props pr JOIN site_system_roles r "
                            "ON r.id = pr.role_id WHERE r.server_name = $1 AND pr.name = 'Description'", 1, p);
    assert_string_equal(stored, desc);
    free(stored);
    assert_int_equal(sql_int("SELECT count(*) FROM sites", 0, NULL), 1);
    assert_int_equal(sql_int("SELECT count(*) FROM pull_dp_sources s JOIN site_system_roles r "
                             "ON r.id = s.role_id WHERE r.server_name = $1", 1, p), 2);

    /* read back: the same shape as the input, sources by priority */
    http("GET", "/v1/distributionpoints/Ps1Pull.Contoso.Com", NULL, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "description"), desc);
    json_t *src = json_object_get(json_object_get(r.json, "pullDP"), "sources");
    assert_int_equal(json_array_size(src), 2);
    assert_string_equal(jstr(json_array_get(src, 0), "serverName"), "PS1DP1.CONTOSO.COM");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(src, 0), "priority")), 1);
    resp_free(&r);
}

static void test_list_and_show(void **state)
{
    (void)state;
    resp r;
    http("GET", "/v1/distributionpoints", NULL, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_true(json_is_array(r.json));
    assert_int_equal(json_array_size(r.json), 3);
    resp_free(&r);

    http("GET", "/v1/distributionpoints?site=PS2", NULL, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 0);
    resp_free(&r);

    http("GET", "/v1/distributionpoints/ps1dp1.CONTOSO.com", NULL, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "serverName"), "PS1DP1.CONTOSO.COM");
    assert_string_equal(jstr(r.json, "description"), "PS1 Standard DP");
    assert_true(json_is_true(json_object_get(r.json, "enablePXE")));
    assert_true(json_is_null(json_object_get(r.json, "pullDP")));
    assert_true(json_is_null(json_object_get(r.json, "dpid"))); /* hman has not run */
    assert_true(json_is_null(json_object_get(r.json, "crc")));
    assert_int_equal(json_integer_value(json_object_get(r.json, "priority")), 5);
    assert_int_equal(json_integer_value(json_object_get(r.json, "minFreeSpaceMB")), 100);
    assert_string_equal(jstr(r.json, "drive"), "E:");
    json_t *groups = json_object_get(r.json, "boundaryGroups");
    assert_int_equal(json_array_size(groups), 2);
    assert_string_equal(json_string_value(json_array_get(groups, 0)), "PS1 Assignment And Content");
    resp_free(&r);

    /* once hman has inserted the DP, its state shows */
    assert_int_equal(dpf_db_exec(g_db,
        "INSERT INTO distribution_points (server_name, nal_path, site_code, identity_guid, dp_crc, "
        "install_state) SELECT server_name, nal_path, site_code, '23a72b6c-eace-4218-929c-4c80638c031e', "
        "'439BCA34', 'Installing' FROM site_system_roles WHERE server_name = 'PS1DP1.CONTOSO.COM' "
        "AND role_name = 'SMS Distribution Point'", 0, NULL, NULL), DPF_OK);
    http("GET", "/v1/distributionpoints/PS1DP1.CONTOSO.COM", NULL, 0, NULL, &r);
    assert_true(json_integer_value(json_object_get(r.json, "dpid")) > 0);
    assert_string_equal(jstr(r.json, "crc"), "439BCA34");
    assert_string_equal(jstr(r.json, "identityGuid"), "23a72b6c-eace-4218-929c-4c80638c031e");
    assert_string_equal(jstr(r.json, "installState"), "Installing");
    assert_int_equal(json_integer_value(json_object_get(r.json, "action")), 0);
    resp_free(&r);

    http("GET", "/v1/distributionpoints/nothere.contoso.com", NULL, 0, NULL, &r);
    assert_json_error(&r, 404, "serverName");
    resp_free(&r);
}

typedef struct bad_case {
    const char *what;
    const char *body;
    long status;
    const char *field;
} bad_case;

static void test_bad_input_changes_nothing(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        {"malformed JSON", "{\"serverName\":", 400, NULL},
        {"not an object", "[\"ps1dp9.contoso.com\"]", 400, NULL},
        {"empty body", "", 400, NULL},
        {"missing serverName", "{\"siteCode\":\"PS1\"}", 400, "serverName"},
        {"missing siteCode", "{\"serverName\":\"ps1dp9.contoso.com\"}", 400, "siteCode"},
        {"priority as a string", "{\"serverName\":\"ps1dp9.contoso.com\",\"siteCode\":\"PS1\",\"priority\":\"5\"}", 400, "priority"},
        {"enablePXE as a number", "{\"serverName\":\"ps1dp9.contoso.com\",\"siteCode\":\"PS1\",\"enablePXE\":1}", 400, "enablePXE"},
        {"priority out of range", "{\"serverName\":\"ps1dp9.contoso.com\",\"siteCode\":\"PS1\",\"priority\":0}", 400, "priority"},
        {"invalid FQDN", "{\"serverName\":\"bad_name\",\"siteCode\":\"PS1\"}", 400, "serverName"},
        {"unknown site", "{\"serverName\":\"ps1dp9.contoso.com\",\"siteCode\":\"ZZ9\"}", 400, "siteCode"},
        {"existing DP", "{\"serverName\":\"PS1DP1.contoso.com\",\"siteCode\":\"PS1\"}", 409, "serverName"},
        {"unknown field", "{\"serverName\":\"ps1dp9.contoso.com\",\"siteCode\":\"PS1\",\"isPXE\":true}", 400, "isPXE"},
        {"duplicate key", "{\"serverName\":\"ps1dp9.contoso.com\",\"siteCode\":\"PS1\",\"siteCode\":\"PS1\"}", 400, NULL},
        {"pull source is not a DP", "{\"serverName\":\"ps1dp9.contoso.com\",\"siteCode\":\"PS1\","
         "\"pullDP\":{\"sources\":[{\"serverName\":\"nowhere.contoso.com\",\"priority\":1}]}}", 400, "pullDP.sources"},
        {"new boundary group, then unknown site", "{\"serverName\":\"ps1dp9.contoso.com\",\"siteCode\":\"XX1\","
         "\"boundaryGroups\":[\"Brand New Group\"]}", 400, "siteCode"},
    };
    long long before[NCOUNTS], after[NCOUNTS];
    counts(before);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        resp r;
        post(cases[i].body, &r);
        if (r.status != cases[i].status)
            print_error("case '%s': %s\n", cases[i].what, r.body ? r.body : "");
        assert_json_error(&r, cases[i].status, cases[i].field);
        resp_free(&r);
    }
    counts(after);
    for (int i = 0; i < NCOUNTS; i++)
        assert_int_equal(after[i], before[i]);
    assert_true(log_contains("'bad_name' is not a valid FQDN"));
}

static void test_huge_bodies_refused(void **state)
{
    (void)state;
    size_t n = 10 * 1024 * 1024;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, ' ', n);
    const char *pre = "{\"serverName\":\"ps1dp9.contoso.com\",\"siteCode\":\"PS1\",\"description\":\"";
    size_t pl = strlen(pre);
    memcpy(big, pre, pl);
    big[n - 2] = '"';
    big[n - 1] = '}';
    big[n] = '\0';
    long long before[NCOUNTS], after[NCOUNTS];
    counts(before);
    resp r;
    post(big, &r);
    assert_json_error(&r, 413, NULL);
    resp_free(&r);
    /* without Content-Length: drained, never stored, still 413 */
    static const char *const chunked[] = {"Transfer-Encoding: chunked", NULL};
    http("POST", "/v1/distributionpoints", big, n, chunked, &r);
    assert_json_error(&r, 413, NULL);
    resp_free(&r);
    /* a string over its own cap inside a body under the limit */
    memset(big + pl, 'x', 600);
    memcpy(big + pl + 600, "\"}", 3);
    post(big, &r);
    assert_json_error(&r, 400, "description");
    resp_free(&r);
    free(big);
    counts(after);
    for (int i = 0; i < NCOUNTS; i++)
        assert_int_equal(after[i], before[i]);
    /* still serving */
    http("GET", "/healthz", NULL, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
}

static void test_bad_headers(void **state)
{
    (void)state;
    char longuser[400] = "X-Dpf-User: ";
    memset(longuser + strlen(longuser), 'u', 300);
    const char *const h[] = {longuser, NULL};
    long long before[NCOUNTS], after[NCOUNTS];
    counts(before);
    const char *body = "{\"serverName\":\"ps1dp9.contoso.com\",\"siteCode\":\"PS1\"}";
    resp r;
    http("POST", "/v1/distributionpoints", body, strlen(body), h, &r);
    assert_json_error(&r, 400, "X-Dpf-User");
    resp_free(&r);
    counts(after);
    for (int i = 0; i < NCOUNTS; i++)
        assert_int_equal(after[i], before[i]);
}

static void test_unknown_paths_and_methods(void **state)
{
    (void)state;
    resp r;
    http("GET", "/v1/nothing", NULL, 0, NULL, &r);
    assert_json_error(&r, 404, NULL);
    resp_free(&r);
    http("DELETE", "/v1/distributionpoints", NULL, 0, NULL, &r);
    assert_json_error(&r, 405, NULL);
    assert_string_equal(r.allow, "POST, GET");
    resp_free(&r);
    http("PUT", "/healthz", NULL, 0, NULL, &r);
    assert_json_error(&r, 405, NULL);
    resp_free(&r);
}

static void test_statmsgs(void **state)
{
    (void)state;
    /* raised the way distmgr raises them (no bus: stored and logged only) */
    for (int i = 0; i < 3; i++) {
        char server[64];
        snprintf(server, sizeof server, "PS1DP%d.CONTOSO.COM", i + 1);
        dpf_statmsg m = {.id = 2399, .severity = 'I', .level = 'M', .component = "SMS_DISTRIBUTION_MANAGER",
                         .site = "PS1", .system = "PS1SITE.CONTOSO.COM", .istr = {"nal", server},
                         .nattrs = 1, .attr_id = {404}, .attr_val = {"nal"}};
        assert_int_equal(dpf_statmsg_raise(NULL, g_db, &m), DPF_OK);
    }
    dpf_statmsg other = {.id = 3306, .severity = 'I', .level = 'M', .component = "SMS_HIERARCHY_MANAGER",
                         .site = "PS1", .istr = {"PS1.SCU", "ConfigMgr Primary Site 1", "PS1"}};
    assert_int_equal(dpf_statmsg_raise(NULL, g_db, &other), DPF_OK);

    resp r;
    http("GET", "/v1/statmsgs?id=2399&site=PS1", NULL, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 3);
    json_t *first = json_array_get(r.json, 0), *last = json_array_get(r.json, 2);
    assert_int_equal(json_integer_value(json_object_get(first, "msgId")), 2399);
    assert_string_equal(jstr(first, "severity"), "I");
    assert_string_equal(jstr(first, "component"), "SMS_DISTRIBUTION_MANAGER");
    assert_string_equal(jstr(first, "system"), "PS1SITE.CONTOSO.COM");
    assert_int_equal(json_array_size(json_object_get(first, "istr")), 10);
    assert_string_equal(json_string_value(json_array_get(json_object_get(first, "istr"), 1)), "PS1DP1.CONTOSO.COM");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(first, "attrs"), 0), "id")), 404);
    json_int_t first_id = json_integer_value(json_object_get(first, "id"));
    assert_true(json_integer_value(json_object_get(last, "id")) > first_id); /* newest last */
    resp_free(&r);

    char path[128];
    snprintf(path, sizeof path, "/v1/statmsgs?id=2399&after=%lld&limit=1", (long long)first_id);
    http("GET", path, NULL, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(json_array_get(r.json, 0), "istr"), 1)),
                        "PS1DP2.CONTOSO.COM");
    resp_free(&r);

    http("GET", "/v1/statmsgs?limit=2", NULL, 0, NULL, &r); /* the newest two */
    assert_int_equal(json_array_size(r.json), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(r.json, 1), "msgId")), 3306);
    resp_free(&r);

    static const char *const bad[] = {"/v1/statmsgs?id=abc", "/v1/statmsgs?site=P'1", "/v1/statmsgs?after=-1",
                                      "/v1/statmsgs?limit=0", "/v1/statmsgs?limit=100000",
                                      "/v1/statmsgs?id=99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        http("GET", bad[i], NULL, 0, NULL, &r);
        assert_json_error(&r, 400, NULL);
        resp_free(&r);
    }
}

/* Two admins add the same DP at the same moment: one wins. */
static void *racer(void *arg)
{
    resp *r = arg;
    post("{\"serverName\":\"ps1race.contoso.com\",\"siteCode\":\"PS1\",\"boundaryGroups\":[\"Race Group\"]}", r);
    return NULL;
}

static void test_concurrent_duplicate(void **state)
{
    (void)state;
    resp a, b;
    pthread_t ta, tb;
    pthread_create(&ta, NULL, racer, &a);
    pthread_create(&tb, NULL, racer, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_true((a.status == 201 && b.status == 409) || (a.status == 409 && b.status == 201));
    resp_free(&a);
    resp_free(&b);
    const char *p[] = {"PS1RACE.CONTOSO.COM"};
    assert_int_equal(sql_int("SELECT count(*) FROM site_system_roles WHERE server_name = $1", 1, p), 2);
    assert_int_equal(sql_int("SELECT count(*) FROM boundary_groups WHERE name = 'Race Group'", 0, NULL), 1);
}

/* Started while PostgreSQL cannot be reached, the provider keeps running,
 * says so on /healthz and stops cleanly. */
static void test_database_down(void **state)
{
    (void)state;
    int dead_port = free_port(), port = free_port();
    char dead_url[128], listen[64], api[96], log[256];
    snprintf(dead_url, sizeof dead_url, "postgresql://postgres@127.0.0.1:%d/none?connect_timeout=1", dead_port);
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    snprintf(api, sizeof api, "http://%s", listen);
    snprintf(log, sizeof log, "/tmp/test_provider_api.down.%ld.log", (long)getpid());
    pid_t pid = spawn_provider(dead_url, listen, log);
    assert_int_equal(wait_health(api, 503), 503);
    assert_int_equal(waitpid(pid, NULL, WNOHANG), 0); /* still alive */
    assert_int_equal(stop_provider(pid), 0);
    unlink(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_dp),
        cmocka_unit_test(test_given_correlation_id_is_used),
        cmocka_unit_test(test_pull_dp_and_literal_sql),
        cmocka_unit_test(test_list_and_show),
        cmocka_unit_test(test_bad_input_changes_nothing),
        cmocka_unit_test(test_huge_bodies_refused),
        cmocka_unit_test(test_bad_headers),
        cmocka_unit_test(test_unknown_paths_and_methods),
        cmocka_unit_test(test_statmsgs),
        cmocka_unit_test(test_concurrent_duplicate),
        cmocka_unit_test(test_database_down),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* Shared harness of the provider's integration tests: a fresh database, the
 * provider binary on a free loopback port (log captured), HTTP over
 * libcurl, and SQL helpers for the assertions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dpf_test.h"
#include "test_provider_harness.h"

#ifndef PROVIDER_BIN
#error "PROVIDER_BIN must be defined"
#endif

char g_url[1024];
char g_api[96];
char g_log[256];
static pid_t g_pid;
dpf_db *g_db;
static char g_dbname[64];
char g_token[PH_NROLES][64];
const char *const PH_ROLE[PH_NROLES] = {"Full Administrator", "Infrastructure Administrator",
                                        "Application Administrator", "Read-only Analyst"};

/* ---- HTTP ---- */

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
    header_value(p, size * n, "X-Next-After", r->next_after, sizeof r->next_after);
    header_value(p, size * n, "WWW-Authenticate", r->www_auth, sizeof r->www_auth);
    return size * n;
}

/* headers: NULL-terminated list or NULL. */
void http(const char *method, const char *path, const char *body, size_t body_len,
                 const char *const *headers, resp *r)
{
    memset(r, 0, sizeof *r);
    char url[1024];
    snprintf(url, sizeof url, "%s%s", g_api, path);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    struct curl_slist *h = NULL;
    int own_auth = 0;
    for (const char *const *p = headers; p && *p; p++) {
        h = curl_slist_append(h, *p);
        own_auth |= strncasecmp(*p, "Authorization:", 14) == 0;
    }
    char auth[128];
    if (!own_auth && g_token[PH_FULL][0] != '\0') {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", g_token[PH_FULL]);
        h = curl_slist_append(h, auth);
    }
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

void resp_free(resp *r)
{
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

void post(const char *json, resp *r)
{
    static const char *const h[] = {"Content-Type: application/json",
                                    "X-Dpf-Application: test_provider_api",
                                    "X-Dpf-Machine: PS1SITE.CONTOSO.COM", NULL};
    http("POST", "/v1/distributionpoints", json, strlen(json), h, r);
}

const char *jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Every response, error or not, is JSON and carries the correlation id. */
void assert_json_error(resp *r, long status, const char *field)
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

long long sql_int(const char *sql, int n, const char *const *params)
{
    dpf_db_result *r = NULL;
    assert_int_equal(dpf_db_exec(g_db, sql, n, params, &r), DPF_OK);
    assert_int_equal(dpf_db_result_rows(r), 1);
    long long v = dpf_db_result_int(r, 0, 0);
    dpf_db_result_free(r);
    return v;
}

char *sql_text(const char *sql, int n, const char *const *params)
{
    dpf_db_result *r = NULL;
    assert_int_equal(dpf_db_exec(g_db, sql, n, params, &r), DPF_OK);
    assert_int_equal(dpf_db_result_rows(r), 1);
    char *v = strdup(dpf_db_result_get(r, 0, 0));
    dpf_db_result_free(r);
    return v;
}

/* Row counts of everything a DP change may touch. */
void counts(long long out[NCOUNTS])
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

int log_contains(const char *needle)
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

int free_port(void)
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

pid_t spawn_provider(const char *db_url, const char *listen, const char *log)
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

void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Polls GET /readyz (the database answers) until it answers want (or 10 s pass). */
long wait_health(const char *api, long want)
{
    char url[128];
    snprintf(url, sizeof url, "%s/readyz", api);
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

/* SIGTERM and wait up to 10 s: dpf_test_stop. */
int stop_provider(pid_t pid)
{
    return dpf_test_stop(pid, 10000);
}

int ph_issue_token(const char *const *args, char *out, size_t out_len)
{
    int pipefd[2];
    if (pipe(pipefd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        const char *argv[24] = {"provider", "issue-token"};
        int n = 2;
        for (const char *const *a = args; *a && n < 23; a++)
            argv[n++] = *a;
        argv[n] = NULL;
        dup2(pipefd[1], 1);
        close(pipefd[0]);
        setenv("DATABASE_URL", g_url, 1);
        execv(PROVIDER_BIN, (char *const *)argv);
        _exit(127);
    }
    close(pipefd[1]);
    char buf[256];
    size_t len = 0;
    ssize_t got;
    while ((got = read(pipefd[0], buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)got;
    buf[len] = '\0';
    close(pipefd[0]);
    while (len > 0 && buf[len - 1] == '\n')
        buf[--len] = '\0';
    if (out != NULL)
        snprintf(out, out_len, "%s", buf);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* One token per role into g_token; the Full Administrator's also as
 * DPFLEET_TOKEN, which the dpctl the tests run reads. */
static int issue_role_tokens(void)
{
    static const char *const users[PH_NROLES] = {"CONTOSO\\Admin", "CONTOSO\\Infra",
                                                 "CONTOSO\\App", "CONTOSO\\Reader"};
    for (int i = 0; i < PH_NROLES; i++) {
        char file[128];
        snprintf(file, sizeof file, "/tmp/test_provider_token.%ld.%d", (long)getpid(), i);
        const char *args[] = {"--user", users[i], "--role", PH_ROLE[i], "--out", file, "--force",
                              NULL};
        if (ph_issue_token(args, NULL, 0) != 0)
            return -1;
        FILE *f = fopen(file, "r");
        int ok = f != NULL && fgets(g_token[i], sizeof g_token[i], f) != NULL;
        if (f != NULL)
            fclose(f);
        unlink(file);
        if (!ok)
            return -1;
        g_token[i][strcspn(g_token[i], "\n")] = '\0';
    }
    setenv("DPFLEET_TOKEN", g_token[PH_FULL], 1);
    return 0;
}

int ph_setup(const char *dbname)
{
    snprintf(g_dbname, sizeof g_dbname, "%s", dbname);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (dpf_test_db_create(g_dbname, g_url, sizeof g_url) != 0)
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
    if (issue_role_tokens() != 0) {
        fprintf(stderr, "provider issue-token failed\n");
        return -1;
    }
    return 0;
}

int ph_teardown(void)
{
    int rc = g_pid > 0 ? stop_provider(g_pid) : 0;
    dpf_db_destroy(g_db);
    dpf_test_db_drop(g_dbname);
    curl_global_cleanup();
    if (rc != 0) {
        fprintf(stderr, "provider did not stop cleanly on SIGTERM (exit %d); log in %s\n", rc, g_log);
        return -1;
    }
    unlink(g_log);
    return 0;
}


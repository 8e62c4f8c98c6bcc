/* The harness distmgr's integration tests share (see the header). distmgr
 * runs as a child process, configured through its environment variables,
 * its stderr in a log file the tests read like an administrator would. */
#include "test_distmgr_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dpf/dp.h>
#include <dpf/stepsig.h>
#include <dpf/util.h>

#include "dpf_test.h"
#include "dpfleet.pb-c.h"
#include "test_distmgr_agent.h"

dpf_db *dmt_db;
dpf_bus *dmt_bus;
char dmt_tmp[64];

static char g_url[1024];
static char g_nats_url[64];
static pid_t g_nats_pid;

long long dmt_sql_int(const char *sql, const char *p1)
{
    const char *params[] = {p1};
    dpf_db_result *r = NULL;
    if (dpf_db_exec(dmt_db, sql, p1 ? 1 : 0, params, &r) != DPF_OK) {
        fprintf(stderr, "SQL failed: %s: %s\n", sql, dpf_db_error(dmt_db));
        dpf_db_result_free(r);
        return -1;
    }
    long long v = dpf_db_result_rows(r) > 0 ? dpf_db_result_int(r, 0, 0) : -1;
    dpf_db_result_free(r);
    return v;
}

void dmt_sql_text(const char *sql, const char *p1, char *out, size_t len)
{
    const char *params[] = {p1};
    dpf_db_result *r = NULL;
    out[0] = '\0';
    if (dpf_db_exec(dmt_db, sql, p1 ? 1 : 0, params, &r) == DPF_OK && dpf_db_result_rows(r) > 0)
        snprintf(out, len, "%s", dpf_db_result_get(r, 0, 0));
    dpf_db_result_free(r);
}

int dmt_wait_text(const char *sql, const char *p1, const char *want, int ms)
{
    char got[512];
    for (int waited = 0; waited <= ms; waited += 50) {
        dmt_sql_text(sql, p1, got, sizeof got);
        if (strcmp(got, want) == 0)
            return 1;
        usleep(50 * 1000);
    }
    fprintf(stderr, "waited %d ms for '%s' (%s), last value '%s'\n", ms, want, p1 ? p1 : "",
            got);
    return 0;
}

int dmt_wait_installed(const char *server, int ms)
{
    return dmt_wait_text("SELECT install_state FROM distribution_points WHERE server_name = $1",
                         server, "Installed", ms);
}

int dmt_log_count(const char *path, const char *needle)
{
    char *text = NULL;
    size_t len = 0;
    if (dpf_read_file(path, &text, &len) != DPF_OK)
        return -1;
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    free(text);
    return n;
}

long dmt_log_pos(const char *path, const char *needle)
{
    char *text = NULL;
    size_t len = 0;
    if (dpf_read_file(path, &text, &len) != DPF_OK)
        return -1;
    const char *p = strstr(text, needle);
    long pos = p != NULL ? (long)(p - text) : -1;
    free(text);
    return pos;
}

int dmt_wait_log(const char *path, const char *needle, int n, int ms)
{
    for (int waited = 0; waited <= ms; waited += 50) {
        if (dmt_log_count(path, needle) >= n)
            return 1;
        usleep(50 * 1000);
    }
    fprintf(stderr, "waited %d ms for %d x '%s' in %s\n", ms, n, needle, path);
    return 0;
}

long long dmt_insert_dp(const char *server, int pxe, int pull, const char *sources,
                        int old_pending)
{
    char nal[DPF_NAL_MAX], crc[9], guid[37];
    if (dpf_nal_path(server, "PS1", nal, sizeof nal) != DPF_OK)
        return -1;
    dpf_crc_hex(dpf_crc32(0, server, strlen(server)), crc);
    dpf_uuid(guid);
    const char *p[] = {server, nal, guid, crc, pxe ? "true" : "false", pull ? "true" : "false",
                       sources, old_pending ? "1" : "0"};
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec(
        dmt_db,
        "INSERT INTO distribution_points (server_name, nal_path, site_code, identity_guid, "
        "dp_crc, is_pxe, is_pull_dp, pull_sources, description, updated_at) "
        "VALUES ($1, $2, 'PS1', $3, $4, $5::boolean, $6::boolean, $7, 'PS1 test DP', "
        "now() - make_interval(hours => $8::int)) RETURNING dpid",
        8, p, &r);
    long long id = st == DPF_OK ? dpf_db_result_int(r, 0, 0) : -1;
    if (st != DPF_OK)
        fprintf(stderr, "insert %s: %s\n", server, dpf_db_error(dmt_db));
    dpf_db_result_free(r);
    return id;
}

static int publish(const char *kind, long long dpid, const void *buf, size_t n,
                   const char *corr)
{
    char subject[64], msg_id[96];
    snprintf(subject, sizeof subject, "dp.%s.%lld", kind, dpid);
    snprintf(msg_id, sizeof msg_id, "test-%s-%s", kind, corr);
    return dpf_bus_publish(dmt_bus, subject, buf, n, msg_id, corr) == DPF_OK ? 0 : -1;
}

int dmt_publish_ins(long long dpid, const char *reason, const char *corr)
{
    Dpf__DpInstall m = DPF__DP_INSTALL__INIT;
    m.dpid = dpid;
    m.change_id = dpid * 10;
    m.reason = (char *)reason;
    uint8_t buf[64];
    size_t n = dpf__dp_install__pack(&m, buf);
    return publish("ins", dpid, buf, n, corr);
}

int dmt_publish_dpn(long long dpid, const char *corr)
{
    Dpf__DpNotification m = DPF__DP_NOTIFICATION__INIT;
    m.dpid = dpid;
    m.change_id = dpid * 10 + 1;
    uint8_t buf[64];
    size_t n = dpf__dp_notification__pack(&m, buf);
    return publish("dpn", dpid, buf, n, corr);
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &l) != 0)
        return -1;
    close(fd);
    return ntohs(a.sin_port);
}

static pid_t spawn(char *const argv[], const char *log, const char *const *env,
                   const char *const *extra)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    for (int i = 0; env != NULL && env[i] != NULL; i += 2)
        setenv(env[i], env[i + 1], 1);
    for (int i = 0; extra != NULL && extra[i] != NULL; i += 2)
        setenv(extra[i], extra[i + 1], 1);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    execvp(argv[0], argv);
    _exit(127);
}

int dmt_stop(pid_t pid)
{
    return dpf_test_stop(pid, 20000);
}

pid_t dmt_start_distmgr(const char *replica, const char *log, const char *const *extra_env)
{
    char comps[128], stepkey[128];
    snprintf(comps, sizeof comps, "%s/components", dmt_tmp);
    snprintf(stepkey, sizeof stepkey, "%s/step.key", dmt_tmp); /* made by dmt_setup */
    const char *env[] = {
        "DPFLEET_STEP_SIGNING_KEY", stepkey,
        "DATABASE_URL", g_url,
        "NATS_URL", g_nats_url,
        "DPFLEET_COMPONENTS_DIR", comps,
        "DPFLEET_DP_UPGRADE_THREAD_LIMIT", "2",
        "DPFLEET_INSTALL_RETRY_DELAY_SECONDS", "1",
        "DPFLEET_AGENT_STEP_TIMEOUT_SECONDS", "5",
        "DPFLEET_RECONCILE_INTERVAL_SECONDS", "3600",
        "DPFLEET_REPLICA_NAME", replica,
        "DPFLEET_SYSTEM_NAME", "PS1SITE.CONTOSO.COM",
        NULL,
    };
    char *argv[] = {(char *)DM_BIN, NULL};
    return spawn(argv, log, env, extra_env);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f != NULL) {
        fputs(text, f);
        fclose(f);
    }
}

/* Two component files whose SHA-256 (sha256sum) is known, a manifest, a
 * signature the fake agent does not check. */
static void make_components(void)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/components", dmt_tmp);
    mkdir(dir, 0755);
    write_file(dir, "smsdpprov", "hello\n");
    write_file(dir, "smsfileisapi", "");
    write_file(dir, "MANIFEST",
               "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03  smsdpprov\n"
               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  smsfileisapi\n");
    write_file(dir, "MANIFEST.sig", "not checked by the fake agent");
}

static int g_nats_port;

/* nats-server on g_nats_port with its store in the scratch dir. */
static void start_nats(void)
{
    char port_s[16], store[128], nlog[128];
    snprintf(port_s, sizeof port_s, "%d", g_nats_port);
    snprintf(store, sizeof store, "%s/nats", dmt_tmp);
    snprintf(nlog, sizeof nlog, "%s/nats.log", dmt_tmp);
    char *nargv[] = {"nats-server", "-js", "-a", "127.0.0.1", "-p", port_s, "-sd", store, NULL};
    g_nats_pid = spawn(nargv, nlog, NULL, NULL);
}

const char *dmt_nats_url(void)
{
    return g_nats_url;
}

int dmt_kill_nats(void)
{
    if (g_nats_pid <= 0)
        return -1;
    kill(g_nats_pid, SIGKILL);
    waitpid(g_nats_pid, NULL, 0);
    g_nats_pid = 0;
    return 0;
}

int dmt_start_nats(void)
{
    start_nats();
    /* back when a plain TCP connect succeeds */
    for (int i = 0; i < 100; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_nats_port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
        if (fd >= 0)
            close(fd);
        if (ok)
            return 0;
        usleep(50 * 1000);
    }
    return -1;
}

int dmt_setup(const char *name)
{
    if (dpf_test_db_create(name, g_url, sizeof g_url) != 0)
        return -1;
    snprintf(dmt_tmp, sizeof dmt_tmp, "/tmp/dm_it_XXXXXX");
    if (mkdtemp(dmt_tmp) == NULL)
        return -1;
    make_components();
    /* distmgr signs every agent request (issue 9): its key, 0600 */
    char key[128], pub[128], err[256];
    snprintf(key, sizeof key, "%s/step.key", dmt_tmp);
    snprintf(pub, sizeof pub, "%s/step.pub", dmt_tmp);
    if (dpf_stepsig_keygen(key, pub, err, sizeof err) != DPF_OK) {
        fprintf(stderr, "FAIL: %s\n", err);
        return -1;
    }

    g_nats_port = free_port();
    snprintf(g_nats_url, sizeof g_nats_url, "nats://127.0.0.1:%d", g_nats_port);
    start_nats();
    char nlog[128];
    snprintf(nlog, sizeof nlog, "%s/nats.log", dmt_tmp);
    for (int i = 0; i < 100 && dmt_bus == NULL; i++) {
        usleep(100 * 1000);
        if (dpf_bus_connect(g_nats_url, "test_distmgr", &dmt_bus) != DPF_OK)
            dmt_bus = NULL;
    }
    if (dmt_bus == NULL) {
        fprintf(stderr, "FAIL: nats-server did not start on %s (see %s)\n", g_nats_url, nlog);
        return -1;
    }
    if (dpf_bus_ensure_streams(dmt_bus) != DPF_OK)
        return -1;
    return dpf_db_connect(g_url, &dmt_db) == DPF_OK ? 0 : -1;
}

void dmt_teardown(const char *name)
{
    dpf_bus_destroy(dmt_bus);
    dmt_bus = NULL;
    dpf_db_destroy(dmt_db);
    dmt_db = NULL;
    if (g_nats_pid > 0) {
        kill(g_nats_pid, SIGTERM);
        waitpid(g_nats_pid, NULL, 0);
        g_nats_pid = 0;
    }
    dpf_test_db_drop(name);
    if (dmt_tmp[0] == '\0')
        return;
    if (getenv("DPF_TEST_KEEP") == NULL) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dmt_tmp);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dmt_tmp);
    } else {
        fprintf(stderr, "kept %s (distmgr logs)\n", dmt_tmp);
    }
}

int dmt_mark_removed(long long dpid)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", dpid);
    const char *p[] = {id};
    dpf_status st = dpf_db_begin(dmt_db);
    if (st == DPF_OK)
        st = dpf_db_exec(dmt_db, "UPDATE distribution_points SET action = 3, state = 0, "
                         "updated_at = now() WHERE dpid = $1::bigint", 1, p, NULL);
    if (st == DPF_OK)
        st = dpf_db_exec(dmt_db, "INSERT INTO dp_notification (dpid) VALUES ($1::bigint)", 1, p,
                         NULL);
    if (st == DPF_OK)
        st = dpf_db_commit(dmt_db);
    if (st != DPF_OK) {
        fprintf(stderr, "marking DPID %s for removal: %s\n", id, dpf_db_error(dmt_db));
        dpf_db_rollback(dmt_db);
        return -1;
    }
    return 0;
}

static const char *const INSTALL_ORDER[] = {
    "install_files", "create_shares", "enable_http", "register_provider", "configure_vdirs",
    "write_settings", "configure_pxe",
};
static const char REMOVE_ORDER[] =
    "remove_pxe,remove_tasks,remove_pulldp,unregister_provider,remove_shares,remove_vdirs,"
    "remove_settings";

static int logs_count(const char *const *logs, int nlogs, const char *needle)
{
    int n = 0;
    for (int i = 0; i < nlogs; i++)
        n += dmt_log_count(logs[i], needle);
    return n;
}

void dmt_install_meets_removal(struct fake_agent *fa, const char *srv, const char *const *logs,
                               int nlogs)
{
    char corr[64], ids[24], steps[1024], line[256];
    fa_set_delay(fa, 300);
    fa_reset_max(fa);
    long long id = dmt_insert_dp(srv, 0, 0, "", 0);
    assert_true(id > 0);
    snprintf(ids, sizeof ids, "%lld", id);
    snprintf(corr, sizeof corr, "corr-ins-%lld", id);
    assert_int_equal(dmt_publish_ins(id, "insert", corr), 0);
    /* the install is running: its second step is on the host */
    for (int i = 0; i < 400 && fa_count(fa, srv, NULL) < 2; i++)
        usleep(25 * 1000);
    assert_int_equal(fa_count(fa, srv, NULL), 2);
    char owner[400];
    dmt_sql_text("SELECT coalesce(lease_owner, '') FROM distribution_points WHERE dpid = "
                 "$1::bigint", ids, owner, sizeof owner);
    assert_non_null(strchr(owner, '/'));

    assert_int_equal(dmt_mark_removed(id), 0);
    snprintf(corr, sizeof corr, "corr-dpn-%lld", id);
    assert_int_equal(dmt_publish_dpn(id, corr), 0);
    assert_true(dmt_wait_text("SELECT count(*)::text FROM distribution_points WHERE dpid = "
                              "$1::bigint", ids, "0", 40000));
    fa_set_delay(fa, 0);

    /* on the host: some install steps in their order, then every removal step */
    fa_steps(fa, srv, steps, sizeof steps);
    fprintf(stderr, "steps on %s: %s\n", srv, steps);
    char *rm = strstr(steps, "remove_pxe");
    assert_non_null(rm);
    assert_string_equal(rm, REMOVE_ORDER);
    assert_true(rm > steps);
    rm[-1] = '\0';
    char *save = NULL;
    int n = 0;
    for (char *s = strtok_r(steps, ",", &save); s != NULL; s = strtok_r(NULL, ",", &save), n++) {
        assert_true(n < (int)(sizeof INSTALL_ORDER / sizeof INSTALL_ORDER[0]));
        assert_string_equal(s, INSTALL_ORDER[n]);
    }
    assert_true(n >= 2);
    assert_int_equal(fa_max_inflight_per_host(fa), 1);

    /* the removal waited for the install's job, which gave way between two steps */
    snprintf(line, sizeof line, "DPID %lld is being worked on by ", id);
    assert_true(logs_count(logs, nlogs, line) >= 1);
    snprintf(line, sizeof line, "DPID %lld was marked for removal (Action = 3) during the "
             "install; stopped before step ", id);
    assert_int_equal(logs_count(logs, nlogs, line), 1);
    assert_int_equal(dmt_sql_int("SELECT count(*) FROM status_messages WHERE msg_id = 2391 AND "
                                 "istr[2] = $1", srv), 1);
    assert_int_equal(dmt_sql_int("SELECT count(*) FROM status_messages WHERE msg_id = 2399 AND "
                                 "istr[2] = $1", srv), 0);
}

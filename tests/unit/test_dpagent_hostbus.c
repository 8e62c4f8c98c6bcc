/* hostbus.c: a DP host's own NATS identity. etc/nats.auth is parsed
 * strictly (user= and password= once each, nothing else), must be the
 * agent's own and 0600, and a refusal never echoes the password; a host
 * root holding a refused file, or both nats.creds and nats.auth, is served
 * on the process identity without any connection being tried. A real
 * nats-server with a user and password accepts the host with its file and
 * refuses it with a wrong password. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hostbus.h"

static char g_root[64];

static dpf_status parse(const char *text, dpa_hostbus_auth *a, char *err, size_t errlen)
{
    return dpa_hostbus_parse_auth(text, strlen(text), a, err, errlen);
}

static void good_files(void **state)
{
    (void)state;
    dpa_hostbus_auth a;
    char err[256] = "";
    assert_int_equal(parse("user=PS1DP1\npassword=s3cret p@ss=word\n", &a, err, sizeof err),
                     DPF_OK);
    assert_string_equal(a.user, "PS1DP1");
    assert_string_equal(a.password, "s3cret p@ss=word"); /* the first '=' splits */
    assert_int_equal(parse("# issued for PS1DP1\n\npassword=x\nuser=u", &a, err, sizeof err),
                     DPF_OK); /* comments, blank lines, any order, no final newline */
    assert_string_equal(a.user, "u");
    assert_string_equal(a.password, "x");
    dpa_hostbus_auth_wipe(&a);
    assert_string_equal(a.password, "");
}

/* text is refused with DPF_ERR_INVALID, err naming want, never the secret */
static void refused(const char *text, size_t len, const char *want)
{
    dpa_hostbus_auth a;
    char err[256] = "";
    memset(&a, 'x', sizeof a);
    dpf_status st = dpa_hostbus_parse_auth(text, len, &a, err, sizeof err);
    if (st != DPF_ERR_INVALID || strstr(err, want) == NULL)
        fail_msg("\"%.*s\": status %d, error \"%s\", expected one with \"%s\"", (int)len, text,
                 (int)st, err, want);
    if (strstr(err, "hunter2") != NULL)
        fail_msg("the error \"%s\" shows the password", err);
    assert_string_equal(a.password, ""); /* nothing half read is left */
    assert_string_equal(a.user, "");
}

static void bad_files(void **state)
{
    (void)state;
    static const char nul[] = "user=u\npassword=hun\0ter2\n";
    static const char long_user[] = "user=%0300d\npassword=hunter2\n";
    char big[400];
    snprintf(big, sizeof big, long_user, 7);
#define R(text, want) refused(text, strlen(text), want)
    R("user=u\npassword=hunter2\ntoken=abc\n", "line 3: unknown key");
    R("user=u\nPassword=hunter2\n", "line 2: unknown key");
    R(" user=u\npassword=hunter2\n", "line 1: unknown key");
    R("user =u\npassword=hunter2\n", "line 1: unknown key");
    R("user=u\nuser=v\npassword=hunter2\n", "line 2: user= given twice");
    R("user=u\n", "no password= line");
    R("password=hunter2\n", "no user= line");
    R("", "no user= line");
    R("user=\npassword=hunter2\n", "line 1: the user must be 1 to 255 bytes");
    R("user=u\npassword hunter2\n", "line 2: not a key=value line");
    R("user=u\r\npassword=hunter2\r\n", "line 1: the user holds a control character");
    R("user=u\npassword=hunter2 \n", "line 2: blanks around the password");
    R("user=u\npassword= hunter2\n", "line 2: blanks around the password");
    R("user=u\npassword=hun\tter2\n", "line 2: the password holds a control character");
    R(big, "line 1: the user must be 1 to 255 bytes");
    refused(nul, sizeof nul - 1, "line 2: the password holds a control character");
#undef R
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static void file_checks(void **state)
{
    (void)state;
    char path[128], err[256] = "";
    dpa_hostbus_auth a;
    snprintf(path, sizeof path, "%s/etc/nats.auth", g_root);
    assert_int_equal(dpa_hostbus_read_auth(path, &a, err, sizeof err), DPF_ERR_NOT_FOUND);
    write_file(path, "user=PS1DP1\npassword=hunter2\n", 0600);
    assert_int_equal(dpa_hostbus_read_auth(path, &a, err, sizeof err), DPF_OK);
    assert_string_equal(a.user, "PS1DP1");
    assert_string_equal(a.password, "hunter2");
    dpa_hostbus_auth_wipe(&a);
    assert_int_equal(chmod(path, 0400), 0); /* stricter is fine */
    assert_int_equal(dpa_hostbus_read_auth(path, &a, err, sizeof err), DPF_OK);
    dpa_hostbus_auth_wipe(&a);
    static const mode_t loose[] = {0640, 0604, 0660, 0644, 0606};
    for (size_t i = 0; i < sizeof loose / sizeof *loose; i++) {
        char want[32];
        assert_int_equal(chmod(path, loose[i]), 0);
        assert_int_equal(dpa_hostbus_read_auth(path, &a, err, sizeof err), DPF_ERR_INVALID);
        snprintf(want, sizeof want, "mode %03o", (unsigned)loose[i]);
        assert_non_null(strstr(err, want));
        assert_non_null(strstr(err, "must be 0600"));
        assert_string_equal(a.password, "");
    }
    char big[DPA_AUTH_FILE_MAX + 64];
    memset(big, '#', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    write_file(path, big, 0600);
    assert_int_equal(dpa_hostbus_read_auth(path, &a, err, sizeof err), DPF_ERR_INVALID);
    assert_non_null(strstr(err, "larger than 4096 bytes"));
    write_file(path, "user=u\npassword=hunter2\nextra=1\n", 0600);
    assert_int_equal(dpa_hostbus_read_auth(path, &a, err, sizeof err), DPF_ERR_INVALID);
    assert_non_null(strstr(err, "line 3: unknown key"));
    unlink(path);
    snprintf(path, sizeof path, "%s/etc", g_root);
    assert_int_equal(dpa_hostbus_read_auth(path, &a, err, sizeof err), DPF_ERR_INVALID);
    assert_non_null(strstr(err, "not a regular file"));
}

/* No NATS server here: every case must be decided before a connection. */
static void refused_roots_use_the_process_identity(void **state)
{
    (void)state;
    char auth[128], creds[128];
    dpf_bus *bus = (dpf_bus *)&bus; /* must be reset to NULL */
    snprintf(auth, sizeof auth, "%s/etc/nats.auth", g_root);
    snprintf(creds, sizeof creds, "%s/etc/nats.creds", g_root);
    const char *url = "nats://127.0.0.1:1";
    assert_int_equal(dpa_hostbus_connect(url, "PS1DP1.CONTOSO.COM", g_root, &bus), 0);
    assert_null(bus);
    write_file(auth, "user=PS1DP1\npassword=hunter2\n", 0644);
    assert_int_equal(dpa_hostbus_connect(url, "PS1DP1.CONTOSO.COM", g_root, &bus), 0);
    assert_null(bus);
    write_file(auth, "user=PS1DP1\npassword=hunter2\nsecret=1\n", 0600);
    assert_int_equal(dpa_hostbus_connect(url, "PS1DP1.CONTOSO.COM", g_root, &bus), 0);
    write_file(auth, "user=PS1DP1\npassword=hunter2\n", 0600);
    write_file(creds, "not read: both files refuse the host\n", 0600);
    assert_int_equal(dpa_hostbus_connect(url, "PS1DP1.CONTOSO.COM", g_root, &bus), 0);
    assert_null(bus);
    unlink(auth);
    unlink(creds);
}

/* a free loopback port (bound, then released for nats-server) */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    close(fd);
    return ntohs(a.sin_port);
}

static int port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static void connects_to_a_password_server(void **state)
{
    (void)state;
    char auth[128], url[64], portarg[16];
    int port = free_port();
    assert_true(port > 0);
    snprintf(portarg, sizeof portarg, "%d", port);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        freopen("/dev/null", "w", stdout);
        freopen("/dev/null", "w", stderr);
        execlp("nats-server", "nats-server", "-a", "127.0.0.1", "-p", portarg, "--user",
               "PS1DP1", "--pass", "hunter2", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100 && !port_open(port); i++) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    assert_true(port_open(port));
    snprintf(url, sizeof url, "nats://127.0.0.1:%d", port);
    snprintf(auth, sizeof auth, "%s/etc/nats.auth", g_root);
    write_file(auth, "user=PS1DP1\npassword=hunter2\n", 0600);
    dpf_bus *bus = NULL;
    assert_int_equal(dpa_hostbus_connect(url, "PS1DP1.CONTOSO.COM", g_root, &bus), 1);
    assert_non_null(bus);
    assert_true(dpf_bus_connected(bus));
    dpf_bus_destroy(bus);
    write_file(auth, "user=PS1DP1\npassword=wrong\n", 0600);
    assert_int_equal(dpa_hostbus_connect(url, "PS1DP1.CONTOSO.COM", g_root, &bus), -1);
    assert_null(bus);
    unlink(auth);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

static int setup(void **state)
{
    (void)state;
    char etc[96];
    snprintf(g_root, sizeof g_root, "/tmp/test_hostbus.XXXXXX");
    if (mkdtemp(g_root) == NULL)
        return -1;
    snprintf(etc, sizeof etc, "%s/etc", g_root);
    return mkdir(etc, 0700);
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_root);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_files),
        cmocka_unit_test(bad_files),
        cmocka_unit_test(file_checks),
        cmocka_unit_test(refused_roots_use_the_process_identity),
        cmocka_unit_test(connects_to_a_password_server),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

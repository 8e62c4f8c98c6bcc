/* content_server.c: files in a virtual directory are served read-only over
 * real HTTP on an ephemeral loopback port; paths that could leave the
 * directory ("..", encoded NUL, absolute paths, links) are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "content_server.h"
#include "contentlib.h"
#include "pkglib.h"
#include "fsutil.h"

static char g_tmp[256];

/* One raw HTTP/1.0 request; returns the status code, body into body. */
static int http_get(int port, const char *method, const char *path, char *body, size_t len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    char req[1024];
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.0\r\nHost: x\r\n\r\n", method, path);
    assert_int_equal(write(fd, req, (size_t)n), n);
    char resp[8192];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof resp - 1 && (r = read(fd, resp + got, sizeof resp - 1 - got)) > 0)
        got += (size_t)r;
    resp[got] = '\0';
    close(fd);
    int code = 0;
    sscanf(resp, "HTTP/1.%*d %d", &code);
    const char *b = strstr(resp, "\r\n\r\n");
    snprintf(body, len, "%s", b ? b + 4 : "");
    return code;
}

static void rel_paths(void **state)
{
    (void)state;
    assert_true(dpa_http_rel_safe("PkgLib/PS100002.INI"));
    assert_true(dpa_http_rel_safe("a"));
    assert_true(dpa_http_rel_safe("a..b/c"));
    const char *bad[] = {"", "/etc/passwd", "../x", "a/../b", "a/..", "./a", "a//b", "a/",
                         "a\\b", "a\x01", NULL};
    for (size_t i = 0; bad[i] != NULL; i++)
        assert_false(dpa_http_rel_safe(bad[i]));
    assert_false(dpa_http_rel_safe(NULL));
}

static void serves_and_refuses(void **state)
{
    (void)state;
    snprintf(g_tmp, sizeof g_tmp, "/tmp/test_dpagent_http.XXXXXX");
    assert_non_null(mkdtemp(g_tmp));
    char lib[512], file[1024], secret[512], link[1024];
    snprintf(lib, sizeof lib, "%s/SCCMContentLib$/PkgLib", g_tmp);
    assert_int_equal(dpa_fs_mkdirs(lib, 0755, NULL), DPF_OK);
    snprintf(file, sizeof file, "%s/PS100002.INI", lib);
    assert_int_equal(dpa_fs_write_atomic(file, "[Packages]\n", 11, 0644, NULL), DPF_OK);
    snprintf(secret, sizeof secret, "%s/secret", g_tmp);
    assert_int_equal(dpa_fs_write_atomic(secret, "top secret\n", 11, 0644, NULL), DPF_OK);
    snprintf(link, sizeof link, "%s/escape", lib);
    assert_int_equal(symlink(secret, link), 0);

    dpa_http *h = NULL;
    char err[256], body[4096];
    assert_int_equal(dpa_http_start("127.0.0.1", 0, &h, err, sizeof err), DPF_OK);
    int port = dpa_http_port(h);
    assert_true(port > 0);

    /* no table yet: nothing is served */
    assert_int_equal(http_get(port, "GET", "/SMS_DP_SMSSIG$/PkgLib/PS100002.INI", body,
                              sizeof body), 404);

    char dir[512];
    snprintf(dir, sizeof dir, "%s/SCCMContentLib$", g_tmp);
    const char *names[] = {"SMS_DP_SMSSIG$"};
    const char *dirs[] = {dir};
    assert_int_equal(dpa_http_set_vdirs(h, names, dirs, 1), DPF_OK);

    assert_int_equal(http_get(port, "GET", "/SMS_DP_SMSSIG$/PkgLib/PS100002.INI", body,
                              sizeof body), 200);
    assert_string_equal(body, "[Packages]\n");
    assert_int_equal(http_get(port, "GET", "/SMS_DP_SMSSIG%24/PkgLib/PS100002.INI", body,
                              sizeof body), 200);
    assert_int_equal(http_get(port, "GET", "/SMS_DP_SMSSIG$/PkgLib/missing", body, sizeof body),
                     404);
    assert_int_equal(http_get(port, "GET", "/SMS_DP_SMSSIG$/PkgLib", body, sizeof body), 404);
    assert_int_equal(http_get(port, "GET", "/OTHER$/PkgLib/PS100002.INI", body, sizeof body),
                     404);

    const char *attacks[] = {"/SMS_DP_SMSSIG$/../secret", "/SMS_DP_SMSSIG$/PkgLib/../../secret",
                             "/SMS_DP_SMSSIG$/%2e%2e/secret", "/SMS_DP_SMSSIG$/%2E%2E%2Fsecret",
                             "/SMS_DP_SMSSIG$//etc/passwd", "/SMS_DP_SMSSIG$/PkgLib/PS100002.INI%00x",
                             "/SMS_DP_SMSSIG$/PkgLib%5c..%5c..%5csecret"};
    for (size_t i = 0; i < sizeof attacks / sizeof attacks[0]; i++) {
        int code = http_get(port, "GET", attacks[i], body, sizeof body);
        assert_true(code == 400 || code == 404);
        assert_null(strstr(body, "top secret"));
    }
    /* a link inside the library that leads out is not followed */
    assert_int_equal(http_get(port, "GET", "/SMS_DP_SMSSIG$/PkgLib/escape", body, sizeof body),
                     404);
    /* read-only */
    assert_int_equal(http_get(port, "DELETE", "/SMS_DP_SMSSIG$/PkgLib/PS100002.INI", body,
                              sizeof body), 405);
    assert_int_equal(http_get(port, "PUT", "/SMS_DP_SMSSIG$/PkgLib/new", body, sizeof body), 405);
    assert_true(dpa_fs_is_file(file));

    dpa_http_stop(h);
    dpa_http_stop(NULL);
    assert_int_equal(dpa_http_start("not-an-ip", 0, &h, err, sizeof err), DPF_ERR_INVALID);
    assert_int_equal(dpa_fs_rmtree(g_tmp, NULL), DPF_OK);
}

static void store(const char *lib, const char *data, char sha[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    char err[512];
    int64_t held = 0;
    int stored = 0;
    size_t len = strlen(data);
    assert_int_equal(EVP_Digest(data, len, md, &n, EVP_sha256(), NULL), 1);
    for (int i = 0; i < 32; i++)
        snprintf(sha + 2 * i, 3, "%02x", md[i]);
    assert_int_equal(dpa_clib_put(lib, sha, (int64_t)len, 0, data, len, &held, &stored, err,
                                  sizeof err), DPF_OK);
}

static void serves_packages_from_pkglib(void **state)
{
    (void)state;
    snprintf(g_tmp, sizeof g_tmp, "/tmp/test_dpagent_http.XXXXXX");
    assert_non_null(mkdtemp(g_tmp));
    char lib[512], a[65], b[65], c[65], err[512], body[4096], url[512];
    snprintf(lib, sizeof lib, "%s/SCCMContentLib$", g_tmp);
    assert_int_equal(dpa_fs_mkdirs(lib, 0755, NULL), DPF_OK);
    store(lib, "alpha\n", a);
    store(lib, "beta v1\n", b);
    dpa_clib_file v1[] = {{"dir/a b.txt", a, 6}, {"b.txt", b, 8}};
    dpa_pkglib_result res;
    assert_int_equal(dpa_pkglib_install(lib, "PS100001", 1, v1, 2, &res, err, sizeof err),
                     DPF_OK);
    store(lib, "in FileLib, in no package\n", c);

    dpa_http *h = NULL;
    assert_int_equal(dpa_http_start("127.0.0.1", 0, &h, err, sizeof err), DPF_OK);
    int port = dpa_http_port(h);
    const char *names[] = {"SMS_DP_SMSPKG$", "NOCERT_SMS_DP_SMSPKG$"};
    const char *dirs[] = {lib, lib};
    assert_true(dpa_http_is_pkg_vdir("SMS_DP_SMSPKG$"));
    assert_false(dpa_http_is_pkg_vdir("SMS_DP_SMSSIG$"));
    assert_int_equal(dpa_http_set_vdirs(h, names, dirs, 2), DPF_OK);

    assert_int_equal(http_get(port, "GET", "/SMS_DP_SMSPKG$/PS100001/dir/a%20b.txt", body,
                              sizeof body), 200);
    assert_string_equal(body, "alpha\n");
    assert_int_equal(http_get(port, "GET", "/NOCERT_SMS_DP_SMSPKG$/ps100001/b.txt", body,
                              sizeof body), 200);
    assert_string_equal(body, "beta v1\n");
    assert_int_equal(http_get(port, "HEAD", "/SMS_DP_SMSPKG$/PS100001/b.txt", body, sizeof body),
                     200);
    /* what the host does not hold, and the library's own files, are 404 */
    snprintf(url, sizeof url, "/SMS_DP_SMSPKG$/FileLib/%.4s/%s", c, c);
    const char *absent[] = {"/SMS_DP_SMSPKG$/PS100001/c.txt", "/SMS_DP_SMSPKG$/PS100002/b.txt",
                            "/SMS_DP_SMSPKG$/PS100001", "/SMS_DP_SMSPKG$/PS100001/dir",
                            "/SMS_DP_SMSPKG$/PkgLib/PS100001.INI",
                            "/SMS_DP_SMSPKG$/DataLib/PS100001.1.INI", url,
                            "/SMS_DP_SMSPKG$/NOTAPKG!/b.txt"};
    for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++) {
        if (http_get(port, "GET", absent[i], body, sizeof body) != 404)
            fail_msg("%s is not 404", absent[i]);
    }
    /* encoded separators never reach the lookup */
    const char *bad[] = {"/SMS_DP_SMSPKG$/PS100001/dir%2Fa%20b.txt",
                         "/SMS_DP_SMSPKG$/PS100001/dir%2fa%20b.txt",
                         "/SMS_DP_SMSPKG$/PS100001/dir%5Ca%20b.txt",
                         "/SMS_DP_SMSPKG$/PS100001%2F..%2F..%2FPkgLib/PS100001.INI",
                         "/SMS_DP_SMSPKG$/PS100001/../PS100001/b.txt",
                         "/SMS_DP_SMSPKG$/PS100001/b.txt%00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (http_get(port, "GET", bad[i], body, sizeof body) != 400)
            fail_msg("%s is not 400", bad[i]);
    }

    /* version 2 replaces b.txt: the server follows PkgLib */
    char b2[65];
    store(lib, "beta v2!\n", b2);
    dpa_clib_file v2[] = {{"dir/a b.txt", a, 6}, {"b.txt", b2, 9}};
    assert_int_equal(dpa_pkglib_install(lib, "PS100001", 2, v2, 2, &res, err, sizeof err),
                     DPF_OK);
    assert_int_equal(http_get(port, "GET", "/SMS_DP_SMSPKG$/PS100001/b.txt", body, sizeof body),
                     200);
    assert_string_equal(body, "beta v2!\n");
    assert_int_equal(dpa_pkglib_remove(lib, "PS100001", &res, err, sizeof err), DPF_OK);
    assert_int_equal(http_get(port, "GET", "/SMS_DP_SMSPKG$/PS100001/b.txt", body, sizeof body),
                     404);
    dpa_http_stop(h);
    assert_int_equal(dpa_fs_rmtree(g_tmp, NULL), DPF_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rel_paths),
        cmocka_unit_test(serves_and_refuses),
        cmocka_unit_test(serves_packages_from_pkglib),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for the provider's HTTPS set-up (services/provider/tls.c):
 * certificates and keys made with the openssl command in a temporary
 * directory; a missing file, garbage, an encrypted key, a key of another
 * certificate and a certificate without its key are each refused with a
 * log line naming the file; a good pair gives libmicrohttpd its TLS flag and
 * options; a key file every user can read is served with a warning. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <dpf/log.h>

#include "dpf_capture.h"
#include "tls.h"

static char g_dir[64];
static char g_cert[128], g_key[128], g_key2[128], g_enc[128], g_junk[128];

static void sh(const char *cmd)
{
    if (system(cmd) != 0)
        fail_msg("command failed: %s", cmd);
}

static int setup(void **state)
{
    (void)state;
    dpf_log_init("PROV");
    dpf_log_set_level(DPF_LOG_INFO);
    snprintf(g_dir, sizeof g_dir, "/tmp/dpf-tls-test.XXXXXX");
    if (mkdtemp(g_dir) == NULL)
        return -1;
    snprintf(g_cert, sizeof g_cert, "%s/cert.pem", g_dir);
    snprintf(g_key, sizeof g_key, "%s/key.pem", g_dir);
    snprintf(g_key2, sizeof g_key2, "%s/other.key", g_dir);
    snprintf(g_enc, sizeof g_enc, "%s/enc.key", g_dir);
    snprintf(g_junk, sizeof g_junk, "%s/junk.pem", g_dir);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
             "-keyout key.pem -out cert.pem -days 2 -subj /CN=localhost "
             "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null && "
             "openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out other.key 2>/dev/null && "
             "openssl pkey -in key.pem -aes256 -passout pass:secret -out enc.key 2>/dev/null && "
             "printf 'this is not a certificate\\n' >junk.pem && chmod 600 key.pem other.key enc.key",
             g_dir);
    sh(cmd);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    sh(cmd);
    return 0;
}

/* prov_tls_load with the log captured; *log owned by the caller. */
static dpf_status load(const char *cert, const char *key, prov_tls **t, char **log)
{
    dpf_capture_begin();
    dpf_status st = prov_tls_load(cert, key, t);
    *log = dpf_capture_end();
    return st;
}

static void refused(const char *cert, const char *key, const char *want1, const char *want2)
{
    prov_tls *t = (prov_tls *)1;
    char *log = NULL;
    assert_int_not_equal(load(cert, key, &t, &log), DPF_OK);
    assert_null(t);
    if (strstr(log, want1) == NULL || (want2 && strstr(log, want2) == NULL))
        fail_msg("log lacks '%s' / '%s': %s", want1, want2 ? want2 : "", log);
    free(log);
}

static void test_plain_http(void **state)
{
    (void)state;
    prov_tls *t = (prov_tls *)1;
    char *log = NULL;
    assert_int_equal(load(NULL, "", &t, &log), DPF_OK);
    assert_null(t);
    free(log);
    assert_string_equal(prov_tls_scheme(NULL), "http");
    assert_int_equal(prov_tls_mhd_flags(NULL), 0);
    struct MHD_OptionItem opts[PROV_TLS_MHD_OPTS];
    prov_tls_mhd_options(NULL, opts);
    assert_int_equal(opts[0].option, MHD_OPTION_END);
    prov_tls_free(NULL);
}

static void test_one_without_the_other(void **state)
{
    (void)state;
    refused(g_cert, NULL, "DPFLEET_TLS_CERT (--tls-cert) is set but DPFLEET_TLS_KEY", NULL);
    refused("", g_key, "DPFLEET_TLS_KEY (--tls-key) is set but DPFLEET_TLS_CERT", NULL);
}

static void test_bad_files(void **state)
{
    (void)state;
    char missing[160];
    snprintf(missing, sizeof missing, "%s/nope.pem", g_dir);
    refused(missing, g_key, missing, "No such file");
    refused(g_cert, missing, missing, "No such file");
    refused(g_dir, g_key, g_dir, "not a regular file");
    refused(g_junk, g_key, g_junk, "is not a PEM certificate");
    refused(g_cert, g_junk, g_junk, "is not a PEM private key");
    refused(g_key, g_cert, g_key, "is not a PEM certificate"); /* swapped */
    refused(g_cert, g_enc, g_enc, "encrypted private key");
    refused(g_cert, g_key2, g_key2, "does not belong to the certificate");
}

static void test_good_pair(void **state)
{
    (void)state;
    prov_tls *t = NULL;
    char *log = NULL;
    assert_int_equal(load(g_cert, g_key, &t, &log), DPF_OK);
    assert_non_null(t);
    assert_non_null(strstr(log, "CN=localhost"));
    assert_null(strstr(log, "readable by every user"));
    assert_null(strstr(log, "PRIVATE KEY")); /* the key is never logged */
    free(log);
    assert_string_equal(prov_tls_scheme(t), "https");
    assert_int_equal(prov_tls_mhd_flags(t), MHD_USE_TLS);
    struct MHD_OptionItem opts[PROV_TLS_MHD_OPTS];
    prov_tls_mhd_options(t, opts);
    assert_int_equal(opts[0].option, MHD_OPTION_HTTPS_MEM_CERT);
    assert_non_null(strstr(opts[0].ptr_value, "BEGIN CERTIFICATE"));
    assert_int_equal(opts[1].option, MHD_OPTION_HTTPS_MEM_KEY);
    assert_non_null(strstr(opts[1].ptr_value, "PRIVATE KEY"));
    assert_int_equal(opts[2].option, MHD_OPTION_HTTPS_PRIORITIES);
    assert_int_equal(opts[3].option, MHD_OPTION_END);
    prov_tls_free(t);
}

static void test_world_readable_key_warns(void **state)
{
    (void)state;
    assert_int_equal(chmod(g_key, 0644), 0);
    prov_tls *t = NULL;
    char *log = NULL;
    assert_int_equal(load(g_cert, g_key, &t, &log), DPF_OK);
    assert_non_null(t);
    assert_non_null(strstr(log, " W PROV "));
    assert_non_null(strstr(log, "readable by every user"));
    assert_non_null(strstr(log, g_key));
    free(log);
    prov_tls_free(t);
    assert_int_equal(chmod(g_key, 0600), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_http),
        cmocka_unit_test(test_one_without_the_other),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_good_pair),
        cmocka_unit_test(test_world_readable_key_warns),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

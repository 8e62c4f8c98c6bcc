/* distmgr components: loading the DP component files with their manifest
 * and signature, and refusing a directory that would make every
 * install_files step fail (missing file, wrong hash, bad line, unsafe
 * name, no signature). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "components.h"

static char g_dir[64];

static void put(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void sha_hex(const char *text, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(text, strlen(text), md, &n, EVP_sha256(), NULL);
    for (unsigned i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
}

/* smsdpprov + smsfileisapi, a manifest in sha256sum's format, a signature */
static int setup(void **state)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/dm_comp_XXXXXX");
    if (mkdtemp(g_dir) == NULL)
        return -1;
    char a[65], b[65], manifest[300];
    put("smsdpprov", "provider v1\n");
    put("smsfileisapi", "isapi v1\n");
    sha_hex("provider v1\n", a);
    sha_hex("isapi v1\n", b);
    snprintf(manifest, sizeof manifest, "%s  smsdpprov\n%s  smsfileisapi\n", a, b);
    put("MANIFEST", manifest);
    put("MANIFEST.sig", "0123456789abcdef");
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_loads(void **state)
{
    dm_components *c = NULL;
    char err[256] = "";
    assert_int_equal(dm_components_load(g_dir, &c, err, sizeof err), DPF_OK);
    assert_string_equal(dm_components_dir(c), g_dir);
    assert_int_equal(dm_components_count(c), 2);
    assert_string_equal(dm_components_name(c, 0), "smsdpprov");
    assert_string_equal(dm_components_name(c, 1), "smsfileisapi");
    assert_null(dm_components_name(c, 2));
    size_t len = 0;
    const unsigned char *d = dm_components_data(c, 1, &len);
    assert_int_equal(len, strlen("isapi v1\n"));
    assert_memory_equal(d, "isapi v1\n", len);
    const unsigned char *sig = dm_components_signature(c, &len);
    assert_int_equal(len, 16);
    assert_memory_equal(sig, "0123456789abcdef", 16);
    size_t mlen = 0;
    const unsigned char *m = dm_components_manifest(c, &mlen);
    assert_int_equal(mlen, 2 * (64 + 2) + strlen("smsdpprov\n") + strlen("smsfileisapi\n"));
    assert_non_null(memchr(m, '\n', mlen));
    assert_int_equal(dm_components_total_bytes(c),
                     strlen("provider v1\n") + strlen("isapi v1\n") + mlen + 16);
    dm_components_destroy(c);
    dm_components_destroy(NULL);
}

static void expect_refused(dpf_status want, const char *err_has)
{
    dm_components *c = NULL;
    char err[512] = "";
    assert_int_equal(dm_components_load(g_dir, &c, err, sizeof err), want);
    assert_null(c);
    if (strstr(err, err_has) == NULL)
        fail_msg("error '%s' does not mention '%s'", err, err_has);
}

static void test_hash_mismatch(void **state)
{
    put("smsfileisapi", "isapi v1 tampered\n");
    expect_refused(DPF_ERR_VERIFY, "smsfileisapi does not match the SHA-256");
}

static void test_missing_file(void **state)
{
    char path[256];
    snprintf(path, sizeof path, "%s/smsdpprov", g_dir);
    unlink(path);
    expect_refused(DPF_ERR_NOT_FOUND, "smsdpprov");
}

static void test_missing_signature(void **state)
{
    char path[256];
    snprintf(path, sizeof path, "%s/MANIFEST.sig", g_dir);
    unlink(path);
    expect_refused(DPF_ERR_NOT_FOUND, "MANIFEST.sig");
}

static void test_missing_dir(void **state)
{
    dm_components *c = NULL;
    char err[256] = "";
    assert_int_equal(dm_components_load("/nonexistent/dp-components", &c, err, sizeof err),
                     DPF_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "/nonexistent/dp-components/MANIFEST"));
    assert_int_equal(dm_components_load("", &c, err, sizeof err), DPF_ERR_INVALID);
    assert_null(c);
}

static void test_bad_line(void **state)
{
    put("MANIFEST", "not a hash  smsdpprov\n");
    expect_refused(DPF_ERR_INVALID, "line 1");
}

static void test_unsafe_name(void **state)
{
    char a[65], manifest[200];
    sha_hex("x\n", a);
    snprintf(manifest, sizeof manifest, "%s  ../../etc/passwd\n", a);
    put("MANIFEST", manifest);
    expect_refused(DPF_ERR_INVALID, "line 1");
}

static void test_duplicate_and_empty(void **state)
{
    char a[65], manifest[300];
    sha_hex("provider v1\n", a);
    snprintf(manifest, sizeof manifest, "%s  smsdpprov\n%s  smsdpprov\n", a, a);
    put("MANIFEST", manifest);
    expect_refused(DPF_ERR_INVALID, "twice");
    put("MANIFEST", "");
    expect_refused(DPF_ERR_INVALID, "MANIFEST is empty");
    put("MANIFEST", "\n\n");
    expect_refused(DPF_ERR_INVALID, "line 1");
}

/* The agent refuses these (dpf/manifest.h is the one format), so distmgr
 * must refuse them at startup instead of sending a set every DP rejects. */
static void test_agent_format_only(void **state)
{
    char a[65], b[65], manifest[300];
    sha_hex("provider v1\n", a);
    sha_hex("isapi v1\n", b);
    snprintf(manifest, sizeof manifest, "%s *smsdpprov\n", a);
    put("MANIFEST", manifest);
    expect_refused(DPF_ERR_INVALID, "line 1");
    snprintf(manifest, sizeof manifest, "%s  smsdpprov\r\n", a);
    put("MANIFEST", manifest);
    expect_refused(DPF_ERR_INVALID, "line 1");
    snprintf(manifest, sizeof manifest, "%s  smsfileisapi\n%s  smsdpprov\n", b, a);
    put("MANIFEST", manifest);
    expect_refused(DPF_ERR_INVALID, "out of order");
    for (char *p = a; *p; p++)
        *p = (char)(*p >= 'a' ? *p - 32 : *p);
    snprintf(manifest, sizeof manifest, "%s  smsdpprov\n", a);
    put("MANIFEST", manifest);
    expect_refused(DPF_ERR_INVALID, "line 1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_loads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hash_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_signature, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsafe_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_and_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agent_format_only, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* dp: FQDN rules, NAL path building and parsing, CRC-32 and the DP CRC. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <dpf/dp.h>

/* The NAL path of the source's DP exactly as its SQL stores it. */
static const char SOURCE_NAL[] =
    "[\"Display=\\\\PS1DP1.CONTOSO.COM\\\"]MSWNET:[\"SMS_SITE=PS1\"]\\\\PS1DP1.CONTOSO.COM\\";

static void test_nal_path_matches_source(void **state)
{
    char buf[DPF_NAL_MAX];
    assert_int_equal(dpf_nal_path("PS1DP1.CONTOSO.COM", "PS1", buf, sizeof buf), DPF_OK);
    assert_string_equal(buf, SOURCE_NAL);
    /* and literally, piece by piece, as the brief describes it */
    assert_string_equal(buf, "[\"Display=\\\\" "PS1DP1.CONTOSO.COM" "\\\"]MSWNET:[\"SMS_SITE="
                             "PS1" "\"]\\\\" "PS1DP1.CONTOSO.COM" "\\");
}

static void test_nal_path_upper_cases_server(void **state)
{
    char buf[DPF_NAL_MAX];
    assert_int_equal(dpf_nal_path("ps1dp1.contoso.com", "PS1", buf, sizeof buf), DPF_OK);
    assert_string_equal(buf, SOURCE_NAL);
}

static void test_nal_path_rejects(void **state)
{
    char buf[DPF_NAL_MAX];
    char small[20];
    assert_int_equal(dpf_nal_path("PS1DP1.CONTOSO.COM", "PS1", small, sizeof small),
                     DPF_ERR_INVALID);
    assert_string_equal(small, "");
    assert_int_equal(dpf_nal_path("", "PS1", buf, sizeof buf), DPF_ERR_INVALID);
    assert_int_equal(dpf_nal_path(NULL, "PS1", buf, sizeof buf), DPF_ERR_INVALID);
    assert_int_equal(dpf_nal_path("A\"B.COM", "PS1", buf, sizeof buf), DPF_ERR_INVALID);
    assert_int_equal(dpf_nal_path("A\\B.COM", "PS1", buf, sizeof buf), DPF_ERR_INVALID);
    assert_int_equal(dpf_nal_path("A.COM", "P\"S", buf, sizeof buf), DPF_ERR_INVALID);
}

static void test_nal_server_round_trip(void **state)
{
    static const char *const servers[] = {"PS1DP1.CONTOSO.COM", "dp-2.example.org",
                                          "A.B", "x1.y2.z3.example.com"};
    for (size_t i = 0; i < sizeof servers / sizeof servers[0]; i++) {
        char nal[DPF_NAL_MAX], back[DPF_FQDN_MAX + 1], upper[DPF_FQDN_MAX + 1];
        assert_int_equal(dpf_nal_path(servers[i], "PS1", nal, sizeof nal), DPF_OK);
        assert_int_equal(dpf_nal_server(nal, back, sizeof back), DPF_OK);
        size_t n = strlen(servers[i]);
        for (size_t k = 0; k <= n; k++)
            upper[k] = (char)(servers[i][k] >= 'a' && servers[i][k] <= 'z'
                                  ? servers[i][k] - 32 : servers[i][k]);
        assert_string_equal(back, upper);
    }
    char back[64];
    assert_int_equal(dpf_nal_server(SOURCE_NAL, back, sizeof back), DPF_OK);
    assert_string_equal(back, "PS1DP1.CONTOSO.COM");
}

static void test_nal_server_rejects(void **state)
{
    char back[64];
    char tiny[5];
    assert_int_equal(dpf_nal_server("PS1DP1.CONTOSO.COM", back, sizeof back), DPF_ERR_INVALID);
    assert_int_equal(dpf_nal_server("", back, sizeof back), DPF_ERR_INVALID);
    assert_int_equal(dpf_nal_server(NULL, back, sizeof back), DPF_ERR_INVALID);
    /* the two copies of the server differ */
    assert_int_equal(dpf_nal_server("[\"Display=\\\\A.COM\\\"]MSWNET:[\"SMS_SITE=PS1\"]\\\\B.COM\\",
                                    back, sizeof back),
                     DPF_ERR_INVALID);
    /* truncated */
    assert_int_equal(dpf_nal_server("[\"Display=\\\\A.COM\\\"]MSWNET:[\"SMS_SITE=PS1",
                                    back, sizeof back),
                     DPF_ERR_INVALID);
    assert_int_equal(dpf_nal_server(SOURCE_NAL, tiny, sizeof tiny), DPF_ERR_INVALID);
}

static void expect_invalid(const char *name, const char *reason_part)
{
    char err[256];
    assert_int_equal(dpf_fqdn_valid(name, err, sizeof err), 0);
    if (strstr(err, reason_part) == NULL)
        fail_msg("'%s': reason '%s' does not mention '%s'", name ? name : "(null)", err,
                 reason_part);
}

static void test_fqdn_valid(void **state)
{
    char err[256];
    static const char *const good[] = {"PS1DP1.CONTOSO.COM", "a.b", "dp-1.example.org",
                                       "x.y.z.example.co", "1host.example.com",
                                       "host.example.c0m"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        err[0] = 'x';
        if (!dpf_fqdn_valid(good[i], err, sizeof err))
            fail_msg("'%s' rejected: %s", good[i], err);
        assert_string_equal(err, "");
    }
    /* exactly 63-character label and 253-character name are allowed */
    char name[300];
    memset(name, 'a', 63);
    strcpy(name + 63, ".com");
    assert_true(dpf_fqdn_valid(name, err, sizeof err));
    /* 4 labels of 63 + 3 dots = 255; build 253 instead: 63.63.63.61 */
    memset(name, 'b', sizeof name);
    name[63] = '.';
    name[127] = '.';
    name[191] = '.';
    name[253] = '\0';
    assert_int_equal(strlen(name), 253);
    assert_true(dpf_fqdn_valid(name, err, sizeof err));
}

static void test_fqdn_invalid_with_reasons(void **state)
{
    expect_invalid("", "empty");
    expect_invalid(NULL, "empty");
    expect_invalid("localhost", "single label");
    expect_invalid("host..example.com", "label 2 is empty");
    expect_invalid(".example.com", "label 1 is empty");
    expect_invalid("example.com.", "empty");
    expect_invalid("ho_st.example.com", "contains '_'");
    expect_invalid("ho st.example.com", "contains ' '");
    expect_invalid("host.exa\xc3\xa9mple.com", "byte 0x");
    expect_invalid("-host.example.com", "starts with '-'");
    expect_invalid("host-.example.com", "ends with '-'");
    expect_invalid("host.example.123", "all digits");
    expect_invalid("10.0.0.1", "all digits");
    char name[300];
    memset(name, 'a', 64);
    strcpy(name + 64, ".com");
    expect_invalid(name, "more than 63");
    memset(name, 'b', sizeof name);
    name[63] = '.';
    name[127] = '.';
    name[191] = '.';
    name[254] = '\0';
    expect_invalid(name, "more than 253");
    /* NULL err buffer is allowed */
    assert_int_equal(dpf_fqdn_valid("bad_name.com", NULL, 0), 0);
}

static void test_site_code(void **state)
{
    assert_true(dpf_site_code_valid("PS1"));
    assert_true(dpf_site_code_valid("ABC"));
    assert_true(dpf_site_code_valid("123"));
    assert_false(dpf_site_code_valid("ps1"));
    assert_false(dpf_site_code_valid("PS"));
    assert_false(dpf_site_code_valid("PS12"));
    assert_false(dpf_site_code_valid("P-1"));
    assert_false(dpf_site_code_valid(""));
    assert_false(dpf_site_code_valid(NULL));
}

static void test_crc32_vectors(void **state)
{
    assert_int_equal(dpf_crc32(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(dpf_crc32(0, "", 0), 0);
    assert_int_equal(dpf_crc32(0, "a", 1), 0xE8B7BE43u);
    assert_int_equal(dpf_crc32(0, "The quick brown fox jumps over the lazy dog", 43),
                     0x414FA339u);
    /* continuing from an earlier value equals one pass over the whole */
    uint32_t part = dpf_crc32(0, "12345", 5);
    assert_int_equal(dpf_crc32(part, "6789", 4), 0xCBF43926u);
    /* nothing more keeps the value (zlib's crc32(c, NULL, 0) would give 0) */
    assert_int_equal(dpf_crc32(part, NULL, 0), part);
}

static void test_crc_hex(void **state)
{
    char out[9];
    dpf_crc_hex(0x439BCA34u, out);
    assert_string_equal(out, "439BCA34");
    dpf_crc_hex(0x013639BBu, out);
    assert_string_equal(out, "13639BB");
    dpf_crc_hex(0, out);
    assert_string_equal(out, "0");
    dpf_crc_hex(0xFFFFFFFFu, out);
    assert_string_equal(out, "FFFFFFFF");
}

static dpf_dp_props base_props(void)
{
    dpf_dp_props p = {
        .server_name = "PS1DP1.CONTOSO.COM",
        .site_code = "PS1",
        .description = "PS1 Standard DP",
        .dp_drive = "",
        .pull_sources = "",
        .boundary_groups = "PS1 Assignment And Content",
        .is_pxe = 0,
        .is_pull_dp = 0,
        .priority = 200,
        .min_free_space_mb = 50,
        .transfer_rate = 0,
        .ssl_state = 0,
        .content_validation_hours = DPF_DP_VALIDATION_HOURS_DEFAULT,
    };
    return p;
}

static void test_dp_crc_stable(void **state)
{
    dpf_dp_props a = base_props();
    dpf_dp_props b = base_props();
    /* equal contents in different buffers give the same CRC */
    char desc[] = "PS1 Standard DP";
    b.description = desc;
    assert_int_equal(dpf_dp_crc(&a), dpf_dp_crc(&b));
    assert_int_equal(dpf_dp_crc(&a), dpf_dp_crc(&a));
    /* NULL strings read as "" */
    b = base_props();
    b.dp_drive = NULL;
    assert_int_equal(dpf_dp_crc(&a), dpf_dp_crc(&b));
}

/* The CRCs HMAN stored with the hand-written table before dpf_crc32 became
 * zlib's: a DP must not look changed (and be reinstalled) after an upgrade. */
static void test_dp_crc_pinned(void **state)
{
    dpf_dp_props a = base_props();
    assert_int_equal(dpf_dp_crc(&a), 0x18C673A1u);
    a.is_pxe = 1;
    a.description = "caf\xc3\xa9 \"x\";y";
    a.content_validation_hours = 0;
    assert_int_equal(dpf_dp_crc(&a), 0xF3EAF61Bu);
}

static void test_dp_crc_changes_with_every_field(void **state)
{
    dpf_dp_props a = base_props();
    uint32_t base = dpf_dp_crc(&a);
    dpf_dp_props v[14];
    for (int i = 0; i < 14; i++)
        v[i] = base_props();
    v[0].server_name = "PS1DP2.CONTOSO.COM";
    v[1].site_code = "PS2";
    v[2].description = "PS1 Standard DP ";
    v[3].dp_drive = "D:";
    v[4].pull_sources = "PS1SYS.CONTOSO.COM:1";
    v[5].boundary_groups = "";
    v[6].is_pxe = 1;
    v[7].is_pull_dp = 1;
    v[8].priority = 201;
    v[9].min_free_space_mb = 51;
    v[10].transfer_rate = 1;
    v[11].ssl_state = 1;
    v[12].content_validation_hours = 0;
    v[13].content_validation_hours = 24;
    for (int i = 0; i < 14; i++) {
        uint32_t c = dpf_dp_crc(&v[i]);
        if (c == base)
            fail_msg("field %d changed but the CRC did not", i);
        for (int k = 0; k < i; k++)
            assert_int_not_equal(c, dpf_dp_crc(&v[k]));
    }
}

/* The canonical text written out by hand: a DP with the default validation
 * interval hashes exactly what it hashed before the property existed, so an
 * upgrade changes no DP's CRC; any other interval is appended. */
static void test_dp_crc_validation_interval_text(void **state)
{
    static const char v1[] =
        "dpfleet-dp-v1;ServerName=18:PS1DP1.CONTOSO.COM;SiteCode=3:PS1;"
        "Description=15:PS1 Standard DP;DPDrive=0:;PullSources=0:;"
        "BoundaryGroups=26:PS1 Assignment And Content;IsPXE=0;IsPullDP=0;Priority=200;"
        "MinFreeSpace=50;TransferRate=0;SslState=0;";
    dpf_dp_props a = base_props();
    assert_int_equal(dpf_dp_crc(&a), dpf_crc32(0, v1, strlen(v1)));
    a.content_validation_hours = 0;
    uint32_t off = dpf_crc32(0, v1, strlen(v1));
    off = dpf_crc32(off, "ContentValidationIntervalHours=0;", 33);
    assert_int_equal(dpf_dp_crc(&a), off);
    a.content_validation_hours = 8760;
    uint32_t year = dpf_crc32(0, v1, strlen(v1));
    year = dpf_crc32(year, "ContentValidationIntervalHours=8760;", 36);
    assert_int_equal(dpf_dp_crc(&a), year);
}

static void test_dp_crc_fields_do_not_shift(void **state)
{
    /* moving text from one field to the next must change the CRC */
    dpf_dp_props a = base_props();
    dpf_dp_props b = base_props();
    a.description = "ab";
    a.dp_drive = "c";
    b.description = "a";
    b.dp_drive = "bc";
    assert_int_not_equal(dpf_dp_crc(&a), dpf_dp_crc(&b));
    a.description = "x;DPDrive=1:y";
    a.dp_drive = "";
    b.description = "x";
    b.dp_drive = "y";
    assert_int_not_equal(dpf_dp_crc(&a), dpf_dp_crc(&b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nal_path_matches_source),
        cmocka_unit_test(test_nal_path_upper_cases_server),
        cmocka_unit_test(test_nal_path_rejects),
        cmocka_unit_test(test_nal_server_round_trip),
        cmocka_unit_test(test_nal_server_rejects),
        cmocka_unit_test(test_fqdn_valid),
        cmocka_unit_test(test_fqdn_invalid_with_reasons),
        cmocka_unit_test(test_site_code),
        cmocka_unit_test(test_crc32_vectors),
        cmocka_unit_test(test_crc_hex),
        cmocka_unit_test(test_dp_crc_stable),
        cmocka_unit_test(test_dp_crc_pinned),
        cmocka_unit_test(test_dp_crc_changes_with_every_field),
        cmocka_unit_test(test_dp_crc_fields_do_not_shift),
        cmocka_unit_test(test_dp_crc_validation_interval_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* hman's pure decisions: new / changed / unchanged / removed, canonical pull
 * sources and boundary groups, role properties and CRC, cert thumbprint,
 * and the snapshot helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dpf/dp_props.h>
#include <dpf/sitecontrol.h>
#include "hman.h"

static hman_dp_row dp(const char *crc, int action)
{
    hman_dp_row r = {.dpid = 32, .nal_path = "nal", .dp_crc = (char *)crc, .action = action};
    return r;
}

static void test_classify(void **state)
{
    hman_role role = {.role_name = DPF_ROLE_DP, .nal_path = "nal"};
    hman_dp_row same = dp("439BCA34", 0);
    hman_dp_row other = dp("13639BB", 0);
    hman_dp_row zero_padded = dp("0439BCA34", 0);
    hman_dp_row no_crc = dp("", 0);
    hman_dp_row deleting = dp("439BCA34", 3);

    assert_int_equal(hman_classify(&role, NULL, "439BCA34"), HMAN_DP_NEW);
    assert_int_equal(hman_classify(&role, &same, "439BCA34"), HMAN_DP_UNCHANGED);
    assert_int_equal(hman_classify(&role, &other, "439BCA34"), HMAN_DP_CHANGED);
    /* the numbers are compared, not the spelling */
    assert_int_equal(hman_classify(&role, &zero_padded, "439BCA34"), HMAN_DP_UNCHANGED);
    assert_int_equal(hman_classify(&role, &no_crc, "439BCA34"), HMAN_DP_CHANGED);
    /* a role back while its row is being removed waits for distmgr */
    assert_int_equal(hman_classify(&role, &deleting, "439BCA34"), HMAN_DP_REMOVING);
    /* no role: remove once, then leave alone */
    assert_int_equal(hman_classify(NULL, &same, ""), HMAN_DP_REMOVED);
    assert_int_equal(hman_classify(NULL, &deleting, ""), HMAN_DP_GONE);
    assert_string_equal(hman_verdict_name(HMAN_DP_REMOVED), "removed");
}

static void test_canon_sources(void **state)
{
    const char *servers[] = {"b.contoso.com", "PS1DP9.CONTOSO.COM", "a.contoso.com"};
    const int prios[] = {2, 1, 1};
    char *out = NULL;
    assert_int_equal(hman_canon_sources(servers, prios, 3, &out), DPF_OK);
    /* by priority, then name; names upper-cased */
    assert_string_equal(out, "A.CONTOSO.COM:1,PS1DP9.CONTOSO.COM:1,B.CONTOSO.COM:2");
    free(out);

    /* the same set in another order gives the same text */
    const char *servers2[] = {"a.contoso.com", "b.contoso.com", "ps1dp9.contoso.com"};
    const int prios2[] = {1, 2, 1};
    assert_int_equal(hman_canon_sources(servers2, prios2, 3, &out), DPF_OK);
    assert_string_equal(out, "A.CONTOSO.COM:1,PS1DP9.CONTOSO.COM:1,B.CONTOSO.COM:2");
    free(out);

    assert_int_equal(hman_canon_sources(NULL, NULL, 0, &out), DPF_OK);
    assert_string_equal(out, "");
    free(out);
}

static void test_canon_groups(void **state)
{
    const char *names[] = {"PS1 Branch Offices", "PS1 Assignment And Content", "",
                           "PS1 Branch Offices"};
    char *out = NULL;
    assert_int_equal(hman_canon_groups(names, 4, &out), DPF_OK);
    assert_string_equal(out, "PS1 Assignment And Content,PS1 Branch Offices");
    free(out);
    assert_int_equal(hman_canon_groups(NULL, 0, &out), DPF_OK);
    assert_string_equal(out, "");
    free(out);
}

static void test_role_props_and_crc(void **state)
{
    hman_role role = {.role_name = DPF_ROLE_DP, .server_name = "PS1DP1.CONTOSO.COM"};
    hman_role_set_defaults(&role);
    assert_int_equal(role.priority, 200);
    assert_int_equal(role.min_free_space_mb, 50);
    assert_int_equal(role.content_validation_hours, 168);

    assert_int_equal(hman_role_set_prop(&role, DPF_PROP_DESCRIPTION, "PS1 Standard DP", 0), DPF_OK);
    assert_int_equal(hman_role_set_prop(&role, DPF_PROP_IS_PXE, "", 1), DPF_OK);
    assert_int_equal(hman_role_set_prop(&role, DPF_PROP_PRIORITY, "", 150), DPF_OK);
    assert_int_equal(hman_role_set_prop(&role, DPF_PROP_MIN_FREE_SPACE, "", 80), DPF_OK);
    assert_int_equal(hman_role_set_prop(&role, DPF_PROP_IS_PULL_DP, "", 7), DPF_OK);
    assert_int_equal(hman_role_set_prop(&role, "SomethingNewer", "x", 9), DPF_OK);
    assert_string_equal(role.description, "PS1 Standard DP");
    assert_int_equal(role.is_pxe, 1);
    assert_int_equal(role.is_pull_dp, 1); /* any non-zero is on */
    assert_int_equal(role.priority, 150);
    assert_int_equal(role.min_free_space_mb, 80);
    assert_int_equal(hman_role_set_prop(&role, DPF_PROP_CONTENT_VALIDATION, "", 9000), DPF_OK);
    assert_int_equal(role.content_validation_hours, 8760); /* clamped to the column's range */
    assert_int_equal(hman_role_set_prop(&role, DPF_PROP_CONTENT_VALIDATION, "", -5), DPF_OK);
    assert_int_equal(role.content_validation_hours, 0);
    assert_int_equal(hman_role_set_prop(&role, DPF_PROP_CONTENT_VALIDATION, "", 24), DPF_OK);
    assert_int_equal(role.content_validation_hours, 24);

    /* the CRC is dpf_dp_crc of exactly these properties */
    dpf_dp_props p;
    hman_role_props(&role, "PS1", &p);
    assert_string_equal(p.server_name, "PS1DP1.CONTOSO.COM");
    assert_string_equal(p.site_code, "PS1");
    assert_string_equal(p.dp_drive, "");        /* NULL reads as "" */
    assert_string_equal(p.boundary_groups, "");
    assert_int_equal(p.content_validation_hours, 24);
    char hex[9], want[9];
    dpf_crc_hex(dpf_dp_crc(&p), want);
    hman_role_crc(&role, "PS1", hex);
    assert_string_equal(hex, want);

    /* a changed description changes the CRC; changing it back restores it */
    assert_int_equal(hman_role_set_prop(&role, DPF_PROP_DESCRIPTION, "changed", 0), DPF_OK);
    char hex2[9];
    hman_role_crc(&role, "PS1", hex2);
    assert_string_not_equal(hex, hex2);
    assert_int_equal(hman_role_set_prop(&role, DPF_PROP_DESCRIPTION, "PS1 Standard DP", 0), DPF_OK);
    hman_role_crc(&role, "PS1", hex2);
    assert_string_equal(hex, hex2);
    free(role.description);
}

/* Every property of the shared table (lib dp_props) reaches a field of
 * the role that is part of the CRC: a stored value other than the default
 * changes the CRC, and the default itself does not. */
static void test_every_table_property_changes_crc(void **state)
{
    (void)state;
    hman_role base = {.role_name = DPF_ROLE_DP, .server_name = "PS1DP1.CONTOSO.COM",
                      .description = "", .dp_drive = "", .pull_sources = "",
                      .boundary_groups = ""};
    hman_role_set_defaults(&base);
    char crc0[9];
    hman_role_crc(&base, "PS1", crc0);
    for (int i = 0; i < DPF_DP_PROP_COUNT; i++) {
        const dpf_dp_prop *prop = dpf_dp_prop_get((dpf_dp_prop_id)i);
        hman_role role = base;
        role.description = hman_strdup("");
        role.dp_drive = hman_strdup("");
        assert_non_null(role.description);
        assert_non_null(role.dp_drive);
        char crc[9];
        assert_int_equal(hman_role_set_prop(&role, prop->name, prop->text_default
                                            ? prop->text_default : "", prop->int_default),
                         DPF_OK);
        hman_role_crc(&role, "PS1", crc);
        if (strcmp(crc, crc0) != 0)
            fail_msg("%s at its default changed the CRC", prop->name);
        long long other = prop->int_default == prop->max ? prop->int_default - 1
                                                          : prop->int_default + 1;
        assert_int_equal(hman_role_set_prop(&role, prop->name, "E:", other), DPF_OK);
        hman_role_crc(&role, "PS1", crc);
        if (strcmp(crc, crc0) == 0)
            fail_msg("%s set to another value left the CRC as it was", prop->name);
        free(role.description);
        free(role.dp_drive);
    }
}

static void test_cert_thumbprint(void **state)
{
    char a[41], b[41], c[41];
    assert_int_equal(hman_cert_thumbprint("PS1DP1.CONTOSO.COM",
                                          "23a72b6c-eace-4218-929c-4c80638c031e", a), DPF_OK);
    assert_int_equal(hman_cert_thumbprint("PS1DP1.CONTOSO.COM",
                                          "23a72b6c-eace-4218-929c-4c80638c031e", b), DPF_OK);
    assert_int_equal(hman_cert_thumbprint("PS1DP1.CONTOSO.COM",
                                          "00000000-eace-4218-929c-4c80638c031e", c), DPF_OK);
    assert_int_equal(strlen(a), 40);
    assert_int_equal(strspn(a, "0123456789ABCDEF"), 40);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_int_equal(hman_cert_thumbprint(NULL, "x", a), DPF_ERR_INVALID);
}

static void test_site_snapshot(void **state)
{
    hman_site *s = NULL;
    assert_int_equal(hman_site_create("bad", &s), DPF_ERR_INVALID);
    assert_null(s);
    assert_int_equal(hman_site_create("PS1", &s), DPF_OK);
    /* enough entries to make the arrays grow several times */
    for (int i = 0; i < 40; i++) {
        char nal[32];
        snprintf(nal, sizeof nal, "nal-%d", i);
        hman_role *r = hman_site_add_role(s);
        assert_non_null(r);
        r->role_name = hman_strdup(i % 2 ? DPF_ROLE_DP : DPF_ROLE_SITE_SYSTEM);
        r->nal_path = hman_strdup(nal);
        hman_dp_row *d = hman_site_add_dp(s);
        assert_non_null(d);
        d->nal_path = hman_strdup(nal);
        d->dpid = i;
    }
    assert_int_equal(s->nroles, 40);
    assert_non_null(hman_site_role(s, DPF_ROLE_DP, "nal-7"));
    assert_null(hman_site_role(s, DPF_ROLE_DP, "nal-8"));
    assert_int_equal(hman_site_dp(s, "nal-33")->dpid, 33);
    assert_null(hman_site_dp(s, "nal-99"));
    assert_null(hman_site_sysres(s, DPF_ROLE_DP, "nal-7"));
    hman_site_destroy(s);
    hman_site_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_canon_sources),
        cmocka_unit_test(test_canon_groups),
        cmocka_unit_test(test_role_props_and_crc),
        cmocka_unit_test(test_every_table_property_changes_crc),
        cmocka_unit_test(test_cert_thumbprint),
        cmocka_unit_test(test_site_snapshot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for the package endpoints' input checks
 * (services/provider/validate_pkg.c): the create body, the distribute and
 * redistribute bodies, the package id in the path, and the source directory
 * against the content source roots on a real temporary directory tree. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "validate_pkg.h"

static char g_tmp[64];

static dpf_status spec(const char *body, prov_pkg_spec *s, prov_field_error *err)
{
    return prov_pkg_spec_parse(body, strlen(body), s, err);
}

static void test_spec_defaults_and_fields(void **state)
{
    (void)state;
    prov_pkg_spec s;
    prov_field_error err;
    assert_int_equal(spec("{\"name\":\"Office\",\"sourcePath\":\"/srv/x\"}", &s, &err), DPF_OK);
    assert_string_equal(s.name, "Office");
    assert_string_equal(s.description, "");
    assert_string_equal(s.site, "PS1");
    assert_string_equal(s.source_path, "/srv/x");
    prov_pkg_spec_clear(&s);
    assert_int_equal(spec("{\"siteCode\":\"cs1\",\"description\":\"d\",\"name\":\"N\","
                          "\"sourcePath\":\"/a\"}", &s, &err), DPF_OK);
    assert_string_equal(s.site, "CS1");
    assert_string_equal(s.description, "d");
    prov_pkg_spec_clear(&s);
}

static void test_spec_refusals(void **state)
{
    (void)state;
    static const struct { const char *body; const char *field; dpf_status st; } cases[] = {
        {"{\"sourcePath\":\"/a\"}", "name", DPF_ERR_INVALID},
        {"{\"name\":\"n\"}", "sourcePath", DPF_ERR_INVALID},
        {"{\"name\":1,\"sourcePath\":\"/a\"}", "name", DPF_ERR_INVALID},
        {"{\"name\":\"\",\"sourcePath\":\"/a\"}", "name", DPF_ERR_INVALID},
        {"{\"name\":\"a \",\"sourcePath\":\"/a\"}", "name", DPF_ERR_INVALID},
        {"{\"name\":\"a\\u0007b\",\"sourcePath\":\"/a\"}", "name", DPF_ERR_INVALID},
        {"{\"name\":\"a\\u0000b\",\"sourcePath\":\"/a\"}", "", DPF_ERR_DECODE}, /* jansson refuses NUL */
        {"{\"name\":\"n\",\"sourcePath\":\"\"}", "sourcePath", DPF_ERR_INVALID},
        {"{\"name\":\"n\",\"sourcePath\":[\"/a\"]}", "sourcePath", DPF_ERR_INVALID},
        {"{\"name\":\"n\",\"sourcePath\":\"/a\",\"siteCode\":\"PS-\"}", "siteCode", DPF_ERR_INVALID},
        {"{\"name\":\"n\",\"sourcePath\":\"/a\",\"siteCode\":\"PS12\"}", "siteCode", DPF_ERR_INVALID},
        {"{\"name\":\"n\",\"sourcePath\":\"/a\",\"Name\":\"x\"}", "Name", DPF_ERR_INVALID},
        {"{\"name\":\"n\",\"name\":\"m\",\"sourcePath\":\"/a\"}", "", DPF_ERR_DECODE},
        {"[1]", "", DPF_ERR_INVALID},
        {"{", "", DPF_ERR_DECODE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        prov_pkg_spec s;
        prov_field_error err;
        assert_int_equal(spec(cases[i].body, &s, &err), cases[i].st);
        assert_string_equal(err.field, cases[i].field);
        assert_true(err.message[0] != '\0');
        assert_null(s.doc);
    }
}

static void test_spec_limits(void **state)
{
    (void)state;
    char name[300] = "", body[1200];
    for (int i = 0; i < 100; i++)
        strcat(name, "\xc3\xa9"); /* 100 characters, 200 bytes */
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"sourcePath\":\"/a\"}", name);
    prov_pkg_spec s;
    prov_field_error err;
    assert_int_equal(spec(body, &s, &err), DPF_OK);
    prov_pkg_spec_clear(&s);
    strcat(name, "x");
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"sourcePath\":\"/a\"}", name);
    assert_int_equal(spec(body, &s, &err), DPF_ERR_INVALID);
    assert_non_null(strstr(err.message, "101 characters"));
    char desc[600];
    memset(desc, 'd', 500);
    desc[500] = '\0';
    snprintf(body, sizeof body, "{\"name\":\"n\",\"description\":\"%s\",\"sourcePath\":\"/a\"}", desc);
    assert_int_equal(spec(body, &s, &err), DPF_OK);
    prov_pkg_spec_clear(&s);
    snprintf(body, sizeof body, "{\"name\":\"n\",\"description\":\"%sd\",\"sourcePath\":\"/a\"}", desc);
    assert_int_equal(spec(body, &s, &err), DPF_ERR_INVALID);
    assert_string_equal(err.field, "description");
}

static dpf_status targets(const char *body, prov_targets_mode mode, prov_pkg_targets *t,
                          prov_field_error *err)
{
    return prov_pkg_targets_parse(body, strlen(body), mode, t, err);
}

static void test_targets(void **state)
{
    (void)state;
    prov_pkg_targets t;
    prov_field_error err;
    assert_int_equal(targets("{\"distributionPoints\":[\"ps1dp1.contoso.com\"],"
                             "\"boundaryGroups\":[\"Branch\"]}", PROV_TARGETS_DISTRIBUTE, &t, &err),
                     DPF_OK);
    assert_string_equal(json_string_value(json_array_get(t.dps, 0)), "PS1DP1.CONTOSO.COM");
    assert_string_equal(json_string_value(json_array_get(t.groups, 0)), "Branch");
    prov_pkg_targets_clear(&t);
    /* groups alone, or an empty list beside a full one, are enough */
    assert_int_equal(targets("{\"boundaryGroups\":[\"B\"],\"distributionPoints\":[]}",
                             PROV_TARGETS_DISTRIBUTE, &t, &err), DPF_OK);
    assert_int_equal(json_array_size(t.dps), 0);
    prov_pkg_targets_clear(&t);

    static const struct { const char *body; prov_targets_mode mode; const char *field; } bad[] = {
        {"{}", PROV_TARGETS_DISTRIBUTE, "distributionPoints"},
        {"{\"distributionPoints\":[],\"boundaryGroups\":[]}", PROV_TARGETS_DISTRIBUTE, "distributionPoints"},
        {"{\"distributionPoints\":{}}", PROV_TARGETS_DISTRIBUTE, "distributionPoints"},
        {"{\"distributionPoints\":[\"a.b.com\",\"x\"]}", PROV_TARGETS_DISTRIBUTE, "distributionPoints[1]"},
        {"{\"distributionPoints\":[\"a.b.com\",\"A.b.COM\"]}", PROV_TARGETS_DISTRIBUTE, "distributionPoints[1]"},
        {"{\"boundaryGroups\":[\"G\",\"g\"]}", PROV_TARGETS_DISTRIBUTE, "boundaryGroups[1]"},
        {"{\"boundaryGroups\":[\"\"]}", PROV_TARGETS_DISTRIBUTE, "boundaryGroups[0]"},
        {"{\"boundaryGroups\":[true]}", PROV_TARGETS_DISTRIBUTE, "boundaryGroups[0]"},
        {"{\"groups\":[\"G\"]}", PROV_TARGETS_DISTRIBUTE, "groups"},
        {"{\"boundaryGroups\":[\"G\"]}", PROV_TARGETS_REDISTRIBUTE, "boundaryGroups"},
        {"{\"distributionPoints\":[]}", PROV_TARGETS_REDISTRIBUTE, "distributionPoints"},
        {"{}", PROV_TARGETS_REDISTRIBUTE, "distributionPoints"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(targets(bad[i].body, bad[i].mode, &t, &err), DPF_ERR_INVALID);
        assert_string_equal(err.field, bad[i].field);
        assert_null(t.dps);
        assert_null(t.groups);
    }
    assert_int_equal(prov_pkg_targets_parse(NULL, 0, PROV_TARGETS_DISTRIBUTE, &t, &err),
                     DPF_ERR_DECODE);
}

static void test_package_id(void **state)
{
    (void)state;
    char id[PROV_PKG_ID_LEN + 1];
    assert_true(prov_pkg_id_parse("ps10000a", id));
    assert_string_equal(id, "PS10000A");
    assert_true(prov_pkg_id_parse("CS100002", id));
    const char *bad[] = {"", "PS1", "PS10000G", "PS1000001", "P-100001", "PS1 0001", "PS100001/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(prov_pkg_id_parse(bad[i], id));
}

/* ---- the source directory, on a real tree under g_tmp ---- */

static void path_of(char *out, size_t len, const char *rel)
{
    snprintf(out, len, "%s/%s", g_tmp, rel);
}

static int tree_setup(void **state)
{
    (void)state;
    snprintf(g_tmp, sizeof g_tmp, "/tmp/dpf_vpkg.XXXXXX");
    if (mkdtemp(g_tmp) == NULL)
        return -1;
    char p[256], q[256];
    const char *dirs[] = {"real", "real/pkg", "real/pkg/sub", "src", "src2", "other"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        path_of(p, sizeof p, dirs[i]);
        if (mkdir(p, 0755) != 0)
            return -1;
    }
    path_of(p, sizeof p, "real/file");
    FILE *f = fopen(p, "w");
    if (f == NULL)
        return -1;
    fclose(f);
    /* a root that is itself a symbolic link, links inside and out */
    path_of(p, sizeof p, "real");
    path_of(q, sizeof q, "rootlink");
    if (symlink(p, q) != 0)
        return -1;
    path_of(p, sizeof p, "other");
    path_of(q, sizeof q, "real/out");
    if (symlink(p, q) != 0)
        return -1;
    path_of(q, sizeof q, "real/in");
    if (symlink("pkg/sub", q) != 0)
        return -1;
    return 0;
}

static int tree_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    return system(cmd) == 0 ? 0 : -1;
}

/* Checks rel (or an absolute path when rel starts with '/') against roots
 * (relative to g_tmp, ':'-separated); want NULL for success, else a piece
 * of the message. */
static void check(const char *roots_rel, const char *rel, const char *want, const char *resolved)
{
    char roots[512] = "", path[512], out[PROV_PKG_PATH_MAX + 1];
    char copy[256];
    snprintf(copy, sizeof copy, "%s", roots_rel);
    char *save = NULL;
    for (char *tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
        size_t n = strlen(roots);
        snprintf(roots + n, sizeof roots - n, "%s%s/%s", n ? ":" : "", g_tmp, tok);
    }
    if (rel[0] == '/' || rel[0] == '.' || strchr(rel, '/') == rel)
        snprintf(path, sizeof path, "%s", rel);
    else if (strncmp(rel, "rel:", 4) == 0)
        snprintf(path, sizeof path, "%s", rel + 4);
    else
        path_of(path, sizeof path, rel);
    prov_field_error err;
    dpf_status st = prov_pkg_source_check(path, roots, out, &err);
    if (want == NULL) {
        if (st != DPF_OK)
            print_error("%s: %s\n", path, err.message);
        assert_int_equal(st, DPF_OK);
        char exp[512];
        path_of(exp, sizeof exp, resolved);
        char *real_exp = realpath(exp, NULL);
        assert_non_null(real_exp);
        assert_string_equal(out, real_exp);
        free(real_exp);
    } else {
        assert_int_equal(st, DPF_ERR_INVALID);
        assert_string_equal(err.field, "sourcePath");
        if (strstr(err.message, want) == NULL)
            print_error("%s: want '%s' in '%s'\n", path, want, err.message);
        assert_non_null(strstr(err.message, want));
        assert_string_equal(out, "");
    }
}

static void test_source_accepted(void **state)
{
    (void)state;
    check("real", "real/pkg", NULL, "real/pkg");
    check("real", "real/pkg/", NULL, "real/pkg");
    check("real", "real//./pkg/sub", NULL, "real/pkg/sub");
    check("real", "real", NULL, "real");                   /* the root itself */
    check("rootlink", "rootlink/pkg", NULL, "real/pkg");   /* a root that is a link */
    check("rootlink", "real/pkg", NULL, "real/pkg");       /* its target, written out */
    check("src:real", "real/in", NULL, "real/pkg/sub");    /* a link that stays inside */
    check("src::real:", "real/pkg", NULL, "real/pkg");     /* empty entries are skipped */
}

static void test_source_refused(void **state)
{
    (void)state;
    check("real", "rel:pkg", "absolute", NULL);
    check("real", "rel:./real/pkg", "absolute", NULL);
    check("real", "real/../real/pkg", "'..'", NULL);
    check("real", "real/pkg/..", "'..'", NULL);
    check("real", "other", "outside every content source root", NULL);
    check("real:src", "/etc", "outside every content source root", NULL);
    check("src", "src2", "outside every content source root", NULL); /* not a prefix match */
    check("real", "real/missing", "does not exist", NULL);
    check("real", "other/missing", "outside", NULL); /* nothing told about other places */
    check("real", "real/file", "not a directory", NULL);
    check("real", "real/file/x", "not a directory", NULL);
    check("real", "real/out", "symbolic link that leads out", NULL);
    check("real", "real/out/.", "symbolic link that leads out", NULL);
    check("", "real/pkg", "no content source roots", NULL);
    check("missingroot", "missingroot/x", "does not exist", NULL);
    /* the roots are named */
    char roots[256], path[256], out[PROV_PKG_PATH_MAX + 1];
    prov_field_error err;
    snprintf(roots, sizeof roots, "%s/src:%s/src2", g_tmp, g_tmp);
    path_of(path, sizeof path, "real/pkg");
    assert_int_equal(prov_pkg_source_check(path, roots, out, &err), DPF_ERR_INVALID);
    char want[200];
    snprintf(want, sizeof want, "(%s/src, %s/src2)", g_tmp, g_tmp);
    assert_non_null(strstr(err.message, want));
    /* unreadable: only meaningful when not root, who reads everything */
    if (geteuid() != 0) {
        char p[256];
        path_of(p, sizeof p, "real/pkg/sub");
        assert_int_equal(chmod(p, 0), 0);
        check("real", "real/pkg/sub", "not readable", NULL);
        assert_int_equal(chmod(p, 0755), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_defaults_and_fields),
        cmocka_unit_test(test_spec_refusals),
        cmocka_unit_test(test_spec_limits),
        cmocka_unit_test(test_targets),
        cmocka_unit_test(test_package_id),
        cmocka_unit_test(test_source_accepted),
        cmocka_unit_test(test_source_refused),
    };
    return cmocka_run_group_tests(tests, tree_setup, tree_teardown);
}

/* dpf/manifest: the one MANIFEST format distmgr and dpagent share. A good
 * manifest gives its lines in order with their hashes; anything the build
 * would not write (CRLF, "*name", upper-case hex, blank lines, unsorted or
 * repeated names, unsafe names, a missing last newline) is refused with the
 * line number. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dpf/manifest.h>

/* sha256("hello\n") and sha256("") as sha256sum prints them */
#define H_HELLO "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
#define H_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static dpf_manifest *parse_ok(const char *text)
{
    dpf_manifest *m = NULL;
    char err[256] = "";
    dpf_status st = dpf_manifest_parse(text, strlen(text), &m, err, sizeof err);
    if (st != DPF_OK)
        fail_msg("refused: %s", err);
    assert_non_null(m);
    return m;
}

static void refused(const char *text, size_t len, const char *err_has)
{
    dpf_manifest *m = (dpf_manifest *)1;
    char err[256] = "";
    assert_int_equal(dpf_manifest_parse(text, len, &m, err, sizeof err), DPF_ERR_INVALID);
    assert_null(m);
    if (strstr(err, err_has) == NULL)
        fail_msg("error '%s' does not mention '%s'", err, err_has);
}

static void refused_s(const char *text, const char *err_has)
{
    refused(text, strlen(text), err_has);
}

static void parses_sorted_lines(void **state)
{
    (void)state;
    dpf_manifest *m = parse_ok(H_HELLO "  README\n" H_EMPTY "  smsdpprov\n" H_HELLO
                                       "  smsfileisapi\n");
    assert_int_equal(dpf_manifest_count(m), 3);
    assert_string_equal(dpf_manifest_name(m, 0), "README"); /* 'R' < 's' in byte order */
    assert_string_equal(dpf_manifest_name(m, 1), "smsdpprov");
    assert_string_equal(dpf_manifest_sha256(m, 1), H_EMPTY);
    assert_string_equal(dpf_manifest_name(m, 2), "smsfileisapi");
    assert_null(dpf_manifest_name(m, 3));
    assert_null(dpf_manifest_sha256(m, 3));

    size_t i = 99;
    assert_true(dpf_manifest_find(m, "smsfileisapi", &i));
    assert_int_equal(i, 2);
    assert_true(dpf_manifest_find(m, "README", &i));
    assert_int_equal(i, 0);
    assert_false(dpf_manifest_find(m, "smspxe", &i));
    assert_false(dpf_manifest_find(m, "", &i));

    assert_true(dpf_manifest_matches(m, 0, "hello\n", 6));
    assert_false(dpf_manifest_matches(m, 0, "hello", 5));
    assert_true(dpf_manifest_matches(m, 1, "", 0));
    assert_false(dpf_manifest_matches(m, 3, "", 0));
    dpf_manifest_destroy(m);
    dpf_manifest_destroy(NULL);
}

static void sha256_hex_is_sha256sum(void **state)
{
    (void)state;
    char hex[65];
    dpf_manifest_sha256_hex("hello\n", 6, hex);
    assert_string_equal(hex, H_HELLO);
    dpf_manifest_sha256_hex("", 0, hex);
    assert_string_equal(hex, H_EMPTY);
}

static void refuses_other_line_formats(void **state)
{
    (void)state;
    refused_s(H_HELLO " *smsdpprov\n", "line 1 is not");        /* binary-mode marker */
    refused_s(H_HELLO " smsdpprov\n", "line 1 is not");         /* one space */
    refused_s(H_HELLO "\tsmsdpprov\n", "line 1 is not");
    refused_s(H_HELLO "  smsdpprov\r\n", "line 1: unsafe file name");
    refused_s("5891B5B522D5DF086D0FF0B110FBD9D21BB4FC7163AF34D08286A2E846F6BE03  a\n",
              "line 1 is not");
    refused_s("5891b5b522  smsdpprov\n", "line 1 is not");      /* short hash */
    refused_s(H_HELLO "  \n", "line 1 is not");                 /* no name */
    refused_s(H_HELLO "  a\n\n" H_HELLO "  b\n", "line 2 is not"); /* blank line */
    refused_s(H_HELLO "  a\n" H_HELLO "  b", "does not end with a newline");
    refused_s("", "is empty");
    refused_s("not a manifest\n", "line 1 is not");
    refused("" H_HELLO "  a\0b\n", 70, "NUL");
}

static void refuses_unsorted_and_repeated(void **state)
{
    (void)state;
    refused_s(H_HELLO "  b\n" H_HELLO "  a\n", "line 2: 'a' is out of order");
    refused_s(H_HELLO "  a\n" H_EMPTY "  a\n", "lists 'a' twice");
    refused_s(H_HELLO "  smsdpprov\n" H_HELLO "  README\n", "out of order");
}

static void refuses_unsafe_names(void **state)
{
    (void)state;
    refused_s(H_HELLO "  ../../etc/passwd\n", "line 1: unsafe file name");
    refused_s(H_HELLO "  bin/x\n", "path separator");
    refused_s(H_HELLO "  .hidden\n", "starts with '.'");
    refused_s(H_HELLO "  a..b\n", "contains '..'");
    refused_s(H_HELLO "  a b\n", "character other than");
    refused_s(H_HELLO "  caf\xc3\xa9\n", "character other than");

    char why[128];
    assert_true(dpf_manifest_name_ok("smsdpprov", why, sizeof why));
    assert_true(dpf_manifest_name_ok("lib-1.2_x+y.so", NULL, 0));
    assert_false(dpf_manifest_name_ok("", why, sizeof why));
    assert_string_equal(why, "empty file name");
    assert_false(dpf_manifest_name_ok(NULL, NULL, 0));
    assert_false(dpf_manifest_name_ok("a\\b", why, sizeof why));
    assert_string_equal(why, "file name contains a path separator");
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_false(dpf_manifest_name_ok(longname, why, sizeof why));
    longname[DPF_MANIFEST_NAME_MAX] = '\0';
    assert_true(dpf_manifest_name_ok(longname, why, sizeof why));
}

/* DPF_MANIFEST_MAX_FILES lines pass, one more does not */
static void limits(void **state)
{
    (void)state;
    size_t cap = (DPF_MANIFEST_MAX_FILES + 1) * 80;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t len = 0;
    for (int i = 0; i < DPF_MANIFEST_MAX_FILES; i++)
        len += (size_t)snprintf(text + len, cap - len, "%s  f%04d\n", H_HELLO, i);
    dpf_manifest *m = parse_ok(text);
    assert_int_equal(dpf_manifest_count(m), DPF_MANIFEST_MAX_FILES);
    size_t idx = 0;
    assert_true(dpf_manifest_find(m, "f0137", &idx));
    assert_int_equal(idx, 137);
    dpf_manifest_destroy(m);
    len += (size_t)snprintf(text + len, cap - len, "%s  f9999\n", H_HELLO);
    refused(text, len, "more than 256 files");
    free(text);

    char *big = malloc(DPF_MANIFEST_MAX_BYTES + 2);
    assert_non_null(big);
    memset(big, '\n', DPF_MANIFEST_MAX_BYTES + 1);
    refused(big, DPF_MANIFEST_MAX_BYTES + 1, "larger than");
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_sorted_lines),
        cmocka_unit_test(sha256_hex_is_sha256sum),
        cmocka_unit_test(refuses_other_line_formats),
        cmocka_unit_test(refuses_unsorted_and_repeated),
        cmocka_unit_test(refuses_unsafe_names),
        cmocka_unit_test(limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

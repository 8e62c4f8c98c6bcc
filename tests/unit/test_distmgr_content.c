/* distmgr content: the package-on-a-DP state machine (content_state.c) and
 * the site content library on disk (content_lib.c): files stored once by
 * SHA-256, hashed as they are copied, and a file that changes while it is
 * read refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "content_lib.h"
#include "content_state.h"

static void expect_next(dm_cstate from, dm_cevent ev, dm_cstate want)
{
    dm_cstate to = DM_CS_FAILED;
    assert_int_equal(dm_cstate_next(from, ev, &to), DPF_OK);
    assert_int_equal(to, want);
}

static void expect_refused(dm_cstate from, dm_cevent ev)
{
    dm_cstate to = DM_CS__COUNT;
    assert_int_equal(dm_cstate_next(from, ev, &to), DPF_ERR_INVALID);
    assert_int_equal(to, DM_CS__COUNT);
}

static void test_transfer_path(void **state)
{
    (void)state;
    expect_next(DM_CS_PENDING, DM_CE_CLAIM, DM_CS_IN_PROGRESS);
    expect_next(DM_CS_IN_PROGRESS, DM_CE_DONE, DM_CS_INSTALLED);
    expect_next(DM_CS_IN_PROGRESS, DM_CE_RETRY, DM_CS_RETRYING);
    expect_next(DM_CS_RETRYING, DM_CE_CLAIM, DM_CS_IN_PROGRESS);
    expect_next(DM_CS_IN_PROGRESS, DM_CE_GIVE_UP, DM_CS_FAILED);
    expect_next(DM_CS_IN_PROGRESS, DM_CE_CANCEL, DM_CS_PENDING);
    /* a crashed job's row is claimed again once its lease ran out */
    expect_next(DM_CS_IN_PROGRESS, DM_CE_CLAIM, DM_CS_IN_PROGRESS);
}

static void test_removal_and_maintenance(void **state)
{
    (void)state;
    dm_cstate to = DM_CS_PENDING;
    assert_int_equal(dm_cstate_next(DM_CS_REMOVING, DM_CE_DONE, &to), DPF_OK);
    assert_int_equal(to, DM_CS__COUNT); /* the row goes */
    expect_next(DM_CS_REMOVING, DM_CE_RETRY, DM_CS_REMOVING);
    expect_next(DM_CS_PENDING, DM_CE_MAINT, DM_CS_WAITING_MAINT);
    expect_next(DM_CS_IN_PROGRESS, DM_CE_MAINT, DM_CS_WAITING_MAINT);
    expect_refused(DM_CS_WAITING_MAINT, DM_CE_CLAIM);
    expect_refused(DM_CS_REMOVING, DM_CE_MAINT);
}

static void test_validation(void **state)
{
    (void)state;
    expect_next(DM_CS_INSTALLED, DM_CE_INVALID, DM_CS_VALIDATION_FAILED);
    expect_next(DM_CS_VALIDATION_FAILED, DM_CE_VALID, DM_CS_INSTALLED);
    expect_next(DM_CS_INSTALLED, DM_CE_VALID, DM_CS_INSTALLED);
    /* only a redistribute (Pending, the provider) repairs it */
    expect_refused(DM_CS_VALIDATION_FAILED, DM_CE_CLAIM);
    expect_refused(DM_CS_PENDING, DM_CE_INVALID);
    expect_refused(DM_CS_INSTALLED, DM_CE_CLAIM);
    expect_refused(DM_CS_FAILED, DM_CE_CLAIM);
    expect_refused(DM_CS__COUNT, DM_CE_CLAIM);
}

static void test_names(void **state)
{
    (void)state;
    for (int i = 0; i < DM_CS__COUNT; i++) {
        dm_cstate back = DM_CS__COUNT;
        assert_int_equal(dm_cstate_parse(dm_cstate_name((dm_cstate)i), &back), DPF_OK);
        assert_int_equal(back, i);
    }
    dm_cstate s;
    assert_int_equal(dm_cstate_parse("Installing", &s), DPF_ERR_INVALID);
    assert_int_equal(dm_cstate_parse(NULL, &s), DPF_ERR_INVALID);
}

static char g_dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/dm-clib.XXXXXX");
    return mkdtemp(g_dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_library_stores_once(void **state)
{
    (void)state;
    char lib[128], a[128], b[128], err[256], sha1[DM_SHA256_HEX], sha2[DM_SHA256_HEX];
    char path[512];
    long long size = -1;
    int is_new = -1;
    snprintf(lib, sizeof lib, "%s/lib", g_dir);
    snprintf(a, sizeof a, "%s/a.txt", g_dir);
    snprintf(b, sizeof b, "%s/b.txt", g_dir);
    assert_int_equal(dm_clib_init(lib, err, sizeof err), DPF_OK);
    write_file(a, "hello\n");
    write_file(b, "hello\n");
    assert_int_equal(dm_clib_store(lib, a, sha1, &size, &is_new, err, sizeof err), DPF_OK);
    /* sha256("hello\n") */
    assert_string_equal(sha1, "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
    assert_int_equal(size, 6);
    assert_int_equal(is_new, 1);
    assert_int_equal(dm_clib_store(lib, b, sha2, &size, &is_new, err, sizeof err), DPF_OK);
    assert_string_equal(sha1, sha2);
    assert_int_equal(is_new, 0); /* the same bytes are kept once */
    dm_clib_path(lib, sha1, path, sizeof path);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 6);
    assert_non_null(strstr(path, "/FileLib/5891/5891b5b5"));
    /* nothing is left behind in tmp */
    char tmp[256], cmd[300];
    snprintf(tmp, sizeof tmp, "%s/tmp", lib);
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s')\"", tmp);
    assert_int_equal(system(cmd), 0);
    /* hashing a file in place gives the same digest */
    char again[DM_SHA256_HEX];
    assert_int_equal(dm_clib_hash_file(path, again, &size, err, sizeof err), DPF_OK);
    assert_string_equal(again, sha1);
}

static void test_library_refuses(void **state)
{
    (void)state;
    char lib[128], err[256], sha[DM_SHA256_HEX], link[128];
    long long size;
    int is_new;
    snprintf(lib, sizeof lib, "%s/lib2", g_dir);
    assert_int_equal(dm_clib_init(lib, err, sizeof err), DPF_OK);
    assert_int_equal(dm_clib_store(lib, "/nonexistent/file", sha, &size, &is_new, err, sizeof err),
                     DPF_ERR_IO);
    assert_non_null(strstr(err, "/nonexistent/file"));
    /* a directory is not a file */
    assert_int_equal(dm_clib_store(lib, g_dir, sha, &size, &is_new, err, sizeof err), DPF_ERR_IO);
    /* a symbolic link is not followed by the store (the walk resolves links itself) */
    snprintf(link, sizeof link, "%s/link", g_dir);
    assert_int_equal(symlink("/etc/hostname", link), 0);
    assert_int_equal(dm_clib_store(lib, link, sha, &size, &is_new, err, sizeof err), DPF_ERR_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transfer_path),
        cmocka_unit_test(test_removal_and_maintenance),
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_names),
        cmocka_unit_test_setup_teardown(test_library_stores_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_library_refuses, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* fsutil.c: safe names, atomic writes that report whether they changed
 * anything, mkdir -p with modes, and rm -rf that never follows links. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dpf/util.h>
#include "fsutil.h"

static char g_dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/test_dpagent_fsutil.XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(dpa_fs_rmtree(g_dir, NULL), DPF_OK);
    return 0;
}

static void safe_names(void **state)
{
    (void)state;
    char err[128];
    assert_true(dpa_fs_name_safe("smsdpprov", err, sizeof err));
    assert_true(dpa_fs_name_safe("pulldp.msi", err, sizeof err));
    assert_true(dpa_fs_name_safe("SMS_DP$", err, sizeof err));
    const char *bad[] = {"", ".", "..", "../x", "a/b", "a\\b", "x..y", ".hidden", "a\nb",
                         "tab\there", "\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_false(dpa_fs_name_safe(bad[i], err, sizeof err));
        assert_true(err[0] != '\0');
    }
    char longname[300];
    memset(longname, 'a', 256);
    longname[256] = '\0';
    assert_false(dpa_fs_name_safe(longname, NULL, 0));
    longname[255] = '\0';
    assert_true(dpa_fs_name_safe(longname, NULL, 0));
    assert_false(dpa_fs_name_safe(NULL, NULL, 0));
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void atomic_write_reports_change(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/dp.conf", g_dir);
    int changed = 0;
    assert_int_equal(dpa_fs_write_atomic(path, "a=1\n", 4, 0644, &changed), DPF_OK);
    assert_int_equal(changed, 1);
    assert_true(dpa_fs_same_content(path, "a=1\n", 4));

    changed = 0;
    assert_int_equal(dpa_fs_write_atomic(path, "a=1\n", 4, 0644, &changed), DPF_OK);
    assert_int_equal(changed, 0);

    assert_int_equal(dpa_fs_write_atomic(path, "a=2\n", 4, 0644, &changed), DPF_OK);
    assert_int_equal(changed, 1);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(dpf_read_file(path, &text, &len), DPF_OK);
    assert_string_equal(text, "a=2\n");
    free(text);

    /* same bytes, other mode: rewritten with the right mode */
    changed = 0;
    assert_int_equal(dpa_fs_write_atomic(path, "a=2\n", 4, 0600, &changed), DPF_OK);
    assert_int_equal(changed, 1);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* empty content is a valid file too */
    assert_int_equal(dpa_fs_write_atomic(path, "", 0, 0600, &changed), DPF_OK);
    assert_true(dpa_fs_same_content(path, "", 0));
    assert_false(dpa_fs_same_content(path, "x", 1));

    /* no temporary files left behind */
    assert_int_equal(count_entries(g_dir), 1);

    char missing[512];
    snprintf(missing, sizeof missing, "%s/nodir/x", g_dir);
    assert_int_not_equal(dpa_fs_write_atomic(missing, "x", 1, 0644, NULL), DPF_OK);
}

static void mkdirs_and_rmtree(void **state)
{
    (void)state;
    char deep[512], outside[512], link[512], file[512];
    snprintf(deep, sizeof deep, "%s/a/b/c", g_dir);
    int changed = 0;
    assert_int_equal(dpa_fs_mkdirs(deep, 0755, &changed), DPF_OK);
    assert_int_equal(changed, 1);
    assert_true(dpa_fs_is_dir(deep));
    struct stat st;
    assert_int_equal(stat(deep, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0755);
    changed = 0;
    assert_int_equal(dpa_fs_mkdirs(deep, 0755, &changed), DPF_OK);
    assert_int_equal(changed, 0);

    /* a file in the way is an error, not silently replaced */
    snprintf(file, sizeof file, "%s/a/b/f", g_dir);
    assert_int_equal(dpa_fs_write_atomic(file, "x", 1, 0644, NULL), DPF_OK);
    snprintf(deep, sizeof deep, "%s/a/b/f/g", g_dir);
    assert_int_not_equal(dpa_fs_mkdirs(deep, 0755, NULL), DPF_OK);

    /* a link inside the tree pointing outside: removed, target untouched */
    snprintf(outside, sizeof outside, "%s/outside", g_dir);
    assert_int_equal(dpa_fs_mkdirs(outside, 0755, NULL), DPF_OK);
    snprintf(file, sizeof file, "%s/outside/keep", g_dir);
    assert_int_equal(dpa_fs_write_atomic(file, "keep", 4, 0644, NULL), DPF_OK);
    snprintf(link, sizeof link, "%s/a/b/c/link", g_dir);
    assert_int_equal(symlink(outside, link), 0);

    char a[512];
    snprintf(a, sizeof a, "%s/a", g_dir);
    changed = 0;
    assert_int_equal(dpa_fs_rmtree(a, &changed), DPF_OK);
    assert_int_equal(changed, 1);
    assert_false(dpa_fs_is_dir(a));
    assert_true(dpa_fs_is_file(file));

    changed = 0;
    assert_int_equal(dpa_fs_rmtree(a, &changed), DPF_OK); /* already gone */
    assert_int_equal(changed, 0);
    assert_int_equal(dpa_fs_unlink(file, &changed), DPF_OK);
    assert_int_equal(changed, 1);
    changed = 0;
    assert_int_equal(dpa_fs_unlink(file, &changed), DPF_OK);
    assert_int_equal(changed, 0);
}

static void count_files(void **state)
{
    (void)state;
    char p[512];
    assert_int_equal(dpa_fs_count_files(g_dir), 0);
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/f%d", g_dir, i);
        assert_int_equal(dpa_fs_write_atomic(p, "x", 1, 0644, NULL), DPF_OK);
    }
    snprintf(p, sizeof p, "%s/sub", g_dir);
    assert_int_equal(dpa_fs_mkdirs(p, 0755, NULL), DPF_OK);
    assert_int_equal(dpa_fs_count_files(g_dir), 3);
    assert_int_equal(dpa_fs_count_files("/nonexistent/dir"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(safe_names),
        cmocka_unit_test_setup_teardown(atomic_write_reports_change, setup, teardown),
        cmocka_unit_test_setup_teardown(mkdirs_and_rmtree, setup, teardown),
        cmocka_unit_test_setup_teardown(count_files, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

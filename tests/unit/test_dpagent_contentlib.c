/* contentlib.c and pkglib.c: the host's single-instance content library on
 * a temporary directory. Files arrive in chunks and become visible only
 * when verified; a transfer resumes at the partial's length; a file shared
 * by two packages is kept once and survives the removal of one of them;
 * bad ids, paths and hashes are refused with nothing changed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "contentlib.h"
#include "fsutil.h"
#include "pkglib.h"

static char g_tmp[256], g_lib[512];

static int setup(void **state)
{
    (void)state;
    snprintf(g_tmp, sizeof g_tmp, "/tmp/test_dpagent_clib.XXXXXX");
    assert_non_null(mkdtemp(g_tmp));
    snprintf(g_lib, sizeof g_lib, "%s/SCCMContentLib$", g_tmp);
    assert_int_equal(dpa_fs_mkdirs(g_lib, 0755, NULL), DPF_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(dpa_fs_rmtree(g_tmp, NULL), DPF_OK);
    return 0;
}

static void sha_of(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(data, len, md, &n, EVP_sha256(), NULL), 1);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int in_lib(const char *rel)
{
    char p[2048];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", g_lib, rel);
    return lstat(p, &st) == 0;
}

static int filelib_has(const char *sha)
{
    char p[1024];
    assert_true(dpa_clib_file_path(g_lib, sha, p, sizeof p));
    return dpa_fs_is_file(p);
}

/* Puts data whole, in one chunk; asserts it is stored. */
static void put_whole(const char *data, size_t len, char sha[65])
{
    char err[512];
    int64_t held = -1;
    int stored = 0;
    sha_of(data, len, sha);
    assert_int_equal(dpa_clib_put(g_lib, sha, (int64_t)len, 0, data, len, &held, &stored, err,
                                  sizeof err), DPF_OK);
    assert_int_equal(held, (int64_t)len);
    assert_true(filelib_has(sha));
}

static void wire_checks(void **state)
{
    (void)state;
    char err[128];
    assert_true(dpa_clib_pkg_valid("PS100001", err, sizeof err));
    assert_true(dpa_clib_pkg_valid("P1S0ABCF", err, sizeof err));
    const char *bad_ids[] = {"", "PS10001", "PS1000001", "ps100001", "PS10000G", "PS1-0001",
                             "PS10000a", "../00001", NULL};
    for (size_t i = 0; bad_ids[i]; i++) {
        err[0] = '\0';
        assert_false(dpa_clib_pkg_valid(bad_ids[i], err, sizeof err));
        assert_non_null(strstr(err, "package id"));
    }
    assert_false(dpa_clib_pkg_valid(NULL, NULL, 0));

    assert_true(dpa_clib_path_valid("a/b c/d.bin", err, sizeof err));
    assert_true(dpa_clib_path_valid("a..b", err, sizeof err));
    const char *bad_paths[] = {"", "/etc/passwd", "../x", "a/../b", "a/..", "./a", "a/./b",
                               "a//b", "a/", "a\\b", "a\x01" "b", "a\nb", "a\x7f", NULL};
    for (size_t i = 0; bad_paths[i]; i++)
        assert_false(dpa_clib_path_valid(bad_paths[i], err, sizeof err));
    char longp[1100];
    memset(longp, 'a', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    assert_false(dpa_clib_path_valid(longp, err, sizeof err));

    assert_true(dpa_clib_sha_valid(DPA_CLIB_SHA_EMPTY, err, sizeof err));
    assert_false(dpa_clib_sha_valid("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
                                    err, sizeof err));
    assert_false(dpa_clib_sha_valid("e3b0", err, sizeof err));
    assert_false(dpa_clib_sha_valid("../../../../etc/passwd", err, sizeof err));
    dpa_clib_file f = {"x", "0000000000000000000000000000000000000000000000000000000000000000", 0};
    assert_false(dpa_clib_file_valid(&f, 1, err, sizeof err)); /* size 0 must be the empty hash */
    f.size = -1;
    assert_false(dpa_clib_file_valid(&f, 1, err, sizeof err));
}

static void put_in_chunks_resumes_and_verifies(void **state)
{
    (void)state;
    char data[10000], sha[65], err[512], partial[1024];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)(i * 7 + 3);
    sha_of(data, sizeof data, sha);
    int64_t held = -1;
    int stored = -1;

    assert_int_equal(dpa_clib_have(g_lib, sha, 10000, &held, err, sizeof err), DPF_OK);
    assert_int_equal(held, 0);
    assert_int_equal(dpa_clib_put(g_lib, sha, 10000, 0, data, 4000, &held, &stored, err,
                                  sizeof err), DPF_OK);
    assert_int_equal(held, 4000);
    assert_false(stored);
    assert_false(filelib_has(sha)); /* nothing partial is visible */
    assert_true(dpa_clib_partial_path(g_lib, sha, partial, sizeof partial));
    assert_true(dpa_fs_is_file(partial));

    /* an agent restarted here: content_have tells where to resume */
    assert_int_equal(dpa_clib_have(g_lib, sha, 10000, &held, err, sizeof err), DPF_OK);
    assert_int_equal(held, 4000);
    /* a wrong offset is refused, naming what is held; nothing changes */
    assert_int_equal(dpa_clib_put(g_lib, sha, 10000, 6000, data + 6000, 1000, &held, &stored,
                                  err, sizeof err), DPF_ERR_CONFLICT);
    assert_non_null(strstr(err, "holds 4000 bytes"));
    assert_int_equal(held, 4000);
    /* a chunk past the end is refused */
    assert_int_equal(dpa_clib_put(g_lib, sha, 10000, 4000, data, 7000, &held, &stored, err,
                                  sizeof err), DPF_ERR_INVALID);
    assert_int_equal(dpa_clib_put(g_lib, sha, 10000, 4000, data + 4000, 6000, &held, &stored,
                                  err, sizeof err), DPF_OK);
    assert_int_equal(held, 10000);
    assert_true(stored);
    assert_true(filelib_has(sha));
    assert_false(dpa_fs_is_file(partial));
    char want[1024];
    snprintf(want, sizeof want, "FileLib/%.4s/%s", sha, sha);
    assert_true(in_lib(want));
    /* sent again: already there, nothing written */
    assert_int_equal(dpa_clib_put(g_lib, sha, 10000, 0, data, 10, &held, &stored, err,
                                  sizeof err), DPF_OK);
    assert_int_equal(held, 10000);
    assert_false(stored);

    /* offset 0 starts again */
    char other[3000], sha2[65];
    memset(other, 'q', sizeof other);
    sha_of(other, sizeof other, sha2);
    assert_int_equal(dpa_clib_put(g_lib, sha2, 3000, 0, "garbage!", 8, &held, &stored, err,
                                  sizeof err), DPF_OK);
    assert_int_equal(dpa_clib_put(g_lib, sha2, 3000, 0, other, 1000, &held, &stored, err,
                                  sizeof err), DPF_OK);
    assert_int_equal(held, 1000);
    assert_int_equal(dpa_clib_put(g_lib, sha2, 3000, 1000, other + 1000, 2000, &held, &stored,
                                  err, sizeof err), DPF_OK);
    assert_true(stored && filelib_has(sha2));
}

static void corrupted_file_is_refused(void **state)
{
    (void)state;
    char data[5000], sha[65], err[512], partial[1024];
    memset(data, 'x', sizeof data);
    sha_of(data, sizeof data, sha);
    data[2500] = 'y'; /* flipped on its way */
    int64_t held = -1;
    int stored = -1;
    assert_int_equal(dpa_clib_put(g_lib, sha, 5000, 0, data, 5000, &held, &stored, err,
                                  sizeof err), DPF_ERR_VERIFY);
    assert_non_null(strstr(err, "failed verification: SHA-256 mismatch"));
    assert_false(stored);
    assert_int_equal(held, 0);
    assert_false(filelib_has(sha));
    assert_true(dpa_clib_partial_path(g_lib, sha, partial, sizeof partial));
    assert_false(dpa_fs_is_file(partial));

    /* a complete partial left by a crash before the move is verified by
     * content_have: a bad one is deleted, a good one moved */
    int fd = -1;
    assert_int_equal(dpa_clib_partial_open(g_lib, sha, &fd, err, sizeof err), DPF_OK);
    assert_int_equal(write(fd, data, sizeof data), (ssize_t)sizeof data);
    close(fd);
    assert_int_equal(dpa_clib_have(g_lib, sha, 5000, &held, err, sizeof err), DPF_OK);
    assert_int_equal(held, 0);
    assert_false(dpa_fs_is_file(partial));
    data[2500] = 'x';
    assert_int_equal(dpa_clib_partial_open(g_lib, sha, &fd, err, sizeof err), DPF_OK);
    assert_int_equal(write(fd, data, sizeof data), (ssize_t)sizeof data);
    close(fd);
    assert_int_equal(dpa_clib_have(g_lib, sha, 5000, &held, err, sizeof err), DPF_OK);
    assert_int_equal(held, 5000);
    assert_true(filelib_has(sha));
}

static dpa_pkglib_result install(const char *pkg, long long ver, const dpa_clib_file *f,
                                 size_t n, dpf_status want)
{
    dpa_pkglib_result res;
    char err[512] = "";
    dpf_status rc = dpa_pkglib_install(g_lib, pkg, ver, f, n, &res, err, sizeof err);
    if (rc != want)
        fail_msg("install %s v%lld: %d (%s)", pkg, ver, rc, err);
    return res;
}

static void shared_files_kept_once_and_collected(void **state)
{
    (void)state;
    char a[65], b[65], c[65], d[65], err[512], path[1024];
    put_whole("shared bytes\n", 13, a);
    put_whole("only in PS100001\n", 17, b);
    put_whole("only in PS100002\n", 17, c);
    dpa_clib_file p1[] = {{"dir/sub/shared.bin", a, 13}, {"copy/shared.bin", a, 13},
                          {"b.txt", b, 17}, {"empty.txt", DPA_CLIB_SHA_EMPTY, 0}};
    dpa_clib_file p2[] = {{"x/shared.bin", a, 13}, {"c.txt", c, 17}};

    dpa_pkglib_result r = install("PS100001", 1, p1, 4, DPF_OK);
    assert_true(r.changed);
    assert_int_equal(r.files, 4);
    assert_int_equal(r.bytes, 43);
    assert_true(in_lib("PkgLib/PS100001.INI") && in_lib("DataLib/PS100001.1.INI"));
    r = install("PS100001", 1, p1, 4, DPF_OK); /* idempotent */
    assert_false(r.changed);
    install("PS100002", 3, p2, 2, DPF_OK);

    int64_t size = 0;
    long long ver = 0;
    assert_int_equal(dpa_pkglib_version(g_lib, "PS100002", &ver), DPF_OK);
    assert_int_equal(ver, 3);
    assert_int_equal(dpa_pkglib_lookup(g_lib, "PS100001", "copy/shared.bin", path, sizeof path,
                                       &size), DPF_OK);
    assert_non_null(strstr(path, a));
    assert_int_equal(size, 13);
    assert_int_equal(dpa_pkglib_lookup(g_lib, "PS100001", "empty.txt", path, sizeof path, &size),
                     DPF_OK);
    assert_int_equal(size, 0);
    assert_true(dpa_fs_is_file(path));
    assert_int_equal(dpa_pkglib_lookup(g_lib, "PS100001", "c.txt", path, sizeof path, &size),
                     DPF_ERR_NOT_FOUND);
    assert_int_equal(dpa_pkglib_lookup(g_lib, "PS100009", "b.txt", path, sizeof path, &size),
                     DPF_ERR_NOT_FOUND);

    /* version 2 of PS100001 drops b.txt: v1's manifest and b go, a stays */
    put_whole("new in v2\n", 10, d);
    dpa_clib_file p1v2[] = {{"dir/sub/shared.bin", a, 13}, {"d.txt", d, 10}};
    r = install("PS100001", 2, p1v2, 2, DPF_OK);
    assert_int_equal(r.versions_removed, 1);
    assert_int_equal(r.files_removed, 2); /* b.txt and the empty file */
    assert_false(in_lib("DataLib/PS100001.1.INI"));
    assert_true(in_lib("DataLib/PS100001.2.INI"));
    assert_false(filelib_has(b));
    assert_true(filelib_has(a) && filelib_has(c) && filelib_has(d));

    /* removing PS100001 keeps the file PS100002 shares */
    dpa_pkglib_result rr;
    assert_int_equal(dpa_pkglib_remove(g_lib, "PS100001", &rr, err, sizeof err), DPF_OK);
    assert_true(rr.changed);
    assert_int_equal(rr.files_removed, 1); /* d */
    assert_false(in_lib("PkgLib/PS100001.INI") || in_lib("DataLib/PS100001.2.INI"));
    assert_true(filelib_has(a) && filelib_has(c));
    assert_false(filelib_has(d));
    assert_int_equal(dpa_pkglib_lookup(g_lib, "PS100001", "d.txt", path, sizeof path, &size),
                     DPF_ERR_NOT_FOUND);
    assert_int_equal(dpa_pkglib_remove(g_lib, "PS100001", &rr, err, sizeof err), DPF_OK);
    assert_false(rr.changed); /* idempotent */

    assert_int_equal(dpa_pkglib_remove(g_lib, "PS100002", &rr, err, sizeof err), DPF_OK);
    assert_int_equal(rr.files_removed, 2);
    assert_false(filelib_has(a) || filelib_has(c));
}

static void install_refuses_and_changes_nothing(void **state)
{
    (void)state;
    char a[65], err[512];
    put_whole("present\n", 8, a);
    const char *absent = "1111111111111111111111111111111111111111111111111111111111111111";
    dpa_clib_file missing[] = {{"a", a, 8}, {"b/c", absent, 5}};
    dpa_pkglib_result r = install("PS100003", 1, missing, 2, DPF_ERR_NOT_FOUND);
    assert_int_equal(r.missing, 1);
    assert_string_equal(r.first_missing_path, "b/c");
    dpa_clib_file wrong_size[] = {{"a", a, 9}};
    install("PS100003", 1, wrong_size, 1, DPF_ERR_NOT_FOUND);

    dpa_clib_file bad_path[] = {{"a", a, 8}, {"../../etc/x", a, 8}};
    install("PS100003", 1, bad_path, 2, DPF_ERR_INVALID);
    dpa_clib_file twice[] = {{"a", a, 8}, {"a", a, 8}};
    install("PS100003", 1, twice, 2, DPF_ERR_INVALID);
    dpa_clib_file bad_sha[] = {{"a", "../../../x", 8}};
    install("PS100003", 1, bad_sha, 1, DPF_ERR_INVALID);
    dpa_clib_file good[] = {{"a", a, 8}};
    install("../PS100", 1, good, 1, DPF_ERR_INVALID);
    install("PS100003", 0, good, 1, DPF_ERR_INVALID);
    assert_false(in_lib("PkgLib/PS100003.INI") || in_lib("DataLib/PS100003.1.INI"));

    dpa_pkglib_result rr;
    assert_int_equal(dpa_pkglib_remove(g_lib, "bad", &rr, err, sizeof err), DPF_ERR_INVALID);
    assert_non_null(strstr(err, "bad package id"));
}

static void orphans_collected_only_when_old(void **state)
{
    (void)state;
    char young[65], old[65], kept[65], path[1024], partial[1024], err[512];
    put_whole("young orphan\n", 13, young);
    put_whole("old orphan\n", 11, old);
    put_whole("referenced\n", 11, kept);
    int fd = -1;
    assert_int_equal(dpa_clib_partial_open(g_lib, young, &fd, err, sizeof err), DPF_OK);
    close(fd);
    assert_true(dpa_clib_partial_path(g_lib, young, partial, sizeof partial));
    struct timespec ts[2] = {{time(NULL) - 2 * DPA_PKGLIB_ORPHAN_AGE_S, 0},
                             {time(NULL) - 2 * DPA_PKGLIB_ORPHAN_AGE_S, 0}};
    assert_true(dpa_clib_file_path(g_lib, old, path, sizeof path));
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
    assert_int_equal(utimensat(AT_FDCWD, partial, ts, 0), 0);
    dpa_clib_file f[] = {{"k", kept, 11}};
    dpa_pkglib_result r = install("PS100004", 1, f, 1, DPF_OK);
    assert_int_equal(r.files_removed, 1);
    assert_false(filelib_has(old));
    assert_false(dpa_fs_is_file(partial)); /* an abandoned partial */
    assert_true(filelib_has(young)); /* maybe sent for a package not installed yet */
    assert_true(filelib_has(kept));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wire_checks),
        cmocka_unit_test_setup_teardown(put_in_chunks_resumes_and_verifies, setup, teardown),
        cmocka_unit_test_setup_teardown(corrupted_file_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(shared_files_kept_once_and_collected, setup, teardown),
        cmocka_unit_test_setup_teardown(install_refuses_and_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(orphans_collected_only_when_old, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

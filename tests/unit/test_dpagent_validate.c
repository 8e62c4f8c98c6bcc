/* validate.c: content validation of a package on a temporary content
 * library. A good package is verified on a thread running at nice 19 and
 * in the idle I/O class while the caller's priority never changes; a file
 * deleted, one overwritten with other bytes of the same size and one
 * truncated are reported by path, set aside in FileLib/.corrupt and then
 * reported as not held, so a new put repairs them; a file shared by two
 * packages is checked for each; a package not held, a bad id and a lost
 * manifest are clear errors. */
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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "contentlib.h"
#include "fsutil.h"
#include "pkglib.h"
#include "validate.h"

#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_CLASS_IDLE 3

static char g_tmp[256], g_lib[512];

static int setup(void **state)
{
    (void)state;
    snprintf(g_tmp, sizeof g_tmp, "/tmp/test_dpagent_validate.XXXXXX");
    assert_non_null(mkdtemp(g_tmp));
    snprintf(g_lib, sizeof g_lib, "%s/SCCMContentLib$", g_tmp);
    assert_int_equal(dpa_fs_mkdirs(g_lib, 0755, NULL), DPF_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dpa_validate_set_hook(NULL, NULL);
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

static void put_whole(const void *data, size_t len, char sha[65])
{
    char err[512];
    int64_t held = -1;
    int stored = 0;
    sha_of(data, len, sha);
    assert_int_equal(dpa_clib_put(g_lib, sha, (int64_t)len, 0, data, len, &held, &stored, err,
                                  sizeof err), DPF_OK);
    assert_int_equal(held, (int64_t)len);
}

static void install(const char *pkg, const dpa_clib_file *f, size_t n)
{
    dpa_pkglib_result res;
    char err[512] = "";
    if (dpa_pkglib_install(g_lib, pkg, 1, f, n, &res, err, sizeof err) != DPF_OK)
        fail_msg("install %s: %s", pkg, err);
}

static void filelib(const char *sha, char *out, size_t len)
{
    assert_true(dpa_clib_file_path(g_lib, sha, out, len));
}

static int64_t held(const char *sha, int64_t size)
{
    char err[512];
    int64_t h = -1;
    assert_int_equal(dpa_clib_have(g_lib, sha, size, &h, err, sizeof err), DPF_OK);
    return h;
}

static dpa_validate_result validate_ok(const char *pkg)
{
    dpa_validate_result res;
    char err[512] = "";
    if (dpa_validate_package(g_lib, pkg, &res, err, sizeof err) != DPF_OK)
        fail_msg("validate %s: %s", pkg, err);
    return res;
}

/* ---- priority ---- */

static pid_t gettid_(void)
{
    return (pid_t)syscall(SYS_gettid);
}

/* Field 19 (nice) of /proc/self/task/<tid>/stat. */
static long nice_of(pid_t tid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    assert_non_null(p);
    long v = 0;
    int field = 2;
    for (char *tok = strtok(p + 1, " "); tok != NULL; tok = strtok(NULL, " ")) {
        if (++field == 19) {
            v = strtol(tok, NULL, 10);
            break;
        }
    }
    assert_int_equal(field, 19);
    return v;
}

static int ioprio_class_of(pid_t tid)
{
    long v = syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, (int)tid);
    assert_true(v >= 0);
    return (int)(v >> 13);
}

typedef struct seen {
    int calls;
    pid_t tid;
    long nice;
    int ioclass;
} seen;

static void on_hashing_thread(void *arg)
{
    seen *s = arg;
    s->calls++;
    s->tid = gettid_();
    s->nice = nice_of(s->tid);
    s->ioclass = ioprio_class_of(s->tid);
}

/* ---- tests ---- */

static void good_package_verified_at_low_priority(void **state)
{
    (void)state;
    static char big[700 * 1024]; /* several hash blocks */
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 31 + 7);
    char a[65], b[65];
    put_whole(big, sizeof big, a);
    put_whole("small\n", 6, b);
    dpa_clib_file files[] = {{"bin/setup.exe", a, sizeof big}, {"doc/readme.txt", b, 6},
                             {"empty.txt", DPA_CLIB_SHA_EMPTY, 0}};
    install("PS100001", files, 3);

    seen s = {0};
    pid_t me = gettid_();
    long nice_before = nice_of(me);
    int io_before = ioprio_class_of(me);
    dpa_validate_set_hook(on_hashing_thread, &s);
    dpa_validate_result res = validate_ok("PS100001");
    assert_int_equal(res.nbad, 0);
    assert_int_equal(res.files, 3);
    assert_int_equal(res.bytes, (int64_t)sizeof big + 6);
    assert_int_equal(res.version, 1);
    assert_int_equal(res.set_aside, 0);
    assert_int_equal(res.nice_errno, 0);
    assert_int_equal(res.ioprio_errno, 0);
    dpa_validate_result_free(&res);

    /* hashed on another thread, at nice 19 and idle I/O */
    assert_int_equal(s.calls, 1);
    assert_int_not_equal(s.tid, me);
    assert_int_equal(s.nice, 19);
    assert_int_equal(s.ioclass, IOPRIO_CLASS_IDLE);
    /* the calling thread (a pool worker in the agent) is as it was */
    assert_int_equal(nice_of(me), nice_before);
    assert_int_equal(ioprio_class_of(me), io_before);
    assert_int_not_equal(nice_before, 19);
}

static void bad_files_reported_and_set_aside(void **state)
{
    (void)state;
    char gone[65], over[65], trunc[65], ok[65], path[1024], moved[1024];
    put_whole("will be deleted\n", 16, gone);
    put_whole("will be overwritten\n", 20, over);
    put_whole("will be truncated\n", 18, trunc);
    put_whole("stays good\n", 11, ok);
    dpa_clib_file files[] = {{"bin/setup.exe", gone, 16}, {"a.bin", over, 20},
                             {"dir/t.bin", trunc, 18}, {"good.txt", ok, 11},
                             {"copy/a.bin", over, 20}};
    install("PS100001", files, 5);

    filelib(gone, path, sizeof path);
    assert_int_equal(unlink(path), 0);
    filelib(over, path, sizeof path);
    FILE *f = fopen(path, "r+");
    assert_non_null(f);
    assert_int_equal(fwrite("WILL BE OVERWRITTEN\n", 1, 20, f), 20); /* same size */
    fclose(f);
    filelib(trunc, path, sizeof path);
    assert_int_equal(truncate(path, 5), 0);
    /* before validation the overwritten file still looks held (same size) */
    assert_int_equal(held(over, 20), 20);

    dpa_validate_result res = validate_ok("PS100001");
    assert_int_equal(res.files, 5);
    assert_int_equal(res.nbad, 4);
    assert_string_equal(res.bad[0].path, "bin/setup.exe");
    assert_int_equal(res.bad[0].fault, DPA_VALIDATE_MISSING);
    assert_int_equal(res.bad[0].found, -1);
    assert_string_equal(res.bad[0].sha, gone);
    assert_false(res.bad[0].set_aside);
    assert_string_equal(res.bad[1].path, "a.bin");
    assert_int_equal(res.bad[1].fault, DPA_VALIDATE_HASH);
    assert_int_equal(res.bad[1].found, 20);
    assert_string_equal(res.bad[1].sha, over);
    char want[65];
    sha_of("WILL BE OVERWRITTEN\n", 20, want);
    assert_string_equal(res.bad[1].got, want);
    assert_true(res.bad[1].set_aside);
    assert_string_equal(res.bad[2].path, "dir/t.bin");
    assert_int_equal(res.bad[2].fault, DPA_VALIDATE_SIZE);
    assert_int_equal(res.bad[2].found, 5);
    /* the second path of the overwritten file: same verdict, not "missing" */
    assert_string_equal(res.bad[3].path, "copy/a.bin");
    assert_int_equal(res.bad[3].fault, DPA_VALIDATE_HASH);
    assert_int_equal(res.bad[3].found, 20);
    assert_int_equal(res.set_aside, 2);
    dpa_validate_result_free(&res);

    /* FileLib no longer has them: content_have says send them again */
    snprintf(moved, sizeof moved, "%s/FileLib/.corrupt/%s", g_lib, over);
    assert_true(dpa_fs_is_file(moved));
    filelib(over, path, sizeof path);
    assert_false(dpa_fs_is_file(path));
    assert_int_equal(held(over, 20), 0);
    assert_int_equal(held(trunc, 18), 0);
    assert_int_equal(held(gone, 16), 0);
    assert_int_equal(held(ok, 11), 11);
    int64_t size = 0;
    char served[1024];
    assert_int_equal(dpa_pkglib_lookup(g_lib, "PS100001", "a.bin", served, sizeof served,
                                       &size), DPF_OK);
    assert_false(dpa_fs_is_file(served)); /* the content server finds nothing: 404 */

    /* a redistribution puts them again: verified */
    put_whole("will be deleted\n", 16, gone);
    put_whole("will be overwritten\n", 20, over);
    put_whole("will be truncated\n", 18, trunc);
    res = validate_ok("PS100001");
    assert_int_equal(res.nbad, 0);
    assert_int_equal(res.files, 5);
    dpa_validate_result_free(&res);

    /* the set-aside copy is collected once a day old, like a partial */
    struct timespec ts[2] = {{time(NULL) - 2 * DPA_PKGLIB_ORPHAN_AGE_S, 0},
                             {time(NULL) - 2 * DPA_PKGLIB_ORPHAN_AGE_S, 0}};
    assert_int_equal(utimensat(AT_FDCWD, moved, ts, 0), 0);
    install("PS100001", files, 5);
    assert_false(dpa_fs_is_file(moved));
    assert_int_equal(held(over, 20), 20);
}

static void shared_file_checked_for_each_package(void **state)
{
    (void)state;
    char shared[65], own[65], path[1024];
    put_whole("shared by two packages\n", 23, shared);
    put_whole("PS100002 only\n", 14, own);
    dpa_clib_file p1[] = {{"x/shared.bin", shared, 23}};
    dpa_clib_file p2[] = {{"shared.bin", shared, 23}, {"own.txt", own, 14}};
    install("PS100001", p1, 1);
    install("PS100002", p2, 2);
    dpa_validate_result res = validate_ok("PS100002");
    assert_int_equal(res.nbad, 0);
    dpa_validate_result_free(&res);

    filelib(shared, path, sizeof path);
    FILE *f = fopen(path, "r+");
    assert_non_null(f);
    assert_int_equal(fputc('S', f), 'S');
    fclose(f);
    res = validate_ok("PS100001");
    assert_int_equal(res.nbad, 1);
    assert_string_equal(res.bad[0].path, "x/shared.bin");
    assert_int_equal(res.bad[0].fault, DPA_VALIDATE_HASH);
    dpa_validate_result_free(&res);
    /* PS100002 lists it too: reported for it as well */
    res = validate_ok("PS100002");
    assert_int_equal(res.nbad, 1);
    assert_string_equal(res.bad[0].path, "shared.bin");
    assert_int_equal(res.bad[0].fault, DPA_VALIDATE_MISSING);
    dpa_validate_result_free(&res);
}

static void not_held_and_bad_input(void **state)
{
    (void)state;
    char err[512], a[65], data[1024];
    dpa_validate_result res;
    assert_int_equal(dpa_validate_package(g_lib, "PS100009", &res, err, sizeof err),
                     DPF_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "PS100009"));
    dpa_validate_result_free(&res);
    assert_int_equal(dpa_validate_package(g_lib, "../PS100", &res, err, sizeof err),
                     DPF_ERR_INVALID);
    assert_non_null(strstr(err, "bad package id"));
    dpa_validate_result_free(&res);

    /* PkgLib names a version whose manifest is gone */
    put_whole("x\n", 2, a);
    dpa_clib_file f[] = {{"x", a, 2}};
    install("PS100003", f, 1);
    snprintf(data, sizeof data, "%s/DataLib/PS100003.1.INI", g_lib);
    assert_int_equal(unlink(data), 0);
    assert_int_equal(dpa_validate_package(g_lib, "PS100003", &res, err, sizeof err),
                     DPF_ERR_IO);
    assert_non_null(strstr(err, "DataLib/PS100003.1.INI"));
    dpa_validate_result_free(&res);
    dpa_validate_result_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(good_package_verified_at_low_priority, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_files_reported_and_set_aside, setup, teardown),
        cmocka_unit_test_setup_teardown(shared_file_checked_for_each_package, setup, teardown),
        cmocka_unit_test_setup_teardown(not_held_and_bad_input, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

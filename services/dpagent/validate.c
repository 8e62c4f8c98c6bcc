/* Content validation: the source re-hashes what a DP holds on a schedule so
 * that a disk that silently corrupted a file is noticed before clients
 * download it. Every file of the version PkgLib names is opened in FileLib,
 * its size compared and its SHA-256 computed by reading it back in blocks
 * (memory does not grow with the file).
 *
 * The reading runs on a thread made for it, which lowers its own priority
 * (nice 19, I/O class idle) and exits: the pool worker that runs the step
 * never changes priority, because an unprivileged agent (the container runs
 * as user dpfleet, RLIMIT_NICE 0) could not raise it back, and the worker
 * would serve every later step of every host at nice 19. The content server
 * keeps serving meanwhile (its own threads).
 *
 * A bad file is moved to FileLib/.corrupt/<sha256> (deleted when it cannot
 * be moved): FileLib only ever holds verified bytes, so content_have reports
 * it as not held, content_install refuses a version needing it, the content
 * server answers 404 for it, and a redistribution sends it again. The moved
 * file is kept a day for an administrator to look at, then collected. */
#include "validate.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <dpf/util.h>
#include "fsutil.h"
#include "pkglib.h"

/* linux/ioprio.h is not in every libc's headers */
#define IOPRIO_CLASS_SHIFT 13
#define IOPRIO_CLASS_IDLE 3
#define IOPRIO_WHO_PROCESS 1

#define STOP_NOMEM 2

static dpa_validate_hook_fn g_hook;
static void *g_hook_arg;

void dpa_validate_set_hook(dpa_validate_hook_fn fn, void *arg)
{
    g_hook = fn;
    g_hook_arg = arg;
}

/* One validation run, shared by the caller and the hashing thread (the
 * caller only waits while the thread runs). */
typedef struct run {
    const char *lib, *pkg;
    dpa_validate_result *res;
    void *moved;  /* tsearch tree of the shas this run set aside (malloc'd strings) */
    int open_errno;
} run;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(a, b);
}

static dpa_validate_bad *add_bad(run *r, const char *path, const char *sha, int64_t size,
                                 dpa_validate_fault fault, int64_t found)
{
    dpa_validate_result *res = r->res;
    if (res->nbad == res->capbad) {
        size_t cap = res->capbad ? res->capbad * 2 : 16;
        dpa_validate_bad *b = realloc(res->bad, cap * sizeof *b);
        if (b == NULL)
            return NULL;
        res->bad = b;
        res->capbad = cap;
    }
    dpa_validate_bad *b = &res->bad[res->nbad];
    memset(b, 0, sizeof *b);
    if ((b->path = strdup(path)) == NULL)
        return NULL;
    snprintf(b->sha, sizeof b->sha, "%s", sha);
    b->size = size;
    b->fault = fault;
    b->found = found;
    res->nbad++;
    return b;
}

/* Moves FileLib/<4>/<sha> to FileLib/.corrupt/<sha> (its mtime set to now,
 * so it is kept a day); deletes it when it cannot be moved. 1 when FileLib
 * no longer has it. */
static int set_aside(run *r, const char *file, const char *sha)
{
    char dir[4096], dst[4096];
    int gone = 0;
    if (dpf_fmt(dir, sizeof dir, "%s/FileLib/" DPA_VALIDATE_CORRUPT_DIR, r->lib) &&
        dpf_fmt(dst, sizeof dst, "%s/%s", dir, sha) &&
        dpa_fs_mkdirs(dir, 0755, NULL) == DPF_OK && rename(file, dst) == 0) {
        (void)utimensat(AT_FDCWD, dst, NULL, AT_SYMLINK_NOFOLLOW);
        gone = 1;
    } else {
        gone = unlink(file) == 0;
    }
    if (!gone)
        return 0;
    char *key = strdup(sha);
    if (key != NULL && tsearch(key, &r->moved, cmp_str) == NULL)
        free(key);
    r->res->set_aside++;
    snprintf(dir, sizeof dir, "%s", file);
    *strrchr(dir, '/') = '\0';
    dpa_fs_rmdir_if_empty(dir);
    return 1;
}

/* The verdict of one file already open as fd with stat st. */
static int check_open(run *r, int fd, const struct stat *st, const char *file, const char *sha,
                      int64_t size, const char *path)
{
    dpa_validate_bad *b = NULL;
    if (!S_ISREG(st->st_mode))
        return add_bad(r, path, sha, size, DPA_VALIDATE_MISSING, -1) ? 0 : STOP_NOMEM;
    if ((int64_t)st->st_size != size) {
        b = add_bad(r, path, sha, size, DPA_VALIDATE_SIZE, (int64_t)st->st_size);
    } else {
        char got[DPA_CLIB_SHA_LEN + 1];
        int64_t bytes = 0;
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        errno = 0;
        dpf_status rc = dpa_clib_hash_fd(fd, got, &bytes);
        if (rc == DPF_ERR_NOMEM)
            return STOP_NOMEM;
        if (rc != DPF_OK) {
            int e = errno;
            if ((b = add_bad(r, path, sha, size, DPA_VALIDATE_UNREADABLE, -1)) != NULL)
                b->err_no = e;
        } else if (bytes != size) { /* changed under us: as found */
            b = add_bad(r, path, sha, size, DPA_VALIDATE_SIZE, bytes);
        } else if (strcmp(got, sha) != 0) {
            if ((b = add_bad(r, path, sha, size, DPA_VALIDATE_HASH, bytes)) != NULL)
                memcpy(b->got, got, sizeof b->got);
        } else {
            return 0;
        }
    }
    if (b == NULL)
        return STOP_NOMEM;
    b->set_aside = set_aside(r, file, sha);
    return 0;
}

/* Manifest callback: one file of the package. */
static int check_file(void *ctx, const char *sha, int64_t size, const char *path)
{
    run *r = ctx;
    char file[4096];
    r->res->files++;
    r->res->bytes += size;
    if (!dpa_clib_file_path(r->lib, sha, file, sizeof file))
        return add_bad(r, path, sha, size, DPA_VALIDATE_MISSING, -1) ? 0 : STOP_NOMEM;
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT || e == ELOOP || e == ENOTDIR) {
            /* set aside a moment ago for another path of this package: same verdict */
            void *hit = r->moved != NULL ? tfind(sha, &r->moved, cmp_str) : NULL;
            for (size_t i = 0; hit != NULL && i < r->res->nbad; i++) {
                dpa_validate_bad prev = r->res->bad[i];
                if (!prev.set_aside || strcmp(prev.sha, sha) != 0)
                    continue;
                dpa_validate_bad *b = add_bad(r, path, sha, size, prev.fault, prev.found);
                if (b == NULL)
                    return STOP_NOMEM;
                memcpy(b->got, prev.got, sizeof b->got);
                b->err_no = prev.err_no;
                return 0;
            }
            return add_bad(r, path, sha, size, DPA_VALIDATE_MISSING, -1) ? 0 : STOP_NOMEM;
        }
        dpa_validate_bad *b = add_bad(r, path, sha, size, DPA_VALIDATE_UNREADABLE, -1);
        if (b == NULL)
            return STOP_NOMEM;
        b->err_no = e;
        return 0;
    }
    struct stat st;
    int rc;
    if (fstat(fd, &st) != 0) {
        dpa_validate_bad *b = add_bad(r, path, sha, size, DPA_VALIDATE_UNREADABLE, -1);
        if (b != NULL)
            b->err_no = errno;
        rc = b != NULL ? 0 : STOP_NOMEM;
    } else {
        rc = check_open(r, fd, &st, file, sha, size, path);
    }
    close(fd);
    return rc;
}

/* This thread only: nice 19 and the idle I/O class. */
static void lower_priority(dpa_validate_result *res)
{
    pid_t tid = (pid_t)syscall(SYS_gettid);
    if (setpriority(PRIO_PROCESS, (id_t)tid, 19) != 0)
        res->nice_errno = errno;
    if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, (int)tid,
                IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT) != 0)
        res->ioprio_errno = errno;
}

static void *hash_thread(void *arg)
{
    run *r = arg;
    lower_priority(r->res);
    if (g_hook != NULL)
        g_hook(g_hook_arg);
    int rc = dpa_pkglib_each_file(r->lib, r->pkg, r->res->version, check_file, r);
    r->open_errno = rc == -1 ? errno : 0;
    return (void *)(intptr_t)rc;
}

dpf_status dpa_validate_package(const char *lib, const char *pkg, dpa_validate_result *res,
                                char *err, size_t errlen)
{
    char why[128];
    memset(res, 0, sizeof *res);
    err[0] = '\0';
    if (!dpa_clib_pkg_valid(pkg, why, sizeof why)) {
        snprintf(err, errlen, "bad package id: %s", why);
        return DPF_ERR_INVALID;
    }
    if (dpa_pkglib_version(lib, pkg, &res->version) != DPF_OK) {
        snprintf(err, errlen, "package %s is not in PkgLib", pkg);
        return DPF_ERR_NOT_FOUND;
    }
    int64_t t0 = dpf_mono_us();
    run r = {lib, pkg, res, NULL, 0};
    pthread_t th;
    void *out = NULL;
    int e = pthread_create(&th, NULL, hash_thread, &r);
    if (e != 0) {
        snprintf(err, errlen, "cannot start the validation thread: %s", strerror(e));
        return DPF_ERR_IO;
    }
    (void)pthread_join(th, &out);
    tdestroy(r.moved, free);
    res->elapsed_ms = (dpf_mono_us() - t0) / 1000;
    int rc = (int)(intptr_t)out;
    if (rc == -1) {
        snprintf(err, errlen, "the manifest DataLib/%s.%lld.INI of the version PkgLib names "
                 "cannot be read: %s", pkg, res->version, strerror(r.open_errno));
        return DPF_ERR_IO;
    }
    if (rc != 0) {
        snprintf(err, errlen, "out of memory validating package %s", pkg);
        return DPF_ERR_NOMEM;
    }
    return DPF_OK;
}

void dpa_validate_result_free(dpa_validate_result *res)
{
    if (res == NULL)
        return;
    for (size_t i = 0; i < res->nbad; i++)
        free(res->bad[i].path);
    free(res->bad);
    res->bad = NULL;
    res->nbad = res->capbad = 0;
}

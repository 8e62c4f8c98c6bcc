/* File-system primitives for the steps. Atomic writes go through a
 * temporary file in the target directory and rename(2), so a crash in the
 * middle of a step leaves either the old file or the new one, never half of
 * one; the compare-before-write is what lets a repeated step reply
 * changed=0. Trees are removed with nftw(FTW_DEPTH | FTW_PHYS) so a symbolic
 * link inside a share is removed, never followed. */
#include "fsutil.h"

#include <dpf/util.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int dpa_fs_name_safe(const char *name, char *err, size_t errlen)
{
    const char *why = NULL;
    size_t len = name ? strlen(name) : 0;

    if (len == 0)
        why = "empty file name";
    else if (len > 255)
        why = "file name longer than 255 bytes";
    else if (name[0] == '.')
        why = "file name starts with '.'";
    else if (strstr(name, "..") != NULL)
        why = "file name contains '..'";
    else if (strchr(name, '/') != NULL || strchr(name, '\\') != NULL)
        why = "file name contains a path separator";
    else {
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)name[i];
            if (c < 0x20 || c >= 0x7f) {
                why = "file name contains a control or non-ASCII character";
                break;
            }
        }
    }
    if (why != NULL && err != NULL && errlen > 0)
        snprintf(err, errlen, "%s", why);
    return why == NULL;
}

static dpf_status errno_status(int e)
{
    if (e == ENOENT)
        return DPF_ERR_NOT_FOUND;
    if (e == ENOMEM)
        return DPF_ERR_NOMEM;
    return DPF_ERR_IO;
}

dpf_status dpa_fs_mkdirs(const char *path, mode_t mode, int *changed)
{
    char buf[4096];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof buf)
        return DPF_ERR_INVALID;
    memcpy(buf, path, len + 1);

    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char saved = buf[i];
        buf[i] = '\0';
        struct stat st;
        if (lstat(buf, &st) == 0) {
            if (!S_ISDIR(st.st_mode))
                return DPF_ERR_IO;
            if (saved == '\0' && (st.st_mode & 07777) != mode) {
                if (chmod(buf, mode) != 0)
                    return errno_status(errno);
                if (changed)
                    *changed = 1;
            }
        } else if (errno == ENOENT) {
            if (mkdir(buf, mode) != 0 && errno != EEXIST)
                return errno_status(errno);
            /* mkdir honours the umask; the share modes are part of the layout */
            if (chmod(buf, mode) != 0)
                return errno_status(errno);
            if (changed)
                *changed = 1;
        } else {
            return errno_status(errno);
        }
        buf[i] = saved;
    }
    return DPF_OK;
}

int dpa_fs_same_content(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return 0;
    struct stat st;
    int same = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == len;
    const unsigned char *want = data;
    unsigned char chunk[16384];
    size_t off = 0;
    while (same && off < len) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || off + (size_t)n > len || memcmp(chunk, want + off, (size_t)n) != 0)
            same = 0;
        else
            off += (size_t)n;
    }
    close(fd);
    return same;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void fsync_dir_of(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        return;
    *slash = '\0';
    int fd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

dpf_status dpa_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                               int *changed)
{
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == mode &&
        dpa_fs_same_content(path, data, len))
        return DPF_OK;

    char tmp[4096];
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return DPF_ERR_INVALID;
    int dirlen = (int)(slash - path);
    /* a fixed short name: the target's own name may already be 255 bytes */
    if (!dpf_fmt(tmp, sizeof tmp, "%.*s/.dpa.tmp.XXXXXX", dirlen, path))
        return DPF_ERR_INVALID;

    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return errno_status(errno);
    dpf_status rc = DPF_OK;
    if (write_all(fd, data, len) != 0 || fchmod(fd, mode) != 0 || fsync(fd) != 0)
        rc = errno_status(errno);
    if (close(fd) != 0 && rc == DPF_OK)
        rc = errno_status(errno);
    if (rc == DPF_OK && rename(tmp, path) != 0)
        rc = errno_status(errno);
    if (rc != DPF_OK) {
        unlink(tmp);
        return rc;
    }
    fsync_dir_of(path);
    if (changed)
        *changed = 1;
    return DPF_OK;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    int r = (flag == FTW_DP) ? rmdir(path) : unlink(path);
    if (r != 0 && errno != ENOENT)
        return -1;
    return 0;
}

dpf_status dpa_fs_rmtree(const char *path, int *changed)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? DPF_OK : errno_status(errno);
    if (!S_ISDIR(st.st_mode)) {
        if (unlink(path) != 0 && errno != ENOENT)
            return errno_status(errno);
    } else if (nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS) != 0) {
        return DPF_ERR_IO;
    }
    if (changed)
        *changed = 1;
    return DPF_OK;
}

dpf_status dpa_fs_unlink(const char *path, int *changed)
{
    if (unlink(path) != 0)
        return errno == ENOENT ? DPF_OK : errno_status(errno);
    if (changed)
        *changed = 1;
    return DPF_OK;
}

void dpa_fs_rmdir_if_empty(const char *path)
{
    (void)rmdir(path); /* fails with ENOTEMPTY when it still holds something */
}

int dpa_fs_is_dir(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int dpa_fs_is_file(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

size_t dpa_fs_count_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        struct stat st;
        if (e->d_type == DT_REG ||
            (e->d_type == DT_UNKNOWN && fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
             S_ISREG(st.st_mode)))
            n++;
    }
    closedir(d);
    return n;
}

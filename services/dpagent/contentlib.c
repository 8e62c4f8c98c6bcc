/* FileLib: the single-instance file store of a host's content library.
 * Files arrive in pieces (content_put chunks, or a download) and are written
 * straight to FileLib/.partial/<sha256>, so memory never grows with a file's
 * size and an agent killed half way resumes at the partial's length. Only a
 * file whose size and SHA-256 (read back from disk in blocks, never held in
 * memory) match moves into FileLib, by rename after fsync: a client or a
 * package install can only ever see whole, verified files. */
#include "contentlib.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dpf/util.h>
#include "fsutil.h"

#define HASH_BLOCK (256 * 1024)
#define PATH_MAX_WIRE 1024

static int fail(char *err, size_t errlen, const char *why)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s", why);
    return 0;
}

int dpa_clib_pkg_valid(const char *id, char *err, size_t errlen)
{
    if (id == NULL || strlen(id) != 8)
        return fail(err, errlen, "a package id is 8 characters: site code + 5 hex digits");
    for (int i = 0; i < 8; i++) {
        char c = id[i];
        int ok = i < 3 ? ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
                       : ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'));
        if (!ok)
            return fail(err, errlen,
                        "a package id is a site code (A-Z, 0-9) and 5 upper-case hex digits");
    }
    return 1;
}

int dpa_clib_path_valid(const char *rel, char *err, size_t errlen)
{
    if (rel == NULL || *rel == '\0')
        return fail(err, errlen, "empty path");
    if (strlen(rel) > PATH_MAX_WIRE)
        return fail(err, errlen, "path longer than 1024 bytes");
    if (*rel == '/')
        return fail(err, errlen, "path starts with '/'");
    const char *seg = rel;
    for (const char *p = rel;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '/' || c == '\0') {
            size_t len = (size_t)(p - seg);
            if (len == 0)
                return fail(err, errlen, "path has an empty segment");
            if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
                return fail(err, errlen, "path has a '.' or '..' segment");
            if (len > 255)
                return fail(err, errlen, "path segment longer than 255 bytes");
            if (c == '\0')
                return 1;
            seg = p + 1;
        } else if (c == '\\') {
            return fail(err, errlen, "path contains a backslash");
        } else if (c < 0x20 || c == 0x7f) {
            return fail(err, errlen, "path contains a control character");
        }
    }
}

int dpa_clib_sha_valid(const char *sha, char *err, size_t errlen)
{
    if (sha == NULL || strlen(sha) != DPA_CLIB_SHA_LEN)
        return fail(err, errlen, "a SHA-256 is 64 lower-case hex digits");
    for (const char *p = sha; *p; p++) {
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return fail(err, errlen, "a SHA-256 is 64 lower-case hex digits");
    }
    return 1;
}

int dpa_clib_file_valid(const dpa_clib_file *f, int need_path, char *err, size_t errlen)
{
    char why[128];
    if (need_path && !dpa_clib_path_valid(f->path, why, sizeof why)) {
        snprintf(err, errlen, "bad file path: %s", why);
        return 0;
    }
    if (!dpa_clib_sha_valid(f->sha, why, sizeof why)) {
        snprintf(err, errlen, "bad sha256 of %s: %s", need_path ? f->path : "a file", why);
        return 0;
    }
    if (f->size < 0) {
        snprintf(err, errlen, "negative size of file %.16s...", f->sha);
        return 0;
    }
    if (f->size == 0 && strcmp(f->sha, DPA_CLIB_SHA_EMPTY) != 0) {
        snprintf(err, errlen, "file %.16s... has size 0 but is not the SHA-256 of no bytes",
                 f->sha);
        return 0;
    }
    return 1;
}

int dpa_clib_file_path(const char *lib, const char *sha, char *out, size_t len)
{
    return dpf_fmt(out, len, "%s/FileLib/%.4s/%s", lib, sha, sha);
}

int dpa_clib_partial_path(const char *lib, const char *sha, char *out, size_t len)
{
    return dpf_fmt(out, len, "%s/FileLib/.partial/%s", lib, sha);
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* FileLib/<4 hex> for sha into dir, created. */
static dpf_status bucket_dir(const char *lib, const char *sha, char *dir, size_t len)
{
    if (!dpf_fmt(dir, len, "%s/FileLib/%.4s", lib, sha))
        return DPF_ERR_INVALID;
    return dpa_fs_mkdirs(dir, 0755, NULL);
}

static int stat_size(const char *path, int64_t *size)
{
    struct stat st;
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    *size = (int64_t)st.st_size;
    return 1;
}

int dpa_clib_in_filelib(const char *lib, const char *sha, int64_t size)
{
    char path[4096], dir[4096];
    int64_t have = -1;
    if (!dpa_clib_file_path(lib, sha, path, sizeof path))
        return 0;
    if (stat_size(path, &have))
        return have == size;
    if (size != 0 || strcmp(sha, DPA_CLIB_SHA_EMPTY) != 0)
        return 0;
    if (bucket_dir(lib, sha, dir, sizeof dir) != DPF_OK)
        return 0;
    return dpa_fs_write_atomic(path, "", 0, 0644, NULL) == DPF_OK;
}

dpf_status dpa_clib_hash_fd(int fd, char hex[DPA_CLIB_SHA_LEN + 1], int64_t *bytes)
{
    unsigned char *buf = malloc(HASH_BLOCK), md[32];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    dpf_status rc = DPF_OK;
    *bytes = 0;
    if (buf == NULL || ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        rc = DPF_ERR_NOMEM;
        goto cleanup;
    }
    for (;;) {
        ssize_t n = read(fd, buf, HASH_BLOCK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = DPF_ERR_IO;
            goto cleanup;
        }
        if (n == 0)
            break;
        if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) {
            rc = DPF_ERR_IO;
            goto cleanup;
        }
        *bytes += n;
    }
    unsigned int mdlen = 0;
    if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32) {
        rc = DPF_ERR_IO;
        goto cleanup;
    }
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
cleanup:
    EVP_MD_CTX_free(ctx);
    free(buf);
    return rc;
}

dpf_status dpa_clib_commit(const char *lib, const char *sha, int64_t size, char *err,
                           size_t errlen)
{
    char partial[4096], final[4096], dir[4096], got[DPA_CLIB_SHA_LEN + 1];
    if (!dpa_clib_partial_path(lib, sha, partial, sizeof partial) ||
        !dpa_clib_file_path(lib, sha, final, sizeof final)) {
        snprintf(err, errlen, "content library path too long");
        return DPF_ERR_INVALID;
    }
    int fd = open(partial, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        snprintf(err, errlen, "File %s is not being received", sha);
        return DPF_ERR_NOT_FOUND;
    }
    int64_t bytes = 0;
    dpf_status rc = dpa_clib_hash_fd(fd, got, &bytes);
    if (rc == DPF_OK && fsync(fd) != 0)
        rc = DPF_ERR_IO;
    close(fd);
    if (rc != DPF_OK) {
        snprintf(err, errlen, "cannot read back file %s: %s", sha, dpf_status_text(rc));
        return rc;
    }
    if (bytes != size || strcmp(got, sha) != 0) {
        unlink(partial);
        if (bytes != size)
            snprintf(err, errlen, "File %s failed verification: size mismatch (%lld bytes, "
                     "expected %lld); the partial file was deleted", sha, (long long)bytes,
                     (long long)size);
        else
            snprintf(err, errlen, "File %s failed verification: SHA-256 mismatch (got %.16s...); "
                     "the partial file was deleted", sha, got);
        return DPF_ERR_VERIFY;
    }
    if (bucket_dir(lib, sha, dir, sizeof dir) != DPF_OK || rename(partial, final) != 0) {
        snprintf(err, errlen, "cannot move file %s into FileLib: %s", sha, strerror(errno));
        return DPF_ERR_IO;
    }
    fsync_dir(dir);
    return DPF_OK;
}

dpf_status dpa_clib_have(const char *lib, const char *sha, int64_t size, int64_t *held,
                         char *err, size_t errlen)
{
    char partial[4096];
    int64_t len = 0;
    *held = 0;
    if (dpa_clib_in_filelib(lib, sha, size)) {
        *held = size;
        return DPF_OK;
    }
    if (!dpa_clib_partial_path(lib, sha, partial, sizeof partial) || !stat_size(partial, &len))
        return DPF_OK;
    if (len < size) {
        *held = len;
        return DPF_OK;
    }
    if (len > size) { /* another size was announced before: start again */
        unlink(partial);
        return DPF_OK;
    }
    dpf_status rc = dpa_clib_commit(lib, sha, size, err, errlen);
    if (rc == DPF_OK)
        *held = size;
    return rc == DPF_ERR_VERIFY ? DPF_OK : rc;
}

static dpf_status partial_dir(const char *lib, char *err, size_t errlen)
{
    char dir[4096];
    if (!dpf_fmt(dir, sizeof dir, "%s/FileLib/.partial", lib) ||
        dpa_fs_mkdirs(dir, 0755, NULL) != DPF_OK) {
        snprintf(err, errlen, "cannot create %s/FileLib/.partial", lib);
        return DPF_ERR_IO;
    }
    return DPF_OK;
}

static int write_all_at(int fd, const void *data, size_t len, off_t off)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        off += n;
        len -= (size_t)n;
    }
    return 0;
}

dpf_status dpa_clib_put(const char *lib, const char *sha, int64_t size, int64_t offset,
                        const void *data, size_t len, int64_t *held, int *stored, char *err,
                        size_t errlen)
{
    char partial[4096];
    *stored = 0;
    *held = 0;
    if (offset < 0 || size < 0 || (int64_t)len > size - offset) {
        snprintf(err, errlen, "chunk of %zu bytes at offset %lld does not fit file %s of %lld "
                 "bytes", len, (long long)offset, sha, (long long)size);
        return DPF_ERR_INVALID;
    }
    if (dpa_clib_in_filelib(lib, sha, size)) {
        *held = size;
        return DPF_OK;
    }
    dpf_status rc = partial_dir(lib, err, errlen);
    if (rc != DPF_OK)
        return rc;
    if (!dpa_clib_partial_path(lib, sha, partial, sizeof partial))
        return DPF_ERR_INVALID;
    int fd = open(partial, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", partial, strerror(errno));
        return DPF_ERR_IO;
    }
    struct stat st;
    if (offset == 0 && ftruncate(fd, 0) != 0)
        rc = DPF_ERR_IO;
    else if (fstat(fd, &st) != 0)
        rc = DPF_ERR_IO;
    else if ((int64_t)st.st_size != offset) {
        snprintf(err, errlen, "content_put of file %s at offset %lld refused: the host holds "
                 "%lld bytes of it (resume at offset %lld)", sha, (long long)offset,
                 (long long)st.st_size, (long long)st.st_size);
        *held = (int64_t)st.st_size;
        close(fd);
        return DPF_ERR_CONFLICT;
    } else if (len > 0 && write_all_at(fd, data, len, (off_t)offset) != 0) {
        rc = DPF_ERR_IO;
    }
    if (rc != DPF_OK) {
        snprintf(err, errlen, "cannot write %s: %s", partial, strerror(errno));
        close(fd);
        return rc;
    }
    if (close(fd) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", partial, strerror(errno));
        return DPF_ERR_IO;
    }
    *held = offset + (int64_t)len;
    if (*held < size)
        return DPF_OK;
    rc = dpa_clib_commit(lib, sha, size, err, errlen);
    if (rc != DPF_OK) {
        *held = 0;
        return rc;
    }
    *stored = 1;
    return DPF_OK;
}

dpf_status dpa_clib_partial_open(const char *lib, const char *sha, int *fd, char *err,
                                 size_t errlen)
{
    char partial[4096];
    *fd = -1;
    dpf_status rc = partial_dir(lib, err, errlen);
    if (rc != DPF_OK)
        return rc;
    if (!dpa_clib_partial_path(lib, sha, partial, sizeof partial))
        return DPF_ERR_INVALID;
    *fd = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (*fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", partial, strerror(errno));
        return DPF_ERR_IO;
    }
    return DPF_OK;
}

void dpa_clib_partial_drop(const char *lib, const char *sha)
{
    char partial[4096];
    if (dpa_clib_partial_path(lib, sha, partial, sizeof partial))
        (void)unlink(partial);
}

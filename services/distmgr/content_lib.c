/* The site content library on disk (see content_lib.h). Files are copied
 * with a fixed buffer and hashed with OpenSSL's SHA-256 as they are read, so
 * a package of 1 GiB files is processed in a few hundred KiB of memory. */
#include "content_lib.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <dpf/util.h>

#define COPY_BUF (256 * 1024)

static void hex(const unsigned char *md, char out[DM_SHA256_HEX])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    out[64] = '\0';
}

static int mkdir_p(const char *path)
{
    char buf[4096];
    if (dpf_fmt(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

dpf_status dm_clib_init(const char *lib, char *err, size_t errlen)
{
    const char *subs[] = {"FileLib", "tmp"};
    for (size_t i = 0; i < 2; i++) {
        char p[4096];
        dpf_fmt(p, sizeof p, "%s/%s", lib, subs[i]);
        if (mkdir_p(p) != 0) {
            dpf_fmt(err, errlen, "cannot create the site content library directory %s: %s", p,
                    strerror(errno));
            return DPF_ERR_IO;
        }
    }
    return DPF_OK;
}

void dm_clib_path(const char *lib, const char *sha, char *buf, size_t len)
{
    dpf_fmt(buf, len, "%s/FileLib/%.4s/%s", lib, sha, sha);
}

/* Reads fd to the end, hashing, and writing to out when out >= 0. */
static dpf_status pump(int fd, int out, char sha[DM_SHA256_HEX], long long *size,
                       const char *what, char *err, size_t errlen)
{
    /* Not a static __thread array: that would be static TLS, which glibc
     * places in every thread's stack and zeroes when the thread starts, so
     * each of distmgr's threads (~80 during an install) would hold 256 KiB
     * resident whether or not it ever processes a package. */
    unsigned char *buf = malloc(COPY_BUF);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    dpf_status st = DPF_OK;
    long long total = 0;
    if (buf == NULL || md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        free(buf);
        EVP_MD_CTX_free(md);
        dpf_fmt(err, errlen, "cannot start SHA-256");
        return DPF_ERR_NOMEM;
    }
    for (;;) {
        ssize_t n = read(fd, buf, COPY_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            dpf_fmt(err, errlen, "cannot read %s: %s", what, strerror(errno));
            st = DPF_ERR_IO;
            break;
        }
        if (n == 0)
            break;
        EVP_DigestUpdate(md, buf, (size_t)n);
        total += n;
        for (ssize_t off = 0; out >= 0 && off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                dpf_fmt(err, errlen, "cannot write the site content library: %s",
                        strerror(errno));
                st = DPF_ERR_IO;
                break;
            }
            off += w;
        }
        if (st != DPF_OK)
            break;
    }
    unsigned char digest[32];
    unsigned int dlen = 0;
    if (st == DPF_OK && EVP_DigestFinal_ex(md, digest, &dlen) == 1 && dlen == 32) {
        hex(digest, sha);
        *size = total;
    } else if (st == DPF_OK) {
        dpf_fmt(err, errlen, "SHA-256 failed");
        st = DPF_ERR_IO;
    }
    EVP_MD_CTX_free(md);
    free(buf);
    return st;
}

dpf_status dm_clib_hash_file(const char *path, char sha[DM_SHA256_HEX], long long *size,
                             char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        dpf_fmt(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return DPF_ERR_IO;
    }
    dpf_status st = pump(fd, -1, sha, size, path, err, errlen);
    close(fd);
    return st;
}

dpf_status dm_clib_store(const char *lib, const char *src, char sha[DM_SHA256_HEX],
                         long long *size, int *is_new, char *err, size_t errlen)
{
    char tmp[4096], dst[4096], dir[4096], uuid[37];
    struct stat before, after;
    *is_new = 0;
    int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in < 0) {
        dpf_fmt(err, errlen, "cannot open %s: %s", src, strerror(errno));
        return DPF_ERR_IO;
    }
    if (fstat(in, &before) != 0 || !S_ISREG(before.st_mode)) {
        close(in);
        dpf_fmt(err, errlen, "%s is not a regular file", src);
        return DPF_ERR_IO;
    }
    dpf_uuid(uuid);
    dpf_fmt(tmp, sizeof tmp, "%s/tmp/%s", lib, uuid);
    int out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0) {
        close(in);
        dpf_fmt(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
        return DPF_ERR_IO;
    }
    dpf_status st = pump(in, out, sha, size, src, err, errlen);
    if (st == DPF_OK && (fstat(in, &after) != 0 || after.st_size != *size ||
                         after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
                         after.st_mtim.tv_nsec != before.st_mtim.tv_nsec)) {
        dpf_fmt(err, errlen, "%s changed while it was read; process the package again", src);
        st = DPF_ERR_IO;
    }
    if (st == DPF_OK && fsync(out) != 0) {
        dpf_fmt(err, errlen, "cannot sync %s: %s", tmp, strerror(errno));
        st = DPF_ERR_IO;
    }
    close(out);
    close(in);
    if (st == DPF_OK) {
        dm_clib_path(lib, sha, dst, sizeof dst);
        dpf_fmt(dir, sizeof dir, "%s/FileLib/%.4s", lib, sha);
        struct stat have;
        if (stat(dst, &have) == 0 && have.st_size == *size) {
            /* already held; touch it so a collector sees it is in use */
            utimensat(AT_FDCWD, dst, NULL, 0);
        } else if (mkdir_p(dir) != 0 || rename(tmp, dst) != 0) {
            dpf_fmt(err, errlen, "cannot store %s as %s: %s", src, dst, strerror(errno));
            st = DPF_ERR_IO;
        } else {
            *is_new = 1;
        }
    }
    unlink(tmp); /* gone already after the rename */
    return st;
}

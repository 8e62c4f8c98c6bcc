/* PkgLib and DataLib: which files make up which package version, and the
 * garbage collection of FileLib. The order of writes is what keeps the
 * library consistent across a crash: a version's DataLib manifest is
 * written before PkgLib switches to it, and an old manifest is deleted only
 * after the files only it referenced are gone (a crash in between leaves a
 * manifest the next install or remove deletes again). Files nobody
 * references and that no removed manifest named are collected only when
 * older than DPA_PKGLIB_ORPHAN_AGE_S: distmgr sends a package's files
 * before it installs the package, possibly while another package is being
 * installed on the same host. */
#include "pkglib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dpf/util.h>
#include "fsutil.h"
#include "kvfile.h"

typedef unsigned char sha_bin[32];

/* The set of hashes the remaining manifests reference, sorted. */
typedef struct shaset {
    sha_bin *v;
    size_t n, cap;
} shaset;

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int sha_to_bin(const char *hex, sha_bin out)
{
    for (int i = 0; i < 32; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return 0;
        out[i] = (unsigned char)(hi * 16 + lo);
    }
    return 1;
}

static int shaset_add(shaset *s, const char *hex)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        sha_bin *v = realloc(s->v, cap * sizeof *v);
        if (v == NULL)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    if (sha_to_bin(hex, s->v[s->n]))
        s->n++;
    return 0;
}

static int cmp_sha(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(sha_bin));
}

static int shaset_has(const shaset *s, const char *hex)
{
    sha_bin k;
    return s->n > 0 && sha_to_bin(hex, k) && bsearch(k, s->v, s->n, sizeof k, cmp_sha) != NULL;
}

/* One manifest line: "<sha256> <size> <path>". 0 if malformed. */
static int parse_line(char *line, const char **sha, int64_t *size, const char **path)
{
    size_t l = strlen(line);
    if (l > 0 && line[l - 1] == '\n')
        line[--l] = '\0';
    if (l < DPA_CLIB_SHA_LEN + 4 || line[DPA_CLIB_SHA_LEN] != ' ')
        return 0;
    line[DPA_CLIB_SHA_LEN] = '\0';
    char *num = line + DPA_CLIB_SHA_LEN + 1, *sp = strchr(num, ' ');
    long long v = 0;
    if (sp == NULL)
        return 0;
    *sp = '\0';
    if (!dpf_parse_int(num, 0, INT64_MAX, &v) || !dpa_clib_sha_valid(line, NULL, 0))
        return 0;
    *sha = line;
    *size = v;
    *path = sp + 1;
    return 1;
}

typedef int (*line_fn)(void *ctx, const char *sha, int64_t size, const char *path);

/* Calls fn for each line of manifest path until it returns non-zero (that
 * value is returned). -1 if the file cannot be opened. */
static int each_file(const char *path, line_fn fn, void *ctx)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    int r = 0;
    while (r == 0 && getline(&line, &cap, f) > 0) {
        const char *sha, *rel;
        int64_t size;
        if (parse_line(line, &sha, &size, &rel))
            r = fn(ctx, sha, size, rel);
    }
    free(line);
    fclose(f);
    return r;
}

/* "<pkg>.<ver>.INI" -> pkg and version; 0 for anything else (temp files). */
static int manifest_name(const char *name, char pkg[9], long long *ver)
{
    size_t l = strlen(name);
    char num[32];
    if (l < 14 || l > 8 + 1 + 20 + 4 || name[8] != '.' || strcmp(name + l - 4, ".INI") != 0)
        return 0;
    memcpy(pkg, name, 8);
    pkg[8] = '\0';
    snprintf(num, sizeof num, "%.*s", (int)(l - 13), name + 9);
    return dpa_clib_pkg_valid(pkg, NULL, 0) && dpf_parse_int(num, 1, INT64_MAX, ver);
}

static int add_to_set(void *ctx, const char *sha, int64_t size, const char *path)
{
    (void)size;
    (void)path;
    return shaset_add(ctx, sha) != 0 ? -1 : 0;
}

typedef struct gc_ctx {
    const char *lib;
    const shaset *kept;
    dpa_pkglib_result *res;
} gc_ctx;

static void remove_file(gc_ctx *g, const char *sha)
{
    char path[4096];
    struct stat st;
    if (!dpa_clib_file_path(g->lib, sha, path, sizeof path) || lstat(path, &st) != 0 ||
        unlink(path) != 0)
        return;
    g->res->files_removed++;
    g->res->bytes_removed += (int64_t)st.st_size;
    g->res->changed = 1;
    *strrchr(path, '/') = '\0';
    dpa_fs_rmdir_if_empty(path);
}

static int collect_unreferenced(void *ctx, const char *sha, int64_t size, const char *path)
{
    gc_ctx *g = ctx;
    (void)size;
    (void)path;
    if (!shaset_has(g->kept, sha))
        remove_file(g, sha);
    return 0;
}

/* Old files nobody references: transfers abandoned long ago, and files
 * content_validate moved aside more than a day ago. */
static void sweep_orphans(gc_ctx *g)
{
    char filelib[4096], dir[4096];
    time_t cutoff = time(NULL) - DPA_PKGLIB_ORPHAN_AGE_S;
    if (!dpf_fmt(filelib, sizeof filelib, "%s/FileLib", g->lib))
        return;
    DIR *top = opendir(filelib);
    struct dirent *b;
    while (top != NULL && (b = readdir(top)) != NULL) {
        /* .partial: abandoned transfers; .corrupt: what content_validate set aside */
        int partial = strcmp(b->d_name, ".partial") == 0 || strcmp(b->d_name, ".corrupt") == 0;
        if ((b->d_name[0] == '.' && !partial) || !dpf_fmt(dir, sizeof dir, "%s/%s", filelib,
                                                          b->d_name))
            continue;
        DIR *d = opendir(dir);
        struct dirent *e;
        struct stat st;
        while (d != NULL && (e = readdir(d)) != NULL) {
            if (!dpa_clib_sha_valid(e->d_name, NULL, 0) ||
                fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
                st.st_mtime >= cutoff || (!partial && shaset_has(g->kept, e->d_name)))
                continue;
            if (partial) {
                (void)unlinkat(dirfd(d), e->d_name, 0);
                g->res->changed = 1;
            } else {
                remove_file(g, e->d_name);
            }
        }
        if (d != NULL)
            closedir(d);
        if (!partial)
            dpa_fs_rmdir_if_empty(dir);
    }
    if (top != NULL)
        closedir(top);
}

/* Deletes every DataLib manifest of pkg except version keep (0: all) and
 * collects the FileLib files no remaining manifest references. */
static dpf_status gc(const char *lib, const char *pkg, long long keep, dpa_pkglib_result *res,
                     char *err, size_t errlen)
{
    char datalib[4096], path[4096];
    shaset kept = {0};
    char **doomed = NULL;
    size_t ndoomed = 0;
    dpf_status rc = DPF_OK;
    if (!dpf_fmt(datalib, sizeof datalib, "%s/DataLib", lib))
        return DPF_ERR_INVALID;
    DIR *d = opendir(datalib);
    struct dirent *e;
    while (d != NULL && rc == DPF_OK && (e = readdir(d)) != NULL) {
        char owner[9];
        long long ver = 0;
        if (!manifest_name(e->d_name, owner, &ver) ||
            !dpf_fmt(path, sizeof path, "%s/%s", datalib, e->d_name))
            continue;
        if (strcmp(owner, pkg) == 0 && ver != keep) {
            char **nd = realloc(doomed, (ndoomed + 1) * sizeof *nd);
            if (nd == NULL || (nd[ndoomed] = strdup(path)) == NULL)
                rc = DPF_ERR_NOMEM;
            else
                ndoomed++;
            if (nd != NULL)
                doomed = nd;
        } else if (each_file(path, add_to_set, &kept) == -1 && errno != ENOENT) {
            rc = DPF_ERR_IO;
            snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        }
    }
    if (d != NULL)
        closedir(d);
    if (rc == DPF_OK) {
        if (kept.n > 1)
            qsort(kept.v, kept.n, sizeof *kept.v, cmp_sha);
        gc_ctx g = {lib, &kept, res};
        for (size_t i = 0; i < ndoomed; i++) {
            (void)each_file(doomed[i], collect_unreferenced, &g);
            if (unlink(doomed[i]) == 0) {
                res->versions_removed++;
                res->changed = 1;
            }
        }
        sweep_orphans(&g);
    } else if (err[0] == '\0') {
        snprintf(err, errlen, "out of memory collecting the content library");
    }
    for (size_t i = 0; i < ndoomed; i++)
        free(doomed[i]);
    free(doomed);
    free(kept.v);
    return rc;
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp((*(const dpa_clib_file *const *)a)->path,
                  (*(const dpa_clib_file *const *)b)->path);
}

/* Every file valid, no path twice. */
static int check_files(const dpa_clib_file *files, size_t n, char *err, size_t errlen)
{
    const dpa_clib_file **byp = malloc((n ? n : 1) * sizeof *byp);
    if (byp == NULL) {
        snprintf(err, errlen, "out of memory");
        return 0;
    }
    int ok = 1;
    for (size_t i = 0; ok && i < n; i++) {
        ok = dpa_clib_file_valid(&files[i], 1, err, errlen);
        byp[i] = &files[i];
    }
    if (ok)
        qsort(byp, n, sizeof *byp, cmp_path);
    for (size_t i = 1; ok && i < n; i++) {
        if (strcmp(byp[i - 1]->path, byp[i]->path) == 0) {
            snprintf(err, errlen, "path %s is listed twice", byp[i]->path);
            ok = 0;
        }
    }
    free(byp);
    return ok;
}

static dpf_status write_manifest(const char *path, const dpa_clib_file *files, size_t n,
                                 int *changed)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (m == NULL)
        return DPF_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        fprintf(m, "%s %lld %s\n", files[i].sha, (long long)files[i].size, files[i].path);
    if (fclose(m) != 0) {
        free(text);
        return DPF_ERR_NOMEM;
    }
    dpf_status rc = dpa_fs_write_atomic(path, text, len, 0644, changed);
    free(text);
    return rc;
}

dpf_status dpa_pkglib_install(const char *lib, const char *pkg, long long version,
                              const dpa_clib_file *files, size_t n, dpa_pkglib_result *res,
                              char *err, size_t errlen)
{
    char why[128], dir[4096], data[4096], pkgini[4096], text[64];
    memset(res, 0, sizeof *res);
    err[0] = '\0';
    if (!dpa_clib_pkg_valid(pkg, why, sizeof why)) {
        snprintf(err, errlen, "bad package id: %s", why);
        return DPF_ERR_INVALID;
    }
    if (version < 1) {
        snprintf(err, errlen, "bad version %lld of package %s: must be 1 or more", version, pkg);
        return DPF_ERR_INVALID;
    }
    if (!check_files(files, n, err, errlen))
        return DPF_ERR_INVALID;
    for (size_t i = 0; i < n; i++) {
        res->files++;
        res->bytes += files[i].size;
        if (!dpa_clib_in_filelib(lib, files[i].sha, files[i].size) && res->missing++ == 0) {
            res->first_missing_path = files[i].path;
            res->first_missing_sha = files[i].sha;
        }
    }
    if (res->missing > 0)
        return DPF_ERR_NOT_FOUND;

    dpf_status rc = DPF_OK;
    snprintf(text, sizeof text, "version=%lld\n", version);
    if (!dpf_fmt(dir, sizeof dir, "%s/DataLib", lib) ||
        !dpf_fmt(data, sizeof data, "%s/%s.%lld.INI", dir, pkg, version) ||
        !dpf_fmt(pkgini, sizeof pkgini, "%s/PkgLib/%s.INI", lib, pkg))
        rc = DPF_ERR_INVALID;
    if (rc == DPF_OK && (rc = dpa_fs_mkdirs(dir, 0755, NULL)) == DPF_OK &&
        (rc = write_manifest(data, files, n, &res->changed)) == DPF_OK &&
        dpf_fmt(dir, sizeof dir, "%s/PkgLib", lib) &&
        (rc = dpa_fs_mkdirs(dir, 0755, NULL)) == DPF_OK)
        rc = dpa_fs_write_atomic(pkgini, text, strlen(text), 0644, &res->changed);
    if (rc != DPF_OK) {
        snprintf(err, errlen, "cannot write %s or %s: %s", data, pkgini, dpf_status_text(rc));
        return rc;
    }
    return gc(lib, pkg, version, res, err, errlen);
}

dpf_status dpa_pkglib_remove(const char *lib, const char *pkg, dpa_pkglib_result *res,
                             char *err, size_t errlen)
{
    char why[128], pkgini[4096];
    memset(res, 0, sizeof *res);
    err[0] = '\0';
    if (!dpa_clib_pkg_valid(pkg, why, sizeof why)) {
        snprintf(err, errlen, "bad package id: %s", why);
        return DPF_ERR_INVALID;
    }
    if (!dpf_fmt(pkgini, sizeof pkgini, "%s/PkgLib/%s.INI", lib, pkg))
        return DPF_ERR_INVALID;
    if (dpa_fs_unlink(pkgini, &res->changed) != DPF_OK) {
        snprintf(err, errlen, "cannot remove %s: %s", pkgini, strerror(errno));
        return DPF_ERR_IO;
    }
    return gc(lib, pkg, 0, res, err, errlen);
}

dpf_status dpa_pkglib_version(const char *lib, const char *pkg, long long *version)
{
    char pkgini[4096];
    dpa_kv *kv = NULL;
    if (!dpf_fmt(pkgini, sizeof pkgini, "%s/PkgLib/%s.INI", lib, pkg) ||
        dpa_kv_load(pkgini, &kv) != DPF_OK)
        return DPF_ERR_NOT_FOUND;
    const char *v = dpa_kv_get(kv, "version");
    int ok = v != NULL && dpf_parse_int(v, 1, INT64_MAX, version);
    dpa_kv_destroy(kv);
    return ok ? DPF_OK : DPF_ERR_NOT_FOUND;
}

typedef struct find_ctx {
    const char *rel;
    char sha[DPA_CLIB_SHA_LEN + 1];
    int64_t size;
} find_ctx;

static int find_path(void *ctx, const char *sha, int64_t size, const char *path)
{
    find_ctx *f = ctx;
    if (strcmp(path, f->rel) != 0)
        return 0;
    memcpy(f->sha, sha, sizeof f->sha);
    f->size = size;
    return 1;
}

dpf_status dpa_pkglib_lookup(const char *lib, const char *pkg, const char *rel, char *path,
                             size_t len, int64_t *size)
{
    /* an install may delete the manifest between our two reads: look twice */
    for (int attempt = 0; attempt < 2; attempt++) {
        long long ver = 0;
        char data[4096];
        find_ctx f = {rel, "", 0};
        if (dpa_pkglib_version(lib, pkg, &ver) != DPF_OK)
            return DPF_ERR_NOT_FOUND;
        if (!dpf_fmt(data, sizeof data, "%s/DataLib/%s.%lld.INI", lib, pkg, ver))
            return DPF_ERR_NOT_FOUND;
        int r = each_file(data, find_path, &f);
        if (r == -1)
            continue;
        if (r != 1 || !dpa_clib_file_path(lib, f.sha, path, len))
            return DPF_ERR_NOT_FOUND;
        *size = f.size;
        return DPF_OK;
    }
    return DPF_ERR_NOT_FOUND;
}

int dpa_pkglib_each_file(const char *lib, const char *pkg, long long version,
                         dpa_pkglib_file_fn fn, void *ctx)
{
    char data[4096];
    if (!dpf_fmt(data, sizeof data, "%s/DataLib/%s.%lld.INI", lib, pkg, version)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return each_file(data, fn, ctx);
}

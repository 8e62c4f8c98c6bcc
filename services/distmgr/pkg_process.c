/* Package processing, the source's "Start adding package ... Processing
 * package ... successfully processed": every file under the package's
 * source directory is read once, hashed (SHA-256) and stored in the site
 * content library by hash, then the version's file list is recorded with
 * 2301 in one transaction. Files whose bytes the library already holds
 * (from this package's older version or any other package) are not stored
 * again, which is what makes an update transfer only what changed.
 *
 * The source directory is checked again here, not only by the provider: it
 * may have changed since, and a symbolic link inside it must not lead out
 * of the content source roots. */
#include "pkg_process.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <dpf/log.h>
#include <dpf/metrics.h>
#include <dpf/util.h>

#include "content.h"
#include "content_lib.h"

#define MAX_FILES 200000
#define MAX_DEPTH 64

typedef struct walk {
    const dm_content_cfg *cfg;
    const dm_ctx *ctx;
    dpf_db *db;
    const dm_pkg_row *pkg;
    const char *token;
    dm_pkg_file *files;
    int n, cap;
    long long total;
    int stored_new;
    int64_t next_renew_us;
    char *err;
    size_t errlen;
} walk;

/* 1 when path (absolute, resolved) lies in one of the ':'-separated roots. */
static int under_roots(const char *roots, const char *path)
{
    const char *p = roots;
    while (p != NULL && *p != '\0') {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char root[PATH_MAX], real[PATH_MAX];
        if (len > 0 && len < sizeof root) {
            memcpy(root, p, len);
            root[len] = '\0';
            if (realpath(root, real) != NULL) {
                size_t rl = strlen(real);
                if (strncmp(path, real, rl) == 0 && (path[rl] == '/' || path[rl] == '\0'))
                    return 1;
            }
        }
        p = end ? end + 1 : NULL;
    }
    return 0;
}

/* A relative path a DP and a client can use: printable, no backslash. */
static int rel_ok(const char *rel)
{
    for (const unsigned char *c = (const unsigned char *)rel; *c; c++) {
        if (*c < 0x20 || *c == 0x7f || *c == '\\')
            return 0;
    }
    return *rel != '\0';
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(((const dm_pkg_file *)a)->path, ((const dm_pkg_file *)b)->path);
}

static dpf_status renew(walk *w)
{
    int64_t now = dpf_mono_us();
    if (now < w->next_renew_us)
        return DPF_OK;
    w->next_renew_us = now + (int64_t)w->ctx->lease_s * 1000000 / 3;
    dm_pkg_row again = {0};
    dpf_status st = dm_store_pkg_lease(w->db, w->pkg->seq, w->token, w->ctx->lease_s, &again);
    int moved = st == DPF_OK && again.source_version != w->pkg->source_version;
    dm_pkg_row_clear(&again);
    if (st != DPF_OK || moved) {
        dpf_fmt(w->err, w->errlen, "the package changed or another job took it over while it "
                "was processed");
        return DPF_ERR_BUSY;
    }
    return DPF_OK;
}

static dpf_status add_file(walk *w, const char *abs, const char *rel)
{
    if (w->n >= MAX_FILES) {
        dpf_fmt(w->err, w->errlen, "more than %d files under the source directory", MAX_FILES);
        return DPF_ERR_INVALID;
    }
    if (!rel_ok(rel)) {
        dpf_fmt(w->err, w->errlen, "file name '%.200s' holds a control character or a "
                "backslash; rename it", rel);
        return DPF_ERR_INVALID;
    }
    if (w->n == w->cap) {
        int cap = w->cap ? w->cap * 2 : 64;
        dm_pkg_file *f = realloc(w->files, (size_t)cap * sizeof *f);
        if (f == NULL)
            return DPF_ERR_NOMEM;
        w->files = f;
        w->cap = cap;
    }
    dm_pkg_file *f = &w->files[w->n];
    memset(f, 0, sizeof *f);
    int is_new = 0;
    dpf_status st = dm_clib_store(w->cfg->library, abs, f->sha256, &f->size, &is_new, w->err,
                                  w->errlen);
    if (st != DPF_OK)
        return st;
    if ((f->path = strdup(rel)) == NULL)
        return DPF_ERR_NOMEM;
    w->n++;
    w->total += f->size;
    w->stored_new += is_new;
    DPF_DEBUG("Package %s: %s sha256 %s, %lld bytes%s", w->pkg->package_id, rel, f->sha256,
              f->size, is_new ? ", new in the content library" : "");
    return renew(w);
}

static dpf_status walk_dir(walk *w, const char *abs, const char *rel, int depth)
{
    if (depth > MAX_DEPTH) {
        dpf_fmt(w->err, w->errlen, "directories nested deeper than %d at %s", MAX_DEPTH, rel);
        return DPF_ERR_INVALID;
    }
    DIR *d = opendir(abs);
    if (d == NULL) {
        dpf_fmt(w->err, w->errlen, "cannot read directory %s: %s", abs, strerror(errno));
        return DPF_ERR_IO;
    }
    dpf_status st = DPF_OK;
    struct dirent *e;
    while (st == DPF_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char a[PATH_MAX], r[PATH_MAX], real[PATH_MAX];
        if (dpf_fmt(a, sizeof a, "%s/%s", abs, e->d_name) >= (int)sizeof a ||
            dpf_fmt(r, sizeof r, "%s%s%s", rel, *rel ? "/" : "", e->d_name) >= (int)sizeof r) {
            dpf_fmt(w->err, w->errlen, "path too long under %s", abs);
            st = DPF_ERR_INVALID;
            break;
        }
        struct stat ls;
        if (lstat(a, &ls) != 0) {
            dpf_fmt(w->err, w->errlen, "cannot stat %s: %s", a, strerror(errno));
            st = DPF_ERR_IO;
            break;
        }
        if (S_ISLNK(ls.st_mode)) {
            struct stat ts;
            if (realpath(a, real) == NULL || stat(real, &ts) != 0) {
                dpf_fmt(w->err, w->errlen, "symbolic link %s leads nowhere", a);
                st = DPF_ERR_INVALID;
            } else if (!under_roots(w->cfg->source_roots, real)) {
                dpf_fmt(w->err, w->errlen, "symbolic link %s leads out of the content source "
                        "roots (to %s)", a, real);
                st = DPF_ERR_INVALID;
            } else if (!S_ISREG(ts.st_mode)) {
                dpf_fmt(w->err, w->errlen, "symbolic link %s does not lead to a regular file",
                        a);
                st = DPF_ERR_INVALID;
            } else {
                st = add_file(w, real, r);
            }
        } else if (S_ISDIR(ls.st_mode)) {
            st = walk_dir(w, a, r, depth + 1);
        } else if (S_ISREG(ls.st_mode)) {
            st = add_file(w, a, r);
        } else {
            dpf_fmt(w->err, w->errlen, "%s is neither a file nor a directory", a);
            st = DPF_ERR_INVALID;
        }
    }
    closedir(d);
    return st;
}

/* The source directory, resolved, must still be a directory in the roots. */
static dpf_status check_source(const dm_content_cfg *cfg, const char *src, char *real,
                               char *err, size_t errlen)
{
    struct stat st;
    if (realpath(src, real) == NULL) {
        dpf_fmt(err, errlen, "source directory %s: %s", src, strerror(errno));
        return DPF_ERR_NOT_FOUND;
    }
    if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
        dpf_fmt(err, errlen, "source %s is not a directory", src);
        return DPF_ERR_INVALID;
    }
    if (!under_roots(cfg->source_roots, real)) {
        dpf_fmt(err, errlen, "source directory %s is not under the content source roots (%s)",
                real, cfg->source_roots);
        return DPF_ERR_INVALID;
    }
    return DPF_OK;
}

static void record_failure(const dm_ctx *ctx, dpf_db *db, const dm_pkg_row *pkg,
                           const char *token, const char *corr, const char *reason)
{
    dpf_status st = dpf_db_begin(db);
    if (st == DPF_OK)
        st = dpf_db_set_corr(db, corr);
    if (st == DPF_OK)
        st = dm_store_pkg_process_failed(db, pkg->seq, token, reason);
    if (st == DPF_OK)
        st = dm_content_raise(ctx, db, pkg->site_code, DM_MSG_PKG_PROCESS_FAILED, 'E',
                              pkg->package_id, pkg->name, reason, NULL);
    if (st == DPF_OK)
        st = dpf_db_commit(db);
    if (st != DPF_OK) {
        dpf_db_rollback(db);
        DPF_WARN("Package %s: could not record the failure (%s); the reconcile retries",
                 pkg->package_id, dpf_db_error(db));
    }
}

dpf_status dm_pkg_process(const dm_ctx *ctx, dpf_db *db, const dm_pkg_row *pkg,
                          const char *token, const char *corr)
{
    const dm_content_cfg *cfg = dm_content_cfg_get();
    char err[DM_ERR_MAX * 2] = "", real[PATH_MAX];
    walk w = {.cfg = cfg, .ctx = ctx, .db = db, .pkg = pkg, .token = token, .err = err,
              .errlen = sizeof err};
    int64_t t0 = dpf_mono_us();

    DPF_INFO("Start adding package %s (%s)...", pkg->package_id, pkg->name);
    DPF_INFO("Processing package %s (SourceVersion:%d;StoredVersion:%d) from %s",
             pkg->package_id, pkg->source_version, pkg->processed_version, pkg->source_path);
    if (dm_content_raise(ctx, db, pkg->site_code, DM_MSG_PKG_PROCESSING, 'I', pkg->package_id,
                         pkg->name, NULL, NULL) != DPF_OK)
        DPF_WARN("Package %s: status message 2300 could not be stored", pkg->package_id);

    dpf_status st = dm_clib_init(cfg->library, err, sizeof err);
    if (st == DPF_OK)
        st = check_source(cfg, pkg->source_path, real, err, sizeof err);
    if (st == DPF_OK)
        st = walk_dir(&w, real, "", 0);
    if (st == DPF_ERR_BUSY) {
        DPF_WARN("Package %s: %s; leaving it", pkg->package_id, err);
        dm_pkg_files_free(w.files, w.n);
        return DPF_ERR_BUSY;
    }
    if (st == DPF_OK) {
        qsort(w.files, (size_t)w.n, sizeof *w.files, cmp_path);
        char version[16], count[16];
        dpf_fmt(version, sizeof version, "%d", pkg->source_version);
        dpf_fmt(count, sizeof count, "%d", w.n);
        st = dpf_db_begin(db);
        if (st == DPF_OK)
            st = dpf_db_set_corr(db, corr);
        if (st == DPF_OK)
            st = dm_store_pkg_record_version(db, pkg->seq, token, pkg->package_id,
                                             pkg->source_version, w.files, w.n, w.total);
        if (st == DPF_OK)
            st = dm_content_raise(ctx, db, pkg->site_code, DM_MSG_PKG_PROCESSED, 'I',
                                  pkg->package_id, pkg->name, version, count);
        if (st == DPF_OK)
            st = dpf_db_commit(db);
        if (st != DPF_OK) {
            dpf_db_rollback(db);
            dpf_fmt(err, sizeof err, "could not record version %d: %s", pkg->source_version,
                    st == DPF_ERR_NOT_FOUND ? "the package changed or another job took it over"
                                            : dpf_db_error(db));
            DPF_WARN("Package %s: %s", pkg->package_id, err);
            dm_pkg_files_free(w.files, w.n);
            return st == DPF_ERR_NOT_FOUND ? DPF_ERR_BUSY : DPF_ERR_DB;
        }
        DPF_INFO("Package %s version %d successfully processed: %d files, %lld bytes, %d new in "
                 "the content library, in %lld ms", pkg->package_id, pkg->source_version, w.n,
                 w.total, w.stored_new, (long long)(dpf_mono_us() - t0) / 1000);
        dm_pkg_files_free(w.files, w.n);
        dpf_metrics_inc(DPF_M_PKG_PROCESSED, "ok", NULL, NULL);
        return DPF_OK;
    }
    DPF_ERROR("Failed to process package %s: %s", pkg->package_id, err);
    dm_pkg_files_free(w.files, w.n);
    record_failure(ctx, db, pkg, token, corr, err);
    dpf_metrics_inc(DPF_M_PKG_PROCESSED, "failed", NULL, NULL);
    return st;
}

/* The content steps (issue 6): what the source's DP provider does when
 * distribution manager sends a package to a DP, and what a pull DP does
 * when told to fetch one. content_have and content_put fill FileLib
 * (contentlib.c), content_install and content_remove switch PkgLib/DataLib
 * and collect FileLib (pkglib.c), content_pull downloads from source DPs
 * (pull.c), content_validate re-hashes a package (validate.c). Everything
 * from the wire is checked here before the store sees it, and a refused
 * request changes nothing. The lines read like the
 * source's SMSDPProv.log: "Stored file <sha> (<size> bytes) in the content
 * library", "Package PS100001 version 2 is installed: ...". */
#include "dpagent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dpf/agent.h>
#include <dpf/log.h>
#include <dpf/util.h>
#include "contentlib.h"
#include "fsutil.h"
#include "pkglib.h"
#include "pull.h"
#include "validate.h"

/* <host root>/SCCMContentLib$ into lib; fails when create_shares has not run. */
static dpf_status library(dpa_step *s, char *lib, size_t len)
{
    if (dpa_step_path(s, lib, len, DPA_REL_CONTENTLIB) != DPF_OK)
        return DPF_ERR_STEP;
    if (!dpa_fs_is_dir(lib))
        return dpa_step_fail(s, "The content library %s does not exist on %s (create_shares "
                                "has not run, or the DP was removed)", lib, s->host->fqdn);
    return DPF_OK;
}

static dpa_clib_file file_of(const Dpf__ContentFile *c)
{
    dpa_clib_file f = {c->path, c->sha256, c->size};
    return f;
}

/* The package_id parameter, checked; NULL with the step failed. */
static const char *package_param(dpa_step *s)
{
    const char *pkg = dpa_step_param(s, "package_id");
    char why[128];
    if (pkg == NULL) {
        dpa_step_fail(s, "%s needs the parameter package_id", s->req->step);
        return NULL;
    }
    if (!dpa_clib_pkg_valid(pkg, why, sizeof why)) {
        dpa_step_fail(s, "bad package id '%.32s': %s", pkg, why);
        return NULL;
    }
    return pkg;
}

dpf_status dpa_step_content_have(dpa_step *s)
{
    char lib[PATH_MAX], err[512];
    size_t whole = 0, partial = 0;
    if (library(s, lib, sizeof lib) != DPF_OK)
        return DPF_ERR_STEP;
    if (s->req->n_content == 0)
        return dpa_step_fail(s, "content_have lists no files");
    for (size_t i = 0; i < s->req->n_content; i++) {
        dpa_clib_file f = file_of(s->req->content[i]);
        if (!dpa_clib_file_valid(&f, 0, err, sizeof err))
            return dpa_step_fail(s, "content_have, file %zu: %s", i + 1, err);
    }
    for (size_t i = 0; i < s->req->n_content; i++) {
        dpa_clib_file f = file_of(s->req->content[i]);
        int64_t held = 0;
        err[0] = '\0';
        if (dpa_clib_have(lib, f.sha, f.size, &held, err, sizeof err) != DPF_OK)
            return dpa_step_fail(s, "%s", err);
        if (err[0] != '\0') /* a complete partial failed verification: gone now */
            dpa_step_log(s, "%s", err);
        whole += held == f.size;
        partial += held > 0 && held < f.size;
        if (dpa_step_content(s, f.path, f.sha, held) != DPF_OK)
            return DPF_ERR_STEP;
    }
    dpa_step_log(s, "The content library holds %zu of %zu files; %zu partly received "
                    "(resumable)", whole, s->req->n_content, partial);
    return DPF_OK;
}

dpf_status dpa_step_content_put(dpa_step *s)
{
    char lib[PATH_MAX], err[512];
    const char *sha = dpa_step_param(s, "sha256"), *size_text = dpa_step_param(s, "size");
    long long size = 0;
    dpa_clib_file f = {NULL, sha, 0};
    if (sha == NULL || size_text == NULL)
        return dpa_step_fail(s, "content_put needs the parameters sha256 and size");
    if (!dpf_parse_int(size_text, 0, INT64_MAX, &size))
        return dpa_step_fail(s, "content_put: size '%.32s' is not a whole number of bytes",
                             size_text);
    f.size = size;
    if (!dpa_clib_file_valid(&f, 0, err, sizeof err))
        return dpa_step_fail(s, "content_put: %s", err);
    if (s->req->chunk.len > DPF_CONTENT_CHUNK_MAX)
        return dpa_step_fail(s, "content_put: a chunk of %zu bytes is larger than %d",
                             s->req->chunk.len, DPF_CONTENT_CHUNK_MAX);
    if (library(s, lib, sizeof lib) != DPF_OK)
        return DPF_ERR_STEP;

    int64_t held = 0;
    int stored = 0;
    int already = dpa_clib_in_filelib(lib, sha, size); /* sent for another package */
    dpf_status rc = dpa_clib_put(lib, sha, size, s->req->offset, s->req->chunk.data,
                                 s->req->chunk.len, &held, &stored, err, sizeof err);
    if (dpa_step_content(s, NULL, sha, held) != DPF_OK)
        return DPF_ERR_STEP;
    if (rc != DPF_OK)
        return dpa_step_fail(s, "%s", err);
    if (already) {
        dpa_step_log(s, "File %s (%lld bytes) is already in the content library", sha, size);
        return DPF_OK;
    }
    s->changed = 1;
    if (s->req->offset == 0 && !stored)
        dpa_step_log(s, "Receiving file %s (%lld bytes) into the content library", sha, size);
    else if (!stored)
        DPF_DEBUG("%s: file %s: %lld of %lld bytes received", s->host->fqdn, sha,
                  (long long)held, size);
    if (stored)
        dpa_step_log(s, "Stored file %s (%lld bytes) in the content library", sha, size);
    return DPF_OK;
}

/* The request's files as the store's; NULL with the step failed. */
static dpa_clib_file *request_files(dpa_step *s)
{
    size_t n = s->req->n_content;
    dpa_clib_file *files = malloc((n ? n : 1) * sizeof *files);
    if (files == NULL) {
        dpa_step_fail(s, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        files[i] = file_of(s->req->content[i]);
    return files;
}

static void log_collected(dpa_step *s, const char *pkg, const dpa_pkglib_result *res)
{
    if (res->versions_removed > 0)
        dpa_step_log(s, "Removed %zu other version(s) of package %s from the content library",
                     res->versions_removed, pkg);
    if (res->files_removed > 0)
        dpa_step_log(s, "Removed %zu files (%lld bytes) no package uses from the content "
                        "library", res->files_removed, (long long)res->bytes_removed);
}

dpf_status dpa_step_content_install(dpa_step *s)
{
    char lib[PATH_MAX], err[768];
    const char *pkg = package_param(s), *ver_text = dpa_step_param(s, "version");
    long long version = 0;
    if (pkg == NULL)
        return DPF_ERR_STEP;
    if (ver_text == NULL || !dpf_parse_int(ver_text, 1, INT64_MAX, &version))
        return dpa_step_fail(s, "content_install of %s: version '%.32s' is not a number of 1 "
                                "or more", pkg, ver_text ? ver_text : "");
    if (library(s, lib, sizeof lib) != DPF_OK)
        return DPF_ERR_STEP;
    dpa_clib_file *files = request_files(s);
    if (files == NULL)
        return DPF_ERR_STEP;
    dpa_pkglib_result res;
    dpf_status rc = dpa_pkglib_install(lib, pkg, version, files, s->req->n_content, &res, err,
                                       sizeof err);
    if (rc == DPF_ERR_NOT_FOUND)
        rc = dpa_step_fail(s, "Package %s version %lld cannot be installed on %s: %zu of %zu "
                              "files are not in the content library (first: %s, sha %.16s...); "
                              "nothing was changed", pkg, version, s->host->fqdn, res.missing,
                           res.files, res.first_missing_path, res.first_missing_sha);
    else if (rc == DPF_ERR_INVALID)
        rc = dpa_step_fail(s, "Package %s version %lld refused: %s; nothing was changed", pkg,
                           version, err);
    else if (rc != DPF_OK)
        rc = dpa_step_fail(s, "Package %s version %lld: %s", pkg, version, err);
    free(files);
    if (rc != DPF_OK)
        return rc;
    s->changed = res.changed;
    dpa_step_log(s, "Package %s version %lld is %sinstalled: %zu files, %lld bytes", pkg,
                 version, res.changed ? "" : "already ", res.files, (long long)res.bytes);
    log_collected(s, pkg, &res);
    return DPF_OK;
}

dpf_status dpa_step_content_remove(dpa_step *s)
{
    char lib[PATH_MAX], err[512];
    const char *pkg = package_param(s);
    if (pkg == NULL)
        return DPF_ERR_STEP;
    if (dpa_step_path(s, lib, sizeof lib, DPA_REL_CONTENTLIB) != DPF_OK)
        return DPF_ERR_STEP;
    if (!dpa_fs_is_dir(lib)) { /* the DP's removal took the library: nothing held */
        dpa_step_log(s, "Package %s is not on %s (no content library); nothing to remove", pkg,
                     s->host->fqdn);
        return DPF_OK;
    }
    dpa_pkglib_result res;
    if (dpa_pkglib_remove(lib, pkg, &res, err, sizeof err) != DPF_OK)
        return dpa_step_fail(s, "Cannot remove package %s: %s", pkg, err);
    s->changed = res.changed;
    if (res.changed)
        dpa_step_log(s, "Removed package %s; removed %zu files no other package uses", pkg,
                     res.files_removed);
    else
        dpa_step_log(s, "Package %s is not in the content library of %s; nothing to remove",
                     pkg, s->host->fqdn);
    return DPF_OK;
}

static void pull_log(void *ctx, const char *line)
{
    dpa_step_log(ctx, "%s", line);
}

dpf_status dpa_step_content_pull(dpa_step *s)
{
    char lib[PATH_MAX], err[1024];
    dpa_pull_source src[DPA_PULL_MAX_SOURCES];
    size_t nsrc = 0;
    const char *pkg = package_param(s), *sources = dpa_step_param(s, "sources");
    if (pkg == NULL)
        return DPF_ERR_STEP;
    if (sources == NULL)
        return dpa_step_fail(s, "content_pull of %s needs the parameter sources", pkg);
    if (!dpa_pull_sources_parse(sources, src, DPA_PULL_MAX_SOURCES, &nsrc, err, sizeof err))
        return dpa_step_fail(s, "content_pull of %s: bad sources: %s", pkg, err);
    if (s->req->n_content != 1)
        return dpa_step_fail(s, "content_pull of %s lists %zu files; it takes exactly one", pkg,
                             s->req->n_content);
    dpa_clib_file f = file_of(s->req->content[0]);
    if (!dpa_clib_file_valid(&f, 1, err, sizeof err))
        return dpa_step_fail(s, "content_pull of %s: %s", pkg, err);
    if (library(s, lib, sizeof lib) != DPF_OK)
        return DPF_ERR_STEP;

    if (dpa_clib_in_filelib(lib, f.sha, f.size)) {
        dpa_step_log(s, "File %s of package %s (sha %.16s...) is already in the content "
                        "library; not downloaded", f.path, pkg, f.sha);
        return dpa_step_content(s, f.path, f.sha, f.size);
    }
    dpf_status rc = dpa_pull_file(lib, pkg, &f, src, nsrc, pull_log, s, err, sizeof err);
    if (dpa_step_content(s, f.path, f.sha, rc == DPF_OK ? f.size : 0) != DPF_OK)
        return DPF_ERR_STEP;
    if (rc != DPF_OK)
        return dpa_step_fail(s, "%s", err);
    s->changed = 1;
    dpa_step_log(s, "Stored file %s (%lld bytes) in the content library", f.sha,
                 (long long)f.size);
    return DPF_OK;
}

/* One reply line and one content entry per bad file. */
static dpf_status report_bad(dpa_step *s, const char *pkg, const dpa_validate_bad *b)
{
    switch (b->fault) {
    case DPA_VALIDATE_MISSING:
        dpa_step_log(s, "Package %s: file %s is missing from the content library (sha %.16s...)",
                     pkg, b->path, b->sha);
        break;
    case DPA_VALIDATE_SIZE:
        dpa_step_log(s, "Package %s: file %s is corrupt: %lld bytes instead of %lld (sha "
                        "%.16s...)", pkg, b->path, (long long)b->found, (long long)b->size,
                     b->sha);
        break;
    case DPA_VALIDATE_HASH:
        dpa_step_log(s, "Package %s: file %s is corrupt: SHA-256 %.16s... instead of %.16s...",
                     pkg, b->path, b->got, b->sha);
        break;
    case DPA_VALIDATE_UNREADABLE:
        dpa_step_log(s, "Package %s: file %s (sha %.16s...) cannot be read: %s", pkg, b->path,
                     b->sha, strerror(b->err_no));
        break;
    }
    return dpa_step_content(s, b->path, b->sha, b->found);
}

dpf_status dpa_step_content_validate(dpa_step *s)
{
    char lib[PATH_MAX], err[1024];
    const char *pkg = package_param(s);
    if (pkg == NULL)
        return DPF_ERR_STEP;
    if (dpa_step_path(s, lib, sizeof lib, DPA_REL_CONTENTLIB) != DPF_OK)
        return DPF_ERR_STEP;
    if (!dpa_fs_is_dir(lib))
        return dpa_step_fail(s, "package %s is not on this DP (%s has no content library)", pkg,
                             s->host->fqdn);
    dpa_validate_result res;
    dpf_status rc = dpa_validate_package(lib, pkg, &res, err, sizeof err);
    if (rc == DPF_ERR_NOT_FOUND)
        rc = dpa_step_fail(s, "package %s is not on this DP (%s)", pkg, s->host->fqdn);
    else if (rc != DPF_OK)
        rc = dpa_step_fail(s, "Cannot validate package %s on %s: %s", pkg, s->host->fqdn, err);
    if (rc == DPF_OK && (res.nice_errno != 0 || res.ioprio_errno != 0))
        dpa_step_log(s, "Package %s: validation ran without lowering its priority (nice 19: %s; "
                        "I/O idle class: %s)", pkg,
                     res.nice_errno ? strerror(res.nice_errno) : "done",
                     res.ioprio_errno ? strerror(res.ioprio_errno) : "done");
    for (size_t i = 0; rc == DPF_OK && i < res.nbad; i++)
        rc = report_bad(s, pkg, &res.bad[i]);
    if (rc == DPF_OK && res.nbad == 0)
        dpa_step_log(s, "Verified package %s: %zu files, %lld bytes in %lld ms", pkg, res.files,
                     (long long)res.bytes, (long long)res.elapsed_ms);
    else if (rc == DPF_OK)
        dpa_step_log(s, "Package %s version %lld failed validation: %zu of %zu files missing or "
                        "corrupt (%lld ms); %zu corrupt file(s) moved to FileLib/%s, a "
                        "redistribution sends them again", pkg, res.version, res.nbad,
                     res.files, (long long)res.elapsed_ms, res.set_aside,
                     DPA_VALIDATE_CORRUPT_DIR);
    s->changed = res.set_aside > 0;
    dpa_validate_result_free(&res);
    return rc;
}

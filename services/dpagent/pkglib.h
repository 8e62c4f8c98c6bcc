/* The package half of a host's content library: DataLib/<pkg>.<ver>.INI
 * lists a package version's files ("<sha256> <size> <path>" per line) and
 * PkgLib/<pkg>.INI ("version=<n>") names the version the host serves. Both
 * are written atomically (temporary file + rename), DataLib first, so
 * PkgLib only ever names a complete version. Removing a version collects
 * the FileLib files no remaining manifest references. lib is the library
 * directory (<host root>/SCCMContentLib$), borrowed. */
#ifndef DPA_PKGLIB_H
#define DPA_PKGLIB_H

#include <stddef.h>
#include <stdint.h>
#include <dpf/status.h>
#include "contentlib.h"

/* A FileLib file nobody references is collected only when it is older than
 * this: it may have been sent for a package whose install has not run yet. */
#define DPA_PKGLIB_ORPHAN_AGE_S (24 * 3600)

/* What install/remove did, for the log lines. */
typedef struct dpa_pkglib_result {
    size_t files;            /* files of the installed version */
    int64_t bytes;           /* their total size */
    size_t missing;          /* install refused: files not in FileLib */
    const char *first_missing_path; /* borrowed from the request */
    const char *first_missing_sha;
    size_t versions_removed; /* DataLib manifests deleted */
    size_t files_removed;    /* FileLib files collected */
    int64_t bytes_removed;
    int changed;             /* anything on disk changed */
} dpa_pkglib_result;

/* Installs version (>= 1) of pkg made of files[0..n): refuses with
 * DPF_ERR_NOT_FOUND (nothing changed, res->missing set) unless every file
 * is in FileLib with its size; DPF_ERR_INVALID for bad ids, paths, hashes
 * or a path listed twice (reason in err). Then writes DataLib and PkgLib,
 * deletes the package's other DataLib versions and collects unreferenced
 * FileLib files. Running it again changes nothing. files borrowed. */
dpf_status dpa_pkglib_install(const char *lib, const char *pkg, long long version,
                              const dpa_clib_file *files, size_t n, dpa_pkglib_result *res,
                              char *err, size_t errlen) DPF_MUSTCHECK;

/* Removes pkg's PkgLib and DataLib entries, then the FileLib files no other
 * package uses. A package the host does not hold: DPF_OK, changed = 0. */
dpf_status dpa_pkglib_remove(const char *lib, const char *pkg, dpa_pkglib_result *res,
                             char *err, size_t errlen) DPF_MUSTCHECK;

/* The version PkgLib names for pkg into *version; DPF_ERR_NOT_FOUND if none. */
dpf_status dpa_pkglib_version(const char *lib, const char *pkg, long long *version) DPF_MUSTCHECK;

/* For the content server: the FileLib path of rel in the version of pkg the
 * host serves, and its size. DPF_ERR_NOT_FOUND when the host does not hold
 * it. Reads PkgLib and DataLib line by line (no whole-file buffers). */
dpf_status dpa_pkglib_lookup(const char *lib, const char *pkg, const char *rel, char *path,
                             size_t len, int64_t *size) DPF_MUSTCHECK;

/* One file of a DataLib manifest (all borrowed, valid during the call);
 * a non-zero return stops the walk. */
typedef int (*dpa_pkglib_file_fn)(void *ctx, const char *sha, int64_t size, const char *path);

/* Calls fn for each file of version of pkg, in manifest order, until it
 * returns non-zero (that value is returned; 0 when every file was seen).
 * -1 with errno set when the manifest cannot be opened. Reads line by line
 * (no whole-file buffer); malformed lines are skipped. */
int dpa_pkglib_each_file(const char *lib, const char *pkg, long long version,
                         dpa_pkglib_file_fn fn, void *ctx);

#endif

/* Content validation (issue 7): re-hashes every file of the package
 * version a host serves, as the source's scheduled content validation
 * does, at low CPU and I/O priority. A file found missing, of the wrong
 * size or with the wrong SHA-256 is reported and set aside in
 * FileLib/.corrupt/<sha256>, so content_have no longer counts it as held, the
 * content server no longer serves it (404), and a redistribution sends it
 * again. lib is the library directory (<host root>/SCCMContentLib$),
 * borrowed. */
#ifndef DPA_VALIDATE_H
#define DPA_VALIDATE_H

#include <stddef.h>
#include <stdint.h>
#include <dpf/status.h>
#include "contentlib.h"

/* Where corrupt files go (under FileLib); collected after
 * DPA_PKGLIB_ORPHAN_AGE_S like abandoned partial files. */
#define DPA_VALIDATE_CORRUPT_DIR ".corrupt"

/* What is wrong with a file. */
typedef enum dpa_validate_fault {
    DPA_VALIDATE_MISSING = 1,  /* not in FileLib (or not a regular file) */
    DPA_VALIDATE_SIZE = 2,     /* in FileLib with another size */
    DPA_VALIDATE_HASH = 3,     /* right size, other SHA-256 */
    DPA_VALIDATE_UNREADABLE = 4, /* open or read failed (err_no) */
} dpa_validate_fault;

/* One file that failed. */
typedef struct dpa_validate_bad {
    char *path;                          /* owned by the result */
    char sha[DPA_CLIB_SHA_LEN + 1];      /* expected */
    int64_t size;                        /* expected */
    int64_t found;                       /* bytes found; -1 when missing or unreadable */
    char got[DPA_CLIB_SHA_LEN + 1];      /* SHA-256 found (DPA_VALIDATE_HASH), else "" */
    dpa_validate_fault fault;
    int err_no;                          /* DPA_VALIDATE_UNREADABLE: the errno */
    int set_aside;                       /* moved to FileLib/.corrupt (or deleted) by this run */
} dpa_validate_bad;

typedef struct dpa_validate_result {
    long long version;        /* the version PkgLib names */
    size_t files;             /* files in its manifest */
    int64_t bytes;            /* their total expected size */
    int64_t elapsed_ms;       /* wall time of the check */
    dpa_validate_bad *bad;    /* owned: dpa_validate_result_free */
    size_t nbad, capbad;
    size_t set_aside;         /* files this run moved out of FileLib */
    int nice_errno;           /* setpriority failed on the hashing thread (0: lowered) */
    int ioprio_errno;         /* ioprio_set failed (0: idle class) */
} dpa_validate_result;

/* Validates the version of pkg the host serves into *res (zeroed first;
 * free it with dpa_validate_result_free whatever the return). The files are
 * read in blocks on a short-lived thread that lowers its own CPU (nice 19)
 * and I/O (idle class) priority; the caller's thread, and every other
 * thread, keeps its own. A file listed twice (or by several packages) is
 * checked each time it is listed; once set aside by this run, its other
 * paths get the same verdict. DPF_OK when the check ran, whatever it found;
 * DPF_ERR_INVALID for a bad package id; DPF_ERR_NOT_FOUND when PkgLib does
 * not name pkg; DPF_ERR_IO when its manifest cannot be read or the thread
 * cannot start; DPF_ERR_NOMEM. Reason in err. */
dpf_status dpa_validate_package(const char *lib, const char *pkg, dpa_validate_result *res,
                                char *err, size_t errlen) DPF_MUSTCHECK;

void dpa_validate_result_free(dpa_validate_result *res);

/* Test hook: fn(arg) runs on the hashing thread once its priority is
 * lowered, before the first file is read. NULL clears it. Set it only
 * while no validation runs. */
typedef void (*dpa_validate_hook_fn)(void *arg);
void dpa_validate_set_hook(dpa_validate_hook_fn fn, void *arg);

#endif

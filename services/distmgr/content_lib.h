/* The site content library: the directory every distmgr replica mounts
 * (DPFLEET_CONTENT_LIBRARY, a shared volume in Kubernetes) where processed
 * package files are kept once each, by SHA-256:
 *
 *   <lib>/FileLib/<first 4 hex>/<sha256>   complete, verified files
 *   <lib>/tmp/                             files being stored (renamed into
 *                                          FileLib only when complete)
 *
 * Storing is safe from several replicas at once: the same bytes give the
 * same name, and rename() of a complete file over an identical one changes
 * nothing a reader sees. */
#ifndef DM_CONTENT_LIB_H
#define DM_CONTENT_LIB_H

#include <stddef.h>
#include <dpf/status.h>

#define DM_SHA256_HEX 65 /* 64 hex digits and the NUL */

/* Creates <lib>/FileLib and <lib>/tmp if missing. lib borrowed. */
dpf_status dm_clib_init(const char *lib, char *err, size_t errlen) DPF_MUSTCHECK;

/* Copies the file src into the library, hashing it on the way (streamed:
 * memory does not grow with the file). sha (lower-case hex) and *size are
 * the file's. *is_new is 1 when the library did not hold these bytes yet.
 * A file that changes while it is read (size differs from the start) is an
 * error. Strings borrowed. DPF_ERR_IO with err on failure. */
dpf_status dm_clib_store(const char *lib, const char *src, char sha[DM_SHA256_HEX],
                         long long *size, int *is_new, char *err,
                         size_t errlen) DPF_MUSTCHECK;

/* <lib>/FileLib/<aaaa>/<sha> into buf. */
void dm_clib_path(const char *lib, const char *sha, char *buf, size_t len);

/* Hashes the file at path (streamed) into sha and *size. */
dpf_status dm_clib_hash_file(const char *path, char sha[DM_SHA256_HEX], long long *size,
                             char *err, size_t errlen) DPF_MUSTCHECK;

#endif

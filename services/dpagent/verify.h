/* Verification of the DP component files (the source's "File '...' is
 * signed and trusted."): MANIFEST lists "<sha256 hex>  <name>" per file
 * (dpf/manifest.h), MANIFEST.sig is its Ed25519 signature, and the agent
 * trusts one public key. A set of files is accepted only if the signature
 * verifies, every file sent is listed with a matching SHA-256, and every
 * listed file is sent. */
#ifndef DPA_VERIFY_H
#define DPA_VERIFY_H

#include <stddef.h>
#include <dpf/status.h>

typedef struct dpa_verify dpa_verify;

/* One file to check. name and data borrowed. */
typedef struct dpa_file {
    const char *name;
    const void *data;
    size_t len;
} dpa_file;

/* Loads the trusted public key from a PEM file (or PEM text). Only Ed25519
 * keys are accepted. *out owned by the caller; the reason in err. */
dpf_status dpa_verify_create(const char *pem_path, dpa_verify **out, char *err,
                             size_t errlen) DPF_MUSTCHECK;
dpf_status dpa_verify_create_pem(const char *pem, size_t len, dpa_verify **out, char *err,
                                 size_t errlen) DPF_MUSTCHECK;
void dpa_verify_destroy(dpa_verify *v); /* NULL is a no-op */

/* DPF_OK if sig is a valid signature of data under the trusted key,
 * DPF_ERR_VERIFY otherwise. All borrowed. */
dpf_status dpa_verify_signature(const dpa_verify *v, const void *data, size_t len,
                                const void *sig, size_t siglen) DPF_MUSTCHECK;

/* Checks the whole set: the manifest's signature, its syntax
 * (dpf_manifest_parse: the one format distmgr checks too), and each file. On failure returns
 * DPF_ERR_VERIFY (or DPF_ERR_INVALID for a malformed manifest) with a
 * sentence for the administrator in err, e.g.
 *   "File 'smsdpprov' failed verification: SHA-256 mismatch". */
dpf_status dpa_verify_files(const dpa_verify *v, const void *manifest, size_t mlen,
                            const void *sig, size_t siglen, const dpa_file *files,
                            size_t nfiles, char *err, size_t errlen) DPF_MUSTCHECK;

/* 1 for the names that travel with the component set but are not
 * components themselves (MANIFEST, MANIFEST.sig, signing.pub); install_files
 * skips them if a sender includes them among the files. */
int dpa_verify_is_meta(const char *name);

#endif

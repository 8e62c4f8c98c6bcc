/* The DP component files distmgr sends in the install_files step: every file
 * listed in <dir>/MANIFEST (dpf/manifest.h gives its format), the MANIFEST
 * itself and MANIFEST.sig, read once at startup and kept in memory. */
#ifndef DM_COMPONENTS_H
#define DM_COMPONENTS_H

#include <stddef.h>
#include <dpf/status.h>

typedef struct dm_components dm_components;

/* Reads and checks dir: the manifest parses, every listed file exists, has a
 * safe plain name and the SHA-256 the manifest gives, and MANIFEST.sig is
 * there (its signature is the agent's to verify). On failure nothing is
 * returned and err says which file and why: DPF_ERR_NOT_FOUND (missing),
 * DPF_ERR_INVALID (bad manifest line or name), DPF_ERR_VERIFY (hash
 * mismatch), DPF_ERR_IO, DPF_ERR_NOMEM. dir: borrowed. *out owned by the
 * caller (dm_components_destroy). */
dpf_status dm_components_load(const char *dir, dm_components **out,
                              char *err, size_t errlen) DPF_MUSTCHECK;
void dm_components_destroy(dm_components *c); /* NULL is a no-op */

/* Borrowed views, valid until dm_components_destroy. */
const char *dm_components_dir(const dm_components *c);
size_t dm_components_count(const dm_components *c);
const char *dm_components_name(const dm_components *c, size_t i);
const unsigned char *dm_components_data(const dm_components *c, size_t i, size_t *len);
const unsigned char *dm_components_manifest(const dm_components *c, size_t *len);
const unsigned char *dm_components_signature(const dm_components *c, size_t *len);
/* Bytes of every file, the manifest and the signature together. */
size_t dm_components_total_bytes(const dm_components *c);

#endif

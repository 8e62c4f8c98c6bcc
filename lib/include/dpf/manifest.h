/* The signed DP component MANIFEST: one parser for distmgr (which sends the
 * set) and dpagent (which verifies it), so both accept exactly the same text.
 *
 * The format is what cmake/components.cmake writes, and `sha256sum` too:
 *
 *     <64 lower-case hex digits><two spaces><name>\n
 *
 * one line per component file, every line ended by '\n' (no CR, no blank
 * lines, no "*" binary-mode marker), names in strictly increasing byte order
 * (strcmp; so no name twice), at least one and at most
 * DPF_MANIFEST_MAX_FILES lines, at most DPF_MANIFEST_MAX_BYTES in all.
 * A name is dpf_manifest_name_ok. MANIFEST.sig, the Ed25519 signature of the
 * MANIFEST's bytes, is checked by dpagent, not here. */
#ifndef DPF_MANIFEST_H
#define DPF_MANIFEST_H

#include <stddef.h>
#include <dpf/status.h>

#define DPF_MANIFEST_FILE "MANIFEST"
#define DPF_MANIFEST_SIG_FILE "MANIFEST.sig"
#define DPF_MANIFEST_MAX_FILES 256
#define DPF_MANIFEST_MAX_BYTES (64 * 1024)
#define DPF_MANIFEST_NAME_MAX 255

typedef struct dpf_manifest dpf_manifest;

/* Parses len bytes of text (need not be NUL-terminated; a NUL byte inside is
 * an error). DPF_OK with *out set, owned by the caller (dpf_manifest_destroy);
 * otherwise *out is NULL and err says which line and why, e.g.
 *   "MANIFEST line 2 is not '<sha256 lower hex>  <name>'"
 *   "MANIFEST line 3: 'a' is out of order (names must be sorted)"
 * DPF_ERR_INVALID for any text that breaks the format, DPF_ERR_NOMEM.
 * text and err borrowed. */
dpf_status dpf_manifest_parse(const void *text, size_t len, dpf_manifest **out, char *err,
                              size_t errlen) DPF_MUSTCHECK;
void dpf_manifest_destroy(dpf_manifest *m); /* NULL is a no-op */

size_t dpf_manifest_count(const dpf_manifest *m);
/* The i-th line's name and SHA-256 (64 lower-case hex digits, NUL-ended);
 * NULL past the end. Borrowed, valid until dpf_manifest_destroy. */
const char *dpf_manifest_name(const dpf_manifest *m, size_t i);
const char *dpf_manifest_sha256(const dpf_manifest *m, size_t i);

/* 1 and *index set if name is listed, 0 otherwise (binary search). */
int dpf_manifest_find(const dpf_manifest *m, const char *name, size_t *index);

/* 1 if the SHA-256 of data equals the i-th line's hash, 0 otherwise (also
 * for i past the end). data borrowed. */
int dpf_manifest_matches(const dpf_manifest *m, size_t i, const void *data, size_t len);

/* A component name: 1..DPF_MANIFEST_NAME_MAX bytes of [A-Za-z0-9._+-], not
 * starting with '.' (so never ".", ".." or hidden) and without "..". It can
 * be used as is as a file name in one directory. 1 if name is one;
 * otherwise 0 and a short reason in why (may be NULL). */
int dpf_manifest_name_ok(const char *name, char *why, size_t whylen);

/* Lower-case hex SHA-256 of data into out (empty string if libcrypto fails). */
void dpf_manifest_sha256_hex(const void *data, size_t len, char out[65]);

#endif

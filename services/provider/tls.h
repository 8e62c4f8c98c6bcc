/* HTTPS for the API: the certificate and key the provider serves, read and
 * checked before the server starts, and handed to libmicrohttpd. */
#ifndef PROV_TLS_H
#define PROV_TLS_H

#include <dpf/status.h>

struct MHD_OptionItem;

typedef struct prov_tls prov_tls;

/* cert_path and key_path (borrowed; NULL or "" = not given) name PEM files.
 * Neither given: DPF_OK with *out NULL (plain HTTP). Both: each file read
 * and checked (readable, a PEM certificate, an unencrypted PEM private key
 * matching it; libmicrohttpd able to do TLS), *out owned by the caller.
 * Otherwise an error status with one ERROR line naming the file and what is
 * wrong, *out NULL. A key file readable by every user gets a WARN line. */
dpf_status prov_tls_load(const char *cert_path, const char *key_path, prov_tls **out) DPF_MUSTCHECK;

/* The libmicrohttpd daemon flag (MHD_USE_TLS, or 0 for NULL tls) and the
 * options to pass with MHD_OPTION_ARRAY: opts (PROV_TLS_MHD_OPTS items)
 * gets the certificate, the key and the protocol versions, then
 * MHD_OPTION_END (only that for NULL tls). opts points into tls, which
 * must outlive the daemon. */
#define PROV_TLS_MHD_OPTS 4
unsigned prov_tls_mhd_flags(const prov_tls *tls);
void prov_tls_mhd_options(const prov_tls *tls, struct MHD_OptionItem *opts);

/* "https" or "http" (NULL tls), for log lines and URLs. */
const char *prov_tls_scheme(const prov_tls *tls);

/* Wipes the key from memory and frees. NULL is a no-op. */
void prov_tls_free(prov_tls *tls);

#endif

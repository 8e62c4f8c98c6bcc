/* The pull-DP downloader: fetches one package file from source DPs over
 * HTTP (libcurl), in the order given, into the content library's partial
 * file and then FileLib (contentlib.h). Memory stays bounded: the body is
 * written to disk as it arrives and verified by reading it back. */
#ifndef DPA_PULL_H
#define DPA_PULL_H

#include <stddef.h>
#include <dpf/dp.h>
#include <dpf/status.h>
#include "contentlib.h"

#define DPA_PULL_MAX_SOURCES 32
#define DPA_PULL_CONNECT_TIMEOUT_S 5

typedef struct dpa_pull_source {
    char fqdn[DPF_FQDN_MAX + 1]; /* upper case */
    char base[256];              /* "http://host:port", no trailing '/' */
} dpa_pull_source;

/* Parses "FQDN=http://host:port,..." (blanks around items ignored) into
 * out[0..*n). Each FQDN valid, each URL http:// with printable characters
 * and no blanks, at least one and at most max. 0 with the reason in err. */
int dpa_pull_sources_parse(const char *text, dpa_pull_source *out, size_t max, size_t *n,
                           char *err, size_t errlen);

/* Reports one line per attempt (source, URL, outcome); ctx is the caller's. */
typedef void (*dpa_pull_log_fn)(void *ctx, const char *line);

/* Downloads <base>/SMS_DP_SMSPKG$/<pkg>/<f->path> from src[0], src[1], ...
 * until one gives f->size bytes whose SHA-256 is f->sha, leaving the file
 * in FileLib of lib. Each attempt is reported through log (may be NULL).
 * All sources failing: DPF_ERR_NOT_FOUND with "no source DP holds <pkg>
 * file <path> (sha <16 hex>...): <FQDN>: <why>; ..." in err. Everything
 * borrowed. Needs curl_global_init to have run (dpa_pull_global_init). */
dpf_status dpa_pull_file(const char *lib, const char *pkg, const dpa_clib_file *f,
                         const dpa_pull_source *src, size_t n, dpa_pull_log_fn log, void *ctx,
                         char *err, size_t errlen) DPF_MUSTCHECK;

/* curl_global_init, once, before any thread uses dpa_pull_file. */
dpf_status dpa_pull_global_init(void) DPF_MUSTCHECK;

#endif

/* The JSON bodies of the package endpoints and the package id in their
 * paths, checked field by field, and the source directory of a package
 * checked against the content source roots. The JSON checks are pure; the
 * source directory check reads the file system (realpath, stat, opendir)
 * and nothing else. Errors use prov_field_error (validate_dp.h).
 *
 * POST /v1/packages:
 *   name         string, required: 1..PROV_PKG_NAME_MAX characters, no control
 *                characters, no white space at either end
 *   description  string, at most PROV_PKG_DESC_MAX characters, default ""
 *   sourcePath   string, required: an absolute directory path (prov_pkg_source_check)
 *   siteCode     string, 3 of [A-Z0-9] (case-insensitive), default "PS1"
 * POST /v1/packages/{id}/distribute:
 *   distributionPoints  array of FQDNs; boundaryGroups  array of group names;
 *   at least one of them non-empty
 * POST /v1/packages/{id}/redistribute:
 *   distributionPoints  array of FQDNs, required, non-empty
 * Unknown fields and duplicate keys are rejected. */
#ifndef PROV_VALIDATE_PKG_H
#define PROV_VALIDATE_PKG_H

#include <stddef.h>
#include <jansson.h>
#include <dpf/status.h>
#include "validate_dp.h"

#define PROV_PKG_NAME_MAX 100
#define PROV_PKG_DESC_MAX 500
#define PROV_PKG_PATH_MAX 4095
#define PROV_PKG_ID_LEN 8           /* site code + 5 hex digits */
#define PROV_PKG_TARGETS_MAX 5000   /* names in one distributionPoints or boundaryGroups */
#define PROV_PKG_DEFAULT_SITE "PS1"

typedef struct prov_pkg_spec {
    const char *name;        /* borrowed from doc */
    const char *description; /* borrowed from doc; "" by default */
    const char *source_path; /* borrowed from doc, as given */
    char site[4];            /* upper-cased */
    json_t *doc;             /* owned */
} prov_pkg_spec;

typedef enum prov_targets_mode {
    PROV_TARGETS_DISTRIBUTE,   /* distributionPoints and/or boundaryGroups */
    PROV_TARGETS_REDISTRIBUTE, /* distributionPoints only, required */
} prov_targets_mode;

/* The DPs and groups a distribution names, as JSON arrays of strings (the
 * SQL takes them as one json parameter each). DP names are upper-cased. */
typedef struct prov_pkg_targets {
    json_t *dps;    /* owned array, possibly empty */
    json_t *groups; /* owned array, possibly empty */
} prov_pkg_targets;

/* Parses a create body. DPF_ERR_DECODE for malformed JSON, DPF_ERR_INVALID
 * for a bad field; on error *out is cleared. Release with prov_pkg_spec_clear. */
dpf_status prov_pkg_spec_parse(const char *body, size_t len, prov_pkg_spec *out,
                               prov_field_error *err) DPF_MUSTCHECK;
void prov_pkg_spec_clear(prov_pkg_spec *s);

/* Parses a distribute or redistribute body: every DP name a valid FQDN,
 * every group name a valid boundary group name, none listed twice
 * (case-insensitive). Release with prov_pkg_targets_clear. */
dpf_status prov_pkg_targets_parse(const char *body, size_t len, prov_targets_mode mode,
                                  prov_pkg_targets *out, prov_field_error *err) DPF_MUSTCHECK;
void prov_pkg_targets_clear(prov_pkg_targets *t);

/* A package id from a path: 3 of [A-Za-z0-9] then 5 hex digits; out
 * (PROV_PKG_ID_LEN + 1 bytes) receives it upper-cased. 0 if it is not one. */
int prov_pkg_id_parse(const char *text, char *out);

/* Checks that path is an absolute directory lying, after realpath(), under
 * (or at) one of roots (colon-separated; each root is resolved too), and
 * that it can be read. resolved (PROV_PKG_PATH_MAX + 1 bytes) receives the
 * realpath. DPF_ERR_INVALID with err (field "sourcePath") saying which rule
 * failed: not absolute, a '..' component, no roots configured, outside every
 * root (naming them), a symbolic link leading out of the roots (naming its
 * target), missing, not a directory, unreadable. */
dpf_status prov_pkg_source_check(const char *path, const char *roots, char *resolved,
                                 prov_field_error *err) DPF_MUSTCHECK;

#endif

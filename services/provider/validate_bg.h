/* The JSON bodies of the boundary group endpoints, a boundary's text, and
 * the query of GET /v1/contentlocation, checked field by field. Pure: no
 * I/O, no database. Errors use prov_field_error (validate_dp.h).
 *
 * POST /v1/boundarygroups (PATCH /v1/boundarygroups/{name}: every field but
 * name and siteCode, at least one):
 *   name                    string, required: 1..PROV_GROUP_NAME_MAX bytes, no
 *                           control characters, no ',' or '/', no white space
 *                           at either end
 *   description             string, at most PROV_DESC_MAX bytes, default ""
 *   siteCode                string, 3 of [A-Z0-9] (case-insensitive), default "PS1"
 *   boundaries              array of distinct boundaries (prov_bg_boundary_parse),
 *                           at most PROV_BG_BOUNDARIES_MAX
 *   neighbors               array of {"name": group name, "fallbackMinutes": int
 *                           0..PROV_BG_MINUTES_MAX (default 120)}, distinct names
 *                           (case-insensitive), none the group itself
 *   siteDefault             bool, default false
 *   defaultFallbackMinutes  int 0..PROV_BG_MINUTES_MAX, default 120
 * Unknown fields and duplicate keys are rejected. */
#ifndef PROV_VALIDATE_BG_H
#define PROV_VALIDATE_BG_H

#include <stddef.h>
#include <jansson.h>
#include <dpf/status.h>
#include "validate_dp.h"

#define PROV_BG_BOUNDARIES_MAX 1024
#define PROV_BG_NEIGHBORS_MAX 64
#define PROV_BG_MINUTES_MAX 525600 /* a year */
#define PROV_BG_FALLBACK_DEFAULT 120
#define PROV_BG_DEFAULT_SITE "PS1"
#define PROV_BG_VALUE_MAX 96 /* the canonical text of a boundary */

/* Bits of prov_bg_spec.present. */
enum {
    PROV_BG_F_NAME = 1u << 0,
    PROV_BG_F_DESCRIPTION = 1u << 1,
    PROV_BG_F_SITE = 1u << 2,
    PROV_BG_F_BOUNDARIES = 1u << 3,
    PROV_BG_F_NEIGHBORS = 1u << 4,
    PROV_BG_F_SITE_DEFAULT = 1u << 5,
    PROV_BG_F_FALLBACK = 1u << 6,
};

typedef enum prov_bg_mode {
    PROV_BG_CREATE, /* name required, defaults applied */
    PROV_BG_UPDATE, /* name and siteCode refused, at least one field */
} prov_bg_mode;

typedef struct prov_bg_spec {
    unsigned present;
    const char *name;        /* borrowed from doc (create) */
    const char *description; /* borrowed from doc; "" by default */
    char site[4];            /* upper-cased */
    /* owned arrays, the SQL takes each as one json parameter:
     * boundaries: [{"kind": "subnet"|"range", "value": canonical text,
     *               "net": "10.1.0.0/16" | null, "start": addr | null, "end": addr | null}]
     * neighbors:  [{"name": "...", "fallbackMinutes": n}] */
    json_t *boundaries;
    json_t *neighbors;
    int site_default;
    int default_fallback;
    json_t *doc;             /* owned: the parsed body */
} prov_bg_spec;

/* Parses body (len bytes). self: the group's name for PATCH (borrowed; the
 * neighbors must not name it); ignored for create (the body's name is used).
 * DPF_ERR_DECODE for malformed JSON, DPF_ERR_INVALID for a bad field; on
 * error *out is cleared. Release with prov_bg_spec_clear. */
dpf_status prov_bg_spec_parse(const char *body, size_t len, prov_bg_mode mode, const char *self,
                              prov_bg_spec *out, prov_field_error *err) DPF_MUSTCHECK;
void prov_bg_spec_clear(prov_bg_spec *s);

/* One boundary: an IPv4 or IPv6 subnet "addr/len" (a bare address is a
 * /32 or /128) whose host bits are zero, or a range "a-b" (blanks around
 * '-' allowed) of two addresses of one family with a <= b. Addresses are
 * read with inet_pton. On success *out is a new object as in
 * prov_bg_spec.boundaries (owned by the caller); otherwise 0 and why
 * (len bytes) says what is wrong, e.g. "10.1.2.3/16 has host bits set; did
 * you mean 10.1.0.0/16?". */
int prov_bg_boundary_parse(const char *text, json_t **out, char *why, size_t len);

/* A client address (IPv4 or IPv6, inet_pton); an IPv4-mapped IPv6 address
 * becomes its IPv4 address. canon (64 bytes) receives the canonical text.
 * 0 if text is not an address. */
int prov_bg_address_parse(const char *text, char *canon, size_t len);

/* A boundary group name as the path or a body carries it: 1 if acceptable
 * for a lookup (1..PROV_GROUP_NAME_MAX bytes, no control characters). */
int prov_bg_name_ok(const char *name);

#endif

/* The JSON body of POST /v1/distributionpoints (and PATCH, mode UPDATE),
 * checked field by field. Pure: no I/O, no database; the checks that need
 * the database (site exists, DP exists, pull sources are DPs) live in
 * dp_create.c.
 *
 * Fields (all optional unless marked):
 *   serverName      string, required on create: an FQDN (dpf_fqdn_valid), stored upper-cased
 *   siteCode        string, required on create: 3 of [A-Z0-9], case-insensitive
 *   description     string, at most PROV_DESC_MAX bytes, default ""
 *   boundaryGroups  array of distinct names (1..PROV_GROUP_NAME_MAX bytes, no
 *                   control characters, no ','), at most PROV_GROUPS_MAX
 *   enablePXE       bool, default false
 *   pullDP          null, or {"sources":[{"serverName":FQDN,"priority":int>=1},...]}
 *                   with 1..PROV_SOURCES_MAX distinct sources, none the DP itself
 *   minFreeSpaceMB  int >= 0, default 50
 *   drive           "" (any drive) or one letter, optionally with ':' ("d", "D:");
 *                   stored as "D:"
 *   priority        int 1..10000, default 200
 *   contentValidationIntervalHours  int 0..8760 (0 = no scheduled content
 *                   validation), default 168 (weekly)
 * Unknown fields and duplicate keys are rejected. */
#ifndef PROV_VALIDATE_DP_H
#define PROV_VALIDATE_DP_H

#include <stddef.h>
#include <jansson.h>
#include <dpf/dp.h>
#include <dpf/dp_props.h>
#include <dpf/status.h>
#include "json_in.h"

#define PROV_DESC_MAX 512
#define PROV_GROUP_NAME_MAX 128
#define PROV_GROUPS_MAX 32
#define PROV_SOURCES_MAX 16
#define PROV_PRIORITY_MIN 1
#define PROV_PRIORITY_MAX 10000
#define PROV_PRIORITY_DEFAULT DPF_DP_PRIORITY_DEFAULT
#define PROV_MIN_FREE_DEFAULT DPF_DP_MIN_FREE_DEFAULT
#define PROV_MIN_FREE_MAX 2147483647LL
#define PROV_VALIDATION_DEFAULT DPF_DP_VALIDATION_HOURS_DEFAULT
#define PROV_VALIDATION_MAX DPF_DP_VALIDATION_HOURS_MAX

typedef enum prov_spec_mode {
    PROV_SPEC_CREATE, /* serverName and siteCode required, defaults applied */
    PROV_SPEC_UPDATE, /* serverName/siteCode refused (they name the DP), no defaults */
} prov_spec_mode;

/* Bits of prov_dp_spec.present: which fields the body carried. */
enum {
    PROV_F_SERVER = 1u << 0,
    PROV_F_SITE = 1u << 1,
    PROV_F_DESCRIPTION = 1u << 2,
    PROV_F_GROUPS = 1u << 3,
    PROV_F_PXE = 1u << 4,
    PROV_F_PULL = 1u << 5,
    PROV_F_MIN_FREE = 1u << 6,
    PROV_F_DRIVE = 1u << 7,
    PROV_F_PRIORITY = 1u << 8,
    PROV_F_VALIDATION = 1u << 9,
};

typedef struct prov_pull_source {
    char server[DPF_FQDN_MAX + 1]; /* upper-cased */
    int priority;
} prov_pull_source;

typedef struct prov_dp_spec {
    unsigned present;
    char server[DPF_FQDN_MAX + 1]; /* upper-cased */
    char site[4];                  /* upper-cased */
    const char *description;       /* borrowed from doc; "" by default */
    const char *groups[PROV_GROUPS_MAX]; /* borrowed from doc */
    size_t n_groups;
    int enable_pxe;
    int is_pull;                   /* 1 when pullDP carried sources */
    prov_pull_source sources[PROV_SOURCES_MAX]; /* sorted by priority, then name */
    size_t n_sources;
    int min_free_mb;
    char drive[3];                 /* "" or "D:" */
    int priority;
    int validation_hours;          /* contentValidationIntervalHours */
    json_t *doc;                   /* owned: the parsed body the strings point into */
} prov_dp_spec;

/* Parses and checks body (len bytes, need not be NUL-terminated).
 * On DPF_OK *out is filled and owns its doc (prov_dp_spec_clear). On error
 * *out is left cleared and err says what is wrong: DPF_ERR_DECODE when the
 * body is not JSON (message carries jansson's line and column),
 * DPF_ERR_INVALID for a bad field. */
dpf_status prov_dp_spec_parse(const char *body, size_t len, prov_spec_mode mode,
                              prov_dp_spec *out, prov_field_error *err) DPF_MUSTCHECK;

/* Releases the doc; safe on a cleared or zeroed spec. */
void prov_dp_spec_clear(prov_dp_spec *s);

#endif

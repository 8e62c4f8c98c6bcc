/* The properties of the DP role (site_system_role_props rows of an "SMS
 * Distribution Point" role): which exist, their site control names, their
 * types, their defaults and where hman copies them in distribution_points.
 * One table, read by the provider (which writes and reads the rows) and by
 * hman (which turns them into a DistributionPoints row and its CRC). The SQL
 * side cannot include this file: the schema's column defaults and
 * dpf_dp_json()'s defaults (db/065_provider_reads.sql) are checked against
 * it by tests/integration/test_dp_props_schema.c.
 *
 * Adding a property: a DPF_PROP_* name in sitecontrol.h, an id here, a row
 * in lib/src/dp_props.c; every switch over dpf_dp_prop_id then fails to
 * compile (-Wswitch) until its consumer handles it. */
#ifndef DPF_DP_PROPS_H
#define DPF_DP_PROPS_H

#include "dp.h"

/* The source's defaults for a DP whose wizard left them alone. */
#define DPF_DP_PRIORITY_DEFAULT 200
#define DPF_DP_MIN_FREE_DEFAULT 50 /* MB */

typedef enum dpf_dp_prop_id {
    DPF_DP_PROP_DESCRIPTION,        /* Description */
    DPF_DP_PROP_DRIVE,              /* DPDrive, "" = any drive */
    DPF_DP_PROP_IS_PXE,             /* IsPXE */
    DPF_DP_PROP_IS_PULL_DP,         /* IsPullDP */
    DPF_DP_PROP_PRIORITY,           /* Priority */
    DPF_DP_PROP_MIN_FREE_SPACE,     /* MinFreeSpace, MB */
    DPF_DP_PROP_TRANSFER_RATE,      /* TransferRate */
    DPF_DP_PROP_SSL_STATE,          /* SslState */
    DPF_DP_PROP_CONTENT_VALIDATION, /* ContentValidationIntervalHours, 0 = off */
    DPF_DP_PROP_COUNT
} dpf_dp_prop_id;

/* How a property is stored: the site control column and the type of its
 * distribution_points column. */
typedef enum dpf_dp_prop_type {
    DPF_DP_PROP_TEXT, /* value1; a text column */
    DPF_DP_PROP_BOOL, /* value3, 0 or 1 (any non-zero reads as 1); a boolean column */
    DPF_DP_PROP_INT,  /* value3; an int column */
} dpf_dp_prop_type;

typedef struct dpf_dp_prop {
    dpf_dp_prop_id id;
    const char *name;         /* site_system_role_props.name (DPF_PROP_* of sitecontrol.h) */
    dpf_dp_prop_type type;
    const char *text_default; /* DPF_DP_PROP_TEXT: the value of a missing row; else NULL */
    int int_default;          /* BOOL and INT: the value of a missing row; TEXT: 0 */
    int min, max;             /* BOOL and INT: the range hman stores (dpf_dp_prop_clamp) */
    const char *column;       /* the distribution_points column hman copies it into */
    const char *api_field;    /* its key in the API's DP JSON (dpf_dp_json), NULL if not shown */
} dpf_dp_prop;

/* The property with this id; NULL when id is not one. Static storage. */
const dpf_dp_prop *dpf_dp_prop_get(dpf_dp_prop_id id);

/* The property named name (exact, case-sensitive, as the site control
 * stores it); NULL for a name that is not a DP property (a newer provider's
 * property, say: callers ignore it) or a NULL name. Static storage. */
const dpf_dp_prop *dpf_dp_prop_find(const char *name);

/* value3 as hman stores it: a BOOL becomes 0 or 1, an INT is held to
 * [min, max]. A TEXT property gives 0. */
int dpf_dp_prop_clamp(const dpf_dp_prop *prop, long long value3);

#endif

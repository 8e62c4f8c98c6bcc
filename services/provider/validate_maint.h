/* The bodies of the maintenance mode endpoints, checked field by field.
 * Pure: no I/O. Unknown fields and duplicate keys are rejected.
 *
 *   POST /v1/distributionpoints/{serverName}/maintenance
 *       {"enabled": bool (required), "force": bool (default false)}
 *   POST /v1/SetDPMaintenanceMode (the source's method and its names)
 *       {"NALPath": string (required, 1..DPF_NAL_MAX-1 bytes),
 *        "Mode": 0 or 1 (required; 1 enables), "Force": bool (default false)} */
#ifndef PROV_VALIDATE_MAINT_H
#define PROV_VALIDATE_MAINT_H

#include <stddef.h>
#include <dpf/dp.h>
#include <dpf/status.h>
#include "validate_dp.h"

typedef struct prov_maint_body {
    int enable;
    int force;
    char nal[DPF_NAL_MAX]; /* SetDPMaintenanceMode only, "" otherwise */
} prov_maint_body;

/* body: len bytes, need not be NUL-terminated. DPF_ERR_DECODE for a body
 * that is not JSON, DPF_ERR_INVALID for a bad field; err says which. */
dpf_status prov_maint_body_parse(const char *body, size_t len, prov_maint_body *out,
                                 prov_field_error *err) DPF_MUSTCHECK;
dpf_status prov_setdpmm_body_parse(const char *body, size_t len, prov_maint_body *out,
                                   prov_field_error *err) DPF_MUSTCHECK;

#endif

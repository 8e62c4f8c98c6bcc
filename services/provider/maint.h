/* Maintenance mode of a DP (the source's SMS_DistributionPointInfo
 * .SetDPMaintenanceMode) and the read-only rule it imposes, shared by the
 * two endpoints that set it and by every endpoint that changes a DP.
 *
 * Setting it is one transaction: maintenance_mode/by/at on the
 * distribution_points row, an audit row (SMS_DistributionPointInfo,
 * modified), status message 2394 (entered) or 2395 (left) naming the user,
 * and on leaving every WaitingMaintenance package of the DP back to Pending.
 * Enabling it on a DP that is the last one serving a boundary group, or the
 * last one of a group holding some package, is refused unless forced; forced,
 * 2396 (W) names what is left without a source. Setting the mode the DP
 * already has writes nothing. */
#ifndef PROV_MAINT_H
#define PROV_MAINT_H

#include <dpf/db.h>
#include <jansson.h>
#include "provider.h"
#include "validate_dp.h"

#define PROV_CLASS_DPINFO "SMS_DistributionPointInfo"

/* What to set. Exactly one of server (upper-cased FQDN) and nal is non-NULL;
 * both borrowed. */
typedef struct prov_maint_req {
    const char *server;
    const char *nal;
    int enable;
    int force;
} prov_maint_req;

typedef struct prov_maint_result {
    int changed;                   /* 0: the DP had this mode already */
    char server[DPF_FQDN_MAX + 1];
    char site[8];
    char nal[DPF_NAL_MAX];
    /* what enabling leaves without a source (also filled when refused):
     * boundaryGroups ["name", ...] and packages [{"packageId", "boundaryGroup"}, ...];
     * owned, released by prov_maint_result_clear; NULL when nothing */
    json_t *groups;
    json_t *packages;
} prov_maint_result;

/* Sets the mode. Errors (err says why, nothing written):
 *   DPF_ERR_NOT_FOUND  no such DP (or hman has not processed it yet: no row)
 *   DPF_ERR_CONFLICT   enabling on a DP being removed; enabling that would
 *                      leave groups or packages without a source, not forced
 *   DPF_ERR_DB         database failure
 * res is filled in every case; clear it with prov_maint_result_clear. */
dpf_status prov_maint_set(dpf_db *db, const prov_maint_req *rq, const prov_user *u,
                          const char *corr, prov_maint_result *res,
                          prov_field_error *err) DPF_MUSTCHECK;

void prov_maint_result_clear(prov_maint_result *res);

/* Sets "boundaryGroups" and "packages" of o (borrowed) from res (borrowed;
 * empty arrays for none). */
void prov_maint_impact_json(json_t *o, const prov_maint_result *res);

/* Inside a change's transaction, after the DP's site is locked (every
 * setter of maintenance mode locks it too): DPF_ERR_CONFLICT with err naming
 * maintenance mode when the DP (nal; server for the message) is in
 * maintenance mode, so its properties are read-only; DPF_OK otherwise. */
dpf_status prov_maint_check_writable(dpf_db *db, const char *nal, const char *server,
                                     prov_field_error *err) DPF_MUSTCHECK;

/* The HTTP status for a prov_maint_set error. */
int prov_maint_http_status(dpf_status st);

#endif

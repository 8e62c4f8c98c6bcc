/* Changing a DP's properties (PATCH), in one transaction: only the fields
 * the body carries change; pull sources and boundary groups, when given,
 * replace the DP's whole set. One audit row and one site control change. */
#ifndef PROV_DP_UPDATE_H
#define PROV_DP_UPDATE_H

#include <dpf/db.h>
#include "provider.h"
#include "validate_dp.h"

/* server: upper-cased FQDN from the path. s: parsed in PROV_SPEC_UPDATE
 * mode. site (8 bytes) and nal (DPF_NAL_MAX) receive the DP's. Errors as
 * prov_dp_create, plus DPF_ERR_NOT_FOUND when there is no such DP. */
dpf_status prov_dp_update(dpf_db *db, const char *server, const prov_dp_spec *s,
                          const prov_user *u, const char *corr, char *site, char *nal,
                          prov_field_error *err) DPF_MUSTCHECK;

#endif

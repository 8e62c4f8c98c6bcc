/* Adding a DP to the site control data (source steps 1 and 2), in one
 * transaction: the site system and DP roles, the DP's properties, its pull
 * sources, its boundary groups, the audit rows and one site control change
 * (whose trigger wakes hman through dbmon). */
#ifndef PROV_DP_CREATE_H
#define PROV_DP_CREATE_H

#include <stddef.h>
#include <dpf/db.h>
#include "provider.h"
#include "validate_dp.h"

/* s: a spec parsed in PROV_SPEC_CREATE mode. nal receives the NAL path.
 * Returns DPF_OK once committed; otherwise nothing is changed and err says
 * why: DPF_ERR_NOT_FOUND unknown site, DPF_ERR_CONFLICT the DP exists (or is
 * still being removed), DPF_ERR_INVALID a pull source is not a DP,
 * DPF_ERR_DB anything else (logged with the server's message). */
dpf_status prov_dp_create(dpf_db *db, const prov_dp_spec *s, const prov_user *u,
                          const char *corr, char *nal, size_t nal_len,
                          prov_field_error *err) DPF_MUSTCHECK;

#endif

/* What every admin change (add, modify, remove a DP; reset a site) shares:
 * the error it reports, the DP named in the path, the transaction start with
 * the correlation id, the DP found under its site's lock, the SMSProv.log
 * context lines, the audit row of the DP role, the checks on pull sources,
 * and the site control change that ends the transaction. */
#ifndef PROV_CHANGE_H
#define PROV_CHANGE_H

#include <dpf/db.h>
#include <dpf/status.h>
#include "provider.h"
#include "validate_dp.h"

#define PROV_CLASS_SYSRES "SMS_SCI_SysResUse"
#define PROV_CLASS_GROUP "SMS_BoundaryGroup"

/* Fills err and returns st. */
dpf_status prov_change_err(prov_field_error *err, dpf_status st, const char *field,
                           const char *fmt, ...) DPF_PRINTF(4, 5);
/* Logs the database's message and fills err with a generic one: DPF_ERR_DB. */
dpf_status prov_change_db_fail(dpf_db *db, prov_field_error *err, const char *what);

/* The DP named in the path ({serverName}): a valid FQDN, upper-cased into
 * server (DPF_FQDN_MAX + 1 bytes). Otherwise answers 404 itself and
 * returns 0. */
int prov_change_server_param(const prov_request *req, prov_reply *reply, char *server);

/* BEGIN and dpf_db_set_corr. On failure nothing is open. */
dpf_status prov_change_begin(dpf_db *db, const char *corr, prov_field_error *err) DPF_MUSTCHECK;

/* Within the transaction: finds the DP role of server and locks its site;
 * the role is looked up again under the lock because a concurrent DELETE may
 * have removed it meanwhile (DPF_ERR_NOT_FOUND). site (8 bytes) and nal
 * (DPF_NAL_MAX) receive the DP's. */
dpf_status prov_change_find_dp(dpf_db *db, const char *server, long long *role_id, char *site,
                               char *nal, prov_field_error *err) DPF_MUSTCHECK;

/* Every source must be an existing DP and not self (upper-cased server),
 * and no source's own chain of pull sources may lead back to self
 * (DPF_ERR_CONFLICT, naming the DP that closes the loop). */
dpf_status prov_change_check_sources(dpf_db *db, const prov_dp_spec *s, const char *self,
                                     prov_field_error *err) DPF_MUSTCHECK;

/* The audit row for the DP role (action: created, modified, deleted). */
dpf_status prov_change_audit_dp(dpf_db *db, const prov_user *u, const char *corr,
                                const char *action, const char *nal, const char *site,
                                prov_field_error *err) DPF_MUSTCHECK;

/* One admin change = one site control change = one wake-up of hman: bumps
 * site's site control, then commits. On failure the caller rolls back. */
dpf_status prov_change_commit_site(dpf_db *db, const char *site,
                                   prov_field_error *err) DPF_MUSTCHECK;

/* The source's context lines for a change request, and the closing line. */
void prov_log_enter(const prov_request *req);
void prov_log_leave(const prov_request *req);

#endif

/* What the package change endpoints share (handle_pkg_*.c): the package id
 * in the path, the transaction that starts with the correlation id and the
 * package locked, the audit row, the commit, and the mapping of an outcome
 * to an HTTP answer. */
#ifndef PROV_PKG_CHANGE_H
#define PROV_PKG_CHANGE_H

#include <dpf/db.h>
#include <dpf/status.h>
#include "provider.h"
#include "store_pkg.h"
#include "validate_dp.h"

#define PROV_CLASS_PACKAGE "SMS_Package"
#define PROV_CLASS_DP_CONTENT "SMS_DistributionPoint"

/* The {packageId} of the path, upper-cased into id (PROV_PKG_ID_LEN + 1
 * bytes). Otherwise answers 404 itself and returns 0. */
int prov_pkg_id_param(const prov_request *req, prov_reply *reply, char *id);

/* BEGIN, the correlation id, and the package read and locked into *row.
 * DPF_ERR_NOT_FOUND (err filled) when there is no such package; on any
 * failure nothing is open. */
dpf_status prov_pkg_begin(dpf_db *db, const char *corr, const char *id, prov_pkg_row *row,
                          prov_field_error *err) DPF_MUSTCHECK;

/* DPF_ERR_CONFLICT (err filled) when the package is being deleted. */
dpf_status prov_pkg_not_deleting(const prov_pkg_row *row, prov_field_error *err) DPF_MUSTCHECK;

/* Checks the DPs named in dps (JSON array of upper-cased FQDNs, borrowed)
 * for a change of package id: each must exist (DPF_ERR_NOT_FOUND naming
 * every unknown one), none may be being removed (DPF_ERR_CONFLICT), and
 * with need_row the package must be on each (DPF_ERR_NOT_FOUND). */
dpf_status prov_pkg_check_dps(dpf_db *db, const char *id, json_t *dps, int need_row,
                              prov_field_error *err) DPF_MUSTCHECK;

/* The audit row (object: the package id), then COMMIT. On failure the
 * caller rolls back. */
dpf_status prov_pkg_audit_commit(dpf_db *db, const prov_user *u, const char *corr,
                                 const char *action, const char *class_name, const char *id,
                                 prov_field_error *err) DPF_MUSTCHECK;

/* Answers the error of a refused change (404, 409, 400, else 500) and logs
 * it with what (e.g. "distribute PS100001"). */
void prov_pkg_reply_error(prov_reply *reply, dpf_status st, const prov_field_error *err,
                          const char *what);

#endif

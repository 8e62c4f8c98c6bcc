/* Package processing: the package's source directory into the site content
 * library and a new version in the database (2300, 2301 or 2302). */
#ifndef DM_PKG_PROCESS_H
#define DM_PKG_PROCESS_H

#include <dpf/db.h>

#include "distmgr.h"
#include "store_pkg.h"

/* Processes pkg, whose processing lease token holds (dm_store_pkg_lease).
 * All borrowed. DPF_OK: version pkg->source_version recorded, Ready, 2301.
 * DPF_ERR_BUSY: the lease was lost or the package moved on (nothing
 * recorded; another job has it). DPF_ERR_DB: the result could not be
 * recorded (retry). Any other status: the package is ProcessFailed with the
 * reason and 2302 (an administrator fixes the source and updates). */
dpf_status dm_pkg_process(const dm_ctx *ctx, dpf_db *db, const dm_pkg_row *pkg,
                          const char *token, const char *corr);

#endif

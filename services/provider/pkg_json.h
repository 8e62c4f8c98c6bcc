/* A package as the API shows it, from one row of prov_store_pkg_query. */
#ifndef PROV_PKG_JSON_H
#define PROV_PKG_JSON_H

#include <jansson.h>
#include <dpf/db.h>

/* New object (owned by the caller) for row of r (borrowed):
 * packageId, name, siteCode, version (the newest processed version, 0 =
 * none yet), state, fileCount, size (bytes); with detail (r from a query
 * with_detail) also description, sourcePath, sourceVersion, lastError,
 * boundaryGroups (names) and distributionPoints: [{serverName, state,
 * version (installed), targetVersion, contentUrl (null until the DP's agent
 * reported where it serves content), lastError, retryAt (null or
 * "YYYY-MM-DDTHH:MM:SSZ"), bytesSent}]. */
json_t *prov_pkg_row_json(const dpf_db_result *r, int row, int detail);

#endif

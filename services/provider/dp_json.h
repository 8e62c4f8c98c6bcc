/* A DP as the API shows it, from one row of prov_store_dp_query. */
#ifndef PROV_DP_JSON_H
#define PROV_DP_JSON_H

#include <jansson.h>
#include <dpf/db.h>

/* New object (owned by the caller) for row of r (borrowed):
 * serverName, siteCode, nalPath, dpid (null until hman inserted the DP),
 * description, priority, enablePXE, pullDP (null or {"sources":[...]}),
 * minFreeSpaceMB, drive, boundaryGroups, identityGuid, crc, installState,
 * lastStep, lastError, installedVersion, action (the DistributionPoints
 * fields are null until hman inserted the DP). */
json_t *prov_dp_row_json(const dpf_db_result *r, int row);

#endif

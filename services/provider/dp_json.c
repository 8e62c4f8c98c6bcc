/* Mapping of a DP row to the API's JSON. The shape of pullDP and
 * boundaryGroups is the same as in POST, so what dpctl shows can be sent
 * back as is. */
#include "dp_json.h"

#include <string.h>

static const char *col(const dpf_db_result *r, int row, const char *name, int *isnull)
{
    int c = dpf_db_result_col(r, name);
    if (c < 0 || dpf_db_result_isnull(r, row, c)) {
        if (isnull)
            *isnull = 1;
        return "";
    }
    if (isnull)
        *isnull = 0;
    return dpf_db_result_get(r, row, c);
}

static long long icol(const dpf_db_result *r, int row, const char *name)
{
    int c = dpf_db_result_col(r, name);
    return c < 0 ? 0 : dpf_db_result_int(r, row, c);
}

/* A text column of DistributionPoints: null when hman has not inserted the DP. */
static json_t *dp_text(const dpf_db_result *r, int row, const char *name, int dp_known)
{
    if (!dp_known)
        return json_null();
    return json_string(col(r, row, name, NULL));
}

/* A column that may be NULL or "" (never set): null in the JSON then. */
static json_t *opt_text(const dpf_db_result *r, int row, const char *name, int dp_known)
{
    int isnull = 1;
    const char *v = dp_known ? col(r, row, name, &isnull) : "";
    return isnull || *v == '\0' ? json_null() : json_string(v);
}

static json_t *parsed(const char *text, json_t *fallback)
{
    json_t *v = json_loads(text, 0, NULL);
    if (v == NULL)
        return fallback;
    json_decref(fallback);
    return v;
}

json_t *prov_dp_row_json(const dpf_db_result *r, int row)
{
    int no_dp = 1;
    col(r, row, "dpid", &no_dp);
    int known = !no_dp;
    json_t *o = json_object();
    json_object_set_new(o, "serverName", json_string(col(r, row, "server_name", NULL)));
    json_object_set_new(o, "siteCode", json_string(col(r, row, "site_code", NULL)));
    json_object_set_new(o, "nalPath", json_string(col(r, row, "nal_path", NULL)));
    json_object_set_new(o, "dpid", known ? json_integer(icol(r, row, "dpid")) : json_null());
    json_object_set_new(o, "description", json_string(col(r, row, "description", NULL)));
    json_object_set_new(o, "priority", json_integer(icol(r, row, "priority")));
    json_object_set_new(o, "enablePXE", json_boolean(icol(r, row, "is_pxe") != 0));
    if (icol(r, row, "is_pull") != 0) {
        json_t *pull = json_object();
        json_object_set_new(pull, "sources", parsed(col(r, row, "sources", NULL), json_array()));
        json_object_set_new(o, "pullDP", pull);
    } else {
        json_object_set_new(o, "pullDP", json_null());
    }
    json_object_set_new(o, "minFreeSpaceMB", json_integer(icol(r, row, "min_free")));
    json_object_set_new(o, "drive", json_string(col(r, row, "drive", NULL)));
    json_object_set_new(o, "boundaryGroups", parsed(col(r, row, "groups", NULL), json_array()));
    json_object_set_new(o, "identityGuid", dp_text(r, row, "identity_guid", known));
    json_object_set_new(o, "crc", dp_text(r, row, "dp_crc", known));
    json_object_set_new(o, "installState", dp_text(r, row, "install_state", known));
    json_object_set_new(o, "lastStep", dp_text(r, row, "last_step", known));
    json_object_set_new(o, "lastError", dp_text(r, row, "last_error", known));
    json_object_set_new(o, "installedVersion", dp_text(r, row, "installed_version", known));
    json_object_set_new(o, "action", known ? json_integer(icol(r, row, "action")) : json_null());
    /* maintenance mode lives on the DistributionPoints row: a DP hman has
     * not inserted yet cannot be in it */
    json_object_set_new(o, "maintenanceMode",
                        json_boolean(known && strcmp(col(r, row, "maintenance_mode", NULL), "t") == 0));
    json_object_set_new(o, "maintenanceChangedBy", opt_text(r, row, "maintenance_changed_by", known));
    json_object_set_new(o, "maintenanceChangedAt", opt_text(r, row, "maintenance_changed_at", known));
    json_object_set_new(o, "contentValidationIntervalHours",
                        json_integer(icol(r, row, "validation_hours")));
    json_object_set_new(o, "validationRequestedAt", opt_text(r, row, "validation_requested_at", known));
    json_object_set_new(o, "lastValidationAt", opt_text(r, row, "last_validation_at", known));
    json_object_set_new(o, "lastValidationResult", opt_text(r, row, "last_validation_result", known));
    return o;
}

/* Mapping of a package row to the API's JSON. The per-DP entries and the
 * group names arrive from SQL as JSON text (json_agg) and are parsed, not
 * assembled, so the field names live in store_pkg.c's query and here. */
#include "pkg_json.h"

static const char *col(const dpf_db_result *r, int row, const char *name)
{
    int c = dpf_db_result_col(r, name);
    return c < 0 ? "" : dpf_db_result_get(r, row, c);
}

static json_int_t icol(const dpf_db_result *r, int row, const char *name)
{
    int c = dpf_db_result_col(r, name);
    return c < 0 ? 0 : (json_int_t)dpf_db_result_int(r, row, c);
}

static json_t *parsed_array(const char *text)
{
    json_t *v = json_loads(text, 0, NULL);
    if (json_is_array(v))
        return v;
    json_decref(v);
    return json_array();
}

json_t *prov_pkg_row_json(const dpf_db_result *r, int row, int detail)
{
    json_t *o = json_object();
    json_object_set_new(o, "packageId", json_string(col(r, row, "package_id")));
    json_object_set_new(o, "name", json_string(col(r, row, "name")));
    json_object_set_new(o, "siteCode", json_string(col(r, row, "site_code")));
    json_object_set_new(o, "version", json_integer(icol(r, row, "processed_version")));
    json_object_set_new(o, "state", json_string(col(r, row, "state")));
    json_object_set_new(o, "fileCount", json_integer(icol(r, row, "file_count")));
    json_object_set_new(o, "size", json_integer(icol(r, row, "total_size")));
    if (!detail)
        return o;
    json_object_set_new(o, "description", json_string(col(r, row, "description")));
    json_object_set_new(o, "sourcePath", json_string(col(r, row, "source_path")));
    json_object_set_new(o, "sourceVersion", json_integer(icol(r, row, "source_version")));
    json_object_set_new(o, "lastError", json_string(col(r, row, "last_error")));
    json_object_set_new(o, "boundaryGroups", parsed_array(col(r, row, "groups")));
    json_object_set_new(o, "distributionPoints", parsed_array(col(r, row, "dps")));
    return o;
}

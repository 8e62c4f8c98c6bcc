/* GET /v1/packages: every package, one summary object each, as a JSON
 * array ordered by package id. */
#include <dpf/log.h>

#include "pkg_json.h"
#include "provider.h"
#include "store_pkg.h"

void prov_handle_pkg_list(prov_request *req, prov_reply *reply)
{
    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL)
        return;
    dpf_db_result *r = NULL;
    if (prov_store_pkg_query(db, NULL, 0, &r) != DPF_OK) {
        DPF_ERROR("listing the packages failed: %s", dpf_db_error(db));
        prov_reply_error(reply, 500, NULL, "database error while listing the packages");
    } else {
        json_t *arr = json_array();
        for (int i = 0; i < dpf_db_result_rows(r); i++)
            json_array_append_new(arr, prov_pkg_row_json(r, i, 0));
        prov_reply_json(reply, 200, arr);
    }
    dpf_db_result_free(r);
    prov_dbpool_release(req->server->pool, db);
}

/* GET /v1/boundarygroups: every boundary group with its boundaries,
 * neighbors and the number of member DPs, ordered by name. */
#include <dpf/log.h>

#include "bg_change.h"

void prov_handle_bg_list(prov_request *req, prov_reply *reply)
{
    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL)
        return;
    dpf_db_result *r = NULL;
    if (prov_store_bg_query(db, NULL, &r) != DPF_OK) {
        DPF_ERROR("listing the boundary groups failed: %s", dpf_db_error(db));
        prov_reply_error(reply, 500, NULL, "database error while listing the boundary groups");
    } else {
        json_t *arr = json_array();
        for (int i = 0; i < dpf_db_result_rows(r); i++)
            json_array_append_new(arr, prov_bg_row_json(r, i, 0));
        prov_reply_json(reply, 200, arr);
    }
    dpf_db_result_free(r);
    prov_dbpool_release(req->server->pool, db);
}

/* GET /v1/distributionpoints[?site=PS1]: every DP role of the site control
 * data with its DistributionPoints state, as a JSON array. */
#include <dpf/dp.h>
#include <dpf/log.h>

#include "dp_json.h"
#include "provider.h"
#include "store_dp.h"

void prov_handle_dp_list(prov_request *req, prov_reply *reply)
{
    const char *site = prov_request_query(req, "site");
    if (site != NULL && !dpf_site_code_valid(site)) {
        prov_reply_error(reply, 400, "site", "site must be a site code of 3 letters or digits (e.g. PS1)");
        return;
    }
    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL)
        return;
    dpf_db_result *r = NULL;
    dpf_status st = prov_store_dp_query(db, NULL, site, &r);
    if (st != DPF_OK) {
        DPF_ERROR("listing the distribution points failed: %s", dpf_db_error(db));
        prov_reply_error(reply, 500, NULL, "database error while listing the distribution points");
    } else {
        json_t *arr = json_array();
        for (int i = 0; i < dpf_db_result_rows(r); i++)
            json_array_append_new(arr, prov_dp_row_json(r, i));
        prov_reply_json(reply, 200, arr);
    }
    dpf_db_result_free(r);
    prov_dbpool_release(req->server->pool, db);
}

/* GET /v1/distributionpoints: the DP roles of the site control data with
 * their DistributionPoints state, a page at a time. Query arguments (see
 * list_args.h): limit (default 500, at most 5000), after (the serverName of
 * the last DP of the previous page), and the filters site, state,
 * boundaryGroup and maintenanceMode. The answer is a JSON array ordered by
 * serverName; when more DPs follow, the X-Next-After header names the
 * serverName to pass as after for the next page (no header on the last
 * page). Each DP's JSON comes from the database (dpf_dp_json). */
#include <stdio.h>

#include <dpf/log.h>

#include "list_args.h"
#include "provider.h"
#include "store_dp.h"

static const char *const KNOWN[] = {"limit", "after", "site", "state", "boundaryGroup",
                                    "maintenanceMode", NULL};

void prov_handle_dp_list(prov_request *req, prov_reply *reply)
{
    const char *unknown = prov_request_unknown_query(req, KNOWN);
    if (unknown != NULL) {
        prov_reply_error(reply, 400, unknown, "unknown query argument '%.64s' (known: limit, after, "
                         "site, state, boundaryGroup, maintenanceMode)", unknown);
        return;
    }
    prov_dp_filter f;
    prov_arg_error err;
    if (!prov_dp_filter_parse(prov_request_query_cb, req, &f, &err)) {
        prov_reply_error(reply, 400, err.field, "%s", err.msg);
        return;
    }
    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL)
        return;
    dpf_db_result *r = NULL;
    if (prov_store_dp_page(db, &f, &r) != DPF_OK) {
        DPF_ERROR("listing the distribution points failed: %s", dpf_db_error(db));
        prov_reply_error(reply, 500, NULL, "database error while listing the distribution points");
        dpf_db_result_free(r);
    } else {
        int n = dpf_db_result_rows(r);
        if (n > f.limit) { /* the extra row only says that another page follows */
            n = f.limit;
            snprintf(reply->next_after, sizeof reply->next_after, "%s",
                     dpf_db_result_get(r, n - 1, 0));
        }
        prov_reply_db(reply, 200, r, 1, n);
    }
    prov_dbpool_release_read(req->server->pool, db);
}

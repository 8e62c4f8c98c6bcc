/* GET /v1/distributionpoints/{serverName}: one DP, matched case-insensitively.
 * The hottest read of the API: one statement (dpf_dp_show, whose plans
 * PostgreSQL keeps per connection), its JSON text sent as the database
 * made it. */
#include <dpf/dp.h>
#include <dpf/log.h>

#include "provider.h"
#include "store_dp.h"

void prov_handle_dp_show(prov_request *req, prov_reply *reply)
{
    const char *server = req->param;
    char why[160];
    if (!dpf_fqdn_valid(server, why, sizeof why)) {
        prov_reply_error(reply, 404, "serverName", "no distribution point named '%.253s' ('%.253s' is "
                         "not a valid FQDN: %s)", server, server, why);
        return;
    }
    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL)
        return;
    dpf_db_result *r = NULL;
    dpf_status st = prov_store_dp_show(db, server, &r);
    if (st != DPF_OK) {
        DPF_ERROR("reading distribution point %s failed: %s", server, dpf_db_error(db));
        prov_reply_error(reply, 500, NULL, "database error while reading the distribution point");
        dpf_db_result_free(r);
    } else if (dpf_db_result_isnull(r, 0, 0)) {
        prov_reply_error(reply, 404, "serverName", "no distribution point named %s", server);
        dpf_db_result_free(r);
    } else {
        prov_reply_db(reply, 200, r, 0, -1);
    }
    prov_dbpool_release_read(req->server->pool, db);
}

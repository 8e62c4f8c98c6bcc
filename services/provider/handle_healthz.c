/* GET /healthz: 200 when the database answers, 503 otherwise, so scripts
 * and probes can wait for a usable provider. */
#include <dpf/db.h>

#include "provider.h"

void prov_handle_healthz(prov_request *req, prov_reply *reply)
{
    dpf_db *db = prov_request_db(req, reply); /* answers 503 itself */
    if (db == NULL)
        return;
    dpf_status st = dpf_db_exec(db, "SELECT 1", 0, NULL, NULL);
    prov_dbpool_release(req->server->pool, db);
    if (st != DPF_OK) {
        prov_reply_error(reply, 503, NULL, "the database does not answer");
        return;
    }
    prov_reply_json(reply, 200, json_pack("{s:s, s:s}", "status", "ok", "database", "ok"));
}

/* GET /healthz and GET /readyz, the probes (no credential needed):
 * /healthz: 200 while the process answers HTTP (liveness: a database outage
 *           must not get the provider restarted, it is not the cure);
 * /readyz:  200 when the database answers, 503 otherwise, so scripts, load
 *           balancers and readiness probes send requests only to a provider
 *           that can serve them. */
#include <dpf/db.h>

#include "provider.h"

void prov_handle_healthz(prov_request *req, prov_reply *reply)
{
    (void)req;
    prov_reply_json(reply, 200, json_pack("{s:s}", "status", "ok"));
}

void prov_handle_readyz(prov_request *req, prov_reply *reply)
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
    prov_reply_json(reply, 200, json_pack("{s:s, s:b, s:s}", "status", "ok", "ready", 1,
                                          "database", "ok"));
}

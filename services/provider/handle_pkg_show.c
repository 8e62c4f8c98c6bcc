/* GET /v1/packages/{packageId}: one package with its source, its boundary
 * groups and its state on every DP it was distributed to. */
#include <dpf/log.h>

#include "pkg_change.h"
#include "pkg_json.h"
#include "provider.h"
#include "store_pkg.h"

void prov_handle_pkg_show(prov_request *req, prov_reply *reply)
{
    char id[PROV_PKG_ID_LEN + 1];
    if (!prov_pkg_id_param(req, reply, id))
        return;
    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL)
        return;
    dpf_db_result *r = NULL;
    if (prov_store_pkg_query(db, id, &r) != DPF_OK) {
        DPF_ERROR("reading package %s failed: %s", id, dpf_db_error(db));
        prov_reply_error(reply, 500, NULL, "database error while reading the package");
    } else if (dpf_db_result_rows(r) == 0) {
        prov_reply_error(reply, 404, "packageId", "no package with id %s", id);
    } else {
        prov_reply_json(reply, 200, prov_pkg_row_json(r, 0, 1));
    }
    dpf_db_result_free(r);
    prov_dbpool_release(req->server->pool, db);
}

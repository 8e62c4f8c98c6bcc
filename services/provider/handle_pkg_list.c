/* GET /v1/packages: the packages, one summary object each, as a JSON array
 * ordered by package id, a page at a time: limit (default 500, at most
 * 5000) and after (the packageId of the last package of the previous page);
 * X-Next-After names it when another page follows, as for the DPs. */
#include <stdio.h>

#include <dpf/log.h>

#include "list_args.h"
#include "pkg_json.h"
#include "provider.h"
#include "store_pkg.h"
#include "validate_pkg.h"

static const char *const KNOWN[] = {"limit", "after", NULL};

void prov_handle_pkg_list(prov_request *req, prov_reply *reply)
{
    const char *unknown = prov_request_unknown_query(req, KNOWN);
    if (unknown != NULL) {
        prov_reply_error(reply, 400, unknown, "unknown query argument '%.64s' (known: limit, after)",
                         unknown);
        return;
    }
    int limit;
    prov_arg_error err;
    if (!prov_page_limit_parse(prov_request_query(req, "limit"), &limit, &err)) {
        prov_reply_error(reply, 400, err.field, "%s", err.msg);
        return;
    }
    const char *after_arg = prov_request_query(req, "after");
    char after[PROV_PKG_ID_LEN + 1];
    if (after_arg != NULL && !prov_pkg_id_parse(after_arg, after)) {
        prov_reply_error(reply, 400, "after", "after must be the packageId of the last package of the "
                         "previous page (3 letters or digits, then 5 hex digits)");
        return;
    }
    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL)
        return;
    dpf_db_result *r = NULL;
    if (prov_store_pkg_page(db, after_arg ? after : NULL, limit, &r) != DPF_OK) {
        DPF_ERROR("listing the packages failed: %s", dpf_db_error(db));
        prov_reply_error(reply, 500, NULL, "database error while listing the packages");
    } else {
        int n = dpf_db_result_rows(r);
        if (n > limit) {
            n = limit;
            snprintf(reply->next_after, sizeof reply->next_after, "%s", dpf_db_result_get(r, n - 1, 0));
        }
        json_t *arr = json_array();
        for (int i = 0; i < n; i++)
            json_array_append_new(arr, prov_pkg_row_json(r, i, 0));
        prov_reply_json(reply, 200, arr);
    }
    dpf_db_result_free(r);
    prov_dbpool_release_read(req->server->pool, db);
}

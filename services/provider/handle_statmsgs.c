/* GET /v1/statmsgs?id=2399&site=PS1&after=<record id>&correlationId=...&limit=100:
 * status messages as stored, newest last. Without "after" it returns the
 * newest "limit" messages; with it, the next "limit" after that record, so a
 * client can poll with the last id it saw; then X-Next-After names that id
 * when more messages follow already (absent when the page reached the
 * newest), as for the other paged lists. */
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <dpf/dp.h>
#include <dpf/log.h>
#include <dpf/util.h>

#include "http_conn.h"
#include "provider.h"
#include "store_statmsg.h"

#define STATMSG_LIMIT_DEFAULT 100
#define STATMSG_LIMIT_MAX 1000

/* 1 if text is a decimal integer within [min, max]. */
static int int_arg(const char *text, long long min, long long max, long long *out)
{
    if (text != NULL && strlen(text) > 20)
        return 0;
    return dpf_parse_int(text, min, max, out);
}

static json_t *parsed(const char *text)
{
    json_t *v = json_loads(text, 0, NULL);
    return v != NULL ? v : json_array();
}

static json_t *row_json(const dpf_db_result *r, int i)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(dpf_db_result_int(r, i, 0)));
    json_object_set_new(o, "msgId", json_integer(dpf_db_result_int(r, i, 1)));
    json_object_set_new(o, "severity", json_string(dpf_db_result_get(r, i, 2)));
    json_object_set_new(o, "level", json_string(dpf_db_result_get(r, i, 3)));
    json_object_set_new(o, "source", json_string(dpf_db_result_get(r, i, 4)));
    json_object_set_new(o, "component", json_string(dpf_db_result_get(r, i, 5)));
    json_object_set_new(o, "system", json_string(dpf_db_result_get(r, i, 6)));
    json_object_set_new(o, "site", json_string(dpf_db_result_get(r, i, 7)));
    json_object_set_new(o, "pid", json_integer(dpf_db_result_int(r, i, 8)));
    json_object_set_new(o, "tid", json_integer(dpf_db_result_int(r, i, 9)));
    json_object_set_new(o, "time", json_string(dpf_db_result_get(r, i, 10)));
    json_object_set_new(o, "timeMs", json_integer(dpf_db_result_int(r, i, 11)));
    json_object_set_new(o, "istr", parsed(dpf_db_result_get(r, i, 12)));
    json_object_set_new(o, "attrs", parsed(dpf_db_result_get(r, i, 13)));
    json_object_set_new(o, "correlationId", json_string(dpf_db_result_get(r, i, 14)));
    return o;
}

void prov_handle_statmsgs(prov_request *req, prov_reply *reply)
{
    prov_statmsg_filter f = {
        .msg_id = prov_request_query(req, "id"),
        .site = prov_request_query(req, "site"),
        .after = prov_request_query(req, "after"),
        .corr = prov_request_query(req, "correlationId"),
        .limit = STATMSG_LIMIT_DEFAULT,
    };
    const char *limit = prov_request_query(req, "limit");
    long long v;
    if (f.msg_id != NULL && !int_arg(f.msg_id, 0, 2147483647LL, &v)) {
        prov_reply_error(reply, 400, "id", "id must be a status message ID (a number such as 2399)");
        return;
    }
    if (f.site != NULL && !dpf_site_code_valid(f.site)) {
        prov_reply_error(reply, 400, "site", "site must be a site code of 3 letters or digits (e.g. PS1)");
        return;
    }
    if (f.after != NULL && !int_arg(f.after, 0, 9223372036854775807LL, &v)) {
        prov_reply_error(reply, 400, "after", "after must be a record id (a number >= 0)");
        return;
    }
    if (f.corr != NULL && !prov_corr_sane(f.corr)) {
        prov_reply_error(reply, 400, "correlationId",
                         "correlationId must be 1-%d of A-Z a-z 0-9 . _ : { } -", PROV_CORR_MAX);
        return;
    }
    if (limit != NULL) {
        if (!int_arg(limit, 1, STATMSG_LIMIT_MAX, &v)) {
            prov_reply_error(reply, 400, "limit", "limit must be between 1 and %d", STATMSG_LIMIT_MAX);
            return;
        }
        f.limit = (int)v;
    }
    int shown = f.limit;
    if (f.after != NULL)
        f.limit++; /* one more says whether another page follows */
    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL)
        return;
    dpf_db_result *r = NULL;
    if (prov_store_statmsg_query(db, &f, &r) != DPF_OK) {
        DPF_ERROR("reading status messages failed: %s", dpf_db_error(db));
        prov_reply_error(reply, 500, NULL, "database error while reading the status messages");
    } else {
        int n = dpf_db_result_rows(r);
        if (n > shown) {
            n = shown;
            snprintf(reply->next_after, sizeof reply->next_after, "%s", dpf_db_result_get(r, n - 1, 0));
        }
        json_t *arr = json_array();
        for (int i = 0; i < n; i++)
            json_array_append_new(arr, row_json(r, i));
        prov_reply_json(reply, 200, arr);
    }
    dpf_db_result_free(r);
    prov_dbpool_release_read(req->server->pool, db);
}

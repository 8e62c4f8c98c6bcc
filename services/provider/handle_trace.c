/* GET /v1/trace/{correlationId}: the timeline of one admin action, as the
 * source's five logs would tell it (SMSProv.log, smsdbmon.log, hman.log,
 * DistMgr.log by thread, SMSDPProv.log on the host) but merged in time
 * order from the database: the audit row, the trace rows every component
 * wrote and the status messages of the same correlation id. The summary
 * gives each DP's outcome by the rules of trace_outcome.h, computed over
 * every deciding row even when the timeline itself is cut at `limit`.
 *
 * A correlation id is what http_conn.c accepts from X-Correlation-Id or
 * makes itself (a UUID): 1-63 of A-Z a-z 0-9 . _ : { } -. Anything else is
 * a 400, not a 404: no action can carry it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dpf/log.h>
#include <dpf/util.h>

#include "http_conn.h"
#include "store_trace.h"
#include "trace.h"
#include "trace_rows.h"

#define TRACE_ITEMS_MAX 64 /* jobs listed per DP (the DP's own, then each package's) */

/* The source's component names of the status messages' COMP= field, as the
 * trace rows name them. */
static const char *short_component(const char *comp)
{
    static const struct { const char *comp, *name; } map[] = {
        {"SMS_DISTRIBUTION_MANAGER", "DistMgr"},
        {"SMS_HIERARCHY_MANAGER", "HMAN"},
        {"SMS_DATABASE_NOTIFICATION_MONITOR", "SMSDBMON"},
        {"SMS_PROVIDER", "SMS Provider"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(comp, map[i].comp) == 0)
            return map[i].name;
    return comp;
}

/* STATMSG: ID=2399 SEV=I ISTR0="..." ISTR1="..." (the empty ones left out). */
static void statmsg_text(const dpf_db_result *r, int i, json_t *istr, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "STATMSG: ID=%s SEV=%s",
                                   dpf_db_result_get(r, i, PROV_TL_MSG_ID),
                                   dpf_db_result_get(r, i, PROV_TL_SEVERITY));
    size_t k;
    json_t *s;
    json_array_foreach(istr, k, s) {
        const char *v = json_string_value(s);
        if (used >= len || v == NULL || v[0] == '\0')
            continue;
        used += (size_t)snprintf(buf + used, len - used, " ISTR%zu=\"%s\"", k, v);
    }
}

static json_t *ms_time(const dpf_db_result *r, int i, int col)
{
    if (dpf_db_result_isnull(r, i, col))
        return json_null();
    char iso[40];
    prov_trace_iso(dpf_db_result_int(r, i, col), iso, sizeof iso);
    return json_string(iso);
}

static json_t *text_or_null(const char *s)
{
    return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}

static json_t *entry_json(const dpf_db_result *r, int i)
{
    const char *src = dpf_db_result_get(r, i, PROV_TL_SRC);
    int is_msg = strcmp(src, "statmsg") == 0, is_audit = strcmp(src, "audit") == 0;
    json_t *e = json_object();
    char server[PROV_TRACE_SERVER_MAX] = "", text[4096];
    snprintf(server, sizeof server, "%s", dpf_db_result_get(r, i, PROV_TL_SERVER));
    json_t *istr = json_loads(dpf_db_result_get(r, i, PROV_TL_ISTR), 0, NULL);
    json_t *lines = json_loads(dpf_db_result_get(r, i, PROV_TL_LINES), 0, NULL);
    const char *message = dpf_db_result_get(r, i, PROV_TL_MESSAGE);
    if (is_msg) {
        size_t k;
        json_t *s;
        json_array_foreach(istr, k, s) {
            if (server[0] == '\0')
                prov_trace_server_of(json_string_value(s), server, sizeof server);
        }
        statmsg_text(r, i, istr, text, sizeof text);
        message = text;
    } else if (is_audit) {
        prov_trace_server_of(dpf_db_result_get(r, i, PROV_TL_OBJECT), server, sizeof server);
    }
    int64_t at = dpf_db_result_int(r, i, PROV_TL_AT_MS);
    json_object_set_new(e, "time", ms_time(r, i, PROV_TL_AT_MS));
    json_object_set_new(e, "endTime", ms_time(r, i, PROV_TL_ENDED_MS));
    json_object_set_new(e, "durationMs",
                        dpf_db_result_isnull(r, i, PROV_TL_ENDED_MS)
                            ? json_null()
                            : json_integer(dpf_db_result_int(r, i, PROV_TL_ENDED_MS) - at));
    const char *comp = dpf_db_result_get(r, i, PROV_TL_COMPONENT);
    json_object_set_new(e, "component", json_string(is_msg ? short_component(comp) : comp));
    json_object_set_new(e, "tid", json_integer(dpf_db_result_int(r, i, PROV_TL_TID)));
    json_object_set_new(e, "replica", json_string(dpf_db_result_get(r, i, PROV_TL_REPLICA)));
    json_object_set_new(e, "serverName", text_or_null(server));
    json_object_set_new(e, "dpid", dpf_db_result_isnull(r, i, PROV_TL_DPID)
                                       ? json_null()
                                       : json_integer(dpf_db_result_int(r, i, PROV_TL_DPID)));
    json_object_set_new(e, "job", text_or_null(dpf_db_result_get(r, i, PROV_TL_JOB)));
    json_object_set_new(e, "jobId", text_or_null(dpf_db_result_get(r, i, PROV_TL_JOB_ID)));
    json_object_set_new(e, "step", json_string(dpf_db_result_get(r, i, PROV_TL_STEP)));
    json_object_set_new(e, "result", json_string(dpf_db_result_get(r, i, PROV_TL_RESULT)));
    json_object_set_new(e, "message", json_string(message));
    json_object_set_new(e, "agentLines", json_is_array(lines) ? json_incref(lines) : json_array());
    json_object_set_new(e, "source", json_string(src));
    if (is_msg) {
        json_t *m = json_object();
        json_object_set_new(m, "msgId", json_integer(dpf_db_result_int(r, i, PROV_TL_MSG_ID)));
        json_object_set_new(m, "severity", json_string(dpf_db_result_get(r, i, PROV_TL_SEVERITY)));
        json_object_set_new(m, "component", json_string(comp));
        json_object_set_new(m, "istr", json_is_array(istr) ? json_incref(istr) : json_array());
        json_object_set_new(e, "statmsg", m);
    }
    json_decref(istr);
    json_decref(lines);
    return e;
}

/* The outcome of each DP named by a deciding row, in server name order. */
static json_t *summary_json(const dpf_db_result *rows, int *ok)
{
    prov_trace_rowset set;
    json_t *arr = json_array();
    *ok = prov_trace_rowset_load(rows, &set);
    prov_trace_row *group = set.n ? calloc(set.n, sizeof *group) : NULL;
    prov_trace_item *items = calloc(TRACE_ITEMS_MAX, sizeof *items);
    if (!*ok || (set.n && group == NULL) || items == NULL) {
        *ok = 0;
        free(group);
        free(items);
        prov_trace_rowset_free(&set);
        return arr;
    }
    for (size_t a = 0; a < set.n;) {
        const char *server = set.server[set.order[a]];
        size_t b = a, m = 0;
        while (b < set.n && strcmp(set.server[set.order[b]], server) == 0)
            group[m++] = set.rows[set.order[b++]];
        if (server[0] != '\0') {
            prov_trace_outcome o;
            size_t k = prov_trace_dp_outcome(group, m, &o, items, TRACE_ITEMS_MAX);
            if (o.state != PROV_TRACE_NONE) {
                json_t *j = prov_trace_outcome_json(server, &o);
                json_object_set_new(j, "jobs", prov_trace_items_json(items, k, TRACE_ITEMS_MAX));
                json_array_append_new(arr, j);
            }
        }
        a = b;
    }
    free(group);
    free(items);
    prov_trace_rowset_free(&set);
    return arr;
}

void prov_handle_trace(prov_request *req, prov_reply *reply)
{
    const char *corr = req->param;
    static const char *const known[] = {"limit", NULL};
    const char *unknown = prov_request_unknown_query(req, known);
    if (!prov_corr_sane(corr)) {
        prov_reply_error(reply, 400, "correlationId",
                         "'%.80s' is not a correlation id: it must be 1-%d of A-Z a-z 0-9 . _ : "
                         "{ } - (as dpctl prints it, e.g. 9898210c-b772-4045-8b75-5d323f6e17e6)",
                         corr, PROV_CORR_MAX);
        return;
    }
    if (unknown != NULL) {
        prov_reply_error(reply, 400, unknown, "unknown argument '%.64s' (only limit)", unknown);
        return;
    }
    long long limit = PROV_TRACE_LIMIT_DEFAULT;
    const char *lim = prov_request_query(req, "limit");
    if (lim != NULL && (strlen(lim) > 12 || !dpf_parse_int(lim, 1, PROV_TRACE_LIMIT_MAX, &limit))) {
        prov_reply_error(reply, 400, "limit", "limit must be between 1 and %d",
                         PROV_TRACE_LIMIT_MAX);
        return;
    }
    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL)
        return;
    dpf_db_result *tl = NULL, *dec = NULL;
    if (prov_store_trace_timeline(db, corr, (int)limit + 1, &tl) != DPF_OK ||
        prov_store_trace_outcome_rows(db, corr, &dec) != DPF_OK) {
        DPF_ERROR("reading the trace of %s failed: %s", corr, dpf_db_error(db));
        prov_reply_error(reply, 500, NULL, "database error while reading the trace");
        goto cleanup;
    }
    int n = dpf_db_result_rows(tl);
    if (n == 0) {
        prov_reply_error(reply, 404, "correlationId",
                         "nothing was recorded with correlation id %s (unknown, or older than "
                         "the trace retention)", corr);
        goto cleanup;
    }
    int truncated = n > limit;
    if (truncated)
        n = (int)limit;
    json_t *body = json_object(), *entries = json_array();
    const char *user = "";
    for (int i = 0; i < n; i++) {
        json_array_append_new(entries, entry_json(tl, i));
        if (user[0] == '\0' && strcmp(dpf_db_result_get(tl, i, PROV_TL_SRC), "audit") == 0)
            user = dpf_db_result_get(tl, i, PROV_TL_USER);
    }
    int ok = 1;
    json_object_set_new(body, "correlationId", json_string(corr));
    json_object_set_new(body, "user", text_or_null(user));
    json_object_set_new(body, "startedAt", ms_time(tl, 0, PROV_TL_AT_MS));
    json_object_set_new(body, "lastAt", ms_time(tl, n - 1, PROV_TL_AT_MS));
    json_object_set_new(body, "truncated", json_boolean(truncated));
    json_object_set_new(body, "summary", summary_json(dec, &ok));
    json_object_set_new(body, "entries", entries);
    if (!ok) {
        json_decref(body);
        prov_reply_error(reply, 500, NULL, "out of memory while summing up the trace");
        goto cleanup;
    }
    DPF_INFO("Trace of %s: %d entries%s", corr, n, truncated ? " (cut at the limit)" : "");
    prov_reply_json(reply, 200, body);
cleanup:
    dpf_db_result_free(tl);
    dpf_db_result_free(dec);
    prov_dbpool_release_read(req->server->pool, db);
}

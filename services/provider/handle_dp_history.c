/* GET /v1/distributionpoints/{serverName}/history: the DP's recent jobs,
 * newest first: one entry per admin action and job (an install with a
 * failed attempt and its retry is one entry, its attempts counted), each
 * with the correlation id to pass to `dpctl trace` and its outcome by the
 * rules of trace_outcome.h. A removed DP keeps its history (the rows
 * outlive it until the trace retention deletes them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dpf/dp.h>
#include <dpf/log.h>
#include <dpf/util.h>

#include "store_trace.h"
#include "trace.h"
#include "trace_rows.h"

static void upper(const char *s, char *buf, size_t len)
{
    size_t i = 0;
    for (; s[i] != '\0' && i + 1 < len; i++)
        buf[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 'a' + 'A' : s[i]);
    buf[i] = '\0';
}

/* One job: rows [a, b) of the result (its trace rows) and the status
 * messages of its correlation id about server. */
static json_t *job_json(const dpf_db_result *r, const prov_trace_rowset *set, size_t a, size_t b,
                        const char *server, prov_trace_row *group)
{
    const char *corr = dpf_db_result_get(r, (int)a, PROV_OR_CORR);
    size_t m = 0;
    int64_t ended = -1;
    int running = 0;
    for (size_t i = a; i < b; i++) {
        group[m++] = set->rows[i];
        if (set->rows[i].ended_ms < 0)
            running = 1;
        else if (set->rows[i].ended_ms > ended)
            ended = set->rows[i].ended_ms;
    }
    for (size_t i = 0; i < set->n; i++) {
        if (set->rows[i].is_statmsg && strcmp(set->server[i], server) == 0 &&
            strcmp(dpf_db_result_get(r, (int)i, PROV_OR_CORR), corr) == 0)
            group[m++] = set->rows[i];
    }
    prov_trace_outcome o;
    prov_trace_dp_outcome(group, m, &o, NULL, 0);
    if (o.state == PROV_TRACE_DONE && o.since_ms > ended)
        ended = o.since_ms;
    char iso[40];
    json_t *j = prov_trace_outcome_json(server, &o);
    json_object_del(j, "serverName");
    json_object_set_new(j, "correlationId", json_string(corr));
    json_object_set_new(j, "job", json_string(dpf_db_result_get(r, (int)a, PROV_OR_JOB)));
    prov_trace_iso(dpf_db_result_int(r, (int)a, PROV_OR_STARTED_MS), iso, sizeof iso);
    json_object_set_new(j, "startedAt", json_string(iso));
    if (running || ended < 0 || o.state == PROV_TRACE_RUNNING || o.state == PROV_TRACE_WAITING) {
        json_object_set_new(j, "endedAt", json_null());
    } else {
        prov_trace_iso(ended, iso, sizeof iso);
        json_object_set_new(j, "endedAt", json_string(iso));
    }
    if (o.state == PROV_TRACE_NONE)
        json_object_set_new(j, "outcome", json_string("Unknown (no deciding row)"));
    return j;
}

void prov_handle_dp_history(prov_request *req, prov_reply *reply)
{
    char why[160], server[PROV_TRACE_SERVER_MAX];
    static const char *const known[] = {"limit", NULL};
    const char *unknown = prov_request_unknown_query(req, known);
    if (!dpf_fqdn_valid(req->param, why, sizeof why)) {
        prov_reply_error(reply, 400, "serverName", "'%.253s' is not a valid FQDN: %s",
                         req->param, why);
        return;
    }
    if (unknown != NULL) {
        prov_reply_error(reply, 400, unknown, "unknown argument '%.64s' (only limit)", unknown);
        return;
    }
    long long limit = PROV_HISTORY_LIMIT_DEFAULT;
    const char *lim = prov_request_query(req, "limit");
    if (lim != NULL &&
        (strlen(lim) > 12 || !dpf_parse_int(lim, 1, PROV_HISTORY_LIMIT_MAX, &limit))) {
        prov_reply_error(reply, 400, "limit", "limit must be between 1 and %d",
                         PROV_HISTORY_LIMIT_MAX);
        return;
    }
    upper(req->param, server, sizeof server);
    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL)
        return;
    dpf_db_result *r = NULL;
    prov_trace_rowset set;
    memset(&set, 0, sizeof set);
    prov_trace_row *group = NULL;
    if (prov_store_dp_history(db, server, (int)limit, &r) != DPF_OK) {
        DPF_ERROR("reading the history of %s failed: %s", server, dpf_db_error(db));
        prov_reply_error(reply, 500, NULL, "database error while reading the history");
        goto cleanup;
    }
    if (!prov_trace_rowset_load(r, &set) ||
        (set.n > 0 && (group = calloc(set.n, sizeof *group)) == NULL)) {
        prov_reply_error(reply, 500, NULL, "out of memory while reading the history");
        goto cleanup;
    }
    json_t *arr = json_array();
    for (size_t a = 0; a < set.n && !set.rows[a].is_statmsg;) {
        const char *corr = dpf_db_result_get(r, (int)a, PROV_OR_CORR);
        const char *job = dpf_db_result_get(r, (int)a, PROV_OR_JOB);
        size_t b = a;
        while (b < set.n && !set.rows[b].is_statmsg &&
               strcmp(dpf_db_result_get(r, (int)b, PROV_OR_CORR), corr) == 0 &&
               strcmp(dpf_db_result_get(r, (int)b, PROV_OR_JOB), job) == 0)
            b++;
        json_array_append_new(arr, job_json(r, &set, a, b, server, group));
        a = b;
    }
    prov_reply_json(reply, 200, arr);
cleanup:
    free(group);
    prov_trace_rowset_free(&set);
    dpf_db_result_free(r);
    prov_dbpool_release_read(req->server->pool, db);
}

/* Turning the outcome rows of the database into prov_trace_row, grouped per
 * DP by a sort rather than a search per DP, so a site reset of 5,000 DPs
 * costs one pass; and the JSON of an outcome. */
#include "trace_rows.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "store_trace.h"

int prov_trace_server_of(const char *text, char *buf, size_t len)
{
    static const char head[] = "Display=\\\\";
    const char *p = text != NULL ? strstr(text, head) : NULL;
    if (p == NULL || len == 0)
        return 0;
    p += strlen(head);
    size_t n = 0;
    while (p[n] != '\0' && p[n] != '\\' && p[n] != '"' && n + 1 < len) {
        buf[n] = (char)toupper((unsigned char)p[n]);
        n++;
    }
    buf[n] = '\0';
    return n > 0;
}

/* qsort has no context argument: the set being sorted, one sort at a time
 * per thread. */
static _Thread_local const prov_trace_rowset *g_sorting;

static int by_server_time(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(g_sorting->server[i], g_sorting->server[j]);
    if (c != 0)
        return c;
    const prov_trace_row *x = &g_sorting->rows[i], *y = &g_sorting->rows[j];
    if (x->at_ms != y->at_ms)
        return x->at_ms < y->at_ms ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

int prov_trace_rowset_load(const dpf_db_result *r, prov_trace_rowset *set)
{
    memset(set, 0, sizeof *set);
    size_t n = (size_t)dpf_db_result_rows(r);
    if (n == 0)
        return 1;
    set->rows = calloc(n, sizeof *set->rows);
    set->server = calloc(n, sizeof *set->server);
    set->order = calloc(n, sizeof *set->order);
    set->istr = calloc(n, sizeof *set->istr);
    if (set->rows == NULL || set->server == NULL || set->order == NULL || set->istr == NULL) {
        prov_trace_rowset_free(set);
        return 0;
    }
    set->n = n;
    for (size_t i = 0; i < n; i++) {
        int row = (int)i;
        prov_trace_row *t = &set->rows[i];
        t->is_statmsg = dpf_db_result_int(r, row, PROV_OR_KIND) == 1;
        t->id = dpf_db_result_int(r, row, PROV_OR_ID);
        t->at_ms = dpf_db_result_int(r, row, PROV_OR_AT_MS);
        t->ended_ms = dpf_db_result_isnull(r, row, PROV_OR_ENDED_MS)
                          ? -1 : dpf_db_result_int(r, row, PROV_OR_ENDED_MS);
        t->job = dpf_db_result_get(r, row, PROV_OR_JOB);
        t->job_id = dpf_db_result_get(r, row, PROV_OR_JOB_ID);
        t->step = dpf_db_result_get(r, row, PROV_OR_STEP);
        t->result = dpf_db_result_get(r, row, PROV_OR_RESULT);
        t->message = dpf_db_result_get(r, row, PROV_OR_MESSAGE);
        t->msg_id = (int)dpf_db_result_int(r, row, PROV_OR_MSG_ID);
        for (int k = 0; k < 5; k++)
            t->istr[k] = "";
        set->order[i] = i;
        if (!t->is_statmsg) {
            snprintf(set->server[i], sizeof set->server[i], "%s",
                     dpf_db_result_get(r, row, PROV_OR_SERVER));
            continue;
        }
        json_t *a = json_loads(dpf_db_result_get(r, row, PROV_OR_ISTR), 0, NULL);
        set->istr[i] = a;
        for (size_t k = 0; k < 5 && k < json_array_size(a); k++) {
            const char *s = json_string_value(json_array_get(a, k));
            t->istr[k] = s != NULL ? s : "";
        }
        /* the NAL path names the DP; 2399/239x also carry the server as ISTR1 */
        for (size_t k = 0; k < 5 && set->server[i][0] == '\0'; k++)
            prov_trace_server_of(t->istr[k], set->server[i], sizeof set->server[i]);
    }
    g_sorting = set;
    qsort(set->order, n, sizeof *set->order, by_server_time);
    g_sorting = NULL;
    return 1;
}

void prov_trace_rowset_free(prov_trace_rowset *set)
{
    for (size_t i = 0; set->istr != NULL && i < set->n; i++)
        json_decref(set->istr[i]);
    free(set->rows);
    free(set->server);
    free(set->order);
    free(set->istr);
    memset(set, 0, sizeof *set);
}

json_t *prov_trace_outcome_json(const char *server, const prov_trace_outcome *o)
{
    char since[40];
    json_t *j = json_object();
    json_object_set_new(j, "serverName", json_string(server));
    json_object_set_new(j, "outcome", json_string(o->text));
    json_object_set_new(j, "state", json_string(o->word));
    json_object_set_new(j, "job", json_string(o->job));
    json_object_set_new(j, "step", o->step[0] ? json_string(o->step) : json_null());
    json_object_set_new(j, "reason", o->reason[0] ? json_string(o->reason) : json_null());
    if (o->since_ms >= 0) {
        prov_trace_iso(o->since_ms, since, sizeof since);
        json_object_set_new(j, "since", json_string(since));
    } else {
        json_object_set_new(j, "since", json_null());
    }
    json_object_set_new(j, "attempts", json_integer(o->attempts));
    return j;
}

json_t *prov_trace_items_json(const prov_trace_item *items, size_t n, size_t max)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n && i < max; i++) {
        json_t *j = json_object();
        json_object_set_new(j, "job", json_string(items[i].name));
        json_object_set_new(j, "outcome", json_string(items[i].o.text));
        json_object_set_new(j, "state", json_string(items[i].o.word));
        json_object_set_new(j, "attempts", json_integer(items[i].o.attempts));
        json_array_append_new(arr, j);
    }
    return arr;
}

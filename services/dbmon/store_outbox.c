/* The outbox SQL. Rows are claimed oldest first with FOR UPDATE SKIP LOCKED:
 * ids from a sequence commit out of order, so remembering "the last id seen"
 * could skip a row that committed late; claiming whatever is there and
 * deleting it after publishing cannot. SKIP LOCKED lets a second dbmon work
 * on other rows instead of waiting. */
#include "dbmon.h"

#include <stdio.h>
#include <stdlib.h>

#include <dpf/util.h>

static const char SQL_CLAIM[] =
    "SELECT id, subject, operation, table_name, trigger_name, object_key, reason, "
    "correlation_id FROM outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED";

static const char SQL_DELETE[] = "DELETE FROM outbox WHERE id = ANY($1::bigint[])";

dpf_status dbmon_store_claim(dpf_db *db, int limit, dpf_db_result **out)
{
    char lim[16];
    dpf_fmt(lim, sizeof lim, "%d", limit);
    const char *params[] = {lim};
    return dpf_db_exec(db, SQL_CLAIM, 1, params, out);
}

void dbmon_store_row(const dpf_db_result *r, int i, dbmon_row *row)
{
    row->id = dpf_db_result_int(r, i, 0);
    row->subject = dpf_db_result_get(r, i, 1);
    row->operation = dpf_db_result_get(r, i, 2);
    row->table_name = dpf_db_result_get(r, i, 3);
    row->trigger_name = dpf_db_result_get(r, i, 4);
    row->object_key = dpf_db_result_get(r, i, 5);
    row->reason = dpf_db_result_get(r, i, 6);
    row->corr = dpf_db_result_get(r, i, 7);
}

/* One statement for a batch: the ids travel as a single array parameter
 * "{1,2,3}", never spliced into the SQL. */
char *dbmon_ids_array(const long long *ids, int n)
{
    size_t cap = (size_t)(n > 0 ? n : 0) * 21 + 3;
    char *arr = malloc(cap);
    if (arr == NULL)
        return NULL;
    size_t used = 0;
    arr[used++] = '{';
    for (int i = 0; i < n; i++)
        used += (size_t)snprintf(arr + used, cap - used, i ? ",%lld" : "%lld", ids[i]);
    arr[used++] = '}';
    arr[used] = '\0';
    return arr;
}

dpf_status dbmon_store_delete(dpf_db *db, const long long *ids, int n)
{
    if (n <= 0)
        return DPF_OK;
    char *arr = dbmon_ids_array(ids, n);
    if (arr == NULL)
        return DPF_ERR_NOMEM;
    const char *params[] = {arr};
    dpf_status st = dpf_db_exec(db, SQL_DELETE, 1, params, NULL);
    free(arr);
    return st;
}

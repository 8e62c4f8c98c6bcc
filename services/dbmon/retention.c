/* Status message retention: status_messages grows by a few rows per DP per
 * change (at 5,000 DPs a site reset alone writes 10,000), and nothing else
 * ever deletes them. Once an hour (and at start) dbmon deletes the rows
 * older than StatusMessageRetentionDays, oldest first, in batches of
 * DBMON_RETENTION_BATCH rows: each batch is its own short statement, and the
 * main loop drains the outbox between batches, so a first run over a year
 * of messages never holds events back nor locks the table for long. A row
 * whose outbox row dbmon has not published yet is kept until it is. */
#include "dbmon.h"

#include <dpf/log.h>
#include <dpf/util.h>

static const char SQL_DELETE[] =
    "WITH d AS (DELETE FROM status_messages WHERE id IN ("
    "  SELECT s.id FROM status_messages s "
    "  WHERE s.raised_at < now() - make_interval(days => $1::int) "
    "    AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.subject LIKE 'statmsg.%' "
    "                    AND o.object_key = s.id::text) "
    "  ORDER BY s.raised_at LIMIT $2::int) RETURNING 1) "
    "SELECT count(*) FROM d";

dpf_status dbmon_retention_delete(dpf_db *db, int days, int limit, int *deleted)
{
    *deleted = 0;
    if (days <= 0 || limit <= 0)
        return DPF_OK;
    char d[16], l[16];
    dpf_fmt(d, sizeof d, "%d", days);
    dpf_fmt(l, sizeof l, "%d", limit);
    const char *p[] = {d, l};
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec(db, SQL_DELETE, 2, p, &r);
    if (st == DPF_OK && dpf_db_result_rows(r) == 1)
        *deleted = (int)dpf_db_result_int(r, 0, 0);
    dpf_db_result_free(r);
    return st;
}

int dbmon_retention_tick(dpf_db *db, dbmon_retention *ret, int64_t now_ms)
{
    if (ret->days <= 0 || now_ms < ret->next_ms)
        return 0;
    int n = 0;
    dpf_status st = dbmon_retention_delete(db, ret->days, DBMON_RETENTION_BATCH, &n);
    if (st != DPF_OK) {
        DPF_WARN("Status message retention: deleting messages older than %d days failed (%s); "
                 "trying again in %d s", ret->days, dpf_db_error(db),
                 DBMON_RETENTION_INTERVAL_S);
        ret->run_deleted = 0;
        ret->next_ms = now_ms + DBMON_RETENTION_INTERVAL_S * 1000LL;
        return 0;
    }
    ret->run_deleted += n;
    if (n == DBMON_RETENTION_BATCH)
        return 1; /* more to delete: the next batch after the next drain */
    if (ret->run_deleted > 0)
        DPF_INFO("Status message retention: deleted %lld status messages older than %d days "
                 "(StatusMessageRetentionDays)", ret->run_deleted, ret->days);
    else
        DPF_DEBUG("Status message retention: no status message older than %d days", ret->days);
    ret->run_deleted = 0;
    ret->next_ms = now_ms + DBMON_RETENTION_INTERVAL_S * 1000LL;
    return 0;
}

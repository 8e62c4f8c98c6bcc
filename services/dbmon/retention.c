/* Status message retention: status_messages grows by a few rows per DP per
 * change (at 5,000 DPs a site reset alone writes 10,000), and nothing else
 * ever deletes them. Once an hour (and at start) dbmon deletes the rows
 * older than StatusMessageRetentionDays, oldest first, in batches of
 * DBMON_RETENTION_BATCH rows: each batch is its own short statement, and the
 * main loop drains the outbox between batches, so a first run over a year
 * of messages never holds events back nor locks the table for long. A row
 * whose outbox row dbmon has not published yet is kept until it is.
 *
 * The timeline of admin actions (trace_events, `dpctl trace`) is kept
 * TraceRetentionDays the same way: a row per step per DP per action adds up
 * to the largest table of all at 5,000 DPs. Its batches delete by the `at`
 * index, oldest first, one batch per drain like the status messages. */
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

static const char SQL_TRACE_DELETE[] =
    "WITH d AS (DELETE FROM trace_events WHERE id IN ("
    "  SELECT t.id FROM trace_events t "
    "  WHERE t.at < now() - make_interval(days => $1::int) "
    "  ORDER BY t.at LIMIT $2::int) RETURNING 1) "
    "SELECT count(*) FROM d";

static dpf_status delete_batch(dpf_db *db, const char *sql, int days, int limit, int *deleted)
{
    *deleted = 0;
    if (days <= 0 || limit <= 0)
        return DPF_OK;
    char d[16], l[16];
    dpf_fmt(d, sizeof d, "%d", days);
    dpf_fmt(l, sizeof l, "%d", limit);
    const char *p[] = {d, l};
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec(db, sql, 2, p, &r);
    if (st == DPF_OK && dpf_db_result_rows(r) == 1)
        *deleted = (int)dpf_db_result_int(r, 0, 0);
    dpf_db_result_free(r);
    return st;
}

dpf_status dbmon_retention_delete(dpf_db *db, int days, int limit, int *deleted)
{
    return delete_batch(db, SQL_DELETE, days, limit, deleted);
}

dpf_status dbmon_trace_retention_delete(dpf_db *db, int days, int limit, int *deleted)
{
    return delete_batch(db, SQL_TRACE_DELETE, days, limit, deleted);
}

/* What one retention deletes, for its log lines. */
typedef struct {
    const char *sql;
    const char *name;    /* "Status message retention" */
    const char *row;     /* "status message" */
    const char *rows;    /* "status messages" */
    const char *setting; /* "StatusMessageRetentionDays" */
} kind;

static const kind STATMSG = {SQL_DELETE, "Status message retention", "status message",
                             "status messages", "StatusMessageRetentionDays"};
static const kind TRACE = {SQL_TRACE_DELETE, "Trace retention", "timeline row", "timeline rows",
                           "TraceRetentionDays"};

/* One batch of k when it is due; 1 when more rows wait (the next batch
 * after the next drain), 0 when the run is over or not due. */
static int tick(dpf_db *db, const kind *k, int days, int64_t *next_ms, long long *run_deleted,
                int64_t now_ms)
{
    if (days <= 0 || now_ms < *next_ms)
        return 0;
    int n = 0;
    dpf_status st = delete_batch(db, k->sql, days, DBMON_RETENTION_BATCH, &n);
    if (st != DPF_OK) {
        DPF_WARN("%s: deleting %s older than %d days failed (%s); trying again in %d s", k->name,
                 k->rows, days, dpf_db_error(db), DBMON_RETENTION_INTERVAL_S);
        *run_deleted = 0;
        *next_ms = now_ms + DBMON_RETENTION_INTERVAL_S * 1000LL;
        return 0;
    }
    *run_deleted += n;
    if (n == DBMON_RETENTION_BATCH)
        return 1;
    if (*run_deleted > 0)
        DPF_INFO("%s: deleted %lld %s older than %d days (%s)", k->name, *run_deleted, k->rows,
                 days, k->setting);
    else
        DPF_DEBUG("%s: no %s older than %d days", k->name, k->row, days);
    *run_deleted = 0;
    *next_ms = now_ms + DBMON_RETENTION_INTERVAL_S * 1000LL;
    return 0;
}

int dbmon_retention_tick(dpf_db *db, dbmon_retention *ret, int64_t now_ms)
{
    int more = tick(db, &STATMSG, ret->days, &ret->next_ms, &ret->run_deleted, now_ms);
    /* the connection is the drain's: a failed statement above left no
     * transaction open (each batch is a statement of its own) */
    return tick(db, &TRACE, ret->trace_days, &ret->trace_next_ms, &ret->trace_run_deleted,
                now_ms) || more;
}

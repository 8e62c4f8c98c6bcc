/* The timeline (trace_events, issue 11): SMSDBMON's part of an admin
 * action's story is "the change was received and published". One
 * statement per drained batch writes a row for each published change from
 * the outbox rows themselves, in the drain's transaction and before they
 * are deleted, so the row commits exactly when the change leaves the
 * outbox. Its time is the batch's (the drain transaction's start, before
 * the publish): hman's and distmgr's rows for the change, written as soon
 * as the event reaches them, must not come before it on the timeline. It runs under a savepoint: the timeline is worth much, but never
 * the outbox, so a row that cannot be written is logged and the batch is
 * published and deleted all the same. Status message rows are left out
 * (they are on the timeline as status messages already), and so are
 * changes without a correlation id (made outside the API). */
#include "dbmon.h"

#include <stdio.h>
#include <stdlib.h>

#include <dpf/log.h>
#include <dpf/trace.h>
#include <dpf/util.h>

static const char SQL_TRACE[] =
    "INSERT INTO trace_events (correlation_id, at, ended_at, component, dpid, server_name, "
    " job, step, replica, tid, result, message) "
    "SELECT o.correlation_id, n.t, n.t, 'SMSDBMON', k.dpid, coalesce(d.server_name, ''), "
    " CASE WHEN o.subject LIKE 'sitecontrol.%' THEN 'change' "
    "      WHEN o.subject LIKE 'dp.ins.%' THEN 'install' "
    "      WHEN o.subject LIKE 'dp.dpn.%' THEN 'remove' "
    "      WHEN o.subject LIKE 'dp.val.%' THEN 'validate' "
    "      WHEN o.subject LIKE 'pkg.%' THEN 'distribute' ELSE '' END, "
    " 'publish', $2, $3::bigint, 'info', "
    " 'RCV: ' || o.operation || ' on ' || o.table_name || ' for ' || o.trigger_name || "
    " ' [' || o.object_key || ' ][' || o.id || ']; SND: published ' || o.subject "
    "FROM outbox o CROSS JOIN (SELECT now() AS t) n "
    "CROSS JOIN LATERAL (SELECT CASE WHEN o.subject LIKE 'dp.%' "
    "  AND o.object_key ~ '^[0-9]{1,18}$' THEN o.object_key::bigint END AS dpid) k "
    "LEFT JOIN distribution_points d ON d.dpid = k.dpid "
    "WHERE o.id = ANY($1::bigint[]) AND o.subject NOT LIKE 'statmsg.%' "
    "  AND o.correlation_id <> '' "
    "ORDER BY o.id";

dpf_status dbmon_store_trace(dpf_db *db, const long long *ids, int n)
{
    if (n <= 0)
        return DPF_OK;
    char *arr = dbmon_ids_array(ids, n);
    if (arr == NULL)
        return DPF_ERR_NOMEM;
    char tid[24];
    dpf_fmt(tid, sizeof tid, "%llu", (unsigned long long)dpf_log_tid());
    const char *params[] = {arr, dpf_trace_replica(), tid};
    dpf_status st = dpf_db_exec(db, "SAVEPOINT dbmon_trace", 0, NULL, NULL);
    if (st == DPF_OK) {
        st = dpf_db_exec(db, SQL_TRACE, 3, params, NULL);
        if (st == DPF_OK) {
            st = dpf_db_exec(db, "RELEASE SAVEPOINT dbmon_trace", 0, NULL, NULL);
        } else {
            DPF_WARN("Could not record %d published changes on the timeline (trace_events): "
                     "%s; they are published all the same", n, dpf_db_error(db));
            st = dpf_db_exec(db, "ROLLBACK TO SAVEPOINT dbmon_trace", 0, NULL, NULL);
        }
    }
    free(arr);
    return st;
}

/* SQL of the trace reads. The timeline is one statement over three tables
 * so that PostgreSQL merges them in time order and the LIMIT holds across
 * them; each branch reads one index by correlation id. Times travel as
 * milliseconds since the epoch so the handler can compute durations and
 * order them without parsing text. */
#include "store_trace.h"

#include <stdio.h>

#define MS(x) "floor(extract(epoch FROM " x ") * 1000)::bigint"

/* The status messages that can decide a DP's outcome (trace_outcome.c). */
#define DECIDING_MSGS \
    "(2399, 2398, 2390, 2391, 2392, 2330, 2332, 2333, 2334, 2383, 2384, 3307, 3308, 2394, 2395)"

static const char SQL_TIMELINE[] =
    "SELECT src, id, at_ms, ended_ms, component, tid, replica, dpid, server_name, job, job_id, "
    "       step, result, message, lines, msg_id, severity, istr, user_name, object FROM ("
    " SELECT 'trace' AS src, 1 AS rank, id, at, " MS("at") " AS at_ms, " MS("ended_at") " AS ended_ms, "
    "        component, tid, replica, dpid, server_name, job, job_id, step, result, message, "
    "        array_to_json(agent_lines)::text AS lines, 0 AS msg_id, '' AS severity, "
    "        '[]' AS istr, '' AS user_name, '' AS object "
    "   FROM trace_events WHERE correlation_id = $1 "
    " UNION ALL "
    " SELECT 'audit', 0, id, at, " MS("at") ", " MS("at") ", 'SMS Provider', 0, '', NULL, '', "
    "        '', '', 'Auditing', 'info', "
    "        format('Auditing: User %s %s an instance of class %s. (Application=%s, Machine=%s)', "
    "               user_name, action, class_name, app_name, machine_name), "
    "        '[]', 0, '', '[]', user_name, object "
    "   FROM audit_log WHERE correlation_id = $1 "
    " UNION ALL "
    " SELECT 'statmsg', 2, id, raised_at, " MS("raised_at") ", " MS("raised_at") ", component, "
    "        tid, system, NULL, '', '', '', 'STATMSG ' || msg_id, "
    "        CASE severity WHEN 'E' THEN 'failed' ELSE 'info' END, '', '[]', msg_id, "
    "        severity::text, array_to_json(istr)::text, '', '' "
    "   FROM status_messages WHERE correlation_id = $1 "
    ") e ORDER BY at, rank, id LIMIT $2::int";

static const char SQL_OUTCOME_ROWS[] =
    "SELECT 0, id, " MS("at") ", " MS("ended_at") ", server_name, job, job_id, step, result, "
    "       message, 0, '[]', correlation_id, NULL::bigint "
    "  FROM trace_events WHERE correlation_id = $1 AND server_name <> '' "
    "   AND (job_id <> '' OR result = 'waiting') "
    "UNION ALL "
    "SELECT 1, id, " MS("raised_at") ", " MS("raised_at") ", '', '', '', '', '', '', msg_id, "
    "       array_to_json(istr)::text, correlation_id, NULL::bigint "
    "  FROM status_messages WHERE correlation_id = $1 AND msg_id IN " DECIDING_MSGS;

/* One pass over the DP's rows (trace_events_server): each row gets its
 * job's start, the jobs are ranked newest first and the first $2 kept, no
 * join back by correlation id (a site reset's id has rows for every DP).
 * The status messages of those ids are narrowed to those naming the DP in
 * an ISTR (a prefilter: the handler matches the server exactly). */
static const char SQL_HISTORY[] =
    "WITH dp AS ("
    "  SELECT id, at, ended_at, server_name, job, job_id, step, result, message, correlation_id, "
    "         min(at) OVER (PARTITION BY correlation_id, job) AS started "
    "    FROM trace_events WHERE server_name = upper($1) AND job <> ''), "
    "ranked AS (SELECT *, dense_rank() OVER (ORDER BY started DESC, correlation_id, job) AS rk "
    "             FROM dp) "
    "SELECT 0, id, " MS("at") ", " MS("ended_at") ", server_name, job, job_id, step, result, "
    "       message, 0, '[]', correlation_id, " MS("started") " "
    "  FROM ranked WHERE rk <= $2::int "
    "UNION ALL "
    "SELECT 1, s.id, " MS("s.raised_at") ", " MS("s.raised_at") ", '', '', '', '', '', '', "
    "       s.msg_id, array_to_json(s.istr)::text, s.correlation_id, NULL::bigint "
    "  FROM status_messages s "
    " WHERE s.correlation_id IN (SELECT correlation_id FROM ranked WHERE rk <= $2::int) "
    "   AND s.msg_id IN " DECIDING_MSGS " "
    "   AND strpos(upper(array_to_string(s.istr, '|')), upper($1)) > 0 "
    "ORDER BY 14 DESC NULLS LAST, 13, 6, 3, 2";

dpf_status prov_store_trace_timeline(dpf_db *db, const char *corr, int limit,
                                     dpf_db_result **out)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    const char *p[] = {corr, lim};
    return dpf_db_exec(db, SQL_TIMELINE, 2, p, out);
}

dpf_status prov_store_trace_outcome_rows(dpf_db *db, const char *corr, dpf_db_result **out)
{
    const char *p[] = {corr};
    return dpf_db_exec(db, SQL_OUTCOME_ROWS, 1, p, out);
}

dpf_status prov_store_dp_history(dpf_db *db, const char *server, int limit, dpf_db_result **out)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    const char *p[] = {server, lim};
    return dpf_db_exec(db, SQL_HISTORY, 2, p, out);
}

/* SQL for status messages. Two statements rather than one with a variable
 * ORDER BY: "the newest N" must scan backwards, "N after id X" forwards. */
#include "store_statmsg.h"

#include <stdio.h>

#define STATMSG_COLUMNS \
    "id, msg_id, severity, level, source, component, system, site_code, pid, tid, " \
    "to_char(raised_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS time, " \
    "(extract(epoch FROM raised_at) * 1000)::bigint AS time_ms, " \
    "array_to_json(istr)::text AS istr, attrs::text AS attrs, correlation_id"

#define STATMSG_WHERE \
    "WHERE ($1::int IS NULL OR msg_id = $1::int) " \
    "  AND ($2::text IS NULL OR site_code = $2) " \
    "  AND ($3::bigint IS NULL OR id > $3::bigint) " \
    "  AND ($4::text IS NULL OR correlation_id = $4) "

dpf_status prov_store_statmsg_query(dpf_db *db, const prov_statmsg_filter *f,
                                    dpf_db_result **out)
{
    char limit[16];
    snprintf(limit, sizeof limit, "%d", f->limit);
    const char *p[] = {f->msg_id, f->site, f->after, f->corr, limit};
    const char *sql = f->after != NULL
        ? "SELECT " STATMSG_COLUMNS " FROM status_messages " STATMSG_WHERE
          "ORDER BY id LIMIT $5::int"
        : "SELECT * FROM (SELECT " STATMSG_COLUMNS " FROM status_messages " STATMSG_WHERE
          "ORDER BY id DESC LIMIT $5::int) newest ORDER BY id";
    return dpf_db_exec(db, sql, 5, p, out);
}

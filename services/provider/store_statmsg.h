/* Reading status_messages for GET /v1/statmsgs. */
#ifndef PROV_STORE_STATMSG_H
#define PROV_STORE_STATMSG_H

#include <dpf/db.h>
#include <dpf/status.h>

/* Filters; NULL fields do not filter. All borrowed, already validated. */
typedef struct prov_statmsg_filter {
    const char *msg_id; /* "2399" */
    const char *site;   /* "PS1" */
    const char *after;  /* record id: only newer rows, oldest first */
    const char *corr;   /* correlation id */
    int limit;
} prov_statmsg_filter;

/* Rows oldest first (newest last). Without after: the newest limit rows.
 * With after: the limit rows following that record. *out owned by the
 * caller. Columns: id, msg_id, severity, level, source, component, system,
 * site_code, pid, tid, time (ISO 8601 UTC), time_ms, istr (JSON),
 * attrs (JSON), correlation_id. */
dpf_status prov_store_statmsg_query(dpf_db *db, const prov_statmsg_filter *f,
                                    dpf_db_result **out) DPF_MUSTCHECK;

#endif

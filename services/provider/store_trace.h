/* Reading the timeline of one admin action (trace_events, audit_log and
 * status_messages of one correlation id) and a DP's recent jobs, for
 * GET /v1/trace/{correlationId} and GET /v1/distributionpoints/{serverName}/history.
 * Each read is one parameterized statement on an index of db/090_trace.sql
 * (trace_events_corr, trace_events_server) or db/091_trace_read.sql
 * (audit_log_corr); status messages by status_messages_corr. */
#ifndef PROV_STORE_TRACE_H
#define PROV_STORE_TRACE_H

#include <dpf/db.h>
#include <dpf/status.h>

/* Columns of prov_store_trace_timeline's rows. */
enum {
    PROV_TL_SRC,       /* "trace", "audit", "statmsg" */
    PROV_TL_ID,
    PROV_TL_AT_MS,     /* ms since the epoch */
    PROV_TL_ENDED_MS,  /* NULL while running */
    PROV_TL_COMPONENT, /* trace: SMS Provider, SMSDBMON, HMAN, DistMgr, DP host; statmsg: COMP= */
    PROV_TL_TID,
    PROV_TL_REPLICA,
    PROV_TL_DPID,      /* NULL when not about one DP */
    PROV_TL_SERVER,    /* "" when not known from the row */
    PROV_TL_JOB,
    PROV_TL_JOB_ID,
    PROV_TL_STEP,
    PROV_TL_RESULT,
    PROV_TL_MESSAGE,
    PROV_TL_LINES,     /* JSON array of the agent's lines */
    PROV_TL_MSG_ID,    /* status message ID, 0 otherwise */
    PROV_TL_SEVERITY,  /* status message severity, "" otherwise */
    PROV_TL_ISTR,      /* JSON array of the insertion strings, [] otherwise */
    PROV_TL_USER,      /* the audit row's user, "" otherwise */
    PROV_TL_OBJECT,    /* the audit row's object, "" otherwise */
};

/* The first limit entries of corr's timeline in time order (audit row
 * before the trace rows of the same instant, status messages after).
 * *out owned by the caller. */
dpf_status prov_store_trace_timeline(dpf_db *db, const char *corr, int limit,
                                     dpf_db_result **out) DPF_MUSTCHECK;

/* Columns of the rows the outcome rules read (prov_store_trace_outcome_rows
 * and prov_store_dp_history). */
enum {
    PROV_OR_KIND,      /* 0 trace row, 1 status message */
    PROV_OR_ID,
    PROV_OR_AT_MS,
    PROV_OR_ENDED_MS,  /* NULL while running */
    PROV_OR_SERVER,    /* trace rows; "" for status messages (see ISTR) */
    PROV_OR_JOB,
    PROV_OR_JOB_ID,
    PROV_OR_STEP,
    PROV_OR_RESULT,
    PROV_OR_MESSAGE,
    PROV_OR_MSG_ID,
    PROV_OR_ISTR,      /* JSON array */
    PROV_OR_CORR,
    PROV_OR_STARTED_MS, /* history: the job's first row */
};

/* Every row of corr that can decide a DP's outcome, whatever the limit of
 * the timeline: the trace rows naming a DP that belong to a job or wait,
 * and the deciding status messages. *out owned by the caller. */
dpf_status prov_store_trace_outcome_rows(dpf_db *db, const char *corr,
                                         dpf_db_result **out) DPF_MUSTCHECK;

/* The limit newest jobs (one per correlation id and job) of server
 * (upper-cased by the statement): their rows on that DP and the deciding
 * status messages of their correlation ids, PROV_OR_* columns, the newest
 * job's rows first. *out owned by the caller. */
dpf_status prov_store_dp_history(dpf_db *db, const char *server, int limit,
                                 dpf_db_result **out) DPF_MUSTCHECK;

#endif

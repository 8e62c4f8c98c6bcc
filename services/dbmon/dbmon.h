/* dbmon's private interface (SMS_DATABASE_NOTIFICATION_MONITOR): the outbox
 * store, the row -> event encoders and the drain step, split so that tests
 * can drive each one without the main loop.
 *
 * Flow: triggers write outbox rows in the transaction that made the change
 * and pg_notify('dpf_outbox'); dbmon claims a batch in order, publishes each
 * row to JetStream with the message id "outbox-<id>", deletes the published
 * rows and commits. Status messages take the same path: dpf_statmsg_raise
 * writes an outbox row with subject statmsg.<site>.<component>.<id> in the
 * raiser's transaction, and dbmon publishes the status_messages row it names
 * (to DPF_STATMSG, message id "statmsg-<record id>-<time ms>"). */
#ifndef DBMON_H
#define DBMON_H

#include <stddef.h>
#include <stdint.h>
#include <dpf/bus.h>
#include <dpf/db.h>

#define DBMON_BATCH_MAX 100
#define DBMON_NOTIFY_CHANNEL "dpf_outbox"
#define DBMON_STATMSG_PREFIX "statmsg."

/* One claimed outbox row. Strings borrowed from the claim result (valid
 * until dpf_db_result_free of that result). */
typedef struct dbmon_row {
    long long id;
    const char *subject;      /* sitecontrol.changed.PS1, dp.ins.32, dp.dpn.34 */
    const char *operation;    /* INSERT, UPDATE */
    const char *table_name;   /* SiteControl, DistributionPoints, DPNotification */
    const char *trigger_name; /* SiteControl_AddUpd_HMAN, DistributionPoints_Ins, ... */
    const char *object_key;   /* PS1, 32 */
    const char *reason;       /* insert, update, reset or "" */
    const char *corr;         /* correlation id or "" */
} dbmon_row;

/* The event a row becomes. */
typedef struct dbmon_event {
    void *data;       /* packed protobuf, malloc'd, owned by the event */
    size_t len;
    char inbox[96];   /* the source's inbox file: "hman.box/PS1.SCU", "distmgr.box/32.INS";
                         for a status message "status message 3306" */
    char msg_id[64];  /* "outbox-<id>" or "statmsg-<record>-<ms>", JetStream de-duplication id */
    unsigned statmsg_id;       /* status message rows: 3306; 0 for other events */
    long long statmsg_record;  /* status message rows: the status_messages id */
} dbmon_event;

/* encode.c: builds the protobuf event for row into ev (cleared first).
 * DPF_ERR_INVALID with the reason in err when the row names an unknown
 * subject or a key that does not fit it (such a row can never be published
 * and is dropped by the caller). row borrowed; ev's data owned by ev. */
dpf_status dbmon_encode(const dbmon_row *row, dbmon_event *ev, char *err,
                        size_t errlen) DPF_MUSTCHECK;
void dbmon_event_clear(dbmon_event *ev); /* frees ev->data; safe twice */

/* statmsg_event.c: for a row whose subject starts with DBMON_STATMSG_PREFIX,
 * reads the status_messages row object_key names (on db, inside the claim
 * transaction) and builds the Dpf__StatusMessage for ev (cleared first).
 * DPF_ERR_INVALID with the reason in err when the row can never be
 * published (no such status message, subject not its own); any other error
 * is the database's and the row must stay. row borrowed; ev's data owned by
 * ev. */
dpf_status dbmon_encode_statmsg(dpf_db *db, const dbmon_row *row, dbmon_event *ev, char *err,
                                size_t errlen) DPF_MUSTCHECK;

/* store_outbox.c: claims up to limit rows, oldest first, skipping rows another
 * dbmon holds (FOR UPDATE SKIP LOCKED). Call inside a transaction. *out owned
 * by the caller (dpf_db_result_free). */
dpf_status dbmon_store_claim(dpf_db *db, int limit, dpf_db_result **out) DPF_MUSTCHECK;
/* Fills row i of a claim result; the strings are borrowed from r. */
void dbmon_store_row(const dpf_db_result *r, int i, dbmon_row *row);
/* Deletes the outbox rows with the n given ids (ids borrowed). */
dpf_status dbmon_store_delete(dpf_db *db, const long long *ids, int n) DPF_MUSTCHECK;
/* The n ids (borrowed) as a PostgreSQL array literal "{1,2,3}", the one
 * parameter a batch statement takes. Owned by the caller (free); NULL when
 * out of memory. */
char *dbmon_ids_array(const long long *ids, int n);

/* store_trace.c: one trace_events row (SMSDBMON, step "publish", the RCV
 * and SND words) per outbox row of ids (n of them, borrowed) that is not a
 * status message and has a correlation id, written from the outbox rows in
 * the caller's transaction, before they are deleted, under a savepoint: a
 * failure to write them is logged and does not fail the batch (DPF_OK).
 * Another error is the database's (the savepoint could not be taken). */
dpf_status dbmon_store_trace(dpf_db *db, const long long *ids, int n) DPF_MUSTCHECK;

/* drain.c */
typedef struct dbmon_drain_stats {
    int claimed;    /* rows claimed in this batch */
    int published;  /* rows published and deleted */
    int dropped;    /* rows that could not become an event, deleted and reported (9901) */
    int bus_failed; /* the returned error came from publishing, not from the database */
} dbmon_drain_stats;

/* One batch: claim, log RCV, publish, log SND, delete, commit. A row that
 * can never become an event is deleted and reported (9901) in the same
 * transaction; the report's own outbox row goes out with the next batch. A
 * status message row is published to DPF_STATMSG like any other row. On a
 * publish failure the rows published so far are still deleted and
 * committed, the rest stay for the next attempt, and the bus error is
 * returned (with stats->bus_failed set) so the caller backs off. Any other
 * error is the database's: nothing was committed, and a republish of the
 * same rows is dropped by JetStream's msg id window.
 * site: the site whose status messages this dbmon raises (9901 for a row
 * that cannot become an event). db, bus, site borrowed; stats filled. */
dpf_status dbmon_drain_once(dpf_db *db, dpf_bus *bus, int limit, const char *site,
                            dbmon_drain_stats *stats) DPF_MUSTCHECK;

/* retention.c: status_messages retention (StatusMessageRetentionDays). */
#define DBMON_RETENTION_BATCH 1000        /* rows per DELETE */
#define DBMON_RETENTION_INTERVAL_S 3600   /* a run every hour (and at start) */

typedef struct dbmon_retention {
    int days;                 /* StatusMessageRetentionDays; 0 = keep forever */
    int64_t next_ms;          /* when the next run starts (0: now) */
    long long run_deleted;    /* rows deleted so far by the current run */
    /* the timeline (trace_events), on the same schedule, its own setting */
    int trace_days;           /* TraceRetentionDays; 0 = keep forever */
    int64_t trace_next_ms;
    long long trace_run_deleted;
} dbmon_retention;

/* Deletes up to limit status messages older than days (oldest first),
 * except those whose outbox row is still waiting to be published;
 * *deleted: how many. days <= 0 deletes nothing. */
dpf_status dbmon_retention_delete(dpf_db *db, int days, int limit, int *deleted) DPF_MUSTCHECK;

/* Deletes up to limit trace_events rows that started more than days ago
 * (oldest first); *deleted: how many. days <= 0 deletes nothing. */
dpf_status dbmon_trace_retention_delete(dpf_db *db, int days, int limit,
                                        int *deleted) DPF_MUSTCHECK;

/* Called by the main loop after each drain, with the wall clock: runs one
 * batch when a run is due, logs the run's total when it ends and schedules
 * the next one an hour later (also after a failure, which is logged).
 * The same for the timeline (trace_events, TraceRetentionDays).
 * Returns 1 while the current run has more to delete (the loop should not
 * sleep), else 0. db, ret borrowed. */
int dbmon_retention_tick(dpf_db *db, dbmon_retention *ret, int64_t now_ms);

#endif

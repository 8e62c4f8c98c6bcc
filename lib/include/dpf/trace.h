/* The timeline of one admin action (issue 11, table trace_events,
 * db/090_trace.sql): every component appends rows keyed by the action's
 * correlation id, so `dpctl trace ID` tells the whole story from the
 * database after the pods and their logs are gone.
 *
 * Two kinds of rows:
 *   - a point event (the provider's admin action, dbmon's publish, hman's
 *     processing, a DP waiting): dpf_trace_event, written once;
 *   - a step of a job: dpf_trace_step_start writes it 'running' and returns
 *     its id, dpf_trace_step_finish sets its end time, result, message and
 *     the agent's reply lines.
 * Every function takes the caller's connection and runs one parameterized
 * statement on it, so the row belongs to the caller's open transaction
 * (a step's end commits with the DP state it moves; nothing is traced for
 * a change that rolled back). Outside a transaction it commits by itself.
 *
 * Each row also gets this process's replica (DPFLEET_REPLICA_NAME, else the
 * host name) and the calling thread's id (dpf_log_tid). Texts are cut to
 * bounded lengths (DPF_TRACE_MESSAGE_MAX characters, agent lines
 * DPF_TRACE_LINE_MAX characters each, at most DPF_TRACE_LINES_MAX lines). */
#ifndef DPF_TRACE_H
#define DPF_TRACE_H

#include <stddef.h>
#include "db.h"
#include "status.h"

#define DPF_TRACE_MESSAGE_MAX 2000
#define DPF_TRACE_LINE_MAX 500
#define DPF_TRACE_LINES_MAX 100

/* Component names as the reader shows them (the source's log names). */
#define DPF_TRACE_PROVIDER "SMS Provider"
#define DPF_TRACE_DBMON "SMSDBMON"
#define DPF_TRACE_HMAN "HMAN"
#define DPF_TRACE_DISTMGR "DistMgr"
#define DPF_TRACE_DPHOST "DP host"

/* Results (the table's CHECK). */
#define DPF_TRACE_RUNNING "running"
#define DPF_TRACE_OK "ok"
#define DPF_TRACE_FAILED "failed"
#define DPF_TRACE_INFO "info"
#define DPF_TRACE_WAITING "waiting"

/* Who a row is about. All strings borrowed for the call; NULL is "".
 * corr NULL or "" takes the calling thread's (dpf_log_corr). dpid 0 (or
 * less) is stored as NULL (not about one DP). */
typedef struct dpf_trace_who {
    const char *corr;
    const char *component; /* DPF_TRACE_DISTMGR...; NULL = the log component */
    long long dpid;
    const char *server;    /* the DP's server name */
    const char *job;       /* install, upgrade, remove, distribute, validate, change */
    const char *job_id;    /* one attempt of one job (a retry has its own) */
} dpf_trace_who;

/* A point event: one row with at = ended_at = now. result: one of the
 * DPF_TRACE_ results (DPF_TRACE_INFO for NULL). step must not be NULL.
 * message may be NULL. DPF_ERR_INVALID for a NULL db, who or step or an
 * unknown result; DPF_ERR_DB (dpf_db_error) when the insert fails, which
 * aborts the caller's transaction like any failed statement. */
dpf_status dpf_trace_event(dpf_db *db, const dpf_trace_who *who, const char *step,
                           const char *result, const char *message) DPF_MUSTCHECK;

/* A step starts: one row 'running' with no end. *id gets the row's id for
 * dpf_trace_step_finish (0 on failure). */
dpf_status dpf_trace_step_start(dpf_db *db, const dpf_trace_who *who, const char *step,
                                long long *id) DPF_MUSTCHECK;

/* The step with id ends: result (DPF_TRACE_OK, DPF_TRACE_FAILED, ...),
 * message (the error; may be NULL) and the agent's reply lines, one per
 * '\n'-separated part of lines (NULL or "" for none; empty parts dropped).
 * id <= 0 is a no-op (the start was not recorded). DPF_ERR_NOT_FOUND when
 * no row has that id. */
dpf_status dpf_trace_step_finish(dpf_db *db, long long id, const char *result,
                                 const char *message, const char *lines) DPF_MUSTCHECK;

/* dpf_trace_step_finish of prev_id (if > 0) and dpf_trace_step_start of
 * step, in one statement: what a job does between two steps. On failure
 * neither is written and *id is 0. */
dpf_status dpf_trace_step_next(dpf_db *db, long long prev_id, const char *prev_result,
                               const char *prev_message, const char *prev_lines,
                               const dpf_trace_who *who, const char *step,
                               long long *id) DPF_MUSTCHECK;
/* dpf_trace_step_next for a job that holds a DP's lease (DistMgr: the lease
 * on who->dpid owned by owner): the same statement renews the lease for
 * lease_s seconds and reads the DP's action into *action, so a step costs
 * one statement, not two. DPF_ERR_NOT_FOUND when owner no longer holds the
 * lease: the previous step is ended, no step is started (*id 0). Any other
 * failure writes nothing and renews nothing. */
dpf_status dpf_trace_step_next_leased(dpf_db *db, long long prev_id, const char *prev_result,
                                      const char *prev_message, const char *prev_lines,
                                      const dpf_trace_who *who, const char *step,
                                      const char *owner, int lease_s, long long *id,
                                      int *action) DPF_MUSTCHECK;

/* dpf_trace_event and dpf_trace_step_finish for a caller whose open
 * transaction carries a state change that matters more than its row on the
 * timeline (an admin action, a DP's Installed): the row is written under a
 * savepoint, and one that cannot be written (refused, bad table) is logged
 * and rolled back alone; the caller's transaction goes on and DPF_OK is
 * returned. Only when the savepoint itself fails (the connection broke) is
 * the error returned. Outside a transaction the row is written by itself
 * and a failure to write it is logged (DPF_OK). */
dpf_status dpf_trace_event_tx(dpf_db *db, const dpf_trace_who *who, const char *step,
                              const char *result, const char *message) DPF_MUSTCHECK;
dpf_status dpf_trace_step_finish_tx(dpf_db *db, long long id, const char *result,
                                    const char *message, const char *lines) DPF_MUSTCHECK;

/* A batch of point events written with one statement: for a caller that
 * records many rows in one transaction (hman: one per DP a site control
 * change writes), so the rows cost one round trip, not one each. Rows are
 * kept in memory until dpf_trace_batch_write_tx. create/destroy pair;
 * destroy(NULL) is a no-op; *out owned by the caller. */
typedef struct dpf_trace_batch dpf_trace_batch;
dpf_status dpf_trace_batch_create(dpf_trace_batch **out) DPF_MUSTCHECK;
void dpf_trace_batch_destroy(dpf_trace_batch *b);
/* Adds a point event as dpf_trace_event would write it (who and the texts
 * copied; the thread id is the caller's now). DPF_ERR_INVALID as there. */
dpf_status dpf_trace_batch_add(dpf_trace_batch *b, const dpf_trace_who *who, const char *step,
                               const char *result, const char *message) DPF_MUSTCHECK;
/* How many rows it holds; dpf_trace_batch_truncate drops those added after
 * the first n (to forget the rows of writes rolled back to a savepoint). */
size_t dpf_trace_batch_count(const dpf_trace_batch *b);
void dpf_trace_batch_truncate(dpf_trace_batch *b, size_t n);
/* Writes every row in one statement, in the order added, under a savepoint
 * as dpf_trace_event_tx (a failure is logged and leaves the caller's
 * transaction going; DPF_OK), then empties the batch. */
dpf_status dpf_trace_batch_write_tx(dpf_db *db, dpf_trace_batch *b) DPF_MUSTCHECK;

/* Joins n lines (an agent reply's log; NULL entries are "") into buf as
 * dpf_trace_step_finish takes them, one per '\n', whole lines only: the
 * first line that does not fit ends the list. buf always terminated
 * (len > 0). All borrowed. */
void dpf_trace_join_lines(char *const *lines, size_t n, char *buf, size_t len);

/* The replica name rows carry (borrowed, process lifetime). */
const char *dpf_trace_replica(void);

#endif

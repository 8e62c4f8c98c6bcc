/* What every handler does with its dm_item: check the DPID it decoded, the
 * outcomes and ending the message once (ack, nak with a delay, term), get
 * the worker's database
 * connection, report a message that could not be decoded (9901), say when a
 * failure is retried, and the steps of a DP's handling that installs and
 * removals share (a row that cannot be read or is leased elsewhere, the move
 * into Installing or Removing, the status message about the DP, steps that
 * ended without an outcome). */
#ifndef DM_ITEM_H
#define DM_ITEM_H

#include <stddef.h>
#include <dpf/db.h>

#include "distmgr.h"
#include "step_runner.h"
#include "store_dp.h"

/* The three outcomes (reason borrowed, copied and cut to fit). */
dm_outcome dm_outcome_done(void);
dm_outcome dm_outcome_retry(int delay_ms, const char *reason);
dm_outcome dm_outcome_give_up(const char *reason);

/* For a decoder: accepts the body's dpid (and change_id) into it unless it
 * is not positive or the subject (prefix "dp.ins." and the like, then a
 * number) names another DPID; then it->bad says why, naming the message
 * type ("DpInstall"). 1 when accepted. Strings borrowed. */
int dm_item_take_dpid(dm_item *it, const char *type, const char *prefix, const char *subject,
                      long long dpid, long long change_id);

/* Ends it->msg (if any) as o says (ack, nak with o->delay_ms, term) and
 * destroys it; it->msg is NULL afterwards. Called once per item, by the
 * worker that ran its handler. A failure to ack is logged: JetStream
 * redelivers and the DP is found done. */
void dm_item_end(dm_item *it, const dm_outcome *o);

/* Makes the job's lease token: "<ctx->owner>/<new uuid>" into it->token,
 * and counts it among this replica's live tokens until dm_item_token_done.
 * Called by the worker when the job starts, once per job; it must stay
 * where it is (the registry keeps a pointer to it->token) until done. */
void dm_item_new_token(const dm_ctx *ctx, dm_item *it);
void dm_item_token_done(dm_item *it);

/* After an outage of the database: releases DP leases held under this
 * replica's name by jobs that no longer run (they could not release them
 * themselves), so their DPs are taken up again at once rather than when the
 * lease runs out. New jobs wait for it to finish. Returns how many (-1 on a
 * database error, logged). */
int dm_item_reclaim_dead(const dm_ctx *ctx, dpf_db *db);

/* The job's connection in *slot: borrowed from ctx->dbpool when the slot
 * is empty (waiting up to DM_DB_WAIT_MS for one to be free), checked when
 * it is not. NULL when the database cannot be reached or no connection came
 * free (logged by the pool); the slot is then empty. */
#define DM_DB_WAIT_MS 30000
dpf_db *dm_item_db(const dm_ctx *ctx, dpf_db **slot);

/* dm_item_db for a job that keeps the connection while it waits for an
 * agent (a content validation): borrowed as a long holder
 * (dm_dbpool_get_long), so such jobs never take the connections installs
 * and removals need. */
dpf_db *dm_item_db_long(const dm_ctx *ctx, dpf_db **slot);

/* Gives the slot's connection back to the pool (no transaction may be
 * open); the slot is empty afterwards. An empty slot is a no-op. */
void dm_item_db_put(const dm_ctx *ctx, dpf_db **slot);

/* How soon to retry an item that failed because the database was away: a
 * few seconds, not InstallRetryDelaySeconds, so work resumes soon after
 * PostgreSQL comes back (the reconcile on its return queues the rest). */
#define DM_DB_RETRY_MS 3000

/* Logs and raises 9901 (ISTR0 subject, ISTR1 reason) for an item whose
 * message could not be decoded; the outcome is DM_GIVE_UP. */
dm_outcome dm_item_report_bad(const dm_ctx *ctx, dm_item *it, dpf_db **slot);

/* The delay before a failed item is tried again (0 for a reconcile item,
 * which the next reconcile retries) and the words for it, into words. */
int dm_item_retry_ms(const dm_ctx *ctx, const dm_item *it, char *words, size_t len);

/* How soon to look again at a DP another job holds, in seconds. */
int dm_item_lease_busy_s(const dm_ctx *ctx);

/* Releases the job's lease on dpid. Best effort: an unreleased lease only
 * delays the next attempt. */
void dm_item_release(const dm_item *it, dpf_db *db, long long dpid);

/* dm_store_dp_lease answered DPF_ERR_BUSY (dp read with the holder): when
 * the holder is a job of this replica that has ended (its token is no
 * longer live: it ended in a database outage and could not release the
 * lease), releases this replica's dead leases now (dm_item_reclaim_dead)
 * and returns 1, so the caller takes the lease again at once instead of
 * waiting out the lease (AgentStepTimeoutSeconds + 30 s). 0 otherwise. */
int dm_item_lease_dead(const dm_ctx *ctx, dpf_db *db, const dm_dp_row *dp);

/* The DP's row could not be read (db NULL: no connection): logs; retry. */
dm_outcome dm_item_read_failed(const dm_ctx *ctx, const dm_item *it, dpf_db *db);

/* Another job holds the DP's lease (dp read with the holder): logs; look
 * again in dm_item_lease_busy_s. */
dm_outcome dm_item_lease_busy(const dm_ctx *ctx, const dm_item *it, const dm_dp_row *dp);

/* Moves the DP whose lease this job (it->token) holds into its working
 * state through the transition table: ev DM_EV_START (Installing) or
 * DM_EV_REMOVE (Removing), from dp->state; dp->state is the new state
 * afterwards. 1 when done; otherwise logs, releases the lease, sets *out to
 * a retry and returns 0. */
int dm_item_begin_work(const dm_ctx *ctx, const dm_item *it, dpf_db *db, dm_dp_row *dp,
                       dm_event ev, dm_outcome *out);

/* A write of the job's outcome found the row no longer its own (another
 * job holds the lease, or the state is no longer the one the job moved it
 * to): logs who holds it and in which state, releases the lease if the
 * job still holds it. before: what could not be recorded ("it could be
 * marked Installed"). */
void dm_item_lost(const dm_item *it, dpf_db *db, long long dpid, const char *before);

/* Stores and publishes status message id about dp (ISTR0 NAL path, ISTR1
 * server name, ISTR2 step, ISTR3 reason; step and reason may be NULL) on db,
 * in the caller's transaction if one is open. As dpf_statmsg_raise. */
dpf_status dm_item_raise(const dm_ctx *ctx, dpf_db *db, const dm_dp_row *dp, unsigned id,
                         char severity, const char *step, const char *reason) DPF_MUSTCHECK;

/* A job's steps failed (res): in one transaction the DP's row records the
 * failed step (event ev, the DP's failed attempts so far into *attempts),
 * the last step's end goes on the timeline and status message msg_id
 * (severity E) is raised, so the message commits with the state it
 * reports. A failure to record it is logged (what: "install", "removal");
 * the caller logs the step's failure itself. */
void dm_item_record_failure(const dm_ctx *ctx, const dm_item *it, dpf_db *db,
                            const dm_dp_row *dp, dm_steps_result *res, dm_event ev,
                            unsigned msg_id, const char *what, int *attempts);

/* After the steps, no connection could be borrowed to record their outcome
 * (res): logs; the lease runs out by itself or is released when PostgreSQL
 * comes back (dm_item_reclaim_dead), and the item is retried in
 * DM_DB_RETRY_MS. what: "install" or "removal". */
dm_outcome dm_item_no_db_after_steps(const dm_item *it, const dm_dp_row *dp,
                                     const dm_steps_result *res, const char *what);

/* The outcome of steps that stopped without one: DM_STEPS_STOPPING (lease
 * released, retry at once: the work resumes on the next start or on another
 * replica), DM_STEPS_LOST_LEASE (done: the job that took the DP over
 * finishes it) or DM_STEPS_REMOVED (lease released, done: the DP manager
 * removes the DP). what: "install" or "removal", for the log. */
dm_outcome dm_item_steps_interrupted(const dm_item *it, dpf_db *db, const dm_dp_row *dp,
                                     const dm_steps_result *res, const char *what);

#endif

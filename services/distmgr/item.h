/* What every handler does with its dm_item: end the message (ack, nak with
 * a delay, term), get the worker's database connection, report a message
 * that could not be decoded (9901), and say when a failure is retried. */
#ifndef DM_ITEM_H
#define DM_ITEM_H

#include <stddef.h>
#include <dpf/db.h>

#include "distmgr.h"

typedef enum dm_end { DM_ACK, DM_NAK, DM_TERM } dm_end;

/* Ends it->msg (if any) and destroys it; it->msg is NULL afterwards. A
 * failure to ack is logged: JetStream redelivers and the DP is found done. */
void dm_item_end(dm_item *it, dm_end how, int delay_ms);

/* The worker's connection in *slot, connected on first use and checked
 * after. NULL when the database cannot be reached (already logged by db). */
dpf_db *dm_item_db(const dm_ctx *ctx, dpf_db **slot);

/* Logs, terminates and raises 9901 (ISTR0 subject, ISTR1 reason) for an
 * item whose message could not be decoded. */
void dm_item_report_bad(const dm_ctx *ctx, dm_item *it, dpf_db **slot);

/* The delay before a failed item is tried again (0 for a reconcile item,
 * which the next reconcile retries) and the words for it, into words. */
int dm_item_retry_ms(const dm_ctx *ctx, const dm_item *it, char *words, size_t len);

/* How soon to look again at a DP another replica holds, in seconds. */
int dm_item_lease_busy_s(const dm_ctx *ctx);

/* Best effort: an unreleased lease only delays the next attempt. */
void dm_item_release(dpf_db *db, long long dpid, const char *owner);

#endif

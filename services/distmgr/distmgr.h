/* distmgr's private header: the settings every module of the service reads
 * and the unit of work the DP upgrade processing thread hands to a worker.
 * Both are plain structs because every module embeds or fills them; nothing
 * outside services/distmgr sees them. */
#ifndef DM_DISTMGR_H
#define DM_DISTMGR_H

#include <stddef.h>

#include <dpf/bus.h>
#include <dpf/db.h>
#include <dpf/status.h>

#include "components.h"

typedef struct dm_dbpool dm_dbpool;

/* Read-only after startup; shared by every thread. Strings borrowed from the
 * option table, which outlives the workers. */
typedef struct dm_ctx {
    dpf_bus *bus;
    const char *db_url;
    const char *owner;            /* replica name; a job's lease token is "<owner>/<uuid>" */
    const char *site_code;        /* site for messages not tied to a DP (9901) */
    const dm_components *components;
    dm_dbpool *dbpool;            /* the replica's connections (db_pool.h), thread-safe */
    int thread_limit;             /* DPUpgradeThreadLimit */
    int removal_limit;            /* DPRemovalThreadLimit */
    int step_timeout_s;           /* AgentStepTimeoutSeconds */
    int retry_delay_s;            /* InstallRetryDelaySeconds */
    int max_deliveries;           /* MaxDeliveries */
    int lease_s;                  /* how long a lease holds without renewal */
    int ack_wait_ms;              /* JetStream ack wait of the dp.ins consumer */
    int reconcile_s;              /* ReconcileIntervalSeconds */
} dm_ctx;

#define DM_REASON_MAX 16
#define DM_ERR_MAX 256
/* "<replica>/<uuid>": the replica name is at most 299 characters (main.c) */
#define DM_TOKEN_MAX 340

/* One DP to install, upgrade or remove: a dp.ins / dp.dpn message, or a
 * reconcile finding (msg == NULL, nothing to ack). */
typedef struct dm_item {
    dpf_bus_msg *msg;             /* owned; NULL for a reconcile item */
    long long dpid;               /* 0 when the message could not be decoded */
    long long change_id;
    char reason[DM_REASON_MAX];   /* insert, update, reset, reconcile; "" for dp.dpn */
    char corr[64];
    char subject[128];
    char bad[DM_ERR_MAX];         /* why decoding failed; "" if it did not */
    /* This job's lease token, written as lease_owner on every row the job
     * leases: the replica's name, '/', a UUID made when the job starts
     * (dm_item_new_token). No other job, of this replica or another, ever
     * holds the same one, so a replica's removal cannot take over a DP its
     * own install holds. */
    char token[DM_TOKEN_MAX];
} dm_item;

/* What a handler did with its item. The worker that ran the handler ends
 * the item's message once, from this (dm_item_end): a handler never acks,
 * naks or terminates itself, so a new job kind is a decoder and a handler
 * and nothing else. A reconcile item (msg NULL) has nothing to end. */
typedef enum dm_outcome_kind {
    DM_DONE = 0,   /* the work is done or there is nothing to do: ack */
    DM_RETRY,      /* try again in delay_ms (0 = at once): nak with that delay */
    DM_GIVE_UP,    /* never try this message again (it cannot be read): term */
} dm_outcome_kind;

typedef struct dm_outcome {
    dm_outcome_kind kind;
    int delay_ms;                 /* DM_RETRY only */
    char reason[DM_ERR_MAX];      /* why, for the worker's log line; "" for DM_DONE */
} dm_outcome;

/* Decodes a message body into an item (dpid etc.), or sets it->bad. */
typedef void (*dm_decode_fn)(const void *data, size_t len, const char *subject, dm_item *it);

/* Handles one decoded item on a worker and says what became of it. The
 * worker has already set the log's correlation id, made the job's lease
 * token (it->token) and reported an item that could not be decoded (the
 * handler only sees items with it->bad "").
 * it and its msg stay the worker's: the handler must not end or destroy
 * the message. db: the job's connection slot, NULL at the start:
 * dm_item_db borrows a connection from the replica's pool into it,
 * dm_item_db_put gives it back (around a long wait); the worker gives back
 * what is still in it when the handler returns. */
typedef dm_outcome (*dm_handle_fn)(const dm_ctx *ctx, dm_item *it, dpf_db **db);

#endif

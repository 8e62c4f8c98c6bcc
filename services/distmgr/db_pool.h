/* A small pool of PostgreSQL connections shared by every worker of one
 * distmgr replica (DPFLEET_DB_POOL_SIZE, default 10): a job borrows a
 * connection for its database work and gives it back while it waits for a
 * DP's agent, so a replica with 50 busy workers still holds at most the
 * pool's size (plus the reconcile's own connection). Connections are opened
 * when first needed and kept; one that went bad (a PostgreSQL restart) is
 * reset when it is next borrowed. */
#ifndef DM_DB_POOL_H
#define DM_DB_POOL_H

#include <dpf/db.h>
#include <dpf/status.h>

typedef struct dm_dbpool dm_dbpool;

/* url borrowed (must outlive the pool); size 1..1000. *out owned by the
 * caller (dm_dbpool_destroy). */
dpf_status dm_dbpool_create(const char *url, int size, dm_dbpool **out) DPF_MUSTCHECK;

/* Closes every connection; all must have been given back. NULL: no-op. */
void dm_dbpool_destroy(dm_dbpool *p);

/* Borrows a usable connection, waiting up to wait_ms for one to be given
 * back when all are out. NULL when none came back in time or PostgreSQL
 * cannot be reached (logged, rate-limited). The connection is the caller's
 * until dm_dbpool_put; it must not be in a transaction when given back. */
dpf_db *dm_dbpool_get(dm_dbpool *p, int wait_ms);

/* dm_dbpool_get for a borrower that keeps the connection for long (a
 * package transfer to one DP, a content validation): such borrowers
 * together hold at most size - size / 3 connections (at least one stays
 * for the short jobs: installs, removals), so they cannot starve the
 * others. Give it back with dm_dbpool_put_long. */
dpf_db *dm_dbpool_get_long(dm_dbpool *p, int wait_ms);
void dm_dbpool_put_long(dm_dbpool *p, dpf_db *db);

/* Gives a borrowed connection back (NULL: no-op). */
void dm_dbpool_put(dm_dbpool *p, dpf_db *db);

typedef struct dm_dbpool_stats {
    int size;
    int open;        /* connections opened and not closed */
    int out;         /* borrowed now */
    int peak_out;    /* most borrowed at once */
    long long waits; /* borrows that had to wait for a connection */
} dm_dbpool_stats;

void dm_dbpool_get_stats(dm_dbpool *p, dm_dbpool_stats *out);

#endif

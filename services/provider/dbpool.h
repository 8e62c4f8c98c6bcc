/* A small pool of PostgreSQL connections for the HTTP threads. A dpf_db is
 * not thread-safe, so each request borrows one connection for its whole
 * life and gives it back. Connections are opened lazily and re-checked
 * (dpf_db_ensure) on every borrow, so the provider survives a database
 * restart and starts while the database is still down. */
#ifndef PROV_DBPOOL_H
#define PROV_DBPOOL_H

#include <dpf/db.h>
#include <dpf/status.h>

typedef struct prov_dbpool prov_dbpool;

/* url: copied. size: connections at most (>= 1). *out owned by the caller. */
dpf_status prov_dbpool_create(const char *url, int size, prov_dbpool **out) DPF_MUSTCHECK;
/* Closes every connection; all must have been released. NULL is a no-op. */
void prov_dbpool_destroy(prov_dbpool *pool);

/* Borrows a usable connection, waiting up to wait_ms for a free slot.
 * DPF_ERR_BUSY when none became free, DPF_ERR_DB when the database cannot
 * be reached. *db is borrowed until prov_dbpool_release. */
dpf_status prov_dbpool_acquire(prov_dbpool *pool, int wait_ms, dpf_db **db) DPF_MUSTCHECK;
/* Gives db back (NULL is a no-op). Rolls back anything left open. */
void prov_dbpool_release(prov_dbpool *pool, dpf_db *db);
/* Gives db back without that ROLLBACK (a round trip, and a warning in the
 * server's log when no transaction is open): only for a handler that ran
 * single statements and never began a transaction (the DP reads). */
void prov_dbpool_release_read(prov_dbpool *pool, dpf_db *db);

#endif

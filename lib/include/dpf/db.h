/* PostgreSQL access over libpq. Every statement takes parameters (text
 * format); nothing is ever built by string concatenation. A dpf_db is one
 * connection and is not thread-safe: each thread that needs the database
 * creates its own. */
#ifndef DPF_DB_H
#define DPF_DB_H

#include <stddef.h>
#include "status.h"

typedef struct dpf_db dpf_db;
typedef struct dpf_db_result dpf_db_result;

/* url: borrowed libpq connection string (DATABASE_URL). *out owned by the
 * caller, freed with dpf_db_destroy. Fails with DPF_ERR_DB (reason logged). */
dpf_status dpf_db_connect(const char *url, dpf_db **out) DPF_MUSTCHECK;

/* url (borrowed) as a log line may show it: the password of a
 * postgresql://user:password@host URI left out (user@host: a starred
 * "user:****@" would still look like a URL with a password to a log
 * scanner), that of a ?password= parameter or of a "password=..." keyword
 * string replaced by "****". Writes into buf (len
 * bytes, always terminated; a URL too long is cut after masking) and
 * returns buf; NULL url gives "". */
const char *dpf_db_url_masked(const char *url, char *buf, size_t len);
void dpf_db_destroy(dpf_db *db); /* NULL is a no-op */

/* Resets the connection if it went bad (server restart). DPF_OK if usable. */
dpf_status dpf_db_ensure(dpf_db *db) DPF_MUSTCHECK;

/* Runs sql with nparams text parameters (NULL entries are SQL NULL).
 * out may be NULL when the rows are not wanted; otherwise *out is owned by
 * the caller (dpf_db_result_free), even when it has no rows.
 * Errors: DPF_ERR_CONFLICT on unique violation (SQLSTATE 23505),
 * DPF_ERR_DB otherwise; the server's message is in dpf_db_error(). */
dpf_status dpf_db_exec(dpf_db *db, const char *sql, int nparams,
                       const char *const *params, dpf_db_result **out) DPF_MUSTCHECK;

/* dpf_db_exec for a statement that must return a row: DPF_ERR_NOT_FOUND
 * (and *out NULL) when it returns none. Otherwise as dpf_db_exec; out must
 * not be NULL (DPF_ERR_INVALID). */
dpf_status dpf_db_exec_row(dpf_db *db, const char *sql, int nparams,
                           const char *const *params, dpf_db_result **out) DPF_MUSTCHECK;

/* dpf_db_exec_row, then the first column of the first row copied into buf
 * (truncated to len). buf may be NULL when only whether there is a row
 * matters. */
dpf_status dpf_db_exec_text(dpf_db *db, const char *sql, int nparams,
                            const char *const *params, char *buf, size_t len) DPF_MUSTCHECK;

/* Convenience transaction control. */
dpf_status dpf_db_begin(dpf_db *db) DPF_MUSTCHECK;
dpf_status dpf_db_commit(dpf_db *db) DPF_MUSTCHECK;
void dpf_db_rollback(dpf_db *db); /* best effort; safe outside a transaction */

/* Sets the transaction-local setting dpfleet.correlation_id, which the
 * outbox triggers copy into every event the transaction causes. Call inside
 * a transaction. corr: borrowed. */
dpf_status dpf_db_set_corr(dpf_db *db, const char *corr) DPF_MUSTCHECK;

/* The last error text of this connection (borrowed, valid until the next call). */
const char *dpf_db_error(const dpf_db *db);
/* The last SQLSTATE ("" if none). Borrowed. */
const char *dpf_db_sqlstate(const dpf_db *db);

/* LISTEN on channel, then wait up to timeout_ms for any notification.
 * DPF_OK when one (or more) arrived (all that arrived are consumed),
 * DPF_ERR_TIMEOUT otherwise (also when a stop signal interrupts the wait),
 * DPF_ERR_DB when the connection broke (dpf_db_ensure, which LISTENs again).
 * Notifications are wake-ups only: re-read the table after each. */
dpf_status dpf_db_listen(dpf_db *db, const char *channel) DPF_MUSTCHECK;
dpf_status dpf_db_wait_notify(dpf_db *db, int timeout_ms) DPF_MUSTCHECK;

int dpf_db_result_rows(const dpf_db_result *r);
/* Borrowed text of a field ("" for NULL); valid until dpf_db_result_free. */
const char *dpf_db_result_get(const dpf_db_result *r, int row, int col);
int dpf_db_result_isnull(const dpf_db_result *r, int row, int col);
long long dpf_db_result_int(const dpf_db_result *r, int row, int col); /* 0 if NULL */
/* Column index by name, -1 if absent. */
int dpf_db_result_col(const dpf_db_result *r, const char *name);
void dpf_db_result_free(dpf_db_result *r); /* NULL is a no-op */

/* Applies db/NNN_*.sql files from dir in name order, each once, recorded in
 * schema_migrations. Takes an advisory lock so concurrent callers are safe.
 * Each file runs in a transaction of its own, so it must not contain
 * BEGIN/COMMIT itself. DPF_ERR_NOT_FOUND if dir does not exist. */
dpf_status dpf_db_migrate(dpf_db *db, const char *dir) DPF_MUSTCHECK;

#endif

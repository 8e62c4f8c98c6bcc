/* What every service (daemon) does around its own work: reading its options and
 * starting its log and stop signals, waiting for PostgreSQL and NATS (in a
 * fleet the services start in any order, so they retry rather than die), and
 * sleeping in slices that a stop request (SIGINT/SIGTERM) cuts short.
 * (Not "service.h": lib/include/dpf is on every target's include path, and
 * services have private headers of that name.) */
#ifndef DPF_DAEMON_H
#define DPF_DAEMON_H

#include "bus.h"
#include "config.h"
#include "db.h"
#include "status.h"

/* Parses opts (command line, environment, defaults), starts the log as
 * component (e.g. DPF_COMP_HMAN) and installs the stop signals
 * (dpf_handle_signals). DPF_OK: the service runs, and frees opts with
 * dpf_config_free when done. Otherwise main returns *exit_code at once: 0
 * after --help (DPF_HELP_SHOWN), 2 after a bad option (printed to stderr as "prog: why");
 * opts are freed already. All borrowed. */
dpf_status dpf_daemon_start(const char *prog, const char *component, const dpf_option *opts,
                             int argc, char **argv, int *exit_code) DPF_MUSTCHECK;

/* malloc arenas of every service (dpf_daemon_start sets M_ARENA_MAX unless
 * the MALLOC_ARENA_MAX environment variable is set). */
#define DPF_DAEMON_ARENAS 2

/* Sleeps ms in slices of at most 100 ms. Returns 0 as soon as a stop is
 * requested (also before sleeping), 1 otherwise. */
int dpf_daemon_nap(int ms);

/* Returns when a stop is requested. */
void dpf_daemon_wait_stop(void);

/* Optional check run on each new database connection (dbmon: LISTEN). A
 * failure (which the check logs) closes the connection and counts as a
 * failed connect. db and arg borrowed. */
typedef dpf_status (*dpf_daemon_db_ready)(dpf_db *db, void *arg);

/* Connects to url (borrowed), retrying until it works or a stop is requested
 * (then NULL): waits 500 ms after the first failure, twice as long after
 * each next one up to max_wait_ms, with a warning per failure. ready may be
 * NULL. The connection is owned by the caller (dpf_db_destroy). */
dpf_db *dpf_daemon_connect_db(const char *url, int max_wait_ms, dpf_daemon_db_ready ready,
                               void *arg);

/* Connects to NATS at url as name (both borrowed) and creates the streams
 * (dpf_bus_ensure_streams), retrying like dpf_daemon_connect_db. The bus is
 * owned by the caller (dpf_bus_destroy). */
dpf_bus *dpf_daemon_connect_bus(const char *url, const char *name, int max_wait_ms);

#endif

/* Shared by distmgr's integration tests: a fresh database, a private
 * nats-server (DPF_EVENTS is a work-queue stream, and a durable on dp.ins.>
 * or dp.dpn.> would overlap the consumers other suites leave on the shared
 * server), a scratch components directory, the distmgr binary started as an
 * administrator would, and small SQL and log helpers. */
#ifndef TEST_DISTMGR_HARNESS_H
#define TEST_DISTMGR_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#include <dpf/bus.h>
#include <dpf/db.h>

#define DMT_WAIT_MS 20000

extern dpf_db *dmt_db;       /* the test's own connection */
extern dpf_bus *dmt_bus;     /* the test's own NATS connection */
extern char dmt_tmp[64];     /* scratch dir: components/, logs, nats store */

/* Database, scratch dir, components, nats-server, connections. 0 on success. */
int dmt_setup(const char *name);
/* Stops nats-server, drops the database, removes the scratch dir (kept,
 * and said so, when DPF_TEST_KEEP is set). */
void dmt_teardown(const char *name);

/* The private nats-server's URL (for dpf_test_consumer_state). */
const char *dmt_nats_url(void);

/* nats-server killed with SIGKILL (as a crash), and started again on the
 * same port with the same store; start returns once it accepts
 * connections. 0 on success. */
int dmt_kill_nats(void);
int dmt_start_nats(void);

/* Starts distmgr with the test's settings (DPUpgradeThreadLimit 2, retry
 * delay 1 s, step timeout 5 s, no periodic reconcile) plus extra env pairs
 * (NULL-terminated, may be NULL), logging to log. */
pid_t dmt_start_distmgr(const char *replica, const char *log, const char *const *extra_env);
/* SIGTERM and wait up to 20 s: dpf_test_stop. */
int dmt_stop(pid_t pid);

long long dmt_sql_int(const char *sql, const char *p1);
void dmt_sql_text(const char *sql, const char *p1, char *out, size_t len);
/* Polls sql (one text column) until it equals want. 1 if it did. */
int dmt_wait_text(const char *sql, const char *p1, const char *want, int ms);
int dmt_wait_installed(const char *server, int ms);

int dmt_log_count(const char *path, const char *needle);
long dmt_log_pos(const char *path, const char *needle); /* -1 if absent */
/* Waits until needle occurs at least n times in the log. 1 if it did. */
int dmt_wait_log(const char *path, const char *needle, int n, int ms);

/* A DistributionPoints row as HMAN writes it; old_pending: updated an hour
 * ago (so only the reconcile finds it). Returns the DPID, -1 on failure. */
long long dmt_insert_dp(const char *server, int pxe, int pull, const char *sources,
                        int old_pending);
/* What dbmon would publish for the row, with corr in the header. */
int dmt_publish_ins(long long dpid, const char *reason, const char *corr);
int dmt_publish_dpn(long long dpid, const char *corr);

/* Marks dpid for removal as HMAN does: Action = 3 and a dp_notification
 * row, in one transaction (dbmon would publish dp.dpn from its outbox row;
 * the caller publishes it with dmt_publish_dpn). 0 on success. */
int dmt_mark_removed(long long dpid);

struct fake_agent;
/* The job model (issue 6): a standard DP is being installed on the hosts of
 * fa (every step answered after a delay) when a removal is asked for it.
 * Asserts with cmocka that the install's and the removal's steps never
 * interleave on the host (the install stops between two steps, then every
 * removal step runs, one request at a time), that the removal waited for
 * the install's lease, and that the DP ends removed with 2391 and no 2399.
 * logs: the logs of the distmgr replicas running (nlogs of them). */
void dmt_install_meets_removal(struct fake_agent *fa, const char *srv, const char *const *logs,
                               int nlogs);

#endif

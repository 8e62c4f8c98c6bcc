/* Support for integration tests that run against the real servers
 * scripts/test started (DPF_TEST_PG_URL, NATS_URL). The functions that fail
 * the test do it with cmocka's fail_msg. */
#ifndef DPF_TEST_H
#define DPF_TEST_H

#include <stddef.h>
#include <sys/types.h>
#include <dpf/db.h>
#include <nats/nats.h>

/* Creates a fresh database named "t_<name>_<pid>" with every migration of
 * DPF_SOURCE_DIR/db applied, and writes its URL into url. Returns 0 on
 * success; on failure prints why and returns -1 (the test should fail). */
int dpf_test_db_create(const char *name, char *url, size_t len);

/* Drops the database created above. */
void dpf_test_db_drop(const char *name);

/* getenv with a clear failure message when unset. */
const char *dpf_test_env(const char *var);

/* Runs q with n parameters p on db; fails the test if it fails. */
void dpf_test_sql(dpf_db *db, const char *q, int n, const char *const *p);

/* The first column of q's first row as a number, -1 when there is no row;
 * fails the test if q fails. */
long long dpf_test_num(dpf_db *db, const char *q, int n, const char *const *p);

/* SIGTERM to a child the test started, then waits up to timeout_ms for it
 * (SIGKILL after). Its exit status, 128 + the signal that ended it, or -1
 * when it had to be killed (or pid <= 0). */
int dpf_test_stop(pid_t pid, int timeout_ms);

/* Connects to nats_url as the tests' NATS identity: the credentials file
 * named by DPFLEET_NATS_CREDS (scripts/test exports the admin's when the
 * shared nats-server runs in operator mode), none when it is unset or
 * empty. 0 and *nc (owned by the caller: natsConnection_Destroy) on
 * success; -1 and why on stderr otherwise. */
int dpf_test_nats_connect(const char *nats_url, natsConnection **nc);

/* "DPFLEET_NATS_CREDS=<file>" (or "DPFLEET_NATS_CREDS=" without one) into
 * buf, for the environment of a service binary the test starts with an
 * environment of its own, so the child connects as the test does. Returns buf. */
char *dpf_test_nats_creds_env(char *buf, size_t len);

/* A JetStream consumer's state as the server reports it: what a "not
 * redelivered" check must look at (a sleep shorter than the ack wait
 * cannot see a message that was never acknowledged). */
typedef struct {
    long long pending;     /* in the stream for it, not delivered yet */
    long long ack_pending; /* delivered, not acknowledged or terminated */
    long long redelivered; /* of ack_pending, delivered more than once */
    long long delivered;   /* deliveries made so far, redeliveries included (the
                            * consumer sequence): one message handled once
                            * moves it by exactly 1 */
} dpf_test_consumer;

/* Asks the nats-server at nats_url for the state of durable on stream.
 * 0 on success; -1 (and why, on stderr) when it cannot. */
int dpf_test_consumer_state(const char *nats_url, const char *stream, const char *durable,
                            dpf_test_consumer *out);

/* Polls the state until nothing is pending and nothing waits for an ack,
 * up to timeout_ms; out holds the last state seen. 1 if it settled, 0 if
 * not; fails the test when the server cannot be asked. */
int dpf_test_consumer_settled(const char *nats_url, const char *stream, const char *durable,
                              int timeout_ms, dpf_test_consumer *out);

#endif

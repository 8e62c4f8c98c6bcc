/* Support for integration tests that run against the real servers
 * scripts/test started (DPF_TEST_PG_URL, NATS_URL). */
#ifndef DPF_TEST_H
#define DPF_TEST_H

#include <stddef.h>
#include <dpf/db.h>

/* Creates a fresh database named "t_<name>_<pid>" with every migration of
 * DPF_SOURCE_DIR/db applied, and writes its URL into url. Returns 0 on
 * success; on failure prints why and returns -1 (the test should fail). */
int dpf_test_db_create(const char *name, char *url, size_t len);

/* Drops the database created above. */
void dpf_test_db_drop(const char *name);

/* getenv with a clear failure message when unset. */
const char *dpf_test_env(const char *var);

#endif

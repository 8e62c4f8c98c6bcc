/* Integration-test support: a fresh, migrated database per test program on
 * the PostgreSQL that scripts/test started (the admin URL may be a URI or a
 * key=value string; libpq parses it and we rebuild it with our dbname),
 * statements that fail the test when they fail, stopping a service
 * binary the test started, NATS connections with the tests' identity
 * (DPFLEET_NATS_CREDS) and a JetStream consumer's state on the server. */
#include "dpf_test.h"

#include <ctype.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <nats/nats.h>

#ifndef DPF_SOURCE_DIR
#error "DPF_SOURCE_DIR must be defined (dpf_add_integration_test does it)"
#endif

const char *dpf_test_env(const char *var)
{
    const char *v = getenv(var);
    if (v == NULL || *v == '\0') {
        fprintf(stderr,
                "FAIL: environment variable %s is not set. Integration tests run against the "
                "real PostgreSQL and nats-server that scripts/test starts; run them through "
                "it, or export DPF_TEST_PG_URL and NATS_URL yourself.\n",
                var);
        return NULL;
    }
    return v;
}

static void db_name(const char *name, char *out, size_t len)
{
    size_t n = (size_t)snprintf(out, len, "t_");
    for (const char *p = name; *p && n + 1 < len; p++)
        out[n++] = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '_';
    snprintf(out + n, len - n, "_%ld", (long)getpid());
}

/* Appends " key='value'" with libpq's quoting rules. 0 if it does not fit. */
static int add_kv(char *buf, size_t len, const char *key, const char *val)
{
    size_t n = strlen(buf);
    int w = snprintf(buf + n, len - n, "%s%s='", n ? " " : "", key);
    if (w < 0 || (size_t)w >= len - n)
        return 0;
    n += (size_t)w;
    for (const char *p = val; *p; p++) {
        if (n + 3 >= len)
            return 0;
        if (*p == '\'' || *p == '\\')
            buf[n++] = '\\';
        buf[n++] = *p;
    }
    if (n + 2 >= len)
        return 0;
    buf[n++] = '\'';
    buf[n] = '\0';
    return 1;
}

/* The admin connection string with dbname replaced. */
static int url_with_db(const char *admin, const char *db, char *out, size_t len)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(admin, &err);
    if (opts == NULL) {
        fprintf(stderr, "FAIL: cannot parse DPF_TEST_PG_URL: %s\n", err ? err : "?");
        PQfreemem(err);
        return -1;
    }
    out[0] = '\0';
    int ok = 1;
    for (PQconninfoOption *o = opts; o->keyword != NULL && ok; o++) {
        if (strcmp(o->keyword, "dbname") == 0 || o->val == NULL || *o->val == '\0')
            continue;
        ok = add_kv(out, len, o->keyword, o->val);
    }
    if (ok)
        ok = add_kv(out, len, "dbname", db);
    PQconninfoFree(opts);
    if (!ok) {
        fprintf(stderr, "FAIL: connection string too long\n");
        return -1;
    }
    return 0;
}

static void quiet_notice(void *arg, const char *msg)
{
    (void)arg;
    (void)msg; /* "database ... does not exist, skipping" is expected */
}

/* Runs CREATE/DROP DATABASE (no parameters possible) with a quoted name. */
static int admin_exec(const char *verb, const char *db, const char *suffix)
{
    const char *admin = dpf_test_env("DPF_TEST_PG_URL");
    if (admin == NULL)
        return -1;
    PGconn *c = PQconnectdb(admin);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "FAIL: cannot connect to DPF_TEST_PG_URL (%s): %s", admin,
                PQerrorMessage(c));
        PQfinish(c);
        return -1;
    }
    PQsetNoticeProcessor(c, quiet_notice, NULL);
    char *ident = PQescapeIdentifier(c, db, strlen(db));
    char sql[512];
    snprintf(sql, sizeof sql, "%s %s%s", verb, ident ? ident : "\"?\"", suffix);
    PQfreemem(ident);
    PGresult *r = PQexec(c, sql);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc != 0)
        fprintf(stderr, "FAIL: %s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
    return rc;
}

int dpf_test_db_create(const char *name, char *url, size_t len)
{
    const char *admin = dpf_test_env("DPF_TEST_PG_URL");
    if (admin == NULL || name == NULL || url == NULL)
        return -1;
    char db[64];
    db_name(name, db, sizeof db);
    if (admin_exec("DROP DATABASE IF EXISTS", db, " WITH (FORCE)") != 0 ||
        admin_exec("CREATE DATABASE", db, "") != 0)
        return -1;
    if (url_with_db(admin, db, url, len) != 0)
        return -1;

    dpf_db *conn = NULL;
    if (dpf_db_connect(url, &conn) != DPF_OK) {
        fprintf(stderr, "FAIL: cannot connect to the new database %s\n", db);
        return -1;
    }
    dpf_status st = dpf_db_migrate(conn, DPF_SOURCE_DIR "/db");
    if (st != DPF_OK)
        fprintf(stderr, "FAIL: migrating %s: %s (%s)\n", db, dpf_status_text(st),
                dpf_db_error(conn));
    dpf_db_destroy(conn);
    return st == DPF_OK ? 0 : -1;
}

void dpf_test_db_drop(const char *name)
{
    if (name == NULL || getenv("DPF_TEST_PG_URL") == NULL)
        return;
    char db[64];
    db_name(name, db, sizeof db);
    admin_exec("DROP DATABASE IF EXISTS", db, " WITH (FORCE)");
}

void dpf_test_sql(dpf_db *db, const char *q, int n, const char *const *p)
{
    if (dpf_db_exec(db, q, n, p, NULL) != DPF_OK)
        fail_msg("%s: %s", q, dpf_db_error(db));
}

long long dpf_test_num(dpf_db *db, const char *q, int n, const char *const *p)
{
    dpf_db_result *r = NULL;
    if (dpf_db_exec(db, q, n, p, &r) != DPF_OK)
        fail_msg("%s: %s", q, dpf_db_error(db));
    long long v = dpf_db_result_rows(r) ? dpf_db_result_int(r, 0, 0) : -1;
    dpf_db_result_free(r);
    return v;
}

int dpf_test_stop(pid_t pid, int timeout_ms)
{
    if (pid <= 0)
        return -1;
    kill(pid, SIGTERM);
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        usleep(50 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

int dpf_test_nats_connect(const char *nats_url, natsConnection **nc)
{
    *nc = NULL;
    const char *creds = getenv("DPFLEET_NATS_CREDS");
    natsOptions *o = NULL;
    natsStatus s = natsOptions_Create(&o);
    if (s == NATS_OK)
        s = natsOptions_SetURL(o, nats_url);
    if (s == NATS_OK && creds != NULL && *creds != '\0')
        s = natsOptions_SetUserCredentialsFromFiles(o, creds, NULL);
    /* nats.c 3.4.1 leaves out a nonce signature that begins with a zero
     * byte (1 connection in 256; lib/src/bus.c signs itself for that
     * reason) and the server refuses the CONNECT: a refusal is tried again,
     * twice, with new nonces */
    for (int attempt = 0; s == NATS_OK || (s == NATS_CONNECTION_AUTH_FAILED && attempt < 3);
         attempt++) {
        s = natsConnection_Connect(nc, o);
        if (s != NATS_CONNECTION_AUTH_FAILED)
            break;
    }
    natsOptions_Destroy(o);
    if (s != NATS_OK) {
        const char *why = nats_GetLastError(NULL);
        fprintf(stderr, "cannot connect to NATS at %s as %s: %s (%s)\n", nats_url,
                creds != NULL && *creds != '\0' ? creds : "no identity", natsStatus_GetText(s),
                why != NULL ? why : "");
        natsConnection_Destroy(*nc);
        *nc = NULL;
        return -1;
    }
    return 0;
}

char *dpf_test_nats_creds_env(char *buf, size_t len)
{
    const char *creds = getenv("DPFLEET_NATS_CREDS");
    snprintf(buf, len, "DPFLEET_NATS_CREDS=%s", creds != NULL ? creds : "");
    return buf;
}

int dpf_test_consumer_state(const char *nats_url, const char *stream, const char *durable,
                            dpf_test_consumer *out)
{
    memset(out, 0, sizeof *out);
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    if (dpf_test_nats_connect(nats_url, &nc) != 0)
        return -1;
    natsStatus s = natsConnection_JetStream(&js, nc, NULL);
    if (s == NATS_OK)
        s = js_GetConsumerInfo(&ci, js, stream, durable, NULL, &jerr);
    if (s == NATS_OK) {
        out->pending = (long long)ci->NumPending;
        out->ack_pending = (long long)ci->NumAckPending;
        out->redelivered = (long long)ci->NumRedelivered;
        out->delivered = (long long)ci->Delivered.Consumer;
    } else {
        fprintf(stderr, "consumer %s/%s on %s: %s (JetStream error %d)\n", stream, durable,
                nats_url, natsStatus_GetText(s), (int)jerr);
    }
    jsConsumerInfo_Destroy(ci);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return s == NATS_OK ? 0 : -1;
}

int dpf_test_consumer_settled(const char *nats_url, const char *stream, const char *durable,
                              int timeout_ms, dpf_test_consumer *out)
{
    for (int waited = 0;; waited += 50) {
        if (dpf_test_consumer_state(nats_url, stream, durable, out) != 0)
            fail_msg("cannot read the state of consumer %s/%s", stream, durable);
        if (out->pending == 0 && out->ack_pending == 0)
            return 1;
        if (waited >= timeout_ms)
            return 0;
        usleep(50 * 1000);
    }
}

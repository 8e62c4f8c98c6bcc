/* provider: the admin REST API (the source's SMS Provider). Reads its options
 * from the table below, serves HTTP (HTTPS when given a certificate
 * and key, tls.c) at once (requests get 503 while the
 * database is unreachable), waits for PostgreSQL with a log line per attempt,
 * and stops cleanly on SIGINT/SIGTERM: no new connections, running requests
 * finish, then the pool closes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dpf/config.h>
#include <dpf/log.h>
#include <dpf/daemon.h>
#include <dpf/health.h>
#include <dpf/sitecontrol.h>
#include <dpf/util.h>

#include "auth.h"
#include "http_conn.h"
#include "issue_token.h"
#include "provider.h"
#include "tls.h"

static char *opt_listen;
static char *opt_db_url;
static char *opt_nats_url;
static int opt_max_body;
static int opt_threads;
static int opt_conn_timeout;
static char *opt_content_roots;
static char *opt_tls_cert;
static char *opt_tls_key;
static int opt_token_cache;
static char *opt_health_listen;
static char *opt_log_format;

static const dpf_option OPTIONS[] = {
    DPF_OPT_STRING("listen", "DPFLEET_LISTEN", &opt_listen, "127.0.0.1:8080",
                   "address the API listens on: host:port, :port or [v6]:port"),
    DPF_OPT_STRING("database-url", "DATABASE_URL", &opt_db_url, NULL,
                   "PostgreSQL connection string (required)"),
    DPF_OPT_STRING("nats-url", "NATS_URL", &opt_nats_url, NULL,
                   "NATS server (not used by the provider yet; accepted so one environment "
                   "serves every service)"),
    DPF_OPT_INT("max-body", "DPFLEET_MAX_BODY", &opt_max_body, 1048576, 1024, 67108864,
                "largest request body in bytes; larger ones get 413"),
    DPF_OPT_INT("threads", "DPFLEET_PROVIDER_THREADS", &opt_threads, 4, 1, 64,
                "HTTP worker threads, each with its own database connection"),
    DPF_OPT_INT("conn-timeout", "DPFLEET_CONN_TIMEOUT", &opt_conn_timeout, 30, 1, 3600,
                "seconds an idle or slow client connection is kept"),
    DPF_OPT_STRING("content-source-roots", "DPFLEET_CONTENT_SOURCE_ROOTS", &opt_content_roots, "",
                   "colon-separated directories a package's sourcePath must lie under "
                   "(empty: no package can be created)"),
    DPF_OPT_STRING("tls-cert", "DPFLEET_TLS_CERT", &opt_tls_cert, NULL,
                   "PEM certificate (chain) of the API: with --tls-key, serve HTTPS only"),
    DPF_OPT_STRING("tls-key", "DPFLEET_TLS_KEY", &opt_tls_key, NULL,
                   "PEM private key of that certificate, unencrypted, mode 0600"),
    DPF_OPT_INT("token-cache-seconds", "DPFLEET_TOKEN_CACHE_SECONDS", &opt_token_cache, 10, 0,
                300, "seconds a verified API token is trusted without asking PostgreSQL again "
                "(a revocation through another provider replica takes effect within this)"),
    DPF_OPT_STRING("health-listen", "DPFLEET_HEALTH_LISTEN", &opt_health_listen, "",
                   "address:port of the ops listener: /healthz, /readyz and /metrics without "
                   "a token (empty: none; the API port keeps /healthz and /readyz)"),
    DPF_OPT_STRING("log-format", "DPFLEET_LOG_FORMAT", &opt_log_format, "text",
                   "log lines: text (like the source's logs) or json (one object per line)"),
    DPF_OPT_END,
};

/* Waits until one connection works, so the log says when the API is usable. */
static void wait_for_database(prov_dbpool *pool)
{
    long delay = 500;
    for (int attempt = 1; !dpf_stopping(); attempt++) {
        dpf_db *db = NULL;
        if (prov_dbpool_acquire(pool, 1000, &db) == DPF_OK) {
            prov_dbpool_release(pool, db);
            DPF_INFO("connected to PostgreSQL");
            return;
        }
        DPF_WARN("PostgreSQL is not reachable (attempt %d); retrying in %ld ms", attempt, delay);
        dpf_daemon_nap((int)delay);
        if (delay < 5000)
            delay *= 2;
    }
}

int main(int argc, char **argv)
{
    int rc;
    if (argc > 1 && strcmp(argv[1], "issue-token") == 0)
        return prov_issue_token_main(argc - 1, argv + 1);
    if (dpf_daemon_start("provider", DPF_COMP_PROVIDER, OPTIONS, argc, argv, &rc) != DPF_OK)
        return rc;
    if (dpf_log_set_format_name(opt_log_format) != DPF_OK) {
        fprintf(stderr, "provider: --log-format %s: want text or json\n", opt_log_format);
        dpf_config_free(OPTIONS);
        return 2;
    }
    if (opt_db_url == NULL || *opt_db_url == '\0') {
        fprintf(stderr, "provider: DATABASE_URL (or --database-url) is required\n");
        dpf_config_free(OPTIONS);
        return 2;
    }

    prov_tls *tls = NULL; /* before the pool: a bad certificate stops the start */
    if (prov_tls_load(opt_tls_cert, opt_tls_key, &tls) != DPF_OK) {
        DPF_ERROR("not starting: fix the TLS settings above");
        dpf_config_free(OPTIONS);
        return 2;
    }
    rc = 1;
    prov_dbpool *pool = NULL;
    prov_http *http = NULL;
    prov_auth *auth = NULL;
    dpf_health *health = NULL;
    if (dpf_health_start(opt_health_listen, "provider", &health) != DPF_OK ||
        dpf_health_add_db_check(health, opt_db_url) != DPF_OK)
        goto cleanup;
    if (prov_auth_create(opt_token_cache, &auth) != DPF_OK)
        goto cleanup;
    if (prov_dbpool_create(opt_db_url, opt_threads, &pool) != DPF_OK) {
        DPF_ERROR("cannot create the database pool");
        goto cleanup;
    }
    prov_server server = {.pool = pool, .max_body = (size_t)opt_max_body,
                          .content_roots = opt_content_roots ? opt_content_roots : "",
                          .auth = auth};
    if (prov_http_start(&server, opt_listen, opt_threads, opt_conn_timeout, tls, &http) != DPF_OK)
        goto cleanup;
    DPF_INFO("SMS Provider listening on %s://%s (threads %d, max body %d bytes)",
             prov_tls_scheme(tls), opt_listen, opt_threads, opt_max_body);
    if (tls == NULL)
        DPF_WARN("the API is not encrypted (plain HTTP): requests, tokens included, cross the "
                 "network readable; set DPFLEET_TLS_CERT and DPFLEET_TLS_KEY to serve HTTPS");
    if (*server.content_roots == '\0')
        DPF_WARN("DPFLEET_CONTENT_SOURCE_ROOTS is empty: POST /v1/packages refuses every "
                 "sourcePath until it names the content source directories");
    else
        DPF_INFO("content source roots: %s", server.content_roots);
    wait_for_database(pool);
    dpf_health_set_started(health);
    dpf_daemon_wait_stop();
    dpf_health_set_stopping(health);
    DPF_INFO("stopping: finishing running requests");
    rc = 0;

cleanup:
    prov_http_stop(http);
    dpf_health_stop(health);
    prov_tls_free(tls);
    prov_dbpool_destroy(pool);
    prov_auth_destroy(auth);
    dpf_config_free(OPTIONS);
    if (rc == 0)
        DPF_INFO("stopped");
    return rc;
}

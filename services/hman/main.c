/* hman: SMS_HIERARCHY_MANAGER. Consumes sitecontrol.changed.<site> events
 * and brings DistributionPoints in line with the site control data (see
 * process.c) until SIGINT/SIGTERM. */
#include "service.h"

#include <stdio.h>

#include <dpf/config.h>
#include <dpf/log.h>
#include <dpf/daemon.h>
#include <dpf/health.h>
#include <dpf/metrics.h>
#include <dpf/sitecontrol.h>
#include <dpf/util.h>

static char *g_db_url;
static char *g_nats_url;
static char *g_site;
static int g_retry_delay;
static int g_ack_wait;
static int g_max_deliver;
static int g_max_ack_pending;
static int g_set_aside;
static char *g_health_listen;
static char *g_log_format;

static const dpf_option g_opts[] = {
    DPF_OPT_STRING("database-url", "DATABASE_URL", &g_db_url,
                   "postgresql://postgres@127.0.0.1:5432/postgres", "PostgreSQL connection URL"),
    DPF_OPT_STRING("nats-url", "NATS_URL", &g_nats_url, "nats://127.0.0.1:4222", "NATS server URL"),
    DPF_OPT_INT("HmanRetryDelaySeconds", "DPFLEET_HMAN_RETRY_DELAY_SECONDS", &g_retry_delay,
                30, 0, 3600, "a failed site control change is processed again this much later"),
    DPF_OPT_INT("HmanAckWaitSeconds", "DPFLEET_HMAN_ACK_WAIT_SECONDS", &g_ack_wait, 60, 1, 3600,
                "a change not acknowledged this long is delivered again"),
    DPF_OPT_INT("HmanMaxDeliver", "DPFLEET_HMAN_MAX_DELIVER", &g_max_deliver, 20, 1, 10000,
                "deliveries of one change before it is given up (and reported)"),
    DPF_OPT_INT("HmanMaxAckPending", "DPFLEET_HMAN_MAX_ACK_PENDING", &g_max_ack_pending, 4, 1,
                1000, "changes in hand at once, all replicas together (each replica "
                "fetches one when it is free)"),
    DPF_OPT_BOOL("HmanSetAsideFailedDPs", "DPFLEET_HMAN_SET_ASIDE_FAILED", &g_set_aside, 0,
                 "a DP whose writes fail is set aside (3308) while the others are processed; "
                 "off: the whole change is rolled back (3307), as in the source"),
    DPF_OPT_STRING("SiteCode", "DPFLEET_SITE_CODE", &g_site, "PS1",
                   "site for status messages about messages that name no site"),
    DPF_OPT_STRING("health-listen", "DPFLEET_HEALTH_LISTEN", &g_health_listen, "",
                   "address:port of /healthz, /readyz and /metrics (empty: none)"),
    DPF_OPT_STRING("log-format", "DPFLEET_LOG_FORMAT", &g_log_format, "text",
                   "log lines: text (like the source's logs) or json (one object per line)"),
    DPF_OPT_END,
};

int main(int argc, char **argv)
{
    int rc;
    if (dpf_daemon_start("hman", DPF_COMP_HMAN, g_opts, argc, argv, &rc) != DPF_OK)
        return rc;
    if (dpf_log_set_format_name(g_log_format) != DPF_OK) {
        fprintf(stderr, "hman: --log-format %s: want text or json\n", g_log_format);
        dpf_config_free(g_opts);
        return 2;
    }

    dpf_health *health = NULL;
    if (dpf_health_start(g_health_listen, "hman", &health) != DPF_OK ||
        dpf_health_add_db_check(health, g_db_url) != DPF_OK) {
        dpf_health_stop(health);
        dpf_config_free(g_opts);
        return 1;
    }

    hman_config cfg = {
        .db_url = g_db_url,
        .nats_url = g_nats_url,
        .subject = DPF_SUBJ_SITECONTROL ".>",
        .durable = "hman",
        .site = g_site,
        .retry_delay_s = g_retry_delay,
        .ack_wait_s = g_ack_wait,
        .max_deliver = g_max_deliver,
        .max_ack_pending = g_max_ack_pending,
        .set_aside_failed = g_set_aside,
    };
    hman_service *svc = NULL;
    dpf_status st = hman_service_create(&cfg, &svc);
    if (st != DPF_OK && !dpf_stopping()) {
        DPF_ERROR("Cannot start: %s", dpf_status_text(st));
        rc = 1;
    }
    if (svc != NULL && dpf_metrics_watch_consumer(svc->bus, DPF_STREAM_EVENTS, cfg.durable) !=
        DPF_OK)
        DPF_WARN("/metrics will not show consumer %s", cfg.durable);
    dpf_metrics_touch(DPF_M_HMAN_CHANGE_SECONDS, "ok", NULL, NULL);
    if (svc != NULL && dpf_health_add_bus_check(health, svc->bus) == DPF_OK)
        dpf_health_set_started(health);
    /* the main thread watches the database, so an outage is logged while
     * it lasts even when no change arrives */
    while (svc != NULL && dpf_daemon_nap(1000))
        hman_service_watch(svc);
    dpf_health_set_stopping(health);
    if (svc != NULL)
        DPF_INFO("Stopping: finishing the site control change in hand; the others stay in "
                 "JetStream for another replica");
    dpf_health_stop(health); /* before the bus its check reads */
    dpf_metrics_unwatch_consumers();
    hman_service_destroy(svc);
    DPF_INFO("Stopped");
    dpf_config_free(g_opts);
    return rc;
}

/* Starting and stopping hman: connections with retry (services may start
 * before PostgreSQL and NATS), the streams, and the durable queue consumer
 * "hman" that every replica shares. Replicas never process one site at the
 * same time: the processing transaction locks the site's site_control row. */
#include "service.h"

#include <stdlib.h>

#include <dpf/log.h>
#include <dpf/daemon.h>
#include <dpf/sitecontrol.h>
#include <dpf/util.h>

#define RETRY_MAX_MS 30000

static dpf_status connect_all(hman_service *svc)
{
    svc->db = dpf_daemon_connect_db(svc->cfg.db_url, RETRY_MAX_MS, NULL, NULL);
    if (svc->db != NULL)
        svc->bus = dpf_daemon_connect_bus(svc->cfg.nats_url, "hman", RETRY_MAX_MS);
    return svc->bus != NULL ? DPF_OK : DPF_ERR_TIMEOUT;
}

dpf_status hman_service_create(const hman_config *cfg, hman_service **out)
{
    *out = NULL;
    hman_service *svc = calloc(1, sizeof *svc);
    if (svc == NULL)
        return DPF_ERR_NOMEM;
    svc->cfg = *cfg;
    pthread_mutex_init(&svc->mu, NULL);

    dpf_status st = connect_all(svc);
    if (st == DPF_OK) {
        dpf_bus_sub_opts so = {
            .stream = DPF_STREAM_EVENTS,
            .subject = cfg->subject,
            .durable = cfg->durable,
            .max_ack_pending = cfg->max_ack_pending,
            .ack_wait_ms = cfg->ack_wait_s * 1000,
            .max_deliver = cfg->max_deliver,
        };
        st = dpf_bus_subscribe(svc->bus, &so, hman_handle_sitecontrol, svc, &svc->sub);
    }
    if (st != DPF_OK) {
        hman_service_destroy(svc);
        return st;
    }
    DPF_INFO("Hierarchy Manager is waiting for site control changes on %s", cfg->subject);
    *out = svc;
    return DPF_OK;
}

void hman_service_watch(hman_service *svc)
{
    if (svc == NULL || svc->db == NULL)
        return;
    pthread_mutex_lock(&svc->mu);
    dpf_status st = dpf_db_exec(svc->db, "SELECT 1", 0, NULL, NULL);
    if (st != DPF_OK)
        st = dpf_db_ensure(svc->db);
    if (st == DPF_OK)
        st = dpf_db_exec(svc->db, "SELECT 1", 0, NULL, NULL);
    int64_t now = dpf_now_ms();
    if (st != DPF_OK && svc->db_down_since_ms == 0) {
        svc->db_down_since_ms = now;
        DPF_WARN("Outage: database connection lost (%s); site control changes wait until it "
                 "is back", dpf_db_error(svc->db));
    } else if (st == DPF_OK && svc->db_down_since_ms != 0) {
        DPF_INFO("Recovery: PostgreSQL is back after %.1f s",
                 (now - svc->db_down_since_ms) / 1000.0);
        svc->db_down_since_ms = 0;
    }
    pthread_mutex_unlock(&svc->mu);
}

void hman_service_destroy(hman_service *svc)
{
    if (svc == NULL)
        return;
    /* the subscription first: its handler uses svc, the bus and the
     * database, and dpf_bus_sub_destroy returns only once no handler runs
     * (however long a running one takes) */
    dpf_bus_sub_destroy(svc->sub);
    dpf_bus_destroy(svc->bus);
    dpf_db_destroy(svc->db);
    pthread_mutex_destroy(&svc->mu);
    free(svc);
}

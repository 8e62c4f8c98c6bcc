/* Starting and stopping hman: connections with retry (services may start
 * before PostgreSQL and NATS), the streams, and the durable pull consumer
 * "hman" that every replica shares. Each replica's fetch thread takes one
 * change when it is free to process it (dpf_bus_pull_fetch), so a change
 * never waits in one replica's client buffer, its ack wait running, while
 * another replica is idle. Replicas never process one site at the same
 * time: the processing transaction locks the site's site_control row. */
#include "service.h"

#include <pthread.h>
#include <stdlib.h>

#include <dpf/log.h>
#include <dpf/daemon.h>
#include <dpf/sitecontrol.h>
#include <dpf/util.h>

#define RETRY_MAX_MS 30000
/* how long one fetch waits for a change: also how soon a stop is seen */
#define FETCH_WAIT_MS 1000

/* The fetch thread: one change at a time, handled here, until a stop. */
static void *fetch_loop(void *arg)
{
    hman_service *svc = arg;
    while (!atomic_load(&svc->stop)) {
        dpf_bus_msg *msg = NULL;
        /* an outage makes the fetch wait FETCH_WAIT_MS and say so once */
        if (dpf_bus_pull_fetch(svc->pull, FETCH_WAIT_MS, &msg) == DPF_OK)
            hman_handle_sitecontrol(msg, svc);
    }
    return NULL;
}

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
        st = dpf_bus_pull_create(svc->bus, &so, &svc->pull);
    }
    if (st == DPF_OK) {
        if (pthread_create(&svc->fetcher, NULL, fetch_loop, svc) == 0)
            svc->fetching = 1;
        else
            st = DPF_ERR_NOMEM;
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
    /* the fetch thread first: it uses svc, the bus and the database. It
     * finishes the change in hand (however long that takes) and sees the
     * stop within FETCH_WAIT_MS */
    if (svc->fetching) {
        atomic_store(&svc->stop, 1);
        pthread_join(svc->fetcher, NULL);
    }
    dpf_bus_pull_destroy(svc->pull);
    dpf_bus_destroy(svc->bus);
    dpf_db_destroy(svc->db);
    pthread_mutex_destroy(&svc->mu);
    free(svc);
}

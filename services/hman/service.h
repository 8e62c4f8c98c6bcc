/* The running hman service: its connections and its pull consumer on
 * sitecontrol.changed.>, fetched from by a thread of its own. Shared by
 * service.c (start/stop) and handle_sitecontrol.c (the handler), and used
 * by the tests to run the real service in-process. */
#ifndef HMAN_SERVICE_H
#define HMAN_SERVICE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <dpf/bus.h>
#include <dpf/db.h>

typedef struct hman_config {
    const char *db_url;      /* DATABASE_URL */
    const char *nats_url;    /* NATS_URL */
    const char *subject;     /* "sitecontrol.changed.>" (tests narrow it to one site) */
    const char *durable;     /* "hman": the consumer all replicas share */
    const char *site;        /* site for 9901 when the message names none */
    int retry_delay_s;       /* HmanRetryDelaySeconds: nak delay after a failure */
    int ack_wait_s;
    int max_deliver;
    int max_ack_pending;     /* the consumer's (all replicas') cap on changes in hand */
    int set_aside_failed;    /* HmanSetAsideFailedDPs: a failing DP is set aside (3308) */
} hman_config;

typedef struct hman_service {
    hman_config cfg;         /* strings borrowed from the caller's config */
    dpf_bus *bus;
    dpf_db *db;              /* used by the handler only, under mu */
    pthread_mutex_t mu;
    dpf_bus_pull *pull;      /* used by the fetch thread only */
    pthread_t fetcher;       /* the fetch thread, which runs the handler */
    int fetching;            /* fetcher was started */
    atomic_int stop;         /* set by destroy: the fetch thread ends */
    int64_t db_down_since_ms; /* when the watch saw the database go, 0 when up; under mu */
} hman_service;

/* Connects to PostgreSQL and NATS (retrying until they answer or a stop is
 * requested), ensures the streams, creates (or brings to cfg) the pull
 * consumer and starts the thread that fetches from it. cfg borrowed and must
 * outlive the service; *out owned by the caller. */
dpf_status hman_service_create(const hman_config *cfg, hman_service **out) DPF_MUSTCHECK;
/* Checks the database connection (SELECT 1, reconnecting when it broke)
 * and logs an outage when it starts and the recovery when it ends, so an
 * idle hman reports a PostgreSQL outage while it lasts. Called about once
 * a second from the main thread; takes mu. */
void hman_service_watch(hman_service *svc);

/* Stops the fetch thread, waiting as long as the change in hand takes,
 * then closes and frees. NULL no-op. */
void hman_service_destroy(hman_service *svc);

/* handle_sitecontrol.c: the handler for sitecontrol.changed.<site>, run
 * on the fetch thread. msg owned (acked/naked/termed and destroyed here);
 * closure is the service. */
void hman_handle_sitecontrol(dpf_bus_msg *msg, void *closure);

#endif

/* Health endpoints of a service, for Kubernetes probes and for an operator
 * with curl: a small HTTP server (libmicrohttpd, a thread per connection) answering
 *   GET /healthz  200 "ok" while the process serves requests (liveness);
 *   GET /readyz   200 {"ready":true,"checks":{...}} when every registered
 *                 check passes, else 503 with each failing check's reason;
 *   GET /metrics  Prometheus text: dpfleet_up, dpfleet_ready, what the
 *                 service's metrics callback writes, then the registry
 *                 (dpf/metrics.h: counters, histograms, consumer gauges).
 * A change of readiness is logged once ("Not ready: nats: ..." / "Ready
 * again"), so an outage shows in the log as well as on /readyz.
 * Checks run on a request, at most once a second (later requests in that
 * second get the cached answer), on the HTTP thread: they must be quick. */
#ifndef DPF_HEALTH_H
#define DPF_HEALTH_H

#include <stddef.h>
#include "status.h"

typedef struct dpf_health dpf_health;
typedef struct dpf_db dpf_db;
typedef struct dpf_bus dpf_bus;

/* A readiness check: returns 1 when ready, 0 when not, with a reason for an
 * operator in why (NUL-terminated, at most len bytes). */
typedef int (*dpf_health_check_fn)(void *arg, char *why, size_t len);

/* Text for /metrics: the callback appends with dpf_health_metric. */
typedef struct dpf_health_out dpf_health_out;
typedef void (*dpf_health_metrics_fn)(void *arg, dpf_health_out *out);

/* listen: "ADDR:PORT" (port 0: any free port); service: the service name
 * in the log and in metric labels (borrowed, must outlive h). NULL or ""
 * listen: *out is NULL and DPF_OK (health endpoints switched off). */
dpf_status dpf_health_start(const char *listen, const char *service, dpf_health **out)
    DPF_MUSTCHECK;
/* Stops the server first, so no check runs after it returns. NULL: no-op. */
void dpf_health_stop(dpf_health *h);
/* Until this is called /readyz answers 503 "starting" (the service is
 * still connecting or preparing); checks count from then on. NULL: no-op. */
void dpf_health_set_started(dpf_health *h);
/* From now on /readyz answers 503 "stopping" (a Kubernetes Service stops
 * sending traffic while the process drains). NULL: no-op. */
void dpf_health_set_stopping(dpf_health *h);
/* The port it listens on (0 if h is NULL). */
int dpf_health_port(const dpf_health *h);

/* Registers a check (name borrowed, e.g. "database"). Call before the
 * first request can arrive matters not: registration takes the lock. At
 * most 8 checks. h NULL: no-op. */
dpf_status dpf_health_add_check(dpf_health *h, const char *name, dpf_health_check_fn fn,
                                void *arg) DPF_MUSTCHECK;
void dpf_health_set_metrics(dpf_health *h, dpf_health_metrics_fn fn, void *arg);

/* The # HELP and # TYPE lines of a family (type: "gauge", "counter"), to
 * write before its samples. All borrowed. */
void dpf_health_metric_family(dpf_health_out *out, const char *name, const char *type,
                              const char *help);
/* One sample line: name{labels} value. labels may be NULL or "". */
void dpf_health_metric(dpf_health_out *out, const char *name, const char *labels, double value);

/* Ready-made checks. The bus check borrows bus (connected or not). The
 * database check keeps its own connection to url (borrowed string copied),
 * reconnecting as needed, and runs SELECT 1. */
dpf_status dpf_health_add_bus_check(dpf_health *h, dpf_bus *bus) DPF_MUSTCHECK;
dpf_status dpf_health_add_db_check(dpf_health *h, const char *url) DPF_MUSTCHECK;

#endif

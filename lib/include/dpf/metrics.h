/* The process's metrics registry, rendered by the health endpoints as
 * Prometheus text on GET /metrics (health.c calls dpf_metrics_render).
 *
 * Every metric family is declared once, in the table of metrics.c (name,
 * type, help, label names, histogram buckets); code counts with the
 * family's id and its label values:
 *
 *   dpf_metrics_inc(DPF_M_DP_INSTALLS, "ok", NULL, NULL);
 *   dpf_metrics_observe(DPF_M_HMAN_CHANGE_SECONDS, "ok", NULL, NULL, 0.42);
 *
 * Storage is fixed (at most DPF_METRICS_MAX_SERIES label sets per family;
 * further ones are counted in one series whose labels are all "other"), so
 * an increment never allocates; one mutex guards it. Label values are cut
 * to 63 bytes and characters outside [A-Za-z0-9_.:/{}-] become '_', so the
 * text stays valid whatever a caller passes. Keep label values bounded: a
 * subject family ("dp.ins"), a route pattern, a step name, never a DPID.
 * Only families with at least one series are rendered: a service touches
 * the series it owns at start (dpf_metrics_touch) so they read 0 before
 * the first event. All functions are thread-safe. */
#ifndef DPF_METRICS_H
#define DPF_METRICS_H

#include <stddef.h>
#include "status.h"

#define DPF_METRICS_MAX_SERIES 64

typedef enum dpf_metric_id {
    DPF_M_EVENTS_RECEIVED,   /* counter {subject}: JetStream messages delivered to a handler */
    DPF_M_EVENTS_ACKED,      /* counter {subject}: messages acknowledged (done) */
    DPF_M_HANDLER_ERRORS,    /* counter {subject,action}: ended with nak (retry) or term (drop) */
    DPF_M_DP_INSTALLS,       /* counter {result}: DP install/upgrade jobs finished */
    DPF_M_DP_REMOVALS,       /* counter {result}: DP removal jobs finished */
    DPF_M_DISTRIBUTIONS,     /* counter {result}: package distributions to one DP finished */
    DPF_M_PKG_PROCESSED,     /* counter {result}: package versions snapshotted into the library */
    DPF_M_AGENT_STEPS,       /* counter {step,result}: agent steps answered */
    DPF_M_HMAN_CHANGE_SECONDS, /* histogram {result}: one site control change, start to commit */
    DPF_M_HTTP_REQUESTS,     /* counter {method,route,code}: API requests answered */
    DPF_M_HTTP_SECONDS,      /* histogram {method,route}: API request latency */
    DPF_M_COUNT
} dpf_metric_id;

/* Label values: as many as the family has label names, the rest NULL (a
 * NULL where a value is due reads ""). All borrowed for the call. */
void dpf_metrics_inc(dpf_metric_id id, const char *l1, const char *l2, const char *l3);
/* Adds v (>= 0; a negative v is ignored: counters never go down). */
void dpf_metrics_add(dpf_metric_id id, const char *l1, const char *l2, const char *l3,
                     double v);
/* Records one observation in a histogram family. */
void dpf_metrics_observe(dpf_metric_id id, const char *l1, const char *l2, const char *l3,
                         double v);
/* Creates the series at 0 if it does not exist yet. */
void dpf_metrics_touch(dpf_metric_id id, const char *l1, const char *l2, const char *l3);

/* Counts a JetStream event in a {subject} family: the subject's first two
 * tokens ("dp.ins.42" -> "dp.ins"). action: the second label (or NULL). */
void dpf_metrics_event(dpf_metric_id id, const char *subject, const char *action);

/* The value of one series (a histogram's count), 0 if it does not exist. */
double dpf_metrics_value(dpf_metric_id id, const char *l1, const char *l2, const char *l3);

/* Writes every family that has series, with # HELP and # TYPE lines, to
 * buf (cap bytes, NUL-terminated); a line that does not fit is left out
 * whole. Returns the length written. Also writes the JetStream consumer
 * gauges (below). */
size_t dpf_metrics_render(char *buf, size_t cap);

/* Forgets every series (for tests). */
void dpf_metrics_reset(void);

/* JetStream consumer gauges (metrics_js.c): dpfleet_jetstream_consumer_
 * pending / _ack_pending / _redelivered {stream,consumer}, read with
 * consumer info at scrape time (500 ms timeout, cached 5 s). bus borrowed
 * until dpf_metrics_unwatch_consumers; stream and durable copied. At most 8. */
typedef struct dpf_bus dpf_bus;
dpf_status dpf_metrics_watch_consumer(dpf_bus *bus, const char *stream, const char *durable)
    DPF_MUSTCHECK;
/* Drops every watched consumer (call before destroying the bus). */
void dpf_metrics_unwatch_consumers(void);
/* Writes the consumer gauges to buf as dpf_metrics_render does. */
size_t dpf_metrics_render_consumers(char *buf, size_t cap);

#endif

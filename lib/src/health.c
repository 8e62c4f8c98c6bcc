/* Health endpoints (/healthz, /readyz, /metrics) of every service: what a
 * Kubernetes probe and an operator with curl ask a service (see health.h).
 * libmicrohttpd, a thread per connection; readiness is evaluated on a
 * request, at most once a second, and its changes are logged once each. */
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpf/bus.h"
#include "dpf/db.h"
#include "dpf/health.h"
#include "dpf/log.h"
#include "dpf/metrics.h"
#include "dpf/netaddr.h"
#include "dpf/util.h"

#define MAX_CHECKS 8
#define WHY_MAX 256
#define CACHE_US 1000000
#define OUT_MAX (512 * 1024) /* HTTP histograms: ~30 routes x 14 lines */

typedef struct {
    const char *name;
    dpf_health_check_fn fn;
    void *arg;
    int ok;
    char why[WHY_MAX];
} check;

typedef struct {
    char *url;
    dpf_db *db;
} db_check;

struct dpf_health_out {
    dpf_textbuf text;
};

struct dpf_health {
    struct MHD_Daemon *daemon;
    const char *service;
    int port;
    int64_t started_us;
    pthread_mutex_t mu; /* everything below */
    check checks[MAX_CHECKS];
    int nchecks;
    int started;         /* dpf_health_set_started was called */
    int stopping;        /* dpf_health_set_stopping was called */
    int ready;           /* last answer */
    int ever_evaluated;  /* evaluated_us is meaningful */
    int logged_not_ready; /* "Ready again" only after a "Not ready" */
    int64_t evaluated_us;
    dpf_health_metrics_fn metrics;
    void *metrics_arg;
    db_check *db;        /* owned, when dpf_health_add_db_check was called */
};


void dpf_health_metric_family(dpf_health_out *out, const char *name, const char *type,
                              const char *help)
{
    dpf_textbuf_printf(&out->text, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void dpf_health_metric(dpf_health_out *out, const char *name, const char *labels, double value)
{
    if (labels != NULL && *labels != '\0')
        dpf_textbuf_printf(&out->text, "%s{%s} %.17g\n", name, labels, value);
    else
        dpf_textbuf_printf(&out->text, "%s %.17g\n", name, value);
}

/* Runs the checks unless the last run is under a second old. mu held. */
static void evaluate(dpf_health *h)
{
    int64_t now = dpf_mono_us();
    if (h->ever_evaluated && now - h->evaluated_us < CACHE_US)
        return;
    int ready = h->started && !h->stopping;
    char summary[WHY_MAX * 2] = "";
    if (!h->started)
        snprintf(summary, sizeof summary, "starting");
    else if (h->stopping)
        snprintf(summary, sizeof summary, "stopping");
    for (int i = 0; i < h->nchecks; i++) {
        check *c = &h->checks[i];
        c->why[0] = '\0';
        c->ok = c->fn(c->arg, c->why, sizeof c->why);
        if (!c->ok) {
            ready = 0;
            size_t l = strlen(summary);
            snprintf(summary + l, sizeof summary - l, "%s%s: %s", l ? "; " : "", c->name,
                     c->why[0] ? c->why : "failing");
        }
    }
    /* once per episode; "starting" is not news (the service logs what it
     * is waiting for) */
    if (!ready && h->started && !h->stopping && !h->logged_not_ready) {
        DPF_WARN("Not ready (%s /readyz answers 503): %s", h->service, summary);
        h->logged_not_ready = 1;
    } else if (ready && h->logged_not_ready) {
        DPF_INFO("Ready again (%s /readyz answers 200)", h->service);
        h->logged_not_ready = 0;
    }
    h->ready = ready;
    h->ever_evaluated = 1;
    h->evaluated_us = now;
}

/* A reason as a JSON string: jansson escapes it; a reason that is not UTF-8
 * (a library's message in another encoding) keeps its ASCII only. */
static json_t *reason_value(const char *why)
{
    json_t *v = json_string(why);
    if (v != NULL)
        return v;
    char ascii[WHY_MAX];
    size_t i = 0;
    for (; why[i] != '\0' && i + 1 < sizeof ascii; i++)
        ascii[i] = (unsigned char)why[i] < 0x80 ? why[i] : '?';
    ascii[i] = '\0';
    return json_string(ascii);
}

/* {"service":..,"ready":..,"started":..,["stopping":true,]"checks":{name: "ok"
 * or the reason}}, built by jansson. */
static void readyz_body(dpf_health *h, dpf_health_out *o)
{
    json_t *checks = json_object();
    json_t *root = json_object();
    int ok = checks != NULL && root != NULL &&
             json_object_set_new(root, "service", json_string(h->service)) == 0 &&
             json_object_set_new(root, "ready", json_boolean(h->ready)) == 0 &&
             json_object_set_new(root, "started", json_boolean(h->started)) == 0 &&
             (!h->stopping || json_object_set_new(root, "stopping", json_true()) == 0);
    for (int i = 0; ok && i < h->nchecks; i++) {
        const check *c = &h->checks[i];
        const char *why = c->ok ? "ok" : c->why[0] ? c->why : "failing";
        ok = json_object_set_new(checks, c->name, reason_value(why)) == 0;
    }
    char *text = NULL;
    if (ok && json_object_set(root, "checks", checks) == 0)
        text = json_dumps(root, JSON_COMPACT);
    if (text != NULL)
        dpf_textbuf_printf(&o->text, "%s\n", text);
    else /* out of memory: the status code still says it all */
        dpf_textbuf_printf(&o->text, "{\"ready\":%s}\n", h->ready ? "true" : "false");
    free(text);
    json_decref(checks);
    json_decref(root);
}

static void metrics_body(dpf_health *h, dpf_health_out *o)
{
    char labels[128];
    snprintf(labels, sizeof labels, "service=\"%s\"", h->service);
    dpf_health_metric_family(o, "dpfleet_up", "gauge", "1 while the service answers.");
    dpf_health_metric(o, "dpfleet_up", labels, 1);
    dpf_health_metric_family(o, "dpfleet_ready", "gauge",
                             "1 when every readiness check passes.");
    dpf_health_metric(o, "dpfleet_ready", labels, h->ready);
    dpf_health_metric_family(o, "dpfleet_uptime_seconds", "gauge",
                             "Seconds since the process started.");
    dpf_health_metric(o, "dpfleet_uptime_seconds", labels,
                      (double)(dpf_mono_us() - h->started_us) / 1e6);
    if (h->metrics != NULL)
        h->metrics(h->metrics_arg, o);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             char *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **ctx)
{
    dpf_health *h = cls;
    (void)version;
    (void)upload_data;
    if (*ctx == NULL) { /* headers only so far; a body is not wanted */
        *ctx = h;
        return MHD_YES;
    }
    if (*upload_size != 0) {
        *upload_size = 0;
        return MHD_YES;
    }
    dpf_health_out o = {{malloc(OUT_MAX), 0, OUT_MAX}};
    if (o.text.buf == NULL)
        return MHD_NO;
    o.text.buf[0] = '\0';
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        dpf_textbuf_printf(&o.text, "only GET\n");
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", o.text.buf, o.text.len);
    }
    if (strcmp(url, "/healthz") == 0) {
        dpf_textbuf_printf(&o.text, "ok\n");
        return reply(c, MHD_HTTP_OK, "text/plain", o.text.buf, o.text.len);
    }
    pthread_mutex_lock(&h->mu);
    evaluate(h);
    int is_metrics = 0;
    unsigned status = MHD_HTTP_OK;
    const char *type = "text/plain; version=0.0.4";
    if (strcmp(url, "/readyz") == 0) {
        readyz_body(h, &o);
        status = h->ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE;
        type = "application/json";
    } else if (strcmp(url, "/metrics") == 0) {
        metrics_body(h, &o);
        is_metrics = 1;
    } else {
        dpf_textbuf_printf(&o.text, "not found: /healthz, /readyz and /metrics are served here\n");
        status = MHD_HTTP_NOT_FOUND;
        type = "text/plain";
    }
    pthread_mutex_unlock(&h->mu);
    /* the registry has its own lock, and its consumer gauges may wait for
     * JetStream: a probe of /readyz meanwhile is not held up */
    if (is_metrics && o.text.len + 1 < o.text.cap)
        o.text.len += dpf_metrics_render(o.text.buf + o.text.len, o.text.cap - o.text.len);
    return reply(c, status, type, o.text.buf, o.text.len);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    (void)cls;
    vsnprintf(line, sizeof line, fmt, ap);
    DPF_WARN("health endpoints: libmicrohttpd: %s", line);
}

dpf_status dpf_health_start(const char *listen, const char *service, dpf_health **out)
{
    *out = NULL;
    if (listen == NULL || *listen == '\0')
        return DPF_OK;
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    if (dpf_listen_resolve(listen, &ss, &sslen) != DPF_OK) {
        DPF_ERROR("cannot use health listen address '%s' (want host:port, e.g. 0.0.0.0:9100)",
                  listen);
        return DPF_ERR_INVALID;
    }
    dpf_health *h = calloc(1, sizeof *h);
    if (h == NULL)
        return DPF_ERR_NOMEM;
    pthread_mutex_init(&h->mu, NULL);
    h->service = service;
    h->ready = 0;
    h->started_us = dpf_mono_us();
    /* a thread per connection: a scrape waiting for JetStream's consumer
     * info (up to 500 ms a consumer) does not hold up a probe */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h->daemon = MHD_start_daemon(flags, (uint16_t)dpf_sockaddr_port(&ss), NULL, NULL, on_request,
                                 h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
                                 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_END);
    if (h->daemon == NULL) {
        DPF_ERROR("cannot listen on %s for the health endpoints (port in use?)", listen);
        pthread_mutex_destroy(&h->mu);
        free(h);
        return DPF_ERR_IO;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : (int)dpf_sockaddr_port(&ss);
    DPF_INFO("Health endpoints of %s on %s (port %d): /healthz, /readyz, /metrics", service,
             listen, h->port);
    *out = h;
    return DPF_OK;
}

void dpf_health_stop(dpf_health *h)
{
    if (h == NULL)
        return;
    MHD_stop_daemon(h->daemon);
    if (h->db != NULL) {
        dpf_db_destroy(h->db->db);
        free(h->db->url);
        free(h->db);
    }
    pthread_mutex_destroy(&h->mu);
    free(h);
}

void dpf_health_set_started(dpf_health *h)
{
    if (h == NULL)
        return;
    pthread_mutex_lock(&h->mu);
    h->started = 1;
    h->ever_evaluated = 0;
    pthread_mutex_unlock(&h->mu);
}

void dpf_health_set_stopping(dpf_health *h)
{
    if (h == NULL)
        return;
    pthread_mutex_lock(&h->mu);
    h->stopping = 1;
    h->ever_evaluated = 0;
    pthread_mutex_unlock(&h->mu);
}

int dpf_health_port(const dpf_health *h)
{
    return h ? h->port : 0;
}

dpf_status dpf_health_add_check(dpf_health *h, const char *name, dpf_health_check_fn fn,
                                void *arg)
{
    if (h == NULL)
        return DPF_OK;
    if (name == NULL || fn == NULL)
        return DPF_ERR_INVALID;
    pthread_mutex_lock(&h->mu);
    dpf_status st = DPF_ERR_INVALID;
    if (h->nchecks < MAX_CHECKS) {
        h->checks[h->nchecks++] = (check){.name = name, .fn = fn, .arg = arg, .ok = 1};
        h->ever_evaluated = 0; /* a new check counts from the next request */
        st = DPF_OK;
    }
    pthread_mutex_unlock(&h->mu);
    return st;
}

void dpf_health_set_metrics(dpf_health *h, dpf_health_metrics_fn fn, void *arg)
{
    if (h == NULL)
        return;
    pthread_mutex_lock(&h->mu);
    h->metrics = fn;
    h->metrics_arg = arg;
    pthread_mutex_unlock(&h->mu);
}

static int bus_check(void *arg, char *why, size_t len)
{
    if (dpf_bus_connected(arg))
        return 1;
    snprintf(why, len, "not connected to NATS (reconnecting in the background)");
    return 0;
}

dpf_status dpf_health_add_bus_check(dpf_health *h, dpf_bus *bus)
{
    return dpf_health_add_check(h, "nats", bus_check, bus);
}

/* Runs on the HTTP thread with h->mu held: the only user of its connection. */
static int db_check_fn(void *arg, char *why, size_t len)
{
    db_check *d = arg;
    if (d->db == NULL && dpf_db_connect(d->url, &d->db) != DPF_OK) {
        snprintf(why, len, "cannot connect to PostgreSQL");
        return 0;
    }
    if (dpf_db_ensure(d->db) != DPF_OK ||
        dpf_db_exec(d->db, "SELECT 1", 0, NULL, NULL) != DPF_OK) {
        snprintf(why, len, "PostgreSQL does not answer: %s", dpf_db_error(d->db));
        return 0;
    }
    return 1;
}

dpf_status dpf_health_add_db_check(dpf_health *h, const char *url)
{
    if (h == NULL)
        return DPF_OK;
    db_check *d = calloc(1, sizeof *d);
    if (d == NULL || (d->url = strdup(url ? url : "")) == NULL) {
        free(d);
        return DPF_ERR_NOMEM;
    }
    dpf_status st = dpf_health_add_check(h, "database", db_check_fn, d);
    if (st != DPF_OK) {
        free(d->url);
        free(d);
        return st;
    }
    pthread_mutex_lock(&h->mu);
    h->db = d;
    pthread_mutex_unlock(&h->mu);
    return DPF_OK;
}

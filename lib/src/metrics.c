/* The metrics registry (see metrics.h): what an operator watches on a
 * service's /metrics, declared once in FAMILIES below, counted from
 * anywhere with a family id and label values, rendered as Prometheus text.
 * Storage is static and fixed, so counting never allocates and a burst of
 * new label values cannot grow the process: past DPF_METRICS_MAX_SERIES
 * label sets a family counts in one "other" series. One mutex guards all
 * of it; an increment holds it for a string compare or a few. */
#include "dpf/metrics.h"
#include "dpf/util.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define MAX_LABELS 3
#define MAX_BUCKETS 14
#define VALUE_MAX 63
#define KEY_MAX 224

typedef enum { COUNTER, HISTOGRAM } family_type;

typedef struct {
    const char *name;
    family_type type;
    const char *help;
    const char *labels[MAX_LABELS]; /* label names; NULL after the last */
    const double *buckets;          /* upper bounds, ascending; +Inf is implied */
    int nbuckets;
} family;

static const double HTTP_BUCKETS[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
static const double CHANGE_BUCKETS[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
#define NB(a) (int)(sizeof(a) / sizeof((a)[0]))

static const family FAMILIES[DPF_M_COUNT] = {
    [DPF_M_EVENTS_RECEIVED] = {"dpfleet_events_received_total", COUNTER,
                               "JetStream messages delivered to this service, by subject family.",
                               {"subject"}, NULL, 0},
    [DPF_M_EVENTS_ACKED] = {"dpfleet_events_acked_total", COUNTER,
                            "JetStream messages acknowledged after their effects were committed.",
                            {"subject"}, NULL, 0},
    [DPF_M_HANDLER_ERRORS] = {"dpfleet_handler_errors_total", COUNTER,
                              "JetStream messages a handler ended without an ack: nak (delivered "
                              "again later) or term (dropped).",
                              {"subject", "action"}, NULL, 0},
    [DPF_M_DP_INSTALLS] = {"dpfleet_dp_installs_total", COUNTER,
                           "DP install/upgrade jobs finished, by result (ok, failed).",
                           {"result"}, NULL, 0},
    [DPF_M_DP_REMOVALS] = {"dpfleet_dp_removals_total", COUNTER,
                           "DP removal jobs finished, by result (ok, failed).", {"result"}, NULL,
                           0},
    [DPF_M_DISTRIBUTIONS] = {"dpfleet_distributions_total", COUNTER,
                             "Package distributions to one DP finished, by result (ok, failed).",
                             {"result"}, NULL, 0},
    [DPF_M_PKG_PROCESSED] = {"dpfleet_packages_processed_total", COUNTER,
                             "Package versions read from their source into the content library, "
                             "by result (ok, failed).",
                             {"result"}, NULL, 0},
    [DPF_M_AGENT_STEPS] = {"dpfleet_agent_steps_total", COUNTER,
                           "On-host steps sent to DP agents, by step and result (ok, failed, "
                           "error: no answer or an unreadable one).",
                           {"step", "result"}, NULL, 0},
    [DPF_M_HMAN_CHANGE_SECONDS] = {"dpfleet_hman_change_duration_seconds", HISTOGRAM,
                                   "Time hman took to process one site control change.",
                                   {"result"}, CHANGE_BUCKETS, NB(CHANGE_BUCKETS)},
    [DPF_M_HTTP_REQUESTS] = {"dpfleet_http_requests_total", COUNTER,
                             "API requests answered, by method, route pattern and status code.",
                             {"method", "route", "code"}, NULL, 0},
    [DPF_M_HTTP_SECONDS] = {"dpfleet_http_request_duration_seconds", HISTOGRAM,
                            "API request latency, from the headers to the answer.",
                            {"method", "route"}, HTTP_BUCKETS, NB(HTTP_BUCKETS)},
};

typedef struct {
    int used;
    char key[KEY_MAX]; /* the rendered label pairs: subject="dp.ins",action="nak" */
    double value;      /* counter value, or histogram sum */
    unsigned long long count;
    unsigned long long bucket[MAX_BUCKETS]; /* not cumulative: the renderer sums */
} series;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static series g_series[DPF_M_COUNT][DPF_METRICS_MAX_SERIES];

static void clean_value(const char *in, char *out)
{
    size_t n = 0;
    for (const char *p = in ? in : ""; *p && n < VALUE_MAX; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 strchr("_.:/{}-", c) != NULL;
        out[n++] = ok ? c : '_';
    }
    out[n] = '\0';
}

static void make_key(const family *f, const char *const vals[MAX_LABELS], char *key)
{
    size_t len = 0;
    key[0] = '\0';
    for (int i = 0; i < MAX_LABELS && f->labels[i] != NULL; i++) {
        char v[VALUE_MAX + 1];
        clean_value(vals[i], v);
        int n = snprintf(key + len, KEY_MAX - len, "%s%s=\"%s\"", i ? "," : "", f->labels[i], v);
        if (n > 0 && (size_t)n < KEY_MAX - len)
            len += (size_t)n;
    }
}

/* The series for these values, created if missing. g_mu held. */
static series *find(dpf_metric_id id, const char *l1, const char *l2, const char *l3)
{
    if ((unsigned)id >= DPF_M_COUNT)
        return NULL;
    const family *f = &FAMILIES[id];
    const char *vals[MAX_LABELS] = {l1, l2, l3};
    char key[KEY_MAX];
    make_key(f, vals, key);
    series *row = g_series[id];
    int last = DPF_METRICS_MAX_SERIES - 1;
    for (int i = 0; i < last; i++) {
        if (!row[i].used) {
            row[i].used = 1;
            memcpy(row[i].key, key, sizeof key);
            return &row[i];
        }
        if (strcmp(row[i].key, key) == 0)
            return &row[i];
    }
    /* full: the last slot counts every further label set */
    if (!row[last].used) {
        const char *other[MAX_LABELS] = {"other", "other", "other"};
        row[last].used = 1;
        make_key(f, other, row[last].key);
    }
    return &row[last];
}

void dpf_metrics_add(dpf_metric_id id, const char *l1, const char *l2, const char *l3, double v)
{
    if (!(v >= 0))
        return;
    pthread_mutex_lock(&g_mu);
    series *s = find(id, l1, l2, l3);
    if (s != NULL && FAMILIES[id].type == COUNTER)
        s->value += v;
    pthread_mutex_unlock(&g_mu);
}

void dpf_metrics_inc(dpf_metric_id id, const char *l1, const char *l2, const char *l3)
{
    dpf_metrics_add(id, l1, l2, l3, 1);
}

void dpf_metrics_observe(dpf_metric_id id, const char *l1, const char *l2, const char *l3,
                         double v)
{
    if (v != v) /* NaN */
        return;
    pthread_mutex_lock(&g_mu);
    series *s = find(id, l1, l2, l3);
    if (s != NULL && FAMILIES[id].type == HISTOGRAM) {
        const family *f = &FAMILIES[id];
        int b = 0;
        while (b < f->nbuckets && v > f->buckets[b])
            b++;
        s->bucket[b]++; /* b == nbuckets: only +Inf */
        s->count++;
        s->value += v;
    }
    pthread_mutex_unlock(&g_mu);
}

void dpf_metrics_touch(dpf_metric_id id, const char *l1, const char *l2, const char *l3)
{
    pthread_mutex_lock(&g_mu);
    (void)find(id, l1, l2, l3);
    pthread_mutex_unlock(&g_mu);
}

void dpf_metrics_event(dpf_metric_id id, const char *subject, const char *action)
{
    char fam[VALUE_MAX + 1];
    const char *s = subject ? subject : "";
    const char *dot = strchr(s, '.');
    if (dot != NULL)
        dot = strchr(dot + 1, '.');
    size_t n = dot ? (size_t)(dot - s) : strlen(s);
    if (n > VALUE_MAX)
        n = VALUE_MAX;
    memcpy(fam, s, n);
    fam[n] = '\0';
    dpf_metrics_inc(id, fam, action, NULL);
}

double dpf_metrics_value(dpf_metric_id id, const char *l1, const char *l2, const char *l3)
{
    if ((unsigned)id >= DPF_M_COUNT)
        return 0;
    const char *vals[MAX_LABELS] = {l1, l2, l3};
    char key[KEY_MAX];
    make_key(&FAMILIES[id], vals, key);
    double v = 0;
    pthread_mutex_lock(&g_mu);
    for (int i = 0; i < DPF_METRICS_MAX_SERIES && g_series[id][i].used; i++) {
        const series *s = &g_series[id][i];
        if (strcmp(s->key, key) == 0) {
            v = FAMILIES[id].type == HISTOGRAM ? (double)s->count : s->value;
            break;
        }
    }
    pthread_mutex_unlock(&g_mu);
    return v;
}

static void render_histogram(dpf_textbuf *o, const family *f, const series *s)
{
    const char *sep = s->key[0] ? "," : "";
    unsigned long long cum = 0;
    for (int b = 0; b < f->nbuckets; b++) {
        cum += s->bucket[b];
        dpf_textbuf_printf(o, "%s_bucket{%s%sle=\"%g\"} %llu\n", f->name, s->key, sep,
                           f->buckets[b], cum);
    }
    dpf_textbuf_printf(o, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", f->name, s->key, sep, s->count);
    dpf_textbuf_printf(o, "%s_sum{%s} %.17g\n", f->name, s->key, s->value);
    dpf_textbuf_printf(o, "%s_count{%s} %llu\n", f->name, s->key, s->count);
}

size_t dpf_metrics_render(char *buf, size_t cap)
{
    dpf_textbuf o = {buf, 0, cap};
    if (cap > 0)
        buf[0] = '\0';
    pthread_mutex_lock(&g_mu);
    for (int id = 0; id < DPF_M_COUNT; id++) {
        const family *f = &FAMILIES[id];
        if (!g_series[id][0].used)
            continue;
        dpf_textbuf_printf(&o, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
                           f->type == COUNTER ? "counter" : "histogram");
        for (int i = 0; i < DPF_METRICS_MAX_SERIES && g_series[id][i].used; i++) {
            const series *s = &g_series[id][i];
            if (f->type == HISTOGRAM)
                render_histogram(&o, f, s);
            else if (s->key[0])
                dpf_textbuf_printf(&o, "%s{%s} %.17g\n", f->name, s->key, s->value);
            else
                dpf_textbuf_printf(&o, "%s %.17g\n", f->name, s->value);
        }
    }
    pthread_mutex_unlock(&g_mu);
    if (o.len + 1 < o.cap)
        o.len += dpf_metrics_render_consumers(buf + o.len, o.cap - o.len);
    return o.len;
}

void dpf_metrics_reset(void)
{
    pthread_mutex_lock(&g_mu);
    memset(g_series, 0, sizeof g_series);
    pthread_mutex_unlock(&g_mu);
}

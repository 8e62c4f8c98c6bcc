/* The fake dpagent behind test_distmgr_install. It keeps every request so
 * the test can assert what distmgr asked, in which order, with which
 * parameters and correlation id; replies can be delayed on a thread of
 * their own so the in-flight count reflects distmgr's concurrency and not
 * nats.c's delivery threads. */
#include "test_distmgr_agent.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dpf/agent.h>
#include <dpf/util.h>

#include "dpfleet.pb-c.h"

#define MAX_HOSTS 32
#define MAX_REQS 4096

typedef struct req {
    char fqdn[128];
    char step[32];
    char corr[64];
    char params[2048]; /* "key=value\n"... */
    int nfiles;
    size_t manifest_len, sig_len;
    long long at_us;
} req;

typedef struct host {
    char fqdn[128];
    dpf_bus_sub *sub;
    int inflight;
    fake_agent *fa;
} host;

struct fake_agent {
    dpf_bus *bus;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    host hosts[MAX_HOSTS];
    int nhosts;
    req *reqs;
    int nreqs;
    int delay_ms;
    int inflight, max_inflight, max_per_host;
    int threads; /* reply threads not yet finished with fa */
    char fail_fqdn[128], fail_step[32], fail_error[256];
    int fail_times;
    char content_url[128];
};

typedef struct pending {
    fake_agent *fa;
    host *h;
    dpf_bus_msg *msg;
    char step[32];
    int ok;
    char error[256];
    int delay_ms;
    char content_url[128];
} pending;

static void *reply_thread(void *arg)
{
    pending *p = arg;
    if (p->delay_ms > 0)
        usleep((useconds_t)p->delay_ms * 1000);
    Dpf__AgentReply rep = DPF__AGENT_REPLY__INIT;
    /* what the host's smsdpprov.log would say: the step, then its end */
    char first[96];
    snprintf(first, sizeof first, "fake agent: starting %s", p->step);
    char *lines[] = {first, p->ok ? (char *)"fake agent did it" : p->error};
    rep.ok = p->ok;
    rep.step = p->step;
    rep.fqdn = p->h->fqdn;
    rep.duration_us = 1000;
    rep.changed = 1;
    rep.error = p->ok ? (char *)"" : p->error;
    rep.n_log = 2;
    rep.log = lines;
    rep.content_url = p->content_url;
    uint8_t buf[1024];
    size_t n = dpf__agent_reply__pack(&rep, buf);
    fake_agent *fa = p->fa;
    /* count the request out before the reply leaves: distmgr may send the
     * next step the moment it arrives */
    pthread_mutex_lock(&fa->mu);
    fa->inflight--;
    p->h->inflight--;
    pthread_mutex_unlock(&fa->mu);
    if (dpf_bus_respond(fa->bus, p->msg, buf, n) != DPF_OK)
        fprintf(stderr, "fake agent: respond failed\n");
    dpf_bus_msg_destroy(p->msg);
    free(p);
    pthread_mutex_lock(&fa->mu);
    fa->threads--;
    pthread_cond_broadcast(&fa->cv);
    pthread_mutex_unlock(&fa->mu);
    return NULL;
}

static void on_request(dpf_bus_msg *msg, void *closure)
{
    host *h = closure;
    fake_agent *fa = h->fa;
    Dpf__AgentRequest *r = dpf__agent_request__unpack(NULL, dpf_bus_msg_len(msg),
                                                       dpf_bus_msg_data(msg));
    pending *p = calloc(1, sizeof *p);
    p->fa = fa;
    p->h = h;
    p->msg = msg;
    p->ok = 1;
    pthread_mutex_lock(&fa->mu);
    if (r != NULL && fa->nreqs < MAX_REQS) {
        req *q = &fa->reqs[fa->nreqs++];
        snprintf(q->fqdn, sizeof q->fqdn, "%s", h->fqdn);
        snprintf(q->step, sizeof q->step, "%s", r->step);
        snprintf(q->corr, sizeof q->corr, "%s", dpf_bus_msg_corr(msg));
        size_t used = 0;
        for (size_t i = 0; i < r->n_params && used < sizeof q->params; i++) {
            int w = snprintf(q->params + used, sizeof q->params - used, "%s=%s\n",
                             r->params[i]->key, r->params[i]->value);
            if (w > 0)
                used += (size_t)w;
        }
        q->nfiles = (int)r->n_files;
        q->manifest_len = r->manifest.len;
        q->sig_len = r->signature.len;
        q->at_us = dpf_mono_us();
        snprintf(p->step, sizeof p->step, "%s", r->step);
        /* the last install step's reply carries none: the last one given counts */
        if (strcmp(r->step, "configure_pxe") != 0)
            snprintf(p->content_url, sizeof p->content_url, "%s", fa->content_url);
        if (r->step_signature.len != 64 || r->nonce.len != 16 || r->signed_at_ms <= 0) {
            /* a real agent refuses it (issue 9): distmgr must sign every step */
            p->ok = 0;
            snprintf(p->error, sizeof p->error, "fake agent: step %s is not signed", r->step);
        } else if (fa->fail_times > 0 && strcmp(fa->fail_fqdn, h->fqdn) == 0 &&
            strcmp(fa->fail_step, r->step) == 0) {
            fa->fail_times--;
            p->ok = 0;
            snprintf(p->error, sizeof p->error, "%s", fa->fail_error);
        }
    } else if (r == NULL) {
        p->ok = 0;
        snprintf(p->error, sizeof p->error, "fake agent: undecodable request");
    }
    fa->inflight++;
    h->inflight++;
    if (fa->inflight > fa->max_inflight)
        fa->max_inflight = fa->inflight;
    if (h->inflight > fa->max_per_host)
        fa->max_per_host = h->inflight;
    p->delay_ms = fa->delay_ms;
    fa->threads++;
    pthread_mutex_unlock(&fa->mu);
    if (r != NULL)
        dpf__agent_request__free_unpacked(r, NULL);

    pthread_t t;
    if (pthread_create(&t, NULL, reply_thread, p) == 0)
        pthread_detach(t);
    else
        reply_thread(p);
}

int fa_start(dpf_bus *bus, const char *const *fqdns, int n, fake_agent **out)
{
    if (n > MAX_HOSTS)
        return -1;
    fake_agent *fa = calloc(1, sizeof *fa);
    fa->reqs = calloc(MAX_REQS, sizeof *fa->reqs);
    fa->bus = bus;
    pthread_mutex_init(&fa->mu, NULL);
    pthread_cond_init(&fa->cv, NULL);
    for (int i = 0; i < n; i++) {
        host *h = &fa->hosts[fa->nhosts++];
        h->fa = fa;
        snprintf(h->fqdn, sizeof h->fqdn, "%s", fqdns[i]);
        char subject[200];
        snprintf(subject, sizeof subject, DPF_AGENT_SUBJECT_FMT, fqdns[i]);
        if (dpf_bus_serve(bus, subject, NULL, on_request, h, &h->sub) != DPF_OK)
            return -1;
    }
    *out = fa;
    return 0;
}

void fa_stop(fake_agent *fa)
{
    if (fa == NULL)
        return;
    for (int i = 0; i < fa->nhosts; i++)
        dpf_bus_sub_destroy(fa->hosts[i].sub);
    pthread_mutex_lock(&fa->mu);
    while (fa->threads > 0)
        pthread_cond_wait(&fa->cv, &fa->mu);
    pthread_mutex_unlock(&fa->mu);
    free(fa->reqs);
    free(fa);
}

void fa_set_delay(fake_agent *fa, int ms)
{
    pthread_mutex_lock(&fa->mu);
    fa->delay_ms = ms;
    pthread_mutex_unlock(&fa->mu);
}

void fa_set_content_url(fake_agent *fa, const char *url)
{
    pthread_mutex_lock(&fa->mu);
    snprintf(fa->content_url, sizeof fa->content_url, "%s", url);
    pthread_mutex_unlock(&fa->mu);
}

void fa_fail(fake_agent *fa, const char *fqdn, const char *step, int times, const char *error)
{
    pthread_mutex_lock(&fa->mu);
    snprintf(fa->fail_fqdn, sizeof fa->fail_fqdn, "%s", fqdn);
    snprintf(fa->fail_step, sizeof fa->fail_step, "%s", step);
    snprintf(fa->fail_error, sizeof fa->fail_error, "%s", error);
    fa->fail_times = times;
    pthread_mutex_unlock(&fa->mu);
}

int fa_count(fake_agent *fa, const char *fqdn, const char *step)
{
    int n = 0;
    pthread_mutex_lock(&fa->mu);
    for (int i = 0; i < fa->nreqs; i++) {
        if (strcmp(fa->reqs[i].fqdn, fqdn) == 0 &&
            (step == NULL || strcmp(fa->reqs[i].step, step) == 0))
            n++;
    }
    pthread_mutex_unlock(&fa->mu);
    return n;
}

void fa_steps(fake_agent *fa, const char *fqdn, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    pthread_mutex_lock(&fa->mu);
    for (int i = 0; i < fa->nreqs && used < len; i++) {
        if (strcmp(fa->reqs[i].fqdn, fqdn) != 0)
            continue;
        int w = snprintf(out + used, len - used, "%s%s", used ? "," : "", fa->reqs[i].step);
        if (w > 0)
            used += (size_t)w;
    }
    pthread_mutex_unlock(&fa->mu);
}

static const req *last(fake_agent *fa, const char *fqdn, const char *step)
{
    for (int i = fa->nreqs - 1; i >= 0; i--) {
        if (strcmp(fa->reqs[i].fqdn, fqdn) == 0 && strcmp(fa->reqs[i].step, step) == 0)
            return &fa->reqs[i];
    }
    return NULL;
}

int fa_param(fake_agent *fa, const char *fqdn, const char *step, const char *key, char *out,
             size_t len)
{
    out[0] = '\0';
    pthread_mutex_lock(&fa->mu);
    const req *q = last(fa, fqdn, step);
    if (q != NULL) {
        char want[128];
        snprintf(want, sizeof want, "%s=", key);
        for (const char *line = q->params; *line;) {
            const char *nl = strchr(line, '\n');
            size_t l = nl ? (size_t)(nl - line) : strlen(line);
            if (strncmp(line, want, strlen(want)) == 0) {
                size_t vl = l - strlen(want);
                snprintf(out, len, "%.*s", (int)vl, line + strlen(want));
                break;
            }
            line += l + (nl ? 1 : 0);
        }
    }
    pthread_mutex_unlock(&fa->mu);
    return q != NULL;
}

int fa_request_info(fake_agent *fa, const char *fqdn, const char *step, char *corr,
                    size_t corrlen, int *nfiles, size_t *manifest_len, size_t *sig_len)
{
    pthread_mutex_lock(&fa->mu);
    const req *q = last(fa, fqdn, step);
    if (q != NULL) {
        snprintf(corr, corrlen, "%s", q->corr);
        *nfiles = q->nfiles;
        *manifest_len = q->manifest_len;
        *sig_len = q->sig_len;
    }
    pthread_mutex_unlock(&fa->mu);
    return q != NULL;
}

int fa_max_inflight(fake_agent *fa)
{
    pthread_mutex_lock(&fa->mu);
    int n = fa->max_inflight;
    pthread_mutex_unlock(&fa->mu);
    return n;
}

int fa_max_inflight_per_host(fake_agent *fa)
{
    pthread_mutex_lock(&fa->mu);
    int n = fa->max_per_host;
    pthread_mutex_unlock(&fa->mu);
    return n;
}

void fa_reset_max(fake_agent *fa)
{
    pthread_mutex_lock(&fa->mu);
    fa->max_inflight = fa->inflight;
    fa->max_per_host = 0;
    pthread_mutex_unlock(&fa->mu);
}

long long fa_time_us(fake_agent *fa, const char *fqdn, const char *step, int nth)
{
    long long at = -1;
    int seen = 0;
    pthread_mutex_lock(&fa->mu);
    for (int i = 0; i < fa->nreqs; i++) {
        if (strcmp(fa->reqs[i].fqdn, fqdn) == 0 && strcmp(fa->reqs[i].step, step) == 0 &&
            ++seen == nth) {
            at = fa->reqs[i].at_us;
            break;
        }
    }
    pthread_mutex_unlock(&fa->mu);
    return at;
}

/* libmicrohttpd glue. MHD calls on_request several times per request: once
 * with the headers (we set up the request, check headers and Content-Length
 * and may answer at once), then once per body chunk (we keep at most
 * max_body bytes and discard the rest), then once more to say the body is
 * complete (we dispatch). An over-large body announced by Content-Length is
 * refused before a byte of it is read; a chunked one is drained without
 * being stored. */
#include "http_conn.h"
#include "auth.h"
#include "http_dbbody.h"
#include "router.h"
#include "tls.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <dpf/log.h>
#include <dpf/metrics.h>
#include <dpf/netaddr.h>
#include <dpf/util.h>

struct prov_http {
    struct MHD_Daemon *daemon;
    const prov_server *server;
};

int prov_corr_sane(const char *corr)
{
    size_t n = corr ? strlen(corr) : 0;
    if (n == 0 || n > PROV_CORR_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)corr[i];
        if (!isalnum(c) && strchr("._:{}-", c) == NULL)
            return 0;
    }
    return 1;
}

const char *prov_ctx_header_problem(const char *value)
{
    size_t n = strlen(value);
    if (n > PROV_CTX_MAX)
        return "is longer than 256 characters";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c < 0x20 || c == 0x7f)
            return "contains control characters";
    }
    return NULL;
}

const char *prov_request_query(const prov_request *req, const char *name)
{
    return MHD_lookup_connection_value((struct MHD_Connection *)req->conn,
                                       MHD_GET_ARGUMENT_KIND, name);
}

const char *prov_request_query_cb(void *ctx, const char *name)
{
    return prov_request_query(ctx, name);
}

typedef struct unknown_arg {
    const char *const *known;
    const char *found;
} unknown_arg;

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    unknown_arg *u = cls;
    (void)kind;
    (void)value;
    for (int i = 0; u->known[i] != NULL; i++) {
        if (strcmp(key, u->known[i]) == 0)
            return MHD_YES;
    }
    u->found = key;
    return MHD_NO; /* stop at the first */
}

const char *prov_request_unknown_query(const prov_request *req, const char *const *known)
{
    unknown_arg u = {known, NULL};
    MHD_get_connection_values((struct MHD_Connection *)req->conn, MHD_GET_ARGUMENT_KIND,
                              check_arg, &u);
    return u.found;
}

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static void client_address(struct MHD_Connection *c, char *buf, size_t len)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(buf, len, "unknown");
    if (ci == NULL || ci->client_addr == NULL)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf, (socklen_t)len);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf, (socklen_t)len);
}

static struct MHD_Response *json_response(prov_request *req, prov_reply *reply)
{
    json_t *body = reply->body ? reply->body : json_object();
    reply->body = NULL;
    if (reply->status >= 400 && json_is_object(body) && !json_object_get(body, "correlationId"))
        json_object_set_new(body, "correlationId", json_string(req->corr));
    char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(body);
    size_t len = text ? strlen(text) : 0;
    char *out = malloc(len + 2);
    if (out == NULL) {
        free(text);
        return NULL;
    }
    memcpy(out, text ? text : "", len);
    out[len++] = '\n';
    out[len] = '\0';
    free(text);

    struct MHD_Response *resp = MHD_create_response_from_buffer(len, out, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL)
        free(out);
    return resp;
}

static enum MHD_Result send_reply(struct MHD_Connection *c, prov_request *req, prov_reply *reply)
{
    struct MHD_Response *resp = reply->rows ? prov_http_db_response(reply) : json_response(req, reply);
    prov_reply_clear(reply);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Correlation-Id", req->corr);
    if (reply->status == 405 && reply->allow[0] != '\0') /* the router fills it on any match */
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, reply->allow);
    if (reply->next_after[0] != '\0')
        MHD_add_response_header(resp, "X-Next-After", reply->next_after);
    if (reply->www_authenticate)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"dpfleet\"");
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)reply->status, resp);
    MHD_destroy_response(resp);
    req->status = reply->status;
    req->replied = 1;
    return ok;
}

static enum MHD_Result reply_now(struct MHD_Connection *c, prov_request *req, int status,
                                 const char *field, const char *msg)
{
    prov_reply reply = {0};
    prov_reply_error(&reply, status, field, "%s", msg);
    return send_reply(c, req, &reply);
}

/* Reads the informational context headers (X-Dpf-Application,
 * X-Dpf-Machine) into req->user; an error message if one is bad. The user
 * comes from the API token (auth.c), never from a header: X-Dpf-User is
 * ignored. */
static const char *read_context(struct MHD_Connection *c, prov_request *req, char *msg,
                                size_t len, const char **field)
{
    static const char *const names[] = {"X-Dpf-Application", "X-Dpf-Machine"};
    char *dst[] = {req->user.app, req->user.machine};
    snprintf(req->user.user, sizeof req->user.user, "unknown"); /* until auth.c sets it */
    for (int i = 0; i < 2; i++) {
        const char *v = header(c, names[i]);
        if (v == NULL || *v == '\0') {
            if (i == 1)
                snprintf(dst[i], PROV_CTX_MAX + 1, "%s", req->client);
            else
                snprintf(dst[i], PROV_CTX_MAX + 1, "unknown");
            continue;
        }
        const char *why = prov_ctx_header_problem(v);
        if (why != NULL) {
            snprintf(msg, len, "header %s %s", names[i], why);
            *field = names[i];
            return msg;
        }
        snprintf(dst[i], PROV_CTX_MAX + 1, "%s", v);
    }
    return NULL;
}

static prov_request *request_new(const prov_server *server, struct MHD_Connection *c,
                                 const char *url, const char *method)
{
    prov_request *req = calloc(1, sizeof *req);
    if (req == NULL)
        return NULL;
    req->path = strdup(url);
    if (req->path == NULL) {
        free(req);
        return NULL;
    }
    req->server = server;
    req->conn = c;
    req->start_us = dpf_mono_us();
    client_address(c, req->client, sizeof req->client);
    snprintf(req->method, sizeof req->method, "%s", method);
    const char *corr = header(c, "X-Correlation-Id");
    if (prov_corr_sane(corr)) {
        snprintf(req->corr, sizeof req->corr, "%s", corr);
    } else {
        dpf_uuid(req->corr);
        if (corr != NULL)
            DPF_WARN("ignoring X-Correlation-Id header (want 1-63 of A-Z a-z 0-9 . _ : { } -); "
                     "using %s", req->corr);
    }
    return req;
}

/* The first call: headers only. Returns MHD_YES to go on reading the body;
 * *answered set when a response was queued already. */
static enum MHD_Result on_headers(struct MHD_Connection *c, prov_request *req, int *answered)
{
    char msg[160];
    const char *field = NULL;
    *answered = 0;
    if (read_context(c, req, msg, sizeof msg, &field) != NULL) {
        *answered = 1;
        return reply_now(c, req, 400, field, msg);
    }
    prov_reply refusal = {0}; /* who may call what: before a byte of the body is read */
    if (!prov_auth_request(req, header(c, MHD_HTTP_HEADER_AUTHORIZATION), &refusal)) {
        *answered = 1;
        return send_reply(c, req, &refusal);
    }
    const char *cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl != NULL) {
        char *end = NULL;
        unsigned long long n = strtoull(cl, &end, 10);
        if (end != cl && n > req->server->max_body) {
            snprintf(msg, sizeof msg, "the request body (%llu bytes) is larger than the limit of %zu bytes",
                     n, req->server->max_body);
            *answered = 1;
            return reply_now(c, req, 413, NULL, msg);
        }
    }
    return MHD_YES;
}

static void body_append(prov_request *req, const char *data, size_t size)
{
    size_t max = req->server->max_body;
    if (req->body_too_large)
        return;
    if (req->body_len + size > max) {
        req->body_too_large = 1;
        free(req->body);
        req->body = NULL;
        req->body_len = req->body_cap = 0;
        return;
    }
    if (req->body_len + size + 1 > req->body_cap) {
        size_t cap = req->body_cap ? req->body_cap : 1024;
        while (cap < req->body_len + size + 1)
            cap *= 2;
        if (cap > max + 1)
            cap = max + 1;
        char *nb = realloc(req->body, cap);
        if (nb == NULL) { /* treated like too large: the body is not kept */
            req->body_too_large = 1;
            free(req->body);
            req->body = NULL;
            req->body_len = req->body_cap = 0;
            return;
        }
        req->body = nb;
        req->body_cap = cap;
    }
    memcpy(req->body + req->body_len, data, size);
    req->body_len += size;
    req->body[req->body_len] = '\0';
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    prov_http *http = cls;
    prov_request *req = *con_cls;
    (void)version;
    if (req == NULL) {
        req = request_new(http->server, c, url, method);
        if (req == NULL)
            return MHD_NO;
        *con_cls = req;
        int answered;
        dpf_log_set_corr(req->corr);
        enum MHD_Result r = on_headers(c, req, &answered);
        dpf_log_set_corr(NULL);
        return r;
    }
    if (req->replied) { /* answered early; drop whatever body follows */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        body_append(req, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    dpf_log_set_corr(req->corr);
    enum MHD_Result r;
    if (req->body_too_large) {
        char msg[128];
        snprintf(msg, sizeof msg, "the request body is larger than the limit of %zu bytes",
                 req->server->max_body);
        r = reply_now(c, req, 413, NULL, msg);
    } else {
        prov_reply reply = {0};
        prov_dispatch(req, &reply);
        if (reply.status == 0)
            prov_reply_error(&reply, 500, NULL, "the handler gave no answer");
        r = send_reply(c, req, &reply);
    }
    dpf_log_set_corr(NULL);
    return r;
}

/* dpfleet_http_requests_total and _duration_seconds: labelled with the
 * route's pattern, never the raw path (a DP name in a label would make a
 * series per DP); a path no route matches counts as "unmatched", a method
 * the API does not serve as "other". */
static void count_request(const prov_request *req, double seconds)
{
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"};
    const char *method = "other";
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(req->method, methods[i]) == 0)
            method = methods[i];
    size_t n = 0;
    const prov_route *routes = prov_routes(&n), *route = NULL;
    char p1[PROV_PARAM_MAX + 1], p2[PROV_PARAM_MAX + 1], allow[64];
    const char *pattern = "unmatched";
    if (prov_route_match(routes, n, req->method, req->path, &route, p1, p2, sizeof p1, allow,
                         sizeof allow) == PROV_ROUTE_FOUND)
        pattern = route->pattern;
    char code[8];
    snprintf(code, sizeof code, "%d", req->status);
    dpf_metrics_inc(DPF_M_HTTP_REQUESTS, method, pattern, code);
    dpf_metrics_observe(DPF_M_HTTP_SECONDS, method, pattern, NULL, seconds);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    prov_request *req = *con_cls;
    (void)cls;
    (void)c;
    if (req == NULL)
        return;
    dpf_log_set_corr(req->corr);
    double ms = (double)(dpf_mono_us() - req->start_us) / 1000.0;
    /* paths are user input: cap what goes into the log */
    DPF_INFO("HTTP %s %.200s%s %d %.1f ms corr=%s%s", req->method, req->path,
             strlen(req->path) > 200 ? "..." : "", req->status, ms, req->corr,
             toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection closed early)");
    count_request(req, ms / 1000.0);
    dpf_log_set_corr(NULL);
    free(req->body);
    free(req->path);
    free(req);
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    (void)cls;
    vsnprintf(line, sizeof line, fmt, ap);
    DPF_WARN("libmicrohttpd: %s", line);
}

dpf_status prov_http_start(const prov_server *server, const char *listen, int threads,
                           int conn_timeout_s, const prov_tls *tls, prov_http **out)
{
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    *out = NULL;
    if (dpf_listen_resolve(listen, &ss, &sslen) != DPF_OK) {
        DPF_ERROR("cannot use listen address '%s' (want host:port, e.g. 127.0.0.1:8080)", listen);
        return DPF_ERR_INVALID;
    }
    prov_http *http = calloc(1, sizeof *http);
    if (http == NULL)
        return DPF_ERR_NOMEM;
    http->server = server;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_EPOLL |
                     prov_tls_mhd_flags(tls);
    struct MHD_OptionItem tls_opts[PROV_TLS_MHD_OPTS]; /* certificate and key; none for HTTP */
    prov_tls_mhd_options(tls, tls_opts);
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    uint16_t port = (uint16_t)dpf_sockaddr_port(&ss);
    http->daemon = MHD_start_daemon(
        flags, port, NULL, NULL, on_request, http,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, http, /* first, or MHD logs the rest itself */
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)conn_timeout_s,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, http,
        MHD_OPTION_ARRAY, tls_opts,
        MHD_OPTION_END);
    if (http->daemon == NULL) {
        DPF_ERROR("cannot listen on %s (address in use or not available%s)", listen,
                  tls ? ", or the TLS set-up failed: see the libmicrohttpd line above" : "");
        free(http);
        return DPF_ERR_IO;
    }
    *out = http;
    return DPF_OK;
}

void prov_http_stop(prov_http *http)
{
    if (http == NULL)
        return;
    MHD_stop_daemon(http->daemon);
    free(http);
}

/* The HTTP server: libmicrohttpd with an internal thread pool. Each request
 * is accumulated (body capped at max_body), routed (routes.c) and answered
 * with JSON; one access log line per request. */
#ifndef PROV_HTTP_CONN_H
#define PROV_HTTP_CONN_H

#include <dpf/status.h>
#include "provider.h"
#include "tls.h"

typedef struct prov_http prov_http;

/* listen: "host:port", ":port" or "[v6]:port" (borrowed). server and tls:
 * borrowed, must outlive the returned object; tls NULL serves plain HTTP,
 * otherwise HTTPS only. *out owned by the caller. */
dpf_status prov_http_start(const prov_server *server, const char *listen, int threads,
                           int conn_timeout_s, const prov_tls *tls,
                           prov_http **out) DPF_MUSTCHECK;
/* Stops accepting, waits for running requests, frees. NULL is a no-op. */
void prov_http_stop(prov_http *http);

/* Header values checked before a request is handled; pure, for the tests.
 * 1 if corr is a usable correlation id (1..63 of [A-Za-z0-9._:{}-]). */
int prov_corr_sane(const char *corr);
/* NULL if value is acceptable as a context header, else the reason. */
const char *prov_ctx_header_problem(const char *value);

#endif

/* The trace endpoints (issue 11): one admin action's whole story, and a
 * DP's recent jobs. routes.c maps them; both are readable by every role. */
#ifndef PROV_TRACE_H
#define PROV_TRACE_H

#include "provider.h"

#define PROV_TRACE_LIMIT_DEFAULT 5000  /* timeline entries */
#define PROV_TRACE_LIMIT_MAX 100000
#define PROV_HISTORY_LIMIT_DEFAULT 20  /* jobs */
#define PROV_HISTORY_LIMIT_MAX 500

/* GET /v1/trace/{correlationId}[?limit=N]: 200 {correlationId, user,
 * startedAt, lastAt, entries: [...], truncated, summary: [per DP]}; 400 for
 * a malformed id or limit, 404 when nothing carries the id. */
void prov_handle_trace(prov_request *req, prov_reply *reply);

/* GET /v1/distributionpoints/{serverName}/history[?limit=N]: 200 [{correlationId,
 * job, startedAt, endedAt, outcome, state, step, reason, attempts}] newest
 * first; 400 for a bad server name or limit. */
void prov_handle_dp_history(prov_request *req, prov_reply *reply);

#endif

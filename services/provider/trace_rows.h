/* The rows the outcome rules read (store_trace.h's PROV_OR_* columns),
 * turned into prov_trace_row and grouped per DP, and the JSON of one
 * outcome: shared by GET /v1/trace/{correlationId} and a DP's history. */
#ifndef PROV_TRACE_ROWS_H
#define PROV_TRACE_ROWS_H

#include <stddef.h>
#include <jansson.h>
#include <dpf/db.h>

#include "trace_outcome.h"

#define PROV_TRACE_SERVER_MAX 256

/* Rows of a result, each with the DP it is about (a trace row's server
 * name, a status message's from the NAL path or server in its ISTRs). */
typedef struct prov_trace_rowset {
    prov_trace_row *rows;   /* owned; strings borrowed from the result and istr */
    char (*server)[PROV_TRACE_SERVER_MAX]; /* owned, per row, "" when none */
    size_t *order;          /* owned: row indexes sorted by server, then time */
    json_t **istr;          /* owned, per row (NULL for trace rows) */
    size_t n;
} prov_trace_rowset;

/* The server a text names: the DP of a NAL path anywhere in it
 * (["Display=\\SERVER\"]...), upper-cased, into buf; 0 when none. */
int prov_trace_server_of(const char *text, char *buf, size_t len);

/* Loads r (borrowed; must outlive set) into set. 0 when out of memory
 * (set left empty). Free with prov_trace_rowset_free. */
int prov_trace_rowset_load(const dpf_db_result *r, prov_trace_rowset *set);
void prov_trace_rowset_free(prov_trace_rowset *set);

/* {"serverName", "outcome", "state", "job", "step", "reason", "since",
 * "attempts"}, new reference owned by the caller. */
json_t *prov_trace_outcome_json(const char *server, const prov_trace_outcome *o);

/* [{"job", "outcome", "state", "attempts"}] of the first min(n, max) items
 * (borrowed); new reference owned by the caller. */
json_t *prov_trace_items_json(const prov_trace_item *items, size_t n, size_t max);

#endif

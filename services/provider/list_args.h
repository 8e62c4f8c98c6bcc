/* The query arguments of the paged lists (GET /v1/distributionpoints,
 * GET /v1/packages): page size, where the page starts and the DP filters,
 * checked before any database work. Pure functions over a lookup callback,
 * so the unit tests need no HTTP server. */
#ifndef PROV_LIST_ARGS_H
#define PROV_LIST_ARGS_H

#include <stddef.h>

#define PROV_PAGE_DEFAULT 500
#define PROV_PAGE_MAX 5000

/* Returns the value of query argument name (borrowed), NULL if absent. */
typedef const char *(*prov_arg_fn)(void *ctx, const char *name);

/* Why an argument was refused: the argument's name and a sentence. */
typedef struct prov_arg_error {
    const char *field; /* static */
    char msg[256];
} prov_arg_error;

/* A page of DPs: every filter that is set must hold, rows ordered by server
 * name, the first after `after`. Strings are borrowed from the request. */
typedef struct prov_dp_filter {
    const char *site;  /* site code upper-cased (points into site_buf), NULL = every site */
    char site_buf[4];
    const char *state; /* installState, canonical spelling (static), NULL = any */
    const char *group; /* boundary group name (case-insensitive), NULL = any */
    int maintenance;   /* -1 any, 0 not in maintenance mode, 1 in it */
    const char *after; /* a serverName; NULL = from the first */
    int limit;         /* 1..PROV_PAGE_MAX */
} prov_dp_filter;

/* limit (NULL = PROV_PAGE_DEFAULT) into *limit: 1, or 0 with err set. */
int prov_page_limit_parse(const char *text, int *limit, prov_arg_error *err);

/* Reads limit, after, site, state, boundaryGroup and maintenanceMode.
 * 1 with f filled, or 0 with err naming the argument: limit not 1..5000,
 * after not a server name (FQDN), site not a site code (any letter case), state not one of
 * the install states (any letter case), maintenanceMode not true/false,
 * boundaryGroup empty, too long or with control characters. */
int prov_dp_filter_parse(prov_arg_fn get, void *ctx, prov_dp_filter *f, prov_arg_error *err);

/* The install states a DP can be in, NULL-terminated (for messages). */
extern const char *const PROV_DP_STATES[];

#endif

/* Method + path pattern -> handler matching, independent of HTTP and of the
 * endpoint table (routes.c) so it can be tested alone. A pattern is a path
 * whose segments are literal or "{name}", which matches one non-empty
 * segment and captures it; a pattern has at most two of them
 * ("/v1/packages/{packageId}/distributionpoints/{serverName}"). */
#ifndef PROV_ROUTER_H
#define PROV_ROUTER_H

#include <stddef.h>

typedef struct prov_route {
    const char *method;  /* "GET", "POST", ... */
    const char *pattern; /* "/v1/distributionpoints/{serverName}" */
    void (*handler)(void); /* opaque to the router; the table casts it back */
    unsigned roles;      /* who may call it (opaque to the router; see routes.c) */
} prov_route;

typedef enum prov_route_result {
    PROV_ROUTE_FOUND,      /* *route set, param captured */
    PROV_ROUTE_NOT_FOUND,  /* no pattern matches the path: 404 */
    PROV_ROUTE_BAD_METHOD, /* the path matches, the method does not: 405, allow lists methods */
} prov_route_result;

/* routes: borrowed table of n entries. path: without query string; one
 * trailing '/' is ignored. param and param2 (param_len bytes each) receive
 * the first and second captured segments ("" if the pattern has fewer); a
 * segment longer than that does not match. param2 may be NULL: patterns
 * with two captures then never match. allow (size allow_len) receives
 * "GET, POST" for BAD_METHOD. */
prov_route_result prov_route_match(const prov_route *routes, size_t n, const char *method,
                                   const char *path, const prov_route **route, char *param,
                                   char *param2, size_t param_len, char *allow,
                                   size_t allow_len);

#endif

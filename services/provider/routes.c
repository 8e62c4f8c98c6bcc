/* The provider's one dispatch point and its one table of who may do what:
 * every endpoint is one line in ROUTES (method, path, handler, the roles
 * that may call it; the README's "Who may do what" lists the same) and one
 * handle_*.c file. */
#include <dpf/db.h>
#include <dpf/log.h>

#include "provider.h"
#include "router.h"
#include "token.h"
#include "trace.h"

#define H(f) ((void (*)(void))(f))
/* Full Administrator may do everything; the others what their job needs. */
#define INFRA (PROV_ROLE_FULL | PROV_ROLE_INFRA)
#define APP (PROV_ROLE_FULL | PROV_ROLE_APP)
#define READ PROV_ROLE_ALL
#define FULL PROV_ROLE_FULL

static const prov_route ROUTES[] = {
    {"POST", "/v1/distributionpoints", H(prov_handle_dp_create), INFRA},
    {"GET", "/v1/distributionpoints", H(prov_handle_dp_list), READ},
    {"GET", "/v1/distributionpoints/{serverName}", H(prov_handle_dp_show), READ},
    {"PATCH", "/v1/distributionpoints/{serverName}", H(prov_handle_dp_update), INFRA},
    {"DELETE", "/v1/distributionpoints/{serverName}", H(prov_handle_dp_delete), INFRA},
    {"POST", "/v1/distributionpoints/{serverName}/maintenance", H(prov_handle_dp_maintenance),
     INFRA},
    {"POST", "/v1/distributionpoints/{serverName}/validate", H(prov_handle_dp_validate), INFRA},
    {"GET", "/v1/distributionpoints/{serverName}/history", H(prov_handle_dp_history), READ},
    {"POST", "/v1/SetDPMaintenanceMode", H(prov_handle_set_dp_maint), INFRA},
    {"POST", "/v1/sites/{siteCode}/reset", H(prov_handle_site_reset), INFRA},
    {"GET", "/v1/statmsgs", H(prov_handle_statmsgs), READ},
    {"GET", "/v1/trace/{correlationId}", H(prov_handle_trace), READ},
    {"POST", "/v1/packages", H(prov_handle_pkg_create), APP},
    {"GET", "/v1/packages", H(prov_handle_pkg_list), READ},
    {"GET", "/v1/packages/{packageId}", H(prov_handle_pkg_show), READ},
    {"DELETE", "/v1/packages/{packageId}", H(prov_handle_pkg_delete), APP},
    {"POST", "/v1/packages/{packageId}/update", H(prov_handle_pkg_update), APP},
    {"POST", "/v1/packages/{packageId}/distribute", H(prov_handle_pkg_distribute), APP},
    {"POST", "/v1/packages/{packageId}/redistribute", H(prov_handle_pkg_redistribute), APP},
    {"DELETE", "/v1/packages/{packageId}/distributionpoints/{serverName}",
     H(prov_handle_pkg_remove_dp), APP},
    {"POST", "/v1/boundarygroups", H(prov_handle_bg_create), INFRA},
    {"GET", "/v1/boundarygroups", H(prov_handle_bg_list), READ},
    {"GET", "/v1/boundarygroups/{name}", H(prov_handle_bg_show), READ},
    {"PATCH", "/v1/boundarygroups/{name}", H(prov_handle_bg_update), INFRA},
    {"DELETE", "/v1/boundarygroups/{name}", H(prov_handle_bg_delete), INFRA},
    {"GET", "/v1/contentlocation", H(prov_handle_content_location), READ},
    {"POST", "/v1/tokens", H(prov_handle_token_create), FULL},
    {"GET", "/v1/tokens", H(prov_handle_token_list), FULL},
    {"DELETE", "/v1/tokens/{id}", H(prov_handle_token_revoke), FULL},
    {"GET", "/healthz", H(prov_handle_healthz), PROV_PUBLIC},
    {"GET", "/readyz", H(prov_handle_readyz), PROV_PUBLIC},
};
#define NROUTES (sizeof ROUTES / sizeof ROUTES[0])

const prov_route *prov_routes(size_t *n)
{
    *n = NROUTES;
    return ROUTES;
}

int prov_route_roles(const char *method, const char *path, unsigned *roles)
{
    const prov_route *route = NULL;
    char p1[PROV_PARAM_MAX + 1], p2[PROV_PARAM_MAX + 1], allow[64];
    *roles = 0;
    if (prov_route_match(ROUTES, NROUTES, method, path, &route, p1, p2, sizeof p1, allow,
                         sizeof allow) != PROV_ROUTE_FOUND)
        return 0;
    *roles = route->roles;
    return 1;
}

void prov_dispatch(prov_request *req, prov_reply *reply)
{
    const prov_route *route = NULL;
    switch (prov_route_match(ROUTES, NROUTES, req->method, req->path, &route, req->param,
                             req->param2, sizeof req->param, reply->allow, sizeof reply->allow)) {
    case PROV_ROUTE_FOUND:
        ((prov_handler)route->handler)(req, reply);
        return;
    case PROV_ROUTE_BAD_METHOD:
        prov_reply_error(reply, 405, NULL, "method %s is not allowed here; use %s", req->method,
                         reply->allow);
        return;
    case PROV_ROUTE_NOT_FOUND:
        break;
    }
    prov_reply_error(reply, 404, NULL, "no such endpoint: %.200s", req->path);
}

struct dpf_db *prov_request_db(prov_request *req, prov_reply *reply)
{
    dpf_db *db = NULL;
    dpf_status st = prov_dbpool_acquire(req->server->pool, PROV_DB_WAIT_MS, &db);
    if (st == DPF_OK)
        return db;
    DPF_ERROR("no database connection for %s %.200s: %s", req->method, req->path,
              dpf_status_text(st));
    prov_reply_error(reply, 503, NULL, "the database is not available (%s); try again later",
                     dpf_status_text(st));
    return NULL;
}

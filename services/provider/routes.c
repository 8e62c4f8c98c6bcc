/* The provider's one dispatch point: every endpoint is one line in ROUTES and
 * one handle_*.c file. */
#include <dpf/db.h>
#include <dpf/log.h>

#include "provider.h"
#include "router.h"

static const prov_route ROUTES[] = {
    {"POST", "/v1/distributionpoints", (void (*)(void))prov_handle_dp_create},
    {"GET", "/v1/distributionpoints", (void (*)(void))prov_handle_dp_list},
    {"GET", "/v1/distributionpoints/{serverName}", (void (*)(void))prov_handle_dp_show},
    {"PATCH", "/v1/distributionpoints/{serverName}", (void (*)(void))prov_handle_dp_update},
    {"DELETE", "/v1/distributionpoints/{serverName}", (void (*)(void))prov_handle_dp_delete},
    {"POST", "/v1/distributionpoints/{serverName}/maintenance",
     (void (*)(void))prov_handle_dp_maintenance},
    {"POST", "/v1/distributionpoints/{serverName}/validate", (void (*)(void))prov_handle_dp_validate},
    {"POST", "/v1/SetDPMaintenanceMode", (void (*)(void))prov_handle_set_dp_maint},
    {"POST", "/v1/sites/{siteCode}/reset", (void (*)(void))prov_handle_site_reset},
    {"GET", "/v1/statmsgs", (void (*)(void))prov_handle_statmsgs},
    {"POST", "/v1/packages", (void (*)(void))prov_handle_pkg_create},
    {"GET", "/v1/packages", (void (*)(void))prov_handle_pkg_list},
    {"GET", "/v1/packages/{packageId}", (void (*)(void))prov_handle_pkg_show},
    {"DELETE", "/v1/packages/{packageId}", (void (*)(void))prov_handle_pkg_delete},
    {"POST", "/v1/packages/{packageId}/update", (void (*)(void))prov_handle_pkg_update},
    {"POST", "/v1/packages/{packageId}/distribute", (void (*)(void))prov_handle_pkg_distribute},
    {"POST", "/v1/packages/{packageId}/redistribute",
     (void (*)(void))prov_handle_pkg_redistribute},
    {"DELETE", "/v1/packages/{packageId}/distributionpoints/{serverName}",
     (void (*)(void))prov_handle_pkg_remove_dp},
    {"POST", "/v1/boundarygroups", (void (*)(void))prov_handle_bg_create},
    {"GET", "/v1/boundarygroups", (void (*)(void))prov_handle_bg_list},
    {"GET", "/v1/boundarygroups/{name}", (void (*)(void))prov_handle_bg_show},
    {"PATCH", "/v1/boundarygroups/{name}", (void (*)(void))prov_handle_bg_update},
    {"DELETE", "/v1/boundarygroups/{name}", (void (*)(void))prov_handle_bg_delete},
    {"GET", "/v1/contentlocation", (void (*)(void))prov_handle_content_location},
    {"GET", "/healthz", (void (*)(void))prov_handle_healthz},
};

void prov_dispatch(prov_request *req, prov_reply *reply)
{
    const prov_route *route = NULL;
    switch (prov_route_match(ROUTES, sizeof ROUTES / sizeof ROUTES[0], req->method, req->path,
                             &route, req->param, req->param2, sizeof req->param, reply->allow,
                             sizeof reply->allow)) {
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

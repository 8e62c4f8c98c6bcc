/* dpctl package distribute ID [--dp SERVER]... [--group NAME]...: sends the
 * package to the DPs named and to every DP of the boundary groups named
 * (and to DPs that join those groups later). */
#include <stdio.h>

#include "cmd_package.h"
#include "cmd_trace.h"

static void print(const dpctl_resp *r)
{
    dpctl_pkg_print_targets(r, "Distributing");
    dpctl_print_follow(r->corr);
}

int dpctl_cmd_package_distribute(dpctl_ctx *ctx, int argc, char **argv)
{
    json_t *body = json_object();
    const char *id = NULL;
    char path[300];
    int rc = DPCTL_USAGE;
    if (dpctl_pkg_targets(argc, argv, "package distribute", 1, 0, body, &id) &&
        dpctl_pkg_path(id, "/distribute", path, sizeof path))
        rc = dpctl_call(ctx, "POST", path, body, JSON_OBJECT, print);
    json_decref(body);
    return rc;
}

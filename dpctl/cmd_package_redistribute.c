/* dpctl package redistribute ID --dp SERVER...: sends the package again to
 * DPs that hold it (after a failure, or to repair one). */
#include <stdio.h>

#include "cmd_package.h"

static void print(const dpctl_resp *r)
{
    dpctl_pkg_print_targets(r, "Redistributing");
}

int dpctl_cmd_package_redistribute(dpctl_ctx *ctx, int argc, char **argv)
{
    json_t *body = json_object();
    const char *id = NULL;
    char path[300];
    int rc = DPCTL_USAGE;
    if (dpctl_pkg_targets(argc, argv, "package redistribute", 0, 1, body, &id) &&
        dpctl_pkg_path(id, "/redistribute", path, sizeof path))
        rc = dpctl_call(ctx, "POST", path, body, JSON_OBJECT, print);
    json_decref(body);
    return rc;
}

/* dpctl package delete ID: the package's content leaves every DP, then the
 * package goes. */
#include <stdio.h>

#include "cmd_package.h"

static void print(const dpctl_resp *r)
{
    printf("%s: being deleted; its content leaves %lld distribution point(s) first.\n"
           "  correlation id: %s\n",
           json_string_value(json_object_get(r->json, "packageId")),
           (long long)json_integer_value(json_object_get(r->json, "distributionPoints")), r->corr);
}

int dpctl_cmd_package_delete(dpctl_ctx *ctx, int argc, char **argv)
{
    char path[300];
    if (!dpctl_one_arg(argc, argv, "package delete", "package id") ||
        !dpctl_pkg_path(argv[1], "", path, sizeof path))
        return DPCTL_USAGE;
    return dpctl_call(ctx, "DELETE", path, NULL, JSON_OBJECT, print);
}

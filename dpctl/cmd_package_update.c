/* dpctl package update ID: the package's source directory is read again
 * into a new version, which distmgr then sends to every DP holding it. */
#include <stdio.h>

#include "cmd_package.h"

static void print(const dpctl_resp *r)
{
    printf("%s: version %lld is being processed from the source directory.\n"
           "  correlation id: %s\n",
           json_string_value(json_object_get(r->json, "packageId")),
           (long long)json_integer_value(json_object_get(r->json, "version")), r->corr);
}

int dpctl_cmd_package_update(dpctl_ctx *ctx, int argc, char **argv)
{
    char path[300];
    if (!dpctl_one_arg(argc, argv, "package update", "package id") ||
        !dpctl_pkg_path(argv[1], "/update", path, sizeof path))
        return DPCTL_USAGE;
    return dpctl_call(ctx, "POST", path, NULL, JSON_OBJECT, print);
}

/* dpctl dp remove SERVER: DELETE the DP role; hman and distmgr then
 * uninstall it from its host (watch for 2390/2391). */
#include <stdio.h>

#include "cmd_trace.h"
#include "dpctl.h"

static void print(const dpctl_resp *r)
{
    printf("Removed the distribution point role of %s; the host is uninstalled next.\n"
           "  correlation id: %s\n",
           json_string_value(json_object_get(r->json, "serverName")), r->corr);
    dpctl_print_follow(r->corr);
}

int dpctl_cmd_dp_remove(dpctl_ctx *ctx, int argc, char **argv)
{
    char path[900];
    if (!dpctl_one_arg(argc, argv, "dp remove", "SERVER") ||
        !dpctl_dp_path(argv[1], path, sizeof path))
        return DPCTL_USAGE;
    return dpctl_call(ctx, "DELETE", path, NULL, -1, print);
}

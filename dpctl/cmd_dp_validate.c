/* dpctl dp validate SERVER: content validation now (POST .../validate);
 * follow it with the correlation id (2380, then 2384 or 2383 per package). */
#include <stdio.h>
#include <string.h>

#include "dpctl.h"

static void print(const dpctl_resp *r)
{
    printf("Content validation of %s requested; watch for 2380, 2384 and 2383.\n"
           "  correlation id: %s\n",
           json_string_value(json_object_get(r->json, "serverName")), r->corr);
}

int dpctl_cmd_dp_validate(dpctl_ctx *ctx, int argc, char **argv)
{
    char path[960];
    if (!dpctl_one_arg(argc, argv, "dp validate", "SERVER") ||
        !dpctl_dp_path(argv[1], path, sizeof path - 16))
        return DPCTL_USAGE;
    strcat(path, "/validate");
    return dpctl_call(ctx, "POST", path, NULL, JSON_OBJECT, print);
}

/* dpctl boundarygroup delete NAME: DELETE /v1/boundarygroups/{name}. The
 * API refuses while DPs are members (naming them) and for the site default
 * group; the groups that lose it as a neighbor are listed. */
#include <stdio.h>

#include "cmd_bg.h"

static void print(const dpctl_resp *r)
{
    printf("Deleted boundary group %s.\n", json_string_value(json_object_get(r->json, "name")));
    json_t *n = json_object_get(r->json, "removedAsNeighborOf");
    for (size_t i = 0; i < json_array_size(n); i++)
        printf("  no longer a neighbor of %s\n", json_string_value(json_array_get(n, i)));
    printf("  correlation id: %s\n", r->corr);
}

int dpctl_cmd_bg_delete(dpctl_ctx *ctx, int argc, char **argv)
{
    char path[900];
    if (!dpctl_one_arg(argc, argv, "boundarygroup delete", "boundary group NAME") ||
        !dpctl_bg_path(argv[1], path, sizeof path))
        return DPCTL_USAGE;
    return dpctl_call(ctx, "DELETE", path, NULL, JSON_OBJECT, print);
}

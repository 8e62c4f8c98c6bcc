/* dpctl boundarygroup show NAME: the group's fields, boundaries and
 * neighbors, then one line per member DP with its maintenance mode. */
#include "cmd_bg.h"

int dpctl_cmd_bg_show(dpctl_ctx *ctx, int argc, char **argv)
{
    char path[900];
    if (!dpctl_one_arg(argc, argv, "boundarygroup show", "boundary group NAME") ||
        !dpctl_bg_path(argv[1], path, sizeof path))
        return DPCTL_USAGE;
    return dpctl_call(ctx, "GET", path, NULL, JSON_OBJECT, dpctl_bg_print);
}

/* dpctl boundarygroup set NAME [--description TEXT] [--boundary X]...
 * [--no-boundaries] [--neighbor NAME[:MINUTES]]... [--no-neighbors]
 * [--site-default] [--default-fallback-minutes N]: PATCH
 * /v1/boundarygroups/{name}. --boundary and --neighbor replace the whole
 * set; --no-boundaries / --no-neighbors empty it. */
#include <stdio.h>

#include "cmd_bg.h"

int dpctl_cmd_bg_set(dpctl_ctx *ctx, int argc, char **argv)
{
    json_t *body = json_object();
    const char *name = NULL;
    char path[900];
    int rc = DPCTL_USAGE;
    if (dpctl_bg_options(argc, argv, "boundarygroup set", 1, body, &name) &&
        dpctl_bg_path(name, path, sizeof path)) {
        if (json_object_size(body) == 0)
            fprintf(stderr, "dpctl: boundarygroup set needs at least one change\n");
        else
            rc = dpctl_call(ctx, "PATCH", path, body, JSON_OBJECT, dpctl_bg_print);
    }
    json_decref(body);
    return rc;
}

/* dpctl boundarygroup create NAME [--description TEXT] [--site SITE]
 * [--boundary SUBNET|RANGE]... [--neighbor NAME[:MINUTES]]... [--site-default]
 * [--default-fallback-minutes N]: POST /v1/boundarygroups. Boundaries and
 * neighbors are sent as given and checked by the API. */
#include <stdio.h>

#include "cmd_bg.h"

int dpctl_cmd_bg_create(dpctl_ctx *ctx, int argc, char **argv)
{
    json_t *body = json_object();
    const char *name = NULL;
    int rc = DPCTL_USAGE;
    if (dpctl_bg_options(argc, argv, "boundarygroup create", 0, body, &name)) {
        json_object_set_new(body, "name", json_string(name));
        rc = dpctl_call(ctx, "POST", "/v1/boundarygroups", body, JSON_OBJECT, dpctl_bg_print);
    }
    json_decref(body);
    return rc;
}

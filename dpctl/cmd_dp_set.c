/* dpctl dp set SERVER [options]: PATCH the DP's properties; only the
 * options given change. */
#include <stdio.h>
#include <string.h>

#include "dp_opts.h"
#include "cmd_trace.h"
#include "dpctl.h"

static void print(const dpctl_resp *r)
{
    printf("Changed distribution point %s.\n  correlation id: %s\n",
           json_string_value(json_object_get(r->json, "serverName")), r->corr);
    dpctl_print_follow(r->corr);
}

int dpctl_cmd_dp_set(dpctl_ctx *ctx, int argc, char **argv)
{
    json_t *body = json_object();
    if (!dpctl_dp_opts_parse(argc, argv, 0, body)) {
        json_decref(body);
        return DPCTL_USAGE;
    }
    char path[900];
    if (!dpctl_dp_path(json_string_value(json_object_get(body, "serverName")), path,
                       sizeof path)) {
        json_decref(body);
        return DPCTL_USAGE;
    }
    json_object_del(body, "serverName"); /* it is in the path and cannot change */
    if (json_object_size(body) == 0) {
        json_decref(body);
        fprintf(stderr, "dpctl: dp set needs at least one property option\n");
        return DPCTL_USAGE;
    }
    int rc = dpctl_call(ctx, "PATCH", path, body, -1, print);
    json_decref(body);
    return rc;
}

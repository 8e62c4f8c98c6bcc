/* dpctl dp set SERVER [options]: PATCH the DP's properties; only the
 * options given change. */
#include <stdio.h>
#include <string.h>

#include "dp_opts.h"
#include "dpctl.h"

int dpctl_cmd_dp_set(dpctl_ctx *ctx, int argc, char **argv)
{
    json_t *body = json_object();
    if (!dpctl_dp_opts_parse(argc, argv, 0, body)) {
        json_decref(body);
        return DPCTL_USAGE;
    }
    char esc[800], path[900];
    const char *server = json_string_value(json_object_get(body, "serverName"));
    if (!dpctl_escape(server, esc, sizeof esc)) {
        json_decref(body);
        fprintf(stderr, "dpctl: the server name is too long\n");
        return DPCTL_USAGE;
    }
    snprintf(path, sizeof path, "/v1/distributionpoints/%s", esc);
    json_object_del(body, "serverName"); /* it is in the path and cannot change */
    if (json_object_size(body) == 0) {
        json_decref(body);
        fprintf(stderr, "dpctl: dp set needs at least one property option\n");
        return DPCTL_USAGE;
    }
    dpctl_resp r;
    int rc = dpctl_http(ctx, "PATCH", path, body, &r);
    json_decref(body);
    if (rc != DPCTL_OK)
        return rc;
    if (r.status >= 400)
        rc = dpctl_refused(&r);
    else if (ctx->json)
        dpctl_print_raw(&r);
    else
        printf("Changed distribution point %s.\n  correlation id: %s\n",
               json_string_value(json_object_get(r.json, "serverName")), r.corr);
    dpctl_resp_free(&r);
    return rc;
}

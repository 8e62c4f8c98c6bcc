/* dpctl dp remove SERVER: DELETE the DP role; hman and distmgr then
 * uninstall it from its host (watch for 2390/2391). */
#include <stdio.h>

#include "dpctl.h"

int dpctl_cmd_dp_remove(dpctl_ctx *ctx, int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "dpctl: dp remove takes exactly one SERVER\n");
        return DPCTL_USAGE;
    }
    char esc[800], path[900];
    if (!dpctl_escape(argv[1], esc, sizeof esc)) {
        fprintf(stderr, "dpctl: the server name is too long\n");
        return DPCTL_USAGE;
    }
    snprintf(path, sizeof path, "/v1/distributionpoints/%s", esc);
    dpctl_resp r;
    int rc = dpctl_http(ctx, "DELETE", path, NULL, &r);
    if (rc != DPCTL_OK)
        return rc;
    if (r.status >= 400)
        rc = dpctl_refused(&r);
    else if (ctx->json)
        dpctl_print_raw(&r);
    else
        printf("Removed the distribution point role of %s; the host is uninstalled next.\n"
               "  correlation id: %s\n",
               json_string_value(json_object_get(r.json, "serverName")), r.corr);
    dpctl_resp_free(&r);
    return rc;
}

/* dpctl site reset SITE: every DP of the site is upgraded again. */
#include <stdio.h>

#include "dpctl.h"

int dpctl_cmd_site_reset(dpctl_ctx *ctx, int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "dpctl: site reset takes exactly one SITE code\n");
        return DPCTL_USAGE;
    }
    char esc[64], path[128];
    if (!dpctl_escape(argv[1], esc, sizeof esc)) {
        fprintf(stderr, "dpctl: the site code is too long\n");
        return DPCTL_USAGE;
    }
    snprintf(path, sizeof path, "/v1/sites/%s/reset", esc);
    dpctl_resp r;
    int rc = dpctl_http(ctx, "POST", path, NULL, &r);
    if (rc != DPCTL_OK)
        return rc;
    if (r.status >= 400)
        rc = dpctl_refused(&r);
    else if (ctx->json)
        dpctl_print_raw(&r);
    else
        printf("Site %s reset: %lld distribution points will be upgraded.\n  correlation id: %s\n",
               json_string_value(json_object_get(r.json, "siteCode")),
               (long long)json_integer_value(json_object_get(r.json, "distributionPoints")), r.corr);
    dpctl_resp_free(&r);
    return rc;
}

/* dpctl site reset SITE: every DP of the site is upgraded again. */
#include <stdio.h>

#include "cmd_trace.h"
#include "dpctl.h"

static void print(const dpctl_resp *r)
{
    printf("Site %s reset: %lld distribution points will be upgraded.\n  correlation id: %s\n",
           json_string_value(json_object_get(r->json, "siteCode")),
           (long long)json_integer_value(json_object_get(r->json, "distributionPoints")), r->corr);
    dpctl_print_follow(r->corr);
}

int dpctl_cmd_site_reset(dpctl_ctx *ctx, int argc, char **argv)
{
    if (!dpctl_one_arg(argc, argv, "site reset", "SITE code"))
        return DPCTL_USAGE;
    char esc[64], path[128];
    if (!dpctl_escape(argv[1], esc, sizeof esc)) {
        fprintf(stderr, "dpctl: the site code is too long\n");
        return DPCTL_USAGE;
    }
    snprintf(path, sizeof path, "/v1/sites/%s/reset", esc);
    return dpctl_call(ctx, "POST", path, NULL, -1, print);
}

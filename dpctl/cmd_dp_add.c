/* dpctl dp add: POST /v1/distributionpoints with the options given. Only
 * what was given is sent, so the API's defaults and validation stay the one
 * source of truth. */
#include <stdio.h>

#include "dp_opts.h"
#include "cmd_trace.h"
#include "dpctl.h"

static void print(const dpctl_resp *r)
{
    const char *server = json_string_value(json_object_get(r->json, "serverName"));
    const char *site = json_string_value(json_object_get(r->json, "siteCode"));
    const char *nal = json_string_value(json_object_get(r->json, "nalPath"));
    printf("Added distribution point %s to site %s.\n", server ? server : "?", site ? site : "?");
    printf("  NAL path:       %s\n", nal ? nal : "?");
    printf("  correlation id: %s\n", r->corr);
    dpctl_print_follow(r->corr);
    printf("Follow the install with: dpctl statmsg watch --site %s\n", site ? site : "PS1");
}

int dpctl_cmd_dp_add(dpctl_ctx *ctx, int argc, char **argv)
{
    json_t *body = json_object();
    if (!dpctl_dp_opts_parse(argc, argv, 1, body)) {
        json_decref(body);
        return DPCTL_USAGE;
    }
    int rc = dpctl_call(ctx, "POST", "/v1/distributionpoints", body, -1, print);
    json_decref(body);
    return rc;
}

/* What the commands share: the single operand some take, the API path of
 * one DP, and what is done with the API's answer (a refusal reported,
 * --json printed as sent, otherwise the command's own printing). */
#include <stdio.h>

#include "dpctl.h"

int dpctl_one_arg(int argc, char **argv, const char *cmd, const char *what)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "dpctl: %s takes exactly one %s\n", cmd, what);
        return 0;
    }
    return 1;
}

int dpctl_dp_path(const char *server, char *path, size_t len)
{
    char esc[800];
    if (!dpctl_escape(server, esc, sizeof esc) ||
        snprintf(path, len, "/v1/distributionpoints/%s", esc) >= (int)len) {
        fprintf(stderr, "dpctl: the server name is too long\n");
        return 0;
    }
    return 1;
}

int dpctl_call(const dpctl_ctx *ctx, const char *method, const char *path, json_t *body,
               int expect, dpctl_print_fn print)
{
    dpctl_resp r;
    int rc = dpctl_http(ctx, method, path, body, &r);
    if (rc != DPCTL_OK)
        return rc;
    if (r.status >= 400 || (expect >= 0 && (r.json == NULL || (int)json_typeof(r.json) != expect)))
        rc = dpctl_refused(&r);
    else if (ctx->json)
        dpctl_print_raw(&r);
    else
        print(&r);
    dpctl_resp_free(&r);
    return rc;
}
